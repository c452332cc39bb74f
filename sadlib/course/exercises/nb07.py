"""Exercises for notebook 07: perplexity of code usage, the nearest code without argmin, dead codes,
the gradient that reaches the encoder through the straight-through trick, and the quantizer's forward
pass written with ``keras.ops`` (checked against the course's layer, gradient included)."""

from __future__ import annotations

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    ____,
    expect_close,
    expect_shape,
    expect_true,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]

N_CODES, CODE_DIM, N_Z, BETA = 8, 3, 12, 0.25

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np

rng = np.random.default_rng(7)

# Q1: how often each of 8 codes was the nearest one over the training windows
counts = np.array([410, 0, 385, 12, 0, 0, 401, 0])

# Q2: 12 encoder outputs of 3 values and a codebook of 8 codes
z = rng.normal(size=(12, 3))
codebook = rng.normal(size=(8, 3))

# Q3: the code index of every latent position in the last 20 training batches (20 batches x 64 positions)
batch_codes = rng.choice([0, 2, 3, 5, 6], size=(20, 64), p=[0.3, 0.3, 0.1, 0.2, 0.1])
n_codes = 8

# Q4: one encoder output z_enc, its nearest code q_code, and the gradient g of the decoder's loss with respect to
# the decoder's input (the straight-through output), for a commitment weight beta
z_enc = rng.normal(size=(2, 3))
q_code = z_enc + rng.normal(scale=0.3, size=(2, 3))
g = rng.normal(size=(2, 3))
beta = 0.25

# Q5: write the quantizer with keras.ops (TensorFlow backend, as in the notebook)
from sadlib.environment import import_tensorflow

tf = import_tensorflow()  # TensorFlow's start-up messages stay out of the notebook
from keras import ops
"""


def _context() -> dict:
    return setup_namespace(SETUP)


def _data() -> dict:
    return _context()


# --------------------------------------------------------------------------- Q1
def _check_perplexity(ppl):
    counts = _data()["counts"].astype(float)
    p = counts[counts > 0] / counts.sum()
    entropy = float(-(p * np.log(p)).sum())
    right = float(np.exp(entropy))
    expect_true(np.ndim(ppl) == 0, "`ppl` should be one number, the perplexity of the whole usage histogram.")
    ppl = float(ppl)
    if np.isnan(ppl):
        raise Incorrect("you got NaN: 0 * log(0) is NaN in NumPy. Leave out the codes with a zero count "
                        "(their term is 0 in the entropy), e.g. `p = p[p > 0]`.")
    if np.isclose(ppl, entropy):
        raise Incorrect(f"{ppl:.3f} is the entropy (in nats). The perplexity is `exp(entropy)`, so that it reads as "
                        "a number of codes.")
    if np.isclose(ppl, entropy / np.log(2)):
        raise Incorrect("that is the entropy in bits; the perplexity is 2 ** (entropy in bits) = exp(entropy in nats).")
    if np.isclose(ppl, np.count_nonzero(counts)):
        raise Incorrect(f"that is the number of codes used at least once ({np.count_nonzero(counts)}). The perplexity "
                        "weighs them by how often they are used: a code used 12 times out of 1208 adds little.")
    expect_close(ppl, right, what="`ppl`", rtol=1e-6)
    return (f"perplexity {right:.2f}: about {right:.0f} codes in effective use out of {len(counts)}; "
            f"{np.count_nonzero(counts)} are used at all.")


q1 = Question(
    1,
    "`counts[k]` is how often code k was the nearest code on the training windows. Compute the **perplexity** of this "
    "usage: `exp(H)` with `H = -sum p_k log p_k` the entropy of the code frequencies `p_k = counts[k] / counts.sum()` "
    "(natural log). Set `ppl`.",
    ("ppl",),
    _check_perplexity,
    ["`p = counts / counts.sum()`; codes with p = 0 contribute nothing to the entropy (0 · log 0 = 0).",
     "`p = p[p > 0]` before `np.log`, then `np.exp(-(p * np.log(p)).sum())`."],
    "p = counts / counts.sum()\n"
    "p = p[p > 0]\n"
    "ppl = float(np.exp(-(p * np.log(p)).sum()))",
    setup=_context,
)


# --------------------------------------------------------------------------- Q2
def _check_nearest(one_hot, q):
    ns = _data()
    z, codebook = ns["z"], ns["codebook"]
    d = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    oh = np.asarray(one_hot, dtype=float)
    if oh.shape == (N_CODES, N_Z):
        raise Incorrect(f"`one_hot` has shape {oh.shape}: one row per *code*. It needs one row per encoder output "
                        f"and one column per code, shape ({N_Z}, {N_CODES}).")
    expect_shape(oh, (N_Z, N_CODES), "`one_hot` (encoder outputs x codes)")
    expect_true(np.all((oh >= 0) & (oh <= 1)) and np.allclose(oh.sum(1), 1),
                "every row of `one_hot` should be 0 everywhere and 1 at the nearest code (rows summing to 1).")
    if np.array_equal(oh.argmax(1), d.argmax(1)):
        raise Incorrect("your one-hot rows mark the *farthest* code: compare the distances with their minimum, "
                        "`d == d.min(axis=1, keepdims=True)`.")
    if not np.array_equal(oh.argmax(1), d.argmin(1)):
        raise Incorrect(f"{int(np.sum(oh.argmax(1) != d.argmin(1)))} of the {N_Z} rows do not mark the nearest code. "
                        "Compute the distances of every z to every code, shape (12, 8), and compare each row with "
                        "its minimum.")
    qq = np.asarray(q, dtype=float)
    if qq.shape == (N_Z,):
        raise Incorrect("`q` should hold the code *vectors*, shape (12, 3), not their indices: `one_hot @ codebook`.")
    expect_shape(qq, (N_Z, CODE_DIM), "`q` (one code vector per encoder output)")
    expect_close(qq, codebook[d.argmin(1)], what="`q`")
    return ("equal to `codebook[np.argmin(d, axis=1)]`, using only comparisons, a reduction and a matrix product: "
            "ops every LiteRT runtime has.")


q2 = Question(
    2,
    "Find the nearest code of every row of `z` **without argmin** (LiteRT has a builtin ARG_MIN, but "
    "`keras.ops.argmin` handles -0.0 with a bitwise AND that the converter leaves as a Flex op). Compute the squared "
    "distances `d` of shape (12, 8), a one-hot matrix `one_hot` that is 1 where a row of `d` equals its minimum and 0 "
    "elsewhere (as floats), and the quantized vectors `q = one_hot @ codebook`.",
    ("one_hot", "q"),
    _check_nearest,
    ["Broadcasting: `z[:, None, :] - codebook[None, :, :]` has shape (12, 8, 3); square and sum over the last axis.",
     "`(d == d.min(axis=1, keepdims=True)).astype(float)` is the one-hot matrix."],
    "d = ((z[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=-1)\n"
    "one_hot = (d == d.min(axis=1, keepdims=True)).astype(float)\n"
    "q = one_hot @ codebook",
    setup=_context,
)


# --------------------------------------------------------------------------- Q3
def _check_dead(dead):
    ns = _data()
    used = np.unique(ns["batch_codes"])
    right = np.setdiff1d(np.arange(N_CODES), used)
    arr = np.asarray(sorted(dead) if isinstance(dead, (set, frozenset)) else dead)
    if arr.ndim == 0:
        if int(arr) == len(right):
            raise Incorrect(f"that is how many codes are dead ({len(right)}); the task asks *which* ones: an array "
                            "of their indices (to re-initialise them).")
        raise Incorrect("`dead` should be an array of code indices, e.g. `np.array([1, 4])`.")
    arr = np.sort(arr.astype(int).ravel())
    if np.array_equal(arr, used):
        raise Incorrect("those are the codes that *are* used. Dead codes are the indices 0..7 that never appear in "
                        "`batch_codes`.")
    if arr.size == N_CODES and set(arr) <= {0, 1}:
        raise Incorrect("that looks like a boolean or 0/1 mask; give the indices of the dead codes, "
                        "e.g. `np.flatnonzero(mask)`.")
    last_only = np.setdiff1d(np.arange(N_CODES), np.unique(ns["batch_codes"][-1]))
    if not np.array_equal(arr, right) and np.array_equal(arr, last_only):
        raise Incorrect("you looked at the last batch only. A code is dead if it was unused in *all* 20 batches.")
    expect_true(np.array_equal(arr, right), f"the dead codes are the indices that never occur in `batch_codes`; "
                                            f"you gave {arr.tolist()}.")
    return (f"codes {right.tolist()} were never the nearest code in 20 batches: the EMA detector would "
            "re-initialise them to random encoder outputs of the current batch.")


q3 = Question(
    3,
    "`batch_codes` holds the code index of every latent position in the last 20 training batches. Which of the "
    "`n_codes` = 8 codes are **dead**, never used in any of these batches? Set `dead` to an array of their indices.",
    ("dead",),
    _check_dead,
    ["`np.bincount(batch_codes.ravel(), minlength=n_codes)` counts each code's uses.",
     "`np.flatnonzero(counts == 0)` gives the indices of the codes with no use."],
    "counts = np.bincount(batch_codes.ravel(), minlength=n_codes)\n"
    "dead = np.flatnonzero(counts == 0)",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
def _check_straight_through(st_value, grad_z):
    ns = _data()
    z, q, g, beta = ns["z_enc"], ns["q_code"], ns["g"], ns["beta"]
    expect_shape(np.asarray(st_value, float), z.shape, "`st_value`")
    if np.allclose(st_value, z):
        raise Incorrect("`z + stop_gradient(q - z)` is *q* in the forward pass: the decoder sees the code, not z.")
    expect_close(np.asarray(st_value, float), q, what="`st_value`")
    gz = np.asarray(grad_z, float)
    expect_shape(gz, z.shape, "`grad_z`")
    commit = 2 * beta * (z - q) / z.size
    right = g + commit
    if np.allclose(gz, 0):
        raise Incorrect("the gradient is not zero: `stop_gradient` blocks only `q - z`; the `z` in front passes "
                        "the decoder's gradient `g` through unchanged (and the commitment loss adds its own term).")
    if np.allclose(gz, g):
        raise Incorrect("that is the straight-through part only. The commitment loss "
                        "`beta * mean((z - stop_gradient(q))**2)` also depends on z: add its gradient "
                        "`2 * beta * (z - q) / z.size`.")
    if np.allclose(gz, commit):
        raise Incorrect("that is the commitment term only; the decoder's gradient `g` reaches z too "
                        "(straight-through).")
    if np.allclose(gz, g + 2 * beta * (z - q)):
        raise Incorrect("the commitment loss is a *mean* over the z.size values: divide its gradient by z.size.")
    if np.allclose(gz, g - commit):
        raise Incorrect("the commitment gradient has the wrong sign: d/dz (z - q)**2 = 2 (z - q).")
    expect_close(gz, right, what="`grad_z`")
    return "the decoder's gradient passes straight through, plus a pull of z towards its code (the commitment)."


q4 = Question(
    4,
    "The straight-through trick. (a) What value does the decoder get from `z_enc + stop_gradient(q_code - z_enc)`? Set "
    "`st_value`. (b) The total loss is `L = sum(g * st) + beta * mean((z_enc - stop_gradient(q_code))**2)`, with "
    "`st` the straight-through output and `g` fixed. What is ∂L/∂z_enc, the gradient of L with respect to `z_enc`? "
    "`stop_gradient(x)` has the value x and a zero gradient. Set `grad_z` (shape (2, 3)).",
    ("st_value", "grad_z"),
    _check_straight_through,
    ["In the forward pass `stop_gradient` does nothing: z + (q - z) = q.",
     "d st / d z is the identity (the stop-gradient term counts as a constant), so the first part gives `g`.",
     "d/dz of beta * mean((z - q)**2) = 2 * beta * (z - q) / z.size (q is a constant)."],
    "st_value = z_enc + (q_code - z_enc)\n"
    "grad_z = g + 2 * beta * (z_enc - q_code) / z_enc.size",
    setup=_context,
)


# --------------------------------------------------------------------------- Q5
#: (positions, codes, code size) of the random inputs Q5's check uses (seeded, so the check is repeatable)
Q5_CASES = ((12, 8, 3), (48, 32, 8), (1, 5, 2))


def _q5_inputs(n: int, k: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z, codebook, g)`` as float32: ``n`` encoder outputs, ``k`` codes, a decoder gradient ``g`` like ``z``."""
    rng = np.random.default_rng(100 + seed)
    z, codebook, g = (rng.normal(size=shape).astype(np.float32) for shape in ((n, dim), (k, dim), (n, dim)))
    return z, codebook, g


def _q5_reference(z: np.ndarray, codebook: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and gradient ``d sum(g * out) / dz`` of the course's ``VectorQuantizer`` layer on ``z`` (n, D)."""
    from sadlib.detectors.vqvae import VectorQuantizer
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    layer = VectorQuantizer(len(codebook), z.shape[1], codebook="ema")
    layer.build(z.shape)
    layer.codebook.assign(codebook)
    zv = tf.Variable(z[None])  # the layer takes (batch, positions, D)
    with tf.GradientTape() as tape:
        out = layer(zv)
        loss = tf.reduce_sum(g[None] * out)
    return np.asarray(out)[0], np.asarray(tape.gradient(loss, zv))[0]


def _q5_call(fn, z, codebook, g):
    """The learner's output and ``d sum(g * out) / dz`` (None if no gradient reaches z)."""
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    zv = tf.Variable(z)
    with tf.GradientTape() as tape:
        out = fn(zv, tf.constant(codebook))
        if out is ____:
            return out, None
        loss = tf.reduce_sum(g * tf.cast(out, tf.float32))
    grad = tape.gradient(loss, zv)
    return out, (None if grad is None else np.asarray(grad))


def _check_quantizer(my_quantizer):
    expect_true(callable(my_quantizer), "`my_quantizer` should be a function (z, codebook) -> straight-through output.")
    for case, (n, k, dim) in enumerate(Q5_CASES):
        z, codebook, g = _q5_inputs(n, k, dim, case)
        want, want_grad = _q5_reference(z, codebook, g)
        out, grad = _q5_call(my_quantizer, z, codebook, g)
        expect_true(out is not ____, "your function still returns ____; complete its last line.")
        got = np.asarray(out, dtype=float)
        if got.shape == (n,):
            raise Incorrect(f"your function returns {n} numbers, one per row of z: code indices? The quantizer "
                            f"returns the code *vectors*, shape ({n}, {dim}): `q = ops.matmul(one_hot, codebook)`.")
        if got.shape == (n, k):
            raise Incorrect(f"your function returns shape ({n}, {k}), one column per code: distances or the one-hot "
                            f"matrix? Return the (straight-through) code vectors, shape ({n}, {dim}).")
        expect_shape(got, (n, dim), f"the output for z of shape ({n}, {dim})")
        d = ((z[:, None, :].astype(float) - codebook[None].astype(float)) ** 2).sum(-1)
        if n > 1 and np.allclose(got, z, atol=1e-5):
            raise Incorrect("the output equals z: nothing was quantized. The value of the straight-through output "
                            "is the nearest code q; `z + ops.stop_gradient(q - z)` is q in the forward pass.")
        if np.allclose(got, codebook[d.argmax(1)], atol=1e-5):
            raise Incorrect("your rows are the *farthest* codes: compare each row of d with its minimum "
                            "(`ops.min`), not its maximum.")
        wrong_rows = int(np.sum(~np.isclose(got, want, rtol=1e-5, atol=1e-5).all(axis=1)))
        if wrong_rows:
            raise Incorrect(f"{wrong_rows} of {n} rows are not the nearest code by squared distance (z of shape "
                            f"({n}, {dim}), {k} codes). d[i, k] = |z_i|² − 2 z_i·c_k + |c_k|², shape (n, K); "
                            "the nearest code has the smallest d in its row.")
        if grad is None or np.allclose(grad, 0):
            raise Incorrect("the value is right, but no gradient reaches z: the nearest-code lookup (equal, cast, "
                            "argmin) has no gradient, and `z + (q - z)` without stop_gradient cancels z. Return "
                            "`z + ops.stop_gradient(q - z)`: straight-through, the gradient of the identity.")
        if np.allclose(grad, 2 * g, atol=1e-5):
            raise Incorrect("the gradient with respect to z is 2 × the identity: z enters twice. Only the z in front "
                            "may carry a gradient; wrap the whole difference: `z + ops.stop_gradient(q - z)`.")
        expect_true(np.allclose(grad, want_grad, atol=1e-5),
                    "the value is right, but the gradient of the output with respect to z is not the identity "
                    f"(largest difference {np.max(np.abs(grad - want_grad)):.3g} from the decoder's gradient g). "
                    "Return `z + ops.stop_gradient(q - z)`.")
    return ("on three random inputs your function gives the course layer's values and passes the decoder's gradient "
            "to z unchanged. It is the body of `VectorQuantizer.call` (sadlib/detectors/layers.py) for z flattened to "
            "rows; the layer adds the commitment loss during training.")


def _q5_probe(values):
    """The learner's ``my_quantizer`` output on the first case: ``____`` while the template is untouched."""
    z, codebook, g = _q5_inputs(*Q5_CASES[0], 0)
    return _q5_call(values["my_quantizer"], z, codebook, g)[0]


q5 = FunctionQuestion(
    5,
    "Write the quantizer's forward pass with `keras.ops` (imported as `ops`): `my_quantizer(z, codebook)` takes "
    "encoder outputs `z` of shape (n, D) and the codes `codebook` of shape (K, D), computes the squared distance of "
    "every row of z to every code (shape (n, K)), the nearest code of every row **without argmin** (a one-hot row "
    "that is 1 where d equals its row minimum, times the codebook) and returns the straight-through output: value q, "
    "gradient of the identity with respect to z. The check compares your values with the course's "
    "`VectorQuantizer` layer on random inputs and measures the gradient with a `tf.GradientTape`.",
    ("my_quantizer",),
    _check_quantizer,
    ["`ops.sum(z**2, axis=1, keepdims=True) - 2 * ops.matmul(z, ops.transpose(codebook)) + ops.sum(codebook**2, "
     "axis=1)` broadcasts (n, 1) − (n, K) + (K,) to the (n, K) squared distances.",
     "`one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)`, then "
     "`q = ops.matmul(one_hot, codebook)`.",
     "`q` alone has no gradient with respect to z (equal and cast are not differentiable). Return "
     "`z + ops.stop_gradient(q - z)`: its value is q, and the stop-gradient part counts as a constant when the "
     "gradient is taken."],
    "# ops is keras.ops (imported in the setup cell)\n"
    "def my_quantizer(z, codebook):\n"
    "    d = (ops.sum(z**2, axis=1, keepdims=True) - 2 * ops.matmul(z, ops.transpose(codebook))\n"
    "         + ops.sum(codebook**2, axis=1))\n"
    "    one_hot = ops.cast(ops.equal(d, ops.min(d, axis=1, keepdims=True)), z.dtype)\n"
    "    q = ops.matmul(one_hot, codebook)\n"
    "    return z + ops.stop_gradient(q - z)",
    setup=_context,
    probe=_q5_probe,
)

#: answer cells that differ from ``name = ____``
ANSWER_CELLS = {
    5: "def my_quantizer(z, codebook):\n"
       "    d = ____  # squared distance of every row of z to every code, shape (n, K)\n"
       "    q = ____  # the nearest code of every row, shape (n, D), without argmin\n"
       "    return ____  # value q, gradient of the identity with respect to z (straight-through)",
}
