"""The demo's report folder: metrics, explanation tables, pictures, Turtle and ``index.html``."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusion.app.run import RunData
from fusion.data.cohort import Cohort
from fusion.data.synthetic import pathway_genes
from fusion.explanations import (
    Explanation,
    plot_subgraph,
    plot_top_terms,
    write_explorer,
    write_turtle,
)
from kg import KnowledgeGraph

__all__ = ["Problem", "pick_patients", "planted_ranks", "run_results", "slug", "write_report"]


@dataclass(frozen=True)
class Problem:
    """What the report describes: a title, the graph, the cohort and the split sizes."""

    title: str
    kg: KnowledgeGraph
    cohort: Cohort
    n_train: int
    n_test: int


def slug(name: object) -> str:
    """``name`` as a file-name-safe string."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))


def _term_types(kg: KnowledgeGraph) -> list[str]:
    """Node types other than genes present in ``kg`` (what 'terms' are)."""
    return sorted(set(kg.nodes["type"].unique()) - {"gene", "mirna", "protein"})


def write_report(
    folder: Path,
    problem: Problem,
    model: Any,
    test: Cohort,
    metrics: pd.DataFrame,
    explained: list[Explanation],
    chosen: list[str],
    ranks: pd.DataFrame,
) -> dict[str, Any]:
    """Tables, pictures, Turtle and index.html; returns the relative file names by kind."""
    metrics.to_csv(folder / "metrics.csv", float_format="%.4f")
    (folder / "metrics.md").write_text(_markdown(metrics), encoding="utf-8")
    if not ranks.empty:
        ranks.to_csv(folder / "planted_ranks.csv")
    terms = _term_types(problem.kg)
    patients = explained[: len(chosen)]
    by_class = Explanation.aggregate(explained, by=[str(e.prediction) for e in explained])
    tables, pictures = {}, []
    for e in patients:
        name = slug(e.patient)
        table = e.top(200, nonzero=True)  # nodes without attribution say nothing
        table.to_csv(folder / f"explanation_{name}.csv", index=False, float_format="%.6g")
        tables[e.patient] = f"explanation_{name}.csv"
        plot_subgraph(e, folder / f"subgraph_{name}.png", k=12, types=terms)
        pictures.append(f"subgraph_{name}.png")
    plot_top_terms(by_class, folder / "top_terms.png", k=12, type=terms)
    pictures.append("top_terms.png")
    write_turtle([*patients, *by_class.values()], folder / "explanations.ttl", k=20)
    write_explorer(explained, folder / "explorer.html", k=20, title=problem.title, types=terms)
    files = {
        "tables": tables,
        "pictures": pictures,
        "other": ["explorer.html", "metrics.csv", "metrics.md", "explanations.ttl", "run.json"]
        + (["planted_ranks.csv"] if not ranks.empty else []),
    }
    page = _html(problem, model, test, metrics, patients, ranks, files, terms)
    (folder / "index.html").write_text(page, encoding="utf-8")
    return files


def _markdown(table: pd.DataFrame) -> str:
    """A Markdown table (index first), floats to three decimals."""
    head = [table.index.name or "", *map(str, table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, row in table.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(key), *cells]) + " |")
    return "\n".join(lines) + "\n"


def _html_table(table: pd.DataFrame, index: bool = True) -> str:
    return table.to_html(
        index=index, float_format=lambda v: f"{v:.3g}", na_rep="", border=0, classes="t"
    )


_CSS = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table.t{border-collapse:collapse;font-size:.85rem}table.t td,table.t th{padding:.2rem .6rem;
border-bottom:1px solid #eee;text-align:left}img{max-width:100%;border:1px solid #eee}
.muted{color:#666;font-size:.9rem}"""


def _html(
    problem: Problem,
    model: Any,
    test: Cohort,
    metrics: pd.DataFrame,
    patients: list[Explanation],
    ranks: pd.DataFrame,
    files: dict[str, Any],
    terms: list[str],
) -> str:
    """index.html: self-contained (inline CSS), offline, relative links only."""
    esc = html.escape
    kg = problem.kg
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>kgfusion demo report</title><style>{_CSS}</style></head><body>",
        "<h1>kgfusion demo report</h1>",
        (
            f"<p>{esc(problem.title)}. Knowledge graph: {kg.number_of_nodes():,} nodes, "
            f"{len(kg.edges):,} edges; pruned to {len(model.graph_.node_ids):,} nodes for the model. "
            f"Cohort: {problem.cohort.n_samples} patients ({problem.n_train} train, "
            f"{problem.n_test} held-out test), modalities "
            f"{esc(', '.join(f'{m} ({int(problem.cohort.presence[m].sum())} patients)' for m in problem.cohort))}.</p>"
        ),
        "<h2>Held-out test metrics</h2>",
        _html_table(metrics),
        (
            "<p class='muted'>Both models are fitted on the training patients only (standardisation "
            "included); ACC, macro-F1 and ROC-AUC on the test patients. Baseline: early-fusion "
            "logistic regression (concatenated modalities, mean imputation, standardisation, L2 "
            "penalty chosen by inner 5-fold CV on the training patients). "
            "<a href='metrics.csv'>metrics.csv</a> · <a href='metrics.md'>metrics.md</a></p>"
        ),
    ]
    if not ranks.empty:
        named = ranks.rename(columns=lambda p: f"{kg.nodes.at[p, 'name']} ({p})")
        parts += [
            "<h2>Are the planted pathways recovered?</h2>",
            (
                f"<p>The label depends on the planted pathways only. Their rank among the "
                f"{ranks.attrs['n_pathways']:,} pathways of the model's graph by absolute explanation "
                "score (1 = most important; for groups, the mean absolute score over the group's "
                "explained test patients; blank: not in the model's pruned graph):</p>"
            ),
            _html_table(named),
            "<p class='muted'><a href='planted_ranks.csv'>planted_ranks.csv</a></p>",
        ]
    parts += [
        "<h2>Top terms per predicted class</h2>",
        (
            "<p><a href='explorer.html'>Explanation explorer</a>: search every explained test "
            "patient, see and compare their explanation subgraphs and classes, "
            "click a term for its genes (one offline page).</p>"
        ),
        f"<p><img src='top_terms.png' alt='top {esc('/'.join(terms))} terms per predicted class'></p>",
    ]
    truth = test.labels.astype(str)
    presence = test.presence
    for e in patients:
        name = slug(e.patient)
        absent = [m for m in presence.columns if not presence.at[e.patient, m]]
        parts += [
            f"<h2>Patient {esc(e.patient)}</h2>",
            f"<p>Predicted <b>{esc(str(e.prediction))}</b> (probability {e.probability:.2f}); "
            f"true label {esc(truth[e.patient])}; "
            + (f"lacks {esc(', '.join(absent))}." if absent else "all modalities measured.")
            + "</p>",
            f"<p><img src='subgraph_{name}.png' alt='explanation subgraph of {esc(e.patient)}'></p>",
            _html_table(
                e.top(10, type=terms)[["id", "name", "type", "score", "rank"]], index=False
            ),
            (
                "<p class='muted'>rank: position among all nodes by score (support for the "
                "predicted class; negative scores argue against it). The planted-pathway table "
                "ranks pathways only, by absolute score, so its ranks differ.</p>"
            ),
            (
                f"<p class='muted'>Top nodes of all types: <a href='{files['tables'][e.patient]}'>"
                f"{files['tables'][e.patient]}</a></p>"
            ),
        ]
    parts += [
        "<h2>Files</h2><ul>",
        *(f"<li><a href='{f}'>{f}</a></li>" for f in files["other"]),
        (
            f"</ul><p class='muted'>Explanations: method {esc(repr(patients[0].method))} "
            "(see docs/explanations.md), averaged over the ensemble; scores are importances for "
            "the predicted class. "
            "explanations.ttl holds them as RDF (query with SPARQL, see fusion.sparql_top).</p>"
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def planted_ranks(
    planted: Sequence[str],
    n_patients: int,
    explained: Sequence[Explanation],
    decomposed: Explanation | None = None,
) -> pd.DataFrame:
    """Rank of each planted pathway among all pathways by absolute score (attributions for and
    against the predicted class both count) in each patient's explanation (the first
    ``n_patients`` of ``explained``), and by mean absolute score per predicted class and over all of
    ``explained``; then in ``decomposed`` (the same patients' gene attributions decomposed onto
    the pathways). A pathway that the model's pruned graph lacks has no rank (``<NA>``)."""
    if not planted:
        return pd.DataFrame()
    absolute = [replace(e, scores=e.scores.abs()) for e in explained]
    by_class = Explanation.aggregate(
        explained, by=[str(e.prediction) for e in explained], absolute=True
    )
    groups = {f"predicted {g} (n={e.n_patients})": e for g, e in by_class.items()}
    everyone = Explanation.aggregate(explained, absolute=True)["cohort"]
    groups[f"all explained (n={everyone.n_patients})"] = everyone
    if decomposed is not None:
        groups[f"all explained, {decomposed.method}"] = decomposed
    rows = {}
    for name, e in [*((p.patient, p) for p in absolute[:n_patients]), *groups.items()]:
        ranking = e.ranking(type="pathway", max_share=None)  # among all the graph's pathways
        rows[name] = {
            p: ranking.index.get_loc(p) + 1 if p in ranking.index else pd.NA for p in planted
        }
    table = pd.DataFrame.from_dict(rows, orient="index", dtype="Int64")
    table.index.name = "explanation"
    table.attrs["n_pathways"] = len(explained[0].ranking(type="pathway", max_share=None))
    return table


def run_results(
    data: RunData,
    model: Any,
    metrics: pd.DataFrame,
    ranks: pd.DataFrame,
    explained: list[Explanation],
    chosen: list[str],
    files: dict[str, Any],
) -> dict[str, Any]:
    """What the demo found, for its run record (:attr:`fusion.app.record.RunRecord.results`)."""
    kg = data.kg
    cohort = data.cohort
    notes: dict[str, Any] = {}
    if data.truth is not None:
        notes["planted"] = [
            {"id": p, "name": str(kg.nodes.at[p, "name"]), "n_genes": len(pathway_genes(kg, p))}
            for p in data.truth.pathways
        ]
        notes["decoys"] = data.truth.decoys
    return {
        "kg": {
            "nodes": kg.number_of_nodes(),
            "edges": len(kg.edges),
            "model_graph_nodes": len(model.graph_.node_ids),
        },
        "cohort": {
            "n_samples": cohort.n_samples,
            "n_train": data.train.n_samples,
            "n_test": data.test.n_samples,
            "modalities": {m: int(cohort.presence[m].sum()) for m in cohort},
        },
        "metrics": json.loads(metrics.to_json(orient="index")),
        "patients": [
            {"id": e.patient, "prediction": e.prediction, "probability": e.probability}
            for e in explained[: len(chosen)]
        ],
        "n_explained": len(explained),
        **notes,
        "planted_ranks": json.loads(ranks.to_json(orient="index")) if not ranks.empty else None,
        "n_pathways": ranks.attrs.get("n_pathways"),
        "files": files,
    }


def pick_patients(
    test: Cohort, proba: np.ndarray, classes: Sequence[object], n: int = 3
) -> list[str]:
    """One correctly predicted test patient per class, then one lacking a modality, then the
    first others, up to ``n`` (test order; deterministic)."""
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    truth = test.labels.astype(str).to_numpy()
    samples = test.samples
    picks: list[str] = []
    for c in sorted(set(truth)):
        hits = samples[(truth == c) & (predicted == c)]
        if len(hits):
            picks.append(str(hits[0]))
    lacking = samples[~test.presence.all(axis=1).to_numpy()]
    picks += [str(s) for s in lacking[:1]]
    picks += [str(s) for s in samples]
    return list(dict.fromkeys(picks))[:n]
