"""Property-based tests (Hypothesis) of sadlib.thresholds: a clear error or a threshold that keeps its promises.

For generated normal scores every threshold either refuses with an error from
:mod:`sadlib.validation` (a ``ValueError``, usually :class:`InvalidParameterError`,
whose message says what to do) or returns a threshold that is finite, honours its
risk (POT: above the normal maximum where ``risk < 1/n``), scales with the scores
(POT, percentile and max with a margin: ``c * s`` gives ``c * threshold``; a
percentile with ``margin=1`` also follows a shift), and whose batch form equals its
stream form (SPOT, DSPOT). The seeds come from the derandomized "sadlib" profile in
``tests/conftest.py`` (each test's examples derive from its name).
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sadlib.thresholds import (
    DSPOTThreshold,
    MaxThreshold,
    MeanStdThreshold,
    PercentileThreshold,
    POTThreshold,
    SPOTThreshold,
)
from sadlib.validation import InvalidParameterError

FIX_WORDS = ("use", "pass", "fill", "lower", "shift", "drop")


def _scores(min_size=50, max_size=600):
    """Normal scores of several shapes: continuous, tied (rounded), with an offset, of either sign."""
    return st.builds(
        lambda seed, n, kind, offset, decimals: _draw(seed, n, kind, offset, decimals),
        st.integers(0, 2**32 - 1), st.integers(min_size, max_size),
        st.sampled_from(["exponential", "normal", "student", "uniform", "pareto"]),
        st.sampled_from([0.0, 0.0, 5.0, -20.0]), st.sampled_from([None, None, 2, 0]),
    )


def _draw(seed, n, kind, offset, decimals):
    rng = np.random.default_rng(seed)
    s = {"exponential": lambda: rng.exponential(size=n), "normal": lambda: rng.normal(size=n),
         "student": lambda: np.abs(rng.standard_t(3, size=n)), "uniform": lambda: rng.uniform(size=n),
         "pareto": lambda: rng.pareto(2.0, size=n)}[kind]() + offset
    return s if decimals is None else np.round(s, decimals)


def _clear(err: Exception) -> None:
    """A refusal must be a ValueError (InvalidParameterError is one) whose message says what to do."""
    assert isinstance(err, ValueError), repr(err)
    assert any(w in str(err).lower() for w in FIX_WORDS), str(err)


@settings(max_examples=60)
@given(_scores(), st.sampled_from([1e-2, 1e-3, 1e-4]), st.sampled_from([0.9, 0.95, 0.98]))
def test_pot_threshold_is_finite_honours_the_risk_and_scales(s, risk, level):
    assume(risk < 1 - level)
    try:
        pot = POTThreshold(risk=risk, init_level=level).fit(s)
    except ValueError as err:
        _clear(err)
        return
    thr = pot.threshold_
    assert math.isfinite(thr) and thr >= pot.tail_quantile_
    if risk * s.size < 1:
        assert thr >= s.max()  # fewer than one of the n normal scores may alarm
    else:
        assert thr == pot.tail_quantile_
    for c in (1e-12, 3.0, 1e12):
        scaled = POTThreshold(risk=risk, init_level=level).fit(s * c).threshold_
        assert scaled == pytest.approx(c * thr, rel=1e-6, abs=1e-300)


@given(_scores(), st.floats(0.5, 100.0), st.sampled_from([1.0, 1.5, 3.0]))
def test_percentile_threshold_scale_and_shift(s, q, margin):
    try:
        thr = PercentileThreshold(q=q, margin=margin).fit(s).threshold_
    except InvalidParameterError as err:  # a margin on a negative level: refused, naming margin
        assert margin != 1 and np.percentile(s, q) < 0 and "margin" in str(err)
        _clear(err)
        return
    assert math.isfinite(thr)
    assert PercentileThreshold(q=q, margin=margin).fit(4.0 * s).threshold_ == pytest.approx(4.0 * thr, rel=1e-9,
                                                                                            abs=1e-12)
    if margin == 1.0:  # without a margin the rule follows any shift of the scores
        assert PercentileThreshold(q=q).fit(s - 7.0).threshold_ == pytest.approx(thr - 7.0, rel=1e-9, abs=1e-9)
    if margin >= 1 and q == 100:
        assert not PercentileThreshold(q=q, margin=margin).fit(s).predict(s).any()


@given(_scores(), st.sampled_from([1.0, 1.2]), st.floats(0.0, 5.0))
def test_max_and_meanstd_never_alarm_on_what_they_promise(s, margin, k):
    try:
        thr = MaxThreshold(margin=margin).fit(s)
    except InvalidParameterError as err:
        assert s.max() < 0 and "margin" in str(err)
        _clear(err)
    else:
        assert not thr.predict(s).any()  # no normal score alarms against its own max (times a margin >= 1)
    ms = MeanStdThreshold(k=k).fit(s)
    assert math.isfinite(ms.threshold_) and ms.threshold_ >= s.mean() - 1e-9


@settings(max_examples=15)
@given(_scores(min_size=300, max_size=800), _scores(min_size=50, max_size=300), st.booleans())
def test_spot_and_dspot_batch_equals_stream(cal, live, drift):
    thr = DSPOTThreshold(risk=5e-3, depth=10) if drift else SPOTThreshold(risk=5e-3)
    try:
        thr.fit(cal)
    except ValueError as err:
        _clear(err)
        return
    stream = thr.stream()
    in_force, decided = [], []
    for x in live:
        in_force.append(stream.threshold)
        decided.append(stream.update(x))
    np.testing.assert_array_equal(thr.thresholds(live), in_force)
    np.testing.assert_array_equal(thr.predict(live), decided)
    assert np.all(np.isfinite(in_force))


@given(st.sampled_from([np.inf, -np.inf]), st.integers(0, 40))
def test_batch_and_stream_refuse_the_same_bad_score_and_name_its_row(bad, row):
    cal = np.random.default_rng(0).exponential(size=2000)
    for thr in (SPOTThreshold().fit(cal), DSPOTThreshold().fit(cal)):
        scores = np.random.default_rng(1).exponential(size=41)
        scores[row] = bad
        if row + 1 < scores.size:
            scores[row + 1] = np.inf  # a second bad value after it: the first is the one reported
        with pytest.raises(ValueError, match=f"first at row {row},"):
            thr.predict(scores)
        stream = thr.stream()
        for x in scores[:row]:
            stream.update(x)
        with pytest.raises(ValueError, match="score must be a finite number"):
            stream.update(bad)
    with pytest.raises(ValueError, match=f"first at row {row},"):
        POTThreshold().fit(np.r_[cal[:row], bad, np.inf, cal[row:]])
