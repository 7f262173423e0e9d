"""Weights of one :class:`~gnn.KGFusionNet` loaded into another built on a different panel.

What each weight of the network is tied to decides how it transfers:

* the input projection ``input`` ``(C, 2 M)``: two columns per modality (its value and its
  presence channel), shared by every node: matched by a *channel name* per modality (the
  modality kind, e.g. ``mRNA``), never by feature;
* the node-type embedding ``type_embedding`` ``(T, C)``: one row per node type, by type name;
* each propagation layer: ``root`` shared by every node, ``weight`` ``(R, C, C)`` one matrix per
  relation, by relation name;
* the readout (:class:`~gnn.NodeScoreReadout`): ``score`` shared, the score standardisation and
  the linear model's columns one per readout node, by KG node id, and its rows one per class;
* the per-modality heads: one weight per *feature*; they cannot transfer across panels.

The encoder holds no per-node weight: what it learns about the graph lives in the relation
matrices, which is why an encoder pre-trained on one panel applies to another whose features
land on the same graph. :func:`load_encoder` copies the encoder, :func:`load_readout` the
readout (the zero-shot transfer of a trained classifier to another panel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from gnn._exceptions import InvalidParameterError
from gnn.model import KGFusionNet

__all__ = ["EncoderLayout", "TransferReport", "freeze_encoder", "load_encoder", "load_readout"]


@dataclass(frozen=True)
class EncoderLayout:
    """What the rows and columns of an encoder's weights stand for.

    Parameters
    ----------
    channels : tuple of str
        One name per input modality, in the network's modality order (e.g. the kinds).
    node_types : tuple of str
        The node types, in the order of the type embedding's rows (sorted).
    relations : tuple of str
        The relations, in the order of the layers' relation matrices.
    hidden : int
        Channels per node.
    layers : int
        Propagation layers.

    Examples
    --------
    >>> from gnn import RelationGraph
    >>> graph = RelationGraph(["g", "T"], ["gene", "go_term"], ["r"], [torch.tensor([[0], [1]])])
    >>> net = KGFusionNet(graph, {"rna": torch.tensor([0])}, 2)
    >>> EncoderLayout.of(net, ["mRNA"]).relations
    ('r', 'rev_r')
    """

    channels: tuple[str, ...]
    node_types: tuple[str, ...]
    relations: tuple[str, ...]
    hidden: int
    layers: int

    @classmethod
    def of(cls, net: KGFusionNet, channels: Sequence[str]) -> EncoderLayout:
        """The layout of ``net``, its modalities named ``channels``."""
        if len(channels) != len(net.modalities):
            msg = f"EncoderLayout.of: {len(channels)} channel names for {len(net.modalities)} modalities {net.modalities}."
            raise InvalidParameterError(msg)
        return cls(
            tuple(channels),
            tuple(sorted(set(net.graph.node_types))),
            tuple(net.graph.relations),
            net.config.hidden,
            net.config.layers,
        )


@dataclass(frozen=True)
class TransferReport:
    """What :func:`load_encoder` matched: per kind of row, the names loaded and those left new."""

    loaded: dict[str, list[str]] = field(default_factory=dict)
    new: dict[str, list[str]] = field(default_factory=dict)


def _positions(source: Sequence[str], target: Sequence[str]) -> list[tuple[int, int]]:
    """``(target position, source position)`` of every target name found in ``source``."""
    where = {name: i for i, name in enumerate(source)}
    return [(j, where[name]) for j, name in enumerate(target) if name in where]


def load_encoder(
    net: KGFusionNet,
    state: dict[str, Tensor],
    source: EncoderLayout,
    channels: Sequence[str],
    *,
    unmatched: Literal["keep", "zero"] = "keep",
) -> TransferReport:
    """Copy an encoder's weights ``state`` (laid out as ``source``) into ``net`` in place.

    Input columns are matched by channel name (``channels``: one per modality of ``net``),
    type-embedding rows by node type, relation matrices by relation name; the shared weights
    (the input bias, each layer's root) are copied whole.

    Args:
        net (KGFusionNet): The network to load into (with a graph branch).
        state (dict): Encoder weights under :class:`~gnn.KGFusionNet`'s names.
        source (EncoderLayout): What ``state``'s rows and columns stand for.
        channels (Sequence[str]): The channel name of each of ``net``'s modalities.
        unmatched ({"keep", "zero"}): Rows and columns with no match in ``source`` keep their
            initial values (fine-tuning) or are zeroed, so that they add nothing (zero-shot
            use) (default: ``"keep"``).

    Returns:
        TransferReport: The channels, node types and relations loaded and those left new.

    Raises:
        InvalidParameterError: If ``hidden`` or ``layers`` differ from ``source``'s.
    """
    net.require_graph("load_encoder")
    target = EncoderLayout.of(net, channels)
    if (target.hidden, target.layers) != (source.hidden, source.layers):
        msg = (
            f"load_encoder: the encoder has hidden={source.hidden}, layers={source.layers}; the "
            f"network has hidden={target.hidden}, layers={target.layers}: build it with the "
            "encoder's hidden and layers."
        )
        raise InvalidParameterError(msg)
    groups = {
        "channels": (source.channels, target.channels),
        "node_types": (source.node_types, target.node_types),
        "relations": (source.relations, target.relations),
    }
    pairs = {key: _positions(*names) for key, names in groups.items()}
    with torch.no_grad():
        if unmatched == "zero":
            net.input.weight.zero_()
            net.type_embedding.weight.zero_()
        for j, i in pairs["channels"]:
            net.input.weight[:, 2 * j : 2 * j + 2] = state["input.weight"][:, 2 * i : 2 * i + 2]
        net.input.bias.copy_(state["input.bias"])
        for j, i in pairs["node_types"]:
            net.type_embedding.weight[j] = state["type_embedding.weight"][i]
        for k, layer in enumerate(net.layers):
            layer.root.weight.copy_(state[f"layers.{k}.root.weight"])
            layer.root.bias.copy_(state[f"layers.{k}.root.bias"])
            if unmatched == "zero":
                layer.weight.zero_()
            for j, i in pairs["relations"]:
                layer.weight[j] = state[f"layers.{k}.weight"][i]
    loaded = {key: [groups[key][1][j] for j, _ in p] for key, p in pairs.items()}
    new = {key: [n for n in groups[key][1] if n not in loaded[key]] for key in groups}
    return TransferReport(loaded, new)


def freeze_encoder(net: KGFusionNet) -> int:
    """Stop gradients to ``net``'s encoder (input projection, type embedding, propagation);
    returns the number of frozen parameters. Optimisers skip parameters without gradients."""
    frozen = 0
    for name, parameter in net.named_parameters():
        if name.split(".", 1)[0] in ("input", "type_embedding", "layers"):
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    return frozen


def load_readout(
    net: KGFusionNet, source: KGFusionNet, node_ids: Sequence[str] | None = None
) -> int:
    """Copy ``source``'s readout into ``net``'s, readout nodes matched by KG node id.

    A readout node of ``net`` that ``source`` does not read out gets a zero column (it adds
    nothing to the logits) and the identity standardisation; the classes (rows) must be the
    same, in the same order. ``node_ids`` are the ids of ``source``'s graph (default: its
    own). Returns the number of readout nodes matched.

    Raises:
        InvalidParameterError: If the two readouts have different numbers of outputs or
            channels.
    """
    net.require_graph("load_readout")
    mine, theirs = net.readout, source.readout
    if mine.linear.out_features != theirs.linear.out_features or (
        mine.score.in_features != theirs.score.in_features
    ):
        msg = (
            f"load_readout: the source reads out {theirs.linear.out_features} outputs from "
            f"{theirs.score.in_features} channels; the network {mine.linear.out_features} from "
            f"{mine.score.in_features}."
        )
        raise InvalidParameterError(msg)
    ids = list(node_ids) if node_ids is not None else source.graph.node_ids
    pairs = _positions([ids[i] for i in theirs.nodes.tolist()], net.readout_ids)
    with torch.no_grad():
        mine.score.load_state_dict(theirs.score.state_dict())
        mine.linear.bias.copy_(theirs.linear.bias)
        mine.linear.weight.zero_()
        mine.norm.reset_running_stats()
        for j, i in pairs:
            mine.linear.weight[:, j] = theirs.linear.weight[:, i]
            mine.norm.running_mean[j] = theirs.norm.running_mean[i]
            mine.norm.running_var[j] = theirs.norm.running_var[i]
    return len(pairs)
