"""Tests of ``kgfusion data info`` and ``kgfusion data link``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fusion.app.cli import app
from kg import GeneNormalizer, KnowledgeGraph, make_edges, save_kg

runner = CliRunner()


def _run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["info", "link"])
def test_help_has_an_example(command: str) -> None:
    code, out = _run("data", command, "--help")
    assert code == 0
    assert f"kgfusion data {command} " in out and "Example" in out


def test_info_tiny_tables(fixtures: Path) -> None:
    code, out = _run("data", "info", fixtures / "modalities_tiny")
    assert code == 0, out
    assert "Cohort with 5 samples × 2 modalities" in out
    assert "protein: 1 of 5 samples lack it (e.g. p5)" in out
    assert "6.667" in out  # the one missing mRNA value out of 15
    assert "A: 3" in out and "B: 2" in out


def test_info_json_mogonet(fixtures: Path) -> None:
    code, out = _run("data", "info", fixtures / "mogonet_tiny", "--format", "json")
    assert code == 0, out
    payload = json.loads(out)
    assert [row["modality"] for row in payload["report"]] == ["mRNA", "methylation", "miRNA"]
    assert payload["split"] == {"train": 6, "test": 4}


def test_link_tiny_with_gene_table_and_kg(fixtures: Path, tmp_path: Path) -> None:
    gene_info = fixtures / "mini_gene_info.tsv"
    code, out = _run("data", "link", fixtures / "mogonet_tiny", "--gene-info", gene_info, "-f", "tsv",
                     "--links-out", tmp_path / "links.tsv")  # fmt: skip
    assert code == 0, out
    report = pd.read_csv(pd.io.common.StringIO(out), sep="\t", index_col="modality")
    assert report.loc["mRNA", "linked"] == 1  # only TP53 of the 4 Ensembl ids is in the mini table
    assert report.loc["methylation", "unlinked"] == 3
    assert report.loc["miRNA", "linked"] == 3
    links = pd.read_csv(tmp_path / "links.tsv", sep="\t")
    assert len(links) == 10 and set(links["modality"]) == {"mRNA", "methylation", "miRNA"}

    genes = GeneNormalizer.from_gene_info(gene_info)
    kg_dir = save_kg(
        KnowledgeGraph(
            genes.nodes("mini"), make_edges(["NCBIGene:7157"], "r", ["NCBIGene:1956"], "mini")
        ),
        tmp_path / "g.kg",
    )
    code, out = _run(
        "data",
        "link",
        fixtures / "mogonet_tiny",
        "--kg",
        kg_dir,
        "--data-dir",
        tmp_path,
        "-f",
        "json",
    )
    assert code == 0, out
    rows = {row["modality"]: row for row in json.loads(out)["report"]}
    assert rows["mRNA"]["linked"] == 1  # genes come from the kg's gene nodes
    assert rows["miRNA"]["not_in_kg"] == 3


def test_link_bad_inputs(fixtures: Path, tmp_path: Path) -> None:
    code, out = _run("data", "link", tmp_path / "missing")
    assert code != 0 and "missing: no such file or folder" in out
    bad = Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path / "bad"))
    (bad / "2_tr.csv").write_text(
        "\n".join(bad.joinpath("2_tr.csv").read_text().splitlines()[:-1]) + "\n"
    )
    code, out = _run("data", "info", bad)
    assert code != 0
    assert "2_tr.csv" in out and "labels_tr.csv has 6" in out and "error:" in out
    code, out = _run("data", "link", fixtures / "mogonet_tiny", "--data-dir", tmp_path)
    assert code != 0 and "name genes" in out  # no gene table found and no --kg
    code, out = _run("data", "info", fixtures / "mini.obo")
    assert code != 0 and "cannot tell the format" in out


@pytest.mark.realdata
def test_real_info_and_link(data_dir: Path) -> None:
    code, out = _run("data", "info", data_dir / "mixomics_breast_tcga")
    assert code == 0, out
    assert "protein: 70 of 220 samples lack it" in out
    assert "Basal: 66" in out and "LumA: 110" in out
    code, out = _run(
        "data", "link", data_dir / "mogonet_rosmap", "--data-dir", data_dir, "-f", "json"
    )
    assert code == 0, out
    rows = {row["modality"]: row for row in json.loads(out)["report"]}
    assert rows["mRNA"]["linked"] >= 180
    assert rows["miRNA"]["linked"] > 0
    assert rows["methylation"]["unlinked"] == rows["methylation"]["n_features"] == 200


def test_info_and_link_h5mu(fixtures: Path, tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    mudata = pytest.importorskip("mudata")
    obs = pd.DataFrame({"y": ["a", "b", "a"]}, index=["s1", "s2", "s3"])
    rna = anndata.AnnData(np.arange(6, dtype=float).reshape(3, 2), obs=obs)
    rna.var_names = ["TP53", "ENSG00000146648.18"]
    prot = anndata.AnnData(np.ones((2, 1)), obs=obs.iloc[:2].copy())
    prot.var_names = ["ER-alpha_pS118"]
    md = mudata.MuData({"mRNA": rna, "protein": prot})
    md.obs["y"] = obs["y"]
    with anndata.settings.override(allow_write_nullable_strings=True):  # pandas 3 strings
        md.write(tmp_path / "c.h5mu")
    code, out = _run("data", "info", tmp_path / "c.h5mu", "--label-column", "y")
    assert code == 0, out
    assert "protein: 1 of 3 samples lack it (e.g. s3)" in out and "a: 2" in out
    code, out = _run(
        "data",
        "link",
        tmp_path / "c.h5mu",
        "--gene-info",
        fixtures / "mini_gene_info.tsv",
        "-f",
        "json",
    )
    assert code == 0, out
    rows = {row["modality"]: row for row in json.loads(out)["report"]}
    assert rows["mRNA"]["linked"] == 2 and rows["protein"]["linked"] == 1


# ------------------------------------------------------------------ issue 15: hostile cohort files
def _assert_clean_failure(code: int, out: str, *needles: str) -> None:
    """Exit code 2, an ``error:`` line naming what is wrong, no traceback."""
    assert code == 2, out
    assert "error:" in out and "Traceback" not in out
    for needle in needles:
        assert needle in out, (needle, out)


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("mrna_utf16.csv", "mrna.csv:1: file is UTF-16 encoded"),
        ("mrna_latin1.csv", "mrna.csv:3: byte 0xE9 at position 2 of the line is not UTF-8"),
        ("mrna_blank_lines.csv", "mrna.csv:5: non-numeric value 'oops' in column 'EGFR'"),
    ],
)
def test_info_refuses_hostile_tables_naming_file_and_line(
    fixtures: Path, tmp_path: Path, name: str, needle: str
) -> None:
    folder = tmp_path / "cohort"
    folder.mkdir()
    shutil.copy(fixtures / "cohort_bad" / name, folder / "mrna.csv")
    code, out = _run("data", "info", folder)
    _assert_clean_failure(code, out, needle)


def test_info_mogonet_messages_show_names_not_reprs(fixtures: Path, tmp_path: Path) -> None:
    bad = Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path / "m"))
    lines = (bad / "1_tr.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[2] = "nan"
    lines[1] = ",".join(cells)
    (bad / "1_tr.csv").write_text("\n".join(lines) + "\n")
    feature = (bad / "1_featname.csv").read_text().splitlines()[2]
    code, out = _run("data", "info", bad)
    _assert_clean_failure(
        code, out, "1_tr.csv:2: missing value", f"column '{feature}'", "field 3 of the line"
    )
    assert "got ''" not in out
    shutil.copy(fixtures / "mogonet_tiny" / "1_tr.csv", bad / "1_tr.csv")
    (bad / "labels_te.csv").write_text("0\n1\n2\n0\n")
    code, out = _run("data", "info", bad)
    _assert_clean_failure(code, out, "labels_te.csv:3: test label 2", "(classes [0, 1])")
    assert "np." not in out


def test_views_name_and_type_mogonet_views(fixtures: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path / "m"))
    shutil.copy(fixtures / "cohort_bad" / "regions_featname.csv", folder / "3_featname.csv")
    code, out = _run("data", "info", folder)  # view 3 typed miRNA by default: refused
    _assert_clean_failure(
        code,
        out,
        "3_featname.csv",
        "view 3 ('miRNA')",
        "'chr11_65498959_65503916_+', which looks like a genomic region",
        "--views mRNA,methylation,NAME:KIND",
    )
    views = "mRNA,methylation,regions:methylation"
    code, out = _run("data", "info", folder, "--views", views, "-f", "json")
    assert code == 0, out
    report = {row["modality"]: row for row in json.loads(out)["report"]}
    assert list(report) == ["mRNA", "methylation", "regions"]
    assert (report["regions"]["kind"], report["regions"]["id_scheme"]) == (
        "methylation",
        "genomic_region",
    )
    gene_info = fixtures / "mini_gene_info.tsv"
    code, out = _run(
        "data", "link", folder, "--views", views, "--gene-info", gene_info, "-f", "json"
    )
    assert code == 0, out
    rows = {row["modality"]: row for row in json.loads(out)["report"]}
    assert rows["regions"]["resolver"] == "none" and rows["regions"]["unlinked"] == 3
    code, out = _run("data", "info", folder, "--views", "mRNA,methylation,regions:nonsense")
    _assert_clean_failure(code, out, "kind must be one of")
    code, out = _run("data", "info", folder, "--views", "mRNA,methylation")
    _assert_clean_failure(code, out, "3 views found but 2")
    code, out = _run("data", "info", fixtures / "modalities_tiny", "--views", "mRNA")
    _assert_clean_failure(code, out, "views name the views of a MOGONET folder")


def test_link_mirna_targets_with_bad_rows(fixtures: Path, tmp_path: Path) -> None:
    targets = fixtures / "cohort_bad" / "mirtarbase_bad_rows.csv"
    gene_info = fixtures / "mini_gene_info.tsv"
    args = ("data", "link", fixtures / "mogonet_tiny", "--gene-info", gene_info)
    code, out = _run(*args, "--mirna-targets", targets)
    _assert_clean_failure(
        code, out, "mirtarbase_bad_rows.csv:6:", "MicroRNA-3907", "--on-invalid drop"
    )
    code, out = _run(*args, "--mirna-targets", targets, "--on-invalid", "drop")
    assert code == 0, out
    assert "dropped rows of --mirna-targets:" in out
    assert "dropped 1 entr(ies) naming no miRNA" in out and "line(s) 6" in out
    code, out = _run(*args, "--mirna-targets", targets, "--on-invalid", "drop", "-f", "json")
    assert code == 0, out
    assert "line(s) 6" in json.loads(out)["dropped"][0]
    code, out = _run(*args, "--mirna-targets", fixtures / "mini_mirtarbase.csv", "-f", "json")
    assert code == 0 and json.loads(out)["dropped"] == []
    code, out = _run(*args, "--mirna-targets", targets, "--on-invalid", "maybe")
    assert code == 2 and "maybe" in out


@pytest.mark.realdata
def test_real_link_mirtarbase_on_invalid_drop(data_dir: Path) -> None:
    targets = data_dir / "regulatory_networks" / "miRTarBase_SE_WR.csv"
    args = ("data", "link", data_dir / "mogonet_rosmap", "--data-dir", data_dir)
    code, out = _run(*args, "--mirna-targets", targets)
    _assert_clean_failure(code, out, "miRTarBase_SE_WR.csv:8664:", "--on-invalid drop")
    code, out = _run(*args, "--mirna-targets", targets, "--on-invalid", "drop")
    assert code == 0, out
    assert "dropped 2 entr(ies) naming no miRNA" in out and "8664, 8674" in out
