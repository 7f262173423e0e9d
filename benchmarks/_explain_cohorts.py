"""The real-cohort parts of ``benchmarks/explain.py``: ROSMAP, TCGA BRCA ER, TCGA PRAD Gleason.

Per seed (ROSMAP: the model's seed on the MOGONET split; TCGA: a stratified 2/3 split and the
model's seed), the default model and its rewired-KG control are fitted on the training part and
explained on the held-out patients with the default pipeline (``method="ig_features"``,
decomposed onto the terms: :func:`explained`). Measured on each:

* the standard faithfulness metrics (:func:`fusion.explanations.evaluate_explanations`) of the
  top-10 terms (genome-wide, where only the genes' attributions are computed per patient, the
  top-10 terms of the cohort's explanation, the same for every patient: :func:`with_cohort_terms`),
  the removal metrics beside both random baselines (random input sets removing as many input
  nodes as the explanation's, and random top-10 terms), the ranking metrics beside random
  explanations; and the same metrics of the top-10 *inputs* (the input node types) beside
  random inputs;
* specificity of each patient's top-10 terms: median depth (hops up to a root of the term's
  ontology), median information content (:func:`kg.information_content`, over the whole KG),
  and the largest share of the cohort's linked genes that a top-10 term covers
  (:func:`kg.coverage`);
* ROSMAP: the randomised-weights sanity check and the specificity *before* (a model with the old
  pruning defaults explained with ``method="contribution"``, no decomposition);
* TCGA: the ranks of known-biology terms in the held-out cohort's explanation
  (:func:`cohort_explanation`, :mod:`_explain_biology`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import torch
from _common import load_average, timed
from _explain_biology import KNOWN, known_records
from scipy.stats import spearmanr

from fusion import Cohort, read_mogonet, stratified_split
from fusion.explanations import Explanation, FaithfulnessConfig, evaluate_explanations, explain
from fusion.models import KGFusionClassifier
from kg import (
    SHARED_FILES,
    KGConfig,
    KnowledgeGraph,
    Source,
    build_kg,
    coverage,
    information_content,
    shared_sources,
)

#: The term types an explanation is decomposed onto and ranked over.
TERM_TYPES = ("go_term", "pathway", "phenotype")
#: Relations that make a term the subterm of another (depth = hops along them to a root).
HIERARCHY_RELATIONS = ("is_a", "part_of")
#: The pruning defaults before issue 18 (the "before" of the specificity comparison).
OLD_DEFAULTS = {"min_seeds": 10, "max_fraction": 0.3}
TOP_K = 10
Record = dict[str, Any]


@dataclass(frozen=True)
class CohortTask:
    """A real cohort: how to read it, split it, and fit its models."""

    name: str
    read: Callable[[Path], Cohort | tuple[Cohort, Cohort]]
    kg: Callable[[Path], KnowledgeGraph]
    params: dict[str, Any]
    quick: dict[str, Any]
    max_patients: int | None = None
    genome_wide: bool = False
    n_random: int = 10


def split(task: CohortTask, data: Path, seed: int) -> tuple[Cohort, Cohort]:
    """The fixed train/test parts: the cohort's own split, or a stratified 2/3 by ``seed``."""
    cohort = task.read(data)
    if isinstance(cohort, tuple):
        return cohort
    train, test = stratified_split(cohort, 1 / 3, seed=seed)
    return cohort.subset(train), cohort.subset(test)


def rosmap(data: Path) -> tuple[Cohort, Cohort]:
    """ROSMAP's MOGONET train/test split."""
    return read_mogonet(data / "mogonet_rosmap").train_test()


def go_kg(data: Path) -> KnowledgeGraph:
    """GO (go-basic) with human gene2go annotations."""
    config = KGConfig(
        (
            Source(data / SHARED_FILES["go"], "obo", {"on_dangling": "add"}),
            Source(data / SHARED_FILES["gene2go"], "gene2go"),
        ),
        data / SHARED_FILES["gene_info"],
    )
    return build_kg(config, progress=False)


def shared_kg(data: Path) -> KnowledgeGraph:
    """The shared KG: GO, HPO, Reactome, miRTarBase (:func:`kg.shared_sources`)."""
    return build_kg(shared_sources(data), progress=False)


def fit_models(
    task: CohortTask, kg: KnowledgeGraph, train: Cohort, seed: int, quick: bool
) -> dict[str, KGFusionClassifier]:
    """The default model and its rewired-KG control (ROSMAP: and the old pruning defaults)."""
    params = {**task.params, **(task.quick if quick else {}), "random_state": seed}
    settings: dict[str, dict[str, Any]] = {"default": {}, "rewired": {"control": "rewired"}}
    if task.name == "rosmap":
        settings["old defaults"] = OLD_DEFAULTS
    return {
        name: as_saved(KGFusionClassifier(kg, **params, **extra).fit(train))
        for name, extra in settings.items()
    }


def randomised_explanations(result: Explained, seed: int, genome_wide: bool) -> list[Explanation]:
    """The same patients explained by the model with re-initialised weights (every member's
    ``reset_parameters``, seeded), its trained weights restored afterwards."""
    nets = result.model.models_
    dense = [
        t for net in nets for t in (*net.parameters(), *net.buffers()) if t.layout == torch.strided
    ]
    trained = [t.detach().clone() for t in dense]
    torch.manual_seed(seed)
    try:
        for net in nets:
            for module in net.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        return per_patient(result.model, result.test, genome_wide)
    finally:
        with torch.no_grad():
            for tensor, value in zip(dense, trained):
                tensor.copy_(value)


def sanity_check(trained: list[Explanation], random: list[Explanation]) -> dict[str, float]:
    """Spearman correlation of trained vs randomised-weight scores (Adebayo et al., 2018): per
    patient (mean) and of the cohort means; of the terms' scores (decomposed, ``>= 0``) and of
    the input genes' attributions, signed and absolute."""
    a = pd.concat([e.scores for e in trained], axis=1)
    b = pd.concat([e.scores for e in random], axis=1).reindex(a.index, fill_value=0.0)
    types = trained[0].kg.nodes["type"].reindex(a.index)
    terms, genes = types.isin(TERM_TYPES).to_numpy(), (types == "gene").to_numpy()
    pairs = {
        "terms": (a[terms], b[terms]),
        "genes signed": (a[genes], b[genes]),
        "genes absolute": (a[genes].abs(), b[genes].abs()),
    }
    result = {}
    for name, (x, y) in pairs.items():
        per_patient = [spearmanr(x.iloc[:, i], y.iloc[:, i]).statistic for i in range(x.shape[1])]
        result[f"sanity {name}, per patient"] = float(np.nanmean(per_patient))
        result[f"sanity {name}, cohort mean"] = float(
            spearmanr(x.mean(axis=1), y.mean(axis=1)).statistic
        )
    return result


def term_depth(kg: KnowledgeGraph) -> pd.Series:
    """Hops from each term up to a root of its ontology (a term with no superterm), along
    :data:`HIERARCHY_RELATIONS` between non-gene nodes; the shortest such path."""
    terms = kg.nodes.index[kg.nodes["type"].isin(TERM_TYPES)]
    edges = kg.edges[
        kg.edges["relation"].isin(HIERARCHY_RELATIONS)
        & kg.edges["source"].isin(terms)
        & kg.edges["target"].isin(terms)
    ]
    down = nx.DiGraph()
    down.add_nodes_from(terms)
    down.add_edges_from(zip(edges["target"], edges["source"]))  # parent → child
    roots = [t for t in terms if down.in_degree(t) == 0]
    return pd.Series(nx.multi_source_dijkstra_path_length(down, roots), dtype=float)


@dataclass(frozen=True)
class Specificity:
    """What the top-10 terms are measured against: depth and IC per term, the linked genes."""

    depth: pd.Series
    ic: pd.Series

    @classmethod
    def of(cls, kg: KnowledgeGraph) -> Specificity:
        return cls(term_depth(kg), information_content(kg))

    def records(
        self, explanations: Sequence[Explanation], genes: Sequence[str], max_share: Any = "default"
    ) -> dict[str, float]:
        """Mean over patients of the top-10 terms' median depth and IC; the largest share of
        ``genes`` (the cohort's linked genes) a top-10 term covers, over all patients. The top
        terms are :meth:`Explanation.top`'s with ``max_share`` (default: the explanation's)."""
        share = coverage(explanations[0].kg, genes)
        depths, ics, shares = [], [], []
        for e in explanations:
            types = [t for t in TERM_TYPES if t in set(e.kg.nodes["type"])]
            top = e.top(TOP_K, types, max_share=max_share)["id"]
            depths.append(self.depth.reindex(top).median())
            ics.append(self.ic.reindex(top).median())
            shares.append(share.reindex(top, fill_value=0.0).max())
        return {
            "top-10 median depth": float(np.nanmean(depths)),
            "top-10 median IC": float(np.nanmean(ics)),
            "top-10 largest share of linked genes": float(np.max(shares)),
        }


def linked_genes(model: KGFusionClassifier) -> list[str]:
    """The genes the model's features are linked to (graph nodes of type ``gene``)."""
    graph = model.graph_
    genes = np.asarray(graph.node_types) == "gene"
    positions = np.concatenate([p.cpu().numpy() for p in model.feature_nodes_.values()])
    linked = np.unique(positions[positions >= 0])
    return [graph.node_ids[i] for i in linked if genes[i]]


@dataclass(frozen=True)
class Explained:
    """One model's held-out explanations: per patient (decomposed) and the cohort mean."""

    model: KGFusionClassifier
    test: Cohort
    patients: list[Explanation]
    cohort: Explanation
    seconds: float


def term_types(model: KGFusionClassifier) -> list[str]:
    """The :data:`TERM_TYPES` of the model's graph."""
    present = set(model.graph_.node_types)
    return [t for t in TERM_TYPES if t in present]


def per_patient(model: KGFusionClassifier, test: Cohort, genome_wide: bool) -> list[Explanation]:
    """Each patient's default explanation (:func:`explain`'s defaults: ``ig_features``, the
    terms scored by decomposition, each ontology on its own); genome-wide (tens of thousands
    of inputs per patient, too many to decompose each) the genes' attributions only."""
    return explain(model, test, decompose=False) if genome_wide else explain(model, test)


def cohort_explanation(patients: list[Explanation]) -> Explanation:
    """The patients' mean absolute gene attributions decomposed onto the terms
    (:meth:`Explanation.aggregate` with ``absolute=True``, :meth:`Explanation.decompose_terms`)."""
    return Explanation.aggregate(patients, absolute=True)["cohort"].decompose_terms()


def explained(model: KGFusionClassifier, test: Cohort, genome_wide: bool = False) -> Explained:
    """The default pipeline on ``test`` (:func:`per_patient`) and the cohort explanation
    (:func:`cohort_explanation`)."""
    start = time.perf_counter()
    patients = per_patient(model, test, genome_wide)
    seconds = time.perf_counter() - start
    return Explained(model, test, patients, cohort_explanation(patients), seconds)


def with_cohort_terms(
    patients: list[Explanation], cohort: Explanation | None = None
) -> list[Explanation]:
    """Each patient's input scores with the terms of the cohort's explanation (``cohort``, else
    :func:`cohort_explanation` of ``patients``): genome-wide, where the patients' attributions
    are not decomposed one by one, the explanation whose top-10 terms the term-level
    faithfulness metrics remove (a global explanation, scored per patient)."""
    cohort = cohort_explanation(patients) if cohort is None else cohort
    terms = cohort.scores.drop(list(cohort.inputs), errors="ignore")
    return [
        dataclasses.replace(p, scores=terms.combine_first(p.scores.reindex(list(p.inputs))))
        for p in patients
    ]


def as_saved(model: KGFusionClassifier) -> KGFusionClassifier:
    """``model`` as ``kgfusion train`` saves it: with the KG induced by its graph's nodes
    (:func:`fusion.explanations.explanation_kg` then adds the model's edges that bridge pruned
    nodes), so that explanations walk the model's graph, not the whole KG (a gene's closure
    over all of HPO costs a decomposition ~0.1 s per input)."""
    return model.set_params(kg=model.kg.subgraph(model.graph_.node_ids))


def tagged(section: str, variant: str, measured: dict[str, float]) -> list[Record]:
    """Records of one section (a printed table) and variant (a column)."""
    return [
        {"section": section, "measure": m, "variant": variant, "value": v}
        for m, v in measured.items()
    ]


#: Variant of a random baseline's records (:data:`fusion.explanations.BASELINES`).
BASELINE_VARIANTS = {"inputs": "random inputs ({})", "nodes": "random nodes ({})"}


def input_types(result: Explained) -> tuple[str, ...]:
    """The node types of the explained patients' input nodes (e.g. ``gene``, ``mirna``)."""
    kg = result.patients[0].kg
    inputs = {i for e in result.patients for i in e.inputs}
    return tuple(sorted(set(kg.nodes.loc[sorted(inputs), "type"])))


def evaluation_records(section: str, name: str, table: pd.DataFrame) -> list[Record]:
    """An :func:`evaluate_explanations` table as records: the explanation's value as variant
    ``name`` (once per metric), each baseline's random mean as ``random <baseline> (name)``."""
    own = table.drop_duplicates("metric").set_index("metric")["explanation"].to_dict()
    records = tagged(section, name, own)
    for baseline, rows in table.groupby("baseline", sort=False):
        means = rows.set_index("metric")["random_mean"].to_dict()
        records += tagged(section, BASELINE_VARIANTS[baseline].format(name), means)
    return records


def faithfulness_records(
    name: str,
    result: Explained,
    seed: int,
    n_random: int,
    other: list[Explanation] | None,
    genome_wide: bool = False,
) -> list[Record]:
    """:func:`evaluate_explanations` of one model's explanations, section ``faithfulness``: the
    top-10 terms (genome-wide, the cohort's: :func:`with_cohort_terms`), the removal metrics
    beside both baselines; section
    ``faithfulness, inputs``: the top-10 inputs beside random inputs. Both with stability under
    noise (the noisy cohort is the same for both, seeded: explained once) and, given ``other``,
    across seeds."""
    noisy: list[list[Explanation]] = []

    def explainer(cohort: Cohort) -> list[Explanation]:
        if not noisy:
            noisy.append(per_patient(result.model, cohort, genome_wide))
        return noisy[0]

    def evaluate(
        explanations: list[Explanation],
        types: tuple[str, ...],
        baseline: Any,
        max_share: Any,
        explain_noisy: Callable[[Cohort], list[Explanation]],
    ) -> pd.DataFrame:
        return evaluate_explanations(
            result.model,
            result.test,
            explanations,
            k=TOP_K,
            n_random=n_random,
            seed=seed,
            config=FaithfulnessConfig(types=types, baseline=baseline, max_share=max_share),
            other=other,
            explainer=explain_noisy,
        )

    terms = tuple(term_types(result.model))
    if genome_wide:  # the cohort's terms, recomputed on the noisy cohort for the stability rows
        explanations, explain_terms = (
            with_cohort_terms(result.patients, result.cohort),  # decomposed once, in explained()
            lambda c: with_cohort_terms(explainer(c)),
        )
    else:
        explanations, explain_terms = result.patients, explainer
    by_terms = evaluate(explanations, terms, ("inputs", "nodes"), "default", explain_terms)
    records = evaluation_records("faithfulness", name, by_terms)
    # the inputs: no term to leave out (max_share None)
    inputs = evaluate(result.patients, input_types(result), "inputs", None, explainer)
    return records + evaluation_records("faithfulness, inputs", name, inputs)


def shown_patients(task: CohortTask, test: Cohort, seed: int) -> Cohort:
    """The held-out patients explained: all, or a stratified ``task.max_patients`` of them."""
    if task.max_patients is None or test.n_samples <= task.max_patients:
        return test
    return test.subset(stratified_split(test, task.max_patients, seed=seed)[1])


def model_records(models: dict[str, KGFusionClassifier], test: Cohort) -> list[Record]:
    """Held-out accuracy and graph size of each model."""
    records = []
    for name, model in models.items():
        measured = {
            "held-out accuracy": float(model.score(test)),
            "graph nodes": float(model.graph_.num_nodes),
        }
        records += tagged("model", name, measured)
    return records


def rosmap_records(
    models: dict[str, KGFusionClassifier],
    results: dict[str, Explained],
    spec: Specificity,
    data: Path,
    seed: int,
) -> list[Record]:
    """ROSMAP only: specificity before (old defaults, ``contribution``), the sanity check, timings."""
    old, default = models["old defaults"], results["default"]
    before = explain(old, default.test, method="contribution")
    old_specificity = spec.records(before, linked_genes(old), max_share=None)
    records = tagged("specificity", "old defaults, contribution", old_specificity)
    random = randomised_explanations(default, seed, genome_wide=False)
    records += tagged("sanity", "default", sanity_check(default.patients, random))
    everyone = read_mogonet(data / "mogonet_rosmap")
    one, _ = timed(lambda: explain(default.model, everyone, [everyone.samples[0]]), repeat=3)
    every, _ = timed(lambda: explain(default.model, everyone))
    timings = {
        "seconds: default explanation, 1 patient": one,
        f"seconds: default explanation, all {everyone.n_samples} patients": every,
        "seconds: default explanation, per test patient": default.seconds / default.test.n_samples,
    }
    return records + tagged("timing", "default", timings)


def top_rows(results: dict[str, Explained], seed: int) -> list[dict[str, Any]]:
    """The top-10 terms of each model's cohort explanation."""
    rows = []
    for name, result in results.items():
        top = result.cohort.top(TOP_K, term_types(result.model))
        rows += [
            {"seed": seed, "variant": name, **row}
            for row in top[["rank", "id", "name", "score"]].to_dict("records")
        ]
    return rows


def seed_records(
    task: CohortTask, kg: KnowledgeGraph, data: Path, seed: int, quick: bool, spec: Specificity
) -> tuple[list[Record], dict[str, Explained]]:
    """One seed's fits and explanations, and every measure but the faithfulness metrics."""
    train, test = split(task, data, seed)
    models = fit_models(task, kg, train, seed, quick)
    shown = shown_patients(task, test, seed)
    results = {
        name: explained(models[name], shown, task.genome_wide) for name in ("default", "rewired")
    }
    records = model_records(models, test)
    for name, result in results.items():
        scored = [result.cohort] if task.genome_wide else result.patients
        records += tagged("specificity", name, spec.records(scored, linked_genes(result.model)))
        if task.name in KNOWN:
            known = known_records(result.cohort, kg, KNOWN[task.name], term_types(result.model))
            records += tagged("known", name, known)
    if task.name == "rosmap":
        records += rosmap_records(models, results, spec, data, seed)
    return records, results


def run_cohort(
    task: CohortTask,
    data: Path,
    seeds: Sequence[int],
    quick: bool,
    save: Callable[[list[Record], list[dict[str, Any]]], None] | None = None,
) -> tuple[list[Record], list[dict[str, Any]]]:
    """Every measure of one real cohort for each of ``seeds``; and the top terms per seed.

    On ROSMAP (the same test patients for every seed) the faithfulness metrics come after all
    fits: the default explanations are compared with the next seed's (stability across seeds).
    Elsewhere each seed is finished, and handed to ``save`` (the records so far), in turn.
    """
    kg = task.kg(data)
    spec = Specificity.of(kg)
    n_random = 3 if quick else task.n_random
    same_patients = task.name == "rosmap" and len(seeds) > 1
    runs, tops, out = [], [], []

    def finish(i: int) -> None:
        seed, records, results = runs[i]
        other = runs[(i + 1) % len(runs)][2]["default"].patients if same_patients else None
        for name, result in results.items():
            mine = other if name == "default" else None
            records += faithfulness_records(name, result, seed, n_random, mine, task.genome_wide)
        out.extend({"part": task.name, "seed": seed, **r} for r in records)
        if save is not None:
            save(out, tops)

    for seed in seeds:
        records, results = seed_records(task, kg, data, seed, quick, spec)
        tops += top_rows(results, seed)
        runs.append((seed, records, results))
        print(
            f"{task.name} seed {seed}: fitted and explained (load {load_average():.1f})", flush=True
        )
        if not same_patients:
            finish(len(runs) - 1)
            runs[-1] = (seed, [], {})  # done: free the models and explanations
    if same_patients:
        for i in range(len(runs)):
            finish(i)
    return out, tops
