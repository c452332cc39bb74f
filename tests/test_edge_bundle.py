"""The edge bundle: written from a fitted Keras detector, run where TensorFlow, Keras and scikit-learn cannot load.

The replay test runs the bundle's own ``edge_reader.py`` in a fresh process whose
``sys.meta_path`` refuses tensorflow, keras, sklearn and pandas (and sadlib itself, so the
copy in the bundle is what runs), and checks that its decisions equal the Keras detector's.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sadlib import detectors
from sadlib.alarms import AlarmPolicy
from sadlib.edge_bundle import load_bundle, write_bundle
from sadlib.streaming import min_duration_alarms
from sadlib.validation import InvalidParameterError

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("ai_edge_litert") is None:
    pytest.skip("needs keras and ai-edge-litert: pip install 'sadlib[deep,edge]'", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]

REPLAY = """
import importlib.abc, sys
BLOCKED = {"tensorflow", "keras", "sklearn", "pandas", "scipy", "sadlib", "tf_keras"}

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not importable on this device")
        return None

sys.meta_path.insert(0, Refuse())
for name in BLOCKED:
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(f"the blocker let {name} load")
bundle, data, out, variant = sys.argv[1:5]
sys.path.insert(0, bundle)
import numpy as np
from edge_reader import load_bundle
scorer = load_bundle(bundle, variant=variant)
scores, alarms = scorer.run(np.load(data))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
if loaded:
    raise SystemExit(f"these were imported: {loaded}")
np.savez(out, scores=scores, alarms=alarms)
"""


def data(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) + 1000 * seed
    X = np.column_stack([np.sin(t / 20), np.cos(t / 30), 0.5 * np.sin(t / 7)]) + rng.normal(0, 0.1, (n, 3))
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1min"), columns=["a", "b", "c"])


@pytest.fixture(scope="module")
def replay():
    test = data(300, seed=1)
    test.iloc[150:170, 0] += 2.0
    return test


@pytest.fixture(scope="module")
def train():
    return data(400, seed=0)


def run_on_device(folder: Path, samples: np.ndarray, tmp: Path, variant: str = "float32"):
    np.save(tmp / "replay.npy", samples)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", REPLAY, str(folder), str(tmp / "replay.npy"), str(tmp / "out.npz"),
                             variant], capture_output=True, text=True, env=env, cwd=tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    out = np.load(tmp / "out.npz")
    return out["scores"], out["alarms"]


@pytest.mark.parametrize("name, params", [
    ("dense_ae", {"window": 8, "epochs": 2, "normalize": True}),
    ("lstm_ae", {"window": 8, "epochs": 1, "units": 8, "scaler": "standard"}),
])
def test_bundle_without_tensorflow_decides_as_the_keras_detector(tmp_path, train, replay, name, params):
    det = detectors.make(name, **params).fit(train)
    folder = write_bundle(det, tmp_path / "bundle", min_duration=3)
    assert sorted(p.name for p in folder.iterdir()) == ["edge_reader.py", "manifest.json", "model_float32.tflite"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["features"] == ["a", "b", "c"] and manifest["window"] == 8 and manifest["stride"] == 1
    assert manifest["threshold"] == det.threshold_ and manifest["alarm"]["min_duration"] == 3

    scores, alarms = run_on_device(folder, replay.to_numpy(), tmp_path)
    w = det.window
    reference = det.score(replay)
    assert np.isnan(scores[: w - 1]).all() and not alarms[: w - 1].any()
    np.testing.assert_allclose(scores[w - 1:], reference[w - 1:], rtol=1e-4, atol=1e-7 * det.threshold_)
    expected = min_duration_alarms(np.r_[np.full(w - 1, np.nan), reference[w - 1:]], det.threshold_, 3)
    assert expected.any()
    np.testing.assert_array_equal(alarms, expected)
    plain = det.predict(replay)[w - 1:]  # min_duration=1 is the detector's own predict
    assert plain.any() and not plain.all()
    one = load_bundle(write_bundle(det, tmp_path / "bundle", min_duration=1)).run(replay.to_numpy())[1]
    np.testing.assert_array_equal(one[w - 1:], plain)


def test_bundle_runs_an_alarm_policy_as_alarm_policy_stream_does(tmp_path, train, replay):
    det = detectors.make("dense_ae", window=8, epochs=2).fit(train)
    policy = AlarmPolicy(("percentile", {"q": 95}), hysteresis_off=("percentile", {"q": 80}), k=2, n=3,
                         min_duration=2, hold=4, dead_time=5, rearm=6).fit(det.calibration_scores_)
    folder = write_bundle(det, tmp_path / "bundle", alarm_policy=policy)
    alarm = json.loads((folder / "manifest.json").read_text())["alarm"]
    assert (alarm["threshold"], alarm["off_threshold"]) == (policy.threshold_, policy.off_threshold_)
    assert (alarm["k"], alarm["n"], alarm["hold"], alarm["dead_time"], alarm["rearm"]) == (2, 3, 4, 5, 6)
    w = det.window
    batch = np.r_[np.full(w - 1, np.nan), det.score(replay)[w - 1:]]  # no score before the first window
    expected = policy.predict(batch)
    assert expected.any() and not expected.all()
    scorer = load_bundle(folder)
    steps = [scorer.update(row) for row in replay.to_numpy()]
    np.testing.assert_array_equal([s.alarm for s in steps], expected)
    np.testing.assert_array_equal([s.announced for s in steps], policy.announce(batch))
    _, alarms = run_on_device(folder, replay.to_numpy(), tmp_path)  # and without TensorFlow
    np.testing.assert_array_equal(alarms, expected)
    with pytest.raises(InvalidParameterError, match="both given"):
        write_bundle(det, tmp_path / "b2", alarm_policy=policy, min_duration=3)
    with pytest.raises(InvalidParameterError, match="alarm_policy must be a fitted"):
        write_bundle(det, tmp_path / "b2", alarm_policy="default")
    adaptive = AlarmPolicy(adapt="recentre", adapt_window=20).fit(det.calibration_scores_)
    with pytest.raises(InvalidParameterError, match="fixed level only"):  # the reader would run it wrong
        write_bundle(det, tmp_path / "b3", alarm_policy=adaptive)


def test_int8_variant_has_int8_io_and_its_quantisation_in_the_manifest(tmp_path, train, replay):
    det = detectors.make("conv_ae", window=8, epochs=2, filters=(8, 4), kernel_size=3).fit(train)
    folder = write_bundle(det, tmp_path / "b", variants=("float32", "int8"), representative_rows=train)
    spec = json.loads((folder / "manifest.json").read_text())["models"]["int8"]
    for end in ("input", "output"):
        assert spec[end]["dtype"] == "int8"
        assert spec[end]["quantization"]["scale"] > 0 and -128 <= spec[end]["quantization"]["zero_point"] <= 127
    scores, alarms = run_on_device(folder, replay.to_numpy(), tmp_path, variant="int8")
    w, reference = det.window, det.score(replay)
    gap = np.abs(scores[w - 1:] - reference[w - 1:]) / det.threshold_
    assert 0 < gap.max() < 0.25  # quantised (not equal), and close relative to the threshold
    assert (alarms[w - 1:] == det.predict(replay)[w - 1:]).mean() >= 0.95


def test_bundle_errors_name_the_problem(tmp_path, train):
    with pytest.raises(InvalidParameterError, match="reconstruction autoencoder"):
        write_bundle(detectors.make("zscore").fit(train), tmp_path / "z")
    det = detectors.make("dense_ae", window=5, epochs=1).fit(train)
    with pytest.raises(InvalidParameterError, match="representative_rows"):
        write_bundle(det, tmp_path / "a", variants=("int8",))
    with pytest.raises(InvalidParameterError, match="variants"):
        write_bundle(det, tmp_path / "a", variants=("int4",))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(InvalidParameterError, match="not an earlier bundle"):
        write_bundle(det, tmp_path / "mine")
    folder = write_bundle(det, tmp_path / "a")
    with pytest.raises(ValueError, match="variant='int8' is not in this bundle"):
        load_bundle(folder, variant="int8")
    model = folder / "model_float32.tflite"
    model.write_bytes(model.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ValueError, match="damaged"):
        load_bundle(folder)
    with pytest.raises(FileNotFoundError, match="manifest.json is missing"):
        load_bundle(tmp_path / "mine")
    scorer = load_bundle(write_bundle(det, tmp_path / "a"))
    with pytest.raises(ValueError, match=r"\['a', 'b', 'c'\]"):
        scorer.update([1.0, 2.0])


def test_reader_imports_nothing_heavy():
    code = "import sys, sadlib.edge_reader; print(sorted(m for m in ('pandas', 'sklearn', 'keras', 'tensorflow') " \
           "if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.strip() == "[]"
