"""Sphinx configuration of the course site (``make book``).

The site is built from the committed files as they are: the source folder is the repository root
(``sphinx-build -c docs . docs/_build/html``), so the README's and the instructor pages' relative
links between notebooks and pages resolve as they do on GitHub, and no notebook is executed
(``nb_execution_mode = "off"``: the committed full-mode outputs are shown).

The README is the site's home page (``root_doc``); the navigation is the toctree in
``docs/toc.md``, which is appended to the README when Sphinx reads it, so the README itself stays
free of Sphinx syntax. ``index.html`` sends a browser on to it. A relative link to a repository file
that is not a page of the site (a script, a JSON file) is a download, one to a folder a link to the
folder in the repository; a link to a page, section, file or figure that does not exist is a
warning, and ``make book`` turns every warning into an error.

The repository address is read from ``[project.urls] Homepage`` in ``pyproject.toml``: the one
place a publisher edits (see the README).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from docutils import nodes
from sphinx import addnodes

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent


def _repository() -> tuple[str, str]:
    """Return the GitHub address of the course and its ``owner/name`` from ``pyproject.toml``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Homepage"].rstrip("/")
    parts = urlsplit(url)
    path = parts.path.strip("/").removesuffix(".git")
    if parts.netloc != "github.com" or path.count("/") != 1:
        raise ValueError(
            f"[project.urls] Homepage in pyproject.toml is {url!r}; the course site needs a GitHub "
            "address of the form https://github.com/OWNER/NAME (Colab opens notebooks from GitHub)"
        )
    return f"https://github.com/{path}", path


REPOSITORY_URL, REPOSITORY = _repository()
BRANCH = "main"

project = "Anomaly detection in industrial sensor data"
author = "Sensor anomaly detection course team"
copyright = "the course authors, MIT License"

# githubpages writes .nojekyll, so GitHub Pages serves the _static and _images folders
extensions = ["myst_nb", "sphinx.ext.githubpages"]

# Only these files are pages of the site; everything else in the repository is ignored.
root_doc = "README"
include_patterns = [
    "README.md",
    "CONTRIBUTING.md",
    "notebooks/*.ipynb",
    "exercises/*.ipynb",
    "instructors/*.md",
    "datasets/*.md",
    "benchmarks/README.md",
    "requirements/README.md",
    "docs/*.md",
]
exclude_patterns = ["docs/_build", "docs/toc.md", ".venv"]

# Notebooks are shown with their committed outputs; the site never runs them.
nb_execution_mode = "off"
nb_merge_streams = True
# The committed notebooks were run without widgets; their progress bars are plain text.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
# "page.md#section-title" links, as on GitHub, resolve to the section (and fail when it is missing).
myst_heading_anchors = 4

html_theme = "sphinx_book_theme"
html_title = "Sensor anomaly detection course"
html_static_path: list[str] = []
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_source_button": True,
    "use_download_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
# The theme's source button links to GitHub; Sphinx's copy of the sources is not needed.
html_show_sourcelink = False


# a link with a scheme (https:, mailto:, path:) is MyST's business, not a repository path
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _append_toc(app, docname: str, source: list[str]) -> None:
    """Give the home page (the README) the site's navigation from ``docs/toc.md``."""
    if docname == root_doc:
        source[0] = source[0] + "\n\n" + (DOCS / "toc.md").read_text(encoding="utf-8")


def _link_folders_to_repository(app, doctree) -> None:
    """Turn a relative link to a repository folder (``[benchmarks/](benchmarks/)``) into a GitHub link.

    MyST makes a link to a page a cross-reference and a link to another existing file a download;
    a folder is neither, and would be reported as a broken reference. A link to a path that does
    not exist is left alone, so it is still reported.
    """
    for node in list(doctree.findall(addnodes.pending_xref)):
        target = node.get("reftarget", "")
        if node.get("reftype") != "myst" or node.get("refdomain") or not target or _SCHEME.match(target):
            continue
        path = (ROOT / node.get("refdoc", app.env.docname)).parent / target.split("#", 1)[0]
        try:
            relative = path.resolve().relative_to(ROOT)
        except ValueError:
            continue
        if path.is_dir():
            url = f"{REPOSITORY_URL}/tree/{BRANCH}/{relative.as_posix()}"
            reference = nodes.reference("", "", internal=False, refuri=url)
            reference += node.children
            node.replace_self(reference)


def _write_entry_page(app, exception) -> None:
    """Write ``index.html``, which sends a browser to the home page (the README)."""
    if exception is None and app.builder.name == "html":
        home = f"{root_doc}.html"
        (Path(app.outdir) / "index.html").write_text(
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html_title}</title>'
            f'<meta http-equiv="refresh" content="0; url={home}"></head>'
            f'<body><a href="{home}">{html_title}</a></body></html>\n',
            encoding="utf-8",
        )


def setup(app):
    app.connect("source-read", _append_toc)
    app.connect("doctree-read", _link_folders_to_repository)
    app.connect("build-finished", _write_entry_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
