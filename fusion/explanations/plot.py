"""Pictures of explanations: a PNG of the subgraph, an offline interactive HTML, top-term bars.

matplotlib and pyvis are imported when a picture is drawn, so importing :mod:`fusion` stays fast.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from fusion.explanations.explanation import Explanation

__all__ = ["TYPE_COLORS", "plot_subgraph", "plot_top_terms", "write_html"]

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
_EDGE_COLORS = ("#7F7F7F", "#1F77B4", "#D62728", "#2CA02C", "#9467BD", "#FF7F0E", "#17BECF")
#: pyvis' in-line template still links Bootstrap from a CDN; those tags are removed (unused).
_CDN_TAG = re.compile(r"<(link|script)\b[^>]*https?://[^>]*>(\s*</script>)?", re.IGNORECASE)


def _pyplot() -> Any:
    """matplotlib's pyplot on the non-interactive Agg backend (imported lazily: it is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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

    Input feature nodes have a black outline, top-``k`` nodes a bold label; edges are coloured
    by relation (see the legend). Labels are node names (ids where a node has none).

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
    relations = sorted({key for _, _, key in graph.edges(keys=True)})
    handles += [
        plt.Line2D([], [], color=_EDGE_COLORS[i % len(_EDGE_COLORS)], label=r)
        for i, r in enumerate(relations)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    title = f"{explanation.patient}: top {k} nodes ({explanation.method})"
    if explanation.prediction is not None:
        title += f", predicted {explanation.prediction}"
    ax.set_title(title, fontsize=11)
    ax.margins(x=0.05, y=0.06)
    ax.axis("off")
    return _save(fig, plt, path, dpi)


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
    """Edges coloured by relation, nodes by type and sized by score, wrapped name labels."""
    nodes = list(graph.nodes)
    sizes = _sizes(graph, 80, 700)
    relations = sorted({key for _, _, key in graph.edges(keys=True)})
    for i, relation in enumerate(relations):
        edges = [(u, v) for u, v, key in graph.edges(keys=True) if key == relation]
        color = _EDGE_COLORS[i % len(_EDGE_COLORS)]
        nx.draw_networkx_edges(
            graph, pos, edgelist=edges, ax=ax, edge_color=color, arrowsize=8, node_size=sizes,
            width=0.9, alpha=0.8, nodelist=nodes,
        )  # fmt: skip
    nx.draw_networkx_nodes(
        graph, pos, ax=ax, nodelist=nodes, node_size=sizes, linewidths=1.4, alpha=0.95,
        node_color=[TYPE_COLORS.get(graph.nodes[v].get("type"), _OTHER) for v in nodes],
        edgecolors=["black" if graph.nodes[v].get("input") else "white" for v in nodes],
    )  # fmt: skip
    offset, align = ((10, 0), "left") if labels_right else ((0, -12), "center")
    for node, (x, y) in pos.items():
        data = graph.nodes[node]
        ax.annotate(
            _label(data, node), (x, y), xytext=offset, textcoords="offset points", ha=align,
            va="center" if labels_right else "top", fontsize=7,
            fontweight="bold" if data.get("top") else "normal",
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
        )  # fmt: skip


def _marker(plt: Any, color: str, label: str, edge: str = "none") -> Any:
    return plt.Line2D([], [], marker="o", ls="", mfc=color, mec=edge, label=label, markersize=8)


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
        net.add_edge(u, v, title=key, label=key, font={"size": 8})
    html = _CDN_TAG.sub("", net.generate_html())
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path
