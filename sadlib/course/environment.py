"""Environment check for notebook 00: platform, package versions, GPUs and fast mode.

The late, quiet TensorFlow and Keras imports themselves are in :mod:`sadlib.environment`, which the
science uses; this report is the course's.
"""

from __future__ import annotations

import importlib
import os
import platform

from ..environment import import_tensorflow, silenced_stderr
from . import modes

__all__ = ["versions", "report", "PACKAGES"]

PACKAGES = ("numpy", "pandas", "scipy", "sklearn", "matplotlib", "pooch", "sadlib")


def versions(deep: bool = True) -> dict[str, str]:
    """Installed versions of the course's main packages (``"missing"`` if not installed)."""
    out = {"python": platform.python_version()}
    names = PACKAGES + (("tensorflow", "keras") if deep else ())
    for name in names:
        try:
            module = import_tensorflow() if name == "tensorflow" else importlib.import_module(name)
            out[name] = getattr(module, "__version__", "unknown")
        except ImportError:
            out[name] = "missing"
    return out


def report(deep: bool = True) -> str:
    """A short multi-line report: platform, versions, GPUs and fast mode."""
    lines = [f"platform     {platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"]
    lines += [f"{name:<12} {version}" for name, version in versions(deep).items()]
    if deep:
        try:
            import keras

            tf = import_tensorflow()
            with silenced_stderr():  # probing for CUDA logs errors on machines without a GPU
                gpus = tf.config.list_physical_devices("GPU")
            lines.append(f"keras backend {keras.backend.backend()}")
            names = ", ".join(g.name for g in gpus) if gpus else "none (the course runs on the CPU)"
            lines.append(f"GPUs         {names}")
        except ImportError:
            lines.append("GPUs         unknown: TensorFlow is not installed (pip install 'sadlib[deep]')")
    lines.append(f"mode         {modes.describe()}")
    return "\n".join(lines)
