"""Fast mode: one switch that shrinks every notebook for CI and quick checks.

Set the environment variable ``SADLIB_FAST=1`` (CI and ``make test`` do) and every
notebook picks its smaller settings through :func:`choose`, so fast and full runs
go through exactly the same code path with different sizes::

    n_days = choose(full=14, fast=3)
    epochs = choose(full=40, fast=2)
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

ENV_VAR = "SADLIB_FAST"
_FALSE = {"", "0", "false", "no", "off"}


def is_fast() -> bool:
    """True when ``SADLIB_FAST`` is set to anything but ``0``/``false``/``no``/``off``."""
    return os.environ.get(ENV_VAR, "").strip().lower() not in _FALSE


def choose(full: T, fast: T) -> T:
    """Return ``fast`` in fast mode and ``full`` otherwise."""
    return fast if is_fast() else full


def describe() -> str:
    """One line for notebook headers: which mode is active and how to switch."""
    if is_fast():
        return (f"FAST mode ({ENV_VAR}=1): small data and few epochs, so the numbers below differ from the text, "
                f"which describes the full run; unset {ENV_VAR} for the full course.")
    return f"FULL mode: set {ENV_VAR}=1 for a quick run with small data and few epochs."
