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

QUESTIONS = {1: nb03.q1, 2: nb03.q2, 3: nb03.q3, 4: nb03.q4, 5: nb03.q5, 6: nb03.q6}


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
    imports = ("from sadlib.course.exercises import ____\n"
               "from sadlib.course.exercises.nb03 import q1, q2, q3, q4, q5, q6\n\n")
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
    i = next(i for i, c in enumerate(cells) if "q6.hint()" in c.source)
    answer = cells[i + 1]
    assert answer.cell_type == "markdown" and answer.source.startswith("<details><summary>Answer")
    assert nb03.CONTAMINATION_ANSWER in answer.source
    ns = {k: v for k, v in nb03._context().items()}
    exec(nb03.q6.solution_code, ns)
    result = nb03.q6.result(**{v: ns[v] for v in nb03.q6.variables})
    assert result.passed and nb03.CONTAMINATION_ANSWER in result.message


# --------------------------------------------------------------------------- Q1-Q4: the learner writes the method
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_write_the_method_questions_are_marked_and_the_solution_passes(number):
    q = QUESTIONS[number]
    if number != 2:
        assert q.method, q.label
    result = q.check_solution()
    assert result.passed, result.message


def _rz(x, window):
    s = pd.Series(np.asarray(x, dtype=float))
    r = s.rolling(window)
    return ((s - r.mean().shift(1)) / r.std().shift(1)).abs()


@pytest.mark.parametrize("kind", [lambda s: s.to_numpy(), lambda s: s.tolist(), lambda s: s])
def test_q1_answers_of_the_right_kind_pass(kind):
    result = nb03.q1.result(rolling_z=lambda x, w: kind(_rz(x, w)))
    assert result.passed, result.message


@pytest.mark.parametrize("fn, words", [
    (lambda x, w: _rz(x, w).fillna(0).to_numpy(), "NaN"),  # zeros where the window is not full
    (lambda x, w: (_rz(x, w) * 0 + _rz(x, w + 1)).to_numpy(), "should be"),  # one sample too many
    (lambda x, w: _rz(x, w).to_numpy()[:-1], "shape"),
])
def test_q1_wrong_answers_fail(fn, words):
    result = nb03.q1.result(rolling_z=fn)
    assert result.status == "incorrect" and words in result.message, result.message


def test_q1_a_future_sample_read_at_the_last_cut_fails():
    def peeks(x, w):  # right everywhere except that it reads one sample ahead at the end of the series
        out = _rz(x, w).to_numpy().copy()
        out[-2] = out[-1] if len(x) > 300 else out[-2]
        return out

    assert "look-ahead" in nb03.q1.result(rolling_z=peeks).message


def test_q2_start_exclusive_fails():
    def start_exclusive(index, events, alarms):
        missed = set(events["type"])
        for _, ev in events.iterrows():
            if np.asarray(alarms)[(index > ev["start"]) & (index <= ev["end"])].any():
                missed.discard(ev["type"])
        return missed

    ns = nb03._context()
    result = nb03.q2.result(missed_types=start_exclusive,
                            **{k: ns[k] for k in ("test", "test_events", "zscore_alarms")})
    assert result.status == "incorrect" and "first* sample" in result.message, result.message


def test_q2_cases_tell_the_window_ends_apart():
    cases = list(nb03._q2_cases())
    index, events, alarms = cases[0]
    right = nb03._missed_types(index, events, alarms)
    assert right != nb03._missed_types(index, events, alarms, end_inclusive=False)
    assert right != nb03._missed_types(index, events, alarms, start_inclusive=False)
    assert right != nb03._missed_types(index, events, alarms, any_event=True)


@pytest.mark.parametrize("kind", ["starts at u0", "signed", "swapped", "raw"])
def test_q3_named_mistakes_fail(kind):
    result = nb03.q3.result(ewma_chart=lambda x, lam, m, s: nb03._ewma_variant(x, lam, m, s, kind))
    assert result.status == "incorrect", result.message
    assert nb03._Q3_MISTAKES[kind] in result.message


def test_q3_lam_one_is_a_shewhart_chart():
    x, mean, std = nb03._q3_inputs(0)
    assert np.allclose(nb03._ewma_variant(x, 1.0, mean, std), np.abs((x - mean) / std))


def test_q4_scores_instead_of_alarms_fail():
    def scores(train_X, val_X, test_X):
        med = train_X.median()
        return ((test_X - med).abs() / ((train_X - med).abs().median() * 1.4826)).max(axis=1).to_numpy()

    result = nb03.q4.result(robust_alarms=scores)
    assert result.status == "incorrect" and "not scores" in result.message, result.message


def test_q4_reports_the_shifted_random_line():
    result = nb03.q4.check_solution()
    assert "shifted at random" in result.message and f"seed {nb03.FRESH_SEED}" in result.message


def test_library_works_again_after_the_checks():
    from sadlib import detectors

    nb03.q1.result(rolling_z=lambda x, w: detectors.make("zscore", window=w))
    frame = pd.DataFrame({"x": np.arange(100.0) % 7})
    assert detectors.make("zscore", window=5).fit(frame).score(frame).shape == (100,)


def test_a_registry_look_up_is_unavailable_during_the_check_and_restored_after():
    from sadlib import detectors

    result = nb03.q1.result(rolling_z=lambda x, w: detectors.REGISTRY["zscore"](window=w))
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message
    assert detectors.REGISTRY["zscore"] is detectors.RollingZScore
    assert detectors.REGISTRY["robust_z"] is detectors.RobustZScore


def test_q5_the_learners_detector_keeps_its_fit_method(context):
    ns = _ns(context)
    det = ns["det"]
    nb03.q5.result(recalibrate=lambda d, v, t: d.fit(v), **{k: ns[k] for k in ("det", "val", "test", "sensors")})
    assert "fit" not in vars(det)  # the stand-in sits on the checker's copies only


# --------------------------------------------------------------------------- Q5: recalibrate without refitting
def _q5(context, fn):
    ns = _ns(context)
    return nb03.q5.result(recalibrate=fn, **{k: ns[k] for k in ("det", "val", "test", "sensors")})


def _right(det, val_X, test_X):
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99.5}))
    return det.predict(test_X).mean()


@pytest.mark.parametrize("kind", [float, np.float64, np.float32, np.asarray, lambda v: np.asarray([v])[0]])
def test_q5_answers_of_the_right_kind_pass(context, kind):
    result = _q5(context, lambda det, v, t: kind(_right(det, v, t)))
    assert result.passed, result.message


def test_q5_set_threshold_by_hand_passes(context):
    def by_hand(det, val_X, test_X):
        det.set_threshold(np.nanpercentile(det.score(val_X), 99.5))  # NaN: the first window - 1 rows
        return float(np.mean(det.score(test_X) > det.threshold_))

    assert _q5(context, by_hand).passed


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
def test_q5_wrong_answers_fail(context, fn):
    fn = _hard_coded(context) if fn == "hard-coded" else fn
    result = _q5(context, fn)
    assert result.status == "incorrect", result.message


@pytest.mark.parametrize("fn", [_leaky_test, _leaky_both])
def test_q5_leakage_is_named(context, fn):
    assert "leakage" in _q5(context, fn).message


def test_q5_refit_is_named(context):
    assert "fitted again" in _q5(context, _refit_on_val).message


def test_q5_does_not_touch_the_learners_detector(context):
    ns = _ns(context)
    before = ns["det"].threshold_
    nb03.q5.result(recalibrate=_right, **{k: ns[k] for k in ("det", "val", "test", "sensors")})
    assert ns["det"].threshold_ == before


# --------------------------------------------------------------------------- Q6: contamination
def _q6_truth(context):
    return nb03._forest_shares(context["train"], context["val"], context["sensors"])


def _q6(context, flagged, on_val):
    return nb03.q6.result(flagged_share=flagged, val_share=on_val,
                          **{k: context[k] for k in ("train", "val", "sensors")})


@pytest.mark.parametrize("kind", [float, np.float64, np.asarray])
def test_q6_answers_of_the_right_kind_pass(context, kind):
    flagged, on_val = _q6_truth(context)
    result = _q6(context, kind(flagged), kind(on_val))
    assert result.passed, result.message


def test_q6_wrong_answers_fail(context):
    flagged, on_val = _q6_truth(context)
    test_share = float(np.mean(
        __import__("sklearn.ensemble", fromlist=["IsolationForest"]).IsolationForest(contamination=0.1, random_state=0)
        .fit(context["train"][context["sensors"]]).predict(context["test"][context["sensors"]]) == -1))
    assert not np.isclose(on_val, flagged) and not np.isclose(test_share, on_val)
    for answer in [(0.05, on_val), (10.0, on_val), (flagged, flagged), (flagged, 100 * on_val),
                   (flagged, test_share), (True, on_val)]:
        result = _q6(context, *answer)
        assert result.status == "incorrect", (answer, result.message)
