"""Thresholds that turn anomaly scores into alarms.

A threshold is fitted **only on scores of normal data** (training or validation
period) and then applied to new scores. The API follows scikit-learn::

    thr = PercentileThreshold(q=99).fit(normal_scores)   # sets thr.threshold_
    alarms = thr.apply(test_scores)                      # bool array, scores > threshold_

Thresholds are independent of the model that produced the scores, so trying
another threshold never needs refitting the model. :func:`make_threshold` builds
one from a short spec such as ``"pot"``, ``3.5`` or ``("percentile", {"q": 95})``.

Static and adaptive thresholds. The static rules (percentile, mean + k std, max,
POT, fixed) keep the value :meth:`~Threshold.fit` chose. :class:`SPOTThreshold`
and :class:`DSPOTThreshold` (Siffer et al., KDD 2017) start from a POT threshold
and keep updating it on the new scores, sample by sample: SPOT refits the tail
on each new peak, DSPOT does the same on the scores minus their recent moving
average, so a slow drift of the normal level does not flood the operator with
alarms. Every threshold answers the same three questions about a score series:
``predict(scores)`` (= ``apply``) the alarms, ``thresholds(scores)`` the threshold
in force at each sample, and ``predict(scores) == (scores > thresholds(scores))``.

NaN is "no score" (the first ``window - 1`` rows of a window detector, see
:class:`sadlib.detectors.Detector`): :meth:`~Threshold.fit` fits on the other scores
(``n_scores_`` counts those), ``predict`` gives no alarm on a NaN, and the adaptive
thresholds neither alarm on it nor learn from it. Infinite scores are refused.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections import deque
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import optimize
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from .validation import InvalidParameterError, as_scores, check_int, check_number

__all__ = [
    "Threshold", "PercentileThreshold", "MeanStdThreshold", "MaxThreshold",
    "POTThreshold", "SPOTThreshold", "DSPOTThreshold", "SPOTStream", "FixedThreshold",
    "THRESHOLDS", "make_threshold", "NotFittedError",
]


def _known(s: np.ndarray, name: str) -> np.ndarray:
    """The scores that are not NaN ("no score"); an error if none is left."""
    known = s[~np.isnan(s)]
    if known.size == 0:
        raise ValueError(f"{name} are all NaN (no score); fit on scores of normal data, e.g. det.score(X_val) "
                         f"of more rows than the detector's window.")
    return known


def _as_scores(x: Any, name: str) -> np.ndarray:
    """Scores as a float vector of shape ``(n,)``, NaN ("no score") allowed, inf refused (a ``(n, 1)`` column is
    accepted)."""
    shape = np.shape(x)
    if (len(shape) == 2 and shape[1] > 1) or len(shape) > 2:
        raise ValueError(
            f"{name} has shape {shape}; a threshold needs one score per sample, shape (n,). "
            f"Score the data with a model first, or combine per-sensor scores, e.g. scores.max(axis=1)."
        )
    return as_scores(x, name=name)


_MARGIN_HINT = "The threshold is margin times the fitted statistic."


def _times_margin(level: float, margin: float, what: str, cls: str) -> float:
    """``level * margin``, refused when the level is negative and the margin is not 1.

    A margin widens a level above 0 (1.5 x the 99th percentile of positive errors),
    but moves a negative level the wrong way: -10 x 1.5 = -15, below nearly every
    normal score. Scores of another sign need another rule, not a silent inversion.
    """
    if level < 0 and margin != 1:
        raise InvalidParameterError(
            f"{cls}: margin={margin} multiplies the {what} of the normal scores, {level:.6g}, which is negative: "
            f"the threshold would be {level * margin:.6g}, {'below' if margin > 1 else 'above'} the level it "
            f"should {'widen' if margin > 1 else 'tighten'} (a margin assumes scores >= 0, such as errors or "
            f"distances). Use margin=1, shift the scores to be non-negative first (e.g. subtract the minimum of "
            f"the normal scores from all scores), or use MeanStdThreshold(k) for scores of any sign."
        )
    return level * margin


class Threshold(BaseEstimator):
    """Base class: fit on normal scores, then flag ``scores > threshold_``.

    :meth:`predict` (or its older name :meth:`apply`) returns the alarms and
    :meth:`thresholds` the threshold in force at each sample: ``threshold_`` for the
    static rules, a value updated sample by sample for :class:`SPOTThreshold` and
    :class:`DSPOTThreshold`.

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
        """Fit on scores of normal data, shape ``(n,)``, NaN (no score) left out; returns ``self``."""
        self._check_params()
        s = _known(_as_scores(normal_scores, "normal_scores"), "normal_scores")
        self.threshold_ = float(self._compute(s))
        self.n_scores_ = int(s.size)
        return self

    def predict(self, scores: Any) -> np.ndarray:
        """Return a bool array of shape ``(n,)``: True where ``scores > threshold_`` (an alarm), False at NaN."""
        self._check_fitted("predict")
        s = _as_scores(scores, "scores")
        return np.greater(s, self.threshold_, out=np.zeros(s.shape, dtype=bool), where=~np.isnan(s))

    def apply(self, scores: Any) -> np.ndarray:
        """The alarms, same as :meth:`predict`: a bool array of shape ``(n,)``."""
        return self.predict(scores)

    def thresholds(self, scores: Any) -> np.ndarray:
        """Float array of shape ``(n,)``: the threshold in force at each score (``threshold_`` throughout here).

        ``predict(scores) == (scores > thresholds(scores))`` for every threshold,
        static or adaptive (:class:`SPOTThreshold`, :class:`DSPOTThreshold`).
        """
        self._check_fitted("thresholds")
        return np.full(_as_scores(scores, "scores").size, self.threshold_)

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                f"'fit(normal_scores)' with scores of normal data before '{method}'."
            )

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
    margin=1.5`` (1.5 x the 99th percentile of the training residuals). A margin
    assumes non-negative scores: with ``margin != 1`` :meth:`fit` refuses a negative
    percentile (the margin would move the threshold the wrong way). With
    ``margin=1`` the rule works for scores of any sign and is equivariant:
    fitting on ``a * s + b`` (``a > 0``) gives ``a * threshold_ + b``; with a margin it
    is only scale-equivariant (``a * s`` gives ``a * threshold_``).
    """


    def __init__(self, q: float = 99.0, margin: float = 1.0) -> None:
        self.q = q
        self.margin = margin

    def _check_params(self) -> None:
        check_number("q", self.q, 0, 100, low_open=True, hint="q is the percentile of the normal scores, e.g. 99.")
        check_number("margin", self.margin, 0, low_open=True, hint=_MARGIN_HINT)

    def _compute(self, s: np.ndarray) -> float:
        return _times_margin(float(np.percentile(s, self.q)), self.margin, f"{self.q}th percentile",
                             type(self).__name__)


class MeanStdThreshold(Threshold):
    """``mean + k * std`` of the normal scores (``k >= 0``; population std, ``ddof=0``)."""


    def __init__(self, k: float = 3.0) -> None:
        self.k = k

    def _check_params(self) -> None:
        check_number("k", self.k, 0, hint="k is the number of standard deviations above the mean.")

    def _compute(self, s: np.ndarray) -> float:
        return s.mean() + self.k * s.std()


class MaxThreshold(Threshold):
    """``max(normal_scores) * margin`` (``margin > 0``).

    A margin assumes non-negative scores: with ``margin != 1`` :meth:`fit` refuses a
    negative maximum. With ``margin=1`` no normal score alarms (the comparison is strict).
    """


    def __init__(self, margin: float = 1.0) -> None:
        self.margin = margin

    def _check_params(self) -> None:
        check_number("margin", self.margin, 0, low_open=True, hint=_MARGIN_HINT)

    def _compute(self, s: np.ndarray) -> float:
        return _times_margin(float(s.max()), self.margin, "maximum", type(self).__name__)


# --------------------------------------------------------------------------- #
# the tail model shared by POT, SPOT and DSPOT (Siffer et al., KDD 2017)
# --------------------------------------------------------------------------- #
def _check_tail_params(risk: Any, init_level: Any, min_peaks: Any) -> None:
    check_number("risk", risk, 0, 1, low_open=True, high_open=True,
                 hint="risk is the probability that a normal score exceeds the threshold, e.g. 1e-3.")
    check_number("init_level", init_level, 0, 1, low_open=True, high_open=True,
                 hint="init_level is the quantile used as the initial threshold t, e.g. 0.98.")
    check_int("min_peaks", min_peaks, 2, hint="It is the fewest peaks above t needed to fit the tail.")
    if risk >= 1 - init_level:
        raise InvalidParameterError(
            f"risk={risk} must be smaller than the tail fraction 1 - init_level = "
            f"{1 - init_level:.3g}; lower init_level or the risk (POT extrapolates beyond t)."
        )


class _Tail(NamedTuple):
    t: float  # the initial threshold
    excesses: np.ndarray  # the peaks minus t, all > 0
    xi: float  # GPD shape
    sigma: float  # GPD scale
    z_tail: float  # the GPD's level exceeded with probability risk
    z: float  # the threshold: z_tail, or the largest value if that is higher and risk < 1/n


def _gpd_loglik(y: np.ndarray, xi: float, sigma: float) -> float:
    """Log-likelihood of the GPD (shape ``xi``, scale ``sigma``, location 0) at the excesses ``y``."""
    if not (np.isfinite(xi) and np.isfinite(sigma) and sigma > 0):
        return -math.inf
    if abs(xi) < 1e-12:
        return -y.size * math.log(sigma) - float(y.sum()) / sigma
    if xi == -1.0:  # uniform on [0, sigma]: the log terms drop out (and log 0 at y = sigma does not count)
        return -y.size * math.log(sigma) if y.max() <= sigma else -math.inf
    z = 1.0 + (xi / sigma) * y
    if z.min() <= 0:
        return -math.inf
    return -y.size * math.log(sigma) - (1.0 + 1.0 / xi) * float(np.log(z).sum())


def _grimshaw_w(x: float, y: np.ndarray) -> float:
    """Grimshaw's function ``u(x) v(x) - 1`` whose roots are the GPD likelihood's stationary points (x = xi/sigma)."""
    z = 1.0 + x * y
    return float(np.mean(1.0 / z) * (1.0 + np.mean(np.log(z))) - 1.0)


# Where Grimshaw's function is looked at for sign changes: fractions of the interval (-1/max, 0) on the negative
# side (dense at both ends); on the positive side a geometric grid from 1e-4 to the upper bound, 3 points a decade.
_NEG_GRID = np.r_[np.geomspace(1e-3, 0.5, 10), 1.0 - np.geomspace(0.3, 1e-7, 8)]


def _fit_gpd(excesses: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood GPD shape ``xi`` and scale ``sigma`` of positive excesses (location fixed at 0).

    Grimshaw's reduction (Technometrics 35(2), 1993), as used by Siffer et al.: the
    likelihood's stationary points are the roots of a function of one variable
    ``x = xi / sigma``, looked for on a grid of both allowed intervals and refined
    with Brent's method. The candidates (those roots, the exponential ``xi = 0``,
    the method-of-moments fit and the boundary ``xi = -1``, ``sigma = max``) are
    compared by their likelihood. The boundary covers short tails: for ``xi < -1``
    the likelihood grows without bound as the fitted end point nears the largest
    excess, so there is no maximum inside and the uniform tail ending there is taken
    (an optimiser such as ``scipy.stats.genpareto.fit`` stops somewhere on that ridge).
    The excesses are divided by their mean first, so the fit does not depend on the
    scores' unit: multiplying the excesses by ``c > 0`` multiplies ``sigma`` by ``c``
    and keeps ``xi``.
    Costs a few dozen passes over the excesses, never an open-ended optimisation.
    """
    scale = float(np.mean(excesses))
    y = np.asarray(excesses, dtype=float) / scale
    ymin, ymax = float(y.min()), float(y.max())
    # the exponential limit (its MLE scale is the mean, 1 here), and the boundary xi = -1, sigma = max: a uniform
    # tail ending at the largest excess, the estimate where the likelihood has no maximum inside (xi < -1)
    candidates = [(0.0, 1.0), (-1.0, ymax)]
    var = float(np.var(y))
    if var > 0:  # the method of moments
        candidates.append((0.5 * (1.0 - 1.0 / var), 0.5 * (1.0 + 1.0 / var)))
        grids = [-_NEG_GRID / ymax]
        if ymin > 0:  # the upper bound of Grimshaw (1993) for x, with the mean excess 1
            top = 2.0 * (1.0 - ymin) / ymin ** 2
            if top > 1e-4:
                grids.append(np.geomspace(1e-4, top, 3 * int(np.ceil(np.log10(top / 1e-4))) + 1))
        for xs in grids:
            w = np.mean(1.0 / (1.0 + xs[:, None] * y), axis=1) * (1.0 + np.mean(np.log1p(xs[:, None] * y), axis=1)) - 1
            for i in np.flatnonzero(np.sign(w[:-1]) * np.sign(w[1:]) < 0):
                x = optimize.brentq(_grimshaw_w, xs[i], xs[i + 1], args=(y,), xtol=1e-12 * abs(xs[i]) + 1e-300,
                                    rtol=1e-12)
                xi = float(np.mean(np.log1p(x * y)))
                if xi != 0.0:
                    candidates.append((xi, xi / x))
    best = max(candidates, key=lambda c: _gpd_loglik(y, c[0], c[1]))
    return float(best[0]), float(best[1]) * scale


def _pot_quantile(t: float, xi: float, sigma: float, risk: float, n: int, n_peaks: int) -> float:
    """The level ``z_q`` exceeded with probability ``risk``, from ``n`` values of which ``n_peaks`` are above t."""
    r = risk * n / n_peaks
    if abs(xi) < 1e-8:  # the exponential limit of the GPD
        return float(t - sigma * np.log(r))
    return float(t + sigma / xi * (r ** (-xi) - 1.0))


def _fit_tail(s: np.ndarray, risk: float, init_level: float, min_peaks: int, method: str, what: str) -> _Tail:
    """Initial threshold ``t`` = quantile ``init_level`` of ``s``, the GPD of the excesses over it and ``z_q``.

    Refuses a tail that cannot be fitted (too few peaks, or peaks taking fewer than
    three distinct values: ties). See :func:`_floor` for ``risk < 1 / n``.
    """
    t = float(np.quantile(s, init_level))
    excesses = s[s > t] - t
    if excesses.size < min_peaks:
        raise ValueError(
            f"{method} found only {excesses.size} peaks above the initial threshold (quantile {init_level} "
            f"of {s.size} {what}) but needs at least {min_peaks} to fit the tail. "
            f"Use a lower init_level (e.g. 0.95) or more normal data."
        )
    distinct = np.unique(excesses).size
    if distinct < 3:
        raise ValueError(
            f"{method}: the {excesses.size} peaks above the initial threshold t={t:.6g} (quantile {init_level} of "
            f"{s.size} {what}) take only {distinct} distinct value(s), so no tail can be fitted to them (heavy "
            f"ties, e.g. quantised or clipped scores). Use a lower init_level so that more distinct values lie "
            f"above t, or a threshold that needs no tail model: MaxThreshold or PercentileThreshold."
        )
    xi, sigma = _fit_gpd(excesses)
    z = _pot_quantile(t, xi, sigma, risk, s.size, excesses.size)
    return _Tail(t, excesses, xi, sigma, z, _floor(z, float(s.max()), risk, s.size))


def _floor(z: float, top: float, risk: float, n: int) -> float:
    """``z``, or ``top`` (the largest of the ``n`` values learned) if that is higher and ``risk < 1 / n``.

    A risk below ``1 / n`` says that fewer than one of the ``n`` normal values should
    exceed the threshold; the empirical quantile that far out is the maximum. A tail
    quantile below a value actually seen (ties, few peaks, or a chance extreme: the
    largest of ``n`` values exceeds the true quantile with probability about
    ``n * risk``) would make that normal value an alarm, so the threshold is kept at it.
    """
    return top if risk * n < 1 and z < top else z


class _TailThreshold(Threshold):
    """Shared by :class:`POTThreshold`, :class:`SPOTThreshold` and :class:`DSPOTThreshold`: the tail parameters and fit.

    Subclasses call :meth:`_calibrate` on the values whose tail they model (the
    normal scores, or DSPOT's residuals); it sets the fitted attributes
    ``init_threshold_``, ``n_peaks_``, ``gpd_shape_``, ``gpd_scale_``, ``peaks_``,
    ``n_calibration_``, ``tail_quantile_`` and ``calibration_max_`` and returns ``z_q``.
    """

    _method = "POT"

    def __init__(self, risk: float = 1e-3, init_level: float = 0.98, min_peaks: int = 10) -> None:
        self.risk = risk
        self.init_level = init_level
        self.min_peaks = min_peaks

    def _check_params(self) -> None:
        _check_tail_params(self.risk, self.init_level, self.min_peaks)

    def _calibrate(self, values: np.ndarray, what: str) -> float:
        tail = _fit_tail(values, self.risk, self.init_level, self.min_peaks, self._method, what)
        self.n_calibration_ = int(values.size)
        self.init_threshold_, self.peaks_, self.n_peaks_ = tail.t, tail.excesses, int(tail.excesses.size)
        self.gpd_shape_, self.gpd_scale_ = tail.xi, tail.sigma
        self.tail_quantile_, self.calibration_max_ = tail.z_tail, float(values.max())
        return tail.z


class POTThreshold(_TailThreshold):
    """Peaks-over-threshold (Siffer et al., KDD 2017): a threshold exceeded with probability ``risk``.

    1. initial threshold ``t`` = quantile ``init_level`` of the normal scores;
    2. fit a Generalized Pareto Distribution to the excesses ``s - t`` of the
       ``N_t`` peaks by maximum likelihood (Grimshaw's method on the excesses
       divided by their mean, so the threshold scales with the scores);
    3. ``z = t + sigma/xi * ((risk * n / N_t) ** -xi - 1)``, or ``t - sigma * log(risk * n / N_t)``
       in the exponential limit ``xi -> 0``.

    Unlike a percentile it extrapolates beyond the largest normal score, so a
    ``risk`` of 1e-4 works with only 10 000 normal scores. The threshold stays
    where :meth:`fit` put it; :class:`SPOTThreshold` and :class:`DSPOTThreshold`
    go on updating it on the new scores.

    Nothing passes silently: :meth:`fit` refuses peaks that take fewer than three
    distinct values (ties leave no tail to fit), and where ``risk < 1 / n`` the
    threshold is never below the largest normal score (``risk`` says fewer than one
    of the ``n`` normal scores should alarm): a tail quantile below it is raised to
    it, and ``tail_quantile_`` keeps the quantile itself.

    Attributes (after :meth:`fit`): ``threshold_``, ``n_scores_``, ``init_threshold_``,
    ``n_peaks_``, ``gpd_shape_`` (xi), ``gpd_scale_`` (sigma), ``tail_quantile_`` (the
    GPD's ``z``, equal to ``threshold_`` unless raised to the maximum) and
    ``calibration_max_`` (the largest normal score).
    """

    def _compute(self, s: np.ndarray) -> float:
        return self._calibrate(s, "normal scores")


# --------------------------------------------------------------------------- #
# adaptive thresholds: SPOT and DSPOT
# --------------------------------------------------------------------------- #
class SPOTStream:
    """The running state of a fitted :class:`SPOTThreshold` or :class:`DSPOTThreshold`.

    Get one from ``thr.stream()`` and feed it one score at a time as the scores
    arrive: ``alarm = st.update(score)``. Each call first compares the score with
    the threshold in force (:attr:`threshold`), then updates the state as
    Siffer et al. (KDD 2017, Algorithms 2 and 4) do. With ``y = x`` (SPOT) or
    ``y = x - M`` (DSPOT, ``M`` the mean of the last ``depth`` normal scores),
    ``t`` the initial threshold and ``z_q`` the tail quantile:

    * ``y > z_q`` (the score is above :attr:`threshold`): an alarm. The state is
      unchanged, so an anomaly neither widens the tail nor moves DSPOT's mean;
    * ``t < y <= z_q``: a new peak. It joins the peak set (which keeps the last
      ``max_peaks`` peaks, the oldest leaving first), the GPD is refitted on that set
      and ``z_q`` recomputed with the counts of all values and all peaks seen (and,
      while ``risk < 1 / k``, kept at or above the largest value learned, as in
      :class:`POTThreshold`);
    * ``y <= t``: normal. Only the count ``k`` of learned values grows; it enters
      ``z_q`` at the next refit (``z_q`` is recomputed only when a peak is added).

    DSPOT then moves every non-alarm score into its window of the last ``depth``
    scores (its mean is an exact sum of ``depth`` values). ``t`` itself never moves.

    Attributes
    ----------
    n_seen : int
        Scores fed so far.
    n_alarms : int
        Of which alarms.
    gpd_shape, gpd_scale : float
        The current GPD fit of the excesses over ``t`` (xi, sigma).
    """

    def __init__(self, *, risk: float, init_threshold: float, excesses: np.ndarray, n_normal: int,
                 gpd: tuple[float, float], threshold: float, window: np.ndarray | None = None,
                 max_peaks: int | None = None, top: float = -math.inf) -> None:
        self._risk = float(risk)
        self._t = float(init_threshold)
        excesses = np.asarray(excesses, dtype=float)
        self._n_peaks = int(excesses.size)  # all peaks seen: the paper's N_t
        cap = excesses.size if max_peaks is None else int(max_peaks)
        self._grow = max_peaks is None  # an unbounded peak set doubles its buffer when full
        kept = excesses[-cap:] if cap < excesses.size else excesses
        self._buf = np.empty(max(cap, kept.size, 1) * (2 if self._grow else 1))
        self._buf[:kept.size] = kept
        self._filled, self._cursor, self._cap = kept.size, kept.size % max(cap, 1), cap
        self._k = int(n_normal)
        self.gpd_shape, self.gpd_scale = gpd
        self._z = float(threshold)
        self._top = float(top)  # the largest value learned (on the residual scale for DSPOT)
        if window is None:
            self._window, self._mean = None, 0.0
        else:
            self._window = deque((float(w) for w in window), maxlen=len(window))
            self._mean = math.fsum(self._window) / len(self._window)
        self.n_seen = 0
        self.n_alarms = 0

    @property
    def threshold(self) -> float:
        """The threshold on the score in force for the next score: ``z_q`` (SPOT) or ``M + z_q`` (DSPOT)."""
        return self._mean + self._z

    @property
    def n_peaks(self) -> int:
        """Peaks seen: those of the calibration plus the peaks seen since (the fit uses the last ``max_peaks``)."""
        return self._n_peaks

    @property
    def peaks(self) -> np.ndarray:
        """A copy of the excesses the tail is fitted on (at most ``max_peaks``), in no particular order."""
        return self._buf[:self._filled].copy()

    def update(self, score: Any) -> bool:
        """Decide on one score with the threshold in force, then update the state; ``True`` is an alarm.

        NaN (no score) is counted in ``n_seen`` but is no alarm and changes nothing else."""
        if isinstance(score, np.ndarray) and score.ndim == 0 and score.dtype.kind in "iuf":
            score = score[()]  # a 0-d numeric array, as batch accepts it
        if isinstance(score, (bool, np.bool_)) or not isinstance(score, (int, float, np.integer, np.floating)):
            # the types the batch form (predict, thresholds) refuses too: booleans, strings, None, Decimal, ...
            raise InvalidParameterError(
                f"score must be a finite number (int or float), got {score!r} of type {type(score).__name__}. "
                f"Pass one score per call, converted first (e.g. float(score)), or a series to predict(scores).")
        if isinstance(score, (float, np.floating)) and math.isnan(score):
            self.n_seen += 1
            return False  # no score: no alarm, nothing learned
        x = check_number("score", score, hint="Pass a finite score, or NaN for a row without one.")
        return self._step(x)

    def _add_peak(self, excess: float) -> None:
        if self._grow:
            if self._filled == self._buf.size:
                self._buf = np.r_[self._buf, np.empty(self._buf.size)]
            self._buf[self._filled] = excess
            self._filled += 1
        else:
            self._buf[self._cursor] = excess
            self._cursor = (self._cursor + 1) % self._cap
            self._filled = min(self._filled + 1, self._cap)
        self._n_peaks += 1

    def _step(self, x: float) -> bool:
        self.n_seen += 1
        if x > self._mean + self._z:  # exactly `x > self.threshold`
            self.n_alarms += 1
            return True
        y = x - self._mean
        excess = y - self._t
        self._k += 1
        if excess > 0:
            self._top = max(self._top, y)
            self._add_peak(excess)
            self.gpd_shape, self.gpd_scale = _fit_gpd(self._buf[:self._filled])
            z = _pot_quantile(self._t, self.gpd_shape, self.gpd_scale, self._risk, self._k, self._n_peaks)
            self._z = _floor(z, self._top, self._risk, self._k)
        if self._window is not None:
            self._window.append(x)
            self._mean = math.fsum(self._window) / len(self._window)
        return False

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(threshold={self.threshold:.4g}, n_seen={self.n_seen}, "
                f"n_alarms={self.n_alarms}, n_peaks={self.n_peaks})")


_STREAM_DOC = """
    Batch and stream. :meth:`stream` returns a :class:`SPOTStream` that starts
    from the fitted calibration and takes one score at a time. :meth:`predict`
    (= :meth:`apply`) and :meth:`thresholds` are exactly that stream fed the
    given scores in order, and ``predict(s) == (s > thresholds(s))``. Each call
    starts again from the calibration of :meth:`fit`: a call never changes the
    fitted object, and a second series is not a continuation of the first (keep a
    :class:`SPOTStream` for that). Both forms accept and refuse the same scores.

    Cost: linear in the number of scores. Each new peak refits the GPD by maximum
    likelihood (Grimshaw's method, as in the paper) on a bounded peak set, the last
    ``max_peaks`` peaks (libspot, the authors' library, does the same), so one refit
    costs at most a few dozen passes over ``max_peaks`` values however long the
    stream runs; alarms and scores below ``t`` cost only a comparison. The counts in
    ``z_q`` (values and peaks) cover the whole stream. ``max_peaks=None`` keeps every
    peak, as the paper's pseudo-code does: the same thresholds while fewer than
    ``max_peaks`` peaks have been seen, but a refit then grows with the stream.
    Measured times and the comparison with libspot: ``benchmarks/README.md``.
    A score series whose level drifts above ``t`` turns almost every sample into a
    peak: SPOT stays linear there but is wrong (a drift is not a tail); use DSPOT.

    In a detector. A detector built with ``threshold="spot"`` uses only the fitted
    :attr:`threshold_` as a fixed value. To adapt, threshold the detector's scores
    with this object: ``thr.fit(det.score(X_val)).predict(det.score(X_test))``.
"""


class SPOTThreshold(_TailThreshold):
    __doc__ = """Streaming peaks-over-threshold, SPOT (Siffer et al., KDD 2017, Algorithm 2).

    A :class:`POTThreshold` that goes on learning from the new scores. :meth:`fit`
    is the paper's calibration on ``n`` normal scores (training or validation only):
    the initial threshold ``t`` (quantile ``init_level``), the GPD of the excesses over
    ``t`` and the level ``z_q`` exceeded with probability ``risk``. Each new score
    ``x`` is then an alarm if ``x > z_q`` (and is not learned from); a peak if
    ``t < x <= z_q``, after which the GPD is refitted on the peaks and ``z_q``
    updated; otherwise normal. So ``z_q`` rises when the tail of the normal scores
    gets heavier and falls back when peaks become rarer, but it rises slowly:
    scores above ``z_q`` are alarms and are never learned, so the fitted tail is
    cut at ``z_q - t`` and the rise comes mostly from the growing share of peaks
    (see the tests). ``t`` stays fixed, so a shift of the whole score level is not
    what SPOT follows (see :class:`DSPOTThreshold`).

    Parameters
    ----------
    risk : float, default 1e-3
        Probability that a normal score exceeds the threshold, the false-alarm rate
        aimed at; ``0 < risk < 1 - init_level``.
    init_level : float, default 0.98
        Quantile of the calibration scores used as the initial threshold ``t``, in (0, 1).
    min_peaks : int, default 10
        Fewest calibration scores above ``t`` needed to fit the tail, at least 2.
    max_peaks : int or None, default 500
        The most recent peaks the tail is refitted on, at least ``min_peaks``
        (``None``: all of them, a refit then grows with the stream).

    Attributes
    ----------
    threshold_ : float
        The initial ``z_q``: the threshold in force for the first new score.
    n_scores_ : int
        Normal scores the threshold was fitted on.
    n_calibration_ : int
        Values the tail was calibrated on (``n``, the paper's initial ``k``).
    init_threshold_ : float
        ``t``.
    n_peaks_ : int
        Calibration values above ``t``.
    gpd_shape_, gpd_scale_ : float
        GPD shape (xi) and scale (sigma) of their excesses.
    tail_quantile_, calibration_max_ : float
        The GPD's ``z_q`` and the largest calibration value; ``threshold_`` is the
        larger of the two where ``risk < 1 / n`` (see :class:`POTThreshold`).
    peaks_ : ndarray of shape (n_peaks_,)
        Those excesses, where the stream starts from (the last ``max_peaks`` of them).
""" + _STREAM_DOC

    _method = "SPOT"

    def __init__(self, risk: float = 1e-3, init_level: float = 0.98, min_peaks: int = 10,
                 max_peaks: int | None = 500) -> None:
        super().__init__(risk=risk, init_level=init_level, min_peaks=min_peaks)
        self.max_peaks = max_peaks

    def _check_params(self) -> None:
        super()._check_params()
        if self.max_peaks is not None:
            check_int("max_peaks", self.max_peaks, self.min_peaks,
                      hint="It is the number of recent peaks the tail is refitted on (at least min_peaks), "
                           "or None for all of them.")

    def _compute(self, s: np.ndarray) -> float:
        return self._calibrate(s, "normal scores")

    def _window(self) -> np.ndarray | None:
        return None

    def _start(self) -> float:
        return self.threshold_

    def stream(self) -> SPOTStream:
        """A fresh :class:`SPOTStream` that starts from the fitted calibration; feed it with ``update(score)``."""
        self._check_fitted("stream")
        return SPOTStream(risk=self.risk, init_threshold=self.init_threshold_, excesses=self.peaks_,
                          n_normal=self.n_calibration_, gpd=(self.gpd_shape_, self.gpd_scale_),
                          threshold=self._start(), window=self._window(), max_peaks=self.max_peaks,
                          top=self.calibration_max_)

    def _run(self, scores: Any, method: str) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted(method)
        s = _as_scores(scores, "scores")
        st = self.stream()
        alarms, thresholds = np.zeros(s.size, dtype=bool), np.empty(s.size)
        for i, x in enumerate(s.tolist()):
            thresholds[i] = st.threshold
            if x != x:  # NaN, no score: no alarm, nothing learned (as update does)
                st.n_seen += 1
                continue
            alarms[i] = st._step(x)
        return alarms, thresholds

    def predict(self, scores: Any) -> np.ndarray:
        """Bool array of shape ``(n,)``: the stream's decision on each score, fed in order from the calibration."""
        return self._run(scores, "predict")[0]

    def thresholds(self, scores: Any) -> np.ndarray:
        """Float array of shape ``(n,)``: the threshold in force when each score arrived (before it was learned)."""
        return self._run(scores, "thresholds")[1]


class DSPOTThreshold(SPOTThreshold):
    __doc__ = """Streaming peaks-over-threshold with drift, DSPOT (Siffer et al., KDD 2017, Algorithm 4).

    SPOT run on the residual ``x - M``, where ``M`` is the mean of the last
    ``depth`` scores that were not alarms: the threshold on the score is ``M + z_q``
    and follows a slow change of the normal level (a sensor ageing, a season)
    while ``z_q`` keeps the false-alarm rate near ``risk``. :meth:`fit` uses the
    first ``depth`` normal scores to start the mean and calibrates the tail on the
    residuals of the others (the paper's ``n``; so pass ``depth + n`` scores).
    After :meth:`fit` the window holds the last ``depth`` normal scores.

    Parameters
    ----------
    risk : float, default 1e-3
        Probability that a normal residual exceeds ``z_q``; ``0 < risk < 1 - init_level``.
    init_level : float, default 0.98
        Quantile of the calibration residuals used as the initial threshold ``t``, in (0, 1).
    depth : int, default 10
        Number of recent normal scores averaged into ``M``, at least 1. Short enough
        to follow the drift, long enough that ``M`` is not the noise itself.
    min_peaks : int, default 10
        Fewest calibration residuals above ``t`` needed to fit the tail, at least 2.
    max_peaks : int or None, default 500
        The most recent peaks the tail is refitted on, as in :class:`SPOTThreshold`.

    Attributes
    ----------
    threshold_ : float
        The threshold on the score in force for the first new score, ``M + z_q``.
    residual_threshold_ : float
        The initial ``z_q``, on the residual scale.
    window_ : ndarray of shape (depth,)
        The last ``depth`` calibration scores; ``M`` is their mean.
    n_scores_, n_calibration_, init_threshold_, n_peaks_, gpd_shape_, gpd_scale_, peaks_, tail_quantile_,
    calibration_max_
        As in :class:`SPOTThreshold`, on the residuals (``n_calibration_ = n_scores_ - depth``).
""" + _STREAM_DOC.replace('threshold="spot"', 'threshold="dspot"')

    _method = "DSPOT"

    def __init__(self, risk: float = 1e-3, init_level: float = 0.98, depth: int = 10, min_peaks: int = 10,
                 max_peaks: int | None = 500) -> None:
        super().__init__(risk=risk, init_level=init_level, min_peaks=min_peaks, max_peaks=max_peaks)
        self.depth = depth

    def _check_params(self) -> None:
        super()._check_params()
        check_int("depth", self.depth, 1, hint="depth is the number of recent normal scores whose mean is "
                                               "subtracted, e.g. 10.")

    def _compute(self, s: np.ndarray) -> float:
        d = self.depth
        if s.size <= d:
            raise ValueError(
                f"DSPOT needs more than depth={d} normal scores: the first {d} start the moving average and the "
                f"residuals of the others calibrate the tail; got {s.size}. Pass more normal scores or a "
                f"smaller depth."
            )
        residuals = s[d:] - sliding_window_view(s[:-1], d).mean(axis=1)
        self.window_ = s[-d:].copy()
        drift = math.fsum(self.window_.tolist()) / d
        self.residual_threshold_ = self._calibrate(residuals, f"residuals (scores minus the mean of the {d} before)")
        return drift + self.residual_threshold_

    def _window(self) -> np.ndarray | None:
        return self.window_

    def _start(self) -> float:
        return self.residual_threshold_


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
    "spot": SPOTThreshold,
    "dspot": DSPOTThreshold,
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

    The parameters of a name or a spec are checked here, as :meth:`Threshold.fit` would
    check them: ``make_threshold(("pot", {"risk": 5}))`` raises an
    :class:`~sadlib.validation.InvalidParameterError` naming ``risk``.
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
        thr = cls(**params)
    except TypeError as err:
        raise ValueError(
            f"Bad parameters {params} for {cls.__name__}: {err}. "
            f"It accepts {list(inspect.signature(cls).parameters)}."
        ) from None
    thr._check_params()  # a bad value is named now, not at the first fit
    return thr
