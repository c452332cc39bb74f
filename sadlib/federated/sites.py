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

The raw 10-second channels are averaged over ``every`` (1 min by default): a digital
channel's mean is then the share of the minute it was on (e.g. the duty cycle), and a
week is 10 080 rows per site, which keeps federated rounds short on a 2-core machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..signals import METROPT3_CHANNELS, make_compressor
from ..validation import check_int, check_number

__all__ = ["Site", "make_sites", "make_site", "site_table"]


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


# Failures of each site's test week (days after the test start). Sites 0-4 see air leaks and sensor
# faults (sites 2 and 3 none); only site 5 has an oil leak. Sites 3 and 4 have little history.
_PLAN: tuple[dict, ...] = (
    {"train_days": 7.0, "failures": [("sensor_fault", 1.0), ("air_leak", 3.2), ("air_leak", 5.8)]},
    {"train_days": 6.0, "failures": [("air_leak", 2.6), ("sensor_fault", 4.4), ("air_leak", 6.0)]},
    {"train_days": 5.0, "failures": []},
    {"train_days": 1.0, "failures": [("air_leak", 3.0), ("sensor_fault", 5.0)]},
    {"train_days": 1.5, "failures": [("sensor_fault", 1.4), ("air_leak", 4.0)]},
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


def _resample(frame: pd.DataFrame, every: str) -> pd.DataFrame:
    channels = frame[list(METROPT3_CHANNELS)].resample(every).mean()
    channels["anomaly"] = frame["anomaly"].resample(every).max().astype(np.int64)
    return channels.dropna()


def make_sites(n_sites: int = 6, *, seed: int = 0, val_days: float = 1.0, test_days: float = 7.0,
               little_data: bool = True, every: str = "1min", freq: str = "10s",
               start: Any = "2022-03-01") -> list[Site]:
    """Generate ``n_sites`` non-IID compressor sites (see the module docstring).

    Parameters
    ----------
    n_sites : int, 2..12
        The first six follow a fixed plan of history lengths and failures (site 5 alone has an
        oil leak; site 2 has no failure; sites 3 and 4 have 1-1.5 days of history); further
        sites repeat the plan with new machine parameters.
    seed : int
        Seed of the sites' machine parameters and of their data (site ``i`` uses ``seed * 100 + i``).
    val_days : float
        Normal days after the training part, for each site's own threshold.
    test_days : float >= 7
        Length of the test period with the failures.
    little_data : bool
        ``False`` gives sites 3 and 4 as much history as the others (7 days), to see what the
        little-data sites lose.
    every : str
        Averaging period of the model's rows (a pandas frequency, at least ``freq``).
    freq : str
        Sampling interval of the generated raw channels (MetroPT-3 has 10 s).
    start : timestamp-like
        First timestamp of every site.

    Returns
    -------
    list of Site
    """
    n_sites = check_int("n_sites", n_sites, 2, 12, hint="It is the number of compressors in the federation.")
    return [make_site(i, seed=seed, val_days=val_days, test_days=test_days, little_data=little_data, every=every,
                      freq=freq, start=start) for i in range(n_sites)]


def make_site(i: int, *, seed: int = 0, val_days: float = 1.0, test_days: float = 7.0, little_data: bool = True,
              every: str = "1min", freq: str = "10s", start: Any = "2022-03-01") -> Site:
    """Site ``i`` of :func:`make_sites` alone (a SuperNode generates only its own site)."""
    i = check_int("i", i, 0, hint="It is the site's number, 0 for the first.")
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
    test_start = train_days + val_days
    failures = [{"type": kind, "start": test_start + day} for kind, day in plan["failures"]]
    days = train_days + val_days + test_days
    generated = make_compressor(days, seed=seed * 100 + i, failures=failures or None, start=start, freq=freq,
                                **params)
    data = _resample(generated.data, every)
    t0 = data.index[0]
    t_val, t_test = t0 + pd.Timedelta(days=train_days), t0 + pd.Timedelta(days=test_start)
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
