"""Run a federation, its two baselines, and score every site with its own alarms.

* :func:`run_federated`: the Flower apps of :mod:`sadlib.federated.apps` in Flower's simulation
  engine (``flwr.simulation.run_simulation``: the ServerApp in a thread of this process, each
  site's ClientApp in Ray actors, each with its own TensorFlow).
  ``backend="inprocess"`` runs the *same* apps and Flower Messages through :class:`InProcessGrid`,
  a Flower ``Grid`` that hands each message to the site's ClientApp by a function call in this
  process: no Ray start, no TensorFlow import per actor (on 2 cores Ray's start-up alone takes
  longer than ten rounds of this small model; numbers in ``benchmarks/federated.csv``).
* :func:`train_local` (each site alone, on its own data and scaler) and
  :func:`train_centralised` (all sites' rows in one place: the upper bound that the
  federation tries to reach without moving data), with the same model and epochs.
* :func:`evaluate_sites`: one global model, *local* alarms. Each site fits its own
  :class:`~sadlib.alarms.AlarmPolicy` on the scores of its own validation days, then is
  scored on its test week with the course's event metrics, PR-AUC and false alarms per day.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..alarms import make_policy
from ..metrics import event_f1, event_metrics, false_alarms_per_day, pr_auc
from ..validation import check_choice, check_int
from .apps import DEFAULT_SETTINGS, STRATEGIES, make_client_app, make_server_app, scaled_rows
from .model import MODELS, build_model, combine_moments, local_fit, make_windows, reconstruction_scores, site_moments

__all__ = ["FederatedModel", "InProcessGrid", "run_federated", "train_local", "train_centralised", "evaluate_sites",
           "scoring_labels", "SIMULATION_BACKEND"]

#: Ray settings of :func:`run_federated`: one CPU per site's actor, two actors at a time on a 2-core machine.
SIMULATION_BACKEND: dict[str, Any] = {
    "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
    "init_args": {"num_cpus": 2, "num_gpus": 0, "logging_level": "error", "log_to_driver": False},
}


@dataclass
class FederatedModel:
    """Weights and scaler of a trained model, and how it was trained.

    ``mean``/``std`` is the shared scaler, or ``None`` when every site scales with its own
    training statistics (``scaling="site"``); ``history`` has one row per round (bytes, losses).
    ``privacy`` (runs with ``dp_clip > 0``, else ``None``): ``site_weight`` and ``site_influence``
    (how far one site can move the averaged update: its weight x the clip), ``noise_std``,
    ``epsilon`` and ``delta`` from Flower's accountant and the ``assumptions`` behind them
    (:mod:`sadlib.federated.privacy`).
    """

    weights: list
    mean: np.ndarray | None
    std: np.ndarray | None
    settings: dict
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: list = field(default_factory=list)
    wall_s: float = float("nan")
    privacy: dict | None = None

    def scaler_for(self, site) -> tuple[np.ndarray, np.ndarray]:
        """The mean and std that ``site`` scales its rows with."""
        if self.mean is None:
            return combine_moments([site_moments(site.train.to_numpy(dtype=np.float64))])
        return self.mean, self.std

    def model(self):
        """The Keras autoencoder with these weights."""
        s = self.settings
        n_inputs = len(self.weights[-1])  # the output layer's bias: one per input
        model = build_model(n_inputs, hidden=s["hidden"], latent=int(s["latent"]),
                            learning_rate=float(s["learning_rate"]), seed=None)
        model.set_weights(self.weights)
        return model


def _grid_base():
    from flwr.serverapp import Grid

    return Grid


#: The one private Flower module sadlib uses, and why: from flwr 1.38 a strategy creates each instruction
#: ``Message`` with the sending task's identity, read from this process-wide class, which Flower's runtimes
#: (simulation engine, SuperLink, and the legacy ``flwr.server.start_grid``) set and no public API does; since
#: flwrlabs/flower#8175 ("strict task identity", September 2026) reading it unset raises instead of falling
#: back to zero. Only :class:`InProcessGrid` needs it (flwr 1.35-1.37 have no such module and need nothing).
#: ``tests/test_federated.py`` allows exactly this import. The public way round it is Flower's simulation
#: engine, whose only backend in flwr 1.42 is Ray (``run_federated(..., backend="simulation")``): 60 s against 11 s
#: for 6 sites and 2 rounds on 2 cores, which notebook 11 cannot afford (issue 24 asks for both).
PRIVATE_FLWR_IMPORTS: tuple[str, ...] = ("flwr.supercore.task_identity",)


def _set_server_identity(run_id: int) -> None:
    """Give this process the identity of a ServerApp task (run ``run_id``, node 0), as Flower's runtimes do."""
    try:
        from flwr.supercore.task_identity import TaskIdentity
    except ImportError:  # flwr versions whose Message does not read a task identity
        return
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = run_id, 0, 1


class InProcessGrid(_grid_base()):
    """A Flower ``Grid`` whose nodes are ClientApps called in this process, one message after another.

    The ServerApp cannot tell it from the simulation engine's grid: it sends Flower Messages and
    gets Flower Messages back (an error reply when the ClientApp raises, as Flower does). Each
    node keeps its own :class:`~flwr.app.Context` (``node_config`` ``partition-id``, a persistent
    ``state``) across rounds. What it leaves out is the transport: no serialisation, no network,
    no process per site.

    Built on Flower's public API (``flwr.serverapp.Grid``, ``flwr.app``) with one exception,
    :func:`_set_server_identity`: since flwr 1.38 a ``Message`` created by a strategy reads the
    sending task's identity (``flwr.supercore.task_identity``, absent in 1.35-1.37), which only
    Flower's own runtimes set and no public API can. Replacing this grid by the simulation engine
    would avoid it at a cost: 6 sites, 2 rounds took 60 s on Ray against 11 s here (2 loaded cores).

    Parameters
    ----------
    client_app : flwr.clientapp.ClientApp
    n_nodes : int, nodes ``1..n_nodes`` get partition ids ``0..n_nodes-1``
    run_id : int
    """

    def __init__(self, client_app, n_nodes: int, *, run_id: int = 1):
        from flwr.app import Context, RecordDict

        n_nodes = check_int("n_nodes", n_nodes, 1, hint="It is the number of sites (ClientApps) in the grid.")
        run_id = check_int("run_id", run_id, 0)
        self.client_app = client_app
        self._run = SimpleNamespace(run_id=run_id)  # what a Grid's ``run`` tells a ServerApp: its run id
        self.contexts = {node: Context(run_id=run_id, node_id=node,
                                       node_config={"partition-id": node - 1, "num-partitions": n_nodes},
                                       state=RecordDict(), run_config={}) for node in range(1, n_nodes + 1)}
        self._replies: dict[str, Any] = {}
        _set_server_identity(run_id)

    def set_run(self, run) -> None:
        self._run = run

    @property
    def run(self):
        return self._run

    def create_message(self, content, message_type: str, dst_node_id: int, group_id: str, ttl: float | None = None):
        from flwr.app import Message

        return Message(content, dst_node_id=dst_node_id, message_type=message_type, group_id=group_id, ttl=ttl)

    def get_node_ids(self):
        return list(self.contexts)

    def push_messages(self, messages) -> list[str]:
        from flwr.app import Error, Message, Metadata

        ids = []
        for msg in messages:
            meta = msg.metadata
            if meta.dst_node_id not in self.contexts:
                raise ValueError(f"message for node {meta.dst_node_id}, which is not in this grid "
                                 f"({sorted(self.contexts)}).")
            message_id = uuid.uuid4().hex
            sent = Message(msg.content, metadata=Metadata(
                run_id=meta.run_id, message_id=message_id, src_node_id=meta.src_node_id,
                dst_node_id=meta.dst_node_id, reply_to_message_id="", group_id=meta.group_id,
                created_at=time.time(), ttl=meta.ttl, message_type=meta.message_type))
            try:
                reply = self.client_app(sent, self.contexts[meta.dst_node_id])
            except Exception as err:  # a failing site is an error reply, as in Flower; the round goes on
                reply = Message(Error(code=0, reason=f"{type(err).__name__}: {err}"), reply_to=sent)
            self._replies[message_id] = reply
            ids.append(message_id)
        return ids

    def pull_messages(self, message_ids) -> list:
        return [self._replies.pop(i) for i in message_ids if i in self._replies]

    def send_and_receive(self, messages, *, timeout: float | None = None) -> list:
        return self.pull_messages(self.push_messages(messages))


def _settings(overrides: dict) -> dict:
    unknown = set(overrides) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}.")
    return {**DEFAULT_SETTINGS, **overrides}


class _HeldRecords(logging.Handler):
    """Keeps the log records it receives instead of printing them."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _flower_errors_held(flwr_logger: logging.Logger, *, hold: bool):
    """Run Flower's simulation engine without its error log scrolling tracebacks into a notebook.

    With ``hold``, Flower's log records are held back while the engine runs. If it runs through, they
    go to Flower's own handlers afterwards, so nothing is lost. If it stops (Ray could not start, on a
    busy machine), they are dropped and one ``RuntimeError`` names the first cause instead of Flower's
    "An error was encountered. Ending simulation." (``verbose=True`` shows Flower's full log and traceback).
    """
    if not hold:
        yield
        return
    held, handlers, propagate = _HeldRecords(), list(flwr_logger.handlers), flwr_logger.propagate
    for handler in handlers:
        flwr_logger.removeHandler(handler)
    flwr_logger.addHandler(held)
    flwr_logger.propagate = False
    try:
        yield
    except RuntimeError as err:
        cause = err
        while cause.__cause__ is not None:
            cause = cause.__cause__
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise RuntimeError(f"Flower's simulation engine stopped: {first} (run_federated(..., verbose=True) "
                           f"shows Flower's log and traceback; backend='inprocess' runs the same apps without "
                           f"Ray)") from err
    else:
        for record in held.records:
            for handler in handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)
    finally:
        flwr_logger.removeHandler(held)
        for handler in handlers:
            flwr_logger.addHandler(handler)
        flwr_logger.propagate = propagate


def run_federated(sites: Sequence, strategy: str = "fedavg", *, rounds: int = 10, compress: str | None = None,
                  backend: str = "simulation", mods: Sequence = (), verbose: bool = False,
                  backend_config: dict | None = None, **settings) -> FederatedModel:
    """Train one model across ``sites`` with Flower; no site's rows leave its ClientApp.

    Parameters
    ----------
    sites : list of :class:`~sadlib.federated.Site`
    strategy : {"fedavg", "fedprox", "fedadam"}
    rounds : int
    compress : {None, "q8", "topk"}
        How the sites encode their updates (:mod:`sadlib.federated.codecs`).
    backend : {"simulation", "inprocess"}
        ``"simulation"``: Flower's simulation engine (Ray actors). ``"inprocess"``: the same apps
        through :class:`InProcessGrid` (no Ray; much faster to start on a small machine). The
        same apps also run as separate processes with a SuperLink and SuperNodes (see
        ``tests/test_federated_processes.py``).
    mods : sequence of Flower client mods, e.g. differential privacy clipping
    verbose : bool, Flower's own log lines (else only its errors; sadlib.federated's warnings always show)
    backend_config : dict, optional; default :data:`SIMULATION_BACKEND`
    **settings : overrides of :data:`sadlib.federated.apps.DEFAULT_SETTINGS`

    Returns
    -------
    FederatedModel
        With ``history`` (one row per round: ``uplink_bytes``, ``downlink_bytes`` (the ArrayRecords'
        payload bytes, :func:`~sadlib.federated.codecs.record_bytes`), ``train_loss``, ``val_loss``,
        rejected nodes), ``wall_s`` and, with ``dp_clip > 0``, ``privacy``.
    """
    check_choice("strategy", strategy, STRATEGIES)
    check_choice("backend", backend, ("simulation", "inprocess"))
    rounds = check_int("rounds", rounds, 1, hint="It is the number of federated rounds.")
    if len(sites) < 2:
        raise ValueError(f"a federation needs at least 2 sites, got {len(sites)}.")
    settings = _settings({**settings, "compress": "none" if compress is None else compress})
    outcome: dict = {}
    server = make_server_app(strategy=strategy, rounds=rounds, n_nodes=len(sites), sink=outcome.update, **settings)
    client = make_client_app(list(sites), mods=mods)
    flwr_logger = logging.getLogger("flwr")
    level = flwr_logger.level
    if not verbose:
        flwr_logger.setLevel(logging.ERROR)  # Flower's round-by-round INFO and its deprecation notices
    t0 = time.perf_counter()
    try:
        if backend == "simulation":
            from .engine import require_ray

            require_ray()  # Ray has no wheel for Windows + Python 3.13: say so, and what to do
            from flwr.simulation import run_simulation

            # Ray's future default (keep the GPU variables of CPU-only actors as they are), set now so that it
            # does not warn about the change on every start
            os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")

            with _flower_errors_held(flwr_logger, hold=not verbose):
                run_simulation(server_app=server, client_app=client, num_supernodes=len(sites),
                               backend_config=backend_config or SIMULATION_BACKEND, verbose_logging=verbose)
        else:
            from flwr.app import Context, RecordDict

            grid = InProcessGrid(client, len(sites))
            server(grid, Context(run_id=1, node_id=0, node_config={}, state=RecordDict(), run_config={}))
    finally:
        flwr_logger.setLevel(level)
    wall = time.perf_counter() - t0
    if "weights" not in outcome:
        raise RuntimeError("the federated run ended without a result; run again with verbose=True to see "
                           "Flower's log.")
    shared = outcome["settings"]["scaling"] == "federated"
    return FederatedModel(outcome["weights"], outcome["mean"] if shared else None, outcome["std"] if shared else None,
                          outcome["settings"], pd.DataFrame(outcome["history"]), outcome["rejected"], wall,
                          outcome.get("privacy"))


def _fit(train_rows: list[np.ndarray], settings: dict, epochs: int) -> list:
    """Train from the seeded initial weights on this process's model of the architecture (:data:`MODELS`).

    Building a model is cheap, tracing its training step is not (more than training this small model
    on 2 cores): the fresh model gives only its initial weights, and :func:`local_fit` trains the
    borrowed, already traced one from them (it resets the optimizer and reseeds), with the same
    result to the bit.
    """
    X = np.concatenate([make_windows(rows, int(settings["window"])) for rows in train_rows])
    arch = {"hidden": settings["hidden"], "latent": int(settings["latent"]),
            "learning_rate": float(settings["learning_rate"])}
    start = build_model(X.shape[1], **arch, seed=int(settings["seed"])).get_weights()
    with MODELS.borrow(X.shape[1], **arch) as model:
        weights, _ = local_fit(model, X, start, epochs=epochs, batch_size=int(settings["batch_size"]),
                               seed=int(settings["seed"]))
    return weights


def train_centralised(sites: Sequence, *, epochs: int = 10, **settings) -> FederatedModel:
    """One model on all sites' training rows pooled (needs all data in one place: the upper bound)."""
    s = _settings(settings)
    t0 = time.perf_counter()
    if s["scaling"] == "site":
        rows, mean, std = [], None, None
        for site in sites:
            m, d = combine_moments([site_moments(site.train.to_numpy(dtype=np.float64))])
            rows.append(scaled_rows(site.train, m, d))
    else:
        mean, std = combine_moments([site_moments(site.train.to_numpy(dtype=np.float64)) for site in sites])
        rows = [scaled_rows(site.train, mean, std) for site in sites]
    weights = _fit(rows, s, epochs)
    return FederatedModel(weights, mean, std, {**s, "strategy": "centralised", "epochs": epochs},
                          wall_s=time.perf_counter() - t0)


def train_local(site, *, epochs: int = 10, **settings) -> FederatedModel:
    """A model on one site's own training rows and scaler (no collaboration)."""
    s = _settings(settings)
    t0 = time.perf_counter()
    mean, std = combine_moments([site_moments(site.train.to_numpy(dtype=np.float64))])
    weights = _fit([scaled_rows(site.train, mean, std)], s, epochs)
    return FederatedModel(weights, mean, std, {**s, "strategy": "local", "epochs": epochs},
                          wall_s=time.perf_counter() - t0)


def scoring_labels(site, *, early: bool = True, recovery: Any = "24h") -> tuple[np.ndarray, np.ndarray]:
    """What a site's test rows are scored against: ``(y, scored)``.

    ``y`` is 1 inside a failure, from its ``precursor_start`` when ``early`` (an alarm while a
    leak grows is the early warning maintenance wants, not a false alarm), else from its
    ``start``. ``scored`` is False for the ``recovery`` after each failure: the unit has
    just been repaired and day-long features (the idle-decay floor) still remember the
    failure, so alarms there are neither hits nor false alarms.
    """
    index = site.test.index
    y = np.zeros(len(index), dtype=np.int64)
    scored = np.ones(len(index), dtype=bool)
    after = pd.Timedelta(recovery)
    for event in site.events.itertuples():
        first = event.precursor_start if early else event.start
        y[(index >= first) & (index <= event.end)] = 1
        scored[(index > event.end) & (index <= event.end + after)] = False
    return y, scored


def evaluate_sites(models: Any, sites: Sequence, *, policy: Any = "default", early: bool = True,
                   recovery: Any = "24h") -> pd.DataFrame:
    """Score every site's test week with a model and alarms calibrated on the site's own validation days.

    Parameters
    ----------
    models : FederatedModel, or a list of them (one per site, e.g. the local-only models)
    sites : list of Site
    policy : alarm policy spec (:func:`sadlib.alarms.make_policy`), fitted per site on its validation scores
    early, recovery : what counts, see :func:`scoring_labels`; alarms in the recovery rows are
        switched off and those rows left out of PR-AUC

    Returns
    -------
    DataFrame, one row per site
        ``event_f1``, ``event_recall``, ``event_precision``, ``pr_auc`` (NaN for a site without
        failures), ``false_alarms_per_day``, ``threshold``, ``n_events``, ``little_data``.
    """
    per_site = list(models) if isinstance(models, (list, tuple)) else [models] * len(sites)
    if len(per_site) != len(sites):
        raise ValueError(f"got {len(per_site)} models for {len(sites)} sites; pass one model or one per site.")
    rows, cache = [], {}
    for model_info, site in zip(per_site, sites):
        key = id(model_info)
        if key not in cache:
            cache[key] = model_info.model()
        net, window = cache[key], int(model_info.settings["window"])
        mean, std = model_info.scaler_for(site)
        val_scores = reconstruction_scores(net, scaled_rows(site.val, mean, std), window)[window - 1:]
        test_scores = reconstruction_scores(net, scaled_rows(site.test[site.features], mean, std), window)
        alarm_policy = make_policy(policy).fit(val_scores, index=site.val.index[window - 1:])
        y, scored = scoring_labels(site, early=early, recovery=recovery)
        alarms = alarm_policy.predict(test_scores) & scored
        ev = event_metrics(y, alarms)
        has_events = bool(y.any())
        rows.append({
            "site": site.name, "event_f1": event_f1(y, alarms) if has_events else np.nan,
            "event_recall": ev["event_recall"] if has_events else np.nan,
            "event_precision": ev["event_precision"] if has_events else np.nan,
            "pr_auc": pr_auc(y[scored], test_scores[scored]) if has_events else np.nan,
            "false_alarms_per_day": false_alarms_per_day(y, alarms, index=site.test.index),
            "threshold": alarm_policy.threshold_, "n_events": ev["n_events"],
            "little_data": bool(site.params.get("little_data", False)),
        })
    return pd.DataFrame(rows).set_index("site")
