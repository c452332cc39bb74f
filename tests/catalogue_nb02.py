"""Red-team catalogue of exercises 02: named wrong answers (leaks where a question fits anything to data) that the
checkers must reject with a message naming the mistake, and unconventional right answers they must accept."""

from __future__ import annotations

import numpy as np
from catalogue import Entry

from sadlib.course.exercises import nb02


def _val():
    return nb02._scores()[0]


# --------------------------------------------------------------------------- Q1 point metrics
def _metrics_library(y, p):
    from sadlib.metrics import point_metrics

    m = point_metrics(y, p)
    return m["precision"], m["recall"], m["f1"]


def _metrics_swapped(y, p):
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
    return tp / (tp + fn), (tp / (tp + fp) if tp + fp else 0.0), 2 * tp / (2 * tp + fp + fn)


def _metrics_arithmetic_mean(y, p):
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
    precision, recall = (tp / (tp + fp) if tp + fp else 0.0), tp / (tp + fn)
    return precision, recall, (precision + recall) / 2


def _metrics_zero_division(y, p):
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
    with np.errstate(all="ignore"):
        precision, recall = np.float64(tp) / (tp + fp), np.float64(tp) / (tp + fn)
        return precision, recall, 2 * precision * recall / (precision + recall)


def _metrics_normal_class(y, p):
    return _right_metrics(~np.asarray(y, bool), ~np.asarray(p, bool))


def _right_metrics(y, p):
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    tp, fp, fn = np.sum(y & p), np.sum(~y & p), np.sum(y & ~p)
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0), \
        (2 * tp / (2 * tp + fp + fn) if tp else 0.0)


def _metrics_by_means(y, p):
    """A different formulation: precision and recall as means over the alarms and over the anomalies."""
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    precision = y[p].mean() if p.any() else 0.0
    recall = p[y].mean()
    return precision, recall, (0.0 if precision + recall == 0 else 2 / (1 / precision + 1 / recall))


# --------------------------------------------------------------------------- Q4 events
def _runs(flags):
    edges = np.diff(np.concatenate(([0], np.asarray(flags, int), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _events_library(y, a, per_day):
    from sadlib.metrics import event_metrics

    ev = event_metrics(y, a)
    return ev["event_recall"], ev["n_false_alarm_events"] / (len(y) / per_day)


def _events_false_samples(y, a, per_day):
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    found = [a[s:e].any() for s, e in _runs(y)]
    return (float(np.mean(found)) if found else 0.0), np.sum(a & ~y) / (len(y) / per_day)


def _events_all_ranges(y, a, per_day):
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    found = [a[s:e].any() for s, e in _runs(y)]
    return (float(np.mean(found)) if found else 0.0), len(_runs(a)) / (len(y) / per_day)


def _events_no_padding(y, a, per_day):
    """Runs from np.diff without padding: a run at the first or the last sample is lost."""
    def runs(flags):
        d = np.diff(np.asarray(flags, int))
        return list(zip(np.flatnonzero(d == 1) + 1, np.flatnonzero(d == -1) + 1))
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    found = [a[s:e].any() for s, e in runs(y)]
    false = [(s, e) for s, e in runs(a) if not y[s:e].any()]
    return (float(np.mean(found)) if found else 0.0), len(false) / (len(y) / per_day)


def _events_itertools(y, a, per_day):
    """A different formulation: itertools.groupby for the runs, and a loop over samples."""
    from itertools import groupby

    y, a = np.asarray(y, bool), np.asarray(a, bool)

    def runs(flags):
        out, i = [], 0
        for value, group in groupby(flags):
            n = len(list(group))
            if value:
                out.append((i, i + n))
            i += n
        return out
    events = runs(y)
    recall = sum(bool(a[s:e].any()) for s, e in events) / len(events) if events else 0.0
    return recall, sum(not y[s:e].any() for s, e in runs(a)) * per_day / len(y)


# --------------------------------------------------------------------------- Q5 point adjustment
def _adjust_library(y, p):
    from sadlib.metrics import point_adjust

    return point_adjust(y, p)


def _adjust_with_cumsum(y, p):
    """A different formulation: an event's id from a cumulative sum of its starts, then np.isin."""
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    starts = y & ~np.concatenate(([False], y[:-1]))
    event_id = np.where(y, np.cumsum(starts), 0)
    hit = np.unique(event_id[p & y])
    return p | np.isin(event_id, hit[hit > 0])


# --------------------------------------------------------------------------- Q6 the pipeline
def _pipeline(fill="ffill", threshold_from="val", fit_on="train", tune=False, own_zscore=False, centred=False):
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    def honest_pipeline(data):
        sensors = list(signals.SENSORS)
        filled = data.copy()
        if fill == "ffill":
            filled[sensors] = filled[sensors].ffill().bfill()
        else:
            filled[sensors] = filled[sensors].interpolate(limit_direction="both")
        train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
        det = detectors.make("zscore", window=60, center=centred).fit((filled if fit_on == "all" else train)[sensors])
        if own_zscore:
            mean0, std0 = det.mean_, det.scale_

            def score(part):
                x = part[sensors]
                mu = x.rolling(60).mean().shift(1).fillna(dict(zip(sensors, mean0)))
                sd = x.rolling(60).std().shift(1).fillna(dict(zip(sensors, std0)))
                sd = np.maximum(sd.to_numpy(), 0.1 * std0)
                return (np.abs(x.to_numpy() - mu.to_numpy()) / sd).max(axis=1)
        else:
            score = lambda part: det.score(part[sensors])  # noqa: E731
        test_scores = score(test)
        if tune:  # the threshold with the best F1 on the test labels
            from sadlib.metrics import point_metrics

            y = test["anomaly"].to_numpy().astype(bool)
            cands = np.quantile(test_scores, np.linspace(0.9, 0.9999, 60))
            return test_scores > max(cands, key=lambda t: point_metrics(y, test_scores > t)["f1"])
        threshold = np.percentile(score({"train": train, "val": val, "test": test}[threshold_from]), 99.9)
        return test_scores > threshold
    return honest_pipeline


def _pipeline_shuffled_split(data):
    from sadlib import detectors, signals

    sensors = list(signals.SENSORS)
    filled = data.copy()
    filled[sensors] = filled[sensors].ffill().bfill()
    rows = np.random.default_rng(0).permutation(len(filled))
    third = len(filled) // 3
    train, val = filled.iloc[np.sort(rows[:third])], filled.iloc[np.sort(rows[third:2 * third])]
    test = filled.iloc[2 * third:]
    det = detectors.make("zscore", window=60).fit(train[sensors])
    return det.score(test[sensors]) > np.percentile(det.score(val[sensors]), 99.9)


# --------------------------------------------------------------------------- red team, second round
def _metrics_fbeta(y, p):
    """scikit-learn's F-beta with beta=1 is the F1 score: a library call the check must catch."""
    from sklearn.metrics import fbeta_score

    precision, recall, _ = _right_metrics(y, p)
    return precision, recall, fbeta_score(np.asarray(y, bool), np.asarray(p, bool), beta=1.0, zero_division=0)


def _metrics_report(y, p):
    from sklearn.metrics import classification_report

    row = classification_report(np.asarray(y, bool), np.asarray(p, bool), output_dict=True, zero_division=0)["True"]
    return row["precision"], row["recall"], row["f1-score"]


def _metrics_float32_array(y, p):
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    tp, fp, fn = (np.float32(np.sum(m)) for m in (y & p, ~y & p, y & ~p))
    return np.array([tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn), 2 * tp / (2 * tp + fp + fn)], np.float32)


def _events_end_off_by_one(y, a, per_day):
    """An event is looked up in alarms[start:end - 1]: an alarm on its last sample does not find it."""
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    found = [a[s:e - 1].any() for s, e in _runs(y)]
    false = [(s, e) for s, e in _runs(a) if not y[s:e].any()]
    return (float(np.mean(found)) if found else 0.0), len(false) / (len(y) / per_day)


def _events_pandas(y, a, per_day):
    """A different formulation: pandas run ids from a cumulative sum of changes, float32 results."""
    import pandas as pd

    y, a = pd.Series(np.asarray(y, bool)), pd.Series(np.asarray(a, bool))
    events = [g for _, g in a.groupby((y != y.shift()).cumsum()[y])]
    recall = float(np.mean([g.any() for g in events])) if events else 0.0
    n_false = sum(not g.any() for _, g in y.groupby((a != a.shift()).cumsum()[a]))
    return np.float32(recall), np.float32(n_false * per_day / len(y))


def _pipeline_window(window):
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    def honest_pipeline(data):
        sensors = list(signals.SENSORS)
        filled = data.copy()
        filled[sensors] = filled[sensors].ffill().bfill()
        train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
        det = detectors.make("zscore", window=window).fit(train[sensors])
        return det.score(test[sensors]) > np.percentile(det.score(val[sensors]), 99.9)
    return honest_pipeline


def _pipeline_fit_on_two_thirds(data):
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    sensors = list(signals.SENSORS)
    filled = data.copy()
    filled[sensors] = filled[sensors].ffill().bfill()
    train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
    det = detectors.make("zscore", window=60).fit(filled[sensors].iloc[:len(train) + len(val)])
    return det.score(test[sensors]) > np.percentile(det.score(val[sensors]), 99.9)


def _pipeline_calibrate_series(data):
    """A different formulation: `calibrate` and `predict`, returned as a pandas Series."""
    import pandas as pd

    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    sensors = list(signals.SENSORS)
    filled = data.copy()
    filled[sensors] = filled[sensors].ffill().bfill()
    train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
    det = detectors.make("zscore", window=60).fit(train[sensors])
    det.calibrate(det.score(val[sensors]), threshold=("percentile", {"q": 99.9}))
    return pd.Series(det.predict(test[sensors]), index=test.index)


def _adjust_from_first_alarm(y, p):
    """Flags an event only from its first alarm on, not from its start."""
    y, p = np.asarray(y, bool), np.asarray(p, bool).copy()
    for s, e in _runs(y):
        if p[s:e].any():
            p[s + int(np.argmax(p[s:e])):e] = True
    return p


def _adjust_pandas_list(y, p):
    """A different formulation: pandas groupby-transform, returned as a list."""
    import pandas as pd

    y, p = pd.Series(np.asarray(y, bool)), pd.Series(np.asarray(p, bool))
    hit = p.groupby((y != y.shift()).cumsum()).transform("any") & y
    return (p | hit).tolist()


def _pipeline_on_notebook_data(data):
    """Ignores its argument: the alarms of the notebook's own pump (seed 7), a hard-coded output."""
    from sadlib import signals

    raw, _ = signals.generate(n_days=21, seed=7, clean_fraction=2 / 3)
    return _pipeline()(raw)


def _events_scipy_label(y, a, per_day):
    """A different formulation: scipy.ndimage.label numbers the runs."""
    from scipy import ndimage

    y, a = np.asarray(y, bool), np.asarray(a, bool)
    (event_ids, n_events), (range_ids, n_ranges) = ndimage.label(y), ndimage.label(a)
    found = [a[event_ids == k].any() for k in range(1, n_events + 1)]
    n_false = sum(not y[range_ids == k].any() for k in range(1, n_ranges + 1))
    return (float(np.mean(found)) if n_events else 0.0), n_false / (len(y) / per_day)


def _pipeline_default_threshold(data):
    """fit's own threshold (from the training tail), no validation third."""
    from sadlib import detectors, signals
    from sadlib.windows import chronological_split

    sensors = list(signals.SENSORS)
    filled = data.copy()
    filled[sensors] = filled[sensors].ffill().bfill()
    train, val, test = chronological_split(filled, train=1 / 3, val=1 / 3)
    return detectors.make("zscore", window=60).fit(train[sensors]).predict(test[sensors])


ENTRIES = [
    # Q1: point precision, recall and F1 written from the counts
    Entry(nb02, 1, "wrong", "library call", lambda: {"my_point_metrics": _metrics_library}, ("write it yourself",)),
    Entry(nb02, 1, "wrong", "precision and recall swapped", lambda: {"my_point_metrics": _metrics_swapped},
          ("swapped",)),
    Entry(nb02, 1, "wrong", "arithmetic mean for F1", lambda: {"my_point_metrics": _metrics_arithmetic_mean},
          ("harmonic",)),
    Entry(nb02, 1, "wrong", "nan without alarms", lambda: {"my_point_metrics": _metrics_zero_division},
          ("no alarm",)),
    Entry(nb02, 1, "wrong", "normal as the positive class", lambda: {"my_point_metrics": _metrics_normal_class},
          ("positive class",)),
    Entry(nb02, 1, "right", "means over alarms and anomalies", lambda: {"my_point_metrics": _metrics_by_means}),
    # Q2: F1 of flagging everything
    Entry(nb02, 2, "wrong", "precision", lambda: {"f1_flag_all": 0.35}, ("precision",)),
    Entry(nb02, 2, "wrong", "factor 2 missing", lambda: {"f1_flag_all": 0.35 / 1.35}, ("factor 2",)),
    Entry(nb02, 2, "right", "two decimals", lambda: {"f1_flag_all": 0.52}),
    # Q3: a threshold from validation scores only
    Entry(nb02, 3, "leak", "percentile of the test scores",
          lambda: {"honest_threshold": lambda v, t: np.percentile(t, 99.5)}, ("leakage",)),
    Entry(nb02, 3, "leak", "typed-in number", lambda: {"honest_threshold": (
        lambda x: (lambda v, t: x))(float(np.percentile(_val(), 99.5)))}, ("typed in",)),
    Entry(nb02, 3, "wrong", "99th percentile",
          lambda: {"honest_threshold": lambda v, t: np.percentile(v, 99)}, ("99th percentile",)),
    Entry(nb02, 3, "right", "order statistic",
          lambda: {"honest_threshold": lambda v, t: np.sort(v)[int(0.995 * len(v))]}),
    Entry(nb02, 3, "right", "nearest rank", lambda: {"honest_threshold": lambda v, t: np.percentile(
        v, 99.5, method="nearest")}),
    # Q4: events, event recall and false alarms per day
    Entry(nb02, 4, "wrong", "library call", lambda: {"event_report": _events_library}, ("write it yourself",)),
    Entry(nb02, 4, "wrong", "alarm samples instead of ranges", lambda: {"event_report": _events_false_samples},
          ("samples",)),
    Entry(nb02, 4, "wrong", "every alarm range counted", lambda: {"event_report": _events_all_ranges},
          ("only the ranges that touch no event",)),
    Entry(nb02, 4, "wrong", "runs at the ends lost", lambda: {"event_report": _events_no_padding},
          ("first sample or ends at the last",)),
    Entry(nb02, 4, "right", "groupby and a per-sample divide", lambda: {"event_report": _events_itertools}),
    # Q5: point adjustment
    Entry(nb02, 5, "wrong", "library call", lambda: {"my_point_adjust": _adjust_library}, ("write it yourself",)),
    Entry(nb02, 5, "wrong", "alarms unchanged", lambda: {"my_point_adjust": lambda y, p: np.asarray(p, bool)},
          ("unchanged",)),
    Entry(nb02, 5, "wrong", "alarms outside events dropped", lambda: {"my_point_adjust": lambda y, p: np.asarray(
        y, bool) & (np.asarray(p, bool) | _adjust_with_cumsum(y, p))}, ("outside",)),
    Entry(nb02, 5, "right", "event ids from a cumulative sum", lambda: {"my_point_adjust": _adjust_with_cumsum}),
    # Q6: the end-to-end pipeline
    Entry(nb02, 6, "leak", "threshold from the test scores", lambda: {"honest_pipeline": _pipeline(
        threshold_from="test")}, ("leakage",)),
    Entry(nb02, 6, "leak", "threshold tuned on the test labels", lambda: {"honest_pipeline": _pipeline(tune=True)},
          ("leakage",)),
    Entry(nb02, 6, "leak", "interpolation reads after the gap", lambda: {"honest_pipeline": _pipeline(
        fill="interpolate")}, ("look-ahead",)),
    Entry(nb02, 6, "leak", "centred window", lambda: {"honest_pipeline": _pipeline(centred=True)},
          ("look-ahead",)),
    Entry(nb02, 6, "leak", "fitted on all the data", lambda: {"honest_pipeline": _pipeline(fit_on="all")},
          ("leakage",)),
    Entry(nb02, 6, "wrong", "threshold from the training scores", lambda: {"honest_pipeline": _pipeline(
        threshold_from="train")}, ("*validation* third",)),
    Entry(nb02, 6, "leak", "shuffled split", lambda: {"honest_pipeline": _pipeline_shuffled_split},
          ("leakage",)),
    Entry(nb02, 6, "right", "own pandas z-score", lambda: {"honest_pipeline": _pipeline(own_zscore=True)}),
    # second round (the answers the first catalogue missed, and more unconventional right ones)
    Entry(nb02, 1, "wrong", "scikit-learn fbeta_score", lambda: {"my_point_metrics": _metrics_fbeta},
          ("write it yourself",)),
    Entry(nb02, 1, "wrong", "scikit-learn classification_report", lambda: {"my_point_metrics": _metrics_report},
          ("write it yourself",)),
    Entry(nb02, 1, "right", "float32 array", lambda: {"my_point_metrics": _metrics_float32_array}),
    Entry(nb02, 2, "right", "exact fraction 14/27", lambda: {"f1_flag_all": 14 / 27}),
    Entry(nb02, 2, "wrong", "a percentage", lambda: {"f1_flag_all": 51.85}, ("0.5185",)),
    Entry(nb02, 3, "leak", "the smaller of the validation and test percentiles", lambda: {
        "honest_threshold": lambda v, t: min(np.percentile(v, 99.5), np.percentile(t, 99.5))}, ("leakage",)),
    Entry(nb02, 3, "leak", "capped by the largest test score", lambda: {
        "honest_threshold": lambda v, t: min(np.percentile(v, 99.5), np.max(t))}, ("leakage",)),
    Entry(nb02, 3, "right", "pandas quantile", lambda: {
        "honest_threshold": lambda v, t: __import__("pandas").Series(v).quantile(0.995)}),
    Entry(nb02, 4, "wrong", "event end off by one", lambda: {"event_report": _events_end_off_by_one},
          ("first or last sample",)),
    Entry(nb02, 4, "right", "pandas run ids and float32", lambda: {"event_report": _events_pandas}),
    Entry(nb02, 6, "wrong", "window of 61 samples", lambda: {"honest_pipeline": _pipeline_window(61)},
          ("window=60",)),
    Entry(nb02, 6, "wrong", "window of 59 samples", lambda: {"honest_pipeline": _pipeline_window(59)},
          ("window=60",)),
    Entry(nb02, 6, "leak", "fitted on train and validation", lambda: {
        "honest_pipeline": _pipeline_fit_on_two_thirds}, ("first third only",)),
    Entry(nb02, 3, "wrong", "the notebook's variable instead of the argument", lambda: {
        "honest_threshold": (lambda fixed: (lambda v, t: np.percentile(fixed, 99.5)))(_val())},
        ("`val_scores` argument",)),
    Entry(nb02, 5, "wrong", "flagged from the first alarm on", lambda: {"my_point_adjust": _adjust_from_first_alarm},
          ("differs from point adjustment",)),
    Entry(nb02, 5, "right", "pandas groupby, a list", lambda: {"my_point_adjust": _adjust_pandas_list}),
    Entry(nb02, 6, "wrong", "the notebook's pump, whatever the data", lambda: {
        "honest_pipeline": _pipeline_on_notebook_data}, ("not the task's",)),
    Entry(nb02, 4, "right", "scipy ndimage.label", lambda: {"event_report": _events_scipy_label}),
    Entry(nb02, 6, "wrong", "fit's default threshold, no validation", lambda: {
        "honest_pipeline": _pipeline_default_threshold}, ("validation third",)),
    Entry(nb02, 6, "right", "calibrate and predict, a pandas Series", lambda: {
        "honest_pipeline": _pipeline_calibrate_series}),
]
