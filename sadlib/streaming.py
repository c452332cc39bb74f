"""Streaming replay: score a sensor stream one sample at a time, as an edge device does.

A deployed detector does not get the test part as one array. It gets one sample
every few seconds, keeps the last ``window`` samples, scores them and decides on
the spot. This module replays recorded data that way and checks that the live
path makes *the same decisions* as the batch path of the notebooks:

* :func:`stream` yields the samples of a DataFrame or array one at a time;
* :class:`StreamingScorer` keeps the last ``window`` scaled samples in a ring
  buffer, runs any model callable on that one window (a Keras model, or an
  exported :class:`sadlib.edge.LiteRTModel`'s ``predict_one``), turns the
  reconstruction into a score with the detector's own formula
  (:func:`sadlib.detectors.keras_base.reconstruction_errors`, which the detectors'
  ``window_errors`` and ``score`` use too), and raises an
  alarm only after ``min_duration`` consecutive scores above the threshold;
* :func:`min_duration_alarms` is the same alarm rule for a whole score array
  (the batch path), and :func:`batch_scores` the batch scores, with any model in
  place of the detector's own.

The first ``window - 1`` timestamps. The batch path (``aggregate="last"``) gives each
timestamp the score of the window that ends there; before any window has ended there
is no score, and both paths give NaN there and no alarm (the rule of every detector,
:mod:`sadlib.detectors.base`). From sample ``window - 1`` on they use the same windows,
so stream and batch agree on every sample.

The min-duration rule. ``alarm[t]`` is True when the scores ``t - min_duration + 1
.. t`` are all above the threshold (strictly, as :meth:`Detector.predict
<sadlib.detectors.base.Detector.predict>`). An alarm thus starts
``min_duration - 1`` samples after the score first crosses the threshold, lasts
while the score stays above it, and ends at the first score at or below it. A
missing score (NaN) counts as "not above". ``min_duration=1`` is the plain rule
``score > threshold``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from . import alarms
from .detectors.keras_base import ERRORS, WindowAutoencoder, reconstruction_errors
from .validation import (
    InvalidParameterError,
    as_1d_float,
    as_2d_float,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_time_index,
)

__all__ = ["stream", "min_duration_alarms", "batch_scores", "StreamStep", "StreamingScorer"]

# --------------------------------------------------------------------------- #
# argument checks
# --------------------------------------------------------------------------- #
def _check_threshold(value: Any) -> float:
    return check_number("threshold", value, hint="Pass e.g. detector.threshold_.")


def _check_error_scale(value: Any) -> np.ndarray:
    """Per-sensor divisors of the error: finite and positive, or scores would be NaN, inf or negative."""
    scale = as_1d_float(np.ravel(value), name="error_scale", allow_nan=True)
    bad = ~(np.isfinite(scale) & (scale > 0))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"error_scale must hold finite positive values, one per sensor, but value {j} is {float(scale[j])!r}; "
            f"a zero, negative or NaN divisor makes the scores inf, negative or NaN. Pass the detector's error_scale_ "
            f"(StreamingScorer.from_detector does), or None.")
    return scale


def _check_detector(detector) -> WindowAutoencoder:
    """A fitted reconstruction detector on windows whose timestamp scores a stream can reproduce."""
    if not isinstance(detector, WindowAutoencoder):
        raise ValueError(f"detector must be a fitted reconstruction detector on windows (a WindowAutoencoder "
                         f"such as dense_ae, lstm_ae or conv_ae), got {type(detector).__name__}.")
    check_is_fitted(detector, "model_")
    if detector.aggregate != "last":
        raise ValueError(
            f"the detector maps window scores to timestamps with aggregate={detector.aggregate!r}, which uses "
            f"windows that end after t: a stream cannot do that. Fit it with aggregate='last' (the default)."
        )
    return detector


# --------------------------------------------------------------------------- #
# the stream and the batch rule
# --------------------------------------------------------------------------- #
def stream(data: Any) -> Iterator[tuple[Any, np.ndarray]]:
    """Yield ``(timestamp, values)`` for every row of ``data``, one at a time, in order.

    Parameters
    ----------
    data : DataFrame (timestamps from its index), 2-D array (timestamps 0, 1, ...) or 1-D array
        (one sensor). Select the sensor columns first, e.g. ``stream(test[sensors])``. A
        DatetimeIndex must be sorted and without duplicates (rows are replayed in time order).

    Yields
    ------
    (timestamp, ndarray of shape (n_features,), float64)
    """
    if isinstance(data, pd.Series):
        data = data.to_frame()
    index = data.index if isinstance(data, pd.DataFrame) else None
    check_time_index(data, name="data")  # a stream replays rows in time order: refuse reversed or shuffled timestamps
    arr = as_2d_float(data, name="data", allow_nan=True)
    for i in range(len(arr)):
        yield (index[i] if index is not None else i), arr[i].copy()


def min_duration_alarms(scores: Any, threshold: float, min_duration: int = 1) -> np.ndarray:
    """Alarms that start only after ``min_duration`` consecutive scores above ``threshold``.

    Parameters
    ----------
    scores : array-like of shape (n,), NaN allowed (a missing score is "not above")
    threshold : float, a score strictly above it counts
    min_duration : int >= 1, consecutive scores above the threshold before the alarm starts

    Returns
    -------
    ndarray of bool, shape (n,): ``alarm[t]`` is True when ``scores[t - min_duration + 1 : t + 1]``
    are all above the threshold. ``min_duration=1`` gives ``scores > threshold``.

    Notes
    -----
    The rule's home is :func:`sadlib.alarms.min_duration_alarms`; this is the same function,
    kept here next to the :class:`StreamingScorer` that applies it live.
    """
    return alarms.min_duration_alarms(scores, threshold, min_duration)


def batch_scores(detector, X: Any, predict: Callable[[np.ndarray], Any] | None = None) -> np.ndarray:
    """The batch path's score per timestamp; NaN (no score) for the first ``window - 1``, as in a stream.

    Parameters
    ----------
    detector : a fitted reconstruction detector (``dense_ae``, ``lstm_ae``, ...) with ``aggregate="last"``
    X : array-like (n_samples, n_features), the sensor columns as in ``fit``
    predict : callable, optional
        Runs a *batch* of model inputs, e.g. ``LiteRTModel(path).predict``; inputs are the
        scaled windows ``(n, window, n_features)``, flattened to ``(n, window * n_features)``
        for a dense autoencoder. ``None`` uses ``detector.score(X)`` itself.

    Returns
    -------
    ndarray of shape (n_samples,), float64; NaN for the first ``window - 1`` samples
    """
    detector = _check_detector(detector)
    w = int(detector.window)
    if predict is None:
        scores = detector.score(X)
    else:
        if not callable(predict):
            raise ValueError(f"predict must be a callable such as LiteRTModel(path).predict, "
                             f"got {type(predict).__name__}.")
        inputs = detector.model_inputs(X)
        per_window = detector.window_errors(inputs, np.asarray(predict(inputs)))
        scores = np.concatenate([np.full(w - 1, np.nan), per_window])  # the "last" mapping, stride 1
    scores = np.array(scores, dtype=np.float64)
    scores[: w - 1] = np.nan
    return scores


# --------------------------------------------------------------------------- #
# the streaming scorer
# --------------------------------------------------------------------------- #
class StreamStep(NamedTuple):
    """What :meth:`StreamingScorer.update` returns for one sample."""

    score: float  #: NaN until ``window`` samples have arrived
    above: bool  #: score > threshold
    alarm: bool  #: ``min_duration`` consecutive scores above the threshold, up to this one


class StreamingScorer:
    """Score a stream sample by sample with a window model and raise min-duration alarms.

    Parameters
    ----------
    predict : callable
        Runs the model on *one* input and returns its reconstruction: an exported
        ``LiteRTModel(path).predict_one`` or ``ONNXModel(path).predict_one``, or a
        Keras call such as ``lambda x: model(x[None], training=False)[0]``. Its input is
        the scaled window, ``(window, n_features)`` float32, or ``(window * n_features,)``
        when ``flatten=True`` (dense autoencoder).
    window : int, samples per window
    threshold : float, a score strictly above it is "above"
    scaler : fitted scikit-learn scaler, optional
        Applied to each sample as it arrives (the detector's ``scaler_``); ``None``: the
        samples are already scaled.
    min_duration : int >= 1, see :func:`min_duration_alarms`
    error : {"mse", "mae"}, squared or absolute reconstruction error, averaged over the window
    flatten : bool, pass the window to ``predict`` flattened (time-major), as a dense autoencoder takes it
    error_scale : array (n_features,), optional, divide each sensor's error by it
        (a sequence autoencoder with ``normalize=True``)
    n_features : int, optional, checked against every sample (taken from the first one otherwise)

    Use :meth:`from_detector` to take all of these from a fitted detector.

    Attributes
    ----------
    n_seen : int, samples received since the start (or :meth:`reset`)
    """

    def __init__(self, predict: Callable[[np.ndarray], Any], *, window: int, threshold: float, scaler: Any = None,
                 min_duration: int = 1, error: str = "mse", flatten: bool = False, error_scale: Any = None,
                 n_features: int | None = None):
        if not callable(predict):
            raise ValueError(f"predict must be a callable such as LiteRTModel(path).predict_one, "
                             f"got {type(predict).__name__}.")
        check_choice("error", error, ERRORS)
        if scaler is not None and not hasattr(scaler, "transform"):
            raise ValueError(f"scaler must be a fitted scikit-learn scaler (the detector's scaler_) or None, "
                             f"got {type(scaler).__name__}.")
        self.predict = predict
        self.window = check_int("window", window, 1)
        self.threshold = _check_threshold(threshold)
        self.min_duration = check_int("min_duration", min_duration, 1)
        self.scaler = scaler
        self.error = error
        self.flatten = check_bool("flatten", flatten)
        self.error_scale = None if error_scale is None else _check_error_scale(error_scale)
        self.n_features = None if n_features is None else check_int("n_features", n_features, 1)
        if self.error_scale is not None and self.n_features is not None and len(self.error_scale) != self.n_features:
            raise ValueError(f"error_scale has {len(self.error_scale)} values for {self.n_features} features.")
        self.reset()

    @classmethod
    def from_detector(cls, detector, predict: Callable[[np.ndarray], Any] | None = None, *,
                      threshold: float | None = None, min_duration: int = 1) -> "StreamingScorer":
        """A scorer with the window, scaler, error formula and threshold of a fitted detector.

        Parameters
        ----------
        detector : fitted ``dense_ae``, ``lstm_ae``, ``conv_ae``, ... with ``aggregate="last"``
        predict : callable on one model input, optional; defaults to a single-window Keras call
            of ``detector.model_`` (``predict_on_batch``). Pass ``LiteRTModel(path).predict_one`` to run an
            exported file.
        threshold : float, optional; defaults to ``detector.threshold_``. Give the recalibrated
            threshold of a quantized model here.
        min_duration : int >= 1, see :func:`min_duration_alarms`
        """
        detector = _check_detector(detector)
        if predict is None:
            model = detector.model_

            def predict(x, model=model):  # predict_on_batch: traced once, fast for LSTMs (no eager loop)
                return np.asarray(model.predict_on_batch(x[None]))[0]

        return cls(predict, window=int(detector.window), scaler=detector.scaler_, error=detector.error,
                   flatten=detector.flat_inputs, error_scale=detector.error_scale_ if detector.normalize else None,
                   n_features=detector.n_features_in_,
                   threshold=detector.threshold_ if threshold is None else threshold, min_duration=min_duration)

    def reset(self) -> "StreamingScorer":
        """Forget the buffer and the current run of scores above the threshold."""
        self._buffer: np.ndarray | None = None
        self._pos = 0  # where the next sample goes
        self._run = 0
        self.n_seen = 0
        return self

    @property
    def ready(self) -> bool:
        """Whether ``window`` samples have arrived, so :meth:`update` returns scores."""
        return self.n_seen >= self.window

    def _check_sample(self, values: Any) -> np.ndarray:
        if np.asarray(values).dtype.kind in "bc":  # as the batch path (as_2d_float) refuses them
            raise InvalidParameterError(f"a sample must be real numbers, one per sensor; got {values!r} "
                                        f"(booleans or complex values). Convert the sensor columns first.")
        try:
            x = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"a sample must be numbers, one per sensor; got {values!r}.") from err
        if x.ndim == 0:
            x = x.reshape(1)
        if x.ndim != 1:
            raise ValueError(f"update takes one sample, shape (n_features,), got shape {x.shape}; "
                             f"for many rows use run(data) or a loop over stream(data).")
        if x.size == 0:
            raise InvalidParameterError("the sample is empty; update takes one value per sensor, shape (n_features,), "
                                        "e.g. scorer.update(df[sensors].iloc[t]).")
        if self.n_features is None:
            self.n_features = len(x)
            if self.error_scale is not None and len(self.error_scale) != self.n_features:
                raise ValueError(f"error_scale has {len(self.error_scale)} values, the sample {self.n_features}.")
        if len(x) != self.n_features:
            raise ValueError(f"the sample has {len(x)} values, the scorer expects {self.n_features} "
                             f"(the sensor columns of fit, in the same order).")
        if not np.isfinite(x).all():
            raise ValueError("the sample contains NaN or infinite values; fill sensor dropouts before scoring "
                             "(e.g. hold the last valid value), as the data was filled before fit.")
        return x

    def update(self, values: Any) -> StreamStep:
        """Take one sample ``(n_features,)``, return its :class:`StreamStep` (score NaN while warming up)."""
        x = self._check_sample(values)
        if self.scaler is not None:
            x = np.asarray(self.scaler.transform(x[None]), dtype=np.float64)[0]
        if self._buffer is None:
            self._buffer = np.empty((self.window, self.n_features), dtype=np.float64)
        self._buffer[self._pos] = x
        self._pos = (self._pos + 1) % self.window
        self.n_seen += 1
        if not self.ready:
            self._run = 0
            return StreamStep(float("nan"), False, False)
        # oldest sample first: the ring buffer starts at the next write position
        win = np.concatenate([self._buffer[self._pos :], self._buffer[: self._pos]]).astype(np.float32)
        out = self.predict(win.reshape(-1) if self.flatten else win)
        out = np.asarray(out, dtype=np.float64)
        if out.size != win.size:
            raise ValueError(f"predict returned {out.size} values for a window of {win.size}; it should return "
                             f"the reconstruction of one window (use predict_one, not predict).")
        if not np.isfinite(out).all():
            raise InvalidParameterError(
                f"predict returned {int((~np.isfinite(out)).sum())} NaN or infinite value(s) for the window ending at "
                f"sample {self.n_seen - 1}; the score would be NaN and never alarm. Check the model (a diverged fit, "
                f"a broken export, inputs far outside the training range) before streaming with it.")
        score = float(reconstruction_errors(win[None], out[None], window=self.window, error=self.error,
                                            error_scale=self.error_scale)[0])
        above = score > self.threshold
        self._run = self._run + 1 if above else 0
        return StreamStep(score, bool(above), self._run >= self.min_duration)

    def run(self, data: Any) -> tuple[np.ndarray, np.ndarray]:
        """Replay ``data`` (rows in time order) through :meth:`update`; returns ``(scores, alarms)`` arrays."""
        steps = [self.update(values) for _, values in stream(data)]
        return (np.array([s.score for s in steps], dtype=np.float64),
                np.array([s.alarm for s in steps], dtype=bool))

    def __repr__(self) -> str:
        return (f"StreamingScorer(window={self.window}, threshold={self.threshold:.4g}, "
                f"min_duration={self.min_duration}, error={self.error!r}, flatten={self.flatten})")
