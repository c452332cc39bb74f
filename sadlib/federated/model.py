"""The model every site trains: the course's dense autoencoder on windows, and its scaler.

The network is :func:`sadlib.detectors.dense_ae.build_dense_autoencoder` (the one
:class:`~sadlib.detectors.DenseAutoencoder` trains), fed with flattened windows of
standardised features; a window's score is its mean squared reconstruction error and a
sample's score that of the window ending there (what a streaming detector knows).

**The scaler without sharing data.** Sites must scale their inputs the same way for one
set of weights to fit all of them. Each site sends only its row count and the per-feature
sums of its training values and of their squares (:func:`site_moments`); the server adds
them up into one mean and standard deviation (:func:`combine_moments`), exactly those of
all training rows pooled. That is ``2 * n_features + 1`` numbers per site, no raw row
(it does reveal each site's feature means and spreads, which a set point may be).
``scaling="site"`` is the alternative: each site standardises with its own statistics and
shares nothing; the model then sees deviations from each site's own normal level, which
hides differences in set points between sites (less non-IID) but also hides a site that
runs at an unusual level from the start.

**FedProx.** :func:`local_fit` adds ``mu / 2 * ||w - w_global||^2`` to the loss when the
server sends ``mu > 0`` (Li et al., "Federated optimization in heterogeneous networks",
MLSys 2020), through a weight regulariser on every trainable variable, so the detector stack's
``model.fit`` trains it on any Keras backend.

**The detector stack.** The network is built by :func:`~sadlib.detectors.dense_ae.build_dense_autoencoder`,
run by :func:`~sadlib.detectors.training.predict_batches` and scored by
:func:`~sadlib.detectors.keras_base.reconstruction_errors`: the same code as
:class:`~sadlib.detectors.DenseAutoencoder`. Training is Keras's ``model.fit`` (see :func:`local_fit`
for why not the stack's ``fit_model``).

**One model per architecture, one user at a time.** A Flower ClientApp is called once per round
and site; building and tracing a Keras model each time costs more than a round's training on 2
cores, so :data:`MODELS` keeps a few built models (least recently used dropped beyond
``max_size``). :meth:`ModelCache.borrow` hands a model to one caller at a time: when Flower runs
several sites' ClientApps in threads of one process, each waits for the model instead of
training it at the same time as another site.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, Iterator, Sequence

import numpy as np

from ..detectors.dense_ae import build_dense_autoencoder
from ..detectors.keras_base import reconstruction_errors
from ..detectors.training import predict_batches
from ..environment import import_keras
from ..validation import as_2d_float, check_int, check_number
from ..windows import sliding_windows, windows_to_points

__all__ = ["site_moments", "combine_moments", "standardise", "make_windows", "build_model", "ModelCache", "MODELS",
           "local_fit", "reconstruction_scores", "window_loss"]


# ----------------------------------------------------------------------------- the shared scaler
def site_moments(X: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """What a site shares to build the common scaler: ``(n_rows, sum, sum of squares)`` per feature."""
    arr = as_2d_float(X, name="X", min_rows=1)
    return int(len(arr)), arr.sum(axis=0), (arr**2).sum(axis=0)


def combine_moments(moments: Sequence[tuple[int, Any, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of all sites' rows pooled, from their :func:`site_moments`.

    A feature that does not vary anywhere gets the standard deviation 1 (it cannot be scaled).
    """
    if not moments:
        raise ValueError("combine_moments needs the moments of at least one site.")
    n = sum(int(m[0]) for m in moments)
    if n < 2:
        raise ValueError(f"the sites hold {n} training row(s) in all; the scaler needs at least 2.")
    total = np.sum([np.asarray(m[1], dtype=np.float64) for m in moments], axis=0)
    squares = np.sum([np.asarray(m[2], dtype=np.float64) for m in moments], axis=0)
    mean = total / n
    var = np.maximum(squares / n - mean**2, 0.0)
    std = np.sqrt(var)
    std[std < 1e-9 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean, std


def standardise(X: Any, mean: Any, std: Any) -> np.ndarray:
    """``(X - mean) / std`` as float32 (no clipping: values outside the normal range are the point)."""
    arr = as_2d_float(X, name="X", allow_nan=False)
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if mean.shape != (arr.shape[1],) or std.shape != (arr.shape[1],):
        raise ValueError(f"mean and std must have one value per feature ({arr.shape[1]}), "
                         f"got shapes {mean.shape} and {std.shape}.")
    return ((arr - mean) / std).astype(np.float32)


def make_windows(X: Any, window: int, stride: int = 1) -> np.ndarray:
    """Flattened sliding windows of scaled rows, shape ``(n_windows, window * n_features)`` float32."""
    w = sliding_windows(X, window, stride)
    return w.reshape(len(w), -1).astype(np.float32)


# ----------------------------------------------------------------------------- the network
def _proximal_term_class():
    keras = import_keras()

    class ProximalTerm(keras.regularizers.Regularizer):
        """``mu / 2 * ||w - anchor||^2``: FedProx's pull towards the global weights."""

        def __init__(self, anchor, mu):
            self.anchor, self.mu = anchor, mu

        def __call__(self, x):
            return 0.5 * self.mu * keras.ops.sum(keras.ops.square(x - self.anchor))

        def get_config(self):  # pragma: no cover - the model is never saved with it
            return {}

    return ProximalTerm


def build_model(n_inputs: int, *, hidden: Sequence[int] = (32,), latent: int = 4, learning_rate: float = 1e-3,
                seed: int | None = 0):
    """The course's dense autoencoder (compiled, Adam + MSE), ready for FedProx.

    Every trainable variable carries a proximal term whose anchor and weight ``mu``
    are Keras variables (``model.fed_proximal.anchors``, ``model.fed_proximal.mu``; ``mu = 0``: plain
    training), so :func:`local_fit` switches FedProx on without rebuilding or retracing.
    ``seed`` seeds the initial weights (same seed, same weights in every process).
    """
    keras = import_keras()
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    model = build_dense_autoencoder(n_inputs, hidden, latent, learning_rate=learning_rate)
    term = _proximal_term_class()
    # a plain namespace, not attributes of the model: Keras would track the variables as model weights
    prox = SimpleNamespace(mu=keras.Variable(0.0, trainable=False, name="proximal_mu"), anchors=[])
    for var in model.trainable_variables:
        anchor = keras.Variable(np.zeros(var.shape, dtype="float32"), trainable=False, name="anchor")
        var.regularizer = term(anchor, prox.mu)
        prox.anchors.append(anchor)
    model.fed_proximal = prox
    return model


class ModelCache:
    """Built models kept for re-use, one per architecture, lent to one caller at a time.

    Parameters
    ----------
    max_size : int >= 1
        Architectures kept; the least recently used is dropped beyond it (a caller that
        still holds it keeps using its model).
    """

    def __init__(self, max_size: int = 4):
        self.max_size = check_int("max_size", max_size, 1, hint="It is the number of architectures kept.")
        self._models: OrderedDict[tuple, tuple[threading.Lock, Any]] = OrderedDict()
        self._lock = threading.Lock()  # guards the dictionary; each model has its own lock

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        """Drop every kept model."""
        with self._lock:
            self._models.clear()

    @contextmanager
    def borrow(self, n_inputs: int, *, hidden: Sequence[int] = (32,), latent: int = 4,
               learning_rate: float = 1e-3) -> Iterator[Any]:
        """``with cache.borrow(n_inputs, ...) as model:`` the model of this architecture, for this caller alone.

        The model is built (by :func:`build_model`) on first use. Another thread asking for
        the same architecture waits until the ``with`` block ends. :func:`local_fit` resets
        what must not carry over from the last user (weights, optimizer state, FedProx anchors).
        """
        key = (int(n_inputs), tuple(int(h) for h in hidden), int(latent), float(learning_rate))
        with self._lock:
            if key not in self._models:
                self._models[key] = (threading.Lock(), build_model(key[0], hidden=key[1], latent=key[2],
                                                                   learning_rate=key[3]))
                while len(self._models) > self.max_size:
                    self._models.popitem(last=False)
            self._models.move_to_end(key)
            lock, model = self._models[key]
        with lock:
            yield model


#: The models the ClientApps of this process share (see :class:`ModelCache`).
MODELS = ModelCache()


def local_fit(model, X: np.ndarray, weights: Sequence[np.ndarray], *, epochs: int = 1, batch_size: int = 64,
              mu: float = 0.0, seed: int | None = 0) -> tuple[list[np.ndarray], float]:
    """Train ``model`` from ``weights`` on windows ``X`` (targets = inputs); the new weights and last loss.

    The optimizer's state is reset first (each round starts like a fresh local training),
    and ``mu > 0`` adds FedProx's proximal term towards ``weights``. Not thread-safe on a shared
    ``model``: borrow it from :data:`MODELS`.

    Trained with Keras's ``model.fit`` on all of a site's windows, without the detector stack's
    :func:`~sadlib.detectors.training.fit_model` (whose early stopping needs a validation part; a
    round is a fixed number of local epochs). An older loop of equal-size batches dropped the
    leftover windows each epoch, which halved the steps of a little-data site (67 windows, batch 64)
    and changed notebook 11's federated results.
    """
    epochs = check_int("epochs", epochs, 1, hint="It is the number of local passes over the site's windows.")
    batch_size = check_int("batch_size", batch_size, 1)
    mu = check_number("mu", mu, 0, hint="It is FedProx's proximal weight; 0 is plain FedAvg training.")
    if len(X) == 0:
        raise ValueError("local_fit got no training windows; the site needs at least `window` normal rows.")
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    for anchor, w in zip(model.fed_proximal.anchors, weights):
        anchor.assign(np.asarray(w, dtype=np.float32))
    model.fed_proximal.mu.assign(float(mu))
    for var in model.optimizer.variables:  # step count and moments, not the learning rate
        if var.name != "learning_rate":
            var.assign(np.zeros(var.shape, dtype=var.dtype))
    if seed is not None:
        import_keras().utils.set_random_seed(int(seed))
    history = model.fit(X, X, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    return [np.asarray(w) for w in model.get_weights()], float(history.history["loss"][-1])


def _reconstruction_errors(model, X: np.ndarray) -> np.ndarray:
    """Each flattened window's mean squared error: the detector stack's prediction and error formula."""
    # window=1: the mean over all of a flattened window's values does not depend on how they split into steps
    return reconstruction_errors(X, predict_batches(model, X, eager=True), window=1, error="mse")


def window_loss(model, X: np.ndarray) -> float:
    """Mean squared reconstruction error over windows ``X`` (a site's validation loss)."""
    return float(_reconstruction_errors(model, X).mean())


def reconstruction_scores(model, rows: np.ndarray, window: int) -> np.ndarray:
    """One score per row of scaled ``rows``: the error of the window that ends there.

    The first ``window - 1`` rows have no window of their own: NaN, "no score" (no alarm, ranked lowest).
    """
    errors = _reconstruction_errors(model, make_windows(rows, window))
    return windows_to_points(errors, len(rows), window, how="last")
