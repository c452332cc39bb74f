"""Exercises for notebook 11, federated anomaly detection across compressor sites with Flower.

Every question asks for a *function*, the piece of federated training the notebook runs through
:mod:`sadlib.federated`; the checker calls it on many inputs, compares the result with an independent
NumPy computation and names the typical mistake when they differ:

* Q1 ``fedavg(updates)``: the server's weighted average of the sites' weights, layer by layer
  (McMahan et al., "Communication-efficient learning of deep networks from decentralized data",
  AISTATS 2017);
* Q2 ``quantize_update(delta, bits)`` and ``dequantize(codes, scale, offset)``: linear 8-bit quantisation
  of a weight update, 4x fewer bytes on the uplink (the communication-efficient federated anomaly detection
  of Liu et al., IEEE IoT Journal 2021);
* Q3 ``top_k_sparsify(delta, fraction)``: send only the update values of largest magnitude, with their
  positions (Aji & Heafield, EMNLP 2017), and count the bytes;
* Q4 ``site_thresholds(val_scores, test_scores, q)``: every site calibrates its alarm threshold on its own
  validation scores only (checked by calling it again with another site's or the test data changed);
* Q5 ``fedprox_loss(model, global_weights, mu)``: the FedProx loss, the reconstruction error plus
  ``mu / 2 * ||w - w_global||^2`` (Li et al., "Federated optimization in heterogeneous networks", MLSys 2020),
  checked in value *and* gradient against NumPy on a small Keras autoencoder;
* Q6 ``clip_update(update, clip)``: the clipping step of central differential privacy, one site's whole update
  scaled to an L2 norm of at most ``clip`` (McMahan et al., "Learning differentially private recurrent language
  models", ICLR 2018), with Flower's own clipping functions unavailable.

Q1, Q2, Q3 and Q6 ask the learner to write a method Flower or ``sadlib.federated`` also has: the check runs the
answer with those functions made unavailable (:class:`~sadlib.course.exercises.checker.library_unavailable`).
"""

from __future__ import annotations

import copy
import importlib
import warnings

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Unwritten,
    call_answer,
    expect_true,
    fmt_distinct,
    is_blank,
    library_unavailable,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

#: the Colab install line installs sadlib[federated] (Flower and the deep-learning stack), as notebook 11 does
COLAB_EXTRA = "federated"

#: Q3: the share of update values whose bytes are checked, and the saving required at that share
Q3_BYTES_FRACTION = 0.1
Q3_MIN_SAVING = 4.0

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np

from sadlib.environment import import_tensorflow

import_tensorflow()  # TensorFlow's start-up messages stay out of the notebook
import keras
from keras import layers

rng = np.random.default_rng(11)

# Q1: three sites' weights after a round of local training (kernel and bias of two Dense layers) and their
# numbers of training windows: a site with a week of history, one with a day, one with half a day
shapes = [(12, 4), (4,), (4, 12), (12,)]
updates = [([rng.normal(0.0, 0.1, s).astype("float32") for s in shapes], n) for n in (10080, 1440, 720)]

# Q2, Q3: one site's update of one layer (its new weights minus the global weights of the round)
delta = rng.normal(0.0, 0.01, size=(60, 32)).astype("float32")

# Q4: the global model's anomaly scores at six sites, a normal validation day and a test week at 10 minutes;
# the sites' normal levels differ (non-IID) and their test weeks hold a few failures
val_scores, test_scores = {}, {}
for i, level in enumerate([0.5, 0.8, 1.0, 1.6, 2.5, 4.0]):
    val_scores[f"site {i}"] = level * rng.lognormal(0.0, 0.3, 144)
    test = level * rng.lognormal(0.0, 0.3, 1008)
    test[300 + 100 * i:330 + 100 * i] *= 4.0  # a failure
    test_scores[f"site {i}"] = test

# Q6: one site's update of a round (its new weights minus the global ones, layer by layer) and the clipping norm
site_update = [rng.normal(0.0, 0.3, s).astype("float32") for s in shapes]
clip = 1.0

# Q5: a small dense autoencoder (12 inputs), the global weights of the round, a batch of normal windows
model = keras.Sequential([keras.Input((12,)), layers.Dense(4, activation="relu"), layers.Dense(12)])
global_weights = [w + rng.normal(0.0, 0.1, w.shape).astype("float32") for w in model.get_weights()]
X = rng.normal(size=(256, 12)).astype("float32")
"""

#: answer cells that differ from ``name = ____``
ANSWER_CELLS = {
    1: "def fedavg(updates):\n"
       "    total = ____  # the number of examples of all sites together\n"
       "    averaged = []\n"
       "    for layer in range(len(updates[0][0])):\n"
       "        averaged.append(____)  # this layer's weights of every site, weighted by its num_examples\n"
       "    return ____\n"
       "\n"
       "\n"
       "global_new = fedavg(updates)",
    2: "def quantize_update(delta, bits=8):\n"
       "    # first: raise a ValueError if `delta` holds a NaN\n"
       "    offset = ____\n"
       "    scale = ____  # the step between two of the 2**bits levels; mind a constant update\n"
       "    codes = ____  # uint8, the nearest level of every value\n"
       "    return codes, scale, offset\n"
       "\n"
       "\n"
       "def dequantize(codes, scale, offset):\n"
       "    return ____\n"
       "\n"
       "\n"
       "codes, scale, offset = quantize_update(delta)",
    3: "def top_k_sparsify(delta, fraction):\n"
       "    k = max(1, round(fraction * delta.size))\n"
       "    flat = delta.ravel()\n"
       "    indices = ____  # positions in `flat` of the k values with the largest magnitude\n"
       "    values = ____\n"
       "    return indices, values\n"
       "\n"
       "\n"
       "indices, values = top_k_sparsify(delta, 0.1)",
    4: "def site_thresholds(val_scores, test_scores, q):\n"
       "    thresholds = {}\n"
       "    for site in val_scores:\n"
       "        thresholds[site] = ____\n"
       "    return ____\n"
       "\n"
       "\n"
       "print(site_thresholds(val_scores, test_scores, q=99))",
    5: "def fedprox_loss(model, global_weights, mu):\n"
       "    anchors = ____  # the global weights as constants, one per trainable variable\n"
       "\n"
       "    def loss(y_true, y_pred):\n"
       "        reconstruction = ____  # the mean squared error\n"
       "        proximal = ____  # mu / 2 * the squared distance of model.trainable_variables from the anchors\n"
       "        return reconstruction + proximal\n"
       "\n"
       "    return ____",
    6: "def clip_update(update, clip):\n"
       "    norm = ____  # the L2 norm of the whole update: all layers together\n"
       "    factor = ____  # 1 when the norm is within `clip`, else clip / norm\n"
       "    return ____  # a new list of arrays, every layer scaled by the same factor\n"
       "\n"
       "\n"
       "clipped = clip_update(site_update, clip)",
}


def _context() -> dict:
    return setup_namespace(SETUP)


# --------------------------------------------------------------------------- functions as answers
#: how this notebook's checks call the learner's functions: the arguments themselves, not copies, so that
#: the checks can see an answer that changes its inputs (warnings are silenced)
_CALL = dict(copy=False)


#: A private Flower module this checker makes unavailable (so a learner cannot call Flower's clipping for Q6);
#: the checker never calls it. tests/test_federated.py allows exactly this one, for blocking only.
BLOCKED_PRIVATE_FLWR = "flwr.supercore.differential_privacy"


def _library(method: str) -> list:
    """``(module, name)`` of what Flower and sadlib.federated offer for a method the learner writes."""
    from flwr.serverapp.strategy import strategy_utils

    from sadlib.federated import codecs

    clip = []
    try:  # Flower's own clipping lives in a private module: blocked when present, never used
        dp = importlib.import_module(BLOCKED_PRIVATE_FLWR)
        clip = [(dp, "compute_clip_model_update"), (dp, "clip_inputs_inplace")]
    except ImportError:
        pass
    return {"fedavg": [(strategy_utils, "aggregate_arrayrecords")],
            "quantize": [(codecs, "encode_update"), (codecs, "_quantise"), (codecs, "_dequantise")],
            "topk": [(codecs, "encode_update")],
            "clip": clip}[method]


def _own(fn, method: str, name: str, *args, **kwargs):
    """Call the learner's ``fn`` (as :func:`call_answer`) with the library's version of the method unavailable."""
    with library_unavailable(fn, _library(method)):
        return call_answer(fn, name, *args, **kwargs)
def _same_nested(a, b) -> bool:
    """Arrays (or nested lists/tuples/dicts of them) equal, NaN equal to NaN."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_nested(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same_nested(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b


def _untouched(before, after, name: str, what: str) -> None:
    if not _same_nested(before, after):
        raise Incorrect(f"`{name}` changed {what} in place (e.g. `w *= n`, `+=` on an input array, or an in-place "
                        "sort). The caller still needs them, and in a Flower run they are the messages of the round: "
                        "work on new arrays (`w * n`, `np.sort(a)`, `a.copy()`).")


def _arrays_of(out, what: str) -> list[np.ndarray]:
    if hasattr(out, "__next__"):
        out = list(out)
    if isinstance(out, np.ndarray) and out.ndim >= 1 and out.dtype != object:
        out = list(out)  # layers of equal shapes stacked: the first axis is the layer
    expect_true(isinstance(out, (list, tuple)), f"{what} should be a list of arrays, one per layer; it is a "
                                                f"{type(out).__name__}.")
    return [np.asarray(a, dtype=np.float64) for a in out]


# --------------------------------------------------------------------------- Q1 FedAvg
def _q1_cases() -> list[list[tuple[list[np.ndarray], int]]]:
    """Lists of ``(weights, num_examples)``: the setup's sites, unbalanced sites, one site, many layers."""
    rng = np.random.default_rng(111)
    shapes = [(12, 4), (4,), (4, 12), (12,)]
    # first, layers of one shape (a stacked mistake gives arrays there instead of an error), then the setup's
    cases = [[([rng.normal(i, 1.0, (3, 3)).astype(np.float32) for _ in range(2)], n)
              for i, n in enumerate((90, 10, 400))],
             [([rng.normal(0, 0.1, s).astype(np.float32) for s in shapes], n) for n in (10080, 1440, 720)]]
    for n_sites, layer_shapes in [(2, [(3, 2), (2,)]), (5, [(6, 3), (3,), (3, 3), (3,), (3, 6), (6,)]),
                                  (4, [(1,), (7, 5)]), (1, [(4, 4), (4,)]), (3, [(2, 2), (2,), (2, 2)])]:
        counts = rng.integers(1, 5000, n_sites)
        counts[0] = 50000 if n_sites > 2 else counts[0]  # one site far larger than the others
        cases.append([([rng.normal(i, 1.0, s).astype(np.float32) for s in layer_shapes], int(n))
                      for i, n in enumerate(counts)])
    cases.append([([np.full((2, 3), 1.0, np.float32), np.zeros(3, np.float32)], np.int64(30)),
                  ([np.full((2, 3), 4.0, np.float32), np.ones(3, np.float32)], np.int64(10))])
    return cases


def _fedavg_reference(updates, *, weigh: str = "examples", divide: str = "total") -> list[np.ndarray]:
    """``sum_k n_k w_k / sum_k n_k`` per layer in float64, or a typical mistake."""
    counts = np.array([float(n) for _, n in updates])
    factors = counts if weigh == "examples" else np.ones(len(updates))
    denominator = {"total": factors.sum(), "clients": len(updates), "none": 1.0}[divide]
    out = []
    for layer in range(len(updates[0][0])):
        stacked = np.stack([np.asarray(w[layer], dtype=np.float64) for w, _ in updates])
        out.append(np.tensordot(factors, stacked, axes=1) / denominator)
    return out


def _close_layers(got: list[np.ndarray], want: list[np.ndarray]) -> bool:
    return len(got) == len(want) and all(g.shape == w.shape and np.allclose(g, w, rtol=1e-5, atol=1e-6)
                                         for g, w in zip(got, want))


def _check_fedavg(fedavg):
    cases = _q1_cases()
    for updates in cases:
        given = copy.deepcopy(updates)
        layer_shapes = [np.shape(w) for w in updates[0][0]]
        try:
            out = _own(fedavg, "fedavg", "fedavg", given, **_CALL)
        except ValueError as err:
            if len(set(layer_shapes)) == 1:
                raise
            raise Incorrect(f"your function failed on a model whose layers have different shapes {layer_shapes} "
                            f"(ValueError: {err}). Stacking all the layers in one array needs equal shapes; average "
                            "one layer at a time over the sites.") from None
        _untouched(updates, given, "fedavg", "the sites' weight arrays")
        got = _arrays_of(out, "the result of `fedavg`")
        n_layers, n_sites = len(updates[0][0]), len(updates)
        if len(got) != n_layers:
            if len(got) == n_sites:
                raise Incorrect(f"with {n_sites} sites of {n_layers} layers each, your result has {len(got)} arrays, "
                                "one per *site*: that averages over each site's layers. FedAvg averages over the "
                                "sites, one layer at a time: result[layer] = sum over sites of n_k * w_k[layer] / "
                                "sum of n_k.")
            raise Incorrect(f"the model has {n_layers} layers (weight arrays), so `fedavg` should return {n_layers} "
                            f"arrays; yours returns {len(got)}.")
        want = _fedavg_reference(updates)
        for layer, (g, w) in enumerate(zip(got, want)):
            expect_true(g.shape == w.shape, f"layer {layer} should keep its shape {w.shape}; yours has {g.shape}.")
        if _close_layers(got, want):
            continue
        counts = [int(n) for _, n in updates]
        variants = {
            "unweighted": (_fedavg_reference(updates, weigh="none"),
                           f"that is the plain mean of the sites' weights: every site counts the same. FedAvg "
                           f"weights each site by its number of examples (here {counts}), so a site with little "
                           f"data (half a day of history) does not pull the model as hard as one with a week."),
            "by clients": (_fedavg_reference(updates, divide="clients"),
                           f"you divide the weighted sum by the number of sites ({n_sites}); divide by the total "
                           f"number of examples ({sum(counts)}), so that the weights n_k / total add up to 1."),
            "no division": (_fedavg_reference(updates, divide="none"),
                            "you return the weighted sum, not the weighted mean: divide by the total number of "
                            "examples."),
            "unweighted by total": (_fedavg_reference(updates, weigh="none", divide="none"),
                                    "you return the sum of the sites' weights; FedAvg is their weighted mean."),
        }
        for _, (value, message) in variants.items():
            if _close_layers(got, value):
                raise Incorrect(message)
        shares_floor = [n // sum(counts) for n in counts]  # what `n // total` gives: 0 unless one site holds all
        floored = [sum(np.asarray(w[layer], dtype=np.float64) * f for (w, _), f in zip(updates, shares_floor))
                   for layer in range(n_layers)]
        if _close_layers(got, floored):
            raise Incorrect(f"`n // total` is integer division: with {counts} examples every share rounds down to "
                            f"{shares_floor}, so the sites' weights vanish. Use true division, `n / total`.")
        layer = next(i for i, (g, w) in enumerate(zip(got, want)) if not np.allclose(g, w, rtol=1e-5, atol=1e-6))
        raise Incorrect(f"with {n_sites} sites ({counts} examples), layer {layer} differs from the weighted mean "
                        f"(largest difference {np.max(np.abs(got[layer] - want[layer])):.3g}). result[layer] = "
                        "sum over sites of n_k * w_k[layer] / sum of n_k.")
    return (f"your average equals the NumPy weighted mean on {len(cases)} federations (up to 50 000 examples at one "
            "site, one site alone, integer counts of NumPy type) and leaves the sites' arrays untouched. Flower's "
            "FedAvg strategy computes the same from the `num-examples` each ClientApp reports.")


q1 = FunctionQuestion(
    1,
    "Write `fedavg(updates)`, the server side of FedAvg. `updates` is a list with one entry per site, a pair "
    "`(weights, num_examples)`: `weights` is the site's list of weight arrays after local training (one per layer, "
    "as `model.get_weights()` gives) and `num_examples` the number of training examples it used. Return the new "
    "global weights, a list with one array per layer: the mean of that layer over the sites, each site weighted by "
    "its `num_examples`. Do not change the arrays you are given. The check compares with a NumPy computation on "
    "several federations.",
    ("fedavg",),
    _check_fedavg,
    ["`total = sum(n for _, n in updates)`; a site's share of the vote is `n / total`.",
     "Layer by layer: `sum(w[layer] * (n / total) for w, n in updates)`; `w * n` makes a new array, `w *= n` would "
     "change the site's array."],
    "def fedavg(updates):\n"
    "    total = sum(n for _, n in updates)\n"
    "    averaged = []\n"
    "    for layer in range(len(updates[0][0])):\n"
    "        averaged.append(sum(w[layer] * (n / total) for w, n in updates))\n"
    "    return averaged\n"
    "\n"
    "\n"
    "global_new = fedavg(updates)",
    setup=_context,
    method="FedAvg",
)


# --------------------------------------------------------------------------- Q2 8-bit quantisation
def _q2_cases() -> list[tuple[np.ndarray, int]]:
    """``(delta, bits)``: updates of several shapes and magnitudes, all negative, offset far from 0, 4 bits."""
    rng = np.random.default_rng(112)
    return [
        (rng.normal(0, 0.01, (60, 32)).astype(np.float32), 8),
        (rng.normal(0, 1e-4, 500).astype(np.float32), 8),
        (-rng.uniform(0.2, 0.3, (7, 3)).astype(np.float32), 8),  # all negative
        (rng.normal(5.0, 0.5, (4, 4, 2)).astype(np.float32), 8),  # far from 0
        (np.linspace(-1.0, 1.0, 300).astype(np.float32), 8),  # both ends of the range are values
        (rng.normal(0, 0.05, (30, 8)).astype(np.float32), 4),  # 16 levels
        (np.array([0.1, -0.2], dtype=np.float32), 2),
    ]


def _quantized(out, delta: np.ndarray, bits: int):
    expect_true(isinstance(out, tuple) and len(out) == 3,
                "`quantize_update` should return a tuple `(codes, scale, offset)`; it returned "
                f"{type(out).__name__}" + (f" of {len(out)} items." if isinstance(out, (tuple, list)) else "."))
    codes, scale, offset = out
    expect_true(isinstance(codes, np.ndarray), f"`codes` should be a NumPy array; it is a {type(codes).__name__}.")
    if codes.dtype != np.uint8:
        ratio = 4 / codes.dtype.itemsize
        what = f"{ratio:.2g}x fewer" if ratio > 1 else (
            "as many" if ratio == 1 else f"{1 / ratio:.2g}x *more*")
        raise Incorrect(f"`codes` are {codes.dtype}, {codes.dtype.itemsize} bytes per value: {what} bytes than the "
                        "float32 update, so nothing (or little) is saved on the uplink. 8-bit codes are "
                        "`np.uint8`, 1 byte per value (cast them after rounding: `.astype(np.uint8)`).")
    expect_true(codes.size == delta.size, f"there should be one code per update value ({delta.size}); there are "
                                          f"{codes.size}.")
    try:
        scale, offset = float(scale), float(offset)
    except (TypeError, ValueError):
        raise Incorrect("`scale` and `offset` should be numbers (one of each for the whole array); they are "
                        f"{type(scale).__name__} and {type(offset).__name__}.") from None
    expect_true(np.isfinite(scale) and np.isfinite(offset),
                f"`scale` = {scale} and `offset` = {offset} should be finite numbers.")
    levels = 2**bits - 1
    if int(codes.max()) > levels:
        raise Incorrect(f"with bits={bits} the codes should run from 0 to 2**bits - 1 = {levels}; yours go up to "
                        f"{int(codes.max())}. Use `2**bits - 1` steps, not a fixed 255.")
    return codes, scale, offset


def _check_q2_case(quantize_update, dequantize, delta: np.ndarray, bits: int) -> tuple[int, int]:
    given = delta.copy()
    out = _own(quantize_update, "quantize", "quantize_update", given, bits, **_CALL)
    _untouched(delta, given, "quantize_update", "`delta`")
    codes, scale, offset = _quantized(out, delta, bits)
    back = np.asarray(call_answer(dequantize, "dequantize", codes.copy(), scale, offset, **_CALL), dtype=np.float64)
    expect_true(back.shape == delta.shape, f"`dequantize` should give back an array of the update's shape "
                                           f"{delta.shape}; yours has shape {back.shape}.")
    lo, hi = float(delta.min()), float(delta.max())
    levels = 2**bits - 1
    step = (hi - lo) / levels
    where = f"for an update of shape {delta.shape} from {lo:.3g} to {hi:.3g} with bits={bits}"
    expect_true(np.all(np.isfinite(back)), f"{where}: the dequantized values hold NaN or inf.")
    if scale > step * (1 + 1e-4) + 1e-12:
        raise Incorrect(f"{where}: your scale {scale:.4g} is {scale / step:.3g}x the finest step that covers the "
                        f"range, (max - min) / (2**bits - 1) = {step:.4g}. Spread the 2**bits levels from the "
                        "minimum (`offset`) to the maximum, or the rounding error grows for nothing.")
    error = np.abs(back - delta.astype(np.float64))
    allowed = scale / 2 * (1 + 1e-3) + 1e-6 * max(abs(lo), abs(hi))
    if error.max() > allowed:
        signed = back - delta.astype(np.float64)
        if np.isclose(scale, (hi - lo) / 2**bits, rtol=1e-4):
            raise Incorrect(f"{where}: the largest value comes back {error.max():.3g} off. Your scale is "
                            f"(max - min) / 2**bits: the maximum then needs code 2**bits = {2**bits}, one more than "
                            f"the {bits} bits hold. There are 2**bits levels but 2**bits - 1 steps between them: "
                            "scale = (max - min) / (2**bits - 1).")
        if signed.max() <= 1e-6 * max(abs(lo), abs(hi), 1e-12) and error.max() <= scale * (1 + 1e-3) + 1e-9:
            raise Incorrect(f"{where}: every value comes back at or below itself, up to a whole step ({scale:.3g}) "
                            "off: the codes are truncated (`astype(np.uint8)` or `np.floor` alone). Round to the "
                            "nearest level first: `np.rint((delta - offset) / scale)`.")
        raise Incorrect(f"{where}: after quantize and dequantize a value is {error.max():.3g} off, more than half "
                        f"a step (scale / 2 = {scale / 2:.3g}). codes = round((delta - offset) / scale) with offset "
                        "= the minimum, and dequantize = offset + scale * codes.")
    return codes.nbytes, delta.astype(np.float32).nbytes


def _check_q2(quantize_update, dequantize):
    sizes = []
    for delta, bits in _q2_cases():
        sizes.append(_check_q2_case(quantize_update, dequantize, delta, bits))
    for value in (0.0, 0.25, -3.0):  # a layer that did not change (all zeros), or moved as a block
        delta = np.full((5, 4), value, dtype=np.float32)
        where = f"for a constant update (every value {value})"
        try:
            with warnings.catch_warnings(record=True) as caught, np.errstate(divide="warn", invalid="warn"):
                warnings.simplefilter("always")
                out = quantize_update(delta.copy(), 8)
            if is_blank(out):
                raise Unwritten("write the body of `quantize_update` (it still returns ____)")
            codes, scale, offset = _quantized(out, delta, 8)
            back = np.asarray(call_answer(dequantize, "dequantize", codes.copy(), scale, offset, **_CALL),
                              dtype=np.float64)
        except Incorrect as err:
            raise Incorrect(f"{where}: {err} max - min is 0 there: send scale 0 (or 1) and codes 0, not the "
                            "result of a division by 0.") from None
        except ZeroDivisionError:
            raise Incorrect(f"{where}: max - min is 0 and your code divides by it (ZeroDivisionError). A layer "
                            "whose update is constant is common (e.g. all zeros): use scale 1 (or 0) and codes 0 "
                            "then.") from None
        zero_by_zero = [w for w in caught if issubclass(w.category, RuntimeWarning)
                        and ("invalid value" in str(w.message) or "divide" in str(w.message))]
        if zero_by_zero:
            raise Incorrect(f"{where}: max - min is 0, and your code divides by it (NumPy warned: "
                            f"{zero_by_zero[0].message}). 0 / 0 is NaN, and NaN cast to uint8 is not defined (NumPy "
                            "gives whatever the machine does). Handle the case: scale 1 (or 0) and codes 0.")
        expect_true(back.shape == delta.shape and np.all(np.isfinite(back)) and np.allclose(back, value, atol=1e-7),
                    f"{where}: dequantize should give the constant back exactly; yours gives values such as "
                    f"{back.ravel()[:3].tolist()}. max - min is 0 there, so (delta - offset) / scale divides 0 by 0 "
                    "(NaN): handle that case (scale 1, codes 0).")
    bad = np.random.default_rng(1).normal(0, 0.01, 100).astype(np.float32)
    bad[17] = np.nan
    try:
        call_answer(quantize_update, "quantize_update", bad, 8, **_CALL)
    except ValueError:
        pass
    except Exception as err:  # noqa: BLE001 - any other error is named
        raise Incorrect(f"an update holding NaN raised {type(err).__name__}: {err}. Check for it first and raise "
                        "`ValueError` with a message that says the update is not finite.") from None
    else:
        raise Incorrect("an update holding NaN was quantized without an error. min and max are then NaN, every "
                        "code is garbage, and the server would average it into everyone's model: raise a "
                        "`ValueError` (e.g. `if np.isnan(delta).any(): raise ValueError(...)`).")
    codes_bytes, float_bytes = sizes[0]
    return (f"every value comes back within half a step, constant updates come back exactly and a NaN is refused. "
            f"A 60 x 32 layer's update is {float_bytes} bytes as float32 and {codes_bytes} + 8 bytes (codes, scale "
            f"and offset as float32) as 8-bit codes: {float_bytes / (codes_bytes + 8):.2f}x fewer. "
            "sadlib.federated.encode_update(..., compress='q8') sends this per layer in a Flower ArrayRecord.")


q2 = FunctionQuestion(
    2,
    "Write `quantize_update(delta, bits=8)` and `dequantize(codes, scale, offset)`: linear quantisation of a weight "
    "update `delta` (a float32 array). Map the values onto `2**bits` equally spaced levels from `offset = "
    "delta.min()` to `delta.max()`: `scale` is the step between two levels, `codes` (np.uint8, delta's shape) the "
    "number of the *nearest* level of every value, and `dequantize` returns `offset + scale * codes`. An update "
    "that holds NaN must raise a `ValueError`; a constant update (max = min) must come back exactly. The check "
    "wants every value back within `scale / 2`, uint8 codes (4x fewer bytes than float32) and no change to `delta`.",
    ("quantize_update", "dequantize"),
    _check_q2,
    ["2**bits levels have 2**bits - 1 steps between them: `scale = (delta.max() - delta.min()) / (2**bits - 1)`.",
     "`codes = np.rint((delta - offset) / scale).astype(np.uint8)`: round first, then cast (a cast alone cuts off "
     "the fraction).",
     "Before anything else: `if not np.all(np.isfinite(delta)): raise ValueError(...)`; and `if scale == 0: scale = "
     "1.0` for a constant update."],
    "import numpy as np\n"
    "\n"
    "\n"
    "def quantize_update(delta, bits=8):\n"
    "    if not np.all(np.isfinite(delta)):\n"
    "        raise ValueError(\"the update holds NaN or inf; it cannot be quantized (and must not be sent)\")\n"
    "    offset = float(delta.min())\n"
    "    scale = (float(delta.max()) - offset) / (2**bits - 1)\n"
    "    if scale == 0:  # a constant update: every value is the offset\n"
    "        scale = 1.0\n"
    "    codes = np.rint((delta - offset) / scale).astype(np.uint8)\n"
    "    return codes, scale, offset\n"
    "\n"
    "\n"
    "def dequantize(codes, scale, offset):\n"
    "    return offset + scale * codes.astype(np.float32)\n"
    "\n"
    "\n"
    "codes, scale, offset = quantize_update(delta)\n"
    "error = np.abs(dequantize(codes, scale, offset) - delta).max()\n"
    "print(f\"{delta.nbytes} bytes as float32, {codes.nbytes} bytes as codes; \"\n"
    "      f\"largest error {error:.2g} (scale / 2 = {scale / 2:.2g})\")",
    setup=_context,
    method="8-bit quantisation of an update",
)


# --------------------------------------------------------------------------- Q3 top-k sparsification
def _q3_cases() -> list[tuple[np.ndarray, float]]:
    """``(delta, fraction)``: fractions whose ``fraction * size`` is not near .5 (no rounding ambiguity)."""
    rng = np.random.default_rng(113)
    big = rng.normal(0, 0.01, (60, 32)).astype(np.float32)
    skewed = rng.normal(0, 0.01, 400).astype(np.float32)
    skewed[::7] -= 0.05  # the largest magnitudes are negative
    return [
        (big, Q3_BYTES_FRACTION),
        (skewed, 0.1),
        (rng.normal(0, 1.0, (10, 10)).astype(np.float32), 0.25),
        (rng.normal(0, 1.0, 30).astype(np.float32), 0.01),  # k = 1
        (rng.normal(0, 1.0, (3, 4)).astype(np.float32), 1.0),  # everything
        (np.abs(rng.normal(0, 1.0, 50)).astype(np.float32) - 2.0, 0.2),  # all negative
        (rng.normal(0, 1.0, 37).astype(np.float32), 0.1),  # 3.7 values: round gives 4, int() gives 3
    ]


def _indices_of(out, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    expect_true(isinstance(out, (tuple, list)) and len(out) == 2,
                "`top_k_sparsify` should return a pair `(indices, values)`; it returned "
                f"{type(out).__name__}" + (f" of {len(out)} items." if isinstance(out, (tuple, list)) else "."))
    indices, values = out
    if isinstance(indices, tuple):
        raise Incorrect("`indices` is a tuple of arrays (one per dimension, as np.nonzero gives); return flat "
                        "positions into `delta.ravel()`, one integer per value kept.")
    indices, values = np.asarray(indices), np.asarray(values)
    if indices.dtype == bool:
        raise Incorrect("`indices` is a boolean mask over the whole update: that is as long as the update itself. "
                        "Send the positions of the values kept (integers), e.g. `np.flatnonzero(mask)`.")
    expect_true(indices.ndim == 1 and indices.dtype.kind in "iu",
                f"`indices` should be a 1-D array of integer positions into `delta.ravel()`; it has shape "
                f"{indices.shape} and dtype {indices.dtype}.")
    expect_true(values.shape == indices.shape, f"`values` should hold one value per index ({indices.size}); it has "
                                               f"shape {values.shape}.")
    expect_true(indices.size == 0 or (indices.min() >= 0 and indices.max() < delta.size),
                f"`indices` should be positions from 0 to delta.size - 1 = {delta.size - 1}; yours run from "
                f"{indices.min() if indices.size else '-'} to {indices.max() if indices.size else '-'}.")
    expect_true(np.unique(indices).size == indices.size, "`indices` holds a position twice; every value is sent "
                                                         "once.")
    return indices, values


def _check_q3_case(top_k_sparsify, delta: np.ndarray, fraction: float) -> tuple[int, int, int]:
    given = delta.copy()
    out = _own(top_k_sparsify, "topk", "top_k_sparsify", given, fraction, **_CALL)
    _untouched(delta, given, "top_k_sparsify", "`delta`")
    indices, values = _indices_of(out, delta)
    flat = delta.ravel()
    k = max(1, round(fraction * delta.size))
    where = f"for an update of {delta.size} values and fraction={fraction}"
    if indices.size != k and indices.size == max(1, int(fraction * delta.size)):
        raise Incorrect(f"{where} you keep {indices.size} values: `int(fraction * delta.size)` = "
                        f"int({fraction * delta.size:g}) rounds down. Keep k = max(1, round(fraction * delta.size)) = "
                        f"{k}.")
    if indices.size != k:
        raise Incorrect(f"{where} you keep {indices.size} values; keep k = max(1, round(fraction * delta.size)) = {k}.")
    order = np.argsort(-np.abs(flat.astype(np.float64)), kind="stable")
    want = np.sort(order[:k])
    got = np.sort(indices)
    if not np.array_equal(got, want):
        if np.array_equal(got, np.sort(np.argsort(-flat, kind="stable")[:k])):
            raise Incorrect(f"{where} you keep the k *largest* values, so large negative updates are dropped. A "
                            "change of -0.05 matters as much as +0.05: rank by magnitude, `np.abs(flat)`.")
        if np.array_equal(got, np.sort(np.argsort(np.abs(flat), kind="stable")[:k])):
            raise Incorrect(f"{where} you keep the k values of *smallest* magnitude (np.argsort sorts in ascending "
                            "order): take the last k of `np.argsort(np.abs(flat))`, or sort `-np.abs(flat)`.")
        if np.array_equal(got, np.sort(np.argsort(flat, kind="stable")[:k])):
            raise Incorrect(f"{where} you keep the k smallest (most negative) values; keep the k of largest "
                            "magnitude, `np.abs(flat)`.")
        missing = np.setdiff1d(want, got)
        raise Incorrect(f"{where} the positions kept should be those of the {k} largest |values| "
                        f"(np.argsort(-np.abs(delta.ravel()))[:{k}]); yours miss {missing.size} of them, e.g. position "
                        f"{int(missing[0])} (value {float(flat[missing[0]]):.3g}).")
    if not np.allclose(values.astype(np.float64), flat[indices].astype(np.float64), rtol=1e-6, atol=0):
        if np.allclose(values, np.abs(flat[indices]), rtol=1e-6):
            raise Incorrect(f"{where} your values are the magnitudes |delta|: the sign is lost, so a weight that "
                            "should go down goes up. Send `flat[indices]`, the signed values.")
        if np.allclose(np.sort(values), np.sort(flat[indices]), rtol=1e-6):
            raise Incorrect(f"{where} the values are the right ones but not in the order of `indices`: values[i] "
                            "must be the update at position indices[i] (`values = flat[indices]`).")
        if values.dtype.itemsize < 4 and np.allclose(values.astype(np.float64), flat[indices], rtol=1e-2):
            raise Incorrect(f"{where} your values are {values.dtype}: the right ones, rounded. Send them as they "
                            "are, `flat[indices]` (float32): this question sparsifies and does not round; rounding the "
                            "values is the 8-bit codec of Q2 (sadlib.federated's 'topk' combines the two).")
        raise Incorrect(f"{where} `values` should be the update's values at `indices` (`flat[indices]`).")
    return indices.nbytes, values.nbytes, k


def _check_q3(top_k_sparsify):
    sent = []
    for delta, fraction in _q3_cases():
        sent.append(_check_q3_case(top_k_sparsify, delta, fraction))
    delta = _q3_cases()[0][0]
    dense = delta.astype(np.float32).nbytes
    index_bytes, value_bytes, k = sent[0]
    saving = dense / (index_bytes + value_bytes)
    if saving < Q3_MIN_SAVING:
        per_value = (index_bytes + value_bytes) / k
        raise Incorrect(f"at fraction={Q3_BYTES_FRACTION} you send {k} values of a {delta.size}-value update in "
                        f"{index_bytes + value_bytes} bytes ({per_value:.0f} per value kept: {index_bytes // k} for "
                        f"the index, {value_bytes // k} for the value), only {saving:.1f}x fewer than the float32 "
                        f"update's {dense} bytes; the goal is {Q3_MIN_SAVING:g}x. np.argsort gives int64 "
                        "positions: a layer has far fewer than 2**31 values, so `indices.astype(np.int32)` (or "
                        "np.uint16 under 65 536) is enough, and the values stay float32.")
    return (f"your positions are those of np.argsort(-np.abs(delta)) on {len(sent)} updates. At fraction="
            f"{Q3_BYTES_FRACTION} a {delta.size}-value update costs {index_bytes + value_bytes} bytes instead of "
            f"{dense} ({saving:.1f}x fewer); the positions cost as much as the values, so top-k saves nothing above "
            "half of the values with 4-byte indices. sadlib.federated's 'topk' codec sends a 1-bit mask and 8-bit "
            "values instead, and keeps what it did not send for the next round (error feedback).")


q3 = FunctionQuestion(
    3,
    "Write `top_k_sparsify(delta, fraction)`: keep only the `k = max(1, round(fraction * delta.size))` values of "
    "the update `delta` with the largest magnitude. Return `(indices, values)`: `indices` the positions of those "
    "values in `delta.ravel()` (a 1-D integer array, any order) and `values` the signed values at those positions "
    "(`values[i]` belongs to `indices[i]`). The check compares with `np.argsort` and counts the bytes sent, "
    f"`indices.nbytes + values.nbytes`: at fraction={Q3_BYTES_FRACTION} they must be at least "
    f"{Q3_MIN_SAVING:g}x fewer than the float32 update's.",
    ("top_k_sparsify",),
    _check_q3,
    ["`order = np.argsort(np.abs(flat))` sorts from the smallest magnitude to the largest; the last k are the ones "
     "to keep.",
     "`indices = order[-k:]`, `values = flat[indices]` (signed). np.argsort returns int64: "
     "`indices.astype(np.int32)` halves the index bytes."],
    "import numpy as np\n"
    "\n"
    "\n"
    "def top_k_sparsify(delta, fraction):\n"
    "    k = max(1, round(fraction * delta.size))\n"
    "    flat = delta.ravel()\n"
    "    indices = np.argsort(np.abs(flat))[-k:].astype(np.int32)\n"
    "    values = flat[indices]\n"
    "    return indices, values\n"
    "\n"
    "\n"
    "indices, values = top_k_sparsify(delta, 0.1)\n"
    "print(f\"{delta.nbytes} bytes as float32, {indices.nbytes + values.nbytes} bytes as top-10 %\")",
    setup=_context,
    method="top-k sparsification",
)


# --------------------------------------------------------------------------- Q4 local thresholds
def _q4_scores(seed: int = 114) -> tuple[dict, dict]:
    """Validation and test scores of five sites with different normal levels (as the setup's)."""
    rng = np.random.default_rng(seed)
    val, test = {}, {}
    for i, level in enumerate([0.4, 1.0, 1.3, 2.2, 5.0]):
        val[f"plant {chr(65 + i)}"] = level * rng.lognormal(0.0, 0.3, 144)
        t = level * rng.lognormal(0.0, 0.3, 1008)
        t[200 + 50 * i:260 + 50 * i] *= 5.0
        test[f"plant {chr(65 + i)}"] = t
    return val, test


def _thresholds_of(out, sites) -> dict:
    if hasattr(out, "to_dict"):  # a pandas Series
        out = out.to_dict()
    expect_true(isinstance(out, dict), f"`site_thresholds` should return a dict {{site: threshold}}; it returned a "
                                       f"{type(out).__name__}.")
    expect_true(set(out) == set(sites), f"the thresholds should be keyed by the sites {sorted(sites)}; yours are "
                                        f"keyed by {sorted(map(str, out))[:6]}.")
    values = {}
    for site in sites:
        try:
            values[site] = float(out[site])
        except (TypeError, ValueError):
            raise Incorrect(f"the threshold of {site!r} should be one number; it is a {type(out[site]).__name__}.") \
                from None
        expect_true(np.isfinite(values[site]), f"the threshold of {site!r} is {values[site]}.")
    return values


def _moved(before: dict, after: dict) -> list:
    return [s for s in before if not np.isclose(before[s], after[s], rtol=1e-9, atol=0)]


def _check_site_thresholds(site_thresholds):
    val, test = _q4_scores()
    sites = list(val)
    q = 99
    given_val, given_test = copy.deepcopy(val), copy.deepcopy(test)
    first = _thresholds_of(call_answer(site_thresholds, "site_thresholds", given_val, given_test, q, **_CALL), sites)
    _untouched(val, given_val, "site_thresholds", "the validation scores")
    _untouched(test, given_test, "site_thresholds", "the test scores")
    # the test week changed: nothing may move
    changed = {s: 3.0 * t + 1.0 for s, t in test.items()}
    moved = _moved(first, _thresholds_of(
        call_answer(site_thresholds, "site_thresholds", copy.deepcopy(val), changed, q, **_CALL), sites))
    if moved:
        raise Incorrect(f"leakage: with the test scores changed (and the validation scores not), the threshold of "
                        f"{moved[0]!r} moved. A threshold is set before the test period, on normal validation scores "
                        "only; one that depends on the scores it then judges looks better than it will be in "
                        "service.")
    # one site's validation day changed: the other sites' thresholds may not move
    other = {s: (v * 20.0 if s == sites[0] else v.copy()) for s, v in val.items()}  # the quietest site, now loudest
    moved = [s for s in _moved(first, _thresholds_of(call_answer(site_thresholds, "site_thresholds", other,
                                                           copy.deepcopy(test), q, **_CALL), sites)) if s != sites[0]]
    if moved:
        raise Incorrect(f"not local: only {sites[0]!r}'s validation scores changed, yet the threshold of {moved[0]!r} "
                        "moved. Each site calibrates on its own validation scores: with one threshold pooled over "
                        "all sites, a site whose normal scores are high alarms all the time and one whose scores are "
                        "low misses its failures.")
    for q in (99, 95):
        got = first if q == 99 else _thresholds_of(call_answer(site_thresholds, "site_thresholds", copy.deepcopy(val),
                                                         copy.deepcopy(test), q, **_CALL), sites)
        for site in sites:
            own = val[site]
            lo, hi = np.percentile(own, q, method="lower"), np.percentile(own, q, method="higher")
            if lo * (1 - 1e-9) <= got[site] <= hi * (1 + 1e-9):
                continue
            if np.isclose(got[site], np.percentile(own, q / 100)):
                raise Incorrect(f"the threshold of {site!r} is np.percentile(scores, q / 100): q={q} is a percentile "
                                f"(0 to 100), as np.percentile takes it; np.quantile takes q / 100.")
            if np.isclose(got[site], own.max()):
                raise Incorrect(f"the threshold of {site!r} is the maximum of its validation scores; it should be "
                                f"their q-th percentile (q={q}).")
            raise Incorrect(f"with q={q} the threshold of {site!r} should be about {np.percentile(own, q):.4g}, the "
                            f"q-th percentile of its own validation scores; yours is {got[site]:.4g}.")
    pooled = np.percentile(np.concatenate(list(val.values())), 99)
    share = {s: float(np.mean(v > pooled)) for s, v in val.items()}
    loudest = max(share, key=share.get)
    return (f"every threshold is its site's own percentile and moves with nothing else. With one pooled 99th "
            f"percentile ({pooled:.3g}) {loudest!r} would be above it on {share[loudest]:.0%} of its normal validation "
            "samples, and the quietest sites would hardly ever alarm. sadlib.federated.evaluate_sites fits each "
            "site's AlarmPolicy on its own validation scores the same way.")


q4 = FunctionQuestion(
    4,
    "Write `site_thresholds(val_scores, test_scores, q)`: one global model, local alarms. `val_scores` and "
    "`test_scores` are dicts `{site: 1-D array}` of the global model's anomaly scores on each site's normal "
    "validation day and test week. Return a dict `{site: threshold}` where each site's threshold is the `q`-th "
    "percentile (0 to 100) of **its own** validation scores. The check calls your function again with the test "
    "scores changed, and with another site's validation scores changed: a site's threshold must not move.",
    ("site_thresholds",),
    _check_site_thresholds,
    ["Inside the loop: `np.percentile(val_scores[site], q)`.",
     "Nothing pooled (no np.concatenate over the sites) and nothing from `test_scores`: they are there because an "
     "evaluation loop has them at hand, not because a threshold may use them."],
    "import numpy as np\n"
    "\n"
    "\n"
    "def site_thresholds(val_scores, test_scores, q):\n"
    "    thresholds = {}\n"
    "    for site in val_scores:\n"
    "        thresholds[site] = float(np.percentile(val_scores[site], q))\n"
    "    return thresholds\n"
    "\n"
    "\n"
    "print(site_thresholds(val_scores, test_scores, q=99))",
    setup=_context,
)


# --------------------------------------------------------------------------- Q5 FedProx
def _q5_model(seed: int = 115):
    """A small dense autoencoder with fixed weights, global weights away from them, a batch, its own copy."""
    from sadlib.environment import import_keras

    keras = import_keras()
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(3), keras.layers.Dense(10)])
    model.set_weights([rng.normal(0.0, 0.4, w.shape).astype(np.float32) for w in model.get_weights()])
    global_weights = [w + rng.normal(0.0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()]
    x = rng.normal(size=(64, 10)).astype(np.float32)
    return model, global_weights, x


def _loss_and_gradients(loss, model, x):
    """The loss of the batch (its mean if per sample) and its gradients with respect to the trainable variables."""
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = loss(tf.constant(x), y_pred)
        if is_blank(value):
            raise Unwritten("write the body of the loss function that `fedprox_loss` returns (it still returns ____)")
        value = tf.reduce_mean(tf.cast(tf.convert_to_tensor(value), tf.float32))
    grads = tape.gradient(value, model.trainable_variables)
    return float(value), grads


def _mse_gradients(model, x):
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(tf.square(tf.constant(x) - model(x, training=True)))
    return [np.asarray(g, dtype=np.float64) for g in tape.gradient(value, model.trainable_variables)]


def _check_fedprox(fedprox_loss):
    model, global_weights, x = _q5_model()
    weights = [np.asarray(v, dtype=np.float64) for v in model.trainable_variables]
    anchors = [np.asarray(g, dtype=np.float64) for g in global_weights]
    pred = np.asarray(model(x), dtype=np.float64)
    mse = float(np.mean((x.astype(np.float64) - pred) ** 2))
    squares = [np.sum((w - g) ** 2) for w, g in zip(weights, anchors)]
    total = float(np.sum(squares))
    n_params = sum(w.size for w in weights)
    mse_grads = _mse_gradients(model, x)
    for mu in (0.1, 0.02):
        given = [g.copy() for g in global_weights]
        loss = call_answer(fedprox_loss, "fedprox_loss", model, given, mu, **_CALL)
        _untouched(global_weights, given, "fedprox_loss", "`global_weights`")
        expect_true(callable(loss), "`fedprox_loss` should return a loss function `loss(y_true, y_pred)` for "
                                    f"`model.compile(loss=...)`; it returned a {type(loss).__name__}.")
        try:
            value, grads = _loss_and_gradients(loss, model, x)
        except Exception as err:  # noqa: BLE001 - a shape mismatch is named, the rest reported as is
            if "shape" not in str(err).lower():
                raise
            raise Incorrect(f"computing your loss failed on shapes ({type(err).__name__}: {str(err)[-120:].strip()}). "
                            "Pair every trainable variable with the global array at the same position, "
                            "`zip(model.trainable_variables, global_weights)`: kernel with kernel, bias with bias.") \
                from None
        want = mse + mu / 2 * total
        if not np.isclose(value, want, rtol=1e-4):
            variants = {
                "the proximal term is missing (or does not use `mu`): the loss is the reconstruction error alone.":
                    mse,
                "the proximal term is mu * ||w - w_global||^2, twice FedProx's: the term is mu / 2 * the squared "
                "distance.": mse + mu * total,
                "the distance is not squared: FedProx adds mu / 2 * ||w - w_global||^2, the *sum of squares*, whose "
                "gradient mu * (w - w_global) pulls harder the further a site drifts.":
                    mse + mu / 2 * float(np.sqrt(total)),
                "the proximal term takes the *mean* of the squared differences; FedProx uses their sum over all "
                "weights.": mse + mu / 2 * total / n_params,
                "the proximal term takes the *mean* of the squared differences of each variable; FedProx uses their "
                "sum over all weights.": mse + mu / 2 * float(sum(s / w.size for s, w in zip(squares, weights))),
                "the proximal term covers only the kernels; the biases are trainable variables too, sum over all of "
                "`model.trainable_variables`.": mse + mu / 2 * float(sum(s for s, w in zip(squares, weights)
                                                                          if w.ndim > 1)),
                "the reconstruction error is missing: the loss is the proximal term alone, so the model would learn "
                "nothing from the site's data.": mu / 2 * total,
                "the reconstruction error is the *sum* of squared errors; use their mean (as loss=\"mse\" does).":
                    float(np.sum((x - pred) ** 2)) + mu / 2 * total,
            }
            for message, candidate in variants.items():
                if np.isclose(value, candidate, rtol=1e-4):
                    raise Incorrect(f"with mu={mu}: {message}")
            raise Incorrect(f"with mu={mu} on a small autoencoder, your loss is {value:.6g}; it should be the mean "
                            f"squared error {mse:.6g} + mu / 2 * ||w - w_global||^2 = {mu / 2 * total:.6g}, that is "
                            f"{want:.6g}.")
        if any(g is None for g in grads):
            missing = sum(g is None for g in grads)
            raise Incorrect(f"the loss has the right value but {missing} of the {len(grads)} trainable variables get "
                            "no gradient from it.")
        for i, (g, m, w, a) in enumerate(zip(grads, mse_grads, weights, anchors)):
            proximal = np.asarray(g, dtype=np.float64) - m
            if not np.allclose(proximal, mu * (w - a), rtol=1e-3, atol=1e-6):
                if np.allclose(proximal, 0.0, atol=1e-7):
                    raise Incorrect("the value is right, but the proximal term has no gradient: it is computed from "
                                    "NumPy copies (model.get_weights(), .numpy()) or once outside the loss, so to "
                                    "the optimizer it is a constant and FedProx changes nothing. Compute it inside "
                                    "`loss` from `model.trainable_variables` with keras.ops.")
                raise Incorrect(f"the value is right, but the gradient of the proximal term for variable {i} is not "
                                f"mu * (w - w_global); compute the term from `model.trainable_variables`.")
    return (f"on a small autoencoder your loss equals NumPy's mean squared error + mu / 2 * ||w - w_global||^2 "
            f"(||w - w_global||^2 = {total:.4g}) for two values of mu, and its gradient pulls every weight towards "
            "the global one by mu * (w - w_global). sadlib.federated adds the same term as a weight regulariser, and "
            "Flower's FedProx strategy sends `proximal-mu` to the sites.")


q5 = FunctionQuestion(
    5,
    "Write `fedprox_loss(model, global_weights, mu)` for a site's local training with FedProx: return a Keras loss "
    "function `loss(y_true, y_pred)` equal to the mean squared reconstruction error plus `mu / 2 * ||w - "
    "w_global||^2`, the squared distance of *all* the model's trainable variables (`model.trainable_variables`) "
    "from the global weights of the round (`global_weights`, NumPy arrays in the same order). The term must be a "
    "function of the variables, so that it has a gradient. The check computes the value and the gradient on a "
    "small autoencoder and compares them with NumPy. Then `model.compile(optimizer=\"adam\", "
    "loss=fedprox_loss(model, global_weights, mu))` trains with FedProx.",
    ("fedprox_loss",),
    _check_fedprox,
    ["`anchors = [keras.ops.convert_to_tensor(g) for g in global_weights]`; in `loss`: "
     "`keras.ops.mean(keras.ops.square(y_true - y_pred))`.",
     "`proximal = mu / 2 * sum(keras.ops.sum(keras.ops.square(w - a)) for w, a in zip(model.trainable_variables, "
     "anchors))`; no `.numpy()` and no `get_weights()` inside, or the term is a constant without gradient."],
    "import keras\n"
    "import numpy as np\n"
    "\n"
    "\n"
    "def fedprox_loss(model, global_weights, mu):\n"
    "    anchors = [keras.ops.convert_to_tensor(np.asarray(g, dtype=\"float32\")) for g in global_weights]\n"
    "\n"
    "    def loss(y_true, y_pred):\n"
    "        reconstruction = keras.ops.mean(keras.ops.square(y_true - y_pred))\n"
    "        proximal = sum(keras.ops.sum(keras.ops.square(w - a)) for w, a in zip(model.trainable_variables, "
    "anchors))\n"
    "        return reconstruction + mu / 2 * proximal\n"
    "\n"
    "    return loss\n"
    "\n"
    "\n"
    "def distance(model):\n"
    "    return float(sum(np.sum((w - g) ** 2) for w, g in zip(model.get_weights(), global_weights)))\n"
    "\n"
    "\n"
    "for mu in (0.0, 1.0):  # plain local training (FedAvg), then FedProx\n"
    "    model.set_weights(global_weights)  # a round starts from the global weights\n"
    "    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=fedprox_loss(model, global_weights, mu))\n"
    "    model.fit(X, X, epochs=5, batch_size=32, verbose=0)\n"
    "    print(f\"mu={mu}: after 5 local epochs ||w - w_global||^2 = {distance(model):.4f}\")",
    setup=_context,
)



# --------------------------------------------------------------------------- Q6 update clipping
def _global_norm(arrays) -> float:
    return float(np.sqrt(sum(np.sum(np.asarray(a, dtype=np.float64) ** 2) for a in arrays)))


def _q6_cases() -> list[tuple[list[np.ndarray], float]]:
    """Fresh updates: above the clip, below it, exactly at it, one layer dominating, a zero update, many layers."""
    rng = np.random.default_rng(116)
    shapes = [(12, 4), (4,), (4, 12), (12,)]
    cases = []
    for scale, clip in ((0.3, 1.0), (0.01, 1.0), (1.0, 0.5), (0.2, 3.0)):
        cases.append(([rng.normal(0.0, scale, s) for s in shapes], clip))
    big_bias = [rng.normal(0.0, 0.01, s) for s in shapes]
    big_bias[1] = rng.normal(0.0, 5.0, (4,))  # one layer carries almost all of the norm
    cases.append((big_bias, 1.0))
    at = [rng.normal(0.0, 0.2, s) for s in shapes]
    cases.append((at, _global_norm(at)))  # exactly at the clip: unchanged
    cases.append(([np.zeros(s) for s in shapes], 1.0))
    cases.append(([rng.normal(0.0, 0.1, (8, 8)) for _ in range(6)], 0.7))
    return cases


def _clip_reference(update, clip, *, per_layer=False, always=False):
    if per_layer:
        return [w * min(1.0, clip / max(_global_norm([w]), 1e-300)) for w in update]
    norm = _global_norm(update)
    factor = clip / norm if (always and norm > 0) else min(1.0, clip / norm) if norm > 0 else 1.0
    return [np.asarray(w, dtype=np.float64) * factor for w in update]


def _check_clip(clip_update):
    for update, clip in _q6_cases():
        given = [w.copy() for w in update]
        out = _own(clip_update, "clip", "clip_update", given, clip, **_CALL)
        _untouched(update, given, "clip_update", "the site's update")
        got = _arrays_of(out, "the result of `clip_update`")
        expect_true(len(got) == len(update), f"the update has {len(update)} layers, so `clip_update` should return "
                                             f"{len(update)} arrays; yours returns {len(got)}.")
        for layer, (g, w) in enumerate(zip(got, update)):
            expect_true(g.shape == w.shape, f"layer {layer} should keep its shape {w.shape}; yours has {g.shape}.")
        want = _clip_reference(update, clip)
        if all(np.allclose(g, w, rtol=1e-5, atol=1e-9) for g, w in zip(got, want)):
            continue
        norm = _global_norm(update)
        if all(np.allclose(g, np.clip(w, -clip, clip), rtol=1e-5, atol=1e-9) for g, w in zip(got, update)):
            raise Incorrect("you clipped every *value* to [-clip, clip] (`np.clip`). Differential privacy bounds the "
                            "L2 norm of the whole update: scale all layers by one factor, clip / norm, when the norm "
                            "is above clip, so the update keeps its direction.")
        if all(np.allclose(g, w, rtol=1e-5, atol=1e-9) for g, w in zip(got, _clip_reference(update, clip,
                                                                                         per_layer=True))):
            raise Incorrect("you clipped each layer to norm `clip` on its own, so the whole update can reach "
                            "sqrt(layers) x clip. The norm that DP bounds is that of all layers together: "
                            "norm = sqrt(sum over layers of sum(w ** 2)), and one factor for every layer.")
        if norm < clip and all(np.allclose(g, w, rtol=1e-5, atol=1e-9)
                               for g, w in zip(got, _clip_reference(update, clip, always=True))):
            raise Incorrect(f"an update of norm {norm:.4g}, already within clip={clip:g}, was scaled *up* to norm "
                            f"{clip:g}. Clipping only shrinks: factor = min(1, clip / norm).")
        squared = min(1.0, clip / norm ** 2) if norm > 0 else 1.0
        if norm > 0 and squared != min(1.0, clip / norm) and all(np.allclose(g, w * squared, rtol=1e-5, atol=1e-9)
                                                                for g, w in zip(got, update)):
            raise Incorrect(f"you scaled by clip / norm**2 (the sum of squares, {norm ** 2:.4g}, without its square "
                            f"root): the L2 norm is `np.sqrt(sum(np.sum(w ** 2) for w in update))` = {norm:.4g}.")
        got_norm = _global_norm(got)
        raise Incorrect(f"an update of norm {fmt_distinct(norm, got_norm)} with clip={clip:g} should come back with "
                        f"norm {fmt_distinct(_global_norm(want), got_norm)} (every layer times min(1, clip / norm)); "
                        f"yours has norm {fmt_distinct(got_norm, _global_norm(want))}.")
    return (f"your clipping equals min(1, clip / norm) times the update on {len(_q6_cases())} fresh updates (above, "
            "below and exactly at the clip, one layer carrying the norm, a zero update), without touching the site's "
            "arrays. After clipping, one site can move the equal-weight average of n sites by at most clip / n, and "
            "the server's Gaussian noise (std = noise multiplier x clip / n) is sized for that.")


q6 = FunctionQuestion(
    6,
    "Write `clip_update(update, clip)`, the clipping step of central differential privacy at a site. `update` is "
    "the site's update of the round, a list of arrays (one per layer: its new weights minus the global ones), and "
    "`clip` a positive number. Return a new list of arrays: the update scaled so that its L2 norm, over all layers "
    "together, is at most `clip` (every layer times min(1, clip / norm)); an update within the clip comes back "
    "unchanged. Do not change the arrays you are given. The check uses fresh updates, with Flower's own clipping "
    "functions unavailable: write it yourself.",
    ("clip_update",),
    _check_clip,
    ["`norm = np.sqrt(sum(np.sum(w ** 2) for w in update))`: one norm for the whole update.",
     "`factor = min(1.0, clip / norm) if norm > 0 else 1.0`; `return [w * factor for w in update]`."],
    "import numpy as np\n"
    "\n"
    "\n"
    "def clip_update(update, clip):\n"
    "    norm = np.sqrt(sum(np.sum(w ** 2) for w in update))\n"
    "    factor = min(1.0, clip / norm) if norm > 0 else 1.0\n"
    "    return [w * factor for w in update]\n"
    "\n"
    "\n"
    "clipped = clip_update(site_update, clip)\n"
    "print(np.sqrt(sum(np.sum(w ** 2) for w in site_update)), \"->\", np.sqrt(sum(np.sum(w ** 2) for w in clipped)))",
    setup=_context,
    method="update clipping",
)
