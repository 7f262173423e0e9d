"""The house rules: layers import downward only, nobody imports another package's private names,
the command line starts without torch or scikit-learn, and modules stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kg", "gnn", "fusion")
#: What each package may not import, anywhere (``kg`` may import torch inside a function).
FORBIDDEN = {"kg": {"gnn", "fusion"}, "gnn": {"fusion"}, "fusion": set()}
HEAVY = ("torch", "torch_geometric", "sklearn", "captum")
MAX_LINES = 400


def modules(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def imports(path: Path, top_level_only: bool = False) -> list[tuple[str, list[str]]]:
    """``(module, names)`` for each import statement of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # what runs at import: module level and `try:` bodies, not type hints
        nodes = [
            n
            for stmt in tree.body
            if not _type_checking(stmt)
            for n in ast.walk(stmt)
            if not _in_function(stmt, n)
        ]
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, [alias.name for alias in node.names]))
    return out


def _type_checking(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and ast.unparse(stmt.test).endswith("TYPE_CHECKING")


def _in_function(stmt: ast.stmt, node: ast.AST) -> bool:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    if isinstance(stmt, ast.ClassDef):
        return any(
            node in ast.walk(item)
            for item in stmt.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
    return False


def package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_layers_import_downward_only(package: str) -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules(package)
        for module, _ in imports(path)
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not bad, bad


def test_kg_imports_no_heavy_package_at_module_level() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {module} at import time"
        for path in modules("kg")
        for module, _ in imports(path, top_level_only=True)
        if module.split(".")[0] in HEAVY
    ]
    assert not bad, bad


def test_no_module_imports_another_packages_private_names() -> None:
    bad = []
    for path in modules(*PACKAGES, "benchmarks"):
        own = package_of(path)
        for module, names in imports(path):
            top = module.split(".")[0]
            if top not in PACKAGES or top == own:
                continue
            private = [p for p in module.split(".")[1:] if p.startswith("_")]
            private += [n for n in names if n.startswith("_")]
            if private:
                bad.append(f"{path.relative_to(ROOT)}: from {module} import {names}")
    assert not bad, bad


def test_every_module_is_small_or_says_why() -> None:
    """Modules stay under ~400 lines unless their docstring gives the reason (``Long because``)."""
    bad = []
    for path in modules(*PACKAGES):
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if len(text.splitlines()) > MAX_LINES and "Long because" not in doc:
            bad.append(f"{path.relative_to(ROOT)}: {len(text.splitlines())} lines")
    assert not bad, bad


def test_the_command_line_and_kg_start_without_torch_or_scikit_learn() -> None:
    """``kgfusion --help`` and the ``kg`` commands load only typer (not even pandas)."""
    slow = (*HEAVY, "pandas", "networkx", "rdflib", "pydantic")
    code = (
        "import sys; import fusion.app.cli, kg.cli; "
        f"heavy = sorted(m for m in {slow!r} if m in sys.modules); "
        "assert not heavy, f'the command line imported {heavy}'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "fusion", "--help"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "kgfusion" in done.stdout, done.stderr
