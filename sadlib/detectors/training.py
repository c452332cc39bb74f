"""The training loop pieces shared by the Keras detectors: shuffled equal-size batches and early stopping.

The detectors train with a loop of ``train_on_batch`` calls instead of ``model.fit``
(on a few hundred windows ``fit`` spends most of its time setting up its data
pipeline every epoch). These two pieces make that loop behave like
``model.fit(..., shuffle=True, callbacks=[EarlyStopping(patience=..., restore_best_weights=True)])``.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

__all__ = ["batch_indices", "EarlyStopping"]


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


class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` epochs; keep the best weights.

    Call :meth:`update` after every epoch (it returns True when training should stop)
    and :meth:`restore` after the loop. ``best_epoch`` is the 1-based epoch whose
    weights :meth:`restore` puts back (0 before the first update).
    """

    def __init__(self, model, patience: int):
        self.model = model
        self.patience = patience
        self.best_loss = np.inf
        self.best_epoch = 0
        self._best_weights = None
        self._wait = 0

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record the validation loss of ``epoch`` (0-based); True when training should stop."""
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self._wait = val_loss, epoch + 1, 0
            self._best_weights = self.model.get_weights()
            return False
        self._wait += 1
        return self._wait >= self.patience

    def restore(self) -> None:
        """Put the best epoch's weights back into the model (nothing if there was no update)."""
        if self._best_weights is not None:
            self.model.set_weights(self._best_weights)
