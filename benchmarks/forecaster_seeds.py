"""Notebook 05's course pipeline on the tutorial toy with three seeds: epochs, F1 of two rules and PR-AUC.

    python benchmarks/forecaster_seeds.py                     # writes benchmarks/forecaster_seeds.csv
    python benchmarks/forecaster_seeds.py --seeds 0,1,2,3 --csv /tmp/seeds.csv

Notebook 05 ("Going further", three seeds) fits seed 0 live (its section 4 model) and reads
every seed's row from the CSV this script writes; its hidden check compares the live seed-0
row with the CSV's, so a stale CSV fails ``make course``.

The pipeline is section 4's: ``make_forecast_toy(seed=0)``; training rows 0-599, validation
rows 600-749 (the detector's ``calibration=0.2`` of the 750 rows it is given), test rows
750-999; ``LSTMForecaster(window=50, units=(64, 32), input_noise=0.3, smooth=3,
batch_size=64, learning_rate=1e-3, epochs=100, patience=10, validation=0.2)`` with
``random_state=seed``. Rules on the test scores: ``1.5 x`` the largest validation score,
and inductive DBSCAN (``min_samples=10``, ``eps`` the 99th percentile of the validation
scores' 10-distances, fitted on the validation scores).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sadlib import clustering, metrics
from sadlib.detectors.lstm_forecast import LSTMForecaster, make_forecast_toy

COURSE_PARAMS = dict(window=50, units=(64, 32), input_noise=0.3, smooth=3, batch_size=64, learning_rate=1e-3,
                     epochs=100, patience=10, validation=0.2)
TRAIN_END, VAL_END, MIN_SAMPLES = 600, 750, 10
CSV = Path(__file__).with_name("forecaster_seeds.csv")


def seed_row(values, y_test, seed: int) -> dict:
    """One seed of the course pipeline: epochs run, the epoch kept, the F1 of both rules and PR-AUC."""
    det = LSTMForecaster(**COURSE_PARAMS, calibration=0.2, random_state=seed).fit(values[:VAL_END])
    s = det.score(values)
    v, t = s[TRAIN_END:VAL_END], s[VAL_END:]
    eps = clustering.suggest_eps(v, k=MIN_SAMPLES)
    return {"seed": seed, "epochs run": det.n_epochs_, "kept epoch": det.best_epoch_,
            "F1, 1.5 x max": metrics.point_metrics(y_test, t > 1.5 * v.max())["f1"],
            "F1, DBSCAN on validation": metrics.point_metrics(
                y_test, clustering.dbscan_outliers(t, eps, MIN_SAMPLES, reference=v))["f1"],
            "pr_auc": metrics.pr_auc(y_test, t)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--csv", type=Path, default=CSV)
    args = parser.parse_args(argv)
    toy = make_forecast_toy(seed=0)
    values = toy[["value"]].to_numpy()
    y_test = toy["anomaly"].to_numpy().astype(bool)[VAL_END:]
    out = pd.DataFrame([seed_row(values, y_test, int(seed)) for seed in args.seeds.split(",")]).set_index("seed")
    out.to_csv(args.csv, float_format="%.6g")
    print(out.round(3).to_string())
    print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
