"""Pictures of explanations: a PNG of the subgraph, an offline interactive HTML, top-term bars.

matplotlib and pyvis are imported when a picture is drawn, so importing :mod:`fusion` stays fast.
"""

from __future__ import annotations

import re
import textwrap
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from fusion._exceptions import InvalidParameterError

if TYPE_CHECKING:
    from fusion.explanations.explanation import Explanation

__all__ = ["RELATION_COLORS", "TYPE_COLORS", "plot_subgraph", "plot_top_terms", "write_html"]

#: Fill colour of each node type (others get grey).
TYPE_COLORS: dict[str, str] = {
    "gene": "#4C72B0",
    "go_term": "#55A868",
    "pathway": "#DD8452",
    "mirna": "#8172B3",
    "phenotype": "#C44E52",
    "disease": "#937860",
    "protein": "#64B5CD",
    "ontology_class": "#8C8C8C",
}
_OTHER = "#BBBBBB"
#: Colour of each relation's edges, the same in every figure (others: a colour fixed by the name).
RELATION_COLORS: dict[str, str] = {
    "is_a": "#7F7F7F",
    "part_of": "#1F77B4",
    "has_part": "#9EC1E0",
    "regulates": "#9467BD",
    "positively_regulates": "#2CA02C",
    "negatively_regulates": "#D62728",
    "member_of": "#FF7F0E",
    "participates_in": "#E6A13C",
    "involved_in": "#17BECF",
    "enables": "#BCBD22",
    "located_in": "#8C564B",
    "capable_of": "#C5B0D5",
    "has_phenotype": "#E377C2",
    "targets": "#393B79",
}
_SPARE_COLORS = ("#637939", "#8C6D31", "#843C39", "#7B4173", "#3182BD", "#E6550D", "#31A354")
_CONNECTOR_ALPHA = 0.45
#: pyvis' in-line template still links Bootstrap from a CDN; those tags are removed (unused).
_CDN_TAG = re.compile(r"<(link|script)\b[^>]*https?://[^>]*>(\s*</script>)?", re.IGNORECASE)


def _pyplot() -> Any:
    """matplotlib's pyplot on the non-interactive Agg backend (imported lazily: it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def relation_color(relation: str) -> str:
    """The fixed colour of a relation (:data:`RELATION_COLORS`, else one chosen by its name)."""
    if relation in RELATION_COLORS:
        return RELATION_COLORS[relation]
    return _SPARE_COLORS[zlib.crc32(relation.encode()) % len(_SPARE_COLORS)]


def _nonempty(graph: nx.MultiDiGraph, explanation: Explanation, k: int, max_len: int) -> None:
    """Refuse to draw an explanation subgraph with no node (nothing reached from the inputs)."""
    if len(graph):
        return
    unreached = graph.graph.get("unreached", [])
    msg = (
        f"nothing to draw for {explanation.patient!r}: none of its top {k} nodes is within "
        f"max_len={max_len} hops of an input feature ({len(unreached)} unreached)"
    )
    hops = explanation.hops_from_inputs(unreached)
    msg += f"; the nearest is {hops} hops away: raise max_len to {hops}." if hops else "."
    raise InvalidParameterError(msg)


def _label(data: Mapping[str, Any], node: str, width: int = 22) -> str:
    name = str(data.get("name") or node)
    return "\n".join(textwrap.wrap(name, width, max_lines=3, placeholder="…"))


def _sizes(graph: nx.MultiDiGraph, smallest: float, largest: float) -> np.ndarray:
    scores = np.array([abs(d["score"]) for _, d in graph.nodes(data=True)], dtype=float)
    top = scores.max() if len(scores) and scores.max() > 0 else 1.0
    return smallest + (largest - smallest) * scores / top


def _layered(graph: nx.MultiDiGraph) -> dict[str, np.ndarray]:
    """Inputs in the left column, every other node in the column of its hop distance from them."""
    undirected = nx.Graph(graph)
    inputs = [n for n, d in graph.nodes(data=True) if d.get("input")]
    depth = nx.multi_source_dijkstra_path_length(undirected, inputs) if inputs else {}
    far = max(depth.values(), default=0) + 1
    for node, data in graph.nodes(data=True):
        data["layer"] = depth.get(node, far)
    position = nx.multipartite_layout(graph, subset_key="layer", align="vertical", scale=1.0)
    return {n: np.asarray(p) for n, p in position.items()}


def plot_subgraph(
    explanation: Explanation,
    path: str | Path,
    k: int = 20,
    types: str | Iterable[str] | None = None,
    *,
    max_len: int = 3,
    layout: str = "layered",
    dpi: int = 150,
) -> Path:
    """Draw :meth:`Explanation.subgraph` to a PNG: colour = node type, size = score.

    Input feature nodes have a black outline, top-``k`` nodes a bold label; the nodes on the
    paths joining them to the inputs ("connecting nodes") are faded. Edges are coloured by
    relation, with one fixed colour per relation in every figure (:data:`RELATION_COLORS`); the
    legend lists node types, connecting nodes and relations. The title counts the top nodes
    drawn, the connecting nodes and the top nodes out of reach. Labels are node names (ids
    where a node has none).

    Parameters
    ----------
    explanation : Explanation
        What to draw.
    path : str or Path
        The PNG to write.
    k, types, max_len
        Arguments of :meth:`Explanation.subgraph`.
    layout : {"layered", "kamada_kawai", "spring"}
        ``"layered"`` puts the inputs in the left column and every other node in the column of
        its hop distance from them (default: ``"layered"``).
    dpi : int
        Resolution (default: ``150``).
    """
    plt = _pyplot()
    graph = explanation.subgraph(k, types, max_len=max_len)
    _nonempty(graph, explanation, k, max_len)
    pos = _positions(graph, layout)
    layers = pd.Series([d.get("layer", 0) for _, d in graph.nodes(data=True)])
    if layout == "layered":  # columns of nodes, labels to their right
        size = (3.6 * (layers.max() + 1) + 2.5, max(4.0, 0.6 * layers.value_counts().max() + 1.5))
    else:
        size = (max(8.0, 0.6 * len(graph) + 4), max(6.0, 0.45 * len(graph) + 2))
    fig, ax = plt.subplots(figsize=size)
    _draw(ax, graph, pos, labels_right=layout == "layered")
    present = sorted({str(d.get("type", "other")) for _, d in graph.nodes(data=True)})
    handles = [_marker(plt, TYPE_COLORS.get(t, _OTHER), t) for t in present]
    handles.append(_marker(plt, "white", "input feature", edge="black"))
    n_top = sum(bool(d.get("top")) for _, d in graph.nodes(data=True))
    n_inputs = sum(bool(d.get("input")) and not d.get("top") for _, d in graph.nodes(data=True))
    n_connecting = len(graph) - n_top - n_inputs
    if n_connecting:
        handles.append(
            _marker(plt, _OTHER, "connecting node (on a path to an input)", alpha=_CONNECTOR_ALPHA)
        )
    relations = sorted({key for _, _, key in graph.edges(keys=True)})
    handles += [plt.Line2D([], [], color=relation_color(r), label=r) for r in relations]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_title(_title(explanation, graph, types, n_top, n_inputs, n_connecting), fontsize=11)
    ax.margins(x=0.05, y=0.06)
    ax.axis("off")
    return _save(fig, plt, path, dpi)


def _title(
    explanation: Explanation,
    graph: nx.MultiDiGraph,
    types: str | Iterable[str] | None,
    n_top: int,
    n_inputs: int,
    n_connecting: int,
) -> str:
    """``p1: top 12 pathway nodes + 9 input features + 18 connecting nodes (ig), predicted AD``."""
    kinds = [types] if isinstance(types, str) else list(types or [])
    what = f"{'/'.join(kinds)} nodes" if kinds else "nodes"
    title = f"{explanation.patient}: top {n_top} {what}"
    if n_inputs:
        title += f" + {n_inputs} input feature{'s' if n_inputs != 1 else ''}"
    if n_connecting:
        title += f" + {n_connecting} connecting node{'s' if n_connecting != 1 else ''}"
    unreached = len(graph.graph.get("unreached", []))
    title += f" ({explanation.method})"
    if explanation.prediction is not None:
        title += f", predicted {explanation.prediction}"
    if unreached:
        title += (
            f"\n{unreached} more top node{'s' if unreached != 1 else ''} out of reach of the inputs"
        )
    return title


def _positions(graph: nx.MultiDiGraph, layout: str) -> dict[str, np.ndarray]:
    if layout == "layered":
        return _layered(graph)
    if layout == "kamada_kawai":
        return nx.kamada_kawai_layout(nx.Graph(graph))
    if layout == "spring":
        return nx.spring_layout(nx.Graph(graph), seed=0)
    msg = (
        "The 'layout' parameter of plot_subgraph must be 'layered', 'kamada_kawai' or 'spring'. "
        f"Got {layout!r} instead."
    )
    raise ValueError(msg)


def _draw(ax: Any, graph: nx.MultiDiGraph, pos: dict[str, np.ndarray], labels_right: bool) -> None:
    """Edges coloured by relation, nodes by type and sized by score, wrapped name labels.

    Top nodes are opaque with bold labels, connecting nodes faded. Edges between nodes of one
    column (same ``layer``) are drawn as arcs bulging left, so that they do not run through the
    nodes between their ends.
    """
    nodes = list(graph.nodes)
    sizes = _sizes(graph, 80, 700)
    layer = {n: graph.nodes[n].get("layer") for n in nodes}
    for relation in sorted({key for _, _, key in graph.edges(keys=True)}):
        edges = [(u, v) for u, v, key in graph.edges(keys=True) if key == relation and u != v]
        straight = [(u, v) for u, v in edges if not labels_right or layer[u] != layer[v]]
        arcs = [(u, v) for u, v in edges if labels_right and layer[u] == layer[v]]
        style = {"ax": ax, "edge_color": relation_color(relation), "arrowsize": 8, "width": 0.9,
                 "alpha": 0.8, "node_size": sizes, "nodelist": nodes, "arrows": True}  # fmt: skip
        if straight:
            nx.draw_networkx_edges(graph, pos, edgelist=straight, **style)
        for u, v in arcs:  # arc3 bulges by rad·(dy, -dx): negative rad·dy bulges left
            rad = -0.35 if pos[v][1] > pos[u][1] else 0.35
            nx.draw_networkx_edges(
                graph, pos, edgelist=[(u, v)], connectionstyle=f"arc3,rad={rad}", **style
            )
    top = [bool(graph.nodes[v].get("top")) or bool(graph.nodes[v].get("input")) for v in nodes]
    for opaque in (False, True):
        chosen = [i for i, t in enumerate(top) if t == opaque]
        if not chosen:
            continue
        nx.draw_networkx_nodes(
            graph, pos, ax=ax, nodelist=[nodes[i] for i in chosen], node_size=sizes[chosen],
            linewidths=1.4, alpha=0.95 if opaque else _CONNECTOR_ALPHA,
            node_color=[TYPE_COLORS.get(graph.nodes[nodes[i]].get("type"), _OTHER) for i in chosen],
            edgecolors=["black" if graph.nodes[nodes[i]].get("input") else "white" for i in chosen],
        )  # fmt: skip
    offset, align = ((10, 0), "left") if labels_right else ((0, -12), "center")
    for node, (x, y) in pos.items():
        data = graph.nodes[node]
        ax.annotate(
            _label(data, node), (x, y), xytext=offset, textcoords="offset points", ha=align,
            va="center" if labels_right else "top", fontsize=7,
            fontweight="bold" if data.get("top") else "normal",
            color="black" if data.get("top") or data.get("input") else "#555555",
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
        )  # fmt: skip


def _marker(plt: Any, color: str, label: str, edge: str = "none", alpha: float = 1.0) -> Any:
    return plt.Line2D(
        [], [], marker="o", ls="", mfc=color, mec=edge, label=label, markersize=8, alpha=alpha
    )


def _save(fig: Any, plt: Any, path: str | Path, dpi: int) -> Path:
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_top_terms(
    aggregated: Mapping[str, Explanation],
    path: str | Path,
    k: int = 10,
    type: str | Iterable[str] | None = None,
    namespace: str | Iterable[str] | None = None,
    *,
    dpi: int = 150,
) -> Path:
    """Horizontal bars of the top-``k`` nodes of each explanation (e.g. one per class).

    Parameters
    ----------
    aggregated : mapping of str to Explanation
        Panel title → explanation, e.g. the result of :meth:`Explanation.aggregate`.
    path : str or Path
        The PNG to write.
    k, type, namespace
        Arguments of :meth:`Explanation.top`.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(aggregated), figsize=(5.5 * len(aggregated), 0.35 * k + 1.5), squeeze=False
    )
    for ax, (group, explanation) in zip(axes[0], aggregated.items()):
        table = explanation.top(k, type, namespace).iloc[::-1]
        labels = [
            textwrap.shorten(str(name or i), 45, placeholder="…")
            for i, name in zip(table["id"], table["name"])
        ]
        colors = [TYPE_COLORS.get(t, _OTHER) for t in table["type"]]
        ax.barh(labels, table["score"], color=colors)
        ax.set_title(f"{group} (n={explanation.n_patients})", fontsize=10)
        ax.set_xlabel(f"mean {explanation.method} score")
        ax.tick_params(axis="y", labelsize=7)
    return _save(fig, plt, path, dpi)


def write_html(
    explanation: Explanation,
    path: str | Path,
    k: int = 20,
    types: str | Iterable[str] | None = None,
    *,
    max_len: int = 3,
) -> Path:
    """Write :meth:`Explanation.subgraph` as a self-contained interactive HTML page (pyvis).

    vis-network is inlined: the page opens offline. Hovering a node shows its id, type and score.
    """
    from pyvis.network import Network

    graph = explanation.subgraph(k, types, max_len=max_len)
    _nonempty(graph, explanation, k, max_len)
    net = Network(height="800px", width="100%", directed=True, cdn_resources="in_line")
    sizes = _sizes(graph, 10, 40)
    for (node, data), size in zip(graph.nodes(data=True), sizes):
        title = f"{node}\n{data.get('type')}\nscore {data['score']:.4g}" + (
            "\ninput feature" if data.get("input") else ""
        )
        net.add_node(
            node,
            label=str(data.get("name") or node),
            title=title,
            size=float(size),
            color=TYPE_COLORS.get(data.get("type"), _OTHER),
            borderWidth=3 if data.get("input") else 1,
        )
    for u, v, key in graph.edges(keys=True):
        net.add_edge(u, v, title=key, label=key, font={"size": 8}, color=relation_color(key))
    html = _CDN_TAG.sub("", net.generate_html())
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path
