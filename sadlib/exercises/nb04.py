"""Exercises for notebook 04: fix the tutorial autoencoder pipeline mistake by mistake."""

from __future__ import annotations

import numpy as np

from sadlib.exercises.checker import Incorrect, Question, expect_shape, expect_true

__all__ = ["q1", "q2", "q3", "q4"]

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


def train_autoencoder(scaled_train, latent, epochs=50, seed=0):
    \"\"\"The tutorial's model with a chosen latent size, trained on the rows you give it.\"\"\"
    keras.utils.set_random_seed(seed)
    n = scaled_train.shape[1]
    model = keras.Sequential([keras.Input(shape=(n,)), layers.Dense(16, activation="relu"), layers.Dense(latent),
                              layers.Dense(16, activation="relu"), layers.Dense(n)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(scaled_train, scaled_train, epochs=epochs, batch_size=32, verbose=0)
    return model


def errors(model, scaled):
    \"\"\"Mean squared reconstruction error per row.\"\"\"
    return np.mean((scaled - model.predict(scaled, verbose=0)) ** 2, axis=1)
"""


def _context() -> dict:
    namespace: dict = {}
    exec(SETUP, namespace)
    return namespace


def _toy():
    from sadlib import signals

    toy = signals.make_tutorial_toy(seed=0)
    return toy[["temperature", "vibration"]].to_numpy(), toy["anomaly"].to_numpy().astype(bool)


def _check_scaler(scaler):
    X, _ = _toy()
    expect_true(hasattr(scaler, "data_min_"), "`scaler` should be a fitted MinMaxScaler (call .fit(...)).")
    if np.allclose(scaler.data_max_, X.max(axis=0)):
        raise Incorrect("this scaler saw all the data, anomalies included. Fit it on `X_train` only.")
    if not (np.allclose(scaler.data_min_, X[:400].min(axis=0)) and np.allclose(scaler.data_max_, X[:400].max(axis=0))):
        raise Incorrect("the scaler's minimum and maximum should be those of `X_train` (the first 400 rows).")


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


def _check_threshold(threshold, val_errors, test_errors):
    val_errors, test_errors = np.asarray(val_errors, float), np.asarray(test_errors, float)
    expect_shape(val_errors, (100,), "`val_errors` (one error per validation row)")
    expect_shape(test_errors, (500,), "`test_errors` (one error per test row)")
    threshold = float(threshold)
    all_errors = np.concatenate([val_errors, test_errors])
    for q in (95, 99):
        if np.isclose(threshold, np.percentile(test_errors, q)) or np.isclose(threshold, np.percentile(all_errors, q)):
            raise Incorrect("that threshold is a percentile of the errors being judged: it flags a fixed share of the test "
                            "rows whatever happens. Take it from `val_errors`.")
    if not np.percentile(val_errors, 95) <= threshold <= 3 * val_errors.max():
        raise Incorrect("take the threshold from the validation errors, e.g. their maximum or a high percentile.")


q3 = Question(
    3,
    "Mistake 3: the threshold was the 95th percentile of the errors being judged. Train the model on the "
    "scaled training rows, compute `val_errors` and `test_errors`, and set `threshold` from the errors of "
    "the clean validation rows.",
    ("threshold", "val_errors", "test_errors"),
    _check_threshold,
    ["`model = train_autoencoder(scaler.transform(X_train), latent)`, then `errors(model, scaler.transform(X_val))`.",
     "`threshold = val_errors.max()` is a simple, honest choice."],
    "scaler = MinMaxScaler().fit(X_train)\nlatent = 1\n"
    "model = train_autoencoder(scaler.transform(X_train), latent)\n"
    "val_errors = errors(model, scaler.transform(X_val))\n"
    "test_errors = errors(model, scaler.transform(X_test))\n"
    "threshold = val_errors.max()",
    setup=_context,
)


def _check_alarms(alarms):
    from sadlib.metrics import point_metrics

    alarms = np.asarray(alarms)
    expect_shape(alarms, (500,), "`alarms` (one per test row)")
    _, y = _toy()
    f1 = point_metrics(y[500:], alarms.astype(bool))["f1"]
    if f1 < 0.6:
        raise Incorrect(f"your fixed pipeline reaches F1 = {f1:.2f} on the test rows; with all three fixes it should "
                        "clear 0.6. Check the scaler, the latent and the threshold.")
    return f"F1 = {f1:.2f} on the test rows; compare it with the tutorial pipeline's F1 in notebook 04."


q4 = Question(
    4,
    "Put it together: set `alarms` to the boolean alarms of your fixed pipeline on `X_test` "
    "(errors above your threshold). The checker reports the F1 you reached.",
    ("alarms",),
    _check_alarms,
    ["`alarms = test_errors > threshold`"],
    "scaler = MinMaxScaler().fit(X_train)\n"
    "model = train_autoencoder(scaler.transform(X_train), latent=1)\n"
    "threshold = errors(model, scaler.transform(X_val)).max()\n"
    "alarms = errors(model, scaler.transform(X_test)) > threshold",
    setup=_context,
)
