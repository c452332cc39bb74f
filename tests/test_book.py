"""The course site (``make book``): built from the committed notebooks, every warning an error.

The real site is built once (about 15 s on 2 cores); small made-up courses show that the build
fails on a broken link to a notebook, a section or a figure, and that the repository address comes
from one place, ``[project.urls] Homepage`` in ``pyproject.toml``. The cheat sheet's Python
examples are run, so the page cannot drift from the library.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
PAGES = sorted((ROOT / "instructors").glob("*.md"))


def build(source: Path, out: Path) -> subprocess.CompletedProcess:
    """Run ``make book``'s command on ``source`` (a course laid out like this repository)."""
    if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None:
        pytest.fail("Sphinx and myst-nb are missing: the course site needs the docs extra, "
                    "pip install -e '.[docs]' (make test installs it with the test extra).")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-c", str(source / "docs"),
               "-b", "html", "-d", str(out / ".doctrees"), str(source), str(out / "html")]
    return subprocess.run(command, capture_output=True, text=True, cwd=source, timeout=600)


def repository() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Homepage"].rstrip("/")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    result = build(ROOT, out)
    assert result.returncode == 0 and not result.stderr.strip(), (
        f"make book failed or warned (every warning is an error):\n{result.stderr}{result.stdout}")
    return out / "html"


def test_every_notebook_and_instructor_page_is_on_the_site(site):
    for source in NOTEBOOKS + PAGES + [ROOT / "README.md", ROOT / "CONTRIBUTING.md", DOCS / "cheatsheet.md"]:
        page = site / source.relative_to(ROOT).with_suffix(".html")
        assert page.is_file(), f"{source.relative_to(ROOT)} has no page on the site"


def test_entry_page_leads_to_the_readme_with_the_syllabus(site):
    assert 'url=README.html"' in (site / "index.html").read_text(encoding="utf-8")
    assert (site / ".nojekyll").is_file()  # GitHub Pages would hide _static/ and _images/ without it
    home = (site / "README.html").read_text(encoding="utf-8")
    assert "Syllabus" in home
    for notebook in NOTEBOOKS:  # the syllabus table and the navigation link every notebook's page
        assert f'href="{notebook.parent.name}/{notebook.stem}.html"' in home, notebook.name


def test_notebook_pages_keep_their_colab_badge_and_committed_outputs(site):
    from sadlib.course.publishing import release_tag

    # the notebooks' own badges point at the release tag (sadlib.course.publishing), the theme's launch button at main
    badge = "https://colab.research.google.com/github/{}/blob/" + release_tag(ROOT) + "/{}"
    owner_name = repository().removeprefix("https://github.com/")
    for notebook in NOTEBOOKS:
        relative = notebook.relative_to(ROOT)
        html = (site / relative.with_suffix(".html")).read_text(encoding="utf-8")
        assert "colab-badge.svg" in html, f"{relative}: the Colab badge is missing"
        assert badge.format(owner_name, relative.as_posix()) in html, f"{relative}: no Colab link to itself"
    # not re-executed: the figures on the page are the committed outputs
    nb = json.loads(NOTEBOOKS[1].read_text(encoding="utf-8"))
    committed = sum("image/png" in out.get("data", {}) for cell in nb["cells"] for out in cell.get("outputs", []))
    page = (site / NOTEBOOKS[1].relative_to(ROOT).with_suffix(".html")).read_text(encoding="utf-8")
    assert committed > 0 and len(re.findall(r'<img[^>]+src="\.\./_images/', page)) >= committed


def test_search_index_covers_the_notebooks(site):
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    assert "notebooks/02_evaluating_detectors" in index and "instructors/README" in index


# --------------------------------------------------------------------------- a made-up course
def small_course(tmp_path: Path, homepage: str, readme: str) -> Path:
    """A course with this repository's docs/ and one notebook, exercise and instructor page."""
    course = tmp_path / "course"
    shutil.copytree(DOCS, course / "docs", ignore=shutil.ignore_patterns("_build"))
    (course / "pyproject.toml").write_text(f'[project]\nname = "x"\n[project.urls]\nHomepage = "{homepage}"\n')
    (course / "README.md").write_text(readme)
    notebook = {
        "cells": [{"cell_type": "markdown", "id": "title", "metadata": {},
                   "source": "# 00 · Tour\n\n## 1. Start\n\n$x^2$"},
                  {"cell_type": "code", "id": "sum", "metadata": {}, "execution_count": 1, "source": "1 + 1",
                   "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                                "data": {"text/plain": "2"}}]}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    for folder, name in (("notebooks", "00_tour"), ("exercises", "00_tour_exercises")):
        (course / folder).mkdir()
        (course / folder / f"{name}.ipynb").write_text(json.dumps(notebook))
    (course / "instructors").mkdir()
    (course / "instructors" / "README.md").write_text(
        "# Guide\n\n## How it works\n\n[tour](../notebooks/00_tour.ipynb)\n")
    (course / "instructors" / "00_tour.md").write_text("# 00 notes\n\n[minutes](README.md#how-it-works)\n")
    for page in ("datasets/README", "datasets/skab", "datasets/nab", "datasets/metropt3", "datasets/compressor_twin",
                 "benchmarks/README", "requirements/README", "CONTRIBUTING", "instructors/survey"):
        (course / page).parent.mkdir(exist_ok=True)
        (course / f"{page}.md").write_text(f"# {page}\n")
    return course


GOOD_README = "# Course\n\n[tour](notebooks/00_tour.ipynb), [its start](notebooks/00_tour.ipynb#1-start), " \
              "[results](benchmarks/), [guide](instructors/README.md#how-it-works)\n"


def test_repository_address_comes_from_pyproject(tmp_path):
    course = small_course(tmp_path, "https://github.com/example-org/example-course", GOOD_README)
    result = build(course, tmp_path / "out")
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    page = (tmp_path / "out" / "html" / "notebooks" / "00_tour.html").read_text(encoding="utf-8")
    colab = "https://colab.research.google.com/github/example-org/example-course/blob/main/notebooks/00_tour.ipynb"
    assert colab in page  # the theme's launch button
    home = (tmp_path / "out" / "html" / "README.html").read_text(encoding="utf-8")
    assert 'href="https://github.com/example-org/example-course/tree/main/benchmarks"' in home  # a folder link
    assert "sadlib-course" not in page + home


def test_broken_links_to_a_notebook_a_section_or_a_figure_fail_the_build(tmp_path):
    readme = GOOD_README + ("\n[missing](notebooks/99_missing.ipynb) [no section](instructors/README.md#no-such-part)"
                            "\n\n![a figure](figures/missing.png)\n")
    course = small_course(tmp_path, "https://github.com/example-org/example-course", readme)
    result = build(course, tmp_path / "out")
    assert result.returncode != 0
    for target in ("notebooks/99_missing.ipynb", "no-such-part", "figures/missing.png"):
        assert target in result.stderr, f"{target} was not reported:\n{result.stderr}"


def test_a_homepage_that_is_not_on_github_is_refused(tmp_path):
    course = small_course(tmp_path, "https://example.org/course", GOOD_README)
    result = build(course, tmp_path / "out")
    assert result.returncode != 0 and "https://github.com/OWNER/NAME" in result.stderr + result.stdout


def test_cheat_sheet_examples_run(monkeypatch):
    monkeypatch.setenv("SADLIB_FAST", "1")
    text = (DOCS / "cheatsheet.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOCS / "cheatsheet.md"), "exec"), namespace)
    assert namespace["alarm"].dtype == bool and set(namespace["result"]) == set(namespace["table"].columns)
