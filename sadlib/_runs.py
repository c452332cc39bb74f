"""Runs of True in a boolean vector: the one home for finding events and alarm ranges.

A *run* is a maximal stretch of consecutive True values. Every run here is a
half-open pair ``(start, end)`` with ``end`` **exclusive**, so ``mask[start:end]``
is the run and ``end - start`` its length, as in Python slices and
:func:`sadlib.metrics.events`. Example: ``[0, 1, 1, 0, 1] -> [(1, 3), (4, 5)]``.

:func:`run_bounds` gives the starts and ends as two arrays (for vectorised
metrics), :func:`true_runs` the same as a list of pairs, and :func:`any_true_in`
says which runs contain a True of another mask (an event touched by an alarm, an
alarm range touching an event).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import InvalidParameterError, as_labels

__all__ = ["run_bounds", "true_runs", "any_true_in"]


def _mask(mask: Any, name: str) -> np.ndarray:
    """``mask`` as a 1-D bool array; an empty vector is allowed (it has no run)."""
    arr = np.asarray(mask)
    if arr.dtype == bool and arr.ndim == 1:
        return arr
    if arr.ndim == 1 and arr.size == 0:
        return np.zeros(0, dtype=bool)
    return as_labels(arr, name=name)  # 0/1 numbers, or a clear error (NaN, 2-D, strings, ...)


def run_bounds(mask: Any, *, name: str = "mask") -> tuple[np.ndarray, np.ndarray]:
    """Starts and exclusive ends of the runs of True in ``mask``.

    Parameters
    ----------
    mask : array-like of bool or 0/1, shape (n,)
        The vector to scan; an empty vector has no run.
    name : str
        Name of the argument in error messages.

    Returns
    -------
    (starts, ends) : two int64 arrays of shape (n_runs,)
        ``mask[starts[i]:ends[i]]`` is the i-th run, in order; ``ends`` is exclusive.
    """
    m = _mask(mask, name)
    d = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    return np.flatnonzero(d == 1).astype(np.int64), np.flatnonzero(d == -1).astype(np.int64)


def true_runs(mask: Any, *, name: str = "mask") -> list[tuple[int, int]]:
    """The runs of True of ``mask`` as ``(start, end)`` pairs of ints, ``end`` exclusive.

    >>> true_runs([0, 1, 1, 0, 1])
    [(1, 3), (4, 5)]
    """
    starts, ends = run_bounds(mask, name=name)
    return [(int(s), int(e)) for s, e in zip(starts, ends)]


def any_true_in(mask: Any, starts: Any, ends: Any, *, name: str = "mask") -> np.ndarray:
    """For each half-open range ``[starts[i], ends[i])``, whether ``mask`` holds a True inside it.

    Parameters
    ----------
    mask : array-like of bool or 0/1, shape (n,)
    starts, ends : array-like of int, shape (k,)
        Ranges with ``0 <= start <= end <= n`` (e.g. from :func:`run_bounds` of another mask).

    Returns
    -------
    ndarray of bool, shape (k,)
    """
    m = _mask(mask, name)
    s, e = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if s.shape != e.shape or (s.size and (s.min() < 0 or e.max() > m.size or (e < s).any())):
        raise InvalidParameterError(
            f"starts and ends must be ranges of equal count inside [0, {m.size}] with start <= end, as returned "
            f"by run_bounds; got {s.size} starts and {e.size} ends.")
    csum = np.concatenate(([0], np.cumsum(m, dtype=np.int64)))
    return (csum[e] - csum[s]) > 0
