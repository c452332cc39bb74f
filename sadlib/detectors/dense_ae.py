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

import os
import sys
from numbers import Integral, Real
from typing import Any, Literal, Sequence

import numpy as np

from ..windows import fit_scaler, sliding_windows, windows_to_points
from .base import DEFAULT_THRESHOLD, Detector
from .training import EarlyStopping, batch_indices

__all__ = ["DenseAutoencoder", "build_dense_autoencoder"]

_PREDICT_BATCH = 8192  # rows per forward pass when scoring (bounds memory on long series)


def _import_keras():
    """Import keras; with the TensorFlow backend, without TF's C++ start-up chatter on stderr."""
    if "keras" not in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        from ..environment import import_tensorflow, silenced_stderr

        tf = import_tensorflow()
        with silenced_stderr():  # the first device query logs a CUDA error on CPU-only machines
            tf.config.list_physical_devices()
    import keras

    return keras


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


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
    n_inputs = _check_int("n_inputs", n_inputs, 1)
    latent = _check_int("latent", latent, 1)
    if isinstance(hidden, (Integral, str)) or not isinstance(hidden, Sequence):
        raise ValueError(f"hidden must be a sequence of layer sizes such as (32,) or (64, 16), got {hidden!r}.")
    hidden = [_check_int("each hidden layer size", h, 1) for h in hidden]
    if latent >= n_inputs:
        raise ValueError(
            f"latent={latent} must be smaller than the {n_inputs} inputs: an overcomplete latent can learn "
            f"the identity and rebuild anomalies perfectly. Use a smaller latent or a longer window."
        )
    keras = _import_keras()
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
    model = keras.Model(inputs, outputs, name="dense_autoencoder")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


class DenseAutoencoder(Detector):
    """Reconstruction error of a dense autoencoder on flattened sliding windows.

    Parameters
    ----------
    window : int
        Time steps per window (stride 1). The model input has ``window * n_features`` values.
    hidden, latent : layer sizes, see :func:`build_dense_autoencoder`.
    scaler : {"minmax", "standard", "robust"}
        Scaler fitted on the training part only (:func:`sadlib.windows.fit_scaler`);
        scaled values are not clipped.
    error : {"mse", "mae"}
        Squared or absolute reconstruction error, averaged over a window's values.
    aggregate : {"last", "max", "mean"}
        How window scores become timestamp scores (:func:`sadlib.windows.windows_to_points`).
        ``"last"`` (default) is causal: the score at t uses only samples up to t. The
        first ``window - 1`` timestamps of a series take the first window's score.
    epochs, batch_size, learning_rate : training settings (Adam, MSE loss).
    validation : float in [0, 1)
        Fraction of the training rows, from their *end*, whose windows are used for
        early stopping (at least ``window`` rows). ``0`` trains for all ``epochs``.
    patience : int
        Training stops after ``patience`` epochs in a row without a lower validation
        loss; the weights of the best epoch are restored (as Keras's ``EarlyStopping``
        with ``restore_best_weights=True``).
    random_state : int or None
        Seed for the weights and the batch order (``keras.utils.set_random_seed``,
        which also seeds Python's and NumPy's global generators). Same seed, same
        scores on the CPU. ``None`` leaves the generators alone.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    model_ : keras.Model, the trained autoencoder
    scaler_ : the fitted scikit-learn scaler
    history_ : dict of lists, ``{"loss": [...], "val_loss": [...]}`` per epoch
    n_epochs_ : int, epochs actually run (early stopping may end training sooner)
    best_epoch_ : int, the epoch (1-based) whose weights were kept: lowest validation loss
        (the last epoch when ``validation=0``)

    Notes
    -----
    ``fit`` needs at least ``2 * window + 1`` rows in the part it trains on (training
    and validation windows) and ``score`` at least ``window`` rows.
    """

    def __init__(
        self,
        window: int = 10,
        *,
        hidden: Sequence[int] = (32,),
        latent: int = 4,
        scaler: Literal["minmax", "standard", "robust"] = "minmax",
        error: Literal["mse", "mae"] = "mse",
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
        super().__init__(threshold=threshold, calibration=calibration)
        self.window = window
        self.hidden = hidden
        self.latent = latent
        self.scaler = scaler
        self.error = error
        self.aggregate = aggregate
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation = validation
        self.patience = patience
        self.random_state = random_state

    @property
    def min_samples(self) -> int:  # rows of the training part: training windows + validation windows
        try:
            w = int(self.window)
            return 2 * w + 1 if self.validation > 0 else w + 1
        except (TypeError, ValueError):  # invalid params are reported by _fit
            return 2

    # -- fitting ----------------------------------------------------------------------
    def _check_params(self) -> None:
        _check_int("window", self.window, 1)
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("patience", self.patience, 0)
        if self.scaler not in ("minmax", "standard", "robust"):
            raise ValueError(f"scaler must be 'minmax', 'standard' or 'robust', got {self.scaler!r}.")
        if self.error not in ("mse", "mae"):
            raise ValueError(f"error must be 'mse' or 'mae', got {self.error!r}.")
        if self.aggregate not in ("last", "max", "mean"):
            raise ValueError(f"aggregate must be 'last', 'max' or 'mean', got {self.aggregate!r}.")
        if isinstance(self.validation, bool) or not isinstance(self.validation, Real) or not 0 <= self.validation < 1:
            raise ValueError(f"validation must be a fraction in [0, 1), got {self.validation!r}.")
        if not isinstance(self.learning_rate, Real) or not self.learning_rate > 0:
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
        train = self._flat(sliding_windows(scaled[:n_fit], w))
        val = self._flat(sliding_windows(scaled[n_fit:], w)) if n_val else None

        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        self.model_ = build_dense_autoencoder(
            train.shape[1], self.hidden, self.latent, learning_rate=self.learning_rate
        )
        self.history_, self.best_epoch_ = self._train(train, val)
        self.n_epochs_ = len(self.history_["loss"])

    def _train(self, train: np.ndarray, val: np.ndarray | None) -> tuple[dict[str, list[float]], int]:
        """Mini-batch training with early stopping on ``val``, restoring the best weights.

        Equivalent to ``model.fit(train, train, validation_data=(val, val),
        callbacks=[EarlyStopping(patience=..., restore_best_weights=True)])``, written as
        a loop of ``train_on_batch`` calls: on a few hundred windows ``fit`` spends most
        of its time setting up its data pipeline every epoch (3-5x slower here).
        Each epoch takes the windows in a fresh random order, in batches of equal size
        (the few left-over windows change every epoch; equal sizes avoid a retrace).
        """
        rng = np.random.default_rng(self.random_state)
        history: dict[str, list[float]] = {"loss": []} if val is None else {"loss": [], "val_loss": []}
        stopper = EarlyStopping(self.model_, self.patience)
        for epoch in range(self.epochs):
            losses = []
            for idx in batch_indices(len(train), self.batch_size, rng):
                xb = train[idx]
                losses.append(float(self.model_.train_on_batch(xb, xb)))
            history["loss"].append(float(np.mean(losses)))
            if val is None:
                continue
            val_loss = float(np.mean((self._forward(self.model_, val) - val) ** 2))
            history["val_loss"].append(val_loss)
            if stopper.update(epoch, val_loss):
                break
        stopper.restore()
        return history, stopper.best_epoch if val is not None else len(history["loss"])

    # -- scoring ----------------------------------------------------------------------
    @staticmethod
    def _flat(windows: np.ndarray) -> np.ndarray:
        """(n_windows, window, n_features) -> (n_windows, window * n_features), float32, time-major."""
        return windows.reshape(len(windows), -1).astype(np.float32)

    def _windows(self, X: np.ndarray) -> np.ndarray:
        if len(X) < self.window:
            raise ValueError(
                f"X has {len(X)} rows but this detector scores windows of {self.window} rows; pass at least "
                f"{self.window} rows (e.g. prepend the last {self.window - 1} rows of the data before it)."
            )
        return self._flat(sliding_windows(self.scaler_.transform(X), self.window))

    def _forward(self, model, flat: np.ndarray) -> np.ndarray:
        keras = _import_keras()
        parts = [
            keras.ops.convert_to_numpy(model(flat[i : i + _PREDICT_BATCH], training=False))
            for i in range(0, len(flat), _PREDICT_BATCH)
        ]
        return np.concatenate(parts).astype(np.float64)

    def _value_errors(self, X: np.ndarray) -> np.ndarray:
        """Error of every value of every window, shape (n_windows, window, n_features)."""
        flat = self._windows(X)
        diff = self._forward(self.model_, flat) - flat
        err = diff**2 if self.error == "mse" else np.abs(diff)
        return err.reshape(len(flat), self.window, -1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        per_window = self._value_errors(X).mean(axis=(1, 2))
        return windows_to_points(per_window, len(X), self.window, how=self.aggregate)

    def sensor_errors(self, X: Any) -> np.ndarray:
        """Reconstruction error per sensor and timestamp, shape ``(n_samples, n_features)``.

        Entry ``[t, j]`` is the error of sensor ``j`` averaged over the ``window`` time
        steps of the window(s) assigned to ``t`` by ``aggregate`` (for ``"last"``: the
        window ending at t), in scaled units, so sensors are comparable. The sensor with
        the largest value is the one the model rebuilds worst, usually the one behind an
        alarm. With ``aggregate="last"`` or ``"mean"``, ``sensor_errors(X).mean(axis=1)``
        equals ``score(X)``.
        """
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        per_sensor = self._value_errors(arr).mean(axis=1)  # (n_windows, n_features)
        return np.column_stack(
            [windows_to_points(per_sensor[:, j], len(arr), self.window, how=self.aggregate)
             for j in range(per_sensor.shape[1])]
        )

    def encode(self, X: Any) -> np.ndarray:
        """Latent code of every window of ``X``, shape ``(n_windows, latent)``.

        Window ``i`` covers rows ``i .. i + window - 1`` (stride 1), so
        ``n_windows = n_samples - window + 1``; use it for latent-space plots (PCA, t-SNE).
        """
        self._check_fitted()
        arr = self._validate(X, fitting=False)
        keras = _import_keras()
        encoder = keras.Model(self.model_.input, self.model_.get_layer("latent").output)
        return self._forward(encoder, self._windows(arr))
