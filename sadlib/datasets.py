"""Real benchmark data: SKAB and NAB, fetched once, pinned by sha256, cached locally; MetroPT-3 read
from a copy the user downloaded.

Every file comes from a raw GitHub URL at a fixed commit and is checked against the
sha256 in ``sadlib/dataset_registry.tsv`` (built once from the offline mirror's
``MANIFEST.tsv``; ``mirror_path`` is where a mirror keeps the file). Files are
downloaded to a temporary name, checked, and only then moved into the cache, so a
corrupt or partial download never stays there.

Environment variables
---------------------
``SADLIB_DATA_DIR``
    Folder of an offline mirror laid out ``<dataset>/<path in repo>`` (e.g.
    ``../shared/datasets``). When set, files are copied from it, never downloaded.
``SADLIB_CACHE_DIR``
    Cache folder (default ``pooch.os_cache("sadlib")``).
``SADLIB_METROPT3``
    Path of the MetroPT-3 file (``MetroPT3(AirCompressor).csv`` or the UCI zip) for
    :func:`load_metropt3`. MetroPT-3 is never downloaded by sadlib.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import functools
import hashlib
import json
import logging
import os
import shutil
import zipfile
from importlib.resources import files
from pathlib import Path
from typing import IO, Iterable, Iterator, NamedTuple

import numpy as np
import pandas as pd
import pooch

from .validation import InvalidParameterError, check_bool, check_time_index

__all__ = ["DatasetError", "ChecksumError", "UnknownKeyError", "SKAB_SENSORS", "cache_dir", "data_source",
           "fetch", "list_skab", "load_skab", "load_skab_file", "list_nab", "load_nab",
           "METROPT3_CSV", "METROPT3_FAILURES", "METROPT3_ROWS", "METROPT3_SHA256", "METROPT3_URL",
           "MetroPT3Failure", "load_metropt3"]

HTTP_TIMEOUT = 30  # seconds, per request
SKAB_SENSORS = ("Accelerometer1RMS", "Accelerometer2RMS", "Current", "Pressure",
                "Temperature", "Thermocouple", "Voltage", "Volume Flow RateRMS")
SKAB_LABELS = ("anomaly", "changepoint")
_MIRROR_HINT = "set SADLIB_DATA_DIR to an offline mirror such as ../shared/datasets"


class DatasetError(RuntimeError):
    """A data file could not be provided; the message names the file and the fix."""


class ChecksumError(DatasetError, ValueError):
    """A file's size or sha256 differs from the registry (corrupt or partial copy)."""


class UnknownKeyError(DatasetError, ValueError):
    """An unknown dataset, file or series name; the message lists close matches."""


@functools.lru_cache(maxsize=1)
def _registry() -> dict[tuple[str, str], dict[str, str]]:
    text = files("sadlib").joinpath("dataset_registry.tsv").read_text(encoding="utf-8")
    return {(r["dataset"], r["repo_path"]): r for r in csv.DictReader(text.splitlines(), delimiter="\t")}


def _unknown(kind: str, key: str, valid: Iterable[str]) -> UnknownKeyError:
    valid = list(valid)
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    hint = f"Did you mean {', '.join(map(repr, close))}?" if close else f"Valid: {', '.join(valid[:40])}."
    return UnknownKeyError(f"Unknown {kind} {key!r}. {hint}")


def cache_dir() -> Path:
    """Folder where verified files are kept: ``$SADLIB_CACHE_DIR`` or ``pooch.os_cache("sadlib")``."""
    return Path(os.environ.get("SADLIB_CACHE_DIR") or pooch.os_cache("sadlib")).expanduser()


def _mirror_dir() -> Path | None:
    value = os.environ.get("SADLIB_DATA_DIR", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and not path.is_dir():  # also try relative to the project root
        path = Path(__file__).resolve().parents[1] / path
    if not path.is_dir():
        raise DatasetError(f"SADLIB_DATA_DIR={value!r} is not a folder. Point it at an offline mirror "
                           f"(the folder holding MANIFEST.tsv, e.g. ../shared/datasets) or unset it to download.")
    return path.resolve()


def data_source() -> str:
    """One human-readable paragraph: where the data comes from and where it is cached."""
    commits = sorted({(r["repo"], r["commit"][:7]) for r in _registry().values()})
    pinned = ", ".join(f"{repo}@{commit}" for repo, commit in commits)
    mirror = _mirror_dir()
    origin = (f"offline mirror {mirror} (SADLIB_DATA_DIR)" if mirror else
              f"raw.githubusercontent.com ({pinned}); {_MIRROR_HINT} to work offline")
    return (f"Data source: {origin}. Every file is checked against its pinned sha256. "
            f"Cache: {cache_dir()} (set SADLIB_CACHE_DIR to move it).")


class _Downloader:
    """Pooch downloader: copy from the mirror or fetch over HTTP, then check size and sha256."""

    def __init__(self, entry: dict[str, str]):
        self.entry = entry

    def __call__(self, url: str, output_file: str, pooch_obj: object, check_only: bool = False) -> None:
        name, mirror = f"{self.entry['dataset']}/{self.entry['repo_path']}", _mirror_dir()
        if mirror is not None:
            candidates = [mirror / self.entry["mirror_path"], mirror / name]
            source = next((p for p in candidates if p.is_file()), None)
            if source is None:
                raise DatasetError(f"{name} is missing from the offline mirror {mirror} (looked for "
                                   f"{candidates[0]}). Complete the mirror, point SADLIB_DATA_DIR at a "
                                   f"complete one, or unset SADLIB_DATA_DIR to download from {url}.")
            shutil.copyfile(source, output_file)
            fix = f"The mirror copy {source} is damaged: replace it, or unset SADLIB_DATA_DIR to download."
        else:
            import requests  # pooch's own dependency

            try:
                pooch.HTTPDownloader(timeout=HTTP_TIMEOUT, progressbar=False)(url, output_file, pooch_obj)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise DatasetError(f"Cannot download {name} from {url} and there is no cached copy in "
                                   f"{cache_dir()} ({type(exc).__name__}). Either {_MIRROR_HINT}, or "
                                   f"connect to the internet and retry.") from exc
            except requests.RequestException as exc:
                raise DatasetError(f"Download of {name} from {url} failed: {exc}. Retry later, "
                                   f"or {_MIRROR_HINT}.") from exc
            fix = f"Retry to download it again from {url}, or {_MIRROR_HINT}."
        self._verify(Path(output_file), name, f"The bad copy was deleted; nothing was kept in the cache. {fix}")

    def _verify(self, path: Path, name: str, retry: str) -> None:
        size, expected = path.stat().st_size, int(self.entry["bytes"])
        if size < expected:
            raise ChecksumError(f"Partial download of {name}: got {size} of {expected} bytes. {retry}")
        actual = pooch.file_hash(str(path))
        if size != expected or actual != self.entry["sha256"]:
            raise ChecksumError(f"Checksum mismatch for {name}: expected sha256 {self.entry['sha256']} "
                                f"({expected} bytes) but got {actual} ({size} bytes). {retry}")


def fetch(dataset: str, repo_path: str) -> Path:
    """Return the local path of one registered file, fetching and verifying it if needed.

    Parameters
    ----------
    dataset : str
        ``"skab"`` or ``"nab"``.
    repo_path : str
        Path inside the source repository, e.g. ``"data/valve1/0.csv"``.

    Raises
    ------
    UnknownKeyError
        for a dataset or file not in the registry (close matches are suggested).
    ChecksumError
        if the fetched copy is partial or its sha256 differs; nothing is kept.
    DatasetError
        if there is no network and no cached copy, or the mirror lacks the file.
    """
    for name, value in (("dataset", dataset), ("repo_path", repo_path)):
        if not isinstance(value, str):
            raise InvalidParameterError(f"{name} must be a str, e.g. fetch('skab', 'data/valve1/0.csv'); "
                                        f"got {type(value).__name__}.")
    reg = _registry()
    datasets = sorted({d for d, _ in reg})
    if dataset not in datasets:
        raise _unknown("dataset", dataset, datasets)
    if (dataset, repo_path) not in reg:
        raise _unknown(f"{dataset} file", repo_path, [p for d, p in reg if d == dataset])
    entry = reg[dataset, repo_path]
    target = cache_dir() / dataset / repo_path
    if target.is_file() and pooch.file_hash(str(target)) != entry["sha256"]:
        target.unlink()  # stale or corrupt cached copy: fetch a fresh one
    url = f"https://raw.githubusercontent.com/{entry['repo']}/{entry['commit']}/{repo_path}"
    logger, level = pooch.get_logger(), pooch.get_logger().level
    logger.setLevel(logging.WARNING)  # no "Downloading ..." line per file
    try:
        return Path(pooch.retrieve(url, known_hash=f"sha256:{entry['sha256']}", fname=target.name,
                                   path=target.parent, downloader=_Downloader(entry)))
    finally:
        logger.setLevel(level)


def _num(key: str) -> int:
    tail = key.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def list_skab() -> list[str]:
    """The 35 SKAB keys in the order valve1/0..15, valve2/0..3, other/1..14, anomaly-free."""
    keys = [p[5:-4].replace("anomaly-free/", "") for d, p in _registry() if d == "skab" and p.startswith("data/")]
    order = {"valve1": 0, "valve2": 1, "other": 2}
    return sorted(keys, key=lambda k: (order.get(k.split("/")[0], 3), _num(k)))


def load_skab_file(key: str) -> pd.DataFrame:
    """Load one SKAB experiment, e.g. ``"valve1/0"`` or ``"anomaly-free"``.

    Returns
    -------
    pandas.DataFrame
        Shape ``(n_rows, 10)``: the 8 float64 columns of :data:`SKAB_SENSORS` and the int64
        labels ``anomaly`` and ``changepoint`` (0/1), indexed by a sorted, unique
        DatetimeIndex ``"datetime"`` (about one row per second). ``"anomaly-free"`` has
        the 8 sensor columns only, shape ``(9405, 8)``.
    """
    if not isinstance(key, str):
        raise InvalidParameterError(f"key must be a str such as 'valve1/0' (see list_skab()), got "
                                    f"{type(key).__name__}.")
    key = key.removeprefix("data/").removesuffix(".csv").replace("anomaly-free/", "")
    if key not in list_skab():
        raise _unknown("SKAB file", key, list_skab())
    path = fetch("skab", "data/anomaly-free/anomaly-free.csv" if key == "anomaly-free" else f"data/{key}.csv")
    df = pd.read_csv(path, sep=";", index_col="datetime", parse_dates=["datetime"])
    df.columns = df.columns.str.strip()
    wanted = list(SKAB_SENSORS) + ([] if key == "anomaly-free" else list(SKAB_LABELS))
    if sorted(df.columns) != sorted(wanted):
        raise DatasetError(f"SKAB {key} ({path}) has columns {list(df.columns)}, expected {wanted}. "
                           f"Delete that file from the cache {cache_dir()} and retry.")
    df = df[wanted].astype({c: "float64" for c in SKAB_SENSORS})
    for col in wanted[len(SKAB_SENSORS):]:
        if not df[col].isin((0, 1)).all():
            raise DatasetError(f"SKAB {key}: column {col!r} is not 0/1 ({path}).")
        df[col] = df[col].astype("int64")
    check_time_index(df, name=f"SKAB {key}")
    return df


def load_skab(keys: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load SKAB experiments as ``{key: DataFrame}`` (all 35 by default, in :func:`list_skab` order).

    Each frame is as described in :func:`load_skab_file`.
    """
    if isinstance(keys, str):
        raise InvalidParameterError(f"keys must be a list of keys, e.g. [{keys!r}], not one str (it would be read "
                                    f"letter by letter); for one file use load_skab_file({keys!r}).")
    return {k: load_skab_file(k) for k in (list_skab() if keys is None else keys)}


def list_nab() -> list[str]:
    """NAB series names ``"<category>/<name>"``, e.g. ``"realKnownCause/nyc_taxi"`` (58 series)."""
    return sorted(p[5:-4] for d, p in _registry() if d == "nab" and p.startswith("data/"))


def load_nab(name: str, *, dedupe: bool = True) -> pd.DataFrame:
    """Load one NAB series with its labelled anomaly windows.

    Parameters
    ----------
    name : str
        ``"<category>/<name>"`` from :func:`list_nab` (a unique bare name also works).
    dedupe : bool
        Some NAB files repeat timestamps (e.g. machine_temperature repeats the hour
        2014-01-07 02:00-02:55). By default the first occurrence is kept and the index
        is sorted; ``False`` returns the rows exactly as in the file.

    Returns
    -------
    pandas.DataFrame
        Shape ``(n_rows, 2)``: float64 ``value`` and int64 ``anomaly`` (1 inside any
        labelled window, bounds inclusive), indexed by DatetimeIndex ``"timestamp"``.
        ``df.attrs["windows"]`` is the list of ``(start, end)`` Timestamps and
        ``df.attrs["dropped_duplicates"]`` the number of rows removed by ``dedupe``.
    """
    if not isinstance(name, str):
        raise InvalidParameterError(f"name must be a str such as 'realKnownCause/nyc_taxi' (see list_nab()), got "
                                    f"{type(name).__name__}.")
    dedupe = check_bool("dedupe", dedupe)
    names = list_nab()
    name = name.removeprefix("data/").removesuffix(".csv")
    bare = [n for n in names if n.split("/")[1] == name]
    name = bare[0] if len(bare) == 1 else name
    if name not in names:
        raise _unknown("NAB series", name, names)
    df = pd.read_csv(fetch("nab", f"data/{name}.csv"), index_col="timestamp", parse_dates=["timestamp"])
    df = df[["value"]].astype("float64")
    n_raw = len(df)
    if dedupe:
        df = df[~df.index.duplicated(keep="first")].sort_index(kind="stable")
        check_time_index(df, name=f"NAB {name}")
    labels = json.loads(fetch("nab", "labels/combined_windows.json").read_text(encoding="utf-8"))
    windows = [(pd.Timestamp(s), pd.Timestamp(e)) for s, e in labels[f"{name}.csv"]]
    inside = pd.Series(False, index=df.index)
    for start, end in windows:
        inside |= (df.index >= start) & (df.index <= end)
    df["anomaly"] = inside.to_numpy().astype("int64")
    df.attrs.update(windows=windows, dropped_duplicates=n_raw - len(df))
    return df


# --- MetroPT-3 (UCI dataset 791): read from the user's own download, never fetched -----------
# Facts and their sources are in datasets/metropt3.md. The channel names have one home,
# sadlib.signals.METROPT3_CHANNELS; it is imported inside the functions so that importing this
# module does not load scipy.

METROPT3_URL = "https://archive.ics.uci.edu/dataset/791/metropt+3+dataset"
METROPT3_CSV = "MetroPT3(AirCompressor).csv"
METROPT3_ROWS = 1_516_948
METROPT3_SHA256 = "db30ccb4ea402e3c8bf2c99db06e288d4f2a772f6928f9dbe26a920d69793e24"


class MetroPT3Failure(NamedTuple):
    """One published failure interval; ``end`` as published, to the minute (the whole minute counts)."""

    start: pd.Timestamp
    end: pd.Timestamp
    type: str


METROPT3_FAILURES = tuple(MetroPT3Failure(pd.Timestamp(start), pd.Timestamp(end), "air_leak") for start, end in (
    ("2020-04-18 00:00", "2020-04-18 23:59"),
    ("2020-05-29 23:30", "2020-05-30 06:00"),
    ("2020-06-05 10:00", "2020-06-07 14:30"),
    ("2020-07-15 14:30", "2020-07-15 19:00"),
))
"""The four air-leak intervals of the UCI page's failure information; ``pd.DataFrame(METROPT3_FAILURES)``
gives the columns ``start``, ``end``, ``type``."""

_METROPT3_GET = (
    f"sadlib does not download MetroPT-3. Get it from the UCI Machine Learning Repository, {METROPT3_URL} "
    f"(the zip holds {METROPT3_CSV}; licence CC BY 4.0), then pass its path, e.g. "
    f"load_metropt3('~/data/{METROPT3_CSV}') (the .zip works too), or set the environment variable "
    f"SADLIB_METROPT3 to that path. Without the file, use the synthetic twin sadlib.signals.make_compressor()."
)


def _metropt3_path(path: str | os.PathLike | None) -> Path:
    origin = "path"
    if path is None:
        path, origin = os.environ.get("SADLIB_METROPT3", "").strip(), "SADLIB_METROPT3"
        if not path:
            raise DatasetError(f"No MetroPT-3 file: path is None and SADLIB_METROPT3 is not set. {_METROPT3_GET}")
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(f"path must be a str or a pathlib.Path (or None to use SADLIB_METROPT3), "
                                    f"got {type(path).__name__}.")
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / METROPT3_CSV
    if not p.is_file():
        raise DatasetError(f"{origin} points to {p}, which does not exist. {_METROPT3_GET}")
    if p.suffix.lower() not in (".csv", ".zip"):
        raise DatasetError(f"{p} is neither a .csv nor a .zip file. Point {origin} at {METROPT3_CSV} or at the "
                           f"zip downloaded from {METROPT3_URL}.")
    return p


class _MetroPT3Source:
    """Opens the CSV, directly or as the CSV member of the UCI zip, as a binary stream."""

    def __init__(self, path: Path):
        self.path, self.member = path, None
        if path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as zf:
                    names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
            except zipfile.BadZipFile as exc:
                raise DatasetError(f"{path} is not a readable zip file ({exc}); download it again from "
                                   f"{METROPT3_URL}, or unzip it elsewhere and pass the CSV.") from exc
            exact = [n for n in names if n.rsplit("/", 1)[-1] == METROPT3_CSV]
            if not exact and len(names) != 1:
                raise DatasetError(f"{path} holds no {METROPT3_CSV} (CSV files in it: {names or 'none'}). "
                                   f"Pass the CSV itself, or the zip from {METROPT3_URL}.")
            self.member = (exact or names)[0]
        self.name = f"{path}" + (f" (member {self.member})" if self.member else "")

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with open(self.path, "rb") as fh:
                yield fh
        else:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
                yield fh

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.open() as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def _metropt3_usecols(source: _MetroPT3Source) -> list[str]:
    from .signals import METROPT3_CHANNELS

    try:
        with source.open() as fh:
            header = list(pd.read_csv(fh, nrows=0).columns)
    except pd.errors.EmptyDataError as exc:
        raise DatasetError(f"{source.name} is empty (no header, no rows): a failed download or copy? Download it "
                           f"again from {METROPT3_URL}.") from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DatasetError(f"{source.name} is not a readable CSV text file ({type(exc).__name__}: {exc}). Is this "
                           f"{METROPT3_CSV}? Download it again from {METROPT3_URL}.") from exc
    expected = ["timestamp", *METROPT3_CHANNELS]
    unnamed = header[:1] if header and str(header[0]).startswith("Unnamed") else []  # the file's row index
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected and c not in unnamed]
    if missing or extra:
        hints = [f"{c!r} looks like {m[0]!r}" for c in extra if (m := difflib.get_close_matches(c, missing, 1, 0.6))]
        raise DatasetError(
            f"{source.name} does not have the MetroPT-3 columns: missing {missing or 'none'}, unexpected "
            f"{extra or 'none'}{' (' + '; '.join(hints) + ')' if hints else ''}. The UCI file has an unnamed "
            f"index column, 'timestamp' and the 15 channels {', '.join(METROPT3_CHANNELS)} (spelled as there, "
            f"e.g. 'DV_eletric'). Is this {METROPT3_CSV} from {METROPT3_URL}?")
    return expected


def _first_text_cell(source: _MetroPT3Source, usecols: list[str]) -> str:
    """Where the first channel cell that is not a number is, e.g. "column 'TP3' at data row 7 holds 'abc'"."""
    from .signals import METROPT3_CHANNELS

    try:
        with source.open() as fh:
            raw = pd.read_csv(fh, usecols=usecols, dtype=str, keep_default_na=False)
    except (ValueError, TypeError):
        return ""
    for col in METROPT3_CHANNELS:
        text = raw[col].str.strip()
        bad = (pd.to_numeric(text.where(text != "", "nan"), errors="coerce").isna() & (text != "")
               & ~text.str.lower().isin(("nan", "-nan", "na", "n/a", "null", "none", "#n/a")))
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            return f"column {col!r} at data row {row} holds {raw[col].iloc[row]!r}, not a number"
    return ""


def _refuse_utc_offsets(source: _MetroPT3Source, stamps: pd.Series) -> None:
    """Raise :class:`DatasetError` if a timestamp carries a UTC offset (``Z``, ``+01:00``, ``-0300``)."""
    offset = stamps.astype(str).str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).to_numpy()
    if offset.any():
        first = int(np.argmax(offset))
        raise DatasetError(
            f"{source.name} has timestamps with a UTC offset (first at data row {first}: {stamps.iloc[first]}); the "
            f"UCI file's are local times without one, and the published failure intervals are given in them. Write "
            f"the timestamps without offset, in local time (e.g. for a DatetimeIndex idx: "
            f"idx.tz_convert('Europe/Lisbon').tz_localize(None)).")


def load_metropt3(path: str | os.PathLike | None = None, *, check_rows: bool = True,
                  verbose: bool = True) -> pd.DataFrame:
    """Load MetroPT-3, the air production unit of a Porto metro train (UCI dataset 791), with failure labels.

    sadlib does not download this file: download it once from :data:`METROPT3_URL` and pass its path
    or set ``SADLIB_METROPT3``. The file's columns and row count are checked, the published
    failure intervals (:data:`METROPT3_FAILURES`) become the ``anomaly`` column, and the file's
    sha256 is computed so that you can compare it with the one in ``datasets/metropt3.md``.

    Parameters
    ----------
    path : str, pathlib.Path or None
        ``MetroPT3(AirCompressor).csv``, the zip from UCI that holds it, or a folder holding the CSV.
        ``None`` (default) uses the environment variable ``SADLIB_METROPT3``.
    check_rows : bool
        If True (default), a file whose row count differs from the UCI file's
        (:data:`METROPT3_ROWS` = 1,516,948) raises :class:`DatasetError`. Pass False to load a
        subset or an edited copy on purpose.
    verbose : bool
        If True (default), print the row count, the time range, the number of labelled rows and the
        sha256, next to the sha256 of the UCI file (:data:`METROPT3_SHA256`).

    Returns
    -------
    pandas.DataFrame
        One row per sample (about every 10 s), indexed by a sorted, unique DatetimeIndex
        ``"timestamp"`` (as in the file, no time zone): the 15 channels of
        :data:`sadlib.signals.METROPT3_CHANNELS` in that order (the 7 analogue ones float64, the 8
        digital ones int64 0/1, as in the twin :func:`sadlib.signals.make_compressor`) and the int64
        column ``anomaly``, 1 for rows with
        ``start <= timestamp < end + 1 min`` of a published failure (the table gives minutes, so
        its last minute counts), else 0. The file's unnamed index column is dropped.
        ``df.attrs`` holds ``"sha256"`` (of the CSV, also when it is read from the zip),
        ``"source"`` (the path read) and ``"failures"`` (:data:`METROPT3_FAILURES` as a list).

    Raises
    ------
    DatasetError
        if there is no file (the message says where to download it), if the file is empty, not text,
        or has a header but no rows, if columns are missing or unexpected, if the row count differs
        (unless ``check_rows=False``), or if the file has empty, infinite or non-numeric values,
        digital channels other than 0/1, or timestamps that are unsorted, repeated or carry a UTC
        offset.
    InvalidParameterError
        for a ``path``, ``check_rows`` or ``verbose`` of the wrong type.

    Examples
    --------
    >>> df = load_metropt3("~/data/MetroPT3(AirCompressor).csv")  # doctest: +SKIP
    >>> events = pd.DataFrame(METROPT3_FAILURES)                   # start, end, type
    """
    from .signals import METROPT3_CHANNELS, METROPT3_DIGITAL

    check_rows, verbose = check_bool("check_rows", check_rows), check_bool("verbose", verbose)
    source = _MetroPT3Source(_metropt3_path(path))
    usecols = _metropt3_usecols(source)
    try:
        with source.open() as fh:
            df = pd.read_csv(fh, usecols=usecols, dtype={c: "float64" for c in METROPT3_CHANNELS})
        stamps = df.pop("timestamp")
        try:
            df.index = pd.DatetimeIndex(pd.to_datetime(stamps, format="ISO8601"), name="timestamp")
        except ValueError:  # mixed UTC offsets (summer/winter time) fail to parse: say so
            _refuse_utc_offsets(source, stamps)
            raise
        if df.index.tz is not None:
            _refuse_utc_offsets(source, stamps)
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError and pandas' ParserError are ValueErrors
        where = _first_text_cell(source, usecols)
        raise DatasetError(f"{source.name} could not be read as MetroPT-3 ({exc}{'; ' + where if where else ''}). "
                           f"Download it again from {METROPT3_URL}.") from exc
    if len(df) == 0:
        raise DatasetError(f"{source.name} has the MetroPT-3 header but no data rows; the UCI file has "
                           f"{METROPT3_ROWS:,}. Download it again from {METROPT3_URL}.")
    if check_rows and len(df) != METROPT3_ROWS:
        raise DatasetError(f"{source.name} has {len(df):,} rows but the UCI file has {METROPT3_ROWS:,}: a partial "
                           f"download or an edited copy? Download it again from {METROPT3_URL}, or pass "
                           f"check_rows=False to load a subset on purpose.")
    for what, bad in (("empty", df.isna()), ("infinite (inf, -inf or out of float range, e.g. 1e400)",
                                             np.isinf(df.to_numpy()))):
        bad = np.asarray(bad)
        if bad.any():
            counts = ", ".join(f"{c} ({n})" for c, n in zip(df.columns, bad.sum(axis=0)) if n)
            row, col = (int(i[0]) for i in np.nonzero(bad))
            raise DatasetError(f"{source.name} has {what} values in {counts}; the first is column "
                               f"{df.columns[col]!r} at data row {row} (timestamp {df.index[row]}). The UCI file "
                               f"has none. Download it again from {METROPT3_URL}.")
    try:
        check_time_index(df, name=f"MetroPT-3 file {source.name}")
    except ValueError as exc:
        raise DatasetError(f"{exc} The UCI file is sorted with unique timestamps.") from exc
    df = df[list(METROPT3_CHANNELS)]
    not_binary = [c for c in METROPT3_DIGITAL if not df[c].isin((0.0, 1.0)).all()]
    if not_binary:
        raise DatasetError(f"{source.name}: the digital channel(s) {not_binary} hold values other than 0 and 1; "
                           f"in the UCI file they are 0/1. Download it again from {METROPT3_URL}.")
    df = df.astype({c: "int64" for c in METROPT3_DIGITAL})
    inside = np.zeros(len(df), dtype=bool)
    for failure in METROPT3_FAILURES:
        inside |= (df.index >= failure.start) & (df.index < failure.end + pd.Timedelta(minutes=1))
    df["anomaly"] = inside.astype("int64")
    sha = source.sha256()
    df.attrs.update(sha256=sha, source=str(source.path), failures=list(METROPT3_FAILURES))
    if verbose:
        span = f"{df.index[0]} to {df.index[-1]}" if len(df) else "no rows"
        same = ("they match: this is the file the card describes" if sha == METROPT3_SHA256 else
                "they DIFFER: this copy is not the file the card describes, so results may not compare")
        print(f"MetroPT-3: {len(df):,} rows from {source.name} ({span}); {int(inside.sum()):,} rows inside the "
              f"{len(METROPT3_FAILURES)} published air-leak intervals (anomaly = 1).\n"
              f"sha256 {sha}\nUCI    {METROPT3_SHA256} (datasets/metropt3.md): {same}.")
    return df
