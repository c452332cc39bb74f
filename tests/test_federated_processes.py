"""sadlib.federated on Flower's real engines: separate processes on localhost, and the simulation engine.

* A SuperLink and two SuperNodes (one per site) start as separate processes; ``flwr run`` submits
  the Flower app that :func:`sadlib.federated.apps.write_flower_app` writes; each SuperNode builds
  its own site from its ``partition-id`` and starts a ClientApp process per message; the
  ServerApp (a process the SuperLink starts) writes the result. This is the path to real
  machines: only the addresses change.
* :func:`sadlib.federated.run_federated` on Flower's simulation engine (Ray actors), with one
  site sending NaN weights: the server drops them with a log line naming the node.

Flower is required (``make test`` installs the ``federated`` extra); nothing here is skipped.
On a 2-core machine the deployment run takes about a minute when the machine is otherwise idle
(most of it is Python and TensorFlow starting in each ClientApp process).
"""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord

from sadlib.federated import make_sites, run_federated
from sadlib.federated.apps import write_flower_app

BIN = Path(sys.executable).parent
SMALL = {"window": 6, "batch_size": 64}
RUN_TIMEOUT = 540  # seconds; generous for a loaded CI machine


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _tool(name):
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed; pip install 'sadlib[federated]' provides it (flwr)."
    return found


def _start(args, log, env):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def _wait_for_port(port, proc, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the process ended early:\n{Path(log_path).read_text()[-3000:]}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s:\n{Path(log_path).read_text()[-3000:]}")


def test_superlink_and_two_supernodes_as_processes_train_two_rounds(tmp_path):
    link_port, node_ports = _free_ports(1)[0], _free_ports(2)
    home, out = tmp_path / "flwr_home", tmp_path / "out"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "local-test"\n\n[superlink.local-test]\naddress = "127.0.0.1:{link_port}"\n'
        f"insecure = true\n")
    app = write_flower_app(tmp_path / "app", n_sites=2, rounds=2, out_dir=out, every="5min", window=6,
                           compress="q8").parent
    # Flower starts its helpers (flower-superexec, flwr-serverapp, flwr-clientapp) by name: this venv first
    env = {**os.environ, "FLWR_HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    procs, logs = [], []
    try:
        log = open(tmp_path / "superlink.log", "w")
        logs.append(log)
        procs.append(_start([_tool("flower-superlink"), "--insecure", "--port", str(link_port),
                             "--disable-runtime-dependency-installation"], log, env))
        _wait_for_port(link_port, procs[0], tmp_path / "superlink.log")
        for i, port in enumerate(node_ports):
            log = open(tmp_path / f"supernode{i}.log", "w")
            logs.append(log)
            procs.append(_start([_tool("flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{link_port}",
                                 "--port", str(port), "--node-config", f"partition-id={i}"], log, env))
        run = subprocess.run([_tool("flwr"), "run", str(app), "local-test", "--stream"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=RUN_TIMEOUT)
        result_file = out / "federated_result.json"
        deadline = time.monotonic() + 60
        while not result_file.exists() and time.monotonic() < deadline:  # the ServerApp writes it last
            time.sleep(0.5)
        assert result_file.exists(), (f"no result from the ServerApp; flwr run said:\n{run.stdout[-3000:]}\n"
                                      f"{run.stderr[-3000:]}\nSuperLink log:\n"
                                      f"{(tmp_path / 'superlink.log').read_text()[-3000:]}")
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()
    outcome = json.loads(result_file.read_text())
    history = outcome["history"]
    assert [row["round"] for row in history] == [1, 2]
    assert all(row["replies"] == 2 and row["rejected"] == [] for row in history)
    assert all(row["downlink_bytes"] / row["uplink_bytes"] >= 4 for row in history)  # q8 updates up, float32 down
    assert history[1]["val_loss"] < history[0]["val_loss"] or history[1]["train_loss"] < history[0]["train_loss"]
    assert outcome["settings"]["window"] == 6 and outcome["settings"]["compress"] == "q8"
    arrays = np.load(out / "federated_result.npz")
    assert len(arrays["mean"]) == 19 and all(np.isfinite(arrays[k]).all() for k in arrays.files)
    # both sites answered from their own processes
    for i in range(2):
        assert "Start `flwr-clientapp` process" in (tmp_path / f"supernode{i}.log").read_text()


@pytest.fixture(scope="module")
def sites():
    return make_sites(3, every="5min")


def test_simulation_engine_drops_a_nan_update_and_the_rounds_go_on(sites, caplog):
    def nan_from_site_1(msg, context, call_next):  # a closure: Ray ships it to its actors by value
        reply = call_next(msg, context)
        if int(context.node_config["partition-id"]) == 1 and msg.metadata.message_type == "train":
            arrays = reply.content["arrays"]
            reply.content["arrays"] = ArrayRecord([np.full_like(arrays[k].numpy(), np.nan) for k in arrays])
        return reply

    with caplog.at_level(logging.WARNING, logger="sadlib.federated"):
        result = run_federated(sites, rounds=2, backend="simulation", mods=[nan_from_site_1], **SMALL)
    lines = [r.getMessage() for r in caplog.records if "rejected the update of node" in r.getMessage()]
    assert len(lines) == 2 and all("not finite" in line for line in lines)
    assert list(result.history["replies"]) == [3, 3]
    assert all(len(r) == 1 for r in result.history["rejected"])
    assert all(np.isfinite(w).all() for w in result.weights)
    assert result.history["val_loss"].iloc[-1] < result.history["val_loss"].iloc[0]
