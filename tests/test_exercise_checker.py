"""Tests of the exercise-checker machinery (sadlib.course.exercises.checker)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from sadlib.course.exercises import (
    CheckResult,
    Incorrect,
    Question,
    ____,
    checker,
    expect_between,
    expect_close,
    expect_equal,
    expect_shape,
    expect_true,
    expect_type,
    questions,
    solve_all,
)

# --- a tiny example question module --------------------------------------------------------

def _check_threshold(threshold):
    expect_between(threshold, 0, None, "the threshold")
    expect_close(threshold, 3.0, rtol=0.05, what="the threshold")


def _check_scores(scores):
    expect_type(scores, np.ndarray, "`scores`")
    expect_shape(scores, (5,), "`scores`")
    expect_true(np.all(scores >= 0), "`scores` should be non-negative (use np.abs).")


def _check_crashy(window):
    np.ones(4).reshape(window, -1)  # a wrong `window` makes reshape raise


q1 = Question(1, "Set `threshold` to 3 standard deviations.", ("threshold",), _check_threshold,
              ["A z-score threshold counts standard deviations.", "Try 3."], "threshold = 3.0")
q2 = Question(2, "Absolute z-scores of `x`.", ("scores",), _check_scores,
              "Use np.abs.", "scores = np.abs((x - x.mean()) / x.std())",
              setup=lambda: {"np": np, "x": np.array([1.0, 2.0, 3.0, 4.0, 10.0])})
q3 = Question("3a", "A window that divides 4.", "window", _check_crashy, "2 works.", "window = 2")

example = types.ModuleType("example_nb")
example.q1, example.q2, example.q3 = q1, q2, q3
example.__all__ = ["q1", "q2", "q3"]


@pytest.fixture
def plain(monkeypatch):
    """Force the plain-text display path, as if IPython were not installed."""
    monkeypatch.setitem(sys.modules, "IPython", None)


# --- results -----------------------------------------------------------------------------

def test_placeholder_is_not_attempted():
    assert repr(____) == "____"
    res = q1.result(threshold=____)
    assert res.status == "not attempted" and not res and not res.passed
    assert "q1.check()" in res.message and "____" in res.message


def test_placeholder_survives_arithmetic():
    assert ____ * 2 + 1 is ____
    assert (np.arange(3) > ____) is ____
    assert q1.result(threshold=np.mean([1.0]) * ____).status == "not attempted"
    assert q2.result(scores=[1.0, ____]).status == "not attempted"


def test_undefined_variable_is_not_attempted():
    assert q1.result().status == "not attempted"  # no `threshold` in this module


def test_correct():
    res = q1.result(threshold=3.02)
    assert res.status == "correct" and res.passed and bool(res) and "Q1" in res.message


def test_wrong_value_gives_specific_feedback():
    res = q1.result(threshold=5.0)
    assert res.status == "incorrect" and not res
    assert "the threshold should be about 3" in res.message
    assert "at least 0" in q1.result(threshold=-1.0).message
    assert "should be a int or float" in q1.result(threshold="3").message
    assert "shape (5,)" in q2.result(scores=np.zeros((5, 2))).message
    assert "non-negative" in q2.result(scores=-np.ones(5)).message


def test_check_fn_crash_is_reported_as_incorrect():
    res = q3.result(window=3)
    assert res.status == "incorrect" and "ValueError" in res.message and "Q3a" in res.message
    assert q3.result(window=2).passed


def test_unknown_explicit_name_raises():
    with pytest.raises(TypeError, match="threshold"):
        q1.result(treshold=3.0)


def test_caller_globals_lookup(plain, capsys):
    ns = {"q1": q1, "____": ____, "threshold": ____}
    exec("r = q1.result(); q1.check()", ns)
    assert ns["r"].status == "not attempted"
    assert "not attempted" in capsys.readouterr().out.lower()
    exec("threshold = 3.0\nr = q1.result()\nq1.check()", ns)
    assert ns["r"].passed
    assert capsys.readouterr().out.startswith("Correct: Q1")
    # explicit values override the namespace
    exec("r = q1.result(threshold=9.0)", ns)
    assert ns["r"].status == "incorrect"


def test_caller_function_locals_lookup():
    def learner_function():
        threshold = 3.0  # noqa: F841 (read through the frame)
        return q1.result()
    assert learner_function().passed


def test_main_fallback(monkeypatch):
    class NoFrame:
        f_back = None
    monkeypatch.setattr(checker.inspect, "currentframe", lambda: NoFrame())
    monkeypatch.setattr(sys.modules["__main__"], "threshold", 3.0, raising=False)
    assert q1.result().passed


def test_check_returns_none_and_prints_once(plain, capsys):
    assert q1.check(threshold=5.0) is None
    out = capsys.readouterr().out
    assert out.count("Q1") == 1 and out.startswith("Incorrect:")


def test_hints_cycle(plain, capsys):
    q = Question(9, "p", ("a",), lambda a: None, ["first", "second"], "a = 1")
    for _ in range(3):
        q.hint()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Q9 hint 1/2: first", "Q9 hint 2/2: second", "Q9 hint 1/2: first"]
    q1_single = Question(8, "p", ("a",), lambda a: None, "only", "a = 1")
    q1_single.hint()
    assert capsys.readouterr().out.strip() == "Q8 hint: only"


def test_solution_shown(plain, capsys):
    q2.solution()
    out = capsys.readouterr().out
    assert "Q2 solution" in out and q2.solution_code in out


def test_setup_and_solution_pass():
    for q in (q1, q2, q3):
        assert q.check_solution().passed, q.label
    assert list(solve_all(example)) == ["Q1", "Q2", "Q3a"]
    assert all(solve_all(example).values())
    assert questions(example) == [q1, q2, q3]


def test_html_display(monkeypatch):
    shown = []
    monkeypatch.setattr(checker, "_in_notebook", lambda: True)
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append(obj))
    q1.check(threshold=3.0)
    q1.check(threshold=____)
    assert len(shown) == 2
    assert "#34a853" in shown[0]["text/html"] and shown[0]["text/plain"].startswith("Correct: Q1")
    assert "#4285f4" in shown[1]["text/html"]


def test_not_a_notebook_when_ipython_missing(plain):
    assert checker._in_notebook() is False


def test_result_rendering():
    res = CheckResult("incorrect", "Q1: x < 3 & y")
    assert str(res) == "Incorrect: Q1: x < 3 & y"
    assert "&lt; 3 &amp; y" in res._repr_html_()
    assert "Q1" in repr(q1) and "Q1" in q1._repr_html_()


def test_expect_helpers():
    expect_close([1.0, 2.0], np.array([1.0, 2.0]))
    with pytest.raises(Incorrect, match="1 of 2 values differ"):
        expect_close([1.0, 2.5], [1.0, 2.0], what="x")
    with pytest.raises(Incorrect, match="numeric"):
        expect_close("abc", 1.0)
    expect_shape(np.zeros((3, 4)), (None, 4))
    with pytest.raises(Incorrect, match=r"shape \(any, 4\)"):
        expect_shape(np.zeros((3, 5)), (None, 4))
    expect_equal({1, 2}, {2, 1})
    with pytest.raises(Incorrect, match="should be 'a'"):
        expect_equal("b", "a")
    with pytest.raises(Incorrect, match="between 0 and 1"):
        expect_between(1.5, 0, 1)
    with pytest.raises(Incorrect, match="at most 1"):
        expect_between(np.float64(2.0), hi=1)
    with pytest.raises(Incorrect, match="boom"):
        expect_true(False, "boom")


def test_solutions_hidden_for_a_session(plain, capsys, monkeypatch):
    monkeypatch.setenv("SADLIB_HIDE_SOLUTIONS", "1")
    q2.solution()
    out = capsys.readouterr().out
    assert q2.solution_code not in out
    assert "Q2 solution: hidden" in out and "instructor" in out and "q2.hint()" in out
    q3.hint()  # hints stay
    assert capsys.readouterr().out.strip() == "Q3a hint: 2 works."
    assert q2.check_solution().passed  # the tests of the reference solutions are not affected
    monkeypatch.setenv("SADLIB_HIDE_SOLUTIONS", "0")  # read at each call: switched back at once
    q2.solution()
    assert q2.solution_code in capsys.readouterr().out


# --- functions as answers: FunctionQuestion, call_answer, Unwritten ----------------------------------------------

def _check_double(double):
    for x in (np.arange(3.0), np.array([-1.5, 4.0])):
        got = checker.call_answer(double, "double", x)
        expect_close(got, 2 * x, what="`double(x)`")


def _function_question(**kwargs):
    return checker.FunctionQuestion(7, "Write `double(x)`.", ["double"], _check_double, "2 * x",
                                    "def double(x):\n    return 2 * x", **kwargs)


def test_function_question_verdicts():
    q = _function_question()
    assert q.result(double=lambda x: ____).status == "not attempted"
    assert q.result(double=lambda x: (____, x)).status == "not attempted"  # a template filled in part way
    assert q.result(double=lambda x: 2 * x).passed
    wrong = q.result(double=lambda x: x + 2)
    assert wrong.status == "incorrect" and "`double(x)`" in wrong.message
    broken = q.result(double=lambda x: 1 / "a")
    assert broken.status == "incorrect" and "TypeError" in broken.message
    not_a_function = q.result(double=3)
    assert not_a_function.status == "incorrect" and "define it with `def double(...):`" in not_a_function.message


def test_unwritten_message_is_what_the_learner_reads():
    message = _function_question().result(double=lambda x: ____).message
    assert message == "Q7: not attempted yet — write the body of `double` (it still returns ____), " \
                      "then run q7.check() again."
    with pytest.raises(checker.Unwritten, match="^`f` still returns ____; replace"):
        checker.call_answer(lambda: ____, "f", unwritten="`{name}` still returns ____; replace ____ with your code")
    assert not issubclass(checker.Unwritten, Exception)  # passes Question._evaluate's `except Exception`


def test_call_answer_copies_and_silences_as_asked():
    import warnings

    def spoil(a):
        a[:] = 0
        warnings.warn("noisy", UserWarning)
        return a.sum()

    x = np.ones(3)
    assert checker.call_answer(spoil, "spoil", x) == 0 and x.sum() == 3  # a copy was spoilt, not x
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        checker.call_answer(spoil, "spoil", x)
        assert seen == []
        checker.call_answer(spoil, "spoil", x, copy=False, quiet=False)
        assert [str(w.message) for w in seen] == ["noisy"]
    assert x.sum() == 0  # without copies the learner's function sees (and changes) the argument itself
    assert checker.call_answer(lambda a, b=0: a + b, "add", 1, b=2) == 3


def test_function_question_probe_finds_an_untouched_template():
    probed = []

    def probe(values):
        probed.append(True)
        return values["double"](np.zeros(1))

    q = _function_question(probe=probe)
    result = q.result(double=lambda x: ____)
    assert result.status == "not attempted" and "your function still returns ____ (write its body)" in result.message
    assert q.result(double=lambda x: 2 * x).passed
    half_written = q.result(double=lambda x: undefined_name)  # noqa: F821  (the probe's error is left to the check)
    assert half_written.status == "incorrect" and "NameError" in half_written.message
    assert len(probed) == 3


def test_is_blank_and_setup_namespace():
    assert checker.is_blank(____) and checker.is_blank([1, ____]) and checker.is_blank({"a": ____})
    assert not checker.is_blank(np.zeros(2)) and not checker.is_blank(None) and not checker.is_blank([1, 2])
    ns = checker.setup_namespace("import math\nx = math.sqrt(16)")
    assert ns["x"] == 4.0 and checker.setup_namespace("y = 1") is not checker.setup_namespace("y = 1")


# --- library_unavailable: every path to a blocked detector class ---------------------------------------

def _blocked_zscore(answer):
    """Run ``answer(frame)`` with ``RollingZScore`` blocked; the verdict the learner would read, or the output."""
    from sadlib.detectors import zscore as zscore_module

    with checker.library_unavailable(answer, [(zscore_module, "RollingZScore")]):
        return answer(np.arange(100.0)[:, None])


def _make_zscore(x):
    from sadlib import detectors

    return detectors.make("zscore", window=10).fit(x).score(x)


def _registry_zscore(x):
    from sadlib.detectors import REGISTRY

    return REGISTRY["zscore"](window=10).fit(x).score(x)


def _load_zscore(x, path):
    from sadlib import detectors

    return detectors.load(path).score(x)


@pytest.mark.parametrize("answer", [_make_zscore, _registry_zscore], ids=["make", "REGISTRY"])
def test_library_unavailable_blocks_the_detector_registry(answer):
    from sadlib import detectors
    from sadlib.detectors import RollingZScore

    with pytest.raises(Incorrect, match="write it yourself"):
        _blocked_zscore(answer)
    # everything is restored on exit: the registry builds the real class again
    assert detectors.REGISTRY["zscore"] is RollingZScore
    assert isinstance(detectors.make("zscore", window=10), RollingZScore)


def test_library_unavailable_blocks_loading_a_saved_detector(tmp_path):
    from sadlib.detectors import RollingZScore

    x = np.arange(100.0)[:, None]
    path = tmp_path / "z"
    RollingZScore(window=10).fit(x).save(path)
    with pytest.raises(Incorrect, match="write it yourself"):
        _blocked_zscore(lambda frame: _load_zscore(frame, path))


def test_library_unavailable_blocks_a_subclass_and_a_learners_own_registry():
    from sadlib.detectors import RollingZScore
    from sadlib.detectors import zscore as zscore_module

    class Mine(RollingZScore):  # a learner's "own" detector that only renames the library's
        pass

    ns = {"Mine": Mine, "mine": {"z": RollingZScore}, "np": np}
    exec("def via_subclass(x):\n    return Mine(window=10).fit(x).score(x)\n"
         "def via_dict(x):\n    return mine['z'](window=10).fit(x).score(x)\n", ns)
    for name in ("via_subclass", "via_dict"):
        with pytest.raises(Incorrect, match="write it yourself"):
            with checker.library_unavailable(ns[name], [(zscore_module, "RollingZScore")]):
                ns[name](np.arange(100.0)[:, None])
    assert ns["Mine"] is Mine and ns["mine"]["z"] is RollingZScore  # restored


def test_library_unavailable_lets_an_own_method_run():
    def own(x):
        x = np.asarray(x, float)[:, 0]
        return np.abs(x - x.mean()) / x.std()

    out = _blocked_zscore(own)
    assert out.shape == (100,)


@pytest.mark.parametrize("module, number, name, key, params", [
    ("nb01", 3, "rolling_zscore", "zscore", lambda x, w: {"window": w}),
    ("nb03", 1, "rolling_z", "zscore", lambda x, w: {"window": w}),
])
def test_window_questions_reject_the_registry(module, number, name, key, params):
    """Every question that blocks a detector class rejects it reached through ``detectors.REGISTRY`` too."""
    import importlib

    import pandas as pd

    from sadlib import detectors

    question = getattr(importlib.import_module(f"sadlib.course.exercises.{module}"), f"q{number}")

    def through_registry(x, window):
        frame = pd.DataFrame({"x": np.asarray(x, dtype=float)})
        return detectors.REGISTRY[key](**params(x, window)).fit(frame).score(frame)

    result = question.result(**{name: through_registry})
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message


def test_ewma_question_rejects_the_registry():
    import pandas as pd

    from sadlib import detectors
    from sadlib.course.exercises import nb03

    def through_registry(x, lam, mean, std):
        frame = pd.DataFrame({"x": np.asarray(x, dtype=float)})
        return detectors.REGISTRY["ewma"](lam=lam).fit(frame).score(frame)

    result = nb03.q3.result(ewma_chart=through_registry)
    assert result.status == "incorrect" and "write it yourself" in result.message, result.message
