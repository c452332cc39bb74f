"""The README's code for practitioners runs as written (on a generated CSV)."""

import re
from pathlib import Path

from sadlib import signals

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_own_sensors_example_runs(tmp_path, monkeypatch):
    text = README.read_text()
    block = re.search(r"## Using `sadlib` on your own sensors\s+```python\n(.*?)```", text, re.S).group(1)
    data = signals.make_normal(n_days=2, seed=0)
    data.index.name = "timestamp"
    data.to_csv(tmp_path / "my_pump.csv")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    alarms, test = namespace["alarms"], namespace["test"]
    assert alarms.shape == (len(test),) and alarms.dtype == bool
    assert alarms.mean() < 0.05  # normal data: few alarms


def test_benchmarks_readme_skab_tables_are_the_csvs():
    """The course rows of the SKAB tables in benchmarks/README.md are what make bench and make bench-alarms wrote."""
    import re

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    text = (root / "benchmarks" / "README.md").read_text(encoding="utf-8")
    rows, lines = {}, {}
    # a course row: detector, "this course", F1, the F1 sd column ("-" for a detector), FAR %, MAR %
    for m in re.finditer(r"^[ \t]+(\S+)[ \t]+this course\s+([\d.]+)\s+-\s+([\d.]+)\s+([\d.]+)", text, re.M):
        rows.setdefault(m.group(1), []).append(tuple(float(v) for v in m.groups()[1:]))
    # its random line: F1 mean, F1 sd, FAR %, MAR % over the shifted alarms
    for m in re.finditer(r"^[ \t]*random line of (\S+)[ \t]+trivial\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
                         text, re.M):
        lines.setdefault(m.group(1), []).append(tuple(float(v) for v in m.groups()[1:]))
    files = ("skab.csv", "skab_variants.csv", "skab_deep_margin.csv", "skab_conv_ae.csv", "skab_conv_ae_all.csv",
             "skab_alarms.csv")
    csv = pd.concat([pd.read_csv(root / "benchmarks" / f) for f in files])
    assert set(rows) == set(csv["detector"])
    assert set(lines) == set(csv["detector"]), "every course row has its random line in the README's tables"
    for _, r in csv.iterrows():
        expected = (round(r.f1, 3), round(r.far, 2), round(r.mar, 2))
        assert expected in rows[r.detector], f"row for {r.detector} is not in the CSVs: {rows[r.detector]}"
        line = (round(r.random_f1, 3), round(r.random_f1_std, 3), round(r.random_far, 2), round(r.random_mar, 2))
        assert line in lines[r.detector], f"random line of {r.detector} is not in the CSVs: {lines[r.detector]}"


def _tables(text: str) -> list[list[list[str]]]:
    """The README's tables as Markdown renders them: a list of tables, each a list of rows of cell texts."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables, row, cell = [], None, None
    for tok in tokens:
        if tok.type == "table_open":
            tables.append([])
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            tables[-1].append(row)
        elif tok.type in ("th_open", "td_open"):
            cell = []
        elif tok.type in ("th_close", "td_close"):
            row.append("".join(cell).strip())
        elif tok.type == "inline" and cell is not None and row is not None:
            cell.append(tok.content)
    return tables


def test_readme_syllabus_renders_as_one_table_with_every_notebook():
    """A blank line inside a Markdown table ends it: the rows after it render as raw text."""
    root = Path(__file__).resolve().parents[1]
    text = README.read_text(encoding="utf-8")
    syllabus = [t for t in _tables(text) if t and t[0][:2] == ["#", "notebook"]]
    assert len(syllabus) == 1, "the syllabus must be one Markdown table (no blank lines between its rows)"
    numbers = [r[0] for r in syllabus[0][1:]]
    notebooks = sorted(p.name[:2] for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert numbers == notebooks, f"syllabus rows {numbers} != notebooks {notebooks}"
    # no line that looks like a table row is left outside a rendered table
    table_lines = sum(len(t) + 1 for t in _tables(text))  # rows + the delimiter line
    looks_like_rows = [ln for ln in text.splitlines() if ln.startswith("|")]
    assert len(looks_like_rows) == table_lines, "a '|' row of the README is not part of a rendered table"


def test_readme_is_a_short_front_door():
    """Issue 20: at most 150 lines; the benchmark and goal tables live in benchmarks/README.md."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150, f"README.md has {len(text.splitlines())} lines; move detail elsewhere"
    assert "<!-- timings -->" not in text and "this course 0." not in text


def test_readme_headline_numbers_come_from_the_benchmark_csvs():
    """The first results a newcomer reads are the reproduced Conv-AE and honestly chosen detectors, from the CSVs."""
    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    text = README.read_text(encoding="utf-8")
    glance = [t for t in _tables(text) if t and t[0][:2] == ["detector", "F1"]]
    assert len(glance) == 1, "the README needs one 'numbers at a glance' table"
    rows = {r[0]: tuple(float(v) for v in r[1:4]) for r in glance[0][1:]}
    csv = pd.concat([pd.read_csv(root / "benchmarks" / f) for f in ("skab_conv_ae.csv", "skab_alarms.csv")])
    course_rows = {name: values for name, values in rows.items() if "leaderboard" not in name and "flag" not in name}
    assert len(course_rows) >= 3
    for name, values in course_rows.items():
        detector = name.split()[0].rstrip(":")
        r = csv[csv.detector == detector].iloc[0]
        assert values == (round(r.f1, 3), round(r.far, 2), round(r.mar, 2)), name
    assert "ma_z" not in rows  # a recipe selected on the test files is not a headline number
    lines = {r[0]: r[4] for r in glance[0][1:]}
    for name in course_rows:
        r = csv[csv.detector == name.split()[0].rstrip(":")].iloc[0]
        assert lines[name] == f"{r.random_f1:.3f} ± {r.random_f1_std:.3f}", name
    # the sentence under the table: on SKAB no detector is 2 sd above its own random line
    every = pd.concat([pd.read_csv(root / "benchmarks" / f) for f in (
        "skab.csv", "skab_variants.csv", "skab_deep_margin.csv", "skab_conv_ae.csv", "skab_conv_ae_all.csv",
        "skab_alarms.csv")])
    assert "no detector, the published Conv-AE included, is 2 sd above its\nown" in text
    assert ((every.f1 - every.random_f1) / every.random_f1_std).max() < 2


def test_readme_syllabus_question_counts_are_the_exercise_modules():
    """Each syllabus row's "N questions" is the number of questions its exercise module defines."""
    import importlib

    from sadlib.course.exercises.checker import questions

    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d\d) \| .*?\[(\d+) questions\]", text, flags=re.M)
    assert len(rows) == 12
    for number, count in rows:
        module = importlib.import_module(f"sadlib.course.exercises.nb{number}")
        assert int(count) == len(questions(module)), f"README says {count} questions for notebook {number}"
