"""Environment check for notebook 00: versions, CPU/GPU and fast mode.

TensorFlow prints start-up messages from C++ straight to the process's stderr
(CUDA probing on machines without a GPU, for example). :func:`import_tensorflow`
imports it with that stream silenced, so notebooks stay readable; Python
warnings and errors are not affected.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sys
from typing import Iterator

__all__ = ["silenced_stderr", "import_tensorflow", "import_keras", "versions", "report"]

PACKAGES = ("numpy", "pandas", "scipy", "sklearn", "matplotlib", "pooch", "sadlib")


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
    from . import modes

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
