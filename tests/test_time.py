"""sadlib._time: the one home of the sampling period of an index and of durations as sample counts."""

import pandas as pd
import pytest

from sadlib._time import duration_to_samples, median_spacing
from sadlib.validation import InvalidParameterError


def test_median_spacing_ignores_a_few_gaps():
    idx = pd.date_range("2024-01-01", periods=10, freq="1min").delete([3, 4])  # one 3-minute gap
    assert median_spacing(idx) == pd.Timedelta("1min")
    assert median_spacing(pd.DataFrame(index=idx)) == pd.Timedelta("1min")


def test_median_spacing_of_a_short_or_integer_index_is_none():
    assert median_spacing(pd.date_range("2024-01-01", periods=1, freq="1s")) is None
    assert median_spacing(pd.RangeIndex(5)) is None


def test_median_spacing_is_a_timedelta_at_any_resolution():
    idx = pd.date_range("2024-01-01", periods=4, freq="5s").as_unit("us")
    assert median_spacing(idx) == pd.Timedelta("5s")


@pytest.mark.parametrize(("duration", "nearest", "up"), [
    ("5min", 2, 3),     # 2.5 samples: nearest goes to the even neighbour, up to 3
    ("7min", 4, 4),     # 3.5 samples
    ("4min", 2, 2),     # exact
    ("1min", 0, 1),     # half a sample
    ("0s", 0, 0),
])
def test_duration_to_samples_rounding_is_chosen(duration, nearest, up):
    step = pd.Timedelta("2min")
    assert duration_to_samples(duration, step, rounding="nearest") == nearest
    assert duration_to_samples(duration, step, rounding="up") == up
    assert duration_to_samples(duration, step, rounding="nearest", low=1) == max(1, nearest)


def test_duration_to_samples_refuses_bad_rounding_and_period():
    with pytest.raises(InvalidParameterError, match="rounding"):
        duration_to_samples("1min", pd.Timedelta("1s"), rounding="down")
    with pytest.raises(InvalidParameterError, match="hold.*positive"):
        duration_to_samples("1min", pd.Timedelta(0), rounding="up", name="hold")
