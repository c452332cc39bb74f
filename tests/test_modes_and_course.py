import json

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from sadlib import course
from sadlib.course import environment, modes, runner
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
    assert runner.main([str(tmp_path), "--update-headers", "--readme", str(readme)]) == 0
    saved = json.loads(path.read_text())
    assert "".join(saved["cells"][1]["outputs"][0]["text"]) == "42\n"
    assert "Measured run time** (fast mode" in "".join(saved["cells"][0]["source"])
    text = readme.read_text()
    assert "old" not in text and "01_t.ipynb" in text and text.endswith("y\n")


def test_course_runner_reports_failures(tmp_path):
    nb = new_notebook(cells=[new_code_cell("1 / 0")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "bad.ipynb")
    assert runner.main([str(tmp_path)]) == 1


def test_timing_table_total():
    table = runner.timing_table([("a.ipynb", 30.0), ("b.ipynb", 120.0)])
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


# --------------------------------------------------------------------------- claims
def test_claim_prints_a_tick_and_raises_when_false(monkeypatch, capsys):
    monkeypatch.delenv("SADLIB_FAST", raising=False)
    monkeypatch.setenv("SADLIB_STRICT_CLAIMS", "1")
    assert course.claim(np.float64(0.8) > 0.5, "the model beats chance") is None  # nothing to display
    assert "\u2713 claim: the model beats chance" in capsys.readouterr().out
    with pytest.raises(course.ClaimError, match="the model beats chance"):
        course.claim(0.3 > 0.5, "the model beats chance")
    # full_only claims are checked in full mode too
    with pytest.raises(course.ClaimError):
        course.claim(False, "holds at full size", full_only=True)


def test_claim_full_only_is_skipped_and_said_in_fast_mode(monkeypatch, capsys):
    monkeypatch.setenv("SADLIB_FAST", "1")
    monkeypatch.setenv("SADLIB_STRICT_CLAIMS", "1")
    course.claim(False, "holds at full size", full_only=True)
    assert "checked in full mode only" in capsys.readouterr().out
    with pytest.raises(course.ClaimError):  # claims without full_only are checked in fast mode as well
        course.claim(False, "holds at any size")


@pytest.mark.parametrize("fast", [None, "1"])
def test_a_false_claim_on_a_learners_run_prints_one_quiet_line_and_goes_on(monkeypatch, capsys, fast):
    """Without SADLIB_STRICT_CLAIMS (a learner's laptop, Colab) a false claim never stops Run All."""
    monkeypatch.delenv("SADLIB_STRICT_CLAIMS", raising=False)
    if fast:
        monkeypatch.setenv("SADLIB_FAST", fast)
    else:
        monkeypatch.delenv("SADLIB_FAST", raising=False)
    assert course.claim(False, "the model beats chance") is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "differs from the course's committed run" in out
    assert "the model beats chance" in out and "Rewrite" not in out
    monkeypatch.setenv("SADLIB_STRICT_CLAIMS", "0")
    course.claim(False, "still quiet")
    assert "differs" in capsys.readouterr().out


def test_the_runner_and_the_makefile_make_claims_strict():
    """make course and make test (so CI) turn a false claim into a failure; a learner's run does not."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    course_line = next(ln for ln in makefile.splitlines() if "-m sadlib.course " in ln)
    test_line = next(ln for ln in makefile.splitlines() if "-m pytest -n" in ln)
    assert "SADLIB_STRICT_CLAIMS=1" in course_line and "SADLIB_STRICT_CLAIMS=1" in test_line


def test_claim_rejects_arrays_and_empty_sentences():
    with pytest.raises(TypeError, match=r"\.all\(\)"):
        course.claim(np.array([True, False]), "x")
    with pytest.raises(TypeError, match="condition must be a bool"):
        course.claim(None, "x")
    with pytest.raises(TypeError, match="sentence"):
        course.claim(True, "  ")


def test_course_runner_fails_on_a_false_claim_and_counts_true_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SADLIB_FAST", raising=False)
    monkeypatch.delenv("SADLIB_STRICT_CLAIMS", raising=False)  # the runner sets it for its kernels
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    good = new_notebook(cells=[new_code_cell("from sadlib.course import claim\nclaim(2 > 1, 'two beats one')")],
                        metadata=meta)
    bad = new_notebook(cells=[new_code_cell("from sadlib.course import claim\nclaim(1 > 2, 'one beats two')")],
                       metadata=meta)
    nbformat.write(good, tmp_path / "a_good.ipynb")
    nbformat.write(bad, tmp_path / "b_bad.ipynb")
    assert runner.main([str(tmp_path / "a_good.ipynb")]) == 0
    assert "1 claims checked" in capsys.readouterr().out
    assert runner.main([str(tmp_path)]) == 1
    assert "a claim in the text is false" in capsys.readouterr().out


def test_timing_table_with_claims():
    table = runner.timing_table([("a.ipynb", 30.0, 3), ("b.ipynb", 120.0, 4)])
    assert "| `a.ipynb` | 30 s | 3 |" in table and "| **total** | 2.5 min | 7 |" in table


def test_complex_input_is_rejected_not_truncated():
    """np.array(complex, dtype=float) silently keeps the real part; the course refuses instead."""
    with pytest.raises(TypeError, match="imaginary part"):
        as_2d_float(np.array([1 + 2j, 3 + 0j]))
    with pytest.raises(TypeError, match="imaginary part"):
        as_2d_float(pd.DataFrame({"a": [1 + 1j, 2 + 0j], "b": [1.0, 2.0]}))
    with pytest.raises(TypeError, match="imaginary part"):
        as_1d_float([1j, 2j])


def test_python_m_sadlib_course_runs_the_runner():
    """``python -m sadlib.course`` (the Makefile's ``make course``) reaches the runner's command line."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "sadlib.course", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "usage: python -m sadlib.course" in run.stdout and "--update-headers" in run.stdout


def test_timing_table_with_medians_and_load():
    rows = [("a.ipynb", 30.0, 3), ("b.ipynb", 120.0, 4)]
    table = runner.timing_table(rows, runs={"a.ipynb": [29.0, 30.0, 41.0], "b.ipynb": [118.0, 120.0, 125.0]},
                                loads={"a.ipynb": (1.94, 2.5), "b.ipynb": (None, 0.5)})
    lines = table.splitlines()
    assert lines[0] == "| notebook | median of 3 runs | fastest - slowest | load before / after | claims checked |"
    assert lines[2] == "| `a.ipynb` | 30 s | 29 s - 41 s | 1.9 / 2.5 | 3 |"
    assert lines[3] == "| `b.ipynb` | 2.0 min | 2.0 min - 2.1 min | n/a / 0.5 | 4 |"
    assert lines[4] == "| **total** | 2.5 min |  |  | 7 |"
    assert runner.timing_table(rows, loads={"a.ipynb": (1.0, 1.0)}).splitlines()[0] == \
        "| notebook | wall time | load before / after | claims checked |"


def test_course_runner_repeats_and_reports_the_median_and_the_load(tmp_path, monkeypatch, capsys):
    from sadlib.course import doctor

    monkeypatch.setenv("SADLIB_FAST", "1")
    nb = new_notebook(cells=[new_code_cell("import time\ntime.sleep(0.2)\nprint('ok')")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "01_t.ipynb"
    nbformat.write(nb, path)
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- timings -->\nold\n<!-- /timings -->\n")
    seconds = iter([3.0, 9.0, 4.0])
    real = runner.run_notebook

    def timed(p, timeout=1800):
        nb_run, _ = real(p, timeout)
        return nb_run, next(seconds)  # the runner's own clock is tested above; here the median is

    monkeypatch.setattr(runner, "run_notebook", timed)
    assert runner.main([str(path), "--repeat", "3", "--readme", str(readme)]) == 0
    out = capsys.readouterr().out
    assert "3 runs each (median)" in out and "4 s (median of 3: 3 s - 9 s), load " in out
    text = readme.read_text()
    assert "the median of 3 runs per notebook" in text and "1-minute load average before / after" in text
    assert f"| `{path}` | 4 s | 3 s - 9 s | " in text
    assert doctor.course_times(readme) == {str(path): 4.0}  # the doctor reads the table the runner writes
    with pytest.raises(SystemExit):
        runner.main([str(path), "--repeat", "0"])
    assert "--repeat must be a whole number of runs >= 1, got 0" in capsys.readouterr().err
