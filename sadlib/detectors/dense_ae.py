"""Dense autoencoder on sliding windows: the deep-learning baseline of the course.

The idea: train a small network to squeeze a window of normal sensor data through
a narrow bottleneck and rebuild it. It learns to rebuild what normal looks like;
a window it rebuilds badly is unusual, so the reconstruction error is the anomaly
score.

The honest version of the tutorial pipeline, step by step:

1. A scaler (min-max by default) is fitted on the *training part only* and then
   applied unchanged to everything else. Values are **not clipped**: on new data
   they can leave ``[0, 1]`` (that is often exactly the anomaly).
2. The scaled series is cut into windows of ``window`` time steps (stride 1), each
   flattened to ``window * n_features`` inputs, so the model sees temporal context.
3. Early stopping watches a **chronological** validation part: the *series* is
   split (first 90 % of the training rows for training windows, last 10 % for
   validation windows), so no window shares a row with both parts. Keras's
   ``validation_split`` would cut the list of overlapping windows instead, and the
   windows at the boundary would leak training rows into validation.
4. A window's score is its mean squared (or absolute) reconstruction error; it is
   mapped back to one score per timestamp with
   :func:`sadlib.windows.windows_to_points` (``"last"``: the window that *ends* at
   t, which is all a streaming detector knows at t).

Keras is imported only when a model is built, so ``import sadlib.detectors`` stays
fast. Only ``keras`` layers are used, so the model also runs on the JAX backend.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, Literal, Sequence

import numpy as np

from ..environment import import_keras
from ..validation import check_int
from .base import DEFAULT_THRESHOLD
from .keras_base import WindowAutoencoder, compile_model, model_spec
from .training import predict_batches

__all__ = ["DenseAutoencoder", "build_dense_autoencoder"]


def build_dense_autoencoder(
    n_inputs: int, hidden: Sequence[int] = (32,), latent: int = 4, *, learning_rate: float = 1e-3
):
    """A compiled fully connected autoencoder ``n_inputs -> hidden -> latent -> reversed(hidden) -> n_inputs``.

    Parameters
    ----------
    n_inputs : int
        Length of one input vector, e.g. ``window * n_features`` for flattened windows.
    hidden : sequence of int
        Sizes of the encoder's hidden layers (ReLU); the decoder mirrors them. ``()``
        gives a linear model (a PCA-like autoencoder).
    latent : int
        Size of the bottleneck (layer ``"latent"``, linear: a ReLU bottleneck
        easily ends with "dead" units that are always zero). Must be smaller than
        ``n_inputs``: an overcomplete latent can learn the identity and then rebuilds
        anomalies as well as normal data.
    learning_rate : float
        Step size of the Adam optimiser. The loss is the mean squared error.

    Returns
    -------
    keras.Model
        Input ``(batch, n_inputs)``, output ``(batch, n_inputs)`` (linear, so scaled test
        values outside the training range can still be rebuilt). Compiled.
    """
    n_inputs = check_int("n_inputs", n_inputs, 1)
    latent = check_int("latent", latent, 1)
    if isinstance(hidden, (Integral, str)) or not isinstance(hidden, Sequence):
        raise ValueError(f"hidden must be a sequence of layer sizes such as (32,) or (64, 16), got {hidden!r}.")
    hidden = [check_int("each hidden layer size", h, 1) for h in hidden]
    if latent >= n_inputs:
        raise ValueError(
            f"latent={latent} must be smaller than the {n_inputs} inputs: an overcomplete latent can learn "
            f"the identity and rebuild anomalies perfectly. Use a smaller latent or a longer window."
        )
    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input(shape=(n_inputs,), name="window")
    x = inputs
    for i, size in enumerate(hidden):
        x = layers.Dense(size, activation="relu", name=f"encoder_{i}")(x)
    code = layers.Dense(latent, name="latent")(x)
    x = code
    for i, size in enumerate(reversed(hidden)):
        x = layers.Dense(size, activation="relu", name=f"decoder_{i}")(x)
    outputs = layers.Dense(n_inputs, activation=None, name="reconstruction")(x)
    return compile_model(keras.Model(inputs, outputs, name="dense_autoencoder"), learning_rate)


class DenseAutoencoder(WindowAutoencoder):
    """Reconstruction error of a dense autoencoder on flattened sliding windows.

    Parameters
    ----------
    window : int
        Time steps per window (stride 1). The model input has ``window * n_features`` values.
    hidden, latent : layer sizes, see :func:`build_dense_autoencoder`.
    scaler, error, normalize, aggregate : how windows are scaled and errors become scores,
        see :class:`~sadlib.detectors.keras_base.WindowAutoencoder`.
    epochs, batch_size, learning_rate, validation, patience, random_state : training settings,
        see :class:`~sadlib.detectors.keras_base.KerasWindowDetector` (Adam, MSE loss, early
        stopping on the last ``validation`` fraction of the training rows, best weights kept).
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    model_ : keras.Model, the trained autoencoder, ``(batch, window * n_features)`` in and out
    scaler_ : the fitted scikit-learn scaler
    error_scale_ : ndarray (n_features,), mean error of each sensor on the training windows
    history_ : dict of lists, ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_ : int, epochs actually run (early stopping may end training sooner)
    best_epoch_ : int, the epoch (1-based) whose weights were kept: lowest validation loss
        (the last epoch when ``validation=0``)

    Notes
    -----
    ``fit`` needs at least ``2 * window + 1`` rows in the part it trains on (training
    and validation windows) and ``score`` at least ``window`` rows.
    """

    flat_inputs = True
    # a small dense model runs faster eagerly than it traces a prediction function (one per fit): on 2 cores,
    # fitting on 6 SKAB files took 6.7 s when run eagerly and 9.4 s with predict_on_batch
    eager_predict = True

    def __init__(
        self,
        window: int = 10,
        *,
        hidden: Sequence[int] = (32,),
        latent: int = 4,
        scaler: Literal["minmax", "standard", "robust"] = "minmax",
        error: Literal["mse", "mae"] = "mse",
        normalize: bool = False,
        aggregate: Literal["last", "max", "mean"] = "last",
        epochs: int = 50,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        validation: float = 0.1,
        patience: int = 5,
        random_state: int | None = 0,
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(window, scaler=scaler, error=error, normalize=normalize, aggregate=aggregate,
                         epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, validation=validation,
                         patience=patience, random_state=random_state, threshold=threshold, calibration=calibration)
        self.hidden = hidden
        self.latent = latent

    def _model_spec(self, n_features: int):
        return model_spec(build_dense_autoencoder, int(self.window) * n_features, self.hidden, self.latent,
                                       learning_rate=self.learning_rate)

    def encode(self, X: Any) -> np.ndarray:
        """Latent code of every window of ``X``, shape ``(n_windows, latent)``.

        Window ``i`` covers rows ``i .. i + window - 1`` (stride 1), so
        ``n_windows = n_samples - window + 1``; use it for latent-space plots (PCA, t-SNE).
        """
        inputs = self.model_inputs(X)
        keras = import_keras()
        encoder = keras.Model(self.model_.input, self.model_.get_layer("latent").output)
        return predict_batches(encoder, inputs, eager=self.eager_predict)
