"""``make gpu-check`` (benchmarks/gpu_check.py): it runs where there is no GPU, and its comparison can fail."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_runs_on_a_machine_without_a_gpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1"}  # no GPU, as on the course's machines
    run = subprocess.run([sys.executable, str(SCRIPT), "--days", "4", "--epochs", "1", "--json", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith("CPU side: CPU, TensorFlow ")
    assert lines[1].startswith("no GPU found: ran the CPU side only")
    assert any(line.startswith("notebook 06 fit (lstm_ae): 1 epochs") for line in lines)
    for key in ("dense_ae / batch_scores vs det.score", "lstm_ae / looped vs unrolled", "lstm_ae / LiteRT int8 file",
                "dense_ae / ONNX file"):
        assert any(f"[ok] notebook 09 {key}: CPU " in line for line in lines), (key, run.stdout)
    saved = json.loads(out.read_text())
    assert saved["gpu"] is None and "weights" not in saved["cpu"]["fit"]
    assert len(saved["cpu"]["fit"]["scores"]) > 0


def test_compare_reports_what_differs_on_the_gpu():
    gpu_check = _module()
    check = {"ok": True, "text": "largest difference 0 = 0 x the scale 0.005 (within the tolerance of 1e-04 x the "
             "scale)"}
    cpu = {"device": "CPU", "tensorflow": "2.21.0", "keras": "3.15.1", "tf32_default": False,
           "fit": {"epochs": 8, "final_loss": 0.01, "threshold": 0.005, "scores": [0.001, 0.006, 0.004]},
           "parity": {"lstm_ae / looped vs unrolled": check,
                      "lstm_ae / LiteRT float32 file": {"ok": True, "text": "agreement 100.00%", "bytes": 1000}}}
    gpu = copy.deepcopy(cpu)
    gpu.update(device="GPU: /physical_device:GPU:0", tf32_default=True)
    gpu["fit"].update(epochs=9, threshold=0.0055, scores=[0.001, 0.006, 0.0056])
    gpu["parity"]["lstm_ae / looped vs unrolled"] = {"ok": False, "text": "largest difference 0.001 (BEYOND)"}
    gpu["parity"]["lstm_ae / LiteRT float32 file"]["bytes"] = 1200
    gpu["cpu_weights_here"] = {"TF32 off": {**check, "decisions_same": 1.0},
                               "TF32 on": {"ok": False, "text": "BEYOND", "decisions_same": 0.99}}
    lines = gpu_check.compare(cpu, gpu)
    assert lines[1] == "GPU side: GPU: /physical_device:GPU:0, TF32 by default: on"
    assert "epochs 8 / 9" in lines[2] and "ratio 1.100" in lines[2] and "same on 66.67%" in lines[2]
    assert any(line.startswith("  [DIFFERS] notebook 09 lstm_ae / looped vs unrolled") for line in lines)
    assert "      the file's size differs: 1,000 / 1,200 bytes" in lines
    assert any(line.startswith("  [ok] the CPU's lstm_ae weights scored on the GPU, TF32 off") for line in lines)
    assert any(line.startswith("  [DIFFERS] the CPU's lstm_ae weights scored on the GPU, TF32 on") for line in lines)
    alone = gpu_check.compare(cpu, None)
    assert alone[1].startswith("no GPU found") and not any("DIFFERS" in line for line in alone)
