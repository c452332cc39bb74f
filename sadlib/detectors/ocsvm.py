"""One-class SVM on short multivariate windows.

A one-class SVM (Schölkopf et al., 2001) draws a smooth boundary, in an RBF
kernel space, around the bulk of the training windows; the signed distance to
that boundary is the anomaly score. Windowing and scaling are shared with the
isolation forest (see :mod:`.windowed`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.svm import OneClassSVM

from ..validation import check_choice, check_int, check_number
from .base import DEFAULT_THRESHOLD
from .windowed import WindowedDetector


class OneClassSVMDetector(WindowedDetector):
    """scikit-learn's RBF ``OneClassSVM`` on standardised, flattened windows.

    ``score(X)`` for ``X`` of shape (n_samples, n_features) returns shape
    (n_samples,): ``-OneClassSVM.decision_function`` of the window ending at each
    sample (with ``aggregate="last"``); positive means outside the learned
    boundary, higher = more anomalous.

    Parameters
    ----------
    window : int >= 1
        Samples per window (stride 1), flattened to ``window * n_features``
        features; ``1`` is point-wise.
    aggregate : {"last", "max", "mean"}
        Window scores -> sample scores; ``"last"`` (default) is causal, see
        :class:`~sadlib.detectors.windowed.WindowedDetector`.
    nu : float in (0, 1]
        Upper bound on the fraction of training windows left outside the
        boundary (and lower bound on the fraction of support vectors). It shapes
        the boundary; the alarm threshold is still calibrated on held-out data.
    gamma : "scale", "auto" or float > 0
        RBF kernel width; ``"scale"`` = ``1 / (n_features * X.var())`` of the
        windows, a sensible default after standardisation.
    max_train : int >= 2
        At most this many training windows are used, evenly spaced over the
        training part (deterministic). Fitting a kernel SVM costs between
        O(n^2) and O(n^3), so this keeps ``fit`` fast on long series.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    scaler_ : StandardScaler fitted on the training part
    model_ : the fitted ``OneClassSVM``
    n_train_windows_ : int, number of windows the SVM was fitted on

    Notes
    -----
    There is no randomness: the same data and parameters give identical scores.
    """

    def __init__(
        self,
        window: int = 10,
        *,
        aggregate: Literal["last", "max", "mean"] = "last",
        nu: float = 0.05,
        gamma: Any = "scale",
        max_train: int = 2000,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(window, aggregate=aggregate, threshold=threshold, calibration=calibration)
        self.nu = nu
        self.gamma = gamma
        self.max_train = max_train

    def _check_params(self) -> None:
        super()._check_params()
        check_number("nu", self.nu, 0, 1, low_open=True,
                     hint="It bounds the share of training windows outside the boundary.")
        if isinstance(self.gamma, str):
            check_choice("gamma", self.gamma, ("scale", "auto"))
        else:
            check_number("gamma", self.gamma, 0, low_open=True,
                         hint="Pass 'scale', 'auto' or a positive RBF kernel width.")
        check_int("max_train", self.max_train, 2, hint="It is the most training windows the SVM is fitted on.")

    def _fit_windows(self, F: np.ndarray) -> None:
        if len(F) > self.max_train:  # evenly spaced, first and last window included
            F = F[np.linspace(0, len(F) - 1, int(self.max_train)).round().astype(int)]
        self.n_train_windows_ = len(F)
        self.model_ = OneClassSVM(kernel="rbf", nu=float(self.nu), gamma=self.gamma).fit(F)

    def _score_windows(self, F: np.ndarray) -> np.ndarray:
        return -self.model_.decision_function(F)
