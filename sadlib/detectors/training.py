"""How the Keras detectors train: ``model.fit`` with early stopping, and how they predict.

Every Keras detector of the course (dense, sequence and VQ-VAE autoencoders, the LSTM
forecaster) trains with :func:`fit_model`, which is one call of Keras's own loop:

.. code-block:: python

    history = model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
                        shuffle=True, verbose=0,
                        callbacks=[*callbacks, keras.callbacks.EarlyStopping(
                            monitor="val_loss", patience=patience, restore_best_weights=True)])

The helper only builds the callbacks and returns ``(history.history, best_epoch)``; what a
model needs beyond ``fit`` lives in the model itself (the VQ-VAE's EMA codebook is updated in
its quantizer layer's ``call(training=True)``, see :class:`sadlib.detectors.layers.VectorQuantizer`).

Reproducibility: the detectors call ``keras.utils.set_random_seed(random_state)`` before they
build the model, which seeds the weight initialisers, dropout, the quantizer's random draws
(``keras.random.SeedGenerator``) and ``fit``'s shuffling (Python's, NumPy's and the backend's
generators). Same ``random_state``, same numbers on the CPU.

Speed: ``compile_model`` sets ``steps_per_execution`` (:data:`STEPS_PER_EXECUTION`), which lets
``fit`` run several batches per call of its traced training function and so cuts the Python
overhead per batch on small models (measured: ``benchmarks/README.md``, "Training with
model.fit"). A new detector of an architecture that an earlier one no longer needs trains the
earlier one's model, re-initialised in place as a fresh build would be, and so does not trace
``fit``'s functions again (:mod:`sadlib.detectors.model_cache`; ``MODEL_CACHE.max_size = 0``
turns it off).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..environment import import_keras

__all__ = ["fit_model", "predict_batches", "PREDICT_BATCH", "STEPS_PER_EXECUTION"]

#: windows per forward pass when predicting (bounds memory on long series)
PREDICT_BATCH = 4096
#: batches per call of the traced training function (``model.compile(steps_per_execution=...)``)
STEPS_PER_EXECUTION = 8


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


def _lean_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool):
    """``(x, y)`` as a ``tf.data`` pipeline for ``model.fit`` on the TensorFlow backend: shuffled every epoch
    (a full-size buffer, seeded from NumPy's global generator, which ``keras.utils.set_random_seed`` seeds),
    batched, with tf.data's autotuning, default graph rewrites and thread pools off.

    ``fit`` creates a new iterator over its data every epoch (and one more for the validation
    pass); the dataset Keras builds from NumPy arrays costs about 0.1 s per iterator on the
    course's loaded 2-core machine, more than an epoch of a small model on a SKAB file. This
    plain pipeline of in-memory tensors needs none of those services (measured:
    ``benchmarks/README.md``, "Training with model.fit").
    """
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(x), seed=int(np.random.randint(2**31 - 1)), reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.apply_default_optimizations = False
    options.threading.private_threadpool_size = 1
    return data.batch(batch_size).with_options(options)


def fit_model(
    model,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int,
    batch_size: int,
    patience: int,
    callbacks: Sequence[Any] = (),
) -> tuple[dict[str, list[float]], int]:
    """Train a compiled model with ``model.fit``: shuffled mini-batches, early stopping, the best weights kept.

    Parameters
    ----------
    model : compiled keras.Model
    x, y : training inputs and targets; ``y=None`` means ``y = x`` (an autoencoder)
    validation_data : ``(x_val, y_val)``, optional
        The chronological validation part. Early stopping watches its compiled loss
        (``val_loss``; Keras evaluates it with ``training=False``, so without training-only
        losses such as the VQ-VAE's commitment term). ``None`` trains for all ``epochs``.
    epochs, batch_size : as in ``model.fit`` (the last batch of an epoch may be smaller).
    patience : int
        ``keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
        restore_best_weights=True)``, added after ``callbacks`` (only with ``validation_data``).
    callbacks : further Keras callbacks (``CSVLogger``, ``TensorBoard``, a logger that adds
        entries to an epoch's ``logs``, which ``fit``'s history records).

    On the TensorFlow backend the arrays reach ``fit`` as a lean ``tf.data`` pipeline
    (:func:`_lean_dataset`: shuffled each epoch, same batches); on JAX as NumPy arrays with
    ``shuffle=True``.

    Returns
    -------
    history : ``history.history`` as plain lists of floats, one entry per epoch run
    best_epoch : int, the 1-based epoch whose weights the model holds at the end (the
        lowest validation loss; the last epoch without ``validation_data``)
    """
    keras = import_keras()
    y = x if y is None else y
    batch_size = min(batch_size, len(x))
    stopper = None
    if validation_data is not None:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    callbacks = [*callbacks, *([stopper] if stopper else [])]
    if keras.backend.backend() == "tensorflow":
        train = _lean_dataset(x, y, batch_size, shuffle=True)
        val = None if validation_data is None else _lean_dataset(*validation_data, batch_size, shuffle=False)
        # shuffle=False: the dataset shuffles itself every epoch (fit would warn that it ignores shuffle=True)
        fitted = model.fit(train, validation_data=val, epochs=epochs, shuffle=False, callbacks=callbacks, verbose=0)
    else:
        fitted = model.fit(x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
                           shuffle=True, callbacks=callbacks, verbose=0)
    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    best_epoch = stopper.best_epoch + 1 if stopper is not None else len(history["loss"])
    return history, best_epoch
