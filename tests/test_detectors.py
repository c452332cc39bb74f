import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib import detectors
from sadlib.detectors import RollingZScore


def normal_data(n=600, f=3, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="1min")
    return pd.DataFrame(rng.normal(size=(n, f)), index=idx, columns=[f"s{i}" for i in range(f)])


def test_registry_make_and_unknown_name():
    assert "zscore" in detectors.available()
    det = detectors.make("zscore", window=30)
    assert isinstance(det, RollingZScore) and det.window == 30
    with pytest.raises(ValueError, match="Did you mean 'zscore'"):
        detectors.make("zscor")


def test_fit_score_predict_shapes_and_fitted_attributes():
    X = normal_data()
    det = detectors.make("zscore", window=50).fit(X)
    assert det.n_features_in_ == 3
    assert list(det.feature_names_in_) == ["s0", "s1", "s2"]
    assert len(det.train_scores_) == 480 and len(det.calibration_scores_) == 120
    s = det.score(X)
    assert s.shape == (600,) and np.all(s >= 0)
    assert det.predict(X).dtype == bool
    # the threshold is the 99th percentile of held-out scores: about 1 % of them exceed it
    assert np.mean(det.calibration_scores_ > det.threshold_) <= 0.02


def test_detects_a_spike_and_a_shift():
    X = normal_data(seed=1)
    det = RollingZScore(window=50).fit(X.iloc[:400])
    test = X.iloc[400:].copy()
    test.iloc[100, 1] += 12.0
    alarms = det.predict(test)
    assert alarms[100]
    assert alarms.sum() < 10


def test_threshold_changes_without_refit():
    X = normal_data()
    det = RollingZScore(window=50).fit(X)
    mean_before = det.mean_.copy()
    det.calibrate(threshold="max")
    assert det.threshold_ == pytest.approx(det.calibration_scores_.max())
    det.set_threshold(100.0)
    assert det.threshold_ == 100.0 and not det.predict(X).any()
    np.testing.assert_array_equal(det.mean_, mean_before)


def test_past_only_window_does_not_see_the_present():
    # a spike must not raise the statistics it is compared against
    x = np.zeros(300)
    x += np.random.default_rng(0).normal(scale=0.1, size=300)
    det = RollingZScore(window=20).fit(x[:200])
    spiked = x[200:].copy()
    spiked[50] = 5.0
    past = det.score(spiked)[50]
    centred = clone(det).set_params(center=True).fit(x[:200]).score(spiked)[50]
    assert past > 2 * centred


def test_static_zscore_uses_training_statistics():
    X = np.column_stack([np.linspace(0, 1, 100), np.linspace(5, 7, 100)])
    det = RollingZScore(window=None, calibration=0).fit(X)
    expected = np.max(np.abs((X - X.mean(0)) / X.std(0)), axis=1)
    np.testing.assert_allclose(det.score(X), expected)


def test_clone_gives_an_unfitted_copy():
    det = RollingZScore(window=30).fit(normal_data())
    fresh = clone(det)
    assert fresh.window == 30
    with pytest.raises(NotFittedError, match="call fit"):
        fresh.score(normal_data())


@pytest.mark.parametrize(
    "X, err, match",
    [
        (np.array([[1.0, np.nan]] * 50), ValueError, "NaN"),
        (np.empty((0, 2)), ValueError, "empty"),
        (np.zeros((10, 2, 2)), ValueError, "expected 2-D"),
        (np.array([["a", "b"]] * 50), TypeError, "expected numbers"),
        (np.ones((1, 2)), ValueError, "at least 2"),
        (pd.DataFrame({"a": np.arange(50.0), "b": np.ones(50)}), ValueError, "constant column.*'b'"),
        (pd.DataFrame({"a": np.arange(50.0), "s": ["x"] * 50}), TypeError, "non-numeric columns"),
    ],
)
def test_fit_rejects_bad_input(X, err, match):
    with pytest.raises(err, match=match):
        RollingZScore(window=5).fit(X)


def test_fit_rejects_unsorted_timestamps():
    X = normal_data().iloc[::-1]
    with pytest.raises(ValueError, match="not sorted"):
        RollingZScore().fit(X)


def test_too_little_data_for_calibration():
    with pytest.raises(ValueError, match="too few to fit"):
        RollingZScore(window=5).fit(np.random.default_rng(0).normal(size=(4, 1)))


def test_score_checks_columns_against_fit():
    X = normal_data()
    det = RollingZScore(window=20).fit(X)
    with pytest.raises(ValueError, match="2 features but the detector was fitted with 3"):
        det.score(X.iloc[:, :2].to_numpy())
    with pytest.raises(ValueError, match="select and order the columns"):
        det.score(X[["s2", "s1", "s0"]])


def test_bad_parameters():
    X = normal_data()
    with pytest.raises(ValueError, match="window must be"):
        RollingZScore(window=1).fit(X)
    with pytest.raises(ValueError, match="calibration must be"):
        RollingZScore(calibration=1.0).fit(X)
    with pytest.raises(ValueError, match="aggregate must be"):
        RollingZScore(aggregate="median").fit(X)


def test_input_is_not_modified():
    X = normal_data()
    before = X.copy()
    RollingZScore(window=20).fit(X).score(X)
    pd.testing.assert_frame_equal(X, before)
