"""The explanation explorer's embedded data, escaping, caps and errors (no browser: see
``test_explorer_browser.py``), and ``kgfusion explore`` on a tiny trained model."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from fusion import InvalidParameterError
from fusion.explanations import Explanation, write_explorer
from fusion.explanations.explorer import explorer_data
from kg import KnowledgeGraph, UnknownNodeTypeError, compose, make_edges, make_nodes

sys.path.insert(0, str(Path(__file__).parent))
from _explorer import HOSTILE, tiny_explanations, tiny_kg


@pytest.fixture(scope="module")
def explanations() -> list[Explanation]:
    return tiny_explanations()


def _embedded(page: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="kgf-data">(.*?)</script>', page, re.DOTALL
    )
    assert match is not None
    return json.loads(match.group(1))


def test_items_are_patients_then_predicted_classes(explanations: list[Explanation]) -> None:
    data = explorer_data(explanations, k=3)
    kinds = [(i["id"], i["kind"]) for i in data["items"]]
    assert kinds[:5] == [(e.patient, "patient") for e in explanations]
    assert kinds[5:] == [("AD", "class"), ("CTRL", "class")]
    p1 = data["items"][0]
    assert p1["top"] == [["GO:3", 1], ["reactome:R-2", 2], ["GO:2", 3]]
    assert (p1["prediction"], p1["probability"], p1["n"]) == ("AD", 0.75, 1)
    ad = Explanation.aggregate(explanations, by=[e.prediction for e in explanations])["AD"]
    assert [t for t, _ in data["items"][5]["top"]] == ad.top(3, ["go_term", "pathway"])[
        "id"
    ].tolist()
    assert data["items"][5]["n"] == 2
    assert data["term_types"] == ["go_term", "pathway"]  # genes are inputs, not terms
    assert data["namespaces"] == ["biological_process", "molecular_function"]


def test_scores_cover_every_embedded_term(explanations: list[Explanation]) -> None:
    data = explorer_data(explanations, k=2)
    terms = data["terms"]
    assert set(terms) == {t for item in data["items"] for t, _ in item["top"]}
    for e, row in zip(explanations, data["scores"]):
        assert row == pytest.approx(e.scores.reindex(terms, fill_value=0.0).tolist(), rel=1e-3)


def test_subgraph_is_explanation_subgraph_with_layers(explanations: list[Explanation]) -> None:
    data = explorer_data(explanations, k=4)
    graph = data["items"][0]["graph"]
    expected = explanations[0].subgraph(4, ["go_term", "pathway"])
    assert {n[0] for n in graph["nodes"]} == set(expected.nodes)
    ids = [n[0] for n in graph["nodes"]]
    edges = [(ids[u], ids[v], data["relations"][r]) for u, v, r in graph["edges"]]
    assert sorted(edges) == sorted(expected.edges(keys=True))
    layer = {n[0]: n[1] for n in graph["nodes"]}
    assert layer["NCBIGene:1"] == 0  # the input on the left
    assert layer["GO:3"] == 1 and layer["GO:2"] == 2  # terms by hops from it
    flags = {n[0]: (n[2], n[3]) for n in graph["nodes"]}
    assert flags["NCBIGene:1"] == (0, 1) and flags["GO:3"] == (1, 0)


def test_term_info_lists_input_genes_and_ranking_patients(explanations: list[Explanation]) -> None:
    data = explorer_data(explanations, k=3)
    go4 = data["term_info"]["GO:4"]
    assert go4["genes"] == ["NCBIGene:4", "NCBIGene:5"] and go4["n_genes"] == 2
    ranked = [(data["items"][i]["id"], r) for i, r in go4["items"]]
    assert ranked[:3] == [("p3", 1), ("p10", 1), (HOSTILE, 1)]
    go2 = data["term_info"]["GO:2"]  # G1-G3 reach GO:2 through GO:3 (true-path rule)
    assert go2["genes"] == ["NCBIGene:1", "NCBIGene:2", "NCBIGene:3"]
    assert data["nodes"]["NCBIGene:1"] == ["G1", "gene", ""]


def test_caps_on_terms_and_genes(explanations: list[Explanation]) -> None:
    data = explorer_data(explanations, k=1, max_genes=1)
    assert all(len(item["top"]) <= 1 for item in data["items"])
    info = data["term_info"]["GO:3"]
    assert len(info["genes"]) == 1 and info["n_genes"] == 3
    assert data["caps"] == {"k": 1, "max_len": 3, "max_genes": 1}


def test_a_larger_kg_gives_more_genes(explanations: list[Explanation]) -> None:
    extra = KnowledgeGraph(
        pd.concat(
            [
                make_nodes(["NCBIGene:99"], "gene", "x", name=["G99"]),
                make_nodes(["GO:3"], "go_term", "x"),
            ]
        ),
        make_edges(["NCBIGene:99"], "involved_in", ["GO:3"], "x"),
    )
    bigger = compose([explanations[0].kg, extra])
    e = [
        *explanations,
        Explanation(explanations[0].kg, pd.Series({"GO:3": 1.0}), [], "p99", method="ig"),
    ]
    data = explorer_data(e, kg=bigger, k=2)
    assert data["term_info"]["GO:3"]["n_genes"] == 3  # G99 is nobody's input
    with_input = [
        Explanation(bigger, ex.scores, ex.inputs, ex.patient, ex.prediction, method="ig")
        for ex in explanations
    ] + [Explanation(bigger, pd.Series({"GO:3": 1.0}), ["NCBIGene:99"], "p99", "AD", method="ig")]
    data = explorer_data(with_input, k=2)
    assert "NCBIGene:99" in data["term_info"]["GO:3"]["genes"]


def test_hostile_strings_cannot_leave_the_json(
    explanations: list[Explanation], tmp_path: Path
) -> None:
    page = write_explorer(explanations, tmp_path / "x.html", k=5, title=HOSTILE).read_text()
    assert HOSTILE not in page
    assert page.count("</script>") == 2  # the data element's and the code's own end tags
    assert "<img" not in page
    assert f"<title>{HOSTILE}" not in page and "&lt;/script&gt;" in page
    data = _embedded(page)
    assert data["title"] == HOSTILE
    assert HOSTILE in [i["id"] for i in data["items"]]
    assert data["nodes"]["GO:4"][0] == HOSTILE


def test_page_is_offline(explanations: list[Explanation], tmp_path: Path) -> None:
    page = write_explorer(explanations, tmp_path / "x.html").read_text()
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched
    assert not re.search(r"<(link|iframe|img)\b", page)
    assert "default-src 'none'" in page  # and the page forbids fetching anything
    assert len(page) < 60_000


def test_errors_name_the_problem(explanations: list[Explanation], tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="at least one"):
        write_explorer([], tmp_path / "x.html")
    with pytest.raises(InvalidParameterError, match="repeated: \\['p1'\\]"):
        write_explorer([explanations[0], explanations[0]], tmp_path / "x.html")
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        write_explorer(explanations, tmp_path / "x.html", k=0)
    other = Explanation(explanations[0].kg, pd.Series({"GO:1": 1.0}), [], "q", method="other")
    with pytest.raises(InvalidParameterError, match="method"):
        write_explorer([explanations[0], other], tmp_path / "x.html")
    with pytest.raises(UnknownNodeTypeError):
        write_explorer(explanations, tmp_path / "x.html", types="disease")
    assert not list(tmp_path.iterdir())


def test_a_kg_with_one_patient_and_no_reach(tmp_path: Path) -> None:
    kg = tiny_kg()
    e = Explanation(kg, pd.Series({"GO:4": 1.0}), ["NCBIGene:1"], "alone", method="ig")
    data = _embedded(write_explorer([e], tmp_path / "x.html", max_len=1).read_text())
    assert data["items"][0]["graph"]["nodes"] == [] and data["items"][0]["graph"]["unreached"] == 1
    assert [i["id"] for i in data["items"]] == ["alone", "None"]  # no prediction: one class


@pytest.mark.slow
def test_cli_explore_writes_a_page_for_the_chosen_patients(tmp_path: Path) -> None:
    from _workspace import planted_workspace
    from typer.testing import CliRunner

    from fusion.app.cli import app

    cohort = planted_workspace(tmp_path, n_samples=30, n_features=80, max_epochs=3)
    folder = tmp_path / "cohort"
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(tmp_path / "run.yaml"), "--no-progress"])
    assert result.exit_code == 0, result.output
    chosen = [str(s) for s in cohort.samples[:4]]
    target = tmp_path / "page.html"
    args = ["explore", "-m", str(tmp_path / "out" / "model"), "-d", str(folder), "-o", str(target)]
    result = runner.invoke(
        app, [*args, "--patients", ",".join(chosen[:3]), "--patients", chosen[3], "-k", "5"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {target} (4 patients)"
    data = _embedded(target.read_text(encoding="utf-8"))
    patients = [i["id"] for i in data["items"] if i["kind"] == "patient"]
    assert patients == chosen and data["method"] == "contribution"
    assert all(0 < len(i["top"]) <= 5 for i in data["items"])
    result = runner.invoke(app, [*args, "--patients", "nobody"])
    assert result.exit_code == 2 and "nobody" in result.output
