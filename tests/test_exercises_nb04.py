"""Exercises of notebook 04: the committed templates are "not attempted", the reference solutions pass, the checks
hold by behaviour.

The red-team answers (wrong answers, leaks and unconventional right answers of every question) are in
``tests/catalogue_nb04.py``; here: the notebook and the module agree, the untouched templates, the solutions, and
the properties that the catalogue does not show on its own (why question 4 needs more than F1, that the library
is back after a check, that the checks of questions 3 and 6 use data the notebook never shows).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from exercise_cells import answer_cells, setup_source

from sadlib.course.exercises import ____, nb04

if importlib.util.find_spec("keras") is None:  # checked without importing it (that would load TensorFlow)
    pytest.skip("keras is not installed: pip install 'sadlib[deep]'", allow_module_level=True)

QUESTIONS = {q.number: q for q in (nb04.q1, nb04.q2, nb04.q3, nb04.q4, nb04.q5, nb04.q6)}
WRITE_THE_METHOD = {3: "validation threshold", 5: "dense autoencoder", 6: "per-sensor error attribution"}


@pytest.fixture(scope="module")
def ns():
    """One setup namespace for the whole module (its model cache makes repeated training instant)."""
    return nb04._context()


def _answer_cell(number: int) -> str:
    """The code before ``qN.check()`` in the committed exercise notebook's answer cell."""
    return answer_cells("nb04")[number].split(f"q{number}.check()")[0].rstrip()


def _run(ns: dict, code: str) -> dict:
    local = dict(ns, ____=____)
    exec(compile(code, "<answer>", "exec"), local)
    return local


def _result(ns: dict, number: int, code: str):
    q = QUESTIONS[number]
    local = _run(ns, code)
    return q.result(**{name: local[name] for name in q.variables})


# --- the notebook and the module agree; untouched templates --------------------------------------------------

def test_notebook_imports_every_question_and_runs_the_setup():
    setup = setup_source("nb04")
    assert "from sadlib.course.exercises.nb04 import q1, q2, q3, q4, q5, q6" in setup
    assert nb04.SETUP.strip() in setup


@pytest.mark.parametrize("number", sorted(nb04.ANSWER_CELLS))
def test_function_templates_in_the_notebook_match_the_module(number):
    assert _answer_cell(number) == nb04.ANSWER_CELLS[number]


@pytest.mark.parametrize("number", sorted(QUESTIONS))
def test_untouched_template_is_not_attempted(ns, number):
    result = _result(ns, number, _answer_cell(number))
    assert result.status == "not attempted", result.message
    assert "____" in result.message


def test_partly_filled_pipeline_is_still_not_attempted(ns):
    code = nb04.ANSWER_CELLS[4].replace("scaler = ____", "scaler = MinMaxScaler().fit(X_train)")
    assert _result(ns, 4, code).status == "not attempted"


@pytest.mark.parametrize("number", sorted(QUESTIONS))
def test_reference_solution_passes(number):
    result = QUESTIONS[number].check_solution()
    assert result.passed, result.message


def test_three_questions_have_the_learner_write_a_method():
    for number, words in WRITE_THE_METHOD.items():
        assert words in (QUESTIONS[number].method or ""), (number, QUESTIONS[number].method)


# --- question 3: fresh rows, both values of q -----------------------------------------------------------------

def test_q3_is_checked_on_rows_the_notebook_never_shows():
    model, val, test = nb04._q3_data(31)
    assert val.shape[1] != nb04._parts()[0].shape[1]  # not the toy's 2 columns: a number typed in cannot fit
    typed_in = ("def validation_threshold(model, val_windows, test_windows, q=99.9):\n"
                "    return 0.05\n")
    assert nb04.q3.result(validation_threshold=_run({"np": np}, typed_in)["validation_threshold"]).status == "incorrect"


def test_q3_a_threshold_that_ignores_q_fails(ns):
    code = ("def validation_threshold(model, val_windows, test_windows, q=99.9):\n"
            "    e = np.mean((val_windows - model.predict(val_windows, verbose=0)) ** 2, axis=1)\n"
            "    return np.percentile(e, 99.9)\n")
    result = _result(ns, 3, code)
    assert result.status == "incorrect" and "use the argument `q`" in result.message, result.message


# --- question 4: the end-to-end pipeline ----------------------------------------------------------------------

def test_q4_the_leaky_z_score_would_have_passed_on_f1_alone():
    """The reason for the behavioural checks: on the untouched rows the leaky one-liner is perfect."""
    from sadlib.metrics import point_metrics

    X_train, X_val, X_test, y_test = nb04._parts()
    x = np.vstack([X_train, X_val, X_test])
    alarms = (np.abs((x - x.mean(axis=0)) / x.std(axis=0)).max(axis=1) > 3)[500:]
    assert point_metrics(y_test, alarms)["f1"] == 1.0


def test_q4_an_honest_z_score_is_not_an_autoencoder_pipeline(ns):
    code = ("def detect(X_train, X_val, X_test):\n"
            "    mean, std = X_train.mean(axis=0), X_train.std(axis=0)\n"
            "    threshold = np.abs((X_val - mean) / std).max()\n"
            "    return np.abs((X_test - mean) / std).max(axis=1) > threshold, None, None, threshold\n")
    result = _result(ns, 4, code)
    assert result.status == "incorrect" and "fitted scaler" in result.message, result.message


def test_q4_a_model_without_a_bottleneck_fails(ns):
    code = ("def detect(X_train, X_val, X_test):\n"
            "    scaler = MinMaxScaler().fit(X_train)\n"
            "    model = train_autoencoder(scaler.transform(X_train), 4, epochs=5)\n"
            "    threshold = errors(model, scaler.transform(X_val)).max()\n"
            "    return errors(model, scaler.transform(X_test)) > threshold, scaler, model, threshold\n")
    result = _result(ns, 4, code)
    assert result.status == "incorrect" and "no bottleneck" in result.message, result.message


def test_q4_the_random_line_is_the_detectors_own_alarms_shifted():
    """A detector whose alarms do not follow the events is at its random line: the check names it."""
    from sadlib.course.exercises.checker import Incorrect

    _, _, _, y_test = nb04._parts()
    unrelated = np.zeros(len(y_test), bool)
    unrelated[::25] = True  # short alarms, evenly spread
    with pytest.raises(Incorrect, match="random line"):
        nb04._beats_random_line(y_test, unrelated, "the test rows")
    assert "random line" in nb04._beats_random_line(y_test, y_test.copy(), "the test rows")


# --- questions 5 and 6: the library is unavailable during the check, and back afterwards ----------------------

def test_the_library_works_again_after_the_checks(ns):
    from sadlib import attribution, thresholds
    from sadlib.detectors import dense_ae

    library = ("from sadlib.detectors.dense_ae import build_dense_autoencoder\n\n"
               "def train_dense_autoencoder(scaled_train, latent, epochs=20, seed=0):\n"
               "    return build_dense_autoencoder(scaled_train.shape[1], hidden=(8,), latent=latent)\n")
    assert "write it yourself" in _result(ns, 5, library).message
    assert callable(ns["train_autoencoder"]) and ns["train_autoencoder"].__name__ == "train_autoencoder"
    assert dense_ae.build_dense_autoencoder(6, hidden=(4,), latent=2).output_shape == (None, 6)
    assert thresholds.PercentileThreshold(q=50).fit([1.0, 2.0, 3.0]).threshold_ == 2.0
    shares = attribution.error_share(np.array([[1.0, 3.0]]), [True])
    assert np.allclose(shares.to_numpy(), [[0.25, 0.75]])


def test_q6_the_culprit_is_not_the_sensor_with_the_largest_share():
    """The fresh windows of question 6 are built so that the event share alone names the wrong sensor."""
    for window, n_sensors, seed in nb04._Q6_CASES:
        model, W_event, W_normal, culprit = nb04._q6_data(window, n_sensors, seed)
        ratio = nb04._expected_ratio(model, W_event, W_normal, n_sensors)
        residual = (W_event - model.predict(W_event)).reshape(len(W_event), -1, n_sensors)
        event_share = (residual ** 2).sum(axis=(0, 1))
        assert int(np.argmax(ratio)) == culprit
        assert int(np.argmax(event_share)) != culprit
