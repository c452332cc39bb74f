"""Seeded synthetic sensor data for an industrial pump driven by an electric motor.

One latent *load* signal (a daily shift pattern with a quiet weekend, day-to-day
variation and a slow random wobble) drives four sensors, so their correlations are
physical rather than coincidental:

=============  ====  ===========================================================
sensor         unit  model
=============  ====  ===========================================================
current        A     18 + 24 * load, white noise
pressure       bar   2.5 + 3.5 * load (3-min lag), white noise
vibration      mm/s  RMS; grows with load (quadratically) and with slow wear
temperature    °C    load through a 60-min thermal lag + daily ambient cycle + trend
=============  ====  ===========================================================

:func:`make_normal` returns clean data, :func:`inject` adds one labelled anomaly
and :func:`generate` does both: a clean first part for training, then
non-overlapping events of the requested types, with a 0/1 ``anomaly`` column.
Every random choice comes from ``seed``: same seed, identical output.

Event ``start`` and ``end`` are both **inclusive** index labels, so
``data.loc[event["start"]:event["end"]]`` selects exactly the anomalous samples.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, NamedTuple, Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from scipy.signal import lfilter

from .validation import InvalidParameterError, as_1d_float, check_choice, check_int, check_number, check_time_index

__all__ = ["SENSORS", "UNITS", "ANOMALY_TYPES", "DEFAULT_MAGNITUDES", "EVENT_COLUMNS", "REGIMES", "SyntheticData",
           "make_normal", "inject", "generate", "make_tutorial_toy", "operating_regime", "regime_table"]

SENSORS: tuple[str, ...] = ("temperature", "vibration", "current", "pressure")
#: Unit of each sensor (the table above); :mod:`sadlib.plots` writes it on the y axes.
UNITS: dict[str, str] = {"temperature": "°C", "vibration": "mm/s", "current": "A", "pressure": "bar"}
ANOMALY_TYPES: tuple[str, ...] = ("spike", "level_shift", "drift", "variance_burst",
                                  "frequency_change", "stuck", "dropout", "correlation_break")
#: Default ``magnitude`` per type. Additive types are in units of the sensor's standard
#: deviation; ``correlation_break`` is the fraction of the signal that is replaced (0..1);
#: ``stuck`` and ``dropout`` take none.
DEFAULT_MAGNITUDES: dict[str, float | None] = {
    "spike": 5.0, "level_shift": 2.0, "drift": 3.0, "variance_burst": 1.0,
    "frequency_change": 0.8, "stuck": None, "dropout": None, "correlation_break": 1.0,
}
# Sensors that generate() picks from for each type (the partner of a correlation break is current).
_SENSOR_CHOICES: dict[str, tuple[str, ...]] = {
    "spike": SENSORS, "level_shift": SENSORS, "drift": ("temperature", "vibration"),
    "variance_burst": ("vibration", "current", "pressure"), "frequency_change": ("vibration", "current"),
    "stuck": SENSORS, "dropout": SENSORS, "correlation_break": ("pressure", "vibration"),
}
EVENT_COLUMNS = ("start", "end", "type", "sensor", "magnitude")
#: The plant's operating regimes, as :func:`make_normal` drives them (see :func:`operating_regime`).
REGIMES: tuple[str, ...] = ("weekday early shift", "weekday late shift", "weekday night", "weekend")


class SyntheticData(NamedTuple):
    """Output of :func:`generate`.

    data : DataFrame, shape (n_samples, len(SENSORS) + 1)
        Sensor columns (float) plus ``anomaly`` (int, 1 inside any event), DatetimeIndex.
    events : DataFrame, shape (n_events, 5)
        Columns ``start``, ``end`` (inclusive Timestamps), ``type``, ``sensor``,
        ``magnitude`` (NaN for ``stuck``/``dropout``), sorted by ``start``.
    """

    data: pd.DataFrame
    events: pd.DataFrame


# ----------------------------------------------------------------------------- helpers
def _step(freq: Any) -> pd.Timedelta:
    """Sampling step of a fixed pandas frequency such as ``"1min"``, ``"30s"`` or ``"1h"``."""
    try:
        step = pd.Timedelta(to_offset(freq))
    except (ValueError, TypeError):
        step = None
    if not isinstance(step, pd.Timedelta) or step <= pd.Timedelta(0):  # None/NaT/0 included
        raise ValueError(f"freq={freq!r} is not a fixed sampling interval; use e.g. '1min', '30s', '5min' or '1h'.")
    return step


def _ema(x: np.ndarray, tau: float) -> np.ndarray:
    """First-order lag (exponential moving average) with time constant ``tau`` samples."""
    a = 1.0 - math.exp(-1.0 / max(tau, 1e-9))
    return lfilter([a], [1.0, a - 1.0], x, zi=[(1.0 - a) * x[0]])[0]


def _ar1(rng: np.random.Generator, n: int, tau: float) -> np.ndarray:
    """Stationary AR(1) noise of shape (n,), unit variance, correlation time ``tau`` samples."""
    phi = math.exp(-1.0 / max(tau, 1e-9))
    e = rng.standard_normal(n)
    return lfilter([math.sqrt(1.0 - phi**2)], [1.0, -phi], e, zi=[phi * rng.standard_normal()])[0]


# ----------------------------------------------------------------------------- normal data
def make_normal(
    n_days: float = 7.0, *, freq: str = "1min", start: Any = "2024-01-01", seed: int | None = 0
) -> pd.DataFrame:
    """Generate anomaly-free pump data.

    Parameters
    ----------
    n_days : float
        Length of the series in days (> 0); ``n_samples = round(n_days * 1 day / freq)``.
    freq : str
        Fixed sampling interval, e.g. ``"1min"`` (default), ``"30s"``, ``"1h"``.
    start : str or Timestamp
        First timestamp.
    seed : int or None
        Seed of the random generator; the same seed gives identical data.

    Returns
    -------
    DataFrame, shape (n_samples, 4)
        Float columns :data:`SENSORS`, DatetimeIndex named ``"timestamp"``.
    """
    n_days = check_number("n_days", n_days, 0, low_open=True, hint="It is the length of the series in days.")
    step = _step(freq)
    n = int(round(n_days * pd.Timedelta(days=1) / step))
    if n < 2:
        raise ValueError(f"n_days={n_days} at freq={freq!r} gives {n} sample(s); pass more days or a finer freq.")
    try:
        t0 = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise ValueError(f"start={start!r} is not a timestamp; use e.g. '2024-01-01'.") from None
    index = pd.date_range(t0, periods=n, freq=step, name="timestamp")
    per_min = pd.Timedelta(minutes=1) / step  # samples per minute, to keep time constants physical
    rng = np.random.default_rng(seed)

    hour = ((index - index.normalize()) / pd.Timedelta(hours=1)).to_numpy()
    day = ((index.normalize() - t0.normalize()) // pd.Timedelta(days=1)).to_numpy()
    # Three shifts: night (22-06) light, early (06-14) heavy, late (14-22) medium; weekend at 60 %.
    level = np.where((hour >= 6) & (hour < 14), 0.85, np.where((hour >= 14) & (hour < 22), 0.70, 0.30))
    level = level * np.where(index.day_of_week.to_numpy() >= 5, 0.6, 1.0)
    level = level * rng.normal(1.0, 0.05, day.max() + 1)[day]  # day-to-day production variation
    load = _ema(level, 20 * per_min) + 0.06 * _ar1(rng, n, 45 * per_min)  # ramps + slow wobble

    days = np.arange(n) / (pd.Timedelta(days=1) / step)
    noise = rng.standard_normal((4, n))
    current = 18.0 + 24.0 * load + 0.4 * noise[0]
    pressure = 2.5 + 3.5 * _ema(load, 3 * per_min) + 0.06 * noise[1]
    vibration = 1.2 + 2.0 * load + 1.5 * load**2 + 0.03 * days + 0.15 * noise[2]
    ambient = 3.0 * np.sin(2 * np.pi * (hour - 9.0) / 24.0)  # warmest at 15:00
    temperature = 35.0 + 20.0 * _ema(load, 60 * per_min) + ambient + 0.15 * days + 0.15 * noise[3]
    cols = {"temperature": temperature, "vibration": vibration, "current": current, "pressure": pressure}
    return pd.DataFrame({s: cols[s] for s in SENSORS}, index=index)


# ----------------------------------------------------------------------------- operating regimes
def operating_regime(index: Any) -> np.ndarray:
    """The operating regime of each timestamp, as :func:`make_normal` drives the load.

    Weekdays have three shifts (early 06-14 h, heavy load; late 14-22 h, medium;
    night 22-06 h, light); Saturday and Sunday run at 60 % of the weekday load.

    Parameters
    ----------
    index : pandas.DatetimeIndex, or a DataFrame/Series carrying one

    Returns
    -------
    numpy.ndarray of str, shape (n,)
        One of :data:`REGIMES` per timestamp.
    """
    if isinstance(index, (pd.DataFrame, pd.Series)):
        index = index.index
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(
            f"operating_regime needs a DatetimeIndex (or a frame carrying one), got {type(index).__name__}."
        )
    hour = index.hour.to_numpy()
    late_or_night = np.where((hour >= 14) & (hour < 22), REGIMES[1], REGIMES[2])
    weekday = np.where((hour >= 6) & (hour < 14), REGIMES[0], late_or_night)
    return np.where(index.day_of_week.to_numpy() >= 5, REGIMES[3], weekday)


def regime_table(parts: Any, column: str = "current") -> pd.DataFrame:
    """Which operating regimes each part of a split holds, and the mean of one sensor there.

    Use it on the train / validation / test parts before calibrating anything:
    a validation part that holds only a weekend calibrates a threshold for a
    quieter plant than the one it will watch.

    Parameters
    ----------
    parts : mapping of str to DataFrame, or a ``Split``
        The parts, e.g. ``{"train": train, "validation": val, "test": test}``
        or ``chronological_split(...)`` itself.
    column : str, default "current"
        Sensor whose mean is reported per part (the load shows in the current).

    Returns
    -------
    pandas.DataFrame
        One row per part: ``days``, the share of rows in each of :data:`REGIMES`
        (in %), and ``mean <column>``.
    """
    if hasattr(parts, "_asdict"):
        parts = parts._asdict()
    if not isinstance(parts, dict) or not parts:
        raise TypeError("parts must be a dict {name: DataFrame} or a Split, e.g. {'train': train, 'validation': val}.")
    rows = {}
    for name, df in parts.items():
        if not isinstance(df, pd.DataFrame) or column not in df.columns:
            raise ValueError(f"part {name!r} must be a DataFrame with a {column!r} column.")
        check_time_index(df)
        regime = pd.Series(operating_regime(df.index))
        share = regime.value_counts(normalize=True).reindex(list(REGIMES), fill_value=0.0) * 100
        step = df.index[1] - df.index[0] if len(df) > 1 else pd.Timedelta(0)
        rows[name] = {"days": len(df) * step / pd.Timedelta(days=1), **{f"{r} %": v for r, v in share.items()},
                      f"mean {column}": float(df[column].mean())}
    return pd.DataFrame(rows).T


# ----------------------------------------------------------------------------- injection
def _position(data: pd.DataFrame, start: Any) -> int:
    if isinstance(start, Integral) and not isinstance(start, bool):
        pos = int(start)
    elif isinstance(data.index, pd.DatetimeIndex):
        try:  # first sample at or after the requested time
            pos = int(data.index.searchsorted(pd.Timestamp(start)))
        except (ValueError, TypeError):
            raise ValueError(f"start={start!r} is neither a row position nor a timestamp.") from None
    else:
        raise TypeError(f"start={start!r}: pass an int row position (the index is not a DatetimeIndex).")
    if not 0 <= pos < len(data):
        raise ValueError(
            f"start={start!r} is outside the data ({len(data)} rows, {data.index[0]} to {data.index[-1]})."
        )
    return pos


def inject(
    data: pd.DataFrame, kind: str, *, start: int | Any, duration: int, sensor: str,
    magnitude: float | None = None, seed: int | None = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return a copy of ``data`` with one anomaly of type ``kind`` in column ``sensor``.

    Only the rows ``start .. start + duration - 1`` of ``sensor`` change (and of an
    ``anomaly`` column, set to 1 there, if the frame has one); ``data`` is not modified.

    Parameters
    ----------
    data : DataFrame, shape (n_samples, n_columns)
        Sensor data, e.g. from :func:`make_normal`.
    kind : str
        One of :data:`ANOMALY_TYPES`. With ``m = magnitude`` and ``std`` the standard
        deviation of the whole ``sensor`` column: ``spike`` (use 1-3 samples) and
        ``level_shift`` add ``m * std``; ``drift`` adds a linear ramp up to ``m * std``;
        ``variance_burst`` adds Gaussian noise of std ``m * std``; ``frequency_change``
        adds a sine of amplitude ``m * std`` and period 4-12 samples; ``stuck`` holds the
        last value before the event; ``dropout`` writes NaN; ``correlation_break``
        replaces the fraction ``m`` of the signal by an independent random signal with
        the event's mean and std and zero sample correlation with the original, so the
        sensor stops following its partners (pressure and vibration follow current).
    start : int or Timestamp-like
        Row position of the first anomalous sample, or a time (first sample at or after it).
    duration : int
        Number of anomalous samples (>= 1).
    sensor : str
        Column to corrupt.
    magnitude : float, optional
        Size of the anomaly, see above; ``None`` uses :data:`DEFAULT_MAGNITUDES`.
    seed : int or None
        Seed for the random parts (burst noise, sine period, replacement signal).

    Returns
    -------
    new_data : DataFrame, same shape as ``data``
    event : dict
        ``start``, ``end`` (inclusive index labels), ``type``, ``sensor``, ``magnitude``
        (the value used, NaN for ``stuck``/``dropout``).
    """
    kind = check_choice("kind", kind, ANOMALY_TYPES)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if sensor not in data.columns:
        raise ValueError(f"sensor {sensor!r} is not a column of data; choose one of {list(data.columns)}.")
    check_time_index(data)
    x = as_1d_float(data[sensor], name=f"data[{sensor!r}]", allow_nan=True)
    pos = _position(data, start)
    duration = check_int("duration", duration, 1, hint="It is the number of anomalous samples.")
    if pos + duration > len(x):
        raise ValueError(f"The event (rows {pos} to {pos + duration - 1}) runs past the end of data ({len(x)} rows); "
                         f"shorten it or start earlier.")
    default = DEFAULT_MAGNITUDES[kind]
    if default is None:
        mag = float("nan")
    else:
        mag = default if magnitude is None else magnitude
        if kind == "correlation_break":
            mag = check_number("magnitude", mag, 0, 1,
                               hint="For correlation_break it is the fraction of the signal that is replaced.")
        else:
            mag = check_number("magnitude", mag, hint="It is in units of the sensor's standard deviation.")

    rng = np.random.default_rng(seed)
    std = float(np.nanstd(x)) if np.isfinite(x).any() else 0.0
    std = std if std > 0 else 1.0  # a constant column: magnitudes in the sensor's own units
    seg = x[pos:pos + duration]
    k = np.arange(duration)
    if kind in ("spike", "level_shift"):
        new = seg + mag * std
    elif kind == "drift":
        new = seg + mag * std * (k + 1) / duration
    elif kind == "variance_burst":
        new = seg + mag * std * rng.standard_normal(duration)
    elif kind == "frequency_change":
        new = seg + mag * std * np.sin(2 * np.pi * k / rng.uniform(4, 12) + rng.uniform(0, 2 * np.pi))
    elif kind == "stuck":
        before = x[:pos][np.isfinite(x[:pos])]
        new = np.full(duration, before[-1] if before.size else seg[0])
    elif kind == "dropout":
        new = np.full(duration, np.nan)
    else:  # correlation_break
        other = _ar1(rng, duration, max(duration / 20, 1.0))
        ok = np.isfinite(seg)
        mean, sd = (np.nanmean(seg), np.nanstd(seg)) if ok.any() else (0.0, 0.0)
        if ok.sum() > 1 and sd > 0:  # remove the part of `other` that follows the original
            c = seg[ok] - mean
            other[ok] -= (other[ok] - other[ok].mean()) @ c / (c @ c) * c
        other = (other - other.mean()) / (other.std() or 1.0)
        new = (1 - mag) * seg + mag * (mean + sd * other)

    out = data.copy()
    out[sensor] = out[sensor].astype(np.float64)
    out.iloc[pos:pos + duration, out.columns.get_loc(sensor)] = new
    if "anomaly" in out.columns and sensor != "anomaly":
        out.iloc[pos:pos + duration, out.columns.get_loc("anomaly")] = 1
    event = {"start": data.index[pos], "end": data.index[pos + duration - 1], "type": kind,
             "sensor": sensor, "magnitude": mag}
    return out, event


# ----------------------------------------------------------------------------- full data set
def _types(anomalies: int | str | Sequence[str] | None) -> list[str]:
    if anomalies is None:
        return list(ANOMALY_TYPES)
    if isinstance(anomalies, Integral) and not isinstance(anomalies, bool):
        n = check_int("anomalies", anomalies, 0, hint="An int is the number of events, cycling through the types.")
        return [ANOMALY_TYPES[i % len(ANOMALY_TYPES)] for i in range(n)]
    if isinstance(anomalies, str):
        return [check_choice("anomalies", anomalies, ANOMALY_TYPES)]
    if not isinstance(anomalies, Sequence):
        raise InvalidParameterError(
            f"anomalies must be None, an int or a list of type names, got {type(anomalies).__name__}.")
    return [check_choice(f"anomalies[{i}]", a, ANOMALY_TYPES) for i, a in enumerate(anomalies)]


def generate(
    n_days: float = 7.0, *, freq: str = "1min", anomalies: int | str | Sequence[str] | None = None,
    clean_fraction: float = 0.5, seed: int | None = 0, start: Any = "2024-01-01",
) -> SyntheticData:
    """Normal pump data with labelled, non-overlapping anomalies after a clean prefix.

    Parameters
    ----------
    n_days, freq, start, seed
        As in :func:`make_normal`; ``seed`` also drives the events.
    anomalies : None, int, str or list of str
        ``None``: one event of each of :data:`ANOMALY_TYPES`; an int ``n``: ``n`` events
        cycling through the types; a list of type names (repeats allowed).
    clean_fraction : float in [0, 1)
        Leading fraction of the series that has no anomaly (for chronological training).

    Returns
    -------
    SyntheticData
        ``(data, events)``, see :class:`SyntheticData`.

    Notes
    -----
    The part after the clean prefix is cut into one equal slot per event (in random
    order); each event lies inside its slot with at least one normal sample on each
    side. Durations: ``spike`` 1-3 samples, other types between ``max(10, n/400)`` and
    ``min(max(that, n/50), 400)`` samples (25-201 for 7 days at 1 min), capped at half
    a slot. Magnitudes are :data:`DEFAULT_MAGNITUDES`; the sensor is drawn per type.
    """
    types = _types(anomalies)
    clean_fraction = check_number("clean_fraction", clean_fraction, 0, 1, high_open=True,
                                  hint="It is the leading share of the series that has no anomaly.")
    data = make_normal(n_days, freq=freq, start=start, seed=seed)
    data["anomaly"] = np.zeros(len(data), dtype=np.int64)
    rng = np.random.default_rng(None if seed is None else [seed, 1])  # not the make_normal stream
    n = len(data)
    first = int(math.ceil(clean_fraction * n))
    lo = max(10, n // 400)
    hi = min(max(lo, n // 50), 400)
    slot = (n - first) // len(types) if types else 0
    if types and slot < 2 * lo + 2:
        raise ValueError(
            f"The series is too short for {len(types)} events: {n - first} samples after the clean prefix give "
            f"{slot} per event but at least {2 * lo + 2} are needed. Use more n_days, fewer anomalies "
            f"or a smaller clean_fraction.")
    events = []
    for i, kind in zip(rng.permutation(len(types)), types):
        duration = int(rng.integers(1, 4)) if kind == "spike" else int(rng.integers(lo, min(hi, slot // 2) + 1))
        pos = first + i * slot + int(rng.integers(1, slot - duration))
        sensor = str(rng.choice(_SENSOR_CHOICES[kind]))
        data, event = inject(data, kind, start=pos, duration=duration, sensor=sensor,
                             seed=int(rng.integers(2**32)))
        events.append(event)
    table = pd.DataFrame(events, columns=list(EVENT_COLUMNS))
    table["magnitude"] = table["magnitude"].astype(np.float64)
    if not events:
        table = table.astype({"start": data.index.dtype, "end": data.index.dtype, "type": str, "sensor": str})
    return SyntheticData(data, table.sort_values("start", ignore_index=True))


def make_tutorial_toy(n: int = 1000, *, seed: int = 0) -> pd.DataFrame:
    """The two-sensor toy popular in autoencoder tutorials, used in notebook 04.

    ``temperature = 25 + sin(2πt / 200) + noise(0.1)`` and ``vibration = 0.5 + noise(0.05)``
    over ``n`` integer time steps, with two 10-point level shifts: temperature +3 °C at
    ``0.6 n`` and vibration +0.4 at ``0.8 n``. The first half is clean, so it can serve
    as training and validation data.

    Returns
    -------
    DataFrame of shape (n, 3): ``temperature``, ``vibration`` and the 0/1 label ``anomaly``,
    indexed by a RangeIndex named ``t``.
    """
    n = check_int("n", n, 100, hint="It is the number of time steps; the toy needs room for its two anomalies.")
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temperature = 25 + np.sin(2 * np.pi * t / 200) + rng.normal(0, 0.1, n)
    vibration = 0.5 + rng.normal(0, 0.05, n)
    anomaly = np.zeros(n, dtype=np.int64)
    for pos, column, step in ((int(0.6 * n), temperature, 3.0), (int(0.8 * n), vibration, 0.4)):
        column[pos : pos + 10] += step
        anomaly[pos : pos + 10] = 1
    frame = pd.DataFrame({"temperature": temperature, "vibration": vibration, "anomaly": anomaly})
    frame.index.name = "t"
    return frame
