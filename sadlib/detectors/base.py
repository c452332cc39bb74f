"""The one interface every detector of the course follows.

Modelled on scikit-learn (``fit``/``predict``, fitted attributes end in ``_``,
``get_params``/``clone``) and on PyOD (a ``threshold_`` that can be changed
without refitting). A subclass implements two methods:

* ``_fit(X_train)``: learn what normal looks like from ``(n_train, n_features)``;
* ``_score(X)``: return one anomaly score per row of ``(n, n_features)``, higher
  meaning more anomalous, shape ``(n,)``.

and, where it has parameters of its own, ``_check_params()``: check them with
:mod:`sadlib.validation` (``check_int``, ``check_number``, ``check_choice``, ...).

**Rows without a score are NaN.** A detector that needs ``k`` rows of history before it
can score (a window detector: the first ``window - 1`` rows of every scored series; the
LSTM forecaster: the first ``window``) says so in :attr:`Detector.unscored_rows`, and
:meth:`Detector.score` returns NaN for those rows, meaning "no score": never a
borrowed score from a later window, never 0. Everything that consumes scores reads NaN
the same way: ``predict`` (``NaN > threshold_`` is False), :mod:`sadlib.alarms` and the
streaming scorers give no alarm there; thresholds (:mod:`sadlib.thresholds`, the
calibration in :meth:`Detector.fit`) are fitted on the other scores; the ranking metrics
of :mod:`sadlib.metrics` (ROC-AUC, PR-AUC, VUS-PR) rank a NaN below every real score.
Detectors that score a row from the row itself and statistics of the training data while
their rolling statistics warm up (``zscore``, ``robust_z``, ``ewma``) do score those rows
and have ``unscored_rows == 0``. To score a series from its first row, prepend the
``unscored_rows`` rows before it and drop their scores.

:meth:`Detector.fit` does the rest the same way for every detector: it checks the
input, keeps the chronological tail of the (normal) fitting data apart, fits the
model on the head only, and calibrates ``threshold_`` on the scores of the held-out
tail. Test data is never needed to choose a threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from ..thresholds import Threshold, make_threshold
from ..validation import as_2d_float, as_scores, check_choice, check_number, check_time_index

# check_choice is re-exported for modules that still import it from here; its home is sadlib.validation.
__all__ = ["Detector", "DEFAULT_THRESHOLD", "SENSOR_AGGREGATES", "check_choice", "combine_sensors",
           "rows_before_first_window"]



class _FrozenParams(dict):
    """A read-only dict for parameter defaults shared by every detector.

    ``DEFAULT_THRESHOLD`` is the default of many constructors, so one object is
    shared by every detector built with defaults; a plain dict there would let
    ``a.threshold[1]["q"] = 95`` change every detector's setting.
    """

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "This is the shared default threshold spec and cannot be changed in place. Pass a new one, "
            "e.g. det.set_params(threshold=('percentile', {'q': 95}))."
        )

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only  # type: ignore[assignment]

    def __reduce__(self):  # pickling and copy rebuild it from a plain dict
        return (type(self), (dict(self),))

    def __copy__(self) -> "_FrozenParams":
        return self

    def __deepcopy__(self, memo: dict) -> "_FrozenParams":
        return self


DEFAULT_THRESHOLD = ("percentile", _FrozenParams(q=99.0))


#: ways to combine per-sensor scores into one score per timestamp
SENSOR_AGGREGATES = ("max", "mean", "l2")


def combine_sensors(z: np.ndarray, how: str) -> np.ndarray:
    """Per-sensor scores ``(n, n_features)`` -> one score per row ``(n,)``: max, mean or L2 norm."""
    check_choice("aggregate", how, SENSOR_AGGREGATES)
    if how == "max":
        return z.max(axis=1)
    if how == "mean":
        return z.mean(axis=1)
    return np.sqrt((z**2).sum(axis=1))


class Detector(BaseEstimator):
    """Base class: ``fit(X)`` on normal data, ``score(X)``, ``predict(X)``.

    Parameters (shared by all detectors)
    ----------
    threshold : str, float, tuple or Threshold
        How ``threshold_`` is calibrated on held-out normal scores; anything
        :func:`sadlib.thresholds.make_threshold` accepts, e.g. ``"max"``,
        ``("percentile", {"q": 99})``, ``"pot"`` or a fixed number.
    calibration : float in [0, 1)
        Fraction of the fitting data, taken from its *end*, held out from model
        fitting and used only to calibrate the threshold. ``0`` calibrates on the
        training scores themselves, which is optimistic for flexible models.

    Fitted attributes
    -----------------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when fitted on a DataFrame
    train_scores_ : ndarray (n_train,), scores of the part the model was fitted on
    calibration_scores_ : ndarray (n_calibration,), scores of the held-out normal tail
    threshold_ : float, scores strictly above it are alarms
    thresholder_ : the fitted :class:`~sadlib.thresholds.Threshold`
    """

    #: smallest number of rows ``fit`` accepts; windowed detectors raise it
    min_samples: int = 2

    def __init__(self, *, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        self.threshold = threshold
        self.calibration = calibration

    # -- to implement -----------------------------------------------------------------
    def _check_params(self) -> None:
        """Validate the subclass's parameters; :meth:`fit` calls it before it looks at the data."""

    def _fit(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def unscored_rows(self) -> int:
        """Leading rows of every scored series that get no score (NaN): 0 here; windowed detectors override it."""
        return 0

    # -- public API -------------------------------------------------------------------
    def fit(self, X: Any, y: None = None) -> "Detector":
        """Fit on (mostly) normal data ``X`` of shape ``(n_samples, n_features)``.

        The last ``calibration`` fraction of ``X`` is held out and used only to
        calibrate ``threshold_``. ``y`` is ignored (accepted for scikit-learn
        compatibility); never pass test data here.

        Raises
        ------
        InvalidParameterError
            if a parameter is invalid (checked before ``X`` is looked at).
        ValueError, TypeError
            if ``X`` is not numeric, empty, contains NaN/inf or is too short.
        """
        check_number("calibration", self.calibration, 0, 1, high_open=True,
                     hint="It is the share of the fitting data held out to calibrate the threshold.")
        self._check_params()
        arr = self._validate(X, fitting=True)
        n_cal = int(round(len(arr) * self.calibration))
        n_train = len(arr) - n_cal
        if n_train < self.min_samples or (self.calibration > 0 and n_cal < 2):
            raise ValueError(
                f"X has {len(arr)} rows: too few to fit on {n_train} and calibrate the threshold on {n_cal} "
                f"(this detector needs at least {self.min_samples} rows to fit). Pass more normal data "
                f"or change calibration={self.calibration}."
            )
        self._fit(arr[:n_train])
        self._fitted = True
        scores = self._checked_scores(self._score(arr), len(arr))
        self.train_scores_ = scores[:n_train]
        self.calibration_scores_ = scores[n_train:] if n_cal else scores
        self.calibrate()
        return self

    def score(self, X: Any) -> np.ndarray:
        """Anomaly score per row of ``X`` (n_samples, n_features) -> (n_samples,); higher is more anomalous.

        Note: this is PyOD's ``decision_function`` under a shorter name, **not**
        scikit-learn's ``score(X, y)``, which returns one number (a mean accuracy
        or R²) for a labelled set. It takes no labels and returns one score per
        row; evaluate against labels with :mod:`sadlib.metrics`.
        """
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        return self._checked_scores(self._score(arr), len(arr))

    def predict(self, X: Any) -> np.ndarray:
        """Boolean alarm per row, shape ``(n_samples,)``: ``score(X) > threshold_``; False where the score is NaN."""
        return self.score(X) > self.threshold_

    def calibrate(self, normal_scores: Any = None, threshold: Any = None) -> "Detector":
        """Re-choose ``threshold_`` without refitting the model.

        Parameters
        ----------
        normal_scores : array-like (n,), optional
            Scores of *normal* data (e.g. ``det.score(X_val)``); defaults to the
            held-out ``calibration_scores_`` from :meth:`fit`.
        threshold : optional
            A new threshold spec (see the class docstring); defaults to ``self.threshold``.
        """
        self._check_fitted()
        scores = self.calibration_scores_ if normal_scores is None else as_scores(normal_scores, name="normal_scores")
        # NaN is "no score" (the first unscored_rows rows): the threshold is fitted on the others
        self.thresholder_: Threshold = make_threshold(self.threshold if threshold is None else threshold).fit(scores)
        self.threshold_ = float(self.thresholder_.threshold_)
        return self

    def set_threshold(self, value: float) -> "Detector":
        """Use a hand-chosen ``threshold_`` (no refit, no calibration)."""
        self._check_fitted()
        value = check_number("value", value, hint="It is the new threshold on the scores.")
        return self.calibrate(np.asarray([value]), threshold=value)

    def save(self, path: Any):
        """Write the fitted detector to the folder ``path``; :func:`sadlib.detectors.load` reads it back.

        Keras models go into ``.keras`` archives, the rest (scaler, threshold, parameters) into a
        pickle, with a ``manifest.json`` of versions and checksums (:mod:`sadlib.detectors.persistence`).
        Returns the folder as a :class:`pathlib.Path`.
        """
        from .persistence import save

        return save(self, path)

    # -- plumbing ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not getattr(self, "_fitted", False):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X_train) on normal data first."
            )

    def _validate(self, X: Any, *, fitting: bool) -> np.ndarray:
        if isinstance(X, (pd.DataFrame, pd.Series)):
            check_time_index(X, name="X")
        arr = as_2d_float(X, name="X", min_rows=self.min_samples if fitting else 1)
        names = np.asarray([str(c) for c in X.columns], dtype=object) if isinstance(X, pd.DataFrame) else None
        if fitting:
            self.n_features_in_ = arr.shape[1]
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return arr
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {arr.shape[1]} features but the detector was fitted with {self.n_features_in_}; "
                f"pass the same sensor columns as in fit."
            )
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None and not np.array_equal(names, fitted_names):
            raise ValueError(
                f"X has columns {list(names)} but the detector was fitted on {list(fitted_names)}; "
                f"select and order the columns as in fit, e.g. X[det.feature_names_in_]."
            )
        return arr

    def _checked_scores(self, scores: Any, n: int) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        if s.shape != (n,):  # a detector bug, not a user error
            raise RuntimeError(f"{type(self).__name__}._score returned shape {s.shape}, expected ({n},).")
        k = min(int(self.unscored_rows), n)
        if k:
            s = s.copy()
            s[:k] = np.nan  # the rule of the module docstring: rows without a score are NaN
        return s


def rows_before_first_window(window) -> int:
    """``window - 1``: the rows of a scored series before its first full window (NaN, no score); 0 for an
    invalid window, which ``fit`` reports."""
    try:
        return max(int(window) - 1, 0)
    except (TypeError, ValueError):
        return 0
