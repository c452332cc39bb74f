"""PCA T²/Q detector: statistics against a direct numpy computation, and the Detector contract."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sadlib.detectors.pca import PCADetector


def data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    mix = np.array([[1.0, 0.5, 0.2, -0.3], [0.1, -0.4, 1.0, 0.8]])
    X = latent @ mix + 0.1 * rng.normal(size=(n, 4)) + np.array([10.0, -3.0, 0.0, 5.0])
    return pd.DataFrame(X, index=pd.date_range("2024-01-01", periods=n, freq="1s"), columns=list("abcd"))


def direct_t2_q(train, test, k):
    """Textbook PCA monitoring, written out independently of the detector."""
    mu, sd = train.mean(axis=0), train.std(axis=0)
    Z = (train - mu) / sd
    lam, V = np.linalg.eigh(np.cov(Z, rowvar=False))
    order = np.argsort(lam)[::-1]
    lam, V = lam[order], V[:, order]
    P, lam_k = V[:, :k], lam[:k]
    Zt = (test - mu) / sd
    T = Zt @ P
    t2 = np.sum(T**2 / lam_k, axis=1)
    q = np.sum((Zt - T @ P.T) ** 2, axis=1)
    return t2, q, lam[k:].sum()


@pytest.mark.parametrize("k", [1, 2, 3])
def test_t2_and_q_match_numpy(k):
    X = data()
    det = PCADetector(n_components=k, calibration=0).fit(X)
    test = data(50, seed=1).to_numpy()
    t2, q = det.statistics(test)
    t2_ref, q_ref, theta1 = direct_t2_q(X.to_numpy(), test, k)
    np.testing.assert_allclose(t2, t2_ref, rtol=1e-8)
    np.testing.assert_allclose(q, q_ref, rtol=1e-8, atol=1e-12)
    assert det.residual_variance_ == pytest.approx(theta1)
    np.testing.assert_allclose(PCADetector(k, statistic="t2", calibration=0).fit(X).score(test), t2_ref, rtol=1e-8)
    np.testing.assert_allclose(PCADetector(k, statistic="q", calibration=0).fit(X).score(test), q_ref, rtol=1e-8)
    np.testing.assert_allclose(det.score(test), t2_ref / k + q_ref / theta1, rtol=1e-8)


def test_variance_fraction_picks_components_and_training_t2_averages_k():
    X = data()
    det = PCADetector(n_components=0.9, calibration=0).fit(X)
    assert det.n_components_ == 2  # two latent factors explain > 90 % of the variance
    assert det.components_.shape == (2, 4)
    t2, _ = det.statistics(X)
    # with ddof=1 eigenvalues the in-sample mean of T² is k (n-1)/n
    assert t2.mean() == pytest.approx(2 * (len(X) - 1) / len(X))


def test_q_flags_a_broken_correlation_that_t2_misses():
    X = data()
    det_q = PCADetector(2, statistic="q").fit(X)
    test = data(100, seed=2)
    test.iloc[50:60, 3] += 1.0  # small, but against the correlation structure
    s = det_q.score(test)
    assert s[50:60].min() > np.percentile(s[:50], 99)


def test_shapes_clone_and_threshold_from_fit_data_only():
    X = data()
    det = PCADetector().fit(X)
    thr = det.threshold_
    test = data(80, seed=3)
    test.iloc[10:20] += 5
    assert det.score(test).shape == (80,)
    assert det.predict(test).dtype == bool
    assert det.threshold_ == thr
    assert clone(det).fit(X).threshold_ == pytest.approx(thr)
    assert not hasattr(clone(det), "components_")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_components": 4}, "between 1 and n_features - 1"),
        ({"n_components": 0}, "n_components must be an integer >= 1, got 0"),
        ({"n_components": 1.5}, "variance fraction"),
        ({"n_components": True}, "variance fraction"),
        ({"statistic": "spe"}, "statistic must be one of"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PCADetector(**kwargs).fit(data())


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 sensors"):
        PCADetector().fit(data()[["a"]])
    with pytest.raises(ValueError, match="NaN"):
        PCADetector().fit(data().assign(a=np.nan))
    X = data().assign(b=1.0)
    with pytest.raises(ValueError, match="constant|spread"):
        PCADetector().fit(X)
    det = PCADetector().fit(data())
    with pytest.raises(ValueError, match="features"):
        det.score(data().to_numpy()[:, :3])
