"""Training time of every Keras detector at the course's full-mode size and on small SKAB files.

    python benchmarks/fit_times.py                 # this checkout
    PYTHONPATH=../old python benchmarks/fit_times.py   # another checkout (e.g. a git worktree of an older commit)

Part 1 fits each detector once on the synthetic pump of notebooks 06, 07 and 09 (21 days at 2 min,
week 1 is the training part; window 24, batch 64) for a fixed 15 epochs (early stopping off), so two
versions do the same work. Part 2 fits each detector with its defaults on the first 400 rows of six
SKAB files, where Keras's tracing of a new model weighs as much as the training itself. It prints
seconds and the last validation loss, which must be equal between versions that claim the same
results. Run it alone: on a shared machine the times mean little.
"""

import time

from sadlib import bench, datasets, detectors, signals
from sadlib.environment import import_tensorflow
from sadlib.windows import chronological_split

NAMES = ["dense_ae", "lstm_ae", "conv_ae", "cnn_lstm", "attn_lstm", "vqvae", "lstm_forecast"]
SKAB_KEYS = ["valve1/0", "valve1/5", "valve2/0", "other/1", "other/9", "other/14"]


def main() -> None:
    import_tensorflow()  # (older checkouts have no import_keras)
    data, _ = signals.generate(n_days=21, freq="2min", anomalies=16, seed=3, clean_fraction=2 / 3)
    sensors = list(signals.SENSORS)
    data[sensors] = data[sensors].interpolate(limit_direction="both")
    train, _, _ = chronological_split(data, train=1 / 3, val=1 / 3)
    print("detector         pump fit s  last val_loss   SKAB (6 files) fit s  epochs per file")
    skab = datasets.load_skab(SKAB_KEYS)
    for name in NAMES:
        params = dict(epochs=15, patience=100, calibration=0)
        if name != "lstm_forecast":
            params.update(window=24, batch_size=64)
        t0 = time.perf_counter()
        det = detectors.make(name, **params).fit(train[sensors])
        pump = time.perf_counter() - t0
        t0, epochs = time.perf_counter(), []
        for df in skab.values():
            X = df[list(datasets.SKAB_SENSORS)].iloc[: bench.SKAB_TRAIN_ROWS]
            epochs.append(detectors.make(name, epochs=30).fit(X).n_epochs_)
        print(f"{name:16s} {pump:10.2f}  {det.history_['val_loss'][-1]:.6e}   {time.perf_counter() - t0:10.2f}"
              f"            {epochs}", flush=True)


if __name__ == "__main__":
    main()
