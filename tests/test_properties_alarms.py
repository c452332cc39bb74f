"""Property-based tests (Hypothesis) of sadlib.alarms and sadlib.streaming.

For generated inputs each public function either refuses with a clear error (one that
names the parameter) or returns a result with the stated invariants:

* outputs are boolean and of the input's length;
* batch = stream, for every rule and for :class:`AlarmPolicy` with generated parameters;
* no decision depends on later rows: cutting the input at several points leaves every
  decision already made unchanged (for the look-ahead rules, those made ``delay`` samples late);
* a stream accepts and refuses the same values as its batch form.

The examples are drawn derandomized (the ``sadlib`` profile of ``tests/conftest.py``), so a
failure reproduces everywhere; ``HYPOTHESIS_PROFILE=explore`` searches with fresh seeds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sadlib import alarms as al
from sadlib.streaming import StreamingScorer, min_duration_alarms
from sadlib.validation import InvalidParameterError

# scores: finite values in a small range (so levels matter), NaN (missing) and the odd infinity
_value = st.one_of(st.floats(-3, 3, allow_nan=False), st.just(float("nan")), st.sampled_from([np.inf, -np.inf]))
scores = st.lists(_value, min_size=1, max_size=60).map(lambda v: np.array(v, dtype=np.float64))
normal_scores = st.lists(st.one_of(st.floats(-3, 3, allow_nan=False), st.just(float("nan"))), min_size=1,
                         max_size=60).map(lambda v: np.array(v, dtype=np.float64))
alarm_lists = st.lists(st.booleans(), min_size=1, max_size=60).map(np.array)
level = st.floats(-2, 2, allow_nan=False)


def _cuts(n: int) -> list[int]:
    return sorted({1, max(1, n // 3), max(1, n // 2), max(1, n - 1), n})


def _check_output(out: np.ndarray, n: int) -> None:
    assert isinstance(out, np.ndarray) and out.dtype == bool and out.shape == (n,)


def _causal(rule, x: np.ndarray) -> None:
    """``rule`` on every prefix gives the prefix of ``rule`` on the whole input."""
    full = rule(x)
    _check_output(full, x.size)
    for c in _cuts(x.size):
        assert np.array_equal(rule(x[:c]), full[:c]), f"the decision at a row before {c} changed with later rows"


# --------------------------------------------------------------------------- #
# the batch rules: boolean, of the input's length, causal
# --------------------------------------------------------------------------- #
@given(scores, level, st.floats(0, 2))
def test_hysteresis_is_causal(s, on, width):
    _causal(lambda x: al.hysteresis_alarms(x, on, on - width), s)


@given(scores, level, st.integers(1, 6), st.integers(0, 5))
def test_k_of_n_is_causal(s, threshold, k, extra):
    _causal(lambda x: al.k_of_n_alarms(x, threshold, k, k + extra), s)


@given(scores, level, st.integers(1, 6))
def test_min_duration_is_causal_and_the_streaming_rule_is_the_same(s, threshold, d):
    _causal(lambda x: al.min_duration_alarms(x, threshold, d), s)
    assert np.array_equal(min_duration_alarms(s, threshold, d), al.min_duration_alarms(s, threshold, d))


@given(alarm_lists, st.integers(0, 6), st.integers(0, 6), st.one_of(st.none(), st.integers(1, 5)))
def test_hold_dead_time_and_announcements_are_causal(a, hold, dead, rearm):
    _causal(lambda x: al.hold_alarms(x, hold), a)
    _causal(lambda x: al.dead_time_alarms(x, dead), a)
    _causal(lambda x: al.announcements(x, rearm), a)
    ann = al.announcements(a, rearm)
    assert not (ann & ~a).any(), "an announcement outside an alarm"
    assert np.array_equal(al.hold_alarms(a, 0), a) and np.array_equal(al.dead_time_alarms(a, 0), a)


# --------------------------------------------------------------------------- #
# the look-ahead rules: batch = stream, decisions made `delay` samples late never change
# --------------------------------------------------------------------------- #
def _delayed_equals_batch(stream, batch: np.ndarray, x) -> None:
    n = len(x)
    decisions = [stream.reset().update(v) if i == 0 else stream.update(v) for i, v in enumerate(x)]
    d = stream.delay
    assert decisions[: min(d, n)] == [None] * min(d, n)
    assert None not in decisions[d:]
    assert decisions[d:] == batch[: max(n - d, 0)].tolist()
    _check_output(stream.reset().run(x), n)
    for c in _cuts(n):  # the stream fed a prefix has decided the same samples the same way
        assert stream.reset().run(x[:c])[: max(c - d, 0)].tolist() == batch[: max(c - d, 0)].tolist()


@given(alarm_lists, st.integers(0, 6))
def test_merge_gaps_stream_equals_batch(a, gap):
    batch = al.merge_gaps(a, gap)
    _check_output(batch, a.size)
    assert not (a & ~batch).any(), "merging dropped an alarm"
    _delayed_equals_batch(al.MergeGapsStream(gap), batch, a)


@given(scores, level, st.integers(2, 6), st.sampled_from(al.ALL_WINDOWS_CONVENTIONS))
def test_all_windows_stream_equals_batch(s, limit, window, convention):
    batch = al.all_windows_alarms(s, limit, window, convention=convention)
    _check_output(batch, s.size)
    _delayed_equals_batch(al.AllWindowsStream(limit, window, convention=convention), batch, s)


# --------------------------------------------------------------------------- #
# AlarmPolicy: generated parameters; batch = stream, announcements too; causal
# --------------------------------------------------------------------------- #
@st.composite
def policies(draw):
    n = draw(st.integers(1, 6))
    params = {
        "threshold": draw(st.one_of(level, st.sampled_from([("percentile", {"q": 90.0}), ("meanstd", {"k": 1.0}),
                                                            "max"]))),
        "k": draw(st.integers(1, n)), "n": n,
        "min_duration": draw(st.integers(1, 5)), "hold": draw(st.integers(0, 5)),
        "dead_time": draw(st.integers(0, 6)), "rearm": draw(st.one_of(st.none(), st.integers(1, 5))),
    }
    if draw(st.booleans()):
        params["hysteresis_off"] = -3.0 if isinstance(params["threshold"], float) else ("percentile", {"q": 10.0})
    return params


@given(policies(), scores)
def test_policy_fit_reports_an_infinite_normal_score_at_its_row(params, normal):
    normal = np.r_[normal, np.inf]  # NaN before the inf must not shift the row reported
    first = int(np.flatnonzero(np.isinf(normal))[0])
    with pytest.raises(InvalidParameterError, match=rf"normal_scores holds .* infinite score.*row {first}:"):
        al.AlarmPolicy(**params).fit(normal)


@given(policies(), normal_scores, scores)
def test_policy_stream_equals_batch_and_is_causal(params, normal, s):
    if np.isnan(normal).all():
        with pytest.raises(ValueError, match="normal_scores are all NaN"):
            al.AlarmPolicy(**params).fit(normal)
        return
    try:
        policy = al.AlarmPolicy(**params).fit(normal)
    except InvalidParameterError as err:  # e.g. an off level above the on level on these scores
        assert "hysteresis_off" in str(err)
        return
    _causal(policy.predict, s)
    live = policy.stream()
    states, shown = [], []
    for v in s:
        states.append(live.update(v))
        shown.append(live.announced)
    assert states == policy.predict(s).tolist()
    assert shown == policy.announce(s).tolist()
    # the JSON label reads back into the same policy
    assert al.policy_label(al.make_policy(al.policy_label(params))) == al.policy_label(params)


# --------------------------------------------------------------------------- #
# streams and batch forms accept and refuse the same values
# --------------------------------------------------------------------------- #
_odd = st.one_of(st.booleans(), st.text(max_size=3), st.none(), st.floats(), st.integers(-3, 3),
                 st.complex_numbers(max_magnitude=3, allow_nan=False))


@given(_odd)
def test_a_stream_takes_a_score_exactly_when_the_batch_does(value):
    policy = al.AlarmPolicy(0.5).fit(np.arange(10.0))
    try:
        batch = policy.predict([value])
    except (TypeError, ValueError) as err:
        assert "scores" in str(err)
        with pytest.raises(InvalidParameterError, match="score must be"):
            policy.stream().update(value)
        with pytest.raises(InvalidParameterError, match="window_score must be"):
            al.AllWindowsStream(0.5, 1).update(value)
    else:
        assert [policy.stream().update(value)] == batch.tolist()
        assert al.AllWindowsStream(0.5, 1).run([value]).tolist() == al.all_windows_alarms([value], 0.5, 1).tolist()


@given(st.lists(_odd, min_size=1, max_size=6))
def test_a_stream_takes_a_score_list_exactly_when_the_batch_does(values):
    policy = al.AlarmPolicy(0.5).fit(np.arange(10.0))
    try:
        batch = policy.predict(values)
    except (TypeError, ValueError) as err:
        assert "scores" in str(err)
        with pytest.raises(InvalidParameterError, match="score must be"):
            policy.stream().run(values)
    else:
        assert policy.stream().run(values).tolist() == batch.tolist()


@given(_odd)
def test_merge_gaps_stream_takes_an_alarm_exactly_when_the_batch_does(value):
    try:
        batch = al.merge_gaps([value], 0)
    except (TypeError, ValueError) as err:
        assert "alarms" in str(err)
        with pytest.raises(InvalidParameterError, match="alarm must be"):
            al.MergeGapsStream(0).update(value)
    else:
        assert al.MergeGapsStream(0).run([value]).tolist() == batch.tolist()


# --------------------------------------------------------------------------- #
# StreamingScorer: the batch rule on its own scores, causal, finite scores after the warm-up
# --------------------------------------------------------------------------- #
_sensor_rows = st.lists(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=2), min_size=1, max_size=25)


@given(_sensor_rows, st.integers(1, 4), st.floats(0, 2), st.integers(1, 3), st.booleans())
def test_streaming_scorer_alarms_are_the_batch_rule_on_its_scores(rows, window, threshold, d, flatten):
    data = np.array(rows)
    scorer = StreamingScorer(lambda x: 0.5 * x, window=window, threshold=threshold, min_duration=d, flatten=flatten)
    sc, alarms = scorer.run(data)
    n = len(data)
    _check_output(alarms, n)
    assert np.isnan(sc[: window - 1]).all() and np.isfinite(sc[window - 1 :]).all() and (sc[window - 1 :] >= 0).all()
    assert np.array_equal(alarms, min_duration_alarms(sc, threshold, d))
    for c in _cuts(n):
        sc_c, al_c = scorer.reset().run(data[:c])
        assert np.array_equal(sc_c, sc[:c], equal_nan=True) and np.array_equal(al_c, alarms[:c])


# --------------------------------------------------------------------------- #
# the reports: counts that agree with the alarms they describe
# --------------------------------------------------------------------------- #
@given(alarm_lists, st.sampled_from(["10s", "1min", "7min"]), st.one_of(st.none(), st.integers(1, 5)))
def test_reports_agree_with_the_alarms(a, freq, rearm):
    idx = pd.date_range("2024-01-01 23:50", periods=a.size, freq=freq)
    errs = np.abs(np.sin(np.arange(a.size * 3, dtype=float))).reshape(a.size, 3)
    table = al.alarm_table(a, scores=errs.sum(axis=1), index=idx, sensor_errors=errs)
    onsets = int((a & ~np.r_[False, a[:-1]]).sum())
    assert len(table) == onsets and int(table["n_samples"].sum()) == int(a.sum())
    assert (table["start_time"] <= table["end_time"]).all()
    if a.size > 1:
        assert (table["duration"] > pd.Timedelta(0)).all()
    else:  # one timestamp: no sampling period, so the duration of an alarm on at the end is unknown
        assert table["duration"].isna().all()
    assert table["top_error"].notna().all() and (table["peak_score"] >= table["top_error"]).all()
    per_hour = al.alarms_per_hour(a, idx, rearm=rearm)
    assert int(per_hour.sum()) == int(al.announcements(a, rearm).sum())
    chat = al.chattering(a, idx)
    assert len(chat) == onsets and (chat["onsets_in_window"] >= 1).all()
    standing = al.standing_alarms(a, idx, longer_than="5min")
    assert set(standing["start"]) <= set(table["start"]) and (standing["duration"] > pd.Timedelta("5min")).all()


@given(normal_scores.filter(lambda s: np.isfinite(s).sum() >= 2), st.integers(5, 40), st.floats(0, 500))
def test_calibrate_to_budget_chooses_the_best_recall_within_the_budget(s, event_at, budget):
    n = max(s.size, event_at + 5)
    scores = np.resize(s, n)
    y = np.zeros(n, int)
    y[event_at: event_at + 3] = 1
    idx = pd.date_range("2024-01-01", periods=n, freq="1min")
    candidates = {"threshold": [("percentile", {"q": 50.0}), ("percentile", {"q": 90.0})], "min_duration": [1, 2]}
    normal = np.where(y == 0, scores, np.nan)
    if np.isnan(normal).all():
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        policy, table = al.calibrate_to_budget(scores, y, budget, index=idx, candidates=candidates,
                                               normal_scores=normal[~np.isnan(normal)])
    assert table["chosen"].sum() == 1 and len(table) == 4
    chosen = table[table["chosen"]].iloc[0]
    if table["within_budget"].any():
        assert chosen["within_budget"] and not caught
        assert chosen["event_recall"] == table.loc[table["within_budget"], "event_recall"].max()
    else:
        assert any("no candidate stays within" in str(w.message) for w in caught)
        assert chosen["false_alarms_per_day"] == table["false_alarms_per_day"].min()
    assert np.array_equal(policy.predict(scores), policy.stream().run(scores))


# --------------------------------------------------------------------------- #
# parameters: a clear error naming the parameter, or a result of the input's length
# --------------------------------------------------------------------------- #
_param = st.one_of(st.integers(-2, 6), st.floats(), st.booleans(), st.none(), st.text(max_size=3),
                   st.sampled_from(["5min", "-1h", np.int64(3), np.float64(2.0)]))

_RULES = {
    "hysteresis_alarms": (lambda s, p: al.hysteresis_alarms(s, p, 0.0), "on"),
    "k_of_n_alarms (k)": (lambda s, p: al.k_of_n_alarms(s, 0.0, p, 4), "k"),
    "k_of_n_alarms (n)": (lambda s, p: al.k_of_n_alarms(s, 0.0, 1, p), "n"),
    "min_duration_alarms": (lambda s, p: al.min_duration_alarms(s, 0.0, p), "min_duration"),
    "hold_alarms": (lambda s, p: al.hold_alarms(s > 0, p), "hold"),
    "dead_time_alarms": (lambda s, p: al.dead_time_alarms(s > 0, p), "dead_time"),
    "announcements": (lambda s, p: al.announcements(s > 0, p), "rearm"),
    "merge_gaps": (lambda s, p: al.merge_gaps(s > 0, p), "gap"),
    "all_windows_alarms": (lambda s, p: al.all_windows_alarms(s, 0.0, p), "window"),
    "AlarmPolicy (hold)": (lambda s, p: al.AlarmPolicy(0.0, hold=p).fit(np.zeros(5)).predict(s), "hold"),
    "AlarmPolicy (rearm)": (lambda s, p: al.AlarmPolicy(0.0, rearm=p).fit(np.zeros(5)).announce(s), "rearm"),
}


@pytest.mark.parametrize("rule", list(_RULES))
@settings(max_examples=20)  # eleven rules: fewer examples each keeps the file within its time
@given(value=_param, s=normal_scores)
def test_a_bad_parameter_is_named_or_the_result_is_sound(rule, value, s):
    call, name = _RULES[rule]
    try:
        out = call(s, value)
    except (TypeError, ValueError) as err:
        assert isinstance(err, InvalidParameterError) and name in str(err), f"{rule}({value!r}): {err}"
        return
    _check_output(out, s.size)
