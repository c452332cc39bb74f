"""sadlib.attribution: error shares, the occlusion probe, its normal-behaviour reference, ranking and checking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sadlib import detectors
from sadlib.alarms import alarm_table
from sadlib.attribution import (
    NormalSensorModel,
    attribution_accuracy,
    error_share,
    fit_reference,
    match_alarms,
    occlusion,
    top_sensors,
)
from sadlib.validation import InvalidParameterError

SENSORS = ["current", "pressure", "temperature"]


def cyclic(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A machine that loads and idles: every sensor follows the on/off state (plus noise)."""
    rng = np.random.default_rng(seed)
    on = (np.arange(n) // 25) % 2 == 0
    load = np.where(on, 1.0, 0.0)
    idx = pd.date_range("2024-01-01", periods=n, freq="10s")
    return pd.DataFrame({
        "current": 5 + 20 * load + rng.normal(0, 0.5, n),
        "pressure": 8 + 2 * load + rng.normal(0, 0.05, n),
        "temperature": 60 + 5 * load + rng.normal(0, 0.2, n),
    }, index=idx)


@pytest.fixture(scope="module")
def machine():
    train = cyclic(3000, seed=0)
    test = cyclic(1200, seed=1)
    truth = {}
    # three sensor faults, one per sensor: a shift of a few spreads, inside known rows
    for (start, sensor, shift) in [(200, "pressure", 0.6), (600, "current", 6.0), (1000, "temperature", 2.0)]:
        test.iloc[start:start + 40, test.columns.get_loc(sensor)] += shift
        truth[start] = sensor
    return train, test, truth


# --------------------------------------------------------------------------- error_share
def test_error_share_rows_sum_to_one_and_follow_alarm_numbers():
    errs = np.array([[1, 0, 0], [2, 2, 0], [0, 0, 0], [0, 1, 3], [0, 0, 1]], dtype=float)
    table = error_share(errs, [1, 1, 0, 1, 1], sensors=SENSORS)
    assert list(table.columns) == SENSORS and table.index.name == "alarm"
    np.testing.assert_allclose(table.sum(axis=1), 1.0)
    np.testing.assert_allclose(table.loc[0], [0.6, 0.4, 0.0])  # sums 3 and 2 over the first alarm
    np.testing.assert_allclose(table.loc[1], [0.0, 0.2, 0.8])
    # the same alarm numbers as alarm_table, so the two join
    assert len(alarm_table([1, 1, 0, 1, 1], sensor_errors=errs)) == len(table)


def test_error_share_sums_over_the_alarm_unlike_the_peak():
    # sensor a has one spike, sensor b is off during the whole alarm
    errs = pd.DataFrame({"a": [5.0, 0, 0, 0, 0], "b": [2.0, 2, 2, 2, 2]})
    table = error_share(errs, np.ones(5, dtype=bool))
    assert top_sensors(table).tolist() == ["b"]
    assert alarm_table(np.ones(5, dtype=bool), sensor_errors=errs)["top_sensor"].tolist() == ["a"]


def test_error_share_skips_nan_and_gives_nan_rows_when_nothing_is_known():
    errs = np.array([[np.nan, np.nan], [1.0, 3.0], [np.nan, np.nan], [0.0, 0.0]])
    table = error_share(errs, [1, 1, 0, 1])
    np.testing.assert_allclose(table.loc[0], [0.25, 0.75])
    assert table.loc[1].isna().all()  # all-zero errors: nothing to share
    assert top_sensors(table).tolist() == ["sensor 1", None]


def test_error_share_without_alarms_is_an_empty_table_with_the_sensor_columns():
    table = error_share(np.ones((4, 3)), np.zeros(4), sensors=SENSORS)
    assert table.empty and list(table.columns) == SENSORS


@pytest.mark.parametrize("errs, alarms, sensors, match", [
    (-np.ones((3, 2)), [1, 1, 0], None, "non-negative"),
    (np.ones((3, 2)), [1, 1], None, "alarms has 2 values but sensor_errors has 3 rows"),
    (np.ones((3, 2)), [1, 2, 0], None, "binary"),
    (np.ones((3, 2)), [1, 0, 0], ["a"], "sensors has 1 names"),
    (np.ones((3, 2)), [1, 0, 0], "ab", "list of names"),
    (np.array([[np.inf, 1.0]] * 3), [1, 0, 0], None, "infinite"),
])
def test_error_share_rejects_bad_input(errs, alarms, sensors, match):
    with pytest.raises(ValueError, match=match):
        error_share(errs, alarms, sensors=sensors)


# --------------------------------------------------------------------------- reference
@pytest.mark.parametrize("method", ["knn", "ridge"])
def test_normal_sensor_model_predicts_a_broken_sensor_from_the_others(machine, method):
    train, _, _ = machine
    ref = fit_reference(train, method)
    rows = cyclic(200, seed=5)
    broken = rows.copy()
    broken["pressure"] = 0.0  # the pressure sensor fails; current and temperature still tell the state
    pred = ref.predict(broken)[:, 1]
    assert np.abs(pred - rows["pressure"]).mean() < 0.15  # within the load/idle swing of 2 bar
    assert np.abs(np.median(train["pressure"]) - rows["pressure"]).mean() > 0.9  # what the median would give


def test_normal_sensor_model_leaves_labelled_rows_out():
    X = np.column_stack([np.arange(100.0), np.arange(100.0) % 7])
    y = np.zeros(100, dtype=int)
    X[90:, 0] = 1e6
    y[90:] = 1
    med = NormalSensorModel("median").fit(X, y).median_
    assert med[0] == pytest.approx(np.median(np.arange(90.0)))


def test_normal_sensor_model_median_max_samples_and_errors():
    X = np.random.default_rng(0).normal(size=(500, 3))
    ref = NormalSensorModel("knn", max_samples=50).fit(X)
    assert ref.n_samples_fit_ == 50 and len(ref.estimators_) == 3
    np.testing.assert_allclose(NormalSensorModel("median").fit(X).predict(X[:4]), np.tile(np.median(X, 0), (4, 1)))
    with pytest.raises(Exception, match="not fitted"):
        NormalSensorModel().predict(X)
    with pytest.raises(ValueError, match="fitted on 3"):
        ref.predict(X[:, :2])
    with pytest.raises(ValueError, match="at least two"):
        NormalSensorModel("ridge").fit(X[:, :1])
    with pytest.raises(InvalidParameterError, match="method"):
        NormalSensorModel("mean").fit(X)
    with pytest.raises(InvalidParameterError, match="n_neighbors"):
        NormalSensorModel(n_neighbors=0).fit(X)


# --------------------------------------------------------------------------- occlusion
def _alarms(test, truth, length=40):
    alarms = np.zeros(len(test), dtype=bool)
    for start in truth:
        alarms[start:start + length] = True
    return alarms


def test_occlusion_names_the_faulty_sensor_with_a_detector_that_mixes_sensors(machine):
    train, test, truth = machine
    det = detectors.make("pca").fit(train)  # its score uses the correlations between the sensors
    alarms = _alarms(test, truth)
    assert det.predict(test)[alarms].all()
    table = occlusion(det, test, alarms, reference="model", X_train=train)
    assert list(table.columns) == SENSORS and len(table) == 3
    assert top_sensors(table).tolist() == list(truth.values())
    # repairing the faulty sensor removes most of the score; "repairing" a healthy one hardly matters
    for i, sensor in enumerate(truth.values()):
        assert table.loc[i, sensor] > 10 * table.loc[i].drop(sensor).abs().max()


def test_occlusion_is_the_documented_score_drop(machine):
    """Batched scoring per alarm gives the same numbers as scoring every variant on its own."""
    train, test, truth = machine
    det = detectors.make("zscore", window=30).fit(train)
    alarms = _alarms(test, truth)
    alarms[:10] = True  # an alarm at the very start (its context is clipped)
    ref = fit_reference(train, "ridge")
    table = occlusion(det, test, alarms, reference=ref, context=30)
    normal = ref.predict(test)
    X = test.to_numpy()
    for i, (start, end) in enumerate([(0, 10), *[(s, s + 40) for s in truth]]):
        lo, hi = max(0, start - 30), min(len(X), end + 30)
        base = det.score(pd.DataFrame(X[lo:hi], columns=test.columns))[start - lo:end - lo].mean()
        for j, sensor in enumerate(SENSORS):
            v = X[lo:hi].copy()
            v[start - lo:end - lo, j] = normal[start:end, j]
            drop = base - det.score(pd.DataFrame(v, columns=test.columns))[start - lo:end - lo].mean()
            assert table.loc[i, sensor] == pytest.approx(drop, rel=1e-9, abs=1e-9)


def test_occlusion_median_reference_and_arrays(machine):
    train, test, truth = machine
    det = detectors.make("robust_z", window=None).fit(train)
    alarms = _alarms(test, truth)
    by_name = occlusion(det, test, alarms, reference="median", X_train=train)
    by_vector = occlusion(det, test, alarms, reference=train.median().to_numpy())
    pd.testing.assert_frame_equal(by_name, by_vector)
    full = occlusion(det, test.to_numpy(), alarms, reference=np.tile(train.median().to_numpy(), (len(test), 1)),
                     sensors=SENSORS)
    np.testing.assert_allclose(full.to_numpy(), by_name.to_numpy())


def test_occlusion_without_alarms(machine):
    train, test, _ = machine
    det = detectors.make("robust_z", window=60).fit(train)
    assert occlusion(det, test, np.zeros(len(test)), reference="median", X_train=train).empty


class WarmUp:
    """A minimal detector: the sum of the values, no score (NaN) for the first ``window`` rows it sees."""

    window = 5

    def score(self, X):
        s = np.asarray(X, dtype=float).sum(axis=1)
        s[: self.window] = np.nan
        return s


def test_occlusion_gives_nan_where_the_detector_gives_no_score(machine):
    train, test, _ = machine
    alarms = np.zeros(len(test), dtype=bool)
    alarms[:3] = alarms[100:110] = True
    table = occlusion(WarmUp(), test, alarms, reference="median", X_train=train)
    assert table.loc[0].isna().all()  # inside the warm-up
    expected = (test.iloc[100:110] - train.median()).mean()  # the score is a sum: the drop is the mean excess
    np.testing.assert_allclose(table.loc[1], expected.to_numpy())


@pytest.mark.parametrize("make_kwargs, match", [
    (lambda train: {"reference": "model"}, "X_train"),
    (lambda train: {"reference": "mean", "X_train": train}, "reference must be one of"),
    (lambda train: {"reference": fit_reference(train, "median"), "X_train": train}, "leave X_train out"),
    (lambda train: {"reference": np.zeros(2)}, "one normal value per sensor"),
    (lambda train: {"reference": object()}, "reference must be"),
    (lambda train: {"reference": "median", "X_train": train, "context": -1}, "context"),
])
def test_occlusion_rejects_bad_references(machine, make_kwargs, match):
    train, test, truth = machine
    det = detectors.make("robust_z", window=None).fit(train)
    with pytest.raises(ValueError, match=match):
        occlusion(det, test, _alarms(test, truth), **make_kwargs(train))


def test_occlusion_rejects_a_non_detector_and_misaligned_alarms(machine):
    train, test, truth = machine
    with pytest.raises(InvalidParameterError, match="score"):
        occlusion(object(), test, _alarms(test, truth), reference="median", X_train=train)
    det = detectors.make("robust_z", window=None).fit(train)
    with pytest.raises(ValueError, match="alarms has 5 values"):
        occlusion(det, test, np.ones(5), reference="median", X_train=train)


# --------------------------------------------------------------------------- ranking and checking
def test_top_sensors_and_accuracy():
    table = pd.DataFrame({"a": [0.1, 0.7, np.nan], "b": [0.9, 0.2, np.nan], "c": [0.0, 0.1, np.nan]})
    assert top_sensors(table).tolist() == ["b", "a", None]
    assert top_sensors(table, k=2).tolist() == [["b", "a"], ["a", "b"], []]
    assert attribution_accuracy(top_sensors(table), ["b", "b", "a"]) == pytest.approx(1 / 3)
    assert attribution_accuracy(top_sensors(table, k=2), ["a", "b", None]) == 1.0
    assert np.isnan(attribution_accuracy(["a"], [None]))
    with pytest.raises(ValueError, match="k must be"):
        top_sensors(table, k=4)
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        top_sensors(np.ones((2, 2)))
    with pytest.raises(ValueError, match="top has 2 alarms but truth has 1"):
        attribution_accuracy(["a", "b"], ["a"])


def test_match_alarms_uses_the_precursor_and_names_false_alarms():
    idx = pd.date_range("2024-01-01", periods=20, freq="1min")
    events = pd.DataFrame({"start": [idx[8], idx[15]], "end": [idx[10], idx[17]], "type": ["air_leak", "sensor_fault"],
                           "sensor": ["TP2", "Oil_temperature"], "precursor_start": [idx[5], idx[15]]})
    alarms = np.zeros(20, dtype=bool)
    alarms[[1, 6, 12, 16]] = True
    m = match_alarms(alarms, events, idx)
    assert m["event"].tolist() == [None, 0, None, 1]
    assert m["sensor"].tolist() == [None, "TP2", None, "Oil_temperature"]
    without = match_alarms(alarms, events.drop(columns="precursor_start"), idx)
    assert without["event"].tolist() == [None, None, None, 1]  # the alarm at 6 is before the start
    with pytest.raises(ValueError, match="no column"):
        match_alarms(alarms, events.drop(columns="end"), idx)


def test_check_on_injected_sensor_faults(machine):
    """The acceptance check in small: the top sensor is the faulty one for >= 80 % of the fault alarms."""
    from sadlib import signals

    data = signals.make_normal(4, freq="1min", seed=3)
    train, test = data.iloc[:2880], data.iloc[2880:]
    rows = []
    for i, (kind, sensor) in enumerate([("level_shift", "pressure"), ("drift", "temperature"),
                                        ("level_shift", "current"), ("variance_burst", "vibration")]):
        test, ev = signals.inject(test, kind, start=100 + 600 * i, duration=120, sensor=sensor,
                                  magnitude=5.0, seed=i)
        rows.append(ev)
    events = pd.DataFrame(rows)
    det = detectors.make("robust_z", window=None, threshold=("percentile", {"q": 99.9})).fit(train)
    alarms = det.predict(test)
    truth = match_alarms(alarms, events, test.index)["sensor"]
    assert truth.notna().sum() >= 4
    occ = occlusion(det, test, alarms, reference="model", X_train=train)
    assert attribution_accuracy(top_sensors(occ), truth) >= 0.8
    z = np.abs(test.to_numpy() - det.median_) / det.scale_
    assert attribution_accuracy(top_sensors(error_share(z, alarms, sensors=list(test.columns))), truth) >= 0.8


def test_on_the_compressor_twin_the_model_reference_follows_the_load_cycle():
    """A cyclic machine: a sensor's normal value depends on the phase, which the other sensors tell."""
    from sadlib import signals

    data, _ = signals.make_compressor(2, seed=0, failures=None)
    chan = [c for c in signals.METROPT3_CHANNELS if data[c].std() > 0]
    train, test = data.iloc[:8640][chan], data.iloc[8640:10080][chan]
    j = chan.index("Motor_current")
    model_err = np.abs(fit_reference(train, "knn", max_samples=4000).predict(test)[:, j] - test["Motor_current"]).mean()
    median_err = np.abs(fit_reference(train, "median").predict(test)[:, j] - test["Motor_current"]).mean()
    assert model_err < 0.2 * median_err


def test_normal_sensor_model_checks_its_labels():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="y .the anomaly labels of X_train. has 3 labels"):
        NormalSensorModel("median").fit(X, [0, 1, 0])
    with pytest.raises(ValueError, match="11 are needed|at least 10"):
        NormalSensorModel("knn", n_neighbors=10).fit(X, np.r_[np.zeros(5), np.ones(45)])
