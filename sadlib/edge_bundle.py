"""Write an edge bundle: everything a device needs to score a stream, runnable without TensorFlow.

:func:`write_bundle` turns a fitted reconstruction detector (a
:class:`~sadlib.detectors.keras_base.WindowAutoencoder` such as ``dense_ae``, ``conv_ae`` or
``lstm_ae`` with ``aggregate="last"``) into a folder:

* ``model_float32.tflite``: the model, exported by :func:`sadlib.edge.export_litert` (fixed batch 1,
  builtin ops only, float32 input and output);
* ``model_int8.tflite`` (``variants=("float32", "int8")``): full-integer quantisation with **int8
  input and output** (``inference_input_type = inference_output_type = tf.int8``), the integer-only
  file that microcontroller runtimes (TFLite Micro) and integer accelerators take. Activation ranges
  are measured on ``representative_rows`` (normal training rows, windowed and scaled as in fit, with
  :func:`sadlib.edge.export_litert`'s headroom). The input's and output's scale and zero point go
  into the manifest, and the reader quantises the scaled window with them and dequantises the
  reconstruction (``real = scale * (q - zero_point)``);
* ``manifest.json``: feature names and order, the scaler's kind and constants, window and stride,
  the score-to-timestamp rule, the error formula, the threshold, the alarm rule, the sadlib version,
  each model's input/output types and quantisation, and the SHA-256 of every file;
* ``edge_reader.py``: a copy of :mod:`sadlib.edge_reader`, which needs only NumPy and
  ``ai-edge-litert``. ``load_bundle(folder)`` (from either) returns a scorer that takes one sample
  at a time.

The threshold is the detector's ``threshold_`` for every variant; how far the int8 scores move
relative to it is measured by ``benchmarks/edge_bundle_check.py``.

A Keras 3 LSTM with ``unroll=False`` converts to a ``WHILE`` loop, which the int8 converter cannot
take (:func:`sadlib.edge.export_litert` explains); for ``"int8"`` use a convolutional or dense model,
or an LSTM fitted with ``unroll=True``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from . import edge_reader
from .validation import InvalidParameterError, check_int, check_number

__all__ = ["write_bundle", "load_bundle", "VARIANTS"]

load_bundle = edge_reader.load_bundle

#: model variants a bundle can hold
VARIANTS = ("float32", "int8")

_TIMESTAMP_RULE = (
    "the score at sample t is the error of the window of samples t-window+1..t (aggregate='last'); "
    "the first window-1 samples have no score (NaN) and no alarm"
)



def _scaler_constants(scaler) -> dict:
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    if type(scaler) is MinMaxScaler and not scaler.clip:
        return {"kind": "minmax", "scale": scaler.scale_.tolist(), "min": scaler.min_.tolist()}
    if type(scaler) is StandardScaler and scaler.with_mean and scaler.with_std:
        return {"kind": "standard", "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}
    if type(scaler) is RobustScaler and scaler.with_centering and scaler.with_scaling:
        return {"kind": "robust", "center": scaler.center_.tolist(), "scale": scaler.scale_.tolist()}
    raise InvalidParameterError(f"detector.scaler_ is a {type(scaler).__name__} with settings the bundle cannot "
                                f"write as constants; fit the detector with scaler='minmax', 'standard' or 'robust'.")


def _check_detector(detector):
    from .detectors.keras_base import WindowAutoencoder

    if not isinstance(detector, WindowAutoencoder):
        raise InvalidParameterError(
            f"detector must be a fitted reconstruction autoencoder on windows (dense_ae, lstm_ae, conv_ae, cnn_lstm, "
            f"attn_lstm, transformer_ae, vqvae); got {type(detector).__name__}. Its score is what the bundle's reader "
            f"computes."
        )
    detector._check_fitted()
    if detector.aggregate != "last":
        raise InvalidParameterError(
            f"detector.aggregate is {detector.aggregate!r}; a stream knows only windows that have ended, so a bundle "
            f"needs aggregate='last' (the default). Refit with aggregate='last'.")
    if getattr(detector, "scoring", "reconstruction") != "reconstruction":
        raise InvalidParameterError(f"detector.scoring is {detector.scoring!r}; the bundle computes the reconstruction "
                                    f"score. Set scoring='reconstruction' (no refit needed) first.")
    return detector


def _io_spec(path: Path) -> dict:
    from .edge import _import_litert

    interpreter = _import_litert().interpreter.Interpreter(model_path=str(path))
    spec = {}
    ends = (("input", interpreter.get_input_details()[0]), ("output", interpreter.get_output_details()[0]))
    for key, details in ends:
        dtype = np.dtype(details["dtype"])
        entry = {"dtype": dtype.name, "shape": [int(s) for s in details["shape"]]}
        if dtype.kind == "i":
            s, z = details["quantization"]
            entry["quantization"] = {"scale": float(s), "zero_point": int(z)}
        spec[key] = entry
    return spec


def _export_int8_io(model, path: Path, representative: np.ndarray, headroom: float) -> Path:
    """Full-integer LiteRT file with int8 input and output (sadlib.edge's conversion, integer I/O)."""
    from . import edge

    _, tf = edge._import_keras_tf()
    shape = edge._sample_shape(model)
    rep = edge._check_representative(representative, shape, 1, headroom, "int8")
    spec = tf.TensorSpec((1, *shape), tf.float32, name="window")
    if edge._has_loop(model, spec):
        raise ValueError("the model contains a while loop (an LSTM or GRU with unroll=False), which the int8 "
                         "converter cannot take; write the bundle with variants=('float32',), or fit the detector "
                         "with unroll=True (see sadlib.edge.export_litert).")
    tmp = edge._saved_model_dir(model, spec)  # the SavedModel the float32 variant wrote, if it did
    converter = edge._converter(tmp, "int8", rep, 1)
    converter.inference_input_type = tf.int8  # integer-only: no QUANTIZE/DEQUANTIZE ops at the ends
    converter.inference_output_type = tf.int8
    with edge._cheap_collections():
        path.write_bytes(converter.convert())
    bad = edge.flex_ops(path)
    if bad:
        path.unlink()
        raise ValueError(f"the int8 model needs ops pip LiteRT runtimes cannot run: {', '.join(bad)}; no file kept.")
    return path


def _alarm_spec(detector, alarm_policy: Any, min_duration: int) -> dict:
    if alarm_policy is None:
        return {"rule": "alarm when the last min_duration scores are all above the threshold",
                "threshold": float(detector.threshold_), "off_threshold": None, "k": 1, "n": 1,
                "min_duration": min_duration, "hold": 0, "dead_time": 0, "rearm": None}
    from .alarms import AlarmPolicy

    if not isinstance(alarm_policy, AlarmPolicy):
        raise InvalidParameterError(f"alarm_policy must be a fitted sadlib.alarms.AlarmPolicy or None; got "
                                    f"{type(alarm_policy).__name__}. Fit one on normal scores, e.g. "
                                    f"AlarmPolicy(k=3, n=5).fit(det.calibration_scores_).")
    alarm_policy._check_fitted()
    if getattr(alarm_policy, "level_layer_", None) is not None:
        raise InvalidParameterError(f"alarm_policy has adapt={alarm_policy.adapt!r}: the bundle's reader runs a fixed "
                                    f"level only, so an adaptive level would be exported wrong. Export a policy with "
                                    f"adapt=None, and run the adaptive layer beside the reader "
                                    f"(sadlib.alarms.RecentredThreshold.stream) if the device needs it.")
    if min_duration != 1:
        raise InvalidParameterError(f"min_duration={min_duration} and alarm_policy were both given; the policy has its "
                                    f"own min_duration. Pass one of them.")
    p = alarm_policy
    return {"rule": "sadlib.alarms.AlarmPolicy: level (latch with off_threshold), k of n, min_duration, hold, "
                    "dead_time, rearm; all counts in samples",
            "threshold": float(p.threshold_),
            "off_threshold": None if p.off_thresholder_ is None else float(p.off_threshold_),
            "k": int(p.k_), "n": int(p.n_), "min_duration": int(p.min_duration_), "hold": int(p.hold_),
            "dead_time": int(p.dead_time_), "rearm": None if p.rearm_ is None else int(p.rearm_),
            "params": {key: repr(value) for key, value in p.get_params().items()}}


def write_bundle(detector, folder: Any, *, variants: Any = ("float32",), representative_rows: Any = None,
                 min_duration: int = 1, alarm_policy: Any = None, headroom: float = 0.25) -> Path:
    """Write the edge bundle of a fitted reconstruction detector to ``folder`` (see the module docstring).

    Parameters
    ----------
    detector : a fitted WindowAutoencoder with ``aggregate="last"``
    folder : str or Path, created; an earlier bundle there is replaced, other files are refused
    variants : sequence of {"float32", "int8"}; "int8" is the integer-only (int8 input and output) model
    representative_rows : DataFrame or array (n, n_features), normal training rows; needed for "int8"
        (their scaled windows calibrate the activation ranges)
    min_duration : int, the alarm rule without a policy: an alarm after this many consecutive scores above
        the detector's threshold
    alarm_policy : a fitted :class:`sadlib.alarms.AlarmPolicy`, optional; its levels and steps become the
        bundle's alarm rule (the reader runs them as :meth:`AlarmPolicy.stream` does)
    headroom : float, the int8 calibration's headroom (:func:`sadlib.edge.export_litert`)

    Returns the folder.
    """
    from . import __version__
    from .edge import export_litert

    det = _check_detector(detector)
    variants = [variants] if isinstance(variants, str) else list(variants)
    bad = [v for v in variants if v not in VARIANTS]
    if not variants or bad:
        raise InvalidParameterError(f"variants must be a non-empty list of {VARIANTS}; got {variants!r}. 'float32' is "
                                    f"the exported model, 'int8' the integer-only one (int8 input and output).")
    min_duration = check_int("min_duration", min_duration, 1,
                             hint="It is how many consecutive scores above the threshold raise an alarm.")
    headroom = check_number("headroom", headroom, 0, hint="0.25 widens the int8 ranges by 25 %.")
    alarm = _alarm_spec(det, alarm_policy, min_duration)
    if "int8" in variants and representative_rows is None:
        raise InvalidParameterError("variants includes 'int8', which needs representative_rows=...: normal training "
                                    "rows (n, n_features), e.g. X_train, to calibrate its ranges.")
    out = Path(folder)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / edge_reader.MANIFEST).exists())):
        raise InvalidParameterError(f"folder {str(out)!r} exists and is not an earlier bundle; pass a new or empty "
                                    f"folder.")
    if out.is_dir():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    models = {}
    for variant in variants:
        file = out / f"model_{variant}.tflite"
        if variant == "float32":
            export_litert(det.model_, file, quantization="float32")
        else:
            _export_int8_io(det.model_, file, det.model_inputs(representative_rows), headroom)
        models[variant] = {"file": file.name, **_io_spec(file)}
    shutil.copyfile(edge_reader.__file__, out / "edge_reader.py")

    names = getattr(det, "feature_names_in_", None)
    features = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(det.n_features_in_)]
    manifest = {
        "format": edge_reader.BUNDLE_FORMAT,
        "format_version": edge_reader.BUNDLE_FORMAT_VERSION,
        "sadlib_version": __version__,
        "detector": type(det).__name__,
        "features": features,
        "scaler": _scaler_constants(det.scaler_),
        "window": int(det.window),
        "stride": 1,
        "input_layout": "flat (window * n_features, time-major)" if det.flat_inputs else "(window, n_features)",
        "timestamps": _TIMESTAMP_RULE,
        "score": {"error": det.error, "error_scale": det.error_scale_.tolist() if det.normalize else None,
                  "formula": "mean over the window's values of the error, each sensor divided by error_scale"},
        "threshold": float(det.threshold_),
        "alarm": alarm,
        "models": models,
        "files": {p.name: edge_reader.sha256(p) for p in sorted(out.iterdir())},
    }
    (out / edge_reader.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out
