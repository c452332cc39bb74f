"""Minutes per notebook section, and the workshop schedules generated from them.

Run from the repository root::

    python instructors/schedule.py --update    # re-read the notebooks, write minutes.json and every schedule
    python instructors/schedule.py --write     # write the schedules from minutes.json (after editing plan.json)
    python instructors/schedule.py --check     # exit 1 when minutes.json or a schedule no longer matches
    python instructors/schedule.py --measure notebooks/04_dense_autoencoder.ipynb   # time it now, cell by cell

What is measured, per section (``## N. ...``) of every notebook in ``notebooks/``:

* ``run_s``: the seconds its code cells ran, from the execution timestamps that the kernel
  wrote into the committed notebooks (``make course COURSE_ARGS=--save`` runs them in full mode
  on a 2-core CPU). ``--measure`` executes a notebook here, cell by cell, in the current mode
  (``SADLIB_FAST=1`` for fast mode) and records those seconds instead;
* ``words``: words of the section's Markdown (HTML comments and link targets left out);
* ``code_lines``: non-blank, non-comment lines of its code cells, without the ``claim(...)``
  calls that check the text against the outputs (an instructor does not type those);
* ``outputs``: figures and tables among its outputs.

Minutes follow from these with the rates in ``plan.json`` (``rates``); the README states the
formula. The plan also says which sections each workshop format teaches live, shows, or skips,
and which exercise questions it takes; the schedules are written between ``<!-- schedule:... -->``
markers in ``instructors/README.md``, and each notebook's minutes table between ``<!-- minutes -->``
markers in its page ``instructors/NN_name.md``.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "instructors"
MINUTES = HERE / "minutes.json"
PLAN = HERE / "plan.json"
README = HERE / "README.md"

TREATMENTS = ("live", "show", "skip")
HEADING = re.compile(r"^## +(.+?)\s*$", re.M)
NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")
QUESTION = re.compile(r"^## +Question +(\d+)", re.M)
YOUR_TURN = re.compile(r"^\*\*Your turn \d+", re.M)
GOING_FURTHER = "going further"
PLANNED = re.compile(r"teaching ≈ (\d+) min · exercises ≈ (\d+) min")
COMMENT = re.compile(r"<!--.*?-->", re.S)
LINK_TARGET = re.compile(r"\]\([^)]*\)")
WORD = re.compile(r"[^\W_]", re.U)
# run-time tolerance of --check: a rerun on the same machine moves a section by seconds, not by half
RUN_TOLERANCE_S, RUN_TOLERANCE_REL = 30.0, 0.5
# a section whose code runs this long or less in full mode can run live in the room (its numbers then match the text)
FULL_MODE_LIVE_S = 20.0


class PlanError(ValueError):
    """plan.json asks for something the notebooks or the day cannot give."""


# --------------------------------------------------------------------------- reading notebooks

def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def count_words(markdown: str) -> int:
    """Words of Markdown text: HTML comments and link targets left out, a word holds a letter or digit."""
    text = LINK_TARGET.sub("]", COMMENT.sub(" ", markdown))
    return sum(1 for token in text.split() if WORD.search(token))


def count_code_lines(code: str) -> int:
    """Non-blank, non-comment lines, without the lines of top-level ``claim(...)`` calls."""
    lines = code.splitlines()
    parseable = "\n".join("pass" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
    skipped: set[int] = set()
    try:
        tree = ast.parse(parseable)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in tree.body:
            call = node.value if isinstance(node, ast.Expr) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "claim":
                skipped.update(range(node.lineno, node.end_lineno + 1))
    return sum(1 for i, ln in enumerate(lines, start=1)
               if ln.strip() and not ln.lstrip().startswith("#") and i not in skipped)


def count_outputs(cell: dict) -> int:
    """Figures (any image) and tables (HTML tables, e.g. a DataFrame) among a code cell's outputs."""
    n = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(k.startswith("image/") for k in data):
            n += 1
        elif "<table" in "".join(data.get("text/html", "")):
            n += 1
    return n


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(cell: dict) -> float | None:
    """Seconds a code cell ran, from the kernel's timestamps in its metadata (None when it has none)."""
    ex = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in ex or "shell.execute_reply" not in ex:
        return None
    return max(0.0, (_stamp(ex["shell.execute_reply"]) - _stamp(ex["iopub.execute_input"])).total_seconds())


def run_mode(nb: dict) -> str:
    """'full' or 'fast' as the notebook's own outputs print it (``sadlib.course.modes.describe``), else 'unknown'."""
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            if "FULL mode:" in text:
                return "full"
            if "FAST mode (" in text:
                return "fast"
    return "unknown"


def section_key(heading: str) -> tuple[str, str]:
    """``("3", "Robust z-score: ...")`` for ``3. Robust z-score: ...``; other headings keyed by their text."""
    m = NUMBERED.match(heading)
    if m:
        return m.group(1), m.group(2).strip()
    return heading.strip().lower(), heading.strip()


def sections(nb: dict, path: str = "notebook") -> list[dict]:
    """The notebook split at its ``## `` headings: words, code lines, outputs and run seconds of each part.

    Parameters
    ----------
    nb : dict
        The notebook as JSON (``json.load`` of the ``.ipynb`` file), outputs and cell metadata included.
    path : str, default "notebook"
        Its path, for the error messages.

    Returns
    -------
    list of dict
        One dict per part, in order: ``key`` (``"intro"`` for what precedes the first ``## `` heading,
        the number for ``## N. title``, else the lower-cased heading, e.g. ``"key points"``), ``title``,
        ``words``, ``code_lines``, ``outputs`` and ``run_s``. ``###`` subsections belong to their section.

    Raises
    ------
    ValueError
        When a non-empty code cell has no execution timestamps (the notebook was not run and saved), or
        when a heading occurs twice.
    """
    parts = [{"key": "intro", "title": "Title, questions and setup", "words": 0, "code_lines": 0,
              "outputs": 0, "run_s": 0.0, "your_turns": 0}]
    for i, cell in enumerate(nb.get("cells", [])):
        src = _source(cell)
        if cell.get("cell_type") == "markdown":
            pos = 0
            for m in HEADING.finditer(src):
                parts[-1]["words"] += count_words(src[pos:m.start()])
                key, title = section_key(m.group(1))
                parts.append({"key": key, "title": title, "words": 0, "code_lines": 0, "outputs": 0, "run_s": 0.0,
                              "your_turns": 0})
                pos = m.start()
            parts[-1]["words"] += count_words(src[pos:])
            parts[-1]["your_turns"] += len(YOUR_TURN.findall(src))
        elif cell.get("cell_type") == "code":
            seconds = cell_seconds(cell)
            if seconds is None and src.strip():
                raise ValueError(
                    f"{path}: code cell {i} has no execution timestamps, so its run time is unknown. Save the "
                    f"notebook with outputs (make course COURSE_ARGS=--save) or time it here with "
                    f"python instructors/schedule.py --measure {path}."
                )
            if "claims" not in cell.get("metadata", {}).get("tags", []):  # hidden checks: nobody reads them
                parts[-1]["code_lines"] += count_code_lines(src)
                parts[-1]["outputs"] += count_outputs(cell)
            parts[-1]["run_s"] += seconds or 0.0
    keys = [p["key"] for p in parts]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"{path}: section heading(s) {dup} occur twice; number the sections uniquely.")
    for p in parts:
        p["run_s"] = round(p["run_s"], 1)
    return parts


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def notebook_paths(root: Path = ROOT) -> list[Path]:
    """The course notebooks, ``notebooks/NN_name.ipynb``, in course order."""
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def exercise_path(nb_path: Path, root: Path = ROOT) -> Path | None:
    found = sorted((root / "exercises").glob(nb_path.name[:3] + "*.ipynb"))
    return found[0] if found else None


def measure_notebook(nb: dict, path: str, *, rel_exercises: str | None = None, ex: dict | None = None,
                     source: str = "committed outputs") -> dict:
    """minutes.json's entry for one notebook (and its exercise notebook)."""
    title_cell = next((_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"), "")
    m = re.search(r"^# +(?:\d+\s*·\s*)?(.+)$", title_cell, re.M)
    planned = PLANNED.search(title_cell)
    entry = {"file": path, "title": m.group(1).strip() if m else path, "timing": source,
             "mode": run_mode(nb),
             "planned": {"teaching": int(planned.group(1)), "exercises": int(planned.group(2))} if planned else None,
             "sections": sections(nb, path)}
    if ex is not None:
        questions = len(QUESTION.findall("\n".join(_source(c) for c in ex.get("cells", [])
                                                    if c.get("cell_type") == "markdown")))
        seconds = sum(cell_seconds(c) or 0.0 for c in ex.get("cells", []) if c.get("cell_type") == "code")
        entry["exercises"] = {"file": rel_exercises, "questions": questions, "run_s": round(seconds, 1)}
    return entry


def measure_all(root: Path = ROOT) -> dict:
    """minutes.json as the committed notebooks give it (no code is run)."""
    out = {}
    for p in notebook_paths(root):
        ex_path = exercise_path(p, root)
        out[p.stem] = measure_notebook(
            _read(p), str(p.relative_to(root)),
            rel_exercises=str(ex_path.relative_to(root)) if ex_path else None,
            ex=_read(ex_path) if ex_path else None,
        )
    return out


def execute(path: Path, timeout: int = 1800) -> dict:
    """Run a notebook now in a fresh kernel (current mode) and return it with the kernel's timestamps."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return json.loads(nbformat.writes(nb))


# --------------------------------------------------------------------------- minutes from measurements

def check_rates(rates: dict) -> dict:
    """The plan's rates, checked: every one a positive number (minutes per unit)."""
    from sadlib.validation import check_number

    names = ("words_per_minute", "live_minutes_per_line", "show_minutes_per_line", "minutes_per_output",
             "minutes_per_question", "self_paced_words_per_minute", "self_paced_minutes_per_line",
             "self_paced_minutes_per_question")
    missing = [n for n in names if n not in rates]
    if missing:
        raise PlanError(f"plan.json rates lack {missing}; add them (see the formula in instructors/README.md).")
    checked = {n: check_number(f"rates.{n}", rates[n], 0, low_open=True) for n in names}
    turn = rates.get("minutes_per_your_turn", 0)
    checked["minutes_per_your_turn"] = check_number("rates.minutes_per_your_turn", turn, 0)
    return checked


def section_minutes(part: dict, treatment: str, rates: dict) -> float:
    """Minutes of one section at the plan's rates.

    Parameters
    ----------
    part : dict
        A section as :func:`sections` returns it.
    treatment : {"live", "show", "skip"}
        ``live``: the instructor types the code; ``show``: pre-written cells are run and read; ``skip``: 0.
    rates : dict
        The checked rates of ``plan.json`` (:func:`check_rates`).

    Returns
    -------
    float
        words / words_per_minute + code lines x minutes per line (live or shown) + outputs x
        minutes_per_output + run seconds / 60 + "Your turn" moments x minutes_per_your_turn.
    """
    if treatment == "skip":
        return 0.0
    per_line = rates["live_minutes_per_line"] if treatment == "live" else rates["show_minutes_per_line"]
    return (part["words"] / rates["words_per_minute"] + part["code_lines"] * per_line
            + part["outputs"] * rates["minutes_per_output"] + part["run_s"] / 60
            + part.get("your_turns", 0) * rates.get("minutes_per_your_turn", 0))


def exercise_minutes(exercises: dict | None, n_questions: int, rates: dict) -> float:
    if not exercises or n_questions == 0:
        return 0.0
    return n_questions * rates["minutes_per_question"] + exercises["run_s"] / 60


def self_paced_minutes(entry: dict, rates: dict) -> float:
    parts = entry["sections"]
    ex = entry.get("exercises") or {"questions": 0, "run_s": 0.0}
    return (sum(p["words"] for p in parts) / rates["self_paced_words_per_minute"]
            + sum(p["code_lines"] for p in parts) * rates["self_paced_minutes_per_line"]
            + sum(p["outputs"] for p in parts) * rates["minutes_per_output"]
            + sum(p["run_s"] for p in parts) / 60
            + ex["questions"] * rates["self_paced_minutes_per_question"] + ex["run_s"] / 60)


def with_minutes(measured: dict, rates: dict) -> dict:
    """minutes.json: the measurements plus each section's live and shown minutes at the plan's rates."""
    out = json.loads(json.dumps(measured))
    for entry in out.values():
        for p in entry["sections"]:
            p["live_min"] = round(section_minutes(p, "live", rates), 1)
            p["show_min"] = round(section_minutes(p, "show", rates), 1)
        ex = entry.get("exercises")
        if ex:
            ex["minutes"] = round(exercise_minutes(ex, ex["questions"], rates), 1)
    return out


# --------------------------------------------------------------------------- the plan

def _treatments(entry: dict, spec: dict, where: str) -> dict[str, str]:
    """Section key -> treatment for one notebook in one format; ``default`` covers unnamed sections.

    The optional part of a notebook (``## Going further``) is skipped unless the plan names it."""
    from sadlib.validation import check_choice

    keys = [p["key"] for p in entry["sections"]]
    given = spec.get("sections", {})
    unknown = sorted(set(given) - set(keys))
    if unknown:
        raise PlanError(f"{where}: sections {unknown} are not in {entry['file']} (its sections: {keys}); "
                        f"fix plan.json after renumbering the notebook.")
    default = check_choice(f"{where}.default", spec.get("default", "show"), TREATMENTS)
    return {k: check_choice(f"{where}.sections[{k!r}]", given.get(k, "skip" if k == GOING_FURTHER else default),
                            TREATMENTS) for k in keys}


def _questions(entry: dict, spec: dict, where: str) -> list[int]:
    n = (entry.get("exercises") or {}).get("questions", 0)
    wanted = spec.get("exercises", "all")
    if wanted == "all":
        return list(range(1, n + 1))
    if wanted == "none":
        return []
    if not isinstance(wanted, list) or any(not isinstance(q, int) or not 1 <= q <= n for q in wanted):
        raise PlanError(f"{where}.exercises must be 'all', 'none' or a list of question numbers 1..{n}; "
                        f"got {wanted!r}.")
    return sorted(set(wanted))


def _find(minutes: dict, prefix: str, where: str) -> tuple[str, dict]:
    hits = [k for k in minutes if k.startswith(prefix)]
    if len(hits) != 1:
        raise PlanError(f"{where}: notebook {prefix!r} matches {hits or 'no notebook'} in minutes.json; "
                        f"name it by its number, e.g. '04'.")
    return hits[0], minutes[hits[0]]


def blocks(minutes: dict, day: list[dict], rates: dict, where: str) -> list[dict]:
    """The teaching blocks of one day, in order: runs of sections of one notebook, then its exercises."""
    from sadlib.validation import check_int

    out = []
    for j, spec in enumerate(day):
        here = f"{where}[{j}]"
        if "activity" in spec:  # a slot that is not a notebook: feedback, a survey, a discussion
            out.append({"notebook": None, "kind": "activity", "key": str(spec["activity"]),
                        "minutes": check_int(f"{here}.minutes", spec.get("minutes"), 1)})
            continue
        name, entry = _find(minutes, spec.get("notebook", ""), here)
        treat = _treatments(entry, spec, here)
        for p in entry["sections"]:
            t = treat[p["key"]]
            if t != "skip":
                out.append({"notebook": name, "kind": t, "key": p["key"],
                            "minutes": section_minutes(p, t, rates), "your_turns": p.get("your_turns", 0)})
        qs = _questions(entry, spec, here)
        if qs:
            out.append({"notebook": name, "kind": "exercises", "key": qs,
                        "minutes": exercise_minutes(entry.get("exercises"), len(qs), rates)})
    return out


def _ceil5(x: float) -> int:
    return int(5 * math.ceil(round(x, 6) / 5))


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _label(rows: list[dict], minutes: dict) -> str:
    if rows[0]["kind"] == "activity":
        return rows[0]["key"]
    nb = rows[0]["notebook"]
    title = minutes[nb]["title"]
    if rows[0]["kind"] == "exercises":
        qs = rows[0]["key"]
        n = minutes[nb]["exercises"]["questions"]
        word = "question " if len(qs) == 1 else "questions "
        which = "all questions" if len(qs) == n else word + ", ".join(map(str, qs))
        return f"{nb[:2]} exercises ({which})"
    numbered = [r for r in rows if r["key"].isdigit()]
    live = [r["key"] for r in numbered if r["kind"] == "live"]
    shown = [r["key"] for r in numbered if r["kind"] == "show"]
    bits = []
    if live:
        bits.append("§" + ", ".join(live) + " live")
    if shown:
        bits.append("§" + ", ".join(shown) + " shown")
    return f"{nb[:2]} · {title}" + (f" ({'; '.join(bits)})" if bits else "")


def schedule_day(minutes: dict, day: dict, rates: dict, fmt: dict, where: str) -> tuple[list[tuple], int]:
    """Rows (start, end, what, minutes) of one day, with breaks and lunch; and its teaching minutes.

    Consecutive sections of one notebook form one row; a row's length is its minutes rounded up to
    5. A break comes before the block that would make a stretch longer than ``break_every`` minutes
    (unless the stretch so far is shorter than ``min_stretch``: then the stretch runs on), lunch instead
    of the first such break after ``lunch_after`` minutes of the day.
    """
    from sadlib.validation import check_int

    bl = blocks(minutes, day["blocks"], rates, where)
    start = _clock_minutes(day.get("start", fmt.get("start", "09:00")), where)
    break_every = check_int("break_every", fmt.get("break_every", 90), 30)
    lunch_after = check_int("lunch_after", fmt.get("lunch_after", 150), 0)
    break_len = check_int("break_minutes", fmt.get("break_minutes", 15), 0)
    min_stretch = check_int("min_stretch", fmt.get("min_stretch", 40), 0, break_every)
    lunch_len = check_int("lunch_minutes", fmt.get("lunch_minutes", 60), 0)
    max_passive = check_int("max_passive_minutes", fmt.get("max_passive_minutes", 10_000), 5)
    # group consecutive blocks of one notebook and kind class (sections / exercises)
    groups: list[list[dict]] = []
    for b in bl:
        same = groups and groups[-1][0]["notebook"] == b["notebook"] and (
            (groups[-1][0]["kind"] == "exercises") == (b["kind"] == "exercises"))
        if same:
            groups[-1].append(b)
        else:
            groups.append([b])
    rows, t, stretch, taught, had_lunch = [], start, 0, 0, False
    passive, passive_from = 0.0, None  # minutes since the learners last did something (exercise, Your turn)

    def listen(b: dict) -> None:
        """Add a block to the passive stretch; an exercise, an activity or a Your turn ends the stretch."""
        nonlocal passive, passive_from
        if b["kind"] in ("exercises", "activity"):
            passive, passive_from = 0.0, None
            return
        k = b.get("your_turns", 0)
        before = b["minutes"] / (k + 1)  # the section's Your turn moments, taken as evenly spread
        if passive_from is None:
            passive_from = f"{b['notebook'][:2]} §{b['key']}"
        if passive + before > max_passive:
            raise PlanError(
                f"{where}: from {passive_from} to {b['notebook'][:2]} §{b['key']} the learners listen for about "
                f"{passive + before:.0f} min with no exercise and no 'Your turn' (at most {max_passive} min). Add a "
                f"Your turn to the notebook, mark a section 'skip' or 'show', or put an exercise block in between.")
        if k:
            passive, passive_from = before, f"{b['notebook'][:2]} §{b['key']}"
        else:
            passive += before
    for g in groups:
        # a group longer than a stretch is split at section boundaries
        pieces, cur = [], []
        for b in g:
            if cur and _ceil5(sum(x["minutes"] for x in cur) + b["minutes"]) > break_every:
                pieces.append(cur)
                cur = []
            cur.append(b)
        pieces.append(cur)
        for piece in pieces:
            length = _ceil5(sum(x["minutes"] for x in piece))
            if stretch >= min_stretch and stretch + length > break_every:
                lunch = not had_lunch and t - start >= lunch_after
                pause = lunch_len if lunch else break_len
                rows.append((_clock(t), _clock(t + pause), "**lunch**" if lunch else "*break*", pause))
                had_lunch = had_lunch or lunch
                t, stretch = t + pause, 0
                passive, passive_from = 0.0, None
            for b in piece:
                listen(b)
            rows.append((_clock(t), _clock(t + length), _label(piece, minutes), length))
            t, stretch, taught = t + length, stretch + length, taught + length
    limit = check_int("teaching_minutes", fmt["teaching_minutes"], 1)
    if taught > limit:
        raise PlanError(
            f"{where}: {taught} min of teaching, more than the {limit} min a day of this format has. "
            f"In plan.json mark more sections 'show' or 'skip', drop exercise questions, or move a notebook "
            f"to another day."
        )
    return rows, taught


def _clock_minutes(text: str, where: str) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise PlanError(f"{where}: start must be a time such as '09:00', got {text!r}.")
    return int(m.group(1)) * 60 + int(m.group(2))


# --------------------------------------------------------------------------- Markdown

def schedule_markdown(minutes: dict, plan: dict, name: str) -> str:
    """The Markdown schedule of one workshop format.

    Parameters
    ----------
    minutes : dict
        ``minutes.json``'s ``notebooks``.
    plan : dict
        ``plan.json``: its ``rates`` and ``formats[name]`` (days of blocks, the day's teaching minutes,
        start time, breaks).
    name : str
        The format, e.g. ``"1-day"``.

    Returns
    -------
    str
        One table per day (start, end, what, minutes) with its teaching total.

    Raises
    ------
    PlanError
        When a day holds more teaching than ``teaching_minutes``, or the plan names a notebook, a section or
        an exercise question that does not exist.
    """
    rates = check_rates(plan["rates"])
    fmt = plan["formats"][name]
    out = []
    total = 0
    for d, day in enumerate(fmt["days"], start=1):
        rows, taught = schedule_day(minutes, day, rates, fmt, f"formats.{name}.days[{d - 1}]")
        total += taught
        head = f"**Day {d}**" if len(fmt["days"]) > 1 else "**The day**"
        out.append(f"{head}: {taught // 60} h {taught % 60:02d} min of teaching "
                   f"(limit {fmt['teaching_minutes'] // 60} h), {rows[0][0]}–{rows[-1][1]}.")
        out.append("")
        out.append("| start | end | what | min |")
        out.append("|---|---|---|---:|")
        out += [f"| {a} | {b} | {what} | {m} |" for a, b, what, m in rows]
        out.append("")
    if len(fmt["days"]) > 1:
        out.append(f"Teaching in all: {total // 60} h {total % 60:02d} min.")
    return "\n".join(out).rstrip()


def coverage_markdown(minutes: dict, plan: dict) -> str:
    """Which sections each format teaches live (L), shows (S) or skips (–), notebook by notebook."""
    names = list(plan["formats"])
    taken: dict[str, dict[str, dict]] = {n: {} for n in names}
    for n in names:
        for d, day in enumerate(plan["formats"][n]["days"]):
            for j, spec in enumerate(day["blocks"]):
                if "activity" in spec:
                    continue
                where = f"formats.{n}.days[{d}][{j}]"
                nb, entry = _find(minutes, spec.get("notebook", ""), where)
                taken[n][nb] = {"treat": _treatments(entry, spec, where), "q": _questions(entry, spec, where)}
    head = "| notebook | " + " | ".join(names) + " |"
    lines = [head, "|---|" + "---|" * len(names)]
    sym = {"live": "L", "show": "S", "skip": "–"}
    for nb, entry in minutes.items():
        numbered = [p["key"] for p in entry["sections"] if p["key"].isdigit()]
        cells = []
        for n in names:
            t = taken[n].get(nb)
            if t is None:
                cells.append("not taken")
                continue
            marks = " ".join(f"{k}{sym[t['treat'][k]]}" for k in numbered)
            nq = (entry.get("exercises") or {}).get("questions", 0)
            ex = "all" if len(t["q"]) == nq and nq else ("none" if not t["q"] else ",".join(map(str, t["q"])))
            cells.append(f"{marks} · ex. {ex}")
        lines.append(f"| {nb[:2]} {entry['title']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def totals_markdown(minutes: dict, plan: dict) -> str:
    """Per notebook: measured run time, sizes, minutes all live / all shown, exercises, self-paced hours."""
    rates = check_rates(plan["rates"])
    lines = ["| notebook | timing from | code run | words | code lines | figures + tables | all live | all shown "
             "| exercises | header's plan | self-paced |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    tot = [0.0] * 5
    for nb, e in minutes.items():
        parts = e["sections"]
        run = sum(p["run_s"] for p in parts)
        live = sum(section_minutes(p, "live", rates) for p in parts)
        show = sum(section_minutes(p, "show", rates) for p in parts)
        ex = e.get("exercises")
        exm = exercise_minutes(ex, ex["questions"], rates) if ex else 0.0
        selfp = self_paced_minutes(e, rates)
        for i, v in enumerate((run / 60, live, show, exm, selfp)):
            tot[i] += v
        q = f"{ex['questions']} q, " if ex else ""
        plan_h = e.get("planned")
        header = f"{plan_h['teaching']} + {plan_h['exercises']} min" if plan_h else "–"
        lines.append(
            f"| {nb[:2]} {e['title']} | {e['mode']} mode, {e['timing']} | {_dur_s(run)} "
            f"| {sum(p['words'] for p in parts)} | {sum(p['code_lines'] for p in parts)} "
            f"| {sum(p['outputs'] for p in parts)} | {live:.0f} min | {show:.0f} min | {q}{exm:.0f} min "
            f"| {header} | {selfp / 60:.1f} h |")
    plans = [e["planned"] for e in minutes.values() if e.get("planned")]
    planned_total = f"{sum(x['teaching'] + x['exercises'] for x in plans) / 60:.1f} h" if plans else "–"
    lines.append(f"| **all** | | {tot[0]:.1f} min | | | | {tot[1] / 60:.1f} h | {tot[2] / 60:.1f} h "
                 f"| {tot[3] / 60:.1f} h | {planned_total} | {tot[4] / 60:.1f} h |")
    return "\n".join(lines)


def page_minutes_markdown(name: str, minutes: dict, plan: dict) -> str:
    """One notebook's minutes per section, for its instructor page."""
    rates = check_rates(plan["rates"])
    e = minutes[name]
    lines = [f"Code run time: {e['timing']}, {e['mode']} mode (the kernel's timestamps of each cell of `{e['file']}`); "
             f"live and shown minutes by the formula in [README.md](README.md#how-the-minutes-are-measured).", "",
             "| section | words | code lines | figures + tables | code run | live | shown |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for p in e["sections"]:
        label = f"{p['key']}. {p['title']}" if p["key"].isdigit() else p["title"]
        lines.append(f"| {label} | {p['words']} | {p['code_lines']} | {p['outputs']} | {_dur_s(p['run_s'])} "
                     f"| {section_minutes(p, 'live', rates):.0f} min | {section_minutes(p, 'show', rates):.0f} min |")
    parts = e["sections"]
    lines.append(f"| **all** | {sum(p['words'] for p in parts)} | {sum(p['code_lines'] for p in parts)} "
                 f"| {sum(p['outputs'] for p in parts)} | {_dur_s(sum(p['run_s'] for p in parts))} "
                 f"| {sum(section_minutes(p, 'live', rates) for p in parts):.0f} min "
                 f"| {sum(section_minutes(p, 'show', rates) for p in parts):.0f} min |")
    quick = [p["key"] for p in parts if p["key"].isdigit() and p["run_s"] <= FULL_MODE_LIVE_S]
    slow = [p["key"] for p in parts if p["key"].isdigit() and p["run_s"] > FULL_MODE_LIVE_S]
    if quick or slow:
        lines += ["", "Full mode live: " + (f"§{', '.join(quick)} (each under {FULL_MODE_LIVE_S:.0f} s of code on the "
                                            "reference machine) can run in full mode in the room, so the numbers "
                                            "match the text" if quick else "no section is quick enough")
                  + (f"; run §{', '.join(slow)} in fast mode or discuss the committed outputs." if slow else ".")]
    ex = e.get("exercises")
    if ex:
        taken = []
        for fmt_name, fmt in plan["formats"].items():
            for d, day in enumerate(fmt["days"]):
                for j, spec in enumerate(day["blocks"]):
                    if spec.get("notebook") and name.startswith(spec["notebook"]):
                        qs = _questions(e, spec, f"formats.{fmt_name}.days[{d}][{j}]")
                        taken.append(f"{fmt_name}: " + (", ".join(f"Q{q}" for q in qs) if qs else "none"))
        room = "; ".join(taken) if taken else "no workshop format takes this notebook"
        lines += ["", f"Exercise questions in the room (from `plan.json`): {room}; the rest as homework."]
        lines += ["", f"Exercises (`{ex['file']}`): {ex['questions']} questions, "
                      f"{exercise_minutes(ex, ex['questions'], rates):.0f} min in the room "
                      f"({rates['minutes_per_question']:g} min a question plus {_dur_s(ex['run_s'])} of code)."]
    return "\n".join(lines)


def _dur_s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def formula_markdown(plan: dict) -> str:
    """The minutes formula in words, with the plan's rates."""
    r = check_rates(plan["rates"])
    return "\n".join([
        f"* **live** (the instructor types the code): words / {r['words_per_minute']:g} "
        f"+ {r['live_minutes_per_line']:g} × code lines + {r['minutes_per_output']:g} × outputs + run seconds / 60;",
        f"* **shown** (the cells are pre-written; the instructor runs them and reads the key lines aloud): "
        f"words / {r['words_per_minute']:g} + {r['show_minutes_per_line']:g} × code lines "
        f"+ {r['minutes_per_output']:g} × outputs + run seconds / 60;",
        f"* **exercises** in the room: {r['minutes_per_question']:g} min per question + the exercise notebook's "
        f"run seconds / 60;",
        f"* **self-paced** (a learner alone): words / {r['self_paced_words_per_minute']:g} "
        f"+ {r['self_paced_minutes_per_line']:g} × code lines + {r['minutes_per_output']:g} × outputs "
        f"+ run seconds / 60 + {r['self_paced_minutes_per_question']:g} min per exercise question.",
        "",
        f"That is: explaining a section's text at about {r['words_per_minute']:g} words a minute, typing code at "
        f"{1 / r['live_minutes_per_line']:.3g} lines a minute with the explanation that goes with them (or reading "
        f"pre-written code at {1 / r['show_minutes_per_line']:.3g} lines a minute), {r['minutes_per_output']:g} "
        f"min of discussion for every figure and table, and the machine's own run time.",
    ])


def blocks_to_write(minutes: dict, plan: dict) -> dict[str, str]:
    """Marker name -> generated Markdown for instructors/README.md."""
    out = {f"schedule:{name}": schedule_markdown(minutes, plan, name) for name in plan["formats"]}
    out["schedule:formula"] = formula_markdown(plan)
    out["schedule:coverage"] = coverage_markdown(minutes, plan)
    out["schedule:totals"] = totals_markdown(minutes, plan)
    return out


def fill(text: str, marker: str, body: str, where: str) -> str:
    """``text`` with the part between ``<!-- marker -->`` and ``<!-- /marker -->`` replaced by ``body``."""
    pattern = re.compile(rf"<!-- {re.escape(marker)} -->.*?<!-- /{re.escape(marker)} -->", re.S)
    if not pattern.search(text):
        raise PlanError(f"{where} has no <!-- {marker} --> ... <!-- /{marker} --> markers; add them where the "
                        f"generated text belongs.")
    return pattern.sub(lambda _: f"<!-- {marker} -->\n{body}\n<!-- /{marker} -->", text)


def page_path(name: str) -> Path:
    return HERE / f"{name}.md"


def generated_files(minutes: dict, plan: dict) -> dict[Path, str]:
    """Every file the generator writes (README and the existing notebook pages) with its new text."""
    files = {}
    text = README.read_text(encoding="utf-8")
    for marker, body in blocks_to_write(minutes, plan).items():
        text = fill(text, marker, body, str(README.relative_to(ROOT)))
    files[README] = text
    for name in minutes:
        page = page_path(name)
        if page.exists():
            files[page] = fill(page.read_text(encoding="utf-8"), "minutes",
                               page_minutes_markdown(name, minutes, plan), str(page.relative_to(ROOT)))
    return files


# --------------------------------------------------------------------------- staleness

def stale(recorded: dict, current: dict) -> list[str]:
    """What in minutes.json no longer matches the notebooks.

    Parameters
    ----------
    recorded : dict
        ``minutes.json``'s ``notebooks``.
    current : dict
        :func:`measure_all` of the notebooks as they are now.

    Returns
    -------
    list of str
        One line per problem: a section added, removed or renamed; words, code lines, outputs, exercise
        questions or the header's planned minutes changed; or a section's committed run time moved by more
        than ``RUN_TOLERANCE_S`` seconds and ``RUN_TOLERANCE_REL`` of itself (a rerun on the same machine
        stays inside). Empty when everything matches.
    """
    problems = []
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            problems.append(f"{name}: in minutes.json but not in notebooks/")
            continue
        if name not in recorded:
            problems.append(f"{name}: notebook has no entry in minutes.json")
            continue
        rec = {p["key"]: p for p in recorded[name]["sections"]}
        for p in current[name]["sections"]:
            r = rec.get(p["key"])
            if r is None:
                problems.append(f"{name}: section {p['key']} ({p['title']}) has no entry in minutes.json")
                continue
            for field in ("title", "words", "code_lines", "outputs"):
                if r.get(field) != p[field]:
                    problems.append(f"{name} §{p['key']}: {field} is {p[field]!r} in the notebook, "
                                    f"{r.get(field)!r} in minutes.json")
            if recorded[name].get("timing") == "committed outputs" and abs(r["run_s"] - p["run_s"]) > max(
                    RUN_TOLERANCE_S, RUN_TOLERANCE_REL * max(r["run_s"], p["run_s"])):
                problems.append(f"{name} §{p['key']}: code ran {p['run_s']} s in the committed outputs, "
                                f"{r['run_s']} s in minutes.json")
        extra = set(rec) - {p["key"] for p in current[name]["sections"]}
        problems += [f"{name}: minutes.json has section {k}, the notebook does not" for k in sorted(extra)]
        if recorded[name].get("planned") != current[name].get("planned"):
            problems.append(f"{name}: the header's planned minutes are {current[name].get('planned')} in the notebook, "
                            f"{recorded[name].get('planned')} in minutes.json")
        rq = (recorded[name].get("exercises") or {}).get("questions")
        cq = (current[name].get("exercises") or {}).get("questions")
        if rq != cq:
            problems.append(f"{name}: {cq} exercise questions in the notebook, {rq} in minutes.json")
    return problems


def load_plan() -> dict:
    return _read(PLAN)


def load_minutes() -> dict:
    return _read(MINUTES)["notebooks"]


def write_minutes(measured: dict, plan: dict) -> None:
    doc = {"about": "Written by python instructors/schedule.py --update (or --measure); do not edit by hand. "
                    "run_s: seconds the section's code cells ran; live_min / show_min: its minutes at the "
                    "rates of plan.json.",
           "notebooks": with_minutes(measured, check_rates(plan["rates"]))}
    MINUTES.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python instructors/schedule.py", description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--update", action="store_true", help="re-read the notebooks into minutes.json, write schedules")
    g.add_argument("--write", action="store_true", help="write the schedules and pages from minutes.json")
    g.add_argument("--check", action="store_true", help="exit 1 if minutes.json or a generated text is stale")
    g.add_argument("--measure", nargs="+", type=Path, metavar="NOTEBOOK",
                   help="execute these notebooks now (current mode) and record their section times")
    args = ap.parse_args(argv)
    plan = load_plan()
    if args.check:
        problems = stale(load_minutes(), measure_all())
        minutes = load_minutes()
        problems += [f"{p.relative_to(ROOT)}: generated text differs; run python instructors/schedule.py --write"
                     for p, text in generated_files(minutes, plan).items() if p.read_text(encoding="utf-8") != text]
        for p in problems:
            print(p)
        print("up to date" if not problems else f"{len(problems)} problem(s): run --update or --write")
        return 1 if problems else 0
    if args.update:
        write_minutes(measure_all(), plan)
    if args.measure:
        from sadlib.course.modes import is_fast

        measured = load_minutes() if MINUTES.exists() else measure_all()
        mode = "fast" if is_fast() else "full"
        for path in args.measure:
            path = path.resolve()
            nb = execute(path)
            ex_path = exercise_path(path)
            rel = str(path.relative_to(ROOT))
            entry = measure_notebook(nb, rel, rel_exercises=str(ex_path.relative_to(ROOT)) if ex_path else None,
                                     ex=_read(ex_path) if ex_path else None,
                                     source=f"measured by schedule.py --measure ({mode} mode)")
            measured[path.stem] = entry
            print(f"{rel}: {sum(p['run_s'] for p in entry['sections']):.0f} s of code in {mode} mode")
        write_minutes(measured, plan)
    minutes = load_minutes()
    for path, text in generated_files(minutes, plan).items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
