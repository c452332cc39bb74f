"""The repository address is set once (pyproject's Homepage) and written into every badge and install line,
pinned to the release tag (pyproject's version), and into the dev container."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sadlib.course import publishing

ROOT = Path(__file__).resolve().parents[1]


def test_this_checkout_agrees_with_its_homepage():
    assert publishing.files_to_update(ROOT) == []
    assert publishing.main(["--check"]) == 0


def _copy(tmp_path: Path, homepage: str, version: str = "0.1.0") -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "sadlib" / "course" / "exercises").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "08_alarm_management.ipynb", tmp_path / "notebooks")
    shutil.copy(ROOT / "exercises" / "08_alarm_management_exercises.ipynb", tmp_path / "exercises")
    shutil.copy(ROOT / "sadlib" / "course" / "exercises" / "notebook.py",
                tmp_path / "sadlib" / "course" / "exercises")
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "{version}"\n'
                                             f'[project.urls]\nHomepage = "{homepage}"\n')
    return tmp_path


def test_a_new_address_reaches_badges_and_install_lines(tmp_path, capsys):
    root = _copy(tmp_path, "https://github.com/my-org/my-course")
    old = publishing.repository(ROOT)
    assert len(publishing.files_to_update(root)) == 4  # two notebooks, the generator, the dev container
    assert publishing.main(["--check", "--root", str(root)]) == 1
    assert publishing.main(["--root", str(root)]) == 0
    for path in [*root.glob("*/*.ipynb"), root / "sadlib" / "course" / "exercises" / "notebook.py"]:
        text = path.read_text(encoding="utf-8")
        assert old not in text, path
        assert "my-org/my-course" in text, path
    nb = (root / "notebooks" / "08_alarm_management.ipynb").read_text(encoding="utf-8")
    assert "colab.research.google.com/github/my-org/my-course/blob/v0.1.0/notebooks/08_alarm_management.ipynb" in nb
    assert "git+https://github.com/my-org/my-course@v0.1.0\\\"" in nb
    assert "blob/main" not in nb
    assert publishing.files_to_update(root) == []  # idempotent
    assert json.loads(_json(root / ".devcontainer" / "devcontainer.json"))["name"] == "my-course"


def _json(path: Path) -> str:
    """The dev container's JSON without its leading // comment line (VS Code reads JSON with comments)."""
    return "\n".join(ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("//"))


def test_a_new_release_moves_every_badge_and_install_line_to_its_tag(tmp_path):
    root = _copy(tmp_path, "https://github.com/my-org/my-course")
    publishing.propagate(root)
    text = (root / "pyproject.toml").read_text(encoding="utf-8").replace('version = "0.1.0"', 'version = "0.2.0"')
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    assert publishing.release_tag(root) == "v0.2.0"
    assert len(publishing.files_to_update(root)) == 3  # the dev container names no release
    publishing.propagate(root)
    nb = (root / "exercises" / "08_alarm_management_exercises.ipynb").read_text(encoding="utf-8")
    assert "/blob/v0.2.0/exercises/08_alarm_management_exercises.ipynb" in nb and "v0.1.0" not in nb
    assert "@v0.2.0" in (root / "sadlib" / "course" / "exercises" / "notebook.py").read_text(encoding="utf-8")


def test_a_version_that_is_no_release_is_refused_with_the_fix(tmp_path):
    root = _copy(tmp_path, "https://github.com/my-org/my-course", version="latest")
    with pytest.raises(ValueError, match=r"\[project\] version is 'latest'; set it to the release"):
        publishing.release_tag(root)
    assert publishing.main(["--check", "--root", str(root)]) == 2


def test_the_dev_container_installs_from_the_lock_and_forwards_jupyter():
    config = json.loads(_json(ROOT / ".devcontainer" / "devcontainer.json"))
    assert config["name"] == publishing.repository(ROOT).split("/")[1]
    assert "python:1-3.11" in config["image"]  # the oldest Python the course supports
    assert config["postCreateCommand"] == "make install"
    make = subprocess.run(["make", "-n", "-B", "install"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert '-c requirements/lab.lock.txt -e ".[lab]"' in make.stdout  # what make install runs: the lab lock
    assert 8888 in config["forwardPorts"] and "8888" in config["postAttachCommand"]


def test_a_non_github_homepage_is_refused_with_the_fix(tmp_path):
    root = _copy(tmp_path, "https://gitlab.com/me/course")
    with pytest.raises(ValueError, match="set it to the course's GitHub address"):
        publishing.repository(root)
    assert publishing.main(["--root", str(root)]) == 2
