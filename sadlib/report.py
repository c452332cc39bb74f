"""A one-page maintenance report: what an engineer hands to the maintenance team.

:func:`write_report` writes a title, a summary, the alarm table, figures and notes
to one file, as HTML or Markdown (chosen by the file's suffix):

* **HTML** (``.html``, ``.htm``): one self-contained file; the figures are embedded
  as base64 PNG images and the style sheet is inline, so it can be mailed or
  attached to a work order as it is and opens in any browser, offline.
* **Markdown** (``.md``, ``.markdown``): the text file, with the figures written as
  PNG files into a folder beside it (``report.md`` -> ``report_files/figure_01.png``)
  and linked by relative paths, so the pair renders on GitHub, GitLab or in a wiki.

Every piece of text (title, summary, table cells, captions, notes) is escaped, so
a sensor name such as ``<TP2>`` or a note with ``|`` shows as written and cannot
inject markup.

Existing files are never replaced silently: writing to a path that exists (or,
for Markdown, whose figure folder exists) raises :class:`FileExistsError` unless
``overwrite=True``; with it, the file is replaced and the report's old figures
(``figure_NN.png`` in its folder) are deleted before the new ones are written.
Nothing else in the folder is touched. Everything is rendered in memory first, so
a failing figure leaves no half-written report.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import os
import re
from numbers import Real
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote

import numpy as np
import pandas as pd

from .validation import InvalidParameterError, check_bool, check_int

__all__ = ["REPORT_FORMATS", "write_report", "format_value"]

#: file suffix -> report format
REPORT_FORMATS: dict[str, str] = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}

_FIGURE_NAME = re.compile(r"^figure_\d+\.png$")
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 60em; margin: 2em auto;
       padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
.generated { color: #666; font-size: 0.9em; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
table.summary th { background: #f7f7f7; font-weight: 600; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9em; }
@media print { body { margin: 0; max-width: none; } figure { break-inside: avoid; } }
""".strip()


# --------------------------------------------------------------------------- #
# values as text
# --------------------------------------------------------------------------- #
def _duration(td: pd.Timedelta) -> str:
    sign = "-" if td < pd.Timedelta(0) else ""
    seconds = abs(td.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{int(days)} d" if days else "", f"{int(hours)} h" if hours else "",
             f"{int(minutes)} min" if minutes else ""]
    if secs and not days:
        parts.append(f"{secs:g} s")
    text = " ".join(p for p in parts if p)
    return sign + (text or "0 s")


def format_value(value: Any) -> str:
    """A value as a maintenance engineer reads it in a table.

    Missing values (None, NaN, NaT) become an em dash, timestamps
    ``YYYY-MM-DD HH:MM:SS``, durations ``2 d 3 h 5 min``, floats four significant
    digits, booleans yes / no and lists comma-separated.

    Examples
    --------
    >>> [format_value(v) for v in (None, float("nan"), pd.Timedelta("26h 5min"), 0.123456, True, ["TP2", "H1"])]
    ['—', '—', '1 d 2 h 5 min', '0.1235', 'yes', 'TP2, H1']
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, _dt.datetime, np.datetime64)):
        ts = pd.Timestamp(value)
        return "—" if pd.isna(ts) else ts.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        td = pd.Timedelta(value)
        return "—" if pd.isna(td) else _duration(td)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, Real):
        v = float(value)
        return "—" if math.isnan(v) else f"{v:.4g}"
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


# --------------------------------------------------------------------------- #
# escaping
# --------------------------------------------------------------------------- #
def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|#~&!])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])", flags=re.MULTILINE)


def _md(text: Any, *, inline: bool = False) -> str:
    """Markdown-escaped text: shows literally in CommonMark renderers; ``inline`` keeps it on one line."""
    s = str(text)
    if inline:
        s = " ".join(s.split())
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), s)


# --------------------------------------------------------------------------- #
# checks
# --------------------------------------------------------------------------- #
def _check_path(path: Any, overwrite: bool) -> tuple[Path, str]:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(f"path must be a file name such as 'report.html' or 'report.md', got "
                                    f"{type(path).__name__}.")
    p = Path(path)
    fmt = REPORT_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InvalidParameterError(f"path {str(p)!r} has suffix {p.suffix!r}; the report format comes from the "
                                    f"suffix: use one of {', '.join(REPORT_FORMATS)}.")
    if p.is_dir():
        raise IsADirectoryError(f"path {str(p)!r} is a directory; pass a file name inside it, e.g. "
                                f"{str(p / ('report' + p.suffix))!r}.")
    if not p.parent.is_dir():
        raise FileNotFoundError(f"the folder {str(p.parent)!r} of the report does not exist; create it first "
                                f"(Path({str(p.parent)!r}).mkdir(parents=True)) or choose another path.")
    if not overwrite:
        taken = [q for q in ([p] + ([_figure_dir(p)] if fmt == "markdown" else [])) if q.exists()]
        if taken:
            raise FileExistsError(f"{', '.join(repr(str(q)) for q in taken)} already exist(s); pass overwrite=True to "
                                  f"replace the report (its old figures are deleted), or choose another path.")
    return p, fmt


def _figure_dir(p: Path) -> Path:
    return p.with_name(p.stem + "_files")


def _summary_items(summary: Any) -> list[tuple[str, str]] | str:
    if isinstance(summary, str):
        return summary
    if isinstance(summary, pd.Series):
        summary = summary.to_dict()
    if isinstance(summary, Mapping):
        return [(str(k), format_value(v)) for k, v in summary.items()]
    raise InvalidParameterError(f"summary must be a dict of figures ({{'event recall': 0.95, ...}}) or a text, got "
                                f"{type(summary).__name__}.")


def _figures(figures: Any) -> list[tuple[str, Any]]:
    from matplotlib.figure import Figure

    if figures is None:
        return []
    if isinstance(figures, Figure) or (isinstance(figures, tuple) and len(figures) == 2
                                       and isinstance(figures[1], Figure)):
        figures = [figures]
    if not isinstance(figures, Sequence) or isinstance(figures, str):
        raise InvalidParameterError(f"figures must be a list of matplotlib Figures or (caption, Figure) pairs, got "
                                    f"{type(figures).__name__}.")
    out = []
    for i, item in enumerate(figures):
        if isinstance(item, Figure):
            out.append(("", item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], Figure):
            out.append(item)
        else:
            kind = type(item).__name__
            if isinstance(item, tuple):
                kind = f"a tuple of ({', '.join(type(x).__name__ for x in item)})"
            raise InvalidParameterError(
                f"figures[{i}] must be a matplotlib Figure or a (caption, Figure) pair, got {kind}; "
                f"for an Axes pass ax.figure.")
    return out


def _notes(notes: Any) -> list[str]:
    if notes is None:
        return []
    if isinstance(notes, str):
        return [notes]
    if isinstance(notes, Sequence) and all(isinstance(n, str) for n in notes):
        return list(notes)
    raise InvalidParameterError(f"notes must be a text or a list of texts, got {type(notes).__name__}.")


def _png(fig: Any, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _table_cells(table: pd.DataFrame, max_rows: int) -> tuple[list[str], list[list[str]], int]:
    show_index = table.index.name is not None or not isinstance(table.index, pd.RangeIndex)
    header = ([str(table.index.name or "")] if show_index else []) + [str(c) for c in table.columns]
    rows = []
    for label, row in zip(table.index[:max_rows], table.itertuples(index=False, name=None)):
        rows.append(([format_value(label)] if show_index else []) + [format_value(v) for v in row])
    return header, rows, max(0, len(table) - max_rows)


# --------------------------------------------------------------------------- #
# rendering
# --------------------------------------------------------------------------- #
def _html(title: str, summary: Any, header: list[str], rows: list[list[str]], hidden: int,
          figures: list[tuple[str, bytes]], notes: list[str], stamp: str | None) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_h(title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>", f"<h1>{_h(title)}</h1>"]
    if stamp:
        out.append(f'<p class="generated">{_h(stamp)}</p>')
    out.append("<h2>Summary</h2>")
    if isinstance(summary, str):
        out += [f"<p>{_h(par).replace(chr(10), '<br>')}</p>" for par in re.split(r"\n\s*\n", summary.strip()) if par]
    else:
        out.append('<table class="summary"><tbody>')
        out += [f"<tr><th>{_h(k)}</th><td>{_h(v)}</td></tr>" for k, v in summary]
        out.append("</tbody></table>")
    out.append("<h2>Alarms</h2>")
    if not rows:
        out.append("<p>No alarms.</p>")
    else:
        out.append('<table class="alarms">')
        out.append("<thead><tr>" + "".join(f"<th>{_h(c)}</th>" for c in header) + "</tr></thead>")
        out.append("<tbody>")
        out += ["<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in rows]
        out.append("</tbody></table>")
        if hidden:
            out.append(f"<p>… and {hidden} more alarm(s), not shown.</p>")
    if figures:
        out.append("<h2>Figures</h2>")
        for i, (caption, png) in enumerate(figures, 1):
            alt = caption or f"Figure {i}"
            out.append(f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" '
                       f'alt="{_h(alt)}"><figcaption>Figure {i}{": " + _h(caption) if caption else ""}'
                       f"</figcaption></figure>")
    if notes:
        out.append("<h2>Notes</h2>")
        out.append("<ul>" + "".join(f"<li>{_h(n)}</li>" for n in notes) + "</ul>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _markdown(title: str, summary: Any, header: list[str], rows: list[list[str]], hidden: int,
              figure_links: list[tuple[str, str]], notes: list[str], stamp: str | None) -> str:
    out = [f"# {_md(title, inline=True)}", ""]
    if stamp:
        out += [f"*{_md(stamp, inline=True)}*", ""]
    out += ["## Summary", ""]
    if isinstance(summary, str):
        out += [_md(par.strip()) + "\n" for par in re.split(r"\n\s*\n", summary.strip()) if par.strip()]
    else:
        out += ["| | |", "|---|---|"]
        out += [f"| **{_md(k, inline=True)}** | {_md(v, inline=True)} |" for k, v in summary]
        out.append("")
    out += ["## Alarms", ""]
    if not rows:
        out += ["No alarms.", ""]
    else:
        out.append("| " + " | ".join(_md(c, inline=True) for c in header) + " |")
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(_md(c, inline=True) for c in row) + " |" for row in rows]
        out.append("")
        if hidden:
            out += [f"… and {hidden} more alarm(s), not shown.", ""]
    if figure_links:
        out += ["## Figures", ""]
        for i, (caption, link) in enumerate(figure_links, 1):
            alt = _md(caption or f"Figure {i}", inline=True)
            out += [f"![{alt}]({link})", "", f"*Figure {i}{': ' + _md(caption, inline=True) if caption else ''}*", ""]
    if notes:
        out += ["## Notes", ""]
        out += [f"- {_md(n, inline=True)}" for n in notes]
        out.append("")
    return "\n".join(out)


def write_report(
    path: str | os.PathLike,
    *,
    title: str,
    summary: Mapping[str, Any] | str,
    alarms_table: pd.DataFrame,
    figures: Sequence[Any] | None = (),
    notes: str | Sequence[str] | None = None,
    overwrite: bool = False,
    max_rows: int = 50,
    dpi: int = 100,
    timestamp: bool = True,
) -> Path:
    """Write a one-page maintenance report (HTML or Markdown, from the suffix of ``path``).

    Parameters
    ----------
    path : str or path-like
        The report file; ``.html`` / ``.htm`` writes one self-contained HTML file (figures
        embedded as base64 PNG), ``.md`` / ``.markdown`` writes Markdown with the figures as
        PNG files in the folder ``<stem>_files`` beside it. Its folder must exist.
    title : str
        The report's title, e.g. ``"Air compressor APU 3: alarms of week 12"``.
    summary : dict or str
        The key figures (``{"failures": 2, "detected": 2, "median lead time": pd.Timedelta("9h")}``,
        shown as a two-column table with values formatted by :func:`format_value`), or a
        text (blank lines separate paragraphs).
    alarms_table : pandas.DataFrame
        One row per alarm, e.g. :func:`sadlib.alarms.alarm_table` joined with
        :func:`sadlib.attribution.top_sensors`, or :func:`sadlib.metrics.lead_times`. A named
        or non-default index is shown as the first column. An empty table writes "No alarms.".
    figures : list, optional
        matplotlib Figures or ``(caption, Figure)`` pairs, in order.
    notes : str or list of str, optional
        Remarks for the maintenance team, one bullet each.
    overwrite : bool, default False
        ``False``: a :class:`FileExistsError` if ``path`` (or, for Markdown, its figure
        folder) exists, and nothing is written. ``True``: the file is replaced and the
        old ``figure_NN.png`` files of its figure folder are deleted first (nothing else).
    max_rows : int >= 1, default 50
        At most this many alarm rows are shown (one page); a line says how many are left out.
    dpi : int >= 30, default 100
        Resolution of the figure images.
    timestamp : bool, default True
        Write the time of writing (UTC) under the title; ``False`` gives byte-identical
        files for identical input.

    Returns
    -------
    pathlib.Path
        The path of the report file.

    Raises
    ------
    InvalidParameterError
        for an unknown suffix or wrongly typed arguments.
    FileNotFoundError, IsADirectoryError, FileExistsError
        for a missing folder, a folder given as the file, or an existing report without
        ``overwrite=True``.

    Examples
    --------
    >>> import tempfile, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.plot([1, 3, 2])
    >>> table = pd.DataFrame({"start": [pd.Timestamp("2022-03-09 06:00")], "top_sensor": ["TP3"]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_report(Path(d) / "report.html", title="APU alarms", summary={"alarms": 1},
    ...                      alarms_table=table, figures=[("Scores", fig)])
    ...     "TP3" in p.read_text(encoding="utf-8")
    True
    >>> plt.close(fig)
    """
    overwrite = check_bool("overwrite", overwrite)
    timestamp = check_bool("timestamp", timestamp)
    max_rows = check_int("max_rows", max_rows, 1, hint="It is how many alarm rows the one-page report shows.")
    dpi = check_int("dpi", dpi, 30, hint="It is the resolution of the figure images in dots per inch.")
    if not isinstance(title, str) or not title.strip():
        raise InvalidParameterError(f"title must be a non-empty text, got {title!r}.")
    if not isinstance(alarms_table, pd.DataFrame):
        raise InvalidParameterError(f"alarms_table must be a pandas DataFrame (one row per alarm, e.g. "
                                    f"sadlib.alarms.alarm_table(...)), got {type(alarms_table).__name__}.")
    p, fmt = _check_path(path, overwrite)
    items = _summary_items(summary)
    figs = _figures(figures)
    note_list = _notes(notes)
    header, rows, hidden = _table_cells(alarms_table, max_rows)
    pngs = [(caption, _png(fig, dpi)) for caption, fig in figs]  # everything rendered before anything is written
    stamp = (f"Written {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC by sadlib.report"
             if timestamp else None)
    if fmt == "html":
        p.write_text(_html(title, items, header, rows, hidden, pngs, note_list, stamp), encoding="utf-8")
        return p
    folder = _figure_dir(p)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{str(folder)!r} is a file, but the report's figures go into a folder of that name; "
                              f"move it or choose another report name.")
    if folder.is_dir():
        for old in folder.iterdir():
            if _FIGURE_NAME.match(old.name) and old.is_file():
                old.unlink()
    links = []
    if pngs:
        folder.mkdir(exist_ok=True)
        for i, (caption, png) in enumerate(pngs, 1):
            name = f"figure_{i:02d}.png"
            (folder / name).write_bytes(png)
            links.append((caption, quote(f"{folder.name}/{name}")))
    p.write_text(_markdown(title, items, header, rows, hidden, links, note_list, stamp), encoding="utf-8")
    return p
