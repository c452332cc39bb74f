"""Issue 25: the loaders refuse bad files and bad arguments with a message naming the problem and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_metropt3 import _frame, _write

from sadlib import datasets as ds
from sadlib.validation import InvalidParameterError


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("SADLIB_METROPT3", raising=False)


def _load(path):
    return ds.load_metropt3(path, check_rows=False, verbose=False)


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e400", "-1e999"])
@pytest.mark.parametrize("column", ["TP3", "COMP"])
def test_infinite_cells_are_refused_naming_column_and_row(tmp_path, cell, column):
    df = _frame().astype({column: object})
    df.loc[7, column] = cell
    with pytest.raises(ds.DatasetError, match=rf"infinite .*{column} \(1\).*column '{column}' at data row 7 "
                                              rf"\(timestamp 2020-04-17 23:56:10\)"):
        _load(_write(tmp_path / "x.csv", df))


def test_empty_cells_name_the_row(tmp_path):
    df = _frame().astype({"H1": object})
    df.loc[[4, 9], "H1"] = ""
    with pytest.raises(ds.DatasetError, match=r"empty values in H1 \(2\).*column 'H1' at data row 4"):
        _load(_write(tmp_path / "x.csv", df))


def test_header_only_file_is_refused_also_without_check_rows(tmp_path):
    with pytest.raises(ds.DatasetError, match="header but no data rows"):
        _load(_write(tmp_path / "x.csv", _frame().iloc[:0]))


def test_zero_byte_and_binary_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ds.DatasetError, match=r"is empty \(no header, no rows\)"):
        _load(tmp_path / "empty.csv")
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01binary\xff\xfe\n")
    with pytest.raises(ds.DatasetError, match="not a readable CSV text file"):
        _load(tmp_path / "bin.csv")


@pytest.mark.parametrize("fmt", [
    lambda ts: ts.dt.tz_localize("UTC").astype(str),                                    # +00:00
    lambda ts: ts.dt.tz_localize("Europe/Lisbon").astype(str),                          # +01:00 in summer
    lambda ts: ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),                                    # Z
    lambda ts: ts.where(ts.index >= 100, ts - pd.Timedelta(days=60)).dt.tz_localize("Europe/Lisbon").astype(str),
])
def test_utc_offsets_are_refused(tmp_path, fmt):
    df = _frame()
    df["timestamp"] = fmt(pd.to_datetime(df["timestamp"]))
    with pytest.raises(ds.DatasetError, match=r"UTC offset \(first at data row 0: 2020-.*tz_localize\(None\)"):
        _load(_write(tmp_path / "x.csv", df))


def test_a_clean_small_file_still_loads(tmp_path):
    df = _load(_write(tmp_path / "x.csv"))
    assert len(df) == 300 and np.isfinite(df.to_numpy(dtype=float)).all() and df.index.tz is None


@pytest.mark.parametrize("call, match", [
    (lambda: ds.load_nab(3), "name must be a str"),
    (lambda: ds.load_nab("nyc_taxi", dedupe="no"), "dedupe must be True or False"),
    (lambda: ds.load_skab_file(3), "key must be a str"),
    (lambda: ds.load_skab("valve1/0"), r"keys must be a list of keys, e.g. \['valve1/0'\]"),
    (lambda: ds.fetch(3, "data/valve1/0.csv"), "dataset must be a str"),
    (lambda: ds.fetch("skab", None), "repo_path must be a str"),
])
def test_keys_of_the_wrong_type(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()
