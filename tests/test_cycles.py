"""Load/idle cycles and engineered compressor features (sadlib.cycles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sadlib.cycles import CYCLE_COLUMNS, FEATURE_COLUMNS, cycle_features, cycle_table, loaded_state
from sadlib.signals import make_compressor
from sadlib.validation import InvalidParameterError


def hand_made(n_cycles: int = 3, load: int = 3, idle: int = 9, start_idle: int = 2) -> pd.DataFrame:
    """A clean saw-tooth: ``load`` samples rising 8.2 -> 10.2 bar, ``idle`` falling 0.1 bar per sample (10 s)."""
    comp, tp3 = [1] * start_idle, list(np.linspace(8.6, 8.4, start_idle))
    oil, cur = [50.0] * start_idle, [0.0] * start_idle
    for k in range(n_cycles):
        comp += [0] * load + [1] * idle
        tp3 += list(np.linspace(8.2, 10.2, load + 1)[1:]) + [10.2 - 0.1 * (i + 1) for i in range(idle)]
        oil += [60.0 + k + i for i in range(load)] + [55.0] * idle
        cur += [6.0 + k] * load + [4.0] * idle
    comp.append(0)
    tp3.append(8.5)
    oil.append(50.0)
    cur.append(6.0)
    index = pd.date_range("2022-01-01", periods=len(comp), freq="10s", name="timestamp")
    return pd.DataFrame({"COMP": comp, "TP3": tp3, "Oil_temperature": oil, "Motor_current": cur}, index=index)


# ----------------------------------------------------------------------------- cycle_table
def test_cycle_table_on_a_hand_made_signal():
    data = hand_made(n_cycles=3, load=3, idle=9)
    table = cycle_table(data)
    assert list(table.columns) == list(CYCLE_COLUMNS)
    assert len(table) == 3  # three complete cycles: the leading idle part and the trailing load start are partial
    np.testing.assert_allclose(table["load_s"], 30.0)
    np.testing.assert_allclose(table["idle_s"], 90.0)
    np.testing.assert_allclose(table["duration_s"], 120.0)
    np.testing.assert_allclose(table["duty"], 0.25)
    # idle from 10.1 bar to 9.3 bar over 80 s (first to last idle sample)
    np.testing.assert_allclose(table["idle_decay_bar_per_min"], 0.8 / (80 / 60))
    np.testing.assert_allclose(table["peak_oil_temp"], [62.0, 63.0, 64.0])
    np.testing.assert_allclose(table["loaded_current"], [6.0, 7.0, 8.0])
    assert table["start"][0] == data.index[2] and table["end"][0] == data.index[14]
    assert (table["start"].iloc[1:].to_numpy() == table["end"].iloc[:-1].to_numpy()).all()


def test_cycle_table_starts_loaded_and_falls_back_to_tp2():
    data = hand_made(n_cycles=3, start_idle=0)  # begins inside a load phase: that cycle is partial
    assert len(cycle_table(data)) == 2
    tp2 = hand_made(n_cycles=3)
    tp2["TP2"] = np.where(tp2["COMP"] == 0, 9.5, 0.0)
    without_comp = cycle_table(tp2.drop(columns="COMP"))
    pd.testing.assert_frame_equal(without_comp, cycle_table(tp2))
    np.testing.assert_array_equal(loaded_state(tp2.drop(columns="COMP")), tp2["COMP"].to_numpy() == 0)


def test_cycle_table_drops_cycles_across_a_gap():
    data = hand_made(n_cycles=4)
    shifted = data.index.to_series()
    shifted.iloc[20:] += pd.Timedelta("1h")  # a gap inside the second cycle
    gapped = data.set_axis(pd.DatetimeIndex(shifted, name="timestamp"))
    assert len(cycle_table(data)) == 4
    assert len(cycle_table(gapped)) == 3
    assert len(cycle_table(gapped, max_gap="2h")) == 4


def test_cycle_table_without_optional_columns_and_without_cycles():
    data = hand_made()[["COMP", "TP3"]]
    table = cycle_table(data)
    assert table["peak_oil_temp"].isna().all() and table["loaded_current"].isna().all()
    flat = hand_made().assign(COMP=1)
    empty = cycle_table(flat)
    assert empty.empty and list(empty.columns) == list(CYCLE_COLUMNS)


def test_cycle_table_matches_the_twin_set_points():
    data = make_compressor(1, seed=0, failures=None).data
    table = cycle_table(data)
    assert len(table) > 40
    assert (table["duty"] > 0).all() and (table["duty"] < 1).all()
    # the idle phase goes from the high to the low set point: decay * idle time ~ 2 bar
    drop = table["idle_decay_bar_per_min"] * (table["idle_s"] - 10) / 60
    assert drop.median() == pytest.approx(2.0, abs=0.15)
    assert (table["loaded_current"].between(5.0, 7.5)).all()


def test_cycle_table_reads_the_real_metropt3_layout():
    """All 15 columns as in the UCI CSV, irregular timestamps (the real file is not strictly regular)."""
    data = make_compressor(1, seed=3, failures=None).data.drop(columns="anomaly")
    jitter = pd.to_timedelta(np.random.default_rng(0).integers(-2, 3, len(data)), unit="s")
    real = data.set_axis(pd.DatetimeIndex(data.index + jitter, name="timestamp"))
    assert real.index.is_monotonic_increasing
    table = cycle_table(real)
    assert len(table) == len(cycle_table(data))


@pytest.mark.parametrize("data, error, match", [
    ([1, 2, 3], TypeError, "DataFrame"),
    (pd.DataFrame({"COMP": [1, 0, 1], "TP3": [9.0, 9.0, 9.0]}), InvalidParameterError, "DatetimeIndex"),
    (pd.DataFrame({"TP3": [9.0] * 5}, index=pd.date_range("2022", periods=5, freq="10s")), InvalidParameterError,
     "COMP"),
    (pd.DataFrame({"COMP": [1, 2, 0, 1, 1], "TP3": [9.0] * 5}, index=pd.date_range("2022", periods=5, freq="10s")),
     ValueError, "0/1"),
    (pd.DataFrame({"COMP": [1, 0, 1, 1], "TP3": [9.0] * 4},
                  index=pd.DatetimeIndex(["2022-01-01 00:00:10", "2022-01-01", "2022-01-01 00:00:20",
                                          "2022-01-01 00:00:30"])), ValueError, "sorted"),
])
def test_cycle_table_bad_input(data, error, match):
    with pytest.raises(error, match=match):
        cycle_table(data)


def test_cycle_table_bad_parameters():
    data = hand_made()
    with pytest.raises(InvalidParameterError, match="pressure"):
        cycle_table(data, pressure="TP9")
    with pytest.raises(InvalidParameterError, match="max_gap"):
        cycle_table(data, max_gap="soon")


# ----------------------------------------------------------------------------- cycle_features
@pytest.fixture(scope="module")
def leak_twin():
    spec = [{"type": "air_leak", "start": 4.0, "duration": "10h", "precursor": "36h", "magnitude": 0.1}]
    return make_compressor(5, seed=2, failures=spec)


def test_cycle_features_grid_and_columns(leak_twin):
    feats = cycle_features(leak_twin.data)
    assert list(feats.columns) == list(FEATURE_COLUMNS)
    assert (feats.index[1:] - feats.index[:-1] == pd.Timedelta("10min")).all()
    assert feats.index[0] >= leak_twin.data.index[0] and feats.index[-1] <= leak_twin.data.index[-1]
    assert np.isfinite(feats.to_numpy()).all()
    hourly = cycle_features(leak_twin.data, every="1h")
    assert (hourly.index[1:] - hourly.index[:-1] == pd.Timedelta("1h")).all()


def test_cycle_features_are_causal(leak_twin):
    """Features at time t do not change when the data after t is removed."""
    full = cycle_features(leak_twin.data)
    cut = leak_twin.data.index[0] + pd.Timedelta(days=2, hours=7, minutes=3)
    part = cycle_features(leak_twin.data[leak_twin.data.index <= cut])
    common = part.index[part.index <= cut]
    assert len(common) > 200
    pd.testing.assert_frame_equal(part.loc[common], full.loc[common])


def test_leak_raises_the_decay_floor_and_the_duty(leak_twin):
    ev = leak_twin.events.iloc[0]
    feats = cycle_features(leak_twin.data)
    base = cycle_features(make_compressor(5, seed=2, failures=None).data)
    window = slice(ev["start"], ev["end"])
    assert feats.loc[window, "idle_decay_floor"].mean() > base.loc[window, "idle_decay_floor"].mean() + 0.05
    assert feats.loc[window, "duty"].mean() > base.loc[window, "duty"].mean() + 0.05
    assert feats.loc[window, "cycles_per_hour"].mean() > base.loc[window, "cycles_per_hour"].mean()
    before = feats.index < ev["precursor_start"]
    pd.testing.assert_frame_equal(feats[before], base[before])


def test_cycle_features_bad_input():
    data = hand_made()
    with pytest.raises(InvalidParameterError, match="every"):
        cycle_features(data, every="often")
    with pytest.raises(InvalidParameterError, match="window"):
        cycle_features(data, every="1h", window="10min")
    with pytest.raises(InvalidParameterError, match="floor_quantile"):
        cycle_features(data, floor_quantile=0)
    with pytest.raises(ValueError, match="no complete"):
        cycle_features(hand_made().assign(COMP=1))
    with pytest.raises(TypeError, match="DataFrame"):
        cycle_features(np.zeros((10, 3)))
