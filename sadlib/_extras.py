"""Optional extras: the command that installs one, and the packages a platform cannot have.

The science raises an ImportError that names the fix when an optional package is missing
(``sadlib.edge``, ``sadlib.tracking``, ``sadlib.federated``, ``model_selection.tune``); the course's
lock tooling (:mod:`sadlib.course.locks`) uses :data:`MISSING` to check each platform's lock.
"""

from __future__ import annotations

__all__ = ["MISSING", "install_hint"]

#: (platform, Python) -> {package: why it is missing there and what to do}
MISSING = {
    ("windows", "3.13"): {
        "ray": "Ray (Flower's simulation engine, notebook 11) has no wheel for Windows with Python 3.13: "
               "use Python 3.12 (py -3.12 -m venv .venv), or run notebook 11's in-process path "
               "(run_federated(..., backend=\"inprocess\"), the same apps without Ray).",
    },
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra`` into a course checkout's environment, for ImportError messages."""
    return f'pip install -c requirements/lab.lock.txt -e ".[{extra}]" (in the course folder; make lab installs it)'
