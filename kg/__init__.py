"""kg: build, merge, query and export typed biomedical knowledge graphs.

Readers turn ontologies (OBO, OWL/RDF) and annotation tables into :class:`KnowledgeGraph`
objects, :func:`compose` and :func:`build_kg` merge them (with an on-disk cache), :mod:`kg.query`
asks questions of them, and exporters write RDF/Turtle, GraphML, node-link JSON and PyG
``HeteroData``. ``kg`` never imports torch at import time; :func:`to_hetero_data` imports it
when called.
"""

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
from kg.adjacency import adjacency_matrix
from kg.build import SHARED_FILES, KGConfig, Source, build_kg, shared_sources
from kg.bundled import embedded_config
from kg.config_io import load_yaml
from kg.export import read_graphml, read_node_link_json, write_graphml, write_node_link_json
from kg.graph import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    NODE_TYPES,
    KGInfo,
    KnowledgeGraph,
    compose,
    make_edges,
    make_nodes,
)
from kg.hetero import REVERSE_PREFIX, NodeIndex, to_hetero_data
from kg.index import GraphIndex
from kg.normalize import GeneNormalizer, Resolution, mirna_id, mirna_stem
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
from kg.rdf import read_rdf, to_rdf, write_turtle
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
    # errors
    "AmbiguousIdError",
    "ConflictingDefinitionError",
    "CycleError",
    "DanglingReferenceError",
    "ForeignFolderError",
    "KGError",
    "ParseError",
    "UnknownFormatError",
    "UnknownNodeError",
    "UnknownNodeTypeError",
    "UnsafeRDFError",
    # model
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_TYPES",
    "KGInfo",
    "KnowledgeGraph",
    "compose",
    "make_edges",
    "make_nodes",
    # readers
    "read_obo",
    "read_rdf",
    "read_edge_table",
    "read_gaf",
    "read_gene2go",
    "read_gmt",
    "read_hpo_annotations",
    "read_mirna_targets",
    "read_reactome_pathways",
    # ids
    "GeneNormalizer",
    "Resolution",
    "mirna_id",
    "mirna_stem",
    # build
    "KGConfig",
    "Source",
    "build_kg",
    "embedded_config",
    "shared_sources",
    "SHARED_FILES",
    "load_yaml",
    "load_kg",
    "save_kg",
    # queries
    "GraphIndex",
    "all_simple_paths",
    "induced_subgraph_by_type",
    "neighborhood",
    "path_edges",
    "shortest_paths",
    "subterms",
    "superterms",
    # algorithms
    "adjacency_matrix",
    "seed_closure",
    # export
    "NodeIndex",
    "REVERSE_PREFIX",
    "to_hetero_data",
    "to_rdf",
    "write_turtle",
    "read_graphml",
    "read_node_link_json",
    "write_graphml",
    "write_node_link_json",
]
