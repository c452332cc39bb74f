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


# --------------------------------------------------------------------------- Q4: correlations
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
    # Q4: correlations before and during a break
    Entry(nb01, 4, "wrong", "swapped", lambda: _corr(swap=True), ("swapped",)),
    Entry(nb01, 4, "wrong", "whole week", lambda: _corr(whole=True), ("whole week",)),
    Entry(nb01, 4, "right", "np.corrcoef", lambda: _corr(numpy=True)),
    # Q5: events from a label vector
    Entry(nb01, 5, "wrong", "inclusive ends", lambda: {"label_events": _events_inclusive}, ("inclusive",)),
    Entry(nb01, 5, "wrong", "last event forgotten", lambda: {"label_events": _events_no_padding}, ("last sample",)),
    Entry(nb01, 5, "wrong", "metrics.events", lambda: {"label_events": _events_library}, ("write it yourself",)),
    Entry(nb01, 5, "right", "itertools.groupby as an array", lambda: {"label_events": _events_groupby}),
]
