"""kg: build, merge, query and export typed biomedical knowledge graphs.

``kg`` never imports torch at import time; :func:`kg.to_hetero_data` imports it when called.
"""

from kg._exceptions import (
    AmbiguousIdError,
    ConflictingDefinitionError,
    CycleError,
    DanglingReferenceError,
    KGError,
    ParseError,
    UnknownFormatError,
    UnknownNodeError,
    UnknownNodeTypeError,
    UnsafeRDFError,
)
from kg.graph import EDGE_COLUMNS, NODE_COLUMNS, NODE_TYPES, KGInfo, KnowledgeGraph, compose, make_edges, make_nodes

__all__ = [
    "AmbiguousIdError",
    "ConflictingDefinitionError",
    "CycleError",
    "DanglingReferenceError",
    "KGError",
    "ParseError",
    "UnknownFormatError",
    "UnknownNodeError",
    "UnknownNodeTypeError",
    "UnsafeRDFError",
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_TYPES",
    "KGInfo",
    "KnowledgeGraph",
    "compose",
    "make_edges",
    "make_nodes",
]
