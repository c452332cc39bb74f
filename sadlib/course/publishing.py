"""Where the course is published: one repository address, set once, written wherever it appears.

The address lives in one setting, ``[project.urls] Homepage`` in ``pyproject.toml`` (the site
builder reads it too). The notebooks' Colab badges, their Colab install line and the exercise
notebook generator (``sadlib/course/exercises/notebook.py``) spell it out, because a notebook opened on
Colab has nothing else to read it from. This module writes the setting into them::

    # after changing Homepage in pyproject.toml, e.g. to https://github.com/my-org/my-course
    python -m sadlib.course.publishing            # rewrite every badge and install line
    python -m sadlib.course.publishing --check    # exit 1 and list the files that disagree (the tests run this)

Only GitHub addresses work: Colab opens notebooks from GitHub.

The badges and install lines are pinned to the release tag ``v<version>`` (``[project] version``), not to
``main``: a learner opening a notebook on Colab gets that release's notebook and library, whatever lands on
``main`` later (tag the published commit: ``git tag v0.1.0 && git push origin v0.1.0``). The dev container
(``.devcontainer/devcontainer.json``: Python 3.11, the lab lock installed, JupyterLab's port forwarded) is
written from the same settings.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

__all__ = ["repository", "release_tag", "devcontainer", "files_to_update", "propagate", "main"]

ROOT = Path(__file__).resolve().parents[2]  # sadlib/course/publishing.py -> the repository
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)/?$")
# a GitHub owner/name inside a Colab badge link or a pip install line
_REPO = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"
# group 2: owner/name; group 3: the ref (a badge's branch or tag, an install line's @ref), replaced by the tag
_PATTERNS = (
    re.compile(rf"(colab\.research\.google\.com/github/)({_REPO})(/blob/[^/\s\"')]+)(?=/)"),
    re.compile(rf"(git\+https://github\.com/)({_REPO})(@[^\s\"'\\]+)?(?=[\"'\s\\])"),
)
_VERSION = re.compile(r"^\d+(\.\d+)*([a-z]+\d+)?$")
DEVCONTAINER = Path(".devcontainer") / "devcontainer.json"


def repository(root: Path | str = ROOT) -> str:
    """``owner/name`` of the course's GitHub repository, from ``pyproject.toml``'s ``Homepage``.

    Raises
    ------
    ValueError
        when the setting is missing or not a GitHub address, with what to write instead.
    """
    path = Path(root) / "pyproject.toml"
    with path.open("rb") as f:
        homepage = tomllib.load(f).get("project", {}).get("urls", {}).get("Homepage", "")
    match = _GITHUB.match(homepage.strip())
    if not match:
        raise ValueError(f"{path}: [project.urls] Homepage is {homepage!r}; set it to the course's GitHub "
                         f"address, e.g. 'https://github.com/my-org/my-course' (Colab opens notebooks from GitHub).")
    return match.group(1)


def release_tag(root: Path | str = ROOT) -> str:
    """The git tag the badges and install lines point at: ``v`` and ``[project] version`` of ``pyproject.toml``.

    Raises
    ------
    ValueError
        when the version is missing or not a release number, with what to write instead.
    """
    path = Path(root) / "pyproject.toml"
    with path.open("rb") as f:
        version = str(tomllib.load(f).get("project", {}).get("version", ""))
    if not _VERSION.match(version):
        raise ValueError(f"{path}: [project] version is {version!r}; set it to the release the notebooks' badges "
                         f"point at, e.g. version = \"0.1.0\" (tagged v0.1.0 on GitHub).")
    return f"v{version}"


def devcontainer(root: Path | str = ROOT) -> str:
    """The text of ``.devcontainer/devcontainer.json``: Python 3.11, ``make install`` (the lab lock), port 8888."""
    name = repository(root).split("/")[1]
    config = {
        "name": name,
        "image": "mcr.microsoft.com/devcontainers/python:1-3.11-bookworm",
        # the same install as make lab: a .venv with requirements/lab.lock.txt's versions and the Jupyter kernel
        "postCreateCommand": "make install",
        "forwardPorts": [8888],
        "portsAttributes": {"8888": {"label": "JupyterLab", "onAutoForward": "openBrowser"}},
        "postAttachCommand": "echo 'Start JupyterLab: make lab LAB_ARGS=\"--no-browser --ip 0.0.0.0 --port 8888\"'",
        "customizations": {
            "vscode": {
                "extensions": ["ms-python.python", "ms-toolsai.jupyter"],
                "settings": {"python.defaultInterpreterPath": "${containerWorkspaceFolder}/.venv/bin/python"},
            },
            "codespaces": {"openFiles": ["notebooks/00_setup_and_tour.ipynb"]},
        },
    }
    return ("// Written by python -m sadlib.course.publishing from pyproject.toml; edit that module, not this file.\n"
            + json.dumps(config, indent=2) + "\n")


def _targets(root: Path) -> list[Path]:
    return sorted([*root.glob("notebooks/*.ipynb"), *root.glob("exercises/*.ipynb"),
                   root / "sadlib" / "course" / "exercises" / "notebook.py"])


def _rewritten(text: str, repo: str, tag: str) -> str:
    badge, install = _PATTERNS
    text = badge.sub(lambda m: f"{m.group(1)}{repo}/blob/{tag}", text)
    return install.sub(lambda m: f"{m.group(1)}{repo}@{tag}", text)


def _wanted(root: Path) -> dict[Path, str]:
    """Every target file's text as it should be."""
    repo, tag = repository(root), release_tag(root)
    wanted = {p: _rewritten(p.read_text(encoding="utf-8"), repo, tag) for p in _targets(root) if p.is_file()}
    wanted[root / DEVCONTAINER] = devcontainer(root)
    return wanted


def files_to_update(root: Path | str = ROOT) -> list[Path]:
    """The files whose badges or install lines name another repository or release than :func:`repository` and
    :func:`release_tag`, and the dev container when it is missing or differs."""
    root = Path(root)
    return [p for p, text in _wanted(root).items()
            if not p.is_file() or p.read_text(encoding="utf-8") != text]


def propagate(root: Path | str = ROOT) -> list[Path]:
    """Write :func:`repository` and :func:`release_tag` into every badge, install line and the dev container;
    return the files changed."""
    root = Path(root)
    changed = []
    for path, text in _wanted(root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sadlib.course.publishing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only list the files that disagree; exit 1 if any")
    parser.add_argument("--root", default=str(ROOT), help="the course repository (default: this checkout)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    try:
        repo = f"{repository(root)} at {release_tag(root)}"
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stale = files_to_update(root)
    if args.check:
        for path in stale:
            print(f"{path.relative_to(root)}: names another repository or release than {repo}")
        return 1 if stale else 0
    for path in propagate(root):
        print(f"updated {path.relative_to(root)} -> {repo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
