"""Exercises for notebook 07. The learner writes four methods, each checked by behaviour on inputs generated inside
the check, with ``sadlib``'s own version unavailable: the perplexity of code usage (Q1), the nearest-code assignment
in NumPy (Q2), the VQ loss terms in ``keras.ops`` with their stop-gradients (Q4, gradients measured with a
``tf.GradientTape``) and the quantizer's forward pass in ``keras.ops`` without ``ops.argmin`` (Q5, checked against
the course's layer, gradient included). Q3 finds the dead codes of a usage record (a function too)."""

from __future__ import annotations

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    ____,
    call_answer,
    expect_shape,
    expect_true,
    fmt_distinct,
    is_blank,
    library_unavailable,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5"]

N_CODES, CODE_DIM, N_Z, BETA = 8, 3, 12, 0.25

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np

rng = np.random.default_rng(7)

# Q1: how often each of 8 codes was the nearest one over the training windows (try your perplexity on it)
counts = np.array([410, 0, 385, 12, 0, 0, 401, 0])

# Q2: 12 encoder outputs of 3 values and a codebook of 8 codes (try your nearest_code on them)
z = rng.normal(size=(12, 3))
codebook = rng.normal(size=(8, 3))

# Q3: the code index of every latent position in the last 20 training batches (20 batches x 64 positions)
batch_codes = rng.choice([0, 2, 3, 5, 6], size=(20, 64), p=[0.3, 0.3, 0.1, 0.2, 0.1])
n_codes = 8

# Q4: encoder outputs z_enc, their nearest codes q_code and the commitment weight beta (try your vq_losses on them)
z_enc = rng.normal(size=(2, 3))
q_code = z_enc + rng.normal(scale=0.3, size=(2, 3))
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
def _q1_cases() -> list[np.ndarray]:
    """Code counts the learner has not seen: zeros, one code only, uniform use, and random histograms."""
    rng = np.random.default_rng(2107)
    cases = [np.array([5, 0, 0, 0]), np.array([7, 7, 7, 7, 7, 7]), np.array([3, 0, 1, 0, 0, 12, 0, 2])]
    for k in (8, 32, 100):
        c = rng.poisson(rng.gamma(0.5, 40, size=k))
        c[rng.random(k) < 0.3] = 0
        c[0] += 1  # at least one code is used
        cases.append(c)
    return cases


def _ppl(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def _check_perplexity(perplexity):
    from sadlib.detectors import vqvae as vqvae_module

    for counts in _q1_cases():
        right = _ppl(counts.astype(float))
        with library_unavailable(perplexity, [(vqvae_module, "perplexity")]):
            got = call_answer(perplexity, "perplexity", counts.copy())
        try:
            got = float(np.asarray(got, dtype=float).item())
        except (TypeError, ValueError) as err:
            raise Incorrect(f"`perplexity` should return one number; for counts {counts.tolist()[:8]} it returned "
                            f"{got!r}.") from err
        p = counts[counts > 0] / counts.sum()
        entropy = float(-(p * np.log(p)).sum())
        shown = counts.tolist() if counts.size <= 8 else f"{counts.size} counts"
        if np.isnan(got):
            raise Incorrect(f"for counts {shown} you got NaN: 0 * log(0) is NaN in NumPy. Leave out the codes with a "
                            "zero count (their term is 0 in the entropy), e.g. `p = p[p > 0]`.")
        if np.isclose(got, right, rtol=1e-6):
            continue
        if np.isclose(got, entropy, rtol=1e-6) and not np.isclose(entropy, right):
            raise Incorrect(f"for counts {shown} you return the entropy ({got:.4g} nats). The perplexity is "
                            "`exp(entropy)`, so that it reads as a number of codes.")
        if np.isclose(got, entropy / np.log(2), rtol=1e-6):
            raise Incorrect("that is the entropy in bits; the perplexity is 2 ** (entropy in bits) = exp(entropy in "
                            "nats).")
        if np.isclose(got, np.count_nonzero(counts)) and not np.isclose(right, got):
            raise Incorrect(f"for counts {shown} you return the number of codes used ({np.count_nonzero(counts)}). "
                            "The perplexity weighs them by how often they are used: a code used once adds little.")
        raw = counts[counts > 0].astype(float)
        if np.isclose(got, np.exp(-(raw * np.log(raw)).sum()), rtol=1e-6) or np.isclose(
                got, np.exp(-(raw * np.log(raw)).sum() / counts.sum()), rtol=1e-6):
            raise Incorrect("you used the counts where the entropy needs frequencies: divide by the total first, "
                            "`p = counts / counts.sum()`.")
        raise Incorrect(f"for counts {shown} the perplexity is {fmt_distinct(right, got)}; yours is "
                        f"{fmt_distinct(got, right)}. Perplexity = exp(-sum p log p) over the codes with p > 0.")
    return (f"right on {len(_q1_cases())} histograms you had not seen: 1 when one code does everything, K when all K "
            "are used equally. It is `sadlib.detectors.vqvae.perplexity`, the `perplexity_` of the detector.")


q1 = FunctionQuestion(
    1,
    "Write `perplexity(counts)`: `counts[k]` is how often code k was the nearest code on the training windows. Return "
    "the **perplexity** of this usage, `exp(H)` with `H = -sum p_k log p_k` the entropy (natural log) of the code "
    "frequencies `p_k = counts[k] / counts.sum()`. Try it on `counts` from the setup cell; the check runs it on "
    "histograms you have not seen, with `sadlib`'s own `perplexity` made unavailable.",
    ("perplexity",),
    _check_perplexity,
    ["`p = counts / counts.sum()`; codes with p = 0 contribute nothing to the entropy (0 · log 0 = 0).",
     "`p = p[p > 0]` before `np.log`, then `np.exp(-(p * np.log(p)).sum())`."],
    "def perplexity(counts):\n"
    "    p = np.asarray(counts, dtype=float) / np.sum(counts)\n"
    "    p = p[p > 0]  # 0 * log 0 counts as 0\n"
    "    return float(np.exp(-(p * np.log(p)).sum()))\n\n\n"
    "ppl = perplexity(counts)",
    setup=_context,
    method="codebook usage and perplexity",
)


# --------------------------------------------------------------------------- Q2
#: (rows of z, codes, code size, seed) of the inputs Q2's check uses
Q2_CASES = ((12, 8, 3, 0), (40, 32, 8, 1), (1, 5, 2, 2), (30, 16, 4, 3))


def _q2_inputs(n: int, k: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Encoder outputs and a codebook whose codes differ in length (so a forgotten |c|² term shows)."""
    rng = np.random.default_rng(700 + seed)
    z = rng.normal(size=(n, dim))
    codebook = rng.normal(size=(k, dim)) * rng.uniform(0.3, 2.0, size=(k, 1))
    return z, codebook


def _check_nearest(nearest_code):
    from sadlib.detectors import vqvae as vqvae_module

    for n, k, dim, seed in Q2_CASES:
        z, codebook = _q2_inputs(n, k, dim, seed)
        d = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
        with library_unavailable(nearest_code, [(vqvae_module, "nearest_codes"), (vqvae_module, "_sq_distances")]):
            out = call_answer(nearest_code, "nearest_code", z.copy(), codebook.copy())
        expect_true(isinstance(out, tuple) and len(out) == 2,
                    "`nearest_code` should return two things, `idx, q`: the index of the nearest code of every row "
                    "and the code vectors themselves.")
        idx, q = (np.asarray(o) for o in out)
        if idx.shape == (n, dim) and q.shape == (n,):
            raise Incorrect("you return `q, idx`; the order asked is `idx, q`.")
        expect_true(idx.shape == (n,), f"`idx` should hold one code index per row of z, shape ({n},); got shape "
                                       f"{idx.shape}.")
        if k > 1 and np.array_equal(idx, d.argmax(1)):
            raise Incorrect("your indices mark the *farthest* code: take the smallest distance of every row.")
        if n > 1 and idx.shape == (n,) and np.array_equal(idx[: min(n, k)], d.argmin(0)[: min(n, k)]) \
                and not np.array_equal(idx, d.argmin(1)):
            raise Incorrect("you took the minimum over the wrong axis (for every code, its nearest z): the minimum "
                            "runs over the codes, `axis=1` of the (n, K) distances.")
        no_c2 = (z**2).sum(1, keepdims=True) - 2 * z @ codebook.T
        if not np.array_equal(idx, d.argmin(1)) and np.array_equal(idx, no_c2.argmin(1)):
            raise Incorrect("your distances leave out |c_k|²: |z - c|² = |z|² − 2 z·c + |c|², and the codes differ "
                            "in length, so the last term changes which code is nearest.")
        wrong = int(np.sum(idx != d.argmin(1)))
        if wrong:
            raise Incorrect(f"{wrong} of {n} rows do not get the nearest code by squared distance (z of shape "
                            f"({n}, {dim}), {k} codes).")
        expect_true(q.shape == (n, dim), f"`q` should hold the code vectors, shape ({n}, {dim}); got {q.shape}.")
        expect_true(np.allclose(q, codebook[d.argmin(1)]), "`idx` is right but `q` is not the codes it names: "
                                                            "`q = codebook[idx]`.")
    return ("right on four inputs you had not seen, codes of different lengths included. In NumPy, outside the model, "
            "argmin is fine; inside a Keras model exported to LiteRT the course uses a row minimum instead (Q5).")


q2 = FunctionQuestion(
    2,
    "Write `nearest_code(z, codebook)` in NumPy: `z` holds encoder outputs, shape (n, D), `codebook` the codes, "
    "shape (K, D). Return `idx, q`: the index of the nearest code (smallest squared distance) of every row of z, "
    "shape (n,), and the quantized vectors `q = codebook[idx]`, shape (n, D). Here, outside the model, `argmin` is "
    "fine. Try it on `z` and `codebook` of the setup cell; the check uses inputs you have not seen, with "
    "`sadlib.detectors.vqvae.nearest_codes` made unavailable.",
    ("nearest_code",),
    _check_nearest,
    ["Broadcasting: `z[:, None, :] - codebook[None, :, :]` has shape (n, K, D); square and sum over the last axis "
     "to get the (n, K) squared distances.",
     "`idx = d.argmin(axis=1)`, `q = codebook[idx]`."],
    "def nearest_code(z, codebook):\n"
    "    d = ((z[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=-1)  # (n, K) squared distances\n"
    "    idx = d.argmin(axis=1)\n"
    "    return idx, codebook[idx]\n\n\n"
    "idx, q = nearest_code(z, codebook)",
    setup=_context,
    method="nearest-code assignment",
)


# --------------------------------------------------------------------------- Q3
def _q3_cases() -> list[tuple[np.ndarray, int]]:
    """Usage records the learner has not seen: (batches x positions code indices, number of codes)."""
    rng = np.random.default_rng(3107)
    cases = []
    for n_codes, n_batches, used in ((8, 20, [0, 2, 3, 5, 6]), (16, 5, [1, 2, 3, 9, 15]), (6, 3, [0, 1, 2, 3, 4, 5])):
        record = rng.choice(used, size=(n_batches, 64))
        record[-1] = rng.choice(used[:2], size=64)  # the last batch misses codes the others use
        cases.append((record, n_codes))
    # a rare code (used once, in a middle batch) is alive; a code missing from the first batches is alive too
    record = rng.choice([0, 1, 2, 4], size=(6, 64))
    record[0] = rng.choice([0, 1, 2], size=64)  # the first batch misses a common code
    record[2:, 0] = 5
    record[3, 5] = 8
    record[-1, 1] = 8
    cases.append((record, 10))
    return cases


def _as_indices(dead) -> np.ndarray | None:
    arr = np.asarray(sorted(dead) if isinstance(dead, (set, frozenset)) else dead)
    return None if arr.ndim == 0 else np.sort(arr.astype(int).ravel())


def _check_dead(dead_codes):
    for record, n_codes in _q3_cases():
        used = np.unique(record)
        right = np.setdiff1d(np.arange(n_codes), used)
        out = call_answer(dead_codes, "dead_codes", record.copy(), n_codes)
        arr = _as_indices(out)
        if arr is None:
            if int(np.asarray(out)) == len(right):
                raise Incorrect(f"that is how many codes are dead ({len(right)}); return *which* ones: an array of "
                                "their indices (to re-initialise them).")
            raise Incorrect("`dead_codes` should return an array of code indices, e.g. `np.array([1, 4])`.")
        if np.array_equal(arr, used) and not np.array_equal(arr, right):
            raise Incorrect("those are the codes that *are* used. Dead codes are the indices 0..n_codes-1 that never "
                            "appear in `batch_codes`.")
        if arr.size == n_codes and set(arr.tolist()) <= {0, 1} and not np.array_equal(arr, right):
            raise Incorrect("that looks like a boolean or 0/1 mask; return the indices of the dead codes, "
                            "e.g. `np.flatnonzero(mask)`.")
        last_only = np.setdiff1d(np.arange(n_codes), np.unique(record[-1]))
        if not np.array_equal(arr, right) and np.array_equal(arr, last_only):
            raise Incorrect("you looked at the last batch only. A code is dead if it was unused in *all* batches.")
        first_only = np.setdiff1d(np.arange(n_codes), np.unique(record[0]))
        if not np.array_equal(arr, right) and np.array_equal(arr, first_only):
            raise Incorrect("you looked at the first batch only. A code is dead if it was unused in *all* batches.")
        outside = arr[(arr < 0) | (arr >= n_codes)]
        if outside.size:
            raise Incorrect(f"you return {sorted(set(outside.tolist()))}, but with n_codes = {n_codes} the codes are "
                            f"numbered 0 .. {n_codes - 1} (`np.arange(n_codes)`), the numbers `batch_codes` holds: "
                            "count from 0.")
        counts = np.bincount(record.ravel(), minlength=n_codes)
        extra = np.setdiff1d(arr, right)
        if (extra.size and set(right.tolist()) <= set(arr.tolist())
                and np.any(counts[extra] > 0.05 * record.size)):
            raise Incorrect(f"code(s) {extra.tolist()} are used ({counts[extra].tolist()} times in {record.size} "
                            "positions), but you count them as dead: you looked at part of the record. A code is dead "
                            "when no position of any batch chose it; look at every position of every batch "
                            "(`np.ravel(batch_codes)`).")
        if extra.size and set(right.tolist()) <= set(arr.tolist()):
            raise Incorrect(f"code(s) {extra.tolist()} are used, if rarely ({counts[extra].tolist()} times in "
                            f"{record.size} positions): a code is dead only when *no* position chose it. A rare code "
                            "still moves with the EMA update; a dead one never does.")
        if not np.array_equal(arr, right) and np.array_equal(arr, np.setdiff1d(np.arange(used.max() + 1), used)):
            raise Incorrect(f"with n_codes = {n_codes} the codes above the largest one used are dead too: count up to "
                            "`n_codes`, e.g. `np.bincount(..., minlength=n_codes)`.")
        expect_true(np.array_equal(arr, right), f"for a record of {record.shape[0]} batches and {n_codes} codes the "
                                                f"dead codes are {right.tolist()}; you gave {arr.tolist()}.")
    return (f"right on {len(_q3_cases())} usage records you had not seen, a rarely used code included. The EMA "
            "detector re-initialises such codes to random encoder outputs of the current batch.")


q3 = FunctionQuestion(
    3,
    "Write `dead_codes(batch_codes, n_codes)`: `batch_codes` holds the code index of every latent position in the "
    "last training batches (batches x positions). Return the indices of the codes among `0 .. n_codes - 1` that "
    "are **dead**, never used in any of these batches. Try it on `batch_codes` and `n_codes` of the setup cell; the "
    "check uses records you have not seen.",
    ("dead_codes",),
    _check_dead,
    ["`np.bincount(batch_codes.ravel(), minlength=n_codes)` counts each code's uses.",
     "`np.flatnonzero(counts == 0)` gives the indices of the codes with no use."],
    "def dead_codes(batch_codes, n_codes):\n"
    "    counts = np.bincount(np.ravel(batch_codes), minlength=n_codes)\n"
    "    return np.flatnonzero(counts == 0)\n\n\n"
    "dead = dead_codes(batch_codes, n_codes)",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
#: (rows, code size, beta, seed) of the inputs Q4's check uses
Q4_CASES = ((6, 3, 0.25, 0), (20, 8, 0.5, 1), (1, 2, 1.0, 2))


def _q4_inputs(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(400 + seed)
    z = rng.normal(size=(n, dim)).astype(np.float32)
    return z, (z + rng.normal(scale=0.5, size=(n, dim))).astype(np.float32)


def _q4_run(fn, z, q, beta):
    """Values of the two losses and the gradients of each with respect to z and q (None: no gradient)."""
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    zv, qv = tf.Variable(z), tf.Variable(q)
    with tf.GradientTape(persistent=True) as tape:
        out = fn(zv, qv, beta)
        if is_blank(out):
            return out
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise Incorrect("`vq_losses` should return two numbers, `codebook_loss, commitment_loss`.")
        for name, o in zip(("codebook", "commitment"), out):
            shape = tuple(tf.convert_to_tensor(o).shape)
            if int(np.prod(shape)) != 1:
                raise Incorrect(f"your {name} loss has shape {shape}, one value per row or per position; a loss is "
                                "one number, the mean over *all* values of the batch: `ops.mean(...)` without "
                                "`axis`.")
        cb, cm = (tf.cast(tf.reduce_sum(o), tf.float32) for o in out)
    grads = {name: [None if g is None else np.asarray(g) for g in tape.gradient(loss, [zv, qv])]
             for name, loss in (("codebook", cb), ("commitment", cm))}
    del tape
    return float(cb), float(cm), grads


def _zero(g) -> bool:
    return g is None or np.allclose(g, 0, atol=1e-7)


def _check_losses(vq_losses):
    from sadlib.detectors import layers as layers_module

    expect_true(callable(vq_losses), "`vq_losses` should be a function (z, q, beta) -> (codebook_loss, "
                                     "commitment_loss).")
    for n, dim, beta, seed in Q4_CASES:
        z, q = _q4_inputs(n, dim, seed)
        with library_unavailable(vq_losses, [(layers_module, "VectorQuantizer")]):
            out = _q4_run(vq_losses, z, q, beta)
        expect_true(not is_blank(out), "your function still returns ____; complete its last line.")
        cb, cm, grads = out
        mse = float(np.mean((z - q) ** 2))
        if np.isclose(cb, beta * mse) and np.isclose(cm, mse) and not np.isclose(beta, 1):
            raise Incorrect(f"with beta = {beta}: β multiplies the commitment loss, not the codebook loss; you swapped "
                            "them.")
        if np.isclose(cm, float(np.sum((z - q) ** 2)) * beta) and n * dim > 1:
            raise Incorrect("you summed the squared differences; both losses are *means* over all values.")
        expect_true(np.isclose(cb, mse, rtol=1e-5), f"the codebook loss should be mean((z − q)²) = "
                                                     f"{fmt_distinct(mse, cb)}; yours is {fmt_distinct(cb, mse)}.")
        if np.isclose(cm, mse, rtol=1e-5) and not np.isclose(beta, 1):
            raise Incorrect(f"the commitment loss is weighted by β = {beta}: `beta * mean((z - stop_gradient(q))**2)`.")
        expect_true(np.isclose(cm, beta * mse, rtol=1e-5),
                    f"the commitment loss should be β · mean((z − q)²) = {fmt_distinct(beta * mse, cm)}; yours is "
                    f"{fmt_distinct(cm, beta * mse)}.")
        (cb_z, cb_q), (cm_z, cm_q) = grads["codebook"], grads["commitment"]
        if _zero(cb_q) and _zero(cm_z) and not _zero(cb_z) and not _zero(cm_q):
            raise Incorrect("your stop_gradients sit on the wrong side: your codebook loss moves the encoder and your "
                            "commitment loss the codes. The codebook loss should move the *codes* only "
                            "(`stop_gradient(z)`), the commitment loss the encoder only (`stop_gradient(q)`).")
        if not any(_zero(g) for g in (cb_z, cb_q, cm_z, cm_q)):
            raise Incorrect("both losses send gradients to both z and q: without stop_gradient the codebook loss also "
                            "pulls the encoder and the commitment loss also moves the codes. Stop the gradient of z in "
                            "the codebook loss and of q in the commitment loss.")
        if not _zero(cb_z) or _zero(cb_q):
            raise Incorrect("the codebook loss should move the *codes* only: `mean((stop_gradient(z) - q)**2)`; its "
                            "gradient with respect to z must be zero and with respect to q not.")
        if not _zero(cm_q) or _zero(cm_z):
            raise Incorrect("the commitment loss should move the *encoder* only: `beta * mean((z - stop_gradient(q))"
                            "**2)`; its gradient with respect to q must be zero and with respect to z not.")
        right_grads = (np.allclose(cb_q, 2 * (q - z) / z.size, atol=1e-6)
                       and np.allclose(cm_z, 2 * beta * (z - q) / z.size, atol=1e-6))
        expect_true(right_grads, "the values are right but the gradients are not those of the two mean squared errors.")
    return ("right on three inputs you had not seen: the codebook loss moves only the codes, the commitment loss "
            "(weighted by β) only the encoder. `VectorQuantizer` adds both with `add_loss` during training.")


q4 = FunctionQuestion(
    4,
    "Write the VQ loss terms with `keras.ops` (imported as `ops`): `vq_losses(z, q, beta)` takes encoder outputs `z` "
    "and their nearest codes `q` (same shape) and returns `codebook_loss, commitment_loss`: the **codebook loss** "
    "`mean((stop_gradient(z) − q)²)`, which moves the codes towards the encoder outputs, and the **commitment loss** "
    "`beta · mean((z − stop_gradient(q))²)`, which pulls the encoder towards its codes. Try it on `z_enc`, `q_code` "
    "and `beta` of the setup cell; the check runs it on inputs you have not seen and measures, with a "
    "`tf.GradientTape`, which of z and q each loss moves.",
    ("vq_losses",),
    _check_losses,
    ["`ops.mean((ops.stop_gradient(z) - q) ** 2)` is the codebook loss.",
     "`beta * ops.mean((z - ops.stop_gradient(q)) ** 2)` is the commitment loss."],
    "def vq_losses(z, q, beta):\n"
    "    codebook_loss = ops.mean((ops.stop_gradient(z) - q) ** 2)  # moves the codes\n"
    "    commitment_loss = beta * ops.mean((z - ops.stop_gradient(q)) ** 2)  # moves the encoder\n"
    "    return codebook_loss, commitment_loss\n\n\n"
    "codebook_loss, commitment_loss = vq_losses(z_enc, q_code, beta)",
    setup=_context,
    probe=lambda values: _q4_run(values["vq_losses"], *_q4_inputs(2, 3, 0), 0.25),
    method="the VQ loss terms",
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
        if out is ____ or isinstance(out, (tuple, list)):  # the check names a tuple (more than the output)
            return out, None
        loss = tf.reduce_sum(g * tf.cast(out, tf.float32))
    grad = tape.gradient(loss, zv)
    return out, (None if grad is None else np.asarray(grad))


def _q5_traced(fn, z, codebook):
    """The learner's function traced as a Keras layer is (symbolic tensors, ``tf.function``); its output."""
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    try:
        return np.asarray(tf.function(fn)(tf.constant(z), tf.constant(codebook)))
    except Incorrect:
        raise
    except Exception as err:  # NumPy on a symbolic tensor, .numpy() in a graph
        raise Incorrect(EAGER_ONLY.format(error=f"{type(err).__name__}: {str(err).splitlines()[0][:160]}")) from err


#: why the quantizer avoids ``keras.ops.argmin`` and ``argmax`` (checked: the check runs the answer with both, and
#: TensorFlow's own, made unavailable)
NO_ARGMIN = ("your function calls `{name}`. The task asks for the one-hot form, without argmin or argmax. LiteRT has "
             "a builtin ARG_MIN, but Keras's TensorFlow backend wraps `ops.argmin` and `ops.argmax` on floats in a "
             "`signbit` test for -0.0 (a bitwise AND on the float's bits), and that op becomes a Flex (TensorFlow) op "
             "in the LiteRT export of notebook 09, which the plain LiteRT runtime cannot run (`ops.argmax(-d)` has the "
             "same test). Compare d with its row minimum: `ops.equal(d, ops.min(d, axis=1, keepdims=True))`.")

#: what a quantizer that works only eagerly (NumPy on a tensor) is told
EAGER_ONLY = ("your function works on concrete tensors only: run as a Keras layer runs, on symbolic tensors in a "
              "traced graph (`tf.function`), it fails with {error}. It converts a tensor to NumPy somewhere "
              "(`np.argmin`, `np.asarray`, `.numpy()`); write every step with `keras.ops`.")


def _argmin_places():
    import keras

    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    places = []  # the same function under two names: the last one names it in the message (ops.argmin, tf.argmin)
    for module in (getattr(keras.ops, "numpy", None), keras.ops, tf.math, tf):
        for name in ("argmin", "argmax"):
            if module is not None and hasattr(module, name):
                places.append((module, name))
    return places


def _check_quantizer(my_quantizer):
    expect_true(callable(my_quantizer), "`my_quantizer` should be a function (z, codebook) -> straight-through output.")
    for case, (n, k, dim) in enumerate(Q5_CASES):
        z, codebook, g = _q5_inputs(n, k, dim, case)
        want, want_grad = _q5_reference(z, codebook, g)
        with library_unavailable(my_quantizer, _argmin_places(), message=NO_ARGMIN):
            out, grad = _q5_call(my_quantizer, z, codebook, g)
        expect_true(out is not ____, "your function still returns ____; complete its last line.")
        if isinstance(out, (tuple, list)):
            raise Incorrect(f"your function returns {len(out)} things; it returns one tensor, the straight-through "
                            f"output of shape ({n}, {dim}) (value q, gradient of the identity), as a Keras layer's "
                            "`call` does.")
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
        with library_unavailable(my_quantizer, _argmin_places(), message=NO_ARGMIN):
            traced = _q5_traced(my_quantizer, z, codebook)
        expect_true(np.allclose(np.asarray(traced, dtype=float), want, rtol=1e-5, atol=1e-5),
                    "your function gives the nearest codes when it runs eagerly but not when traced as a Keras layer "
                    "is (`tf.function`): write every step with `keras.ops`.")
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
    "every row of z to every code (shape (n, K)), the nearest code of every row **without argmin or argmax** (a "
    "one-hot row that is 1 where d equals its row minimum, times the codebook: LiteRT has a builtin ARG_MIN, but "
    "Keras's TensorFlow backend wraps `ops.argmin` and `ops.argmax` on floats in a `signbit` test for -0.0, which "
    "turns into a Flex op in the LiteRT export; the check runs your function with both made unavailable) and returns "
    "the straight-through output: value q, gradient of the identity with respect to z. The check compares your "
    "values with the course's `VectorQuantizer` layer on random inputs, measures the gradient with a "
    "`tf.GradientTape`, and traces your function as a Keras layer is traced (`tf.function`), so NumPy calls on the "
    "tensors fail.",
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
    method="the vector quantizer's forward pass with the straight-through estimator",
)

#: answer cells that differ from ``name = ____``
ANSWER_CELLS = {
    1: "def perplexity(counts):\n"
       "    return ____  # exp(entropy) of the code frequencies counts / counts.sum()\n\n\n"
       "ppl = perplexity(counts)",
    2: "def nearest_code(z, codebook):\n"
       "    # the (n, K) squared distances, then the nearest code of every row\n"
       "    return ____, ____  # idx (shape (n,)), q = codebook[idx] (shape (n, D))\n\n\n"
       "idx, q = nearest_code(z, codebook)",
    3: "def dead_codes(batch_codes, n_codes):\n"
       "    return ____  # the indices of the codes that never occur in batch_codes\n\n\n"
       "dead = dead_codes(batch_codes, n_codes)",
    4: "def vq_losses(z, q, beta):\n"
       "    codebook_loss = ____  # moves the codes towards z (stop the gradient of z)\n"
       "    commitment_loss = ____  # beta times: pulls z towards its code (stop the gradient of q)\n"
       "    return codebook_loss, commitment_loss\n\n\n"
       "codebook_loss, commitment_loss = vq_losses(z_enc, q_code, beta)",
    5: "def my_quantizer(z, codebook):\n"
       "    d = ____  # squared distance of every row of z to every code, shape (n, K)\n"
       "    q = ____  # the nearest code of every row, shape (n, D), without argmin\n"
       "    return ____  # value q, gradient of the identity with respect to z (straight-through)",
}
