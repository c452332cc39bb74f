"""Do the course's numbers hold on a GPU? ``make gpu-check`` (``python benchmarks/gpu_check.py``).

Runs, in two fresh processes, the same short version of

* notebook 06's fit: an LSTM autoencoder trained on the synthetic pump (fast-mode size), its
  epochs, final loss, threshold and alarm decisions on the test part;
* notebook 09's export and parity section: the dense and the LSTM autoencoder exported to
  LiteRT (float32, and int8 through the unrolled LSTM) and ONNX with ``sadlib.edge``; the cuDNN and
  Flex ops of every file; ``batch_scores`` against ``det.score`` and the looped against the unrolled
  LSTM (:func:`sadlib.edge.within_tolerance`, tolerance relative to the scale); each file's decisions
  against Keras's (:func:`sadlib.edge.parity`);

once on the CPU (``CUDA_VISIBLE_DEVICES=-1``) and once with the GPU visible, and prints what
differs. The GPU process also scores the test part with the CPU process's weights, with TF32 off
(as the parity checks run) and on (TensorFlow's default on A100, L4 and H100 GPUs), so the
difference the device alone makes is measured on the same model.

Without a GPU it says so and runs the CPU side only (which is how the tests run it).
Options: ``--days`` and ``--epochs`` (default 6 days, 8 epochs: about a minute per side on a
2-core CPU), ``--json PATH`` writes both sides' numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's sadlib, also when another one is installed
WINDOW = 24


def _data(n_days: int):
    from sadlib import signals
    from sadlib.windows import chronological_split

    data, _ = signals.generate(n_days=n_days, freq="2min", anomalies=16, seed=3, clean_fraction=2 / 3)
    sensors = list(signals.SENSORS)
    data[sensors] = data[sensors].interpolate(limit_direction="both")
    train, val, test = chronological_split(data, train=1 / 3, val=1 / 3)
    return train[sensors], val[sensors], test[sensors]


def _fit(name: str, train, val, epochs: int):
    from sadlib import detectors

    det = detectors.make(name, window=WINDOW, epochs=epochs, batch_size=64, calibration=0, random_state=0)
    det.fit(train)
    det.calibrate(det.score(val), threshold=("percentile", {"q": 99.9}))
    return det


def _ops_of(path: Path) -> list[str]:
    """Op names of a .tflite (LiteRT) or .onnx file."""
    if path.suffix == ".onnx":
        import onnx

        return sorted({node.op_type for node in onnx.load(str(path)).graph.node})
    from ai_edge_litert.interpreter import Interpreter

    return sorted({op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()})


def side(args) -> dict:
    """One process's numbers (the CPU or the GPU side)."""
    from sadlib import edge
    from sadlib.detectors.sequence_ae import build_lstm_autoencoder
    from sadlib.environment import import_keras, import_tensorflow, silenced_stderr
    from sadlib.streaming import batch_scores
    from sadlib.windows import sliding_windows

    tf = import_tensorflow()
    keras = import_keras()
    with silenced_stderr():
        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    tf32_default = tf.config.experimental.tensor_float_32_execution_enabled()
    out = {"device": "GPU: " + ", ".join(gpus) if gpus else "CPU", "tf32_default": bool(tf32_default),
           "tensorflow": tf.__version__, "keras": keras.__version__}
    train, val, test = _data(args.days)

    # notebook 06: a fit on this device
    det = _fit("lstm_ae", train, val, args.epochs)
    out["fit"] = {"epochs": det.n_epochs_, "final_loss": float(det.history_["loss"][-1]),
                  "threshold": float(det.threshold_), "scores": det.score(test).tolist(),
                  "weights": [w.tolist() for w in det.model_.get_weights()]}

    # notebook 09: export and parity, TF32 off as the notebook's parity checks run
    folder = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    parity = {}
    with edge.tf32_disabled():
        dets = {"dense_ae": _fit("dense_ae", train, val, args.epochs), "lstm_ae": det}
        for name, d in dets.items():
            keras_batch = (lambda m: (lambda x: keras.ops.convert_to_numpy(m(x, training=False))))(d.model_)
            s = batch_scores(d, val, keras_batch)
            scored = slice(WINDOW - 1, None)  # the first window - 1 rows have no score (NaN) on both sides
            parity[name, "batch_scores vs det.score"] = edge.within_tolerance(d.score(val)[scored], s[scored],
                                                                              scale=d.threshold_)
        lstm = det.model_
        unrolled = build_lstm_autoencoder(WINDOW, train.shape[1], units=det.units, unroll=True)
        unrolled.set_weights(lstm.get_weights())
        x = sliding_windows(det.scaler_.transform(train.to_numpy()), WINDOW).astype(np.float32)[:256]
        looped_out = keras.ops.convert_to_numpy(lstm(x, training=False))
        parity["lstm_ae", "looped vs unrolled"] = edge.within_tolerance(
            looped_out, keras.ops.convert_to_numpy(unrolled(x, training=False)))
        files = {}
        with silenced_stderr():
            for name, d in dets.items():
                graph = unrolled if name == "lstm_ae" else d.model_
                rep = sliding_windows(d.scaler_.transform(train.to_numpy()), WINDOW).astype(np.float32)
                rep = rep.reshape(len(rep), -1) if len(d.model_.inputs[0].shape) == 2 else rep
                files[name, "LiteRT float32"] = edge.export_litert(d.model_, folder / f"{name}_f32.tflite")
                files[name, "LiteRT int8"] = edge.export_litert(graph, folder / f"{name}_int8.tflite",
                                                                quantization="int8", representative=rep)
                files[name, "ONNX"] = edge.export_onnx(d.model_, folder / f"{name}.onnx")
            runners = {k: edge.LiteRTModel(p) if p.suffix == ".tflite" else edge.ONNXModel(p) for k, p in files.items()}
        for (name, fmt), runner in runners.items():
            d = dets[name]
            s = batch_scores(d, test, runner.predict)
            scored = slice(WINDOW - 1, None)  # the first window - 1 rows have no score (NaN)
            p = edge.parity(d.score(test)[scored], s[scored], d.threshold_)
            ops = _ops_of(files[name, fmt])
            parity[name, f"{fmt} file"] = {
                "ok": bool(p["agreement"] >= 0.99 and not any("Cudnn" in o or o.startswith("Flex") for o in ops)),
                "text": f"agreement with Keras {p['agreement']:.2%}, correlation {p['correlation']:.4f}, "
                        f"cuDNN/Flex ops: {[o for o in ops if 'Cudnn' in o or o.startswith('Flex')] or 'none'}",
                "bytes": files[name, fmt].stat().st_size}
    out["parity"] = {" / ".join(k): v for k, v in parity.items()}

    # the same weights on every device: the CPU side's model, scored here with TF32 off and on
    if args.weights:
        cpu = json.loads(Path(args.weights).read_text())
        det.model_.set_weights([np.asarray(w, dtype=np.float32) for w in cpu["fit"]["weights"]])
        det.threshold_ = cpu["fit"]["threshold"]
        same = {}
        for tf32 in (False, True):
            tf.config.experimental.enable_tensor_float_32_execution(tf32)
            scores = det.score(test)
            check = edge.within_tolerance(cpu["fit"]["scores"], scores, scale=det.threshold_)
            check["decisions_same"] = float(np.mean((scores > det.threshold_)
                                                    == (np.asarray(cpu["fit"]["scores"]) > det.threshold_)))
            same[f"TF32 {'on' if tf32 else 'off'}"] = check
        tf.config.experimental.enable_tensor_float_32_execution(tf32_default)
        out["cpu_weights_here"] = same
    return out


def compare(cpu: dict, gpu: dict | None) -> list[str]:
    """Lines that say what differs between the two sides (or the CPU side alone when there is no GPU)."""
    lines = [f"CPU side: {cpu['device']}, TensorFlow {cpu['tensorflow']}, Keras {cpu['keras']}"]
    if gpu is None:
        lines.append("no GPU found: ran the CPU side only, nothing to compare (run make gpu-check on a machine "
                     "with a GPU)")
    else:
        lines.append(f"GPU side: {gpu['device']}, TF32 by default: {'on' if gpu['tf32_default'] else 'off'}")
    fc, fg = cpu["fit"], (gpu or {}).get("fit")
    lines.append("notebook 06 fit (lstm_ae): " + (
        f"{fc['epochs']} epochs, final loss {fc['final_loss']:.4g}, threshold {fc['threshold']:.4g}" if fg is None else
        f"epochs {fc['epochs']} / {fg['epochs']}, final loss {fc['final_loss']:.4g} / {fg['final_loss']:.4g}, "
        f"threshold {fc['threshold']:.4g} / {fg['threshold']:.4g} (ratio {fg['threshold'] / fc['threshold']:.3f}), "
        f"test decisions the same on "
        f"{np.mean((np.asarray(fc['scores']) > fc['threshold']) == (np.asarray(fg['scores']) > fg['threshold'])):.2%}"
        " (CPU / GPU; a fit on another device is another model)"))
    for key, c in cpu["parity"].items():
        g = (gpu or {}).get("parity", {}).get(key)
        mark = "ok" if c["ok"] and (g is None or g["ok"]) else "DIFFERS"
        lines.append(f"  [{mark}] notebook 09 {key}: CPU {c['text']}" + ("" if g is None else f"; GPU {g['text']}"))
        if g is not None and "bytes" in c and c["bytes"] != g["bytes"]:
            lines.append(f"      the file's size differs: {c['bytes']:,} / {g['bytes']:,} bytes")
    for label, check in (gpu or {}).get("cpu_weights_here", {}).items():
        lines.append(f"  [{'ok' if check['ok'] else 'DIFFERS'}] the CPU's lstm_ae weights scored on the GPU, "
                     f"{label}: {check['text']}; same decisions on {check['decisions_same']:.2%} of the test samples")
    return lines


def _run_side(name: str, args, weights: Path | None, out: Path) -> dict | None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    if name == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    command = [sys.executable, __file__, "--side", name, "--days", str(args.days), "--epochs", str(args.epochs),
               "--side-out", str(out)] + (["--weights", str(weights)] if weights else [])
    run = subprocess.run(command, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"the {name} side failed (exit {run.returncode}):\n{run.stderr[-4000:]}")
    return json.loads(out.read_text())


def _gpu_visible() -> bool:
    from sadlib.environment import import_tensorflow, silenced_stderr

    tf = import_tensorflow()
    with silenced_stderr():
        return bool(tf.config.list_physical_devices("GPU"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/gpu_check.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=6, help="days of synthetic pump data (default 6, fast mode's)")
    ap.add_argument("--epochs", type=int, default=8, help="training epochs of each model (default 8)")
    ap.add_argument("--json", type=Path, help="also write both sides' numbers (without the weights) to this file")
    ap.add_argument("--side", choices=("cpu", "gpu"), help=argparse.SUPPRESS)
    ap.add_argument("--side-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--weights", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.days < 4 or args.epochs < 1:
        ap.error(f"--days must be >= 4 (three parts of at least a day) and --epochs >= 1, got {args.days} and "
                 f"{args.epochs}")
    if args.side:
        args.side_out.write_text(json.dumps(side(args)))
        return 0
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        cpu = _run_side("cpu", args, None, Path(tmp) / "cpu.json")
        gpu = _run_side("gpu", args, Path(tmp) / "cpu.json", Path(tmp) / "gpu.json") if _gpu_visible() else None
    lines = compare(cpu, gpu)
    print("\n".join(lines))
    if args.json:
        for s in (cpu, gpu):
            if s:
                s["fit"].pop("weights", None)
        args.json.write_text(json.dumps({"cpu": cpu, "gpu": gpu}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
