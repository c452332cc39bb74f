"""Red-team entries for exercises 08 (alarm rules written by hand), beside those in ``test_checker_catalogue.py``.

``tests/test_checker_catalogue.py`` already holds, for notebook 08: Q1 the library function and a centred window
(wrong), a cumulative sum and a loop (right); Q2 the library function and no latch (wrong), a loop with isnan
(right); Q3 the test percentile (leak), q as a fraction (wrong), a nearest-rank percentile (right); Q4 SPOTThreshold,
POTThreshold and the empirical quantile (wrong), an own GPD fit (right). This file adds a look-ahead leak to Q1-Q3,
a second right answer where one helps, and Q5 and Q6; and the answers of the notebook-08 review (a library class
where the question says write it yourself, numbers typed in, a threshold fitted on the wrong part, another quantile
definition, float32, lists and pandas).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from catalogue import Entry

from sadlib.course.exercises import nb08


# --------------------------------------------------------------------------- Q1 k of n
def _k_of_n_ahead(above, k, n):
    """The window starts at t and reads the next n - 1 samples."""
    a = np.asarray(above, int)
    return np.array([a[t:t + n].sum() >= k for t in range(a.size)], dtype=bool)


def _k_of_n_rolling(above, k, n):
    """pandas' trailing rolling sum, with the short windows at the start."""
    return (pd.Series(np.asarray(above, float)).rolling(n, min_periods=1).sum() >= k).to_numpy()


# --------------------------------------------------------------------------- Q2 hysteresis
def _latch(scores, on, off):
    out, state = np.zeros(len(scores), dtype=bool), False
    for t, s in enumerate(scores):
        state = bool(s > on) or (state and bool(s > off))
        out[t] = state
    return out


def _latch_on_the_next_score(scores, on, off):
    """Decides each sample with the score that follows it: one sample of look-ahead."""
    s = np.asarray(scores, float)
    return _latch(np.append(s[1:], np.nan), on, off)


def _latch_from_runs(scores, on, off):
    """Right, without a state variable: an alarm is on from a score above `on` until the first score not above `off`."""
    s = np.asarray(scores, float)
    out = np.zeros(s.size, dtype=bool)
    t = 0
    while t < s.size:
        if s[t] > on:
            end = t
            while end < s.size and s[end] > off:
                end += 1
            out[t:end] = True
            t = max(end, t + 1)
        else:
            t += 1
    return out


def _k_of_n_policy(above, k, n):
    """The library's AlarmPolicy does the k of n: a library call where the question says write it yourself."""
    from sadlib.alarms import AlarmPolicy

    return AlarmPolicy(0.5, k=k, n=n).fit(np.zeros(5)).predict(np.asarray(above, float))


def _k_of_n_float32_lists(above, k, n):
    """Right: float32 counts from a cumulative sum, returned as a list."""
    a = np.asarray(above, np.float32)
    c = np.concatenate(([np.float32(0)], np.cumsum(a, dtype=np.float32)))
    return [bool(c[t + 1] - c[max(0, t - n + 1)] >= k) for t in range(a.size)]


def _latch_policy(scores, on, off):
    """The library's AlarmPolicy with hysteresis_off does the latch."""
    from sadlib.alarms import AlarmPolicy

    return AlarmPolicy(on, hysteresis_off=off).fit(np.zeros(5)).predict(np.asarray(scores, float))


def _latch_pandas_ffill(scores, on, off):
    """Right, with pandas: 1 where a score switches the alarm on, 0 where it switches it off, carried forward."""
    s = pd.Series(np.asarray(scores, float))
    state = pd.Series(np.nan, index=s.index)
    state[s > on] = 1.0
    state[~(s > off)] = 0.0
    return state.ffill().fillna(0.0).astype(bool)


# --------------------------------------------------------------------------- Q3 pipeline
def _typed_in_threshold(train_scores, test_scores, q, min_duration):
    """Thresholds read off the setup's training scores and typed in."""
    from sadlib.alarms import min_duration_alarms

    typed = {99.0: 3.3508, 95.0: 2.3042, 99.5: 3.8553, 90.0: 91.0}
    threshold = typed[q]
    return min_duration_alarms(test_scores, threshold, min_duration), threshold


def _centred_median(train_scores, test_scores, q, min_duration):
    """Smooths the test scores with a centred rolling median before the threshold: reads ahead."""
    from sadlib.alarms import min_duration_alarms

    threshold = float(np.percentile(train_scores, q))
    smooth = pd.Series(test_scores).rolling(5, center=True, min_periods=1).median().to_numpy()
    return min_duration_alarms(smooth, threshold, min_duration), threshold


def _convolved_runs(train_scores, test_scores, q, min_duration):
    """Right: the minimum duration as a trailing convolution of the above-threshold indicator."""
    threshold = float(np.percentile(train_scores, q))
    above = (np.asarray(test_scores) > threshold).astype(int)
    full = np.convolve(above, np.ones(min_duration, int))[:above.size]
    return full >= min_duration, threshold


def _pot_order_statistic(normal_scores, level, q):
    """Right: t is an order statistic (numpy's 'lower' quantile) instead of the interpolated quantile."""
    from scipy import stats

    s = np.asarray(normal_scores, float)
    t = float(np.quantile(s, level, method="lower"))
    excesses = s[s > t] - t
    gamma, _, sigma = stats.genpareto.fit(excesses, floc=0)
    r = q * s.size / excesses.size
    return t - sigma * np.log(r) if abs(gamma) < 1e-8 else t + sigma / gamma * (r ** -gamma - 1)


# --------------------------------------------------------------------------- Q5 alarms per shift
def _per_shift(marks, index, origin="6h"):
    return pd.Series(np.asarray(marks, int), index=index).resample("8h", offset=origin).sum()


def _rearm(index):
    return int(round(pd.Timedelta("1h") / (index[1] - index[0])))


def _onsets_only(alarm_vector, index):
    a = np.asarray(alarm_vector, bool)
    return _per_shift(a & ~np.r_[False, a[:-1]], index)


def _from_midnight(alarm_vector, index):
    a, rearm = np.asarray(alarm_vector, bool), _rearm(index)
    marks, run = np.zeros(a.size, int), 0
    for t, on in enumerate(a):
        run = run + 1 if on else 0
        marks[t] = on and (run - 1) % rearm == 0
    return _per_shift(marks, index, origin="0h")


def _library(alarm_vector, index):
    from sadlib.alarms import announcements

    return _per_shift(announcements(alarm_vector, rearm=_rearm(index)), index)


def _policy_rearm(alarm_vector, index):
    """AlarmPolicy's re-arm counts the announcements: a library call where the question says write it yourself."""
    from sadlib.alarms import AlarmPolicy

    marks = AlarmPolicy(0.5, rearm=_rearm(index)).fit(np.zeros(5)).announce(np.asarray(alarm_vector, float))
    return _per_shift(marks, index)


def _groupby_runs(alarm_vector, index):
    """Right, with run lengths: each run of L samples is announced at offsets 0, rearm, 2 rearm, ... < L."""
    rearm, marks, t = _rearm(index), np.zeros(len(alarm_vector), int), 0
    for on, run in itertools.groupby(np.asarray(alarm_vector, bool)):
        length = len(list(run))
        if on:
            marks[t:t + length:rearm] = 1
        t += length
    return _per_shift(marks, index)


ENTRIES = [
    # Q1: k of n
    Entry(nb08, 1, "leak", "window reads ahead", lambda: {"k_of_n": _k_of_n_ahead}, ("ahead",)),
    Entry(nb08, 1, "right", "pandas rolling sum", lambda: {"k_of_n": _k_of_n_rolling}),
    Entry(nb08, 1, "wrong", "AlarmPolicy does it", lambda: {"k_of_n": _k_of_n_policy}, ("write it yourself",)),
    Entry(nb08, 1, "right", "float32 cumsum as a list", lambda: {"k_of_n": _k_of_n_float32_lists}),
    # Q2: hysteresis
    Entry(nb08, 2, "leak", "latch on the next score", lambda: {"hysteresis": _latch_on_the_next_score},
          ("looks ahead",)),
    Entry(nb08, 2, "right", "runs without a state variable", lambda: {"hysteresis": _latch_from_runs}),
    Entry(nb08, 2, "wrong", "AlarmPolicy with hysteresis_off", lambda: {"hysteresis": _latch_policy},
          ("write it yourself",)),
    Entry(nb08, 2, "right", "pandas ffill of on and off marks", lambda: {"hysteresis": _latch_pandas_ffill}),
    # Q4: the POT threshold
    Entry(nb08, 4, "right", "t as an order statistic", lambda: {"pot_threshold": _pot_order_statistic}),
    # Q3: a leak-free pipeline
    Entry(nb08, 3, "leak", "thresholds typed in from the setup data", lambda: {"alarm_pipeline": _typed_in_threshold},
          ("np.percentile(train_scores, q)",)),
    Entry(nb08, 3, "leak", "centred rolling median of the test scores", lambda: {"alarm_pipeline": _centred_median},
          ("leakage",)),
    Entry(nb08, 3, "right", "trailing convolution", lambda: {"alarm_pipeline": _convolved_runs}),
    # Q5: announcements per shift
    Entry(nb08, 5, "wrong", "onsets only", lambda: {"alarms_per_shift": _onsets_only}, ("onsets only",)),
    Entry(nb08, 5, "wrong", "shifts from midnight", lambda: {"alarms_per_shift": _from_midnight}, ("06:00",)),
    Entry(nb08, 5, "wrong", "library function", lambda: {"alarms_per_shift": _library}, ("write it yourself",)),
    Entry(nb08, 5, "right", "run lengths with groupby", lambda: {"alarms_per_shift": _groupby_runs}),
    Entry(nb08, 5, "wrong", "AlarmPolicy's re-arm", lambda: {"alarms_per_shift": _policy_rearm},
          ("write it yourself",)),
]


# --------------------------------------------------------------------------- Q6 end to end
def _parts(plant, val_start, test_start):
    return (plant[plant.index < val_start], plant[(plant.index >= val_start) & (plant.index < test_start)],
            plant[plant.index >= test_start])


def _k_by_recall(part, threshold, budget=1.0):
    from sadlib import alarms, metrics

    best, recall = 10, -1.0
    for k in range(1, 11):
        ev = metrics.evaluate(part["anomaly"].to_numpy(), y_pred=alarms.k_of_n_alarms(
            part["score"].to_numpy(), threshold, k, 10), index=part.index)
        if ev["false_alarms_per_day"] <= budget and ev["event_recall"] > recall:
            best, recall = k, ev["event_recall"]
    return best


def _tuned_on_test_labels(plant, val_start, test_start):
    from sadlib import alarms

    train, _, test = _parts(plant, val_start, test_start)
    threshold = np.percentile(train["score"], 99)
    return alarms.k_of_n_alarms(test["score"].to_numpy(), threshold, _k_by_recall(test, threshold), 10)


def _fitted_on_test_scores(plant, val_start, test_start):
    from sadlib import alarms

    _, val, test = _parts(plant, val_start, test_start)
    threshold = np.percentile(test["score"], 99)
    return alarms.k_of_n_alarms(test["score"].to_numpy(), threshold, _k_by_recall(val, threshold), 10)


def _raw_threshold(plant, val_start, test_start):
    train, _, test = _parts(plant, val_start, test_start)
    return test["score"].to_numpy() > np.percentile(train["score"], 99.5)


def _threshold_on_validation(plant, val_start, test_start):
    """The threshold is the 99th percentile of the validation scores (faults included), not of the training part."""
    from sadlib import alarms

    _, val, test = _parts(plant, val_start, test_start)
    threshold = np.percentile(val["score"], 99)
    return alarms.k_of_n_alarms(test["score"].to_numpy(), threshold, _k_by_recall(val, threshold), 10)


def _k_typed_in(plant, val_start, test_start):
    """k = 3 read off one plant and typed in: nothing is chosen on the validation part."""
    from sadlib import alarms

    train, _, test = _parts(plant, val_start, test_start)
    return alarms.k_of_n_alarms(test["score"].to_numpy(), np.percentile(train["score"], 99), 3, 10)


def _largest_k_among_ties(plant, val_start, test_start):
    """Right, another tie-break: among the k within the budget with the best recall, the largest (fewer alarms)."""
    from sadlib import alarms, metrics

    train, val, test = _parts(plant, val_start, test_start)
    threshold = float(np.percentile(train["score"].to_numpy(np.float32), 99))
    best, recall = 10, -1.0
    for k in range(1, 11):
        ev = metrics.evaluate(val["anomaly"].to_numpy(), y_pred=alarms.k_of_n_alarms(
            val["score"].to_numpy(), threshold, k, 10), index=val.index)
        if ev["false_alarms_per_day"] <= 1 and ev["event_recall"] >= recall:
            best, recall = k, ev["event_recall"]
    return pd.Series(alarms.k_of_n_alarms(test["score"].to_numpy(), threshold, best, 10), index=test.index)


def _pot_and_a_loop(plant, val_start, test_start):
    """Right, written another way: a POT threshold from the training scores, k of the last 10 as a loop, k chosen
    on the validation part."""
    from sadlib import metrics, thresholds

    train, val, test = _parts(plant, val_start, test_start)
    threshold = thresholds.POTThreshold(risk=0.01, init_level=0.9).fit(train["score"].to_numpy()).threshold_

    def k_of_10(scores, k):
        above = np.asarray(scores) > threshold
        return np.array([above[max(0, t - 9):t + 1].sum() >= k for t in range(above.size)])

    best, recall = 10, -1.0
    for k in range(1, 11):
        ev = metrics.evaluate(val["anomaly"].to_numpy(), y_pred=k_of_10(val["score"], k), index=val.index)
        if ev["false_alarms_per_day"] <= 1 and ev["event_recall"] > recall:
            best, recall = k, ev["event_recall"]
    return k_of_10(test["score"], best)


ENTRIES += [
    Entry(nb08, 6, "leak", "k chosen on the test labels", lambda: {"alarm_rule": _tuned_on_test_labels},
          ("leakage", "test part's labels")),
    Entry(nb08, 6, "leak", "threshold fitted on the test scores", lambda: {"alarm_rule": _fitted_on_test_scores},
          ("leakage",)),
    Entry(nb08, 6, "wrong", "raw threshold, no persistence", lambda: {"alarm_rule": _raw_threshold},
          ("false alarms per day",)),
    Entry(nb08, 6, "wrong", "an alarm at noon every day", lambda: {"alarm_rule": lambda plant, v, t: (
        plant.index[plant.index >= t].hour == 12)}, ("random line",)),
    Entry(nb08, 6, "right", "POT threshold and a loop", lambda: {"alarm_rule": _pot_and_a_loop}),
    Entry(nb08, 6, "wrong", "threshold fitted on the validation scores",
          lambda: {"alarm_rule": _threshold_on_validation}, ("training scores multiplied by 3",)),
    Entry(nb08, 6, "wrong", "k typed in", lambda: {"alarm_rule": _k_typed_in}, ("not chosen on the validation part",)),
    Entry(nb08, 6, "right", "largest k among ties, float32, a Series", lambda: {"alarm_rule": _largest_k_among_ties}),
]


# --------------------------------------------------------------------------- red team of 7 December 2026
def _pipeline_float32_rolling_min(train_scores, test_scores, q, min_duration):
    threshold = np.float32(np.percentile(train_scores, q))
    runs = pd.Series(test_scores).rolling(min_duration).min()  # NaN (no alarm) until min_duration scores exist
    return (runs > threshold).to_numpy(), threshold


def _pipeline_min_periods_one(train_scores, test_scores, q, min_duration):
    threshold = float(np.percentile(train_scores, q))
    runs = pd.Series(test_scores).rolling(min_duration, min_periods=1).min()  # alarms on fewer scores at the start
    return (runs > threshold).to_numpy(), threshold


def _pot_with_ppf(normal_scores, level, q):
    from scipy import stats

    t = np.quantile(normal_scores, level)
    excesses = normal_scores[normal_scores > t] - t
    gamma, _, sigma = stats.genpareto.fit(excesses, floc=0)
    # z_q is where the fitted tail leaves probability q * n / n_t among the peaks: the GPD's quantile function
    return float(t + stats.genpareto.ppf(1 - q * normal_scores.size / excesses.size, gamma, loc=0, scale=sigma))


def _announcements(alarm_vector, index):
    rearm = int(pd.Timedelta("1h") / (index[1] - index[0]))
    out, run = np.zeros(len(alarm_vector), dtype=int), 0
    for t, on in enumerate(alarm_vector):
        run = run + 1 if on else 0
        out[t] = on and (run - 1) % rearm == 0
    return pd.Series(out, index=index)


def _quiet_shifts_dropped(alarm_vector, index):
    ann = _announcements(alarm_vector, index)
    times = ann.index[ann.to_numpy() > 0]
    shift = (times - pd.Timedelta("6h")).floor("8h") + pd.Timedelta("6h")
    return pd.Series(shift).value_counts().sort_index()


def _shifts_by_floor(alarm_vector, index):
    ann = _announcements(alarm_vector, index)
    return ann.groupby((index - pd.Timedelta("6h")).floor("8h") + pd.Timedelta("6h")).sum()


def _split_at_positions(plant, val_start, test_start):
    from sadlib import alarms, metrics

    day = 1440
    train, val, test = plant.iloc[:3 * day], plant.iloc[3 * day:6 * day], plant.iloc[6 * day:]  # the notebook's plant
    threshold = np.percentile(train["score"], 99)
    best, recall = 10, -1.0
    for k in range(1, 11):
        a = alarms.k_of_n_alarms(val["score"].to_numpy(), threshold, k, 10)
        ev = metrics.evaluate(val["anomaly"].to_numpy(), y_pred=a, index=val.index)
        if ev["false_alarms_per_day"] <= 1 and ev["event_recall"] > recall:
            best, recall = k, ev["event_recall"]
    return alarms.k_of_n_alarms(test["score"].to_numpy(), threshold, best, 10)


ENTRIES += [
    Entry(nb08, 3, "right", "float32 threshold, pandas rolling minimum",
          lambda: {"alarm_pipeline": _pipeline_float32_rolling_min}),
    Entry(nb08, 4, "right", "the GPD's quantile function", lambda: {"pot_threshold": _pot_with_ppf}),
    Entry(nb08, 5, "wrong", "quiet shifts left out", lambda: {"alarms_per_shift": _quiet_shifts_dropped},
          ("missing", "counts 0")),
    Entry(nb08, 5, "right", "groupby on the floor of the time less six hours",
          lambda: {"alarms_per_shift": _shifts_by_floor}),
    Entry(nb08, 6, "wrong", "split at the notebook's positions", lambda: {"alarm_rule": _split_at_positions},
          ("fixed positions",)),
    Entry(nb08, 3, "wrong", "rolling minimum with min_periods=1", lambda: {"alarm_pipeline": _pipeline_min_periods_one},
          ("before 3 scores exist",)),
]
