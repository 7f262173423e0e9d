"""kg: build, merge, query and export typed biomedical knowledge graphs.

Readers turn ontologies (OBO, OWL/RDF) and annotation tables into :class:`KnowledgeGraph`
objects, :func:`compose` and :func:`build_kg` merge them (with an on-disk cache), :mod:`kg.query`
asks questions of them, and exporters write RDF/Turtle, GraphML, node-link JSON and PyG
``HeteroData``. ``kg`` never imports torch at import time; :func:`to_hetero_data` imports it
when called.

Public names are imported on first use (PEP 562 ``__getattr__``): ``import kg`` costs only the
exception classes, so ``from kg import KGError`` and the command line start at once, and pandas,
networkx or rdflib load with the first reader, graph or query that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from kg._exceptions import (
    AmbiguousIdError,
    ConflictingDefinitionError,
    CycleError,
    DanglingReferenceError,
    ForeignFolderError,
    KGError,
    ParseError,
    UnknownFormatError,
    UnknownNodeError,
    UnknownNodeTypeError,
    UnsafeRDFError,
)

if TYPE_CHECKING:  # the lazily exported names, for type checkers and readers
    from kg._textio import decode_text
    from kg.adjacency import adjacency_matrix
    from kg.build import SHARED_FILES, KGConfig, Source, build_kg, shared_sources
    from kg.bundled import embedded_config
    from kg.config_io import load_yaml
    from kg.export import read_graphml, read_node_link_json, write_graphml, write_node_link_json
    from kg.folders import swap_in
    from kg.graph import KGInfo, KnowledgeGraph
    from kg.hetero import REVERSE_PREFIX, NodeIndex, to_hetero_data
    from kg.index import GraphIndex
    from kg.kgx import read_kgx, validate_kgx, write_kgx
    from kg.merge import compose
    from kg.mirna import mirna_id, mirna_stem
    from kg.mirna_sources import gene_precursor, read_mirna_genes, read_mirna_pathways
    from kg.neo4j import write_neo4j
    from kg.normalize import GeneNormalizer, Resolution
    from kg.obo import read_obo
    from kg.pruning import seed_closure
    from kg.query import (
        all_simple_paths,
        induced_subgraph_by_type,
        neighborhood,
        path_edges,
        shortest_paths,
        subterms,
        superterms,
    )
    from kg.rdf import read_rdf
    from kg.rdf_export import to_rdf, write_turtle
    from kg.schema import EDGE_COLUMNS, NODE_COLUMNS, NODE_TYPES, make_edges, make_nodes
    from kg.specificity import coverage, information_content, reach_counts, reachability
    from kg.store import load_kg, save_kg
    from kg.tables import (
        read_edge_table,
        read_gaf,
        read_gene2go,
        read_gmt,
        read_hpo_annotations,
        read_mirna_targets,
        read_reactome_pathways,
    )

__all__ = [
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_TYPES",
    "REVERSE_PREFIX",
    "SHARED_FILES",
    "AmbiguousIdError",
    "ConflictingDefinitionError",
    "CycleError",
    "DanglingReferenceError",
    "ForeignFolderError",
    "GeneNormalizer",
    "GraphIndex",
    "KGConfig",
    "KGError",
    "KGInfo",
    "KnowledgeGraph",
    "NodeIndex",
    "ParseError",
    "Resolution",
    "Source",
    "UnknownFormatError",
    "UnknownNodeError",
    "UnknownNodeTypeError",
    "UnsafeRDFError",
    "adjacency_matrix",
    "all_simple_paths",
    "build_kg",
    "compose",
    "coverage",
    "decode_text",
    "embedded_config",
    "gene_precursor",
    "induced_subgraph_by_type",
    "information_content",
    "load_kg",
    "load_yaml",
    "make_edges",
    "make_nodes",
    "mirna_id",
    "mirna_stem",
    "neighborhood",
    "path_edges",
    "reach_counts",
    "reachability",
    "read_edge_table",
    "read_gaf",
    "read_gene2go",
    "read_gmt",
    "read_graphml",
    "read_hpo_annotations",
    "read_kgx",
    "read_mirna_genes",
    "read_mirna_pathways",
    "read_mirna_targets",
    "read_node_link_json",
    "read_obo",
    "read_rdf",
    "read_reactome_pathways",
    "save_kg",
    "seed_closure",
    "shared_sources",
    "shortest_paths",
    "subterms",
    "superterms",
    "swap_in",
    "to_hetero_data",
    "to_rdf",
    "validate_kgx",
    "write_graphml",
    "write_kgx",
    "write_neo4j",
    "write_node_link_json",
    "write_turtle",
]

#: Where each lazily exported name lives (module → names), the same as the imports above.
_EXPORTS = {
    "kg.adjacency": ("adjacency_matrix",),
    "kg.build": ("SHARED_FILES", "KGConfig", "Source", "build_kg", "shared_sources"),
    "kg.bundled": ("embedded_config",),
    "kg._textio": ("decode_text",),
    "kg.config_io": ("load_yaml",),
    "kg.export": ("read_graphml", "read_node_link_json", "write_graphml", "write_node_link_json"),
    "kg.graph": ("KGInfo", "KnowledgeGraph"),
    "kg.hetero": ("REVERSE_PREFIX", "NodeIndex", "to_hetero_data"),
    "kg.index": ("GraphIndex",),
    "kg.kgx": ("read_kgx", "validate_kgx", "write_kgx"),
    "kg.neo4j": ("write_neo4j",),
    "kg.merge": ("compose",),
    "kg.mirna": ("mirna_id", "mirna_stem"),
    "kg.mirna_sources": ("gene_precursor", "read_mirna_genes", "read_mirna_pathways"),
    "kg.normalize": ("GeneNormalizer", "Resolution"),
    "kg.obo": ("read_obo",),
    "kg.pruning": ("seed_closure",),
    "kg.query": (
        "all_simple_paths",
        "induced_subgraph_by_type",
        "neighborhood",
        "path_edges",
        "shortest_paths",
        "subterms",
        "superterms",
    ),
    "kg.rdf": ("read_rdf",),
    "kg.rdf_export": ("to_rdf", "write_turtle"),
    "kg.specificity": ("coverage", "information_content", "reach_counts", "reachability"),
    "kg.schema": ("EDGE_COLUMNS", "NODE_COLUMNS", "NODE_TYPES", "make_edges", "make_nodes"),
    "kg.store": ("load_kg", "save_kg"),
    "kg.folders": ("swap_in",),
    "kg.tables": (
        "read_edge_table",
        "read_gaf",
        "read_gene2go",
        "read_gmt",
        "read_hpo_annotations",
        "read_mirna_targets",
        "read_reactome_pathways",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> object:
    """Import a public name (or a submodule, as ``kg.query``) on first access, then keep it."""
    module = _MODULE_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    else:
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            msg = f"module {__name__!r} has no attribute {name!r}"
            raise AttributeError(msg) from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
