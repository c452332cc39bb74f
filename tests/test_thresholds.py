"""Tests for sadlib.thresholds."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sadlib.thresholds import (
    THRESHOLDS,
    FixedThreshold,
    MaxThreshold,
    MeanStdThreshold,
    NotFittedError,
    PercentileThreshold,
    POTThreshold,
    SPOTThreshold,
    Threshold,
    _fit_gpd,
    _gpd_loglik,
    make_threshold,
)
from sadlib.validation import InvalidParameterError


def test_percentile_known_value():
    thr = PercentileThreshold(q=90).fit(np.arange(101))
    assert thr.threshold_ == pytest.approx(90.0)
    assert thr.n_scores_ == 101
    assert isinstance(thr.threshold_, float)


def test_meanstd_known_value():
    s = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    thr = MeanStdThreshold(k=2).fit(s)
    assert thr.threshold_ == pytest.approx(3.0 + 2 * np.sqrt(2.0))
    assert MeanStdThreshold(k=0).fit(s).threshold_ == pytest.approx(3.0)


def test_max_times_margin_and_strict_inequality():
    s = np.array([0.5, 2.0, 1.0])
    assert MaxThreshold(margin=1.5).fit(s).threshold_ == pytest.approx(3.0)
    thr = MaxThreshold().fit(s)
    assert not thr.apply(s).any()  # score == threshold is normal (strict >)
    np.testing.assert_array_equal(thr.apply([2.0, 2.0001]), [False, True])


def test_fixed_threshold():
    thr = FixedThreshold(2.5).fit()
    assert thr.threshold_ == 2.5 and thr.n_scores_ == 0
    assert FixedThreshold(2.5).fit(np.ones(7)).n_scores_ == 7
    np.testing.assert_array_equal(thr.apply([1, 2.5, 3]), [False, False, True])


def test_apply_shape_and_input_types():
    thr = PercentileThreshold(95).fit(np.random.default_rng(0).normal(size=500))
    out = thr.apply(np.linspace(-3, 3, 40))
    assert out.shape == (40,) and out.dtype == bool
    assert thr.apply(pd.Series(np.zeros(5))).shape == (5,)
    assert thr.apply(np.zeros((6, 1))).shape == (6,)  # a single column is accepted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pot_exponential_matches_true_quantile(seed):
    rng = np.random.default_rng(seed)
    thr = POTThreshold(risk=1e-3).fit(rng.exponential(scale=1.0, size=100_000))
    assert thr.threshold_ == pytest.approx(np.log(1000), rel=0.10)
    assert abs(thr.gpd_shape_) < 0.15  # exponential tail: xi ~ 0
    assert thr.gpd_scale_ == pytest.approx(1.0, rel=0.15)
    assert thr.init_threshold_ == pytest.approx(-np.log(0.02), rel=0.05)
    rate = thr.apply(rng.exponential(size=1_000_000)).mean()
    assert 0.5e-3 < rate < 2e-3


def test_pot_normal_matches_true_quantile():
    rng = np.random.default_rng(3)
    thr = POTThreshold(risk=1e-3, init_level=0.98).fit(rng.normal(size=100_000))
    assert thr.threshold_ == pytest.approx(stats.norm.ppf(1 - 1e-3), rel=0.10)
    assert 0.5e-3 < thr.apply(rng.normal(size=500_000)).mean() < 2e-3


def test_pot_extrapolates_beyond_max():
    s = np.random.default_rng(4).exponential(size=5_000)
    thr = POTThreshold(risk=1e-5, init_level=0.95).fit(s)
    assert thr.threshold_ > s.max()  # a percentile could not go beyond the data


def test_pot_too_few_peaks():
    with pytest.raises(ValueError, match="lower init_level"):
        POTThreshold(init_level=0.98).fit(np.random.default_rng(0).normal(size=200))
    with pytest.raises(ValueError, match="peaks"):
        POTThreshold().fit(np.ones(5000))  # constant scores: no excesses at all


def test_pot_refuses_a_tail_of_ties():
    # issue 25: 1950 zeros, 40 ones, 10 twos put the threshold at 1.90, below the normal maximum, at risk 0.1 %
    s = np.r_[np.zeros(1950), np.ones(40), np.full(10, 2.0)]
    with pytest.raises(ValueError, match=r"10 peaks above the initial threshold t=1 .* only 1 distinct value.*"
                                         r"lower init_level.*MaxThreshold or PercentileThreshold"):
        POTThreshold().fit(s)


def test_pot_stays_at_or_above_the_normal_maximum_when_the_risk_is_below_one_in_n():
    # peaks of three distinct values, one at the top: a tail can be fitted, but its quantile (1.964) falls below
    # the largest score although fewer than one of the 2000 should exceed it
    s = np.r_[np.zeros(1950), np.ones(30), np.full(17, 1.2), np.full(2, 1.5), [2.0]]
    thr = POTThreshold(risk=1e-4).fit(s)
    assert thr.tail_quantile_ == pytest.approx(1.964, abs=1e-3) and thr.calibration_max_ == 2.0
    assert thr.threshold_ == 2.0 and not thr.predict(s).any()
    # with risk >= 1/n the tail quantile stands, even below the maximum
    loose = POTThreshold(risk=1e-3).fit(s)
    assert loose.threshold_ == loose.tail_quantile_
    # SPOT starts from the same threshold and keeps the floor while risk < 1/k
    spot = SPOTThreshold(risk=1e-4).fit(s)
    assert spot.threshold_ == 2.0 and spot.thresholds([1.9, 1.95, 0.0]).min() >= 2.0


@pytest.mark.parametrize("c", [1e-20, 1e-15, 1e-12, 1e-3, 1e3, 1e10, 1e50, 1e200])
def test_pot_threshold_scales_with_the_scores(c):
    # issue 25: threshold / scale was 7.26 from 1e-12 to 1e10, but 25.3 at 1e-15, 49.7 at 1e-20, 9.5e64 at 1e50
    s = np.random.default_rng(0).exponential(size=3000)
    ref = POTThreshold().fit(s)
    thr = POTThreshold().fit(s * c)
    assert thr.threshold_ / c == pytest.approx(ref.threshold_, rel=1e-9)
    assert thr.gpd_shape_ == pytest.approx(ref.gpd_shape_, rel=1e-9, abs=1e-12)
    assert thr.gpd_scale_ / c == pytest.approx(ref.gpd_scale_, rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_gpd_fit_is_the_maximum_likelihood(seed):
    rng = np.random.default_rng(seed)
    y = [rng.exponential(size=300), np.abs(rng.standard_t(3, size=300)), rng.pareto(2.0, size=300),
         rng.beta(2, 5, size=300)][seed % 4] + 1e-9
    xi, sigma = _fit_gpd(y)
    c, _, scale = stats.genpareto.fit(y, floc=0)
    if c > -1:  # the regular region, where the likelihood has a maximum (Grimshaw)
        assert _gpd_loglik(y, xi, sigma) >= _gpd_loglik(y, c, scale) - 1e-6
    # and better than a perturbed fit: a local maximum
    for dxi, ds in [(0.02, 0), (-0.02, 0), (0, 0.02), (0, -0.02)]:
        assert _gpd_loglik(y, xi, sigma) >= _gpd_loglik(y, xi + dxi, sigma * (1 + ds))


def test_a_short_tail_takes_the_boundary_fit():
    # uniform scores: the excesses over t are uniform, the GPD likelihood has no maximum inside (xi < -1 climbs
    # a ridge towards the largest excess); the fit is the boundary xi = -1, sigma = the largest excess
    s = np.random.default_rng(0).uniform(size=5000)
    thr = POTThreshold(risk=1e-3).fit(s)
    excesses = s[s > thr.init_threshold_] - thr.init_threshold_
    assert thr.gpd_shape_ == -1.0 and thr.gpd_scale_ == pytest.approx(excesses.max(), rel=1e-12)
    # z = t + sigma (1 - r): just below the largest score, where a uniform tail ends
    assert thr.init_threshold_ < thr.threshold_ < s.max()
    assert thr.threshold_ == pytest.approx(1 - 1e-3, abs=2e-3)  # the true quantile of U(0, 1)


def test_a_margin_on_a_negative_level_is_refused():
    # issue 25: PercentileThreshold(99, 1.5).fit(-10 + noise) alarmed on 92.5 % of its own normal scores
    s = -10 + np.random.default_rng(0).normal(size=1000)
    with pytest.raises(InvalidParameterError, match=r"margin=1.5 .* negative.*Use margin=1, shift the scores"):
        PercentileThreshold(99, 1.5).fit(s)
    with pytest.raises(InvalidParameterError, match="margin=2 multiplies the maximum"):
        MaxThreshold(2).fit(s)
    assert PercentileThreshold(99).fit(s).predict(s).mean() == pytest.approx(0.01, abs=0.002)  # margin 1: any sign
    assert not MaxThreshold().fit(s).predict(s).any()
    assert PercentileThreshold(99, 1.5).fit(s + 20).threshold_ > 0  # shifted: the margin widens as meant


def test_pot_risk_must_be_below_tail_fraction():
    with pytest.raises(ValueError, match="tail fraction"):
        POTThreshold(risk=0.05, init_level=0.98).fit(np.arange(1000.0))


@pytest.mark.parametrize(
    "thr, match",
    [
        (PercentileThreshold(q=0), "q"),
        (PercentileThreshold(q=101), "q"),
        (MeanStdThreshold(k=-1), "k"),
        (MaxThreshold(margin=0), "margin"),
        (POTThreshold(risk=0), "risk"),
        (POTThreshold(risk=1.5), "risk"),
        (POTThreshold(init_level=1.0), "init_level"),
    ],
)
def test_parameter_ranges_checked_in_fit(thr, match):
    with pytest.raises(ValueError, match=match):
        thr.fit(np.arange(100.0))


def test_parameter_type_error():
    with pytest.raises(TypeError, match="q must be a number"):
        PercentileThreshold(q="99").fit(np.arange(10.0))


@pytest.mark.parametrize(
    "scores, match",
    [
        (np.array([1.0, np.inf]), "infinite"),
        (np.array([]), "empty"),
        (np.zeros((10, 3)), "one score per sample"),
        (np.zeros((4, 3, 2)), "one score per sample"),
    ],
)
def test_bad_scores(scores, match):
    with pytest.raises(ValueError, match=match):
        PercentileThreshold().fit(scores)
    thr = FixedThreshold(1.0).fit()
    with pytest.raises(ValueError, match=match):
        thr.apply(scores)


def test_nan_is_no_score_left_out_of_fit_and_never_an_alarm():
    known = np.random.default_rng(0).exponential(size=2000)
    normal = np.r_[np.full(5, np.nan), known]
    for spec in ("percentile", "meanstd", "max", "pot", "spot", "dspot"):
        thr = make_threshold(spec).fit(normal)
        same = make_threshold(spec).fit(known)
        assert thr.threshold_ == same.threshold_ and thr.n_scores_ == 2000, spec  # as if the NaN were not there
        test = np.array([np.nan, 1e6, np.nan, 0.0])
        np.testing.assert_array_equal(thr.predict(test), [False, True, False, False])
        assert np.isfinite(thr.thresholds(test)).all()
    with pytest.raises(ValueError, match="all NaN"):
        PercentileThreshold().fit([np.nan, np.nan])


def test_not_fitted_error():
    thr = MeanStdThreshold()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        thr.apply([1.0, 2.0])
    assert not hasattr(thr, "threshold_")


def test_repr_readable():
    thr = PercentileThreshold(q=95)
    assert repr(thr) == "PercentileThreshold(q=95, margin=1.0)"
    thr.fit(np.arange(101))
    assert "threshold_=95" in repr(thr)


def test_make_threshold_variants():
    assert isinstance(make_threshold(3.5), FixedThreshold)
    assert make_threshold(3.5).value == 3.5
    assert isinstance(make_threshold("pot"), POTThreshold)
    assert isinstance(make_threshold("MeanStd"), MeanStdThreshold)
    p = make_threshold(("percentile", {"q": 95}))
    assert isinstance(p, PercentileThreshold) and p.q == 95
    m = make_threshold({"name": "meanstd", "k": 4})
    assert isinstance(m, MeanStdThreshold) and m.k == 4
    assert set(THRESHOLDS) == {"percentile", "meanstd", "max", "pot", "spot", "dspot", "fixed"}
    assert all(issubclass(c, Threshold) for c in THRESHOLDS.values())


def test_make_threshold_clones_instances_unfitted():
    fitted = PercentileThreshold(q=80).fit(np.arange(10.0))
    fresh = make_threshold(fitted)
    assert fresh is not fitted and fresh.q == 80
    assert not hasattr(fresh, "threshold_")


def test_make_threshold_errors():
    with pytest.raises(ValueError, match="Unknown threshold"):
        make_threshold("median")
    with pytest.raises(ValueError, match="accepts"):
        make_threshold(("percentile", {"k": 3}))
    with pytest.raises(ValueError, match="accepts"):
        make_threshold("fixed")  # needs a value
    with pytest.raises(TypeError, match="Cannot build a threshold"):
        make_threshold(None)
    # parameter values are checked when the threshold is built, not at the first fit
    with pytest.raises(InvalidParameterError, match="risk must be a number in"):
        make_threshold(("pot", {"risk": 5}))
    with pytest.raises(InvalidParameterError, match="q must be a number"):
        make_threshold({"name": "percentile", "q": "high"})
    with pytest.raises(InvalidParameterError, match="max_peaks must be an integer >= 10"):
        make_threshold(("spot", {"max_peaks": 3}))
    with pytest.raises(TypeError):
        make_threshold(True)


def test_thresholds_are_independent_of_the_model():
    # the (expensive) model produced these scores once; thresholds are swapped freely
    rng = np.random.default_rng(0)
    normal_scores, test_scores = rng.exponential(size=5_000), rng.exponential(size=1_000)
    strict = PercentileThreshold(q=99.9).fit(normal_scores)
    loose = PercentileThreshold(q=90).fit(normal_scores)
    assert loose.apply(test_scores).sum() > strict.apply(test_scores).sum()
    before = strict.threshold_
    loose.fit(normal_scores[:1000])  # refitting one leaves the other untouched
    assert strict.threshold_ == before


def test_detector_with_a_threshold_instance_can_be_cloned():
    """scikit-learn's clone calls get_params(deep=...) on parameters that look like estimators."""
    from sklearn.base import clone

    from sadlib.detectors import RollingZScore

    det = RollingZScore(window=None, threshold=PercentileThreshold(q=95))
    copy = clone(det)
    assert copy.threshold is not det.threshold and copy.threshold.q == 95


def test_thresholds_are_scikit_learn_estimators():
    from sklearn.base import BaseEstimator, clone

    thr = PercentileThreshold(q=95).fit(np.arange(100.0))
    assert isinstance(thr, BaseEstimator)
    twin = clone(thr)
    assert twin.get_params() == {"q": 95, "margin": 1.0} and not hasattr(twin, "threshold_")
    with pytest.raises(ValueError, match="Invalid parameter"):
        thr.set_params(k=3)
