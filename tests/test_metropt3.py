"""Tests for sadlib.datasets.load_metropt3 on small files written in the MetroPT-3 layout.

The real file (UCI dataset 791) cannot be mirrored here, so every test writes a few hundred
rows with the UCI header (an unnamed index column, ``timestamp`` and the 15 channels) around
the edges of the published failure intervals. No network, no real data.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sadlib import datasets as ds
from sadlib.signals import METROPT3_ANALOG, METROPT3_CHANNELS, METROPT3_DIGITAL
from sadlib.validation import InvalidParameterError

# the UCI file's header after its unnamed index column, spelled out here so that a change of the
# shared constant cannot silently change what the tests expect
UCI_HEADER = ["timestamp", "TP2", "TP3", "H1", "DV_pressure", "Reservoirs", "Oil_temperature", "Motor_current",
              "COMP", "DV_eletric", "Towers", "MPG", "LPS", "Pressure_switch", "Oil_level", "Caudal_impulses"]


def _timestamps() -> pd.DatetimeIndex:
    """300 timestamps, 10 s apart in three blocks, around the start and end of failure 1 and the end of failure 2."""
    blocks = [pd.date_range(start, periods=100, freq="10s") for start in
              ("2020-04-17 23:55:00", "2020-04-18 23:50:09", "2020-05-30 05:50:00")]
    return blocks[0].append(blocks[1]).append(blocks[2])


def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = _timestamps()
    data = {}
    for col in UCI_HEADER[1:]:
        data[col] = rng.integers(0, 2, len(ts)).astype(float) if col in METROPT3_DIGITAL else np.round(
            rng.uniform(0, 10, len(ts)), 3)
    df = pd.DataFrame(data)
    df.insert(0, "timestamp", ts.strftime("%Y-%m-%d %H:%M:%S"))
    return df


def _write(path: Path, df: pd.DataFrame | None = None, *, index: bool = True) -> Path:
    """Write as in the UCI file: a first column with an empty name holding the row number."""
    (_frame() if df is None else df).to_csv(path, index=index)
    return path


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("SADLIB_METROPT3", raising=False)


@pytest.fixture
def small_csv(tmp_path) -> Path:
    return _write(tmp_path / ds.METROPT3_CSV)


def test_file_header_is_the_uci_layout(small_csv):
    header = small_csv.read_text().splitlines()[0].split(",")
    assert header == ["", *UCI_HEADER]


def test_columns_dtypes_index_and_values(small_csv):
    df = ds.load_metropt3(small_csv, check_rows=False, verbose=False)
    assert list(df.columns) == [*UCI_HEADER[1:], "anomaly"]
    assert (df.dtypes[list(METROPT3_ANALOG)] == np.float64).all() and len(METROPT3_ANALOG) == 7
    assert (df.dtypes[list(METROPT3_DIGITAL)] == np.int64).all() and len(METROPT3_DIGITAL) == 8
    assert df["anomaly"].dtype == np.int64
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "timestamp"
    assert df.index.equals(pd.DatetimeIndex(_timestamps(), name="timestamp"))
    written = _frame()
    np.testing.assert_array_equal(df[UCI_HEADER[1:]].to_numpy(), written[UCI_HEADER[1:]].to_numpy())
    assert set(df["anomaly"].unique()) == {0, 1}


@pytest.mark.parametrize("stamp, label", [
    ("2020-04-17 23:59:50", 0),   # 10 s before failure 1 starts
    ("2020-04-18 00:00:00", 1),   # its first second
    ("2020-04-18 00:11:30", 1),   # the last row of the first block
    ("2020-04-18 23:50:09", 1),
    ("2020-04-18 23:59:59", 1),   # the published end is 23:59; its whole minute counts
    ("2020-04-19 00:00:09", 0),
    ("2020-05-30 05:50:00", 1),   # inside failure 2 (2020-05-29 23:30 to 2020-05-30 06:00)
    ("2020-05-30 06:00:50", 1),
    ("2020-05-30 06:01:00", 0),   # the minute after the published end
])
def test_labels_at_the_interval_edges(small_csv, stamp, label):
    df = ds.load_metropt3(small_csv, check_rows=False, verbose=False)
    assert df.loc[pd.Timestamp(stamp), "anomaly"] == label


def test_label_count_matches_the_published_table(small_csv):
    df = ds.load_metropt3(small_csv, check_rows=False, verbose=False)
    t = df.index
    expected = ((t >= "2020-04-18 00:00:00") & (t < "2020-04-19 00:00:00")) | (
        (t >= "2020-05-29 23:30:00") & (t < "2020-05-30 06:01:00"))
    np.testing.assert_array_equal(df["anomaly"].to_numpy(), expected.astype(int))
    assert 100 < df["anomaly"].sum() < 300


def test_sha256_printed_and_equal_to_hashlib(small_csv, capsys):
    df = ds.load_metropt3(small_csv, check_rows=False)
    expected = hashlib.sha256(small_csv.read_bytes()).hexdigest()
    out = capsys.readouterr().out
    assert f"sha256 {expected}" in out
    assert df.attrs["sha256"] == expected
    assert ds.METROPT3_SHA256 in out and "DIFFER" in out  # a test file is not the UCI file
    assert "300 rows" in out and "2020-04-17 23:55:00" in out


def test_sha256_match_is_reported(small_csv, capsys, monkeypatch):
    monkeypatch.setattr(ds, "METROPT3_SHA256", hashlib.sha256(small_csv.read_bytes()).hexdigest())
    ds.load_metropt3(small_csv, check_rows=False)
    out = capsys.readouterr().out
    assert "they match" in out and "DIFFER" not in out


def test_verbose_false_prints_nothing(small_csv, capsys):
    ds.load_metropt3(small_csv, check_rows=False, verbose=False)
    assert capsys.readouterr().out == ""


def test_attrs(small_csv):
    df = ds.load_metropt3(small_csv, check_rows=False, verbose=False)
    assert df.attrs["source"] == str(small_csv)
    assert df.attrs["failures"] == list(ds.METROPT3_FAILURES)


def test_zip_gives_the_same_frame_and_the_csv_sha256(small_csv, tmp_path):
    archive = tmp_path / "metropt+3+dataset.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Data Description_Metro.pdf", b"%PDF-1.4 not a real pdf")
        zf.write(small_csv, ds.METROPT3_CSV)
    from_csv = ds.load_metropt3(small_csv, check_rows=False, verbose=False)
    from_zip = ds.load_metropt3(archive, check_rows=False, verbose=False)
    pd.testing.assert_frame_equal(from_zip, from_csv)
    assert from_zip.attrs["sha256"] == hashlib.sha256(small_csv.read_bytes()).hexdigest()


def test_zip_without_the_csv_says_what_it_holds(tmp_path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.csv", "x\n1\n")
        zf.writestr("b.csv", "x\n1\n")
    with pytest.raises(ds.DatasetError, match=r"holds no MetroPT3\(AirCompressor\)\.csv.*'a\.csv', 'b\.csv'"):
        ds.load_metropt3(archive, check_rows=False)


def test_folder_holding_the_csv(small_csv):
    df = ds.load_metropt3(small_csv.parent, check_rows=False, verbose=False)
    assert len(df) == 300


def test_env_var_path(small_csv, monkeypatch):
    monkeypatch.setenv("SADLIB_METROPT3", str(small_csv))
    df = ds.load_metropt3(check_rows=False, verbose=False)
    assert len(df) == 300 and df.attrs["source"] == str(small_csv)


def test_no_file_says_where_to_download():
    with pytest.raises(ds.DatasetError) as info:
        ds.load_metropt3()
    msg = str(info.value)
    assert "SADLIB_METROPT3 is not set" in msg
    assert ds.METROPT3_URL in msg and "make_compressor" in msg


def test_missing_file_names_the_path_and_where_to_download(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(ds.DatasetError, match="path points to .*nowhere.csv, which does not exist") as info:
        ds.load_metropt3(missing)
    assert ds.METROPT3_URL in str(info.value)
    monkeypatch.setenv("SADLIB_METROPT3", str(missing))
    with pytest.raises(ds.DatasetError, match="SADLIB_METROPT3 points to .*nowhere.csv"):
        ds.load_metropt3()


def test_not_a_csv_or_zip(tmp_path):
    other = tmp_path / "data.parquet"
    other.write_bytes(b"x")
    with pytest.raises(ds.DatasetError, match=r"neither a \.csv nor a \.zip"):
        ds.load_metropt3(other)


def test_wrong_columns_are_named(tmp_path):
    df = _frame().rename(columns={"Oil_temperature": "Oil_Temperature"})
    df["Flowmeter"] = 1.0
    path = _write(tmp_path / "wrong.csv", df)
    with pytest.raises(ds.DatasetError) as info:
        ds.load_metropt3(path, check_rows=False)
    msg = str(info.value)
    assert "missing ['Oil_temperature']" in msg
    assert "unexpected ['Oil_Temperature', 'Flowmeter']" in msg
    assert "'Oil_Temperature' looks like 'Oil_temperature'" in msg


def test_missing_timestamp_column(tmp_path):
    path = _write(tmp_path / "no_time.csv", _frame().drop(columns="timestamp"))
    with pytest.raises(ds.DatasetError, match=r"missing \['timestamp'\]"):
        ds.load_metropt3(path, check_rows=False)


def test_file_without_the_index_column_loads(tmp_path, small_csv):
    path = _write(tmp_path / "no_index.csv", index=False)
    pd.testing.assert_frame_equal(ds.load_metropt3(path, check_rows=False, verbose=False),
                                  ds.load_metropt3(small_csv, check_rows=False, verbose=False))


def test_row_count_mismatch_is_an_error_naming_both_numbers(small_csv):
    with pytest.raises(ds.DatasetError) as info:
        ds.load_metropt3(small_csv, verbose=False)
    msg = str(info.value)
    assert "has 300 rows but the UCI file has 1,516,948" in msg and "check_rows=False" in msg


def test_row_count_check_passes_when_the_count_matches(small_csv, monkeypatch):
    monkeypatch.setattr(ds, "METROPT3_ROWS", 300)
    assert len(ds.load_metropt3(small_csv, verbose=False)) == 300


def test_empty_value_is_an_error(tmp_path):
    df = _frame()
    df.loc[5, "TP2"] = np.nan
    path = _write(tmp_path / "gap.csv", df)
    with pytest.raises(ds.DatasetError, match=r"empty values in TP2 \(1\)"):
        ds.load_metropt3(path, check_rows=False)


def test_text_in_a_channel_is_an_error(tmp_path):
    df = _frame().astype({"Motor_current": object})
    df.loc[3, "Motor_current"] = "high"
    path = _write(tmp_path / "text.csv", df)
    with pytest.raises(ds.DatasetError, match="could not be read as MetroPT-3"):
        ds.load_metropt3(path, check_rows=False)


def test_digital_channel_other_than_0_1_is_an_error(tmp_path):
    df = _frame()
    df.loc[7, "LPS"] = 0.5
    path = _write(tmp_path / "half.csv", df)
    with pytest.raises(ds.DatasetError, match=r"digital channel\(s\) \['LPS'\] hold values other than 0 and 1"):
        ds.load_metropt3(path, check_rows=False)


def test_unsorted_timestamps_are_an_error(tmp_path):
    df = _frame()
    df.loc[[10, 11], "timestamp"] = df.loc[[11, 10], "timestamp"].to_numpy()
    path = _write(tmp_path / "unsorted.csv", df)
    with pytest.raises(ds.DatasetError, match="not sorted"):
        ds.load_metropt3(path, check_rows=False)


@pytest.mark.parametrize("kwargs, name", [({"check_rows": "no"}, "check_rows"), ({"verbose": 1}, "verbose"),
                                          ({"path": 3}, "path")])
def test_bad_parameters(small_csv, kwargs, name):
    kwargs = {"path": small_csv, **kwargs}
    with pytest.raises(InvalidParameterError, match=name):
        ds.load_metropt3(**kwargs)


def test_failure_table():
    table = pd.DataFrame(ds.METROPT3_FAILURES)
    assert list(table.columns) == ["start", "end", "type"]
    assert len(table) == 4 and (table["type"] == "air_leak").all()
    assert (table["start"] < table["end"]).all()
    assert (table["start"].iloc[1:].to_numpy() > table["end"].iloc[:-1].to_numpy()).all()  # sorted, disjoint
    assert table["start"].iloc[0] == pd.Timestamp("2020-04-18 00:00")
    assert table["end"].iloc[-1] == pd.Timestamp("2020-07-15 19:00")


def test_channel_names_are_the_uci_spelling():
    assert list(METROPT3_CHANNELS) == UCI_HEADER[1:]
    assert "DV_eletric" in METROPT3_CHANNELS
