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

:func:`make_compressor` is a second, richer machine: a twin of the MetroPT-3 air
production unit of a metro train (15 channels at 0.1 Hz, load/unload cycles between
pressure set points, air leaks with precursors, an oil leak and sensor faults);
:mod:`sadlib.cycles` turns its cycles into the features an engineer computes.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, NamedTuple, Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from scipy.signal import lfilter

from ._time import median_spacing
from .validation import InvalidParameterError, as_1d_float, check_choice, check_int, check_number, check_time_index

__all__ = ["SENSORS", "UNITS", "ANOMALY_TYPES", "DEFAULT_MAGNITUDES", "EVENT_COLUMNS", "REGIMES", "SyntheticData",
           "make_normal", "inject", "generate", "make_tutorial_toy", "operating_regime", "regime_table",
           "METROPT3_CHANNELS", "METROPT3_ANALOG", "METROPT3_DIGITAL", "METROPT3_UNITS", "COMPRESSOR_FAILURES",
           "SENSOR_FAULT_MODES", "COMPRESSOR_EVENT_COLUMNS", "CompressorData", "make_compressor"]

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
        step = median_spacing(df.index) if len(df) > 1 else pd.Timedelta(0)
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


# ============================================================================= MetroPT-3 compressor twin
#: The 15 channels of MetroPT-3, in the published order and spelling (``DV_eletric`` included):
#: seven analog channels, then eight digital (0/1) ones.
METROPT3_CHANNELS: tuple[str, ...] = (
    "TP2", "TP3", "H1", "DV_pressure", "Reservoirs", "Oil_temperature", "Motor_current",
    "COMP", "DV_eletric", "Towers", "MPG", "LPS", "Pressure_switch", "Oil_level", "Caudal_impulses",
)
METROPT3_ANALOG: tuple[str, ...] = METROPT3_CHANNELS[:7]
METROPT3_DIGITAL: tuple[str, ...] = METROPT3_CHANNELS[7:]
#: Unit of each channel ("0/1" for the digital ones).
METROPT3_UNITS: dict[str, str] = {
    **{c: "bar" for c in ("TP2", "TP3", "H1", "DV_pressure", "Reservoirs")},
    "Oil_temperature": "°C", "Motor_current": "A", **{c: "0/1" for c in METROPT3_CHANNELS[7:]},
}
#: Failure types of :func:`make_compressor`.
COMPRESSOR_FAILURES: tuple[str, ...] = ("air_leak", "oil_leak", "sensor_fault")
#: What a ``sensor_fault`` does to its channel.
SENSOR_FAULT_MODES: tuple[str, ...] = ("stuck", "drift", "noise")
#: Columns of the events table of :func:`make_compressor`.
COMPRESSOR_EVENT_COLUMNS: tuple[str, ...] = ("start", "end", "type", "sensor", "precursor_start", "magnitude",
                                             "mode")
# Default magnitudes: air_leak, extra leak at the failure start (bar/min); oil_leak, oil temperature rise at the
# failure start (°C); sensor_fault, size in units of the channel's scale below (NaN for "stuck").
_FAILURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "air_leak": {"magnitude": 0.10, "duration": "8h", "precursor": "36h", "sensor": "TP3"},
    "oil_leak": {"magnitude": 6.0, "duration": "5h", "precursor": "18h", "sensor": "Oil_level"},
    "sensor_fault": {"magnitude": 3.0, "duration": "4h", "precursor": "0h", "sensor": None},
}
# Scale of a sensor fault of magnitude 1 per analog channel (about the normal spread of the channel).
_FAULT_SCALE: dict[str, float] = {"TP2": 3.0, "TP3": 0.6, "H1": 3.0, "DV_pressure": 0.5, "Reservoirs": 0.6,
                                  "Oil_temperature": 10.0, "Motor_current": 2.0}


class CompressorData(NamedTuple):
    """Output of :func:`make_compressor`.

    data : DataFrame, shape (n_samples, 16)
        The 15 :data:`METROPT3_CHANNELS` (analog float64, digital int64 0/1) plus
        ``anomaly`` (int64, 1 inside a failure interval), DatetimeIndex named ``"timestamp"``.
    events : DataFrame, shape (n_events, 7)
        :data:`COMPRESSOR_EVENT_COLUMNS`, one row per failure, sorted by ``start``:
        ``start``, ``end`` (inclusive Timestamps of the failure interval), ``type``
        (one of :data:`COMPRESSOR_FAILURES`), ``sensor`` (the faulty channel of a
        ``sensor_fault``, else the channel that shows the failure first),
        ``precursor_start`` (when the precursor begins; ``== start`` without one),
        ``magnitude`` (float, see :func:`make_compressor`) and ``mode`` (for a sensor
        fault ``"stuck"``, ``"drift"`` or ``"noise"``; ``""`` otherwise).
    """

    data: pd.DataFrame
    events: pd.DataFrame


def _air_demand(index: pd.DatetimeIndex, rng: np.random.Generator, consumption: float, per_min: float) -> np.ndarray:
    """Air drawn by the train's clients, in bar/min of reservoir pressure (service pattern and noise)."""
    hour = ((index - index.normalize()) / pd.Timedelta(hours=1)).to_numpy()
    weekend = index.day_of_week.to_numpy() >= 5
    # Service 06:00-01:00, peaks 07:00-09:30 and 17:00-19:30, quieter evening, depot 01:00-05:30.
    base = np.where((hour >= 1.0) & (hour < 5.5), 0.012, 0.17)
    base = np.where((hour >= 5.5) & (hour < 6.0), 0.012 + (0.17 - 0.012) * (hour - 5.5) / 0.5, base)
    peak = ((hour >= 7.0) & (hour < 9.5)) | ((hour >= 17.0) & (hour < 19.5))
    base = np.where(peak, np.where(weekend, 0.20, 0.29), base)
    base = np.where((hour >= 21.0) | (hour < 1.0), 0.12, base)
    base = np.where(weekend & ~peak & (base > 0.1), base * 0.8, base)
    day = ((index.normalize() - index[0].normalize()) // pd.Timedelta(days=1)).to_numpy()
    base = base * rng.normal(1.0, 0.05, day.max() + 1)[day]  # day-to-day variation
    depot = (hour >= 1.0) & (hour < 5.5)  # night-to-night: cleaning, maintenance, trains parked elsewhere
    base = np.where(depot, base * rng.lognormal(0.0, 0.25, day.max() + 1)[day], base)
    wobble = 1.0 + 0.35 * _ar1(rng, len(index), 2.0 * per_min)  # stations, doors, suspension levelling
    return consumption * base * np.clip(wobble, 0.2, None)


def _as_duration(name: str, value: Any) -> pd.Timedelta:
    """A non-negative duration from ``"6h"``, a Timedelta or a number of hours."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return pd.Timedelta(hours=check_number(name, value, 0, hint="A number is read as hours."))
    try:
        out = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise InvalidParameterError(f"{name}={value!r} is not a duration; use e.g. '6h', '1D' or a number of hours.")
    if pd.isna(out) or out < pd.Timedelta(0):
        raise InvalidParameterError(f"{name} must be a non-negative duration, got {value!r}.")
    return out


def _default_schedule(index: pd.DatetimeIndex, days: float, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Two sensor faults, two air leaks and one oil leak after a clean first week (or half)."""
    if days < 14:
        raise InvalidParameterError(
            f"failures='default' needs days >= 14 (a clean training week, then the failures), got days={days}. "
            f"Pass more days, failures=None for normal data only, or a list of failure dicts.")
    t0 = index[0] + pd.Timedelta(days=min(7.0, days / 2))
    span = (index[-1] - t0) / pd.Timedelta(days=1)  # test part, in days
    day = pd.Timedelta(days=1)
    hours = lambda lo, hi: pd.Timedelta(hours=float(rng.uniform(lo, hi)))  # noqa: E731
    long_pre = lambda: pd.Timedelta(days=float(rng.uniform(1.0, min(3.0, 0.2 * span))))  # noqa: E731
    sensors = rng.choice(METROPT3_ANALOG, size=2, replace=False)
    modes = rng.permutation(SENSOR_FAULT_MODES)[:2]
    out = []
    out.append({"type": "sensor_fault", "start": t0 + rng.uniform(0.03, 0.06) * span * day, "duration": hours(1.5, 4),
                "sensor": str(sensors[0]), "mode": str(modes[0])})
    pre = long_pre()
    out.append({"type": "air_leak", "start": t0 + rng.uniform(0.10, 0.13) * span * day + pre, "precursor": pre,
                "duration": hours(3, 8),
                "magnitude": float(rng.uniform(0.08, 0.12))})
    out.append({"type": "oil_leak", "start": t0 + 0.52 * span * day, "precursor": hours(12, 19),
                "duration": hours(2, 4), "magnitude": float(rng.uniform(5.0, 8.0))})
    out.append({"type": "sensor_fault", "start": t0 + rng.uniform(0.57, 0.60) * span * day, "duration": hours(1.5, 4),
                "sensor": str(sensors[1]), "mode": str(modes[1])})
    pre = long_pre()
    out.append({"type": "air_leak", "start": t0 + rng.uniform(0.85, 0.88) * span * day, "precursor": pre,
                "duration": hours(3, 8),
                "magnitude": float(rng.uniform(0.08, 0.12))})
    return out


def _failure_table(failures: Any, index: pd.DatetimeIndex, days: float, rng: np.random.Generator) -> pd.DataFrame:
    """The failures to inject, checked and completed: one row per failure, sorted by start.

    Parameters
    ----------
    failures : "default", None or list of dict
        As in :func:`make_compressor`: ``"default"`` draws the standard schedule
        (:func:`_default_schedule`), ``None`` gives no failures, a list gives them one by one.
    index : DatetimeIndex
        The twin's timestamps (regular); starts, durations and precursors become positions in it.
    days : float
        The twin's length, which the default schedule needs.
    rng : Generator
        Draws whatever a spec leaves out (a sensor fault's channel and mode) and the
        default schedule. It is separate from the machine's generator, so the schedule
        does not change the normal behaviour drawn from the same seed.

    Returns
    -------
    DataFrame
        :data:`COMPRESSOR_EVENT_COLUMNS` (``start``, ``end``, ``type``, ``sensor``,
        ``precursor_start``, ``magnitude``, ``mode``) plus the sample positions
        ``pos_p`` (precursor start), ``pos_a`` (failure start) and ``pos_b`` (one past
        the failure's last sample) that :func:`make_compressor` uses and then drops.

    Raises
    ------
    InvalidParameterError
        For an unknown key, a missing ``type`` or ``start``, an unknown type, sensor
        or mode, a precursor on a sensor fault, a sensor or mode on a machine failure,
        a non-positive magnitude, or a failure (with its precursor) that does not fit
        in the series: the message names ``failures[i]`` and the key. For two failures
        that overlap: it names both by type and time.
    """
    if failures is None:
        specs: list[dict[str, Any]] = []
    elif isinstance(failures, str):
        check_choice("failures", failures, ("default",))
        specs = _default_schedule(index, days, rng)
    elif isinstance(failures, Sequence) and all(isinstance(f, dict) for f in failures):
        specs = [dict(f) for f in failures]
    else:
        raise InvalidParameterError(
            f"failures must be 'default', None or a list of dicts such as "
            f"[{{'type': 'air_leak', 'start': 9.5, 'duration': '8h'}}], got {type(failures).__name__}.")
    step = index[1] - index[0]
    ns = index.to_numpy(dtype="datetime64[ns]")
    rows = []
    for i, spec in enumerate(specs):
        where = f"failures[{i}]"
        unknown = set(spec) - {"type", "start", "duration", "precursor", "magnitude", "sensor", "mode"}
        if unknown:
            raise InvalidParameterError(f"{where} has unknown key(s) {sorted(unknown)}; use type, start, duration, "
                                        f"precursor, magnitude, sensor, mode.")
        if "type" not in spec or "start" not in spec:
            raise InvalidParameterError(f"{where} needs at least 'type' and 'start', e.g. "
                                        f"{{'type': 'air_leak', 'start': 9.5}} (start in days or a timestamp).")
        kind = check_choice(f"{where}['type']", spec["type"], COMPRESSOR_FAILURES)
        defaults = _FAILURE_DEFAULTS[kind]
        start = spec["start"]
        if isinstance(start, (int, float, np.integer, np.floating)) and not isinstance(start, (bool, np.bool_)):
            start = index[0] + pd.Timedelta(days=check_number(f"{where}['start']", start, 0,
                                                              hint="A number is days after the first sample."))
        else:
            try:
                start = pd.Timestamp(start)
            except (ValueError, TypeError):
                raise InvalidParameterError(f"{where}['start']={start!r} is neither a number of days nor a "
                                            f"timestamp.") from None
        duration = _as_duration(f"{where}['duration']", spec.get("duration", defaults["duration"]))
        precursor = _as_duration(f"{where}['precursor']", spec.get("precursor", defaults["precursor"]))
        if kind == "sensor_fault" and precursor > pd.Timedelta(0):
            raise InvalidParameterError(f"{where}: a sensor_fault has no precursor (the machine does not change); "
                                        f"drop 'precursor' or set it to 0.")
        mode = ""
        if kind == "sensor_fault":
            sensor = spec.get("sensor")
            sensor = str(rng.choice(METROPT3_ANALOG)) if sensor is None else check_choice(
                f"{where}['sensor']", sensor, METROPT3_ANALOG)
            mode = spec.get("mode")
            mode = str(rng.choice(SENSOR_FAULT_MODES)) if mode is None else check_choice(
                f"{where}['mode']", mode, SENSOR_FAULT_MODES)
        else:
            if spec.get("sensor") not in (None, defaults["sensor"]) or spec.get("mode") not in (None, ""):
                raise InvalidParameterError(f"{where}: 'sensor' and 'mode' are for sensor faults only "
                                            f"(a {kind} shows first in {defaults['sensor']}).")
            sensor = defaults["sensor"]
        if kind == "sensor_fault" and mode == "stuck":
            magnitude = float("nan")
        else:
            magnitude = check_number(f"{where}['magnitude']", spec.get("magnitude", defaults["magnitude"]), 0,
                                     low_open=True, hint="It sets the size of the failure, see make_compressor.")
        a, b, p = np.searchsorted(ns, np.array([start, start + duration, start - precursor], dtype="datetime64[ns]"))
        a, b, p = int(a), int(b), int(p)  # b is exclusive
        if start - precursor < index[0] or start + duration > index[-1] + step or b - a < 1:
            raise InvalidParameterError(
                f"{where} ({kind}, precursor from {start - precursor}, failure {start} for {duration}) does not fit "
                f"inside the data ({index[0]} to {index[-1] + step}); move it, shorten it or pass more days.")
        rows.append({"start": index[a], "end": index[b - 1], "type": kind, "sensor": sensor,
                     "precursor_start": index[p], "magnitude": magnitude, "mode": mode,
                     "pos_a": a, "pos_b": b, "pos_p": p})
    table = pd.DataFrame(rows, columns=[*COMPRESSOR_EVENT_COLUMNS, "pos_a", "pos_b", "pos_p"])
    table = table.sort_values("start", ignore_index=True)
    for j in range(1, len(table)):
        if table["pos_a"][j] < table["pos_b"][j - 1]:
            raise InvalidParameterError(
                f"failure intervals overlap: {table['type'][j - 1]} ({table['start'][j - 1]} to "
                f"{table['end'][j - 1]}) and {table['type'][j]} (from {table['start'][j]}); move one of them.")
    return table


def _simulate(demand: np.ndarray, dt: float, low: float, high: float, capacity: float, heat: np.ndarray,
              ambient: np.ndarray, p0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The load/unload control loop: reservoir pressure, loaded state and oil temperature per sample.

    ``dt`` is the step in minutes. The compressor loads when the pressure falls to ``low``
    and unloads when it reaches ``high`` (switching inside a step is resolved exactly).
    """
    n = demand.size
    pressure = np.empty(n)
    loaded_at = np.zeros(n, dtype=bool)
    oil = np.empty(n)
    p, loaded = p0, False
    temp = float(ambient[0] + 35.0)
    tau_hot, tau_cool, tau_limit = 8.0, 30.0, 3.0  # minutes: heating while loaded, cooling otherwise, cooler
    thermostat = 78.0  # °C, where the oil cooler's thermostatic valve opens
    dem = demand.tolist()
    amb = ambient.tolist()
    extra = heat.tolist()
    for i in range(n):
        d = dem[i]
        left = dt
        frac = 0.0  # share of the step spent loaded
        while left > 1e-12:
            if loaded:
                rate = capacity * (1.0 - 0.04 * (p - low)) - d
                if rate > 0 and p + rate * left >= high:
                    used = (high - p) / rate
                    p, left, frac, loaded = high, left - used, frac + used, False
                else:
                    p, frac, left = p + rate * left, frac + left, 0.0
            else:
                if p - d * left <= low:
                    used = max(p - low, 0.0) / d if d > 0 else left
                    p, left, loaded = low, left - used, True
                else:
                    p, left = p - d * left, 0.0
        frac /= dt
        hot = amb[i] + 78.0 + extra[i]
        cool = amb[i] + 12.0 + 0.5 * extra[i]
        temp += dt * (frac * (hot - temp) / tau_hot + (1.0 - frac) * (cool - temp) / tau_cool)
        limit = thermostat + extra[i]  # the oil cooler opens above it (less oil: it holds a higher level)
        if temp > limit:
            temp = limit + (temp - limit) * math.exp(-dt / tau_limit)
        pressure[i], loaded_at[i], oil[i] = p, loaded, temp
    return pressure, loaded_at, oil


def _since(flags: np.ndarray) -> np.ndarray:
    """Samples since the last True of ``flags`` (a large number before the first)."""
    idx = np.arange(flags.size)
    last = np.maximum.accumulate(np.where(flags, idx, -10**9))
    return idx - last


def _lag(target: np.ndarray, tau: float) -> np.ndarray:
    """First-order lag of ``target`` with time constant ``tau`` samples (starting on target[0])."""
    a = 1.0 - math.exp(-1.0 / max(tau, 1e-9))
    return lfilter([a], [1.0, a - 1.0], target, zi=[(1.0 - a) * target[0]])[0]


def make_compressor(
    days: float = 14, *, seed: int | None = 0, failures: Any = "default", start: Any = "2022-03-01",
    freq: str = "10s", low: float = 8.2, high: float = 10.2, consumption: float = 1.0, leak: float = 0.012,
    capacity: float = 1.0, noise: float = 1.0, temperature_offset: float = 0.0,
) -> CompressorData:
    """A synthetic twin of the MetroPT-3 air production unit (APU) of a metro train.

    The APU compresses air for the train's clients (secondary suspension, brakes,
    doors). Its controller is a two-point one: the compressor loads when the
    reservoir pressure falls to ``low`` and unloads when it reaches ``high``; in
    between, the pressure falls at the rate air is used plus leaks. Everything
    else follows from that cycle, as in the real data set:

    ================  =====  ==========================================================
    channel           unit   twin
    ================  =====  ==========================================================
    TP2               bar    compressor outlet: ~pressure + 0.25 while loaded, ~0 otherwise
    TP3               bar    pneumatic panel: the reservoir pressure (saw-tooth low..high)
    H1                bar    cyclonic separator filter: ~pressure - 0.9 while not loaded, ~0 loaded
    DV_pressure       bar    air dryer towers' discharge: ~2 bar burst after each unload, ~0 otherwise
    Reservoirs        bar    downstream reservoirs: close to TP3
    Oil_temperature   °C     heats while loaded (τ 8 min), cools otherwise (τ 30 min); cooler above 78
    Motor_current     A      ~9 at a motor start, ~5.6-6.3 loaded, ~3.9 offloaded run-on (3 min), ~0 off
    COMP              0/1    air intake valve: 1 when no intake (off or offloaded), 0 loaded
    DV_eletric        0/1    outlet valve: 1 loaded
    Towers            0/1    dryer tower in use: tower one (0) dries during every other load phase
    MPG               0/1    load start signal below ``low``; same behaviour as COMP
    LPS               0/1    1 when the pressure is below 7 bar
    Pressure_switch   0/1    0 while the towers discharge (DV_pressure burst), else 1
    Oil_level         0/1    1 normal, 0 low (see Notes)
    Caudal_impulses   0/1    flow pulses: a pulse train while loaded, 1 otherwise
    ================  =====  ==========================================================

    Air use follows a metro service day: trains run 06:00-01:00 with peaks 07:00-09:30
    and 17:00-19:30, a quieter evening, the depot 01:00-05:30 (only leaks), weekends
    at about 80 %, day-to-day variation and a fast random wobble (stations, doors).
    A normal cycle lasts about 5-15 min in service (duty 15-40 %) and up to an hour
    or more at night.

    Parameters
    ----------
    days : float >= 1
        Length in days.
    seed : int or None
        Seed of everything random (demand, noise, default failure schedule); the same
        seed gives identical output.
    failures : "default", None or list of dict
        ``"default"`` (needs ``days >= 14``): after a clean first ``min(7, days / 2)``
        days, two sensor faults (1.5-4 h), two air leaks (precursor 1-3 days, failure
        3-8 h) and one oil leak (precursor 12-19 h, failure 2-4 h), placed by ``seed``;
        failures then cover about 12 % of the second week. ``None``: normal operation
        only. A list places them: each dict has ``type`` (:data:`COMPRESSOR_FAILURES`), ``start``
        (a timestamp, or days after the first sample) and optionally ``duration``
        and ``precursor`` (``"6h"``, a Timedelta or hours; defaults air_leak 8 h / 36 h,
        oil_leak 5 h / 18 h, sensor_fault 4 h / none), ``magnitude``, and for a sensor
        fault ``sensor`` (one of :data:`METROPT3_ANALOG`) and ``mode``
        (:data:`SENSOR_FAULT_MODES`); missing ones are drawn from ``seed``.
        ``magnitude``: air_leak, the extra leak in bar/min at the failure start
        (default 0.10; it grows linearly from ``precursor_start``
        before and to 2.5 times by the end); oil_leak, the oil temperature rise in °C at
        the start (default 6; linear before, twice by the end); sensor_fault, the size
        in units of the channel's normal spread (default 3; drift: a ramp up to it;
        noise: extra white noise of that std; stuck: the last good value, magnitude NaN).
    start : timestamp-like
        First timestamp.
    freq : str
        Sampling interval, between ``"1s"`` and ``"1min"``; MetroPT-3 is at 10 s (0.1 Hz).
    low, high : float
        Load and unload set points in bar, ``6 <= low``, ``low + 0.5 <= high <= 13``.
    consumption : float > 0
        Scale of the air demand (1 = the service pattern above).
    leak : float >= 0
        Normal leak in bar/min (always there, also in the depot).
    capacity : float > 0
        Compressor delivery in bar/min of reservoir pressure (must beat peak demand).
    noise : float >= 0
        Scale of the sensor noise (1 = a few hundredths of a bar, 0.1 °C, 0.06 A).
    temperature_offset : float
        °C added to the ambient temperature (a hotter or colder line / site).

    Returns
    -------
    CompressorData
        ``(data, events)``; see :class:`CompressorData`.

    Notes
    -----
    Sources. Channel meanings, the 8.2 bar load set point (MPG), the 7 bar low-pressure
    switch (LPS) and the motor current levels (about 0 A off, 4 A offloaded, 7 A loaded,
    9 A at a start) are from the MetroPT-3 attribute description (UCI Machine Learning
    Repository, dataset 791; Veloso et al., "The MetroPT dataset for predictive
    maintenance", Scientific Data 9, 764, 2022; Davari et al., "Predictive maintenance
    based on anomaly detection using deep learning for air production unit in the
    railway industry", DSAA 2021). The unload set point of 10.2 bar is our assumption,
    taken from the upper end of the published TP3 range (7 to about 10.3 bar); the
    loaded current of the twin (5.6-6.3 A) is below the nominal 7 A, as in histograms
    of the real data. The description calls Oil_level "active when the oil is below
    the expected values", yet the real column is 1 about 90 % of the time; the twin
    follows the data (1 normal, 0 low). MetroPT-3's air leaks last about 4 h to 2 days.
    Everything else (demand pattern, rates, time constants, failure shapes) is a
    modelling choice of this twin, not a fit to the real data.

    Examples
    --------
    >>> data, events = make_compressor(14, seed=0)
    >>> data.shape, list(events["type"])[:2]
    ((120960, 16), ['sensor_fault', 'air_leak'])
    """
    args = _compressor_args(days, freq, low, high, consumption, leak, capacity, noise, temperature_offset, start)
    step = args.step
    n = int(round(args.days * pd.Timedelta(days=1) / step))
    index = pd.date_range(args.start, periods=n, freq=step, name="timestamp")
    rng = np.random.default_rng(seed)
    table = _failure_table(failures, index, args.days, np.random.default_rng(None if seed is None else [seed, 7]))
    extra_leak, extra_heat, oil_low_prob = _failure_effects(table, n)
    pressure, loaded, oil = _run_machine(index, rng, args, extra_leak, extra_heat)
    data = _channels(pressure, loaded, oil, oil_low_prob, rng, step, args.low, args.noise, index)
    _apply_sensor_faults(data, table, rng)
    anomaly = np.zeros(n, dtype=np.int64)
    for ev in table.itertuples():
        anomaly[ev.pos_a:ev.pos_b] = 1
    data["anomaly"] = anomaly
    events = table.drop(columns=["pos_a", "pos_b", "pos_p"]).astype({"magnitude": np.float64})
    return CompressorData(data, events)


class _CompressorArgs(NamedTuple):
    """The checked arguments of :func:`make_compressor` (``step`` is ``freq`` as a Timedelta, ``start`` a Timestamp)."""

    days: float
    step: pd.Timedelta
    low: float
    high: float
    consumption: float
    leak: float
    capacity: float
    noise: float
    temperature_offset: float
    start: pd.Timestamp


def _compressor_args(days: Any, freq: Any, low: Any, high: Any, consumption: Any, leak: Any, capacity: Any,
                     noise: Any, temperature_offset: Any, start: Any) -> _CompressorArgs:
    """Check :func:`make_compressor`'s scalar arguments; each error names the argument and its valid range.

    Beyond the ranges, the compressor must keep up with the peak demand (a machine
    that cannot refill the reservoir never unloads, and the twin would be meaningless).
    """
    days = check_number("days", days, 1, hint="It is the length of the series in days.")
    try:
        step = _step(freq)
    except ValueError as err:
        raise InvalidParameterError(str(err)) from None
    if not pd.Timedelta(seconds=1) <= step <= pd.Timedelta(minutes=1):
        raise InvalidParameterError(f"freq={freq!r} must be between '1s' and '1min' (load phases last minutes); "
                                    f"MetroPT-3 is at '10s'.")
    low = check_number("low", low, 6.0, 12.5, hint="It is the load set point in bar (MetroPT-3: 8.2).")
    high = check_number("high", high, low + 0.5, 13.0,
                        hint=f"It is the unload set point in bar, at least low + 0.5 = {low + 0.5}.")
    consumption = check_number("consumption", consumption, 0, 3, low_open=True,
                               hint="It scales the air demand; 1 is the default service pattern.")
    leak = check_number("leak", leak, 0, 0.2, hint="It is the normal leak in bar/min.")
    capacity = check_number("capacity", capacity, 0.2, 5, hint="It is the compressor delivery in bar/min.")
    if capacity < 1.25 * (0.29 * consumption * 1.5 + leak):
        raise InvalidParameterError(
            f"capacity={capacity} cannot keep up with the peak demand of consumption={consumption} and leak={leak}; "
            f"raise capacity to at least {1.25 * (0.29 * consumption * 1.5 + leak):.2f} or lower consumption.")
    noise = check_number("noise", noise, 0, 10, hint="It scales the sensor noise; 1 is the default.")
    temperature_offset = check_number("temperature_offset", temperature_offset, -30, 30,
                                      hint="It is added to the ambient temperature in °C.")
    try:
        t0 = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise InvalidParameterError(f"start={start!r} is not a timestamp; use e.g. '2022-03-01'.") from None
    return _CompressorArgs(days, step, low, high, consumption, leak, capacity, noise, temperature_offset, t0)


def _failure_effects(table: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the machine failures do to the machine, per sample: extra leak, extra oil heat, P(oil level low).

    An air leak adds a leak (bar/min) that grows linearly over the precursor up to
    ``magnitude`` at the failure start, then to 2.5 x ``magnitude`` at its end. An oil
    leak adds heat (°C) the same way (up to 2 x by the end) and makes the oil-level
    switch read low, rarely in the precursor and most of the time during the failure.
    Sensor faults change no machine state (only a recorded channel, see
    :func:`_apply_sensor_faults`).
    """
    extra_leak = np.zeros(n)
    extra_heat = np.zeros(n)
    oil_low_prob = np.zeros(n)
    for ev in table.itertuples():
        if ev.type == "sensor_fault":
            continue
        pre = np.arange(ev.pos_p, ev.pos_a)
        grow = (pre - ev.pos_p + 1) / max(ev.pos_a - ev.pos_p, 1)
        during = np.arange(ev.pos_a, ev.pos_b)
        rise = (during - ev.pos_a) / max(ev.pos_b - ev.pos_a - 1, 1)
        if ev.type == "air_leak":
            extra_leak[pre] = ev.magnitude * grow
            extra_leak[during] = ev.magnitude * (1.0 + 1.5 * rise)
        else:
            extra_heat[pre] = ev.magnitude * grow
            extra_heat[during] = ev.magnitude * (1.0 + rise)
            oil_low_prob[pre] = 0.3 * grow**2
            oil_low_prob[during] = 0.9
    return extra_leak, extra_heat, oil_low_prob


def _run_machine(index: pd.DatetimeIndex, rng: np.random.Generator, args: _CompressorArgs,
                 extra_leak: np.ndarray, extra_heat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The machine itself: air demand and ambient temperature, then the control loop (pressure, loaded, oil).

    Draws from ``rng`` in a fixed order (demand, weather, initial pressure), which
    the same seed's output depends on.
    """
    n = index.size
    step = args.step
    dt = step / pd.Timedelta(minutes=1)
    demand = _air_demand(index, rng, args.consumption, 1.0 / dt) + args.leak + extra_leak
    hour = ((index - index.normalize()) / pd.Timedelta(hours=1)).to_numpy()
    weather = 3.0 * _ar1(rng, n, 86400.0 / step.total_seconds())  # warmer and colder days
    ambient = 18.0 + args.temperature_offset + 5.0 * np.sin(2 * np.pi * (hour - 9.0) / 24.0) + weather
    return _simulate(demand, dt, args.low, args.high, args.capacity, extra_heat, ambient,
                     float(rng.uniform(args.low, args.high)))


def _channels(pressure: np.ndarray, loaded: np.ndarray, oil: np.ndarray, oil_low_prob: np.ndarray,
              rng: np.random.Generator, step: pd.Timedelta, low: float, noise: float,
              index: pd.DatetimeIndex) -> pd.DataFrame:
    """The 15 recorded channels from the machine's state, with sensor noise and the loggers' resolution.

    Analog channels follow the pressure and load state through first-order lags
    (outlet, filter), the dryer's discharge burst after each unload, the motor's
    run-on after unloading and its start peak; digital channels are the valves and
    switches. Values are rounded to the resolution of MetroPT-3's loggers.
    """
    n = pressure.size
    per_min = 1.0 / (step / pd.Timedelta(minutes=1))
    z = rng.standard_normal((8, n)) * noise
    load_start = loaded & ~np.r_[False, loaded[:-1]]
    unload = ~loaded & np.r_[False, loaded[:-1]]
    since_unload = _since(unload | loaded)  # 0 while loaded
    run_on = 3 * per_min
    motor_on = loaded | (since_unload <= run_on)
    motor_start = loaded & ~np.r_[False, motor_on[:-1]]
    tp2 = _lag(np.where(loaded, pressure + 0.25, 0.0), 12.0 / step.total_seconds()) - 0.01 + 0.015 * z[0]
    h1 = _lag(np.where(loaded, 0.0, pressure - 0.9), 20.0 / step.total_seconds()) - 0.02 + 0.015 * z[1]
    discharge = _since(unload) * step.total_seconds()  # seconds since the last unload
    dv = np.where(discharge < 60, 2.0 * np.exp(-discharge / 20.0), 0.0) - 0.02 + 0.01 * z[2]
    tp3 = pressure + 0.012 * z[3]
    reservoirs = pressure - 0.015 + 0.012 * z[4]
    current = (np.where(loaded, 5.6 + 0.35 * (pressure - low), np.where(motor_on, 3.9, 0.02))
               + np.where(motor_on, 0.06, 0.01) * z[5])
    current = np.where(motor_start, 9.0 + 0.3 * z[6], current)
    oil_t = oil + 0.1 * z[7]
    cycle = np.cumsum(load_start)
    towers = np.where(loaded & (cycle % 2 == 1), 0, 1)
    phase = int(rng.integers(2))
    caudal = np.where(loaded, (_since(load_start) + phase) % 2, 1)
    oil_level = (rng.random(n) >= oil_low_prob).astype(np.int64)
    return pd.DataFrame({
        "TP2": np.round(tp2 / 0.002) * 0.002, "TP3": np.round(tp3 / 0.002) * 0.002,
        "H1": np.round(h1 / 0.002) * 0.002, "DV_pressure": np.round(dv / 0.002) * 0.002,
        "Reservoirs": np.round(reservoirs / 0.002) * 0.002, "Oil_temperature": np.round(oil_t / 0.025) * 0.025,
        "Motor_current": np.round(current / 0.0025) * 0.0025,
        "COMP": (~loaded).astype(np.int64), "DV_eletric": loaded.astype(np.int64),
        "Towers": towers.astype(np.int64), "MPG": (~loaded).astype(np.int64),
        "LPS": (pressure < 7.0).astype(np.int64), "Pressure_switch": (dv < 0.5).astype(np.int64),
        "Oil_level": oil_level, "Caudal_impulses": caudal.astype(np.int64),
    }, index=index)


def _apply_sensor_faults(data: pd.DataFrame, table: pd.DataFrame, rng: np.random.Generator) -> None:
    """Change the recorded channel of each sensor fault in place (the machine itself is unaffected).

    ``stuck`` holds the last good value, ``drift`` adds a ramp up to ``magnitude`` times
    the channel's normal spread, ``noise`` adds white noise of that std.
    """
    for ev in table.itertuples():
        if ev.type != "sensor_fault":
            continue
        col = data.columns.get_loc(ev.sensor)
        seg = data.iloc[ev.pos_a:ev.pos_b, col].to_numpy()
        k = np.arange(seg.size)
        size = ev.magnitude * _FAULT_SCALE[ev.sensor]
        if ev.mode == "stuck":
            new = np.full(seg.size, data.iat[max(ev.pos_a - 1, 0), col])
        elif ev.mode == "drift":
            new = seg + size * (k + 1) / seg.size
        else:
            new = seg + size * rng.standard_normal(seg.size)
        data.iloc[ev.pos_a:ev.pos_b, col] = new
