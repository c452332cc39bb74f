"""The fair random line (shifted_alarms_baseline) and VUS-PR (issue 26 §2 and §3)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sadlib import metrics
from sadlib.validation import InvalidParameterError


def _layout(n: int, starts: list[int], length: int | list[int]) -> np.ndarray:
    y = np.zeros(n, dtype=bool)
    lengths = [length] * len(starts) if isinstance(length, int) else length
    for s, k in zip(starts, lengths):
        y[s:s + k] = True
    return y


def _run_lengths(p: np.ndarray) -> Counter:
    return Counter(e - s for s, e in metrics.events(p))


# --------------------------------------------------------------------------- #
# shifted_alarms_baseline
# --------------------------------------------------------------------------- #
alarm_vectors = st.lists(st.booleans(), min_size=2, max_size=120).map(lambda v: np.array(v, dtype=bool))


@given(alarm_vectors, st.integers(0, 10_000))
def test_shifts_keep_share_and_run_lengths(p, seed):
    y = np.zeros(p.size, dtype=bool)
    y[p.size // 2] = True
    line = metrics.shifted_alarms_baseline(y, p, n_shifts=5, seed=seed, metric="precision")
    for k in line["offsets"]:
        q = np.roll(p, int(k))
        assert q.sum() == p.sum()  # same alarm share
        if p[0] and p[-1] and not p.all():
            # wrap-around: the range at the end and the one at the start become one range
            joined = _run_lengths(p)
            first, last = metrics.events(p)[0], metrics.events(p)[-1]
            a, b = first[1] - first[0], last[1] - last[0]
            joined.subtract([a, b])
            joined[a + b] += 1
            assert _run_lengths(q) == +joined
        else:
            assert _run_lengths(q) == _run_lengths(p)  # same number and lengths of alarm ranges


def test_shifts_never_split_a_range_at_the_seam():
    p = _layout(50, [0, 10, 30], [3, 5, 19])  # the last range ends on the last sample but 1
    line = metrics.shifted_alarms_baseline(np.roll(p, 7), p, n_shifts=200, seed=1)
    assert len(set(line["offsets"].tolist())) > 5
    for k in line["offsets"]:
        assert _run_lengths(np.roll(p, int(k))) == Counter({3: 1, 5: 1, 19: 1})


def test_deterministic_with_a_seed_and_seed_matters():
    y = _layout(2000, [100, 700, 1500], 20)
    p = _layout(2000, [90, 400, 1200, 1510], [30, 5, 8, 12])
    a = metrics.shifted_alarms_baseline(y, p, n_shifts=15, seed=3)
    b = metrics.shifted_alarms_baseline(y, p, n_shifts=15, seed=3)
    c = metrics.shifted_alarms_baseline(y, p, n_shifts=15, seed=4)
    np.testing.assert_array_equal(a["offsets"], b["offsets"])
    np.testing.assert_array_equal(a["values"], b["values"])
    assert a["mean"] == b["mean"] and a["std"] == b["std"]
    assert not np.array_equal(a["offsets"], c["offsets"])
    assert len(set(a["offsets"].tolist())) == 15  # without replacement when there are enough offsets
    assert a["mean"] == pytest.approx(a["values"].mean()) and a["std"] == pytest.approx(a["values"].std())


def test_a_detector_on_the_events_beats_its_shifted_line():
    y = _layout(3000, [130, 610, 1420, 2200, 2750], [12, 30, 8, 20, 15])
    line = metrics.shifted_alarms_baseline(y, y, n_shifts=40, seed=0, min_shift=30)
    assert line["detector"] == 1.0
    assert line["mean"] + 3 * line["std"] < line["detector"]
    assert line["std"] > 0
    assert np.all(np.minimum(line["offsets"], 3000 - line["offsets"]) >= 30)


def test_alarms_independent_of_the_labels_do_not_beat_their_shifted_line():
    rng = np.random.default_rng(7)
    n = 20_000
    y = _layout(n, sorted(rng.choice(n - 50, 25, replace=False).tolist()), 30)
    p = _layout(n, sorted(rng.choice(n - 50, 40, replace=False).tolist()), rng.integers(5, 40, 40).tolist())
    for metric in ("event_f1", "event_recall", "precision"):
        line = metrics.shifted_alarms_baseline(y, p, n_shifts=60, seed=2, metric=metric)
        assert line["std"] > 0
        assert abs(line["detector"] - line["mean"]) < 2.5 * line["std"], metric


def test_point_random_alarms_fragment_but_the_shifted_line_keeps_the_episodes():
    y = _layout(5000, [500, 2500, 4000], 40)
    p = _layout(5000, [495, 2000, 4010], [50, 10, 20])
    rand = metrics.random_alarms(5000, p.mean(), seed=0)
    line = metrics.shifted_alarms_baseline(y, p, n_shifts=10, seed=0)
    assert len(metrics.events(rand)) > 50  # independent points: many short ranges
    assert all(len(metrics.events(np.roll(p, int(k)))) == 3 for k in line["offsets"])


def test_callable_metric_and_per_day_metric_with_an_index():
    y = _layout(1440, [100, 900], 30)
    p = _layout(1440, [95, 500], [40, 10])
    idx = pd.date_range("2024-01-01", periods=1440, freq="1min")
    line = metrics.shifted_alarms_baseline(y, p, n_shifts=8, metric="false_alarms_per_day", index=idx)
    assert line["metric"] == "false_alarms_per_day"
    assert line["detector"] == metrics.false_alarms_per_day(y, p, index=idx)
    own = metrics.shifted_alarms_baseline(y, p, n_shifts=8, metric=lambda t, q: float(q[100]))
    np.testing.assert_array_equal(own["values"], [float(np.roll(p, int(k))[100]) for k in own["offsets"]])


def test_no_valid_offset_gives_the_unshifted_line():
    y = _layout(10, [2], 2)
    line = metrics.shifted_alarms_baseline(y, np.ones(10, dtype=bool), n_shifts=4, metric="precision")
    assert line["std"] == 0 and line["mean"] == line["detector"] and list(line["offsets"]) == [0] * 4
    line = metrics.shifted_alarms_baseline(y, y, n_shifts=3, min_shift=6)  # min(k, 10 - k) <= 5
    assert list(line["offsets"]) == [0] * 3


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"n_shifts": 0}, "n_shifts"),
    ({"seed": -1}, "seed"),
    ({"min_shift": 0}, "min_shift"),
    ({"metric": "auc"}, "metric"),
    ({"metric": "false_alarms_per_day"}, "index="),
])
def test_shifted_line_errors_name_the_parameter(kwargs, words):
    y = _layout(100, [10], 5)
    with pytest.raises(InvalidParameterError, match=words):
        metrics.shifted_alarms_baseline(y, y, **kwargs)


def test_shifted_line_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="y_pred has 9"):
        metrics.shifted_alarms_baseline(np.zeros(10), np.zeros(9))


# --------------------------------------------------------------------------- #
# VUS-PR
# --------------------------------------------------------------------------- #
def _series(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 900))
    y = np.zeros(n, dtype=bool)
    for _ in range(int(rng.integers(1, 6))):
        s = int(rng.integers(0, n - 25))
        y[s:s + int(rng.integers(1, 25))] = True
    scores = y * rng.random(n) * (seed % 3) + rng.random(n)
    if seed % 4 == 3:
        scores = np.round(scores, 1)  # ties
    return y, scores


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("max_buffer", [0, 1, 2, 5, 12])
def test_vus_pr_matches_tsadmetrics(seed, max_buffer):
    """tsadmetrics' VusPr (derived from the authors' VUS code) evaluates 250 thresholds at evenly spaced ranks."""
    from tsadmetrics.utils import functions_vus as vus_ref  # in the test extra
    y, scores = _series(seed)
    ref = vus_ref.generate_curve(y.astype(int), scores, max_buffer, version="opt_mem")[-1]
    assert metrics.vus_pr(y, scores, max_buffer=max_buffer, n_thresholds=250) == pytest.approx(ref, abs=1e-9)
    # every distinct score as a threshold (the default) differs from 250 thresholds only by the grid
    assert metrics.vus_pr(y, scores, max_buffer=max_buffer) == pytest.approx(ref, abs=0.01)


def test_vus_pr_one_step_late_moves_less_than_pr_auc():
    rng = np.random.default_rng(0)
    y = _layout(600, [50, 200, 350, 500], 6)
    on_time = y + 0.3 * rng.random(600)
    late = np.roll(on_time, 1)  # the detector reacts one sample late
    pr_drop = metrics.pr_auc(y, on_time) - metrics.pr_auc(y, late)
    vus_drop = metrics.vus_pr(y, on_time) - metrics.vus_pr(y, late)
    assert metrics.pr_auc(y, on_time) == pytest.approx(1.0) and metrics.vus_pr(y, on_time) == pytest.approx(1.0)
    assert 0 < vus_drop < pr_drop
    assert vus_drop < 0.7 * pr_drop
    # without a buffer VUS-PR has no tolerance, with a larger one it forgives more
    assert metrics.vus_pr(y, late, max_buffer=0) < metrics.vus_pr(y, late) < metrics.vus_pr(y, late, max_buffer=10)


def test_vus_pr_counts_events_found():
    y = _layout(100, [10, 60], 5)
    only_first = np.where(np.arange(100) < 50, y, False).astype(float)
    # by hand, buffer 0 (and 1: a buffer of 1 // 2 = 0 samples each side). Threshold 1: 5 alarms, TP 5,
    # recall min(5 / 10, 1) = 0.5 times 1 of 2 events found = 0.25, precision 1. Threshold 0: everything,
    # recall 1, precision 10 / 100. AP = 0.25 * 1 + 0.75 * 0.1 = 0.325; PR-AUC = 0.5 * 1 + 0.5 * 0.1 = 0.55.
    assert metrics.vus_pr(y, only_first, max_buffer=0) == pytest.approx(0.325, abs=1e-12)
    assert metrics.vus_pr(y, only_first, max_buffer=1) == pytest.approx(0.325, abs=1e-12)
    assert metrics.pr_auc(y, only_first) == pytest.approx(0.55, abs=1e-12)


@given(st.integers(0, 50), st.integers(0, 8))
def test_vus_pr_in_unit_interval_and_rank_invariant(seed, max_buffer):
    y, scores = _series(seed)
    v = metrics.vus_pr(y, scores, max_buffer=max_buffer)
    assert 0.0 <= v <= 1.0
    assert metrics.vus_pr(y, np.exp(3 * scores) - 5, max_buffer=max_buffer) == pytest.approx(v, abs=1e-12)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"max_buffer": -1}, "max_buffer"),
    ({"max_buffer": 2.5}, "max_buffer"),
    ({"n_thresholds": 1}, "n_thresholds"),
])
def test_vus_pr_errors_name_the_parameter(kwargs, words):
    y = _layout(50, [10], 5)
    with pytest.raises(InvalidParameterError, match=words):
        metrics.vus_pr(y, y.astype(float), **kwargs)


def test_vus_pr_needs_both_classes_and_finite_scores():
    with pytest.raises(ValueError, match="only normal samples"):
        metrics.vus_pr(np.zeros(20), np.arange(20.0))
    y = _layout(20, [5], 3)
    with pytest.raises(ValueError, match="scores has 1 infinite"):
        metrics.vus_pr(y, np.r_[np.inf, np.arange(19.0)])
