"""A knowledge-primed sparse hierarchy network (P-NET / BINN style) over a :class:`RelationGraph`.

For genome-wide sparse data (somatic mutations and copy number over ~20,000 genes) the graph
*is* the network (P-NET, Elmarakeby et al., Nature 2021; BINN): every linked gene gets hidden
units from its own linked features of every modality (the *gene layer*), then sparse layers
follow the knowledge graph upward, gene → the terms it is annotated to → their parent terms,
one *level* per step: each hidden unit is one KG node and a connection exists only where the KG
has an edge. Every level has its own output head (deep supervision); the graph branch's logits
are their mean. :class:`HierarchyNet` reuses :class:`~gnn.KGFusionNet`'s per-modality heads,
source fusion and objective, and its interface (``forward(values, observed, present)``,
``objective``, ``readout_ids``), so estimators, checkpoints and attributions use it unchanged.
:func:`random_masks` gives the "random sparse masks" control: every level's connections
redrawn at random, with the same number of edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from gnn._exceptions import InvalidGraphError, InvalidParameterError
from gnn.masked_linear import MaskedLinear
from gnn.model import FusionNetConfig, Inputs, KGFusionNet, Loss
from gnn.readout import NodeScoreReadout
from gnn.relation_graph import RelationGraph

__all__ = [
    "HierarchyConfig",
    "HierarchyLevel",
    "HierarchyNet",
    "HierarchyReadout",
    "hierarchy_levels",
    "random_masks",
]


@dataclass(frozen=True)
class HierarchyConfig(FusionNetConfig):
    """Hyper-parameters of :class:`HierarchyNet`: those of :class:`~gnn.FusionNetConfig`, read
    for the hierarchy, plus the masks.

    Parameters
    ----------
    hidden : int
        Hidden units per KG node, gene and term alike (default: ``1``, as P-NET).
    layers : int
        Levels above the gene layer, the hierarchy's ``depth`` (default: ``3``).
    masks : {"kg", "random"}
        Connections of each level: the KG's edges, or as many random ones
        (:func:`random_masks`, the control) (default: ``"kg"``).
    mask_seed : int
        Seed of the random masks (default: ``0``).

    The other fields (``dropout`` on every level's input, ``input_dropout``, ``direct``,
    ``encoder``, ``embedding``, ``use_graph``, ``aux_weight``) mean what they mean for
    :class:`~gnn.KGFusionNet`; ``aux_weight`` also weighs the levels' own losses.

    Examples
    --------
    >>> config = HierarchyConfig(layers=2, masks="random")
    >>> config.hidden, config.to_dict()["masks"]
    (1, 'random')
    >>> HierarchyConfig(layers=0)
    Traceback (most recent call last):
    ...
    gnn._exceptions.InvalidParameterError: HierarchyConfig: layers (the depth) must be >= 1; got 0.
    """

    hidden: int = 1
    layers: int = 3
    masks: Literal["kg", "random"] = "kg"
    mask_seed: int = 0

    def __post_init__(self) -> None:
        if self.layers < 1:
            msg = f"HierarchyConfig: layers (the depth) must be >= 1; got {self.layers}."
            raise InvalidParameterError(msg)
        if self.hidden < 1:
            msg = f"HierarchyConfig: hidden (units per node) must be >= 1; got {self.hidden}."
            raise InvalidParameterError(msg)
        if self.masks not in ("kg", "random"):
            msg = f"HierarchyConfig: masks must be 'kg' or 'random'; got {self.masks!r}."
            raise InvalidParameterError(msg)


@dataclass(frozen=True)
class HierarchyLevel:
    """One level of the hierarchy: its units' nodes and its connections from the level below.

    Attributes
    ----------
    nodes : Tensor
        ``(N_l,)`` graph positions of the level's units, sorted.
    edges : Tensor
        ``(2, E_l)`` connections ``(unit of the level below, unit of this level)``, as
        positions in the two levels' :attr:`nodes`; ``(2, 0)`` for the gene layer.
    """

    nodes: Tensor
    edges: Tensor


def hierarchy_levels(graph: RelationGraph, inputs: Tensor, depth: int) -> list[HierarchyLevel]:
    """The levels of the hierarchy above the ``inputs`` nodes (level 0), up to ``depth``.

    A node's level is its shortest distance from an input node along the graph's base
    (forward: gene → term, child → parent) edges; level ``l`` is connected to level ``l - 1``
    by every edge between the two (edges in both directions of one pair count once). Edges into
    input nodes and edges that do not climb one level (a term also annotated directly with a
    gene of its child term) are not connections. Levels stop early when one is empty.

    Raises
    ------
    InvalidGraphError
        If no edge leaves the input nodes (no level above the genes).

    Examples
    --------
    Four genes, two pathways (genes 0, 1 → P4; genes 2, 3 → P5), one root above them:

    >>> edges = torch.tensor([[0, 1, 2, 3, 4, 5], [4, 4, 5, 5, 6, 6]])
    >>> graph = RelationGraph(list("abcdPQR"), ["gene"] * 4 + ["pathway"] * 3, ["r"], [edges])
    >>> levels = hierarchy_levels(graph, torch.arange(4), depth=3)
    >>> [level.nodes.tolist() for level in levels]
    [[0, 1, 2, 3], [4, 5], [6]]
    >>> levels[1].edges.tolist()
    [[0, 1, 2, 3], [0, 0, 1, 1]]
    """
    n = graph.num_nodes
    parts = [e.to(torch.long) for e in graph.edges]
    src, dst = torch.cat(parts, dim=1) if parts else torch.zeros(2, 0, dtype=torch.long)
    level = torch.full((n,), -1, dtype=torch.long)
    nodes = torch.unique(inputs.to(torch.long))
    level[nodes] = 0
    levels = [HierarchyLevel(nodes, torch.zeros(2, 0, dtype=torch.long))]
    for step in range(1, depth + 1):
        climbs = (level[src] == step - 1) & (level[dst] == -1)
        pairs = torch.unique(torch.stack([src[climbs], dst[climbs]]), dim=1).contiguous()
        above = torch.unique(pairs[1])
        if not len(above):
            break
        level[above] = step
        below = levels[-1].nodes
        compact = torch.stack(
            [torch.searchsorted(below, pairs[0]), torch.searchsorted(above, pairs[1])]
        )
        levels.append(HierarchyLevel(above, compact))
    if len(levels) == 1:
        msg = (
            f"hierarchy_levels: no edge of the graph ({n} nodes, relations "
            f"{graph.base_relations}) leaves the {len(nodes)} input nodes, so there is no level "
            "above the genes; link features to nodes with annotation edges."
        )
        raise InvalidGraphError(msg)
    return levels


def random_masks(levels: Sequence[HierarchyLevel], seed: int = 0) -> list[HierarchyLevel]:
    """The same levels with each level's connections replaced by as many random ones.

    Level ``l`` keeps its units and its number of connections ``E_l``; they are drawn
    uniformly without replacement among the ``N_{l-1} N_l`` possible pairs (deterministic
    under ``seed``): the "random sparse masks" control of equal sparsity.

    Examples
    --------
    >>> edges = torch.tensor([[0, 1, 2, 3, 4, 5], [4, 4, 5, 5, 6, 6]])
    >>> graph = RelationGraph(list("abcdPQR"), ["gene"] * 4 + ["pathway"] * 3, ["r"], [edges])
    >>> levels = hierarchy_levels(graph, torch.arange(4), depth=2)
    >>> shuffled = random_masks(levels, seed=1)
    >>> [lv.edges.shape[1] for lv in shuffled] == [lv.edges.shape[1] for lv in levels]
    True
    """
    rng = np.random.default_rng(seed)
    out = [levels[0]]
    for below, level in pairwise(levels):
        n_below, n_level = len(below.nodes), len(level.nodes)
        keys = np.sort(rng.choice(n_below * n_level, size=level.edges.shape[1], replace=False))
        edges = torch.from_numpy(np.stack([keys % n_below, keys // n_below]).astype(np.int64))
        out.append(HierarchyLevel(level.nodes, edges))
    return out


class HierarchyReadout(NodeScoreReadout):
    """:class:`~gnn.NodeScoreReadout` over the hierarchy's units with one head per level.

    Level ``l``'s head is the linear model over its own units' scores ``z_l``; the readout's
    output is the mean of the level heads, so a node's contribution stays exact
    (:meth:`~gnn.NodeScoreReadout.contributions`).

    .. math::
        \\mathbf{y}^{(l)}_b = D \\, \\mathbf{W}_{:, l} \\mathbf{z}_{b, l} + \\mathbf{c}, \\qquad
        \\mathbf{y}_b = \\frac{1}{D} \\sum_l \\mathbf{y}^{(l)}_b

    Args:
        channels (int): Units per node ``C``.
        nodes (Tensor): Positions of the ``K`` readout nodes.
        level (Tensor): ``(K,)`` level (``0 .. D - 1``) of each readout node.
        out_channels (int): Output logits ``O``.
        dropout (float): Dropout on the scores (default: ``0.0``).

    Shapes:
        - **input:** node states ``(N, B, C)``
        - **output:** logits ``(B, O)`` and standardised scores ``(B, K)``;
          :meth:`level_logits` ``(B, D, O)``

    Examples
    --------
    >>> readout = HierarchyReadout(1, torch.tensor([1, 2, 3]), torch.tensor([0, 0, 1]), 2).eval()
    >>> logits, z = readout(torch.randn(4, 5, 1))
    >>> torch.allclose(readout.level_logits(z).mean(dim=1), logits, atol=1e-6)
    True
    """

    def __init__(
        self, channels: int, nodes: Tensor, level: Tensor, out_channels: int, dropout: float = 0.0
    ) -> None:
        super().__init__(channels, nodes, out_channels, dropout)
        self.register_buffer("level", level.to(torch.long), persistent=False)
        self.num_levels = int(level.max()) + 1

    def level_logits(self, z: Tensor) -> Tensor:
        """``(B, D, O)`` each level head's logits from the standardised scores ``z`` ``(B, K)``."""
        share = z[:, :, None] * self.linear.weight.T[None]  # (B, K, O)
        per_level = share.new_zeros(z.shape[0], self.num_levels, share.shape[2])
        per_level = per_level.index_add(1, self.level, share)
        return self.num_levels * per_level + self.linear.bias


class HierarchyNet(KGFusionNet):
    """Sparse hierarchy network over the knowledge graph, fused with per-modality heads.

    The gene layer gives every linked node ``g`` (a gene) ``C`` units from its mean linked
    value ``v_{g,b,m}`` of each modality ``m`` (zero where unobserved or the modality is
    absent, so an absent modality contributes nothing); level ``l``'s unit of node ``n``
    combines the units of its KG neighbours one level below (:func:`hierarchy_levels`):

    .. math::
        \\mathbf{h}_{g,b} = \\tanh\\big(\\textstyle\\sum_m v_{g,b,m} \\mathbf{w}_{g,m}
            + \\mathbf{a}_g\\big), \\qquad
        \\mathbf{h}_{n,b} = \\tanh\\big(\\textstyle\\sum_{u \\to n} \\mathbf{W}_{u \\to n}^\\top
            \\mathbf{h}_{u,b} + \\mathbf{a}_n\\big)

    Every level's units are read out by their own head (:class:`HierarchyReadout`; the graph
    branch's logits are the heads' mean) and :meth:`objective` adds each level's own loss
    (P-NET's deep supervision). Heads, fusion and the other sources' losses are
    :class:`~gnn.KGFusionNet`'s.

    Args:
        graph (RelationGraph): The (pruned) knowledge graph.
        feature_nodes (Mapping[str, Tensor]): Per modality, the node index of each feature
            (``-1`` for unlinked features); its keys fix the modality order.
        out_channels (int): Classes, or ``1`` for a Cox survival head.
        config (HierarchyConfig): Hyper-parameters (default: ``HierarchyConfig()``).

    Shapes:
        - **input:** ``values`` and ``observed`` per modality ``(B, F_m)``, ``present`` ``(B, M)``
        - **output:** logits or log-risk ``(B, out_channels)``

    Examples
    --------
    Four genes with a mutation and a CNV value each, two pathways, one root:

    >>> edges = torch.tensor([[0, 1, 2, 3, 4, 5], [4, 4, 5, 5, 6, 6]])
    >>> graph = RelationGraph(list("abcdPQR"), ["gene"] * 4 + ["pathway"] * 3, ["r"], [edges])
    >>> genes = torch.arange(4)
    >>> net = HierarchyNet(graph, {"mutation": genes, "cnv": genes}, out_channels=2)
    >>> values = {"mutation": torch.randn(8, 4), "cnv": torch.randn(8, 4)}
    >>> net(values).shape, net.readout_ids, net.num_sources
    (torch.Size([8, 2]), ['P', 'Q', 'R'], 3)
    """

    config: HierarchyConfig

    def __init__(
        self,
        graph: RelationGraph,
        feature_nodes: Mapping[str, Tensor],
        out_channels: int,
        config: HierarchyConfig | None = None,
    ) -> None:
        if config is not None and not isinstance(config, HierarchyConfig):
            msg = f"HierarchyNet needs a gnn.HierarchyConfig; got a {type(config).__name__}."
            raise InvalidParameterError(msg)
        super().__init__(graph, feature_nodes, out_channels, config or HierarchyConfig())

    def _build_graph_branch(self, feature_nodes: Mapping[str, Tensor], out_channels: int) -> None:
        """Levels (masks), gene-layer and level weights, the per-level readout."""
        config, c = self.config, self.config.hidden
        linked = torch.zeros(self.graph.num_nodes, dtype=torch.bool)
        for nodes in feature_nodes.values():
            linked[nodes[nodes >= 0]] = True
        levels = hierarchy_levels(self.graph, torch.nonzero(linked).squeeze(1), config.layers)
        if config.masks == "random":
            levels = random_masks(levels, config.mask_seed)
        self.num_levels = len(levels) - 1
        for i, level in enumerate(levels):
            self.register_buffer(f"level_nodes_{i}", level.nodes, persistent=False)
            self.register_buffer(f"level_edges_{i}", level.edges, persistent=False)
        genes = len(levels[0].nodes)
        self.gene_weight = nn.Parameter(torch.empty(genes, len(self.modalities), c))
        self.gene_bias = nn.Parameter(torch.empty(genes, c))
        self.level_layers = nn.ModuleList(
            MaskedLinear(len(below.nodes), len(level.nodes), level.edges, c)
            for below, level in pairwise(levels)
        )
        self.level_dropout = nn.Dropout(config.dropout)
        readout_nodes = torch.cat([lv.nodes for lv in levels[1:]])
        depth = torch.cat([torch.full((len(lv.nodes),), i) for i, lv in enumerate(levels[1:])])
        self.readout = HierarchyReadout(c, readout_nodes, depth, out_channels, config.dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform ``±1/sqrt(fan_in)`` weights and biases, as :class:`torch.nn.Linear`."""
        bound = 1.0 / np.sqrt(len(self.modalities))
        nn.init.uniform_(self.gene_weight, -bound, bound)
        nn.init.uniform_(self.gene_bias, -bound, bound)
        for layer in self.level_layers:
            layer.reset_parameters()

    def connections(self) -> Tensor:
        """``(2, E)`` graph positions ``(unit below, unit above)`` of every level's connections:
        the KG edges the network follows, or the random masks' under ``masks="random"`` (a
        :class:`~gnn.NoGraphBranchError` without graph branch).

        Examples
        --------
        >>> edges = torch.tensor([[0, 1, 2, 3, 4, 5], [4, 4, 5, 5, 6, 6]])
        >>> graph = RelationGraph(list("abcdPQR"), ["gene"] * 4 + ["pathway"] * 3, ["r"], [edges])
        >>> HierarchyNet(graph, {"mutation": torch.arange(4)}, 2).connections().tolist()
        [[0, 1, 2, 3, 4, 5], [4, 4, 5, 5, 6, 6]]
        """
        self.require_graph("connections")
        nodes = [getattr(self, f"level_nodes_{i}") for i in range(self.num_levels + 1)]
        edges = [getattr(self, f"level_edges_{i}") for i in range(1, self.num_levels + 1)]
        pairs = [torch.stack([nodes[i][e[0]], nodes[i + 1][e[1]]]) for i, e in enumerate(edges)]
        return torch.cat(pairs, dim=1)

    def complete_inputs(
        self, values: Inputs, observed: Inputs | None = None, present: Tensor | None = None
    ) -> tuple[Inputs, Tensor]:
        """As :meth:`KGFusionNet.complete_inputs`, with an absent modality's values unobserved
        (so that it contributes nothing to any unit)."""
        observed, present = super().complete_inputs(values, observed, present)
        masked = {m: observed[m] & present[:, i, None] for i, m in enumerate(self.modalities)}
        return masked, present

    def propagate(self, values: Inputs, observed: Inputs | None = None) -> list[Tensor]:
        """Node states ``(N, B, C)``: the gene layer's units, then with each level's units
        added (nodes above the last level, and unreachable ones, stay zero).

        Raises:
            NoGraphBranchError: If the model has no graph branch (``use_graph=False``).
        """
        self.require_graph("propagate")
        observed, _ = self.complete_inputs(values, observed, None)
        genes = self.level_nodes_0
        v = self.node_input.channels(values, observed).value[genes]  # (G, B, M)
        h = torch.tanh(torch.einsum("gbm,gmc->gbc", v, self.gene_weight) + self.gene_bias[:, None])
        state = h.new_zeros(self.graph.num_nodes, h.shape[1], h.shape[2]).index_put((genes,), h)
        states = [state]
        for i, layer in enumerate(self.level_layers, start=1):
            h = torch.tanh(layer(self.level_dropout(h)))
            state = state.index_put((getattr(self, f"level_nodes_{i}"),), h)
            states.append(state)
        return states

    def objective(
        self,
        values: Inputs,
        observed: Inputs | None,
        present: Tensor | None,
        target: Tensor,
        loss_fn: Loss,
    ) -> Tensor:
        """:meth:`KGFusionNet.objective` plus ``aux_weight`` times the mean of each level
        head's own loss (over the patients with any modality)."""
        logits, available, scores = self.sources(values, observed, present)
        loss = self.source_loss(logits, available, target, loss_fn)
        if scores is None or self.config.aux_weight == 0:
            return loss
        graph = available[:, 0]
        if int(graph.sum()) < 2:
            return loss
        per_level = self.readout.level_logits(scores[graph])
        own = [loss_fn(per_level[:, lv], target[graph]) for lv in range(self.num_levels)]
        return loss + self.config.aux_weight * torch.stack(own).mean()

    def __repr__(self) -> str:
        levels = getattr(self, "num_levels", -1) + 1  # none without a graph branch
        sizes = [len(getattr(self, f"level_nodes_{i}")) for i in range(levels)]
        return f"{super().__repr__()[:-1]}, level_units={sizes})"
