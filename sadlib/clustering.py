"""DBSCAN on anomaly scores or prediction errors: choosing ``eps`` and calling the noise points anomalies.

A popular tutorial design (notebook 05) clusters the squared prediction errors of a
forecaster with DBSCAN and calls the points DBSCAN labels as *noise* (``-1``)
anomalies. DBSCAN has two parameters:

* ``min_samples``: a point is a *core* point when at least ``min_samples`` points
  (itself included) lie within ``eps`` of it;
* ``eps``: the neighbourhood radius, in the units of the errors. A fixed
  ``eps=0.1`` on squared errors means something different for every sensor, scale
  and model, so choose it from data: the *k-distance curve* (:func:`k_distance`,
  with ``k = min_samples``) of **normal** errors, e.g. the validation part's, and
  a high quantile of it or its knee (:func:`suggest_eps`).

Two ways to apply DBSCAN, both in :func:`dbscan_outliers`:

**Transductive** (``reference=None``, what the tutorial does): cluster the *test*
errors all at once. Whether a point is noise depends on the other test points, so

- it needs the whole test set first and cannot label a stream sample by sample
  (re-running it on a growing buffer relabels past points);
- many anomalous errors close together form a cluster of their own and are *not*
  flagged (a long anomaly masks itself), while isolated normal errors in sparse
  regions of the error axis are flagged;
- the number of alarms depends on how long the test set is.

**Inductive** (``reference=`` normal errors, e.g. the validation part's): fit DBSCAN
on the normal errors once, then a new error is an inlier only if it lies within
``eps`` of a core point of the normal errors (the rule by which DBSCAN attaches a
border point to a cluster). Each new sample is judged alone, so this works online,
and on 1-D errors it amounts to a threshold just above the normal errors (with the
gaps between normal clusters treated as anomalous too).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.neighbors import NearestNeighbors

from .validation import as_2d_float, check_choice, check_int, check_number

__all__ = ["k_distance", "suggest_eps", "dbscan_outliers"]


def _points(values: Any, name: str) -> np.ndarray:
    """Errors as DBSCAN points: (n,) -> (n, 1); (n, d) kept. NaN/inf are rejected with a hint."""
    try:
        return as_2d_float(values, name=name)
    except ValueError as err:
        if "NaN" in str(err) or "inf" in str(err):
            raise ValueError(
                f"{err} Forecast errors are NaN where the model has no prediction (the first `window` "
                f"rows); drop them first, e.g. {name}[~np.isnan({name}).any(axis=1)] or {name}[window:]."
            ) from None
        raise


def k_distance(values: Any, k: int = 5) -> np.ndarray:
    """Sorted k-distances: for every point, the distance to its k-th nearest point, **itself included**.

    With this convention a point is a DBSCAN core point for ``min_samples = k``
    exactly when its k-distance is ``<= eps``; plot the result (ascending) against
    its rank to see the "elbow" where the sparse tail begins.

    Parameters
    ----------
    values : array-like (n,) or (n, d)
        Errors or scores; 1-D input is one column.
    k : int
        Use ``k = min_samples`` of the DBSCAN you want to tune. ``k = 1`` gives zeros.

    Returns
    -------
    ndarray (n,), ascending.
    """
    k = check_int("k", k, 1, hint="k is the neighbour rank, min_samples of the DBSCAN to tune.")
    pts = _points(values, "values")
    if k > len(pts):
        raise ValueError(f"k={k} is larger than the {len(pts)} points; pass more points or a smaller k.")
    dist, _ = NearestNeighbors(n_neighbors=k).fit(pts).kneighbors(pts)
    return np.sort(dist[:, k - 1])


def suggest_eps(
    values: Any, k: int = 5, *, method: Literal["quantile", "knee"] = "quantile", q: float = 0.99
) -> float:
    """An ``eps`` for DBSCAN(min_samples=k) from the k-distance curve of **normal** errors.

    Parameters
    ----------
    values : array-like (n,) or (n, d)
        Errors of normal data **not used to fit the model** (the validation part), not
        test errors: the choice must not depend on the data it is applied to.
    k : int
        ``min_samples`` of the DBSCAN that will use the result.
    method : {"quantile", "knee"}
        ``"quantile"`` (default): the ``q`` quantile of the k-distances, so about
        ``1 - q`` of the normal points are not core points.
        ``"knee"``: the textbook elbow, the k-distance at the knee of the sorted curve
        (the point farthest below the straight line from its first to its last point,
        both axes scaled to [0, 1], the "kneedle" idea). On squared errors, whose
        distribution has a long right tail, the knee comes early and gives a small
        ``eps`` that calls many normal errors noise (on the notebook-05 toy it lowered
        F1 from about 0.92 to 0.80), which is why it is not the default.
    q : float in (0, 1]
        Quantile for ``method="quantile"``; ``1`` gives the largest normal k-distance.

    Returns
    -------
    float, > 0 when the values are not all equal.
    """
    check_choice("method", method, ("quantile", "knee"))
    if method == "quantile":
        q = check_number("q", q, 0, 1, low_open=True, hint="q is the quantile of the k-distances, e.g. 0.99.")
    d = k_distance(values, k)
    if method == "quantile":
        return float(np.quantile(d, q))
    span = d[-1] - d[0]
    if len(d) < 3 or span <= 0:
        return float(d[-1])
    x = np.linspace(0.0, 1.0, len(d))
    y = (d - d[0]) / span
    return float(d[int(np.argmax(x - y))])  # the chord is y = x; the knee lies farthest below it


def dbscan_outliers(
    errors: Any, eps: float, min_samples: int = 5, *, reference: Any = None
) -> np.ndarray:
    """True where DBSCAN calls an error *noise*: the anomalies of the tutorial design.

    Parameters
    ----------
    errors : array-like (n,) or (n, d)
        Errors to label (e.g. squared forecast errors of the test part; per-sensor
        errors as ``(n, n_sensors)``), without NaN.
    eps, min_samples : DBSCAN's parameters (see the module docstring); choose ``eps``
        with :func:`suggest_eps` on normal validation errors.
    reference : array-like (m,) or (m, d), optional
        Normal errors (validation part). ``None`` (the tutorial): DBSCAN clusters
        ``errors`` themselves, **transductively**, noise label ``-1`` = anomaly; a point's
        label depends on the other test points, and a dense run of anomalous errors can
        form its own cluster and go unflagged. Given: **inductive** (usable online):
        DBSCAN is fitted on ``reference`` only, and each error is an anomaly when it is
        farther than ``eps`` from every core point of the reference.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    eps = check_number("eps", eps, 0, low_open=True, hint="Choose it with suggest_eps() on normal validation errors.")
    min_samples = check_int("min_samples", min_samples, 1)
    pts = _points(errors, "errors")
    if reference is None:
        return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(pts) == -1
    ref = _points(reference, "reference")
    if ref.shape[1] != pts.shape[1]:
        raise ValueError(f"reference has {ref.shape[1]} columns but errors have {pts.shape[1]}; pass the same sensors.")
    db = DBSCAN(eps=eps, min_samples=min_samples).fit(ref)
    core = ref[db.core_sample_indices_]
    if len(core) == 0:
        raise ValueError(
            f"no reference error is a core point with eps={eps} and min_samples={min_samples}: "
            f"everything would be an anomaly. Use a larger eps (suggest_eps(reference, k={min_samples}))."
        )
    dist, _ = NearestNeighbors(n_neighbors=1).fit(core).kneighbors(pts)
    return dist[:, 0] > eps
