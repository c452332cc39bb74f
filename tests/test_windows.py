import numpy as np
import pandas as pd
import pytest

from sadlib.windows import chronological_split, fit_scaler, sliding_windows, window_starts, windows_to_points


def test_window_starts_cover_the_end():
    assert window_starts(10, 4, 1).tolist() == list(range(7))
    # stride 3 would stop at start 3 (covering 3..6); an extra window covers 6..9
    assert window_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert window_starts(11, 4, 3).tolist() == [0, 3, 6, 7]


def test_sliding_windows_shape_and_content():
    X = np.arange(20, dtype=float).reshape(10, 2)
    W = sliding_windows(X, 4, 2)
    assert W.shape == (4, 4, 2)
    np.testing.assert_array_equal(W[1], X[2:6])
    np.testing.assert_array_equal(W[-1], X[6:10])
    # 1-D input becomes one feature
    assert sliding_windows(np.arange(5.0), 3).shape == (3, 3, 1)
    # a copy, not a view on the input
    W[0, 0, 0] = 99
    assert X[0, 0] == 0


def test_windows_to_points_max_mean_last():
    n, w = 6, 3
    s = np.array([1.0, 5.0, 2.0, 0.0])  # windows start at 0,1,2,3
    np.testing.assert_array_equal(windows_to_points(s, n, w, how="max"), [1, 5, 5, 5, 2, 0])
    np.testing.assert_allclose(windows_to_points(s, n, w, how="mean"), [1, 3, 8 / 3, 7 / 3, 1, 0])
    # "last": no window ends at the first window - 1 samples, so they have no score (NaN)
    np.testing.assert_array_equal(windows_to_points(s, n, w, how="last"), [np.nan, np.nan, 1, 5, 2, 0])


def test_windows_to_points_with_stride_matches_brute_force():
    rng = np.random.default_rng(0)
    n, w, stride = 23, 5, 3
    starts = window_starts(n, w, stride)
    s = rng.random(len(starts))
    for how, agg in (("max", np.max), ("mean", np.mean)):
        expected = [agg([v for st, v in zip(starts, s) if st <= t < st + w]) for t in range(n)]
        np.testing.assert_allclose(windows_to_points(s, n, w, stride, how=how), expected)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.arange(3.0), 5), "window needs 5"),
        ((np.arange(10.0), 0), "window must be an integer >= 1, got 0"),
        ((np.arange(10.0), 3, 0), "stride must be an integer >= 1, got 0"),
        ((np.zeros((2, 3, 4)), 2), "expected 2-D"),
        ((np.array(["a", "b", "c"]), 2), "expected numbers"),
        ((np.empty((0, 2)), 1), "empty"),
    ],
)
def test_sliding_windows_bad_input(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sliding_windows(*args)


def test_windows_to_points_wrong_count():
    with pytest.raises(ValueError, match="has 3 windows"):
        windows_to_points(np.ones(4), 5, 3)
    with pytest.raises(ValueError, match="how must be one of 'max', 'mean', 'last'; got 'median'"):
        windows_to_points(np.ones(3), 5, 3, how="median")


def test_chronological_split_keeps_order_and_type():
    idx = pd.date_range("2024-01-01", periods=100, freq="1min")
    df = pd.DataFrame({"a": np.arange(100.0)}, index=idx)
    tr, va, te = chronological_split(df, 0.6, 0.2)
    assert (len(tr), len(va), len(te)) == (60, 20, 20)
    assert tr.index.max() < va.index.min() < te.index.min()
    assert isinstance(te, pd.DataFrame)
    arr_parts = chronological_split(np.arange(10), 0.5, 0.2)
    assert arr_parts.test.tolist() == [7, 8, 9]


def test_chronological_split_rejects_unsorted_and_bad_fractions():
    idx = pd.date_range("2024-01-01", periods=10, freq="1min")[::-1]
    with pytest.raises(ValueError, match="not sorted.*sort_index"):
        chronological_split(pd.DataFrame({"a": range(10)}, index=idx))
    with pytest.raises(ValueError, match="train \\+ val < 1"):
        chronological_split(np.arange(10), 0.8, 0.3)
    with pytest.raises(ValueError, match="too few"):
        chronological_split(np.arange(2), 0.6, 0.2)


def test_fit_scaler_uses_training_part_only():
    train = np.array([[0.0], [2.0]])
    test = np.array([[100.0]])
    scaler = fit_scaler(train, "minmax")
    assert scaler.transform(test)[0, 0] == pytest.approx(50.0)  # far outside [0, 1]: not refitted on test
    assert fit_scaler(pd.DataFrame({"t": [1.0, 2.0, 3.0]})).mean_[0] == pytest.approx(2.0)


def test_fit_scaler_rejects_constant_column_and_nan():
    with pytest.raises(ValueError, match="constant column.*'b'"):
        fit_scaler(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 3.0]}))
    with pytest.raises(ValueError, match="NaN"):
        fit_scaler(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="kind must be"):
        fit_scaler(np.array([[1.0], [2.0]]), "log")
