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
    det.set_threshold(float(np.sort(det.score(val_X))[int(np.ceil(0.995 * len(val_X))) - 1]))
    return float(np.mean(det.score(test_X) > det.threshold_))


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


def _q2_values(fn):
    ns = nb03._context()
    return {"missed_types": fn, **{k: ns[k] for k in ("test", "test_events", "zscore_alarms")}}


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
]
