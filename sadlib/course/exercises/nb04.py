"""Exercises for notebook 04: fix the tutorial autoencoder pipeline mistake by mistake, then build one.

Questions 3 and 4 ask for functions that receive all three parts of the data, as a script
that loads them would. The checks are behavioural: they call the learner's function again
with an extreme anomaly planted in the test part (and, for question 3, in the validation
part) and fail when something that must not depend on those rows moves: the scaler, the
model's weights, the threshold, or the alarms on the untouched rows.
"""

from __future__ import annotations

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    Unwritten,
    expect_linear_mse,
    expect_true,
    is_blank,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np
from sklearn.preprocessing import MinMaxScaler

from sadlib import metrics, signals
from sadlib.environment import import_tensorflow

import_tensorflow()
import keras
from keras import layers

toy = signals.make_tutorial_toy(seed=0)
X = toy[["temperature", "vibration"]].to_numpy()
y = toy["anomaly"].to_numpy().astype(bool)
X_train, X_val, X_test = X[:400], X[400:500], X[500:]  # the first half is clean
y_test = y[500:]

_trained = {}  # models already trained: the same rows, latent, epochs and seed give the same model


def train_autoencoder(scaled_train, latent, epochs=50, seed=0):
    \"\"\"The tutorial's model with a chosen latent size, trained on the rows you give it.

    Training is seeded, and a model is trained once per (rows, latent, epochs, seed):
    asking again with the same rows returns the same model at once.
    \"\"\"
    scaled_train = np.asarray(scaled_train, dtype="float32")
    key = (scaled_train.shape, scaled_train.tobytes(), latent, epochs, seed)
    if key not in _trained:
        keras.utils.set_random_seed(seed)
        n = scaled_train.shape[1]
        model = keras.Sequential([keras.Input(shape=(n,)), layers.Dense(16, activation="relu"), layers.Dense(latent),
                                  layers.Dense(16, activation="relu"), layers.Dense(n)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(scaled_train, scaled_train, epochs=epochs, batch_size=32, verbose=0)
        _trained[key] = model
    return _trained[key]


def errors(model, scaled):
    \"\"\"Mean squared reconstruction error per row.\"\"\"
    return np.mean((scaled - model.predict(scaled, verbose=0)) ** 2, axis=1)
"""

#: the answer cells of the exercise notebook for the function questions (the notebook is
#: written by hand; tests/test_exercises_nb04.py runs these exact cells untouched)
ANSWER_CELLS = {
    3: "def fit_and_calibrate(X_train, X_val, X_test):\n"
       "    scaler = ____  # a MinMaxScaler fitted on the training rows\n"
       "    model = ____  # train_autoencoder(...) on the scaled training rows, with your `latent`\n"
       "    threshold = ____  # from the reconstruction errors of the scaled validation rows\n"
       "    return scaler, model, threshold",
    4: "def detect(X_train, X_val, X_test):\n"
       "    alarms = ____  # one boolean per row of X_test: error above your threshold\n"
       "    return alarms",
    5: "def build_autoencoder(n_inputs, latent):\n"
       "    model = ____  # Dense layers n_inputs -> ... -> latent -> ... -> n_inputs, compiled (Adam, MSE)\n"
       "    return model",
}

_N_TRAIN, _N_VAL = 400, 100
_PLANT_TEST = slice(200, 205)  # test rows 200-204 (toy rows 700-704): far from the two real events
_PLANT_VAL = slice(40, 45)


def _context() -> dict:
    return setup_namespace(SETUP)


def _toy():
    from sadlib import signals

    toy = signals.make_tutorial_toy(seed=0)
    return toy[["temperature", "vibration"]].to_numpy(), toy["anomaly"].to_numpy().astype(bool)


def _parts():
    X, y = _toy()
    return X[:_N_TRAIN], X[_N_TRAIN:_N_TRAIN + _N_VAL], X[_N_TRAIN + _N_VAL:], y[_N_TRAIN + _N_VAL:]


def _planted(part: np.ndarray, rows: slice) -> np.ndarray:
    """A copy of ``part`` with an extreme anomaly in ``rows``: both sensors 20 training ranges above the training maximum."""
    X_train = _parts()[0]
    out = np.array(part, dtype=float, copy=True)
    out[rows] = X_train.max(axis=0) + 20 * (X_train.max(axis=0) - X_train.min(axis=0))
    return out


def _errors(model, scaled) -> np.ndarray:
    return np.mean((scaled - model.predict(scaled, verbose=0)) ** 2, axis=1)


def _check_scaler(scaler):
    X, _ = _toy()
    expect_true(hasattr(scaler, "data_min_"), "`scaler` should be a fitted MinMaxScaler (call .fit(...)).")
    if np.allclose(scaler.data_max_, X.max(axis=0)):
        raise Incorrect("this scaler saw all the data, anomalies included. Fit it on `X_train` only.")
    n = int(np.max(getattr(scaler, "n_samples_seen_", -1)))
    if n == _N_TRAIN + _N_VAL and np.allclose(scaler.data_max_, X[:n].max(axis=0)):
        raise Incorrect(f"this scaler saw the training *and* validation rows ({n} rows). The validation rows choose "
                        "the threshold later and must stay unseen by the model and its scaler: fit on `X_train` only.")
    if n != _N_TRAIN:
        raise Incorrect(f"this scaler saw {n} rows; `X_train` has {_N_TRAIN}. Fit it on exactly the training rows: "
                        "`MinMaxScaler().fit(X_train)`.")
    if not (np.allclose(scaler.data_min_, X[:_N_TRAIN].min(axis=0))
            and np.allclose(scaler.data_max_, X[:_N_TRAIN].max(axis=0))):
        raise Incorrect(f"the scaler's minimum and maximum should be those of `X_train` (the first {_N_TRAIN} rows).")


q1 = Question(
    1,
    "Mistake 1: the scaler was fitted on all the data. Set `scaler` to a `MinMaxScaler` fitted on the "
    "training rows `X_train` only.",
    ("scaler",),
    _check_scaler,
    ["`MinMaxScaler().fit(...)` returns the fitted scaler.", "Pass `X_train`, not `X`."],
    "scaler = MinMaxScaler().fit(X_train)",
    setup=_context,
)


def _check_latent(latent):
    expect_true(isinstance(latent, (int, np.integer)) and latent >= 1, "`latent` should be a positive integer.")
    if latent >= 2:
        raise Incorrect(f"with {latent} latent values for 2 inputs the model can still copy its input: that is no bottleneck.")


q2 = Question(
    2,
    "Mistake 2: a latent of 4 values for 2 inputs is not a bottleneck. Set `latent` to a size that forces "
    "the model to compress.",
    ("latent",),
    _check_latent,
    ["The bottleneck must be smaller than the input.", "The input has 2 values per time step."],
    "latent = 1",
    setup=lambda: {},
)


# --- question 3: scaler, model and threshold from the right rows, checked by behaviour --------------------------

def _fit_and_calibrate_output(fn, X_train, X_val, X_test):
    """Call the learner's ``fit_and_calibrate`` and unpack ``(scaler, model, threshold)``."""
    out = fn(X_train, X_val, X_test)
    if is_blank(out):
        raise Unwritten("`fit_and_calibrate` still returns ____ (replace each ____ with your code)")
    expect_true(out is not None, "`fit_and_calibrate` returns nothing: end it with `return scaler, model, threshold`.")
    expect_true(isinstance(out, tuple) and len(out) == 3,
                "`fit_and_calibrate` should return three things: `scaler, model, threshold`.")
    scaler, model, threshold = out
    expect_true(hasattr(scaler, "transform") and hasattr(scaler, "n_features_in_"),
                "the first thing returned should be a fitted scaler (e.g. `MinMaxScaler().fit(X_train)`).")
    expect_true(hasattr(model, "predict") and hasattr(model, "get_weights"),
                "the second thing returned should be the trained Keras model (from `train_autoencoder`).")
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise Incorrect(f"the threshold should be one number, got a {type(threshold).__name__}.") from None
    expect_true(np.isfinite(threshold), "the threshold should be a finite number.")
    return scaler, model, threshold


def _scaler_state(scaler) -> list[np.ndarray]:
    """The fitted attributes of a scikit-learn scaler (``data_min_``, ``scale_``, ``mean_``...)."""
    return [np.asarray(v, float) for k, v in sorted(vars(scaler).items())
            if k.endswith("_") and not k.startswith("_") and isinstance(v, (np.ndarray, float, np.floating))]


def _same_arrays(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=1e-5, atol=1e-7) for x, y in zip(a, b))


def _moved(first, second, parts=("scaler", "model", "threshold")) -> list[str]:
    """Which of scaler / model weights / threshold differ between two outputs of ``fit_and_calibrate``."""
    names = []
    if "scaler" in parts and not _same_arrays(_scaler_state(first[0]), _scaler_state(second[0])):
        names.append("scaler")
    if "model" in parts and first[1] is not second[1] and not _same_arrays(
            [np.asarray(w) for w in first[1].get_weights()], [np.asarray(w) for w in second[1].get_weights()]):
        names.append("model's weights")
    if "threshold" in parts and not np.isclose(first[2], second[2], rtol=1e-6, atol=0):
        names.append("threshold")
    return names


def _check_fit_and_calibrate(fit_and_calibrate):
    expect_true(callable(fit_and_calibrate), "`fit_and_calibrate` should be a function (write it with `def`).")
    X_train, X_val, X_test, _ = _parts()
    first = _fit_and_calibrate_output(fit_and_calibrate, X_train, X_val, X_test)
    scaler, model, threshold = first
    val_errors = _errors(model, scaler.transform(X_val))
    test_errors = _errors(model, scaler.transform(X_test))
    all_errors = np.concatenate([val_errors, test_errors])
    for q in (95, 99):
        if np.isclose(threshold, np.percentile(test_errors, q)) or np.isclose(threshold, np.percentile(all_errors, q)):
            raise Incorrect("that threshold is a percentile of the errors being judged: it flags a fixed share of the "
                            "test rows whatever happens. Take it from the errors of the validation rows.")
    if not np.percentile(val_errors, 95) <= threshold <= 3 * val_errors.max():
        raise Incorrect(f"the threshold {threshold:.4g} is not taken from the validation errors (their 95th "
                        f"percentile is {np.percentile(val_errors, 95):.4g}, their maximum {val_errors.max():.4g}): "
                        "use their maximum or a high percentile.")

    test_changed = _fit_and_calibrate_output(fit_and_calibrate, X_train, X_val, _planted(X_test, _PLANT_TEST))
    moved = _moved(first, test_changed)
    if moved:
        if _moved(first, _fit_and_calibrate_output(fit_and_calibrate, X_train, X_val, X_test)):
            raise Incorrect("your function returns a different scaler, model or threshold each time it is called on "
                            "the same rows, so the checker cannot see what it depends on. Train with "
                            "`train_autoencoder` (it is seeded).")
        raise Incorrect(f"an extreme anomaly planted in the test rows changed the {' and the '.join(moved)}: your "
                        "function used the test part. Fit the scaler and train the model on `X_train`, take the "
                        "threshold from `X_val`; `X_test` is only judged.")
    val_changed = _fit_and_calibrate_output(fit_and_calibrate, X_train, _planted(X_val, _PLANT_VAL), X_test)
    moved = _moved(first, val_changed, parts=("scaler", "model"))
    if moved:
        raise Incorrect(f"an anomaly planted in the validation rows changed the {' and the '.join(moved)}: the "
                        "scaler and the model must come from `X_train` alone. The validation rows are for the "
                        "threshold only (errors the model has not been trained on).")
    return (f"threshold {threshold:.4g} (the validation errors reach {val_errors.max():.4g}); an anomaly planted in "
            "the test rows moved nothing, one planted in the validation rows moved neither the scaler nor the model.")


q3 = FunctionQuestion(
    3,
    "Mistake 3: the threshold was the 95th percentile of the errors being judged. Complete "
    "`fit_and_calibrate(X_train, X_val, X_test)` so that it returns `scaler, model, threshold`: the scaler "
    "fitted on the training rows, the model trained (with `train_autoencoder` and your `latent`) on the scaled "
    "training rows, and the threshold taken from the reconstruction errors of the clean validation rows. "
    "It receives all three parts, as a script that loads the data would. The checker calls it again with an "
    "extreme anomaly planted in the test rows (nothing may move) and in the validation rows (the scaler and "
    "the model may not move).",
    ("fit_and_calibrate",),
    _check_fit_and_calibrate,
    ["`scaler = MinMaxScaler().fit(X_train)`; `model = train_autoencoder(scaler.transform(X_train), latent)`.",
     "`threshold = errors(model, scaler.transform(X_val)).max()` is a simple, honest choice.",
     "`X_test` is not used at all inside this function."],
    "latent = 1\n\n\n"
    "def fit_and_calibrate(X_train, X_val, X_test):\n"
    "    scaler = MinMaxScaler().fit(X_train)\n"
    "    model = train_autoencoder(scaler.transform(X_train), latent)\n"
    "    threshold = errors(model, scaler.transform(X_val)).max()\n"
    "    return scaler, model, threshold",
    setup=_context,
)


# --- question 4: the whole detector, checked for F1 and by behaviour -----------------------------------------------

def _alarms_of(detect, X_train, X_val, X_test) -> np.ndarray:
    out = detect(X_train, X_val, X_test)
    if is_blank(out):
        raise Unwritten("`detect` still returns ____ (replace each ____ with your code)")
    expect_true(out is not None, "`detect` returns nothing: end it with `return alarms`.")
    alarms = np.asarray(out)
    expect_true(alarms.shape == (len(X_test),),
                f"`detect` should return one alarm per row of `X_test`, shape ({len(X_test)},); got shape {alarms.shape}.")
    expect_true(alarms.dtype == bool or np.isin(alarms, (0, 1)).all(),
                "`detect` should return booleans (error > threshold), not scores.")
    return alarms.astype(bool)


def _check_detect(detect):
    from sadlib.metrics import point_metrics

    expect_true(callable(detect), "`detect` should be a function (write it with `def`).")
    X_train, X_val, X_test, y_test = _parts()
    alarms = _alarms_of(detect, X_train, X_val, X_test)
    f1 = point_metrics(y_test, alarms)["f1"]
    if f1 < 0.6:
        raise Incorrect(f"your fixed pipeline reaches F1 = {f1:.2f} on the test rows; with all three fixes it should "
                        "clear 0.6. Check the scaler, the latent and the threshold.")
    planted = _alarms_of(detect, X_train, X_val, _planted(X_test, _PLANT_TEST))
    if not planted[_PLANT_TEST].all():
        raise Incorrect("an extreme anomaly planted in test rows 200-204 (both sensors 20 training ranges above the "
                        "training maximum) was not flagged. Are your alarms `error > threshold`?")
    others = np.ones(len(X_test), bool)
    others[_PLANT_TEST] = False
    changed = np.flatnonzero(alarms[others] != planted[others])
    if changed.size:
        rows = np.flatnonzero(others)[changed]
        raise Incorrect(f"planting an extreme anomaly in test rows 200-204 changed {changed.size} alarm(s) elsewhere "
                        f"(test rows {', '.join(map(str, rows[:5]))}{'...' if rows.size > 5 else ''}): your alarms "
                        "depend on statistics of the test rows (a scaler, a mean and standard deviation, a model or a "
                        "threshold computed on data that includes them). Fit everything on `X_train` and `X_val`.")
    # the threshold must follow the validation rows: a number tuned on the test labels and typed in does not
    rows = np.arange(0, len(X_val), 3)  # a third of the validation rows become an extreme anomaly
    noisy_val = _alarms_of(detect, X_train, _planted(X_val, rows), X_test)
    if np.array_equal(noisy_val, alarms) and alarms.any():
        raise Incorrect("with a third of the validation rows replaced by an extreme anomaly, your alarms on the test "
                        "rows did not change: your threshold does not come from `X_val`. A number picked for the "
                        "best F1 against `y_test` and typed in is tuned on the test labels; compute the threshold "
                        "from the errors on `X_val`.")
    return (f"F1 = {f1:.2f} on the test rows; compare it with the tutorial pipeline's F1 in notebook 04. An anomaly "
            "planted in the test rows was flagged and changed no other alarm.")


q4 = FunctionQuestion(
    4,
    "Put it together: complete `detect(X_train, X_val, X_test)` so that it returns the boolean alarms of your "
    "fixed pipeline on `X_test` (errors above your threshold). The checker reports the F1 you reached, then "
    "calls it again with an extreme anomaly planted in the test rows: an honest detector flags it and changes "
    "no other alarm.",
    ("detect",),
    _check_detect,
    ["You can call your `fit_and_calibrate` from question 3 inside `detect`.",
     "`scaler, model, threshold = fit_and_calibrate(X_train, X_val, X_test)`, then "
     "`errors(model, scaler.transform(X_test)) > threshold`."],
    "# one honest pipeline: the scaler and the model from X_train, the threshold from X_val\n"
    "def detect(X_train, X_val, X_test):\n"
    "    scaler = MinMaxScaler().fit(X_train)\n"
    "    model = train_autoencoder(scaler.transform(X_train), latent=1)\n"
    "    threshold = errors(model, scaler.transform(X_val)).max()\n"
    "    return errors(model, scaler.transform(X_test)) > threshold",
    setup=_context,
)


# --- question 5: build the dense autoencoder from layers ----------------------------------------------------------

_BUILD_INPUTS, _BUILD_LATENT = 120, 4  # the notebook's model: 30 steps x 4 sensors, 4 latent values
_SMALL_INPUTS, _SMALL_LATENT = 12, 2  # a second, small call: the function must use its arguments
_MAX_PARAMS = 100_000
_FIT_EPOCHS, _FIT_BATCH = 20, 32


def _layer_widths(model) -> list[int]:
    """Output width of each layer after the input (for a plain stack of Dense layers)."""
    widths = []
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        if shape is not None and len(shape) == 2 and shape[-1] is not None:
            widths.append(int(shape[-1]))
    return widths


def _built(build_autoencoder, n_inputs: int, latent: int):
    import keras

    model = build_autoencoder(n_inputs, latent)
    if is_blank(model):
        raise Unwritten("`build_autoencoder` still returns ____ (replace each ____ with your code)")
    expect_true(model is not None, "`build_autoencoder` returns nothing: end it with `return model`.")
    expect_true(isinstance(model, keras.Model),
                f"`build_autoencoder` should return a keras.Model (keras.Sequential([...]) or keras.Model(inputs, "
                f"outputs)), not a {type(model).__name__}.")
    try:
        in_shape, out_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError):
        raise Incorrect("the model has no defined input shape: start it with `keras.Input(shape=(n_inputs,))`.") from None
    call = f"build_autoencoder({n_inputs}, {latent})"
    expect_true(in_shape == (None, n_inputs), f"{call}: the input shape should be (None, {n_inputs}), got {in_shape}.")
    expect_true(out_shape == (None, n_inputs),
                f"{call}: the output shape should be (None, {n_inputs}) (it rebuilds its input), got {out_shape}.")
    widths = _layer_widths(model)
    narrowest = min(widths[:-1], default=None)
    expect_true(narrowest == latent,
                f"{call}: the narrowest layer should be the bottleneck of size latent = {latent}; the layer widths "
                f"are {widths}.")
    expect_true(getattr(model, "optimizer", None) is not None and getattr(model, "compiled", True),
                "the model is not compiled: call `model.compile(optimizer=\"adam\", loss=\"mse\")` before returning it.")
    expect_linear_mse(model, call)
    return model


def _check_build(build_autoencoder):
    import keras

    expect_true(callable(build_autoencoder), "`build_autoencoder` should be a function (write it with `def`).")
    model = _built(build_autoencoder, _BUILD_INPUTS, _BUILD_LATENT)
    n_params = int(model.count_params())
    minimum = 2 * _BUILD_INPUTS * _BUILD_LATENT + _BUILD_INPUTS + _BUILD_LATENT  # 120 -> 4 -> 120, no hidden layer
    expect_true(minimum <= n_params <= _MAX_PARAMS,
                f"the model for 120 inputs and latent 4 has {n_params:,} weights; a dense autoencoder needs at least "
                f"{minimum:,} (120 -> 4 -> 120) and more than {_MAX_PARAMS:,} is far too many for windows of this size "
                "(the notebook's has 8,124). Use hidden layers of tens of units.")
    out = np.asarray(model.predict(np.random.default_rng(1).random((3, _BUILD_INPUTS)), verbose=0))
    expect_true(out.shape == (3, _BUILD_INPUTS) and np.isfinite(out).all(),
                f"a forward pass on 3 rows should give 3 finite rows of {_BUILD_INPUTS} values; got shape {out.shape}.")

    # a second, small model must use its arguments, and it must learn something in a few epochs
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, _SMALL_INPUTS)
    amplitude, phase = rng.uniform(0.5, 1.0, 256), rng.uniform(0, 2 * np.pi, 256)
    data = (0.5 + 0.4 * amplitude[:, None] * np.sin(t[None] + phase[:, None])).astype("float32")  # in [0, 1]
    keras.utils.set_random_seed(0)
    small = _built(build_autoencoder, _SMALL_INPUTS, _SMALL_LATENT)
    before = float(np.mean((small.predict(data, verbose=0) - data) ** 2))
    small.fit(data, data, epochs=_FIT_EPOCHS, batch_size=_FIT_BATCH, verbose=0)
    after = float(np.mean((small.predict(data, verbose=0) - data) ** 2))
    expect_true(np.isfinite(after) and after < 0.7 * before,
                f"after {_FIT_EPOCHS} epochs on small, smooth data the reconstruction MSE went from {before:.3g} to "
                f"{after:.3g}; it should fall clearly. Check the loss (\"mse\"), the optimizer (\"adam\") and that "
                "the output layer is linear (no activation).")
    return (f"{n_params:,} weights for 120 inputs and a 4-value bottleneck; on small check data the loss fell from "
            f"{before:.3g} to {after:.3g} in {_FIT_EPOCHS} epochs.")


q5 = FunctionQuestion(
    5,
    "Build it yourself: complete `build_autoencoder(n_inputs, latent)` so that it returns a compiled Keras "
    "dense autoencoder: input `(None, n_inputs)`, a ReLU hidden layer, a linear bottleneck of `latent` units, "
    "a mirrored ReLU hidden layer and a linear output of `n_inputs` values, compiled with Adam and the mean "
    "squared error. The checker builds it for the notebook's windows (120 inputs, latent 4) and for a small "
    "case (12 inputs, latent 2), checks the shapes, the bottleneck and the number of weights, and trains the "
    "small one for a few epochs: the loss must fall.",
    ("build_autoencoder",),
    _check_build,
    ["`keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(32, activation=\"relu\"), ...])`.",
     "The bottleneck is `layers.Dense(latent)` (linear); the last layer is `layers.Dense(n_inputs)`.",
     "Call `model.compile(optimizer=\"adam\", loss=\"mse\")` and return the model."],
    "# the model of section 3 of the notebook, for any number of inputs and any latent size\n"
    "def build_autoencoder(n_inputs, latent):\n"
    "    model = keras.Sequential([\n"
    "        keras.Input(shape=(n_inputs,)),\n"
    "        layers.Dense(32, activation=\"relu\"),\n"
    "        layers.Dense(latent),  # the bottleneck, linear\n"
    "        layers.Dense(32, activation=\"relu\"),\n"
    "        layers.Dense(n_inputs),  # linear output: it rebuilds the scaled window\n"
    "    ])\n"
    "    model.compile(optimizer=\"adam\", loss=\"mse\")\n"
    "    return model",
    setup=_context,
)
