"""Exercises for notebook 05: fix the LSTM + DBSCAN tutorial pipeline, then choose DBSCAN and the threshold honestly.

The questions need no neural network: Q3 and Q4 judge the errors of the simplest
forecaster there is (each value predicted by the value two periods earlier), so
every check runs in well under a second.
"""

from __future__ import annotations

import numpy as np

from sadlib.exercises.checker import Incorrect, Question, expect_shape, expect_true

__all__ = ["q1", "q2", "q3", "q4"]

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sadlib import clustering, metrics, thresholds
from sadlib.detectors.lstm_forecast import make_forecast_toy

toy = make_forecast_toy(seed=0)
values = toy[["value"]].to_numpy()  # (1000, 1); the burst is on rows 800-849
y = toy["anomaly"].to_numpy().astype(bool)

# Q3 and Q4 judge the errors of a very simple forecaster: each value is predicted by the value
# 200 steps (two periods) earlier. Rows 600-749 are normal validation rows, rows 750-999 the test.
errors = np.full(len(values), np.nan)
errors[200:] = (values[200:, 0] - values[:-200, 0]) ** 2
val_errors, test_errors = errors[600:750], errors[750:]
y_test = y[750:]
"""

#: answer cells that differ from ``name = ____``
ANSWER_CELLS = {
    2: "scaler = ____\ntest_scaled = ____  # the rows from test_start on, scaled",
}

_N, _BURST = 1000, 800


def _context() -> dict:
    namespace: dict = {}
    exec(SETUP, namespace)
    return namespace


def _values() -> np.ndarray:
    from sadlib.detectors.lstm_forecast import make_forecast_toy

    return make_forecast_toy(seed=0)[["value"]].to_numpy()


def _as_int(value, name: str) -> int:
    expect_true(isinstance(value, (int, np.integer)) and not isinstance(value, bool), f"`{name}` should be an integer row number.")
    return int(value)


# --------------------------------------------------------------------------- Q1
def _check_split(train_end, test_start):
    train_end, test_start = _as_int(train_end, "train_end"), _as_int(test_start, "test_start")
    expect_true(0 < train_end <= _N and 0 <= test_start < _N, "both row numbers must lie inside the 1000 rows.")
    if test_start < train_end:
        raise Incorrect(f"rows {test_start}-{train_end - 1} would be forecast targets in training *and* scored in the "
                        "test: the model is judged on rows it has learned. Start the test after the training rows.")
    if train_end > _BURST:
        raise Incorrect("the training rows reach into the burst (rows 800-849): the model would learn the anomaly.")
    if test_start > _BURST:
        raise Incorrect("the burst starts at row 800; a test part that starts after it cannot find it.")
    expect_true(train_end >= 300, "keep at least 300 training rows: the model needs several periods of normal data.")
    if test_start == train_end:
        return ("no overlap. Keep some normal rows between the two for validation too (notebook 05 uses "
                "600-749): they choose the threshold without touching the test.")
    return f"no overlap: rows {train_end}-{test_start - 1} are left for validation (choosing the threshold)."


q1 = Question(
    1,
    "The tutorial trains on rows 0-799 and scores rows 700-999 (its test part `values[600:]` starts 100 rows "
    "before them as the first window). Set `train_end` (the model trains on rows `0 .. train_end-1`) and "
    "`test_start` (the first scored row) so that no scored row was a training target and the burst (rows "
    "800-849) is in the test.",
    ("train_end", "test_start"),
    _check_split,
    ["A row must not be both a training target and a scored test row.",
     "`test_start >= train_end`, and the burst (row 800) must come after `test_start`.",
     "Notebook 05 trains on rows 0-599, validates on 600-749 and tests on 750-999."],
    "train_end, test_start = 600, 750",
    setup=_context,
)


# --------------------------------------------------------------------------- Q2
def _check_scaling(scaler, test_scaled):
    values = _values()
    expect_true(hasattr(scaler, "n_samples_seen_") and hasattr(scaler, "transform"),
                "`scaler` should be a fitted scikit-learn scaler, e.g. `MinMaxScaler().fit(...)`.")
    n = int(np.max(scaler.n_samples_seen_))
    probe = np.array([[-1.0], [0.0], [1.0]])

    def same(rows):
        from sklearn.base import clone

        return np.allclose(clone(scaler).fit(rows).transform(probe), scaler.transform(probe))

    if n < _N and same(values[-n:]) and not same(values[:n]):
        raise Incorrect(f"this scaler was fitted on the last {n} rows, the test part: every part would get its own "
                        "minimum and maximum. Fit one scaler on the training rows and reuse it.")
    if n >= _N:
        raise Incorrect("this scaler saw all 1000 rows, the burst included. Fit it on the training rows only.")
    if not same(values[:n]):
        raise Incorrect("fit the scaler on the first rows of `values` (the training rows), e.g. `values[:600]`.")
    if n > _BURST:
        raise Incorrect(f"the scaler saw rows 0-{n - 1}, which include the burst (800-849). Fit it on the training rows only.")
    test_scaled = np.asarray(test_scaled, dtype=float)
    expect_true(test_scaled.ndim == 2 and test_scaled.shape[1] == 1 and 150 <= len(test_scaled) <= 600,
                "`test_scaled` should be the test rows (from `test_start` to the end), shape (n, 1).")
    tail = values[-len(test_scaled):]
    if not np.allclose(test_scaled, scaler.transform(tail)):
        from sklearn.base import clone

        if np.allclose(test_scaled, clone(scaler).fit_transform(tail)):
            raise Incorrect("`test_scaled` comes from a scaler fitted on the test rows themselves. Use "
                            "`scaler.transform(...)`, the scaler fitted on the training rows.")
        raise Incorrect("`test_scaled` should be `scaler.transform(values[test_start:])`.")
    return f"one scaler, fitted on rows 0-{n - 1}, applied unchanged to the test rows."


q2 = Question(
    2,
    "The tutorial scales each part with its own `MinMaxScaler().fit_transform(...)`. Set `scaler` to one "
    "scaler fitted on your training rows only, and `test_scaled` to the test rows (from your `test_start` to "
    "the end) scaled by it.",
    ("scaler", "test_scaled"),
    _check_scaling,
    ["Fit once: `scaler = MinMaxScaler().fit(values[:train_end])`.",
     "Then only transform: `test_scaled = scaler.transform(values[test_start:])`."],
    "scaler = MinMaxScaler().fit(values[:600])\ntest_scaled = scaler.transform(values[750:])",
    setup=_context,
)


# --------------------------------------------------------------------------- Q3
def _check_eps(eps, min_samples):
    from sadlib.clustering import dbscan_outliers, k_distance
    from sadlib.metrics import point_metrics

    ns = _context()
    val, test, y_test = ns["val_errors"], ns["test_errors"], ns["y_test"]
    min_samples = _as_int(min_samples, "min_samples")
    expect_true(2 <= min_samples <= 30, "`min_samples` between 2 and 30 suits 150 validation points.")
    expect_true(isinstance(eps, (int, float, np.integer, np.floating)) and eps > 0, "`eps` should be a positive number.")
    eps = float(eps)
    if np.isclose(eps, 0.1):
        raise Incorrect(f"0.1 is the tutorial's guess. These squared errors have a median of {np.median(val):.3f}: "
                        "read `eps` off the k-distance curve of the validation errors.")
    d_val, d_test = k_distance(val, min_samples), k_distance(test, min_samples)
    lo, hi = np.quantile(d_val, 0.9), 2 * d_val.max()
    if not lo <= eps <= hi:
        if np.isclose(eps, d_test, rtol=1e-6).any():
            raise Incorrect("that `eps` is a k-distance of the test errors: choose it on the validation errors.")
        raise Incorrect(f"with min_samples={min_samples}, take `eps` where the sorted k-distances of the validation "
                        f"errors leave their flat part, between about {lo:.3g} (90th percentile) and their maximum.")
    f1 = point_metrics(y_test, dbscan_outliers(test, eps, min_samples, reference=val))["f1"]
    return f"DBSCAN fitted on the validation errors reaches F1 = {f1:.2f} on the test rows."


q3 = Question(
    3,
    "Choose DBSCAN's parameters from normal data: set `min_samples` and `eps` from the k-distance curve of "
    "`val_errors` (`clustering.k_distance(val_errors, k=min_samples)`). The checker then runs "
    "`clustering.dbscan_outliers(test_errors, eps, min_samples, reference=val_errors)` and reports F1.",
    ("eps", "min_samples"),
    _check_eps,
    ["Plot `np.sort` of the k-distances: a flat part (dense normal errors), then a steep rise.",
     "`clustering.suggest_eps(val_errors, k=min_samples)` takes the 99th percentile of the k-distances.",
     "`min_samples = 10` is a reasonable size for a cluster in 150 points."],
    "min_samples = 10\neps = clustering.suggest_eps(val_errors, k=min_samples)",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
def _check_alarms(alarms):
    from sadlib.metrics import point_metrics

    ns = _context()
    val, test, y_test = ns["val_errors"], ns["test_errors"], ns["y_test"]
    alarms = np.asarray(alarms)
    expect_shape(alarms, (250,), "`alarms` (one per test row, 750-999)")
    expect_true(alarms.dtype == bool or np.isin(alarms, (0, 1)).all(), "`alarms` should be booleans (True = alarm).")
    alarms = alarms.astype(bool)
    flagged, kept = test[alarms], test[~alarms]
    if len(flagged) and len(kept) and flagged.min() <= kept.max():
        raise Incorrect("these alarms are not 'error above one threshold': some flagged errors are smaller than "
                        "some unflagged ones. Use `test_errors > threshold`.")
    low = kept.max() if len(kept) else -np.inf
    high = flagged.min() if len(flagged) else np.inf
    if high < np.quantile(val, 0.9):
        raise Incorrect(f"your threshold is below the 90th percentile of the validation errors ({np.quantile(val, 0.9):.3g}): "
                        "it flags normal rows by the dozen. Was it a percentile of the test errors?")
    if low > 3 * val.max():
        raise Incorrect("your threshold is far above every validation error: take it from `val_errors` "
                        "(a high percentile, the maximum, or POT).")
    m = point_metrics(y_test, alarms)
    return f"F1 = {m['f1']:.2f}, false alarm rate {100 * m['far']:.1f} %. Compare with your DBSCAN from Q3."


q4 = Question(
    4,
    "The same errors judged by a threshold instead of DBSCAN: set `alarms` to `test_errors > threshold` with a "
    "threshold calibrated on `val_errors` only (a percentile, the maximum with a margin, or "
    "`thresholds.POTThreshold(...).fit(val_errors).threshold_`).",
    ("alarms",),
    _check_alarms,
    ["`threshold = np.percentile(val_errors, 99)`, then compare.",
     "`alarms = test_errors > np.percentile(val_errors, 99)`"],
    "alarms = test_errors > np.percentile(val_errors, 99)",
    setup=_context,
)
