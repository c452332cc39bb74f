"""Is this machine ready for the course? ``python -m sadlib.course.doctor [--prefetch] [--quick]``.

One command for the first minutes of a workshop. It checks, one line each:

* the Python version (``Requires-Python`` of the installed package, 3.11 or later);
* the Python version: 3.11 to 3.13, with the commands that install one of them;
* every package a notebook or an exercise imports, directly or through the sadlib module
  it uses (:data:`PACKAGES`, kept complete by a test that reads the notebooks), with its
  version against the minimum in ``pyproject.toml``, the extra that brings it and the
  command that installs it. The core, ``deep`` and ``lab`` packages are required; those
  of notebooks 09 (``edge``), 10 (``tracking``) and 11 (``federated``) are optional, so a
  missing one is a warning (Ray, which Flower's simulation engine needs, has no wheel for
  Windows with Python 3.13: notebook 11 then runs its rounds in-process);
* the Jupyter kernel ``python3`` that ``make lab`` installs: visible to Jupyter and
  running this interpreter (a stale kernel of the same name in the user's folder
  shadows it, a classic first-hour problem);
* Keras on the TensorFlow backend, and the LiteRT interpreter;
* the SKAB and NAB files: every file of the registry in the cache, or in the offline
  mirror ``SADLIB_DATA_DIR`` when it is set (the loader copies from it on first use), with
  the registered size and sha256 (``--prefetch`` first fetches the missing ones, from the
  mirror when it is set, so a room without internet can be prepared);
* free disk space in the cache folder;
* a tiny timed Keras training run, compared with the reference machine on which the
  notebooks' stated run times were measured, and from that ratio how long the whole
  course (the timings table in benchmarks/README.md) takes on this machine (``--quick`` skips it).

Every line starts with PASS, WARN or FAIL; a WARN or FAIL line is followed by the command
that fixes it. The exit status is 0 when no required item fails (warnings allowed), else 1.

From Python, :func:`run_checks` returns the :class:`Check` objects and :func:`report`
formats them::

    from sadlib.course import doctor
    print(doctor.report(doctor.run_checks(quick=True)))

The doctor has to work when a package is broken, so this module imports only the
standard library at the top; everything else is imported inside the check that needs it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import importlib.metadata
import os
import platform
import re
import shlex
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Callable, Iterator, Sequence

__all__ = ["Check", "ITEMS", "PACKAGES", "REFERENCE_SECONDS", "course_times", "run_checks", "iter_checks",
           "exit_code", "report", "main"]

#: Check groups in the order they run; ``run_checks(items=...)`` selects some of them.
ITEMS = ("python", "packages", "kernel", "keras", "litert", "data", "disk", "timing")

#: Every package the notebooks and exercises import, directly or through the sadlib modules they use:
#: ``(distribution, module, extra, who needs it)``. ``extra`` is the one of ``pyproject.toml`` that brings
#: it (``""``: a dependency of sadlib itself). tests/test_doctor.py derives the imports from the notebooks
#: and fails when one is missing here.
PACKAGES = (
    ("numpy", "numpy", "", "every notebook"),
    ("pandas", "pandas", "", "every notebook"),
    ("scipy", "scipy", "", "notebooks 01-11"),
    ("scikit-learn", "sklearn", "", "notebooks 02-11"),
    ("threadpoolctl", "threadpoolctl", "", "notebook 04 (t-SNE on one thread; scikit-learn brings it)"),
    ("matplotlib", "matplotlib", "", "the figures of every notebook"),
    ("pooch", "pooch", "", "the SKAB and NAB loaders"),
    ("requests", "requests", "", "the SKAB and NAB downloads (pooch)"),
    ("tqdm", "tqdm", "", "progress bars"),
    ("tensorflow", "tensorflow", "deep", "the Keras models, notebooks 04-11"),
    ("keras", "keras", "deep", "the Keras models, notebooks 04-11"),
    ("jupyterlab", "jupyterlab", "lab", "runs the notebooks"),
    ("ipykernel", "ipykernel", "lab", "the notebooks' kernel"),
    ("ipython", "IPython", "lab", "displays in the notebooks and exercises"),
    ("nbformat", "nbformat", "lab", "sadlib.course and the exercises"),
    ("nbclient", "nbclient", "lab", "sadlib.course"),
    ("ai-edge-litert", "ai_edge_litert", "edge", "notebook 09, edge deployment"),
    ("onnxruntime", "onnxruntime", "edge", "notebook 09, edge deployment"),
    ("onnx", "onnx", "edge", "notebook 09, edge deployment"),
    ("tf2onnx", "tf2onnx", "edge", "notebook 09, ONNX export"),
    ("tf-keras", "tf_keras", "edge", "notebook 09, the fused LSTM op of a Keras 2 model"),
    ("optuna", "optuna", "tracking", "notebook 10, tuning"),
    ("tensorboard", "tensorboard", "tracking", "notebook 10, experiment tracking"),
    ("wandb", "wandb", "tracking", "notebook 10, experiment tracking"),
    ("flwr", "flwr", "federated", "notebook 11, federated learning"),
    ("ray", "ray", "federated", "notebook 11, Flower's simulation engine"),
)
#: Extras whose packages every notebook day needs; a missing package of another extra is a warning.
REQUIRED_EXTRAS = ("", "deep", "lab")
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
KERNEL_NAME, KERNEL_DISPLAY_NAME = "python3", "Python 3 (sadlib)"  # as the Makefile's `make lab` installs it

#: Seconds the timing run (:data:`TIMING_EPOCHS` epochs of a dense autoencoder on
#: :data:`TIMING_ROWS` x 8 random rows) took on the reference machine, the 2-core CPU on
#: which the notebooks' header times were measured: best of 10 fresh processes (0.92 to 1.03 s)
#: on 2026-12-01 with TensorFlow 2.21, Keras 3.15, Python 3.11, while other jobs shared the
#: machine (load average about 2). Re-measure it if the timing run changes.
REFERENCE_SECONDS = 0.92
TIMING_EPOCHS, TIMING_ROWS = 2, 2000
SLOW_RATIO = 2.0  # slower than this many times the reference machine: a warning
DISK_OK_GB, DISK_MIN_GB = 2.0, 0.5  # below DISK_OK_GB a warning, below DISK_MIN_GB a failure
_PREFETCH_GIVE_UP = 3  # consecutive failed downloads after which --prefetch stops trying


@dataclass(frozen=True)
class Check:
    """The outcome of one item.

    Attributes
    ----------
    name : str
        What was checked, e.g. ``"package numpy"`` or ``"data skab"``.
    ok : bool
        Whether it is as the course needs it.
    detail : str
        What was found (versions, counts, paths).
    fix : str
        The command (with a few words) that fixes a failed item; ``""`` when ``ok``.
    required : bool
        Whether a failed item blocks the course (``FAIL``) or only degrades it (``WARN``).
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def status(self) -> str:
        """``"PASS"``, ``"WARN"`` (failed, not required) or ``"FAIL"`` (failed, required)."""
        return "PASS" if self.ok else ("FAIL" if self.required else "WARN")

    def __str__(self) -> str:
        line = f"{self.status}  {self.name}: {self.detail}"
        return line if self.ok or not self.fix else f"{line}\n      fix: {self.fix}"


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def _python_command() -> str:
    """This interpreter as a shell word, relative to the working folder when it lives below it."""
    exe = Path(sys.executable or "python")
    try:
        exe = exe.absolute().relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.quote(str(exe))


def _pip(*args: str) -> str:
    return " ".join([_python_command(), "-m", "pip", "install", *(shlex.quote(a) for a in args)])


def _requirements() -> tuple[dict[str, str], str]:
    """Minimum versions ``{distribution: specifier}`` and ``Requires-Python`` of the installed sadlib.

    Read from the package metadata, i.e. from ``pyproject.toml`` as installed; empty when
    sadlib was not installed with pip (then only importability is checked).
    """
    try:
        meta = importlib.metadata.metadata("sadlib")
        lines = importlib.metadata.requires("sadlib") or []
        from packaging.requirements import Requirement  # a dependency of pooch and matplotlib
    except Exception:  # not installed, or packaging missing: check importability only
        return {}, ">=3.11,<3.14"
    minimum: dict[str, str] = {}
    for line in lines:
        try:
            req = Requirement(line)
        except Exception:  # a requirement we cannot parse is simply not checked
            continue
        if req.name != "sadlib" and str(req.specifier):
            minimum[_normalise(req.name)] = str(req.specifier)
    return minimum, meta.get("Requires-Python") or ">=3.11,<3.14"


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _satisfies(version: str, specifier: str) -> bool | None:
    """Whether ``version`` meets ``specifier`` (e.g. ``">=1.26"``); ``None`` if that cannot be told."""
    if not specifier:
        return True
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(specifier).contains(version, prereleases=True)
    except Exception:  # an unparsable version ("unknown") or no packaging
        return None


def _error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}{'...' if len(text) > 200 else ''}"


def _import(module: str):
    """Import ``module`` quietly: its Python warnings and C-level chatter on stderr are hidden.

    TensorFlow logs CUDA probing, and extension modules built against a broken NumPy
    print tracebacks, straight to the process's stderr; the doctor reports each failure
    in its own line instead.
    """
    from .. import environment

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with warnings.catch_warnings(), environment.silenced_stderr():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


def _blame(exc: BaseException, broken: dict[str, str], own: str = "") -> str:
    """The distribution of an already failed package that ``exc`` comes from, or ``""``.

    A package whose import fails inside another, broken one (pandas when NumPy is broken)
    is fixed by fixing that one; its frames in the traceback, or its name in the message,
    give it away.
    """
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        tb, modules = err.__traceback__, set()
        while tb is not None:
            modules.add(str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0])
            tb = tb.tb_next
        for module, distribution in broken.items():
            if module != own and (module in modules or re.search(rf"\b{re.escape(module)}\b", str(err))):
                return distribution
        stack += [err.__cause__, err.__context__]
    return ""


def _first(culprit: str) -> str:
    return f"fix {culprit} first (see its line above), then run this again"


def _version(module, distribution: str) -> str:
    """The installed version as pip sees it (what the fix commands act on), else ``__version__``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = getattr(module, "__version__", None)
        return version if isinstance(version, str) else "unknown"


# --------------------------------------------------------------------------- #
# the items
# --------------------------------------------------------------------------- #
def _install_python() -> str:
    """The commands that install a supported Python (3.12) on this system and rebuild the environment."""
    system = platform.system()
    if system == "Windows":
        return ("winget install Python.Python.3.12   (or the installer from python.org), then in the course "
                "folder: py -3.12 -m venv .venv && "
                ".venv\\Scripts\\python -m pip install -c requirements/lab.lock.txt -e \".[lab]\"")
    if system == "Darwin":
        get = "brew install python@3.12   (or: uv python install 3.12, or the installer from python.org)"
    else:
        get = ("uv python install 3.12   (or your distribution's python3.12 package, or pyenv install 3.12)")
    return f"{get}, then: make clean && make lab PYTHON=python3.12"


def _check_python() -> Iterator[Check]:
    version = platform.python_version()
    _, requires = _requirements()
    ok = _satisfies(version, requires)
    supported = f"{SUPPORTED_PYTHONS[0]} to {SUPPORTED_PYTHONS[-1]}"
    detail = f"{version} at {sys.executable} (sadlib needs {requires}: Python {supported})"
    if ok is False:
        yield Check("python", False, f"{detail}; install a supported Python and rebuild the environment",
                    _install_python())
    else:
        yield Check("python", True, detail)


def _extra_install(extra: str) -> str:
    """The command that installs one extra of the course (from the course folder), and ``make lab``."""
    return (f"{_python_command()} -m pip install -c requirements/lab.lock.txt -e '.[{extra}]' in the course folder "
            f"(the lock pins the versions every room uses), or make lab")


def _check_package(distribution: str, module: str, minimum: dict[str, str], broken: dict[str, str],
                   optional: str = "", extra_name: str = "") -> Check:
    """One package; ``optional`` says why a failure is only a warning (``""``: required).

    ``extra_name`` is the extra of ``pyproject.toml`` that brings it; its install command
    follows every fix.
    """
    name, spec = f"package {distribution}", minimum.get(_normalise(distribution), "")
    want, required = f"{distribution}{spec}", not optional
    extra = f" ({optional})" if optional else ""
    if extra_name:
        check = _check_package(distribution, module, minimum, broken, optional)
        brings = f"the {extra_name} extra brings it: {_extra_install(extra_name)}"
        if check.ok:
            return Check(check.name, True, f"{check.detail}; extra {extra_name}")
        return Check(check.name, False, check.detail, f"{check.fix}   ({brings})", check.required)
    try:
        mod = _import(module)
    except Exception as exc:
        broken[module] = distribution
        culprit = _blame(exc, broken, own=module)
        if culprit:
            return Check(name, False, f"import {module} failed because {culprit} is broken: {_error(exc)}{extra}",
                         _first(culprit), required)
        return _import_failure(name, module, want, extra, required, exc)
    version = _version(mod, distribution)
    ok = _satisfies(version, spec)
    needs = f" (needs {spec})" if spec else ""
    if ok is False:
        return Check(name, False, f"{version} is too old{needs}{extra}", _pip("--upgrade", want), required)
    return Check(name, True, f"{version}{needs}")


def _import_failure(name: str, module: str, want: str, extra: str, required: bool, exc: Exception) -> Check:
    if isinstance(exc, ModuleNotFoundError):
        if exc.name not in (None, module) and not module.startswith(f"{exc.name}."):
            # the package is there but one of its own imports is missing: a broken install
            return Check(name, False, f"installed but broken, import {module} failed: {_error(exc)}{extra}",
                         _pip("--force-reinstall", want), required)
        return Check(name, False, f"not installed{extra}", _pip(want) + "   (or: make lab)", required)
    return Check(name, False, f"import {module} failed: {_error(exc)}{extra}",
                 _pip("--force-reinstall", want), required)


def _on_colab() -> bool:
    """Whether this runs on Google Colab, whose notebooks need neither JupyterLab nor our kernel."""
    import importlib.util

    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def _check_packages(broken: dict[str, str]) -> Iterator[Check]:
    minimum, _ = _requirements()
    colab = _on_colab()
    for distribution, module, extra, who in PACKAGES:
        if extra in REQUIRED_EXTRAS:
            optional = "not needed on Colab" if colab and module == "jupyterlab" else ""
        else:
            optional = f"optional: {who}"
        check = _check_package(distribution, module, minimum, broken, optional, extra)
        if module == "ray" and not check.ok:
            check = _ray_missing(check)
        yield check


def _ray_missing(check: Check) -> Check:
    """Ray failed: notebook 11 still runs in-process; on Windows with Python 3.13 there is no Ray wheel at all."""
    inprocess = ("notebook 11 runs its federated rounds without Ray through the in-process grid "
                 "(run_federated(..., backend=\"inprocess\")); only its simulation-engine cell needs Ray")
    if platform.system() == "Windows" and tuple(platform.python_version_tuple()[:2]) == ("3", "13"):
        return Check(check.name, False, f"{check.detail}; Ray has no wheel for Windows with Python 3.13, so "
                     f"flwr[simulation] leaves it out; {inprocess}",
                     "use Python 3.12 for the simulation engine: " + _install_python(), required=False)
    return Check(check.name, False, f"{check.detail}; {inprocess}", check.fix, required=False)


def _same_environment(command: str) -> bool:
    """Whether a kernel's ``argv[0]`` runs this interpreter: same ``bin`` folder (venvs share a base binary)."""
    found = shutil.which(command) if not os.path.isabs(command) else command
    if not found:
        return False
    return Path(found).parent.resolve() == Path(sys.executable).parent.resolve()


def _check_kernel() -> Iterator[Check]:
    py = _python_command()
    install = (f"{py} -m ipykernel install --sys-prefix --name {KERNEL_NAME} "
               f"--display-name {shlex.quote(KERNEL_DISPLAY_NAME)}")
    name = f"jupyter kernel {KERNEL_NAME}"
    if _on_colab():
        yield Check(name, True, "not needed on Colab, which runs the notebooks in its own kernel")
        return
    try:
        kernelspec = _import("jupyter_client.kernelspec")
        spec = kernelspec.KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except ModuleNotFoundError as exc:
        yield Check(name, False, f"Jupyter is not installed ({_error(exc)})",
                    _pip("-e", ".[lab]") + "   (or: make lab)")
        return
    except Exception as exc:  # NoSuchKernel and friends
        yield Check(name, False, f"Jupyter does not see a kernel named {KERNEL_NAME!r} ({_error(exc)})", install)
        return
    argv0 = spec.argv[0] if spec.argv else ""
    where = f"{spec.display_name!r} in {spec.resource_dir}"
    if _same_environment(argv0):
        yield Check(name, True, f"{where}, runs this Python")
    else:
        yield Check(name, False, f"{where} runs {argv0!r}, not this Python ({sys.executable}), so the notebooks "
                    f"would not see these packages", f"{py} -m jupyter kernelspec remove -f {KERNEL_NAME} && {install}")


def _check_keras(broken: dict[str, str]) -> Iterator[Check]:
    from .. import environment

    name = "keras + tensorflow"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keras = environment.import_keras()
            tf = environment.import_tensorflow()
            with environment.silenced_stderr():
                gpus = tf.config.list_physical_devices("GPU")
            backend = keras.backend.backend()
    except Exception as exc:
        culprit = _blame(exc, broken)
        yield Check(name, False, f"cannot import Keras with TensorFlow: {_error(exc)}",
                    _first(culprit) if culprit else _pip("--force-reinstall", "tensorflow", "keras"))
        return
    device = f"{len(gpus)} GPU(s)" if gpus else "CPU only, which is all the course needs"
    detail = f"Keras {keras.__version__} on the {backend} backend, TensorFlow {tf.__version__}, {device}"
    if backend != "tensorflow":
        yield Check(name, False, detail + "; notebook 09 (export) needs the TensorFlow backend",
                    "unset KERAS_BACKEND (or export KERAS_BACKEND=tensorflow) and restart", required=False)
    else:
        yield Check(name, True, detail)


def _check_litert(broken: dict[str, str]) -> Iterator[Check]:
    name = "LiteRT interpreter"
    try:
        interpreter = _import("ai_edge_litert.interpreter")
        if not hasattr(interpreter, "Interpreter"):  # the class notebook 09 runs .tflite files with
            raise ImportError("ai_edge_litert.interpreter has no Interpreter")
    except Exception as exc:
        culprit = _blame(exc, broken, own="ai_edge_litert")
        fix = _first(culprit) if culprit else _pip("--force-reinstall", "ai-edge-litert")
        yield Check(name, False, f"ai_edge_litert.interpreter.Interpreter unavailable ({_error(exc)}); only "
                    f"notebook 09 needs it", fix, required=False)
        return
    yield Check(name, True, "ai_edge_litert.interpreter.Interpreter imports")


def _registry() -> list[dict[str, str]]:
    """The rows of ``sadlib/dataset_registry.tsv`` (dataset, repo_path, sha256, bytes, ...)."""
    text = files("sadlib").joinpath("dataset_registry.tsv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prefetch(datasets, rows: list[dict[str, str]], failures: list[int]) -> str:
    """Fetch every row through :func:`sadlib.datasets.fetch`; ``""`` or what went wrong first.

    ``failures[0]`` counts failures in a row across calls: after :data:`_PREFETCH_GIVE_UP`
    (no network and no mirror, typically) the rest is not tried.
    """
    first = ""
    for row in rows:
        if failures[0] >= _PREFETCH_GIVE_UP:
            return first or f"not tried, --prefetch gave up after {_PREFETCH_GIVE_UP} failures in a row"
        try:
            datasets.fetch(row["dataset"], row["repo_path"])
            failures[0] = 0
        except datasets.DatasetError as exc:
            first, failures[0] = first or str(exc), failures[0] + 1
    return first


def _check_data(prefetch: bool, broken: dict[str, str]) -> Iterator[Check]:
    py = _python_command()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            datasets = importlib.import_module("sadlib.datasets")
        cache = datasets.cache_dir()
        mirror_value = os.environ.get("SADLIB_DATA_DIR", "").strip()
    except Exception as exc:  # pandas or pooch broken: say so instead of crashing
        culprit = _blame(exc, broken)
        yield Check("data", False, f"cannot check the data, sadlib.datasets does not import: {_error(exc)}",
                    _first(culprit) if culprit else _pip("--force-reinstall", "pandas", "pooch"))
        return
    try:
        mirror = datasets._mirror_dir() if mirror_value else None
        mirror_error = ""
    except datasets.DatasetError as exc:  # SADLIB_DATA_DIR is not a folder
        mirror, mirror_error = None, str(exc)
    rows, failures = _registry(), [0]
    for dataset in sorted({r["dataset"] for r in rows}):
        mine = [r for r in rows if r["dataset"] == dataset]
        name = f"data {dataset}"
        error = _prefetch(datasets, mine, failures) if prefetch else ""
        missing, damaged, served = [], [], []
        for row in mine:
            path = cache / dataset / row["repo_path"]
            if path.is_file() and _verified(path, row):
                continue
            if mirror is not None and _in_mirror(mirror, row):
                served.append(row["repo_path"])  # the loader copies it from the mirror on first use
            elif not path.is_file():
                missing.append(row["repo_path"])
            else:
                damaged.append(row["repo_path"])
        size_mb = sum(int(r["bytes"]) for r in mine) / 1e6
        if not missing and not damaged:
            if served:
                cached = len(mine) - len(served)
                yield Check(name, True, f"all {len(mine)} files verified (sha256), {size_mb:.1f} MB: {cached} in "
                            f"the cache {cache}, {len(served)} served from the mirror {mirror} (SADLIB_DATA_DIR; "
                            f"copied into the cache on first use)")
            else:
                yield Check(name, True,
                            f"all {len(mine)} files cached and verified (sha256), {size_mb:.1f} MB in {cache}")
            continue
        parts = []
        if mirror_error:
            parts.append(mirror_error)
        elif mirror is not None:
            parts.append(f"the mirror {mirror} (SADLIB_DATA_DIR) lacks them or holds damaged copies")
        if missing:
            parts.append(f"{len(missing)} of {len(mine)} files not in the cache {cache} (e.g. {missing[0]})")
        if damaged:
            parts.append(f"{len(damaged)} damaged (size or sha256 differ: {', '.join(damaged[:3])})")
        if error:
            parts.append(f"--prefetch failed: {error}")
        if mirror_value:
            fix = f"{py} -m sadlib.course.doctor --prefetch   (copies them from SADLIB_DATA_DIR={mirror_value})"
        else:
            fix = (f"{py} -m sadlib.course.doctor --prefetch   (downloads {size_mb:.0f} MB; without internet point "
                   f"SADLIB_DATA_DIR at an offline mirror first, e.g. export SADLIB_DATA_DIR=/path/to/mirror)")
        yield Check(name, False, "; ".join(parts), fix)


def _verified(path: Path, row: dict[str, str]) -> bool:
    """Whether ``path`` has the registered size and sha256 of ``row``."""
    return path.stat().st_size == int(row["bytes"]) and _sha256(path) == row["sha256"]


def _in_mirror(mirror: Path, row: dict[str, str]) -> bool:
    """Whether the mirror holds a verified copy of ``row`` where the loader looks for it."""
    candidates = [mirror / row["mirror_path"]] if row.get("mirror_path") else []
    candidates.append(mirror / row["dataset"] / row["repo_path"])
    source = next((p for p in candidates if p.is_file()), None)  # the loader takes the first that exists
    return source is not None and _verified(source, row)


def _check_disk() -> Iterator[Check]:
    try:
        cache, what = importlib.import_module("sadlib.datasets").cache_dir(), "the data cache"
    except Exception:  # reported by the data item; look at the home folder instead
        cache, what = Path.home(), "the home folder"
    folder = cache
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free_gb = shutil.disk_usage(folder).free / 1e9
    detail = f"{free_gb:.1f} GB free in {folder} ({what}{'' if folder == cache else f' {cache} will be there'})"
    if free_gb >= DISK_OK_GB:
        yield Check("disk", True, detail)
    else:
        yield Check("disk", False, f"{detail}; the course wants {DISK_OK_GB:.0f} GB for data, models and exports",
                    "free some space, or export SADLIB_CACHE_DIR=/a/folder/on/a/bigger/disk",
                    required=free_gb < DISK_MIN_GB)


def _train_tiny_model() -> float:
    """Seconds to build and train the timing model (import time excluded)."""
    import numpy as np

    from .. import environment

    keras = environment.import_keras()
    x = np.random.default_rng(0).normal(size=(TIMING_ROWS, 8)).astype("float32")
    start = time.perf_counter()
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(4, activation="relu"), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(8)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x, epochs=TIMING_EPOCHS, batch_size=32, verbose=0)
    return time.perf_counter() - start


def _check_timing(broken: dict[str, str]) -> Iterator[Check]:
    name = "speed"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds = _train_tiny_model()
    except Exception as exc:
        culprit = _blame(exc, broken)
        yield Check(name, False, f"a tiny Keras training run failed: {_error(exc)}",
                    _first(culprit) if culprit else _pip("--force-reinstall", "tensorflow", "keras"))
        return
    ratio = seconds / REFERENCE_SECONDS
    detail = (f"{TIMING_EPOCHS} epochs of a small dense autoencoder ({TIMING_ROWS:,} x 8 rows) took {seconds:.2f} s, "
              f"{ratio:.1f} times the reference machine's {REFERENCE_SECONDS:.2f} s; {_course_estimate(ratio)}")
    if ratio <= SLOW_RATIO:
        yield Check(name, True, detail)
    else:
        yield Check(name, False, detail, "for the short versions of the notebooks: SADLIB_FAST=1 make lab",
                    required=False)


def _readme() -> Path:
    """benchmarks/README.md, whose timings table ``make course`` writes (absent when sadlib was installed without
    the repository)."""
    return Path(__file__).resolve().parents[2] / "benchmarks" / "README.md"


def course_times(readme: Path | None = None) -> dict[str, float]:
    """Seconds per notebook on the reference machine, from the timings table of benchmarks/README.md.

    ``make course`` writes that table (``python -m sadlib.course --readme benchmarks/README.md``).

    The rows between ``<!-- timings -->`` and ``<!-- /timings -->`` whose first cell is a notebook's path
    in backticks; the second cell is its time (``8 s``, ``1.6 min``; a median when the runner repeated).
    Empty when there is no README or no table.
    """
    path = _readme() if readme is None else Path(readme)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    block = re.search(r"<!-- timings -->(.*?)<!-- /timings -->", text, re.S)
    times: dict[str, float] = {}
    for line in (block.group(1) if block else "").splitlines():
        row = re.match(r"\|\s*`([^`]+\.ipynb)`\s*\|\s*([\d.]+)\s*(s|min)\b", line)
        if row:
            times[row.group(1)] = float(row.group(2)) * (60 if row.group(3) == "min" else 1)
    return times


def _course_estimate(ratio: float) -> str:
    """What the speed ratio means for the whole course, from the per-notebook times of benchmarks/README.md."""
    times = course_times()
    if not times:
        return f"expect the notebooks to take about {ratio:.1f} x the run times in their headers"
    reference = sum(times.values())
    slowest = max(times, key=times.get)
    n_exercises = sum(Path(name).parent.name == "exercises" for name in times)
    what = f"{len(times) - n_exercises} notebooks" + (f" and {n_exercises} exercise notebooks" if n_exercises else "")
    return (f"the whole course ({what} in full mode, {reference / 60:.1f} min on the reference "
            f"machine, benchmarks/README.md) should take about {ratio * reference / 60:.0f} min here, "
            f"the longest notebook ({Path(slowest).name}) about {ratio * times[slowest] / 60:.1f} min")


# --------------------------------------------------------------------------- #
# public API
# --------------------------------------------------------------------------- #
def iter_checks(*, prefetch: bool = False, quick: bool = False,
                items: Sequence[str] | None = None) -> Iterator[Check]:
    """Run the checks one after the other, yielding each :class:`Check` as soon as it is known.

    Parameters are those of :func:`run_checks`.
    """
    for flag, value in (("prefetch", prefetch), ("quick", quick)):
        if not isinstance(value, bool):  # sadlib.validation needs NumPy, which may be the broken package
            raise TypeError(f"{flag} must be True or False, got {value!r}.")
    chosen = ITEMS if items is None else tuple(items)
    unknown = [i for i in chosen if i not in ITEMS]
    if isinstance(items, str) or unknown:
        raise ValueError(f"items must be a list of {', '.join(map(repr, ITEMS))}; got {items!r}.")
    broken: dict[str, str] = {}  # module -> distribution of the packages that failed to import
    steps: dict[str, Callable[[], Iterator[Check]]] = {
        "python": _check_python, "packages": lambda: _check_packages(broken), "kernel": _check_kernel,
        "keras": lambda: _check_keras(broken), "litert": lambda: _check_litert(broken),
        "data": lambda: _check_data(prefetch, broken), "disk": _check_disk, "timing": lambda: _check_timing(broken)}
    for item in ITEMS:
        if item in chosen and not (item == "timing" and quick):
            yield from steps[item]()


def run_checks(*, prefetch: bool = False, quick: bool = False, items: Sequence[str] | None = None) -> list[Check]:
    """Check this machine for the course.

    Parameters
    ----------
    prefetch : bool, default False
        First fetch every missing or damaged data file (:func:`sadlib.datasets.fetch`:
        from ``SADLIB_DATA_DIR`` when set, else from GitHub), then verify them.
    quick : bool, default False
        Skip the timed training run (a few seconds with TensorFlow loaded).
    items : sequence of str, optional
        Only these groups of :data:`ITEMS` (default: all), e.g. ``["packages"]``.

    Returns
    -------
    list of Check
        In the order of :data:`ITEMS`; see :func:`exit_code` and :func:`report`.
    """
    return list(iter_checks(prefetch=prefetch, quick=quick, items=items))


def exit_code(checks: Sequence[Check]) -> int:
    """0 when no required check failed (warnings are allowed), else 1."""
    return int(any(c.status == "FAIL" for c in checks))


def _summary(checks: Sequence[Check]) -> str:
    failed = sum(c.status == "FAIL" for c in checks)
    warned = sum(c.status == "WARN" for c in checks)
    warn = f" ({warned} warning{'s' * (warned != 1)}: optional, see the WARN lines)" if warned else ""
    if failed:
        return (f"NOT READY: {failed} of {len(checks)} checks failed{warn}. Run the fix under each FAIL line, "
                f"then {_python_command()} -m sadlib.course.doctor again.")
    return f"READY: every required check passed{warn}."


def report(checks: Sequence[Check]) -> str:
    """The checks as text, one line each (a fix line under each failure), and a summary line."""
    return "\n".join([*map(str, checks), _summary(checks)])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print every check as it finishes and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m sadlib.course.doctor",
        description="Check that this machine is ready for the course: Python, packages, Jupyter kernel, data, "
                    "disk and speed. One line per item, PASS/WARN/FAIL, with the command that fixes it.")
    parser.add_argument("--prefetch", action="store_true",
                        help="fetch and verify every SKAB/NAB file first (from SADLIB_DATA_DIR when set)")
    parser.add_argument("--quick", action="store_true", help="skip the timed training run")
    args = parser.parse_args(argv)
    from . import modes

    try:
        from .exercises.checker import solutions_hidden

        solutions = "hidden (SADLIB_HIDE_SOLUTIONS=1)" if solutions_hidden() else "shown"
    except Exception:  # NumPy broken: the package lines say so
        solutions = "unknown (sadlib.course.exercises does not import)"
    print(f"sadlib doctor: {platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, {sys.executable}")
    print(f"mode: {modes.describe()}")
    print(f"exercise solutions: {solutions}", flush=True)
    checks = []
    for check in iter_checks(prefetch=args.prefetch, quick=args.quick):
        print(check, flush=True)
        checks.append(check)
    if args.quick:
        print("(speed not measured: --quick)")
    print(_summary(checks))
    return exit_code(checks)


if __name__ == "__main__":
    sys.exit(main())
