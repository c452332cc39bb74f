"""Exercises of notebook 02, checked the way a learner meets them.

* The committed exercise notebook is what ``sadlib.course.exercises.notebook`` makes from the module, and
  its untouched template cells, run in its own setup cell's namespace, print "Not attempted".
* Answers of the right kind pass (NumPy scalars, 0-d arrays, fractions, lists of 0/1).
* Every listed wrong answer is "incorrect", with feedback that names the mistake. Q3's leakage is
  found by behaviour: the learner's function is called again with the test scores changed.
* The write-the-method questions (Q1, Q3, Q4, Q5) reject the library's own function and accept answers of
  any array kind; Q6's pipeline is run on a fresh twin with its test labels shuffled and its future changed.
  More named answers: ``tests/catalogue_nb02.py``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from exercise_cells import answer_cells, cells, run_cell, setup_source

from sadlib.course.exercises import nb02, questions
from sadlib.course.exercises.notebook import exercise_notebook
from sadlib.metrics import events as metrics_events

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
    assert Q[2].result(f1_flag_all=cast(2 * 0.35 / 1.35)).passed
    right = {"precision": 0, "recall": 1, "f1": 2}

    def point(y, p):
        y, p = np.asarray(y, bool), np.asarray(p, bool)
        tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
        values = [tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn), 2 * tp / (2 * tp + fp + fn) if tp else 0.0]
        return tuple(cast(values[right[k]]) for k in right)
    assert Q[1].result(my_point_metrics=point).passed
    assert Q[2].result(f1_flag_all=Fraction(70, 135)).passed


@pytest.mark.parametrize("returns", [
    lambda v: np.percentile(v, 99.5),
    lambda v: float(np.percentile(v, 99.5)),
    lambda v: np.quantile(v, 0.995),
    lambda v: np.asarray(np.percentile(v, 99.5)),  # a 0-d array
], ids=["np.float64", "float", "quantile", "0-d array"])
def test_q3_threshold_of_any_kind_passes(returns):
    result = Q[3].result(honest_threshold=lambda val_scores, test_scores: returns(val_scores))
    assert result.passed, result.message


def test_q5_lists_and_int_arrays_pass():
    from sadlib.metrics import point_adjust

    def own(y, p):
        out = np.asarray(p, bool).copy()
        for start, end in metrics_events(y):
            out[start:end] |= out[start:end].any()
        return out
    assert Q[5].result(my_point_adjust=lambda y, p: own(y, p).astype(int)).passed
    assert Q[5].result(my_point_adjust=lambda y, p: own(y, p).tolist()).passed
    result = Q[5].result(my_point_adjust=lambda y, p: point_adjust(y, p))
    assert result.status == "incorrect" and "write it yourself" in result.message


def test_strings_fail_with_a_message():
    result = Q[1].result(my_point_metrics=lambda y, p: ("0.5", 0.5, 0.5))
    assert result.status == "incorrect" and "number" in result.message
    result = Q[3].result(honest_threshold=lambda v, t: "4.2")
    assert result.status == "incorrect" and "number" in result.message


# ------------------------------------------------------------------------- wrong answers fail
def _counts(y, p):
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return np.sum(y & p), np.sum(~y & p), np.sum(y & ~p), np.sum(~y & ~p)


def _q1_recall_as_precision(y, p):
    tp, fp, fn, tn = _counts(y, p)
    r = tp / (tp + fn)
    return r, r, r


def _q1_f1_over_all(y, p):
    tp, fp, fn, tn = _counts(y, p)
    precision, recall = (tp / (tp + fp) if tp + fp else 0.0), tp / (tp + fn)
    return precision, recall, 2 * tp / (tp + fp + fn + tn)


def _q1_library(y, p):
    from sklearn.metrics import f1_score, precision_score, recall_score

    return precision_score(y, p, zero_division=0), recall_score(y, p), f1_score(y, p)


@pytest.mark.parametrize("fn, words", [
    (lambda y, p: (0.5, 0.5), "three numbers"),
    (_q1_recall_as_precision, "expected"),
    (_q1_f1_over_all, "F1 is not"),
    (_q1_library, "write it yourself"),
], ids=["two numbers", "recall thrice", "f1 over all", "sklearn"])
def test_q1_wrong_point_metrics(fn, words):
    result = Q[1].result(my_point_metrics=fn)
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
    out = np.asarray(y_pred, bool).copy()
    for start, end in metrics_events(y_true):
        out[start:end] |= out[start:end].any()
    return out & np.asarray(y_true, bool)


@pytest.mark.parametrize("fn, words", [
    (lambda y, p: np.asarray(p, bool), "unchanged"),
    (_drops_outside, "outside"),
    (_first_alarm_to_end, "differs"),
    (lambda y, p: np.asarray(p)[:-1], "shape"),
    (lambda y, p: np.asarray(y, bool), "differs"),  # the labels themselves
])
def test_q5_wrong_point_adjust(fn, words):
    result = Q[5].result(my_point_adjust=fn)
    assert result.status == "incorrect" and words in result.message, result.message


def _runs(flags):
    edges = np.diff(np.concatenate(([0], np.asarray(flags, int), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _q4_right(y, a, per_day):
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    events = _runs(y)
    recall = float(np.mean([a[s:e].any() for s, e in events])) if events else 0.0
    return recall, sum(not y[s:e].any() for s, e in _runs(a)) / (len(y) / per_day)


def test_q4_answers_of_any_kind_pass():
    assert Q[4].result(event_report=_q4_right).passed
    assert Q[4].result(event_report=lambda y, a, d: list(_q4_right(y, a, d))).passed
    assert Q[4].result(event_report=lambda y, a, d: np.array(_q4_right(y, a, d))).passed


@pytest.mark.parametrize("fn, words", [
    (lambda y, a, d: (_q4_right(y, a, d)[0], _q4_right(y, a, d)[1] * len(y) / d), "divide by the number of days"),
    (lambda y, a, d: (float("nan") if not np.any(y) else _q4_right(y, a, d)[0], _q4_right(y, a, d)[1]), "0/0"),
    (lambda y, a, d: (_q4_right(y, a, d)[0],), "two numbers"),
    (lambda y, a, d: (1.0, _q4_right(y, a, d)[1]), "event recall should be"),
], ids=["per week", "nan recall", "one number", "recall 1"])
def test_q4_wrong_event_reports(fn, words):
    result = Q[4].result(event_report=fn)
    assert result.status == "incorrect" and words in result.message, result.message


def test_q4_does_not_trust_the_library_inside_the_answer():
    from sadlib import metrics

    def via_library(y, a, d):
        ev = metrics.event_metrics(y, a)
        return ev["event_recall"], ev["n_false_alarm_events"] / (len(y) / d)
    result = Q[4].result(event_report=via_library)
    assert result.status == "incorrect" and "write it yourself" in result.message
    assert metrics.event_metrics([0, 1, 1, 0], [0, 1, 0, 0])["event_recall"] == 1.0  # restored afterwards


def _pipeline(data, q=99.9, centred=False):
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    sensors = list(signals.SENSORS)
    filled = data.copy()
    filled[sensors] = filled[sensors].ffill().bfill()
    train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
    det = detectors.make("zscore", window=60, center=centred).fit(train[sensors])
    return det.score(test[sensors]) > np.percentile(det.score(val[sensors]), q)


@pytest.mark.parametrize("fn, words", [
    (lambda d: _pipeline(d, q=99), "99.9th percentile"),
    (lambda d: _pipeline(d, centred=True), "look-ahead"),
    (lambda d: _pipeline(d)[:-1], "shape"),
    (lambda d: np.zeros(len(d) - 2 * (len(d) // 3), bool), "raises 0 alarms"),
], ids=["q99", "centred window", "one short", "never alarm"])
def test_q6_wrong_pipelines(fn, words):
    result = Q[6].result(honest_pipeline=fn)
    assert result.status == "incorrect" and words in result.message, result.message


def test_q6_reference_message_names_the_random_line():
    result = Q[6].result(honest_pipeline=_pipeline)
    assert result.passed and "random line" in result.message, result.message


def test_every_check_fails_on_some_answer():
    """A checker that cannot fail is a defect: each question rejects an arbitrary wrong answer."""
    wrong = {1: {"my_point_metrics": lambda y, p: (0.5, 0.5, 0.5)}, 2: {"f1_flag_all": 0.9},
             3: {"honest_threshold": lambda v, t: 0.0}, 4: {"event_report": lambda y, a, d: (0.5, 1.0)},
             5: {"my_point_adjust": lambda y, p: np.zeros(len(y), bool)},
             6: {"honest_pipeline": lambda d: np.ones(len(d) - 2 * (len(d) // 3), bool)}}
    for number, values in wrong.items():
        assert Q[number].result(**values).status == "incorrect", number
