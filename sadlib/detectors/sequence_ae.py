"""Sequence autoencoders on sliding windows (notebook 06): LSTM, Conv1D, CNN-LSTM, attention.

The dense autoencoder (:mod:`.dense_ae`) flattens a window and forgets which value
came first. The models here keep the window as a sequence ``(window, n_features)``
and rebuild it step by step:

* ``lstm_ae``, :class:`LSTMAutoencoder`: LSTM encoder -> the code repeated once per
  time step -> LSTM decoder;
* ``conv_ae``, :class:`ConvAutoencoder`: Conv1D encoder (stride 2) -> Conv1DTranspose
  decoder;
* ``cnn_lstm``, :class:`CNNLSTMAutoencoder`: Conv1D features -> LSTM encoder -> LSTM
  decoder;
* ``attn_lstm``, :class:`AttentionLSTMAutoencoder`: LSTM encoder, attention over its
  steps forms the code -> LSTM decoder.

Everything around the model is shared (:class:`SequenceAutoencoder`) and is the
same honest pipeline as for the dense autoencoder:

1. the scaler is fitted on the training part only (the calibration tail kept apart
   by :meth:`Detector.fit` is never seen by it); scaled values are not clipped;
2. the series is cut into windows ``(n_windows, window, n_features)``, stride 1;
3. early stopping watches a **chronological** validation part: the *rows* are split
   first (the last ``validation`` fraction, at least ``window`` rows), then each part
   is windowed, so no window has rows of both parts;
4. a window's score is its mean squared (or absolute) reconstruction error, each
   sensor's error optionally divided by its mean error on the training windows
   (``normalize=True``, so a sensor the model rebuilds poorly even on normal data
   does not dominate), mapped to timestamps with
   :func:`sadlib.windows.windows_to_points` (``"last"``, the default, is causal).

Every model is a plain functional ``keras.Model`` built from ``keras.layers`` only:
input ``(batch, window, n_features)``, output of the same shape, so it runs on the
TensorFlow and the JAX backend and can be exported with a fixed batch-1 signature.
LSTM layers take ``unroll``: an unrolled LSTM (no while loop) converts to an int8
TFLite model.

Speed. On a CPU, Keras needs 2-5 s to trace the training step of a new LSTM model,
more than training itself takes on a few hundred windows. Detectors therefore share
one compiled *trainer* model per architecture (same class, architecture parameters,
``window``, number of sensors and learning rate) within a process: a fit builds its
own freshly initialised ``model_``, copies its weights into the trainer, resets the
trainer's optimizer, trains, and copies the best weights back into ``model_``. The
result is the same as training ``model_`` itself (same seed, same numbers); the
trainer is only a cache of traced functions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from numbers import Integral, Real
from typing import Any, Literal, Sequence

import numpy as np

from ..windows import fit_scaler, sliding_windows, windows_to_points
from .base import DEFAULT_THRESHOLD, Detector, check_choice
from .dense_ae import _check_int, _import_keras
from .training import EarlyStopping, batch_indices

__all__ = [
    "SequenceAutoencoder",
    "LSTMAutoencoder",
    "ConvAutoencoder",
    "CNNLSTMAutoencoder",
    "AttentionLSTMAutoencoder",
    "build_lstm_autoencoder",
    "build_conv_autoencoder",
    "build_cnn_lstm_autoencoder",
    "build_attention_lstm_autoencoder",
]

_PREDICT_BATCH = 4096  # windows per forward pass when scoring (bounds memory on long series)
_MAX_TRAINERS = 8  # compiled trainer models kept per process (least recently used are dropped)


# --------------------------------------------------------------------------- #
# model builders: input (batch, window, n_features) -> output of the same shape
# --------------------------------------------------------------------------- #
def _check_shape(window: int, n_features: int) -> tuple[int, int]:
    return _check_int("window", window, 2), _check_int("n_features", n_features, 1)


def _check_code(units: int, window: int, n_features: int) -> int:
    units = _check_int("units", units, 1)
    if units >= window * n_features:
        raise ValueError(
            f"units={units} must be smaller than the window's window * n_features = {window * n_features} values: "
            f"an overcomplete code can learn the identity and rebuild anomalies perfectly. "
            f"Use fewer units or a longer window."
        )
    return units


def _compile(model, learning_rate: float):
    keras = _import_keras()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


def build_lstm_autoencoder(window: int, n_features: int, *, units: int = 16, unroll: bool = False,
                           learning_rate: float = 1e-3):
    """LSTM autoencoder: the encoder's last state is the code, repeated once per time step for the decoder.

    ``Input -> LSTM(units) -> RepeatVector(window) -> LSTM(units, return_sequences)
    -> TimeDistributed(Dense(n_features))``. The code (layer ``"encoder"``) has
    ``units`` values for the whole window, so ``units < window * n_features``.
    ``unroll=True`` unrolls both LSTMs (needed for int8 TFLite export). Compiled
    (Adam, MSE).
    """
    window, n_features = _check_shape(window, n_features)
    units = _check_code(units, window, n_features)
    layers = _import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    code = layers.LSTM(units, unroll=unroll, name="encoder")(inputs)
    x = layers.RepeatVector(window, name="repeat")(code)
    x = layers.LSTM(units, return_sequences=True, unroll=unroll, name="decoder")(x)
    outputs = layers.TimeDistributed(layers.Dense(n_features), name="reconstruction")(x)
    return _compile(_import_keras().Model(inputs, outputs, name="lstm_autoencoder"), learning_rate)


def build_conv_autoencoder(window: int, n_features: int, *, filters: Sequence[int] = (32, 16),
                           kernel_size: int = 7, dropout: float = 0.2, learning_rate: float = 1e-3):
    """1-D convolutional autoencoder (the structure of the Keras timeseries anomaly-detection example).

    Each encoder layer is a ``Conv1D`` with stride 2 (halves the time axis, ReLU);
    the decoder mirrors it with stride-2 ``Conv1DTranspose`` layers, and a last
    ``Conv1DTranspose`` maps back to ``n_features`` channels (linear). ``dropout``
    follows every encoder and decoder layer but the innermost ones. ``window`` must
    be a multiple of ``2 ** len(filters)`` (4 by default) so the decoder ends on
    exactly ``window`` steps. Compiled (Adam, MSE).
    """
    window, n_features = _check_shape(window, n_features)
    if isinstance(filters, (Integral, str)) or not isinstance(filters, Sequence) or not filters:
        raise ValueError(f"filters must be a non-empty sequence of channel counts such as (32, 16), got {filters!r}.")
    filters = [_check_int("each filters entry", f, 1) for f in filters]
    kernel_size = _check_int("kernel_size", kernel_size, 1)
    if isinstance(dropout, bool) or not isinstance(dropout, Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a fraction in [0, 1), got {dropout!r}.")
    step = 2 ** len(filters)
    if window % step:
        raise ValueError(f"window={window} must be a multiple of {step} (each of the {len(filters)} conv layers "
                         f"halves it); try window={max(step, window // step * step)}.")
    layers = _import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv1D(f, kernel_size, strides=2, padding="same", activation="relu", name=f"encoder_{i}")(x)
        if dropout and i < len(filters) - 1:
            x = layers.Dropout(dropout, name=f"encoder_dropout_{i}")(x)
    for i, f in enumerate(reversed(filters)):
        x = layers.Conv1DTranspose(f, kernel_size, strides=2, padding="same", activation="relu",
                                   name=f"decoder_{i}")(x)
        if dropout and i == 0 and len(filters) > 1:
            x = layers.Dropout(dropout, name="decoder_dropout")(x)
    outputs = layers.Conv1DTranspose(n_features, kernel_size, padding="same", name="reconstruction")(x)
    return _compile(_import_keras().Model(inputs, outputs, name="conv_autoencoder"), learning_rate)


def build_cnn_lstm_autoencoder(window: int, n_features: int, *, filters: int = 32, kernel_size: int = 3,
                               units: int = 16, unroll: bool = False, learning_rate: float = 1e-3):
    """CNN-LSTM autoencoder: a ``Conv1D`` extracts local features, then an LSTM autoencoder works on them.

    ``Input -> Conv1D(filters, kernel_size, ReLU) -> LSTM(units) -> RepeatVector(window)
    -> LSTM(units, return_sequences) -> Dense(n_features)`` (a ``Dense`` on a sequence
    acts on each time step). The code (layer ``"encoder"``) has ``units`` values.
    Compiled (Adam, MSE).
    """
    window, n_features = _check_shape(window, n_features)
    units = _check_code(units, window, n_features)
    filters = _check_int("filters", filters, 1)
    kernel_size = _check_int("kernel_size", kernel_size, 1)
    layers = _import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    x = layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name="features")(inputs)
    code = layers.LSTM(units, unroll=unroll, name="encoder")(x)
    x = layers.RepeatVector(window, name="repeat")(code)
    x = layers.LSTM(units, return_sequences=True, unroll=unroll, name="decoder")(x)
    outputs = layers.Dense(n_features, name="reconstruction")(x)
    return _compile(_import_keras().Model(inputs, outputs, name="cnn_lstm_autoencoder"), learning_rate)


def build_attention_lstm_autoencoder(window: int, n_features: int, *, units: int = 16, unroll: bool = False,
                                     learning_rate: float = 1e-3):
    """LSTM autoencoder whose code is an attention-weighted average of all encoder steps.

    The encoder LSTM returns its state at every step ``h_1..h_T`` and its last state
    ``h_T``. Dot-product attention (``layers.Attention``) with query ``h_T`` weighs the
    steps, ``softmax(h_T . h_t)``, and their weighted sum is the context (layer
    ``"context"``, ``units`` values): steps that matter for the window get more weight
    than in a plain LSTM autoencoder, whose code is ``h_T`` alone. The context is
    repeated for an LSTM decoder and a per-step ``Dense``. Compiled (Adam, MSE).
    """
    window, n_features = _check_shape(window, n_features)
    units = _check_code(units, window, n_features)
    layers = _import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    steps, last, _ = layers.LSTM(units, return_sequences=True, return_state=True, unroll=unroll,
                                 name="encoder")(inputs)
    query = layers.Reshape((1, units), name="query")(last)
    context = layers.Attention(name="attention")([query, steps])  # (batch, 1, units)
    context = layers.Reshape((units,), name="context")(context)
    x = layers.RepeatVector(window, name="repeat")(context)
    x = layers.LSTM(units, return_sequences=True, unroll=unroll, name="decoder")(x)
    outputs = layers.Dense(n_features, name="reconstruction")(x)
    return _compile(_import_keras().Model(inputs, outputs, name="attention_lstm_autoencoder"), learning_rate)


# --------------------------------------------------------------------------- #
# shared trainers (a cache of traced training and prediction functions)
# --------------------------------------------------------------------------- #
_TRAINERS: OrderedDict[tuple, tuple[Any, list[np.ndarray]]] = OrderedDict()
_TRAINERS_LOCK = threading.RLock()  # one fit or score at a time uses a trainer


def _copy_state(source, target) -> None:
    """Copy every variable (weights and dropout seed states) of ``source`` into the same-architecture ``target``."""
    src, dst = source.variables, target.variables
    if len(src) != len(dst):  # pragma: no cover - a bug, the two come from the same builder
        raise RuntimeError("the trainer and the model have different variables")
    for s, d in zip(src, dst):
        d.assign(s.numpy())


# --------------------------------------------------------------------------- #
# the shared detector
# --------------------------------------------------------------------------- #
class SequenceAutoencoder(Detector):
    """Reconstruction error of a sequence autoencoder on sliding windows (base class).

    Subclasses add their architecture parameters and implement :meth:`_build`.

    Parameters
    ----------
    window : int
        Time steps per window (stride 1); the model input is ``(window, n_features)``.
    scaler : {"minmax", "standard", "robust"}
        Fitted on the training part only (:func:`sadlib.windows.fit_scaler`); not clipped.
    error : {"mse", "mae"}
        Squared or absolute reconstruction error of each value.
    normalize : bool
        Divide each sensor's errors by its mean error on the training windows
        (``error_scale_``), so every sensor's error is in units of "its usual error".
    aggregate : {"last", "max", "mean"}
        Window scores -> timestamp scores (:func:`sadlib.windows.windows_to_points`);
        ``"last"`` is causal (the window ending at t). The first ``window - 1``
        timestamps of a series take the first window's score.
    epochs, batch_size, learning_rate : training settings (Adam, MSE loss).
    validation : float in [0, 1)
        Fraction of the training rows, from their end (at least ``window`` rows), whose
        windows are used for early stopping. ``0`` trains for all ``epochs``.
    patience : int
        Stop after ``patience`` epochs without a lower validation loss and keep the
        weights of the best epoch.
    random_state : int or None
        Seed for the weights, dropout and batch order (``keras.utils.set_random_seed``,
        which also seeds Python's and NumPy's global generators). ``None`` leaves the
        generators alone.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    model_ : keras.Model, the trained autoencoder, ``(batch, window, n_features)`` in and out
    scaler_ : the fitted scikit-learn scaler
    error_scale_ : ndarray (n_features,), mean error of each sensor on the training windows
        (used only when ``normalize=True``)
    history_ : dict, ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_ : int, epochs run; best_epoch_ : int, the epoch (1-based) whose weights were kept

    Notes
    -----
    ``fit`` needs at least ``2 * window + 1`` rows in the part it trains on (training
    and validation windows), ``score`` at least ``window`` rows.
    """

    #: parameters that do not change the network or its optimizer (left out of the trainer cache key)
    _NOT_ARCHITECTURE = ("scaler", "error", "normalize", "aggregate", "epochs", "batch_size", "validation",
                         "patience", "random_state", "threshold", "calibration")

    def __init__(
        self,
        window: int = 24,
        *,
        scaler: Literal["minmax", "standard", "robust"] = "minmax",
        error: Literal["mse", "mae"] = "mse",
        normalize: bool = False,
        aggregate: Literal["last", "max", "mean"] = "last",
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        validation: float = 0.2,
        patience: int = 5,
        random_state: int | None = 0,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.scaler = scaler
        self.error = error
        self.normalize = normalize
        self.aggregate = aggregate
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation = validation
        self.patience = patience
        self.random_state = random_state

    def _build(self, n_features: int):  # pragma: no cover - abstract
        """Return the compiled model for windows of ``(self.window, n_features)``."""
        raise NotImplementedError

    @property
    def min_samples(self) -> int:  # rows of the training part: training windows + validation windows
        try:
            w = int(self.window)
            return 2 * w + 1 if self.validation > 0 else w + 1
        except (TypeError, ValueError):  # invalid params are reported by _fit
            return 2

    # -- fitting ----------------------------------------------------------------------
    def _check_params(self) -> None:
        _check_int("window", self.window, 2)
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("patience", self.patience, 0)
        check_choice("scaler", self.scaler, ("minmax", "standard", "robust"))
        check_choice("error", self.error, ("mse", "mae"))
        check_choice("aggregate", self.aggregate, ("last", "max", "mean"))
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ValueError(f"normalize must be True or False, got {self.normalize!r}.")
        if isinstance(self.validation, bool) or not isinstance(self.validation, Real) or not 0 <= self.validation < 1:
            raise ValueError(f"validation must be a fraction in [0, 1), got {self.validation!r}.")
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, Real) or not lr > 0:
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}.")
        if self.random_state is not None:
            _check_int("random_state", self.random_state, 0)

    def _fit(self, X: np.ndarray) -> None:
        self._check_params()
        keras = _import_keras()
        w = self.window
        n_val = max(int(round(len(X) * self.validation)), w) if self.validation > 0 else 0
        n_fit = len(X) - n_val
        if n_fit < w + 1:
            raise ValueError(
                f"the training part has {len(X)} rows: {n_val} go to the early-stopping validation windows, "
                f"leaving {n_fit}, fewer than window + 1 = {w + 1}. Pass more normal data, a smaller window "
                f"or a smaller validation={self.validation}."
            )
        self.scaler_ = fit_scaler(X, kind=self.scaler)  # training part only, never the calibration tail
        scaled = self.scaler_.transform(X)
        # split the rows first, then window each part: no window has rows of both parts
        train = sliding_windows(scaled[:n_fit], w).astype(np.float32)
        val = sliding_windows(scaled[n_fit:], w).astype(np.float32) if n_val else None

        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        self.model_ = self._build(X.shape[1])  # freshly initialised (seeded) weights
        with _TRAINERS_LOCK:
            trainer, optimizer_start = self._trainer(X.shape[1])
            _copy_state(self.model_, trainer)  # this fit's initial weights (and dropout seeds)
            for variable, value in zip(trainer.optimizer.variables, optimizer_start):
                variable.assign(value)  # a fresh optimizer: step 0, zero moments
            self.history_, self.best_epoch_ = self._train(trainer, train, val)
            _copy_state(trainer, self.model_)
        self.n_epochs_ = len(self.history_["loss"])
        scale = self._errors(train, normalize=False).mean(axis=(0, 1))
        self.error_scale_ = np.where(scale > 0, scale, 1.0)

    def _trainer(self, n_features: int):
        """``(trainer, optimizer_start)``: the compiled model shared by detectors of this architecture
        and the values of its optimizer's variables before any step. Call with ``_TRAINERS_LOCK`` held."""
        params = self.get_params(deep=False)
        key = (type(self).__name__, n_features,
               repr(sorted((k, v) for k, v in params.items() if k not in self._NOT_ARCHITECTURE)))
        if key not in _TRAINERS:
            trainer = self._build(n_features)
            trainer.optimizer.build(trainer.trainable_variables)
            _TRAINERS[key] = (trainer, [np.array(v.numpy()) for v in trainer.optimizer.variables])
            while len(_TRAINERS) > _MAX_TRAINERS:
                _TRAINERS.popitem(last=False)  # the least recently used
        _TRAINERS.move_to_end(key)
        return _TRAINERS[key]

    def _train(self, model, train: np.ndarray, val: np.ndarray | None) -> tuple[dict[str, list[float]], int]:
        """Mini-batch training with early stopping on ``val``, restoring the best weights.

        The same as ``model.fit(train, train, validation_data=(val, val),
        callbacks=[EarlyStopping(patience=..., restore_best_weights=True)])``, as a loop of
        ``train_on_batch`` calls (``fit`` sets up a data pipeline every epoch, which
        dominates on a few hundred windows). Each epoch takes the windows in a new random
        order, in batches of equal size.
        """
        rng = np.random.default_rng(self.random_state)
        history: dict[str, list[float]] = {"loss": []} if val is None else {"loss": [], "val_loss": []}
        stopper = EarlyStopping(model, self.patience)
        for epoch in range(self.epochs):
            losses = [float(model.train_on_batch(train[idx], train[idx]))
                      for idx in batch_indices(len(train), self.batch_size, rng)]
            history["loss"].append(float(np.mean(losses)))
            if val is None:
                continue
            val_loss = float(np.mean((self._forward(model, val) - val) ** 2))
            history["val_loss"].append(val_loss)
            if stopper.update(epoch, val_loss):
                break
        stopper.restore()
        return history, stopper.best_epoch if val is not None else len(history["loss"])

    # -- scoring ----------------------------------------------------------------------
    @staticmethod
    def _forward(model, windows: np.ndarray) -> np.ndarray:
        parts = [np.asarray(model.predict_on_batch(windows[i : i + _PREDICT_BATCH]))
                 for i in range(0, len(windows), _PREDICT_BATCH)]
        return np.concatenate(parts).astype(np.float64)

    def _reconstruct(self, windows: np.ndarray) -> np.ndarray:
        """``model_``'s reconstruction of ``windows``, run by the shared trainer (already traced)."""
        with _TRAINERS_LOCK:
            trainer, _ = self._trainer(self.n_features_in_)
            _copy_state(self.model_, trainer)
            return self._forward(trainer, windows)

    def _errors(self, windows: np.ndarray, *, normalize: bool) -> np.ndarray:
        """Error of every value of every window, ``(n_windows, window, n_features)``."""
        diff = self._reconstruct(windows) - windows
        err = diff**2 if self.error == "mse" else np.abs(diff)
        return err / self.error_scale_ if normalize else err

    def _value_errors(self, X: np.ndarray) -> np.ndarray:
        if len(X) < self.window:
            raise ValueError(
                f"X has {len(X)} rows but this detector scores windows of {self.window} rows; pass at least "
                f"{self.window} rows (e.g. prepend the last {self.window - 1} rows of the data before it)."
            )
        windows = sliding_windows(self.scaler_.transform(X), self.window).astype(np.float32)
        return self._errors(windows, normalize=bool(self.normalize))

    def _score(self, X: np.ndarray) -> np.ndarray:
        per_window = self._value_errors(X).mean(axis=(1, 2))
        return windows_to_points(per_window, len(X), self.window, how=self.aggregate)

    def sensor_errors(self, X: Any) -> np.ndarray:
        """Reconstruction error per sensor and timestamp, shape ``(n_samples, n_features)``.

        Entry ``[t, j]`` is sensor ``j``'s error averaged over the time steps of the
        window(s) that ``aggregate`` assigns to t (for ``"last"``: the window ending at
        t), in scaled units (divided by ``error_scale_`` when ``normalize=True``). The
        largest entry names the sensor rebuilt worst, usually the one behind an alarm.
        With ``aggregate="last"`` or ``"mean"``, ``sensor_errors(X).mean(axis=1)``
        equals ``score(X)``.
        """
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        per_sensor = self._value_errors(arr).mean(axis=1)  # (n_windows, n_features)
        return np.column_stack([windows_to_points(per_sensor[:, j], len(arr), self.window, how=self.aggregate)
                                for j in range(per_sensor.shape[1])])


# --------------------------------------------------------------------------- #
# the four detectors: architecture parameters + the builder
# --------------------------------------------------------------------------- #
_COMMON_DOC = """
    scaler, error, normalize, aggregate, epochs, batch_size, learning_rate, validation,
    patience, random_state, threshold, calibration : see :class:`SequenceAutoencoder`.
"""


class LSTMAutoencoder(SequenceAutoencoder):
    """LSTM autoencoder (:func:`build_lstm_autoencoder`) on windows; score = reconstruction error.

    Parameters
    ----------
    window : int, time steps per window
    units : int, size of both LSTMs and of the code (``< window * n_features``)
    unroll : bool, unroll the LSTMs (slower to build, needed for int8 TFLite export)
    """

    __doc__ += _COMMON_DOC

    def __init__(self, window: int = 24, *, units: int = 16, unroll: bool = False,
                 scaler: Literal["minmax", "standard", "robust"] = "minmax", error: Literal["mse", "mae"] = "mse",
                 normalize: bool = False, aggregate: Literal["last", "max", "mean"] = "last", epochs: int = 30,
                 batch_size: int = 32, learning_rate: float = 3e-3, validation: float = 0.2, patience: int = 5,
                 random_state: int | None = 0, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.units = units
        self.unroll = unroll

    def _build(self, n_features: int):
        return build_lstm_autoencoder(self.window, n_features, units=self.units, unroll=bool(self.unroll),
                                      learning_rate=self.learning_rate)


class ConvAutoencoder(SequenceAutoencoder):
    """1-D convolutional autoencoder (:func:`build_conv_autoencoder`) on windows; score = reconstruction error.

    Parameters
    ----------
    window : int, time steps per window, a multiple of ``2 ** len(filters)`` (4 by default)
    filters : sequence of int, channels of the stride-2 encoder layers (the decoder mirrors them)
    kernel_size : int, time steps each convolution sees
    dropout : float in [0, 1), dropout rate during training (as in the Keras example)
    """

    __doc__ += _COMMON_DOC

    def __init__(self, window: int = 24, *, filters: Sequence[int] = (32, 16), kernel_size: int = 7,
                 dropout: float = 0.2, scaler: Literal["minmax", "standard", "robust"] = "minmax",
                 error: Literal["mse", "mae"] = "mse", normalize: bool = False,
                 aggregate: Literal["last", "max", "mean"] = "last", epochs: int = 30, batch_size: int = 32,
                 learning_rate: float = 3e-3, validation: float = 0.2, patience: int = 5,
                 random_state: int | None = 0, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.filters = filters
        self.kernel_size = kernel_size
        self.dropout = dropout

    def _build(self, n_features: int):
        return build_conv_autoencoder(self.window, n_features, filters=self.filters, kernel_size=self.kernel_size,
                                      dropout=self.dropout, learning_rate=self.learning_rate)


class CNNLSTMAutoencoder(SequenceAutoencoder):
    """CNN-LSTM autoencoder (:func:`build_cnn_lstm_autoencoder`) on windows; score = reconstruction error.

    Parameters
    ----------
    window : int, time steps per window
    filters, kernel_size : int, the Conv1D feature extractor
    units : int, size of both LSTMs and of the code (``< window * n_features``)
    unroll : bool, unroll the LSTMs (needed for int8 TFLite export)
    """

    __doc__ += _COMMON_DOC

    def __init__(self, window: int = 24, *, filters: int = 32, kernel_size: int = 3, units: int = 16,
                 unroll: bool = False, scaler: Literal["minmax", "standard", "robust"] = "minmax",
                 error: Literal["mse", "mae"] = "mse", normalize: bool = False,
                 aggregate: Literal["last", "max", "mean"] = "last", epochs: int = 30, batch_size: int = 32,
                 learning_rate: float = 3e-3, validation: float = 0.2, patience: int = 5,
                 random_state: int | None = 0, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.filters = filters
        self.kernel_size = kernel_size
        self.units = units
        self.unroll = unroll

    def _build(self, n_features: int):
        return build_cnn_lstm_autoencoder(self.window, n_features, filters=self.filters,
                                          kernel_size=self.kernel_size, units=self.units,
                                          unroll=bool(self.unroll), learning_rate=self.learning_rate)


class AttentionLSTMAutoencoder(SequenceAutoencoder):
    """LSTM autoencoder with attention (:func:`build_attention_lstm_autoencoder`); score = reconstruction error.

    Parameters
    ----------
    window : int, time steps per window
    units : int, size of both LSTMs and of the context (``< window * n_features``)
    unroll : bool, unroll the LSTMs (needed for int8 TFLite export)
    """

    __doc__ += _COMMON_DOC

    def __init__(self, window: int = 24, *, units: int = 16, unroll: bool = False,
                 scaler: Literal["minmax", "standard", "robust"] = "minmax", error: Literal["mse", "mae"] = "mse",
                 normalize: bool = False, aggregate: Literal["last", "max", "mean"] = "last", epochs: int = 30,
                 batch_size: int = 32, learning_rate: float = 3e-3, validation: float = 0.2, patience: int = 5,
                 random_state: int | None = 0, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.units = units
        self.unroll = unroll

    def _build(self, n_features: int):
        return build_attention_lstm_autoencoder(self.window, n_features, units=self.units,
                                                unroll=bool(self.unroll), learning_rate=self.learning_rate)
