"""Exercises for notebook 00 (setup and tour)."""

from __future__ import annotations

import os

from sadlib.exercises.checker import Question, expect_close, expect_equal, expect_type

__all__ = ["q1", "q2", "q3", "q4"]


def _check_cores(n_cores):
    expect_type(n_cores, int, "n_cores")
    expect_equal(n_cores, os.cpu_count(), "the number of CPU cores")


q1 = Question(
    1,
    "Set `n_cores` to the number of CPU cores of this machine (an int).",
    ("n_cores",),
    _check_cores,
    ["The standard library's `os` module knows it.", "`os.cpu_count()`"],
    "import os\nn_cores = os.cpu_count()",
    setup=lambda: {},
)


def _check_epochs(epochs):
    from sadlib.modes import is_fast

    expect_type(epochs, int, "epochs")
    expected = 3 if is_fast() else 50
    expect_equal(epochs, expected, "epochs in the current mode (use choose(full=50, fast=3))")


q2 = Question(
    2,
    "Use `choose` so that `epochs` is 50 in full mode and 3 in fast mode.",
    ("epochs",),
    _check_epochs,
    ["`from sadlib.modes import choose`", "`choose(full=..., fast=...)` returns one of its two arguments."],
    "from sadlib.modes import choose\nepochs = choose(full=50, fast=3)",
    setup=lambda: {},
)


def _check_test_rows(n_test_rows):
    from sadlib.datasets import load_skab_file

    expect_type(n_test_rows, int, "n_test_rows")
    expect_equal(n_test_rows, len(load_skab_file("valve1/0")) - 400, "the number of test rows")


q3 = Question(
    3,
    "SKAB's protocol fits on the first 400 rows of each file and tests on the rest. "
    "Load `valve1/0` and set `n_test_rows` to the number of rows left for testing.",
    ("n_test_rows",),
    _check_test_rows,
    ["`datasets.load_skab_file('valve1/0')` returns a DataFrame.", "Subtract the 400 training rows from `len(...)`."],
    "from sadlib import datasets\nvalve = datasets.load_skab_file('valve1/0')\nn_test_rows = len(valve) - 400",
    setup=lambda: {},
)


def _check_period(period_seconds):
    from sadlib.datasets import load_skab_file

    index = load_skab_file("valve1/0").index
    expected = index.to_series().diff().median().total_seconds()
    expect_close(float(period_seconds), expected, rtol=0.01, what="the sampling period in seconds")


q4 = Question(
    4,
    "Set `period_seconds` to the typical time between two rows of SKAB `valve1/0`, in seconds "
    "(the median of the differences between consecutive timestamps).",
    ("period_seconds",),
    _check_period,
    [
        "The index is a DatetimeIndex; `index.to_series().diff()` gives the gaps.",
        "`.median().total_seconds()` turns the median gap into seconds.",
    ],
    "from sadlib import datasets\nindex = datasets.load_skab_file('valve1/0').index\n"
    "period_seconds = index.to_series().diff().median().total_seconds()",
    setup=lambda: {},
)
