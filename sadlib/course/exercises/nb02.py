"""Exercises for notebook 02 (evaluating detectors honestly).

Q1, Q3, Q4 and Q5 ask the learner to write a method of the lesson (point metrics, a validation
percentile threshold, event detection with event recall and false alarms per day, point adjustment);
the checks call it on data the learner has not seen, with ``sadlib``'s own version made unavailable.
Q3's threshold function is also called with the *test* scores changed (an extreme fault planted,
rows shuffled, the week replaced) and must give the same threshold. Q6 is end to end: the learner's
pipeline (causal fill, chronological split, rolling z-score, threshold on validation) runs on a fresh
twin of the pump, with its test labels and its future changed, and is compared with its random line.
An untouched function template (it still returns ``____``) is "not attempted".
"""

from __future__ import annotations

from functools import lru_cache
from numbers import Real

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    call_answer,
    expect_close,
    expect_true,
    library_unavailable,
    percentile_bounds,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

#: The exercise notebook's setup (after the question imports); the checks and tests run in it.
SETUP = """\
import numpy as np

from sadlib import detectors, metrics, signals
from sadlib.windows import chronological_split

# Notebook 02's three weeks: week 1 to fit, week 2 (normal) to calibrate, week 3 (with faults) to test
raw, _ = signals.generate(n_days=21, seed=7, clean_fraction=2 / 3)  # with its gap (for Q6)
sensors = list(signals.SENSORS)
data = raw.copy()
data[sensors] = data[sensors].ffill().bfill()  # causal fill: the last value seen
train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
det = detectors.make("zscore", window=60).fit(train[sensors])
val_scores, test_scores = det.score(val[sensors]), det.score(test[sensors])
y_test = test["anomaly"].to_numpy().astype(bool)
test_alarms = test_scores > np.percentile(val_scores, 99.9)
"""

#: Answer cells that differ from ``name = ____`` (the code before ``qN.check()``).
ANSWER_CELLS = {
    1: "def my_point_metrics(y_true, y_pred):\n"
       "    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)\n"
       "    return ____  # (precision, recall, f1)\n\n\n"
       "# try it: my_point_metrics(y_test, test_alarms)",
    3: "def honest_threshold(val_scores, test_scores):\n"
       "    return ____  # your code here",
    4: "def event_report(y_true, alarms, samples_per_day):\n"
       "    y_true, alarms = np.asarray(y_true, bool), np.asarray(alarms, bool)\n"
       "    return ____  # (event_recall, false_alarms_per_day)\n\n\n"
       "# try it: event_report(y_test, test_alarms, 24 * 60)",
    5: "def my_point_adjust(y_true, y_pred):\n"
       "    return ____  # your code here",
    6: "def honest_pipeline(data):\n"
       "    sensors = list(signals.SENSORS)\n"
       "    return ____  # the boolean alarms of the test third\n\n\n"
       "# try it: honest_pipeline(raw).mean()",
}


#: numbers worked out by hand are accepted within 0.5 % (three significant figures: 0.0208 for 20/960)
HAND_RTOL = 5e-3

#: computed answers agree to float32 precision (a float32 answer is right; shown numbers never look equal)
_RTOL = 1e-6

#: how this notebook's checks call the learner's functions (warnings are shown)
_CALL = dict(quiet=False, unwritten="`{name}` still returns ____; replace ____ with your code")


def _number(value, what):
    """A real number (Python or NumPy, or a 0-d array), not a bool or a string."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.integer, np.floating)):
        raise Incorrect(f"{what} should be a number, but it is a {type(value).__name__}.")
    return float(value)


# --------------------------------------------------------------------------- Q1
def _label_cases(seed: int = 12) -> list[tuple[np.ndarray, np.ndarray]]:
    """Label/alarm pairs the learner has not seen: random layouts, an alarm-free one, everything flagged."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(12):
        n = int(rng.integers(50, 400))
        y = np.convolve(rng.random(n) < 0.02, np.ones(int(rng.integers(1, 12))), mode="same") > 0
        y[int(rng.integers(0, n))] = True  # at least one anomalous sample
        alarms = rng.random(n) < [0.03, 0.1, 0.3][k % 3]
        cases.append((y, alarms))
    y = cases[0][0]
    cases += [(y, np.zeros(y.size, bool)), (y, np.ones(y.size, bool)), (y, y.copy())]
    return cases


def _expected_point(y, p):
    tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return precision, recall, f1


def _point_library():
    import sklearn.metrics as skm
    import sklearn.metrics._classification as skc

    from sadlib import metrics

    # scikit-learn's F-scores, Jaccard and report all count through these two (as module globals of skc)
    inner = [(skc, "precision_recall_fscore_support"), (skc, "multilabel_confusion_matrix")]
    public = ["precision_score", "recall_score", "f1_score", "fbeta_score", "jaccard_score", "classification_report",
              "precision_recall_fscore_support", "confusion_matrix", "multilabel_confusion_matrix"]
    return [(metrics, "point_metrics"), *inner, *((skm, name) for name in public)]


def _check_point_metrics(my_point_metrics):
    expect_true(callable(my_point_metrics), "`my_point_metrics` should be a function of (y_true, y_pred).")
    for y, p in _label_cases():
        shown = f"for {int(y.sum())} anomalous samples of {y.size} and {int(p.sum())} alarms"
        with library_unavailable(my_point_metrics, _point_library()):
            got = call_answer(my_point_metrics, "my_point_metrics", y.astype(int), p.astype(int), **_CALL)
        if not (isinstance(got, (tuple, list, np.ndarray)) and len(got) == 3):
            raise Incorrect(f"return three numbers, (precision, recall, f1); got {type(got).__name__} "
                            f"{got!r:.60}.")
        got = [_number(v, f"each of the three numbers ({name})")
               for v, name in zip(got, ("precision", "recall", "f1"))]
        if not all(np.isfinite(got)):
            raise Incorrect(f"{shown} your function returns {got}: with no alarm, precision is 0/0; the course "
                            "(and scikit-learn's zero_division=0) sets it to 0.")
        precision, recall, f1 = _expected_point(y, p)
        if np.allclose(got, [precision, recall, f1], rtol=_RTOL, atol=1e-9):
            continue
        if np.allclose(got[:2], [recall, precision]) and not np.isclose(precision, recall):
            raise Incorrect(f"{shown} precision and recall are swapped: precision divides by the alarms (TP + FP), "
                            "recall by the anomalous samples (TP + FN).")
        fn, tn = np.sum(y & ~p), np.sum(~y & ~p)
        if np.isclose(got[0], tn / (tn + fn) if tn + fn else 0.0) and not np.isclose(got[0], precision):
            raise Incorrect(f"{shown} you scored the *normal* class: anomaly is the positive class, so TP are "
                            "alarms on anomalous samples.")
        if np.allclose(got[:2], [precision, recall]):
            if np.isclose(got[2], (precision + recall) / 2):
                raise Incorrect(f"{shown} F1 is the harmonic mean, 2 · precision · recall / (precision + recall), "
                                "not the arithmetic mean.")
            raise Incorrect(f"{shown} precision and recall are right, F1 is not: it is 2 TP / (2 TP + FP + FN) "
                            f"= {f1:.4g}, yours is {got[2]:.4g}.")
        raise Incorrect(f"{shown} expected precision, recall, F1 = {precision:.4g}, {recall:.4g}, {f1:.4g}; "
                        f"yours are {got[0]:.4g}, {got[1]:.4g}, {got[2]:.4g}.")
    return "it matches the definitions on 15 label layouts you have not seen, including one with no alarm."


q1 = FunctionQuestion(
    1,
    "Write `my_point_metrics(y_true, y_pred)` returning `(precision, recall, f1)` for two boolean arrays, with "
    "anomaly as the positive class and precision = 0 when there is no alarm. Write it from the four counts "
    "(TP, FP, FN, TN); `metrics.point_metrics` and scikit-learn's scores are unavailable during the check.",
    ("my_point_metrics",),
    _check_point_metrics,
    ["TP = `np.sum(y_true & y_pred)`, FP = `np.sum(~y_true & y_pred)`, FN = `np.sum(y_true & ~y_pred)`.",
     "precision = TP / (TP + FP) (0 when there is no alarm), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN)."],
    "import numpy as np\n\n\n"
    "def my_point_metrics(y_true, y_pred):\n"
    "    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)\n"
    "    tp, fp, fn = np.sum(y_true & y_pred), np.sum(~y_true & y_pred), np.sum(y_true & ~y_pred)\n"
    "    precision = tp / (tp + fp) if tp + fp else 0.0\n"
    "    recall = tp / (tp + fn) if tp + fn else 0.0\n"
    "    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0\n"
    "    return precision, recall, f1",
    setup=lambda: setup_namespace("import numpy as np"),
    method="point precision, recall and F1",
)


# --------------------------------------------------------------------------- Q2
def _check_flag_all(f1_flag_all):
    p = 0.35
    f1 = _number(f1_flag_all, "`f1_flag_all`")
    if np.isclose(f1, p):
        raise Incorrect("that is the precision of flagging everything; F1 combines it with the recall (which is 1).")
    if np.isclose(f1, 1.0):
        raise Incorrect("that is the recall of flagging everything; F1 combines it with the precision (the anomaly "
                        "share).")
    if np.isclose(f1, p / (1 + p)):
        raise Incorrect("F1 = 2 · precision · recall / (precision + recall): the factor 2 is missing.")
    if np.isclose(f1, 100 * 2 * p / (1 + p)):
        raise Incorrect("give F1 as a fraction between 0 and 1, not in percent.")
    expect_close(f1, 2 * p / (1 + p), rtol=HAND_RTOL, what="the F1 of flagging everything")


q2 = Question(
    2,
    "In a test set 35 % of the samples are anomalous. Set `f1_flag_all` to the F1 of the detector that flags "
    "every sample.",
    ("f1_flag_all",),
    _check_flag_all,
    ["Flagging everything: recall = 1, precision = the anomaly share.",
     "F1 = 2 · precision · recall / (precision + recall)."],
    "p = 0.35\nprecision, recall = p, 1.0\nf1_flag_all = 2 * precision * recall / (precision + recall)",
    setup=lambda: {},
)


# --------------------------------------------------------------------------- Q3
def _context() -> dict:
    """A fresh namespace in which the setup cell has run."""
    return setup_namespace(SETUP)


@lru_cache(maxsize=1)
def _scores() -> tuple[np.ndarray, np.ndarray]:
    ns = _context()
    val, test = ns["val_scores"], ns["test_scores"]
    val.flags.writeable = test.flags.writeable = False  # cached: nobody may change them
    return val, test


def _test_variants(test):
    """The test scores changed in three ways that must not move an honest threshold."""
    rng = np.random.default_rng(3)
    planted = test.copy()
    planted[rng.choice(test.size, size=test.size // 20, replace=False)] = 1e6  # 5 % extreme fault scores
    return {"with an extreme fault planted in 5 % of the test samples": planted,
            "with the test samples shuffled and halved": rng.permutation(test)[: test.size // 2],
            "with the test week replaced by other scores": rng.gamma(2.0, 1.0, size=test.size + 1000),
            "with the test scores made 1000 times smaller": test / 1000.0}


def _threshold_library():
    from sadlib import thresholds

    return [(thresholds, "PercentileThreshold"), (thresholds, "make_threshold")]


def _check_honest_threshold(honest_threshold):
    expect_true(callable(honest_threshold),
                "`honest_threshold` should be a function of (val_scores, test_scores) that returns a threshold.")
    val, test = _scores()
    with library_unavailable(honest_threshold, _threshold_library()):
        got = _number(call_answer(honest_threshold, "honest_threshold", val, test, **_CALL),
                      "the threshold your function returns")
    if np.isclose(got, np.percentile(test, 99.5)):
        raise Incorrect("that threshold comes from the test scores: leakage. Use the validation scores only.")
    for change, other_test in _test_variants(test).items():
        moved = _number(call_answer(honest_threshold, "honest_threshold", val, other_test, **_CALL), "your threshold")
        if not np.isclose(moved, got, rtol=1e-9, atol=0.0):
            raise Incorrect(f"your threshold moved from {got:.4g} to {moved:.4g} when only the test scores changed "
                            f"({change}): it depends on the data it will be judged on, which is leakage. "
                            "Compute it from the validation scores alone.")
    scaled = _number(call_answer(honest_threshold, "honest_threshold", 2 * val, test, **_CALL), "your threshold")
    if np.isclose(scaled, got):
        raise Incorrect("your threshold stayed the same when the validation scores passed to it were doubled: compute "
                        "it from the `val_scores` argument (a number typed in, or a variable of your notebook, does "
                        "not follow new data).")
    for q in (99.0, 99.9, 100.0):
        if np.isclose(got, np.percentile(val, q)):
            raise Incorrect(f"that is the {q:g}th percentile of the validation scores; the question asks for the "
                            "99.5th.")
    if np.isclose(got, np.percentile(val, 0.995)):
        raise Incorrect("`np.percentile` takes q in percent (99.5); `np.quantile` takes a fraction (0.995).")
    lo, hi = percentile_bounds(val, 99.5)
    if lo <= got <= hi:  # a percentile definition that differs only in interpolation (np.sort(val)[int(.995 n)])
        return "it ignores the test scores whatever they hold, and follows the validation scores."
    expect_close(got, np.percentile(val, 99.5), rtol=1e-6, what="the 99.5th percentile of the validation scores")
    return "it ignores the test scores whatever they hold, and follows the validation scores."


q3 = FunctionQuestion(
    3,
    "Write `honest_threshold(val_scores, test_scores)`: it returns the alarm threshold at the 99.5th percentile "
    "of the scores of the normal validation week. Both arrays are passed because both sit in your notebook; "
    "the check calls your function again with the test scores changed, and the threshold must not move.",
    ("honest_threshold",),
    _check_honest_threshold,
    ["`np.percentile(scores, q)` with q in percent.",
     "Which scores were *not* used to judge the detector? Use only those; the other argument stays unused."],
    "import numpy as np\n\n\n"
    "def honest_threshold(val_scores, test_scores):\n"
    "    return np.percentile(val_scores, 99.5)  # test_scores stays unused on purpose",
    setup=_context,
    method="validation percentile threshold",
)


# --------------------------------------------------------------------------- Q4
def _event_cases(seed: int = 21) -> list[tuple[np.ndarray, np.ndarray]]:
    """Label/alarm layouts the learner has not seen, with runs at both ends and alarms that span events."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(15):
        n = int(rng.integers(300, 3000))
        y = np.convolve(rng.random(n) < 0.004, np.ones(int(rng.integers(5, 60))), mode="same") > 0
        alarms = np.convolve(rng.random(n) < 0.01, np.ones(int(rng.integers(1, 8))), mode="same") > 0
        cases.append((y, alarms))
    y, a = cases[0][0].copy(), cases[0][1].copy()
    y[:5] = a[-3:] = a[:2] = True  # an event and alarm ranges at the series' ends
    cases.append((y, a))
    cases.append((np.zeros(500, bool), np.r_[np.zeros(250, bool), np.ones(250, bool)]))  # no event at all
    # edges by hand: an event found only by its last sample, one only by its first, alarm ranges that end
    # just before an event or start just after one (false alarms: they touch no event sample)
    y, a = np.zeros(150, bool), np.zeros(150, bool)
    for start in (10, 40, 70, 100):
        y[start:start + 10] = True
    for start, end in ((19, 20), (40, 41), (50, 53), (67, 70), (95, 101)):
        a[start:end] = True
    cases.append((y, a))
    return cases


def _expected_events(y, a, samples_per_day):
    from sadlib.metrics import event_metrics

    ev = event_metrics(y, a)
    return ev["event_recall"], ev["n_false_alarm_events"] / (y.size / samples_per_day)


def _event_library():
    from sadlib import _runs, metrics

    return [(metrics, "events"), (metrics, "event_metrics"), (metrics, "event_f1"), (metrics, "detection_delays"),
            (metrics, "false_alarm_count"), (metrics, "false_alarms_per_day"), (metrics, "evaluate"),
            (_runs, "true_runs"), (_runs, "run_bounds"), (_runs, "any_true_in")]


def _check_event_report(event_report):
    expect_true(callable(event_report), "`event_report` should be a function of (y_true, alarms, samples_per_day).")
    for k, (y, a) in enumerate(_event_cases()):
        per_day = [1440, 8640, 96][k % 3]
        with library_unavailable(event_report, _event_library()):
            got = call_answer(event_report, "event_report", y.astype(int), a.astype(int), per_day, **_CALL)
        if not (isinstance(got, (tuple, list, np.ndarray)) and len(got) == 2):
            raise Incorrect(f"return two numbers, (event_recall, false_alarms_per_day); got {got!r:.60}.")
        recall, false_per_day = (_number(v, "each of the two numbers") for v in got)
        want_recall, want_false = _expected_events(y, a, per_day)
        shown = (f"with {len(_expected_runs(y))} events, {len(_expected_runs(a))} alarm ranges in {y.size} samples "
                 f"({per_day} a day)")
        if not np.isfinite(recall):
            raise Incorrect(f"{shown}: with no event the event recall is 0/0; set it to 0.")
        if not np.isclose(recall, want_recall, rtol=_RTOL, atol=1e-9):
            edge = _expected_runs(y)
            if edge and (edge[0][0] == 0 or edge[-1][1] == y.size):
                hint = " Check a run that starts at the first sample or ends at the last one."
            elif any(a[s:e].sum() == 1 and (a[s] or a[e - 1]) for s, e in edge):
                hint = (" An alarm on an event's first or last sample finds it: look at `alarms[start:end]`, "
                        "with end exclusive, no sample more or less.")
            else:
                hint = ""
            raise Incorrect(f"{shown}: event recall should be {want_recall:.4g} (the share of events with at least "
                            f"one alarm inside); yours is {recall:.4g}.{hint}")
        if np.isclose(false_per_day, want_false, rtol=_RTOL, atol=1e-9):
            continue
        days = y.size / per_day
        outside_samples = np.sum(a & ~y)
        if np.isclose(false_per_day, outside_samples / days) and not np.isclose(outside_samples / days, want_false):
            raise Incorrect(f"{shown}: you counted alarm *samples* outside events; count alarm *ranges* (runs of "
                            "True) that touch no event.")
        if np.isclose(false_per_day, len(_expected_runs(a)) / days) and not np.isclose(len(_expected_runs(a)) / days,
                                                                                        want_false):
            raise Incorrect(f"{shown}: you counted every alarm range; only the ranges that touch no event are false "
                            "alarms.")
        if np.isclose(false_per_day, want_false * days):
            raise Incorrect(f"{shown}: that is the number of false alarm ranges; divide by the number of days "
                            "(samples / samples_per_day).")
        raise Incorrect(f"{shown}: false alarms per day should be {want_false:.4g} (alarm ranges that touch no "
                        f"event, per day); yours is {false_per_day:.4g}.")
    return (f"it finds the runs, at the series' ends too, and counts like `metrics.event_metrics` on "
            f"{len(_event_cases())} layouts.")


def _expected_runs(flags):
    from sadlib.metrics import events

    return events(flags)


q4 = FunctionQuestion(
    4,
    "Write `event_report(y_true, alarms, samples_per_day)` returning `(event_recall, false_alarms_per_day)`: "
    "find the events (runs of True in `y_true`) and the alarm ranges (runs of True in `alarms`) yourself; "
    "event recall is the share of events with at least one alarm inside (0 when there is no event), and a "
    "false alarm is an alarm range that touches no event, counted per day of data. `metrics.events`, "
    "`metrics.event_metrics` and the other event functions are unavailable during the check.",
    ("event_report",),
    _check_event_report,
    ["Runs of True: `edges = np.diff(np.concatenate(([0], flags.astype(int), [0])))`; the runs start where "
     "`edges == 1` and end (exclusive) where `edges == -1`.",
     "An event is found when `alarms[start:end].any()`; an alarm range is false when `not y_true[start:end].any()`."],
    "import numpy as np\n\n\n"
    "def runs_of_true(flags):\n"
    "    edges = np.diff(np.concatenate(([0], np.asarray(flags, int), [0])))\n"
    "    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))\n\n\n"
    "def event_report(y_true, alarms, samples_per_day):\n"
    "    y_true, alarms = np.asarray(y_true, bool), np.asarray(alarms, bool)\n"
    "    events = runs_of_true(y_true)\n"
    "    found = [alarms[s:e].any() for s, e in events]\n"
    "    false_ranges = [(s, e) for s, e in runs_of_true(alarms) if not y_true[s:e].any()]\n"
    "    event_recall = float(np.mean(found)) if events else 0.0\n"
    "    return event_recall, len(false_ranges) / (len(y_true) / samples_per_day)",
    setup=lambda: setup_namespace("import numpy as np"),
    method="event detection, event recall and false alarms per day",
)


# --------------------------------------------------------------------------- Q5
def _point_adjust_cases():
    rng = np.random.default_rng(0)
    cases = [(np.array([0, 1, 1, 1, 0, 1, 1, 0]), np.array([0, 0, 1, 0, 0, 0, 0, 1]))]
    for _ in range(20):
        y = rng.random(200) < 0.03
        y = np.convolve(y, np.ones(8), mode="same") > 0  # a few events of ~8 samples
        cases.append((y.astype(int), (rng.random(200) < 0.05).astype(int)))
    return cases


def _adjust_library():
    from sadlib import metrics

    return [(metrics, "point_adjust"), (metrics, "point_adjusted_f1")]


def _check_point_adjust(my_point_adjust):
    from sadlib.metrics import point_adjust

    expect_true(callable(my_point_adjust), "`my_point_adjust` should be a function of (y_true, y_pred).")
    for y_true, y_pred in _point_adjust_cases():
        expected = point_adjust(y_true, y_pred)
        with library_unavailable(my_point_adjust, _adjust_library()):
            got = np.asarray(call_answer(my_point_adjust, "my_point_adjust", y_true, y_pred, **_CALL))
        shown = f"for y_true={y_true[:8].tolist()}… and y_pred={y_pred[:8].tolist()}…"
        expect_true(got.shape == expected.shape,
                    f"{shown} return one decision per sample, shape {expected.shape}; got shape {got.shape}.")
        got = got.astype(bool)
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, y_pred.astype(bool)):
            raise Incorrect(f"{shown} your function returns the alarms unchanged: every sample of an event with at "
                            "least one alarm must become an alarm.")
        outside = ~y_true.astype(bool)
        if np.array_equal(got[~outside], expected[~outside]):
            raise Incorrect(f"{shown} the events are adjusted right, but the alarms outside events changed: keep "
                            "them as they are.")
        raise Incorrect(f"{shown} the result differs from point adjustment: every sample of an event with at least "
                        "one alarm must become an alarm; other alarms stay.")


q5 = FunctionQuestion(
    5,
    "Write `my_point_adjust(y_true, y_pred)` returning the point-adjusted predictions: if any sample of a "
    "labelled event is flagged, flag the whole event; alarms outside events are kept. "
    "`metrics.point_adjust` is unavailable during the check; `metrics.events` may help.",
    ("my_point_adjust",),
    _check_point_adjust,
    ["`sadlib.metrics.events(y_true)` (or your runs of True from Q4) lists the events as (start, end), end "
     "exclusive.",
     "Copy `y_pred` as booleans, then for each event: if `adjusted[start:end].any()`, set the slice to True."],
    "import numpy as np\nfrom sadlib.metrics import events\n\n\n"
    "def my_point_adjust(y_true, y_pred):\n"
    "    adjusted = np.asarray(y_pred).astype(bool).copy()\n"
    "    for start, end in events(y_true):\n"
    "        if adjusted[start:end].any():\n"
    "            adjusted[start:end] = True\n"
    "    return adjusted",
    setup=lambda: {},
    method="point adjustment",
)


# --------------------------------------------------------------------------- Q6
Q6_SEED = 29  # the fresh twin the check runs the pipeline on (the notebook's pump is seed 7)
Q6_Q = 99.9


def _reference_scores(raw):
    """The task's pipeline on ``raw``: its validation and test scores."""
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    sensors = list(signals.SENSORS)
    filled = raw.copy()
    filled[sensors] = filled[sensors].ffill().bfill()
    train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
    det = detectors.make("zscore", window=60).fit(train[sensors])
    return det.score(val[sensors]), det.score(test[sensors]), len(train) + len(val)


@lru_cache(maxsize=1)
def _twin():
    """A fresh three-week twin of the pump (its gap kept), and the task's pipeline's scores on it."""
    from sadlib import signals

    raw, _ = signals.generate(n_days=21, seed=Q6_SEED, clean_fraction=2 / 3)
    return (raw, *_reference_scores(raw))


def _noisier_validation(raw, test_start):
    """``raw`` with heavy noise added to the validation third: an honest threshold must rise."""
    frame = raw.copy()
    sensors = [c for c in frame.columns if c != "anomaly"]
    start = test_start // 2
    block = frame[sensors].iloc[start:test_start]
    noise = np.random.default_rng(1).normal(0.0, 1.0, block.shape) * block.std().to_numpy()
    frame.iloc[start:test_start, [frame.columns.get_loc(c) for c in sensors]] = block.to_numpy() + noise
    return frame


def _planted_spikes(raw, test_start):
    """``raw`` with pairs planted in the test third's vibration: a huge spike, then 60 or 61 samples later a bump.

    A rolling z-score over the 60 samples before t still has the spike in its window 60 samples later (the bump
    stays silent) and has dropped it 61 samples later (the bump alarms), so a window of 59 or 61 samples, or one
    that holds t itself, gives other alarms on the bumps.
    """
    frame = raw.copy()
    col = frame.columns.get_loc("vibration")
    sigma = float(frame["vibration"].iloc[:test_start // 2].std())
    for i in range(20):
        spike = test_start + 500 + 450 * i
        frame.iloc[spike, col] += 1000.0 * sigma
        frame.iloc[spike + (60 if i % 2 else 61), col] += 10.0 * sigma
    return frame


def _differences(alarms, val_scores, test_scores):
    lo, hi = percentile_bounds(val_scores, Q6_Q)
    widest, narrowest = test_scores > lo * (1 - 1e-9), test_scores > hi * (1 + 1e-9)
    return int(np.sum(alarms & ~widest)), int(np.sum(narrowest & ~alarms)), narrowest.mean()


def _run_pipeline(fn, frame, n_test, what):
    out = call_answer(fn, "honest_pipeline", frame, **_CALL)
    try:
        alarms = np.asarray(out)
    except Exception:  # noqa: BLE001 (anything that is not array-like)
        raise Incorrect(f"`honest_pipeline` should return the test third's alarms as a boolean array; got "
                        f"{type(out).__name__}.") from None
    if alarms.shape != (n_test,):
        raise Incorrect(f"{what}: return one alarm per sample of the test third, shape ({n_test},); got shape "
                        f"{alarms.shape}.")
    if alarms.dtype != bool and not np.isin(alarms, (0, 1)).all():
        raise Incorrect(f"{what}: return booleans (or 0/1), one alarm per test sample.")
    return alarms.astype(bool)


def _future_changed(raw, cut, change=True, gap=True):
    """``raw`` with every row from ``cut`` on changed (``change``) and a gap in the current that straddles ``cut``
    (``gap``)."""
    frame = raw.copy()
    sensors = [c for c in frame.columns if c != "anomaly"]
    if change:
        frame.iloc[cut:, [frame.columns.get_loc(c) for c in sensors]] = (
            3.0 * frame[sensors].iloc[cut:].to_numpy() + 25.0)
    if gap:
        frame.iloc[cut - 20:cut + 20, frame.columns.get_loc("current")] = np.nan
    return frame


def _check_pipeline(honest_pipeline):
    from sadlib import metrics

    expect_true(callable(honest_pipeline), "`honest_pipeline` should be a function of one argument, `data`.")
    raw, val_scores, test_scores, test_start = _twin()
    n_test = len(raw) - test_start
    y = raw["anomaly"].to_numpy()[test_start:].astype(bool)
    alarms = _run_pipeline(honest_pipeline, raw.copy(), n_test, "on a fresh twin of the pump")

    hidden = raw.copy()
    hidden.iloc[test_start:, hidden.columns.get_loc("anomaly")] = np.random.default_rng(0).permutation(
        hidden["anomaly"].to_numpy()[test_start:])
    if not np.array_equal(_run_pipeline(honest_pipeline, hidden, n_test, "with the test labels shuffled"), alarms):
        raise Incorrect("your alarms changed when only the *test labels* were shuffled: the pipeline reads the test "
                        "labels (a threshold tuned on them, say). That is leakage; use the labels only to score.")
    probes = [(test_start + int(frac * n_test), True) for frac in (0.25, 0.6, 0.9)]  # a gap straddles the cut
    own = np.flatnonzero(alarms)
    own = own[own > 100]
    probes += [(test_start + int(t) + 2, False) for t in own[:: max(1, own.size // 3)][:3]]  # just after an alarm
    for cut, gap in probes:
        same_past = (_run_pipeline(honest_pipeline, _future_changed(raw, cut, change=False), n_test,
                                   "with a gap in the current") if gap else alarms)
        changed = _run_pipeline(honest_pipeline, _future_changed(raw, cut, gap=gap), n_test, "with the future changed")
        before = cut - test_start  # every decision before the change
        if not np.array_equal(changed[:before], same_past[:before]):
            first = int(np.flatnonzero(changed[:before] != same_past[:before])[0])
            raise Incorrect(f"leakage (look-ahead): changing the data from test sample {before} on changed "
                            f"your alarm at test sample {first}, before the change. Something reads the future: "
                            "statistics or a threshold from the test part, a fit on all the data, a centred window, "
                            "or a fill that reads the value after a gap (interpolate, bfill). Fit on the first "
                            "third, calibrate on the second, fill gaps with the last value seen.")

    extra, missing, _ = _differences(alarms, val_scores, test_scores)
    if extra + missing > 2:
        raise Incorrect(f"on a fresh twin your pipeline raises {int(alarms.sum())} alarms in the test third: "
                        f"{extra} of them are not the task's pipeline's, and {missing} of the task's are missing. "
                        "Split the data into thirds by time (`chronological_split(data, "
                        "train=1/3, val=1/3)`), fit a rolling z-score with window=60 on the first third, and alarm "
                        f"above the {Q6_Q}th percentile of the validation third's scores.")
    spiked = _planted_spikes(raw, test_start)
    spiked_alarms = _run_pipeline(honest_pipeline, spiked, n_test, "with spikes planted in the test third")
    extra, missing, _ = _differences(spiked_alarms, *_reference_scores(spiked)[:2])
    if extra + missing > 2:
        raise Incorrect(f"with single spikes planted in the test third, {extra} of your alarms are not the task's and "
                        f"{missing} of the task's are missing, on samples 60 or 61 steps after a spike: your window "
                        "is not the 60 samples just before t. Use `window=60` (not 59 or 61), and leave the sample "
                        "itself out of its window (`rolling(60)` then `shift(1)`, as `detectors.make(\"zscore\", "
                        "window=60)` does).")
    noisy = _noisier_validation(raw, test_start)
    noisy_alarms = _run_pipeline(honest_pipeline, noisy, n_test, "with a noisier validation third")
    extra, missing, _ = _differences(noisy_alarms, *_reference_scores(noisy)[:2])
    if extra + missing > 2:
        raise Incorrect(f"when the validation third was made noisier, {extra} of your alarms are not the task's and "
                        f"{missing} of the task's are missing. Fit the z-score on the first third only (not on "
                        f"the first two), and take the threshold at the {Q6_Q}th percentile of the *validation* "
                        "third's scores (not the training third's, not a number typed in).")
    found = metrics.event_metrics(y, alarms)["event_recall"]
    line = metrics.shifted_alarms_baseline(y, alarms, metric="event_recall")["mean"]
    per_day = metrics.false_alarms_per_day(y, alarms, sampling_period="1min")
    return (f"on a fresh twin it reads neither the test labels nor the future; it finds {found:.0%} of the events "
            f"(its random line, the same alarms shifted: {line:.0%}) with {per_day:.2f} false alarms per day.")


q6 = FunctionQuestion(
    6,
    "End to end: write `honest_pipeline(data)` for a frame like `raw` (the pump's sensors with a gap, and an "
    "`anomaly` column). Fill the gaps causally (the last value seen), split into thirds by time, fit a rolling "
    "z-score (`detectors.make(\"zscore\", window=60)`) on the first third, set the threshold at the 99.9th "
    "percentile of the second third's scores, and return the boolean alarms of the test third. The check runs "
    "it on a fresh twin of the pump, with the test labels shuffled and with the future changed, and compares "
    "it with its random line.",
    ("honest_pipeline",),
    _check_pipeline,
    ["`data[sensors].ffill().bfill()` fills causally (bfill only reaches a gap at the very start); "
     "`chronological_split(filled, train=1 / 3, val=1 / 3)` gives the thirds.",
     "`det.score(val[sensors])` gives the validation scores; `det.score(test[sensors]) > threshold` the alarms. "
     "Never use `data[\"anomaly\"]` inside the pipeline."],
    "import numpy as np\n\n\n"
    "def honest_pipeline(data):\n"
    "    sensors = list(signals.SENSORS)\n"
    "    filled = data.copy()\n"
    "    filled[sensors] = filled[sensors].ffill().bfill()\n"
    "    train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)\n"
    "    det = detectors.make(\"zscore\", window=60).fit(train[sensors])\n"
    "    threshold = np.percentile(det.score(val[sensors]), 99.9)\n"
    "    return det.score(test[sensors]) > threshold",
    setup=_context,
)
