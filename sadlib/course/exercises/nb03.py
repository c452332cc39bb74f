"""Exercises for notebook 03 (statistical and classical baselines)."""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    expect_close,
    expect_equal,
    expect_true,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4"]

#: the setup cell of the exercise notebook, also used by the tests (the lesson's three-week split)
SETUP = """\
import numpy as np
import pandas as pd

from sadlib import detectors, signals
from sadlib.course.modes import choose
from sadlib.windows import chronological_split

n_days = choose(full=21, fast=6)  # week 1 trains, week 2 calibrates, week 3 tests (as in the lesson)
data, events = signals.generate(n_days=n_days, anomalies=16, seed=3, clean_fraction=2 / 3)
sensors = list(signals.SENSORS)
data[sensors] = data[sensors].interpolate(limit_direction="both")
train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
test_events = events[events["start"] >= test.index[0]].reset_index(drop=True)

det = detectors.make("ocsvm", window=10).fit(train[sensors])  # for Q1

zscore = detectors.make("zscore", window=60).fit(train[sensors])  # for Q2
zscore.calibrate(zscore.score(val[sensors]), threshold=("percentile", {"q": 99.9}))
zscore_alarms = zscore.predict(test[sensors])
"""

#: answer cells that differ from ``name = ____`` (the notebook's cells, also used by the tests)
ANSWER_CELLS = {
    1: "def recalibrate(det, val_X, test_X):\n"
       "    # without refitting, set det's threshold from its scores on val_X; return the share of test_X it flags\n"
       "    return ____  # your code here",
    2: "missed = ____",
    3: "def my_ewma(x, lam):\n"
       "    return ____  # your code here",
    4: "from sklearn.ensemble import IsolationForest\n\n"
       "flagged_share = ____\n"
       "val_share = ____",
}

#: the written answer to Q4's question, shown in the notebook and after a correct check
CONTAMINATION_ANSWER = (
    "`contamination` does not change what the forest learns: after fitting, it moves one offset so that exactly "
    "that share of the *training* data is called an outlier. It is a quantile of the training scores, chosen by "
    "a number you have to know in advance. It is neither the share of false alarms you will get (on the normal "
    "validation week the share differs) nor the share of anomalies the model will find, and changing it means "
    "fitting again. Calibrate the threshold on held-out normal data instead; `calibrate` changes it without "
    "refitting."
)


def _context() -> dict:
    return setup_namespace(SETUP)


def _share(value, what: str) -> float:
    """A share given as a Python or NumPy number (or a 0-d array), checked to lie in [0, 1]."""
    arr = np.asarray(value) if not isinstance(value, Real) else None
    if arr is not None:
        if arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number):
            raise Incorrect(f"{what} should be one number (a share between 0 and 1), but it is a "
                            f"{type(value).__name__}{f' of shape {arr.shape}' if arr.ndim else ''}.")
        value = arr.item()
    if isinstance(value, bool):
        raise Incorrect(f"{what} should be a share between 0 and 1, not a bool.")
    value = float(value)
    if not 0 <= value <= 1:
        raise Incorrect(f"{what} is {value:.4g}, but a share is a fraction between 0 and 1 (0.05, not 5 %).")
    return value


def _planted(test_X):
    """The test part with a large anomaly on every 20th row: only the test part changes."""
    changed = test_X.copy()
    changed.iloc[::20] += 50 * test_X.std().to_numpy()
    return changed


def _probe_recalibrate(values):
    det, X = copy.deepcopy(values["det"]), values["val"][values["sensors"]]
    return values["recalibrate"](det, X.copy(), X.copy())


def _check_recalibrate(recalibrate, det, val, test, sensors):
    expect_true(callable(recalibrate), "`recalibrate` should be a function of (det, val_X, test_X).")
    val_X, test_X = val[sensors], test[sensors]
    reference = det.score(val_X)  # the untouched detector's validation scores
    want = float(np.percentile(reference, 99.5))

    first, second = copy.deepcopy(det), copy.deepcopy(det)
    share = _share(recalibrate(first, val_X.copy(), test_X.copy()), "the value your function returns")
    changed = _planted(test_X)
    share_changed = _share(recalibrate(second, val_X.copy(), changed), "the value your function returns")
    if not np.isclose(second.threshold_, first.threshold_, rtol=1e-9, atol=0):
        raise Incorrect(f"leakage: when only the test part changed (a large anomaly planted on every 20th row), "
                        f"your threshold moved from {first.threshold_:.4g} to {second.threshold_:.4g}. "
                        "The threshold must come from the validation scores alone.")
    if not np.allclose(first.score(val_X), reference):
        raise Incorrect("after your function the detector gives other scores on the validation part: it was fitted "
                        "again. Keep the model and only re-choose the threshold with `det.calibrate(...)`.")
    expect_close(first.threshold_, want, rtol=1e-6,
                 what="det.threshold_ (the 99.5th percentile of the detector's scores on val_X)")
    expect_close(share, float(np.mean(first.score(test_X) > first.threshold_)), atol=1e-6,
                 what="the share of test samples flagged")
    expect_close(share_changed, float(np.mean(second.score(changed) > second.threshold_)), atol=1e-6,
                 what="the share flagged on a changed test part (return the share you computed, not a fixed number)")
    return (f"the threshold came from normal validation data only; the detector flags {share:.1%} of the test "
            "samples, and the model was not refitted.")


q1 = FunctionQuestion(
    1,
    "Write `recalibrate(det, val_X, test_X)`: without refitting, set the threshold of the fitted detector `det` to "
    "the 99.5th percentile of its scores on the validation sensors `val_X`, and return the share of the test "
    "samples `test_X` that it then flags. The check calls your function on copies of `det` "
    "(`recalibrate(copy_of_det, val[sensors], test[sensors])`), and again with a changed test part.",
    ("recalibrate", "det", "val", "test", "sensors"),
    _check_recalibrate,
    ["`det.calibrate(normal_scores, threshold=...)` re-chooses `threshold_` only; `det.score(val_X)` gives the "
     "normal scores.",
     "`threshold=(\"percentile\", {\"q\": 99.5})`; then return `det.predict(test_X).mean()`."],
    "# calibrate re-chooses threshold_ from the given normal scores; the model stays as it is\n"
    "def recalibrate(det, val_X, test_X):\n"
    "    det.calibrate(det.score(val_X), threshold=(\"percentile\", {\"q\": 99.5}))\n"
    "    return det.predict(test_X).mean()",
    setup=_context,
    probe=_probe_recalibrate,
)


def _missed_types(test, test_events, zscore_alarms) -> set[str]:
    missed = set(test_events["type"])
    for _, ev in test_events.iterrows():
        inside = (test.index >= ev["start"]) & (test.index <= ev["end"])
        if np.asarray(zscore_alarms)[inside].any():
            missed.discard(ev["type"])
    return missed


def _check_missed(missed, test, test_events, zscore_alarms):
    if isinstance(missed, (str, bytes)):
        raise Incorrect("`missed` should be a set of type names such as {'stuck', 'dropout'}, not one string.")
    try:
        got = {str(m) for m in missed}
    except TypeError:
        raise Incorrect(f"`missed` should be a set of type names, e.g. {{'stuck'}}, but it is a "
                        f"{type(missed).__name__}.") from None
    # never trust the namespace's intermediates: the alarms and events come from a fresh run of the setup
    fresh = _context()
    expected = _missed_types(fresh["test"], fresh["test_events"], fresh["zscore_alarms"])
    unknown = got - set(test_events["type"])
    if unknown:
        raise Incorrect(f"{sorted(unknown)} are not anomaly types of the test events.")
    if got != expected:
        raise Incorrect(
            f"not quite: you listed {sorted(got)}. A type counts as missed when *none* of its events has an alarm "
            "between its start and end (both inclusive)."
        )
    return f"the rolling z-score misses every event of {sorted(expected) or 'no type'}."


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


Q3_CASES = (0.1, 0.3, 1.0)


def _q3_input(lam_index: int) -> np.ndarray:
    return np.random.default_rng(1 + lam_index).normal(size=50)


def _check_ewma(my_ewma):
    expect_true(callable(my_ewma), "`my_ewma` should be a function of (x, lam).")
    for k, lam in enumerate(Q3_CASES):
        x = _q3_input(k)
        try:
            got = np.asarray(my_ewma(x.copy(), lam), dtype=float)
        except (TypeError, ValueError) as exc:
            raise Incorrect(f"your function should return one number per sample (an array or a list), "
                            f"but turning its output into numbers failed: {exc}") from None
        expect_equal(got.shape, x.shape, "the shape of your EWMA")
        if not np.allclose(got, _reference_ewma(x, lam)):
            hint = (" Your first value is x[0]; start from z = 0 instead, so the first value is lam·x[0]."
                    if np.isclose(got[0], x[0]) and lam != 1 else "")
            raise Incorrect(f"with lam={lam} the values differ; start from z = 0 and use "
                            f"z_t = lam·x_t + (1 − lam)·z_(t−1).{hint}")
    return "the same recursion `sadlib`'s EWMA chart runs (with scipy.signal.lfilter) on every standardised sensor."


q3 = FunctionQuestion(
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
    probe=lambda values: values["my_ewma"](_q3_input(0), Q3_CASES[0]),
)


def _forest_shares(train, val, sensors):
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(contamination=0.1, random_state=0).fit(train[sensors])
    return float(np.mean(forest.predict(train[sensors]) == -1)), float(np.mean(forest.predict(val[sensors]) == -1))


def _check_contamination(flagged_share, val_share, train, val, sensors):
    flagged = _share(flagged_share, "`flagged_share`")
    on_val = _share(val_share, "`val_share`")
    want_train, want_val = _forest_shares(train, val, sensors)
    expect_close(flagged, want_train, atol=0.002, what="the share of training samples flagged")
    if np.isclose(on_val, want_train, atol=1e-9) and not np.isclose(want_val, want_train, atol=1e-4):
        raise Incorrect("`val_share` is the training share again: predict on `val[sensors]` with the same forest "
                        "and count the -1s.")
    expect_close(on_val, want_val, atol=1e-6, what="the share of validation samples flagged")
    return (f"the forest flags {flagged:.1%} of the training samples, exactly the contamination, and "
            f"{on_val:.1%} of the normal validation samples. {CONTAMINATION_ANSWER}")


q4 = Question(
    4,
    "Fit scikit-learn's `IsolationForest(contamination=0.1, random_state=0)` on the training sensors "
    "`train[sensors]`. Set `flagged_share` to the share of those *training* samples that `predict` calls "
    "outliers (-1), and `val_share` to the share of the normal validation samples `val[sensors]` it calls "
    "outliers. What does that tell you about `contamination`?",
    ("flagged_share", "val_share", "train", "val", "sensors"),
    _check_contamination,
    ["`from sklearn.ensemble import IsolationForest`; `forest = IsolationForest(...).fit(train[sensors])`.",
     "`(forest.predict(X) == -1).mean()` for X = `train[sensors]`, then for X = `val[sensors]`."],
    "from sklearn.ensemble import IsolationForest\n"
    "forest = IsolationForest(contamination=0.1, random_state=0).fit(train[sensors])\n"
    "flagged_share = (forest.predict(train[sensors]) == -1).mean()\n"
    "val_share = (forest.predict(val[sensors]) == -1).mean()\n"
    "# contamination only sets the threshold so that this share of the *training* data is flagged;\n"
    "# on new normal data the share differs",
    setup=_context,
)
