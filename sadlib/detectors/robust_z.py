"""Robust z-score: the z-score with median and MAD instead of mean and std.

A few outliers in the reference data pull the mean and inflate the std, which
hides the very anomalies the z-score should flag. The median and the median
absolute deviation (MAD) hardly move: up to half of the data can be outliers
before they break down. ``1.4826 * MAD`` estimates the std of Gaussian data, so
scores are on the same scale as the ordinary z-score.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..validation import check_choice, check_int, check_not_constant, check_number
from .base import DEFAULT_THRESHOLD, SENSOR_AGGREGATES, Detector, combine_sensors

#: 1 / Phi^-1(3/4): makes the MAD a consistent estimator of the std for Gaussian data
MAD_TO_STD = 1.4826
#: sqrt(pi / 2): the same for the mean absolute deviation (the fallback scale)
MEAN_AD_TO_STD = float(np.sqrt(np.pi / 2))


def _mad(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    med = np.median(x, axis=axis)
    return med, np.median(np.abs(x - np.expand_dims(med, axis)), axis=axis)


class RobustZScore(Detector):
    """Robust z of each value against the median and MAD of a past window.

    For sensor ``j`` at time ``t``: ``z = |x_tj - median| / (1.4826 * MAD)``, where
    median and MAD are taken over the ``window`` samples *before* t (never t
    itself or the future). The score of a timestamp is the largest ``|z|`` over
    the sensors (``aggregate="max"``).

    Parameters
    ----------
    window : int >= 2 or None
        Number of past samples for the rolling median and MAD. ``None`` uses the
        median and MAD of the training data (a static robust z-score). The first
        ``window`` samples of a scored series, before the window has filled, also
        use the training values.
    min_scale : float > 0
        The rolling scale is floored at ``min_scale`` × the training scale, so a
        quiet stretch (or a quantised or stuck sensor, whose MAD is often 0) does
        not turn tiny changes into huge z.
    aggregate : {"max", "mean", "l2"}
        How per-sensor ``|z|`` are combined into one score per timestamp.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    median_ : ndarray (n_features,), training median per sensor
    scale_ : ndarray (n_features,), training ``1.4826 * MAD`` per sensor; where the
        MAD is 0 but the column does vary (a sensor that sits on one value more
        than half of the time), ``sqrt(pi/2) * mean(|x - median|)`` is used
        instead, the mean absolute deviation scaled to estimate the std of
        Gaussian data. Columns with no spread at all raise a ``ValueError``.
    mad_fallback_ : ndarray of bool (n_features,), True where that fallback was used

    Notes
    -----
    Cost: the rolling median and MAD sort each window, ``O(n * window * n_features)``
    memory for the windows, about 4 MB for 1000 rows × 8 sensors × 60.
    """

    def __init__(
        self,
        window: int | None = 60,
        *,
        min_scale: float = 0.1,
        aggregate: Literal["max", "mean", "l2"] = "max",
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.min_scale = min_scale
        self.aggregate = aggregate

    def _check_params(self) -> None:
        if self.window is not None:
            check_int("window", self.window, 2,
                      hint="It is the number of past samples of the rolling median and MAD; None: the training ones.")
        check_number("min_scale", self.min_scale, 0, low_open=True,
                     hint="The rolling scale is floored at min_scale times the training scale.")
        check_choice("aggregate", self.aggregate, SENSOR_AGGREGATES)

    def _fit(self, X: np.ndarray) -> None:
        check_not_constant(X, columns=getattr(self, "feature_names_in_", None), name="X (training part)")
        self.median_, mad = _mad(X, axis=0)
        self.mad_fallback_ = mad == 0
        fallback = MEAN_AD_TO_STD * np.mean(np.abs(X - self.median_), axis=0)
        self.scale_ = np.where(self.mad_fallback_, fallback, MAD_TO_STD * mad)

    def _score(self, X: np.ndarray) -> np.ndarray:
        n = len(X)
        if self.window is None or n <= self.window:
            med = np.broadcast_to(self.median_, X.shape)
            scale = np.broadcast_to(self.scale_, X.shape)
        else:
            w = int(self.window)
            # windows ending just before t = w .. n-1: samples t-w .. t-1
            view = np.lib.stride_tricks.sliding_window_view(X[:-1], w, axis=0)  # (n - w, f, w)
            roll_med, roll_mad = _mad(view, axis=-1)
            med = np.vstack([np.broadcast_to(self.median_, (w, X.shape[1])), roll_med])
            scale = np.vstack([np.broadcast_to(self.scale_, (w, X.shape[1])), MAD_TO_STD * roll_mad])
        scale = np.maximum(scale, self.min_scale * self.scale_)
        return combine_sensors(np.abs(X - med) / scale, self.aggregate)
