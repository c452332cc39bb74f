"""EWMA control chart: the statistical process control classic for small, persistent shifts.

An exponentially weighted moving average (Roberts, 1959) of the standardised
values forgets the past slowly, so a small shift that a single-sample z-score
cannot tell from noise adds up over many samples until it crosses the limit
(Montgomery, *Introduction to Statistical Quality Control*, ch. 9).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import lfilter

from ..validation import check_not_constant, check_number
from .base import DEFAULT_THRESHOLD, Detector


class EWMAChart(Detector):
    """One EWMA control chart per sensor; the score is the largest standardised EWMA.

    Each sensor is standardised with the training mean and std,
    ``u_t = (x_t - mean) / std``, and smoothed with

    ``z_t = lam * u_t + (1 - lam) * z_{t-1}``,  ``z_{-1} = 0`` (the training mean).

    The score of timestamp ``t`` is ``max_j |z_tj| / sqrt(lam / (2 - lam))``: the
    EWMA in units of its asymptotic std under in-control, independent data. A
    classic chart with control limits ``mean ± L·sigma_z`` (``L ≈ 3``) therefore
    raises an alarm exactly when this score exceeds ``L``: pass ``threshold=3.0``
    (or call ``set_threshold(3.0)``) for the textbook chart. The default threshold,
    like every sadlib detector, is instead calibrated on held-out normal scores,
    which also absorbs autocorrelation (real sensor data usually has it; it makes
    the EWMA vary more than the independent-data formula says).

    ``score(X)``: ``X`` of shape (n_samples, n_features) -> (n_samples,), >= 0.

    Parameters
    ----------
    lam : float in (0, 1]
        Smoothing weight of the newest sample (lambda in the literature). Small
        values (0.05-0.2) detect small persistent shifts; ``lam=1`` is the
        Shewhart chart, i.e. the static z-score. Default 0.1.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    mean_, scale_ : ndarray (n_features,), training mean and std per sensor
    sigma_factor_ : float, ``sqrt(lam / (2 - lam))``, the asymptotic std of the
        EWMA of standardised independent data

    Notes
    -----
    Every call to :meth:`score` starts the chart afresh at the training mean
    (``z = 0``), as if the process had been in control just before the series;
    the recursion is vectorised with :func:`scipy.signal.lfilter`. For a step of
    ``delta`` training stds the score settles at ``delta / sqrt(lam / (2 - lam))``
    (e.g. 4.36·delta for ``lam=0.1``). The exact std in the first samples,
    ``sigma_factor_ * sqrt(1 - (1 - lam)^(2(t+1)))``, is smaller; using the
    asymptotic one makes the chart slightly less sensitive at the very start.
    """

    def __init__(
        self,
        lam: float = 0.1,
        *,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.lam = lam

    def _check_params(self) -> None:
        check_number("lam", self.lam, 0, 1, low_open=True,
                     hint="It is the weight of the newest sample; small values remember longer, 1 is a Shewhart chart.")

    def _fit(self, X: np.ndarray) -> None:
        lam = float(self.lam)
        check_not_constant(X, columns=getattr(self, "feature_names_in_", None), name="X (training part)")
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        self.sigma_factor_ = float(np.sqrt(lam / (2.0 - lam)))

    def _score(self, X: np.ndarray) -> np.ndarray:
        lam = float(self.lam)
        u = (X - self.mean_) / self.scale_
        z = lfilter([lam], [1.0, lam - 1.0], u, axis=0)  # zero initial state: z_{-1} = 0
        return np.abs(z).max(axis=1) / self.sigma_factor_
