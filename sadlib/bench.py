"""Benchmark harness: the course's detectors on SKAB and NAB, next to trivial and published results.

Command line::

    python -m sadlib.bench --dataset skab --detectors zscore,iforest --csv results.csv
    python -m sadlib.bench --dataset skab --detectors zscore --params '{"zscore": {"window": 120}}'
    python -m sadlib.bench --dataset nab --detectors zscore \\
        --nab-file realKnownCause/machine_temperature_system_failure
    python -m sadlib.bench --dataset skab --detectors zscore --alarm-policy default
    python -m sadlib.bench --dataset nab --detectors zscore \\
        --alarm-policy '{"threshold": ["percentile", {"q": 99}], "min_duration": "15min"}'

From Python (notebooks)::

    from sadlib import bench
    res = bench.run_skab(["zscore", "iforest"])     # one row per detector
    bench.skab_comparison(res)                       # + trivial rows, random lines, published leaderboard
    bench.run_nab(["zscore"])                        # one NAB series, event metrics
    bench.run_skab(["zscore"], policy="default")     # alarms from an AlarmPolicy instead

A detector is named by its registry name (``sadlib.detectors.available()``; per-name
keyword arguments go in ``params={"zscore": {"window": 120}}``), or given as a
zero-argument factory returning a fresh detector, or as an unfitted
:class:`~sadlib.detectors.Detector` (it is cloned for every file); a dict
``{label: spec}`` chooses the labels. Every file gets a **fresh** detector.

Protocol ``skab`` (as the SKAB authors evaluate outlier detection)
------------------------------------------------------------------
For each of the 34 labelled SKAB files (every file but ``anomaly-free``) a fresh
detector is fitted on the first 400 rows of the 8 sensor columns
(:data:`~sadlib.datasets.SKAB_SENSORS`) and scores/predicts the remaining rows;
the labels are the ``anomaly`` column. Predictions of all files are concatenated
and F1, FAR = FP / (FP + TN) and MAR = FN / (FN + TP) are computed **once** on the
pooled test rows. The SKAB README (commit b2c0d46) states that its leaderboard is
computed on the test part only, which is why flagging every test row gives
F1 = 0.698 here, the number to beat. FAR and MAR are reported in percent, as in
the SKAB leaderboard. Fitting times and scoring times are summed over files.
Each detector also gets its own **random line** (columns ``random_*``): its alarms of
every file shifted in time by random circular offsets
(:func:`sadlib.metrics.shifted_alarms_baseline`, :data:`RANDOM_SHIFTS` offsets per file,
never across a file boundary), pooled and scored like the detector; the line has the
detector's alarm share and the number and lengths of its alarm ranges, and only loses
their link to the labels. ``random_f1`` is the mean over the shifts, ``random_f1_std``
the spread (population standard deviation); :func:`random_lines` turns them into rows.
The SKAB training rows are used as they are, even where they are labelled
anomalous (``other/2`` has 296 anomalous rows among its first 400): see
:func:`skab_notes`.

Protocol ``nab`` (one NAB series)
---------------------------------
The first rows of the series are the training ("probationary") period, the rest
is scored; see :func:`nab_train_rows` for the choice of its length. Reported:
PR-AUC, event recall and precision, false alarms per day, point F1, FAR, MAR, and the
detector's random line (its alarms shifted in time: ``random_event_recall``, its spread
``random_event_recall_std``, ``random_event_precision``, ``random_false_alarms_per_day``).

Alarm policies (``policy=``, ``--alarm-policy``)
------------------------------------------------
By default the alarms are the detector's own (``score > threshold_``, or its own
``predict``). With a policy (a name in :data:`sadlib.alarms.POLICIES`, a JSON object
or dict of :class:`~sadlib.alarms.AlarmPolicy` parameters, or an AlarmPolicy; see
:func:`sadlib.alarms.make_policy`) the alarms are instead ``policy.predict(test
scores)``, where per file (or series) a fresh clone of the policy is fitted on the
detector's ``calibration_scores_``, the scores of the held-out normal tail of its
training rows (``det.score(train)`` for a detector without that attribute), with the
timestamps of those rows as ``index``, so durations such as ``"5min"`` work. The
policy sees no test row and no label. Both tables get a ``policy`` column
(:func:`sadlib.alarms.policy_label`; ``"none"`` without a policy). The scores are
the same, so PR-AUC does not change.

``keep_scores=True`` keeps, per detector and file, the calibration scores, test
scores, labels and timestamps in ``result.attrs["scores"]`` (see :func:`run_skab`),
so that alarm policies can be compared offline without fitting the detectors again.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import math
import sys
import time
from importlib.resources import files
from numbers import Integral, Real
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from . import datasets, metrics
from . import detectors as _detectors
from .alarms import POLICIES, AlarmPolicy, make_policy, policy_label
from .detectors.base import Detector
from .validation import InvalidParameterError, check_int, check_number

__all__ = [
    "BenchmarkError",
    "FileScores",
    "SKAB_TRAIN_ROWS",
    "DEFAULT_NAB_FILE",
    "SKAB_CITATION",
    "run_skab",
    "skab_trivial",
    "skab_notes",
    "leaderboard",
    "skab_comparison",
    "random_lines",
    "run_nab",
    "nab_trivial",
    "nab_train_rows",
    "nab_notes",
    "format_table",
    "main",
]

SKAB_TRAIN_ROWS = 400
DEFAULT_NAB_FILE = "realKnownCause/machine_temperature_system_failure"
SKAB_CITATION = (
    "Iurii D. Katser and Vyacheslav O. Kozitsin, \"Skoltech Anomaly Benchmark (SKAB)\", Kaggle, 2020, "
    "doi:10.34740/KAGGLE/DSV/1693952; leaderboard from the SKAB README at commit "
    "b2c0d46c2971dcbfe71e26087b6d231998bb91c2 (https://github.com/waico/SKAB)."
)
# VUS-PR's largest label buffer in samples (Paparrizos et al. 2022; up to 2 samples each side of an event)
VUS_MAX_BUFFER = 4
#: random offsets per detector (and per file) of its random line (:func:`sadlib.metrics.shifted_alarms_baseline`)
RANDOM_SHIFTS = 20

SKAB_RANDOM_COLUMNS = ["random_f1", "random_f1_std", "random_far", "random_mar"]
NAB_RANDOM_COLUMNS = ["random_event_recall", "random_event_recall_std", "random_event_precision",
                      "random_false_alarms_per_day"]
SKAB_COLUMNS = ["detector", "f1", "far", "mar", "precision", "recall", "pr_auc", "vus_pr", *SKAB_RANDOM_COLUMNS,
                "fit_seconds", "score_seconds", "n_files", "n_test_rows", "protocol", "policy"]
NAB_COLUMNS = ["detector", "pr_auc", "vus_pr", "event_recall", "event_precision", "false_alarms_per_day",
               "false_alarm_hours_per_day", *NAB_RANDOM_COLUMNS, "f1",
               "precision", "recall", "far", "mar", "n_events", "fit_seconds", "score_seconds",
               "series", "n_train", "n_test", "train_anomaly_rows", "protocol", "policy"]


class BenchmarkError(RuntimeError):
    """A detector failed on a file; the message names the detector, the file and the stage."""


# --------------------------------------------------------------------------- #
# detector specifications
# --------------------------------------------------------------------------- #
Factory = Callable[[], Any]


def _resolve(specs: Any, params: Mapping[str, Mapping[str, Any]] | None) -> list[tuple[str, Factory]]:
    """Turn names / factories / unfitted detectors into ``[(label, zero-argument factory)]``."""
    params = dict(params or {})
    if isinstance(specs, (str, Detector)) or callable(specs):
        specs = [specs]
    items = list(specs.items()) if isinstance(specs, Mapping) else [(None, s) for s in specs]
    if not items:
        raise ValueError("no detector given; name at least one, e.g. ['zscore'].")
    names = [s for _, s in items if isinstance(s, str)]
    unknown = [n for n in names if n not in _detectors.REGISTRY]
    if unknown:
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n, _detectors.available(), n=1)
            hints.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"unknown detector(s) {', '.join(hints)}. "
                         f"Available: {', '.join(_detectors.available()) or '(none registered)'}.")
    stray = sorted(set(params) - set(names))
    if stray:
        raise ValueError(f"params given for {stray}, which are not among the named detectors {names}.")
    out: list[tuple[str, Factory]] = []
    for label, spec in items:
        if isinstance(spec, str):
            kwargs = dict(params.get(spec, {}))
            factory: Factory = (lambda name=spec, kw=kwargs: _detectors.make(name, **kw))
            label = label or spec
        elif isinstance(spec, Detector):
            factory = (lambda est=spec: clone(est))  # a fresh, unfitted copy per file
            label = label or type(spec).__name__
        elif callable(spec):
            factory = spec
            label = label or getattr(spec, "__name__", repr(spec))
        else:
            raise TypeError(f"a detector must be a registry name, a factory or an unfitted Detector, "
                            f"got {type(spec).__name__}.")
        out.append((str(label), factory))
    labels = [lab for lab, _ in out]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        raise ValueError(f"detector labels must be unique, got {dupes} twice; pass a dict {{label: spec}}.")
    return out


class FileScores(dict):
    """What ``keep_scores=True`` keeps for one detector on one file: a dict of arrays.

    Keys: ``calibration`` (the detector's ``calibration_scores_``, or its scores of all
    training rows when it has none), ``calibration_index`` (their timestamps),
    ``test`` (scores of the test rows), ``y`` (their labels, bool), ``index`` (their
    timestamps) and ``alarms`` (the alarms the benchmark counted: the detector's own,
    or the policy's); for a detector that trains in epochs (the Keras ones) also
    ``n_epochs`` and ``best_epoch``, so a caller can see where early stopping ended
    without keeping the fitted detector (which would keep its model out of
    :mod:`sadlib.detectors.model_cache`). It compares by identity, so that pandas, which compares the
    ``attrs`` of frames it concatenates, does not fail on the arrays.
    """

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


class _FileRun(NamedTuple):
    scores: np.ndarray
    alarms: np.ndarray
    fit_seconds: float
    score_seconds: float
    calibration: np.ndarray | None
    calibration_index: pd.Index | None
    training: dict[str, int]  # a Keras detector's n_epochs and best_epoch (empty for the others)


def _normal_scores(det: Any, train: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Scores of normal training rows only (never test rows) and their index.

    The detector's ``calibration_scores_`` (the held-out tail of ``train``) when it has
    them, else its scores of all of ``train``.
    """
    cal = getattr(det, "calibration_scores_", None)
    if cal is not None:
        cal = np.asarray(cal, dtype=np.float64).ravel()
        if 0 < cal.size <= len(train):
            return cal, train.index[len(train) - cal.size:]
    return np.asarray(det.score(train), dtype=np.float64).ravel(), train.index


def _fit_and_score(label: str, factory: Factory, train: pd.DataFrame, test: pd.DataFrame, where: str,
                   policy: AlarmPolicy | None = None, keep: bool = False) -> _FileRun:
    """Fit a fresh detector on ``train``; score ``test``; alarms from the detector or from ``policy``.

    With ``policy``, a clone of it is fitted on the detector's normal training scores
    (:func:`_normal_scores`) and predicts on the test scores; its fitting time counts
    as fitting, its prediction as scoring. ``keep`` (or a policy) also returns the
    normal training scores and their index. Any exception is re-raised as
    :class:`BenchmarkError` naming detector, file and stage.
    """
    stage = "create"
    calibration = calibration_index = None
    try:
        det = factory()
        stage = "fit"
        t0 = time.perf_counter()
        det.fit(train)
        if policy is not None:
            stage = "fit the alarm policy"
            calibration, calibration_index = _normal_scores(det, train)
            index = calibration_index if isinstance(calibration_index, pd.DatetimeIndex) else None
            fitted = clone(policy).fit(calibration, index=index)
        t_policy = time.perf_counter()
        stage = "score"
        scores = np.asarray(det.score(test), dtype=np.float64)
        if policy is not None:
            stage = "apply the alarm policy"
            alarms = fitted.predict(scores)
        elif isinstance(det, Detector) and type(det).predict is Detector.predict:
            alarms = scores > det.threshold_  # what Detector.predict does, without scoring twice
        else:  # the detector has its own alarm rule
            stage = "predict"
            alarms = np.asarray(det.predict(test))
        t2 = time.perf_counter()
        if keep and calibration is None:
            stage = "keep the scores"
            calibration, calibration_index = _normal_scores(det, train)
        training = {key: int(getattr(det, f"{key}_")) for key in ("n_epochs", "best_epoch") if hasattr(det, f"{key}_")}
    except Exception as exc:
        raise BenchmarkError(f"detector {label!r} failed to {stage} on {where}: "
                             f"{type(exc).__name__}: {exc}") from exc
    n = len(test)
    if scores.shape != (n,) or alarms.shape != (n,):
        raise BenchmarkError(f"detector {label!r} on {where}: expected scores and alarms of shape ({n},), "
                             f"got {scores.shape} and {alarms.shape}.")
    if np.isinf(scores).any():  # NaN is "no score" (a window detector's first rows): no alarm, ranked lowest
        raise BenchmarkError(f"detector {label!r} on {where}: {int(np.isinf(scores).sum())} of {n} "
                             f"scores are infinite.")
    return _FileRun(scores, alarms.astype(bool), t_policy - t0, t2 - t_policy, calibration, calibration_index,
                    training)


def _keep(run: _FileRun, y: np.ndarray, index: pd.Index) -> FileScores:
    return FileScores(calibration=run.calibration, calibration_index=run.calibration_index, test=run.scores,
                      y=y, index=index, alarms=run.alarms, **run.training)


def _both(y: np.ndarray) -> bool:
    return bool(y.any() and not y.all())


def _file_vus_pr(y: np.ndarray, scores: np.ndarray, lengths: Sequence[int]) -> float:
    """Mean VUS-PR over the files (pooled rows cut at ``lengths``) that hold both classes; NaN if none does.

    Per file, not pooled: the label buffer must not reach across a file boundary, and each file's
    scores come from its own fit (no common scale).
    """
    cuts = np.cumsum(lengths)[:-1]
    values = [metrics.vus_pr(yy, ss, max_buffer=VUS_MAX_BUFFER)
              for yy, ss in zip(np.split(y, cuts), np.split(scores, cuts)) if _both(yy)]
    return float(np.mean(values)) if values else float("nan")


def _summary(y: np.ndarray, scores: np.ndarray, alarms: np.ndarray,
             lengths: Sequence[int] | None = None) -> dict[str, float]:
    """Point metrics of pooled rows; FAR/MAR in percent; PR-AUC NaN when y has one class.

    ``vus_pr`` is the mean over files (``lengths``: rows per file, default one file) of :func:`_file_vus_pr`.
    """
    pm = metrics.point_metrics(y, alarms)
    return {
        "f1": pm["f1"], "far": 100 * pm["far"], "mar": 100 * pm["mar"],
        "precision": pm["precision"], "recall": pm["recall"],
        "pr_auc": metrics.pr_auc(y, scores) if _both(y) else float("nan"),
        "vus_pr": _file_vus_pr(y, scores, [len(y)] if lengths is None else lengths),
    }


def _check_seed(seed: Any) -> int:
    return check_int("seed", seed, 0, hint="It seeds the random offsets of each detector's random line, e.g. seed=0.")


def _true_alarms(y: np.ndarray, alarms: np.ndarray) -> int:
    """Alarmed samples inside labelled anomalies (the metric the pooled random line is built from)."""
    return int(np.count_nonzero(y & alarms))


def _skab_random_line(ys: Sequence[np.ndarray], alarms: Sequence[np.ndarray], seed: int) -> dict[str, float]:
    """The detector's random line under protocol ``skab``: its alarms shifted within each file, pooled.

    Per file, :func:`sadlib.metrics.shifted_alarms_baseline` rolls the file's alarms by
    :data:`RANDOM_SHIFTS` random offsets and counts the alarmed anomalous rows of each shift; shift j
    of the pooled line is shift j of every file. A roll keeps the number of alarms, so the true alarms
    of a shift give its whole confusion matrix on the pooled rows. F1/FAR/MAR are computed per shift;
    returned are their means (FAR and MAR in percent) and the F1's population standard deviation.
    """
    tp = np.zeros(RANDOM_SHIFTS)
    for y, a in zip(ys, alarms):
        tp += metrics.shifted_alarms_baseline(y, a, n_shifts=RANDOM_SHIFTS, seed=seed, metric=_true_alarms)["values"]
    n_alarms = sum(int(np.count_nonzero(a)) for a in alarms)
    pos = sum(int(np.count_nonzero(y)) for y in ys)
    neg = sum(len(y) for y in ys) - pos
    fp, fn = n_alarms - tp, pos - tp
    f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    far = fp / neg if neg else np.zeros_like(tp)
    mar = fn / pos if pos else np.zeros_like(tp)
    return {"random_f1": float(f1.mean()), "random_f1_std": float(f1.std()),
            "random_far": 100 * float(far.mean()), "random_mar": 100 * float(mar.mean())}


def _nab_random_line(y: np.ndarray, alarms: np.ndarray, index: pd.DatetimeIndex, seed: int) -> dict[str, float]:
    """The detector's random line on one NAB series: event metrics of its alarms shifted in time (same offsets)."""
    def line(metric: str) -> dict[str, Any]:
        return metrics.shifted_alarms_baseline(y, alarms, n_shifts=RANDOM_SHIFTS, seed=seed, metric=metric,
                                               index=index)

    recall = line("event_recall")
    return {"random_event_recall": recall["mean"], "random_event_recall_std": recall["std"],
            "random_event_precision": line("event_precision")["mean"],
            "random_false_alarms_per_day": line("false_alarms_per_day")["mean"]}


def random_lines(results: pd.DataFrame) -> pd.DataFrame:
    """Each detector's random line as a row of its own (``"random line of <detector>"``).

    ``results`` is the output of :func:`run_skab` or :func:`run_nab` (or a CSV of it); its
    ``random_*`` columns become the row's columns without the prefix (``random_f1`` -> ``f1``,
    ``random_f1_std`` -> ``f1_std``), and the protocol columns (files, rows, series, policy) are
    copied. Columns the random line does not have (PR-AUC, VUS-PR: it has alarms, not scores;
    timings) are NaN. Rows without a random line (an old CSV without ``random_*`` columns, or NaN
    there) are left out.
    """
    cols = [c for c in results.columns if c.startswith("random_")]
    if not cols or not len(results):
        return pd.DataFrame(columns=["detector"])
    keep = results[cols].notna().any(axis=1)
    part = results.loc[keep]
    out = part[cols].rename(columns=lambda c: c[len("random_"):]).reset_index(drop=True)
    out.insert(0, "detector", ["random line of " + str(d) for d in part["detector"]])
    for col in ("n_files", "n_test_rows", "protocol", "policy", "series", "n_train", "n_test", "n_events",
                "train_anomaly_rows"):
        if col in part.columns:
            out[col] = part[col].to_numpy()
    return out


# --------------------------------------------------------------------------- #
# SKAB
# --------------------------------------------------------------------------- #
def _skab_data(data: Mapping[str, pd.DataFrame] | None, keys: Iterable[str] | None) -> dict[str, pd.DataFrame]:
    if keys is not None:
        keys = [keys] if isinstance(keys, str) else list(keys)
    if data is None:
        if keys is None:
            keys = [k for k in datasets.list_skab() if k != "anomaly-free"]
        data = datasets.load_skab(keys)
    elif keys is not None:
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"keys {missing} are not in data (it has {list(data)[:5]}...).")
        data = {k: data[k] for k in keys}
    data = {k: df for k, df in data.items() if k != "anomaly-free"}
    if not data:
        raise ValueError("no labelled SKAB file selected ('anomaly-free' has no labels).")
    for key, df in data.items():
        if "anomaly" not in df.columns:
            raise ValueError(f"SKAB {key!r} has no 'anomaly' column; pass frames from sadlib.datasets.load_skab.")
        if len(df) <= SKAB_TRAIN_ROWS:
            raise ValueError(f"SKAB {key!r} has {len(df)} rows; the protocol needs more than {SKAB_TRAIN_ROWS}.")
    return dict(data)


def _skab_split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    X = df[list(datasets.SKAB_SENSORS)]
    return X.iloc[:SKAB_TRAIN_ROWS], X.iloc[SKAB_TRAIN_ROWS:], df["anomaly"].to_numpy()[SKAB_TRAIN_ROWS:].astype(bool)


def run_skab(
    detectors: Any,
    data: Mapping[str, pd.DataFrame] | None = None,
    *,
    keys: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: bool = True,
    policy: Any = None,
    keep_scores: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Evaluate detectors under the SKAB outlier-detection protocol (see the module docstring).

    Parameters
    ----------
    detectors : str, factory, unfitted Detector, or a list / ``{label: spec}`` dict of them
        Registry names (``"zscore"``), zero-argument factories, or unfitted detectors.
    data : dict of DataFrame, optional
        ``load_skab()``'s output, to avoid loading it again; ``"anomaly-free"`` is ignored.
    keys : list of str, optional
        Evaluate these files only (e.g. ``["valve1/0", "other/2"]``); default all 34.
    params : dict, optional
        Keyword arguments per registry name, e.g. ``{"zscore": {"window": 120}}``.
    progress : bool
        Show a tqdm progress bar over files x detectors.
    policy : str, dict, AlarmPolicy or None
        Alarm policy instead of the detectors' own alarms (:func:`sadlib.alarms.make_policy`:
        a name in :data:`sadlib.alarms.POLICIES`, a JSON object, a dict or an AlarmPolicy;
        ``None`` or ``"none"``: the detectors' own). Per file a fresh clone is fitted on
        the detector's ``calibration_scores_`` (normal training rows only, with their
        timestamps) and predicts on the test scores; see the module docstring.
    keep_scores : bool
        Keep the scores for offline work in ``result.attrs["scores"]``:
        ``{detector label: {file key: FileScores}}``, a :class:`FileScores` holding the
        ``calibration`` scores (and ``calibration_index``), ``test`` scores, labels ``y``,
        test ``index`` and the ``alarms`` counted.
    seed : int >= 0
        Seed of the random offsets of each detector's random line (default 0).

    Returns
    -------
    pandas.DataFrame
        One row per detector, columns ``detector, f1, far, mar, precision, recall,
        pr_auc, vus_pr, random_f1, random_f1_std, random_far, random_mar, fit_seconds,
        score_seconds, n_files, n_test_rows, protocol, policy``;
        ``far``, ``mar``, ``random_far`` and ``random_mar`` in **percent**, the other rates in
        [0, 1]; ``policy`` is :func:`sadlib.alarms.policy_label` of ``policy`` (``"none"``
        without one). ``random_*`` is the detector's random line: the alarms it counted
        (its own or the policy's), shifted within each file by :data:`RANDOM_SHIFTS` random
        offsets (:func:`sadlib.metrics.shifted_alarms_baseline`), pooled; the mean over
        the shifts and, for F1, the spread.

    Notes
    -----
    ``pr_auc`` is computed on the pooled scores of all files. Each file has its own,
    separately fitted detector, so scores of different files are not on a common
    scale; the pooled PR-AUC is indicative only (F1/FAR/MAR use each detector's own
    threshold and are the protocol's metrics). ``vus_pr`` (:func:`sadlib.metrics.vus_pr`,
    ``max_buffer=VUS_MAX_BUFFER``) is the mean over the files of each file's own VUS-PR, so it
    needs no common scale and no label buffer reaches across a file boundary.

    Raises
    ------
    ValueError
        for an unknown detector name (the message lists the available ones) or a bad
        policy (:class:`~sadlib.validation.InvalidParameterError`).
    BenchmarkError
        when a detector fails on a file; the message names the detector and the file.
    """
    specs = _resolve(detectors, params)
    alarm_policy, label_of_policy = make_policy(policy), policy_label(policy)
    seed = _check_seed(seed)
    data = _skab_data(data, keys)
    rows, kept = [], {}
    with tqdm(total=len(specs) * len(data), desc="SKAB", unit="fit", disable=not progress) as bar:
        for label, factory in specs:
            ys, ss, ps, fit_s, score_s = [], [], [], 0.0, 0.0
            for key, df in data.items():
                bar.set_postfix_str(f"{label} on {key}", refresh=False)
                train, test, y = _skab_split(df)
                run = _fit_and_score(label, factory, train, test, where=f"SKAB file {key!r}",
                                     policy=alarm_policy, keep=keep_scores)
                ys.append(y)
                ss.append(run.scores)
                ps.append(run.alarms)
                fit_s, score_s = fit_s + run.fit_seconds, score_s + run.score_seconds
                if keep_scores:
                    kept.setdefault(label, {})[key] = _keep(run, y, test.index)
                bar.update()
            y = np.concatenate(ys)
            rows.append({"detector": label, **_summary(y, np.concatenate(ss), np.concatenate(ps),
                                                       [len(part) for part in ys]),
                         **_skab_random_line(ys, ps, seed),
                         "fit_seconds": fit_s, "score_seconds": score_s, "n_files": len(data),
                         "n_test_rows": len(y), "protocol": "skab", "policy": label_of_policy})
    out = pd.DataFrame(rows, columns=SKAB_COLUMNS)
    if keep_scores:
        out.attrs["scores"] = kept
    return out


def _trivial_cases(n: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(label, scores, alarms)`` of flag everything and flag nothing.

    There is no shared random row: random alarms belong to one detector (its random line,
    the ``random_*`` columns of :func:`run_skab` and :func:`run_nab`).
    """
    return [
        ("flag everything", np.ones(n), metrics.trivial_predictions(n, "all")),
        ("flag nothing", np.zeros(n), metrics.trivial_predictions(n, "none")),
    ]


def skab_trivial(data: Mapping[str, pd.DataFrame] | None = None, *, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Trivial baselines under the SKAB protocol, same columns as :func:`run_skab`.

    * ``flag everything``: recall 1, F1 = 2p / (1 + p) with p the anomaly fraction of
      the pooled test rows (0.698 on all 34 files), FAR 100 %;
    * ``flag nothing``: F1 0, FAR 0 %, MAR 100 % (SKAB's "Null detector").

    The constant scores give PR-AUC = p (chance level); the ``random_*`` columns are NaN.
    Random alarms are not a trivial row: each detector has its own random line (its alarms
    shifted in time, the ``random_*`` columns of :func:`run_skab`; :func:`random_lines`), because
    a random row at one shared alarm share has neither a detector's rate nor its alarm ranges.
    """
    data = _skab_data(data, keys)
    parts = [_skab_split(df)[2] for df in data.values()]
    y, lengths = np.concatenate(parts), [len(part) for part in parts]
    df = pd.DataFrame([{"detector": label, **_summary(y, sc, al, lengths), "fit_seconds": 0.0, "score_seconds": 0.0}
                       for label, sc, al in _trivial_cases(len(y))])
    for col in SKAB_RANDOM_COLUMNS:
        df[col] = np.nan
    df["n_files"], df["n_test_rows"], df["protocol"], df["policy"] = len(data), len(y), "skab", "none"
    return df[SKAB_COLUMNS]


def skab_notes(data: Mapping[str, pd.DataFrame] | None = None, *, keys: Iterable[str] | None = None) -> list[str]:
    """Caveats of the SKAB protocol for these files (e.g. labelled anomalies in the 400 training rows)."""
    data = _skab_data(data, keys)
    notes = []
    for key, df in data.items():
        k = int(df["anomaly"].iloc[:SKAB_TRAIN_ROWS].sum())
        if k:
            notes.append(f"SKAB {key}: {k} of its first {SKAB_TRAIN_ROWS} (training) rows are labelled "
                         f"anomalous; the SKAB protocol fits on them anyway.")
    return notes


def leaderboard() -> pd.DataFrame:
    """The published SKAB outlier-detection leaderboard (10 algorithms).

    Columns ``detector, f1, far, mar, source``; FAR and MAR in percent; ``source`` is
    ``"SKAB leaderboard"``. The citation is in ``df.attrs["citation"]`` and
    :data:`SKAB_CITATION`; the numbers are stored in ``sadlib/skab_leaderboard.csv``.
    """
    text = files("sadlib").joinpath("skab_leaderboard.csv").read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text), comment="#")
    df["source"] = "SKAB leaderboard"
    df.attrs["citation"] = SKAB_CITATION
    return df


def skab_comparison(
    results: pd.DataFrame | None = None,
    data: Mapping[str, pd.DataFrame] | None = None,
    *,
    keys: Iterable[str] | None = None,
    include_published: bool = True,
) -> pd.DataFrame:
    """Our rows, trivial rows, each detector's random line and published rows in one table, sorted by F1.

    Parameters
    ----------
    results : DataFrame, optional
        Output of :func:`run_skab` (source ``"this course"``).
    data, keys : as in :func:`run_skab`; the trivial rows are computed on these files,
        so pass the same ones as for ``results``. The published rows are always on
        all 34 files.
    include_published : bool
        Add :func:`leaderboard` (source ``"SKAB leaderboard"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``detector, source, f1, f1_std, far, mar, pr_auc, vus_pr, fit_seconds,
        score_seconds`` (FAR/MAR in percent; NaN where a source does not report a column).
        Source ``"trivial"``: flag everything, flag nothing and, per detector of ``results``,
        ``random line of <detector>`` (:func:`random_lines`: its alarms shifted in time, the
        mean over the shifts, ``f1_std`` their spread; no PR-AUC, as it has no scores).
        ``results`` without ``random_*`` columns (an old CSV) gives no random lines.
    """
    parts = []
    if results is not None:
        parts.append(results.assign(source="this course"))
    parts.append(skab_trivial(data, keys=keys).assign(source="trivial"))
    if results is not None:
        parts.append(random_lines(results).assign(source="trivial"))
    if include_published:
        parts.append(leaderboard())
    cols = ["detector", "source", "f1", "f1_std", "far", "mar", "pr_auc", "vus_pr", "fit_seconds", "score_seconds"]
    table = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
    return table.sort_values("f1", ascending=False, kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- #
# NAB
# --------------------------------------------------------------------------- #
def nab_train_rows(n: int, probation: str | float | int = "nab") -> int:
    """Number of leading rows used for fitting under protocol ``nab``.

    ``probation="nab"`` (default) is NAB's own probationary period,
    ``min(floor(0.15 n), 750)`` (NAB's ``getProbationPeriod`` with
    ``probationaryPercent=0.15``, capped at 15 % of 5000 rows). A float in (0, 1)
    is a fraction, ``floor(fraction * n)`` (``0.15`` gives the uncapped 15 %); an
    int is a number of rows.

    The default follows NAB because, on ``machine_temperature_system_failure``
    (22683 rows), the uncapped 15 % (3402 rows) would contain the whole first
    labelled window (567 anomalous rows), which is then neither detected nor scored;
    with NAB's 750 rows no window touches the training period.
    """
    n = check_int("n", n, 1, hint="It is the number of rows of the series.")
    if isinstance(probation, (bool, np.bool_)) or not isinstance(probation, (str, Real)) or (
            isinstance(probation, str) and probation != "nab"):
        raise InvalidParameterError(
            f"probation must be 'nab', a fraction in (0, 1) or a number of rows, got {probation!r}.")
    if isinstance(probation, str):
        rows = min(math.floor(0.15 * n), 750)
    elif isinstance(probation, Integral):
        rows = check_int("probation", probation, 1, hint="An int is the number of training rows.")
    else:
        rows = math.floor(n * check_number("probation", probation, 0, 1, low_open=True, high_open=True,
                                           hint="A float is the fraction of rows used for training."))
    if not 0 < rows < n:
        raise ValueError(f"the training period has {rows} of {n} rows; it must leave rows to score.")
    return rows


def _nab_data(data: pd.DataFrame | None, name: str) -> pd.DataFrame:
    df = datasets.load_nab(name) if data is None else data
    if not {"value", "anomaly"} <= set(df.columns):
        raise ValueError("NAB data needs the columns 'value' and 'anomaly'; pass sadlib.datasets.load_nab(name).")
    return df


def nab_notes(data: pd.DataFrame | None = None, *, name: str = DEFAULT_NAB_FILE,
              probation: str | float | int = "nab") -> list[str]:
    """Caveats for the NAB split: labelled rows inside the training period, if any."""
    df = _nab_data(data, name)
    n_train = nab_train_rows(len(df), probation)
    k = int(df["anomaly"].iloc[:n_train].sum())
    if not k:
        return []
    end = df.index[n_train - 1]
    windows = [f"{s} .. {e}" for s, e in df.attrs.get("windows", []) if s <= end]
    where = f" (window(s) {'; '.join(windows)})" if windows else ""
    return [f"NAB {name}: {k} labelled anomalous rows{where} fall in the {n_train}-row training period; "
            f"the detectors are fitted on them and they are not scored (NAB likewise ignores "
            f"detections in its probationary period)."]


def _nab_split(df: pd.DataFrame, probation: str | float | int):
    n_train = nab_train_rows(len(df), probation)
    X = df[["value"]]
    return n_train, X.iloc[:n_train], X.iloc[n_train:], df["anomaly"].to_numpy()[n_train:].astype(bool)


def _nab_row(label: str, y: np.ndarray, scores: np.ndarray, alarms: np.ndarray, index: pd.DatetimeIndex) -> dict:
    ev = metrics.evaluate(y, scores, alarms, index=index)
    row = {k: ev[k] for k in ("pr_auc", "event_recall", "event_precision", "false_alarms_per_day",
                              "false_alarm_hours_per_day", "f1", "precision", "recall", "n_events")}
    row.update(detector=label, far=100 * ev["far"], mar=100 * ev["mar"],
               vus_pr=metrics.vus_pr(y, scores, max_buffer=VUS_MAX_BUFFER) if _both(y) else float("nan"))
    return row


def run_nab(
    detectors: Any,
    data: pd.DataFrame | None = None,
    *,
    name: str = DEFAULT_NAB_FILE,
    probation: str | float | int = "nab",
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: bool = True,
    policy: Any = None,
    keep_scores: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Evaluate detectors on one NAB series (protocol ``nab``).

    A fresh detector is fitted on the first :func:`nab_train_rows` rows (NAB's
    probationary period by default: ``min(floor(0.15 n), 750)``) of the ``value``
    column and scores the rest. Labels are NAB's anomaly windows (``load_nab``).

    Parameters
    ----------
    detectors, params, progress, policy : as in :func:`run_skab`; the policy is fitted on
        the normal tail of the training period, with its timestamps (so ``"15min"`` is
        three samples of a 5-minute series).
    keep_scores, seed : as in :func:`run_skab`; the file key is ``name``.
    data : DataFrame, optional
        ``load_nab(name)``'s output; loaded when omitted.
    name : str
        NAB series, default ``realKnownCause/machine_temperature_system_failure``.
    probation : "nab", float or int
        Length of the training period, see :func:`nab_train_rows`.

    Returns
    -------
    pandas.DataFrame
        One row per detector with ``pr_auc, vus_pr`` (:func:`sadlib.metrics.vus_pr`,
        ``max_buffer=VUS_MAX_BUFFER``), ``event_recall, event_precision,
        false_alarms_per_day`` (from the DatetimeIndex of the scored rows), the random
        line ``random_event_recall`` (mean over :data:`RANDOM_SHIFTS` shifts of the detector's
        alarms, :func:`sadlib.metrics.shifted_alarms_baseline`), ``random_event_recall_std``
        (their spread), ``random_event_precision`` and ``random_false_alarms_per_day``, point
        ``f1, precision, recall``, ``far, mar`` in percent, ``n_events``, timings,
        ``series, n_train, n_test, train_anomaly_rows, protocol, policy``.
        ``df.attrs["notes"]`` holds :func:`nab_notes` (and ``df.attrs["scores"]`` the
        kept scores).
    """
    specs = _resolve(detectors, params)
    alarm_policy, label_of_policy = make_policy(policy), policy_label(policy)
    seed = _check_seed(seed)
    df = _nab_data(data, name)
    n_train, train, test, y = _nab_split(df, probation)
    rows, kept = [], {}
    for label, factory in tqdm(specs, desc="NAB", unit="fit", disable=not progress):
        run = _fit_and_score(label, factory, train, test, where=f"NAB series {name!r}", policy=alarm_policy,
                             keep=keep_scores)
        rows.append({**_nab_row(label, y, run.scores, run.alarms, test.index),
                     **_nab_random_line(y, run.alarms, test.index, seed), "fit_seconds": run.fit_seconds,
                     "score_seconds": run.score_seconds})
        if keep_scores:
            kept[label] = {name: _keep(run, y, test.index)}
    out = pd.DataFrame(rows)
    out["series"], out["n_train"], out["n_test"] = name, n_train, len(test)
    out["train_anomaly_rows"], out["protocol"] = int(df["anomaly"].iloc[:n_train].sum()), "nab"
    out["policy"] = label_of_policy
    out = out[NAB_COLUMNS]
    out.attrs["notes"] = nab_notes(df, name=name, probation=probation)
    if keep_scores:
        out.attrs["scores"] = kept
    return out


def nab_trivial(data: pd.DataFrame | None = None, *, name: str = DEFAULT_NAB_FILE,
                probation: str | float | int = "nab") -> pd.DataFrame:
    """Flag everything / flag nothing under protocol ``nab``, same columns as :func:`run_nab`.

    Flag-everything finds every event, but its range-based event precision is the
    anomaly share and its standing alarm is counted again every hour outside events
    (:func:`sadlib.metrics.false_alarms_per_day`), so it cannot look good on them.
    The ``random_*`` columns are NaN: random alarms belong to one detector (its random
    line in :func:`run_nab`'s ``random_*`` columns; :func:`random_lines`).
    """
    df = _nab_data(data, name)
    n_train, _, test, y = _nab_split(df, probation)
    rows = [{**_nab_row(label, y, sc, al, test.index), **dict.fromkeys(NAB_RANDOM_COLUMNS, np.nan),
             "fit_seconds": 0.0, "score_seconds": 0.0}
            for label, sc, al in _trivial_cases(len(y))]
    out = pd.DataFrame(rows)
    out["series"], out["n_train"], out["n_test"] = name, n_train, len(test)
    out["train_anomaly_rows"], out["protocol"] = int(df["anomaly"].iloc[:n_train].sum()), "nab"
    out["policy"] = "none"
    return out[NAB_COLUMNS]


# --------------------------------------------------------------------------- #
# command line
# --------------------------------------------------------------------------- #
_FORMATS = {"f1": "{:.3f}", "f1_std": "{:.3f}", "event_recall_std": "{:.2f}",
            "precision": "{:.3f}", "recall": "{:.3f}", "pr_auc": "{:.3f}", "vus_pr": "{:.3f}",
            "far": "{:.2f}", "mar": "{:.2f}", "event_recall": "{:.2f}", "event_precision": "{:.2f}",
            "false_alarms_per_day": "{:.2f}", "false_alarm_hours_per_day": "{:.2f}",
            "fit_seconds": "{:.2f}", "score_seconds": "{:.2f}", "n_events": "{:.0f}"}
_HEADERS = {"f1_std": "F1 sd", "event_recall_std": "ev_rec sd",
            "far": "FAR %", "mar": "MAR %", "fit_seconds": "fit s", "score_seconds": "score s",
            "false_alarms_per_day": "FA/day", "false_alarm_hours_per_day": "FA h/day",
            "event_recall": "ev_recall", "event_precision": "ev_prec"}


def format_table(df: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """A plain-text table of benchmark rows (NaN shown as ``-``)."""
    cols = [c for c in (columns or df.columns) if c in df.columns]
    shown = pd.DataFrame({
        _HEADERS.get(c, c): [("-" if pd.isna(v) else _FORMATS[c].format(v)) if c in _FORMATS else v
                             for v in df[c]]
        for c in cols
    })
    return shown.to_string(index=False)


def _parse_params(text: str | None) -> dict[str, dict[str, Any]]:
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--params is not valid JSON ({exc}); e.g. '{{\"zscore\": {{\"window\": 120}}}}'.") from None
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ValueError("--params must be a JSON object {detector name: {parameter: value}}, "
                         "e.g. '{\"zscore\": {\"window\": 120}}'.")
    return params


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sadlib.bench", description=__doc__.split("\n\n")[0],
                                epilog="Real data: set SADLIB_DATA_DIR to an offline mirror to work offline.")
    p.add_argument("--dataset", choices=["skab", "nab"], default="skab", help="benchmark protocol (default skab)")
    p.add_argument("--detectors", default="zscore",
                   help="comma-separated registry names (default zscore); see sadlib.detectors.available()")
    p.add_argument("--params", help='JSON {name: {param: value}}, e.g. \'{"zscore": {"window": 120}}\'')
    p.add_argument("--csv", metavar="PATH", help="write one row per detector to this CSV file")
    p.add_argument("--no-leaderboard", action="store_true", help="skab: leave out the published SKAB rows")
    p.add_argument("--files", help="skab: comma-separated file keys (default all 34), e.g. valve1/0,other/2")
    p.add_argument("--nab-file", default=DEFAULT_NAB_FILE, help=f"nab: series name (default {DEFAULT_NAB_FILE})")
    p.add_argument("--nab-probation", default="nab",
                   help="nab: training rows: 'nab' = min(floor(0.15 n), 750) (default), a fraction or a row count")
    p.add_argument("--alarm-policy", metavar="NAME_OR_JSON", default="none",
                   help="alarms from an AlarmPolicy fitted per file on the detector's normal training scores "
                        f"instead of its own threshold: a name ({', '.join(POLICIES)}; default none) or a JSON "
                        'object of AlarmPolicy parameters, e.g. \'{"threshold": ["percentile", {"q": 99}], '
                        '"k": 3, "n": 5}\'; see sadlib.alarms.POLICIES')
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the random offsets of each detector's random line (its alarms shifted in time; "
                        "default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _probation_arg(text: str) -> str | float | int:
    if text == "nab":
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise ValueError(f"--nab-probation must be 'nab', a fraction such as 0.15 or a number of rows, got {text!r}.")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 a detector failed, 2 bad arguments)."""
    parser = _parser()
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    try:
        params = _parse_params(args.params)
        _resolve(names, params)  # fail on unknown names before loading any data
        probation = _probation_arg(args.nab_probation)
        policy = make_policy(args.alarm_policy)
        policy_text = policy_label(args.alarm_policy)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    t0 = time.perf_counter()
    try:
        if args.dataset == "skab":
            keys = [k.strip() for k in args.files.split(",")] if args.files else None
            data = _skab_data(None, keys)
            results = run_skab(names, data, params=params, progress=not args.no_progress, policy=args.alarm_policy,
                               seed=args.seed)
            table = skab_comparison(results, data, include_published=not args.no_leaderboard)
            n_rows = int(results["n_test_rows"].iloc[0])
            frac = float(np.mean(np.concatenate([_skab_split(df)[2] for df in data.values()])))
            print(f"\nSKAB outlier detection, protocol 'skab': {len(data)} files, fit on the first "
                  f"{SKAB_TRAIN_ROWS} rows of each, {n_rows} pooled test rows ({frac:.1%} anomalous).")
            print(format_table(table, ["detector", "source", "f1", "f1_std", "far", "mar", "pr_auc", "vus_pr",
                                       "fit_seconds", "score_seconds"]))
            notes = skab_notes(data)
            if not args.no_leaderboard:
                note = "" if len(data) == 34 else f" (all 34 files; these rows use {len(data)})"
                notes.append(f"Published rows{note}: {SKAB_CITATION}")
            notes.append("pr_auc pools scores of separately fitted detectors (no common scale): indicative only.")
        else:
            data = datasets.load_nab(args.nab_file)
            results = run_nab(names, data, name=args.nab_file, probation=probation, params=params,
                              progress=not args.no_progress, policy=args.alarm_policy, seed=args.seed)
            trivial = nab_trivial(data, name=args.nab_file, probation=probation)
            table = pd.concat([results.assign(source="this course"), trivial.assign(source="trivial"),
                               random_lines(results).assign(source="trivial")], ignore_index=True)
            r = results.iloc[0]
            print(f"\nNAB {args.nab_file}, protocol 'nab': fit on the first {r['n_train']} rows, "
                  f"score {r['n_test']} rows ({int(r['n_events'])} labelled windows in the scored part).")
            print(format_table(table, ["detector", "source", "pr_auc", "vus_pr", "event_recall", "event_recall_std",
                                       "event_precision",
                                       "false_alarms_per_day", "f1", "far", "mar", "fit_seconds",
                                       "score_seconds"]))
            notes = list(results.attrs["notes"]) or [
                f"No labelled window overlaps the {r['n_train']}-row training period."]
    except (BenchmarkError, datasets.DatasetError, ValueError) as exc:
        print(f"sadlib.bench: error: {exc}", file=sys.stderr)
        return 1
    spread = "F1 sd" if args.dataset == "skab" else "ev_rec sd"
    notes.append(f"random line of <detector>: its alarms shifted in time by {RANDOM_SHIFTS} random offsets (seed "
                 f"{args.seed}{', within each file' if args.dataset == 'skab' else ''}; "
                 f"sadlib.metrics.shifted_alarms_baseline): the mean, {spread} the spread over the shifts.")
    if policy is not None:
        spelled = f"{policy_text} = {policy_label(policy)}" if policy_text in POLICIES else policy_text
        notes.append(f"alarm policy {spelled}, fitted per file on each detector's normal training scores; "
                     f"the random lines shift the policy's alarms; the other trivial and the published rows use no "
                     f"policy.")
    for note in notes:
        print(f"note: {note}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    if args.csv:
        results.to_csv(args.csv, index=False)
        print(f"wrote {len(results)} row(s) to {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
