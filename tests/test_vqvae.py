import importlib.util
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from sadlib.detectors import vqvae
from sadlib.detectors.vqvae import VQVAE, build_vqvae, nearest_codes, perplexity
from sadlib.environment import import_keras
from sadlib.windows import sliding_windows

if importlib.util.find_spec("keras") is None:  # checked without importing it (that would load TensorFlow)
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)

FAST = dict(window=16, n_codes=16, code_dim=8, filters=16, kernel_size=3, downsample=2, batch_size=32)


def make(**params):
    return VQVAE(**{**FAST, "epochs": 10, **params})


@pytest.fixture(scope="module")
def pump():
    """Four periodic sensors with noise: fit on 500 rows; test on 300 with a level shift of 30 rows in sensor 3."""
    n, rng, t = 800, np.random.default_rng(0), np.arange(800)
    X = np.column_stack([np.sin(2 * np.pi * t / p + p) for p in (24, 40, 60, 33)]) + rng.normal(0, 0.1, (n, 4))
    data = pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1min"), columns=list("abcd"))
    train, test = data.iloc[:500], data.iloc[500:].copy()
    test.iloc[150:180, 3] += 5.0
    return train, test


@pytest.fixture(scope="module")
def both(pump):
    return {cb: make(codebook=cb).fit(pump[0]) for cb in ("ema", "gradient")}


def test_import_does_not_load_tensorflow():
    code = "import sys, sadlib.detectors.vqvae; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_one_hot_quantizer_equals_argmin_and_straight_through():
    keras = import_keras()
    rng = np.random.default_rng(0)
    layer = vqvae.VectorQuantizer(6, 3, name="q")
    z = rng.normal(size=(5, 4, 3)).astype("float32")
    q = np.asarray(layer(z))  # builds the layer; inference: the nearest codes themselves
    codebook = np.asarray(layer.codebook.numpy())
    idx, dist = nearest_codes(z, codebook)
    np.testing.assert_allclose(q, codebook[idx], atol=1e-6)
    np.testing.assert_allclose(dist, ((z - codebook[idx]) ** 2).sum(-1), atol=1e-5)
    # NumPy argmin over the brute-force distances
    brute = ((z[..., None, :] - codebook) ** 2).sum(-1).argmin(-1)
    np.testing.assert_array_equal(idx, brute)
    # ties: two identical codes share the one-hot weight and q is still that code
    layer.codebook.assign(np.vstack([codebook[:1], codebook[:1], codebook[2:]]))
    zt = np.repeat(codebook[None, None, :1], 2, axis=1).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(zt)), zt, atol=1e-6)
    assert keras.ops.is_tensor(layer(z)) or isinstance(layer(z), np.ndarray)


def test_perplexity_and_usage_attributes(both, pump):
    assert perplexity([5, 0, 0]) == pytest.approx(1.0)
    assert perplexity([3, 3, 3, 3]) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="counts"):
        perplexity([0, 0])
    n_windows = 400 - 0  # fit part: 500 rows - 20 % calibration = 400 rows, 20 % of them validate
    for det in both.values():
        n_train_windows = (n_windows - 80) - 16 + 1
        assert det.codebook_usage_.shape == (16,) and det.codebook_usage_.sum() == n_train_windows * 4
        assert det.perplexity_ == pytest.approx(perplexity(det.codebook_usage_))
        assert det.n_codes_used_ == np.count_nonzero(det.codebook_usage_)
        assert 1 <= det.perplexity_ <= det.n_codes_used_ <= 16
        assert len(det.history_["perplexity"]) == len(det.history_["codes_used"]) == det.n_epochs_
        # codes() of the training rows reproduce the usage counts
        train_rows = pump[0].iloc[: 400 - 80]
        codes = det.codes(train_rows)
        assert codes.shape == (n_train_windows, 4)
        np.testing.assert_array_equal(np.bincount(codes.ravel(), minlength=16), det.codebook_usage_)


def test_ema_keeps_more_codes_alive_than_the_gradient_codebook(both):
    ema, grad = both["ema"], both["gradient"]
    assert ema.n_codes_used_ == 16 > grad.n_codes_used_  # resets keep every code in use; gradient leaves dead ones
    assert ema.perplexity_ > grad.perplexity_
    assert ema.n_resets_ > 0 and grad.n_resets_ == 0  # dead codes were brought back
    # the gradient codebook did learn (the codebook loss reached it) and the EMA one moved too
    init = build_vqvae(16, 4, **{k: FAST[k] for k in ("n_codes", "code_dim", "filters", "kernel_size")},
                       codebook="gradient").get_layer("quantizer").codebook.numpy()
    assert np.abs(grad.codebook_).max() > 2 * np.abs(init).max()
    assert np.abs(ema.codebook_).max() > 2 * np.abs(init).max()


def test_anomaly_scores_higher_for_every_scoring(both, pump):
    det = both["ema"]
    test = pump[1]
    for scoring in ("reconstruction", "latent"):
        s = det.set_params(scoring=scoring).score(test)
        k = det.unscored_rows  # window - 1 rows without a score (NaN)
        assert s.shape == (300,) and np.isnan(s[:k]).all() and np.all(s[k:] >= 0)
        assert np.median(s[150:180]) > 3 * np.nanmedian(s[:140]), scoring
    rarity = det.set_params(scoring="rarity").score(test)
    assert rarity.shape == (300,) and np.all(rarity[det.unscored_rows:] > 0)
    det.set_params(scoring="reconstruction")
    assert det.predict(test)[150:180].mean() > 0.9


def test_deterministic_given_random_state(pump):
    train, test = pump[0].iloc[:300], pump[1]
    a = make(epochs=3, random_state=1).fit(train)
    b = make(epochs=3, random_state=1).fit(train)
    np.testing.assert_allclose(a.score(test), b.score(test), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(a.codebook_usage_, b.codebook_usage_)
    c = make(epochs=3, random_state=2).fit(train)
    assert not np.allclose(a.score(test), c.score(test))


def test_litert_export_has_no_flex_ops(both, tmp_path, pump):
    if importlib.util.find_spec("ai_edge_litert") is None:
        pytest.skip("ai-edge-litert is not installed")
    from sadlib import edge

    det = both["ema"]
    path = edge.export_litert(det.model_, tmp_path / "vqvae.tflite")
    assert edge.flex_ops(path) == []
    windows = sliding_windows(det.scaler_.transform(pump[1].to_numpy()), 16).astype(np.float32)[:10]
    out = edge.LiteRTModel(path).predict(windows)
    np.testing.assert_allclose(out, np.asarray(det.model_(windows)), atol=1e-4)


def test_int8_with_the_quantizer_kept_in_float(both, tmp_path, pump):
    """Selective quantization: the nearest-code lookup stays float32, so the file picks the codes Keras picks."""
    if importlib.util.find_spec("ai_edge_litert") is None:
        pytest.skip("ai-edge-litert is not installed")
    from sadlib import edge

    det = both["ema"]
    scaled = lambda X: sliding_windows(det.scaler_.transform(X.to_numpy()), 16).astype(np.float32)
    train, test = scaled(pump[0]), scaled(pump[1])
    full = edge.export_litert(det.model_, tmp_path / "int8.tflite", quantization="int8", representative=train)
    mixed = edge.export_litert(det.model_, tmp_path / "mixed.tflite", quantization="int8", representative=train,
                               keep_float=["quantizer"])
    assert edge.flex_ops(mixed) == []

    def types(path):
        return {dtype for name, dtype in edge._tensors(path.read_bytes()) if edge._in_layer(name, "quantizer")}

    assert 9 in types(full)  # int8 distances in the full-int8 file
    assert 9 not in types(mixed) and 0 in types(mixed)  # float32 only in the mixed one
    # the encoder and decoder stay int8: the mixed file is about as small as the full-int8 one
    f32 = edge.export_litert(det.model_, tmp_path / "f32.tflite")
    assert mixed.stat().st_size < min(1.1 * full.stat().st_size, f32.stat().st_size)
    keras_err = ((np.asarray(det.model_(test)) - test) ** 2).mean(axis=(1, 2))

    def corr(path):
        edge_err = ((edge.LiteRTModel(path).predict(test) - test) ** 2).mean(axis=(1, 2))
        return np.corrcoef(keras_err, edge_err)[0, 1]

    corr_mixed = corr(mixed)
    assert corr_mixed > 0.95
    assert corr_mixed > corr(full)


def test_bad_params_raise_clear_errors(pump):
    X = pump[0]
    for params, match in [({"codebook": "kmeans"}, "codebook"), ({"scoring": "entropy"}, "scoring"),
                          ({"n_codes": 1}, "n_codes"), ({"decay": 1.0}, "decay"), ({"beta": -1}, "beta"),
                          ({"window": 10}, "multiple of 4"), ({"reset_after": -1}, "reset_after"),
                          ({"code_dim": 0}, "code_dim")]:
        with pytest.raises(ValueError, match=match):
            make(**params).fit(X)
    with pytest.raises(NotFittedError):
        make().codes(X)
    det = make(epochs=1).fit(X.iloc[:200])
    with pytest.raises(ValueError, match="window"):
        det.codes(X.iloc[:5])


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_runs_on_the_jax_backend():
    code = (
        "import numpy as np, keras\n"
        "from sadlib.detectors.vqvae import VQVAE\n"
        "assert keras.backend.backend() == 'jax'\n"
        "X = np.random.default_rng(0).normal(size=(200, 3))\n"
        "for cb in ('ema', 'gradient'):\n"
        "    det = VQVAE(window=8, epochs=2, codebook=cb, n_codes=8, code_dim=4, filters=8, kernel_size=3).fit(X)\n"
        "    print(det.score(X).shape, det.model_.output_shape, det.codes(X).shape,\n"
        "          bool(np.isfinite(det.history_['loss']).all()))\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["(200,) (None, 8, 3) (193, 2) True"] * 2


def test_quantizer_is_registered_for_serialisation():
    keras = import_keras()
    from sadlib.detectors.layers import PositionEmbedding, VectorQuantizer

    assert keras.saving.get_registered_object("sadlib>VectorQuantizer") is VectorQuantizer
    assert keras.saving.get_registered_object("sadlib>PositionEmbedding") is PositionEmbedding
    layer = vqvae.VectorQuantizer(6, 3, beta=0.5, codebook="gradient", decay=0.9, reset_after=4, name="q")
    assert not layer.weights  # weights are made in build
    copy = VectorQuantizer.from_config(layer.get_config())
    assert (copy.n_codes, copy.code_dim, copy.beta, copy.codebook_mode) == (6, 3, 0.5, "gradient")
    assert (copy.decay, copy.reset_after, copy.epsilon) == (0.9, 4, 1e-5)


def _ema_reference(z, codebook, ema_count, ema_sum, unused, *, decay, eps, reset_after):
    """The EMA rule of the quantizer in NumPy (float64), without the random picks: the new codebook, state and dead."""
    idx, _ = nearest_codes(z, codebook)
    k = len(codebook)
    n_b = np.bincount(idx, minlength=k)
    sums = np.zeros_like(codebook)
    np.add.at(sums, idx, z)
    ema_count = decay * ema_count + (1 - decay) * n_b
    ema_sum = decay * ema_sum + (1 - decay) * sums
    total = ema_count.sum()
    codes = ema_sum / ((ema_count + eps) / (total + k * eps) * total)[:, None]
    unused = np.where(n_b > 0, 0, unused + 1)
    dead = unused >= reset_after if reset_after else np.zeros(k, bool)
    return codes, ema_count, ema_sum, n_b, dead


def test_the_codebook_follows_the_ema_rule_inside_fit_and_dead_codes_are_reset():
    """One training step of model.fit against a NumPy reference of the same rule on the same batch."""
    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = build_vqvae(8, 2, n_codes=6, code_dim=3, filters=4, kernel_size=3, downsample=1, decay=0.9,
                        reset_after=1)
    layer = model.get_layer("quantizer")
    x = np.random.default_rng(1).normal(size=(16, 8, 2)).astype("float32")
    z = np.asarray(keras.Model(model.inputs, model.get_layer("encoder").output)(x)).reshape(-1, 3)
    codebook = np.asarray(layer.codebook.numpy(), dtype=np.float64)
    codebook[:4] = z[[0, 9, 18, 27]]  # four live codes: each is at least its own encoder output's nearest
    codebook[4:] = 50.0 + np.arange(6).reshape(2, 3)  # two codes far from every z: nearest to none, so dead
    layer.codebook.assign(codebook.astype("float32"))
    state = [np.asarray(v.numpy(), dtype=np.float64) for v in (layer.ema_count, layer.ema_sum, layer.unused)]
    codes, ema_count, ema_sum, n_b, dead = _ema_reference(z, codebook, *state, decay=0.9, eps=1e-5, reset_after=1)
    assert dead.tolist() == [False] * 4 + [True] * 2 and n_b[:4].sum() == len(z)

    model.fit(x, x, batch_size=16, epochs=1, shuffle=False, verbose=0)  # exactly one step
    got = np.asarray(layer.codebook.numpy(), dtype=np.float64)
    np.testing.assert_allclose(got[:4], codes[:4], rtol=1e-5, atol=1e-6)  # live codes: the EMA rule
    np.testing.assert_allclose(layer.ema_count.numpy()[:4], ema_count[:4], rtol=1e-5)
    np.testing.assert_allclose(layer.ema_sum.numpy()[:4], ema_sum[:4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.usage.numpy(), n_b)
    # dead codes: re-initialised to two different encoder outputs of the batch, count 1, unused 0
    rows = [int(np.argmin(((z - code) ** 2).sum(1))) for code in got[4:]]
    np.testing.assert_allclose(got[4:], z[rows], atol=1e-6)
    assert rows[0] != rows[1]
    np.testing.assert_allclose(layer.ema_sum.numpy()[4:], z[rows], atol=1e-6)
    np.testing.assert_array_equal(layer.ema_count.numpy()[4:], [1.0, 1.0])
    np.testing.assert_array_equal(layer.unused.numpy(), np.zeros(6))
    assert float(layer.resets.numpy()) == 2.0
    # inference does not touch the codebook
    model.predict_on_batch(x)
    np.testing.assert_array_equal(layer.codebook.numpy(), got.astype("float32"))


def test_the_gradient_codebook_has_no_ema_update_and_a_fitted_quantizer_round_trips(tmp_path):
    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = build_vqvae(8, 2, n_codes=6, code_dim=3, filters=4, kernel_size=3, downsample=1, codebook="gradient",
                        decay=0.5, reset_after=3)
    layer = model.get_layer("quantizer")
    x = np.random.default_rng(1).normal(size=(16, 8, 2)).astype("float32")
    ema_before = layer.ema_sum.numpy().copy()
    model.fit(x, x, batch_size=16, epochs=1, verbose=0)
    np.testing.assert_array_equal(layer.ema_sum.numpy(), ema_before)
    assert float(layer.usage.numpy().sum()) == 16 * 4  # positions counted in both modes
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    q = loaded.get_layer("quantizer")
    assert (q.decay, q.reset_after, q.codebook_mode) == (0.5, 3, "gradient")
    np.testing.assert_array_equal(q.codebook.numpy(), layer.codebook.numpy())
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)
