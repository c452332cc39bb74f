"""Red-team catalogue of exercises 05 (issue 26 §4): realistic wrong answers and unconventional right ones.

Every question has at least two named wrong answers (a leak where it fits anything to data) and one unconventional
right answer; ``tests/test_checker_catalogue.py`` runs them. Q5's models are tiny and train for 3 epochs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from catalogue import Entry

from sadlib.course.exercises import nb05


# --------------------------------------------------------------------------- Q1: forecasting pairs
def _pairs_loop(series, window):
    inputs, targets = [], []
    for i in range(len(series) - window):
        inputs.append(series[i:i + window])
        targets.append(series[i + window])
    return np.array(inputs), np.array(targets)


def _pairs_view(series, window):
    # sliding_window_view puts the window axis last: (n - window, n_sensors, window) -> swap the last two
    view = np.lib.stride_tricks.sliding_window_view(np.asarray(series)[:-1], window, axis=0)
    return np.swapaxes(view, 1, 2), np.asarray(series)[window:]


def _pairs_target_in_window(series, window):
    inputs = np.stack([series[i:i + window] for i in range(len(series) - window)])
    return inputs, series[window - 1:-1]


def _pairs_window_holds_target(series, window):
    inputs = np.stack([series[i + 1:i + window + 1] for i in range(len(series) - window)])
    return inputs, series[window:]


def _pairs_one_too_many(series, window):
    inputs = np.stack([series[i:i + window] for i in range(len(series) - window + 1)])
    return inputs, series[window - 1:]


def _pairs_library(series, window):
    from sadlib.detectors.lstm_forecast import forecast_windows

    return forecast_windows(series, window)


# --------------------------------------------------------------------------- Q2: one scaler before the test
def _scaler(rows, test_start=750, kind="minmax"):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    v = nb05._values()
    s = (MinMaxScaler() if kind == "minmax" else StandardScaler()).fit(v[rows])
    return {"scaler": s, "test_scaled": s.transform(v[test_start:])}


def _scaler_per_part():
    from sklearn.preprocessing import MinMaxScaler

    v = nb05._values()
    return {"scaler": MinMaxScaler().fit(v[:600]), "test_scaled": MinMaxScaler().fit_transform(v[750:])}


# --------------------------------------------------------------------------- Q3: eps and min_samples
def _kdist_sklearn(values, k):
    from sklearn.neighbors import NearestNeighbors

    pts = np.asarray(values, float).reshape(-1, 1)
    return NearestNeighbors(n_neighbors=k).fit(pts).kneighbors(pts)[0][:, k - 1]


def _eps_sklearn(val, test):
    return float(np.quantile(_kdist_sklearn(val, 8), 0.98)), 8


def _eps_on_test(val, test):
    return float(np.percentile(_kdist_sklearn(test, 10), 99)), 10


def _eps_library(val, test):
    from sadlib import clustering

    return clustering.suggest_eps(val, k=10), 10


# --------------------------------------------------------------------------- Q4: the threshold
def _best_f1_on_test():
    from sadlib.metrics import point_metrics

    ns = nb05._context()
    t, y = ns["test_errors"], ns["y_test"]
    best = max(np.unique(t), key=lambda c: point_metrics(y, t > c)["f1"])
    return {"alarm_rule": lambda val_errors, test_errors: test_errors > best}


def _pot_library(val, test):
    from sadlib import thresholds

    return test > thresholds.POTThreshold(risk=1e-2, init_level=0.9).fit(val).threshold_


def _mean_plus_sigmas(val, test):
    return test > np.mean(val) + 6 * np.std(val)


# --------------------------------------------------------------------------- Q5: the stacked LSTM forecaster
def _forecaster(*, units=(16, 8), activation=None, loss="mse", gru=False, library=False):
    def build_forecaster(window, n_features):
        import keras
        from keras import layers

        if library:
            from sadlib.detectors.lstm_forecast import build_lstm_forecaster

            return build_lstm_forecaster(window, n_features)
        inputs = keras.Input(shape=(window, n_features))
        x = inputs
        for i, u in enumerate(units):
            kind = layers.GRU if gru and i == 0 else layers.LSTM
            x = kind(u, return_sequences=i < len(units) - 1)(x)
        model = keras.Model(inputs, layers.Dense(n_features, activation=activation)(x))
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
        return model
    return build_forecaster


def _forecaster_side_by_side(window, n_features):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(window, n_features))
    a, b = layers.LSTM(16)(inputs), layers.LSTM(16)(inputs)  # two LSTMs, both reading the windows: not stacked
    model = keras.Model(inputs, layers.Dense(n_features)(layers.Concatenate()([a, b])))
    model.compile(optimizer="adam", loss="mse")
    return model


def _forecaster_relu_head_reshape(window, n_features):
    """16 and 8 units and a ReLU head (created before the LSTM it reads): the check's fit needs 12 epochs here."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(window, n_features))
    x = layers.LSTM(16, return_sequences=True)(inputs)
    x = layers.Dense(8, activation="relu")(layers.LSTM(8)(x))
    outputs = layers.Reshape((n_features,))(layers.Dense(n_features)(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.mean_squared_error)
    return model


def _forecaster_sequential(window, n_features):
    import keras

    model = keras.Sequential([keras.Input(shape=(window, n_features)), keras.layers.LSTM(24, return_sequences=True),
                              keras.layers.LSTM(24, return_sequences=True), keras.layers.LSTM(12),
                              keras.layers.Dense(n_features)])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=keras.losses.MeanSquaredError())
    return model


ENTRIES = [
    # Q1: forecasting pairs, written yourself
    Entry(nb05, 1, "leak", "target inside its own window", lambda: {"make_pairs": _pairs_target_in_window},
          ("last row of its own input window",)),
    Entry(nb05, 1, "leak", "window holds the target", lambda: {"make_pairs": _pairs_window_holds_target},
          ("look-ahead",)),
    Entry(nb05, 1, "wrong", "one pair too many", lambda: {"make_pairs": _pairs_one_too_many}, ("no next row",)),
    Entry(nb05, 1, "wrong", "library forecast_windows", lambda: {"make_pairs": _pairs_library},
          ("write it yourself",)),
    Entry(nb05, 1, "right", "loop with append", lambda: {"make_pairs": _pairs_loop}),
    Entry(nb05, 1, "right", "sliding_window_view", lambda: {"make_pairs": _pairs_view}),
    # Q2: one scaler fitted before the test
    Entry(nb05, 2, "leak", "scaler fitted on the test part", lambda: _scaler(slice(750, 1000)), ("test part",)),
    Entry(nb05, 2, "wrong", "test part rescaled by its own scaler", _scaler_per_part, ("fitted on the test rows",)),
    Entry(nb05, 2, "right", "standard scaler on rows 0-599", lambda: _scaler(slice(0, 600), kind="standard")),
    # Q3: eps from the k-distance curve of the validation errors
    Entry(nb05, 3, "leak", "k-distance of the test errors", lambda: {"dbscan_params": _eps_on_test}, ("leakage",)),
    Entry(nb05, 3, "wrong", "the tutorial's eps", lambda: {"dbscan_params": lambda v, t: (0.1, 5)}, ("guess",)),
    Entry(nb05, 3, "wrong", "library suggest_eps", lambda: {"dbscan_params": _eps_library}, ("write it yourself",)),
    Entry(nb05, 3, "right", "NearestNeighbors and the 98th percentile", lambda: {"dbscan_params": _eps_sklearn}),
    # Q4: the residual threshold on validation
    Entry(nb05, 4, "leak", "best F1 on the test labels, typed in", _best_f1_on_test, ("typed in",)),
    Entry(nb05, 4, "leak", "percentile of the test errors",
          lambda: {"alarm_rule": lambda v, t: t > np.percentile(t, 95)}, ("leakage",)),
    Entry(nb05, 4, "wrong", "library POT", lambda: {"alarm_rule": _pot_library}, ("write it yourself",)),
    Entry(nb05, 4, "wrong", "median of the validation errors",
          lambda: {"alarm_rule": lambda v, t: t > np.median(v)}, ("90th percentile",)),
    Entry(nb05, 4, "right", "mean plus six standard deviations", lambda: {"alarm_rule": _mean_plus_sigmas}),
    # Q5: the stacked LSTM forecaster in Keras
    Entry(nb05, 5, "wrong", "sigmoid output", lambda: {"build_forecaster": _forecaster(activation="sigmoid")},
          ("linear",)),
    Entry(nb05, 5, "wrong", "mean absolute error", lambda: {"build_forecaster": _forecaster(loss="mae")},
          ("squared error",)),
    Entry(nb05, 5, "wrong", "one LSTM layer", lambda: {"build_forecaster": _forecaster(units=(32,))},
          ("stacked",)),
    Entry(nb05, 5, "wrong", "library builder", lambda: {"build_forecaster": _forecaster(library=True)},
          ("write it yourself",)),
    Entry(nb05, 5, "right", "three LSTMs in a Sequential", lambda: {"build_forecaster": _forecaster_sequential}),
]


# --------------------------------------------------------------------------- review r0506: more answers
def _eps_typed_in(val, test):
    # the right eps for the notebook's validation errors, read off once and typed in
    return 0.04701, 10


def _scaler_float32():
    from sklearn.preprocessing import MinMaxScaler

    v = nb05._values().astype("float32")
    s = MinMaxScaler().fit(v[:600])
    return {"scaler": s, "test_scaled": s.transform(v[750:])}


def _forecaster_nested(window, n_features):
    """The LSTMs inside a nested Sequential used as one layer: still a stacked LSTM."""
    import keras
    from keras import layers

    encoder = keras.Sequential([layers.LSTM(16, return_sequences=True), layers.LSTM(8)])
    inputs = keras.Input(shape=(window, n_features))
    model = keras.Model(inputs, layers.Dense(n_features)(encoder(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=keras.losses.mean_squared_error)
    return model


ENTRIES += [
    Entry(nb05, 2, "leak", "scaler fitted on training and validation rows", lambda: _scaler(slice(0, 750)),
          ("validation rows",)),
    Entry(nb05, 2, "leak", "scaler fitted on the validation rows", lambda: _scaler(slice(600, 750)),
          ("validation rows",)),
    Entry(nb05, 2, "right", "float32 rows", _scaler_float32),
    Entry(nb05, 3, "leak", "eps read off the curve and typed in", lambda: {"dbscan_params": _eps_typed_in},
          ("typed in",)),
    Entry(nb05, 3, "right", "float32 eps in a list", lambda: {"dbscan_params": lambda v, t: [
        np.float32(np.percentile(_kdist_sklearn(list(v), 10), 99)), 10]}),
    Entry(nb05, 4, "leak", "percentile of validation and test together",
          lambda: {"alarm_rule": lambda v, t: t > np.percentile(np.concatenate([v, t]), 99)}, ("leakage",)),
    Entry(nb05, 4, "leak", "centred rolling mean of the test errors",
          lambda: {"alarm_rule": lambda v, t: pd.Series(t).rolling(
              5, center=True, min_periods=1).mean().to_numpy() > np.percentile(v, 99)}, ("one threshold",)),
    Entry(nb05, 4, "leak", "threshold from the training errors (the wrong rows)",
          lambda: {"alarm_rule": lambda v, t: t > np.percentile(nb05._context()["errors"][200:600], 99)},
          ("does not come from `val_errors`",)),
    Entry(nb05, 4, "right", "pandas quantile", lambda: {"alarm_rule": lambda v, t: pd.Series(t)
                                                        > pd.Series(v).quantile(0.99)}),
    Entry(nb05, 5, "wrong", "relu output", lambda: {"build_forecaster": _forecaster(activation="relu")},
          ("linear",)),
    Entry(nb05, 5, "right", "LSTMs in a nested Sequential", lambda: {"build_forecaster": _forecaster_nested}),
    # red team of 7 December 2026 (issue 26 §4 follow-up)
    Entry(nb05, 2, "wrong", "validation and test rows scaled as the test",
          lambda: _scaler(slice(0, 600), test_start=600),
          ("validation rows", "test part only")),
    Entry(nb05, 4, "right", "mean plus three standard deviations, float32 in a list", lambda: {
        "alarm_rule": lambda v, t: list(np.float32(t) > np.float32(np.mean(v) + 3 * np.std(v)))}),
    Entry(nb05, 5, "wrong", "two LSTMs side by side", lambda: {"build_forecaster": _forecaster_side_by_side},
          ("side by side", "return_sequences=True")),
    Entry(nb05, 5, "right", "a ReLU head, a loss function, Reshape at the end",
          lambda: {"build_forecaster": _forecaster_relu_head_reshape}),
    Entry(nb05, 1, "wrong", "sliding_window_view with the window axis last", lambda: {"make_pairs": lambda s, w: (
        np.lib.stride_tricks.sliding_window_view(s, w, axis=0)[:-1], s[w:])}, ("swap the last two axes",)),
]
