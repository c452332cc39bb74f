"""Red-team catalogue of exercises 07 (issue 26 §4): named wrong answers that must be rejected with a message that
names the mistake, and unconventional right answers that must pass. The Keras questions use tiny tensors only."""

from __future__ import annotations

import numpy as np
from catalogue import Entry

from sadlib.course.exercises import nb07


def _ns(code: str) -> dict:
    """Run a learner's cell in the exercise's setup namespace (``np``, ``ops``, ``tf`` defined)."""
    ns = nb07._context()
    exec(code, ns)
    return ns


# --------------------------------------------------------------------------- Q1: perplexity
def _ppl_nan(counts):
    p = np.asarray(counts, float) / np.sum(counts)
    return float(np.exp(-(p * np.log(p)).sum()))


def _ppl_entropy(counts):
    p = np.asarray(counts, float) / np.sum(counts)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _ppl_library(counts):
    from sadlib.detectors.vqvae import perplexity

    return perplexity(counts)


def _ppl_bits(counts):
    p = np.asarray(counts, float)
    p = p[p > 0] / p.sum()
    return float(2 ** -(p * np.log2(p)).sum())


def _ppl_scipy(counts):
    from scipy.stats import entropy

    return float(np.exp(entropy(counts)))


# --------------------------------------------------------------------------- Q2: nearest code
def _nearest_farthest(z, codebook):
    d = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    idx = d.argmax(1)
    return idx, codebook[idx]


def _nearest_no_c2(z, codebook):
    d = (z**2).sum(1, keepdims=True) - 2 * z @ codebook.T  # |c|² left out
    idx = d.argmin(1)
    return idx, codebook[idx]


def _nearest_library(z, codebook):
    from sadlib.detectors import vqvae

    idx, _ = vqvae.nearest_codes(z, codebook)
    return idx, codebook[idx]


def _nearest_one_hot(z, codebook):
    d = np.linalg.norm(z[:, None, :] - codebook[None], axis=-1)  # plain distances, a row-minimum one-hot
    one_hot = (d == d.min(axis=1, keepdims=True)).astype(float)
    return one_hot.argmax(1), one_hot @ codebook


def _nearest_loop(z, codebook):
    idx = np.array([min(range(len(codebook)), key=lambda k: float(np.sum((row - codebook[k]) ** 2))) for row in z])
    return idx, codebook[idx]


def _nearest_l1(z, codebook):
    idx = np.abs(z[:, None, :] - codebook[None]).sum(-1).argmin(1)  # L1, not the squared distance
    return idx, codebook[idx]


def _nearest_cdist_lists(z, codebook):
    from scipy.spatial.distance import cdist

    idx = cdist(z, codebook).argmin(1)
    return idx.tolist(), codebook[idx].tolist()


# --------------------------------------------------------------------------- Q3: dead codes
def _dead_rare(batch_codes, n_codes):
    counts = np.bincount(np.ravel(batch_codes), minlength=n_codes)
    return np.flatnonzero(counts < 0.01 * np.size(batch_codes))  # "rarely used" is not dead


def _dead_pandas(batch_codes, n_codes):
    import pandas as pd

    return pd.Index(range(n_codes)).difference(pd.Series(np.ravel(batch_codes)).unique()).to_numpy()


# --------------------------------------------------------------------------- Q4: VQ loss terms
_LOSSES = {
    "mean over the last axis": "def vq_losses(z, q, beta):\n"
                               "    return (ops.mean((ops.stop_gradient(z) - q) ** 2, axis=-1),\n"
                               "            beta * ops.mean((z - ops.stop_gradient(q)) ** 2, axis=-1))\n",
    "sum over size, in a list": "def vq_losses(z, q, beta):\n"
                                "    n = ops.cast(ops.size(z), z.dtype)\n"
                                "    return [ops.sum(ops.square(ops.stop_gradient(z) - q)) / n,\n"
                                "            beta * ops.sum(ops.square(z - ops.stop_gradient(q))) / n]\n",
    "no stop_gradient": "def vq_losses(z, q, beta):\n"
                        "    return ops.mean((z - q) ** 2), beta * ops.mean((z - q) ** 2)\n",
    "swapped stop_gradients": "def vq_losses(z, q, beta):\n"
                              "    return (ops.mean((z - ops.stop_gradient(q)) ** 2),\n"
                              "            beta * ops.mean((ops.stop_gradient(z) - q) ** 2))\n",
    "beta on the codebook loss": "def vq_losses(z, q, beta):\n"
                                 "    return (beta * ops.mean((ops.stop_gradient(z) - q) ** 2),\n"
                                 "            ops.mean((z - ops.stop_gradient(q)) ** 2))\n",
    "sum instead of mean": "def vq_losses(z, q, beta):\n"
                           "    return (ops.sum((ops.stop_gradient(z) - q) ** 2),\n"
                           "            beta * ops.sum((z - ops.stop_gradient(q)) ** 2))\n",
    "both stop_gradients": "def vq_losses(z, q, beta):\n"
                           "    d = (ops.stop_gradient(z) - ops.stop_gradient(q)) ** 2\n"
                           "    return ops.mean(d), beta * ops.mean(d)\n",
    "mean absolute error": "def vq_losses(z, q, beta):\n"
                           "    return (ops.mean(ops.abs(ops.stop_gradient(z) - q)),\n"
                           "            beta * ops.mean(ops.abs(z - ops.stop_gradient(q))))\n",
    "keras MeanSquaredError": "import keras\n\n\ndef vq_losses(z, q, beta):\n"
                              "    mse = keras.losses.MeanSquaredError()\n"
                              "    return mse(ops.stop_gradient(z), q), beta * mse(z, ops.stop_gradient(q))\n",
    "tf with squared difference": "def vq_losses(z, q, beta):\n"
                                  "    cb = tf.reduce_mean(tf.math.squared_difference(tf.stop_gradient(z), q))\n"
                                  "    cm = tf.reduce_mean(tf.math.squared_difference(z, tf.stop_gradient(q)))\n"
                                  "    return cb, beta * cm\n",
}


def _losses(name):
    return lambda: {"vq_losses": _ns(_LOSSES[name])["vq_losses"]}


# --------------------------------------------------------------------------- Q5: the quantizer in keras.ops
_D = "    d = ops.sum((ops.expand_dims(z, 1) - ops.expand_dims(codebook, 0)) ** 2, axis=-1)\n"
_QUANTIZERS = {
    "output and one-hot": _D + "    one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)\n"
                               "    q = ops.matmul(one_hot, codebook)\n"
                               "    return z + ops.stop_gradient(q - z), one_hot\n",
    # converts with TFLITE_BUILTINS only (checked 7 December 2026): top_k has no signbit test
    "top_k": _D + "    _, idx = ops.top_k(-d, k=1)\n"
                  "    return z + ops.stop_gradient(ops.take(codebook, idx[:, 0], axis=0) - z)\n",
    "ops.argmin": _D + "    q = ops.take(codebook, ops.argmin(d, axis=1), axis=0)\n"
                       "    return z + ops.stop_gradient(q - z)\n",
    "no straight-through": _D + "    one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)\n"
                                "    return ops.matmul(one_hot, codebook)\n",
    "gradient twice": _D + "    one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)\n"
                           "    q = ops.matmul(one_hot, codebook)\n"
                           "    return 2 * z + ops.stop_gradient(q - 2 * z)\n",
    "ops.argmax of the negated distances": _D + "    q = ops.take(codebook, ops.argmax(-d, axis=1), axis=0)\n"
                                                "    return z + ops.stop_gradient(q - z)\n",
    "tf.argmin": _D + "    q = tf.gather(codebook, tf.argmin(d, axis=1))\n"
                      "    return z + ops.stop_gradient(q - z)\n",
    "np.argmin on the tensor": _D + "    idx = np.argmin(np.asarray(d), axis=1)\n"
                                    "    q = ops.take(codebook, idx, axis=0)\n"
                                    "    return z + ops.stop_gradient(q - z)\n",
    "less_equal, float64": _D + "    one_hot = ops.cast(d <= ops.min(d, axis=1, keepdims=True), \"float64\")\n"
                                "    q = ops.cast(ops.matmul(one_hot, ops.cast(codebook, \"float64\")), z.dtype)\n"
                                "    return z + ops.stop_gradient(q - z)\n",
    "one-hot of the negated distances' maximum": _D + "    m = ops.max(-d, axis=1, keepdims=True)\n"
                                                      "    one_hot = ops.cast(-d >= m, z.dtype)\n"
                                                      "    q = ops.matmul(one_hot, codebook)\n"
                                                      "    return z + ops.stop_gradient(q - z)\n",
}


def _quantizer(name):
    return lambda: {"my_quantizer": _ns("def my_quantizer(z, codebook):\n" + _QUANTIZERS[name])["my_quantizer"]}


ENTRIES = [
    # Q1: perplexity of code usage, written by the learner
    Entry(nb07, 1, "wrong", "NaN from zero counts", lambda: {"perplexity": _ppl_nan}, ("NaN",)),
    Entry(nb07, 1, "wrong", "the entropy", lambda: {"perplexity": _ppl_entropy}, ("entropy",)),
    Entry(nb07, 1, "wrong", "the library's perplexity", lambda: {"perplexity": _ppl_library}, ("write it yourself",)),
    Entry(nb07, 1, "right", "two to the entropy in bits", lambda: {"perplexity": _ppl_bits}),
    Entry(nb07, 1, "right", "scipy entropy", lambda: {"perplexity": _ppl_scipy}),
    Entry(nb07, 1, "wrong", "inverse Simpson index", lambda: {"perplexity": lambda c: float(
        1 / np.sum((np.asarray(c) / np.sum(c)) ** 2))}, ("exp(-sum p log p)",)),
    Entry(nb07, 1, "wrong", "a typed-in number", lambda: {"perplexity": lambda c: 3.03}, ("exp(-sum p log p)",)),
    Entry(nb07, 1, "right", "float32 with nansum", lambda: {"perplexity": lambda c: np.float32(np.exp(-np.nansum(
        (np.asarray(c, np.float32) / np.sum(c)) * np.log(np.asarray(c, np.float32) / np.sum(c)))))}),
    # Q2: nearest-code assignment in NumPy
    Entry(nb07, 2, "wrong", "farthest code", lambda: {"nearest_code": _nearest_farthest}, ("farthest",)),
    Entry(nb07, 2, "wrong", "distance without the code norm", lambda: {"nearest_code": _nearest_no_c2}, ("|c_k|²",)),
    Entry(nb07, 2, "wrong", "the library's nearest_codes", lambda: {"nearest_code": _nearest_library},
          ("write it yourself",)),
    Entry(nb07, 2, "right", "row-minimum one-hot of plain distances", lambda: {"nearest_code": _nearest_one_hot}),
    Entry(nb07, 2, "right", "a Python loop", lambda: {"nearest_code": _nearest_loop}),
    Entry(nb07, 2, "wrong", "L1 distance", lambda: {"nearest_code": _nearest_l1}, ("squared distance",)),
    Entry(nb07, 2, "wrong", "largest dot product", lambda: {"nearest_code": lambda z, c: (
        (z @ c.T).argmax(1), c[(z @ c.T).argmax(1)])}, ("|c_k|²",)),
    Entry(nb07, 2, "right", "scipy cdist, returned as lists", lambda: {"nearest_code": _nearest_cdist_lists}),
    # Q3: dead codes from a usage record
    Entry(nb07, 3, "wrong", "the used codes", lambda: {"dead_codes": lambda b, k: np.unique(b)}, ("*are* used",)),
    Entry(nb07, 3, "wrong", "the number of dead codes", lambda: {"dead_codes": lambda b, k: int(
        np.sum(np.bincount(np.ravel(b), minlength=k) == 0))}, ("how many",)),
    Entry(nb07, 3, "wrong", "the last batch only", lambda: {"dead_codes": lambda b, k: np.setdiff1d(
        np.arange(k), np.unique(b[-1]))}, ("last batch",)),
    Entry(nb07, 3, "wrong", "counted up to the largest code used", lambda: {"dead_codes": lambda b, k: np.flatnonzero(
        np.bincount(np.ravel(b)) == 0)}, ("n_codes",)),
    Entry(nb07, 3, "right", "a Python set", lambda: {"dead_codes": lambda b, k: set(range(k)) - set(
        np.ravel(b).tolist())}),
    Entry(nb07, 3, "wrong", "rarely used codes counted as dead", lambda: {"dead_codes": _dead_rare}, ("rarely",)),
    Entry(nb07, 3, "wrong", "the first batch only", lambda: {"dead_codes": lambda b, k: np.setdiff1d(
        np.arange(k), np.unique(b[0]))}, ("first batch",)),
    Entry(nb07, 3, "right", "pandas Index difference", lambda: {"dead_codes": _dead_pandas}),
    # Q4: the VQ loss terms
    Entry(nb07, 4, "wrong", "no stop_gradient", _losses("no stop_gradient"), ("without stop_gradient",)),
    Entry(nb07, 4, "wrong", "swapped stop_gradients", _losses("swapped stop_gradients"), ("codes* only",)),
    Entry(nb07, 4, "wrong", "beta on the codebook loss", _losses("beta on the codebook loss"), ("swapped",)),
    Entry(nb07, 4, "wrong", "sum instead of mean", _losses("sum instead of mean"), ("*means*",)),
    Entry(nb07, 4, "right", "tf.math.squared_difference", _losses("tf with squared difference")),
    Entry(nb07, 4, "wrong", "both stop_gradients", _losses("both stop_gradients"), ("*codes* only",)),
    Entry(nb07, 4, "wrong", "mean absolute error", _losses("mean absolute error"), ("mean((z − q)²)",)),
    Entry(nb07, 4, "right", "keras MeanSquaredError", _losses("keras MeanSquaredError")),
    # Q5: the quantizer's forward pass in keras.ops
    Entry(nb07, 5, "wrong", "ops.argmin", _quantizer("ops.argmin"), ("signbit", "Flex")),
    Entry(nb07, 5, "wrong", "no straight-through", _quantizer("no straight-through"), ("no gradient reaches z",)),
    Entry(nb07, 5, "wrong", "gradient twice the identity", _quantizer("gradient twice"), ("2 × the identity",)),
    Entry(nb07, 5, "wrong", "ops.argmax of the negated distances", _quantizer("ops.argmax of the negated distances"),
          ("ops.argmax", "signbit")),
    Entry(nb07, 5, "wrong", "tf.argmin", _quantizer("tf.argmin"), ("tensorflow.argmin", "one-hot form")),
    Entry(nb07, 5, "wrong", "np.argmin on the tensor, eager only", _quantizer("np.argmin on the tensor"),
          ("tf.function", "keras.ops")),
    Entry(nb07, 5, "right", "less_equal with the row minimum, float64", _quantizer("less_equal, float64")),
    Entry(nb07, 5, "right", "maximum of the negated distances",
          _quantizer("one-hot of the negated distances' maximum")),
    # red team of 7 December 2026 (issue 26 §4 follow-up)
    Entry(nb07, 3, "wrong", "the first position of each batch only", lambda: {"dead_codes": lambda b, k: np.setdiff1d(
        np.arange(k), np.asarray(b)[:, 0])}, ("every position",)),
    Entry(nb07, 3, "wrong", "codes counted from 1", lambda: {"dead_codes": lambda b, k: np.setdiff1d(
        np.arange(1, k + 1), b)}, ("count from 0",)),
    Entry(nb07, 3, "right", "membership test in a list comprehension", lambda: {"dead_codes": lambda b, k: [
        code for code in range(k) if code not in b]}),
    Entry(nb07, 5, "wrong", "the output and the one-hot matrix", _quantizer("output and one-hot"),
          ("returns 2 things", "one tensor")),
    Entry(nb07, 5, "right", "ops.top_k of the negated distances (LiteRT builtin TOPK_V2)", _quantizer("top_k")),
    Entry(nb07, 4, "wrong", "mean over the last axis only", _losses("mean over the last axis"), ("one number",)),
    Entry(nb07, 4, "right", "sum over the size, returned as a list", _losses("sum over size, in a list")),
]
