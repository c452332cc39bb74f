"""The course's alarm policy on NAB: event recall, range-based event precision and false alarms per day.

    python benchmarks/nab_alarm_policy.py scores     # fit and cache every detector (NAB realKnownCause, SKAB)
    python benchmarks/nab_alarm_policy.py evaluate   # candidates, choice, checks -> benchmarks/nab_policy.csv

Issue 12's goal: with the course's alarm policy, at least two course detectors reach an
event recall >= 0.8, at most 1 false alarm per day and a range-based event precision
>= 0.4 on ``realKnownCause/machine_temperature_system_failure`` (:data:`GOAL`), and the
policy carries over to series it was not chosen on.

Protocol ``nab`` as in ``python -m sadlib.bench --dataset nab``: a fresh detector
(``sadlib.detectors.make(name)`` with its defaults) is fitted on the first
``sadlib.bench.nab_train_rows(n)`` rows of the ``value`` column of one series and scores
the rest. The stage ``scores`` keeps, per detector and series, the held-out normal
``calibration_scores_`` of the fit, the test scores and the detector's own alarms, in a
cache outside the repository (``--cache``, default ``/work/cache/nab_scores``; one
``.npz`` per detector and series, reused when present), and the same for SKAB through
``sadlib.bench.run_skab(keep_scores=True)`` (one pickle per detector).

The stage ``evaluate`` fits every candidate policy (:func:`candidates`, 702
:class:`sadlib.alarms.AlarmPolicy` settings) on the calibration scores only (normal
training rows, never test rows or labels) and measures on the test rows the event recall
and range-based event precision (:func:`sadlib.metrics.event_metrics`) and the false alarms
per day (:func:`sadlib.metrics.false_alarms_per_day`, standing alarms counted again every
hour), as ``sadlib.bench.run_nab`` does. The policy is chosen by :func:`choose` on
``machine_temperature_system_failure`` alone and applied unchanged to the six other
``realKnownCause`` series and to SKAB (34 files, 1-second rows, protocol ``skab``); the
named policies of :data:`sadlib.alarms.POLICIES` are evaluated next to it. Every CSV row
says whether its series was used for the choice (``tuned_on``) and which policy it used
(``role``: ``none`` = the detector's own threshold, ``chosen``, ``first_rule``, ``POLICIES[...]``).

``first_rule``: the first version of :func:`choose` broke ties by the median false alarms per
day alone; its winner silences zscore and iforest on the tuning series (no alarm at all),
so the tie-break "most detectors keeping event recall >= 0.8" was added, after the first
rule's check-series numbers had been seen. Both are reported.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from sadlib import bench, datasets, detectors, metrics
from sadlib.alarms import POLICIES, make_policy

CLASSICAL = ["zscore", "robust_z", "ewma", "iforest", "ocsvm", "pca", "ma_z"]
DEEP = ["dense_ae", "lstm_forecast", "lstm_ae", "conv_ae", "cnn_lstm", "attn_lstm", "vqvae"]
TUNE_SERIES = bench.DEFAULT_NAB_FILE
CATEGORY = "realKnownCause"
#: the goal of issue 12 on the tuning series
GOAL = {"event_recall": 0.8, "false_alarms_per_day": 1.0, "event_precision": 0.4}
#: a detector whose fit takes longer than this on one series is left out
MAX_FIT_SECONDS = 180.0
DEFAULT_CACHE = Path("/work/cache/nab_scores")
OUT_CSV = Path(__file__).with_name("nab_policy.csv")


# --------------------------------------------------------------------------- #
# stage 1: scores
# --------------------------------------------------------------------------- #
def check_series() -> list[str]:
    """The series of :data:`CATEGORY` other than the tuning series."""
    return [s for s in datasets.list_nab() if s.startswith(CATEGORY + "/") and s != TUNE_SERIES]


def cache_path(cache: Path, detector: str, series: str) -> Path:
    """Where the scores of one detector on one series are kept."""
    return cache / f"{series.replace('/', '__')}__{detector}.npz"


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Protocol ``nab``: training rows, test rows and the test labels."""
    n_train = bench.nab_train_rows(len(df))
    X = df[["value"]]
    return X.iloc[:n_train], X.iloc[n_train:], df["anomaly"].to_numpy()[n_train:].astype(bool)


def fit_and_score(name: str, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Fit a fresh detector as the benchmark does; keep what policy fitting and evaluation need."""
    det = detectors.make(name)
    t0 = time.perf_counter()
    det.fit(train)
    t1 = time.perf_counter()
    scores = np.asarray(det.score(test), dtype=np.float64)
    if type(det).predict is detectors.Detector.predict:
        own = scores > det.threshold_
    else:  # the detector has its own alarm rule
        own = np.asarray(det.predict(test), dtype=bool)
    t2 = time.perf_counter()
    return {"calibration_scores": np.asarray(det.calibration_scores_, dtype=np.float64),
            "train_scores": np.asarray(det.train_scores_, dtype=np.float64),
            "calibration_index": train.index[len(train) - len(det.calibration_scores_):].asi8,
            "test_scores": scores, "own_alarms": own, "threshold": float(det.threshold_),
            "fit_seconds": t1 - t0, "score_seconds": t2 - t1}


def compute_scores(names: Iterable[str], series: Iterable[str], cache: Path) -> pd.DataFrame:
    """Stage ``scores``: fit every detector on every series (cached); one row of timings per pair.

    A detector whose fit on a series took longer than :data:`MAX_FIT_SECONDS` is not
    fitted on the series after it (its row says ``skipped``).
    """
    cache.mkdir(parents=True, exist_ok=True)
    rows, slow = [], set()
    for s in series:
        df = datasets.load_nab(s)
        train, test, _ = split(df)
        for name in names:
            path = cache_path(cache, name, s)
            if name in slow:
                rows.append({"detector": name, "series": s, "status": "skipped"})
                continue
            if path.exists():
                with np.load(path) as z:
                    fit_s, score_s = float(z["fit_seconds"]), float(z["score_seconds"])
                status = "cached"
            else:
                try:
                    out = fit_and_score(name, train, test)
                except ValueError as exc:  # e.g. pca needs two sensors, NAB has one
                    rows.append({"detector": name, "series": s, "status": f"failed: {exc}"})
                    print(f"{s:55s} {name:14s} failed: {exc}", flush=True)
                    continue
                np.savez(path, **out)
                fit_s, score_s, status = out["fit_seconds"], out["score_seconds"], "fitted"
            if fit_s > MAX_FIT_SECONDS:
                slow.add(name)
            rows.append({"detector": name, "series": s, "status": status, "fit_seconds": fit_s,
                         "score_seconds": score_s})
            print(f"{s:55s} {name:14s} {status:7s} fit {fit_s:7.2f} s  score {score_s:6.2f} s", flush=True)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- #
# stage 2: candidate policies
# --------------------------------------------------------------------------- #
def candidates() -> list[dict[str, Any]]:
    """The candidate AlarmPolicy parameters, every step counted in samples.

    Thresholds are relative to the calibration scores: a percentile, the maximum times
    a margin (meaningful for scores >= 0 only) or ``mean + k std``, which moves with any
    shift and scale of the scores and so means the same for every detector.
    Thresholds are given as dicts, so ``sadlib.alarms.make_policy(policy)`` rebuilds a
    policy from the ``policy`` column of the CSV.
    """
    levels: list[Any] = [{"name": "percentile", "q": q} for q in (99.0, 99.5)]
    levels += [{"name": "max", "margin": m} for m in (1.0, 1.5, 2.0, 3.0)]
    levels += [{"name": "meanstd", "k": k} for k in (3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)]
    out = []
    for threshold in levels:
        for k, n in ((1, 1), (3, 5), (5, 10)):
            for min_duration in (1, 3, 6, 12):
                if min_duration > 1 and n > 1:
                    continue  # persistence is asked once, either as k-of-n or as a run
                for hold in (0, 12, 36):
                    for dead_time in (0, 12, 72):
                        out.append({"threshold": threshold, "k": k, "n": n, "min_duration": min_duration,
                                    "hold": hold, "dead_time": dead_time})
    return out


def policy_json(params: dict[str, Any] | None) -> str:
    """A policy's parameters as one JSON string (``"none"``: the detector's own alarms).

    ``sadlib.alarms.make_policy`` reads it back (``python -m sadlib.bench --alarm-policy``).
    """
    return "none" if params is None else json.dumps(params, sort_keys=True)


def event_row(y: np.ndarray, alarms: np.ndarray, index: pd.DatetimeIndex) -> dict[str, float]:
    """The benchmark's event metrics of one alarm series."""
    ev = metrics.event_metrics(y, alarms)
    return {"event_recall": ev["event_recall"], "event_precision": ev["event_precision"],
            "false_alarms_per_day": metrics.false_alarms_per_day(y, alarms, index=index),
            "n_events": ev["n_events"], "n_alarm_ranges": ev["n_alarm_events"],
            "f1": metrics.point_metrics(y, alarms)["f1"]}


def meets_goal(row: pd.Series | dict) -> bool:
    """Whether a row meets all three goals of :data:`GOAL`."""
    return bool(row["event_recall"] >= GOAL["event_recall"]
                and row["false_alarms_per_day"] <= GOAL["false_alarms_per_day"]
                and row["event_precision"] >= GOAL["event_precision"])


def load_scores(cache: Path, name: str, series: str) -> dict[str, Any] | None:
    """The cached arrays and timings of one detector on one series; None when not cached."""
    path = cache_path(cache, name, series)
    if not path.exists():
        return None
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def evaluate(names: Sequence[str], series: Sequence[str], cache: Path,
             policies: Sequence[dict[str, Any]], *, roles: Sequence[str] | None = None) -> pd.DataFrame:
    """Every detector x series x (no policy + every policy): one row each.

    A policy is fitted on the detector's calibration scores of that series (normal
    training rows; durations would use their timestamps) and applied to its test scores.
    ``roles`` names the policies in the ``role`` column (default ``"candidate"``); the
    detector's own alarms have the role ``"none"``. A policy that cannot be fitted on a detector's
    calibration scores (a ``max`` threshold with a margin above 1 where the largest calibration score is
    negative, which ``sadlib.thresholds.MaxThreshold`` refuses; a DSPOT threshold that finds too few peaks
    to fit its tail) gives no row for that detector and series.
    """
    roles = ["candidate"] * len(policies) if roles is None else list(roles)
    rows = []
    for s in series:
        _, test, y = split(datasets.load_nab(s))
        for name in names:
            z = load_scores(cache, name, s)
            if z is None:
                continue
            cal_index = pd.DatetimeIndex(z["calibration_index"])
            base = {"detector": name, "series": s, "tuned_on": s == TUNE_SERIES,
                    "fit_seconds": float(z["fit_seconds"]), "score_seconds": float(z["score_seconds"])}
            rows.append({**base, "role": "none", "with_policy": False, "policy": policy_json(None),
                         **event_row(y, z["own_alarms"], test.index)})
            for role, params in zip(roles, policies):
                try:
                    policy = make_policy(params).fit(z["calibration_scores"], index=cal_index)
                except ValueError:  # InvalidParameterError, or a DSPOT tail with too few peaks
                    continue
                rows.append({**base, "role": role, "with_policy": True, "policy": policy_json(params),
                             **event_row(y, policy.predict(z["test_scores"]), test.index)})
    out = pd.DataFrame(rows)
    out["meets_goal"] = out.apply(meets_goal, axis=1)
    return out


def choose(table: pd.DataFrame, *, keep_recall: bool = True) -> str:
    """The rule that picks the course's policy from the rows of the tuning series.

    1. the most detectors meeting all three goals of :data:`GOAL`;
    2. ties (``keep_recall=True``): the most detectors keeping an event recall of at
       least ``GOAL["event_recall"]``, so that a policy cannot buy a low false-alarm
       rate by silencing some detectors;
    3. then the lowest median false alarms per day over the detectors;
    4. then the highest median event precision, then the earliest candidate.

    ``keep_recall=False`` leaves step 2 out (the first rule of this study, which
    chose a policy under which zscore and iforest raise no alarm at all on the
    tuning series).
    """
    tune = table[table["tuned_on"] & table["with_policy"]]
    per = tune.groupby("policy", sort=False).agg(
        n_meet=("meets_goal", "sum"), n_recall=("event_recall", lambda r: int((r >= GOAL["event_recall"]).sum())),
        fa=("false_alarms_per_day", "median"), prec=("event_precision", "median"))
    per["pos"] = np.arange(len(per))
    keys = ["n_meet", "n_recall", "fa", "prec", "pos"] if keep_recall else ["n_meet", "fa", "prec", "pos"]
    up = {"n_meet": False, "n_recall": False, "fa": True, "prec": False, "pos": True}
    per = per.sort_values(keys, ascending=[up[k] for k in keys], kind="stable")
    return str(per.index[0])


COLUMNS = ["detector", "series", "tuned_on", "role", "with_policy", "policy", "event_recall", "event_precision",
           "false_alarms_per_day", "n_events", "n_alarm_ranges", "meets_goal", "f1", "fit_seconds", "score_seconds"]


def run(names: Sequence[str], cache: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage ``evaluate``: every candidate on the tuning series, the choice, the check series.

    Returns the table of the candidates on the tuning series and the result table, on
    every series: no policy, the chosen policy, the first rule's policy and, for
    comparison, the named policies of :data:`sadlib.alarms.POLICIES` (not tuned here);
    then the same on SKAB (:func:`skab_rows`) for the detectors whose SKAB scores are cached.
    """
    grid = candidates()
    tune = evaluate(names, [TUNE_SERIES], cache, grid)
    chosen, first = choose(tune), choose(tune, keep_recall=False)
    named = {f"POLICIES[{k!r}]": v for k, v in POLICIES.items() if v is not None}
    specs = {"chosen": json.loads(chosen), "first_rule": json.loads(first), **named}
    result = evaluate(names, [TUNE_SERIES, *check_series()], cache, list(specs.values()), roles=list(specs))
    cached = [n for n in names if (cache / f"skab__{n}.pkl").exists()]
    if cached:
        result = pd.concat([result, skab_rows(skab_scores(cached, cache), specs)], ignore_index=True)
    order = {role: i for i, role in enumerate(["none", *specs])}
    result = result.assign(_o=result["role"].map(order)).sort_values(
        ["tuned_on", "series", "detector", "_o"], ascending=[False, True, True, True], kind="stable")
    return tune, result[COLUMNS].reset_index(drop=True)


def summary(result: pd.DataFrame) -> pd.DataFrame:
    """Per series and role: how many detectors meet the goal and the median of each metric."""
    return result.groupby(["series", "role"], sort=False).agg(
        detectors=("detector", "size"), meet_goal=("meets_goal", "sum"),
        recall_ge_08=("event_recall", lambda r: int((r >= GOAL["event_recall"]).sum())),
        median_recall=("event_recall", "median"), median_precision=("event_precision", "median"),
        median_fa_per_day=("false_alarms_per_day", "median"))


# --------------------------------------------------------------------------- #
# stage 3: the same policies on SKAB
# --------------------------------------------------------------------------- #
def skab_scores(names: Iterable[str], cache: Path) -> dict[str, dict[str, dict]]:
    """Protocol ``skab`` scores of every detector (``bench.run_skab(keep_scores=True)``), cached per detector."""
    out = {}
    for name in names:
        path = cache / f"skab__{name}.pkl"
        if not path.exists():
            res = bench.run_skab([name], keep_scores=True, progress=False)
            kept = {key: dict(fs) for key, fs in res.attrs["scores"][name].items()}
            kept["_seconds"] = {"fit": float(res["fit_seconds"].iloc[0]), "score": float(res["score_seconds"].iloc[0])}
            path.write_bytes(pickle.dumps(kept))
            print(f"SKAB {name:14s} fit {kept['_seconds']['fit']:7.2f} s (34 files)", flush=True)
        out[name] = pickle.loads(path.read_bytes())
    return out


def skab_rows(scores: dict[str, dict[str, dict]], specs: dict[str, Any]) -> pd.DataFrame:
    """Every detector x (no policy + each policy) on SKAB's 34 files, pooled.

    Point ``f1`` pools the test rows of all files (the SKAB protocol); event recall
    pools the events of all files, event precision the alarm episodes of all files
    (each file's episodes kept apart; the mean over episodes, as ``metrics.event_metrics``), false
    alarms per day (standing alarms counted again every hour) the false alarms and the test duration
    of all files.
    """
    rows = []
    for name, files in scores.items():
        seconds = files.get("_seconds", {})
        for role, spec in {"none": None, **specs}.items():
            ys, ps, detected, n_events, share, n_ranges, n_episodes, n_false, days = [], [], 0, 0, 0.0, 0, 0, 0, 0.0
            for key, fs in files.items():
                if key == "_seconds":
                    continue
                y = np.asarray(fs["y"], dtype=bool)
                if spec is None:
                    alarms = np.asarray(fs["alarms"], dtype=bool)
                else:
                    try:
                        policy = make_policy(spec).fit(fs["calibration"], index=fs["calibration_index"])
                    except ValueError:  # cannot be fitted on this file's calibration scores: no pooled row
                        ys = []
                        break
                    alarms = policy.predict(fs["test"])
                ev = metrics.event_metrics(y, alarms)
                detected += ev["n_detected"]
                n_events += ev["n_events"]
                share += ev["event_precision"] * ev["n_alarm_episodes"]
                n_episodes += ev["n_alarm_episodes"]
                n_ranges += ev["n_alarm_events"]
                idx = pd.DatetimeIndex(fs["index"])
                d = (idx[-1] - idx[0] + pd.Series(idx).diff().median()) / pd.Timedelta(days=1)
                n_false += metrics.false_alarms_per_day(y, alarms, index=idx) * d
                days += d
                ys.append(y)
                ps.append(alarms)
            if not ys:
                continue
            pm = metrics.point_metrics(np.concatenate(ys), np.concatenate(ps))
            rows.append({"detector": name, "series": "SKAB (34 files pooled)", "tuned_on": False, "role": role,
                         "with_policy": spec is not None, "policy": policy_json(spec),
                         "event_recall": detected / n_events,
                         "event_precision": share / n_episodes if n_episodes else 0.0,
                         "false_alarms_per_day": n_false / days, "n_events": n_events, "n_alarm_ranges": n_ranges,
                         "f1": pm["f1"], "fit_seconds": seconds.get("fit"), "score_seconds": seconds.get("score")})
    out = pd.DataFrame(rows)
    out["meets_goal"] = out.apply(meets_goal, axis=1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("stage", choices=["scores", "evaluate"])
    p.add_argument("--detectors", default=",".join(CLASSICAL + DEEP), help="comma-separated registry names")
    p.add_argument("--series", default="all",
                   help=f"scores: 'tune' ({TUNE_SERIES}), 'all' (every {CATEGORY} series) or comma-separated names")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"score cache (default {DEFAULT_CACHE})")
    p.add_argument("--no-skab", action="store_true", help="scores: leave out SKAB (protocol skab, 34 files)")
    p.add_argument("--csv", type=Path, default=OUT_CSV, help=f"evaluate: output (default {OUT_CSV.name})")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    t0 = time.perf_counter()
    if args.stage == "scores":
        if args.series == "tune":
            series = [TUNE_SERIES]
        elif args.series == "all":
            series = [TUNE_SERIES, *check_series()]
        else:
            series = [s.strip() for s in args.series.split(",") if s.strip()]
        compute_scores(names, series, args.cache)
        if not args.no_skab:
            skab_scores(names, args.cache)
        print(f"scores: {time.perf_counter() - t0:.1f} s")
        return 0
    tune, result = run(names, args.cache)
    n_cand = tune["policy"].nunique() - 1
    for role, pol in result.groupby("role", sort=False)["policy"].first().items():
        print(f"{role}: {pol}")
    print(f"({n_cand} candidates on {TUNE_SERIES}, {tune['detector'].nunique()} detectors)")
    result.to_csv(args.csv, index=False, float_format="%.4g")
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.precision", 3):
        print(result.drop(columns=["policy", "tuned_on", "with_policy"]).to_string(index=False))
        print(summary(result).to_string())
    print(f"evaluate: {time.perf_counter() - t0:.1f} s; wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
