"""Run the course notebooks headless and measure them: ``python -m sadlib.course``.

``make course`` calls this in full mode. It executes every notebook top to bottom
in a fresh kernel (the way nbval and a learner do), prints a table of wall time
per notebook, and optionally:

* ``--save``: writes the executed notebooks back, so the repository shows the
  outputs of a full run;
* ``--update-headers``: writes the measured time into each notebook's header,
  between ``<!-- runtime -->`` and ``<!-- /runtime -->``;
* ``--readme README.md``: writes the timing table into the README, between
  ``<!-- timings -->`` and ``<!-- /timings -->``;
* ``--repeat N``: runs each notebook N times and reports the median, with the
  fastest and slowest run, so that one slow run on a busy machine does not set
  the published time.

Times depend on the machine and on what else runs on it: the table states the
machine's load (the 1-minute load average, ``os.getloadavg``) before and after
each notebook beside its time. The ones committed were measured on a 2-core CPU.

Claims (:func:`sadlib.course.claims.claim`) print a tick line; the runner counts them per
notebook and reports a notebook whose false claim raised :class:`~sadlib.course.claims.ClaimError`.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

from .claims import STRICT_ENV_VAR, count_claims
from .modes import is_fast

RUNTIME = re.compile(r"<!-- runtime -->.*?<!-- /runtime -->", re.S)
TIMINGS = re.compile(r"<!-- timings -->.*?<!-- /timings -->", re.S)


def find_notebooks(paths: list[str]) -> list[Path]:
    """Notebooks under the given files/folders, in course order (by file name)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.glob("*.ipynb") if not q.name.startswith("."))
        elif p.suffix == ".ipynb":
            found.append(p)
        else:
            raise SystemExit(f"not a notebook or folder: {p}")
    return found


def run_notebook(path: Path, timeout: int = 1800):
    """Execute one notebook in a fresh kernel, in its own folder; return (notebook, seconds)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def runtime_note(seconds: float) -> str:
    """The header line with the measured time, between markers on lines of their own.

    A Markdown line that *starts* with an HTML comment is raw HTML to CommonMark (so a site
    builder would show its ``**`` literally); markers alone on their lines are not.
    """
    mode = "fast" if is_fast() else "full"
    return (
        f"<!-- runtime -->\n**Measured run time** ({mode} mode, `make course`, {os.cpu_count()}-core CPU): "
        f"{_minutes(seconds)}\n<!-- /runtime -->"
    )


def update_header(nb, seconds: float) -> bool:
    """Replace the runtime marker in the first markdown cell that has one."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and RUNTIME.search(cell.source):
            cell.source = RUNTIME.sub(runtime_note(seconds).replace("\\", r"\\"), cell.source)
            return True
    return False


def load_average() -> float | None:
    """The machine's 1-minute load average (runnable processes), ``None`` where the OS has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _load(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def timing_table(rows: list[tuple], *, runs: dict | None = None, loads: dict | None = None) -> str:
    """Markdown table of ``(name, seconds)`` or ``(name, seconds, claims_checked)`` rows.

    ``runs`` maps a name to the seconds of each of its runs (``seconds`` is then their median):
    the time column says "median of N" and a column gives the fastest and slowest run. ``loads``
    maps a name to the load average ``(before, after)`` its runs: a column states it.
    """
    runs, loads = runs or {}, loads or {}
    with_claims = any(len(r) > 2 for r in rows)
    n_runs = {len(runs[r[0]]) for r in rows if r[0] in runs}
    repeated = bool(n_runs) and max(n_runs) > 1
    time_header = (f"median of {n_runs.pop()} runs" if len(n_runs) == 1 else "median of the runs") if repeated \
        else "wall time"
    header = ["notebook", time_header] + (["fastest - slowest"] if repeated else []) \
        + (["load before / after"] if loads else []) + (["claims checked"] if with_claims else [])
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for r in rows:
        cells = [f"`{r[0]}`", _minutes(r[1])]
        if repeated:
            times = runs.get(r[0], [r[1]])
            cells.append(f"{_minutes(min(times))} - {_minutes(max(times))}")
        if loads:
            before, after = loads.get(r[0], (None, None))
            cells.append(f"{_load(before)} / {_load(after)}")
        if with_claims:
            cells.append(str(r[2] if len(r) > 2 else 0))
        lines.append("| " + " | ".join(cells) + " |")
    total = ["**total**", _minutes(sum(r[1] for r in rows))] + [""] * (repeated + bool(loads))
    if with_claims:
        total.append(str(sum(r[2] for r in rows if len(r) > 2)))
    lines.append("| " + " | ".join(total) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sadlib.course", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", default=["notebooks"], help="notebooks or folders (default: notebooks)")
    ap.add_argument("--save", action="store_true", help="write the executed notebooks (with outputs) back")
    ap.add_argument("--update-headers", action="store_true", help="write measured times into notebook headers")
    ap.add_argument("--readme", type=Path,
                    help="write the timing table into this file between <!-- timings --> markers")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run each notebook N times and report the median, with the fastest and slowest run "
                         "(default 1); the outputs saved are those of the last run")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error(f"--repeat must be a whole number of runs >= 1, got {args.repeat}; e.g. --repeat 3")

    import nbformat

    notebooks = find_notebooks(args.paths)
    os.environ.pop("MPLBACKEND", None)  # a non-interactive backend would drop every figure from the outputs
    os.environ[STRICT_ENV_VAR] = "1"  # the kernels inherit it: a false claim fails the notebook here
    mode = "FAST" if is_fast() else "FULL"
    repeat = f", {args.repeat} runs each (median)" if args.repeat > 1 else ""
    print(f"Running {len(notebooks)} notebooks in {mode} mode on {platform.machine()} with {os.cpu_count()} CPUs"
          f"{repeat}; load average {_load(load_average())}")
    rows: list[tuple] = []
    runs: dict[str, list[float]] = {}
    loads: dict[str, tuple] = {}
    failed = []
    for path in notebooks:
        print(f"  {path} ...", end=" ", flush=True)
        before, times = load_average(), []
        try:
            for _ in range(args.repeat):
                nb, seconds = run_notebook(path, args.timeout)
                times.append(seconds)
        except Exception as exc:  # report and go on with the others
            detail = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"
            if getattr(exc, "ename", "") == "ClaimError":
                detail = "a claim in the text is false in this run. " + detail
            print(f"FAILED: {detail}")
            failed.append(path)
            continue
        loads[str(path)], runs[str(path)] = (before, load_average()), times
        seconds = float(statistics.median(times))
        checked, skipped = count_claims(nb)
        note = f", {checked} claims checked" + (f", {skipped} skipped in fast mode" if skipped else "")
        spread = f" (median of {len(times)}: {_minutes(min(times))} - {_minutes(max(times))})" if len(times) > 1 else ""
        print(f"{_minutes(seconds)}{spread}, load {_load(before)} -> {_load(loads[str(path)][1])}{note}")
        rows.append((str(path), seconds, checked))
        if args.update_headers:
            update_header(nb, seconds)
        if args.save or args.update_headers:
            nbformat.write(nb, path)
    table = timing_table(rows, runs=runs, loads=loads)
    print()
    print(table)
    if args.readme and rows:
        text = args.readme.read_text()
        if not TIMINGS.search(text):
            print(f"warning: no <!-- timings --> markers in {args.readme}; not updated", file=sys.stderr)
        else:
            how = f", the median of {args.repeat} runs per notebook" if args.repeat > 1 else ""
            stamp = (f"Measured with `make course` ({mode.lower()} mode) on a {os.cpu_count()}-core CPU{how}; the load "
                     f"column is the machine's 1-minute load average before / after each notebook.\n\n")
            args.readme.write_text(TIMINGS.sub(lambda _: f"<!-- timings -->\n{stamp}{table}\n<!-- /timings -->", text))
    if failed:
        print(f"\n{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
