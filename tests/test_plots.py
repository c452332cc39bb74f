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
    assert [ax.get_ylabel() for ax in fig.axes] == ["temp", "pressure", "vibration"]
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
    with pytest.raises(ValueError, match="NaN"):
        plot_scores(np.array([1.0, np.nan]))


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
