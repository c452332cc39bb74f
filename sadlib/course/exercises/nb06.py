"""Exercises for notebook 06: causal window scores, an honest validation split, the sensor behind an alarm,
a threshold from validation scores only, and a Conv1D autoencoder built from Keras layers.

Q3, Q4 and Q5 have the learner write a method (``method=``): per-sensor window errors, the validation threshold and
a Conv1D autoencoder, each checked on data the learner has not seen with the library's own version switched off."""

from __future__ import annotations

import functools

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    call_answer,
    expect_close,
    expect_linear_mse,
    expect_shape,
    expect_true,
    library_unavailable,
    percentile_bounds,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: rows of the series in Q1 and of the training rows in Q2, the window lengths, and the data of Q3/Q4
Q1_SAMPLES, Q1_WINDOW = 40, 5
Q2_ROWS, Q2_WINDOW, Q2_VAL = 200, 10, 40
DATA_SEED, FREQ = 1, "2min"
#: Q5: the model the learner returns, a second shape it must also build, and the small fit that must learn
Q5_SHAPE, Q5_OTHER, Q5_FIT = (24, 4), (16, 3), (16, 2)
Q5_PARAMS = (50, 100_000)  # a sensible parameter count for windows of 24 x 4


#: how this notebook's checks call the learner's functions
_CALL = dict(quiet=False, unwritten="`{name}` still returns ____. Replace ____ with your answer")


def n_days() -> int:
    """Days of the Q3/Q4 pump: three whole weeks as in the notebook (six days in fast mode)."""
    from sadlib.course.modes import choose

    return choose(full=21, fast=6)


#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np

from sadlib import detectors, signals
from sadlib.environment import import_tensorflow
from sadlib.course.modes import choose
from sadlib.windows import chronological_split, sliding_windows, windows_to_points

import_tensorflow()
import keras
from keras import layers

# Q1: one score per window of 5 steps (stride 1) over a series of 40 samples
rng = np.random.default_rng(0)
n_samples, window = 40, 5
window_scores = rng.random(n_samples - window + 1).round(2)

# Q2: 200 training rows of 2 sensors; the first column is the row number, so you can see which rows a window holds
X_fit = np.column_stack([np.arange(200.0), np.sin(np.arange(200) / 5)])

# Q3 and Q4: three weeks of the pump (train = week 1, validation = week 2, test = week 3) with one level shift
# in one of its sensors (which one? that is Q3), and a small Conv1D autoencoder trained on week 1
data, events = signals.generate(n_days=choose(full=21, fast=6), freq="2min", anomalies=["level_shift"], seed=1,
                                clean_fraction=2 / 3)
sensors = list(signals.SENSORS)
train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
y_test = test["anomaly"].to_numpy().astype(bool)
det = detectors.make("conv_ae", window=24, dropout=0.0, epochs=10, batch_size=64, calibration=0).fit(train[sensors])
print(f"trained {det.n_epochs_} epochs; test part: {len(test)} samples, {y_test.sum()} of them anomalous")
"""


def _context() -> dict:
    return setup_namespace(SETUP)


@functools.lru_cache(maxsize=2)
def _pump_for(days: int):
    from sadlib import signals
    from sadlib.windows import chronological_split

    data, events = signals.generate(n_days=days, freq=FREQ, anomalies=["level_shift"], seed=DATA_SEED,
                                    clean_fraction=2 / 3)
    _, _, test = chronological_split(data, train=1 / 3, val=1 / 3)
    return list(signals.SENSORS), len(test), test["anomaly"].to_numpy().astype(bool), str(events["sensor"].iloc[0])


def _pump():
    """``(sensors, n_test, y_test, injected sensor)`` of the Q3/Q4 data, without training anything."""
    return _pump_for(n_days())


# --------------------------------------------------------------------------- Q1
def _q1_scores():
    rng = np.random.default_rng(0)
    return rng.random(Q1_SAMPLES - Q1_WINDOW + 1).round(2)


def _check_causal(point_scores):
    from sadlib.windows import windows_to_points

    s = _q1_scores()
    got = np.asarray(point_scores, dtype=float)
    if got.shape == s.shape:
        raise Incorrect(f"that is one score per window ({len(s)}); the task needs one per timestamp ({Q1_SAMPLES}).")
    expect_shape(got, (Q1_SAMPLES,), "`point_scores` (one per timestamp)")
    for how, why in (("max", "the highest score of all windows containing t, including windows that end up to "
                             "window - 1 steps later: it looks into the future"),
                     ("mean", "the mean over the windows containing t, which also end after t")):
        if np.allclose(got, windows_to_points(s, Q1_SAMPLES, Q1_WINDOW, how=how)):
            raise Incorrect(f"this is the `{how}` mapping, {why}. A live system at t only has the window that "
                            "ends at t.")
    starting = np.concatenate([s, np.full(Q1_WINDOW - 1, s[-1])])
    if np.allclose(got, starting):
        raise Incorrect("you gave timestamp t the window that *starts* at t; that window ends window - 1 steps in "
                        "the future. Use the window that *ends* at t.")
    expected = windows_to_points(s, Q1_SAMPLES, Q1_WINDOW, how="last")  # NaN before the first window ends
    filled = np.where(np.isnan(expected), s[0], expected)  # also accepted: the first window's score there
    if np.allclose(got, expected, equal_nan=True) or np.allclose(got, filled):
        return ("this is `windows_to_points(..., how=\"last\")`, the mapping the detectors use by default (which "
                "leaves the first `window - 1` timestamps without a score, NaN, rather than borrowing a later one).")
    t = np.arange(Q1_SAMPLES)
    for k in (*range(1, Q1_WINDOW - 1), -1, -2):  # the window ending k steps after t (k < 0: before t)
        rows = t[(t >= Q1_WINDOW - 1 - min(k, 0)) & (t <= Q1_SAMPLES - 1 - max(k, 0))]  # where that window exists
        if np.allclose(got[rows], s[rows - Q1_WINDOW + 1 + k]):
            if k > 0:
                centred = " (a centred window)" if k == Q1_WINDOW // 2 else ""
                raise Incorrect(f"timestamp t gets the window that ends {k} step(s) after t{centred}: it reads {k} "
                                "sample(s) of the future, which a live system does not have yet (look-ahead). Use "
                                "the window that *ends* at t.")
            raise Incorrect(f"timestamp t gets the window that ended {-k} step(s) before t: every score, and so "
                            f"every alarm, comes {-k} step(s) late. Use the window that *ends* at t, "
                            "`window_scores[t - window + 1]`.")
    if np.allclose(got[Q1_WINDOW - 1 :], expected[Q1_WINDOW - 1 :]):  # right from the first full window on
        raise Incorrect(f"from t = {Q1_WINDOW - 1} on it is right; the first {Q1_WINDOW - 1} timestamps have no "
                        "complete window yet: give them no score, `np.nan`.")
    expect_close(got, expected, what="`point_scores`")


q1 = Question(
    1,
    "Map `window_scores` (one score per window of `window` = 5 steps, stride 1, over `n_samples` = 40 samples) to "
    "one score per timestamp, **causally**: timestamp t gets the score of the window that ends at t, and the first "
    "`window - 1` timestamps, before any window has ended, get no score, `np.nan` (the library's rule: thresholds "
    "ignore NaN and alarms read it as no alarm; the first window's score there is accepted too). Set `point_scores`.",
    ("point_scores",),
    _check_causal,
    ["Window i covers samples i .. i + window - 1, so the window ending at t is window t - window + 1.",
     "`windows_to_points(window_scores, n_samples, window, how=...)` has the mapping built in; which `how` is causal?",
     "By hand: `np.concatenate([np.full(window - 1, np.nan), window_scores])`."],
    "point_scores = windows_to_points(window_scores, n_samples, window, how=\"last\")",
    setup=_context,
)


# --------------------------------------------------------------------------- Q2
def _q2_rows(windows, what):
    w = np.asarray(windows, dtype=float)
    expect_true(w.ndim == 3 and w.shape[1:] == (Q2_WINDOW, 2),
                f"{what} should be windows of shape (n_windows, {Q2_WINDOW}, 2), as `sliding_windows` returns; "
                f"it has shape {w.shape}.")
    return w, set(w[:, :, 0].ravel().astype(int))  # column 0 is the row number


def _check_split(train_windows, val_windows):
    from sadlib.windows import sliding_windows

    tr, tr_rows = _q2_rows(train_windows, "`train_windows`")
    va, va_rows = _q2_rows(val_windows, "`val_windows`")
    shared = tr_rows & va_rows
    if shared:
        n_bad = int(sum(bool(set(win[:, 0].astype(int)) & tr_rows) for win in va))
        raise Incorrect(f"{n_bad} of your {len(va)} validation windows share rows with training windows (rows "
                        f"{min(shared)}..{max(shared)}). Split the *rows* first, then cut each part into windows.")
    if max(va_rows) < Q2_ROWS - 1 or min(va_rows) != Q2_ROWS - Q2_VAL:
        raise Incorrect(f"the validation part should be the last {Q2_VAL} rows (20 %), rows "
                        f"{Q2_ROWS - Q2_VAL}..{Q2_ROWS - 1}, chronologically after the training rows; yours holds rows "
                        f"{min(va_rows)}..{max(va_rows)}.")
    X = np.column_stack([np.arange(float(Q2_ROWS)), np.sin(np.arange(Q2_ROWS) / 5)])
    want_tr = sliding_windows(X[: Q2_ROWS - Q2_VAL], Q2_WINDOW)
    want_va = sliding_windows(X[Q2_ROWS - Q2_VAL :], Q2_WINDOW)
    expect_shape(tr, want_tr.shape, "`train_windows`")
    expect_shape(va, want_va.shape, "`val_windows`")
    in_order = np.allclose(tr, want_tr) and np.allclose(va, want_va)
    # shuffling the windows *after* the split is honest (Keras shuffles the training windows every epoch anyway)
    tr_sorted, va_sorted = tr[np.argsort(tr[:, 0, 0], kind="stable")], va[np.argsort(va[:, 0, 0], kind="stable")]
    expect_true(in_order or (np.allclose(tr_sorted, want_tr) and np.allclose(va_sorted, want_va)),
                "the shapes are right but the windows are not the stride-1 windows of each part.")
    shuffled = "" if in_order else " Your windows are shuffled after the split, which is fine: no window crosses it."
    return (f"{len(want_tr) + len(want_va)} windows instead of {Q2_ROWS - Q2_WINDOW + 1}: the {Q2_WINDOW - 1} windows "
            f"that would straddle the cut are the price of an honest validation part.{shuffled}")


q2 = Question(
    2,
    "Early stopping needs validation windows that share no row with the training windows. Split the 200 rows of "
    "`X_fit` chronologically, the last 20 % (`n_val` rows) for validation, and only then cut each part into windows "
    "of 10 steps (stride 1). Set `train_windows` and `val_windows`.",
    ("train_windows", "val_windows"),
    _check_split,
    ["`sliding_windows(rows, 10)` cuts rows into windows of shape (n_windows, 10, n_sensors).",
     "Cut the rows: `X_fit[:-n_val]` and `X_fit[-n_val:]`; window each of them.",
     "Windowing everything and then splitting the windows leaves 9 validation windows with training rows in them."],
    "n_val = int(round(0.2 * len(X_fit)))\n"
    "train_windows = sliding_windows(X_fit[:-n_val], 10)\n"
    "val_windows = sliding_windows(X_fit[-n_val:], 10)",
    setup=_context,
)


# --------------------------------------------------------------------------- Q3
#: the fresh windows (n_windows, window, n_sensors) the checker scores the learner's function on
Q3_FRESH = ((9, 8, 3), (5, 12, 2))


def _q3_model(window: int, n_features: int):
    """A small untrained Conv1D model (seeded): its outputs differ from its inputs differently per sensor."""
    import keras

    keras.utils.set_random_seed(7)
    inputs = keras.Input(shape=(window, n_features))
    x = keras.layers.Conv1D(6, 3, padding="same", activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Conv1D(n_features, 3, padding="same")(x))


def _q3_windows(n: int, window: int, n_features: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, window, n_features)).astype("float32")


def _check_sensor_errors(sensor_window_errors, culprit):
    from sadlib.detectors import keras_base

    _, _, _, injected = _pump()
    for seed, shape in enumerate(Q3_FRESH, start=3):
        model, W = _q3_model(*shape[1:]), _q3_windows(*shape, seed)
        with library_unavailable(sensor_window_errors, [(keras_base, "reconstruction_errors")]):
            got = np.asarray(call_answer(sensor_window_errors, "sensor_window_errors", model, W, **_CALL), float)
        rebuilt = np.asarray(model.predict(W, verbose=0), float)
        want = np.mean((rebuilt - W) ** 2, axis=1)  # (n_windows, n_sensors)
        n, window, f = shape
        if got.shape == (n,):
            raise Incorrect(f"one value per window ({n}): that is the window's score, averaged over the sensors too. "
                            "Keep one error per sensor: average over the time steps only (`axis=1`).")
        if got.shape == (n, window):
            raise Incorrect(f"shape {got.shape} is one error per window and time step: you averaged over the sensors "
                            "(`axis=2`). Average over the time steps (`axis=1`) to keep one error per sensor.")
        expect_shape(got, want.shape, f"the errors of {n} windows of {window} steps x {f} sensors")
        if np.allclose(got, np.mean(np.abs(rebuilt - W), axis=1), rtol=1e-4):
            raise Incorrect("these are absolute errors; the autoencoder was trained on the *squared* error, and the "
                            "score is the squared error: `(rebuilt - windows) ** 2`.")
        if np.allclose(got, np.sum((rebuilt - W) ** 2, axis=1), rtol=1e-4):
            raise Incorrect("that is the sum over the time steps; take the mean (`np.mean(..., axis=1)`), so the "
                            "error does not grow with the window length.")
        if np.allclose(got, np.sqrt(want), rtol=1e-4):
            raise Incorrect("these are root mean squared errors; the score is the mean squared error itself, "
                            "without the square root: `np.mean((rebuilt - windows) ** 2, axis=1)`.")
        if np.allclose(got, (rebuilt[:, -1] - W[:, -1]) ** 2, rtol=1e-4):
            raise Incorrect("that is the error at the window's last time step only; average the squared error over "
                            "all the window's time steps (`axis=1`).")
        z2 = ((W - W.mean(axis=(0, 1))) / W.std(axis=(0, 1))) ** 2
        if np.allclose(got, z2.mean(axis=1), rtol=1e-4):
            raise Incorrect("these are squared z-scores of the windows, not the model's per-sensor errors: run the "
                            "windows through `model.predict(windows)` and compare the rebuilt windows with them.")
        expect_true(np.allclose(got, want, rtol=1e-4, atol=1e-7),
                    "your errors differ from the mean over the time steps of "
                    "`(model.predict(windows) - windows) ** 2`, one value per window and sensor.")
    sensors = list(_pump()[0])
    expect_true(isinstance(culprit, str) and culprit in sensors,
                f"`culprit` should be one of the sensor names {sensors}, got {culprit!r}.")
    if culprit != injected:
        raise Incorrect(f"{culprit!r} is not the sensor with the largest error in the strongest test window: take "
                        "the argmax over the sensors of the row `t_alarm` of your errors (not of the mean over all "
                        "windows).")
    return (f"per-sensor window errors right on windows you had not seen; {culprit!r} is the sensor with the "
            "injected level shift (see `events`). `det.sensor_errors(...)` does the same and maps windows to "
            "timestamps; from now on you may use it.")


q3 = FunctionQuestion(
    3,
    "Which sensor is behind an alarm? Write the per-sensor window error yourself. Complete "
    "`sensor_window_errors(model, windows)`: for windows of shape (n_windows, window, n_sensors) it returns, for "
    "each window and sensor, the mean over the window's time steps of the squared reconstruction error, shape "
    "(n_windows, n_sensors). The checker runs it on windows and a model you have not seen, with the library's "
    "`reconstruction_errors` switched off. Then set `culprit` to the sensor with the largest error in the "
    "strongest test window `t_alarm`.",
    ("sensor_window_errors", "culprit"),
    _check_sensor_errors,
    ["`rebuilt = model.predict(windows, verbose=0)` has the shape of `windows`.",
     "`np.mean((rebuilt - windows) ** 2, axis=1)`: axis 1 is the time step, axis 2 the sensor.",
     "`culprit = sensors[int(np.argmax(errors[t_alarm]))]`."],
    "def sensor_window_errors(model, windows):\n"
    "    rebuilt = model.predict(windows, verbose=0)  # the same shape as windows\n"
    "    return np.mean((rebuilt - windows) ** 2, axis=1)  # mean over the time steps: one error per sensor\n"
    "\n"
    "\n"
    "test_windows = det.model_inputs(test[sensors])  # the scaled test windows; window i ends at test row i + 23\n"
    "errors = sensor_window_errors(det.model_, test_windows)\n"
    "t_alarm = int(np.argmax(errors.mean(axis=1)))  # the strongest test window\n"
    "culprit = sensors[int(np.argmax(errors[t_alarm]))]",
    setup=_context,
    method="per-sensor window errors",
)


# --------------------------------------------------------------------------- Q4
#: the fresh validation and test scores the checker hands the learner's function
Q4_FRESH = ((10_000, 2000, 11), (6000, 900, 12))  # (validation scores, test scores, seed)
Q4_Q = 99.9


def _q4_scores(n_val: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gamma-distributed scores, on another scale for every seed, with 50 anomalous ones at the end of the test."""
    rng = np.random.default_rng(seed)
    scale = 0.004 * (seed - 9)
    return rng.gamma(2.0, scale, n_val), np.concatenate([rng.gamma(2.0, scale, n_test - 50),
                                                         rng.gamma(9.0, 2 * scale, 50)])


def _test_variants(test_scores: np.ndarray) -> dict[str, np.ndarray]:
    """The test scores changed three ways; an honest threshold does not notice any of them."""
    rng = np.random.default_rng(0)
    n = len(test_scores)
    planted = test_scores.copy()
    planted[rng.choice(n, max(1, n // 20), replace=False)] = 100 * np.abs(test_scores).max() + 1
    return {"with an extreme anomaly planted in 5 % of the test samples": planted,
            "with the test samples shuffled": rng.permutation(test_scores),
            "with the test part replaced by other scores": rng.random(n) * 2 * np.abs(test_scores).max()}


def _check_threshold(pick_threshold):
    from sadlib import thresholds

    switched_off = [(thresholds, name) for name in ("PercentileThreshold", "MaxThreshold", "POTThreshold",
                                                    "SPOTThreshold") if hasattr(thresholds, name)]

    def pick(val_scores, test_scores):
        with library_unavailable(pick_threshold, switched_off):
            out = call_answer(pick_threshold, "pick_threshold", val_scores, test_scores, **_CALL)
        expect_true(np.ndim(out) == 0 and np.isfinite(float(out)),
                    f"`pick_threshold` should return one number, the threshold; it returned {out!r}.")
        return float(out)

    for n_val, n_test, seed in Q4_FRESH:
        val, test = _q4_scores(n_val, n_test, seed)
        threshold = pick(val, test)
        for how, changed in _test_variants(test).items():
            moved = pick(val.copy(), changed)
            if not np.isclose(moved, threshold, rtol=1e-9, atol=0.0):
                raise Incorrect(f"leakage: called again {how}, `pick_threshold` returns {moved:.4g} instead of "
                                f"{threshold:.4g}. The threshold depends on the test scores, the data being judged; "
                                "take it from `val_scores` only.")
        if np.isclose(pick(2 * val, test), threshold, rtol=1e-9, atol=0.0):
            raise Incorrect("your threshold does not change when the validation scores double: it is not taken from "
                            "them. A number typed in after looking at the notebook's scores is tuned on what you "
                            "saw; compute it from `val_scores`.")
        lo, hi = percentile_bounds(val, Q4_Q)
        if not lo <= threshold <= hi:
            for q in (99.0, 99.5, 100.0):
                q_lo, q_hi = percentile_bounds(val, q)
                if q_lo <= threshold <= q_hi:
                    what = "the maximum" if q == 100.0 else f"the {q:g}th percentile"
                    raise Incorrect(f"that is {what} of the validation scores; the task says the {Q4_Q:g}th "
                                    f"percentile, the rule of section 3 (`np.percentile(val_scores, {Q4_Q:g})`).")
            for q in (Q4_Q / 100, 0.99, 0.995):
                q_lo, q_hi = percentile_bounds(val, q)
                if q_lo <= threshold <= q_hi:
                    raise Incorrect(f"that is the {q:g}th percentile, near the bottom of the validation scores: "
                                    f"`np.percentile` takes percent ({Q4_Q:g}), `np.quantile` a fraction "
                                    f"({Q4_Q / 100:g}).")
            ratio = threshold / np.percentile(val, Q4_Q)
            margin = ""
            if abs(ratio - 1) > 0.02 and np.isclose(pick(3 * val, test), 3 * threshold, rtol=1e-6):
                margin = f" It is {ratio:.3g} x that percentile" + (
                    ": the task asks for the percentile itself, no margin." if ratio > 1 else ".")
            raise Incorrect(f"on fresh validation scores ({n_val} of them) your threshold is {threshold:.4g}; their "
                            f"{Q4_Q:g}th percentile lies between {lo:.4g} and {hi:.4g}.{margin} Use "
                            f"`np.percentile(val_scores, {Q4_Q:g})`.")
    return (f"the {Q4_Q:g}th percentile of validation scores you had not seen, unmoved by three changes of the test "
            "scores. `det.calibrate(val_scores, threshold=(\"percentile\", {\"q\": 99.9}))` does the same; from now "
            "on you may use it.")


q4 = FunctionQuestion(
    4,
    "Write the validation threshold yourself. Complete `pick_threshold(val_scores, test_scores)`: it returns the "
    "99.9th percentile of the validation scores (the rule of section 3; the validation week is clean), although it "
    "is handed both parts. NumPy only: the classes of `sadlib.thresholds` are switched off. The checker calls it on "
    "validation and test scores you have not seen, then again with the test scores changed: an honest threshold "
    "does not move.",
    ("pick_threshold",),
    _check_threshold,
    ["`np.percentile(val_scores, 99.9)`; anything computed from `test_scores` is leakage.",
     "Every interpolation of the percentile is accepted (`method=\"nearest\"`, an order statistic of the sorted "
     "scores).",
     "Then, in the notebook: `far = np.mean((test_scores > threshold)[~y_test])` is the false alarm rate."],
    "# test_scores stay unused: they are the data being judged\n"
    "def pick_threshold(val_scores, test_scores):\n"
    "    return np.percentile(val_scores, 99.9)",
    setup=_context,
    method="the validation threshold",
)


# --------------------------------------------------------------------------- Q5
def _layer_names(model) -> set[str]:
    """Class names of every layer, wrapped ones (TimeDistributed, Bidirectional) and nested models included."""
    names, todo = set(), list(model.layers)
    while todo:
        layer = todo.pop()
        names.add(type(layer).__name__)
        for attr in ("layer", "forward_layer", "backward_layer"):
            if getattr(layer, attr, None) is not None:
                todo.append(getattr(layer, attr))
        todo.extend(getattr(layer, "layers", []))
    return names


def _output_sizes(model) -> list[int]:
    """Values per window at the output of every layer between the input and the output."""
    from keras import tree

    sizes = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            outputs = tree.flatten(layer.output)
        except (AttributeError, ValueError):  # a layer used twice has no single output
            continue
        sizes += [int(np.prod(t.shape[1:])) for t in outputs if None not in t.shape[1:]]
    return sizes


def _check_model(model, window: int, n_features: int, what: str) -> None:
    import keras

    expect_true(isinstance(model, keras.Model), f"{what} should return a `keras.Model`, not a "
                                                f"{type(model).__name__}: end with `keras.Model(inputs, outputs)`.")
    want = (None, window, n_features)
    expect_true(len(model.inputs) == 1 and tuple(model.input_shape) == want,
                f"{what}: the input should have shape {want}, one window of {window} steps x {n_features} "
                f"sensors; it has {model.input_shape}. Use `keras.Input(shape=(window, n_features))`.")
    out = tuple(model.output_shape) if len(model.outputs) == 1 else None
    expect_true(out == want, f"{what}: the output should have the input's shape {want}, so the model can be "
                             f"trained to rebuild its input; it has {model.output_shape}.")
    kinds = _layer_names(model)
    if "Conv1D" not in kinds:
        recurrent = sorted(kinds & {"LSTM", "GRU", "SimpleRNN"})
        raise Incorrect(f"{what} has no Conv1D layer ({', '.join(recurrent) or 'only ' + ', '.join(sorted(kinds))}): "
                        "the task is the Conv1D autoencoder of section 2, strided `layers.Conv1D` layers that halve "
                        "the time axis and `layers.Conv1DTranspose` layers that double it back.")
    sizes = _output_sizes(model)[:-1]  # every layer but the output
    values = window * n_features
    narrowest = min(sizes) if sizes else values
    if narrowest >= values:
        raise Incorrect(f"{what} has no bottleneck: its narrowest layer holds {narrowest} values per window, "
                        f"as many as the {values} values of the window, so it can learn to copy anomalies too. Give "
                        "the last encoder layer fewer channels (e.g. 8 channels on a quarter of the steps).")
    n_params = model.count_params()
    lo, hi = Q5_PARAMS
    expect_true(lo <= n_params <= hi, f"{what} has {n_params:,} parameters; for windows of a few sensors a "
                                      f"Conv1D autoencoder needs between {lo} and {hi:,}.")
    expect_true(getattr(model, "optimizer", None) is not None,
                f"{what} is not compiled: call `model.compile(optimizer=\"adam\", loss=\"mse\")` before returning it.")
    expect_linear_mse(model, what)
    x = np.random.default_rng(0).random((2, window, n_features)).astype("float32")
    y = np.asarray(model(x, training=False))
    expect_true(y.shape == x.shape and np.isfinite(y).all(),
                f"{what}: a forward pass on 2 windows should give finite values of shape {x.shape}; got {y.shape}.")


def _fit_windows(window: int, n_features: int, n: int = 64) -> np.ndarray:
    """Windows of sine waves with random phases, values in [0.1, 0.9] like min-max scaled sensors."""
    rng = np.random.default_rng(0)
    t = np.arange(window)[None, :, None]
    period = np.arange(8.0, 8.0 + 4 * n_features, 4)[None, None, :]
    waves = np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi, (n, 1, n_features)))
    return (0.5 + 0.4 * waves).astype("float32")


def _check_build(build_conv_ae):
    import keras

    from sadlib.detectors import sequence_ae

    switched_off = [(sequence_ae, "build_conv_autoencoder"), (sequence_ae, "ConvAutoencoder")]

    def build(*shape):
        with library_unavailable(build_conv_ae, switched_off):
            model = call_answer(build_conv_ae, "build_conv_ae", *shape, **_CALL)
        return model

    model = build(*Q5_SHAPE)
    _check_model(model, *Q5_SHAPE, f"`build_conv_ae{Q5_SHAPE}`")
    _check_model(build(*Q5_OTHER), *Q5_OTHER, f"`build_conv_ae{Q5_OTHER}` (use the arguments, not fixed numbers)")
    # a short fit on tiny data: does the loss fall? (our optimizer, so the check does not depend on yours)
    keras.utils.set_random_seed(0)
    fresh = build(*Q5_FIT)
    fresh.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    x = _fit_windows(*Q5_FIT)
    before = float(np.mean((np.asarray(fresh(x, training=False)) - x) ** 2))
    fresh.fit(x, x, epochs=10, batch_size=16, shuffle=True, verbose=0)
    after = float(np.mean((np.asarray(fresh(x, training=False)) - x) ** 2))
    if not after < 0.5 * before:
        raise Incorrect(f"trained for 40 steps (Adam, learning rate 0.01) on 64 windows of sine waves, your model's "
                        f"error went from {before:.3f} to {after:.3f}; it should at least halve. Are layers frozen "
                        "(`trainable=False`), or is the gradient blocked (e.g. a saturated activation on the last "
                        "layer)? The decoder's last layer should be linear.")
    return (f"{model.count_params():,} parameters, a bottleneck of {min(_output_sizes(model)[:-1])} values for a "
            f"window of {Q5_SHAPE[0] * Q5_SHAPE[1]}; on sine-wave windows 40 training steps took the error from "
            f"{before:.3f} to {after:.3f}. `sequence_ae.build_conv_autoencoder` builds the same kind of model.")


q5 = FunctionQuestion(
    5,
    "Build the Conv1D autoencoder yourself, with a real bottleneck. Complete `build_conv_ae(window, n_features)`: "
    "it returns a `keras.Model` compiled with Adam and the MSE loss that maps windows of shape "
    "(window, n_features) to the same shape, with strided `Conv1D` layers in the encoder, `Conv1DTranspose` (or "
    "upsampling) layers in the decoder, a linear last layer, and a narrowest layer that holds fewer values than the "
    "window (section 2's model does not: its code is as large as the window). The checker builds it for windows "
    "of 24 x 4 and 16 x 3 with `sadlib`'s builder switched off, and trains a fresh one briefly on sine waves: the "
    "loss must fall.",
    ("build_conv_ae",),
    _check_build,
    ["`layers.Conv1D(16, 5, strides=2, padding=\"same\", activation=\"relu\")` halves the time axis.",
     "Two of them with 16 and then 8 filters: a code of (window / 4) x 8 values, half of a 24 x 4 window.",
     "Mirror it with `layers.Conv1DTranspose(..., strides=2, padding=\"same\")` and end with "
     "`layers.Conv1D(n_features, 5, padding=\"same\")` (no activation); compile with "
     "`optimizer=\"adam\", loss=\"mse\"`."],
    "# a Conv1D autoencoder whose code (a quarter of the steps x 8 channels) is half the window\n"
    "def build_conv_ae(window, n_features):\n"
    "    inputs = keras.Input(shape=(window, n_features))\n"
    "    x = layers.Conv1D(16, 5, strides=2, padding=\"same\", activation=\"relu\")(inputs)  # window / 2 steps\n"
    "    code = layers.Conv1D(8, 5, strides=2, padding=\"same\", activation=\"relu\")(x)  # window / 4 steps x 8\n"
    "    x = layers.Conv1DTranspose(8, 5, strides=2, padding=\"same\", activation=\"relu\")(code)\n"
    "    x = layers.Conv1DTranspose(16, 5, strides=2, padding=\"same\", activation=\"relu\")(x)\n"
    "    outputs = layers.Conv1D(n_features, 5, padding=\"same\")(x)  # linear: back to n_features channels\n"
    "    model = keras.Model(inputs, outputs)\n"
    "    model.compile(optimizer=\"adam\", loss=\"mse\")\n"
    "    return model",
    setup=_context,
    method="a Conv1D autoencoder",
)

ANSWER_CELLS = {
    2: "n_val = int(round(0.2 * len(X_fit)))  # the last 20 % of the rows\n"
       "train_windows = ____\n"
       "val_windows = ____",
    3: "def sensor_window_errors(model, windows):\n"
       "    \"\"\"Per window and sensor: the mean over the time steps of the squared reconstruction error.\"\"\"\n"
       "    return ____\n"
       "\n"
       "\n"
       "test_windows = det.model_inputs(test[sensors])  # the scaled test windows; window i ends at test row i + 23\n"
       "culprit = ____  # the sensor with the largest error in the strongest test window",
    4: "def pick_threshold(val_scores, test_scores):\n"
       "    \"\"\"The alarm threshold. It is handed both parts' scores; an honest one uses only one of them.\"\"\"\n"
       "    return ____",
    5: "def build_conv_ae(window, n_features):\n"
       "    inputs = keras.Input(shape=(window, n_features))\n"
       "    ____  # the encoder: strided Conv1D layers down to a code smaller than the window\n"
       "    ____  # the decoder: Conv1DTranspose layers back to shape (window, n_features), linear last layer\n"
       "    return ____  # keras.Model(inputs, outputs), compiled with Adam and the MSE loss",
}
