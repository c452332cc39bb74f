import json

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from sadlib import course, environment, modes
from sadlib.validation import as_1d_float, as_2d_float, as_labels, check_time_index


@pytest.mark.parametrize("value, fast", [("1", True), ("yes", True), ("0", False), ("", False), ("off", False)])
def test_fast_mode_switch(monkeypatch, value, fast):
    monkeypatch.setenv("SADLIB_FAST", value)
    assert modes.is_fast() is fast
    assert modes.choose(full=10, fast=2) == (2 if fast else 10)
    assert modes.describe().startswith("FAST" if fast else "FULL")


def test_fast_mode_unset(monkeypatch):
    monkeypatch.delenv("SADLIB_FAST", raising=False)
    assert modes.choose(full="big", fast="small") == "big"


def test_environment_versions_without_deep_learning():
    v = environment.versions(deep=False)
    assert v["numpy"] == np.__version__ and "tensorflow" not in v
    assert "CPU cores" in environment.report(deep=False)


def test_course_runner_executes_and_writes_runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("SADLIB_FAST", "1")
    nb = new_notebook(
        cells=[new_markdown_cell("# T\n<!-- runtime --><!-- /runtime -->"), new_code_cell("print(6 * 7)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path / "01_t.ipynb"
    nbformat.write(nb, path)
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- timings -->\nold\n<!-- /timings -->\ny\n")
    assert course.main([str(tmp_path), "--update-headers", "--readme", str(readme)]) == 0
    saved = json.loads(path.read_text())
    assert "".join(saved["cells"][1]["outputs"][0]["text"]) == "42\n"
    assert "Measured run time** (fast mode" in "".join(saved["cells"][0]["source"])
    text = readme.read_text()
    assert "old" not in text and "01_t.ipynb" in text and text.endswith("y\n")


def test_course_runner_reports_failures(tmp_path):
    nb = new_notebook(cells=[new_code_cell("1 / 0")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "bad.ipynb")
    assert course.main([str(tmp_path)]) == 1


def test_timing_table_total():
    table = course.timing_table([("a.ipynb", 30.0), ("b.ipynb", 120.0)])
    assert "| `b.ipynb` | 2.0 min |" in table and "| **total** | 2.5 min |" in table


def test_validation_messages_name_the_fix():
    with pytest.raises(ValueError, match="interpolate"):
        as_2d_float([1.0, np.nan])
    with pytest.raises(ValueError, match="one value per sample"):
        as_1d_float(np.ones((3, 2)))
    with pytest.raises(ValueError, match="binary"):
        as_labels([0, 2, 1])
    with pytest.raises(ValueError, match="but the scores have 4"):
        as_labels([0, 1, 1], n=4)
    idx = pd.DatetimeIndex(["2024-01-01", "2024-01-01", "2024-01-02"])
    with pytest.raises(ValueError, match="duplicate timestamps"):
        check_time_index(idx)
    # bool columns are not sensor values
    with pytest.raises(TypeError, match="non-numeric"):
        as_2d_float(pd.DataFrame({"flag": [True, False]}))
