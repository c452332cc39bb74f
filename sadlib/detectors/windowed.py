"""Shared plumbing for detectors that look at short windows of all sensors at once.

A windowed detector standardises every sensor with a scaler fitted on the
training part only, cuts the series into overlapping windows of ``window``
samples (stride 1) and flattens each into one feature vector::

    X (n_samples, n_features) -> windows (n_windows, window, n_features)
                              -> features (n_windows, window * n_features)

with ``n_windows = n_samples - window + 1``. A model scores each window (one
score per window) and :func:`sadlib.windows.windows_to_points` maps the scores
back to one per sample. Subclasses implement :meth:`WindowedDetector._fit_windows`
and :meth:`WindowedDetector._score_windows` on the flattened features.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.preprocessing import StandardScaler

from ..validation import check_choice, check_int, check_min_length, check_not_constant
from ..windows import sliding_windows, windows_to_points
from .base import DEFAULT_THRESHOLD, Detector, rows_before_first_window

__all__ = ["WindowedDetector", "window_features"]

_HOW = ("last", "max", "mean")


def window_features(X: np.ndarray, window: int) -> np.ndarray:
    """Flattened sliding windows (stride 1) of a series.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), already scaled
    window : int >= 1; ``1`` gives one row per sample (point-wise)

    Returns
    -------
    features : ndarray of shape (n_samples - window + 1, window * n_features)
        Row ``i`` holds samples ``i .. i + window - 1``, time-major (all sensors
        of the oldest sample first).

    Raises
    ------
    ValueError
        if ``X`` has fewer than ``window`` samples.
    """
    check_min_length(len(X), window)
    w = sliding_windows(X, window, stride=1)  # (n_windows, window, n_features)
    return w.reshape(len(w), -1)


class WindowedDetector(Detector):
    """Base class of the window-based detectors (isolation forest, one-class SVM, ...).

    Parameters
    ----------
    window : int >= 1
        Samples per window; ``1`` scores each timestamp on its own.
    aggregate : {"last", "max", "mean"}
        How window scores become per-sample scores (see
        :func:`sadlib.windows.windows_to_points`). ``"last"`` (default) gives each
        sample the score of the window that *ends* there, i.e. only the present
        and the past: causal, as a streaming detector must be. ``"max"`` and
        ``"mean"`` also use windows that reach into the future.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    scaler_ : sklearn StandardScaler fitted on the training part (not the
        calibration tail); constant training columns are rejected.

    Notes
    -----
    ``min_samples`` (the fewest rows :meth:`fit` accepts) is ``window + 1``, so the
    model sees at least two windows. :meth:`score` needs at least ``window``
    rows; the first ``window - 1`` samples of a scored series have no window of their
    own and get NaN, "no score", under every ``aggregate`` (:attr:`unscored_rows`; the rule
    of :mod:`sadlib.detectors.base`).
    """

    def __init__(
        self,
        window: int = 10,
        *,
        aggregate: Literal["last", "max", "mean"] = "last",
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.aggregate = aggregate

    @property
    def min_samples(self) -> int:  # type: ignore[override]
        """``window + 1`` for a valid window (at least two training windows), else 2."""
        w = self.window
        return int(w) + 1 if isinstance(w, (int, np.integer)) and not isinstance(w, bool) and w >= 1 else 2

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """The first ``window - 1`` rows of a scored series have no window of their own: NaN (no score)."""
        return rows_before_first_window(self.window)

    # -- to implement -----------------------------------------------------------------
    def _fit_windows(self, F: np.ndarray) -> None:  # pragma: no cover - abstract
        """Fit the model on training windows ``F`` of shape (n_windows, window * n_features)."""
        raise NotImplementedError

    def _score_windows(self, F: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """One score per window, shape (n_windows,), higher = more anomalous."""
        raise NotImplementedError

    # -- Detector hooks ---------------------------------------------------------------
    def _check_params(self) -> None:
        """Check ``window`` and ``aggregate``; subclasses extend it (calling ``super()``) for their own."""
        check_int("window", self.window, 1, hint="It is the number of samples per window; 1 scores each on its own.")
        check_choice("aggregate", self.aggregate, _HOW)

    def _fit(self, X: np.ndarray) -> None:
        check_not_constant(X, columns=getattr(self, "feature_names_in_", None), name="X (training part)")
        self.scaler_ = StandardScaler().fit(X)
        self._fit_windows(window_features(self.scaler_.transform(X), int(self.window)))

    def _score(self, X: np.ndarray) -> np.ndarray:
        w = int(self.window)
        check_min_length(len(X), w)
        s = self._score_windows(window_features(self.scaler_.transform(X), w))
        return windows_to_points(s, len(X), w, how=self.aggregate)

