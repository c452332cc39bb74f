"""Exercises for notebook 09: why a dynamic-batch LSTM export needs Flex ops, the int8 size goal, a threshold for
the quantized model from its own validation scores, the min-duration alarm rule."""

from __future__ import annotations

import numpy as np

from sadlib.exercises.checker import Incorrect, Question, ____, expect_close, expect_true

__all__ = ["q1", "q2", "q3", "q4"]

WINDOW, N_SENSORS = 24, 4

#: file sizes in bytes of three exported models (float32 and full int8 LiteRT files)
SIZES = {
    "dense_ae": {"float32": 28_668, "int8": 14_088},
    "lstm_ae_unrolled": {"float32": 161_776, "int8": 265_128},
    "dense_512_128": {"float32": 930_476, "int8": 273_240},
}
GOAL = 0.40
Q3_SEED, Q3_VAL, Q3_TEST = 9, 700, 2500

#: the setup cell of the exercise notebook, also used by the tests
SETUP = """\
import numpy as np

# Q2: file sizes in bytes of three exported LiteRT models, float32 and full int8
sizes = {
    "dense_ae": {"float32": 28_668, "int8": 14_088},
    "lstm_ae_unrolled": {"float32": 161_776, "int8": 265_128},
    "dense_512_128": {"float32": 930_476, "int8": 273_240},
}

# Q3: scores of a Keras model and of its int8 LiteRT file on the clean validation part and on the test part
rng = np.random.default_rng(9)
keras_val = rng.lognormal(-6, 0.4, 700)
keras_test = rng.lognormal(-6, 0.4, 2500)
keras_test[1200:1300] *= 20  # an anomaly
edge_val = keras_val * 1.25 + rng.normal(0, 2e-4, 700).clip(0)      # quantization adds error of its own
edge_test = keras_test * 1.25 + rng.normal(0, 2e-4, 2500).clip(0)
keras_threshold = np.percentile(keras_val, 99.9)
"""


def _context() -> dict:
    namespace: dict = {}
    exec(SETUP, namespace)
    return namespace


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


q1 = Question(
    1,
    "Keras's `model.export(path, format=\"litert\")` of the LSTM autoencoder (windows of 24 steps, 4 sensors) writes "
    "a file with Flex ops that a device runtime cannot run. Set `reason` to the letter of the right explanation "
    "(print `CHOICES` from `sadlib.exercises.nb09` to see them: a, b, c or d) and `input_shape` to the input "
    "signature, batch axis included, of an export that avoids it, for one window per call.",
    ("reason", "input_shape"),
    _check_flex,
    ["`from sadlib.exercises.nb09 import CHOICES; print(CHOICES)`. Read section 2 of the lesson: what is None in "
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
    return (f"int8 is {want['lstm_ae_unrolled']:.0%} of float32 for the unrolled tiny LSTM (scales, zero points "
            f"and the 24 unrolled steps outweigh its few thousand weights) and {want['dense_512_128']:.0%} "
            f"for the wide model.")


q2 = Question(
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


def _check_recalibrated(edge_threshold, agreement):
    keras_val, keras_test, edge_val, edge_test, keras_threshold = _q3_scores()
    t = float(edge_threshold)
    for q in (95, 99, 99.5, 99.9, 100):
        if np.isclose(t, np.percentile(edge_test, q)):
            raise Incorrect("that threshold comes from the test scores, the data being judged: leakage. Take it "
                            "from the edge model's validation scores, `edge_val`.")
    if np.isclose(t, keras_threshold):
        raise Incorrect("that is the Keras threshold. The int8 model's scores sit higher; give it a threshold "
                        "from its own validation scores, `edge_val`.")
    if any(np.isclose(t, np.percentile(keras_val, q)) for q in (95, 99, 99.5, 99.9, 100)):
        raise Incorrect("that threshold comes from the Keras validation scores; use the edge model's own, `edge_val`.")
    if not np.percentile(edge_val, 99) <= t <= edge_val.max():
        raise Incorrect("take the threshold from `edge_val` with the same rule as for Keras (the 99.9th "
                        "percentile), or its maximum.")
    right = float(np.mean((keras_test > keras_threshold) == (edge_test > t)))
    a = float(agreement)
    if np.isclose(a, 100 * right):
        raise Incorrect("give the agreement as a fraction between 0 and 1, not in percent.")
    before = float(np.mean((keras_test > keras_threshold) == (edge_test > keras_threshold)))
    if np.isclose(a, before) and not np.isclose(before, right):
        raise Incorrect("that is the agreement with the Keras threshold on both sides; compare the Keras decisions "
                        "with the edge decisions at `edge_threshold`.")
    expect_close(a, right, what="`agreement`", rtol=0, atol=1e-9)
    return f"agreement {before:.2%} with the Keras threshold, {right:.2%} after recalibration."


q3 = Question(
    3,
    "The int8 file's scores (`edge_val`, `edge_test`) sit higher than the Keras scores (`keras_val`, `keras_test`), "
    "so the Keras threshold (`keras_threshold`, the 99.9th percentile of `keras_val`) is wrong for it. Set "
    "`edge_threshold` with the same rule applied to the edge model's own clean validation scores, and `agreement`, "
    "the share of test samples on which the Keras decisions (`keras_test > keras_threshold`) and the edge decisions "
    "(`edge_test > edge_threshold`) are the same.",
    ("edge_threshold", "agreement"),
    _check_recalibrated,
    ["`np.percentile(edge_val, 99.9)`; the test scores are only judged, never used to choose a threshold.",
     "`np.mean((keras_test > keras_threshold) == (edge_test > edge_threshold))`"],
    "edge_threshold = np.percentile(edge_val, 99.9)\n"
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


def _check_min_duration(my_alarms):
    from sadlib.streaming import min_duration_alarms

    expect_true(callable(my_alarms), "`my_alarms` should be a function (scores, threshold, min_duration) -> alarms.")
    for scores, thr, d in _q4_cases():
        want = min_duration_alarms(scores, thr, d)
        got = my_alarms(scores.copy(), thr, d)
        expect_true(got is not ____, "your function still returns ____; write its body.")
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
        first = int(np.argmax(got != want))
        raise Incorrect(f"for scores {np.round(scores[:12], 2).tolist()}{'...' if len(scores) > 12 else ''}, "
                        f"threshold {thr}, min_duration {d}: first wrong decision at position {first} "
                        f"(yours {bool(got[first])}, expected {bool(want[first])}).")
    return "it matches sadlib.streaming.min_duration_alarms, the rule the StreamingScorer applies live."


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


q4 = Question(
    4,
    "Write `my_alarms(scores, threshold, min_duration)`: `alarm[t]` is True when the scores at "
    "`t - min_duration + 1, ..., t` are all strictly above `threshold` (an alarm starts at the min_duration-th score "
    "in a row above the threshold and ends at the first score at or below it). Return a boolean array.",
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
)

ANSWER_CELLS = {
    1: "from sadlib.exercises.nb09 import CHOICES\n"
       "print(\"\\n\".join(f\"{k}) {v}\" for k, v in CHOICES.items()))\n"
       "reason = ____\n"
       "input_shape = ____",
    4: "def my_alarms(scores, threshold, min_duration):\n"
       "    return ____  # your code here",
}
