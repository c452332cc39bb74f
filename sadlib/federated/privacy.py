"""What central differential privacy guarantees in a federated run, and what one site can move.

:func:`sadlib.federated.run_federated` with ``dp_clip > 0`` runs Flower's central DP
(``DifferentialPrivacyClientSideFixedClipping``; each site clips its update to L2 norm
``clip`` with Flower's ``fixedclipping_mod``) over a **uniform** FedAvg: every site's update has
weight ``1 / n_sites``, whatever its number of examples, so that one site moves the mean by at
most ``clip / n_sites`` (its *influence*) and the Gaussian noise Flower adds to the mean,
of standard deviation ``noise_multiplier * clip / n_sites``, is sized for exactly that.
(With FedAvg's usual weights by examples, a site holding 30 % of the examples would move the
mean by ``0.3 * clip``, almost twice what the noise is sized for.)

The (ε, δ) is Flower's accountant's (``flwr.serverapp.RdpAccountant``, Rényi DP, which needs the
``dp-accounting`` package) under its assumptions: site-level add-or-remove-one neighbouring,
every site in every round (no amplification by sampling), the same ``noise_multiplier`` each
round. :func:`gaussian_rdp_epsilon` is the same bound in closed form (Mironov, "Rényi
Differential Privacy", IEEE CSF 2017, Proposition 3 and the Gaussian mechanism's RDP
``alpha / (2 sigma^2)``), used to check the accountant and when it is missing.

Not covered by the guarantee: the scaler's per-site counts and sums (sent without noise), the
sites' evaluation losses and example counts, and what the server sees before it adds noise
(central DP trusts the server).
"""

from __future__ import annotations

import math

from ..validation import check_int, check_number

__all__ = ["ASSUMPTIONS", "gaussian_rdp_epsilon", "site_influence", "flower_epsilon", "make_accountant"]

#: The assumptions behind the (ε, δ) that :func:`sadlib.federated.run_federated` reports.
ASSUMPTIONS = ("site-level DP: neighbouring federations differ by one site's data (add or remove one site); "
               "every site takes part in every round (no amplification by sampling); uniform FedAvg weights; "
               "each site's update clipped to dp_clip; Gaussian noise of std dp_noise * dp_clip / n_sites on the mean "
               "each round; the scaler's moments and the evaluation metrics are not covered")


def site_influence(clip: float, n_sites: int) -> float:
    """How far one site can move the uniform mean of the clipped updates (L2): its weight ``1 / n_sites`` x ``clip``."""
    clip = check_number("clip", clip, 0, low_open=True, hint="It is the L2 norm each site clips its update to.")
    n_sites = check_int("n_sites", n_sites, 1, hint="It is the number of sites averaged each round.")
    return clip / n_sites


def gaussian_rdp_epsilon(noise_multiplier: float, rounds: int, delta: float = 1e-5) -> float:
    """ε of ``rounds`` Gaussian releases with noise ``noise_multiplier`` x the sensitivity, at ``delta``.

    Each release is ``(alpha, alpha / (2 sigma^2))``-RDP for every order ``alpha > 1``; ``rounds``
    of them compose to ``rounds * alpha / (2 sigma^2)``; converted with
    ``eps = rdp + log(1 / delta) / (alpha - 1)`` (Mironov 2017, Prop. 3) and minimised over real
    ``alpha`` in closed form: ``eps = a + 2 sqrt(a b)`` with ``a = rounds / (2 sigma^2)`` and
    ``b = log(1 / delta)``. Flower's accountant takes the minimum over a grid of orders with a
    slightly tighter conversion, so its ε is at most this one.
    """
    sigma = check_number("noise_multiplier", noise_multiplier, 0, low_open=True,
                         hint="It is the noise std in units of one site's influence; 0 gives no guarantee.")
    rounds = check_int("rounds", rounds, 1)
    delta = check_number("delta", delta, 0, 1, low_open=True, high_open=True)
    a, b = rounds / (2 * sigma**2), math.log(1 / delta)
    return a + 2 * math.sqrt(a * b)


def flower_epsilon(noise_multiplier: float, rounds: int, n_sites: int, delta: float = 1e-5) -> float:
    """The ε of Flower's ``RdpAccountant`` for ``rounds`` releases under :data:`ASSUMPTIONS` (needs dp-accounting)."""
    accountant = make_accountant(n_sites, delta)
    from flwr.serverapp import GaussianPrivacyEvent

    accountant.compose(GaussianPrivacyEvent(noise_multiplier=float(noise_multiplier), sample_size=int(n_sites),
                                            population_size=int(n_sites)), count=int(rounds))
    return float(accountant.get_epsilon(delta))


def make_accountant(n_sites: int, delta: float = 1e-5):
    """Flower's RDP accountant for a federation of ``n_sites`` sites that all train every round."""
    n_sites = check_int("n_sites", n_sites, 1)
    delta = check_number("delta", delta, 0, 1, low_open=True, high_open=True)
    from flwr.serverapp import NeighboringRelation, PrivacyConfig, RdpAccountant, SamplingMethod

    try:
        return RdpAccountant(PrivacyConfig(target_delta=delta, population_size=n_sites,
                                           neighboring_relation=NeighboringRelation.ADD_OR_REMOVE_ONE,
                                           sampling_method=SamplingMethod.NO_AMPLIFICATION))
    except ImportError as err:
        raise ImportError("Flower's privacy accountant needs the dp-accounting package: "
                          "pip install dp-accounting (the 'federated' extra installs it).") from err
