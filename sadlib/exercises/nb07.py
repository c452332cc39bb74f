"""Exercises for notebook 07: perplexity of code usage, the nearest code without argmin, dead codes,
and the gradient that reaches the encoder through the straight-through trick."""

from __future__ import annotations

import numpy as np

from sadlib.exercises.checker import Incorrect, Question, expect_close, expect_shape, expect_true

__all__ = ["q1", "q2", "q3", "q4"]

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
"""


def _context() -> dict:
    namespace: dict = {}
    exec(SETUP, namespace)
    return namespace


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
    "Find the nearest code of every row of `z` **without argmin** (an edge runtime may lack it). Compute the squared "
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
    arr = np.asarray(dead)
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
    "`st` the straight-through output and `g` fixed. What is dL/dz4? `stop_gradient(x)` has the value x and a "
    "zero gradient. Set `grad_z` (shape (2, 3)).",
    ("st_value", "grad_z"),
    _check_straight_through,
    ["In the forward pass `stop_gradient` does nothing: z + (q - z) = q.",
     "d st / d z is the identity (the stop-gradient term counts as a constant), so the first part gives `g`.",
     "d/dz of beta * mean((z - q)**2) = 2 * beta * (z - q) / z.size (q is a constant)."],
    "st_value = z_enc + (q_code - z_enc)\n"
    "grad_z = g + 2 * beta * (z_enc - q_code) / z_enc.size",
    setup=_context,
)
