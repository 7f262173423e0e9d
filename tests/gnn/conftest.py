"""Shared fixtures of the gnn tests: a tiny hand-written knowledge graph."""

from __future__ import annotations

import pandas as pd
import pytest

from kg import KnowledgeGraph, make_edges, make_nodes


@pytest.fixture
def tiny_kg() -> KnowledgeGraph:
    nodes = pd.concat(
        [
            make_nodes(["g1", "g2", "g3"], "gene", "t"),
            make_nodes(["T1", "T2", "T3"], "go_term", "t"),
        ]
    )
    edges = pd.concat(
        [
            make_edges(["g1", "g2", "g3", "g3"], "involved_in", ["T1", "T1", "T2", "T1"], "t"),
            make_edges(["T1", "T2"], "is_a", ["T3", "T3"], "t"),
        ]
    )
    return KnowledgeGraph(nodes, edges)
