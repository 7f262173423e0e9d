"""``import kg`` is cheap: public names load on first use, and ``kg.cli`` imports no data stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import kg

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "networkx", "rdflib", "numpy", "scipy", "torch", "sklearn")


def test_import_kg_and_cli_loads_no_heavy_module():
    """Issue 16 item 9: ``import kg, kg.cli`` (and the exceptions ``fusion`` imports) stay light."""
    script = (
        "import sys, kg, kg.cli\n"
        "from kg import KGError, ParseError, UnknownNodeError\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == "[]", result.stdout


def test_every_public_name_resolves():
    for name in kg.__all__:
        assert getattr(kg, name) is not None, name
    assert set(kg.__all__) <= set(dir(kg))
    assert len(set(kg.__all__)) == len(kg.__all__)


def test_submodules_are_attributes_and_unknown_names_raise():
    assert kg.query.superterms is kg.superterms
    try:
        kg.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("kg.no_such_name resolved")


def test_lazy_exports_match_the_type_checking_imports():
    """The name → module map, the ``TYPE_CHECKING`` imports and ``__all__`` list the same names."""
    tree = ast.parse((ROOT / "kg" / "__init__.py").read_text())
    guarded = next(n for n in tree.body if isinstance(n, ast.If))  # if TYPE_CHECKING:
    imported = {(node.module, a.name) for node in guarded.body for a in node.names}
    lazy = {(module, name) for module, names in kg._EXPORTS.items() for name in names}
    assert imported == lazy
    exceptions = set(kg._exceptions.__all__)
    assert set(kg.__all__) == exceptions | {name for _, name in lazy}


#: Names other packages and the tests import from a module that was split: they stay there.
MOVED = {
    "kg.graph": ["EDGE_COLUMNS", "NODE_COLUMNS", "decode", "make_edges", "make_nodes", "resolve_dangling"],
    "kg.normalize": ["MAPPED_STATUSES", "mirna_id", "mirna_stem", "mirna_stems"],
    "kg.query": ["Direction", "subterms", "superterms"],
    "kg.rdf": ["KGF", "REL", "SAFE_CHARS", "curie_to_iri", "iri_to_curie", "to_rdf", "write_turtle"],
    "kg.tables": ["GO_ASPECT_RELATIONS", "read_gaf", "read_gene2go", "read_gmt", "read_hpo_annotations", "read_reactome_pathways"],
}  # fmt: skip


def test_split_modules_keep_their_names():
    import importlib

    for module, names in MOVED.items():
        found = importlib.import_module(module)
        for name in names:
            assert hasattr(found, name), f"{module}.{name}"
        assert set(names) <= set(found.__all__), module
