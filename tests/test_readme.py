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
    """The course rows of the README's SKAB table are those `make bench` wrote to benchmarks/."""
    import re

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text(encoding="utf-8")
    rows = {}
    for m in re.finditer(r"^[ \t]+(\S+)[ \t]+this course\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text, re.M):
        rows.setdefault(m.group(1), []).append(tuple(float(v) for v in m.groups()[1:]))
    csv = pd.concat([pd.read_csv(root / "benchmarks" / f) for f in ("skab.csv", "skab_variants.csv", "skab_deep_margin.csv")])
    assert set(rows) == set(csv["detector"])
    for _, r in csv.iterrows():
        expected = (round(r.f1, 3), round(r.far, 2), round(r.mar, 2))
        assert expected in rows[r.detector], f"README row for {r.detector} is not in benchmarks/: {rows[r.detector]}"
