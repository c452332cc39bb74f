"""sadlib._runs: the one home for runs of True (events, alarm ranges)."""

from __future__ import annotations

import numpy as np
import pytest

from sadlib import _runs, metrics, plots
from sadlib.validation import InvalidParameterError


@pytest.mark.parametrize("mask, runs", [
    ([0, 1, 1, 0, 1], [(1, 3), (4, 5)]),
    ([1, 1, 1], [(0, 3)]),
    ([0, 0], []),
    ([], []),
    ([True], [(0, 1)]),
    (np.array([1, 0, 1, 0, 1, 1], dtype=np.int64), [(0, 1), (2, 3), (4, 6)]),
])
def test_true_runs_are_half_open_and_in_order(mask, runs):
    assert _runs.true_runs(mask) == runs
    starts, ends = _runs.run_bounds(mask)
    assert starts.dtype == ends.dtype == np.int64
    assert list(zip(starts.tolist(), ends.tolist())) == runs
    m = np.asarray(mask, dtype=bool)
    for s, e in runs:
        assert m[s:e].all() and (s == 0 or not m[s - 1]) and (e == m.size or not m[e])


def test_metrics_and_plots_use_the_same_runs():
    rng = np.random.default_rng(0)
    mask = rng.random(500) < 0.3
    assert metrics.events(mask) == _runs.true_runs(mask)
    np.testing.assert_array_equal(plots._runs(mask), np.array(_runs.true_runs(mask)))


def test_any_true_in():
    mask = np.array([0, 0, 1, 0, 0, 0], dtype=bool)
    np.testing.assert_array_equal(_runs.any_true_in(mask, [0, 3, 2], [2, 6, 3]), [False, False, True])
    with pytest.raises(InvalidParameterError, match="inside"):
        _runs.any_true_in(mask, [0], [7])
    with pytest.raises(InvalidParameterError, match="equal count"):
        _runs.any_true_in(mask, [0, 1], [2])


@pytest.mark.parametrize("bad, error, match", [
    ([0, np.nan, 1], ValueError, "binary"),
    ([0, 2], ValueError, "binary"),
    (["0", "1"], TypeError, "dtype"),
    (np.zeros((2, 2)), ValueError, "shape"),
])
def test_runs_refuse_what_is_not_a_mask(bad, error, match):
    with pytest.raises(error, match=match) as info:
        _runs.true_runs(bad, name="alarms")
    assert "alarms" in str(info.value)
