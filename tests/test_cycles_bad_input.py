"""Issue 25: sadlib.cycles refuses NaN, inf and non-numeric sensor columns instead of dropping or misreading cycles."""

from __future__ import annotations

import numpy as np
import pytest
from test_cycles import hand_made

from sadlib.cycles import cycle_features, cycle_table, loaded_state
from sadlib.signals import make_compressor
from sadlib.validation import InvalidParameterError


@pytest.mark.parametrize("column", ["TP3", "Oil_temperature", "Motor_current", "COMP"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_cycle_table_refuses_non_finite_values(column, value):
    data = hand_made(n_cycles=6)
    data[column] = data[column].astype(float)
    data.iloc[20, data.columns.get_loc(column)] = value
    with pytest.raises(ValueError, match=rf"data\['{column}'\] has 1 missing or infinite value\(s\), first at row 20"):
        cycle_table(data)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_tp2_is_not_read_as_not_loaded(value):
    data = hand_made(n_cycles=3).drop(columns="COMP")
    data["TP2"] = 9.5
    data.iloc[5, data.columns.get_loc("TP2")] = value
    with pytest.raises(ValueError, match=r"data\['TP2'\] has 1 missing or infinite.*interpolate"):
        loaded_state(data)


def test_cycle_features_refuses_nan_in_tp3_instead_of_dropping_cycles():
    data = make_compressor(1, seed=0, failures=None).data
    data.iloc[::50, data.columns.get_loc("TP3")] = np.nan
    with pytest.raises(ValueError, match=r"data\['TP3'\] has \d+ missing"):
        cycle_features(data)


def test_dropping_the_bad_rows_as_the_error_says_works():
    data = hand_made(n_cycles=6)
    clean = cycle_table(data)
    data.iloc[20, data.columns.get_loc("TP3")] = np.nan
    dropped = cycle_table(data[np.isfinite(data["TP3"])])
    assert len(dropped) == len(clean)


@pytest.mark.parametrize("column", ["TP3", "COMP"])
def test_text_columns_are_named(column):
    data = hand_made().assign(**{column: "x"})
    with pytest.raises(InvalidParameterError, match=rf"data\['{column}'\] has dtype .*pd.to_numeric"):
        cycle_table(data)


@pytest.mark.parametrize("pressure", [["TP3"], 3, None])
def test_pressure_that_is_not_a_column_name(pressure):
    with pytest.raises(InvalidParameterError, match="pressure="):
        cycle_table(hand_made(), pressure=pressure)


def test_boolean_comp_is_a_legal_0_1_signal():
    data = hand_made(n_cycles=3)
    np.testing.assert_array_equal(loaded_state(data.assign(COMP=data["COMP"].astype(bool))), loaded_state(data))


def test_cycle_features_refuses_data_that_ends_before_a_grid_time_follows_the_first_cycle():
    # found by tests/test_properties_cycles.py: 29 min of the twin gave a 0-row frame without a word
    data = make_compressor(1, seed=4, failures=None).data
    short = data[data.index <= data.index[0] + np.timedelta64(1740, "s")]
    with pytest.raises(ValueError, match="no grid time .* after its first complete cycle"):
        cycle_features(short)


def test_max_gap_shorter_than_the_sampling_step_is_refused():
    # every 10 s step would be a gap, so cycle_table returned an empty table without a word
    with pytest.raises(InvalidParameterError, match=r"max_gap='5s' .* shorter than the data's median sampling step"):
        cycle_table(hand_made(), max_gap="5s")
    assert len(cycle_table(hand_made(), max_gap="10s")) == 3  # one step is not a gap
