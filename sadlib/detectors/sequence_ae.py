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

Training is :class:`~sadlib.detectors.keras_base.KerasWindowDetector`'s one path
(``model.fit`` through :func:`~sadlib.detectors.training.fit_model`), the same as for the dense
autoencoder, the VQ-VAE and the LSTM forecaster.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, Literal, Sequence

from ..environment import import_keras
from ..validation import check_int, check_number
from .base import DEFAULT_THRESHOLD
from .keras_base import WindowAutoencoder, compile_model, model_spec

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


# --------------------------------------------------------------------------- #
# model builders: input (batch, window, n_features) -> output of the same shape
# --------------------------------------------------------------------------- #
def _check_shape(window: int, n_features: int) -> tuple[int, int]:
    return check_int("window", window, 2), check_int("n_features", n_features, 1)


def _check_code(units: int, window: int, n_features: int) -> int:
    units = check_int("units", units, 1)
    if units >= window * n_features:
        raise ValueError(
            f"units={units} must be smaller than the window's window * n_features = {window * n_features} values: "
            f"an overcomplete code can learn the identity and rebuild anomalies perfectly. "
            f"Use fewer units or a longer window."
        )
    return units


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
    layers = import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    code = layers.LSTM(units, unroll=unroll, name="encoder")(inputs)
    x = layers.RepeatVector(window, name="repeat")(code)
    x = layers.LSTM(units, return_sequences=True, unroll=unroll, name="decoder")(x)
    outputs = layers.TimeDistributed(layers.Dense(n_features, name="step_output"), name="reconstruction")(x)
    return compile_model(import_keras().Model(inputs, outputs, name="lstm_autoencoder"), learning_rate)


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
    filters = [check_int("each filters entry", f, 1) for f in filters]
    kernel_size = check_int("kernel_size", kernel_size, 1)
    dropout = check_number("dropout", dropout, 0, 1, high_open=True)
    step = 2 ** len(filters)
    if window % step:
        raise ValueError(f"window={window} must be a multiple of {step} (each of the {len(filters)} conv layers "
                         f"halves it); try window={max(step, window // step * step)}.")
    layers = import_keras().layers
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
    return compile_model(import_keras().Model(inputs, outputs, name="conv_autoencoder"), learning_rate)


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
    filters = check_int("filters", filters, 1)
    kernel_size = check_int("kernel_size", kernel_size, 1)
    layers = import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    x = layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name="features")(inputs)
    code = layers.LSTM(units, unroll=unroll, name="encoder")(x)
    x = layers.RepeatVector(window, name="repeat")(code)
    x = layers.LSTM(units, return_sequences=True, unroll=unroll, name="decoder")(x)
    outputs = layers.Dense(n_features, name="reconstruction")(x)
    return compile_model(import_keras().Model(inputs, outputs, name="cnn_lstm_autoencoder"), learning_rate)


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
    layers = import_keras().layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    steps, last, _ = layers.LSTM(units, return_sequences=True, return_state=True, unroll=unroll,
                                 name="encoder")(inputs)
    query = layers.Reshape((1, units), name="query")(last)
    context = layers.Attention(name="attention")([query, steps])  # (batch, 1, units)
    context = layers.Reshape((units,), name="context")(context)
    x = layers.RepeatVector(window, name="repeat")(context)
    x = layers.LSTM(units, return_sequences=True, unroll=unroll, name="decoder")(x)
    outputs = layers.Dense(n_features, name="reconstruction")(x)
    return compile_model(import_keras().Model(inputs, outputs, name="attention_lstm_autoencoder"), learning_rate)


# --------------------------------------------------------------------------- #
# the shared detector
# --------------------------------------------------------------------------- #
class SequenceAutoencoder(WindowAutoencoder):
    """Reconstruction error of a sequence autoencoder on sliding windows (base class).

    Subclasses add their architecture parameters and implement ``_model_spec(n_features)``.
    Everything else (parameters, split, training, scoring) is
    :class:`~sadlib.detectors.keras_base.WindowAutoencoder`'s.

    Parameters
    ----------
    window : int
        Time steps per window (stride 1); the model input is ``(window, n_features)``.
    scaler, error, normalize, aggregate : see :class:`~sadlib.detectors.keras_base.WindowAutoencoder`.
    epochs, batch_size, learning_rate, validation, patience, random_state : see
        :class:`~sadlib.detectors.keras_base.KerasWindowDetector`.
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

    _min_window = 2

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
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)


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

    def _model_spec(self, n_features: int):
        return model_spec(build_lstm_autoencoder, self.window, n_features, units=self.units, unroll=bool(self.unroll),
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

    def _model_spec(self, n_features: int):
        return model_spec(build_conv_autoencoder, self.window, n_features, filters=self.filters,
                          kernel_size=self.kernel_size, dropout=self.dropout, learning_rate=self.learning_rate)


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

    def _model_spec(self, n_features: int):
        return model_spec(build_cnn_lstm_autoencoder, self.window, n_features, filters=self.filters,
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

    def _model_spec(self, n_features: int):
        return model_spec(build_attention_lstm_autoencoder, self.window, n_features, units=self.units,
                                                unroll=bool(self.unroll), learning_rate=self.learning_rate)
