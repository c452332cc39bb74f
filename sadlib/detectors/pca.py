"""PCA monitoring with Hotelling's T² and the Q (SPE) residual: the classic of chemometrics.

Principal component analysis of the standardised training data splits every new
sample into a part inside the model subspace (the first principal components) and
a residual. Two statistics watch the two parts (Jackson, *A User's Guide to
Principal Components*, 1991; MacGregor & Kourti, 1995):

* **Hotelling's T²**: the Mahalanobis distance of the projection from the centre,
  ``T² = sum_i t_i² / lambda_i`` (scores ``t_i``, eigenvalues ``lambda_i``): the
  sample moves *along* the usual correlations but further than usual;
* **Q**, the squared prediction error (SPE): ``Q = ||x - P P^T x||²``: the sample
  *breaks* the correlations between sensors.

The SKAB leaderboard's "T-squared+Q (PCA-based)" row is this method.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, Literal

import numpy as np

from ..validation import check_choice, check_int, check_not_constant, check_number
from .base import DEFAULT_THRESHOLD, Detector

__all__ = ["PCADetector", "PCA_STATISTICS"]

#: what :class:`PCADetector` can score
PCA_STATISTICS = ("t2", "q", "combined")


class PCADetector(Detector):
    """Hotelling's T² and Q (SPE) of a PCA model fitted on standardised training data.

    Each sensor is standardised with the training mean and std; the principal axes
    are the eigenvectors of the training covariance (``ddof=1``).

    Parameters
    ----------
    n_components : int >= 1 or float in (0, 1)
        Principal components kept. A float keeps the fewest components that explain
        at least that fraction of the training variance (e.g. ``0.9``). At least one
        component is always left out (otherwise Q is identically 0).
    statistic : {"t2", "q", "combined"}
        The score: ``T²``, ``Q``, or ``T² / k + Q / theta1`` (each statistic divided by
        its expected value on the training data: ``k`` kept components, ``theta1`` the
        sum of the left-out eigenvalues), a combined index in the spirit of
        Yue & Qin (2001) that is high when *either* statistic is unusually high.
    threshold, calibration : see :class:`~sadlib.detectors.base.Detector`.

    Fitted attributes
    -----------------
    mean_, scale_ : ndarray (n_features,), training mean and std per sensor
    components_ : ndarray (n_components_, n_features), kept principal axes (rows)
    explained_variance_ : ndarray (n_components_,), their eigenvalues
    residual_variance_ : float, ``theta1``, sum of the left-out eigenvalues
    n_components_ : int, number of kept components
    """

    def __init__(
        self,
        n_components: int | float = 0.9,
        *,
        statistic: Literal["t2", "q", "combined"] = "combined",
        threshold: Any = DEFAULT_THRESHOLD,
        calibration: float = 0.2,
    ):
        super().__init__(threshold=threshold, calibration=calibration)
        self.n_components = n_components
        self.statistic = statistic

    def _check_params(self) -> None:
        check_choice("statistic", self.statistic, PCA_STATISTICS)
        hint = "An int is the number of components kept, a float in (0, 1) the variance fraction they explain."
        if isinstance(self.n_components, Integral) and not isinstance(self.n_components, bool):
            check_int("n_components", self.n_components, 1, hint=hint)
        else:
            check_number("n_components", self.n_components, 0, 1, low_open=True, high_open=True, hint=hint)

    def _fit(self, X: np.ndarray) -> None:
        k = self.n_components
        n_features = X.shape[1]
        if n_features < 2:
            raise ValueError("PCA monitoring needs at least 2 sensors (columns); got 1.")
        is_int = isinstance(k, Integral)
        if is_int and k >= n_features:
            raise ValueError(f"n_components={k} must be between 1 and n_features - 1 = {n_features - 1} "
                             f"(at least one component is left out for Q).")
        check_not_constant(X, columns=getattr(self, "feature_names_in_", None), name="X (training part)")
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        Z = (X - self.mean_) / self.scale_
        eigval, eigvec = np.linalg.eigh(np.cov(Z, rowvar=False))
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = np.clip(eigval[order], 0.0, None), eigvec[:, order]
        if not is_int:
            ratio = np.cumsum(eigval) / eigval.sum()
            k = int(np.searchsorted(ratio, float(k) - 1e-12) + 1)
            k = min(k, n_features - 1)
        k = int(k)
        floor = 1e-12 * max(eigval[0], 1e-300)
        self.n_components_ = k
        self.components_ = eigvec[:, :k].T
        self.explained_variance_ = np.maximum(eigval[:k], floor)
        self.residual_variance_ = float(max(eigval[k:].sum(), floor))

    def statistics(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(T², Q)`` of every row of ``X``, each of shape ``(n_samples,)``."""
        self._check_fitted()
        return self._t2_q(self._validate(X, fitting=False))

    def _t2_q(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Z = (X - self.mean_) / self.scale_
        T = Z @ self.components_.T  # (n, k) scores
        t2 = (T**2 / self.explained_variance_).sum(axis=1)
        resid = Z - T @ self.components_
        return t2, (resid**2).sum(axis=1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        t2, q = self._t2_q(X)
        if self.statistic == "t2":
            return t2
        if self.statistic == "q":
            return q
        return t2 / self.n_components_ + q / self.residual_variance_
