"""The science never imports the course: ``sadlib.course`` stays out of a practitioner's process.

See CONTRIBUTING.md (the layout table) for what each part of the package may import.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sadlib"
COURSE = PACKAGE / "course"
SCIENCE = ("sadlib", "sadlib.detectors", "sadlib.metrics", "sadlib.alarms", "sadlib.thresholds", "sadlib.signals",
           "sadlib.datasets", "sadlib.windows", "sadlib.streaming", "sadlib.edge")


def _loaded_after_import(modules) -> list[str]:
    """The ``sadlib*`` modules in ``sys.modules`` of a fresh interpreter after importing ``modules``."""
    code = f"import json, sys\nimport {', '.join(modules)}\n" \
           "print(json.dumps(sorted(m for m in sys.modules if m == 'sadlib' or m.startswith('sadlib.'))))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_importing_the_science_loads_no_course_module():
    loaded = _loaded_after_import(SCIENCE)
    assert "sadlib.detectors" in loaded and "sadlib.edge" in loaded  # the imports did happen, from this checkout
    assert [m for m in loaded if m == "sadlib.course" or m.startswith("sadlib.course.")] == []


def test_the_probe_sees_a_course_module_when_one_is_imported():
    """The check above can fail: importing the course shows up in the same probe."""
    loaded = _loaded_after_import(["sadlib.detectors", "sadlib.course.modes"])
    assert "sadlib.course" in loaded and "sadlib.course.modes" in loaded


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def course_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """The imports of ``sadlib.course`` (or its modules) in the source of ``module``, absolute or relative."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            names = [name] + [f"{name}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [f"line {node.lineno}: {n}" for n in names if n == "sadlib.course" or n.startswith("sadlib.course.")]
    return sorted(set(found))


def test_no_science_module_imports_the_course():
    science = [p for p in sorted(PACKAGE.rglob("*.py")) if COURSE not in p.parents]
    assert len(science) > 20
    offenders = {}
    for path in science:
        found = course_imports(path.read_text(encoding="utf-8"), _module_name(path), path.name == "__init__.py")
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, (
        "these modules outside sadlib/course/ import the course package; the science must not depend on it "
        "(let the caller pass sizes instead of reading the fast-mode switch): " + repr(offenders))


@pytest.mark.parametrize("source, expected", [
    ("from ..course.modes import choose", ["line 1: sadlib.course.modes", "line 1: sadlib.course.modes.choose"]),
    ("from .. import course", ["line 1: sadlib.course"]),
    ("import sadlib.course.claims as c", ["line 1: sadlib.course.claims"]),
    ("def f():\n    from sadlib.course import modes", ["line 2: sadlib.course", "line 2: sadlib.course.modes"]),
    ("from ..environment import import_keras\nfrom sadlib import metrics", []),
])
def test_the_ast_check_finds_course_imports_in_every_form(source, expected):
    assert course_imports(source, "sadlib.detectors.probe") == expected


def test_relative_imports_resolve_from_a_package_init():
    assert course_imports("from . import course", "sadlib", is_package=True) == ["line 1: sadlib.course"]
    assert course_imports("from . import course", "sadlib.detectors", is_package=True) == []
