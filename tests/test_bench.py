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
from sadlib.validation import InvalidParameterError

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
    # no shared random row: random alarms belong to a detector (its random line)
    assert list(triv.index) == ["flag everything", "flag nothing"]
    assert triv[bench.SKAB_RANDOM_COLUMNS].isna().all().all()
    nab = bench.nab_trivial(fake_nab(), name="fake").set_index("detector")
    assert list(nab.index) == ["flag everything", "flag nothing"]
    assert nab[bench.NAB_RANDOM_COLUMNS].isna().all().all()


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
    assert "random line of zscore" in proc.stdout and "random (50" not in proc.stdout
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
    newer = ["policy", "vus_pr", *bench.SKAB_RANDOM_COLUMNS]  # columns added since the first CSVs were written
    for name in ("skab.csv", "skab_variants.csv", "skab_deep_margin.csv"):
        current = pd.read_csv(root / name)
        assert set(bench.SKAB_COLUMNS) - set(current.columns) <= set(newer)
        # the committed CSV, and the same rows as a CSV written before the newer columns existed
        for old in (current, current.drop(columns=[c for c in newer if c in current.columns])):
            table = bench.skab_comparison(old.assign(source="x"), fake_skab(n_files=1), include_published=False)
            assert set(old["detector"]) <= set(table["detector"])
            has_lines = set(bench.SKAB_RANDOM_COLUMNS) <= set(old.columns)
            assert table["detector"].str.startswith("random line of").any() == has_lines


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


# --------------------------------------------------------------------------- #
# each detector's random line: its own alarms shifted in time (issue 26 §2)
# --------------------------------------------------------------------------- #
def _pooled_shifted_line(kept, keys, n_shifts=bench.RANDOM_SHIFTS, seed=0):
    """The pooled random line built by hand: the offsets of shifted_alarms_baseline per file, rolled and pooled."""
    offsets = {k: metrics.shifted_alarms_baseline(kept[k]["y"], kept[k]["alarms"], n_shifts=n_shifts,
                                                  seed=seed)["offsets"] for k in keys}
    y = np.concatenate([kept[k]["y"] for k in keys])
    return pd.DataFrame([metrics.point_metrics(y, np.concatenate([np.roll(kept[k]["alarms"], offsets[k][j])
                                                                  for k in keys])) for j in range(n_shifts)])


def test_skab_random_line_is_the_detectors_alarms_shifted_within_each_file():
    data = fake_skab(n_files=3, seed=2)
    res = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, keep_scores=True, seed=5)
    kept = res.attrs["scores"]["zscore"]
    by_hand = _pooled_shifted_line(kept, list(data), seed=5)
    row = res.iloc[0]
    assert row["random_f1"] == pytest.approx(by_hand["f1"].mean(), abs=1e-12)
    assert row["random_f1_std"] == pytest.approx(by_hand["f1"].std(ddof=0), abs=1e-12)
    assert row["random_far"] == pytest.approx(100 * by_hand["far"].mean(), abs=1e-9)
    assert row["random_mar"] == pytest.approx(100 * by_hand["mar"].mean(), abs=1e-9)
    assert row["random_f1_std"] > 0  # the shifts differ: the spread is shown, not zero
    # the detector finds the shift; on average its alarms moved elsewhere do not (a shift of a few rows
    # keeps them on the 70-row event, hence the wide spread on 300 test rows per file)
    assert row["f1"] > row["random_f1"] + 0.3
    # another seed draws other offsets
    other = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, seed=6).iloc[0]
    assert other["random_f1"] != row["random_f1"] and other["f1"] == row["f1"]


def test_random_line_keeps_the_alarm_share_of_each_detector():
    """Two detectors with different alarm shares get different random lines (never one shared share)."""
    data = fake_skab(n_files=2, seed=1)
    res = bench.run_skab({"z": "zscore", "z loose": lambda: detectors.make("zscore", window=None)}, data,
                         progress=False, keep_scores=True).set_index("detector")
    y = np.concatenate([data[k]["anomaly"].to_numpy()[bench.SKAB_TRAIN_ROWS:] for k in data]).astype(bool)
    for name in res.index:
        alarms = np.concatenate([res.attrs["scores"][name][k]["alarms"] for k in data])
        # a roll keeps the number of alarms: mean(FP + TP) over the shifts is the detector's alarm count
        fp = res.loc[name, "random_far"] / 100 * (~y).sum()
        tp = (1 - res.loc[name, "random_mar"] / 100) * y.sum()
        assert fp + tp == pytest.approx(alarms.sum(), abs=1e-6)
    assert res.loc["z", "random_far"] != res.loc["z loose", "random_far"]


def test_random_line_of_a_policy_shifts_the_policys_alarms():
    data = fake_skab(n_files=2)
    res = bench.run_skab("zscore", data, params=STATIC_Z, progress=False, policy="default", keep_scores=True)
    by_hand = _pooled_shifted_line(res.attrs["scores"]["zscore"], list(data))
    assert res.loc[0, "random_f1"] == pytest.approx(by_hand["f1"].mean(), abs=1e-12)


def test_skab_comparison_shows_each_detectors_random_line_with_its_spread():
    data = fake_skab(n_files=2)
    res = bench.run_skab({"a": "zscore", "b": lambda: detectors.make("zscore", window=None)}, data, progress=False)
    table = bench.skab_comparison(res, data, include_published=False).set_index("detector")
    assert {"random line of a", "random line of b"} <= set(table.index)
    assert not any(name.startswith("random (") for name in table.index)
    for name in ("a", "b"):
        line = table.loc[f"random line of {name}"]
        ours = res.set_index("detector").loc[name]
        assert line["source"] == "trivial"
        assert (line["f1"], line["f1_std"], line["far"], line["mar"]) == (
            ours["random_f1"], ours["random_f1_std"], ours["random_far"], ours["random_mar"])
        assert np.isnan(line["pr_auc"]) and np.isnan(line["vus_pr"])  # alarms only, no scores
    assert table.loc[["a", "b", "flag everything"], "f1_std"].isna().all()
    lines = bench.random_lines(res)
    assert list(lines["detector"]) == ["random line of a", "random line of b"]
    assert (lines["n_files"] == 2).all() and (lines["policy"] == "none").all()
    assert bench.random_lines(res.drop(columns=bench.SKAB_RANDOM_COLUMNS)).empty


def test_nab_random_line_is_the_detectors_alarms_shifted():
    nab = bench.run_nab("zscore", fake_nab(), name="fake", params=STATIC_Z, progress=False, keep_scores=True,
                        seed=3)
    f = nab.attrs["scores"]["zscore"]["fake"]
    row = nab.iloc[0]
    for metric in ("event_recall", "event_precision", "false_alarms_per_day"):
        line = metrics.shifted_alarms_baseline(f["y"], f["alarms"], n_shifts=bench.RANDOM_SHIFTS, seed=3,
                                               metric=metric, index=f["index"])
        assert row[f"random_{metric}"] == pytest.approx(line["mean"], abs=1e-12)
        if metric == "event_recall":
            assert row["random_event_recall_std"] == pytest.approx(line["std"], abs=1e-12)
    assert row["event_recall"] == 1.0 and row["random_event_recall"] < 1.0
    lines = bench.random_lines(nab)
    assert list(lines["detector"]) == ["random line of zscore"] and lines.loc[0, "series"] == "fake"
    assert lines.loc[0, "event_recall_std"] == row["random_event_recall_std"]


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_a_bad_seed_names_the_parameter(seed):
    with pytest.raises(InvalidParameterError, match="seed"):
        bench.run_skab("zscore", fake_skab(n_files=1), progress=False, seed=seed)
    with pytest.raises(InvalidParameterError, match="seed"):
        bench.run_nab("zscore", fake_nab(), name="fake", progress=False, seed=seed)


def test_cli_nab_shows_the_random_line(tmp_path, capsys, monkeypatch):
    frame = fake_nab()
    monkeypatch.setattr(bench.datasets, "load_nab", lambda name: frame)
    assert bench.main(["--dataset", "nab", "--detectors", "zscore", "--nab-file", "fake", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "random line of zscore" in text and "ev_rec sd" in text and "random (50" not in text


class _EpochZScore(RollingZScore):
    """A detector that trains in epochs, as the Keras ones do (no Keras needed here)."""

    def fit(self, X, y=None):
        super().fit(X, y)
        self.n_epochs_, self.best_epoch_ = 7, 4
        return self


def test_kept_scores_hold_where_training_stopped_without_keeping_the_detector():
    data = fake_skab(n_files=2, seed=5)
    res = bench.run_skab({"epochs": lambda: _EpochZScore(window=None), "plain": lambda: RollingZScore(window=None)},
                         data, progress=False, keep_scores=True)
    kept = res.attrs["scores"]
    assert all(kept["epochs"][key]["n_epochs"] == 7 and kept["epochs"][key]["best_epoch"] == 4 for key in data)
    assert all("n_epochs" not in kept["plain"][key] and "best_epoch" not in kept["plain"][key] for key in data)
    nab = fake_skab(n_files=1, n=1200, seed=6)["fake/0"]
    res = bench.run_nab({"epochs": lambda: _EpochZScore(window=None)}, nab.iloc[:, [0, -1]].set_axis(
        ["value", "anomaly"], axis=1), keep_scores=True)
    (series,) = res.attrs["scores"]["epochs"].values()
    assert series["n_epochs"] == 7 and series["best_epoch"] == 4
