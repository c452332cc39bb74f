"""The shared steps of the alarm rules: boundary checks, the vectorised steps (bool in, bool out)
and the conversion of durations to samples. Private; the public names live in :mod:`sadlib.alarms`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._runs import true_runs
from .._time import duration_to_samples, is_duration, median_spacing
from ..validation import (
    InvalidParameterError,
    as_1d_float,
    as_labels,
    as_period,
    as_time_index,
    check_int,
    check_number,
)


# --------------------------------------------------------------------------- #
# boundary checks
# --------------------------------------------------------------------------- #
def _scores(x: Any, name: str = "scores") -> np.ndarray:
    """A 1-D float score series, NaN allowed (missing score), empty rejected.

    A list mixing booleans with numbers is refused too (NumPy would read ``True`` as 1.0), so
    the batch forms refuse what a stream's ``update`` refuses value by value.
    """
    if isinstance(x, (list, tuple)):
        flags = [isinstance(v, (bool, np.bool_)) for v in x]
        if any(flags) and not all(flags):
            raise InvalidParameterError(f"{name} mixes booleans with numbers (first boolean at row "
                                        f"{flags.index(True)}); scores are numbers, NaN for a missing one. Convert "
                                        f"the booleans first.")
    return as_1d_float(x, name=name, allow_nan=True)


def _alarm_vector(x: Any, name: str = "alarms") -> np.ndarray:
    return as_labels(x, name=name)


def _score_value(x: Any, name: str = "score") -> float:
    """One score for a stream's ``update``, accepted exactly when the batch form accepts ``[x]``.

    Booleans, text and arrays are refused as :func:`_scores` refuses them in a batch, so the
    streaming and batch forms of a rule take the same inputs.
    """
    if isinstance(x, (float, np.floating)) or (isinstance(x, (int, np.integer)) and not isinstance(x, bool)):
        return float(x)  # the common case, without the cost of an array
    if np.ndim(x) != 0:
        raise InvalidParameterError(f"{name} must be one number per update (NaN for a missing one), got an array of "
                                    f"shape {np.shape(x)}; pass the values one at a time, or use run(values).")
    try:
        return float(as_1d_float([x], name=name, allow_nan=True)[0])
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number (NaN for a missing one), got {x!r} of type "
                                    f"{type(x).__name__}; the batch form refuses it too. Convert it first, e.g. "
                                    f"float(value).") from None


def _alarm_value(x: Any, name: str = "alarm") -> bool:
    """One alarm for a stream's ``update``: a bool or 0/1, as the batch form (:func:`_alarm_vector`) accepts."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if np.ndim(x) != 0:
        raise InvalidParameterError(f"{name} must be one bool or 0/1 per update, got an array of shape "
                                    f"{np.shape(x)}; pass the alarms one at a time, or use run(alarms).")
    try:
        return bool(as_labels([x], name=name)[0])
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a bool or 0/1 (1 = alarm), got {x!r}; the batch form refuses "
                                    f"it too. Map it first, e.g. bool(score > threshold).") from None


def _level(name: str, value: Any) -> float:
    return check_number(name, value, hint="Pass a score level, e.g. policy.threshold_ or detector.threshold_.")


def _above(s: np.ndarray, level: float) -> np.ndarray:
    """``s > level`` with NaN counted as not above."""
    out = np.zeros(s.shape, dtype=bool)
    np.greater(s, level, out=out, where=~np.isnan(s))
    return out


# --------------------------------------------------------------------------- #
# the steps, vectorised (bool in, bool out)
# --------------------------------------------------------------------------- #
def _latch(s: np.ndarray, on: float, off: float) -> np.ndarray:
    """Hysteresis: on at ``s > on``, off at ``s <= off`` (or NaN), else the previous state (start off)."""
    switch_on = _above(s, on)
    switch_off = ~_above(s, off)
    state = np.where(switch_on, 1.0, np.where(switch_off, 0.0, np.nan))
    return pd.Series(state).ffill().fillna(0.0).to_numpy() > 0


def _k_of_n(b: np.ndarray, k: int, n: int) -> np.ndarray:
    """At least ``k`` True among the last ``n`` values (fewer at the start), the present one included."""
    if k == 1 and n == 1:
        return b.copy()
    csum = np.concatenate(([0], np.cumsum(b, dtype=np.int64)))
    t = np.arange(1, b.size + 1)
    return (csum[t] - csum[np.maximum(t - n, 0)]) >= k


def _run_length(b: np.ndarray) -> np.ndarray:
    """Length of the run of True that ends at each position (0 where False)."""
    idx = np.arange(b.size)
    last_false = np.maximum.accumulate(np.where(b, -1, idx))
    return idx - last_false


def _min_duration(b: np.ndarray, d: int) -> np.ndarray:
    return b.copy() if d == 1 else _run_length(b) >= d


def _hold(b: np.ndarray, h: int) -> np.ndarray:
    """On while a True is at most ``h`` samples old."""
    if h == 0:
        return b.copy()
    idx = np.arange(b.size)
    last_true = np.maximum.accumulate(np.where(b, idx, -(h + 1) - 1))
    return idx - last_true <= h


def _dead_time(b: np.ndarray, dead: int) -> np.ndarray:
    """No onset during the ``dead`` samples that follow the end of an (output) alarm."""
    if dead == 0:
        return b.copy()
    out = np.zeros_like(b)
    dead_until = 0  # first position where an onset is allowed again
    for start, end in _ranges(b):
        eff = max(start, dead_until)
        if eff < end:
            out[eff:end] = True
            dead_until = end + dead
    return out


def _announce(b: np.ndarray, rearm: int | None) -> np.ndarray:
    """True at each onset and, with ``rearm``, every ``rearm`` samples while the alarm stays on."""
    out = np.zeros_like(b)
    for start, end in _ranges(b):
        if rearm is None:
            out[start] = True
        else:
            out[start:end:rearm] = True
    return out


def _ranges(b: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as ``(start, end)`` pairs, ``end`` exclusive (the one home: :mod:`sadlib._runs`)."""
    return true_runs(b)


# --------------------------------------------------------------------------- #
# durations
# --------------------------------------------------------------------------- #
_is_duration = is_duration


def _as_timedelta(name: str, value: Any) -> pd.Timedelta:
    try:
        out = pd.Timedelta(value)
    except (ValueError, TypeError):
        out = pd.NaT
    if pd.isna(out) or out < pd.Timedelta(0):
        raise InvalidParameterError(f"{name} must be a number of samples or a duration such as '5min' or "
                                    f"pd.Timedelta('30s'), got {value!r}.")
    return out


def _samples(name: str, value: Any, step: pd.Timedelta | None, low: int) -> int:
    """A sample count from an int or a duration (rounded to the nearest number of samples, at least ``low``).

    Nearest, not up: a persistence or hold of "5min" means about five minutes (see :mod:`sadlib._time`).
    """
    if not _is_duration(value):
        return check_int(name, value, low, hint="Give it in samples, or as a duration such as '5min'.")
    duration = _as_timedelta(name, value)
    if step is None:
        raise InvalidParameterError(
            f"{name}={value!r} is a duration, so the policy needs the sampling period: pass index=... to fit "
            f"(a DatetimeIndex of the scores) or sampling_period='1min' to AlarmPolicy; or give {name} in samples.")
    return duration_to_samples(duration, step, rounding="nearest", low=low, name=name)


def _sampling_step(sampling_period: Any, index: Any, n: int) -> pd.Timedelta | None:
    if sampling_period is not None:
        return as_period(sampling_period)
    if index is None:
        return None
    idx = as_time_index(index, n)
    if n < 2:
        raise ValueError("index has a single timestamp, so it gives no sampling period; pass more normal scores "
                         "or set sampling_period on the policy.")
    return median_spacing(idx)


def _check_k_n(k: Any, n: Any) -> tuple[int, int]:
    n = check_int("n", n, 1, hint="It is the number of recent scores looked at (k-of-n persistence).")
    k = check_int("k", k, 1, n, hint=f"It is how many of the last n={n} scores must be above the threshold.")
    return k, n

