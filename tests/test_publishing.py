"""The repository address is set once (pyproject's Homepage) and written into every badge and install line."""

import shutil
from pathlib import Path

import pytest

from sadlib.course import publishing

ROOT = Path(__file__).resolve().parents[1]


def test_this_checkout_agrees_with_its_homepage():
    assert publishing.files_to_update(ROOT) == []
    assert publishing.main(["--check"]) == 0


def _copy(tmp_path: Path, homepage: str) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "sadlib" / "course" / "exercises").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "08_alarm_management.ipynb", tmp_path / "notebooks")
    shutil.copy(ROOT / "exercises" / "08_alarm_management_exercises.ipynb", tmp_path / "exercises")
    shutil.copy(ROOT / "sadlib" / "course" / "exercises" / "notebook.py", tmp_path / "sadlib" / "course" / "exercises")
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n[project.urls]\nHomepage = "{homepage}"\n')
    return tmp_path


def test_a_new_address_reaches_badges_and_install_lines(tmp_path, capsys):
    root = _copy(tmp_path, "https://github.com/my-org/my-course")
    old = publishing.repository(ROOT)
    assert len(publishing.files_to_update(root)) == 3
    assert publishing.main(["--check", "--root", str(root)]) == 1
    assert publishing.main(["--root", str(root)]) == 0
    for path in [*root.glob("*/*.ipynb"), root / "sadlib" / "course" / "exercises" / "notebook.py"]:
        text = path.read_text(encoding="utf-8")
        assert old not in text, path
        assert "my-org/my-course" in text, path
    nb = (root / "notebooks" / "08_alarm_management.ipynb").read_text(encoding="utf-8")
    assert "colab.research.google.com/github/my-org/my-course/blob/main/notebooks/08_alarm_management.ipynb" in nb
    assert "git+https://github.com/my-org/my-course\\\"" in nb
    assert publishing.files_to_update(root) == []  # idempotent


def test_a_non_github_homepage_is_refused_with_the_fix(tmp_path):
    root = _copy(tmp_path, "https://gitlab.com/me/course")
    with pytest.raises(ValueError, match="set it to the course's GitHub address"):
        publishing.repository(root)
    assert publishing.main(["--root", str(root)]) == 2
