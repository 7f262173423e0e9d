"""The Biolink mapping of kgfusion's graphs: node types → categories, relations → predicates
(with knowledge level and agent type), file provenance → ``infores:`` knowledge sources.

One table per kind, used both ways: :func:`kg.kgx.write_kgx` maps kgfusion → Biolink, and
:func:`kg.kgx.read_kgx` reverses the tables for files made elsewhere. Every category and
predicate named here is a non-deprecated element of Biolink 4.4.6 (tested with the
``biolink-model`` package's schema, :func:`kg.kgx.validate_kgx`).
"""

from __future__ import annotations

import re

__all__ = [
    "CATEGORIES",
    "DEFAULT_INFORES",
    "GENERIC_CATEGORY",
    "GO_CATEGORIES",
    "INFORES",
    "NAMESPACE_OF_CATEGORY",
    "PREDICATES",
    "RELATION_OF_PREDICATE",
    "TYPES_OF_CATEGORY",
    "UNKNOWN_PREDICATE",
    "infores_of",
]

#: Biolink category of each kgfusion node type (GO terms: :data:`GO_CATEGORIES`).
CATEGORIES: dict[str, str] = {
    "gene": "biolink:Gene",
    "protein": "biolink:Protein",
    "pathway": "biolink:Pathway",
    "phenotype": "biolink:PhenotypicFeature",
    "disease": "biolink:Disease",
    "mirna": "biolink:MicroRNA",
}
#: Biolink category of a GO term by its OBO ``namespace`` (others: ``biolink:NamedThing``).
GO_CATEGORIES: dict[str, str] = {
    "biological_process": "biolink:BiologicalProcess",
    "molecular_function": "biolink:MolecularActivity",
    "cellular_component": "biolink:CellularComponent",
}
#: The category of types without one above (``ontology_class``, ...), and its type on import.
GENERIC_CATEGORY = "biolink:NamedThing"

#: kgfusion relation → (Biolink predicate, knowledge_level, agent_type). On import a predicate
#: becomes the first relation listed for it, an unlisted one its own name (``biolink:x`` → ``x``).
PREDICATES: dict[str, tuple[str, str, str]] = {
    # ontology structure, asserted by the ontology's curators
    "is_a": ("biolink:subclass_of", "knowledge_assertion", "manual_agent"),
    "part_of": ("biolink:part_of", "knowledge_assertion", "manual_agent"),
    "has_part": ("biolink:has_part", "knowledge_assertion", "manual_agent"),
    "regulates": ("biolink:regulates", "knowledge_assertion", "manual_agent"),
    # Biolink 4 has no signed regulates predicates; the sign stays in kgfusion_relation
    "positively_regulates": ("biolink:regulates", "knowledge_assertion", "manual_agent"),
    "negatively_regulates": ("biolink:regulates", "knowledge_assertion", "manual_agent"),
    "occurs_in": ("biolink:occurs_in", "knowledge_assertion", "manual_agent"),
    # gene → GO annotations (GAF 2.2 qualifiers; gene2go gives no evidence per row here)
    "involved_in": ("biolink:actively_involved_in", "knowledge_assertion", "not_provided"),
    "enables": ("biolink:enables", "knowledge_assertion", "not_provided"),
    "located_in": ("biolink:located_in", "knowledge_assertion", "not_provided"),
    "is_active_in": ("biolink:active_in", "knowledge_assertion", "not_provided"),
    "colocalizes_with": ("biolink:colocalizes_with", "knowledge_assertion", "not_provided"),
    "contributes_to": ("biolink:contributes_to", "knowledge_assertion", "not_provided"),
    "acts_upstream_of": ("biolink:acts_upstream_of", "knowledge_assertion", "not_provided"),
    "acts_upstream_of_or_within": (
        "biolink:acts_upstream_of_or_within",
        "knowledge_assertion",
        "not_provided",
    ),
    # gene → pathway membership (Reactome gene sets, curated)
    "member_of": ("biolink:participates_in", "knowledge_assertion", "manual_agent"),
    "participates_in": ("biolink:participates_in", "knowledge_assertion", "manual_agent"),
    # gene → phenotype (HPO genes_to_phenotype: inferred from the genes' disease annotations)
    "has_phenotype": ("biolink:has_phenotype", "logical_entailment", "automated_agent"),
    # miRNA → target gene (miRTarBase: experimentally supported, curated from the literature)
    "targets": ("biolink:regulates", "knowledge_assertion", "manual_agent"),
    # miRNA → its MIR gene (NCBI Gene's curated miRNA genes)
    "transcribed_from": ("biolink:transcribed_from", "knowledge_assertion", "manual_agent"),
}
#: Predicate, knowledge level and agent type of a relation not in :data:`PREDICATES`.
UNKNOWN_PREDICATE = ("biolink:related_to", "not_provided", "not_provided")

#: ``(pattern, infores CURIE)``: the first pattern found in a provenance label names its source.
INFORES: tuple[tuple[str, str], ...] = (
    (r"gene_info", "infores:ncbi-gene"),
    (r"gene2go|\.gaf|goa_", "infores:goa"),
    (r"reactome", "infores:reactome"),
    (r"genes_to_phenotype|phenotype\.hpoa", "infores:hpo-annotations"),
    (r"\bhp\.obo|hpo", "infores:hpo"),
    (r"go-basic|go-plus|\bgo\.obo|goslim|\bgo[_.]", "infores:go"),
    (r"doid|humando", "infores:disease-ontology"),
    (r"mirtarbase", "infores:mirtarbase"),
)
#: Source of edges and nodes whose provenance names none of :data:`INFORES`.
DEFAULT_INFORES = "infores:kgfusion"

#: Node type of a Biolink category on import (categories of GO terms also set the namespace).
TYPES_OF_CATEGORY: dict[str, str] = {
    **{category: node_type for node_type, category in CATEGORIES.items()},
    **{category: "go_term" for category in GO_CATEGORIES.values()},
}
NAMESPACE_OF_CATEGORY = {category: namespace for namespace, category in GO_CATEGORIES.items()}
RELATION_OF_PREDICATE: dict[str, str] = {}
for _relation, (_predicate, _, _) in PREDICATES.items():
    RELATION_OF_PREDICATE.setdefault(_predicate, _relation)


def infores_of(provenance: str | None) -> str:
    """The ``infores:`` CURIE of a provenance label (:data:`INFORES`, else the default).

    Examples
    --------
    >>> infores_of("gene2go_human.tsv.gz"), infores_of("hp.obo.gz@2024"), infores_of(None)
    ('infores:goa', 'infores:hpo', 'infores:kgfusion')
    """
    text = (provenance or "").lower()
    return next((curie for pattern, curie in INFORES if re.search(pattern, text)), DEFAULT_INFORES)
