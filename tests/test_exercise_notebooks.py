"""Generated exercise notebooks (05 on) match their question modules: regenerate after changing a module."""

import re
from pathlib import Path

import nbformat
import pytest

from sadlib.course.exercises.notebook import exercise_notebook

ROOT = Path(__file__).resolve().parents[1]
GENERATED = sorted(p for p in (ROOT / "exercises").glob("*_exercises.ipynb") if int(p.name[:2]) >= 5)


def test_there_are_generated_notebooks():
    assert GENERATED, "no exercise notebooks from 05 on"


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.name)
def test_exercise_notebook_matches_its_module(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    title = re.search(r"# Exercises · (.*)\n", first).group(1)
    lesson = re.search(r"\]\(\.\./(notebooks/[^)]*)\)", first).group(1)
    assert (ROOT / lesson).exists(), f"{path.name} links to a missing lesson {lesson}"
    expected = exercise_notebook(f"nb{path.name[:2]}", title, lesson, f"exercises/{path.name}")
    got = [(c.cell_type, c.source) for c in nb.cells]
    want = [(c.cell_type, c.source) for c in expected.cells]
    assert got == want, (
        f"{path.name} differs from sadlib.course.exercises.nb{path.name[:2]}; regenerate it with "
        f"python -m sadlib.course.exercises.notebook nb{path.name[:2]} \"{title}\" {lesson} exercises/{path.name}"
    )
