"""Tests for sadlib.signals: the synthetic pump data and the anomaly injector."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from sadlib import signals
from sadlib.signals import (
    ANOMALY_TYPES,
    DEFAULT_MAGNITUDES,
    SENSORS,
    SyntheticData,
    generate,
    inject,
    make_normal,
)


@pytest.fixture(scope="module")
def normal() -> pd.DataFrame:
    return make_normal(7.0, seed=0)


# ----------------------------------------------------------------------------- make_normal
def test_normal_shape_columns_index(normal):
    assert normal.shape == (7 * 24 * 60, len(SENSORS))
    assert tuple(normal.columns) == SENSORS
    assert isinstance(normal.index, pd.DatetimeIndex)
    assert normal.index.name == "timestamp"
    assert normal.index[0] == pd.Timestamp("2024-01-01")
    assert (np.diff(normal.index) == pd.Timedelta("1min")).all()
    assert all(normal[c].dtype == np.float64 for c in SENSORS)
    assert np.isfinite(normal.to_numpy()).all()


def test_normal_freq_and_start():
    d = make_normal(2, freq="30s", start="2023-06-05 08:00")
    assert len(d) == 2 * 24 * 120
    assert d.index[1] - d.index[0] == pd.Timedelta("30s")
    assert d.index[0] == pd.Timestamp("2023-06-05 08:00")
    assert len(make_normal(1.5, freq="1h")) == 36


def test_normal_determinism(normal):
    pd.testing.assert_frame_equal(normal, make_normal(7.0, seed=0))
    assert not np.allclose(normal.to_numpy(), make_normal(7.0, seed=1).to_numpy())


def test_normal_correlations_and_ranges(normal):
    corr = normal.corr()
    assert corr.loc["current", "pressure"] > 0.5
    assert corr.loc["current", "vibration"] > 0.5
    assert corr.loc["current", "temperature"] > 0.5
    assert (normal["vibration"] > 0).all() and (normal["current"] > 0).all() and (normal["pressure"] > 0).all()
    assert 20 < normal["temperature"].mean() < 80


def test_temperature_lags_load(normal):
    def lagged(lag: int) -> float:
        return normal["current"].corr(normal["temperature"].shift(-lag))

    assert lagged(60) > lagged(0)  # temperature follows the current about an hour later


def test_normal_is_fast():
    t = time.perf_counter()
    make_normal(7.0)
    generate(7.0)
    assert time.perf_counter() - t < 1.0


# ----------------------------------------------------------------------------- inject
@pytest.mark.parametrize("kind", ANOMALY_TYPES)
def test_inject_changes_only_the_event(normal, kind):
    before = normal.copy()
    sensor = "pressure" if kind == "correlation_break" else "vibration"
    pos, dur = 3000, 1 if kind == "spike" else 120
    new, event = inject(normal, kind, start=pos, duration=dur, sensor=sensor, seed=3)
    pd.testing.assert_frame_equal(normal, before)  # input untouched
    assert new.shape == normal.shape and new.index.equals(normal.index)
    inside = np.zeros(len(normal), bool)
    inside[pos:pos + dur] = True
    pd.testing.assert_frame_equal(new[~inside], normal[~inside])
    pd.testing.assert_frame_equal(new.drop(columns=sensor), normal.drop(columns=sensor))
    a, b = new[sensor].to_numpy()[inside], normal[sensor].to_numpy()[inside]
    assert not np.array_equal(a, b, equal_nan=True)
    assert event == {
        "start": normal.index[pos], "end": normal.index[pos + dur - 1], "type": kind,
        "sensor": sensor, "magnitude": event["magnitude"],
    }
    assert len(new.loc[event["start"]:event["end"]]) == dur  # end is inclusive
    default = DEFAULT_MAGNITUDES[kind]
    assert np.isnan(event["magnitude"]) if default is None else event["magnitude"] == default


def test_inject_dropout_and_stuck(normal):
    new, _ = inject(normal, "dropout", start=100, duration=50, sensor="current")
    assert new["current"].iloc[100:150].isna().all() and new["current"].notna().sum() == len(normal) - 50
    new, _ = inject(normal, "stuck", start=100, duration=50, sensor="current")
    seg = new["current"].iloc[100:150]
    assert seg.std() == 0 and seg.iloc[0] == normal["current"].iloc[99]


def test_inject_additive_magnitudes(normal):
    std = normal["current"].std(ddof=0)
    new, _ = inject(normal, "level_shift", start=10, duration=20, sensor="current", magnitude=2.0)
    np.testing.assert_allclose((new - normal)["current"].iloc[10:30], 2.0 * std)
    new, _ = inject(normal, "drift", start=10, duration=20, sensor="current")
    diff = (new - normal)["current"].iloc[10:30].to_numpy()
    assert (np.diff(diff) > 0).all() and diff[-1] == pytest.approx(DEFAULT_MAGNITUDES["drift"] * std)
    new, _ = inject(normal, "spike", start=10, duration=1, sensor="current", magnitude=-3)
    assert (new - normal)["current"].iloc[10] == pytest.approx(-3 * std)
    new, _ = inject(normal, "variance_burst", start=10, duration=200, sensor="current")
    expected = DEFAULT_MAGNITUDES["variance_burst"] * std
    assert (new - normal)["current"].iloc[10:210].std() == pytest.approx(expected, rel=0.2)


def test_inject_correlation_break(normal):
    pos, dur = 6 * 60, 240  # Monday 06:00-10:00, the load ramps up: strong coupling
    new, _ = inject(normal, "correlation_break", start=pos, duration=dur, sensor="pressure", seed=1)
    seg = slice(pos, pos + dur)
    old_corr = normal["current"].iloc[seg].corr(normal["pressure"].iloc[seg])
    new_corr = new["current"].iloc[seg].corr(new["pressure"].iloc[seg])
    assert old_corr > 0.8 and abs(new_corr) < 0.3
    assert new["pressure"].iloc[seg].mean() == pytest.approx(normal["pressure"].iloc[seg].mean())
    assert new["pressure"].iloc[seg].std() == pytest.approx(normal["pressure"].iloc[seg].std())
    rolling_old = normal["current"].rolling(60).corr(normal["pressure"]).iloc[pos + 60:pos + dur]
    rolling_new = new["current"].rolling(60).corr(new["pressure"]).iloc[pos + 60:pos + dur]
    assert rolling_new.mean() < rolling_old.mean() - 0.4


def test_inject_start_as_timestamp_and_anomaly_column(normal):
    new, event = inject(normal, "level_shift", start=pd.Timestamp("2024-01-02 00:00"), duration=5, sensor="current")
    assert event["start"] == pd.Timestamp("2024-01-02") and event["end"] == pd.Timestamp("2024-01-02 00:04")
    labelled = generate(3, anomalies=0).data
    new, event = inject(labelled, "stuck", start="2024-01-02 10:00", duration=30, sensor="pressure")
    assert new["anomaly"].sum() == 30 and new.loc[event["start"]:event["end"], "anomaly"].eq(1).all()
    assert labelled["anomaly"].sum() == 0


# ----------------------------------------------------------------------------- generate
def test_generate_default(normal):
    out = generate(seed=0)
    assert isinstance(out, SyntheticData)
    data, events = out
    assert tuple(data.columns) == SENSORS + ("anomaly",) and data["anomaly"].dtype == np.int64
    assert list(events.columns) == ["start", "end", "type", "sensor", "magnitude"]
    assert sorted(events["type"]) == sorted(ANOMALY_TYPES)
    assert events["start"].is_monotonic_increasing
    # labels match the events exactly; events never overlap or touch
    label = np.zeros(len(data), int)
    for ev in events.itertuples():
        assert (label[data.index.get_indexer([ev.start])[0]:data.index.get_indexer([ev.end])[0] + 1] == 0).all()
        label[(data.index >= ev.start) & (data.index <= ev.end)] = 1
    np.testing.assert_array_equal(data["anomaly"].to_numpy(), label)
    assert (events["start"].iloc[1:].to_numpy() > events["end"].iloc[:-1].to_numpy() + pd.Timedelta("1min")).all()
    # outside the events the sensors are exactly the normal data
    normal_rows = data["anomaly"] == 0
    pd.testing.assert_frame_equal(data.loc[normal_rows, list(SENSORS)], normal[normal_rows])


def test_generate_clean_prefix_and_durations():
    for seed in range(5):
        data, events = generate(7, clean_fraction=0.6, seed=seed)
        n_clean = int(np.ceil(0.6 * len(data)))
        assert data["anomaly"].iloc[:n_clean].sum() == 0
        assert data[list(SENSORS)].iloc[:n_clean].notna().all().all()
        assert (events["start"] >= data.index[n_clean]).all()
        lengths = (events["end"] - events["start"]) / pd.Timedelta("1min") + 1
        spikes = events["type"] == "spike"
        assert lengths[spikes].between(1, 3).all() and lengths[~spikes].between(10, 400).all()


def test_generate_anomalies_argument():
    assert generate(anomalies=10).events["type"].value_counts().to_dict() == {
        **{t: 1 for t in ANOMALY_TYPES}, "spike": 2, "level_shift": 2}
    assert list(generate(anomalies=["drift", "drift"]).events["type"]) == ["drift", "drift"]
    data, events = generate(anomalies=0)
    assert events.empty and data["anomaly"].sum() == 0 and list(events.columns)[:2] == ["start", "end"]


def test_generate_determinism():
    a, b, c = generate(seed=4), generate(seed=4), generate(seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not a.events["start"].equals(c.events["start"])
    assert not np.allclose(a.data[list(SENSORS)].fillna(0), c.data[list(SENSORS)].fillna(0))


def test_generate_short_and_coarse_series():
    data, events = generate(1, freq="5min", anomalies=3)
    assert len(data) == 288 and len(events) == 3


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("n_days", [0, -1, float("nan"), "7"])
def test_bad_n_days(n_days):
    with pytest.raises(ValueError, match="n_days"):
        make_normal(n_days)


@pytest.mark.parametrize("freq", ["xx", "M", "1ME", "0min", None])
def test_bad_freq(freq):
    with pytest.raises(ValueError, match="freq"):
        generate(freq=freq)


def test_unknown_anomaly_type_lists_valid(normal):
    with pytest.raises(ValueError, match=r"anomalies\[1\] must be one of 'spike', 'level_shift'.*; got 'explosion'"):
        generate(anomalies=["spike", "explosion"])
    with pytest.raises(ValueError, match="kind must be one of 'spike', .*'correlation_break'; got 'wobble'"):
        inject(normal, "wobble", start=0, duration=1, sensor="current")


def test_too_short_for_events():
    with pytest.raises(ValueError, match="too short for 8 events"):
        generate(0.1)
    with pytest.raises(ValueError, match="too short"):
        generate(7, anomalies=200)


def test_bad_generate_arguments():
    with pytest.raises(ValueError, match="clean_fraction"):
        generate(clean_fraction=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        generate(anomalies=-1)
    with pytest.raises(ValueError, match="start"):
        make_normal(start="not a date")


def test_inject_errors(normal):
    with pytest.raises(ValueError, match=r"sensor 'flow' is not a column.*'temperature'"):
        inject(normal, "spike", start=0, duration=1, sensor="flow")
    with pytest.raises(TypeError, match="DataFrame"):
        inject(normal.to_numpy(), "spike", start=0, duration=1, sensor="current")
    with pytest.raises(ValueError, match="runs past the end"):
        inject(normal, "drift", start=len(normal) - 5, duration=10, sensor="current")
    with pytest.raises(ValueError, match="outside the data"):
        inject(normal, "drift", start=len(normal), duration=1, sensor="current")
    with pytest.raises(ValueError, match="outside the data"):
        inject(normal, "drift", start="2030-01-01", duration=1, sensor="current")
    with pytest.raises(ValueError, match="duration"):
        inject(normal, "drift", start=0, duration=0, sensor="current")
    with pytest.raises(ValueError, match="magnitude"):
        inject(normal, "drift", start=0, duration=5, sensor="current", magnitude=float("inf"))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        inject(normal, "correlation_break", start=0, duration=5, sensor="pressure", magnitude=2)
    with pytest.raises(ValueError, match="not sorted"):
        inject(normal.iloc[::-1], "spike", start=0, duration=1, sensor="current")


# ----------------------------------------------------------------------------- operating regimes
def test_operating_regime_labels():
    idx = pd.DatetimeIndex(["2024-01-01 07:00", "2024-01-01 15:00", "2024-01-01 23:00", "2024-01-06 10:00"])
    assert list(signals.operating_regime(idx)) == list(signals.REGIMES)
    with pytest.raises(TypeError, match="DatetimeIndex"):
        signals.operating_regime(pd.RangeIndex(3))


def test_course_split_holds_the_same_regimes_in_every_part():
    """The course's synthetic set-up: 21 days, anomalies only in week 3, a split into whole weeks.
    The old one (14 days, train 0.4 / val 0.1) put the whole validation part on a weekend."""
    from sadlib.windows import chronological_split

    data, events = signals.generate(21, anomalies=16, seed=3, clean_fraction=2 / 3)
    table = signals.regime_table(chronological_split(data, train=1 / 3, val=1 / 3))
    shares = table[[f"{r} %" for r in signals.REGIMES]]
    assert np.allclose(shares.to_numpy(), shares.iloc[0].to_numpy())
    assert table["days"].tolist() == [7.0, 7.0, 7.0]
    assert events["start"].min() >= data.index[2 * 7 * 1440]
    old, _ = signals.generate(14, anomalies=16, seed=3)
    old_table = signals.regime_table(chronological_split(old, train=0.4, val=0.1))
    assert old_table.loc["val", "weekend %"] == 100.0
    assert old_table.loc["val", "mean current"] < old_table.loc["train", "mean current"] - 4


def test_regime_table_bad_input():
    with pytest.raises(TypeError, match="dict"):
        signals.regime_table([1, 2])
    with pytest.raises(ValueError, match="'current' column"):
        signals.regime_table({"a": pd.DataFrame({"x": [1.0]}, index=pd.date_range("2024", periods=1))})
