"""Save a fitted detector to a folder and load it back: ``det.save(path)``, :func:`load`.

The folder holds

* ``manifest.json``: what the folder is (``"format": "sadlib-detector"``, its version),
  the detector's class and registered short name, its parameters (as text, for a reader),
  ``threshold_``, the feature names, the versions of sadlib, Python, NumPy, scikit-learn,
  Keras and TensorFlow that wrote it, and the SHA-256 of every other file;
* ``model_<n>.keras``: every Keras model the detector holds (``model_``, or those of the
  members of an ensemble), written by ``model.save`` as Keras 3 archives (config + weights,
  no pickle). The custom layers are registered for serialisation
  (:mod:`sadlib.detectors.layers`), so ``keras.saving.load_model`` rebuilds them with
  ``safe_mode`` on;
* ``state.pkl``: the rest of the fitted detector (parameters, scaler, threshold, NumPy
  arrays, fitted scikit-learn estimators), pickled with every Keras model replaced by a
  reference to its ``.keras`` file. scikit-learn documents pickle (or joblib) as the way to
  persist its estimators; it warns (``InconsistentVersionWarning``) when a file comes from
  another scikit-learn version, and the version that wrote it is in the manifest.

Versions. A folder written by another sadlib version is refused, and the error names both
versions: the pickled state holds sadlib's own classes, whose fitted attributes may differ
between versions, and a detector that loads but scores differently is worse than an error.
``load(path, allow_other_version=True)`` loads it anyway (then check its scores on data
whose scores you know).

Trust. Like any pickle, ``state.pkl`` can run code when loaded: load only folders you or
your team wrote. The SHA-256 sums detect a damaged or partly copied folder, not tampering.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import platform
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]

FORMAT = "sadlib-detector"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.pkl"


def _sadlib_version() -> str:
    from .. import __version__

    return __version__


def _versions() -> dict[str, str | None]:
    import sklearn

    def module_version(name: str) -> str | None:
        module = sys.modules.get(name)
        return getattr(module, "__version__", None) if module is not None else None

    return {"sadlib": _sadlib_version(), "python": platform.python_version(), "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "keras": module_version("keras"),
            "tensorflow": module_version("tensorflow")}


def sha256(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_keras(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.split(".")[0] in ("keras", "tf_keras", "tensorflow")


def _is_keras_model(obj: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


class _Pickler(pickle.Pickler):
    """Pickles a detector with each Keras model written as a ``.keras`` archive beside it."""

    def __init__(self, file, folder: Path):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder = folder
        self.models: dict[int, str] = {}

    def persistent_id(self, obj: Any):
        if _is_keras_model(obj):
            name = self.models.get(id(obj))
            if name is None:
                name = f"model_{len(self.models)}.keras"
                obj.save(self.folder / name)
                self.models[id(obj)] = name
            return ("keras", name)
        if _is_keras(obj) and not isinstance(obj, type):
            raise TypeError(
                f"the detector holds a Keras object that is not a model ({type(obj).__module__}."
                f"{type(obj).__qualname__}); save writes Keras models as .keras archives and pickles no other "
                f"Keras object. Keep only models in fitted attributes."
            )
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, folder: Path):
        super().__init__(file)
        self.folder = folder
        self.loaded: dict[str, Any] = {}

    def persistent_load(self, pid):
        kind, name = pid
        if kind != "keras":
            raise pickle.UnpicklingError(f"unknown reference {pid!r} in {self.folder / STATE}")
        if name not in self.loaded:
            from ..environment import import_keras

            keras = import_keras()
            from . import layers  # noqa: F401 - registers the course's custom layers with Keras

            with warnings.catch_warnings():
                # An archive whose optimizer was never built (a model saved before any training step) has no
                # optimizer variables, so Keras skips them; scoring does not use them and a refit builds a fresh
                # model and optimizer anyway.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                self.loaded[name] = keras.saving.load_model(self.folder / name, safe_mode=True)
        return self.loaded[name]


def _short_name(detector) -> str | None:
    from . import REGISTRY

    return next((name for name, factory in REGISTRY.items() if factory is type(detector)), None)


def _check_folder(path: Any) -> Path:
    from ..validation import InvalidParameterError

    if not isinstance(path, (str, Path)):
        raise InvalidParameterError(f"path must be a folder path (str or pathlib.Path); got {type(path).__name__}.")
    return Path(path)


def save(detector, path: Any) -> Path:
    """Write the fitted ``detector`` to the folder ``path`` (created; files of an earlier save are replaced).

    Returns the folder. See the module docstring for what it holds. Load with :func:`load`.
    """
    from ..validation import InvalidParameterError

    detector._check_fitted()
    folder = _check_folder(path)
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"path {str(folder)!r} is a file; save writes a folder. Pass a new folder name.")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MANIFEST).exists():
        raise InvalidParameterError(
            f"path {str(folder)!r} is a folder with other files in it; save writes its own folder. Pass a new or "
            f"empty folder (or one an earlier save wrote)."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for old in list(folder.glob("model_*.keras")) + [folder / STATE, folder / MANIFEST]:
        old.unlink(missing_ok=True)
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, folder)
    pickler.dump(detector)
    (folder / STATE).write_bytes(buffer.getvalue())
    files = sorted([STATE, *pickler.models.values()])
    names = getattr(detector, "feature_names_in_", None)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "detector": f"{type(detector).__module__}.{type(detector).__qualname__}",
        "name": _short_name(detector),
        "params": {key: repr(value) for key, value in detector.get_params(deep=False).items()},
        "threshold_": float(detector.threshold_),
        "n_features_in_": int(detector.n_features_in_),
        "feature_names_in_": None if names is None else [str(n) for n in names],
        "versions": _versions(),
        "files": {name: sha256(folder / name) for name in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def read_manifest(path: Any) -> dict:
    """The manifest of a saved detector folder, checked to be one (errors name the folder and the fix)."""
    folder = _check_folder(path)
    file = folder / MANIFEST
    if not folder.is_dir():
        raise FileNotFoundError(f"no saved detector at {str(folder)!r}: the folder does not exist. Pass the folder "
                                f"that det.save(path) wrote.")
    if not file.is_file():
        raise FileNotFoundError(f"{str(folder)!r} is not a saved detector: it has no {MANIFEST}. Pass the folder "
                                f"that det.save(path) wrote.")
    try:
        manifest = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{file} is not valid JSON ({err}); the saved detector is damaged. Save it again.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{file} is not a sadlib detector manifest (no \"format\": \"{FORMAT}\"). Pass the folder "
                         f"that det.save(path) wrote.")
    return manifest


def load(path: Any, *, allow_other_version: bool = False):
    """Load a detector that :func:`save` (``det.save(path)``) wrote; it scores as the saved one did.

    Parameters
    ----------
    path : str or Path, the saved folder
    allow_other_version : bool
        Load a folder written by another sadlib version (refused by default, see the module docstring).

    Raises
    ------
    FileNotFoundError
        The folder, its manifest or one of its files is missing.
    ValueError
        The folder was written by another sadlib version (both are named), or a file is damaged
        (its SHA-256 differs from the manifest's) or unreadable.
    """
    from ..validation import check_bool

    check_bool("allow_other_version", allow_other_version)
    folder = _check_folder(path)
    manifest = read_manifest(folder)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{folder} has format_version {manifest.get('format_version')!r}; this sadlib reads "
                         f"{FORMAT_VERSION}. Load it with the sadlib version that wrote it and save it again.")
    written_by = (manifest.get("versions") or {}).get("sadlib")
    running = _sadlib_version()
    if written_by != running and not allow_other_version:
        raise ValueError(
            f"{folder} was saved by sadlib {written_by} but this is sadlib {running}. A detector's fitted state can "
            f"change between versions: refit and save it with sadlib {running}, or load it with sadlib {written_by} "
            f"(pip install sadlib=={written_by}); load(path, allow_other_version=True) loads it anyway."
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or STATE not in files:
        raise ValueError(f"{folder / MANIFEST} lists no {STATE}; the saved detector is damaged. Save it again.")
    for name, digest in files.items():
        file = folder / name
        if not file.is_file():
            raise FileNotFoundError(f"{folder} is incomplete: {name} is missing (the manifest lists it). Copy the "
                                    f"whole folder, or save the detector again.")
        if sha256(file) != digest:
            raise ValueError(f"{file} is damaged or was changed after saving: its SHA-256 differs from the "
                             f"manifest's. Copy the folder again, or save the detector again.")
    with open(folder / STATE, "rb") as f:
        try:
            detector = _Unpickler(f, folder).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as err:
            raise ValueError(f"{folder / STATE} could not be read ({type(err).__name__}: {err}). Save the "
                             f"detector again with sadlib {running}.") from err
    return detector
