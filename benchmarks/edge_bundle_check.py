"""Does the edge bundle decide as the Keras detector does? Float32 and integer-only (int8 I/O) variants on SKAB.

For each SKAB file and detector (course defaults, ``sadlib.detectors.make(name)``): fit on the
first 400 rows of the 8 sensors (the SKAB protocol of ``sadlib.bench``), write an edge bundle with
:func:`sadlib.edge_bundle.write_bundle` (``variants=("float32", "int8")``, the int8 ranges
calibrated on the same 400 rows), and replay the last ``window - 1`` training rows followed by the
test rows through the bundle's reader one sample at a time (:func:`sadlib.edge_reader.load_bundle`),
so every test row gets a score. The reference is the Keras detector's ``score`` and ``predict`` on the
same rows. Per file, detector and variant it records

* ``max_gap``, ``p99_gap``, ``median_gap``: the largest, 99th-percentile and median
  ``|edge score - Keras score| / threshold`` over the test rows (parity relative to the threshold: 0.01
  means the score moved by 1 % of the threshold); ``max_gap_unflagged``: the largest over the rows the
  Keras detector does not flag (the largest gaps are on anomalies far outside the training range, where
  the int8 input saturates and both scores are far above the threshold);
* ``agreement``: the share of test rows where the edge alarm (``score > threshold``, min_duration 1)
  equals ``det.predict``; ``n_disagree`` the number of rows that differ;
* ``keras_alarms``, ``edge_alarms``; ``model_bytes`` (the .tflite file); ``us_per_sample`` (the
  reader's ``update``, one thread).

It writes ``benchmarks/edge_bundle.csv`` (``--out`` to change) and prints a summary per detector and
variant. About 1-2 minutes on 2 cores for the default 4 files (``--files`` to change).

Usage::

    SADLIB_DATA_DIR=/path/to/mirror python benchmarks/edge_bundle_check.py
    python benchmarks/edge_bundle_check.py --files valve1/0 --detectors dense_ae
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sadlib import datasets, detectors
from sadlib.bench import SKAB_TRAIN_ROWS
from sadlib.edge_bundle import load_bundle, write_bundle

FILES = ["valve1/0", "valve1/1", "valve2/0", "other/1"]
DETECTORS = ["dense_ae", "conv_ae"]
OUT = Path(__file__).with_name("edge_bundle.csv")


def check(key: str, name: str, tmp: Path) -> list[dict]:
    df = datasets.load_skab_file(key)
    X = df[list(datasets.SKAB_SENSORS)]
    train, test = X.iloc[:SKAB_TRAIN_ROWS], X.iloc[SKAB_TRAIN_ROWS:]
    det = detectors.make(name).fit(train)
    w = int(det.window)
    replay = pd.concat([train.iloc[len(train) - (w - 1):], test])
    reference = det.score(replay)[w - 1:]
    decisions = det.predict(replay)[w - 1:]
    start = time.perf_counter()
    folder = write_bundle(det, tmp / f"{key.replace('/', '_')}_{name}", variants=("float32", "int8"),
                          representative_rows=train)
    write_s = time.perf_counter() - start
    rows = []
    for variant in ("float32", "int8"):
        scorer = load_bundle(folder, variant=variant)
        start = time.perf_counter()
        scores, alarms = scorer.run(replay.to_numpy())
        per_sample = (time.perf_counter() - start) / len(replay)
        scores, alarms = scores[w - 1:], alarms[w - 1:]
        gap = np.abs(scores - reference) / det.threshold_
        rows.append({
            "file": key, "detector": name, "variant": variant, "window": w, "n_test": len(test),
            "threshold": det.threshold_, "max_gap": gap.max(), "p99_gap": np.percentile(gap, 99),
            "median_gap": np.median(gap), "max_gap_unflagged": gap[~decisions].max() if (~decisions).any() else 0.0,
            "agreement": float((alarms == decisions).mean()), "n_disagree": int((alarms != decisions).sum()),
            "keras_alarms": int(decisions.sum()), "edge_alarms": int(alarms.sum()),
            "model_bytes": (folder / f"model_{variant}.tflite").stat().st_size,
            "us_per_sample": 1e6 * per_sample, "write_s": write_s,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="+", default=FILES)
    parser.add_argument("--detectors", nargs="+", default=DETECTORS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.files:
            for name in args.detectors:
                rows.extend(check(key, name, Path(tmp)))
                print(pd.DataFrame(rows[-2:])[["file", "detector", "variant", "max_gap", "agreement"]]
                      .to_string(index=False, header=len(rows) == 2), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False, float_format="%.6g")
    summary = table.groupby(["detector", "variant"], sort=False).agg(
        files=("file", "size"), max_gap=("max_gap", "max"), p99_gap=("p99_gap", "max"),
        median_gap=("median_gap", "max"), max_gap_unflagged=("max_gap_unflagged", "max"),
        agreement=("agreement", "mean"), n_disagree=("n_disagree", "sum"), keras_alarms=("keras_alarms", "sum"),
        model_bytes=("model_bytes", "median"), us_per_sample=("us_per_sample", "median"))
    print(summary.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
