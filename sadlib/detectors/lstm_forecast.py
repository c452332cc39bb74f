"""Stacked-LSTM next-step forecaster: the prediction-error detector of notebook 05.

The idea: train a recurrent network to predict the next value of every sensor from
the ``window`` values before it. On normal data it learns the normal dynamics; where
the sensors stop behaving as before, the prediction misses, so the squared
prediction error is the anomaly score.

The course pipeline, step by step:

1. A standard scaler is fitted on the *training part only* (the rows the model is
   fitted on) and applied unchanged to everything else, values not clipped.
2. The training part is split **by time before windowing**: the first rows give the
   training pairs, the last ``validation`` fraction the early-stopping pairs. A pair
   is ``(x[t-window:t], x[t])``; no pair of one part uses a row of the other
   (:func:`forecast_windows` on each part separately), unlike Keras's
   ``validation_split`` on a list of overlapping windows.
3. Training is the one path of every Keras detector of the course
   (:class:`~sadlib.detectors.keras_base.KerasWindowDetector`,
   ``model.fit`` through :func:`~sadlib.detectors.training.fit_model`): shuffled mini-batches, early stopping
   with the best weights restored, seeded by ``random_state``.
4. The score at timestamp ``t`` is the squared error of the prediction of ``x[t]``
   from ``x[t-window:t]``, per sensor (in scaled units), optionally divided by that
   sensor's typical error on the training windows (``normalize``), combined over the
   sensors (``aggregate``) and optionally averaged over the last ``smooth`` steps.
   The score uses only rows up to ``t``: it is causal, what a streaming detector
   knows at ``t``.

**The first ``window`` rows of a scored series have no prediction** (there is no
full window before them). Their score is NaN, "no score" (the rule of every detector,
:mod:`sadlib.detectors.base`: no alarm, left out of thresholds, ranked lowest by the
metrics), and :meth:`LSTMForecaster.predict_next` / :meth:`LSTMForecaster.sensor_errors`
return NaN there too. To score a test part from its first row, score it together with
the ``window`` rows that precede it and drop those (``context=`` in ``predict_next``
and ``sensor_errors`` does this). :meth:`~sadlib.detectors.base.Detector.fit` scores the
whole fitting data in one go, so only the first ``window`` training scores are NaN;
the calibration tail is scored with its full context.

The model is a plain ``keras.Model`` from ``(batch, window, n_features)`` to
``(batch, n_targets)`` built from ``keras`` layers only (it also runs on the JAX
backend, and it can be exported with a fixed batch-1 input signature). Keras is
imported only when a model is built, so ``import sadlib.detectors`` stays fast.

:func:`make_forecast_toy` builds the one-sensor toy of the popular LSTM + DBSCAN
tutorial that notebook 05 takes apart; :mod:`sadlib.clustering` has the DBSCAN side.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from ..environment import import_keras
from ..validation import as_2d_float, check_bool, check_choice, check_int, check_number
from ..windows import sliding_windows
from .base import DEFAULT_THRESHOLD, SENSOR_AGGREGATES, combine_sensors
from .keras_base import KerasWindowDetector, compile_model, model_spec

__all__ = ["LSTMForecaster", "build_lstm_forecaster", "forecast_windows", "make_forecast_toy"]

_PREDICT_BATCH = 1024  # windows per forward pass when scoring (bounds memory on long series)
_MIN_ERROR_SCALE = 1e-6  # floor of the per-sensor error scale (scaled units squared): no division by ~0


def make_forecast_toy(n: int = 1000, *, noise: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """The one-sensor toy of the popular "LSTM forecast + DBSCAN" tutorial (notebook 05).

    ``value = sin(4πt) + sin(2πt) + noise`` with ``t = i / 100`` for ``i = 0 .. n-1``
    (so the slow component repeats every 100 samples, the length of the tutorial's
    window) and Gaussian noise of standard deviation ``noise``. A burst
    ``sin(10πt)`` (a period of 20 samples, amplitude 1) is **added** on rows
    ``0.8 n`` to ``0.85 n`` (exclusive; rows 800-849 for ``n = 1000``), which are
    labelled ``anomaly = 1``. Everything before ``0.8 n`` is normal, so a
    chronological 60/15/25 split puts the burst in the test part.

    Returns
    -------
    DataFrame of shape (n, 2): ``value`` and the 0/1 label ``anomaly``, RangeIndex named ``t``.
    """
    n = check_int("n", n, 200)
    noise = check_number("noise", noise, 0)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 100.0
    value = np.sin(4 * np.pi * t) + np.sin(2 * np.pi * t) + rng.normal(0.0, noise, n)
    start, end = int(0.8 * n), int(0.85 * n)
    value[start:end] += np.sin(10 * np.pi * t[start:end])
    anomaly = np.zeros(n, dtype=np.int64)
    anomaly[start:end] = 1
    frame = pd.DataFrame({"value": value, "anomaly": anomaly})
    frame.index.name = "t"
    return frame


def forecast_windows(X: Any, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Input/target pairs for next-step forecasting: ``(x[i : i + window], x[i + window])``.

    Parameters
    ----------
    X : array-like (n_samples, n_features)
    window : number of past steps the model sees

    Returns
    -------
    inputs : ndarray (n_samples - window, window, n_features), float32
    targets : ndarray (n_samples - window, n_features), float32; ``targets[i]`` is row
        ``i + window`` of ``X``, the row right after ``inputs[i]``.

    Windowing each chronological part separately (not the whole series, then
    splitting the pairs) keeps every row in one part only.
    """
    arr = as_2d_float(X, name="X", allow_nan=True)
    window = check_int("window", window, 1)
    if len(arr) < window + 1:
        raise ValueError(f"X has {len(arr)} rows; forecasting pairs need at least window + 1 = {window + 1}.")
    inputs = sliding_windows(arr[:-1], window).astype(np.float32)
    return inputs, arr[window:].astype(np.float32)


def build_lstm_forecaster(
    window: int, n_features: int, units: Sequence[int] = (64, 32), *, n_outputs: int | None = None,
    learning_rate: float = 1e-3, input_noise: float = 0.0,
):
    """A compiled stacked-LSTM forecaster ``(batch, window, n_features) -> (batch, n_outputs)``.

    Parameters
    ----------
    window, n_features : input shape of one sample (time steps, sensors).
    units : sequence of int
        Sizes of the stacked LSTM layers (``lstm_0``, ``lstm_1``, ...); all but the last
        return sequences to the next one. A linear ``Dense`` layer (``forecast``) maps the
        last LSTM state to the outputs, so scaled values outside the training range can
        still be predicted.
    n_outputs : int, optional
        Number of predicted sensors (default ``n_features``).
    learning_rate : float
        Step size of Adam; the loss is the mean squared error.
    input_noise : float
        Standard deviation of Gaussian noise added to the inputs **during training only**
        (a ``GaussianNoise`` layer, the identity at inference). It keeps the network from
        simply extrapolating the last few values, so it reads the pattern of the whole
        window; ``0`` adds no layer.

    Returns
    -------
    keras.Model, compiled, input named ``"window"``.
    """
    window = check_int("window", window, 1)
    n_features = check_int("n_features", n_features, 1)
    n_outputs = n_features if n_outputs is None else check_int("n_outputs", n_outputs, 1)
    if isinstance(units, (Integral, str)) or not isinstance(units, Sequence) or len(units) == 0:
        raise ValueError(f"units must be a non-empty sequence of LSTM sizes such as (64, 32), got {units!r}.")
    units = [check_int("each LSTM size", u, 1) for u in units]
    keras = import_keras()
    inputs = keras.Input(shape=(window, n_features), name="window")
    input_noise = check_number("input_noise", input_noise, 0)
    x = keras.layers.GaussianNoise(float(input_noise), name="input_noise")(inputs) if input_noise > 0 else inputs
    for i, size in enumerate(units):
        x = keras.layers.LSTM(size, return_sequences=i < len(units) - 1, name=f"lstm_{i}")(x)
    outputs = keras.layers.Dense(n_outputs, activation=None, name="forecast")(x)
    return compile_model(keras.Model(inputs, outputs, name="lstm_forecaster"), learning_rate)


class LSTMForecaster(KerasWindowDetector):
    """Squared error of a stacked LSTM's next-step forecast.

    Parameters
    ----------
    window : int
        Past time steps the model sees to predict the next one.
    units : sequence of int
        Stacked LSTM sizes, see :func:`build_lstm_forecaster`. The default ``(64, 32)``
        is smaller than the tutorial's ``(64, 256, 100)``: an LSTM runs its time steps
        one after the other, and on a CPU a batch of the tutorial's model costs about
        ten times as much (see ``benchmarks/README.md``) for no better next-step
        forecast of a few sensors.
    target : sequence of column names or indices, optional
        Sensors to predict and score (default: all). The model always sees all sensors.
    normalize : bool
        Divide each sensor's squared error by its median on the pairs of the training
        part (training and early-stopping pairs, not the calibration tail), so a
        noisy (hard to predict) sensor does not dominate the score; a score of about 1
        is then a typical error on every sensor.
    aggregate : {"mean", "max", "l2"}
        How per-sensor errors become one score per timestamp (:func:`~sadlib.detectors.base.combine_sensors`).
    smooth : int
        Average the combined errors over the last ``smooth`` steps (causal moving
        average; 1 = no smoothing). Smoothing lowers the noise of single errors, at the
        price of alarms that start and end up to ``smooth - 1`` steps late.
    epochs, batch_size, learning_rate : training settings (Adam, MSE loss).
    input_noise : float
        Standard deviation of Gaussian noise added to the scaled inputs during training
        only (see :func:`build_lstm_forecaster`).
    validation : float in (0, 1) or 0
        Fraction of the training rows, from their end, whose forecasting pairs are used
        for early stopping (at least ``window + 1`` rows). ``0`` trains for all ``epochs``.
    patience : int
        Stop after ``patience`` epochs without a lower validation loss; the best
        epoch's weights are restored.
    random_state : int or None
        Seed of the weights and the batch order (``keras.utils.set_random_seed``);
        same seed, same scores on the CPU.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    model_ : keras.Model ``(batch, window, n_features) -> (batch, n_targets)``
    scaler_ : fitted ``StandardScaler`` (all features, training part only)
    target_ : ndarray of int, indices of the predicted features
    error_scale_ : ndarray (n_targets,), median squared error per target on the pairs
        of the training part (scaled units, at least 1e-6); the divisor when ``normalize``
    history_ : ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_, best_epoch_ : epochs run, epoch (1-based) whose weights were kept
    n_fit_rows_ : int, training rows whose pairs the model was fitted on; the
        early-stopping pairs come from the rows after them

    Notes
    -----
    The defaults suit SKAB-sized data (400 training rows, a few seconds per fit). On the
    notebook-05 toy (:func:`make_forecast_toy`, 600 training rows) ``window=50,
    batch_size=64, learning_rate=1e-3, epochs=100, patience=10, input_noise=0.3,
    smooth=3`` trains in 7-20 s on 2 CPU cores.

    ``fit`` needs ``2 * (window + 1)`` rows in the part it trains on (``window + 1``
    without validation); ``score`` accepts any length, the first ``window`` scores being 0.
    """

    def __init__(
        self,
        window: int = 30,
        *,
        units: Sequence[int] = (64, 32),
        target: Sequence[Any] | None = None,
        normalize: bool = True,
        aggregate: Literal["mean", "max", "l2"] = "mean",
        smooth: int = 1,
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 2e-3,
        input_noise: float = 0.0,
        validation: float = 0.2,
        patience: int = 5,
        random_state: int | None = 0,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(window, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                         validation=validation, patience=patience, random_state=random_state, threshold=threshold,
                         calibration=calibration)
        self.units = units
        self.target = target
        self.normalize = normalize
        self.aggregate = aggregate
        self.smooth = smooth
        self.input_noise = input_noise

    # -- fitting (the path of KerasWindowDetector) ---------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        check_int("smooth", self.smooth, 1)
        check_choice("aggregate", self.aggregate, SENSOR_AGGREGATES)
        check_bool("normalize", self.normalize)
        check_number("input_noise", self.input_noise, 0)

    def _scaler_kind(self) -> str:
        return "standard"

    def _min_val_rows(self) -> int:  # one pair: a window and the row after it
        return int(self.window) + 1

    def _resolve_target(self, n_features: int) -> np.ndarray:
        if self.target is None:
            return np.arange(n_features)
        items = [self.target] if isinstance(self.target, (str, Integral)) else list(self.target)
        names = getattr(self, "feature_names_in_", None)
        out = []
        for item in items:
            if isinstance(item, (Integral, np.integer)) and not isinstance(item, bool) and 0 <= item < n_features:
                out.append(int(item))
            elif names is not None and str(item) in list(names):
                out.append(list(names).index(str(item)))
            else:
                valid = f"a column of {list(names)}" if names is not None else f"an index in 0..{n_features - 1}"
                raise ValueError(f"target entry {item!r} is not {valid}.")
        if not out or len(set(out)) != len(out):
            raise ValueError(f"target must name distinct sensors, got {self.target!r}.")
        return np.asarray(out)

    def _fit(self, X: np.ndarray) -> None:
        self.target_ = self._resolve_target(X.shape[1])
        super()._fit(X)

    def _model_spec(self, n_features: int):
        return model_spec(build_lstm_forecaster, self.window, n_features, self.units, n_outputs=len(self.target_),
                                     learning_rate=self.learning_rate, input_noise=self.input_noise)

    def _examples(self, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs, targets = forecast_windows(scaled, self.window)
        return inputs, targets[:, self.target_]

    def _after_fit(self, train, val) -> None:
        pairs = [train] if val is None else [train, val]
        errors = np.concatenate([(self._forward(x) - y) ** 2 for x, y in pairs])
        self.error_scale_ = np.maximum(np.median(errors, axis=0), _MIN_ERROR_SCALE)

    # -- forecasting and scoring ------------------------------------------------------
    def _forward(self, inputs: np.ndarray) -> np.ndarray:
        """Forecasts of ``(n, window, n_features)`` float32 inputs, in scaled units, float64."""
        if len(inputs) == 0:
            return np.zeros((0, len(self.target_)))
        return self._predict(inputs, _PREDICT_BATCH)

    def _scaled_forecast(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(forecasts, actual) of rows ``window ..`` of ``X``, scaled units, shape (n - window, n_targets)."""
        scaled = self.scaler_.transform(X)
        if len(X) <= self.window:
            empty = np.zeros((0, len(self.target_)))
            return empty, empty
        inputs, targets = self._examples(scaled)
        return self._forward(inputs), targets.astype(np.float64)

    def _squared_errors(self, X: np.ndarray, normalized: bool) -> np.ndarray:
        pred, actual = self._scaled_forecast(X)
        err = np.full((len(X), len(self.target_)), np.nan)
        err[self.window :] = (pred - actual) ** 2
        return err / self.error_scale_ if normalized else err

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """The first ``window`` rows have no forecast: NaN (no score)."""
        try:
            return int(self.window)
        except (TypeError, ValueError):  # an invalid window is reported by fit
            return 0

    def _score(self, X: np.ndarray) -> np.ndarray:
        err = self._squared_errors(X, self.normalize)
        w = self.window
        scores = np.full(len(X), np.nan)
        if len(X) > w:
            combined = combine_sensors(err[w:], self.aggregate)
            if self.smooth > 1:  # causal moving average over the available (predicted) steps
                combined = pd.Series(combined).rolling(self.smooth, min_periods=1).mean().to_numpy()
            scores[w:] = combined
        return scores

    def _with_context(self, X: Any, context: Any) -> tuple[np.ndarray, int]:
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        if context is None:
            return arr, 0
        ctx = self._validate(context, fitting=False)
        return np.concatenate([ctx, arr]), len(ctx)

    def predict_next(self, X: Any, *, context: Any = None) -> np.ndarray:
        """The model's forecast of every row of ``X`` from the ``window`` rows before it.

        Parameters
        ----------
        X : array-like (n_samples, n_features)
        context : array-like (n_context, n_features), optional
            Rows that come right before ``X`` (e.g. the end of the validation part); they
            feed the first forecasts and are not returned.

        Returns
        -------
        ndarray (n_samples, n_targets) in the original units of the target sensors (for
        the "actual vs predicted" plot); NaN where fewer than ``window`` rows precede.
        """
        arr, skip = self._with_context(X, context)
        pred, _ = self._scaled_forecast(arr)
        t = self.target_
        out = np.full((len(arr), len(t)), np.nan)
        out[self.window :] = pred * self.scaler_.scale_[t] + self.scaler_.mean_[t]
        return out[skip:]

    def sensor_errors(self, X: Any, *, context: Any = None, normalized: bool | None = None) -> np.ndarray:
        """Squared forecast error per target sensor and timestamp, shape ``(n_samples, n_targets)``.

        The same name and signature as the autoencoders'
        :meth:`~sadlib.detectors.keras_base.WindowAutoencoder.sensor_errors`. Errors are in
        scaled (standardised) units, so sensors are comparable; with ``normalized``
        (default: the ``normalize`` parameter) each is divided by ``error_scale_``. NaN
        where fewer than ``window`` rows precede the timestamp (pass ``context`` as in
        :meth:`predict_next`). Without smoothing, ``score(X)`` equals
        ``sensor_errors(X)`` combined over sensors by ``aggregate``, NaN included.
        """
        norm = bool(self.normalize) if normalized is None else check_bool("normalized", normalized)
        arr, skip = self._with_context(X, context)
        return self._squared_errors(arr, norm)[skip:]

    def errors(self, X: Any, *, context: Any = None, normalized: bool | None = None) -> np.ndarray:
        """Deprecated name of :meth:`sensor_errors` (same arguments, same result); it warns."""
        warnings.warn("LSTMForecaster.errors is deprecated; use sensor_errors(X, context=..., normalized=...), the "
                      "name every Keras detector uses.", DeprecationWarning, stacklevel=2)
        return self.sensor_errors(X, context=context, normalized=normalized)
