"""Budget calibration: choose an :class:`AlarmPolicy` on validation data under a false-alarm budget.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterGrid

from ..metrics import detection_delays, event_metrics, false_alarms_per_day
from ..validation import (
    InvalidParameterError,
    as_labels,
    as_period,
    as_time_index,
    check_number,
)
from ._core import _sampling_step, _scores
from ._policy import AlarmPolicy

# --------------------------------------------------------------------------- #
# calibration to an alarm budget
# --------------------------------------------------------------------------- #
#: the candidates :func:`calibrate_to_budget` tries by default (a scikit-learn ParameterGrid spec)
DEFAULT_CANDIDATES: list[dict[str, list]] = [
    {
        "threshold": [("percentile", {"q": q}) for q in (90.0, 95.0, 99.0, 99.5, 99.9)],
        "k": [1], "n": [1],
        "min_duration": [1, 3, 10],
        "hold": [0, 10],
    },
    {
        "threshold": [("percentile", {"q": q}) for q in (90.0, 95.0, 99.0, 99.5, 99.9)],
        "k": [3], "n": [5],
        "min_duration": [1],
        "hold": [0, 10],
    },
]


def calibrate_to_budget(
    val_scores: Any,
    y_val: Any,
    budget_per_day: float,
    *,
    index: Any,
    normal_scores: Any = None,
    candidates: Any = None,
    rearm: Any = "1h",
    base: AlarmPolicy | None = None,
) -> tuple[AlarmPolicy, pd.DataFrame]:
    """Choose the policy with the best event recall on validation data within a false-alarm budget.

    Every candidate is an :class:`AlarmPolicy` fitted on normal scores, then applied
    to the validation scores; its event recall (:func:`sadlib.metrics.event_metrics`)
    and false alarms per day (:func:`sadlib.metrics.false_alarms_per_day`, standing
    alarms re-counted every ``rearm``) are measured against ``y_val``. The chosen one
    has the highest event recall among those with at most ``budget_per_day`` false
    alarms per day; ties go to the shorter mean detection delay (the budget buys earlier
    alarms), then to fewer false alarms, then to the earlier candidate. The function takes
    **only validation data**: there is no test argument, so the estimate it makes can be
    checked on a test part it never saw.

    Parameters
    ----------
    val_scores : array-like of shape (n,), NaN allowed
        Detector scores of the validation part.
    y_val : array-like of shape (n,)
        Its labels (1 = anomaly); it must contain events for recall to mean anything.
    budget_per_day : float >= 0
        Most false alarms per day allowed (an operator's budget of ``B`` per 8-hour
        shift is ``3 * B`` per day). For reference, EEMUA 191 and ISA-18.2 rate about
        one alarm per 10 minutes per operator (about 150 a day) as very likely acceptable,
        counting *all* alarms of a plant, so one detector's share is far smaller.
    index : pandas.DatetimeIndex of length n
        Timestamps of the validation part (keyword-only, required: the budget is per day).
    normal_scores : array-like, optional
        Scores of normal training data to fit the levels on; default: the validation
        scores where ``y_val`` is 0.
    candidates : dict of lists or list of them, optional
        A :class:`sklearn.model_selection.ParameterGrid` spec of :class:`AlarmPolicy`
        parameters; default :data:`DEFAULT_CANDIDATES`.
    rearm : duration or None, default "1h"
        Re-count period of standing alarms in the false-alarm count.
    base : AlarmPolicy, optional
        Parameters the candidates do not set are taken from it. A candidate without
        ``sampling_period`` gets the median spacing of ``index``, so durations ("5min") work.

    Returns
    -------
    policy : AlarmPolicy
        The chosen candidate, fitted.
    table : pandas.DataFrame
        One row per candidate: its parameters, ``threshold_``, ``event_recall``,
        ``false_alarms_per_day``, ``n_alarms``, ``mean_delay_samples``,
        ``within_budget`` and ``chosen``.

    Raises
    ------
    InvalidParameterError
        for labels without any event (recall would be 0 for every candidate), empty
        candidates (``{}``, ``[]`` or an empty dict in the list) or a bad ``rearm``.

    Warns
    -----
    UserWarning
        when no candidate meets the budget; the one with the fewest false alarms per
        day is returned.
    """
    budget = check_number("budget_per_day", budget_per_day, 0,
                          hint="It is the most false alarms per day allowed (3 x a per-shift budget).")
    if base is not None and not isinstance(base, AlarmPolicy):
        raise InvalidParameterError(f"base must be an AlarmPolicy or None, got {type(base).__name__}.")
    grid_spec = DEFAULT_CANDIDATES if candidates is None else candidates
    try:
        grid = list(ParameterGrid(grid_spec))
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"candidates must be a dict of lists of AlarmPolicy parameters, or a list of "
                                    f"such dicts (a ParameterGrid spec); {err}") from None
    parts = [grid_spec] if isinstance(grid_spec, Mapping) else list(grid_spec)
    if not grid or any(isinstance(part, Mapping) and not part for part in parts):
        raise InvalidParameterError(
            f"candidates is empty ({grid_spec!r}): it would score no policy, or only base; give at least one "
            f"AlarmPolicy parameter with its values, e.g. candidates={{'min_duration': [1, 3, 10]}} (the other "
            f"parameters come from base).")
    if rearm is not None:
        as_period(rearm, name="rearm")
    s = _scores(val_scores, name="val_scores")
    y = as_labels(y_val, name="y_val", n=s.size)
    if not y.any():
        raise InvalidParameterError(
            "y_val holds no labelled event (every label is 0), so every candidate has event recall 0 and the "
            "choice would mean nothing; pass validation labels that contain at least one event (a longer "
            "validation part, or one with an injected fault, see sadlib.signals.inject).")
    idx = as_time_index(index, s.size)
    if normal_scores is None:
        normal = s[~y]
        if normal.size == 0:
            raise ValueError("y_val marks every validation sample as anomalous, so there are no normal scores to fit "
                             "the levels on; pass normal_scores (e.g. the training part's scores).")
    else:
        normal = _scores(normal_scores, name="normal_scores")
    base = AlarmPolicy() if base is None else base
    step = _sampling_step(None, idx, s.size)
    rows, policies = [], []
    for params in grid:
        policy = AlarmPolicy(**{**base.get_params(deep=False), **params})
        if policy.sampling_period is None:  # durations in the candidates use the validation index's spacing
            policy.set_params(sampling_period=step)
        try:
            policy.fit(normal)
        except InvalidParameterError as err:
            raise InvalidParameterError(f"candidate {params}: {err}") from None
        alarms = policy.predict(s)
        ev = event_metrics(y, alarms)
        delays = detection_delays(y, alarms)["delay_samples"]
        rows.append({**{k: _cell(v) for k, v in params.items()}, "threshold_": policy.threshold_,
                     "event_recall": ev["event_recall"],
                     "false_alarms_per_day": false_alarms_per_day(y, alarms, index=idx, rearm=rearm),
                     "n_alarms": ev["n_alarm_events"],
                     "mean_delay_samples": float(delays.mean()) if delays.notna().any() else float("nan")})
        policies.append(policy)
    table = pd.DataFrame(rows)
    table["within_budget"] = table["false_alarms_per_day"] <= budget
    pool = table[table["within_budget"]]
    if pool.empty:
        warnings.warn(f"no candidate stays within {budget:g} false alarms per day on the validation part (the fewest "
                      f"is {table['false_alarms_per_day'].min():.3g}); returning the one with the fewest. Raise the "
                      f"budget or add stricter candidates (higher thresholds, longer min_duration).", stacklevel=2)
        pool = table[table["false_alarms_per_day"] == table["false_alarms_per_day"].min()]  # the quietest
    order = pool.assign(_delay=pool["mean_delay_samples"].fillna(np.inf), _pos=np.arange(len(pool))).sort_values(
        ["event_recall", "_delay", "false_alarms_per_day", "_pos"], ascending=[False, True, True, True], kind="stable")
    best = int(order.index[0])
    table["chosen"] = False
    table.loc[best, "chosen"] = True
    return policies[best], table


def _cell(value: Any) -> Any:
    """A parameter value as a readable table cell (threshold specs as their repr)."""
    return value if isinstance(value, (Integral, float, str, type(None))) else repr(value)
