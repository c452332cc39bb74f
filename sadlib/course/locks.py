"""Locked installs: the versions every room installs, on Linux, macOS and Windows, Python 3.11-3.13.

``requirements/<profile>.lock.txt`` pins every package of a profile (an extra of ``pyproject.toml``):

* ``day1``: notebooks 00-06 (TensorFlow, Keras, JupyterLab; no Ray, Flower, W&B or ONNX);
* ``lab``: every notebook (``day1`` plus the ``edge``, ``tracking`` and ``federated`` extras);
* ``test``: ``lab`` plus the test and site-building tools (``make test``).

Each lock is resolved once for every platform and Python version (``uv pip compile --universal``, which
evaluates the environment markers of each target), so one file serves Linux, macOS and Windows: pip
installs from it with no uv (``pip install -c requirements/lab.lock.txt -e ".[lab]"``, markers included).
The ``lab`` and ``day1`` locks are resolved within the ``test`` lock's pins, so the three agree. Its header
records the requirements it was resolved from, so a changed ``pyproject.toml`` shows as a stale lock::

    python -m sadlib.course.locks compile               # make lock: regenerate, keeping the pinned versions
    python -m sadlib.course.locks compile --upgrade     # move every pin to the newest release that resolves
    python -m sadlib.course.locks check                 # exit 1 when a lock is stale or a platform cannot resolve
    python -m sadlib.course.locks wheelhouse DIR --profile day1 --platform windows --python 3.12
                                                 # every wheel of a profile for one platform, for USB sticks

A target platform is resolved binary-only (``--only-binary :all:``): a room's laptops should not
compile anything. Where a platform lacks a wheel the universal lock leaves the package out by its marker:
Ray has none for Windows with Python 3.13 (``flwr[simulation]``'s marker), so notebook 11's simulation
engine needs Python 3.12 there, or the in-process path (``run_federated(..., backend="inprocess")``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from .._extras import MISSING, install_hint
from ..validation import InvalidParameterError, check_choice

__all__ = ["PROFILES", "PLATFORMS", "PYTHONS", "MISSING", "install_hint", "requirements", "lock_path", "header",
           "recorded_requirements", "compile_lock", "platform_lock", "check", "wheelhouse", "main"]

ROOT = Path(__file__).resolve().parents[2]  # sadlib/course/locks.py -> the repository
#: the extras with a lock, in the order they are resolved (``test`` first: the others are constrained by it)
PROFILES = ("test", "lab", "day1")
#: the room's platforms: name -> uv's ``--python-platform`` target
PLATFORMS = {
    "linux": "x86_64-manylinux_2_28",
    "macos": "aarch64-apple-darwin",
    "windows": "x86_64-pc-windows-msvc",
}
#: pip download's ``--platform`` tags for each platform (every tag the target accepts that wheels use)
PIP_PLATFORM_TAGS = {
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
              "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"],
    "macos": ["macosx_14_0_arm64", "macosx_13_0_arm64", "macosx_12_0_arm64", "macosx_11_0_arm64",
              "macosx_11_0_universal2", "macosx_10_9_universal2"],
    "windows": ["win_amd64"],
}
#: onnxruntime's macOS wheels are built for macOS 14 (Sonoma) or newer on Apple silicon
MACOS_TARGET = "14.0"
PYTHONS = ("3.11", "3.12", "3.13")
#: packages a platform has no wheel for: (platform, python) -> {package: what to do}
#: packages the wheelhouse adds to a profile: what pip needs to build the editable install offline
BUILD_TOOLS = ("pip", "setuptools>=77")

_HEADER = "# sadlib lock"
_REQUIRES = "# requires: "
_SELF = re.compile(r"^sadlib\[([A-Za-z0-9_,\s-]+)\]$")



def _pyproject(root: Path) -> dict:
    with (Path(root) / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def requirements(profile: str, root: Path | str = ROOT) -> list[str]:
    """Every requirement ``pip install -e ".[profile]"`` asks for, the extra's own ``sadlib[...]`` expanded; sorted."""
    project = _pyproject(Path(root))["project"]
    extras = project.get("optional-dependencies", {})
    check_choice("profile", profile, tuple(extras))
    found, todo, seen = set(project.get("dependencies", [])), [profile], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in extras:
            raise InvalidParameterError(f"pyproject.toml: an extra refers to sadlib[{extra}], which is not defined; "
                                        f"define it under [project.optional-dependencies] or remove the reference.")
        for req in extras[extra]:
            match = _SELF.match(req.strip())
            if match:
                todo.extend(e.strip() for e in match.group(1).split(","))
            else:
                found.add(" ".join(req.split()))
    return sorted(found, key=str.lower)


def lock_path(profile: str, root: Path | str = ROOT) -> Path:
    check_choice("profile", profile, PROFILES)
    return Path(root) / "requirements" / f"{profile}.lock.txt"


def header(profile: str, root: Path | str = ROOT) -> str:
    """The lock's header: how it was made and the requirements it was resolved from."""
    lines = [f"{_HEADER}: profile {profile}, Linux x86-64, macOS arm64 and Windows x86-64, Python 3.11-3.13",
             "# Regenerate with `make lock` (python -m sadlib.course.locks compile); never edit by hand.",
             f'# Install: pip install -c requirements/{profile}.lock.txt -e ".[{profile}]"']
    lines += [_REQUIRES + r for r in requirements(profile, root)]
    return "\n".join(lines) + "\n"


def recorded_requirements(path: Path | str) -> list[str]:
    """The requirements a lock's header says it was resolved from."""
    return [ln[len(_REQUIRES):].strip() for ln in Path(path).read_text(encoding="utf-8").splitlines()
            if ln.startswith(_REQUIRES)]


def _body(text: str) -> str:
    """A lock without its comment-only header lines (what uv resolved)."""
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("# ") or ln.startswith("    #"))


def _uv() -> list[str]:
    exe = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if exe:
        return [exe]
    try:
        import uv  # noqa: F401
    except ImportError as err:
        raise ImportError("resolving the locks needs uv: pip install uv (the test extra installs it).") from err
    return [sys.executable, "-m", "uv"]


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run a command; uv resolves for the target Python version without fetching an interpreter of it
    (it would otherwise try to download one for every version it is asked about), and for macOS 14 or newer."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "MACOSX_DEPLOYMENT_TARGET": MACOS_TARGET}
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env)


def _compile_args(profile: str, root: Path, out: Path, constraints: list[Path]) -> list[str]:
    args = [*_uv(), "pip", "compile", str(root / "pyproject.toml"), "--extra", profile, "--universal",
            "--python-version", PYTHONS[0], "--no-header", "--annotation-style", "line", "--quiet", "-o", str(out)]
    for c in constraints:
        args += ["-c", str(c)]
    return args


def _constraints_for(profile: str, root: Path) -> list[Path]:
    return [] if profile == PROFILES[0] else [Path("requirements") / f"{PROFILES[0]}.lock.txt"]


def compile_lock(profile: str, root: Path | str = ROOT, *, out: Path | str | None = None, upgrade: bool = False,
                 constraints: list[Path | str] = ()) -> Path:
    """Resolve ``profile`` for every platform into its lock (or ``out``), preferring the versions already pinned there.

    The resolution runs in ``root`` so that the paths uv writes into the lock's comments are relative.
    """
    root = Path(root).resolve()
    target = Path(out) if out is not None else lock_path(profile, root)
    args = _compile_args(profile, root, target.resolve(), [*_constraints_for(profile, root), *map(Path, constraints)])
    args[args.index(str(root / "pyproject.toml"))] = "pyproject.toml"
    if upgrade:
        args.append("--upgrade")
    result = _run(args, cwd=root)
    if result.returncode:
        raise RuntimeError(f"uv could not resolve the {profile!r} profile:\n{result.stderr.strip()}")
    target.write_text(header(profile, root) + target.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def platform_lock(profile: str, platform: str, python: str, out: Path | str, root: Path | str = ROOT, *,
                  extra_requirements: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Resolve ``profile`` within its lock for one platform and Python, binary-only, into ``out`` (no markers)."""
    check_choice("platform", platform, tuple(PLATFORMS))
    check_choice("python", ".".join(python.split(".")[:2]), PYTHONS)
    root = Path(root).resolve()
    args = [*_uv(), "pip", "compile", "pyproject.toml", "--extra", profile, "--python-platform", PLATFORMS[platform],
            "--python-version", python, "--only-binary", ":all:", "-c", str(lock_path(profile, root)),
            "--no-header", "--no-annotate", "--quiet", "-o", str(Path(out).resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        if extra_requirements:
            extra = Path(tmp) / "build-tools.in"
            extra.write_text("\n".join(extra_requirements) + "\n", encoding="utf-8")
            args.insert(args.index("--extra"), str(extra))
        return _run(args, cwd=root)


def pinned(path: Path | str) -> dict[str, str]:
    """``{package: version}`` of a lock compiled for one platform (no markers)."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def check(root: Path | str = ROOT, *, resolve: bool = True, platforms: bool = True) -> list[str]:
    """What is wrong with the locks: stale headers, a re-resolution that differs, a platform that cannot resolve."""
    root = Path(root).resolve()
    problems = []
    for profile in PROFILES:
        path = lock_path(profile, root)
        if not path.is_file():
            problems.append(f"{path.relative_to(root)} is missing: run make lock.")
            continue
        recorded, wanted = recorded_requirements(path), requirements(profile, root)
        if recorded != wanted:
            added, removed = sorted(set(wanted) - set(recorded)), sorted(set(recorded) - set(wanted))
            problems.append(f"{path.relative_to(root)} is stale against pyproject.toml (new: {added}, gone: "
                            f"{removed}): run make lock and commit it.")
            continue
        if resolve:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = Path(tmp) / path.name
                shutil.copy(path, fresh)  # uv prefers the versions pinned in the output file
                compile_lock(profile, root, out=fresh)
                if _body(fresh.read_text(encoding="utf-8")) != _body(path.read_text(encoding="utf-8")):
                    problems.append(f"{path.relative_to(root)}: resolving pyproject.toml again gives another lock: "
                                    f"run make lock and commit it.")
        if platforms:
            for platform in PLATFORMS:
                for python in PYTHONS:
                    with tempfile.TemporaryDirectory() as tmp:
                        result = platform_lock(profile, platform, python, Path(tmp) / "lock.txt", root)
                    if result.returncode:
                        problems.append(f"{profile} does not resolve for {platform} with Python {python}: "
                                        f"{result.stderr.strip()}")
    return problems


def wheelhouse(directory: Path | str, profile: str = "lab", platform: str = "linux", python: str = "3.11",
               root: Path | str = ROOT) -> list[Path]:
    """Download every wheel of ``profile``'s lock for one platform and Python into ``directory``.

    ``pip install --no-index --find-links DIRECTORY -c requirements/PROFILE.lock.txt -e ".[PROFILE]"`` then
    installs with no network (``make lab WHEELHOUSE=DIRECTORY PROFILE=...``). pip and setuptools come with it,
    so a fresh venv can build the editable install offline. A lock can pin another version for the first
    patch releases of a Python (soupsieve for 3.11.0-3.11.4), so the profile is resolved for the first and the
    latest patch release and the wheels of both are downloaded. Returns the per-platform locks written there.
    """
    check_choice("profile", profile, PROFILES)
    check_choice("platform", platform, tuple(PLATFORMS))
    check_choice("python", python, PYTHONS)
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for patch in ("0", "99"):
        lock = directory / f"{profile}-{platform}-py{python}.{patch}.txt"
        result = platform_lock(profile, platform, f"{python}.{patch}", lock, root, extra_requirements=BUILD_TOOLS)
        if result.returncode:
            raise RuntimeError(f"{profile} does not resolve for {platform} with Python {python}:\n"
                               f"{result.stderr.strip()}")
        args = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                "--python-version", f"{python}.{patch}", "--implementation", "cp", "-d", str(directory),
                "-r", str(lock)]
        for tag in PIP_PLATFORM_TAGS[platform]:
            args += ["--platform", tag]
        done = _run(args)
        if done.returncode:
            errors = "\n".join(ln for ln in done.stderr.splitlines() if not ln.startswith("WARNING")) or done.stderr
            raise RuntimeError(f"pip download failed for {platform} with Python {python}:\n{errors.strip()}")
        written.append(lock)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sadlib.course.locks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    comp = sub.add_parser("compile", help="regenerate every lock (make lock)")
    comp.add_argument("--upgrade", action="store_true", help="move every pin to the newest release that resolves")
    comp.add_argument("--constraint", action="append", default=[], help="a pip constraints file to stay within")
    chk = sub.add_parser("check", help="exit 1 when a lock is stale or a platform cannot resolve")
    chk.add_argument("--no-platforms", action="store_true", help="skip the per-platform resolutions")
    wh = sub.add_parser("wheelhouse", help="download every wheel of a profile for one platform")
    wh.add_argument("directory")
    wh.add_argument("--profile", default="lab", choices=PROFILES)
    wh.add_argument("--platform", default="linux", choices=tuple(PLATFORMS))
    wh.add_argument("--python", default="3.11", choices=PYTHONS)
    args = parser.parse_args(argv)
    try:
        if args.command == "compile":
            for profile in PROFILES:
                print(f"wrote {compile_lock(profile, upgrade=args.upgrade, constraints=args.constraint)}")
        elif args.command == "check":
            problems = check(platforms=not args.no_platforms)
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        else:
            locks = wheelhouse(args.directory, args.profile, args.platform, args.python)
            count = len(list(Path(args.directory).glob("*.whl")))
            print(f"{count} wheels in {args.directory} for {args.profile} on {args.platform}, Python {args.python} "
                  f"({' and '.join(lock.name for lock in locks)} list them)")
    except (RuntimeError, ImportError, InvalidParameterError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
