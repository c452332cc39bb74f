"""A small Transformer autoencoder on sliding windows (notebook 10): ``transformer_ae``.

The sequence autoencoders of :mod:`.sequence_ae` read a window step by step (LSTM) or
through a local filter (Conv1D). A Transformer encoder lets every time step look at
every other one through self-attention (Vaswani et al., "Attention is all you need",
NeurIPS 2017), which suits multivariate windows whose sensors move together with a
delay, such as a compressor's pressure, current and temperature over one load cycle.

The model is written in the style of the keras.io examples (the Transformer block of
"Text classification with Transformer" and "Timeseries classification with a
Transformer model"): short, named ``keras.layers``, nothing custom but the positional
embedding, which uses ``keras.ops`` only, so the same model runs on the TensorFlow and
the JAX backend::

    window (T, n_features)
      -> Dense(d_model)                              "projection": each step's sensors to d_model values
      -> + positional embedding                       "encoder_position": sinusoidal or learned
      -> blocks x [MultiHeadAttention -> Dropout -> + residual -> LayerNormalization
                   -> Dense(ff_dim, relu) -> Dense(d_model) -> Dropout -> + residual -> LayerNormalization]
      -> AveragePooling1D(pool) -> Dense(latent)     "encoder": the code, T / pool steps of latent values
      -> UpSampling1D(pool) -> Dense(d_model)         "upsample": each code step repeated pool times
      -> + positional embedding                       "decoder_position": tells the repeats apart
      -> blocks x the same Transformer block
      -> Dense(n_features)                            "reconstruction", (T, n_features)

**What stops it from copying its input.** Self-attention and residual connections
carry every value of a step straight through to the output; a Transformer without a
bottleneck learns the identity and rebuilds an anomaly as well as normal data (score
zero everywhere). Here every path from the input to the output passes through the
code: the encoder's steps are averaged ``pool`` at a time and each average is squeezed
to ``latent`` numbers, ``window / pool * latent`` numbers for the whole window, fewer
than its ``window * n_features`` values (a larger code is refused). The decoder sees
only the code and the positions, so it rebuilds what the code can describe, the normal
patterns it was trained on, and rebuilds a spike or a shift it never saw poorly.
Dropout adds noise during training only.

A first version squeezed the whole window into one vector (``Flatten -> Dense(latent)
-> RepeatVector``), the LSTM autoencoder's design; on the compressor twin of
:func:`sadlib.signals.make_compressor` (13 varying channels at 1 min, windows of 32,
10 epochs) its validation loss stayed 5-10 times the pooled code's, which rebuilds
each part of the window from its own code step.

The detector, :class:`TransformerAutoencoder`, is a
:class:`~sadlib.detectors.keras_base.WindowAutoencoder` like the other sequence
autoencoders: scaler fitted on the training part only, chronological early-stopping
split, score = reconstruction error of the window ending at t (``aggregate="last"``),
per-sensor errors with :meth:`~sadlib.detectors.keras_base.WindowAutoencoder.sensor_errors`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..environment import import_keras
from ..validation import InvalidParameterError, check_choice, check_int, check_number
from .base import DEFAULT_THRESHOLD
from .keras_base import WindowAutoencoder, compile_model, model_spec

__all__ = ["TransformerAutoencoder", "build_transformer_autoencoder", "sinusoidal_positions", "POSITIONS",
           "PositionEmbedding"]

#: the kinds of positional embedding
POSITIONS = ("sinusoidal", "learned")


def sinusoidal_positions(window: int, d_model: int) -> np.ndarray:
    """The fixed positional embedding of Vaswani et al. (2017), ``(window, d_model)`` float32.

    Entry ``[t, 2i] = sin(t / 10000**(2i / d_model))`` and ``[t, 2i + 1] = cos(...)`` of the
    same angle: every position gets its own pattern, and nearby positions similar ones.
    """
    window = check_int("window", window, 1)
    d_model = check_int("d_model", d_model, 1)
    t = np.arange(window, dtype=np.float64)[:, None]
    i = np.arange(d_model)[None, :]
    angle = t / np.power(10000.0, (i // 2 * 2) / d_model)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle)).astype(np.float32)


# --------------------------------------------------------------------------- #
# the positional embedding layer (in .layers, which imports Keras)
# --------------------------------------------------------------------------- #
def PositionEmbedding(*args, **kwargs):  # noqa: N802 - the class lives in .layers, which imports Keras
    """The positional embedding layer, :class:`sadlib.detectors.layers.PositionEmbedding` (registered for
    serialisation): ``PositionEmbedding(kind, name=...)``. Keras is imported on first use."""
    from .layers import PositionEmbedding as cls

    return cls(*args, **kwargs)


# --------------------------------------------------------------------------- #
# the model
# --------------------------------------------------------------------------- #
def _check_architecture(window: Any, n_features: Any, d_model: Any, heads: Any, blocks: Any, ff_dim: Any,
                        dropout: Any, pool: Any, latent: Any, position: Any) -> dict:
    window = check_int("window", window, 2)
    n_features = check_int("n_features", n_features, 1)
    d_model = check_int("d_model", d_model, 1, hint="It is the width of every time step inside the model.")
    heads = check_int("heads", heads, 1)
    if d_model % heads:
        raise InvalidParameterError(
            f"d_model={d_model} must be a multiple of heads={heads} (each attention head works on "
            f"d_model / heads values); try d_model={max(heads, d_model // heads * heads)} or heads=1.")
    blocks = check_int("blocks", blocks, 1, 4, hint="One or two Transformer blocks are enough for short windows.")
    ff_dim = check_int("ff_dim", ff_dim, 1)
    dropout = check_number("dropout", dropout, 0, 1, high_open=True)
    pool = check_int("pool", pool, 1, hint="It is the number of time steps averaged into one code step.")
    if window % pool:
        raise InvalidParameterError(
            f"window={window} must be a multiple of pool={pool} (every {pool} steps become one code step); "
            f"try window={max(pool, window // pool * pool)}.")
    latent = check_int("latent", latent, 1, hint="It is the number of values per code step.")
    code = window // pool * latent
    if code >= window * n_features:
        raise InvalidParameterError(
            f"the code has window / pool * latent = {code} values, not fewer than the window's window * n_features "
            f"= {window * n_features}: an overcomplete code lets the model learn the identity and rebuild anomalies "
            f"perfectly. Use a smaller latent, a larger pool or more sensors.")
    check_choice("position", position, POSITIONS)
    return dict(window=window, n_features=n_features, d_model=d_model, heads=heads, blocks=blocks, ff_dim=ff_dim,
                dropout=dropout, pool=pool, latent=latent, position=position)


def _transformer_block(x, *, heads: int, d_model: int, ff_dim: int, dropout: float, name: str):
    """Self-attention and a feed-forward network, each with a residual connection and layer normalisation."""
    layers = import_keras().layers
    attention = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads, name=f"{name}_attention")(x, x)
    if dropout:
        attention = layers.Dropout(dropout, name=f"{name}_attention_dropout")(attention)
    x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_attention_norm")(
        layers.Add(name=f"{name}_attention_residual")([x, attention]))
    ff = layers.Dense(ff_dim, activation="relu", name=f"{name}_ff_hidden")(x)
    ff = layers.Dense(d_model, name=f"{name}_ff_output")(ff)
    if dropout:
        ff = layers.Dropout(dropout, name=f"{name}_ff_dropout")(ff)
    return layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ff_norm")(
        layers.Add(name=f"{name}_ff_residual")([x, ff]))


def build_transformer_autoencoder(window: int, n_features: int, *, d_model: int = 16, heads: int = 2,
                                  blocks: int = 1, ff_dim: int = 32, dropout: float = 0.1, pool: int = 4,
                                  latent: int = 4, position: str = "sinusoidal", learning_rate: float = 1e-3):
    """A compiled Transformer autoencoder (Adam, MSE): ``(batch, window, n_features)`` in and out.

    The layers are listed in the module docstring. ``blocks`` Transformer blocks in the
    encoder and as many in the decoder, each with ``heads`` attention heads of
    ``d_model / heads`` values and a feed-forward network of ``ff_dim`` units; the code
    (layer ``"encoder"``) has ``window / pool`` steps of ``latent`` values, fewer than
    ``window * n_features`` in all. ``position`` is ``"sinusoidal"`` (fixed) or ``"learned"``.
    """
    a = _check_architecture(window, n_features, d_model, heads, blocks, ff_dim, dropout, pool, latent, position)
    keras = import_keras()
    layers = keras.layers
    block = dict(heads=a["heads"], d_model=a["d_model"], ff_dim=a["ff_dim"], dropout=a["dropout"])
    inputs = layers.Input(shape=(a["window"], a["n_features"]), name="window")
    x = layers.Dense(a["d_model"], name="projection")(inputs)
    x = PositionEmbedding(a["position"], name="encoder_position")(x)
    for i in range(a["blocks"]):
        x = _transformer_block(x, **block, name=f"encoder_{i}")
    x = layers.AveragePooling1D(a["pool"], name="pool")(x)
    code = layers.Dense(a["latent"], name="encoder")(x)
    x = layers.UpSampling1D(a["pool"], name="upsample")(code)
    x = layers.Dense(a["d_model"], name="expand")(x)
    x = PositionEmbedding(a["position"], name="decoder_position")(x)
    for i in range(a["blocks"]):
        x = _transformer_block(x, **block, name=f"decoder_{i}")
    outputs = layers.Dense(a["n_features"], name="reconstruction")(x)
    return compile_model(keras.Model(inputs, outputs, name="transformer_autoencoder"), learning_rate)


# --------------------------------------------------------------------------- #
# the detector
# --------------------------------------------------------------------------- #
class TransformerAutoencoder(WindowAutoencoder):
    """Transformer autoencoder (:func:`build_transformer_autoencoder`) on windows; score = reconstruction error.

    Parameters
    ----------
    window : int
        Time steps per window (stride 1), at least 2 and a multiple of ``pool``.
    d_model : int
        Values per time step inside the model (a multiple of ``heads``).
    heads : int
        Attention heads of every ``MultiHeadAttention`` layer.
    blocks : int in [1, 4]
        Transformer blocks in the encoder, and as many in the decoder.
    ff_dim : int
        Hidden units of each block's feed-forward network.
    dropout : float in [0, 1)
        Dropout after attention and after the feed-forward network (training only).
    pool : int
        Encoder steps averaged into one code step.
    latent : int
        Values per code step. The code, ``window / pool * latent`` values, must be smaller
        than ``window * n_features``: the bottleneck that keeps the model from copying its
        input (see the module docstring).
    position : {"sinusoidal", "learned"}
        Fixed sine/cosine positional embedding or a trained one.
    scaler, error, normalize, aggregate : see :class:`~sadlib.detectors.keras_base.WindowAutoencoder`.
    epochs, batch_size, learning_rate, validation, patience, random_state : see
        :class:`~sadlib.detectors.keras_base.KerasWindowDetector` (``random_state`` seeds the
        weights, the dropout and the batch order).
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    model_ : keras.Model, the trained autoencoder, ``(batch, window, n_features)`` in and out
    scaler_ : the fitted scikit-learn scaler (training part only)
    error_scale_ : ndarray (n_features,), mean error of each sensor on the training windows
        (used only when ``normalize=True``)
    history_ : dict, ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_ : int, epochs run; best_epoch_ : int, the epoch (1-based) whose weights were kept

    Notes
    -----
    The defaults are small (4 700 weights for 3 sensors, 5 100 for 15, windows of 24) and fit a
    few thousand windows in seconds on a 2-core CPU. For notebooks and tests, pick the
    epochs with :func:`sadlib.course.modes.choose`, e.g. ``epochs=choose(full=30, fast=3)``.
    ``fit`` needs at least ``2 * window + 1`` rows in the part it trains on (training
    and validation windows), ``score`` at least ``window`` rows.

    Examples
    --------
    >>> from sadlib import detectors, signals                          # doctest: +SKIP
    >>> data, events = signals.generate(n_days=2, seed=0)             # doctest: +SKIP
    >>> X = data.drop(columns="anomaly")                              # doctest: +SKIP
    >>> det = detectors.make("transformer_ae", window=24, epochs=5).fit(X.iloc[:1400])  # doctest: +SKIP
    >>> alarms = det.predict(X.iloc[1400:])                           # doctest: +SKIP
    """

    _min_window = 2

    def __init__(self, window: int = 24, *, d_model: int = 16, heads: int = 2, blocks: int = 1, ff_dim: int = 32,
                 dropout: float = 0.1, pool: int = 4, latent: int = 4,
                 position: Literal["sinusoidal", "learned"] = "sinusoidal",
                 scaler: Literal["minmax", "standard", "robust"] = "minmax", error: Literal["mse", "mae"] = "mse",
                 normalize: bool = False, aggregate: Literal["last", "max", "mean"] = "last", epochs: int = 30,
                 batch_size: int = 32, learning_rate: float = 3e-3, validation: float = 0.2, patience: int = 5,
                 random_state: int | None = 0, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.d_model = d_model
        self.heads = heads
        self.blocks = blocks
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.pool = pool
        self.latent = latent
        self.position = position

    def _check_params(self) -> None:
        super()._check_params()
        # n_features is not known yet: the code size is checked against the window's values when the model is built
        check_int("latent", self.latent, 1)
        _check_architecture(self.window, self.window, self.d_model, self.heads, self.blocks, self.ff_dim,
                            self.dropout, self.pool, 1, self.position)

    def _model_spec(self, n_features: int):
        return model_spec(build_transformer_autoencoder,
            self.window, n_features, d_model=self.d_model, heads=self.heads, blocks=self.blocks, ff_dim=self.ff_dim,
            dropout=self.dropout, pool=self.pool, latent=self.latent, position=self.position,
            learning_rate=self.learning_rate)
