"""Alarm policies: from a score series to alarms an operator can live with.

A detector gives one score per sample; a threshold turns it into ``score >
threshold``, which chatters on noisy scores and floods the operator during a
long event. Alarm-management practice (ISA-18.2 / IEC 62682, EEMUA 191) adds
rules between the score and the operator. This module implements them, each in
two forms that make **the same decisions sample by sample**:

* a *batch* form for a whole array (vectorised NumPy, what notebooks and the
  benchmark use), and
* a *streaming* form that takes one score at a time and decides on the spot,
  as an edge device does (:meth:`AlarmPolicy.stream`).

The two are written independently and the tests replay random series through
both, as :mod:`sadlib.streaming` does for the scores.

Policies (batch functions; all but the last two are steps of :class:`AlarmPolicy`)
-----------------------------------------------------------------------------------
* :func:`hysteresis_alarms`: separate on and off levels;
* :func:`k_of_n_alarms`: at least ``k`` of the last ``n`` scores above the threshold;
* :func:`min_duration_alarms`: ``min_duration`` consecutive scores above (the rule
  of :class:`sadlib.streaming.StreamingScorer`; this is its one home);
* :func:`hold_alarms`: keep an alarm on ``hold`` samples after it falls, which merges
  alarms closer than ``hold`` samples causally;
* :func:`dead_time_alarms`: no new alarm onset for ``dead_time`` samples after an
  alarm ends;
* :func:`announcements`: the onsets an operator is shown, standing alarms
  re-announced every ``rearm`` samples (what :func:`sadlib.metrics.false_alarm_count` counts);
* :func:`merge_gaps`: the non-causal batch merge of alarms closer than ``gap``
  (streaming form :class:`MergeGapsStream`, which decides ``gap`` samples late);
* :func:`all_windows_alarms`: the SKAB authors' rule for window scores, a point
  alarms only if every window covering it is above the limit (streaming form
  :class:`AllWindowsStream`, which decides ``window - 1`` samples late).

:class:`AlarmPolicy` composes the first six as one scikit-learn style estimator
whose threshold is fitted on normal scores only, and :func:`calibrate_to_budget`
chooses its parameters on validation data under a false-alarm budget.

Alarm-management figures: :func:`alarm_table`, :func:`alarms_per_hour`,
:func:`chattering` and :func:`standing_alarms`.

Conventions
-----------
* Scores are 1-D floats; NaN means "no score" (e.g. the warm-up of a window
  model) and counts as *not above* every level, so it breaks a run, lowers a
  k-of-n count and switches a hysteresis alarm off.
* "Above" is strict (``score > threshold``), as in :mod:`sadlib.thresholds`.
* Every parameter counted in samples may also be a duration (``"5min"``, a
  ``pandas.Timedelta``) in :class:`AlarmPolicy`; it is converted to samples when
  the policy is fitted, with the sampling period of the index (or ``sampling_period``).
  The standalone functions take samples only.
* An empty score array is an error (as everywhere in :mod:`sadlib`); an all-NaN
  one gives no alarm.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import warnings
from collections import deque
from numbers import Integral
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import ParameterGrid

from ..metrics import detection_delays, event_metrics, events, false_alarms_per_day
from ..thresholds import THRESHOLDS, Threshold, make_threshold
from ..validation import (
    InvalidParameterError,
    as_1d_float,
    as_2d_float,
    as_labels,
    as_period,
    as_time_index,
    check_choice,
    check_int,
    check_number,
)

__all__ = [
    "hysteresis_alarms",
    "k_of_n_alarms",
    "min_duration_alarms",
    "hold_alarms",
    "dead_time_alarms",
    "announcements",
    "merge_gaps",
    "all_windows_alarms",
    "ALL_WINDOWS_CONVENTIONS",
    "AlarmPolicy",
    "AlarmStream",
    "AllWindowsStream",
    "MergeGapsStream",
    "calibrate_to_budget",
    "DEFAULT_CANDIDATES",
    "alarm_table",
    "alarms_per_hour",
    "chattering",
    "standing_alarms",
    "POLICIES",
    "make_policy",
    "policy_label",
]

#: conventions of :func:`all_windows_alarms`
ALL_WINDOWS_CONVENTIONS = ("exact", "skab")

# --------------------------------------------------------------------------- #
# boundary checks
# --------------------------------------------------------------------------- #
def _scores(x: Any, name: str = "scores") -> np.ndarray:
    """A 1-D float score series, NaN allowed (missing score), empty rejected."""
    return as_1d_float(x, name=name, allow_nan=True)


def _alarm_vector(x: Any, name: str = "alarms") -> np.ndarray:
    return as_labels(x, name=name)


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
    """Runs of True as ``(start, end)`` pairs, ``end`` exclusive (:func:`sadlib.metrics.events`)."""
    return events(b) if b.size else []


# --------------------------------------------------------------------------- #
# public batch policies
# --------------------------------------------------------------------------- #
def hysteresis_alarms(scores: Any, on: float, off: float) -> np.ndarray:
    """Alarms with separate on and off levels (a latch).

    The alarm switches on at a score strictly above ``on`` and stays on until a
    score at or below ``off`` (or a missing score). ``off == on`` is the plain rule
    ``scores > on``.

    Parameters
    ----------
    scores : array-like of shape (n,), NaN allowed
    on : float, the switch-on level
    off : float <= on, the switch-off level

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> hysteresis_alarms([0, 3, 2, 2, 0.5, 2], on=2.5, off=1).tolist()
    [False, True, True, True, False, False]
    """
    on = _level("on", on)
    off = _level("off", off)
    if off > on:
        raise InvalidParameterError(f"off must be <= on (the alarm switches off below where it switches on), "
                                    f"got off={off!r} and on={on!r}.")
    return _latch(_scores(scores), on, off)


def k_of_n_alarms(scores: Any, threshold: float, k: int, n: int) -> np.ndarray:
    """Alarm at ``t`` when at least ``k`` of the last ``n`` scores are strictly above ``threshold``.

    The last ``n`` scores are ``scores[t - n + 1 .. t]``; at the start of the series
    only the scores seen so far count (so the first ``k - 1`` samples never alarm).
    ``k = n`` is :func:`min_duration_alarms` with ``min_duration = n``; ``k = 1``
    holds every exceedance for ``n - 1`` samples.

    Parameters
    ----------
    scores : array-like of shape (n_samples,), NaN allowed (not above)
    threshold : float
    k : int, 1 <= k <= n
    n : int >= 1

    Returns
    -------
    ndarray of bool, shape (n_samples,)
    """
    threshold = _level("threshold", threshold)
    k, n = _check_k_n(k, n)
    return _k_of_n(_above(_scores(scores), threshold), k, n)


def min_duration_alarms(scores: Any, threshold: float, min_duration: int = 1) -> np.ndarray:
    """Alarms that start only after ``min_duration`` consecutive scores above ``threshold``.

    ``alarm[t]`` is True when ``scores[t - min_duration + 1 : t + 1]`` are all strictly
    above the threshold. An alarm thus starts ``min_duration - 1`` samples after the
    score first crosses the threshold, lasts while the score stays above it and ends
    at the first score at or below it. A missing score (NaN) counts as not above.
    ``min_duration=1`` gives ``scores > threshold``.

    This is the one home of the rule; :func:`sadlib.streaming.min_duration_alarms`
    and :class:`AlarmPolicy` (``min_duration=``) use it.

    Parameters
    ----------
    scores : array-like of shape (n,), NaN allowed
    threshold : float, a score strictly above it counts
    min_duration : int >= 1

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    threshold = check_number("threshold", threshold, hint="Pass e.g. detector.threshold_.")
    min_duration = check_int("min_duration", min_duration, 1,
                             hint="It is the number of consecutive scores above the threshold before an alarm.")
    return _min_duration(_above(_scores(scores), threshold), min_duration)


def hold_alarms(alarms: Any, hold: int) -> np.ndarray:
    """Keep every alarm on for ``hold`` samples after it falls (causal gap merging).

    ``out[t]`` is True when one of ``alarms[t - hold .. t]`` is True. Two alarms
    separated by at most ``hold`` quiet samples become one; every alarm also ends
    ``hold`` samples later. This is the causal form of :func:`merge_gaps`: a stream
    can decide it at once, while a true merge must wait ``gap`` samples to know
    whether a quiet sample is a gap or the end.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    hold : int >= 0 (0 leaves the alarms as they are)

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    hold = check_int("hold", hold, 0, hint="It is the number of samples an alarm is held on after it falls.")
    return _hold(_alarm_vector(alarms), hold)


def dead_time_alarms(alarms: Any, dead_time: int) -> np.ndarray:
    """Suppress alarm onsets during the ``dead_time`` samples after an alarm ends.

    An alarm that ends at ``e`` (the first quiet sample) starts a dead period
    ``e .. e + dead_time - 1``. An input alarm that starts inside it is shown only
    from the end of the dead period on, if it is still on then; one that ends inside
    it is not shown at all (and starts no new dead period). Alarms are never cut short.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    dead_time : int >= 0

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> dead_time_alarms([1, 0, 1, 1, 0, 0, 1], 3).astype(int).tolist()
    [1, 0, 0, 0, 0, 0, 1]
    """
    dead_time = check_int("dead_time", dead_time, 0,
                          hint="It is the number of samples after an alarm ends during which no new alarm starts.")
    return _dead_time(_alarm_vector(alarms), dead_time)


def announcements(alarms: Any, rearm: int | None = None) -> np.ndarray:
    """The samples at which an operator is alerted: every onset, and every ``rearm`` samples of a standing alarm.

    An alarm range of ``L`` samples is announced ``ceil(L / rearm)`` times, at its
    start and ``rearm``, ``2 * rearm``, ... samples later (ISA-18.2's re-alarming of
    a standing alarm); this is how :func:`sadlib.metrics.false_alarm_count` counts.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    rearm : int >= 1 or None (onsets only)

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    if rearm is not None:
        rearm = check_int("rearm", rearm, 1, hint="It is the re-announce period in samples; None: onsets only.")
    return _announce(_alarm_vector(alarms), rearm)


def merge_gaps(alarms: Any, gap: int) -> np.ndarray:
    """Merge alarm ranges separated by at most ``gap`` quiet samples (batch, looks ahead).

    Quiet runs of length ``<= gap`` that lie *between* two alarm ranges are filled;
    nothing is added before the first or after the last alarm. Unlike
    :func:`hold_alarms` the alarms do not last longer, but the decision about a quiet
    sample needs up to ``gap`` later samples: :class:`MergeGapsStream` gives the same
    result ``gap`` samples late.

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    gap : int >= 0

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> merge_gaps([1, 0, 0, 1, 0, 0, 0, 1, 0], 2).astype(int).tolist()
    [1, 1, 1, 1, 0, 0, 0, 1, 0]
    """
    gap = check_int("gap", gap, 0, hint="It is the longest quiet run between two alarms that is filled.")
    b = _alarm_vector(alarms)
    out = b.copy()
    ranges = _ranges(b)
    for (_, end), (start, _) in zip(ranges[:-1], ranges[1:]):
        if start - end <= gap:
            out[end:start] = True
    return out


def _all_windows_layout(window: int, convention: str) -> tuple[int, int, int]:
    """(windows checked per point ``m``, decision delay, last point's distance to the end)."""
    if convention == "exact":
        return window, window - 1, window - 1
    # skab: windows that end at p .. p + w - 2 (w - 1 of the w covering windows); loop up to n - 2w + 1
    return window - 1, 2 * window - 2, 2 * window - 2


def all_windows_alarms(window_scores: Any, limit: float, window: int, *, convention: str = "exact") -> np.ndarray:
    """The SKAB authors' rule: a point alarms only if every window covering it is above ``limit``.

    Parameters
    ----------
    window_scores : array-like of shape (n,), NaN allowed
        ``window_scores[e]`` is the score of the window of samples ``e - window + 1 .. e``
        (indexed by its **last** sample, as :func:`sadlib.streaming.batch_scores` and
        ``aggregate="last"`` give them). The first ``window - 1`` entries have no
        window and are ignored, whatever they hold. Window scores indexed by their
        *first* sample (``n - window + 1`` of them, as in the SKAB code) become this with
        ``np.r_[np.full(window - 1, np.nan), scores_by_start]``.
    limit : float, a window score strictly above it is "above"
    window : int, the window length (>= 1, >= 2 for ``"skab"``)
    convention : {"exact", "skab"}
        * ``"exact"``: point ``p`` alarms when the ``window`` windows that cover it
          (ending at ``p .. p + window - 1``) are all above. Points ``p < window - 1``
          are covered by fewer windows and never alarm; neither do the last
          ``window - 1`` points, whose covering windows run past the end of the data.
        * ``"skab"``: the code of the SKAB baselines (taken from the Keras tutorial
          "Timeseries anomaly detection using an Autoencoder"), loop
          ``for i in range(w - 1, len(X) - w + 1): all(above[i - w + 1 : i])`` over the
          windows ``X`` indexed by their first sample. The slice checks the windows
          ending at ``p .. p + w - 2``, i.e. ``w - 1`` of the ``w`` covering windows
          (it leaves out the one that starts at ``p``), and since ``len(X) = n - w + 1``
          counts windows, not points, the last ``2 w - 2`` points never alarm,
          ``w - 1`` more than needed. Points ``p < w - 1`` never alarm.

    Returns
    -------
    ndarray of bool, shape (n,)

    Notes
    -----
    The rule looks ahead: point ``p`` is decided once the last window it needs has
    ended, ``window - 1`` samples later (``2 window - 2`` with ``"skab"``, which waits
    for its loop bound). :class:`AllWindowsStream` makes the same decisions with that
    delay; the undecided points at the end of the data are the end-of-file effect.
    """
    limit = check_number("limit", limit, hint="It is the level every covering window's score must exceed.")
    check_choice("convention", convention, ALL_WINDOWS_CONVENTIONS)
    window = check_int("window", window, 2 if convention == "skab" else 1,
                       hint="It is the number of samples per window." + (
                           " The 'skab' convention checks window - 1 windows, so it needs window >= 2."
                           if convention == "skab" else ""))
    s = _scores(window_scores, name="window_scores")
    n = s.size
    above = _above(s, limit)
    above[: window - 1] = False
    m, _, tail = _all_windows_layout(window, convention)
    out = np.zeros(n, dtype=bool)
    last = n - 1 - tail  # last point that is decided
    if last >= window - 1:
        run = _run_length(above)
        p = np.arange(window - 1, last + 1)
        out[p] = run[p + m - 1] >= m
    return out


# --------------------------------------------------------------------------- #
# delayed streams for the two look-ahead rules
# --------------------------------------------------------------------------- #
class _DelayedStream:
    """Shared interface of the streams that decide a sample ``delay`` samples late."""

    delay: int

    def reset(self):
        """Forget everything seen so far."""
        self.n_seen = 0
        self._buffer: deque = deque(maxlen=self.delay + 1)
        return self

    def run(self, values: Iterable[Any]) -> np.ndarray:
        """Feed every value, then return the decisions as a bool array of the input's length.

        The last ``delay`` samples, which a stream has not decided at the end of the
        data, are False (the end-of-file effect).
        """
        decisions = [self.update(v) for v in values]
        out = np.zeros(len(decisions), dtype=bool)
        got = [d for d in decisions if d is not None]
        out[: len(got)] = got
        return out


class AllWindowsStream(_DelayedStream):
    """:func:`all_windows_alarms` one window score at a time, deciding ``delay`` samples late.

    Parameters
    ----------
    limit, window, convention : as in :func:`all_windows_alarms`

    Attributes
    ----------
    delay : int, ``window - 1`` (``"exact"``) or ``2 * window - 2`` (``"skab"``)
    n_seen : int, window scores received

    :meth:`update` takes the score of the window that ends at the new sample (NaN
    while fewer than ``window`` samples have arrived) and returns the decision for
    the sample ``delay`` steps back, or ``None`` while there is none yet.
    """

    def __init__(self, limit: float, window: int, *, convention: str = "exact"):
        self.limit = check_number("limit", limit, hint="It is the level every covering window's score must exceed.")
        self.convention = check_choice("convention", convention, ALL_WINDOWS_CONVENTIONS)
        self.window = check_int("window", window, 2 if convention == "skab" else 1,
                                hint="It is the number of samples per window.")
        self._m, self.delay, _ = _all_windows_layout(self.window, convention)
        self.reset()

    def update(self, window_score: float) -> bool | None:
        """Take the next window score; return the decision for sample ``n_seen - 1 - delay`` (None before)."""
        e = self.n_seen
        score = float(window_score)
        self._buffer.append(e >= self.window - 1 and not np.isnan(score) and score > self.limit)
        self.n_seen += 1
        p = e - self.delay
        if p < 0:
            return None
        if p < self.window - 1:
            return False
        return all(list(self._buffer)[: self._m])  # buffer = above[p .. e]


class MergeGapsStream(_DelayedStream):
    """:func:`merge_gaps` one alarm at a time, deciding ``gap`` samples late.

    :meth:`update` takes the next alarm (bool) and returns the merged alarm of the
    sample ``gap`` steps back, or ``None`` while there is none yet.

    Parameters
    ----------
    gap : int >= 0
    """

    def __init__(self, gap: int):
        self.gap = self.delay = check_int("gap", gap, 0,
                                          hint="It is the longest quiet run between two alarms that is filled.")
        self.reset()

    def reset(self) -> "MergeGapsStream":
        """Forget everything seen so far."""
        super().reset()
        self._last_on: int | None = None  # position of the last alarm before the decided sample
        return self

    def update(self, alarm: Any) -> bool | None:
        """Take the next alarm; return the merged decision for sample ``n_seen - 1 - gap`` (None before)."""
        self._buffer.append(bool(alarm))
        self.n_seen += 1
        p = self.n_seen - 1 - self.gap
        if p < 0:
            return None
        window = list(self._buffer)  # alarms[p .. p + gap]
        if window[0]:
            self._last_on = p
            return True
        if self._last_on is None:
            return False
        later = [i for i, on in enumerate(window) if on]  # offsets of alarms after p
        return bool(later) and (p + later[0]) - self._last_on - 1 <= self.gap


# --------------------------------------------------------------------------- #
# durations
# --------------------------------------------------------------------------- #
_DURATION_TYPES = (str, pd.Timedelta, _dt.timedelta, np.timedelta64)


def _is_duration(value: Any) -> bool:
    return isinstance(value, _DURATION_TYPES)


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
    """A sample count from an int or a duration (rounded to the nearest number of samples, at least ``low``)."""
    if not _is_duration(value):
        return check_int(name, value, low, hint="Give it in samples, or as a duration such as '5min'.")
    duration = _as_timedelta(name, value)
    if step is None:
        raise InvalidParameterError(
            f"{name}={value!r} is a duration, so the policy needs the sampling period: pass index=... to fit "
            f"(a DatetimeIndex of the scores) or sampling_period='1min' to AlarmPolicy; or give {name} in samples.")
    return max(low, int(round(duration / step)))


def _sampling_step(sampling_period: Any, index: Any, n: int) -> pd.Timedelta | None:
    if sampling_period is not None:
        return as_period(sampling_period)
    if index is None:
        return None
    idx = as_time_index(index, n)
    if n < 2:
        raise ValueError("index has a single timestamp, so it gives no sampling period; pass more normal scores "
                         "or set sampling_period on the policy.")
    return pd.Series(idx).diff().median()


def _check_k_n(k: Any, n: Any) -> tuple[int, int]:
    n = check_int("n", n, 1, hint="It is the number of recent scores looked at (k-of-n persistence).")
    k = check_int("k", k, 1, n, hint=f"It is how many of the last n={n} scores must be above the threshold.")
    return k, n


# --------------------------------------------------------------------------- #
# the composed policy
# --------------------------------------------------------------------------- #
class AlarmPolicy(BaseEstimator):
    """Turn a score series into operator alarms: threshold, persistence, hold, dead time, re-arm.

    The steps run in this order, each on the output of the one before:

    1. **level**: ``score > threshold_``; with ``hysteresis_off`` a latch that
       switches on above ``threshold_`` and off at or below ``off_threshold_``
       (:func:`hysteresis_alarms`). A missing score (NaN) is not above either level;
    2. **k of n**: on when at least ``k`` of the last ``n`` levels are on (:func:`k_of_n_alarms`);
    3. **minimum duration**: on when step 2 has been on for ``min_duration``
       consecutive samples (:func:`min_duration_alarms`);
    4. **hold**: stays on ``hold`` samples after step 3 falls, so alarms closer than
       that merge (:func:`hold_alarms`);
    5. **dead time**: no new onset for ``dead_time`` samples after an alarm ends
       (:func:`dead_time_alarms`);
    6. **re-arm**: :meth:`announce` gives the onsets, and a standing alarm again every
       ``rearm`` samples (:func:`announcements`); :meth:`predict` gives the alarm state.

    Every step is causal, so :meth:`stream` decides each sample when it arrives and
    makes exactly the decisions of :meth:`predict`.

    Parameters
    ----------
    threshold : threshold spec, default "percentile"
        Anything :func:`sadlib.thresholds.make_threshold` accepts (``"pot"``,
        ``("percentile", {"q": 99.5})``, a fixed number, a Threshold); fitted by :meth:`fit`
        on normal scores.
    hysteresis_off : threshold spec or None
        The switch-off level, fitted on the same normal scores (e.g.
        ``("percentile", {"q": 95})``) or a fixed number; must come out at or below
        ``threshold_``. ``None``: no hysteresis.
    k, n : int, 1 <= k <= n; ``n`` may be a duration
        k-of-n persistence; ``k = n = 1`` (default) is off.
    min_duration : int >= 1 or duration
    hold : int >= 0 or duration
    dead_time : int >= 0 or duration
    rearm : int >= 1, duration or None
    sampling_period : duration or seconds, optional
        Duration of one sample, to convert durations; defaults to the median spacing
        of the ``index`` given to :meth:`fit`.

    Attributes
    ----------
    threshold_ : float
    off_threshold_ : float, ``threshold_`` without hysteresis
    thresholder_ : the fitted :class:`~sadlib.thresholds.Threshold`
    off_thresholder_ : the fitted off-level Threshold, or None without hysteresis
    k_, n_, min_duration_, hold_, dead_time_ : int, the steps in samples
    rearm_ : int or None
    sampling_period_ : pandas.Timedelta or None
    n_scores_ : int, the normal scores the levels were fitted on (NaN dropped)

    Examples
    --------
    ::

        policy = AlarmPolicy(("percentile", {"q": 99}), k=3, n=5, hold=10).fit(normal_val_scores)
        alarms = policy.predict(test_scores)            # batch
        live = policy.stream()                          # the same decisions, one score at a time
        assert [live.update(s) for s in test_scores] == alarms.tolist()
    """

    def __init__(self, threshold: Any = "percentile", *, hysteresis_off: Any = None, k: int = 1, n: Any = 1,
                 min_duration: Any = 1, hold: Any = 0, dead_time: Any = 0, rearm: Any = None,
                 sampling_period: Any = None):
        self.threshold = threshold
        self.hysteresis_off = hysteresis_off
        self.k = k
        self.n = n
        self.min_duration = min_duration
        self.hold = hold
        self.dead_time = dead_time
        self.rearm = rearm
        self.sampling_period = sampling_period

    # -- fitting ------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Check what can be checked before the data (durations are converted in fit)."""
        for name, value, low in (("n", self.n, 1), ("min_duration", self.min_duration, 1),
                                 ("hold", self.hold, 0), ("dead_time", self.dead_time, 0)):
            if _is_duration(value):
                _as_timedelta(name, value)
            else:
                check_int(name, value, low, hint="Give it in samples, or as a duration such as '5min'.")
        high = None if _is_duration(self.n) else self.n
        check_int("k", self.k, 1, high, hint="It is how many of the last n scores must be above the threshold.")
        if self.sampling_period is not None:
            _sampling_step(self.sampling_period, None, 0)
        if self.rearm is not None:
            if _is_duration(self.rearm):
                _as_timedelta("rearm", self.rearm)
            else:
                check_int("rearm", self.rearm, 1, hint="It is the re-announce period; None: onsets only.")
        for name, spec in (("threshold", self.threshold), ("hysteresis_off", self.hysteresis_off)):
            if spec is None and name == "hysteresis_off":
                continue
            try:
                make_threshold(spec)
            except (TypeError, ValueError) as err:
                raise InvalidParameterError(f"{name} must be a threshold spec that sadlib.thresholds.make_threshold "
                                            f"accepts; {err}") from None

    def fit(self, normal_scores: Any, *, index: Any = None) -> "AlarmPolicy":
        """Fit the levels on scores of normal data and convert durations to samples.

        Parameters
        ----------
        normal_scores : array-like of shape (n,)
            Scores of training or validation data that is normal (never test data).
            Missing scores (NaN) are dropped before the thresholds are fitted.
        index : pandas.DatetimeIndex of length n, optional
            Timestamps of ``normal_scores``; their median spacing converts durations
            (unless ``sampling_period`` is set).

        Returns
        -------
        self
        """
        self._check_params()
        s = _scores(normal_scores, name="normal_scores")
        step = _sampling_step(self.sampling_period, index, s.size)
        n = _samples("n", self.n, step, 1)
        steps = {
            "n_": n,
            "k_": check_int("k", self.k, 1, n, hint=f"It must not exceed n, which is {n} samples here."),
            "min_duration_": _samples("min_duration", self.min_duration, step, 1),
            "hold_": _samples("hold", self.hold, step, 0),
            "dead_time_": _samples("dead_time", self.dead_time, step, 0),
            "rearm_": None if self.rearm is None else _samples("rearm", self.rearm, step, 1),
        }
        finite = s[~np.isnan(s)]
        if finite.size == 0:
            raise ValueError("normal_scores are all NaN (missing); fit the policy on scores of normal data, e.g. the "
                             "detector's scores of the validation part after its warm-up.")
        thresholder = make_threshold(self.threshold).fit(finite)
        on = off = float(thresholder.threshold_)
        off_thresholder = None
        if self.hysteresis_off is not None:
            off_thresholder = make_threshold(self.hysteresis_off).fit(finite)
            off = float(off_thresholder.threshold_)
            if off > on:
                raise InvalidParameterError(
                    f"hysteresis_off gives an off level {off:.4g} above the on level "
                    f"threshold_={on:.4g}; choose a lower off level (e.g. a lower percentile).")
        for name, value in steps.items():
            setattr(self, name, value)
        self.thresholder_: Threshold = thresholder
        self.off_thresholder_: Threshold | None = off_thresholder
        self.threshold_, self.off_threshold_ = on, off
        self.sampling_period_ = step
        self.n_scores_ = int(finite.size)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(normal_scores) with scores "
                                 f"of normal training or validation data first.")

    # -- batch --------------------------------------------------------------------------
    def predict(self, scores: Any) -> np.ndarray:
        """The alarm state per sample, shape ``(n,)`` bool (steps 1-5)."""
        self._check_fitted()
        s = _scores(scores)
        if self.off_thresholder_ is None:
            b = _above(s, self.threshold_)
        else:
            b = _latch(s, self.threshold_, self.off_threshold_)
        b = _k_of_n(b, self.k_, self.n_)
        b = _min_duration(b, self.min_duration_)
        b = _hold(b, self.hold_)
        return _dead_time(b, self.dead_time_)

    def announce(self, scores: Any) -> np.ndarray:
        """The samples where the operator is alerted: onsets, and every ``rearm_`` samples of a standing alarm."""
        return _announce(self.predict(scores), self.rearm_)

    # -- streaming ----------------------------------------------------------------------
    def stream(self) -> "AlarmStream":
        """A fresh :class:`AlarmStream` that applies this fitted policy one score at a time."""
        self._check_fitted()
        return AlarmStream(self)


class AlarmStream:
    """A fitted :class:`AlarmPolicy` applied one score at a time (from :meth:`AlarmPolicy.stream`).

    Each step keeps a small state (the latch, the last ``n`` levels, a run length, the
    age of the last alarm, the end of the dead period, the time since the onset), so
    memory does not grow with the stream.

    Attributes
    ----------
    alarm : bool, the state after the last update
    announced : bool, whether the last update alerted the operator (an onset or a re-arm)
    n_seen : int
    """

    def __init__(self, policy: AlarmPolicy):
        if not isinstance(policy, AlarmPolicy):
            raise InvalidParameterError(f"policy must be a fitted AlarmPolicy, got {type(policy).__name__}.")
        policy._check_fitted()
        self.policy = policy
        self.reset()

    def reset(self) -> "AlarmStream":
        """Start again as before the first score."""
        p = self.policy
        self._latched = False
        self._last_n: deque = deque(maxlen=p.n_)
        self._run = 0
        self._since_on = p.hold_ + 1  # samples since step 3 was last on (> hold: off)
        self._on = False
        self._dead_until = 0
        self._age = 0  # samples since the shown alarm's onset
        self.alarm = False
        self.announced = False
        self.n_seen = 0
        return self

    def update(self, score: Any) -> bool:
        """Take the next score (a float, NaN = missing) and return the alarm state for it."""
        try:
            s = float(score)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"score must be a number (NaN for a missing score), got {score!r}.") from None
        p = self.policy
        t = self.n_seen
        self.n_seen += 1
        above_on = s > p.threshold_  # False for NaN
        # 1. level
        if p.off_thresholder_ is None:
            level = above_on
        else:
            if above_on:
                self._latched = True
            elif not s > p.off_threshold_:
                self._latched = False
            level = self._latched
        # 2. k of n
        self._last_n.append(level)
        persistent = sum(self._last_n) >= p.k_
        # 3. minimum duration
        self._run = self._run + 1 if persistent else 0
        lasting = self._run >= p.min_duration_
        # 4. hold
        self._since_on = 0 if lasting else self._since_on + 1
        held = self._since_on <= p.hold_
        # 5. dead time
        was_on = self._on
        if self._on and not held:
            self._on = False
            self._dead_until = t + p.dead_time_
        elif not self._on and held and t >= self._dead_until:
            self._on = True
        # 6. announcements
        if self._on:
            self._age = 0 if not was_on else self._age + 1
            self.announced = self._age == 0 or (p.rearm_ is not None and self._age % p.rearm_ == 0)
        else:
            self.announced = False
        self.alarm = self._on
        return self.alarm

    def run(self, scores: Iterable[Any]) -> np.ndarray:
        """:meth:`update` every score in order; the states as a bool array."""
        return np.array([self.update(s) for s in scores], dtype=bool)

    def __repr__(self) -> str:
        return f"AlarmStream(n_seen={self.n_seen}, alarm={self.alarm}) of {self.policy!r}"


# --------------------------------------------------------------------------- #
# calibration to an alarm budget
# --------------------------------------------------------------------------- #
#: the candidates :func:`calibrate_to_budget` tries by default (a scikit-learn ParameterGrid spec)
DEFAULT_CANDIDATES: list[dict[str, list]] = [
    {
        "threshold": [("percentile", {"q": q}) for q in (90.0, 95.0, 99.0, 99.5, 99.9)],
        "k": [1], "n": [1],
        "min_duration": [1, 3, 10],
        "hold": [0, 10],
    },
    {
        "threshold": [("percentile", {"q": q}) for q in (90.0, 95.0, 99.0, 99.5, 99.9)],
        "k": [3], "n": [5],
        "min_duration": [1],
        "hold": [0, 10],
    },
]


def calibrate_to_budget(
    val_scores: Any,
    y_val: Any,
    budget_per_day: float,
    *,
    index: Any,
    normal_scores: Any = None,
    candidates: Any = None,
    rearm: Any = "1h",
    base: AlarmPolicy | None = None,
) -> tuple[AlarmPolicy, pd.DataFrame]:
    """Choose the policy with the best event recall on validation data within a false-alarm budget.

    Every candidate is an :class:`AlarmPolicy` fitted on normal scores, then applied
    to the validation scores; its event recall (:func:`sadlib.metrics.event_metrics`)
    and false alarms per day (:func:`sadlib.metrics.false_alarms_per_day`, standing
    alarms re-counted every ``rearm``) are measured against ``y_val``. The chosen one
    has the highest event recall among those with at most ``budget_per_day`` false
    alarms per day; ties go to the shorter mean detection delay (the budget buys earlier
    alarms), then to fewer false alarms, then to the earlier candidate. The function takes
    **only validation data**: there is no test argument, so the estimate it makes can be
    checked on a test part it never saw.

    Parameters
    ----------
    val_scores : array-like of shape (n,), NaN allowed
        Detector scores of the validation part.
    y_val : array-like of shape (n,)
        Its labels (1 = anomaly); it must contain events for recall to mean anything.
    budget_per_day : float >= 0
        Most false alarms per day allowed (an operator's budget of ``B`` per 8-hour
        shift is ``3 * B`` per day). For reference, EEMUA 191 and ISA-18.2 rate about
        one alarm per 10 minutes per operator (about 150 a day) as very likely acceptable,
        counting *all* alarms of a plant, so one detector's share is far smaller.
    index : pandas.DatetimeIndex of length n
        Timestamps of the validation part (keyword-only, required: the budget is per day).
    normal_scores : array-like, optional
        Scores of normal training data to fit the levels on; default: the validation
        scores where ``y_val`` is 0.
    candidates : dict of lists or list of them, optional
        A :class:`sklearn.model_selection.ParameterGrid` spec of :class:`AlarmPolicy`
        parameters; default :data:`DEFAULT_CANDIDATES`.
    rearm : duration or None, default "1h"
        Re-count period of standing alarms in the false-alarm count.
    base : AlarmPolicy, optional
        Parameters the candidates do not set are taken from it. A candidate without
        ``sampling_period`` gets the median spacing of ``index``, so durations ("5min") work.

    Returns
    -------
    policy : AlarmPolicy
        The chosen candidate, fitted.
    table : pandas.DataFrame
        One row per candidate: its parameters, ``threshold_``, ``event_recall``,
        ``false_alarms_per_day``, ``n_alarms``, ``mean_delay_samples``,
        ``within_budget`` and ``chosen``.

    Warns
    -----
    UserWarning
        when no candidate meets the budget; the one with the fewest false alarms per
        day is returned.
    """
    budget = check_number("budget_per_day", budget_per_day, 0,
                          hint="It is the most false alarms per day allowed (3 x a per-shift budget).")
    if base is not None and not isinstance(base, AlarmPolicy):
        raise InvalidParameterError(f"base must be an AlarmPolicy or None, got {type(base).__name__}.")
    grid_spec = DEFAULT_CANDIDATES if candidates is None else candidates
    try:
        grid = list(ParameterGrid(grid_spec))
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"candidates must be a dict of lists of AlarmPolicy parameters, or a list of "
                                    f"such dicts (a ParameterGrid spec); {err}") from None
    if not grid:
        raise InvalidParameterError("candidates is empty; give at least one set of AlarmPolicy parameters.")
    s = _scores(val_scores, name="val_scores")
    y = as_labels(y_val, name="y_val", n=s.size)
    idx = as_time_index(index, s.size)
    if normal_scores is None:
        normal = s[~y]
        if normal.size == 0:
            raise ValueError("y_val marks every validation sample as anomalous, so there are no normal scores to fit "
                             "the levels on; pass normal_scores (e.g. the training part's scores).")
    else:
        normal = _scores(normal_scores, name="normal_scores")
    base = AlarmPolicy() if base is None else base
    step = _sampling_step(None, idx, s.size)
    rows, policies = [], []
    for params in grid:
        policy = AlarmPolicy(**{**base.get_params(deep=False), **params})
        if policy.sampling_period is None:  # durations in the candidates use the validation index's spacing
            policy.set_params(sampling_period=step)
        try:
            policy.fit(normal)
        except InvalidParameterError as err:
            raise InvalidParameterError(f"candidate {params}: {err}") from None
        alarms = policy.predict(s)
        ev = event_metrics(y, alarms)
        delays = detection_delays(y, alarms)["delay_samples"]
        rows.append({**{k: _cell(v) for k, v in params.items()}, "threshold_": policy.threshold_,
                     "event_recall": ev["event_recall"],
                     "false_alarms_per_day": false_alarms_per_day(y, alarms, index=idx, rearm=rearm),
                     "n_alarms": ev["n_alarm_events"],
                     "mean_delay_samples": float(delays.mean()) if delays.notna().any() else float("nan")})
        policies.append(policy)
    table = pd.DataFrame(rows)
    table["within_budget"] = table["false_alarms_per_day"] <= budget
    pool = table[table["within_budget"]]
    if pool.empty:
        warnings.warn(f"no candidate stays within {budget:g} false alarms per day on the validation part (the fewest "
                      f"is {table['false_alarms_per_day'].min():.3g}); returning the one with the fewest. Raise the "
                      f"budget or add stricter candidates (higher thresholds, longer min_duration).", stacklevel=2)
        pool = table
    order = pool.assign(_delay=pool["mean_delay_samples"].fillna(np.inf), _pos=np.arange(len(pool))).sort_values(
        ["event_recall", "_delay", "false_alarms_per_day", "_pos"], ascending=[False, True, True, True], kind="stable")
    best = int(order.index[0])
    table["chosen"] = False
    table.loc[best, "chosen"] = True
    return policies[best], table


def _cell(value: Any) -> Any:
    """A parameter value as a readable table cell (threshold specs as their repr)."""
    return value if isinstance(value, (Integral, float, str, type(None))) else repr(value)


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
        still on at the end, the last timestamp plus one median sampling period)
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
    step = pd.Series(idx).diff().median() if idx is not None and n >= 2 else None
    rows = []
    for start, end in _ranges(a):
        row: dict[str, Any] = {"start": start, "end": end, "n_samples": end - start}
        if idx is not None:
            row["start_time"] = idx[start]
            row["end_time"] = idx[end - 1]
            stop = idx[end] if end < n else (idx[-1] + step if step is not None else idx[-1])
            row["duration"] = stop - idx[start]
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
            peak = np.where(np.isnan(peak), -np.inf, peak)
            order = np.argsort(-peak, kind="stable")[:n_top]
            row["top_sensor"] = names[order[0]]
            row["top_error"] = float(peak[order[0]]) if np.isfinite(peak[order[0]]) else float("nan")
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
    starts = np.array([s for s, _ in _ranges(a)], dtype=np.int64)
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


# --------------------------------------------------------------------------- #
# named policies (what ``python -m sadlib.bench --alarm-policy`` takes)
# --------------------------------------------------------------------------- #
#: Named :class:`AlarmPolicy` parameter sets for :func:`make_policy`; one place for their values.
#:
#: * ``"none"``: no policy (``None``): the detector's own ``threshold_`` and alarm rule;
#: * ``"default"``: the policy the course recommends (notebook 08, section 7): a level at the
#:   mean + 6 standard deviations of the normal scores (it moves with any shift or scale of a
#:   detector's scores, so it means the same for every detector), 3 consecutive scores above it
#:   before an alarm, and no new alarm for 72 samples after one ends (6 hours of NAB's 5-minute
#:   series, a rule against repeated alarms for one slow fault). It was chosen among 702
#:   candidates on one NAB series alone, ``realKnownCause/machine_temperature_system_failure``
#:   (``benchmarks/nab_alarm_policy.py``, results in ``benchmarks/nab_policy.csv``);
#: * ``"skab_like"``: a level above nearly all normal scores (4/3 x their 99.9th percentile)
#:   that must be exceeded for 60 consecutive samples (one minute at SKAB's 1 s sampling)
#:   before an alarm: a causal stand-in for the SKAB authors' rule for window models, which
#:   also alarms only inside a long run of windows above the limit (:func:`all_windows_alarms`).
#:
#: Counts are in samples, so a policy means other durations on data sampled otherwise
#: (60 samples of NAB's 5-minute series are 5 hours); give durations (``"5min"``) in a
#: JSON spec to fix the time instead.
POLICIES: dict[str, dict[str, Any] | None] = {
    "none": None,
    "default": {"threshold": ("meanstd", {"k": 6.0}), "min_duration": 3, "dead_time": 72},
    "skab_like": {"threshold": ("percentile", {"q": 99.9, "margin": 4 / 3}), "min_duration": 60},
}

_THRESHOLD_PARAMS = ("threshold", "hysteresis_off")
_JSON_EXAMPLE = '\'{"threshold": ["percentile", {"q": 99}], "k": 3, "n": 5, "hold": "10s"}\''


def _threshold_spec(value: Any) -> Any:
    """A JSON threshold spec ``["percentile", {"q": 99}]`` as the tuple :func:`make_threshold` takes."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):
        return (value[0], dict(value[1]))
    return value


def _policy_from_params(params: dict, where: str) -> AlarmPolicy:
    valid = list(AlarmPolicy().get_params(deep=False))
    unknown = [key for key in params if key not in valid]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InvalidParameterError(f"{where} has unknown AlarmPolicy parameter(s) {', '.join(hints)}; "
                                    f"valid: {', '.join(valid)}.")
    kwargs = {key: (_threshold_spec(v) if key in _THRESHOLD_PARAMS else v) for key, v in params.items()}
    policy = AlarmPolicy(**kwargs)
    try:
        policy._check_params()
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{where}: {err}") from None
    return policy


def make_policy(spec: Any) -> AlarmPolicy | None:
    """An unfitted :class:`AlarmPolicy` from a name, a JSON string, a dict or a policy.

    Parameters
    ----------
    spec : str, dict, AlarmPolicy or None
        * a name in :data:`POLICIES` (``"none"`` gives ``None``: no policy);
        * a JSON object of :class:`AlarmPolicy` parameters, e.g.
          ``'{"threshold": ["percentile", {"q": 99}], "k": 3, "n": 5, "hold": "10s"}'``;
          a threshold spec written as a two-element list ``[name, {params}]`` becomes the
          tuple :func:`sadlib.thresholds.make_threshold` expects (a number or a name works as is);
        * a dict of the same parameters (lists become tuples likewise);
        * an :class:`AlarmPolicy`: an unfitted clone of it;
        * ``None``: no policy.

    Returns
    -------
    AlarmPolicy or None
        Unfitted; its parameters are checked (durations need an index when it is fitted).

    Raises
    ------
    InvalidParameterError
        for an unknown name (the message lists the names and a close match), text that
        is not a JSON object, an unknown parameter or a bad value.

    Examples
    --------
    >>> make_policy("none") is None
    True
    >>> make_policy('{"threshold": ["percentile", {"q": 99}], "k": 2, "n": 3}').threshold
    ('percentile', {'q': 99})
    """
    if spec is None:
        return None
    if isinstance(spec, AlarmPolicy):
        policy = clone(spec)
        policy._check_params()
        return policy
    if isinstance(spec, dict):
        return _policy_from_params(spec, "the policy dict")
    if not isinstance(spec, str):
        raise InvalidParameterError(f"an alarm policy must be a name ({', '.join(POLICIES)}), a JSON object, a dict "
                                    f"of AlarmPolicy parameters or an AlarmPolicy, got {type(spec).__name__}.")
    text = spec.strip()
    if text in POLICIES:
        params = POLICIES[text]
        return None if params is None else _policy_from_params(params, f"POLICIES[{text!r}]")
    if not text.startswith(("{", "[")):
        close = difflib.get_close_matches(text, list(POLICIES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(f"unknown alarm policy {spec!r}.{hint} Named policies: {', '.join(POLICIES)}; "
                                    f"or give AlarmPolicy parameters as a JSON object, e.g. {_JSON_EXAMPLE}.")
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidParameterError(f"the alarm policy {spec!r} is not valid JSON ({err}). Expected a JSON object of "
                                    f"AlarmPolicy parameters with double-quoted keys, threshold specs as "
                                    f"[name, {{params}}] lists, e.g. {_JSON_EXAMPLE}.") from None
    if not isinstance(params, dict):
        raise InvalidParameterError(f"the alarm policy JSON must be an object {{parameter: value}}, got "
                                    f"{type(params).__name__}; e.g. {_JSON_EXAMPLE}.")
    return _policy_from_params(params, "the policy JSON")


def _jsonable(value: Any) -> Any:
    """A parameter value in the JSON form :func:`make_policy` reads back."""
    if isinstance(value, Threshold):
        key = next((k for k, cls in THRESHOLDS.items() if type(value) is cls), type(value).__name__)
        return [key, _jsonable(value.get_params(deep=False))]
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        td = pd.Timedelta(value)  # "30s" or "1500ms", which pd.Timedelta reads back
        return f"{td // pd.Timedelta('1s')}s" if td % pd.Timedelta("1s") == pd.Timedelta(0) else f"{td.value}ns"
    if isinstance(value, np.generic):
        return value.item()
    return value


def policy_label(spec: Any) -> str:
    """A short text naming a policy, for a table or CSV column.

    The name for a name in :data:`POLICIES` (``"none"`` for ``None``); otherwise compact
    JSON of the parameters that differ from :class:`AlarmPolicy`'s defaults, keys sorted,
    which :func:`make_policy` reads back into the same policy.

    Examples
    --------
    >>> policy_label("default"), policy_label(None)
    ('default', 'none')
    >>> policy_label({"k": 2, "n": 3, "threshold": ("percentile", {"q": 99})})
    '{"k":2,"n":3,"threshold":["percentile",{"q":99}]}'
    """
    if spec is None:
        return "none"
    if isinstance(spec, str) and spec.strip() in POLICIES:
        return spec.strip()
    policy = make_policy(spec)
    if policy is None:
        return "none"
    defaults = AlarmPolicy().get_params(deep=False)
    changed = {key: value for key, value in policy.get_params(deep=False).items()
               if not (type(value) is type(defaults[key]) and value == defaults[key])}
    return json.dumps(_jsonable(changed), separators=(",", ":"), sort_keys=True, default=repr)
