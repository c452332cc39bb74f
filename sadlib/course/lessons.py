"""The shape of a lesson notebook: its core path, its "Your turn" moments and its hidden claim cells.

A teaching notebook has two parts:

* the **core path**, what a workshop teaches: every cell before a markdown cell that starts with
  ``## Going further``. Its prose (markdown, fenced code left out) holds at most
  :data:`CORE_PATH_WORDS` words;
* **Going further**, optional, taught in the two-day plan or self-paced.

Numbered sections of the core path (``## 1. ...``) open with a line that starts with ``**You will**``
(what the learner will be able to do) and end with a line that starts with ``**Takeaway:**``.

A "Your turn" moment is a markdown cell with a line that starts with ``**Your turn N`` (N = 1, 2, ...)
whose answer is folded in a ``<details>`` block, in the same cell or one of the next three cells.
The instructor page of the notebook has a sticky-note cue for each one: a line that names
``Your turn N`` and says ``sticky``.

Claim checks (:mod:`sadlib.course.claims`) sit in code cells tagged ``claims`` and ``remove-cell``,
collapsed in JupyterLab (``source_hidden`` and ``outputs_hidden``) and left out of the site.
These functions are what ``tests/test_learner_path.py`` checks; ``python -m sadlib.course.lessons``
prints the numbers for every notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["CORE_PATH_WORDS", "CLAIMS_TAGS", "load", "core_cells", "going_further_index", "prose_words",
           "core_path_words", "your_turns", "teaching_cells_with_claims", "claims_cells_not_hidden",
           "history_sentences", "sections_missing_goal_or_takeaway"]

CORE_PATH_WORDS = 2000
CLAIMS_TAGS = ("claims", "remove-cell")
GOING_FURTHER = re.compile(r"^##\s+Going further", re.M)
YOUR_TURN = re.compile(r"^\*\*Your turn (\d+)", re.M)
SECTION = re.compile(r"^##\s+\d+\.", re.M)
HISTORY = re.compile(
    r"earlier versions? of|previous versions? of|older versions? of|an earlier version|the course used to|"
    r"this course used to|this notebook used to|we used to|used to be (?:computed|counted|split)|"
    r"changelog|in the last release|was changed to", re.I)
WORD = re.compile(r"[A-Za-z0-9][\w'’.%/-]*")


def load(path: str | Path) -> dict[str, Any]:
    """Read a notebook as JSON."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    return "".join(cell.get("source", []))


def going_further_index(nb: dict) -> int:
    """Index of the ``## Going further`` cell, or the number of cells when there is none."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown" and GOING_FURTHER.search(_source(cell)):
            return i
    return len(nb["cells"])


def core_cells(nb: dict) -> list[dict]:
    """The cells of the core path: everything before ``## Going further``."""
    return nb["cells"][:going_further_index(nb)]


def prose_words(text: str) -> int:
    """Words of prose in a markdown text: fenced code, HTML tags and link targets are not counted."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return len(WORD.findall(text))


def core_path_words(nb: dict) -> int:
    """Words of prose in the markdown cells of the core path."""
    return sum(prose_words(_source(c)) for c in core_cells(nb) if c["cell_type"] == "markdown")


def your_turns(nb: dict, *, core_only: bool = True) -> list[tuple[int, int, bool]]:
    """``(cell index, N, has a folded answer)`` for each "Your turn N" of the notebook (core path by default)."""
    cells = core_cells(nb) if core_only else nb["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for match in YOUR_TURN.finditer(_source(cell)):
            answered = any("<details>" in _source(c) for c in nb["cells"][i:i + 4] if c["cell_type"] == "markdown")
            found.append((i, int(match.group(1)), answered))
    return found


def _is_claims_cell(cell: dict) -> bool:
    return "claims" in cell.get("metadata", {}).get("tags", [])


def teaching_cells_with_claims(nb: dict) -> list[int]:
    """Indices of code cells a learner reads (not tagged ``claims``) that call ``claim(`` or import it."""
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and not _is_claims_cell(c)
            and re.search(r"\bclaim\(|import claim\b", _source(c))]


def claims_cells_not_hidden(nb: dict) -> list[int]:
    """Indices of ``claims`` cells that lack ``remove-cell`` or are not collapsed in JupyterLab."""
    bad = []
    for i, cell in enumerate(nb["cells"]):
        if not _is_claims_cell(cell):
            continue
        meta = cell.get("metadata", {})
        jupyter = meta.get("jupyter", {})
        if not (set(CLAIMS_TAGS) <= set(meta.get("tags", [])) and jupyter.get("source_hidden")
                and jupyter.get("outputs_hidden")):
            bad.append(i)
    return bad


def history_sentences(nb: dict) -> list[str]:
    """Sentences of the notebook's markdown that tell the course's history instead of teaching."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found += [m.group(0) for m in HISTORY.finditer(_source(cell))]
    return found


def sections_missing_goal_or_takeaway(nb: dict) -> list[str]:
    """Numbered core-path sections without a ``**You will**`` opener or a ``**Takeaway:**`` line."""
    cells = [c for c in core_cells(nb) if c["cell_type"] == "markdown"]
    starts = [i for i, c in enumerate(cells) if SECTION.search(_source(c))]
    problems = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(cells)
        title = next(line for line in _source(cells[start]).splitlines() if SECTION.match(line))
        body = [_source(c) for c in cells[start:end]]
        if not re.search(r"^\*\*You will\b", body[0], re.M):
            problems.append(f"{title}: no '**You will** ...' line in the section's first cell")
        if not any(re.search(r"^\*\*Takeaway:\*\*", b, re.M) for b in body):
            problems.append(f"{title}: no '**Takeaway:** ...' line")
    return problems


def _main() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = load(path)
        turns = your_turns(nb)
        print(f"{path.name:42s} core path {core_path_words(nb):5d} words, {len(turns)} Your turn, "
              f"{len(teaching_cells_with_claims(nb))} teaching cells with claims, "
              f"{len(sections_missing_goal_or_takeaway(nb))} section problems, "
              f"{len(history_sentences(nb))} history")


if __name__ == "__main__":
    _main()
