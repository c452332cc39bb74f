"""How the Keras detectors train (sadlib.detectors.training.fit_model: one model.fit call) and predict."""

import ast
from pathlib import Path

import numpy as np
import pytest

import sadlib
from sadlib.detectors.training import fit_model, predict_batches
from sadlib.environment import import_keras

keras = pytest.importorskip("keras")


def _tiny_autoencoder(seed, dropout=0.0):
    keras_ = import_keras()
    keras_.utils.set_random_seed(seed)
    model = keras_.Sequential([keras_.Input((6,), name="x"), keras_.layers.Dense(3, name="code"),
                               keras_.layers.Dropout(dropout, name="drop"), keras_.layers.Dense(6, name="out")])
    model.compile(optimizer=keras_.optimizers.Adam(1e-2), loss="mse")
    return model


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(256, 6)).astype(np.float32), rng.normal(size=(64, 6)).astype(np.float32)


def test_fit_model_keeps_the_weights_of_the_best_validation_epoch():
    x, val = _data()
    model = _tiny_autoencoder(0)
    history, best = fit_model(model, x, validation_data=(val, val), epochs=40, batch_size=32, patience=2)
    assert history["loss"][-1] < history["loss"][0]
    assert set(history) == {"loss", "val_loss"} and len(history["loss"]) == len(history["val_loss"])
    assert history["val_loss"][best - 1] == min(history["val_loss"])
    kept = float(np.mean((predict_batches(model, val) - val) ** 2))
    assert kept == pytest.approx(min(history["val_loss"]), rel=1e-4)  # restore_best_weights=True


def test_early_stopping_ends_training_after_patience_epochs_without_progress():
    x, _ = _data()
    noise = np.random.default_rng(9).normal(size=(64, 6)).astype(np.float32) * 100.0  # nothing to learn about it
    model = _tiny_autoencoder(1)
    history, best = fit_model(model, x, validation_data=(noise, -noise), epochs=50, batch_size=64, patience=1)
    n = len(history["loss"])
    assert n < 50 and n - best <= 2  # stopped once `patience` epochs after the best one failed to beat it


def test_without_validation_every_epoch_runs_and_the_last_is_kept():
    x, _ = _data()
    model = _tiny_autoencoder(0)
    history, best = fit_model(model, x, epochs=3, batch_size=64, patience=0)
    assert list(history) == ["loss"] and len(history["loss"]) == 3 and best == 3


def test_callback_logs_reach_the_history_and_the_batch_hooks_run():
    x, val = _data()
    batches = []

    class Logger(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)

        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 10.0 * epoch

    history, _ = fit_model(_tiny_autoencoder(0), x, validation_data=(val, val), epochs=3, batch_size=64,
                           patience=5, callbacks=[Logger()])
    assert history["extra"] == [0.0, 10.0, 20.0]
    assert len(batches) == 3 * 4  # model.fit's per-batch hooks: 256 samples in batches of 64, 3 epochs


def test_same_seed_same_weights_with_dropout_and_shuffling():
    x, val = _data()

    def run(seed):
        model = _tiny_autoencoder(seed, dropout=0.3)
        fit_model(model, x, validation_data=(val, val), epochs=3, batch_size=32, patience=5)
        return model.get_weights()

    a, b, c = run(4), run(4), run(5)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a, c))


def test_predict_batches_chunks_and_empty_input():
    class Identity:
        outputs = [type("T", (), {"shape": (None, 2)})()]

        def predict_on_batch(self, x):
            assert len(x) <= 2
            return np.asarray(x)

    x = np.arange(10.0).reshape(5, 2)
    np.testing.assert_array_equal(predict_batches(Identity(), x, batch_size=2), x)
    assert predict_batches(Identity(), x[:0]).shape == (0, 2)


FORBIDDEN = {"train_on_batch", "TrainerPool", "TRAINERS"}


def _forbidden_in_code(source: str) -> set[str]:
    """Names of FORBIDDEN used as a name or an attribute in ``source`` (docstrings and messages may mention them)."""
    tree = ast.parse(source)
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return used & FORBIDDEN


def test_no_module_of_sadlib_trains_with_train_on_batch_or_a_pool_of_models():
    """Every Keras detector trains with model.fit; nothing calls train_on_batch or the removed TrainerPool."""
    assert _forbidden_in_code("loss = model.train_on_batch(x, y)") == {"train_on_batch"}  # the check can fail
    assert _forbidden_in_code('"""train_on_batch is gone"""') == set()
    root = Path(sadlib.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 30  # the walk does see the package
    offenders = {str(path.relative_to(root)): found for path in files
                 if (found := _forbidden_in_code(path.read_text(encoding="utf-8")))}
    assert offenders == {}
