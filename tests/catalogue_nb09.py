"""Red-team catalogue of exercises 09 (issue 26 §4): named wrong answers (a leak where the question fits anything to
data) that must be rejected with a message that names the mistake, and unconventional right answers that must pass.
The LiteRT questions (Q5, Q6) convert the setup's tiny dense model only: a few seconds each."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from catalogue import Entry

from sadlib.course.exercises import nb09


def _sizes():
    return nb09._context()["sizes"]


def _q3_ns():
    return nb09._context()


def _agreement(threshold_rule):
    ns = _q3_ns()
    t = threshold_rule(ns["edge_val"], ns["edge_test"])
    return float(np.mean((ns["keras_test"] > ns["keras_threshold"]) == (ns["edge_test"] > t)))


def _q3(rule):
    return lambda: {"recalibrate": rule, "agreement": _agreement(rule)}


# --------------------------------------------------------------------------- Q4: minimum duration
def _min_library(scores, threshold, min_duration):
    from sadlib.streaming import min_duration_alarms

    return min_duration_alarms(scores, threshold, min_duration)


def _min_whole_run(scores, threshold, min_duration):
    above = np.asarray(scores) > threshold
    out = np.zeros(len(above), bool)
    start = None
    for t, a in enumerate(np.append(above, False)):
        if a and start is None:
            start = t
        if not a and start is not None:
            out[start:t] = t - start >= min_duration  # the whole run, known only at its end
            start = None
    return out


def _min_convolve(scores, threshold, min_duration):
    above = (np.asarray(scores) > threshold).astype(int)
    return np.convolve(above, np.ones(min_duration, int))[: len(above)] >= min_duration


def _min_k_of_n(scores, threshold, min_duration):
    from sadlib.alarms import k_of_n_alarms

    return k_of_n_alarms(scores, threshold, min_duration, min_duration)  # k = n: the same rule, the library's


def _min_centred(scores, threshold, min_duration):
    import pandas as pd

    above = pd.Series(np.asarray(scores) > threshold)
    return (above.rolling(min_duration, center=True).sum() >= min_duration).to_numpy()


def _min_pandas(scores, threshold, min_duration):
    import pandas as pd

    above = pd.Series(list(scores)) > threshold
    return (above.rolling(min_duration, min_periods=1).sum() >= min_duration).tolist()


# --------------------------------------------------------------------------- Q5: int8 export
def _converter(model, windows, *, representative=True, int8_ops=True, calibration=None):
    import tensorflow as tf

    folder = tempfile.mkdtemp()
    spec = tf.TensorSpec((1, *model.inputs[0].shape[1:]), tf.float32)
    model.export(folder, format="tf_saved_model", input_signature=[spec], verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(folder)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rows = windows if calibration is None else calibration
    if representative:
        converter.representative_dataset = lambda: ([w[None].astype(np.float32)] for w in rows[:300])
    if int8_ops:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def _export_dynamic(model, windows):
    return _converter(model, windows, representative=False, int8_ops=False)


def _export_test_windows(model, windows):
    return _converter(model, windows, calibration=nb09._full_namespace()["test_windows"])


def _export_library(model, windows):
    from sadlib import edge

    path = edge.export_litert(model, Path(tempfile.mkdtemp()) / "m.tflite", quantization="int8", representative=windows)
    return path.read_bytes()


def _export_keras_litert(model, windows):
    import tensorflow as tf

    path = Path(tempfile.mkdtemp()) / "m.tflite"
    model.export(str(path), format="litert", verbose=False,
                 input_signature=[tf.TensorSpec((1, *model.inputs[0].shape[1:]), tf.float32)],
                 optimizations=[tf.lite.Optimize.DEFAULT],
                 representative_dataset=lambda: ([w[None].astype(np.float32)] for w in windows[:300]),
                 target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]})
    return path.read_bytes()


# --------------------------------------------------------------------------- Q6: interpreter and parity
def _litert_scores(tflite_bytes, windows, *, absolute=False):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=tflite_bytes)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    scores = np.empty(len(windows))
    for i, w in enumerate(windows):
        it.set_tensor(inp["index"], w[None].astype(np.float32))
        it.invoke()
        err = it.get_tensor(out["index"])[0] - w
        scores[i] = np.mean(np.abs(err)) if absolute else np.mean(err**2)
    return scores


def _keras_scores(model, windows):
    return np.mean((np.asarray(model(windows, training=False)) - windows) ** 2, axis=1)


def _parity_keras_only(tflite_bytes, model, windows, threshold):
    return _keras_scores(model, windows), 1.0


def _parity_mae(tflite_bytes, model, windows, threshold):
    e = _litert_scores(tflite_bytes, windows, absolute=True)
    return e, float(np.mean((_keras_scores(model, windows) > threshold) == (e > threshold)))


def _parity_alarm_share(tflite_bytes, model, windows, threshold):
    e = _litert_scores(tflite_bytes, windows)
    return e, float(np.mean(e > threshold))


def _parity_library(tflite_bytes, model, windows, threshold):
    from sadlib import edge

    path = Path(tempfile.mkdtemp()) / "m.tflite"
    path.write_bytes(tflite_bytes)
    e = np.mean((edge.LiteRTModel(path).predict(windows) - windows) ** 2, axis=1)
    return e, float(np.mean((_keras_scores(model, windows) > threshold) == (e > threshold)))


def _parity_batched(tflite_bytes, model, windows, threshold):
    """One call for all windows: the input resized to the whole batch (fine for a dense model)."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=tflite_bytes)
    inp = it.get_input_details()[0]
    it.resize_tensor_input(inp["index"], [len(windows), windows.shape[1]])
    it.allocate_tensors()
    it.set_tensor(inp["index"], windows.astype(np.float32))
    it.invoke()
    e = np.mean((it.get_tensor(it.get_output_details()[0]["index"]) - windows) ** 2, axis=1)
    return e, float(np.mean((_keras_scores(model, windows) > threshold) == (e > threshold)))


ENTRIES = [
    # Q1: why a dynamic-batch LSTM needs Flex ops
    Entry(nb09, 1, "wrong", "no LSTM op in LiteRT", lambda: {"reason": "a", "input_shape": (1, 24, 4)}, ("builtin",)),
    Entry(nb09, 1, "wrong", "the open batch", lambda: {"reason": "b", "input_shape": (None, 24, 4)}, ("open batch",)),
    Entry(nb09, 1, "wrong", "the flattened input", lambda: {"reason": "b", "input_shape": (1, 96)}, ("flattened",)),
    Entry(nb09, 1, "right", "capital letter and a list", lambda: {"reason": "(B)", "input_shape": [1, 24, 4]}),
    # Q2: the int8 size goal
    Entry(nb09, 2, "wrong", "float32 over int8", lambda: {"ratio": {k: v["float32"] / v["int8"] for k, v in
                                                                     _sizes().items()}, "goal_met": False},
          ("float32 / int8",)),
    Entry(nb09, 2, "wrong", "percent", lambda: {"ratio": {k: 100 * v["int8"] / v["float32"] for k, v in
                                                          _sizes().items()}, "goal_met": False}, ("percentages",)),
    Entry(nb09, 2, "wrong", "goal met on average", lambda: {"ratio": {k: v["int8"] / v["float32"] for k, v in
                                                                       _sizes().items()}, "goal_met": True},
          ("*every* model",)),
    Entry(nb09, 2, "right", "NumPy numbers", lambda: {"ratio": {k: np.float32(v["int8"]) / np.float32(v["float32"])
                                                                for k, v in _sizes().items()},
                                                      "goal_met": np.bool_(False)}),
    # Q3: the edge model's own threshold
    Entry(nb09, 3, "leak", "percentile of the test scores", _q3(lambda v, t: np.percentile(t, 99.9)), ("leakage",)),
    Entry(nb09, 3, "wrong", "99th percentile", _q3(lambda v, t: np.percentile(v, 99)), ("99th percentile",)),
    Entry(nb09, 3, "wrong", "the Keras threshold", lambda: {"recalibrate": lambda v, t: _q3_ns()["keras_threshold"],
                                                            "agreement": 0.9}, ("Keras threshold",)),
    Entry(nb09, 3, "right", "nearest-rank percentile", _q3(lambda v, t: np.percentile(v, 99.9, method="nearest"))),
    Entry(nb09, 3, "wrong", "the maximum of the validation scores", _q3(lambda v, t: np.max(v)), ("maximum",)),
    Entry(nb09, 3, "wrong", "the Keras threshold rescaled by the mean ratio", _q3(
        lambda v, t: _q3_ns()["keras_threshold"] * np.mean(v) / np.mean(_q3_ns()["keras_val"])),
        ("fresh validation scores",)),
    Entry(nb09, 3, "right", "float32 percentile", _q3(lambda v, t: np.percentile(np.asarray(v, np.float32), 99.9))),
    Entry(nb09, 3, "right", "pandas quantile", _q3(lambda v, t: __import__("pandas").Series(v).quantile(0.999))),
    # Q4: the minimum-duration rule, written by the learner
    Entry(nb09, 4, "wrong", "the library's min_duration_alarms", lambda: {"my_alarms": _min_library},
          ("write it yourself",)),
    Entry(nb09, 4, "leak", "the whole run, known only at its end", lambda: {"my_alarms": _min_whole_run},
          ("whole run",)),
    Entry(nb09, 4, "wrong", "plain threshold", lambda: {"my_alarms": lambda s, t, d: np.asarray(s) > t},
          ("plain",)),
    Entry(nb09, 4, "right", "a causal convolution", lambda: {"my_alarms": _min_convolve}),
    Entry(nb09, 4, "wrong", "the library's k_of_n_alarms with k = n", lambda: {"my_alarms": _min_k_of_n},
          ("write it yourself",)),
    Entry(nb09, 4, "leak", "a centred rolling window", lambda: {"my_alarms": _min_centred}, ("look-ahead", "centred")),
    Entry(nb09, 4, "right", "pandas rolling sum on a list, returned as a list", lambda: {"my_alarms": _min_pandas}),
    # Q5: the int8 export with the converter API
    Entry(nb09, 5, "wrong", "dynamic range, no representative dataset", lambda: {"export_int8": _export_dynamic},
          ("dynamic-range",)),
    Entry(nb09, 5, "leak", "calibrated on the test windows", lambda: {"export_int8": _export_test_windows},
          ("leakage",)),
    Entry(nb09, 5, "wrong", "sadlib's export_litert", lambda: {"export_int8": _export_library}, ("write it yourself",)),
    Entry(nb09, 5, "right", "model.export to litert with converter options", lambda: {"export_int8":
                                                                                     _export_keras_litert}),
    # Q6: running the file with the interpreter, parity with Keras
    Entry(nb09, 6, "wrong", "the Keras scores", lambda: {"litert_parity": _parity_keras_only}, ("Keras model's",)),
    Entry(nb09, 6, "wrong", "mean absolute error", lambda: {"litert_parity": _parity_mae}, ("absolute",)),
    Entry(nb09, 6, "wrong", "the alarm share as agreement", lambda: {"litert_parity": _parity_alarm_share},
          ("share of windows the file flags",)),
    Entry(nb09, 6, "wrong", "sadlib's LiteRTModel", lambda: {"litert_parity": _parity_library}, ("write it yourself",)),
    Entry(nb09, 6, "right", "the whole batch in one call", lambda: {"litert_parity": _parity_batched}),
]
