"""The course's standard figures, with one consistent look.

Every function draws with :data:`COLORS` and :data:`STYLE` (applied locally, the
global matplotlib style is left alone unless you call :func:`apply_style`),
returns the Figure or Axes and never calls ``plt.show()``. Labelled anomalies
are shaded once per contiguous run, so 100k points with many events stay fast.

Axes say what they show: a sensor's y label carries its unit (looked up in
:data:`UNITS` by column name, or given with ``units=``), and the x axis is
labelled "time" for a DatetimeIndex and "sample" otherwise.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ._runs import run_bounds
from .signals import UNITS as _PUMP_UNITS
from .validation import (
    as_1d_float,
    as_2d_float,
    as_labels,
    as_scores,
    check_bool,
    check_int,
    check_number,
    check_time_index,
)

__all__ = ["COLORS", "STYLE", "UNITS", "apply_style", "plot_signal", "plot_scores", "plot_event_timeline",
           "plot_alarm_timeline", "plot_score_hist", "plot_forecast"]

#: Units that :func:`plot_signal` writes on the y axes by column name: the synthetic pump
#: (:data:`sadlib.signals.UNITS`) and SKAB's sensors (units from the SKAB documentation,
#: see ``datasets/skab.md``). NAB's ``value`` has no stated unit: pass ``units=`` yourself.
UNITS: dict[str, str] = {
    **_PUMP_UNITS,
    "Accelerometer1RMS": "g", "Accelerometer2RMS": "g", "Current": "A", "Pressure": "bar",
    "Temperature": "°C", "Thermocouple": "°C", "Voltage": "V", "Volume Flow RateRMS": "l/min",
}

COLORS: dict[str, str] = {
    "signal": "#1f4e79",  # sensor lines
    "score": "#3a6ea5",  # anomaly-score line, normal histogram
    "threshold": "#b22222",  # threshold line
    "anomaly": "#e9c46a",  # shading of labelled anomalies (drawn with alpha)
    "alarm": "#7b2cbf",  # alarm markers, scores above the threshold
    "detected": "#2a9d8f",  # true events that got an alarm
    "missed": "#e63946",  # true events without an alarm; anomalous histogram
    "false_alarm": "#f77f00",  # alarms outside every true event
}
SHADE_ALPHA = 0.35

STYLE: dict[str, Any] = {
    "figure.figsize": (10, 4), "figure.dpi": 100, "font.size": 10,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linestyle": "-",
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=[COLORS[k] for k in ("signal", "missed", "detected", "false_alarm", "alarm")]),
    "legend.frameon": True, "legend.framealpha": 0.85, "legend.edgecolor": "none", "lines.linewidth": 1.0,
}


def apply_style() -> None:
    """Make :data:`STYLE` the global matplotlib style (e.g. once at the top of a notebook)."""
    mpl.rcParams.update(STYLE)


def _styled(func):
    """Run ``func`` under :data:`STYLE` without changing the global rcParams."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(STYLE):
            out = func(*args, **kwargs)
            # Jupyter's inline backend switches interactive mode on when pyplot first loads it,
            # which may happen inside this context; leaving the context would switch it off
            # again and later figures would silently stop showing. Keep what the backend set.
            interactive = mpl.is_interactive()
        mpl.interactive(interactive)
        return out
    return wrapper


def _x(index: Any, n: int, name: str = "index") -> tuple[np.ndarray, bool]:
    """x positions, shape ``(n,)``, as floats (matplotlib date numbers for datetimes) and an is-date flag."""
    if index is None:
        return np.arange(n, dtype=float), False
    idx = pd.Index(index)
    if len(idx) != n:
        raise ValueError(f"{name} has {len(idx)} entries but there are {n} samples; pass one x value per sample.")
    if isinstance(idx, pd.DatetimeIndex):
        check_time_index(idx, name=name)
        return mdates.date2num(idx.tz_localize(None) if idx.tz is not None else idx), True
    return as_1d_float(idx.to_numpy(), name=name), False


def _runs(mask: np.ndarray) -> np.ndarray:
    """Contiguous True runs as ``(start, stop)`` pairs, shape ``(n_runs, 2)`` (:func:`sadlib._runs.run_bounds`)."""
    return np.column_stack(run_bounds(mask))


def _edges(x: np.ndarray) -> np.ndarray:
    """Sample edges, shape ``(n + 1,)``: sample i covers ``[x[i], x[i+1])``, the last one a median step."""
    step = float(np.median(np.diff(x))) if x.size > 1 else 1.0
    return np.append(x, x[-1] + step)


def _spans(x: np.ndarray, runs: np.ndarray) -> list[tuple[float, float]]:
    """``(left, right)`` x edges of each ``(start, stop)`` run."""
    ends = _edges(x)
    return [(ends[a], ends[b]) for a, b in runs]


def _shade(ax: Axes, spans: list[tuple[float, float]], label: str | None = "labelled anomaly") -> None:
    for i, (left, right) in enumerate(spans):
        ax.axvspan(left, right, color=COLORS["anomaly"], alpha=SHADE_ALPHA, lw=0, label=label if i == 0 else None)


def _finish_x(ax: Axes, is_date: bool, xlabel: str | None = None) -> None:
    """Date ticks for a time axis and the x label ("time" or "sample" unless ``xlabel`` is given).

    The automatic label goes only on axes in the bottom row of their grid, so a stack of panels
    sharing the x axis is labelled once; ``xlabel=""`` leaves the label off.
    """
    if is_date:
        ax.xaxis_date()
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if xlabel is None:
        spec = ax.get_subplotspec()
        if spec is not None and not spec.is_last_row():
            return
        xlabel = "time" if is_date else "sample"
    ax.set_xlabel(xlabel)


def _unit_of(name: Any, units: Any) -> str | None:
    """The unit of column ``name``: ``units`` (a str for all, or a mapping) first, then :data:`UNITS`."""
    if isinstance(units, str):
        return units or None
    if units is not None and name in units:
        return units[name] or None
    return UNITS.get(name) if isinstance(name, str) else None


def _squared(unit: str | None) -> str | None:
    """The unit of a squared error: ``"°C"`` -> ``"°C²"``, ``"mm/s"`` -> ``"(mm/s)²"``."""
    if not unit:
        return None
    return f"({unit})²" if any(c in unit for c in "/ *") else f"{unit}²"


def _ylabel(name: Any, unit: str | None) -> str:
    """``name`` with its unit on a second line, e.g. ``"pressure\n[bar]"``."""
    return f"{name}\n[{unit}]" if unit else str(name)


@_styled
def plot_signal(data: Any, *, labels: Any = None, alarms: Any = None, columns: Sequence[Any] | None = None,
                events: pd.DataFrame | None = None, title: str | None = None, axes: Any = None,
                units: str | Mapping[Any, str | None] | None = None, xlabel: str | None = None) -> Figure:
    """One subplot per sensor (shared x) with labelled anomalies shaded and alarms marked.

    Parameters
    ----------
    data : DataFrame (DatetimeIndex or integer index) or array, shape (n, n_sensors)
    labels, alarms : bool/0-1 array, shape (n,), optional
        Labelled anomalies are shaded over every subplot (one span per run);
        alarms are drawn as a rug of ``|`` marks at the bottom of every subplot.
    columns : list, optional
        Column names (DataFrame) or positions (array) to plot; default all.
    events : DataFrame with columns ``start``, ``end``, ``type`` [, ``sensor``], optional
        Event types written at each event start, on the ``sensor`` subplot when it is plotted,
        else on the top one. ``start``/``end`` are in index units (timestamps or positions).
        Labels that would overlap are stacked in rows, and the y range grows so that they
        sit above the data.
    axes : sequence of Axes, one per plotted sensor, optional
        Draw into these (e.g. part of a bigger figure); by default a new figure with
        constrained layout, so long y labels are not cut off.
    units : str or mapping of column to unit, optional
        Unit written under each y label, e.g. ``{"value": "°C"}``, or one str for every column.
        Columns not given are looked up in :data:`UNITS` (the synthetic pump, SKAB); a unit of
        ``None`` or ``""`` shows the bare name.
    xlabel : str, optional
        Label of the shared x axis; default "time" for a DatetimeIndex, else "sample".

    Returns
    -------
    Figure
    """
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        if columns is not None:
            missing = [c for c in columns if c not in data.columns]
            if missing:
                raise ValueError(f"columns {missing} are not in data; available: {list(data.columns)[:10]}.")
            data = data[list(columns)]
        names, index = list(data.columns), data.index
    else:
        index = None
    X = as_2d_float(data, name="data", allow_nan=True)
    if index is None:
        names = [f"x{i}" for i in range(X.shape[1])]
        if columns is not None:
            bad = [c for c in columns if not isinstance(c, (int, np.integer)) or not 0 <= c < X.shape[1]]
            if bad:
                raise ValueError(f"columns {bad} are not positions of the {X.shape[1]} array columns; pass ints.")
            X, names = X[:, list(columns)], [names[c] for c in columns]
    n, k = X.shape
    x, is_date = _x(index, n, name="data.index")
    own_figure = axes is None
    if own_figure:
        fig, axes = plt.subplots(k, 1, sharex=True, squeeze=False, figsize=(10, 1.6 * k + 1.0), layout="constrained")
        axes = axes[:, 0]
    else:
        axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        if axes.size != k:
            raise ValueError(f"axes has {axes.size} Axes but {k} sensors are plotted; pass one Axes per sensor.")
        fig = axes[0].figure
    spans = _spans(x, _runs(as_labels(labels, name="labels", n=n))) if labels is not None else []
    alarm_x = x[as_labels(alarms, name="alarms", n=n)] if alarms is not None else None
    for j, ax in enumerate(axes):
        ax.plot(x, X[:, j], color=COLORS["signal"], lw=0.8)
        ax.set_ylabel(_ylabel(names[j], _unit_of(names[j], units)))
        _shade(ax, spans, label="labelled anomaly" if j == 0 else None)
        if alarm_x is not None:
            ax.plot(alarm_x, np.full(alarm_x.size, 0.03), "|", color=COLORS["alarm"], ms=8,
                    transform=ax.get_xaxis_transform(), label="alarm" if j == 0 else None)
        _finish_x(ax, is_date, xlabel if j == len(axes) - 1 else "")
    if own_figure:
        fig.align_ylabels(axes)
    if spans or alarm_x is not None:
        spec = axes[0].get_subplotspec()
        if own_figure or (spec is not None and spec.is_first_row()):  # above the top panel, clear of data and labels
            axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize="small", borderaxespad=0.2)
        else:  # another panel may sit above
            axes[0].legend(loc="upper right", fontsize="small")
    if title:
        fig.suptitle(title)
    if events is not None:
        _annotate_events(axes, names, events, is_date)
    return fig


_LABEL_TOP, _LABEL_PAD_PX = 0.97, 4.0  # top of the first row of event labels (axes fraction); gap between labels


def _annotate_events(axes: np.ndarray, names: list, events: pd.DataFrame, is_date: bool) -> None:
    """Write each event's type at its start, in as many rows as needed so that no two labels overlap.

    The labels are measured in a layout pass of the figure, packed greedily into rows (a label
    goes into the first row where it clears the previous label by a few pixels; one that would run
    past the right edge ends at its event instead of starting there), and each subplot's y range
    is raised so that the data stays below its rows of labels.
    """
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"events must be a DataFrame with columns start, end, type; got {type(events).__name__}.")
    missing = {"start", "end", "type"} - set(events.columns)
    if missing:
        raise ValueError(f"events is missing column(s) {sorted(missing)}; expected start, end, type[, sensor].")
    starts = mdates.date2num(pd.to_datetime(events["start"])) if is_date else events["start"].to_numpy(float)
    sensors = events["sensor"] if "sensor" in events else [None] * len(events)
    texts: dict[int, list] = {}
    for x0, kind, sensor in zip(starts, events["type"], sensors):
        j = names.index(sensor) if sensor in names else 0
        ax = axes[j]
        text = ax.text(x0, _LABEL_TOP, str(kind), transform=ax.get_xaxis_transform(), fontsize=8, va="top",
                       clip_on=True, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none",
                                           "alpha": 0.7})
        texts.setdefault(j, []).append((x0, text))
    if not texts:
        return
    fig = axes[0].figure
    fig.draw_without_rendering()  # lays the figure out, so the labels can be measured where they will be
    renderer = fig.canvas.get_renderer()
    for j, items in texts.items():
        ax = axes[j]
        box = ax.get_window_extent(renderer)
        row_ends: list[float] = []  # right edge (px) of the last label in each row
        height = 0.0
        for x0, text in sorted(items, key=lambda item: item[0]):
            ext = text.get_window_extent(renderer)
            width, height = ext.width, max(height, ext.height)
            left = ax.transData.transform((x0, 0))[0]
            if left + width > box.x1:  # would be cut off at the right edge: end the label at its event
                text.set_horizontalalignment("right")
                left -= width
            row = next((r for r, end in enumerate(row_ends) if left >= end + _LABEL_PAD_PX), len(row_ends))
            if row == len(row_ends):
                row_ends.append(0.0)
            row_ends[row] = left + width
            text.set_y(_LABEL_TOP - row * 1.15 * height / box.height)
        # Raise the top of the y range so that the data ends below the lowest row of labels.
        used = 1.0 - _LABEL_TOP + len(row_ends) * 1.15 * height / box.height + 0.02
        if 0 < used < 0.8:
            bottom, top = ax.get_ylim()
            ax.set_ylim(bottom, bottom + (top - bottom) / (1.0 - used))


def _threshold_value(threshold: Any) -> float | None:
    if threshold is None:
        return None
    if hasattr(threshold, "apply"):  # a sadlib.thresholds.Threshold
        if not hasattr(threshold, "threshold_"):
            raise ValueError(f"{threshold!r} is not fitted; call .fit(normal_scores) before plotting it.")
        return float(threshold.threshold_)
    return check_number("threshold", threshold, hint="Pass a number or a fitted sadlib.thresholds.Threshold.")


@_styled
def plot_scores(scores: Any, *, threshold: Any = None, labels: Any = None, index: Any = None,
                ax: Axes | None = None, title: str | None = None, log: bool = False,
                xlabel: str | None = None) -> Axes:
    """Anomaly scores over time with the threshold, labelled anomalies and alarms.

    Parameters
    ----------
    scores : array or Series, shape (n,)
        A Series' index is used as x unless ``index`` is given. NaN (a row without a score, such as the
        first ``window - 1`` rows of a windowed detector) leaves a gap; infinite scores are refused.
    threshold : float or fitted Threshold, optional
        Drawn as a horizontal line; scores strictly above it are highlighted.
    labels : bool/0-1 array, shape (n,), optional
        Labelled anomalies, shaded once per run.
    index : DatetimeIndex or array, shape (n,), optional
    log : bool
        Log-scaled y axis (all scores must be > 0).
    xlabel : str, optional
        Default "time" for a DatetimeIndex, else "sample" (left off on axes above another panel).
    """
    log = check_bool("log", log)
    if index is None and isinstance(scores, pd.Series):
        index = scores.index if not isinstance(scores.index, pd.RangeIndex) else None
    s = as_scores(scores, name="scores")  # NaN: a row without a score (a gap in the line, never above)
    x, is_date = _x(index, s.size)
    thr = _threshold_value(threshold)
    if log and (s <= 0).any():
        raise ValueError("log=True needs scores > 0; pass log=False or shift the scores, "
                         "e.g. scores - scores.min() + 1e-9.")
    if ax is None:
        _, ax = plt.subplots()
    ax.plot(x, s, color=COLORS["score"], lw=0.8, label="score")
    if labels is not None:
        _shade(ax, _spans(x, _runs(as_labels(labels, name="labels", n=s.size))))
    if thr is not None:
        ax.axhline(thr, color=COLORS["threshold"], ls="--", lw=1.2, label=f"threshold = {thr:.3g}")
        above = s > thr
        ax.plot(x[above], s[above], "o", ms=3, color=COLORS["alarm"], label=f"above threshold ({above.sum()})")
    if log:
        ax.set_yscale("log")
    ax.set_ylabel("anomaly score")
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    _finish_x(ax, is_date, xlabel)
    return ax


def _any_inside(mask: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """For each ``(start, stop)`` run, whether ``mask`` has a True inside it; shape ``(n_runs,)``."""
    cs = np.concatenate([[0], np.cumsum(mask)])
    return cs[runs[:, 1]] - cs[runs[:, 0]] > 0


@_styled
def plot_event_timeline(y_true: Any, y_pred: Any, *, index: Any = None, ax: Axes | None = None,
                        xlabel: str | None = None) -> Axes:
    """Two lanes of bars: true events (detected vs missed) and alarms (on an event vs false).

    Parameters
    ----------
    y_true, y_pred : bool/0-1 array, shape (n,)
        Labelled anomalies and alarms. An event counts as detected when any alarm falls inside it.
    index : DatetimeIndex or array, shape (n,), optional
    xlabel : str, optional
        Default "time" for a DatetimeIndex, else "sample".
    """
    t = as_labels(y_true, name="y_true")
    p = as_labels(y_pred, name="y_pred", n=t.size)
    x, is_date = _x(index, t.size)
    ev, al = _runs(t), _runs(p)
    hits = _any_inside(p, ev)  # events with at least one alarm
    true_alarm = _any_inside(t, al)  # alarm runs touching an event
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.2))
    min_width = 0.004 * (_edges(x)[-1] - x[0])  # a one-sample alarm must stay visible on a long axis
    bars = lambda runs: [(a, max(b - a, min_width)) for a, b in _spans(x, runs)]  # noqa: E731
    lanes = [(ev[hits], 1, "detected"), (ev[~hits], 1, "missed"), (al[true_alarm], 0, "alarm"),
             (al[~true_alarm], 0, "false_alarm")]
    for runs, lane, key in lanes:
        if len(runs):
            ax.broken_barh(bars(runs), (lane - 0.3, 0.6), facecolors=COLORS[key])
    ax.set_yticks([0, 1], ["alarms", "true events"])
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlim(x[0], _edges(x)[-1])
    ax.grid(axis="y", visible=False)
    names = {"detected": "detected event", "missed": "missed event", "alarm": "alarm on an event",
             "false_alarm": "false alarm"}
    # Below the axis, a fixed distance (in font sizes) under its tick labels and x label.
    ax.legend(handles=[Patch(color=COLORS[k], label=v) for k, v in names.items()],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=3.8, ncol=4, fontsize="small")
    ax.set_title(f"{hits.sum()}/{len(ev)} events detected, {(~true_alarm).sum()} false alarm(s)")
    _finish_x(ax, is_date, xlabel)
    return ax


@_styled
def plot_alarm_timeline(alarms: Mapping[str, Any], y_true: Any = None, *, index: Any = None, ax: Axes | None = None,
                        xlabel: str | None = None) -> Axes:
    """One lane of alarm bars per policy, the labelled events shaded behind all of them.

    The figure of alarm management: the same scores turned into alarms by different rules,
    one above the other, so floods, chattering (many short bars) and standing alarms (one
    long bar outside the events) are seen at a glance. Bars that touch a labelled event are
    drawn in the "alarm" colour, the others in the "false_alarm" colour; each lane's label
    gives its number of alarms (onsets).

    Parameters
    ----------
    alarms : dict of str to bool/0-1 array of shape (n,)
        Alarm state per sample for each policy, top lane first.
    y_true : bool/0-1 array of shape (n,), optional
        Labelled anomalies, shaded.
    index : DatetimeIndex or array of shape (n,), optional
    xlabel : str, optional
        Default "time" for a DatetimeIndex, else "sample".
    """
    if not isinstance(alarms, Mapping) or not alarms:
        raise TypeError("alarms must be a non-empty dict {policy name: alarm array}, e.g. {'raw': scores > t}.")
    names = list(alarms)
    first = as_labels(alarms[names[0]], name=f"alarms[{names[0]!r}]")
    lanes = {names[0]: first, **{k: as_labels(alarms[k], name=f"alarms[{k!r}]", n=first.size) for k in names[1:]}}
    t = None if y_true is None else as_labels(y_true, name="y_true", n=first.size)
    x, is_date = _x(index, first.size)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.45 * len(lanes) + 1.2))
    if t is not None:
        _shade(ax, _spans(x, _runs(t)))
    min_width = 0.003 * (_edges(x)[-1] - x[0])
    labels = []
    for row, (name, a) in enumerate(lanes.items()):
        lane = len(lanes) - 1 - row  # the first policy on top
        runs = _runs(a)
        on_event = _any_inside(t, runs) if t is not None else np.ones(len(runs), bool)
        for mask, key in ((on_event, "alarm"), (~on_event, "false_alarm")):
            if mask.any():
                bars = [(left, max(right - left, min_width)) for left, right in _spans(x, runs[mask])]
                ax.broken_barh(bars, (lane - 0.32, 0.64), facecolors=COLORS[key])
        labels.append((lane, f"{name} ({len(runs)})"))
    ax.set_yticks([lane for lane, _ in labels], [text for _, text in labels])
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.set_xlim(x[0], _edges(x)[-1])
    ax.grid(axis="y", visible=False)
    handles = [Patch(color=COLORS["alarm"], label="alarm on an event"),
               Patch(color=COLORS["false_alarm"], label="false alarm")]
    if t is not None:
        handles.append(Patch(color=COLORS["anomaly"], alpha=SHADE_ALPHA, label="labelled anomaly"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=3.8, ncol=3,
              fontsize="small")
    ax.set_title("alarms per policy (number of alarms in brackets)")
    _finish_x(ax, is_date, xlabel)
    return ax


@_styled
def plot_score_hist(normal_scores: Any, anomalous_scores: Any = None, threshold: Any = None,
                    ax: Axes | None = None, bins: int = 50) -> Axes:
    """Overlapping density histograms of normal (and anomalous) scores with the threshold.

    Parameters
    ----------
    normal_scores : array, shape (n,)
    anomalous_scores : array, shape (m,), optional
    threshold : float or fitted Threshold, optional
        The legend shows the share of each group strictly above it.
    bins : int
        Number of bins shared by both histograms.
    """
    bins = check_int("bins", bins, 1, hint="It is the number of bins shared by both histograms.")
    s0 = as_1d_float(normal_scores, name="normal_scores")
    s1 = as_1d_float(anomalous_scores, name="anomalous_scores") if anomalous_scores is not None else None
    thr = _threshold_value(threshold)
    edges = np.histogram_bin_edges(np.concatenate([s0] + ([s1] if s1 is not None else [])), bins=bins)
    if ax is None:
        _, ax = plt.subplots()
    groups = [(s0, "normal", COLORS["score"]), (s1, "anomalous", COLORS["missed"])]
    for s, name, color in groups:
        if s is None:
            continue
        extra = f", {100 * (s > thr).mean():.2g}% above" if thr is not None else ""
        ax.hist(s, bins=edges, density=True, alpha=0.5, color=color, label=f"{name} (n={s.size}{extra})")
    if thr is not None:
        ax.axvline(thr, color=COLORS["threshold"], ls="--", lw=1.2, label=f"threshold = {thr:.3g}")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return ax


@_styled
def plot_forecast(actual: Any, predicted: Any, errors: Any, *, labels: Any = None, alarms: Any = None,
                  threshold: Any = None, index: Any = None, title: str | None = None, units: str | None = None,
                  xlabel: str | None = None) -> Figure:
    """Three stacked panels for a forecasting detector: actual, predicted, squared error.

    Parameters
    ----------
    actual, predicted : array, shape (n,)
        One sensor and the model's forecast of it (NaN where there is no forecast,
        e.g. the first ``window`` steps).
    errors : array, shape (n,)
        The error that is judged (e.g. the squared forecast error); NaN allowed.
    labels : bool/0-1 array, shape (n,), optional
        Labelled anomalies, shaded in every panel.
    alarms : bool array, shape (n,), optional
        Alarms, marked on the error panel (however they were decided: a threshold, DBSCAN).
    threshold : float or fitted Threshold, optional
        Drawn on the error panel.
    index : array or DatetimeIndex, shape (n,), optional
    units : str, optional
        Unit of the sensor, e.g. ``"°C"``: the panels are labelled ``[°C]`` and the error ``[°C²]``
        (pass ``"scaled"`` for values after a scaler).
    xlabel : str, optional
        Default "time" for a DatetimeIndex, else "sample".

    Returns
    -------
    matplotlib Figure with three axes sharing the x axis.
    """
    a = as_1d_float(actual, name="actual", allow_nan=True)
    p = as_1d_float(predicted, name="predicted", allow_nan=True)
    e = as_1d_float(errors, name="errors", allow_nan=True)
    if not (a.size == p.size == e.size):
        raise ValueError(f"actual, predicted and errors must have the same length, got {a.size}, {p.size}, {e.size}.")
    x, is_date = _x(index, a.size)
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(10, 6.5))
    spans = _spans(x, _runs(as_labels(labels, name="labels", n=a.size))) if labels is not None else []
    for ax, values, name, color in ((axes[0], a, "actual", COLORS["signal"]),
                                    (axes[1], p, "predicted", COLORS["score"]),
                                    (axes[2], e, "squared error", COLORS["score"])):
        ax.plot(x, values, color=color, lw=0.9, label=name)
        if spans:
            _shade(ax, spans)
        ax.set_ylabel(_ylabel(name, _squared(units) if name == "squared error" else units))
    thr = _threshold_value(threshold)
    if thr is not None:
        axes[2].axhline(thr, color=COLORS["threshold"], ls="--", lw=1.2, label=f"threshold = {thr:.3g}")
    if alarms is not None:
        al = as_labels(alarms, name="alarms", n=a.size)
        axes[2].plot(x[al], e[al], "o", ms=3, color=COLORS["alarm"], label=f"alarms ({int(al.sum())})")
    for ax in axes:
        ax.legend(loc="upper left", fontsize="small")
    if title:
        axes[0].set_title(title)
    _finish_x(axes[2], is_date, xlabel)
    fig.tight_layout()
    return fig
