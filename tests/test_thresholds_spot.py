"""Tests for the adaptive thresholds SPOT and DSPOT (Siffer et al., KDD 2017) in sadlib.thresholds."""

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone

from sadlib.thresholds import (
    DSPOTThreshold,
    NotFittedError,
    PercentileThreshold,
    POTThreshold,
    SPOTStream,
    SPOTThreshold,
    make_threshold,
)
from sadlib.validation import InvalidParameterError


def _paper(calib, scores, *, risk, init_level, depth=None):
    """Algorithms 2 (SPOT) and 4 (DSPOT) of the paper, transcribed step by step: (alarms, thresholds).

    An independent reading of the paper to hold the library to: the anomaly is
    not learned from, ``k`` grows on peaks and on normal values, the GPD is refitted
    (scipy's maximum likelihood, location 0) on every new peak, ``t`` never moves
    and DSPOT's window takes every value that is not an anomaly.
    """
    def gpd(y):
        xi, _, sigma = stats.genpareto.fit(np.asarray(y), floc=0)
        return xi, sigma

    def calc_threshold(t, xi, sigma, k, n_t):
        r = risk * k / n_t
        return t - sigma * math.log(r) if abs(xi) < 1e-8 else t + sigma / xi * (r ** (-xi) - 1)

    if depth is None:
        x_init, window = list(calib), None
    else:
        window, x_init = list(calib[:depth]), []
        for x in calib[depth:]:
            x_init.append(x - math.fsum(window) / depth)
            window = window[1:] + [x]
    t = float(np.quantile(x_init, init_level))
    peaks = [x - t for x in x_init if x > t]
    k = len(x_init)
    xi, sigma = gpd(peaks)
    z = calc_threshold(t, xi, sigma, k, len(peaks))
    alarms, thresholds = [], []
    for x in scores:
        m = 0.0 if window is None else math.fsum(window) / depth
        thresholds.append(m + z)
        x_rel = x - m
        if x_rel > z:
            alarms.append(True)
            continue
        alarms.append(False)
        k += 1
        if x_rel > t:
            peaks.append(x_rel - t)
            xi, sigma = gpd(peaks)
            z = calc_threshold(t, xi, sigma, k, len(peaks))
        if window is not None:
            window = window[1:] + [x]
    return np.array(alarms), np.array(thresholds)


def _dyadic(x):
    """Round to multiples of 1/1024: sums of a few of them are exact, so any summation order gives the same mean."""
    return np.round(np.asarray(x) * 1024) / 1024


def _with_bursts(rng, n):
    """Exponential scores with three bursts of large values (alarms) and a stretch of heavier tail (peaks)."""
    s = rng.exponential(size=n)
    s[n // 3: n // 3 + 5] += 20
    s[n // 2: n // 2 + 200] *= 1.8
    s[-20:-15] += 30
    return s


# --------------------------------------------------------------------------- #
# parameters and errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "thr, match",
    [
        (SPOTThreshold(risk=0), "risk must be a number in \\(0, 1\\)"),
        (SPOTThreshold(risk=1.5), "risk must be"),
        (SPOTThreshold(risk=np.nan), "risk must be"),
        (SPOTThreshold(init_level=1.0), "init_level must be"),
        (SPOTThreshold(min_peaks=1), "min_peaks must be an integer >= 2"),
        (SPOTThreshold(min_peaks=10.0), "min_peaks must be an integer"),
        (SPOTThreshold(risk=0.05, init_level=0.98), "tail fraction"),
        (DSPOTThreshold(depth=0), "depth must be an integer >= 1, got 0"),
        (DSPOTThreshold(depth=True), "depth must be an integer"),
        (DSPOTThreshold(depth=2.5), "depth must be an integer"),
        (DSPOTThreshold(risk=-1e-3), "risk must be"),
    ],
)
def test_bad_parameters_are_named_before_the_data_is_read(thr, match):
    with pytest.raises(InvalidParameterError, match=match):
        thr.fit(np.arange(1000.0))
    with pytest.raises(InvalidParameterError, match=match):
        thr.fit("not even scores")  # the parameter is reported, not the data


def test_hints_say_what_the_parameter_means():
    with pytest.raises(ValueError, match="probability that a normal score exceeds"):
        SPOTThreshold(risk=2).fit(np.arange(100.0))
    with pytest.raises(ValueError, match="recent normal scores"):
        DSPOTThreshold(depth=-3).fit(np.arange(100.0))


def test_too_few_peaks_is_a_clear_error():
    with pytest.raises(ValueError, match=r"SPOT found only 4 peaks .* needs at least 10 .* lower init_level"):
        SPOTThreshold().fit(np.random.default_rng(0).normal(size=200))
    with pytest.raises(ValueError, match="DSPOT found only 0 peaks"):
        DSPOTThreshold(depth=5).fit(np.ones(3000))  # constant: the residuals have no tail
    with pytest.raises(ValueError, match=r"needs more than depth=50 normal scores.*got 50"):
        DSPOTThreshold(depth=50).fit(np.arange(50.0))


def test_not_fitted_errors_name_the_method():
    for method in ("predict", "thresholds", "stream", "apply"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            args = () if method == "stream" else ([1.0, 2.0],)
            getattr(DSPOTThreshold(), method)(*args)


@pytest.mark.parametrize("bad, match", [([1.0, np.inf], "infinite"), ([], "empty"), (np.zeros((5, 2)), "one score")])
def test_bad_scores(bad, match):
    thr = SPOTThreshold().fit(np.random.default_rng(0).exponential(size=2000))
    with pytest.raises(ValueError, match=match):
        thr.predict(bad)
    with pytest.raises(ValueError, match=match):
        thr.thresholds(bad)


def test_stream_skips_a_missing_score_and_rejects_a_non_numeric_one():
    thr = SPOTThreshold().fit(np.random.default_rng(0).exponential(size=2000))
    st = thr.stream()
    before = (st.threshold, st.n_peaks)
    assert st.update(float("nan")) is False  # no score: no alarm, nothing learned
    assert (st.threshold, st.n_peaks, st.n_seen, st.n_alarms) == (*before, 1, 0)
    with pytest.raises(TypeError, match="score must be"):
        st.update("3.2")
    assert st.n_seen == 1  # a rejected score is not counted
    scores = np.r_[np.nan, np.random.default_rng(1).exponential(size=50) * 3, np.nan]
    np.testing.assert_array_equal(thr.predict(scores)[1:-1], thr.predict(scores[1:-1]))
    assert not thr.predict(scores)[[0, -1]].any()


@pytest.mark.parametrize("make", [SPOTThreshold, lambda: DSPOTThreshold(depth=5)])
def test_batch_and_stream_accept_and_refuse_the_same_scores(make):
    thr = make().fit(np.random.default_rng(0).exponential(size=2000))
    accepted = [1, 2.5, np.float32(2.0), np.float16(1.0), np.int64(3), np.uint8(1), np.array(2.0), np.array(3)]
    refused = [True, np.True_, "3", b"1", None, float("inf"), -np.inf, 1e308 * 10, complex(1, 0),
               Fraction(1, 2), Decimal("1.5"), np.datetime64("2020-01-01"), np.array(True),
               np.array(1.0, dtype=object)]
    for score in accepted:
        alarm = thr.stream().update(score)
        assert [alarm] == thr.predict([score]).tolist()
    for score in refused:
        with pytest.raises((ValueError, TypeError), match="scores|score must be") as batch:
            thr.predict([score])
        with pytest.raises(ValueError, match="score must be") as stream:
            thr.stream().update(score)
        # both name the fix: what to pass instead
        assert any(w in str(batch.value) for w in ("Convert", "Fill", "Pass")), str(batch.value)
        assert any(w in str(stream.value) for w in ("convert", "fill", "Pass")), str(stream.value)


# --------------------------------------------------------------------------- #
# semantics: the paper's algorithm, batch == stream, causality
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("depth", [None, 8])
def test_matches_the_papers_algorithm(depth):
    rng = np.random.default_rng(1)
    calib, scores = _dyadic(rng.exponential(size=1500)), _dyadic(_with_bursts(rng, 1200))
    # max_peaks=None: every peak stays in the fit, as in the paper's pseudo-code
    thr = SPOTThreshold(risk=5e-3, max_peaks=None) if depth is None else DSPOTThreshold(risk=5e-3, depth=depth,
                                                                                          max_peaks=None)
    thr.fit(calib)
    want_alarms, want_thr = _paper(calib, scores, risk=5e-3, init_level=0.98, depth=depth)
    assert 0 < want_alarms.sum() < 40  # the series exercises alarms ...
    st = thr.stream()
    st_alarms = [st.update(x) for x in scores]
    assert st.n_peaks > thr.n_peaks_ + 10  # ... and new peaks (refits)
    np.testing.assert_array_equal(thr.predict(scores), want_alarms)
    np.testing.assert_array_equal(st_alarms, want_alarms)
    # the library solves the likelihood equations (Grimshaw); scipy's optimiser stops within its own tolerance
    np.testing.assert_allclose(thr.thresholds(scores), want_thr, rtol=1e-4)


@pytest.mark.parametrize("make", [lambda: SPOTThreshold(risk=2e-3), lambda: DSPOTThreshold(risk=2e-3, depth=20)])
def test_batch_equals_stream(make):
    rng = np.random.default_rng(2)
    thr = make().fit(rng.exponential(size=3000))
    scores = _with_bursts(rng, 2000) + np.linspace(0, 1, 2000)
    st = thr.stream()
    in_force, decided = [], []
    for x in scores:  # a live feed: the threshold is read before the score arrives
        in_force.append(st.threshold)
        decided.append(st.update(x))
    alarms, thresholds = thr.predict(scores), thr.thresholds(scores)
    np.testing.assert_array_equal(alarms, decided)
    np.testing.assert_array_equal(thresholds, in_force)  # bit for bit
    np.testing.assert_array_equal(alarms, scores > thresholds)
    np.testing.assert_array_equal(thr.apply(scores), alarms)
    assert thresholds[0] == thr.threshold_
    assert st.n_seen == scores.size and st.n_alarms == alarms.sum() > 0
    assert np.ptp(thresholds) > 0  # the threshold did move


def test_an_alarm_is_not_learned_from():
    thr = DSPOTThreshold(depth=5).fit(np.random.default_rng(3).exponential(size=2000))
    st = thr.stream()
    before = (st.threshold, st.n_peaks, st.gpd_shape, st.gpd_scale)
    assert st.update(1e6) is True
    assert (st.threshold, st.n_peaks, st.gpd_shape, st.gpd_scale) == before
    assert st.update(0.0) is False and st.threshold != before[0]  # a normal score moves DSPOT's mean


def test_fit_never_reads_scores_passed_later():
    rng = np.random.default_rng(4)
    calib, test = rng.exponential(size=3000), _with_bursts(rng, 1500)
    for make in (SPOTThreshold, DSPOTThreshold):
        thr = make().fit(calib)
        fitted = {k: np.copy(v) for k, v in vars(thr).items() if k.endswith("_")}
        first = thr.thresholds(test)
        thr.predict(test[::-1])
        for k, v in vars(thr).items():  # predict and thresholds leave the fitted state alone
            if k.endswith("_"):
                np.testing.assert_array_equal(v, fitted[k], err_msg=k)
        np.testing.assert_array_equal(thr.thresholds(test), first)  # each call starts from the calibration
        assert thr.stream().threshold == thr.threshold_ == make().fit(calib).threshold_
        # causal: the threshold at step i depends on scores before i only
        changed = test.copy()
        changed[700:] = rng.exponential(size=800) * 3
        np.testing.assert_array_equal(thr.thresholds(changed)[:701], first[:701])


def test_streams_are_independent():
    thr = SPOTThreshold().fit(np.random.default_rng(5).exponential(size=3000))
    a, b = thr.stream(), thr.stream()
    for x in np.random.default_rng(6).exponential(size=500) * 2:
        a.update(x)
    assert a.n_peaks > thr.n_peaks_ and b.n_peaks == thr.n_peaks_ and b.threshold == thr.threshold_
    assert isinstance(a, SPOTStream) and "n_seen=500" in repr(a)


# --------------------------------------------------------------------------- #
# what the notebook shows: false-alarm rates and adaptation
# --------------------------------------------------------------------------- #
def test_stationary_false_alarm_rate_is_near_risk():
    rng = np.random.default_rng(7)
    risk = 2e-3
    thr = SPOTThreshold(risk=risk).fit(rng.exponential(size=5000))
    assert thr.threshold_ == pytest.approx(-np.log(risk), rel=0.15)  # the true quantile of Exp(1)
    test = rng.exponential(size=10_000)
    rate = thr.predict(test).mean()
    assert 0.4 * risk < rate < 2.5 * risk
    assert thr.thresholds(test)[-1] == pytest.approx(-np.log(risk), rel=0.15)  # stays put when nothing changes


def test_dspot_holds_its_false_alarm_rate_under_drift_where_static_thresholds_explode():
    rng = np.random.default_rng(8)
    risk = 2e-3
    calib = 5.0 + rng.normal(size=3000)
    test = 5.0 + rng.normal(size=10_000) + np.linspace(0, 10, 10_000)  # normal behaviour drifts by 10 sd
    dspot = DSPOTThreshold(risk=risk, depth=10).fit(calib)
    rate = dspot.predict(test).mean()
    assert 0.4 * risk < rate < 2.5 * risk
    for static in (PercentileThreshold(q=100 * (1 - risk)), POTThreshold(risk=risk)):
        assert static.fit(calib).predict(test).mean() > 0.5  # every other sample is a false alarm
    thresholds = dspot.thresholds(test)  # it followed the drift: the trend rises by 9 from the first to the last 1000
    assert thresholds[-1000:].mean() - thresholds[:1000].mean() == pytest.approx(9, abs=1.0)


def test_spot_raises_its_threshold_when_the_tail_gets_heavier_but_slowly():
    rng = np.random.default_rng(9)
    risk = 1e-3
    spot = SPOTThreshold(risk=risk).fit(rng.exponential(size=5000))
    steady, heavier, same = rng.exponential(size=2000), rng.exponential(scale=2, size=4000), rng.exponential(size=4000)
    rising = spot.thresholds(np.r_[steady, heavier])[[2000, 3000, 4000, 5000, 5999]]
    control = spot.thresholds(np.r_[steady, same])[[2000, 3000, 4000, 5000, 5999]]
    assert rising[0] == control[0] == pytest.approx(spot.threshold_, rel=0.05)  # same distribution: it stays
    assert np.all(np.diff(rising) > 0)  # a heavier tail: more peaks, so z_q rises at every step
    assert rising[-1] > 1.1 * control[-1]
    # but slowly: scores above z_q are alarms and never learned, so the tail SPOT fits is cut at z_q - t and
    # the threshold stays far below the new distribution's quantile 2 * log(1 / risk)
    assert rising[-1] < 0.7 * 2 * np.log(1 / risk)


# --------------------------------------------------------------------------- #
# registry and scikit-learn conventions
# --------------------------------------------------------------------------- #
def test_registered_in_make_threshold_and_cloneable():
    assert type(make_threshold("spot")) is SPOTThreshold
    d = make_threshold(("dspot", {"depth": 30, "risk": 1e-4}))
    assert type(d) is DSPOTThreshold and d.depth == 30 and d.risk == 1e-4
    fitted = DSPOTThreshold(depth=7).fit(np.random.default_rng(10).exponential(size=2000))
    twin = clone(fitted)
    assert twin.get_params() == {"risk": 1e-3, "init_level": 0.98, "depth": 7, "min_peaks": 10, "max_peaks": 500}
    assert not hasattr(twin, "threshold_")
    assert ("DSPOTThreshold(risk=0.001, init_level=0.98, depth=7, min_peaks=10, max_peaks=500) [threshold_="
            in repr(fitted))


def test_dspot_fitted_attributes():
    s = np.random.default_rng(11).exponential(size=2000)
    d = DSPOTThreshold(depth=10).fit(s)
    assert d.n_scores_ == 2000 and d.n_calibration_ == 1990
    np.testing.assert_array_equal(d.window_, s[-10:])
    assert d.threshold_ == pytest.approx(s[-10:].mean() + d.residual_threshold_, rel=1e-12)
    assert d.peaks_.shape == (d.n_peaks_,) and np.all(d.peaks_ > 0)
    assert d.residual_threshold_ > d.init_threshold_


def test_static_thresholds_answer_the_same_questions():
    thr = PercentileThreshold(q=90).fit(np.arange(101.0))
    s = np.array([10.0, 95.0, 90.0, 91.0])
    np.testing.assert_array_equal(thr.thresholds(s), [90.0] * 4)
    np.testing.assert_array_equal(thr.predict(s), [False, True, False, True])
    np.testing.assert_array_equal(thr.predict(s), s > thr.thresholds(s))
