"""Experiment tracking: TensorBoard event files and Weights & Biases offline runs, read back from disk."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tensorboard")
pytest.importorskip("wandb")

from sadlib.tracking import Tracker, read_tensorboard_scalars, read_wandb_offline  # noqa: E402
from sadlib.validation import InvalidParameterError  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No account, no network: W&B offline and pointed at a closed local port, no TensorFlow needed."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # any upload attempt would fail loudly
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """Two trials logged to both trackers (one W&B run per trial)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    mp.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    run_dir = tmp_path_factory.mktemp("runs") / "study"
    tracker = Tracker(run_dir, project="sadlib-test", verbose=False)
    tracker.log_trial(0, {"window": 30, "learning_rate": 1e-3, "model": "dense_ae"},
                      {"val_loss": 0.25, "event_f1": 0.8},
                      history={"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.4, 0.25]})
    tracker.log_trial(1, {"window": np.int64(60), "learning_rate": 1e-2, "model": "lstm_ae"},
                      {"val_loss": np.float32(0.5), "event_f1": 0.6, "note": "diverged early"})
    yield tracker
    mp.undo()


_READ_WITH_EVENT_ACCUMULATOR = """
import json, sys, types
# TensorBoard's own switch for running without TensorFlow (as the tensorboard-notf build does): its stub
# reads the same files and spares the test the TensorFlow import. A fresh interpreter, so nothing else sees it.
sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1])
acc.Reload()
out = {"scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]},
       "tensors": acc.Tags()["tensors"], "tensorflow": "tensorflow" in sys.modules}
print(json.dumps(out))
"""


def test_tensorboard_event_files_hold_the_logged_scalars(logged):
    import json
    import subprocess

    folder = logged.tensorboard_dir / "trial_000"
    assert list(folder.glob("events.out.tfevents.*"))
    done = subprocess.run([sys.executable, "-c", _READ_WITH_EVENT_ACCUMULATOR, str(folder)], capture_output=True,
                          text=True, timeout=120, check=True)
    acc = json.loads(done.stdout.strip().splitlines()[-1])  # what the TensorBoard server reads
    assert not acc["tensorflow"]
    scalars = acc["scalars"]
    assert {"epoch/loss", "epoch/val_loss", "val_loss", "event_f1"} <= set(scalars)
    assert [v for _, v in scalars["epoch/loss"]] == pytest.approx([0.9, 0.5, 0.3])
    assert [s for s, _ in scalars["epoch/loss"]] == [0, 1, 2]
    assert scalars["val_loss"] == [[3, pytest.approx(0.25)]]
    # the hyperparameters are there for the HParams dashboard
    assert any(t.startswith("_hparams_") for t in acc["tensors"])
    # and our reader gives the same
    ours = read_tensorboard_scalars(folder)
    loss = ours[ours["tag"] == "epoch/loss"].sort_values("step")
    assert loss["value"].tolist() == pytest.approx([0.9, 0.5, 0.3])
    other = read_tensorboard_scalars(logged.tensorboard_dir / "trial_001")
    assert dict(zip(other["tag"], other["value"])) == pytest.approx({"val_loss": 0.5, "event_f1": 0.6})


def test_wandb_offline_runs_are_written_and_readable(logged):
    table = logged.trials_table()
    runs = sorted(logged.wandb_dir.glob("offline-run-*"))
    assert len(runs) == 2 and [str(r) for r in runs] == sorted(table["wandb_dir"])
    assert all(list(r.glob("run-*.wandb")) for r in runs)
    first = read_wandb_offline(table.loc[0, "wandb_dir"])
    assert first["name"] == "trial-000" and first["project"] == "sadlib-test"
    assert first["config"] == {"window": 30, "learning_rate": 1e-3, "model": "dense_ae"}
    assert first["summary"]["val_loss"] == pytest.approx(0.25) and first["summary"]["event_f1"] == pytest.approx(0.8)
    hist = first["history"]
    assert hist["epoch/val_loss"].dropna().tolist() == pytest.approx([1.0, 0.4, 0.25])
    assert hist.loc[3, "val_loss"] == pytest.approx(0.25)
    # a run's folder is offline-run-<second it started>-<random id>: two trials started within one second sort by
    # their random ids, so the second trial's folder is taken from the trials table, not from sorted names
    second = read_wandb_offline(next(iter(Path(table.loc[1, "wandb_dir"]).glob("run-*.wandb"))))
    assert second["config"]["window"] == 60 and second["summary"]["note"] == "diverged early"
    assert "wandb sync" in logged.sync_command() and str(logged.wandb_dir) in logged.sync_command()


def test_no_network_was_attempted(logged):
    logs = "".join(p.read_text(errors="replace") for p in logged.wandb_dir.rglob("debug-internal.log"))
    assert logs  # the W&B core ran
    assert "127.0.0.1:9" not in logs and "api.wandb.ai" not in logs and "connection refused" not in logs.lower()


def test_trials_table_compares_the_trials(logged):
    table = logged.trials_table()
    assert table["trial"].tolist() == [0, 1]
    assert table["window"].tolist() == [30, 60] and table["model"].tolist() == ["dense_ae", "lstm_ae"]
    assert table["val_loss"].tolist() == pytest.approx([0.25, 0.5])
    assert pd.isna(table.loc[0, "note"]) and table.loc[1, "note"] == "diverged early"
    on_disk = pd.read_csv(logged.run_dir / "trials.csv")
    assert on_disk["val_loss"].tolist() == pytest.approx([0.25, 0.5])


def test_relogging_a_trial_replaces_its_row_and_tensorboard_only(tmp_path, capsys):
    tracker = Tracker(tmp_path / "tb", wandb=False)
    tracker.log_trial(3, {"a": 1}, {"loss": 2.0})
    tracker.log_trial(3, {"a": 1}, {"loss": 1.0})
    assert tracker.trials_table()["loss"].tolist() == [1.0]
    assert "tensorboard --logdir" in capsys.readouterr().out
    assert not (tmp_path / "tb" / "wandb").exists()
    assert "wandb_dir" not in tracker.trials_table()


def test_empty_table_and_bad_input(tmp_path):
    tracker = Tracker(tmp_path, tensorboard=False, wandb=False)
    assert tracker.trials_table().empty
    with pytest.raises(InvalidParameterError, match="trial_number"):
        tracker.log_trial(-1, {}, {"loss": 1.0})
    with pytest.raises(InvalidParameterError, match="params must be a dict"):
        tracker.log_trial(0, [1, 2], {"loss": 1.0})
    with pytest.raises(InvalidParameterError, match="metrics must be a dict"):
        tracker.log_trial(0, {}, 0.5)
    with pytest.raises(InvalidParameterError, match="metric 'loss'"):
        tracker.log_trial(0, {}, {"loss": [1.0, 2.0]})
    with pytest.raises(InvalidParameterError, match="history must be a dict"):
        tracker.log_trial(0, {}, {"loss": 1.0}, history=[1.0])
    with pytest.raises(InvalidParameterError, match=r"history\['loss'\]"):
        tracker.log_trial(0, {}, {"loss": 1.0}, history={"loss": 0.5})
    with pytest.raises(InvalidParameterError, match="both as parameters and as metrics"):
        tracker.log_trial(0, {"loss": 1}, {"loss": 1.0})
    with pytest.raises(InvalidParameterError, match="run_dir"):
        Tracker(None)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidParameterError, match="is a file"):
        Tracker(tmp_path / "file")
    with pytest.raises(InvalidParameterError, match="tensorboard must be True or False"):
        Tracker(tmp_path, tensorboard="yes")
    with pytest.raises(FileNotFoundError, match="offline-run"):
        read_wandb_offline(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        read_tensorboard_scalars(tmp_path / "missing")


def test_missing_wandb_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb now raises ImportError
    hint = r'tracking extra: pip install -c requirements/lab.lock.txt -e "\.\[tracking\]"'
    with pytest.raises(ImportError, match=hint):
        Tracker(tmp_path)
    Tracker(tmp_path, wandb=False)  # TensorBoard alone still works


def test_tune_logs_every_trial_to_the_tracker(tmp_path):
    from sadlib.model_selection import tune

    tracker = Tracker(tmp_path, wandb=False, verbose=False)
    res = tune(lambda p: {"value": (p["x"] - 2) ** 2, "history": {"loss": [1.0, 0.5]}},
               {"x": ("float", 0.0, 4.0)}, 4, tracker=tracker)
    table = tracker.trials_table()
    assert table["trial"].tolist() == [0, 1, 2, 3]
    assert table["value"].tolist() == pytest.approx(res.trials["value"].tolist())
    assert table["x"].tolist() == pytest.approx(res.trials["x"].tolist())
    scal = read_tensorboard_scalars(tmp_path / "tensorboard" / "trial_002")
    assert set(scal["tag"]) == {"epoch/loss", "value", "seconds"}
    assert os.path.isdir(table.loc[3, "tensorboard_dir"])
