"""A red-team catalogue of the exercise checkers (issue 26 §4).

Each entry is one realistic answer to one question: a wrong answer (a leak where the question fits anything to
data) must be rejected with a message that names the mistake; an unconventional right answer must pass. The test
ids name the notebook, the question and the answer, e.g. ``nb02-q3-leak-percentile-of-the-test-scores``; notebook 02's
entries are in ``tests/catalogue_nb02.py``.

Covered so far (the questions whose checkers issue 26 found weak, without Keras): 04 Q1,
05 Q2 and Q4, 08 Q1-Q4, 10 Q5. The Keras questions (04 Q5, 06 Q3-Q5, 07 Q5, 09 Q3) have their cases in
``tests/test_exercises_nbXX.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from catalogue import Entry, all_entries

from sadlib.course.exercises import nb04, nb05, nb08, nb10
from sadlib.course.exercises.checker import questions


# --------------------------------------------------------------------------- answers
def _nb04_X():
    return nb04._toy()[0]


def _nb05_values():
    return nb05._values()


def _minmax(rows):
    from sklearn.preprocessing import MinMaxScaler

    return MinMaxScaler().fit(rows)


def _nb05_scaler(rows, test_start=750):
    v = _nb05_values()
    s = _minmax(v[rows])
    return {"scaler": s, "test_scaled": s.transform(v[test_start:])}


def _nb05_best_f1_threshold():
    from sadlib.metrics import point_metrics

    ns = nb05._context()
    t, y = ns["test_errors"], ns["y_test"]
    best = max(np.unique(t), key=lambda c: point_metrics(y, t > c)["f1"])
    return {"alarm_rule": lambda val_errors, test_errors: test_errors > best}


def _k_of_n_loop(above, k, n):
    out = np.zeros(len(above), dtype=bool)
    for t in range(len(above)):
        out[t] = int(np.sum(above[max(0, t - n + 1):t + 1])) >= k
    return out


def _k_of_n_library(above, k, n):
    from sadlib.alarms import k_of_n_alarms

    return k_of_n_alarms(np.asarray(above, float), 0.5, k, n)


def _k_of_n_cumsum(above, k, n):
    c = np.concatenate([[0], np.cumsum(np.asarray(above, int))])
    idx = np.arange(1, len(above) + 1)
    return (c[idx] - c[np.maximum(idx - n, 0)]) >= k


def _hysteresis_loop(scores, on, off):
    out, state = np.zeros(len(scores), dtype=bool), False
    for t, s in enumerate(scores):
        if s > on:
            state = True
        elif np.isnan(s) or s <= off:
            state = False
        out[t] = state
    return out


def _hysteresis_library(scores, on, off):
    from sadlib import alarms

    return alarms.hysteresis_alarms(scores, on, off)


def _pipeline(percentile):
    from sadlib.alarms import min_duration_alarms

    def alarm_pipeline(train_scores, test_scores, q, min_duration):
        threshold = float(percentile(train_scores, test_scores, q))
        return min_duration_alarms(test_scores, threshold, min_duration), threshold
    return alarm_pipeline


def _pot_spot(scores, level, q):
    from sadlib.thresholds import SPOTThreshold

    return SPOTThreshold(risk=q, init_level=level).fit(scores).tail_quantile_


def _pot_pot(scores, level, q):
    from sadlib import thresholds

    return thresholds.POTThreshold(risk=q, init_level=level).fit(scores).tail_quantile_


def _pot_own(scores, level, q):
    from scipy import stats

    t = float(np.quantile(scores, level))
    exc = scores[scores > t] - t
    gamma, _, sigma = stats.genpareto.fit(exc, floc=0)
    r = q * len(scores) / len(exc)
    return t - sigma * np.log(r) if abs(gamma) < 1e-8 else t + sigma / gamma * (r ** -gamma - 1)


def _pot_quantile(scores, level, q):
    return float(np.quantile(scores, 1 - q))


def _daily_alarm(train, test):
    return (test.index.hour == 12) & (test.index.minute < 10)


def _nb10_reference():
    ns = dict(nb10.q5.setup())
    exec(nb10.q5.solution_code, ns)
    return {"compressor_alarms": ns["compressor_alarms"]}


def _nb10_backward_fill():
    ns = dict(nb10.q5.setup())
    exec(nb10.q5.solution_code.replace('method="ffill"', 'method="bfill"'), ns)
    return {"compressor_alarms": ns["compressor_alarms"]}


CATALOGUE = [
    # notebook 04 Q1: the scaler fitted on the training rows
    Entry(nb04, 1, "leak", "all data", lambda: {"scaler": _minmax(_nb04_X())}, ("all the data",)),
    Entry(nb04, 1, "leak", "train and validation", lambda: {"scaler": _minmax(_nb04_X()[:500])},
          ("*and* validation",)),
    Entry(nb04, 1, "wrong", "399 rows", lambda: {"scaler": _minmax(_nb04_X()[:399])}, ("399 rows",)),
    Entry(nb04, 1, "right", "the training rows as a list", lambda: {"scaler": _minmax(_nb04_X()[:400].tolist())}),
    # notebook 05 Q2: one scaler fitted before the test
    Entry(nb05, 2, "leak", "50 test rows", lambda: _nb05_scaler(slice(750, 800)), ("leakage", "test part")),
    Entry(nb05, 2, "leak", "train through the test start", lambda: _nb05_scaler(slice(0, 800)), ("leakage",)),
    Entry(nb05, 2, "leak", "all rows", lambda: _nb05_scaler(slice(0, 1000)), ("all 1000 rows",)),
    Entry(nb05, 2, "right", "warm-up skipped", lambda: _nb05_scaler(slice(100, 600))),
    Entry(nb05, 2, "right", "test from row 700", lambda: _nb05_scaler(slice(0, 600), test_start=700)),
    # notebook 05 Q4: a threshold on the validation errors
    Entry(nb05, 4, "leak", "best-F1 test threshold typed in", _nb05_best_f1_threshold, ("typed in",)),
    Entry(nb05, 4, "leak", "test percentile",
          lambda: {"alarm_rule": lambda v, t: t > np.percentile(t, 99)}, ("leakage",)),
    Entry(nb05, 4, "right", "maximum with a margin", lambda: {"alarm_rule": lambda v, t: t > 1.5 * np.max(v)}),
    # notebook 08 Q1: k of n written with a loop
    Entry(nb08, 1, "wrong", "library function", lambda: {"k_of_n": _k_of_n_library}, ("write it yourself",)),
    Entry(nb08, 1, "wrong", "centred window", lambda: {"k_of_n": lambda a, k, n: nb08._k_of_n_variant(
        a, k, n, "centred")}, ("centred",)),
    Entry(nb08, 1, "right", "cumulative sum", lambda: {"k_of_n": _k_of_n_cumsum}),
    Entry(nb08, 1, "right", "loop", lambda: {"k_of_n": _k_of_n_loop}),
    # notebook 08 Q2: hysteresis written with a loop
    Entry(nb08, 2, "wrong", "library function", lambda: {"hysteresis": _hysteresis_library}, ("write it yourself",)),
    Entry(nb08, 2, "wrong", "no latch", lambda: {"hysteresis": lambda s, on, off: np.asarray(s) > on}, ("no latch",)),
    Entry(nb08, 2, "right", "loop with isnan", lambda: {"hysteresis": _hysteresis_loop}),
    # notebook 08 Q3: a percentile threshold from the training scores, then a minimum duration
    Entry(nb08, 3, "leak", "test percentile", lambda: {"alarm_pipeline": _pipeline(
        lambda tr, te, q: np.percentile(te, q))}, ("leakage",)),
    Entry(nb08, 3, "wrong", "quantile with q in percent", lambda: {"alarm_pipeline": _pipeline(
        lambda tr, te, q: np.percentile(tr, q / 100))}, ("0-100",)),
    Entry(nb08, 3, "right", "nearest-rank percentile", lambda: {"alarm_pipeline": _pipeline(
        lambda tr, te, q: np.percentile(tr, q, method="nearest"))}),
    # notebook 08 Q4: the POT start of SPOT
    Entry(nb08, 4, "wrong", "SPOTThreshold", lambda: {"pot_threshold": _pot_spot}, ("write it yourself",)),
    Entry(nb08, 4, "wrong", "POTThreshold", lambda: {"pot_threshold": _pot_pot}, ("write it yourself",)),
    Entry(nb08, 4, "wrong", "empirical quantile", lambda: {"pot_threshold": _pot_quantile}, ("z_q",)),
    Entry(nb08, 4, "right", "own fit", lambda: {"pot_threshold": _pot_own}),
    # notebook 10 Q5: the mini-project
    Entry(nb10, 5, "wrong", "an alarm at noon every day", lambda: {"compressor_alarms": _daily_alarm},
          ("fresh twin", "random line")),
    Entry(nb10, 5, "leak", "backward fill reads ahead", _nb10_backward_fill, ("leakage",)),
    Entry(nb10, 5, "right", "the reference", _nb10_reference),
]


CATALOGUE += all_entries()


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.id)
def test_catalogue(entry):
    question = getattr(entry.module, f"q{entry.number}")
    result = question.result(**entry.values())
    if entry.kind == "right":
        assert result.passed, result.message
    else:
        assert result.status == "incorrect", result.message
        for word in entry.words:
            assert word in result.message, (word, result.message)


def test_catalogue_has_two_wrong_answers_and_a_right_one_per_covered_question():
    by_question: dict = {}
    for e in CATALOGUE:
        by_question.setdefault((e.module.__name__, e.number), []).append(e.kind)
    for key, kinds in by_question.items():
        assert sum(k in ("wrong", "leak") for k in kinds) >= 2 and "right" in kinds, key


@pytest.mark.parametrize("number", [f"{n:02d}" for n in range(12)])
def test_every_question_is_in_the_catalogue(number):
    """Every question of exercises 00-11 has two named wrong answers (a leak among them where the question fits
    anything to data) and one unconventional right answer, in this file or in ``tests/catalogue_nbNN.py``."""
    import importlib

    module = importlib.import_module(f"sadlib.course.exercises.nb{number}")
    covered = {e.number for e in CATALOGUE if e.module is module}
    missing = [q.label for q in questions(module) if q.number not in covered]
    assert not missing, f"exercises nb{number}: {missing} have no catalogue entries (tests/catalogue_nb{number}.py)"


def test_a_library_function_works_again_after_a_check():
    from sadlib import alarms, thresholds

    nb08.q1.result(k_of_n=_k_of_n_library)
    nb08.q4.result(pot_threshold=_pot_spot)
    assert alarms.k_of_n_alarms(np.array([1.0, 1.0]), 0.5, 2, 2).tolist() == [False, True]
    assert thresholds.SPOTThreshold.__name__ == "SPOTThreshold"
