"""Where the course is published: one repository address, set once, written wherever it appears.

The address lives in one setting, ``[project.urls] Homepage`` in ``pyproject.toml`` (the site
builder reads it too). The notebooks' Colab badges, their Colab install line and the exercise
notebook generator (``sadlib/exercises/notebook.py``) spell it out, because a notebook opened on
Colab has nothing else to read it from. This module writes the setting into them::

    # after changing Homepage in pyproject.toml, e.g. to https://github.com/my-org/my-course
    python -m sadlib.publishing            # rewrite every badge and install line
    python -m sadlib.publishing --check    # exit 1 and list the files that disagree (the tests run this)

Only GitHub addresses work: Colab opens notebooks from GitHub.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

__all__ = ["repository", "files_to_update", "propagate", "main"]

ROOT = Path(__file__).resolve().parents[1]
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)/?$")
# a GitHub owner/name inside a Colab badge link or a pip install line
_REPO = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"
_PATTERNS = (
    re.compile(rf"(colab\.research\.google\.com/github/)({_REPO})(/blob/)"),
    re.compile(rf"(git\+https://github\.com/)({_REPO})(?=[\"'\s\\])"),
)


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


def _targets(root: Path) -> list[Path]:
    return sorted([*root.glob("notebooks/*.ipynb"), *root.glob("exercises/*.ipynb"),
                   root / "sadlib" / "exercises" / "notebook.py"])


def _rewritten(text: str, repo: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + repo + (m.group(3) if m.lastindex == 3 else ""), text)
    return text


def files_to_update(root: Path | str = ROOT) -> list[Path]:
    """The files whose badges or install lines name another repository than :func:`repository`."""
    root = Path(root)
    repo = repository(root)
    return [p for p in _targets(root) if p.is_file() and _rewritten(t := p.read_text(encoding="utf-8"), repo) != t]


def propagate(root: Path | str = ROOT) -> list[Path]:
    """Write :func:`repository` into every badge and install line; return the files changed."""
    root = Path(root)
    repo = repository(root)
    changed = []
    for path in _targets(root):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = _rewritten(text, repo)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sadlib.publishing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only list the files that disagree; exit 1 if any")
    parser.add_argument("--root", default=str(ROOT), help="the course repository (default: this checkout)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    try:
        repo = repository(root)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stale = files_to_update(root)
    if args.check:
        for path in stale:
            print(f"{path.relative_to(root)}: names another repository than {repo}")
        return 1 if stale else 0
    for path in propagate(root):
        print(f"updated {path.relative_to(root)} -> {repo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
