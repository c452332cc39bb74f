"""Tests for sadlib.plots (Agg backend, no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sadlib.plots import (  # noqa: E402
    COLORS,
    STYLE,
    UNITS,
    apply_style,
    plot_event_timeline,
    plot_forecast,
    plot_score_hist,
    plot_scores,
    plot_signal,
)
from sadlib.thresholds import PercentileThreshold  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(n, runs):
    y = np.zeros(n, bool)
    for a, b in runs:
        y[a:b] = True
    return y


RUNS = [(10, 15), (40, 50), (70, 71)]


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=100, freq="min")
    return pd.DataFrame(rng.normal(size=(100, 3)), index=idx, columns=["temp", "pressure", "vibration"])


def test_plot_signal_axes_per_sensor_and_one_span_per_event(frame):
    fig = plot_signal(frame, labels=_labels(100, RUNS), alarms=_labels(100, [(12, 13), (80, 82)]), title="t")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    # units from sadlib.signals.UNITS by column name; "temp" is not a known column, so no unit
    assert [ax.get_ylabel() for ax in fig.axes] == ["temp", "pressure\n[bar]", "vibration\n[mm/s]"]
    for ax in fig.axes:
        assert len(ax.patches) == len(RUNS)  # one shaded span per contiguous run
    assert fig._suptitle.get_text() == "t"


def test_plot_signal_array_and_columns():
    X = np.random.default_rng(1).normal(size=(50, 4))
    assert len(plot_signal(X).axes) == 4
    fig = plot_signal(X, columns=[0, 2])
    assert [ax.get_ylabel() for ax in fig.axes] == ["x0", "x2"]


def test_plot_signal_dataframe_columns_and_events(frame):
    events = pd.DataFrame({
        "start": frame.index[[10, 40]], "end": frame.index[[15, 50]],
        "type": ["spike", "drift"], "sensor": ["vibration", "unknown"],
    })
    fig = plot_signal(frame, columns=["temp", "vibration"], events=events)
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[1].texts] == ["spike"]  # on its sensor's subplot
    assert [t.get_text() for t in fig.axes[0].texts] == ["drift"]  # sensor not plotted: top subplot


def test_plot_signal_onto_given_axes(frame):
    fig, axes = plt.subplots(3, 1)
    assert plot_signal(frame, axes=axes) is fig
    with pytest.raises(ValueError, match="one Axes per sensor"):
        plot_signal(frame, axes=axes[:2])


def test_plot_signal_bad_input(frame):
    with pytest.raises(ValueError, match="labels has 99 labels"):
        plot_signal(frame, labels=np.zeros(99, bool))
    with pytest.raises(ValueError, match="binary"):
        plot_signal(frame, alarms=np.full(100, 2))
    with pytest.raises(ValueError, match="not in data"):
        plot_signal(frame, columns=["nope"])
    with pytest.raises(ValueError, match="positions"):
        plot_signal(frame.to_numpy(), columns=[5])
    with pytest.raises(ValueError, match="missing column"):
        plot_signal(frame, events=pd.DataFrame({"start": [1]}))
    with pytest.raises(ValueError, match="not sorted"):
        plot_signal(frame.iloc[::-1])
    with pytest.raises(TypeError, match="non-numeric"):
        plot_signal(frame.assign(state="run"))


def test_plot_scores(frame):
    scores = pd.Series(np.abs(np.random.default_rng(2).normal(size=100)) + 0.1, index=frame.index)
    thr = PercentileThreshold(95).fit(scores)
    ax = plot_scores(scores, threshold=thr, labels=_labels(100, RUNS), title="s", log=True)
    assert isinstance(ax, Axes)
    assert len(ax.patches) == len(RUNS)
    assert ax.get_yscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert any(lbl.startswith("threshold") for lbl in labels)
    above = [ln for ln in ax.lines if ln.get_label().startswith("above threshold")][0]
    assert len(above.get_xdata()) == int((scores > thr.threshold_).sum())


def test_plot_scores_bad_input():
    with pytest.raises(ValueError, match="index has 5 entries"):
        plot_scores(np.ones(10), index=np.arange(5))
    with pytest.raises(ValueError, match="log=True"):
        plot_scores(np.array([0.0, 1.0]), log=True)
    with pytest.raises(ValueError, match="not fitted"):
        plot_scores(np.ones(10), threshold=PercentileThreshold())
    with pytest.raises(ValueError, match="infinite"):
        plot_scores(np.array([1.0, np.inf]))


@pytest.mark.parametrize("log", [False, True])
def test_plot_scores_unscored_rows_are_a_gap_never_an_alarm(log):
    # the course's rule: NaN is "no score" (the first window - 1 rows of a windowed detector)
    scores = np.array([np.nan, np.nan, 0.5, 2.0, 0.4, 3.0])
    ax = plot_scores(scores, threshold=1.0, log=log)
    line = [ln for ln in ax.lines if ln.get_label() == "score"][0]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[:2]).all() and np.isfinite(y[2:]).all()
    above = [ln for ln in ax.lines if ln.get_label().startswith("above threshold")][0]
    assert above.get_label() == "above threshold (2)"
    assert list(above.get_ydata()) == [2.0, 3.0]
    assert np.array_equal(np.asarray(above.get_xdata()), [3, 5])


def test_plot_event_timeline_detected_missed_false():
    y_true = _labels(100, [(10, 15), (40, 50)])
    y_pred = _labels(100, [(12, 13), (25, 28), (60, 61)])
    ax = plot_event_timeline(y_true, y_pred)
    assert isinstance(ax, Axes)
    by_color = {tuple(c.get_facecolor()[0]): len(c.get_paths()) for c in ax.collections}
    rgba = lambda key: matplotlib.colors.to_rgba(COLORS[key])  # noqa: E731
    assert by_color == {rgba("detected"): 1, rgba("missed"): 1, rgba("alarm"): 1, rgba("false_alarm"): 2}
    assert "1/2 events detected, 2 false alarm(s)" == ax.get_title()


def test_plot_event_timeline_bad_input():
    with pytest.raises(ValueError, match="y_pred has 9 labels"):
        plot_event_timeline(np.zeros(10), np.zeros(9))


def test_plot_score_hist():
    rng = np.random.default_rng(3)
    ax = plot_score_hist(rng.normal(size=500), rng.normal(3, 1, size=50), threshold=2.0)
    assert isinstance(ax, Axes)
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0].startswith("normal (n=500") and labels[1].startswith("anomalous (n=50")
    assert isinstance(plot_score_hist(rng.normal(size=100)), Axes)
    with pytest.raises(ValueError, match="anomalous_scores"):
        plot_score_hist(np.ones(5), np.zeros((5, 2)))


def test_style_is_not_global_until_applied():
    before = dict(matplotlib.rcParams)
    plot_scores(np.ones(5))
    assert dict(matplotlib.rcParams) == before
    with matplotlib.rc_context():
        apply_style()
        assert matplotlib.rcParams["figure.dpi"] == STYLE["figure.dpi"]


def test_large_input_renders():
    n, rng = 100_000, np.random.default_rng(4)
    starts = np.sort(rng.choice(np.arange(0, n - 300, 300), 50, replace=False))
    y = _labels(n, [(s, s + 100) for s in starts])
    alarms = rng.random(n) < 1e-3
    df = pd.DataFrame(rng.normal(size=(n, 3)), index=pd.date_range("2024", periods=n, freq="s"))
    fig = plot_signal(df, labels=y, alarms=alarms)
    assert all(len(ax.patches) == 50 for ax in fig.axes)
    fig.canvas.draw()
    ax = plot_scores(np.abs(df[0].to_numpy()), threshold=3.0, labels=y, index=df.index)
    assert len(ax.patches) == 50
    ax.figure.canvas.draw()
    plot_event_timeline(y, alarms).figure.canvas.draw()


def test_style_context_keeps_interactive_mode_set_by_the_backend(monkeypatch):
    """Jupyter's inline backend turns interactive mode on when pyplot first loads it. If that happens
    inside the plots' style context, leaving the context must not turn it off again (figures would
    silently stop showing in notebooks)."""
    import matplotlib as mpl

    original = plt.subplots

    def subplots_loading_inline_backend(*args, **kwargs):
        mpl.interactive(True)
        return original(*args, **kwargs)

    was = mpl.is_interactive()
    mpl.interactive(False)
    monkeypatch.setattr(plt, "subplots", subplots_loading_inline_backend)
    try:
        fig = plot_signal(np.random.default_rng(0).normal(size=(50, 2)))
        assert mpl.is_interactive()
        plt.close(fig)
    finally:
        mpl.interactive(was)


def test_plot_forecast_three_panels_with_alarms():
    n = 120
    actual = np.sin(np.arange(n) / 5)
    predicted = np.r_[np.full(10, np.nan), actual[10:] + 0.05]
    errors = (actual - predicted) ** 2
    labels = np.zeros(n, bool)
    labels[60:70] = True
    alarms = np.zeros(n, bool)
    alarms[[62, 65]] = True
    fig = plot_forecast(actual, predicted, errors, labels=labels, alarms=alarms, threshold=0.01, title="t")
    axes = fig.axes
    assert len(axes) == 3 and axes[0].get_shared_x_axes().joined(axes[0], axes[2])
    assert any("alarms (2)" in t.get_text() for t in axes[2].get_legend().get_texts())
    plt.close(fig)
    with pytest.raises(ValueError, match="same length"):
        plot_forecast(actual, predicted[:-1], errors)


# ---------------------------------------------------------------- readable figures: units, time axis, no overlaps
def _boxes_overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _pump(n_days=6):
    from sadlib import signals

    return signals.generate(n_days=n_days, anomalies=16, seed=3, clean_fraction=0.5)


def test_every_synthetic_and_skab_sensor_has_a_unit():
    from sadlib import signals
    from sadlib.datasets import SKAB_SENSORS

    assert signals.UNITS == {"temperature": "°C", "vibration": "mm/s", "current": "A", "pressure": "bar"}
    assert set(signals.SENSORS) <= set(UNITS) and set(SKAB_SENSORS) <= set(UNITS)
    data, _ = _pump()
    fig = plot_signal(data[list(signals.SENSORS)])
    assert [ax.get_ylabel() for ax in fig.axes] == [f"{s}\n[{signals.UNITS[s]}]" for s in signals.SENSORS]


def test_units_given_by_the_caller_win(frame):
    fig = plot_signal(frame, units={"temp": "°F", "pressure": None})
    assert [ax.get_ylabel() for ax in fig.axes] == ["temp\n[°F]", "pressure", "vibration\n[mm/s]"]
    fig = plot_signal(frame[["temp"]].rename(columns={"temp": "value"}), units="unit not stated")
    assert fig.axes[0].get_ylabel() == "value\n[unit not stated]"


def test_x_axis_says_time_or_sample(frame):
    fig = plot_signal(frame)
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "time"]  # once, under the shared axis
    assert plot_signal(frame.to_numpy()).axes[-1].get_xlabel() == "sample"
    assert plot_signal(frame, xlabel="minutes").axes[-1].get_xlabel() == "minutes"
    assert plot_scores(np.ones(100), index=frame.index).get_xlabel() == "time"
    assert plot_scores(np.ones(100)).get_xlabel() == "sample"
    assert plot_event_timeline(np.zeros(100), np.zeros(100), index=frame.index).get_xlabel() == "time"
    fig, axes = plt.subplots(2, 1, sharex=True)
    plot_scores(np.ones(100), index=frame.index, ax=axes[0])  # above another panel: no label
    assert axes[0].get_xlabel() == ""


def test_event_labels_do_not_overlap_and_sit_above_the_data():
    """Sixteen events in the last half of six days: labels that collide are stacked, none is cut off
    at the right edge, and the y range leaves room so the labels do not cover the signal."""
    from sadlib import signals

    data, events = _pump()
    fig = plot_signal(data[list(signals.SENSORS)], labels=data["anomaly"], events=events)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts]
    assert sorted(t.get_text() for t in texts) == sorted(events["type"])
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        exts = [t.get_window_extent(renderer) for t in ax.texts]
        for i in range(len(exts)):
            assert box.x0 - 1 <= exts[i].x0 and exts[i].x1 <= box.x1 + 1, ax.texts[i].get_text()
            for j in range(i):
                assert not _boxes_overlap(exts[i], exts[j]), (ax.texts[i].get_text(), ax.texts[j].get_text())
        if exts:  # the highest data point is below the lowest label
            lowest = min(e.y0 for e in exts)
            top_of_data = ax.transData.transform((0, np.nanmax(ax.lines[0].get_ydata())))[1]
            assert top_of_data < lowest


def test_long_skab_names_fit_without_overlap():
    """SKAB's long column names, eight panels: the y labels stay inside the figure and apart."""
    from sadlib.datasets import SKAB_SENSORS

    rng = np.random.default_rng(5)
    df = pd.DataFrame(rng.normal(size=(1200, 8)), columns=list(SKAB_SENSORS),
                      index=pd.date_range("2020-03-09 10:14:33", periods=1200, freq="s"))
    fig = plot_signal(df, labels=np.r_[np.zeros(600), np.ones(400), np.zeros(200)], title="SKAB-like")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    labels = [ax.yaxis.label.get_window_extent(renderer) for ax in fig.axes]
    assert [ax.get_ylabel().split("\n")[1] for ax in fig.axes] == [f"[{UNITS[c]}]" for c in SKAB_SENSORS]
    for i, box in enumerate(labels):
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        for j in range(i):
            assert not _boxes_overlap(box, labels[j])
        ticks = [t.get_window_extent(renderer) for t in fig.axes[i].get_yticklabels() if t.get_text()]
        assert not any(_boxes_overlap(box, t) for t in ticks)


def test_timeline_legend_clears_the_time_axis():
    idx = pd.date_range("2024-01-01", periods=500, freq="min")
    ax = plot_event_timeline(_labels(500, [(100, 120)]), _labels(500, [(105, 106), (300, 302)]), index=idx)
    fig = ax.figure
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    for artist in [ax.xaxis.label, *ax.get_xticklabels(), ax.xaxis.get_offset_text()]:
        if artist.get_text():
            assert not _boxes_overlap(legend, artist.get_window_extent(renderer)), artist.get_text()


def test_plot_forecast_units():
    n = 50
    x = np.sin(np.arange(n) / 5)
    fig = plot_forecast(x, x + 0.1, np.full(n, 0.01), units="°C")
    assert [ax.get_ylabel() for ax in fig.axes] == ["actual\n[°C]", "predicted\n[°C]", "squared error\n[°C²]"]
    assert fig.axes[2].get_xlabel() == "sample"
    fig = plot_forecast(x, x, np.zeros(n), units="mm/s")
    assert fig.axes[2].get_ylabel() == "squared error\n[(mm/s)²]"
    assert plot_forecast(x, x, np.zeros(n)).axes[0].get_ylabel() == "actual"


def test_signal_legend_sits_above_the_top_panel(frame):
    labels = _labels(100, RUNS)
    for fig in (plot_signal(frame, labels=labels), plot_signal(frame, labels=labels, axes=plt.subplots(4, 1)[1][:3])):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        top = fig.axes[0]
        assert top.get_legend().get_window_extent(renderer).y0 >= top.get_window_extent(renderer).y1 - 1
    fig, axes = plt.subplots(4, 1)
    plot_signal(frame, labels=labels, axes=axes[1:])  # a panel above: the legend stays inside
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert axes[1].get_legend().get_window_extent(renderer).y1 <= axes[1].get_window_extent(renderer).y1 + 1


def test_plot_alarm_timeline_lanes_and_colours():
    from sadlib.plots import COLORS, plot_alarm_timeline

    y = np.zeros(100, bool)
    y[40:50] = True
    raw = np.zeros(100, bool)
    raw[[5, 7, 9]] = True  # three false alarms
    raw[42:48] = True  # one on the event
    held = np.zeros(100, bool)
    held[41:60] = True
    ax = plot_alarm_timeline({"raw": raw, "held": held}, y)
    lanes = dict(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]))
    assert lanes == {1: "raw (4)", 0: "held (1)"}  # the first policy is the top lane
    colours = [tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in ax.collections]
    from matplotlib.colors import to_rgb

    assert tuple(np.round(to_rgb(COLORS["false_alarm"]), 3)) in colours
    assert tuple(np.round(to_rgb(COLORS["alarm"]), 3)) in colours
    plt.close("all")


def test_plot_alarm_timeline_errors():
    from sadlib.plots import plot_alarm_timeline

    with pytest.raises(TypeError, match="non-empty dict"):
        plot_alarm_timeline(np.zeros(5, bool))
    with pytest.raises(ValueError):
        plot_alarm_timeline({"a": np.zeros(5, bool), "b": np.zeros(6, bool)})
