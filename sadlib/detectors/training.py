"""The one training loop of the Keras detectors: ``fit_loop``.

Every Keras detector of the course (dense, sequence and VQ-VAE autoencoders, the
LSTM forecaster) trains with :func:`fit_loop`. It behaves like

.. code-block:: python

    model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
              shuffle=True, callbacks=[keras.callbacks.EarlyStopping(
                  patience=patience, restore_best_weights=True), *callbacks])

and it uses Keras's own ``EarlyStopping`` and any other Keras callbacks
(``CSVLogger``, ``TensorBoard``, ...). It is written as a loop of
``model.train_on_batch`` calls because ``fit`` streams the arrays through a
``tf.data`` pipeline whose threads compete with training for a small CPU's cores, so
an epoch of ``fit`` costs more on the course's 2-core machine (measured: see
``benchmarks/README.md``, "Training loop and trainer pool").

Two hooks make room for what ``fit`` would do in a custom ``train_step``: ``step``
replaces the call that trains on one batch (the VQ-VAE updates its codebook there),
and callbacks may add entries to an epoch's ``logs``, which :func:`fit_loop` records
in the history like any loss.

:class:`TrainerPool` saves the time Keras spends tracing a new model's training
step (for a small model, more than training takes on a few hundred windows): a
detector trains a compiled model of the same architecture that an earlier fit has
already traced, then copies the result into its own model.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..environment import import_keras

__all__ = ["batch_indices", "fit_loop", "predict_batches", "PREDICT_BATCH", "TrainerPool", "TRAINERS"]

#: windows per forward pass when predicting (bounds memory on long series)
PREDICT_BATCH = 4096


def batch_indices(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Indices of one epoch's batches: a fresh random order of ``range(n)``, cut into batches of equal size.

    The batch size is ``min(batch_size, n)``; the few samples left over (fewer than one
    batch) change from epoch to epoch. Equal sizes keep Keras from tracing the training
    step again for a smaller last batch.
    """
    batch = min(batch_size, n)
    order = rng.permutation(n)
    for i in range(0, n - batch + 1, batch):
        yield order[i : i + batch]


def predict_batches(model, x: np.ndarray, batch_size: int = PREDICT_BATCH, *, eager: bool = False) -> np.ndarray:
    """``model``'s outputs for ``x`` in chunks of ``batch_size``, as float64.

    By default ``predict_on_batch`` runs the compiled prediction function, traced on the
    first call: an LSTM called eagerly is about ten times slower. ``eager=True`` calls the
    model directly (``model(x, training=False)``), which is cheaper for a small dense or
    convolutional model that is called only a few times than tracing it once per fit.
    An empty ``x`` gives an empty array.
    """
    if len(x) == 0:
        return np.zeros((0, *model.outputs[0].shape[1:]))
    if eager:
        ops = import_keras().ops
        parts = [ops.convert_to_numpy(model(x[i : i + batch_size], training=False))
                 for i in range(0, len(x), batch_size)]
    else:
        parts = [np.asarray(model.predict_on_batch(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float64)


def _train_on_batch(model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.ravel(model.train_on_batch(x, y))[0])


def fit_loop(
    model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int | np.random.Generator | None = None,
    callbacks: Sequence[Any] = (),
    step: Callable[[Any, np.ndarray, np.ndarray], float] | None = None,
    eager_predict: bool = False,
) -> tuple[dict[str, list[float]], int]:
    """Train a compiled model with shuffled mini-batches and early stopping; restore the best weights.

    Parameters
    ----------
    model : compiled keras.Model (loss ``"mse"``)
    x, y : training inputs and targets; ``y=None`` means ``y = x`` (an autoencoder)
    validation_data : ``(x_val, y_val)``, optional
        Early stopping watches its loss, the mean squared error of ``model``'s
        predictions (the compiled loss of every course model, without the training-only
        losses such as the VQ-VAE's commitment term). ``None`` trains for all ``epochs``.
    epochs, batch_size : as in ``model.fit``. Every batch has ``min(batch_size, len(x))``
        samples; the few left over change from epoch to epoch (:func:`batch_indices`).
    patience : int
        ``keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)``
        on ``"val_loss"``.
    seed : int, numpy Generator or None
        Seed (or generator) of the batch order; the weights are seeded by whoever built
        the model. Pass a generator to share it with a ``step`` hook that draws from it.
    callbacks : Keras callbacks, called as ``model.fit`` calls them at the start and end
        of training and of every epoch (not per batch). Entries a callback adds to an
        epoch's ``logs`` are recorded in the history.
    step : callable ``(model, x_batch, y_batch) -> loss``, optional
        Trains on one batch; default ``model.train_on_batch``.
    eager_predict : bool
        Compute the validation predictions eagerly (see :func:`predict_batches`).

    Returns
    -------
    history : dict of lists, one entry per epoch run: ``"loss"`` (mean over the epoch's
        batches), ``"val_loss"`` (with ``validation_data``) and whatever callbacks logged
    best_epoch : int, the 1-based epoch whose weights the model holds at the end (the
        lowest validation loss; the last epoch without ``validation_data``)
    """
    keras = import_keras()
    y = x if y is None else y
    step = _train_on_batch if step is None else step
    rng = np.random.default_rng(seed)
    stopper = None
    if validation_data is not None:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    hooks = [*callbacks, *([stopper] if stopper else [])]  # early stopping last: it sees what others logged
    for hook in hooks:
        hook.set_model(model)
        hook.set_params({"epochs": epochs, "verbose": 0})
    model.stop_training = False
    history: dict[str, list[float]] = {}
    for hook in hooks:
        hook.on_train_begin()
    for epoch in range(epochs):
        for hook in hooks:
            hook.on_epoch_begin(epoch)
        losses = [step(model, x[idx], y[idx]) for idx in batch_indices(len(x), batch_size, rng)]
        logs = {"loss": float(np.mean(losses))}
        if validation_data is not None:
            x_val, y_val = validation_data
            logs["val_loss"] = float(np.mean((predict_batches(model, x_val, eager=eager_predict) - y_val) ** 2))
        for hook in hooks:  # one logs dict, as model.fit's CallbackList passes it
            hook.on_epoch_end(epoch, logs)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        if model.stop_training:
            break
    for hook in hooks:
        hook.on_train_end()
    best_epoch = stopper.best_epoch + 1 if stopper is not None else len(history["loss"])
    return history, best_epoch


class TrainerPool:
    """Compiled models kept for re-use, one per architecture: train a new model without tracing again.

    Keras traces a model's training step on its first ``train_on_batch`` call (and its
    prediction function on the first ``predict_on_batch``). For the course's small
    models that costs more than training on one SKAB file, and the benchmark fits a new
    detector on each of 34 files, so re-using a traced model saves much of the fitting
    time (measured: ``benchmarks/README.md``, "Training loop and trainer pool").

    :meth:`fit` trains ``model`` *through* a pooled model of the same architecture (same
    ``model.get_config()`` and optimizer configuration): it copies ``model``'s variables
    (weights and dropout seed states) into the pooled model, gives it a fresh optimizer
    (step 0, zero moments), runs :func:`fit_loop` on it and copies the trained variables
    back. ``model`` ends exactly as if :func:`fit_loop` had trained it (same seed, same
    numbers; a test checks it), and nothing of the pooled model stays attached to it.
    Name every layer in a model builder: Keras numbers unnamed layers (``dense``,
    ``dense_1``, ...), and two builds that differ in a layer's name never share.

    Parameters
    ----------
    max_size : int
        Pooled models kept; the least recently used is dropped beyond it. ``0`` turns
        re-use off (every fit traces its own model).
    """

    def __init__(self, max_size: int = 8):
        self.max_size = max_size
        self._models: OrderedDict[str, tuple[Any, list[np.ndarray]]] = OrderedDict()
        self._lock = threading.RLock()  # one fit at a time uses a pooled model

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        """Drop every pooled model."""
        with self._lock:
            self._models.clear()

    @staticmethod
    def _key(model) -> str:
        optimizer = dict(model.optimizer.get_config()) if model.optimizer is not None else {}
        optimizer.pop("name", None)  # "adam", "adam_1", ...: Keras numbers the optimizers it creates
        config = dict(model.get_config())
        config.pop("name", None)  # "sequential", "sequential_1", ...: numbered like the optimizers
        return json.dumps([config, optimizer, str(model.loss)], sort_keys=True, default=str)

    @staticmethod
    def _copy_variables(source, target) -> None:
        src, dst = source.variables, target.variables
        if len(src) != len(dst) or any(a.shape != b.shape for a, b in zip(src, dst)):  # pragma: no cover - a bug
            raise RuntimeError("the pooled model and the model have different variables")
        for a, b in zip(src, dst):
            b.assign(a.numpy())

    def _trainer(self, model, build: Callable[[], Any]):
        """The pooled model of ``model``'s architecture (built and added when missing). Call with the lock held."""
        key = self._key(model)
        if key not in self._models:
            trainer = build()
            trainer.optimizer.build(trainer.trainable_variables)
            self._models[key] = (trainer, [np.array(v.numpy()) for v in trainer.optimizer.variables])
            while len(self._models) > self.max_size:
                self._models.popitem(last=False)
        self._models.move_to_end(key)
        return self._models[key]

    def fit(self, model, build: Callable[[], Any], x: np.ndarray, y: np.ndarray | None = None,
            **fit_loop_kwargs) -> tuple[dict[str, list[float]], int]:
        """Train the compiled ``model`` like ``fit_loop(model, x, y, **fit_loop_kwargs)``, through a pooled model.

        ``build`` returns a new compiled model of ``model``'s architecture (called when the
        pool has none yet). Returns what :func:`fit_loop` returns.
        """
        if self.max_size < 1:
            return fit_loop(model, x, y, **fit_loop_kwargs)
        with self._lock:
            trainer, optimizer_start = self._trainer(model, build)
            self._copy_variables(model, trainer)
            for variable, value in zip(trainer.optimizer.variables, optimizer_start):
                variable.assign(value)  # a fresh optimizer: step 0, zero moments
            result = fit_loop(trainer, x, y, **fit_loop_kwargs)
            self._copy_variables(trainer, model)
        return result

    def run(self, model, build: Callable[[], Any], fn: Callable[[Any], Any]) -> Any:
        """``fn(model)``, computed on the pooled model of ``model``'s architecture holding ``model``'s weights.

        For predictions: the pooled model's prediction function is traced already (a new
        model would trace its own, which costs more than scoring one SKAB file). ``model``
        is not changed.
        """
        if self.max_size < 1:
            return fn(model)
        with self._lock:
            trainer, _ = self._trainer(model, build)
            self._copy_variables(model, trainer)
            return fn(trainer)


#: the pool the course's Keras detectors share (``TRAINERS.max_size = 0`` turns re-use off)
TRAINERS = TrainerPool()
