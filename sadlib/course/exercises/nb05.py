"""Exercises for notebook 05: fix the LSTM + DBSCAN tutorial pipeline, choose DBSCAN and the threshold honestly,
then build the stacked LSTM forecaster in Keras.

Q1-Q4 need no neural network: Q3 and Q4 judge the errors of the simplest forecaster
there is (each value predicted by the value two periods earlier), so their checks run
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
    2: "scaler = ____\ntest_scaled = ____  # the rows from test_start on, scaled",
    3: "def dbscan_params(val_errors, test_errors):\n"
       "    min_samples = ____\n"
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
def _fitted_starts(scaler, values: np.ndarray, n: int) -> list[int]:
    """Every ``a`` for which the scaler equals one fitted on ``values[a:a + n]`` (its learned parameters, probed)."""
    from sklearn.base import clone

    probe = np.array([[-1.0], [0.0], [1.0]])
    want = scaler.transform(probe)
    return [a for a in range(0, len(values) - n + 1)
            if np.allclose(clone(scaler).fit(values[a:a + n]).transform(probe), want, rtol=1e-12, atol=1e-12)]


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
    honest = [a for a in starts if a + n <= min(test_start, _BURST)]
    if not honest:
        if starts == [_N - n]:
            raise Incorrect(f"this scaler was fitted on the last {n} rows, the test part: every part would get its "
                            "own minimum and maximum. Fit one scaler on the training rows and reuse it.")
        if all(a + n > test_start for a in starts):
            a = max(starts[0], 0)
            raise Incorrect(f"leakage: this scaler was fitted on {n} rows that reach into your test part, which "
                            f"starts at row {test_start} (`test_scaled` holds {len(test_scaled)} rows); e.g. rows "
                            f"{a}-{a + n - 1} give it. Fit it on rows before `test_start` only.")
        raise Incorrect(f"the scaler saw {n} rows that include the burst (800-849). Fit it on the training rows only.")
    tail = values[test_start:]
    if not np.allclose(test_scaled, scaler.transform(tail)):
        if np.allclose(test_scaled, clone(scaler).fit_transform(tail)):
            raise Incorrect("`test_scaled` comes from a scaler fitted on the test rows themselves. Use "
                            "`scaler.transform(...)`, the scaler fitted on the training rows.")
        raise Incorrect("`test_scaled` should be `scaler.transform(values[test_start:])`.")
    return f"one scaler, fitted on {n} rows before the test, applied unchanged to the test rows from row {test_start}."


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
    from sadlib.clustering import dbscan_outliers, k_distance
    from sadlib.metrics import point_metrics

    ns = _context()
    val, test, y_test = ns["val_errors"], ns["test_errors"], ns["y_test"]

    def params(test_errors):
        out = call_answer(dbscan_params, "dbscan_params", val, test_errors, **_CALL)
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
    alarms = dbscan_outliers(test, eps, min_samples, reference=val)
    f1 = point_metrics(y_test, alarms)["f1"]
    return (f"eps={eps:.3g}, min_samples={min_samples}, the same whatever the test errors are. DBSCAN fitted on the "
            f"validation errors flags {int(alarms.sum())} of {len(alarms)} test rows: F1 = {f1:.2f}.")


q3 = FunctionQuestion(
    3,
    "Choose DBSCAN's parameters from normal data. Write `dbscan_params(val_errors, test_errors)` returning "
    "`(eps, min_samples)`, read off the k-distance curve of the validation errors "
    "(`clustering.k_distance(val_errors, k=min_samples)`). It gets both parts, as a pipeline has them; the checker "
    "calls it again with the test errors changed (an extreme anomaly added, shuffled, replaced) and the parameters "
    "must not move. It then runs `clustering.dbscan_outliers(test_errors, eps, min_samples, reference=val_errors)` "
    "and reports F1.",
    ("dbscan_params",),
    _check_eps,
    ["Plot `np.sort` of the k-distances: a flat part (dense normal errors), then a steep rise.",
     "`clustering.suggest_eps(val_errors, k=min_samples)` takes the 99th percentile of the k-distances.",
     "`min_samples = 10` is a reasonable size for a cluster in 150 points; `test_errors` is not needed at all."],
    "# both read off the validation errors; test_errors is not used\n"
    "def dbscan_params(val_errors, test_errors):\n"
    "    min_samples = 10\n"
    "    eps = clustering.suggest_eps(val_errors, k=min_samples)  # 99th percentile of the k-distances\n"
    "    return eps, min_samples",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
def _threshold_interval(errors: np.ndarray, alarms: np.ndarray) -> tuple[float, float]:
    """``(low, high)``: ``errors > t`` gives ``alarms`` for every ``low <= t < high``."""
    flagged, kept = errors[alarms], errors[~alarms]
    return (kept.max() if len(kept) else -np.inf), (flagged.min() if len(flagged) else np.inf)


def _check_alarms(alarm_rule):
    from sadlib.metrics import point_metrics

    ns = _context()
    val, test, y_test = ns["val_errors"], ns["test_errors"], ns["y_test"]

    def alarms_for(test_errors, val_errors=val):
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
                        "the maximum or POT.")
    if low > 3 * val.max():
        raise Incorrect("your threshold is far above every validation error: take it from `val_errors` "
                        "(a high percentile, the maximum, or POT).")
    m = point_metrics(y_test, alarms)
    return (f"the same threshold whatever the test errors are. F1 = {m['f1']:.2f}, false alarm rate "
            f"{100 * m['far']:.1f} %. Compare with your DBSCAN from Q3.")


q4 = FunctionQuestion(
    4,
    "The same errors judged by a threshold instead of DBSCAN. Complete `alarm_rule(val_errors, test_errors)`: it "
    "returns `test_errors > threshold` with a threshold calibrated on `val_errors` only (a percentile, the maximum "
    "with a margin, or `thresholds.POTThreshold(...).fit(val_errors).threshold_`). The checker calls it again with "
    "the test errors changed; the threshold must not move.",
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


def _check_forecaster(build_forecaster):
    from sadlib.environment import import_keras

    keras = import_keras()
    expect_true(callable(build_forecaster), "`build_forecaster` should be a function (window, n_features) -> model.")
    for window, n_features in _Q5_SHAPES:
        keras.utils.set_random_seed(0)
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
        lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
        expect_true(len(lstms) >= 2, f"the model has {len(lstms)} LSTM layer(s); a *stacked* LSTM has at least two, "
                                     "the first with `return_sequences=True` so the second reads its whole sequence.")
        last = model.layers[-1]
        activation = getattr(getattr(last, "activation", None), "__name__", "linear")
        expect_true(isinstance(last, keras.layers.Dense) and activation == "linear",
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
    model.fit(x, y, epochs=_Q5_EPOCHS, batch_size=32, shuffle=False, verbose=0)
    after = float(np.mean((np.asarray(model.predict_on_batch(x)) - y) ** 2))
    if not after < 0.8 * before:
        raise Incorrect(f"{_Q5_EPOCHS} epochs on a small sine series took the mean squared error only from "
                        f"{before:.3f} to {after:.3f}; a working forecaster lowers it clearly. Check the optimizer "
                        "and its learning rate (Adam with 1e-3 works).")
    return (f"a stacked LSTM of {len(lstms)} layers, {model.count_params():,} weights for window {window}; "
            f"{_Q5_EPOCHS} epochs on a small sine series lowered its squared error from {before:.3f} to {after:.3f}.")


q5 = FunctionQuestion(
    5,
    "Build the model of section 4 yourself. Complete `build_forecaster(window, n_features)`: it returns a compiled "
    "`keras.Model` that reads `(batch, window, n_features)` windows and predicts the next value of every sensor, "
    "`(batch, n_features)`, with at least two stacked LSTM layers (the first returns its sequence) and a linear "
    "Dense output, compiled with the mean squared error as its loss (and Adam, as in the notebook). The checker "
    "builds it for two shapes, counts its weights, runs it and trains it briefly on a small sine series.",
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
)
