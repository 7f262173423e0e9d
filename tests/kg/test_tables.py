"""Tests of the annotation/edge table readers: tiny fixtures, bad input, hypothesis, real data."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg import (
    ConflictingDefinitionError,
    DanglingReferenceError,
    GeneNormalizer,
    KnowledgeGraph,
    ParseError,
)
from kg.tables import (
    read_edge_table,
    read_gaf,
    read_gene2go,
    read_gmt,
    read_hpo_annotations,
    read_mirna_targets,
    read_reactome_pathways,
)

REACTOME = "reactome/ReactomePathways_human_2025-01-21.txt"
REACTOME_HIERARCHY = "reactome/ReactomePathwaysRelation_human_2025-01-14.txt"


def edge_set(kg: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return set(map(tuple, kg.edges[["source", "relation", "target"]].to_numpy().tolist()))


@pytest.fixture(scope="module")
def genes(fixtures) -> GeneNormalizer:
    return GeneNormalizer.from_gene_info(fixtures / "mini_kg_gene_info.tsv")


# ------------------------------------------------------------------------------- gene2go
def test_gene2go_relations_follow_the_aspect_and_repeats_collapse(fixtures):
    kg = read_gene2go(fixtures / "mini_gene2go.tsv")
    assert edge_set(kg) == {  # TP53's two evidence rows give one edge
        ("NCBIGene:7157", "involved_in", "GO:0000003"),
        ("NCBIGene:672", "involved_in", "GO:0022414"),
        ("NCBIGene:672", "enables", "GO:0008150"),
    }
    assert kg.node("NCBIGene:7157")["name"] == "TP53"
    assert kg.nodes["type"].value_counts().to_dict() == {"go_term": 3, "gene": 2}
    assert set(kg.nodes["provenance"]) == set(kg.edges["provenance"]) == {"mini_gene2go.tsv"}


def test_gene2go_ncbi_layout_skips_not_qualifiers(tmp_path):
    path = tmp_path / "gene2go"
    path.write_text(
        "#tax_id\tGeneID\tGO_ID\tEvidence\tQualifier\tGO_term\tPubMed\tCategory\n"
        "9606\t7157\tGO:0000003\tIDA\tinvolved_in\treproduction\t1\tProcess\n"
        "9606\t7157\tGO:0008150\tIDA\tNOT involved_in\tbp\t1\tProcess\n"
        "9606\t672\tGO:0005634\tIDA\tlocated_in\tnucleus\t1\tComponent\n"
    )
    assert edge_set(read_gene2go(path)) == {
        ("NCBIGene:7157", "involved_in", "GO:0000003"),
        ("NCBIGene:672", "located_in", "GO:0005634"),
    }


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (
            "x7157\tTP53\tGO:1\tIDA\tbiological_process",
            r"g2g\.tsv:3: column 'entrez_id' holds 'x7157'",
        ),
        (
            "7157\tTP53\tGO:1\tIDA\tbiological_proces",
            r"g2g\.tsv:3: column 'namespace' holds 'biological_proces'",
        ),
        ("7157\tTP53\tGO:1\tIDA\tbiological_process\textra", r"g2g\.tsv:3: malformed table"),
    ],
)
def test_gene2go_bad_rows_name_file_and_line(tmp_path, row, match):
    path = tmp_path / "g2g.tsv"
    path.write_text(
        "entrez_id\tsymbol\tgo_id\tevidence\tnamespace\n7157\tTP53\tGO:2\tIDA\tbiological_process\n"
        + row
        + "\n"
    )
    with pytest.raises(ParseError, match=match) as error:
        read_gene2go(path)
    assert error.value.path == str(path) and error.value.line == 3


def test_tables_without_required_columns_or_rows_raise(tmp_path):
    path = tmp_path / "g2g.tsv"
    path.write_text("gene\tterm\n1\tGO:1\n")
    with pytest.raises(
        ParseError,
        match=r"g2g\.tsv:1: gene2go table lacks columns \['entrez_id', 'go_id', 'namespace'\]",
    ):
        read_gene2go(path)
    path.write_text("")
    with pytest.raises(ParseError, match=r"g2g\.tsv:1: empty file"):
        read_gene2go(path)


# ----------------------------------------------------------------------------------- GAF
def test_gaf_qualifiers_aspects_and_not(fixtures):
    kg = read_gaf(fixtures / "mini.gaf")
    assert edge_set(kg) == {  # the NOT line is skipped; an empty qualifier takes the aspect's
        ("UniProtKB:P04637", "involved_in", "GO:0000003"),
        ("UniProtKB:P38398", "involved_in", "GO:0022414"),
    }
    assert set(kg.nodes_of_type("protein")) == {"UniProtKB:P04637", "UniProtKB:P38398"}
    assert kg.node("UniProtKB:P04637")["name"] == "TP53"


def test_gaf_products_resolve_to_genes(fixtures, genes):
    kg = read_gaf(fixtures / "mini.gaf", genes=genes)
    assert set(kg.nodes_of_type("gene")) == {"NCBIGene:7157", "NCBIGene:672"}
    assert ("NCBIGene:7157", "involved_in", "GO:0000003") in edge_set(kg)


def test_gaf_line_with_wrong_column_count_names_file_and_line(fixtures, tmp_path):
    lines = (fixtures / "mini.gaf").read_text().splitlines()
    lines[3] = "\t".join(lines[3].split("\t")[:12])  # 12 columns on line 4
    path = tmp_path / "bad.gaf"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ParseError, match=r"bad\.gaf:4: GAF line has 12 tab-separated columns; GAF 2\.x has 17"
    ) as error:
        read_gaf(path)
    assert (error.value.path, error.value.line) == (str(path), 4)


def test_gaf_unknown_aspect_names_the_line(fixtures, tmp_path):
    text = (fixtures / "mini.gaf").read_text().replace("\tIMP\t\tP\t", "\tIMP\t\tQ\t")
    path = tmp_path / "aspect.gaf"
    path.write_text(text)
    with pytest.raises(ParseError, match=r"aspect\.gaf:5: column 'aspect' holds 'Q'"):
        read_gaf(path)


# ----------------------------------------------------------------------------------- GMT
def test_gmt_reactome_and_msigdb_sets(fixtures, genes):
    kg = read_gmt(fixtures / "mini.gmt", genes)
    assert edge_set(kg) == {
        ("NCBIGene:7157", "member_of", "reactome:R-HSA-109581"),
        ("NCBIGene:672", "member_of", "reactome:R-HSA-109581"),
        ("NCBIGene:1956", "member_of", "reactome:R-HSA-177929"),  # NOTAGENE dropped
        ("NCBIGene:7157", "member_of", "msigdb:HALLMARK_P53_PATHWAY"),
        ("NCBIGene:1956", "member_of", "msigdb:HALLMARK_P53_PATHWAY"),  # alias ERBB1
    }
    assert kg.node("reactome:R-HSA-109581")["name"] == "Apoptosis"
    assert kg.node("msigdb:HALLMARK_P53_PATHWAY")["type"] == "pathway"


def test_gmt_unknown_member_can_raise_with_line(fixtures, genes):
    with pytest.raises(ParseError, match=r"mini\.gmt:2: gene 'NOTAGENE' is unmapped"):
        read_gmt(fixtures / "mini.gmt", genes, on_unknown="raise")


@pytest.mark.parametrize("line", ["only-a-name", "name\tR-HSA-1", "\tR-HSA-1\tTP53"])
def test_gmt_short_or_nameless_line_names_the_line(tmp_path, genes, line):
    path = tmp_path / "bad.gmt"
    path.write_text(f"ok\tR-HSA-9\tTP53\n\n{line}\n")
    with pytest.raises(ParseError, match=r"bad\.gmt:3: GMT line needs"):
        read_gmt(path, genes)


# ------------------------------------------------------------- conflicting definitions
@pytest.mark.parametrize(
    ("reader", "name", "text", "match"),
    [
        (
            read_gene2go,
            "g2g.tsv",
            (
                "entrez_id\tsymbol\tgo_id\tevidence\tnamespace\n7157\tTP53\tGO:1\tIDA\tbiological_process\n"
                "7157\tP53\tGO:2\tIDA\tbiological_process\n"
            ),
            r"g2g\.tsv:3: id 'NCBIGene:7157' is given conflicting names \['TP53', 'P53'\]",
        ),
        (
            read_hpo_annotations,
            "g2p.tsv",
            "ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\n7157\tTP53\tHP:1\tNeoplasm\n672\tBRCA1\tHP:1\tTumour\n",
            r"g2p\.tsv:3: id 'HP:1' is given conflicting names \['Neoplasm', 'Tumour'\]",
        ),
    ],
)
def test_duplicate_ids_with_conflicting_names(tmp_path, reader, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConflictingDefinitionError, match=match):
        reader(path)


def test_gmt_set_id_with_two_names(tmp_path, genes):
    path = tmp_path / "sets.gmt"
    path.write_text("Apoptosis\tR-HSA-1\tTP53\nCell death\tR-HSA-1\tBRCA1\n")
    with pytest.raises(
        ConflictingDefinitionError,
        match=r"sets\.gmt:2: id 'reactome:R-HSA-1' is given conflicting names",
    ):
        read_gmt(path, genes)


# --------------------------------------------------------------------- HPO annotations
def test_hpo_annotations(fixtures):
    kg = read_hpo_annotations(fixtures / "mini_genes_to_phenotype.tsv")
    assert edge_set(kg) == {  # two diseases, one gene → phenotype edge
        ("NCBIGene:7157", "has_phenotype", "HP:0002664"),
        ("NCBIGene:672", "has_phenotype", "HP:0003002"),
    }
    assert kg.node("HP:0003002")["name"] == "Breast carcinoma"
    assert kg.node("NCBIGene:672")["name"] == "BRCA1"
    assert kg.nodes["type"].value_counts().to_dict() == {"gene": 2, "phenotype": 2}


# -------------------------------------------------------------------------------- Reactome
def test_reactome_pathways_keep_one_species_and_the_hierarchy(fixtures):
    kg = read_reactome_pathways(
        fixtures / "mini_reactome_pathways.txt", fixtures / "mini_reactome_hierarchy.txt"
    )
    assert list(kg.nodes.index) == [
        "reactome:R-HSA-109581",
        "reactome:R-HSA-109606",
        "reactome:R-HSA-177929",
    ]
    assert edge_set(kg) == {("reactome:R-HSA-109606", "part_of", "reactome:R-HSA-109581")}
    assert kg.node("reactome:R-HSA-109606")["name"] == "Intrinsic Pathway for Apoptosis"
    every = read_reactome_pathways(fixtures / "mini_reactome_pathways.txt", species=None)
    assert "reactome:R-MMU-109581" in every and every.number_of_edges() == 0


def test_reactome_dangling_child(fixtures, tmp_path):
    hierarchy = tmp_path / "rel.txt"
    hierarchy.write_text("R-HSA-109581\tR-HSA-109606\nR-HSA-109581\tR-HSA-999\n")
    names = fixtures / "mini_reactome_pathways.txt"
    with pytest.raises(DanglingReferenceError, match="R-HSA-999"):
        read_reactome_pathways(names, hierarchy)
    assert read_reactome_pathways(names, hierarchy, on_dangling="drop").number_of_edges() == 1
    added = read_reactome_pathways(names, hierarchy, on_dangling="add")
    assert added.node("reactome:R-HSA-999")["type"] == "pathway" and added.number_of_edges() == 2


# ---------------------------------------------------------------------------- miRNA targets
def test_mirna_targets_precursor_nodes_with_mature_synonyms(fixtures):
    kg = read_mirna_targets(fixtures / "mini_mirtarbase.csv")
    assert edge_set(kg) == {
        ("mirna:hsa-mir-21", "targets", "NCBIGene:7157"),
        ("mirna:hsa-mir-21", "targets", "NCBIGene:672"),
        ("mirna:hsa-mir-1", "targets", "NCBIGene:1956"),  # "miR-1" takes the species column
        ("mirna:hsa-mir-27a", "targets", "NCBIGene:7157"),  # a combined entry gives two edges
        ("mirna:hsa-mir-30b", "targets", "NCBIGene:7157"),
    }
    assert kg.node("mirna:hsa-mir-21")["synonyms"] == ["hsa-miR-21-3p", "hsa-miR-21-5p"]
    assert kg.node("mirna:hsa-mir-21")["name"] == "hsa-mir-21"


def test_mirna_targets_unknown_names_raise_or_drop(fixtures, tmp_path):
    path = tmp_path / "t.csv"
    text = (fixtures / "mini_mirtarbase.csv").read_text()
    path.write_text(text + "MIRT5,MicroRNA-3907,hsa,TP53,7157,hsa,x,y,5\n")
    with pytest.raises(ParseError, match=r"t\.csv:6: column 'miRNA' holds 'MicroRNA-3907'"):
        read_mirna_targets(path)
    assert read_mirna_targets(path, on_unknown="drop").number_of_edges() == 5


# ------------------------------------------------------------------------------- edge table
def test_edge_table_types_by_prefix_and_duplicates(fixtures):
    kg = read_edge_table(fixtures / "mini_edges.tsv")
    assert kg.number_of_edges() == 3
    assert kg.nodes["type"].to_dict() == {
        "NCBIGene:7157": "gene",
        "mirna:hsa-mir-21": "mirna",
        "NCBIGene:672": "gene",
        "GO:0008150": "go_term",
    }
    fixed = read_edge_table(fixtures / "mini_edges.tsv", source_type="gene", target_type="thing")
    assert (
        fixed.node("mirna:hsa-mir-21")["type"] == "gene"
        and fixed.node("GO:0008150")["type"] == "thing"
    )


def test_edge_table_csv_custom_columns_and_empty_cells(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("a,rel,b\nNA,likes,null\n")  # ids that pandas would read as missing by default
    assert edge_set(read_edge_table(path, source="a", relation="rel", target="b")) == {
        ("NA", "likes", "null")
    }
    path.write_text("a,rel,b\nx,likes,y\nx,,z\n")
    with pytest.raises(ParseError, match=r"e\.csv:3: .*non-empty source, relation and target"):
        read_edge_table(path, source="a", relation="rel", target="b")
    with pytest.raises(
        ParseError, match=r"e\.csv:1: edge table lacks columns \['relation', 'source', 'target'\]"
    ):
        read_edge_table(path)


# ------------------------------------------------------------------------------- hypothesis
_symbols = [f"G{i}" for i in range(12)]
_names = st.text(alphabet="abcdefghijklmnop XYZ_0123456789-", min_size=1, max_size=12).filter(
    lambda s: s.strip()
)
_gmt_sets = st.lists(
    st.tuples(_names, st.booleans(), st.lists(st.sampled_from(_symbols), min_size=1, max_size=6)),
    min_size=1,
    max_size=8,
    unique_by=lambda s: s[0].strip(),  # one name per set id (a clash is an error, tested above)
).map(
    lambda sets: [
        (name, f"R-HSA-{i}" if reactome else "http://example.org/set", members)
        for i, (name, reactome, members) in enumerate(sets)
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sets=_gmt_sets)
def test_property_gmt_round_trip(tmp_path, sets):
    table = pd.DataFrame(
        {"entrez_id": [str(i + 1) for i in range(len(_symbols))], "symbol": _symbols}
    )
    genes = GeneNormalizer.from_frame(table)
    path = tmp_path / "sets.gmt"
    path.write_text(
        "".join(f"{name}\t{second}\t" + "\t".join(members) + "\n" for name, second, members in sets)
    )
    expected = {
        (
            f"NCBIGene:{_symbols.index(m) + 1}",
            "member_of",
            f"reactome:{second}" if second.startswith("R-") else f"msigdb:{name.strip()}",
        )
        for name, second, members in sets
        for m in members
    }
    kg = read_gmt(path, genes)
    assert edge_set(kg) == expected
    assert set(kg.nodes.index) == {s for s, _, _ in expected} | {t for _, _, t in expected}
    assert kg.number_of_edges() == len(expected)  # no duplicate edges


_ids = st.one_of(
    st.sampled_from(["NA", "null", "nan", "N/A"]),
    st.builds(
        lambda prefix, local: f"{prefix}{local}",
        st.sampled_from(["GO:", "HP:", "NCBIGene:", "mirna:hsa-mir-", "x"]),
        st.text(alphabet="abcXYZ0123456789._-", min_size=1, max_size=8),
    ),
)
_edges = st.lists(
    st.tuples(_ids, st.sampled_from(["is_a", "targets", "has phenotype"]), _ids),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edges=_edges, gzipped=st.booleans(), sep=st.sampled_from(["\t", ","]))
def test_property_edge_table_round_trip(tmp_path, edges, gzipped, sep):
    text = (
        sep.join(["source", "relation", "target"])
        + "\n"
        + "".join(sep.join(e) + "\n" for e in edges)
    )
    path = tmp_path / ("edges" + (".csv" if sep == "," else ".tsv") + (".gz" if gzipped else ""))
    path.write_bytes(gzip.compress(text.encode()) if gzipped else text.encode())
    kg = read_edge_table(path)
    assert edge_set(kg) == set(edges)
    assert kg.number_of_edges() == len(set(edges))
    assert set(kg.nodes.index) == {s for s, _, _ in edges} | {t for _, _, t in edges}
    kg.validate()


# ------------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_gene2go(data_dir):
    kg = read_gene2go(data_dir / "go/gene2go_human.tsv.gz")
    # 348,116 rows; 300,448 distinct (gene, aspect, term) after evidence codes collapse
    assert kg.number_of_edges() == 300_448
    assert kg.info().node_types == {"gene": 20_728, "go_term": 18_933}
    assert kg.info().relations == {"enables": 71_779, "involved_in": 140_934, "located_in": 87_735}
    assert kg.node("NCBIGene:7157")["name"] == "TP53"
    assert (kg.edges["source"] == "NCBIGene:7157").sum() == 184


@pytest.mark.realdata
def test_real_hpo_annotations(data_dir):
    kg = read_hpo_annotations(data_dir / "hpo/genes_to_phenotype.txt.gz")
    assert kg.number_of_edges() == 259_012  # 316,589 rows: one per gene, phenotype and disease
    assert kg.info().node_types == {"gene": 5_132, "phenotype": 10_234}
    assert kg.node("HP:0000007")["name"] == "Autosomal recessive inheritance"


@pytest.mark.realdata
def test_real_reactome_pathways(data_dir):
    kg = read_reactome_pathways(data_dir / REACTOME, data_dir / REACTOME_HIERARCHY)
    assert kg.number_of_nodes() == 2_751  # every human pathway of the names file
    assert kg.number_of_edges() == 2_769
    assert set(kg.relations) == {"part_of"}
    assert kg.node("reactome:R-HSA-109581")["name"] == "Apoptosis"
    assert ("reactome:R-HSA-109606", "part_of", "reactome:R-HSA-109581") in edge_set(kg)


@pytest.fixture(scope="module")
def real_genes(data_dir) -> GeneNormalizer:
    return GeneNormalizer.from_gene_info(data_dir / "go/gene_info_human.tsv.gz")


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "sets", "genes", "edges"),
    [
        ("reactome/ReactomePathways_human_symbols_lowest_2025-01.gmt.gz", 2_202, 11_147, 45_294),
        (
            "reactome/ReactomePathways_human_symbols_all_levels_2025-01.gmt.gz",
            2_702,
            11_147,
            128_676,
        ),
        ("msigdb_hallmark/h.all.v7.0.symbols.gmt", 50, 4_370, 7_305),
    ],
)
def test_real_gmt(data_dir, real_genes, name, sets, genes, edges):
    kg = read_gmt(data_dir / name, real_genes)
    assert kg.info().node_types == {"gene": genes, "pathway": sets}
    assert kg.number_of_edges() == edges


@pytest.mark.realdata
def test_real_mirtarbase(data_dir):
    path = data_dir / "regulatory_networks/miRTarBase_SE_WR.csv"
    with pytest.raises(
        ParseError, match=r"miRTarBase_SE_WR\.csv:\d+: column 'miRNA' holds 'MicroRNA"
    ):
        read_mirna_targets(path)
    kg = read_mirna_targets(path, on_unknown="drop")
    assert kg.info().node_types == {"gene": 3_272, "mirna": 730}
    assert kg.number_of_edges() == 8_991
    assert "hsa-miR-21-5p" in kg.node("mirna:hsa-mir-21")["synonyms"]
