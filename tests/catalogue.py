"""The red-team catalogue's entry type, and the per-notebook entry files ``tests/catalogue_nbNN.py``.

A file ``tests/catalogue_nbNN.py`` defines ``ENTRIES``, a list of :class:`Entry`: for each question of
``sadlib.course.exercises.nbNN``, at least two named wrong answers (one of them a leak, where the question fits
anything to data) and one unconventional right answer. ``tests/test_checker_catalogue.py`` runs them all.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["Entry", "all_entries"]


@dataclass(frozen=True)
class Entry:
    """One answer: ``values()`` gives the question's variables; ``words`` must appear in a rejection's message."""

    module: Any
    number: int
    kind: str  # "wrong", "leak" or "right"
    name: str
    values: Callable[[], dict]
    words: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.module.__name__.rsplit('.', 1)[-1]}-q{self.number}-{self.kind}-{self.name.replace(' ', '-')}"


def all_entries() -> list[Entry]:
    """The entries of every ``tests/catalogue_nbNN.py``, in file order."""
    entries: list[Entry] = []
    for path in sorted(Path(__file__).parent.glob("catalogue_nb[0-9][0-9].py")):
        entries += importlib.import_module(path.stem).ENTRIES
    return entries
