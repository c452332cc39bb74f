"""Meta-detectors that transform the sensor columns before another detector sees them.

* :class:`MovingAverage` averages every sensor over its last ``window`` samples.
  Noise shrinks (by ``sqrt(window)`` for independent noise) while a lasting shift
  keeps its size, so a small persistent shift, invisible sample by sample, stands
  out. The wrapped detector is fitted on smoothed training data, so its scale
  estimates are those of the smoothed signal.
* :class:`SlowSensors` deals with slow, drifting sensors (temperatures): within
  minutes their level wanders further than the training period shows, and after a
  disturbance they keep an offset long after the process is back to normal. Their
  *change over the last* ``lag`` *samples* is stationary (differencing, the "I" of
  ARIMA); or they can be left out. Which sensors are slow is given by name or
  position, or found from the training data (high lag-1 autocorrelation).

Both are causal (row ``t`` uses rows ``<= t`` only) and compose. The SKAB recipe
(see :func:`moving_average_z`)::

    from sadlib.detectors import RobustZScore
    from sadlib.detectors.preprocess import MovingAverage, SlowSensors
    from sadlib.thresholds import PercentileThreshold

    det = SlowSensors(
        MovingAverage(RobustZScore(window=None, calibration=0), window=10, calibration=0),
        columns=["Temperature", "Thermocouple"], how="drop",
        threshold=PercentileThreshold(99, margin=1.5))

Put :class:`SlowSensors` *outside* :class:`MovingAverage` when it finds the slow
sensors itself (``columns="auto"``): a moving average makes every sensor look slow.

Like every meta-detector here, each calibrates its own ``threshold_`` on its own
held-out tail; the wrapped detector's threshold is not used. Pass ``calibration=0``
to the wrapped detectors so their models are fitted on the whole training part.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from ..validation import InvalidParameterError, check_choice, check_int, check_number
from .base import DEFAULT_THRESHOLD, Detector
from .postprocess import inner_unscored_rows, resolve_detector, with_names

__all__ = ["MovingAverage", "SlowSensors", "moving_average_z", "moving_average", "lagged_difference", "autocorrelation"]

#: what :class:`SlowSensors` does with the slow columns
SLOW_HANDLING = ("difference", "drop")


_WINDOW_HINT = "It is the number of samples averaged, the present one included; 1 leaves the data unchanged."
_LAG_HINT = "It is the number of samples between the two values of a difference."


def moving_average(X: np.ndarray, window: int) -> np.ndarray:
    """Causal moving average of every column: row ``t`` is the mean of rows ``max(0, t - window + 1) .. t``.

    Same shape as ``X`` (n_samples, n_features); the first ``window - 1`` rows average
    the rows available so far.
    """
    w = check_int("window", window, 1, hint=_WINDOW_HINT)
    X = np.asarray(X, dtype=np.float64)
    return X.copy() if w == 1 else pd.DataFrame(X).rolling(w, min_periods=1).mean().to_numpy()


def lagged_difference(X: np.ndarray, lag: int) -> np.ndarray:
    """Causal differences ``X[t] - X[max(0, t - lag)]``, same shape as ``X``.

    The first ``lag`` rows of a series have no row ``lag`` steps back; they are
    differenced with the first row instead (row 0 becomes 0).
    """
    lag = check_int("lag", lag, 1, hint=_LAG_HINT)
    X = np.asarray(X, dtype=np.float64)
    return X - X[np.maximum(np.arange(len(X)) - lag, 0)]


def autocorrelation(X: np.ndarray, lag: int = 1) -> np.ndarray:
    """Sample autocorrelation at ``lag`` of every column of ``X`` (n_samples, n_features) -> (n_features,).

    A constant column gets 0; ``lag`` must be smaller than the number of rows.
    """
    lag = check_int("lag", lag, 1, hint="It is the lag of the autocorrelation, in samples.")
    X = np.asarray(X, dtype=np.float64)
    if lag >= len(X):
        raise ValueError(f"lag={lag} must be between 1 and the number of rows - 1 = {len(X) - 1}.")
    d = X - X.mean(axis=0)
    den = (d**2).sum(axis=0)
    num = (d[lag:] * d[:-lag]).sum(axis=0)
    return np.divide(num, den, out=np.zeros_like(den), where=den > 0)


class _Transformed(Detector):
    """Plumbing: fit a clone of ``detector`` on ``self._transform(X)`` and score through it."""

    detector: Detector | None

    @property
    def min_samples(self) -> int:  # type: ignore[override]
        """As many rows as the wrapped detector needs."""
        return max(2, int(getattr(self.detector, "min_samples", 2)))

    def _check_params(self) -> None:
        """Check ``detector``; subclasses extend it (calling ``super()``) for their own parameters."""
        resolve_detector(self.detector)

    def _setup(self, X: np.ndarray) -> None:
        """Learn what the transform needs from the training part (nothing by default)."""

    def _transform(self, X: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit(self, X: np.ndarray) -> None:
        inner = resolve_detector(self.detector)
        self._setup(X)
        self.detector_ = inner.fit(self._transform(X))

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self.detector_.score(self._transform(X))

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """Those of the wrapped detector."""
        return inner_unscored_rows(getattr(self, "detector_", self.detector))


class MovingAverage(_Transformed):
    """Run a detector on the causal moving average of every sensor.

    ``X[t] -> mean(X[t - window + 1 .. t])`` column by column (see :func:`moving_average`),
    then ``detector`` scores the result. Unlike
    :class:`~sadlib.detectors.postprocess.Smoothed`, which averages the *scores*,
    this averages the *signed sensor values*, so noise cancels out while a shift
    in one direction adds up: a moving-average control chart when the wrapped
    detector is a static z-score.

    Parameters
    ----------
    detector : Detector (unfitted) or None
        Scores the smoothed data; :meth:`fit` fits a clone of it on the smoothed
        training part, so e.g. a z-score's scale is that of the smoothed signal.
        ``None``: ``RobustZScore(window=None, calibration=0)``.
    window : int >= 1
        Samples averaged (the present one included); at one sample per second,
        ``window=10`` is 10 s. ``1`` passes the data on unchanged.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    detector_ : the fitted clone of ``detector``

    Notes
    -----
    Each call to :meth:`score` smooths that series on its own: its first
    ``window - 1`` rows average fewer samples (and are noisier).
    """

    def __init__(self, detector: Detector | None = None, window: int = 10, *, threshold: Any = DEFAULT_THRESHOLD,
                 calibration: float = 0.2):
        super().__init__(threshold=threshold, calibration=calibration)
        self.detector = detector
        self.window = window

    def _check_params(self) -> None:
        super()._check_params()
        check_int("window", self.window, 1, hint=_WINDOW_HINT)

    def _transform(self, X: np.ndarray) -> Any:
        return with_names(self, moving_average(X, int(self.window)))


class SlowSensors(_Transformed):
    """Run a detector with the slow (drifting) sensors differenced or left out.

    Parameters
    ----------
    detector : Detector (unfitted) or None
        Scores the transformed data; :meth:`fit` fits a clone of it on the
        transformed training part. ``None``: ``RobustZScore(window=None, calibration=0)``.
    columns : "auto", or a sequence of column names or integer positions
        The slow sensors. ``"auto"`` finds them in the training part: the columns
        whose lag-``autocorr_lag`` autocorrelation exceeds ``max_autocorr``. Names
        need the detector to be fitted on a DataFrame.
    how : {"difference", "drop"}
        ``"difference"`` replaces each slow column by ``x_t - x_(t-lag)`` (see
        :func:`lagged_difference`): its change over the last ``lag`` samples.
        ``"drop"`` leaves the slow columns out.
    lag : int >= 1
        Samples between the two values of a difference (``how="difference"``); at one
        sample per second ``lag=60`` is the change over the last minute.
    autocorr_lag : int >= 1
        Lag of the autocorrelation that ``columns="auto"`` looks at.
    max_autocorr : float in (-1, 1)
        With ``columns="auto"``, columns whose autocorrelation is above it are slow.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    slow_ : ndarray of bool (n_features,), True for the slow columns
    autocorr_ : ndarray (n_features,), training autocorrelation at ``autocorr_lag``
        (only with ``columns="auto"``)
    detector_ : the fitted clone of ``detector``

    Raises
    ------
    ValueError
        if ``how="drop"`` would leave no column.

    Notes
    -----
    With ``how="difference"`` each call to :meth:`score` differences that series on
    its own: its first ``lag`` rows are differenced with its first row, so they
    look quieter than they are.
    """

    def __init__(
        self,
        detector: Detector | None = None,
        columns: str | Sequence[Any] = "auto",
        *,
        how: Literal["difference", "drop"] = "difference",
        lag: int = 60,
        autocorr_lag: int = 1,
        max_autocorr: float = 0.8,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.detector = detector
        self.columns = columns
        self.how = how
        self.lag = lag
        self.autocorr_lag = autocorr_lag
        self.max_autocorr = max_autocorr

    def _slow_mask(self, X: np.ndarray) -> np.ndarray:
        cols, n = self.columns, X.shape[1]
        if isinstance(cols, str):  # "auto", checked in _check_params
            self.autocorr_ = autocorrelation(X, int(self.autocorr_lag))
            return self.autocorr_ > self.max_autocorr
        names = [str(c) for c in getattr(self, "feature_names_in_", [])]
        mask = np.zeros(n, dtype=bool)
        for c in cols:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not -n <= c < n:
                    raise ValueError(f"column position {c} is out of range for {n} columns.")
                mask[c] = True
            elif isinstance(c, str) and c in names:
                mask[names.index(c)] = True
            else:
                known = f"the fitted columns are {names}" if names else "fit on a DataFrame to use names"
                raise ValueError(f"unknown column {c!r} in columns; {known}.")
        return mask

    def _check_params(self) -> None:
        super()._check_params()
        check_choice("how", self.how, SLOW_HANDLING)
        check_int("lag", self.lag, 1, hint=_LAG_HINT)
        cols = self.columns
        if cols != "auto" if isinstance(cols, str) else not isinstance(cols, (Sequence, np.ndarray, pd.Index)):
            raise InvalidParameterError(f"columns must be 'auto' or a list of column names or positions, got {cols!r}.")
        check_int("autocorr_lag", self.autocorr_lag, 1, hint="It is the lag of the autocorrelation that 'auto' uses.")
        check_number("max_autocorr", self.max_autocorr, -1, 1, low_open=True, high_open=True,
                     hint="With columns='auto', columns whose autocorrelation is above it are slow.")

    def _setup(self, X: np.ndarray) -> None:
        if "autocorr_" in vars(self):
            del self.autocorr_
        self.slow_ = self._slow_mask(X)
        if self.how == "drop" and self.slow_.all():
            raise ValueError("all columns are slow: how='drop' would leave nothing to score. "
                             "Name fewer columns, raise max_autocorr or use how='difference'.")

    def _transform(self, X: np.ndarray) -> Any:
        names = getattr(self, "feature_names_in_", None)
        if self.how == "drop":
            keep = ~self.slow_
            return X[:, keep] if names is None else pd.DataFrame(X[:, keep], columns=list(np.asarray(names)[keep]))
        out = X.copy()
        if self.slow_.any():
            out[:, self.slow_] = lagged_difference(X[:, self.slow_], int(self.lag))
        return with_names(self, out)


def moving_average_z(
    window: int = 10,
    slow_columns: str | Sequence[Any] = (),
    *,
    how: Literal["difference", "drop"] = "drop",
    threshold: Any = None,
    calibration: float = 0.2,
) -> SlowSensors:
    """A moving-average robust z-chart with slow sensors handled apart: the recipe that beats
    the best published SKAB result (see the module docstring).

    ``SlowSensors(MovingAverage(RobustZScore(window=None, calibration=0), window, calibration=0),
    slow_columns, how=how, threshold=threshold, calibration=calibration)``; the default threshold
    is the SKAB authors' rule, 1.5 x the 99th percentile of the held-out normal scores
    (``PercentileThreshold(99, margin=1.5)``). For SKAB pass
    ``slow_columns=["Temperature", "Thermocouple"]``; ``"auto"`` finds slow sensors from the
    training data (with ``how="drop"`` it fails if every sensor is slow); ``()`` (the default)
    keeps every sensor as it is.
    """
    from ..thresholds import PercentileThreshold
    from .robust_z import RobustZScore

    inner = MovingAverage(RobustZScore(window=None, calibration=0), window, calibration=0)
    thr = PercentileThreshold(99.0, margin=1.5) if threshold is None else threshold
    return SlowSensors(inner, slow_columns, how=how, threshold=thr, calibration=calibration)
