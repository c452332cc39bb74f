"""Every exercise: the solution passes, the untouched placeholder is 'not attempted', a known wrong answer fails."""

import importlib

import numpy as np
import pandas as pd
import pytest

from sadlib import signals
from sadlib.course.exercises import ____, questions

MODULES = ["nb00", "nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08", "nb09", "nb10", "nb11"]
NEEDS_DATA = {("nb00", 3), ("nb00", 4), ("nb01", 2)}


def all_questions():
    for name in MODULES:
        for q in questions(importlib.import_module(f"sadlib.course.exercises.{name}")):
            marks = [pytest.mark.needs_data] if (name, q.number) in NEEDS_DATA else []
            yield pytest.param(name, q, id=f"{name}-q{q.number}", marks=marks)


@pytest.mark.parametrize("module, q", all_questions())
def test_solution_passes(module, q):
    result = q.check_solution()
    assert result.passed, result.message


@pytest.mark.parametrize("module, q", all_questions())
def test_placeholder_is_not_attempted(module, q):
    values = {name: ____ for name in q.variables}
    result = q.result(**values)
    assert result.status == "not attempted"
    assert "____" in result.message


def _normal():
    from sadlib import signals

    return signals.make_normal(n_days=7, seed=0)


def _wrong_point_adjust(y_true, y_pred):
    return np.asarray(y_pred, bool)  # forgets to adjust


WRONG = {
    ("nb00", 1): lambda: {"n_cores": 0},
    ("nb00", 2): lambda: {"epochs": 7},
    ("nb00", 3): lambda: {"n_test_rows": 400},
    ("nb00", 4): lambda: {"period_seconds": 60.0},
    ("nb01", 1): lambda: {"add_drift": lambda x, start, duration, magnitude: np.array(x, dtype=float)},
    ("nb01", 2): lambda: {"share": 0.5},
    ("nb01", 3): lambda: {"rolling_zscore": lambda x, window: (x - np.mean(x)) / np.std(x)},
    ("nb01", 4): lambda: {"normal": _normal(), "corr_before": 0.0, "corr_during": 0.9},
    ("nb02", 1): lambda: {"my_point_metrics": lambda y, p: (0.5, 0.5, 0.5)},  # not from the counts
    ("nb01", 5): lambda: {"label_events": lambda y: [(i, i + 1) for i in np.flatnonzero(y)]},
    ("nb02", 2): lambda: {"f1_flag_all": 0.35},
    ("nb02", 3): lambda: {"honest_threshold": lambda val, test: np.percentile(np.concatenate([val, test]), 99.5)},
    ("nb02", 4): lambda: {"event_report": lambda y, a, d: (1.0, float(np.sum(a)))},  # alarm samples, not ranges
    ("nb02", 5): lambda: {"my_point_adjust": _wrong_point_adjust},
    ("nb02", 6): lambda: {"honest_pipeline": lambda data: np.ones(len(data) - 2 * (len(data) // 3), bool)},
    ("nb03", 1): lambda: {"rolling_z": lambda x, w: pd.Series(x).rolling(w, center=True).std().to_numpy()},
    ("nb03", 2): lambda: {**_nb03(), "missed_types": lambda index, events, alarms: {"spike"}},
    ("nb03", 3): lambda: {"ewma_chart": lambda x, lam, mean, std: np.cumsum(x) * lam},
    ("nb03", 4): lambda: {"robust_alarms": lambda train_X, val_X, test_X: np.zeros(len(test_X), bool)},
    ("nb03", 5): lambda: _nb03_wrong_threshold(),
    ("nb03", 6): lambda: {**_nb03(("train", "val", "sensors")), "flagged_share": 0.1, "val_share": 0.1},
    ("nb04", 1): lambda: {"scaler": _fitted_minmax(all_rows=True)},
    ("nb04", 2): lambda: {"latent": 4},
    ("nb04", 3): lambda: {"validation_threshold": _nb04_test_percentile},  # the errors being judged
    ("nb04", 4): lambda: {"detect": _nb04_leaky_z_score},  # the tutorial one-liner over all rows
    ("nb05", 1): lambda: {"make_pairs": lambda series, w: (  # the target is the last row of its own window
        np.stack([series[i:i + w] for i in range(len(series) - w)]), series[w - 1:-1])},
    ("nb04", 5): lambda: _nb04_never_fitted(),
    ("nb04", 6): lambda: {"sensor_attribution": _nb04_event_share_only},  # no comparison with normal rows
    ("nb05", 2): lambda: _nb05_per_split_scaling(),
    ("nb05", 3): lambda: _nb05_eps_from_test(),
    ("nb05", 4): lambda: _nb05_test_percentile(),
    ("nb05", 5): lambda: _nb05_single_lstm(),
    ("nb06", 1): lambda: _nb06_max_mapping(),
    ("nb06", 2): lambda: _nb06_windows_then_split(),
    ("nb06", 3): lambda: _nb06_wrong_culprit(),
    ("nb06", 4): lambda: _nb06_far_over_all_samples(),
    ("nb06", 5): lambda: _nb06_dense_builder(),
    ("nb07", 1): lambda: {"perplexity": lambda counts: float(np.count_nonzero(counts))},  # codes used, not perplexity
    ("nb07", 2): lambda: {"nearest_code": _nb07_farthest_code},
    ("nb07", 3): lambda: {"dead_codes": lambda batch_codes, n_codes: np.unique(batch_codes)},  # the used codes
    ("nb07", 4): lambda: {"vq_losses": _nb07_losses_without_stop_gradient},
    ("nb07", 5): lambda: {"my_quantizer": lambda z, codebook: z},  # no quantization: the value is z, not q
    ("nb09", 1): lambda: {"reason": "b", "input_shape": (None, 24, 4)},  # Keras's open batch
    ("nb09", 2): lambda: _nb09_inverted_ratio(),
    ("nb09", 3): lambda: _nb09_threshold_from_test(),
    ("nb08", 1): lambda: {"k_of_n": lambda above, k, n: np.convolve(np.asarray(above, int), np.ones(n), "same") >= k},
    ("nb08", 2): lambda: {"hysteresis": lambda scores, on, off: np.asarray(scores) > on},  # no latch
    ("nb08", 3): lambda: {"alarm_pipeline": lambda train, test, q, d: (test > np.percentile(test, q),
                                                                       np.percentile(test, q))},  # fitted on test
    ("nb08", 4): lambda: {"pot_threshold": lambda scores, level, q: float(np.quantile(scores, level))},  # t, not z_q
    ("nb08", 5): lambda: {"alarms_per_shift": lambda a, index: pd.Series(np.asarray(a, int), index=index)
                          .resample("8h", offset="6h").sum()},  # alarm samples, not announcements
    ("nb08", 6): lambda: {"alarm_rule": lambda plant, v, t: (plant["score"] > plant["score"].quantile(0.99))
                          .to_numpy()[plant.index >= t]},  # threshold from all the data, no persistence
    ("nb09", 4): lambda: {"my_alarms": lambda scores, threshold, min_duration: np.asarray(scores) > threshold},
    ("nb09", 5): lambda: {"export_int8": lambda model, windows: model.to_json().encode()},  # not a LiteRT file
    ("nb09", 6): lambda: {"litert_parity": _nb09_keras_scores_only},
    ("nb10", 1): lambda: {"forward_chaining": lambda n, k, g: [(np.arange(n), np.arange(n))] * k},  # train = val
    ("nb10", 2): lambda: {"transformer_block": lambda x, d, h, f: x},  # no block at all
    ("nb10", 3): lambda: {"occlusion_drop": lambda f, X, r: pd.Series(0.0, index=X.columns)},
    ("nb10", 4): lambda: {"lead_times": lambda a, e: e["start"] - e["precursor_start"]},  # ignores the alarms
    ("nb10", 5): lambda: {"compressor_alarms": lambda tr, te: np.zeros(len(te), bool)},  # never alarms
    ("nb10", 6): lambda: {"block_means": lambda raw, every: raw.rolling(every, center=True).mean()},  # reads ahead
    ("nb11", 1): lambda: {"fedavg": lambda u: [np.mean([w[i] for w, _ in u], axis=0)
                                               for i in range(len(u[0][0]))]},  # unweighted mean
    ("nb11", 2): lambda: {"quantize_update": lambda d, bits=8: ((d - d.min()).astype(np.uint8), 1.0, float(d.min())),
                          "dequantize": lambda c, s, o: o + s * c},  # no scaling: every value cut to an integer
    ("nb11", 3): lambda: {"top_k_sparsify": lambda d, f: (np.arange(max(1, round(f * d.size)), dtype=np.int32),
                                                          d.ravel()[:max(1, round(f * d.size))])},  # the first k
    ("nb11", 4): lambda: {"site_thresholds": lambda v, t, q: {s: np.percentile(t[s], q) for s in v}},  # test scores
    ("nb11", 6): lambda: {"clip_update": lambda update, clip: [np.clip(u, -clip, clip) for u in update]},  # per value
    ("nb11", 5): lambda: {"fedprox_loss": lambda model, g, mu: lambda y, p: ((y - p) ** 2).numpy().mean()},  # no prox
}


def _nb09_inverted_ratio():
    from sadlib.course.exercises import nb09

    return {"ratio": {k: v["float32"] / v["int8"] for k, v in nb09.SIZES.items()}, "goal_met": False}


def _nb09_threshold_from_test():
    from sadlib.course.exercises import nb09

    ns = nb09._context()

    def recalibrate(val_scores, test_scores):
        return np.percentile(test_scores, 99.9)  # a percentile of the scores being judged

    threshold = recalibrate(ns["edge_val"], ns["edge_test"])
    agreement = float(np.mean((ns["keras_test"] > ns["keras_threshold"]) == (ns["edge_test"] > threshold)))
    return {"recalibrate": recalibrate, "agreement": agreement}


def _nb07_farthest_code(z, codebook):
    d = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    idx = d.argmax(axis=1)  # max instead of min
    return idx, codebook[idx]


def _nb07_losses_without_stop_gradient(z, q, beta):
    from keras import ops

    return ops.mean((z - q) ** 2), beta * ops.mean((z - q) ** 2)  # both losses move both z and q


def _nb09_keras_scores_only(tflite_bytes, model, windows, threshold):
    return np.mean((np.asarray(model(windows)) - windows) ** 2, axis=1), 1.0  # the file never runs


def _nb06_max_mapping():
    from sadlib.course.exercises import nb06
    from sadlib.windows import windows_to_points

    return {"point_scores": windows_to_points(nb06._q1_scores(), nb06.Q1_SAMPLES, nb06.Q1_WINDOW, how="max")}


def _nb06_windows_then_split():
    from sadlib.windows import sliding_windows

    X = np.column_stack([np.arange(200.0), np.sin(np.arange(200) / 5)])
    W = sliding_windows(X, 10)  # windows first, then the last 20 % of them: 9 share rows with training
    cut = int(len(W) * 0.8)
    return {"train_windows": W[:cut], "val_windows": W[cut:]}


def _nb06_wrong_culprit():
    from sadlib.course.exercises import nb06

    def errors(model, windows):  # the model's errors, as asked
        return np.mean((model.predict(windows, verbose=0) - windows) ** 2, axis=1)

    sensors, _, _, injected = nb06._pump()
    return {"sensor_window_errors": errors, "culprit": next(s for s in sensors if s != injected)}


def _nb06_far_over_all_samples():
    return {"pick_threshold": lambda v, t: np.percentile(t, 99.9)}  # the threshold from the scores it judges


def _nb06_dense_builder():
    import keras
    from keras import layers

    def build(window, n_features):  # the dense autoencoder of notebook 04, not a Conv1D autoencoder
        inputs = keras.Input(shape=(window, n_features))
        code = layers.Dense(8)(layers.Flatten()(inputs))
        model = keras.Model(inputs, layers.Reshape((window, n_features))(layers.Dense(window * n_features)(code)))
        model.compile(optimizer="adam", loss="mse")
        return model

    return {"build_conv_ae": build}


def _nb05_per_split_scaling():
    from sklearn.preprocessing import MinMaxScaler

    values = signals_forecast_toy()
    return {"scaler": MinMaxScaler().fit(values[:600]), "test_scaled": MinMaxScaler().fit_transform(values[750:])}


def _nb05_test_percentile():
    return {"alarm_rule": lambda val, test: test > np.percentile(test, 85)}  # a percentile of the errors judged


def _nb05_eps_from_test():
    from sadlib.clustering import suggest_eps

    return {"dbscan_params": lambda val, test: (suggest_eps(test, k=10), 10)}  # eps from the errors judged


def _nb05_single_lstm():
    def build_forecaster(window, n_features):  # one LSTM layer: not stacked
        import keras

        inputs = keras.Input(shape=(window, n_features))
        model = keras.Model(inputs, keras.layers.Dense(n_features)(keras.layers.LSTM(64)(inputs)))
        model.compile(optimizer="adam", loss="mse")
        return model

    return {"build_forecaster": build_forecaster}


def signals_forecast_toy():
    from sadlib.detectors.lstm_forecast import make_forecast_toy

    return make_forecast_toy(seed=0)[["value"]].to_numpy()


def _fitted_minmax(all_rows):
    from sklearn.preprocessing import MinMaxScaler

    toy = signals.make_tutorial_toy(seed=0)[["temperature", "vibration"]].to_numpy()
    return MinMaxScaler().fit(toy if all_rows else toy[:400])


def _nb04_test_percentile(model, val_windows, test_windows, q=99.9):
    return np.percentile(np.mean((test_windows - model.predict(test_windows, verbose=0)) ** 2, axis=1), q)


def _nb04_event_share_only(model, W_event, W_normal, n_sensors):
    residual = (W_event - model.predict(W_event, verbose=0)).reshape(len(W_event), -1, n_sensors)
    errors = (residual ** 2).sum(axis=(0, 1))
    return errors / errors.sum()


def _nb04_leaky_z_score(X_train, X_val, X_test):
    x = np.vstack([X_train, X_val, X_test])
    return (np.abs((x - x.mean(axis=0)) / x.std(axis=0)).max(axis=1) > 3)[len(X_train) + len(X_val):]


def _nb04_never_fitted():
    import keras

    def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):  # builds and compiles, never fits
        keras.utils.set_random_seed(seed)
        n = scaled_train.shape[1]
        model = keras.Sequential([keras.Input(shape=(n,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(latent), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(n)])
        model.compile(optimizer="adam", loss="mse")
        return model

    return {"train_dense_autoencoder": train_dense_autoencoder}


def _nb03(names=("test", "test_events", "zscore_alarms")):
    from sadlib.course.exercises import nb03

    ns = nb03._context()
    return {k: ns[k] for k in names}


def _nb03_wrong_threshold():
    def recalibrate(det, val_X, test_X):  # calibrates on the scores of the data it is judged on
        det.calibrate(det.score(test_X), threshold=("percentile", {"q": 99.5}))
        return det.predict(test_X).mean()

    return {**_nb03(("det", "val", "test", "sensors")), "recalibrate": recalibrate}


@pytest.mark.parametrize("module, q", all_questions())
def test_known_wrong_answer_fails(module, q):
    values = WRONG[(module, q.number)]()
    result = q.result(**values)
    assert result.status == "incorrect", result.message


def test_leaky_threshold_gets_specific_feedback():
    from sadlib.course.exercises.nb02 import q3

    result = q3.result(honest_threshold=lambda val_scores, test_scores: np.percentile(test_scores, 99.5))
    assert "leakage" in result.message


def test_every_notebook_module_has_at_least_three_questions():
    for name in MODULES:
        assert len(questions(importlib.import_module(f"sadlib.course.exercises.{name}"))) >= 3
