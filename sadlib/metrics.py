"""Evaluation metrics for anomaly detection on sensor time series.

The anomaly is the *positive* class everywhere: ``y_true`` and ``y_pred`` are
binary vectors of shape ``(n,)`` with 1/True = anomaly (alarm), and ``scores``
is a float vector of shape ``(n,)`` where higher means more anomalous.

Three families of metrics, because one number never tells the whole story:

* **point metrics** (:func:`point_metrics`, :func:`roc_auc`, :func:`pr_auc`):
  every sample counts once;
* **event metrics** (:func:`events`, :func:`event_metrics`,
  :func:`detection_delays`, :func:`false_alarms_per_day`, :func:`lead_times`): a contiguous run of
  anomalous samples is one *event*, a contiguous run of alarms is one *alarm
  range*; this is what an operator experiences;
* **point adjustment** (:func:`point_adjust`, :func:`point_adjusted_f1`): the
  protocol common in papers; it inflates scores, so it is always reported next
  to a random baseline.

:func:`evaluate` gathers the summary used by every notebook and benchmark, and
:func:`random_scores` / :func:`trivial_predictions` give the trivial baselines
that belong next to every model.

Conventions for undefined ratios (0/0) follow ``sklearn`` with
``zero_division=0``: a ratio whose denominator is zero is reported as 0.0
(see each function). Metrics that are *undefined* rather than zero (AUC with a
single class in :func:`evaluate`, a mean delay with no detected event) are NaN.

A NaN *score* means "no score" (the first rows of a window detector, see
:class:`sadlib.detectors.Detector`). The ranking metrics (:func:`roc_auc`, :func:`pr_auc`,
:func:`vus_pr`, the scores given to :func:`evaluate`) rank it below every real score, so
it is the last row any threshold flags; :func:`point_adjusted_f1` compares scores with a
threshold and gives NaN no alarm. The metrics on alarms (``y_pred``) take booleans: build
them with ``det.predict`` or :mod:`sadlib.alarms`, which give no alarm at NaN.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from sadlib._runs import any_true_in, run_bounds, true_runs
from sadlib._time import duration_to_samples, median_spacing
from sadlib.validation import (
    InvalidParameterError,
    as_labels,
    as_period,
    as_scores,
    as_time_index,
    check_choice,
    check_int,
    check_number,
)

__all__ = [
    "point_metrics",
    "roc_auc",
    "pr_auc",
    "events",
    "event_metrics",
    "event_f1",
    "detection_delays",
    "false_alarm_count",
    "false_alarms_per_day",
    "false_alarm_hours_per_day",
    "point_adjust",
    "point_adjusted_f1",
    "evaluate",
    "random_scores",
    "trivial_predictions",
    "random_alarms",
    "baselines",
    "lead_times",
    "shifted_alarms_baseline",
    "vus_pr",
]

_DAY = pd.Timedelta(days=1)
# largest ratio between a given sampling_period and an index's median spacing before they count as a conflict
_PERIOD_TOLERANCE = 1.1
_SEED_HINT = "It seeds NumPy's random generator, e.g. seed=0."


# --------------------------------------------------------------------------- #
# boundary helpers
# --------------------------------------------------------------------------- #
def _label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate two binary label vectors of the same length; return bool arrays."""
    t = as_labels(y_true, name="y_true")
    p = as_labels(y_pred, name="y_pred")
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"y_true has {t.shape[0]} labels but y_pred has {p.shape[0]}; "
            f"pass one alarm per labelled sample, aligned on the same time index."
        )
    return t, p


def _labels_scores(y_true: Any, scores: Any, *, nan: str = "lowest") -> tuple[np.ndarray, np.ndarray]:
    """Validate labels and scores of the same length; scores may hold NaN ("no score"), not inf.

    ``nan="lowest"`` (for the ranking metrics) puts every NaN below the lowest real score (all NaN
    rows tie there): a row without a score is the last to be flagged at any threshold.
    ``nan="keep"`` returns them as NaN, for a comparison with a threshold (NaN is above none).
    """
    s = as_scores(scores, name="scores")
    t = as_labels(y_true, name="y_true", n=s.shape[0])
    missing = np.isnan(s)
    if nan == "lowest" and missing.any():
        s = s.copy()
        s[missing] = s[~missing].min() - 1.0 if (~missing).any() else 0.0
    return t, s


def _require_both_classes(y_true: np.ndarray, what: str) -> None:
    if y_true.all() or not y_true.any():
        only = "anomalies" if y_true.all() else "normal samples"
        raise ValueError(
            f"{what} is undefined: y_true contains only {only}. Evaluate on a period that "
            f"contains both normal and anomalous samples, or use point_metrics / "
            f"false_alarms_per_day, which are defined for one class."
        )


def _ratio(num: float, den: float) -> float:
    """num / den, with 0/0 defined as 0.0."""
    return float(num) / float(den) if den > 0 else 0.0


def _f1(tp: int, fp: int, fn: int) -> float:
    return _ratio(2 * tp, 2 * tp + fp + fn)


# --------------------------------------------------------------------------- #
# point metrics
# --------------------------------------------------------------------------- #
def point_metrics(y_true: Any, y_pred: Any) -> dict[str, float | int]:
    """Sample-wise confusion counts and rates (anomaly = positive class).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Ground truth, 0/False = normal, 1/True = anomaly.
    y_pred : array-like of shape (n,)
        Alarms, 0/False = no alarm, 1/True = alarm.

    Returns
    -------
    dict
        ``tp, fp, fn, tn`` (int) and the float rates

        * ``precision = tp / (tp + fp)``; **0.0 when there are no alarms**;
        * ``recall = tp / (tp + fn)``; **0.0 when y_true has no anomaly**;
        * ``f1 = 2 tp / (2 tp + fp + fn)`` (harmonic mean of the two); 0.0 when ``tp = 0``;
        * ``far`` (false alarm rate) ``= fp / (fp + tn)``; **0.0 when y_true has
          no normal sample** (no false alarm is possible);
        * ``mar`` (missed alarm rate) ``= fn / (fn + tp)``; **0.0 when y_true has
          no anomaly** (nothing can be missed). Note that then
          ``mar != 1 - recall``.

        These 0/0 conventions equal ``sklearn``'s ``zero_division=0``.
    """
    t, p = _label_pair(y_true, y_pred)
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    tn = int(np.count_nonzero(~t & ~p))
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _f1(tp, fp, fn),
        "far": _ratio(fp, fp + tn),
        "mar": _ratio(fn, fn + tp),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def roc_auc(y_true: Any, scores: Any) -> float:
    """Area under the ROC curve of continuous anomaly scores.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly); must contain both classes.
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous; NaN (no score) ranks below every
        real score.

    Returns
    -------
    float
        ROC AUC in [0, 1]; 0.5 is chance level.

    Raises
    ------
    ValueError
        if ``y_true`` has a single class (the AUC is undefined), lengths differ,
        or ``scores`` contain inf.
    """
    t, s = _labels_scores(y_true, scores)
    _require_both_classes(t, "ROC AUC")
    return float(roc_auc_score(t, s))


def pr_auc(y_true: Any, scores: Any) -> float:
    """Area under the precision-recall curve, as average precision (``sklearn``).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly); must contain both classes.
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous; NaN (no score) ranks below every
        real score.

    Returns
    -------
    float
        Average precision in [0, 1]; chance level is the anomaly fraction
        ``mean(y_true)``, not 0.5.

    Raises
    ------
    ValueError
        if ``y_true`` has a single class, lengths differ, or ``scores`` contain inf.
    """
    t, s = _labels_scores(y_true, scores)
    _require_both_classes(t, "PR AUC (average precision)")
    return float(average_precision_score(t, s))


# --------------------------------------------------------------------------- #
# event metrics
# --------------------------------------------------------------------------- #
def events(y: Any) -> list[tuple[int, int]]:
    """Contiguous runs of True (anomalies or alarms) as ``(start, end)`` pairs.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels or alarms.

    Returns
    -------
    list of (int, int)
        One ``(start, end)`` per run, ``end`` exclusive, so ``y[start:end]`` is
        the run. Example: ``[0, 1, 1, 0, 1] -> [(1, 3), (4, 5)]``.
    """
    return true_runs(as_labels(y, name="y"))


def event_metrics(y_true: Any, y_pred: Any) -> dict[str, float | int]:
    """Event-wise recall and episode-based precision, as an operator sees them.

    A *true event* is a run of anomalous samples in ``y_true``; an *alarm
    range* is a run of alarms in ``y_pred``. An *alarm episode* is what the
    operator deals with: all alarm ranges that overlap the same true event form
    one episode (a range that overlaps two events joins them), and each alarm
    range that overlaps no event is an episode of its own.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly).
    y_pred : array-like of shape (n,)
        Binary alarms.

    Returns
    -------
    dict
        * ``event_recall``: fraction of true events with at least one alarm
          inside; 0.0 when there is no true event;
        * ``event_precision``: the mean, over alarm episodes, of the share of the
          episode's alarm samples that lie inside true events; 0.0 when there is
          no alarm. An episode half inside an event counts 0.5, so flagging
          everything scores the anomaly share, not 1;
        * ``n_events``, ``n_detected``, ``n_alarm_events`` (alarm ranges),
          ``n_alarm_episodes`` and ``n_false_alarm_events`` (alarm ranges, and so
          episodes, overlapping no true event).

    Notes
    -----
    Fragmentation cannot raise it. Splitting an alarm inside an event into many
    short ranges leaves one episode (its share can only fall, as the gaps remove
    in-event samples); chattering outside events adds false episodes and lowers
    it. One range on an event and one false range score 0.5 however the first is
    cut up.

    Recall follows the range-based recall of Tatbul et al., "Precision and Recall
    for Time Series", NeurIPS 2018, with the existence reward only (``alpha = 1``).
    Precision is their range-based precision with the overlap reward only (``alpha = 0``,
    their choice for precision), flat positional bias and cardinality factor 1,
    computed over episodes instead of alarm ranges: where every event is overlapped
    by at most one alarm range the two are equal (the tests check it against an
    independent implementation); where several ranges overlap one event, Tatbul's
    precision averages them one by one, so cutting an in-event alarm into pieces
    raises it, and this one does not move. The "segment-wise" precision of Hundman
    et al. (KDD 2018), ``n_detected / (n_detected + n_false_alarm_events)``, counts
    events instead of alarm samples. Random alarms reach a high event recall on long
    events, so report them next to a detector's shifted alarms
    (:func:`shifted_alarms_baseline`).
    """
    t, p = _label_pair(y_true, y_pred)
    ts, te = run_bounds(t)
    ps, pe = run_bounds(p)
    n_detected = int(np.count_nonzero(any_true_in(p, ts, te)))
    csum = np.concatenate(([0], np.cumsum(t, dtype=np.int64)))
    inside = csum[pe] - csum[ps]  # anomalous samples inside each alarm range
    length = pe - ps
    # the events each range overlaps: first = the first event ending after the range starts,
    # last = the last event starting before the range ends; it overlaps some when first <= last
    first = np.searchsorted(te, ps, side="right")
    last = np.searchsorted(ts, pe, side="left") - 1
    hits = first <= last
    shares = []
    k = 0
    while k < ps.size:
        if not hits[k]:
            shares.append(0.0)
            k += 1
            continue
        j, reach = k, last[k]  # ranges in time order: the next one shares an event when its first <= reach
        while j + 1 < ps.size and hits[j + 1] and first[j + 1] <= reach:
            j += 1
            reach = max(reach, last[j])
        shares.append(inside[k:j + 1].sum() / max(length[k:j + 1].sum(), 1))
        k = j + 1
    return {
        "event_recall": _ratio(n_detected, ts.size),
        "event_precision": float(np.mean(shares)) if shares else 0.0,
        "n_events": int(ts.size),
        "n_detected": n_detected,
        "n_alarm_events": int(ps.size),
        "n_alarm_episodes": len(shares),
        "n_false_alarm_events": int(np.count_nonzero(inside == 0)),
    }


def event_f1(y_true: Any, y_pred: Any) -> float:
    """Event F1: the harmonic mean of :func:`event_metrics`' event precision and event recall.

    One number for choosing a setting on labelled data (0 when either is 0). Like its two
    parts it counts a standing alarm as one alarm range, so report false alarms per day
    beside it.

    Examples
    --------
    >>> round(event_f1([0, 1, 1, 0, 0, 1], [0, 1, 0, 0, 0, 0]), 3)
    0.667
    """
    m = event_metrics(y_true, y_pred)
    return _f1_from(m["event_precision"], m["event_recall"])


def _f1_from(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def detection_delays(y_true: Any, y_pred: Any, index: Any = None) -> pd.DataFrame:
    """Detection delay of every true event.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly).
    y_pred : array-like of shape (n,)
        Binary alarms.
    index : pandas.DatetimeIndex of length n, optional
        Timestamps of the samples (or a Series/DataFrame carrying them); adds
        the ``delay`` column.

    Returns
    -------
    pandas.DataFrame
        One row per true event, in time order, with columns

        * ``start``, ``end`` (int, ``end`` exclusive);
        * ``detected`` (bool): at least one alarm inside ``[start, end)``;
        * ``delay_samples`` (float): first alarm inside the event minus
          ``start``; NaN if missed. Alarms before the event do not count;
        * ``delay`` (Timedelta, only with ``index``): time from the event's
          first timestamp to the first alarm's timestamp; NaT if missed.
    """
    t, p = _label_pair(y_true, y_pred)
    idx = as_time_index(index, t.shape[0]) if index is not None else None
    starts, ends = run_bounds(t)
    alarms = np.flatnonzero(p)
    k = np.searchsorted(alarms, starts)  # position of the first alarm at or after each start
    has_later = k < alarms.size
    first = np.full(starts.shape, -1, dtype=np.int64)
    first[has_later] = alarms[k[has_later]]
    detected = has_later & (first < ends)
    out = pd.DataFrame(
        {
            "start": starts.astype(np.int64),
            "end": ends.astype(np.int64),
            "detected": detected,
            "delay_samples": np.where(detected, first - starts, np.nan).astype(float),
        }
    )
    if idx is not None:
        delay = pd.Series(pd.NaT, index=out.index, dtype="timedelta64[ns]")
        if detected.any():
            delay[detected] = idx[first[detected]] - idx[starts[detected]]
        out["delay"] = delay
    return out


def _time_info(n: int, index: Any, sampling_period: Any, what: str) -> tuple[pd.Timedelta, float]:
    """Duration of one sample and the number of days covered by ``n`` samples.

    With an index the days are its span plus one sampling period (``sampling_period`` if
    given, else the median spacing); without one, ``n`` sampling periods.
    """
    if index is None and sampling_period is None:
        raise ValueError(
            f"{what} needs time information: pass index=df.index (a DatetimeIndex) "
            f"or sampling_period='1min' (a Timedelta, string or seconds)."
        )
    idx = as_time_index(index, n) if index is not None else None
    spacing = median_spacing(idx) if idx is not None and n >= 2 else None
    if sampling_period is not None:
        step = as_period(sampling_period)
        if spacing is not None and not (1 / _PERIOD_TOLERANCE <= spacing / step <= _PERIOD_TOLERANCE):
            raise InvalidParameterError(
                f"sampling_period={sampling_period!r} ({step}) disagrees with index, whose median spacing is "
                f"{spacing}; the two give different durations. Leave sampling_period out to use the index's "
                f"spacing, or pass the index of these rows.")
    elif spacing is not None:
        step = spacing
    else:
        raise ValueError(
            "index has a single timestamp, so its span is zero; also pass sampling_period "
            "(e.g. '1min') to say how long one sample lasts."
        )
    duration = n * step if idx is None else (idx[-1] - idx[0]) + step
    return step, duration / _DAY


def false_alarm_count(y_true: Any, y_pred: Any, rearm_samples: int | None) -> int:
    """Number of false alarms an operator is shown, counting standing alarms again.

    Every alarm *onset* outside a true event is one false alarm. An alarm that
    stays on outside events counts again after every ``rearm_samples`` samples
    (a standing alarm that is re-announced, ISA-18.2's "re-alarm"), including
    the part of an alarm that outlasts the event it started in.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        Binary ground truth and alarms.
    rearm_samples : int or None
        Re-arm period in samples (>= 1); ``None`` counts onsets only.

    Returns
    -------
    int
    """
    t, p = _label_pair(y_true, y_pred)
    if rearm_samples is not None:
        rearm_samples = check_int("rearm_samples", rearm_samples, 1,
                                  hint="It is the re-arm period in samples; pass None to count onsets only.")
    outside = p & ~t
    starts, ends = run_bounds(outside)
    if not starts.size:
        return 0
    onset = (starts == 0) | ~p[np.maximum(starts - 1, 0)]  # not the continuation of an alarm inside an event
    if rearm_samples is None:
        return int(np.count_nonzero(onset))
    length = ends - starts
    repeats = np.where(onset, -(-length // rearm_samples), length // rearm_samples)
    return int(repeats.sum())


def false_alarms_per_day(
    y_true: Any,
    y_pred: Any,
    *,
    index: Any = None,
    sampling_period: Any = None,
    rearm: Any = "1h",
) -> float:
    """False alarms per day of data, with standing alarms counted again every ``rearm``.

    Each alarm onset outside a true event is one false alarm, and an alarm that
    stays on outside events counts again every ``rearm`` period (see
    :func:`false_alarm_count`), so a detector that never switches its alarm off
    cannot score zero: flagging everything scores about 24 h / ``rearm`` times the
    normal share of the data. Read it next to :func:`false_alarm_hours_per_day`.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly).
    y_pred : array-like of shape (n,)
        Binary alarms.
    index : pandas.DatetimeIndex of length n, optional
        Timestamps; the duration is the span ``index[-1] - index[0]`` plus one
        sampling period (the median spacing, or ``sampling_period`` if given),
        so ``n`` regular samples of 1 min last ``n`` minutes.
    sampling_period : pandas.Timedelta, str or float, optional
        Duration of one sample, e.g. ``"1min"``, ``pd.Timedelta("10s")`` or
        ``60`` (a number means seconds). Without ``index`` the duration is
        ``n * sampling_period``.
    rearm : duration or None, default "1h"
        Re-arm period of a standing alarm (ISA-18.2 calls an alarm that stays
        active a standing alarm); ``None`` counts onsets only.

    Returns
    -------
    float
        False alarms per 24 h.

    Raises
    ------
    ValueError
        if neither ``index`` nor ``sampling_period`` is given.
    InvalidParameterError
        if ``sampling_period`` disagrees with the median spacing of ``index`` by more than 10 %
        (the duration would be wrong), or for a bad ``rearm``.
    """
    t, p = _label_pair(y_true, y_pred)
    step, days = _time_info(t.shape[0], index, sampling_period, "false_alarms_per_day")
    rearm_samples = None if rearm is None else duration_to_samples(as_period(rearm, name="rearm"), step,
                                                                   rounding="nearest", low=1, name="rearm")
    return float(false_alarm_count(t, p, rearm_samples)) / days


def false_alarm_hours_per_day(
    y_true: Any, y_pred: Any, *, index: Any = None, sampling_period: Any = None
) -> float:
    """Hours per day during which an alarm is on outside every true event.

    Parameters are as in :func:`false_alarms_per_day`. Flagging everything
    scores 24 times the normal share of the data; a perfect detector scores 0.
    """
    t, p = _label_pair(y_true, y_pred)
    step, days = _time_info(t.shape[0], index, sampling_period, "false_alarm_hours_per_day")
    return float(np.count_nonzero(p & ~t)) * (step / pd.Timedelta(hours=1)) / days


# --------------------------------------------------------------------------- #
# point adjustment
# --------------------------------------------------------------------------- #
def point_adjust(y_true: Any, y_pred: Any) -> np.ndarray:
    """Point-adjusted alarms: a detected event counts as detected in full.

    If any sample of a true event is flagged, every sample of that event is
    set to True; alarms outside events are kept as they are.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly).
    y_pred : array-like of shape (n,)
        Binary alarms.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        The adjusted alarms (a new array).

    Notes
    -----
    Point adjustment strongly inflates scores on long events; see
    :func:`point_adjusted_f1`, which always reports a random baseline next to it.
    """
    t, p = _label_pair(y_true, y_pred)
    out = p.copy()
    starts, ends = run_bounds(t)
    hit = any_true_in(p, starts, ends)
    for s, e in zip(starts[hit], ends[hit]):
        out[s:e] = True
    return out


def point_adjusted_f1(
    y_true: Any,
    scores: Any,
    threshold: float,
    *,
    seed: int = 0,
) -> dict[str, float]:
    """Point-adjusted F1 together with its random baseline and the plain F1.

    Alarms are ``scores > threshold`` (the same strict rule as
    ``Detector.predict`` and :mod:`sadlib.thresholds`). **Never report ``f1_pa`` alone**: with
    point adjustment, uniformly random scores already reach a high F1 when
    events are long (Kim et al., "Towards a Rigorous Evaluation of Time-series
    Anomaly Detection", AAAI 2022). ``f1_pa`` means something only when it is
    clearly above ``f1_pa_random``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly).
    scores : array-like of shape (n,)
        Anomaly scores, higher = more anomalous; NaN (no score) is no alarm.
    threshold : float
        Samples with ``score > threshold`` are alarms.
    seed : int, default 0
        Seed of the random baseline.

    Returns
    -------
    dict
        * ``f1_pa``: point-adjusted F1 of the thresholded scores;
        * ``f1_pa_random``: point-adjusted F1 of uniform random scores
          thresholded to flag the same number of samples (one draw, ``seed``);
        * ``f1_point``: plain point-wise F1 of the thresholded scores;
        * ``flagged_fraction``: fraction of samples flagged.
    """
    t, s = _labels_scores(y_true, scores, nan="keep")  # NaN (no score) > threshold is False: no alarm
    threshold = check_number("threshold", threshold, hint="E.g. np.quantile(train_scores, 0.99).")
    seed = check_int("seed", seed, 0, hint=_SEED_HINT)
    pred = s > threshold
    k = int(np.count_nonzero(pred))
    rng = np.random.default_rng(seed)
    rand = np.zeros_like(pred)
    rand[np.argsort(rng.random(t.shape[0]))[t.shape[0] - k :]] = True  # the k highest random scores
    f1_pa = point_metrics(t, point_adjust(t, pred))["f1"]
    f1_pa_random = point_metrics(t, point_adjust(t, rand))["f1"]
    return {
        "f1_pa": f1_pa,
        "f1_pa_random": f1_pa_random,
        "f1_point": point_metrics(t, pred)["f1"],
        "flagged_fraction": k / t.shape[0],
    }


# --------------------------------------------------------------------------- #
# summary and baselines
# --------------------------------------------------------------------------- #
def evaluate(
    y_true: Any,
    scores: Any = None,
    y_pred: Any = None,
    *,
    index: Any = None,
    sampling_period: Any = None,
) -> dict[str, float]:
    """The summary used by every notebook and benchmark.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly).
    scores : array-like of shape (n,), optional
        Anomaly scores (NaN ranks lowest); adds ``roc_auc`` and ``pr_auc``.
    y_pred : array-like of shape (n,)
        Binary alarms (required), e.g. ``scores > threshold``.
    index : pandas.DatetimeIndex of length n, optional
        Timestamps; adds ``false_alarms_per_day``.
    sampling_period : pandas.Timedelta, str or float, optional
        Duration of one sample (``"1min"``, seconds); adds ``false_alarms_per_day``.

    Returns
    -------
    dict of str to float
        Always the same keys, so that results stack into a table:
        ``precision, recall, f1, far, mar`` (:func:`point_metrics`),
        ``roc_auc, pr_auc`` (NaN without scores or when y_true has one class),
        ``event_recall, event_precision, n_events, n_false_alarm_events``
        (:func:`event_metrics`), ``mean_delay_samples`` (mean over detected
        events, NaN if none is detected; :func:`detection_delays`) and
        ``false_alarms_per_day`` and ``false_alarm_hours_per_day`` (NaN without
        time information; standing alarms re-count every hour).
    """
    if y_pred is None:
        raise ValueError(
            "evaluate needs binary alarms: pass y_pred, e.g. y_pred = scores > threshold "
            "(roc_auc / pr_auc alone need only the scores)."
        )
    t, p = _label_pair(y_true, y_pred)
    pm = point_metrics(t, p)
    out: dict[str, float] = {k: float(pm[k]) for k in ("precision", "recall", "f1", "far", "mar")}
    out["roc_auc"] = out["pr_auc"] = float("nan")
    if scores is not None:
        t, s = _labels_scores(t, scores)
        if t.any() and not t.all():
            out["roc_auc"] = roc_auc(t, s)
            out["pr_auc"] = pr_auc(t, s)
    ev = event_metrics(t, p)
    for k in ("event_recall", "event_precision", "n_events", "n_false_alarm_events"):
        out[k] = float(ev[k])
    delays = detection_delays(t, p)["delay_samples"]
    out["mean_delay_samples"] = float(delays.mean()) if delays.notna().any() else float("nan")
    if index is not None or sampling_period is not None:
        out["false_alarms_per_day"] = false_alarms_per_day(t, p, index=index, sampling_period=sampling_period)
        out["false_alarm_hours_per_day"] = false_alarm_hours_per_day(
            t, p, index=index, sampling_period=sampling_period
        )
    else:
        out["false_alarms_per_day"] = out["false_alarm_hours_per_day"] = float("nan")
    return out


_N_HINT = "n is the number of samples, e.g. n=len(y_true)."


def random_scores(n: int, seed: int = 0) -> np.ndarray:
    """Uniform random scores in [0, 1), shape ``(n,)``: the chance-level baseline.

    Their ROC AUC is about 0.5 and their PR AUC about the anomaly fraction.
    """
    n = check_int("n", n, 1, hint=_N_HINT)
    return np.random.default_rng(check_int("seed", seed, 0, hint=_SEED_HINT)).random(n)


def trivial_predictions(n: int, kind: Literal["all", "none"]) -> np.ndarray:
    """Trivial alarms of shape ``(n,)``: flag everything (``"all"``) or nothing (``"none"``).

    Flag-everything has recall 1 and precision ``p`` (the anomaly fraction), so
    ``f1 = 2p / (1 + p)``: a model's F1 below that is worse than doing nothing
    clever. Flag-nothing has ``far = 0`` and F1 = 0.
    """
    n = check_int("n", n, 1, hint=_N_HINT)
    check_choice("kind", kind, ("all", "none"))
    return np.full(n, kind == "all", dtype=bool)


def random_alarms(n: int, fraction: float, seed: int = 0) -> np.ndarray:
    """Alarms on ``round(fraction * n)`` samples drawn at random, shape ``(n,)``.

    The chance baseline for a detector that alarms on the same share of samples:
    pass ``fraction=alarms.mean()``. A detector's event recall means something
    only when it is clearly above the recall of these alarms.
    """
    n = check_int("n", n, 1, hint=_N_HINT)
    fraction = check_number("fraction", fraction, 0, 1, hint="It is the share of samples to flag, e.g. alarms.mean().")
    seed = check_int("seed", seed, 0, hint=_SEED_HINT)
    k = int(round(fraction * n))
    out = np.zeros(n, dtype=bool)
    out[np.random.default_rng(seed).permutation(n)[:k]] = True
    return out


def baselines(
    y_true: Any,
    *,
    alarm_rate: float | None = None,
    index: Any = None,
    sampling_period: Any = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The trivial rows that belong under every results table, as :func:`evaluate` rows.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth of the evaluated rows.
    alarm_rate : float in [0, 1], optional
        Share of samples the detectors in the table flag (e.g. the mean over
        them); adds ``random (same alarm rate)``. Random *scores* (AUC at chance)
        are used for its ``roc_auc`` / ``pr_auc``.
    index, sampling_period
        Time information, as in :func:`evaluate`.
    seed : int
        Seed of the random rows.

    Returns
    -------
    pandas.DataFrame
        Rows ``flag everything``, ``flag nothing`` and, with ``alarm_rate``,
        ``random (x % alarms)``; columns as :func:`evaluate`'s keys.
    """
    t = as_labels(y_true, name="y_true")
    seed = check_int("seed", seed, 0, hint=_SEED_HINT)
    n = t.shape[0]
    rows = {
        "flag everything": evaluate(t, np.ones(n), trivial_predictions(n, "all"),
                                    index=index, sampling_period=sampling_period),
        "flag nothing": evaluate(t, np.zeros(n), trivial_predictions(n, "none"),
                                 index=index, sampling_period=sampling_period),
    }
    if alarm_rate is not None:
        alarm_rate = check_number("alarm_rate", alarm_rate, 0, 1, hint="It is the share of samples the detectors flag.")
        rand = random_alarms(n, alarm_rate, seed=seed)
        rows[f"random ({alarm_rate:.1%} alarms)"] = evaluate(
            t, random_scores(n, seed=seed), rand, index=index, sampling_period=sampling_period)
    return pd.DataFrame(rows).T


# --------------------------------------------------------------------------- #
# early warning
# --------------------------------------------------------------------------- #
def _failure_table(events_or_labels: Any, idx: pd.DatetimeIndex, horizon: Any) -> pd.DataFrame:
    """Failures as a table with ``start``, ``end`` (inclusive) and ``warning_start`` timestamps."""
    import warnings

    if isinstance(events_or_labels, pd.DataFrame):
        ev = events_or_labels
        missing = [c for c in ("start", "end") if c not in ev.columns]
        if missing:
            raise ValueError(f"events has no column(s) {missing}; it needs start and end timestamps (end inclusive), "
                             f"e.g. the events table of sadlib.signals.make_compressor.")
        has_precursor = "precursor_start" in ev.columns
        if has_precursor and horizon is not None:
            raise InvalidParameterError(
                "events has a precursor_start column, which already says from when an alarm is an early warning; "
                "leave horizon out, or drop the column (events.drop(columns='precursor_start')) to use horizon.")
        out = pd.DataFrame(index=ev.index)
        for col in ("start", "end") + (("precursor_start",) if has_precursor else ()):
            if len(ev) and (pd.api.types.is_numeric_dtype(ev[col]) or pd.api.types.is_bool_dtype(ev[col])):
                raise InvalidParameterError(
                    f"events[{col!r}] holds numbers ({ev[col].dtype}), not timestamps; lead times are times. If they "
                    f"are row positions, convert them with index[events[{col!r}]]; or pass 0/1 labels per row "
                    f"instead of an events table.")
            try:
                with warnings.catch_warnings():  # "could not infer format" for mixed input: the error below says more
                    warnings.simplefilter("ignore", UserWarning)
                    out[col] = pd.to_datetime(ev[col])
            except (TypeError, ValueError) as err:
                raise ValueError(f"events[{col!r}] must hold timestamps: {err}") from err
            if out[col].isna().any():
                raise ValueError(f"events[{col!r}] has missing timestamps (NaT) in row(s) "
                                 f"{list(out.index[out[col].isna()])[:5]}; fill or drop them.")
            if (out[col].dt.tz is None) != (idx.tz is None):
                raise ValueError(f"events[{col!r}] and index disagree on time zones ({out[col].dt.tz} vs {idx.tz}); "
                                 f"convert one, e.g. with tz_localize or tz_convert.")
        bad = out.index[out["end"] < out["start"]]
        if len(bad):
            raise ValueError(f"events row(s) {list(bad)[:5]} end before they start; end is the last timestamp of "
                             f"the failure (inclusive).")
        if has_precursor:
            bad = out.index[out["precursor_start"] > out["start"]]
            if len(bad):
                raise ValueError(f"events row(s) {list(bad)[:5]} have precursor_start after start; the precursor "
                                 f"begins at or before the failure.")
            out["warning_start"] = out.pop("precursor_start")
        else:
            out["warning_start"] = out["start"] - (pd.Timedelta(0) if horizon is None else horizon)
        for col in ("type", "sensor"):
            if col in ev.columns:
                out[col] = ev[col]
        return out
    if isinstance(events_or_labels, pd.Series) and not (pd.api.types.is_numeric_dtype(events_or_labels)
                                                         or pd.api.types.is_bool_dtype(events_or_labels)):
        raise InvalidParameterError(
            f"events_or_labels is a Series of {events_or_labels.dtype}; pass an events table (a DataFrame with start "
            f"and end timestamps) or 0/1 labels per row.")
    labels = as_labels(events_or_labels, name="events_or_labels (labels per row)")
    if labels.size != len(idx):
        raise ValueError(f"events_or_labels has {labels.size} labels but alarms and index have {len(idx)} rows; "
                         f"pass one label per row of the same period, or an events table of timestamps.")
    starts, ends = run_bounds(labels)
    out = pd.DataFrame({"start": idx[starts], "end": idx[ends - 1]})
    out["warning_start"] = out["start"] - (pd.Timedelta(0) if horizon is None else horizon)
    return out


def lead_times(events_or_labels: Any, alarms: Any, index: Any, *, horizon: Any = None) -> pd.DataFrame:
    """Early warning per failure: the time between the first true alarm and the failure's start.

    An alarm is a *true* (early) alarm for a failure when it is on at a timestamp
    inside the failure's warning window ``[warning_start, end]``:

    * with an events table that has ``precursor_start`` (the compressor twin of
      :func:`sadlib.signals.make_compressor`), the window opens at the precursor;
    * otherwise it opens ``horizon`` before ``start`` (default 0: only alarms inside
      the failure count);
    * it never reaches back into an earlier failure: a failure's window starts
      after the end of every failure that starts before it.

    Alarms before the window (false alarms, or a warning too early to act on) and
    after the failure do not count. An alarm that came on before the window and is
    still on when the window opens counts from the window's first timestamp, the same
    rule as :func:`detection_delays`; read lead times next to
    :func:`false_alarms_per_day`, since alarming all the time earns the longest leads.

    Parameters
    ----------
    events_or_labels : DataFrame or array-like of 0/1 of shape (n,)
        Either an events table with columns ``start`` and ``end`` (timestamps, ``end``
        inclusive, as in :mod:`sadlib.signals`) and optionally ``precursor_start``,
        ``type`` and ``sensor`` (copied to the result); or binary labels per row, each
        contiguous run of 1s being one failure.
    alarms : array-like of bool of shape (n,)
        Alarm state per row.
    index : DatetimeIndex of length n (or a Series/DataFrame carrying it)
        Timestamps of the rows.
    horizon : duration, optional
        How long before ``start`` an alarm counts as an early warning (``"12h"``, a
        Timedelta, or seconds), when there is no ``precursor_start`` column. Passing it
        together with a ``precursor_start`` column is an error (two answers to one question).

    Returns
    -------
    pandas.DataFrame
        One row per failure (index ``failure``: the events' index, or 0, 1, ... for
        labels), in the events' order, with columns ``start``, ``end``,
        ``warning_start`` (first timestamp at which an alarm counts), ``first_alarm``
        (timestamp of the first true alarm, NaT if missed), ``lead_time``
        (``start - first_alarm``, a Timedelta: positive before the failure, zero or
        negative when the first alarm came inside it, NaT if missed), ``detected``
        (bool), and ``type`` / ``sensor`` when the events table has them.

    Raises
    ------
    ValueError
        for misaligned inputs, an events table without ``start``/``end``, failures that
        end before they start, or a failure window that lies outside ``index``.
    InvalidParameterError
        for a bad ``horizon``, or ``horizon`` with a ``precursor_start`` column.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=10, freq="1h")
    >>> labels = [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    >>> alarms = [0, 1, 0, 1, 1, 0, 1, 0, 0, 0]
    >>> row = lead_times(labels, alarms, idx, horizon="2h").iloc[0]  # the alarm at 01:00 is too early
    >>> print(row["first_alarm"], "|", row["lead_time"], "|", row["detected"])
    2024-01-01 03:00:00 | 0 days 02:00:00 | True
    """
    a = as_labels(alarms, name="alarms")
    idx = as_time_index(index, a.size)
    if horizon is not None:
        if isinstance(horizon, (int, float, np.number)) and not isinstance(horizon, np.timedelta64):
            check_number("horizon", horizon, 0, low_open=True,
                         hint="It is how long before a failure an alarm counts as an early warning: seconds, or "
                              "a duration such as '12h'.")
        horizon = as_period(horizon, name="horizon")
    table = _failure_table(events_or_labels, idx, horizon)
    order = table.sort_values("start", kind="stable").index
    prev_end = table.loc[order, "end"].cummax().shift(1)  # latest end of the failures that start earlier
    alarm_pos = np.flatnonzero(a)
    first = pd.Series(pd.NaT, index=table.index, dtype=idx.dtype)
    warning = table["warning_start"].copy()
    for label in order:
        lo = int(idx.searchsorted(table.at[label, "warning_start"], side="left"))
        if pd.notna(prev_end[label]):
            lo = max(lo, int(idx.searchsorted(prev_end[label], side="right")))
        hi = int(idx.searchsorted(table.at[label, "end"], side="right"))
        if lo >= hi:
            raise ValueError(
                f"failure {label!r} ({table.at[label, 'start']} to {table.at[label, 'end']}) has no timestamp of index "
                f"in its warning window; pass the index of the period that holds the failures, or only the failures "
                f"inside it, e.g. events[events['start'] >= index[0]].")
        if lo < len(idx) and idx[lo] > warning[label]:
            warning[label] = idx[lo]
        k = int(np.searchsorted(alarm_pos, lo))
        if k < alarm_pos.size and alarm_pos[k] < hi:
            first[label] = idx[alarm_pos[k]]
    out = table[["start", "end"]].copy()
    out["warning_start"] = warning
    out["first_alarm"] = first
    out["lead_time"] = out["start"] - out["first_alarm"]
    out["detected"] = out["first_alarm"].notna()
    for col in ("type", "sensor"):
        if col in table.columns:
            out[col] = table[col]
    out.index.name = "failure"
    return out


# --------------------------------------------------------------------------- #
# a fair random line and VUS-PR (issue 26 §2 and §3)
# --------------------------------------------------------------------------- #
def _alarm_metric(name: str, index: Any, sampling_period: Any):
    """The metric ``name`` as a function of (labels, alarms)."""
    if name in ("precision", "recall", "f1", "far", "mar"):
        return lambda t, p: float(point_metrics(t, p)[name])
    if name in ("event_recall", "event_precision"):
        return lambda t, p: float(event_metrics(t, p)[name])
    if name == "event_f1":
        return event_f1
    if index is None and sampling_period is None:
        raise InvalidParameterError(
            f"metric={name!r} needs time information: pass index=<the DatetimeIndex of y_true> or "
            f"sampling_period='1min', or choose a metric without time such as metric='event_f1'."
        )
    fn = false_alarms_per_day if name == "false_alarms_per_day" else false_alarm_hours_per_day
    return lambda t, p: float(fn(t, p, index=index, sampling_period=sampling_period))


SHIFT_METRICS = ("event_f1", "event_precision", "event_recall", "f1", "precision", "recall", "far", "mar",
                 "false_alarms_per_day", "false_alarm_hours_per_day")


def _safe_offsets(p: np.ndarray, min_shift: int) -> np.ndarray:
    """Circular offsets k (``np.roll(p, k)``) whose cut falls outside every alarm range."""
    n = p.shape[0]
    k = np.arange(1, n)
    # np.roll(p, k) starts with p[n - k] and ends with p[n - k - 1]: that seam must not split an alarm range
    keeps = ~(p[n - k] & p[n - k - 1])
    near = np.minimum(k, n - k) >= min_shift
    return k[keeps & near]


def shifted_alarms_baseline(
    y_true: Any,
    alarms: Any,
    *,
    n_shifts: int = 20,
    seed: int = 0,
    metric: Any = "event_f1",
    min_shift: int = 1,
    index: Any = None,
    sampling_period: Any = None,
) -> dict[str, Any]:
    """The fair random line of one detector: its own alarms, shifted in time by random circular offsets.

    "Random alarms at the same rate" drawn point by point (:func:`random_alarms`) have the detector's
    alarm share but not its shape: independent random points break into hundreds of one-sample
    alarm ranges, so such a line raises hundreds of false alarms per day and "fewer false alarms than
    random" is nearly automatic. Rolling the detector's own alarm sequence in time keeps the alarm
    share, the number of alarm ranges and their lengths, and only breaks the link between alarms and
    labels. A detector that finds the events beats its shifted line; one whose alarms are unrelated to
    the labels does not.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth (1 = anomaly); it is not moved.
    alarms : array-like of shape (n,)
        The detector's binary alarms.
    n_shifts : int >= 1, default 20
        Number of random offsets; the line is their mean, with the spread.
    seed : int >= 0, default 0
        Seed of NumPy's random generator that draws the offsets.
    metric : str or callable, default ``"event_f1"``
        One of ``SHIFT_METRICS`` (``"event_f1"``, ``"event_precision"``, ``"event_recall"``, ``"f1"``,
        ``"precision"``, ``"recall"``, ``"far"``, ``"mar"``, ``"false_alarms_per_day"``,
        ``"false_alarm_hours_per_day"``; the last two need ``index`` or ``sampling_period``), or a
        function ``metric(y_true, alarms) -> float``.
    min_shift : int >= 1, default 1
        Smallest circular distance of an offset in samples, ``min(k, n - k)``; raise it (e.g. to the
        longest event) so that no shift leaves the alarms on the events they were on.
    index, sampling_period
        Time information for the per-day metrics, as in :func:`false_alarms_per_day`.

    Returns
    -------
    dict
        ``metric`` (its name), ``detector`` (the metric of the unshifted alarms), ``mean`` and ``std``
        (population standard deviation) over the shifts, ``values`` (one per shift) and ``offsets``
        (the k of ``np.roll(alarms, k)``, one per shift).

    Notes
    -----
    Wrap-around: only offsets whose seam (the sample pair that ``np.roll`` joins at the series' ends)
    lies outside every alarm range are drawn, so no alarm range is split in two by the shift. The run
    lengths are then exactly the detector's, except when the alarms themselves start at the first and
    end at the last sample: the roll joins those two ranges into one (their lengths add up). When no
    offset qualifies (all or no samples alarm, or ``min_shift`` too large for the series) every
    "shift" is the unshifted sequence and the spread is 0. Offsets are drawn without replacement
    when there are at least ``n_shifts`` of them.

    Examples
    --------
    >>> y = np.zeros(500, dtype=bool); y[40:45] = y[170:180] = y[400:403] = True
    >>> line = shifted_alarms_baseline(y, y, n_shifts=10, seed=0)
    >>> line["detector"], line["mean"] < 0.5, len(line["values"])
    (1.0, True, 10)
    """
    t, p = _label_pair(y_true, alarms)
    n_shifts = check_int("n_shifts", n_shifts, 1, hint="It is the number of random offsets averaged, e.g. 20.")
    seed = check_int("seed", seed, 0, hint=_SEED_HINT)
    min_shift = check_int("min_shift", min_shift, 1,
                          hint="It is the smallest circular shift in samples, e.g. the longest event's length.")
    if callable(metric):
        name, fn = getattr(metric, "__name__", "metric"), metric
    else:
        name = check_choice("metric", metric, SHIFT_METRICS)
        fn = _alarm_metric(name, index, sampling_period)
    valid = _safe_offsets(p, min_shift)
    rng = np.random.default_rng(seed)
    if valid.size:
        offsets = rng.choice(valid, size=n_shifts, replace=valid.size < n_shifts)
    else:
        offsets = np.zeros(n_shifts, dtype=np.int64)
    values = np.array([float(fn(t, np.roll(p, int(k)))) for k in offsets])
    return {
        "metric": name,
        "detector": float(fn(t, p)),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "values": values,
        "offsets": np.asarray(offsets, dtype=np.int64),
    }


def _buffer_weights(t: np.ndarray, starts: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    """Soft labels: 1 on events, ``sqrt(1 - d / window)`` at distance d <= window // 2 outside them."""
    n = t.shape[0]
    w = t.astype(float)
    half = window // 2
    for s, e in zip(starts, ends):  # e exclusive; the last event sample is e - 1
        d = np.arange(1, half + 1)
        after = e - 1 + d
        after = after[after < n]
        w[after] += np.sqrt(1 - (after - (e - 1)) / window)
        before = s - d
        before = before[before >= 0]
        w[before] += np.sqrt(1 - (s - before) / window)
    return np.minimum(w, 1.0)


def _grown_ranges(starts: np.ndarray, ends: np.ndarray, half: int) -> list[tuple[int, int]]:
    """Events grown by ``half`` samples on each side (end inclusive), merged where they touch."""
    out: list[tuple[int, int]] = []
    for s, e in zip(starts, ends - 1):
        lo, hi = s - half, e + half
        if out and out[-1][1] >= lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _range_ap(t: np.ndarray, s: np.ndarray, window: int, cuts: np.ndarray) -> float:
    """Range-based average precision with buffer ``window`` over the thresholds ``s >= cuts``."""
    starts, ends = run_bounds(t)
    w = _buffer_weights(t, starts, ends, window)
    n = t.shape[0]
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    # number of samples with s >= cut, for each threshold
    k = np.searchsorted(-s_sorted, -cuts, side="right")
    gained = np.concatenate(([0.0], np.cumsum(w[order])))[k]           # sum of soft labels of the alarms
    in_event = np.concatenate(([0.0], np.cumsum(t[order])))[k]          # alarms on true events
    n_events_samples = float(t.sum())
    buffer_hits = gained - in_event                                     # soft labels gained in buffers
    tp = gained
    p_new = (n_events_samples + n_events_samples + buffer_hits) / 2
    recall = np.minimum(tp / p_new, 1.0)
    # existence: share of the (grown, merged) ranges with at least one alarm at that threshold
    ranges = _grown_ranges(starts, ends, window // 2)
    top = np.array([s[max(lo, 0):min(hi, n - 1) + 1].max() for lo, hi in ranges])
    existence = np.searchsorted(np.sort(-top), -cuts, side="right") / top.size
    tpr = recall * existence
    precision = tp / np.maximum(k, 1)
    return float(np.sum(np.diff(np.concatenate(([0.0], tpr))) * precision))


def vus_pr(y_true: Any, scores: Any, *, max_buffer: int = 4, n_thresholds: int | None = None) -> float:
    """VUS-PR: the volume under the range-based precision-recall surface, threshold-free.

    Paparrizos et al., "Volume Under the Surface: A New Accuracy Evaluation Measure for Time-Series
    Anomaly Detection", PVLDB 15(11), 2022 (the measure the TSB-AD benchmark recommends). PR-AUC
    counts a detector that fires one sample after an event starts as wrong on that sample, so a
    label one step off moves it a lot; VUS-PR gives partial credit to alarms near an event:

    * for a buffer ``l``, samples at distance ``d <= l // 2`` before or after an event get the soft
      label ``sqrt(1 - d / l)`` (events keep 1);
    * at each threshold, range recall is ``min(TP / ((P + P_l) / 2), 1)`` times the share of
      (buffer-grown) events with at least one alarm, where ``TP`` is the soft label summed over the
      alarms, ``P`` the number of event samples and ``P_l`` is ``P`` plus the soft labels of the
      alarmed buffer samples; range precision is ``TP`` over the number of alarms;
    * the range average precision is ``sum(delta recall * precision)`` over decreasing thresholds;
    * VUS-PR is its mean over ``l = 0, 1, ..., max_buffer``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Binary ground truth with both classes.
    scores : array-like of shape (n,)
        Anomaly scores (higher = more anomalous); NaN (no score) ranks below every real score.
    max_buffer : int >= 0, default 4
        The largest buffer ``l`` in samples (the paper's window; each side gets ``l // 2``). 0 gives the
        range-based AP without tolerance. The default is the one of ``tsadmetrics``; pick about half
        the label uncertainty you expect, in samples.
    n_thresholds : int >= 2, optional
        ``None`` (default) uses every distinct score as a threshold (exact). An integer uses the
        scores at that many evenly spaced ranks, as the reference implementation does (250 there).

    Returns
    -------
    float
        In [0, 1]; higher is better.

    Notes
    -----
    With ``max_buffer=0`` VUS-PR is not :func:`pr_auc`: recall is multiplied by the share of events
    found, so a detector that finds only one of two events gets at most half the recall. A buffer ``l``
    reaches ``l // 2`` samples to each side, so ``l = 1`` adds nothing to ``l = 0`` (as in the authors'
    code). Cross-checked against ``tsadmetrics``' ``vus_pr`` (derived from the authors' code; its
    ``window`` is ``max_buffer``) in the tests: equal to 1e-9 with ``n_thresholds=250``, its grid. The
    default here, every distinct score, is the exact volume; it differs from the 250-threshold grid by
    up to about 0.01 on series of a few hundred samples.
    """
    t, s = _labels_scores(y_true, scores)
    _require_both_classes(t, "VUS-PR")
    max_buffer = check_int("max_buffer", max_buffer, 0,
                           hint="It is the largest label tolerance in samples, e.g. max_buffer=4.")
    s_desc = np.sort(s)[::-1]
    if n_thresholds is None:
        cuts = np.unique(s)[::-1]
    else:
        n_thresholds = check_int("n_thresholds", n_thresholds, 2,
                                 hint="It is the number of thresholds, e.g. 250, or None for every distinct score.")
        cuts = s_desc[np.linspace(0, s.shape[0] - 1, n_thresholds).astype(int)]
    return float(np.mean([_range_ap(t, s, b, cuts) for b in range(max_buffer + 1)]))
