"""Exercises for notebook 00 (setup and tour)."""

from __future__ import annotations

import ast
import os
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Mapping

from sadlib.course.exercises.checker import (
    CORRECT,
    INCORRECT,
    CheckResult,
    Incorrect,
    Question,
    expect_close,
    expect_equal,
)

__all__ = ["q1", "q2", "q3", "q4"]


def expect_int(value: Any, what: str) -> None:
    """An integer of any kind (``int``, ``np.int64``...), not a bool or a float."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise Incorrect(f"{what} should be an int, but it is a {type(value).__name__} ({value!r}).")


def expect_number(value: Any, what: str, kind: str = "a number") -> None:
    """A real number (``float``, ``np.float64``, ``int``...), with a hint when it is a Timedelta.
    ``kind`` says what is expected, e.g. ``"a number of seconds"``."""
    if hasattr(value, "total_seconds"):
        raise Incorrect(f"{what} is a {type(value).__name__}; it should be {kind} "
                        f"(`.total_seconds()` turns a Timedelta into seconds).")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise Incorrect(f"{what} should be {kind}, but it is a {type(value).__name__}.")


def _check_cores(n_cores):
    expect_int(n_cores, "n_cores")
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


# ------------------------------------------------------------------------------------------------ Q2
# Q2 asks to *compute* epochs with choose(). In either mode a typed-in number has the right value,
# so the check also re-runs the learner's code with the other mode switched on (the code comes
# from IPython's input history, ``In``, which holds the running cell; in a script, from its file).
EPOCHS = {"full": 50, "fast": 3}


def _assigns(node: ast.AST, name: str) -> bool:
    """Whether the statement ``node`` (re)binds ``name`` at the top level of a cell."""
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    elif isinstance(node, (ast.For, ast.With, ast.If, ast.Try)):
        return any(_assigns(child, name) for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t))


_CALLER = "__caller_of_check__"  # (file, line) of the check() call, for scripts


def _learner_code(values: Mapping[str, Any], name: str) -> ast.Module | None:
    """The statements of the learner's latest cell (or script) that sets ``name``, up to the last one
    that does; expression statements (``q2.check()``, ``print(...)``) are left out. None if not found."""
    history = values.get("In")
    before_line = None
    if isinstance(history, list):  # Jupyter, Colab: the running cell is the last entry
        sources = [c for c in reversed(history) if isinstance(c, str)]
    else:  # a script: the statements above the check() call
        path, before_line = values.get(_CALLER, (None, None))
        sources = [Path(path).read_text()] if isinstance(path, str) and Path(path).is_file() else []
    for source in sources:
        try:
            body = ast.parse(source).body
        except SyntaxError:
            continue
        if before_line is not None:
            body = [node for node in body if node.end_lineno < before_line]
        last = max((i for i, node in enumerate(body) if _assigns(node, name)), default=None)
        if last is not None:
            kept = [node for node in body[: last + 1] if not isinstance(node, ast.Expr)]
            return ast.fix_missing_locations(ast.Module(body=kept, type_ignores=[]))
    return None


def _value_in_other_mode(values: Mapping[str, Any], code: ast.Module, name: str) -> tuple[Any, str]:
    """Run ``code`` in a copy of the learner's namespace with the other mode on; ``(value of name, mode)``."""
    from sadlib.course.modes import ENV_VAR, is_fast

    other = "full" if is_fast() else "fast"
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = "1" if other == "fast" else "0"
    namespace = {k: values[k] for k in values}
    try:
        exec(compile(code, "<your code, re-run in the other mode>", "exec"), namespace)
    except Exception as exc:
        raise Incorrect(f"re-running your code in {other} mode failed with {type(exc).__name__}: {exc}") from None
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before
    if name not in namespace:
        raise Incorrect(f"re-running your code in {other} mode did not set `{name}`.")
    return namespace[name], other


def _check_epochs(epochs):
    from sadlib.course.modes import is_fast

    expect_int(epochs, "epochs")
    mode = "fast" if is_fast() else "full"
    expect_equal(epochs, EPOCHS[mode], f"epochs in the current ({mode}) mode")


class _ComputedQuestion(Question):
    """A question whose value must come from code that follows the mode: after the usual check,
    the learner's code is run again with the other mode switched on and must give that mode's value."""

    _rerunning = False  # a check call inside the re-run code must not re-run it again

    def _values(self, explicit, frame):
        explicit = dict(explicit)
        history = explicit.pop("In", None)  # the cell's source, as IPython's history holds it (tests, scripts)
        values = super()._values(explicit, frame)
        extra = {_CALLER: (frame.f_code.co_filename, frame.f_lineno)} if frame else {}
        if history is not None:
            extra["In"] = history
        return values.new_child(extra) if extra else values

    def _evaluate(self, values: Mapping[str, Any]) -> CheckResult:
        result = super()._evaluate(values)
        if result.status != CORRECT or _ComputedQuestion._rerunning:
            return result
        _ComputedQuestion._rerunning = True
        try:
            code = _learner_code(values, "epochs")
            if code is None:
                raise Incorrect("this check re-runs your code with the other mode switched on, but it cannot "
                                "find the code that sets `epochs` (it reads Jupyter's input history). Run the "
                                "exercise notebook in Jupyter or Colab.")
            value, other = _value_in_other_mode(values, code, "epochs")
            if value == values["epochs"]:
                raise Incorrect(f"your code gives epochs = {value!r} in both modes: it does not follow the mode. "
                                f"Compute it with `choose(full=50, fast=3)` instead of typing the number.")
            expect_int(value, f"epochs in {other} mode")
            expect_equal(value, EPOCHS[other], f"epochs when your code is re-run in {other} mode")
        except Incorrect as exc:
            return CheckResult(INCORRECT, f"{self.label}: {exc}")
        finally:
            _ComputedQuestion._rerunning = False
        return CheckResult(CORRECT, f"{self.label}: well done! Re-run in the other mode, your code gives "
                                    f"{EPOCHS[other]} epochs.")

    def check_solution(self) -> CheckResult:
        """Run the solution as a notebook cell would: IPython's ``In`` holds it."""
        ns = dict(self.setup()) if self.setup else {}
        ns["In"] = ["", self.solution_code]
        exec(compile(self.solution_code, f"<{self.label} solution>", "exec"), ns)
        return self._evaluate(ns)


q2 = _ComputedQuestion(
    2,
    "Use `choose` so that `epochs` is 50 in full mode and 3 in fast mode. Compute it rather than typing "
    "the number: the check runs your code again with the other mode switched on.",
    ("epochs",),
    _check_epochs,
    ["`from sadlib.course.modes import choose`", "`choose(full=..., fast=...)` returns one of its two arguments."],
    "from sadlib.course.modes import choose\nepochs = choose(full=50, fast=3)",
    setup=lambda: {},
)


def _check_test_rows(n_test_rows):
    from sadlib.datasets import load_skab_file

    expect_int(n_test_rows, "n_test_rows")
    n_rows = len(load_skab_file("valve1/0"))
    if n_test_rows == n_rows:
        raise Incorrect(f"{n_test_rows} is every row of the file: subtract the 400 training rows.")
    if n_test_rows == 400:
        raise Incorrect("400 is the number of training rows; the test part is what is left after them.")
    expect_equal(n_test_rows, n_rows - 400, "the number of test rows")


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

    expect_number(period_seconds, "period_seconds", "a number of seconds")
    index = load_skab_file("valve1/0").index
    expected = index.to_series().diff().median().total_seconds()
    if abs(period_seconds * 60 - expected) <= 0.01 * expected and abs(period_seconds - expected) > 0.01 * expected:
        raise Incorrect(f"{period_seconds:.4g} is the period in minutes; the question asks for seconds.")
    for unit, factor in (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9)):
        if abs(period_seconds - expected * factor) <= 0.01 * expected * factor:
            raise Incorrect(f"{period_seconds:.4g} is the period in {unit} (the unit of the raw integer "
                            f"timestamps, `.asi8`); divide by {factor:.0e} for seconds, or use "
                            "`.total_seconds()` on a Timedelta.")
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
