"""What every Keras detector of the course shares: parameters, the honest split, one training path.

:class:`KerasWindowDetector` is the base of the dense and sequence autoencoders, the
VQ-VAE and the LSTM forecaster. Its :meth:`~KerasWindowDetector._fit` is the whole
pipeline, written once:

1. (:meth:`Detector.fit <sadlib.detectors.base.Detector.fit>` has checked the
   parameters with :mod:`sadlib.validation`);
2. split the *rows* of the training part chronologically: the last ``validation``
   fraction (at least enough rows for one validation example) is for early stopping.
   Each part is windowed on its own, so no window holds rows of both parts (Keras's
   ``validation_split`` would cut a list of overlapping windows instead, and the
   windows at the boundary would leak training rows into validation);
3. fit the scaler on the training part only (never on the calibration tail that
   :meth:`Detector.fit <sadlib.detectors.base.Detector.fit>` keeps apart) and apply
   it, unclipped, to both parts;
4. seed Keras (``keras.utils.set_random_seed``), build the model (or take one of the same
   architecture from :mod:`~sadlib.detectors.model_cache`, re-initialised in place as a fresh
   build would be; ``MODEL_CACHE.max_size = 0`` turns that off) and train it with
   ``model.fit`` (:func:`~sadlib.detectors.training.fit_model`: the validation part as
   ``validation_data``, ``EarlyStopping`` with ``restore_best_weights=True``).

A subclass says what its model is (``_model_spec``: the builder and its arguments) and what a training example is
(``_examples``: inputs and targets cut from scaled rows).

:class:`WindowAutoencoder` adds the reconstruction score: :meth:`~WindowAutoencoder.model_inputs`
turns rows into the model's inputs and :meth:`~WindowAutoencoder.window_errors`
turns a reconstruction into one score per window. ``score`` and
:mod:`sadlib.streaming` (which runs exported models sample by sample) both use these
two, so the batch path and the edge path share one formula,
:func:`reconstruction_errors`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..environment import import_keras
from ..validation import check_bool, check_choice, check_int, check_number
from ..windows import fit_scaler, sliding_windows, windows_to_points
from .base import DEFAULT_THRESHOLD, Detector, rows_before_first_window
from .model_cache import MODEL_CACHE
from .training import PREDICT_BATCH, STEPS_PER_EXECUTION, fit_model, predict_batches

__all__ = ["KerasWindowDetector", "WindowAutoencoder", "reconstruction_errors", "compile_model"]

SCALERS = ("minmax", "standard", "robust")
ERRORS = ("mse", "mae")
AGGREGATES = ("last", "max", "mean")


def model_spec(builder, *args: Any, **kwargs: Any) -> tuple:
    """``(builder, args, kwargs)``: what :meth:`KerasWindowDetector._model_spec` returns."""
    return builder, args, kwargs


def compile_model(model, learning_rate: float = 1e-3):
    """Compile ``model`` as every course model is: Adam with ``learning_rate``, mean squared error loss.

    ``steps_per_execution`` is :data:`~sadlib.detectors.training.STEPS_PER_EXECUTION` (batches per
    call of the traced training function)."""
    keras = import_keras()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse",
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def reconstruction_errors(
    inputs: Any,
    reconstruction: Any,
    *,
    window: int,
    error: str = "mse",
    error_scale: Any = None,
    per_sensor: bool = False,
) -> np.ndarray:
    """Reconstruction error per window (or per window and sensor) from model inputs and outputs.

    Parameters
    ----------
    inputs, reconstruction : array-like, ``(n_windows, window, n_features)`` or flattened
        ``(n_windows, window * n_features)`` (time-major, as a dense autoencoder takes them)
    window : int, time steps per window (to unflatten)
    error : {"mse", "mae"}, squared or absolute difference of every value (in float64)
    error_scale : array (n_features,), optional; each sensor's errors are divided by it
    per_sensor : bool
        ``False``: the mean over a window's values, shape ``(n_windows,)`` (the score).
        ``True``: the mean over its time steps, shape ``(n_windows, n_features)``.
    """
    check_choice("error", error, ERRORS)
    x = np.asarray(inputs, dtype=np.float64)
    diff = np.asarray(reconstruction, dtype=np.float64).reshape(x.shape) - x
    err = (diff**2 if error == "mse" else np.abs(diff)).reshape(len(x), window, -1)
    if error_scale is not None:
        err = err / np.asarray(error_scale, dtype=np.float64)
    return err.mean(axis=1) if per_sensor else err.mean(axis=(1, 2))


class KerasWindowDetector(Detector):
    """Base class of the Keras detectors: shared parameters, the chronological split, one training path.

    Parameters
    ----------
    window : int
        Time steps per window (stride 1).
    epochs, batch_size, learning_rate : training settings (Adam, MSE loss).
    validation : float in [0, 1)
        Fraction of the training rows, from their *end*, whose windows are used for
        early stopping (at least enough rows for one window). ``0`` trains for all
        ``epochs``.
    patience : int
        Training stops after ``patience`` epochs in a row without a lower validation
        loss; the weights of the best epoch are restored (Keras's ``EarlyStopping``
        with ``restore_best_weights=True``).
    random_state : int or None
        Seed for the weights, dropout and ``fit``'s batch order: ``keras.utils.set_random_seed``
        before the model is built (it seeds Keras's, the backend's, Python's and NumPy's
        global generators). Same seed, same scores on the CPU. ``None`` leaves the
        generators alone.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    model_ : keras.Model, the trained model
    scaler_ : the fitted scikit-learn scaler (training part only)
    history_ : dict of lists, ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_ : int, epochs run (early stopping may end training sooner)
    best_epoch_ : int, the 1-based epoch whose weights were kept (the last one when ``validation=0``)
    n_fit_rows_ : int, rows the model trained on (the rows after them, up to the end of the
        training part, were the early-stopping part)
    """

    #: the smallest window a model accepts
    _min_window = 1
    #: run predictions eagerly instead of tracing a prediction function once per fit
    #: (:func:`~sadlib.detectors.training.predict_batches`); True where that is measured to be faster
    eager_predict: bool = False

    def __init__(self, window: int, *, epochs: int, batch_size: int, learning_rate: float, validation: float,
                 patience: int, random_state: int | None, threshold: Any = DEFAULT_THRESHOLD,
                 calibration: float = 0.2):
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation = validation
        self.patience = patience
        self.random_state = random_state

    # -- what a subclass defines ------------------------------------------------------
    def _model_spec(self, n_features: int) -> tuple:  # pragma: no cover - abstract
        """``model_spec(builder, *args, **kwargs)``: the function that builds and compiles the model for
        windows of ``n_features`` sensors, and its arguments (they are also the model cache's key)."""
        raise NotImplementedError

    def _borrow_model(self, n_features: int):
        """The model to train: built, or re-initialised in place from the model cache
        (:mod:`sadlib.detectors.model_cache`), lent to this detector until it is collected or refitted."""
        self._give_back_model()
        builder, args, kwargs = self._model_spec(n_features)
        self.model_, self._model_loan = MODEL_CACHE.lend(self, builder, *args, **kwargs)

    def _give_back_model(self) -> None:
        """Return a model lent by the cache (before a refit); the detector forgets it."""
        loan = self.__dict__.pop("_model_loan", None)
        if loan is not None and loan.alive:
            self.__dict__.pop("model_", None)
            loan()

    def __getstate__(self):
        # a copied or pickled detector keeps its model (or a copy of it): it never goes back to the cache
        loan = self.__dict__.get("_model_loan")
        if loan is not None:
            loan.detach()
        return {k: v for k, v in self.__dict__.items() if k != "_model_loan"}

    def _examples(self, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        """``(inputs, targets)`` cut from consecutive scaled rows, float32."""
        raise NotImplementedError

    def _scaler_kind(self) -> str:
        return self.scaler

    def _min_val_rows(self) -> int:
        """Rows the early-stopping part needs for one example (a window; a window and the row after it
        for a forecaster). The part the model trains on needs ``window + 1`` rows."""
        return int(self.window)

    def _callbacks(self) -> list:
        """Keras callbacks for ``model.fit`` besides early stopping (none by default; the VQ-VAE logs code usage)."""
        return []

    def _after_fit(self, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Fitted attributes computed from the trained model (error scales, code usage)."""

    # -- parameters -------------------------------------------------------------------
    def _check_params(self) -> None:
        check_int("window", self.window, self._min_window)
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("patience", self.patience, 0)
        check_number("validation", self.validation, 0, 1, high_open=True,
                     hint="It is the fraction of the training rows used for early stopping.")
        check_number("learning_rate", self.learning_rate, 0, low_open=True)
        if self.random_state is not None:
            check_int("random_state", self.random_state, 0)

    @property
    def min_samples(self) -> int:  # rows of the training part: training examples + validation examples
        try:
            return int(self.window) + 1 + (self._min_val_rows() if self.validation > 0 else 0)
        except (TypeError, ValueError):  # invalid params are reported by _fit
            return 2

    @property
    def unscored_rows(self) -> int:  # type: ignore[override]
        """The first ``window - 1`` rows of a scored series have no window of their own: NaN (no score)."""
        return rows_before_first_window(self.window)

    def _split_rows(self, n: int) -> tuple[int, int]:
        """``(n_fit, n_val)``: rows to train on and rows after them for early stopping."""
        w = int(self.window)
        n_val = max(int(round(n * self.validation)), self._min_val_rows()) if self.validation > 0 else 0
        n_fit = n - n_val
        if n_fit < w + 1:
            raise ValueError(
                f"the training part has {n} rows: {n_val} go to the early-stopping validation windows, "
                f"leaving {n_fit}, fewer than window + 1 = {w + 1}. Pass more normal data, a smaller window "
                f"or a smaller validation={self.validation}."
            )
        return n_fit, n_val

    # -- the training path ------------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:  # Detector.fit has checked the parameters
        n_fit, n_val = self._split_rows(len(X))
        self.n_fit_rows_ = n_fit
        self.scaler_ = fit_scaler(X, kind=self._scaler_kind())  # training part only, never the calibration tail
        scaled = self.scaler_.transform(X)
        # split the rows first, then window each part: no example has rows of both parts
        train = self._examples(scaled[:n_fit])
        val = self._examples(scaled[n_fit:]) if n_val else None

        keras = import_keras()
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        self._borrow_model(X.shape[1])
        self.history_, self.best_epoch_ = fit_model(
            self.model_, *train, validation_data=val, epochs=int(self.epochs), batch_size=int(self.batch_size),
            patience=int(self.patience), callbacks=self._callbacks())
        self.n_epochs_ = len(self.history_["loss"])
        self._after_fit(train, val)

    def _predict(self, inputs: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
        """``model_``'s outputs for model inputs, float64 (:func:`~sadlib.detectors.training.predict_batches`)."""
        return predict_batches(self.model_, inputs, batch_size, eager=self.eager_predict)

    def _windows(self, X: np.ndarray) -> np.ndarray:
        """Scaled sliding windows of validated rows, ``(n - window + 1, window, n_features)`` float32."""
        if len(X) < self.window:
            raise ValueError(
                f"X has {len(X)} rows but this detector scores windows of {self.window} rows; pass at least "
                f"{self.window} rows (e.g. prepend the last {self.window - 1} rows of the data before it)."
            )
        return sliding_windows(self.scaler_.transform(X), self.window).astype(np.float32)


class WindowAutoencoder(KerasWindowDetector):
    """Base class of the autoencoders on sliding windows: score = reconstruction error.

    Parameters
    ----------
    window : int, time steps per window (stride 1)
    scaler : {"minmax", "standard", "robust"}
        Fitted on the training part only (:func:`sadlib.windows.fit_scaler`); scaled
        values are not clipped (on new data they can leave the training range, which is
        often exactly the anomaly).
    error : {"mse", "mae"}
        Squared or absolute reconstruction error of each value.
    normalize : bool
        Divide each sensor's errors by its mean error on the training windows
        (``error_scale_``), so a sensor the model rebuilds poorly even on normal data
        does not dominate.
    aggregate : {"last", "max", "mean"}
        How window scores become timestamp scores (:func:`sadlib.windows.windows_to_points`).
        ``"last"`` (default) is causal: the score at t uses only samples up to t. The
        first ``window - 1`` timestamps have no score (NaN) under every mapping.
    epochs, batch_size, learning_rate, validation, patience, random_state, threshold, calibration :
        see :class:`KerasWindowDetector`.

    Fitted attributes
    -----------------
    error_scale_ : ndarray (n_features,), mean error of each sensor on the training windows
        (used only when ``normalize=True``)
    and those of :class:`KerasWindowDetector`.

    Notes
    -----
    ``fit`` needs at least ``2 * window + 1`` rows in the part it trains on (training
    and validation windows), ``score`` at least ``window`` rows.
    """

    #: True when the model takes a window flattened to ``window * n_features`` values (time-major)
    flat_inputs: bool = False

    def __init__(self, window: int, *, scaler: str = "minmax", error: str = "mse", normalize: bool = False,
                 aggregate: str = "last", epochs: int, batch_size: int, learning_rate: float, validation: float,
                 patience: int, random_state: int | None, threshold: Any = DEFAULT_THRESHOLD,
                 calibration: float = 0.2):
        super().__init__(window, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                         validation=validation, patience=patience, random_state=random_state, threshold=threshold,
                         calibration=calibration)
        self.scaler = scaler
        self.error = error
        self.normalize = normalize
        self.aggregate = aggregate

    def _check_params(self) -> None:
        super()._check_params()
        check_choice("scaler", self.scaler, SCALERS)
        check_choice("error", self.error, ERRORS)
        check_choice("aggregate", self.aggregate, AGGREGATES)
        check_bool("normalize", self.normalize)

    def _to_model(self, windows: np.ndarray) -> np.ndarray:
        return windows.reshape(len(windows), -1) if self.flat_inputs else windows

    def _examples(self, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self._to_model(sliding_windows(scaled, self.window).astype(np.float32))
        return x, x

    def _after_fit(self, train, val) -> None:
        scale = self._errors(train[0], per_sensor=True, normalize=False).mean(axis=0)
        self.error_scale_ = np.where(scale > 0, scale, 1.0)

    # -- the public pieces of the score ---------------------------------------------------
    def model_inputs(self, X: Any) -> np.ndarray:
        """The model's inputs for ``X``: its scaled sliding windows (stride 1), float32.

        Shape ``(n_samples - window + 1, window, n_features)``, or ``(n_windows, window *
        n_features)`` when ``flat_inputs``. Window ``i`` covers rows ``i .. i + window - 1``.
        Run them through the model (Keras, or an exported LiteRT / ONNX file) and pass the
        outputs to :meth:`window_errors`.
        """
        self._check_fitted()
        return self._to_model(self._windows(self._validate(X, fitting=False)))

    def window_errors(self, inputs: Any, reconstruction: Any, *, per_sensor: bool = False) -> np.ndarray:
        """This detector's reconstruction error of every window, from model inputs and outputs.

        The formula of :meth:`score` (:func:`reconstruction_errors` with this detector's
        ``error`` and, when ``normalize=True``, ``error_scale_``), before windows are
        mapped to timestamps. ``per_sensor=True`` returns ``(n_windows, n_features)``.
        """
        self._check_fitted()
        scale = self.error_scale_ if self.normalize else None
        return reconstruction_errors(inputs, reconstruction, window=int(self.window), error=self.error,
                                     error_scale=scale, per_sensor=per_sensor)

    def _errors(self, inputs: np.ndarray, *, per_sensor: bool, normalize: bool) -> np.ndarray:
        scale = self.error_scale_ if normalize else None
        return reconstruction_errors(inputs, self._predict(inputs), window=int(self.window),
                                     error=self.error, error_scale=scale, per_sensor=per_sensor)

    def _score(self, X: np.ndarray) -> np.ndarray:
        inputs = self._to_model(self._windows(X))
        per_window = self._errors(inputs, per_sensor=False, normalize=bool(self.normalize))
        return windows_to_points(per_window, len(X), self.window, how=self.aggregate)

    def sensor_errors(self, X: Any, *, context: Any = None, normalized: bool | None = None) -> np.ndarray:
        """Reconstruction error per sensor and timestamp, shape ``(n_samples, n_features)``.

        Entry ``[t, j]`` is sensor ``j``'s error averaged over the time steps of the
        window(s) that ``aggregate`` assigns to t (for ``"last"``: the window ending at
        t), in scaled units (divided by ``error_scale_`` when ``normalized``, which
        defaults to the ``normalize`` parameter). The largest entry names the sensor
        rebuilt worst, usually the one behind an alarm. The first ``window - 1`` rows
        have no window of their own and are NaN, as their scores are; ``context``
        (rows that come right before ``X``, e.g. the end of the validation part) feeds
        those windows and is not returned. The same name and signature as
        :meth:`LSTMForecaster.sensor_errors <sadlib.detectors.LSTMForecaster.sensor_errors>`.
        With ``aggregate="last"`` or ``"mean"`` and ``normalized`` left as it is,
        ``sensor_errors(X).mean(axis=1)`` equals ``score(X)``, NaN included.
        """
        self._check_fitted()
        norm = bool(self.normalize) if normalized is None else check_bool("normalized", normalized)
        arr = self._validate(X, fitting=False)
        skip = 0
        if context is not None:
            ctx = self._validate(context, fitting=False)
            arr, skip = np.concatenate([ctx, arr]), len(ctx)
        inputs = self._to_model(self._windows(arr))
        n = len(arr)
        per_sensor = self._errors(inputs, per_sensor=True, normalize=norm)
        out = np.column_stack([windows_to_points(per_sensor[:, j], n, self.window, how=self.aggregate)
                               for j in range(per_sensor.shape[1])])
        out[: self.unscored_rows] = np.nan
        return out[skip:]
