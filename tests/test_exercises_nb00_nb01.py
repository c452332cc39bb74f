"""Exercises of notebooks 00 and 01, checked the way a learner meets them.

* The committed exercise notebooks' template cells, run untouched in their own setup cell's
  namespace, print "Not attempted" for every question, and their prompts match the modules.
* nb00 Q2 asks to *compute* ``epochs`` with ``choose``: a typed-in number has the right value in
  either mode, so the check re-runs the learner's cell in the other mode. The hard-coded answer
  fails, the computed one passes, in both modes and in a real Jupyter kernel.
* Answers of the right kind pass (``np.int64`` where an int is asked, ``np.float64``/``np.float32``
  where a number is), answers of the wrong kind fail with a useful message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exercise_cells import answer_cells, cells, run_cell, setup_source

from sadlib.course.exercises import nb00, nb01, questions

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"nb00": nb00, "nb01": nb01}


def _status(printed):
    return printed.split(":")[0].strip()


@pytest.fixture(params=["full", "fast"])
def mode(request, monkeypatch):
    if request.param == "fast":
        monkeypatch.setenv("SADLIB_FAST", "1")
    else:
        monkeypatch.delenv("SADLIB_FAST", raising=False)
    return request.param


# ------------------------------------------------------------------------- the committed notebooks
@pytest.mark.parametrize("module", ["nb00", "nb01"])
def test_notebook_prompts_match_the_module(module):
    prompts = [c.source for c in cells(module) if c.cell_type == "markdown" and c.source.startswith("## Question")]
    assert prompts == [f"## Question {q.number}\n\n{q.prompt}" for q in questions(MODULES[module])]


@pytest.mark.parametrize("module", ["nb00", "nb01"])
def test_untouched_templates_print_not_attempted(module):
    ns: dict = {}
    run_cell(setup_source(module), ns)
    for q in questions(MODULES[module]):
        cell = answer_cells(module)[q.number]
        assert "____" in cell
        printed = run_cell(cell, ns)
        assert printed.startswith(f"Not attempted: Q{q.number}: not attempted yet"), printed


# ------------------------------------------------------------------------------------ nb00 Q2
def _answer(cell, answer):
    """The template cell with its blank replaced, as a learner would type it."""
    assert cell.count("____") == 1
    return cell.replace("____", answer)


@pytest.mark.parametrize("typed", ["50", "3", "np.int64(50)", "int('50')"])
def test_q2_hard_coded_epochs_fail_in_both_modes(mode, typed):
    ns: dict = {"np": np}
    run_cell(setup_source("nb00"), ns)
    value = {"full": 50, "fast": 3}[mode]
    cell = _answer(answer_cells("nb00")[2], typed)
    printed = run_cell(cell, ns)
    assert _status(printed) == "Incorrect", printed
    if int(eval(typed, {"np": np})) == value:  # the right value, typed in: the re-run in the other mode catches it
        assert "both modes" in printed and "choose(full=50, fast=3)" in printed


@pytest.mark.parametrize("code", [
    "choose(full=50, fast=3)",
    "np.int64(choose(full=50, fast=3))",  # an int of NumPy's kind is an int
    "3 if is_fast() else 50",  # any code that follows the mode
])
def test_q2_computed_epochs_pass_in_both_modes(mode, code):
    ns: dict = {"np": np}
    run_cell(setup_source("nb00"), ns)
    run_cell("from sadlib.course.modes import choose, is_fast", ns)
    printed = run_cell(_answer(answer_cells("nb00")[2], code), ns)
    assert _status(printed) == "Correct", printed
    assert ns["epochs"] == {"full": 50, "fast": 3}[mode]
    assert os.environ.get("SADLIB_FAST") == ("1" if mode == "fast" else None)  # the re-run restored the mode


def test_q2_wrong_values_and_code_in_another_cell(mode):
    ns: dict = {"np": np}
    run_cell(setup_source("nb00"), ns)
    run_cell("from sadlib.course.modes import choose", ns)
    wrong_fast = run_cell(_answer(answer_cells("nb00")[2], "choose(full=50, fast=5)"), ns)
    if mode == "fast":  # wrong in the current mode
        assert _status(wrong_fast) == "Incorrect" and "should be 3" in wrong_fast
    else:  # right here, wrong when re-run in fast mode
        assert _status(wrong_fast) == "Incorrect" and "re-run in fast mode should be 3" in wrong_fast
    assert _status(run_cell(_answer(answer_cells("nb00")[2], "choose(full=50.0, fast=3.0)"), ns)) == "Incorrect"
    # the answer set in one cell, checked in the next: the check finds the cell that set it
    run_cell("epochs = choose(full=50, fast=3)", ns)
    assert _status(run_cell("q2.check()", ns)) == "Correct"
    run_cell("epochs = choose(full=50, fast=3)\nepochs = 50", ns)  # computed, then overwritten by a typed number
    assert _status(run_cell("q2.check()", ns)) == "Incorrect"


def test_q2_without_any_code_to_re_run_is_not_passed():
    from sadlib.course.modes import choose

    result = nb00.q2._evaluate({"epochs": choose(full=50, fast=3)})
    assert result.status == "incorrect" and "cannot find the code" in result.message


def test_q2_in_a_script(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "answer.py"
    script.write_text("from sadlib.course.exercises.nb00 import q2\nfrom sadlib.course.modes import choose\n"
                      "epochs = choose(full=50, fast=3)\nq2.check()\nepochs = 50\nq2.check()\n")
    env = {k: v for k, v in os.environ.items() if k != "SADLIB_FAST"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert [_status(line) for line in out.stdout.splitlines()] == ["Correct", "Incorrect"], out.stdout


def test_q2_in_a_jupyter_kernel(tmp_path):
    """The check reads IPython's input history: run it for real in a kernel, as a learner would."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell(setup_source("nb00")), new_code_cell("from sadlib.course.modes import choose"),
             new_code_cell(_answer(answer_cells("nb00")[2], "50")),
             new_code_cell(_answer(answer_cells("nb00")[2], "choose(full=50, fast=3)")),
             new_code_cell("epochs = choose(full=50, fast=3)"), new_code_cell("q2.check()")]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env_before = os.environ.pop("SADLIB_FAST", None)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        if env_before is not None:
            os.environ["SADLIB_FAST"] = env_before

    def shown(cell):
        texts = [o.get("data", {}).get("text/plain", o.get("text", "")) for o in cell.outputs]
        return "".join(texts)

    assert [_status(shown(c)) for c in nb.cells[2:4]] == ["Incorrect", "Correct"]
    assert _status(shown(nb.cells[5])) == "Correct"


# ----------------------------------------------------------------- answers of the right kind pass
def test_nb00_q1_accepts_numpy_ints_and_rejects_other_kinds():
    assert nb00.q1.result(n_cores=np.int64(os.cpu_count())).passed
    assert nb00.q1.result(n_cores=np.int32(os.cpu_count())).passed
    for wrong in (float(os.cpu_count()), str(os.cpu_count()), True):
        assert nb00.q1.result(n_cores=wrong).status == "incorrect"


@pytest.mark.needs_data
def test_nb00_data_questions_accept_numpy_kinds():
    from sadlib import datasets

    valve = datasets.load_skab_file("valve1/0")
    n = len(valve) - 400
    assert nb00.q3.result(n_test_rows=np.int64(n)).passed
    assert nb00.q3.result(n_test_rows=float(n)).status == "incorrect"
    period = valve.index.to_series().diff().median()
    assert nb00.q4.result(period_seconds=np.float64(period.total_seconds())).passed
    assert nb00.q4.result(period_seconds=np.float32(period.total_seconds())).passed
    assert nb00.q4.result(period_seconds=int(period.total_seconds())).passed
    timedelta = nb00.q4.result(period_seconds=period)
    assert timedelta.status == "incorrect" and "total_seconds" in timedelta.message


@pytest.mark.needs_data
def test_nb01_share_accepts_numpy_kinds_and_names_the_usual_mistakes():
    shares = nb01._skab_shares()
    share = shares["pooled test rows"]
    assert nb01.q2.result(share=np.float64(share)).passed
    assert nb01.q2.result(share=np.float32(share)).passed
    assert nb01.q2.result(share=np.array(share)).passed  # what np.concatenate(...).mean() may give
    assert nb01.q2.result(share=round(share, 3)).passed  # three significant figures
    assert nb01.q2.result(share=100 * share).status == "incorrect"  # a percentage
    assert nb01.q2.result(share=f"{share}").status == "incorrect"
    assert "training rows" in nb01.q2.result(share=shares["all rows"]).message
    assert "pool" in nb01.q2.result(share=shares["mean of the files"]).message


def test_nb01_checkers_compute_what_the_library_computes():
    """The checks' own computations (written without the library) agree with the library's versions."""
    from sadlib import metrics, signals
    from sadlib.detectors import RollingZScore

    x = signals.make_normal(n_days=1, seed=5)[["vibration"]]
    ramp = nb01._ramp(x["vibration"].to_numpy(), 300, 90, 2.5)
    injected = signals.inject(x, "drift", start=300, duration=90, sensor="vibration", magnitude=2.5)[0]
    assert np.allclose(ramp, injected["vibration"].to_numpy())
    z = nb01._z_variant(x["vibration"].to_numpy(), 60)
    library = RollingZScore(window=60, min_scale=1e-9).fit(x).score(x)
    assert np.isnan(z[:60]).all() and np.allclose(np.abs(z[60:]), library[60:])
    for y in nb01._label_cases():
        assert nb01._runs(y) == (metrics.events(y) if y.size else [])  # metrics.events refuses an empty vector


def test_nb01_library_functions_work_again_after_a_check():
    from sadlib import metrics, signals
    from sadlib.detectors import RollingZScore

    nb01.q1.result(add_drift=lambda x, start, duration, magnitude: signals.inject(
        pd.DataFrame({"s": x}, index=pd.date_range("2024", periods=len(x), freq="1min")), "drift", start=start,
        duration=duration, sensor="s", magnitude=magnitude)[0]["s"])
    nb01.q5.result(label_events=lambda y: metrics.events(y))
    assert signals.inject.__name__ == "inject" and metrics.events([0, 1]) == [(1, 2)]
    assert RollingZScore.__name__ == "RollingZScore"
    from sadlib import detectors

    nb01.q3.result(rolling_zscore=lambda x, window: detectors.make("zscore", window=window).fit(
        pd.DataFrame({"x": x})).score(pd.DataFrame({"x": x})))
    assert detectors.REGISTRY["zscore"] is RollingZScore


def test_nb01_q3_a_window_one_sample_ahead_is_rejected():
    def one_ahead(x, window):
        s = pd.Series(x, dtype=float)
        roll = s.rolling(window).agg(["mean", "std"]).shift(-1)  # the window x[t - window + 2 : t + 2]
        return ((s - roll["mean"]) / roll["std"]).to_numpy()

    result = nb01.q3.result(rolling_zscore=one_ahead)  # named as what it is: it reads x[t + 1]
    assert result.status == "incorrect" and "look-ahead" in result.message, result.message


def test_nb01_q3_cut_probe_rejects_values_that_depend_on_later_data():
    """A function right on the full series but whose early values change when the series is cut reads ahead."""
    def depends_on_length(x, window):
        z = nb01._z_variant(np.asarray(x, float), window)
        return z if len(x) in (400, 300, 250) else z * 1.01  # the lengths of the check's series

    result = nb01.q3.result(rolling_zscore=depends_on_length)
    assert result.status == "incorrect" and "look-ahead" in result.message and "cutting the series" in result.message


def _q4_answers(normal):
    from sadlib import signals

    broken, ev = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    rows = slice(ev["start"], ev["end"])
    return (normal.loc[rows, "pressure"].corr(normal.loc[rows, "current"]),
            broken.loc[rows, "pressure"].corr(broken.loc[rows, "current"]))


def test_nb01_q4_kinds_and_a_changed_normal():
    ns = nb01._normal()
    normal = ns["normal"]
    before, during = _q4_answers(normal)
    assert nb01.q4.result(normal=normal, corr_before=np.float64(before), corr_during=np.float32(during)).passed
    swapped = nb01.q4.result(normal=normal, corr_before=during, corr_during=before)
    assert swapped.status == "incorrect" and "swapped" in swapped.message
    assert nb01.q4.result(normal=normal, corr_before=str(before), corr_during=during).status == "incorrect"
    mutated = normal.copy()
    mutated.iloc[5000:5060, mutated.columns.get_loc("pressure")] += 2 * normal["pressure"].std()
    changed = nb01.q4.result(normal=mutated, corr_before=before, corr_during=during)
    assert changed.status == "incorrect" and "`normal` has changed" in changed.message


def test_every_question_has_a_solution_that_the_notebook_can_show():
    for module in (nb00, nb01):
        for q in questions(module):
            assert re.search(rf"#\s*q{q.number}\.solution\(\)", "".join(
                c.source for c in cells(module.__name__.rsplit(".", 1)[1])))
