"""The alarm rules, each as a batch function and, for the look-ahead rules, a streaming twin.

See :mod:`sadlib.alarms` for the conventions they share.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable

import numpy as np

from ..validation import (
    InvalidParameterError,
    check_choice,
    check_int,
    check_number,
)
from ._core import (
    _above,
    _alarm_value,
    _alarm_vector,
    _announce,
    _check_k_n,
    _dead_time,
    _hold,
    _k_of_n,
    _latch,
    _level,
    _min_duration,
    _ranges,
    _run_length,
    _score_value,
    _scores,
)

#: conventions of :func:`all_windows_alarms`
ALL_WINDOWS_CONVENTIONS = ("exact", "skab")


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
        score = _score_value(window_score, "window_score")
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
        self._buffer.append(_alarm_value(alarm))
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
