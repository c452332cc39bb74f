"""Whether Flower's simulation engine can start here: it runs the clients as Ray actors.

Ray has no wheel for every platform (none for Windows with Python 3.13, the marker in ``flwr[simulation]``),
so pip installs the ``federated`` extra without it there; :func:`require_ray` says so and what to do before
Flower fails deep inside its start-up.
"""

from __future__ import annotations

import importlib.util
import platform
import sys

from .._extras import MISSING, install_hint

__all__ = ["ray_missing_message", "require_ray"]


def ray_missing_message() -> str:
    """The sentence a learner sees when Ray is missing: why, and the two ways on."""
    here = ("windows" if sys.platform == "win32" else sys.platform, f"{sys.version_info[0]}.{sys.version_info[1]}")
    why = MISSING.get(here, {}).get("ray")
    if why:
        return f"Ray is not installed. {why}"
    return (f"Ray (Flower's simulation engine) is not installed on this {platform.system()} with Python "
            f"{here[1]}: {install_hint('federated')}, or run the same apps without Ray with "
            f"run_federated(..., backend=\"inprocess\").")


def require_ray() -> None:
    """Raise an ImportError naming the fix when Ray, which ``backend="simulation"`` needs, is not installed."""
    if importlib.util.find_spec("ray") is None:
        raise ImportError(ray_missing_message())
