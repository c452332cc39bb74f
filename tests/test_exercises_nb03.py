"""Exercises of notebook 03: the committed notebook's own cells, answers of the right kind, wrong answers, leakage."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import pandas as pd
import pytest
from exercise_cells import answer_cells, setup_source
from exercise_cells import cells as notebook_cells

from sadlib.course.exercises import ____, nb03

QUESTIONS = {1: nb03.q1, 2: nb03.q2, 3: nb03.q3, 4: nb03.q4}


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("nb03")


@pytest.fixture(scope="module")
def context():
    return nb03._context()


def _ns(context):
    """A fresh copy of the setup namespace (modules and functions shared, data and detectors copied)."""
    return {k: v if callable(v) or type(v).__name__ == "module" else copy.deepcopy(v)
            for k, v in context.items() if not k.startswith("__")}


def test_setup_cell_is_the_module_setup(cells):
    setup = setup_source("nb03")
    imports = "from sadlib.course.exercises import ____\nfrom sadlib.course.exercises.nb03 import q1, q2, q3, q4\n\n"
    assert setup == imports + nb03.SETUP.rstrip("\n")


@pytest.mark.parametrize("number", sorted(QUESTIONS))
def test_answer_cells_are_the_module_templates(cells, number):
    assert answer_cells("nb03")[number] == f"{nb03.ANSWER_CELLS[number]}\n\nq{number}.check()"


@pytest.mark.parametrize("number", sorted(QUESTIONS))
def test_untouched_template_cell_is_not_attempted(cells, context, number):
    """Run the notebook's own answer cell, unchanged, in the setup namespace, as a learner would."""
    ns = {**_ns(context), "____": ____, f"q{number}": QUESTIONS[number]}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(answer_cells("nb03")[number], ns)
    assert out.getvalue().startswith("Not attempted"), out.getvalue()
    q = QUESTIONS[number]
    result = q.result(**{v: ns[v] for v in q.variables})
    assert result.status == "not attempted", result.message


def test_contamination_question_has_a_written_answer(cells):
    i = next(i for i, c in enumerate(cells) if "q4.hint()" in c.source)
    answer = cells[i + 1]
    assert answer.cell_type == "markdown" and answer.source.startswith("<details><summary>Answer")
    assert nb03.CONTAMINATION_ANSWER in answer.source
    ns = {k: v for k, v in nb03._context().items()}
    exec(nb03.q4.solution_code, ns)
    result = nb03.q4.result(**{v: ns[v] for v in nb03.q4.variables})
    assert result.passed and nb03.CONTAMINATION_ANSWER in result.message


# --------------------------------------------------------------------------- Q1: recalibrate without refitting
def _q1(context, fn):
    ns = _ns(context)
    return nb03.q1.result(recalibrate=fn, **{k: ns[k] for k in ("det", "val", "test", "sensors")})


def _right(det, val_X, test_X):
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99.5}))
    return det.predict(test_X).mean()


@pytest.mark.parametrize("kind", [float, np.float64, np.float32, np.asarray, lambda v: np.asarray([v])[0]])
def test_q1_answers_of_the_right_kind_pass(context, kind):
    result = _q1(context, lambda det, v, t: kind(_right(det, v, t)))
    assert result.passed, result.message


def test_q1_set_threshold_by_hand_passes(context):
    def by_hand(det, val_X, test_X):
        det.set_threshold(np.percentile(det.score(val_X), 99.5))
        return float(np.mean(det.score(test_X) > det.threshold_))

    assert _q1(context, by_hand).passed


def _leaky_test(det, val_X, test_X):
    det.calibrate(det.score(test_X), threshold=("percentile", {"q": 99.5}))
    return det.predict(test_X).mean()


def _leaky_both(det, val_X, test_X):
    det.calibrate(np.concatenate([det.score(val_X), det.score(test_X)]), threshold=("percentile", {"q": 99.5}))
    return det.predict(test_X).mean()


def _refit_on_val(det, val_X, test_X):
    det.fit(val_X)
    return _right(det, val_X, test_X)


def _wrong_percentile(det, val_X, test_X):
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99}))
    return det.predict(test_X).mean()


def _count_not_share(det, val_X, test_X):
    return float(np.sum(_right(det, val_X, test_X) * len(test_X)))


def _val_share(det, val_X, test_X):
    _right(det, val_X, test_X)
    return det.predict(val_X).mean()


def _no_recalibration(det, val_X, test_X):
    return det.predict(test_X).mean()  # keeps the threshold from fit


def _hard_coded(context):
    ns = _ns(context)
    rate = _right(ns["det"], ns["val"][ns["sensors"]], ns["test"][ns["sensors"]])

    def fn(det, val_X, test_X):
        _right(det, val_X, test_X)
        return rate  # right on the real test part, wrong on a changed one

    return fn


@pytest.mark.parametrize("fn", [_leaky_test, _leaky_both, _refit_on_val, _wrong_percentile, _count_not_share,
                                _val_share, _no_recalibration, "hard-coded"])
def test_q1_wrong_answers_fail(context, fn):
    fn = _hard_coded(context) if fn == "hard-coded" else fn
    result = _q1(context, fn)
    assert result.status == "incorrect", result.message


@pytest.mark.parametrize("fn", [_leaky_test, _leaky_both])
def test_q1_leakage_is_named(context, fn):
    assert "leakage" in _q1(context, fn).message


def test_q1_refit_is_named(context):
    assert "fitted again" in _q1(context, _refit_on_val).message


def test_q1_does_not_touch_the_learners_detector(context):
    ns = _ns(context)
    before = ns["det"].threshold_
    nb03.q1.result(recalibrate=_right, **{k: ns[k] for k in ("det", "val", "test", "sensors")})
    assert ns["det"].threshold_ == before


# --------------------------------------------------------------------------- Q2: missed types
def _q2(context, missed):
    return nb03.q2.result(missed=missed, **{k: context[k] for k in ("test", "test_events", "zscore_alarms")})


def _truth(context):
    return nb03._missed_types(context["test"], context["test_events"], context["zscore_alarms"])


@pytest.mark.parametrize("kind", [set, frozenset, list, tuple, sorted, np.array, pd.Index, pd.Series,
                                  lambda s: {np.str_(x) for x in s}])
def test_q2_answers_of_the_right_kind_pass(context, kind):
    result = _q2(context, kind(sorted(_truth(context))))
    assert result.passed, result.message


def _per_type(context):
    test, events, alarms = context["test"], context["test_events"], np.asarray(context["zscore_alarms"])
    hit = {}
    for _, ev in events.iterrows():
        inside = (test.index >= ev["start"]) & (test.index <= ev["end"])
        hit.setdefault(ev["type"], []).append(bool(alarms[inside].any()))
    return hit


def test_q2_wrong_answers_fail(context):
    truth, hit = _truth(context), _per_type(context)
    all_types = set(hit)
    some_missed = {t for t, h in hit.items() if not all(h)}  # a type with at least one missed event
    wrong = [all_types - truth, {"spike"} ^ truth, truth | {"not_a_type"}, ", ".join(sorted(truth)) or "spike"]
    if some_missed != truth:
        wrong.append(some_missed)
    if truth:
        wrong.append(set(sorted(truth)[1:]))  # one type forgotten
    for answer in wrong:
        assert answer != truth
        result = _q2(context, answer)
        assert result.status == "incorrect", (answer, result.message)


# --------------------------------------------------------------------------- Q3: EWMA
def _ewma_loop(x, lam):
    z, out = 0.0, []
    for v in x:
        z = lam * v + (1 - lam) * z
        out.append(z)
    return out


@pytest.mark.parametrize("kind", [list, np.array, lambda v: pd.Series(v).to_numpy(), tuple])
def test_q3_answers_of_the_right_kind_pass(kind):
    result = nb03.q3.result(my_ewma=lambda x, lam: kind(_ewma_loop(x, lam)))
    assert result.passed, result.message


def test_q3_lfilter_passes():
    from scipy.signal import lfilter

    assert nb03.q3.result(my_ewma=lambda x, lam: lfilter([lam], [1, lam - 1], x)).passed


@pytest.mark.parametrize("fn", [
    lambda x, lam: np.cumsum(x) * lam,
    lambda x, lam: pd.Series(x).ewm(alpha=lam, adjust=False).mean().to_numpy(),  # starts at x[0], not 0
    lambda x, lam: pd.Series(x).ewm(alpha=lam).mean().to_numpy(),  # adjust=True weights
    lambda x, lam: _ewma_loop(x, 1 - lam),  # the weights swapped
    lambda x, lam: _ewma_loop(x, lam)[:-1],  # one value short
    lambda x, lam: float(_ewma_loop(x, lam)[-1]),  # only the last value
])
def test_q3_wrong_answers_fail(fn):
    result = nb03.q3.result(my_ewma=fn)
    assert result.status == "incorrect", result.message


def test_q3_half_written_body_is_incorrect_not_attempted():
    def broken(x, lam):
        return undefined_name  # noqa: F821

    assert nb03.q3.result(my_ewma=broken).status == "incorrect"


# --------------------------------------------------------------------------- Q4: contamination
def _q4_truth(context):
    return nb03._forest_shares(context["train"], context["val"], context["sensors"])


def _q4(context, flagged, on_val):
    return nb03.q4.result(flagged_share=flagged, val_share=on_val,
                          **{k: context[k] for k in ("train", "val", "sensors")})


@pytest.mark.parametrize("kind", [float, np.float64, np.asarray])
def test_q4_answers_of_the_right_kind_pass(context, kind):
    flagged, on_val = _q4_truth(context)
    result = _q4(context, kind(flagged), kind(on_val))
    assert result.passed, result.message


def test_q4_wrong_answers_fail(context):
    flagged, on_val = _q4_truth(context)
    test_share = float(np.mean(
        __import__("sklearn.ensemble", fromlist=["IsolationForest"]).IsolationForest(contamination=0.1, random_state=0)
        .fit(context["train"][context["sensors"]]).predict(context["test"][context["sensors"]]) == -1))
    assert not np.isclose(on_val, flagged) and not np.isclose(test_share, on_val)
    for answer in [(0.05, on_val), (10.0, on_val), (flagged, flagged), (flagged, 100 * on_val),
                   (flagged, test_share), (True, on_val)]:
        result = _q4(context, *answer)
        assert result.status == "incorrect", (answer, result.message)
