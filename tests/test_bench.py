import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sadlib import alarms as al
from sadlib import bench, detectors, metrics
from sadlib.alarms import AlarmPolicy
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


# --------------------------------------------------------------------------- #
# alarm policies (policy=, --alarm-policy) and keep_scores
# --------------------------------------------------------------------------- #
class SpyPolicy(AlarmPolicy):
    """Records what every (cloned) policy was fitted on, and the fitted policy itself."""

    fits: list = []

    def fit(self, normal_scores, *, index=None):
        super().fit(normal_scores, index=index)
        SpyPolicy.fits.append((self, np.array(normal_scores, dtype=float), index))
        return self


class NoCalibration:
    """A detector that is not a sadlib Detector and has no calibration_scores_."""

    def fit(self, X):
        self.mu_ = X.to_numpy().mean(axis=0)
        return self

    def score(self, X):
        return np.abs(X.to_numpy() - self.mu_).max(axis=1)

    def predict(self, X):
        return self.score(X) > 10.0


SPIKE_ROWS = (420, 440, 470, 500, 530, 640, 660, 680)


def spiky_skab(n_files=2, seed=1):
    """fake_skab plus single-row spikes in the test part: noise that one-sample alarms pick up."""
    data = fake_skab(n_files=n_files, seed=seed)
    for df in data.values():
        for row in SPIKE_ROWS:
            df.iloc[row, :8] += 8.0
    return data


def fake_nab(n=3000, seed=0):
    """A NAB-like series, 5-minute samples: a labelled 30-sample shift and unlabelled 1- and 2-sample spikes."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2014-01-01", periods=n, freq="5min", name="timestamp")
    value = rng.normal(size=n)
    anomaly = np.zeros(n, dtype=int)
    value[2000:2030] += 6.0
    anomaly[1990:2040] = 1
    for start, length in ((800, 1), (1200, 2), (1500, 1), (2500, 2), (2800, 1)):
        value[start:start + length] += 9.0
    return pd.DataFrame({"value": value, "anomaly": anomaly}, index=idx)


STATIC_Z = {"zscore": {"window": None}}


def test_without_a_policy_the_policy_column_says_none_and_nothing_else_changes():
    data = fake_skab(n_files=2)
    plain = bench.run_skab("zscore", data, params=STATIC_Z, progress=False)
    named = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy="none")
    assert list(plain.columns) == bench.SKAB_COLUMNS and plain.loc[0, "policy"] == "none"
    timing = ["fit_seconds", "score_seconds"]
    pd.testing.assert_frame_equal(plain.drop(columns=timing), named.drop(columns=timing))
    assert "scores" not in plain.attrs
    assert set(bench.skab_trivial(data)["policy"]) == {"none"}
    nab = bench.run_nab("zscore", fake_nab(), name="fake", params=STATIC_Z, progress=False)
    assert list(nab.columns) == bench.NAB_COLUMNS and nab.loc[0, "policy"] == "none"
    assert set(bench.nab_trivial(fake_nab(), name="fake")["policy"]) == {"none"}


def test_policy_column_holds_the_name_or_the_json():
    data = fake_skab(n_files=2)
    res = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy="default")
    assert res.loc[0, "policy"] == "default"
    spec = {"threshold": ("percentile", {"q": 99}), "k": 2, "n": 4}
    res = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy=spec)
    assert res.loc[0, "policy"] == '{"k":2,"n":4,"threshold":["percentile",{"q":99}]}'
    with pytest.raises(ValueError, match="Did you mean 'default'"):
        bench.run_skab("zscore", data, progress=False, policy="Default")


def test_k_of_n_policy_removes_the_spike_alarms_and_keeps_the_event():
    data = spiky_skab()
    level = {"threshold": ["percentile", {"q": 99}]}
    one = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy=level, keep_scores=True)
    k_of_n = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy={**level, "k": 3, "n": 5},
                            keep_scores=True)
    # each isolated spike raises an alarm with the plain level, none with 3 of 5
    near = np.zeros(300, dtype=bool)
    for row in SPIKE_ROWS:
        near[row - 400 : row - 400 + 5] = True
    for f_one, f_kn in zip(one.attrs["scores"]["zscore"].values(), k_of_n.attrs["scores"]["zscore"].values()):
        assert f_one["alarms"][np.array(SPIKE_ROWS) - 400].all()
        assert not f_kn["alarms"][near].any()
    assert k_of_n.loc[0, "far"] < one.loc[0, "far"]
    assert k_of_n.loc[0, "recall"] > 0.9 and k_of_n.loc[0, "f1"] > one.loc[0, "f1"]
    assert k_of_n.loc[0, "pr_auc"] == one.loc[0, "pr_auc"]  # same scores


def test_the_policy_is_fitted_on_normal_training_scores_only(monkeypatch):
    """No leakage: the policy sees the calibration tail of the first 400 rows, never a test row or a label."""
    monkeypatch.setattr(SpyPolicy, "fits", [])
    data = spiky_skab(n_files=2)
    spy = SpyPolicy(("percentile", {"q": 95}), hold="5s")
    bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy=spy)
    assert not hasattr(spy, "threshold_")  # the given policy is cloned, not fitted
    assert len(SpyPolicy.fits) == 2 and SpyPolicy.fits[0][0] is not SpyPolicy.fits[1][0]
    for (fitted, scores, index), df in zip(SpyPolicy.fits, data.values()):
        det = RollingZScore(window=None).fit(df[list(SKAB_SENSORS)].iloc[:400])
        np.testing.assert_array_equal(scores, det.calibration_scores_)
        assert index.equals(df.index[400 - len(scores) : 400])  # timestamps of the held-out normal tail
        assert fitted.hold_ == 5  # "5s" at SKAB's 1 s sampling
    thresholds = [f.threshold_ for f, _, _ in SpyPolicy.fits]
    # wreck the test part: huge scores, flipped labels; the fitted levels must not move
    for df in data.values():
        df.iloc[400:, :8] *= 50.0
        df.iloc[400:, df.columns.get_loc("anomaly")] = 1 - df["anomaly"].iloc[400:]
    SpyPolicy.fits.clear()
    bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy=spy)
    assert [f.threshold_ for f, _, _ in SpyPolicy.fits] == thresholds


def test_a_detector_without_calibration_scores_fits_the_policy_on_its_training_scores(monkeypatch):
    monkeypatch.setattr(SpyPolicy, "fits", [])
    data = fake_skab(n_files=1)
    bench.run_skab({"plain": NoCalibration}, data, progress=False, policy=SpyPolicy(2.0))
    (_, scores, index), = SpyPolicy.fits
    train = data["fake/0"][list(SKAB_SENSORS)].iloc[:400]
    np.testing.assert_allclose(scores, NoCalibration().fit(train).score(train))
    assert index.equals(train.index)


def test_nab_with_a_duration_policy():
    df = fake_nab()
    level = {"threshold": ["percentile", {"q": 99}]}
    kw = dict(name="fake", params=STATIC_Z, progress=False, keep_scores=True)
    plain = bench.run_nab("zscore", df, policy=level, **kw)
    lasting = bench.run_nab("zscore", df, policy={**level, "min_duration": "15min"}, **kw)
    assert lasting.loc[0, "policy"] == '{"min_duration":"15min","threshold":["percentile",{"q":99}]}'
    assert lasting.loc[0, "event_recall"] == 1.0 and plain.loc[0, "event_recall"] == 1.0
    assert lasting.loc[0, "false_alarms_per_day"] < plain.loc[0, "false_alarms_per_day"]
    kept = lasting.attrs["scores"]["zscore"]["fake"]
    assert kept["index"].freq == pd.Timedelta("5min") or kept["index"].to_series().diff().iloc[1:].eq(
        pd.Timedelta("5min")).all()
    # "15min" at 5-minute samples is 3 consecutive samples above the level fitted on the calibration tail
    threshold = np.percentile(kept["calibration"], 99)
    np.testing.assert_array_equal(kept["alarms"], al.min_duration_alarms(kept["test"], threshold, 3))
    assert not al.min_duration_alarms(kept["test"], threshold, 3)[~kept["y"]].any()  # the spikes are gone


def test_keep_scores_holds_what_the_benchmark_used():
    data = fake_skab(n_files=2)
    res = bench.run_skab({"z": RollingZScore(window=None), "z30": RollingZScore(window=30)}, data,
                         progress=False, keep_scores=True)
    kept = res.attrs["scores"]
    assert set(kept) == {"z", "z30"} and all(set(v) == set(data) for v in kept.values())
    for key, df in data.items():
        f = kept["z"][key]
        assert set(f) == {"calibration", "calibration_index", "test", "y", "index", "alarms"}
        X = df[list(SKAB_SENSORS)]
        det = RollingZScore(window=None).fit(X.iloc[:400])
        np.testing.assert_array_equal(f["calibration"], det.calibration_scores_)
        assert f["calibration_index"].equals(X.index[400 - len(det.calibration_scores_) : 400])
        np.testing.assert_array_equal(f["test"], det.score(X.iloc[400:]))
        np.testing.assert_array_equal(f["y"], df["anomaly"].to_numpy()[400:].astype(bool))
        assert f["index"].equals(X.index[400:])
        np.testing.assert_array_equal(f["alarms"], f["test"] > det.threshold_)  # the detector's own rule
    # the kept alarms are the ones the row counts
    for label in ("z", "z30"):
        y = np.concatenate([f["y"] for f in kept[label].values()])
        a = np.concatenate([f["alarms"] for f in kept[label].values()])
        row = res.set_index("detector").loc[label]
        assert row["recall"] == pytest.approx(a[y].mean())
        assert row["far"] == pytest.approx(100 * a[~y].mean())
    # frames that carry kept scores can still be concatenated
    both = pd.concat([res, bench.run_skab("zscore", data, progress=False, keep_scores=True)])
    assert len(both) == 3
    nab = bench.run_nab("zscore", fake_nab(), name="fake", progress=False, keep_scores=True)
    assert set(nab.attrs["scores"]["zscore"]) == {"fake"} and nab.attrs["notes"] == []


def test_cli_bad_alarm_policy_exits_2_before_loading_data(capsys, monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("data loaded")

    monkeypatch.setattr(bench.datasets, "load_skab", no_loading)
    for arg, expected in (("defualt", "Did you mean 'default'?"), ('{"k": 3, n: 5}', "not valid JSON")):
        with pytest.raises(SystemExit) as exc:
            bench.main(["--alarm-policy", arg, "--no-progress"])
        assert exc.value.code == 2
        assert expected in capsys.readouterr().err


@pytest.mark.needs_data
def test_cli_alarm_policy_writes_the_policy_column(tmp_path):
    out = tmp_path / "res.csv"
    assert bench.main(["--detectors", "zscore", "--files", "valve1/0", "--no-leaderboard", "--alarm-policy",
                       "default", "--csv", str(out), "--no-progress"]) == 0
    res = pd.read_csv(out)
    assert list(res.columns) == bench.SKAB_COLUMNS and list(res["policy"]) == ["default"]


def test_old_csvs_without_a_policy_column_still_read():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "benchmarks"
    for name in ("skab.csv", "skab_variants.csv", "skab_deep_margin.csv"):
        old = pd.read_csv(root / name)
        assert set(bench.SKAB_COLUMNS) - set(old.columns) <= {"policy", "vus_pr"}
        table = bench.skab_comparison(old.assign(source="x"), fake_skab(n_files=1), include_published=False)
        assert set(old["detector"]) <= set(table["detector"])


def test_vus_pr_column_is_the_mean_of_each_files_own_vus_pr():
    data = fake_skab(n_files=3, seed=4)
    quiet = data["fake/2"]  # a file without anomalies in its test part has no VUS-PR and is left out
    quiet.iloc[550:620, :8] -= 6.0
    quiet["anomaly"] = 0
    res = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, keep_scores=True)
    kept = res.attrs["scores"]["zscore"]
    per_file = [metrics.vus_pr(kept[k]["y"], kept[k]["test"], max_buffer=bench.VUS_MAX_BUFFER)
                for k in ("fake/0", "fake/1")]
    assert res.loc[0, "vus_pr"] == pytest.approx(np.mean(per_file), abs=1e-12)
    assert 0 < res.loc[0, "vus_pr"] <= 1
    trivial = bench.skab_trivial(data)
    assert list(trivial.columns) == bench.SKAB_COLUMNS
    # constant scores: each file's VUS-PR is at least its anomaly share (the buffer adds partial credit)
    everything = trivial.set_index("detector").loc["flag everything", "vus_pr"]
    assert everything == pytest.approx(metrics.vus_pr(kept["fake/0"]["y"], np.ones(300)), abs=1e-12)
    assert everything >= 70 / 300
    nab = bench.run_nab("zscore", fake_nab(), name="fake", params=STATIC_Z, progress=False, keep_scores=True)
    f = nab.attrs["scores"]["zscore"]["fake"]
    assert nab.loc[0, "vus_pr"] == pytest.approx(metrics.vus_pr(f["y"], f["test"], max_buffer=4), abs=1e-12)
