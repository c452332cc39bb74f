"""Alarm policies (sadlib.alarms): semantics on hand-made series, streaming = batch, budget calibration."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sadlib import alarms as al
from sadlib.metrics import false_alarm_count, false_alarms_per_day
from sadlib.thresholds import make_threshold
from sadlib.validation import InvalidParameterError


def _bools(s: str) -> list[bool]:
    return [c == "1" for c in s]


def _random_scores(seed: int, n: int = 300) -> np.ndarray:
    """Noise with lasting bumps, isolated spikes and missing scores: every step has something to do."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, 1.0, n)
    for start in rng.integers(0, n - 20, 6):
        s[start : start + rng.integers(3, 20)] += rng.uniform(1.5, 4.0)
    s[rng.random(n) < 0.05] = np.nan
    return s


# --------------------------------------------------------------------------- #
# each policy on a hand-made series
# --------------------------------------------------------------------------- #
def test_hysteresis_switches_on_above_on_and_off_at_or_below_off():
    s = [0, 3, 2, 2, 1, 2, 3, np.nan, 2]
    assert al.hysteresis_alarms(s, on=2.5, off=1).tolist() == _bools("011100100")
    # off == on is the plain rule
    assert al.hysteresis_alarms(s, on=1.5, off=1.5).tolist() == (np.nan_to_num(s) > 1.5).tolist()


def test_k_of_n_counts_the_last_n_scores_including_the_present():
    s = np.array([2, 0, 2, 0, 0, 2, 2, 0, 0, 0], dtype=float)
    assert al.k_of_n_alarms(s, 1.0, k=2, n=3).tolist() == _bools("0010001100")
    assert al.k_of_n_alarms(s, 1.0, k=1, n=2).tolist() == _bools("1111011100")
    # k = n is the minimum-duration rule
    for d in (1, 2, 3):
        assert al.k_of_n_alarms(s, 1.0, k=d, n=d).tolist() == al.min_duration_alarms(s, 1.0, d).tolist()


def test_min_duration_starts_late_and_nan_breaks_the_run():
    s = np.array([0, 2, 2, 2, 2, 0, 2, np.nan, 2, 2], dtype=float)
    assert al.min_duration_alarms(s, 1.0, 2).tolist() == _bools("0011100001")


def test_streaming_min_duration_delegates_to_alarms():
    from sadlib import streaming

    s = _random_scores(3)
    for d in (1, 2, 5):
        assert np.array_equal(streaming.min_duration_alarms(s, 0.5, d), al.min_duration_alarms(s, 0.5, d))


def test_hold_keeps_the_alarm_on_and_merges_close_alarms():
    a = _bools("0100010000001")
    assert al.hold_alarms(a, 2).tolist() == _bools("0111011100001")
    assert al.hold_alarms(a, 3).tolist() == _bools("0111111110001")  # the gap of 3 is bridged
    assert al.hold_alarms(a, 0).tolist() == a


def test_merge_gaps_fills_only_gaps_between_alarms():
    a = _bools("0100100001000")
    assert al.merge_gaps(a, 2).tolist() == _bools("0111100001000")
    assert al.merge_gaps(a, 4).tolist() == _bools("0111111111000")
    assert al.merge_gaps(a, 0).tolist() == a
    # the causal hold gives the same merge plus the extension after each alarm
    held = al.hold_alarms(a, 2)
    merged = al.merge_gaps(a, 2)
    assert (held | merged).tolist() == held.tolist()


def test_dead_time_suppresses_onsets_after_an_alarm_ends():
    a = _bools("1101110011111")
    # first alarm ends at 2: samples 2, 3, 4 are dead; the alarm from 3 shows from 5 on (still on),
    # ends at 6, so 6, 7, 8 are dead; the alarm from 8 shows from 9 on
    assert al.dead_time_alarms(a, 3).tolist() == _bools("1100010001111")
    # an alarm entirely inside the dead period is dropped and starts no dead period of its own
    assert al.dead_time_alarms(_bools("1010001"), 3).tolist() == _bools("1000001")
    assert al.dead_time_alarms(a, 0).tolist() == a


def test_announcements_re_arm_standing_alarms():
    a = _bools("0111111101")
    assert al.announcements(a).tolist() == _bools("0100000001")
    assert al.announcements(a, rearm=3).tolist() == _bools("0100100101")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("rearm", [1, 2, 7])
def test_announcements_count_as_metrics_counts_false_alarms(seed, rearm):
    a = np.random.default_rng(seed).random(200) < 0.3
    a = al.hold_alarms(a, 2)  # some long alarms
    normal = np.zeros(a.size, dtype=bool)
    assert al.announcements(a, rearm).sum() == false_alarm_count(normal, a, rearm)
    assert al.announcements(a).sum() == false_alarm_count(normal, a, None)


# --------------------------------------------------------------------------- #
# the SKAB authors' rule
# --------------------------------------------------------------------------- #
def test_all_windows_rule_on_a_hand_example():
    # window 3; window_scores[e] scores samples e-2..e; the first two have no window
    ws = np.array([np.nan, np.nan, 5, 5, 5, 0, 5, 5, 5, 5])
    # exact: p alarms when the windows ending p, p+1, p+2 are above; decided for p in [2, 7]
    assert al.all_windows_alarms(ws, 1.0, 3).tolist() == _bools("0010001100")
    # the SKAB code checks only the windows ending p, p+1 and stops at p = n - 2w + 1 = 5
    assert al.all_windows_alarms(ws, 1.0, 3, convention="skab").tolist() == _bools("0011000000")
    # the first window - 1 entries are ignored whatever they hold
    assert al.all_windows_alarms(np.r_[9.0, 9.0, ws[2:]], 1.0, 3).tolist() == _bools("0010001100")


def _skab_reference(ws_by_start: np.ndarray, limit: float, n_steps: int, n_points: int) -> np.ndarray:
    """The loop of the SKAB baselines' notebooks, verbatim but for names (windows indexed by their start)."""
    anomalous_data = ws_by_start > limit
    anomalous_data_indices = []
    for data_idx in range(n_steps - 1, len(ws_by_start) - n_steps + 1):
        if np.all(anomalous_data[data_idx - n_steps + 1 : data_idx]):
            anomalous_data_indices.append(data_idx)
    prediction = np.zeros(n_points, dtype=bool)
    prediction[anomalous_data_indices] = True
    return prediction


def _exact_reference(ws_by_end: np.ndarray, limit: float, w: int) -> np.ndarray:
    """Brute force: p alarms when all w windows covering it exist and are above."""
    n = ws_by_end.size
    out = np.zeros(n, dtype=bool)
    for p in range(n):
        ends = range(p, p + w)
        out[p] = all(w - 1 <= e < n and ws_by_end[e] > limit for e in ends)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("w", [2, 3, 7])
def test_all_windows_rule_matches_the_skab_code_and_the_definition(seed, w):
    rng = np.random.default_rng(seed)
    n = 80
    by_start = rng.random(n - w + 1) + (rng.random(n - w + 1) < 0.8)  # mostly above 1
    by_end = np.r_[np.full(w - 1, np.nan), by_start]
    assert np.array_equal(al.all_windows_alarms(by_end, 1.0, w, convention="skab"),
                          _skab_reference(by_start, 1.0, w, n))
    assert np.array_equal(al.all_windows_alarms(by_end, 1.0, w), _exact_reference(by_end, 1.0, w))


@pytest.mark.parametrize("convention", al.ALL_WINDOWS_CONVENTIONS)
@pytest.mark.parametrize("w", [2, 4, 9])
@pytest.mark.parametrize("seed", range(4))
def test_all_windows_stream_equals_batch(convention, w, seed):
    ws = _random_scores(seed, 120)
    ws[: w - 1] = np.nan
    live = al.AllWindowsStream(0.3, w, convention=convention)
    decisions = [live.update(x) for x in ws]
    assert decisions[: live.delay] == [None] * live.delay
    assert None not in decisions[live.delay :]
    batch = al.all_windows_alarms(ws, 0.3, w, convention=convention)
    assert decisions[live.delay :] == batch[: ws.size - live.delay].tolist()
    assert not batch[ws.size - live.delay :].any()  # the end-of-file points are never decided
    assert np.array_equal(live.reset().run(ws), batch)


@pytest.mark.parametrize("gap", [0, 1, 3, 6])
@pytest.mark.parametrize("seed", range(5))
def test_merge_gaps_stream_equals_batch(gap, seed):
    a = np.random.default_rng(seed).random(150) < 0.35
    live = al.MergeGapsStream(gap)
    decisions = [live.update(x) for x in a]
    assert decisions[:gap] == [None] * gap
    assert decisions[gap:] == al.merge_gaps(a, gap)[: a.size - gap].tolist()


# --------------------------------------------------------------------------- #
# AlarmPolicy: composition, streaming = batch
# --------------------------------------------------------------------------- #
POLICY_PARAMS = [
    {},
    {"hysteresis_off": ("percentile", {"q": 60})},
    {"k": 2, "n": 4},
    {"k": 4, "n": 4},
    {"min_duration": 3},
    {"hold": 4},
    {"dead_time": 6},
    {"rearm": 3},
    {"hysteresis_off": 0.0, "k": 2, "n": 3, "min_duration": 2, "hold": 3, "dead_time": 5, "rearm": 4},
    {"k": 3, "n": 6, "hold": 10, "dead_time": 2, "rearm": 1},
]


@pytest.mark.parametrize("params", POLICY_PARAMS, ids=lambda p: ",".join(p) or "plain")
@pytest.mark.parametrize("seed", range(8))
def test_policy_stream_equals_batch(params, seed):
    normal = np.random.default_rng(100 + seed).normal(0, 1, 500)
    policy = al.AlarmPolicy(("percentile", {"q": 90}), **params).fit(normal)
    s = _random_scores(seed)
    batch, onsets = policy.predict(s), policy.announce(s)
    live = policy.stream()
    states, announced = [], []
    for x in s:
        states.append(live.update(x))
        announced.append(live.announced)
    assert states == batch.tolist()
    assert announced == onsets.tolist()
    assert batch.any() and not batch.all()  # the series exercises the policy
    assert np.array_equal(live.reset().run(s), batch)


@pytest.mark.parametrize("seed", range(4))
def test_policy_steps_are_the_standalone_functions_in_order(seed):
    normal = np.random.default_rng(seed).normal(0, 1, 400)
    s = _random_scores(seed)
    p = al.AlarmPolicy(("percentile", {"q": 90}), hysteresis_off=("percentile", {"q": 70}), k=2, n=3,
                       min_duration=2, hold=3, dead_time=4, rearm=5).fit(normal)
    on = make_threshold(("percentile", {"q": 90})).fit(normal).threshold_
    off = make_threshold(("percentile", {"q": 70})).fit(normal).threshold_
    assert (p.threshold_, p.off_threshold_) == (on, off)
    level = al.hysteresis_alarms(s, on, off)
    step = al.k_of_n_alarms(level.astype(float), 0.5, 2, 3)
    step = al.min_duration_alarms(step.astype(float), 0.5, 2)
    step = al.dead_time_alarms(al.hold_alarms(step, 3), 4)
    assert np.array_equal(p.predict(s), step)
    assert np.array_equal(p.announce(s), al.announcements(step, 5))


def test_policy_plain_is_score_above_threshold_and_nan_never_alarms():
    normal = np.arange(100.0)
    p = al.AlarmPolicy(("percentile", {"q": 50})).fit(normal)
    s = np.array([0.0, 60.0, np.nan, 49.5, 99.0])
    assert p.predict(s).tolist() == [False, True, False, False, True]
    assert not p.predict(np.full(10, np.nan)).any()
    assert not p.stream().run(np.full(10, np.nan)).any()


def test_policy_fit_drops_missing_normal_scores():
    normal = np.r_[np.full(5, np.nan), np.arange(100.0)]
    p = al.AlarmPolicy(("percentile", {"q": 50})).fit(normal)
    assert p.n_scores_ == 100 and p.threshold_ == pytest.approx(49.5)


def test_policy_durations_are_converted_with_the_index():
    idx = pd.date_range("2026-01-01", periods=400, freq="1min")
    normal = np.random.default_rng(0).normal(0, 1, 400)
    s = _random_scores(1, 400)
    by_time = al.AlarmPolicy(1.0, k=2, n="4min", min_duration="2min", hold="3min", dead_time="5min",
                             rearm="1h").fit(normal, index=idx)
    by_samples = al.AlarmPolicy(1.0, k=2, n=4, min_duration=2, hold=3, dead_time=5, rearm=60).fit(normal)
    assert (by_time.n_, by_time.min_duration_, by_time.hold_, by_time.dead_time_, by_time.rearm_) == (4, 2, 3, 5, 60)
    assert by_time.sampling_period_ == pd.Timedelta("1min")
    assert np.array_equal(by_time.predict(s), by_samples.predict(s))
    period = al.AlarmPolicy(1.0, hold="30s", sampling_period="10s").fit(normal)
    assert period.hold_ == 3


def test_policy_is_a_scikit_learn_estimator():
    p = al.AlarmPolicy("pot", k=2, n=5, hold=3)
    q = clone(p)
    assert q.get_params() == p.get_params()
    assert not hasattr(q, "threshold_")
    with pytest.raises(NotFittedError, match="fit"):
        p.predict([1.0])
    with pytest.raises(NotFittedError, match="fit"):
        p.stream()


# --------------------------------------------------------------------------- #
# bad parameters, empty and all-NaN scores
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("call, match", [
    (lambda: al.k_of_n_alarms([1.0], 0.5, k=3, n=2), r"k must be an integer in \[1, 2\]"),
    (lambda: al.k_of_n_alarms([1.0], 0.5, k=1, n=0), "n must be an integer >= 1"),
    (lambda: al.k_of_n_alarms([1.0], np.nan, k=1, n=1), "threshold must be a finite number"),
    (lambda: al.min_duration_alarms([1.0], 0.5, 0), "min_duration must be an integer >= 1"),
    (lambda: al.min_duration_alarms([1.0], 0.5, 2.0), "min_duration must be an integer"),
    (lambda: al.hysteresis_alarms([1.0], on=1.0, off=2.0), "off must be <= on"),
    (lambda: al.hysteresis_alarms([1.0], on="1", off=0.0), "on must be a finite number"),
    (lambda: al.hold_alarms([True], -1), "hold must be an integer >= 0"),
    (lambda: al.dead_time_alarms([True], True), "dead_time must be an integer"),
    (lambda: al.announcements([True], 0), "rearm must be an integer >= 1"),
    (lambda: al.merge_gaps([True], 1.5), "gap must be an integer"),
    (lambda: al.merge_gaps([0.5], 1), "alarms must be binary"),
    (lambda: al.all_windows_alarms([1.0], 0.5, 0), "window must be an integer >= 1"),
    (lambda: al.all_windows_alarms([1.0], 0.5, 1, convention="skab"), "window must be an integer >= 2"),
    (lambda: al.all_windows_alarms([1.0], 0.5, 3, convention="keras"), "convention must be one of"),
    (lambda: al.AllWindowsStream(0.5, 3, convention="x"), "convention must be one of"),
    (lambda: al.MergeGapsStream(-2), "gap must be an integer >= 0"),
    (lambda: al.AlarmPolicy(k=0).fit([1.0, 2.0]), "k must be an integer"),
    (lambda: al.AlarmPolicy(k=3, n=2).fit([1.0, 2.0]), r"k must be an integer in \[1, 2\]"),
    (lambda: al.AlarmPolicy(k=3, n="2min").fit([1.0, 2.0], index=pd.date_range("2026", periods=2, freq="1min")),
     r"k must be an integer in \[1, 2\]"),
    (lambda: al.AlarmPolicy(n=2.5).fit([1.0, 2.0]), "n must be an integer"),
    (lambda: al.AlarmPolicy(hold="soon").fit([1.0, 2.0]), "hold must be a number of samples or a duration"),
    (lambda: al.AlarmPolicy(hold="5min").fit([1.0, 2.0]), "hold='5min' is a duration.*sampling period"),
    (lambda: al.AlarmPolicy(rearm=0).fit([1.0, 2.0]), "rearm must be an integer >= 1"),
    (lambda: al.AlarmPolicy(threshold=[1, 2]).fit([1.0, 2.0]), "threshold must be a threshold spec"),
    (lambda: al.AlarmPolicy(threshold="nope").fit([1.0, 2.0]), "threshold must be a threshold spec"),
    (lambda: al.AlarmPolicy(threshold=("percentile", {"q": 0})).fit([1.0, 2.0]), "q must be a number"),
    (lambda: al.AlarmPolicy(hysteresis_off=50.0).fit(np.arange(10.0)), "off level 50 above the on level"),
    (lambda: al.AlarmPolicy(sampling_period=-3).fit([1.0]), "sampling_period must be a number > 0"),
    (lambda: al.AlarmPolicy().fit([1.0, 2.0], index=[0, 1]), "index must be a pandas DatetimeIndex"),
    (lambda: al.AlarmPolicy(1.0).fit([1.0]).stream().update("high"), "score must be a number"),
    (lambda: al.AlarmStream(object()), "policy must be a fitted AlarmPolicy"),
    (lambda: al.chattering([True], pd.date_range("2026", periods=1), count=1), "count must be an integer >= 2"),
    (lambda: al.chattering([True], pd.date_range("2026", periods=1), within="0s"), "within must be a positive"),
    (lambda: al.alarm_table([True, False], scores=[1.0]), "scores has 1 values but alarms has 2"),
    (lambda: al.alarm_table([True], sensor_errors=[[1.0, 2.0]], sensors=["a"]), "sensors has 1 names"),
    (lambda: al.alarms_per_hour([True], pd.date_range("2026", periods=2)), "index has 2 timestamps"),
])
def test_bad_parameters_name_the_parameter(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_parameters_are_invalid_parameter_errors():
    with pytest.raises(InvalidParameterError):
        al.AlarmPolicy(dead_time=-1).fit([1.0, 2.0])
    with pytest.raises(InvalidParameterError):
        al.k_of_n_alarms([1.0], 0.5, k=True, n=1)


@pytest.mark.parametrize("call", [
    lambda s: al.k_of_n_alarms(s, 0.5, 1, 2),
    lambda s: al.min_duration_alarms(s, 0.5, 2),
    lambda s: al.hysteresis_alarms(s, 0.5, 0.0),
    lambda s: al.all_windows_alarms(s, 0.5, 2),
    lambda s: al.AlarmPolicy(0.5).fit([1.0]).predict(s),
    lambda s: al.AlarmPolicy().fit(s),
    lambda s: al.hold_alarms(s, 1),
])
def test_empty_scores_are_rejected(call):
    with pytest.raises(ValueError, match="empty"):
        call(np.array([]))


def test_all_nan_scores_give_no_alarm_and_cannot_fit():
    s = np.full(12, np.nan)
    assert not al.k_of_n_alarms(s, 0.5, 1, 1).any()
    assert not al.hysteresis_alarms(s, 0.5, 0.0).any()
    assert not al.all_windows_alarms(s, 0.5, 3).any()
    assert not al.AllWindowsStream(0.5, 3).run(s).any()
    with pytest.raises(ValueError, match="normal_scores are all NaN"):
        al.AlarmPolicy().fit(s)


# --------------------------------------------------------------------------- #
# alarm-management figures
# --------------------------------------------------------------------------- #
def test_alarm_table_reports_times_peaks_and_top_sensors():
    idx = pd.date_range("2026-01-01", periods=8, freq="1min")
    a = _bools("01100111")
    scores = [0, 2, 3, np.nan, 0, 5, np.nan, 4]
    errors = pd.DataFrame({"flow": [0, 1, 9, 0, 0, 1, 1, 1], "temp": [0, 2, 1, 0, 0, 7, 8, 0],
                           "pressure": [0, 0, 0, 0, 0, 0, 0, 3]})
    t = al.alarm_table(a, scores, idx, errors, n_top=2)
    assert t[["start", "end", "n_samples"]].values.tolist() == [[1, 3, 2], [5, 8, 3]]
    assert t["start_time"].tolist() == [idx[1], idx[5]]
    assert t["end_time"].tolist() == [idx[2], idx[7]]
    assert t["duration"].tolist() == [pd.Timedelta("2min"), pd.Timedelta("3min")]
    assert t["peak_score"].tolist() == [3.0, 5.0]
    assert t["peak"].tolist() == [idx[2], idx[5]]
    assert t["top_sensor"].tolist() == ["flow", "temp"]
    assert t["top_error"].tolist() == [9.0, 8.0]
    assert t["top_sensors"].tolist() == ["flow, temp", "temp, pressure"]
    names = al.alarm_table(a, sensor_errors=errors.to_numpy(), sensors=["f", "t", "p"])
    assert names["top_sensor"].tolist() == ["f", "t"]
    empty = al.alarm_table(np.zeros(5, dtype=bool), scores=np.ones(5))
    assert empty.empty and list(empty.columns) == ["start", "end", "n_samples", "peak_score", "peak"]


def test_alarms_per_hour_counts_onsets_and_re_alarms_per_clock_hour():
    idx = pd.date_range("2026-01-01 00:30", periods=120, freq="1min")
    a = np.zeros(120, dtype=bool)
    a[[5, 10, 20]] = True  # three onsets in the first (partial) hour
    a[40:70] = True  # one standing alarm across 01:10 - 01:39
    per_hour = al.alarms_per_hour(a, idx)
    assert per_hour.tolist() == [3, 1, 0]
    assert per_hour.index.tolist() == list(pd.date_range("2026-01-01 00:00", periods=3, freq="1h"))
    assert al.alarms_per_hour(a, idx, rearm=10).tolist() == [3, 3, 0]


def test_chattering_marks_every_onset_of_a_burst():
    idx = pd.date_range("2026-01-01", periods=200, freq="10s")
    a = np.zeros(200, dtype=bool)
    a[[0, 2, 4]] = True  # three onsets within 40 s: chattering
    a[[30, 40, 50]] = True  # 100 s apart: not chattering with count=3 within 1 min
    a[[100, 102]] = True  # only two
    c = al.chattering(a, idx)
    assert c["start"].tolist() == [0, 2, 4, 30, 40, 50, 100, 102]
    assert c["chattering"].tolist() == [True, True, True, False, False, False, False, False]
    assert c["onsets_in_window"].tolist() == [1, 2, 3, 1, 1, 1, 1, 2]
    assert al.chattering(a, idx, within="4min")["chattering"].tolist()[3:6] == [True] * 3
    assert al.chattering(a, idx, count=2)["chattering"].tolist() == [True] * 3 + [False] * 3 + [True] * 2
    assert al.chattering(np.zeros(5, dtype=bool), idx[:5]).empty


def test_standing_alarms_are_those_longer_than_the_limit():
    idx = pd.date_range("2026-01-01", periods=300, freq="1min")
    a = np.zeros(300, dtype=bool)
    a[10:20] = True
    a[50:200] = True
    standing = al.standing_alarms(a, idx, longer_than="1h")
    assert standing[["start", "end"]].values.tolist() == [[50, 200]]
    assert standing["duration"].tolist() == [pd.Timedelta("150min")]
    assert len(al.standing_alarms(a, idx, longer_than="5min")) == 2


# --------------------------------------------------------------------------- #
# calibration to a false-alarm budget
# --------------------------------------------------------------------------- #
def _val_test_series(seed: int = 0):
    """Four days at one sample a minute: val = the first two, test = the last two, events in both."""
    rng = np.random.default_rng(seed)
    n = 4 * 1440
    idx = pd.date_range("2026-01-01", periods=n, freq="1min")
    # correlated noise (AR(1), unit variance): normal excursions last several samples, as real scores do
    scores = lfilter([np.sqrt(1 - 0.9**2)], [1.0, -0.9], rng.normal(0, 1, n))
    y = np.zeros(n, dtype=bool)
    for start in (300, 900, 1700, 2400, 3200, 3900, 4700, 5300):
        length = 30 + start % 40
        y[start : start + length] = True
        scores[start : start + length] += rng.uniform(1.0, 3.0)
    scores[rng.random(n) < 0.003] += 4.0  # isolated spikes: false alarms for a plain threshold
    return scores, y, idx, 2 * 1440


CANDIDATES = {"threshold": [("percentile", {"q": q}) for q in (90.0, 99.0, 99.9)],
              "min_duration": [1, 3, 8], "hold": [0, 5]}


@pytest.mark.parametrize("budget", [0.5, 3.0, 20.0])
def test_budget_calibration_respects_the_budget_on_the_data_it_saw(budget):
    scores, y, idx, m = _val_test_series()
    policy, table = al.calibrate_to_budget(scores[:m], y[:m], budget, index=idx[:m], candidates=CANDIDATES)
    assert len(table) == 18 and table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["false_alarms_per_day"] <= budget
    assert chosen["event_recall"] == table.loc[table["within_budget"], "event_recall"].max()
    # the returned policy is the chosen row, fitted on the normal validation scores
    assert policy.threshold_ == chosen["threshold_"]
    normal = scores[:m][~y[:m]]
    spec = policy.threshold
    assert policy.threshold_ == make_threshold(spec).fit(normal).threshold_
    alarms = policy.predict(scores[:m])
    assert false_alarms_per_day(y[:m], alarms, index=idx[:m]) == pytest.approx(chosen["false_alarms_per_day"])


def test_budget_calibration_trades_recall_for_false_alarms():
    scores, y, idx, m = _val_test_series()
    chosen = []
    for budget in (0.0, 0.5, 2.0, 10.0, 1000.0):
        table = al.calibrate_to_budget(scores[:m], y[:m], budget, index=idx[:m], candidates=CANDIDATES)[1]
        chosen.append(table[table["chosen"]].iloc[0])
    recalls = [row["event_recall"] for row in chosen]
    assert recalls == sorted(recalls)  # a larger budget never loses recall
    assert recalls[0] < recalls[-1]  # and here it buys some
    # with an unlimited budget the most sensitive candidate wins on recall
    assert recalls[-1] == table["event_recall"].max()


def test_budget_calibration_never_sees_the_test_part():
    scores, y, idx, m = _val_test_series()
    policy, table = al.calibrate_to_budget(scores[:m], y[:m], 3.0, index=idx[:m], candidates=CANDIDATES)
    before = policy.predict(scores[m:])
    scores[m:] = np.random.default_rng(9).normal(5, 3, scores.size - m)  # a completely different test part
    y[m:] = ~y[m:]
    policy2, table2 = al.calibrate_to_budget(scores[:m], y[:m], 3.0, index=idx[:m], candidates=CANDIDATES)
    pd.testing.assert_frame_equal(table, table2)
    assert policy2.get_params() == policy.get_params() and policy2.threshold_ == policy.threshold_
    assert not np.array_equal(policy2.predict(scores[m:]), before)  # the test part did change
    # control: a change in the validation part does move the calibration
    scores[: m // 2] += 2.0
    _, table3 = al.calibrate_to_budget(scores[:m], y[:m], 3.0, index=idx[:m], candidates=CANDIDATES)
    assert not table3["threshold_"].equals(table["threshold_"])


def test_budget_calibration_with_durations_and_training_scores():
    scores, y, idx, m = _val_test_series()
    train = np.random.default_rng(1).normal(0, 1, 3000)
    policy, table = al.calibrate_to_budget(scores[:m], y[:m], 5.0, index=idx[:m], normal_scores=train,
                                           candidates={"threshold": [("percentile", {"q": 99.0})],
                                                       "min_duration": ["1min", "3min"]})
    assert policy.sampling_period_ == pd.Timedelta("1min")
    assert set(table["min_duration"]) == {"1min", "3min"}
    assert policy.threshold_ == make_threshold(("percentile", {"q": 99.0})).fit(train).threshold_


def test_budget_calibration_warns_when_no_candidate_fits():
    scores, y, idx, m = _val_test_series()
    with pytest.warns(UserWarning, match="no candidate stays within 0 false alarms"):
        policy, table = al.calibrate_to_budget(scores[:m], y[:m], 0.0, index=idx[:m],
                                               candidates={"threshold": [("percentile", {"q": 50.0}),
                                                                         ("percentile", {"q": 60.0})]})
    assert not table["within_budget"].any()
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["false_alarms_per_day"] == table["false_alarms_per_day"].min()


def test_budget_calibration_falls_back_to_the_quietest_even_at_a_lower_recall():
    scores, y, idx, m = _val_test_series()
    candidates = {"threshold": [("percentile", {"q": q}) for q in (50.0, 90.0, 99.0)]}
    with pytest.warns(UserWarning, match="no candidate stays within 0 false alarms"):
        _, table = al.calibrate_to_budget(scores[:m], y[:m], 0.0, index=idx[:m], candidates=candidates)
    quietest = table["false_alarms_per_day"].idxmin()
    assert table.loc[quietest, "event_recall"] < table["event_recall"].max()  # recall would pick another one
    assert table["chosen"].tolist() == [i == quietest for i in table.index]


@pytest.mark.parametrize("kwargs, match", [
    ({"budget_per_day": -1}, "budget_per_day must be a number >= 0"),
    ({"index": None}, "index must be a pandas DatetimeIndex"),
    ({"candidates": {"k": 2}}, "candidates must be"),
    ({"candidates": []}, "candidates is empty"),
    ({"candidates": {"hold": [-1]}}, "hold must be an integer >= 0"),
    ({"base": "strict"}, "base must be an AlarmPolicy"),
    ({"y_val": np.ones(10)}, "y_val has 10 labels"),
])
def test_budget_calibration_bad_arguments(kwargs, match):
    scores, y, idx, m = _val_test_series()
    args = {"val_scores": scores[:m], "y_val": y[:m], "budget_per_day": 1.0, "index": idx[:m],
            "candidates": {"hold": [0]}, **kwargs}
    budget = args.pop("budget_per_day")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises((ValueError, TypeError), match=match):
            al.calibrate_to_budget(args.pop("val_scores"), args.pop("y_val"), budget, **args)


def test_module_exports_exist():
    for name in al.__all__:
        assert hasattr(al, name), name
    assert set(itertools.chain.from_iterable(c.keys() for c in al.DEFAULT_CANDIDATES)) <= set(
        al.AlarmPolicy().get_params())


def test_calibrate_to_budget_spends_the_budget_on_earlier_alarms():
    """Equal recall: within the budget the earlier detection wins, not the fewer false alarms."""
    n = 3 * 1440  # three days of 1-min samples
    idx = pd.date_range("2024-01-01", periods=n, freq="1min")
    rng = np.random.default_rng(0)
    s = rng.normal(size=n)
    y = np.zeros(n, bool)
    for start in (600, 2000, 3500):  # three events whose scores ramp up slowly
        y[start:start + 60] = True
        s[start:start + 60] += np.linspace(1, 8, 60)
    cands = [{"threshold": [("percentile", {"q": 99.0}), ("percentile", {"q": 100.0, "margin": 1.6})]}]
    loose, table = al.calibrate_to_budget(s, y, 100.0, index=idx, candidates=cands)
    assert table["event_recall"].eq(1.0).all()
    assert table["false_alarms_per_day"].iloc[0] > table["false_alarms_per_day"].iloc[1]
    assert loose.threshold_ == table["threshold_"].iloc[0]  # lower threshold: earlier, more false alarms
    strict, _ = al.calibrate_to_budget(s, y, float(table["false_alarms_per_day"].iloc[1]), index=idx, candidates=cands)
    assert strict.threshold_ == table["threshold_"].iloc[1]


# --------------------------------------------------------------------------- #
# nothing passes silently (issue 25)
# --------------------------------------------------------------------------- #
def _budget_data():
    idx = pd.date_range("2024-01-01", periods=300, freq="1min")
    scores = np.random.default_rng(0).normal(size=300)
    y = np.zeros(300, int)
    y[200:220] = 1
    scores[200:220] += 5
    return scores, y, idx


def test_calibrate_to_budget_refuses_labels_without_an_event():
    scores, _, idx = _budget_data()
    with pytest.raises(InvalidParameterError, match="y_val holds no labelled event"):
        al.calibrate_to_budget(scores, np.zeros(300), 5, index=idx)


@pytest.mark.parametrize("candidates", [{}, [], [{}], [{"min_duration": [1, 3]}, {}]])
def test_calibrate_to_budget_refuses_empty_candidates_alike(candidates):
    scores, y, idx = _budget_data()
    with pytest.raises(InvalidParameterError, match="candidates is empty"):
        al.calibrate_to_budget(scores, y, 5, index=idx, candidates=candidates)


def test_calibrate_to_budget_names_rearm():
    scores, y, idx = _budget_data()
    with pytest.raises(InvalidParameterError, match="^rearm must be a positive duration"):
        al.calibrate_to_budget(scores, y, 5, index=idx, rearm="-1h")
    with pytest.raises(InvalidParameterError, match="^rearm must be a positive duration"):
        false_alarms_per_day(y, y, index=idx, rearm="-1h")


@pytest.mark.parametrize("bad", ["no", np.nan, 2, "1"])
def test_merge_gaps_stream_refuses_what_the_batch_refuses(bad):
    with pytest.raises((TypeError, ValueError)):
        al.merge_gaps([True, bad], 0)
    with pytest.raises(InvalidParameterError, match="alarm must be a bool or 0/1"):
        al.MergeGapsStream(0).run([True, bad])


def test_merge_gaps_stream_takes_what_the_batch_takes():
    values = [True, 0, 1.0, np.False_, np.int64(1), False]
    assert al.MergeGapsStream(1).run(values).tolist()[:4] == al.merge_gaps(values, 1).tolist()[:4]


@pytest.mark.parametrize("bad", [True, np.True_, "1.5", None, 1 + 2j])
def test_alarm_stream_refuses_what_predict_refuses(bad):
    policy = al.AlarmPolicy(0.5).fit(np.arange(10.0))
    with pytest.raises((TypeError, ValueError)):
        policy.predict([bad])
    with pytest.raises(InvalidParameterError, match="score must be"):
        policy.stream().update(bad)
    with pytest.raises(InvalidParameterError, match="window_score must be"):
        al.AllWindowsStream(0.5, 2).update(bad)


def test_alarm_stream_refuses_an_array_per_update():
    policy = al.AlarmPolicy(0.5).fit(np.arange(10.0))
    with pytest.raises(InvalidParameterError, match="one number per update.*shape \\(2,\\)"):
        policy.stream().update(np.array([1.0, 2.0]))


def test_alarm_stream_takes_numbers_of_any_type():
    policy = al.AlarmPolicy(0.5).fit(np.arange(10.0))
    values = [1, np.float32(0.2), np.int8(3), float("nan"), np.inf]
    assert policy.stream().run(values).tolist() == policy.predict(values).tolist()


@pytest.mark.parametrize(("threshold", "word"), [(["percentile", {"q": "high"}], "q must be"),
                                                 (["pot", {"risk": 5}], "risk must be"),
                                                 (["meanstd", {"k": -1}], "k")])
def test_make_policy_checks_threshold_parameters_at_construction(threshold, word):
    with pytest.raises(InvalidParameterError, match=f"threshold.*{word}"):
        al.make_policy({"threshold": threshold})
    with pytest.raises(InvalidParameterError, match=f"hysteresis_off.*{word}"):
        al.make_policy({"threshold": 3.0, "hysteresis_off": threshold})


def test_alarm_table_shows_an_infinite_sensor_error_and_warns():
    errs = [[0, 1], [np.inf, 2], [1, 2], [0, 0]]
    with pytest.warns(UserWarning, match="sensor_errors holds 1 infinite value.*row 1, sensor 'a'"):
        table = al.alarm_table([0, 1, 1, 0], sensor_errors=errs, sensors=["a", "b"])
    assert table["top_sensor"].tolist() == ["a"] and table["top_error"].tolist() == [np.inf]
    # a sensor missing (NaN) in the range is listed last, and an all-missing range gives NaN
    table = al.alarm_table([0, 1, 1, 0], sensor_errors=[[0, 0], [np.nan, 2], [np.nan, 1], [0, 0]], sensors=["a", "b"])
    assert table["top_sensor"].tolist() == ["b"] and table["top_error"].tolist() == [2.0]
    table = al.alarm_table([0, 1, 0], sensor_errors=[[0, 0], [np.nan, np.nan], [0, 0]])
    assert np.isnan(table["top_error"].iloc[0])


def test_a_score_list_mixing_booleans_is_refused_as_a_stream_refuses_it():
    policy = al.AlarmPolicy(0.5).fit(np.arange(10.0))
    with pytest.raises(InvalidParameterError, match="scores mixes booleans with numbers.*row 1"):
        policy.predict([1.0, True, 0.2])
    with pytest.raises(InvalidParameterError, match="score must be"):
        policy.stream().run([1.0, True, 0.2])


def test_alarm_table_duration_is_unknown_with_a_single_timestamp():
    table = al.alarm_table([True], index=pd.date_range("2024-01-01", periods=1, freq="1min"))
    assert pd.api.types.is_timedelta64_dtype(table["duration"]) and table["duration"].isna().all()
    assert al.standing_alarms([True], pd.date_range("2024-01-01", periods=1, freq="1min"), "1s").empty
