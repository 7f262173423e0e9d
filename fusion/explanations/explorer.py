"""An explanation explorer: one self-contained, offline HTML page over a run's explanations.

:func:`write_explorer` embeds a capped summary of many :class:`Explanation` objects (each
patient's top-``k`` terms, its explanation subgraph, the aggregate of each predicted class, each
term's input genes and the patients where it ranks high) as JSON in a page with plain
JavaScript and inline SVG: no server, no network, no CDN. In the page one searches a patient,
sees its subgraph (input genes on the left, terms to the right by hop distance, as
:func:`~fusion.explanations.plot_subgraph` draws them), filters by node type and namespace,
compares two patients or two classes side by side (:meth:`Explanation.compare`), clicks a term
to see its genes and patients, and downloads the table shown as CSV.

Every embedded string is data: the JSON sits in a ``<script type="application/json">`` with
``<``, ``>`` and ``&`` escaped, and the page inserts text with ``textContent`` only.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import pandas as pd

from fusion._exceptions import InvalidParameterError
from fusion._params import check_positive
from fusion.explanations.decompose import membership
from fusion.explanations.plot import TYPE_COLORS, relation_color

if TYPE_CHECKING:
    from fusion.explanations.explanation import Explanation
    from kg import KnowledgeGraph

__all__ = ["explorer_data", "write_explorer"]

logger = logging.getLogger(__name__)

#: Node types of input features (genes and the like): not "terms" of an explanation.
INPUT_TYPES: frozenset[str] = frozenset({"gene", "mirna", "protein"})
_TEMPLATE = "explorer.html.in"
_DATA_MARK = "__KGF_DATA__"
_TITLE_MARK = "__KGF_TITLE__"
#: JSON → text safe inside <script>: no tag can open or close there, no line separators.
_SCRIPT_SAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}  # fmt: skip


def _round(value: float) -> float:
    """Four significant digits: enough to read and to sort, a third of the characters."""
    return float(f"{value:.4g}")


def _term_types(explanations: Sequence[Explanation], types: Iterable[str] | None) -> list[str]:
    """The node types ranked as terms: ``types``, else every scored type but input types."""
    kg = explanations[0].kg
    if types is not None:
        chosen = [types] if isinstance(types, str) else list(types)
        return list(kg.check_types(chosen))
    scored = set()
    for e in explanations:
        scored.update(kg.nodes.loc[e.scores.index, "type"].unique())
    terms = sorted(scored - INPUT_TYPES)
    return terms or sorted(scored)


def _layers(graph: nx.MultiDiGraph) -> dict[str, int]:
    """Hop distance of each node from the nearest input (inputs 0; unreachable: one past all)."""
    inputs = [n for n, d in graph.nodes(data=True) if d.get("input")]
    depth = nx.multi_source_dijkstra_path_length(nx.Graph(graph), inputs) if inputs else {}
    far = max(depth.values(), default=0) + 1
    return {n: int(depth.get(n, far)) for n in graph.nodes}


def _subgraph(e: Explanation, k: int, types: list[str], max_len: int) -> dict[str, Any]:
    """The subgraph as ``{"nodes": [[id, layer, top, input, score], ...], "edges": [[u, v, rel]]}``."""
    graph = e.subgraph(k, types, max_len=max_len)
    layer = _layers(graph)
    nodes = [
        [n, layer[n], int(bool(d.get("top"))), int(bool(d.get("input"))), _round(d["score"])]
        for n, d in graph.nodes(data=True)
    ]
    edges = [[u, v, key] for u, v, key in graph.edges(keys=True) if u != v]
    return {"nodes": nodes, "edges": edges, "unreached": len(graph.graph.get("unreached", []))}


def _item(e: Explanation, kind: str, k: int, types: list[str], max_len: int) -> dict[str, Any]:
    top = e.top(k, types, nonzero=True)
    probability = None if e.probability is None else _round(e.probability)
    return {
        "id": str(e.patient),
        "kind": kind,
        "prediction": None if e.prediction is None else str(e.prediction),
        "probability": probability,
        "n": int(e.n_patients),
        "top": [[str(i), int(r)] for i, r in zip(top["id"], top["rank"])],
        "graph": _subgraph(e, k, types, max_len),
    }


def explorer_data(
    explanations: Sequence[Explanation],
    kg: KnowledgeGraph | None = None,
    k: int = 20,
    title: str = "kgfusion explanation explorer",
    *,
    types: str | Iterable[str] | None = None,
    max_len: int = 3,
    max_genes: int = 50,
) -> dict[str, Any]:
    """What :func:`write_explorer` embeds in its page, as a JSON-ready dict.

    Parameters are those of :func:`write_explorer`.

    Returns
    -------
    dict
        ``items`` (one per patient, then one per predicted class: id, kind, prediction,
        probability, size, top-``k`` ``[id, rank]`` pairs and the subgraph: nodes
        ``[id, layer, top, input, score]``, edges ``[source, target, relation]`` as positions in
        its nodes and in ``relations``), ``terms`` (every id
        in a top-``k`` list) with ``scores[i][j]`` the score of item ``i`` on term ``j``,
        ``term_info`` (per term: up to ``max_genes`` input ids reaching it in ``kg``, their
        count, and ``[item, rank]`` of the items ranking it in their top ``k``), ``nodes``
        (``id → [name, type, namespace]`` for every id used), colours, caps and provenance.

    Raises
    ------
    InvalidParameterError
        If there are no explanations, they differ in knowledge graph or method, patient ids
        repeat, or ``k``, ``max_len`` or ``max_genes`` is not a positive int.
    """
    owner = "write_explorer"
    k = check_positive("k", k, owner)
    max_len = check_positive("max_len", max_len, owner)
    max_genes = check_positive("max_genes", max_genes, owner)
    explanations = list(explanations)
    if not explanations:
        msg = "write_explorer needs at least one explanation; got none."
        raise InvalidParameterError(msg)
    patients = [str(e.patient) for e in explanations]
    repeated = sorted({p for p in patients if patients.count(p) > 1})
    if repeated:
        msg = f"write_explorer: patient ids must be unique; repeated: {repeated[:5]}."
        raise InvalidParameterError(msg)
    from fusion.explanations.explanation import Explanation

    # aggregate checks one graph and one method (else InvalidParameterError)
    classes = Explanation.aggregate(explanations, by=[str(e.prediction) for e in explanations])
    term_types = _term_types(explanations, types)
    items = [_item(e, "patient", k, term_types, max_len) for e in explanations]
    items += [_item(e, "class", k, term_types, max_len) for e in classes.values()]
    everything = [*explanations, *classes.values()]
    terms = list(dict.fromkeys(t for item in items for t, _ in item["top"]))
    scores = [[_round(s) for s in e.scores.reindex(terms, fill_value=0.0)] for e in everything]
    term_info = _term_info(explanations, kg, terms, items, max_genes)
    first = explanations[0].kg
    used = dict.fromkeys(terms)
    for item in items:
        used.update(dict.fromkeys(n[0] for n in item["graph"]["nodes"]))
    for info in term_info.values():
        used.update(dict.fromkeys(info["genes"]))
    known = [n for n in used if n in first.nodes.index]
    table = first.nodes.loc[known, ["name", "type", "namespace"]]
    extra = (
        kg.nodes.loc[[n for n in used if n not in first.nodes.index]] if kg is not None else None
    )
    nodes = {}
    for frame in (table, extra):
        if frame is None:
            continue
        for node, name, type_, namespace in frame[["name", "type", "namespace"]].itertuples():
            nodes[str(node)] = [
                str(name) if pd.notna(name) and name != "" else str(node),
                str(type_),
                str(namespace) if pd.notna(namespace) else "",
            ]
    relations = sorted({edge[2] for item in items for edge in item["graph"]["edges"]})
    for item in items:  # edges as [source, target, relation] positions: a third of the size
        graph = item["graph"]
        where = {node[0]: i for i, node in enumerate(graph["nodes"])}
        rel = {r: i for i, r in enumerate(relations)}
        graph["edges"] = [[where[u], where[v], rel[r]] for u, v, r in graph["edges"]]
    namespaces = sorted({nodes[t][2] for t in terms if nodes[t][2]})
    return {
        "title": str(title),
        "method": str(explanations[0].method),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "caps": {"k": k, "max_len": max_len, "max_genes": max_genes},
        "n_patients": len(explanations),
        "term_types": term_types,
        "namespaces": namespaces,
        "colors": {
            "types": {t: TYPE_COLORS.get(t, "#BBBBBB") for t in {v[1] for v in nodes.values()}},
            "relations": {r: relation_color(r) for r in relations},
        },
        "relations": relations,
        "items": items,
        "terms": terms,
        "scores": scores,
        "term_info": term_info,
        "nodes": nodes,
    }


def _term_info(
    explanations: Sequence[Explanation],
    kg: KnowledgeGraph | None,
    terms: list[str],
    items: list[dict[str, Any]],
    max_genes: int,
) -> dict[str, dict[str, Any]]:
    """Per term: the input ids reaching it in ``kg`` (true-path rule), and who ranks it high."""
    graph = kg if kg is not None else explanations[0].kg
    inputs = list(dict.fromkeys(n for e in explanations for n in e.inputs))
    inputs = [n for n in inputs if n in graph.nodes.index]
    present = [t for t in terms if t in graph.nodes.index]
    member = membership(graph, inputs, present) if inputs and present else pd.DataFrame()
    info: dict[str, dict[str, Any]] = {}
    for term in terms:
        genes = member.index[member[term]].tolist() if term in member.columns else []
        genes = sorted(genes, key=lambda g: (str(graph.nodes.at[g, "name"]), g))
        info[term] = {"genes": genes[:max_genes], "n_genes": len(genes), "items": []}
    for index, item in enumerate(items):
        for term, rank in item["top"]:
            info[term]["items"].append([index, rank])
    for value in info.values():
        value["items"].sort(key=lambda pair: (pair[1], pair[0]))
    return info


def script_json(data: object) -> str:
    """``data`` as JSON that cannot end the ``<script>`` element holding it.

    Examples
    --------
    >>> print(script_json({"id": "</script><b>"}))
    {"id":"\\u003c/script\\u003e\\u003cb\\u003e"}
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_SAFE.items():
        text = text.replace(char, escaped)
    return text


def write_explorer(
    explanations: Sequence[Explanation],
    path: str | Path,
    kg: KnowledgeGraph | None = None,
    k: int = 20,
    title: str = "kgfusion explanation explorer",
    *,
    types: str | Iterable[str] | None = None,
    max_len: int = 3,
    max_genes: int = 50,
) -> Path:
    """Write an explanation explorer: one self-contained HTML page over many explanations.

    The page (plain JavaScript, inline SVG; it opens offline from ``file://``) lets one search a
    patient by id, see its explanation subgraph and top terms, filter by node type and
    namespace, compare two patients or two predicted classes side by side, click a term to see
    its input genes and the patients ranking it high, and download the table shown as CSV.
    Only a capped summary is embedded, and the page says so: each patient's and class's top
    ``k`` terms, their subgraphs, and up to ``max_genes`` genes per term.

    Parameters
    ----------
    explanations : sequence of Explanation
        One per patient (unique ids), over one knowledge graph and method; classes are
        :meth:`Explanation.aggregate` by predicted class.
    path : str or Path
        The HTML file to write.
    kg : KnowledgeGraph, optional
        Graph whose input ids reaching a term (annotated to it or to a subterm) are listed as
        its genes (default: the explanations' graph).
    k : int
        Top terms per patient and class (default: ``20``).
    title : str
        Page title (default: ``"kgfusion explanation explorer"``).
    types : str or iterable of str, optional
        Node types ranked as terms (default: every scored type except genes, miRNAs, proteins).
    max_len : int
        Longest path (hops) joining a top term to an input in the subgraphs (default: ``3``).
    max_genes : int
        Genes listed per term (default: ``50``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidParameterError
        As :func:`explorer_data`.
    kg.UnknownNodeTypeError
        If a type has no node in the graph.
    """
    data = explorer_data(
        explanations, kg, k, title, types=types, max_len=max_len, max_genes=max_genes
    )
    template = resources.files("fusion.explanations").joinpath(_TEMPLATE).read_text("utf-8")
    page = template.replace(_TITLE_MARK, html.escape(str(title))).replace(
        _DATA_MARK, script_json(data)
    )
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    logger.info(
        "wrote %s: %d patients, %d terms, %.0f kB",
        path, data["n_patients"], len(data["terms"]), len(page) / 1e3,
    )  # fmt: skip
    return path
