"""Alarm-management figures: :func:`alarm_table`, :func:`alarms_per_hour`, :func:`chattering`,
:func:`standing_alarms`.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._runs import run_bounds
from .._time import median_spacing
from ..validation import (
    InvalidParameterError,
    as_2d_float,
    as_time_index,
    check_int,
)
from ._core import _alarm_vector, _announce, _as_timedelta, _ranges, _scores


# --------------------------------------------------------------------------- #
# alarm-management figures
# --------------------------------------------------------------------------- #
def _sensor_matrix(sensor_errors: Any, sensors: Sequence[Any] | None, n: int) -> tuple[np.ndarray, list]:
    names = list(sensor_errors.columns) if isinstance(sensor_errors, pd.DataFrame) else None
    arr = as_2d_float(sensor_errors, name="sensor_errors", allow_nan=True)
    if arr.shape[0] != n:
        raise ValueError(f"sensor_errors has {arr.shape[0]} rows but alarms has {n}; pass one row of per-sensor "
                         f"errors (or z-scores) per sample.")
    if sensors is not None:
        names = list(sensors)
        if len(names) != arr.shape[1]:
            raise ValueError(f"sensors has {len(names)} names but sensor_errors has {arr.shape[1]} columns.")
    if names is None:
        names = [f"sensor {j}" for j in range(arr.shape[1])]
    return arr, names


def alarm_table(alarms: Any, scores: Any = None, index: Any = None, sensor_errors: Any = None,
                sensors: Sequence[Any] | None = None, *, n_top: int = 3) -> pd.DataFrame:
    """One row per alarm range: when, how long, how strong, and which sensors drive it.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    scores : array-like of shape (n,), optional; adds ``peak_score`` (NaN-aware max) and ``peak``
        (position or timestamp of the peak)
    index : pandas.DatetimeIndex of length n, optional; adds ``start_time``, ``end_time`` (last
        alarmed timestamp) and ``duration`` (until the first quiet sample; for an alarm
        still on at the end, the last timestamp plus one median sampling period; NaT when the
        index has a single timestamp, which gives no sampling period)
    sensor_errors : array-like of shape (n, n_sensors), optional
        Per-sensor errors or z-scores (e.g. squared reconstruction error per sensor);
        adds ``top_sensor`` (the sensor with the largest error inside the range),
        ``top_error`` and ``top_sensors`` (the ``n_top`` largest, comma-separated).
    sensors : sequence of names, optional; default: the DataFrame's columns or "sensor j"
    n_top : int >= 1

    Returns
    -------
    pandas.DataFrame
        Columns ``start``, ``end`` (positions, ``end`` exclusive), ``n_samples`` and the
        optional ones above; no rows when there is no alarm.
    """
    n_top = check_int("n_top", n_top, 1, hint="It is how many sensors to list per alarm.")
    a = _alarm_vector(alarms)
    n = a.size
    s = None if scores is None else _scores(scores)
    if s is not None and s.size != n:
        raise ValueError(f"scores has {s.size} values but alarms has {n}; pass aligned series.")
    idx = None if index is None else as_time_index(index, n)
    errs, names = (None, None) if sensor_errors is None else _sensor_matrix(sensor_errors, sensors, n)
    if errs is not None and np.isinf(errs).any():
        r, c = (int(v[0]) for v in np.nonzero(np.isinf(errs)))
        warnings.warn(f"sensor_errors holds {int(np.isinf(errs).sum())} infinite value(s) (first at row {r}, sensor "
                      f"{names[c]!r}: {errs[r, c]}); top_error shows them as inf. An infinite error usually means an "
                      f"overflow or a sensor with zero spread in the scaler: check the detector's per-sensor errors.",
                      stacklevel=2)
    step = None if idx is None else median_spacing(idx)
    rows = []
    for start, end in _ranges(a):
        row: dict[str, Any] = {"start": start, "end": end, "n_samples": end - start}
        if idx is not None:
            row["start_time"] = idx[start]
            row["end_time"] = idx[end - 1]
            if end < n or step is not None:
                row["duration"] = (idx[end] if end < n else idx[-1] + step) - idx[start]
            else:  # a single timestamp gives no sampling period; a typed NaT keeps the column a duration
                row["duration"] = np.timedelta64("NaT", "ns")
        if s is not None:
            seg = s[start:end]
            ok = ~np.isnan(seg)
            row["peak_score"] = float(seg[ok].max()) if ok.any() else float("nan")
            pos = start + int(np.flatnonzero(ok)[np.argmax(seg[ok])]) if ok.any() else None
            row["peak"] = None if pos is None else (idx[pos] if idx is not None else pos)
        if errs is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN sensor inside the range
                peak = np.nanmax(errs[start:end], axis=0)
            order = np.argsort(-np.where(np.isnan(peak), -np.inf, peak), kind="stable")[:n_top]  # NaN last
            row["top_sensor"] = names[order[0]]
            row["top_error"] = float(peak[order[0]])  # NaN only when every sensor is missing in the range
            row["top_sensors"] = ", ".join(str(names[j]) for j in order)
        rows.append(row)
    columns = ["start", "end", "n_samples"]
    if idx is not None:
        columns += ["start_time", "end_time", "duration"]
    if s is not None:
        columns += ["peak_score", "peak"]
    if errs is not None:
        columns += ["top_sensor", "top_error", "top_sensors"]
    return pd.DataFrame(rows, columns=columns)


def alarms_per_hour(alarms: Any, index: Any, *, rearm: int | None = None) -> pd.Series:
    """Alarm announcements per clock hour (onsets, plus re-announcements with ``rearm`` samples).

    Reference rates (alarm-management guidance, per operator console, for all the
    alarms of a plant): EEMUA 191 and ISA-18.2 regard about one alarm per 10 minutes
    (6 per hour) as very likely acceptable and about two per 10 minutes as the most
    that is manageable; more than 10 in 10 minutes is an alarm flood.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    index : pandas.DatetimeIndex of length n
    rearm : int >= 1 or None, see :func:`announcements`

    Returns
    -------
    pandas.Series of int, one entry per clock hour from the first to the last timestamp
    """
    a = _alarm_vector(alarms)
    idx = as_time_index(index, a.size)
    if rearm is not None:
        rearm = check_int("rearm", rearm, 1, hint="It is the re-announce period in samples; None: onsets only.")
    ann = _announce(a, rearm)
    return pd.Series(ann.astype(np.int64), index=idx).resample("1h").sum().rename("alarms")


def chattering(alarms: Any, index: Any, within: Any = "1min", count: int = 3) -> pd.DataFrame:
    """Alarm onsets that belong to a burst of ``count`` or more onsets within ``within``.

    ISA-18.2 calls an alarm *chattering* when it activates and clears repeatedly in a
    short time, typically three or more times in one minute.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    index : pandas.DatetimeIndex of length n
    within : duration, default "1min"
    count : int >= 2, default 3

    Returns
    -------
    pandas.DataFrame
        One row per onset: ``start`` (position), ``time``, ``onsets_in_window`` (onsets
        in the half-open interval ``(time - within, time]``) and ``chattering`` (True for
        every onset of a burst, i.e. of some interval of length ``within`` that holds
        ``count`` or more onsets).
    """
    count = check_int("count", count, 2, hint="It is how many onsets within `within` make chattering, e.g. 3.")
    span = _as_timedelta("within", within)
    if span <= pd.Timedelta(0):
        raise InvalidParameterError(f"within must be a positive duration such as '1min', got {within!r}.")
    a = _alarm_vector(alarms)
    idx = as_time_index(index, a.size)
    starts = run_bounds(a)[0].astype(np.int64)
    times = idx[starts]
    first = times.searchsorted(times - span, side="right")  # first onset inside (time - within, time]
    in_window = np.arange(starts.size) - first + 1
    flag = np.zeros(starts.size, dtype=bool)
    for i in np.flatnonzero(in_window >= count):
        flag[first[i] : i + 1] = True
    return pd.DataFrame({"start": starts, "time": times, "onsets_in_window": in_window, "chattering": flag})


def standing_alarms(alarms: Any, index: Any, longer_than: Any = "1h") -> pd.DataFrame:
    """Alarm ranges that stay on longer than ``longer_than`` (ISA-18.2's standing or stale alarms).

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    index : pandas.DatetimeIndex of length n
    longer_than : duration, default "1h" (ISA-18.2's example for a stale alarm is 24 h)

    Returns
    -------
    pandas.DataFrame, the rows of :func:`alarm_table` whose ``duration`` exceeds ``longer_than``
    """
    limit = _as_timedelta("longer_than", longer_than)
    table = alarm_table(alarms, index=index)
    return table[table["duration"] > limit].reset_index(drop=True)
