"""Property-based tests (Hypothesis) of the MetroPT-3 loader (issue 25).

The loader must round-trip a small file it is given in the UCI layout (values, dtypes, timestamps
and the failure labels), and refuse a file with one bad cell (empty, infinite, text, out of float
range) by naming the column. Examples come from the derandomized ``sadlib`` profile of
``tests/conftest.py``; each example writes its own file in a temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sadlib import datasets as ds
from sadlib.signals import METROPT3_ANALOG, METROPT3_CHANNELS, METROPT3_DIGITAL

settings_io = settings(max_examples=25)  # each example writes and reads a CSV


@st.composite
def metropt3_frames(draw):
    """A small frame in the UCI layout: sorted unique timestamps near a failure, analogue floats, digital 0/1."""
    n = draw(st.integers(1, 40))
    failure = draw(st.sampled_from(ds.METROPT3_FAILURES))
    start = failure.start + pd.Timedelta(seconds=draw(st.integers(-3 * 3600, 3 * 3600)))
    gaps = draw(hnp.arrays(np.int64, n, elements=st.integers(1, 600)))
    stamps = pd.DatetimeIndex(start + pd.to_timedelta(np.cumsum(gaps), unit="s"), name="timestamp")
    data = {}
    for col in METROPT3_CHANNELS:
        if col in METROPT3_DIGITAL:
            data[col] = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
        else:
            data[col] = draw(hnp.arrays(np.float64, n, elements=st.floats(-1e6, 1e6, allow_subnormal=False)))
    return pd.DataFrame(data, index=stamps)


def _write(df: pd.DataFrame, folder: Path) -> Path:
    out = df.copy()
    out.insert(0, "timestamp", df.index.strftime("%Y-%m-%d %H:%M:%S"))
    path = folder / ds.METROPT3_CSV
    out.reset_index(drop=True).to_csv(path, index=True)  # the UCI file's unnamed row-number column
    return path


@settings_io
@given(metropt3_frames())
def test_load_metropt3_round_trips_a_file_it_was_given(frame):
    with tempfile.TemporaryDirectory() as folder:
        loaded = ds.load_metropt3(_write(frame, Path(folder)), check_rows=False, verbose=False)
    pd.testing.assert_frame_equal(loaded[list(METROPT3_CHANNELS)], frame, check_index_type=False,
                                  check_freq=False)
    assert loaded.index.equals(frame.index) and loaded.index.name == "timestamp"
    assert (loaded.dtypes[list(METROPT3_ANALOG)] == np.float64).all()
    assert (loaded.dtypes[list(METROPT3_DIGITAL)] == np.int64).all()
    inside = np.zeros(len(frame), bool)
    for f in ds.METROPT3_FAILURES:
        inside |= (frame.index >= f.start) & (frame.index < f.end + pd.Timedelta(minutes=1))
    np.testing.assert_array_equal(loaded["anomaly"].to_numpy(), inside.astype(np.int64))


@settings_io
@given(metropt3_frames(), st.data(), st.sampled_from(["", "inf", "-inf", "1e400", "nan", "abc", "1,5"]))
def test_one_bad_cell_is_refused_by_name(frame, data, cell):
    column = data.draw(st.sampled_from(METROPT3_CHANNELS))
    row = data.draw(st.integers(0, len(frame) - 1))
    bad = frame.astype({column: object})
    bad.iloc[row, bad.columns.get_loc(column)] = cell
    with tempfile.TemporaryDirectory() as folder:
        path = _write(bad, Path(folder))
        with pytest.raises(ds.DatasetError) as info:
            ds.load_metropt3(path, check_rows=False, verbose=False)
    text = str(info.value)
    assert f"column {column!r} at data row {row}" in text, text
