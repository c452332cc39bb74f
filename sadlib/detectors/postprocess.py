"""Detectors built from other detectors: causal score smoothing and score ensembles.

Both are *meta-detectors* in the scikit-learn sense: they take unfitted detectors
as parameters and fit clones of them, so they can be cloned, benchmarked and
registered like any other detector::

    from sadlib.detectors import RobustZScore
    from sadlib.detectors.postprocess import Smoothed, Ensemble

    det = Smoothed(RobustZScore(window=None), window=10, statistic="mean", threshold="max")
    det.fit(X_train).predict(X_test)

Industrial anomalies (a leaking valve, a cavitating pump) are *states* that last
seconds to minutes. Averaging the score over the last few seconds, or demanding
that it stay high for several samples (``statistic="min"``), removes isolated
spikes and hardly delays a lasting state. It does not help against false alarms
that are themselves lasting, such as a slow drift of the normal level: smoothing
also lowers the calibrated threshold, so on SKAB it *raises* the false alarm rate
(see :mod:`.preprocess` for what helps there: averaging the sensors, not the
scores, and handling slow sensors apart).
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..validation import InvalidParameterError, check_choice, check_int
from .base import DEFAULT_THRESHOLD, Detector
from .pca import PCADetector
from .robust_z import RobustZScore

__all__ = ["Smoothed", "Ensemble", "rolling_past", "with_names",
           "default_detector", "resolve_detector", "SMOOTHING_STATISTICS", "ENSEMBLE_COMBINE"]

#: statistics of the past ``window`` scores that :class:`Smoothed` can use
SMOOTHING_STATISTICS = ("mean", "median", "min", "max")
#: ways :class:`Ensemble` combines the normalised member scores
ENSEMBLE_COMBINE = ("mean", "max", "median")


def default_detector() -> Detector:
    """What a meta-detector wraps when given ``detector=None``: a static robust z-score fitted
    on the whole training part, ``RobustZScore(window=None, calibration=0)``."""
    return RobustZScore(window=None, calibration=0)


def resolve_detector(det: Any, name: str = "detector") -> Detector:
    """An unfitted clone of ``det`` (or of :func:`default_detector` for ``None``).

    Raises :class:`~sadlib.validation.InvalidParameterError` (a TypeError) otherwise.
    """
    if det is None:
        return default_detector()
    if not isinstance(det, Detector):
        raise InvalidParameterError(f"{name} must be an unfitted sadlib Detector, e.g. RobustZScore(window=None), "
                                    f"or None; got {type(det).__name__}.")
    return clone(det)


def inner_unscored_rows(det: Any) -> int:
    """``unscored_rows`` of a wrapped detector (0 while the wrapped one is invalid; fit reports that)."""
    return int(det.unscored_rows) if isinstance(det, Detector) else 0


def with_names(det: Detector, X: np.ndarray) -> Any:
    """``X`` as a DataFrame with ``det``'s fitted column names, if it has any, else unchanged.

    Meta-detectors pass data on to their members this way, so members can refer to
    columns by name and check them.
    """
    names = getattr(det, "feature_names_in_", None)
    return X if names is None else pd.DataFrame(X, columns=list(names))


_WINDOW_HINT = "It is the number of samples smoothed over, the present one included; 1 = no smoothing."


def rolling_past(scores: np.ndarray, window: int, statistic: str = "mean") -> np.ndarray:
    """Causal rolling statistic of a score series, shape ``(n,)`` -> ``(n,)``.

    Entry ``t`` summarises ``scores[max(0, t - window + 1) : t + 1]``: the present and
    the ``window - 1`` samples before it, never the future. The first ``window - 1``
    entries use the samples available so far.

    ``statistic="min"`` is the *minimum-duration* rule: ``rolling_past(s, k, "min") > thr``
    exactly when the last ``k`` scores all exceeded ``thr``.
    """
    check_choice("statistic", statistic, SMOOTHING_STATISTICS)
    w = check_int("window", window, 1, hint=_WINDOW_HINT)
    s = np.asarray(scores, dtype=np.float64)
    if w == 1:
        return s.copy()
    roll = pd.Series(s).rolling(w, min_periods=1)
    return getattr(roll, statistic)().to_numpy()


class Smoothed(Detector):
    """Smooth the scores of another detector over the recent past, then threshold them.

    ``score(X)[t] = statistic(inner.score(X)[t - window + 1 .. t])``: causal, so it
    can run online. The threshold is calibrated, as for every detector, on the
    *smoothed* scores of the held-out tail of the fitting data.

    Parameters
    ----------
    detector : Detector (unfitted) or None
        The detector whose scores are smoothed; :meth:`fit` fits a clone of it on the
        training part (the head of the fitting data). Its own threshold is not used.
        It still keeps its own ``calibration`` fraction of that head apart from its
        model; pass ``calibration=0`` to it to fit its model on the whole head.
        ``None``: :func:`default_detector`.
    window : int >= 1
        Number of samples smoothed over (the present one included); at SKAB's one
        sample per second, ``window=10`` is 10 s. ``1`` leaves the scores as they are.
    statistic : {"mean", "median", "min", "max"}
        ``"mean"`` / ``"median"``: a moving average / median of the scores;
        ``"min"``: an alarm only after ``window`` consecutive exceedances (minimum
        duration); ``"max"``: holds every peak for ``window`` samples.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    detector_ : the fitted clone of ``detector``
    plus those of :class:`~sadlib.detectors.base.Detector`.

    Notes
    -----
    Each call to :meth:`score` smooths that series on its own: the first
    ``window - 1`` scores of a new series average fewer samples. Rows the wrapped
    detector does not score (NaN) stay NaN and are left out of the average.
    """

    def __init__(
        self,
        detector: Detector | None = None,
        window: int = 10,
        *,
        statistic: Literal["mean", "median", "min", "max"] = "mean",
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.detector = detector
        self.window = window
        self.statistic = statistic

    @property
    def min_samples(self) -> int:  # type: ignore[override]
        """As many rows as the wrapped detector needs."""
        return max(2, int(getattr(self.detector, "min_samples", 2)))

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """Those of the wrapped detector."""
        return inner_unscored_rows(getattr(self, "detector_", self.detector))

    def _check_params(self) -> None:
        resolve_detector(self.detector)
        check_int("window", self.window, 1, hint=_WINDOW_HINT)
        check_choice("statistic", self.statistic, SMOOTHING_STATISTICS)

    def _fit(self, X: np.ndarray) -> None:
        self.detector_ = resolve_detector(self.detector).fit(with_names(self, X))

    def _score(self, X: np.ndarray) -> np.ndarray:
        return rolling_past(self.detector_.score(with_names(self, X)), int(self.window), self.statistic)


class Ensemble(Detector):
    """Average (or max) of several detectors' scores, each in units of its own normal spread.

    Scores of different detectors live on different scales (a z-score, an SVM
    distance, a reconstruction error). Each member's score is therefore turned into
    a robust z against that member's *held-out normal* scores (its
    ``calibration_scores_``)::

        u_m(t) = (s_m(t) - median_m) / (1.4826 * MAD_m)

    and the ensemble score is the ``combine`` (mean, max or median) of the ``u_m``.

    Parameters
    ----------
    detectors : sequence of unfitted Detector, or None
        The members; :meth:`fit` fits a clone of each on the training part (the head
        of the fitting data). Their thresholds are not used; their ``calibration``
        tails give the normal scores that set the normalisation (with
        ``calibration=0`` a member is normalised by its own training scores).
        ``None``: a static robust z-score and a PCA T²/Q detector (both with
        ``calibration=0.2``).
    combine : {"mean", "max", "median"}
        How the normalised member scores are combined per timestamp.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    detectors_ : list of the fitted members
    centers_, scales_ : ndarray (n_members,), median and ``1.4826 * MAD`` of each
        member's normal scores (the MAD is floored at 1e-12 times the largest
        absolute normal score, and at 1e-12, so a constant member does not divide by 0)
    """

    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        *,
        combine: Literal["mean", "max", "median"] = "mean",
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.detectors = detectors
        self.combine = combine

    def _members(self) -> list[Detector]:
        members = self.detectors
        if members is None:
            return [RobustZScore(window=None), PCADetector()]
        if isinstance(members, Detector) or not isinstance(members, (list, tuple)) or not members:
            raise InvalidParameterError("detectors must be a non-empty list of unfitted detectors, "
                                        "e.g. [RobustZScore(window=None), PCADetector()], or None.")
        return [resolve_detector(d, f"detectors[{i}]") for i, d in enumerate(members)]

    @property
    def min_samples(self) -> int:  # type: ignore[override]
        """As many rows as the most demanding member needs."""
        try:
            return max([2] + [int(getattr(d, "min_samples", 2)) for d in self._members()])
        except (TypeError, ValueError):  # bad members: reported by _fit
            return 2

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """The most of any member: a row has an ensemble score once every member scores it."""
        members = getattr(self, "detectors_", None)
        if members is None:
            try:
                members = self._members()
            except (TypeError, ValueError):  # bad members: reported by fit
                return 0
        return max(inner_unscored_rows(d) for d in members)

    def _check_params(self) -> None:
        self._members()
        check_choice("combine", self.combine, ENSEMBLE_COMBINE)

    def _fit(self, X: np.ndarray) -> None:
        self.detectors_ = [d.fit(with_names(self, X)) for d in self._members()]
        # a member fitted with calibration=0 has NaN (no score) among them: left out
        normal = [d.calibration_scores_[~np.isnan(d.calibration_scores_)] for d in self.detectors_]
        self.centers_ = np.array([np.median(s) for s in normal])
        mad = np.array([1.4826 * np.median(np.abs(s - c)) for s, c in zip(normal, self.centers_)])
        floor = np.maximum(1e-12, 1e-12 * np.array([np.abs(s).max() for s in normal]))
        self.scales_ = np.maximum(mad, floor)

    def member_scores(self, X: Any) -> np.ndarray:
        """Normalised scores of every member, shape ``(n_samples, n_members)``."""
        self._check_fitted()
        return self._normalised(self._validate(X, fitting=False))

    def _normalised(self, X: np.ndarray) -> np.ndarray:
        S = np.column_stack([d.score(with_names(self, X)) for d in self.detectors_])
        return (S - self.centers_) / self.scales_

    def _score(self, X: np.ndarray) -> np.ndarray:
        return getattr(np, self.combine)(self._normalised(X), axis=1)
