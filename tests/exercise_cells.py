"""The committed exercise notebooks as the exercise tests read them: one home for the helpers they share.

``module`` is a question module's name (``"nb02"``); its notebook is ``exercises/02_*_exercises.ipynb``.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
_CHECK_LINE = re.compile(r"^q(\d+)\.check\(\)$", re.M)


def notebook_path(module: str) -> Path:
    """The committed exercise notebook of question module ``module`` (``"nb02"``)."""
    found = sorted(EXERCISES.glob(f"{module[2:]}_*_exercises.ipynb"))
    assert len(found) == 1, f"expected one exercise notebook for {module}, found {found}"
    return found[0]


def cells(module: str) -> list:
    """The notebook's cells (``nbformat`` nodes), in order."""
    return nbformat.read(notebook_path(module), as_version=4).cells


def code_cells(module: str) -> list[str]:
    """The sources of the notebook's code cells, in order."""
    return [c.source for c in cells(module) if c.cell_type == "code"]


def setup_source(module: str) -> str:
    """The setup cell: the code cell that imports the questions (``from sadlib.course.exercises.nbXX import``)."""
    return next(s for s in code_cells(module) if f"course.exercises.{module} import" in s)


def answer_cells(module: str) -> dict[int, str]:
    """The answer cells (templates) by question number: the code cell with a line ``qN.check()``."""
    cells: dict[int, str] = {}
    for source in code_cells(module):
        for number in _CHECK_LINE.findall(source):
            assert int(number) not in cells, f"two answer cells for q{number} in {notebook_path(module).name}"
            cells[int(number)] = source
    return cells


def run_cell(source: str, ns: dict) -> str:
    """Execute a cell's code in ``ns`` as a kernel would (``In`` holds it); return what it printed."""
    ns.setdefault("In", [""]).append(source)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<cell>", "exec"), ns)
    return out.getvalue()


def setup_namespace(module: str) -> dict:
    """A fresh namespace after the committed notebook's setup cell (not the module's SETUP alone)."""
    ns: dict = {}
    run_cell(setup_source(module), ns)
    return ns
