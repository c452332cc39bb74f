"""det.save(path) and sadlib.detectors.load(path) for every registered detector.

The contract: a detector fitted here, saved and loaded in a *fresh* Python process, gives
identical scores and decisions; a folder from another sadlib version is refused with both
versions named; a missing or damaged folder gives an error that says so.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sadlib import detectors
from sadlib.detectors import persistence

REPO = Path(__file__).resolve().parents[1]

SMALL = {
    "dense_ae": {"epochs": 1, "window": 5},
    "ocsvm": {"window": 5},
    "iforest": {"window": 5, "n_estimators": 20},
    "lstm_forecast": {"window": 5, "epochs": 1, "units": (8,)},
    "lstm_ae": {"window": 8, "epochs": 1, "units": 8},
    "conv_ae": {"window": 8, "epochs": 1, "filters": (8, 4), "kernel_size": 3},
    "cnn_lstm": {"window": 8, "epochs": 1, "filters": 8, "units": 8},
    "attn_lstm": {"window": 8, "epochs": 1, "units": 8},
    "vqvae": {"window": 8, "epochs": 1, "n_codes": 8, "code_dim": 4, "filters": 8, "kernel_size": 3},
    "transformer_ae": {"window": 8, "epochs": 1, "d_model": 8, "heads": 2, "blocks": 1, "ff_dim": 8},
    "skab_conv_ae": {"window": 8, "epochs": 1},
}

LOAD_AND_SCORE = """
import sys, numpy as np, pandas as pd
from sadlib import detectors
test = pd.read_pickle(sys.argv[2])
out = {}
for folder in sys.argv[3:]:
    det = detectors.load(folder)
    out[folder + ":score"] = det.score(test)
    out[folder + ":predict"] = det.predict(test)
    out[folder + ":threshold"] = np.array([det.threshold_])
np.savez(sys.argv[1], **out)
"""


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([np.sin(t / 20), np.cos(t / 30), 0.5 * np.sin(t / 7)]) + rng.normal(0, 0.1, (n, 3))
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1min"), columns=["a", "b", "c"])


def run_fresh(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=REPO)


@pytest.fixture(scope="module")
def test_data():
    test = data(200, seed=1)
    test.iloc[100:120, 0] += 3.0
    return test


def test_every_registered_detector_loads_in_a_fresh_process_with_identical_scores(tmp_path, test_data):
    train = data()
    expected, folders = {}, []
    for name in detectors.available():
        det = detectors.make(name, **SMALL.get(name, {})).fit(train)
        folder = det.save(tmp_path / name)
        assert folder == tmp_path / name
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["name"] in detectors.available()  # ma_z is a factory: its detector is a moving_average
        assert manifest["feature_names_in_"] == ["a", "b", "c"]
        assert manifest["threshold_"] == det.threshold_
        expected[str(folder)] = (det.score(test_data), det.predict(test_data), det.threshold_)
        folders.append(str(folder))
    test_file, out = tmp_path / "test.pkl", tmp_path / "scores.npz"
    test_data.to_pickle(test_file)
    result = run_fresh(LOAD_AND_SCORE, str(out), str(test_file), *folders)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = np.load(out)
    for folder, (score, decision, threshold) in expected.items():
        name = Path(folder).name
        np.testing.assert_array_equal(loaded[folder + ":score"], score, err_msg=f"{name}: scores changed on load")
        np.testing.assert_array_equal(loaded[folder + ":predict"], decision, err_msg=f"{name}: decisions changed")
        assert loaded[folder + ":threshold"][0] == threshold


def test_keras_models_are_keras_archives_not_pickled(tmp_path):
    det = detectors.make("dense_ae", **SMALL["dense_ae"]).fit(data())
    folder = det.save(tmp_path / "ae")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["model_0.keras", "state.pkl"]
    assert b"keras.src" not in (folder / "state.pkl").read_bytes()  # no Keras class pickled
    versions = manifest["versions"]
    assert versions["sadlib"] and versions["scikit-learn"] and versions["keras"]
    loaded = detectors.load(folder)
    np.testing.assert_array_equal(loaded.model_.get_weights()[0], det.model_.get_weights()[0])
    assert loaded.get_params() == det.get_params()


def test_a_folder_from_another_sadlib_version_names_both_versions(tmp_path, monkeypatch):
    det = detectors.make("zscore").fit(data())
    folder = det.save(tmp_path / "z")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["versions"]["sadlib"] = "0.0.1"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    running = persistence._sadlib_version()
    with pytest.raises(ValueError, match=rf"saved by sadlib 0\.0\.1 but this is sadlib {running}"):
        detectors.load(folder)
    loaded = detectors.load(folder, allow_other_version=True)
    np.testing.assert_array_equal(loaded.score(data(50, 2)), det.score(data(50, 2)))


def test_missing_and_damaged_folders_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        detectors.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        detectors.load(tmp_path / "empty")
    det = detectors.make("dense_ae", **SMALL["dense_ae"]).fit(data())
    folder = det.save(tmp_path / "ae")
    archive = folder / "model_0.keras"
    content = archive.read_bytes()
    archive.write_bytes(content[:-10] + b"0123456789")
    with pytest.raises(ValueError, match="model_0.keras is damaged"):
        detectors.load(folder)
    archive.unlink()
    with pytest.raises(FileNotFoundError, match="model_0.keras is missing"):
        detectors.load(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        detectors.load(folder)
    with pytest.raises(ValueError, match="allow_other_version"):
        detectors.load(folder, allow_other_version="yes")


def test_save_refuses_an_unfitted_detector_and_a_foreign_folder(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        detectors.make("zscore").save(tmp_path / "z")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="other files in it"):
        detectors.make("zscore").fit(data()).save(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
