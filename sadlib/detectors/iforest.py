"""Isolation forest on short multivariate windows.

An isolation forest (Liu, Ting and Zhou, 2008) grows random trees that split on a
random feature at a random value. Unusual points are isolated after few splits,
so a short average path length means "anomalous". Here each point is a window of
all sensors (see :mod:`.windowed`), so the forest also sees short temporal
patterns and relations between sensors, not only single values.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
from sklearn.ensemble import IsolationForest

from ..validation import InvalidParameterError, check_int, check_number
from .base import DEFAULT_THRESHOLD
from .windowed import WindowedDetector


class IsolationForestDetector(WindowedDetector):
    """scikit-learn's ``IsolationForest`` on standardised, flattened windows.

    ``score(X)`` for ``X`` of shape (n_samples, n_features) returns shape
    (n_samples,): ``-IsolationForest.score_samples`` of the window ending at each
    sample (with ``aggregate="last"``), higher = more anomalous (about 0.35-0.5 for
    normal windows, towards 1 for easily isolated ones).

    Parameters
    ----------
    window : int >= 1
        Samples per window (stride 1), flattened to ``window * n_features``
        features; ``1`` is a point-wise forest.
    aggregate : {"last", "max", "mean"}
        Window scores -> sample scores; ``"last"`` (default) is causal, see
        :class:`~sadlib.detectors.windowed.WindowedDetector`.
    n_estimators : int >= 1
        Number of trees.
    max_samples : "auto", int >= 1 or float in (0, 1]
        Windows drawn to grow each tree (``"auto"``: ``min(256, n_windows)``).
    random_state : int or None
        Seed of the forest; the same seed gives identical scores.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Notes
    -----
    There is deliberately no ``contamination`` parameter. In scikit-learn it only
    moves an offset so that that fraction of the *training* data is flagged; it
    does not change the scores. sadlib instead calibrates ``threshold_`` on the
    scores of held-out normal data (the ``calibration`` tail of the fitting data)
    and lets you change it later with :meth:`calibrate` or :meth:`set_threshold`.

    The score saturates outside the training range: a tree splits a node between the
    smallest and largest training value it holds, so a window beyond that range ends in
    the leaf of the most extreme training windows and scores no higher than they do,
    however far out it is. When normal calibration data already reaches that ceiling
    (a slow trend, a new operating point), a percentile threshold sits on it and nothing
    can be flagged; features without the trend (e.g. the changes ``x_t - x_(t-1)``) help.
    Notebook 03 shows the case.

    Fitted attributes
    -----------------
    scaler_ : StandardScaler fitted on the training part
    model_ : the fitted ``IsolationForest``
    """

    def __init__(
        self,
        window: int = 10,
        *,
        aggregate: Literal["last", "max", "mean"] = "last",
        n_estimators: int = 100,
        max_samples: Any = "auto",
        random_state: int | None = 0,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(window, aggregate=aggregate, threshold=threshold, calibration=calibration)
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    def _check_params(self) -> None:
        super()._check_params()
        check_int("n_estimators", self.n_estimators, 1, hint="It is the number of trees.")
        m = self.max_samples
        hint = "It is the number of windows each tree is grown on, a fraction of them, or 'auto' (256 at most)."
        if isinstance(m, bool) or not isinstance(m, Real):
            if m != "auto":
                raise InvalidParameterError(
                    f"max_samples must be 'auto', an integer >= 1 or a fraction in (0, 1], got {m!r}. {hint}")
        elif isinstance(m, Integral):
            check_int("max_samples", m, 1, hint=hint)
        else:
            check_number("max_samples", m, 0, 1, low_open=True, hint=hint)

    def _fit_windows(self, F: np.ndarray) -> None:
        max_samples = self.max_samples
        if isinstance(max_samples, (int, np.integer)):
            max_samples = min(int(max_samples), len(F))  # avoid sklearn's warning on short series
        self.model_ = IsolationForest(
            n_estimators=int(self.n_estimators), max_samples=max_samples, random_state=self.random_state
        ).fit(F)

    def _score_windows(self, F: np.ndarray) -> np.ndarray:
        return -self.model_.score_samples(F)
