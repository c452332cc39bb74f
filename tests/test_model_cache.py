"""The cache of built Keras models (sadlib.detectors.model_cache): a fit through a re-used model is a fresh fit."""

import gc
import pickle

import numpy as np
import pytest

from sadlib import detectors
from sadlib.detectors.model_cache import MODEL_CACHE, KerasModelCache
from sadlib.validation import InvalidParameterError

pytest.importorskip("keras")

# every Keras detector that trains through KerasWindowDetector._fit, small; dropout and noise on where they exist
KERAS_DETECTORS = {
    "dense_ae": dict(window=8, hidden=(16,), latent=3),
    "lstm_ae": dict(window=8, units=4),
    "conv_ae": dict(window=8, filters=(8, 4), kernel_size=3, dropout=0.2),
    "cnn_lstm": dict(window=8, filters=4, kernel_size=3, units=4),
    "attn_lstm": dict(window=8, units=4),
    "transformer_ae": dict(window=8, d_model=8, heads=2, ff_dim=8, dropout=0.1, pool=2, latent=3, position="learned"),
    "vqvae": dict(window=8, n_codes=8, code_dim=2, filters=4, kernel_size=3, reset_after=2),
    "lstm_forecast": dict(window=8, units=(4,), input_noise=0.1),
}
COMMON = dict(epochs=4, batch_size=16, patience=2, calibration=0)


def _data(seed=0, n=160):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.column_stack([np.sin(t / 5), np.cos(t / 7), 0.3 * rng.normal(size=n)]).astype(np.float64)


def _fit(name, seed, X):
    return detectors.make(name, **KERAS_DETECTORS[name], **COMMON, random_state=seed).fit(X)


def _state(det, X):
    return ([np.array(w) for w in det.model_.get_weights()], det.history_, det.score(X))


def _assert_same(a, b):
    wa, ha, sa = a
    wb, hb, sb = b
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)
    assert ha == hb
    np.testing.assert_array_equal(sa, sb)


def _is_free(cache, model) -> bool:
    """Whether ``model`` waits in the cache (asked of one model: detectors of other tests may return theirs
    whenever the garbage collector runs, so the cache's length says nothing here)."""
    return any(entry.model is model for entry in cache._free.values())


@pytest.fixture
def cache():
    gc.collect()  # detectors left by earlier tests give their models back now, not during this test
    MODEL_CACHE.clear()
    yield MODEL_CACHE
    MODEL_CACHE.clear()


@pytest.mark.parametrize("name", sorted(KERAS_DETECTORS))
def test_a_fit_through_a_reused_model_equals_a_fresh_fit(name, cache):
    X = _data()
    with cache.disabled():
        fresh = _fit(name, 0, X)
        expected = _state(fresh, X)
        fresh_model = fresh.model_
        del fresh
        gc.collect()
    assert not _is_free(cache, fresh_model)
    first = _fit(name, 1, _data(1))  # builds the model (another seed, other data)
    model = first.model_
    del first
    gc.collect()
    assert _is_free(cache, model), cache.why_not_cached(*detectors.make(name, **KERAS_DETECTORS[name])._model_spec(3))
    hits = cache.hits
    again = _fit(name, 0, X)
    assert again.model_ is model and cache.hits == hits + 1  # the re-used model, re-initialised in place
    _assert_same(_state(again, X), expected)
    if name == "vqvae":
        assert again.n_resets_ == (expected_resets := again.n_resets_) and expected_resets >= 0


def test_two_live_detectors_never_share_a_model(cache):
    X = _data()
    a = _fit("dense_ae", 0, X)
    b = _fit("dense_ae", 0, X)
    assert a.model_ is not b.model_
    np.testing.assert_array_equal(a.score(X), b.score(X))  # same seed, same model values
    model_a = a.model_
    del a
    gc.collect()
    c = _fit("dense_ae", 2, X)
    assert c.model_ is model_a and c.model_ is not b.model_


def test_a_refit_gives_its_model_back_and_takes_one_again(cache):
    X = _data()
    det = _fit("dense_ae", 0, X)
    first = det.model_
    det.fit(X)
    assert det.model_ is first  # returned on refit and taken again
    assert not _is_free(cache, first)


def test_copied_or_pickled_detectors_keep_their_models_out_of_the_cache(cache):
    X = _data()
    det = _fit("dense_ae", 0, X)
    pickle.dumps(det.scaler_)
    det.__getstate__()  # what pickle and copy call
    model = det.model_
    del det
    gc.collect()
    assert not _is_free(cache, model)


def test_saved_and_loaded_detectors_own_their_models(tmp_path, cache):
    X = _data()
    det = _fit("conv_ae", 0, X)
    det.save(tmp_path / "det")
    loaded = detectors.load(tmp_path / "det")
    assert loaded.model_ is not det.model_
    np.testing.assert_array_equal(loaded.score(X), det.score(X))
    loaded_model = loaded.model_
    del loaded
    gc.collect()
    # neither the saved (pickled) nor the loaded model goes to the cache
    assert not _is_free(cache, det.model_) and not _is_free(cache, loaded_model)


def test_max_size_zero_turns_the_cache_off_and_bounds_are_kept(cache):
    X = _data()
    with cache.disabled():
        det = _fit("dense_ae", 0, X)
        model = det.model_
        del det
        gc.collect()
        assert not _is_free(cache, model)
    assert cache.max_size == 8
    small = KerasModelCache(max_size=1)
    assert len(small) == 0
    with pytest.raises(InvalidParameterError, match="max_size"):
        KerasModelCache(max_size=-1)
