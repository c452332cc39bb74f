"""The composed policy: :class:`AlarmPolicy`, its stream :class:`AlarmStream`, and the named policies
(:data:`POLICIES`, :func:`make_policy`, :func:`policy_label`).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
from collections import deque
from typing import Any, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from ..thresholds import THRESHOLDS, Threshold, make_threshold
from ..validation import (
    InvalidParameterError,
    check_int,
)
from ._core import (
    _above,
    _announce,
    _as_timedelta,
    _dead_time,
    _hold,
    _is_duration,
    _k_of_n,
    _latch,
    _min_duration,
    _samples,
    _sampling_step,
    _score_value,
    _scores,
)


# --------------------------------------------------------------------------- #
# the composed policy
# --------------------------------------------------------------------------- #
class AlarmPolicy(BaseEstimator):
    """Turn a score series into operator alarms: threshold, persistence, hold, dead time, re-arm.

    The steps run in this order, each on the output of the one before:

    1. **level**: ``score > threshold_``; with ``hysteresis_off`` a latch that
       switches on above ``threshold_`` and off at or below ``off_threshold_``
       (:func:`hysteresis_alarms`). A missing score (NaN) is not above either level;
    2. **k of n**: on when at least ``k`` of the last ``n`` levels are on (:func:`k_of_n_alarms`);
    3. **minimum duration**: on when step 2 has been on for ``min_duration``
       consecutive samples (:func:`min_duration_alarms`);
    4. **hold**: stays on ``hold`` samples after step 3 falls, so alarms closer than
       that merge (:func:`hold_alarms`);
    5. **dead time**: no new onset for ``dead_time`` samples after an alarm ends
       (:func:`dead_time_alarms`);
    6. **re-arm**: :meth:`announce` gives the onsets, and a standing alarm again every
       ``rearm`` samples (:func:`announcements`); :meth:`predict` gives the alarm state.

    Every step is causal, so :meth:`stream` decides each sample when it arrives and
    makes exactly the decisions of :meth:`predict`.

    Parameters
    ----------
    threshold : threshold spec, default "percentile"
        Anything :func:`sadlib.thresholds.make_threshold` accepts (``"pot"``,
        ``("percentile", {"q": 99.5})``, a fixed number, a Threshold); fitted by :meth:`fit`
        on normal scores.
    hysteresis_off : threshold spec or None
        The switch-off level, fitted on the same normal scores (e.g.
        ``("percentile", {"q": 95})``) or a fixed number; must come out at or below
        ``threshold_``. ``None``: no hysteresis.
    k, n : int, 1 <= k <= n; ``n`` may be a duration
        k-of-n persistence; ``k = n = 1`` (default) is off.
    min_duration : int >= 1 or duration
    hold : int >= 0 or duration
    dead_time : int >= 0 or duration
    rearm : int >= 1, duration or None
    sampling_period : duration or seconds, optional
        Duration of one sample, to convert durations; defaults to the median spacing
        of the ``index`` given to :meth:`fit`.
    adapt : {None, "recentre", "rebaseline", "threshold"}, default None
        Step 1 follows the plant: ``"recentre"`` compares each score with a moving baseline of the last
        ``adapt_window`` non-alarm scores (:class:`~sadlib.alarms.RecentredThreshold`), at the fitted
        ``threshold_`` expressed as a robust z-score of the normal scores; ``"rebaseline"`` is the same
        with the baseline frozen (the fixed level while the calibration holds at most ``adapt_window``
        scores) until an operator acknowledges a new normal (:meth:`AlarmStream.acknowledge`,
        :func:`~sadlib.alarms.simulate_operator`); ``"threshold"`` uses the per-sample decisions of a
        streaming threshold (``threshold="dspot"`` or ``"spot"``: DSPOT's level follows the mean of recent
        normal scores). ``None``: the fixed level. Not with ``hysteresis_off``. All keep batch = stream.
    adapt_window : int >= 3 or duration, default 300
        The moving baseline's length for ``adapt="recentre"``.

    Attributes
    ----------
    threshold_ : float
    off_threshold_ : float, ``threshold_`` without hysteresis
    thresholder_ : the fitted :class:`~sadlib.thresholds.Threshold`
    off_thresholder_ : the fitted off-level Threshold, or None without hysteresis
    k_, n_, min_duration_, hold_, dead_time_ : int, the steps in samples
    rearm_ : int or None
    sampling_period_ : pandas.Timedelta or None
    n_scores_ : int, the normal scores the levels were fitted on (NaN dropped)
    level_layer_ : the fitted adaptive step 1 (a RecentredThreshold or the streaming Threshold), or None

    Examples
    --------
    ::

        policy = AlarmPolicy(("percentile", {"q": 99}), k=3, n=5, hold=10).fit(normal_val_scores)
        alarms = policy.predict(test_scores)            # batch
        live = policy.stream()                          # the same decisions, one score at a time
        assert [live.update(s) for s in test_scores] == alarms.tolist()
    """

    def __init__(self, threshold: Any = "percentile", *, hysteresis_off: Any = None, k: int = 1, n: Any = 1,
                 min_duration: Any = 1, hold: Any = 0, dead_time: Any = 0, rearm: Any = None,
                 sampling_period: Any = None, adapt: str | None = None, adapt_window: Any = 300):
        self.threshold = threshold
        self.hysteresis_off = hysteresis_off
        self.k = k
        self.n = n
        self.min_duration = min_duration
        self.hold = hold
        self.dead_time = dead_time
        self.rearm = rearm
        self.sampling_period = sampling_period
        self.adapt = adapt
        self.adapt_window = adapt_window

    # -- fitting ------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Check what can be checked before the data (durations are converted in fit)."""
        for name, value, low in (("n", self.n, 1), ("min_duration", self.min_duration, 1),
                                 ("hold", self.hold, 0), ("dead_time", self.dead_time, 0)):
            if _is_duration(value):
                _as_timedelta(name, value)
            else:
                check_int(name, value, low, hint="Give it in samples, or as a duration such as '5min'.")
        high = None if _is_duration(self.n) else self.n
        check_int("k", self.k, 1, high, hint="It is how many of the last n scores must be above the threshold.")
        if self.sampling_period is not None:
            _sampling_step(self.sampling_period, None, 0)
        if self.adapt not in ADAPT:
            raise InvalidParameterError(f"adapt must be one of {ADAPT}, got {self.adapt!r}: None for a fixed level, "
                                        f"'recentre' for a moving baseline, 'threshold' for a streaming threshold "
                                        f"such as 'dspot'.")
        if _is_duration(self.adapt_window):
            _as_timedelta("adapt_window", self.adapt_window)
        else:
            check_int("adapt_window", self.adapt_window, 3, hint="It is the moving baseline's length in samples.")
        if self.adapt is not None and self.hysteresis_off is not None:
            raise InvalidParameterError("adapt and hysteresis_off cannot be combined: an adaptive level has no fixed "
                                        "off level. Set hysteresis_off=None, or adapt=None.")
        if self.adapt == "threshold" and not hasattr(make_threshold(self.threshold), "stream"):
            raise InvalidParameterError(f"adapt='threshold' needs a streaming threshold ('spot' or 'dspot'), got "
                                        f"threshold={self.threshold!r}; or use adapt='recentre'.")
        if self.rearm is not None:
            if _is_duration(self.rearm):
                _as_timedelta("rearm", self.rearm)
            else:
                check_int("rearm", self.rearm, 1, hint="It is the re-announce period; None: onsets only.")
        for name, spec in (("threshold", self.threshold), ("hysteresis_off", self.hysteresis_off)):
            if spec is None and name == "hysteresis_off":
                continue
            try:
                thresholder = make_threshold(spec)
            except (TypeError, ValueError) as err:
                raise InvalidParameterError(f"{name} must be a threshold spec that sadlib.thresholds.make_threshold "
                                            f"accepts; {err}") from None
            try:  # the threshold's own parameter ranges, checked now rather than at fit
                thresholder._check_params()
            except (TypeError, ValueError) as err:
                raise InvalidParameterError(f"{name}={spec!r} has a bad parameter: {err}") from None

    def fit(self, normal_scores: Any, *, index: Any = None) -> "AlarmPolicy":
        """Fit the levels on scores of normal data and convert durations to samples.

        Parameters
        ----------
        normal_scores : array-like of shape (n,)
            Scores of training or validation data that is normal (never test data).
            Missing scores (NaN) are dropped before the thresholds are fitted.
        index : pandas.DatetimeIndex of length n, optional
            Timestamps of ``normal_scores``; their median spacing converts durations
            (unless ``sampling_period`` is set).

        Returns
        -------
        self
        """
        self._check_params()
        s = _scores(normal_scores, name="normal_scores")
        step = _sampling_step(self.sampling_period, index, s.size)
        n = _samples("n", self.n, step, 1)
        steps = {
            "n_": n,
            "k_": check_int("k", self.k, 1, n, hint=f"It must not exceed n, which is {n} samples here."),
            "min_duration_": _samples("min_duration", self.min_duration, step, 1),
            "hold_": _samples("hold", self.hold, step, 0),
            "dead_time_": _samples("dead_time", self.dead_time, step, 0),
            "rearm_": None if self.rearm is None else _samples("rearm", self.rearm, step, 1),
        }
        if np.isinf(s).any():  # reported here, at its row among all the scores (the thresholds see them without NaN)
            r = int(np.flatnonzero(np.isinf(s))[0])
            raise InvalidParameterError(
                f"normal_scores holds {int(np.isinf(s).sum())} infinite score(s) (first at row {r}: {s[r]}); a level "
                f"fitted on them would be meaningless. Find why the detector scored inf there (an overflow, a "
                f"constant sensor in the scaler) or drop those rows; NaN is the way to mark a missing score.")
        finite = s[~np.isnan(s)]
        if finite.size == 0:
            raise ValueError("normal_scores are all NaN (missing); fit the policy on scores of normal data, e.g. the "
                             "detector's scores of the validation part after its warm-up.")
        thresholder = make_threshold(self.threshold).fit(finite)
        on = off = float(thresholder.threshold_)
        off_thresholder = None
        if self.hysteresis_off is not None:
            off_thresholder = make_threshold(self.hysteresis_off).fit(finite)
            off = float(off_thresholder.threshold_)
            if off > on:
                raise InvalidParameterError(
                    f"hysteresis_off gives an off level {off:.4g} above the on level "
                    f"threshold_={on:.4g}; choose a lower off level (e.g. a lower percentile).")
        layer = None
        if self.adapt == "threshold":
            layer = thresholder
        elif self.adapt in ("recentre", "rebaseline"):
            from ._adaptive import _MAD_TO_SIGMA, RecentredThreshold

            centre = float(np.median(finite))
            scale = float(np.median(np.abs(finite - centre))) * _MAD_TO_SIGMA
            layer = RecentredThreshold(window=_samples("adapt_window", self.adapt_window, step, 3),
                                       adapt=self.adapt == "recentre")
            layer.fit(finite)
            layer.level_ = (on - centre) / max(scale, layer.scale_floor_)  # the fitted level, in robust z
        self.level_layer_ = layer
        for name, value in steps.items():
            setattr(self, name, value)
        self.thresholder_: Threshold = thresholder
        self.off_thresholder_: Threshold | None = off_thresholder
        self.threshold_, self.off_threshold_ = on, off
        self.sampling_period_ = step
        self.n_scores_ = int(finite.size)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(normal_scores) with scores "
                                 f"of normal training or validation data first.")

    # -- batch --------------------------------------------------------------------------
    def predict(self, scores: Any, acknowledge_at: Iterable[int] = ()) -> np.ndarray:
        """The alarm state per sample, shape ``(n,)`` bool (steps 1-5).

        ``acknowledge_at``: samples at which an operator acknowledged a new normal (before that sample's
        decision; ``adapt="recentre"`` or ``"rebaseline"`` only), as :func:`~sadlib.alarms.simulate_operator`
        records them.
        """
        self._check_fitted()
        s = _scores(scores)
        acks = sorted(int(a) for a in acknowledge_at)
        if acks and not hasattr(getattr(self, "level_layer_", None), "relearn_"):
            raise InvalidParameterError("acknowledge_at needs a policy with adapt='recentre' or 'rebaseline' (a "
                                        "baseline an operator can reset); this one has adapt="
                                        f"{getattr(self, 'adapt', None)!r}.")
        if getattr(self, "level_layer_", None) is not None:
            b = np.zeros(s.shape, dtype=bool)  # a missing score is no alarm and is not learnt from
            known = np.flatnonzero(~np.isnan(s))
            if known.size:
                extra = {}
                if acks:  # positions among the known scores: the first known score at or after each look
                    extra["acknowledge_at"] = sorted(set(np.searchsorted(known, acks).tolist()))
                b[known] = np.asarray(self.level_layer_.predict(s[known], **extra), dtype=bool)
        elif self.off_thresholder_ is None:
            b = _above(s, self.threshold_)
        else:
            b = _latch(s, self.threshold_, self.off_threshold_)
        b = _k_of_n(b, self.k_, self.n_)
        b = _min_duration(b, self.min_duration_)
        b = _hold(b, self.hold_)
        return _dead_time(b, self.dead_time_)

    def announce(self, scores: Any) -> np.ndarray:
        """The samples where the operator is alerted: onsets, and every ``rearm_`` samples of a standing alarm."""
        return _announce(self.predict(scores), self.rearm_)

    # -- streaming ----------------------------------------------------------------------
    def stream(self) -> "AlarmStream":
        """A fresh :class:`AlarmStream` that applies this fitted policy one score at a time."""
        self._check_fitted()
        return AlarmStream(self)


class AlarmStream:
    """A fitted :class:`AlarmPolicy` applied one score at a time (from :meth:`AlarmPolicy.stream`).

    Each step keeps a small state (the latch, the last ``n`` levels, a run length, the
    age of the last alarm, the end of the dead period, the time since the onset), so
    memory does not grow with the stream.

    Attributes
    ----------
    alarm : bool, the state after the last update
    announced : bool, whether the last update alerted the operator (an onset or a re-arm)
    n_seen : int
    """

    def __init__(self, policy: AlarmPolicy):
        if not isinstance(policy, AlarmPolicy):
            raise InvalidParameterError(f"policy must be a fitted AlarmPolicy, got {type(policy).__name__}.")
        policy._check_fitted()
        self.policy = policy
        self.reset()

    def reset(self) -> "AlarmStream":
        """Start again as before the first score."""
        p = self.policy
        self._latched = False
        self._last_n: deque = deque(maxlen=p.n_)
        self._run = 0
        self._since_on = p.hold_ + 1  # samples since step 3 was last on (> hold: off)
        self._on = False
        self._dead_until = 0
        self._age = 0  # samples since the shown alarm's onset
        self.alarm = False
        self.announced = False
        self.n_seen = 0
        layer = getattr(p, "level_layer_", None)
        self._layer = None if layer is None else layer.stream()
        return self

    def update(self, score: Any) -> bool:
        """Take the next score (a float, NaN = missing) and return the alarm state for it."""
        s = _score_value(score)
        p = self.policy
        t = self.n_seen
        self.n_seen += 1
        above_on = s > p.threshold_  # False for NaN
        # 1. level
        if self._layer is not None:
            level = False if s != s else bool(self._layer.update(s))  # NaN: no alarm, not learnt from
        elif p.off_thresholder_ is None:
            level = above_on
        else:
            if above_on:
                self._latched = True
            elif not s > p.off_threshold_:
                self._latched = False
            level = self._latched
        # 2. k of n
        self._last_n.append(level)
        persistent = sum(self._last_n) >= p.k_
        # 3. minimum duration
        self._run = self._run + 1 if persistent else 0
        lasting = self._run >= p.min_duration_
        # 4. hold
        self._since_on = 0 if lasting else self._since_on + 1
        held = self._since_on <= p.hold_
        # 5. dead time
        was_on = self._on
        if self._on and not held:
            self._on = False
            self._dead_until = t + p.dead_time_
        elif not self._on and held and t >= self._dead_until:
            self._on = True
        # 6. announcements
        if self._on:
            self._age = 0 if not was_on else self._age + 1
            self.announced = self._age == 0 or (p.rearm_ is not None and self._age % p.rearm_ == 0)
        else:
            self.announced = False
        self.alarm = self._on
        return self.alarm

    def acknowledge(self) -> None:
        """An operator says the plant has a new normal: the baseline is learnt again from the next scores.

        Only for policies with ``adapt="recentre"`` or ``"rebaseline"``.
        """
        if not hasattr(self._layer, "acknowledge"):
            raise InvalidParameterError("acknowledge() needs a policy with adapt='recentre' or 'rebaseline' (a "
                                        f"baseline an operator can reset); this one has adapt={self.policy.adapt!r}.")
        self._layer.acknowledge()

    def run(self, scores: Iterable[Any]) -> np.ndarray:
        """:meth:`update` every score in order; the states as a bool array."""
        return np.array([self.update(s) for s in scores], dtype=bool)

    def __repr__(self) -> str:
        return f"AlarmStream(n_seen={self.n_seen}, alarm={self.alarm}) of {self.policy!r}"


# --------------------------------------------------------------------------- #
# named policies (what ``python -m sadlib.bench --alarm-policy`` takes)
# --------------------------------------------------------------------------- #
#: Named :class:`AlarmPolicy` parameter sets for :func:`make_policy`; one place for their values.
#:
#: * ``"none"``: no policy (``None``): the detector's own ``threshold_`` and alarm rule;
#: * ``"default"``: the policy the course recommends (notebook 08, Going further: NAB): a level at the
#:   mean + 6 standard deviations of the normal scores (it moves with any shift or scale of a
#:   detector's scores, so it means the same for every detector), 3 consecutive scores above it
#:   before an alarm, and no new alarm for 72 samples after one ends (6 hours of NAB's 5-minute
#:   series, a rule against repeated alarms for one slow fault). It was chosen among 702
#:   candidates on one NAB series alone, ``realKnownCause/machine_temperature_system_failure``
#:   (``benchmarks/nab_alarm_policy.py``, results in ``benchmarks/nab_policy.csv``);
#: * ``"skab_like"``: a level above nearly all normal scores (4/3 x their 99.9th percentile)
#:   that must be exceeded for 60 consecutive samples (one minute at SKAB's 1 s sampling)
#:   before an alarm: a causal stand-in for the SKAB authors' rule for window models, which
#:   also alarms only inside a long run of windows above the limit (:func:`all_windows_alarms`).
#:
#: * ``"adaptive"``: ``"default"`` on a moving baseline: the same level, as a robust z-score of the
#:   normal scores, measured from the median and MAD of the last 300 non-alarm scores
#:   (``adapt="recentre"``), so a new normal level stops alarming once it is learnt, and a slow fault can
#:   be learnt too (see :mod:`sadlib.alarms._adaptive`);
#: * ``"adaptive_dspot"``: DSPOT (Siffer et al., KDD 2017) on the score, its tail level over the mean of the
#:   last 10 normal scores (``adapt="threshold"``; its tail fitted from the 90th percentile up, so that the
#:   80 calibration scores of a SKAB file are enough), with ``"default"``'s persistence and dead time.
#:
#: Counts are in samples, so a policy means other durations on data sampled otherwise
#: (60 samples of NAB's 5-minute series are 5 hours); give durations (``"5min"``) in a
#: JSON spec to fix the time instead.
ADAPT = (None, "recentre", "rebaseline", "threshold")

POLICIES: dict[str, dict[str, Any] | None] = {
    "none": None,
    "default": {"threshold": ("meanstd", {"k": 6.0}), "min_duration": 3, "dead_time": 72},
    "skab_like": {"threshold": ("percentile", {"q": 99.9, "margin": 4 / 3}), "min_duration": 60},
    "adaptive": {"threshold": ("meanstd", {"k": 6.0}), "min_duration": 3, "dead_time": 72, "adapt": "recentre",
                 "adapt_window": 300},
    "adaptive_dspot": {"threshold": ("dspot", {"risk": 1e-3, "depth": 10, "init_level": 0.9, "min_peaks": 5}),
                       "min_duration": 3, "dead_time": 72,
                       "adapt": "threshold"},
}

_THRESHOLD_PARAMS = ("threshold", "hysteresis_off")
_JSON_EXAMPLE = '\'{"threshold": ["percentile", {"q": 99}], "k": 3, "n": 5, "hold": "10s"}\''


def _threshold_spec(value: Any) -> Any:
    """A JSON threshold spec ``["percentile", {"q": 99}]`` as the tuple :func:`make_threshold` takes."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):
        return (value[0], dict(value[1]))
    return value


def _policy_from_params(params: dict, where: str) -> AlarmPolicy:
    valid = list(AlarmPolicy().get_params(deep=False))
    unknown = [key for key in params if key not in valid]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InvalidParameterError(f"{where} has unknown AlarmPolicy parameter(s) {', '.join(hints)}; "
                                    f"valid: {', '.join(valid)}.")
    kwargs = {key: (_threshold_spec(v) if key in _THRESHOLD_PARAMS else v) for key, v in params.items()}
    policy = AlarmPolicy(**kwargs)
    try:
        policy._check_params()
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{where}: {err}") from None
    return policy


def make_policy(spec: Any) -> AlarmPolicy | None:
    """An unfitted :class:`AlarmPolicy` from a name, a JSON string, a dict or a policy.

    Parameters
    ----------
    spec : str, dict, AlarmPolicy or None
        * a name in :data:`POLICIES` (``"none"`` gives ``None``: no policy);
        * a JSON object of :class:`AlarmPolicy` parameters, e.g.
          ``'{"threshold": ["percentile", {"q": 99}], "k": 3, "n": 5, "hold": "10s"}'``;
          a threshold spec written as a two-element list ``[name, {params}]`` becomes the
          tuple :func:`sadlib.thresholds.make_threshold` expects (a number or a name works as is);
        * a dict of the same parameters (lists become tuples likewise);
        * an :class:`AlarmPolicy`: an unfitted clone of it;
        * ``None``: no policy.

    Returns
    -------
    AlarmPolicy or None
        Unfitted; its parameters are checked (durations need an index when it is fitted).

    Raises
    ------
    InvalidParameterError
        for an unknown name (the message lists the names and a close match), text that
        is not a JSON object, an unknown parameter or a bad value.

    Examples
    --------
    >>> make_policy("none") is None
    True
    >>> make_policy('{"threshold": ["percentile", {"q": 99}], "k": 2, "n": 3}').threshold
    ('percentile', {'q': 99})
    """
    if spec is None:
        return None
    if isinstance(spec, AlarmPolicy):
        policy = clone(spec)
        policy._check_params()
        return policy
    if isinstance(spec, dict):
        return _policy_from_params(spec, "the policy dict")
    if not isinstance(spec, str):
        raise InvalidParameterError(f"an alarm policy must be a name ({', '.join(POLICIES)}), a JSON object, a dict "
                                    f"of AlarmPolicy parameters or an AlarmPolicy, got {type(spec).__name__}.")
    text = spec.strip()
    if text in POLICIES:
        params = POLICIES[text]
        return None if params is None else _policy_from_params(params, f"POLICIES[{text!r}]")
    if not text.startswith(("{", "[")):
        close = difflib.get_close_matches(text, list(POLICIES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(f"unknown alarm policy {spec!r}.{hint} Named policies: {', '.join(POLICIES)}; "
                                    f"or give AlarmPolicy parameters as a JSON object, e.g. {_JSON_EXAMPLE}.")
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidParameterError(f"the alarm policy {spec!r} is not valid JSON ({err}). Expected a JSON object of "
                                    f"AlarmPolicy parameters with double-quoted keys, threshold specs as "
                                    f"[name, {{params}}] lists, e.g. {_JSON_EXAMPLE}.") from None
    if not isinstance(params, dict):
        raise InvalidParameterError(f"the alarm policy JSON must be an object {{parameter: value}}, got "
                                    f"{type(params).__name__}; e.g. {_JSON_EXAMPLE}.")
    return _policy_from_params(params, "the policy JSON")


def _jsonable(value: Any) -> Any:
    """A parameter value in the JSON form :func:`make_policy` reads back."""
    if isinstance(value, Threshold):
        key = next((k for k, cls in THRESHOLDS.items() if type(value) is cls), type(value).__name__)
        return [key, _jsonable(value.get_params(deep=False))]
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        td = pd.Timedelta(value)  # "30s" or "1500ms", which pd.Timedelta reads back
        return f"{td // pd.Timedelta('1s')}s" if td % pd.Timedelta("1s") == pd.Timedelta(0) else f"{td.value}ns"
    if isinstance(value, np.generic):
        return value.item()
    return value


def policy_label(spec: Any) -> str:
    """A short text naming a policy, for a table or CSV column.

    The name for a name in :data:`POLICIES` (``"none"`` for ``None``); otherwise compact
    JSON of the parameters that differ from :class:`AlarmPolicy`'s defaults, keys sorted,
    which :func:`make_policy` reads back into the same policy.

    Examples
    --------
    >>> policy_label("default"), policy_label(None)
    ('default', 'none')
    >>> policy_label({"k": 2, "n": 3, "threshold": ("percentile", {"q": 99})})
    '{"k":2,"n":3,"threshold":["percentile",{"q":99}]}'
    """
    if spec is None:
        return "none"
    if isinstance(spec, str) and spec.strip() in POLICIES:
        return spec.strip()
    policy = make_policy(spec)
    if policy is None:
        return "none"
    defaults = AlarmPolicy().get_params(deep=False)
    changed = {key: value for key, value in policy.get_params(deep=False).items()
               if not (type(value) is type(defaults[key]) and value == defaults[key])}
    return json.dumps(_jsonable(changed), separators=(",", ":"), sort_keys=True, default=repr)
