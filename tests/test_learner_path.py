"""The learner's path through each notebook (issue: a course a learner finishes).

Checked on the committed notebooks, with :mod:`sadlib.course.lessons`:

* the core path (everything before ``## Going further``) holds at most 2,000 words of prose;
* no notebook tells the course's history ("an earlier version of this notebook ...");
* no code cell a learner reads calls ``claim(``: the checks sit in hidden ``claims`` cells, collapsed in
  JupyterLab and left out of the site;
* notebooks 01–11 each have at least three "Your turn" moments with a folded answer, and the instructor
  page has a sticky-note cue for each;
* numbered sections open with what the learner will be able to do and end with a takeaway;
* exercise notebooks 01–11 each have at least three questions in which the learner writes a method.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from sadlib.course import lessons
from sadlib.course.exercises.checker import FunctionQuestion, questions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LESSONS = [p for p in NOTEBOOKS if p.name[:2] != "00"]


def _id(path: Path) -> str:
    return path.name[:2]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_core_path_is_at_most_2000_words(path):
    words = lessons.core_path_words(lessons.load(path))
    assert words <= lessons.CORE_PATH_WORDS, (
        f"{path.name}: the core path holds {words} words of prose (at most {lessons.CORE_PATH_WORDS}); move "
        "what a workshop does not need under '## Going further', to the instructor page or to benchmarks/README.md")


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((ROOT / "exercises").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_course_history(path):
    assert lessons.history_sentences(lessons.load(path)) == [], (
        f"{path.name} tells the course's history; a first-time reader needs only what is true now")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_claims_stay_out_of_the_learners_cells(path):
    nb = lessons.load(path)
    assert lessons.teaching_cells_with_claims(nb) == [], (
        f"{path.name}: cells {lessons.teaching_cells_with_claims(nb)} call claim( where the learner reads; "
        "move the checks to a code cell tagged 'claims' and 'remove-cell' right after the result")
    assert lessons.claims_cells_not_hidden(nb) == [], (
        f"{path.name}: claims cells {lessons.claims_cells_not_hidden(nb)} must carry the tags 'claims' and "
        "'remove-cell' and metadata jupyter.source_hidden and jupyter.outputs_hidden")


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_three_your_turn_moments_with_answers_and_sticky_notes(path):
    nb = lessons.load(path)
    turns = lessons.your_turns(nb)
    numbers = [n for _, n, _ in turns]
    assert len(turns) >= 3, f"{path.name}: {len(turns)} 'Your turn' moments in the core path, at least 3 wanted"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: Your turn numbers {numbers} are not 1, 2, ..."
    unanswered = [n for _, n, answered in turns if not answered]
    assert not unanswered, f"{path.name}: Your turn {unanswered} has no folded <details> answer"
    page = (ROOT / "instructors" / f"{path.stem}.md").read_text(encoding="utf-8")
    for n in numbers:
        assert any(f"Your turn {n}" in line and "sticky" in line.lower() for line in page.splitlines()), (
            f"instructors/{path.stem}.md has no sticky-note cue for Your turn {n}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_sections_open_with_a_goal_and_end_with_a_takeaway(path):
    assert lessons.sections_missing_goal_or_takeaway(lessons.load(path)) == []


@pytest.mark.parametrize("number", [f"{n:02d}" for n in range(1, 12)])
def test_three_questions_in_which_the_learner_writes_a_method(number):
    module = importlib.import_module(f"sadlib.course.exercises.nb{number}")
    written = [q.label for q in questions(module) if isinstance(q, FunctionQuestion) and q.method]
    assert len(written) >= 3, (
        f"exercises nb{number}: {written} ask the learner to write a method (FunctionQuestion(method=...)); "
        "at least 3 wanted")


def test_the_rules_catch_what_they_should():
    cell = lambda kind, text, **meta: {"cell_type": kind, "source": [text], "metadata": meta, "outputs": []}  # noqa: E731
    nb = {"cells": [
        cell("markdown", "## 1. A section\n**You will** do a thing.\n\nAn earlier version of this notebook split."),
        cell("code", "x = 1\nclaim(x == 1, 'x is one')"),
        cell("code", "claim(True, 'ok')", tags=["claims"]),
        cell("markdown", "**Your turn 1** — predict.\n<details><summary>Answer</summary>one</details>"),
        cell("markdown", "**Takeaway:** one line."),
        cell("markdown", "## Going further\n" + "word " * 3000),
    ]}
    assert lessons.teaching_cells_with_claims(nb) == [1]
    assert lessons.claims_cells_not_hidden(nb) == [2]
    assert lessons.history_sentences(nb) == ["An earlier version"]
    assert lessons.your_turns(nb) == [(3, 1, True)]
    assert lessons.sections_missing_goal_or_takeaway(nb) == []
    assert lessons.core_path_words(nb) < 30
    nb["cells"][0]["source"] = ["## 1. A section\nNo goal."]
    assert len(lessons.sections_missing_goal_or_takeaway(nb)) == 1
