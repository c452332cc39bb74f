"""Issue 25: the shared checks of sadlib.validation name what was wrong and the fix, never pass silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sadlib.validation import InvalidParameterError, as_1d_float, as_labels, as_period, check_number


@pytest.mark.parametrize("text", ["1", "5", " 2.5 "])
def test_as_period_refuses_strings_without_unit(text):
    # pandas reads "5" as 5 nanoseconds: a sampling period of 5 ns is never what was meant
    with pytest.raises(InvalidParameterError, match=r"sampling_period .* has no unit .*'\d(\.5)?s'"):
        as_period(text)


@pytest.mark.parametrize("value, expected", [
    (np.timedelta64(5, "s"), pd.Timedelta("5s")),
    ("10s", pd.Timedelta("10s")),
    (60, pd.Timedelta("1min")),
    (np.int64(3), pd.Timedelta("3s")),
])
def test_as_period_accepts_durations(value, expected):
    assert as_period(value) == expected


@pytest.mark.parametrize("value, match", [
    (1e30, "longer than pandas can represent"),
    ("nan", "positive duration"),
    ("inf", "not a duration"),
    (np.timedelta64("NaT"), "positive duration"),
    (True, "number > 0"),
])
def test_as_period_names_the_parameter(value, match):
    with pytest.raises(InvalidParameterError, match=match) as info:
        as_period(value, name="rearm")
    assert str(info.value).startswith("rearm")


def test_check_number_refuses_huge_integers_clearly():
    with pytest.raises(InvalidParameterError, match="q must be a finite number"):
        check_number("q", 10**400)


def test_as_labels_nullable_and_ragged():
    with pytest.raises(ValueError, match="missing label"):
        as_labels(pd.DataFrame({"y": pd.array([1, None, 0], dtype="Int64")}))
    np.testing.assert_array_equal(as_labels(pd.Series([1, 0], dtype="Int64")), [True, False])
    with pytest.raises(ValueError, match="scores is ragged"):
        as_1d_float([[1.0, 2.0], [3.0]])


def test_as_time_index_explains_a_series_of_timestamps():
    from sadlib.validation import as_time_index

    stamps = pd.Series(pd.date_range("2024-01-01", periods=3, freq="1h"))
    with pytest.raises(InvalidParameterError, match=r"holds timestamps as values .*pd.DatetimeIndex\(series\)"):
        as_time_index(stamps, 3)
    assert as_time_index(pd.DatetimeIndex(stamps), 3).equals(pd.DatetimeIndex(stamps))
