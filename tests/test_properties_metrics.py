"""Property-based tests (Hypothesis) of sadlib.metrics and sadlib._runs (issue 25).

For generated inputs every public function either raises a clear error from :mod:`sadlib.validation`
(an ``InvalidParameterError``, ``ValueError`` or ``TypeError`` whose message names the parameter) or
returns a result that satisfies the function's stated invariants. The examples are drawn from the
derandomized ``sadlib`` profile of ``tests/conftest.py``: each test's seed derives from its name, so
a failure reproduces everywhere (``print_blob`` prints the decorator that replays it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sadlib import _runs
from sadlib import metrics as m
from sadlib.validation import InvalidParameterError

MAX_N = 120


def _naive_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True by walking the vector: the reference the vectorised code must equal."""
    out, start = [], None
    for i, v in enumerate(mask):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(mask)))
    return out


masks = hnp.arrays(bool, st.integers(1, MAX_N))


@st.composite
def label_pairs(draw, min_n: int = 1):
    n = draw(st.integers(min_n, MAX_N))
    return draw(hnp.arrays(bool, n)), draw(hnp.arrays(bool, n))


@st.composite
def time_indexes(draw, n: int):
    """A sorted, unique DatetimeIndex of n timestamps: regular or irregular, any start, with or without tz."""
    start = pd.Timestamp("2000-01-01") + pd.Timedelta(seconds=draw(st.integers(0, 10**9)))
    step = draw(st.sampled_from(["1s", "10s", "1min", "1h"]))
    if draw(st.booleans()):
        idx = pd.date_range(start, periods=n, freq=step)
    else:
        gaps = draw(hnp.arrays(np.int64, n, elements=st.integers(1, 5)))
        idx = pd.DatetimeIndex(start + np.cumsum(gaps) * pd.Timedelta(step))
    return idx.tz_localize("UTC") if draw(st.booleans()) else idx


shifts = st.integers(-10**9, 10**9).map(lambda s: pd.Timedelta(seconds=s))


# ----------------------------------------------------------------------------- runs and events
@given(masks)
def test_runs_equal_the_naive_walk_and_cover_every_true(mask):
    runs = _runs.true_runs(mask)
    assert runs == _naive_runs(mask) == m.events(mask)
    covered = np.zeros(mask.size, bool)
    for s, e in runs:
        covered[s:e] = True
    np.testing.assert_array_equal(covered, mask)


@given(label_pairs())
def test_event_counts_equal_the_number_of_runs(pair):
    t, p = pair
    ev = m.event_metrics(t, p)
    assert ev["n_events"] == len(_naive_runs(t))
    assert ev["n_alarm_events"] == len(_naive_runs(p))
    assert 0 <= ev["n_detected"] <= ev["n_events"]
    assert 0 <= ev["n_false_alarm_events"] <= ev["n_alarm_events"]
    assert len(m.detection_delays(t, p)) == ev["n_events"]


# ----------------------------------------------------------------------------- bounded rates
@given(label_pairs())
def test_rates_lie_in_0_1(pair):
    t, p = pair
    pm = m.point_metrics(t, p)
    for key in ("precision", "recall", "f1", "far", "mar"):
        assert 0.0 <= pm[key] <= 1.0, key
    assert pm["tp"] + pm["fp"] + pm["fn"] + pm["tn"] == t.size
    ev = m.event_metrics(t, p)
    assert 0.0 <= ev["event_recall"] <= 1.0 and 0.0 <= ev["event_precision"] <= 1.0
    assert 0.0 <= m.event_f1(t, p) <= 1.0


@given(masks)
def test_flagging_nothing_has_recall_0_and_no_false_alarm(t):
    none = np.zeros_like(t)
    assert m.point_metrics(t, none)["recall"] == 0.0
    assert m.event_metrics(t, none)["event_recall"] == 0.0
    assert m.false_alarms_per_day(t, none, sampling_period="1min") == 0.0
    assert m.false_alarm_hours_per_day(t, none, sampling_period="1min") == 0.0
    assert not m.detection_delays(t, none)["detected"].any()


@given(masks)
def test_flagging_everything_finds_every_event(t):
    assume(t.any())
    everything = np.ones_like(t)
    assert m.point_metrics(t, everything)["recall"] == 1.0
    assert m.event_metrics(t, everything)["event_recall"] == 1.0
    np.testing.assert_array_equal(m.detection_delays(t, everything)["delay_samples"], 0.0)


@given(label_pairs())
def test_point_adjust_only_adds_alarms_inside_events(pair):
    t, p = pair
    adj = m.point_adjust(t, p)
    assert (adj >= p).all() and ((adj & ~p) <= t).all()
    assert m.point_metrics(t, adj)["recall"] >= m.point_metrics(t, p)["recall"]


@given(label_pairs(), st.data())
def test_detection_delays_lie_inside_their_event(pair, data):
    t, p = pair
    idx = data.draw(time_indexes(t.size))
    table = m.detection_delays(t, p, index=idx)
    hit = table[table["detected"]]
    assert ((hit["delay_samples"] >= 0) & (hit["delay_samples"] < hit["end"] - hit["start"])).all()
    assert (hit["delay"] >= pd.Timedelta(0)).all() and table.loc[~table["detected"], "delay"].isna().all()


@given(st.integers(1, 300), st.floats(0, 1), st.integers(0, 2**32))
def test_random_alarms_flag_the_asked_share(n, fraction, seed):
    a = m.random_alarms(n, fraction, seed=seed)
    assert a.dtype == bool and a.shape == (n,) and a.sum() == int(round(fraction * n))
    s = m.random_scores(n, seed=seed)
    assert s.shape == (n,) and ((s >= 0) & (s < 1)).all()


@given(label_pairs(min_n=2), st.data())
def test_aucs_lie_in_0_1_or_refuse_one_class(pair, data):
    t, _ = pair
    scores = data.draw(hnp.arrays(np.float64, t.size, elements=st.floats(-1e6, 1e6)))
    if t.all() or not t.any():
        with pytest.raises(ValueError, match="y_true contains only"):
            m.roc_auc(t, scores)
        return
    assert 0.0 <= m.roc_auc(t, scores) <= 1.0
    assert 0.0 <= m.pr_auc(t, scores) <= 1.0


# ----------------------------------------------------------------------------- time: shift invariance
@given(label_pairs(min_n=2), st.data(), shifts)
def test_time_metrics_are_invariant_to_a_constant_shift_of_the_index(pair, data, shift):
    t, p = pair
    idx = data.draw(time_indexes(t.size))
    moved = idx + shift
    a = m.evaluate(t, None, p, index=idx)
    b = m.evaluate(t, None, p, index=moved)
    for key in a:
        assert a[key] == b[key] or (math.isnan(a[key]) and math.isnan(b[key])), key
    assert m.false_alarms_per_day(t, p, index=idx) >= 0.0
    pd.testing.assert_series_equal(m.detection_delays(t, p, index=idx)["delay"],
                                   m.detection_delays(t, p, index=moved)["delay"])
    la, lb = m.lead_times(t, p, idx, horizon="1h"), m.lead_times(t, p, moved, horizon="1h")
    pd.testing.assert_series_equal(la["lead_time"], lb["lead_time"])
    pd.testing.assert_series_equal(la["first_alarm"] + shift, lb["first_alarm"])


@given(label_pairs(min_n=2), st.sampled_from(["1s", "10s", "1min", "1h"]))
def test_index_and_its_own_sampling_period_agree(pair, step):
    t, p = pair
    idx = pd.date_range("2024-01-01", periods=t.size, freq=step)
    both = m.false_alarms_per_day(t, p, index=idx, sampling_period=step)
    assert both == m.false_alarms_per_day(t, p, index=idx) == pytest.approx(
        m.false_alarms_per_day(t, p, sampling_period=step))


@given(label_pairs(min_n=2), st.sampled_from(["1s", "10s", "1min"]), st.sampled_from(["1h", "1D"]))
def test_a_sampling_period_far_from_the_index_is_refused(pair, given_step, index_step):
    t, p = pair
    idx = pd.date_range("2024-01-01", periods=t.size, freq=index_step)
    with pytest.raises(InvalidParameterError, match="sampling_period=.*disagrees with index"):
        m.false_alarms_per_day(t, p, index=idx, sampling_period=given_step)


# ------------------------------------------------ arbitrary input: a clear error or a valid result
anything = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
    st.lists(st.one_of(st.integers(-1, 2), st.floats(allow_nan=True), st.booleans(), st.text(max_size=1)),
             max_size=6),
    hnp.arrays(st.sampled_from([np.float64, np.int64, bool]), st.integers(0, 6)),
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3))),
)


def _clear(err: Exception, *names: str) -> None:
    """The error is one of sadlib.validation's kinds and names one of the parameters."""
    assert isinstance(err, (ValueError, TypeError)), type(err)
    text = str(err)
    assert any(name in text for name in names), text


@given(anything, anything)
def test_label_functions_refuse_with_a_named_error_or_give_bounded_rates(y_true, y_pred):
    for fn in (m.point_metrics, m.event_metrics):
        try:
            out = fn(y_true, y_pred)
        except Exception as err:  # noqa: BLE001 - the property is about which errors escape
            _clear(err, "y_true", "y_pred")
        else:
            assert all(0.0 <= v <= 1.0 for k, v in out.items() if not k.startswith(("tp", "fp", "fn", "tn", "n_")))


@given(anything)
def test_events_refuse_with_a_named_error_or_give_runs(y):
    try:
        runs = m.events(y)
    except Exception as err:  # noqa: BLE001
        _clear(err, "y")
    else:
        assert runs == _naive_runs(np.asarray(y, dtype=bool))


durations = st.one_of(anything, st.sampled_from(["1min", "10s", "-1h", "0s", "5", "soon", "nan"]),
                      st.timedeltas(min_value=pd.Timedelta("-1D"), max_value=pd.Timedelta("10D")))


@given(masks, durations, durations)
def test_false_alarms_per_day_refuses_bad_durations_by_name(t, sampling_period, rearm):
    p = np.roll(t, 1)
    try:
        out = m.false_alarms_per_day(t, p, sampling_period=sampling_period, rearm=rearm)
    except Exception as err:  # noqa: BLE001
        _clear(err, "sampling_period", "rearm")
    else:
        assert math.isfinite(out) and out >= 0.0


@given(st.one_of(anything, st.integers(-5, 10**6)), st.one_of(anything, st.floats(-1, 2)),
       st.one_of(anything, st.integers(-5, 10)))
def test_baseline_generators_refuse_bad_parameters_by_name(n, fraction, seed):
    try:
        out = m.random_alarms(n, fraction, seed=seed)
    except Exception as err:  # noqa: BLE001
        _clear(err, "n must", "fraction must", "seed must")
    else:
        assert out.dtype == bool and out.size == n
