"""Notebook 06's exercises beyond the generic tests: the real template cells, behavioural leakage (Q4), the model
builder (Q5) and its wrong answers."""

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


# --------------------------------------------------------------------------- Q4: behavioural leakage check
def _q4_values(setup, pick):
    val_scores, test_scores = setup["det"].score(setup["val"][setup["sensors"]]), \
        setup["det"].score(setup["test"][setup["sensors"]])
    threshold = pick(val_scores, test_scores)
    far = np.mean((test_scores > threshold)[~setup["y_test"]])  # np.float64, the kind NumPy gives
    return {"pick_threshold": pick, "threshold": threshold, "far": far,
            "val_scores": val_scores, "test_scores": test_scores,
            "det": setup["det"], "val": setup["val"], "test": setup["test"], "sensors": setup["sensors"]}


def test_q4_val_scores_of_the_test_part_are_leakage(setup):
    # issue 26: `val_scores = det.score(test)` passed because the check took `val_scores` as given
    values = _q4_values(setup, lambda v, t: np.percentile(v, 99.9))
    values["val_scores"] = values["test_scores"].copy()
    values["threshold"] = np.percentile(values["val_scores"], 99.9)
    values["far"] = np.mean((values["test_scores"] > values["threshold"])[~setup["y_test"]])
    result = nb06.q4.result(**values)
    assert result.status == "incorrect" and "leakage" in result.message and "*test* part" in result.message


# --------------------------------------------------------------------------- Q3: the model's own errors
def _q3_values(setup, sensor_error):
    t = int(np.argmax(setup["det"].score(setup["test"][setup["sensors"]])))
    culprit = setup["sensors"][int(np.argmax(np.asarray(sensor_error)[t]))]
    return {"sensor_error": sensor_error, "culprit": culprit, "det": setup["det"], "train": setup["train"],
            "test": setup["test"], "sensors": setup["sensors"]}


def test_q3_squared_z_scores_are_not_the_models_errors(setup):
    s = setup["sensors"]
    z2 = ((setup["test"][s] - setup["train"][s].mean()) / setup["train"][s].std(ddof=0)) ** 2
    result = nb06.q3.result(**_q3_values(setup, z2.to_numpy()))
    assert result.status == "incorrect" and "squared z-scores" in result.message, result.message


def test_q3_model_errors_as_a_frame_pass(setup):
    import pandas as pd

    err = pd.DataFrame(setup["det"].sensor_errors(setup["test"][setup["sensors"]]), columns=setup["sensors"])
    result = nb06.q3.result(**_q3_values(setup, err.to_numpy()))
    assert result.passed, result.message


@pytest.mark.parametrize("pick", [
    lambda v, t: np.percentile(t, 97),  # the 97th percentile of the test scores: the wrong answer of the issue
    lambda v, t: np.percentile(np.concatenate([v, t]), 99.9),  # both parts pooled
    lambda v, t: np.percentile(t, 99.9) if len(t) else 0.0,
    lambda v, t: t.max(),
    lambda v, t: v.max() + 1e-3 * t.max(),  # nudged by the test part
], ids=["test p97", "pooled p99.9", "test p99.9", "test max", "nudged by test"])
def test_q4_threshold_that_moves_with_the_test_part_fails(setup, pick):
    result = nb06.q4.result(**_q4_values(setup, pick))
    assert result.status == "incorrect", result.message


def test_q4_test_percentile_is_called_leakage(setup):
    result = nb06.q4.result(**_q4_values(setup, lambda v, t: np.percentile(t, 97)))
    assert "leakage" in result.message


def test_q4_fixed_number_fails(setup):
    values = _q4_values(setup, lambda v, t: np.percentile(v, 99.9))
    fixed = float(values["threshold"])
    values["pick_threshold"] = lambda v, t: fixed  # typed in after looking: does not follow the validation scores
    result = nb06.q4.result(**values)
    assert result.status == "incorrect" and "validation scores double" in result.message


@pytest.mark.parametrize("pick", [lambda v, t: np.percentile(v, 99.9), lambda v, t: v.max(),
                                  lambda v, t: np.float32(np.percentile(v, 99.5))])
def test_q4_honest_thresholds_pass(setup, pick):
    result = nb06.q4.result(**_q4_values(setup, pick))
    assert result.passed, result.message


def test_q4_threshold_not_from_the_function_fails(setup):
    values = _q4_values(setup, lambda v, t: np.percentile(v, 99.9))
    values["threshold"] = float(np.percentile(values["test_scores"], 97))
    assert nb06.q4.result(**values).status == "incorrect"


# --------------------------------------------------------------------------- Q5: a sequence autoencoder from layers
def _keras():
    import keras
    from keras import layers

    return keras, layers


def _lstm(window, n_features, latent, *, out_units=None, activation=None, compile=True, trainable=True,
          code_units=None, decode=True):
    keras, layers = _keras()
    inputs = keras.Input(shape=(window, n_features))
    code = layers.LSTM(code_units or latent)(inputs)
    if not decode:
        outputs = code
    else:
        x = layers.RepeatVector(window)(code)
        x = layers.LSTM(latent, return_sequences=True)(x)
        outputs = layers.TimeDistributed(layers.Dense(out_units or n_features, activation=activation))(x)
    model = keras.Model(inputs, outputs)
    if not trainable:
        for layer in model.layers:
            layer.trainable = False
    if compile:
        model.compile(optimizer="adam", loss="mse")
    return model


def _conv(window, n_features, latent):
    keras, layers = _keras()
    inputs = keras.Input(shape=(window, n_features))
    x = layers.Conv1D(16, 5, strides=2, padding="same", activation="relu")(inputs)
    code = layers.Dense(latent)(layers.Flatten()(x))
    x = layers.Reshape((window // 2, 16))(layers.Dense((window // 2) * 16, activation="relu")(code))
    outputs = layers.Conv1DTranspose(n_features, 5, strides=2, padding="same")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.MeanSquaredError())
    return model


def _dense(window, n_features, latent):
    keras, layers = _keras()
    inputs = keras.Input(shape=(window, n_features))
    code = layers.Dense(latent)(layers.Flatten()(inputs))
    outputs = layers.Reshape((window, n_features))(layers.Dense(window * n_features)(code))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


def _no_bottleneck(window, n_features, latent):
    keras, layers = _keras()
    inputs = keras.Input(shape=(window, n_features))
    x = layers.Conv1D(8, 3, padding="same", activation="relu")(inputs)
    outputs = layers.Conv1D(n_features, 3, padding="same")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


def _huge(window, n_features, latent):
    keras, layers = _keras()
    inputs = keras.Input(shape=(window, n_features))
    code = layers.LSTM(latent)(layers.LSTM(256, return_sequences=True)(inputs))
    x = layers.LSTM(256, return_sequences=True)(layers.RepeatVector(window)(code))
    outputs = layers.TimeDistributed(layers.Dense(n_features))(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


def _fixed(window, n_features, latent):
    return _lstm(24, 4, 8)  # ignores its arguments


WRONG_BUILDERS = {
    "ignores its arguments": _fixed,
    "only Dense layers": _dense,
    "no bottleneck": _no_bottleneck,
    "code of the wrong size": lambda w, f, latent: _lstm(w, f, latent, code_units=2 * latent + 1),
    "returns the code only": lambda w, f, latent: _lstm(w, f, latent, decode=False),
    "not compiled": lambda w, f, latent: _lstm(w, f, latent, compile=False),
    "frozen layers": lambda w, f, latent: _lstm(w, f, latent, trainable=False),
    "far too many parameters": _huge,
}


@pytest.mark.parametrize("name", list(WRONG_BUILDERS))
def test_q5_wrong_builders_fail(name):
    build = WRONG_BUILDERS[name]
    result = nb06.q5.result(build_sequence_ae=build, model=build(24, 4, 8))
    assert result.status == "incorrect", result.message


def test_q5_a_wrong_output_shape_fails():
    result = nb06.q5.result(build_sequence_ae=_lstm, model=_lstm(24, 4, 8, out_units=3))
    assert result.status == "incorrect" and "shape" in result.message


def test_q5_model_not_a_keras_model_fails():
    result = nb06.q5.result(build_sequence_ae=_lstm, model=np.zeros((24, 4)))
    assert result.status == "incorrect"


@pytest.mark.parametrize("build", [_lstm, _conv], ids=["lstm", "conv"])
def test_q5_other_designs_pass(build):
    result = nb06.q5.result(build_sequence_ae=build, model=build(24, 4, 8))
    assert result.passed, result.message
