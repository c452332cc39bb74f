"""Load/idle cycles of an air compressor, and the features a maintenance engineer computes from them.

A two-point controlled compressor (the MetroPT-3 air production unit, or its twin
:func:`sadlib.signals.make_compressor`) alternates between a *load* phase, which
pumps the reservoir pressure up to the upper set point, and an *idle* phase, in
which the pressure falls as air is used and lost. How long the idle phase lasts
and how fast the pressure falls in it say how much air leaves the system: a
growing leak makes the fall faster, the cycles shorter and more frequent and the
duty cycle higher, days before a failure. Raw readings stay between the set
points all the while, so a threshold on one sensor hardly sees it.

* :func:`cycle_table`: one row per complete cycle (load phase + following idle phase);
* :func:`cycle_features`: causal rolling features on a regular time grid, one row
  per ``every``, ready to be the ``X`` of a detector.

Both read the MetroPT-3 column names (``COMP``, ``TP3``, ``Oil_temperature``,
``Motor_current``; ``TP2`` when ``COMP`` is missing), so they work on the real
data as well as on the twin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._runs import run_bounds
from .validation import InvalidParameterError, as_period, check_number, check_time_index

__all__ = ["CYCLE_COLUMNS", "FEATURE_COLUMNS", "loaded_state", "cycle_table", "cycle_features"]

#: Columns of :func:`cycle_table`.
CYCLE_COLUMNS: tuple[str, ...] = ("start", "end", "load_s", "idle_s", "duration_s", "duty",
                                  "idle_decay_bar_per_min", "peak_oil_temp", "loaded_current")
#: Columns of :func:`cycle_features`.
FEATURE_COLUMNS: tuple[str, ...] = ("cycles_per_hour", "mean_cycle_s", "duty", "idle_decay_bar_per_min",
                                    "idle_decay_floor", "oil_temperature", "loaded_current")


def _check_frame(data: Any) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame with MetroPT-3 columns (COMP, TP3, ...), "
                        f"got {type(data).__name__}.")
    if not isinstance(data.index, pd.DatetimeIndex):
        raise InvalidParameterError(
            "data needs a DatetimeIndex (cycle durations are times); e.g. data = data.set_index('timestamp').")
    if len(data) < 3:
        raise ValueError(f"data has {len(data)} rows; cycles need at least a few minutes of samples.")
    check_time_index(data)
    return data


def _column(data: pd.DataFrame, column: str) -> np.ndarray:
    """``data[column]`` as finite floats, or an error naming the column, the first bad row and the fix."""
    values = data[column]
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise InvalidParameterError(
            f"data[{column!r}] has dtype {values.dtype}, expected numbers; convert it, e.g. "
            f"data[{column!r}] = pd.to_numeric(data[{column!r}]).")
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"data[{column!r}] has {int(bad.sum())} missing or infinite value(s), first at row {first} "
            f"({data.index[first]}: {arr[first]}); a cycle cannot be measured across them. Fill short gaps "
            f"(data.interpolate(limit_area='inside')) or drop those rows (data[np.isfinite(data[{column!r}])]): "
            f"a gap longer than max_gap then ends the cycle instead of changing it.")
    return arr


def loaded_state(data: pd.DataFrame, *, tp2_level: float = 2.0) -> np.ndarray:
    """Whether the compressor is loaded at each sample.

    From ``COMP`` (the air intake valve signal: 0 while the compressor takes in air, i.e.
    loaded) when present, otherwise from ``TP2 > tp2_level`` (bar; the compressor
    outlet pressure is near 0 unless loaded).

    Parameters
    ----------
    data : DataFrame with ``COMP`` or ``TP2``
    tp2_level : float, default 2.0
        Pressure level of ``TP2`` above which the compressor counts as loaded.

    Returns
    -------
    ndarray of bool, shape (n_samples,)
    """
    data = _check_frame(data)
    tp2_level = check_number("tp2_level", tp2_level, 0, low_open=True, hint="It is a pressure in bar.")
    if "COMP" in data.columns:
        comp = _column(data, "COMP")
        if not np.isin(comp, (0.0, 1.0)).all():
            raise ValueError("data['COMP'] must be 0/1 (1 = no air intake: off or offloaded; 0 = loaded).")
        return comp == 0.0
    if "TP2" in data.columns:
        return _column(data, "TP2") > tp2_level
    raise InvalidParameterError(
        f"data needs a 'COMP' (0/1 intake valve) or a 'TP2' (bar) column to find the load phases; "
        f"it has {list(data.columns)[:10]}.")


def cycle_table(data: pd.DataFrame, *, pressure: str = "TP3", max_gap: Any = "5min") -> pd.DataFrame:
    """One row per complete load/idle cycle.

    A cycle starts when the compressor loads (:func:`loaded_state`) and ends when it
    loads again; the first and last partial cycles are dropped, and so is a cycle
    that spans a gap of more than ``max_gap`` between timestamps (real data has gaps).

    Parameters
    ----------
    data : DataFrame with a DatetimeIndex
        ``COMP`` or ``TP2``, the ``pressure`` column, and optionally ``Oil_temperature``
        and ``Motor_current``.
    pressure : str, default "TP3"
        Column whose fall during the idle phase gives ``idle_decay_bar_per_min``
        (``"Reservoirs"`` works too).
    max_gap : duration, default "5min"
        Largest gap between two samples inside a cycle.

    Returns
    -------
    DataFrame
        Columns :data:`CYCLE_COLUMNS`: ``start`` / ``end`` (first sample of the load phase
        and of the next one), ``load_s``, ``idle_s``, ``duration_s`` (seconds, from the
        timestamps), ``duty`` (``load_s / duration_s``), ``idle_decay_bar_per_min``
        (pressure at the first idle sample minus pressure at the last, per minute),
        ``peak_oil_temp`` (°C) and ``loaded_current`` (median motor current while loaded,
        A); the last two are NaN without their column.

    Raises
    ------
    ValueError
        for NaN or infinite values in ``COMP``/``TP2``, the ``pressure`` column,
        ``Oil_temperature`` or ``Motor_current`` (they would silently drop or change
        cycles): fill short gaps or drop those rows first.
    InvalidParameterError
        for a non-numeric column, a ``pressure`` that is not a column, or a bad ``max_gap``.

    Examples
    --------
    >>> idx = pd.date_range("2022-01-01", periods=12, freq="10s")
    >>> comp = [1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1]
    >>> tp3 = [8.2, 8.9, 9.6, 10.2, 10.0, 9.8, 9.6, 8.9, 9.6, 10.2, 10.0, 9.8]
    >>> table = cycle_table(pd.DataFrame({"COMP": comp, "TP3": tp3}, index=idx))
    >>> table[["load_s", "idle_s", "duty", "idle_decay_bar_per_min"]].round(2).values.tolist()
    [[20.0, 40.0, 0.33, 1.2]]
    """
    data = _check_frame(data)
    if not isinstance(pressure, str) or pressure not in data.columns:
        raise InvalidParameterError(f"pressure={pressure!r} is not a column of data; use 'TP3' or 'Reservoirs'.")
    p = _column(data, pressure)
    optional = {c: _column(data, c) for c in ("Oil_temperature", "Motor_current") if c in data.columns}
    gap = as_period(max_gap, name="max_gap")
    spacing = pd.Series(data.index).diff().median()
    if gap < spacing:  # every step would be a gap: no cycle survives
        raise InvalidParameterError(
            f"max_gap={max_gap!r} ({gap}) is shorter than the data's median sampling step ({spacing}), so every "
            f"cycle would count as spanning a gap; pass a max_gap of a few sampling steps, e.g. "
            f"'{int(5 * spacing.total_seconds())}s'.")
    loaded = loaded_state(data)
    t = data.index.asi8.astype(np.float64) * (pd.Timedelta(1, unit=data.index.unit) / pd.Timedelta(seconds=1))
    starts = run_bounds(loaded)[0]  # first sample of each load phase
    if loaded[0]:
        starts = starts[starts > 0]  # the first load phase may have begun before the data
    empty = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in ("start", "end") else np.float64)
                          for c in CYCLE_COLUMNS})
    if starts.size < 2:
        return empty
    a, b = starts[:-1], starts[1:]  # cycle i covers samples a[i] .. b[i] - 1
    # first idle sample of each cycle: the first not-loaded sample after a
    not_loaded = np.flatnonzero(~loaded)
    k = np.searchsorted(not_loaded, a)
    ok = k < not_loaded.size
    idle0 = np.where(ok, not_loaded[np.minimum(k, not_loaded.size - 1)], b)
    ok &= idle0 < b - 1  # at least two idle samples
    step = np.diff(t)
    big = np.r_[np.flatnonzero(step > gap.total_seconds()), np.iinfo(np.int64).max]
    # a gap between sample j and j + 1 breaks cycle i when a[i] <= j < b[i]
    first_gap = big[np.searchsorted(big, a)]
    ok &= first_gap >= b
    a, b, idle0 = a[ok], b[ok], idle0[ok]
    if a.size == 0:
        return empty
    load_s = t[idle0] - t[a]
    duration_s = t[b] - t[a]
    idle_s = duration_s - load_s
    last = b - 1
    decay = (p[idle0] - p[last]) / ((t[last] - t[idle0]) / 60.0)
    ids = np.repeat(np.arange(a.size), b - a)
    pos = np.concatenate([np.arange(x, y) for x, y in zip(a, b)])

    def per_cycle(column: str, how: str, mask: np.ndarray | None = None) -> np.ndarray:
        if column not in optional:
            return np.full(a.size, np.nan)
        values = pd.Series(optional[column][pos], index=ids)
        if mask is not None:
            values = values[mask[pos]]
        return values.groupby(level=0).agg(how).reindex(np.arange(a.size)).to_numpy()

    return pd.DataFrame({
        "start": data.index[a], "end": data.index[b], "load_s": load_s, "idle_s": idle_s,
        "duration_s": duration_s, "duty": load_s / duration_s, "idle_decay_bar_per_min": decay,
        "peak_oil_temp": per_cycle("Oil_temperature", "max"),
        "loaded_current": per_cycle("Motor_current", "median", loaded),
    })


def cycle_features(data: pd.DataFrame, every: Any = "10min", *, window: Any = "2h", floor_window: Any = "24h",
                   floor_quantile: float = 0.02, pressure: str = "TP3", max_gap: Any = "5min") -> pd.DataFrame:
    """Rolling engineered features of the compressor on a regular time grid (causal).

    At each grid time ``t`` (every ``every``, labelled by the end of the bin) the
    features use only what is known at ``t``: the cycles that *ended* in the last
    ``window`` (``(t - window, t]``) and the raw samples of that window. Where no
    cycle ended in the window (long idle phases at night), the last known value is
    carried forward. Rows before the first complete cycle are dropped, and the
    first ``floor_window`` of rows is a warm-up (the floor is taken over fewer
    cycles); leave it out of any fitting data.

    Parameters
    ----------
    data : DataFrame with a DatetimeIndex and MetroPT-3 columns (see :func:`cycle_table`)
    every : duration, default "10min"
        Step of the output grid.
    window : duration, default "2h"
        Trailing window of the cycle features.
    floor_window : duration, default "24h"
        Trailing window of ``idle_decay_floor``.
    floor_quantile : float in (0, 0.5], default 0.02
        Quantile of the idle decay rates in ``floor_window`` that estimates the leak floor.
    pressure, max_gap : see :func:`cycle_table`

    Returns
    -------
    DataFrame, one row per grid time
        Columns :data:`FEATURE_COLUMNS`: ``cycles_per_hour``, ``mean_cycle_s``
        (seconds), ``duty`` (share of loaded samples in the window), ``idle_decay_bar_per_min``
        (median over the window's cycles), ``idle_decay_floor`` (low quantile over
        ``floor_window``: the air lost when hardly any is used, i.e. leaks; it
        rises with a leak at any time of day), ``oil_temperature`` (mean, °C) and
        ``loaded_current`` (mean current while loaded, A; NaN-free only with
        ``Motor_current``).

    Notes
    -----
    Leaks add to the idle pressure decay at every hour, but in service the air used
    by the train is far larger and varies, so the per-window decay rate mixes both.
    The floor (a low quantile over a day, which includes the depot hours) isolates
    the leak; it is the feature that sees a growing leak first.
    """
    data = _check_frame(data)
    grid_step = as_period(every, name="every")
    win = as_period(window, name="window")
    floor_win = as_period(floor_window, name="floor_window")
    if win < grid_step or floor_win < grid_step:
        raise InvalidParameterError(f"window ({win}) and floor_window ({floor_win}) must be at least every "
                                    f"({grid_step}).")
    q = check_number("floor_quantile", floor_quantile, 0, 0.5, low_open=True,
                     hint="It is a low quantile, e.g. 0.02.")
    cycles = cycle_table(data, pressure=pressure, max_gap=max_gap)
    if cycles.empty:
        raise ValueError("data holds no complete load/idle cycle; pass a longer stretch (hours) of the compressor.")
    loaded = pd.Series(loaded_state(data).astype(float), index=data.index)
    grid = pd.date_range(data.index[0].ceil(grid_step), data.index[-1].floor(grid_step), freq=grid_step)
    if grid.size == 0:
        raise ValueError(f"data spans less than every={grid_step}; pass a longer stretch or a smaller every.")

    by_end = cycles.set_index("end").sort_index()
    seconds = win / pd.Timedelta(hours=1)

    def rolling(column: str, how: str, span: pd.Timedelta) -> pd.Series:
        return getattr(by_end[column].rolling(span), how)()

    def on_grid(series: pd.Series) -> np.ndarray:
        """The value at the last index label <= each grid time (NaN if older than the window)."""
        return series.reindex(series.index.union(grid)).ffill().reindex(grid).to_numpy()

    ends = by_end.index.to_numpy(dtype="datetime64[ns]")
    g = grid.to_numpy(dtype="datetime64[ns]")
    count = np.searchsorted(ends, g, side="right") - np.searchsorted(ends, g - win.to_timedelta64(), side="right")
    out = pd.DataFrame(index=grid)
    out.index.name = data.index.name or "timestamp"
    out["cycles_per_hour"] = count / seconds
    out["mean_cycle_s"] = on_grid(rolling("duration_s", "mean", win))
    out["duty"] = on_grid(loaded.rolling(win).mean())
    out["idle_decay_bar_per_min"] = on_grid(by_end["idle_decay_bar_per_min"].rolling(win).median())
    out["idle_decay_floor"] = on_grid(by_end["idle_decay_bar_per_min"].rolling(floor_win).quantile(q))
    if "Oil_temperature" in data.columns:
        out["oil_temperature"] = on_grid(data["Oil_temperature"].astype(float).rolling(win).mean())
    else:
        out["oil_temperature"] = np.nan
    if "Motor_current" in data.columns:
        current = data["Motor_current"].astype(float).where(loaded > 0)
        out["loaded_current"] = on_grid(current.rolling(win, min_periods=1).mean().ffill())
    else:
        out["loaded_current"] = np.nan
    first = by_end.index[0]
    out = out[out.index >= first]
    if out.empty:  # found by the Hypothesis suite: a short stretch gave a 0-row frame without a word
        raise ValueError(f"data has no grid time (every={grid_step}) after its first complete cycle, which ends at "
                         f"{first} (data ends at {data.index[-1]}); pass a longer stretch or a smaller every.")
    return out
