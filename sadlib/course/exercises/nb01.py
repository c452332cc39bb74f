"""Exercises for notebook 01 (sensor signals)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sadlib.course.exercises.checker import (
    Incorrect,
    Question,
    expect_close,
    expect_equal,
    expect_shape,
    expect_true,
    expect_type,
)
from sadlib.course.exercises.nb00 import expect_int, expect_number

__all__ = ["q1", "q2", "q3", "q4"]


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


def _check_shift(normal, shifted):
    _expect_untouched(normal)
    if isinstance(shifted, tuple):
        raise Incorrect("`shifted` is a tuple: `inject` returns (new frame, event); keep the frame.")
    expect_type(shifted, pd.DataFrame, "shifted")
    expect_shape(shifted, normal.shape, "shifted")
    changed = (shifted != normal) & ~(shifted.isna() & normal.isna())
    expect_true(changed.to_numpy().any(),
                "`shifted` is identical to `normal`: did you keep the first value `inject` returns?")
    cols = list(changed.columns[changed.any()])
    expect_equal(cols, ["pressure"], "the columns that changed")
    rows = np.flatnonzero(changed["pressure"].to_numpy())
    expect_equal((int(rows.min()), int(rows.max())), (5000, 5059), "the first and last changed rows")
    step = (shifted["pressure"] - normal["pressure"]).iloc[5000:5060].mean()
    expect_close(step, 2 * normal["pressure"].std(), rtol=0.05,
                 what="the size of the shift (2 standard deviations of pressure)")


q1 = Question(
    1,
    "Inject a `level_shift` into `pressure` of `normal`, starting at row 5000 and lasting 60 samples, "
    "with `magnitude=2` (in standard deviations). Store the new frame in `shifted` (leave `normal` unchanged).",
    ("normal", "shifted"),
    _check_shift,
    ["`signals.inject(data, kind, start=..., duration=..., sensor=..., magnitude=...)`",
     "`inject` returns two things: the new frame and a description of the event."],
    "shifted, event = signals.inject(normal, 'level_shift', start=5000, duration=60, sensor='pressure', magnitude=2)",
    setup=_normal,
)


def _skab_test_share() -> float:
    from sadlib.datasets import load_skab

    labels = [df["anomaly"].to_numpy()[400:] for df in load_skab().values() if "anomaly" in df]
    return float(np.concatenate(labels).mean())


def _check_share(share):
    if isinstance(share, np.ndarray) and share.ndim == 0:
        share = share[()]
    expect_number(share, "share", "a fraction between 0 and 1")
    if share > 1:
        raise Incorrect("a share is a fraction between 0 and 1, not a count or a percentage.")
    expected = _skab_test_share()
    expect_close(float(share), expected, atol=0.002, what="the anomaly share of SKAB's test rows")


q2 = Question(
    2,
    "Under SKAB's protocol the first 400 rows of each labelled file are for training. Set `share` to the "
    "fraction of anomalous rows among all the *remaining* rows of the labelled files, pooled.",
    ("share",),
    _check_share,
    ["`datasets.load_skab()` returns a dict; the anomaly-free file has no `anomaly` column.",
     "Concatenate `df['anomaly'].to_numpy()[400:]` over the labelled files and take the mean."],
    "from sadlib import datasets\nimport numpy as np\n"
    "labels = [df['anomaly'].to_numpy()[400:] for df in datasets.load_skab().values() if 'anomaly' in df]\n"
    "share = np.concatenate(labels).mean()",
    setup=lambda: {},
)


def _check_nab(period_minutes, n_windows):
    from sadlib.datasets import load_nab

    df = load_nab("realKnownCause/machine_temperature_system_failure")
    expect_number(period_minutes, "period_minutes", "a number of minutes")
    expect_int(n_windows, "n_windows")
    expect_close(float(period_minutes), df.index.to_series().diff().median().total_seconds() / 60, rtol=0.01,
                 what="the sampling period in minutes")
    expect_equal(n_windows, len(df.attrs["windows"]), "the number of labelled windows")


q3 = Question(
    3,
    "Load NAB's `realKnownCause/machine_temperature_system_failure`. Set `period_minutes` to its median "
    "sampling period in minutes and `n_windows` to the number of labelled anomaly windows.",
    ("period_minutes", "n_windows"),
    _check_nab,
    ["The windows are in `df.attrs['windows']`.", "`df.index.to_series().diff().median()` is a Timedelta."],
    "from sadlib import datasets\n"
    "df = datasets.load_nab('realKnownCause/machine_temperature_system_failure')\n"
    "period_minutes = df.index.to_series().diff().median().total_seconds() / 60\n"
    "n_windows = len(df.attrs['windows'])",
    setup=lambda: {},
)


def _check_corr(normal, corr_before, corr_during):
    from sadlib import signals

    _expect_untouched(normal)
    expect_number(corr_before, "corr_before", "a correlation between -1 and 1")
    expect_number(corr_during, "corr_during", "a correlation between -1 and 1")
    broken, ev = signals.inject(normal, "correlation_break", start=6000, duration=300, sensor="pressure", seed=3)
    seg = slice(ev["start"], ev["end"])
    expect_close(float(corr_before), normal.loc[seg, "pressure"].corr(normal.loc[seg, "current"]), atol=1e-3,
                 what="the correlation before the break (on `normal`, same rows)")
    expect_close(float(corr_during), broken.loc[seg, "pressure"].corr(broken.loc[seg, "current"]), atol=1e-3,
                 what="the correlation during the break")
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
