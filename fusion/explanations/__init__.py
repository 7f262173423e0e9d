"""fusion.explanations: explanations of predictions as scored knowledge-graph subgraphs.

:func:`explain` turns a fitted estimator's attributions into :class:`Explanation` objects, which
answer queries (top terms, subgraphs, paths, comparisons, decomposition onto nested terms), export
RDF with SPARQL queries over it, and draw pictures; :func:`evaluate_explanations` measures their
faithfulness (fidelity, infidelity, stability) beside random explanations; :func:`contrast` tests
which terms differ between classes (permutation p-values, FDR). Names are imported lazily.
"""

from __future__ import annotations

from fusion._lazy import lazy_exports

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "COMPARE_COLUMNS": "fusion.explanations.explanation",
    "MAX_SHARE": "fusion.explanations.explanation",
    "TOP_COLUMNS": "fusion.explanations.explanation",
    "Explanation": "fusion.explanations.explanation",
    "HIGH_RISK": "fusion.explanations.attribution",
    "LOW_RISK": "fusion.explanations.attribution",
    "PREDICTED_CLASS": "fusion.explanations.attribution",
    "ExplainableEstimator": "fusion.explanations.attribution",
    "explain": "fusion.explanations.attribution",
    "explanation_kg": "fusion.explanations.attribution",
    "decompose_groups": "fusion.explanations.decompose",
    "decompose_scores": "fusion.explanations.decompose",
    "membership": "fusion.explanations.decompose",
    "normal_scores": "fusion.explanations.decompose",
    "CONTRAST_COLUMNS": "fusion.explanations.contrasts",
    "cliffs_delta": "fusion.explanations.contrasts",
    "contrast": "fusion.explanations.contrasts",
    "permutation_pvalues": "fusion.explanations.contrasts",
    "plot_contrast": "fusion.explanations.volcano",
    "BASELINES": "fusion.explanations.faithfulness",
    "EVALUATION_COLUMNS": "fusion.explanations.faithfulness",
    "FIDELITY_COLUMNS": "fusion.explanations.faithfulness",
    "FaithfulnessConfig": "fusion.explanations.faithfulness",
    "evaluate_explanations": "fusion.explanations.faithfulness",
    "fidelity": "fusion.explanations.faithfulness",
    "unfaithfulness": "fusion.explanations.faithfulness",
    "Explainer": "fusion.explanations.robustness",
    "infidelity": "fusion.explanations.robustness",
    "perturbation_stability": "fusion.explanations.robustness",
    "topk_agreement": "fusion.explanations.robustness",
    "GraphEstimator": "fusion.explanations.perturbation",
    "ModelOutput": "fusion.explanations.perturbation",
    "add_noise": "fusion.explanations.perturbation",
    "explained_cohort": "fusion.explanations.perturbation",
    "explanation_inputs": "fusion.explanations.perturbation",
    "feature_node_ids": "fusion.explanations.perturbation",
    "inputs_of_top": "fusion.explanations.perturbation",
    "keep_inputs": "fusion.explanations.perturbation",
    "random_explanations": "fusion.explanations.perturbation",
    "random_inputs": "fusion.explanations.perturbation",
    "random_orders": "fusion.explanations.perturbation",
    "remove_inputs": "fusion.explanations.perturbation",
    "with_ranking": "fusion.explanations.perturbation",
    "RELATION_COLORS": "fusion.explanations.plot",
    "TYPE_COLORS": "fusion.explanations.plot",
    "plot_subgraph": "fusion.explanations.plot",
    "plot_top_terms": "fusion.explanations.plot",
    "write_html": "fusion.explanations.plot",
    "write_explorer": "fusion.explanations.explorer",
    "EXPLANATION": "fusion.explanations.rdf",
    "SHARED_TERMS_QUERY": "fusion.explanations.rdf",
    "TOP_K_QUERY": "fusion.explanations.rdf",
    "sparql_top": "fusion.explanations.rdf",
    "to_rdf": "fusion.explanations.rdf",
    "write_turtle": "fusion.explanations.rdf",
    "CLASS_SHARED_TERMS_QUERY": "fusion.explanations.store",
    "EXPLANATIONS_QUERY": "fusion.explanations.store",
    "TERM_TOP_K_QUERY": "fusion.explanations.store",
    "ExplanationStore": "fusion.explanations.store",
    "SPARQLSyntaxError": "fusion.explanations.store",
    "StoreError": "fusion.explanations.store",
    "StoreNotFoundError": "fusion.explanations.store",
    "sparql": "fusion.explanations.store",
    "to_hetero_explanation": "fusion.explanations.pyg",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
