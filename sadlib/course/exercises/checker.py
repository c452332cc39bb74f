"""Core of the notebook exercise checker (in the spirit of Kaggle Learn's *learntools*).

A question module (e.g. ``sadlib/course/exercises/nb02.py``) defines :class:`Question` objects
``q1, q2, ...`` and lists them in ``__all__``. In a notebook the learner writes::

    from sadlib.course.exercises import ____
    from sadlib.course.exercises.nb02 import q1
    threshold = ____        # replace ____ with an answer
    q1.check()              # reads ``threshold`` from the notebook's namespace
    q1.hint()               # next hint on each call
    q1.solution()           # shows the reference code

A teacher can hide the solutions for a session: with the environment variable
``SADLIB_HIDE_SOLUTIONS=1`` (e.g. ``SADLIB_HIDE_SOLUTIONS=1 make lab``), ``solution()``
says that the instructor will show it later; checks and hints work as usual. This is a
classroom convenience, not a lock: the reference code ships with the package.

``check()``, ``hint()`` and ``solution()`` *display* their output (HTML in Jupyter/Colab,
``print`` elsewhere) and return ``None``, so the message appears exactly once wherever the
call sits in a cell. Use :meth:`Question.result` to get a :class:`CheckResult` without
displaying anything (tests, programmatic use). Only the standard library and NumPy are
needed; IPython is used when present.
"""

from __future__ import annotations

import html
import inspect
import os
import sys
import types
import warnings
from collections import ChainMap
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["____", "Incorrect", "CheckResult", "Question", "FunctionQuestion", "Unwritten", "is_blank", "call_answer",
           "setup_namespace", "questions", "solve_all", "solutions_hidden",
           "library_unavailable", "WRITE_IT_YOURSELF", "fmt_distinct", "percentile_bounds", "expect_linear_mse",
           "expect_close", "expect_equal", "expect_shape", "expect_between", "expect_type", "expect_true"]

CORRECT, INCORRECT, NOT_ATTEMPTED = "correct", "incorrect", "not attempted"
HIDE_SOLUTIONS_ENV = "SADLIB_HIDE_SOLUTIONS"


def solutions_hidden() -> bool:
    """True when ``SADLIB_HIDE_SOLUTIONS`` is set to anything but ``0``/``false``/``no``/``off``.

    Read at each :meth:`Question.solution` call, so setting ``os.environ`` in a running
    kernel takes effect at once.
    """
    return os.environ.get(HIDE_SOLUTIONS_ENV, "").strip().lower() not in {"", "0", "false", "no", "off"}


class _Placeholder:
    """The blank ``____`` a learner replaces. Arithmetic and comparisons on it return the
    placeholder itself, so ``x = ____ * 2`` runs and ``check()`` still reports "not attempted"."""

    __array_ufunc__ = None  # make NumPy defer to the reflected operators below

    def __repr__(self) -> str:
        return "____"

    def _same(self, *args: Any, **kwargs: Any) -> "_Placeholder":
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __pow__ = __rpow__ = _same
    __mod__ = __rmod__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = __abs__ = _same
    __lt__ = __le__ = __gt__ = __ge__ = _same


____ = _Placeholder()


class Incorrect(Exception):
    """Raised by a check function (or an ``expect_*`` helper) with learner-facing feedback."""


_STYLE = {CORRECT: ("#e6f4ea", "#34a853", "Correct"),
          INCORRECT: ("#fce8e6", "#ea4335", "Incorrect"),
          NOT_ATTEMPTED: ("#e8f0fe", "#4285f4", "Not attempted")}


def _box(status: str, body_html: str) -> str:
    bg, edge, _ = _STYLE[status]
    return (f'<div style="background:{bg};border-left:5px solid {edge};padding:6px 10px;'
            f'margin:4px 0;color:#202124">{body_html}</div>')


@dataclass(frozen=True)
class CheckResult:
    """Outcome of checking one question: ``status`` is ``"correct"``, ``"incorrect"`` or
    ``"not attempted"``; ``message`` is the feedback text. Truthy exactly when it passed."""

    status: str
    message: str

    @property
    def passed(self) -> bool:  # noqa: D102
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{_STYLE[self.status][2]}: {self.message}"

    def _repr_html_(self) -> str:
        return _box(self.status, f"<b>{_STYLE[self.status][2]}:</b> {html.escape(self.message)}")


def _in_notebook() -> bool:
    """True inside a Jupyter/Colab kernel (not in a terminal IPython or plain Python)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _show(text: str, html_text: str) -> None:
    if _in_notebook():
        from IPython.display import display
        display({"text/plain": text, "text/html": html_text}, raw=True)
    else:
        print(text)


def is_blank(value: Any) -> bool:
    """The placeholder itself, or a list/tuple/set/dict holding it (a template not yet filled in)."""
    if isinstance(value, dict):
        value = list(value.values())
    return value is ____ or (isinstance(value, (list, tuple, set, frozenset))
                             and any(v is ____ for v in value))


class Question:
    """One exercise question.

    Parameters
    ----------
    number : int or str
        Shown as ``Q<number>``; the learner's handle is assumed to be ``q<number>``.
    prompt : str
        The task, shown when the question object is displayed.
    variables : sequence of str
        Names the learner must define; their values are passed to ``check_fn``.
    check_fn : callable
        ``check_fn(**values)`` raises :class:`Incorrect` with feedback for a wrong answer
        and returns ``None`` (or an extra congratulation string) for a right one.
    hint : str or sequence of str
        One or several hints, shown one after the other by repeated :meth:`hint` calls.
    solution : str
        Reference code defining the variables.
    setup : callable, optional
        Returns a namespace dict in which ``solution`` can be executed (used by tests).
    """

    def __init__(self, number: int | str, prompt: str, variables: Sequence[str],
                 check_fn: Callable[..., str | None], hint: str | Sequence[str], solution: str,
                 setup: Callable[[], dict] | None = None) -> None:
        self.number = number
        self.prompt = prompt
        self.variables = (variables,) if isinstance(variables, str) else tuple(variables)
        self.check_fn = check_fn
        self.hints = (hint,) if isinstance(hint, str) else tuple(hint)
        self.solution_code = inspect.cleandoc(solution)
        self.setup = setup
        self._next_hint = 0

    @property
    def label(self) -> str:  # noqa: D102
        return f"Q{self.number}"

    def _values(self, explicit: Mapping[str, Any], frame: types.FrameType | None) -> ChainMap:
        unknown = set(explicit) - set(self.variables)
        if unknown:
            raise TypeError(f"{self.label} checks {', '.join(self.variables)}; "
                            f"unexpected name(s): {', '.join(sorted(unknown))}")
        env = ChainMap(frame.f_locals, frame.f_globals) if frame else vars(sys.modules["__main__"])
        return ChainMap(dict(explicit), env)

    def _evaluate(self, values: Mapping[str, Any]) -> CheckResult:
        missing = [v for v in self.variables if v not in values or is_blank(values[v])]
        if missing:
            what = ", ".join(f"`{v}`" for v in missing)
            return CheckResult(NOT_ATTEMPTED, f"{self.label}: not attempted yet — set {what} "
                               f"(replace ____ with your answer), then run "
                               f"q{self.number}.check() again.")
        try:
            extra = self.check_fn(**{v: values[v] for v in self.variables})
        except Incorrect as exc:
            return CheckResult(INCORRECT, f"{self.label}: {exc}")
        except Exception as exc:  # the learner's value broke the check
            return CheckResult(INCORRECT, f"{self.label}: checking your answer failed with "
                               f"{type(exc).__name__}: {exc}")
        return CheckResult(CORRECT, f"{self.label}: well done!" + (f" {extra}" if isinstance(extra, str) else ""))

    def result(self, **values: Any) -> CheckResult:
        """Check without displaying. Names not given are looked up in the caller's namespace."""
        return self._evaluate(self._values(values, inspect.currentframe().f_back))

    def check(self, **values: Any) -> None:
        """Check the answer and display the feedback (names not given: caller's namespace)."""
        res = self._evaluate(self._values(values, inspect.currentframe().f_back))
        _show(str(res), res._repr_html_())

    def hint(self) -> None:
        """Display the next hint (cycling back to the first after the last)."""
        i = self._next_hint % len(self.hints)
        self._next_hint = i + 1
        head = f"{self.label} hint" + (f" {i + 1}/{len(self.hints)}" if len(self.hints) > 1 else "")
        _show(f"{head}: {self.hints[i]}",
              _box(NOT_ATTEMPTED, f"<b>{head}:</b> {html.escape(self.hints[i])}"))

    def solution(self) -> None:
        """Display the reference solution as code, or, while solutions are hidden, when to expect it.

        See :func:`solutions_hidden`; :meth:`check_solution` is not affected.
        """
        if solutions_hidden():
            text = (f"{self.label} solution: hidden for this session, your instructor will show it later. "
                    f"Stuck? q{self.number}.hint() gives a hint.")
            _show(text, _box(NOT_ATTEMPTED, html.escape(text)))
            return
        _show(f"{self.label} solution:\n{self.solution_code}",
              _box(CORRECT, f"<b>{self.label} solution:</b><pre><code>"
                            f"{html.escape(self.solution_code)}</code></pre>"))

    def check_solution(self) -> CheckResult:
        """Run ``solution`` in ``setup()``'s namespace and check the result (for tests)."""
        ns = dict(self.setup()) if self.setup else {}
        exec(compile(self.solution_code, f"<{self.label} solution>", "exec"), ns)
        return self._evaluate(ns)

    def __repr__(self) -> str:
        return f"{self.label}: {self.prompt}"

    def _repr_html_(self) -> str:
        return _box(NOT_ATTEMPTED, f"<b>{self.label}:</b> {html.escape(self.prompt)}")


# --------------------------------------------------------------------------- functions as answers
#: what :func:`call_answer` says of a function that still returns ``____`` (``{name}``: the function's name)
UNWRITTEN = "write the body of `{name}` (it still returns ____)"


class Unwritten(BaseException):
    """Raised inside a check when the learner's function still returns ``____`` (the untouched template).

    Its message is what the learner reads after "not attempted yet — ", e.g. "write the body of
    `k_of_n` (it still returns ____)". A ``BaseException`` on purpose: :meth:`Question._evaluate`
    reports every ``Exception`` of a check as "incorrect" (a broken answer); this one passes through
    to :class:`FunctionQuestion`, which reports "not attempted".
    """


class FunctionQuestion(Question):
    """A :class:`Question` whose answer is a function the learner writes from a template.

    An untouched template is "not attempted", not "incorrect": when the check raises
    :class:`Unwritten` (:func:`call_answer` does, for a function that returns ``____``), or when
    ``probe`` says the function still returns ``____``.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`Question`.
    probe : callable, optional
        ``probe(values)`` calls the learner's function (``values[variables[0]]``) once on harmless
        inputs and returns its output; an output that :func:`is_blank` means "not attempted", checked
        before ``check_fn`` runs. An error in the probe (a half-written body) is left to the check to
        report. For checks that call the function in a way :func:`call_answer` cannot (inside a
        gradient tape, say).
    unwritten : str
        What the learner reads after "not attempted yet — " when ``probe`` finds the template untouched.
    method : str, optional
        The method the learner writes from scratch (``"rolling z-score"``), when the question is one of
        the notebook's "write the method yourself" questions: checked by behaviour on data the learner
        has not seen, with the library's own version unavailable (:class:`library_unavailable`).
        ``tests/test_learner_path.py`` counts these questions per notebook.
    """

    def __init__(self, *args: Any, probe: Callable[[Mapping[str, Any]], Any] | None = None,
                 unwritten: str = "your function still returns ____ (write its body)", method: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.probe = probe
        self.unwritten = unwritten
        if method is not None and (not isinstance(method, str) or not method.strip()):
            raise TypeError(f"method must name the method the learner writes, a non-empty str; got {method!r}")
        self.method = method

    def _not_attempted(self, detail: Any) -> CheckResult:
        return CheckResult(NOT_ATTEMPTED, f"{self.label}: not attempted yet — {detail}, "
                                          f"then run q{self.number}.check() again.")

    def _evaluate(self, values: Mapping[str, Any]) -> CheckResult:
        name = self.variables[0]
        if self.probe is not None and name in values and callable(values[name]):
            try:
                untouched = is_blank(self.probe(values))
            except Exception:  # a half-written body: let the check report the error
                untouched = False
            if untouched:
                return self._not_attempted(self.unwritten)
        try:
            return super()._evaluate(values)
        except Unwritten as blank:
            return self._not_attempted(blank)


def call_answer(fn: Any, name: str, *args: Any, copy: bool = True, quiet: bool = True,
                unwritten: str = UNWRITTEN, **kwargs: Any) -> Any:
    """Call the learner's function ``fn`` the way every checker does, and return its output.

    Parameters
    ----------
    fn : callable
        The learner's answer; anything else is :class:`Incorrect` ("define it with ``def``").
    name : str
        The function's name in the notebook, for the messages.
    *args, **kwargs
        Passed to ``fn``.
    copy : bool, default True
        Pass copies of the positional arguments that have a ``.copy()`` (arrays, frames, lists,
        dicts), so that an answer that changes its inputs in place cannot spoil the next call of
        the check.
    quiet : bool, default True
        Silence warnings (and NumPy's floating-point warnings) while ``fn`` runs: a check calls
        the answer on unusual inputs on purpose, and its verdict says what went wrong.
    unwritten : str
        The message of the :class:`Unwritten` raised when ``fn`` returns ``____`` (or a tuple, list
        or dict holding it); ``{name}`` is replaced by ``name``.

    Raises
    ------
    Unwritten
        When the output :func:`is_blank`: :class:`FunctionQuestion` reports "not attempted".
    Incorrect
        When ``fn`` is not callable.
    """
    expect_true(callable(fn), f"`{name}` should be a function; define it with `def {name}(...):`.")
    if copy:
        args = tuple(a.copy() if hasattr(a, "copy") else a for a in args)
    if quiet:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fn(*args, **kwargs)
    else:
        out = fn(*args, **kwargs)
    if is_blank(out):
        raise Unwritten(unwritten.format(name=name))
    return out


#: what a learner reads when the answer calls the library function the question asks them to write
WRITE_IT_YOURSELF = ("your function calls `{name}`: write it yourself; the library's version is for later "
                     "notebooks.")


def _derives(cls: type, base: type) -> bool:
    """``issubclass`` that is False, not an error, for classes whose subclass check fails."""
    try:
        return issubclass(cls, base)
    except TypeError:
        return False


class library_unavailable:  # noqa: N801 (a context manager used like a function)
    """Make library functions unavailable while a learner's function runs.

    Inside the ``with`` block each ``module.attribute`` named in ``targets`` (pairs of a module and an
    attribute name), and every global of ``fn`` (and of the functions it defines or refers to at module
    level in the same namespace) bound to the same object, is replaced by a stand-in that raises
    :class:`Incorrect` with :data:`WRITE_IT_YOURSELF`. A question that asks the learner to write a method
    ``sadlib`` also has runs the answer this way, so ``return k_of_n_alarms(...)`` cannot pass. Everything is
    restored on exit.

    The other ways to reach the same object are blocked too:

    * registries: a value of a dict or list held by a ``sadlib`` module (``detectors.REGISTRY``, so that
      ``detectors.make("zscore")`` and ``detectors.load(...)`` cannot build a blocked ``RollingZScore``) or
      by the learner's namespace;
    * subclasses: a class of the learner's namespace derived from a blocked class (``class Z(RollingZScore)``).
    """

    def __init__(self, fn: Any, targets: Sequence[tuple[types.ModuleType, str]],
                 message: str = WRITE_IT_YOURSELF) -> None:
        self.fn = fn
        self.targets = list(targets)
        self.message = message
        self._undo: list[tuple[Any, str, Any, bool]] = []

    def _stand_in(self, label: str, original: Any = None) -> Callable[..., Any]:
        """A function that raises :class:`Incorrect`; for a class, a class whose construction raises it
        (so that ``pickle`` in ``detectors.load`` and ``isinstance`` in library code meet a class too)."""
        message = self.message.format(name=label)

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise Incorrect(message)
        if isinstance(original, type):
            return type(original.__name__, (), {"__new__": unavailable, "__doc__": message,
                                                "__module__": original.__module__})
        return unavailable

    def _swap(self, holder: Any, key: str, new: Any, is_dict: bool) -> None:
        old = holder[key] if is_dict else getattr(holder, key)
        self._undo.append((holder, key, old, is_dict))
        if is_dict:
            holder[key] = new
        else:
            setattr(holder, key, new)

    def _swap_closure(self, fn: Any, originals: dict, seen: set | None = None) -> None:
        """Names a function closes over (``from sadlib.x import f`` inside an enclosing function)."""
        seen = set() if seen is None else seen
        if id(fn) in seen:
            return
        seen.add(id(fn))
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if id(value) in originals and originals[id(value)][0] is value:
                self._swap(cell, "cell_contents", self._stand_in(originals[id(value)][1], value), is_dict=False)
            elif isinstance(value, types.FunctionType):
                self._swap_closure(value, originals, seen)

    def __enter__(self) -> "library_unavailable":
        originals = {}
        for module, attr in self.targets:
            obj = getattr(module, attr)
            originals[id(obj)] = (obj, f"{module.__name__.split('.')[-1]}.{attr}")
        for obj, label in originals.values():
            if self.fn is obj:  # the library function handed in as the answer
                raise Incorrect(self.message.format(name=label))
        namespaces = []
        g = getattr(self.fn, "__globals__", None)
        if isinstance(g, dict):
            namespaces.append(g)
        for name, module in list(sys.modules.items()):  # every sadlib module that re-exports it
            if not (name == "sadlib" or name.startswith("sadlib.")) or module is None:
                continue
            for key, value in list(vars(module).items()):
                if id(value) in originals and originals[id(value)][0] is value:
                    self._swap(module, key, self._stand_in(originals[id(value)][1], value), is_dict=False)
            for key, value in list(vars(module).items()):  # registries: detectors.REGISTRY["zscore"], ...
                if isinstance(value, (dict, list)) and not isinstance(value, types.MappingProxyType):
                    self._swap_items(value, originals)
        for module, attr in self.targets:  # the named places themselves (a module outside sadlib too)
            obj = getattr(module, attr)
            if id(obj) in originals and originals[id(obj)][0] is obj:
                self._swap(module, attr, self._stand_in(originals[id(obj)][1], obj), is_dict=False)
        self._swap_closure(self.fn, originals)
        classes = [(obj, label) for obj, label in originals.values() if isinstance(obj, type)]
        for ns in namespaces:  # names the learner imported into the notebook: `from sadlib.alarms import ...`
            for key, value in list(ns.items()):
                if id(value) in originals and originals[id(value)][0] is value:
                    self._swap(ns, key, self._stand_in(originals[id(value)][1], value), is_dict=True)
                elif isinstance(value, type) and value is not self.fn:  # class Z(RollingZScore): ...
                    parent = next((label for obj, label in classes if _derives(value, obj)), None)
                    if parent is not None:
                        self._swap(ns, key, self._stand_in(parent, value), is_dict=True)
                elif isinstance(value, (dict, list)) and value is not ns:  # the learner's own registry
                    self._swap_items(value, originals)
        return self

    def _swap_items(self, container: dict | list, originals: dict) -> None:
        """Blocked objects held as the values of a dict or the items of a list (a registry)."""
        keys = list(container.keys()) if isinstance(container, dict) else list(range(len(container)))
        for key in keys:
            value = container[key]
            if id(value) in originals and originals[id(value)][0] is value:
                self._swap(container, key, self._stand_in(originals[id(value)][1], value), is_dict=True)

    def __exit__(self, *exc: Any) -> None:
        for holder, key, old, is_dict in reversed(self._undo):
            if is_dict:
                holder[key] = old
            else:
                setattr(holder, key, old)
        self._undo.clear()


def setup_namespace(source: str) -> dict:
    """A fresh namespace in which ``source`` (an exercise notebook's setup cell) has run."""
    namespace: dict = {}
    exec(source, namespace)
    return namespace


def questions(module: types.ModuleType) -> list[Question]:
    """The :class:`Question` objects of a question module, in ``__all__`` order."""
    names = getattr(module, "__all__", None) or sorted(vars(module))
    return [q for q in (getattr(module, n) for n in names) if isinstance(q, Question)]


def solve_all(module: types.ModuleType) -> dict[str, CheckResult]:
    """Check every question's reference solution; maps ``"Q1"``... to its result."""
    return {q.label: q.check_solution() for q in questions(module)}


# --- helpers for question authors: each raises Incorrect with a learner-friendly message ---

def _fmt(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, (float, np.floating)) else repr(x)


def fmt_distinct(x: float, other: float) -> str:
    """``x`` with 4 significant digits, or as many more as it takes to tell it from ``other``.

    A message never shows two different numbers as the same string ("should be 3.351; yours is 3.351").
    """
    for digits in range(4, 18):
        if f"{x:.{digits}g}" != f"{other:.{digits}g}":
            return f"{x:.{digits}g}"
    return repr(x)


def percentile_bounds(values: Any, q: float) -> tuple[float, float]:
    """The smallest and largest value a percentile definition may give for ``q`` (in percent).

    The order statistics one rank around rank ``q / 100 * n``: NumPy's methods (linear, nearest, lower,
    higher, midpoint, the Hyndman & Fan types) and ``np.sort(v)[int(q / 100 * n)]`` all lie between them,
    while a different ``q`` (99 for 99.5) lies far outside on any realistic ``n``.
    """
    v = np.sort(np.asarray(values, dtype=float).ravel())
    v = v[~np.isnan(v)]
    n = v.size
    lo = max(int(np.floor(q / 100 * (n - 1))) - 1, 0)
    hi = min(int(np.ceil(q / 100 * n)) + 1, n - 1)
    return float(v[lo]), float(v[hi])


def _is_mse(loss: Any) -> bool:
    names = {"mse", "mean_squared_error", "meansquarederror"}
    if isinstance(loss, str):
        return loss.lower() in names
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return str(name).lower() in names or type(loss).__name__.lower() in names


def expect_linear_mse(model: Any, what: str) -> None:
    """Require what a task says of an autoencoder: a linear output layer, the MSE loss and Adam.

    The last layer (inside a ``TimeDistributed`` wrapper too) must have no activation (``linear``), no
    ``Activation`` layer may follow it, and the model must be compiled with the mean squared error and Adam.
    """
    import keras

    last = model.layers[-1] if getattr(model, "layers", None) else None
    inner = getattr(last, "layer", last)  # TimeDistributed(Dense(...)) -> Dense
    act = getattr(inner, "activation", None)
    act_name = getattr(act, "__name__", None) or type(act).__name__
    if isinstance(inner, keras.layers.Activation) or (act is not None and act_name != "linear"):
        raise Incorrect(f"{what}: the output layer has the activation `{act_name}`; the task says a linear output "
                        "(no activation), so the model can rebuild any scaled value, not only those a "
                        f"{act_name} can reach. Use `layers.Dense(...)` without `activation=` last.")
    loss = getattr(model, "loss", None)
    if not _is_mse(loss):
        shown = loss if isinstance(loss, str) else (getattr(loss, "name", None) or type(loss).__name__)
        raise Incorrect(f"{what}: the model is compiled with loss={shown!r}; the task says the mean squared error: "
                        "`model.compile(optimizer=\"adam\", loss=\"mse\")`.")
    opt = getattr(model, "optimizer", None)
    expect_true(isinstance(opt, keras.optimizers.Adam),
                f"{what}: the model is compiled with the optimizer {type(opt).__name__}; the task says Adam: "
                "`model.compile(optimizer=\"adam\", loss=\"mse\")`.")


def expect_true(condition: Any, message: str) -> None:
    """Raise :class:`Incorrect` with ``message`` unless ``condition`` is true."""
    if not condition:
        raise Incorrect(message)


def expect_type(value: Any, types_: type | tuple[type, ...], what: str = "your answer") -> None:
    """Require ``isinstance(value, types_)``."""
    if not isinstance(value, types_):
        names = " or ".join(t.__name__ for t in (types_ if isinstance(types_, tuple) else (types_,)))
        raise Incorrect(f"{what} should be a {names}, but it is a {type(value).__name__}.")


def expect_equal(value: Any, expected: Any, what: str = "your answer") -> None:
    """Require ``value == expected`` (ints, strings, sets...)."""
    if not bool(value == expected):
        raise Incorrect(f"{what} should be {_fmt(expected)}, but it is {_fmt(value)}.")


def expect_shape(arr: Any, shape: tuple[int | None, ...], what: str = "your array") -> None:
    """Require ``np.shape(arr)`` to match ``shape``; ``None`` entries match any length."""
    got = np.shape(arr)
    if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise Incorrect(f"{what} should have shape {want}, but it has shape {got}.")


def expect_between(value: Any, lo: float | None = None, hi: float | None = None,
                   what: str = "your answer") -> None:
    """Require ``lo <= value <= hi`` (either bound may be ``None``)."""
    expect_type(value, (int, float, np.integer, np.floating), what)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"between {_fmt(lo)} and {_fmt(hi)}" if lo is not None and hi is not None else (
            f"at least {_fmt(lo)}" if lo is not None else f"at most {_fmt(hi)}")
        raise Incorrect(f"{what} should be {rng}, but it is {_fmt(value)}.")


def expect_close(value: Any, expected: Any, rtol: float = 1e-6, atol: float = 0.0,
                 what: str = "your answer") -> None:
    """Require ``value`` to be numerically close to ``expected`` (scalars or arrays)."""
    try:
        got = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Incorrect(f"{what} should be numeric, but it is a {type(value).__name__}.") from None
    want = np.asarray(expected, dtype=float)
    expect_shape(got, want.shape, what)
    ok = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        if want.ndim == 0:
            w, g = float(want), float(got)
            raise Incorrect(f"{what} should be about {fmt_distinct(w, g)}, but it is {fmt_distinct(g, w)}.")
        raise Incorrect(f"{what}: {int((~ok).sum())} of {ok.size} values differ from the expected "
                        f"ones (largest difference {_fmt(float(np.nanmax(np.abs(got - want))))}).")
