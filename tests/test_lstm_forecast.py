import importlib.util
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.cluster import DBSCAN
from sklearn.exceptions import NotFittedError

from sadlib import metrics
from sadlib.clustering import dbscan_outliers, k_distance, suggest_eps
from sadlib.detectors.lstm_forecast import LSTMForecaster, forecast_windows, make_forecast_toy

needs_keras = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None, reason="keras is not installed: pip install 'sadlib[deep]'"
)

FAST = dict(window=8, units=(8,), epochs=3, batch_size=32, random_state=0)  # each fit well under a second


def sensors(n=300, seed=0, noisy=1.0):
    """Three periodic sensors, the last ``noisy`` times noisier, on a 1-minute DatetimeIndex."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([np.sin(t / 8), np.cos(t / 5), 0.5 * np.sin(t / 3)])
    X += rng.normal(0, 0.05, (n, 3)) * np.array([1.0, 1.0, noisy])
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1min"), columns=["a", "b", "c"])


@pytest.fixture(scope="module")
def fitted():
    pytest.importorskip("keras")
    return LSTMForecaster(**FAST).fit(sensors())


# --------------------------------------------------------------------------- #
# data helpers (no keras)
# --------------------------------------------------------------------------- #
def test_import_does_not_load_tensorflow():
    code = ("import sys, sadlib.detectors.lstm_forecast, sadlib.clustering; "
            "print('keras' in sys.modules or 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_make_forecast_toy():
    df = make_forecast_toy()
    assert df.shape == (1000, 2) and list(df.columns) == ["value", "anomaly"]
    assert isinstance(df.index, pd.RangeIndex) and df.index.name == "t"
    np.testing.assert_array_equal(np.flatnonzero(df["anomaly"]), np.arange(800, 850))
    clean = make_forecast_toy(noise=0.0)["value"].to_numpy()
    t = np.arange(1000) / 100
    expected = np.sin(4 * np.pi * t) + np.sin(2 * np.pi * t)
    expected[800:850] += np.sin(10 * np.pi * t[800:850])
    np.testing.assert_allclose(clean, expected)
    pd.testing.assert_frame_equal(make_forecast_toy(seed=3), make_forecast_toy(seed=3))
    with pytest.raises(ValueError, match="n must be"):
        make_forecast_toy(n=50)


def test_forecast_windows_alignment():
    X = np.arange(20.0).reshape(10, 2)
    inputs, targets = forecast_windows(X, 3)
    assert inputs.shape == (7, 3, 2) and targets.shape == (7, 2)
    for i in range(7):
        np.testing.assert_array_equal(inputs[i], X[i : i + 3])
        np.testing.assert_array_equal(targets[i], X[i + 3])  # the row right after the window
    with pytest.raises(ValueError, match="window \\+ 1"):
        forecast_windows(X[:3], 3)


# --------------------------------------------------------------------------- #
# the detector
# --------------------------------------------------------------------------- #
@needs_keras
def test_model_is_a_plain_keras_model_with_batch_1_calls():
    from sadlib.detectors.lstm_forecast import build_lstm_forecaster

    model = build_lstm_forecaster(12, 3, units=(16, 8), n_outputs=2)
    assert tuple(model.input_shape) == (None, 12, 3) and tuple(model.output_shape) == (None, 2)
    assert [layer.name for layer in model.layers[1:]] == ["lstm_0", "lstm_1", "forecast"]
    assert model.predict_on_batch(np.zeros((1, 12, 3), np.float32)).shape == (1, 2)
    with pytest.raises(ValueError, match="units"):
        build_lstm_forecaster(12, 3, units=16)


@needs_keras
def test_shapes_first_window_and_errors(fitted):
    X = sensors(120, seed=1)
    w = FAST["window"]
    s = fitted.score(X)
    assert s.shape == (120,) and fitted.unscored_rows == w
    assert np.isnan(s[:w]).all() and (s[w:] > 0).all()  # no prediction yet: no score (NaN)
    assert not fitted.predict(X)[:w].any()
    pred = fitted.predict_next(X)
    err = fitted.sensor_errors(X)
    assert pred.shape == err.shape == (120, 3)
    assert np.isnan(pred[:w]).all() and np.isnan(err[:w]).all() and np.isfinite(pred[w:]).all()
    np.testing.assert_allclose(err[w:].mean(axis=1), s[w:])  # normalize=True, aggregate="mean", smooth=1
    raw = fitted.sensor_errors(X, normalized=False)
    np.testing.assert_allclose(raw[w:] / fitted.error_scale_, err[w:])
    # errors are squared errors of the forecast in scaled units
    scaled_diff = (pred[w:] - X.to_numpy()[w:]) / fitted.scaler_.scale_
    np.testing.assert_allclose(raw[w:], scaled_diff**2, rtol=1e-4, atol=1e-8)
    assert fitted.predict(X).dtype == bool
    with pytest.warns(DeprecationWarning, match="use sensor_errors"):
        np.testing.assert_array_equal(fitted.errors(X, normalized=False), raw)  # the old name, a thin alias
    assert fitted.error_scale_.shape == (3,) and fitted.n_epochs_ == len(fitted.history_["loss"])


@needs_keras
def test_context_and_short_inputs(fitted):
    X = sensors(100, seed=2)
    w = FAST["window"]
    np.testing.assert_allclose(fitted.predict_next(X.iloc[40:], context=X.iloc[:40]), fitted.predict_next(X)[40:])
    assert np.isfinite(fitted.sensor_errors(X.iloc[40:], context=X.iloc[40 - w : 40])).all()
    assert np.isnan(fitted.score(X.iloc[:w])).all()  # too short for any forecast: no score, no error
    assert np.isnan(fitted.predict_next(X.iloc[:3])).all()


@needs_keras
def test_deterministic_and_clone(fitted):
    X = sensors()
    again = clone(fitted)
    assert not hasattr(again, "model_") and again.get_params() == fitted.get_params()
    again.fit(X)
    test = sensors(100, seed=1)
    np.testing.assert_allclose(again.score(test), fitted.score(test), rtol=1e-6)
    assert again.threshold_ == pytest.approx(fitted.threshold_, rel=1e-6)


@needs_keras
def test_scaler_on_training_part_and_no_overlap_between_training_and_validation():
    seen = {}

    class Spy(LSTMForecaster):
        def _after_fit(self, train, val):
            seen["train"], seen["val"] = train, val
            return super()._after_fit(train, val)

    n = 200
    X = np.column_stack([np.arange(n, dtype=float), np.sin(np.arange(n) / 4)])  # column 0 = row number
    det = Spy(**FAST, validation=0.25, calibration=0.2).fit(X)
    n_train = n - 40
    np.testing.assert_allclose(det.scaler_.mean_, X[:n_train].mean(axis=0))  # never the calibration tail

    def rows(pairs):
        inputs, targets = pairs
        unscale = lambda a: np.rint(a * det.scaler_.scale_[0] + det.scaler_.mean_[0]).astype(int)
        return set(unscale(inputs[:, :, 0]).ravel()) | set(unscale(targets[:, 0]))

    train_rows, val_rows = rows(seen["train"]), rows(seen["val"])
    assert not train_rows & val_rows
    assert max(train_rows) < min(val_rows) and max(val_rows) < n_train
    assert det.n_fit_rows_ == max(train_rows) + 1 == min(val_rows)
    assert len(seen["val"][0]) == n_train - det.n_fit_rows_ - FAST["window"]


@needs_keras
def test_threshold_changes_without_refit(fitted):
    det = clone(fitted).fit(sensors())
    weights = [w.copy() for w in det.model_.get_weights()]
    s = det.score(sensors(100, seed=1))
    first = det.threshold_
    det.set_threshold(first * 3)
    assert det.threshold_ == first * 3
    det.calibrate(threshold="max")
    assert det.threshold_ == pytest.approx(det.calibration_scores_.max())
    det.calibrate()
    assert det.threshold_ == pytest.approx(first)
    np.testing.assert_array_equal(det.score(sensors(100, seed=1)), s)
    for before, after in zip(weights, det.model_.get_weights()):
        np.testing.assert_array_equal(before, after)


@needs_keras
def test_smoothing_and_aggregate_are_scoring_settings(fitted):
    det = clone(fitted).fit(sensors())
    X = sensors(100, seed=1)
    w = FAST["window"]
    err = det.sensor_errors(X)[w:]
    det.set_params(smooth=3)
    expected = pd.Series(err.mean(axis=1)).rolling(3, min_periods=1).mean().to_numpy()
    np.testing.assert_allclose(det.score(X)[w:], expected)
    det.set_params(smooth=1, aggregate="max")
    np.testing.assert_allclose(det.score(X)[w:], err.max(axis=1))


@needs_keras
def test_target_subset_and_per_sensor_normalisation():
    X = sensors(noisy=10.0)  # sensor c is 10x noisier than a and b
    det = LSTMForecaster(**{**FAST, "epochs": 30, "learning_rate": 1e-2}, target=["a", "c"]).fit(X)
    np.testing.assert_array_equal(det.target_, [0, 2])
    assert tuple(det.model_.output_shape) == (None, 2)
    assert det.predict_next(X).shape == det.sensor_errors(X).shape == (300, 2)
    raw = det.sensor_errors(X.iloc[:240], normalized=False)[FAST["window"]:]
    norm = det.sensor_errors(X.iloc[:240])[FAST["window"]:]
    assert np.median(raw[:, 1]) > 3 * np.median(raw[:, 0])  # unnormalised, the noisy sensor dominates
    assert 0.5 < np.median(norm[:, 1]) / np.median(norm[:, 0]) < 2  # normalised, both weigh the same
    assert LSTMForecaster(**FAST, target=1).fit(X.to_numpy()).target_.tolist() == [1]


@needs_keras
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(window=0), "window"),
        (dict(units=8), "units"),
        (dict(smooth=0), "smooth"),
        (dict(aggregate="median"), "aggregate"),
        (dict(target=["nope"]), "target"),
        (dict(input_noise=-1.0), "input_noise"),
        (dict(validation=1.5), "validation"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        LSTMForecaster(**{**FAST, **params}).fit(sensors())


@needs_keras
def test_bad_input(fitted):
    X = sensors()
    with pytest.raises(ValueError, match="NaN"):
        LSTMForecaster(**FAST).fit(X.assign(a=np.nan))
    with pytest.raises(ValueError, match="rows"):
        LSTMForecaster(**{**FAST, "window": 50}).fit(X.iloc[:100])  # too short for two parts of window + 1 rows
    with pytest.raises(ValueError, match="features"):
        fitted.score(X.to_numpy()[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict_next(X.assign(b=np.nan))
    with pytest.raises(ValueError, match="columns"):
        fitted.sensor_errors(X[["b", "a", "c"]])
    with pytest.raises(NotFittedError):
        LSTMForecaster(**FAST).predict_next(X)


# --------------------------------------------------------------------------- #
# DBSCAN on errors
# --------------------------------------------------------------------------- #
@pytest.fixture
def errors_with_outliers():
    rng = np.random.default_rng(0)
    normal = rng.chisquare(1, 300) * 0.01  # squared errors of normal data
    test = np.concatenate([rng.chisquare(1, 200) * 0.01, [2.0, 3.5, 5.0]])
    return normal, test


def test_k_distance(errors_with_outliers):
    normal, _ = errors_with_outliers
    d = k_distance(normal, 5)
    assert d.shape == (300,) and (np.diff(d) >= 0).all()
    assert (k_distance(normal, 1) == 0).all()
    np.testing.assert_allclose(k_distance([0.0, 1.0, 3.0], 2), [1.0, 1.0, 2.0])
    # a point is a DBSCAN core point exactly when its k-distance <= eps
    eps = float(np.median(d))
    n_core = len(DBSCAN(eps=eps, min_samples=5).fit(normal.reshape(-1, 1)).core_sample_indices_)
    assert n_core == int((d <= eps).sum())
    with pytest.raises(ValueError, match="larger than"):
        k_distance([1.0, 2.0], 5)


def test_suggest_eps(errors_with_outliers):
    normal, _ = errors_with_outliers
    d = k_distance(normal, 5)
    knee = suggest_eps(normal, 5, method="knee")
    assert d[0] < knee < d[-1]
    assert suggest_eps(normal, 5) == pytest.approx(np.quantile(d, 0.99))
    assert suggest_eps(normal, 5, method="quantile", q=0.9) == pytest.approx(np.quantile(d, 0.9))
    assert suggest_eps(normal, 5, method="quantile", q=1.0) == pytest.approx(d[-1])
    # the knee of a flat-then-steep curve sits where it turns
    errors = np.r_[np.linspace(0, 1, 100), [3, 6, 10, 20]]
    assert suggest_eps(errors, 2, method="knee") == pytest.approx(1 / 99, rel=0.01)
    with pytest.raises(ValueError, match="method"):
        suggest_eps(normal, 5, method="elbow")


def test_dbscan_outliers(errors_with_outliers):
    normal, test = errors_with_outliers
    eps = suggest_eps(normal, 5, method="quantile", q=1.0)
    out = dbscan_outliers(test, eps, 5)
    assert out.dtype == bool and out.shape == (203,)
    inductive = dbscan_outliers(test, eps, 5, reference=normal)
    for flagged in (out, inductive):
        assert flagged[200:].all()  # the three obvious outliers
        assert flagged[:200].sum() <= 2  # and at most a couple of isolated values of the normal (chi-square) tail
    assert dbscan_outliers(np.column_stack([test, test]), eps, 5)[200:].all()  # per-sensor errors (n, d)


def test_transductive_dbscan_misses_a_dense_run_of_anomalies(errors_with_outliers):
    normal, _ = errors_with_outliers
    test = np.concatenate([normal[:200], np.full(30, 3.0) + np.linspace(0, 0.01, 30)])  # a long anomaly
    eps = suggest_eps(normal, 5, method="quantile", q=0.99)
    assert not dbscan_outliers(test, eps, 5)[200:].any()  # its errors form a cluster of their own
    assert dbscan_outliers(test, eps, 5, reference=normal)[200:].all()  # judged against normal errors: flagged


def test_dbscan_bad_input(errors_with_outliers):
    normal, test = errors_with_outliers
    with pytest.raises(ValueError, match="window"):
        dbscan_outliers(np.r_[np.nan, test], 0.1)
    with pytest.raises(ValueError, match="eps"):
        dbscan_outliers(test, 0.0)
    with pytest.raises(ValueError, match="core point"):
        dbscan_outliers(test, 1e-12, 5, reference=np.arange(10.0))
    with pytest.raises(ValueError, match="columns"):
        dbscan_outliers(test, 0.1, reference=np.ones((10, 2)))


@needs_keras
def test_toy_small_course_pipeline_beats_the_tutorial_dbscan():
    """A small, fast version of notebook 05's comparison (the full one: F1 about 0.9, see the report).

    Fit on rows 0-749 (the last 20 % of them calibrate the threshold), score the whole
    series causally and evaluate on the test part, rows 750-999, with the burst at 800-849.
    """
    df = make_forecast_toy(seed=0)
    X, y = df[["value"]], df["anomaly"].to_numpy()
    det = LSTMForecaster(window=20, units=(32,), batch_size=64, learning_rate=5e-3, epochs=30, input_noise=0.3,
                         smooth=3, threshold="max", random_state=0).fit(X.iloc[:750])
    course = metrics.point_metrics(y[750:], det.predict(X)[750:])["f1"]
    # the tutorial's rule on the same model: DBSCAN(eps=0.1, min_samples=5) on raw squared errors of the test part
    raw = (det.predict_next(X)[750:, 0] - X["value"].to_numpy()[750:]) ** 2
    tutorial = metrics.point_metrics(y[750:], dbscan_outliers(raw, 0.1, 5))["f1"]
    val = det.calibration_scores_
    eps = suggest_eps(val, 10, method="quantile", q=0.99)
    dbscan = metrics.point_metrics(y[750:], dbscan_outliers(det.score(X)[750:], eps, 10, reference=val))["f1"]
    assert course > 0.75 and dbscan > 0.75
    assert tutorial < course - 0.2


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_runs_on_the_jax_backend():
    code = (
        "import numpy as np, keras\n"
        "from sadlib import detectors\n"
        "assert keras.backend.backend() == 'jax'\n"
        "X = np.random.default_rng(0).normal(size=(300, 2))\n"
        "det = detectors.make('lstm_forecast', window=8, epochs=2, units=(8,)).fit(X)\n"
        "print(det.score(X).shape)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "(300,)"
