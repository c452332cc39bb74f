"""The one training loop of the Keras detectors (sadlib.detectors.training.fit_loop)."""

import numpy as np
import pytest

from sadlib.detectors.training import batch_indices, fit_loop, predict_batches
from sadlib.environment import import_keras

keras = pytest.importorskip("keras")


class ScriptedModel:
    """A stand-in for a Keras model: its weights are the number of training steps taken, and its
    predictions are off by a scripted amount per epoch, so the validation loss of each epoch is known."""

    def __init__(self, val_losses, steps_per_epoch):
        self.offsets = np.sqrt(np.asarray(val_losses, dtype=float))
        self.steps_per_epoch = steps_per_epoch
        self.steps = 0
        self.stop_training = False

    def get_weights(self):
        return [np.array([float(self.steps)])]

    def set_weights(self, weights):
        self.steps = int(weights[0][0])

    def train_on_batch(self, x, y):
        self.steps += 1
        return 0.5

    def predict_on_batch(self, x):
        epoch = (self.steps - 1) // self.steps_per_epoch
        return np.asarray(x) + self.offsets[epoch]


def test_batch_indices_equal_sizes_fresh_order():
    rng = np.random.default_rng(0)
    first = list(batch_indices(10, 4, rng))
    assert [len(b) for b in first] == [4, 4]
    assert len(set(np.concatenate(first))) == 8  # no index twice in one epoch
    second = list(batch_indices(10, 4, rng))
    assert not all(np.array_equal(a, b) for a, b in zip(first, second))
    assert [len(b) for b in batch_indices(3, 32, rng)] == [3]  # a batch larger than the data


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch():
    x = np.zeros((8, 2), dtype=np.float32)
    model = ScriptedModel([3.0, 1.0, 2.0, 1.5, 0.5, 0.1], steps_per_epoch=2)  # batches of 4: 2 steps per epoch
    history, best = fit_loop(model, x, validation_data=(x, x), epochs=6, batch_size=4, patience=2, seed=0)
    assert len(history["loss"]) == 4  # epochs 3 and 4 did not beat epoch 2: stop after epoch 4
    np.testing.assert_allclose(history["val_loss"], [3.0, 1.0, 2.0, 1.5])
    assert best == 2 and model.steps == 4  # the weights after epoch 2 (4 steps) are back


def test_without_validation_all_epochs_run_and_the_last_is_kept():
    x = np.zeros((8, 2), dtype=np.float32)
    model = ScriptedModel([3.0, 1.0, 2.0], steps_per_epoch=2)
    history, best = fit_loop(model, x, epochs=3, batch_size=4, patience=0, seed=0)
    assert list(history) == ["loss"] and len(history["loss"]) == 3 and best == 3 and model.steps == 6


def test_step_hook_and_callback_logs_reach_the_history():
    x = np.zeros((8, 2), dtype=np.float32)
    seen = []

    def step(model, xb, yb):
        seen.append(len(xb))
        return model.train_on_batch(xb, yb) + 1.0

    class Logger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 10.0 * epoch

    model = ScriptedModel([1.0, 1.0, 1.0], steps_per_epoch=4)
    history, _ = fit_loop(model, x, epochs=3, batch_size=2, patience=5, seed=0, step=step, callbacks=[Logger()])
    assert seen == [2] * 12
    assert history["loss"] == [1.5, 1.5, 1.5] and history["extra"] == [0.0, 10.0, 20.0]


def test_a_generator_seed_is_used_as_it_is():
    rng = np.random.default_rng(5)
    expected = list(batch_indices(10, 5, np.random.default_rng(5)))
    orders = []
    model = ScriptedModel([1.0], steps_per_epoch=2)
    fit_loop(model, np.arange(20.0).reshape(10, 2), epochs=1, batch_size=5, patience=0, seed=rng,
             step=lambda m, xb, yb: orders.append(xb[:, 0] / 2) or 0.0)
    np.testing.assert_array_equal(np.concatenate(orders), np.concatenate(expected))


def test_fit_loop_trains_a_keras_model_like_fit_with_early_stopping():
    """On a real model: the loss falls, and the kept weights are those of the best validation epoch."""
    keras_ = import_keras()
    keras_.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    model = keras_.Sequential([keras_.Input((6,)), keras_.layers.Dense(3), keras_.layers.Dense(6)])
    model.compile(optimizer=keras_.optimizers.Adam(1e-2), loss="mse")
    val = rng.normal(size=(64, 6)).astype(np.float32)
    history, best = fit_loop(model, x, validation_data=(val, val), epochs=20, batch_size=32, patience=3, seed=0)
    assert history["loss"][-1] < history["loss"][0]
    kept = float(np.mean((predict_batches(model, val) - val) ** 2))
    assert kept == pytest.approx(min(history["val_loss"]), rel=1e-5)
    assert history["val_loss"][best - 1] == min(history["val_loss"])


def test_predict_batches_chunks_and_empty_input():
    model = ScriptedModel([0.0], steps_per_epoch=1)
    model.steps = 1
    model.outputs = [type("T", (), {"shape": (None, 2)})()]
    x = np.arange(10.0).reshape(5, 2)
    np.testing.assert_array_equal(predict_batches(model, x, batch_size=2), x)
    assert predict_batches(model, x[:0]).shape == (0, 2)


def _tiny_autoencoder(seed):
    keras_ = import_keras()
    keras_.utils.set_random_seed(seed)
    model = keras_.Sequential([keras_.Input((6,), name="x"), keras_.layers.Dense(3, name="code"),
                               keras_.layers.Dropout(0.3, name="drop"), keras_.layers.Dense(6, name="out")])
    model.compile(optimizer=keras_.optimizers.Adam(1e-2), loss="mse")
    return model


def test_trainer_pool_trains_exactly_as_fit_loop_and_shares_one_model_per_architecture():
    from sadlib.detectors.training import TrainerPool

    rng = np.random.default_rng(1)
    x, val = rng.normal(size=(128, 6)).astype(np.float32), rng.normal(size=(32, 6)).astype(np.float32)
    kwargs = dict(validation_data=(val, val), epochs=6, batch_size=16, patience=2, seed=0)
    direct = _tiny_autoencoder(3)
    expected = fit_loop(direct, x, **kwargs)
    pool = TrainerPool(max_size=2)
    for _ in range(2):  # the second fit reuses the pooled model, whose optimizer has moved on: it is reset
        model = _tiny_autoencoder(3)
        got = pool.fit(model, lambda: _tiny_autoencoder(9), x, **kwargs)
        assert got == expected and len(pool) == 1
        for a, b in zip(model.get_weights(), direct.get_weights()):
            np.testing.assert_array_equal(a, b)
    # predictions through the pool use the model's weights and leave the model alone
    before = [w.copy() for w in model.get_weights()]
    out = pool.run(model, lambda: _tiny_autoencoder(9), lambda m: predict_batches(m, val))
    np.testing.assert_allclose(out, predict_batches(direct, val), rtol=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    keras_ = import_keras()
    keras_.utils.set_random_seed(0)
    other = keras_.Sequential([keras_.Input((6,), name="x"), keras_.layers.Dense(2, name="code"),
                               keras_.layers.Dense(6, name="out")])
    other.compile(optimizer=keras_.optimizers.Adam(1e-2), loss="mse")
    assert TrainerPool._key(other) != TrainerPool._key(model)  # another architecture, another pooled model
    assert TrainerPool._key(_tiny_autoencoder(5)) == TrainerPool._key(model)  # the optimizer's name is ignored
