"""Score smoothing (Smoothed), score ensembles (Ensemble) and the SKAB-style threshold."""

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sadlib.detectors import RobustZScore, RollingZScore
from sadlib.detectors.pca import PCADetector
from sadlib.detectors.postprocess import Ensemble, Smoothed, rolling_past
from sadlib.thresholds import PercentileThreshold, make_threshold


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([np.sin(t / 20), np.cos(t / 30), 0.5 * np.sin(t / 7)]) + rng.normal(0, 0.1, (n, 3))
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1s"), columns=["a", "b", "c"])


def static():
    return RobustZScore(window=None, calibration=0)


DETECTORS = {
    "smoothed-mean": lambda: Smoothed(static(), 10),
    "smoothed-min": lambda: Smoothed(static(), 5, statistic="min"),
    "smoothed-default": lambda: Smoothed(),
    "ensemble-mean": lambda: Ensemble([static(), PCADetector(2, calibration=0)]),
    "ensemble-max": lambda: Ensemble([static(), RollingZScore(window=None)], combine="max"),
    "ensemble-default": lambda: Ensemble(),
}


# -- rolling_past ------------------------------------------------------------------------
@pytest.mark.parametrize("stat", ["mean", "median", "min", "max"])
def test_rolling_past_matches_a_loop(stat):
    s = np.random.default_rng(0).normal(size=50)
    ref = np.array([getattr(np, stat)(s[max(0, t - 6) : t + 1]) for t in range(50)])
    np.testing.assert_allclose(rolling_past(s, 7, stat), ref)
    np.testing.assert_array_equal(rolling_past(s, 1, stat), s)


def test_min_is_the_minimum_duration_rule():
    s = np.array([0, 5, 5, 0, 5, 5, 5, 0], dtype=float)
    assert (rolling_past(s, 3, "min") > 1).tolist() == [False] * 6 + [True, False]


def test_rolling_past_rejects_bad_arguments():
    with pytest.raises(ValueError, match="statistic"):
        rolling_past(np.ones(5), 2, "sum")
    with pytest.raises(ValueError, match="window"):
        rolling_past(np.ones(5), 0)


# -- the detector contract, for every configuration ---------------------------------------
@pytest.mark.parametrize("name", DETECTORS)
def test_shapes_clone_and_state_unchanged_by_scoring(name):
    det = DETECTORS[name]().fit(data())
    before = {k: copy.deepcopy(v) for k, v in vars(det).items()
              if k.endswith("_") and isinstance(v, (float, np.ndarray))}
    test = data(300, seed=1)
    test.iloc[100:150, 0] += 3
    s = det.score(test)
    assert s.shape == (300,) and np.isfinite(s).all()
    assert det.predict(test).dtype == bool
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(det, k), v)
    fresh = clone(det)
    assert not hasattr(fresh, "threshold_") and fresh.get_params(deep=False).keys() == det.get_params(deep=False).keys()
    assert fresh.fit(data()).threshold_ == pytest.approx(det.threshold_)


@pytest.mark.parametrize("name", DETECTORS)
def test_threshold_is_calibrated_on_the_held_out_tail_of_the_fit_data(name):
    X = data()
    det = DETECTORS[name]().fit(X)
    n_cal = int(round(len(X) * det.calibration))
    np.testing.assert_allclose(det.calibration_scores_, det.score(X)[-n_cal:])
    assert det.threshold_ == pytest.approx(np.percentile(det.calibration_scores_, 99))
    det.set_threshold(123.0)
    det.calibrate()
    assert det.threshold_ == pytest.approx(np.percentile(det.calibration_scores_, 99))


@pytest.mark.parametrize("name", DETECTORS)
def test_bad_input(name):
    with pytest.raises(ValueError, match="NaN"):
        DETECTORS[name]().fit(data().assign(a=np.nan))
    with pytest.raises(TypeError, match="non-numeric"):
        DETECTORS[name]().fit(data().assign(a="x"))
    det = DETECTORS[name]().fit(data())
    with pytest.raises(ValueError, match="features"):
        det.score(data().to_numpy()[:, :2])


# -- Smoothed ----------------------------------------------------------------------------
def test_smoothed_score_is_the_rolling_mean_of_the_inner_scores():
    X, test = data(), data(200, seed=2)
    det = Smoothed(static(), 8).fit(X)
    np.testing.assert_allclose(det.score(test), rolling_past(det.detector_.score(test), 8))
    assert det.detector_ is not det.detector and not hasattr(det.detector, "median_")  # a fitted clone


@pytest.mark.parametrize("stat", ["mean", "median", "min"])
def test_smoothed_is_causal(stat):
    det = Smoothed(static(), 10, statistic=stat).fit(data())
    test = data(200, seed=3)
    s = det.score(test)
    changed = test.copy()
    changed.iloc[120:] += 50.0  # change the future only
    s2 = det.score(changed)
    np.testing.assert_array_equal(s[:120], s2[:120])
    assert not np.allclose(s[120:], s2[120:])


def test_smoothing_removes_isolated_spikes_but_keeps_a_lasting_shift():
    rng = np.random.default_rng(4)
    X, test = rng.normal(size=(400, 3)), rng.normal(size=(300, 3))
    test[50, 0] += 5  # one spike
    test[200:260, 0] += 3  # a lasting state
    raw = static().fit(X)
    assert raw.predict(test)[50]  # the spike alone alarms without smoothing
    det = Smoothed(static(), 10, threshold="max").fit(X)
    alarms = det.predict(test)
    assert not alarms[45:70].any()
    assert alarms[215:260].mean() > 0.9


def test_smoothed_rejects_bad_parameters():
    with pytest.raises(ValueError, match="window"):
        Smoothed(static(), 0).fit(data())
    with pytest.raises(ValueError, match="statistic"):
        Smoothed(static(), statistic="sum").fit(data())
    with pytest.raises(TypeError, match="Detector"):
        Smoothed("robust_z").fit(data())


# -- Ensemble ----------------------------------------------------------------------------
def test_ensemble_normalises_members_by_their_normal_scores():
    X, test = data(), data(100, seed=5)
    det = Ensemble([static(), PCADetector(2, calibration=0)], combine="mean").fit(X)
    head = X.iloc[: len(X) - int(round(len(X) * det.calibration))]
    ref = []
    for member in (static(), PCADetector(2, calibration=0)):
        m = member.fit(head.to_numpy())
        normal = m.calibration_scores_
        med = np.median(normal)
        ref.append((m.score(test.to_numpy()) - med) / (1.4826 * np.median(np.abs(normal - med))))
    np.testing.assert_allclose(det.member_scores(test), np.column_stack(ref))
    np.testing.assert_allclose(det.score(test), np.mean(ref, axis=0))
    assert np.median(det.member_scores(head), axis=0) == pytest.approx([0, 0], abs=1e-9)


def test_ensemble_rejects_bad_members():
    with pytest.raises(ValueError, match="non-empty list"):
        Ensemble([]).fit(data())
    with pytest.raises(ValueError, match="non-empty list"):
        Ensemble(static()).fit(data())
    with pytest.raises(TypeError, match=r"detectors\[1\]"):
        Ensemble([static(), "pca"]).fit(data())
    with pytest.raises(ValueError, match="combine"):
        Ensemble([static()], combine="sum").fit(data())


# -- PercentileThreshold with a margin -----------------------------------------------------------
def test_scaled_percentile_threshold():
    s = np.arange(101, dtype=float)
    thr = PercentileThreshold(90, margin=1.5).fit(s)
    assert thr.threshold_ == pytest.approx(135.0)
    assert make_threshold(thr).fit(s).threshold_ == pytest.approx(135.0)  # clones with its parameters
    det = clone(RobustZScore(window=None, threshold=PercentileThreshold(99, margin=1.5))).fit(data())
    assert det.threshold_ == pytest.approx(1.5 * np.percentile(det.calibration_scores_, 99))
    with pytest.raises(ValueError, match="margin"):
        PercentileThreshold(99, margin=0).fit(s)
    with pytest.raises(ValueError, match="q"):
        PercentileThreshold(0, margin=1.5).fit(s)
