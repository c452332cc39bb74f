"""Property-based tests (Hypothesis) of sadlib.cycles (issue 25).

Generated saw-tooth compressors of known load and idle lengths must give back those lengths;
cycle features must be causal (cutting the data at any time t leaves every feature up to t
unchanged); a NaN or an infinity anywhere in a column the cycles are read from must be refused
with an error naming that column and row. Examples come from the derandomized ``sadlib`` profile
of ``tests/conftest.py``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sadlib.cycles import FEATURE_COLUMNS, cycle_features, cycle_table, loaded_state
from sadlib.signals import make_compressor

STEP_S = 10


@st.composite
def saw_tooths(draw):
    """A compressor signal of 2-6 complete cycles with drawn load/idle lengths (samples) and idle decay (bar/sample)."""
    cycles = draw(st.lists(st.tuples(st.integers(1, 6), st.integers(2, 12)), min_size=2, max_size=6))
    decay = draw(st.floats(0.01, 0.3))
    start_idle = draw(st.integers(1, 4))
    comp, tp3, oil, cur = [1] * start_idle, [8.5] * start_idle, [50.0] * start_idle, [0.0] * start_idle
    for k, (load, idle) in enumerate(cycles):
        comp += [0] * load + [1] * idle
        tp3 += list(np.linspace(8.2, 10.2, load + 1)[1:]) + [10.2 - decay * (i + 1) for i in range(idle)]
        oil += [60.0 + k] * load + [55.0] * idle
        cur += [6.0 + k] * load + [4.0] * idle
    comp, tp3, oil, cur = comp + [0], tp3 + [8.4], oil + [50.0], cur + [6.0]  # the next load starts: last cycle ends
    start = pd.Timestamp("2020-01-01") + pd.Timedelta(seconds=draw(st.integers(0, 10**8)))
    index = pd.date_range(start, periods=len(comp), freq=f"{STEP_S}s", name="timestamp")
    data = pd.DataFrame({"COMP": comp, "TP3": tp3, "Oil_temperature": oil, "Motor_current": cur}, index=index)
    return data, cycles, decay


@given(saw_tooths())
def test_cycle_table_gives_back_the_drawn_cycles(case):
    data, cycles, decay = case
    table = cycle_table(data)
    assert len(table) == len(cycles)
    loads, idles = np.array(cycles).T
    np.testing.assert_allclose(table["load_s"], loads * STEP_S)
    np.testing.assert_allclose(table["idle_s"], idles * STEP_S)
    np.testing.assert_allclose(table["duration_s"], table["load_s"] + table["idle_s"])
    np.testing.assert_allclose(table["duty"], loads / (loads + idles))
    np.testing.assert_allclose(table["idle_decay_bar_per_min"], decay * 60 / STEP_S, rtol=1e-9)
    np.testing.assert_allclose(table["loaded_current"], 6.0 + np.arange(len(cycles)))
    assert (table["end"] > table["start"]).all()
    assert (table["start"].iloc[1:].values == table["end"].iloc[:-1].values).all()


@given(saw_tooths(), st.sampled_from(["COMP", "TP3", "Oil_temperature", "Motor_current"]), st.data(),
       st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_non_finite_value_anywhere_is_refused_by_column_and_row(case, column, data, value):
    frame = case[0].astype({"COMP": float})
    row = data.draw(st.integers(0, len(frame) - 1))
    frame.iloc[row, frame.columns.get_loc(column)] = value
    match = rf"data\['{column}'\] has 1 missing or infinite value\(s\), first at row {row} \("
    with pytest.raises(ValueError, match=match):
        cycle_table(frame)


@given(saw_tooths(), st.data(), st.sampled_from([np.nan, np.inf]))
def test_tp2_fallback_refuses_non_finite_pressure(case, data, value):
    frame = case[0]
    frame = frame.assign(TP2=np.where(frame["COMP"] == 0, 9.5, 0.0)).drop(columns="COMP")
    np.testing.assert_array_equal(loaded_state(frame), case[0]["COMP"].to_numpy() == 0)
    row = data.draw(st.integers(0, len(frame) - 1))
    frame.iloc[row, frame.columns.get_loc("TP2")] = value
    with pytest.raises(ValueError, match=rf"data\['TP2'\].*first at row {row} "):
        loaded_state(frame)


@functools.lru_cache(maxsize=1)
def _twin() -> tuple[pd.DataFrame, pd.DataFrame]:
    spec = [{"type": "air_leak", "start": 1.2, "duration": "6h", "precursor": "12h", "magnitude": 0.1}]
    data = make_compressor(2, seed=4, failures=spec).data
    return data, cycle_features(data)


@settings(max_examples=25)
@given(st.integers(0, 2 * 24 * 3600 - 1), st.sampled_from(["10min", "1h"]))
def test_cycle_features_are_causal(cut_s, every):
    """Features at grid time g <= t do not change when the data after t is removed."""
    data, _ = _twin()
    full = cycle_features(data, every=every)
    cut = data.index[0] + pd.Timedelta(seconds=cut_s)
    part_data = data[data.index <= cut]
    try:
        part = cycle_features(part_data, every=every)
    except ValueError as err:  # too early: no complete cycle, or less than one grid step of data
        assert any(why in str(err) for why in ("no complete", "spans less than every", "no grid time", "rows"))
        return
    assert list(part.columns) == list(FEATURE_COLUMNS)
    assert part.index.max() <= cut
    pd.testing.assert_frame_equal(part, full.loc[part.index])
