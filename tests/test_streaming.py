"""Streaming replay (sadlib.streaming): the live path makes the batch path's decisions; the min-duration rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sadlib.streaming import StreamingScorer, batch_scores, min_duration_alarms, stream
from sadlib.validation import InvalidParameterError

WINDOW = 8


def _series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    base = np.column_stack([np.sin(2 * np.pi * t / p) for p in (17, 23, 31)])
    return base + 0.05 * rng.standard_normal(base.shape)


@pytest.fixture(scope="module")
def data():
    train = _series(200, 0)
    test = _series(120, 1)
    test[50:62, 1] += 1.5  # a lasting anomaly
    test[90] += 3.0  # a one-sample spike
    return train, test


@pytest.fixture(scope="module")
def dense(data):
    pytest.importorskip("tensorflow")
    from sadlib.detectors import DenseAutoencoder

    return DenseAutoencoder(window=WINDOW, hidden=(16,), latent=3, epochs=3, validation=0).fit(data[0])


@pytest.fixture(scope="module")
def lstm(data):
    pytest.importorskip("tensorflow")
    from sadlib.detectors import LSTMAutoencoder

    return LSTMAutoencoder(window=WINDOW, units=4, epochs=2, validation=0, normalize=True).fit(data[0])


# --------------------------------------------------------------------------- #
# the min-duration rule
# --------------------------------------------------------------------------- #
def test_min_duration_one_is_plain_threshold():
    s = np.array([0.1, 2.0, 0.5, 3.0, 1.0])
    assert min_duration_alarms(s, 1.0, 1).tolist() == (s > 1.0).tolist()


def test_min_duration_starts_late_and_ends_at_first_low_score():
    s = np.array([0, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2], dtype=float)
    got = min_duration_alarms(s, 1.0, 3)
    assert got.tolist() == [False, False, False, True, True, False, False, False, False, False, False, True]


def test_min_duration_edge_cases():
    assert min_duration_alarms([2.0, 2.0], 1.0, 3).tolist() == [False, False]  # never long enough
    with pytest.raises(ValueError, match="empty"):
        min_duration_alarms([], 1.0, 2)
    assert min_duration_alarms([1.0, 1.0, 1.0], 1.0, 1).tolist() == [False] * 3  # strictly above
    # a missing score breaks the run
    assert min_duration_alarms([2.0, np.nan, 2.0, 2.0], 1.0, 2).tolist() == [False, False, False, True]


@pytest.mark.parametrize("kwargs, match", [
    ({"threshold": np.nan}, "threshold"),
    ({"threshold": "1"}, "threshold"),
    ({"min_duration": 0}, "min_duration"),
    ({"min_duration": 1.5}, "min_duration"),
])
def test_min_duration_bad_arguments(kwargs, match):
    args = {"scores": [1.0, 2.0], "threshold": 1.0, "min_duration": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        min_duration_alarms(**args)


def test_stream_yields_rows_with_timestamps():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=pd.date_range("2024", periods=2, freq="1min"))
    rows = list(stream(df))
    assert rows[1][0] == df.index[1] and rows[1][1].tolist() == [2.0, 4.0]
    assert [t for t, _ in stream(np.zeros((3, 2)))] == [0, 1, 2]


# --------------------------------------------------------------------------- #
# a scorer with a hand-made model: exact arithmetic, bad input
# --------------------------------------------------------------------------- #
def _zero_scorer(**kwargs):
    return StreamingScorer(lambda x: np.zeros_like(x), window=3, threshold=1.0, **kwargs)


def test_scorer_warm_up_and_ring_buffer_order():
    seen = []
    scorer = StreamingScorer(lambda x: seen.append(x.copy()) or np.zeros_like(x), window=3, threshold=0.5)
    steps = [scorer.update([v]) for v in (1.0, 2.0, 3.0, 4.0)]
    assert np.isnan(steps[0].score) and np.isnan(steps[1].score) and not steps[1].alarm
    assert [w.ravel().tolist() for w in seen] == [[1, 2, 3], [2, 3, 4]]  # oldest sample first
    assert steps[2].score == pytest.approx(14 / 3) and steps[3].score == pytest.approx(29 / 3)


def test_scorer_bad_input():
    scorer = _zero_scorer(n_features=2)
    with pytest.raises(ValueError, match="expects 2"):
        scorer.update([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one sample"):
        scorer.update(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        scorer.update([1.0, np.nan])
    with pytest.raises(ValueError, match="callable"):
        StreamingScorer(None, window=3, threshold=1.0)
    with pytest.raises(ValueError, match="error"):
        _zero_scorer(error="rmse")
    with pytest.raises(ValueError, match="window"):
        StreamingScorer(lambda x: x, window=0, threshold=1.0)
    bad = StreamingScorer(lambda x: np.zeros(2), window=3, threshold=1.0)
    for v in (1.0, 2.0):
        bad.update([v])
    with pytest.raises(ValueError, match="predict_one"):
        bad.update([3.0])


def test_from_detector_rejects_non_causal_mapping_and_other_detectors(data):
    from sadlib.detectors import RobustZScore

    with pytest.raises(ValueError, match="reconstruction detector"):
        StreamingScorer.from_detector(RobustZScore(window=None).fit(data[0]))


# --------------------------------------------------------------------------- #
# streaming decisions == batch decisions on trained tiny models
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ["dense", "lstm"])
@pytest.mark.parametrize("min_duration", [1, 3])
def test_stream_matches_batch(name, min_duration, data, request):
    det = request.getfixturevalue(name)
    test = data[1]
    threshold = float(np.nanpercentile(det.score(data[0]), 95))  # low enough for normal-looking alarms too
    scores, alarms = StreamingScorer.from_detector(det, threshold=threshold, min_duration=min_duration).run(test)
    reference = batch_scores(det, test)
    assert np.isnan(scores[: WINDOW - 1]).all() and np.isnan(reference[: WINDOW - 1]).all()
    np.testing.assert_allclose(scores[WINDOW - 1 :], reference[WINDOW - 1 :], rtol=1e-5)
    expected = min_duration_alarms(reference, threshold, min_duration)
    assert alarms.any() and np.array_equal(alarms, expected)
    assert np.array_equal(reference[WINDOW - 1 :], det.score(test)[WINDOW - 1 :])


@pytest.mark.parametrize("name", ["dense", "lstm"])
def test_batch_scores_with_a_batch_predict_reproduces_the_detector(name, data, request):
    import keras

    det = request.getfixturevalue(name)
    predict = lambda x: keras.ops.convert_to_numpy(det.model_(x, training=False))
    np.testing.assert_allclose(batch_scores(det, data[1], predict=predict), batch_scores(det, data[1]), rtol=1e-5)


def test_from_detector_refuses_max_mapping(dense):
    import copy

    det = copy.copy(dense)
    det.aggregate = "max"
    with pytest.raises(ValueError, match="aggregate"):
        StreamingScorer.from_detector(det)


def test_stream_with_litert_file_matches_its_batch(dense, data, tmp_path):
    pytest.importorskip("ai_edge_litert")
    from sadlib import edge

    path = edge.export_litert(dense.model_, tmp_path / "dense.tflite")
    model = edge.LiteRTModel(path)
    threshold = float(np.nanpercentile(dense.score(data[0]), 95))
    scorer = StreamingScorer.from_detector(dense, model.predict_one, threshold=threshold, min_duration=2)
    _, alarms = scorer.run(data[1])
    expected = min_duration_alarms(batch_scores(dense, data[1], predict=model.predict), threshold, 2)
    assert np.array_equal(alarms, expected)


# --------------------------------------------------------------------------- #
# nothing passes silently (issue 25)
# --------------------------------------------------------------------------- #
def _half(x):
    return 0.5 * x


def test_a_model_returning_nan_is_an_error_not_a_silent_nan_score():
    scorer = StreamingScorer(lambda x: np.full_like(x, np.nan), window=2, threshold=1.0)
    scorer.update([1.0, 2.0])  # warming up: the model is not run yet
    with pytest.raises(InvalidParameterError, match="predict returned 4 NaN or infinite value.*sample 1"):
        scorer.update([1.0, 2.0])


@pytest.mark.parametrize("scale", [[np.nan, 1.0], [0.0, 1.0], [-1.0, -1.0], [1.0, np.inf]])
def test_error_scale_must_be_finite_and_positive(scale):
    with pytest.raises(InvalidParameterError, match="error_scale must hold finite positive values"):
        StreamingScorer(_half, window=2, threshold=1.0, error_scale=scale)
    with pytest.raises(TypeError, match="error_scale has dtype"):
        StreamingScorer(_half, window=2, threshold=1.0, error_scale=["a", "b"])


def test_an_empty_first_sample_is_refused_and_leaves_the_scorer_usable():
    scorer = StreamingScorer(_half, window=2, threshold=0.1)
    with pytest.raises(InvalidParameterError, match="the sample is empty"):
        scorer.update([])
    assert scorer.n_features is None
    steps = [scorer.update([1.0, 1.0]) for _ in range(3)]
    assert steps[-1].alarm and steps[-1].score == pytest.approx(0.25)


def test_flatten_must_be_a_bool():
    with pytest.raises(InvalidParameterError, match="flatten must be True or False"):
        StreamingScorer(_half, window=2, threshold=1.0, flatten="no")


def test_a_sample_of_booleans_is_refused_as_in_batch():
    with pytest.raises(InvalidParameterError, match="real numbers"):
        StreamingScorer(_half, window=2, threshold=1.0).update([True, False])


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_run_refuses_timestamps_out_of_order(order):
    idx = pd.date_range("2024-01-01", periods=6, freq="1min")
    idx = idx[::-1] if order == "reversed" else idx[[0, 2, 1, 3, 4, 5]]
    data = pd.DataFrame(np.ones((6, 2)), index=idx)
    with pytest.raises(ValueError, match="not sorted.*sort_index"):
        StreamingScorer(_half, window=2, threshold=1.0).run(data)
    with pytest.raises(ValueError, match="not sorted"):
        next(stream(data))
