"""The contract every registered detector keeps (parametrised over the registry).

* fit on normal data, score/predict one value per row;
* the threshold and the fitted state come from the fitting data only: scoring or
  predicting test data (anomalies included) never changes them;
* the threshold can be changed without refitting;
* bad input gets a clear error;
* rows a detector cannot score (its first ``unscored_rows``) are NaN and never alarm; the rest are finite.
"""

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sadlib import detectors

FAST_PARAMS = {
    "dense_ae": {"epochs": 2, "window": 5},
    "ocsvm": {"window": 5},
    "iforest": {"window": 5, "n_estimators": 20},
    "lstm_forecast": {"window": 5, "epochs": 2, "units": (8,)},
    "lstm_ae": {"window": 8, "epochs": 2, "units": 8},
    "conv_ae": {"window": 8, "epochs": 2, "filters": (16, 8), "kernel_size": 3},
    "cnn_lstm": {"window": 8, "epochs": 2, "filters": 8, "units": 8},
    "attn_lstm": {"window": 8, "epochs": 2, "units": 8},
    "vqvae": {"window": 8, "epochs": 2, "n_codes": 8, "code_dim": 4, "filters": 8, "kernel_size": 3},
    "skab_conv_ae": {"epochs": 2},
}


def make(name):
    return detectors.make(name, **FAST_PARAMS.get(name, {}))


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([np.sin(t / 20), np.cos(t / 30), 0.5 * np.sin(t / 7)]) + rng.normal(0, 0.1, (n, 3))
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1min"), columns=["a", "b", "c"])


def fitted_state(obj):
    """Fitted attributes (ending in ``_``), with fitted sub-estimators (scalers, thresholds) expanded."""
    state = {}
    for key, value in vars(obj).items():
        if not key.endswith("_") or key in ("model_", "history_"):
            continue
        if isinstance(value, (list, tuple)) and value and all(hasattr(v, "__dict__") for v in value):
            for i, member in enumerate(value):  # fitted members of an ensemble
                state.update({f"{key}[{i}].{k}": v for k, v in fitted_state(member).items()})
        elif hasattr(value, "__dict__") and not isinstance(value, np.ndarray):
            state.update({f"{key}.{k}": v for k, v in fitted_state(value).items()})
        else:
            state[key] = copy.deepcopy(value)
    return state


@pytest.mark.parametrize("name", detectors.available())
def test_scoring_test_data_changes_nothing_fitted(name):
    det = make(name).fit(data())
    before = fitted_state(det)
    has_weights = hasattr(getattr(det, "model_", None), "get_weights")
    weights = [w.copy() for w in det.model_.get_weights()] if has_weights else []
    test = data(300, seed=1)
    test.iloc[100:120, 0] += 10  # anomalies in the test data
    s = det.score(test)
    assert s.shape == (300,) and np.isfinite(s[det.unscored_rows:]).all()
    assert det.predict(test).dtype == bool
    after = fitted_state(det)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_equal(after[key], before[key], err_msg=f"{name}.{key} changed while scoring test data")
    for w_before, w_after in zip(weights, det.model_.get_weights() if weights else []):
        np.testing.assert_array_equal(w_before, w_after)


@pytest.mark.parametrize("name", detectors.available())
def test_threshold_comes_from_fitting_data_and_changes_without_refit(name):
    X = data()
    det = make(name).fit(X)
    first = det.threshold_
    # the same fitting data gives the same threshold, whatever is scored afterwards
    assert clone(det).fit(X).threshold_ == pytest.approx(first, rel=1e-5)
    det.set_threshold(first * 10 + 1)
    assert det.threshold_ == first * 10 + 1
    det.calibrate()
    assert det.threshold_ == pytest.approx(first)


@pytest.mark.parametrize("name", detectors.available())
@pytest.mark.parametrize(
    "bad, err, match",
    [
        (lambda X: X.assign(a=np.nan), ValueError, "NaN"),
        (lambda X: X.iloc[:0], ValueError, "empty|rows"),
        (lambda X: X.iloc[::-1], ValueError, "not sorted"),
        (lambda X: X.assign(a="x"), TypeError, "non-numeric"),
    ],
)
def test_fit_rejects_bad_input(name, bad, err, match):
    with pytest.raises(err, match=match):
        make(name).fit(bad(data()))


@pytest.mark.parametrize("name", detectors.available())
def test_score_rejects_wrong_columns_and_nan(name):
    det = make(name).fit(data())
    with pytest.raises(ValueError, match="features"):
        det.score(data().to_numpy()[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        det.score(data().assign(b=np.nan))


def test_shared_default_threshold_cannot_be_mutated_through_one_detector():
    """Every detector built with defaults shares DEFAULT_THRESHOLD; changing it in place must not be possible."""
    import copy
    import pickle

    from sadlib import detectors
    from sadlib.detectors import DEFAULT_THRESHOLD

    a, b = detectors.make("zscore"), detectors.make("robust_z")
    with pytest.raises(TypeError, match="cannot be changed in place"):
        a.threshold[1]["q"] = 50.0
    with pytest.raises(TypeError):
        a.threshold[1].update(q=50.0)
    assert b.threshold[1]["q"] == 99.0 and DEFAULT_THRESHOLD[1]["q"] == 99.0
    a.set_params(threshold=("percentile", {"q": 95.0}))
    assert b.get_params()["threshold"][1]["q"] == 99.0
    assert pickle.loads(pickle.dumps(DEFAULT_THRESHOLD)) == DEFAULT_THRESHOLD
    assert copy.deepcopy(DEFAULT_THRESHOLD) == DEFAULT_THRESHOLD


@pytest.mark.parametrize("name", detectors.available())
def test_get_params_clone_round_trip(name):
    """scikit-learn's contract: clone() rebuilds an equal, unfitted detector from get_params(), and
    set_params(**get_params()) changes nothing; a clone does not share mutable parameters."""
    det = make(name)
    params = det.get_params(deep=False)
    twin = clone(det)
    assert type(twin) is type(det) and twin is not det
    assert twin.get_params(deep=False).keys() == params.keys()
    for key, value in params.items():
        other = twin.get_params(deep=False)[key]
        if hasattr(value, "get_params"):  # a wrapped detector is cloned too
            assert type(other) is type(value) and other is not value
        else:
            assert repr(other) == repr(value), key
    assert repr(det.set_params(**params)) == repr(make(name))
    assert not any(k.endswith("_") and not k.startswith("__") for k in vars(twin)), "clone must be unfitted"


#: rows without a score at the start of every scored series, per detector (with FAST_PARAMS)
UNSCORED = {"dense_ae": 4, "ocsvm": 4, "iforest": 4, "lstm_forecast": 5, "lstm_ae": 7, "conv_ae": 7, "cnn_lstm": 7,
            "attn_lstm": 7, "vqvae": 7, "skab_conv_ae": 59, "transformer_ae": 23}


@pytest.mark.parametrize("name", detectors.available())
def test_rows_without_a_score_are_nan_and_never_alarm(name):
    det = make(name).fit(data())
    k = UNSCORED.get(name, 0)  # the classical detectors and the wrappers of them score every row
    assert det.unscored_rows == k
    test = data(300, seed=1)
    test.iloc[:70] += 10  # the first rows are far off: a score borrowed from a later window, or 0, would show
    s = det.score(test)
    assert np.isnan(s[:k]).all() and np.isfinite(s[k:]).all()
    alarms = det.predict(test)
    assert not alarms[:k].any()
    assert alarms[k:].any()  # the rows after them are scored and alarm
    assert np.isnan(det.train_scores_[:k]).all() and np.isfinite(det.threshold_)
    # scored with the rows before it as context, the same series has a score from its first row
    context = data(300, seed=2).to_numpy()[300 - k:]
    both = det.score(np.concatenate([context, test.to_numpy()]))
    assert np.isfinite(both[k:]).all() and both.shape == (k + 300,)
