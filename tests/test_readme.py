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
