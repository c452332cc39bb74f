"""The Flower apps: what runs at each site (ClientApp) and at the server (ServerApp).

Flower's Message API (``flwr`` 1.20+): the server's strategy sends each site a
:class:`~flwr.app.Message` with the global weights (an ArrayRecord) and settings (a
ConfigRecord); the site answers with its new weights, or its update, and a MetricRecord
holding ``num-examples``, the weight of its vote in the average. The same two apps run

* in one Python process with Flower's simulation engine (:func:`sadlib.federated.run_federated`,
  Ray underneath), and
* as separate processes: a SuperLink, one SuperNode per site and ``flwr run``
  (``tests/test_federated_processes.py``; the module-level :data:`app_client` and
  :data:`app_server` are what a Flower app's ``pyproject.toml`` names). In that mode a
  site builds its own data from its ``partition-id`` with :func:`sadlib.federated.make_site`
  (on a real machine it would read its own historian instead).

A round, as the server sees it: a *query* message asks every site for the moments of its
training data once, for the shared scaler (:mod:`sadlib.federated.model`); then each round
sends the global weights for local training (``train``) and for the local validation loss
(``evaluate``). :class:`GuardedStrategy` wraps FedAvg, FedProx or FedAdam: it decodes
compressed updates, counts the bytes, and drops a reply it cannot trust (missing keys,
wrong shapes, NaN) with a log line that names the node, so the round goes on with the
others.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..validation import InvalidParameterError, check_choice, check_int, check_number
from .codecs import (
    MalformedUpdate,
    check_compression,
    decode_update,
    encode_update,
    record_bytes,
    record_to_weights,
    weights_to_record,
)
from .model import (
    MODELS,
    build_model,
    combine_moments,
    local_fit,
    make_windows,
    site_moments,
    standardise,
    window_loss,
)

__all__ = ["STRATEGIES", "DEFAULT_SETTINGS", "GuardedStrategy", "make_strategy", "make_client_app",
           "make_server_app", "privacy_report", "scaled_rows", "write_flower_app", "app_client", "app_server"]

LOG = logging.getLogger("sadlib.federated")
#: Server strategies: FedAvg (McMahan et al. 2017) and two for non-IID sites.
STRATEGIES: tuple[str, ...] = ("fedavg", "fedprox", "fedadam")
#: Settings of a federated run (``run_config`` keys of the Flower app use the same names with ``-``).
DEFAULT_SETTINGS: dict[str, Any] = {
    "window": 6, "hidden": [32], "latent": 4, "learning_rate": 1e-3, "local_epochs": 1, "batch_size": 64,
    "scaling": "federated", "compress": "none", "topk": 0.25, "proximal_mu": 0.01, "server_lr": 0.01, "seed": 0,
    "dp_clip": 0.0, "dp_noise": 0.0, "dp_delta": 1e-5,
}
SCALINGS = ("federated", "site")


# ----------------------------------------------------------------------------- site side
def scaled_rows(frame, mean: Any, std: Any) -> np.ndarray:
    """A site's feature rows standardised with ``mean``/``std`` (the shared scaler or its own)."""
    return standardise(frame.to_numpy(dtype=np.float64), mean, std)


def _scaler_for(site, config) -> tuple[np.ndarray, np.ndarray]:
    if str(config["scaling"]) == "site":
        return combine_moments([site_moments(site.train.to_numpy(dtype=np.float64))])
    return np.asarray(config["mean"], dtype=np.float64), np.asarray(config["std"], dtype=np.float64)


def _windows(site, part: str, config) -> np.ndarray:
    mean, std = _scaler_for(site, config)
    return make_windows(scaled_rows(getattr(site, part), mean, std), int(config["window"]))


def _model(config):
    """``with _model(config) as model:`` this process's model of the run's architecture, for this caller alone."""
    return MODELS.borrow(int(config["window"]) * len(config["mean"]), hidden=[int(h) for h in config["hidden"]],
                         latent=int(config["latent"]), learning_rate=float(config["learning_rate"]))


@lru_cache(maxsize=4)
def _deployment_site(i: int, seed: int, test_days: float, every: str, severity: float):
    from .sites import make_site
    return make_site(i, seed=seed, test_days=test_days, every=every, severity=severity)


def _site_from_context(context):
    """The site of a SuperNode started with ``--node-config 'partition-id=i'`` (deployment mode)."""
    if "partition-id" not in context.node_config:
        raise InvalidParameterError("this SuperNode has no partition-id; start it with "
                                    "--node-config 'partition-id=0' (its site number).")
    run = context.run_config
    return _deployment_site(int(context.node_config["partition-id"]), int(run.get("site-seed", 0)),
                            float(run.get("test-days", 7.0)), str(run.get("every", "10min")),
                            float(run.get("severity", 1.0)))


def make_client_app(sites: Sequence | None = None, *, mods: Sequence[Callable] = ()):
    """The ClientApp every site runs.

    Parameters
    ----------
    sites : list of :class:`~sadlib.federated.Site`, optional
        For simulation: node ``partition-id`` ``i`` is ``sites[i]``. ``None`` (deployment): each
        SuperNode generates its own site from its ``partition-id`` and the run's ``site-seed``.
    mods : sequence of Flower mods
        Functions ``mod(message, context, call_next)`` wrapped around every call, e.g.
        Flower's differential-privacy clipping mods, or a test's saboteur.

    Returns
    -------
    flwr.clientapp.ClientApp
        Answers ``query`` (the moments of its training rows for the scaler), ``train``
        (local epochs from the global weights; replies the (encoded) weights and
        ``num-examples``) and ``evaluate`` (mean reconstruction error on its validation windows).
    """
    from flwr.app import ConfigRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

    app = ClientApp(mods=[*mods, _clip_when_asked])

    def site_of(context):
        if sites is None:
            return _site_from_context(context)
        return sites[int(context.node_config["partition-id"])]

    @app.query()
    def query(msg: Message, context) -> Message:
        site = site_of(context)
        n, total, squares = site_moments(site.train.to_numpy(dtype=np.float64))
        shared = str(msg.content["config"].get("scaling", "federated")) == "federated"
        reply = ConfigRecord({"n-features": int(len(total)), "site": site.name})
        if shared:  # the site's sufficient statistics, never its rows
            reply.update({"n": int(n), "sum": [float(v) for v in total], "sumsq": [float(v) for v in squares]})
        return Message(RecordDict({"moments": reply}), reply_to=msg)

    @app.train()
    def train(msg: Message, context) -> Message:
        config = msg.content["config"]
        site = site_of(context)
        global_weights = record_to_weights(msg.content["arrays"])
        X = _windows(site, "train", config)
        seed = int(config.get("seed", 0)) * 1000 + int(config.get("server-round", 0))
        with _model(config) as model:
            weights, loss = local_fit(model, X, global_weights, epochs=int(config["local_epochs"]),
                                      batch_size=int(config["batch_size"]), mu=float(config.get("proximal-mu", 0.0)),
                                      seed=seed)
        compress = None if config["compress"] == "none" else str(config["compress"])
        residual = None
        if compress == "topk" and "residual" in context.state:
            residual = record_to_weights(context.state["residual"])
        record, residual = encode_update(weights, global_weights, compress, topk=float(config["topk"]),
                                         residual=residual)
        if compress == "topk":  # error feedback: what was not sent is added next round; it stays at the site
            context.state["residual"] = weights_to_record(residual)
        # "unit-weight": the same vote for every site, what FedAvg weights by when central DP is on
        metrics = MetricRecord({"num-examples": int(len(X)), "unit-weight": 1, "train-loss": loss})
        return Message(RecordDict({"arrays": record, "metrics": metrics}), reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context) -> Message:
        config = msg.content["config"]
        site = site_of(context)
        X = _windows(site, "val", config)
        with _model(config) as model:
            model.set_weights(record_to_weights(msg.content["arrays"]))
            loss = window_loss(model, X)
        metrics = MetricRecord({"num-examples": int(len(X)), "unit-weight": 1, "val-loss": loss})
        return Message(RecordDict({"metrics": metrics}), reply_to=msg)

    return app


def _clip_when_asked(msg, context, call_next):
    """Flower's ``fixedclipping_mod`` (central DP) on train messages that carry a clipping norm, else nothing."""
    from flwr.clientapp.mod import fixedclipping_mod

    if msg.metadata.message_type == "train" and "clipping_norm" in msg.content["config"]:
        return fixedclipping_mod(msg, context, call_next)
    return call_next(msg, context)


# ----------------------------------------------------------------------------- server side
def make_strategy(name: str = "fedavg", n_nodes: int = 2, *, proximal_mu: float = 0.01, server_lr: float = 0.01,
                  dp_clip: float = 0.0, dp_noise: float = 0.0, dp_delta: float = 1e-5):
    """A Flower strategy that samples all ``n_nodes`` sites every round.

    ``"fedavg"``: the weighted mean of the sites' weights (weights: ``num-examples``).
    ``"fedprox"``: FedAvg, and the sites add ``proximal_mu / 2 * ||w - w_global||^2`` to their loss,
    which keeps sites with unusual data from drifting far (Li et al., MLSys 2020).
    ``"fedadam"``: the mean update is applied by a server-side Adam with step ``server_lr``
    (Reddi et al., "Adaptive federated optimization", ICLR 2021).

    ``dp_clip > 0`` wraps it in Flower's ``DifferentialPrivacyClientSideFixedClipping``: each site
    clips its update to L2 norm ``dp_clip`` (Flower's ``fixedclipping_mod``, which every
    :func:`make_client_app` applies when asked) and the server adds Gaussian noise of standard
    deviation ``dp_noise * dp_clip / n_nodes`` to the average (central DP, McMahan et al.,
    ICLR 2018). The average is then **uniform** (weighted by ``"unit-weight"``, 1 at every site),
    so one site's influence is ``dp_clip / n_nodes``, what the noise is sized for; with
    ``dp_noise > 0`` Flower's RDP accountant (:mod:`sadlib.federated.privacy`) tracks (ε, δ) at
    ``dp_delta`` and Flower checks that the weights are equal. FedAdam is refused with DP: its
    server step is not the mean the noise is sized for.
    """
    from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAdam, FedAvg, FedProx

    check_choice("strategy", name, STRATEGIES)
    n_nodes = check_int("n_nodes", n_nodes, 1, hint="It is the number of sites in the federation.")
    common = {"fraction_train": 1.0, "fraction_evaluate": 1.0, "min_train_nodes": n_nodes,
              "min_evaluate_nodes": n_nodes, "min_available_nodes": n_nodes}
    dp_clip = check_number("dp_clip", dp_clip, 0, hint="It is the L2 norm each site clips its update to; 0: no DP.")
    dp_noise = check_number("dp_noise", dp_noise, 0, hint="It is the Gaussian noise multiplier of central DP.")
    if dp_clip > 0:
        if name == "fedadam":
            raise InvalidParameterError("dp_clip > 0 (central DP) needs strategy 'fedavg' or 'fedprox': FedAdam's "
                                        "server step is not the uniform mean the DP noise is sized for.")
        common["weighted_by_key"] = "unit-weight"  # uniform mean: one site moves it by at most dp_clip / n_nodes
    if name == "fedprox":
        strategy = FedProx(proximal_mu=check_number("proximal_mu", proximal_mu, 0), **common)
    elif name == "fedadam":
        strategy = FedAdam(eta=check_number("server_lr", server_lr, 0, low_open=True), eta_l=1e-3, tau=1e-3,
                           **common)
    else:
        strategy = FedAvg(**common)
    if dp_clip > 0:
        accountant = None
        if dp_noise > 0:
            from .privacy import make_accountant

            accountant = make_accountant(n_nodes, check_number("dp_delta", dp_delta, 0, 1, low_open=True,
                                                               high_open=True))
        strategy = DifferentialPrivacyClientSideFixedClipping(strategy, dp_noise, dp_clip, n_nodes,
                                                              accountant=accountant)
    return strategy


def privacy_report(strategy, settings: dict, n_nodes: int) -> dict | None:
    """What a DP run guarantees: clip, noise, one site's weight and influence, (ε, δ) spent (None without DP)."""
    from .privacy import ASSUMPTIONS, site_influence

    clip, noise = float(settings["dp_clip"]), float(settings["dp_noise"])
    if clip <= 0:
        return None
    spent = strategy.privacy_spent() if hasattr(strategy, "privacy_spent") else None
    return {"dp_clip": clip, "dp_noise": noise, "n_sites": n_nodes, "site_weight": 1.0 / n_nodes,
            "site_influence": site_influence(clip, n_nodes), "noise_std": noise * clip / n_nodes,
            "epsilon": float(spent.epsilon) if spent is not None else float("inf"),
            "delta": float(spent.delta) if spent is not None else float(settings.get("dp_delta", 1e-5)),
            "releases": int(spent.num_releases) if spent is not None else 0,
            "accountant": "flwr RdpAccountant" if spent is not None else "none (no noise: no guarantee)",
            "assumptions": ASSUMPTIONS}


class GuardedStrategy:
    """Wrap a Flower strategy: decode (compressed) updates, count bytes, reject bad replies.

    Parameters
    ----------
    strategy : flwr.serverapp.strategy.Strategy
        FedAvg, FedProx, FedAdam, ...; it aggregates the decoded weights of the replies kept.
    compress : {None, "q8", "topk"}
        The encoding the sites were told to use (:mod:`sadlib.federated.codecs`).

    Attributes
    ----------
    history : list of dict
        One row per round: ``round``, ``uplink_bytes`` (the payload bytes of the sites' ArrayRecords,
        as sent: :func:`~sadlib.federated.codecs.record_bytes`, not whole serialised messages),
        ``downlink_bytes`` (the global weights' ArrayRecord, once per site), ``replies``, ``rejected``
        (node ids), ``train_loss``.
    rejected : list of (round, node_id, reason)
    """

    def __init__(self, strategy, compress: str | None = None):
        self.strategy = strategy
        self.compress = check_compression(compress)
        self.history: list[dict] = []
        self.rejected: list[tuple[int, int, str]] = []
        self._global: list[np.ndarray] | None = None
        self._downlink = 0

    def __getattr__(self, name):  # summary(), keys, ... of the wrapped strategy
        if name == "strategy":
            raise AttributeError(name)
        return getattr(self.strategy, name)

    def configure_train(self, server_round, arrays, config, grid):
        self._global = record_to_weights(arrays)
        messages = list(self.strategy.configure_train(server_round, arrays, config, grid))
        self._downlink = record_bytes(arrays) * len(messages)
        return messages

    def _check(self, server_round: int, msg) -> bool:
        node = msg.metadata.src_node_id
        try:
            content = msg.content
            if "arrays" not in content.array_records or "metrics" not in content.metric_records:
                raise MalformedUpdate(f"the reply of node {node} has no 'arrays' or no 'metrics' record.")
            n = content["metrics"].get("num-examples")
            if not isinstance(n, (int, float)) or not np.isfinite(n) or n <= 0:
                raise MalformedUpdate(f"node {node} reports num-examples={n!r}; it must be a positive number.")
            weights = decode_update(content["arrays"], self._global, self.compress, node=node)
        except MalformedUpdate as err:
            LOG.warning("round %d: rejected the update of node %s: %s", server_round, node, err)
            self.rejected.append((server_round, node, str(err)))
            return False
        msg.content["arrays"] = weights_to_record(weights)
        return True

    def aggregate_train(self, server_round, replies):
        replies = list(replies)
        uplink = sum(record_bytes(m.content["arrays"]) for m in replies
                     if not m.has_error() and "arrays" in m.content.array_records)
        n_before = len(self.rejected)
        kept = [m for m in replies if m.has_error() or self._check(server_round, m)]
        losses = [m.content["metrics"].get("train-loss") for m in kept if not m.has_error()]
        arrays, metrics = self.strategy.aggregate_train(server_round, kept) if kept else (None, None)
        if arrays is None:
            LOG.warning("round %d: no update could be used; the global model stays as it was.", server_round)
        else:  # FedAdam's server step computes in float64: send the model as the float32 the sites train
            arrays = weights_to_record([np.asarray(w, dtype=np.float32) for w in record_to_weights(arrays)])
        self.history.append({
            "round": server_round, "uplink_bytes": int(uplink), "downlink_bytes": int(self._downlink),
            "replies": len(replies), "rejected": [node for _, node, _ in self.rejected[n_before:]],
            "train_loss": float(np.mean(losses)) if losses else float("nan"),
        })
        return arrays, metrics

    def configure_evaluate(self, server_round, arrays, config, grid):
        return self.strategy.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round, replies):
        metrics = self.strategy.aggregate_evaluate(server_round, replies)
        if metrics is not None and self.history and self.history[-1]["round"] == server_round:
            self.history[-1]["val_loss"] = float(metrics.get("val-loss", np.nan))
        return metrics

    def summary(self) -> None:
        self.strategy.summary()

    def start(self, grid, initial_arrays, num_rounds: int = 3, timeout: float = 3600, train_config=None,
              evaluate_config=None, evaluate_fn=None):
        """Run the rounds with Flower's own loop (``Strategy.start``) and this wrapper's hooks."""
        from flwr.serverapp.strategy import Strategy

        return Strategy.start(self, grid, initial_arrays, num_rounds=num_rounds, timeout=timeout,
                              train_config=train_config, evaluate_config=evaluate_config, evaluate_fn=evaluate_fn)


def _settings(run_config: dict, overrides: dict) -> dict:
    settings = dict(DEFAULT_SETTINGS)
    for key in settings:
        dashed = key.replace("_", "-")
        if dashed in run_config:
            settings[key] = run_config[dashed]
    settings.update(overrides)
    if isinstance(settings["hidden"], (int, str)):
        settings["hidden"] = [int(h) for h in str(settings["hidden"]).split(",") if h.strip()]
    check_choice("scaling", settings["scaling"], SCALINGS)
    settings["compress"] = "none" if settings["compress"] in (None, "none") else settings["compress"]
    check_compression(None if settings["compress"] == "none" else settings["compress"])
    if float(settings["dp_clip"]) > 0 and settings["compress"] != "none":
        raise InvalidParameterError("dp_clip (differential privacy) works on plain updates; use compress=None with it "
                                    "(Flower's clipping mod clips the float32 weights).")
    return settings


def _query_moments(grid, n_nodes: int, scaling: str, timeout: float):
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict

    nodes = _wait_for_nodes(grid, n_nodes, timeout)
    messages = [Message(RecordDict({"config": ConfigRecord({"scaling": scaling})}), dst_node_id=node,
                        message_type=MessageType.QUERY) for node in nodes]
    replies = list(grid.send_and_receive(messages, timeout=timeout))
    bad = [m.metadata.src_node_id for m in replies if m.has_error()]
    if bad or len(replies) < len(nodes):
        raise RuntimeError(f"the sites {bad} did not answer the scaler query ({len(replies)} of {len(nodes)} replies); "
                           f"see their logs.")
    moments = [m.content["moments"] for m in replies]
    n_features = {int(m["n-features"]) for m in moments}
    if len(n_features) != 1:
        raise RuntimeError(f"the sites have different numbers of features {sorted(n_features)}; they must share "
                           f"one feature layout.")
    if scaling == "site":
        n = n_features.pop()
        return np.zeros(n), np.ones(n)
    return combine_moments([(m["n"], m["sum"], m["sumsq"]) for m in moments])


def _wait_for_nodes(grid, n_nodes: int, timeout: float) -> list[int]:
    import time

    deadline = time.monotonic() + timeout
    while len(nodes := list(grid.get_node_ids())) < n_nodes:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(nodes)} of {n_nodes} sites connected within {timeout:.0f} s.")
        time.sleep(0.5)
    return nodes


def make_server_app(*, strategy: str = "fedavg", rounds: int = 5, n_nodes: int | None = None,
                    sink: Callable[[dict], None] | None = None, timeout: float = 600, **settings):
    """The ServerApp: the scaler query, then ``rounds`` rounds of ``strategy``.

    Parameters
    ----------
    strategy : {"fedavg", "fedprox", "fedadam"}
    rounds : int
    n_nodes : int, optional
        Sites to wait for and sample each round; default: the run config's ``n-sites`` (2).
    sink : callable, optional
        Receives the outcome (dict: ``weights``, ``mean``, ``std``, ``settings``, ``history``,
        ``rejected``). Without it (deployment), the outcome is written to the run config's
        ``out-dir`` as ``federated_result.npz`` + ``.json`` if that is set.
    **settings
        Overrides of :data:`DEFAULT_SETTINGS` (``window``, ``hidden``, ``compress``, ...); the run
        config (``flwr run --run-config``) overrides the defaults too, with dashes.
    """
    from flwr.app import ConfigRecord
    from flwr.serverapp import ServerApp

    check_choice("strategy", strategy, STRATEGIES)
    rounds = check_int("rounds", rounds, 1, hint="It is the number of federated rounds.")
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise InvalidParameterError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}.")
    checked = _settings({}, settings)  # bad values fail here, not in the server's thread
    if float(checked["dp_clip"]) > 0 and strategy == "fedadam":
        raise InvalidParameterError("dp_clip > 0 (central DP) needs strategy 'fedavg' or 'fedprox': FedAdam's server "
                                    "step is not the uniform mean the DP noise is sized for.")
    app = ServerApp()

    @app.main()
    def main(grid, context) -> None:
        run = dict(context.run_config)
        cfg = _settings(run, settings)
        name = str(run.get("strategy", strategy))
        n = int(n_nodes or run.get("n-sites", 2))
        mean, std = _query_moments(grid, n, cfg["scaling"], timeout)
        n_inputs = int(cfg["window"]) * len(mean)
        model = build_model(n_inputs, hidden=cfg["hidden"], latent=int(cfg["latent"]),
                            learning_rate=float(cfg["learning_rate"]), seed=int(cfg["seed"]))
        inner = make_strategy(name, n, proximal_mu=float(cfg["proximal_mu"]), server_lr=float(cfg["server_lr"]),
                              dp_clip=float(cfg["dp_clip"]), dp_noise=float(cfg["dp_noise"]),
                              dp_delta=float(cfg["dp_delta"]))
        guarded = GuardedStrategy(inner, None if cfg["compress"] == "none" else cfg["compress"])
        config = ConfigRecord({
            "window": int(cfg["window"]), "hidden": [int(h) for h in cfg["hidden"]], "latent": int(cfg["latent"]),
            "learning_rate": float(cfg["learning_rate"]), "local_epochs": int(cfg["local_epochs"]),
            "batch_size": int(cfg["batch_size"]), "scaling": str(cfg["scaling"]), "compress": str(cfg["compress"]),
            "topk": float(cfg["topk"]), "seed": int(cfg["seed"]),
            "mean": [float(v) for v in mean], "std": [float(v) for v in std],
        })
        result = guarded.start(grid, weights_to_record(model.get_weights()), num_rounds=int(run.get("rounds", rounds)),
                               timeout=timeout, train_config=config, evaluate_config=ConfigRecord(dict(config)))
        outcome = {"weights": record_to_weights(result.arrays), "mean": mean, "std": std,
                   "settings": {**cfg, "strategy": name, "n_nodes": n}, "history": guarded.history,
                   "rejected": guarded.rejected, "privacy": privacy_report(inner, cfg, n)}
        if sink is not None:
            sink(outcome)
        elif run.get("out-dir"):
            _write_outcome(Path(str(run["out-dir"])), outcome)

    return app


def _write_outcome(folder: Path, outcome: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "federated_result.npz", mean=outcome["mean"], std=outcome["std"],
             **{f"w{i}": w for i, w in enumerate(outcome["weights"])})
    text = {k: outcome[k] for k in ("settings", "history", "rejected", "privacy")}
    (folder / "federated_result.json").write_text(json.dumps(text, indent=1, default=str))


def write_flower_app(folder: Any, *, n_sites: int = 2, rounds: int = 3, out_dir: Any = None, **run_config) -> Path:
    """Write a Flower app (a ``pyproject.toml``) that runs these apps with ``flwr run``.

    The app holds no code: its components are :data:`app_server` and :data:`app_client` of
    this module, which every machine imports from its installed ``sadlib``. Run it on a
    federation of one SuperLink and one SuperNode per site::

        flower-superlink --insecure
        flower-supernode --insecure --superlink 127.0.0.1:8000 --port 9094 --node-config 'partition-id=0'
        flower-supernode --insecure --superlink 127.0.0.1:8000 --port 9095 --node-config 'partition-id=1'
        flwr run FOLDER SUPERLINK_NAME --stream   # SUPERLINK_NAME from $FLWR_HOME/config.toml

    Parameters
    ----------
    folder : path, created if needed
    n_sites, rounds : int, written as the run config's ``n-sites`` and ``rounds``
    out_dir : path, optional; where the ServerApp writes ``federated_result.npz`` / ``.json``
    **run_config : more run config (``strategy``, ``compress``, ``every``, ``site_seed``, ``test_days``, ``severity``,
        any of :data:`DEFAULT_SETTINGS`; underscores become dashes; ``hidden`` as a string ``"32,8"``)

    Returns
    -------
    Path of the ``pyproject.toml``
    """
    n_sites = check_int("n_sites", n_sites, 1)
    rounds = check_int("rounds", rounds, 1)
    config = {"n-sites": n_sites, "rounds": rounds, **{k.replace("_", "-"): v for k, v in run_config.items()}}
    if out_dir is not None:
        config["out-dir"] = str(Path(out_dir).resolve())
    lines = []
    for key, value in config.items():
        if not isinstance(value, (bool, int, float, str)):
            raise InvalidParameterError(f"run config {key}={value!r}: Flower's run config takes a bool, int, float "
                                        f"or string (write hidden layers as a string such as '32,8').")
        lines.append(f"{key} = {json.dumps(value)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(_APP_TEMPLATE.format(config="\n".join(lines)))
    return path


_APP_TEMPLATE = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "sadlib-federated"
version = "1.0.0"
description = "Federated anomaly detection on compressor sites (sadlib notebook 11)"
license = "MIT"
dependencies = []

[tool.flwr.app]
publisher = "sadlib"

[tool.flwr.app.components]
serverapp = "sadlib.federated.apps:app_server"
clientapp = "sadlib.federated.apps:app_client"

[tool.flwr.app.config]
{config}
"""


# The apps a Flower app's pyproject.toml points at ([tool.flwr.app.components]) for `flwr run`:
# the sites build their data from their partition-id, the server reads the run config.
app_client = make_client_app()
app_server = make_server_app()
