"""Alarm policies: from a score series to alarms an operator can live with.

A detector gives one score per sample; a threshold turns it into ``score >
threshold``, which chatters on noisy scores and floods the operator during a
long event. Alarm-management practice (ISA-18.2 / IEC 62682, EEMUA 191) adds
rules between the score and the operator. This module implements them, each in
two forms that make **the same decisions sample by sample**:

* a *batch* form for a whole array (vectorised NumPy, what notebooks and the
  benchmark use), and
* a *streaming* form that takes one score at a time and decides on the spot,
  as an edge device does (:meth:`AlarmPolicy.stream`).

The two are written independently and the tests replay random series through
both, as :mod:`sadlib.streaming` does for the scores.

Policies (batch functions; all but the last two are steps of :class:`AlarmPolicy`)
-----------------------------------------------------------------------------------
* :func:`hysteresis_alarms`: separate on and off levels;
* :func:`k_of_n_alarms`: at least ``k`` of the last ``n`` scores above the threshold;
* :func:`min_duration_alarms`: ``min_duration`` consecutive scores above (the rule
  of :class:`sadlib.streaming.StreamingScorer`; this is its one home);
* :func:`hold_alarms`: keep an alarm on ``hold`` samples after it falls, which merges
  alarms closer than ``hold`` samples causally;
* :func:`dead_time_alarms`: no new alarm onset for ``dead_time`` samples after an
  alarm ends;
* :func:`announcements`: the onsets an operator is shown, standing alarms
  re-announced every ``rearm`` samples (what :func:`sadlib.metrics.false_alarm_count` counts);
* :func:`merge_gaps`: the non-causal batch merge of alarms closer than ``gap``
  (streaming form :class:`MergeGapsStream`, which decides ``gap`` samples late);
* :func:`all_windows_alarms`: the SKAB authors' rule for window scores, a point
  alarms only if every window covering it is above the limit (streaming form
  :class:`AllWindowsStream`, which decides ``window - 1`` samples late).

:class:`AlarmPolicy` composes the first six as one scikit-learn style estimator
whose threshold is fitted on normal scores only, and :func:`calibrate_to_budget`
chooses its parameters on validation data under a false-alarm budget.

Alarm-management figures: :func:`alarm_table`, :func:`alarms_per_hour`,
:func:`chattering` and :func:`standing_alarms`.

Conventions
-----------
* Scores are 1-D floats; NaN means "no score" (e.g. the warm-up of a window
  model) and counts as *not above* every level, so it breaks a run, lowers a
  k-of-n count and switches a hysteresis alarm off.
* "Above" is strict (``score > threshold``), as in :mod:`sadlib.thresholds`.
* Every parameter counted in samples may also be a duration (``"5min"``, a
  ``pandas.Timedelta``) in :class:`AlarmPolicy`; it is converted to samples when
  the policy is fitted, with the sampling period of the index (or ``sampling_period``).
  The standalone functions take samples only.
* An empty score array is an error (as everywhere in :mod:`sadlib`); an all-NaN
  one gives no alarm.

Layout (private modules behind this package; import from ``sadlib.alarms``)
---------------------------------------------------------------------------
* ``_core``: boundary checks, the vectorised steps shared by the rules and the policy;
* ``_rules``: the batch rules and the streams of the two look-ahead rules;
* ``_policy``: :class:`AlarmPolicy`, :class:`AlarmStream` and the named policies
  (:data:`POLICIES`, :func:`make_policy`, :func:`policy_label`);
* ``_budget``: :func:`calibrate_to_budget` and :data:`DEFAULT_CANDIDATES`;
* ``_adaptive``: :class:`RecentredThreshold` (a robust z-score on a moving baseline of recent non-alarm
  scores), its :class:`RecentredStream`, and :func:`simulate_operator` (an operator who acknowledges false
  alarms as a new normal);
* ``_reports``: :func:`alarm_table`, :func:`alarms_per_hour`, :func:`chattering`, :func:`standing_alarms`.
"""

from __future__ import annotations

from ._adaptive import RecentredStream, RecentredThreshold, simulate_operator
from ._budget import DEFAULT_CANDIDATES, calibrate_to_budget
from ._policy import POLICIES, AlarmPolicy, AlarmStream, make_policy, policy_label
from ._reports import alarm_table, alarms_per_hour, chattering, standing_alarms
from ._rules import (
    ALL_WINDOWS_CONVENTIONS,
    AllWindowsStream,
    MergeGapsStream,
    all_windows_alarms,
    announcements,
    dead_time_alarms,
    hold_alarms,
    hysteresis_alarms,
    k_of_n_alarms,
    merge_gaps,
    min_duration_alarms,
)

__all__ = [
    "hysteresis_alarms",
    "k_of_n_alarms",
    "min_duration_alarms",
    "hold_alarms",
    "dead_time_alarms",
    "announcements",
    "merge_gaps",
    "all_windows_alarms",
    "ALL_WINDOWS_CONVENTIONS",
    "AlarmPolicy",
    "AlarmStream",
    "RecentredThreshold",
    "RecentredStream",
    "simulate_operator",
    "AllWindowsStream",
    "MergeGapsStream",
    "calibrate_to_budget",
    "DEFAULT_CANDIDATES",
    "alarm_table",
    "alarms_per_hour",
    "chattering",
    "standing_alarms",
    "POLICIES",
    "make_policy",
    "policy_label",
]
