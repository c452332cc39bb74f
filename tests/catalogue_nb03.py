"""Red-team catalogue of exercises 03 (issue 26 §4): named wrong answers, leaks and unconventional right answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from catalogue import Entry

from sadlib.course.exercises import nb03


# --------------------------------------------------------------------------- Q1: rolling z-score
def _rz_loop(x, window):
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    for t in range(window, len(x)):
        past = x[t - window:t]
        out[t] = abs(x[t] - past.mean()) / past.std(ddof=1)
    return out


def _rz_cumsum(x, window):
    x = np.asarray(x, dtype=float)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    t = np.arange(window, len(x))
    s1, s2 = c1[t] - c1[t - window], c2[t] - c2[t - window]
    mean = s1 / window
    var = (s2 - window * mean ** 2) / (window - 1)
    out = np.full(len(x), np.nan)
    out[t] = np.abs(x[t] - mean) / np.sqrt(var)
    return out


def _rz_includes_t(x, window):
    s = pd.Series(np.asarray(x, dtype=float))
    r = s.rolling(window)
    out = ((s - r.mean()) / r.std()).abs().to_numpy().copy()
    out[:window] = np.nan
    return out


def _rz_centred(x, window):
    s = pd.Series(np.asarray(x, dtype=float))
    r = s.rolling(window, center=True)
    out = ((s - r.mean()) / r.std()).abs().to_numpy().copy()
    out[:window] = np.nan
    return out


def _rz_library(x, window):
    from sadlib import detectors

    frame = pd.DataFrame({"x": np.asarray(x, dtype=float)})
    det = detectors.make("zscore", window=window).fit(frame)
    out = np.array(det.score(frame), dtype=float)
    out[:window] = np.nan
    return out


def _rz_ddof0(x, window):
    s = pd.Series(np.asarray(x, dtype=float))
    r = s.rolling(window)
    return ((s - r.mean().shift(1)) / r.std(ddof=0).shift(1)).abs().to_numpy()


# --------------------------------------------------------------------------- Q2: missed types
def _mt_end_exclusive(index, events, alarms):
    missed = set(events["type"])
    for _, ev in events.iterrows():
        if np.asarray(alarms)[(index >= ev["start"]) & (index < ev["end"])].any():
            missed.discard(ev["type"])
    return missed


def _mt_any_missed(index, events, alarms):
    out = set()
    for _, ev in events.iterrows():
        if not np.asarray(alarms)[(index >= ev["start"]) & (index <= ev["end"])].any():
            out.add(ev["type"])
    return out


def _mt_groupby(index, events, alarms):
    hits = pd.Series(np.asarray(alarms, dtype=bool), index=index)
    caught = events.assign(hit=[bool(hits.loc[s:e].any()) for s, e in zip(events["start"], events["end"])])
    per_type = caught.groupby("type")["hit"].any()
    return set(per_type.index[~per_type.to_numpy()])


# --------------------------------------------------------------------------- Q3: EWMA chart
def _ewma_lfilter(x, lam, mean, std):
    from scipy.signal import lfilter

    u = (np.asarray(x, dtype=float) - mean) / std
    return np.abs(lfilter([lam], [1.0, lam - 1.0], u)) / np.sqrt(lam / (2 - lam))


def _ewma_pandas_adjust_false(x, lam, mean, std):
    u = (np.asarray(x, dtype=float) - mean) / std
    z = pd.Series(u).ewm(alpha=lam, adjust=False).mean().to_numpy()  # starts at u_0, not at 0
    return np.abs(z) / np.sqrt(lam / (2 - lam))


def _ewma_own_standardisation(x, lam, mean, std):
    x = np.asarray(x, dtype=float)
    return _ewma_lfilter(x, lam, x.mean(), x.std())  # the series' own mean and std: reads the future


def _ewma_library(x, lam, mean, std):
    from sadlib import detectors

    frame = pd.DataFrame({"x": np.asarray(x, dtype=float)})
    det = detectors.make("ewma", lam=lam).fit(frame)
    det.mean_, det.scale_ = np.array([mean]), np.array([std])
    return det.score(frame)


def _ewma_no_factor(x, lam, mean, std):
    return _ewma_lfilter(x, lam, mean, std) * np.sqrt(lam / (2 - lam))


# --------------------------------------------------------------------------- Q4: robust z-score end to end
def _robust(fit_rows, calib, q=99.9, scale_const=1.4826, use="train"):
    def answer(train_X, val_X, test_X):
        tr, va, te = (np.asarray(a, dtype=float) for a in (train_X, val_X, test_X))
        fit = {"train": tr, "all": np.vstack([tr, va, te]), "train+val": np.vstack([tr, va])}[fit_rows]
        med = np.median(fit, axis=0)
        scale = scale_const * np.median(np.abs(fit - med), axis=0)

        def score(X):
            return np.max(np.abs(X - med) / scale, axis=1)
        threshold = np.percentile(score({"val": va, "test": te, "train": tr}[calib]), q)
        return score(te) > threshold
    return answer


def _robust_pandas(train_X, val_X, test_X):
    med = train_X.median()
    scale = (train_X - med).abs().median() * 1.4826
    score = lambda X: ((X - med).abs() / scale).max(axis=1)  # noqa: E731
    return (score(test_X) > score(val_X).quantile(0.999, interpolation="higher")).to_numpy()


def _robust_library(train_X, val_X, test_X):
    from sadlib import detectors

    det = detectors.make("robust_z", window=None).fit(train_X)
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99.9}))
    return det.predict(test_X)


def _robust_mean_std(train_X, val_X, test_X):
    mu, sd = train_X.mean(), train_X.std(ddof=0)
    score = lambda X: ((X - mu).abs() / sd).max(axis=1)  # noqa: E731
    return (score(test_X) > np.percentile(score(val_X), 99.9)).to_numpy()


# --------------------------------------------------------------------------- Q5: recalibrate
def _recal(source):
    def recalibrate(det, val_X, test_X):
        X = {"val": val_X, "test": test_X}[source]
        det.calibrate(det.score(X), threshold=("percentile", {"q": 99.5}))
        return det.predict(test_X).mean()
    return recalibrate


def _recal_refit(det, val_X, test_X):
    det.fit(val_X)
    return _recal("val")(det, val_X, test_X)


def _recal_by_hand(det, val_X, test_X):
    scored = np.sort(det.score(val_X))
    scored = scored[~np.isnan(scored)]  # the first window - 1 rows have no score
    det.set_threshold(float(scored[int(np.ceil(0.995 * len(scored))) - 1]))
    return float(np.mean(det.score(test_X) > det.threshold_))


def _robust_validation_max(train_X, val_X, test_X):
    tr = np.asarray(train_X, dtype=float)
    med = np.median(tr, axis=0)
    scale = 1.4826 * np.median(np.abs(tr - med), axis=0)

    def score(X):
        return np.max(np.abs(np.asarray(X, dtype=float) - med) / scale, axis=1)

    return score(test_X) > score(val_X).max()  # "no normal sample may alarm"


def _robust_pandas_ge(train_X, val_X, test_X):
    med = train_X.median()
    scale = 1.4826 * (train_X - med).abs().median()

    def score(X):
        return ((X - med).abs() / scale).max(axis=1)

    return score(test_X) >= score(val_X).quantile(0.999)


def _recal_scored_only(det, val_X, test_X):
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99.5}))
    scores = det.score(test_X)
    return float(np.mean(scores[~np.isnan(scores)] > det.threshold_))


def _q5_values(fn):
    ns = nb03._context()
    return {"recalibrate": fn, **{k: ns[k] for k in ("det", "val", "test", "sensors")}}


# --------------------------------------------------------------------------- Q6: contamination
def _q6_values(fit_on, count="outlier", method="predict"):
    from sklearn.ensemble import IsolationForest

    ns = nb03._context()
    train, val, sensors = ns["train"], ns["val"], ns["sensors"]
    rows = {"train": train[sensors], "train+val": pd.concat([train, val])[sensors]}[fit_on]
    forest = IsolationForest(contamination=0.1, random_state=0).fit(rows)

    def share(X):
        if method == "decision":
            return float(np.mean(forest.decision_function(X) < 0))
        return float(np.mean(forest.predict(X) == (-1 if count == "outlier" else 1)))
    return {"flagged_share": share(train[sensors]), "val_share": share(val[sensors]),
            **{k: ns[k] for k in ("train", "val", "sensors")}}


def _q6_forest_values(seed=0, val_count=-1):
    """Shares of a forest with ``random_state=seed``; ``val_count=1``: the validation inliers counted."""
    from sklearn.ensemble import IsolationForest

    ns = nb03._context()
    train, val, sensors = ns["train"], ns["val"], ns["sensors"]
    forest = IsolationForest(contamination=0.1, random_state=seed).fit(train[sensors])
    return {"flagged_share": float(np.mean(forest.predict(train[sensors]) == -1)),
            "val_share": float(np.mean(forest.predict(val[sensors]) == val_count)),
            **{k: ns[k] for k in ("train", "val", "sensors")}}


def _q2_values(fn):
    ns = nb03._context()
    return {"missed_types": fn, **{k: ns[k] for k in ("test", "test_events", "zscore_alarms")}}



# --------------------------------------------------------------------------- red team, second round (review r03)
def _rz_one_short(x, window):
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    for t in range(window, len(x)):
        past = x[t - window + 1:t]  # window - 1 samples
        out[t] = abs(x[t] - past.mean()) / past.std(ddof=1)
    return out


def _rz_skips_previous(x, window):
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    for t in range(window + 1, len(x)):
        past = x[t - window - 1:t - 1]  # stops at x_(t-2)
        out[t] = abs(x[t] - past.mean()) / past.std(ddof=1)
    return out


def _rz_backfilled(x, window):
    s = pd.Series(np.asarray(x, dtype=float))
    r = s.rolling(window)
    return ((s - r.mean().shift(1)) / r.std().shift(1)).abs().bfill().to_numpy()  # the head reads the future


def _rz_registry(x, window):
    from sadlib import detectors

    frame = pd.DataFrame({"x": np.asarray(x, dtype=float)})
    det = detectors.REGISTRY["zscore"](window=window).fit(frame)
    out = np.array(det.score(frame), dtype=float)
    out[:window] = np.nan
    return out


def _rz_float32(x, window):
    x = np.asarray(x, dtype=np.float32)
    out = np.full(len(x), np.nan, dtype=np.float32)
    for t in range(window, len(x)):
        past = x[t - window:t]
        out[t] = abs(x[t] - past.mean()) / past.std(ddof=1)
    return out


def _rz_statistics_lists(x, window):
    import statistics

    x = [float(v) for v in x]
    return [float("nan") if t < window else
            abs(x[t] - statistics.mean(x[t - window:t])) / statistics.stdev(x[t - window:t]) for t in range(len(x))]


def _rz_closed_left(x, window):
    s = pd.Series(x)
    r = s.rolling(window, closed="left")  # the window ends just before t
    return (s - r.mean()).abs() / r.std()


def _mt_start_exclusive(index, events, alarms):
    missed = set(events["type"])
    for _, ev in events.iterrows():
        if np.asarray(alarms)[(index > ev["start"]) & (index <= ev["end"])].any():
            missed.discard(ev["type"])
    return missed


def _q2_typed_in():
    ns = nb03._context()
    typed = nb03._missed_types(ns["test"].index, ns["test_events"], ns["zscore_alarms"])  # the notebook's answer
    return _q2_values(lambda index, events, alarms: set(typed))


def _mt_searchsorted_list(index, events, alarms):
    a, out = [bool(v) for v in alarms], []
    for kind in sorted(set(events["type"])):
        rows = events[events["type"] == kind]
        hit = any(any(a[index.searchsorted(s, "left"):index.searchsorted(e, "right")])
                  for s, e in zip(rows["start"], rows["end"]))
        if not hit:
            out.append(kind)
    return out


def _ewma_pandas_default(x, lam, mean, std):
    u = (np.asarray(x, dtype=float) - mean) / std
    return np.abs(pd.Series(u).ewm(alpha=lam).mean().to_numpy()) / np.sqrt(lam / (2 - lam))


def _ewma_lagged(x, lam, mean, std):
    u = (np.asarray(x, dtype=float) - mean) / std
    z, out = 0.0, np.empty(len(u))
    for t, value in enumerate(u):
        out[t] = z  # stored before the update
        z = lam * value + (1 - lam) * z
    return np.abs(out) / np.sqrt(lam / (2 - lam))


def _ewma_float32_list(x, lam, mean, std):
    u = ((np.asarray(x, dtype=np.float32) - mean) / std).astype(np.float32)
    z, out = np.float32(0), []
    for value in u:
        z = np.float32(lam) * value + np.float32(1 - lam) * z
        out.append(abs(float(z)) / (lam / (2 - lam)) ** 0.5)
    return out


def _ewma_pandas_leading_zero(x, lam, mean, std):
    u = (pd.Series(x, dtype=float) - mean) / std
    z = pd.concat([pd.Series([0.0]), u], ignore_index=True).ewm(alpha=lam, adjust=False).mean().iloc[1:]
    return z.abs() / np.sqrt(lam / (2 - lam))


def _ewma_weight_matrix(x, lam, mean, std):
    u = (np.asarray(x, dtype=float) - mean) / std
    lags = np.subtract.outer(np.arange(len(u)), np.arange(len(u)))
    weights = np.where(lags >= 0, lam * (1 - lam) ** np.clip(lags, 0, None), 0.0)
    return np.abs(weights @ u) / np.sqrt(lam / (2 - lam))


def _robust_fit_on_validation(train_X, val_X, test_X):
    va, te = np.asarray(val_X, dtype=float), np.asarray(test_X, dtype=float)
    med = np.median(va, axis=0)
    scale = 1.4826 * np.median(np.abs(va - med), axis=0)
    score = lambda X: np.max(np.abs(X - med) / scale, axis=1)  # noqa: E731
    return score(te) > np.percentile(score(va), 99.9)


def _robust_threshold_val_and_test(train_X, val_X, test_X):
    tr, va, te = (np.asarray(a, dtype=float) for a in (train_X, val_X, test_X))
    med = np.median(tr, axis=0)
    scale = 1.4826 * np.median(np.abs(tr - med), axis=0)
    score = lambda X: np.max(np.abs(X - med) / scale, axis=1)  # noqa: E731
    return score(te) > np.percentile(np.concatenate([score(va), score(te)]), 99.9)


def _robust_typed_threshold():
    ns = nb03._context()
    tr, va = (ns[part][ns["sensors"]].to_numpy() for part in ("train", "val"))
    med = np.median(tr, axis=0)
    scale = 1.4826 * np.median(np.abs(tr - med), axis=0)
    typed = float(np.percentile(np.max(np.abs(va - med) / scale, axis=1), 99.9))  # the notebook's threshold

    def robust_alarms(train_X, val_X, test_X):
        t = np.asarray(train_X, dtype=float)
        m = np.median(t, axis=0)
        s = 1.4826 * np.median(np.abs(t - m), axis=0)
        return np.max(np.abs(np.asarray(test_X, dtype=float) - m) / s, axis=1) > typed
    return {"robust_alarms": robust_alarms}


def _robust_registry(train_X, val_X, test_X):
    from sadlib import detectors

    det = detectors.REGISTRY["robust_z"](window=None, calibration=0).fit(train_X)
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99.9}))
    return det.predict(test_X)


def _robust_scipy_nearest(train_X, val_X, test_X):
    from scipy.stats import median_abs_deviation

    tr = np.asarray(train_X, dtype=float)
    med, scale = np.median(tr, axis=0), median_abs_deviation(tr, axis=0, scale="normal")
    score = lambda X: np.max(np.abs(np.asarray(X, dtype=float) - med) / scale, axis=1)  # noqa: E731
    return list(score(test_X) >= np.quantile(score(val_X), 0.999, method="nearest"))


def _robust_float32(train_X, val_X, test_X):
    tr, va, te = (np.asarray(a, dtype=np.float32) for a in (train_X, val_X, test_X))
    med = np.median(tr, axis=0)
    scale = np.float32(1.4826) * np.median(np.abs(tr - med), axis=0)
    score = lambda X: np.max(np.abs(X - med) / scale, axis=1)  # noqa: E731
    return score(te) > np.percentile(score(va), 99.9)


def _recal_refit_on_training(det, val_X, test_X):
    ns = nb03._context()
    det.fit(ns["train"][ns["sensors"]])  # the same model again, but the task says without refitting
    return _recal("val")(det, val_X, test_X)


def _recal_val_and_test(det, val_X, test_X):
    det.calibrate(np.concatenate([det.score(val_X), det.score(test_X)]), threshold=("percentile", {"q": 99.5}))
    return det.predict(test_X).mean()


def _recal_count(det, val_X, test_X):
    det.calibrate(det.score(val_X), threshold=("percentile", {"q": 99.5}))
    return int(det.predict(test_X).sum())


def _recal_attribute_float32(det, val_X, test_X):
    det.threshold_ = float(np.nanquantile(det.score(val_X), 0.995))
    return np.float32(np.mean(det.score(test_X) > det.threshold_))


def _recal_nan_percentile(det, val_X, test_X):
    det.threshold_ = float(np.quantile(det.score(val_X), 0.995))  # NaN: the unscored first rows taken in
    return float(np.mean(det.score(test_X) > det.threshold_))


def _q6_typed(significant=3):
    values = _q6_values("train")
    return {**values, "flagged_share": 0.1, "val_share": float(f"{values['val_share']:.{significant}g}")}


def _q6_val_share_on_test():
    from sklearn.ensemble import IsolationForest

    values = _q6_values("train")
    ns = nb03._context()
    forest = IsolationForest(contamination=0.1, random_state=0).fit(ns["train"][ns["sensors"]])
    return {**values, "val_share": float(np.mean(forest.predict(ns["test"][ns["sensors"]]) == -1))}


ENTRIES = [
    # Q1: the rolling z-score on the past only
    Entry(nb03, 1, "leak", "centred window", lambda: {"rolling_z": _rz_centred}, ("look-ahead", "leakage")),
    Entry(nb03, 1, "wrong", "window includes t", lambda: {"rolling_z": _rz_includes_t}, ("includes x_t",)),
    Entry(nb03, 1, "wrong", "population std", lambda: {"rolling_z": _rz_ddof0}, ("ddof=1",)),
    Entry(nb03, 1, "wrong", "library detector", lambda: {"rolling_z": _rz_library}, ("write it yourself",)),
    Entry(nb03, 1, "right", "cumulative sums", lambda: {"rolling_z": _rz_cumsum}),
    Entry(nb03, 1, "right", "loop", lambda: {"rolling_z": _rz_loop}),
    # Q2: types none of whose events has an alarm
    Entry(nb03, 2, "wrong", "end-exclusive event window", lambda: _q2_values(_mt_end_exclusive), ("last* sample",)),
    Entry(nb03, 2, "wrong", "a type with any missed event", lambda: _q2_values(_mt_any_missed), ("*none* of its",)),
    Entry(nb03, 2, "wrong", "one string", lambda: _q2_values(lambda i, e, a: "stuck"), ("not one string",)),
    Entry(nb03, 2, "right", "label slicing and groupby", lambda: _q2_values(_mt_groupby)),
    # Q3: the EWMA chart
    Entry(nb03, 3, "leak", "standardised with the series' own mean and std",
          lambda: {"ewma_chart": _ewma_own_standardisation}, ("look-ahead", "leakage")),
    Entry(nb03, 3, "wrong", "pandas ewm starting at the first value",
          lambda: {"ewma_chart": _ewma_pandas_adjust_false}, ("z = 0",)),
    Entry(nb03, 3, "wrong", "no in-control factor", lambda: {"ewma_chart": _ewma_no_factor},
          ("sqrt(lam / (2 - lam))",)),
    Entry(nb03, 3, "wrong", "library detector", lambda: {"ewma_chart": _ewma_library}, ("write it yourself",)),
    Entry(nb03, 3, "right", "scipy lfilter", lambda: {"ewma_chart": _ewma_lfilter}),
    # Q4: robust z-score, end to end
    Entry(nb03, 4, "leak", "threshold from the test scores", lambda: {"robust_alarms": _robust("train", "test")},
          ("leakage",)),
    Entry(nb03, 4, "leak", "median and MAD of all the data", lambda: {"robust_alarms": _robust("all", "val")},
          ("leakage",)),
    Entry(nb03, 4, "wrong", "threshold from the training scores", lambda: {"robust_alarms": _robust("train", "train")},
          ("*validation* scores",)),
    Entry(nb03, 4, "wrong", "mean and standard deviation", lambda: {"robust_alarms": _robust_mean_std},
          ("median",)),
    Entry(nb03, 4, "wrong", "library detector", lambda: {"robust_alarms": _robust_library}, ("write it yourself",)),
    Entry(nb03, 4, "right", "pandas with the higher quantile", lambda: {"robust_alarms": _robust_pandas}),
    Entry(nb03, 4, "right", "MAD without the Gaussian constant",
          lambda: {"robust_alarms": _robust("train", "val", scale_const=1.0)}),
    # Q5: recalibrate without refitting
    Entry(nb03, 5, "leak", "calibrated on the test scores", lambda: _q5_values(_recal("test")), ("leakage",)),
    Entry(nb03, 5, "wrong", "refitted on validation", lambda: _q5_values(_recal_refit), ("fitted again",)),
    Entry(nb03, 5, "right", "order statistic by hand", lambda: _q5_values(_recal_by_hand)),
    # Q6: contamination
    Entry(nb03, 6, "leak", "forest fitted on training and validation", lambda: _q6_values("train+val"),
          ("validation samples",)),
    Entry(nb03, 6, "wrong", "inliers counted", lambda: _q6_values("train", count="inlier"),
          ("training samples flagged",)),
    Entry(nb03, 6, "right", "negative decision function", lambda: _q6_values("train", method="decision")),
    # second round (review r03): off-by-one windows, look-ups, registries, typed-in values, float32 and lists
    Entry(nb03, 1, "wrong", "window one sample short", lambda: {"rolling_z": _rz_one_short}, ("off by one",)),
    Entry(nb03, 1, "wrong", "window skips the previous sample", lambda: {"rolling_z": _rz_skips_previous},
          ("off by one",)),
    Entry(nb03, 1, "leak", "backward-filled head", lambda: {"rolling_z": _rz_backfilled}, ("should be NaN",)),
    Entry(nb03, 1, "wrong", "library detector from the registry", lambda: {"rolling_z": _rz_registry},
          ("write it yourself",)),
    Entry(nb03, 1, "right", "float32 loop", lambda: {"rolling_z": _rz_float32}),
    Entry(nb03, 1, "right", "statistics module on lists", lambda: {"rolling_z": _rz_statistics_lists}),
    Entry(nb03, 1, "right", "pandas rolling closed left", lambda: {"rolling_z": _rz_closed_left}),
    Entry(nb03, 2, "wrong", "start-exclusive event window", lambda: _q2_values(_mt_start_exclusive),
          ("first* sample",)),
    Entry(nb03, 2, "wrong", "the notebook's set typed in", _q2_typed_in, ("build the set",)),
    Entry(nb03, 2, "right", "sorted list with searchsorted", lambda: _q2_values(_mt_searchsorted_list)),
    Entry(nb03, 3, "wrong", "pandas ewm with its default adjust", lambda: {"ewma_chart": _ewma_pandas_default},
          ("adjust=True",)),
    Entry(nb03, 3, "wrong", "chart stored before the update", lambda: {"ewma_chart": _ewma_lagged}, ("off by one",)),
    Entry(nb03, 3, "right", "float32 into a list", lambda: {"ewma_chart": _ewma_float32_list}),
    Entry(nb03, 3, "right", "pandas adjust=False after a leading zero",
          lambda: {"ewma_chart": _ewma_pandas_leading_zero}),
    Entry(nb03, 3, "right", "weight matrix", lambda: {"ewma_chart": _ewma_weight_matrix}),
    Entry(nb03, 4, "wrong", "median and MAD fitted on validation", lambda: {"robust_alarms": _robust_fit_on_validation},
          ("fitted the median and MAD on `val_X`",)),
    Entry(nb03, 4, "wrong", "99th percentile", lambda: {"robust_alarms": _robust("train", "val", q=99)},
          ("99.9th",)),
    Entry(nb03, 4, "leak", "threshold from validation and test scores",
          lambda: {"robust_alarms": _robust_threshold_val_and_test}, ("leakage",)),
    Entry(nb03, 4, "wrong", "the notebook's threshold typed in", _robust_typed_threshold,
          ("pump twin you have not seen",)),
    Entry(nb03, 4, "wrong", "library detector from the registry", lambda: {"robust_alarms": _robust_registry},
          ("write it yourself",)),
    Entry(nb03, 4, "right", "scipy MAD, nearest rank and a list", lambda: {"robust_alarms": _robust_scipy_nearest}),
    Entry(nb03, 4, "right", "float32", lambda: {"robust_alarms": _robust_float32}),
    Entry(nb03, 5, "wrong", "refitted on the training week", lambda: _q5_values(_recal_refit_on_training),
          ("without refitting",)),
    Entry(nb03, 5, "leak", "calibrated on validation and test scores", lambda: _q5_values(_recal_val_and_test),
          ("leakage",)),
    Entry(nb03, 5, "wrong", "a count, not a share", lambda: _q5_values(_recal_count), ("share is a fraction",)),
    Entry(nb03, 5, "right", "threshold attribute and a float32 share", lambda: _q5_values(_recal_attribute_float32)),
    Entry(nb03, 5, "wrong", "percentile over the unscored NaN rows", lambda: _q5_values(_recal_nan_percentile),
          ("NaN",)),
    Entry(nb03, 6, "wrong", "validation share taken on the test week", _q6_val_share_on_test,
          ("share of validation samples flagged",)),
    Entry(nb03, 6, "right", "shares typed in to three significant figures", _q6_typed),
    # red team of 7 December 2026 (issue 26 §4 follow-up)
    Entry(nb03, 4, "wrong", "the largest validation score", lambda: {"robust_alarms": _robust_validation_max},
          ("largest validation score",)),
    Entry(nb03, 4, "right", "at or above the threshold, pandas throughout",
          lambda: {"robust_alarms": _robust_pandas_ge}),
    Entry(nb03, 5, "wrong", "share of the scored samples only", lambda: _q5_values(_recal_scored_only),
          ("only the", "all")),
    Entry(nb03, 6, "wrong", "validation inliers counted", lambda: _q6_forest_values(val_count=1), ("*inliers*",)),
    Entry(nb03, 6, "wrong", "another random_state", lambda: _q6_forest_values(seed=1), ("random_state=0",)),
]
