import importlib.util
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib.detectors.sequence_ae import (
    AttentionLSTMAutoencoder,
    CNNLSTMAutoencoder,
    ConvAutoencoder,
    LSTMAutoencoder,
    SequenceAutoencoder,
    build_attention_lstm_autoencoder,
    build_cnn_lstm_autoencoder,
    build_conv_autoencoder,
    build_lstm_autoencoder,
)
from sadlib.windows import sliding_windows

if importlib.util.find_spec("keras") is None:  # checked without importing it (that would load TensorFlow)
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)

# small settings, the same architecture per class in every test, so each class traces its training step once
FAST = {
    LSTMAutoencoder: dict(window=8, units=8),
    ConvAutoencoder: dict(window=8, filters=(16, 8), kernel_size=3),
    CNNLSTMAutoencoder: dict(window=8, filters=8, units=8),
    AttentionLSTMAutoencoder: dict(window=8, units=8),
}
CLASSES = list(FAST)
BUILDERS = [build_lstm_autoencoder, build_conv_autoencoder, build_cnn_lstm_autoencoder,
            build_attention_lstm_autoencoder]


def make(cls, **params):
    return cls(**{**FAST[cls], "epochs": 15, "batch_size": 64, **params})


@pytest.fixture(scope="module")
def pump():
    """Four periodic sensors with noise: fit on 500 rows, test on 300 with a level shift in "pressure".

    Returns ``train, test, bad, inside, outside``: ``inside`` marks the 30 shifted rows,
    ``outside`` the rows whose window (8 rows, ending at the row) holds no shifted row.
    """
    n, rng, t = 800, np.random.default_rng(0), np.arange(800)
    X = np.column_stack([np.sin(2 * np.pi * t / p + p) for p in (24, 40, 60, 33)]) + rng.normal(0, 0.1, (n, 4))
    data = pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1min"),
                        columns=["temperature", "vibration", "current", "pressure"])
    train, test = data.iloc[:500], data.iloc[500:]
    bad = test.copy()
    bad.iloc[150:180, 3] += 5.0
    inside = np.zeros(len(bad), dtype=bool)
    inside[150:180] = True
    outside = np.ones(len(bad), dtype=bool)
    outside[150 : 180 + 8 - 1] = False
    return train, test, bad, inside, outside


@pytest.fixture(scope="module", params=CLASSES, ids=lambda c: c.__name__)
def fitted(request, pump):
    return make(request.param).fit(pump[0])


def test_import_does_not_load_tensorflow():
    code = "import sys, sadlib.detectors.sequence_ae; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_builders_map_windows_to_windows(build):
    model = build(8, 3) if build is build_conv_autoencoder else build(8, 3, units=8)
    assert tuple(model.input_shape) == (None, 8, 3) and tuple(model.output_shape) == (None, 8, 3)
    assert type(model).__name__ == "Functional" and model.optimizer is not None  # plain functional, compiled
    lstms = [layer for layer in model.layers if type(layer).__name__ == "LSTM"]
    if build is not build_conv_autoencoder:
        assert len(lstms) == 2 and not any(layer.unroll for layer in lstms)
        unrolled = build(8, 3, units=8, unroll=True)
        assert all(layer.unroll for layer in unrolled.layers if type(layer).__name__ == "LSTM")
        with pytest.raises(ValueError, match="overcomplete"):
            build(4, 2, units=8)
    else:
        assert not lstms
        with pytest.raises(ValueError, match="multiple of 4"):
            build(10, 3)
        assert tuple(build(12, 2, filters=(4,)).output_shape) == (None, 12, 2)  # one layer: multiple of 2


def test_attention_weighs_the_encoder_steps():
    model = build_attention_lstm_autoencoder(8, 3, units=4)
    assert tuple(model.get_layer("encoder").output[0].shape) == (None, 8, 4)  # every step is attended to
    assert tuple(model.get_layer("context").output.shape) == (None, 4)


def test_fit_score_shapes_and_fitted_attributes(fitted, pump):
    train, test = pump[:2]
    det = fitted
    assert det.n_features_in_ == 4 and list(det.feature_names_in_) == list(train.columns)
    assert len(det.train_scores_) == 400 and len(det.calibration_scores_) == 100
    s = det.score(test)
    assert s.shape == (len(test),) and s.dtype == np.float64 and np.all(s[7:] >= 0) and np.isnan(s[:7]).all()
    assert det.predict(test).dtype == bool
    assert tuple(det.model_.input_shape) == (None, 8, 4) == tuple(det.model_.output_shape)
    assert 1 <= det.best_epoch_ <= det.n_epochs_ <= 15
    assert len(det.history_["loss"]) == len(det.history_["val_loss"]) == det.n_epochs_
    assert min(det.history_["val_loss"]) < det.history_["val_loss"][0]  # it learned something
    assert det.error_scale_.shape == (4,) and np.all(det.error_scale_ > 0)
    # model_ alone, called on model_inputs, gives the scores through window_errors (as an edge device does)
    inputs = det.model_inputs(test.iloc[:20])
    windows = sliding_windows(det.scaler_.transform(test.iloc[:20].to_numpy()), 8).astype(np.float32)
    np.testing.assert_array_equal(inputs, windows)
    per_window = det.window_errors(inputs, np.asarray(det.model_(inputs)))
    np.testing.assert_allclose(per_window, det.score(test.iloc[:20])[7:], rtol=1e-4, atol=1e-7)


def test_detects_an_obvious_level_shift_and_names_the_sensor(fitted, pump):
    _, _, bad, inside, outside = pump
    s = fitted.score(bad)
    alarms = s > fitted.threshold_
    assert alarms[inside].mean() > 0.9
    assert alarms[outside].mean() < 0.1
    assert np.median(s[inside]) > 5 * np.nanmedian(s[outside])  # NaN: the first window - 1 rows, no score
    errors = fitted.sensor_errors(bad)
    assert errors.shape == (len(bad), 4)
    assert list(bad.columns)[int(np.argmax(errors[inside].mean(axis=0)))] == "pressure"
    np.testing.assert_allclose(errors.mean(axis=1), s, rtol=1e-9)  # "last": per-sensor errors average to the score


def test_scoring_options_need_no_refit(fitted, pump):
    det = clone(fitted).set_params(epochs=2).fit(pump[0].iloc[:300])
    test = pump[2]
    last = det.score(test)
    k = det.unscored_rows  # NaN (no score) under every aggregate
    s_max = det.set_params(aggregate="max").score(test)
    assert np.isnan(s_max[:k]).all() and np.all(s_max[k:] >= last[k:] - 1e-12)  # max over the windows holding t
    mean = det.set_params(aggregate="mean").score(test)
    assert mean.shape == last.shape and not np.allclose(mean[k:], last[k:])
    norm = det.set_params(aggregate="last", normalize=True).sensor_errors(test)
    raw = det.set_params(normalize=False).sensor_errors(test)
    np.testing.assert_allclose(norm, raw / det.error_scale_, rtol=1e-9)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_deterministic_given_random_state(cls, pump):
    train, test = pump[0].iloc[:300], pump[1]
    a = make(cls, epochs=3, random_state=1).fit(train)
    b = make(cls, epochs=3, random_state=1).fit(train)
    np.testing.assert_allclose(a.score(test), b.score(test), rtol=0, atol=1e-6)
    assert a.threshold_ == pytest.approx(b.threshold_, rel=1e-5)
    c = make(cls, epochs=3, random_state=2).fit(train)
    assert not np.allclose(a.score(test), c.score(test))
    np.testing.assert_allclose(a.score(test), b.score(test), rtol=0, atol=1e-6)  # c did not touch a or b


def test_no_state_shared_between_detectors(pump):
    """Each fit trains its own model_: refitting one detector leaves another's weights and scores alone."""
    train, test = pump[0].iloc[:300], pump[1]
    params = dict(window=8, filters=(8,), kernel_size=3, dropout=0.5, epochs=3, random_state=3)
    first = ConvAutoencoder(**params).fit(train)
    weights, scores = [w.copy() for w in first.model_.get_weights()], first.score(test)
    second = ConvAutoencoder(**params).fit(train)
    assert second.model_ is not first.model_
    ConvAutoencoder(**{**params, "random_state": 4}).fit(train)
    for before, after in zip(weights, first.model_.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(first.score(test), scores)
    np.testing.assert_allclose(second.score(test), scores, rtol=0, atol=1e-6)  # same seed, same model


def test_scaler_is_fitted_on_the_training_part_only(pump):
    X = pump[0].iloc[:300].to_numpy()
    X = X + np.linspace(0, 50, len(X))[:, None]  # a trend: the held-out tail has the largest values
    det = make(ConvAutoencoder, epochs=2, calibration=0.25).fit(X)
    n_train = 300 - 75
    np.testing.assert_allclose(det.scaler_.data_max_, X[:n_train].max(axis=0))
    np.testing.assert_allclose(det.scaler_.data_min_, X[:n_train].min(axis=0))
    assert np.all(det.scaler_.data_max_ < X.max(axis=0))
    assert det.scaler_.transform(X[n_train:]).max() > 1  # not clipped


def test_early_stopping_split_is_chronological_and_no_window_straddles(monkeypatch):
    seen = {}
    original = SequenceAutoencoder._after_fit

    def spy(self, train, val):
        (seen["train"], _), (seen["val"], _) = train, val
        return original(self, train, val)

    monkeypatch.setattr(SequenceAutoencoder, "_after_fit", spy)
    rows = np.arange(200, dtype=float)
    X = np.column_stack([rows, np.sin(rows), np.cos(rows)])  # column 0 tells the row of every value
    det = make(LSTMAutoencoder, epochs=1, validation=0.25, calibration=0.2, scaler="standard").fit(X)
    row_of = lambda w: np.rint(w[..., 0] * det.scaler_.scale_[0] + det.scaler_.mean_[0])  # noqa: E731
    n_train, n_val = 160, 40  # 200 rows - 20 % calibration; the last 25 % of them validate
    train_rows, val_rows = row_of(seen["train"]), row_of(seen["val"])
    assert train_rows.max() == n_train - n_val - 1 and val_rows.min() == n_train - n_val
    assert val_rows.max() == n_train - 1  # the calibration tail is not used for training or early stopping
    assert len(seen["train"]) == n_train - n_val - 8 + 1 and len(seen["val"]) == n_val - 8 + 1
    assert np.all(np.diff(train_rows, axis=1) == 1)  # consecutive rows, stride 1, not flattened
    assert seen["train"].shape[1:] == (8, 3)


def test_no_validation_trains_all_epochs(pump):
    det = make(ConvAutoencoder, epochs=3, validation=0, error="mae").fit(pump[0].iloc[:200])
    assert det.n_epochs_ == det.best_epoch_ == 3 and set(det.history_) == {"loss"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_bad_input(cls, pump):
    train, test = pump[:2]
    det = make(cls, epochs=1).fit(train.iloc[:200])
    gap = test.copy()
    gap.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.score(gap)
    with pytest.raises(ValueError, match="window"):
        det.score(test.iloc[:5])
    with pytest.raises(ValueError, match="features"):
        det.score(test.to_numpy()[:, :3])
    with pytest.raises(ValueError, match="rows"):
        make(cls).fit(train.iloc[:20])
    for params, match in [({"aggregate": "min"}, "aggregate"), ({"normalize": "yes"}, "normalize"),
                          ({"scaler": "zscore"}, "scaler"), ({"window": 1}, "window"),
                          ({"learning_rate": 0}, "learning_rate"), ({"validation": 1.0}, "validation")]:
        with pytest.raises(ValueError, match=match):
            make(cls, **params).fit(train)
    with pytest.raises(NotFittedError):
        make(cls).score(test)


def test_architecture_errors_are_clear(pump):
    X = pump[0].iloc[:200]
    with pytest.raises(ValueError, match="multiple of 4"):
        ConvAutoencoder(window=10).fit(X)
    with pytest.raises(ValueError, match="overcomplete"):
        LSTMAutoencoder(window=4, units=32).fit(X.iloc[:, :2])


def test_clone_keeps_params_and_threshold_changes_without_refit(fitted, pump):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_")
    with pytest.raises(NotFittedError):
        copy.sensor_errors(pump[1])
    det = copy.set_params(epochs=2).fit(pump[0].iloc[:300])
    weights = [w.copy() for w in det.model_.get_weights()]
    det.calibrate(threshold="max")
    assert det.threshold_ == pytest.approx(det.calibration_scores_.max())
    det.set_threshold(1e9)
    assert not det.predict(pump[1]).any()
    for before, after in zip(weights, det.model_.get_weights()):
        np.testing.assert_array_equal(before, after)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_runs_on_the_jax_backend():
    code = (
        "import numpy as np, keras\n"
        "from sadlib.detectors import sequence_ae as S\n"
        "assert keras.backend.backend() == 'jax'\n"
        "X = np.random.default_rng(0).normal(size=(200, 3))\n"
        "for cls in (S.LSTMAutoencoder, S.ConvAutoencoder, S.CNNLSTMAutoencoder, S.AttentionLSTMAutoencoder):\n"
        "    det = cls(window=8, epochs=2, **({} if cls is S.ConvAutoencoder else {'units': 8})).fit(X)\n"
        "    print(det.score(X).shape, det.model_.output_shape)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:4] == ["(200,) (None, 8, 3)"] * 4
