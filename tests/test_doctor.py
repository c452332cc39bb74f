"""Tests of ``python -m sadlib.course.doctor``: broken or missing pieces fail with their fix, a ready machine passes."""

from __future__ import annotations

import csv
import importlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from collections import namedtuple
from importlib.resources import files
from pathlib import Path

import pytest

from sadlib.course import doctor

ROWS = list(csv.DictReader(files("sadlib").joinpath("dataset_registry.tsv").read_text().splitlines(),
                           delimiter="\t"))
COUNTS = {d: sum(r["dataset"] == d for r in ROWS) for d in ("skab", "nab")}


def by_name(checks):
    return {c.name: c for c in checks}


@pytest.fixture
def break_import(monkeypatch):
    """``break_import("sklearn", ImportError("..."))``: importing that module raises."""
    real = importlib.import_module

    def install(module, exc):
        def fake(name, package=None):
            if name == module:
                raise exc
            return real(name, package)

        monkeypatch.setattr(importlib, "import_module", fake)

    return install


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """An empty cache folder and no offline mirror."""
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SADLIB_DATA_DIR", raising=False)
    return tmp_path / "cache"


def test_check_line_format():
    ok = doctor.Check("package numpy", True, "2.4")
    bad = doctor.Check("data nab", False, "3 missing", "python -m sadlib.course.doctor --prefetch")
    warn = doctor.Check("package onnx", False, "not installed", "pip install onnx", required=False)
    assert str(ok) == "PASS  package numpy: 2.4"
    assert str(bad) == "FAIL  data nab: 3 missing\n      fix: python -m sadlib.course.doctor --prefetch"
    assert warn.status == "WARN"
    assert doctor.exit_code([ok, warn]) == 0 and doctor.exit_code([ok, warn, bad]) == 1
    assert doctor.report([ok, bad]).splitlines()[-1].startswith("NOT READY: 1 of 2 checks failed")


def test_broken_package_fails_with_reinstall_fix(break_import):
    break_import("sklearn", ImportError("cannot import name '_check_array' (broken wheel)"))
    checks = doctor.run_checks(items=["packages"])
    found = by_name(checks)["package scikit-learn"]
    assert found.status == "FAIL"
    assert "import sklearn failed: ImportError: cannot import name '_check_array'" in found.detail
    assert "-m pip install --force-reinstall 'scikit-learn>=1.4'" in found.fix
    assert by_name(checks)["package numpy"].status == "PASS"
    assert doctor.exit_code(checks) == 1


def test_command_with_a_broken_numpy_fails_and_blames_numpy(tmp_path):
    fake = tmp_path / "numpy"  # shadows the real NumPy: every import of numpy fails, as after a bad upgrade
    fake.mkdir()
    (fake / "__init__.py").write_text('raise ImportError("numpy C-extensions failed to load (simulated)")\n')
    # the fake NumPy first, then this checkout (its sadlib, not another one installed in the environment)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).resolve().parents[1])])}
    run = subprocess.run([sys.executable, "-m", "sadlib.course.doctor", "--quick"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    numpy_line = lines.index("FAIL  package numpy: import numpy failed: ImportError: numpy C-extensions failed "
                             "to load (simulated)")
    assert "--force-reinstall 'numpy>=1.26'" in lines[numpy_line + 1]
    pandas_line = next(i for i, line in enumerate(lines) if line.startswith("FAIL  package pandas:"))
    assert "because numpy is broken" in lines[pandas_line]
    assert lines[pandas_line + 1] == "      fix: fix numpy first (see its line above), then run this again"
    assert any(line.startswith("FAIL  data: cannot check the data") for line in lines)
    assert lines[-1].startswith("NOT READY")
    assert "Traceback" not in run.stdout + run.stderr  # failures are reported in lines, not as crashes


def test_missing_package_fails_with_install_fix(break_import):
    break_import("pandas", ModuleNotFoundError("No module named 'pandas'", name="pandas"))
    found = by_name(doctor.run_checks(items=["packages"]))["package pandas"]
    assert found.status == "FAIL" and found.detail == "not installed"
    assert "-m pip install 'pandas>=2.1'" in found.fix and "make lab" in found.fix


def test_package_with_a_missing_dependency_is_broken_not_missing(break_import):
    break_import("matplotlib", ModuleNotFoundError("No module named 'kiwisolver'", name="kiwisolver"))
    found = by_name(doctor.run_checks(items=["packages"]))["package matplotlib"]
    assert found.status == "FAIL" and "installed but broken" in found.detail and "--force-reinstall" in found.fix


def test_missing_edge_package_is_only_a_warning(break_import):
    break_import("onnxruntime", ModuleNotFoundError("No module named 'onnxruntime'", name="onnxruntime"))
    checks = doctor.run_checks(items=["packages"])
    found = by_name(checks)["package onnxruntime"]
    assert found.status == "WARN" and "optional" in found.detail and "onnxruntime>=" in found.fix
    assert doctor.exit_code(checks) == 0


def test_too_old_package_fails_with_upgrade_fix(monkeypatch):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda d: "1.21.0" if d == "numpy" else real(d))
    found = by_name(doctor.run_checks(items=["packages"]))["package numpy"]
    assert found.status == "FAIL" and "1.21.0 is too old (needs >=1.26)" in found.detail
    assert "--upgrade 'numpy>=1.26'" in found.fix


def test_python_version(monkeypatch):
    assert doctor.run_checks(items=["python"])[0].status == "PASS"
    monkeypatch.setattr(platform, "python_version", lambda: "3.9.18")
    found = doctor.run_checks(items=["python"])[0]
    assert found.status == "FAIL" and "3.9.18" in found.detail and ">=3.11" in found.detail
    assert "make lab PYTHON=" in found.fix


def test_kernel_of_this_environment_passes():
    found = doctor.run_checks(items=["kernel"])[0]
    assert found.status == "PASS", found


def test_kernel_of_another_python_fails_with_reinstall(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/opt/elsewhere/bin/python")
    found = doctor.run_checks(items=["kernel"])[0]
    assert found.status == "FAIL" and "not this Python (/opt/elsewhere/bin/python)" in found.detail
    assert "kernelspec remove -f python3 &&" in found.fix
    assert "ipykernel install --sys-prefix --name python3 --display-name 'Python 3 (sadlib)'" in found.fix


def test_missing_kernel_fails_with_install(monkeypatch):
    monkeypatch.setattr(doctor, "KERNEL_NAME", "no-such-kernel-sadlib")
    found = doctor.run_checks(items=["kernel"])[0]
    assert found.status == "FAIL" and "no-such-kernel-sadlib" in found.detail
    assert "ipykernel install --sys-prefix --name no-such-kernel-sadlib" in found.fix


def test_colab_needs_neither_jupyterlab_nor_the_kernel(monkeypatch, break_import):
    monkeypatch.setattr(doctor, "_on_colab", lambda: True)
    monkeypatch.setattr(doctor, "KERNEL_NAME", "no-such-kernel-sadlib")
    break_import("jupyterlab", ModuleNotFoundError("No module named 'jupyterlab'", name="jupyterlab"))
    checks = by_name(doctor.run_checks(items=["packages", "kernel"]))
    assert checks["package jupyterlab"].status == "WARN"
    assert checks["package jupyterlab"].detail == "not installed (not needed on Colab)"
    assert checks["jupyter kernel no-such-kernel-sadlib"].status == "PASS"
    assert doctor.exit_code(list(checks.values())) == 0


def test_missing_data_fails_naming_prefetch_and_mirror(empty_cache):
    checks = by_name(doctor.run_checks(items=["data"]))
    for dataset, n in COUNTS.items():
        found = checks[f"data {dataset}"]
        assert found.status == "FAIL"
        assert f"{n} of {n} files not in the cache {empty_cache}" in found.detail
        assert "-m sadlib.course.doctor --prefetch" in found.fix and "SADLIB_DATA_DIR" in found.fix
    assert not empty_cache.exists() or not any(empty_cache.rglob("*.csv"))  # checking fetched nothing


@pytest.mark.needs_data
def test_prefetch_fills_the_cache_and_damage_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path))
    assert [c.status for c in doctor.run_checks(items=["data"], prefetch=True)] == ["PASS", "PASS"]
    victim = tmp_path / "skab" / "data" / "valve1" / "3.csv"
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    found = by_name(doctor.run_checks(items=["data"]))["data skab"]
    assert found.status == "FAIL" and "1 damaged" in found.detail and "data/valve1/3.csv" in found.detail
    assert "--prefetch" in found.fix and "copies them from SADLIB_DATA_DIR=" in found.fix
    assert [c.status for c in doctor.run_checks(items=["data"], prefetch=True)] == ["PASS", "PASS"]


def test_prefetch_without_mirror_or_network_reports_the_failure(empty_cache, monkeypatch):
    from sadlib import datasets

    calls = []

    def offline(dataset, repo_path):
        calls.append(repo_path)
        raise datasets.DatasetError(f"Cannot download {dataset}/{repo_path}: no network")

    monkeypatch.setattr(datasets, "fetch", offline)
    checks = doctor.run_checks(items=["data"], prefetch=True)
    assert [c.status for c in checks] == ["FAIL", "FAIL"]
    assert "--prefetch failed: Cannot download nab/" in checks[0].detail
    assert "--prefetch failed: not tried, --prefetch gave up after 3 failures in a row" in checks[1].detail
    assert len(calls) == doctor._PREFETCH_GIVE_UP  # no network: gives up after a few tries, not one per file


def test_disk_space(monkeypatch, tmp_path):
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path / "not" / "yet"))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100e9, 99e9, 1e9))
    found = doctor.run_checks(items=["disk"])[0]
    assert found.status == "WARN" and f"1.0 GB free in {tmp_path}" in found.detail and "SADLIB_CACHE_DIR" in found.fix
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100e9, 99.9e9, 0.1e9))
    assert doctor.run_checks(items=["disk"])[0].status == "FAIL"
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100e9, 50e9, 50e9))
    assert doctor.run_checks(items=["disk"])[0].status == "PASS"


def test_speed_is_compared_with_the_reference(monkeypatch):
    monkeypatch.setattr(doctor, "_train_tiny_model", lambda: 3.0 * doctor.REFERENCE_SECONDS)
    found = doctor.run_checks(items=["timing"])[0]
    assert found.status == "WARN" and "3.0 times the reference machine" in found.detail
    assert "SADLIB_FAST=1" in found.fix
    monkeypatch.setattr(doctor, "_train_tiny_model", lambda: 0.5 * doctor.REFERENCE_SECONDS)
    assert doctor.run_checks(items=["timing"])[0].status == "PASS"
    assert doctor.run_checks(items=["timing"], quick=True) == []

    def broken():
        raise RuntimeError("oneDNN crashed")

    monkeypatch.setattr(doctor, "_train_tiny_model", broken)
    found = doctor.run_checks(items=["timing"])[0]
    assert found.status == "FAIL" and "RuntimeError: oneDNN crashed" in found.detail


def test_real_timing_run_reports_a_ratio():
    found = doctor.run_checks(items=["timing"])[0]
    assert found.status in ("PASS", "WARN") and "times the reference machine" in found.detail, found


def test_keras_and_litert_items():
    keras_check, litert_check = doctor.run_checks(items=["keras", "litert"])
    assert keras_check.status == "PASS" and "tensorflow backend" in keras_check.detail
    assert litert_check.status == "PASS"


def test_bad_arguments():
    with pytest.raises(ValueError, match="items must be a list of 'python'"):
        doctor.run_checks(items=["pyhton"])
    with pytest.raises(TypeError, match="quick must be True or False"):
        doctor.run_checks(quick="yes")


@pytest.mark.needs_data
def test_ready_machine_exits_0(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SADLIB_CACHE_DIR", str(tmp_path))
    assert doctor.main(["--prefetch", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.rstrip().splitlines()[-1].startswith("READY")
    for name in ("python", "package tensorflow", "jupyter kernel python3", "data skab", "data nab", "disk"):
        assert f"PASS  {name}:" in out


def test_not_ready_machine_exits_1(empty_cache, capsys):
    assert doctor.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  data skab" in out and "NOT READY" in out
