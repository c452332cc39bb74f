"""Alarms when the plant changes: adaptive layers and an operator, chosen on some data and reported on other data.

    python benchmarks/adaptive_alarms.py --part nab     # NAB: chosen on one series, reported on 6 + 17 others
    python benchmarks/adaptive_alarms.py --part skab    # SKAB: cross-fitted valve1 <-> the rest (score cache)
    python benchmarks/adaptive_alarms.py                # both

Candidates (all fitted per file or series on the detector's normal training scores only; see
:mod:`sadlib.alarms`):

* ``default``: the course's named policy (a fixed level, mean + 6 sd, 3 samples, dead time 72);
* ``adaptive``: the same level on a moving baseline of the last 300 non-alarm scores (``adapt="recentre"``);
* ``adaptive_dspot``: DSPOT on the score (``adapt="threshold"``) with the same persistence and dead time;
* ``default+operator`` and ``adaptive+operator``: the policy with an operator (``adapt="rebaseline"`` /
  ``"recentre"``, :func:`sadlib.alarms.simulate_operator`): an alarm episode is looked at ``--delay`` after its
  onset, at most ``--looks`` times per 8-hour shift; an episode with no labelled row so far is acknowledged as
  a new normal and the baseline is learnt again from the next 300 scores. The labels are the operator's answer
  at a look and nothing else; each look is workload (``looks_per_day``).

NAB (``--part nab``): each detector fitted on the probationary period of each series (``python -m sadlib.bench``'s
``nab`` protocol). The candidate is chosen on ``realKnownCause/machine_temperature_system_failure`` alone (rule:
most detectors with event recall >= 0.7, at most 1 false alarm per day and event precision >= 0.3; ties: lower
mean false alarms per day) and reported on the 6 other realKnownCause series and the 17 realAWSCloudwatch series,
which played no part. Event precision is :func:`sadlib.metrics.event_metrics`'s. Where DSPOT's tail cannot be
calibrated on a series (too few peaks among the normal training scores) the row says ``fitted=False`` and is left
out of the means (on SKAB such a file counts as no alarm).

SKAB (``--part skab``): the score cache of ``benchmarks/alarm_policy_selection.py`` (fresh detector per file,
fitted on its first 400 rows, 80 held-out normal calibration scores). Chosen on the 16 valve1 files and reported
on the 18 others, and the other way round (primary rule of ``alarm_policy_selection.py``: median FAR <= 10 %,
then the highest median F1); the cross-fitted row pools all 34 files, each scored with the candidate chosen on
the other group. Operator delay on SKAB: 60 samples (1 min), at most ``--looks`` looks per file.

Output: ``benchmarks/adaptive_alarms_nab.csv`` and ``benchmarks/adaptive_alarms_skab.csv``; the summary in
``benchmarks/README.md`` ("When the plant changes").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sadlib import alarms, bench, datasets, metrics

HERE = Path(__file__).resolve().parent
NAB_DETECTORS = ["ewma", "ma_z", "robust_z", "dense_ae"]
SKAB_DETECTORS = ["dense_ae", "conv_ae", "lstm_ae"]
CHOOSE_ON = "realKnownCause/machine_temperature_system_failure"
BASE = dict(alarms.POLICIES["default"])
CANDIDATES = {
    "default": (BASE, False),
    "adaptive": ({**BASE, "adapt": "recentre", "adapt_window": 300}, False),
    "adaptive_dspot": (dict(alarms.POLICIES["adaptive_dspot"]), False),
    "default+operator": ({**BASE, "adapt": "rebaseline", "adapt_window": 300}, True),
    "adaptive+operator": ({**BASE, "adapt": "recentre", "adapt_window": 300}, True),
}
PUBLISHED = {"f1": 0.78, "far": 13.55, "mar": 28.02}  # SKAB leaderboard, Conv-AE (sadlib/skab_leaderboard.csv)


def apply(name: str, cal: np.ndarray, cal_index, test: np.ndarray, y: np.ndarray, *, delay: int, looks: int,
          shift: int) -> tuple[np.ndarray, int]:
    """Alarms of one candidate on one file, and the operator's number of looks."""
    params, operator = CANDIDATES[name]
    index = cal_index if isinstance(cal_index, pd.DatetimeIndex) else None
    try:
        policy = alarms.make_policy(params).fit(cal, index=index)
    except ValueError:  # DSPOT's tail needs peaks the calibration scores may not have: no alarm rule, no alarms
        return None, 0
    if not operator:
        return policy.predict(test), 0
    pred, seen = alarms.simulate_operator(test, policy, y, delay=delay, looks_per_shift=looks, shift=shift)
    return pred, len(seen)


# --------------------------------------------------------------------------- NAB
def nab_scores(series: list[str], detectors: list[str]) -> dict[str, dict[str, dict]]:
    """``{series: {detector: FileScores}}``, each detector fitted once per series."""
    out = {}
    for name in series:
        t0 = time.perf_counter()
        res = bench.run_nab(detectors, name=name, progress=False, keep_scores=True)
        out[name] = {det: files[name] for det, files in res.attrs["scores"].items()}
        print(f"scored {name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def nab_table(scores: dict[str, dict[str, dict]], looks: int, delay: str) -> pd.DataFrame:
    rows = []
    for name, per_det in scores.items():
        for det, f in per_det.items():
            step = pd.Series(f["index"]).diff().median()
            d = max(1, int(round(pd.Timedelta(delay) / step)))
            shift = max(1, int(round(pd.Timedelta("8h") / step)))
            days = (f["index"][-1] - f["index"][0] + step) / pd.Timedelta("1D")
            for cand in CANDIDATES:
                pred, n_looks = apply(cand, f["calibration"], f["calibration_index"], f["test"], f["y"],
                                      delay=d, looks=looks, shift=shift)
                if pred is None:
                    rows.append({"series": name, "group": name.split("/")[0], "detector": det, "candidate": cand,
                                 "fitted": False})
                    continue
                ev = metrics.event_metrics(f["y"], pred)
                rows.append({"series": name, "group": name.split("/")[0], "detector": det, "candidate": cand,
                             "event_recall": ev["event_recall"], "event_precision": ev["event_precision"],
                             "false_alarms_per_day": metrics.false_alarms_per_day(f["y"], pred, index=f["index"]),
                             "looks_per_day": n_looks / days, "n_events": ev["n_events"],
                             "alarm_share": float(pred.mean()), "fitted": True})
    return pd.DataFrame(rows)


def meets(df: pd.DataFrame) -> pd.Series:
    return (df["event_recall"] >= 0.7) & (df["false_alarms_per_day"] <= 1) & (df["event_precision"] >= 0.3)


def run_nab(args) -> pd.DataFrame:
    known = [s for s in datasets.list_nab() if s.startswith("realKnownCause/")]
    aws = [s for s in datasets.list_nab() if s.startswith("realAWSCloudwatch/")]
    table = nab_table(nab_scores(known + aws, args.nab_detectors), args.looks, args.delay)
    chosen_on = table[table["series"] == CHOOSE_ON].copy()
    chosen_on["meets"] = meets(chosen_on)
    score = chosen_on.groupby("candidate").agg(n=("meets", "sum"), fa=("false_alarms_per_day", "mean"))
    choice = score.sort_values(["n", "fa"], ascending=[False, True]).index[0]
    table["chosen"] = table["candidate"] == choice
    table["role"] = np.where(table["series"] == CHOOSE_ON, "selection", "reported")
    table.to_csv(HERE / "adaptive_alarms_nab.csv", index=False)
    rep = table[table["role"] == "reported"]
    summary = (rep.groupby(["group", "candidate", "detector"])
               [["event_recall", "event_precision", "false_alarms_per_day", "looks_per_day"]].mean())
    summary["meets_goal"] = meets(summary)
    print(f"chosen on {CHOOSE_ON}: {choice}\n{score}\n")
    print(summary.round(3).to_string())
    return table


# --------------------------------------------------------------------------- SKAB
def run_skab(args) -> pd.DataFrame:
    sys.path.insert(0, str(HERE))
    import alarm_policy_selection as aps

    aps.ensure_cache(args.cache, SKAB_DETECTORS)
    rows = []
    for det in SKAB_DETECTORS:
        for f in aps.load_cache(args.cache, det):
            group = "valve1" if f["key"].startswith("valve1/") else "valve2+other"
            for cand in CANDIDATES:
                pred, n_looks = apply(cand, f["cal"], None, f["scores"], f["y"], delay=60, looks=args.looks,
                                      shift=len(f["scores"]) + 60)
                if pred is None:  # counted as no alarm at all: the rule could not be calibrated on this file
                    pred = np.zeros(len(f["scores"]), dtype=bool)
                tp, fp, fn, tn = aps.counts(f["y"], pred)
                rows.append({"detector": det, "file": f["key"], "group": group, "candidate": cand, "tp": tp,
                             "fp": fp, "fn": fn, "tn": tn, "looks": n_looks})
    per_file = pd.DataFrame(rows)

    def pooled(df):
        c = df[["tp", "fp", "fn", "tn"]].sum().to_numpy()[None, :]
        r = aps.rates(c)
        return pd.Series({"f1": r["f1"][0], "far": r["far"][0], "mar": r["mar"][0], "looks": df["looks"].sum()})

    out = []
    by = per_file.groupby(["group", "candidate", "detector"]).apply(pooled, include_groups=False)
    chosen = {}
    for sel, rep in (("valve1", "valve2+other"), ("valve2+other", "valve1")):
        g = by.loc[sel]
        med = g.groupby("candidate")[["f1", "far"]].median()
        ok = med[med["far"] <= 10]
        pick = (ok.sort_values("f1", ascending=False) if len(ok) else med.sort_values("far")).index[0]
        chosen[rep] = pick
        print(f"chosen on {sel}: {pick} (median F1/FAR over detectors)\n{med.round(3)}\n")
    for det in SKAB_DETECTORS:
        parts = [per_file[(per_file["detector"] == det) & (per_file["group"] == g) & (per_file["candidate"] == c)]
                 for g, c in chosen.items()]
        r = pooled(pd.concat(parts))
        out.append({"detector": det, "candidate": "cross-fitted: " + ", ".join(f"{g} <- {c}" for g, c in
                                                                             chosen.items()),
                    **r.to_dict(), "beats_published": bool(r["f1"] > PUBLISHED["f1"] and r["far"] < PUBLISHED["far"]
                                                           and r["mar"] < PUBLISHED["mar"])})
        for cand in CANDIDATES:
            r = pooled(per_file[(per_file["detector"] == det) & (per_file["candidate"] == cand)])
            out.append({"detector": det, "candidate": cand + " (all 34 files, not a choice)", **r.to_dict(),
                        "beats_published": bool(r["f1"] > PUBLISHED["f1"] and r["far"] < PUBLISHED["far"]
                                                and r["mar"] < PUBLISHED["mar"])})
    table = pd.DataFrame(out)
    table.to_csv(HERE / "adaptive_alarms_skab.csv", index=False)
    print(table.round(3).to_string())
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=["nab", "skab", "both"], default="both")
    p.add_argument("--looks", type=int, default=3, help="operator looks per 8-hour shift (per file on SKAB)")
    p.add_argument("--delay", default="1h", help="NAB: time from an alarm's onset to the operator's look")
    p.add_argument("--nab-detectors", nargs="+", default=NAB_DETECTORS)
    p.add_argument("--cache", type=Path, default=Path("/work/cache/skab_scores"))
    args = p.parse_args(argv)
    if args.part in ("nab", "both"):
        run_nab(args)
    if args.part in ("skab", "both"):
        run_skab(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
