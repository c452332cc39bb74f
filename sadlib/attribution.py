"""Which sensor is an alarm about? Per-sensor attribution of alarms.

An alarm tells the maintenance team *that* something is off; the next question is
*where*. Two complementary answers, one row per alarm (a contiguous run of
``alarms == 1``, numbered as in :func:`sadlib.alarms.alarm_table`, so the tables
join on the alarm number):

* :func:`error_share`: each sensor's share of the per-sensor error (e.g. the
  reconstruction error of an autoencoder, ``det.sensor_errors(X)``) summed over
  the alarm. Cheap, but only for detectors that give per-sensor errors, and a
  sensor that is *hard to rebuild* because another sensor is broken also gets a
  share (reconstruction errors spread over correlated sensors).
* :func:`occlusion`: replace one sensor at a time, inside the alarm only, by its
  normal behaviour and measure how much the detector's score falls. The sensor
  whose repair removes most of the score is the one the alarm is about. Works
  with any course detector (it only calls ``detector.score``), at the price of
  ``n_sensors + 1`` scorings per alarm. This is the occlusion idea of Zeiler and
  Fergus (ECCV 2014) applied to sensor channels instead of image patches.

"Normal behaviour" of a sensor on a cyclic machine is not a constant: the motor
current of a compressor is high while it loads and low while it idles. The
default reference, :class:`NormalSensorModel`, therefore predicts each sensor from
the *other* sensors at the same time stamp with a regressor fitted on normal rows
(a k-nearest-neighbours regressor by default, which follows on/off states;
``method="ridge"`` is the linear alternative). The training median
(``reference="median"``) is the simple alternative; it is a poor stand-in for a
sensor that follows a load cycle.

:func:`top_sensors` ranks the sensors of each alarm and
:func:`attribution_accuracy` checks the ranking against known faulty sensors,
e.g. those of a synthetic twin, matched to the alarms by :func:`match_alarms`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .metrics import events as alarm_ranges
from .validation import (
    InvalidParameterError,
    as_2d_float,
    as_labels,
    as_time_index,
    check_choice,
    check_int,
)

__all__ = [
    "REFERENCE_METHODS",
    "NormalSensorModel",
    "fit_reference",
    "error_share",
    "occlusion",
    "top_sensors",
    "attribution_accuracy",
    "match_alarms",
]

#: the ways :class:`NormalSensorModel` predicts a sensor's normal value
REFERENCE_METHODS = ("knn", "ridge", "median")


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _names(X: Any, sensors: Sequence[Any] | None, n_cols: int, what: str) -> list:
    """Sensor names: ``sensors``, else the DataFrame's columns, else ``"sensor j"``."""
    if sensors is not None:
        if isinstance(sensors, str):
            raise InvalidParameterError(f"sensors must be a list of names, got the string {sensors!r}; "
                                        f"write sensors=[{sensors!r}] for one sensor.")
        names = list(sensors)
        if len(names) != n_cols:
            raise ValueError(f"sensors has {len(names)} names but {what} has {n_cols} columns; "
                             f"pass one name per column, in column order.")
        if len(set(map(str, names))) != len(names):
            raise ValueError(f"sensors has repeated names {names}; every column needs its own name.")
        return names
    if isinstance(X, pd.DataFrame):
        return list(X.columns)
    return [f"sensor {j}" for j in range(n_cols)]


def _alarm_vector(alarms: Any, n: int, what: str) -> np.ndarray:
    a = as_labels(alarms, name="alarms")
    if a.size != n:
        raise ValueError(f"alarms has {a.size} values but {what} has {n} rows; pass one alarm flag per row of "
                         f"{what} (e.g. alarms = det.predict(X) or policy.predict(scores)).")
    return a


def _empty_table(names: list) -> pd.DataFrame:
    out = pd.DataFrame(columns=names, dtype=np.float64)
    out.index.name = "alarm"
    return out


# --------------------------------------------------------------------------- #
# the reference: normal behaviour of each sensor
# --------------------------------------------------------------------------- #
class NormalSensorModel(BaseEstimator):
    """Each sensor's normal value predicted from the other sensors at the same time stamp.

    For sensor ``j``, a regressor is fitted on normal rows to predict ``X[:, j]`` from
    all the other columns. When sensor ``j`` is faulty and the others are healthy,
    the prediction is what sensor ``j`` *should* read now, given the machine's
    state (loading or idle, warm or cold), which is the reference
    :func:`occlusion` puts in its place.

    Parameters
    ----------
    method : {"knn", "ridge", "median"}, default "knn"
        ``"knn"``: :class:`~sklearn.neighbors.KNeighborsRegressor` on standardised
        inputs (follows on/off states and other non-linear relations); ``"ridge"``:
        :class:`~sklearn.linear_model.Ridge` on standardised inputs (linear);
        ``"median"``: the training median of the sensor, whatever the others do.
    n_neighbors : int >= 1, default 10
        Neighbours of the ``"knn"`` method (distance-weighted).
    alpha : float, default 1.0
        Regularisation of the ``"ridge"`` method.
    max_samples : int >= 10 or None, default 20000
        The regressors are fitted on at most this many normal rows, evenly spaced in
        time (k-NN keeps all its training rows, so this bounds its memory and
        prediction time). ``None`` uses every row.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when fitted on a DataFrame
    median_ : ndarray (n_features,), training median of each sensor
    estimators_ : list of fitted regressors, one per sensor (empty for ``"median"``)
    n_samples_fit_ : int, normal rows used

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> load = rng.random(500)
    >>> X = np.column_stack([load, 2 * load, 3 * load]) + 0.01 * rng.standard_normal((500, 3))
    >>> ref = NormalSensorModel(method="ridge").fit(X)
    >>> broken = X[:5].copy(); broken[:, 0] = 10.0       # sensor 0 reads nonsense
    >>> bool(np.allclose(ref.predict(broken)[:, 0], X[:5, 0], atol=0.05))
    True
    """

    def __init__(self, method: str = "knn", *, n_neighbors: int = 10, alpha: float = 1.0,
                 max_samples: int | None = 20000):
        self.method = method
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.max_samples = max_samples

    def _regressor(self) -> RegressorMixin:
        if self.method == "knn":
            return make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=int(self.n_neighbors),
                                                                       weights="distance"))
        return make_pipeline(StandardScaler(), Ridge(alpha=float(self.alpha)))

    def fit(self, X: Any, y: Any = None) -> "NormalSensorModel":
        """Fit on normal data ``X`` of shape ``(n_samples, n_sensors)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_sensors)
            Training data, sensor columns only.
        y : array-like of 0/1 of shape (n_samples,), optional
            Anomaly labels of the training rows, if known; rows with ``y == 1`` are
            left out, so the model learns normal behaviour only.

        Returns
        -------
        self
        """
        check_choice("method", self.method, REFERENCE_METHODS)
        if self.method == "knn":
            check_int("n_neighbors", self.n_neighbors, 1, hint="It is the number of neighbours of the k-NN method.")
        if self.max_samples is not None:
            check_int("max_samples", self.max_samples, 10,
                      hint="It bounds the normal rows the regressors are fitted on; None uses all rows.")
        arr = as_2d_float(X, name="X_train")
        if y is not None:
            arr = arr[~as_labels(y, name="y (the anomaly labels of X_train)", n=arr.shape[0])]
        if arr.shape[1] < 2 and self.method != "median":
            raise ValueError(f"X_train has {arr.shape[1]} sensor; predicting a sensor from the others needs at "
                             f"least two. Use method='median' for a single sensor.")
        need = max(2, int(self.n_neighbors)) if self.method == "knn" else 2
        if arr.shape[0] < need:
            raise ValueError(f"X_train has {arr.shape[0]} normal rows; at least {need} are needed. Pass a longer "
                             f"normal period.")
        self.n_features_in_ = arr.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.median_ = np.median(arr, axis=0)
        if self.max_samples is not None and arr.shape[0] > self.max_samples:
            arr = arr[np.linspace(0, arr.shape[0] - 1, int(self.max_samples)).round().astype(int)]
        self.n_samples_fit_ = arr.shape[0]
        self.estimators_ = []
        if self.method != "median":
            for j in range(arr.shape[1]):
                others = np.delete(arr, j, axis=1)
                self.estimators_.append(clone(self._regressor()).fit(others, arr[:, j]))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Normal value of every sensor at every row, shape ``(n_samples, n_sensors)``.

        Column ``j`` is predicted from the other columns of the same row (or is
        the training median for ``method="median"``).
        """
        if not hasattr(self, "median_"):
            raise NotFittedError("This NormalSensorModel is not fitted yet; call fit(X_train) on normal data "
                                 "first, or use fit_reference(X_train).")
        arr = as_2d_float(X, name="X")
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} sensors but the reference was fitted on {self.n_features_in_}; "
                             f"pass the same sensor columns as in fit.")
        if self.method == "median":
            return np.broadcast_to(self.median_, arr.shape).copy()
        out = np.empty_like(arr)
        for j, est in enumerate(self.estimators_):
            out[:, j] = est.predict(np.delete(arr, j, axis=1))
        return out


def fit_reference(X_train: Any, method: str = "knn", *, y: Any = None, **params: Any) -> NormalSensorModel:
    """A fitted :class:`NormalSensorModel`: each sensor's normal behaviour, learnt from normal rows.

    Parameters
    ----------
    X_train : array-like or DataFrame of shape (n_samples, n_sensors)
        Normal training data (the detector's training data), sensor columns only.
    method : {"knn", "ridge", "median"}
    y : array-like of 0/1, optional
        Labels of the training rows; rows with ``y == 1`` are left out.
    **params
        Other parameters of :class:`NormalSensorModel` (``n_neighbors``, ``alpha``, ``max_samples``).

    Returns
    -------
    NormalSensorModel
    """
    return NormalSensorModel(method=method, **params).fit(X_train, y)


# --------------------------------------------------------------------------- #
# attribution tables
# --------------------------------------------------------------------------- #
def error_share(sensor_errors: Any, alarms: Any, sensors: Sequence[Any] | None = None) -> pd.DataFrame:
    """Each sensor's share of the error inside every alarm.

    For alarm ``i`` covering rows ``start .. end - 1``, the share of sensor ``j`` is
    ``sum_t e[t, j] / sum_t sum_k e[t, k]`` over the alarm's rows (NaN errors, such as
    the warm-up of a window model, are skipped). Summing, rather than taking the
    peak as :func:`sadlib.alarms.alarm_table` does for its ``top_sensor``, weighs a
    sensor that is off during the whole alarm above one single spike.

    Parameters
    ----------
    sensor_errors : array-like or DataFrame of shape (n_samples, n_sensors)
        Non-negative per-sensor errors, e.g. ``det.sensor_errors(X)`` of a course
        autoencoder (:class:`~sadlib.detectors.keras_base.WindowAutoencoder`), or
        absolute z-scores per sensor.
    alarms : array-like of bool of shape (n_samples,)
        Alarm state per row (e.g. ``det.predict(X)``); each contiguous run is one alarm.
    sensors : sequence of str, optional
        Sensor names; default: the DataFrame's columns, else ``"sensor j"``.

    Returns
    -------
    pandas.DataFrame
        Index ``alarm`` (0, 1, ... in time order, as the rows of
        :func:`sadlib.alarms.alarm_table`), one column per sensor; each row sums to 1.
        A row is all NaN when the alarm's errors are all NaN or all zero. No rows
        when there is no alarm.

    Examples
    --------
    >>> errs = np.array([[0.0, 1.0], [3.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    >>> error_share(errs, [0, 1, 1, 0], sensors=["a", "b"]).round(2).to_dict("records")
    [{'a': 0.67, 'b': 0.33}]
    """
    errs = as_2d_float(sensor_errors, name="sensor_errors", allow_nan=True)
    names = _names(sensor_errors, sensors, errs.shape[1], "sensor_errors")
    if np.isinf(errs).any():
        raise ValueError("sensor_errors contains infinite values; an error of inf cannot be shared out. Replace "
                         "them (e.g. np.nan_to_num) or check the detector's scaling.")
    if (errs < 0).any():
        raise ValueError("sensor_errors has negative values; shares need non-negative errors. Pass squared or "
                         "absolute errors (e.g. np.abs(z) for z-scores), not signed residuals.")
    a = _alarm_vector(alarms, errs.shape[0], "sensor_errors")
    ranges = alarm_ranges(a)
    if not ranges:
        return _empty_table(names)
    rows = np.full((len(ranges), errs.shape[1]), np.nan)
    for i, (start, end) in enumerate(ranges):
        total = np.nansum(errs[start:end], axis=0)
        if np.isnan(errs[start:end]).all() or total.sum() <= 0:
            continue
        rows[i] = total / total.sum()
    out = pd.DataFrame(rows, columns=names)
    out.index.name = "alarm"
    return out


def _context(detector: Any, context: int | None) -> int:
    if context is not None:
        return check_int("context", context, 0,
                         hint="It is the number of rows before and after each alarm given to the detector.")
    window = getattr(detector, "window", None)
    if isinstance(window, (int, np.integer)) and not isinstance(window, bool):
        return int(window)
    return 0


def _reference_values(reference: Any, X_train: Any, arr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Normal values of every sensor at the given rows, shape ``(len(rows), n_sensors)``."""
    if isinstance(reference, str):
        check_choice("reference", reference, ("model", "median"))
        if X_train is None:
            raise InvalidParameterError(
                f"reference={reference!r} is learnt from normal data: pass X_train=<the normal training rows>, or "
                f"a fitted reference, reference=fit_reference(X_train).")
        method = "knn" if reference == "model" else "median"
        reference = NormalSensorModel(method=method).fit(X_train)
    elif X_train is not None:
        raise InvalidParameterError("X_train is only used with reference='model' or 'median'; the reference "
                                    "passed is already fitted, so leave X_train out.")
    if hasattr(reference, "predict"):
        if hasattr(reference, "n_features_in_") and reference.n_features_in_ != arr.shape[1]:
            raise ValueError(f"the reference was fitted on {reference.n_features_in_} sensors but X has "
                             f"{arr.shape[1]}; fit it on the same sensor columns.")
        out = np.asarray(reference.predict(arr[rows]), dtype=np.float64)
        if out.shape != (rows.size, arr.shape[1]):
            raise ValueError(f"reference.predict returned shape {out.shape}, expected {(rows.size, arr.shape[1])}: "
                             f"one normal value per row and sensor.")
        return out
    if isinstance(reference, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
        ref = as_2d_float(reference, name="reference")
        if ref.shape == (arr.shape[1], 1):  # a vector of one value per sensor
            return np.broadcast_to(ref[:, 0], (rows.size, arr.shape[1])).copy()
        if ref.shape == arr.shape:
            return ref[rows]
        raise ValueError(f"reference has shape {ref.shape}; pass one normal value per sensor "
                         f"({arr.shape[1]},) or per row and sensor {arr.shape}.")
    raise InvalidParameterError(
        f"reference must be 'model', 'median', a fitted model with predict(X) (e.g. fit_reference(X_train)) or an "
        f"array of normal values, got {type(reference).__name__}.")


def occlusion(
    detector: Any,
    X: Any,
    alarms: Any,
    *,
    reference: Any = "model",
    X_train: Any = None,
    sensors: Sequence[Any] | None = None,
    context: int | None = None,
) -> pd.DataFrame:
    """Score drop when one sensor at a time is replaced by its normal behaviour inside each alarm.

    For every alarm (rows ``start .. end - 1``) and every sensor ``j``, a copy of
    ``X`` gets sensor ``j``'s normal values inside the alarm, the detector scores
    it, and the drop of the mean score over the alarm's rows is recorded::

        drop[i, j] = mean score(X)[alarm i] - mean score(X with sensor j repaired)[alarm i]

    The biggest drop names the sensor the alarm is about; a drop near zero means
    the sensor does not matter to this alarm; a negative one means the repaired
    values look *less* normal to the detector than the recorded ones.

    The detector scores the alarm together with ``context`` rows before and after
    it (the windows of a window model, the rolling statistics of a rolling z-score),
    never the whole series, so the cost per alarm is ``n_sensors + 1`` scorings of
    ``end - start + 2 * context`` rows. The variants of one alarm are scored in one
    call, each with its own context, so the result is the same as scoring them one
    by one whenever a row's score depends only on rows at most ``context`` away.

    Parameters
    ----------
    detector : fitted course Detector
        Anything with ``score(X) -> (n,)``, e.g. ``detectors.make("robust_z").fit(X_train)``.
    X : array-like or DataFrame of shape (n_samples, n_sensors)
        The data that was scored, with the columns the detector was fitted on.
    alarms : array-like of bool of shape (n_samples,)
        Alarm state per row; each contiguous run is one alarm.
    reference : "model", "median", fitted model or array, default "model"
        The normal behaviour put in place of a sensor:

        * ``"model"``: each sensor predicted from the other sensors at the same time
          stamp by a :class:`NormalSensorModel` (k-NN) fitted on ``X_train``;
        * ``"median"``: the median of each sensor in ``X_train``;
        * a fitted model with ``predict(X) -> (n, n_sensors)``, e.g.
          ``fit_reference(X_train, "ridge")`` (fit it once and reuse it);
        * an array of normal values, shape ``(n_sensors,)`` or ``(n_samples, n_sensors)``.
    X_train : array-like of shape (n_train, n_sensors), optional
        Normal training rows; required with ``"model"`` and ``"median"`` only.
    sensors : sequence of str, optional
        Sensor names; default: the DataFrame's columns, else ``"sensor j"``.
    context : int >= 0, optional
        Rows before and after each alarm given to the detector; default the
        detector's ``window`` when it has an integer one, else 0.

    Returns
    -------
    pandas.DataFrame
        Index ``alarm`` (as :func:`error_share`), one column per sensor: the drop of the
        mean score over the alarm (in score units). NaN when the detector gives no score
        (NaN) for any row of the alarm. No rows when there is no alarm.

    Raises
    ------
    InvalidParameterError
        for an unknown ``reference``, or ``"model"`` / ``"median"`` without ``X_train``.
    ValueError
        when ``X``, ``alarms`` and the reference do not fit together.
    """
    if not hasattr(detector, "score"):
        raise InvalidParameterError(f"detector must be a fitted detector with score(X), got "
                                    f"{type(detector).__name__}.")
    arr = as_2d_float(X, name="X")
    n, p = arr.shape
    names = _names(X, sensors, p, "X")
    a = _alarm_vector(alarms, n, "X")
    ctx = _context(detector, context)
    ranges = alarm_ranges(a)
    if not ranges:
        return _empty_table(names)
    rows = np.flatnonzero(a)
    ref_rows = _reference_values(reference, X_train, arr, rows)
    ref = np.full_like(arr, np.nan)
    ref[rows] = ref_rows
    if not np.isfinite(ref_rows).all():
        raise ValueError("the reference gives NaN or infinite normal values; check the reference model and X.")
    columns = X.columns if isinstance(X, pd.DataFrame) else None
    table = np.full((len(ranges), p), np.nan)
    for i, (start, end) in enumerate(ranges):
        lo, hi = max(0, start - ctx), min(n, end + ctx)
        seg = arr[lo:hi]
        variants = [seg]
        for j in range(p):
            v = seg.copy()
            v[start - lo:end - lo, j] = ref[start:end, j]
            variants.append(v)
        inside = slice(start - lo, end - lo)
        if start - lo < ctx:  # clipped at the start of X: a variant would see the one before it as context
            scored = [_score(detector, v, columns) for v in variants]
        else:
            s = _score(detector, np.vstack(variants), columns)
            scored = np.split(s, len(variants))
        means = []
        for s in scored:
            seg_scores = s[inside]
            means.append(np.nan if np.isnan(seg_scores).any() else float(seg_scores.mean()))
        table[i] = means[0] - np.asarray(means[1:])
    out = pd.DataFrame(table, columns=names)
    out.index.name = "alarm"
    return out


def _score(detector: Any, values: np.ndarray, columns: Any) -> np.ndarray:
    Xv = values if columns is None else pd.DataFrame(values, columns=columns)
    s = np.asarray(detector.score(Xv), dtype=np.float64).reshape(-1)
    if s.shape != (len(values),):
        raise ValueError(f"detector.score returned shape {s.shape} for {len(values)} rows; occlusion needs one "
                         f"score per row.")
    return s


# --------------------------------------------------------------------------- #
# ranking and checking
# --------------------------------------------------------------------------- #
def _table(table: Any) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(f"table must be the DataFrame of error_share or occlusion (one row per alarm, "
                                    f"one column per sensor), got {type(table).__name__}.")
    if len(table):
        as_2d_float(table, name="table", allow_nan=True)  # numeric, names the bad column otherwise
    return table


def top_sensors(table: pd.DataFrame, k: int = 1) -> pd.Series:
    """The ``k`` highest-ranked sensors of every alarm.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`error_share` or :func:`occlusion` (alarms × sensors; higher = more responsible).
    k : int >= 1, default 1
        How many sensors to name per alarm (at most the number of sensors).

    Returns
    -------
    pandas.Series
        Same index as ``table``. For ``k=1`` the name of the top sensor (None where
        the row is all NaN); for ``k > 1`` a list of up to ``k`` names, best first
        (NaN entries are never listed). Ties keep the column order.
    """
    table = _table(table)
    k = check_int("k", k, 1, max(1, table.shape[1]), hint="It is how many sensors to name per alarm.")
    names = list(table.columns)
    values = table.to_numpy(dtype=np.float64) if len(table) else np.empty((0, len(names)))
    out = []
    for row in values:
        ok = ~np.isnan(row)
        order = [j for j in np.argsort(-np.where(ok, row, -np.inf), kind="stable") if ok[j]][:k]
        top = [names[j] for j in order]
        out.append((top[0] if top else None) if k == 1 else top)
    return pd.Series(out, index=table.index, name="top_sensor" if k == 1 else f"top_{k}_sensors", dtype=object)


def attribution_accuracy(top: Any, truth: Any) -> float:
    """Share of alarms whose known faulty sensor is among the ranked ones.

    Parameters
    ----------
    top : pandas.Series or sequence
        Output of :func:`top_sensors`: one name (``k=1``) or a list of names per alarm.
    truth : pandas.Series or sequence, same length
        The faulty sensor of each alarm; None / NaN for alarms without one (false
        alarms, or failures that are not sensor faults), which are left out.

    Returns
    -------
    float
        Hits / alarms with a known faulty sensor; NaN when no alarm has one.

    Examples
    --------
    >>> attribution_accuracy(["a", "b", "a"], ["a", "a", None])
    0.5
    """
    top_list = list(top.to_numpy() if isinstance(top, pd.Series) else top)
    truth_list = list(truth.to_numpy() if isinstance(truth, pd.Series) else truth)
    if len(top_list) != len(truth_list):
        raise ValueError(f"top has {len(top_list)} alarms but truth has {len(truth_list)}; pass one known sensor "
                         f"(or None) per alarm, e.g. match_alarms(alarms, events, index)['sensor'].")
    if isinstance(top, pd.Series) and isinstance(truth, pd.Series) and not top.index.equals(truth.index):
        raise ValueError("top and truth have different indexes; align them on the alarm number first.")
    hits = known = 0
    for t, want in zip(top_list, truth_list):
        if want is None or (isinstance(want, float) and np.isnan(want)) or want is pd.NA:
            continue
        known += 1
        ranked = [] if t is None else ([t] if isinstance(t, str) or not np.iterable(t) else list(t))
        hits += str(want) in {str(x) for x in ranked}
    return hits / known if known else float("nan")


def match_alarms(alarms: Any, events: pd.DataFrame, index: Any) -> pd.DataFrame:
    """The labelled event each alarm belongs to (for checking attributions on synthetic data).

    An alarm belongs to the first event (in time order) whose interval it overlaps:
    ``[precursor_start, end]`` when ``events`` has a ``precursor_start`` column, else
    ``[start, end]`` (``end`` inclusive, as in :mod:`sadlib.signals`).

    Parameters
    ----------
    alarms : array-like of bool, shape (n,)
    events : DataFrame with columns ``start``, ``end`` (timestamps) and optionally
        ``precursor_start``, ``type``, ``sensor`` (e.g. the events table of
        :func:`sadlib.signals.generate` or of the compressor twin)
    index : DatetimeIndex of length n, the timestamps of the rows

    Returns
    -------
    pandas.DataFrame
        Index ``alarm``; columns ``event`` (the events row label, or None for a false
        alarm) and, when present in ``events``, ``type`` and ``sensor`` (None for a
        false alarm).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=6, freq="1min")
    >>> ev = pd.DataFrame({"start": [idx[3]], "end": [idx[4]], "type": ["stuck"], "sensor": ["pressure"]})
    >>> match_alarms([1, 0, 0, 1, 0, 0], ev, idx)["sensor"].tolist()
    [None, 'pressure']
    """
    if not isinstance(events, pd.DataFrame):
        raise InvalidParameterError(f"events must be a DataFrame with start and end columns, got "
                                    f"{type(events).__name__}.")
    missing = [c for c in ("start", "end") if c not in events.columns]
    if missing:
        raise ValueError(f"events has no column(s) {missing}; it needs start and end timestamps "
                         f"(e.g. the events table of sadlib.signals.generate).")
    a = as_labels(alarms, name="alarms")
    idx = as_time_index(index, a.size)
    first = "precursor_start" if "precursor_start" in events.columns else "start"
    order = events.sort_values("start").index
    lo = pd.to_datetime(events[first]).to_numpy()
    hi = pd.to_datetime(events["end"]).to_numpy()
    extra = [c for c in ("type", "sensor") if c in events.columns]
    rows = []
    for start, end in alarm_ranges(a):
        t0, t1 = idx[start].to_datetime64(), idx[end - 1].to_datetime64()
        hit = None
        for label in order:
            pos = events.index.get_loc(label)
            if t0 <= hi[pos] and t1 >= lo[pos]:
                hit = label
                break
        row = {"event": hit}
        for c in extra:
            row[c] = None if hit is None else events.at[hit, c]
        rows.append(row)
    out = pd.DataFrame(rows, columns=["event", *extra], dtype=object)
    out.index.name = "alarm"
    return out

