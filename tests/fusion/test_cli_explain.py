"""``kgfusion explain`` output options on a tiny trained model (issue 15 items 20 and 24)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusion.app.cli import app

pytestmark = pytest.mark.slow

runner = CliRunner()


def _run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def model(planted_model: tuple[Path, Path, list[str]]) -> tuple[Path, Path, str]:
    """A model folder written by ``kgfusion train``, its cohort folder and one patient."""
    folder, cohort, patients = planted_model
    return folder, cohort, patients[0]


def test_json_out_writes_the_file(model: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, cohort, patient = model
    target = tmp_path / "e.json"
    code, out = _run("explain", "-m", folder, "-d", cohort, "-p", patient, "-t", "pathway",
                     "--top", "4", "-f", "json", "-o", target)  # fmt: skip
    assert code == 0, out
    assert out.strip() == f"wrote {target}"  # was: printed, -o ignored
    payload = json.loads(target.read_text())
    assert payload[0]["patient"] == patient and len(payload[0]["top"]) == 4
    table = tmp_path / "e.txt"
    code, out = _run("explain", "-m", folder, "-d", cohort, "-p", patient, "-o", table)
    assert code == 0 and f"patient {patient}" in table.read_text()


def test_table_leaves_out_zero_scores(model: tuple[Path, Path, str]) -> None:
    folder, cohort, patient = model
    args = ("explain", "-m", folder, "-d", cohort, "-p", patient, "-t", "pathway", "--top", "1000",
            "--method", "ig_features", "--decompose")  # fmt: skip
    code, out = _run(*args)
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.strip().startswith("reactome:")]
    assert rows and all(float(line.split()[-2]) > 0 for line in rows)
    assert "score 0; --include-zero lists them" in out
    code, full = _run(*args, "--include-zero")
    assert code == 0 and len([x for x in full.splitlines() if "reactome:" in x]) > len(rows)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--method", "contribution", "--decompose"), "ig_features"),  # scores no inputs
        (("--method", "ig_features", "--decompose", "--min-inputs", "0"), "min_inputs"),
    ],
)
def test_a_decomposition_it_cannot_do_is_refused(
    model: tuple[Path, Path, str], options: tuple[str, ...], named: str
) -> None:
    folder, cohort, patient = model
    result = runner.invoke(
        app, ["explain", "-m", str(folder), "-d", str(cohort), "-p", patient, *options]
    )
    assert result.exit_code == 2 and named in result.output


def test_subgraph_formats_write_files(model: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, cohort, patient = model
    for fmt in ("png", "graphml", "html"):
        target = tmp_path / f"e.{fmt}"
        code, out = _run("explain", "-m", folder, "-d", cohort, "-p", patient, "-t", "pathway",
                         "-f", fmt, "-o", target)  # fmt: skip
        assert code == 0 and target.stat().st_size > 0, out


@pytest.mark.parametrize("fmt", ["png", "graphml", "html"])
def test_an_empty_subgraph_is_refused_naming_the_max_len(tmp_path: Path, fmt: str) -> None:
    """The top node is 2 hops from the only input: --max-len 1 reaches nothing. Before: png
    crashed (figure size nan), graphml wrote an empty graph."""
    import pandas as pd

    from fusion import FusionError
    from fusion.app._explain_output import ExplainFormat, emit_explanations
    from fusion.explanations import Explanation
    from kg import KnowledgeGraph, make_edges, make_nodes

    nodes = pd.concat(
        [make_nodes(["NCBIGene:1"], "gene", "t"), make_nodes(["L", "T"], "pathway", "t")]
    )
    graph = KnowledgeGraph(
        nodes, make_edges(["NCBIGene:1", "L"], ["member_of", "part_of"], ["L", "T"], "t")
    )
    e = Explanation(
        graph, pd.Series({"T": 1.0}), ["NCBIGene:1"], "p1", method="ig", probability=0.9
    )
    target = tmp_path / f"e.{fmt}"
    with pytest.raises(FusionError, match="max.len.* 2"):
        emit_explanations([e], ExplainFormat(fmt), target, 1, "pathway", None, max_len=1)
    assert not target.exists()
    emit_explanations([e], ExplainFormat(fmt), target, 1, "pathway", None, max_len=2)
    assert target.stat().st_size > 0


def test_the_max_share_default_is_the_python_one() -> None:
    from fusion.app import cli_run
    from fusion.explanations import MAX_SHARE

    assert cli_run.MAX_SHARE == MAX_SHARE


@pytest.mark.parametrize("fmt", ["graphml", "table"])
def test_no_term_to_show_says_so_and_names_max_share(tmp_path: Path, fmt: str) -> None:
    """Every pathway is reached by all 12 inputs: graphml writes nothing (was: an empty graph),
    the table says why; with max_share=None both show the pathway."""
    from dataclasses import replace

    import pandas as pd

    from fusion import FusionError
    from fusion.app._explain_output import ExplainFormat, emit_explanations
    from fusion.explanations import Explanation
    from kg import KnowledgeGraph, make_edges, make_nodes

    genes = [f"NCBIGene:{i}" for i in range(12)]
    nodes = pd.concat([make_nodes(genes, "gene", "t"), make_nodes(["T"], "pathway", "t")])
    graph = KnowledgeGraph(nodes, make_edges(genes, "member_of", ["T"] * 12, "t"))
    e = Explanation(graph, pd.Series({"T": 1.0}), genes, "p1", method="ig", probability=0.9)
    target = tmp_path / f"e.{fmt}"
    if fmt == "graphml":
        with pytest.raises(FusionError, match="no node of the explanation.*--max-share 1"):
            emit_explanations([e], ExplainFormat(fmt), target, 5, "pathway", None)
        assert not target.exists()
    else:
        emit_explanations([e], ExplainFormat(fmt), target, 5, "pathway", None)
        assert "--max-share 1 lists them" in target.read_text()
    emit_explanations([replace(e, max_share=None)], ExplainFormat(fmt), target, 5, "pathway", None)
    text = target.read_text()
    assert ('<node id="T">' if fmt == "graphml" else "1.0") in text and "max-share" not in text
