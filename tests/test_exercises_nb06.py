"""Notebook 06's exercises beyond the generic tests and the catalogue (tests/catalogue_nb06.py): the real template
cells, the write-the-method questions Q3 (per-sensor window errors), Q4 (the validation threshold) and Q5 (a Conv1D
autoencoder)."""

import importlib.util
import re

import numpy as np
import pytest
from exercise_cells import answer_cells

from sadlib.course.exercises import nb06
from sadlib.course.exercises.checker import questions

if importlib.util.find_spec("keras") is None:
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)



@pytest.fixture(scope="module")
def setup():
    """The namespace of the exercise notebook's setup cell (trains the small Conv1D autoencoder once)."""
    return nb06._context()


def _run_cell(source, namespace):
    """Execute an answer cell with its ``qN.check()`` replaced by ``qN.result()``; return the result."""
    ns = dict(namespace)
    exec("from sadlib.course.exercises import ____\nfrom sadlib.course.exercises.nb06 import q1, q2, q3, q4, q5", ns)
    code = re.sub(r"^(q\d+)\.check\(\)$", r"_result = \1.result()", source, flags=re.M)
    exec(compile(code, "<answer cell>", "exec"), ns)
    return ns["_result"]


def test_every_question_has_an_answer_cell():
    assert sorted(answer_cells("nb06")) == [q.number for q in questions(nb06)]


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_untouched_template_is_not_attempted(setup, number):
    result = _run_cell(answer_cells("nb06")[number], setup)
    assert result.status == "not attempted", result.message


# --------------------------------------------------------------------------- Q3: per-sensor window errors
def test_q3_the_reference_finds_the_injected_sensor_with_the_setup_model(setup):
    """The reference's culprit, computed with the model the setup trains, is the sensor with the level shift."""
    ns = dict(setup)
    exec(nb06.q3.solution_code, ns)
    assert ns["culprit"] == nb06._pump()[3]
    own = ns["errors"]
    lib = setup["det"].window_errors(ns["test_windows"], setup["det"].model_.predict(ns["test_windows"], verbose=0),
                                     per_sensor=True)
    assert np.allclose(own, lib, rtol=1e-4, atol=1e-8)  # the same as the library's per-sensor window errors


def test_q3_errors_as_a_frame_or_a_loop_pass():
    import pandas as pd

    def per_sensor_loop(model, windows):
        rebuilt = model.predict(windows, verbose=0)
        return pd.DataFrame({j: ((rebuilt[:, :, j] - windows[:, :, j]) ** 2).mean(axis=1)
                             for j in range(windows.shape[2])})

    result = nb06.q3.result(sensor_window_errors=per_sensor_loop, culprit=nb06._pump()[3])
    assert result.passed, result.message


def test_q3_a_sum_over_the_steps_is_named():
    def summed(model, windows):
        return np.sum((model.predict(windows, verbose=0) - windows) ** 2, axis=1)

    result = nb06.q3.result(sensor_window_errors=summed, culprit=nb06._pump()[3])
    assert result.status == "incorrect" and "sum" in result.message, result.message


# --------------------------------------------------------------------------- Q4: the validation threshold
@pytest.mark.parametrize("pick", [
    lambda v, t: np.percentile(np.concatenate([v, t]), 99.9),  # both parts pooled
    lambda v, t: t.max(),
    lambda v, t: np.percentile(v, 99.9) + 1e-3 * t.max(),  # nudged by the test part
], ids=["pooled p99.9", "test max", "nudged by test"])
def test_q4_threshold_that_moves_with_the_test_part_fails(pick):
    result = nb06.q4.result(pick_threshold=pick)
    assert result.status == "incorrect" and "leakage" in result.message, result.message


@pytest.mark.parametrize("pick", [lambda v, t: np.percentile(v, 99.9), lambda v, t: np.float32(np.quantile(v, 0.999)),
                                  lambda v, t: np.percentile(v, 99.9, method="lower")])
def test_q4_honest_thresholds_pass(pick):
    result = nb06.q4.result(pick_threshold=pick)
    assert result.passed, result.message


def test_q4_the_checker_probes_a_notebook_threshold_with_fresh_scores(setup):
    """The threshold the reference gives on the notebook's own scores, typed in, fails on fresh scores."""
    fixed = float(np.nanpercentile(setup["det"].score(setup["val"][setup["sensors"]]), 99.9))  # NaN: no score
    result = nb06.q4.result(pick_threshold=lambda v, t: fixed)
    assert result.status == "incorrect" and "typed in" in result.message, result.message


# --------------------------------------------------------------------------- Q5: a Conv1D autoencoder
def _conv(window, n_features, *, filters=(16, 8), activation=None, compile=True, trainable=True, fixed=False):
    import keras
    from keras import layers

    if fixed:
        window, n_features = 24, 4
    inputs = keras.Input(shape=(window, n_features))
    x = inputs
    for f in filters:
        x = layers.Conv1D(f, 5, strides=2, padding="same", activation="relu")(x)
    for f in reversed(filters):
        x = layers.Conv1DTranspose(f, 5, strides=2, padding="same", activation="relu")(x)
    model = keras.Model(inputs, layers.Conv1D(n_features, 5, padding="same", activation=activation)(x))
    if not trainable:
        for layer in model.layers:
            layer.trainable = False
    if compile:
        model.compile(optimizer="adam", loss="mse")
    return model


WRONG_BUILDERS = {
    "ignores its arguments": (lambda w, f: _conv(w, f, fixed=True), "use the arguments"),
    "not compiled": (lambda w, f: _conv(w, f, compile=False), "not compiled"),
    "frozen layers": (lambda w, f: _conv(w, f, trainable=False), "halve"),
    "relu output": (lambda w, f: _conv(w, f, activation="relu"), "relu"),
    "far too many parameters": (lambda w, f: _conv(w, f, filters=(1024, 8)), "parameters"),
}


@pytest.mark.parametrize("name", list(WRONG_BUILDERS))
def test_q5_wrong_builders_fail(name):
    build, words = WRONG_BUILDERS[name]
    result = nb06.q5.result(build_conv_ae=build)
    assert result.status == "incorrect" and words in result.message, result.message


def test_q5_a_sequential_conv_autoencoder_passes():
    def build_conv_ae(window, n_features):
        import keras
        from keras import layers

        model = keras.Sequential([keras.Input(shape=(window, n_features)),
                                  layers.Conv1D(12, 3, strides=2, padding="same", activation="relu"),
                                  layers.Conv1D(6, 3, strides=2, padding="same", activation="relu"),
                                  layers.Conv1DTranspose(12, 3, strides=4, padding="same", activation="relu"),
                                  layers.Conv1D(n_features, 3, padding="same")])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.MeanSquaredError())
        return model

    result = nb06.q5.result(build_conv_ae=build_conv_ae)
    assert result.passed, result.message
