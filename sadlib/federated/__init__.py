"""Federated anomaly detection across compressor sites with Flower (notebook 11).

Sites that cannot pool their data train one autoencoder together: each trains on its own
normal history and sends only weights (or compressed weight updates); the server averages
them. Thresholds stay local: every site calibrates its alarms on its own validation days.

Modules: :mod:`~sadlib.federated.sites` (the non-IID compressor sites),
:mod:`~sadlib.federated.model` (the dense autoencoder, the shared scaler, FedProx),
:mod:`~sadlib.federated.codecs` (8-bit and top-k update compression, checks),
:mod:`~sadlib.federated.apps` (Flower ClientApp, ServerApp, the guarded strategy),
:mod:`~sadlib.federated.privacy` (what central DP guarantees: one site's influence, (ε, δ)) and
:mod:`~sadlib.federated.run` (simulation runs, baselines, per-site evaluation).
Needs the ``federated`` extra: ``pip install -c requirements/lab.lock.txt -e ".[federated]"``.
"""

try:
    import flwr  # noqa: F401
except ImportError as err:  # pragma: no cover - make test installs the extra
    from .._extras import install_hint

    raise ImportError(f"sadlib.federated needs Flower (flwr[simulation]), which comes with the federated extra: "
                      f"{install_hint('federated')}.") from err

from .codecs import COMPRESSIONS, MalformedUpdate, decode_update, encode_update, record_bytes
from .run import (
    FederatedModel,
    InProcessGrid,
    evaluate_sites,
    run_federated,
    scoring_labels,
    train_centralised,
    train_local,
)
from .sites import Site, make_site, make_sites, site_table

__all__ = ["COMPRESSIONS", "MalformedUpdate", "decode_update", "encode_update", "record_bytes", "FederatedModel",
           "InProcessGrid", "evaluate_sites", "run_federated", "scoring_labels", "train_centralised",
           "train_local", "Site", "make_site", "make_sites", "site_table"]
