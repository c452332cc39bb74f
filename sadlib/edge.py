"""Edge deployment: export a trained Keras detector model to LiteRT (TFLite) or ONNX and check it.

An edge device (a PLC gateway, a Raspberry Pi next to the pump) runs the *model*
only: the scaler, the windowing and the threshold stay plain NumPy code around it.
This module writes the model file, runs it with the small pip runtimes
(``ai-edge-litert``, ``onnxruntime``), and measures what the export changed: the
scores (:func:`parity`) and the time per window (:func:`latency`).

Every exported file has a **fixed batch**, 1 by default (one window per call, as a
streaming detector sees the data), and ``float32`` inputs and outputs.

Four quantization levels (``export_litert(..., quantization=...)``)
-------------------------------------------------------------------
``"float32"``
    The weights and the arithmetic stay 32-bit floats. Same numbers as Keras up to
    float rounding (differences around 1e-7); the file is about 4 bytes per weight.
``"dynamic"`` (dynamic-range quantization)
    Weights are stored as int8 (4x smaller) and turned back into floats, or used
    with int8 kernels, at run time; activations stay float. Needs no data. Only
    large weight tensors (1024 values or more) are quantized, so a tiny model
    barely changes.
``"int8"`` (full integer quantization)
    Weights *and* activations are int8. The range of every activation is measured
    on ``representative`` inputs (normal training windows: the model will then be
    precise where normal data lies, and an anomaly far outside that range
    saturates, which still gives a large error). The file keeps float32 input and
    output (a quantize op at the input, a dequantize op at the output), so scoring
    code is the same for all three levels. The scores move most. Two options make
    them move less:

    * ``headroom`` (default 0.25): the ranges are measured on the representative
      windows *and* on the same windows stretched by ``1 + headroom`` about their
      centre. Without it, normal data a little beyond the training range (a
      temperature that ends the week 5 % higher than it ever was in training) is
      clipped by the input's quantize op, and its error jumps.
    * ``keep_float=["layer name", ...]``: selective ("mixed") quantization. The
      named layers run in float32, everything else in int8. Use it for a layer
      whose result depends on small differences of large numbers, such as the
      VQ-VAE's nearest-code lookup (``keep_float=["quantizer"]``).

    Every tensor
    carries its own scale and zero point, so only a model with enough weights gets
    a smaller file: on a 2,300-weight dense autoencoder int8 is about 2/3 of
    float32, and an unrolled tiny LSTM in int8 is *larger* than the float32 loop.
``"int16x8"`` (int8 weights, int16 activations)
    Like ``"int8"`` (same representative inputs, same headroom), with activations
    rounded to 65,536 levels instead of 256. For an unrolled LSTM, whose 8-bit
    gate values and cell state lose a little at each of its steps, this keeps the
    decisions; TFLite's own integer LSTM kernel keeps its cell state in 16 bits for
    the same reason. The kernels are slower than int8 ones and not every op has
    one (e.g. ``EQUAL``: the VQ-VAE cannot use it).

Traps (TensorFlow 2.21, Keras 3.15, ai-edge-litert 2.3) and what this module does
--------------------------------------------------------------------------------
* A Keras 3 LSTM (``unroll=False``) becomes a ``WHILE`` loop. With a *dynamic*
  batch the converter cannot lower the loop's tensor lists and Keras's own
  ``model.export(format="litert")`` quietly falls back to "Flex" ops, TensorFlow
  kernels that no pip runtime can run: the file is written, and fails only on the
  device. Here the batch is always fixed, and every written file is checked with
  :func:`flex_ops`; a file with Flex or other custom ops is deleted and an error
  says why.
* Full-int8 conversion of a ``WHILE`` loop crashes the converter (a segmentation
  fault that kills the Python process or the Jupyter kernel). :func:`export_litert`
  looks for loops in the traced graph *before* converting and raises a
  ``ValueError`` instead: build the LSTM with ``unroll=True`` (the loop becomes a
  plain sequence of ops) or use ``quantization="dynamic"``. No retraining is
  needed: unrolling changes the graph, not the weights, so
  ``build_lstm_autoencoder(window, n_features, units=..., unroll=True)`` followed by
  ``.set_weights(detector.model_.get_weights())`` gives the same model, unrolled.
* On a machine with a GPU, Keras 3 traces an LSTM or GRU (``use_cudnn="auto"``) to one
  ``CudnnRNNV3`` op, a GPU-only kernel that neither the LiteRT converter nor ``tf2onnx``
  accepts (tensorflow-onnx#2359; tf2onnx writes the file anyway). Every trace here runs
  with ``use_cudnn=False`` on the recurrent layers (restored afterwards), so the file is
  the same portable graph with or without a GPU; ``tf.device("/CPU:0")`` would not be
  enough, Keras asks whether a GPU is *visible*. A traced graph or .onnx file that still
  holds cuDNN ops, or ops tf2onnx could not convert, is refused with an error.
* ``keras.ops.argmax`` / ``argmin`` on floats need a TensorFlow op with no LiteRT
  builtin (a Flex op); compute them outside the model, in NumPy.
* ``tf.lite.Interpreter`` is deprecated; files are run with
  ``ai_edge_litert.interpreter.Interpreter``.

ONNX export goes through Keras (``model.export(format="onnx")``), which uses
``tf2onnx`` with a compatibility patch for NumPy 2.

The optional packages (the ``edge`` extra: ``pip install -c requirements/lab.lock.txt -e ".[edge]"``) and
TensorFlow are imported only inside the functions that need them, so ``import sadlib.edge`` stays fast.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import re
import tempfile
import time
import warnings
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from ._extras import install_hint
from .validation import InvalidParameterError, as_1d_float, check_int, check_number

__all__ = [
    "export_litert",
    "export_onnx",
    "flex_ops",
    "LiteRTModel",
    "ONNXModel",
    "parity",
    "FLOAT32_RTOL",
    "within_tolerance",
    "tf32_disabled",
    "latency",
]

QUANTIZATIONS = ("float32", "dynamic", "int8", "int16x8")
_INTEGER = ("int8", "int16x8")  # the levels that measure activation ranges on representative inputs
_MAX_REPRESENTATIVE = 300  # calibration inputs used for int8 (evenly spread over those given)
_LOOP_OPS = frozenset({"While", "StatelessWhile"})
_INT8 = 9  # TensorType.INT8 in the .tflite schema
_INSTALL_HINT = install_hint("edge")
_BATCH_HINT = "It is the fixed batch of the exported file (1: one window per call, as a streaming detector)."
_THREADS_HINT = "It is the number of CPU threads of the runtime (1: what a small device has to spare)."


# --------------------------------------------------------------------------- #
# optional imports
# --------------------------------------------------------------------------- #
def _import_litert():
    """The ``ai_edge_litert`` package, or an ImportError that names the pip package."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
        import ai_edge_litert.schema_py_generated  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"running or inspecting .tflite files needs the LiteRT runtime (ai-edge-litert), which comes with the "
            f"edge extra: {_INSTALL_HINT}."
        ) from err
    import ai_edge_litert

    return ai_edge_litert


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError(
            f"running .onnx files needs onnxruntime, which comes with the edge extra: {_INSTALL_HINT}."
        ) from err
    return onnxruntime


def _import_keras_tf():
    """``(keras, tensorflow)``; the LiteRT converter needs Keras's TensorFlow backend."""
    from .environment import import_keras, import_tensorflow

    keras = import_keras()
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"exporting needs Keras's TensorFlow backend, this process uses {keras.backend.backend()!r}. "
            f"Set KERAS_BACKEND=tensorflow before keras is first imported (e.g. restart the kernel)."
        )
    return keras, import_tensorflow()


# --------------------------------------------------------------------------- #
# argument checks
# --------------------------------------------------------------------------- #
def _check_out_path(path: Any, suffix: str) -> Path:
    out = Path(path)
    if out.suffix != suffix:
        raise ValueError(f"path must end with {suffix!r}, got {str(path)!r}; e.g. 'models/detector{suffix}'.")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _check_in_path(path: Any, suffix: str) -> Path:
    src = Path(path)
    if not src.is_file():
        writer = "export_litert" if suffix == ".tflite" else "export_onnx"
        raise ValueError(f"no model file at {str(path)!r}; write one with {writer}().")
    if src.suffix != suffix:
        raise ValueError(f"{str(path)!r} is not a {suffix} file.")
    return src


def _sample_shape(model) -> tuple[int, ...]:
    """Shape of one input of a single-input Keras model (without the batch axis), all sizes known."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            "model must be a built Keras model with a known input shape, e.g. a detector's model_ after fit(), "
            "or a functional model built from keras.Input(shape=...)."
        )
    if len(inputs) != 1:
        raise ValueError(f"model has {len(inputs)} inputs; export supports models with one input tensor.")
    shape = tuple(inputs[0].shape[1:])
    if any(size is None for size in shape):
        raise ValueError(
            f"model's input shape (batch, {', '.join(map(str, shape))}) has unknown sizes; an edge model needs "
            f"fixed ones. Build it with keras.Input(shape=(window, n_features)) or (window * n_features,)."
        )
    return tuple(int(size) for size in shape)


def _check_representative(
    representative: Any, shape: tuple[int, ...], batch_size: int, headroom: float = 0.0, quantization: str = "int8"
) -> np.ndarray:
    if representative is None:
        raise ValueError(
            f"quantization={quantization!r} needs representative=..., an array of normal model inputs (e.g. a few "
            'hundred training windows, scaled and shaped exactly as the model sees them) to measure activation ranges. '
            'Pass them, or use quantization="dynamic", which needs no data.'
        )
    rep = np.asarray(representative, dtype=np.float32)
    if rep.shape[1:] != shape or len(rep) < batch_size:
        raise ValueError(
            f"representative has shape {rep.shape}; expected (n, {', '.join(map(str, shape))}) with n >= "
            f"batch_size={batch_size}: the model's inputs, e.g. training windows shaped as in fit()."
        )
    if not np.isfinite(rep).all():
        raise ValueError("representative contains NaN or infinite values; pass clean normal training inputs.")
    if len(rep) > _MAX_REPRESENTATIVE:
        rep = rep[np.linspace(0, len(rep) - 1, _MAX_REPRESENTATIVE).astype(int)]
    if headroom > 0:  # the same windows stretched about the centre of their range widen every measured range
        centre = (rep.min() + rep.max()) / 2
        rep = np.concatenate([rep, (rep - centre) * np.float32(1 + headroom) + centre]).astype(np.float32)
    return rep


def _check_keep_float(keep_float: Any, model, quantization: str) -> list[str]:
    if keep_float is None:
        return []
    names = [keep_float] if isinstance(keep_float, str) else list(keep_float)
    if names and quantization != "int8":
        raise ValueError(
            f"keep_float keeps layers in float32 inside an int8 file; with quantization={quantization!r} nothing "
            f"is int8 to begin with. Use quantization='int8' or leave keep_float out."
        )
    layers = [layer.name for layer in model.layers]
    unknown = [name for name in names if name not in layers]
    if unknown:
        raise ValueError(f"keep_float names layers the model does not have: {unknown}; its layers are {layers}.")
    return names


def _in_layer(tensor_name: str, layer: str) -> bool:
    """Whether a converted tensor belongs to ``layer``: traced ops live in the name scope ``<layer>_<n>``."""
    scope = re.compile(re.escape(layer) + r"_\d+")
    return any(scope.fullmatch(part) for name in tensor_name.split(";") for part in name.split("/"))


def _tensors(buffer: bytes) -> list[tuple[str, int]]:
    """``(name, type code)`` of every tensor of the main graph of a .tflite flatbuffer."""
    graph = _import_litert().schema_py_generated.Model.GetRootAs(buffer, 0).Subgraphs(0)
    return [
        ((graph.Tensors(i).Name() or b"").decode("utf-8", "replace"), graph.Tensors(i).Type())
        for i in range(graph.TensorsLength())
    ]


# --------------------------------------------------------------------------- #
# .tflite inspection
# --------------------------------------------------------------------------- #
def _operator_codes(buffer: bytes) -> list[tuple[str, bool]]:
    """``(name, is_custom)`` of every operator code of a .tflite flatbuffer.

    Builtin ops are named as in the schema (``"FULLY_CONNECTED"``, ``"WHILE"``;
    ``"BUILTIN_<n>"`` for a code newer than the installed schema), custom ops by
    their custom code (``"FlexBitwiseAnd"``).
    """
    schema = _import_litert().schema_py_generated
    if len(buffer) < 8 or buffer[4:8] != b"TFL3":
        raise ValueError("not a .tflite model: the file lacks the 'TFL3' flatbuffer identifier.")
    builtin_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAs(buffer, 0)
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        # builtin codes above 127 live in BuiltinCode; older files only fill DeprecatedBuiltinCode
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            codes.append(((code.CustomCode() or b"?").decode("utf-8", "replace"), True))
        else:
            codes.append((builtin_names.get(builtin, f"BUILTIN_{builtin}"), False))
    return codes


def _operator_names(buffer: bytes) -> list[str]:
    """Names of all operator codes of a .tflite flatbuffer, builtin and custom (see :func:`_operator_codes`)."""
    return [name for name, _ in _operator_codes(buffer)]


def flex_ops(path: Any) -> list[str]:
    """Flex and other custom ops in a .tflite file; an empty list means builtin ops only.

    A Flex op (custom code ``"Flex..."``, e.g. ``"FlexTensorListReserve"``) is a
    TensorFlow kernel embedded in the file; ``ai-edge-litert`` and the TFLite
    runtimes of microcontrollers and phones cannot run it (the interpreter fails
    when it allocates the tensors). Other custom ops need a kernel registered by
    hand. Either way the file is not portable.

    Parameters
    ----------
    path : str or Path, a .tflite file

    Returns
    -------
    list of str, sorted, each op code once
    """
    src = _check_in_path(path, ".tflite")
    return sorted({name for name, custom in _operator_codes(src.read_bytes()) if custom})


# --------------------------------------------------------------------------- #
# GPU safety: the same portable graph with or without a GPU (issue 11)
# --------------------------------------------------------------------------- #
@contextlib.contextmanager
def _portable_trace(model):
    """While this context is open, ``model`` traces to the portable graph even when a GPU is visible.

    Keras 3's TensorFlow backend picks the LSTM/GRU implementation *while it traces*:
    with ``use_cudnn="auto"`` (the default), cuDNN-compatible arguments (tanh/sigmoid,
    ``unroll=False``, ...) and a visible GPU (``tf.config.list_logical_devices("GPU")``,
    asked by ``keras.src.backend.tensorflow.rnn.cudnn_ok``), the layer becomes one
    ``CudnnRNNV3`` op, a GPU-only kernel that neither the LiteRT converter nor ``tf2onnx``
    accepts (tensorflow-onnx#2359: tf2onnx even writes the .onnx file with the op left
    in). Without a GPU the same layer becomes a ``While`` loop (or, unrolled, plain ops).
    ``tf.device("/CPU:0")`` does not help: it chooses where ops run, not which ops are
    traced, so the trace still holds ``CudnnRNNV3``. What does help is the layer's own
    switch: every recurrent layer of ``model`` (nested ones, e.g. inside
    ``Bidirectional``, included) gets ``use_cudnn=False`` until the context closes, and
    its previous value back afterwards, also after an error. Weights, variables and
    layer names are untouched (no clone), and a model without recurrent layers is not
    changed at all. Not thread-safe: do not call the model from another thread meanwhile.
    """
    # Keras's own recursive walk (Model.layers lists one level only)
    layers = [
        layer for layer in model._flatten_layers(include_self=True, recursive=True)
        if getattr(layer, "use_cudnn", False) is not False  # LSTM and GRU: "auto" or True
    ]
    before = [layer.use_cudnn for layer in layers]
    try:
        for layer in layers:
            layer.use_cudnn = False
        yield
    finally:
        for layer, value in zip(layers, before):
            layer.use_cudnn = value


def _graph_ops(concrete_function) -> set[str]:
    """Op types of a traced concrete function, with those of the functions it calls (loop bodies)."""
    graph_def = concrete_function.graph.as_graph_def()
    ops = {node.op for node in graph_def.node}
    return ops | {node.op for function in graph_def.library.function for node in function.node_def}


def _check_portable(ops: set[str] | list[str], target: str) -> None:
    """Refuse a traced graph or converted file that still holds cuDNN ops (see :func:`_portable_trace`)."""
    cudnn = sorted(op for op in ops if "Cudnn" in op)
    if cudnn:
        raise ValueError(
            f"the traced model holds GPU-only cuDNN ops ({', '.join(cudnn)}) that {target} cannot run. "
            f"Recurrent layers are exported with use_cudnn=False; a custom layer that calls cuDNN itself needs "
            f"a portable code path (or export on a machine without a GPU)."
        )


# --------------------------------------------------------------------------- #
# export
# --------------------------------------------------------------------------- #
def _has_loop(model, spec) -> bool:
    """Whether the traced graph of ``model`` on ``spec`` contains a while loop (e.g. an LSTM with unroll=False)."""
    _, tf = _import_keras_tf()
    with _portable_trace(model):  # on a GPU the loop would hide inside a CudnnRNNV3 op
        function = tf.function(lambda x: model(x, training=False), input_signature=[spec]).get_concrete_function()
    return bool(_graph_ops(function) & _LOOP_OPS)


def _write_saved_model(model, spec, directory: str) -> None:
    """Write ``model`` as a SavedModel with one ``serve`` endpoint of fixed input ``spec`` (inference mode).

    The endpoint is traced to the portable graph also on a GPU machine (:func:`_portable_trace`).
    """
    keras, _ = _import_keras_tf()
    archive = keras.export.ExportArchive()
    archive.track(model)
    with _portable_trace(model):
        endpoint = archive.add_endpoint("serve", lambda x: model(x, training=False), input_signature=[spec])
        _check_portable(_graph_ops(endpoint.get_concrete_function()), "the LiteRT converter")
        archive.write_out(directory, verbose=False)


#: SavedModels written in this process, the most recent last: exporting one model in several formats (float32,
#: dynamic, int8 with and without headroom, ...) traces and writes it once. Key: the model's id, the input
#: shape, a digest of its weights (new weights, new SavedModel) and the tracer; value: a weak reference to the
#: model (an id can be re-used once a model is gone) and the folder, removed when it leaves the cache or at exit.
_SAVED_MODELS: OrderedDict[tuple, tuple[Any, tempfile.TemporaryDirectory]] = OrderedDict()
_SAVED_MODELS_KEPT = 4


def _saved_model_dir(model, spec) -> str:
    """The folder of ``model``'s SavedModel for input ``spec`` (:func:`_write_saved_model`), once per weights."""
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    key = (id(model), tuple(spec.shape), digest.hexdigest(), _portable_trace)  # another tracer: trace anew
    kept = _SAVED_MODELS.get(key)
    if kept is not None and kept[0]() is model:
        _SAVED_MODELS.move_to_end(key)
        return kept[1].name
    folder = tempfile.TemporaryDirectory(prefix="sadlib_saved_model_")
    try:
        _write_saved_model(model, spec, folder.name)
    except BaseException:
        folder.cleanup()
        raise
    _SAVED_MODELS[key] = (weakref.ref(model), folder)
    while len(_SAVED_MODELS) > _SAVED_MODELS_KEPT:
        _SAVED_MODELS.popitem(last=False)[1][1].cleanup()
    return folder.name


@contextlib.contextmanager
def _cheap_collections():
    """While open, a full garbage collection skips every object that existed before (``gc.freeze``).

    TensorFlow's SavedModel converter calls ``gc.collect()`` in every conversion. In a notebook kernel that
    walks every object the session has made (pandas, matplotlib, Keras: over 600,000 in notebook 09), about
    0.3 s on a 2-core machine, longer than converting a small model. The objects made during the conversion
    are still collected; the older ones go back to the oldest generation when the context closes (also
    after an error), to be collected as usual. A caller that has frozen objects itself keeps them frozen:
    nothing is frozen or unfrozen then.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _unconverted_onnx_ops(path: Path) -> list[str]:
    """Op types in an .onnx file's default domain that ONNX does not define: ops tf2onnx left unconverted."""
    import onnx

    graphs, unknown = [onnx.load(str(path), load_external_data=False).graph], set()
    while graphs:  # the main graph and the bodies of its Loop / If nodes (a While becomes a Loop)
        for node in graphs.pop().node:
            if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type):
                unknown.add(node.op_type)
            for attr in node.attribute:
                graphs.extend([attr.g] if attr.type == onnx.AttributeProto.GRAPH else attr.graphs)
    return sorted(unknown)


def _converter(
    saved_model_dir: str, quantization: str, representative: np.ndarray | None, batch_size: int, mixed: bool = False
):
    _, tf = _import_keras_tf()
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    converter.experimental_enable_resource_variables = True
    if quantization in _INTEGER:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [representative[i : i + batch_size]] for i in range(0, len(representative) - batch_size + 1, batch_size)
        )
        integer_ops = (
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8
            if quantization == "int8"
            else tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        )
        converter.target_spec.supported_ops = [integer_ops] + (
            [tf.lite.OpsSet.TFLITE_BUILTINS] if mixed else []  # float kernels for the layers kept in float32
        )
        # input and output stay float32: a QUANTIZE op at the input, DEQUANTIZE at the output
        converter.inference_input_type = tf.float32
        converter.inference_output_type = tf.float32
    else:
        if quantization == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        # Flex ops are allowed here only so that the check below can name them in its error
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    return converter


class _KeepFloatError(ValueError):
    """A keep_float request that cannot be honoured (raised as is, not as a converter failure)."""


def _mixed_int8(tmp: str, rep: np.ndarray, batch_size: int, keep_float: list[str]) -> bytes:
    """int8 conversion with the ops of the ``keep_float`` layers denylisted (left in float32)."""
    _, tf = _import_keras_tf()
    float_names = [name for name, _ in _tensors(_converter(tmp, "float32", None, batch_size).convert())]
    nodes = {layer: [n for n in float_names if _in_layer(n, layer)] for layer in keep_float}
    missing = [layer for layer, found in nodes.items() if not found]
    if missing:
        raise _KeepFloatError(
            f"keep_float: no converted op belongs to layer(s) {missing} (ops are named '<layer>_<n>/...'); "
            f"a layer without computations (an Input, a Reshape folded away) has nothing to keep in float."
        )
    kept = {name for found in nodes.values() for name in found}
    converter = _converter(tmp, "int8", rep, batch_size, mixed=True)
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=sorted(kept))
    with warnings.catch_warnings():  # the debugger builds a tf.lite.Interpreter internally (deprecated; unused here)
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated", category=UserWarning)
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=converter.representative_dataset, debug_options=options
        )
        buffer = debugger.get_nondebug_quantized_model()
    still_int8 = [name for name, dtype in _tensors(buffer) if name in kept and dtype == _INT8]
    if still_int8:  # the denylist did not apply: say so rather than ship a file that is not what was asked
        raise _KeepFloatError(f"keep_float: the converter still quantized {still_int8[:3]} to int8.")
    return buffer


def export_litert(
    model,
    path: Any,
    *,
    quantization: Literal["float32", "dynamic", "int8", "int16x8"] = "float32",
    representative: Any = None,
    batch_size: int = 1,
    headroom: float = 0.25,
    keep_float: Any = None,
) -> Path:
    """Write a Keras model as a LiteRT (.tflite) file with a fixed batch and builtin ops only.

    Parameters
    ----------
    model : keras.Model
        A built single-input model, e.g. ``detector.model_`` of a fitted
        :class:`~sadlib.detectors.dense_ae.DenseAutoencoder` (input ``(batch, window * n_features)``)
        or of a sequence autoencoder (input ``(batch, window, n_features)``). The
        scaler and the windowing are *not* part of the file: apply them before.
    path : str or Path
        Output file, ending in ``.tflite``; missing folders are created.
    quantization : {"float32", "dynamic", "int8", "int16x8"}
        See the module docstring. ``"int8"`` and ``"int16x8"`` keep float32 input and output.
    representative : ndarray of shape (n, \\*input_shape), optional
        Normal model inputs (scaled training windows), required for ``"int8"`` and ``"int16x8"``; at
        most 300 of them, evenly spread, are used to measure activation ranges.
    batch_size : int
        The fixed batch of the file (1: one window per call, what a streaming
        device does). A dynamic batch is not offered: LSTMs would need Flex ops.
    headroom : float, default 0.25
        ``"int8"`` and ``"int16x8"``: the ranges are also measured on the representative windows
        stretched by ``1 + headroom`` about their centre, so that normal inputs a
        little outside the training range are not clipped. 0 measures exactly the
        representative windows' ranges (finer steps, clipping beyond them).
    keep_float : str or list of str, optional
        ``"int8"`` only: names of layers (``model.layers``) whose ops stay float32
        in the file (selective quantization), e.g. ``["quantizer"]`` for a VQ-VAE,
        whose nearest-code lookup breaks when its distances are rounded to int8.

    Returns
    -------
    Path, the written file

    Raises
    ------
    ValueError
        Bad arguments; an int8 or int16x8 export of a model with a while loop (an LSTM with
        ``unroll=False``), which would crash the converter; a conversion that
        fails or needs Flex/custom ops (the file is then removed).
    """
    if quantization not in QUANTIZATIONS:  # check_choice, with the levels explained
        raise InvalidParameterError(
            f"quantization must be one of {', '.join(map(repr, QUANTIZATIONS))}; got {quantization!r}. "
            f"'float32' keeps the numbers, 'dynamic' stores int8 weights, 'int8' also runs int8 activations, "
            f"'int16x8' runs int16 activations with int8 weights."
        )
    batch_size = check_int("batch_size", batch_size, 1, hint=_BATCH_HINT)
    shape = _sample_shape(model)
    headroom = check_number(
        "headroom", headroom, 0,
        hint="0.25 calibrates the int8 ranges 25 % wider than the representative windows'; 0 exactly theirs.",
    )
    keep = _check_keep_float(keep_float, model, quantization)
    rep = None
    if quantization in _INTEGER:
        rep = _check_representative(representative, shape, batch_size, headroom, quantization)
    out = _check_out_path(path, ".tflite")
    _import_litert()  # the check of the written file needs it; fail before the slow conversion
    _, tf = _import_keras_tf()
    spec = tf.TensorSpec((batch_size, *shape), tf.float32, name="window")
    if quantization in _INTEGER and _has_loop(model, spec):
        raise ValueError(
            f"the model contains a while loop (a recurrent layer such as LSTM or GRU with unroll=False); "
            f"{quantization} conversion of a loop crashes the TFLite converter. Export an unrolled copy, same "
            "weights, no refit: build_lstm_autoencoder(window, n_features, units=..., unroll=True)"
            ".set_weights(model.get_weights()) (or fit LSTMAutoencoder(..., unroll=True)), or export with "
            "quantization='dynamic'."
        )
    tmp = _saved_model_dir(model, spec)  # one SavedModel per model and weights, whatever the format
    try:
        with _cheap_collections():
            if keep:
                buffer = _mixed_int8(tmp, rep, batch_size, keep)
            else:
                buffer = _converter(tmp, quantization, rep, batch_size).convert()
    except _KeepFloatError:
        raise
    except Exception as err:  # tf.lite's ConverterError carries the MLIR diagnostics
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        raise ValueError(
            f"the LiteRT converter failed ({quantization!r}): {first_line} "
            f"Ops with no LiteRT builtin (e.g. keras.ops.argmax on floats) must move out of the model; "
            f"recurrent layers need a fixed batch (batch_size=1) or unroll=True. Full message above."
        ) from err
    out.write_bytes(buffer)
    bad = flex_ops(out)
    if bad:
        out.unlink()
        raise ValueError(
            f"the converted model needs ops that pip LiteRT runtimes cannot run: {', '.join(bad)}; no file was kept. "
            f"Fix: keep a fixed batch (batch_size=1), build recurrent layers with unroll=True, and move ops such "
            f"as argmax/argmin out of the model (into NumPy after it)."
        )
    return out


def export_onnx(model, path: Any, *, batch_size: int = 1) -> Path:
    """Write a Keras model as an ONNX file with a fixed batch (through ``tf2onnx``, via ``model.export``).

    Parameters
    ----------
    model : keras.Model, a built single-input model (see :func:`export_litert`)
    path : str or Path, output file ending in ``.onnx``; missing folders are created
    batch_size : int, the fixed batch of the file (1: one window per call)

    Returns
    -------
    Path, the written file

    Raises
    ------
    ImportError
        ``tf2onnx`` or ``onnx`` is not installed (``pip install tf2onnx onnx``).
    ValueError
        Bad arguments; a converted graph with ops ONNX does not define (``tf2onnx``
        leaves ops it cannot convert in the file; it is then removed).
    """
    for package in ("tf2onnx", "onnx"):
        try:
            __import__(package)
        except ImportError as err:
            raise ImportError(
                f"ONNX export needs {package}, which comes with the edge extra: {_INSTALL_HINT}."
            ) from err
    batch_size = check_int("batch_size", batch_size, 1, hint=_BATCH_HINT)
    shape = _sample_shape(model)
    out = _check_out_path(path, ".onnx")
    keras, _ = _import_keras_tf()
    spec = keras.InputSpec(shape=(batch_size, *shape), dtype="float32")
    with warnings.catch_warnings(), _portable_trace(model):  # no cuDNN ops on a GPU machine either (issue 11)
        warnings.simplefilter("ignore", FutureWarning)  # tf2onnx probes np.object, gone in NumPy 2
        model.export(str(out), format="onnx", input_signature=[spec], verbose=False)
    unconverted = _unconverted_onnx_ops(out)
    if unconverted:  # tf2onnx logs "is not supported" and still writes the file
        out.unlink()
        _check_portable(unconverted, "ONNX runtimes")
        raise ValueError(
            f"tf2onnx could not convert these TensorFlow ops: {', '.join(unconverted)}; no file was kept. "
            f"Move them out of the model (into NumPy after it) or use export_litert."
        )
    return out


# --------------------------------------------------------------------------- #
# running exported files
# --------------------------------------------------------------------------- #
class _FixedBatchModel:
    """Runs a fixed-batch model file over any number of inputs (subclasses implement ``_run``)."""

    path: Path
    batch_size: int
    input_shape: tuple[int, ...]

    def _run(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_inputs(self, x: Any) -> np.ndarray:
        arr = np.ascontiguousarray(x, dtype=np.float32)  # the runtimes copy from C-ordered float32 buffers
        if arr.ndim == 0 or len(arr) == 0:
            shape = ", ".join(map(str, self.input_shape))
            raise ValueError(f"x has shape {arr.shape}; pass at least one input, shape (n, {shape}).")
        if arr.shape[1:] != self.input_shape:
            shape = ", ".join(map(str, self.input_shape))
            hint = (" For one input use predict_one(x) or predict(x[None])." if arr.shape == self.input_shape
                    else " Cut and scale windows as in fit(); a dense autoencoder takes flattened windows, "
                         "windows.reshape(len(windows), -1).")
            raise ValueError(f"x has shape {arr.shape}; this model takes (n, {shape}).{hint}")
        return arr

    def predict(self, x: Any) -> np.ndarray:
        """Outputs for ``n`` inputs, run ``batch_size`` (usually 1) at a time.

        Parameters
        ----------
        x : array-like of shape (n, \\*input_shape), converted to float32

        Returns
        -------
        ndarray of shape (n, \\*output_shape), float32
        """
        arr = self._check_inputs(x)
        b, n = self.batch_size, len(arr)
        outputs = []
        for start in range(0, n, b):
            chunk = arr[start : start + b]
            if len(chunk) < b:  # pad the last chunk with copies of its last input
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], b - len(chunk), axis=0)])
            outputs.append(self._run(chunk)[: n - start])
        return np.concatenate(outputs).astype(np.float32, copy=False)

    __call__ = predict

    def predict_one(self, x: Any) -> np.ndarray:
        """Output for one input of shape ``input_shape``; returns shape ``output_shape``."""
        arr = np.asarray(x, dtype=np.float32)
        if arr.shape != self.input_shape:
            raise ValueError(
                f"x has shape {arr.shape}; predict_one takes one input of shape {self.input_shape} "
                f"(use predict for a batch of shape (n, ...))."
            )
        return self.predict(arr[None])[0]

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({str(self.path)!r}, input_shape={self.input_shape}, batch_size={self.batch_size})"


class LiteRTModel(_FixedBatchModel):
    """A .tflite file run by ``ai_edge_litert``'s interpreter: ``predict(x)`` / ``predict_one(x)``.

    Parameters
    ----------
    path : str or Path, a .tflite file with one float32 input and output (as written by :func:`export_litert`)
    num_threads : int, CPU threads of the interpreter (1: what a small device has to spare)

    Attributes
    ----------
    input_shape, output_shape : tuple, shapes of one input and one output (no batch axis)
    batch_size : int, the file's fixed batch
    """

    def __init__(self, path: Any, *, num_threads: int = 1):
        self.path = _check_in_path(path, ".tflite")
        num_threads = check_int("num_threads", num_threads, 1, hint=_THREADS_HINT)
        interpreter_cls = _import_litert().interpreter.Interpreter
        self._interpreter = interpreter_cls(model_path=str(self.path), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"{self.path} has {len(inputs)} inputs and {len(outputs)} outputs; expected one of each.")
        if inputs[0]["dtype"] != np.float32 or outputs[0]["dtype"] != np.float32:
            raise ValueError(
                f"{self.path} has {np.dtype(inputs[0]['dtype']).name} input and {np.dtype(outputs[0]['dtype']).name} "
                f"output; LiteRTModel runs float32 ones (export_litert writes float32 I/O, also for int8)."
            )
        self._input, self._output = inputs[0]["index"], outputs[0]["index"]
        self.batch_size = int(inputs[0]["shape"][0])
        self.input_shape = tuple(int(s) for s in inputs[0]["shape"][1:])
        self.output_shape = tuple(int(s) for s in outputs[0]["shape"][1:])

    def _run(self, batch: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output)  # a copy


class ONNXModel(_FixedBatchModel):
    """An .onnx file run by ``onnxruntime`` on the CPU: ``predict(x)`` / ``predict_one(x)``.

    Parameters
    ----------
    path : str or Path, an .onnx file with one float input and output (as written by :func:`export_onnx`)
    num_threads : int, intra-op CPU threads (1: what a small device has to spare)

    Attributes
    ----------
    input_shape, output_shape : tuple, shapes of one input and one output (no batch axis)
    batch_size : int, the file's fixed batch (1 when the file's batch is dynamic)
    """

    def __init__(self, path: Any, *, num_threads: int = 1):
        self.path = _check_in_path(path, ".onnx")
        num_threads = check_int("num_threads", num_threads, 1, hint=_THREADS_HINT)
        ort = _import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"{self.path} has {len(inputs)} inputs and {len(outputs)} outputs; expected one of each.")
        if inputs[0].type != "tensor(float)" or outputs[0].type != "tensor(float)":
            raise ValueError(f"{self.path} has {inputs[0].type} input and {outputs[0].type} output; expected float32.")
        dims = inputs[0].shape
        if not all(isinstance(d, int) for d in dims[1:]):
            raise ValueError(f"{self.path} has input shape {dims} with unknown sizes; export it with export_onnx().")
        self._input = inputs[0].name
        self.batch_size = dims[0] if isinstance(dims[0], int) else 1
        self.input_shape = tuple(dims[1:])
        self.output_shape = tuple(d if isinstance(d, int) else -1 for d in outputs[0].shape[1:])

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: batch})[0]


# --------------------------------------------------------------------------- #
# checks: same decisions, time per call
# --------------------------------------------------------------------------- #
def parity(reference_scores: Any, edge_scores: Any, threshold_ref: float, threshold_edge: float | None = None) -> dict:
    """How far the exported model's scores are from the reference (Keras) scores.

    Parameters
    ----------
    reference_scores, edge_scores : array-like of shape (n,)
        Scores of the same windows or timestamps, e.g. reconstruction errors of the
        Keras model and of the .tflite file.
    threshold_ref : float
        Alarm threshold of the reference scores (alarm: score > threshold, as
        :meth:`Detector.predict <sadlib.detectors.base.Detector.predict>`).
    threshold_edge : float, optional
        Threshold of the edge scores; defaults to ``threshold_ref``. Recalibrate it
        on the edge model's own normal scores if int8 shifts them.

    Returns
    -------
    dict with
        ``n`` (int), ``correlation`` (Pearson r of the two score vectors, NaN when
        either is constant), ``max_abs_diff`` and ``mean_abs_diff`` (score units),
        ``agreement`` (share of the n alarm decisions that are the same),
        ``alarms_ref`` and ``alarms_edge`` (int, alarm counts).
    """
    ref = as_1d_float(reference_scores, name="reference_scores")
    edge = as_1d_float(edge_scores, name="edge_scores")
    if len(ref) != len(edge):
        raise ValueError(
            f"reference_scores has {len(ref)} values and edge_scores {len(edge)}; "
            f"score the same windows with both models."
        )
    for name, value in (("threshold_ref", threshold_ref), ("threshold_edge", threshold_edge)):
        if name == "threshold_edge" and value is None:
            continue
        check_number(name, value, hint="Pass the alarm threshold of those scores, e.g. detector.threshold_.")
    threshold_edge = threshold_ref if threshold_edge is None else threshold_edge
    alarms_ref, alarms_edge = ref > threshold_ref, edge > threshold_edge
    constant = len(ref) < 2 or np.ptp(ref) == 0 or np.ptp(edge) == 0
    diff = np.abs(ref - edge)
    return {
        "n": len(ref),
        "correlation": float("nan") if constant else float(np.corrcoef(ref, edge)[0, 1]),
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "agreement": float(np.mean(alarms_ref == alarms_edge)),
        "alarms_ref": int(alarms_ref.sum()),
        "alarms_edge": int(alarms_edge.sum()),
    }


#: Relative tolerance of a float32 comparison (:func:`within_tolerance`): two float32 computations of the same
#: values (another batch size, a traced, looped or unrolled graph, another device or kernel library) differ by
#: rounding, about 1e-7 of the values' scale per operation and more after long sums. 1e-4 of the scale leaves
#: room for that and still fails on any real change (a wrong weight, another formula). It assumes full float32
#: matmuls: with TF32 (the default on A100, L4, H100 GPUs) a product keeps only a 10-bit mantissa, about 1e-3
#: relative, so run such checks inside :func:`tf32_disabled`.
FLOAT32_RTOL = 1e-4


def within_tolerance(reference: Any, other: Any, *, scale: float | None = None, rtol: float = FLOAT32_RTOL) -> dict:
    """Whether two computations of the same values agree within a tolerance relative to their scale.

    A fixed absolute tolerance (``1e-6``) fails or passes depending on the units and the size of the
    values, and on the hardware's rounding; this check states its tolerance as a share of the
    values' scale.

    Parameters
    ----------
    reference, other : array-like of the same shape
        The same values computed two ways, e.g. a detector's scores and the scores of another
        scoring path, or the reconstructions of a looped and an unrolled LSTM.
    scale : float, optional
        What a difference is compared with: for anomaly scores the alarm threshold
        (``detector.threshold_``), the value decisions are taken at. Default: the largest
        absolute reference value (1 when all are 0).
    rtol : float, default :data:`FLOAT32_RTOL`
        The largest difference allowed, as a share of ``scale``.

    Returns
    -------
    dict with ``ok`` (bool: ``max_abs_diff <= rtol * scale``), ``max_abs_diff``, ``scale``,
    ``relative_diff`` (``max_abs_diff / scale``), ``rtol``, and ``text``, one line that states
    the difference and the tolerance.
    """
    ref = np.asarray(reference, dtype=np.float64)
    oth = np.asarray(other, dtype=np.float64)
    if ref.shape != oth.shape:
        raise InvalidParameterError(
            f"reference has shape {ref.shape} and other {oth.shape}; compute both on the same inputs."
        )
    if ref.size == 0:
        raise InvalidParameterError("reference is empty; pass the values to compare (at least one).")
    if not (np.isfinite(ref).all() and np.isfinite(oth).all()):
        raise InvalidParameterError(
            "reference or other holds NaN or infinite values; compare finite values (drop the undefined ones first)."
        )
    rtol = check_number("rtol", rtol, 0, low_open=True, hint="It is the tolerance as a share of scale, e.g. 1e-4.")
    if scale is None:
        scale = float(np.max(np.abs(ref))) or 1.0
    else:
        scale = check_number("scale", scale, 0, low_open=True,
                             hint="Pass the values' scale, e.g. the alarm threshold detector.threshold_.")
    diff = float(np.max(np.abs(ref - oth)))
    relative = diff / scale
    ok = diff <= rtol * scale
    text = (f"largest difference {diff:.2g} = {relative:.2g} x the scale {scale:.4g} "
            f"({'within' if ok else 'BEYOND'} the tolerance of {rtol:.0e} x the scale)")
    return {"ok": bool(ok), "max_abs_diff": diff, "scale": float(scale), "relative_diff": relative, "rtol": rtol,
            "text": text}


@contextlib.contextmanager
def tf32_disabled():
    """Full float32 matmuls and convolutions in TensorFlow while the context is open.

    Ampere and later NVIDIA GPUs (A100, L4, H100) run float32 matmuls in TF32 by default,
    which keeps a 10-bit mantissa (about 1e-3 relative): enough for training, too coarse for
    a parity check between two computations of the same scores. The previous setting is
    restored afterwards. On a CPU it changes nothing. Use it around the computations an
    :func:`within_tolerance` check compares::

        with edge.tf32_disabled():
            check = edge.within_tolerance(det.score(X), scores_with_export, scale=det.threshold_)
    """
    _, tf = _import_keras_tf()
    before = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(before)


def latency(fn: Callable[[Any], Any], sample: Any, *, warmup: int = 20, repeats: int = 200) -> dict:
    """Wall time of single calls ``fn(sample)``, measured with ``time.perf_counter``.

    Parameters
    ----------
    fn : callable, e.g. ``LiteRTModel(path).predict_one`` or ``lambda x: model(x[None])``
    sample : the argument of every call, e.g. one window of shape ``input_shape``
    warmup : int, untimed calls first (caches, lazy initialisation, tracing)
    repeats : int, timed calls

    Returns
    -------
    dict with ``median_s``, ``p90_s``, ``mean_s``, ``min_s`` (seconds per call) and
    ``repeats``. Compare medians of runs on the same machine; the 90th percentile
    shows the jitter a real-time loop has to allow for.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a callable such as model.predict_one, got {type(fn).__name__}.")
    warmup = check_int("warmup", warmup, 0, hint="It is the number of untimed calls before the timed ones.")
    repeats = check_int("repeats", repeats, 1, hint="It is the number of timed calls.")
    for _ in range(warmup):
        fn(sample)
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn(sample)
        times[i] = time.perf_counter() - start
    return {
        "median_s": float(np.median(times)),
        "p90_s": float(np.percentile(times, 90)),
        "mean_s": float(times.mean()),
        "min_s": float(times.min()),
        "repeats": repeats,
    }


def __getattr__(name: str):
    """``sadlib.edge.write_bundle`` / ``load_bundle``: the edge bundle (:mod:`sadlib.edge_bundle`), loaded on use."""
    if name in ("write_bundle", "load_bundle"):
        from . import edge_bundle

        return getattr(edge_bundle, name)
    raise AttributeError(f"module 'sadlib.edge' has no attribute {name!r}")
