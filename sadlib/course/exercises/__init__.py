"""Notebook exercises: ``from sadlib.course.exercises import ____``, then ``from sadlib.course.exercises.nbXX
import q1``.

The machinery lives in :mod:`sadlib.course.exercises.checker`; per-notebook question modules
(``nb01``, ``nb02``, ...) define :class:`Question` objects ``q1, q2, ...`` listed in ``__all__``.
"""

from sadlib.course.exercises.checker import (
    ____,
    CheckResult,
    FunctionQuestion,
    Incorrect,
    Question,
    Unwritten,
    call_answer,
    expect_between,
    expect_close,
    expect_equal,
    expect_shape,
    expect_true,
    expect_type,
    is_blank,
    questions,
    solve_all,
)

__all__ = [
    "____", "CheckResult", "Incorrect", "Question", "FunctionQuestion", "Unwritten", "call_answer", "is_blank",
    "questions", "solve_all",
    "expect_close", "expect_equal", "expect_shape", "expect_between", "expect_type", "expect_true",
]
