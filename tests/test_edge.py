"""Edge export (sadlib.edge): LiteRT and ONNX files of tiny trained models, their checks and helpers.

Export tests skip when the optional packages are missing (``pip install "sadlib[edge]"``);
the parity and latency helpers are tested without them.
"""

from __future__ import annotations

import numpy as np
import pytest

from sadlib import edge
from sadlib.windows import sliding_windows

WINDOW = 8


# --------------------------------------------------------------------------- #
# fixtures: tiny models trained once per module
# --------------------------------------------------------------------------- #
def _series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    base = np.column_stack([np.sin(2 * np.pi * t / p) for p in (17, 23, 31, 41)])
    return base + 0.05 * rng.standard_normal(base.shape)


@pytest.fixture(scope="module")
def data():
    train = _series(240, 0)
    test = _series(160, 1)
    test[60:75, 1] += 1.5  # an anomaly, so the window errors spread and the correlations mean something
    test[110:120] *= 0.2
    return train, test


def _reference(model, x: np.ndarray) -> np.ndarray:
    import keras

    return keras.ops.convert_to_numpy(model(x, training=False))


def _errors(x: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Mean squared reconstruction error per input, shape (n,)."""
    return ((reconstruction - x) ** 2).reshape(len(x), -1).mean(axis=1)


@pytest.fixture(scope="module")
def dense(data, tmp_path_factory):
    """A fitted tiny dense autoencoder, its flat windows (train, test) and its float32 .tflite file."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("ai_edge_litert")
    from sadlib.detectors.dense_ae import DenseAutoencoder

    train, test = data
    det = DenseAutoencoder(window=WINDOW, hidden=(32,), latent=4, epochs=2, validation=0, calibration=0.2)
    det.fit(train)
    flat = lambda X: sliding_windows(det.scaler_.transform(X), WINDOW).reshape(-1, WINDOW * 4).astype(np.float32)
    folder = tmp_path_factory.mktemp("dense")
    f32 = edge.export_litert(det.model_, folder / "dense_f32.tflite")
    return det.model_, flat(train), flat(test), f32


@pytest.fixture(scope="module")
def lstm(data):
    """A fitted tiny LSTM autoencoder (unroll=False) and its windows (train, test)."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("ai_edge_litert")
    from sadlib.detectors.sequence_ae import LSTMAutoencoder

    train, test = data
    det = LSTMAutoencoder(window=WINDOW, units=8, epochs=2, validation=0, calibration=0.2)
    det.fit(train)
    windows = lambda X: sliding_windows(det.scaler_.transform(X), WINDOW).astype(np.float32)
    return det.model_, windows(train), windows(test)


# --------------------------------------------------------------------------- #
# dense autoencoder: float32, dynamic, int8, ONNX
# --------------------------------------------------------------------------- #
def test_dense_float32_litert_matches_keras(dense):
    model, _, test, path = dense
    assert edge.flex_ops(path) == []
    runner = edge.LiteRTModel(path)
    assert runner.input_shape == (WINDOW * 4,) and runner.batch_size == 1
    out = runner.predict(test)
    assert out.shape == test.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(model, test), atol=1e-5)
    np.testing.assert_allclose(runner.predict_one(test[3]), out[3], atol=1e-6)


@pytest.mark.parametrize("quantization", ["dynamic", "int8"])
def test_dense_quantized_litert_keeps_the_scores(dense, quantization, tmp_path):
    model, train, test, f32 = dense
    path = edge.export_litert(model, tmp_path / f"dense_{quantization}.tflite", quantization=quantization,
                              representative=train if quantization == "int8" else None)
    assert edge.flex_ops(path) == []
    out = edge.LiteRTModel(path).predict(test)
    reference = _errors(test, _reference(model, test))
    r = edge.parity(reference, _errors(test, out), threshold_ref=float(np.quantile(reference, 0.9)))
    assert r["correlation"] > 0.9
    if quantization == "int8":
        assert path.stat().st_size < f32.stat().st_size


def _input_scale(path) -> float:
    """Scale of the int8 tensor made by the file's first op (the QUANTIZE of the float32 input)."""
    from ai_edge_litert import schema_py_generated as schema

    graph = schema.Model.GetRootAs(path.read_bytes(), 0).Subgraphs(0)
    first = graph.Operators(0)
    return float(graph.Tensors(first.Outputs(0)).Quantization().ScaleAsNumpy()[0])


def test_int8_headroom_widens_the_calibrated_input_range(dense, tmp_path):
    model, train, test, _ = dense
    exact = edge.export_litert(model, tmp_path / "h0.tflite", quantization="int8", representative=train, headroom=0)
    wide = edge.export_litert(model, tmp_path / "h25.tflite", quantization="int8", representative=train)
    # int8 spans the measured range in 255 steps: exactly the training windows' range without headroom,
    # a range stretched by 1.25 about its centre with the default headroom=0.25
    assert _input_scale(exact) == pytest.approx((train.max() - train.min()) / 255, rel=0.02)
    assert _input_scale(wide) == pytest.approx(1.25 * _input_scale(exact), rel=0.02)
    # an input beyond the training range: clipped without headroom, so its reconstruction strays further from Keras
    beyond = (test[:20] * 1.15).astype(np.float32)
    beyond[:, 0] = train.max() + 0.1 * (train.max() - train.min())
    err = lambda path: np.abs(edge.LiteRTModel(path).predict(beyond) - _reference(model, beyond)).mean()
    assert err(wide) < err(exact)


def test_dense_fixed_batch_of_two_pads_the_last_chunk(dense, tmp_path):
    model, _, test, _ = dense
    runner = edge.LiteRTModel(edge.export_litert(model, tmp_path / "b2.tflite", batch_size=2))
    assert runner.batch_size == 2
    odd = test[:7]
    np.testing.assert_allclose(runner.predict(odd), _reference(model, odd), atol=1e-5)


def test_dense_onnx_matches_keras(dense, tmp_path):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    model, _, test, _ = dense
    path = edge.export_onnx(model, tmp_path / "sub" / "dense.onnx")
    runner = edge.ONNXModel(path)
    assert runner.input_shape == (WINDOW * 4,) and runner.batch_size == 1
    np.testing.assert_allclose(runner.predict(test), _reference(model, test), atol=1e-5)


# --------------------------------------------------------------------------- #
# LSTM autoencoder: a WHILE loop in float32, unrolled for int8
# --------------------------------------------------------------------------- #
def test_lstm_float32_batch1_has_no_flex_ops_and_matches_keras(lstm, tmp_path):
    model, _, test = lstm
    path = edge.export_litert(model, tmp_path / "lstm.tflite")
    assert edge.flex_ops(path) == []
    assert "WHILE" in edge._operator_names(path.read_bytes())  # the loop is a builtin op at batch 1
    runner = edge.LiteRTModel(path)
    assert runner.input_shape == (WINDOW, 4)
    np.testing.assert_allclose(runner.predict(test), _reference(model, test), atol=1e-5)


@pytest.mark.parametrize("quantization", ["int8", "int16x8"])
def test_lstm_integer_export_with_a_while_loop_is_refused_before_the_converter_crashes(lstm, tmp_path, quantization):
    model, train, _ = lstm  # both levels segfault the TF 2.21 converter on a WHILE loop
    with pytest.raises(ValueError, match=f"{quantization} conversion of a loop.*unroll=True"):
        edge.export_litert(model, tmp_path / "lstm.tflite", quantization=quantization, representative=train)
    assert not (tmp_path / "lstm.tflite").exists()


@pytest.fixture(scope="module")
def lstm_integer_errors(lstm, tmp_path_factory):
    """Reconstruction errors of the test windows: Keras, and the unrolled copy in int8 and in int16x8."""
    from sadlib.detectors.sequence_ae import build_lstm_autoencoder

    model, train, test = lstm
    unrolled = build_lstm_autoencoder(WINDOW, 4, units=8, unroll=True)
    unrolled.set_weights(model.get_weights())  # same weights: unroll changes the graph, not the model
    folder = tmp_path_factory.mktemp("lstm_integer")
    errors = {"keras": _errors(test, _reference(model, test))}
    for quantization in ("int8", "int16x8"):
        path = edge.export_litert(unrolled, folder / f"{quantization}.tflite", quantization=quantization,
                                  representative=train)
        assert edge.flex_ops(path) == []
        assert "WHILE" not in edge._operator_names(path.read_bytes())
        errors[quantization] = _errors(test, edge.LiteRTModel(path).predict(test))
    return errors


def test_lstm_int8_unrolled_converts_and_keeps_the_scores(lstm_integer_errors):
    e = lstm_integer_errors
    assert edge.parity(e["keras"], e["int8"], float(np.median(e["keras"])))["correlation"] > 0.9


def test_lstm_int16x8_is_closer_to_keras_than_int8(lstm_integer_errors):
    e = lstm_integer_errors
    gap = {q: np.abs(e[q] - e["keras"]).mean() for q in ("int8", "int16x8")}
    assert gap["int16x8"] < 0.75 * gap["int8"]  # measured 0.53x with the model.fit training (7 Dec 2026)
    assert edge.parity(e["keras"], e["int16x8"], float(np.median(e["keras"])))["correlation"] > 0.99


# --------------------------------------------------------------------------- #
# Flex ops
# --------------------------------------------------------------------------- #
def test_flex_ops_finds_the_flex_op_of_a_select_tf_ops_file(tmp_path):
    pytest.importorskip("ai_edge_litert")
    tf = pytest.importorskip("tensorflow")
    import keras

    # keras.ops.argmax on floats lowers to TensorFlow ops without a LiteRT builtin (Keras >= 3.9)
    fn = tf.function(lambda x: keras.ops.argmax(x, axis=-1), input_signature=[tf.TensorSpec((1, 4), tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    path = tmp_path / "flex.tflite"
    path.write_bytes(converter.convert())
    found = edge.flex_ops(path)
    assert found and all(name.startswith("Flex") for name in found)


def test_export_of_a_model_that_needs_flex_ops_fails_and_names_the_fix(tmp_path):
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("tensorflow")
    import keras

    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.ops.argmax(keras.layers.Dense(4)(inputs), axis=-1))
    with pytest.raises(ValueError, match="argmax"):
        edge.export_litert(model, tmp_path / "argmax.tflite")
    assert not (tmp_path / "argmax.tflite").exists()


def test_flex_ops_rejects_a_file_that_is_not_tflite(tmp_path):
    pytest.importorskip("ai_edge_litert")
    path = tmp_path / "fake.tflite"
    path.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(ValueError, match="TFL3"):
        edge.flex_ops(path)
    with pytest.raises(ValueError, match="export_litert"):
        edge.flex_ops(tmp_path / "missing.tflite")


# --------------------------------------------------------------------------- #
# input validation
# --------------------------------------------------------------------------- #
def test_export_arguments_are_checked(dense, tmp_path):
    model, train, _, _ = dense
    with pytest.raises(ValueError, match="representative="):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int8")
    with pytest.raises(ValueError, match="quantization='int16x8' needs representative="):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int16x8")
    with pytest.raises(ValueError, match=r"'dynamic'"):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="float16")
    with pytest.raises(ValueError, match=r"\(n, 32\)"):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int8", representative=train[:, :10])
    with pytest.raises(ValueError, match=r"\.tflite"):
        edge.export_litert(model, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="batch_size"):
        edge.export_litert(model, tmp_path / "m.tflite", batch_size=0)
    with pytest.raises(ValueError, match="headroom must be a number >= 0"):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int8", representative=train, headroom=-0.1)
    with pytest.raises(ValueError, match=r"headroom must be a number >= 0, got nan\. 0\.25 calibrates"):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int8", representative=train,
                           headroom=float("nan"))
    with pytest.raises(TypeError, match=r"batch_size must be an integer >= 1, got True\. It is the fixed batch"):
        edge.export_litert(model, tmp_path / "m.tflite", batch_size=True)  # a bool is not a batch size
    with pytest.raises(TypeError, match=r"batch_size must be an integer >= 1, got 1\.0"):
        edge.export_onnx(model, tmp_path / "m.onnx", batch_size=1.0)
    with pytest.raises(ValueError, match="quantization='int8'"):
        edge.export_litert(model, tmp_path / "m.tflite", keep_float=[model.layers[1].name])
    with pytest.raises(ValueError, match=r"does not have: \['nope'\]; its layers are \["):
        edge.export_litert(model, tmp_path / "m.tflite", quantization="int8", representative=train, keep_float="nope")
    assert not (tmp_path / "m.tflite").exists()


def test_runner_checks_the_input_shape(dense):
    _, _, test, path = dense
    runner = edge.LiteRTModel(path)
    with pytest.raises(ValueError, match=r"reshape\(len\(windows\), -1\)"):
        runner.predict(test.reshape(len(test), WINDOW, 4))
    with pytest.raises(ValueError, match="predict_one"):
        runner.predict(test[0])
    with pytest.raises(ValueError, match="at least one input"):
        runner.predict(test[:0])
    with pytest.raises(ValueError, match="predict for a batch"):
        runner.predict_one(test[:2])
    with pytest.raises(ValueError, match="num_threads must be an integer >= 1, got 0. It is the number of CPU threads"):
        edge.LiteRTModel(path, num_threads=0)


# --------------------------------------------------------------------------- #
# parity and latency helpers (no optional packages needed)
# --------------------------------------------------------------------------- #
def test_parity_of_identical_and_shifted_scores():
    ref = np.array([0.1, 0.2, 0.3, 0.9, 1.2])
    same = edge.parity(ref, ref, threshold_ref=0.5)
    assert same == {"n": 5, "correlation": pytest.approx(1.0), "max_abs_diff": 0.0, "mean_abs_diff": 0.0,
                    "agreement": 1.0, "alarms_ref": 2, "alarms_edge": 2}
    shifted = edge.parity(ref, ref + 0.25, threshold_ref=0.5)
    assert shifted["correlation"] == pytest.approx(1.0)
    assert shifted["max_abs_diff"] == pytest.approx(0.25)
    assert shifted["agreement"] == pytest.approx(0.8)  # 0.3 + 0.25 crosses 0.5
    assert edge.parity(ref, ref + 0.25, 0.5, threshold_edge=0.75)["agreement"] == 1.0
    assert np.isnan(edge.parity(ref, np.ones(5), 0.5)["correlation"])


def test_parity_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same windows"):
        edge.parity(np.ones(5), np.ones(4), 0.5)
    with pytest.raises(ValueError, match="threshold_ref must be a finite number, got None. .*detector.threshold_"):
        edge.parity(np.ones(5), np.ones(5), None)
    with pytest.raises(ValueError, match="threshold_edge must be a finite number, got inf"):
        edge.parity(np.ones(5), np.ones(5), 0.5, threshold_edge=float("inf"))


def test_latency_returns_per_call_statistics():
    calls = []
    result = edge.latency(calls.append, 1.0, warmup=3, repeats=25)
    assert len(calls) == 28
    assert set(result) == {"median_s", "p90_s", "mean_s", "min_s", "repeats"}
    assert result["repeats"] == 25
    assert 0 <= result["min_s"] <= result["median_s"] <= result["p90_s"]
    with pytest.raises(ValueError, match="repeats must be an integer >= 1, got 0. It is the number of timed calls"):
        edge.latency(calls.append, 1.0, repeats=0)
    with pytest.raises(ValueError, match="warmup must be an integer >= 0, got -1"):
        edge.latency(calls.append, 1.0, warmup=-1)
    with pytest.raises(ValueError, match="callable"):
        edge.latency("model", 1.0)


def test_agreement_is_relative_to_the_scale_and_states_its_tolerance():
    ref = np.array([0.001, 0.004, 0.02])
    close = ref + np.array([0.0, 3e-7, -2e-7])  # float32 rounding of scores around a threshold of 0.005
    check = edge.within_tolerance(ref, close, scale=0.005)
    assert check["ok"] and check["rtol"] == edge.FLOAT32_RTOL == 1e-4
    assert np.isclose(check["max_abs_diff"], 3e-7) and np.isclose(check["relative_diff"], 6e-5)
    assert "within the tolerance of 1e-04 x the scale" in check["text"] and "0.005" in check["text"]
    # the same absolute difference on scores a thousand times smaller is a real difference
    far = edge.within_tolerance(ref * 1e-3, ref * 1e-3 + 3e-7, scale=0.005e-3)
    assert not far["ok"] and "BEYOND the tolerance of 1e-04" in far["text"]
    # scale defaults to the largest reference value: reconstructions of scaled values in 0..1
    recon = np.linspace(0, 0.9, 12).reshape(3, 4)
    assert edge.within_tolerance(recon, recon + 5e-5)["ok"] and not edge.within_tolerance(recon, recon + 2e-4)["ok"]
    assert edge.within_tolerance(recon, recon + 5e-5)["scale"] == pytest.approx(0.9)
    assert edge.within_tolerance(np.zeros(3), np.zeros(3))["scale"] == 1.0


def test_agreement_rejects_bad_inputs_naming_the_parameter():
    with pytest.raises(edge.InvalidParameterError, match=r"reference has shape \(3,\) and other \(2,\)"):
        edge.within_tolerance(np.ones(3), np.ones(2))
    with pytest.raises(edge.InvalidParameterError, match="NaN or infinite"):
        edge.within_tolerance(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(edge.InvalidParameterError, match="scale"):
        edge.within_tolerance(np.ones(2), np.ones(2), scale=0)
    with pytest.raises(edge.InvalidParameterError, match="rtol"):
        edge.within_tolerance(np.ones(2), np.ones(2), rtol=-1e-4)
    with pytest.raises(edge.InvalidParameterError, match="empty"):
        edge.within_tolerance([], [])


def test_tf32_disabled_turns_tf32_off_and_restores_it():
    from sadlib.environment import import_tensorflow

    tf = import_tensorflow()
    before = tf.config.experimental.tensor_float_32_execution_enabled()
    try:
        for start in (True, False):
            tf.config.experimental.enable_tensor_float_32_execution(start)
            with edge.tf32_disabled():
                assert tf.config.experimental.tensor_float_32_execution_enabled() is False
            assert tf.config.experimental.tensor_float_32_execution_enabled() is start
        tf.config.experimental.enable_tensor_float_32_execution(True)
        with pytest.raises(RuntimeError, match="inside"):
            with edge.tf32_disabled():
                raise RuntimeError("inside")
        assert tf.config.experimental.tensor_float_32_execution_enabled() is True  # restored after an error too
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(before)


def test_one_saved_model_per_model_and_weights_whatever_the_format(dense, monkeypatch, tmp_path):
    """Exporting one model in two formats traces it once; new weights give a new SavedModel, never a stale file."""
    import keras

    from sadlib.detectors.dense_ae import build_dense_autoencoder

    _, _, test, _ = dense
    writes = []
    real = edge._write_saved_model
    monkeypatch.setattr(edge, "_write_saved_model", lambda *a, **k: (writes.append(a[0]), real(*a, **k)))
    model = build_dense_autoencoder(WINDOW * 4, (16,), 2)
    edge.export_litert(model, tmp_path / "a_f32.tflite")
    edge.export_litert(model, tmp_path / "a_dynamic.tflite", quantization="dynamic")
    assert len(writes) == 1
    model.set_weights([w + 0.1 for w in model.get_weights()])
    changed = edge.export_litert(model, tmp_path / "b_f32.tflite")
    assert len(writes) == 2
    np.testing.assert_allclose(edge.LiteRTModel(changed).predict(test[:5]),
                               keras.ops.convert_to_numpy(model(test[:5], training=False)), atol=1e-5)


def test_conversions_skip_older_objects_in_the_converters_collection_and_leave_gc_as_found(dense, monkeypatch,
                                                                                           tmp_path):
    """TensorFlow's converter calls gc.collect(); during export_litert the objects made before are frozen (a cheap
    collection), afterwards nothing stays frozen, and a caller's own freeze is left alone."""
    import gc

    model, train, _, _ = dense
    frozen_at_collect = []
    real_collect = gc.collect

    def collect(*args):
        frozen_at_collect.append(gc.get_freeze_count())
        return real_collect(*args)

    monkeypatch.setattr(gc, "collect", collect)
    assert gc.get_freeze_count() == 0
    edge.export_litert(model, tmp_path / "int8.tflite", quantization="int8", representative=train)
    assert frozen_at_collect and min(frozen_at_collect) > 1000  # the converter collected, with the old objects frozen
    assert gc.get_freeze_count() == 0
    gc.freeze()  # a caller that froze objects itself keeps them frozen
    try:
        before = gc.get_freeze_count()
        edge.export_litert(model, tmp_path / "f32.tflite")
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()
    with pytest.raises(ValueError, match="representative"):  # an error inside leaves nothing frozen
        with edge._cheap_collections():
            raise ValueError("representative")
    assert gc.get_freeze_count() == 0
