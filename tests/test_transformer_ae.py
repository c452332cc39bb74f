import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib import detectors, signals
from sadlib.detectors.transformer_ae import (
    TransformerAutoencoder,
    build_transformer_autoencoder,
    sinusoidal_positions,
)
from sadlib.metrics import roc_auc
from sadlib.validation import InvalidParameterError
from sadlib.windows import sliding_windows

if importlib.util.find_spec("keras") is None:  # checked without importing it (that would load TensorFlow)
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)

# one architecture in (almost) every test, so its training step is traced once
SMALL = dict(window=12)  # and the default architecture (d_model=16, 2 heads, ff_dim=32, pool=4, latent=4)
WINDOW = SMALL["window"]


def make(**params):
    return TransformerAutoencoder(**{**SMALL, "epochs": 12, **params})


@pytest.fixture(scope="module")
def pump():
    """The course's synthetic pump (2 days at 1 min): train on the clean first half, test on the rest.

    Returns ``train, test, labels, events`` (``labels``: 1 inside an event, for the test rows).
    """
    data, events = signals.generate(n_days=2, seed=3, anomalies=["spike", "level_shift", "spike", "variance_burst"])
    X = data.drop(columns="anomaly")
    first = int(np.argmax(data["anomaly"].to_numpy() > 0))
    return X.iloc[:first], X.iloc[first:], data["anomaly"].to_numpy()[first:], events


@pytest.fixture(scope="module")
def fitted(pump):
    return make().fit(pump[0])


def test_import_does_not_load_tensorflow():
    code = "import sys, sadlib.detectors.transformer_ae; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_registered():
    assert "transformer_ae" in detectors.available()
    assert isinstance(detectors.make("transformer_ae", window=8), TransformerAutoencoder)
    assert "TransformerAutoencoder" in detectors.__all__


def test_sinusoidal_positions():
    table = sinusoidal_positions(20, 6)
    assert table.shape == (20, 6) and table.dtype == np.float32
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1], atol=1e-7)  # sin(0), cos(0)
    np.testing.assert_allclose(table[:, 0], np.sin(np.arange(20)), atol=1e-6)  # the fastest pair: one radian a step
    np.testing.assert_allclose(table[:, 5], np.cos(np.arange(20) / 10000 ** (4 / 6)), atol=1e-6)
    assert len(np.unique(table.round(5), axis=0)) == 20  # every position has its own pattern


def test_builder_layers_and_bottleneck():
    model = build_transformer_autoencoder(12, 3, d_model=8, heads=2, blocks=2, ff_dim=16, pool=4, latent=5)
    assert tuple(model.input_shape) == (None, 12, 3) and tuple(model.output_shape) == (None, 12, 3)
    assert type(model).__name__ == "Functional" and model.optimizer is not None  # plain functional, compiled
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("MultiHeadAttention") == 4  # 2 encoder + 2 decoder blocks
    assert kinds.count("LayerNormalization") == 8
    assert tuple(model.get_layer("encoder").output.shape) == (None, 3, 5)  # the code: 3 steps of 5 values
    # every path from the input to the output goes through the code: the decoder after it sees only the code
    assert model.get_layer("upsample").input is model.get_layer("encoder").output
    assert model.get_layer("encoder").input is model.get_layer("pool").output
    # sinusoidal positions have no weights, learned ones are a trainable (window, d_model) table
    assert not model.get_layer("encoder_position").weights
    learned = build_transformer_autoencoder(12, 3, d_model=8, heads=2, ff_dim=16, latent=5, position="learned")
    assert [tuple(w.shape) for w in learned.get_layer("decoder_position").trainable_weights] == [(12, 8)]
    no_dropout = build_transformer_autoencoder(12, 3, d_model=8, dropout=0, latent=5)
    assert "Dropout" not in [type(layer).__name__ for layer in no_dropout.layers]


@pytest.mark.parametrize("params, match", [
    (dict(latent=12), "overcomplete"),  # 12 / 4 x 12 = 36 = 12 x 3 values: could learn the identity
    (dict(pool=12, latent=36), "overcomplete"),
    (dict(pool=5), "multiple of pool"),
    (dict(pool=0), "pool"),
    (dict(d_model=10, heads=4), "multiple of heads"),
    (dict(blocks=0), "blocks"),
    (dict(blocks=5), "blocks"),
    (dict(dropout=1.0), "dropout"),
    (dict(position="rope"), "position"),
    (dict(ff_dim=0), "ff_dim"),
])
def test_builder_rejects_bad_architecture(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        build_transformer_autoencoder(12, 3, **params)


def test_fit_score_shapes_and_fitted_attributes(fitted, pump):
    train, test = pump[:2]
    det = fitted
    n_cal = int(round(len(train) * 0.2))
    assert det.n_features_in_ == train.shape[1] and list(det.feature_names_in_) == list(train.columns)
    assert len(det.train_scores_) == len(train) - n_cal and len(det.calibration_scores_) == n_cal
    s = det.score(test)
    k = det.unscored_rows  # window - 1 rows without a score (NaN)
    assert s.shape == (len(test),) and s.dtype == np.float64 and np.all(s[k:] >= 0) and np.isnan(s[:k]).all()
    assert det.predict(test).dtype == bool
    assert tuple(det.model_.input_shape) == (None, WINDOW, train.shape[1]) == tuple(det.model_.output_shape)
    assert 1 <= det.best_epoch_ <= det.n_epochs_ <= 12
    assert len(det.history_["loss"]) == len(det.history_["val_loss"]) == det.n_epochs_
    assert min(det.history_["val_loss"]) < 0.5 * det.history_["val_loss"][0]  # it learned something
    assert det.error_scale_.shape == (train.shape[1],) and np.all(det.error_scale_ > 0)
    # model_ alone, called on model_inputs, gives the scores through window_errors (as an edge device does)
    inputs = det.model_inputs(test.iloc[:40])
    windows = sliding_windows(det.scaler_.transform(test.iloc[:40].to_numpy()), WINDOW).astype(np.float32)
    np.testing.assert_array_equal(inputs, windows)
    per_window = det.window_errors(inputs, np.asarray(det.model_(inputs)))
    np.testing.assert_allclose(per_window, det.score(test.iloc[:40])[WINDOW - 1:], rtol=1e-4, atol=1e-7)


def test_reconstruction_is_not_the_identity(fitted, pump):
    """The bottleneck keeps the model from copying its input: normal windows are rebuilt closely but not
    exactly, and a window with a spike is rebuilt much worse (the spike is not in the code)."""
    train, test, labels, events = pump
    det = fitted
    assert 0 < np.nanmedian(det.train_scores_) < 0.01  # close on the data it learned (scaled to [0, 1])
    s = det.score(test)
    errors = det.sensor_errors(test)
    quiet = s[labels == 0]
    spikes = events[events["type"] == "spike"]
    assert len(spikes) == 2
    for _, event in spikes.iterrows():
        start = test.index.get_loc(event["start"])
        hit = s[start : start + WINDOW]  # the windows that hold the spike
        assert np.nanmax(hit) > 5 * np.nanmedian(quiet)  # NaN: rows before the first window ends, no score
        assert np.nanmax(hit) > det.threshold_
        peak = start + int(np.nanargmax(hit))  # the sensor rebuilt worst there is the one with the spike
        assert list(test.columns)[int(np.argmax(errors[peak]))] == event["sensor"]


def test_detects_injected_anomalies_better_than_chance(fitted, pump):
    _, test, labels, _ = pump
    s = fitted.score(test)
    assert roc_auc(labels, s) > 0.7  # chance is 0.5
    alarms = s > fitted.threshold_
    assert alarms[labels == 1].mean() > 5 * alarms[labels == 0].mean()


def test_deterministic_given_random_state(pump):
    train, test = pump[0].iloc[:400], pump[1].iloc[:300]
    a = make(epochs=2, random_state=1).fit(train)
    b = make(epochs=2, random_state=1).fit(train)
    np.testing.assert_allclose(a.score(test), b.score(test), rtol=0, atol=1e-6)
    assert a.threshold_ == pytest.approx(b.threshold_, rel=1e-5)
    c = make(epochs=2, random_state=2).fit(train)
    assert not np.allclose(a.score(test), c.score(test))
    np.testing.assert_allclose(a.score(test), b.score(test), rtol=0, atol=1e-6)  # c did not touch a or b


def test_learned_positions_are_trained(pump):
    det = make(epochs=2, position="learned", dropout=0.0).fit(pump[0].iloc[:400])
    table = det.model_.get_layer("encoder_position").weights[0].numpy()
    import keras

    keras.utils.set_random_seed(0)  # the detector's seed: the same initial weights
    untrained = build_transformer_autoencoder(WINDOW, pump[0].shape[1], dropout=0.0, position="learned")
    start = untrained.get_layer("encoder_position").weights[0].numpy()
    assert table.shape == start.shape == (WINDOW, 16)
    assert not np.allclose(table, start)


def test_bad_params_and_input(fitted, pump):
    train, test = pump[:2]
    for params, match in [({"heads": 3}, "multiple of heads"), ({"blocks": 0}, "blocks"), ({"latent": 0}, "latent"),
                          ({"pool": 5}, "multiple of pool"),
                          ({"dropout": -0.1}, "dropout"), ({"position": "relative"}, "position"),
                          ({"d_model": 0}, "d_model"), ({"window": 1}, "window"), ({"aggregate": "min"}, "aggregate"),
                          ({"scaler": "zscore"}, "scaler"), ({"learning_rate": 0}, "learning_rate")]:
        with pytest.raises(InvalidParameterError, match=match):
            make(**params).fit(train)
    with pytest.raises(InvalidParameterError, match="overcomplete"):  # latent >= window x n_features, known at fit
        make(window=4, pool=1, latent=train.shape[1]).fit(train)
    with pytest.raises(NotFittedError):
        make().score(test)
    with pytest.raises(ValueError, match="window"):
        fitted.score(test.iloc[: WINDOW - 1])
    with pytest.raises(ValueError, match="features"):
        fitted.score(test.to_numpy()[:, :2])


def test_clone_keeps_params(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "model_")


def test_exports_to_litert_with_builtin_ops(fitted, pump, tmp_path):
    """MultiHeadAttention, LayerNormalization and the positional table convert to LiteRT builtins (float32)."""
    pytest.importorskip("ai_edge_litert")
    from sadlib import edge

    path = edge.export_litert(fitted.model_, tmp_path / "transformer_ae.tflite")
    assert edge.flex_ops(path) == []
    inputs = fitted.model_inputs(pump[1].iloc[:60])
    on_device = fitted.window_errors(inputs, edge.LiteRTModel(path).predict(inputs))
    np.testing.assert_allclose(on_device, fitted.window_errors(inputs, np.asarray(fitted.model_(inputs))), rtol=1e-3)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_runs_on_the_jax_backend():
    code = (
        "import numpy as np, keras\n"
        "from sadlib import detectors\n"
        "assert keras.backend.backend() == 'jax'\n"
        "t = np.arange(300)\n"
        "X = np.column_stack([np.sin(t / 5), np.cos(t / 7), np.sin(t / 3)])\n"
        "X = X + np.random.default_rng(0).normal(0, 0.05, X.shape)\n"
        "det = detectors.make('transformer_ae', window=8, d_model=8, latent=4, epochs=3, position='learned').fit(X)\n"
        "bad = X.copy(); bad[200, 1] += 8\n"
        "s = det.score(bad)\n"
        "print(s.shape, det.model_.output_shape, bool(s[200:208].max() > 3 * np.nanmedian(s)))\n"
        "from sadlib.detectors.transformer_ae import build_transformer_autoencoder\n"
        "model = build_transformer_autoencoder(8, 3, latent=4)  # sinusoidal positions: a constant table\n"
        "print(keras.ops.convert_to_numpy(model(X[None, :8].astype('float32'))).shape)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["(300,) (None, 8, 3) True", "(1, 8, 3)"]
