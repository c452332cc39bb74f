"""Write an exercise notebook from a question module (``nb05`` -> ``exercises/05_..._exercises.ipynb``).

The notebook is generated, so its setup cell is the module's ``SETUP`` (the same code
the tests run the solutions in) and every question has the same layout: the prompt,
a cell with ``name = ____`` and ``qN.check()``, and a cell with the hint and solution
calls commented out. A module may replace a question's answer cell (the part
before ``qN.check()``) through ``ANSWER_CELLS = {number: "code with ____ in it"}``,
e.g. to give a function to complete or to leave a variable the setup defines.

Run it from the repository root after changing a question module::

    python -m sadlib.course.exercises.notebook nb05 "05 · A stacked LSTM forecaster with DBSCAN" \\
        notebooks/05_lstm_forecaster_dbscan.ipynb exercises/05_lstm_forecaster_dbscan_exercises.ipynb

then run the notebook (``make course`` saves the outputs).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from sadlib.course.exercises.checker import questions

__all__ = ["exercise_notebook"]

COLAB = "https://colab.research.google.com/github/sadlib-course/sensor-anomaly-course/blob/v0.1.0/"
INSTALL = """\
# On Colab, install the course library first; on your own machine `make lab` already did.
import sys

if "google.colab" in sys.modules:
    %pip install -q "sadlib[{extra}] @ git+https://github.com/sadlib-course/sensor-anomaly-course@v0.1.0\""""


def exercise_notebook(module: str, title: str, lesson: str, target: str):
    """The exercise notebook (an ``nbformat`` node, without outputs) for ``sadlib.course.exercises.<module>``.

    ``title`` is the lesson's title (``"05 · ..."``), ``lesson`` the lesson notebook's path
    and ``target`` the exercise notebook's path, both relative to the repository root. The
    Colab install line installs ``sadlib[deep]``, or the extra a module names in ``COLAB_EXTRA``.
    """
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    mod = importlib.import_module(f"sadlib.course.exercises.{module}")
    qs = questions(mod)
    names = ", ".join(f"q{q.number}" for q in qs)
    setup = f"from sadlib.course.exercises import ____\nfrom sadlib.course.exercises.{module} import {names}\n"
    if getattr(mod, "SETUP", ""):
        setup += "\n" + mod.SETUP.rstrip("\n")
    lesson_link = "../" + Path(lesson).as_posix()
    cells = [
        new_markdown_cell(
            f"# Exercises · {title}\n\n"
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB}{Path(target).as_posix()})\n\n"
            f"Exercises for [{title}]({lesson_link}). Replace each `____` with your answer and run the cell: "
            "`qN.check()` tells you whether it is right. Stuck? Uncomment `qN.hint()` (call it again for the "
            "next hint) or `qN.solution()`. Run the setup cell first."
        ),
        new_code_cell(INSTALL.replace("{extra}", getattr(mod, "COLAB_EXTRA", "deep"))),
        new_code_cell(setup),
    ]
    custom = getattr(mod, "ANSWER_CELLS", {})
    for q in qs:
        answer = custom.get(q.number, "\n".join(f"{name} = ____" for name in q.variables)).rstrip("\n")
        cells += [
            new_markdown_cell(f"## Question {q.number}\n\n{q.prompt}"),
            new_code_cell(f"{answer}\n\nq{q.number}.check()"),
            new_code_cell(f"# q{q.number}.hint()\n# q{q.number}.solution()"),
        ]
    cells.append(new_markdown_cell("Done? Go on with the next notebook of the course."))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def main(argv: list[str] | None = None) -> None:
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m sadlib.course.exercises.notebook", description=__doc__.split("\n")[0])
    parser.add_argument("module", help="question module in sadlib.course.exercises, e.g. nb05")
    parser.add_argument("title", help='lesson title, e.g. "05 · A stacked LSTM forecaster with DBSCAN"')
    parser.add_argument("lesson", help="lesson notebook, relative to the repository root")
    parser.add_argument("target", help="exercise notebook to write, relative to the repository root")
    args = parser.parse_args(argv)
    nbformat.write(exercise_notebook(args.module, args.title, args.lesson, args.target), args.target)
    print(f"wrote {args.target}")


if __name__ == "__main__":
    main()
