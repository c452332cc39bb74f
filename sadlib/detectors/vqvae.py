"""VQ-VAE on sliding windows (notebook 07): a sequence autoencoder whose code is a sequence of codebook entries.

``Input (window, n_features) -> Conv1D encoder (stride 2, ``downsample`` times) -> z of shape
(window / 2**downsample, code_dim) -> VectorQuantizer (each position replaced by its nearest
of ``n_codes`` learned codes) -> Conv1DTranspose decoder -> (window, n_features)``.

The quantizer (:class:`sadlib.detectors.layers.VectorQuantizer`, registered for Keras serialisation so
a saved detector's ``.keras`` archive loads it, its codebook made in ``build``; ``keras.ops`` only, so it
runs on the TensorFlow and the JAX backend):

* nearest code **without argmin**: squared distances ``d`` (positions x codes), a one-hot row
  ``equal(d, min(d))`` (divided by its sum in case of ties) and ``q = one_hot @ codebook``.
  ``keras.ops.argmin`` on floats becomes a Flex op in a LiteRT file; this formulation uses
  builtin ops only (the float32 file of a fitted detector holds EQUAL, REDUCE_MIN, CAST, SUM, DIV
  and FULLY_CONNECTED besides the convolutions);
* straight-through estimator: the decoder gets ``z + stop_gradient(q - z)``, equal to ``q`` in
  the forward pass, with the gradient of the identity in the backward pass;
* commitment loss ``beta * mean((z - stop_gradient(q))**2)`` (``beta = 0.25``) added with
  ``self.add_loss`` during training (``training=True`` only), which Keras 3 collects on both
  backends;
* ``codebook="gradient"``: the codebook is a trainable weight and the codebook loss
  ``mean((stop_gradient(z) - q)**2)`` is added too (the original VQ-VAE);
* ``codebook="ema"`` (default): the codebook is a *non-trainable* weight updated by exponential
  moving averages of the encoder outputs assigned to each code (decay 0.99, Laplace smoothing
  with epsilon 1e-5), and a code unused for ``reset_after`` consecutive batches is re-initialised
  to a random encoder output of the current batch.

The EMA update runs in the training step's graph: the quantizer updates its cluster sizes and
sums, assigns the new codebook and resets dead codes in ``call(training=True)`` (``assign``, as
``BatchNormalization`` updates its moving statistics; on JAX, Keras's stateless call returns the
updated non-trainable variables and the trainer writes them back), from the very forward pass that
quantizes the batch. So the detector trains with plain ``model.fit`` like every Keras detector
(:func:`~sadlib.detectors.training.fit_model`), with no NumPy between batches and no extra encoder
pass; a callback only reads the layer's usage counters at the end of each epoch for the history.

Everything else is the pipeline of :class:`~sadlib.detectors.sequence_ae.SequenceAutoencoder`
(scaler on the training part only, chronological early-stopping split, window scores mapped to
timestamps with :func:`~sadlib.windows.windows_to_points`, ``"last"`` by default). Scores (``scoring=``):

* ``"reconstruction"`` (default): mean squared (or absolute) reconstruction error of the window;
* ``"latent"``: mean over the window's positions of the squared distance of the encoder output
  to its nearest code (how far the window's code lies from everything learned);
* ``"rarity"``: mean over positions of ``-log p(code)``, with ``p`` the code frequencies on the
  training windows (Laplace smoothed). A code-frequency score with no model of which codes
  follow which; notebook 07 shows why it is weak.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..environment import import_keras
from ..validation import check_choice, check_int, check_number
from ..windows import windows_to_points
from .base import DEFAULT_THRESHOLD
from .keras_base import compile_model, model_spec
from .sequence_ae import SequenceAutoencoder
from .training import predict_batches

__all__ = ["VQVAE", "build_vqvae", "VectorQuantizer", "nearest_codes", "perplexity", "SCORES", "CODEBOOKS"]

SCORES = ("reconstruction", "latent", "rarity")
CODEBOOKS = ("ema", "gradient")
_EPS = 1e-5  # Laplace smoothing of the EMA cluster sizes (the quantizer's ``epsilon``)


# --------------------------------------------------------------------------- #
# NumPy helpers (used outside the model: histograms, EMA, scores)
# --------------------------------------------------------------------------- #
def _sq_distances(z: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Squared distances ``(n, K)`` between rows of ``z`` (n, D) and the codes (K, D)."""
    z = np.asarray(z, dtype=np.float64)
    c = np.asarray(codebook, dtype=np.float64)
    return np.maximum((z**2).sum(1, keepdims=True) - 2 * z @ c.T + (c**2).sum(1)[None, :], 0.0)


def nearest_codes(z: Any, codebook: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(index, squared distance)`` of the nearest code for every row of ``z`` ``(..., D)``.

    Ties go to the lower index (the model's one-hot averages tied codes instead; with float
    codebooks ties do not occur in practice)."""
    z = np.asarray(z, dtype=np.float64)
    flat = z.reshape(-1, z.shape[-1])
    d = _sq_distances(flat, codebook)
    idx = d.argmin(axis=1)
    return idx.reshape(z.shape[:-1]), d[np.arange(len(flat)), idx].reshape(z.shape[:-1])


def perplexity(counts: Any) -> float:
    """``exp(entropy)`` of the code frequencies: 1 if one code does everything, K if all K are used equally."""
    c = np.asarray(counts, dtype=np.float64).ravel()
    if c.size == 0 or np.any(c < 0) or c.sum() <= 0:
        raise ValueError("counts must be non-negative code counts with a positive sum.")
    p = c[c > 0] / c.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


# --------------------------------------------------------------------------- #
# the quantizer layer
# --------------------------------------------------------------------------- #
def VectorQuantizer(*args, **kwargs):  # noqa: N802 - the class lives in .layers, which imports Keras
    """The quantizer layer, :class:`sadlib.detectors.layers.VectorQuantizer` (registered for serialisation):
    ``VectorQuantizer(n_codes, code_dim, beta=, codebook=, decay=, reset_after=)``. Keras is imported on
    first use."""
    from .layers import VectorQuantizer as cls

    return cls(*args, **kwargs)


def build_vqvae(window: int, n_features: int, *, n_codes: int = 32, code_dim: int = 8, filters: int = 32,
                kernel_size: int = 5, downsample: int = 2, beta: float = 0.25, codebook: str = "ema",
                decay: float = 0.99, reset_after: int = 20, learning_rate: float = 1e-3):
    """A compiled VQ-VAE for windows ``(window, n_features)``.

    Encoder: ``downsample`` Conv1D layers with stride 2 (``filters`` channels, ReLU), then a
    1x1 Conv1D to ``code_dim`` channels (layer ``"encoder"``, linear): ``window / 2**downsample``
    positions of ``code_dim`` values. Quantizer: layer ``"quantizer"`` (with ``codebook="ema"`` it
    updates its codebook during ``fit`` with ``decay`` and re-initialises codes unused for
    ``reset_after`` batches, 0: never). Decoder: mirrored
    Conv1DTranspose layers with stride 2 and a last Conv1DTranspose to ``n_features``. The model
    maps windows to reconstructions; the loss is MSE plus the quantizer's losses.
    """
    window = check_int("window", window, 2)
    n_features = check_int("n_features", n_features, 1)
    n_codes = check_int("n_codes", n_codes, 2)
    code_dim = check_int("code_dim", code_dim, 1)
    filters = check_int("filters", filters, 1)
    kernel_size = check_int("kernel_size", kernel_size, 1)
    downsample = check_int("downsample", downsample, 1)
    beta = check_number("beta", beta, 0, low_open=True)
    check_choice("codebook", codebook, CODEBOOKS)
    decay = check_number("decay", decay, 0, 1, low_open=True, high_open=True)
    reset_after = check_int("reset_after", reset_after, 0)
    step = 2**downsample
    if window % step:
        raise ValueError(f"window={window} must be a multiple of {step} (each of the {downsample} stride-2 encoder "
                         f"layers halves it); try window={max(step, window // step * step)}.")
    keras = import_keras()
    layers = keras.layers
    inputs = layers.Input(shape=(window, n_features), name="window")
    x = inputs
    for i in range(downsample):
        x = layers.Conv1D(filters, kernel_size, strides=2, padding="same", activation="relu", name=f"encoder_{i}")(x)
    z = layers.Conv1D(code_dim, 1, name="encoder")(x)
    x = VectorQuantizer(n_codes, code_dim, beta=beta, codebook=codebook, decay=decay, reset_after=reset_after,
                        epsilon=_EPS, name="quantizer")(z)
    for i in range(downsample):
        x = layers.Conv1DTranspose(filters, kernel_size, strides=2, padding="same", activation="relu",
                                   name=f"decoder_{i}")(x)
    outputs = layers.Conv1DTranspose(n_features, kernel_size, padding="same", name="reconstruction")(x)
    return compile_model(keras.Model(inputs, outputs, name="vqvae"), learning_rate)


# --------------------------------------------------------------------------- #
# the detector
# --------------------------------------------------------------------------- #
class VQVAE(SequenceAutoencoder):
    """VQ-VAE (:func:`build_vqvae`) on windows; score = reconstruction error, latent distance or code rarity.

    Parameters
    ----------
    window : int, time steps per window, a multiple of ``2 ** downsample``
    n_codes, code_dim : int, the codebook: ``n_codes`` codes of ``code_dim`` values
    filters, kernel_size, downsample : the Conv1D encoder (``downsample`` stride-2 layers) and its mirror
    beta : float, weight of the commitment loss (0.25)
    codebook : {"ema", "gradient"}, how the codebook learns (see the module docstring)
    decay : float in (0, 1), EMA decay (``codebook="ema"`` only)
    reset_after : int, re-initialise a code unused for this many consecutive batches (``"ema"`` only; 0: never)
    scoring : {"reconstruction", "latent", "rarity"}, the window score (changeable without refit; named
        ``scoring``, not ``score``, because ``score`` is the method)
    scaler, error, normalize, aggregate, epochs, batch_size, learning_rate, validation,
    patience, random_state, threshold, calibration : see :class:`SequenceAutoencoder`.

    Fitted attributes (besides those of :class:`SequenceAutoencoder`)
    -----------------------------------------------------------------
    codebook_ : ndarray (n_codes, code_dim), the learned codes
    codebook_usage_ : ndarray (n_codes,), how often each code is the nearest one over the training windows
        (all positions of all windows)
    perplexity_ : float, ``exp(entropy)`` of ``codebook_usage_`` (1: one code; ``n_codes``: all used equally)
    n_codes_used_ : int, codes used at least once on the training windows
    history_ : adds ``"perplexity"`` and ``"codes_used"`` per epoch (code assignments of the epoch's batches)
    n_resets_ : int, dead codes re-initialised during training
    """

    def __init__(self, window: int = 24, *, n_codes: int = 32, code_dim: int = 8, filters: int = 32,
                 kernel_size: int = 5, downsample: int = 2, beta: float = 0.25,
                 codebook: Literal["ema", "gradient"] = "ema", decay: float = 0.99, reset_after: int = 20,
                 scoring: Literal["reconstruction", "latent", "rarity"] = "reconstruction",
                 scaler: Literal["minmax", "standard", "robust"] = "minmax", error: Literal["mse", "mae"] = "mse",
                 normalize: bool = False, aggregate: Literal["last", "max", "mean"] = "last", epochs: int = 30,
                 batch_size: int = 32, learning_rate: float = 3e-3, validation: float = 0.2, patience: int = 5,
                 random_state: int | None = 0, threshold: Any = DEFAULT_THRESHOLD, calibration: float = 0.2):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.n_codes = n_codes
        self.code_dim = code_dim
        self.filters = filters
        self.kernel_size = kernel_size
        self.downsample = downsample
        self.beta = beta
        self.codebook = codebook
        self.decay = decay
        self.reset_after = reset_after
        self.scoring = scoring

    def _check_params(self) -> None:
        super()._check_params()
        check_int("n_codes", self.n_codes, 2)
        check_int("code_dim", self.code_dim, 1)
        check_int("reset_after", self.reset_after, 0)
        check_number("beta", self.beta, 0, low_open=True)
        check_number("decay", self.decay, 0, 1, low_open=True, high_open=True)
        check_choice("codebook", self.codebook, CODEBOOKS)
        check_choice("scoring", self.scoring, SCORES)

    def _model_spec(self, n_features: int):
        return model_spec(build_vqvae, self.window, n_features, n_codes=self.n_codes, code_dim=self.code_dim,
                          filters=self.filters, kernel_size=self.kernel_size, downsample=self.downsample,
                          beta=self.beta, codebook=self.codebook, decay=self.decay, reset_after=self.reset_after,
                          learning_rate=self.learning_rate)

    # -- the encoder of the model ---------------------------------------------------------
    @staticmethod
    def _encoder(model):
        """A model sharing ``model``'s layers, windows -> encoder outputs z; cached on ``model``."""
        enc = getattr(model, "_sadlib_encoder", None)
        if enc is None:
            keras = import_keras()
            enc = keras.Model(model.inputs, model.get_layer("encoder").output, name="vq_encoder")
            object.__setattr__(model, "_sadlib_encoder", enc)  # not tracked as a sub-layer of model
        return enc

    def _z(self, model, windows: np.ndarray) -> np.ndarray:
        return predict_batches(self._encoder(model), windows, eager=self.eager_predict)

    # -- training: the code-usage logger ------------------------------------------------------
    def _callbacks(self):
        self._code_usage = _CodeUsage()
        return [self._code_usage]

    def _after_fit(self, train, val) -> None:
        super()._after_fit(train, val)
        self.n_resets_ = self._code_usage.resets
        del self._code_usage
        # usage of the kept codebook over all training windows
        self.codebook_ = np.asarray(self.model_.get_layer("quantizer").codebook.numpy(), dtype=np.float64)
        idx, _ = nearest_codes(self._z(self.model_, train[0]), self.codebook_)
        self.codebook_usage_ = np.bincount(idx.ravel(), minlength=int(self.n_codes))
        self.perplexity_ = perplexity(self.codebook_usage_)
        self.n_codes_used_ = int(np.count_nonzero(self.codebook_usage_))

    # -- scoring ----------------------------------------------------------------------
    def _latent(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(code index, squared distance to it)`` per window and position, each ``(n_windows, positions)``."""
        return nearest_codes(self._z(self.model_, windows), self.codebook_)

    def _score(self, X: np.ndarray) -> np.ndarray:
        check_choice("scoring", self.scoring, SCORES)
        if self.scoring == "reconstruction":
            return super()._score(X)
        idx, dist = self._latent(self._windows(X))
        if self.scoring == "latent":
            per_window = dist.mean(axis=1)
        else:
            p = (self.codebook_usage_ + 1.0) / (self.codebook_usage_.sum() + len(self.codebook_usage_))
            per_window = (-np.log(p))[idx].mean(axis=1)
        return windows_to_points(per_window, len(X), self.window, how=self.aggregate)

    def codes(self, X: Any) -> np.ndarray:
        """Index of the nearest code for every window of ``X`` (stride 1) and latent position,
        shape ``(n_windows, window / 2**downsample)``; window i covers rows i .. i + window - 1."""
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        return self._latent(self._windows(arr))[0]

    def latent_distances(self, X: Any) -> np.ndarray:
        """Squared distance of every encoder output to its nearest code, shape as :meth:`codes`."""
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        return self._latent(self._windows(arr))[1]


def _code_usage_class():
    keras = import_keras()

    class CodeUsage(keras.callbacks.Callback):
        """Adds the epoch's code ``perplexity`` and ``codes_used`` to its logs (and so to ``history_``) and
        counts the dead-code resets of the whole training (``resets``), from the quantizer's counters.

        The counters are cumulative; the callback takes differences between epoch ends, so early
        stopping's restore of the best weights (counters included) at the end does not matter.
        """

        def _read(self):
            layer = self.model.get_layer("quantizer")
            return np.asarray(layer.usage.numpy(), dtype=np.float64), float(layer.resets.numpy())

        def on_train_begin(self, logs=None):
            self.resets = 0
            self._usage, self._resets = self._read()

        def on_epoch_end(self, epoch, logs=None):
            usage, resets = self._read()
            counts, self._usage = usage - self._usage, usage
            self.resets += int(round(resets - self._resets))
            self._resets = resets
            if logs is not None:
                logs["perplexity"] = perplexity(counts) if counts.sum() > 0 else float("nan")
                logs["codes_used"] = int(np.count_nonzero(counts > 0))

    return CodeUsage


def _CodeUsage():  # noqa: N802 - a Keras callback class, made on first use (Keras is imported lazily)
    return _code_usage_class()()
