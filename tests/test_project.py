"""Project-level promises: the README's test command is what CI runs; ``kg`` and the CLI import without torch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    test_command = commands[1].split("&&")[-1].strip()
    assert test_command.startswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in [line.strip() for line in ci]


def test_kg_imports_without_torch() -> None:
    code = "import sys, kg; assert 'torch' not in sys.modules, 'kg imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_command_line_starts_without_torch() -> None:
    """``fusion`` exports lazily: the CLI (and ``kgfusion kg ...``) does not pay torch's import."""
    code = (
        "import sys, fusion, fusion.app.cli; assert 'torch' not in sys.modules, 'the CLI imported torch'; "
        "from fusion import Cohort, KGFusionClassifier; assert 'torch' in sys.modules; "
        "assert sorted(fusion.__all__) == sorted(n for n in fusion.__all__ if hasattr(fusion, n))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
