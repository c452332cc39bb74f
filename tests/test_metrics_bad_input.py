"""Issue 25: metrics refuse silent or unclear input with an error naming the parameter, the problem and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sadlib import metrics as m
from sadlib.validation import InvalidParameterError

IDX = pd.date_range("2024-01-01", periods=48, freq="1h")
Y = np.zeros(48, dtype=bool)
P = np.zeros(48, dtype=bool)
P[[3, 10, 20]] = True


@pytest.mark.parametrize("fn", [m.false_alarms_per_day, m.false_alarm_hours_per_day])
def test_sampling_period_that_contradicts_the_index_is_refused(fn):
    with pytest.raises(InvalidParameterError, match=r"sampling_period='1s'.*median spacing is 0 days 01:00:00"):
        fn(Y, P, index=IDX, sampling_period="1s")
    with pytest.raises(InvalidParameterError, match="disagrees with index"):
        m.evaluate(Y, None, P, index=IDX, sampling_period="1min")


def test_sampling_period_that_agrees_with_the_index_gives_the_same_numbers():
    assert m.false_alarms_per_day(Y, P, index=IDX, sampling_period="1h") == m.false_alarms_per_day(Y, P, index=IDX)
    assert m.false_alarms_per_day(Y, P, index=IDX) == 1.5  # 3 onsets in 48 h
    jitter = IDX + pd.to_timedelta(np.r_[0, np.tile([2, -2], 23), 0], unit="min")  # median spacing 1 h +- 4 min
    assert m.false_alarms_per_day(Y, P, index=jitter, sampling_period="1h") > 0


def test_rearm_errors_name_rearm():
    with pytest.raises(InvalidParameterError, match="^rearm must be a positive duration"):
        m.false_alarms_per_day(Y, P, index=IDX, rearm="-1h")
    with pytest.raises(InvalidParameterError, match="^rearm must be a number > 0"):
        m.false_alarms_per_day(Y, P, index=IDX, rearm=0)


@pytest.mark.parametrize("call", [
    lambda seed: m.random_scores(5, seed=seed),
    lambda seed: m.random_alarms(5, 0.5, seed=seed),
    lambda seed: m.point_adjusted_f1([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.2], 0.5, seed=seed),
    lambda seed: m.baselines([0, 1, 1, 0], alarm_rate=0.5, sampling_period="1min", seed=seed),
])
@pytest.mark.parametrize("seed", ["a", 1.5, True, -1, None])
def test_bad_seeds_are_named(call, seed):
    with pytest.raises(InvalidParameterError, match="^seed must be an integer >= 0"):
        call(seed)


def test_random_baselines_still_take_numpy_integers():
    np.testing.assert_array_equal(m.random_scores(4, seed=np.int64(3)), m.random_scores(4, seed=3))


@pytest.mark.parametrize("starts", [[5], [5.0], [True]])
def test_lead_times_refuses_events_given_as_row_numbers(starts):
    events = pd.DataFrame({"start": starts, "end": [8]})
    with pytest.raises(InvalidParameterError, match=r"events\['start'\] holds numbers .*index\[events\['start'\]\]"):
        m.lead_times(events, P, IDX)


def test_lead_times_row_positions_converted_as_the_error_says_work():
    events = pd.DataFrame({"start": IDX[[3]], "end": IDX[[5]]})
    assert m.lead_times(events, P, IDX)["detected"].tolist() == [True]
    assert m.lead_times(pd.DataFrame({"start": [], "end": []}), P, IDX).empty  # no failure: an empty table


def test_lead_times_takes_a_numpy_timedelta_horizon():
    labels = np.zeros(48, int)
    labels[12:15] = 1
    a = m.lead_times(labels, P, IDX, horizon=np.timedelta64(2, "h"))
    b = m.lead_times(labels, P, IDX, horizon="2h")
    pd.testing.assert_frame_equal(a, b)
    assert b["lead_time"].iloc[0] == pd.Timedelta("2h")  # the alarm at 10:00, two hours before 12:00


@pytest.mark.parametrize("bad, match", [
    ([(IDX[3], IDX[5])], "events_or_labels"),
    (pd.Series(["a"] * 48), "events_or_labels is a Series of"),
])
def test_lead_times_names_events_or_labels(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        m.lead_times(bad, P, IDX)


@pytest.mark.parametrize("y, error, match", [
    (None, TypeError, "y is None"),
    (1, ValueError, r"y \(int\) is not a sequence of labels"),
    ({0, 1}, ValueError, r"y \(set\) is not a sequence"),
    ([[0, 1], [1]], ValueError, "y is ragged"),
    (pd.Series([True, None, False], dtype="boolean"), ValueError, "1 missing label.*row 1"),
    (np.array([1 + 0j, 0j]), TypeError, "complex"),
    ([0, np.nan, 1], ValueError, "binary"),
    (np.array(["0", "1"]), TypeError, "dtype"),
])
def test_events_refuse_what_is_not_labels(y, error, match):
    with pytest.raises(error, match=match):
        m.events(y)


def test_events_of_a_reversed_or_unsorted_index_are_refused():
    with pytest.raises(ValueError, match="not sorted"):
        m.detection_delays(Y, P, index=IDX[::-1])
    with pytest.raises(ValueError, match="not sorted"):
        m.false_alarms_per_day(Y, P, index=IDX[::-1])


def test_lead_times_labels_of_another_length_name_alarms_not_scores():
    with pytest.raises(ValueError, match="events_or_labels has 5 labels but alarms and index have 48 rows"):
        m.lead_times([0, 1, 1, 0, 0], P, IDX)
