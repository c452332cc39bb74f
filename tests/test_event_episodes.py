"""Event precision counts alarm episodes, so fragmentation cannot raise it (issue: metrics that cannot be gamed).

An episode is every alarm range that overlaps the same labelled event (a range overlapping two events joins
them); a range overlapping no event is an episode of its own. Property tests over random label/alarm layouts
(Hypothesis, derandomized in tests/conftest.py), the fragmentation case of the issue, and the cross-check with
an independent implementation of Tatbul et al.'s range-based precision where the two definitions agree.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sadlib import _runs
from sadlib.metrics import event_f1, event_metrics

MAX_N = 150


@st.composite
def layouts(draw):
    """Labels and alarms made of runs (events of 1-20 samples, alarm ranges of 1-25), or plain random masks."""
    n = draw(st.integers(4, MAX_N))
    if draw(st.booleans()):
        return draw(hnp.arrays(bool, n)), draw(hnp.arrays(bool, n))
    y, p = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for mask, longest in ((y, 20), (p, 25)):
        for _ in range(draw(st.integers(1, 5))):
            start = draw(st.integers(0, n - 1))
            mask[start:start + draw(st.integers(1, longest))] = True
    return y, p


def _ranges(mask):
    starts, ends = _runs.run_bounds(mask)
    return list(zip(starts.tolist(), ends.tolist()))


def test_the_fragmentation_case_of_the_issue():
    y = np.zeros(1000, dtype=bool)
    y[100:200] = True
    alarm = np.zeros(1000, dtype=bool)
    alarm[100:200] = True  # one alarm range on the event
    alarm[500:520] = True  # and one false range
    chattering = alarm.copy()
    chattering[100:200:2] = False  # the in-event alarm cut into 50 pieces
    assert event_metrics(y, alarm)["event_precision"] == 0.5
    assert event_metrics(y, chattering)["event_precision"] <= 0.5
    assert event_f1(y, chattering) <= event_f1(y, alarm) == pytest.approx(2 / 3)
    assert event_metrics(y, chattering)["n_alarm_events"] == 51  # the ranges are still counted as ranges
    assert event_metrics(y, chattering)["n_alarm_episodes"] == 2


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(layouts(), st.data())
def test_cutting_pieces_out_of_an_alarm_inside_an_event_never_raises_precision_or_f1(layout, data):
    y, p = layout
    # alarm ranges overlapping exactly one event, with at least 3 of their samples inside it
    candidates = []
    for s, e in _ranges(p):
        inside = np.flatnonzero(y[s:e]) + s
        touched = {k for k, (a, b) in enumerate(_ranges(y)) if a < e and s < b}
        if len(touched) == 1 and inside.size >= 3:
            candidates.append(inside)
    assume(candidates)
    inside = data.draw(st.sampled_from(candidates))
    # keep the first and last in-event samples, so every piece still overlaps the event
    cut = data.draw(st.lists(st.sampled_from(inside[1:-1].tolist()), min_size=1, unique=True))
    q = p.copy()
    q[cut] = False
    before, after = event_metrics(y, p), event_metrics(y, q)
    assert after["event_precision"] <= before["event_precision"] + 1e-12
    assert event_f1(y, q) <= event_f1(y, p) + 1e-12
    assert after["event_recall"] == before["event_recall"]


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(layouts(), st.data())
def test_chattering_outside_events_never_raises_precision(layout, data):
    y, p = layout
    false_ranges = [(s, e) for s, e in _ranges(p) if not y[s:e].any() and e - s >= 3]
    assume(false_ranges)
    s, e = data.draw(st.sampled_from(false_ranges))
    cut = data.draw(st.lists(st.integers(s + 1, e - 2), min_size=1, unique=True))
    q = p.copy()
    q[cut] = False  # the false alarm now chatters: several short ranges
    assert event_metrics(y, q)["event_precision"] <= event_metrics(y, p)["event_precision"] + 1e-12
    assert event_f1(y, q) <= event_f1(y, p) + 1e-12


@given(layouts(), st.data())
def test_a_new_false_alarm_lowers_precision(layout, data):
    y, p = layout
    free = np.flatnonzero(~y & ~p & ~np.r_[False, p[:-1]] & ~np.r_[p[1:], False])  # not touching an alarm
    assume(free.size and event_metrics(y, p)["event_precision"] > 0)
    q = p.copy()
    q[data.draw(st.sampled_from(free.tolist()))] = True
    assert event_metrics(y, q)["event_precision"] < event_metrics(y, p)["event_precision"]


@given(layouts())
def test_precision_is_a_share_and_flagging_everything_scores_the_anomaly_share(layout):
    y, p = layout
    m = event_metrics(y, p)
    assert 0.0 <= m["event_precision"] <= 1.0
    assert m["n_alarm_episodes"] <= m["n_alarm_events"]
    everything = event_metrics(y, np.ones_like(y))
    assert everything["event_precision"] == pytest.approx(y.mean())


def test_equals_tatbul_range_precision_where_each_event_meets_at_most_one_alarm_range():
    """tsadmetrics' range-based precision (Tatbul et al., NeurIPS 2018; overlap reward, flat bias, cardinality 1)
    averages over alarm ranges. Where no event is overlapped by two alarm ranges the episodes are the ranges and
    the two agree; where an event is cut into pieces, Tatbul's precision rises with the pieces and ours does not."""
    from tsadmetrics.metrics.tem.tpdm import RangebasedFScore

    def precision_of(y, p):  # F1 with recall fixed at 1 by r_alpha=1 on a layout where every event is found
        rbf = RangebasedFScore(p_alpha=0.0, r_alpha=1.0, p_bias="flat", r_bias="flat", cardinality_mode="one")
        f1 = rbf.compute(y.astype(int), p.astype(int))
        return f1 / (2 - f1)  # F1 = 2P/(P+1) when recall is 1

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        n = int(rng.integers(50, 300))
        y = np.zeros(n, dtype=bool)
        for s in rng.choice(n - 10, size=3, replace=False):
            y[s:s + int(rng.integers(2, 10))] = True
        p = np.roll(y, int(rng.integers(-1, 2)))  # every event found, a little early or late ...
        p[rng.random(n) < 0.05] = True  # ... plus scattered false alarms
        if not all(p[a:b].any() for a, b in _ranges(y)):
            continue
        ranges_per_event = [sum(1 for s, e in _ranges(p) if s < b and a < e) for a, b in _ranges(y)]
        if max(ranges_per_event) > 1 or any(sum(1 for a, b in _ranges(y) if s < b and a < e) > 1
                                            for s, e in _ranges(p)):
            continue
        checked += 1
        assert event_metrics(y, p)["event_precision"] == pytest.approx(precision_of(y, p))
    assert checked > 50
    # where they differ: an event cut into 5 pieces
    y = np.zeros(100, dtype=bool)
    y[10:30] = True
    p = np.zeros(100, dtype=bool)
    p[10:30:4] = True
    p[60:70] = True
    assert event_metrics(y, p)["event_precision"] == 0.5
    assert precision_of(y, p) == pytest.approx(5 / 6)  # (5 pieces x 1 + 1 x 0) / 6 ranges
