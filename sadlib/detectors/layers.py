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
    trainable only for ``codebook="gradient"``; with ``"ema"`` the detector's training loop
    updates it.
    """

    def __init__(self, n_codes: int, code_dim: int, *, beta: float = 0.25, codebook: str = "ema", **kwargs):
        super().__init__(**kwargs)
        self.n_codes, self.code_dim = int(n_codes), int(code_dim)
        self.beta, self.codebook_mode = float(beta), codebook

    def build(self, input_shape):
        if input_shape[-1] is not None and int(input_shape[-1]) != self.code_dim:
            raise ValueError(f"VectorQuantizer(code_dim={self.code_dim}) got inputs with {input_shape[-1]} values "
                             f"per position; the encoder's last layer must have code_dim channels.")
        limit = 1.0 / self.n_codes
        self.codebook = self.add_weight(
            shape=(self.n_codes, self.code_dim), name="codebook", trainable=self.codebook_mode == "gradient",
            initializer=keras.initializers.RandomUniform(-limit, limit))

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
        return z + ops.stop_gradient(q - z)  # straight-through: value q, gradient of the identity

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "n_codes": self.n_codes, "code_dim": self.code_dim, "beta": self.beta,
                "codebook": self.codebook_mode}


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
            self.positions = self.add_weight(shape=(window, d_model), name="positions",
                                             initializer=keras.initializers.RandomNormal(stddev=0.1))
        else:
            self.positions = sinusoidal_positions(window, d_model)

    def call(self, x):
        return x + ops.cast(self.positions, x.dtype)[None, :, :]

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}
