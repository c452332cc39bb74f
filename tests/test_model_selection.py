"""Forward-chaining cross-validation, detector cross-validation, the shuffled-fold overstatement and tuning."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold, TimeSeriesSplit, check_cv, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from sadlib import detectors
from sadlib.model_selection import (
    ForwardChainingSplit,
    cross_val_detector,
    cv_overstatement,
    tune,
    window_classification_cv,
    window_labels,
)
from sadlib.validation import InvalidParameterError
from sadlib.windows import sliding_windows


def folds(cv, X):
    return [(np.asarray(tr), np.asarray(va)) for tr, va in cv.split(X)]


# --------------------------------------------------------------------------- #
# ForwardChainingSplit
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n, n_splits, gap, test_size, min_train", [
    (100, 4, 0, None, None), (100, 4, 7, None, None), (101, 3, 5, 10, None), (97, 5, 3, None, 30),
    (50, 1, 0, None, None), (60, 2, 0, 5, 40),
])
def test_folds_are_ordered_disjoint_expanding_and_keep_the_gap(n, n_splits, gap, test_size, min_train):
    cv = ForwardChainingSplit(n_splits, gap=gap, test_size=test_size, min_train_size=min_train)
    got = folds(cv, np.zeros((n, 2)))
    assert len(got) == n_splits == cv.get_n_splits()
    prev_train, prev_val_end = None, None
    for tr, va in got:
        assert np.intersect1d(tr, va).size == 0
        assert tr[0] == 0 and np.all(np.diff(tr) == 1) and np.all(np.diff(va) == 1)  # contiguous blocks
        assert va[0] - tr[-1] - 1 == gap  # exactly `gap` rows between them
        if test_size is not None:
            assert len(va) == test_size
        if min_train is not None:
            assert len(tr) >= min_train
        if prev_train is not None:
            assert len(tr) > len(prev_train) and np.array_equal(tr[:len(prev_train)], prev_train)  # expanding
            assert va[0] == prev_val_end  # validation blocks are consecutive
        prev_train, prev_val_end = tr, va[-1] + 1
    assert prev_val_end == n  # the last block ends with the data


def test_default_sizes_leave_the_first_training_set_as_large_as_a_block():
    cv = ForwardChainingSplit(4, gap=10)
    sizes = cv.resolve(np.zeros(110))
    assert sizes == {"n_rows": 110, "gap": 10, "test_size": 20, "first_train_size": 20}


def test_matches_sklearn_time_series_split_without_additions():
    X = np.zeros((57, 1))
    ours = folds(ForwardChainingSplit(3, gap=4, test_size=9), X)
    ref = folds(TimeSeriesSplit(3, gap=4, test_size=9), X)
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(ours, ref))


@pytest.mark.parametrize("window, stride", [(1, 1), (5, 1), (12, 1), (12, 3), (10, 10)])
def test_gap_window_means_windows_never_straddle_train_and_validation(window, stride):
    n_samples = 400
    starts_per_window = np.arange(0, n_samples - window + 1, stride)  # sample covered by window i
    covered = [set(range(s, s + window)) for s in starts_per_window]
    cv = ForwardChainingSplit(3, gap="window", window=window, stride=stride)
    for tr, va in cv.split(np.zeros((len(starts_per_window), 1))):
        train_samples = set().union(*(covered[i] for i in tr))
        val_samples = set().union(*(covered[i] for i in va))
        assert not train_samples & val_samples
        # and the gap is the smallest that does this: one window less would share a sample
        assert va[0] - tr[-1] - 1 == max(0, -(-window // stride) - 1)


def test_without_the_gap_overlapping_windows_do_straddle():
    w = sliding_windows(np.arange(200.0), 10)[:, :, 0]  # row i holds samples i .. i+9
    tr, va = folds(ForwardChainingSplit(2), w)[0]
    assert set(w[tr].ravel()) & set(w[va].ravel())  # the naive split shares samples
    tr, va = folds(ForwardChainingSplit(2, gap="window", window=10), w)[0]
    assert not set(w[tr].ravel()) & set(w[va].ravel())


def test_durations_on_a_datetime_index():
    idx = pd.date_range("2024-01-01", periods=3 * 1440, freq="1min")
    X = pd.DataFrame({"a": np.arange(len(idx), dtype=float)}, index=idx)
    cv = ForwardChainingSplit(2, gap="6h", test_size="12h", min_train_size="1D")
    table = cv.table(X)
    assert table["n_val"].tolist() == [720, 720]
    assert (table["val_start"] - table["train_end"]).tolist() == [360, 360]
    assert table["n_train"].min() >= 1440
    assert table.loc[0, "val_from"] - table.loc[0, "train_to"] == pd.Timedelta("6h") + pd.Timedelta("1min")
    # a duration that is not a whole number of samples is rounded up
    assert ForwardChainingSplit(2, gap="90s").resolve(X)["gap"] == 2
    assert ForwardChainingSplit(2, gap=pd.Timedelta("1h")).resolve(X)["gap"] == 60
    assert ForwardChainingSplit(2, gap=datetime.timedelta(minutes=5)).resolve(X)["gap"] == 5


def test_is_a_scikit_learn_splitter():
    X, y = np.random.default_rng(0).normal(size=(80, 3)), np.tile([0, 1], 40)
    cv = ForwardChainingSplit(3, gap=2)
    assert check_cv(cv) is cv
    assert clone(cv).get_params() if hasattr(cv, "get_params") else True
    scores = cross_val_score(KNeighborsClassifier(3), X, y, cv=cv)
    assert scores.shape == (3,)
    assert "ForwardChainingSplit(" in repr(cv) and "gap=2" in repr(cv)


def test_too_few_rows_says_how_many_are_needed():
    with pytest.raises(ValueError, match=r"X has 12 rows.*needs at least 16"):
        list(ForwardChainingSplit(5, gap=10).split(np.zeros(12)))
    with pytest.raises(ValueError, match=r"needs at least 1 \+ 3|needs at least 34"):
        list(ForwardChainingSplit(3, gap=3, test_size=10).split(np.zeros(33)))
    list(ForwardChainingSplit(3, gap=3, test_size=10).split(np.zeros(34)))  # exactly enough


@pytest.mark.parametrize("kwargs, match", [
    ({"n_splits": 0}, "n_splits must be an integer >= 1"),
    ({"n_splits": 2.0}, "n_splits"),
    ({"gap": -1}, "gap must be an integer >= 0"),
    ({"gap": 1.5}, "gap"),
    ({"gap": "window"}, "pass window="),
    ({"gap": "window", "window": 0}, "window must be an integer >= 1"),
    ({"test_size": 0}, "test_size must be an integer >= 1"),
    ({"min_train_size": True}, "min_train_size"),
    ({"gap": "soon"}, "not a duration"),
    ({"stride": 0}, "stride"),
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        list(ForwardChainingSplit(**{"n_splits": 2, **kwargs}).split(np.zeros(100)))


def test_durations_need_a_datetime_index_and_a_sorted_one():
    with pytest.raises(InvalidParameterError, match="no DatetimeIndex"):
        list(ForwardChainingSplit(2, gap="1h").split(np.zeros(100)))
    idx = pd.date_range("2024", periods=50, freq="1min")[::-1]
    with pytest.raises(ValueError, match="not sorted"):
        list(ForwardChainingSplit(2).split(pd.DataFrame({"a": np.zeros(50)}, index=idx)))
    with pytest.raises(ValueError, match="empty"):
        list(ForwardChainingSplit(2).split(np.zeros((0, 2))))


# --------------------------------------------------------------------------- #
# cross_val_detector
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def labelled():
    rng = np.random.default_rng(0)
    n = 1200
    X = rng.normal(size=(n, 2))
    y = np.zeros(n, int)
    for s in (350, 650, 900, 1100):
        X[s:s + 20] += 6.0
        y[s:s + 20] = 1
    idx = pd.date_range("2024-01-01", periods=n, freq="1min")
    return pd.DataFrame(X, columns=["a", "b"], index=idx), y


def test_cross_val_detector_val_loss_fits_on_normal_training_rows_only(labelled):
    X, y = labelled
    cv = ForwardChainingSplit(3, gap=5)
    res = cross_val_detector(detectors.RobustZScore(), X, cv, y=y)
    assert list(res.columns) == ["fold", "n_train", "n_val", "val_anomalies", "score", "seconds"]
    assert res.attrs["greater_is_better"] is False
    for row, (tr, va) in zip(res.itertuples(), cv.split(X)):
        assert row.n_train == int((y[tr] == 0).sum())  # anomalies dropped from fitting
        assert row.n_val == len(va) and row.val_anomalies == int(y[va].sum())
        det = detectors.RobustZScore().fit(X.iloc[tr[y[tr] == 0]])  # what the function should have done
        s = det.score(X.iloc[va])
        assert row.score == pytest.approx(s[y[va] == 0].mean())


def test_cross_val_detector_never_fits_the_detector_passed(labelled):
    X, y = labelled
    det = detectors.RobustZScore()
    res, fitted = cross_val_detector(det, X, 2, return_detectors=True)
    assert not hasattr(det, "threshold_")
    assert len(fitted) == 2 and all(f is not det and hasattr(f, "threshold_") for f in fitted)
    assert [f.calibration_scores_.size + f.train_scores_.size for f in fitted] == res["n_train"].tolist()


def test_cross_val_detector_label_scores(labelled):
    X, y = labelled
    cv = ForwardChainingSplit(3, gap=5)
    f1 = cross_val_detector(detectors.RobustZScore(threshold=5.0), X, cv, y=y, scoring="event_f1")
    auc = cross_val_detector(detectors.RobustZScore(), X, cv, y=y, scoring="pr_auc")
    assert f1.attrs["greater_is_better"] and auc.attrs["greater_is_better"]
    assert f1["score"].between(0.8, 1).all()  # the shifts are obvious
    assert auc["score"].between(0.9, 1).all()
    # a block without anomalies has no PR-AUC and no event F1: NaN (not 0) with a warning naming the fold
    folds = [(np.arange(0, 200), np.arange(210, 300)), (np.arange(0, 300), np.arange(310, 450))]
    for scoring in ("pr_auc", "event_f1"):
        with pytest.warns(UserWarning, match=r"fold\(s\) 0 have no labelled"):
            quiet = cross_val_detector(detectors.RobustZScore(), X, folds, y=y, scoring=scoring)
        assert np.isnan(quiet["score"].iloc[0]) and quiet["score"].iloc[1] > 0.5
        # no fold can be scored: an error before any fit
        with pytest.raises(InvalidParameterError, match=f'scoring="{scoring}" cannot score any fold'):
            cross_val_detector(detectors.RobustZScore(), X, folds[:1], y=y, scoring=scoring)


def test_cross_val_detector_uses_the_alarm_policy(labelled):
    from sadlib.alarms import AlarmPolicy

    X, y = labelled
    cv = ForwardChainingSplit(2, gap=5)
    strict = cross_val_detector(detectors.RobustZScore(), X, cv, y=y, scoring="event_f1",
                                policy=AlarmPolicy(1e9))  # a level no score reaches: no alarm, F1 0
    assert (strict["score"] == 0).all()


def test_cross_val_detector_callable_and_errors(labelled):
    X, y = labelled
    res = cross_val_detector(detectors.RobustZScore(), X, 2, scoring=lambda det, Xv, yv: len(Xv))
    assert res["score"].tolist() == res["n_val"].tolist()
    with pytest.raises(InvalidParameterError, match="pass y="):
        cross_val_detector(detectors.RobustZScore(), X, 2, scoring="event_f1")
    with pytest.raises(InvalidParameterError, match="scoring must be one of"):
        cross_val_detector(detectors.RobustZScore(), X, 2, scoring="accuracy")
    with pytest.raises(TypeError, match="fit and score"):
        cross_val_detector(object(), X, 2)
    with pytest.raises(ValueError, match="labels but the scores have"):
        cross_val_detector(detectors.RobustZScore(), X, 2, y=y[:-1])
    with pytest.raises(InvalidParameterError, match="cv must be"):
        cross_val_detector(detectors.RobustZScore(), X, None)


# --------------------------------------------------------------------------- #
# the overstatement of shuffled folds
# --------------------------------------------------------------------------- #
def test_window_labels():
    y = np.array([0, 0, 1, 0, 0, 0])
    assert window_labels(y, 3).tolist() == [1, 1, 1, 0]
    assert window_labels(y, 3, how="last").tolist() == [1, 0, 0, 0]


def _random_walk_with_events(n=3000, seed=0):
    """Labels tied to a slow random walk: neighbours in time look alike, the future looks different."""
    rng = np.random.default_rng(seed)
    X = np.cumsum(rng.normal(size=(n, 2)), axis=0)
    y = np.zeros(n, int)
    starts = np.arange(100, n - 100, 150)
    for s in rng.choice(starts, size=min(12, len(starts)), replace=False):
        y[s:s + 40] = 1
    return X, y


def test_shuffled_folds_on_overlapping_windows_overstate_and_forward_chaining_does_not():
    X, y = _random_walk_with_events()
    table = cv_overstatement(X, y, 20, n_splits=4, model=KNeighborsClassifier(1), scoring="f1")
    m = table.set_index("scheme")["mean"]
    assert list(m.index) == ["shuffled KFold", "stratified KFold", "forward chaining + gap", "held-out test"]
    # the labels are unpredictable from the windows (random placement): a nearest neighbour that finds its
    # overlapping twin looks excellent, forward chaining and the future show it is not
    assert m["shuffled KFold"] > 0.9 and m["stratified KFold"] > 0.9
    assert m["forward chaining + gap"] < 0.5 and m["held-out test"] < 0.5
    assert table["folds"].tolist()[:2] == [4, 4]


def test_window_classification_cv_folds_and_errors():
    X, y = _random_walk_with_events(800)
    res = window_classification_cv(X, y, 10, KFold(3, shuffle=True, random_state=0), model=KNeighborsClassifier(1))
    assert res["n_val"].sum() == 800 - 10 + 1
    assert (res["val_positives"] > 0).all()
    with pytest.raises(InvalidParameterError, match="window"):
        window_classification_cv(X, y, 0, 3)
    with pytest.raises(InvalidParameterError, match="scoring"):
        window_classification_cv(X, y, 5, 3, scoring="auc")
    with pytest.raises(ValueError, match="too few"):
        cv_overstatement(X[:50], y[:50], 20, n_splits=4)


# --------------------------------------------------------------------------- #
# tune
# --------------------------------------------------------------------------- #
class _Recorder:
    def __init__(self):
        self.calls = []

    def log_trial(self, number, params, metrics, step=None, history=None):
        self.calls.append((number, params, metrics, history))


def test_tune_finds_the_minimum_repeats_with_the_seed_and_logs_every_trial():
    space = {"x": ("float", -5.0, 5.0), "k": ("int", 1, 4), "kind": ["a", "b"]}

    def objective(p):
        loss = (p["x"] - 1.0) ** 2 + p["k"] + (p["kind"] == "b")
        return {"value": loss, "other": 2 * loss, "history": {"loss": [loss + 1, loss]}}

    rec = _Recorder()
    res = tune(objective, space, 25, seed=3, tracker=rec)
    t = res.trials
    assert len(t) == 25 and (t["state"] == "COMPLETE").all()
    assert {"trial", "state", "value", "x", "k", "kind", "other", "seconds"} <= set(t.columns)
    assert np.allclose(t["other"], 2 * t["value"])
    assert res.best_value == pytest.approx(t["value"].min()) and res.best_params["k"] == 1
    assert res.best_value < 2.5
    assert [c[0] for c in rec.calls] == list(range(25))
    assert rec.calls[0][3] == {"loss": [rec.calls[0][2]["value"] + 1, rec.calls[0][2]["value"]]}
    again = tune(objective, space, 25, seed=3)
    assert np.allclose(again.trials["x"], t["x"])  # same seed, same search
    assert res.study.direction.name == "MINIMIZE"


def test_tune_with_optuna_style_objective_and_maximize():
    res = tune(lambda trial: -abs(trial.suggest_float("x", 0, 1) - 0.3), None, 10, direction="maximize")
    assert res.best_value <= 0 and set(res.trials.columns) >= {"x", "value"}


@pytest.mark.parametrize("space, match", [
    ({}, "non-empty"),
    ({"x": ("float", 1.0)}, "give"),
    ({"x": 3}, "not a search range"),
    ({"x": ("int", 5, 1)}, "high"),
])
def test_tune_rejects_bad_spaces_before_running(space, match):
    calls = []
    with pytest.raises(InvalidParameterError, match=match):
        tune(lambda p: calls.append(p) or 0.0, space, 3)
    assert calls == []


def test_tune_bad_arguments_and_objective_outputs():
    with pytest.raises(InvalidParameterError, match="n_trials"):
        tune(lambda p: 0.0, {"x": [1, 2]}, 0)
    with pytest.raises(InvalidParameterError, match="direction"):
        tune(lambda p: 0.0, {"x": [1, 2]}, 1, direction="down")
    with pytest.raises(TypeError, match="log_trial"):
        tune(lambda p: 0.0, {"x": [1, 2]}, 1, tracker=object())
    with pytest.raises(ValueError, match="without 'value'"):
        tune(lambda p: {"loss": 1.0}, {"x": [1, 2]}, 1)
    with pytest.raises(ValueError, match="return a number"):
        tune(lambda p: "good", {"x": [1, 2]}, 1)


# --------------------------------------------------------------------------- #
# nothing passes silently (issue 25)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("folds", "where"), [
    ([(np.arange(600, 1200), np.arange(0, 300))], "before"),
    ([(np.arange(0, 1200), np.arange(400, 500))], "inside"),
    ([(np.r_[0:300, 500:800], np.arange(320, 480))], "inside"),
])
def test_cross_val_detector_refuses_validation_before_or_inside_training(labelled, folds, where):
    X, _ = labelled
    with pytest.raises(InvalidParameterError, match=f"cv fold 0 validates on rows .*, {where} its training rows"):
        cross_val_detector(detectors.RobustZScore(), X, folds)


def test_cross_val_detector_refuses_shuffled_kfold(labelled):
    X, _ = labelled
    with pytest.raises(InvalidParameterError, match=r"cv fold 0 validates on rows 0\.\.399, before"):
        cross_val_detector(detectors.RobustZScore(), X, KFold(3))


@pytest.mark.parametrize(("folds", "match"), [
    ([(np.arange(0, 100), np.arange(100, 1300))], "validation row 1200, outside the 1200 rows"),
    ([(np.arange(-5, 100), np.arange(100, 200))], "training row -5, outside"),
    ([(np.arange(0, 100) < 50, np.arange(100, 200))], "integer row positions"),
    ([(np.arange(0, 100), [])], "non-empty"),
])
def test_cross_val_detector_refuses_out_of_range_folds(labelled, folds, match):
    X, _ = labelled
    with pytest.raises(InvalidParameterError, match=match):
        cross_val_detector(detectors.RobustZScore(), X, folds)


def test_cross_val_detector_refuses_cv_as_text(labelled):
    X, _ = labelled
    with pytest.raises(InvalidParameterError, match=r"the text '3'; pass the number itself \(cv=3\)"):
        cross_val_detector(detectors.RobustZScore(), X, "3")


def test_cross_val_detector_names_the_fold_too_short_to_fit(labelled):
    X, _ = labelled
    with pytest.raises(InvalidParameterError, match="cv fold 1 cannot fit the detector on its 1 training rows"):
        cross_val_detector(detectors.RobustZScore(), X, [(np.arange(0, 100), np.arange(100, 200)),
                                                         (np.arange(0, 1), np.arange(300, 400))])
