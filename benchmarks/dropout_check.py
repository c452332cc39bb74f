"""Notebook 06's dropout question, tested: is conv_ae's worse validation loss with dropout a train/inference mismatch?

    python benchmarks/dropout_check.py                 # writes benchmarks/dropout_check.csv
    python benchmarks/dropout_check.py --skab-files 6  # SKAB on the first 6 files only (quicker)
    python benchmarks/dropout_check.py --out /tmp/x.csv

Notebook 06 (cell 20's text) explains why ``conv_ae`` with ``dropout=0.2`` stops with a higher validation
loss than without dropout as a train/inference mismatch: Keras logs the training loss with dropout on
(``training=True``) but the validation loss with dropout off. If that explanation is right, the
*training* windows' loss computed after training with ``training=False`` (dropout off, as the
validation loss is computed) behaves like the validation loss, and the gap between the logged
training loss and the validation loss is mostly the ``training=True`` penalty, not overfitting
or a worse model.

Part 1, the notebook's data (cells 4 and 18): ``signals.generate(n_days=21, freq="2min", anomalies=16,
seed=3, clean_fraction=2/3)``, interpolated, week 1 to fit on (its last 20 % for early stopping),
window 24, batch 64, patience 5, at most 300 epochs, ``calibration=0``. For dropout 0.2 and 0.0 it
fits ``conv_ae`` once and computes, with the restored best weights:

* ``train_loss_eval``: mean squared error of the training windows with ``training=False``;
* ``train_loss_dropout``: the same with ``training=True`` (dropout on; the mean of 5 passes);
* ``val_loss_eval``: the early-stopping windows with ``training=False`` (what Keras logs as val_loss);
* ``val_loss_dropout``: the early-stopping windows with ``training=True``;
* ``week2_loss_eval``: the clean week 2 (calibration data of the notebook) with ``training=False``;
* ``logged_loss`` and ``logged_val_loss`` at the best epoch (from ``history_``); epochs run;
* ``test_pr_auc`` and ``test_vus_pr`` on week 3 (threshold-free detection quality).

Part 2, SKAB (``sadlib.bench.run_skab``, the outlier-detection protocol of ``make bench``): ``conv_ae`` with
its other defaults and dropout 0.2 and 0.0, on all 34 files (or the first ``--skab-files``): F1, FAR,
MAR, pooled PR-AUC and per-file VUS-PR.

The table is printed and written to ``benchmarks/dropout_check.csv`` (one row per part and dropout;
columns that do not apply are empty). Deep models are seeded (``random_state=0``), so a rerun on the same
machine and versions repeats the numbers. About 10 to 15 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sadlib import bench, datasets, detectors, metrics, signals
from sadlib.environment import import_keras
from sadlib.windows import chronological_split, sliding_windows

DROPOUTS = (0.2, 0.0)
WINDOW, BATCH, PATIENCE, EPOCHS = 24, 64, 5, 300
OUT = Path(__file__).with_name("dropout_check.csv")


def window_loss(model, windows: np.ndarray, *, training: bool, passes: int = 1, batch: int = 1024) -> float:
    """Mean squared reconstruction error of ``windows`` through ``model`` called with ``training``."""
    if training:
        import_keras().utils.set_random_seed(1)  # the dropout masks (never reseeded during a fit: eval draws nothing)
    total = 0.0
    for _ in range(passes):
        errs = []
        for i in range(0, len(windows), batch):
            w = windows[i:i + batch]
            out = np.asarray(model(w, training=training), dtype=np.float64)
            errs.append(((out - w) ** 2).mean(axis=(1, 2)))
        total += float(np.concatenate(errs).mean())
    return total / passes


class EvalLossConvAE(detectors.ConvAutoencoder):
    """``conv_ae`` that also records, after every epoch, its training windows' loss with ``training=False``.

    The extra callback only reads the model (no dropout masks are drawn with ``training=False``), so
    the fit is the one ``conv_ae`` makes; the script checks that epochs and losses equal a plain fit's.
    """

    def _callbacks(self):
        keras, det = import_keras(), self

        class TrainLossEval(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                det.train_eval_curve_, self._windows = [], None

            def on_epoch_end(self, epoch, logs=None):
                if self._windows is None:  # the scaler and the split exist once training runs
                    rows = det.scaler_.transform(det._fit_rows[: det.n_fit_rows_])
                    self._windows = sliding_windows(rows, int(det.window)).astype(np.float32)
                det.train_eval_curve_.append(window_loss(self.model, self._windows, training=False))

        return [*super()._callbacks(), TrainLossEval()]

    def _fit(self, X):
        self._fit_rows = X
        try:
            super()._fit(X)
        finally:
            del self._fit_rows


def pump_rows() -> tuple[list[dict], pd.DataFrame]:
    data, events = signals.generate(n_days=21, freq="2min", anomalies=16, seed=3, clean_fraction=2 / 3)
    sensors = list(signals.SENSORS)
    data[sensors] = data[sensors].interpolate(limit_direction="both")
    train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
    y_test = test["anomaly"].to_numpy().astype(bool)
    rows, curves = [], []
    for dropout in DROPOUTS:
        settings = dict(dropout=dropout, window=WINDOW, epochs=EPOCHS, patience=PATIENCE, batch_size=BATCH,
                        calibration=0)
        t0 = time.perf_counter()
        det = detectors.make("conv_ae", **settings).fit(train[sensors])
        seconds = time.perf_counter() - t0
        traced = EvalLossConvAE(**settings).fit(train[sensors])
        same = traced.n_epochs_ == det.n_epochs_ and np.allclose(traced.history_["val_loss"], det.history_["val_loss"])
        curve = np.asarray(traced.train_eval_curve_)
        curves.append(pd.DataFrame({"dropout": dropout, "epoch": np.arange(1, len(curve) + 1),
                                    "logged_loss": traced.history_["loss"],
                                    "logged_val_loss": traced.history_["val_loss"], "train_loss_eval": curve}))
        scaled = det.scaler_.transform(train[sensors].to_numpy())
        n_fit = det.n_fit_rows_
        fit_w = sliding_windows(scaled[:n_fit], WINDOW).astype(np.float32)
        val_w = sliding_windows(scaled[n_fit:], WINDOW).astype(np.float32)
        week2_w = sliding_windows(det.scaler_.transform(val[sensors].to_numpy()), WINDOW).astype(np.float32)
        best = det.best_epoch_ - 1
        scores = det.score(test[sensors])
        rows.append({
            "part": "pump (notebook 06)", "dropout": dropout, "epochs_run": det.n_epochs_,
            "best_epoch": det.best_epoch_, "fit_seconds": round(seconds, 1),
            "logged_loss": det.history_["loss"][best], "logged_val_loss": det.history_["val_loss"][best],
            "train_loss_eval": window_loss(det.model_, fit_w, training=False),
            "train_loss_dropout": window_loss(det.model_, fit_w, training=True, passes=5),
            "val_loss_eval": window_loss(det.model_, val_w, training=False),
            "val_loss_dropout": window_loss(det.model_, val_w, training=True, passes=5),
            "week2_loss_eval": window_loss(det.model_, week2_w, training=False),
            "test_pr_auc": metrics.pr_auc(y_test, scores), "test_vus_pr": metrics.vus_pr(y_test, scores),
            # the per-epoch curves (dropout_check_epochs.csv), from a second fit with the recording callback
            "curves_match_plain_fit": bool(same),
            "train_eval_lowest_epoch": int(np.argmin(curve)) + 1,
            "val_lowest_epoch": int(np.argmin(traced.history_["val_loss"])) + 1,
            "logged_loss_lowest_epoch": int(np.argmin(traced.history_["loss"])) + 1,
            "train_eval_last_over_lowest": float(curve[-1] / curve.min()),
            "val_last_over_lowest": float(traced.history_["val_loss"][-1] / min(traced.history_["val_loss"])),
            "logged_loss_last_over_lowest": float(traced.history_["loss"][-1] / min(traced.history_["loss"])),
        })
        print(f"pump, dropout {dropout}: {det.n_epochs_} epochs in {seconds:.0f} s", flush=True)
    return rows, pd.concat(curves, ignore_index=True)


def skab_rows(n_files: int | None) -> list[dict]:
    data = datasets.load_skab()
    data.pop("anomaly-free", None)
    if n_files is not None:
        data = dict(list(data.items())[:n_files])
    specs = {f"conv_ae dropout {d}": (lambda d=d: detectors.make("conv_ae", dropout=d)) for d in DROPOUTS}
    table = bench.run_skab(specs, data, progress=False)
    rows = []
    for d, (_, row) in zip(DROPOUTS, table.iterrows()):
        rows.append({"part": f"SKAB ({int(row['n_files'])} files)", "dropout": d,
                     "fit_seconds": round(float(row["fit_seconds"]), 1),
                     **{k: float(row[k]) for k in ("f1", "far", "mar", "pr_auc", "vus_pr")}})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skab-files", type=int, default=None, help="SKAB on the first N files only (default all)")
    parser.add_argument("--no-skab", action="store_true", help="part 1 only")
    parser.add_argument("--out", type=Path, default=OUT, help=f"CSV to write (default {OUT})")
    args = parser.parse_args(argv)
    rows, curves = pump_rows()
    if not args.no_skab:
        rows += skab_rows(args.skab_files)
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False, float_format="%.6g")
    epochs_out = args.out.with_name(args.out.stem + "_epochs.csv")
    curves.to_csv(epochs_out, index=False, float_format="%.6g")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.set_index(["part", "dropout"]).T.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"wrote {args.out} and {epochs_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
