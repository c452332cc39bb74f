"""Tests for sadlib.datasets. They never touch the network.

Real-data tests read the offline mirror (``$SADLIB_DATA_DIR``, or ``../shared/datasets``
next to the repository) into a temporary cache; without a mirror they fall back to an
existing cache, and skip only when neither is there. Error-path tests build small fake
mirrors in ``tmp_path`` and need no real data.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd
import pytest
import requests

from sadlib import datasets as ds

_ENV_MIRROR = os.environ.get("SADLIB_DATA_DIR", "")
MIRROR = Path(_ENV_MIRROR) if _ENV_MIRROR else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
HAS_MIRROR = (MIRROR / "skab").is_dir() and (MIRROR / "nab").is_dir()
VALVE1_0 = "data/valve1/0.csv"


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any HTTP request fails as if offline; tests that need a response patch requests.get."""

    def refuse(*args, **kwargs):
        raise requests.ConnectionError("network disabled in tests")

    monkeypatch.setattr(requests.Session, "request", refuse)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sadlib-cache")


@pytest.fixture
def real_data(monkeypatch, shared_cache):
    """Point sadlib at the mirror (fresh temporary cache) or at an already filled cache."""
    if HAS_MIRROR:
        monkeypatch.setenv("SADLIB_DATA_DIR", str(MIRROR))
        monkeypatch.setenv("SADLIB_CACHE_DIR", str(shared_cache))
        return
    monkeypatch.delenv("SADLIB_DATA_DIR", raising=False)
    if not ((ds.cache_dir() / "skab").is_dir() and (ds.cache_dir() / "nab").is_dir()):
        pytest.skip(f"no offline mirror at {MIRROR} (set SADLIB_DATA_DIR) and no cached data in {ds.cache_dir()}")


@pytest.fixture
def fake_mirror(monkeypatch, tmp_path):
    """An empty mirror folder and an empty cache; returns (mirror, cache)."""
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    monkeypatch.setenv("SADLIB_DATA_DIR", str(mirror))
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(cache))
    return mirror, cache


def _entry(dataset: str, repo_path: str) -> dict[str, str]:
    return ds._registry()[dataset, repo_path]


# --- registry ------------------------------------------------------------------------------

def test_registry_pins_every_file():
    reg = ds._registry()
    assert len(reg) == 105
    assert {("skab", "LICENSE"), ("nab", "LICENSE.txt"), ("nab", "labels/combined_windows.json")} <= set(reg)
    for (dataset, _), row in reg.items():
        assert len(row["sha256"]) == 64 and int(row["bytes"]) > 0
        assert row["commit"] == {"skab": "b2c0d46c2971dcbfe71e26087b6d231998bb91c2",
                                 "nab": "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"}[dataset]
    if (MIRROR / "MANIFEST.tsv").is_file():
        with open(MIRROR / "MANIFEST.tsv", encoding="utf-8") as f:
            manifest = {(r["dataset"], r["repo_path"]): r["sha256"] for r in csv.DictReader(f, delimiter="\t")}
        assert manifest == {k: r["sha256"] for k, r in reg.items()}


def test_cache_dir_and_data_source(monkeypatch, tmp_path):
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SADLIB_DATA_DIR", raising=False)
    assert ds.cache_dir() == tmp_path
    text = ds.data_source()
    assert str(tmp_path) in text and "b2c0d46" in text and "SADLIB_DATA_DIR" in text
    monkeypatch.setenv("SADLIB_DATA_DIR", str(tmp_path))
    assert f"offline mirror {tmp_path}" in ds.data_source()


# --- real data -----------------------------------------------------------------------------

def test_skab_loads_all_files(real_data):
    data = ds.load_skab()
    assert list(data) == ds.list_skab() and len(data) == 35
    assert list(data)[:2] == ["valve1/0", "valve1/1"] and list(data)[-1] == "anomaly-free"
    assert sum(k.startswith("valve1/") for k in data) == 16 and sum(k.startswith("other/") for k in data) == 14
    for key, df in data.items():
        labels = [] if key == "anomaly-free" else ["anomaly", "changepoint"]
        assert list(df.columns) == list(ds.SKAB_SENSORS) + labels, key
        assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "datetime"
        assert df.index.is_monotonic_increasing and df.index.is_unique, key
        assert all(df[c].dtype == "float64" for c in ds.SKAB_SENSORS)
        assert all(df[c].dtype == "int64" and df[c].isin((0, 1)).all() for c in labels)
        assert not df.isna().any().any()
    assert data["anomaly-free"].shape == (9405, 8)


def test_skab_valve1_0_labels_and_subsets(real_data):
    df = ds.load_skab_file("valve1/0")
    assert df.shape == (1147, 10)
    assert df["anomaly"].sum() == 401 and df["changepoint"].sum() == 4
    assert df.index[df["anomaly"].to_numpy().argmax()] == pd.Timestamp("2020-03-09 10:24:33")
    assert df.index.to_series().diff().median() == pd.Timedelta("1s")
    pd.testing.assert_frame_equal(ds.load_skab_file("data/valve1/0.csv"), df)
    subset = ds.load_skab(keys=["other/3", "valve2/1"])
    assert list(subset) == ["other/3", "valve2/1"]


def test_skab_pooled_protocol_flag_everything_f1(real_data):
    """Per file: first 400 rows are training, the rest is pooled test data."""
    test = pd.concat([df.iloc[400:] for k, df in ds.load_skab().items() if k != "anomaly-free"])
    assert len(test) == 23801
    p = test["anomaly"].mean()
    f1 = 2 * p / (1 + p)  # precision p, recall 1
    assert f1 == pytest.approx(0.698, abs=0.005)


def test_nab_machine_temperature(real_data):
    name = "realKnownCause/machine_temperature_system_failure"
    df = ds.load_nab(name)
    assert list(df.columns) == ["value", "anomaly"] and df.index.name == "timestamp"
    assert df["value"].dtype == "float64" and df["anomaly"].dtype == "int64"
    assert df.index.is_monotonic_increasing and df.index.is_unique
    assert df.index.to_series().diff().median() == pd.Timedelta("5min")
    windows = df.attrs["windows"]
    assert len(windows) == 4 and all(isinstance(t, pd.Timestamp) for w in windows for t in w)
    assert 0 < df["anomaly"].mean() < 0.2
    start, end = windows[0]
    assert df.loc[start, "anomaly"] == 1 and df.loc[end, "anomaly"] == 1  # bounds inclusive
    assert df.loc[start - pd.Timedelta("5min"), "anomaly"] == 0
    assert df.attrs["dropped_duplicates"] == 12  # the hour 2014-01-07 02:00 appears twice
    raw = ds.load_nab(name, dedupe=False)
    assert len(raw) == len(df) + 12 and not raw.index.is_monotonic_increasing
    assert ds.load_nab("machine_temperature_system_failure").shape == df.shape


def test_list_nab(real_data):
    names = ds.list_nab()
    assert len(names) == 58 and "realKnownCause/machine_temperature_system_failure" in names


def test_cached_copy_is_used_offline(real_data, monkeypatch):
    path = ds.fetch("skab", VALVE1_0)
    monkeypatch.delenv("SADLIB_DATA_DIR", raising=False)  # network is blocked too
    assert ds.fetch("skab", VALVE1_0) == path


@pytest.mark.skipif(not HAS_MIRROR, reason="needs the offline mirror to restore the cached file")
def test_corrupt_cached_copy_is_replaced(real_data):
    path = ds.fetch("skab", VALVE1_0)
    path.write_bytes(b"garbage")
    assert ds.fetch("skab", VALVE1_0).read_bytes()[:8] == b"datetime"


# --- errors --------------------------------------------------------------------------------

def test_checksum_mismatch_leaves_nothing_in_cache(fake_mirror):
    mirror, cache = fake_mirror
    size = int(_entry("skab", VALVE1_0)["bytes"])
    (mirror / "skab/data/valve1").mkdir(parents=True)
    (mirror / "skab" / VALVE1_0).write_bytes(b"x" * size)  # right size, wrong content
    with pytest.raises(ds.ChecksumError) as err:
        ds.load_skab_file("valve1/0")
    msg = str(err.value)
    assert "valve1/0.csv" in msg and _entry("skab", VALVE1_0)["sha256"] in msg and "nothing was kept" in msg
    assert isinstance(err.value, ValueError) and isinstance(err.value, RuntimeError)
    assert _files(cache) == []


def test_partial_file_in_mirror(fake_mirror):
    mirror, cache = fake_mirror
    (mirror / "skab/data/valve1").mkdir(parents=True)
    (mirror / "skab" / VALVE1_0).write_bytes(b"datetime;Accelerometer1RMS\n")
    with pytest.raises(ds.ChecksumError, match=r"Partial download of skab/data/valve1/0\.csv"):
        ds.fetch("skab", VALVE1_0)
    assert _files(cache) == []


def test_partial_http_download(monkeypatch, tmp_path):
    monkeypatch.delenv("SADLIB_DATA_DIR", raising=False)
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path))
    seen = {}

    class Truncated:
        headers: dict = {}

        def raise_for_status(self):
            pass

        def iter_content(self, chunk_size):
            yield b"datetime;Accelerometer1RMS;"

    def fake_get(url, timeout=None, **kwargs):
        seen.update(url=url, timeout=timeout)
        return Truncated()

    monkeypatch.setattr(requests, "get", fake_get)
    with pytest.raises(ds.ChecksumError, match="Partial download .*valve1/0.csv"):
        ds.fetch("skab", VALVE1_0)
    assert seen["timeout"] == ds.HTTP_TIMEOUT == 30
    assert seen["url"] == ("https://raw.githubusercontent.com/waico/SKAB/"
                           "b2c0d46c2971dcbfe71e26087b6d231998bb91c2/data/valve1/0.csv")
    assert _files(tmp_path) == []


def test_file_missing_from_mirror(fake_mirror):
    mirror, cache = fake_mirror
    with pytest.raises(ds.DatasetError, match="missing from the offline mirror") as err:
        ds.load_nab("realKnownCause/nyc_taxi")
    assert "nab/data/realKnownCause/nyc_taxi.csv" in str(err.value) and "SADLIB_DATA_DIR" in str(err.value)
    assert _files(cache) == []


def test_mirror_env_not_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("SADLIB_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ds.DatasetError, match="is not a folder"):
        ds.fetch("skab", VALVE1_0)


def test_no_network_and_no_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SADLIB_DATA_DIR", raising=False)
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path))
    with pytest.raises(ds.DatasetError) as err:  # requests raises ConnectionError (autouse fixture)
        ds.load_skab_file("valve1/0")
    msg = str(err.value)
    assert "skab/data/valve1/0.csv" in msg and "SADLIB_DATA_DIR" in msg and "../shared/datasets" in msg
    assert "retry" in msg and "no cached copy" in msg
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    ("call", "suggestion"),
    [
        (lambda: ds.load_skab_file("valve1/16"), "valve1/1"),
        (lambda: ds.load_skab(keys=["valve_1/0"]), "valve1/0"),
        (lambda: ds.load_nab("realKnownCause/machine_temperature"), "machine_temperature_system_failure"),
        (lambda: ds.fetch("skb", VALVE1_0), "'skab'"),
        (lambda: ds.fetch("skab", "data/valve1/0.cvs"), VALVE1_0),
    ],
)
def test_unknown_key_suggests_close_match(call, suggestion):
    with pytest.raises(ds.UnknownKeyError, match="Did you mean") as err:
        call()
    assert suggestion in str(err.value) and isinstance(err.value, ValueError)
