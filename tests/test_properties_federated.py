"""Property-based tests (Hypothesis) of sadlib.federated.codecs: what a site sends and the server decodes.

For generated models (1-3 variables of random shapes) and updates:

* plain weights come back exactly; q8 within half a quantisation step (plus float32 rounding);
* top-k sends exactly ``max(1, round(topk * size))`` values per variable, and they are the largest magnitudes;
* what the server decodes plus what the site keeps (the residual) is the whole update;
* decoded weights have the global model's shapes and are float32;
* an update whose length, layout tag, ranges or key is wrong raises ``MalformedUpdate``.

The examples are derandomized (the ``sadlib`` profile of tests/conftest.py): the seed is derived from each
test's name, so a failure reproduces everywhere.
"""

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sadlib.federated import MalformedUpdate, decode_update, encode_update

EPS32 = float(np.finfo(np.float32).eps)
shapes = st.lists(st.sampled_from([(1,), (3,), (7,), (2, 3), (5, 4), (16,), (3, 1, 2)]), min_size=1, max_size=3)
values = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@st.composite
def model_and_update(draw, scale=st.sampled_from([1e-4, 1e-2, 1.0, 10.0])):
    """(global weights, new weights) of one generated model."""
    layout = draw(shapes)
    old = [draw(arrays(np.float32, s, elements=values)) for s in layout]
    s = draw(scale)
    delta = [draw(arrays(np.float32, sh, elements=st.floats(-1, 1, width=32))) * np.float32(s) for sh in layout]
    return old, [o + d for o, d in zip(old, delta)]


@given(model_and_update())
def test_plain_round_trip_is_exact(pair):
    old, new = pair
    record, residual = encode_update(new, old, None)
    decoded = decode_update(record, old, None)
    for w, d, r in zip(new, decoded, residual):
        assert d.dtype == np.float32 and d.shape == w.shape
        np.testing.assert_array_equal(d, w)
        assert not r.any()


@given(model_and_update())
def test_q8_round_trip_is_within_half_a_step(pair):
    old, new = pair
    record, residual = encode_update(new, old, "q8")
    decoded = decode_update(record, old, "q8")
    for w, g, d, r in zip(new, old, decoded, residual):
        assert d.dtype == np.float32 and d.shape == g.shape
        delta = (w - g).astype(np.float64)
        low, high = float(delta.min()), float(delta.max())
        step = float(np.float32((high - low) / 255))
        # half a step, and float32 rounding of low, step * code and the sum global + delta
        slack = 4 * EPS32 * (np.abs(g) + np.abs(w) + abs(low) + abs(high)) + 1e-30
        assert (np.abs(d.astype(np.float64) - w) <= step / 2 * (1 + 1e-5) + slack).all()
        # the site keeps what the server did not get
        np.testing.assert_allclose(d.astype(np.float64) - g + r, delta, atol=float(slack.max()) + 1e-6 * step)


def _topk_mask(record, sizes):
    """The top-k bit mask of an update, read from its buffer (layout in the codecs' module docstring)."""
    buffer = record["topk"].numpy()
    head = 8 * len(sizes) + 4
    n_mask = (sum(sizes) + 7) // 8
    return np.unpackbits(buffer[head:head + n_mask])[: sum(sizes)].astype(bool)


@given(model_and_update(), st.sampled_from([0.01, 0.1, 0.25, 0.5, 1.0]))
def test_topk_sends_the_k_largest_magnitudes(pair, topk):
    old, new = pair
    record, residual = encode_update(new, old, "topk", topk=topk)
    sizes = [w.size for w in new]
    mask = _topk_mask(record, sizes)
    decoded = decode_update(record, old, "topk")
    start = 0
    for w, g, d, size in zip(new, old, decoded, sizes):
        assert d.dtype == np.float32 and d.shape == g.shape
        m = mask[start:start + size]
        start += size
        assert m.sum() == max(1, int(round(topk * size)))
        magnitude = np.abs((w - g).astype(np.float64)).ravel()
        if (~m).any():
            assert magnitude[m].min() >= magnitude[~m].max()
        # values not sent stay exactly as they were at the server
        np.testing.assert_array_equal(d.ravel()[~m], g.ravel()[~m])


@given(model_and_update(), st.sampled_from(["q8", "topk"]), st.integers(-9, 9).filter(bool))
def test_a_longer_or_shorter_update_is_malformed(pair, compress, change):
    old, new = pair
    record, _ = encode_update(new, old, compress)
    buffer = record[compress].numpy()
    changed = buffer[:change] if change < 0 else np.concatenate([buffer, np.zeros(change, np.uint8)])
    with pytest.raises(MalformedUpdate, match="node 5"):
        decode_update(ArrayRecord({compress: Array(changed)}), old, compress, node=5)


@given(model_and_update(), st.sampled_from(["q8", "topk"]), st.sampled_from(["tag", "nan range", "key", "dtype"]))
def test_a_corrupted_update_is_malformed(pair, compress, damage):
    old, new = pair
    record, _ = encode_update(new, old, compress)
    buffer = record[compress].numpy().copy()
    key = compress
    head = 8 * len(old)
    if damage == "tag":
        buffer[head:head + 4] ^= np.uint8(0xFF)
    elif damage == "nan range":
        buffer[4:8] = np.frombuffer(np.float32(np.nan).tobytes(), np.uint8)  # the first step
    elif damage == "key":
        key = "q8" if compress == "topk" else "topk"
    else:
        buffer = buffer.astype(np.int16)
    with pytest.raises(MalformedUpdate, match="node 5"):
        decode_update(ArrayRecord({key: Array(buffer)}), old, compress, node=5)


@given(model_and_update(), st.sampled_from([None, "q8", "topk"]))
def test_decoding_against_another_layout_is_malformed(pair, compress):
    old, new = pair
    record, _ = encode_update(new, old, compress)
    other = [*old, np.zeros(3, np.float32)]  # one variable more
    with pytest.raises(MalformedUpdate, match="node 5"):
        decode_update(record, other, compress, node=5)
    if len(old) > 1 and old[0].shape != old[1].shape:
        with pytest.raises(MalformedUpdate, match="node 5"):
            decode_update(record, [old[1], old[0], *old[2:]], compress, node=5)
