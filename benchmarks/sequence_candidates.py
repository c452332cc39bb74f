"""Notebook 06's section 3 at full size: the eight candidates on the pump, one row each.

    python benchmarks/sequence_candidates.py            # about 1.5 minutes on 2 idle cores (3 under load)
    python benchmarks/sequence_candidates.py --out /tmp/x.csv

The notebook (issue 24: every notebook in a minute) trains four networks of its eight section-3
candidates live (``lstm_ae``, ``conv_ae`` with and without dropout, ``dense_ae``; the rolling z-score costs
nothing) and reads the rows of ``cnn_lstm`` and of both ``attn_lstm`` (patience 5 and 10, together more than
half of the section's training time) from ``benchmarks/sequence_candidates.csv``.

This script runs the section exactly as the notebook's cells
4, 20 and 22 do: ``signals.generate(n_days=21, freq="2min", anomalies=16, seed=3, clean_fraction=2/3)``,
interpolated, weeks 1 / 2 / 3 to fit / calibrate / test, window 24, batch 64, patience 5 (10 for the second
``attn_lstm``), at most 300 epochs, ``calibration=0``, the threshold at the 99.9th percentile of the week-2
scores. It fits all eight, so the notebook can check that its live rows equal the committed ones.

Per detector, ``sequence_candidates.csv`` holds the columns of the notebook's results table (event metrics on
week 3 from ``metrics.evaluate``, the shifted-alarms random line of F1 and of event recall, 20 shifts, seed 0,
and the alarm share), the training table (epochs run, best epoch, best validation loss, seconds of fit and
scoring) and, per anomaly type, the share of the week-3 events with at least one alarm inside (``caught
<type>``, the per-type heat map of Going further). ``sequence_candidates_epochs.csv`` holds every network's
training and validation loss per epoch (the curves of section 5). Deep models are seeded (``random_state=0``),
so a rerun on the same machine and versions repeats every column but the seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sadlib import detectors, metrics, signals
from sadlib.windows import chronological_split

OUT = Path(__file__).with_name("sequence_candidates.csv")
WINDOW, BATCH, PATIENCE, EPOCHS = 24, 64, 5, 300


def candidates() -> dict:
    """The eight detectors of notebook 06, cell 20 (full mode)."""
    settings = dict(window=WINDOW, epochs=EPOCHS, patience=PATIENCE, batch_size=BATCH, calibration=0)
    return {
        "lstm_ae": detectors.make("lstm_ae", **settings),
        "conv_ae": detectors.make("conv_ae", dropout=0.0, **settings),
        "conv_ae (dropout 0.2)": detectors.make("conv_ae", **settings),
        "cnn_lstm": detectors.make("cnn_lstm", **settings),
        "attn_lstm": detectors.make("attn_lstm", **settings),
        "attn_lstm (patience 10)": detectors.make("attn_lstm", **{**settings, "patience": 10}),
        "dense_ae": detectors.make("dense_ae", latent=4, **settings),
        "rolling z-score": detectors.make("zscore", window=30),
    }


def run() -> tuple[pd.DataFrame, pd.DataFrame]:
    data, events = signals.generate(n_days=21, freq="2min", anomalies=16, seed=3, clean_fraction=2 / 3)
    sensors = list(signals.SENSORS)
    data[sensors] = data[sensors].interpolate(limit_direction="both")
    train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
    y_test = test["anomaly"].to_numpy().astype(bool)
    test_events = events[events["start"] >= test.index[0]].reset_index(drop=True)
    rows, curves = [], []
    for name, det in candidates().items():
        t0 = time.perf_counter()
        det.fit(train[sensors])
        det.calibrate(det.score(val[sensors]), threshold=("percentile", {"q": 99.9}))
        scores = det.score(test[sensors])
        alarms = scores > det.threshold_
        seconds = time.perf_counter() - t0
        row = {"detector": name, **metrics.evaluate(y_test, scores, alarms, index=test.index)}
        for m in ("f1", "event_recall"):
            line = metrics.shifted_alarms_baseline(y_test, alarms, metric=m, n_shifts=20, seed=0)
            row[f"random {m}"], row[f"random {m} sd"] = line["mean"], line["std"]
        row["alarm share"] = float(alarms.mean())
        if hasattr(det, "history_"):
            row.update({"epochs run": det.n_epochs_, "best epoch": det.best_epoch_,
                        "best validation loss": min(det.history_["val_loss"])})
            curves.append(pd.DataFrame({"detector": name, "epoch": np.arange(1, det.n_epochs_ + 1),
                                        "loss": det.history_["loss"], "val_loss": det.history_["val_loss"]}))
        row["seconds"] = round(seconds, 2)
        for kind, group in test_events.groupby("type"):
            caught = [alarms[(test.index >= ev["start"]) & (test.index <= ev["end"])].any()
                      for _, ev in group.iterrows()]
            row[f"caught {kind}"] = float(np.mean(caught))
        rows.append(row)
        print(f"{name}: F1 {row['f1']:.3f}, PR-AUC {row['pr_auc']:.3f}, {seconds:.1f} s", flush=True)
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the table (the curves go beside it, *_epochs.csv)")
    args = parser.parse_args(argv)
    table, curves = run()
    table.to_csv(args.out, index=False, float_format="%.6g")
    curves.to_csv(args.out.with_name(args.out.stem + "_epochs.csv"), index=False, float_format="%.6g")
    print(f"wrote {args.out} and {args.out.with_name(args.out.stem + '_epochs.csv')}")


if __name__ == "__main__":
    main()
