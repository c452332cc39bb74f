"""Importing TensorFlow and Keras late and quietly, for the detectors that build Keras models.

The detectors call :func:`import_keras` when they build a model, so ``import sadlib.detectors``
stays fast and never loads TensorFlow. (Notebook 00's report of versions, GPUs and the fast mode
is course machinery: :mod:`sadlib.course.environment`.)

TensorFlow prints start-up messages from C++ straight to the process's stderr
(CUDA probing on machines without a GPU, for example). :func:`import_tensorflow`
imports it with that stream silenced, so notebooks stay readable; Python
warnings and errors are not affected.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Iterator

__all__ = ["silenced_stderr", "import_tensorflow", "import_keras"]


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Send the process's file descriptor 2 to /dev/null for the duration of the block."""
    try:
        fd = sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (some embedded interpreters)
        yield
        return
    saved = os.dup(fd)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def import_tensorflow():
    """Import and return ``tensorflow`` without its C++ start-up chatter on stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with silenced_stderr():
        tf = importlib.import_module("tensorflow")
        tf.config.list_physical_devices("GPU")  # CUDA probing logs errors on machines without a GPU
    return tf


def import_keras():
    """Import and return ``keras``; with the TensorFlow backend, TensorFlow first and quietly.

    The detectors call this when they build a model, so ``import sadlib.detectors``
    stays fast. The backend is Keras's (``KERAS_BACKEND``, TensorFlow by default).
    """
    if "keras" not in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        tf = import_tensorflow()
        with silenced_stderr():  # the first device query logs a CUDA error on CPU-only machines
            tf.config.list_physical_devices()
    return importlib.import_module("keras")
