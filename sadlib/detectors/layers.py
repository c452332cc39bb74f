"""The course's custom Keras layers, registered for serialisation (``package="sadlib"``).

This module imports Keras at import time, so the detector modules import it only when
they build a model (``import sadlib.detectors`` stays free of TensorFlow). Loading a
saved model (:func:`sadlib.detectors.load`, ``keras.saving.load_model``) imports it
first, so that ``sadlib>VectorQuantizer`` and ``sadlib>PositionEmbedding`` in a
``.keras`` archive resolve to these classes.

Each layer keeps its settings in ``get_config`` and makes its weights in ``build``
(Keras 3's rule for layers that ``load_model`` can rebuild: the config recreates the
layer, ``build`` creates the variables, the archive fills them).
"""

from __future__ import annotations

import numpy as np

from ..environment import import_keras
from .transformer_ae import sinusoidal_positions

keras = import_keras()
ops = keras.ops

__all__ = ["VectorQuantizer", "PositionEmbedding"]


@keras.saving.register_keras_serializable(package="sadlib")
class VectorQuantizer(keras.layers.Layer):
    """Replace every vector of ``z`` (batch, positions, D) by its nearest of ``n_codes`` codes.

    Forward: ``q``; backward: the gradient of the identity (straight-through). During
    training adds the commitment loss (and for ``codebook="gradient"`` the codebook loss).
    The codebook (weight ``"codebook"``, shape ``(n_codes, D)``, made in ``build``) is
    trainable only for ``codebook="gradient"``.

    With ``codebook="ema"`` the layer updates the codebook itself in ``call(training=True)``,
    in the training step's graph (``assign``, as ``BatchNormalization`` updates its moving
    statistics; on JAX Keras's stateless call returns the new values), from the same forward
    pass that quantizes the batch:

    * ``n_b`` = how many of the batch's vectors each code is nearest to (the one-hot of
      ``call``, ties averaged), ``s_b`` = the sum of those vectors;
    * ``ema_count = decay * ema_count + (1 - decay) * n_b`` and
      ``ema_sum = decay * ema_sum + (1 - decay) * s_b`` (start: ones and the initial codebook,
      every code its own single member);
    * Laplace smoothing: ``N = sum(ema_count)``, ``n = (ema_count + eps) / (N + K eps) * N``,
      codebook ``= ema_sum / n``;
    * dead codes: ``unused`` counts the consecutive batches in which a code was nearest to no
      vector; a code with ``unused >= reset_after`` (``reset_after > 0``) is re-initialised to a
      random vector of the batch (distinct vectors while the batch has enough), its
      ``ema_sum`` to that vector, its ``ema_count`` to 1 and its ``unused`` to 0.

    Two non-trainable counters serve logging: ``usage`` (codes' cumulative ``n_b`` over the
    training batches, both codebook modes) and ``resets`` (dead codes re-initialised). The
    random picks come from a ``keras.random.SeedGenerator`` (seeded by ``seed``, or from
    Keras's global seed, ``keras.utils.set_random_seed``, when ``seed=None``).
    """

    def __init__(self, n_codes: int, code_dim: int, *, beta: float = 0.25, codebook: str = "ema",
                 decay: float = 0.99, reset_after: int = 20, epsilon: float = 1e-5, seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.n_codes, self.code_dim = int(n_codes), int(code_dim)
        self.beta, self.codebook_mode = float(beta), codebook
        self.decay, self.reset_after, self.epsilon = float(decay), int(reset_after), float(epsilon)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if input_shape[-1] is not None and int(input_shape[-1]) != self.code_dim:
            raise ValueError(f"VectorQuantizer(code_dim={self.code_dim}) got inputs with {input_shape[-1]} values "
                             f"per position; the encoder's last layer must have code_dim channels.")
        limit = 1.0 / self.n_codes
        k, d = self.n_codes, self.code_dim
        # kept as an attribute (``<variable>_initializer``) so that sadlib.detectors.model_cache can re-draw it
        self.codebook_initializer = keras.initializers.RandomUniform(-limit, limit)
        self.codebook = self.add_weight(shape=(k, d), name="codebook", trainable=self.codebook_mode == "gradient",
                                        initializer=self.codebook_initializer)
        self.ema_count = self.add_weight(shape=(k,), name="ema_count", trainable=False, initializer="ones")
        self.ema_sum = self.add_weight(shape=(k, d), name="ema_sum", trainable=False, initializer="zeros")
        self.after_weights_reset()  # ema_sum: each code its own single member (a copy of the codebook)
        self.unused = self.add_weight(shape=(k,), name="unused", trainable=False, initializer="zeros")
        self.usage = self.add_weight(shape=(k,), name="usage", trainable=False, initializer="zeros")
        self.resets = self.add_weight(shape=(), name="resets", trainable=False, initializer="zeros")

    def after_weights_reset(self):
        """Called by :mod:`sadlib.detectors.model_cache` after it re-initialised the weights in place:
        ``ema_sum`` starts as a copy of the (re-drawn) codebook, as in :meth:`build`."""
        self.ema_sum.assign(np.array(ops.convert_to_numpy(self.codebook)))

    def call(self, z, training=False):
        flat = ops.reshape(z, (-1, self.code_dim))
        d = (ops.sum(flat**2, axis=1, keepdims=True) - 2 * ops.matmul(flat, ops.transpose(self.codebook))
             + ops.sum(self.codebook**2, axis=1)[None, :])
        one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)  # no argmin (Flex op)
        one_hot = one_hot / ops.sum(one_hot, axis=1, keepdims=True)  # ties: average the tied codes
        q = ops.reshape(ops.matmul(one_hot, self.codebook), ops.shape(z))
        if training:
            commitment = ops.mean((z - ops.stop_gradient(q)) ** 2)  # pulls the encoder to its code
            self.add_loss(self.beta * commitment)
            if self.codebook_mode == "gradient":
                self.add_loss(ops.mean((ops.stop_gradient(z) - q) ** 2))  # pulls the codes to the encoder
            self._update_codebook(ops.stop_gradient(flat), ops.stop_gradient(one_hot))
        return z + ops.stop_gradient(q - z)  # straight-through: value q, gradient of the identity

    def _update_codebook(self, flat, one_hot):
        """The codebook's training-time update (see the class docstring), in the graph."""
        n_b = ops.sum(one_hot, axis=0)  # (K,)
        self.usage.assign(self.usage + n_b)
        if self.codebook_mode != "ema":
            return
        decay, k, eps = self.decay, self.n_codes, self.epsilon
        ema_count = decay * self.ema_count + (1 - decay) * n_b
        ema_sum = decay * self.ema_sum + (1 - decay) * ops.matmul(ops.transpose(one_hot), flat)
        total = ops.sum(ema_count)
        smoothed = (ema_count + eps) / (total + k * eps) * total  # Laplace smoothing
        codes = ema_sum / smoothed[:, None]
        unused = ops.where(n_b > 0, 0.0, self.unused + 1.0)
        if self.reset_after > 0:
            dead = unused >= self.reset_after  # (K,) bool
            n = ops.shape(flat)[0]
            order = keras.random.shuffle(ops.arange(n), seed=self.seed_generator)  # a random order of the batch
            rank = ops.cast(ops.cumsum(ops.cast(dead, "int32")), "int32") - 1  # i-th dead code takes order[i]
            picks = ops.take(flat, ops.take(order, ops.mod(rank, n)), axis=0)  # (K, D)
            codes = ops.where(dead[:, None], picks, codes)
            ema_sum = ops.where(dead[:, None], picks, ema_sum)
            ema_count = ops.where(dead, 1.0, ema_count)
            unused = ops.where(dead, 0.0, unused)
            self.resets.assign(self.resets + ops.sum(ops.cast(dead, "float32")))
        self.ema_count.assign(ema_count)
        self.ema_sum.assign(ema_sum)
        self.unused.assign(unused)
        self.codebook.assign(codes)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "n_codes": self.n_codes, "code_dim": self.code_dim, "beta": self.beta,
                "codebook": self.codebook_mode, "decay": self.decay, "reset_after": self.reset_after,
                "epsilon": self.epsilon, "seed": self.seed}


@keras.saving.register_keras_serializable(package="sadlib")
class PositionEmbedding(keras.layers.Layer):
    """Add a positional embedding to ``(batch, window, d_model)`` inputs.

    ``kind="sinusoidal"``: the fixed table of :func:`sinusoidal_positions` (no weights).
    ``kind="learned"``: a trainable ``(window, d_model)`` weight named ``"positions"``,
    initialised with small random values.
    """

    def __init__(self, kind: str = "sinusoidal", **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    def build(self, input_shape):
        window, d_model = int(input_shape[-2]), int(input_shape[-1])
        if self.kind == "learned":
            self.positions_initializer = keras.initializers.RandomNormal(stddev=0.1)  # see model_cache
            self.positions = self.add_weight(shape=(window, d_model), name="positions",
                                             initializer=self.positions_initializer)
        else:
            self.positions = sinusoidal_positions(window, d_model)

    def call(self, x):
        return x + ops.cast(self.positions, x.dtype)[None, :, :]

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}
