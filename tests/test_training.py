import numpy as np

from sadlib.detectors.training import EarlyStopping, batch_indices


class FakeModel:
    def __init__(self):
        self.weights = [np.zeros(2)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def test_batch_indices_equal_sizes_fresh_order():
    rng = np.random.default_rng(0)
    first = list(batch_indices(10, 4, rng))
    assert [len(b) for b in first] == [4, 4]
    assert len(set(np.concatenate(first))) == 8  # no index twice in one epoch
    second = list(batch_indices(10, 4, rng))
    assert not all(np.array_equal(a, b) for a, b in zip(first, second))
    assert [len(b) for b in batch_indices(3, 32, rng)] == [3]  # a batch larger than the data


def test_early_stopping_keeps_the_best_epoch():
    model = FakeModel()
    stopper = EarlyStopping(model, patience=2)
    losses = [3.0, 1.0, 2.0, 1.5, 0.5]
    stopped_at = None
    for epoch, loss in enumerate(losses):
        model.weights = [np.full(2, float(epoch))]
        if stopper.update(epoch, loss):
            stopped_at = epoch
            break
    assert stopped_at == 3 and stopper.best_epoch == 2
    stopper.restore()
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_restore_without_updates_changes_nothing():
    model = FakeModel()
    model.weights = [np.ones(2)]
    EarlyStopping(model, patience=1).restore()
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
