"""The MetroPT-3 compressor twin: layout, determinism, physics, failures and bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from sadlib.cycles import cycle_table
from sadlib.signals import (
    COMPRESSOR_EVENT_COLUMNS,
    METROPT3_ANALOG,
    METROPT3_CHANNELS,
    METROPT3_DIGITAL,
    CompressorData,
    make_compressor,
)
from sadlib.validation import InvalidParameterError


@pytest.fixture(scope="module")
def twin() -> CompressorData:
    return make_compressor(14, seed=3)


@pytest.fixture(scope="module")
def normal() -> pd.DataFrame:
    return make_compressor(3, seed=1, failures=None).data


# ----------------------------------------------------------------------------- layout
def test_columns_dtypes_and_index(twin):
    data, events = twin
    assert isinstance(twin, CompressorData)
    assert list(data.columns) == [*METROPT3_CHANNELS, "anomaly"]
    assert len(METROPT3_CHANNELS) == 15 and "DV_eletric" in METROPT3_CHANNELS
    assert len(data) == 14 * 8640
    assert isinstance(data.index, pd.DatetimeIndex) and data.index.name == "timestamp"
    assert (np.diff(data.index.asi8) == np.diff(data.index.asi8)[0]).all()
    assert data.index[1] - data.index[0] == pd.Timedelta("10s")
    assert data.index[0] == pd.Timestamp("2022-03-01")
    for c in METROPT3_ANALOG:
        assert data[c].dtype == np.float64 and np.isfinite(data[c]).all(), c
    for c in [*METROPT3_DIGITAL, "anomaly"]:
        assert data[c].dtype == np.int64 and set(np.unique(data[c])) <= {0, 1}, c
    assert list(events.columns) == list(COMPRESSOR_EVENT_COLUMNS)
    assert events["magnitude"].dtype == np.float64


def test_other_freq_and_start():
    data, _ = make_compressor(1, seed=0, failures=None, freq="30s", start="2020-02-01 06:00")
    assert len(data) == 2880 and data.index[0] == pd.Timestamp("2020-02-01 06:00")
    assert data.index[1] - data.index[0] == pd.Timedelta("30s")


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_output_other_seed_differs():
    a = make_compressor(14, seed=5)
    b = make_compressor(14, seed=5)
    c = make_compressor(14, seed=6)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not a.data["TP3"].equals(c.data["TP3"])
    assert not a.events["start"].equals(c.events["start"])


# ----------------------------------------------------------------------------- physics
def test_comp_and_valves_follow_the_load_state(normal):
    loaded = normal["COMP"] == 0
    assert (normal["DV_eletric"] == loaded.astype(int)).all()
    assert (normal["MPG"] == normal["COMP"]).all()
    # COMP = 0 (loaded) <=> high motor current; offloaded run-on ~4 A and off ~0 A stay below
    assert (normal.loc[loaded, "Motor_current"] > 5.0).all()
    assert (normal.loc[~loaded, "Motor_current"] < 4.6).all()
    off = normal.loc[~loaded, "Motor_current"]
    assert (off < 0.5).mean() > 0.3 and ((off > 3.5) & (off < 4.5)).mean() > 0.05  # off and run-on both happen
    # the compressor outlet reads near zero unless loaded; H1 is its complement
    assert normal.loc[~loaded, "TP2"].median() < 0.2 and normal.loc[loaded, "TP2"].median() > 8.0
    assert normal.loc[~loaded, "H1"].median() > 7.0 and normal.loc[loaded, "H1"].median() < 0.5


@pytest.mark.parametrize("low, high", [(8.2, 10.2), (7.6, 9.4)])
def test_pressure_stays_between_the_set_points(low, high):
    data = make_compressor(2, seed=2, failures=None, low=low, high=high).data
    margin = 0.1
    for col in ("TP3", "Reservoirs"):
        assert data[col].min() > low - margin and data[col].max() < high + margin, col
        assert data[col].min() < low + 0.2 and data[col].max() > high - 0.2, col  # it does reach both
    assert (data["LPS"] == 0).all()


def test_cycles_per_hour_in_a_plausible_range(normal):
    table = cycle_table(normal)
    hour = table["start"].dt.hour
    service = table[(hour >= 7) & (hour < 22)]
    per_hour = len(service) / (3 * 15)
    assert 2.0 <= per_hour <= 10.0  # minutes-long cycles, several per hour
    assert 3 * 60 <= service["duration_s"].median() <= 20 * 60
    depot = table[(hour >= 2) & (hour < 5)]
    assert depot["idle_s"].median() > 2 * service["idle_s"].median()  # little air used at night
    assert 0.1 < service["duty"].median() < 0.5


def test_oil_temperature_heats_while_loaded(normal):
    oil = normal["Oil_temperature"]
    assert 15 < oil.min() and oil.max() < 95
    change = oil.diff().shift(-1)
    loaded = normal["COMP"] == 0
    assert change[loaded].mean() > 0 > change[~loaded].mean()


def test_parameters_move_the_machine():
    base = cycle_table(make_compressor(2, seed=4, failures=None).data)
    busy = cycle_table(make_compressor(2, seed=4, failures=None, consumption=1.6).data)
    assert len(busy) > 1.2 * len(base)
    hot = make_compressor(2, seed=4, failures=None, temperature_offset=8.0).data["Oil_temperature"]
    cold = make_compressor(2, seed=4, failures=None).data["Oil_temperature"]
    assert hot.mean() > cold.mean() + 2.0
    quiet = make_compressor(1, seed=4, failures=None, noise=0.0).data
    loud = make_compressor(1, seed=4, failures=None, noise=3.0).data
    assert (loud["TP3"] - quiet["TP3"]).abs().mean() > 0.01


# ----------------------------------------------------------------------------- failures
def test_default_schedule(twin):
    data, events = twin
    kinds = events["type"].value_counts()
    assert kinds["air_leak"] >= 2 and kinds["oil_leak"] == 1 and kinds["sensor_fault"] >= 2
    assert (events["start"] >= data.index[0] + pd.Timedelta(days=7)).all()  # a clean training week
    assert (events["precursor_start"] >= data.index[0] + pd.Timedelta(days=7)).all()
    assert events["start"].is_monotonic_increasing
    assert (events["end"] >= events["start"]).all() and (events["precursor_start"] <= events["start"]).all()
    leaks = events[events["type"] == "air_leak"]
    lead = leaks["start"] - leaks["precursor_start"]
    assert ((lead >= pd.Timedelta(days=1)) & (lead <= pd.Timedelta(days=3))).all()
    faults = events[events["type"] == "sensor_fault"]
    assert faults["sensor"].isin(METROPT3_ANALOG).all() and (faults["precursor_start"] == faults["start"]).all()
    assert data["anomaly"].mean() < 0.15  # failures are a small share of the time
    # no precursor runs into another failure interval
    for r in events.itertuples():
        others = events[events.index != r.Index]
        assert not ((others["start"] <= r.end) & (others["end"] >= r.precursor_start)).any()


@pytest.mark.parametrize("seed", [0, 11])
def test_anomaly_column_matches_the_events(seed):
    data, events = make_compressor(15, seed=seed)
    expected = np.zeros(len(data), dtype=np.int64)
    for r in events.itertuples():
        expected[(data.index >= r.start) & (data.index <= r.end)] = 1
        assert data.loc[r.start, "anomaly"] == 1 and data.loc[r.end, "anomaly"] == 1
    np.testing.assert_array_equal(data["anomaly"].to_numpy(), expected)


def test_no_failures_gives_an_empty_table():
    data, events = make_compressor(2, seed=0, failures=None)
    assert events.empty and list(events.columns) == list(COMPRESSOR_EVENT_COLUMNS)
    assert (data["anomaly"] == 0).all()


def test_air_leak_shortens_idle_and_raises_duty():
    spec = [{"type": "air_leak", "start": 3.0, "duration": "10h", "precursor": "30h", "magnitude": 0.1}]
    leak = make_compressor(4, seed=8, failures=spec)
    base = make_compressor(4, seed=8, failures=None).data
    ev = leak.events.iloc[0]
    assert ev["precursor_start"] == leak.data.index[0] + pd.Timedelta(hours=42)
    assert ev["sensor"] == "TP3"
    a, b = cycle_table(leak.data), cycle_table(base)
    during = lambda t: t[(t["start"] >= ev["start"]) & (t["end"] <= ev["end"])]  # noqa: E731
    assert during(a)["idle_s"].median() < 0.8 * during(b)["idle_s"].median()
    assert during(a)["idle_decay_bar_per_min"].median() > during(b)["idle_decay_bar_per_min"].median() + 0.08
    assert len(during(a)) > len(during(b))
    window = slice(ev["start"], ev["end"])
    assert (leak.data.loc[window, "COMP"] == 0).mean() > (base.loc[window, "COMP"] == 0).mean() + 0.05
    # before the precursor nothing differs
    early = leak.data.index < ev["precursor_start"]
    pd.testing.assert_frame_equal(leak.data[early].drop(columns="anomaly"), base[early].drop(columns="anomaly"))
    # in the precursor the leak is already there, but smaller
    pre = cycle_table(leak.data[(leak.data.index >= ev["precursor_start"]) & (leak.data.index < ev["start"])])
    pre_base = cycle_table(base[(base.index >= ev["precursor_start"]) & (base.index < ev["start"])])
    assert pre["idle_decay_bar_per_min"].median() > pre_base["idle_decay_bar_per_min"].median()


def test_oil_leak_heats_the_oil_and_drops_the_level():
    spec = [{"type": "oil_leak", "start": 2.0, "duration": "6h", "precursor": "12h", "magnitude": 8.0}]
    leak = make_compressor(3, seed=9, failures=spec)
    base = make_compressor(3, seed=9, failures=None).data
    ev = leak.events.iloc[0]
    window = slice(ev["start"], ev["end"])
    assert (leak.data.loc[window, "Oil_level"] == 0).mean() > 0.7
    assert (base["Oil_level"] == 1).all()
    assert leak.data.loc[window, "Oil_temperature"].mean() > base.loc[window, "Oil_temperature"].mean() + 3.0
    assert ev["sensor"] == "Oil_level"


@pytest.mark.parametrize("mode", ["stuck", "drift", "noise"])
def test_sensor_fault_changes_only_its_channel(mode):
    spec = [{"type": "sensor_fault", "start": 1.0, "duration": "3h", "sensor": "TP2", "mode": mode}]
    fault = make_compressor(2, seed=10, failures=spec)
    base = make_compressor(2, seed=10, failures=None).data
    ev = fault.events.iloc[0]
    assert ev["sensor"] == "TP2" and ev["mode"] == mode and ev["precursor_start"] == ev["start"]
    assert np.isnan(ev["magnitude"]) == (mode == "stuck")
    others = [c for c in METROPT3_CHANNELS if c != "TP2"]
    pd.testing.assert_frame_equal(fault.data[others], base[others])  # no real machine change
    inside = (fault.data.index >= ev["start"]) & (fault.data.index <= ev["end"])
    assert (fault.data.loc[~inside, "TP2"] == base.loc[~inside, "TP2"]).all()
    assert (fault.data.loc[inside, "TP2"] != base.loc[inside, "TP2"]).mean() > 0.5
    if mode == "stuck":
        assert fault.data.loc[inside, "TP2"].nunique() == 1


def test_failures_placed_by_timestamp_and_random_sensor():
    spec = [{"type": "sensor_fault", "start": "2022-03-02 12:00"}]
    data, events = make_compressor(3, seed=0, failures=spec)
    assert events["start"][0] == pd.Timestamp("2022-03-02 12:00")
    assert events["end"][0] == pd.Timestamp("2022-03-02 15:59:50")  # default 4 h, inclusive end
    assert events["sensor"][0] in METROPT3_ANALOG and events["mode"][0] in ("stuck", "drift", "noise")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"days": 0}, "days"),
    ({"days": "7"}, "days"),
    ({"freq": "2min"}, "freq"),
    ({"freq": "abc"}, "freq"),
    ({"low": 9.0, "high": 9.2}, "high"),
    ({"low": 5.0}, "low"),
    ({"consumption": 0}, "consumption"),
    ({"noise": -1}, "noise"),
    ({"capacity": 0.3}, "capacity"),
    ({"start": "not a date"}, "start"),
    ({"days": 10}, "days >= 14"),
    ({"failures": "all"}, "failures"),
    ({"failures": 3}, "failures"),
    ({"failures": [{"type": "air_leak"}]}, "start"),
    ({"failures": [{"type": "fire", "start": 1}]}, "type"),
    ({"failures": [{"type": "air_leak", "start": 1, "when": 2}]}, "unknown"),
    ({"failures": [{"type": "air_leak", "start": 0.5}]}, "does not fit"),
    ({"failures": [{"type": "air_leak", "start": 13.9}]}, "does not fit"),
    ({"failures": [{"type": "air_leak", "start": 3, "sensor": "H1"}]}, "sensor faults only"),
    ({"failures": [{"type": "sensor_fault", "start": 3, "sensor": "COMP"}]}, "sensor"),
    ({"failures": [{"type": "sensor_fault", "start": 3, "mode": "melted"}]}, "mode"),
    ({"failures": [{"type": "sensor_fault", "start": 3, "precursor": "2h"}]}, "no precursor"),
    ({"failures": [{"type": "oil_leak", "start": 3, "magnitude": -1}]}, "magnitude"),
    ({"failures": [{"type": "oil_leak", "start": 3, "duration": "soon"}]}, "duration"),
    ({"failures": [{"type": "sensor_fault", "start": 3.0}, {"type": "sensor_fault", "start": 3.1}]}, "overlap"),
])
def test_bad_input_is_named(kwargs, match):
    params = {"days": 14, "seed": 0, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        make_compressor(**params)


# Hashes of make_compressor's output computed with the code as it was before it was split into steps
# (sadlib/signals.py at commit 17ea71e, this branch's base, with the 224-line make_compressor):
# the split must not change a bit.
_BEFORE_THE_SPLIT = [
    (dict(days=14, seed=0), "0f62abe12e76d87f"),
    (dict(days=14, seed=3), "9a043fa842d3b9d0"),
    (dict(days=2, seed=1, failures=None, freq="30s"), "b852025414d58cda"),
    (dict(days=3, seed=5, noise=0.5, failures=[{"type": "air_leak", "start": 1.5, "duration": "4h"},
                                               {"type": "sensor_fault", "start": 2.2, "sensor": "TP3",
                                                "mode": "drift"},
                                               {"type": "oil_leak", "start": 1.2}]), "b699c6e8608fc892"),
    (dict(days=2, seed=9, freq="7s", low=7.5, high=9.9, consumption=1.3, leak=0.02, capacity=1.5,
          temperature_offset=-4.0, failures=[{"type": "sensor_fault", "start": 0.5, "mode": "noise"},
                                             {"type": "sensor_fault", "start": 1.2, "mode": "stuck"}]),
     "ba6b90415fbdbea7"),
]


def _digest(out: CompressorData) -> str:
    """SHA-256 of the index, every column's name, dtype and raw bytes, and the events table as CSV."""
    h = hashlib.sha256()
    h.update(out.data.index.asi8.tobytes())
    for name, col in out.data.items():
        h.update(f"{name}:{col.dtype}".encode())
        h.update(np.ascontiguousarray(col.to_numpy()).tobytes())
    h.update(out.events.to_csv().encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("kwargs, digest", _BEFORE_THE_SPLIT)
def test_output_bit_for_bit_as_before_the_split_into_steps(kwargs, digest):
    assert _digest(make_compressor(**kwargs)) == digest
