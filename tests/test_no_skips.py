"""Under ``make test`` (SADLIB_NO_SKIPS=1) a skipped test fails the run; a plain pytest run still skips."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(tmp_path, **env):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_missing_package.py").write_text(
        "import pytest\npytest.importorskip('no_such_package_for_sadlib')\n\ndef test_a():\n    pass\n")
    (tmp_path / "test_skip_inside.py").write_text("import pytest\n\ndef test_b():\n    pytest.skip('no data')\n")
    environ = {k: v for k, v in os.environ.items() if k != "SADLIB_NO_SKIPS"} | env
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
               "--continue-on-collection-errors", str(tmp_path)]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=300)


def test_a_skip_fails_under_make_test(tmp_path):
    result = _run(tmp_path, SADLIB_NO_SKIPS="1")
    assert result.returncode != 0
    assert "no_such_package_for_sadlib" in result.stdout and "no data" in result.stdout
    assert "skipped under SADLIB_NO_SKIPS=1" in result.stdout


def test_a_plain_run_skips_with_the_reason(tmp_path):
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "2 skipped" in result.stdout
