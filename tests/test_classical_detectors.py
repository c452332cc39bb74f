"""Robust z-score, EWMA chart, isolation forest and one-class SVM (the classical detectors)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib import detectors, metrics, signals
from sadlib.detectors import (
    EWMAChart,
    IsolationForestDetector,
    OneClassSVMDetector,
    RobustZScore,
    RollingZScore,
    WindowedDetector,
)
from sadlib.detectors.windowed import window_features

CLASSES = {
    "robust_z": RobustZScore,
    "ewma": EWMAChart,
    "iforest": IsolationForestDetector,
    "ocsvm": OneClassSVMDetector,
}
NAMES = list(CLASSES)
WINDOWED = ["iforest", "ocsvm"]


def gaussian(n=600, f=3, seed=0, start="2024-01-01"):
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq="1min")
    return pd.DataFrame(rng.normal(size=(n, f)), index=idx, columns=[f"s{i}" for i in range(f)])


@pytest.fixture(scope="module")
def shifted():
    """600 normal training rows; 600 test rows with a level shift of 8 std in s1 at rows 300-329."""
    train = gaussian(seed=1)
    test = gaussian(seed=2, start="2024-01-02")
    test.iloc[300:330, 1] += 8.0
    truth = np.zeros(len(test), dtype=bool)
    truth[300:330] = True
    return train, test, truth


# ------------------------------------------------------------------ common behaviour
@pytest.mark.parametrize("name", NAMES)
def test_registry_make(name):
    assert name in detectors.available()
    det = detectors.make(name)
    assert type(det) is CLASSES[name]
    assert isinstance(det, detectors.Detector)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_fitted_attributes(name):
    X = gaussian()
    det = detectors.make(name).fit(X)
    assert det.n_features_in_ == 3 and list(det.feature_names_in_) == ["s0", "s1", "s2"]
    assert det.train_scores_.shape == (480,) and det.calibration_scores_.shape == (120,)
    for n in (600, 37):
        s = det.score(X.iloc[:n])
        k = det.unscored_rows  # window - 1: no score (NaN)
        assert s.shape == (n,) and np.isnan(s[:k]).all() and np.isfinite(s[k:]).all()
        assert not det.predict(X.iloc[:n])[:k].any()
        assert det.predict(X.iloc[:n]).shape == (n,) and det.predict(X.iloc[:n]).dtype == bool
    assert np.mean(det.calibration_scores_ > det.threshold_) <= 0.02


@pytest.mark.parametrize("name", NAMES)
def test_detects_an_injected_level_shift(name, shifted):
    train, test, truth = shifted
    det = detectors.make(name).fit(train)
    s = det.score(test)
    assert metrics.roc_auc(truth, s) > 0.9  # scale-free: iforest scores live in (0, 1)
    assert np.median(s[truth]) > np.nanpercentile(s[~truth], 95)  # NaN: the first window - 1 rows
    alarms = det.predict(test)
    assert alarms[truth].sum() >= 15  # at least half of the 30 anomalous samples
    # few false alarms, not counting the 30 samples after the shift, where memory
    # (rolling windows, the EWMA, windows overlapping the event) still sees it
    normal = np.ones(len(test), dtype=bool)
    normal[300:360] = False
    assert alarms[normal].mean() <= 0.05


# A forest on flattened windows dilutes a one-value spike: the spiked feature is one of
# window * n_features = 30 that the trees split on at random. Point-wise it is isolated at once.
SPIKE_PARAMS = {"iforest": {"window": 1}}


@pytest.mark.parametrize("name", NAMES)
def test_detects_a_spike(name):
    train, test = gaussian(seed=3), gaussian(seed=4, start="2024-01-02")
    test.iloc[200, 2] += 15.0
    alarms = detectors.make(name, **SPIKE_PARAMS.get(name, {})).fit(train).predict(test)
    assert alarms[200]
    normal = np.ones(len(test), dtype=bool)
    normal[200:230] = False  # the EWMA and windows remember the spike for a while
    assert alarms[normal].mean() <= 0.05


@pytest.mark.parametrize("name", NAMES)
def test_threshold_changes_without_refit(name):
    X = gaussian()
    det = detectors.make(name).fit(X)
    before = det.score(X)
    det.calibrate(threshold="max")
    assert det.threshold_ == pytest.approx(det.calibration_scores_.max())
    det.calibrate(det.score(gaussian(seed=5)), threshold=("percentile", {"q": 90}))
    assert det.threshold_ < det.calibration_scores_.max()
    det.set_threshold(1e9)
    assert det.threshold_ == 1e9 and not det.predict(X).any()
    np.testing.assert_array_equal(det.score(X), before)


@pytest.mark.parametrize("name", NAMES)
def test_clone_gives_an_unfitted_copy(name):
    det = detectors.make(name, threshold="max").fit(gaussian())
    fresh = clone(det)
    assert fresh.get_params() == det.get_params()
    with pytest.raises(NotFittedError, match="call fit"):
        fresh.score(gaussian())
    np.testing.assert_array_equal(fresh.fit(gaussian()).score(gaussian()), det.score(gaussian()))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_scores(name):
    X, T = gaussian(seed=6), gaussian(seed=7)
    a = detectors.make(name).fit(X).score(T)
    b = detectors.make(name).fit(X).score(T)
    np.testing.assert_array_equal(a, b)


def test_iforest_random_state_matters():
    X, T = gaussian(seed=6), gaussian(seed=7)
    a = IsolationForestDetector(random_state=1).fit(X).score(T)
    b = IsolationForestDetector(random_state=1).fit(X).score(T)
    c = IsolationForestDetector(random_state=2).fit(X).score(T)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input(name):
    X = gaussian()
    det = detectors.make(name)
    nan = X.copy()
    nan.iloc[10, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.fit(nan)
    det.fit(X)
    with pytest.raises(ValueError, match="NaN"):
        det.score(nan)
    with pytest.raises(ValueError, match="2 features but the detector was fitted with 3"):
        det.score(X.iloc[:, :2].to_numpy())
    with pytest.raises(ValueError, match="select and order the columns"):
        det.score(X[["s2", "s1", "s0"]])
    const = X.assign(s1=1.0)
    with pytest.raises(ValueError, match="constant column.*'s1'"):
        detectors.make(name).fit(const)
    with pytest.raises(ValueError, match="too few to fit|at least"):
        detectors.make(name).fit(X.iloc[:4])


@pytest.mark.parametrize("name", NAMES)
def test_input_is_not_modified(name):
    X = gaussian()
    before = X.copy()
    detectors.make(name).fit(X).score(X)
    pd.testing.assert_frame_equal(X, before)


BAD_PARAMS = [
    ("robust_z", {"window": 1}, "window must be"),
    ("robust_z", {"window": 2.5}, "window must be"),
    ("robust_z", {"min_scale": 0}, "min_scale must be"),
    ("robust_z", {"aggregate": "median"}, "aggregate must be"),
    ("ewma", {"lam": 0}, "lam must be"),
    ("ewma", {"lam": 1.5}, "lam must be"),
    ("ewma", {"lam": "0.1"}, "lam must be"),
    ("iforest", {"window": 0}, "window must be"),
    ("iforest", {"window": 3.0}, "window must be"),
    ("iforest", {"aggregate": "first"}, "aggregate must be"),
    ("iforest", {"n_estimators": 0}, "n_estimators must be"),
    ("iforest", {"max_samples": 1.5}, "max_samples must be"),
    ("iforest", {"max_samples": "all"}, "max_samples must be"),
    ("ocsvm", {"window": -1}, "window must be"),
    ("ocsvm", {"nu": 0}, "nu must be"),
    ("ocsvm", {"nu": 2}, "nu must be"),
    ("ocsvm", {"gamma": -1.0}, "gamma must be"),
    ("ocsvm", {"gamma": "wide"}, "gamma must be"),
    ("ocsvm", {"max_train": 1}, "max_train must be"),
    ("ocsvm", {"calibration": 1.0}, "calibration must be"),
]


@pytest.mark.parametrize("name, params, match", BAD_PARAMS)
def test_bad_parameters(name, params, match):
    det = detectors.make(name, **params)  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        det.fit(gaussian())


def test_works_on_the_synthetic_pump_data():
    data, _ = signals.generate(2, anomalies=["level_shift", "spike"], seed=0)
    X = data[list(signals.SENSORS)]
    n_clean = len(X) // 2
    for name in NAMES:
        det = detectors.make(name).fit(X.iloc[:n_clean])
        s = det.score(X.iloc[n_clean:])
        assert s.shape == (len(X) - n_clean,) and np.isfinite(s[det.unscored_rows:]).all()


# ------------------------------------------------------------------ robust z-score
def test_robust_statistics_barely_move_with_training_outliers():
    X = gaussian(n=500, f=2, seed=8).to_numpy()
    dirty = X.copy()
    dirty[[50, 120, 200, 310, 420], 0] += 40.0
    robust = [RobustZScore(window=None, calibration=0).fit(d) for d in (X, dirty)]
    plain = [RollingZScore(window=None, calibration=0).fit(d) for d in (X, dirty)]
    assert abs(robust[1].median_[0] - robust[0].median_[0]) < 0.05
    assert robust[1].scale_[0] / robust[0].scale_[0] < 1.05
    assert abs(plain[1].mean_[0] - plain[0].mean_[0]) > 0.3
    assert plain[1].scale_[0] / plain[0].scale_[0] > 1.5
    # so the robust score of a 4-sigma point stays high, the plain one is masked
    point = np.array([[4.0, 0.0]])
    assert robust[1].score(point)[0] > 3.5 > plain[1].score(point)[0]


def test_robust_scale_estimates_the_std_of_gaussian_data():
    X = np.random.default_rng(9).normal(0.0, 2.0, size=(20000, 1))
    det = RobustZScore(window=None, calibration=0).fit(X)
    assert det.scale_[0] == pytest.approx(2.0, rel=0.03)
    assert not det.mad_fallback_.any()


def test_static_robust_z_formula():
    X = gaussian(n=200, f=2, seed=10).to_numpy()
    det = RobustZScore(window=None, calibration=0).fit(X)
    med = np.median(X, axis=0)
    scale = 1.4826 * np.median(np.abs(X - med), axis=0)
    np.testing.assert_allclose(det.score(X), np.max(np.abs(X - med) / scale, axis=1))


def test_rolling_robust_z_uses_only_the_past_window():
    X = gaussian(n=300, f=2, seed=11).to_numpy()
    w = 20
    det = RobustZScore(window=w, min_scale=1e-9, calibration=0).fit(X)
    s = det.score(X)
    for t in (w, 57, 299):
        past = X[t - w : t]
        med = np.median(past, axis=0)
        scale = 1.4826 * np.median(np.abs(past - med), axis=0)
        assert s[t] == pytest.approx(np.max(np.abs(X[t] - med) / scale))
    # before the window has filled: training statistics
    np.testing.assert_allclose(s[:w], np.max(np.abs(X[:w] - det.median_) / det.scale_, axis=1))
    # a spike does not raise the statistics it is compared against
    spiked = X.copy()
    spiked[100, 0] += 10.0
    assert det.score(spiked)[100] > 8


def test_mad_fallback_for_a_sensor_that_mostly_sits_on_one_value():
    rng = np.random.default_rng(12)
    X = np.column_stack([rng.normal(size=400), np.where(rng.random(400) < 0.1, rng.normal(size=400), 0.0)])
    det = RobustZScore(calibration=0.2).fit(X)
    assert det.mad_fallback_.tolist() == [False, True]
    assert np.all(det.scale_ > 0) and np.isfinite(det.score(X)).all()


# ------------------------------------------------------------------ EWMA chart
def _standardised(n=2000, f=2, seed=13):
    X = np.random.default_rng(seed).normal(size=(n, f))
    return (X - X.mean(0)) / X.std(0)  # training mean 0, std 1 exactly


@pytest.mark.parametrize("lam", [0.05, 0.1, 0.3, 1.0])
def test_ewma_matches_the_recursion(lam):
    X = _standardised()
    det = EWMAChart(lam=lam, calibration=0).fit(X)
    T = np.random.default_rng(14).normal(size=(100, 2))
    z = np.zeros(2)
    expected = []
    for row in T:
        z = lam * row + (1 - lam) * z
        expected.append(np.abs(z).max() / np.sqrt(lam / (2 - lam)))
    np.testing.assert_allclose(det.score(T), expected, rtol=1e-10)
    # every scored series starts at z = 0
    assert det.score(T[50:])[0] == pytest.approx(np.abs(lam * T[50]).max() / det.sigma_factor_)


@pytest.mark.parametrize("lam, delta", [(0.1, 1.0), (0.2, 0.5), (0.05, 2.0)])
def test_ewma_steady_state_on_a_step(lam, delta):
    det = EWMAChart(lam=lam, calibration=0).fit(_standardised())
    step = np.zeros((600, 2))
    step[100:, 1] = delta  # a step of delta training stds in sensor 1
    s = det.score(step)
    assert s[-1] == pytest.approx(delta / np.sqrt(lam / (2 - lam)), rel=1e-6)
    assert np.all(np.diff(s[100:]) >= 0)  # approaches it monotonically
    # the same holds on average with noise on top of the step
    noisy = step + np.random.default_rng(15).normal(size=step.shape) * [0.0, 1.0]
    z_late = det.score(noisy)[300:]
    assert z_late.mean() == pytest.approx(delta / np.sqrt(lam / (2 - lam)), rel=0.15)


def test_ewma_in_control_score_is_standardised():
    det = EWMAChart(lam=0.1, calibration=0).fit(_standardised(f=1))
    s = det.score(np.random.default_rng(16).normal(size=(200000, 1)))
    assert s[100:].std() < s[100:].max()  # sanity
    assert np.sqrt(np.mean(s[100:] ** 2)) == pytest.approx(1.0, rel=0.05)  # |z| / sigma_z has RMS 1
    # textbook control limit L = 3: the in-control alarm rate of a two-sided chart is small
    assert np.mean(s[100:] > 3.0) < 0.01


def test_ewma_catches_a_small_shift_the_zscore_misses():
    train = gaussian(n=1000, f=1, seed=17)
    test = gaussian(n=600, f=1, seed=18, start="2024-01-02")
    test.iloc[300:, 0] += 1.0  # one std: invisible sample by sample
    truth = np.arange(600) >= 300
    ewma = EWMAChart(threshold="max").fit(train).predict(test)
    z = RollingZScore(window=None, threshold="max").fit(train).predict(test)
    assert ewma[truth].mean() > 0.5 > 0.1 > z[truth].mean()


# ------------------------------------------------------------------ windowed detectors
def test_window_features_shape_and_order():
    X = np.arange(12.0).reshape(6, 2)
    F = window_features(X, 3)
    assert F.shape == (4, 6)
    np.testing.assert_array_equal(F[0], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(F[-1], X[3:].ravel())
    np.testing.assert_array_equal(window_features(X, 1), X)
    with pytest.raises(ValueError, match="window needs 7"):
        window_features(X, 7)


@pytest.mark.parametrize("name", WINDOWED)
def test_windowed_short_series_errors(name):
    det = detectors.make(name, window=20)
    assert isinstance(det, WindowedDetector) and det.min_samples == 21
    with pytest.raises(ValueError, match="at least 21"):
        det.fit(gaussian(n=15))
    det.fit(gaussian())
    with pytest.raises(ValueError, match="12 samples but the window needs 20"):
        det.score(gaussian(n=12))
    assert det.score(gaussian(n=20)).shape == (20,)


@pytest.mark.parametrize("name", WINDOWED)
def test_windowed_aggregate_and_pointwise(name):
    X, T = gaussian(seed=19), gaussian(seed=20)
    last = detectors.make(name, window=5).fit(X)
    s_last = last.score(T)
    # the first window-1 samples have no score (NaN, under every aggregate); later ones their own window
    assert np.isnan(s_last[:4]).all() and np.isfinite(s_last[4:]).all()
    # the last window's score does not depend on the past beyond the window (causal)
    np.testing.assert_allclose(last.score(T.iloc[-5:])[-1], s_last[-1])
    s_max = detectors.make(name, window=5, aggregate="max").fit(X).score(T)
    assert np.isnan(s_max[:4]).all() and np.all(s_max[4:] >= s_last[4:] - 1e-12)  # max over the 5 covering t
    # window=1 is point-wise: scores do not depend on the neighbours
    point = detectors.make(name, window=1).fit(X)
    np.testing.assert_allclose(point.score(T)[100:110], point.score(T.iloc[100:110]))


def test_ocsvm_caps_the_training_windows():
    X = gaussian(n=1000, seed=21)
    det = OneClassSVMDetector(max_train=200).fit(X)
    assert det.n_train_windows_ == 200
    assert OneClassSVMDetector().fit(X).n_train_windows_ == 800 - 10 + 1


def test_windowed_no_feature_name_warnings():
    X = gaussian()
    for cls in (IsolationForestDetector, OneClassSVMDetector):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cls().fit(X).score(X)
