"""Experiment tracking for tuning runs: TensorBoard event files and Weights & Biases in offline mode.

:class:`Tracker` logs each trial of a search (its parameters, its final metrics and,
if given, per-epoch curves) to

* **TensorBoard**: one event-file folder per trial under ``run_dir/tensorboard``,
  scalars per epoch plus the trial's hyperparameters for the HParams dashboard.
  Written with TensorBoard's own writer, so TensorFlow is not needed. View them
  with ``tensorboard --logdir run_dir/tensorboard`` (in Jupyter: ``%load_ext
  tensorboard`` then ``%tensorboard --logdir ...``).
* **Weights & Biases** in offline mode: one run per trial under ``run_dir/wandb``,
  written to disk only; no account, no network. Upload later, if you want, with
  ``wandb sync run_dir/wandb/offline-run-*`` (needs ``wandb login``).

and keeps a table of the trials (:meth:`Tracker.trials_table`), also saved as
``run_dir/trials.csv``. :func:`read_tensorboard_scalars` and :func:`read_wandb_offline`
read the logged values back, without a server.

Both trackers are optional: the ``tracking`` extra installs them
(``pip install -c requirements/lab.lock.txt -e ".[tracking]"``).
"""

from __future__ import annotations

import json
import math
import os
import socket
import struct
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ._extras import install_hint
from .validation import InvalidParameterError, check_bool, check_int

__all__ = ["Tracker", "read_tensorboard_scalars", "read_wandb_offline", "EXTRA_HINT"]

#: how to install what this module needs
EXTRA_HINT = install_hint("tracking")


def _need(module: str) -> Any:
    """Import an optional dependency, or raise an ImportError naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{module} is not installed; experiment tracking needs the tracking extra: "
                          f"{EXTRA_HINT} (or pass {module.split('.')[0]}=False to Tracker).") from err


def _scalar(name: str, value: Any) -> float | None:
    """A metric as a float; None for strings (kept in the table, not plotted)."""
    if isinstance(value, str):
        return None
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"metric {name!r} is {type(value).__name__}; log numbers (or strings) only. "
                                    f"Per-epoch lists go in history=.") from None
    return out


def _config_value(value: Any) -> Any:
    """A parameter as something JSON, TensorBoard's HParams and W&B config all accept."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


class Tracker:
    """Log the trials of a hyperparameter search to TensorBoard and to Weights & Biases (offline).

    Parameters
    ----------
    run_dir : str or Path
        Folder for everything this tracker writes (created if missing):
        ``tensorboard/trial_000/...``, ``wandb/offline-run-*/...``, ``trials.csv``.
    project : str
        W&B project name (used when the runs are synced later).
    tensorboard, wandb : bool
        Which trackers to write. A missing package raises an ImportError that
        names the extra to install.
    group : str, optional
        W&B group of the runs (e.g. the study name); default: the folder name.
    verbose : bool
        Print, once, where the files are and how to view or sync them.

    Examples
    --------
    ::

        tracker = Tracker("runs/nb10")
        tracker.log_trial(0, {"window": 30, "lr": 1e-3}, {"val_loss": 0.21},
                          history={"loss": [0.5, 0.3], "val_loss": [0.4, 0.21]})
        tracker.trials_table()
    """

    def __init__(self, run_dir: Any, *, project: str = "sadlib-course", tensorboard: bool = True, wandb: bool = True,
                 group: str | None = None, verbose: bool = True):
        if not isinstance(run_dir, (str, os.PathLike)) or str(run_dir) == "":
            raise InvalidParameterError(f"run_dir must be a folder path (str or Path), got {run_dir!r}.")
        if not isinstance(project, str) or not project.strip():
            raise InvalidParameterError(f"project must be a non-empty string, got {project!r}.")
        self.run_dir = Path(run_dir)
        self.project = project
        self.tensorboard = check_bool("tensorboard", tensorboard)
        self.wandb = check_bool("wandb", wandb)
        self.group = group
        self.verbose = check_bool("verbose", verbose)
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise InvalidParameterError(f"run_dir {str(self.run_dir)!r} is a file; pass a folder.")
        if self.tensorboard:
            _need("tensorboard")
        if self.wandb:
            _need("wandb")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._rows: list[dict] = []
        self._told = False
        self._tb_files = 0

    # -- paths ---------------------------------------------------------------------------
    @property
    def tensorboard_dir(self) -> Path:
        """``run_dir/tensorboard``: pass it to ``tensorboard --logdir``."""
        return self.run_dir / "tensorboard"

    @property
    def wandb_dir(self) -> Path:
        """``run_dir/wandb``: the offline W&B runs, one ``offline-run-*`` folder per trial."""
        return self.run_dir / "wandb"

    def sync_command(self) -> str:
        """The shell command that uploads the offline W&B runs later (after ``wandb login``)."""
        return f"wandb sync {self.wandb_dir}/offline-run-*"

    def keras_callback(self, trial_number: int, **kwargs: Any) -> Any:
        """A ``keras.callbacks.TensorBoard`` writing into this trial's TensorBoard folder.

        Pass it to ``model.fit(..., callbacks=[...])`` to log Keras' own curves
        (and graphs) next to what :meth:`log_trial` writes. Extra keyword
        arguments go to the callback (e.g. ``histogram_freq=1``).
        """
        trial_number = check_int("trial_number", trial_number, 0)
        keras = _need("keras")
        return keras.callbacks.TensorBoard(log_dir=str(self.tensorboard_dir / f"trial_{trial_number:03d}" / "keras"),
                                           **kwargs)

    # -- logging -------------------------------------------------------------------------
    def log_trial(self, trial_number: int, params: Mapping[str, Any], metrics: Mapping[str, Any],
                  step: int | None = None, history: Mapping[str, Any] | None = None) -> dict:
        """Log one trial: its parameters, its final metrics and, optionally, per-epoch curves.

        Parameters
        ----------
        trial_number : int >= 0
            The trial's number (Optuna's ``trial.number``); names the TensorBoard
            folder ``trial_NNN`` and the W&B run ``trial-NNN``.
        params : dict
            Hyperparameters (numbers, strings, booleans; anything else is logged as its ``str``).
        metrics : dict
            Final metrics of the trial, e.g. ``{"val_loss": 0.2, "event_f1": 0.8}``; numbers
            or strings (strings go only to the table and the W&B summary).
        step : int >= 0, optional
            The step at which the final metrics are logged; default: after the last
            epoch of ``history`` (or 0).
        history : dict of lists, optional
            Per-epoch values, e.g. ``model.fit(...).history``; logged as step ``0, 1, ...``.

        Returns
        -------
        dict
            The trial's row of :meth:`trials_table`, with the paths written.
        """
        trial_number = check_int("trial_number", trial_number, 0, hint="Use Optuna's trial.number.")
        if not isinstance(params, Mapping):
            raise InvalidParameterError(f"params must be a dict of hyperparameters, got {type(params).__name__}.")
        if not isinstance(metrics, Mapping):
            raise InvalidParameterError(f"metrics must be a dict of metric name -> number, got "
                                        f"{type(metrics).__name__}.")
        config = {str(k): _config_value(v) for k, v in params.items()}
        finals = {str(k): _scalar(str(k), v) for k, v in metrics.items()}
        texts = {str(k): v for k, v in metrics.items() if isinstance(v, str)}
        curves = _check_history(history)
        n_epochs = max((len(v) for v in curves.values()), default=0)
        if step is None:
            step = n_epochs
        step = check_int("step", step, 0, hint="It is the step (epoch) of the final metrics.")
        clash = sorted(set(config) & set(finals))
        if clash:
            raise InvalidParameterError(f"{clash} appear both as parameters and as metrics; rename one of them.")
        row: dict[str, Any] = {"trial": trial_number, **config,
                               **{k: (texts[k] if k in texts else v) for k, v in finals.items()}}
        if self.tensorboard:
            row["tensorboard_dir"] = str(self._log_tensorboard(trial_number, config, finals, step, curves))
        if self.wandb:
            row["wandb_dir"] = str(self._log_wandb(trial_number, config, finals, texts, step, curves))
        self._rows = [r for r in self._rows if r["trial"] != trial_number] + [row]
        self.trials_table().to_csv(self.run_dir / "trials.csv", index=False)
        if self.verbose and not self._told:
            self._told = True
            lines = [f"Tracking trials in {self.run_dir}"]
            if self.tensorboard:
                lines.append(f"  TensorBoard: tensorboard --logdir {self.tensorboard_dir}  (Jupyter: %tensorboard "
                             f"--logdir {self.tensorboard_dir})")
            if self.wandb:
                lines.append(f"  W&B (offline, nothing uploaded): upload later with  {self.sync_command()}")
            print("\n".join(lines))
        return dict(row)

    def _log_tensorboard(self, trial: int, config: dict, finals: dict, step: int, curves: dict) -> Path:
        # TensorBoard's RecordWriter on a plain file: the same TFRecord event file as tf.summary writes,
        # without importing TensorFlow (its EventFileWriter would, through tf.io.gfile).
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.hparams import summary_v2 as hp
        from tensorboard.summary.writer.record_writer import RecordWriter

        folder = self.tensorboard_dir / f"trial_{trial:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        self._tb_files += 1
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{self._tb_files}"
        with open(folder / name, "wb") as fh:
            writer = RecordWriter(fh)

            def event(**kwargs: Any) -> None:
                writer.write(event_pb2.Event(wall_time=time.time(), **kwargs).SerializeToString())

            def scalar(tag: str, value: float, at: int) -> None:
                summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
                event(step=int(at), summary=summ)

            event(step=0, file_version="brain.Event:2")
            hparams = {k: v for k, v in config.items() if v is not None}
            if hparams:
                event(step=0, summary=hp.hparams_pb(hparams, trial_id=f"trial_{trial:03d}"))
            for tag, values in curves.items():
                for epoch, v in enumerate(values):
                    if v is not None and math.isfinite(v):
                        scalar(f"epoch/{tag}", v, epoch)
            for tag, v in finals.items():
                if v is not None:
                    scalar(tag, v, step)
        return folder

    def _log_wandb(self, trial: int, config: dict, finals: dict, texts: dict, step: int, curves: dict) -> Path:
        wandb = _need("wandb")
        os.environ.setdefault("WANDB_SILENT", "true")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        settings = wandb.Settings(silent=True, console="off", save_code=False, disable_git=True,
                                  x_disable_stats=True, x_disable_meta=True)
        run = wandb.init(mode="offline", dir=str(self.run_dir), project=self.project, name=f"trial-{trial:03d}",
                         group=self.group or self.run_dir.name, config=config, reinit="create_new",
                         settings=settings)
        try:
            n_epochs = max((len(v) for v in curves.values()), default=0)
            for epoch in range(n_epochs):
                values = {f"epoch/{k}": v[epoch] for k, v in curves.items() if epoch < len(v) and v[epoch] is not None}
                run.log(values, step=epoch)
            run.log({k: v for k, v in finals.items() if v is not None}, step=max(step, n_epochs))
            run.summary.update({k: v for k, v in finals.items() if v is not None})
            run.summary.update(texts)
            folder = Path(run.dir).parent
        finally:
            run.finish()
        return folder

    # -- results -------------------------------------------------------------------------
    def trials_table(self) -> pd.DataFrame:
        """One row per logged trial, sorted by trial number: ``trial``, the parameters, the metrics, the paths."""
        if not self._rows:
            return pd.DataFrame(columns=["trial"])
        return pd.DataFrame(self._rows).sort_values("trial", ignore_index=True)

    def __repr__(self) -> str:
        return (f"Tracker({str(self.run_dir)!r}, project={self.project!r}, tensorboard={self.tensorboard}, "
                f"wandb={self.wandb}, trials={len(self._rows)})")


def _check_history(history: Any) -> dict[str, list[float | None]]:
    if history is None:
        return {}
    if not isinstance(history, Mapping):
        raise InvalidParameterError(f"history must be a dict of metric name -> per-epoch values (e.g. "
                                    f"model.fit(...).history), got {type(history).__name__}.")
    out = {}
    for k, values in history.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise InvalidParameterError(f"history[{k!r}] must be a list of per-epoch numbers, got "
                                        f"{type(values).__name__}.")
        out[str(k)] = [None if v is None else _scalar(f"history[{k!r}]", v) for v in values]
    return out


# --------------------------------------------------------------------------- #
# reading back
# --------------------------------------------------------------------------- #
def read_tensorboard_scalars(folder: Any) -> pd.DataFrame:
    """Every scalar in the TensorBoard event files of ``folder``: columns ``tag, step, value``.

    Reads the TFRecord event files directly (no TensorFlow, no server): the
    ``simple_value`` scalars this module writes and the tensor scalars of
    ``tf.summary.scalar`` (e.g. Keras' TensorBoard callback). TensorBoard's own
    ``EventAccumulator`` gives the same values (the tests check that).
    """
    _need("tensorboard")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.util import tensor_util

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; pass a trial folder such as run_dir/tensorboard/trial_000.")
    rows = []
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data, pos = path.read_bytes(), 0
        while pos + 12 <= len(data):  # TFRecord: uint64 length, uint32 crc, data, uint32 crc
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            ev = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 16 + length
            for v in ev.summary.value:
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    rows.append((v.tag, ev.step, float(v.simple_value)))
                elif kind == "tensor" and v.metadata.plugin_data.plugin_name == "scalars":
                    rows.append((v.tag, ev.step, float(tensor_util.make_ndarray(v.tensor))))
    return pd.DataFrame(rows, columns=["tag", "step", "value"])


_WANDB_BLOCK = 32768
_WANDB_HEADER = 7  # ":W&B", 2-byte magic, 1-byte version


def _wandb_records(path: Path) -> list[bytes]:
    """The raw records of a ``.wandb`` file (LevelDB log format: 32 KiB blocks of crc, length, type, data)."""
    data = path.read_bytes()
    if not data.startswith(b":W&B"):
        raise ValueError(f"{path} is not a W&B run file (it does not start with ':W&B').")
    pos, buf, out = _WANDB_HEADER, b"", []
    while pos + 7 <= len(data):
        left = _WANDB_BLOCK - pos % _WANDB_BLOCK
        if left < 7:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        pos += 7
        if kind == 0 and length == 0:
            break
        buf += data[pos:pos + length]
        pos += length
        if kind in (1, 4):  # a full record, or the last piece of one
            out.append(buf)
            buf = b""
    return out


def read_wandb_offline(run: Any) -> dict[str, Any]:
    """Read an offline W&B run back from disk: its config, summary and history.

    Parameters
    ----------
    run : str or Path
        An ``offline-run-*`` folder (as in ``trials_table()["wandb_dir"]``) or its ``run-*.wandb`` file.

    Returns
    -------
    dict
        ``{"id", "name", "project", "config": dict, "summary": dict, "history": DataFrame}``
        (user keys only; W&B's own ``_step``, ``_runtime``, ... are dropped, the
        history is indexed by step).
    """
    wandb_pb = _need("wandb.proto.wandb_internal_pb2")
    path = Path(run)
    if path.is_dir():
        files = sorted(path.glob("run-*.wandb"))
        if not files:
            raise FileNotFoundError(f"no run-*.wandb file in {path}; pass an offline-run-* folder of a W&B run.")
        path = files[0]
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; pass an offline-run-* folder or its run-*.wandb file.")

    def key(item: Any) -> str:
        return item.key or "/".join(item.nested_key)

    out: dict[str, Any] = {"id": None, "name": None, "project": None, "config": {}, "summary": {}}
    history: dict[int, dict] = {}
    for raw in _wandb_records(path):
        rec = wandb_pb.Record()
        rec.ParseFromString(raw)
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            out.update(id=rec.run.run_id, name=rec.run.display_name, project=rec.run.project)
            for item in rec.run.config.update:
                if not key(item).startswith("_"):
                    out["config"][key(item)] = json.loads(item.value_json)
        elif kind == "config":
            for item in rec.config.update:
                if not key(item).startswith("_"):
                    out["config"][key(item)] = json.loads(item.value_json)
        elif kind == "summary":
            for item in rec.summary.update:
                if not key(item).startswith("_"):
                    out["summary"][key(item)] = json.loads(item.value_json)
        elif kind == "history":
            values = {key(i): json.loads(i.value_json) for i in rec.history.item}
            at = int(values.get("_step", rec.history.step.num))
            history.setdefault(at, {}).update({k: v for k, v in values.items() if not k.startswith("_")})
    out["history"] = pd.DataFrame.from_dict(history, orient="index").sort_index().rename_axis("step")
    return out
