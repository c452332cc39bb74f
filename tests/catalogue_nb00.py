"""Red-team catalogue of exercises 00 (issue 26): two named wrong answers and one unconventional right answer
per question. Q2's answers carry the cell's source as ``In`` (IPython's history), which the check re-runs in the
other mode."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
from catalogue import Entry

from sadlib.course.exercises import nb00


def _valve():
    from sadlib.datasets import load_skab_file

    return load_skab_file("valve1/0")


def _epochs(code: str) -> dict:
    """The value a cell of ``code`` gives in the current mode, with the cell's source as IPython's ``In``."""
    ns: dict = {}
    exec(code, ns)
    return {"epochs": ns["epochs"], "In": ["", code]}


def _typed_in() -> dict:
    from sadlib.course.modes import choose

    return _epochs(f"epochs = {choose(full=50, fast=3)}")  # the right number for this mode, typed in


def _period(index) -> float:
    return index.to_series().diff().median().total_seconds()


ENTRIES = [
    # Q1: the number of CPU cores
    Entry(nb00, 1, "wrong", "a float", lambda: {"n_cores": float(os.cpu_count())}, ("should be an int",)),
    Entry(nb00, 1, "wrong", "a string", lambda: {"n_cores": str(os.cpu_count())}, ("should be an int",)),
    Entry(nb00, 1, "wrong", "one core more", lambda: {"n_cores": os.cpu_count() + 1}, ("number of CPU cores",)),
    Entry(nb00, 1, "right", "multiprocessing as a NumPy int",
          lambda: {"n_cores": np.int64(multiprocessing.cpu_count())}),
    # Q2: epochs computed with the mode
    Entry(nb00, 2, "wrong", "typed-in number", _typed_in, ("both modes", "choose(full=50, fast=3)")),
    Entry(nb00, 2, "wrong", "floats", lambda: _epochs("from sadlib.course.modes import choose\n"
                                                      "epochs = choose(full=50.0, fast=3.0)"), ("should be an int",)),
    Entry(nb00, 2, "wrong", "modes swapped", lambda: _epochs("from sadlib.course.modes import choose\n"
                                                             "epochs = choose(full=3, fast=50)"), ("mode",)),
    Entry(nb00, 2, "right", "is_fast conditional", lambda: _epochs("from sadlib.course.modes import is_fast\n"
                                                                   "epochs = 3 if is_fast() else 50")),
    # Q3: the rows of SKAB valve1/0 left for testing
    Entry(nb00, 3, "wrong", "all rows", lambda: {"n_test_rows": len(_valve())}, ("every row", "400 training rows")),
    Entry(nb00, 3, "wrong", "the training rows", lambda: {"n_test_rows": 400}, ("training rows",)),
    Entry(nb00, 3, "wrong", "a float", lambda: {"n_test_rows": float(len(_valve()) - 400)}, ("should be an int",)),
    Entry(nb00, 3, "right", "shape of the slice", lambda: {"n_test_rows": np.int64(_valve().iloc[400:].shape[0])}),
    # Q4: the median sampling period in seconds
    Entry(nb00, 4, "wrong", "minutes", lambda: {"period_seconds": _period(_valve().index) / 60}, ("minutes",)),
    Entry(nb00, 4, "wrong", "a Timedelta", lambda: {"period_seconds": _valve().index.to_series().diff().median()},
          ("total_seconds",)),
    Entry(nb00, 4, "wrong", "raw integer timestamps",
          lambda: {"period_seconds": float(np.median(np.diff(_valve().index.asi8)))}, ("asi8", "for seconds")),
    Entry(nb00, 4, "right", "median of datetime64 differences",
          lambda: {"period_seconds": np.median(np.diff(_valve().index.to_numpy())) / np.timedelta64(1, "s")}),
]
