"""When the plant changes: a score level that follows the plant, and an operator who says "new normal".

A detector calibrated on a short stretch of normal operation meets a plant that has moved on: after a
regime change every score sits above the static threshold, and the alarm stands all day. Two causal
answers, both without a look at labels:

* :class:`RecentredThreshold`: each score is compared with a robust baseline of the recent scores that
  were **not** alarms (their median and MAD, a robust z-score); an alarm is a robust z-score above a level
  fitted on calibration scores. A new normal level becomes the baseline after about ``window`` samples.
  Its cost, measured in the tests and the benchmark: a slow fault that rises no faster than the baseline
  follows is absorbed as a new normal and never alarms. ``adapt=False`` freezes the baseline (a static
  threshold) until an operator acknowledges a new normal.
* the drift-corrected tail threshold of Siffer et al. (DSPOT), :class:`sadlib.thresholds.DSPOTThreshold`,
  which follows the mean of recent non-alarm scores.

And the way plants handle it, with people: :func:`simulate_operator`. After an alarm episode starts, an
operator looks at it ``delay`` samples later, if the shift still has looks left (``looks_per_shift``).
If the episode so far overlaps no labelled event, the operator acknowledges "new normal" and the layer
re-baselines on the samples that follow. The labels are the operator's answer only, read at the look and
only for the episode seen so far; every look is workload and is reported.

Both forms of :class:`RecentredThreshold` (:meth:`~RecentredThreshold.predict` on an array and
:meth:`~RecentredThreshold.stream` one score at a time) make the same decisions; they are written
separately and the tests replay random series through both.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from ..validation import InvalidParameterError, check_bool, check_int, check_number
from ._core import _alarm_vector, _score_value, _scores

__all__ = ["RecentredThreshold", "RecentredStream", "simulate_operator"]

#: the MAD of a normal distribution is 0.6745 sigma; 1.4826 x MAD estimates sigma
_MAD_TO_SIGMA = 1.4826


class RecentredThreshold(BaseEstimator):
    """Alarm when a score stands out from the recent normal scores: a robust z-score on a moving baseline.

    For each score ``x`` the baseline is the last ``window`` scores that were not alarms (and not missing):
    its median ``m`` and MAD ``s``; the score is an alarm when ``(x - m) / (1.4826 s) > level_``. After a
    regime change the new scores are alarms at first; with ``adapt=True`` the baseline takes in the
    non-alarm scores, so a level change that leaves some scores below the level is absorbed within about
    ``window`` samples. A level change that puts every score above the level is never absorbed by the
    layer alone: that is what an operator's acknowledgement (:meth:`RecentredStream.acknowledge`,
    :func:`simulate_operator`) is for.

    Parameters
    ----------
    window : int, default 500
        How many recent normal scores form the baseline (samples).
    quantile : float, default 0.995
        The level is this quantile of the calibration scores' robust z-scores (against their own median
        and MAD), times ``margin``.
    margin : float, default 1.0
        Multiplies the calibrated level (> 1 for fewer alarms).
    adapt : bool, default True
        False freezes the baseline after calibration (a static threshold), except that an acknowledged new
        normal re-baselines it.
    relearn : int, optional
        After an acknowledgement, how many scores form the new baseline before the layer decides again
        (no alarm meanwhile). Default ``window``.

    Attributes
    ----------
    level_ : float
        The robust z-score level.
    baseline_ : ndarray
        The last ``window`` calibration scores, the starting baseline.
    scale_floor_ : float
        The smallest MAD used (a constant baseline would otherwise divide by zero): 1e-6 times the
        calibration scores' spread, or 1e-12.
    """

    def __init__(self, window: int = 500, quantile: float = 0.995, margin: float = 1.0, adapt: bool = True,
                 relearn: int | None = None):
        self.window = window
        self.quantile = quantile
        self.margin = margin
        self.adapt = adapt
        self.relearn = relearn

    def _check_params(self) -> None:
        check_int("window", self.window, 3, hint="window is the number of recent normal scores in the baseline")
        check_number("quantile", self.quantile, 0, 1, low_open=True, high_open=True)
        check_number("margin", self.margin, 0, low_open=True)
        check_bool("adapt", self.adapt)
        if self.relearn is not None:
            check_int("relearn", self.relearn, 3, hint="relearn is how many scores form the baseline after an "
                                                       "acknowledged new normal; None means window")

    def fit(self, scores: Any, y: Any = None) -> "RecentredThreshold":
        """Calibrate on normal scores (training or validation only): the level and the starting baseline."""
        self._check_params()
        s = _scores(scores)
        s = s[~np.isnan(s)]
        if len(s) < 3:
            raise InvalidParameterError(f"scores holds {len(s)} non-missing values; RecentredThreshold needs at least "
                                        f"3 normal calibration scores (validation scores of normal operation).")
        med = np.median(s)
        spread = float(np.median(np.abs(s - med))) * _MAD_TO_SIGMA
        self.scale_floor_ = max(1e-6 * (spread or float(np.std(s)) or 1.0), 1e-12)
        z = (s - med) / max(spread, self.scale_floor_)
        self.level_ = float(np.quantile(z, self.quantile)) * float(self.margin)
        self.baseline_ = s[-int(self.window):].copy()
        self.relearn_ = int(self.window if self.relearn is None else self.relearn)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "level_"):
            raise NotFittedError("This RecentredThreshold is not fitted yet: call fit(calibration_scores) with "
                                 "normal training or validation scores first.")

    def predict(self, scores: Any, acknowledge_at: Sequence[int] = ()) -> np.ndarray:
        """Alarms for a score series, as :meth:`stream` would give them one by one.

        ``acknowledge_at``: sample positions at which an operator acknowledged a new normal (before that
        sample's decision), as :func:`simulate_operator` records them.
        """
        self._check_fitted()
        s = _scores(scores)
        acks = set(int(a) for a in acknowledge_at)
        accepted = list(self.baseline_)  # the scores that may form the baseline, oldest first
        learning = 0  # scores still to collect after an acknowledgement
        out = np.zeros(len(s), dtype=bool)
        w = int(self.window)
        for t, x in enumerate(s):
            if t in acks:
                accepted, learning = [], self.relearn_
            if np.isnan(x):
                continue
            if learning:
                accepted.append(x)
                learning -= 1
                continue
            recent = np.asarray(accepted[-w:])
            centre = np.median(recent)
            scale = max(float(np.median(np.abs(recent - centre))) * _MAD_TO_SIGMA, self.scale_floor_)
            out[t] = (x - centre) / scale > self.level_
            if not out[t] and self.adapt:
                accepted.append(x)
            if len(accepted) > 4 * w:  # keep memory bounded; only the last w are read
                accepted = accepted[-w:]
        return out

    def stream(self) -> "RecentredStream":
        """A :class:`RecentredStream` that starts from the calibration baseline."""
        self._check_fitted()
        return RecentredStream(self)


class RecentredStream:
    """A fitted :class:`RecentredThreshold` applied one score at a time.

    Attributes
    ----------
    alarm : bool, the decision for the last score
    z : float, the robust z-score of the last score (NaN while re-learning or for a missing score)
    learning : int, scores still to collect after an acknowledgement
    """

    def __init__(self, layer: RecentredThreshold):
        layer._check_fitted()
        self.layer = layer
        self._baseline: deque = deque(layer.baseline_, maxlen=int(layer.window))
        self.learning = 0
        self.alarm = False
        self.z = float("nan")

    def acknowledge(self) -> None:
        """An operator says the plant has a new normal: forget the baseline and learn it from the next scores."""
        self._baseline.clear()
        self.learning = self.layer.relearn_

    def update(self, score: Any) -> bool:
        """Take the next score (NaN = missing: no alarm, not learned) and return whether it is an alarm."""
        x = _score_value(score)
        self.alarm, self.z = False, float("nan")
        if x != x:  # NaN
            return False
        if self.learning:
            self._baseline.append(x)
            self.learning -= 1
            return False
        base = np.fromiter(self._baseline, dtype=float, count=len(self._baseline))
        centre = float(np.median(base))
        scale = max(float(np.median(np.abs(base - centre))) * _MAD_TO_SIGMA, self.layer.scale_floor_)
        self.z = (x - centre) / scale
        self.alarm = bool(self.z > self.layer.level_)
        if not self.alarm and self.layer.adapt:
            self._baseline.append(x)
        return self.alarm


def simulate_operator(scores: Any, layer: Any, labels: Any, *, delay: int,
                      looks_per_shift: int, shift: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Replay a score series through ``layer`` with an operator who acknowledges false alarms as "new normal".

    When an alarm episode starts at sample ``t``, the operator looks at it at ``t + delay`` if fewer than
    ``looks_per_shift`` looks fall in that shift (shifts are ``shift`` samples long, counted from 0);
    otherwise nobody looks. At the look, the operator reads the labels of the episode so far (samples ``t``
    to ``t + delay``): if none is an anomaly, they acknowledge a new normal and the layer re-baselines on the
    samples that follow (:meth:`RecentredStream.acknowledge`); if one is, they leave it (a real event).
    Labels are read nowhere else, so until the first look the alarms are exactly ``layer.predict(scores)``.

    Parameters
    ----------
    scores : array-like of shape (n,)
        The detector's scores (NaN = missing).
    layer : RecentredThreshold or AlarmPolicy
        Fitted on normal calibration scores; an :class:`~sadlib.alarms.AlarmPolicy` needs
        ``adapt="recentre"`` or ``"rebaseline"`` (a baseline the operator can reset), and its alarm
        episodes are those of the whole policy (persistence, hold and dead time included).
    labels : array-like of shape (n,)
        1 = anomaly: the operator's answer at a look.
    delay : int
        Samples from an episode's onset to the operator's look (>= 1); an acknowledgement at a look takes effect
        from that sample on, as ``layer.predict(scores, acknowledge_at=...)`` does.
    looks_per_shift : int
        How many episodes an operator can look at in one shift (>= 0; 0 = no operator).
    shift : int
        Samples per shift.

    Returns
    -------
    alarms : ndarray of bool, shape (n,)
    looks : DataFrame
        One row per look: ``onset`` (sample of the episode's onset), ``look`` (sample of the look) and
        ``verdict`` (``"event"`` or ``"new normal"``). ``len(looks)`` is the operator's workload.
    """
    from ._policy import AlarmPolicy

    resettable = isinstance(layer, RecentredThreshold) or (
        isinstance(layer, AlarmPolicy) and hasattr(getattr(layer, "level_layer_", None), "relearn_"))
    if not resettable:
        raise InvalidParameterError(f"layer must be a fitted RecentredThreshold, or an AlarmPolicy fitted with "
                                    f"adapt='recentre' or 'rebaseline'; got {type(layer).__name__}. An operator's "
                                    f"acknowledgement re-baselines its baseline.")
    s = _scores(scores)
    y = _alarm_vector(labels, name="labels")
    if len(y) != len(s):
        raise InvalidParameterError(f"labels has {len(y)} rows and scores {len(s)}; pass one label per score.")
    delay = check_int("delay", delay, 1, hint="delay is the number of samples from an alarm's onset to the look; "
                                              "a look takes at least one sample")
    looks_per_shift = check_int("looks_per_shift", looks_per_shift, 0)
    shift = check_int("shift", shift, 1, hint="shift is the number of samples in an operator's shift")
    stream = layer.stream()
    alarms = np.zeros(len(s), dtype=bool)
    pending: deque = deque()  # (look sample, onset sample), in onset order
    used: dict[int, int] = {}
    rows = []
    previous = False
    for t in range(len(s)):
        while pending and pending[0][0] == t:
            _, onset = pending.popleft()
            event = bool(y[onset:t + 1].any())
            if not event:
                stream.acknowledge()
            rows.append({"onset": onset, "look": t, "verdict": "event" if event else "new normal"})
        alarms[t] = stream.update(s[t])
        if alarms[t] and not previous:
            look = t + delay
            k = look // shift
            if used.get(k, 0) < looks_per_shift:
                used[k] = used.get(k, 0) + 1
                pending.append((look, t))
        previous = bool(alarms[t])
    return alarms, pd.DataFrame(rows, columns=["onset", "look", "verdict"])
