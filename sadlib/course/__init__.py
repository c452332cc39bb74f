"""The course's machinery, apart from the science: ``sadlib.course`` and its modules.

Nothing in the rest of :mod:`sadlib` imports this package (``tests/test_layout.py`` checks it):
a practitioner who uses the detectors, metrics and alarms on their own sensors never loads it.
The notebooks, the exercise notebooks, the benchmarks and the Makefile do.

* :mod:`.claims`: :func:`claim`, a sentence of a notebook's text checked against its output
  (:class:`ClaimError` when they disagree);
* :mod:`.runner`: ``python -m sadlib.course``, runs the notebooks headless, times them and counts
  their claims (``make course``);
* :mod:`.modes`: the fast-mode switch, ``SADLIB_FAST=1`` and ``choose(full=..., fast=...)``;
* :mod:`.environment`: notebook 00's report of the platform, package versions, GPUs and mode;
* :mod:`.doctor`: ``python -m sadlib.course.doctor``, is this machine ready for the course;
* :mod:`.publishing`: ``python -m sadlib.course.publishing``, the repository address in every badge;
* :mod:`.exercises`: the exercise checkers (``from sadlib.course.exercises.nb02 import q1``).

See CONTRIBUTING.md for the layout of the repository and how claims work.
"""

from __future__ import annotations

import importlib

__all__ = ["claim", "ClaimError", "count_claims"]


def __getattr__(name: str):
    # Loaded on first use (``from sadlib.course import claim`` works as usual): ``python -m
    # sadlib.course.doctor`` imports this package first, and the doctor must run, and blame the right
    # package, on a machine where NumPy (which the claims use) is broken.
    if name in __all__:
        return getattr(importlib.import_module(".claims", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
