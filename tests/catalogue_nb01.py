"""Red-team catalogue of exercises 01 (issue 26): for each question at least two named wrong answers (leaks where
the answer could read the future) and one unconventional right answer."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from catalogue import Entry

from sadlib.course.exercises import nb01


# --------------------------------------------------------------------------- Q1: add_drift
def _drift(first=1, std=np.nanstd, stays=False, in_std=True, in_place=False):
    def add_drift(x, start, duration, magnitude):
        out = x if in_place else np.array(x, dtype=float)
        scale = std(x) if in_std else 1.0
        k = np.arange(duration)
        out[start:start + duration] += magnitude * scale * (k + first) / duration
        if stays:
            out[start + duration:] += magnitude * scale * (duration - 1 + first) / duration
        return out
    return {"add_drift": add_drift}


def _drift_with_inject(x, start, duration, magnitude):
    from sadlib import signals

    frame = pd.DataFrame({"s": x}, index=pd.date_range("2024-01-01", periods=len(x), freq="1min"))
    return signals.inject(frame, "drift", start=start, duration=duration, sensor="s", magnitude=magnitude)[0]["s"]


def _drift_loop_pandas_std(x, start, duration, magnitude):
    s = pd.Series(x).std()  # pandas skips NaN, ddof=1: within 0.5 % of np.nanstd on these lengths
    out = [float(v) for v in x]
    for k in range(duration):
        out[start + k] = out[start + k] + magnitude * s * (k + 1) / duration
    return out


def _drift_float32(x, start, duration, magnitude):
    x32 = np.asarray(x, dtype=np.float32)  # float32 throughout: rounding, not a mistake
    out = x32.copy()
    ramp = magnitude * np.nanstd(x32) * (np.arange(duration) + 1) / duration
    out[start:start + duration] += ramp.astype(np.float32)
    return out


def _drift_zero_to_full(x, start, duration, magnitude):
    out = np.array(x, dtype=float)
    out[start:start + duration] += magnitude * np.nanstd(x) * np.linspace(0, 1, duration)  # 0 at the first sample
    return out


def _drift_event_std(x, start, duration, magnitude):
    out = np.array(x, dtype=float)
    s = np.nanstd(x[start:start + duration])  # the event's rows only
    out[start:start + duration] += magnitude * s * (np.arange(duration) + 1) / duration
    return out


def _drift_one_too_long(x, start, duration, magnitude):
    out = np.array(x, dtype=float)
    k = np.arange(duration + 1)  # an inclusive end: start + duration is raised too
    out[start:start + duration + 1] += magnitude * np.nanstd(x) * (k + 1) / duration
    return out


def _drift_linspace_series(x, start, duration, magnitude):
    s = pd.Series(x, dtype=float)
    s.iloc[start:start + duration] += np.linspace(1 / duration, 1, duration) * magnitude * s.std(ddof=0)
    return s


# --------------------------------------------------------------------------- Q2: the pooled share
def _labelled():
    from sadlib.datasets import load_skab

    return [df["anomaly"] for df in load_skab().values() if "anomaly" in df]


# --------------------------------------------------------------------------- Q3: rolling_zscore
def _z(kind):
    return {"rolling_zscore": lambda x, window: nb01._z_variant(np.asarray(x, float), window, kind)}


def _z_backfilled(x, window):
    z = pd.Series(nb01._z_variant(np.asarray(x, float), window))
    return z.bfill().to_numpy()  # the first hour filled from later values


def _z_library(x, window):
    from sadlib.detectors import RollingZScore

    frame = pd.DataFrame({"x": x})
    return RollingZScore(window=window, min_scale=1e-9).fit(frame).score(frame)


def _z_registry_with_sign(x, window):
    from sadlib import detectors

    s = pd.Series(x, dtype=float)
    frame = s.to_frame()
    score = detectors.make("zscore", window=window, min_scale=1e-9).fit(frame).score(frame)
    z = np.sign(s - s.rolling(window).mean().shift(1)).to_numpy() * score  # the sign put back
    z[:window] = np.nan
    return z


def _z_closed_left(x, window):
    s = pd.Series(x, dtype=float)
    roll = s.rolling(window, closed="left")  # the window ends just before t
    return ((s - roll.mean()) / roll.std()).to_numpy()


def _z_loop(x, window):
    x = np.asarray(x, float)
    z = np.full(x.size, np.nan)
    for t in range(window, x.size):
        past = x[t - window:t]
        z[t] = (x[t] - past.mean()) / past.std(ddof=1)
    return z


def _z_float32(x, window):
    s = pd.Series(np.asarray(x, dtype=np.float32))  # float32 throughout: rounding, not a mistake
    roll = s.rolling(window)
    return ((s - roll.mean().shift(1)) / roll.std().shift(1)).to_numpy()


def _z_shifted(window_change=0, lag=1):
    def rolling_zscore(x, window):
        s = pd.Series(x, dtype=float)
        roll = s.rolling(window + window_change)
        return ((s - roll.mean().shift(lag)) / roll.std().shift(lag)).to_numpy()
    return {"rolling_zscore": rolling_zscore}


def _z_window_after_t(x, window):
    s = pd.Series(x, dtype=float)[::-1]
    roll = s.rolling(window)  # on the reversed series: the `window` samples *after* t
    return ((s - roll.mean().shift(1)) / roll.std().shift(1))[::-1].to_numpy()


def _z_sliding_window_list(x, window):
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.asarray(x, dtype=float)
    past = sliding_window_view(x[:-1], window)  # row i holds x[i:i + window], the window before t = i + window
    z = [float("nan")] * window + ((x[window:] - past.mean(axis=1)) / past.std(axis=1, ddof=1)).tolist()
    return z


def _z_subclass(x, window):
    from sadlib.detectors import RollingZScore

    class MyZScore(RollingZScore):  # "my own" detector, the library's underneath
        pass

    frame = pd.DataFrame({"x": x})
    return MyZScore(window=window, min_scale=1e-9).fit(frame).score(frame)


# --------------------------------------------------------------------------- Q4: correlations
def _corr_rows(first, stop):
    """Correlations over ``iloc[first:stop]``: the event is rows 6000 to 6299."""
    from sadlib import signals

    normal = signals.make_normal(n_days=7, seed=0)
    broken, _ = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    before, during = normal.iloc[first:stop], broken.iloc[first:stop]
    return {"normal": normal, "corr_before": before["pressure"].corr(before["current"]),
            "corr_during": during["pressure"].corr(during["current"])}


def _corr_spearman():
    from sadlib import signals

    normal = signals.make_normal(n_days=7, seed=0)
    broken, ev = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    rows = slice(ev["start"], ev["end"])
    return {"normal": normal,
            "corr_before": normal.loc[rows, "pressure"].corr(normal.loc[rows, "current"], method="spearman"),
            "corr_during": broken.loc[rows, "pressure"].corr(broken.loc[rows, "current"], method="spearman")}


def _corr(swap=False, whole=False, numpy=False):
    from sadlib import signals

    normal = signals.make_normal(n_days=7, seed=0)
    broken, ev = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    rows = slice(None) if whole else slice(ev["start"], ev["end"])
    if numpy:
        before = np.corrcoef(normal.loc[rows, ["pressure", "current"]].to_numpy().T)[0, 1]
        during = np.corrcoef(broken.loc[rows, ["pressure", "current"]].to_numpy().T)[0, 1]
    else:
        before = normal.loc[rows, "pressure"].corr(normal.loc[rows, "current"])
        during = broken.loc[rows, "pressure"].corr(broken.loc[rows, "current"])
    if swap:
        before, during = during, before
    return {"normal": normal, "corr_before": before, "corr_during": during}


# --------------------------------------------------------------------------- Q5: label_events
def _events_inclusive(y):
    d = np.diff(np.r_[0, np.asarray(y).astype(int), 0])
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist()))


def _events_no_padding(y):
    y = np.asarray(y).astype(int)
    out, start = [], None
    for t in range(len(y)):
        if y[t] and start is None:
            start = t
        elif not y[t] and start is not None:
            out.append((start, t))
            start = None
    return out  # forgets the event still open at the end


def _events_library(y):
    from sadlib import metrics

    return metrics.events(y)


def _events_as(kind):
    def label_events(y):
        d = np.diff(np.r_[0, np.asarray(y).astype(int), 0])
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        if kind == "flat":
            return np.c_[starts, ends].ravel().tolist()  # [s0, e0, s1, e1, ...]
        if kind == "dict":
            return dict(zip(starts.tolist(), ends.tolist()))
        if kind == "lengths":
            return list(zip(starts.tolist(), (ends - starts).tolist()))
        return pd.DataFrame({"start": starts, "end": ends}).itertuples(index=False, name=None)  # a lazy iterator
    return {"label_events": label_events}


def _events_pandas_runs(y):
    s = pd.Series(np.asarray(y).astype(int))
    run_id = (s != s.shift()).cumsum()
    return [(int(part.index[0]), int(part.index[-1]) + 1) for _, part in s.groupby(run_id) if part.iloc[0] == 1]


def _events_groupby(y):
    out, t = [], 0
    for value, run in itertools.groupby(np.asarray(y).astype(int).tolist()):
        n = len(list(run))
        if value == 1:
            out.append([t, t + n])
        t += n
    return np.array(out, dtype=np.int64).reshape(-1, 2)


ENTRIES = [
    # Q1: a drift generator
    Entry(nb01, 1, "wrong", "ramp from zero", lambda: _drift(first=0), ("starts at 0",)),
    Entry(nb01, 1, "wrong", "drift that stays", lambda: _drift(stays=True), ("every event ends",)),
    Entry(nb01, 1, "wrong", "magnitude in sensor units", lambda: _drift(in_std=False), ("standard deviations",)),
    Entry(nb01, 1, "wrong", "np.std with NaN", lambda: _drift(std=np.std), ("np.nanstd",)),
    Entry(nb01, 1, "wrong", "changes x in place", lambda: _drift(in_place=True), ("in place",)),
    Entry(nb01, 1, "wrong", "signals.inject", lambda: {"add_drift": _drift_with_inject}, ("write it yourself",)),
    Entry(nb01, 1, "right", "loop with pandas std returning a list", lambda: {"add_drift": _drift_loop_pandas_std}),
    Entry(nb01, 1, "right", "float32 throughout", lambda: {"add_drift": _drift_float32}),
    Entry(nb01, 1, "right", "linspace on a pandas Series", lambda: {"add_drift": _drift_linspace_series}),
    Entry(nb01, 1, "wrong", "ramp from zero to full (linspace 0 to 1)", lambda: {"add_drift": _drift_zero_to_full},
          ("k / (duration - 1)",)),
    Entry(nb01, 1, "wrong", "std of the event's rows", lambda: {"add_drift": _drift_event_std}, ("whole of x",)),
    Entry(nb01, 1, "wrong", "one sample too long", lambda: {"add_drift": _drift_one_too_long}, ("outside the event",)),
    # Q2: the pooled anomaly share of SKAB's test rows
    Entry(nb01, 2, "wrong", "training rows counted", lambda: {"share": pd.concat(_labelled()).mean()},
          ("training rows",)),
    Entry(nb01, 2, "wrong", "mean of the per-file shares",
          lambda: {"share": float(np.mean([y.iloc[400:].mean() for y in _labelled()]))}, ("pool",)),
    Entry(nb01, 2, "wrong", "percentage", lambda: {"share": 100 * nb01._skab_test_share()}, ("percentage",)),
    Entry(nb01, 2, "right", "pandas concat of the test rows",
          lambda: {"share": pd.concat([y.iloc[400:] for y in _labelled()]).mean()}),
    # Q3: a rolling z-score on the past only
    Entry(nb01, 3, "leak", "centred window", lambda: _z("centred"), ("look-ahead",)),
    Entry(nb01, 3, "leak", "mean and std of the whole series", lambda: _z("whole series"), ("reads the future",)),
    Entry(nb01, 3, "leak", "start backward-filled", lambda: {"rolling_zscore": _z_backfilled}, ("should be NaN",)),
    Entry(nb01, 3, "wrong", "window includes t", lambda: _z("includes t"), ("x[t] itself",)),
    Entry(nb01, 3, "wrong", "population std", lambda: _z("ddof=0"), ("ddof=0",)),
    Entry(nb01, 3, "wrong", "absolute value", lambda: _z("absolute"), ("keep the sign",)),
    Entry(nb01, 3, "wrong", "RollingZScore", lambda: {"rolling_zscore": _z_library}, ("write it yourself",)),
    Entry(nb01, 3, "wrong", "detectors.make('zscore') with the sign put back",
          lambda: {"rolling_zscore": _z_registry_with_sign}, ("write it yourself",)),
    Entry(nb01, 3, "right", "rolling closed on the left", lambda: {"rolling_zscore": _z_closed_left}),
    Entry(nb01, 3, "right", "loop", lambda: {"rolling_zscore": _z_loop}),
    Entry(nb01, 3, "right", "float32 throughout", lambda: {"rolling_zscore": _z_float32}),
    Entry(nb01, 3, "right", "sliding_window_view returning a list", lambda: {"rolling_zscore": _z_sliding_window_list}),
    Entry(nb01, 3, "wrong", "window of window - 1", lambda: _z_shifted(window_change=-1), ("window - 1",)),
    Entry(nb01, 3, "wrong", "window of window + 1", lambda: _z_shifted(window_change=1), ("window + 1",)),
    Entry(nb01, 3, "wrong", "shift(2) skips t - 1", lambda: _z_shifted(lag=2), ("skips x[t - 1]",)),
    Entry(nb01, 3, "leak", "shift(-1) reads t + 1", lambda: _z_shifted(lag=-1), ("look-ahead",)),
    Entry(nb01, 3, "leak", "window after t", lambda: {"rolling_zscore": _z_window_after_t}, ("look-ahead",)),
    Entry(nb01, 3, "wrong", "subclass of RollingZScore", lambda: {"rolling_zscore": _z_subclass},
          ("write it yourself",)),
    # Q4: correlations before and during a break
    Entry(nb01, 4, "wrong", "swapped", lambda: _corr(swap=True), ("swapped",)),
    Entry(nb01, 4, "wrong", "whole week", lambda: _corr(whole=True), ("whole week",)),
    Entry(nb01, 4, "right", "np.corrcoef", lambda: _corr(numpy=True)),
    Entry(nb01, 4, "right", "iloc with an exclusive end", lambda: _corr_rows(6000, 6300)),
    Entry(nb01, 4, "wrong", "iloc one row short", lambda: _corr_rows(6000, 6299), ("off by one",)),
    Entry(nb01, 4, "wrong", "iloc one row too many", lambda: _corr_rows(6000, 6301), ("off by one",)),
    Entry(nb01, 4, "wrong", "Spearman", _corr_spearman, ("should be about",)),
    # Q5: events from a label vector
    Entry(nb01, 5, "wrong", "inclusive ends", lambda: {"label_events": _events_inclusive}, ("inclusive",)),
    Entry(nb01, 5, "wrong", "last event forgotten", lambda: {"label_events": _events_no_padding}, ("last sample",)),
    Entry(nb01, 5, "wrong", "metrics.events", lambda: {"label_events": _events_library}, ("write it yourself",)),
    Entry(nb01, 5, "right", "itertools.groupby as an array", lambda: {"label_events": _events_groupby}),
    Entry(nb01, 5, "right", "pandas run ids", lambda: {"label_events": _events_pandas_runs}),
    Entry(nb01, 5, "right", "a lazy iterator of tuples", lambda: _events_as("iterator")),
    Entry(nb01, 5, "wrong", "flat list of starts and ends", lambda: _events_as("flat"), ("one per event",)),
    Entry(nb01, 5, "wrong", "dict start to end", lambda: _events_as("dict"), ("returns a dict",)),
    Entry(nb01, 5, "wrong", "start and length", lambda: _events_as("lengths"), ("length",)),
]
