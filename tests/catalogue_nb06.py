"""Red-team catalogue of exercises 06 (issue 26 §4): realistic wrong answers and unconventional right ones.

Every question has at least two named wrong answers (a leak where it fits anything to data) and one unconventional
right answer; ``tests/test_checker_catalogue.py`` runs them. The Keras answers are tiny models, and no answer here
trains the setup's autoencoder: Q3-Q5 are checked on fresh data the checker makes itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from catalogue import Entry

from sadlib.course.exercises import nb06


# --------------------------------------------------------------------------- Q1: window scores to timestamps
def _window_scores():
    return nb06._q1_scores()


def _mapped(how):
    from sadlib.windows import windows_to_points

    return {"point_scores": windows_to_points(_window_scores(), nb06.Q1_SAMPLES, nb06.Q1_WINDOW, how=how)}


def _starting_at_t():
    s = _window_scores()
    return {"point_scores": np.concatenate([s, np.full(nb06.Q1_WINDOW - 1, s[-1])])}


def _by_loop():
    s, w = _window_scores(), nb06.Q1_WINDOW
    return {"point_scores": np.array([s[max(t - w + 1, 0)] for t in range(nb06.Q1_SAMPLES)])}


# --------------------------------------------------------------------------- Q2: split rows, then window
def _X():
    return np.column_stack([np.arange(200.0), np.sin(np.arange(200) / 5)])


def _windows(rows, w=10):
    return np.stack([rows[i:i + w] for i in range(len(rows) - w + 1)])


def _window_then_split():
    all_windows = _windows(_X())
    cut = int(0.8 * len(all_windows))
    return {"train_windows": all_windows[:cut], "val_windows": all_windows[cut:]}


def _validation_first():
    X = _X()
    return {"train_windows": _windows(X[40:]), "val_windows": _windows(X[:40])}


def _split_then_window():
    X = _X()
    return {"train_windows": _windows(X[:160]), "val_windows": _windows(X[160:])}


# --------------------------------------------------------------------------- Q3: per-sensor window errors
def _culprit():
    return nb06._pump()[3]


def _q3(fn, culprit=None):
    return lambda: {"sensor_window_errors": fn, "culprit": culprit or _culprit()}


def _over_sensors_too(model, windows):
    return np.mean((model.predict(windows, verbose=0) - windows) ** 2, axis=(1, 2))


def _absolute(model, windows):
    return np.mean(np.abs(model.predict(windows, verbose=0) - windows), axis=1)


def _squared_z(model, windows):
    z = (windows - windows.mean(axis=(0, 1))) / windows.std(axis=(0, 1))
    return np.mean(z ** 2, axis=1)


def _library_errors(model, windows):
    from sadlib.detectors.keras_base import reconstruction_errors

    return reconstruction_errors(windows, model.predict(windows, verbose=0), window=windows.shape[1],
                                 per_sensor=True)


def _einsum(model, windows):
    diff = np.asarray(model(windows, training=False)) - windows
    return np.einsum("nws,nws->ns", diff, diff) / windows.shape[1]


# --------------------------------------------------------------------------- Q4: the validation threshold
def _library_percentile(val, test):
    from sadlib.thresholds import PercentileThreshold

    return PercentileThreshold(99.9).fit(val).threshold_


ENTRIES = [
    # Q1: causal mapping of window scores to timestamps
    Entry(nb06, 1, "leak", "max over the windows", lambda: _mapped("max"), ("`max` mapping",)),
    Entry(nb06, 1, "leak", "window that starts at t", _starting_at_t, ("*starts*",)),
    Entry(nb06, 1, "wrong", "one score per window", lambda: {"point_scores": _window_scores()},
          ("one score per window",)),
    Entry(nb06, 1, "right", "a loop over timestamps", _by_loop),
    # Q2: an honest validation split for early stopping
    Entry(nb06, 2, "leak", "windowed first, then split", _window_then_split, ("share rows",)),
    Entry(nb06, 2, "wrong", "validation rows first", _validation_first, ("last 40 rows",)),
    Entry(nb06, 2, "right", "list comprehension windows", _split_then_window),
    # Q3: per-sensor window errors, written yourself
    Entry(nb06, 3, "wrong", "averaged over the sensors too", _q3(_over_sensors_too), ("over the sensors too",)),
    Entry(nb06, 3, "wrong", "absolute errors", _q3(_absolute), ("absolute",)),
    Entry(nb06, 3, "wrong", "squared z-scores of the windows", _q3(_squared_z), ("squared z-scores",)),
    Entry(nb06, 3, "wrong", "library reconstruction_errors", _q3(_library_errors), ("write it yourself",)),
    Entry(nb06, 3, "wrong", "culprit from another sensor",
          _q3(_einsum, culprit="pressure" if _culprit() != "pressure" else "flow"), ("argmax",)),
    Entry(nb06, 3, "right", "einsum on the model's call", _q3(_einsum)),
    # Q4: the validation threshold, written yourself
    Entry(nb06, 4, "leak", "percentile of the test scores",
          lambda: {"pick_threshold": lambda v, t: np.percentile(t, 99.9)}, ("leakage",)),
    Entry(nb06, 4, "leak", "a number typed in", lambda: {"pick_threshold": lambda v, t: 0.1}, ("typed in",)),
    Entry(nb06, 4, "wrong", "99th percentile", lambda: {"pick_threshold": lambda v, t: np.percentile(v, 99)},
          ("99th percentile",)),
    Entry(nb06, 4, "wrong", "maximum", lambda: {"pick_threshold": lambda v, t: np.max(v)}, ("the maximum",)),
    Entry(nb06, 4, "wrong", "library PercentileThreshold", lambda: {"pick_threshold": _library_percentile},
          ("write it yourself",)),
    Entry(nb06, 4, "right", "order statistic", lambda: {"pick_threshold": lambda v, t: np.sort(v)[int(
        0.999 * len(v))]}),
    Entry(nb06, 4, "right", "nearest rank", lambda: {"pick_threshold": lambda v, t: np.percentile(
        v, 99.9, method="nearest")}),
]


# --------------------------------------------------------------------------- Q5: a Conv1D autoencoder
def _conv_ae(*, last=None, loss="mse", code_filters=8, upsample=False, library=False, lstm=False):
    def build_conv_ae(window, n_features):
        import keras
        from keras import layers

        if library:
            from sadlib.detectors.sequence_ae import build_conv_autoencoder

            return build_conv_autoencoder(window, n_features)
        inputs = keras.Input(shape=(window, n_features))
        if lstm:
            x = layers.RepeatVector(window)(layers.LSTM(8)(inputs))
            outputs = layers.TimeDistributed(layers.Dense(n_features))(layers.LSTM(8, return_sequences=True)(x))
        else:
            x = layers.Conv1D(16, 5, strides=2, padding="same", activation="relu")(inputs)
            code = layers.Conv1D(code_filters, 5, strides=2, padding="same", activation="relu")(x)
            if upsample:
                x = layers.Conv1D(16, 3, padding="same", activation="relu")(layers.UpSampling1D(4)(code))
            else:
                x = layers.Conv1DTranspose(16, 5, strides=2, padding="same", activation="relu")(code)
                x = layers.Conv1DTranspose(16, 5, strides=2, padding="same", activation="relu")(x)
            outputs = layers.Conv1D(n_features, 5, padding="same", activation=last)(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        return model
    return build_conv_ae


ENTRIES += [
    Entry(nb06, 5, "wrong", "an LSTM autoencoder", lambda: {"build_conv_ae": _conv_ae(lstm=True)}, ("no Conv1D",)),
    Entry(nb06, 5, "wrong", "sigmoid output", lambda: {"build_conv_ae": _conv_ae(last="sigmoid")}, ("sigmoid",)),
    Entry(nb06, 5, "wrong", "mean absolute error", lambda: {"build_conv_ae": _conv_ae(loss="mae")}, ("loss=",)),
    Entry(nb06, 5, "wrong", "code as large as the window (section 2's sizes)",
          lambda: {"build_conv_ae": _conv_ae(code_filters=16)}, ("no bottleneck",)),
    Entry(nb06, 5, "wrong", "library builder", lambda: {"build_conv_ae": _conv_ae(library=True)},
          ("write it yourself",)),
    Entry(nb06, 5, "right", "upsampling decoder", lambda: {"build_conv_ae": _conv_ae(upsample=True)}),
]


# --------------------------------------------------------------------------- review r0506: more answers
def _window_ending(k):
    """Timestamp t gets the window that ends k steps after t (k < 0: before t), clipped at both ends."""
    s, w = _window_scores(), nb06.Q1_WINDOW
    t = np.arange(nb06.Q1_SAMPLES)
    return {"point_scores": s[np.clip(t - w + 1 + k, 0, len(s) - 1)]}


def _backward_filled():
    s, w = _window_scores(), nb06.Q1_WINDOW
    return {"point_scores": pd.Series(np.concatenate([np.full(w - 1, np.nan), s])).bfill().tolist()}


def _shuffled_after_split():
    X, rng = _X(), np.random.default_rng(0)
    return {"train_windows": rng.permutation(_windows(X[:160])), "val_windows": _windows(X[160:])}


def _val_with_context():
    X = _X()
    return {"train_windows": _windows(X[:160]), "val_windows": _windows(X[151:])}


def _rmse(model, windows):
    return np.sqrt(np.mean((model.predict(windows, verbose=0) - windows) ** 2, axis=1))


def _last_step(model, windows):
    return (model.predict(windows, verbose=0)[:, -1] - windows[:, -1]) ** 2


def _keras_ops(model, windows):
    import keras

    return keras.ops.mean(keras.ops.square(model(windows) - windows), axis=1)


ENTRIES += [
    Entry(nb06, 1, "leak", "centred window", lambda: _window_ending(nb06.Q1_WINDOW // 2), ("centred", "look-ahead")),
    Entry(nb06, 1, "wrong", "one step late", lambda: _window_ending(-1), ("late",)),
    Entry(nb06, 1, "right", "backward fill of the first window, as a list", _backward_filled),
    Entry(nb06, 2, "leak", "validation windows with training rows as context", _val_with_context, ("share rows",)),
    Entry(nb06, 2, "right", "training windows shuffled after the split", _shuffled_after_split),
    Entry(nb06, 3, "wrong", "root mean squared errors", _q3(_rmse), ("root",)),
    Entry(nb06, 3, "wrong", "last time step only", _q3(_last_step), ("last time step",)),
    Entry(nb06, 3, "right", "keras.ops on tensors", _q3(_keras_ops)),
    Entry(nb06, 4, "wrong", "a margin on the percentile",
          lambda: {"pick_threshold": lambda v, t: 1.5 * np.percentile(v, 99.9)}, ("no margin",)),
    Entry(nb06, 4, "wrong", "percent given as a fraction",
          lambda: {"pick_threshold": lambda v, t: np.percentile(v, 0.999)}, ("takes percent",)),
    Entry(nb06, 4, "leak", "percentile of validation and test together",
          lambda: {"pick_threshold": lambda v, t: np.percentile(np.concatenate([v, t]), 99.9)}, ("leakage",)),
    Entry(nb06, 4, "right", "pandas quantile on float32",
          lambda: {"pick_threshold": lambda v, t: pd.Series(np.asarray(v, "float32")).quantile(
              0.999)}),
    Entry(nb06, 5, "wrong", "relu output", lambda: {"build_conv_ae": _conv_ae(last="relu")}, ("linear output",)),
]
