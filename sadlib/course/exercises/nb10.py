"""Exercises for notebook 10, the capstone on a metro train's air compressor.

Every question asks for a *function*; the checker calls it on many inputs and compares the result with an
independent computation, then names the typical mistake when they differ:

* Q1 ``forward_chaining(n, n_splits, gap)``: expanding-window cross-validation folds with a gap, against
  :class:`sklearn.model_selection.TimeSeriesSplit`;
* Q2 ``transformer_block(x, d_model, heads, ff_dim)``: a Transformer encoder block from Keras layers, run
  with the learner's own weights and compared with a NumPy forward pass of the block (Vaswani et al.,
  "Attention is all you need", NeurIPS 2017);
* Q3 ``occlusion_drop(score_fn, X, reference)``: the occlusion probe of per-sensor attribution (one sensor
  at a time replaced by its normal value), against a hand-written reference on two score functions;
* Q4 ``lead_times(alarms, events)``: the warning time of the first true alarm before each failure;
* Q6 ``block_means(raw, every)``: the causal resampling step of a feature table, each block's mean labelled at
  the block's end, checked on fresh series and by cutting the future (the answer on the data up to t must equal
  the answer on all the data at t);
* Q5 (mini-project) ``compressor_alarms(train, test)``: features, detector and alarm policy of the
  learner's choice on the compressor twin, checked for event recall on the air leaks, false alarms per
  day and leakage (the decisions before a point may not depend on the test data after it).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from sadlib._runs import true_runs
from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    call_answer,
    expect_true,
    library_unavailable,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

#: the Colab install line installs sadlib[tracking] (Optuna, TensorBoard, W&B), as notebook 10 does
COLAB_EXTRA = "tracking"

#: Q5: days of the twin (the first week is the normal training period), its seed and the goals
Q5_SEED = 10
Q5_TRAIN_DAYS = 7
Q5_MIN_RECALL = 0.8
Q5_MAX_FALSE_PER_DAY = 1.0
#: Q5 is also scored on fresh twins the learner never sees (issue 26: a daily alarm at 12:00 passed the notebook's
#: twin); there the goal is the mean false alarms per day over these twins (the reference gives 1.14 on two of
#: them, 0.89 on average), at most Q5_MAX_FALSE_PER_DAY_ANY on any one
Q5_SCORING_SEEDS = (11, 12, 13, 14)
Q5_MAX_FALSE_PER_DAY_ANY = 1.5
#: on every scoring twin at least this share of the alarm episodes overlaps a failure or its precursor
Q5_MIN_EVENT_PRECISION = 0.7
#: the mean recall over the scoring twins must beat the random line (the same alarms shifted in time) by this much
Q5_RANDOM_MARGIN = 0.1
Q5_RANDOM_SHIFTS = 20
#: Q5: decisions this close before a change of the test data may still move: none (issue 26: no slack)
Q5_CAUSAL_SLACK = pd.Timedelta(0)


def q5_days() -> int:
    """Days of the Q5 twin: three weeks in full mode, two in fast mode (the first is training)."""
    from sadlib.course.modes import choose

    return choose(full=21, fast=14)


#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np
import pandas as pd

from sadlib import signals
from sadlib.environment import import_tensorflow
from sadlib.course.exercises.nb10 import Q5_SEED, Q5_TRAIN_DAYS, q5_days

import_tensorflow()  # TensorFlow's start-up messages stay out of the notebook
import keras
from keras import layers

rng = np.random.default_rng(10)

# Q3: two hours of four compressor channels at 10 s during an alarm, their normal values (medians of a normal
# week) and a detector score (the distance from normal in standard deviations); one sensor is drifting
sensors = ["TP2", "Reservoirs", "Oil_temperature", "Motor_current"]
normal_median = pd.Series([9.2, 9.1, 62.0, 4.1], index=sensors)
normal_std = pd.Series([0.6, 0.5, 3.0, 1.5], index=sensors)
X_alarm = pd.DataFrame(rng.normal(normal_median, normal_std, size=(720, 4)), columns=sensors,
                       index=pd.date_range("2022-03-09 14:00", periods=720, freq="10s"))
X_alarm["Oil_temperature"] += np.linspace(0.0, 12.0, 720)  # the oil heats up


def score_fn(X):
    return np.sqrt((((X - normal_median) / normal_std) ** 2).sum(axis=1)).to_numpy()


# Q4: alarms of one day at 10 s, and two failures with the start of their precursors
index = pd.date_range("2022-03-10", periods=8640, freq="10s")
alarms = pd.Series(False, index=index)
alarms["2022-03-10 03:00":"2022-03-10 03:05"] = True  # a false alarm
alarms["2022-03-10 09:30":"2022-03-10 10:10"] = True
alarms["2022-03-10 18:20":"2022-03-10 18:30"] = True
events = pd.DataFrame({"start": pd.to_datetime(["2022-03-10 12:00", "2022-03-10 18:00"]),
                       "end": pd.to_datetime(["2022-03-10 14:00", "2022-03-10 19:00"]),
                       "precursor_start": pd.to_datetime(["2022-03-10 06:00", "2022-03-10 18:00"])})

# Q6: two hours of two channels at 10 s
raw = pd.DataFrame({"TP3": 9.0 + rng.normal(0.0, 0.3, 720), "Motor_current": rng.gamma(2.0, 2.0, 720)},
                   index=pd.date_range("2022-03-10 06:00", periods=720, freq="10s"))

# Q5: the compressor twin; the first week is normal (training), the rest is the test period
twin = signals.make_compressor(days=q5_days(), seed=Q5_SEED)
channels = list(signals.METROPT3_CHANNELS)
split = twin.data.index[0] + pd.Timedelta(days=Q5_TRAIN_DAYS)
train = twin.data.loc[twin.data.index < split, channels]
test = twin.data.loc[twin.data.index >= split, channels]
test_events = twin.events[twin.events["end"] > split]
print(f"train {len(train)} samples, test {len(test)} samples; failures in the test period:")
print(test_events[["start", "end", "type", "precursor_start"]].to_string())
"""

#: answer cells that differ from ``name = ____``
ANSWER_CELLS = {
    1: "def forward_chaining(n, n_splits, gap):\n"
       "    size = ____  # samples per validation block\n"
       "    folds = []\n"
       "    for i in range(n_splits):\n"
       "        val_start = ____\n"
       "        train_idx = ____  # every sample before the block, except the `gap` samples just before it\n"
       "        val_idx = ____\n"
       "        folds.append((train_idx, val_idx))\n"
       "    return ____",
    2: "def transformer_block(x, d_model, heads, ff_dim):\n"
       "    attention = ____  # layers.MultiHeadAttention(...), self-attention: query and value are both x\n"
       "    x = ____  # residual, then LayerNormalization\n"
       "    ff = ____  # Dense(ff_dim, relu), then Dense(d_model)\n"
       "    return ____  # residual, then LayerNormalization",
    3: "def occlusion_drop(score_fn, X, reference):\n"
       "    base = ____  # the mean score of X as it is\n"
       "    drops = {}\n"
       "    for sensor in X.columns:\n"
       "        occluded = ____  # a copy of X with this sensor's column set to its reference value\n"
       "        drops[sensor] = ____\n"
       "    return ____  # a pandas Series indexed by the sensor names\n"
       "\n"
       "\n"
       "print(occlusion_drop(score_fn, X_alarm, normal_median))",
    4: "def lead_times(alarms, events):\n"
       "    out = {}\n"
       "    for i, event in events.iterrows():\n"
       "        window = ____  # the alarms from event.precursor_start to event.end, both included\n"
       "        out[i] = ____  # event.start - the time of the first alarm in the window, or pd.NaT\n"
       "    return ____  # a pandas Series of Timedelta, indexed like `events`\n"
       "\n"
       "\n"
       "print(lead_times(alarms, events))",
    5: "def compressor_alarms(train, test):\n"
       "    # features (e.g. sadlib.cycles.cycle_features), a detector and an alarm policy, fitted on `train` only\n"
       "    return ____  # one True/False per row of `test`\n"
       "\n"
       "\n"
       "test_alarms = compressor_alarms(train, test)",
    6: "def block_means(raw, every):\n"
       "    # the mean of each column over the blocks (t - every, t], one row per block, labelled t (the block's end)\n"
       "    return ____\n"
       "\n"
       "\n"
       "features_10min = block_means(raw, \"10min\")",
}


def _context() -> dict:
    return setup_namespace(SETUP)


def _library_versions(method: str) -> list:
    """``(module, name)`` of the library functions that do what a "write it yourself" question asks."""
    import sklearn.model_selection

    from sadlib import attribution, metrics, model_selection

    return {"forward_chaining": [(sklearn.model_selection, "TimeSeriesSplit"),
                                 (model_selection, "ForwardChainingSplit")],
            "occlusion_drop": [(attribution, "occlusion")],
            "lead_times": [(metrics, "lead_times")]}[method]


def _call_own(fn, name: str, *args):
    """Call the learner's ``fn`` with the library's own version of the method unavailable."""
    with library_unavailable(fn, _library_versions(name)):
        return call_answer(fn, name, *args)


# --------------------------------------------------------------------------- functions as answers
def _span(idx: np.ndarray) -> str:
    if idx.size == 0:
        return "no samples"
    if idx.size > 1 and np.array_equal(idx, np.arange(idx[0], idx[-1] + 1)):
        return f"samples {idx[0]}..{idx[-1]}"
    shown = idx[:8].tolist()
    return f"samples {shown}" if idx.size <= 8 else f"samples {str(shown)[:-1]}, ...] ({idx.size} in all)"


# --------------------------------------------------------------------------- Q1
def _q1_cases() -> list[tuple[int, int, int]]:
    """``(n, n_splits, gap)`` triples TimeSeriesSplit accepts: gap 0, blocks that do not divide n, tiny blocks."""
    cases = [(20, 3, 2), (10, 4, 1), (100, 5, 0), (101, 4, 7), (12, 2, 0), (12, 2, 3), (7, 6, 0), (50, 2, 5)]
    rng = np.random.default_rng(101)
    for _ in range(24):
        n_splits = int(rng.integers(2, 8))
        n = int(rng.integers(3 * (n_splits + 1), 400))
        size = n // (n_splits + 1)
        gap = int(rng.integers(0, n - n_splits * size)) if rng.random() < 0.8 else 0
        cases.append((n, n_splits, gap))
    return cases


def _tss_folds(n: int, n_splits: int, gap: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import TimeSeriesSplit

    return list(TimeSeriesSplit(n_splits=n_splits, gap=gap).split(np.zeros((n, 1))))


def _as_index(a, what: str) -> np.ndarray:
    arr = np.asarray(a)
    expect_true(arr.ndim == 1, f"{what} should be a 1-D array of sample positions; it has shape {arr.shape}.")
    if arr.dtype == bool:
        raise Incorrect(f"{what} is a boolean mask; return the sample positions, e.g. `np.arange(start, stop)` or "
                        "`np.flatnonzero(mask)`.")
    ok = arr.size == 0 or (arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr))))
    expect_true(ok, f"{what} should hold integer sample positions; it holds {arr.dtype} values such as "
                    f"{arr[:3].tolist()}.")
    return arr.astype(np.int64)


def _folds_of(out, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    if hasattr(out, "__next__"):
        out = list(out)  # a generator, as TimeSeriesSplit.split returns
    expect_true(isinstance(out, (list, tuple)),
                f"`forward_chaining` should return a list of (train_idx, val_idx) pairs; it returned "
                f"{type(out).__name__}.")
    expect_true(len(out) == n_splits, f"with n_splits={n_splits} there should be {n_splits} folds; yours has "
                                      f"{len(out)}.")
    folds = []
    for i, pair in enumerate(out):
        expect_true(isinstance(pair, (list, tuple)) and len(pair) == 2,
                    f"fold {i} should be a pair (train_idx, val_idx); it is {type(pair).__name__}.")
        folds.append((_as_index(pair[0], f"train_idx of fold {i}"), _as_index(pair[1], f"val_idx of fold {i}")))
    return folds


def _check_fold(i: int, train: np.ndarray, val: np.ndarray, want_train: np.ndarray, want_val: np.ndarray,
                n: int, n_splits: int, gap: int, first_train_size: int) -> None:
    where = f"with n={n}, n_splits={n_splits}, gap={gap}, fold {i}"
    common = np.intersect1d(train, val)
    if common.size:
        raise Incorrect(f"{where}: training and validation overlap ({_span(common)} are in both). A sample may be in "
                        "one of them only, or the score measures memory, not detection.")
    if val.size and train.size and train.max() > val.min():
        later = train[train > val.min()]
        raise Incorrect(f"{where}: the training part holds {_span(later)}, later than the validation block starts "
                        f"({val.min()}). That is a shuffled or k-fold split: the model learns from the future it is "
                        "then asked to predict. Train only on samples before the validation block.")
    if val.size > 1 and not np.array_equal(val, np.arange(val.min(), val.max() + 1)):
        raise Incorrect(f"{where}: the validation block is not one stretch of consecutive samples ({_span(val)}); "
                        "it looks shuffled. Validate on the consecutive samples `np.arange(val_start, val_start + "
                        "size)`.")
    if np.array_equal(train, want_train) and np.array_equal(val, want_val):
        return
    size = want_val.size
    if np.array_equal(val, want_val):
        start = int(want_val[0])
        if gap and np.array_equal(train, np.arange(start)):
            raise Incorrect(f"{where}: the gap is missing. Your training part runs up to sample {start - 1}, just "
                            f"before the validation block; leave out the last gap={gap} samples before it "
                            f"(`np.arange(val_start - gap)`), as a window or a rolling feature reaches that far back.")
        if train.size and train.min() == 0 and abs(train.size - (start - gap)) == 1:
            raise Incorrect(f"{where}: your training part stops at sample {train.max()}, one sample "
                            f"{'too late' if train.size > start - gap else 'too early'}: with val_start={start} and "
                            f"gap={gap} it is `np.arange(val_start - gap)`, samples 0..{start - gap - 1}, so that "
                            f"exactly gap={gap} samples lie between training and validation.")
        if train.size and train.min() > 0:
            raise Incorrect(f"{where}: your training part is {_span(train)}: it does not start at sample 0, so the "
                            "window slides instead of expanding. Forward chaining keeps all of the past: train on "
                            "`np.arange(val_start - gap)`.")
        if i > 0 and train.size == first_train_size:
            raise Incorrect(f"{where}: every fold trains on {train.size} samples; the training part should grow "
                            "from fold to fold (an expanding window): all samples up to `val_start - gap`.")
        raise Incorrect(f"{where}: the training part should be {_span(want_train)}; yours is {_span(train)}.")
    if val.size == size + gap and np.array_equal(val[gap:], want_val):
        raise Incorrect(f"{where}: the gap belongs between training and validation, taken from the training part; "
                        "your validation block starts `gap` samples early, so it is too long.")
    if gap and val.size == (n - gap) // (n_splits + 1) != size:
        raise Incorrect(f"{where}: your validation blocks have (n - gap) // (n_splits + 1) = {val.size} samples, the "
                        "default of sadlib.model_selection.ForwardChainingSplit (equal blocks once the gap is taken "
                        f"out). This question follows scikit-learn's TimeSeriesSplit: size = n // (n_splits + 1) = "
                        f"{size} (with ForwardChainingSplit, pass test_size=n // (n_splits + 1)).")
    if val.size == n // n_splits:
        raise Incorrect(f"{where}: your validation block has n // n_splits = {val.size} samples. Split the series "
                        f"into n_splits + 1 = {n_splits + 1} blocks of n // (n_splits + 1) = {size} samples: the first "
                        "one (with the remainder) is only ever trained on.")
    raise Incorrect(f"{where}: the validation block should be {_span(want_val)}; yours is {_span(val)}. The blocks "
                    f"have size = n // (n_splits + 1) = {size} samples and the last one ends at sample n - 1, so "
                    f"block i starts at n - (n_splits - i) * size.")


def _check_forward_chaining(forward_chaining):
    cases = _q1_cases()
    for n, n_splits, gap in cases:
        folds = _folds_of(_call_own(forward_chaining, "forward_chaining", n, n_splits, gap), n_splits)
        want = _tss_folds(n, n_splits, gap)
        if n_splits > 1 and all(np.array_equal(a, c) and np.array_equal(b, d)
                                for (a, b), (c, d) in zip(folds[::-1], want)):
            raise Incorrect(f"with n={n}, n_splits={n_splits}, gap={gap}: your folds are right but in reverse order, "
                            "the latest validation block first. Fold i validates on block i + 1, so the folds run "
                            "forward in time, as the training part grows.")
        first = folds[0][0].size
        for i, ((train, val), (want_train, want_val)) in enumerate(zip(folds, want)):
            _check_fold(i, train, val, want_train, want_val, n, n_splits, gap, first)
    return (f"your folds equal sklearn.model_selection.TimeSeriesSplit(n_splits, gap=gap) on {len(cases)} "
            "(n, n_splits, gap) triples. Each model is judged on data later than everything it was trained on, as "
            "it will be in service. sadlib.model_selection.ForwardChainingSplit adds gaps as durations or from the "
            "window length.")


q1 = FunctionQuestion(
    1,
    "Write `forward_chaining(n, n_splits, gap)`: expanding-window cross-validation for a series of `n` samples. "
    "Cut the series into `n_splits + 1` blocks of `size = n // (n_splits + 1)` samples, the last block ending at "
    "sample n - 1 (the first block takes the remainder). Fold i (0 to n_splits - 1) validates on block i + 1, which "
    "starts at `n - (n_splits - i) * size`, and trains on **every** sample before it except the last `gap` ones. "
    "Return a list of `n_splits` pairs `(train_idx, val_idx)` of integer arrays. The check compares your folds with "
    "scikit-learn's `TimeSeriesSplit(n_splits, gap=gap)` on many (n, n_splits, gap), with `TimeSeriesSplit` and "
    "`sadlib.model_selection.ForwardChainingSplit` unavailable: write it yourself.",
    ("forward_chaining",),
    _check_forward_chaining,
    ["`size = n // (n_splits + 1)`, `val_start = n - (n_splits - i) * size`, "
     "`val_idx = np.arange(val_start, val_start + size)`.",
     "`train_idx = np.arange(0, val_start - gap)`: it starts at 0 in every fold (expanding) and stops `gap` "
     "samples before the validation block.",
     "No shuffling anywhere: the model of fold i must never see a sample later than its validation block."],
    "import numpy as np\n\n\n"
    "def forward_chaining(n, n_splits, gap):\n"
    "    size = n // (n_splits + 1)\n"
    "    folds = []\n"
    "    for i in range(n_splits):\n"
    "        val_start = n - (n_splits - i) * size\n"
    "        train_idx = np.arange(0, val_start - gap)\n"
    "        val_idx = np.arange(val_start, val_start + size)\n"
    "        folds.append((train_idx, val_idx))\n"
    "    return folds",
    setup=_context,
    method="forward-chaining folds",
)


# --------------------------------------------------------------------------- Q2
#: (window, d_model, heads, ff_dim) of the blocks the check builds; ff_dim differs from d_model
Q2_SHAPES = ((24, 16, 4, 32), (10, 12, 3, 20))


def _flat_layers(model) -> list:
    """Every layer in graph order, the layers of nested models (e.g. a Sequential feed-forward part) included."""
    out = []
    for layer in model.layers:
        inner = getattr(layer, "layers", None)
        out += _flat_layers(layer) if inner else [layer]
    return out


def _mha_weights(layer) -> dict[str, np.ndarray]:
    weights = {"/".join(w.path.split("/")[-2:]): np.asarray(w.numpy(), dtype=np.float64) for w in layer.weights}
    out = {}
    for part in ("query", "key", "value", "attention_output"):
        kernel = weights.get(f"{part}/kernel")
        if kernel is None:
            raise Incorrect(f"the MultiHeadAttention layer has no {part} weights; use the layer as Keras defines it.")
        out[part] = kernel
        out[part + "_bias"] = weights.get(f"{part}/bias", np.zeros(kernel.shape[1:] if part != "attention_output"
                                                                   else kernel.shape[-1]))
    return out


def _np_attention(x: np.ndarray, w: dict[str, np.ndarray], *, causal: bool = False) -> np.ndarray:
    """Multi-head self-attention of ``x`` (batch, time, d) with the layer's weights, in NumPy.

    ``causal``: each step attends to itself and the steps before it only (a learner's ``use_causal_mask=True``).
    """
    q = np.einsum("btd,dhk->bthk", x, w["query"]) + w["query_bias"]
    k = np.einsum("btd,dhk->bthk", x, w["key"]) + w["key_bias"]
    v = np.einsum("btd,dhk->bthk", x, w["value"]) + w["value_bias"]
    logits = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(q.shape[-1])
    if causal:
        t = logits.shape[-1]
        logits = np.where(np.tril(np.ones((t, t), dtype=bool)), logits, -np.inf)
    logits -= logits.max(axis=-1, keepdims=True)
    a = np.exp(logits)
    a /= a.sum(axis=-1, keepdims=True)
    o = np.einsum("bhts,bshk->bthk", a, v)
    return np.einsum("bthk,hkd->btd", o, w["attention_output"]) + w["attention_output_bias"]


def _np_layer_norm(x: np.ndarray, layer) -> np.ndarray:
    gamma = np.asarray(layer.gamma.numpy(), dtype=np.float64) if layer.gamma is not None else 1.0
    beta = np.asarray(layer.beta.numpy(), dtype=np.float64) if getattr(layer, "beta", None) is not None else 0.0
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + layer.epsilon) * gamma + beta


def _np_dense(x: np.ndarray, layer, relu: bool) -> np.ndarray:
    kernel = np.asarray(layer.kernel.numpy(), dtype=np.float64)
    bias = np.asarray(layer.bias.numpy(), dtype=np.float64) if layer.bias is not None else 0.0
    y = x @ kernel + bias
    return np.maximum(y, 0.0) if relu else y


def _block_variants(x: np.ndarray, mha, norms: list, dense: list) -> dict[str, np.ndarray]:
    """The right block and typical wrong ones, computed in NumPy with the learner's weights."""
    w = _mha_weights(mha)
    ln1, ln2 = (lambda h: _np_layer_norm(h, norms[0])), (lambda h: _np_layer_norm(h, norms[1]))

    def ff(h, relu=True):
        return _np_dense(_np_dense(h, dense[0], relu), dense[1], False)

    attn = _np_attention(x, w)
    h = ln1(x + attn)
    pre_h = x + _np_attention(ln1(x), w)
    return {
        "right": ln2(h + ff(h)),
        "the attention output has no residual connection: add the block's input before the first "
        "LayerNormalization, `LayerNormalization()(x + attention)`.": ln2(ln1(attn) + ff(ln1(attn))),
        "the feed-forward part has no residual connection: add its input before the second LayerNormalization, "
        "`LayerNormalization()(x + ff)`.": ln2(ff(h)),
        "no residual connection at all: each sub-layer's output is added to its input, `x + sublayer(x)`, before "
        "the normalization.": ln2(ff(ln1(attn))),
        "the second residual adds the block's *input*; it should add the input of the feed-forward part (the "
        "output of the first LayerNormalization).": ln2(x + ff(h)),
        "that is the pre-norm block (LayerNormalization before each sub-layer, as in GPT-2). This question asks for "
        "the original post-norm block: `x = LayerNormalization()(x + attention)`, then "
        "`LayerNormalization()(x + ff)`.": pre_h + ff(ln2(pre_h)),
        "the normalization comes before the residual sum: normalize the *sum*, `LayerNormalization()(x + "
        "attention)`, not `x + LayerNormalization()(attention)`.": (x + ln1(attn)) + ln2(ff(x + ln1(attn))),
        "the first Dense layer of the feed-forward part has no ReLU: `layers.Dense(ff_dim, activation=\"relu\")`; "
        "without it the two Dense layers are one linear map.": ln2(h + ff(h, relu=False)),
        "your attention is causal (`use_causal_mask=True`): each time step sees only the steps before it, as in a "
        "model that generates text. This block encodes a whole window, so every step attends to every other: call "
        "the layer without the mask.": ln2(ln1(x + _np_attention(x, w, causal=True))
                                           + ff(ln1(x + _np_attention(x, w, causal=True)))),
    }


def _check_one_block(transformer_block, window: int, d_model: int, heads: int, ff_dim: int) -> int:
    from sadlib.environment import import_tensorflow

    import_tensorflow()  # quiet start-up when the check runs outside the notebook's setup cell
    import keras
    from keras import layers

    call = f"transformer_block(inputs, {d_model}, {heads}, {ff_dim}) on inputs of shape (None, {window}, {d_model})"
    inputs = keras.Input(shape=(window, d_model))
    outputs = call_answer(transformer_block, "transformer_block", inputs, d_model, heads, ff_dim)
    expect_true(isinstance(outputs, keras.KerasTensor),
                f"{call} should return the block's output tensor (a KerasTensor), not a "
                f"{type(outputs).__name__}: call the layers on x, e.g. `x = layers.LayerNormalization()(x)`, "
                "and `return x`.")
    model = keras.Model(inputs, outputs)
    shape = tuple(model.output_shape)
    expect_true(shape == (None, window, d_model),
                f"{call}: the output should have the input's shape {(None, window, d_model)}, one vector of d_model "
                f"values per time step, so blocks can be stacked; it has {shape}. The last Dense layer of the "
                "feed-forward part has d_model units.")
    flat = _flat_layers(model)
    mhas = [ly for ly in flat if isinstance(ly, layers.MultiHeadAttention)]
    expect_true(len(mhas) == 1, f"{call}: the block should hold one `layers.MultiHeadAttention`; yours has "
                                f"{len(mhas)}.")
    mha = mhas[0]
    expect_true(mha.num_heads == heads, f"{call}: the MultiHeadAttention layer has num_heads={mha.num_heads}; "
                                        f"use the argument: `num_heads=heads` ({heads}).")
    if mha.key_dim != d_model // heads:
        raise Incorrect(f"{call}: key_dim is {mha.key_dim}; split d_model over the heads, `key_dim=d_model // heads` "
                        f"({d_model // heads}), so the block costs about as much as one head of size d_model.")
    norms = [ly for ly in flat if isinstance(ly, layers.LayerNormalization)]
    if any(isinstance(ly, layers.BatchNormalization) for ly in flat):
        raise Incorrect(f"{call}: use `layers.LayerNormalization` (each time step normalized over its d_model "
                        "values), not BatchNormalization, whose statistics depend on the batch.")
    expect_true(len(norms) == 2, f"{call}: the block should have two LayerNormalization layers, one after each "
                                 f"residual sum; yours has {len(norms)}.")
    dense = [ly for ly in flat if isinstance(ly, layers.Dense)]
    units = [ly.units for ly in dense]
    expect_true(units == [ff_dim, d_model],
                f"{call}: the feed-forward part should be two Dense layers, ff_dim={ff_dim} then d_model={d_model} "
                f"units; yours has Dense layers of {units} units.")
    act = getattr(getattr(dense[0], "activation", None), "__name__", "linear")
    if act not in ("relu", "linear"):  # linear: a separate ReLU layer may follow, which the forward pass shows
        raise Incorrect(f"{call}: the first Dense layer of the feed-forward part uses activation={act!r}; this "
                        "block is the original one, with ReLU: `layers.Dense(ff_dim, activation=\"relu\")` (GELU "
                        "is the later BERT/GPT choice).")
    x = np.random.default_rng(window).normal(size=(3, window, d_model)).astype("float32")
    got = np.asarray(model(x, training=False), dtype=np.float64)
    variants = _block_variants(x.astype(np.float64), mha, norms, dense)
    if np.allclose(got, variants["right"], atol=1e-4):
        return model.count_params()
    for message, value in variants.items():
        if message != "right" and np.allclose(got, value, atol=1e-4):
            raise Incorrect(f"{call}: {message}")
    err = float(np.abs(got - variants["right"]).max())
    raise Incorrect(f"{call}: with your own weights, the output differs from the block's (largest difference "
                    f"{err:.3g}). Self-attention is `attention(x, x)`; then `x = LayerNormalization()(x + attention)`; "
                    "then `LayerNormalization()(x + Dense(d_model)(Dense(ff_dim, relu)(x)))`.")


def _check_transformer(transformer_block):
    n_params = [_check_one_block(transformer_block, *shape) for shape in Q2_SHAPES]
    window, d_model, heads, ff_dim = Q2_SHAPES[0]
    return (f"the block's output equals a NumPy forward pass with your weights. With d_model={d_model}, {heads} heads "
            f"and ff_dim={ff_dim} it has {n_params[0]:,} parameters, whatever the window length; "
            "its attention lets every time step of the window look at every other one, which is what the "
            "Transformer autoencoder of the notebook stacks.")


q2 = FunctionQuestion(
    2,
    "Write `transformer_block(x, d_model, heads, ff_dim)` with Keras layers (functional API): `x` is a tensor of "
    "shape (batch, window, d_model). (1) Self-attention: `layers.MultiHeadAttention(num_heads=heads, "
    "key_dim=d_model // heads)` called with x as query and value; add x to its output (residual) and apply "
    "`layers.LayerNormalization()`. (2) Feed-forward: `Dense(ff_dim, activation=\"relu\")` then `Dense(d_model)`; add "
    "its input (residual) and apply a second LayerNormalization. Return the result. The check builds your block "
    "for two shapes and compares its output with a NumPy forward pass that uses your layers' weights.",
    ("transformer_block",),
    _check_transformer,
    ["`attention = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)(x, x)`; "
     "`x = layers.LayerNormalization()(x + attention)` (or `layers.Add()([x, attention])`).",
     "`ff = layers.Dense(ff_dim, activation=\"relu\")(x)`, `ff = layers.Dense(d_model)(ff)`, "
     "`return layers.LayerNormalization()(x + ff)`.",
     "This is the encoder block of Vaswani et al. (2017) with post-norm; the keras.io example "
     "'Timeseries classification with a Transformer model' uses the pre-norm variant, which this check names."],
    "from keras import layers\n\n\n"
    "def transformer_block(x, d_model, heads, ff_dim):\n"
    "    attention = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads)(x, x)\n"
    "    x = layers.LayerNormalization()(x + attention)\n"
    "    ff = layers.Dense(ff_dim, activation=\"relu\")(x)\n"
    "    ff = layers.Dense(d_model)(ff)\n"
    "    return layers.LayerNormalization()(x + ff)",
    setup=_context,
)


# --------------------------------------------------------------------------- Q3
def _occlusion_reference(score_fn, X: pd.DataFrame, reference: pd.Series) -> pd.Series:
    base = float(np.mean(score_fn(X)))
    drops = {}
    for col in X.columns:
        occluded = X.copy()
        occluded[col] = reference[col]
        drops[col] = base - float(np.mean(score_fn(occluded)))
    return pd.Series(drops)


def _occlusion_variants(score_fn, X: pd.DataFrame, reference: pd.Series) -> dict[str, pd.Series]:
    base = float(np.mean(score_fn(X)))
    out: dict[str, dict] = {k: {} for k in ("sign", "cumulative", "keep only", "zero", "own mean", "ratio", "max",
                                            "median", "sum", "by position")}
    cumulative = X.copy()
    for j, col in enumerate(X.columns):
        by_position = X.copy()
        by_position[col] = reference.iloc[j]
        out["by position"][col] = base - float(np.mean(score_fn(by_position)))
        occluded = X.copy()
        occluded[col] = reference[col]
        mean = float(np.mean(score_fn(occluded)))
        out["sign"][col] = mean - base
        out["ratio"][col] = mean / base
        out["max"][col] = float(np.max(score_fn(X))) - float(np.max(score_fn(occluded)))
        out["median"][col] = float(np.median(score_fn(X))) - float(np.median(score_fn(occluded)))
        out["sum"][col] = float(np.sum(score_fn(X))) - float(np.sum(score_fn(occluded)))
        cumulative[col] = reference[col]
        out["cumulative"][col] = base - float(np.mean(score_fn(cumulative)))
        only = X.copy()
        for other in X.columns:
            if other != col:
                only[other] = reference[other]
        out["keep only"][col] = base - float(np.mean(score_fn(only)))
        zero = X.copy()
        zero[col] = 0.0
        out["zero"][col] = base - float(np.mean(score_fn(zero)))
        own = X.copy()
        own[col] = X[col].mean()
        out["own mean"][col] = base - float(np.mean(score_fn(own)))
    return {k: pd.Series(v) for k, v in out.items()}


_OCCLUSION_MISTAKES = {
    "sign": "the sign is reversed. The drop is the score of X as it is minus the score with the sensor occluded; it is "
            "large and positive for the sensor that makes the alarm.",
    "cumulative": "the occlusions add up: you change X itself, so when you reach the second sensor the first one is "
                  "still replaced. Start every sensor from a fresh copy, `occluded = X.copy()`.",
    "keep only": "you replaced every sensor *except* the one at hand. Occlusion replaces the sensor at hand only and "
                 "keeps the others as they are.",
    "zero": "you set the sensor to 0. Replace it by its normal value, `reference[sensor]`: zero is far from normal "
            "for a pressure or a temperature, so it raises the score instead of removing the sensor's fault.",
    "own mean": "you replaced the sensor by its own mean over X, which still carries the fault. Use its normal "
                "value, `reference[sensor]`.",
    "ratio": "you returned a ratio of scores. Return the drop, `base - occluded_mean`, in score units.",
    "max": "you compared the largest scores; compare the *mean* scores, so every row of X counts.",
    "median": "you compared the median scores; compare the *mean* scores, so every row of X counts (an alarm's "
              "rows are few, and a median ignores the most abnormal ones).",
    "by position": "you took the reference values by position (`reference.iloc[j]`, `reference.to_numpy()[j]`); "
                   "`reference` is indexed by sensor name and need not list the sensors in X's column order. Look "
                   "each one up by name: `reference[sensor]`.",
    "sum": "you compared the summed scores; compare the *mean* scores, so the drop does not grow with the length of "
           "the alarm and drops of different alarms can be compared.",
}


def _q3_cases() -> list[tuple[str, object, pd.DataFrame, pd.Series, str]]:
    """``(description, score_fn, X, reference, faulty sensor)``."""
    rng = np.random.default_rng(103)
    sensors = ["TP2", "Reservoirs", "Oil_temperature", "Motor_current", "DV_pressure"]
    median = pd.Series([9.2, 9.1, 62.0, 4.1, 0.1], index=sensors)
    std = pd.Series([0.6, 0.5, 3.0, 1.5, 0.2], index=sensors)
    index = pd.date_range("2022-04-02 08:00", periods=360, freq="10s")

    def z_norm(X):
        return np.sqrt((((X - median) / std) ** 2).sum(axis=1)).to_numpy()

    X1 = pd.DataFrame(rng.normal(median, std, (360, 5)), columns=sensors, index=index)
    X1["Motor_current"] += np.linspace(0.0, 6.0, 360)

    # a PCA detector on correlated sensors: TP2 and Reservoirs follow one pressure; a leak breaks the pair
    t = rng.normal(size=(2000, 1))
    normal = np.column_stack([t[:, 0], t[:, 0] + 0.05 * rng.normal(size=2000), rng.normal(size=2000),
                              0.5 * t[:, 0] + 0.2 * rng.normal(size=2000)])
    cols = ["TP2", "Reservoirs", "Oil_temperature", "Motor_current"]
    mu = normal.mean(axis=0)
    _, _, vt = np.linalg.svd(normal - mu, full_matrices=False)
    basis = vt[:2].T

    def pca_error(X):
        z = np.asarray(X, dtype=float) - mu
        return ((z - z @ basis @ basis.T) ** 2).sum(axis=1)

    # listed in another order than X's columns: a value must be looked up by the sensor's name, not by position
    ref2 = pd.Series(np.median(normal, axis=0), index=cols)[["Motor_current", "Oil_temperature", "TP2", "Reservoirs"]]
    t2 = rng.normal(size=(240, 1))
    X2 = pd.DataFrame(np.column_stack([t2[:, 0], t2[:, 0] + 0.05 * rng.normal(size=240), rng.normal(size=240),
                                       0.5 * t2[:, 0] + 0.2 * rng.normal(size=240)]), columns=cols)
    X2["Reservoirs"] -= 1.5  # the reservoir loses pressure the TP2 reading does not show
    return [("a z-score distance", z_norm, X1, median, "Motor_current"),
            ("a PCA reconstruction error", pca_error, X2, ref2, "Reservoirs")]


#: Q3: drops computed in float32 (a learner's scorer or copy in float32) agree to this relative tolerance
Q3_RTOL = 1e-4


def _drops_of(out, X: pd.DataFrame) -> pd.Series:
    if isinstance(out, dict):  # {sensor: drop}: the same answer as pd.Series(drops)
        out = pd.Series(out, dtype=object)
    if isinstance(out, np.ndarray) or (isinstance(out, list) and len(out) == X.shape[1]):
        raise Incorrect("return a pandas Series indexed by the sensor names, e.g. `pd.Series(drops)` from a dict "
                        "{sensor: drop}, so the drops keep their sensor.")
    expect_true(isinstance(out, pd.Series), f"`occlusion_drop` should return a pandas Series (sensor -> drop); it "
                                            f"returned a {type(out).__name__}.")
    missing = [c for c in X.columns if c not in out.index]
    expect_true(not missing and len(out) == X.shape[1],
                f"the Series should have one entry per sensor of X, indexed by its name ({list(X.columns)}); yours "
                f"is indexed by {list(out.index)[:8]}.")
    values = pd.to_numeric(out, errors="coerce")
    expect_true(values.notna().all(), "every drop should be a number; yours holds "
                                      f"{out[values.isna()].tolist()[:3]}.")
    return values.astype(float)


def _check_occlusion(occlusion_drop):
    lines = []
    for what, score_fn, X, reference, faulty in _q3_cases():
        got = _drops_of(_call_own(occlusion_drop, "occlusion_drop", score_fn, X, reference), X)
        want = _occlusion_reference(score_fn, X, reference)
        if np.allclose(got[want.index], want, rtol=Q3_RTOL, atol=1e-6):
            top = got.idxmax()
            expect_true(top == faulty, f"the largest drop should point at {faulty}; yours at {top}.")
            lines.append(f"with {what} the top sensor is {faulty} (drop {want[faulty]:.3g})")
            continue
        for kind, value in _occlusion_variants(score_fn, X, reference).items():
            if np.allclose(got[value.index], value, rtol=Q3_RTOL, atol=1e-6):
                raise Incorrect(f"with {what}: {_OCCLUSION_MISTAKES[kind]}")
        worst = (got[want.index] - want).abs().idxmax()
        raise Incorrect(f"with {what}: the drop of {worst} should be {want[worst]:.4g}, yours is {got[worst]:.4g}. "
                        "drop = mean score of X - mean score of X with that one sensor set to reference[sensor].")
    return "; ".join(lines) + (". Occlusion asks the detector itself which sensor it reacts to; it costs one scoring "
                               "pass per sensor.")


q3 = FunctionQuestion(
    3,
    "Write `occlusion_drop(score_fn, X, reference)`: `X` is a DataFrame (rows = time, columns = sensors), "
    "`score_fn(X)` returns one score per row, and `reference` is a pandas Series with a normal value per sensor. "
    "For each sensor, replace its column of (a copy of) X by `reference[sensor]`, score, and compute the drop "
    "`mean score of X - mean score with that sensor occluded`. Return a pandas Series of the drops indexed by the "
    "sensor names. The check compares your drops with a hand-made reference on two detectors where the faulty "
    "sensor is known, with `sadlib.attribution.occlusion` unavailable: write it yourself.",
    ("occlusion_drop",),
    _check_occlusion,
    ["`base = np.mean(score_fn(X))`; inside the loop `occluded = X.copy()` and `occluded[sensor] = "
     "reference[sensor]`.",
     "`drops[sensor] = base - np.mean(score_fn(occluded))`; `return pd.Series(drops)`.",
     "A fresh copy for every sensor: occlusions must not add up."],
    "import numpy as np\nimport pandas as pd\n\n\n"
    "def occlusion_drop(score_fn, X, reference):\n"
    "    base = np.mean(score_fn(X))\n"
    "    drops = {}\n"
    "    for sensor in X.columns:\n"
    "        occluded = X.copy()\n"
    "        occluded[sensor] = reference[sensor]\n"
    "        drops[sensor] = base - np.mean(score_fn(occluded))\n"
    "    return pd.Series(drops)\n"
    "\n"
    "\n"
    "print(occlusion_drop(score_fn, X_alarm, normal_median))",
    setup=_context,
    method="occlusion attribution",
)


# --------------------------------------------------------------------------- Q4
def _lead_reference(alarms: pd.Series, events: pd.DataFrame, *, lo: str = "precursor_start", hi: str = "end",
                    closed_end: bool = True, last: bool = False, origin: str = "start",
                    sign: int = 1) -> pd.Series:
    out = {}
    times = alarms.index[np.asarray(alarms, dtype=bool)]
    for i, ev in events.iterrows():
        start = ev[lo] if lo else times.min() if len(times) else ev["start"]
        inside = times[(times >= start) & ((times <= ev[hi]) if closed_end else (times < ev[hi]))]
        if not len(inside):
            out[i] = pd.NaT
            continue
        t = inside.max() if last else inside.min()
        out[i] = sign * (ev[origin] - t)
    return pd.Series(out, index=events.index, dtype="timedelta64[ns]")


def _lead_variants(alarms: pd.Series, events: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        "the sign is reversed: lead time = failure start - first alarm, positive when the warning came before the "
        "failure.": _lead_reference(alarms, events, sign=-1),
        "you measured from the precursor's start; the lead time is counted back from the failure's `start`, the "
        "time maintenance has to act.": _lead_reference(alarms, events, origin="precursor_start"),
        "you counted alarms before `precursor_start`. Nothing has happened yet then: those are false alarms, not "
        "warnings of this failure. Look from `precursor_start` on.": _lead_reference(alarms, events, lo=""),
        "you only looked for alarms inside the failure interval [start, end]. An alarm during the precursor is the "
        "early warning the capstone is after: look from `precursor_start` on.":
            _lead_reference(alarms, events, lo="start"),
        "an alarm at exactly `end` is still inside the failure: `end` is the failure's last timestamp (inclusive, as "
        "in sadlib.signals), so use `<= end`.": _lead_reference(alarms, events, closed_end=False),
        "you took the *last* alarm in the window; the lead time belongs to the first one.":
            _lead_reference(alarms, events, last=True),
    }


def _q4_cases() -> list[tuple[pd.Series, pd.DataFrame]]:
    index = pd.date_range("2022-05-01", periods=3 * 8640, freq="10s")
    a = pd.Series(False, index=index)
    a["2022-05-01 01:00":"2022-05-01 01:10"] = True  # a false alarm before the first precursor
    a["2022-05-01 08:00":"2022-05-01 08:20"] = True  # 2 h after the precursor: lead 4 h
    a["2022-05-01 11:00":"2022-05-01 11:30"] = True  # a later alarm of the same failure
    a["2022-05-01 17:30":"2022-05-01 17:40"] = True  # no precursor; 30 min into the failure: lead -30 min
    a[pd.Timestamp("2022-05-02 06:00")] = True  # exactly at the end of the third failure: lead -2 h
    a[pd.Timestamp("2022-05-02 10:00")] = True  # exactly at a precursor's start
    a["2022-05-02 20:00":"2022-05-03 02:00"] = True  # a standing alarm from before a precursor into the failure
    events = pd.DataFrame({
        "start": pd.to_datetime(["2022-05-01 12:00", "2022-05-01 17:00", "2022-05-02 04:00", "2022-05-02 14:00",
                                 "2022-05-03 01:00", "2022-05-03 12:00"]),
        "end": pd.to_datetime(["2022-05-01 13:00", "2022-05-01 19:00", "2022-05-02 06:00", "2022-05-02 15:00",
                               "2022-05-03 03:00", "2022-05-03 13:00"]),
        "precursor_start": pd.to_datetime(["2022-05-01 06:00", "2022-05-01 17:00", "2022-05-02 03:00",
                                           "2022-05-02 10:00", "2022-05-02 22:00", "2022-05-03 10:00"]),
        "type": ["air_leak", "sensor_fault", "air_leak", "oil_leak", "air_leak", "air_leak"]},
        index=pd.RangeIndex(6))  # the last failure has no alarm at all: missed
    cases = [(a, events)]
    rng = np.random.default_rng(104)
    for k in range(3):  # random alarms; each failure's window starts after the previous failure ends
        idx = pd.date_range("2022-06-01", periods=2 * 8640, freq="10s")
        b = pd.Series(rng.random(len(idx)) < 0.0005, index=idx)
        rows, t = [], idx[0] + pd.Timedelta("1h")
        for _ in range(4):
            pre = t + pd.Timedelta(minutes=int(rng.integers(10, 120)))
            start = pre + pd.Timedelta(minutes=int(rng.integers(0, 480)))
            t = start + pd.Timedelta(minutes=int(rng.integers(20, 180)))
            rows.append((start, t, pre))
        ev = pd.DataFrame(rows, columns=["start", "end", "precursor_start"],
                          index=pd.Index([f"F{k}{j}" for j in range(4)]))
        cases.append((b, ev))
    return cases


def _leads_of(out, events: pd.DataFrame) -> pd.Series:
    if isinstance(out, (np.ndarray, list)):
        raise Incorrect("return a pandas Series indexed like `events` (one lead time per failure), e.g. "
                        "`pd.Series(out)` from a dict {event index: lead time}.")
    expect_true(isinstance(out, pd.Series), f"`lead_times` should return a pandas Series; it returned a "
                                            f"{type(out).__name__}.")
    expect_true(len(out) == len(events) and set(out.index) == set(events.index),
                f"one lead time per failure, indexed like `events` ({list(events.index)}); yours is indexed by "
                f"{list(out.index)[:8]}.")
    out = out[events.index]
    if out.dtype.kind in "iuf" or out.dtype == object and out.map(lambda v: isinstance(v, (int, float))).all():
        raise Incorrect("your lead times are numbers; return durations (pandas Timedelta, e.g. `event.start - t`) "
                        "and pd.NaT for a missed failure, so hours and minutes cannot be mixed up.")
    try:
        return pd.to_timedelta(out)
    except (TypeError, ValueError):
        raise Incorrect("every lead time should be a pandas Timedelta (or pd.NaT for a missed failure); yours holds "
                        f"{out.tolist()[:3]}.") from None


def _equal_leads(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise: both NaT, or the same duration (whatever the time resolution)."""
    a, b = a.astype("timedelta64[ns]"), b.astype("timedelta64[ns]")
    return ((a.isna() & b.isna()) | (a == b)).to_numpy()


def _same_leads(a: pd.Series, b: pd.Series) -> bool:
    return bool(_equal_leads(a, b).all())


def _check_lead_times(lead_times):
    for alarms, events in _q4_cases():
        got = _leads_of(_call_own(lead_times, "lead_times", alarms, events), events)
        want = _lead_reference(alarms, events)
        if _same_leads(got, want):
            continue
        zero_missed = want.isna() & (got == pd.Timedelta(0))
        if zero_missed.any():
            raise Incorrect(f"failure {zero_missed.idxmax()!r} has no alarm from its precursor to its end, so its "
                            "lead time is pd.NaT (missed), not 0 (which would mean an alarm right at the start).")
        for message, value in _lead_variants(alarms, events).items():
            if _same_leads(got, value):
                raise Incorrect(message)
        caught = ~want.isna().to_numpy()
        for i in events.index[~caught] if _equal_leads(got, want)[caught].all() else []:
            ev = events.loc[i]
            window = alarms.index[(alarms.index >= ev["precursor_start"]) & (alarms.index <= ev["end"])]
            if len(window) and not pd.isna(got[i]) and got[i] == ev["start"] - window[0]:
                raise Incorrect(f"failure {i!r} has no alarm from its precursor to its end, yet your lead time is "
                                f"{got[i]}: the start minus the window's *first* timestamp. That is what `idxmax` "
                                "(or `argmax`) returns on a window that is all False; test `window.any()` first and "
                                "give pd.NaT to a missed failure.")
        i = events.index[int(np.argmax(~_equal_leads(got, want)))]
        ev = events.loc[i]
        raise Incorrect(f"failure {i!r} (precursor from {ev['precursor_start']}, failure {ev['start']} to "
                        f"{ev['end']}): the lead time should be {want[i]}, yours is {got[i]}.")
    leads = _lead_reference(*_q4_cases()[0])
    shown = ", ".join("missed" if pd.isna(v) else f"{v / pd.Timedelta(hours=1):+.1f} h" for v in leads)
    return (f"on the constructed days the lead times are {shown}: an early warning, a failure caught 30 minutes late "
            "(a negative lead), one caught at its very last timestamp, an alarm right at the precursor's start, a "
            "standing alarm that counts from the precursor's start, and a miss. sadlib.metrics.lead_times computes "
            "the same, and also keeps a window from reaching back into an earlier failure.")


q4 = FunctionQuestion(
    4,
    "Write `lead_times(alarms, events)`: `alarms` is a boolean pandas Series indexed by timestamps, `events` a "
    "DataFrame of failures with the Timestamp columns `start`, `end` (the failure's last timestamp, inclusive as in "
    "`sadlib.signals`) and `precursor_start`. For each failure, the first alarm in `[precursor_start, end]` (both "
    "included) is its first true alarm, and the lead time is `start` minus "
    "that alarm's time (positive: a warning before the failure; negative: caught only after it began). Return a "
    "pandas Series of Timedelta indexed like `events`, with `pd.NaT` for a failure without any alarm in that window. "
    "The check compares with hand-computed lead times on a constructed day and on random alarms, with "
    "`sadlib.metrics.lead_times` unavailable: write it yourself.",
    ("lead_times",),
    _check_lead_times,
    ["`window = alarms[(alarms.index >= event.precursor_start) & (alarms.index <= event.end)]`; the alarm times are "
     "`window.index[window.to_numpy()]`.",
     "`out[i] = event.start - times[0] if len(times) else pd.NaT`; "
     "`return pd.Series(out, dtype=\"timedelta64[ns]\")`."],
    "import pandas as pd\n\n\n"
    "def lead_times(alarms, events):\n"
    "    out = {}\n"
    "    for i, event in events.iterrows():\n"
    "        window = alarms[(alarms.index >= event.precursor_start) & (alarms.index <= event.end)]\n"
    "        times = window.index[window.to_numpy(dtype=bool)]\n"
    "        out[i] = event.start - times[0] if len(times) else pd.NaT\n"
    "    return pd.Series(out, index=events.index, dtype=\"timedelta64[ns]\")\n"
    "\n"
    "\n"
    "print(lead_times(alarms, events))",
    setup=_context,
    method="lead times",
)


# --------------------------------------------------------------------------- Q5 (mini-project)
@functools.lru_cache(maxsize=2)
def _twin(days: int, seed: int):
    from sadlib import signals

    twin = signals.make_compressor(days=days, seed=seed)
    channels = list(signals.METROPT3_CHANNELS)
    data = twin.data
    split = data.index[0] + pd.Timedelta(days=Q5_TRAIN_DAYS)
    train = data.loc[data.index < split, channels]
    test = data.loc[data.index >= split, channels]
    events = twin.events[twin.events["end"] > split].reset_index(drop=True)
    return train, test, events


def _q5_data():
    """``(train, test, test events)`` of the Q5 twin (copies: a learner's function may change them)."""
    train, test, events = _twin(q5_days(), Q5_SEED)
    return train.copy(), test.copy(), events.copy()


def _truth(index: pd.DatetimeIndex, events: pd.DataFrame) -> np.ndarray:
    """True from each failure's precursor to its end: an alarm there is a true alarm."""
    y = np.zeros(len(index), dtype=bool)
    for ev in events.itertuples():
        y |= (index >= ev.precursor_start) & (index <= ev.end)
    return y


def _alarms_of(out, test: pd.DataFrame) -> np.ndarray:
    arr = np.asarray(out)
    expect_true(arr.shape == (len(test),), f"`compressor_alarms` should return one decision per row of `test` "
                                           f"({len(test)}), but it returned shape {arr.shape}.")
    if isinstance(out, pd.Series):
        expect_true(out.index.equals(test.index), "the returned Series should be indexed like `test` (one decision "
                                                  "per row, same timestamps).")
    if arr.dtype != bool:
        ok = arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all()
        expect_true(ok, "`compressor_alarms` should return True/False (or 0/1) per row; it returned values such as "
                        f"{np.unique(arr)[:5].tolist()}. Scores need a threshold and an alarm policy.")
    return arr.astype(bool)


def _q5_score(alarms: np.ndarray, test: pd.DataFrame, events: pd.DataFrame) -> dict:
    from sadlib.metrics import false_alarms_per_day

    air = events[events["type"] == "air_leak"]
    found, leads = [], []
    for ev in air.itertuples():
        times = test.index[alarms & (test.index >= ev.precursor_start) & (test.index <= ev.end)]
        found.append(len(times) > 0)
        if len(times):
            leads.append((ev.start - times[0]) / pd.Timedelta(hours=1))
    y = _truth(test.index, events)
    return {"recall": float(np.mean(found)) if found else float("nan"), "n_air": len(found),
            "n_found": int(np.sum(found)), "fa_per_day": false_alarms_per_day(y, alarms, index=test.index),
            "lead_hours": leads}


def _event_precision(alarms: np.ndarray, y: np.ndarray) -> float:
    """The share of alarm episodes that overlap a failure or its precursor (1.0 without alarms)."""
    eps = true_runs(alarms)
    return float(np.mean([y[a:b].any() for a, b in eps])) if eps else 1.0


def _random_recall(alarms: np.ndarray, test: pd.DataFrame, events: pd.DataFrame, seed: int) -> float:
    """The mean air-leak recall of the same alarms shifted in time by random offsets (same count and lengths)."""
    from sadlib.metrics import shifted_alarms_baseline

    line = shifted_alarms_baseline(_truth(test.index, events), alarms, n_shifts=Q5_RANDOM_SHIFTS, seed=seed,
                                   metric=lambda _y, shifted: _q5_score(shifted, test, events)["recall"])
    return float(line["mean"])


def _score_on_fresh_twins(compressor_alarms) -> str:
    """Score the answer on twins the learner never sees; raise :class:`Incorrect` below the goals."""
    rows, recalls, randoms, fas = [], [], [], []
    for seed in Q5_SCORING_SEEDS:
        train, test, events = (x.copy() for x in _twin(q5_days(), seed))
        alarms = _alarms_of(call_answer(compressor_alarms, "compressor_alarms", train, test), test)
        s = _q5_score(alarms, test, events)
        precision = _event_precision(alarms, _truth(test.index, events))
        random = _random_recall(alarms, test, events, seed)
        rows.append(f"twin {seed}: {s['n_found']}/{s['n_air']} air leaks, {s['fa_per_day']:.2f} false alarms per day, "
                    f"event precision {precision:.2f}, random line {random:.2f}")
        if s["n_air"] and s["recall"] < Q5_MIN_RECALL:
            raise Incorrect(f"on a fresh twin (seed {seed}) your alarms find {s['n_found']} of {s['n_air']} air "
                            f"leaks; the goal is a recall of at least {Q5_MIN_RECALL} there too. Tuned to the "
                            "notebook's twin?")
        if precision < Q5_MIN_EVENT_PRECISION:
            raise Incorrect(f"on a fresh twin (seed {seed}) only {precision:.0%} of your alarm episodes overlap a "
                            f"failure or its precursor; the goal is at least {Q5_MIN_EVENT_PRECISION:.0%}. Alarms on "
                            "a timetable (every day at noon) find long precursors by chance: the random line of the "
                            "same alarms shifted in time does as well.")
        if s["fa_per_day"] > Q5_MAX_FALSE_PER_DAY_ANY:
            raise Incorrect(f"on a fresh twin (seed {seed}) {s['fa_per_day']:.2f} false alarms per day; the goal is "
                            f"at most {Q5_MAX_FALSE_PER_DAY_ANY:g} on any twin and {Q5_MAX_FALSE_PER_DAY:g} on "
                            "average.")
        recalls.append(s["recall"])
        randoms.append(random)
        fas.append(s["fa_per_day"])
    if np.mean(fas) > Q5_MAX_FALSE_PER_DAY:
        raise Incorrect(f"over the fresh twins {np.mean(fas):.2f} false alarms per day on average; the goal is at most "
                        f"{Q5_MAX_FALSE_PER_DAY:g}. ({'; '.join(rows)})")
    if np.mean(recalls) < np.mean(randoms) + Q5_RANDOM_MARGIN:
        raise Incorrect(f"over the fresh twins your recall ({np.mean(recalls):.2f}) does not beat the random line, "
                        f"the same alarms shifted in time ({np.mean(randoms):.2f}), by {Q5_RANDOM_MARGIN}: your alarms "
                        "find the air leaks no better than chance would with alarms of the same number and lengths.")
    return "; ".join(rows)


def _quiet_point(test: pd.DataFrame, events: pd.DataFrame) -> pd.Timestamp:
    """A whole hour near the middle of the test period, an hour or more from every failure and its precursor."""
    y = _truth(test.index, events)
    middle = test.index[0] + (test.index[-1] - test.index[0]) / 2
    for k in range(0, 24 * 14):
        for t in (middle.floor("h") + pd.Timedelta(hours=k), middle.floor("h") - pd.Timedelta(hours=k)):
            i = test.index.searchsorted(t)
            if 0 < i < len(test) and not y[max(i - 360, 0):i + 360].any():
                return test.index[i]
    return middle


def _alarm_point(alarms: np.ndarray, test: pd.DataFrame, events: pd.DataFrame) -> pd.Timestamp:
    """Half an hour after the first alarm of the first air leak (on the 10-minute grid).

    Look-ahead shows there: a smoothing window that reaches past the cut, an alarm back-dated to the
    start of a run that the cut shortens, or a statistic of the test period whose largest values (the
    failures) lie after the cut.
    """
    ev = events[events["type"] == "air_leak"].iloc[0]
    times = test.index[alarms & (test.index >= ev["precursor_start"]) & (test.index <= ev["end"])]
    first = times[0] if len(times) else ev["precursor_start"] + (ev["start"] - ev["precursor_start"]) / 2
    return min((first + pd.Timedelta("30min")).floor("10min"), test.index[-1])


def _same_before(compressor_alarms, train, changed, alarms, cut, what: str) -> None:
    """Raise leakage unless the decisions on ``changed`` equal ``alarms`` before ``cut`` (less the slack)."""
    got = _alarms_of(call_answer(compressor_alarms, "compressor_alarms", train, changed), changed)
    early = changed.index < cut - Q5_CAUSAL_SLACK
    moved = np.flatnonzero(got[early] != alarms[:len(changed)][early])
    if moved.size:
        raise Incorrect(f"leakage: {what}, {moved.size} of your decisions before {cut} change (first at "
                        f"{changed.index[moved[0]]}). A decision at time t may use `train` and the test data up to t "
                        "only: no statistics of the whole test period (mean, percentile, maximum, min-max scaling), "
                        "no centred windows, no alarm back-dated to the start of a run. If your detector is random "
                        "(a neural network), fix its seeds so that the same data gives the same decisions.")


def _check_compressor(compressor_alarms):
    train, test, events = _q5_data()
    expect_true(callable(compressor_alarms), "`compressor_alarms` should be a function; define it with "
                                             "`def compressor_alarms(train, test):`.")
    alarms = _alarms_of(call_answer(compressor_alarms, "compressor_alarms", train, test), test)
    s = _q5_score(alarms, test, events)
    if s["n_air"] and s["recall"] < Q5_MIN_RECALL:
        raise Incorrect(f"your alarms find {s['n_found']} of the {s['n_air']} air leaks of the test period (counting "
                        f"alarms from each precursor's start to the failure's end); the goal is a recall of at least "
                        f"{Q5_MIN_RECALL}. Air leaks show in the cycles: the pressure falls faster while idle, so the "
                        "compressor loads more often (cycle_features' cycle duration, duty cycle, decay rate).")
    if s["fa_per_day"] > Q5_MAX_FALSE_PER_DAY:
        raise Incorrect(f"{s['fa_per_day']:.2f} false alarms per day (alarm onsets outside every precursor and "
                        f"failure, a standing alarm re-counted every hour); the goal is at most "
                        f"{Q5_MAX_FALSE_PER_DAY:g}. Raise the threshold, require persistence (k-of-n, minimum "
                        "duration) or smooth the score.")
    # leakage 1: the test period cut half an hour after the first alarm of the first air leak
    cut = _alarm_point(alarms, test, events)
    _same_before(compressor_alarms, train, test[test.index < cut], alarms, cut,
                 f"called with the test period cut at {cut} (during the first air leak)")
    # leakage 1b: cut a few minutes after the first alarm onsets and around the first alarm ends, at several points
    # (a centred window, a shift or a backward fill reads a few minutes ahead: no decision before a cut may change,
    # with no slack)
    steps = np.diff(np.concatenate([[False], alarms, [False]]).astype(int))
    onsets = test.index[np.flatnonzero(steps == 1)]
    ends = test.index[np.minimum(np.flatnonzero(steps == -1), len(test) - 1)]
    cuts = [(t + pd.Timedelta(d), f"{d} after an alarm onset") for t in onsets[:2] for d in ("5min", "15min")]
    cuts += [(t - pd.Timedelta(d), f"{d} before an alarm ends") for t in ends[:2] for d in ("5min", "15min")]
    # just after an alarm ends: a score that reads ahead ends its alarm early, because it already sees the drop
    cuts += [(t + pd.Timedelta(d), f"{d} after an alarm ended") for t in ends[:2] for d in ("5min", "15min")]
    for c, where in cuts:
        if test.index[0] < c < test.index[-1]:
            _same_before(compressor_alarms, train, test[test.index < c], alarms, c,
                         f"called with the test period cut at {c}, {where}")
    # leakage 2: the analog test channels doubled from a quiet point on (far from every failure)
    quiet = _quiet_point(test, events)
    scaled = test.copy()
    analog = [c for c in scaled.columns if scaled[c].nunique() > 2]
    after = scaled.index >= quiet
    scaled.loc[after, analog] = 2.0 * scaled.loc[after, analog]
    _same_before(compressor_alarms, train, scaled, alarms, quiet,
                 f"with the analog test channels doubled from {quiet} on")
    fresh = _score_on_fresh_twins(compressor_alarms)
    leads = ", ".join(f"{h:+.1f} h" for h in s["lead_hours"])
    return (f"{s['n_found']} of {s['n_air']} air leaks found (lead times {leads} before the failure) with "
            f"{s['fa_per_day']:.2f} false alarms per day, and your decisions do not depend on test data later than "
            f"themselves. On fresh twins you never saw: {fresh}.")


q5 = FunctionQuestion(
    5,
    "Mini-project. Write `compressor_alarms(train, test)` that returns one True/False alarm decision per row of "
    "`test`. `train` is the first, normal week of the compressor twin and `test` the weeks after it (the 15 "
    "MetroPT-3 channels, no labels). Choose features (`sadlib.cycles.cycle_features` is allowed), a detector and an "
    "alarm policy, all fitted on `train` only. The goals: an event recall of at least 0.8 on the air leaks of the "
    "test period (an alarm from a leak's precursor to its end finds it) with at most 1 false alarm per day. The "
    "checker also calls your function on the test period cut short and with the test data scaled after a point: "
    "decisions before that point must not change (no leakage). Then it scores your function on four fresh twins "
    "you never see: recall at least 0.8 on each, at least 70 % of the alarm episodes on a failure or its "
    "precursor, at most 1 false alarm per day on average (1.5 on any), and a recall that beats the random line "
    "(the same alarms shifted in time) by 0.1.",
    ("compressor_alarms",),
    _check_compressor,
    ["Start from the cycles: an air leak makes the pressure fall faster while the compressor idles, so load/idle "
     "cycles get shorter and more frequent days before the failure.",
     "Fit the detector and the threshold on features of `train` only; a threshold from `test` is leakage.",
     "Make every feature causal (computed from the past, labelled at the end of its block), then hold the alarm with "
     "a minimum duration or k-of-n (notebook 08) to cut false alarms."],
    "import pandas as pd\n"
    "\n"
    "from sadlib import cycles\n"
    "from sadlib.alarms import AlarmPolicy\n"
    "\n"
    "\n"
    "def compressor_alarms(train, test):\n"
    "    # causal features every 10 min from the cycles that ended in the past hour (train comes before test)\n"
    "    features = cycles.cycle_features(pd.concat([train, test]), window=\"1h\")\n"
    "    warm = train.index[0] + pd.Timedelta(\"1D\")  # the first day fills the features' 24-hour windows\n"
    "    fit = features[(features.index >= warm) & (features.index < test.index[0])]\n"
    "\n"
    "    def slot(index):  # weekday or weekend, hour of the day: the service pattern of the air use\n"
    "        return (index.day_of_week >= 5) * 100 + index.hour\n"
    "\n"
    "    decay = \"idle_decay_bar_per_min\"  # how fast the pressure falls while idle: air use + leaks\n"
    "    usual = fit[decay].groupby(slot(fit.index)).median()  # the normal air use at that hour\n"
    "    excess = features[decay] - usual.reindex(slot(features.index)).to_numpy()\n"
    "    score = excess.rolling(\"3h\").median()  # the extra air lost, smoothed over the past 3 hours\n"
    "    normal = score[fit.index]\n"
    "    # above 1.25 times the highest normal value for an hour (6 steps of 10 min)\n"
    "    policy = AlarmPolicy(threshold=1.25 * float(normal.max()), min_duration=6).fit(normal.to_numpy())\n"
    "    alarms = pd.Series(policy.predict(score.to_numpy()), index=score.index)\n"
    "    # each test sample takes the last decision made at or before it (grid times end their 10-minute block)\n"
    "    return alarms.reindex(test.index, method=\"ffill\").fillna(False).to_numpy(dtype=bool)\n"
    "\n"
    "\n"
    "test_alarms = compressor_alarms(train, test)",
    setup=_context,
)



# --------------------------------------------------------------------------- Q6 causal block means
def _q6_cases() -> list[tuple[pd.DataFrame, str]]:
    """Fresh series: 10-s and 1-min sampling, a start off the block grid, a gap, blocks of 10 min, 1 h and 15 min."""
    rng = np.random.default_rng(106)
    cases = []
    for start, freq, n, every in (("2022-05-01 06:00:00", "10s", 1500, "10min"),
                                  ("2022-05-02 07:03:20", "10s", 2000, "10min"),
                                  ("2022-05-03 00:00:30", "1min", 600, "1h"),
                                  ("2022-05-04 12:07:00", "30s", 900, "15min")):
        index = pd.date_range(start, periods=n, freq=freq)
        frame = pd.DataFrame({"TP3": 9.0 + rng.normal(0.0, 0.3, n), "Motor_current": rng.gamma(2.0, 2.0, n)},
                             index=index)
        if every == "1h":
            frame = frame.drop(frame.index[200:330])  # over two hours without data: the 04:00-05:00 block is empty
        cases.append((frame, every))
    return cases


def _block_reference(raw: pd.DataFrame, every: str, *, closed: str = "right", label: str = "right") -> pd.DataFrame:
    return raw.resample(every, closed=closed, label=label).mean()


def _as_frame(out, raw: pd.DataFrame, every: str) -> pd.DataFrame:
    expect_true(isinstance(out, pd.DataFrame), f"`block_means` should return a pandas DataFrame (one row per block, "
                                               f"one column per channel); it returned {type(out).__name__}.")
    expect_true(isinstance(out.index, pd.DatetimeIndex), "the rows should be indexed by the blocks' end times (a "
                                                         "DatetimeIndex).")
    expect_true(list(out.columns) == list(raw.columns), f"the columns should be those of `raw` "
                                                        f"({list(raw.columns)}); yours are {list(out.columns)}.")
    return out


def _same_blocks(got: pd.DataFrame, want: pd.DataFrame) -> bool:
    got, want = got.dropna(how="all"), want.dropna(how="all")
    # float32 means (a learner's float32 copy of raw) agree to about 1e-7 relative; 1e-5 leaves room
    return got.index.equals(want.index) and np.allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-5,
                                                        atol=1e-8)


def _check_block_means(block_means):
    for raw, every in _q6_cases():
        got = _as_frame(call_answer(block_means, "block_means", raw, every), raw, every)
        want = _block_reference(raw, every)
        if _same_blocks(got, want):
            # look-ahead: the answer on the data up to a cut equals the full answer at every row labelled before it
            step = pd.Timedelta(every)
            for frac in (0.3, 0.55, 0.8):
                cut = raw.index[int(frac * len(raw))] + step / 3  # inside a block
                part = _as_frame(call_answer(block_means, "block_means", raw[raw.index <= cut], every), raw, every)
                early = part.index[part.index <= cut]
                if not (part.loc[early].equals(got.loc[early]) or np.allclose(part.loc[early].to_numpy(float),
                                                                               got.loc[early].to_numpy(float),
                                                                               equal_nan=True)):
                    raise Incorrect(f"leakage: with the data cut at {cut}, your rows up to {cut} change. A row "
                                    "labelled t may use the samples up to t only.")
            continue
        if _same_blocks(got, _block_reference(raw, every, closed="left", label="left")):
            raise Incorrect(f"with every={every!r}: your row labelled t averages the block [t, t + every), which "
                            "lies *after* t: that is pandas' default `resample(every)` (label at the block's start), "
                            "and a detector reading that row at t reads the future (leakage). Label each block at "
                            "its end: `raw.resample(every, closed=\"right\", label=\"right\").mean()`.")
        if _same_blocks(got, _block_reference(raw, every, closed="right", label="left")):
            raise Incorrect(f"with every={every!r}: your row labelled t averages the block (t, t + every], which "
                            "lies *after* t: `closed=\"right\"` without `label=\"right\"` labels each block at its "
                            "start, so a detector reading that row at t reads the future (leakage). Add "
                            "`label=\"right\"`.")
        empty = want.index[want.isna().all(axis=1)]
        filled = got.index.intersection(empty)
        if len(filled) and got.loc[filled].notna().any(axis=None) and _same_blocks(got.drop(filled), want):
            raise Incorrect(f"with every={every!r}: the block ending at {filled[0]} holds no sample, so it has no mean "
                            "(NaN; you may also leave its row out), but yours holds values: a forward fill (or an "
                            "interpolation) carries old readings into a block with no data, and a detector would take "
                            "a dead sensor for a live one. Leave the empty blocks NaN.")
        if _same_blocks(got, _block_reference(raw, every, closed="left", label="right")):
            raise Incorrect(f"with every={every!r}: your blocks are [t - every, t): they hold the sample at the "
                            "block's start and leave out the one at its end, t. The task's blocks are (t - every, t]: "
                            "`closed=\"right\"` as well as `label=\"right\"`.")
        centred = raw.rolling(every, center=True).mean()
        if got.index.isin(raw.index).all() and np.allclose(got.to_numpy(float), centred.loc[got.index].to_numpy(float),
                                                           equal_nan=True):
            raise Incorrect(f"with every={every!r}: a centred rolling mean reads half a block ahead (leakage). Average "
                            "each block (t - every, t] and label it t.")
        got_rows, want_rows = got.dropna(how="all").index, want.dropna(how="all").index
        if not got_rows.equals(want_rows):
            missing, extra = want_rows.difference(got_rows), got_rows.difference(want_rows)
            what = []
            if len(missing):
                what.append(f"the blocks ending at {list(missing[:3].astype(str))} have data, but your answer has no "
                            f"values there ({len(missing)} in all)")
            if len(extra):
                what.append(f"your rows labelled {list(extra[:3].astype(str))} are not the ends of blocks with data "
                            f"({len(extra)} in all)")
            if not what:
                what.append("your rows are not in time order, one per block")
            raise Incorrect(f"with every={every!r}: one row per block (t - every, t] that holds data, labelled t on "
                            f"the clock grid of `every`; " + "; ".join(what) + ".")
        worst = (got.loc[want.dropna(how="all").index] - want.dropna(how="all")).abs().max().idxmax()
        raise Incorrect(f"with every={every!r}: the block means of {worst} differ from the mean of each block "
                        "(t - every, t].")
    return (f"your block means equal the right-closed, right-labelled means on {len(_q6_cases())} fresh series "
            "(blocks off the clock grid, a gap, 10 s to 1 min sampling), and cutting the data never changes a row "
            "labelled before the cut: every feature row is known at its timestamp, as `cycles.cycle_features` "
            "makes it.")


q6 = FunctionQuestion(
    6,
    "Write `block_means(raw, every)`, the causal resampling step of a feature table: `raw` is a DataFrame of sensor "
    "channels with a DatetimeIndex, `every` a pandas duration such as \"10min\". Return a DataFrame with one row "
    "per block (t - every, t] of the clock grid (the sample at t included, the one at t - every not) and the mean "
    "of each channel over it, labelled t, the block's *end*, so that the row at t uses data up to t only. The "
    "check uses fresh series and cuts the future: the answer on the data up to a time must equal your answer on "
    "all the data at every row labelled before that time.",
    ("block_means",),
    _check_block_means,
    ["pandas' `resample` has two settings for this: which side of a block is closed, and which side labels it.",
     "`raw.resample(every, closed=\"right\", label=\"right\").mean()`; the default (left, left) labels a block "
     "by its start, so its row at t holds data from after t."],
    "def block_means(raw, every):\n"
    "    return raw.resample(every, closed=\"right\", label=\"right\").mean()\n"
    "\n"
    "\n"
    "features_10min = block_means(raw, \"10min\")\n"
    "print(features_10min.head(3))",
    setup=_context,
    method="causal resampling (block means labelled at the block's end)",
)
