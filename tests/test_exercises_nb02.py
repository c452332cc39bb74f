"""Exercises of notebook 02, checked the way a learner meets them.

* The committed exercise notebook is what ``sadlib.course.exercises.notebook`` makes from the module, and
  its untouched template cells, run in its own setup cell's namespace, print "Not attempted".
* Answers of the right kind pass (NumPy scalars, 0-d arrays, fractions, lists of 0/1).
* Every listed wrong answer is "incorrect", with feedback that names the mistake. Q3's leakage is
  found by behaviour: the learner's function is called again with the test scores changed.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from exercise_cells import answer_cells, cells, run_cell, setup_source

from sadlib.course.exercises import nb02, questions
from sadlib.course.exercises.notebook import exercise_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "exercises" / "02_evaluating_detectors_exercises.ipynb"
LESSON = "notebooks/02_evaluating_detectors.ipynb"
Q = {q.number: q for q in questions(nb02)}


@pytest.fixture(scope="module")
def notebook_ns():
    """The namespace after the committed notebook's setup cell."""
    ns: dict = {}
    run_cell(setup_source("nb02"), ns)
    return ns


# ------------------------------------------------------------------------- the committed notebook
def test_notebook_matches_the_module():
    expected = exercise_notebook("nb02", "02 · Evaluating detectors honestly", LESSON, str(NOTEBOOK.relative_to(ROOT)))
    assert [(c.cell_type, c.source) for c in cells("nb02")] == [(c.cell_type, c.source) for c in expected.cells]
    assert (ROOT / LESSON).exists()


def test_untouched_templates_print_not_attempted(notebook_ns):
    assert set(Q) == {1, 2, 3, 4, 5, 6}
    for number in Q:
        ns = dict(notebook_ns)
        printed = run_cell(answer_cells("nb02")[number], ns)
        assert printed.startswith("Not attempted"), (number, printed)
        assert "____" in printed


def test_solutions_pass_in_the_notebook_namespace(notebook_ns):
    for number, q in Q.items():
        ns = dict(notebook_ns)
        run_cell(q.solution_code, ns)
        result = q.result(**{name: ns[name] for name in q.variables})
        assert result.passed, (number, result.message)


def test_q3_setup_scores_are_the_notebook_s(notebook_ns):
    val, test = nb02._scores()
    np.testing.assert_array_equal(val, notebook_ns["val_scores"])
    np.testing.assert_array_equal(test, notebook_ns["test_scores"])


# ------------------------------------------------------------------------- answers of the right kind
@pytest.mark.parametrize("cast", [float, np.float64, np.float32, np.array], ids=["float", "f64", "f32", "0d"])
def test_numbers_of_any_kind_pass(cast):
    assert Q[1].result(far=cast(20 / 960), mar=cast(10 / 40)).passed
    assert Q[2].result(f1_flag_all=cast(2 * 0.35 / 1.35)).passed
    assert Q[5].result(event_precision=cast(0.2), false_alarms_per_day=cast(19.2)).passed


@pytest.mark.parametrize("share", [(0.5, 0.25), (np.float64(0.25), np.float64(0.5)), (Fraction(1, 4), Fraction(1, 4))])
def test_q6_any_whole_week_split_passes(share):
    assert Q[6].result(train_share=share[0], val_share=share[1]).passed


@pytest.mark.parametrize("returns", [
    lambda v: np.percentile(v, 99.5),
    lambda v: float(np.percentile(v, 99.5)),
    lambda v: np.quantile(v, 0.995),
    lambda v: np.asarray(np.percentile(v, 99.5)),  # a 0-d array
], ids=["np.float64", "float", "quantile", "0-d array"])
def test_q3_threshold_of_any_kind_passes(returns):
    result = Q[3].result(honest_threshold=lambda val_scores, test_scores: returns(val_scores))
    assert result.passed, result.message


def test_q4_lists_and_int_arrays_pass():
    from sadlib.metrics import point_adjust

    assert Q[4].result(my_point_adjust=lambda y, p: point_adjust(y, p).astype(int)).passed
    assert Q[4].result(my_point_adjust=lambda y, p: point_adjust(y, p).tolist()).passed


def test_strings_fail_with_a_message():
    result = Q[1].result(far="0.02", mar=0.25)
    assert result.status == "incorrect" and "number" in result.message
    result = Q[3].result(honest_threshold=lambda v, t: "4.2")
    assert result.status == "incorrect" and "number" in result.message


# ------------------------------------------------------------------------- wrong answers fail
@pytest.mark.parametrize("values, words", [
    ({"far": 10 / 40, "mar": 20 / 960}, "swapped"),
    ({"far": 100 * 20 / 960, "mar": 25.0}, "percent"),
    ({"far": 20 / 50, "mar": 0.25}, "normal"),
    ({"far": 20 / 1000, "mar": 0.25}, "1000"),
    ({"far": 20 / 960, "mar": 10 / 1000}, "anomalous"),
    ({"far": 20 / 960, "mar": 0.75}, "MAR"),  # recall instead of 1 - recall
])
def test_q1_wrong_rates(values, words):
    result = Q[1].result(**values)
    assert result.status == "incorrect" and words in result.message, result.message


@pytest.mark.parametrize("f1, words", [(0.35, "precision"), (1.0, "recall"), (0.35 / 1.35, "factor 2"),
                                       (100 * 0.7 / 1.35, "percent"), (0.5, "F1")])
def test_q2_wrong_f1(f1, words):
    result = Q[2].result(f1_flag_all=f1)
    assert result.status == "incorrect" and words in result.message, result.message


@pytest.mark.parametrize("fn, words", [
    (lambda v, t: np.percentile(t, 99.5), "leakage"),  # the scores being judged
    (lambda v, t: np.percentile(np.concatenate([v, t]), 99.5), "leakage"),  # all scores
    (lambda v, t: max(np.percentile(v, 99.5), np.percentile(t, 99)), "leakage"),  # moves only with a fault
    (lambda v, t: 4.3337, "doubled"),  # a typed-in number does not follow the validation data
    (lambda v, t: np.percentile(v, 99), "99th"),
    (lambda v, t: np.percentile(v, 99.9), "99.9th"),
    (lambda v, t: np.max(v), "100th"),
    (lambda v, t: np.percentile(v, 0.995), "percent"),
    (lambda v, t: np.mean(v) + 3 * np.std(v), "99.5th percentile"),
    (lambda v, t: None, "number"),
    (lambda v, t: np.percentile(v, [99.5]), "number"),
], ids=["test pct", "all pct", "max with test", "typed", "q99", "q99.9", "max", "q as fraction",
        "3 sigma", "None", "1-element array"])
def test_q3_wrong_thresholds(fn, words):
    result = Q[3].result(honest_threshold=fn)
    assert result.status == "incorrect" and words in result.message, result.message


def test_q3_typed_number_equal_to_the_answer_still_fails():
    right = float(np.percentile(nb02._scores()[0], 99.5))
    result = Q[3].result(honest_threshold=lambda v, t: right)
    assert result.status == "incorrect" and "doubled" in result.message


def test_q3_leak_message_names_the_change():
    leaky = lambda v, t: np.percentile(np.concatenate([v, t]), 99.5)  # noqa: E731
    assert "planted" in Q[3].result(honest_threshold=leaky).message


def test_q3_does_not_let_the_learner_change_the_cached_scores():
    def mutating(val_scores, test_scores):
        val_scores[:] = 0.0
        test_scores[:] = 0.0
        return np.percentile(val_scores, 99.5)

    before = [a.copy() for a in nb02._scores()]
    Q[3].result(honest_threshold=mutating)
    for a, b in zip(before, nb02._scores()):
        np.testing.assert_array_equal(a, b)


def _first_alarm_to_end(y_true, y_pred):  # adjusts only from the first alarm in each event
    from sadlib.metrics import events

    out = np.asarray(y_pred, bool).copy()
    for start, end in events(y_true):
        hits = np.flatnonzero(out[start:end])
        if hits.size:
            out[start + hits[0]:end] = True
    return out


def _drops_outside(y_true, y_pred):
    from sadlib.metrics import point_adjust

    return point_adjust(y_true, y_pred) & np.asarray(y_true, bool)


@pytest.mark.parametrize("fn, words", [
    (lambda y, p: np.asarray(p, bool), "unchanged"),
    (_drops_outside, "outside"),
    (_first_alarm_to_end, "differs"),
    (lambda y, p: np.asarray(p)[:-1], "shape"),
    (lambda y, p: np.asarray(y, bool), "differs"),  # the labels themselves
])
def test_q4_wrong_point_adjust(fn, words):
    result = Q[4].result(my_point_adjust=fn)
    assert result.status == "incorrect" and words in result.message, result.message


@pytest.mark.parametrize("values, words", [
    ({"event_precision": 1.0, "false_alarms_per_day": 19.2}, "existence"),
    ({"event_precision": 0.8, "false_alarms_per_day": 19.2}, "outside"),
    ({"event_precision": 0.2, "false_alarms_per_day": 1 / 7}, "onset"),
    ({"event_precision": 0.2, "false_alarms_per_day": 24}, "inside the events"),
    ({"event_precision": 0.2, "false_alarms_per_day": 4.8}, "false alarms per day"),
])
def test_q5_wrong_flag_all_events(values, words):
    result = Q[5].result(**values)
    assert result.status == "incorrect" and words in result.message, result.message


def test_q5_matches_the_metrics_on_a_real_week():
    """The answer the check accepts is what sadlib.metrics computes for such a week."""
    import pandas as pd

    from sadlib import metrics

    index = pd.date_range("2024-01-15", periods=7 * 24 * 60, freq="1min")
    y = np.zeros(len(index), bool)
    for k in range(8):  # 8 events of 252 min (20 % of the week), evenly spaced
        start = 300 + k * 1260
        y[start:start + 252] = True
    flag_all = np.ones(len(y), bool)
    got = {"event_precision": metrics.event_metrics(y, flag_all)["event_precision"],
           "false_alarms_per_day": metrics.false_alarms_per_day(y, flag_all, index=index)}
    assert abs(y.mean() - 0.2) < 1e-9
    assert Q[5].result(**got).passed, got


@pytest.mark.parametrize("train, val, words", [
    (0.4, 0.1, "whole weeks"),  # the old split's shares
    (1 / 3, 1 / 3, "whole weeks"),
    (50, 25, "percent"),
    (0.75, 0.25, "refuses"),  # nothing left to test
    (0.5, 0.0, "empty"),  # no validation part
])
def test_q6_wrong_shares(train, val, words):
    result = Q[6].result(train_share=train, val_share=val)
    assert result.status == "incorrect" and words in result.message, result.message


def test_every_check_fails_on_some_answer():
    """A checker that cannot fail is a defect: each question rejects an arbitrary wrong answer."""
    wrong = {1: {"far": 0.5, "mar": 0.5}, 2: {"f1_flag_all": 0.9}, 3: {"honest_threshold": lambda v, t: 0.0},
             4: {"my_point_adjust": lambda y, p: np.zeros(len(y), bool)},
             5: {"event_precision": 0.5, "false_alarms_per_day": 3.0}, 6: {"train_share": 0.3, "val_share": 0.3}}
    for number, values in wrong.items():
        assert Q[number].result(**values).status == "incorrect", number
