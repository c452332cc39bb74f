"""Sliding windows, chronological splits and scalers fitted on training data only.

Shapes used throughout the course:

* a multivariate series ``X``: ``(n_samples, n_features)``
* windows: ``(n_windows, window, n_features)``; window ``i`` covers samples
  ``starts[i] : starts[i] + window``
* one score per window: ``(n_windows,)``; mapped back to one score per sample
  ``(n_samples,)`` with :func:`windows_to_points`.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from .validation import (
    as_1d_float,
    as_2d_float,
    check_choice,
    check_int,
    check_min_length,
    check_not_constant,
    check_number,
    check_time_index,
)

__all__ = [
    "window_starts",
    "sliding_windows",
    "windows_to_points",
    "Split",
    "chronological_split",
    "fit_scaler",
]


def window_starts(n_samples: int, window: int, stride: int = 1) -> np.ndarray:
    """Start positions of the windows over a series of ``n_samples``, shape ``(n_windows,)``.

    Windows step by ``stride``; if the last stride would leave the final samples
    uncovered, one extra window aligned to the end is added, so every sample is
    covered by at least one window.
    """
    n_samples = check_int("n_samples", n_samples, 0, hint="It is the length of the series, e.g. len(X).")
    window = check_int("window", window, 1, hint="It is the number of consecutive samples per window.")
    stride = check_int("stride", stride, 1, hint="It is the step between window starts; 1 gives every window.")
    check_min_length(n_samples, window)
    starts = np.arange(0, n_samples - window + 1, stride)
    if starts[-1] != n_samples - window:
        starts = np.append(starts, n_samples - window)
    return starts


def sliding_windows(X: Any, window: int, stride: int = 1) -> np.ndarray:
    """Cut a series into overlapping windows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
    window : number of consecutive samples per window
    stride : step between window starts

    Returns
    -------
    windows : ndarray of shape (n_windows, window, n_features), float64 (a copy)
    """
    arr = as_2d_float(X, name="X", allow_nan=True)
    starts = window_starts(len(arr), window, stride)
    view = np.lib.stride_tricks.sliding_window_view(arr, window, axis=0)  # (n-w+1, f, w)
    return np.ascontiguousarray(view[starts].transpose(0, 2, 1))


def windows_to_points(
    window_scores: Any,
    n_samples: int,
    window: int,
    stride: int = 1,
    how: Literal["max", "mean", "last"] = "max",
) -> np.ndarray:
    """Map one score per window back to one score per sample.

    Parameters
    ----------
    window_scores : array-like of shape (n_windows,)
        Scores of the windows produced by :func:`sliding_windows` with the same
        ``n_samples``, ``window`` and ``stride``.
    how : {"max", "mean", "last"}
        ``"max"``: a sample gets the highest score of any window containing it
        (sensitive: one bad window raises all its samples). ``"mean"``: the
        average over the windows containing it (smoother, later alarms).
        ``"last"``: the score of the window that *ends* at the sample, which is
        what a streaming detector knows at that moment; the first
        ``window - 1`` samples, where no window ends, get NaN ("no score", the
        rule of every detector: see :class:`sadlib.detectors.Detector`).

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        With ``"max"`` and ``"mean"`` every sample lies in at least one window and has a
        score; the detectors still give their first ``window - 1`` rows NaN under every
        mapping, so where a series starts to be scored does not depend on the mapping.
    """
    check_choice("how", how, ("max", "mean", "last"))
    starts = window_starts(n_samples, window, stride)
    n_samples, window = int(n_samples), int(window)
    s = as_1d_float(window_scores, name="window_scores")
    if len(s) != len(starts):
        raise ValueError(
            f"window_scores has {len(s)} values but a series of {n_samples} samples with window={window}, "
            f"stride={stride} has {len(starts)} windows; pass the same n_samples/window/stride as for sliding_windows."
        )
    if how == "last":
        ends = starts + window - 1
        idx = np.searchsorted(ends, np.arange(n_samples), side="right") - 1  # last window ending at or before t
        out = s[np.clip(idx, 0, None)]
        out[idx < 0] = np.nan  # no window ends at or before these samples: no score
        return out
    if how == "max":
        out = np.full(n_samples, -np.inf)
        for start, value in zip(starts, s):
            seg = out[start : start + window]
            np.maximum(seg, value, out=seg)
        return out
    total = np.zeros(n_samples)
    count = np.zeros(n_samples)
    # difference arrays: add value at start, remove it after the window ends
    np.add.at(total, starts, s)
    np.add.at(count, starts, 1.0)
    ends = starts + window
    keep = ends < n_samples
    np.add.at(total, ends[keep], -s[keep])
    np.add.at(count, ends[keep], -1.0)
    return np.cumsum(total) / np.cumsum(count)  # how == "mean"


class Split(NamedTuple):
    """Chronological train / validation / test parts of one series (in this order)."""

    train: Any
    val: Any
    test: Any


def chronological_split(data: Any, train: float = 0.6, val: float = 0.2) -> Split:
    """Split a series by time, never shuffling: the first ``train`` fraction, then ``val``, then the rest.

    Works on DataFrames (sorted DatetimeIndex required), Series and arrays; returns the
    same type. Use the train part to fit models and scalers, the validation part to
    calibrate thresholds, and the test part only to score.
    """
    train = check_number("train", train, 0, 1, low_open=True, high_open=True,
                         hint="It is the share of samples to train on.")
    val = check_number("val", val, 0, 1, high_open=True, hint="It is the share of samples for validation (0: none).")
    if train + val >= 1:
        raise ValueError(f"need train + val < 1 to leave a test part; got train={train}, val={val}.")
    n = len(data)
    if n == 0:
        raise ValueError("data is empty; nothing to split.")
    if isinstance(data, (pd.DataFrame, pd.Series)):
        check_time_index(data)
    n_train, n_val = int(round(n * train)), int(round(n * val))
    if n_train == 0 or n - n_train - n_val <= 0 or (val > 0 and n_val == 0):
        raise ValueError(f"data has {n} samples, too few for a split with train={train}, val={val}.")
    take = (lambda a, b: data.iloc[a:b]) if isinstance(data, (pd.DataFrame, pd.Series)) else (lambda a, b: data[a:b])
    return Split(take(0, n_train), take(n_train, n_train + n_val), take(n_train + n_val, n))


_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def fit_scaler(train: Any, kind: Literal["standard", "minmax", "robust"] = "standard"):
    """Fit a scikit-learn scaler on the *training part only* and return it.

    Apply the returned scaler with ``scaler.transform(...)`` to validation and
    test data; fitting it on all data lets test statistics leak into the model.
    Constant training columns are rejected (they cannot be scaled meaningfully).
    """
    check_choice("kind", kind, tuple(_SCALERS))
    columns = list(train.columns) if isinstance(train, pd.DataFrame) else None
    arr = as_2d_float(train, name="train", min_rows=2)
    check_not_constant(arr, columns=columns, name="train")
    scaler = _SCALERS[kind]()
    scaler.fit(train if columns is not None else arr)
    return scaler
