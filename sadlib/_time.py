"""Time helpers shared by the library: the sampling period of an index, and durations as sample counts.

One home for two small computations that several modules need (:mod:`sadlib.alarms`,
:mod:`sadlib.model_selection`, :mod:`sadlib.metrics`):

* :func:`median_spacing`: the sampling period of a DatetimeIndex, taken as the median
  spacing of consecutive timestamps. The median, not the mean or the first step, so that a
  few gaps (a sensor dropout, a missing hour) do not change it; a Timedelta whatever
  resolution the index has (pandas 3 may use microseconds).
* :func:`duration_to_samples`: how many samples a duration covers, with the rounding
  chosen by the caller, because the right choice depends on what the count is for:

  - ``rounding="nearest"`` (:mod:`sadlib.alarms`, the false-alarm re-count of
    :mod:`sadlib.metrics`): a persistence, hold or re-arm period of ``"5min"`` on 2-minute
    data means "about five minutes", so 2.5 samples become 2 (Python's ``round``: exact
    halves go to the even neighbour, so 2.5 -> 2 and 3.5 -> 4);
  - ``rounding="up"`` (:mod:`sadlib.model_selection`): a gap or block size of ``"1D"`` is a
    lower bound (a gap must cover at least that much time, or training and validation rows
    would share a window), so a fraction of a sample counts as a whole one.

Both keep the behaviour the two modules had before they shared this helper; no result changed.
This module is private: its functions check their inputs' *types* only as far as their callers
have not, and raise :class:`sadlib.validation.InvalidParameterError` naming the caller's parameter.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd

from .validation import InvalidParameterError

__all__ = ["median_spacing", "duration_to_samples", "is_duration", "DURATION_TYPES", "ROUNDINGS"]

#: the roundings :func:`duration_to_samples` knows
ROUNDINGS = ("nearest", "up")

#: the types a parameter counted in samples may take to mean a duration instead ("5min", a Timedelta)
DURATION_TYPES = (str, pd.Timedelta, _dt.timedelta, np.timedelta64)


def is_duration(value: Any) -> bool:
    """Whether ``value`` is meant as a duration (text or a timedelta) rather than a count of samples."""
    return isinstance(value, DURATION_TYPES)


def median_spacing(index: Any) -> pd.Timedelta | None:
    """The sampling period of a DatetimeIndex: the median of its consecutive spacings.

    Parameters
    ----------
    index : pandas.DatetimeIndex (or a Series/DataFrame, whose index is used)
        Sorted timestamps; the caller checks order and duplicates (e.g. with
        :func:`sadlib.validation.as_time_index`).

    Returns
    -------
    pandas.Timedelta, or None when the index has fewer than two timestamps (no spacing) or
    is not a DatetimeIndex. The caller decides what a missing period means for it.
    """
    if isinstance(index, (pd.Series, pd.DataFrame)):
        index = index.index
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    return pd.Timedelta((index[1:] - index[:-1]).median())


def duration_to_samples(duration: Any, period: pd.Timedelta, *, rounding: str, low: int = 0,
                        name: str = "duration") -> int:
    """The number of samples of length ``period`` that ``duration`` covers, at least ``low``.

    Parameters
    ----------
    duration : pandas.Timedelta or anything it reads (``"5min"``, a ``datetime.timedelta``)
    period : pandas.Timedelta > 0, the sampling period (e.g. :func:`median_spacing`)
    rounding : {"nearest", "up"}
        ``"nearest"``: ``round(duration / period)`` (exact halves to the even neighbour);
        ``"up"``: ``ceil(duration / period)``. See the module docstring for which to use when.
    low : int, the smallest count returned
    name : str, the caller's parameter, named in errors

    Returns
    -------
    int
    """
    if rounding not in ROUNDINGS:
        raise InvalidParameterError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}.")
    if not isinstance(period, pd.Timedelta) or pd.isna(period) or period <= pd.Timedelta(0):
        raise InvalidParameterError(f"the sampling period used to convert {name} must be a positive duration, "
                                    f"got {period!r}; check the index's timestamps or pass sampling_period.")
    ratio = pd.Timedelta(duration) / period
    count = int(round(ratio)) if rounding == "nearest" else int(math.ceil(ratio))
    return max(low, count)
