"""Property-based tests (Hypothesis) of sadlib.model_selection.

For generated series lengths, fold counts, gaps (rows, durations or "window") and block
sizes, :class:`ForwardChainingSplit` either refuses with a clear error (it names the rows
needed or the parameter) or gives folds that never put validation rows before or inside
training rows, keep the gap, grow the training set and end with the data. For generated
fold lists, :func:`cross_val_detector` either refuses the folds naming the fold, or scores
one row per fold, with NaN exactly for the folds its scoring cannot score.

Examples are drawn derandomized (the ``sadlib`` profile of ``tests/conftest.py``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from sadlib import detectors
from sadlib.model_selection import ForwardChainingSplit, cross_val_detector
from sadlib.validation import InvalidParameterError

_gaps = st.one_of(st.integers(0, 12), st.sampled_from(["window", "0s", "5min", "7min", "1h"]))
_sizes = st.one_of(st.none(), st.integers(1, 30), st.sampled_from(["10min", "1h"]))


@given(n=st.integers(1, 150), n_splits=st.integers(1, 6), gap=_gaps, test_size=_sizes, min_train=_sizes,
       window=st.integers(1, 12), stride=st.integers(1, 4), freq=st.sampled_from(["1min", "2min", "3min"]))
def test_forward_chaining_folds_never_validate_before_or_inside_training(n, n_splits, gap, test_size, min_train,
                                                                        window, stride, freq):
    X = pd.DataFrame({"a": np.zeros(n)}, index=pd.date_range("2024-01-01", periods=n, freq=freq))
    cv = ForwardChainingSplit(n_splits, gap=gap, test_size=test_size, min_train_size=min_train,
                              window=window if gap == "window" else None, stride=stride)
    try:
        folds = list(cv.split(X))
        sizes = cv.resolve(X)
    except (ValueError, TypeError) as err:
        assert isinstance(err, InvalidParameterError) or f"X has {n} rows" in str(err), str(err)
        event("refused")
        return
    event("folds")
    step = pd.Timedelta(freq)
    if gap == "window":
        want_gap = math.ceil(window / stride) - 1
    elif isinstance(gap, str):
        want_gap = math.ceil(pd.Timedelta(gap) / step)  # durations round up: the gap covers at least that time
    else:
        want_gap = gap
    assert sizes["gap"] == want_gap
    assert len(folds) == n_splits
    previous_train = -1
    for k, (tr, va) in enumerate(folds):
        assert tr.size > 0 and va.size > 0
        assert np.array_equal(tr, np.arange(tr.size)), "training rows are the start of the series"
        assert np.array_equal(va, np.arange(va[0], va[0] + va.size)), "validation rows are one block"
        assert va.min() - tr.max() - 1 >= want_gap, f"fold {k}: validation starts within the gap or the training rows"
        assert tr.size > previous_train, "the training set grows fold by fold"
        previous_train = tr.size
        if isinstance(test_size, str):
            assert va.size >= pd.Timedelta(test_size) / step
    assert folds[-1][1][-1] == n - 1, "the last validation block ends with the data"


@st.composite
def fold_lists(draw, n: int):
    folds = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["after", "after", "after", "before", "inside", "outside"]))
        if kind == "after":  # the usual order: training rows, a gap, then validation rows
            start = draw(st.integers(0, n // 2))
            end = draw(st.integers(start + 10, n - 1))
            val_start = draw(st.integers(end, n - 1))
            tr, va = np.arange(start, end), np.arange(val_start, draw(st.integers(val_start + 1, n)))
        else:
            a, b, c, d = sorted(draw(st.lists(st.integers(0, n), min_size=4, max_size=4, unique=True)))
            if kind == "before":
                tr, va = np.arange(c, d), np.arange(a, b)
            elif kind == "inside":
                tr, va = np.arange(a, d), np.arange(b, c)
            else:  # positions past the end of the series
                tr, va = np.arange(a, b), np.arange(c, d + draw(st.integers(1, 3)))
        folds.append((tr, va))
    return folds


N = 160
_X = pd.DataFrame(np.random.default_rng(0).normal(size=(N, 2)), columns=["a", "b"],
                  index=pd.date_range("2024-01-01", periods=N, freq="1min"))
_Y = np.zeros(N, int)
_Y[100:110] = 1
_X.iloc[100:110] += 8.0


@given(fold_lists(N), st.sampled_from(["val_loss", "event_f1", "pr_auc"]))
def test_cross_val_detector_refuses_bad_folds_or_scores_each(folds, scoring):
    ok = all(tr.size and va.size and tr.min() >= 0 and va.max() < N and va.min() > tr.max() for tr, va in folds)
    y = None if scoring == "val_loss" else _Y
    if not ok:
        with pytest.raises(InvalidParameterError, match="cv fold"):
            cross_val_detector(detectors.RobustZScore(), _X, folds, y=y, scoring=scoring)
        event("bad folds refused")
        return
    undefined = [k for k, (_, va) in enumerate(folds)
                 if scoring == "event_f1" and not _Y[va].any()
                 or scoring == "pr_auc" and not 0 < _Y[va].sum() < va.size]
    if len(undefined) == len(folds):
        with pytest.raises(InvalidParameterError, match="cannot score any fold"):
            cross_val_detector(detectors.RobustZScore(), _X, folds, y=y, scoring=scoring)
        event("no fold scorable")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = cross_val_detector(detectors.RobustZScore(), _X, folds, y=y, scoring=scoring)
        except InvalidParameterError as err:  # a training block too short (after dropping anomalous rows) to fit
            assert "training rows" in str(err) and "cv fold" in str(err), str(err)
            event("too short to fit")
            return
    event(f"scored, {len(undefined)} NaN")
    assert out["fold"].tolist() == list(range(len(folds)))
    assert out["score"].isna().tolist() == [k in undefined for k in range(len(folds))]
    if scoring != "val_loss":
        assert out["score"].dropna().between(0, 1).all()
    if undefined:
        assert any(f"fold(s) {', '.join(map(str, undefined))} have" in str(w.message) for w in caught)
