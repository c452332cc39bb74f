"""Detector settings and an alarm policy for the course's Keras detectors on SKAB, chosen on other files.

    python benchmarks/skab_detector_settings.py --build all              # fit and cache every missing variant
    python benchmarks/skab_detector_settings.py --build conv_ae/w60      # fit one variant, cache its scores
    python benchmarks/skab_detector_settings.py --check conv_ae/w60      # set_params scoring == a fresh fit?
    python benchmarks/skab_detector_settings.py                          # select and report from the caches
    python benchmarks/skab_detector_settings.py --cache DIR --csv FILE   # other places (default below)

Issue 12: can at least three of the course's Keras detectors beat the published SKAB
Conv-AE row (F1 0.78, FAR 13.55 %, MAR 28.02 %) on all three at once when everything
that is tuned is chosen on other files than those it is reported on? H4
(``benchmarks/alarm_policy_selection.py``) found that no alarm policy does it over the
detectors' *default* settings (window 24, min-max scaling, squared error, the score of
the window that ends at a row, a policy fitted on 80 held-out scores). This script
also tunes the detectors' constructor parameters, starting from what the SKAB authors'
Conv-AE does (``/work/shared/notes/skab-conv-ae-reproduction.md``): standard scaling,
windows of 60, the mean absolute error of a window, a limit of about 4/3 x the 99.9th
percentile of the in-sample training scores, and a persistence rule.

Protocol (as ``python -m sadlib.bench``, protocol skab): each of the 34 labelled files,
a fresh detector fitted on its first 400 rows (8 sensors), scored on the rest; pooled
F1, FAR % and MAR % over the test rows (:func:`sadlib.metrics.point_metrics`).

Step 1, the score cache (``<cache>/<variant>.npz``, one per *fit variant* of
:data:`FITS`). A fit variant is a detector and the constructor parameters that change
its model (window, scaler, calibration share, epochs, ...). Parameters that only change
how the trained model's errors become a score (``error``, ``aggregate``, ``normalize``
of the autoencoders; ``aggregate``, ``smooth`` of ``lstm_forecast``) do not change
training, so each fitted model is scored once per *scoring* of :data:`SCORINGS` after
``set_params``: the scores equal those of a detector constructed with these parameters
(``--check`` fits one afresh on one file and compares). Kept per file and scoring: the
scores of the 400 training rows (``score(train)``, whose last ``calibration`` share are
the held-out ``calibration_scores_``) and of the test rows.

Step 2, the policy grid (:func:`policies`). ``AlarmPolicy`` with a percentile threshold
``("percentile", {"q": q, "margin": m})``, q in {99, 99.9, 100}, m in
:data:`MARGINS` (4/3 is the SKAB authors'; 4-6 were added after the in-sample bound on
all 34 files showed that squared errors need more than 3), fitted either on the 80 held-out calibration
scores ("cal") or on the scores of all 400 training rows ("all": the file's own training
rows, in-sample for the model, as the SKAB authors fit their limit), ``min_duration`` in
{1, 10, 20, 30, 45, 60}, ``hold`` in {0, 30}. A *candidate* is (fit variant, scoring,
policy); every candidate is scored on every file as confusion counts.

Step 3, the selection, per detector, among all its candidates. Groups: A = the 16
``valve1`` files, B = the 4 ``valve2`` and the 14 ``other`` files. The rules below were
written down before any result on a report group was looked at:

* **primary**: among candidates whose pooled FAR on the selection group is at most 10 %
  (a safety margin under the published 13.55 %), the one with the highest pooled F1 on
  the selection group; ties go to the lower FAR, then to the earlier candidate (fit
  variants and scorings in the order of :data:`FITS` / :data:`SCORINGS`, policies simplest
  first). If none has FAR <= 10 %, the one with the lowest FAR.
* **secondary**: among candidates that beat the published row on the selection group
  (F1 > 0.78, FAR < 13.55 %, MAR < 28.02 %), the one with the highest F1 there; if none
  does, the primary rule's choice.

Each rule is applied on A and reported on B, and on B and reported on A; the
cross-fitted row of a detector pools all 34 files, those of A predicted with the
candidate chosen on B and those of B with the one chosen on A. Rule "oracle" is an upper
bound, not a result: per detector, the candidate with the highest F1 among those that
beat the published row on all 34 files (else the best F1 at FAR < 13.55 %), chosen and
reported on all 34 files. Every reported row is recomputed with
``make_policy(policy).fit(fit_scores).predict(test_scores)`` and point_metrics; the
script stops if that disagrees with the grid.

Output: a printed report and ``benchmarks/skab_detector_settings.csv`` (``rule,
detector, selected_on, reported_on, fit, params, policy, fit_on, f1, far, mar, precision,
recall, n_files, n_rows, beats_published``; ``params`` are all constructor parameters
that differ from the defaults, JSON; ``policy`` is the AlarmPolicy's parameters, JSON,
as ``sadlib.alarms.make_policy`` reads them; ``fit_on`` says which training scores it is
fitted on).

How the menu grew (the selection rules never changed): the first variants were the
SKAB-like ones (windows of 60, ``conv_ae/w60``, ``dense_ae/w60``); the later ones
(training on all 400 rows, the SKAB authors' training, windows of 10-32, narrower
bottlenecks) and the margins 4-6 were added after looking at the in-sample bound of each
scoring on all 34 files and at a first run of the rules for conv_ae and dense_ae. That
is a mild leak (the menu saw every file), which makes the numbers below, if anything,
optimistic.

Results (2026-12-01, 2-core CPU; caching the 21 fit variants took 19-153 s each, 24 min
in all; the selection from the cache 2 min). No detector beats the published row, under
either rule. Cross-fitted over the 34 files (primary rule / secondary rule):

=============  ======================  ======================
detector       F1, FAR %, MAR %        F1, FAR %, MAR %
=============  ======================  ======================
conv_ae        0.655, 15.09, 44.95     0.676, 12.60, 43.36
dense_ae       0.603, 14.84, 51.33     0.619, 15.44, 49.16
attn_lstm      0.616, 14.75, 49.82     same choice
lstm_ae        0.589, 13.83, 53.25     same choice
cnn_lstm       0.591, 17.36, 51.72     same choice
vqvae          0.525, 12.90, 60.43     same choice
lstm_forecast  0.513, 14.17, 61.30     same choice
=============  ======================  ======================

A choice made on valve1 raises 22-31 % false alarms on valve2+other; one made on
valve2+other misses 53-94 % of valve1's faults. Even chosen in-sample on all 34 files
(rule "oracle") the best F1 at FAR < 13.55 % is 0.72 (conv_ae, windows of 32, MAR 37.7 %);
only on valve1 alone do conv_ae and dense_ae beat the row in-sample. Why, measured on
the cache: (1) a window score stays high for up to ``window - 1`` rows after a fault
ends, and 1838 of the 11030 normal test rows lie within 59 rows after a fault (1947
within 59 rows before one, reached by ``aggregate="mean"``/``"max"``): windows of 60
cost up to 17 % FAR by themselves; shorter windows help (dense_ae's in-sample bound: F1
0.64 with windows of 60, 0.71 with windows of 10); (2) the published rule (a row alarms
only when the windows covering it are all above the limit) is not causal, it looks 58
rows ahead: applied to the scores of conv_ae/w60 (MAE, "last", limit 4/3 x q99.9 of the
training scores) it gives F1 0.78 / FAR 22.5 % / MAR 23.7 %, its causal form
(``min_duration=60`` on the same scores) 0.70 / 31.2 / 31.2; (3) on 9 files the normal
test rows score as high as the faults (conv_ae/w60_cal0_e100, MSE, "max": per-file
ROC-AUC 0.47-0.73).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# the confusion counts, pooled rates and published-row test of the policy selection script (same folder)
from alarm_policy_selection import beats, counts, policy_json, rates

from sadlib import alarms, bench, datasets, detectors, metrics

DEFAULT_CACHE = Path("/work/cache/skab_settings")
DEFAULT_CSV = Path(__file__).with_name("skab_detector_settings.csv")
GROUP_A, GROUP_B = "valve1", "valve2+other"
FAR_BOUND = 10.0  # percent, primary rule
PUBLISHED = "Conv-AE"

_SKAB_LIKE = {"window": 60, "scaler": "standard", "error": "mae", "aggregate": "mean"}
#: the SKAB authors' training: all 400 rows, up to 100 epochs, Adam 1e-3, a tenth for early stopping
_SKAB_TRAINING = {"calibration": 0.0, "epochs": 100, "learning_rate": 1e-3, "validation": 0.1}
#: fit variant -> (detector, constructor parameters that change the trained model)
FITS: dict[str, tuple[str, dict]] = {
    "conv_ae/w60": ("conv_ae", _SKAB_LIKE),
    "dense_ae/w60": ("dense_ae", _SKAB_LIKE),
    "conv_ae/w60_cal0": ("conv_ae", {**_SKAB_LIKE, "calibration": 0.0}),
    "dense_ae/w60_cal0": ("dense_ae", {**_SKAB_LIKE, "calibration": 0.0}),
    "conv_ae/w60_cal0_e100": ("conv_ae", {**_SKAB_LIKE, **_SKAB_TRAINING}),
    "dense_ae/w60_cal0_e100": ("dense_ae", {**_SKAB_LIKE, **_SKAB_TRAINING}),
    # shorter windows: a window score stays high for up to window - 1 rows after a fault ends (false alarms)
    "conv_ae/w20_cal0_e100": ("conv_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20}),
    "dense_ae/w10_cal0_e100": ("dense_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 10}),
    "conv_ae/w32_cal0_e100": ("conv_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 32}),
    "dense_ae/w20_cal0_e100": ("dense_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20}),
    # narrower bottlenecks: a model that cannot rebuild every sensor freely does not follow a level shift
    # (the published Conv-AE's decoder has one output channel for 8 sensors)
    "dense_ae/w10_lat1_cal0_e100": ("dense_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 10, "latent": 1}),
    "dense_ae/w10_lat2_cal0_e100": ("dense_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 10, "latent": 2}),
    "conv_ae/w20_f2_cal0_e100": ("conv_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20, "filters": (16, 2)}),
    "conv_ae/w20_f1_cal0_e100": ("conv_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20, "filters": (8, 1)}),
    # the other detectors: windows of 60 with the training part of all 400 rows, then the best recipe of
    # conv_ae / dense_ae in-sample (windows of 20, all 400 rows, the SKAB authors' training)
    "cnn_lstm/w60_cal0": ("cnn_lstm", {**_SKAB_LIKE, "calibration": 0.0}),
    "vqvae/w60_cal0": ("vqvae", {**_SKAB_LIKE, "calibration": 0.0}),
    "lstm_ae/w20_cal0_e100": ("lstm_ae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20}),
    "cnn_lstm/w20_cal0_e100": ("cnn_lstm", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20}),
    "attn_lstm/w20_cal0_e100": ("attn_lstm", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20}),
    "vqvae/w20_cal0_e100": ("vqvae", {**_SKAB_LIKE, **_SKAB_TRAINING, "window": 20}),
    "lstm_forecast/w20_cal0_e100": ("lstm_forecast", {"window": 20, "aggregate": "mean", **_SKAB_TRAINING}),
}
_AE_SCORINGS = [{"error": "mae", "aggregate": a, "normalize": n}
                for n in (False, True) for a in ("mean", "max", "last")]
_AE_SCORINGS += [{"error": "mse", "aggregate": a, "normalize": False} for a in ("mean", "max", "last")]
#: detector -> scorings: parameters applied with set_params to the fitted model (they do not change training);
#: normalize=True only with the error the model was fitted with (its error_scale_ is in that error's units)
SCORINGS: dict[str, list[dict]] = {
    **{name: _AE_SCORINGS for name in ("dense_ae", "conv_ae", "lstm_ae", "cnn_lstm", "attn_lstm", "vqvae")},
    "lstm_forecast": [{"aggregate": a, "smooth": s} for a in ("mean", "max") for s in (1, 30, 60)],
}
KERAS = ["dense_ae", "lstm_forecast", "lstm_ae", "conv_ae", "cnn_lstm", "attn_lstm", "vqvae"]

FIT_ON = ("cal", "all")
QS = (99.0, 99.9, 100.0)
MARGINS = (1.0, 1.1, 1.25, 4 / 3, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
MIN_DURATIONS = (1, 10, 20, 30, 45, 60)
HOLDS = (0, 30)
COLUMNS = ["rule", "detector", "selected_on", "reported_on", "fit", "params", "policy", "fit_on", "f1", "far",
           "mar", "precision", "recall", "n_files", "n_rows", "beats_published"]


# --------------------------------------------------------------------------- #
# step 1: the score cache
# --------------------------------------------------------------------------- #
def labelled_files() -> dict[str, pd.DataFrame]:
    return {k: v for k, v in datasets.load_skab().items() if k != "anomaly-free"}


def build_cache(variant: str, path: Path, data: dict[str, pd.DataFrame]) -> None:
    """Fit a fresh detector of ``variant`` per file on its first 400 rows; save the scores of every scoring."""
    name, params = FITS[variant]
    scorings = SCORINGS[name]
    n = bench.SKAB_TRAIN_ROWS
    keys, y, n_cal, fit_s, epochs = [], [], [], [], []
    train = {i: [] for i in range(len(scorings))}
    test = {i: [] for i in range(len(scorings))}
    for key, df in data.items():
        X = df[list(datasets.SKAB_SENSORS)]
        X_train, X_test = X.iloc[:n], X.iloc[n:]
        det = detectors.make(name, **params)
        t0 = time.perf_counter()
        det.fit(X_train)
        fit_s.append(time.perf_counter() - t0)
        epochs.append(int(getattr(det, "n_epochs_", 0)))
        for i, sc in enumerate(scorings):
            det.set_params(**sc)
            train[i].append(np.asarray(det.score(X_train), dtype=np.float64))
            test[i].append(np.asarray(det.score(X_test), dtype=np.float64))
        keys.append(key)
        y.append(df["anomaly"].to_numpy()[n:].astype(bool))
        n_cal.append(len(det.calibration_scores_) if det.calibration > 0 else 0)
        print(f"{variant} {key}: fit {fit_s[-1]:.1f} s, {epochs[-1]} epochs", flush=True)
    arrays = {f"train_{i}": np.concatenate(train[i]) for i in train}
    arrays.update({f"test_{i}": np.concatenate(test[i]) for i in test})
    tmp = path.with_name(path.name + ".partial.npz")
    np.savez(tmp, keys=np.array(keys), y=np.concatenate(y), test_offsets=np.cumsum([0] + [len(v) for v in y]),
             n_cal=np.array(n_cal), fit_seconds=np.array(fit_s), epochs=np.array(epochs),
             scorings=np.array([json.dumps(sc, sort_keys=True) for sc in scorings]), **arrays)
    os.replace(tmp, path)


def cache_path(cache: Path, variant: str) -> Path:
    return cache / (variant.replace("/", "__") + ".npz")


def load_cache(path: Path) -> tuple[list[str], list[dict], list[list[dict]]]:
    """``(keys, scorings, files)``; ``files[s][j] = {y, cal, all, test}`` of scoring ``s`` and file ``j``."""
    z = np.load(path)
    keys = [str(k) for k in z["keys"]]
    scorings = [json.loads(s) for s in z["scorings"]]
    to, n = z["test_offsets"], bench.SKAB_TRAIN_ROWS
    out = []
    for s in range(len(scorings)):
        files = []
        for j in range(len(keys)):
            tr = z[f"train_{s}"][j * n:(j + 1) * n]
            cal = tr[n - int(z["n_cal"][j]):] if z["n_cal"][j] else tr
            files.append({"y": z["y"][to[j]:to[j + 1]], "cal": cal, "all": tr, "test": z[f"test_{s}"][to[j]:to[j + 1]],
                          "n_cal": int(z["n_cal"][j])})
        out.append(files)
    return keys, scorings, out


def check_scoring(variant: str, data: dict[str, pd.DataFrame], cache: Path) -> None:
    """On the first file: cached set_params scorings equal a detector constructed with them (a fresh fit).

    Checked: the last scoring and the first with ``normalize=True`` (if any).
    """
    name, params = FITS[variant]
    keys, scorings, files = load_cache(cache_path(cache, variant))
    key, n = keys[0], bench.SKAB_TRAIN_ROWS
    X = data[key][list(datasets.SKAB_SENSORS)]
    picks = {len(scorings) - 1, *[i for i, sc in enumerate(scorings) if sc.get("normalize")][:1]}
    for s in sorted(picks):
        det = detectors.make(name, **{**params, **scorings[s]}).fit(X.iloc[:n])
        fresh = np.asarray(det.score(X.iloc[n:]), dtype=np.float64)
        diff = float(np.nanmax(np.abs(fresh - files[s][0]["test"])))
        print(f"{variant} {key} scoring {scorings[s]}: largest difference to a fresh fit {diff:.3g}")
        if not np.allclose(fresh, files[s][0]["test"], rtol=1e-6, atol=1e-9, equal_nan=True):
            raise RuntimeError(f"set_params scoring {scorings[s]} differs from a fresh fit of {variant} on {key}.")


# --------------------------------------------------------------------------- #
# step 2: the policy grid
# --------------------------------------------------------------------------- #
def policies() -> list[dict]:
    """``{"fit_on": ..., "policy": AlarmPolicy parameters}``, simplest first."""
    out = []
    for hold, d, fit_on, q, m in itertools.product(HOLDS, MIN_DURATIONS, FIT_ON, QS, MARGINS):
        p: dict = {"threshold": ("percentile", {"q": q, "margin": m})}
        if d > 1:
            p["min_duration"] = d
        if hold:
            p["hold"] = hold
        out.append({"fit_on": fit_on, "policy": p})
    return out






def grid_counts(files: list[dict], pols: list[dict]) -> np.ndarray:
    """Confusion counts ``(n_policies, n_files, 4)``, the steps of AlarmPolicy.predict done once per level."""
    out = np.zeros((len(pols), len(files), 4), dtype=np.int64)
    pos = {(p["fit_on"], policy_json(p["policy"])): i for i, p in enumerate(pols)}
    for j, f in enumerate(files):
        for fit_on, q, m in itertools.product(sorted({p["fit_on"] for p in pols}), QS, MARGINS):
            normal = f[fit_on][~np.isnan(f[fit_on])]
            level = float(np.percentile(normal, q)) * m
            above = np.asarray(f["test"] > level, dtype=np.float64)
            for d in MIN_DURATIONS:
                persisted = alarms.min_duration_alarms(above, 0.5, d) if d > 1 else above > 0.5
                for hold in HOLDS:
                    pred = alarms.hold_alarms(persisted, hold) if hold else persisted
                    p: dict = {"threshold": ("percentile", {"q": q, "margin": m})}
                    if d > 1:
                        p["min_duration"] = d
                    if hold:
                        p["hold"] = hold
                    out[pos[fit_on, policy_json(p)], j] = counts(f["y"], pred)
    return out


# --------------------------------------------------------------------------- #
# step 3: the selection
# --------------------------------------------------------------------------- #
def select(r: dict[str, np.ndarray], rule: str, pub: dict) -> int:
    """Index of the chosen candidate; ``r`` holds pooled rates ``(n_candidates,)`` on the selection group."""
    order = np.arange(r["f1"].size)
    if rule == "secondary":
        ok = beats(r["f1"], r["far"], r["mar"], pub)
        if ok.any():
            idx = np.flatnonzero(ok)
            return int(idx[np.lexsort((order[idx], r["far"][idx], -r["f1"][idx]))[0]])
    ok = r["far"] <= FAR_BOUND
    if not ok.any():
        return int(np.lexsort((order, r["far"]))[0])
    idx = np.flatnonzero(ok)
    return int(idx[np.lexsort((order[idx], r["far"][idx], -r["f1"][idx]))[0]])


def oracle(r: dict[str, np.ndarray], pub: dict) -> int:
    ok = beats(r["f1"], r["far"], r["mar"], pub)
    if not ok.any():
        ok = r["far"] < pub["far"]
    idx = np.flatnonzero(ok) if ok.any() else np.arange(r["f1"].size)
    return int(idx[np.argmax(r["f1"][idx])])


def run(cache: Path, csv: Path, names: list[str]) -> pd.DataFrame:
    pub = bench.leaderboard().set_index("detector").loc[PUBLISHED, ["f1", "far", "mar"]].to_dict()
    pols = policies()
    rows, summary = [], []
    for name in names:
        variants = [v for v, (det, _) in FITS.items() if det == name and cache_path(cache, v).exists()]
        if not variants:
            continue
        cands, grids, files_of, keys = [], [], {}, None
        for v in variants:
            k, scorings, files = load_cache(cache_path(cache, v))
            if keys is not None and k != keys:
                raise RuntimeError(f"the cache of {v} has other files than the other variants of {name}; rebuild it.")
            keys = k
            for s, sc in enumerate(scorings):
                files_of[v, s] = files[s]
                use = [p for p in pols if not (p["fit_on"] == "cal" and files[s][0]["n_cal"] == 0)]
                grids.append(grid_counts(files[s], use))
                cands += [(v, s, sc, p) for p in use]
        grid = np.concatenate(grids)  # (n_candidates, n_files, 4)
        in_a = np.array([k.startswith("valve1/") for k in keys])
        groups = {GROUP_A: np.flatnonzero(in_a), GROUP_B: np.flatnonzero(~in_a), "all": np.arange(len(keys))}
        grates = {g: rates(grid[:, idx].sum(axis=1)) for g, idx in groups.items()}
        print(f"{name}: {len(variants)} fit variants, {len(cands)} candidates x {len(keys)} files")

        def predict(ci: int, idx) -> tuple[np.ndarray, np.ndarray]:
            v, s, sc, p = cands[ci]
            ys, preds = [], []
            for j in idx:
                f = files_of[v, s][j]
                pred = alarms.make_policy(p["policy"]).fit(f[p["fit_on"]]).predict(f["test"])
                if counts(f["y"], pred) != tuple(int(c) for c in grid[ci, j]):
                    raise RuntimeError(f"grid and AlarmPolicy disagree on {keys[j]} for {cands[ci]}")
                ys.append(f["y"])
                preds.append(pred)
            return np.concatenate(ys), np.concatenate(preds)

        def row(rule, sel, rep, ci, y, pred, n_files, fit="", params="", policy="", fit_on=""):
            if ci is not None:
                v, s, sc, p = cands[ci]
                fit, params = v, json.dumps({**FITS[v][1], **sc}, sort_keys=True)
                policy, fit_on = policy_json(p["policy"]), p["fit_on"]
            pm = metrics.point_metrics(y, pred)
            f1, far, mar = pm["f1"], 100 * pm["far"], 100 * pm["mar"]
            return {"rule": rule, "detector": name, "selected_on": sel, "reported_on": rep, "fit": fit,
                    "params": params, "policy": policy, "fit_on": fit_on, "f1": f1, "far": far, "mar": mar,
                    "precision": pm["precision"], "recall": pm["recall"], "n_files": n_files, "n_rows": len(y),
                    "beats_published": bool(beats(f1, far, mar, pub))}

        other = {GROUP_A: GROUP_B, GROUP_B: GROUP_A}
        for rule in ("primary", "secondary"):
            parts = {}
            for sel in (GROUP_A, GROUP_B):
                ci = select(grates[sel], rule, pub)
                for rep in (sel, other[sel]):
                    y, pred = predict(ci, groups[rep])
                    rows.append(row(rule, sel, rep, ci, y, pred, len(groups[rep])))
                    if rep != sel:
                        parts[rep] = (y, pred)
            y = np.concatenate([parts[GROUP_A][0], parts[GROUP_B][0]])
            pred = np.concatenate([parts[GROUP_A][1], parts[GROUP_B][1]])
            rows.append(row(rule, "cross-fitted", "all", None, y, pred, len(keys), fit="chosen on the other group"))
        ci = oracle(grates["all"], pub)
        y, pred = predict(ci, groups["all"])
        rows.append(row("oracle", "all", "all", ci, y, pred, len(keys)))
        summary.append((name, len(cands)))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table.to_csv(csv, index=False, float_format="%.6g")
    report(table, pub)
    print(f"wrote {len(table)} rows to {csv}")
    return table


def report(table: pd.DataFrame, pub: dict) -> None:
    print(f"\npublished {PUBLISHED}: F1 {pub['f1']:.2f}, FAR {pub['far']:.2f} %, MAR {pub['mar']:.2f} %; "
          f"A = {GROUP_A} (16 files), B = {GROUP_B} (18 files)")
    with pd.option_context("display.width", 250, "display.max_colwidth", 80):
        for rule in ("primary", "secondary", "oracle"):
            part = table[table["rule"] == rule]
            print(f"\n-- {rule} --")
            print(part[["detector", "selected_on", "reported_on", "fit", "f1", "far", "mar", "beats_published"]]
                  .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        chosen = table[(table["selected_on"] != "cross-fitted") & (table["reported_on"] != table["selected_on"])]
        print("\nchosen settings:")
        for _, r in chosen.iterrows():
            print(f"  {r['rule']:9s} {r['detector']:13s} on {r['selected_on']:12s} {r['fit']:18s} {r['params']} "
                  f"{r['fit_on']} {r['policy']}")
        for rule in ("primary", "secondary"):
            cross = table[(table["rule"] == rule) & (table["selected_on"] == "cross-fitted")]
            print(f"{rule}: {int(cross['beats_published'].sum())} of {len(cross)} detectors beat {PUBLISHED} "
                  f"cross-fitted over 34 files")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"score cache directory (default {DEFAULT_CACHE})")
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV, help=f"output table (default {DEFAULT_CSV.name} here)")
    p.add_argument("--build", nargs="+", metavar="VARIANT", choices=[*FITS, "all"],
                   help="fit and cache these variants ('all': every variant of FITS whose cache is missing)")
    p.add_argument("--check", nargs="+", metavar="VARIANT", choices=list(FITS),
                   help="compare a cached set_params scoring with a fresh fit on one file")
    p.add_argument("--detectors", nargs="+", default=KERAS, choices=KERAS, help="detectors to select for")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    if args.build or args.check:
        data = labelled_files()
        args.cache.mkdir(parents=True, exist_ok=True)
        build = args.build or []
        if "all" in build:
            build = [v for v in FITS if not cache_path(args.cache, v).exists()]
        for v in build:
            t1 = time.perf_counter()
            build_cache(v, cache_path(args.cache, v), data)
            print(f"== {v}: {len(data)} files cached in {time.perf_counter() - t1:.0f} s", flush=True)
        for v in args.check or []:
            check_scoring(v, data, args.cache)
    else:
        run(args.cache, args.csv, args.detectors)
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
