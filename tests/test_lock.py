"""The locks in requirements/: current against pyproject.toml, resolvable on every platform, installed by make.

The resolutions run uv (the test extra installs it) against PyPI, a few seconds each with uv's cache.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sadlib.course import locks

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("profile", locks.PROFILES)
def test_lock_header_records_the_extras_requirements(profile):
    path = locks.lock_path(profile)
    assert path.is_file(), f"{path} is missing: run make lock"
    assert locks.recorded_requirements(path) == locks.requirements(profile), f"{path.name} is stale: run make lock"


def _copy_project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    return tmp_path


def test_a_changed_extra_makes_every_lock_that_uses_it_stale(tmp_path):
    root = _copy_project(tmp_path)
    assert locks.check(root, resolve=False, platforms=False) == []
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    (root / "pyproject.toml").write_text(text.replace('"keras>=3.13",', '"keras>=3.13",\n    "rich>=13",'),
                                         encoding="utf-8")
    problems = locks.check(root, resolve=False, platforms=False)
    assert len(problems) == 3, problems  # deep is in day1, lab and test
    assert all("stale against pyproject.toml (new: ['rich>=13']" in p and "make lock" in p for p in problems)


def test_the_profiles_expand_the_extras_they_include():
    day1, lab, test = (set(locks.requirements(p)) for p in ("day1", "lab", "test"))
    assert day1 < lab < test
    assert {"tensorflow>=2.16", "keras>=3.13", "jupyterlab>=4.2"} <= day1
    heavy = ("flwr", "ray", "wandb", "onnx", "onnxruntime", "tf2onnx", "ai-edge-litert", "optuna")
    assert not [r for r in day1 if re.split(r"[\[<>=!~ ]", r)[0] in heavy]
    pinned = locks.lock_path("day1").read_text(encoding="utf-8")
    assert not [name for name in heavy if re.search(rf"^{re.escape(name)}==", pinned, re.M)]
    with pytest.raises(ValueError, match="profile must be one of"):
        locks.requirements("dayone")


def test_the_locks_pin_the_versions_the_course_was_tested_with():
    """lab and day1 are resolved within test's pins: one version of each package in the three files."""
    pins = {}
    for profile in locks.PROFILES:
        for line in locks.lock_path(profile).read_text(encoding="utf-8").splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)(?: ;(.*?))?\s*(?:#|$)", line)
            if match:
                pins.setdefault((match.group(1), (match.group(3) or "").strip()), set()).add(match.group(2))
    assert {k: v for k, v in pins.items() if len(v) > 1} == {}
    versions = {name: v.pop() for (name, _), v in pins.items()}
    assert versions["tensorflow"].startswith("2.21") and versions["keras"].startswith("3.15")
    assert versions["ai-edge-litert"].startswith("2.3") and versions["flwr"].startswith("1.42")


@pytest.mark.parametrize("profile", locks.PROFILES)
def test_resolving_pyproject_again_gives_the_same_lock(profile, tmp_path):
    fresh = tmp_path / f"{profile}.lock.txt"
    shutil.copy(locks.lock_path(profile), fresh)  # uv keeps the versions pinned there, as make lock does
    locks.compile_lock(profile, out=fresh)
    assert locks._body(fresh.read_text(encoding="utf-8")) == locks._body(
        locks.lock_path(profile).read_text(encoding="utf-8")), f"{profile}: run make lock and commit the lock"


@pytest.mark.parametrize("python", locks.PYTHONS)
@pytest.mark.parametrize("platform", list(locks.PLATFORMS))
@pytest.mark.parametrize("profile", locks.PROFILES)
def test_every_platform_resolves_binary_only(profile, platform, python, tmp_path):
    out = tmp_path / "lock.txt"
    result = locks.platform_lock(profile, platform, python, out)
    assert result.returncode == 0, f"{profile} on {platform}, Python {python}:\n{result.stderr}"
    pins = locks.pinned(out)
    locked = {n.lower() for n in re.findall(r"^([A-Za-z0-9_.-]+)==", locks.lock_path(profile).read_text(), re.M)}
    assert set(pins) <= {n.replace("_", "-") for n in locked}
    if profile != "day1":
        # Ray only where it has a wheel; the one gap is the one MISSING (and the README) tells about
        assert ("ray" in pins) == ("ray" not in locks.MISSING.get((platform, python), {}))
        assert "flwr" in pins


def test_the_ray_gap_is_told_in_the_readme_and_by_run_federated(monkeypatch):
    assert "Windows with Python 3.13" in README and 'backend="inprocess"' in README
    from sadlib.federated import engine

    monkeypatch.setattr(engine.sys, "platform", "win32")
    monkeypatch.setattr(engine.sys, "version_info", (3, 13, 1, "final", 0))
    monkeypatch.setattr(engine.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"no wheel for Windows with Python 3\.13: use Python 3\.12") as err:
        engine.require_ray()
    assert 'backend="inprocess"' in str(err.value)


def test_missing_ray_elsewhere_names_the_install_command(monkeypatch):
    from sadlib.federated import engine

    monkeypatch.setattr(engine.sys, "platform", "linux")
    monkeypatch.setattr(engine.importlib.util, "find_spec", lambda name: None)
    message = engine.ray_missing_message()
    assert 'pip install -c requirements/lab.lock.txt -e ".[federated]"' in message
    assert 'backend="inprocess"' in message


@pytest.mark.parametrize("module, blocked, extra", [
    ("sadlib.federated", "flwr", "federated"),
    ("sadlib.tracking", "wandb", "tracking"),
    ("sadlib.edge", "ai_edge_litert", "edge"),
])
def test_a_missing_extra_names_its_pip_command(module, blocked, extra):
    """What notebooks 09-11 print in one line when their extra is missing (a fresh interpreter, the package hidden)."""
    code = f"""
import sys
sys.modules[{blocked!r}] = None
try:
    import {module} as m
    if {module!r} == "sadlib.tracking":
        import tempfile; m.Tracker(tempfile.mkdtemp())
    elif {module!r} == "sadlib.edge":
        m._import_litert()
except ImportError as err:
    print(err)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert f'{extra} extra: pip install -c requirements/lab.lock.txt -e ".[{extra}]"' in out.stdout, out


# Under `make test` the parent make's MAKEFLAGS/MAKELEVEL reach this make, which then prints
# "make[1]: Entering directory" lines among the commands: run it as a user would, at the top level.
_ENV_WITHOUT_MAKE = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEFILES")}


def _make_commands(*args: str) -> list[str]:
    """The commands make would run (-n), every target rebuilt (-B), as a Windows venv would name them."""
    out = subprocess.run(["make", "--no-print-directory", "-n", "-B", *args, "VENV=.venv", "PYTHON=py -3.12",
                          "ROOT_ARGS="], env=_ENV_WITHOUT_MAKE,
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    commands = []
    for line in out.splitlines():
        if line.startswith(("touch ", "test ")) or not line.strip():
            continue
        line = line.replace(".venv/bin/", ".venv\\Scripts\\").replace(" --quiet", "").replace(" >/dev/null", "")
        commands.append(" ".join(line.split()))
    return commands


def _powershell_block() -> list[str]:
    block = re.search(r"```powershell\n(.*?)```", README, re.S)
    assert block, "the README's install section needs a ```powershell block for Windows"
    return [" ".join(ln.split()) for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_the_readme_windows_block_runs_what_make_lab_runs():
    expected = _make_commands("lab")
    assert expected[0] == "py -3.12 -m venv .venv"
    assert '.venv\\Scripts\\python -m pip install -c requirements/lab.lock.txt -e ".[lab]"' in expected
    block = _powershell_block()
    missing = [c for c in expected if c not in block]
    assert not missing, f"the README's PowerShell block lacks what make lab runs: {missing}"
    # the lighter profile and the offline install are the same commands with other arguments
    day1 = [c for c in _make_commands("install", "PROFILE=day1", "WHEELHOUSE=D:\\wheels") if "-e" in c][0]
    assert day1 == ('.venv\\Scripts\\python -m pip install --no-index --find-links D:\\wheels '
                    '-c requirements/day1.lock.txt -e ".[day1]"')
    assert day1 in README


def test_make_refuses_an_unknown_profile_with_the_choices():
    out = subprocess.run(["make", "-n", "lab", "PROFILE=full"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode != 0
    assert "PROFILE=full is not a profile: use PROFILE=lab" in out.stderr and "PROFILE=day1" in out.stderr


def test_make_wheelhouse_downloads_the_profile_for_the_platform():
    commands = _make_commands("wheelhouse", "WHEELHOUSE=sticks", "PROFILE=day1", "PLATFORM=windows", "PY=3.12")
    assert commands[-1] == ('.venv\\Scripts\\python -m sadlib.course.locks wheelhouse "sticks" --profile day1 '
                            '--platform windows --python 3.12')


def test_wheelhouse_refuses_bad_arguments_by_name(tmp_path):
    with pytest.raises(ValueError, match="platform must be one of 'linux', 'macos', 'windows'; got 'win64'"):
        locks.wheelhouse(tmp_path, "day1", "win64", "3.12")
    with pytest.raises(ValueError, match="python must be one of '3.11', '3.12', '3.13'; got '3.10'"):
        locks.wheelhouse(tmp_path, "day1", "linux", "3.10")
