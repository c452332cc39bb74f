"""Notebook 07's SKAB comparison on its eight files: F1, FAR, MAR, alarm share and detection delays.

    python benchmarks/skab_delays.py                              # writes benchmarks/skab_delays.csv
    python benchmarks/skab_delays.py --keys valve1/0,other/1 --csv /tmp/x.csv   # other files, another place

Notebook 07 ("Going further", SKAB) runs the same comparison live on a few files, so that it
runs in a minute, and reads the eight-file result from the CSV this script writes.

Protocol (SKAB's, as notebook 03 and ``sadlib.bench``): each file's detector is fitted on its
first 400 rows (8 sensors) and judged on the rest; F1, FAR % and MAR % are pooled over the
files' test rows. The deep detectors (``vqvae`` with its EMA codebook, ``dense_ae``,
``lstm_ae``) run with their defaults and train until early stopping fires, up to 100 epochs.
Per event the delay is the time from its first labelled row to the first alarm inside it
(:func:`sadlib.metrics.detection_delays`); the median is over the detected events.

Rows: each detector; ``flag everything``; and for each deep detector its *fair random
line* (``"<name>, shifted"``): its own alarms of every file shifted by random offsets
(:func:`sadlib.metrics.shifted_alarms_baseline`, 20 shifts, each file within itself),
pooled over the files, mean over the shifts; ``f1 sd`` is their standard deviation.
``early stops`` counts the fits that early stopping ended (``epochs run`` lists them); a fit cut
short by the epoch cap names its file and how much its validation loss fell over its last 10 epochs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sadlib import bench, datasets, detectors, metrics

KEYS = ["valve1/0", "valve1/5", "valve1/10", "valve2/0", "valve2/2", "other/1", "other/5", "other/9"]
DEEP = ["vqvae (ema)", "dense_ae", "lstm_ae"]
EPOCHS = 100
N_SHIFTS = 20
CSV = Path(__file__).with_name("skab_delays.csv")


def stopped_early(det) -> bool:
    return det.n_epochs_ - det.best_epoch_ >= det.patience


def _row(ys, alarms, delays) -> dict:
    pm = metrics.point_metrics(np.concatenate(ys), np.concatenate(alarms))
    d = pd.concat(delays)
    return {"f1": pm["f1"], "far": 100 * pm["far"], "mar": 100 * pm["mar"],
            "alarm share": float(np.concatenate(alarms).mean()), "events detected": int(d["detected"].sum()),
            "events": len(d), "median delay [s]": d["delay"].dt.total_seconds().median()}


def table(keys: list[str], epochs: int = EPOCHS) -> pd.DataFrame:
    """The comparison on the SKAB files ``keys``: one row per detector, trivial row and shifted line."""
    skab = datasets.load_skab(keys)
    factories = {
        "vqvae (ema)": lambda: detectors.make("vqvae", epochs=epochs),
        "dense_ae": lambda: detectors.make("dense_ae", epochs=epochs),
        "lstm_ae": lambda: detectors.make("lstm_ae", epochs=epochs),
        "zscore": lambda: detectors.make("zscore"),
    }
    parts = {name: {"y": [], "alarms": [], "delays": [], "epochs": [], "stops": [], "cut": []}
             for name in [*factories, "flag everything"]}
    indexes = []
    for key, df in skab.items():
        X = df[list(datasets.SKAB_SENSORS)]
        X_train, X_test = X.iloc[: bench.SKAB_TRAIN_ROWS], X.iloc[bench.SKAB_TRAIN_ROWS :]
        y = df["anomaly"].to_numpy()[bench.SKAB_TRAIN_ROWS :].astype(bool)
        indexes.append(X_test.index)
        for name, make in factories.items():
            det = make().fit(X_train)
            a = det.predict(X_test)
            p = parts[name]
            p["y"].append(y)
            p["alarms"].append(a)
            p["delays"].append(metrics.detection_delays(y, a, index=X_test.index))
            if hasattr(det, "n_epochs_"):
                p["epochs"].append(det.n_epochs_)
                p["stops"].append(stopped_early(det))
                if not stopped_early(det):  # cut short by the cap: how much was the validation loss still falling?
                    v, k = det.history_["val_loss"], min(10, det.n_epochs_ - 1)
                    p["cut"].append(f"{key}: {1 - v[-1] / v[-1 - k]:.1%} in {k} epochs")
        everything = np.ones(len(y), bool)
        parts["flag everything"]["y"].append(y)
        parts["flag everything"]["alarms"].append(everything)
        parts["flag everything"]["delays"].append(metrics.detection_delays(y, everything, index=X_test.index))
    rows = {}
    for name, p in parts.items():
        rows[name] = _row(p["y"], p["alarms"], p["delays"])
        if p["epochs"]:
            rows[name].update({"early stops": sum(p["stops"]), "fits": len(p["stops"]),
                               "epochs run": " ".join(map(str, p["epochs"])),
                               "cut short, validation loss still falling": "; ".join(p["cut"])})
    for name in DEEP:
        ys, als = parts[name]["y"], parts[name]["alarms"]
        offs = [metrics.shifted_alarms_baseline(y, a, n_shifts=N_SHIFTS, metric="f1")["offsets"]
                for y, a in zip(ys, als)]
        shifts = pd.DataFrame([_row(ys, moved, [metrics.detection_delays(y, m, index=ix)
                                                for y, m, ix in zip(ys, moved, indexes)])
                               for moved in ([np.roll(a, o[i]) for a, o in zip(als, offs)] for i in range(N_SHIFTS))])
        rows[f"{name}, shifted"] = {**shifts.mean(numeric_only=True).to_dict(), "f1 sd": shifts["f1"].std(ddof=0),
                                    "alarm share": rows[name]["alarm share"],
                                    "events detected sd": shifts["events detected"].std(ddof=0),
                                    "median delay [s] max": shifts["median delay [s]"].max()}
    out = pd.DataFrame(rows).T
    out.index.name = "detector"
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", default=",".join(KEYS), help="comma-separated SKAB files (default: notebook 07's 8)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epoch cap of the deep detectors")
    parser.add_argument("--csv", type=Path, default=CSV)
    args = parser.parse_args(argv)
    out = table(args.keys.split(","), epochs=args.epochs)
    out.to_csv(args.csv, float_format="%.6g")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(out.round(3))
    print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
