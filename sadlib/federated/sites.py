"""Several compressor sites that cannot pool their data: the federation of notebook 11.

Each site is one air production unit from :func:`sadlib.signals.make_compressor` with its
own normal behaviour (non-IID): its own load/unload set points, air consumption, normal
leak, sensor noise and ambient temperature. Sites also differ in how much normal history
they have (some only a day or so: the sites that gain most from training together),
and in what goes wrong in their test period: some have no failure at all, and one site
has a failure type that no other site ever sees (an oil leak).

Every site's data is cut in time into three parts, the same at every site:

* ``train``: normal operation, for the model (the only part the federation trains on);
* ``val``: the next normal hours, for the site's *own* alarm threshold;
* ``test``: a week with the site's failures, labelled (``anomaly`` = 1 inside a failure
  interval), for the evaluation.

A model row summarises ``every`` (10 min by default) of the raw 10-second channels, labelled
by the end of its bin like :func:`sadlib.cycles.cycle_features`: the mean and standard
deviation of the 7 analog channels (a drifting, stuck or noisy sensor shows there) and the
cycle features a leak moves (cycles per hour, duty, idle pressure decay and its daily floor,
oil temperature). A week is 1 008 rows per site, which keeps federated rounds short on a
2-core machine. A day of operation before the training part warms the day-long features up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..cycles import cycle_features
from ..signals import METROPT3_ANALOG, make_compressor
from ..validation import check_bool, check_choice, check_int, check_number

__all__ = ["FEATURES", "LEAK_FEATURES", "MAGNITUDES", "Site", "make_sites", "make_site", "site_table"]

#: What a site's model rows hold: ``"channels"``, the mean and standard deviation of the 7 analog
#: channels over each ``every`` (a drifting, stuck or noisy sensor shows there); ``"cycles"``, the
#: engineered cycle features a leak moves (:data:`LEAK_FEATURES` of :func:`sadlib.cycles.cycle_features`);
#: ``"both"``, side by side.
FEATURES: tuple[str, ...] = ("both", "channels", "cycles")
#: The cycle features a leak moves (``mean_cycle_s`` and ``loaded_current`` are heavy-tailed at night).
LEAK_FEATURES: tuple[str, ...] = ("cycles_per_hour", "duty", "idle_decay_bar_per_min", "idle_decay_floor",
                                  "oil_temperature")
#: Failure sizes at ``severity=1`` (make_compressor's defaults): an air leak's extra leak at the failure start in
#: bar/min, an oil leak's oil temperature rise in °C, a sensor fault in units of the channel's normal spread.
MAGNITUDES: dict[str, float] = {"air_leak": 0.10, "oil_leak": 6.0, "sensor_fault": 3.0}
# a day of operation before the training part: cycle_features needs it to warm up (its idle-decay floor)
_WARMUP_DAYS = 1.0


@dataclass
class Site:
    """One site of the federation.

    Attributes
    ----------
    name : str
    train, val : DataFrame, normal rows, columns :attr:`features`
    test : DataFrame, columns :attr:`features` + ``anomaly`` (0/1)
    events : DataFrame, the failures of the test period (``make_compressor``'s events table)
    params : dict, how this site was generated (set points, consumption, days, ...)
    """

    name: str
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    events: pd.DataFrame
    params: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """The model's input columns."""
        return [c for c in self.train.columns if c != "anomaly"]

    def __repr__(self) -> str:
        kinds = ", ".join(self.events["type"]) if len(self.events) else "no failure"
        return (f"Site({self.name!r}: {len(self.train)} train, {len(self.val)} val, {len(self.test)} test rows; "
                f"{kinds})")


# Failures of each site's test week (days after the test start; air leaks grow for 36 h before, oil leaks 18 h,
# and the day after a failure is its recovery, so failures are spaced to keep these apart). Sites 0, 1, 3, 4
# see air leaks and sensor faults, site 2 nothing, site 5 alone an oil leak. Sites 3 and 4 have little history.
_PLAN: tuple[dict, ...] = (
    {"train_days": 7.0, "failures": [("sensor_fault", 1.0), ("air_leak", 3.0), ("air_leak", 5.9)]},
    {"train_days": 6.0, "failures": [("air_leak", 2.6), ("sensor_fault", 4.05), ("air_leak", 6.2)]},
    {"train_days": 5.0, "failures": []},
    {"train_days": 0.5, "failures": [("air_leak", 3.0), ("sensor_fault", 5.0)]},
    {"train_days": 1.0, "failures": [("sensor_fault", 1.4), ("air_leak", 4.0)]},
    {"train_days": 4.0, "failures": [("oil_leak", 2.5), ("air_leak", 5.2)]},
)


def _site_params(rng: np.random.Generator) -> dict:
    low = float(rng.uniform(7.6, 8.6))
    return {
        "low": round(low, 2),
        "high": round(low + float(rng.uniform(1.6, 2.2)), 2),
        "consumption": round(float(rng.uniform(0.7, 1.35)), 2),
        "leak": round(float(rng.uniform(0.008, 0.016)), 4),
        "noise": round(float(rng.uniform(0.5, 2.0)), 2),
        "temperature_offset": round(float(rng.uniform(-8.0, 8.0)), 1),
    }


def _rows(frame: pd.DataFrame, every: str, features: str) -> pd.DataFrame:
    """Model rows labelled by the end of their bin ``(t - every, t]``, as cycle_features labels its rows."""
    parts = []
    if features in ("channels", "both"):
        bins = frame[list(METROPT3_ANALOG)].resample(every, label="right", closed="right")
        parts += [bins.mean(), bins.std().add_suffix("_std")]
    if features in ("cycles", "both"):
        parts.append(cycle_features(frame, every=every)[list(LEAK_FEATURES)])
    rows = pd.concat(parts, axis=1, join="inner")
    rows["anomaly"] = frame["anomaly"].resample(every, label="right", closed="right").max().reindex(rows.index)
    rows = rows.dropna()
    rows["anomaly"] = rows["anomaly"].astype(np.int64)
    return rows


def make_sites(n_sites: int = 6, *, seed: int = 0, val_days: float = 1.0, test_days: float = 7.0,
               little_data: bool = True, severity: float = 1.0, features: str = "both", every: str = "10min",
               freq: str = "10s", start: Any = "2022-03-01") -> list[Site]:
    """Generate ``n_sites`` non-IID compressor sites (see the module docstring).

    Parameters
    ----------
    n_sites : int, 2..12
        The first six follow a fixed plan of history lengths and failures (site 5 alone has an
        oil leak; site 2 has no failure; sites 3 and 4 have half a day and a day of history);
        further sites repeat the plan with new machine parameters.
    seed : int
        Seed of the sites' machine parameters and of their data (site ``i`` uses ``seed * 100 + i``).
    val_days : float
        Normal days after the training part, for each site's own threshold.
    test_days : float >= 7
        Length of the test period with the failures.
    little_data : bool
        ``False`` gives sites 3 and 4 as much history as the others (7 days), to see what the
        little-data sites lose.
    severity : float > 0
        Scale of the failures' magnitudes (:data:`MAGNITUDES`; 1 is make_compressor's default size,
        0.5 half as large and harder to see).
    features : {"both", "channels", "cycles"}
        What a row holds, see :data:`FEATURES`.
    every : str
        Period of the model's rows (a pandas frequency, at least ``freq``).
    freq : str
        Sampling interval of the generated raw channels (MetroPT-3 has 10 s).
    start : timestamp-like
        First timestamp of every site.

    Returns
    -------
    list of Site
    """
    n_sites = check_int("n_sites", n_sites, 2, 12, hint="It is the number of compressors in the federation.")
    seed = check_int("seed", seed, 0, hint="It seeds the sites' machines and data; pass a whole number such as 0.")
    little_data = check_bool("little_data", little_data)
    return [make_site(i, seed=seed, val_days=val_days, test_days=test_days, little_data=little_data,
                      severity=severity, features=features, every=every, freq=freq, start=start)
            for i in range(n_sites)]


def make_site(i: int, *, seed: int = 0, val_days: float = 1.0, test_days: float = 7.0, little_data: bool = True,
              severity: float = 1.0, features: str = "both", every: str = "10min", freq: str = "10s",
              start: Any = "2022-03-01") -> Site:
    """Site ``i`` of :func:`make_sites` alone (a SuperNode generates only its own site).

    Site ``i`` follows plan ``i % 6`` with machine parameters and data seeded by ``seed`` and ``i``,
    so it is the same whether generated alone or with the others.
    """
    i = check_int("i", i, 0, hint="It is the site's number, 0 for the first.")
    seed = check_int("seed", seed, 0, hint="It seeds the sites' machines and data; pass a whole number such as 0.")
    little_data = check_bool("little_data", little_data)
    check_choice("features", features, FEATURES)
    severity = check_number("severity", severity, 0, low_open=True,
                            hint="It scales the failures' magnitudes (1: make_compressor's defaults).")
    val_days = check_number("val_days", val_days, 0.25, hint="Each site needs normal hours for its threshold.")
    test_days = check_number("test_days", test_days, 7.0, hint="The failure plan needs a week of test data.")
    try:
        step, raw = pd.Timedelta(pd.tseries.frequencies.to_offset(every)), pd.Timedelta(freq)
    except (TypeError, ValueError):
        raise ValueError(f"every={every!r} and freq={freq!r} must be fixed pandas frequencies such as '1min' "
                         f"and '10s'.") from None
    if step < raw:
        raise ValueError(f"every={every!r} is shorter than the sampling interval freq={freq!r}; rows can only be "
                         f"averaged over one sample or more.")
    plan = _PLAN[i % len(_PLAN)]
    params = _site_params(np.random.default_rng([seed, 15, i]))
    train_days = plan["train_days"] if little_data else max(plan["train_days"], 7.0)
    test_start = _WARMUP_DAYS + train_days + val_days
    failures = [{"type": kind, "start": test_start + day, "magnitude": severity * MAGNITUDES[kind]}
                for kind, day in plan["failures"]]
    days = test_start + test_days
    generated = make_compressor(days, seed=seed * 100 + i, failures=failures or None, start=start, freq=freq,
                                **params)
    data = _rows(generated.data, every, features)
    t0 = generated.data.index[0] + pd.Timedelta(days=_WARMUP_DAYS)
    data = data[data.index > t0]
    t_val, t_test = t0 + pd.Timedelta(days=train_days), t0 + pd.Timedelta(days=train_days + val_days)
    train = data[data.index < t_val]
    val = data[(data.index >= t_val) & (data.index < t_test)]
    test = data[data.index >= t_test]
    if train["anomaly"].any() or val["anomaly"].any():  # pragma: no cover - the plan keeps them clean
        raise RuntimeError(f"site {i}: a failure fell into the normal part; the failure plan is wrong.")
    return Site(
        name=f"site {i}", train=train.drop(columns="anomaly"), val=val.drop(columns="anomaly"), test=test,
        events=generated.events, params={**params, "train_days": train_days, "val_days": val_days,
                                        "test_days": test_days, "little_data": train_days < 3,
                                        "failures": ", ".join(generated.events["type"]) or "none"},
    )


def site_table(sites: list[Site]) -> pd.DataFrame:
    """One row per site: machine parameters, rows per part, failures of the test period."""
    rows = []
    for s in sites:
        rows.append({"site": s.name, **s.params, "train_rows": len(s.train), "val_rows": len(s.val),
                     "test_rows": len(s.test)})
    return pd.DataFrame(rows).set_index("site")
