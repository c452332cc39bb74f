"""Tests for sadlib.metrics: hand-computed cases, 0/0 conventions, bad input,
and cross-checks against scikit-learn and independent range-metric packages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from sadlib import metrics
from sadlib.metrics import (
    baselines,
    detection_delays,
    evaluate,
    event_metrics,
    events,
    false_alarm_count,
    false_alarm_hours_per_day,
    false_alarms_per_day,
    point_adjust,
    point_adjusted_f1,
    point_metrics,
    pr_auc,
    random_alarms,
    random_scores,
    roc_auc,
    trivial_predictions,
    vus_pr,
)

# A small hand-checked case used throughout.
#   index:  0  1  2  3  4  5  6  7  8  9 10 11
Y_TRUE = [0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]  # events (1,4) (6,8) (10,12)
Y_PRED = [1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0]  # alarm ranges (0,1) (2,3) (8,10)


def _random_labels(rng: np.random.Generator, n: int, p_switch: float) -> np.ndarray:
    """Labels with runs: flip state with probability p_switch at each step."""
    flips = rng.random(n) < p_switch
    return (np.cumsum(flips) % 2).astype(int)


# --------------------------------------------------------------------------- #
# point metrics
# --------------------------------------------------------------------------- #
def test_point_metrics_hand_computed():
    m = point_metrics(Y_TRUE, Y_PRED)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (1, 3, 6, 2)
    assert m["precision"] == pytest.approx(1 / 4)
    assert m["recall"] == pytest.approx(1 / 7)
    assert m["f1"] == pytest.approx(2 * (1 / 4) * (1 / 7) / (1 / 4 + 1 / 7))
    assert m["far"] == pytest.approx(3 / 5)
    assert m["mar"] == pytest.approx(6 / 7)
    assert all(isinstance(m[k], int) for k in ("tp", "fp", "fn", "tn"))


def test_point_metrics_accepts_bool_series_and_column():
    m1 = point_metrics(pd.Series(np.array(Y_TRUE, bool)), np.array(Y_PRED).reshape(-1, 1))
    assert m1 == point_metrics(Y_TRUE, Y_PRED)


def test_point_metrics_no_alarms_is_zero_not_nan():
    m = point_metrics([0, 1, 1, 0], [0, 0, 0, 0])
    assert m["precision"] == 0.0 and m["f1"] == 0.0 and m["recall"] == 0.0
    assert m["far"] == 0.0 and m["mar"] == 1.0


def test_point_metrics_no_anomalies():
    m = point_metrics([0, 0, 0, 0], [0, 1, 0, 0])
    assert m["recall"] == 0.0 and m["mar"] == 0.0  # nothing to miss
    assert m["precision"] == 0.0 and m["f1"] == 0.0
    assert m["far"] == pytest.approx(0.25)


def test_point_metrics_all_anomalies_far_zero():
    m = point_metrics([1, 1, 1], [1, 0, 1])
    assert m["far"] == 0.0 and m["precision"] == 1.0 and m["recall"] == pytest.approx(2 / 3)


def test_point_metrics_all_zero_everything():
    m = point_metrics([0, 0], [0, 0])
    assert m["precision"] == m["recall"] == m["f1"] == m["far"] == m["mar"] == 0.0
    assert m["tn"] == 2


@pytest.mark.parametrize("seed", range(20))
def test_point_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    y = (rng.random(n) < rng.uniform(0, 0.5)).astype(int)
    p = (rng.random(n) < rng.uniform(0, 0.5)).astype(int)
    m = point_metrics(y, p)
    prec, rec, f1, _ = precision_recall_fscore_support(
        y, p, average="binary", pos_label=1, zero_division=0, labels=[0, 1]
    )
    tn, fp, fn, tp = confusion_matrix(y, p, labels=[0, 1]).ravel()
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (tp, fp, fn, tn)
    assert m["precision"] == pytest.approx(prec)
    assert m["recall"] == pytest.approx(rec)
    assert m["f1"] == pytest.approx(f1)
    if fp + tn:
        assert m["far"] == pytest.approx(fp / (fp + tn))
    if tp + fn:
        assert m["mar"] == pytest.approx(1 - rec)


@pytest.mark.parametrize("p", [0.01, 0.1, 0.3, 0.5])
def test_flag_everything_f1(p):
    n = 1000
    y = np.zeros(n, int)
    y[: int(p * n)] = 1
    m = point_metrics(y, trivial_predictions(n, "all"))
    assert m["recall"] == 1.0 and m["precision"] == pytest.approx(p)
    assert m["f1"] == pytest.approx(2 * p / (1 + p))
    assert m["far"] == 1.0


def test_flag_nothing():
    m = point_metrics(Y_TRUE, trivial_predictions(len(Y_TRUE), "none"))
    assert m["f1"] == 0.0 and m["far"] == 0.0 and m["mar"] == 1.0


# --------------------------------------------------------------------------- #
# AUCs
# --------------------------------------------------------------------------- #
def test_auc_hand_computed():
    y = [0, 0, 1, 1]
    assert roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    # one positive outranked by one negative: 3 of 4 pairs correct
    assert roc_auc(y, [0.1, 0.5, 0.4, 0.9]) == pytest.approx(0.75)
    assert pr_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    # ranking 1, 0, 1, 0: AP = (1/1 + 2/3) / 2
    assert pr_auc(y, [0.1, 0.8, 0.9, 0.5]) == pytest.approx((1 + 2 / 3) / 2)


@pytest.mark.parametrize("fn", [roc_auc, pr_auc])
@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1]])
def test_auc_single_class_error(fn, y):
    with pytest.raises(ValueError, match="only .*both normal and anomalous"):
        fn(y, [0.1, 0.2, 0.3])


@pytest.mark.parametrize("fn", [roc_auc, pr_auc, vus_pr])
def test_a_nan_score_ranks_below_every_real_score(fn):
    y = np.array([1, 0, 0, 1, 0, 1, 0, 0])
    s = np.array([np.nan, 0.1, 0.2, 0.9, np.nan, 0.4, 0.3, 0.05])
    lowest = np.where(np.isnan(s), -5.0, s)  # the same order with the NaN rows tied below every score
    assert fn(y, s) == fn(y, lowest)
    assert fn(y, s) != fn(y, np.where(np.isnan(s), 5.0, s))  # not ranked highest
    assert fn([0, 1, 0], [np.nan, np.nan, np.nan]) == fn([0, 1, 0], [0.0, 0.0, 0.0])  # all tied


def test_point_adjusted_f1_and_evaluate_give_nan_no_alarm():
    y = [0, 1, 1, 0, 0]
    s = np.array([np.nan, np.nan, 0.9, 0.1, np.nan])
    assert point_adjusted_f1(y, s, 0.5) == point_adjusted_f1(y, np.nan_to_num(s, nan=0.0), 0.5)
    assert point_adjusted_f1(y, s, -1.0)["flagged_fraction"] == 0.4  # NaN is not above even a negative threshold
    out = evaluate(y, s, np.nan_to_num(s, nan=0.0) > 0.5)
    assert out["pr_auc"] == pr_auc(y, np.where(np.isnan(s), -1.0, s))


def test_random_scores_are_chance_level():
    rng = np.random.default_rng(1)
    y = (rng.random(20_000) < 0.05).astype(int)
    s = random_scores(len(y), seed=3)
    assert roc_auc(y, s) == pytest.approx(0.5, abs=0.03)
    assert pr_auc(y, s) == pytest.approx(y.mean(), abs=0.02)


# --------------------------------------------------------------------------- #
# events and event metrics
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "y, expected",
    [
        ([0, 1, 1, 0, 1], [(1, 3), (4, 5)]),
        ([1, 1, 0], [(0, 2)]),
        ([0, 0, 0], []),
        ([1, 1, 1], [(0, 3)]),
        ([1], [(0, 1)]),
        ([True, False, True], [(0, 1), (2, 3)]),
    ],
)
def test_events(y, expected):
    out = events(y)
    assert out == expected
    assert all(type(a) is int and type(b) is int for a, b in out)


def test_events_round_trip_random():
    rng = np.random.default_rng(0)
    y = _random_labels(rng, 500, 0.1)
    rebuilt = np.zeros_like(y)
    for s, e in events(y):
        assert y[s:e].all()
        rebuilt[s:e] = 1
    np.testing.assert_array_equal(rebuilt, y)


def test_event_metrics_hand_computed():
    m = event_metrics(Y_TRUE, Y_PRED)
    assert m == {
        "event_recall": pytest.approx(1 / 3),
        "event_precision": pytest.approx(1 / 3),
        "n_events": 3,
        "n_detected": 1,
        "n_alarm_events": 3,
        "n_alarm_episodes": 3,
        "n_false_alarm_events": 2,
    }


def test_event_metrics_long_alarm_spanning_two_events():
    m = event_metrics([0, 1, 0, 0, 1, 0], [0, 1, 1, 1, 1, 1])
    assert m["n_detected"] == 2 and m["event_recall"] == 1.0
    # range-based precision: 2 of the alarm range's 5 samples are anomalous
    assert m["n_alarm_events"] == 1 and m["event_precision"] == pytest.approx(0.4)


def test_event_precision_of_flag_everything_is_the_anomaly_share():
    rng = np.random.default_rng(5)
    y = _random_labels(rng, 2000, 0.05)
    m = event_metrics(y, np.ones_like(y))
    assert m["event_precision"] == pytest.approx(y.mean())


def test_event_metrics_zero_division():
    m = event_metrics([0, 0, 0], [0, 0, 0])
    assert m["event_recall"] == 0.0 and m["event_precision"] == 0.0
    assert m["n_events"] == m["n_alarm_events"] == m["n_false_alarm_events"] == 0
    m = event_metrics([0, 0, 0], [0, 1, 0])
    assert m["event_precision"] == 0.0 and m["n_false_alarm_events"] == 1


# --------------------------------------------------------------------------- #
# detection delays
# --------------------------------------------------------------------------- #
def test_detection_delays_samples():
    # event (2,6) detected at 4, event (8,10) missed (alarm at 10 is after it)
    # alarm at 0 is before the first event and must not count
    y = [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    p = [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1]
    df = detection_delays(y, p)
    assert list(df.columns) == ["start", "end", "detected", "delay_samples"]
    assert df["start"].tolist() == [2, 8] and df["end"].tolist() == [6, 10]
    assert df["detected"].tolist() == [True, False]
    assert df["delay_samples"].iloc[0] == 2.0 and math.isnan(df["delay_samples"].iloc[1])


def test_detection_delays_immediate_detection_is_zero():
    df = detection_delays([0, 1, 1], [0, 1, 0])
    assert df["delay_samples"].tolist() == [0.0]


def test_detection_delays_with_datetimeindex():
    idx = pd.date_range("2024-01-01", periods=11, freq="10min")
    y = [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    p = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    df = detection_delays(y, p, index=idx)
    assert df["delay"].iloc[0] == pd.Timedelta("20min")
    assert pd.isna(df["delay"].iloc[1])
    assert pd.api.types.is_timedelta64_dtype(df["delay"])
    # a Series carrying the index works too, and irregular sampling uses real times
    irregular = idx[:4].append(pd.DatetimeIndex(["2024-01-01 03:00"])).append(idx[5:] + pd.Timedelta("3h"))
    df2 = detection_delays(y, p, index=pd.Series(0, index=irregular))
    assert df2["delay"].iloc[0] == pd.Timedelta("3h") - pd.Timedelta("20min")


def test_detection_delays_no_events():
    df = detection_delays([0, 0, 0], [1, 0, 0], index=pd.date_range("2024", periods=3, freq="h"))
    assert len(df) == 0
    assert list(df.columns) == ["start", "end", "detected", "delay_samples", "delay"]


def test_detection_delays_bad_index():
    with pytest.raises(TypeError, match="DatetimeIndex"):
        detection_delays([0, 1], [0, 1], index=pd.RangeIndex(2))
    with pytest.raises(ValueError, match="3 timestamps"):
        detection_delays([0, 1], [0, 1], index=pd.date_range("2024", periods=3, freq="h"))
    with pytest.raises(ValueError, match="not sorted"):
        detection_delays([0, 1], [0, 1], index=pd.DatetimeIndex(["2024-01-02", "2024-01-01"]))


# --------------------------------------------------------------------------- #
# false alarms per day
# --------------------------------------------------------------------------- #
def test_false_alarms_per_day_sampling_period():
    # 2 false-alarm onsets in 12 samples; the second one lasts 2 samples
    assert false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period="2h", rearm="4h") == pytest.approx(2.0)
    assert false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period=7200, rearm=None) == pytest.approx(2.0)
    assert false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period=pd.Timedelta("1h")) == pytest.approx(4.0 * 1.5)
    # default re-arm 1 h: the 4-hour false alarm (8,10) is announced twice
    assert false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period="2h") == pytest.approx(3.0)


def test_false_alarm_count_rearm_hand_computed():
    y = [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert false_alarm_count(y, [0, 1, 1, 1, 1, 1, 0, 0, 0, 0], None) == 0  # outlasts its event: no onset
    assert false_alarm_count(y, [0, 1, 1, 1, 1, 1, 0, 0, 0, 0], 2) == 1  # ... but re-arms after 2 samples
    assert false_alarm_count(y, [1, 0, 0, 1, 1, 1, 1, 1, 0, 1], 2) == 1 + 3 + 1
    assert false_alarm_count(y, [1, 0, 0, 1, 1, 1, 1, 1, 0, 1], None) == 3
    with pytest.raises(ValueError, match="rearm_samples"):
        false_alarm_count(y, y, 0)


def test_false_alarms_standing_alarm_cannot_score_zero():
    """Flag-everything used to score 0 false alarms per day (one alarm range touching an event)."""
    idx = pd.date_range("2024-01-01", periods=2 * 1440, freq="1min")  # two days
    y = np.zeros(len(idx), dtype=bool)
    y[600:700] = True
    everything = np.ones(len(idx), dtype=bool)
    fa = false_alarms_per_day(y, everything, index=idx)
    assert fa == pytest.approx((len(idx) - 100) / 60 / 2, abs=1.0)  # about 24 per day
    assert false_alarm_hours_per_day(y, everything, index=idx) == pytest.approx((len(idx) - 100) / 60 / 2)
    perfect = y.copy()
    assert false_alarms_per_day(y, perfect, index=idx) == 0.0
    assert false_alarm_hours_per_day(y, perfect, index=idx) == 0.0


def test_false_alarms_per_day_index():
    idx = pd.date_range("2024-01-01", periods=12, freq="2h")  # 12 samples of 2 h = 1 day
    assert false_alarms_per_day(Y_TRUE, Y_PRED, index=idx, rearm=None) == pytest.approx(2.0)
    assert false_alarms_per_day(Y_TRUE, Y_PRED, index=idx) == pytest.approx(3.0)
    utc = idx.as_unit("s").tz_localize("UTC")
    assert false_alarms_per_day(Y_TRUE, Y_PRED, index=utc, rearm=None) == pytest.approx(2.0)
    # an explicit period is used for the last sample's duration
    assert false_alarms_per_day(Y_TRUE, Y_PRED, index=idx, sampling_period="2h", rearm=None) == pytest.approx(2.0)


def test_false_alarms_per_day_no_false_alarm():
    assert false_alarms_per_day([0, 1, 1, 0], [0, 1, 0, 0], sampling_period="1min") == 0.0


def test_false_alarms_per_day_errors():
    with pytest.raises(ValueError, match="index=.*sampling_period="):
        false_alarms_per_day(Y_TRUE, Y_PRED)
    with pytest.raises(ValueError, match="sampling_period must be a number > 0, got 0"):
        false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period=0)
    with pytest.raises(ValueError, match="positive duration"):
        false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period="-1min")
    with pytest.raises(ValueError, match="not a duration"):
        false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period="often")
    with pytest.raises(TypeError, match="sampling_period"):
        false_alarms_per_day(Y_TRUE, Y_PRED, sampling_period=[1])
    with pytest.raises(ValueError, match="single timestamp"):
        false_alarms_per_day([0], [1], index=pd.DatetimeIndex(["2024-01-01"]))


# --------------------------------------------------------------------------- #
# point adjustment
# --------------------------------------------------------------------------- #
def test_point_adjust_hand_computed():
    out = point_adjust(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(out.astype(int), [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0])
    assert out.dtype == bool


def test_point_adjust_does_not_modify_input():
    p = np.array(Y_PRED)
    point_adjust(Y_TRUE, p)
    np.testing.assert_array_equal(p, Y_PRED)


def test_point_adjusted_f1_hand_computed():
    scores = np.array(Y_PRED, float)
    out = point_adjusted_f1(Y_TRUE, scores, threshold=0.5)
    assert set(out) == {"f1_pa", "f1_pa_random", "f1_point", "flagged_fraction"}
    # adjusted: tp = 3 (event 1-3), fp = 3 (0, 8, 9), fn = 4
    assert out["f1_pa"] == pytest.approx(2 * 3 / (2 * 3 + 3 + 4))
    assert out["f1_point"] == pytest.approx(point_metrics(Y_TRUE, Y_PRED)["f1"])
    assert out["flagged_fraction"] == pytest.approx(4 / 12)
    assert 0.0 <= out["f1_pa_random"] <= 1.0


def test_point_adjusted_f1_threshold_is_strict_and_seeded():
    y = [0, 1, 1, 0]
    assert point_adjusted_f1(y, [0.0, 0.6, 0.0, 0.0], threshold=0.5)["f1_pa"] == 1.0
    assert point_adjusted_f1(y, [0.0, 0.5, 0.0, 0.0], threshold=0.5)["f1_pa"] == 0.0
    a = point_adjusted_f1(Y_TRUE, np.linspace(0, 1, 12), 0.6, seed=5)
    b = point_adjusted_f1(Y_TRUE, np.linspace(0, 1, 12), 0.6, seed=5)
    assert a == b


def test_point_adjust_inflates_random_scores_on_long_events():
    """Kim et al. (AAAI 2022): random scores get a high F1 under point adjustment."""
    n = 10_000
    y = np.zeros(n, int)
    for start in range(500, n, 2000):  # 5 long events of 400 samples = 20 % anomalies
        y[start : start + 400] = 1
    s = random_scores(n, seed=1)
    out = point_adjusted_f1(y, s, threshold=np.quantile(s, 0.99))
    assert out["f1_point"] < 0.1  # random alarms: point F1 is poor
    assert out["f1_pa"] > 0.8  # ... but point-adjusted F1 looks excellent
    assert out["f1_pa_random"] > 0.8  # which is exactly what the baseline reveals


def test_point_adjusted_f1_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        point_adjusted_f1([0, 1], [0.1, 0.2], threshold=np.nan)
    with pytest.raises(ValueError, match="threshold"):
        point_adjusted_f1([0, 1], [0.1, 0.2], threshold="0.5")


# --------------------------------------------------------------------------- #
# evaluate and baselines
# --------------------------------------------------------------------------- #
EVALUATE_KEYS = {
    "precision", "recall", "f1", "far", "mar", "roc_auc", "pr_auc",
    "event_recall", "event_precision", "n_events", "n_false_alarm_events",
    "mean_delay_samples", "false_alarms_per_day", "false_alarm_hours_per_day",
}  # fmt: skip


def test_evaluate_full():
    scores = np.arange(12.0)
    out = evaluate(Y_TRUE, scores, Y_PRED, sampling_period="2h")
    assert set(out) == EVALUATE_KEYS
    assert all(isinstance(v, float) for v in out.values())
    pm, em = point_metrics(Y_TRUE, Y_PRED), event_metrics(Y_TRUE, Y_PRED)
    for k in ("precision", "recall", "f1", "far", "mar"):
        assert out[k] == pm[k]
    assert out["event_recall"] == em["event_recall"] and out["n_events"] == 3.0
    assert out["roc_auc"] == roc_auc(Y_TRUE, scores) and out["pr_auc"] == pr_auc(Y_TRUE, scores)
    assert out["mean_delay_samples"] == 1.0
    assert out["false_alarms_per_day"] == pytest.approx(3.0)  # (8,10) lasts 4 h: re-armed once
    assert out["false_alarm_hours_per_day"] == pytest.approx(6.0)
    idx = pd.date_range("2024", periods=12, freq="2h")
    assert evaluate(Y_TRUE, scores, Y_PRED, index=idx)["false_alarms_per_day"] == pytest.approx(3.0)


def test_evaluate_nan_when_undefined():
    out = evaluate([0, 0, 0, 0], scores=[0.1, 0.2, 0.3, 0.4], y_pred=[0, 0, 0, 1])
    assert set(out) == EVALUATE_KEYS
    assert math.isnan(out["roc_auc"]) and math.isnan(out["pr_auc"])
    assert math.isnan(out["mean_delay_samples"]) and math.isnan(out["false_alarms_per_day"])
    assert out["far"] == pytest.approx(0.25)
    out = evaluate(Y_TRUE, y_pred=Y_PRED)
    assert math.isnan(out["roc_auc"]) and out["f1"] > 0


def test_evaluate_requires_y_pred():
    with pytest.raises(ValueError, match="y_pred"):
        evaluate(Y_TRUE, scores=np.arange(12.0))


def test_random_scores_and_trivial_predictions():
    s = random_scores(100, seed=7)
    assert s.shape == (100,) and s.dtype == np.float64 and (s >= 0).all() and (s < 1).all()
    np.testing.assert_array_equal(s, random_scores(100, seed=7))
    assert not np.array_equal(s, random_scores(100, seed=8))
    assert trivial_predictions(3, "all").tolist() == [True, True, True]
    assert trivial_predictions(3, "none").tolist() == [False, False, False]
    with pytest.raises(ValueError, match="kind must be one of 'all', 'none'; got 'some'"):
        trivial_predictions(3, "some")
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n must be an integer >= 1"):
            random_scores(bad)


# --------------------------------------------------------------------------- #
# bad input at the boundary of every public function
# --------------------------------------------------------------------------- #
LABEL_FUNCS = [
    point_metrics,
    event_metrics,
    detection_delays,
    point_adjust,
    lambda t, p: false_alarms_per_day(t, p, sampling_period="1min"),
    lambda t, p: evaluate(t, y_pred=p),
]
SCORE_FUNCS = [roc_auc, pr_auc, lambda t, s: point_adjusted_f1(t, s, 0.5), lambda t, s: evaluate(t, s, t)]


@pytest.mark.parametrize("fn", LABEL_FUNCS)
def test_label_functions_reject_bad_input(fn):
    with pytest.raises(ValueError, match="y_true has 3 labels but y_pred has 2"):
        fn([0, 1, 0], [0, 1])
    with pytest.raises(ValueError, match="binary"):
        fn([0, 2, 0], [0, 1, 0])
    with pytest.raises(ValueError, match="binary"):
        fn([0, 1, 0], [0.0, 0.7, 0.1])  # scores passed as alarms
    with pytest.raises(ValueError, match="binary"):
        fn([0, np.nan, 0], [0, 1, 0])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="shape"):
        fn(np.zeros((3, 2)), np.zeros((3, 2)))


@pytest.mark.parametrize("fn", SCORE_FUNCS)
def test_score_functions_reject_bad_input(fn):
    y = [0, 1, 0, 1]
    with pytest.raises(ValueError, match="infinite"):  # NaN is "no score"; inf is refused
        fn(y, [0.1, np.inf, 0.2, 0.3])
    with pytest.raises(ValueError, match="3 labels but the scores have 4"):
        fn([0, 1, 0], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="binary"):
        fn([0, 3, 0, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="shape"):
        fn(y, np.zeros((4, 2)))
    with pytest.raises(TypeError, match="dtype"):
        fn(y, ["a", "b", "c", "d"])


def test_events_rejects_2d_and_nonbinary():
    with pytest.raises(ValueError, match="shape"):
        events(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="binary"):
        events([0, 0.5])


# --------------------------------------------------------------------------- #
# cross-checks against independent implementations
# --------------------------------------------------------------------------- #
def _random_pairs(n_cases: int = 30):
    """Random label/alarm pairs with runs; both contain at least one 1 and one 0."""
    rng = np.random.default_rng(42)
    out = []
    while len(out) < n_cases:
        n = int(rng.integers(5, 400))
        y = _random_labels(rng, n, rng.uniform(0.02, 0.3))
        p = _random_labels(rng, n, rng.uniform(0.02, 0.5))
        if 0 < y.sum() < n and 0 < p.sum() < n:
            out.append((y, p))
    return out


def test_event_and_point_adjusted_f1_match_tsadmetrics():
    """tsadmetrics: range-based F1 with the existence reward for recall (r_alpha=1) and
    the overlap reward with flat bias for precision (p_alpha=0, Tatbul et al. 2018's
    choice) equals the F1 of (event_precision, event_recall) where every alarm range is its own episode (see
    tests/test_event_episodes.py for where and why they differ); its point-adjusted F1
    equals the point F1 of point_adjust. Its segment-wise F1 follows Hundman et al.
    (KDD 2018), whose precision is n_detected / (n_detected + n_false_alarm_events):
    it counts true events, not alarm ranges, so it differs from event_precision by
    design, but it checks our counts."""
    from tsadmetrics.metrics.tem.tpdm import PointadjustedFScore, RangebasedFScore, SegmentwiseFScore

    def f1(prec: float, rec: float) -> float:
        return 2 * prec * rec / (prec + rec) if prec + rec else 0.0

    swf = SegmentwiseFScore()
    rbf = RangebasedFScore(p_alpha=0.0, r_alpha=1.0, p_bias="flat", r_bias="flat", cardinality_mode="one")
    paf = PointadjustedFScore()
    for y, p in _random_pairs():
        m = event_metrics(y, p)
        if m["n_alarm_episodes"] == m["n_alarm_events"]:  # no event met by two alarm ranges: Tatbul's precision
            assert rbf.compute(y, p) == pytest.approx(f1(m["event_precision"], m["event_recall"]))
        hundman_precision = m["n_detected"] / (m["n_detected"] + m["n_false_alarm_events"])
        assert swf.compute(y, p) == pytest.approx(f1(hundman_precision, m["event_recall"]))
        assert paf.compute(y, p) == pytest.approx(point_metrics(y, point_adjust(y, p))["f1"])


# --------------------------------------------------------------------------- #
# metrics that cannot be gamed
# --------------------------------------------------------------------------- #
def _gaming_case(seed: int):
    """A week at 1 min with 8 events of 30-300 samples; a perfect detector, a reasonable
    one (late by a few samples, misses one event, two short false alarms), and trivial ones."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=7 * 1440, freq="1min")
    n = len(idx)
    y = np.zeros(n, dtype=bool)
    starts = np.sort(rng.choice(np.arange(500, n - 500, 1200), size=8, replace=False))
    lengths = rng.integers(30, 300, size=8)
    for s, L in zip(starts, lengths):
        y[s:s + L] = True
    reasonable = np.zeros(n, dtype=bool)
    for s, L in zip(starts[1:], lengths[1:]):
        reasonable[s + 5:s + L - 2] = True
    for s in (100, 4000):
        reasonable[s:s + 10] = True
    rate = float(reasonable.mean())
    return idx, y, {
        "perfect": y.copy(),
        "reasonable": reasonable,
        "flag everything": np.ones(n, dtype=bool),
        "flag nothing": np.zeros(n, dtype=bool),
        "random (same rate)": random_alarms(n, rate, seed=seed),
        "random (50 %)": random_alarms(n, 0.5, seed=seed),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trivial_alarms_cannot_beat_a_reasonable_detector(seed):
    idx, y, cases = _gaming_case(seed)
    res = {k: evaluate(y, y_pred=p, index=idx) for k, p in cases.items()}
    for good in ("perfect", "reasonable"):
        for bad in ("flag everything", "flag nothing", "random (same rate)", "random (50 %)"):
            for k in ("f1", "precision", "event_precision"):
                assert res[bad][k] < res[good][k], (bad, good, k)
            if bad != "flag nothing":  # flag-nothing raises no alarm: it loses on recall instead
                for k in ("false_alarms_per_day", "false_alarm_hours_per_day", "far"):
                    assert res[bad][k] > res[good][k], (bad, good, k)
            else:
                assert res[bad]["event_recall"] == 0.0 < res[good]["event_recall"]
            # a trivial detector may match the event recall (flag everything does),
            # but then it pays with many more false alarms per day
            assert res[bad]["event_recall"] <= res[good]["event_recall"] or (
                res[bad]["false_alarms_per_day"] > 10 * max(res[good]["false_alarms_per_day"], 0.1)
            ), (bad, good)
    assert res["flag everything"]["event_precision"] == pytest.approx(y.mean())
    assert res["flag everything"]["false_alarms_per_day"] == pytest.approx(24 * (1 - y.mean()), abs=1.0)


def test_random_alarms_and_baselines():
    a = random_alarms(1000, 0.1, seed=3)
    assert a.dtype == bool and a.sum() == 100
    np.testing.assert_array_equal(a, random_alarms(1000, 0.1, seed=3))
    with pytest.raises(ValueError, match="fraction"):
        random_alarms(10, 1.5)
    idx, y, _ = _gaming_case(0)
    table = baselines(y, alarm_rate=0.1, index=idx)
    assert list(table.index) == ["flag everything", "flag nothing", "random (10.0% alarms)"]
    assert set(table.columns) == EVALUATE_KEYS
    assert table.loc["flag everything", "recall"] == 1.0 and table.loc["flag nothing", "far"] == 0.0


def test_event_f1_is_harmonic_mean_of_event_precision_and_recall():
    y = np.array([0, 1, 1, 0, 0, 1, 1, 0, 0, 0])
    p = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 0])  # one event found, one false alarm range
    m = metrics.event_metrics(y, p)
    expected = 2 * m["event_precision"] * m["event_recall"] / (m["event_precision"] + m["event_recall"])
    assert metrics.event_f1(y, p) == pytest.approx(expected)
    assert metrics.event_f1(y, np.zeros_like(y)) == 0.0
    assert metrics.event_f1(y, y) == 1.0
