"""Exercises for notebook 05: write the forecaster's windowing, fix the tutorial's scaling, choose DBSCAN and the
threshold honestly, then build the stacked LSTM forecaster in Keras.

Q1, Q3, Q4 and Q5 have the learner write a method (``method=``), checked on data the learner has not seen with
the library's own version switched off. Q1-Q4 need no neural network: Q3 and Q4 judge the errors of the
simplest forecaster there is (each value predicted by the value two periods earlier), so their checks run
in well under a second. Q3 and Q4 ask for *functions* of the validation and test
errors: the checker calls them again with the test errors changed (an extreme anomaly
added, the rows shuffled, the rows replaced by normal ones), and an ``eps`` or a
threshold that moves with the test errors is leakage. Q5 builds a small Keras model
and trains it for a few seconds.
"""

from __future__ import annotations

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    Unwritten,
    call_answer,
    expect_shape,
    expect_true,
    is_blank,
    library_unavailable,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]

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
    1: "def make_pairs(series, window):\n"
       "    inputs = ____  # shape (len(series) - window, window, n_sensors): rows i .. i + window - 1\n"
       "    targets = ____  # shape (len(series) - window, n_sensors): row i + window\n"
       "    return inputs, targets",
    2: "scaler = ____  # fitted on the training rows 0-599 only\n"
       "test_scaled = ____  # the test rows, from row 750 on, scaled",
    3: "def dbscan_params(val_errors, test_errors):\n"
       "    min_samples = ____\n"
       "    kdist = ____  # per validation error: the distance to its min_samples-th nearest, itself included\n"
       "    eps = ____\n"
       "    return eps, min_samples",
    4: "def alarm_rule(val_errors, test_errors):\n"
       "    threshold = ____\n"
       "    return test_errors > threshold",
    5: "from sadlib.environment import import_tensorflow\n\n"
       "import_tensorflow()  # TensorFlow's start-up messages stay out of the notebook\n"
       "import keras\n"
       "from keras import layers\n\n\n"
       "def build_forecaster(window, n_features):\n"
       "    inputs = keras.Input(shape=(window, n_features))\n"
       "    ____  # your layers: stacked LSTMs, then a linear Dense\n"
       "    return ____  # the compiled keras.Model",
}

_N, _BURST = 1000, 800
_TRAIN_END = 600  # training rows 0-599; validation 600-749; test 750-999


def _context() -> dict:
    return setup_namespace(SETUP)


def _values() -> np.ndarray:
    from sadlib.detectors.lstm_forecast import make_forecast_toy

    return make_forecast_toy(seed=0)[["value"]].to_numpy()


def _as_int(value, name: str) -> int:
    expect_true(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
                f"`{name}` should be an integer (a Python or NumPy int).")
    return int(value)


# --------------------------------------------------------------------------- Q1
#: (n_rows, n_sensors, window) of the fresh series the checker windows
_Q1_CASES = ((57, 3, 7), (30, 1, 5))


def _q1_series(n: int, f: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, f)).round(3)


def _check_pairs(make_pairs):
    from sadlib import windows as windows_module
    from sadlib.detectors import lstm_forecast

    targets = [(lstm_forecast, "forecast_windows"), (windows_module, "sliding_windows")]
    for seed, (n, f, w) in enumerate(_Q1_CASES, start=11):
        series = _q1_series(n, f, seed)
        with library_unavailable(make_pairs, targets):
            out = call_answer(make_pairs, "make_pairs", series, w, **_CALL)
        expect_true(isinstance(out, (tuple, list)) and len(out) == 2,
                    "`make_pairs` should return two arrays: `return inputs, targets`.")
        X, y = (np.asarray(a, dtype=float) for a in out)
        want_X = np.stack([series[i:i + w] for i in range(n - w)])
        want_y = series[w:]
        if X.ndim == 3 and len(X) == n - w + 1:
            raise Incorrect(f"{len(X)} windows for {n} rows and window {w}: the last window, rows {n - w}..{n - 1}, "
                            "has no next row to forecast. Stop one window earlier: `len(series) - window` pairs.")
        if X.shape == (n - w, f, w) and f != w:
            raise Incorrect(f"your inputs have shape {X.shape}, (n_pairs, n_sensors, window): the window's time axis "
                            "is last, as `sliding_window_view` puts it. A Keras LSTM reads (n_pairs, window, "
                            "n_sensors): swap the last two axes (`np.swapaxes(windows, 1, 2)`).")
        expect_shape(X, want_X.shape, f"the inputs for {n} rows of {f} sensors and window {w}")
        if y.shape == (n - w,) and f == 1:
            y = y[:, None]
        expect_shape(y, want_y.shape, f"the targets for {n} rows of {f} sensors and window {w} (one row per pair)")
        if np.allclose(X, want_X) and np.allclose(y, series[w - 1:-1]):
            raise Incorrect("the target of each pair is the last row of its own input window: the model is shown "
                            "the answer (look-ahead) and learns to copy it. The target is the row right *after* the "
                            "window: `series[i + window]`.")
        shifted = np.stack([series[i + 1:i + w + 1] for i in range(n - w)])
        if np.allclose(X, shifted):
            raise Incorrect("each input window ends with the row it should forecast (look-ahead): window i must "
                            "hold rows i .. i + window - 1, and its target is row i + window.")
        expect_true(np.allclose(X, want_X), "input window i should hold rows i .. i + window - 1 of the series, in "
                                            "time order (shape (n_pairs, window, n_sensors)).")
        expect_true(np.allclose(y, want_y), "target i should be row i + window of the series, the row right after "
                                            "input window i.")
        # cutting the future must not change any earlier pair
        for cut in (w + 2, n // 2, n - 1):
            with library_unavailable(make_pairs, targets):
                Xc, yc = (np.asarray(a, dtype=float) for a in call_answer(make_pairs, "make_pairs", series[:cut], w,
                                                                           **_CALL))
            if not (np.allclose(Xc, want_X[:cut - w]) and np.allclose(yc.reshape(cut - w, f), want_y[:cut - w])):
                raise Incorrect(f"with the series cut after row {cut - 1}, your pairs differ from the first "
                                f"{cut - w} pairs of the whole series: a pair must depend only on the rows it holds.")
    return (f"input windows and next-row targets for series of {', '.join(str(c[0]) for c in _Q1_CASES)} rows "
            "(series you had not seen), and the same pairs when the future is cut off. "
            "`forecast_windows(series, window)` does the same; from now on you may use it.")


q1 = FunctionQuestion(
    1,
    "Write the windowing of a forecaster yourself. Complete `make_pairs(series, window)`: for a series of shape "
    "`(n_rows, n_sensors)` it returns `inputs` of shape `(n_rows - window, window, n_sensors)` (pair i holds rows "
    "`i .. i + window - 1`) and `targets` of shape `(n_rows - window, n_sensors)` (pair i: row `i + window`, the "
    "next row). Use NumPy only: the library's `forecast_windows` and `sliding_windows` are switched off while the "
    "checker runs your function on series you have not seen.",
    ("make_pairs",),
    _check_pairs,
    ["A list comprehension does it: `[series[i:i + window] for i in range(len(series) - window)]`, then `np.stack`.",
     "The targets are `series[window:]`: row `i + window` belongs to window i.",
     "The last window that has a next row starts at `len(series) - window - 1`."],
    "# NumPy only: pair i is (rows i .. i + window - 1, row i + window)\n"
    "def make_pairs(series, window):\n"
    "    inputs = np.stack([series[i:i + window] for i in range(len(series) - window)])  # rows i .. i+window-1\n"
    "    targets = series[window:]  # row i + window: the next row after window i\n"
    "    return inputs, targets",
    setup=_context,
    method="sliding windows for forecasting",
)


# --------------------------------------------------------------------------- Q2
def _fitted_starts(scaler, values: np.ndarray, n: int) -> list[int]:
    """Every ``a`` for which the scaler equals one fitted on ``values[a:a + n]`` (its learned parameters, probed)."""
    from sklearn.base import clone

    probe = np.array([[-1.0], [0.0], [1.0]])
    want = scaler.transform(probe)
    # rtol 1e-6: a scaler fitted on float32 copies of the same rows is the same scaler
    return [a for a in range(0, len(values) - n + 1)
            if np.allclose(clone(scaler).fit(values[a:a + n]).transform(probe), want, rtol=1e-6, atol=1e-9)]


def _check_scaling(scaler, test_scaled):
    from sklearn.base import clone

    values = _values()
    expect_true(hasattr(scaler, "n_samples_seen_") and hasattr(scaler, "transform"),
                "`scaler` should be a fitted scikit-learn scaler, e.g. `MinMaxScaler().fit(...)`.")
    n = int(np.max(scaler.n_samples_seen_))
    if n >= _N:
        raise Incorrect("this scaler saw all 1000 rows, the burst included. Fit it on the training rows only.")
    test_scaled = np.asarray(test_scaled, dtype=float)
    expect_true(test_scaled.ndim == 2 and test_scaled.shape[1] == 1 and 150 <= len(test_scaled) <= 600,
                "`test_scaled` should be the test rows (from `test_start` to the end), shape (n, 1).")
    test_start = _N - len(test_scaled)  # the test part is `values[test_start:]`: the check works it out itself
    starts = _fitted_starts(scaler, values, n)
    if not starts:
        raise Incorrect("fit the scaler on consecutive training rows of `values`, e.g. `values[:600]` (or "
                        "`values[100:600]` to skip a warm-up).")
    honest = [a for a in starts if a + n <= _TRAIN_END]
    if not honest:
        if starts == [_N - n]:
            raise Incorrect(f"this scaler was fitted on the last {n} rows, the test part: every part would get its "
                            "own minimum and maximum. Fit one scaler on the training rows and reuse it.")
        a = min(starts, key=lambda b: b + n)  # the fit that ends earliest
        if a + n > test_start:
            raise Incorrect(f"leakage: this scaler was fitted on {n} rows that reach into your test part, which "
                            f"starts at row {test_start} (`test_scaled` holds {len(test_scaled)} rows); e.g. rows "
                            f"{a}-{a + n - 1} give it. Fit it on the training rows 0-{_TRAIN_END - 1} only.")
        if a + n > _BURST:
            raise Incorrect(f"the scaler saw {n} rows that include the burst (800-849). Fit it on the training rows "
                            f"0-{_TRAIN_END - 1} only.")
        raise Incorrect(f"leakage: this scaler was fitted on rows {a}-{a + n - 1}, which reach into the validation "
                        f"rows {_TRAIN_END}-749. The validation rows stand in for data the model has not seen (they "
                        f"choose the threshold), so the scaler must not see them either. Fit it on the training rows "
                        f"0-{_TRAIN_END - 1} only.")
    tail = values[test_start:]
    if test_start == _TRAIN_END and np.allclose(test_scaled, scaler.transform(tail)):
        raise Incorrect(f"`test_scaled` holds every row after the training rows, {_TRAIN_END}-{_N - 1}: the "
                        f"validation rows {_TRAIN_END}-749 are in it too. They choose the threshold and are not "
                        "judged; `test_scaled` is the test part only, from its first row (750) to the end.")
    if not np.allclose(test_scaled, scaler.transform(tail)):
        if np.allclose(test_scaled, clone(scaler).fit_transform(tail)):
            raise Incorrect("`test_scaled` comes from a scaler fitted on the test rows themselves. Use "
                            "`scaler.transform(...)`, the scaler fitted on the training rows.")
        raise Incorrect("`test_scaled` should be `scaler.transform(values[test_start:])`.")
    return f"one scaler, fitted on {n} rows before the test, applied unchanged to the test rows from row {test_start}."


q2 = Question(
    2,
    "The tutorial scales each part with its own `MinMaxScaler().fit_transform(...)`. Set `scaler` to one "
    "scaler fitted on the training rows only (notebook 05: rows 0-599), and `test_scaled` to the test rows (from "
    "the first test row, 750 in notebook 05, to the end) scaled by it.",
    ("scaler", "test_scaled"),
    _check_scaling,
    ["Fit once: `scaler = MinMaxScaler().fit(values[:train_end])`.",
     "Then only transform: `test_scaled = scaler.transform(values[test_start:])`."],
    "scaler = MinMaxScaler().fit(values[:600])\ntest_scaled = scaler.transform(values[750:])",
    setup=_context,
)


# --------------------------------------------------------------------------- functions as answers
#: how this notebook's checks call the learner's functions (warnings are shown)
_CALL = dict(quiet=False, unwritten="`{name}` still returns ____. Replace ____ with your answer")


def _changed_tests(test: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The test errors changed in ways that must not move a threshold or an ``eps`` chosen on validation errors."""
    rng = np.random.default_rng(0)
    planted = test.copy()
    planted[150:200] = test.max() * rng.uniform(20, 200, 50)  # a second, far stronger anomaly
    errors = _context()["errors"]
    return [
        ("given an extreme anomaly on 50 more rows", planted),
        ("shuffled", rng.permutation(test)),
        ("replaced by the errors of normal rows 300-549", errors[300:550].copy()),
    ]


# --------------------------------------------------------------------------- Q3
def _check_eps(dbscan_params):
    from sadlib import clustering
    from sadlib.clustering import dbscan_outliers, k_distance
    from sadlib.metrics import point_metrics

    ns = _context()
    val, test, y_test = ns["val_errors"], ns["test_errors"], ns["y_test"]
    switched_off = [(clustering, "k_distance"), (clustering, "suggest_eps")]

    def params(test_errors, val_errors=val):
        with library_unavailable(dbscan_params, switched_off):
            out = call_answer(dbscan_params, "dbscan_params", val_errors, test_errors, **_CALL)
        expect_true(isinstance(out, (tuple, list)) and len(out) == 2,
                    "`dbscan_params` should return two values: `return eps, min_samples`.")
        eps, min_samples = out
        min_samples = _as_int(min_samples, "min_samples")
        expect_true(isinstance(eps, (int, float, np.integer, np.floating)) and not isinstance(eps, bool) and eps > 0,
                    "`eps` should be a positive number.")
        return float(eps), min_samples

    eps, min_samples = params(test)
    expect_true(2 <= min_samples <= 30, "`min_samples` between 2 and 30 suits 150 validation points.")
    for what, changed in _changed_tests(test):
        eps2, min_samples2 = params(changed)
        if min_samples2 != min_samples or not np.isclose(eps2, eps, rtol=1e-9, atol=0.0):
            raise Incorrect(f"with the test errors {what}, your function returns eps={eps2:.4g}, "
                            f"min_samples={min_samples2} instead of eps={eps:.4g}, min_samples={min_samples}: "
                            "the parameters depend on the errors they are meant to judge (leakage). Choose them "
                            "on `val_errors` only.")
    if np.isclose(eps, 0.1):
        raise Incorrect(f"0.1 is the tutorial's guess. These squared errors have a median of {np.median(val):.3f}: "
                        "read `eps` off the k-distance curve of the validation errors.")
    d_val = k_distance(val, min_samples)
    lo, hi = np.quantile(d_val, 0.9), 2 * d_val.max()
    if not lo <= eps <= hi:
        where = "below" if eps < lo else "above"
        raise Incorrect(f"eps={eps:.4g} is {where} the useful range: with min_samples={min_samples}, take `eps` where "
                        f"the sorted k-distances of the validation errors leave their flat part, between about "
                        f"{lo:.3g} (their 90th percentile) and {hi:.3g} (twice their maximum).")
    # eps must follow the validation errors: probe with validation errors the learner never saw
    fresh = _naive_errors(_Q4_FRESH_SEEDS[0])[0][600:750] * 10  # normal rows of a fresh toy, ten times larger
    eps_fresh, k_fresh = params(test, fresh)
    d_fresh = k_distance(fresh, k_fresh)
    lo_f, hi_f = np.quantile(d_fresh, 0.9), 2 * d_fresh.max()
    if not lo_f <= eps_fresh <= hi_f:
        if np.isclose(eps_fresh, eps, rtol=1e-9, atol=0.0):
            raise Incorrect(f"with other validation errors, ten times larger, your function still returns "
                            f"eps={eps:.4g}: it does not come from `val_errors`. A number read off the curve and typed "
                            "in fits only the errors you looked at; compute the k-distances of `val_errors` inside "
                            "the function.")
        raise Incorrect(f"on other validation errors, ten times larger, your eps={eps_fresh:.4g} falls outside their "
                        f"useful range ({lo_f:.3g} to {hi_f:.3g}): compute it from the k-distances of `val_errors`.")
    alarms = dbscan_outliers(test, eps, min_samples, reference=val)
    f1 = point_metrics(y_test, alarms)["f1"]
    return (f"eps={eps:.3g}, min_samples={min_samples}, the same whatever the test errors are. DBSCAN fitted on the "
            f"validation errors flags {int(alarms.sum())} of {len(alarms)} test rows: F1 = {f1:.2f}.")


q3 = FunctionQuestion(
    3,
    "Choose DBSCAN's parameters from normal data, computing the k-distance curve yourself. Write "
    "`dbscan_params(val_errors, test_errors)` returning `(eps, min_samples)`: for every validation error, the "
    "distance to its `min_samples`-th nearest validation error (itself included), and `eps` where that curve leaves "
    "its flat part (e.g. its 99th percentile). NumPy or scikit-learn only: `clustering.k_distance` and "
    "`clustering.suggest_eps` are switched off while the checker runs. It gets both parts, as a pipeline has "
    "them; the checker calls it again with the test errors changed (an extreme anomaly added, shuffled, replaced) "
    "and the parameters must not move, then with other validation errors, which `eps` must follow. It then runs "
    "`clustering.dbscan_outliers(test_errors, eps, min_samples, reference=val_errors)` and reports F1.",
    ("dbscan_params",),
    _check_eps,
    ["`np.abs(v[:, None] - v[None, :])` holds every distance between two errors; sort each row.",
     "Row i sorted starts with 0 (the point itself): its `min_samples`-th entry is index `min_samples - 1`.",
     "`min_samples = 10` is a reasonable size for a cluster in 150 points; `eps = np.percentile(kdist, 99)`; "
     "`test_errors` is not needed at all."],
    "# both read off the validation errors; test_errors is not used\n"
    "def dbscan_params(val_errors, test_errors):\n"
    "    min_samples = 10\n"
    "    v = np.asarray(val_errors, dtype=float)\n"
    "    distances = np.sort(np.abs(v[:, None] - v[None, :]), axis=1)  # row i: distances from error i, itself first\n"
    "    kdist = distances[:, min_samples - 1]  # to the min_samples-th nearest, itself included\n"
    "    eps = np.percentile(kdist, 99)  # where the sorted curve leaves its flat part\n"
    "    return eps, min_samples",
    setup=_context,
    method="DBSCAN's eps from the k-distance curve",
)


# --------------------------------------------------------------------------- Q4
def _threshold_interval(errors: np.ndarray, alarms: np.ndarray) -> tuple[float, float]:
    """``(low, high)``: ``errors > t`` gives ``alarms`` for every ``low <= t < high``."""
    flagged, kept = errors[alarms], errors[~alarms]
    return (kept.max() if len(kept) else -np.inf), (flagged.min() if len(flagged) else np.inf)


#: toys (other noise, same burst) on which the rule must beat flag-everything
_Q4_FRESH_SEEDS = (5, 6)


def _naive_errors(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The squared errors of the two-periods-back forecaster on a fresh toy, and its labels."""
    from sadlib.detectors.lstm_forecast import make_forecast_toy

    toy = make_forecast_toy(seed=seed)
    v = toy["value"].to_numpy()
    e = np.full(len(v), np.nan)
    e[200:] = (v[200:] - v[:-200]) ** 2
    return e, toy["anomaly"].to_numpy().astype(bool)


def _check_alarms(alarm_rule):
    from sadlib.metrics import point_metrics

    ns = _context()
    val, test, y_test = ns["val_errors"], ns["test_errors"], ns["y_test"]

    from sadlib import thresholds

    switched_off = [(thresholds, name) for name in ("PercentileThreshold", "MaxThreshold", "POTThreshold",
                                                    "SPOTThreshold") if hasattr(thresholds, name)]

    def alarms_for(test_errors, val_errors=val):
        with library_unavailable(alarm_rule, switched_off):
            alarms = np.asarray(call_answer(alarm_rule, "alarm_rule", val_errors, test_errors, **_CALL))
        expect_shape(alarms, test_errors.shape, "the alarms (one per test row)")
        expect_true(alarms.dtype == bool or np.isin(alarms, (0, 1)).all(),
                    "`alarm_rule` should return booleans (True = alarm), e.g. `test_errors > threshold`.")
        return alarms.astype(bool)

    alarms = alarms_for(test)
    low, high = _threshold_interval(test, alarms)
    if high <= low:
        raise Incorrect("these alarms are not 'error above one threshold': some flagged errors are smaller than "
                        "some unflagged ones. Return `test_errors > threshold`.")
    for what, changed in _changed_tests(test):
        got = alarms_for(changed)
        if (changed[got] <= low).any() or (changed[~got] >= high).any():
            lo2, hi2 = _threshold_interval(changed, got)
            raise Incorrect(f"with the test errors {what}, your threshold moves (from between {low:.3g} and "
                            f"{high:.3g} to between {lo2:.3g} and {hi2:.3g}): it depends on the errors it judges "
                            "(leakage). Take it from `val_errors` only.")
    # the threshold must follow the validation errors: probe with validation errors the learner never saw
    fresh = _context()["errors"][300:450] * 10  # normal rows of another stretch, ten times larger
    if np.array_equal(alarms_for(test, fresh), alarms) and alarms.any():
        raise Incorrect("with other validation errors, ten times larger, your alarms on the test errors did not "
                        "change: your threshold does not come from `val_errors`. A number picked for the best F1 on "
                        "the test rows and typed in is tuned on the test labels; compute it from `val_errors`.")
    if high < np.quantile(val, 0.9):
        raise Incorrect(f"your threshold is below the 90th percentile of the validation errors "
                        f"({np.quantile(val, 0.9):.3g}): it flags normal rows by the dozen. Take a high percentile, "
                        "or the maximum.")
    if low > 3 * val.max():
        raise Incorrect("your threshold is far above every validation error: take it from `val_errors` "
                        "(a high percentile, or the maximum).")
    # end to end on toys the learner has not seen: split, threshold on validation, judge against flag-everything
    for seed in _Q4_FRESH_SEEDS:
        e, y_fresh = _naive_errors(seed)
        got = alarms_for(e[750:], e[600:750])
        f1, f1_all = point_metrics(y_fresh[750:], got)["f1"], point_metrics(y_fresh[750:], np.ones(250, bool))["f1"]
        if f1 < f1_all + 0.2:
            raise Incorrect(f"on a fresh toy (seed {seed}) your rule scores F1 = {f1:.2f}, not clearly above "
                            f"flag-everything's {f1_all:.2f}: take a high percentile or the maximum of `val_errors`.")
    m = point_metrics(y_test, alarms)
    return (f"the same threshold whatever the test errors are, and it follows the validation errors of fresh toys. "
            f"F1 = {m['f1']:.2f} (flag-everything: {point_metrics(y_test, np.ones(len(y_test), bool))['f1']:.2f}), "
            f"false alarm rate {100 * m['far']:.1f} %. Compare with your DBSCAN from Q3.")


q4 = FunctionQuestion(
    4,
    "The same errors judged by a threshold instead of DBSCAN: write the residual threshold yourself. Complete "
    "`alarm_rule(val_errors, test_errors)`: it returns `test_errors > threshold` with a threshold calibrated on "
    "`val_errors` only (a high percentile, or the maximum with a margin), in NumPy: the classes of "
    "`sadlib.thresholds` are switched off while the checker runs. The checker calls it again with the test errors "
    "changed (the threshold must not move), with other validation errors (it must follow them) and on two fresh "
    "toys, where it must beat flag-everything clearly.",
    ("alarm_rule",),
    _check_alarms,
    ["`threshold = np.percentile(val_errors, 99)`: a percentile of the validation errors.",
     "A percentile of `test_errors` moves with every new test set: a stronger anomaly raises the threshold and "
     "hides the weaker ones."],
    "# a threshold from the validation errors only: it stays put whatever the test errors are\n"
    "def alarm_rule(val_errors, test_errors):\n"
    "    threshold = np.percentile(val_errors, 99)\n"
    "    return test_errors > threshold",
    setup=_context,
    method="the residual threshold on validation",
)


# --------------------------------------------------------------------------- Q5
_Q5_SHAPES = ((12, 3), (20, 1))  # (window, n_features) the checker builds models for
_Q5_WEIGHTS = (1_000, 600_000)  # a sensible size: the notebook's model has 29,345 weights, the tutorial's 488,501
_Q5_EPOCHS = 3  # of the short fit that must lower the loss (about 20 Adam steps)


def _is_mse(loss) -> bool:
    import keras

    if isinstance(loss, str):
        return loss.lower() in ("mse", "mean_squared_error")
    if isinstance(loss, keras.losses.MeanSquaredError):
        return True
    return getattr(loss, "__name__", "") in ("mse", "mean_squared_error")


def _q5_data(window: int, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecasting pairs of a small standardised multi-sine series (one period per sensor)."""
    from sadlib.detectors.lstm_forecast import forecast_windows

    t = np.arange(12 * window + 1, dtype=float)
    series = np.column_stack([np.sin(2 * np.pi * t / (window * (0.6 + 0.3 * j)) + j) for j in range(n_features)])
    series += np.random.default_rng(0).normal(0.0, 0.05, series.shape)
    return forecast_windows(series, window)


def _all_layers(model) -> list:
    """Every layer of ``model``, those inside nested models (a ``Sequential`` used as a layer) included."""
    found, todo = [], list(model.layers)
    while todo:
        layer = todo.pop(0)
        found.append(layer)
        todo.extend(getattr(layer, "layers", []))
    return found


def _is_lstm(layer, keras) -> bool:
    """An LSTM layer, or a ``Bidirectional`` wrapper around one (an LSTM that reads its window both ways)."""
    if isinstance(layer, keras.layers.Bidirectional):
        return isinstance(getattr(layer, "forward_layer", None), keras.layers.LSTM)
    return isinstance(layer, keras.layers.LSTM)


def _stacked(lstms: list, keras) -> bool | None:
    """Whether some LSTM reads (through any layers) the output of another; None when the graph cannot be walked."""
    try:
        ids = {id(layer) for layer in lstms}
        for layer in lstms:
            todo, seen = list(keras.tree.flatten(layer.input)), set()
            while todo:
                tensor = todo.pop()
                op = tensor._keras_history.operation
                if id(op) in seen:
                    continue
                seen.add(id(op))
                if id(op) in ids:
                    return True
                node = op._inbound_nodes[tensor._keras_history.node_index]
                todo.extend(node.input_tensors)
        return False
    except Exception:  # a graph this walk does not know: the other checks still apply
        return None


def _output_layer(model, keras):
    """The model's last layer, past trailing layers that only reshape (``Reshape``, ``Flatten``: no weights)."""
    layers_ = list(model.layers)
    while True:
        while len(layers_) > 1 and isinstance(layers_[-1], (keras.layers.Reshape, keras.layers.Flatten)):
            layers_.pop()
        if isinstance(layers_[-1], keras.Model) and layers_[-1].layers:  # a Sequential used as the last layer
            layers_ = list(layers_[-1].layers)
            continue
        return layers_[-1]


def _check_forecaster(build_forecaster):
    from sadlib.environment import import_keras

    keras = import_keras()
    expect_true(callable(build_forecaster), "`build_forecaster` should be a function (window, n_features) -> model.")
    from sadlib.detectors import lstm_forecast

    for window, n_features in _Q5_SHAPES:
        keras.utils.set_random_seed(0)
        with library_unavailable(build_forecaster, [(lstm_forecast, "build_lstm_forecaster"),
                                                    (lstm_forecast, "LSTMForecaster")]):
            model = build_forecaster(window, n_features)
        if is_blank(model):
            raise Unwritten("`build_forecaster` still returns ____. Replace ____ with your answer")
        expect_true(isinstance(model, keras.Model),
                    f"`build_forecaster` should return a keras.Model, not a {type(model).__name__}: "
                    "`keras.Model(inputs, outputs)` or `keras.Sequential([...])`.")
        shape_in = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
        expect_true(shape_in == (None, window, n_features),
                    f"build_forecaster({window}, {n_features}) takes inputs of shape {model.input_shape}; it should "
                    f"take (batch, window, n_features) = (None, {window}, {n_features}): "
                    "`keras.Input(shape=(window, n_features))`.")
        shape_out = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
        if shape_out is not None and len(shape_out) == 3:
            raise Incorrect(f"the model returns a whole sequence {shape_out}: the last LSTM must return only its "
                            "last state (leave `return_sequences` at False there); the layers before it return "
                            "sequences.")
        expect_true(shape_out == (None, n_features),
                    f"build_forecaster({window}, {n_features}) predicts shape {model.output_shape}; it should predict "
                    f"the next value of every sensor, (None, {n_features}): `layers.Dense(n_features)` at the end.")
        lstms = [layer for layer in _all_layers(model) if _is_lstm(layer, keras)]
        expect_true(len(lstms) >= 2, f"the model has {len(lstms)} LSTM layer(s); a *stacked* LSTM has at least two, "
                                     "the first with `return_sequences=True` so the second reads its whole sequence.")
        if _stacked(lstms, keras) is False:
            raise Incorrect(f"your {len(lstms)} LSTM layers are side by side, each reading the input windows: none "
                            "reads another's output. Stack them: the first returns its sequence "
                            "(`return_sequences=True`) and the second reads that sequence.")
        last = _output_layer(model, keras)
        activation = getattr(getattr(last, "activation", None), "__name__", "linear")
        if not isinstance(last, keras.layers.Dense):
            raise Incorrect(f"the model ends with a {type(last).__name__} layer; end it with the linear "
                            "`layers.Dense(n_features)`, which predicts the next value of every sensor.")
        expect_true(activation == "linear",
                    "the last layer should be a linear `layers.Dense(n_features)` (no activation): scaled sensor "
                    f"values can be negative or beyond the training range, which a {activation!r} output cannot "
                    "predict.")
        n = model.count_params()
        if n < _Q5_WEIGHTS[0]:
            raise Incorrect(f"build_forecaster({window}, {n_features}) has {n:,} weights: too few to hold the pattern "
                            "of a window. The notebook's model uses LSTM layers of 64 and 32 units.")
        if n > _Q5_WEIGHTS[1]:
            raise Incorrect(f"build_forecaster({window}, {n_features}) has {n:,} weights: an LSTM runs its steps one "
                            "after the other, so this trains far slower on a CPU without forecasting a few sensors "
                            "better. The notebook's model (64 and 32 units) has 29,345.")
        expect_true(getattr(model, "optimizer", None) is not None and getattr(model, "compiled", True),
                    "compile the model before returning it: `model.compile(optimizer=\"adam\", loss=\"mse\")`.")
        expect_true(_is_mse(getattr(model, "loss", None)),
                    f"the loss is {getattr(model, 'loss', None)!r}; the anomaly score is the squared error of the "
                    "forecast, so train on the mean squared error: `loss=\"mse\"`.")
    # the last model: a forward pass and a short fit on tiny data must lower the loss
    x, y = _q5_data(window, n_features)
    pred = np.asarray(model.predict_on_batch(x[:8]))
    expect_true(pred.shape == (8, n_features) and np.isfinite(pred).all(),
                f"a forward pass on 8 windows gave shape {pred.shape}"
                f"{'' if np.isfinite(pred).all() else ' with NaN or infinite values'}; expected (8, {n_features}) "
                "finite forecasts.")
    before = float(np.mean((np.asarray(model.predict_on_batch(x)) - y) ** 2))
    epochs = 0
    # rounds of 3 epochs, at most 12: a small model (16 and 8 units, a ReLU head) can need 12 from an unlucky start
    # (0.98, 0.95, 0.85, 0.59 of the first error); SGD at 1e-3 or Adam at 1e-5 is still at 0.97 after 12
    for _ in range(4):
        model.fit(x, y, epochs=_Q5_EPOCHS, batch_size=32, shuffle=False, verbose=0)
        epochs += _Q5_EPOCHS
        after = float(np.mean((np.asarray(model.predict_on_batch(x)) - y) ** 2))
        if after < 0.8 * before:
            break
    else:
        raise Incorrect(f"{epochs} epochs on a small sine series took the mean squared error only from "
                        f"{before:.3f} to {after:.3f}; a working forecaster lowers it clearly. Check the optimizer "
                        "and its learning rate (Adam with 1e-3 works).")
    return (f"a stacked LSTM of {len(lstms)} layers, {model.count_params():,} weights for window {window}; "
            f"{epochs} epochs on a small sine series lowered its squared error from {before:.3f} to {after:.3f}.")


q5 = FunctionQuestion(
    5,
    "Build the model of section 4 yourself. Complete `build_forecaster(window, n_features)`: it returns a compiled "
    "`keras.Model` that reads `(batch, window, n_features)` windows and predicts the next value of every sensor, "
    "`(batch, n_features)`, with at least two stacked LSTM layers (the first returns its sequence) and a linear "
    "Dense output, compiled with the mean squared error as its loss (and Adam, as in the notebook). The checker "
    "builds it for two shapes (with `sadlib`'s `build_lstm_forecaster` switched off), counts its weights, runs it "
    "and trains it briefly on a small sine series.",
    ("build_forecaster",),
    _check_forecaster,
    ["`inputs = keras.Input(shape=(window, n_features))`, then `x = layers.LSTM(64, return_sequences=True)(inputs)`.",
     "`x = layers.LSTM(32)(x)` returns the last state; `outputs = layers.Dense(n_features)(x)`.",
     "`model = keras.Model(inputs, outputs)`; `model.compile(optimizer=\"adam\", loss=\"mse\")`; `return model`."],
    "import keras\n"
    "from keras import layers\n\n\n"
    "def build_forecaster(window, n_features):\n"
    "    inputs = keras.Input(shape=(window, n_features))\n"
    "    x = layers.LSTM(64, return_sequences=True)(inputs)  # a sequence for the next LSTM\n"
    "    x = layers.LSTM(32)(x)  # its last state\n"
    "    outputs = layers.Dense(n_features)(x)  # linear: the next value of every sensor\n"
    "    model = keras.Model(inputs, outputs)\n"
    "    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=\"mse\")\n"
    "    return model",
    setup=_context,
    method="the stacked LSTM forecaster in Keras",
)
