"""Exercises for notebook 02 (evaluating detectors honestly).

Q3, Q4 and Q6 ask for code. The checks run it: Q3's threshold function is called again with
the *test* scores changed (an extreme fault planted, rows shuffled, the week replaced) and must
give the same threshold, and with the validation scores changed, where it must follow them.
An untouched function template (it still returns ``____``) is "not attempted".
"""

from __future__ import annotations

from functools import lru_cache
from numbers import Real

import numpy as np

from sadlib.course.exercises.checker import (
    FunctionQuestion,
    Incorrect,
    Question,
    call_answer,
    expect_close,
    expect_true,
    percentile_bounds,
    setup_namespace,
)

__all__ = ["q1", "q2", "q3", "q4", "q5", "q6"]

#: The exercise notebook's setup (after the question imports); the checks and tests run in it.
SETUP = """\
import numpy as np

from sadlib import detectors, metrics, signals
from sadlib.windows import chronological_split

# Notebook 02's three weeks: week 1 to fit, week 2 (normal) to calibrate, week 3 (with faults) to test
data, _ = signals.generate(n_days=21, seed=7, clean_fraction=2 / 3)
sensors = list(signals.SENSORS)
data[sensors] = data[sensors].interpolate(limit_direction="both")
train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
det = detectors.make("zscore", window=60).fit(train[sensors])
val_scores, test_scores = det.score(val[sensors]), det.score(test[sensors])
"""

#: Answer cells that differ from ``name = ____`` (the code before ``qN.check()``).
ANSWER_CELLS = {
    3: "def honest_threshold(val_scores, test_scores):\n"
       "    return ____  # your code here",
    4: "import numpy as np\n"
       "from sadlib.metrics import events\n\n\n"
       "def my_point_adjust(y_true, y_pred):\n"
       "    return ____  # your code here",
}


#: numbers worked out by hand are accepted within 0.5 % (three significant figures: 0.0208 for 20/960)
HAND_RTOL = 5e-3

#: how this notebook's checks call the learner's functions (warnings are shown)
_CALL = dict(quiet=False, unwritten="`{name}` still returns ____; replace ____ with your code")


def _number(value, what):
    """A real number (Python or NumPy, or a 0-d array), not a bool or a string."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.integer, np.floating)):
        raise Incorrect(f"{what} should be a number, but it is a {type(value).__name__}.")
    return float(value)


# --------------------------------------------------------------------------- Q1
def _check_rates(far, mar):
    # counts given in the prompt: tp=30, fp=20, fn=10, tn=940
    far, mar = _number(far, "`far`"), _number(mar, "`mar`")
    if np.isclose(far, 10 / 40) and np.isclose(mar, 20 / 960):
        raise Incorrect("`far` and `mar` are swapped: false alarms concern the normal samples, misses the "
                        "anomalous ones.")
    if np.isclose(far, 100 * 20 / 960) or np.isclose(mar, 100 * 10 / 40):
        raise Incorrect("give the rates as fractions between 0 and 1, not in percent.")
    if np.isclose(far, 20 / 50):
        raise Incorrect("FAR divides the false alarms by all *normal* samples (FP + TN), not by all alarms.")
    if np.isclose(far, 20 / 1000):
        raise Incorrect("FAR divides the false alarms by the *normal* samples (FP + TN), not by all 1000 samples.")
    expect_close(far, 20 / 960, rtol=HAND_RTOL, what="FAR")
    if np.isclose(mar, 10 / 1000):
        raise Incorrect("MAR divides the misses by all *anomalous* samples (FN + TP).")
    expect_close(mar, 10 / 40, rtol=HAND_RTOL, what="MAR")


q1 = Question(
    1,
    "A detector produced tp=30, fp=20, fn=10, tn=940 on a test set. Set `far` (false alarm rate) and "
    "`mar` (missed alarm rate) as fractions.",
    ("far", "mar"),
    _check_rates,
    ["FAR = FP / (FP + TN): the share of normal samples that raised an alarm.",
     "MAR = FN / (FN + TP) = 1 − recall."],
    "tp, fp, fn, tn = 30, 20, 10, 940\nfar = fp / (fp + tn)\nmar = fn / (fn + tp)",
    setup=lambda: {},
)


# --------------------------------------------------------------------------- Q2
def _check_flag_all(f1_flag_all):
    p = 0.35
    f1 = _number(f1_flag_all, "`f1_flag_all`")
    if np.isclose(f1, p):
        raise Incorrect("that is the precision of flagging everything; F1 combines it with the recall (which is 1).")
    if np.isclose(f1, 1.0):
        raise Incorrect("that is the recall of flagging everything; F1 combines it with the precision (the anomaly "
                        "share).")
    if np.isclose(f1, p / (1 + p)):
        raise Incorrect("F1 = 2 · precision · recall / (precision + recall): the factor 2 is missing.")
    if np.isclose(f1, 100 * 2 * p / (1 + p)):
        raise Incorrect("give F1 as a fraction between 0 and 1, not in percent.")
    expect_close(f1, 2 * p / (1 + p), rtol=HAND_RTOL, what="the F1 of flagging everything")


q2 = Question(
    2,
    "In a test set 35 % of the samples are anomalous. Set `f1_flag_all` to the F1 of the detector that flags "
    "every sample.",
    ("f1_flag_all",),
    _check_flag_all,
    ["Flagging everything: recall = 1, precision = the anomaly share.",
     "F1 = 2 · precision · recall / (precision + recall)."],
    "p = 0.35\nprecision, recall = p, 1.0\nf1_flag_all = 2 * precision * recall / (precision + recall)",
    setup=lambda: {},
)


# --------------------------------------------------------------------------- Q3
def _context() -> dict:
    """A fresh namespace in which the setup cell has run."""
    return setup_namespace(SETUP)


@lru_cache(maxsize=1)
def _scores() -> tuple[np.ndarray, np.ndarray]:
    ns = _context()
    val, test = ns["val_scores"], ns["test_scores"]
    val.flags.writeable = test.flags.writeable = False  # cached: nobody may change them
    return val, test


def _test_variants(test):
    """The test scores changed in three ways that must not move an honest threshold."""
    rng = np.random.default_rng(3)
    planted = test.copy()
    planted[rng.choice(test.size, size=test.size // 20, replace=False)] = 1e6  # 5 % extreme fault scores
    return {"with an extreme fault planted in 5 % of the test samples": planted,
            "with the test samples shuffled and halved": rng.permutation(test)[: test.size // 2],
            "with the test week replaced by other scores": rng.gamma(2.0, 1.0, size=test.size + 1000)}


def _check_honest_threshold(honest_threshold):
    expect_true(callable(honest_threshold),
                "`honest_threshold` should be a function of (val_scores, test_scores) that returns a threshold.")
    val, test = _scores()
    got = _number(call_answer(honest_threshold, "honest_threshold", val, test, **_CALL),
                  "the threshold your function returns")
    if np.isclose(got, np.percentile(test, 99.5)):
        raise Incorrect("that threshold comes from the test scores: leakage. Use the validation scores only.")
    for change, other_test in _test_variants(test).items():
        moved = _number(call_answer(honest_threshold, "honest_threshold", val, other_test, **_CALL), "your threshold")
        if not np.isclose(moved, got, rtol=1e-9, atol=0.0):
            raise Incorrect(f"your threshold moved from {got:.4g} to {moved:.4g} when only the test scores changed "
                            f"({change}): it depends on the data it will be judged on, which is leakage. "
                            "Compute it from the validation scores alone.")
    scaled = _number(call_answer(honest_threshold, "honest_threshold", 2 * val, test, **_CALL), "your threshold")
    if np.isclose(scaled, got):
        raise Incorrect("your threshold stayed the same when the validation scores were doubled: it must be computed "
                        "from them (a number typed in does not follow new data).")
    for q in (99.0, 99.9, 100.0):
        if np.isclose(got, np.percentile(val, q)):
            raise Incorrect(f"that is the {q:g}th percentile of the validation scores; the question asks for the "
                            "99.5th.")
    if np.isclose(got, np.percentile(val, 0.995)):
        raise Incorrect("`np.percentile` takes q in percent (99.5); `np.quantile` takes a fraction (0.995).")
    lo, hi = percentile_bounds(val, 99.5)
    if lo <= got <= hi:  # a percentile definition that differs only in interpolation (np.sort(val)[int(.995 n)])
        return "it ignores the test scores whatever they hold, and follows the validation scores."
    expect_close(got, np.percentile(val, 99.5), rtol=1e-6, what="the 99.5th percentile of the validation scores")
    return "it ignores the test scores whatever they hold, and follows the validation scores."


q3 = FunctionQuestion(
    3,
    "Write `honest_threshold(val_scores, test_scores)`: it returns the alarm threshold at the 99.5th percentile "
    "of the scores of the normal validation week. Both arrays are passed because both sit in your notebook; "
    "the check calls your function again with the test scores changed, and the threshold must not move.",
    ("honest_threshold",),
    _check_honest_threshold,
    ["`np.percentile(scores, q)` with q in percent.",
     "Which scores were *not* used to judge the detector? Use only those; the other argument stays unused."],
    "import numpy as np\n\n\n"
    "def honest_threshold(val_scores, test_scores):\n"
    "    return np.percentile(val_scores, 99.5)  # test_scores stays unused on purpose",
    setup=_context,
)


# --------------------------------------------------------------------------- Q4
def _point_adjust_cases():
    rng = np.random.default_rng(0)
    cases = [(np.array([0, 1, 1, 1, 0, 1, 1, 0]), np.array([0, 0, 1, 0, 0, 0, 0, 1]))]
    for _ in range(20):
        y = rng.random(200) < 0.03
        y = np.convolve(y, np.ones(8), mode="same") > 0  # a few events of ~8 samples
        cases.append((y.astype(int), (rng.random(200) < 0.05).astype(int)))
    return cases


def _check_point_adjust(my_point_adjust):
    from sadlib.metrics import point_adjust

    expect_true(callable(my_point_adjust), "`my_point_adjust` should be a function of (y_true, y_pred).")
    for y_true, y_pred in _point_adjust_cases():
        got = np.asarray(call_answer(my_point_adjust, "my_point_adjust", y_true, y_pred, **_CALL))
        expected = point_adjust(y_true, y_pred)
        shown = f"for y_true={y_true[:8].tolist()}… and y_pred={y_pred[:8].tolist()}…"
        expect_true(got.shape == expected.shape,
                    f"{shown} return one decision per sample, shape {expected.shape}; got shape {got.shape}.")
        got = got.astype(bool)
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, y_pred.astype(bool)):
            raise Incorrect(f"{shown} your function returns the alarms unchanged: every sample of an event with at "
                            "least one alarm must become an alarm.")
        outside = ~y_true.astype(bool)
        if np.array_equal(got[~outside], expected[~outside]):
            raise Incorrect(f"{shown} the events are adjusted right, but the alarms outside events changed: keep "
                            "them as they are.")
        raise Incorrect(f"{shown} the result differs from point adjustment: every sample of an event with at least "
                        "one alarm must become an alarm; other alarms stay.")


q4 = FunctionQuestion(
    4,
    "Write `my_point_adjust(y_true, y_pred)` returning the point-adjusted predictions: if any sample of a "
    "labelled event is flagged, flag the whole event; alarms outside events are kept.",
    ("my_point_adjust",),
    _check_point_adjust,
    ["`sadlib.metrics.events(y_true)` lists the events as (start, end) with end exclusive.",
     "Copy `y_pred` as booleans, then for each event: if `adjusted[start:end].any()`, set the slice to True."],
    "import numpy as np\nfrom sadlib.metrics import events\n\n\n"
    "def my_point_adjust(y_true, y_pred):\n"
    "    adjusted = np.asarray(y_pred).astype(bool).copy()\n"
    "    for start, end in events(y_true):\n"
    "        if adjusted[start:end].any():\n"
    "            adjusted[start:end] = True\n"
    "    return adjusted",
    setup=lambda: {},
)


# --------------------------------------------------------------------------- Q5
Q5_SHARE = 0.20  # anomalous share of the test week in the prompt


def _check_flag_all_events(event_precision, false_alarms_per_day):
    precision = _number(event_precision, "`event_precision`")
    per_day = _number(false_alarms_per_day, "`false_alarms_per_day`")
    if np.isclose(precision, 1.0):
        raise Incorrect("1 is the old *existence* rule (an alarm range that touches an event counts as right). The "
                        "range-based precision counts the share of the alarm range that lies inside events.")
    if np.isclose(precision, 1 - Q5_SHARE):
        raise Incorrect("that is the share of the alarm range *outside* the events; precision is the share inside.")
    expect_close(precision, Q5_SHARE, rtol=HAND_RTOL, what="the event precision of flagging everything")
    if per_day < 1.0:
        raise Incorrect("that counts only the alarm onset. An alarm that stays on outside events is counted again "
                        "every hour: how many hours per day are normal?")
    if np.isclose(per_day, 24.0):
        raise Incorrect("the alarm is on 24 h a day, but the hours inside the events are not false alarms.")
    expect_close(per_day, 24 * (1 - Q5_SHARE), rtol=0.1,
                 what="the false alarms per day of flagging everything (within 10 %)")
    return ("flag everything scores the anomaly share as event precision and rings every normal hour, so it cannot "
            "look good in either column.")


q5 = Question(
    5,
    f"A test week of 1-minute samples holds 8 events that cover {Q5_SHARE:.0%} of the samples; the normal "
    "stretches between them last hours. A detector flags every sample. Set `event_precision` (range-based, "
    "as `metrics.evaluate` computes it) and `false_alarms_per_day` (an alarm that stays on outside the events "
    "counts again every hour; an estimate within 10 % is fine).",
    ("event_precision", "false_alarms_per_day"),
    _check_flag_all_events,
    ["Flagging everything makes one alarm range: the whole week. What share of it lies inside events?",
     "The alarm stands during every normal hour, and each hour counts once: 24 h × the normal share per day."],
    "share = 0.20\nevent_precision = share\nfalse_alarms_per_day = 24 * (1 - share)",
    setup=lambda: {},
)


# --------------------------------------------------------------------------- Q6
Q6_DAYS = 28
_WEEK = 7 * 24 * 60  # samples per week at 1 min


def _check_whole_weeks(train_share, val_share):
    import pandas as pd

    from sadlib import signals
    from sadlib.windows import chronological_split

    train_share, val_share = _number(train_share, "`train_share`"), _number(val_share, "`val_share`")
    if train_share > 1 or val_share > 1:
        raise Incorrect("give the shares as fractions of the series (between 0 and 1), not in percent or days.")
    index = pd.date_range("2024-01-01", periods=Q6_DAYS * 24 * 60, freq="1min")  # a Monday
    frame = pd.DataFrame({"current": np.zeros(len(index))}, index=index)
    try:
        parts = chronological_split(frame, train=train_share, val=val_share)
    except ValueError as exc:
        raise Incorrect(f"chronological_split refuses these shares: {exc}") from None
    names = ("train", "validation", "test")
    for name, part in zip(names, parts):
        if len(part) == 0:
            raise Incorrect(f"the {name} part is empty, so it holds no whole week; each part needs at least one.")
    table = signals.regime_table(dict(zip(names, parts)))
    for name, part in zip(names, parts):
        if len(part) % _WEEK:
            raise Incorrect(f"the {name} part lasts {len(part) / (24 * 60):.2f} days, not whole weeks (its weekend "
                            f"share is {table.loc[name, 'weekend %']:.1f} % instead of {100 * 2 / 7:.1f} %).")
    return "every part holds whole weeks, so each sees every shift and its weekends."


q6 = Question(
    6,
    f"A {Q6_DAYS}-day series of the pump, one sample a minute, starts on a Monday. Set `train_share` and "
    "`val_share` for `chronological_split(data, train=train_share, val=val_share)` so that the train, validation "
    "and test parts each consist of whole weeks. (`signals.regime_table` shows what each part holds.)",
    ("train_share", "val_share"),
    _check_whole_weeks,
    [f"{Q6_DAYS} days are {Q6_DAYS // 7} weeks; each part needs at least one.",
     "For example two weeks to train, one to validate, one to test: shares of 2/4 and 1/4."],
    "train_share, val_share = 2 / 4, 1 / 4",
    setup=lambda: {},
)
