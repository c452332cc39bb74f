"""Claims: a sentence of a notebook's text checked against the numbers just computed.

A sentence in a notebook that states a number or a comparison about a result
("X catches more events than Y") is checked right under the result with
:func:`claim`::

    claim(f1["iforest"] < f1["zscore"], "Isolation Forest catches fewer events than the z-score")

It prints the sentence with a tick. What a false one does depends on who runs the notebook:

* a learner (the default): one quiet line says that this run differs from the committed one (expected
  on other hardware, library versions or seeds) and the notebook goes on;
* a maintainer or CI (``SADLIB_STRICT_CLAIMS=1``, which ``make course``, ``make test`` and the runner
  set): it raises :class:`ClaimError`, so a sentence that no longer matches its output fails the run.

Claims that hold only at full size pass ``full_only=True``; fast mode then prints them as not
checked instead of testing them. The runner counts the claims of each notebook.
"""

from __future__ import annotations

import os

import numpy as np

from .modes import is_fast

__all__ = ["claim", "ClaimError", "count_claims", "is_strict", "CLAIM_OK", "CLAIM_SKIPPED", "CLAIM_DIFFERS",
           "STRICT_ENV_VAR"]

CLAIM_OK, CLAIM_SKIPPED = "\u2713 claim:", "\u00b7 claim (checked in full mode only):"
CLAIM_DIFFERS = "\u00b7 this run differs from the course's committed run:"
#: Set to 1 by ``make course``, ``make test`` and ``python -m sadlib.course``: a false claim raises.
STRICT_ENV_VAR = "SADLIB_STRICT_CLAIMS"


def is_strict() -> bool:
    """True when a false claim must stop the run (maintainers and CI), False on a learner's machine."""
    return os.environ.get(STRICT_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


class ClaimError(AssertionError):
    """A sentence of a notebook's text that this run's numbers contradict."""


def claim(condition, sentence: str, *, full_only: bool = False) -> None:
    """Check a sentence of the notebook's text against the numbers just computed.

    Parameters
    ----------
    condition : bool
        The comparison the sentence makes, computed from this run's outputs
        (a Python or NumPy bool).
    sentence : str
        The claim in words, as the notebook's text states it.
    full_only : bool, default False
        True when the claim holds only at full size (more data, more epochs):
        in fast mode (``SADLIB_FAST=1``) it is printed as not checked.

    It returns None, so a claim on the last line of a cell displays nothing
    but its printed sentence.

    When the condition is false on a learner's run, one quiet line says that this run's numbers
    differ from the committed run's (other hardware, versions or seeds can do that) and the
    notebook goes on.

    Raises
    ------
    ClaimError
        When the condition is false and ``SADLIB_STRICT_CLAIMS=1`` (``make course``, ``make test``,
        CI; in fast mode only for claims without ``full_only``): the text and the output disagree.
    TypeError
        When ``condition`` is not a bool (e.g. an array or None), which usually
        means a comparison was not reduced with ``.all()`` or ``.any()``.
    """
    if not isinstance(sentence, str) or not sentence.strip():
        raise TypeError("sentence must be the claim in words, a non-empty str.")
    if not isinstance(condition, (bool, np.bool_)):
        raise TypeError(
            f"condition must be a bool, got {type(condition).__name__}; reduce an array comparison "
            f"with .all() or .any() so the claim says exactly what is checked."
        )
    if full_only and is_fast():
        print(f"{CLAIM_SKIPPED} {sentence}")
        return None
    if not condition:
        if not is_strict():
            print(f"{CLAIM_DIFFERS} {sentence!r} does not hold here (expected on other hardware, library "
                  f"versions or in fast mode; the text describes the committed run)")
            return None
        raise ClaimError(
            f"The notebook says: {sentence!r}, but this run's numbers disagree. Rewrite the sentence to "
            f"match the output above, or find out why the result changed."
        )
    print(f"{CLAIM_OK} {sentence}")
    return None


def count_claims(nb) -> tuple[int, int]:
    """(checked, skipped) claims in an executed notebook's outputs (a differing claim counts as neither)."""
    checked = skipped = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            checked += text.count(CLAIM_OK)
            skipped += text.count(CLAIM_SKIPPED)
    return checked, skipped
