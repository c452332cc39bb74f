"""Exercises for notebook 02 (evaluating detectors honestly)."""

from __future__ import annotations

import numpy as np

from sadlib.exercises.checker import Incorrect, Question, expect_close, expect_true

__all__ = ["q1", "q2", "q3", "q4"]


def _check_rates(far, mar):
    # counts given in the prompt: tp=30, fp=20, fn=10, tn=940
    if np.isclose(far, 20 / 50):
        raise Incorrect("FAR divides the false alarms by all *normal* samples (FP + TN), not by all alarms.")
    expect_close(far, 20 / 960, rtol=1e-3, what="FAR")
    if np.isclose(mar, 10 / 1000):
        raise Incorrect("MAR divides the misses by all *anomalous* samples (FN + TP).")
    expect_close(mar, 10 / 40, rtol=1e-3, what="MAR")


q1 = Question(
    1,
    "A detector produced tp=30, fp=20, fn=10, tn=940 on a test set. Set `far` (false alarm rate) and "
    "`mar` (missed alarm rate) as fractions.",
    ("far", "mar"),
    _check_rates,
    ["FAR = FP / (FP + TN): the share of normal samples that raised an alarm.",
     "MAR = FN / (FN + TP) = 1 − recall."],
    "tp, fp, fn, tn = 30, 20, 10, 940\nfar = fp / (fp + tn)\nmar = fn / (fn + tp)",
    setup=lambda: {},
)


def _check_flag_all(f1_flag_all):
    p = 0.35
    if np.isclose(f1_flag_all, p):
        raise Incorrect("that is the precision of flagging everything; F1 combines it with the recall (which is 1).")
    expect_close(f1_flag_all, 2 * p / (1 + p), rtol=1e-3, what="the F1 of flagging everything")


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


def _scores_context():
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    data, _ = signals.generate(n_days=4, seed=7)
    sensors = list(signals.SENSORS)
    data[sensors] = data[sensors].interpolate(limit_direction="both")
    train, val, test = chronological_split(data, train=0.4, val=0.1)
    det = detectors.make("zscore", window=60).fit(train[sensors])
    return {"np": np, "val_scores": det.score(val[sensors]), "test_scores": det.score(test[sensors])}


def _check_threshold(threshold, val_scores, test_scores):
    if np.isclose(threshold, np.percentile(test_scores, 99.5)):
        raise Incorrect("that threshold comes from the test scores: leakage. Use the validation scores.")
    expect_close(threshold, np.percentile(val_scores, 99.5), rtol=1e-6, what="the 99.5th percentile of the validation scores")


q3 = Question(
    3,
    "Using the scores computed above, set `threshold` to the 99.5th percentile of the scores of the "
    "normal validation part.",
    ("threshold", "val_scores", "test_scores"),
    _check_threshold,
    ["`np.percentile(scores, q)` with q in percent.",
     "Which scores were *not* used to judge the detector?"],
    "threshold = np.percentile(val_scores, 99.5)",
    setup=_scores_context,
)


def _check_point_adjust(my_point_adjust):
    from sadlib.metrics import point_adjust

    expect_true(callable(my_point_adjust), "`my_point_adjust` should be a function of (y_true, y_pred).")
    rng = np.random.default_rng(0)
    cases = [(np.array([0, 1, 1, 1, 0, 1, 1, 0]), np.array([0, 0, 1, 0, 0, 0, 0, 1]))]
    for _ in range(20):
        y = rng.random(200) < 0.03
        y = np.convolve(y, np.ones(8), mode="same") > 0  # a few events of ~8 samples
        cases.append((y.astype(int), (rng.random(200) < 0.05).astype(int)))
    for y_true, y_pred in cases:
        got = np.asarray(my_point_adjust(y_true.copy(), y_pred.copy())).astype(bool)
        expected = point_adjust(y_true, y_pred)
        if got.shape != expected.shape or not np.array_equal(got, expected):
            raise Incorrect(
                f"for y_true={y_true[:8].tolist()}… and y_pred={y_pred[:8].tolist()}… the result differs from point "
                "adjustment: every sample of an event with at least one alarm must become an alarm; other alarms stay."
            )


q4 = Question(
    4,
    "Write `my_point_adjust(y_true, y_pred)` returning the point-adjusted predictions: if any sample of a "
    "labelled event is flagged, flag the whole event; alarms outside events are kept.",
    ("my_point_adjust",),
    _check_point_adjust,
    ["`sadlib.metrics.events(y_true)` lists the events as (start, end) with end exclusive.",
     "Copy `y_pred` as booleans, then for each event: if `adjusted[start:end].any()`, set the slice to True."],
    "import numpy as np\nfrom sadlib.metrics import events\n\n"
    "def my_point_adjust(y_true, y_pred):\n"
    "    adjusted = np.asarray(y_pred).astype(bool).copy()\n"
    "    for start, end in events(y_true):\n"
    "        if adjusted[start:end].any():\n"
    "            adjusted[start:end] = True\n"
    "    return adjusted",
    setup=lambda: {},
)
