"""Choosing hyperparameters without leaking the future: time-series cross-validation and tuning.

Three tools, used in notebook 10:

* :class:`ForwardChainingSplit`, a scikit-learn cross-validation splitter with an
  expanding training window and a gap before each validation block. It delegates
  the index arithmetic to :class:`sklearn.model_selection.TimeSeriesSplit` and adds
  what sensor series need: a gap derived from a window length (``gap="window"``) so
  that overlapping windows never straddle training and validation, durations such
  as ``"1D"`` on a DatetimeIndex, and errors that say how many rows are needed.
* :func:`cross_val_detector`, which fits a clone of a detector on each training
  block and scores the validation block that follows it, unsupervised
  (``"val_loss"``) or with labels (``"event_f1"``, ``"pr_auc"``).
* :func:`tune`, a thin wrapper over Optuna (TPE sampler with a seed) that logs every
  trial to a :class:`sadlib.tracking.Tracker` and returns a tidy table of trials.

:func:`window_classification_cv` and :func:`cv_overstatement` measure what shuffled
folds on overlapping windows do to a score (what many tutorials do): a window in a
validation fold shares all but one of its samples with its neighbours in the
training folds, so the model is checked on data it has practically seen.

References
----------
* Bergmeir, C. and Benitez, J. M. (2012), "On the use of cross-validation for time series
  predictor evaluation", Information Sciences 191, 192-213.
* Cerqueira, V., Torgo, L. and Mozetic, I. (2020), "Evaluating time series forecasting models:
  an empirical study on performance estimation methods", Machine Learning 109, 1997-2028.
* Akiba, T. et al. (2019), "Optuna: a next-generation hyperparameter optimization framework", KDD.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import BaseCrossValidator, KFold, StratifiedKFold, TimeSeriesSplit

from ._time import duration_to_samples, is_duration, median_spacing
from .metrics import event_f1, pr_auc
from .validation import (
    InvalidParameterError,
    as_2d_float,
    as_labels,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_time_index,
)
from .windows import sliding_windows

__all__ = [
    "ForwardChainingSplit",
    "cross_val_detector",
    "window_labels",
    "window_classification_cv",
    "cv_overstatement",
    "TuningResult",
    "tune",
    "SCORINGS",
]

#: the built-in scorings of :func:`cross_val_detector` and whether higher is better
SCORINGS = {"val_loss": False, "event_f1": True, "pr_auc": True}


# --------------------------------------------------------------------------- #
# the splitter
# --------------------------------------------------------------------------- #
def _is_duration(value: Any) -> bool:
    return is_duration(value) and not (
        isinstance(value, str) and value == "window")


def _rows(name: str, value: Any, step: pd.Timedelta | None, low: int) -> int | None:
    """A size in rows from an int or a duration (``step`` is the sampling period), rounded up.

    Up, not nearest: a gap or block of "1D" must cover at least a day (see :mod:`sadlib._time`).
    """
    if value is None:
        return None
    if _is_duration(value):
        try:
            span = pd.Timedelta(value)
        except ValueError as err:
            raise InvalidParameterError(f"{name} {value!r} is not a duration; use e.g. '1D', '6h' or a number of "
                                        f"rows.") from err
        if pd.isna(span) or span < pd.Timedelta(0) or (low > 0 and span == pd.Timedelta(0)):
            raise InvalidParameterError(f"{name} must be a {'positive' if low else 'non-negative'} duration, "
                                        f"got {value!r}.")
        if step is None:
            raise InvalidParameterError(
                f"{name}={value!r} is a duration, but X has no DatetimeIndex to convert it into rows. Pass a "
                f"DataFrame indexed by timestamps, or give {name} as a number of rows.")
        return duration_to_samples(span, step, rounding="up", low=low, name=name)
    return check_int(name, value, low, hint="Give it as a number of rows, or as a duration such as '1D' when X "
                                            "has a DatetimeIndex.")


class ForwardChainingSplit(BaseCrossValidator):
    """Expanding-window (forward-chaining) cross-validation with a gap before each validation block.

    Fold ``k`` trains on every row before ``val_start_k - gap`` and validates on the
    ``test_size`` rows from ``val_start_k``; the validation blocks are consecutive and
    the last one ends with the data, so each training set contains the one before it
    (Bergmeir and Benitez 2012). The gap keeps rows that the training set "touches"
    (through windows, lags or smoothing) out of validation.

    Parameters
    ----------
    n_splits : int >= 1, default 4
        Number of folds.
    gap : int >= 0, duration or "window", default 0
        Rows dropped between the end of training and the start of validation.
        ``"window"``: derived from ``window`` (and ``stride``) so that overlapping
        windows never share a sample across the gap when ``X`` holds one row per
        window (window ``i`` covers samples ``i*stride .. i*stride + window - 1``,
        so the gap is ``ceil(window / stride) - 1`` windows). A duration such as
        ``"1D"`` needs ``X`` with a DatetimeIndex and is converted with its median
        sampling period (rounded up).
    test_size : int >= 1, duration or None
        Rows per validation block. ``None``: as many as leave the first training
        set ``min_train_size`` rows, or, without ``min_train_size``, equal blocks
        ``(n - gap) // (n_splits + 1)`` (as large as the first training set).
    min_train_size : int >= 1, duration or None
        Fewest rows in the first (smallest) training set.
    window : int >= 1 or None
        Window length in samples; needed with ``gap="window"``.
    stride : int >= 1, default 1
        Step between window starts, used with ``gap="window"``.

    Raises (from :meth:`split`)
    ------
    ValueError
        if ``X`` has too few rows; the message says how many are needed.
    InvalidParameterError
        for invalid parameters, or durations without a DatetimeIndex.

    See Also
    --------
    sklearn.model_selection.TimeSeriesSplit : the splitter this one delegates to.

    Examples
    --------
    >>> import numpy as np
    >>> cv = ForwardChainingSplit(3, gap=2)
    >>> [(len(tr), int(va[0]), len(va)) for tr, va in cv.split(np.zeros((14, 1)))]
    [(3, 5, 3), (6, 8, 3), (9, 11, 3)]
    """

    def __init__(self, n_splits: int = 4, *, gap: Any = 0, test_size: Any = None, min_train_size: Any = None,
                 window: int | None = None, stride: int = 1):
        self.n_splits = n_splits
        self.gap = gap
        self.test_size = test_size
        self.min_train_size = min_train_size
        self.window = window
        self.stride = stride

    # -- sizes --------------------------------------------------------------------------
    def _check_params(self) -> None:
        check_int("n_splits", self.n_splits, 1, hint="It is the number of folds.")
        check_int("stride", self.stride, 1, hint="It is the step between window starts.")
        if self.window is not None:
            check_int("window", self.window, 1, hint="It is the window length in samples.")
        if isinstance(self.gap, str) and self.gap == "window":
            if self.window is None:
                raise InvalidParameterError(
                    'gap="window" derives the gap from the window length; pass window=<samples per window>, '
                    'e.g. ForwardChainingSplit(4, gap="window", window=60).')
        elif not _is_duration(self.gap):
            check_int("gap", self.gap, 0, hint='Give it in rows, as a duration such as "1D", or as "window".')
        for name, value in (("test_size", self.test_size), ("min_train_size", self.min_train_size)):
            if value is not None and not _is_duration(value):
                check_int(name, value, 1, hint="Give it in rows, or as a duration such as '1D'.")

    def resolve(self, X: Any) -> dict[str, int]:
        """The sizes in rows for this ``X``: ``gap``, ``test_size``, ``min_train_size`` (first training set).

        Raises
        ------
        ValueError
            if ``X`` is too short for ``n_splits`` folds with this gap; the message
            gives the number of rows needed.
        """
        self._check_params()
        n = _num_rows(X)
        step = _sampling_step(X)
        if isinstance(self.gap, str) and self.gap == "window":
            gap = int(math.ceil(self.window / self.stride)) - 1
        else:
            gap = _rows("gap", self.gap, step, 0)
        test_size = _rows("test_size", self.test_size, step, 1)
        min_train = _rows("min_train_size", self.min_train_size, step, 1)
        needed = (min_train or 1) + gap + self.n_splits * (test_size or 1)
        if n < needed:
            parts = [f"{min_train or 1} to train", f"a gap of {gap}",
                     f"{self.n_splits} validation block(s) of {test_size or 1}"]
            raise ValueError(
                f"X has {n} rows, but n_splits={self.n_splits} with gap={gap} needs at least {needed} "
                f"({', '.join(parts)}). Pass a longer series, or use fewer splits, a smaller gap or a smaller "
                f"test_size.")
        if test_size is None:
            if min_train is None:
                test_size = (n - gap) // (self.n_splits + 1)
            else:
                test_size = (n - gap - min_train) // self.n_splits
        first_train = n - gap - self.n_splits * test_size
        return {"n_rows": n, "gap": gap, "test_size": test_size, "first_train_size": first_train}

    # -- scikit-learn splitter API ------------------------------------------------------------
    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_index, val_index)`` position arrays, oldest fold first.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, ...)
            Rows in time order (a DatetimeIndex must be sorted, without duplicates).
            Only its length and, for durations, its index are used.
        y, groups : ignored
            Accepted for compatibility with scikit-learn.
        """
        sizes = self.resolve(X)
        if self.n_splits == 1:  # one hold-out split; TimeSeriesSplit needs two or more
            n, test = sizes["n_rows"], sizes["test_size"]
            yield np.arange(sizes["first_train_size"]), np.arange(n - test, n)
            return
        inner = TimeSeriesSplit(n_splits=self.n_splits, gap=sizes["gap"], test_size=sizes["test_size"])
        yield from inner.split(np.empty((sizes["n_rows"], 1)))

    def _iter_test_indices(self, X: Any = None, y: Any = None, groups: Any = None):
        for _, val in self.split(X):
            yield val

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds, ``n_splits``."""
        return check_int("n_splits", self.n_splits, 1, hint="It is the number of folds.")

    def table(self, X: Any) -> pd.DataFrame:
        """One row per fold: ``fold, train_start, train_end, val_start, val_end, n_train, n_val`` (ends exclusive).

        With a DatetimeIndex the starts and ends are also given as timestamps
        (``train_from``, ``train_to``, ``val_from``, ``val_to``, inclusive).
        """
        index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
        rows = []
        for k, (tr, va) in enumerate(self.split(X)):
            row = {"fold": k, "train_start": int(tr[0]), "train_end": int(tr[-1]) + 1, "val_start": int(va[0]),
                   "val_end": int(va[-1]) + 1, "n_train": len(tr), "n_val": len(va)}
            if isinstance(index, pd.DatetimeIndex):
                row.update(train_from=index[tr[0]], train_to=index[tr[-1]], val_from=index[va[0]],
                           val_to=index[va[-1]])
            rows.append(row)
        return pd.DataFrame(rows)


def _num_rows(X: Any) -> int:
    if X is None:
        raise TypeError("X is None; pass the series (a DataFrame or an array with one row per sample or window).")
    if isinstance(X, (pd.DataFrame, pd.Series)):
        check_time_index(X, name="X")
    try:
        n = len(X)
    except TypeError:
        raise TypeError(f"X has type {type(X).__name__} without a length; pass a DataFrame or an array.") from None
    if n == 0:
        raise ValueError("X is empty; pass a series with at least one row per fold.")
    return n


def _sampling_step(X: Any) -> pd.Timedelta | None:
    index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    step = median_spacing(index)
    if pd.isna(step) or step <= pd.Timedelta(0):
        raise ValueError("X has a DatetimeIndex whose median spacing is zero; drop duplicate timestamps first.")
    return pd.Timedelta(step)


def _check_cv(cv: Any) -> Any:
    if isinstance(cv, bool) or cv is None:
        raise InvalidParameterError("cv must be a splitter such as ForwardChainingSplit(4, gap='window', window=60), "
                                    "or a list of (train_index, val_index) pairs.")
    if isinstance(cv, (int, np.integer)):
        return ForwardChainingSplit(check_int("cv", cv, 1))
    if isinstance(cv, (str, bytes)):
        raise InvalidParameterError(f"cv must be a splitter, an int or a list of (train_index, val_index) pairs, got "
                                    f"the text {cv!r}; pass the number itself (cv=3) or ForwardChainingSplit(3).")
    if hasattr(cv, "split"):
        return cv
    try:
        folds = [(np.asarray(tr), np.asarray(va)) for tr, va in cv]
    except (TypeError, ValueError):
        raise InvalidParameterError(f"cv has type {type(cv).__name__}; pass a splitter with a split() method or a list "
                                    f"of (train_index, val_index) pairs.") from None
    return _FixedFolds(folds)


class _FixedFolds:
    """Folds given as a list of (train, val) index pairs."""

    def __init__(self, folds: list[tuple[np.ndarray, np.ndarray]]):
        self.folds = folds

    def split(self, X: Any, y: Any = None, groups: Any = None):
        yield from self.folds

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return len(self.folds)


# --------------------------------------------------------------------------- #
# cross-validating a detector
# --------------------------------------------------------------------------- #
def _check_fold(k: int, tr: Any, va: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One fold's positions: integers inside the ``n`` rows, validation strictly after training."""
    out = []
    for part, idx in (("training", tr), ("validation", va)):
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"cv fold {k} has {part} rows {idx!r}; each fold must give a non-empty 1-D array of integer row "
                f"positions (as ForwardChainingSplit.split does), not a boolean mask or labels.")
        if idx.min() < 0 or idx.max() >= n:
            bad = int(idx[(idx < 0) | (idx >= n)][0])
            raise InvalidParameterError(
                f"cv fold {k} has {part} row {bad}, outside the {n} rows of X (positions 0 to {n - 1}); the folds "
                f"were made for another series. Split this X, e.g. ForwardChainingSplit(4).split(X).")
        out.append(idx)
    tr, va = out
    if va.min() <= tr.max():
        where = "inside" if va.max() >= tr.min() and va.min() <= tr.max() else "before"
        raise InvalidParameterError(
            f"cv fold {k} validates on rows {int(va.min())}..{int(va.max())}, {where} its training rows "
            f"{int(tr.min())}..{int(tr.max())}: the detector would be scored on the past (or on data it was fitted "
            f"on), which overstates it. Validate after the training rows, e.g. cv=ForwardChainingSplit(4, "
            f"gap='window', window=...), not KFold.")
    return tr, va


def _unscorable(name: str, y_val: np.ndarray) -> bool:
    """Whether a fold's labels leave ``scoring`` undefined (no event; for PR-AUC also no normal row)."""
    if name == "event_f1":
        return not y_val.any()
    if name == "pr_auc":
        return not (0 < y_val.sum() < len(y_val))
    return False


def _rows_of(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, (pd.DataFrame, pd.Series)) else X[idx]


def cross_val_detector(
    detector: Any,
    X: Any,
    cv: Any,
    *,
    y: Any = None,
    scoring: str | Callable[..., float] = "val_loss",
    policy: Any = None,
    return_detectors: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, list]:
    """Fit a fresh copy of ``detector`` on each training block and score the validation block after it.

    Parameters
    ----------
    detector : sadlib Detector (or any estimator with ``fit`` and ``score``)
        Cloned with :func:`sklearn.base.clone` for every fold, so it is never fitted here.
    X : DataFrame or array of shape (n_samples, n_features)
        The tuning period, in time order.
    cv : splitter, int or list of (train, val) index pairs
        E.g. ``ForwardChainingSplit(4, gap="1h")``; an int ``k`` means ``ForwardChainingSplit(k)``.
        Every fold must validate on rows after all its training rows (integer positions
        inside ``X``); a fold that validates before or inside its training rows is refused.
    y : array-like of shape (n_samples,), optional
        0/1 labels (1 = anomaly). When given, each fold is fitted on the **normal
        rows of its training block only** (the anomalous rows are dropped, which
        joins the normal stretches around them), and ``"val_loss"`` averages over
        the normal validation rows only.
    scoring : {"val_loss", "event_f1", "pr_auc"} or callable, default "val_loss"
        * ``"val_loss"``: the mean anomaly score of the (normal) validation rows;
          **lower is better**. For an autoencoder this is the validation
          reconstruction error, an unsupervised objective; compare it only between
          settings whose scores are in the same units (the same detector and
          preprocessing, not a z-score against a reconstruction error).
        * ``"event_f1"``: needs ``y``; the harmonic mean of event precision and
          recall (:func:`sadlib.metrics.event_f1`) of the alarms: the detector's
          ``predict`` (its ``threshold_`` calibrated on the training block), or
          ``policy`` fitted on the detector's ``calibration_scores_``.
        * ``"pr_auc"``: needs ``y``; :func:`sadlib.metrics.pr_auc` of the validation
          scores.

        With ``"event_f1"`` a fold whose validation block holds no event (with ``"pr_auc"``
        no anomaly, or no normal row) cannot be scored: its score is NaN (not 0, which would
        drag the mean down) and a warning names it; if no fold can be scored it is an error.
        * a callable ``scoring(fitted_detector, X_val, y_val) -> float`` (``y_val`` None without ``y``).
    policy : sadlib.alarms.AlarmPolicy, optional
        An unfitted alarm policy for ``"event_f1"``; cloned and fitted per fold.
    return_detectors : bool, default False
        Also return the fitted detector of every fold (as scikit-learn's
        ``cross_validate(return_estimator=True)``), e.g. for a Keras detector's
        ``history_`` to log with a tracker.

    Returns
    -------
    DataFrame, or (DataFrame, list of fitted detectors) with ``return_detectors=True``
        One row per fold: ``fold, n_train`` (rows the detector was fitted on),
        ``n_val, val_anomalies`` (labelled anomalous validation rows, NaN without ``y``),
        ``score, seconds`` (fitting and scoring). ``df.attrs["greater_is_better"]`` says
        which way is better.
    """
    if not (hasattr(detector, "fit") and hasattr(detector, "score")):
        raise TypeError(f"detector must have fit and score methods (a sadlib detector), got {type(detector).__name__}.")
    if callable(scoring):
        name, greater = getattr(scoring, "__name__", "custom"), True
    else:
        name = check_choice("scoring", scoring, tuple(SCORINGS))
        greater = SCORINGS[name]
    n = _num_rows(X)
    labels = None if y is None else as_labels(y, name="y", n=n)
    if name in ("event_f1", "pr_auc") and labels is None:
        raise InvalidParameterError(f'scoring="{name}" compares alarms or scores with labels; pass y=<0/1 labels>, '
                                    f'or use scoring="val_loss" (unsupervised).')
    if policy is not None and not hasattr(policy, "predict"):
        raise TypeError(f"policy must be an AlarmPolicy (with fit and predict), got {type(policy).__name__}.")
    check_bool("return_detectors", return_detectors)
    splitter = _check_cv(cv)
    folds = [_check_fold(k, tr, va, n) for k, (tr, va) in enumerate(splitter.split(X))]
    if not folds:
        raise InvalidParameterError("cv gave no fold; pass a splitter such as ForwardChainingSplit(4) or a non-empty "
                                    "list of (train_index, val_index) pairs.")
    skipped = [] if callable(scoring) or labels is None else [k for k, (_, va) in enumerate(folds)
                                                              if _unscorable(name, labels[va])]
    if skipped:
        why = "no labelled event" if name == "event_f1" else "no labelled anomaly, or no normal row,"
        if len(skipped) == len(folds):
            raise InvalidParameterError(
                f'scoring="{name}" cannot score any fold: every validation block has {why} in y. Use folds whose '
                f'validation blocks hold events (fewer splits, longer blocks), or scoring="val_loss".')
        warnings.warn(f'scoring="{name}": fold(s) {", ".join(map(str, skipped))} have {why} in their validation '
                      f'rows, so their score is NaN (undefined, not 0); the mean over folds (DataFrame.mean) uses the '
                      f'other {len(folds) - len(skipped)}.', stacklevel=2)
    rows, fitted = [], []
    for k, (tr, va) in enumerate(folds):
        if labels is not None:
            tr = tr[~labels[tr]]
        t0 = time.perf_counter()
        try:
            det = clone(detector).fit(_rows_of(X, tr))
        except ValueError as err:  # e.g. too few rows: say which fold, and that its training block is the X meant
            if isinstance(err, InvalidParameterError):  # a bad detector parameter: nothing to do with the fold
                raise
            raise InvalidParameterError(f"cv fold {k} cannot fit the detector on its {len(tr)} training rows "
                                        f"(the X of this message): {err} Use folds with longer training blocks "
                                        f"(fewer splits, or min_train_size=...).") from err
        X_val = _rows_of(X, va)
        y_val = None if labels is None else labels[va]
        if callable(scoring):
            value = float(scoring(det, X_val, y_val))
        else:
            scores = np.asarray(det.score(X_val), dtype=float)
            if name == "val_loss":
                normal = np.ones(len(va), bool) if y_val is None else ~y_val
                value = float(np.nanmean(scores[normal])) if normal.any() else float("nan")
            elif k in skipped:
                value = float("nan")
            elif name == "pr_auc":
                value = pr_auc(y_val, scores)
            else:
                if policy is None:
                    alarms = scores > det.threshold_
                else:
                    alarms = clone(policy).fit(det.calibration_scores_).predict(scores)
                value = event_f1(y_val, alarms)
        rows.append({"fold": k, "n_train": len(tr), "n_val": len(va),
                     "val_anomalies": float("nan") if y_val is None else int(y_val.sum()),
                     "score": value, "seconds": time.perf_counter() - t0})
        if return_detectors:
            fitted.append(det)
    out = pd.DataFrame(rows)
    out.attrs["scoring"] = name
    out.attrs["greater_is_better"] = greater
    return (out, fitted) if return_detectors else out


# --------------------------------------------------------------------------- #
# the overstatement of shuffled folds on overlapping windows
# --------------------------------------------------------------------------- #
def window_labels(y: Any, window: int, *, stride: int = 1, how: str = "any") -> np.ndarray:
    """One 0/1 label per sliding window: ``"any"`` anomalous sample in it, or the ``"last"`` sample's label."""
    check_choice("how", how, ("any", "last"))
    lab = as_labels(y, name="y").astype(np.float64)
    w = sliding_windows(lab, window, stride)[:, :, 0]
    return (w.max(axis=1) if how == "any" else w[:, -1]).astype(np.int64)


def _window_score(kind: str, y_true: np.ndarray, model: Any, Xv: np.ndarray) -> float:
    if not (0 < y_true.sum() < len(y_true)) and kind != "f1":
        return float("nan")
    if kind == "pr_auc":
        proba = model.predict_proba(Xv)
        return pr_auc(y_true, proba[:, list(model.classes_).index(1)])
    pred = model.predict(Xv)
    if kind == "f1":
        if y_true.sum() == 0:
            return float("nan")
        tp = int(np.sum((pred == 1) & (y_true == 1)))
        fp, fn = int(np.sum((pred == 1) & (y_true == 0))), int(np.sum((pred == 0) & (y_true == 1)))
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    from sklearn.metrics import balanced_accuracy_score
    return float(balanced_accuracy_score(y_true, pred))


def window_classification_cv(
    X: Any,
    y: Any,
    window: int,
    cv: Any,
    *,
    model: Any = None,
    stride: int = 1,
    label: str = "any",
    scoring: str = "f1",
) -> pd.DataFrame:
    """Cross-validate a supervised classifier on flattened overlapping windows, what many tutorials do.

    The series is cut into windows of ``window`` samples (step ``stride``), each
    flattened into one feature vector and labelled by :func:`window_labels`; ``cv``
    splits the **windows**. With ``KFold(shuffle=True)`` or ``StratifiedKFold``
    neighbouring windows, which share ``window - 1`` samples, land on both sides of
    the split, so the score measures memory, not foresight. Compare with
    ``ForwardChainingSplit(gap="window", window=window)`` and with a later, held-out
    period (:func:`cv_overstatement` does all three).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), no NaN (fill gaps first)
    y : array-like of shape (n_samples,), 0/1 labels
    window, stride : int >= 1
    cv : splitter or list of (train, val) index pairs, over the windows
    model : scikit-learn classifier, optional
        Cloned per fold; default ``RandomForestClassifier(n_estimators=50, random_state=0)``.
    label : {"any", "last"}
    scoring : {"f1", "pr_auc", "balanced_accuracy"}
        Of the window labels; NaN for a fold whose validation block has no
        anomalous window (or whose training block has a single class).

    Returns
    -------
    DataFrame
        One row per fold: ``fold, n_train, n_val, train_positives, val_positives, score``.
    """
    from sklearn.ensemble import RandomForestClassifier

    window = check_int("window", window, 1, hint="It is the number of samples per window.")
    check_choice("scoring", scoring, ("f1", "pr_auc", "balanced_accuracy"))
    arr = as_2d_float(X, name="X")
    lab = as_labels(y, name="y", n=len(arr))
    feats = sliding_windows(arr, window, stride)
    feats = feats.reshape(len(feats), -1)
    yw = window_labels(lab, window, stride=stride, how=label)
    base = RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1) if model is None else model
    splitter = _check_cv(cv)
    rows = []
    for k, (tr, va) in enumerate(splitter.split(feats, yw)):
        tr, va = np.asarray(tr), np.asarray(va)
        score = float("nan")
        if np.unique(yw[tr]).size == 2:
            fitted = clone(base).fit(feats[tr], yw[tr])
            score = _window_score(scoring, yw[va], fitted, feats[va])
        rows.append({"fold": k, "n_train": len(tr), "n_val": len(va), "train_positives": int(yw[tr].sum()),
                     "val_positives": int(yw[va].sum()), "score": score})
    return pd.DataFrame(rows)


def cv_overstatement(
    X: Any,
    y: Any,
    window: int,
    *,
    n_splits: int = 4,
    test_fraction: float = 0.25,
    model: Any = None,
    scoring: str = "f1",
    seed: int = 0,
) -> pd.DataFrame:
    """How much shuffled folds on overlapping windows overstate a score, in one table.

    The last ``test_fraction`` of the series is held out (the "future"). On the
    rest (the tuning period) the windows are cross-validated three ways with
    :func:`window_classification_cv`: shuffled ``KFold``, shuffled
    ``StratifiedKFold``, and :class:`ForwardChainingSplit` with ``gap="window"``. The
    model is then fitted on all tuning windows and scored on the held-out windows,
    after a gap of ``window - 1`` windows. The honest estimate is the one close to
    the held-out score.

    Returns
    -------
    DataFrame
        One row per scheme (``"shuffled KFold"``, ``"stratified KFold"``,
        ``"forward chaining + gap"``, ``"held-out test"``) with ``mean``, ``std``,
        ``folds`` (scored folds) and ``scores`` (the list of fold scores).

    Notes
    -----
    Measured with the default random forest, ``window=20``, 4 folds, on
    ``sadlib.signals.generate(7, anomalies=14, clean_fraction=0.1, seed=0)``: window F1
    0.91 (shuffled), 0.91 (stratified), 0.16 (forward chaining + gap), 0.12 (held out);
    on the compressor twin (28 days at 1 min, 5-min means, ``window=12``, seed 0):
    0.64, 0.65, 0.00, 0.00, and PR-AUC 0.73, 0.74, 0.11, 0.11.
    """
    window = check_int("window", window, 1, hint="It is the number of samples per window.")
    n_splits = check_int("n_splits", n_splits, 2, hint="It is the number of folds.")
    test_fraction = check_number("test_fraction", test_fraction, 0, 1, low_open=True, high_open=True,
                                 hint="It is the share of the series held out at its end.")
    arr = as_2d_float(X, name="X")
    lab = as_labels(y, name="y", n=len(arr))
    n_windows = len(arr) - window + 1
    n_test = int(round(test_fraction * n_windows))
    n_tune = n_windows - n_test - (window - 1)
    if n_test < 1 or n_tune < 2 * n_splits:
        raise ValueError(f"X has {len(arr)} rows: too few for windows of {window}, a held-out {test_fraction:.0%} "
                         f"and {n_splits} folds. Pass a longer series, or a smaller window or test_fraction.")
    tune_rows = n_tune + window - 1  # the samples the tuning windows cover
    yw_tune = window_labels(lab[:tune_rows], window)
    schemes = {
        "shuffled KFold": KFold(n_splits, shuffle=True, random_state=seed),
        "stratified KFold": StratifiedKFold(n_splits, shuffle=True, random_state=seed),
        "forward chaining + gap": ForwardChainingSplit(n_splits, gap="window", window=window),
    }
    out = []
    for scheme, cv in schemes.items():
        folds = list(cv.split(np.zeros((n_tune, 1)), yw_tune))
        res = window_classification_cv(arr[:tune_rows], lab[:tune_rows], window, folds, model=model,
                                       scoring=scoring)
        out.append((scheme, res["score"].tolist()))
    holdout = [(np.arange(n_tune), np.arange(n_windows - n_test, n_windows))]
    res = window_classification_cv(arr, lab, window, holdout, model=model, scoring=scoring)
    out.append(("held-out test", res["score"].tolist()))
    table = pd.DataFrame({"scheme": [s for s, _ in out], "scores": [v for _, v in out]})
    table["mean"] = [float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for _, v in out]
    table["std"] = [float(np.nanstd(v)) if np.isfinite(v).any() else float("nan") for _, v in out]
    table["folds"] = [int(np.isfinite(v).sum()) for _, v in out]
    return table[["scheme", "mean", "std", "folds", "scores"]]


# --------------------------------------------------------------------------- #
# tuning with Optuna
# --------------------------------------------------------------------------- #
class TuningResult(NamedTuple):
    """What :func:`tune` returns."""

    trials: pd.DataFrame
    """One row per trial: ``trial, state, value``, one column per parameter and per extra metric, ``seconds``."""
    study: Any
    """The :class:`optuna.study.Study`, for Optuna's own plots and tables."""
    best_params: dict
    best_value: float


def _suggest(trial: Any, name: str, spec: Any) -> Any:
    """One parameter from a search-space entry (see :func:`tune`)."""
    if isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], str) and spec[0] in ("int", "float"):
        kind, *rest = spec
        opts = dict(rest[2]) if len(rest) > 2 else {}
        if len(rest) < 2:
            raise InvalidParameterError(f"space[{name!r}] = {spec!r}: give ({kind!r}, low, high) or "
                                        f"({kind!r}, low, high, {{'log': True}}).")
        low, high = rest[0], rest[1]
        if kind == "int":
            return trial.suggest_int(name, low, high, **opts)
        return trial.suggest_float(name, low, high, **opts)
    if isinstance(spec, (list, tuple)) and len(spec) > 0:
        return trial.suggest_categorical(name, list(spec))
    raise InvalidParameterError(
        f"space[{name!r}] = {spec!r} is not a search range; use ('int', 8, 64), ('float', 1e-4, 1e-2, {{'log': True}}) "
        f"or a list of choices such as [16, 32, 64].")


def tune(
    objective: Callable[..., Any],
    space: Mapping[str, Any] | None,
    n_trials: int,
    *,
    seed: int = 0,
    tracker: Any = None,
    direction: str = "minimize",
    study_name: str | None = None,
    timeout: float | None = None,
) -> TuningResult:
    """Search hyperparameters with Optuna's TPE sampler; log every trial; return a tidy table.

    A thin wrapper: it creates ``optuna.create_study(direction=..., sampler=TPESampler(seed=seed))``,
    quiets Optuna's logging, runs ``n_trials`` trials, and after each one calls
    ``tracker.log_trial(number, params, metrics, history=...)``.

    Parameters
    ----------
    objective : callable
        With ``space``: ``objective(params: dict)``; without (``space=None``):
        ``objective(trial)``, Optuna's own style, suggesting its parameters itself.
        It returns the value to optimise, or a dict with that value under
        ``"value"``, other scalar metrics (logged and put in the table) and
        optionally ``"history"``, a dict of per-epoch lists (e.g. Keras'
        ``fit(...).history``) that the tracker logs step by step.
    space : dict or None
        Parameter name -> ``("int", low, high[, options])``,
        ``("float", low, high[, options])`` (options passed to Optuna, e.g.
        ``{"log": True}`` or ``{"step": 10}``) or a list of choices.
    n_trials : int >= 1
    seed : int
        Seed of the TPE sampler, so a search repeats exactly.
    tracker : sadlib.tracking.Tracker, optional
    direction : {"minimize", "maximize"}
        ``"minimize"`` for a validation loss, ``"maximize"`` for F1 or PR-AUC.
    study_name, timeout
        Passed to Optuna.

    Returns
    -------
    TuningResult
        ``(trials, study, best_params, best_value)``.

    Examples
    --------
    ::

        space = {"window": ("int", 10, 60, {"step": 10}), "q": [99.0, 99.5]}
        def objective(p):
            det = detectors.make("iforest", window=p["window"], threshold=("percentile", {"q": p["q"]}))
            return cross_val_detector(det, X_tune, ForwardChainingSplit(3, gap="window", window=p["window"]),
                                      y=y_tune, scoring="event_f1")["score"].mean()
        result = tune(objective, space, n_trials=10, direction="maximize")
    """
    try:
        import optuna
    except ImportError as err:  # pragma: no cover - depends on the installation
        from ._extras import install_hint

        raise ImportError(f"tune needs Optuna, which comes with the tracking extra: {install_hint('tracking')}.") \
            from err
    if not callable(objective):
        raise TypeError(f"objective must be a function, got {type(objective).__name__}.")
    n_trials = check_int("n_trials", n_trials, 1, hint="It is the number of settings tried.")
    seed = check_int("seed", seed, 0, hint="It seeds Optuna's TPE sampler.")
    check_choice("direction", direction, ("minimize", "maximize"))
    if space is not None:
        if not isinstance(space, Mapping) or not space:
            raise InvalidParameterError("space must be a non-empty dict of parameter name -> range, e.g. "
                                        "{'window': ('int', 10, 60)}, or None to suggest inside objective(trial).")
        for key in space:  # fail on a bad entry before the first trial runs
            _check_spec(key, space[key])
    if tracker is not None and not hasattr(tracker, "log_trial"):
        raise TypeError(f"tracker must have a log_trial method (sadlib.tracking.Tracker), "
                        f"got {type(tracker).__name__}.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed),
                                study_name=study_name)
    records: list[dict] = []

    def wrapped(trial: Any) -> float:
        t0 = time.perf_counter()
        if space is None:
            out = objective(trial)
            params = dict(trial.params)
        else:
            params = {k: _suggest(trial, k, v) for k, v in space.items()}
            out = objective(params)
        value, metrics, history = _split_output(out)
        seconds = time.perf_counter() - t0
        for k, v in metrics.items():
            trial.set_user_attr(k, v)
        trial.set_user_attr("seconds", seconds)
        records.append({"trial": trial.number, "value": value, **params, **metrics, "seconds": seconds})
        if tracker is not None:
            tracker.log_trial(trial.number, params, {"value": value, **metrics, "seconds": seconds},
                              history=history)
        return value

    study.optimize(wrapped, n_trials=n_trials, timeout=timeout)
    table = _trials_table(study, records)
    try:
        best_params, best_value = dict(study.best_params), float(study.best_value)
    except ValueError:  # no completed trial
        best_params, best_value = {}, float("nan")
    return TuningResult(table, study, best_params, best_value)


def _check_spec(name: str, spec: Any) -> None:
    class _Probe:  # answers suggest_* with the low end, to validate a space without Optuna
        def suggest_int(self, n, low, high, **kw):
            check_int(f"space[{name!r}] low", low)
            check_int(f"space[{name!r}] high", high, low)
            return low

        def suggest_float(self, n, low, high, **kw):
            check_number(f"space[{name!r}] low", low)
            check_number(f"space[{name!r}] high", high, low)
            return low

        def suggest_categorical(self, n, choices):
            return choices[0]

    _suggest(_Probe(), name, spec)


def _split_output(out: Any) -> tuple[float, dict, dict | None]:
    if isinstance(out, Mapping):
        if "value" not in out:
            raise ValueError(f"the objective returned a dict without 'value' (keys: {sorted(out)}); put the number to "
                             f"optimise under 'value'.")
        extra = {k: v for k, v in out.items() if k not in ("value", "history")}
        bad = [k for k, v in extra.items() if not isinstance(v, (int, float, np.number, str, bool))]
        if bad:
            raise ValueError(f"the objective returned non-scalar metrics {bad}; return numbers (per-epoch lists go "
                             f"under 'history').")
        history = out.get("history")
        if history is not None and not isinstance(history, Mapping):
            raise ValueError("'history' must be a dict of metric name -> list of per-epoch values, "
                             "e.g. keras_model.fit(...).history.")
        return float(out["value"]), {k: (v.item() if isinstance(v, np.generic) else v) for k, v in extra.items()}, \
            (dict(history) if history is not None else None)
    try:
        return float(out), {}, None
    except (TypeError, ValueError):
        raise ValueError(f"the objective returned {type(out).__name__}; return a number or a dict with 'value'.") \
            from None


def _trials_table(study: Any, records: Sequence[dict]) -> pd.DataFrame:
    done = {r["trial"]: r for r in records}
    rows = []
    for t in study.trials:
        row = dict(done.get(t.number, {"trial": t.number, "value": t.value, **t.params}))
        row["state"] = t.state.name
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    first = ["trial", "state", "value"]
    return table[first + [c for c in table.columns if c not in first]]
