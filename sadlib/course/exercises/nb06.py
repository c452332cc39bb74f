"""Exercises for notebook 06: causal window scores, an honest validation split, the sensor behind an alarm,
a threshold from validation scores only, and a sequence autoencoder built from Keras layers."""

from __future__ import annotations

import functools

import numpy as np

from sadlib.course.exercises.checker import (
    Incorrect,
    Question,
    expect_close,
    expect_linear_mse,
    expect_shape,
    expect_true,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: rows of the series in Q1 and of the training rows in Q2, the window lengths, and the data of Q3/Q4
Q1_SAMPLES, Q1_WINDOW = 40, 5
Q2_ROWS, Q2_WINDOW, Q2_VAL = 200, 10, 40
DATA_SEED, FREQ = 1, "2min"
#: Q5: the model the learner returns, a second shape it must also build, and the small fit that must learn
Q5_SHAPE, Q5_OTHER, Q5_FIT = (24, 4, 8), (16, 3, 6), (16, 2, 4)
Q5_PARAMS = (50, 100_000)  # a sensible parameter count for windows of 24 x 4 and a code of 8 values
Q5_SEQUENCE_LAYERS = ("LSTM", "GRU", "SimpleRNN", "Conv1D", "Conv1DTranspose")


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
    expected = windows_to_points(s, Q1_SAMPLES, Q1_WINDOW, how="last")
    if np.allclose(got, expected):
        return "this is `windows_to_points(..., how=\"last\")`, the mapping the detectors use by default."
    if np.allclose(got[Q1_WINDOW - 1 :], expected[Q1_WINDOW - 1 :]):
        raise Incorrect(f"from t = {Q1_WINDOW - 1} on it is right; the first {Q1_WINDOW - 1} timestamps have no "
                        "complete window yet and take the first window's score.")
    expect_close(got, expected, what="`point_scores`")


q1 = Question(
    1,
    "Map `window_scores` (one score per window of `window` = 5 steps, stride 1, over `n_samples` = 40 samples) to "
    "one score per timestamp, **causally**: timestamp t gets the score of the window that ends at t, and the first "
    "`window - 1` timestamps, before any window has ended, take the first window's score. Set `point_scores`.",
    ("point_scores",),
    _check_causal,
    ["Window i covers samples i .. i + window - 1, so the window ending at t is window t - window + 1.",
     "`windows_to_points(window_scores, n_samples, window, how=...)` has the mapping built in; which `how` is causal?",
     "By hand: `np.concatenate([np.full(window - 1, window_scores[0]), window_scores])`."],
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
    expect_true(np.allclose(tr, want_tr) and np.allclose(va, want_va),
                "the shapes are right but the windows are not the stride-1 windows of each part, in time order.")
    return (f"{len(want_tr) + len(want_va)} windows instead of {Q2_ROWS - Q2_WINDOW + 1}: the {Q2_WINDOW - 1} windows "
            "that would straddle the cut are the price of an honest validation part.")


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
def _squared_z(part, reference) -> np.ndarray:
    x, ref = np.asarray(part, float), np.asarray(reference, float)
    return ((x - ref.mean(axis=0)) / ref.std(axis=0)) ** 2


def _check_culprit(sensor_error, culprit, det, train, test, sensors):
    _, n_test, _, injected = _pump()
    sensors = list(sensors)
    err = np.asarray(sensor_error, dtype=float)
    if err.shape == (n_test,):
        raise Incorrect("that is one score per timestamp; `det.sensor_errors(...)` gives one error per timestamp "
                        "*and sensor*, shape (n_test, 4).")
    expect_shape(err, (n_test, len(sensors)), "`sensor_error` (test samples x sensors)")
    expect_true(np.all(err >= 0), "reconstruction errors are squared differences, never negative: use "
                                  "`det.sensor_errors(test[sensors])`, not the sensor values.")
    # never trust the learner's array: the check asks the model itself
    own = np.asarray(det.sensor_errors(test[sensors]), dtype=float)
    if not np.allclose(err, own, rtol=1e-5, atol=1e-8):
        for ref, part in (("the training part", train), ("the test part", test)):
            if np.allclose(err, _squared_z(test[sensors], part[sensors]), rtol=1e-5, atol=1e-8):
                raise Incorrect(f"these are squared z-scores of the test values (standardised with {ref}), not the "
                                "model's per-sensor reconstruction errors. The question is which sensor the "
                                "*autoencoder* fails to rebuild: `det.sensor_errors(test[sensors])`.")
        raise Incorrect("`sensor_error` should be the model's per-sensor reconstruction errors of the test part, "
                        "`det.sensor_errors(test[sensors])`; yours differ from them.")
    expect_true(isinstance(culprit, str), f"`culprit` should be a sensor name, one of {sensors}.")
    expect_true(culprit in sensors, f"`culprit` should be one of {sensors}, got {culprit!r}.")
    err = own
    t = int(np.argmax(err.mean(axis=1)))  # with aggregate="last" the mean over sensors is the score
    at_alarm = sensors[int(np.argmax(err[t]))]
    overall = sensors[int(np.argmax(err.mean(axis=0)))]
    if culprit != at_alarm:
        extra = (" That sensor has the largest error *averaged over the whole test part*; look at the one row "
                 "of the alarm." if culprit == overall else "")
        raise Incorrect(f"at the strongest alarm (test sample {t}) the largest error is that of {at_alarm!r}, "
                        f"not {culprit!r}.{extra} Take the argmax over the sensors of row `t_alarm`.")
    if culprit != injected:
        raise Incorrect(f"{culprit!r} has the largest error in your array at its strongest alarm, but the level "
                        "shift is in another sensor: is `sensor_error` the detector's `sensor_errors` of the test "
                        "part?")
    return "that is the sensor with the injected level shift (see `events`)."


q3 = Question(
    3,
    "The detector `det` raises its strongest test alarm at `t_alarm`. Which sensor is behind it? Set `sensor_error` "
    "to the per-sensor reconstruction errors of the test part (`det.sensor_errors`, shape (n_test, 4)) and `culprit` "
    "to the name of the sensor with the largest error at `t_alarm`.",
    ("sensor_error", "culprit", "det", "train", "test", "sensors"),
    _check_culprit,
    ["`det.sensor_errors(test[sensors])` returns an array with one column per sensor, in the order of `sensors`.",
     "`np.argmax(sensor_error[t_alarm])` is the position of the sensor; `sensors[...]` its name."],
    "sensor_error = det.sensor_errors(test[sensors])\n"
    "t_alarm = int(np.argmax(det.score(test[sensors])))\n"
    "culprit = sensors[int(np.argmax(sensor_error[t_alarm]))]",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
def _test_variants(test_scores: np.ndarray) -> dict[str, np.ndarray]:
    """The test scores changed three ways; an honest threshold does not notice any of them."""
    rng = np.random.default_rng(0)
    n = len(test_scores)
    planted = test_scores.copy()
    planted[rng.choice(n, max(1, n // 20), replace=False)] = 100 * np.abs(test_scores).max() + 1
    return {"with an extreme anomaly planted in 5 % of the test samples": planted,
            "with the test samples shuffled": rng.permutation(test_scores),
            "with the test part replaced by other scores": rng.random(n) * 2 * np.abs(test_scores).max()}


def _check_far(pick_threshold, threshold, far, val_scores, test_scores, det, val, test, sensors):
    _, n_test, y, _ = _pump()
    expect_true(callable(pick_threshold), "`pick_threshold` should be the function that returns the threshold.")
    # never trust the learner's intermediate values: the check scores the parts itself
    own_val = np.asarray(det.score(val[sensors]), float)
    own_test = np.asarray(det.score(test[sensors]), float)
    given_val = np.asarray(val_scores, float)
    if given_val.shape == own_test.shape and np.allclose(given_val, own_test, rtol=1e-5, atol=1e-8):
        raise Incorrect("leakage: your `val_scores` are the detector's scores of the *test* part. The threshold must "
                        "come from the validation part: `val_scores = det.score(val[sensors])`.")
    expect_true(given_val.shape == own_val.shape and np.allclose(given_val, own_val, rtol=1e-5, atol=1e-8),
                "`val_scores` should be the detector's scores of the validation part, `det.score(val[sensors])`.")
    test_given = np.asarray(test_scores, float)
    expect_shape(test_given, (n_test,), "`test_scores` (one per test sample)")
    expect_true(np.allclose(test_given, own_test, rtol=1e-5, atol=1e-8),
                "`test_scores` should be the detector's scores of the test part, `det.score(test[sensors])`.")
    val_scores, test_scores = own_val, own_test
    threshold, far = float(threshold), float(far)
    again = float(pick_threshold(val_scores.copy(), test_scores.copy()))
    expect_true(np.isclose(again, threshold), f"`threshold` ({threshold:.4g}) should be what "
                                              f"`pick_threshold(val_scores, test_scores)` returns ({again:.4g}).")
    for how, changed in _test_variants(test_scores).items():  # behaviour: does the test part move it?
        moved = float(pick_threshold(val_scores.copy(), changed))
        if not np.isclose(moved, threshold):
            raise Incorrect(f"leakage: called again {how}, `pick_threshold` returns {moved:.4g} instead of "
                            f"{threshold:.4g}. The threshold depends on the test scores, the data being judged; "
                            "take it from `val_scores` only.")
    if np.isclose(float(pick_threshold(2 * val_scores, test_scores.copy())), threshold):
        raise Incorrect("your threshold does not change when the validation scores double: it is not taken from "
                        "them. A number typed in after looking at the results is tuned on the test part; compute "
                        "it from `val_scores`.")
    if not np.percentile(val_scores, 95) <= threshold <= 3 * val_scores.max():
        raise Incorrect("take the threshold from the validation scores, e.g. their maximum or a high percentile "
                        "such as `np.percentile(val_scores, 99.9)`.")
    alarms = test_scores > threshold
    right = float(np.mean(alarms[~y]))
    if not np.isclose(far, right, atol=1e-9):
        if np.isclose(far, np.mean(alarms)):
            raise Incorrect("that is the share of *all* test samples with an alarm, anomalies included. The false "
                            "alarm rate counts only the normal samples: `np.mean(alarms[~y_test])`.")
        if alarms.any() and np.isclose(far, np.mean(~y[alarms])):
            raise Incorrect("that is the share of alarms that are false (1 - precision). The false alarm rate is "
                            "the share of *normal samples* with an alarm: FP / (FP + TN).")
        if np.isclose(far, 100 * right):
            raise Incorrect("give the rate as a fraction between 0 and 1, not in percent.")
        raise Incorrect(f"with your threshold the false alarm rate on the normal test samples is {right:.4f}, "
                        f"not {far:.4f}.")
    return (f"threshold {threshold:.4g}: {right:.2%} of the normal test samples raise an alarm. The checker "
            "called `pick_threshold` again with the test scores changed three ways and the threshold did not move.")


q4 = Question(
    4,
    "Complete `pick_threshold(val_scores, test_scores)` so that it returns an alarm threshold taken from the "
    "validation scores only (the validation part is clean), although it is handed both. Then compute `far`, the "
    "false alarm rate on the test part: the fraction of the *normal* test samples (`y_test` False) whose score is "
    "above the threshold. The checker calls your function again with the test scores changed: an honest threshold "
    "does not move.",
    ("pick_threshold", "threshold", "far", "val_scores", "test_scores", "det", "val", "test", "sensors"),
    _check_far,
    ["`np.percentile(val_scores, 99.9)` or `val_scores.max()` are both honest thresholds; anything computed from "
     "`test_scores` is not.",
     "`alarms = test_scores > threshold`; the normal samples are `alarms[~y_test]`.",
     "FAR = FP / (FP + TN), a fraction: `np.mean(alarms[~y_test])`."],
    "val_scores = det.score(val[sensors])\n"
    "test_scores = det.score(test[sensors])\n"
    "\n"
    "\n"
    "def pick_threshold(val_scores, test_scores):\n"
    "    return np.percentile(val_scores, 99.9)  # test_scores stay unused: they are the data being judged\n"
    "\n"
    "\n"
    "threshold = pick_threshold(val_scores, test_scores)\n"
    "far = float(np.mean((test_scores > threshold)[~y_test]))",
    setup=_context,
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


def _check_model(model, window: int, n_features: int, latent: int, what: str) -> None:
    import keras

    expect_true(isinstance(model, keras.Model), f"{what} should return a `keras.Model`, not a "
                                                f"{type(model).__name__}: end with `keras.Model(inputs, outputs)`.")
    want = (None, window, n_features)
    expect_true(len(model.inputs) == 1 and tuple(model.input_shape) == want,
                f"{what}: the input should have shape {want}, one window of {window} steps x {n_features} "
                f"sensors; it has {model.input_shape}. Use `keras.Input(shape=(window, n_features))`.")
    out = tuple(model.output_shape) if len(model.outputs) == 1 else None
    if out == (None, latent):
        raise Incorrect(f"{what} returns the code, shape {out}; add the decoder that rebuilds the window.")
    expect_true(out == want, f"{what}: the output should have the input's shape {want}, so the model can be "
                             f"trained to rebuild its input; it has {model.output_shape}.")
    kinds = _layer_names(model)
    expect_true(bool(kinds & set(Q5_SEQUENCE_LAYERS)),
                f"{what} has no {', '.join(Q5_SEQUENCE_LAYERS[:-1])} or {Q5_SEQUENCE_LAYERS[-1]} layer "
                f"({sorted(kinds)}): that is the dense autoencoder of notebook 04. A sequence autoencoder reads the "
                "window as a sequence.")
    sizes = _output_sizes(model)
    values = window * n_features
    narrowest = min(sizes) if sizes else values
    if narrowest >= values:
        raise Incorrect(f"{what} has no bottleneck: its narrowest layer holds {narrowest} values per window, "
                        f"as many as the {values} values of the window, so it can learn to copy anomalies too.")
    expect_true(latent in sizes, f"{what} should squeeze the window into a code of exactly latent = {latent} values "
                                 f"(e.g. `layers.LSTM(latent)`); the narrowest layer holds {narrowest}.")
    n_params = model.count_params()
    lo, hi = Q5_PARAMS
    expect_true(lo <= n_params <= hi, f"{what} has {n_params:,} parameters; for windows of a few sensors a "
                                      f"sequence autoencoder needs between {lo} and {hi:,}.")
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


def _check_build(build_sequence_ae, model):
    import keras

    expect_true(callable(build_sequence_ae), "`build_sequence_ae` should be the function that builds the model.")
    _check_model(model, *Q5_SHAPE, "`build_sequence_ae(24, 4, 8)`")
    _check_model(build_sequence_ae(*Q5_OTHER), *Q5_OTHER,
                 f"`build_sequence_ae{Q5_OTHER}` (use the arguments, not fixed numbers)")
    # a short fit on tiny data: does the loss fall? (our optimizer, so the check does not depend on yours)
    keras.utils.set_random_seed(0)
    fresh = build_sequence_ae(*Q5_FIT)
    fresh.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    x = _fit_windows(*Q5_FIT[:2])
    before = float(np.mean((np.asarray(fresh(x, training=False)) - x) ** 2))
    fresh.fit(x, x, epochs=10, batch_size=16, shuffle=True, verbose=0)
    after = float(np.mean((np.asarray(fresh(x, training=False)) - x) ** 2))
    if not after < 0.5 * before:
        raise Incorrect(f"trained for 40 steps (Adam, learning rate 0.01) on 64 windows of sine waves, your model's "
                        f"error went from {before:.3f} to {after:.3f}; it should at least halve. Are layers frozen "
                        "(`trainable=False`), or is the gradient blocked (e.g. a saturated activation on the last "
                        "layer)? The decoder's last layer should be linear.")
    n_params = model.count_params()
    return (f"{n_params:,} parameters, a code of {Q5_SHAPE[2]} values for a window of {Q5_SHAPE[0] * Q5_SHAPE[1]}; "
            f"on sine-wave windows 40 training steps took the error from {before:.3f} to {after:.3f}.")


q5 = Question(
    5,
    "Build a sequence autoencoder from Keras layers. Complete `build_sequence_ae(window, n_features, latent)`: it "
    "returns a `keras.Model` compiled with Adam and the MSE loss that maps windows of shape (window, n_features) "
    "to the same shape, reads them with at least one LSTM, GRU or Conv1D layer, and squeezes each window through a "
    "code of exactly `latent` values. Then set `model = build_sequence_ae(24, 4, 8)`. The checker also builds "
    "`build_sequence_ae(16, 3, 6)` and trains a fresh model briefly on sine waves: the loss must fall.",
    ("build_sequence_ae", "model"),
    _check_build,
    ["The LSTM autoencoder of section 2: `code = layers.LSTM(latent)(inputs)` keeps the last state, `latent` values.",
     "`layers.RepeatVector(window)(code)` gives the decoder one copy of the code per step; "
     "`layers.LSTM(latent, return_sequences=True)` unrolls it; "
     "`layers.TimeDistributed(layers.Dense(n_features))` maps each step to the sensors (no activation).",
     "End with `model = keras.Model(inputs, outputs)`, `model.compile(optimizer=\"adam\", loss=\"mse\")` and "
     "`return model`."],
    "def build_sequence_ae(window, n_features, latent):\n"
    "    inputs = keras.Input(shape=(window, n_features))\n"
    "    code = layers.LSTM(latent)(inputs)  # the last state: latent values per window\n"
    "    x = layers.RepeatVector(window)(code)  # one copy of the code per time step\n"
    "    x = layers.LSTM(latent, return_sequences=True)(x)\n"
    "    outputs = layers.TimeDistributed(layers.Dense(n_features))(x)  # linear: scaled values may leave [0, 1]\n"
    "    model = keras.Model(inputs, outputs)\n"
    "    model.compile(optimizer=\"adam\", loss=\"mse\")\n"
    "    return model\n"
    "\n"
    "\n"
    "model = build_sequence_ae(24, 4, 8)",
    setup=_context,
)

ANSWER_CELLS = {
    2: "n_val = int(round(0.2 * len(X_fit)))  # the last 20 % of the rows\n"
       "train_windows = ____\n"
       "val_windows = ____",
    3: "t_alarm = int(np.argmax(det.score(test[sensors])))  # the strongest test alarm\n"
       "sensor_error = ____\n"
       "culprit = ____",
    4: "val_scores = det.score(val[sensors])\n"
       "test_scores = det.score(test[sensors])\n"
       "\n"
       "\n"
       "def pick_threshold(val_scores, test_scores):\n"
       "    \"\"\"The alarm threshold. It is handed both parts' scores; an honest one uses only one of them.\"\"\"\n"
       "    return ____\n"
       "\n"
       "\n"
       "threshold = pick_threshold(val_scores, test_scores)\n"
       "far = ____  # the false alarm rate on the normal test samples",
    5: "def build_sequence_ae(window, n_features, latent):\n"
       "    inputs = keras.Input(shape=(window, n_features))\n"
       "    code = ____  # the encoder: `latent` values per window\n"
       "    outputs = ____  # the decoder: back to shape (window, n_features)\n"
       "    return ____  # keras.Model(inputs, outputs), compiled with Adam and the MSE loss\n"
       "\n"
       "\n"
       "model = build_sequence_ae(24, 4, 8)",
}
