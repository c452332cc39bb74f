"""Rolling z-score: the first baseline of the course.

For each sensor, how many standard deviations is the new value away from the
recent past? The anomaly score of a timestamp is the largest absolute z over the
sensors (``aggregate="max"``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ..validation import check_bool, check_choice, check_int, check_not_constant, check_number
from .base import DEFAULT_THRESHOLD, SENSOR_AGGREGATES, Detector, combine_sensors

_WINDOW_HINT = "It is the number of past samples of the rolling statistics; None uses the training mean and std."
_MIN_SCALE_HINT = "The rolling std is floored at min_scale times the training std."


class RollingZScore(Detector):
    """Z-score of each value against a rolling window of the past.

    Parameters
    ----------
    window : int or None
        Number of past samples for the rolling mean and std. ``None`` uses the
        global mean and std of the training data (a static z-score).
    center : bool
        ``False`` (default) uses only samples *before* t, as a streaming detector
        must. ``True`` centres the window on t, so it also uses t and future
        samples: possible offline, impossible in production (notebook 03 shows
        how much it flatters the results).
    min_scale : float
        The rolling std is floored at ``min_scale`` × the training std, so a
        quiet stretch (or a stuck sensor) does not turn tiny changes into huge z.
    aggregate : {"max", "mean", "l2"}
        How per-sensor ``|z|`` are combined into one score per timestamp.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    mean_, scale_ : ndarray (n_features,), training mean and std (also used for the
        first ``window`` samples of a series, before the rolling window has filled).
    """

    def __init__(
        self,
        window: int | None = 60,
        *,
        center: bool = False,
        min_scale: float = 0.1,
        aggregate: Literal["max", "mean", "l2"] = "max",
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.center = center
        self.min_scale = min_scale
        self.aggregate = aggregate

    def _check_params(self) -> None:
        if self.window is not None:
            check_int("window", self.window, 2, hint=_WINDOW_HINT)
        check_bool("center", self.center)
        check_number("min_scale", self.min_scale, 0, low_open=True, hint=_MIN_SCALE_HINT)
        check_choice("aggregate", self.aggregate, SENSOR_AGGREGATES)

    def _fit(self, X: np.ndarray) -> None:
        check_not_constant(X, columns=getattr(self, "feature_names_in_", None), name="X (training part)")
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)

    def _score(self, X: np.ndarray) -> np.ndarray:
        if self.window is None:
            mu, sd = self.mean_, self.scale_
        else:
            roll = pd.DataFrame(X).rolling(self.window, min_periods=self.window, center=self.center)
            mu, sd = roll.mean(), roll.std()
            if not self.center:  # statistics of the window that ends just before t
                mu, sd = mu.shift(1), sd.shift(1)
            mu = mu.fillna(pd.Series(self.mean_)).to_numpy()
            sd = sd.fillna(pd.Series(self.scale_)).to_numpy()
        sd = np.maximum(sd, self.min_scale * self.scale_)
        return combine_sensors(np.abs(X - mu) / sd, self.aggregate)
