"""Exercises for notebook 01 (sensor signals).

Three questions have the learner write a method of the lesson (``FunctionQuestion(method=...)``): a drift
generator (Q1), a rolling z-score on the past only (Q3) and the events of a label vector (Q5). Each is
checked by behaviour on series generated inside the check, with the library's own version unavailable
(``signals.inject``, ``RollingZScore``, ``metrics.events``); the z-score is also cut at several points to
probe for look-ahead. Q2 and Q4 work on SKAB and on an injected correlation break.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    call_answer,
    expect_close,
    expect_shape,
    expect_true,
    expect_type,
    fmt_distinct,
    library_unavailable,
)
from sadlib.course.exercises.nb00 import expect_number

__all__ = ["q1", "q2", "q3", "q4", "q5"]

SETUP = """\
import numpy as np
import pandas as pd

from sadlib import datasets, signals

normal = signals.make_normal(n_days=7, seed=0)  # used by Q4"""

ANSWER_CELLS = {
    1: "def add_drift(x, start, duration, magnitude):\n"
       "    out = np.array(x, dtype=float)  # a copy: x stays as it is\n"
       "    # raise out[start + k] by magnitude * (std of x, NaN ignored) * (k + 1) / duration\n"
       "    ____\n"
       "    return ____",
    3: "def rolling_zscore(x, window):\n"
       "    x = pd.Series(x, dtype=float)\n"
       "    # the mean and standard deviation of x[t - window:t], the `window` samples before t\n"
       "    ____\n"
       "    return ____",
    4: "# `normal` is the setup cell's week: leave it as it is (signals.inject works on a copy)\n"
       "# broken, event = signals.inject(normal, ...)\n"
       "corr_before = ____\n"
       "corr_during = ____",
    5: "def label_events(y):\n"
       "    y = np.asarray(y).astype(int)\n"
       "    # one (start, end) pair per run of 1s, end exclusive\n"
       "    ____\n"
       "    return ____",
}


def _fresh_series(rng: np.random.Generator, n: int) -> np.ndarray:
    """A series the learner has not seen: a slow random walk, a daily-like wave and noise."""
    t = np.arange(n)
    return (10 + np.cumsum(rng.normal(0, 0.05, n)) + np.sin(2 * np.pi * t / rng.uniform(50, 150))
            + rng.normal(0, rng.uniform(0.1, 0.5), n))


def _as_float_array(out, n: int, name: str) -> np.ndarray:
    if isinstance(out, tuple):
        raise Incorrect(f"`{name}` returns a tuple; return one array.")
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise Incorrect(f"`{name}` should return an array of numbers, but it returns a {type(out).__name__}.") from None
    expect_shape(arr, (n,), f"the output of `{name}`")
    return arr


# --------------------------------------------------------------------------- Q1: a drift that ends
def _ramp(x: np.ndarray, start: int, duration: int, magnitude: float, *, first: int = 1, std=np.nanstd,
          stays: bool = False, in_std: bool = True, zero_to_full: bool = False, event_std: bool = False) -> np.ndarray:
    """The drift of ``signals.inject`` on one array, and the variants a learner may write by mistake."""
    out = np.array(x, dtype=float)
    scale = float(std(x[start:start + duration] if event_std else x)) if in_std else 1.0
    k = np.arange(duration)
    fraction = (k / (duration - 1) if duration > 1 else np.ones(1)) if zero_to_full else (k + first) / duration
    out[start:start + duration] += magnitude * scale * fraction
    if stays:
        out[start + duration:] += magnitude * scale * (duration - 1 + first) / duration
    return out


_DRIFT_MISTAKES = {
    "from zero": (dict(first=0), "your ramp starts at 0 and stops one step short of the full size: sample "
                                 "start + k gets (k + 1) / duration of magnitude × std, so the last sample of "
                                 "the event gets all of it."),
    "stays": (dict(stays=True), "after the event your drift stays: in this course every event ends, so the "
                                "samples after start + duration - 1 are unchanged (the signal snaps back)."),
    "zero to full": (dict(zero_to_full=True), "your ramp starts at 0 (k / (duration - 1)): sample start + k gets "
                                              "(k + 1) / duration of magnitude × std, so even the first sample of "
                                              "the event is raised, by 1 / duration of it."),
    "std of the event": (dict(event_std=True), "`s` is the standard deviation of the whole of x (NaN ignored), not "
                                               "of the event's rows."),
    "absolute": (dict(in_std=False), "`magnitude` is in standard deviations of x: multiply it by the "
                                     "standard deviation of x (NaN ignored, `np.nanstd`)."),
    "std with NaN": (dict(std=np.std), "x holds NaN, so `np.std(x)` is NaN: use `np.nanstd(x)`."),
}


def _same_drift(got: np.ndarray, ref: np.ndarray, x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Per sample: does ``got`` match ``ref``? Outside the event the value itself (to float32 precision, NaN
    included); inside, the ramp added to ``x`` within 0.5 % (``np.nanstd`` and pandas' ``std`` with ddof=1 both
    pass), up to float32 rounding of ``x``."""
    rounding = 1e-6 * float(np.nanmax(np.abs(x)))
    same = np.isclose(got, ref, rtol=1e-6, atol=0, equal_nan=True)
    same[inside] = np.isclose(got[inside] - x[inside], ref[inside] - x[inside], rtol=5e-3, atol=rounding,
                              equal_nan=True)
    return same


def _drift_cases() -> list[tuple[np.ndarray, int, int, float]]:
    rng = np.random.default_rng(20260101)
    cases = []
    for n, start, duration, magnitude in ((400, 150, 60, 3.0), (300, 0, 25, 2.0), (500, 440, 60, -1.5),
                                          (350, 200, 1, 4.0), (450, 100, 120, 0.5)):
        x = _fresh_series(rng, n)
        holes = rng.choice(np.setdiff1d(np.arange(n), np.arange(start - 1, start + duration + 1)), 5, replace=False)
        x[holes] = np.nan  # a few readings missing outside the event
        cases.append((x, start, duration, magnitude))
    return cases


def _check_drift(add_drift):
    from sadlib import signals

    for x, start, duration, magnitude in _drift_cases():
        given = x.copy()
        want = _ramp(x, start, duration, magnitude)
        with library_unavailable(add_drift, [(signals, "inject")]):
            out = call_answer(add_drift, "add_drift", given, start, duration, magnitude, copy=False)
        where = f"with start={start}, duration={duration}, magnitude={magnitude} on a series of {x.size} samples"
        expect_true(np.array_equal(given, x, equal_nan=True),
                    f"`add_drift` changed `x` in place ({where}); work on a copy, `np.array(x, dtype=float)`.")
        got = _as_float_array(out, x.size, "add_drift")
        inside = np.zeros(x.size, dtype=bool)
        inside[start:start + duration] = True
        if _same_drift(got, want, x, inside).all():
            continue
        for variant, message in _DRIFT_MISTAKES.values():
            if _same_drift(got, _ramp(x, start, duration, magnitude, **variant), x, inside).all():
                raise Incorrect(f"{where}: {message}")
        wrong = ~_same_drift(got, want, x, inside)
        if (wrong & ~inside).any():
            first = int(np.flatnonzero(wrong & ~inside)[0])
            raise Incorrect(f"{where}: sample {first} lies outside the event (rows {start} to {start + duration - 1}) "
                            f"but your function changed it from {x[first]:.6g} to {got[first]:.6g}.")
        k = int(np.flatnonzero(wrong & inside)[0])
        raise Incorrect(f"{where}: sample {k} (k = {k - start} in the event) should be raised by "
                        f"{fmt_distinct(want[k] - x[k], got[k] - x[k])}, but yours is raised by "
                        f"{fmt_distinct(got[k] - x[k], want[k] - x[k])}.")
    return ("your drift matches `signals.inject(..., 'drift')` on five series you had not seen, NaN, an event at "
            "the very start and a one-sample event included.")


q1 = FunctionQuestion(
    1,
    "Write `add_drift(x, start, duration, magnitude)`, the `drift` of `signals.inject` for one sensor. `x` is a "
    "1-D array that may hold NaN. Return a **new** array in which sample `start + k` (k = 0, ..., duration - 1) "
    "is raised by `magnitude * s * (k + 1) / duration`, where `s` is the standard deviation of `x` with NaN "
    "ignored: the ramp reaches the full `magnitude * s` at the event's last sample, and every sample after the "
    "event is unchanged (the drift ends). Leave `x` itself unchanged. The check runs your function on series "
    "you have not seen, with `signals.inject` unavailable.",
    ("add_drift",),
    _check_drift,
    ["`np.nanstd(x)` is the standard deviation with NaN ignored.",
     "`k = np.arange(duration)`; the ramp is `magnitude * s * (k + 1) / duration`.",
     "`out[start:start + duration] += ramp` changes only the event's samples."],
    "import numpy as np\n\n\n"
    "def add_drift(x, start, duration, magnitude):\n"
    "    out = np.array(x, dtype=float)  # a copy: x stays as it is\n"
    "    k = np.arange(duration)\n"
    "    out[start:start + duration] += magnitude * np.nanstd(x) * (k + 1) / duration\n"
    "    return out",
    setup=lambda: {"np": np, "pd": pd},
    method="drift generator",
)


# --------------------------------------------------------------------------- Q2: SKAB's anomaly share
def _skab_shares() -> dict[str, float]:
    """The pooled share of the test rows, and the numbers of two usual mistakes."""
    from sadlib.datasets import load_skab

    labels = [df["anomaly"].to_numpy() for df in load_skab().values() if "anomaly" in df]
    return {"pooled test rows": float(np.concatenate([y[400:] for y in labels]).mean()),
            "all rows": float(np.concatenate(labels).mean()),
            "mean of the files": float(np.mean([y[400:].mean() for y in labels]))}


def _skab_test_share() -> float:
    return _skab_shares()["pooled test rows"]


def _check_share(share):
    if isinstance(share, np.ndarray) and share.ndim == 0:
        share = share[()]
    expect_number(share, "share", "a fraction between 0 and 1")
    if share > 1:
        raise Incorrect("a share is a fraction between 0 and 1, not a count or a percentage.")
    shares = _skab_shares()
    expected = shares["pooled test rows"]
    if abs(share - expected) <= 0.002:
        return None
    if abs(share - shares["all rows"]) <= 0.0005:
        raise Incorrect(f"{share:.4f} is the share over all rows: you counted the 400 training rows of each file "
                        "too. Drop them (`[400:]`) before you pool.")
    if abs(share - shares["mean of the files"]) <= 0.0005:
        raise Incorrect(f"{share:.4f} is the mean of the per-file shares: pool the rows of all files first, so "
                        "that a long file weighs more than a short one.")
    expect_close(float(share), expected, atol=0.002, what="the anomaly share of SKAB's test rows")


q2 = Question(
    2,
    "Under SKAB's protocol the first 400 rows of each labelled file are for training. Set `share` to the "
    "fraction of anomalous rows among all the *remaining* rows of the labelled files, pooled (all those rows "
    "counted together, so that a long file weighs more than a short one).",
    ("share",),
    _check_share,
    ["`datasets.load_skab()` returns a dict; the anomaly-free file has no `anomaly` column.",
     "Concatenate `df['anomaly'].to_numpy()[400:]` over the labelled files and take the mean."],
    "from sadlib import datasets\nimport numpy as np\n"
    "labels = [df['anomaly'].to_numpy()[400:] for df in datasets.load_skab().values() if 'anomaly' in df]\n"
    "share = np.concatenate(labels).mean()",
    setup=lambda: {},
)


# --------------------------------------------------------------------------- Q3: a rolling z-score on the past
def _z_variant(x: np.ndarray, window: int, kind: str = "past") -> np.ndarray:
    """The z-score of the task (``"past"``) and the variants a learner may write by mistake."""
    s = pd.Series(x, dtype=float)
    if kind == "whole series":
        return ((s - s.mean()) / s.std()).to_numpy()
    size = window + {"window - 1": -1, "window + 1": 1}.get(kind, 0)
    roll = s.rolling(size, min_periods=1 if kind == "partial start" else size, center=kind == "centred")
    mean, std = roll.mean(), roll.std(ddof=0 if kind == "ddof=0" else 1)
    if kind not in ("includes t", "centred"):
        lag = 2 if kind == "skips t - 1" else 1
        mean, std = mean.shift(lag), std.shift(lag)
    z = (s - mean) / std
    if kind == "backward-filled":
        z = z.bfill()
    return np.abs(z.to_numpy()) if kind == "absolute" else z.to_numpy()


_Z_MISTAKES = {
    "includes t": "your window includes x[t] itself: use the `window` samples *before* t (`.shift(1)` after "
                  "`.rolling(window)`), so that a jump is not part of its own yardstick.",
    "centred": "your window is centred on t, so z[t] reads samples after t: that is look-ahead, impossible in a "
               "live system. Use the `window` samples before t.",
    "whole series": "you standardise with the mean and std of the whole series, which reads the future (and "
                    "ignores the window). Use the `window` samples before t.",
    "ddof=0": "you use the population standard deviation (ddof=0); the task asks for pandas' default, ddof=1.",
    "absolute": "you return |z|; keep the sign (a drop is negative).",
    "partial start": "the first `window` values should be NaN: before t = window there are not `window` past "
                     "samples yet.",
    "backward-filled": "the first `window` values should be NaN: you filled them from later values (a backward "
                       "fill), which reads the future.",
    "window - 1": "your window holds `window - 1` samples: use exactly the `window` samples before t, "
                  "x[t - window:t] (so z[t] is NaN up to t = window - 1).",
    "window + 1": "your window holds `window + 1` samples: use exactly the `window` samples before t, "
                  "x[t - window:t].",
    "skips t - 1": "your window ends at t - 2 and skips x[t - 1] (`.shift(2)`): the samples before t are "
                   "x[t - window:t], which `.shift(1)` gives.",
}

#: z-scores of an answer and of the check agree to float32 precision (an answer in float32 is right)
_Z_TOL = dict(rtol=1e-4, atol=1e-5, equal_nan=True)


def _z_cases() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(20260301)
    cases = []
    for n, window in ((400, 60), (300, 20), (250, 5)):
        x = _fresh_series(rng, n)
        x[n // 2:n // 2 + 30] += 3.0  # a level shift that ends
        cases.append((x, window))
    return cases


def _check_zscore(rolling_zscore):
    from sadlib.detectors import zscore as zscore_module

    def run(x, window):
        # library_unavailable also blocks the class in `detectors.REGISTRY`, so `detectors.make("zscore")` fails too
        with library_unavailable(rolling_zscore, [(zscore_module, "RollingZScore")]):
            out = call_answer(rolling_zscore, "rolling_zscore", x, window)
        return _as_float_array(out, x.size, "rolling_zscore")

    def look_ahead(x, window, full):
        """The z-scores up to a cut must not change when the data after it is cut off (no slack)."""
        for cut in (window + 1, x.size // 2 + 5, x.size - 7):
            part = run(x[:cut], window)
            changed = ~np.isclose(part, full[:cut], rtol=0, atol=1e-12, equal_nan=True)
            if changed.any():
                t = int(np.flatnonzero(changed)[0])
                raise Incorrect(f"with window={window}: cutting the series after sample {cut - 1} changed your z[{t}]: "
                                "your z-score reads samples after t (look-ahead). Use only x[t - window:t] and x[t].")

    for x, window in _z_cases():
        want = _z_variant(x, window)
        got = run(x, window)
        if np.allclose(got, want, **_Z_TOL):
            look_ahead(x, window, got)
            continue
        for kind, message in _Z_MISTAKES.items():
            if np.allclose(got, _z_variant(x, window, kind), **_Z_TOL):
                raise Incorrect(f"with window={window}: {message}")
        look_ahead(x, window, got)  # a wrong answer that reads the future is told so first
        if not np.array_equal(np.isnan(got[:window]), np.isnan(want[:window])):
            raise Incorrect(f"with window={window}: the first {window} values should be NaN: before t = window there "
                            "are not `window` past samples yet.")
        bad = np.flatnonzero(~np.isclose(got, want, **_Z_TOL))
        t = int(bad[0])
        raise Incorrect(f"with window={window}: z[{t}] should be {fmt_distinct(want[t], got[t])}, but yours is "
                        f"{fmt_distinct(got[t], want[t])} ({bad.size} of {x.size} values differ).")
    return ("your z-score matches the definition on three series you had not seen and gives the same values when "
            "the future is cut off. `sadlib.detectors.RollingZScore` does this for you from now on.")


q3 = FunctionQuestion(
    3,
    "Write `rolling_zscore(x, window)`: `x` is a 1-D array; return an array `z` of the same length with "
    "`z[t] = (x[t] - m) / s`, where `m` and `s` are the mean and the standard deviation (pandas' default, "
    "ddof=1) of the `window` samples **before** t, `x[t - window:t]`. `z[t]` is NaN for `t < window`; keep the "
    "sign. The check compares your function with its own computation on series you have not seen, cuts the "
    "series at several points (the values before a cut must not change), and makes `RollingZScore` unavailable.",
    ("rolling_zscore",),
    _check_zscore,
    ["`x.rolling(window).mean()` at t covers `x[t - window + 1:t + 1]`, which includes t; `.shift(1)` moves it "
     "to the samples before t.",
     "`past_mean = x.rolling(window).mean().shift(1)`, `past_std = x.rolling(window).std().shift(1)`.",
     "`return ((x - past_mean) / past_std).to_numpy()`"],
    "import numpy as np\nimport pandas as pd\n\n\n"
    "def rolling_zscore(x, window):\n"
    "    x = pd.Series(x, dtype=float)\n"
    "    past_mean = x.rolling(window).mean().shift(1)  # the window before t, not t itself\n"
    "    past_std = x.rolling(window).std().shift(1)\n"
    "    return ((x - past_mean) / past_std).to_numpy()",
    setup=lambda: {"np": np, "pd": pd},
    method="rolling z-score",
)


# --------------------------------------------------------------------------- Q4: a correlation break
def _normal():
    from sadlib import signals

    return {"normal": signals.make_normal(n_days=7, seed=0), "signals": signals}


def _expect_untouched(normal):
    """``normal`` must still be the setup's clean week (``inject`` works on a copy)."""
    from sadlib import signals

    expect_type(normal, pd.DataFrame, "normal")
    reference = signals.make_normal(n_days=7, seed=0)
    same = normal.shape == reference.shape and np.allclose(normal.to_numpy(), reference.to_numpy(), equal_nan=True)
    expect_true(same, "`normal` has changed: keep it as the setup cell made it and store the new data in a new "
                      "variable (run the setup cell again to restore it).")


def _check_corr(normal, corr_before, corr_during):
    from sadlib import signals

    _expect_untouched(normal)
    expect_number(corr_before, "corr_before", "a correlation between -1 and 1")
    expect_number(corr_during, "corr_during", "a correlation between -1 and 1")
    broken, ev = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    seg = slice(ev["start"], ev["end"])
    before = normal.loc[seg, "pressure"].corr(normal.loc[seg, "current"])
    during = broken.loc[seg, "pressure"].corr(broken.loc[seg, "current"])
    if np.isclose(float(corr_before), during, atol=1e-3) and np.isclose(float(corr_during), before, atol=1e-3):
        raise Incorrect("corr_before and corr_during are swapped: `normal` gives the correlation before the break.")
    whole = broken["pressure"].corr(broken["current"])
    if np.isclose(float(corr_during), whole, atol=1e-3) or np.isclose(float(corr_before), normal["pressure"].corr(
            normal["current"]), atol=1e-3):
        raise Incorrect("that is the correlation over the whole week; compute both over the event's rows only "
                        "(`df.loc[event['start']:event['end']]`).")
    i, j = normal.index.get_loc(ev["start"]), normal.index.get_loc(ev["end"]) + 1
    for a, b in ((i, j - 1), (i + 1, j), (i - 1, j), (i, j + 1)):  # one row too few or too many at either end
        rows = normal.index[a:b]
        off_before = normal.loc[rows, "pressure"].corr(normal.loc[rows, "current"])
        off_during = broken.loc[rows, "pressure"].corr(broken.loc[rows, "current"])
        if (np.isclose(float(corr_before), off_before, rtol=1e-9, atol=0)
                and np.isclose(float(corr_during), off_during, rtol=1e-9, atol=0)
                and not np.isclose(off_during, during, rtol=1e-9, atol=0)):
            raise Incorrect(f"your rows are off by one ({b - a} rows): the event is the {j - i} rows from "
                            "`event['start']` to `event['end']`, both inclusive, which `df.loc[event['start']:"
                            "event['end']]` selects (`iloc` would need `end + 1`).")
    expect_close(float(corr_before), before, atol=1e-3,
                 what="the correlation before the break (on `normal`, same rows)")
    expect_close(float(corr_during), during, atol=1e-3, what="the correlation during the break")
    expect_true(abs(corr_during) < abs(corr_before), "the break should lower the correlation.")


q4 = Question(
    4,
    "Inject a `correlation_break` into `pressure` at row 6000 for 300 samples (`seed=3`). Over the event's "
    "rows, set `corr_before` to the correlation of pressure and current in `normal`, and `corr_during` "
    "to the same correlation in the broken data.",
    ("normal", "corr_before", "corr_during"),
    _check_corr,
    ["`event['start']` and `event['end']` are timestamps; `df.loc[start:end]` selects the event (both inclusive).",
     "`series_a.corr(series_b)` gives the Pearson correlation."],
    "broken, event = signals.inject(normal, 'correlation_break', start=6000, duration=300, sensor='pressure', seed=3)\n"
    "rows = slice(event['start'], event['end'])\n"
    "corr_before = normal.loc[rows, 'pressure'].corr(normal.loc[rows, 'current'])\n"
    "corr_during = broken.loc[rows, 'pressure'].corr(broken.loc[rows, 'current'])",
    setup=_normal,
)


# --------------------------------------------------------------------------- Q5: events from labels
def _runs(y: np.ndarray) -> list[tuple[int, int]]:
    """Runs of 1s, end exclusive, written out with a loop (the check's own computation)."""
    out, start = [], None
    for t, v in enumerate(y.tolist()):
        if v and start is None:
            start = t
        elif not v and start is not None:
            out.append((start, t))
            start = None
    if start is not None:
        out.append((start, len(y)))
    return out


def _label_cases() -> list[np.ndarray]:
    rng = np.random.default_rng(20260501)
    fixed = [[0, 1, 1, 0, 1], [], [0, 0, 0], [1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1], [1, 0, 1, 0, 1]]
    cases = [np.array(y, dtype=int) for y in fixed]
    for n, p in ((200, 0.05), (300, 0.2), (150, 0.5)):
        y = np.zeros(n, dtype=int)
        for start in np.flatnonzero(rng.random(n) < p):  # events of random length
            y[start:start + int(rng.integers(1, 12))] = 1
        y[0], y[-1] = 1, 1  # events that touch both ends
        cases.append(y)
    return cases


def _as_pairs(out, name: str) -> list[tuple[int, int]]:
    if isinstance(out, (dict, pd.DataFrame, str)) or out is None:
        raise Incorrect(f"`{name}` should return a list of (start, end) pairs of ints, but it returns a "
                        f"{type(out).__name__}: `list(zip(starts, ends))` makes the pairs.")
    try:
        items = list(out)  # a list, a zip, an array of shape (n_events, 2)
        arr = np.asarray(items, dtype=float) if items else np.zeros((0, 2))
    except (TypeError, ValueError):
        raise Incorrect(f"`{name}` should return a list of (start, end) pairs of ints.") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise Incorrect(f"`{name}` should return a list of (start, end) pairs, one per event; yours gives an array "
                        f"of shape {arr.shape}, not (number of events, 2).")
    if not np.all(arr == np.round(arr)):
        raise Incorrect(f"`{name}` should return (start, end) pairs of ints (row positions).")
    return [(int(a), int(b)) for a, b in arr]


def _check_events(label_events):
    from sadlib import _runs as runs_module
    from sadlib import metrics

    for y in _label_cases():
        want = _runs(y)
        with library_unavailable(label_events, [(metrics, "events"), (runs_module, "true_runs"),
                                                (runs_module, "run_bounds")]):
            out = call_answer(label_events, "label_events", y)
        got = _as_pairs(out, "label_events")
        if got == want:
            continue
        shown = y.tolist() if y.size <= 12 else f"a label vector of {y.size} samples"
        if got == [(s, e - 1) for s, e in want]:
            raise Incorrect(f"for {shown}: your ends are inclusive; make `end` exclusive (the first 0 after the "
                            f"event), so that `y[start:end]` is the event. Expected {want[:4]}...")
        if want and got == [(a, b - a) for a, b in want]:
            raise Incorrect(f"for {shown}: your second number is the event's length; return its end instead "
                            f"(exclusive: start + length), so that `y[start:end]` is the event.")
        if want and want[-1][1] == y.size and got == want[:-1]:
            raise Incorrect(f"for {shown}: you miss the event that runs to the last sample; close it at len(y).")
        if want and want[0][0] == 0 and got == want[1:]:
            raise Incorrect(f"for {shown}: you miss the event that starts at sample 0.")
        raise Incorrect(f"for {shown}: expected {len(want)} events {want[:4]}{'...' if len(want) > 4 else ''}, "
                        f"got {len(got)}: {got[:4]}{'...' if len(got) > 4 else ''}.")
    return ("your events match on eleven label vectors, empty ones and events at both ends included. "
            "`sadlib.metrics.events` does the same from notebook 02 on.")


q5 = FunctionQuestion(
    5,
    "Write `label_events(y)`: `y` is a 0/1 label per timestamp; return a list of `(start, end)` pairs of ints, "
    "one per event (a maximal run of 1s), in order, with `end` **exclusive** as in Python slices, so that "
    "`y[start:end]` is the event. `[0, 1, 1, 0, 1]` gives `[(1, 3), (4, 5)]`. The check uses label vectors you "
    "have not seen, with `metrics.events` unavailable.",
    ("label_events",),
    _check_events,
    ["An event starts where y goes from 0 to 1 and ends where it goes from 1 to 0.",
     "Pad with a 0 at both ends, `d = np.diff(np.r_[0, y, 0])`: starts are `np.flatnonzero(d == 1)`, ends "
     "`np.flatnonzero(d == -1)`.",
     "`return list(zip(starts.tolist(), ends.tolist()))`"],
    "import numpy as np\n\n\n"
    "def label_events(y):\n"
    "    y = np.asarray(y).astype(int)\n"
    "    d = np.diff(np.r_[0, y, 0])  # +1 where an event starts, -1 just after it ends\n"
    "    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)\n"
    "    return list(zip(starts.tolist(), ends.tolist()))",
    setup=lambda: {"np": np, "pd": pd},
    method="events from labels",
)
