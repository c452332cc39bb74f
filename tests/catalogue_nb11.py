"""Red-team catalogue of exercises 11 (issue 26 §4): named wrong answers, leaks and unconventional right answers.

Q1, Q2, Q3 and Q6 ask the learner to write a method Flower or sadlib.federated also has; an answer that calls the
library's version is rejected with "write it yourself". Q4 fits thresholds to data, so its leaks use the test
scores. Q5's Keras model is tiny (12 inputs), so its entries stay cheap.
"""

from __future__ import annotations

import numpy as np
from catalogue import Entry

from sadlib.course.exercises import nb11


# --------------------------------------------------------------------------- Q1 FedAvg
def _fedavg_flower(updates):
    from flwr.app import ArrayRecord, MetricRecord, RecordDict
    from flwr.serverapp.strategy.strategy_utils import aggregate_arrayrecords

    replies = [RecordDict({"arrays": ArrayRecord([np.asarray(w) for w in weights]),
                           "metrics": MetricRecord({"num-examples": int(n)})}) for weights, n in updates]
    return aggregate_arrayrecords(replies, "num-examples").to_numpy_ndarrays()


def _fedavg_unweighted(updates):
    return [np.mean([w[layer] for w, _ in updates], axis=0) for layer in range(len(updates[0][0]))]


def _fedavg_by_sites(updates):
    return [sum(w[layer] * n for w, n in updates) / len(updates) for layer in range(len(updates[0][0]))]


def _fedavg_np_average(updates):
    counts = np.array([float(n) for _, n in updates])
    return [np.average(np.stack([w[layer] for w, _ in updates]), axis=0, weights=counts)
            for layer in range(len(updates[0][0]))]


# --------------------------------------------------------------------------- Q2 8-bit quantisation
def _dequantize(codes, scale, offset):
    return offset + scale * codes.astype(np.float64)


def _quantize_library(delta, bits=8):
    from sadlib.federated import codecs

    codes, low, step = codecs._quantise(delta)
    return codes, step, low


def _quantize_truncated(delta, bits=8):
    if np.isnan(delta).any():
        raise ValueError("the update holds NaN")
    offset = float(delta.min())
    scale = (float(delta.max()) - offset) / (2**bits - 1) or 1.0
    return ((delta - offset) / scale).astype(np.uint8), scale, offset  # astype truncates


def _quantize_2_to_bits(delta, bits=8):
    if np.isnan(delta).any():
        raise ValueError("the update holds NaN")
    offset = float(delta.min())
    scale = (float(delta.max()) - offset) / 2**bits or 1.0
    return np.rint((delta - offset) / scale).astype(np.uint8), scale, offset


def _quantize_clip_round(delta, bits=8):
    if not np.isfinite(delta).all():
        raise ValueError("not finite")
    lo, hi = np.min(delta), np.max(delta)
    scale = np.float32((hi - lo) / (2**bits - 1)) if hi > lo else np.float32(0.0)
    if scale == 0:
        return np.zeros(delta.shape, np.uint8), scale, lo
    return np.clip(np.round((delta - lo) / scale), 0, 2**bits - 1).astype(np.uint8), scale, lo


# --------------------------------------------------------------------------- Q3 top-k
def _top_k_library(delta, fraction):
    from sadlib.federated import codecs

    codecs.encode_update([delta], [np.zeros_like(delta)], "topk")
    return np.argsort(-np.abs(delta.ravel()))[:max(1, round(fraction * delta.size))].astype(np.int32), delta.ravel()


def _top_k_signed(delta, fraction):
    flat = delta.ravel()
    idx = np.argsort(-flat)[:max(1, round(fraction * delta.size))].astype(np.int32)
    return idx, flat[idx]


def _top_k_magnitudes(delta, fraction):
    flat = delta.ravel()
    idx = np.argsort(-np.abs(flat))[:max(1, round(fraction * delta.size))].astype(np.int32)
    return idx, np.abs(flat[idx])


def _top_k_argpartition(delta, fraction):
    k = max(1, round(fraction * delta.size))
    flat = delta.ravel()
    idx = np.argpartition(np.abs(flat), flat.size - k)[flat.size - k:]
    return idx.astype(np.uint16), flat[idx]


# --------------------------------------------------------------------------- Q4 local thresholds
def _thresholds(rule):
    def site_thresholds(val_scores, test_scores, q):
        return {site: float(rule(val_scores, test_scores, q, site)) for site in val_scores}
    return site_thresholds


# --------------------------------------------------------------------------- Q5 FedProx loss
def _fedprox(half=0.5, constant=False):
    def fedprox_loss(model, global_weights, mu):
        import keras

        anchors = [keras.ops.convert_to_tensor(np.asarray(g, "float32")) for g in global_weights]

        def loss(y_true, y_pred):
            if constant:  # NumPy copies of the weights: a number without gradient
                prox = float(sum(np.sum((np.asarray(w) - np.asarray(a)) ** 2)
                                 for w, a in zip(model.get_weights(), anchors)))
            else:
                prox = sum(keras.ops.sum(keras.ops.square(w - a)) for w, a in zip(model.trainable_variables, anchors))
            return keras.ops.mean(keras.ops.square(y_true - y_pred)) + half * mu * prox
        return loss
    return fedprox_loss


def _fedprox_keras_mse(model, global_weights, mu):
    import keras

    mse = keras.losses.MeanSquaredError()

    def loss(y_true, y_pred):
        prox = sum(keras.ops.sum((w - g) ** 2) for w, g in zip(model.trainable_weights, global_weights))
        return mse(y_true, y_pred) + 0.5 * mu * prox
    return loss


# --------------------------------------------------------------------------- Q6 update clipping
def _clip_flower(update, clip):
    from flwr.supercore import differential_privacy

    out = [np.array(w, copy=True) for w in update]
    differential_privacy.clip_inputs_inplace(out, clip)
    return out


def _clip_values(update, clip):
    return [np.clip(w, -clip, clip) for w in update]


def _clip_per_layer(update, clip):
    return [w * min(1.0, clip / np.linalg.norm(w)) if np.linalg.norm(w) > 0 else w.copy() for w in update]


def _clip_always(update, clip):
    norm = np.sqrt(sum(np.sum(w ** 2) for w in update))
    return [w * (clip / norm) if norm > 0 else w.copy() for w in update]


def _clip_flat_vector(update, clip):
    flat = np.concatenate([np.ravel(w) for w in update])
    flat = flat / max(1.0, np.linalg.norm(flat) / clip)
    out, start = [], 0
    for w in update:
        out.append(flat[start:start + w.size].reshape(w.shape))
        start += w.size
    return out


ENTRIES = [
    # Q1 FedAvg
    Entry(nb11, 1, "wrong", "Flower's aggregation itself", lambda: {"fedavg": _fedavg_flower}, ("write it yourself",)),
    Entry(nb11, 1, "wrong", "plain mean", lambda: {"fedavg": _fedavg_unweighted}, ("plain mean",)),
    Entry(nb11, 1, "wrong", "divided by the number of sites", lambda: {"fedavg": _fedavg_by_sites},
          ("number of sites",)),
    Entry(nb11, 1, "right", "np.average with weights", lambda: {"fedavg": _fedavg_np_average}),
    # Q2 8-bit quantisation
    Entry(nb11, 2, "wrong", "sadlib's quantiser", lambda: {"quantize_update": _quantize_library,
                                                           "dequantize": _dequantize}, ("write it yourself",)),
    Entry(nb11, 2, "wrong", "truncated codes", lambda: {"quantize_update": _quantize_truncated,
                                                        "dequantize": _dequantize}, ("truncated",)),
    Entry(nb11, 2, "wrong", "2**bits steps", lambda: {"quantize_update": _quantize_2_to_bits,
                                                      "dequantize": _dequantize}, ("2**bits - 1",)),
    Entry(nb11, 2, "right", "np.round and np.clip", lambda: {"quantize_update": _quantize_clip_round,
                                                             "dequantize": lambda c, s, o: o + s * c}),
    # Q3 top-k
    Entry(nb11, 3, "wrong", "sadlib's encoder", lambda: {"top_k_sparsify": _top_k_library}, ("write it yourself",)),
    Entry(nb11, 3, "wrong", "largest signed values", lambda: {"top_k_sparsify": _top_k_signed}, ("*largest* values",)),
    Entry(nb11, 3, "wrong", "magnitudes sent", lambda: {"top_k_sparsify": _top_k_magnitudes}, ("sign is lost",)),
    Entry(nb11, 3, "right", "argpartition", lambda: {"top_k_sparsify": _top_k_argpartition}),
    # Q4 each site's own threshold (fitted to data: leaks from the test scores)
    Entry(nb11, 4, "leak", "percentile of the test scores",
          lambda: {"site_thresholds": _thresholds(lambda v, t, q, s: np.percentile(t[s], q))}, ("leakage",)),
    Entry(nb11, 4, "leak", "validation and test together",
          lambda: {"site_thresholds": _thresholds(lambda v, t, q, s: np.percentile(np.r_[v[s], t[s]], q))},
          ("leakage",)),
    Entry(nb11, 4, "wrong", "pooled over the sites", lambda: {"site_thresholds": _thresholds(
        lambda v, t, q, s: np.percentile(np.concatenate(list(v.values())), q))}, ("not local",)),
    Entry(nb11, 4, "right", "nearest-rank quantile",
          lambda: {"site_thresholds": _thresholds(lambda v, t, q, s: np.quantile(v[s], q / 100, method="higher"))}),
    # Q5 the FedProx loss
    Entry(nb11, 5, "wrong", "no 1/2", lambda: {"fedprox_loss": _fedprox(half=1.0)}, ("twice FedProx's",)),
    Entry(nb11, 5, "wrong", "proximal term without gradient", lambda: {"fedprox_loss": _fedprox(constant=True)},
          ("no gradient",)),
    Entry(nb11, 5, "right", "Keras MSE and trainable_weights", lambda: {"fedprox_loss": _fedprox_keras_mse}),
    # Q6 update clipping
    Entry(nb11, 6, "wrong", "Flower's clipping itself", lambda: {"clip_update": _clip_flower}, ("write it yourself",)),
    Entry(nb11, 6, "wrong", "every value clipped", lambda: {"clip_update": _clip_values}, ("np.clip",)),
    Entry(nb11, 6, "wrong", "each layer on its own", lambda: {"clip_update": _clip_per_layer}, ("each layer",)),
    Entry(nb11, 6, "wrong", "scaled up to the clip", lambda: {"clip_update": _clip_always}, ("scaled *up*",)),
    Entry(nb11, 6, "right", "one flat vector", lambda: {"clip_update": _clip_flat_vector}),
]


# --------------------------------------------------------------------------- review of notebook 11 (hostile learner)
def _fedavg_integer_division(updates):
    total = sum(n for _, n in updates)
    return [sum(w[layer] * (n // total) for w, n in updates) for layer in range(len(updates[0][0]))]


def _fedavg_sqrt_weights(updates):
    total = sum(np.sqrt(n) for _, n in updates)
    return [sum(w[layer] * (np.sqrt(n) / total) for w, n in updates) for layer in range(len(updates[0][0]))]


def _fedavg_np_average_tuple(updates):
    counts = [n for _, n in updates]
    return tuple(np.average(np.stack([w[layer] for w, _ in updates]), axis=0, weights=counts).astype(np.float32)
                 for layer in range(len(updates[0][0])))


def _top_k_truncated(delta, fraction):
    k = max(1, int(fraction * delta.size))  # rounds down
    flat = delta.ravel()
    indices = np.argsort(np.abs(flat))[-k:].astype(np.int32)
    return indices, flat[indices]


def _top_k_float16(delta, fraction):
    k = max(1, round(fraction * delta.size))
    flat = delta.ravel()
    indices = np.argsort(np.abs(flat))[-k:].astype(np.int32)
    return indices, flat[indices].astype(np.float16)


def _top_k_python_sort(delta, fraction):
    flat = delta.ravel().tolist()
    k = max(1, round(fraction * len(flat)))
    order = sorted(range(len(flat)), key=lambda j: -abs(flat[j]))[:k]
    return np.array(order, dtype=np.uint16), np.array([flat[j] for j in order], dtype=np.float32)


def _clip_squared_norm(update, clip):
    squared = sum(np.sum(w ** 2) for w in update)  # the square root is missing
    factor = min(1.0, clip / squared) if squared > 0 else 1.0
    return [w * factor for w in update]


def _clip_float32(update, clip):
    norm = np.float32(np.sqrt(sum(np.sum(np.square(w, dtype=np.float32)) for w in update)))
    factor = np.float32(min(1.0, clip / norm)) if norm > 0 else np.float32(1.0)
    return [(w * factor).astype(np.float32) for w in update]


ENTRIES += [
    Entry(nb11, 1, "wrong", "integer division", lambda: {"fedavg": _fedavg_integer_division}, ("integer division",)),
    Entry(nb11, 1, "wrong", "square-root weights", lambda: {"fedavg": _fedavg_sqrt_weights}, ("sum of n_k",)),
    Entry(nb11, 1, "right", "np.average in float32, as a tuple", lambda: {"fedavg": _fedavg_np_average_tuple}),
    Entry(nb11, 3, "wrong", "k rounded down with int()", lambda: {"top_k_sparsify": _top_k_truncated},
          ("rounds down",)),
    Entry(nb11, 3, "wrong", "values rounded to float16", lambda: {"top_k_sparsify": _top_k_float16}, ("float16",)),
    Entry(nb11, 3, "right", "a Python sort, uint16 positions", lambda: {"top_k_sparsify": _top_k_python_sort}),
    Entry(nb11, 4, "right", "pandas quantile of float32 scores", lambda: {"site_thresholds": _thresholds(
        lambda v, t, q, s: __import__("pandas").Series(np.asarray(v[s], np.float32)).quantile(q / 100))}),
    Entry(nb11, 6, "wrong", "divided by the squared norm", lambda: {"clip_update": _clip_squared_norm},
          ("norm**2",)),
    Entry(nb11, 6, "right", "float32 throughout", lambda: {"clip_update": _clip_float32}),
]
