"""GPU safety of sadlib.edge (issue 11), tested on the CPU.

On a machine with a GPU, Keras 3's TensorFlow backend traces an LSTM or GRU to a
``CudnnRNNV3`` op, which neither the LiteRT converter nor tf2onnx accepts. Keras takes
that decision while tracing, from one question: is a GPU visible
(``keras.src.backend.tensorflow.rnn._is_gpu_available``)? The ``gpu_visible`` fixture
answers yes, so the traces below take exactly the code path of a GPU machine. The
control tests show that this path does produce cuDNN ops (so the tests can fail); the
export tests show that sadlib.edge's files hold none and still compute the model.
"""

from __future__ import annotations

import contextlib
import importlib

import numpy as np
import pytest

from sadlib import edge

WINDOW, N_FEATURES = 8, 2

pytest.importorskip("tensorflow")


def _keras():
    from sadlib.environment import import_keras

    return import_keras()


@pytest.fixture(scope="module")
def models():
    """Two tiny untrained recurrent models (no fit needed), a batch-1 input and their Keras outputs on the CPU."""
    keras = _keras()
    layers = keras.layers
    keras.utils.set_random_seed(0)
    inp = keras.Input((WINDOW, N_FEATURES))
    code = layers.LSTM(4, name="encoder")(inp)
    seq = layers.LSTM(4, return_sequences=True, name="decoder")(layers.RepeatVector(WINDOW)(code))
    lstm = keras.Model(inp, layers.TimeDistributed(layers.Dense(N_FEATURES))(seq), name="lstm_ae")
    inp = keras.Input((WINDOW, N_FEATURES))  # a GRU nested in a wrapper: the walk must reach it
    gru = keras.Model(inp, layers.Dense(N_FEATURES)(layers.Bidirectional(layers.GRU(3))(inp)), name="bigru")
    x = np.random.default_rng(0).standard_normal((3, WINDOW, N_FEATURES)).astype(np.float32)
    reference = {m.name: keras.ops.convert_to_numpy(m(x, training=False)) for m in (lstm, gru)}  # before the patch
    return {"lstm": lstm, "gru": gru}, x, reference


@pytest.fixture
def gpu_visible(monkeypatch):
    """Keras's TensorFlow backend believes a GPU is visible, as on a GPU machine (traces only: nothing may run)."""
    # import_module, not `from keras.src.backend.tensorflow import rnn`: that name is the package's rnn *function*
    backend_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    monkeypatch.setattr(backend_rnn, "_is_gpu_available", lambda: True)


def _traced_ops(model, device: str | None = None) -> set[str]:
    """Op types of ``model`` traced on a batch-1 input (main graph and loop bodies)."""
    import tensorflow as tf

    def call(x):
        with tf.device(device) if device else contextlib.nullcontext():
            return model(x, training=False)

    spec = tf.TensorSpec((1, WINDOW, N_FEATURES), tf.float32)
    graph_def = tf.function(call, input_signature=[spec]).get_concrete_function().graph.as_graph_def()
    return {n.op for n in graph_def.node} | {n.op for f in graph_def.library.function for n in f.node_def}


def _cudnn(ops) -> list[str]:
    return sorted(op for op in ops if "Cudnn" in op)


def _onnx_ops(path) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load(str(path)).graph.node}


# --------------------------------------------------------------------------- #
# controls: the GPU code path does produce cuDNN ops, and placement does not stop it
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_control_a_gpu_trace_holds_cudnn_ops_and_the_cpu_device_does_not_prevent_them(models, name, monkeypatch):
    model = models[0][name]
    assert not _cudnn(_traced_ops(model)), "this machine has no GPU: the plain trace must be portable"
    backend_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    monkeypatch.setattr(backend_rnn, "_is_gpu_available", lambda: True)
    assert _cudnn(_traced_ops(model)) == ["CudnnRNNV3"]
    assert _cudnn(_traced_ops(model, device="/CPU:0")) == ["CudnnRNNV3"]  # placement is not the fix


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_portable_trace_removes_the_cudnn_ops_and_restores_the_layers(models, name, gpu_visible):
    model = models[0][name]
    with edge._portable_trace(model):
        ops = _traced_ops(model)
    assert not _cudnn(ops)
    assert "While" in ops or "StatelessWhile" in ops  # the portable loop, as on a CPU-only machine
    assert _cudnn(_traced_ops(model)) == ["CudnnRNNV3"]  # the user's model is as it was: use_cudnn="auto" again
    recurrent = [layer for layer in model._flatten_layers() if hasattr(layer, "use_cudnn")]
    assert recurrent and all(layer.use_cudnn == "auto" for layer in recurrent)


def test_portable_trace_restores_the_layers_after_an_error(models):
    model = models[0]["gru"]
    with pytest.raises(RuntimeError, match="boom"), edge._portable_trace(model):
        raise RuntimeError("boom")
    assert [layer.use_cudnn for layer in model._flatten_layers() if hasattr(layer, "use_cudnn")] == ["auto", "auto"]


# --------------------------------------------------------------------------- #
# exports on the GPU code path: portable files that compute the model
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_litert_export_on_a_gpu_path_is_portable_and_matches_keras(models, name, gpu_visible, tmp_path):
    pytest.importorskip("ai_edge_litert")
    model, x, reference = models[0][name], models[1], models[2]
    path = edge.export_litert(model, tmp_path / f"{name}.tflite")
    names = edge._operator_names(path.read_bytes())
    assert edge.flex_ops(path) == [] and not _cudnn(names)
    assert "WHILE" in names  # the loop a CPU-only machine writes, not a cuDNN kernel
    np.testing.assert_allclose(edge.LiteRTModel(path).predict(x), reference[model.name], atol=1e-5)


def test_onnx_export_on_a_gpu_path_is_portable_and_matches_keras(models, gpu_visible, tmp_path):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    model, x, reference = models[0]["lstm"], models[1], models[2]
    path = edge.export_onnx(model, tmp_path / "lstm.onnx")
    assert not _cudnn(_onnx_ops(path))
    np.testing.assert_allclose(edge.ONNXModel(path).predict(x), reference[model.name], atol=1e-5)


def test_int8_loop_check_sees_the_loop_on_a_gpu_path(models, gpu_visible, tmp_path):
    """On a GPU the LSTM's loop hides in a CudnnRNNV3 op; the int8 refusal must still name the loop."""
    model, x = models[0]["lstm"], models[1]
    with pytest.raises(ValueError, match="while loop"):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int8", representative=x)
    assert not (tmp_path / "m.tflite").exists()


# --------------------------------------------------------------------------- #
# controls: without the protection, the same exports are refused (no unusable file is kept)
# --------------------------------------------------------------------------- #
def test_without_the_protection_a_gpu_export_is_refused_and_names_the_cudnn_op(models, gpu_visible, monkeypatch,
                                                                              tmp_path):
    pytest.importorskip("tf2onnx")
    model = models[0]["lstm"]
    monkeypatch.setattr(edge, "_portable_trace", lambda model: contextlib.nullcontext())
    with pytest.raises(ValueError, match="cuDNN ops \\(CudnnRNNV3\\) that the LiteRT converter cannot run"):
        edge.export_litert(model, tmp_path / "m.tflite")
    # tf2onnx only logs "CudnnRNNV3 is not supported" and writes the file; export_onnx removes it
    with pytest.raises(ValueError, match="cuDNN ops \\(CudnnRNNV3\\) that ONNX runtimes cannot run"):
        edge.export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.tflite").exists() and not (tmp_path / "m.onnx").exists()
