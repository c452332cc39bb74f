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
def test_nb01_data_questions_accept_numpy_kinds():
    from sadlib import datasets

    share = nb01._skab_test_share()
    assert nb01.q2.result(share=np.float64(share)).passed
    assert nb01.q2.result(share=np.float32(share)).passed
    assert nb01.q2.result(share=np.array(share)).passed  # what np.concatenate(...).mean() may give
    assert nb01.q2.result(share=100 * share).status == "incorrect"  # a percentage
    assert nb01.q2.result(share=f"{share}").status == "incorrect"
    df = datasets.load_nab("realKnownCause/machine_temperature_system_failure")
    minutes = df.index.to_series().diff().median().total_seconds() / 60
    n = len(df.attrs["windows"])
    assert nb01.q3.result(period_minutes=np.float64(minutes), n_windows=np.int64(n)).passed
    assert nb01.q3.result(period_minutes=minutes, n_windows=n).passed
    assert nb01.q3.result(period_minutes=minutes, n_windows=float(n)).status == "incorrect"  # a count is an int
    assert nb01.q3.result(period_minutes=minutes, n_windows=n + 0.4).status == "incorrect"  # was truncated to n
    td = nb01.q3.result(period_minutes=pd.Timedelta(minutes=minutes), n_windows=n)
    assert td.status == "incorrect" and "total_seconds" in td.message


def _q4_answers(normal):
    from sadlib import signals

    broken, ev = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    rows = slice(ev["start"], ev["end"])
    return (normal.loc[rows, "pressure"].corr(normal.loc[rows, "current"]),
            broken.loc[rows, "pressure"].corr(broken.loc[rows, "current"]))


def test_nb01_q1_q4_kinds_and_a_changed_normal():
    from sadlib import signals

    ns = nb01._normal()
    normal = ns["normal"]
    shifted, event = signals.inject(normal, "level_shift", start=5000, duration=60, sensor="pressure", magnitude=2)
    assert nb01.q1.result(normal=normal, shifted=shifted).passed
    as_tuple = nb01.q1.result(normal=normal, shifted=(shifted, event))
    assert as_tuple.status == "incorrect" and "tuple" in as_tuple.message
    # the learner shifts `normal` in place and calls that `shifted`: normal has changed
    mutated = normal.copy()
    mutated.iloc[5000:5060, mutated.columns.get_loc("pressure")] += 2 * normal["pressure"].std()
    changed = nb01.q1.result(normal=mutated, shifted=shifted)
    assert changed.status == "incorrect" and "`normal` has changed" in changed.message
    before, during = _q4_answers(normal)
    assert nb01.q4.result(normal=normal, corr_before=np.float64(before), corr_during=np.float32(during)).passed
    assert nb01.q4.result(normal=normal, corr_before=during, corr_during=before).status == "incorrect"  # swapped
    assert nb01.q4.result(normal=normal, corr_before=str(before), corr_during=during).status == "incorrect"
    assert nb01.q4.result(normal=mutated, corr_before=before, corr_during=during).status == "incorrect"


def test_every_question_has_a_solution_that_the_notebook_can_show():
    for module in (nb00, nb01):
        for q in questions(module):
            assert re.search(rf"#\s*q{q.number}\.solution\(\)", "".join(
                c.source for c in cells(module.__name__.rsplit(".", 1)[1])))
