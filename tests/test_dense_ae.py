import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib import signals
from sadlib.detectors.dense_ae import DenseAutoencoder, build_dense_autoencoder

if importlib.util.find_spec("keras") is None:  # checked without importing it (that would load TensorFlow)
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)

FAST = dict(window=10, epochs=15, random_state=0)  # small settings: each fit takes about a second


@pytest.fixture(scope="module")
def pump():
    """One day of synthetic pump data: fit on the first 16 hours, test on the rest with a level shift."""
    data = signals.make_normal(n_days=1, seed=0)
    train, test = data.iloc[:960], data.iloc[960:]
    bad, _ = signals.inject(test, "level_shift", start=200, duration=40, sensor="pressure", magnitude=5.0)
    inside = np.zeros(len(bad), dtype=bool)
    inside[200:240] = True
    return train, test, bad, inside


@pytest.fixture(scope="module")
def fitted(pump):
    return DenseAutoencoder(**FAST).fit(pump[0])


def test_import_does_not_load_tensorflow():
    code = "import sys, sadlib.detectors.dense_ae; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_build_dense_autoencoder_shapes_and_overcomplete_latent():
    model = build_dense_autoencoder(40, hidden=(16, 8), latent=3)
    assert tuple(model.input_shape) == (None, 40)
    assert tuple(model.output_shape) == (None, 40)
    assert tuple(model.get_layer("latent").output.shape) == (None, 3)
    assert [layer.units for layer in model.layers[1:]] == [16, 8, 3, 8, 16, 40]
    assert model.layers[-1].activation.__name__ == "linear"
    with pytest.raises(ValueError, match="overcomplete"):
        build_dense_autoencoder(4, latent=4)
    with pytest.raises(ValueError, match="hidden"):
        build_dense_autoencoder(40, hidden=32)


def test_fit_score_shapes_and_fitted_attributes(fitted, pump):
    train, test, _, _ = pump
    det = fitted
    assert det.n_features_in_ == 4 and list(det.feature_names_in_) == list(train.columns)
    assert len(det.train_scores_) == 768 and len(det.calibration_scores_) == 192
    s = det.score(test)
    k = det.unscored_rows  # window - 1 rows without a score (NaN)
    assert s.shape == (len(test),) and s.dtype == np.float64 and np.all(s[k:] >= 0) and np.isnan(s[:k]).all()
    assert det.predict(test).dtype == bool
    assert 1 <= det.best_epoch_ <= det.n_epochs_ <= 15
    assert set(det.history_) == {"loss", "val_loss"}
    assert len(det.history_["loss"]) == len(det.history_["val_loss"]) == det.n_epochs_
    assert det.history_["loss"][-1] < det.history_["loss"][0]  # it learned something
    assert det.encode(test).shape == (len(test) - 10 + 1, 4)


def test_detects_an_obvious_level_shift_and_names_the_sensor(fitted, pump):
    _, _, bad, inside = pump
    s = fitted.score(bad)
    alarms = s > fitted.threshold_
    assert alarms[inside].mean() > 0.9
    assert alarms[~inside].mean() < 0.15
    assert np.median(s[inside]) > 5 * np.nanmedian(s[~inside])  # NaN: the first window - 1 rows
    errors = fitted.sensor_errors(bad)
    assert errors.shape == (len(bad), 4)
    assert list(bad.columns)[int(np.argmax(errors[inside].mean(axis=0)))] == "pressure"
    # with the causal "last" aggregation the per-sensor errors average to the score
    np.testing.assert_allclose(errors.mean(axis=1), s, rtol=1e-9)


def test_deterministic_given_random_state(pump):
    train, test, _, _ = pump
    a = DenseAutoencoder(window=5, epochs=3, random_state=1).fit(train.iloc[:300]).score(test)
    b = DenseAutoencoder(window=5, epochs=3, random_state=1).fit(train.iloc[:300]).score(test)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_threshold_changes_without_refit(fitted, pump):
    det = clone(fitted).set_params(epochs=2).fit(pump[0].iloc[:300])
    weights = [w.copy() for w in det.model_.get_weights()]
    det.calibrate(threshold="max")
    assert det.threshold_ == pytest.approx(det.calibration_scores_.max())
    det.set_threshold(1e9)
    assert not det.predict(pump[1]).any()
    for before, after in zip(weights, det.model_.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_scaler_is_fitted_on_the_training_part_only(pump):
    X = pump[0].iloc[:300].to_numpy()
    X = X + np.linspace(0, 50, len(X))[:, None]  # a trend: the held-out tail has the largest values
    det = DenseAutoencoder(window=5, epochs=2, calibration=0.25).fit(X)
    n_train = 300 - 75
    np.testing.assert_allclose(det.scaler_.data_max_, X[:n_train].max(axis=0))
    np.testing.assert_allclose(det.scaler_.data_min_, X[:n_train].min(axis=0))
    assert np.all(det.scaler_.data_max_ < X.max(axis=0))
    # not clipped: the tail scales beyond 1
    assert det.scaler_.transform(X[n_train:]).max() > 1


def test_no_validation_trains_all_epochs(pump):
    det = DenseAutoencoder(window=5, epochs=3, validation=0, scaler="standard", error="mae").fit(pump[0].iloc[:200])
    assert det.n_epochs_ == det.best_epoch_ == 3 and set(det.history_) == {"loss"}
    assert det.scaler_.__class__.__name__ == "StandardScaler"


def test_bad_input(fitted, pump):
    train, test, _, _ = pump
    gap = test.copy()
    gap.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.score(gap)
    with pytest.raises(ValueError, match="window"):
        fitted.score(test.iloc[:5])
    with pytest.raises(ValueError, match="features"):
        fitted.score(test.to_numpy()[:, :3])
    with pytest.raises(ValueError, match="rows"):
        DenseAutoencoder(window=10).fit(train.iloc[:20])
    with pytest.raises(ValueError, match="overcomplete"):
        DenseAutoencoder(window=3, latent=4, epochs=1).fit(train.iloc[:100, :1])
    with pytest.raises(ValueError, match="scaler"):
        DenseAutoencoder(scaler="zscore").fit(train)
    with pytest.raises(ValueError, match="aggregate"):
        DenseAutoencoder(aggregate="min").fit(train)
    with pytest.raises(NotFittedError):
        DenseAutoencoder().score(test)


def test_clone_keeps_params_and_drops_fitted_state(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_")
    with pytest.raises(NotFittedError):
        copy.encode(np.zeros((20, 4)))


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_runs_on_the_jax_backend():
    code = (
        "import numpy as np, keras\n"
        "from sadlib.detectors.dense_ae import DenseAutoencoder\n"
        "assert keras.backend.backend() == 'jax'\n"
        "X = np.random.default_rng(0).normal(size=(200, 3))\n"
        "det = DenseAutoencoder(window=5, epochs=2).fit(X)\n"
        "print(det.score(X).shape, det.encode(X).shape)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(200,) (196, 4)"
