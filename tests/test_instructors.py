"""instructors/: minutes per section measured from the notebooks, and schedules that cannot go stale."""

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("instructors_schedule", ROOT / "instructors" / "schedule.py")
schedule = importlib.util.module_from_spec(spec)
spec.loader.exec_module(schedule)

PAGE_HEADINGS = ("## Minutes per section", "## Talking points", "## Answers", "## Errors learners make",
                 "## What to cut", "## Discussion question")


def _code(source, start="2026-01-01T10:00:00.000000Z", end="2026-01-01T10:00:02.500000Z", outputs=()):
    return {"cell_type": "code", "source": source, "outputs": list(outputs),
            "metadata": {"execution": {"iopub.execute_input": start, "shell.execute_reply": end}}}


def _md(source):
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def _tiny_notebook():
    return {"cells": [
        _md("# 99 · Tiny\n\nTwo words <!-- not counted --> [link](http://not.counted)"),
        _code("import os  # setup\n\n# a comment\nprint(os.sep)"),
        _md("## 1. First part\n\none two three"),
        _code("x = 1\nclaim(bool(x == 1),\n      'x is one')\ny = x + 1",
              outputs=[{"output_type": "display_data", "data": {"image/png": "AAAA"}}]),
        _md("### A subsection\n\nfour five\n\n## 2. Second part\n\nsix"),
        _code("%pip install nothing\nz = 3", end="2026-01-01T10:01:00.000000Z",
              outputs=[{"output_type": "execute_result", "data": {"text/html": "<table></table>"}}]),
        _md("## Key points\n\n* seven"),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_sections_split_and_measure_a_notebook():
    parts = schedule.sections(_tiny_notebook(), "tiny.ipynb")
    assert [p["key"] for p in parts] == ["intro", "1", "2", "key points"]
    intro, first, second, key = parts
    assert intro["words"] == 5  # "99 · Tiny" is 2 words ("·" has no letter), "Two words", "link"
    assert intro["code_lines"] == 2 and intro["run_s"] == 2.5
    assert first["title"] == "First part"
    # headings are said aloud too; the subsection belongs to section 1; the claim call is not typed
    assert first["words"] == 6 + 4 and first["code_lines"] == 2 and first["outputs"] == 1
    assert second["words"] == 4 and second["code_lines"] == 2 and second["outputs"] == 1
    assert second["run_s"] == 60.0
    assert key["words"] == 3


def test_a_code_cell_without_timestamps_is_refused_with_the_fix():
    nb = _tiny_notebook()
    del nb["cells"][3]["metadata"]["execution"]
    with pytest.raises(ValueError, match="--measure"):
        schedule.sections(nb, "tiny.ipynb")


def test_live_costs_more_than_shown_and_skip_costs_nothing():
    rates = schedule.check_rates(schedule.load_plan()["rates"])
    part = {"words": 200, "code_lines": 10, "outputs": 2, "run_s": 120.0}
    live, shown = schedule.section_minutes(part, "live", rates), schedule.section_minutes(part, "show", rates)
    assert live > shown > 0 and schedule.section_minutes(part, "skip", rates) == 0
    assert live - shown == pytest.approx(10 * (rates["live_minutes_per_line"] - rates["show_minutes_per_line"]))


def _notebook_sections():
    """(notebook stem, number, title) of every '## N. title' heading, read independently of schedule.py."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                for m in re.finditer(r"^## +(\d+)\.\s+(.+?)\s*$", "".join(cell["source"]), re.M):
                    found.append((path.stem, m.group(1), m.group(2)))
    return found


def test_every_numbered_section_of_every_notebook_has_minutes():
    minutes = schedule.load_minutes()
    found = _notebook_sections()
    assert len({nb for nb, _, _ in found}) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    for nb, number, title in found:
        entry = {p["key"]: p for p in minutes[nb]["sections"]}
        assert number in entry, f"{nb} section {number} ({title}) has no entry in instructors/minutes.json"
        assert entry[number]["title"] == title
        assert entry[number]["live_min"] >= entry[number]["show_min"] > 0


def test_minutes_json_matches_the_notebooks():
    problems = schedule.stale(schedule.load_minutes(), schedule.measure_all())
    assert not problems, "run python instructors/schedule.py --update:\n" + "\n".join(problems)


def test_stale_finds_a_changed_notebook_and_tolerates_a_rerun():
    current = schedule.measure_all()
    assert schedule.stale(current, current) == []
    rerun = copy.deepcopy(current)
    # the slowest section of the course (a notebook that gets faster must not disarm this test)
    part = max((p for entry in rerun.values() for p in entry["sections"]), key=lambda p: p["run_s"])
    assert part["run_s"] > 20
    part["run_s"] *= 1.2  # a rerun on the same machine: seconds move a little
    assert schedule.stale(current, rerun) == []
    part["run_s"] *= 3  # a model that became much slower
    assert any("code ran" in p for p in schedule.stale(current, rerun))
    edited = copy.deepcopy(current)
    edited["02_evaluating_detectors"]["sections"][2]["words"] += 40
    edited["02_evaluating_detectors"]["sections"].append(
        {"key": "9", "title": "New", "words": 1, "code_lines": 1, "outputs": 0, "run_s": 0.0})
    assert current["02_evaluating_detectors"]["planned"] == {"teaching": 50, "exercises": 30}  # from its header
    edited["02_evaluating_detectors"]["planned"] = {"teaching": 40, "exercises": 30}
    problems = schedule.stale(current, edited)
    assert any("words" in p for p in problems) and any("section 9" in p for p in problems)
    assert any("planned minutes" in p for p in problems)


def test_generated_schedules_and_pages_are_what_the_generator_writes():
    minutes, plan = schedule.load_minutes(), schedule.load_plan()
    for path, text in schedule.generated_files(minutes, plan).items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is stale: run python instructors/schedule.py --write")


def _rows(block):
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()
            if re.match(r"\| \d\d:\d\d \|", line)]


def _minutes_of(clock):
    h, m = clock.split(":")
    return int(h) * 60 + int(m)


@pytest.mark.parametrize("fmt", ["1-day", "2-day"])
def test_schedule_rows_follow_each_other_and_fit_the_day(fmt):
    plan = schedule.load_plan()
    text = schedule.schedule_markdown(schedule.load_minutes(), plan, fmt)
    days = re.split(r"\*\*(?:Day \d+|The day)\*\*", text)[1:]
    assert len(days) == len(plan["formats"][fmt]["days"])
    for day in days:
        rows = _rows(day)
        teaching = 0
        for (start, end, what, mins), nxt in zip(rows, rows[1:] + [None]):
            assert _minutes_of(end) - _minutes_of(start) == int(mins) and int(mins) % 5 == 0
            if nxt is not None:
                assert nxt[0] == end
            if "break" not in what and "lunch" not in what:
                teaching += int(mins)
        assert teaching <= plan["formats"][fmt]["teaching_minutes"]
        assert sum("lunch" in r[2] for r in rows) <= 1 and any("break" in r[2] or "lunch" in r[2] for r in rows)


def test_a_plan_that_overflows_the_day_is_refused():
    plan = copy.deepcopy(schedule.load_plan())
    fmt = plan["formats"]["1-day"]
    fmt["teaching_minutes"] = 60
    with pytest.raises(schedule.PlanError, match="more than the 60 min"):
        schedule.schedule_markdown(schedule.load_minutes(), plan, "1-day")


def test_a_plan_naming_a_missing_section_is_refused():
    plan = copy.deepcopy(schedule.load_plan())
    plan["formats"]["1-day"]["days"][0]["blocks"][0]["sections"] = {"42": "live"}
    with pytest.raises(schedule.PlanError, match="sections \\['42'\\] are not in"):
        schedule.schedule_markdown(schedule.load_minutes(), plan, "1-day")


def test_every_notebook_page_has_its_parts():
    pages = {p.stem for p in (ROOT / "instructors").glob("[0-9][0-9]_*.md")}
    notebooks = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert pages == notebooks, f"pages without a notebook: {sorted(pages - notebooks)}; notebooks without a page: "\
                               f"{sorted(notebooks - pages)}"
    for stem in sorted(pages):
        text = (ROOT / "instructors" / f"{stem}.md").read_text(encoding="utf-8")
        for heading in PAGE_HEADINGS:
            assert heading in text, f"instructors/{stem}.md lacks the part {heading!r}"
        assert "<!-- minutes -->" in text


def test_measure_runs_a_notebook_and_records_its_cells(tmp_path):
    pytest.importorskip("nbclient")
    nb = _tiny_notebook()
    nb["cells"] = [_md("# 99 · Tiny"), _md("## 1. Sleep"),
                   {"cell_type": "code", "source": "import time\ntime.sleep(0.3)", "outputs": [], "metadata": {},
                    "execution_count": None}]
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i}"
    nb["metadata"] = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    path = tmp_path / "99_tiny.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    executed = schedule.execute(path, timeout=120)
    parts = schedule.sections(executed, str(path))
    assert [p["key"] for p in parts] == ["intro", "1"]
    assert parts[1]["run_s"] >= 0.3


def test_the_formula_on_the_page_follows_the_rates():
    plan = copy.deepcopy(schedule.load_plan())
    plan["rates"]["words_per_minute"] = 130
    assert "words / 130 " in schedule.formula_markdown(plan)
    del plan["rates"]["minutes_per_question"]
    with pytest.raises(schedule.PlanError, match="minutes_per_question"):
        schedule.formula_markdown(plan)


def test_every_table_of_the_instructor_pages_renders():
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    for path in sorted((ROOT / "instructors").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        written = sum(1 for line in text.splitlines() if line.startswith("|---"))
        rendered = sum(token.type == "table_open" for token in md.parse(text))
        assert written == rendered, f"{path.name}: {written} tables written, {rendered} render"


def _made_up(sections, questions=2):
    """A minutes.json with one made-up notebook ``99`` of the given sections (words only)."""
    parts = [{"key": k, "title": k, "words": w, "code_lines": 0, "outputs": 0, "run_s": 0.0, "your_turns": t}
             for k, w, t in sections]
    return {"99_tiny.ipynb": {"title": "Tiny", "file": "notebooks/99_tiny.ipynb", "sections": parts,
                              "exercises": {"questions": questions, "run_s": 0.0, "file": "x"}}}


def _made_up_plan(blocks, max_passive=45):
    plan = copy.deepcopy(schedule.load_plan())
    plan["rates"]["words_per_minute"] = 100
    plan["rates"]["minutes_per_your_turn"] = 0  # the made-up sections hold words only
    plan["formats"] = {"t": {"teaching_minutes": 360, "start": "09:00", "break_every": 90, "break_minutes": 15,
                             "lunch_after": 150, "lunch_minutes": 60, "max_passive_minutes": max_passive,
                             "days": [{"blocks": blocks}]}}
    return plan


def test_a_plan_with_a_long_passive_stretch_is_refused_and_a_your_turn_fixes_it():
    # two sections of 30 min each (3,000 words at 100 words a minute), no exercise and no Your turn in between
    minutes = _made_up([("1", 3000, 0), ("2", 3000, 0)])
    plan = _made_up_plan([{"notebook": "99", "exercises": "none"}])
    with pytest.raises(schedule.PlanError, match=r"listen for about 60 min .*\(at most 45 min\)"):
        schedule.schedule_markdown(minutes, plan, "t")
    # one Your turn in the middle of section 2: 30 + 15 min, then 15 min after it
    text = schedule.schedule_markdown(_made_up([("1", 3000, 0), ("2", 3000, 1)]), plan, "t")
    assert "99 · Tiny" in text
    # an exercise block in between ends the stretch too
    plan = _made_up_plan([{"notebook": "99", "sections": {"2": "skip"}, "exercises": [1]},
                          {"notebook": "99", "sections": {"1": "skip"}, "exercises": "none"}])
    assert "99 exercises (question 1)" in schedule.schedule_markdown(minutes, plan, "t")


def test_a_your_turn_costs_minutes_and_going_further_is_skipped_unless_named():
    rates = schedule.check_rates({**schedule.load_plan()["rates"], "minutes_per_your_turn": 3})
    part = {"words": 0, "code_lines": 0, "outputs": 0, "run_s": 0.0, "your_turns": 2}
    assert schedule.section_minutes(part, "show", rates) == 6
    minutes = _made_up([("1", 1000, 0), ("going further", 40000, 0)])
    plan = _made_up_plan([{"notebook": "99", "exercises": "none"}])
    assert "10 |" in schedule.schedule_markdown(minutes, plan, "t")  # §1 alone: 10 min
    plan = _made_up_plan([{"notebook": "99", "sections": {"going further": "show"}, "exercises": "none"}],
                         max_passive=10_000)
    with pytest.raises(schedule.PlanError, match="more than the 360 min"):
        schedule.schedule_markdown(minutes, plan, "t")


def test_an_activity_block_is_scheduled_and_ends_a_passive_stretch():
    minutes = _made_up([("1", 4000, 0), ("2", 4000, 0)])
    plan = _made_up_plan([{"notebook": "99", "sections": {"2": "skip"}, "exercises": "none"},
                          {"activity": "Feedback: sticky notes", "minutes": 10},
                          {"notebook": "99", "sections": {"1": "skip"}, "exercises": "none"}])
    text = schedule.schedule_markdown(minutes, plan, "t")
    assert "| 09:40 | 09:50 | Feedback: sticky notes | 10 |" in text
    plan["formats"]["t"]["days"][0]["blocks"][1]["minutes"] = 0
    with pytest.raises(Exception, match="minutes"):
        schedule.schedule_markdown(minutes, plan, "t")
