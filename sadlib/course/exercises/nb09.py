"""Exercises for notebook 09: why a dynamic-batch LSTM export needs Flex ops, the int8 size goal, a threshold for
the quantized model that the test week cannot move, and three methods the learner writes, each checked by
behaviour with ``sadlib``'s own version unavailable: the min-duration alarm rule (Q4, cut-the-future probe), an
int8 export with TensorFlow's converter API and a representative dataset (Q5), and running a ``.tflite`` file with
the LiteRT interpreter to check its parity with Keras (Q6, on windows generated inside the check)."""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from pathlib import Path

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    call_answer,
    expect_close,
    expect_true,
    fmt_distinct,
    library_unavailable,
    percentile_bounds,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

#: the extra a Colab session installs for these exercises (LiteRT and ONNX)
COLAB_EXTRA = "edge"

WINDOW, N_SENSORS = 24, 4

#: file sizes in bytes of three exported models (float32 and full int8 LiteRT files)
SIZES = {
    "dense_ae": {"float32": 28_668, "int8": 14_088},
    "lstm_ae_unrolled": {"float32": 161_776, "int8": 265_128},
    "dense_512_128": {"float32": 930_476, "int8": 273_240},
}
GOAL = 0.40
Q5_STEPS = 8  # the tiny model of Q5 takes windows of 8 steps x 4 sensors, flattened

#: the setup cell's first part (NumPy only): the data of Q2 and Q3
SETUP_DATA = """\
import numpy as np

# Q2: file sizes in bytes of three exported LiteRT models, float32 and full int8
sizes = {
    "dense_ae": {"float32": 28_668, "int8": 14_088},
    "lstm_ae_unrolled": {"float32": 161_776, "int8": 265_128},
    "dense_512_128": {"float32": 930_476, "int8": 273_240},
}

# Q3: scores of a Keras model and of its int8 LiteRT file on the clean validation week and on the test week
rng = np.random.default_rng(9)
keras_val = rng.lognormal(-6, 0.4, 700)
keras_test = rng.lognormal(-6, 0.4, 2500)
keras_test[1200:1300] *= 20  # an anomaly
edge_val = keras_val * 1.25 + rng.normal(0, 2e-4, 700).clip(0)      # quantization adds error of its own
edge_test = keras_test * 1.25 + rng.normal(0, 2e-4, 2500).clip(0)
keras_threshold = np.percentile(keras_val, 99.9)
"""

#: the setup cell's second part: a tiny trained dense autoencoder for Q5 (a few seconds)
SETUP_MODEL = """\

# Q5: a tiny dense autoencoder of windows of 8 steps x 4 sensors (flattened to 32 values), trained on normal data
from sadlib import signals
from sadlib.environment import import_tensorflow

tf = import_tensorflow()  # TensorFlow without its start-up messages (import it before keras)
import keras

keras.utils.set_random_seed(0)
pump = signals.make_normal(n_days=2, freq="10min", seed=1)[list(signals.SENSORS)].to_numpy()
lo, hi = pump[:200].min(axis=0), pump[:200].max(axis=0)  # the scaler sees the training part only
scaled = ((pump - lo) / (hi - lo)).astype(np.float32)


def flat_windows(x, steps=8):
    return np.stack([x[i:i + steps].ravel() for i in range(len(x) - steps + 1)])


train_windows, test_windows = flat_windows(scaled[:200]), flat_windows(scaled[200:])
model = keras.Sequential([keras.Input(shape=(32,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(8, activation="relu"), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(32)])
model.compile(optimizer="adam", loss="mse")
history = model.fit(train_windows, train_windows, epochs=40, batch_size=32, verbose=0)
"""

#: the setup cell of the exercise notebook, also used by the tests
SETUP = SETUP_DATA + SETUP_MODEL


def _context() -> dict:
    """The NumPy part of the setup (questions 1 to 4)."""
    return setup_namespace(SETUP_DATA)


@functools.lru_cache(maxsize=1)
def _full_namespace() -> dict:
    namespace: dict = {}
    exec(SETUP, namespace)
    return namespace


def _full_context() -> dict:
    """The whole setup, the Q5 model included (trained once per process)."""
    return dict(_full_namespace())


#: how this notebook's checks call the learner's functions (the checks pass copies themselves;
#: warnings are shown)
_CALL = dict(copy=False, quiet=False)


# --------------------------------------------------------------------------- Q1
CHOICES = {
    "a": "LSTM layers have no LiteRT builtin op at all, so every LSTM needs Flex ops.",
    "b": "Keras runs the LSTM as a WHILE loop; with an open (None) batch the converter cannot lower the loop's "
         "tensor lists to builtin ops and falls back to TensorFlow kernels (Flex ops).",
    "c": "The weights are float32; only an int8 model can use builtin ops.",
    "d": "The model was trained on a GPU, and GPU kernels are exported as Flex ops.",
}


def _check_flex(reason, input_shape):
    r = str(reason).strip().lower().strip("()")
    expect_true(r in CHOICES, f"`reason` should be one of the letters {', '.join(CHOICES)}; got {reason!r}.")
    if r == "a":
        raise Incorrect("LiteRT has builtin ops for everything an LSTM step computes; a fixed-batch (or unrolled) "
                        "LSTM converts with builtin ops only. What changes when the batch is open?")
    if r == "c":
        raise Incorrect("float32 models use builtin ops all the time (the float32 dense file has none). Quantization "
                        "is unrelated to Flex ops.")
    if r == "d":
        raise Incorrect("where a model was trained does not matter: the export traces the model's graph again.")
    try:
        shape = tuple(None if s is None else int(s) for s in input_shape)
    except TypeError as err:
        raise Incorrect(f"`input_shape` should be a tuple such as (a, b, c); got {input_shape!r}.") from err
    if shape == (None, WINDOW, N_SENSORS):
        raise Incorrect("that is the open batch Keras's export uses, the cause of the Flex ops. Fix the batch size.")
    if shape == (WINDOW, N_SENSORS):
        raise Incorrect("the signature includes the batch axis first: how many windows does one call take?")
    if shape == (1, WINDOW * N_SENSORS):
        raise Incorrect("that is the flattened input of the dense autoencoder; the LSTM takes windows as sequences.")
    if shape == (1, N_SENSORS, WINDOW):
        raise Incorrect("time comes before sensors: (batch, window, n_sensors).")
    expect_true(shape == (1, WINDOW, N_SENSORS),
                f"one window of {WINDOW} steps of {N_SENSORS} sensors per call: (batch, window, n_sensors); "
                f"got {shape}.")
    return "with every size known, the converter lowers the loop to builtin ops; edge.export_litert does this."


q1 = FunctionQuestion(
    1,
    "Keras's `model.export(path, format=\"litert\")` of the LSTM autoencoder (windows of 24 steps, 4 sensors) writes "
    "a file with Flex ops that a device runtime cannot run. Set `reason` to the letter of the right explanation "
    "(print `CHOICES` from `sadlib.course.exercises.nb09` to see them: a, b, c or d) and `input_shape` to the input "
    "signature, batch axis included, of an export that avoids it, for one window per call.",
    ("reason", "input_shape"),
    _check_flex,
    ["`from sadlib.course.exercises.nb09 import CHOICES; print(CHOICES)`. Section 2 of the lesson: what is None in "
     "the shape of Keras's export?",
     "A streaming detector scores one window per call: batch 1, then window steps, then sensors."],
    "reason = \"b\"\n"
    "input_shape = (1, 24, 4)",
    setup=_context,
)


# --------------------------------------------------------------------------- Q2
def _check_ratio(ratio, goal_met):
    expect_true(isinstance(ratio, dict), "`ratio` should be a dict {model name: int8 size / float32 size}.")
    expect_true(set(ratio) == set(SIZES), f"`ratio` should have one entry per model: {sorted(SIZES)}.")
    want = {k: v["int8"] / v["float32"] for k, v in SIZES.items()}
    got = {k: float(v) for k, v in ratio.items()}
    if all(np.isclose(got[k], 1 / want[k]) for k in SIZES):
        raise Incorrect("that is float32 / int8; the goal is about int8 as a share of float32: int8 / float32.")
    if all(np.isclose(got[k], 100 * want[k]) for k in SIZES):
        raise Incorrect("give the ratios as fractions (0.5), not percentages (50).")
    for k in SIZES:
        expect_close(got[k], want[k], what=f"`ratio[{k!r}]`")
    right = all(r <= GOAL for r in want.values())
    expect_true(isinstance(goal_met, (bool, np.bool_)), "`goal_met` should be True or False.")
    if bool(goal_met) != right:
        worst = max(want, key=want.get)
        raise Incorrect(f"the goal is int8 <= 40 % of float32 for *every* model; {worst} has "
                        f"{want[worst]:.0%}.")
    return (f"int8 is {want['lstm_ae_unrolled']:.0%} of float32 for the unrolled tiny LSTM (the tensor names, "
            f"scales and zero points of 24 unrolled steps outweigh its few thousand weights) and "
            f"{want['dense_512_128']:.0%} for the wide model.")


q2 = FunctionQuestion(
    2,
    "The goal: every full-int8 file is at most 40 % of the size of its float32 file. From `sizes` (bytes), compute "
    "`ratio`, a dict {model name: int8 size / float32 size}, and set `goal_met` to True or False.",
    ("ratio", "goal_met"),
    _check_ratio,
    ["`{name: s[\"int8\"] / s[\"float32\"] for name, s in sizes.items()}`",
     "`all(r <= 0.40 for r in ratio.values())`"],
    "ratio = {name: s[\"int8\"] / s[\"float32\"] for name, s in sizes.items()}\n"
    "goal_met = all(r <= 0.40 for r in ratio.values())",
    setup=_context,
)


# --------------------------------------------------------------------------- Q3
def _q3_scores():
    ns = _context()
    return ns["keras_val"], ns["keras_test"], ns["edge_val"], ns["edge_test"], ns["keras_threshold"]


def _threshold(recalibrate, val_scores, test_scores) -> float:
    t = call_answer(recalibrate, "recalibrate", val_scores.copy(), test_scores.copy(), **_CALL)
    try:
        t = float(np.asarray(t).item())
    except (TypeError, ValueError) as err:
        raise Incorrect(f"`recalibrate` should return one number, the threshold; it returned {t!r}.") from err
    expect_true(np.isfinite(t), f"`recalibrate` returned {t}; the threshold should be a finite number.")
    return t


def _check_recalibrated(recalibrate, agreement):
    keras_val, keras_test, edge_val, edge_test, keras_threshold = _q3_scores()
    expect_true(callable(recalibrate), "`recalibrate` should be a function (val_scores, test_scores) -> threshold.")
    t = _threshold(recalibrate, edge_val, edge_test)
    # behaviour: a threshold must not move when only the test week changes
    rng = np.random.default_rng(0)
    planted = edge_test.copy()
    planted[500:520] = 1000 * edge_test.max()
    changes = {"an extreme anomaly planted in them": planted,
               "their samples shuffled": rng.permutation(edge_test),
               "other scores in their place": rng.lognormal(-5, 1.0, len(edge_test))}
    for what, changed in changes.items():
        moved = _threshold(recalibrate, edge_val, changed)
        if not np.isclose(moved, t, rtol=1e-9, atol=0):
            raise Incorrect(f"leakage: your threshold moved from {t:.4g} to {moved:.4g} when only the test scores "
                            f"changed ({what}). The test week is what is judged; the threshold comes from the edge "
                            f"model's validation scores alone, `val_scores`.")
    # and it must follow the validation scores
    doubled = _threshold(recalibrate, 2 * edge_val, edge_test)
    if np.isclose(doubled, t, rtol=1e-9, atol=0):
        if np.isclose(t, keras_threshold):
            raise Incorrect("that is the Keras threshold. The int8 model's scores sit higher; give it a threshold "
                            "from its own validation scores, `val_scores`.")
        raise Incorrect(f"your threshold stayed at {t:.4g} when the validation scores doubled: it does not come from "
                        f"`val_scores` (the Keras validation scores, `keras_val`, or a fixed number?). Compute it from "
                        f"`val_scores`, the edge model's own.")
    lo, hi = percentile_bounds(edge_val, 99.9)
    if not lo <= t <= hi:  # any percentile definition of the 99.9th, not the 99th, not the maximum
        for q in (99.0, 99.5, 100.0):
            qlo, qhi = percentile_bounds(edge_val, q)
            if qlo <= t <= qhi:
                name = "the maximum" if q == 100.0 else f"the {q:g}th percentile"
                raise Incorrect(f"that is {name} of `val_scores`; the rule for Keras, which the task asks for, is "
                                "the 99.9th percentile: `np.percentile(val_scores, 99.9)`.")
        raise Incorrect(f"your threshold is {fmt_distinct(t, float(np.percentile(edge_val, 99.9)))}; take it from "
                        "`val_scores` with the same rule as for Keras, the 99.9th percentile "
                        f"({fmt_distinct(float(np.percentile(edge_val, 99.9)), t)}).")
    # and it must be the rule itself: fresh validation scores of another shape and length, where the 99.9th
    # percentile lies well below the maximum (5000 scores) and far from a rescaled Keras threshold
    fresh = np.random.default_rng(909).gamma(2.0, 0.01, 5000)
    t_fresh = _threshold(recalibrate, fresh, edge_test)
    lo, hi = percentile_bounds(fresh, 99.9)
    if not lo <= t_fresh <= hi:
        if np.isclose(t_fresh, fresh.max()):
            raise Incorrect("that is the maximum of `val_scores`. With 700 validation scores the maximum and the "
                            "99.9th percentile are neighbours; on 5000 fresh validation scores they differ. The rule "
                            "for Keras is the 99.9th percentile: `np.percentile(val_scores, 99.9)`.")
        raise Incorrect(f"on fresh validation scores (5000 of them, another distribution) your threshold is "
                        f"{fmt_distinct(t_fresh, float(np.percentile(fresh, 99.9)))}, their 99.9th percentile "
                        f"{fmt_distinct(float(np.percentile(fresh, 99.9)), t_fresh)}: your rule only resembles it on "
                        "this data (a rescaled Keras threshold?). Apply the Keras rule to `val_scores` itself.")
    right = float(np.mean((keras_test > keras_threshold) == (edge_test > t)))
    expect_true(not _is_text(agreement), "`agreement` should be a number between 0 and 1.")
    a = float(agreement)
    if np.isclose(a, 100 * right):
        raise Incorrect("give the agreement as a fraction between 0 and 1, not in percent.")
    before = float(np.mean((keras_test > keras_threshold) == (edge_test > keras_threshold)))
    if np.isclose(a, before) and not np.isclose(before, right):
        raise Incorrect("that is the agreement with the Keras threshold on both sides; compare the Keras decisions "
                        "with the edge decisions at `edge_threshold`.")
    expect_close(a, right, what="`agreement`", rtol=0, atol=1e-9)
    return (f"agreement {before:.2%} with the Keras threshold, {right:.2%} after recalibration; and your threshold "
            f"stayed put when the test scores changed.")


def _is_text(value) -> bool:
    return isinstance(value, (str, bytes))


q3 = FunctionQuestion(
    3,
    "The int8 file's scores (`edge_val`, `edge_test`) sit higher than the Keras scores (`keras_val`, `keras_test`), "
    "so the Keras threshold (`keras_threshold`, the 99.9th percentile of `keras_val`) is wrong for it. A deployment "
    "script receives the edge model's scores on the clean validation week and on the test week. Write "
    "`recalibrate(val_scores, test_scores)`, returning the edge model's threshold with the same rule as for Keras; "
    "the checker calls it again with the test scores changed, and the threshold must not move. Then set "
    "`agreement`, the share of test samples on which the Keras decisions (`keras_test > keras_threshold`) and the "
    "edge decisions (`edge_test > edge_threshold`) are the same.",
    ("recalibrate", "agreement"),
    _check_recalibrated,
    ["The rule for Keras was `np.percentile(keras_val, 99.9)`: the validation scores only. `test_scores` is passed "
     "in, but the scores being judged never choose the threshold.",
     "`return np.percentile(val_scores, 99.9)`; then "
     "`np.mean((keras_test > keras_threshold) == (edge_test > edge_threshold))`"],
    "def recalibrate(val_scores, test_scores):\n"
    "    return np.percentile(val_scores, 99.9)  # the validation week only; test_scores stay unused\n\n\n"
    "edge_threshold = recalibrate(edge_val, edge_test)\n"
    "agreement = float(np.mean((keras_test > keras_threshold) == (edge_test > edge_threshold)))",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
def _q4_cases():
    rng = np.random.default_rng(4)
    cases = [(np.array([0, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2], float), 1.0, 3),
             (np.array([2.0, 2.0]), 1.0, 3),
             (np.array([1.0, 1.0, 2.0]), 1.0, 1),
             (np.array([2.0, 0.5, 2.0, 2.0]), 1.0, 2)]
    cases += [(rng.random(200), 0.4, d) for d in (1, 2, 4, 7)]
    return cases


def _min_duration_places():
    from sadlib import alarms, streaming
    from sadlib.alarms import _core, _rules

    # min_duration_alarms, and the library's rules that give the same decisions (k of n with k = n, run lengths)
    return [(streaming, "min_duration_alarms"), (alarms, "min_duration_alarms"), (_rules, "min_duration_alarms"),
            (alarms, "k_of_n_alarms"), (_core, "_min_duration"), (_core, "_run_length"), (_core, "_k_of_n")]


def _check_min_duration(my_alarms):
    from sadlib.streaming import min_duration_alarms

    expect_true(callable(my_alarms), "`my_alarms` should be a function (scores, threshold, min_duration) -> alarms.")
    for scores, thr, d in _q4_cases():
        want = min_duration_alarms(scores, thr, d)
        with library_unavailable(my_alarms, _min_duration_places()):
            got = call_answer(my_alarms, "my_alarms", scores.copy(), thr, d, **_CALL)
        got = np.asarray(got)
        expect_true(got.shape == want.shape, f"for {len(scores)} scores return {len(scores)} decisions; got shape "
                                             f"{got.shape}.")
        got = got.astype(bool)
        if np.array_equal(got, want):
            continue
        if np.array_equal(got, scores > thr) and d > 1:
            raise Incorrect(f"with min_duration={d} your function is plain `scores > threshold`: an alarm must wait "
                            f"for {d} scores in a row above the threshold.")
        if np.array_equal(got, min_duration_alarms(scores, np.nextafter(thr, -np.inf), d)):
            raise Incorrect("a score equal to the threshold counts as above in your function; use a strict `>`.")
        runs_back = _backdated(scores > thr, d)
        if np.array_equal(got, runs_back):
            raise Incorrect("your alarms cover the whole run, including its first min_duration - 1 samples. At those "
                            "times nobody knows yet that the run will last: the alarm starts at its "
                            "min_duration-th sample.")
        if d > 1 and np.array_equal(got, _centred(scores > thr, d)):
            raise Incorrect(f"look-ahead: your window of {d} scores is centred on t, so the alarm at t reads "
                            f"{(d - 1) // 2} score(s) after t. The window must end at t: the scores "
                            "t - min_duration + 1 to t.")
        first = int(np.argmax(got != want))
        raise Incorrect(f"for scores {np.round(scores[:12], 2).tolist()}{'...' if len(scores) > 12 else ''}, "
                        f"threshold {thr}, min_duration {d}: first wrong decision at position {first} "
                        f"(yours {bool(got[first])}, expected {bool(want[first])}).")
    # look-ahead: the decisions up to t must not change when the scores after t are cut off
    scores, thr, d = _q4_cases()[-1]
    with library_unavailable(my_alarms, _min_duration_places()):
        full = np.asarray(call_answer(my_alarms, "my_alarms", scores.copy(), thr, d, **_CALL)).astype(bool)
        for t in (17, 60, 123, 199):
            cut = np.asarray(call_answer(my_alarms, "my_alarms", scores[:t].copy(), thr, d, **_CALL)).astype(bool)
            if cut.shape != (t,) or not np.array_equal(cut, full[:t]):
                raise Incorrect(f"look-ahead: your decisions before t = {t} change when the scores after t are cut "
                                "off. An alarm at t may use the scores up to t only.")
    return "it matches sadlib.streaming.min_duration_alarms, the rule the StreamingScorer applies live."


def _centred(above, d):
    """A centred window of d samples all above (pandas ``rolling(d, center=True)``): reads (d - 1) // 2 ahead."""
    out = np.zeros_like(above)
    for t in range(len(above)):
        hi = t + (d - 1) // 2 + 1
        lo = hi - d
        if lo >= 0 and hi <= len(above):
            out[t] = above[lo:hi].all()
    return out


def _backdated(above, d):
    out = np.zeros_like(above)
    i = 0
    while i < len(above):
        if above[i]:
            j = i
            while j < len(above) and above[j]:
                j += 1
            if j - i >= d:
                out[i:j] = True
            i = j
        else:
            i += 1
    return out


q4 = FunctionQuestion(
    4,
    "Write `my_alarms(scores, threshold, min_duration)`: `alarm[t]` is True when the scores at "
    "`t - min_duration + 1, ..., t` are all strictly above `threshold` (an alarm starts at the min_duration-th score "
    "in a row above the threshold and ends at the first score at or below it). Return a boolean array. Write it "
    "yourself: the check runs it with `sadlib`'s `min_duration_alarms` unavailable, on scores you have not seen, and "
    "cuts the scores at several times to make sure no decision reads ahead.",
    ("my_alarms",),
    _check_min_duration,
    ["Walk through the scores keeping `run`, the number of scores in a row above the threshold up to t; reset it "
     "to 0 at a score at or below the threshold.",
     "`alarm[t] = run >= min_duration`."],
    "import numpy as np\n\n\n"
    "def my_alarms(scores, threshold, min_duration):\n"
    "    alarms, run = np.zeros(len(scores), dtype=bool), 0\n"
    "    for t, s in enumerate(scores):\n"
    "        run = run + 1 if s > threshold else 0\n"
    "        alarms[t] = run >= min_duration\n"
    "    return alarms",
    setup=_context,
    method="minimum-duration alarm rule",
)



# --------------------------------------------------------------------------- Q5
Q5_TOLERANCE = {"correlation": 0.98, "median_relative": 0.10}


@contextlib.contextmanager
def _quiet():
    """No converter chatter: C++ lines on file descriptor 2, Python warnings and stderr writes."""
    from sadlib.environment import silenced_stderr

    with silenced_stderr(), warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _q5_scores(buffer: bytes, windows: np.ndarray) -> np.ndarray:
    """Reconstruction MSE of every window, run one window per call through the LiteRT file."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_content=buffer)
        with _quiet():
            interpreter.allocate_tensors()
    except RuntimeError as err:
        raise Incorrect(f"the LiteRT interpreter cannot run the file ({str(err).splitlines()[0][:160]}). Calibrate "
                        f"on the normal windows passed in, `windows`: `yield [w[None]]` for each.") from err
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scores = np.empty(len(windows))
    for i, w in enumerate(windows):
        interpreter.set_tensor(inp["index"], w[None].astype(np.float32))
        interpreter.invoke()
        scores[i] = np.mean((interpreter.get_tensor(out["index"])[0] - w) ** 2)
    return scores


def _check_export(export_int8):
    from sadlib import edge

    expect_true(callable(export_int8), "`export_int8` should be a function (model, windows) -> bytes.")
    ns = _full_namespace()
    model, train_windows, test_windows = ns["model"], ns["train_windows"], ns["test_windows"]
    n_in = train_windows.shape[1]
    with _quiet(), library_unavailable(export_int8, [(edge, "export_litert")]):
        buffer = call_answer(export_int8, "export_int8", model, train_windows.copy(), **_CALL)
    if isinstance(buffer, (str, Path)):
        raise Incorrect("return the file's bytes, `converter.convert()`, not a path (write them to a file "
                        "separately if you need one).")
    expect_true(isinstance(buffer, (bytes, bytearray)),
                f"`export_int8` should return the bytes of `converter.convert()`; it returned a "
                f"{type(buffer).__name__}.")
    buffer = bytes(buffer)
    try:
        codes = edge._operator_codes(buffer)
    except ValueError as err:
        raise Incorrect(f"those bytes are not a LiteRT (.tflite) file: {err}") from err
    custom = sorted({name for name, is_custom in codes if is_custom})
    if custom:
        raise Incorrect(f"the file contains Flex or custom ops {custom}: a device runtime cannot run them. Export "
                        f"with a fixed batch-1 input_signature and builtin ops only.")
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=buffer)
    ops = interpreter._get_ops_details()  # before allocate_tensors: the file's own ops, not the delegate's
    tensors = interpreter.get_tensor_details()
    dtype = {t["index"]: np.dtype(t["dtype"]) for t in tensors}
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    signature = [int(s) for s in inp["shape_signature"]]
    if signature != [1, n_in]:
        if signature and signature[0] == -1:
            raise Incorrect(f"the file's batch axis is open ({signature}, -1 = None); a streaming device runs one "
                            f"window per call: export with input_signature=[tf.TensorSpec((1, {n_in}), tf.float32)].")
        raise Incorrect(f"the file's input has shape {signature}; the model takes one window of {n_in} values: "
                        f"[1, {n_in}].")
    if np.dtype(inp["dtype"]) != np.float32 or np.dtype(out["dtype"]) != np.float32:
        raise Incorrect(f"the file's input is {np.dtype(inp['dtype'])} and its output {np.dtype(out['dtype'])}; keep "
                        f"both float32 (leave converter.inference_input_type and inference_output_type at their "
                        f"default) so that the scoring code around the model does not change.")
    activations = {dtype[i] for op in ops if op["op_name"] not in ("QUANTIZE", "DEQUANTIZE") for i in op["outputs"]}
    if activations != {np.dtype(np.int8)}:
        if any(d == np.int16 for d in activations):
            raise Incorrect("the activations are int16 (int16x8); int8 was asked: "
                            "supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8].")
        if any(d == np.int8 for d in dtype.values()):
            raise Incorrect(f"the weights are int8 but the ops compute in {sorted(map(str, activations))}: that is "
                            f"dynamic-range quantization. Give the converter a representative_dataset of normal "
                            f"windows (and supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]) so that the "
                            f"activations are int8 too.")
        raise Incorrect("the file has no int8 tensor: it is a float32 file. Set converter.optimizations = "
                        "[tf.lite.Optimize.DEFAULT] and give it a representative_dataset.")
    keras_scores = np.mean((np.asarray(model(test_windows, training=False)) - test_windows) ** 2, axis=1)
    edge_scores = _q5_scores(buffer, test_windows)
    corr = float(np.corrcoef(keras_scores, edge_scores)[0, 1])
    rel = float(np.median(np.abs(edge_scores - keras_scores) / keras_scores))
    if corr < Q5_TOLERANCE["correlation"] or rel > Q5_TOLERANCE["median_relative"]:
        raise Incorrect(f"the file's scores on {len(test_windows)} test windows stray from the Keras scores "
                        f"(correlation {corr:.3f}, median relative difference {rel:.0%}; wanted at least "
                        f"{Q5_TOLERANCE['correlation']} and at most {Q5_TOLERANCE['median_relative']:.0%}). Calibrate "
                        f"with the normal windows passed in, `windows`, scaled as the model takes them, one batch-1 "
                        f"array per yield: `yield [w[None]]`.")
    # the calibration must come from the windows passed in (not from another array: test windows would be leakage)
    with _quiet(), library_unavailable(export_int8, [(edge, "export_litert")]):
        other = call_answer(export_int8, "export_int8", model, (0.5 * train_windows[::2]).copy(), **_CALL)
    def scales(content: bytes) -> list:
        return [t["quantization"] for t in Interpreter(model_content=content).get_tensor_details()]

    if scales(bytes(other)) == scales(buffer):
        raise Incorrect("your file's input quantization does not change when the calibration windows change: the "
                        "converter must be calibrated on the `windows` passed in (calibrating on the test windows "
                        "would be leakage).")
    op_names = [op["op_name"] for op in ops]
    return (f"{len(buffer):,} bytes, ops {', '.join(op_names)}; int8 scores follow Keras (correlation {corr:.4f}, "
            f"median relative difference {rel:.1%}).")


q5 = FunctionQuestion(
    5,
    "Write `export_int8(model, windows)` with TensorFlow's converter API (no `sadlib.edge`): it returns the bytes of a "
    "full-int8 LiteRT file of `model` (a Keras model taking flattened windows of 32 values) with a fixed input of "
    "one window, float32 input and output, builtin int8 ops only, calibrated on `windows` (normal training windows, "
    "shape (n, 32)). The checker loads your bytes with the LiteRT interpreter, looks for Flex ops, int8 "
    "activations and the batch-1 input, and compares the file's scores with the Keras scores on test windows.",
    ("export_int8",),
    _check_export,
    ["Section 3 of the lesson: `model.export(folder, format=\"tf_saved_model\", verbose=False, "
     "input_signature=[tf.TensorSpec((1, 32), tf.float32)])` into a `tempfile.mkdtemp()` folder, then "
     "`converter = tf.lite.TFLiteConverter.from_saved_model(folder)`.",
     "`converter.optimizations = [tf.lite.Optimize.DEFAULT]`; `converter.representative_dataset` is a function "
     "returning a generator of `[w[None]]` for w in windows; `converter.target_spec.supported_ops = "
     "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8]`; `return converter.convert()`."],
    "import tempfile\n\n\n"
    "def export_int8(model, windows):\n"
    "    folder = tempfile.mkdtemp()\n"
    "    spec = tf.TensorSpec((1, *model.inputs[0].shape[1:]), tf.float32)  # one window per call\n"
    "    model.export(folder, format=\"tf_saved_model\", input_signature=[spec], verbose=False)\n"
    "    converter = tf.lite.TFLiteConverter.from_saved_model(folder)\n"
    "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n\n"
    "    def representative_dataset():\n"
    "        for w in windows[:300]:\n"
    "            yield [w[None].astype(np.float32)]\n\n"
    "    converter.representative_dataset = representative_dataset\n"
    "    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]\n"
    "    return converter.convert()",
    setup=_full_context,
    method="int8 LiteRT export with a representative dataset",
)

# --------------------------------------------------------------------------- Q6
@functools.lru_cache(maxsize=1)
def _q6_material() -> tuple[bytes, np.ndarray, np.ndarray]:
    """An int8 file of the setup's model (exported here, not by the learner) and windows of a pump day the learner
    has not seen, scaled with the training scaler; with the model's own (Keras) scores of those windows."""
    import tempfile

    from sadlib import edge, signals

    ns = _full_namespace()
    model = ns["model"]
    fresh = signals.make_normal(n_days=1, freq="10min", seed=29)[list(signals.SENSORS)].to_numpy()
    fresh = ((fresh - ns["lo"]) / (ns["hi"] - ns["lo"])).astype(np.float32)
    windows = ns["flat_windows"](fresh)
    with _quiet():
        path = edge.export_litert(model, Path(tempfile.mkdtemp()) / "q6_int8.tflite", quantization="int8",
                                  representative=ns["train_windows"])
    keras_scores = np.mean((np.asarray(model(windows, training=False), dtype=np.float64) - windows) ** 2, axis=1)
    return path.read_bytes(), windows, keras_scores


def _check_parity(litert_parity):
    from sadlib import edge

    expect_true(callable(litert_parity), "`litert_parity` should be a function (tflite_bytes, model, windows, "
                                         "threshold) -> (edge_scores, agreement).")
    buffer, windows, keras_scores = _q6_material()
    model = _full_namespace()["model"]
    edge_scores_right = _q5_scores(buffer, windows)  # one window per call, the check's own interpreter loop
    # a threshold between the two scores of the window where file and Keras differ most: at least one decision differs
    middle = (keras_scores > np.quantile(keras_scores, 0.5)) & (keras_scores < np.quantile(keras_scores, 0.9))
    worst = int(np.argmax(np.where(middle, np.abs(edge_scores_right - keras_scores) / keras_scores, -1)))
    threshold = float((keras_scores[worst] + edge_scores_right[worst]) / 2)
    with _quiet(), library_unavailable(litert_parity, [(edge, "LiteRTModel"), (edge, "parity"), (edge, "ONNXModel")]):
        out = call_answer(litert_parity, "litert_parity", buffer, model, windows.copy(), threshold, **_CALL)
    expect_true(isinstance(out, (tuple, list)) and len(out) == 2,
                "`litert_parity` should return two things: `edge_scores, agreement`.")
    got, agreement = out
    got = np.asarray(got, dtype=float).ravel()
    n = len(windows)
    expect_true(got.shape == (n,), f"`edge_scores` should hold one score per window, {n} of them; got shape "
                                   f"{got.shape}.")
    if np.allclose(got, keras_scores, rtol=1e-6) and not np.allclose(edge_scores_right, keras_scores, rtol=1e-6):
        raise Incorrect("these are the Keras model's scores: `model(...)` ran, not the .tflite file. Load the bytes "
                        "with `Interpreter(model_content=tflite_bytes)` and score each window with its output.")
    mae = None
    if not np.allclose(got, edge_scores_right, rtol=1e-4, atol=1e-9):
        mae = _q6_mae(buffer, windows)
        if np.allclose(got, mae, rtol=1e-4):
            raise Incorrect("that is the mean *absolute* error; the detector's score is the mean *squared* "
                            "reconstruction error of the window.")
        raise Incorrect(f"your edge scores differ from the file's scores on windows you had not seen (largest "
                        f"difference {np.max(np.abs(got - edge_scores_right)):.3g}). For each window: "
                        "`set_tensor(input index, w[None])`, `invoke()`, read the output and take "
                        "`np.mean((output - w) ** 2)`.")
    right = float(np.mean((keras_scores > threshold) == (edge_scores_right > threshold)))
    try:
        a = float(np.asarray(agreement).item())
    except (TypeError, ValueError) as err:
        raise Incorrect(f"`agreement` should be one number between 0 and 1; got {agreement!r}.") from err
    if np.isclose(a, 100 * right) and right > 0:
        raise Incorrect("give the agreement as a fraction between 0 and 1, not in percent.")
    alarm_share = float(np.mean(edge_scores_right > threshold))
    if np.isclose(a, alarm_share) and not np.isclose(alarm_share, right):
        raise Incorrect("that is the share of windows the file flags; the agreement is the share of windows on which "
                        "the Keras decision (`keras_scores > threshold`) and the file's decision are the same.")
    expect_true(np.isclose(a, right, rtol=0, atol=1e-9),
                f"the agreement on these windows is {fmt_distinct(right, a)}; yours is {fmt_distinct(a, right)}. "
                "Compare `keras_scores > threshold` with `edge_scores > threshold`, window by window.")
    corr = float(np.corrcoef(keras_scores, edge_scores_right)[0, 1])
    return (f"on {n} windows of a day you had not seen your edge scores are the int8 file's (correlation with Keras "
            f"{corr:.4f}) and the two agree on {right:.2%} of the decisions. `edge.LiteRTModel` and `edge.parity` do "
            "the same in the lesson.")


def _q6_mae(buffer: bytes, windows: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=buffer)
    with _quiet():
        interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    result = np.empty(len(windows))
    for i, w in enumerate(windows):
        interpreter.set_tensor(inp["index"], w[None].astype(np.float32))
        interpreter.invoke()
        result[i] = np.mean(np.abs(interpreter.get_tensor(out["index"])[0] - w))
    return result


q6 = FunctionQuestion(
    6,
    "Run a LiteRT file as a device would and check its parity with Keras. Write `litert_parity(tflite_bytes, model, "
    "windows, threshold)`: load `tflite_bytes` with `ai_edge_litert.interpreter.Interpreter`, score every row of "
    "`windows` (flattened windows, shape (n, 32)) with the file, one window per call, as the mean squared "
    "reconstruction error, and return `edge_scores, agreement`: the n edge scores and the share of windows on which "
    "the Keras decision (`model`'s score > threshold) and the file's decision are the same. Try it on your Q5 file; "
    "the check runs it on an int8 file and on windows of a pump day you have not seen, with `sadlib.edge`'s "
    "`LiteRTModel` and `parity` unavailable.",
    ("litert_parity",),
    _check_parity,
    ["`interpreter = Interpreter(model_content=tflite_bytes)`, `interpreter.allocate_tensors()`, then "
     "`inp = interpreter.get_input_details()[0]` and `out = interpreter.get_output_details()[0]`.",
     "For each window: `interpreter.set_tensor(inp[\"index\"], w[None].astype(np.float32))`, `interpreter.invoke()`, "
     "`y = interpreter.get_tensor(out[\"index\"])[0]`, score `np.mean((y - w) ** 2)`.",
     "Keras scores: `np.mean((np.asarray(model(windows)) - windows) ** 2, axis=1)`; agreement: "
     "`np.mean((keras_scores > threshold) == (edge_scores > threshold))`."],
    "from ai_edge_litert.interpreter import Interpreter\n\n\n"
    "def litert_parity(tflite_bytes, model, windows, threshold):\n"
    "    interpreter = Interpreter(model_content=tflite_bytes)\n"
    "    interpreter.allocate_tensors()\n"
    "    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]\n"
    "    edge_scores = np.empty(len(windows))\n"
    "    for i, w in enumerate(windows):  # one window per call, as on the device\n"
    "        interpreter.set_tensor(inp[\"index\"], w[None].astype(np.float32))\n"
    "        interpreter.invoke()\n"
    "        edge_scores[i] = np.mean((interpreter.get_tensor(out[\"index\"])[0] - w) ** 2)\n"
    "    keras_scores = np.mean((np.asarray(model(windows, training=False)) - windows) ** 2, axis=1)\n"
    "    agreement = float(np.mean((keras_scores > threshold) == (edge_scores > threshold)))\n"
    "    return edge_scores, agreement",
    setup=_full_context,
    method="running a LiteRT file with the interpreter and checking parity",
)

ANSWER_CELLS = {
    1: "from sadlib.course.exercises.nb09 import CHOICES\n"
       "print(\"\\n\".join(f\"{k}) {v}\" for k, v in CHOICES.items()))\n"
       "reason = ____\n"
       "input_shape = ____",
    3: "def recalibrate(val_scores, test_scores):\n"
       "    return ____  # the edge model's threshold\n\n\n"
       "edge_threshold = recalibrate(edge_val, edge_test)\n"
       "agreement = ____",
    4: "def my_alarms(scores, threshold, min_duration):\n"
       "    return ____  # your code here",
    5: "import tempfile\n\n\n"
       "def export_int8(model, windows):\n"
       "    # 1. model.export(...) to a SavedModel in a temporary folder, with a batch-1 input_signature\n"
       "    # 2. a tf.lite.TFLiteConverter from that folder\n"
       "    # 3. optimizations and a representative_dataset built from `windows`\n"
       "    # 4. int8 builtin ops only\n"
       "    # 5. return the bytes of converter.convert()\n"
       "    return ____",
    6: "from ai_edge_litert.interpreter import Interpreter\n\n\n"
       "def litert_parity(tflite_bytes, model, windows, threshold):\n"
       "    # 1. an Interpreter on the bytes, allocate_tensors, the input and output details\n"
       "    # 2. one window per call: set_tensor, invoke, get_tensor; score = mean squared error against the window\n"
       "    # 3. the Keras scores of the same windows, and the share of windows with the same decision\n"
       "    return ____, ____  # edge_scores, agreement",
}
