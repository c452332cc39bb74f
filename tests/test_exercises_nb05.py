"""Notebook 05's exercises: the real template cells, leakage caught by behaviour, the Keras model question."""


import numpy as np
import pytest
from exercise_cells import answer_cells, run_cell, setup_namespace

from sadlib.course.exercises import nb05
from sadlib.course.exercises.checker import questions


def test_every_question_has_a_template_cell():
    assert sorted(answer_cells("nb05")) == [q.number for q in questions(nb05)]


@pytest.mark.parametrize("number", [q.number for q in questions(nb05)])
def test_untouched_template_prints_not_attempted(number):
    """Run the committed cell as a learner would, without changing it."""
    ns = setup_namespace("nb05")
    printed = run_cell(answer_cells("nb05")[number], ns)
    assert printed.startswith("Not attempted"), printed


def _result(number, **values):
    return getattr(nb05, f"q{number}").result(**values)


# ----------------------------------------------------------------------------- Q3: eps must not move with the test
def _suggest(errors, k):
    """The 99th percentile of the k-distances, written as a learner would (the library's is switched off)."""
    v = np.asarray(errors, dtype=float)
    return float(np.percentile(np.sort(np.abs(v[:, None] - v[None, :]), axis=1)[:, k - 1], 99))


def test_q3_the_own_k_distance_matches_the_library():
    from sadlib.clustering import suggest_eps

    val = nb05._context()["val_errors"]
    assert np.isclose(_suggest(val, 10), suggest_eps(val, k=10))


@pytest.mark.parametrize("rule", [
    lambda val, test: (_suggest(test, 10), 10),  # the leak the issue names
    lambda val, test: (_suggest(test, 5), 5),
    lambda val, test: (_suggest(np.concatenate([val, test]), 10), 10),  # validation and test pooled
    lambda val, test: (_suggest(val, 10) * test.max() / val.max(), 10),  # scaled to the test errors
], ids=["suggest_eps(test, 10)", "suggest_eps(test, 5)", "pooled", "rescaled-to-test"])
def test_q3_eps_from_the_test_errors_is_incorrect(rule):
    result = _result(3, dbscan_params=rule)
    assert result.status == "incorrect", result.message
    assert "leakage" in result.message


def test_q3_the_tutorial_guess_is_incorrect():
    result = _result(3, dbscan_params=lambda val, test: (0.1, 5))
    assert result.status == "incorrect" and "guess" in result.message


def test_q3_numpy_types_pass_and_a_fixed_value_from_the_plot_fails():
    good = _suggest(nb05._context()["val_errors"], 10)
    assert _result(3, dbscan_params=lambda val, test: (np.float64(_suggest(val, 10)), np.int64(10))).passed
    # a number read off the plot (made with the library, say) and typed in: the method is not written, and it
    # does not follow other validation errors
    result = _result(3, dbscan_params=lambda val, test: (round(good, 3), 10))
    assert result.status == "incorrect" and "typed in" in result.message, result.message


def test_q3_partly_filled_template_is_not_attempted():
    from sadlib.course.exercises import ____

    assert _result(3, dbscan_params=lambda val, test: (____, 10)).status == "not attempted"


def test_q3_wrong_return_is_incorrect_not_an_error():
    result = _result(3, dbscan_params=lambda val, test: 0.05)
    assert result.status == "incorrect" and "two values" in result.message


# ----------------------------------------------------------------------------- Q4: the threshold must not move
@pytest.mark.parametrize("rule", [
    lambda val, test: test > np.percentile(test, 85),  # the leak the issue names
    lambda val, test: test > np.percentile(test, 95),
    lambda val, test: test > np.percentile(np.concatenate([val, test]), 97),  # pooled
    lambda val, test: test > test.mean() + 3 * test.std(),  # a z-score of the test errors
], ids=["test-p85", "test-p95", "pooled-p97", "test-zscore"])
def test_q4_threshold_from_the_test_errors_is_incorrect(rule):
    result = _result(4, alarm_rule=rule)
    assert result.status == "incorrect", result.message
    assert "leakage" in result.message


@pytest.mark.parametrize("rule", [
    lambda val, test: test > np.percentile(val, 99),
    lambda val, test: test > 1.5 * val.max(),
    lambda val, test: (test > np.percentile(val, 99.5)).astype(np.int64),  # 0/1 instead of booleans
], ids=["val-p99", "1.5max", "int-alarms"])
def test_q4_thresholds_from_validation_pass(rule):
    result = _result(4, alarm_rule=rule)
    assert result.passed, result.message


def test_q4_rules_other_than_one_threshold_are_incorrect():
    low_threshold = _result(4, alarm_rule=lambda val, test: test > np.percentile(val, 50))
    assert low_threshold.status == "incorrect" and "90th percentile" in low_threshold.message
    not_a_threshold = _result(4, alarm_rule=lambda val, test: np.arange(len(test)) % 2 == 0)
    assert not_a_threshold.status == "incorrect" and "one threshold" in not_a_threshold.message


def test_q4_a_threshold_from_the_first_test_rows_is_caught_by_the_shuffle():
    """Rows 750-799 are normal, so `1.5 x max` of them looks harmless, and the planted anomaly (later rows) leaves
    it unchanged; shuffling the test rows moves it."""
    rule = lambda val, test: test > 1.5 * test[:50].max()  # noqa: E731
    test = nb05._context()["test_errors"]
    planted = nb05._changed_tests(test)[0][1]
    assert np.array_equal(rule(None, planted)[:150], rule(None, test)[:150])  # the planted rows do not catch it
    result = _result(4, alarm_rule=rule)
    assert result.status == "incorrect" and "shuffled" in result.message, result.message


# ----------------------------------------------------------------------------- Q5: the Keras model
def _builder(units=(64, 32), activation=None, compile_=True, loss="mse", last_sequence=False, outputs=None,
             learning_rate=1e-3, window=None):
    def build_forecaster(w, n_features):
        import keras

        inputs = keras.Input(shape=(window or w, n_features))
        x = inputs
        for i, u in enumerate(units):
            x = keras.layers.LSTM(u, return_sequences=i < len(units) - 1 or last_sequence)(x)
        model = keras.Model(inputs, keras.layers.Dense(outputs or n_features, activation=activation)(x))
        if compile_:
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        return model

    return build_forecaster


@pytest.mark.parametrize("kwargs, words", [
    ({"units": (64,)}, "stacked"),
    ({"activation": "relu"}, "linear"),
    ({"compile_": False}, "compile"),
    ({"loss": "mae"}, "squared error"),
    ({"last_sequence": True}, "whole sequence"),
    ({"outputs": 1}, "every sensor"),
    ({"window": 50}, "keras.Input"),
    ({"units": (4, 2)}, "too few"),
    ({"units": (64, 512, 256)}, "far slower"),
    ({"learning_rate": 1e-7}, "lowers it"),
], ids=["one-lstm", "relu-output", "not-compiled", "mae", "sequence-out", "one-output", "fixed-window", "tiny",
        "huge", "no-learning"])
def test_q5_wrong_models_are_incorrect(kwargs, words):
    result = _result(5, build_forecaster=_builder(**kwargs))
    assert result.status == "incorrect", result.message
    assert words in result.message, result.message


def test_q5_a_sequential_model_with_other_sizes_passes():
    def build_forecaster(window, n_features):
        import keras

        model = keras.Sequential([keras.Input(shape=(window, n_features)),
                                  keras.layers.LSTM(32, return_sequences=True), keras.layers.LSTM(16),
                                  keras.layers.Dense(n_features)])
        model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())
        return model

    result = _result(5, build_forecaster=build_forecaster)
    assert result.passed, result.message


def test_q5_not_a_function_or_not_a_model_is_incorrect():
    assert _result(5, build_forecaster=3).status == "incorrect"
    assert _result(5, build_forecaster=lambda w, n: "model").status == "incorrect"


# ----------------------------------------------------------------------------- Q1: the windowing, written yourself
def test_q1_pairs_centred_on_the_whole_series_fail():
    """Subtracting the mean of the whole series reads rows that come after each pair."""
    def drifts(series, window):
        inputs = np.stack([series[i:i + window] for i in range(len(series) - window)])
        return inputs - series.mean(axis=0), series[window:] - series.mean(axis=0)  # centred on the whole series

    result = _result(1, make_pairs=drifts)
    assert result.status == "incorrect", result.message


def test_q1_a_one_sensor_target_vector_passes():
    def flat_targets(series, window):
        inputs = np.stack([series[i:i + window] for i in range(len(series) - window)])
        return inputs, series[window:, 0] if series.shape[1] == 1 else series[window:]

    assert _result(1, make_pairs=flat_targets).passed


def test_q2_a_scaler_fitted_on_all_rows_fails():
    from sklearn.preprocessing import MinMaxScaler

    values = nb05._values()
    scaler = MinMaxScaler().fit(values)
    result = _result(2, scaler=scaler, test_scaled=scaler.transform(values[750:]))
    assert result.status == "incorrect" and "1000 rows" in result.message
