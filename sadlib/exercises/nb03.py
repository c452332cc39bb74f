"""Exercises for notebook 03 (statistical and classical baselines)."""

from __future__ import annotations

import numpy as np

from sadlib.exercises.checker import Incorrect, Question, expect_close, expect_equal, expect_true

__all__ = ["q1", "q2", "q3", "q4"]

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np
import pandas as pd

from sadlib import detectors, signals
from sadlib.windows import chronological_split

data, events = signals.generate(n_days=4, anomalies=16, seed=3)
sensors = list(signals.SENSORS)
data[sensors] = data[sensors].interpolate(limit_direction="both")
train, val, test = chronological_split(data, train=0.4, val=0.1)
test_events = events[events["start"] >= test.index[0]].reset_index(drop=True)

det = detectors.make("iforest", window=10).fit(train[sensors])  # for Q1
val_scores = det.score(val[sensors])

zscore = detectors.make("zscore", window=60).fit(train[sensors])  # for Q2
zscore.calibrate(zscore.score(val[sensors]), threshold=("percentile", {"q": 99.9}))
zscore_alarms = zscore.predict(test[sensors])
"""


def _context() -> dict:
    namespace: dict = {}
    exec(SETUP, namespace)
    return namespace


def _check_recalibrate(det, val_scores, test, sensors, alarm_rate):
    expect_close(det.threshold_, np.percentile(val_scores, 99.5), rtol=1e-6,
                 what="det.threshold_ (the 99.5th percentile of the validation scores)")
    expected = float(np.mean(det.score(test[sensors]) > det.threshold_))
    expect_close(float(alarm_rate), expected, atol=1e-9, what="the share of test samples flagged")


q1 = Question(
    1,
    "Without refitting, make `det` use the 99.5th percentile of `val_scores` as its threshold. Then set "
    "`alarm_rate` to the share of test samples it flags.",
    ("det", "val_scores", "test", "sensors", "alarm_rate"),
    _check_recalibrate,
    ["`det.calibrate(normal_scores, threshold=...)` re-chooses `threshold_` only.",
     "`threshold=(\"percentile\", {\"q\": 99.5})`; then `det.predict(test[sensors]).mean()`."],
    "det.calibrate(val_scores, threshold=(\"percentile\", {\"q\": 99.5}))\n"
    "alarm_rate = det.predict(test[sensors]).mean()",
    setup=_context,
)


def _missed_types(test, test_events, zscore_alarms) -> set[str]:
    missed = set(test_events["type"])
    for _, ev in test_events.iterrows():
        inside = (test.index >= ev["start"]) & (test.index <= ev["end"])
        if np.asarray(zscore_alarms)[inside].any():
            missed.discard(ev["type"])
    return missed


def _check_missed(missed, test, test_events, zscore_alarms):
    expect_true(isinstance(missed, (set, list, tuple)), "`missed` should be a set of type names, e.g. {'stuck'}.")
    got, expected = set(missed), _missed_types(test, test_events, zscore_alarms)
    unknown = got - set(test_events["type"])
    if unknown:
        raise Incorrect(f"{sorted(unknown)} are not anomaly types of the test events.")
    if got != expected:
        raise Incorrect(
            f"not quite: you listed {sorted(got)}. A type counts as missed when *none* of its events has an alarm "
            "between its start and end (both inclusive)."
        )


q2 = Question(
    2,
    "`zscore_alarms` are the rolling z-score's alarms on the test part. Set `missed` to the set of anomaly "
    "types none of whose events got a single alarm.",
    ("missed", "test", "test_events", "zscore_alarms"),
    _check_missed,
    ["Loop over `test_events.iterrows()`; an event covers `(test.index >= start) & (test.index <= end)`.",
     "Start from all types and remove each type that has an event with `zscore_alarms[inside].any()`."],
    "missed = set(test_events['type'])\n"
    "for _, ev in test_events.iterrows():\n"
    "    inside = (test.index >= ev['start']) & (test.index <= ev['end'])\n"
    "    if zscore_alarms[inside].any():\n"
    "        missed.discard(ev['type'])",
    setup=_context,
)


def _reference_ewma(x, lam):
    z, out = 0.0, np.empty(len(x))
    for i, v in enumerate(x):
        z = lam * v + (1 - lam) * z
        out[i] = z
    return out


def _check_ewma(my_ewma):
    expect_true(callable(my_ewma), "`my_ewma` should be a function of (x, lam).")
    rng = np.random.default_rng(1)
    for lam in (0.1, 0.3, 1.0):
        x = rng.normal(size=50)
        got = np.asarray(my_ewma(x.copy(), lam), dtype=float)
        expect_equal(got.shape, x.shape, "the shape of your EWMA")
        if not np.allclose(got, _reference_ewma(x, lam)):
            raise Incorrect(f"with lam={lam} the values differ; start from z = 0 and use z_t = lam·x_t + (1 − lam)·z_(t−1).")


q3 = Question(
    3,
    "Write `my_ewma(x, lam)` returning the EWMA of a 1-D array: z_t = lam·x_t + (1 − lam)·z_(t−1), with z = 0 "
    "before the first sample.",
    ("my_ewma",),
    _check_ewma,
    ["A plain loop over the values is fine.", "Keep the previous z in a variable and append each new z to a list."],
    "import numpy as np\n\n"
    "def my_ewma(x, lam):\n"
    "    z, out = 0.0, []\n"
    "    for value in x:\n"
    "        z = lam * value + (1 - lam) * z\n"
    "        out.append(z)\n"
    "    return np.array(out)",
    setup=lambda: {},
)


def _check_contamination(flagged_share):
    if float(flagged_share) > 1:
        raise Incorrect("a share is a fraction between 0 and 1.")
    expect_close(float(flagged_share), 0.10, atol=0.002, what="the share of training samples flagged")


q4 = Question(
    4,
    "Fit scikit-learn's `IsolationForest(contamination=0.1, random_state=0)` on the training sensors "
    "`train[sensors]` and set `flagged_share` to the share of those *training* samples that `predict` "
    "calls outliers (-1). What does that tell you about `contamination`?",
    ("flagged_share",),
    _check_contamination,
    ["`from sklearn.ensemble import IsolationForest`", "`(forest.predict(X) == -1).mean()`"],
    "from sklearn.ensemble import IsolationForest\n"
    "forest = IsolationForest(contamination=0.1, random_state=0).fit(train[sensors])\n"
    "flagged_share = (forest.predict(train[sensors]) == -1).mean()\n"
    "# contamination only sets the threshold so that this share of the training data is flagged",
    setup=_context,
)
