import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sadlib import bench, detectors
from sadlib.datasets import SKAB_SENSORS
from sadlib.detectors import Detector, RollingZScore

SKAB_CSV_COLUMNS = {"detector", "f1", "far", "mar", "pr_auc", "fit_seconds", "score_seconds", "n_files", "protocol"}
FEW_FILES = ["valve1/0", "valve2/1", "other/2"]


def fake_skab(n_files=3, n=700, seed=0):
    """SKAB-like frames: 8 sensors, 1 s index, an 'anomaly' shift on rows 550..619."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_files):
        idx = pd.date_range(f"2020-03-0{i + 1}", periods=n, freq="1s", name="datetime")
        df = pd.DataFrame(rng.normal(size=(n, len(SKAB_SENSORS))), index=idx, columns=list(SKAB_SENSORS))
        df["anomaly"] = 0
        df.iloc[550:620, :8] += 6.0
        df.iloc[550:620, df.columns.get_loc("anomaly")] = 1
        out[f"fake/{i}"] = df
    return out


class Spy(Detector):
    """Records every fit and score call (the instance and the data it was given).

    The instances themselves are kept (not their id()): a freed detector's id can be
    reused by the next one, which made the "distinct instances" check flaky."""

    fits: list = []
    scores: list = []

    def fit(self, X, y=None):
        Spy.fits.append((self, X.copy()))
        return super().fit(X, y)

    def score(self, X):
        Spy.scores.append((self, X.copy()))
        return super().score(X)

    def _fit(self, X):
        self.mu_ = X.mean(axis=0)

    def _score(self, X):
        return np.abs(X - self.mu_).max(axis=1)


# --------------------------------------------------------------------------- #
# no real data needed
# --------------------------------------------------------------------------- #
def test_leaderboard_holds_the_published_numbers():
    lb = bench.leaderboard()
    assert len(lb) == 10
    assert list(lb.columns) == ["detector", "f1", "far", "mar", "source"]
    assert set(lb["source"]) == {"SKAB leaderboard"}
    rows = lb.set_index("detector")
    assert tuple(rows.loc["Conv-AE", ["f1", "far", "mar"]]) == (0.78, 13.55, 28.02)
    assert tuple(rows.loc["MSET", ["f1", "far", "mar"]]) == (0.78, 39.73, 14.13)
    assert tuple(rows.loc["T-squared+Q (PCA-based)", ["f1", "far", "mar"]]) == (0.76, 26.62, 24.92)
    assert tuple(rows.loc["Isolation forest", ["f1", "far", "mar"]]) == (0.29, 2.56, 82.89)
    assert rows["f1"].sum() == pytest.approx(5.86)
    assert "10.34740/KAGGLE/DSV/1693952" in lb.attrs["citation"]
    assert "b2c0d46c2971dcbfe71e26087b6d231998bb91c2" in lb.attrs["citation"]


def test_unknown_detector_is_a_clear_error_before_any_data_is_loaded():
    with pytest.raises(ValueError, match=r"unknown detector\(s\) 'zscor' \(did you mean 'zscore'\?\)") as err:
        bench.run_skab(["zscore", "zscor"])
    assert "Available:" in str(err.value) and "zscore" in str(err.value)
    with pytest.raises(ValueError, match="params given for"):
        bench.run_skab(["zscore"], params={"iforest": {}})


def test_cli_unknown_detector_exits_2_listing_the_available_ones(capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--detectors", "zscore,no_such_detector", "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no_such_detector" in err and "Available:" in err
    for name in detectors.available():
        assert name in err


def test_fresh_detector_per_file_fitted_on_the_first_400_rows_only(monkeypatch):
    """Leakage guard: one new detector per file, fitted on rows [0, 400), scoring rows [400, n)."""
    monkeypatch.setitem(detectors.REGISTRY, "spy", Spy)
    monkeypatch.setattr(Spy, "fits", [])
    monkeypatch.setattr(Spy, "scores", [])
    data = fake_skab(n_files=3)
    res = bench.run_skab("spy", data, progress=False)
    assert len(Spy.fits) == 3 and len(Spy.scores) == 3
    assert len({id(i) for i, _ in Spy.fits}) == 3  # three distinct instances
    assert all(a is b for (a, _), (b, _) in zip(Spy.fits, Spy.scores))  # each scores what it was fitted for
    for (_, X_fit), (_, X_score), df in zip(Spy.fits, Spy.scores, data.values()):
        pd.testing.assert_frame_equal(X_fit, df[list(SKAB_SENSORS)].iloc[:400])
        pd.testing.assert_frame_equal(X_score, df[list(SKAB_SENSORS)].iloc[400:])
        assert X_fit.index.max() < X_score.index.min()
        assert "anomaly" not in X_fit.columns
    assert res.loc[0, "n_files"] == 3 and res.loc[0, "n_test_rows"] == 3 * 300


def test_factories_and_unfitted_detectors_are_accepted_and_cloned():
    data = fake_skab(n_files=2)
    det = RollingZScore(window=30)
    res = bench.run_skab({"z30": det, "static": lambda: RollingZScore(window=None)}, data, progress=False)
    assert list(res["detector"]) == ["z30", "static"]
    assert not hasattr(det, "threshold_")  # the given detector itself was never fitted
    # a static z-score catches the injected level shift; a 30-row rolling one adapts to it
    mar = res.set_index("detector")["mar"]
    assert mar["static"] < 10 < mar["z30"]


def test_a_failing_detector_names_itself_and_the_file():
    data = fake_skab(n_files=2)
    data["fake/1"].iloc[:400, 2] = 1.0  # constant sensor in the training rows
    with pytest.raises(bench.BenchmarkError, match=r"'zscore' failed to fit on SKAB file 'fake/1'.*constant"):
        bench.run_skab("zscore", data, progress=False)


def test_trivial_rows_on_fake_data():
    data = fake_skab(n_files=2)
    triv = bench.skab_trivial(data).set_index("detector")
    p = 70 / 300
    assert triv.loc["flag everything", "f1"] == pytest.approx(2 * p / (1 + p))
    assert triv.loc["flag everything", "far"] == 100 and triv.loc["flag nothing", "mar"] == 100
    assert 35 < triv.loc["random (50% alarms)", "far"] < 65


def test_nab_train_rows_follows_nab_and_alternatives():
    assert bench.nab_train_rows(22683) == 750  # NAB: min(floor(0.15 n), 750)
    assert bench.nab_train_rows(1000) == 150
    assert bench.nab_train_rows(22683, 0.15) == 3402
    assert bench.nab_train_rows(22683, 500) == 500
    with pytest.raises(ValueError):
        bench.nab_train_rows(100, "all")


# --------------------------------------------------------------------------- #
# real data (SKAB, NAB)
# --------------------------------------------------------------------------- #
@pytest.mark.needs_data
def test_flag_everything_gives_the_skab_f1_to_beat():
    triv = bench.skab_trivial().set_index("detector")
    assert triv.loc["flag everything", "n_files"] == 34
    assert triv.loc["flag everything", "f1"] == pytest.approx(0.698, abs=0.001)
    assert triv.loc["flag everything", "far"] == 100.0
    assert triv.loc["flag nothing", "f1"] == 0.0


@pytest.mark.needs_data
def test_run_skab_zscore_on_a_few_files():
    res = bench.run_skab(["zscore"], keys=FEW_FILES, progress=False)
    assert set(bench.SKAB_COLUMNS) <= set(res.columns) and len(res) == 1
    row = res.iloc[0]
    assert row["detector"] == "zscore" and row["n_files"] == 3 and row["protocol"] == "skab"
    for col in ("f1", "precision", "recall", "pr_auc"):
        assert 0 <= row[col] <= 1
    for col in ("far", "mar"):
        assert 0 <= row[col] <= 100
    assert row["fit_seconds"] >= 0 and row["score_seconds"] >= 0
    table = bench.skab_comparison(res, keys=FEW_FILES)
    assert set(table["source"]) == {"this course", "trivial", "SKAB leaderboard"}
    assert len(table) == 1 + 3 + 10
    assert any("other/2" in note for note in bench.skab_notes(keys=FEW_FILES))


@pytest.mark.needs_data
def test_cli_end_to_end_writes_the_csv(tmp_path):
    out = tmp_path / "res.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "sadlib.bench", "--dataset", "skab", "--detectors", "zscore",
         "--files", "valve1/0,other/3", "--params", '{"zscore": {"window": 30}}', "--csv", str(out),
         "--no-progress"],
        capture_output=True, text=True, check=True,
    )
    assert "flag everything" in proc.stdout and "Conv-AE" in proc.stdout and "zscore" in proc.stdout
    res = pd.read_csv(out)
    assert SKAB_CSV_COLUMNS <= set(res.columns)
    assert list(res["detector"]) == ["zscore"] and res.loc[0, "n_files"] == 2


@pytest.mark.needs_data
def test_cli_main_no_leaderboard(tmp_path, capsys):
    out = tmp_path / "res.csv"
    assert bench.main(["--detectors", "zscore", "--files", "valve1/1", "--no-leaderboard",
                       "--csv", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Conv-AE" not in text and "flag nothing" in text
    assert SKAB_CSV_COLUMNS <= set(pd.read_csv(out).columns)


@pytest.mark.needs_data
def test_run_nab_machine_temperature():
    res = bench.run_nab("zscore", progress=False)
    row = res.iloc[0]
    assert row["series"] == bench.DEFAULT_NAB_FILE
    assert row["n_train"] == 750 and row["train_anomaly_rows"] == 0 and res.attrs["notes"] == []
    for col in ("pr_auc", "event_recall", "event_precision", "f1"):
        assert 0 <= row[col] <= 1
    assert row["false_alarms_per_day"] >= 0 and row["n_events"] == 4
    # the uncapped 15 % training period swallows the first labelled window: say so
    res15 = bench.run_nab("zscore", probation=0.15, progress=False)
    assert res15.loc[0, "train_anomaly_rows"] == 567 and res15.loc[0, "n_events"] == 3
    assert "2013-12-10" in res15.attrs["notes"][0]
