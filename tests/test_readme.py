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


def test_readme_skab_table_is_the_one_in_benchmarks():
    """The course rows of the README's SKAB tables are those `make bench` and `make bench-alarms` wrote."""
    import re

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text(encoding="utf-8")
    rows = {}
    for m in re.finditer(r"^[ \t]+(\S+)[ \t]+this course\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.M):
        rows.setdefault(m.group(1), []).append(tuple(float(v) for v in m.groups()[1:]))
    files = ("skab.csv", "skab_variants.csv", "skab_deep_margin.csv", "skab_conv_ae.csv", "skab_conv_ae_all.csv",
             "skab_alarms.csv")
    csv = pd.concat([pd.read_csv(root / "benchmarks" / f) for f in files])
    assert set(rows) == set(csv["detector"])
    for _, r in csv.iterrows():
        expected = (round(r.f1, 3), round(r.far, 2), round(r.mar, 2))
        assert expected in rows[r.detector], f"README row for {r.detector} is not in benchmarks/: {rows[r.detector]}"


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
