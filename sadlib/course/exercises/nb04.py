"""Exercises for notebook 04: fix the tutorial autoencoder pipeline, write its parts yourself, put them together.

Questions 1 and 2 fix the tutorial's first two mistakes. Questions 3, 5 and 6 ask the learner to write a
method of the notebook (the validation threshold from reconstruction errors, the dense autoencoder built
and trained in Keras, the per-sensor error attribution); each is checked by behaviour on data generated
inside the check, with the library's own version (and the setup's helpers that do the same) unavailable.
Question 4 is the end-to-end pipeline: the checker verifies that the alarms come from a trained Keras
autoencoder (no z-score one-liner), that the scaler and the model see only the training rows and the
threshold follows the validation rows (by planting extreme anomalies in the test and validation parts),
and that the detector beats its random line (its own alarms shifted in time) on the notebook's test part
and on a fresh twin of the toy.
"""

from __future__ import annotations

import types

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    call_answer,
    expect_linear_mse,
    expect_true,
    library_unavailable,
    percentile_bounds,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

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

#: the answer cells of the exercise notebook for the function questions
#: (tests/test_exercises_nb04.py runs these exact cells untouched)
ANSWER_CELLS = {
    3: "def validation_threshold(model, val_windows, test_windows, q=99.9):\n"
       "    val_errors = ____  # mean squared reconstruction error of each validation row (write it with NumPy)\n"
       "    threshold = ____  # the q-th percentile of the validation errors\n"
       "    return threshold",
    4: "def detect(X_train, X_val, X_test):\n"
       "    scaler = ____  # fitted on the training rows\n"
       "    model = ____  # an autoencoder trained on the scaled training rows (train_autoencoder, your latent)\n"
       "    threshold = ____  # from the reconstruction errors of the scaled validation rows\n"
       "    alarms = ____  # one boolean per row of X_test: error above the threshold\n"
       "    return alarms, scaler, model, threshold",
    5: "def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):\n"
       "    keras.utils.set_random_seed(seed)\n"
       "    n_inputs = scaled_train.shape[1]\n"
       "    model = ____  # Dense: n_inputs -> hidden (ReLU) -> latent (linear) -> hidden (ReLU) -> n_inputs (linear)\n"
       "    # compile it (Adam, MSE) and fit it on scaled_train, input and target alike\n"
       "    return model",
    6: "def sensor_attribution(model, W_event, W_normal, n_sensors):\n"
       "    ratio = ____  # each sensor's share of the squared error in W_event / its share in W_normal\n"
       "    return ratio",
}

_N_TRAIN, _N_VAL = 400, 100
_PLANT_TEST = slice(200, 205)  # test rows 200-204 (toy rows 700-704): far from the two real events
_PLANT_VAL = slice(40, 45)
_TWIN_SEED = 7  # the fresh toy of question 4: same generator, other noise


def _context() -> dict:
    return setup_namespace(SETUP)


def _toy(seed: int = 0):
    from sadlib import signals

    toy = signals.make_tutorial_toy(seed=seed)
    return toy[["temperature", "vibration"]].to_numpy(), toy["anomaly"].to_numpy().astype(bool)


def _parts(seed: int = 0):
    X, y = _toy(seed)
    return X[:_N_TRAIN], X[_N_TRAIN:_N_TRAIN + _N_VAL], X[_N_TRAIN + _N_VAL:], y[_N_TRAIN + _N_VAL:]


def _planted(part: np.ndarray, rows, X_train: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``part`` with an extreme anomaly in ``rows``: every sensor 20 training ranges above its maximum."""
    X_train = _parts()[0] if X_train is None else X_train
    out = np.array(part, dtype=float, copy=True)
    out[rows] = X_train.max(axis=0) + 20 * (X_train.max(axis=0) - X_train.min(axis=0))
    return out


def _errors(model, scaled) -> np.ndarray:
    return np.mean((np.asarray(scaled, float) - np.asarray(model.predict(scaled, verbose=0), float)) ** 2, axis=1)


class _Tensor(np.ndarray):
    """An array with Keras's ``.numpy()``, so that ``model(x).numpy()`` works on the stand-in models too."""

    def numpy(self) -> np.ndarray:  # noqa: D102
        return np.asarray(self)


class _FixedModel:
    """A stand-in for a trained model in the checks of questions 3 and 6: a fixed, slightly wrong rebuild.

    ``predict(x)`` returns ``x @ A + b`` with a seeded ``A`` near the identity, so every row and every value
    has its own reconstruction error, as with a real autoencoder, and the expected answer is known exactly.
    """

    def __init__(self, width: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.A = np.eye(width) * 0.8 + rng.normal(0, 0.08, (width, width))
        self.b = rng.normal(0, 0.05, width)
        self.rows_seen = 0
        self.watched: set = set()  # rows (as bytes) the answer must not rebuild: question 3's test rows
        self.watched_seen = 0

    def predict(self, x, verbose=0, **kwargs):  # noqa: D102 (Keras's signature)
        x = np.asarray(x, float)
        self.rows_seen += len(x)  # how many rows the answer had rebuilt (question 3 checks all were)
        if self.watched and x.ndim == 2:
            self.watched_seen += sum(row.tobytes() in self.watched for row in x)
        return x @ self.A + self.b

    def __call__(self, x, **kwargs):
        return self.predict(x).view(_Tensor)


def _setup_helpers(fn, names=("train_autoencoder", "errors")) -> list[tuple[types.ModuleType, str]]:
    """The setup cell's helpers that do part of the method, as (module, name) targets for library_unavailable."""
    holder = types.ModuleType("setup")
    g = getattr(fn, "__globals__", {}) or {}
    found = []
    for name in names:
        if callable(g.get(name)):
            setattr(holder, name, g[name])
            found.append((holder, name))
    return found


# --- question 1: the scaler ------------------------------------------------------------------------------------

def _check_scaler(scaler):
    from sklearn.preprocessing import MinMaxScaler

    X, _ = _toy()
    if isinstance(scaler, type):
        raise Incorrect(f"`scaler` is the class `{scaler.__name__}` itself; create one and fit it on the training "
                        "rows (`fit` returns the fitted scaler).")
    if isinstance(scaler, (np.ndarray, list, tuple)) or hasattr(scaler, "iloc"):
        raise Incorrect("`scaler` holds scaled rows (what `fit_transform` or `transform` returns), not a fitted "
                        "MinMaxScaler: keep the object that `fit` returns, so it can scale the validation and test "
                        "rows later.")
    if not isinstance(scaler, MinMaxScaler):
        raise Incorrect(f"`scaler` is a {type(scaler).__name__}; the task fixes the notebook's scaler, a "
                        "`MinMaxScaler` (the autoencoder's inputs in [0, 1]), fitted on the training rows.")
    expect_true(hasattr(scaler, "data_min_") and hasattr(scaler, "n_samples_seen_"),
                "this MinMaxScaler has not been fitted: call its `fit` with the training rows, which returns the "
                "fitted scaler.")
    if np.allclose(scaler.data_max_, X.max(axis=0)) and np.allclose(scaler.data_min_, X.min(axis=0)):
        raise Incorrect("this scaler saw all the data, anomalies included. Fit it on `X_train` only.")
    n = int(np.max(scaler.n_samples_seen_))
    if n == _N_TRAIN + _N_VAL and np.allclose(scaler.data_max_, X[:n].max(axis=0)):
        raise Incorrect(f"this scaler saw the training *and* validation rows ({n} rows). The validation rows choose "
                        "the threshold later and must stay unseen by the model and its scaler: fit on `X_train` only.")
    if n == _N_VAL and np.allclose(scaler.data_max_, X[_N_TRAIN:_N_TRAIN + _N_VAL].max(axis=0)):
        raise Incorrect("this scaler saw the validation rows only. Fit it on the training rows `X_train`.")
    if n != _N_TRAIN:
        raise Incorrect(f"this scaler saw {n} rows; `X_train` has {_N_TRAIN}. Fit it on exactly the training rows: "
                        "`MinMaxScaler().fit(X_train)`.")
    if not (np.allclose(scaler.data_min_, X[:_N_TRAIN].min(axis=0))
            and np.allclose(scaler.data_max_, X[:_N_TRAIN].max(axis=0))):
        raise Incorrect(f"this scaler saw {_N_TRAIN} rows, but not the rows of `X_train`: its minimum and maximum "
                        "differ from theirs. A slice such as `X[100:500]` takes in validation rows; fit on `X_train`.")


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


# --- question 2: the bottleneck ------------------------------------------------------------------------------

def _check_latent(latent):
    expect_true(isinstance(latent, (int, np.integer)) and not isinstance(latent, bool) and latent >= 1,
                f"`latent` should be a positive integer (a number of units), not {latent!r}.")
    if latent >= 2:
        raise Incorrect(f"with {latent} latent values for 2 inputs the model can still copy its input: that is no "
                        "bottleneck.")


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


# --- question 3: the validation threshold, written yourself ----------------------------------------------------

_Q3_WIDTH, _Q3_ROWS = 12, (400, 300)  # fresh rows: 12 values each (windows of 3 steps x 4 sensors, flattened)


def _threshold_targets(fn) -> list:
    from sadlib import thresholds
    from sadlib.detectors import keras_base

    return [(thresholds, "PercentileThreshold"), (keras_base, "reconstruction_errors")] + _setup_helpers(fn)


def _q3_data(seed: int):
    rng = np.random.default_rng(seed)
    val = rng.uniform(0, 1, (_Q3_ROWS[0], _Q3_WIDTH))
    test = rng.uniform(0, 1.5, (_Q3_ROWS[1], _Q3_WIDTH))  # rebuilt worse than the validation rows
    return _FixedModel(_Q3_WIDTH, seed), val, test


#: the errors are positive; an answer computed in float32 differs from the float64 order statistics by ~1e-7
FLOAT32_RTOL = 1e-6


def _threshold_of(validation_threshold, model, val, test, q) -> float:
    model.rows_seen = 0
    model.watched, model.watched_seen = {row.tobytes() for row in np.asarray(test, float)}, 0
    with library_unavailable(validation_threshold, _threshold_targets(validation_threshold)):
        out = call_answer(validation_threshold, "validation_threshold", model, val, test, q)

    try:
        value = float(np.asarray(out, dtype=float))
    except (TypeError, ValueError):
        raise Incorrect(f"`validation_threshold` should return one number, got {type(out).__name__} "
                        f"{np.shape(out) if hasattr(out, 'shape') else ''}.") from None
    expect_true(np.isfinite(value), "`validation_threshold` returned a value that is not finite.")
    return value


def _diagnose_threshold(value, model, val, test, q) -> str:
    """Why a threshold is not the q-th percentile of the validation rows' mean squared errors."""
    rec_val, rec_test = model.predict(val), model.predict(test)
    mse_val, mse_test = np.mean((val - rec_val) ** 2, axis=1), np.mean((test - rec_test) ** 2, axis=1)

    def near(values, qq=q):
        lo, hi = percentile_bounds(values, qq)
        return lo <= value <= hi
    if near(mse_test) or near(np.concatenate([mse_val, mse_test])):
        return ("that threshold is a percentile of the errors of the test rows (the errors being judged): it "
                "flags a fixed share of them whatever happens, and it is leakage. Take it from the validation "
                "errors only; `test_windows` is not used.")
    if near(np.mean(np.abs(val - rec_val), axis=1)):
        return ("that is a percentile of the mean *absolute* errors; the score is the mean *squared* error of each "
                "row: `np.mean((val_windows - model.predict(val_windows, verbose=0)) ** 2, axis=1)`.")
    if near(((val - rec_val) ** 2).ravel()):
        return ("that is a percentile over every single value's squared error; the score is one error per row: "
                "average over the values of a row (`axis=1`) before taking the percentile.")
    if near(val.ravel()) or near(rec_val.ravel()):
        return ("that is a percentile of the values, not of the reconstruction errors: take "
                "`val_windows - model.predict(...)`.")
    if q < 100 and np.isclose(value, mse_val.max(), rtol=1e-6, atol=0):
        return (f"that is the largest validation error; the task asks for the q-th percentile (here q = {q}): "
                "`np.percentile(val_errors, q)`.")
    for other in (99, 99.5, 95, 100):
        if other != q and near(mse_val, other):
            return (f"that is the {other}th percentile of the validation errors; the task asks for the q-th (here "
                    f"q = {q}): use the argument `q`.")
    lo, hi = percentile_bounds(mse_val, q)
    return (f"the threshold {value:.4g} is not the {q}th percentile of the validation errors (between {lo:.4g} and "
            f"{hi:.4g}, depending on the percentile definition).")


def _check_validation_threshold(validation_threshold):
    expect_true(callable(validation_threshold),
                "`validation_threshold` should be a function (write it with `def`).")
    for seed, q in ((31, 99.9), (32, 95.0)):  # fresh rows and a fresh model each time; q must be used
        model, val, test = _q3_data(seed)
        value = _threshold_of(validation_threshold, model, val, test, q)
        seen = model.rows_seen  # the rows the answer rebuilt (the checker's own predict calls come after)
        test_rebuilt = model.watched_seen
        model.watched = set()
        mse_val = np.mean((val - model.predict(val)) ** 2, axis=1)
        lo, hi = percentile_bounds(mse_val, q)
        # float32 rounding (about 1e-7 relative) at a bound, e.g. the nearest-rank percentile of float32 errors
        if not lo * (1 - FLOAT32_RTOL) <= value <= hi * (1 + FLOAT32_RTOL):
            raise Incorrect(_diagnose_threshold(value, model, val, test, q))
        expect_true(seen >= len(val),
                    f"your function rebuilt {seen} of the {len(val)} validation rows: the threshold is a "
                    "percentile of the errors of *every* row of `val_windows` (did a slice leave out the first?).")
    planted = test.copy()
    planted[50:55] += 5.0
    if not np.isclose(_threshold_of(validation_threshold, model, val, planted, q), value, rtol=1e-9, atol=0):
        raise Incorrect("an extreme anomaly planted in `test_windows` moved your threshold: it must come from the "
                        "validation rows alone (leakage).")
    model.watched = set()
    if test_rebuilt:
        raise Incorrect(f"your threshold is right, but your function passes {test_rebuilt} test rows to the model: "
                        "`test_windows` is there as a script would have it and must not be used. Here the threshold "
                        "does not change, but a model whose output on a row depends on the batch (batch "
                        "normalisation, a scaler fitted inside) would carry the test rows into it. Rebuild "
                        "`val_windows` only.")
    return (f"on fresh rows your threshold is the {q:g}th percentile of the validation errors ({value:.4g}); an "
            "anomaly planted in the test rows did not move it.")


q3 = FunctionQuestion(
    3,
    "Mistake 3: the threshold was the 95th percentile of the errors being judged. Write "
    "`validation_threshold(model, val_windows, test_windows, q=99.9)` yourself: compute the mean squared "
    "reconstruction error of each validation row with NumPy (`model.predict(..., verbose=0)` rebuilds the "
    "rows) and return the q-th percentile of those errors. `test_windows` is there as a script would have "
    "it, and must not be used. The checker calls your function on fresh rows and a fresh model, with two "
    "values of q, and again with an anomaly planted in the test rows; `sadlib`'s own versions and the setup's "
    "`errors` are unavailable while it runs.",
    ("validation_threshold",),
    _check_validation_threshold,
    ["`rebuilt = model.predict(val_windows, verbose=0)`; the error of a row is the mean of its squared "
     "differences: `np.mean((val_windows - rebuilt) ** 2, axis=1)`.",
     "`np.percentile(val_errors, q)`."],
    "# the errors of the validation rows only; test_windows is not used\n"
    "def validation_threshold(model, val_windows, test_windows, q=99.9):\n"
    "    val_errors = np.mean((val_windows - model.predict(val_windows, verbose=0)) ** 2, axis=1)\n"
    "    threshold = np.percentile(val_errors, q)\n"
    "    return threshold",
    setup=_context,
    method="validation threshold from reconstruction errors",
)


# --- question 4: the whole autoencoder pipeline, end to end ----------------------------------------------------

def _pipeline(detect, X_train, X_val, X_test) -> dict:
    """Call the learner's ``detect`` and unpack ``(alarms, scaler, model, threshold)`` with the basic checks."""
    import keras

    out = call_answer(detect, "detect", X_train, X_val, X_test)
    expect_true(out is not None, "`detect` returns nothing: end it with `return alarms, scaler, model, threshold`.")
    if not (isinstance(out, tuple) and len(out) == 4):
        raise Incorrect("`detect` should return four things, `alarms, scaler, model, threshold`, so that the checker "
                        "can see the autoencoder behind the alarms (a z-score one-liner has none).")
    alarms, scaler, model, threshold = out
    alarms = np.asarray(alarms)
    expect_true(alarms.shape == (len(X_test),),
                f"the alarms should be one per row of `X_test`, shape ({len(X_test)},); got shape {alarms.shape}.")
    expect_true(alarms.dtype == bool or np.isin(alarms, (0, 1)).all(),
                "the alarms should be booleans (error > threshold), not scores.")
    expect_true(hasattr(scaler, "transform") and hasattr(scaler, "n_features_in_"),
                "the second thing returned should be the fitted scaler (e.g. `MinMaxScaler().fit(X_train)`).")
    expect_true(isinstance(model, keras.Model),
                f"the third thing returned should be the trained Keras autoencoder, not a {type(model).__name__}: "
                "this question is about the autoencoder pipeline, not any detector.")
    d = X_train.shape[1]
    try:
        in_shape, out_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError):
        raise Incorrect("the model has no defined input shape: start it with `keras.Input(shape=(2,))`.") from None
    expect_true(in_shape == (None, d) and out_shape == (None, d),
                f"an autoencoder rebuilds its input: the model should take and return rows of {d} values, shapes "
                f"(None, {d}); it has {in_shape} -> {out_shape}.")
    widths = [int(s[-1]) for s in (getattr(getattr(layer, "output", None), "shape", None) for layer in model.layers)
              if s is not None and len(s) == 2 and s[-1] is not None]
    expect_true(min(widths[:-1], default=d) < d,
                f"the model has no bottleneck (layer widths {widths}): with a latent as wide as the {d} inputs it can "
                "copy them. Use your `latent` from question 2.")
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise Incorrect(f"the threshold should be one number, got a {type(threshold).__name__}.") from None
    expect_true(np.isfinite(threshold), "the threshold should be a finite number.")
    return {"alarms": alarms.astype(bool), "scaler": scaler, "model": model, "threshold": threshold}


def _scaler_state(scaler) -> list[np.ndarray]:
    """The fitted numeric attributes of a scikit-learn scaler (``data_min_``, ``scale_``, ``mean_``...).

    Names such as ``feature_names_in_`` (a scaler fitted on a DataFrame) are left out: only the numbers matter.
    """
    state = []
    for key, value in sorted(vars(scaler).items()):
        if key.endswith("_") and not key.startswith("_") and isinstance(value, (np.ndarray, float, np.floating, int)):
            try:
                state.append(np.asarray(value, float))
            except (TypeError, ValueError):
                continue
    return state


def _same_arrays(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=1e-5, atol=1e-7)
                                    for x, y in zip(a, b))


def _weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def _moved(first: dict, second: dict, parts=("scaler", "model", "threshold")) -> list[str]:
    """Which of scaler / model weights / threshold differ between two outputs of ``detect``."""
    names = []
    if "scaler" in parts and not _same_arrays(_scaler_state(first["scaler"]), _scaler_state(second["scaler"])):
        names.append("scaler")
    if "model" in parts and first["model"] is not second["model"] and not _same_arrays(
            _weights(first["model"]), _weights(second["model"])):
        names.append("model's weights")
    if "threshold" in parts and not np.isclose(first["threshold"], second["threshold"], rtol=1e-6, atol=0):
        names.append("threshold")
    return names


def _beats_random_line(y_test, alarms, where: str) -> str:
    """Event F1 of the alarms against their own alarms shifted in time (the fair random line)."""
    from sadlib.metrics import point_metrics, shifted_alarms_baseline

    f1 = point_metrics(y_test, alarms)["f1"]
    line = shifted_alarms_baseline(y_test, alarms, n_shifts=20, seed=0, metric="event_f1", min_shift=10)
    bar = line["mean"] + 2 * line["std"]
    if not line["detector"] > bar:
        raise Incorrect(f"on {where} your alarms reach event F1 {line['detector']:.2f}, no better than the same alarms "
                        f"shifted at random in time (the random line: {line['mean']:.2f} ± {line['std']:.2f}). "
                        "They do not find the events; check the latent, the threshold and that the model learned.")
    if f1 < 0.5:
        raise Incorrect(f"on {where} your pipeline reaches a point F1 of {f1:.2f}; with the fixes of questions 1-3 it "
                        "should clear 0.5. Check the latent and the threshold.")
    return (f"on {where}: event F1 {line['detector']:.2f} against {line['mean']:.2f} for its random line, point F1 "
            f"{f1:.2f}")


def _check_detect(detect):
    from sklearn.base import clone

    expect_true(callable(detect), "`detect` should be a function (write it with `def`).")
    X_train, X_val, X_test, y_test = _parts()
    first = _pipeline(detect, X_train, X_val, X_test)
    scaler, model, threshold = first["scaler"], first["model"], first["threshold"]

    # the alarms are the autoencoder's: error above the threshold, recomputed here
    test_errors = _errors(model, scaler.transform(X_test))
    own = test_errors > threshold
    if not np.array_equal(own, first["alarms"]):
        raise Incorrect(f"{int((own != first['alarms']).sum())} of your alarms differ from "
                        "`errors(model, scaler.transform(X_test)) > threshold` computed with the scaler, model and "
                        "threshold you returned: the alarms must come from the autoencoder, not from another rule "
                        "such as a z-score.")
    # the scaler is fitted on exactly the training rows
    try:
        refit = clone(scaler).fit(X_train)
    except Exception:  # noqa: BLE001 (a scaler that cannot be cloned: compare what it says it saw)
        refit = None
    if refit is not None and not _same_arrays(_scaler_state(refit), _scaler_state(scaler)):
        raise Incorrect("your scaler is not the one `X_train` gives: fit it on the training rows only "
                        "(not on all rows, not on training and validation rows).")
    # the model learned the training rows
    scaled_train = scaler.transform(X_train)
    trained = float(np.mean(_errors(model, scaled_train)))
    mean_only = float(np.mean((scaled_train - scaled_train.mean(axis=0)) ** 2))
    if not trained < 0.5 * mean_only:
        raise Incorrect(f"your model rebuilds the scaled training rows with a mean squared error of {trained:.3g}, "
                        f"no better than predicting their mean ({mean_only:.3g}): it has not been trained on them. "
                        "Train it on the scaled training rows, input and target alike.")
    # the threshold comes from the validation errors
    val_errors = _errors(model, scaler.transform(X_val))
    for q in (95, 99):
        if np.isclose(threshold, np.percentile(test_errors, q)) or np.isclose(
                threshold, np.percentile(np.concatenate([val_errors, test_errors]), q)):
            raise Incorrect("that threshold is a percentile of the errors being judged: it flags a fixed share of the "
                            "test rows whatever happens. Take it from the errors of the validation rows.")
    if not np.percentile(val_errors, 95) <= threshold <= 3 * val_errors.max():
        raise Incorrect(f"the threshold {threshold:.4g} is not taken from the validation errors (their 95th "
                        f"percentile is {np.percentile(val_errors, 95):.4g}, their maximum {val_errors.max():.4g}): "
                        "use their maximum or a high percentile.")

    # an extreme anomaly in the test rows: flagged, and nothing else moves
    test_changed = _pipeline(detect, X_train, X_val, _planted(X_test, _PLANT_TEST))
    moved = _moved(first, test_changed)
    if moved:
        if _moved(first, _pipeline(detect, X_train, X_val, X_test)):
            raise Incorrect("your function returns a different scaler, model or threshold each time it is called on "
                            "the same rows, so the checker cannot see what it depends on. Train with "
                            "`train_autoencoder` (it is seeded).")
        raise Incorrect(f"an extreme anomaly planted in the test rows changed the {' and the '.join(moved)}: your "
                        "pipeline used the test part (leakage). Fit the scaler and train the model on `X_train`, take "
                        "the threshold from `X_val`; `X_test` is only judged.")
    if not test_changed["alarms"][_PLANT_TEST].all():
        raise Incorrect("an extreme anomaly planted in test rows 200-204 was not flagged. Are your alarms "
                        "`error > threshold`?")
    others = np.ones(len(X_test), bool)
    others[_PLANT_TEST] = False
    if not np.array_equal(first["alarms"][others], test_changed["alarms"][others]):
        raise Incorrect("planting an anomaly in test rows 200-204 changed alarms elsewhere: your alarms depend on "
                        "statistics of the test rows (leakage).")
    # a third of the validation rows become extreme: the scaler and the model stay, the threshold follows
    val_changed = _pipeline(detect, X_train, _planted(X_val, np.arange(0, len(X_val), 3)), X_test)
    moved = _moved(first, val_changed, parts=("scaler", "model"))
    if moved:
        raise Incorrect(f"an anomaly planted in the validation rows changed the {' and the '.join(moved)}: the "
                        "scaler and the model must come from `X_train` alone. The validation rows are for the "
                        "threshold only (errors the model has not been trained on).")
    if np.isclose(val_changed["threshold"], threshold, rtol=1e-9, atol=0):
        raise Incorrect("with a third of the validation rows replaced by an extreme anomaly, your threshold did not "
                        "change: it does not come from `X_val`. A number picked for the best F1 against `y_test` and "
                        "typed in is tuned on the test labels; compute the threshold from the errors on `X_val`.")

    # against the random line, here and on a fresh twin of the toy
    here = _beats_random_line(y_test, first["alarms"], "the notebook's test rows")
    tw_train, tw_val, tw_test, tw_y = _parts(_TWIN_SEED)
    there = _beats_random_line(tw_y, _pipeline(detect, tw_train, tw_val, tw_test)["alarms"],
                               f"a fresh toy you have not seen, seed {_TWIN_SEED}")
    return (f"{here}; {there}. An anomaly planted in the test rows was flagged and moved nothing else; one planted in "
            "the validation rows moved the threshold only.")


q4 = FunctionQuestion(
    4,
    "Put it together: complete `detect(X_train, X_val, X_test)` so that it returns `alarms, scaler, model, "
    "threshold` of your fixed autoencoder pipeline: the scaler fitted on the training rows, the autoencoder "
    "(`train_autoencoder` with your `latent`) trained on the scaled training rows, the threshold from the "
    "reconstruction errors of the scaled validation rows, and the alarms `error > threshold` on `X_test`. "
    "The checker recomputes the alarms from what you return (so a z-score one-liner does not pass), calls "
    "`detect` again with an extreme anomaly planted in the test rows (it must be flagged and move nothing "
    "else) and in the validation rows (only the threshold may move), and scores it against its random line "
    "(its own alarms shifted in time) on the test rows and on a fresh toy you have not seen.",
    ("detect",),
    _check_detect,
    ["`scaler = MinMaxScaler().fit(X_train)`; `model = train_autoencoder(scaler.transform(X_train), latent)`.",
     "`threshold = errors(model, scaler.transform(X_val)).max()` is a simple, honest choice.",
     "`alarms = errors(model, scaler.transform(X_test)) > threshold`."],
    "latent = 1\n\n\n"
    "def detect(X_train, X_val, X_test):\n"
    "    scaler = MinMaxScaler().fit(X_train)\n"
    "    model = train_autoencoder(scaler.transform(X_train), latent)\n"
    "    threshold = errors(model, scaler.transform(X_val)).max()\n"
    "    alarms = errors(model, scaler.transform(X_test)) > threshold\n"
    "    return alarms, scaler, model, threshold",
    setup=_context,
)


# --- question 5: build and train the dense autoencoder yourself ------------------------------------------------

_Q5_CASES = ((12, 2, 20), (6, 1, 3))  # (inputs, latent, epochs): the second call checks the arguments are used
_MAX_PARAMS = 100_000


def _smooth_rows(n_inputs: int, n_rows: int, seed: int) -> np.ndarray:
    """Fresh rows in [0, 1] with two degrees of freedom: sine waves of random amplitude and phase."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, n_inputs)
    amplitude, phase = rng.uniform(0.5, 1.0, n_rows), rng.uniform(0, 2 * np.pi, n_rows)
    return (0.5 + 0.4 * amplitude[:, None] * np.sin(t[None] + phase[:, None])).astype("float32")


def _layer_widths(model) -> list[int]:
    """Output width of each layer after the input (for a plain stack of Dense layers)."""
    widths = []
    for layer in model.layers:
        shape = getattr(getattr(layer, "output", None), "shape", None)
        if shape is not None and len(shape) == 2 and shape[-1] is not None:
            widths.append(int(shape[-1]))
    return widths


def _autoencoder_targets(fn) -> list:
    from sadlib.detectors import dense_ae

    return [(dense_ae, "build_dense_autoencoder"), (dense_ae, "DenseAutoencoder")] + _setup_helpers(
        fn, ("train_autoencoder",))


def _trained_model(train_dense_autoencoder, data, latent, epochs, seed=0):
    import keras

    with library_unavailable(train_dense_autoencoder, _autoencoder_targets(train_dense_autoencoder)):
        model = call_answer(train_dense_autoencoder, "train_dense_autoencoder", data, latent, epochs=epochs, seed=seed)
    n_inputs = data.shape[1]
    call = f"train_dense_autoencoder(rows with {n_inputs} values, latent={latent})"
    expect_true(model is not None, "`train_dense_autoencoder` returns nothing: end it with `return model`.")
    expect_true(isinstance(model, keras.Model),
                f"`train_dense_autoencoder` should return a keras.Model (keras.Sequential([...]) or "
                f"keras.Model(inputs, outputs)), not a {type(model).__name__}.")
    try:
        in_shape, out_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError):
        raise Incorrect("the model has no defined input shape: start it with "
                        "`keras.Input(shape=(n_inputs,))`.") from None
    expect_true(in_shape == (None, n_inputs), f"{call}: the input shape should be (None, {n_inputs}), got {in_shape}.")
    expect_true(out_shape == (None, n_inputs),
                f"{call}: the output shape should be (None, {n_inputs}) (it rebuilds its input), got {out_shape}.")
    widths = _layer_widths(model)
    expect_true(min(widths[:-1], default=None) == latent,
                f"{call}: the narrowest layer should be the bottleneck of size latent = {latent}; the layer widths "
                f"are {widths}.")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for layer in dense[:-1]:
        act = getattr(getattr(layer, "activation", None), "__name__", "linear")
        if int(layer.units) == latent:
            expect_true(act == "linear",
                        f"{call}: the bottleneck has the activation `{act}`; the task says a linear bottleneck "
                        "(`layers.Dense(latent)`, no activation), so the code can take any value.")
        else:
            expect_true(act == "relu",
                        f"{call}: the hidden layer of {int(layer.units)} units has the activation `{act}`; the task "
                        "says ReLU hidden layers: `layers.Dense(32, activation=\"relu\")`.")
    expect_true(getattr(model, "optimizer", None) is not None and getattr(model, "compiled", True),
                "the model is not compiled: call `model.compile(optimizer=\"adam\", loss=\"mse\")` before `fit`.")
    expect_linear_mse(model, call)
    steps = (getattr(getattr(model, "history", None), "params", None) or {}).get("steps")
    if steps:  # trained with fit: the optimizer's steps tell how many epochs ran (fit in a loop included)
        done = float(keras.ops.convert_to_numpy(model.optimizer.iterations)) / steps
        expect_true(round(done) == epochs,
                    f"{call}, epochs={epochs}: your model trained for {done:g} epochs. Pass the argument on: "
                    "`model.fit(..., epochs=epochs)`, not a number typed in.")
    n_params = int(model.count_params())
    expect_true(n_params <= _MAX_PARAMS,
                f"{call}: the model has {n_params:,} weights; more than {_MAX_PARAMS:,} is far too many for rows of "
                f"{n_inputs} values. Use hidden layers of tens of units.")
    return model


def _check_train_dense_autoencoder(train_dense_autoencoder):
    import keras

    expect_true(callable(train_dense_autoencoder),
                "`train_dense_autoencoder` should be a function (write it with `def`).")
    n_inputs, latent, epochs = _Q5_CASES[0]
    data, held_out = _smooth_rows(n_inputs, 256, seed=51), _smooth_rows(n_inputs, 256, seed=52)
    model = _trained_model(train_dense_autoencoder, data, latent, epochs)
    untrained = keras.models.clone_model(model)  # the same layers, freshly initialised
    before = float(np.mean(_errors(untrained, held_out)))
    after = float(np.mean(_errors(model, held_out)))
    expect_true(np.isfinite(after) and after < 0.5 * before,
                f"on fresh rows of the same kind, your model rebuilds with a mean squared error of {after:.3g}, an "
                f"untrained copy of it with {before:.3g}: it has not learned. Fit it on `scaled_train` as input *and* "
                f"target, for the `epochs` given (`model.fit(scaled_train, scaled_train, epochs=epochs, ...)`).")
    # the second case checks that the arguments are used; trained twice, it also checks the seed (without
    # `set_random_seed` the initial weights already differ, so the small case is as strict as the large one)
    small_inputs, small_latent, small_epochs = _Q5_CASES[1]
    small = _smooth_rows(small_inputs, 64, seed=53)
    first = _trained_model(train_dense_autoencoder, small, small_latent, small_epochs)
    again = _trained_model(train_dense_autoencoder, small, small_latent, small_epochs)
    expect_true(_same_arrays(_weights(first), _weights(again)),
                "two calls with the same rows and seed gave different weights: start with "
                "`keras.utils.set_random_seed(seed)`, so a pipeline built on it can be checked and repeated.")
    return (f"{int(model.count_params()):,} weights for {n_inputs} inputs and a {latent}-value bottleneck; on fresh "
            f"rows it rebuilds with an error of {after:.3g} against {before:.3g} untrained.")


q5 = FunctionQuestion(
    5,
    "Build and train it yourself: complete `train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0)` "
    "so that it returns a Keras dense autoencoder trained on `scaled_train`: input `(None, n_inputs)`, a ReLU "
    "hidden layer, a linear bottleneck of `latent` units, a mirrored ReLU hidden layer and a linear output of "
    "`n_inputs` values, compiled with Adam and the mean squared error, seeded with `seed` and fitted on the "
    "rows it is given (input and target alike) for `epochs` epochs. The checker trains it on fresh rows of two "
    "sizes, checks the layers, the linear output, the loss and the optimizer, that it learned (against an "
    "untrained copy) and that the seed makes it repeatable; `sadlib`'s `build_dense_autoencoder` and the "
    "setup's `train_autoencoder` are unavailable while it runs.",
    ("train_dense_autoencoder",),
    _check_train_dense_autoencoder,
    ["`keras.Sequential([keras.Input(shape=(n_inputs,)), layers.Dense(32, activation=\"relu\"), ...])`.",
     "The bottleneck is `layers.Dense(latent)` (linear); the last layer is `layers.Dense(n_inputs)`.",
     "`model.compile(optimizer=\"adam\", loss=\"mse\")`, then `model.fit(scaled_train, scaled_train, "
     "epochs=epochs, batch_size=32, verbose=0)`."],
    "# the model of section 3 of the notebook, for any number of inputs and any latent size\n"
    "def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):\n"
    "    keras.utils.set_random_seed(seed)\n"
    "    n_inputs = scaled_train.shape[1]\n"
    "    model = keras.Sequential([\n"
    "        keras.Input(shape=(n_inputs,)),\n"
    "        layers.Dense(32, activation=\"relu\"),\n"
    "        layers.Dense(latent),  # the bottleneck, linear\n"
    "        layers.Dense(32, activation=\"relu\"),\n"
    "        layers.Dense(n_inputs),  # linear output: it rebuilds the scaled row\n"
    "    ])\n"
    "    model.compile(optimizer=\"adam\", loss=\"mse\")\n"
    "    model.fit(scaled_train, scaled_train, epochs=epochs, batch_size=32, verbose=0)\n"
    "    return model",
    setup=_context,
    method="dense autoencoder (build and train in Keras)",
)


# --- question 6: which sensor, compared with its normal share --------------------------------------------------

_Q6_CASES = ((5, 3, 61), (7, 4, 62))  # (window, sensors, seed)


class _ShrinkModel:
    """A stand-in for a trained autoencoder in question 6: it rebuilds each value 30 % of the way from 0.5,
    so the residual of a sensor grows with its deviation from normal."""

    def predict(self, x, verbose=0, **kwargs):  # noqa: D102 (Keras's signature)
        return 0.5 + 0.3 * (np.asarray(x, float) - 0.5)

    def __call__(self, x, **kwargs):
        return self.predict(x).view(_Tensor)


def _attribution_targets(fn) -> list:
    from sadlib import attribution
    from sadlib.detectors import keras_base

    return [(attribution, "error_share"), (keras_base.WindowAutoencoder, "sensor_errors"),
            (keras_base, "reconstruction_errors")] + _setup_helpers(fn, ("errors",))


def _q6_data(window: int, n_sensors: int, seed: int):
    """A fixed model, normal windows, and event windows in which one sensor (not the noisiest) goes wrong."""
    rng = np.random.default_rng(seed)
    width = window * n_sensors
    model = _ShrinkModel()
    noise = rng.permutation(np.linspace(0.6, 2.5, n_sensors))  # each sensor's own noise: some are rebuilt worse
    normal = 0.5 + 0.05 * rng.normal(size=(300, window, n_sensors)) * noise
    culprit = int(np.argmin(noise))  # the quietest sensor goes wrong: its share alone would not name it
    event = 0.5 + 0.05 * rng.normal(size=(40, window, n_sensors)) * noise
    event[:, :, culprit] += rng.normal(0, 0.025 * noise.max(), (40, window))
    return model, event.reshape(40, width), normal.reshape(300, width), culprit


def _expected_ratio(model, W_event, W_normal, n_sensors) -> np.ndarray:
    def shares(W):
        residual = (W - model.predict(W)).reshape(len(W), -1, n_sensors)
        per_sensor = (residual ** 2).sum(axis=(0, 1))
        return per_sensor / per_sensor.sum()
    return shares(W_event) / shares(W_normal)


def _diagnose_ratio(got, model, W_event, W_normal, n_sensors) -> str:
    def shares(W, how):
        residual = (W - model.predict(W))
        r = residual.reshape(len(W), n_sensors, -1).transpose(0, 2, 1) if how == "sensor-major" else \
            residual.reshape(len(W), -1, n_sensors)
        e = np.abs(r).sum(axis=(0, 1)) if how == "absolute" else (r ** 2).sum(axis=(0, 1))
        return e / e.sum()
    if np.allclose(got, shares(W_event, "squared"), rtol=1e-3):
        return ("that is each sensor's share of the error in the event only. A sensor that is rebuilt badly anyway "
                "carries a large share in every window: divide by its share in `W_normal`.")
    if np.allclose(got, shares(W_event, "absolute") / shares(W_normal, "absolute"), rtol=1e-3):
        return "you used absolute errors; the task says the *squared* error of each sensor."
    if np.allclose(got, shares(W_event, "sensor-major") / shares(W_normal, "sensor-major"), rtol=1e-3):
        return ("the windows are flattened time step by time step (all sensors of step 0, then of step 1, ...): "
                "reshape to `(n_windows, window, n_sensors)`, not `(n_windows, n_sensors, window)`.")
    if np.allclose(got, shares(W_normal, "squared") / shares(W_event, "squared"), rtol=1e-3):
        return "the ratio is upside down: the share in the event divided by the share in normal windows."
    return ("the ratios differ from each sensor's share of the squared error in `W_event` divided by its share "
            "in `W_normal`.")


def _check_sensor_attribution(sensor_attribution):
    expect_true(callable(sensor_attribution), "`sensor_attribution` should be a function (write it with `def`).")
    for window, n_sensors, seed in _Q6_CASES:
        model, W_event, W_normal, culprit = _q6_data(window, n_sensors, seed)
        with library_unavailable(sensor_attribution, _attribution_targets(sensor_attribution)):
            out = call_answer(sensor_attribution, "sensor_attribution", model, W_event, W_normal, n_sensors)
        try:
            got = np.asarray(out, dtype=float).ravel()
        except (TypeError, ValueError):
            raise Incorrect(f"`sensor_attribution` should return {n_sensors} numbers, one per sensor; got a "
                            f"{type(out).__name__}.") from None
        expect_true(got.shape == (n_sensors,),
                    f"with {n_sensors} sensors `sensor_attribution` should return {n_sensors} ratios, got shape "
                    f"{got.shape}.")
        want = _expected_ratio(model, W_event, W_normal, n_sensors)
        if not np.allclose(got, want, rtol=1e-3, atol=1e-9):
            raise Incorrect(f"on fresh windows ({window} steps, {n_sensors} sensors): "
                            + _diagnose_ratio(got, model, W_event, W_normal, n_sensors))
        if int(np.argmax(got)) != culprit:
            raise Incorrect(f"on fresh windows the largest ratio should name sensor {culprit}, the one that went "
                            "wrong.")
    return (f"on fresh windows your ratios match; the largest names the sensor that went wrong (sensor {culprit}), "
            "although another sensor carries a larger share of the error in the event.")


q6 = FunctionQuestion(
    6,
    "Which sensor? Write `sensor_attribution(model, W_event, W_normal, n_sensors)` yourself: the windows are "
    "flattened time step by time step (shape `(n_windows, window * n_sensors)`, as in the notebook). For each "
    "sensor, sum its squared reconstruction errors over all windows and time steps of `W_event` and take its "
    "share of the total; do the same for `W_normal`; return the ratio of the two shares (one number per "
    "sensor). The checker runs it on fresh windows of two shapes with a fixed model; `sadlib`'s "
    "`attribution.error_share` and `sensor_errors` are unavailable while it runs.",
    ("sensor_attribution",),
    _check_sensor_attribution,
    ["`residual = (W - model.predict(W, verbose=0)).reshape(len(W), -1, n_sensors)`.",
     "`errors = (residual ** 2).sum(axis=(0, 1))`; `share = errors / errors.sum()`.",
     "Return `share_event / share_normal`."],
    "# each sensor's share of the squared error, in the event and in normal windows\n"
    "def sensor_attribution(model, W_event, W_normal, n_sensors):\n"
    "    def shares(W):\n"
    "        residual = (W - model.predict(W, verbose=0)).reshape(len(W), -1, n_sensors)\n"
    "        per_sensor = (residual ** 2).sum(axis=(0, 1))\n"
    "        return per_sensor / per_sensor.sum()\n"
    "\n"
    "    ratio = shares(W_event) / shares(W_normal)\n"
    "    return ratio",
    setup=_context,
    method="per-sensor error attribution",
)
