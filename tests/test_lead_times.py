"""sadlib.metrics.lead_times: early warning per failure, from an events table or from labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sadlib.metrics import detection_delays, lead_times
from sadlib.validation import InvalidParameterError

IDX = pd.date_range("2022-03-01", periods=48, freq="1h")


def events(**extra):
    table = pd.DataFrame({"start": [IDX[10], IDX[30]], "end": [IDX[14], IDX[35]], "type": ["air_leak", "oil_leak"],
                          "sensor": ["TP3", "Oil_level"], "precursor_start": [IDX[6], IDX[30]]})
    return table.assign(**extra)


def alarms_at(*positions):
    a = np.zeros(len(IDX), dtype=bool)
    a[list(positions)] = True
    return a


def test_first_alarm_after_the_precursor_gives_the_lead_time():
    out = lead_times(events(), alarms_at(8, 9, 12), IDX)
    assert out.index.name == "failure" and list(out.index) == [0, 1]
    assert out.loc[0, "first_alarm"] == IDX[8]
    assert out.loc[0, "lead_time"] == pd.Timedelta("2h")
    assert bool(out.loc[0, "detected"]) and not out.loc[1, "detected"]
    assert pd.isna(out.loc[1, "first_alarm"]) and pd.isna(out.loc[1, "lead_time"])
    assert out.loc[0, "warning_start"] == IDX[6]
    assert out[["type", "sensor"]].to_dict("list") == {"type": ["air_leak", "oil_leak"], "sensor": ["TP3", "Oil_level"]}
    assert str(out["lead_time"].dtype).startswith("timedelta64")


def test_an_alarm_before_the_precursor_is_a_false_alarm_not_a_warning():
    out = lead_times(events(), alarms_at(2, 3), IDX)
    assert not out["detected"].any()
    out = lead_times(events(), alarms_at(2, 12), IDX)  # the early one is ignored, the one inside counts
    assert out.loc[0, "first_alarm"] == IDX[12]


def test_an_alarm_inside_the_failure_has_a_lead_time_of_zero_or_less():
    out = lead_times(events(), alarms_at(10, 33), IDX)
    assert out.loc[0, "lead_time"] == pd.Timedelta(0)
    assert out.loc[1, "lead_time"] == pd.Timedelta("-3h")
    assert out["detected"].all()


def test_alarms_after_the_failure_do_not_count():
    out = lead_times(events(), alarms_at(15, 36, 40), IDX)
    assert not out["detected"].any()


def test_a_standing_alarm_counts_from_the_window_start_like_detection_delays():
    a = np.zeros(len(IDX), dtype=bool)
    a[3:9] = True  # on before the precursor (hour 6), still on then
    out = lead_times(events(), a, IDX)
    assert out.loc[0, "first_alarm"] == IDX[6]
    labels = np.zeros(len(IDX), dtype=bool)
    labels[10:15] = True
    a2 = np.zeros(len(IDX), dtype=bool)
    a2[8:12] = True
    assert lead_times(labels, a2, IDX).loc[0, "lead_time"] == pd.Timedelta(0)
    assert detection_delays(labels, a2, IDX).loc[0, "delay"] == pd.Timedelta(0)


def test_labels_with_a_horizon():
    labels = np.zeros(len(IDX), dtype=int)
    labels[10:15] = 1
    labels[30:36] = 1
    a = alarms_at(5, 7, 31)
    plain = lead_times(labels, a, IDX)
    assert plain.loc[0, "warning_start"] == IDX[10] and not plain.loc[0, "detected"]
    assert plain.loc[1, "lead_time"] == pd.Timedelta("-1h")
    early = lead_times(labels, a, IDX, horizon="4h")  # the window opens at hour 6: the alarm at 5 is too early
    assert early.loc[0, "first_alarm"] == IDX[7] and early.loc[0, "lead_time"] == pd.Timedelta("3h")
    assert (early["end"] == [IDX[14], IDX[35]]).all()  # end is the last labelled timestamp
    assert lead_times(labels, a, IDX, horizon=4 * 3600).equals(early)  # seconds


def test_a_window_never_reaches_back_into_the_previous_failure():
    labels = np.zeros(len(IDX), dtype=int)
    labels[10:15] = labels[18:22] = 1
    out = lead_times(labels, alarms_at(13), IDX, horizon="10h")
    assert out.loc[0, "first_alarm"] == IDX[13]
    assert not out.loc[1, "detected"]  # the alarm inside failure 0 is not a warning of failure 1
    assert out.loc[1, "warning_start"] == IDX[15]


def test_events_keep_their_index_and_order():
    ev = events().iloc[::-1].set_axis(["b", "a"])
    out = lead_times(ev, alarms_at(8), IDX)
    assert list(out.index) == ["b", "a"] and out.loc["a", "first_alarm"] == IDX[8]


def test_without_precursor_column_the_horizon_applies():
    ev = events().drop(columns="precursor_start")
    assert not lead_times(ev, alarms_at(8), IDX).loc[0, "detected"]
    assert lead_times(ev, alarms_at(8), IDX, horizon="3h").loc[0, "lead_time"] == pd.Timedelta("2h")


@pytest.mark.parametrize("make, match", [
    (lambda: (events(), alarms_at(1)[:-1], IDX), "index has 48 timestamps but there are 47 samples"),
    (lambda: (events().drop(columns="end"), alarms_at(1), IDX), "no column"),
    (lambda: (events(end=[IDX[5], IDX[35]]), alarms_at(1), IDX), "end before they start"),
    (lambda: (events(precursor_start=[IDX[12], IDX[30]]), alarms_at(1), IDX), "precursor_start after start"),
    (lambda: (events(start=[pd.NaT, IDX[30]]), alarms_at(1), IDX), "NaT"),
    (lambda: (events(start=["not a time", IDX[30]]), alarms_at(1), IDX), "timestamps"),
    (lambda: (events(), alarms_at(1), np.arange(48)), "DatetimeIndex"),
    (lambda: (events(), alarms_at(1), IDX.tz_localize("UTC")), "time zones"),
    (lambda: (np.ones(48) * 2, alarms_at(1), IDX), "binary"),
])
def test_bad_input_is_named(make, match):
    ev, a, idx = make()
    with pytest.raises(ValueError, match=match):
        lead_times(ev, a, idx)


def test_failures_outside_the_index_and_bad_horizons():
    with pytest.raises(ValueError, match="no timestamp of index"):
        lead_times(events(), alarms_at(1)[:20], IDX[:20])
    with pytest.raises(InvalidParameterError, match="leave horizon out"):
        lead_times(events(), alarms_at(1), IDX, horizon="1h")
    with pytest.raises(InvalidParameterError, match="horizon"):
        lead_times(np.zeros(48), alarms_at(1), IDX, horizon="soon")
    with pytest.raises(InvalidParameterError, match="horizon must be a number > 0"):
        lead_times(np.zeros(48), alarms_at(1), IDX, horizon=-5)


def test_no_failure_gives_an_empty_table():
    out = lead_times(np.zeros(48), alarms_at(1), IDX)
    assert out.empty and {"start", "lead_time", "detected"} <= set(out.columns)
