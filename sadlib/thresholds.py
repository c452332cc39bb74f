"""Thresholds that turn anomaly scores into alarms.

A threshold is fitted **only on scores of normal data** (training or validation
period) and then applied to new scores. The API follows scikit-learn::

    thr = PercentileThreshold(q=99).fit(normal_scores)   # sets thr.threshold_
    alarms = thr.apply(test_scores)                      # bool array, scores > threshold_

Thresholds are independent of the model that produced the scores, so trying
another threshold never needs refitting the model. :func:`make_threshold` builds
one from a short spec such as ``"pot"``, ``3.5`` or ``("percentile", {"q": 95})``.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from .validation import as_1d_float, check_int, check_number

__all__ = [
    "Threshold", "PercentileThreshold", "MeanStdThreshold", "MaxThreshold",
    "POTThreshold", "FixedThreshold", "THRESHOLDS", "make_threshold", "NotFittedError",
]


def _as_scores(x: Any, name: str) -> np.ndarray:
    """Scores as a finite float vector of shape ``(n,)`` (a ``(n, 1)`` column is accepted)."""
    shape = np.shape(x)
    if (len(shape) == 2 and shape[1] > 1) or len(shape) > 2:
        raise ValueError(
            f"{name} has shape {shape}; a threshold needs one score per sample, shape (n,). "
            f"Score the data with a model first, or combine per-sensor scores, e.g. scores.max(axis=1)."
        )
    return as_1d_float(x, name=name)


_MARGIN_HINT = "The threshold is margin times the fitted statistic."


class Threshold(BaseEstimator):
    """Base class: fit on normal scores, then flag ``scores > threshold_``.

    A scikit-learn estimator: ``get_params`` / ``set_params`` / ``clone`` come from
    :class:`sklearn.base.BaseEstimator` and read the subclass's ``__init__``.

    The inequality is **strict**: a score equal to the threshold is normal. So a
    :class:`MaxThreshold` with ``margin=1`` raises no alarm on its own fitting data.

    Attributes (after :meth:`fit`)
    ------------------------------
    threshold_ : float
        The fitted threshold.
    n_scores_ : int
        Number of normal scores it was fitted on.
    """

    def fit(self, normal_scores: Any) -> "Threshold":
        """Fit on scores of normal data, shape ``(n,)``; returns ``self``."""
        self._check_params()
        s = _as_scores(normal_scores, "normal_scores")
        self.threshold_ = float(self._compute(s))
        self.n_scores_ = int(s.size)
        return self

    def apply(self, scores: Any) -> np.ndarray:
        """Return a bool array of shape ``(n,)``: True where ``scores > threshold_`` (an alarm)."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                f"'fit(normal_scores)' with scores of normal data before 'apply'."
            )
        return _as_scores(scores, "scores") > self.threshold_

    def clone(self) -> "Threshold":
        """A fresh, unfitted copy with the same parameters (``sklearn.base.clone``)."""
        return clone(self)

    def _check_params(self) -> None:  # overridden where parameters have ranges
        pass

    def _compute(self, s: np.ndarray) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in inspect.signature(type(self)).parameters)
        fitted = f" [threshold_={self.threshold_:.4g}]" if hasattr(self, "threshold_") else ""
        return f"{type(self).__name__}({args}){fitted}"


class PercentileThreshold(Threshold):
    """``margin`` times the ``q``-th percentile of the normal scores, ``q`` in (0, 100], ``margin > 0``.

    With ``margin=1`` (default) about ``100 - q`` percent of normal samples raise an
    alarm. The SKAB authors' rule for their autoencoder baselines is ``q=99,
    margin=1.5`` (1.5 x the 99th percentile of the training residuals); a margin
    assumes non-negative scores.
    """


    def __init__(self, q: float = 99.0, margin: float = 1.0) -> None:
        self.q = q
        self.margin = margin

    def _check_params(self) -> None:
        check_number("q", self.q, 0, 100, low_open=True, hint="q is the percentile of the normal scores, e.g. 99.")
        check_number("margin", self.margin, 0, low_open=True, hint=_MARGIN_HINT)

    def _compute(self, s: np.ndarray) -> float:
        return float(np.percentile(s, self.q)) * self.margin


class MeanStdThreshold(Threshold):
    """``mean + k * std`` of the normal scores (``k >= 0``; population std, ``ddof=0``)."""


    def __init__(self, k: float = 3.0) -> None:
        self.k = k

    def _check_params(self) -> None:
        check_number("k", self.k, 0, hint="k is the number of standard deviations above the mean.")

    def _compute(self, s: np.ndarray) -> float:
        return s.mean() + self.k * s.std()


class MaxThreshold(Threshold):
    """``max(normal_scores) * margin`` (``margin > 0``); assumes non-negative scores."""


    def __init__(self, margin: float = 1.0) -> None:
        self.margin = margin

    def _check_params(self) -> None:
        check_number("margin", self.margin, 0, low_open=True, hint=_MARGIN_HINT)

    def _compute(self, s: np.ndarray) -> float:
        return s.max() * self.margin


class POTThreshold(Threshold):
    """Peaks-over-threshold (Siffer et al., KDD 2017): a threshold exceeded with probability ``risk``.

    1. initial threshold ``t`` = quantile ``init_level`` of the normal scores;
    2. fit a Generalized Pareto Distribution to the excesses ``s - t`` of the
       ``N_t`` peaks (``scipy.stats.genpareto.fit(excesses, floc=0)``);
    3. ``z = t + sigma/xi * ((risk * n / N_t) ** -xi - 1)``, or ``t - sigma * log(risk * n / N_t)``
       in the exponential limit ``xi -> 0``.

    Unlike a percentile it extrapolates beyond the largest normal score, so a
    ``risk`` of 1e-4 works with only 10 000 normal scores.

    Attributes (after :meth:`fit`): ``threshold_``, ``n_scores_``, ``init_threshold_``,
    ``n_peaks_``, ``gpd_shape_`` (xi) and ``gpd_scale_`` (sigma).
    """


    def __init__(self, risk: float = 1e-3, init_level: float = 0.98, min_peaks: int = 10) -> None:
        self.risk = risk
        self.init_level = init_level
        self.min_peaks = min_peaks

    def _check_params(self) -> None:
        check_number("risk", self.risk, 0, 1, low_open=True, high_open=True,
                     hint="risk is the probability that a normal score exceeds the threshold, e.g. 1e-3.")
        check_number("init_level", self.init_level, 0, 1, low_open=True, high_open=True,
                     hint="init_level is the quantile used as the initial threshold t, e.g. 0.98.")
        check_int("min_peaks", self.min_peaks, 2, hint="It is the fewest peaks above t needed to fit the tail.")
        if self.risk >= 1 - self.init_level:
            raise ValueError(
                f"risk={self.risk} must be smaller than the tail fraction 1 - init_level = "
                f"{1 - self.init_level:.3g}; lower init_level or the risk (POT extrapolates beyond t)."
            )

    def _compute(self, s: np.ndarray) -> float:
        t = float(np.quantile(s, self.init_level))
        excesses = s[s > t] - t
        n_peaks = excesses.size
        if n_peaks < self.min_peaks:
            raise ValueError(
                f"POT found only {n_peaks} peaks above the initial threshold (quantile {self.init_level} "
                f"of {s.size} normal scores) but needs at least {self.min_peaks} to fit the tail. "
                f"Use a lower init_level (e.g. 0.95) or more normal data."
            )
        xi, _, sigma = stats.genpareto.fit(excesses, floc=0)
        r = self.risk * s.size / n_peaks
        if abs(xi) < 1e-8:
            z = t - sigma * np.log(r)
        else:
            z = t + sigma / xi * (r ** (-xi) - 1.0)
        self.init_threshold_, self.n_peaks_ = t, int(n_peaks)
        self.gpd_shape_, self.gpd_scale_ = float(xi), float(sigma)
        return z


class FixedThreshold(Threshold):
    """A hand-chosen ``value``; :meth:`fit` only validates the scores (which may be omitted)."""


    def __init__(self, value: float) -> None:
        self.value = value

    def _check_params(self) -> None:
        check_number("value", self.value, hint="value is the fixed threshold on the scores.")

    def fit(self, normal_scores: Any = None) -> "FixedThreshold":
        """Set ``threshold_ = value``; ``normal_scores`` (optional) are only validated."""
        self._check_params()
        n = 0 if normal_scores is None else _as_scores(normal_scores, "normal_scores").size
        self.threshold_, self.n_scores_ = float(self.value), int(n)
        return self


THRESHOLDS: dict[str, type[Threshold]] = {
    "percentile": PercentileThreshold,
    "meanstd": MeanStdThreshold,
    "max": MaxThreshold,
    "pot": POTThreshold,
    "fixed": FixedThreshold,
}


def make_threshold(spec: Any) -> Threshold:
    """Build an **unfitted** threshold from a short spec.

    Parameters
    ----------
    spec : Threshold, float, str, tuple or dict
        - a :class:`Threshold` instance: a fresh unfitted clone with the same parameters;
        - a number: ``FixedThreshold(spec)``;
        - a name from :data:`THRESHOLDS` with default parameters, e.g. ``"pot"``;
        - ``(name, params)``, e.g. ``("percentile", {"q": 95})``;
        - ``{"name": name, **params}``, e.g. ``{"name": "meanstd", "k": 4}``.
    """
    if isinstance(spec, Threshold):
        return spec.clone()
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return FixedThreshold(float(spec))
    if isinstance(spec, str):
        name, params = spec, {}
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], dict):
        name, params = spec
    elif isinstance(spec, dict) and "name" in spec:
        name, params = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    else:
        raise TypeError(
            f"Cannot build a threshold from {spec!r}. Pass a Threshold, a number, a name "
            f"({', '.join(THRESHOLDS)}), a tuple like ('percentile', {{'q': 95}}) "
            f"or a dict like {{'name': 'percentile', 'q': 95}}."
        )
    key = str(name).lower().replace("_", "").replace("-", "")
    if key not in THRESHOLDS:
        raise ValueError(f"Unknown threshold {name!r}; choose one of {list(THRESHOLDS)}.")
    cls = THRESHOLDS[key]
    try:
        return cls(**params)
    except TypeError as err:
        raise ValueError(
            f"Bad parameters {params} for {cls.__name__}: {err}. "
            f"It accepts {list(inspect.signature(cls).parameters)}."
        ) from None
