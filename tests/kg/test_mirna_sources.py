"""miRNA sources: MIR genes (gene_info), miRBase2Reactome, miRTarBase's malformed rows, the
shared preset's miRNA default and the precursor → miRNA node link rule."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusion import Cohort, link_cohort
from kg import (
    ParseError,
    build_kg,
    gene_precursor,
    mirna_id,
    read_mirna_genes,
    read_mirna_pathways,
    read_mirna_targets,
    shared_sources,
)
from kg.build import Source, cache_key

DATA = Path(__file__).parent.parent / "data"
GENE_INFO = DATA / "mini_mirbase_gene_info.txt"
PATHWAYS = DATA / "mini_mirbase2reactome.txt"
ACCESSIONS = DATA / "mini_mirbase_accessions.txt"


@pytest.mark.parametrize(
    ("name", "precursor"),
    [
        ("microRNA 21", "hsa-mir-21"),
        ("microRNA let-7a-1", "hsa-let-7a-1"),
        ("microRNA 548BC", "hsa-mir-548bc"),
        ("MIRN103-1", "hsa-mir-103-1"),
        ("MIR103-1AS", "hsa-mir-103-1-as"),
        ("MIR103-2-AS", "hsa-mir-103-2-as"),
        ("MIR548AS", "hsa-mir-548as"),  # a family letter pair, not antisense
        ("tumor protein p53", None),
        ("miR-17-92a-1 cluster host gene", None),
        ("MIR17HGX1", None),
    ],
)
def test_gene_precursor(name, precursor):
    assert gene_precursor(name) == precursor


@given(
    family=st.integers(1, 9999),
    letter=st.sampled_from(["", "a", "b"]),
    paralog=st.integers(1, 4),
    arm=st.sampled_from(["-5p", "-3p", ""]),
)
def test_property_mir_gene_meets_its_mature_mirna(family, letter, paralog, arm):
    # the gene "microRNA 92a-1" and the mature "hsa-miR-92a-3p" reach one node
    gene = gene_precursor(f"microRNA {family}{letter}-{paralog}")
    assert (
        mirna_id(gene)
        == mirna_id(f"hsa-miR-{family}{letter}{arm}")
        == (f"mirna:hsa-mir-{family}{letter}")
    )


def test_read_mirna_genes():
    kg = read_mirna_genes(GENE_INFO)
    edges = set(zip(kg.edges["source"], kg.edges["relation"], kg.edges["target"]))
    assert edges == {
        ("mirna:hsa-mir-21", "transcribed_from", "NCBIGene:406991"),
        ("mirna:hsa-let-7a", "transcribed_from", "NCBIGene:406881"),
        ("mirna:hsa-mir-103a", "transcribed_from", "NCBIGene:406895"),
        ("mirna:hsa-mir-103b", "transcribed_from", "NCBIGene:100302238"),
    }  # TP53 and the host gene MIR17HG are no miRNA genes
    assert kg.node("mirna:hsa-mir-103b")["alt_ids"] == ["mirna:hsa-mir-103-1-as"]
    assert kg.node("mirna:hsa-mir-103a")["alt_ids"] == ["mirna:hsa-mir-103"]
    assert kg.node("mirna:hsa-mir-21")["alt_ids"] == []  # its aliases all name hsa-mir-21
    assert kg.node("mirna:hsa-mir-21")["name"] == "hsa-mir-21"
    assert kg.metadata["sources"][0]["dropped"] == {"not_mirbase_name": {"rows": 0, "lines": []}}


def test_read_mirna_genes_needs_the_gene_columns(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("entrez_id\tsymbol\n1\tA1BG\n")
    with pytest.raises(ParseError, match=r"lacks columns \['name'\]"):
        read_mirna_genes(path)


def test_read_mirna_pathways_maps_accessions_and_counts_unknown_ones(caplog):
    with caplog.at_level(logging.WARNING, logger="kg.tables"):
        kg = read_mirna_pathways(PATHWAYS, accessions=ACCESSIONS, on_unknown="drop")
    edges = set(zip(kg.edges["source"], kg.edges["relation"], kg.edges["target"]))
    assert edges == {
        ("mirna:hsa-let-7a", "participates_in", "reactome:R-HSA-9839394"),
        ("mirna:hsa-mir-21", "participates_in", "reactome:R-HSA-8943723"),
        ("mirna:hsa-mir-21", "participates_in", "reactome:R-HSA-9725371"),  # from MIMAT0000076
    }
    assert kg.node("reactome:R-HSA-8943723")["name"] == "Regulation of PTEN mRNA translation"
    assert kg.node("reactome:R-HSA-8943723")["type"] == "pathway"
    assert kg.metadata["sources"][0]["dropped"] == {"unknown_accession": {"rows": 1, "lines": [4]}}
    assert "mini_mirbase2reactome.txt: dropped 1" in caplog.text and "line(s) 4" in caplog.text


def test_read_mirna_pathways_raises_on_an_unknown_accession_by_default():
    with pytest.raises(ParseError, match=r"mini_mirbase2reactome.txt:4: .*MI9999999"):
        read_mirna_pathways(PATHWAYS, accessions=ACCESSIONS)


def test_read_mirna_pathways_refuses_a_name_that_is_no_mirna(tmp_path):
    accessions = tmp_path / "acc.txt"
    accessions.write_text("MI0000077\thsa-mir-21\nMI0000060\tTP53\n")
    with pytest.raises(ParseError, match=r"acc.txt:2: .*'TP53'"):
        read_mirna_pathways(PATHWAYS, accessions=accessions, on_unknown="drop")


def test_mirtarbase_malformed_rows_are_dropped_and_counted(tmp_path, caplog):
    lines = (DATA / "mini_mirtarbase.csv").read_text().splitlines()
    lines += [  # the two malformed miRTarBase rows (its lines 8664, 8674), and a bad gene
        "MIRT5,MicroRNA\u20113907,hsa,TP53,7157,hsa,qRT-PCR,Functional MTI,5",
        "MIRT6,miRNA-143-5p,hsa,TP53,7157,hsa,qRT-PCR,Functional MTI,6",
        "MIRT7,hsa-miR-21-5p,hsa,XYZ,,hsa,qRT-PCR,Functional MTI,7",
    ]
    path = tmp_path / "mtb.csv"
    path.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="kg.tables"):
        kg = read_mirna_targets(path, on_invalid="drop")
    assert kg.number_of_edges() == 5  # those of the mini table
    assert kg.metadata["sources"][0]["dropped"] == {
        "gene_not_entrez": {"rows": 1, "lines": [8]},
        "no_mirna": {"rows": 2, "lines": [6, 7]},
    }
    assert "mtb.csv: dropped 2 entr(ies) naming no miRNA" in caplog.text
    assert "line(s) 6, 7" in caplog.text
    with pytest.raises(ParseError, match=r"mtb.csv:8: .*integer id"):  # by default
        read_mirna_targets(path)


def test_shared_sources_include_mirnas_by_default(tmp_path):
    formats = [s.format for s in shared_sources(tmp_path).sources]
    assert formats[-2:] == ["mirna_targets", "mirna_genes"]
    assert shared_sources(tmp_path).sources[-2].options == {"on_invalid": "drop"}
    assert not {"mirna_targets", "mirna_genes"} & {
        s.format for s in shared_sources(tmp_path, mirna=False).sources
    }
    with_pathways = shared_sources(tmp_path, mirbase_accessions=ACCESSIONS).sources[-1]
    assert with_pathways.format == "mirna_pathways"
    assert with_pathways.files()[1] == ACCESSIONS  # hashed into the cache key


@pytest.mark.realdata
def test_cache_key_changes_with_the_mirna_sources(data_dir):
    keys = {
        cache_key(shared_sources(data_dir)),
        cache_key(shared_sources(data_dir, mirna=False)),
        cache_key(shared_sources(data_dir, mirbase_accessions=ACCESSIONS)),
    }
    assert len(keys) == 3


def _mini_kg():
    sources = [
        Source(DATA / "mini_mirtarbase.csv", "mirna_targets"),
        Source(GENE_INFO, "mirna_genes"),
    ]
    return build_kg(sources, cache_dir=False, progress=False, workers=1)


def test_precursors_link_to_mature_and_renamed_mirnas():
    features = [
        "hsa-mir-21",  # the node of hsa-miR-21-5p / -3p
        "HSA-MIR-21",  # case
        "hsa-let-7a-2",  # paralog locus of the let-7a gene
        "hsa-mir-103-1-as",  # renamed hsa-mir-103b-1: an alt id
        "hsa-mir-103-2",  # renamed hsa-mir-103a-2
        "hsa-mir-99x",  # no such miRNA
    ]
    mir = pd.DataFrame([[1.0] * len(features)], index=["p1"], columns=features)
    links = link_cohort(Cohort({"miRNA": mir}), _mini_kg())
    nodes = links.feature_nodes("miRNA").tolist()
    assert nodes[:5] == [
        "mirna:hsa-mir-21",
        "mirna:hsa-mir-21",
        "mirna:hsa-let-7a",
        "mirna:hsa-mir-103b",
        "mirna:hsa-mir-103a",
    ]
    status = links.features.set_index("feature")["status"]
    assert status["hsa-mir-103-2"] == "linked" and status["hsa-mir-99x"] == "not_in_kg"
    via = links.links.set_index("feature")["via"]
    assert via["hsa-mir-103-2"] == "mirna_alt_id" and via["hsa-mir-21"] == "mirna"


@pytest.mark.realdata
def test_real_shared_kg_links_tcga_brca_and_rosmap_mirnas(data_dir, tmp_path):
    kg = build_kg(shared_sources(data_dir), cache_dir=tmp_path, progress=False)
    brca = pd.read_csv(data_dir / "tcga_brca_multiomics/mirna.csv.gz", index_col=0, nrows=2)
    rosmap_names = pd.read_csv(data_dir / "mogonet_rosmap/3_featname.csv", header=None)[0]
    rosmap = pd.DataFrame([[0.0] * len(rosmap_names)], index=["p"], columns=rosmap_names)
    shares = {}
    for name, table in (("brca", brca), ("rosmap", rosmap)):
        status = link_cohort(Cohort({"miRNA": table}), kg).features["status"]
        shares[name] = status.isin(["linked", "multiple"]).mean()
    # measured: BRCA 1,031 of 1,046 (98.6%; 0 before miRNAs were in the default KG), ROSMAP
    # 188 of 200 (94%; the 12 others: viral miRNAs and four combined probes' partners)
    assert len(brca.columns) == 1046 and shares["brca"] >= 0.97
    assert shares["rosmap"] >= 0.92
    assert kg.metadata["sources"][-2]["dropped"]["no_mirna"] == {"rows": 2, "lines": [8664, 8674]}
