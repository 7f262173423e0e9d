"""fusion.federated: federated training of the KG fusion network with Flower, optionally DP-SGD.

Each site (hospital) holds its own patients; the knowledge graph is public and shared; only model
weights and scalar metrics travel. :func:`shared_network` builds the network every site builds
(from the KG and the feature panel, never from data values), :func:`site_data` a site's locally
standardised patients, :class:`SiteClient` the site as a Flower client, :func:`make_strategy`
Flower's FedAvg or FedProx, :func:`simulate` the rounds in one process, :func:`serve` and
:func:`connect` the server and a site as separate processes over gRPC. :func:`tissue_source_sites`,
:func:`group_sites` and :func:`federated_split` make hospitals of TCGA tissue-source sites.
Names are imported lazily; Flower and Opacus come with ``pip install 'kgfusion[federated]'``.
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "FederatedSplit": "fusion.federated.sites",
    "federated_split": "fusion.federated.sites",
    "group_sites": "fusion.federated.sites",
    "tissue_source_sites": "fusion.federated.sites",
    "SharedNetwork": "fusion.federated.network",
    "SiteData": "fusion.federated.network",
    "get_weights": "fusion.federated.network",
    "set_weights": "fusion.federated.network",
    "shared_network": "fusion.federated.network",
    "site_data": "fusion.federated.network",
    "site_tensors": "fusion.federated.network",
    "Federation": "fusion.federated.federation",
    "tcga_federation": "fusion.federated.federation",
    "connect": "fusion.federated.deploy",
    "serve": "fusion.federated.deploy",
    "DPSettings": "fusion.federated.local",
    "dp_fit": "fusion.federated.local",
    "evaluate_site": "fusion.federated.local",
    "local_fit": "fusion.federated.local",
    "SiteClient": "fusion.federated.client",
    "FederatedHistory": "fusion.federated.simulation",
    "LoggedProxy": "fusion.federated.simulation",
    "MessageRecord": "fusion.federated.simulation",
    "make_strategy": "fusion.federated.simulation",
    "simulate": "fusion.federated.simulation",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
