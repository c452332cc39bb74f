"""Input checks shared by every public function of :mod:`sadlib`.

Each check raises a :class:`ValueError` (or :class:`TypeError` for a wrong type)
whose message names the problem *and* the fix, and never modifies its input.
"""

from __future__ import annotations

import datetime as _dt
from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "InvalidParameterError",
    "check_int",
    "check_number",
    "check_choice",
    "check_bool",
    "as_2d_float",
    "as_1d_float",
    "as_scores",
    "as_labels",
    "check_time_index",
    "as_time_index",
    "as_period",
    "check_not_constant",
    "check_min_length",
]


def _describe(x: Any) -> str:
    return type(x).__name__


def as_2d_float(
    X: Any,
    *,
    name: str = "X",
    allow_nan: bool = False,
    min_rows: int = 1,
) -> np.ndarray:
    """Return ``X`` as a float64 array of shape ``(n_samples, n_features)``.

    Accepts a DataFrame, a Series, a NumPy array or a nested list. A 1-D input of
    length ``n`` becomes one column, shape ``(n, 1)``. A copy is always returned.

    Raises
    ------
    TypeError
        if the data is not numeric (strings, objects, datetimes).
    ValueError
        if it is empty, has more than two dimensions, contains NaN/inf (unless
        ``allow_nan``) or has fewer than ``min_rows`` rows.
    """
    if X is None:
        raise TypeError(f"{name} is None; pass a DataFrame or an array of shape (n_samples, n_features).")
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        cplx = [c for c in X.columns if pd.api.types.is_complex_dtype(X[c])]
        if cplx:
            raise TypeError(
                f"{name} has complex column(s) {cplx[:5]}; sensor values are real numbers and the imaginary "
                f"part would be lost. Convert them explicitly, e.g. df[cols] = df[cols].abs() or .real."
            )
        bad = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
                                            and not pd.api.types.is_complex_dtype(X[c]))]
        if bad:
            kinds = ", ".join(f"{c!r} ({X[c].dtype})" for c in bad[:5])
            raise TypeError(
                f"{name} has non-numeric columns: {kinds}. Keep only the sensor columns, "
                f"e.g. X = df.drop(columns=[...]) or df.select_dtypes('number')."
            )
        arr = X.to_numpy(dtype=np.float64, copy=True)
    else:
        try:
            arr = np.asarray(X)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"{name} is ragged (rows of different lengths): {err}. Pass a rectangular array, "
                             f"one row per sample with the same number of features.") from err
        if arr.dtype.kind == "c":
            raise TypeError(
                f"{name} has complex dtype {arr.dtype}; sensor values are real numbers and the imaginary part "
                f"would be lost. Pass np.abs({name}) (magnitude) or {name}.real explicitly if that is what you mean."
            )
        if arr.dtype == object or arr.dtype.kind in "USMmVb":
            raise TypeError(
                f"{name} has dtype {arr.dtype}, expected numbers. Convert it first, "
                f"e.g. np.asarray({name}, dtype=float)."
            )
        arr = np.array(arr, dtype=np.float64, copy=True)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim != 2:
        raise ValueError(
            f"{name} has shape {arr.shape}; expected 2-D (n_samples, n_features). "
            f"For windows of shape (n_windows, window, n_features) use the sequence models, "
            f"or reshape with {name}.reshape(len({name}), -1)."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one sample and one feature.")
    if arr.shape[0] < min_rows:
        raise ValueError(
            f"{name} has {arr.shape[0]} rows but at least {min_rows} are needed; "
            f"pass a longer series or use a smaller window."
        )
    if not allow_nan:
        bad = ~np.isfinite(arr)
        if bad.any():
            rows, cols = np.nonzero(bad)
            raise ValueError(
                f"{name} contains {bad.sum()} NaN/inf values (first at row {rows[0]}, column {cols[0]}). "
                f"Fill gaps before fitting, causally with the last value seen (df.ffill(); interpolate reads the "
                f"value after the gap), or drop those rows; "
                f"a dropout is itself worth flagging, see sadlib.signals."
            )
    return arr


def as_1d_float(x: Any, *, name: str = "scores", allow_nan: bool = False) -> np.ndarray:
    """Return ``x`` as a float64 vector of shape ``(n,)``; a ``(n, 1)`` column is accepted."""
    arr = as_2d_float(x, name=name, allow_nan=allow_nan)
    if arr.shape[1] != 1:
        raise ValueError(f"{name} has shape {arr.shape}; expected one value per sample, shape (n,).")
    return arr[:, 0]


def as_scores(x: Any, *, name: str = "scores") -> np.ndarray:
    """Anomaly scores as a float64 vector of shape ``(n,)`` where NaN means "no score".

    The course's rule (:class:`sadlib.detectors.Detector`): rows a detector cannot score, such as the
    first ``window - 1`` rows of a windowed detector, have the score NaN. NaN is therefore accepted
    here; infinite scores are not (they are a bug or an overflow, not a missing score).
    """
    s = as_1d_float(x, name=name, allow_nan=True)
    inf = np.isinf(s)
    if inf.any():
        raise ValueError(f"{name} has {int(inf.sum())} infinite value(s), first at row {int(np.argmax(inf))}, "
                         f"Pass finite scores, or NaN for a row without a score (an infinite score is usually an "
                         f"overflow or a constant sensor in the scaler).")
    return s


def as_labels(y: Any, *, name: str = "y_true", n: int | None = None) -> np.ndarray:
    """Return binary labels as a boolean vector of shape ``(n,)`` (anomaly = True).

    Accepts booleans or numbers equal to 0/1. ``n`` checks the length against the scores.
    """
    if y is None:
        raise TypeError(f"{name} is None; pass one 0/1 label per sample (an array, list or Series).")
    if isinstance(y, (pd.Series, pd.DataFrame)):
        missing = np.asarray(y.isna()).reshape(len(y), -1).any(axis=1)
        if missing.any():
            raise ValueError(f"{name} has {int(missing.sum())} missing label(s) (NA/NaN), first at row "
                             f"{int(np.argmax(missing))}; fill them (e.g. {name}.fillna(0)) or drop those rows.")
        y = y.to_numpy()
    try:
        arr = np.asarray(y)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} is ragged: {err}. Pass one 0/1 label per sample, shape (n,).") from err
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 0:
        raise ValueError(f"{name} ({type(y).__name__}) is not a sequence of labels; pass an array, list or Series "
                         f"of 0/1 labels, one per sample, shape (n,).")
    if arr.ndim != 1:
        raise ValueError(f"{name} has shape {arr.shape}; expected one label per sample, shape (n,).")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass one 0/1 label per sample.")
    if arr.dtype == bool:
        out = arr.copy()
    else:
        if arr.dtype == object or arr.dtype.kind in "USMmcV":
            raise TypeError(f"{name} has dtype {arr.dtype}; expected 0/1 or booleans (1 = anomaly). Map it "
                            f"to 0/1 first, e.g. {name} = (np.asarray({name}) == 'anomaly').")
        with np.errstate(invalid="ignore"):
            ok = np.isin(arr, (0, 1))
        if not ok.all():
            bad = np.unique(arr[~ok])[:5]
            raise ValueError(
                f"{name} must be binary (0 = normal, 1 = anomaly) but contains {bad.tolist()}; "
                f"threshold or map the labels first, e.g. (labels > 0)."
            )
        out = arr.astype(bool)
    if n is not None and out.shape[0] != n:
        raise ValueError(
            f"{name} has {out.shape[0]} labels but the scores have {n}; pass labels aligned with the scores."
        )
    return out


def check_time_index(index: Any, *, name: str = "data") -> None:
    """Check a time index is sorted and has no duplicates.

    ``index`` may be a DataFrame/Series (its index is used) or an Index.
    Integer/RangeIndex inputs pass (positions are in order by construction).
    """
    if isinstance(index, (pd.DataFrame, pd.Series)):
        index = index.index
    if not isinstance(index, pd.DatetimeIndex):
        return
    if index.hasnans:
        raise ValueError(f"{name} has missing timestamps (NaT) in its index; drop those rows first.")
    if not index.is_monotonic_increasing:
        pos = int(np.argmax(np.diff(index.asi8) < 0)) + 1
        raise ValueError(
            f"{name} timestamps are not sorted (row {pos}: {index[pos]} comes after {index[pos - 1]}). "
            f"Sort it with data.sort_index() before windowing or scoring."
        )
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(
            f"{name} has duplicate timestamps (first: {dup}). Aggregate them, "
            f"e.g. data.groupby(level=0).mean(), or drop them with data[~data.index.duplicated()]."
        )


def as_time_index(index: Any, n: int, *, name: str = "index") -> pd.DatetimeIndex:
    """``index`` (or the index of a Series/DataFrame) as a checked DatetimeIndex of exactly ``n`` timestamps."""
    hint = ""
    if isinstance(index, (pd.Series, pd.DataFrame)):
        if isinstance(index, pd.Series) and pd.api.types.is_datetime64_any_dtype(index) and not isinstance(
                index.index, pd.DatetimeIndex):
            hint = (f" The Series passed holds timestamps as values but its index is a {type(index.index).__name__}; "
                    f"pass pd.DatetimeIndex(series) to use its values.")
        index = index.index
    if not isinstance(index, pd.DatetimeIndex):
        raise InvalidParameterError(
            f"{name} must be a pandas DatetimeIndex (e.g. df.index, or pd.to_datetime(timestamps)), "
            f"got {type(index).__name__}.{hint}"
        )
    if len(index) != n:
        raise ValueError(f"{name} has {len(index)} timestamps but there are {n} samples; pass the index of exactly "
                         f"these rows.")
    check_time_index(index, name=name)
    return index


def as_period(sampling_period: Any, *, name: str = "sampling_period") -> pd.Timedelta:
    """A positive duration from a Timedelta, a string such as ``"1min"`` or a number of seconds."""
    if isinstance(sampling_period, str) and _is_number(sampling_period):
        raise InvalidParameterError(
            f"{name} {sampling_period!r} has no unit (pandas would read it as nanoseconds); write the unit, "
            f"e.g. '{sampling_period.strip()}s' or '{sampling_period.strip()}min', or pass the number "
            f"{sampling_period.strip()} (seconds).")
    if isinstance(sampling_period, (str, pd.Timedelta, _dt.timedelta, np.timedelta64)):  # np.timedelta64 is Real
        try:
            period = pd.Timedelta(sampling_period)
        except (ValueError, OverflowError) as err:
            raise InvalidParameterError(
                f"{name} {sampling_period!r} is not a duration; use e.g. '1min', '10s' or 60 (seconds)."
            ) from err
    elif isinstance(sampling_period, (Real, np.bool_)):  # seconds (a bool is rejected by check_number)
        seconds = check_number(name, sampling_period, 0, low_open=True,
                               hint="Pass the duration of one sample in seconds, or as '1min' or a pd.Timedelta.")
        try:
            period = pd.Timedelta(seconds=seconds)
        except (ValueError, OverflowError) as err:  # beyond pandas' range of about 292 years
            raise InvalidParameterError(
                f"{name}={sampling_period!r} seconds is longer than pandas can represent (about 292 years); "
                f"pass the duration in seconds, e.g. 60 for one minute.") from err
    else:
        raise InvalidParameterError(
            f"{name} has type {type(sampling_period).__name__}; "
            f"use a pandas Timedelta, a string like '1min', or a number of seconds."
        )
    if pd.isna(period) or period <= pd.Timedelta(0):
        raise InvalidParameterError(f"{name} must be a positive duration, got {sampling_period!r}.")
    return period


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def check_not_constant(X: np.ndarray, *, columns: Sequence[Any] | None = None, name: str = "X") -> None:
    """Raise if any column of a 2-D array has zero spread (it cannot be standardised)."""
    spread = np.ptp(X, axis=0)
    const = np.flatnonzero(spread == 0)
    if const.size:
        labels = [columns[i] for i in const] if columns is not None else const.tolist()
        raise ValueError(
            f"{name} has constant column(s) {labels} in the fitting data (zero spread), so they cannot be "
            f"standardised. Drop them before fitting, or fit on a longer normal period where they vary."
        )


def check_min_length(n: int, window: int, *, name: str = "X") -> None:
    """Raise if a series of ``n`` samples is too short for windows of ``window`` samples."""
    if n < window:
        raise ValueError(
            f"{name} has {n} samples but the window needs {window}; pass a longer series "
            f"or choose window <= {n}."
        )


# --------------------------------------------------------------------------- #
# scalar parameters (the one home for "must be an integer >= 1" and friends)
# --------------------------------------------------------------------------- #
class InvalidParameterError(ValueError, TypeError):
    """A parameter has the wrong type or value.

    Both a :class:`ValueError` and a :class:`TypeError` (as scikit-learn's error of the
    same name), so ``except ValueError`` and ``except TypeError`` both catch it.
    """


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None, *, hint: str = "") -> int:
    """``value`` as an ``int``, or an :class:`InvalidParameterError` naming ``name`` and the valid range.

    Accepts Python and NumPy integers, rejects ``bool`` (``True`` is not a window
    length) and floats such as ``10.0``. ``low`` and ``high`` are inclusive; ``hint``
    is appended to the message (e.g. what the parameter means).
    """
    bad_type = isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral)
    if bad_type or (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            wanted = f"an integer in [{low}, {high}]"
        elif low is not None:
            wanted = f"an integer >= {low}"
        elif high is not None:
            wanted = f"an integer <= {high}"
        else:
            wanted = "an integer"
        raise InvalidParameterError(f"{name} must be {wanted}, got {value!r}.{' ' + hint if hint else ''}")
    return int(value)


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """``value`` as a finite ``float`` inside the interval, or an :class:`InvalidParameterError`.

    ``low`` / ``high`` bound the interval (``None``: unbounded); ``low_open`` /
    ``high_open`` exclude the bound itself, e.g. ``check_number("q", q, 0, 100,
    low_open=True)`` for ``0 < q <= 100``. Rejects ``bool``, NaN and infinities.
    """
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        try:
            ok = bool(np.isfinite(float(value)))
        except (OverflowError, TypeError, ValueError):  # an int beyond float's range
            ok = False
    if ok:
        v = float(value)
        ok = (low is None or (v > low if low_open else v >= low)) and (
            high is None or (v < high if high_open else v <= high))
    if not ok:
        if low is None and high is None:
            wanted = "a finite number"
        elif high is None:
            wanted = f"a number {'>' if low_open else '>='} {low}"
        elif low is None:
            wanted = f"a number {'<' if high_open else '<='} {high}"
        else:
            wanted = f"a number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise InvalidParameterError(f"{name} must be {wanted}, got {value!r}.{' ' + hint if hint else ''}")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``, else an :class:`InvalidParameterError` listing them."""
    try:
        valid = value in choices
    except TypeError:  # an unhashable value tested against a set or dict
        valid = False
    if not valid:
        raise InvalidParameterError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` if it is ``True`` or ``False`` (NumPy's too), else an :class:`InvalidParameterError`."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}.")
    return bool(value)
