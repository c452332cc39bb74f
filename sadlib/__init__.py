"""sadlib: the library of the sensor anomaly detection course.

Small modules, one concern each (import what you need)::

    from sadlib import signals, datasets, windows, detectors, thresholds, metrics, plots

Nothing heavy is imported here, so ``import sadlib`` is instant and does not load TensorFlow.

The course's own machinery (notebook claims and their runner, the fast-mode switch, the exercise
checkers, the doctor) lives in :mod:`sadlib.course`, which the modules above never import.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sadlib")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
