"""Exercises for notebook 03 (statistical and classical baselines).

Q1, Q3 and Q4 ask the learner to write a method of the lesson (the rolling z-score, the EWMA chart, the robust
z-score with its validation threshold); each is checked on series generated inside the check, with the library's
own version unavailable, and the causal ones by cutting the future. Q4 is end to end: fit on the training week,
threshold on the validation week, alarms on the test week, compared with the same alarms shifted at random.
"""

from __future__ import annotations

import copy
import functools
from numbers import Real

import numpy as np
import pandas as pd

from sadlib import detectors as detectors_module
from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    call_answer,
    expect_close,
    expect_true,
    library_unavailable,
    percentile_bounds,
    setup_namespace,
)
from sadlib.detectors import ewma as ewma_module
from sadlib.detectors import robust_z as robust_module
from sadlib.detectors import zscore as zscore_module

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

#: the setup cell of the exercise notebook, also used by the tests (the lesson's three-week split)
SETUP = """\
import numpy as np
import pandas as pd

from sadlib import detectors, metrics, signals
from sadlib.course.modes import choose
from sadlib.windows import chronological_split

n_days = choose(full=21, fast=6)  # week 1 trains, week 2 calibrates, week 3 tests (as in the lesson)
data, events = signals.generate(n_days=n_days, anomalies=16, seed=3, clean_fraction=2 / 3)
sensors = list(signals.SENSORS)
data[sensors] = data[sensors].ffill()  # a gap holds its last value: causal, as in the lesson
train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
test_events = events[events["start"] >= test.index[0]].reset_index(drop=True)

zscore = detectors.make("zscore", window=60).fit(train[sensors])  # for Q2
zscore.calibrate(zscore.score(val[sensors]), threshold=("percentile", {"q": 99.9}))
zscore_alarms = zscore.predict(test[sensors])

det = detectors.make("ocsvm", window=10).fit(train[sensors])  # for Q5
"""

#: answer cells that differ from ``name = ____`` (the notebook's cells, also used by the tests)
ANSWER_CELLS = {
    1: "def rolling_z(x, window):\n"
       "    # |x_t - mean| / std of the `window` samples before t (x_t itself not included), std with ddof=1;\n"
       "    # NaN while t < window\n"
       "    return ____  # your code here",
    2: "def missed_types(index, events, alarms):\n"
       "    # the set of types none of whose events has an alarm between its start and its end (both included)\n"
       "    return ____  # your code here",
    3: "def ewma_chart(x, lam, mean, std):\n"
       "    # u = (x - mean) / std; z_t = lam * u_t + (1 - lam) * z_(t-1) from z = 0;\n"
       "    # return |z_t| / sqrt(lam / (2 - lam))\n"
       "    return ____  # your code here",
    4: "def robust_alarms(train_X, val_X, test_X):\n"
       "    # per sensor: median and 1.4826 * MAD of train_X; score = largest |x - median| / scale over the sensors;\n"
       "    # threshold = 99.9th percentile of the scores of val_X; return the boolean alarms of test_X\n"
       "    return ____  # your code here",
    5: "def recalibrate(det, val_X, test_X):\n"
       "    # without refitting, set det's threshold from its scores on val_X; return the share of test_X it flags\n"
       "    return ____  # your code here",
    6: "from sklearn.ensemble import IsolationForest\n\n"
       "flagged_share = ____\n"
       "val_share = ____",
}

#: the written answer to Q6's question, shown in the notebook and after a correct check
CONTAMINATION_ANSWER = (
    "`contamination` does not change what the forest learns: after fitting, it moves one offset so that exactly "
    "that share of the *training* data is called an outlier. It is a quantile of the training scores, chosen by "
    "a number you have to know in advance. It is neither the share of false alarms you will get (on the normal "
    "validation week the share differs) nor the share of anomalies the model will find, and changing it means "
    "fitting again. Calibrate the threshold on held-out normal data instead; `calibrate` changes it without "
    "refitting."
)

#: seeds of the series the checks generate (the notebook's data uses seed 3)
FRESH_SEED = 103


def _context() -> dict:
    return setup_namespace(SETUP)


def _as_series(out, n: int, name: str) -> np.ndarray:
    """The learner's output as a float array of length n (one value per sample)."""
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError) as exc:
        raise Incorrect(f"`{name}` should return one number per sample (an array or a list), but turning its "
                        f"output into numbers failed: {exc}") from None
    if arr.shape != (n,):
        raise Incorrect(f"`{name}` should return one value per sample, shape ({n},), but its output has shape "
                        f"{arr.shape}.")
    return arr


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal to rounding: the cut probe compares the answer with itself, so no slack is needed."""
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


#: an answer computed in float32 (or summed in another order) differs from the reference by about 1e-6 relative;
#: the mistakes the checks name (ddof=0 on 60 samples, a window one sample off, ...) differ by 0.8 % or more
FLOAT32_RTOL, FLOAT32_ATOL = 1e-5, 1e-4


def _agrees(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per sample: equal within float32 rounding (NaN where both are NaN)."""
    return np.isclose(a, b, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL, equal_nan=True)


def _cut_probe(fn, name: str, x: np.ndarray, full: np.ndarray, *args) -> None:
    """Look-ahead at the sample level: the answer on x[:t] must equal the answer on x at every sample before t."""
    n = len(x)
    for t in sorted({n // 5, n // 3, n // 2, (2 * n) // 3, n - 7}):
        part = _as_series(call_answer(fn, name, x[:t].copy(), *args), t, name)
        if not _same(part, full[:t]):
            first = int(np.argmax(~np.isclose(part, full[:t], rtol=1e-9, atol=1e-12, equal_nan=True)))
            raise Incorrect(f"look-ahead (leakage): when the series is cut after sample {t}, your value at sample "
                            f"{first} changes ({part[first]:.6g} instead of {full[first]:.6g}). At time t a live "
                            "system has only the samples up to t: use no later sample, and no statistic (mean, std, "
                            "centred window) of the whole series.")


# --------------------------------------------------------------------------- Q1: the rolling z-score, past only
Q1_WINDOWS = (5, 20, 60)


def _q1_series(k: int, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(FRESH_SEED + k)
    x = 50 + np.cumsum(rng.normal(0, 0.3, n)) + rng.normal(0, 1, n) + 3 * np.sin(np.arange(n) / 25)
    x[rng.choice(n, 4, replace=False)] += rng.choice([-8, 8], 4)
    return x


def _rolling_z_variant(x: np.ndarray, window: int, kind: str = "right") -> np.ndarray:
    """The rolling z-score and its usual mistakes, written out sample by sample."""
    n, out = len(x), np.full(len(x), np.nan)
    for t in range(n):
        if kind == "includes t":
            lo, hi = t - window + 1, t + 1
        elif kind == "centred":
            lo, hi = t - window // 2, t - window // 2 + window
        elif kind == "one short":
            lo, hi = t - window + 1, t
        elif kind == "skips t-1":
            lo, hi = t - window - 1, t - 1
        else:
            lo, hi = t - window, t
        if lo < 0 or hi > n:
            continue
        past = x[lo:hi]
        sd = past.std(ddof=0 if kind == "ddof=0" else 1)
        z = (x[t] - past.mean()) / sd
        out[t] = z if kind == "signed" else abs(z)
    return out


_Q1_MISTAKES = {
    "includes t": "your window includes x_t itself: the spike it should find then inflates its own mean and std. "
                  "Use the `window` samples *before* t, `x[t - window:t]`.",
    "ddof=0": "you divide by the population standard deviation (ddof=0); use the sample standard deviation "
              "(ddof=1), which is pandas' `rolling(...).std()` and what `sadlib` uses.",
    "signed": "your z-score keeps its sign; the score is its absolute value |x_t - mean| / std, so a drop alarms "
              "as well as a rise.",
    "one short": "your window holds `window - 1` samples (off by one): use the `window` samples before t, "
                 "`x[t - window:t]`, which ends at x_(t-1).",
    "skips t-1": "your window stops one sample early (off by one): the `window` samples before t are "
                 "`x[t - window:t]`, x_(t-1) included.",
}


def _check_rolling_z(rolling_z):
    expect_true(callable(rolling_z), "`rolling_z` should be a function of (x, window).")
    for k, window in enumerate(Q1_WINDOWS):
        x = _q1_series(k)
        want = _rolling_z_variant(x, window)
        with library_unavailable(rolling_z, [(detectors_module, "make"), (zscore_module, "RollingZScore")]):
            got = _as_series(call_answer(rolling_z, "rolling_z", x.copy(), window), len(x), "rolling_z")
            _cut_probe(rolling_z, "rolling_z", x, got, window)
        head = got[:window]
        if not np.isnan(head).all():
            raise Incorrect(f"with window={window}, the first {window} values should be NaN (the window is not full "
                            f"yet), but {int(np.sum(~np.isnan(head)))} of them are numbers.")
        if _agrees(got, want).all():
            continue
        for kind, message in _Q1_MISTAKES.items():
            if _agrees(got[window:], _rolling_z_variant(x, window, kind)[window:]).all():
                raise Incorrect(f"with window={window}: {message}")
        bad = int(np.argmax(~_agrees(got, want)))
        raise Incorrect(f"with window={window}, sample {bad} is {got[bad]:.6g} but should be {want[bad]:.6g}: "
                        f"|x[{bad}] - mean| / std with the mean and std (ddof=1) of x[{bad - window}:{bad}].")
    return (f"it agrees with a sample-by-sample reference on {len(Q1_WINDOWS)} series it had not seen (windows "
            f"{', '.join(map(str, Q1_WINDOWS))}), and cutting the future changes none of its values. `sadlib`'s "
            "`zscore` detector does the same on every sensor and takes the largest.")


q1 = FunctionQuestion(
    1,
    "Write `rolling_z(x, window)` for a 1-D array `x`: at each t >= window, |x_t - m| / s, where m and s are the "
    "mean and the sample standard deviation (ddof=1) of the `window` samples *before* t (x_t not included); NaN "
    "for t < window. Write it yourself (NumPy or pandas); the check runs it on new series with `sadlib`'s "
    "detectors unavailable, and cuts the series to see that no value reads the future.",
    ("rolling_z",),
    _check_rolling_z,
    ["A loop over t is fine: `past = x[t - window:t]`, then `abs(x[t] - past.mean()) / past.std(ddof=1)`.",
     "Or with pandas: `s = pd.Series(x).rolling(window)`; its mean and std include t, so `.shift(1)` them."],
    "import numpy as np\n"
    "import pandas as pd\n\n"
    "def rolling_z(x, window):\n"
    "    s = pd.Series(np.asarray(x, dtype=float))\n"
    "    roll = s.rolling(window)\n"
    "    mean, std = roll.mean().shift(1), roll.std().shift(1)  # the window that ends just before t\n"
    "    return ((s - mean).abs() / std).to_numpy()",
    setup=lambda: {},
    probe=lambda values: values["rolling_z"](_q1_series(0, 80), 5),
    method="rolling z-score",
)


# --------------------------------------------------------------------------- Q2: which types were missed
def _missed_types(index, events, alarms, *, start_inclusive: bool = True, end_inclusive: bool = True,
                  any_event: bool = False) -> set[str]:
    """Types none of whose events has an alarm in [start, end] (the variants: one end open, or 'some event missed')."""
    alarms = np.asarray(alarms, dtype=bool)
    hit: dict[str, list[bool]] = {}
    for _, ev in events.iterrows():
        after = index >= ev["start"] if start_inclusive else index > ev["start"]
        before = index <= ev["end"] if end_inclusive else index < ev["end"]
        hit.setdefault(ev["type"], []).append(bool(alarms[np.asarray(after & before)].any()))
    if any_event:
        return {t for t, h in hit.items() if not all(h)}
    return {t for t, h in hit.items() if not any(h)}


def _q2_cases():
    """Small layouts in which an alarm sits exactly on an event's first or last sample, or one sample outside."""
    index = pd.date_range("2024-03-04 06:00", periods=140, freq="min")
    spans = [("spike", 10, 12), ("stuck", 30, 50), ("drift", 60, 80), ("drift", 90, 100),
             ("level_shift", 104, 110), ("level_shift", 115, 125), ("dropout", 128, 135)]
    events = pd.DataFrame({"type": [t for t, _, _ in spans], "start": [index[a] for _, a, _ in spans],
                           "end": [index[b] for _, _, b in spans]})
    alarms = np.zeros(len(index), dtype=bool)
    alarms[[12, 30, 81, 89, 107, 131]] = True  # spike: last sample; stuck: first; drifts: one outside each
    yield index, events, alarms
    alarms2 = alarms.copy()
    alarms2[[12, 30]] = False
    alarms2[[11, 40, 60]] = True
    yield index, events, alarms2
    rng = np.random.default_rng(FRESH_SEED)
    for _ in range(3):
        yield index, events, rng.random(len(index)) < 0.03


def _as_type_set(value) -> set[str]:
    if isinstance(value, (str, bytes)):
        raise Incorrect("`missed_types` should return a set of type names such as {'stuck', 'dropout'}, not one "
                        "string.")
    try:
        return {str(m) for m in value}
    except TypeError:
        raise Incorrect(f"`missed_types` should return a set of type names, e.g. {{'stuck'}}, but it returned a "
                        f"{type(value).__name__}.") from None


def _check_missed(missed_types, test, test_events, zscore_alarms):
    expect_true(callable(missed_types), "`missed_types` should be a function of (index, events, alarms).")
    fresh = _context()  # never trust the namespace's intermediates
    cases = [(fresh["test"].index, fresh["test_events"], fresh["zscore_alarms"]), *_q2_cases()]
    notebook_answer = _missed_types(*cases[0])
    for index, events, alarms in cases:
        got = _as_type_set(call_answer(missed_types, "missed_types", index, events.copy(), alarms.copy()))
        want = _missed_types(index, events, alarms)
        if got == want:
            continue
        unknown = got - set(events["type"])
        if unknown or (index is not cases[0][0] and got == notebook_answer):
            raise Incorrect(f"{sorted(unknown)} are not types of the events you were given: build the set from "
                            "`events` and `alarms`; a set written for the notebook's test week fails on other layouts.")
        if got == _missed_types(index, events, alarms, end_inclusive=False):
            raise Incorrect("an alarm on an event's *last* sample counts as a detection: the event runs from "
                            "`start` to `end`, both included (`index <= end`, not `<`).")
        if got == _missed_types(index, events, alarms, start_inclusive=False):
            raise Incorrect("an alarm on an event's *first* sample counts as a detection: the event runs from "
                            "`start` to `end`, both included (`index >= start`, not `>`).")
        if got == _missed_types(index, events, alarms, any_event=True):
            raise Incorrect("you listed every type with at least one missed event; a type counts as missed only "
                            "when *none* of its events has an alarm.")
        raise Incorrect(f"on a layout of {len(events)} events you returned {sorted(got)}, but the types none of whose "
                        f"events has an alarm between start and end (both included) are {sorted(want)}.")
    return (f"on the notebook's test week the rolling z-score misses every event of "
            f"{sorted(_missed_types(*cases[0])) or 'no type'}; your function also counts alarms on an event's first "
            "and last samples.")


q2 = FunctionQuestion(
    2,
    "Write `missed_types(index, events, alarms)`: `index` is the time index of the scored part, `events` a table "
    "with columns `type`, `start` and `end`, `alarms` one boolean per sample. Return the set of types none of "
    "whose events has an alarm between its start and its end, both included. Try it with "
    "`missed_types(test.index, test_events, zscore_alarms)`; the check also runs it on layouts with alarms exactly "
    "on an event's first or last sample.",
    ("missed_types", "test", "test_events", "zscore_alarms"),
    _check_missed,
    ["Loop over `events.iterrows()`; an event covers `(index >= ev['start']) & (index <= ev['end'])`.",
     "Start from all types and remove each type that has an event with `alarms[inside].any()`."],
    "import numpy as np\n\n"
    "def missed_types(index, events, alarms):\n"
    "    missed = set(events['type'])\n"
    "    for _, ev in events.iterrows():\n"
    "        inside = (index >= ev['start']) & (index <= ev['end'])\n"
    "        if np.asarray(alarms)[inside].any():\n"
    "            missed.discard(ev['type'])\n"
    "    return missed",
    setup=_context,
    probe=lambda values: values["missed_types"](*next(_q2_cases())),
)


# --------------------------------------------------------------------------- Q3: the EWMA chart
Q3_LAMBDAS = (0.05, 0.2, 1.0)


def _q3_inputs(k: int, n: int = 300) -> tuple[np.ndarray, float, float]:
    """A series with a small persistent shift after 60 %, and the mean and std of a separate training series."""
    rng = np.random.default_rng(FRESH_SEED + 10 + k)
    train = 20 + 2 * rng.normal(size=500)
    x = 20 + 2 * rng.normal(size=n)
    x[int(0.6 * n):] += 1.5
    return x, float(train.mean()), float(train.std())


def _ewma_variant(x, lam, mean, std, kind: str = "right") -> np.ndarray:
    u = (np.asarray(x, float) - mean) / std if kind != "raw" else np.asarray(x, float)
    if kind == "own mean":
        u = (np.asarray(x, float) - np.mean(x)) / np.std(x)
    z, out = (u[0] if kind == "starts at u0" else 0.0), np.empty(len(u))
    for i, v in enumerate(u):
        if kind == "starts at u0" and i == 0:
            out[0] = z
            continue
        if kind == "lagged":
            out[i] = z  # the chart before the update: z_(t-1)
        z = (1 - lam) * v + lam * z if kind == "swapped" else lam * v + (1 - lam) * z
        if kind != "lagged":
            out[i] = z
    if kind == "adjust=True":  # pandas' ewm default: weights renormalised over the samples seen so far
        out = out / (1 - (1 - lam) ** np.arange(1, len(u) + 1))
    if kind == "signed":
        return out / np.sqrt(lam / (2 - lam))
    return np.abs(out) if kind == "no factor" else np.abs(out) / np.sqrt(lam / (2 - lam))


_Q3_MISTAKES = {
    "starts at u0": "your chart starts at the first standardised value; start from z = 0, so the first value is "
                    "lam * u_0.",
    "no factor": "divide |z_t| by sqrt(lam / (2 - lam)), the in-control standard deviation of z, so the score is "
                 "in units of that standard deviation.",
    "signed": "keep the absolute value: the score is |z_t| / sqrt(lam / (2 - lam)), so a drop alarms as well.",
    "swapped": "the weights are swapped: the newest standardised value gets lam, the previous z gets 1 - lam.",
    "raw": "standardise first: u_t = (x_t - mean) / std with the training mean and std you are given.",
    "adjust=True": "pandas' `ewm(alpha=lam)` (adjust=True, its default) divides by the sum of the weights seen so "
                   "far, so the first values are not damped from z = 0; write the recursion yourself (or use "
                   "`adjust=False` on a series that starts with 0).",
    "lagged": "your value at t is z_(t-1), the chart before the update (off by one): update z with u_t first, "
              "then store it.",
}


def _check_ewma(ewma_chart):
    expect_true(callable(ewma_chart), "`ewma_chart` should be a function of (x, lam, mean, std).")
    for k, lam in enumerate(Q3_LAMBDAS):
        x, mean, std = _q3_inputs(k)
        want = _ewma_variant(x, lam, mean, std)
        with library_unavailable(ewma_chart, [(detectors_module, "make"), (ewma_module, "EWMAChart")]):
            got = _as_series(call_answer(ewma_chart, "ewma_chart", x.copy(), lam, mean, std), len(x), "ewma_chart")
            _cut_probe(ewma_chart, "ewma_chart", x, got, lam, mean, std)
        if _agrees(got, want).all():
            continue
        for kind, message in _Q3_MISTAKES.items():
            if _agrees(got, _ewma_variant(x, lam, mean, std, kind)).all():
                raise Incorrect(f"with lam={lam}: {message}")
        raise Incorrect(f"with lam={lam} the values differ; standardise with the given mean and std, start from "
                        "z = 0, use z_t = lam * u_t + (1 - lam) * z_(t-1) and return |z_t| / sqrt(lam / (2 - lam)).")
    return ("the chart `sadlib`'s `ewma` detector runs on every standardised sensor (with scipy.signal.lfilter), "
            f"checked on {len(Q3_LAMBDAS)} new series, lam = 1 (a Shewhart chart) included, and causal.")


q3 = FunctionQuestion(
    3,
    "Write `ewma_chart(x, lam, mean, std)` for a 1-D array `x` and the training `mean` and `std`: standardise, "
    "u_t = (x_t - mean) / std; smooth, z_t = lam * u_t + (1 - lam) * z_(t-1) with z = 0 before the first sample; "
    "return the score |z_t| / sqrt(lam / (2 - lam)), one per sample. Write it yourself; `sadlib`'s detectors are "
    "unavailable while the check runs it on new series.",
    ("ewma_chart",),
    _check_ewma,
    ["A plain loop is fine: keep the previous z in a variable and store each new one.",
     "`u = (np.asarray(x) - mean) / std`; after the loop divide `np.abs(out)` by `np.sqrt(lam / (2 - lam))`."],
    "import numpy as np\n\n"
    "def ewma_chart(x, lam, mean, std):\n"
    "    u = (np.asarray(x, dtype=float) - mean) / std\n"
    "    z, out = 0.0, np.empty(len(u))\n"
    "    for t, value in enumerate(u):\n"
    "        z = lam * value + (1 - lam) * z\n"
    "        out[t] = z\n"
    "    return np.abs(out) / np.sqrt(lam / (2 - lam))",
    setup=lambda: {},
    probe=lambda values: values["ewma_chart"](*_q3_inputs(0, 40)[:1], Q3_LAMBDAS[0], *_q3_inputs(0, 40)[1:]),
    method="EWMA chart",
)


# --------------------------------------------------------------------------- Q4: robust z-score, end to end
@functools.lru_cache(maxsize=2)
def _twin(seed: int = FRESH_SEED):
    """A pump twin the learner has not seen (same recipe, another seed): train / validation / test sensors."""
    from sadlib import signals
    from sadlib.course.modes import choose
    from sadlib.windows import chronological_split

    data, _ = signals.generate(n_days=choose(full=9, fast=6), anomalies=16, seed=seed, clean_fraction=2 / 3)
    sensors = list(signals.SENSORS)
    data[sensors] = data[sensors].ffill()
    train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
    return train[sensors], val[sensors], test[sensors], test["anomaly"].to_numpy().astype(bool)


def _robust_scores(fit_X: np.ndarray, X: np.ndarray, *, mean_std: bool = False) -> np.ndarray:
    if mean_std:
        centre, scale = fit_X.mean(axis=0), fit_X.std(axis=0)
    else:
        centre = np.median(fit_X, axis=0)
        scale = 1.4826 * np.median(np.abs(fit_X - centre), axis=0)
    return np.max(np.abs(X - centre) / scale, axis=1)


def _highest_percentile(values: np.ndarray, q: float) -> float:
    """The largest value any percentile definition gives for ``q``: the order statistic at 0-based rank ceil(q n / 100).

    Every definition (NumPy's methods, the Hyndman & Fan types, ``np.sort(v)[int(q / 100 * n)]``) places the
    q-th percentile at or below 0-based position q n / 100, so the maximum of a few thousand values is not one.
    ``percentile_bounds`` is a rank wider; on the twin's 2880 validation samples (fast mode) it reaches the maximum.
    """
    v = np.sort(np.asarray(values, dtype=float).ravel())
    v = v[~np.isnan(v)]
    return float(v[min(int(np.ceil(q / 100 * v.size)), v.size - 1)])


def _robust_variant(train_X, val_X, test_X, kind: str = "right") -> np.ndarray:
    tr, va, te = (np.asarray(a, dtype=float) for a in (train_X, val_X, test_X))
    fit = {"train and validation": np.vstack([tr, va]), "all data": np.vstack([tr, va, te]),
           "fitted on validation": va}.get(kind, tr)
    mean_std = kind == "mean and std"
    test_scores = _robust_scores(fit, te, mean_std=mean_std)
    calib = {"threshold from training": tr, "threshold from test": te}.get(kind, va)
    threshold = np.percentile(_robust_scores(fit, calib, mean_std=mean_std), 99 if kind == "99th percentile" else 99.9)
    return test_scores > threshold


_Q4_MISTAKES = {
    "mean and std": "you standardised with the mean and standard deviation; the robust z-score uses the median "
                    "and 1.4826 * MAD, which a few outliers in the training week hardly move.",
    "threshold from training": "the threshold is the 99.9th percentile of the *validation* scores, not of the "
                               "training scores: the model has seen the training week.",
    "train and validation": "the median and MAD come from the training week only; you fitted them on the "
                            "training and validation weeks, so the validation week no longer calibrates an unseen "
                            "part.",
    "fitted on validation": "you fitted the median and MAD on `val_X`; fit them on `train_X` and keep `val_X` for the "
                            "threshold, so that the threshold comes from data the model has not seen.",
    "99th percentile": "your threshold is the 99th percentile of the validation scores; the task asks for the "
                       "99.9th, which flags about ten times fewer normal samples.",
}


def _alarm_array(out, n: int) -> np.ndarray:
    arr = np.asarray(out)
    if arr.shape != (n,):
        raise Incorrect(f"`robust_alarms` should return one boolean per test sample, shape ({n},), but its output "
                        f"has shape {arr.shape}.")
    if arr.dtype != bool:
        if not np.isin(arr, [0, 1]).all():
            raise Incorrect("`robust_alarms` should return alarms (True/False), not scores: compare the test "
                            "scores with the threshold.")
        arr = arr.astype(bool)
    return arr


def _check_robust(robust_alarms):
    from sadlib import metrics

    expect_true(callable(robust_alarms), "`robust_alarms` should be a function of (train_X, val_X, test_X).")
    train_X, val_X, test_X, y = _twin()
    n, half = len(test_X), len(test_X) // 2
    # only the second half of the test part changes: a level shift of 8 standard deviations, or a flat line
    raised, flat = test_X.copy(), test_X.copy()
    raised.iloc[half:] += 8 * train_X.std().to_numpy()
    flat.iloc[half:] = train_X.median().to_numpy()
    targets = [(detectors_module, "make"), (robust_module, "RobustZScore")]
    with library_unavailable(robust_alarms, targets):
        got = _alarm_array(call_answer(robust_alarms, "robust_alarms", train_X.copy(), val_X.copy(), test_X.copy()), n)
        for what, changed in (("a level shift of 8 standard deviations", raised), ("a flat line", flat)):
            got_changed = _alarm_array(call_answer(robust_alarms, "robust_alarms", train_X.copy(), val_X.copy(),
                                                   changed.copy()), n)
            if not np.array_equal(got[:half], got_changed[:half]):
                moved = int(np.sum(got[:half] != got_changed[:half]))
                raise Incorrect(f"leakage: when only the second half of the test part changed ({what}), {moved} of "
                                "your alarms in its *first* half changed. The median, the MAD and the threshold must "
                                "come from the training and validation weeks only, never from test data.")
    tr, va, te = (np.asarray(a, dtype=float) for a in (train_X, val_X, test_X))
    test_scores, val_scores = _robust_scores(tr, te), _robust_scores(tr, va)
    lo, hi = percentile_bounds(val_scores, 99.9)
    hi = min(hi, _highest_percentile(val_scores, 99.9))
    fewest, most = test_scores > hi, test_scores >= lo  # any percentile definition lies between the two
    if np.any(fewest & ~got) or np.any(got & ~most):
        for kind, message in _Q4_MISTAKES.items():
            if np.array_equal(got, _robust_variant(train_X, val_X, test_X, kind)):
                raise Incorrect(message)
        if np.array_equal(got, test_scores > val_scores.max()):
            raise Incorrect("your threshold is the largest validation score, not its 99.9th percentile: on "
                            f"{len(val_scores)} validation samples the percentile lies a few samples below the "
                            "maximum. Take the percentile of the validation scores (`np.percentile(..., 99.9)`).")
        reference = test_scores > np.percentile(val_scores, 99.9)
        raise Incorrect(f"on a pump twin you have not seen, your function flags {got.mean():.2%} of the test samples; "
                        f"the robust z-score with a validation threshold flags {reference.mean():.2%} "
                        f"({int(np.sum(got != reference))} samples differ). Median and 1.4826 * MAD per sensor from "
                        "train_X, the largest |x - median| / scale over the sensors, the 99.9th percentile of the "
                        "validation scores.")
    mine = metrics.event_metrics(y, got)
    shifted = metrics.shifted_alarms_baseline(y, got, metric="event_recall", n_shifts=20, seed=0)
    return (f"on a pump twin you had not seen (seed {FRESH_SEED}) your alarms flag {got.mean():.2%} of the test week "
            f"and catch {mine['event_recall']:.0%} of its events; the same alarms shifted at random "
            f"(`metrics.shifted_alarms_baseline`, 20 shifts) catch {shifted['mean']:.0%} ± {shifted['std']:.0%}. "
            "That difference, not the event recall alone, is what the detector adds.")


q4 = FunctionQuestion(
    4,
    "End to end with the robust z-score. Write `robust_alarms(train_X, val_X, test_X)` (three frames of sensors): "
    "fit the median and 1.4826 * MAD of each sensor on `train_X`; score a sample by the largest |x - median| / scale "
    "over its sensors; set the threshold to the 99.9th percentile of the scores of `val_X`; return the boolean "
    "alarms of `test_X`. Write it with NumPy or pandas (`sadlib`'s detectors are unavailable during the check). "
    "The check runs it on a pump twin you have not seen, changes the future of the test part to look for leakage, "
    "and compares your alarms with the same alarms shifted at random.",
    ("robust_alarms",),
    _check_robust,
    ["`med = np.median(train_X, axis=0)`; `scale = 1.4826 * np.median(np.abs(train_X - med), axis=0)`.",
     "`score = lambda X: np.max(np.abs(np.asarray(X) - med) / scale, axis=1)`; the threshold is "
     "`np.percentile(score(val_X), 99.9)`; return `score(test_X) > threshold`."],
    "import numpy as np\n\n"
    "def robust_alarms(train_X, val_X, test_X):\n"
    "    train_X = np.asarray(train_X, dtype=float)\n"
    "    med = np.median(train_X, axis=0)\n"
    "    scale = 1.4826 * np.median(np.abs(train_X - med), axis=0)\n\n"
    "    def score(X):\n"
    "        return np.max(np.abs(np.asarray(X, dtype=float) - med) / scale, axis=1)\n\n"
    "    threshold = np.percentile(score(val_X), 99.9)  # calibrated on the normal validation week\n"
    "    return score(test_X) > threshold",
    setup=lambda: {},
    probe=lambda values: values["robust_alarms"](*(a.iloc[:50] for a in _twin()[:3])),
    method="robust z-score",
)


# --------------------------------------------------------------------------- Q5: recalibrate without refitting
def _share(value, what: str) -> float:
    """A share given as a Python or NumPy number (or a 0-d array), checked to lie in [0, 1]."""
    arr = np.asarray(value) if not isinstance(value, Real) else None
    if arr is not None:
        if arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number):
            raise Incorrect(f"{what} should be one number (a share between 0 and 1), but it is a "
                            f"{type(value).__name__}{f' of shape {arr.shape}' if arr.ndim else ''}.")
        value = arr.item()
    if isinstance(value, bool):
        raise Incorrect(f"{what} should be a share between 0 and 1, not a bool.")
    value = float(value)
    if not 0 <= value <= 1:
        raise Incorrect(f"{what} is {value:.4g}, but a share is a fraction between 0 and 1 (0.05, not 5 %).")
    return value


def _planted(test_X):
    """The test part with a large anomaly on every 20th row: only the test part changes."""
    changed = test_X.copy()
    changed.iloc[::20] += 50 * test_X.std().to_numpy()
    return changed


def _probe_recalibrate(values):
    det, X = copy.deepcopy(values["det"]), values["val"][values["sensors"]]
    return values["recalibrate"](det, X.copy(), X.copy())


def _no_refit(*args, **kwargs):
    raise Incorrect("your function calls `det.fit`, so the detector is fitted again; the task says without "
                    "refitting. Keep the model and only re-choose the threshold with "
                    "`det.calibrate(det.score(val_X), ...)`.")


def _check_recalibrate(recalibrate, det, val, test, sensors):
    expect_true(callable(recalibrate), "`recalibrate` should be a function of (det, val_X, test_X).")
    val_X, test_X = val[sensors], test[sensors]
    reference = det.score(val_X)  # the untouched detector's validation scores (NaN: the first window - 1, no score)
    known = reference[~np.isnan(reference)]  # what det.calibrate fits the threshold on
    want = float(np.percentile(known, 99.5))

    first, second = copy.deepcopy(det), copy.deepcopy(det)
    for copied in (first, second):  # "without refitting" is checked, not trusted: fit is unavailable on the copies
        copied.fit = _no_refit
    share = _share(recalibrate(first, val_X.copy(), test_X.copy()), "the value your function returns")
    changed = _planted(test_X)
    share_changed = _share(recalibrate(second, val_X.copy(), changed), "the value your function returns")
    if not np.isfinite(first.threshold_):
        raise Incorrect(f"det.threshold_ is {first.threshold_}: the first window - 1 validation scores are NaN (no "
                        "score) and your percentile took them in. Leave them out (`np.nanpercentile`, or "
                        "`det.calibrate`, which skips them).")
    if not np.isclose(second.threshold_, first.threshold_, rtol=1e-9, atol=0):
        raise Incorrect(f"leakage: when only the test part changed (a large anomaly planted on every 20th row), "
                        f"your threshold moved from {first.threshold_:.4g} to {second.threshold_:.4g}. "
                        "The threshold must come from the validation scores alone.")
    if not np.allclose(first.score(val_X), reference, equal_nan=True):  # NaN: rows without a score
        raise Incorrect("after your function the detector gives other scores on the validation part: it was fitted "
                        "again. Keep the model and only re-choose the threshold with `det.calibrate(...)`.")
    lo, hi = percentile_bounds(known, 99.5)  # any percentile definition lies between the two
    if not lo - 1e-9 <= first.threshold_ <= hi + 1e-9:
        expect_close(first.threshold_, want, rtol=1e-6,
                     what="det.threshold_ (the 99.5th percentile of the detector's scores on val_X)")
    test_scores = first.score(test_X)
    scored = test_scores[~np.isnan(test_scores)]
    if (len(scored) < len(test_scores) and np.isclose(share, float(np.mean(scored > first.threshold_)), atol=1e-6)
            and not np.isclose(share, float(np.mean(test_scores > first.threshold_)), atol=1e-6)):
        raise Incorrect(f"your share counts only the {len(scored)} test samples that have a score; the task asks for "
                        f"the share of all {len(test_scores)} test samples (a sample without a score is not flagged): "
                        "divide by the number of test samples, as `det.predict(test_X).mean()` does.")
    expect_close(share, float(np.mean(test_scores > first.threshold_)), atol=1e-6,
                 what="the share of test samples flagged")
    expect_close(share_changed, float(np.mean(second.score(changed) > second.threshold_)), atol=1e-6,
                 what="the share flagged on a changed test part (return the share you computed, not a fixed number)")
    return (f"the threshold came from normal validation data only; the detector flags {share:.1%} of the test "
            "samples, and the model was not refitted.")


q5 = FunctionQuestion(
    5,
    "Write `recalibrate(det, val_X, test_X)`: without refitting, set the threshold of the fitted detector `det` to "
    "the 99.5th percentile of its scores on the validation sensors `val_X`, and return the share of the test "
    "samples `test_X` that it then flags. The first `window - 1` validation scores are NaN (no score): leave them "
    "out, as `det.calibrate` does. The check calls your function on copies of `det` "
    "(`recalibrate(copy_of_det, val[sensors], test[sensors])`), and again with a changed test part.",
    ("recalibrate", "det", "val", "test", "sensors"),
    _check_recalibrate,
    ["`det.calibrate(normal_scores, threshold=...)` re-chooses `threshold_` only; `det.score(val_X)` gives the "
     "normal scores.",
     "`threshold=(\"percentile\", {\"q\": 99.5})`; then return `det.predict(test_X).mean()`."],
    "# calibrate re-chooses threshold_ from the given normal scores; the model stays as it is\n"
    "def recalibrate(det, val_X, test_X):\n"
    "    det.calibrate(det.score(val_X), threshold=(\"percentile\", {\"q\": 99.5}))\n"
    "    return det.predict(test_X).mean()",
    setup=_context,
    probe=_probe_recalibrate,
)



# --------------------------------------------------------------------------- Q6: contamination
def _forest_shares(train, val, sensors, *, fit_on_both: bool = False):
    """Shares flagged on the training and validation samples (``fit_on_both``: ``train`` holds both, the leak)."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(contamination=0.1, random_state=0).fit(train[sensors])
    first = train.iloc[:len(train) - len(val)] if fit_on_both else train
    return float(np.mean(forest.predict(first[sensors]) == -1)), float(np.mean(forest.predict(val[sensors]) == -1))


def _check_contamination(flagged_share, val_share, train, val, sensors):
    flagged = _share(flagged_share, "`flagged_share`")
    on_val = _share(val_share, "`val_share`")
    want_train, want_val = _forest_shares(train, val, sensors)
    if not np.isclose(flagged, want_train, atol=0.002):
        both = _forest_shares(pd.concat([train, val]), val, sensors, fit_on_both=True)
        if np.isclose(flagged, both[0], atol=1e-6) or np.isclose(on_val, both[1], atol=1e-6):
            raise Incorrect("you fitted the forest on the training *and* validation samples; fit it on "
                            "`train[sensors]` only, so that the normal validation week stays unseen.")
    expect_close(flagged, want_train, atol=0.002, what="the share of training samples flagged")
    if np.isclose(on_val, want_train, atol=1e-9) and not np.isclose(want_val, want_train, atol=1e-4):
        raise Incorrect("`val_share` is the training share again: predict on `val[sensors]` with the same forest "
                        "and count the -1s.")
    if np.isclose(on_val, 1 - want_val, rtol=0.005, atol=1e-6) and not np.isclose(want_val, 0.5, atol=0.01):
        raise Incorrect(f"`val_share` is {on_val:.4g}, the share of validation samples called *inliers* (+1); the "
                        "question asks for the outliers, `predict(...) == -1`.")
    # a share typed in to three significant figures is accepted (0.5 %); another forest or other rows are further off
    expect_close(on_val, want_val, rtol=0.005, atol=1e-6,
                 what="the share of validation samples flagged (with the forest the task fixes: "
                      "`random_state=0`, fitted on `train[sensors]` only, the sensor columns and no others)")
    return (f"the forest flags {flagged:.1%} of the training samples, exactly the contamination, and "
            f"{on_val:.1%} of the normal validation samples. {CONTAMINATION_ANSWER}")


q6 = Question(
    6,
    "Fit scikit-learn's `IsolationForest(contamination=0.1, random_state=0)` on the training sensors "
    "`train[sensors]`. Set `flagged_share` to the share of those *training* samples that `predict` calls "
    "outliers (-1), and `val_share` to the share of the normal validation samples `val[sensors]` it calls "
    "outliers. What does that tell you about `contamination`?",
    ("flagged_share", "val_share", "train", "val", "sensors"),
    _check_contamination,
    ["`from sklearn.ensemble import IsolationForest`; `forest = IsolationForest(...).fit(train[sensors])`.",
     "`(forest.predict(X) == -1).mean()` for X = `train[sensors]`, then for X = `val[sensors]`."],
    "from sklearn.ensemble import IsolationForest\n"
    "forest = IsolationForest(contamination=0.1, random_state=0).fit(train[sensors])\n"
    "flagged_share = (forest.predict(train[sensors]) == -1).mean()\n"
    "val_share = (forest.predict(val[sensors]) == -1).mean()\n"
    "# contamination only sets the threshold so that this share of the *training* data is flagged;\n"
    "# on new normal data the share differs",
    setup=_context,
)
