"""Tests of feature-to-graph linking: each id kind on tiny fixtures, properties, real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion import (
    LINK_STATUSES,
    Cohort,
    CohortLinks,
    InvalidParameterError,
    Modality,
    antibody_genes,
    link_cohort,
    read_breast_tcga,
    read_mogonet,
)
from kg import GeneNormalizer, KnowledgeGraph, make_edges, make_nodes, mirna_id, read_mirna_targets


@pytest.fixture(scope="module")
def genes() -> GeneNormalizer:
    """16 real human genes (NCBI gene_info columns), with the alias clashes of RPPA names."""
    return GeneNormalizer.from_gene_info(Path(__file__).parents[1] / "data" / "mini_gene_info.tsv")


def _cohort(**modalities: tuple[list[str], str | None]) -> Cohort:
    """A 2-sample cohort with the given feature names per modality kind (name = kind)."""
    data = {
        kind: pd.DataFrame(
            np.arange(2.0 * len(names)).reshape(2, -1), index=["p1", "p2"], columns=names
        )
        for kind, (names, _) in modalities.items()
    }
    metas = [Modality(kind, kind, scheme) for kind, (_, scheme) in modalities.items()]  # type: ignore[arg-type]
    return Cohort(data, metas)


def _targets_kg() -> KnowledgeGraph:
    nodes = pd.concat(
        [
            make_nodes(["mirna:hsa-mir-21", "mirna:hsa-mir-155"], "mirna", "t"),
            make_nodes(["NCBIGene:7157", "NCBIGene:2099", "NCBIGene:207"], "gene", "t"),
        ]
    )
    edges = make_edges(
        ["mirna:hsa-mir-21", "mirna:hsa-mir-21", "mirna:hsa-mir-155"],
        "targets",
        ["NCBIGene:7157", "NCBIGene:2099", "NCBIGene:207"],
        "t",
    )
    return KnowledgeGraph(nodes, edges)


# --- genes -----------------------------------------------------------------------------------


def test_gene_id_kinds(genes: GeneNormalizer) -> None:
    names = ["ENSG00000141510.17", "ERBB2|2064", "?|1956", "esr1", "HER2", "HSP70-1", "FLJ23867"]
    links = link_cohort(_cohort(mRNA=(names, None)), genes=genes)
    nodes = links.feature_nodes("mRNA")
    assert nodes.index.tolist() == names
    assert nodes.iloc[:5].tolist() == [
        "NCBIGene:7157", "NCBIGene:2064", "NCBIGene:1956", "NCBIGene:2099", "NCBIGene:2064"
    ]  # fmt: skip
    assert nodes.iloc[5:].isna().all()
    table = links.table("mRNA").set_index("feature")
    assert table.loc["ENSG00000141510.17", "via"] == "ensembl"
    assert table.loc["HER2", "via"] == "alias"
    # an alias of two genes is reported with both candidates, never picked
    ambiguous = table.loc[["HSP70-1"]]
    assert sorted(ambiguous["node"]) == ["NCBIGene:3303", "NCBIGene:3304"]
    assert set(ambiguous["status"]) == {"ambiguous"}
    assert table.loc["FLJ23867", "status"] == "unlinked" and table.loc["FLJ23867", "node"] is None
    report = links.report.loc["mRNA"]
    assert (report["linked"], report["ambiguous"], report["unlinked"]) == (5, 1, 1)
    assert report["fraction_linked"] == pytest.approx(5 / 7)
    assert report["ambiguous_examples"] == ["HSP70-1"] and report["unlinked_examples"] == [
        "FLJ23867"
    ]


def test_methylation_probes_stay_unlinked_but_kept(genes: GeneNormalizer) -> None:
    probes = ["cg00095526", "cg00174500", "cg00398048"]
    links = link_cohort(_cohort(methylation=(probes, "cg_probe")), genes=genes)
    assert links.table("methylation")["feature"].tolist() == probes
    assert set(links.status("methylation")) == {"unlinked"}
    assert links.feature_nodes("methylation").isna().all()
    assert links.report.loc["methylation", "resolver"] == "none"
    assert len(links.nodes) == 0


def test_gene_level_methylation_links_genes(genes: GeneNormalizer) -> None:
    links = link_cohort(_cohort(methylation=(["TP53", "cg00095526"], None)), genes=genes)
    assert links.feature_nodes("methylation").tolist()[0] == "NCBIGene:7157"
    assert links.status("methylation").tolist() == ["linked", "unlinked"]


# --- miRNA -----------------------------------------------------------------------------------


def test_precursor_and_mature_names_meet_on_one_node() -> None:
    names = ["hsa-mir-21", "hsa-miR-21-5p", "hsa-let-7a-1", "hsa-miR-106a_hsa-miR-17", "U6"]
    links = link_cohort(_cohort(miRNA=(names, None)))
    nodes = links.feature_nodes("miRNA")
    assert nodes.iloc[:3].tolist() == ["mirna:hsa-mir-21", "mirna:hsa-mir-21", "mirna:hsa-let-7a"]
    # a combined probe measures two miRNAs: both nodes kept, no single placement
    assert links.status("miRNA").tolist() == ["linked", "linked", "linked", "multiple", "unlinked"]
    combined = links.table("miRNA").query("feature == 'hsa-miR-106a_hsa-miR-17'")
    assert combined["node"].tolist() == ["mirna:hsa-mir-106a", "mirna:hsa-mir-17"]
    assert pd.isna(nodes.iloc[3]) and pd.isna(nodes.iloc[4])


def test_mirna_targets_give_genes() -> None:
    names = ["hsa-miR-21-5p", "hsa-mir-155", "hsa-mir-9"]
    links = link_cohort(_cohort(miRNA=(names, None)), mirna_targets=_targets_kg())
    table = links.table("miRNA")
    targets = table[table["status"] == "target"]
    assert targets.groupby("feature")["node"].apply(sorted).to_dict() == {
        "hsa-miR-21-5p": ["NCBIGene:2099", "NCBIGene:7157"],
        "hsa-mir-155": ["NCBIGene:207"],
    }
    assert set(targets["via"]) == {"mirna_targets"}
    # targets do not change what the feature itself is placed on
    assert links.feature_nodes("miRNA").tolist()[:2] == ["mirna:hsa-mir-21", "mirna:hsa-mir-155"]
    assert {"NCBIGene:7157", "mirna:hsa-mir-9"} <= set(links.nodes)
    assert links.report.loc["miRNA", "n_nodes"] == 6


def test_kg_restricts_links(genes: GeneNormalizer) -> None:
    cohort = _cohort(
        mRNA=(["TP53", "EGFR", "FOO"], None), miRNA=(["hsa-mir-21", "hsa-mir-9"], None)
    )
    links = link_cohort(cohort, _targets_kg(), genes=genes)
    assert links.checked_in_kg
    assert links.status("mRNA").tolist() == ["linked", "not_in_kg", "unlinked"]
    assert links.status("miRNA").tolist() == ["linked", "not_in_kg"]
    assert links.table("mRNA").query("feature == 'EGFR'")["node"].tolist() == ["NCBIGene:1956"]
    assert links.feature_nodes("mRNA").iloc[1:].isna().all()
    assert links.report.loc["mRNA", ["linked", "not_in_kg", "unlinked"]].tolist() == [1, 1, 1]
    assert "NCBIGene:1956" not in set(links.nodes)


def test_genes_default_to_the_kg_gene_nodes(genes: GeneNormalizer) -> None:
    graph = KnowledgeGraph(genes.nodes("mini"), make_edges([], "r", [], "mini"))
    links = link_cohort(_cohort(mRNA=(["ENSG00000141510.2", "P53", "HSP70-1"], "ensembl")), graph)
    assert links.status("mRNA").tolist() == ["linked", "linked", "ambiguous"]
    assert links.feature_nodes("mRNA").iloc[1] == "NCBIGene:7157"


# --- antibodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "symbols", "via"),
    [
        ("ER-alpha", ["ESR1"], "antibody_table"),
        ("ER-alpha_pS118", ["ESR1"], "antibody_table"),
        ("PR", ["PGR"], "antibody_table"),  # not the alias "Pr" of PRH2
        ("PDK1_pS241", ["PDPK1"], "antibody_table"),  # not the gene whose symbol is PDK1
        ("Cyclin_B1", ["CCNB1"], "antibody_table"),
        ("Akt_pS473", ["AKT1", "AKT2", "AKT3"], "antibody_table"),  # pan-Akt, not the alias AKT
        ("AR", ["AR"], "symbol"),
        ("ERBB2", ["ERBB2"], "symbol"),
        ("HER2_pY1248", ["ERBB2"], "alias"),
        ("p53", ["TP53"], "alias"),
        ("STAT5-alpha", ["STAT5A"], "antibody_variant"),
        ("Foo-1_pS12", [], "unmapped"),
    ],
)
def test_antibody_genes(genes: GeneNormalizer, name: str, symbols: list[str], via: str) -> None:
    ids, how = antibody_genes(name, genes)
    assert [
        genes.genes.set_index("entrez_id").loc[i.split(":")[1], "symbol"] for i in ids
    ] == symbols
    assert how == via


def test_protein_modality(genes: GeneNormalizer) -> None:
    names = ["ER-alpha", "Akt", "Akt_pS473", "HER2", "Foo"]
    links = link_cohort(_cohort(protein=(names, None)), genes=genes)
    assert links.status("protein").tolist() == [
        "linked",
        "multiple",
        "multiple",
        "linked",
        "unlinked",
    ]
    assert links.feature_nodes("protein").tolist()[0] == "NCBIGene:2099"
    assert links.table("protein").query("feature == 'Akt'")["node"].tolist() == [
        "NCBIGene:207", "NCBIGene:208", "NCBIGene:10000"
    ]  # fmt: skip
    assert links.report.loc["protein", ["linked", "multiple", "unlinked"]].tolist() == [2, 2, 1]


# --- clinical / EHR codes ----------------------------------------------------------------------


def test_clinical_codes() -> None:
    names = ["HP:0001250", "doid_1612", "http://purl.obolibrary.org/obo/HP_0000118", "age"]
    links = link_cohort(_cohort(ehr_codes=(names, None)))
    assert links.feature_nodes("ehr_codes").tolist()[:3] == [
        "HP:0001250",
        "DOID:1612",
        "HP:0000118",
    ]
    assert links.status("ehr_codes").iloc[3] == "unlinked"


def test_clinical_codes_through_kg_xrefs() -> None:
    nodes = make_nodes(["HP:0001250", "DOID:1612"], ["phenotype", "disease"], "t",
                       xrefs=[["UMLS:C0036572"], ["ICD10CM:C50"]], alt_ids=[["HP:0002279"], []])  # fmt: skip
    graph = KnowledgeGraph(nodes, make_edges([], "r", [], "t"))
    names = ["HP:0001250", "icd10cm:c50", "HP:0002279", "HP:0000118", "sex"]
    links = link_cohort(_cohort(clinical=(names, "ontology")), graph)
    assert links.feature_nodes("clinical").tolist()[:3] == ["HP:0001250", "DOID:1612", "HP:0001250"]
    assert links.status("clinical").tolist()[3:] == ["not_in_kg", "unlinked"]
    assert links.table("clinical")["via"].tolist()[:3] == ["ontology_id", "xref", "xref"]


# --- parameters and contract -----------------------------------------------------------------


def test_schemes_override_and_errors(genes: GeneNormalizer) -> None:
    cohort = _cohort(mRNA=(["TP53"], None), image_embedding=(["z0", "z1"], None))
    links = link_cohort(cohort, genes=genes, schemes={"mRNA": "none"})
    assert links.status("mRNA").tolist() == ["unlinked"]
    assert links.report.loc["image_embedding", "unlinked"] == 2
    with pytest.raises(InvalidParameterError, match="'rna'"):
        link_cohort(cohort, genes=genes, schemes={"rna": "symbol"})
    with pytest.raises(InvalidParameterError, match="unknown id scheme 'hgnc'"):
        link_cohort(cohort, genes=genes, schemes={"mRNA": "hgnc"})
    with pytest.raises(InvalidParameterError, match=r"\['mRNA'\] name genes"):
        link_cohort(cohort)
    with pytest.raises(KeyError, match="no modality 'RNA'"):
        links.table("RNA")


def test_report_has_every_status_column(genes: GeneNormalizer) -> None:
    report = link_cohort(_cohort(mRNA=(["TP53"], None)), genes=genes).report
    assert set(LINK_STATUSES) <= set(report.columns)
    assert report.loc["mRNA", list(LINK_STATUSES)].sum() == report.loc["mRNA", "n_features"]


POOL = [
    "TP53", "ENSG00000146648.3", "ERBB2|2064", "HSP70-1", "PR", "Akt_pS473", "hsa-mir-21",
    "hsa-miR-21-5p", "hsa-miR-106a_hsa-miR-17", "cg00095526", "HP:0001250", "FOO", "p53",
]  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(POOL), min_size=1, unique=True),
    st.sampled_from(["mRNA", "protein", "miRNA", "clinical"]),
    st.randoms(use_true_random=False),
)
def test_linking_keeps_every_feature_and_ignores_order(
    genes: GeneNormalizer, names: list[str], kind: str, rng: object
) -> None:
    shuffled = list(names)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    first = link_cohort(_cohort(**{kind: (names, None)}), genes=genes, mirna_targets=_targets_kg())
    second = link_cohort(
        _cohort(**{kind: (shuffled, None)}), genes=genes, mirna_targets=_targets_kg()
    )
    # never drops a feature, and the placement follows the column order
    assert first.feature_nodes(kind).index.tolist() == names
    assert set(first.table(kind)["feature"]) == set(names)
    assert first.report.loc[kind, list(LINK_STATUSES)].sum() == len(names)
    # the link of each feature does not depend on the other features or their order
    pd.testing.assert_series_equal(first.feature_nodes(kind), second.feature_nodes(kind).loc[names])
    pd.testing.assert_series_equal(first.status(kind), second.status(kind).loc[names])
    rows = first.table(kind).sort_values(
        ["feature", "node"], na_position="first", ignore_index=True
    )
    rows2 = second.table(kind).sort_values(
        ["feature", "node"], na_position="first", ignore_index=True
    )
    pd.testing.assert_frame_equal(rows, rows2)
    # a uniquely linked feature has exactly one linked row, and it is its placed node
    linked = first.table(kind).query("status == 'linked'").groupby("feature")["node"].agg(list)
    assert {f: [n] for f, n in first.feature_nodes(kind).dropna().items()} == linked.to_dict()


def test_links_are_a_dataclass_result(genes: GeneNormalizer) -> None:
    links = link_cohort(_cohort(mRNA=(["TP53"], None)), genes=genes)
    assert isinstance(links, CohortLinks)
    assert links.resolvers == {"mRNA": "gene"} and links.kinds == {"mRNA": "mRNA"}
    assert links.links.columns.tolist() == ["modality", "feature", "node", "status", "via"]


# --- real data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_genes(data_dir: Path) -> GeneNormalizer:
    return GeneNormalizer.from_gene_info(data_dir / "go" / "gene_info_human.tsv.gz")


@pytest.fixture(scope="module")
def mirtarbase(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    """miRTarBase targets, without its rows whose miRNA is not a species-prefixed name
    (``miR-1``, ``MicroRNA-3907``): kg.read_mirna_targets refuses the whole file on them."""
    table = pd.read_csv(
        data_dir / "regulatory_networks" / "miRTarBase_SE_WR.csv", dtype=str, encoding="utf-8-sig"
    )
    named = table["miRNA"].map(mirna_id).notna()
    path = tmp_path_factory.mktemp("mirtarbase") / "targets.csv"
    table[named].to_csv(path, index=False)
    return read_mirna_targets(path)


@pytest.mark.realdata
def test_real_rosmap_links(
    data_dir: Path, real_genes: GeneNormalizer, mirtarbase: KnowledgeGraph
) -> None:
    cohort = read_mogonet(data_dir / "mogonet_rosmap")
    links = link_cohort(cohort, genes=real_genes, mirna_targets=mirtarbase)
    report = links.report
    assert report.loc["mRNA", "linked"] >= 180
    assert report.loc["miRNA", "linked"] > 0
    assert links.feature_nodes("miRNA").dropna().str.startswith("mirna:").all()
    assert (links.table("miRNA")["status"] == "target").sum() > 0
    # methylation probes: none linked, all 200 kept in column order
    assert report.loc["methylation", "unlinked"] == 200
    assert links.feature_nodes("methylation").index.equals(cohort["methylation"].columns)
    # only the miRNAs that miRTarBase knows count when it is the graph
    in_targets = link_cohort(cohort, mirtarbase, genes=real_genes).report.loc["miRNA"]
    assert in_targets["linked"] == 164
    assert in_targets["linked"] + in_targets["multiple"] + in_targets["not_in_kg"] == 200


@pytest.mark.realdata
def test_real_breast_links(data_dir: Path, real_genes: GeneNormalizer) -> None:
    links = link_cohort(read_breast_tcga(data_dir / "mixomics_breast_tcga"), genes=real_genes)
    report = links.report
    assert report.loc["mRNA", "fraction_linked"] >= 0.95
    assert report.loc["miRNA", "linked"] == 184
    # measured: 133 antibodies on one gene, 9 pan-specific ones (Akt, GSK3-alpha-beta, ...)
    assert report.loc["protein", ["linked", "multiple", "ambiguous", "unlinked"]].tolist() == [
        133,
        9,
        0,
        0,
    ]
    protein = links.feature_nodes("protein")
    assert protein["ER-alpha"] == "NCBIGene:2099" and protein["PR"] == "NCBIGene:5241"
    assert protein["HER2"] == protein["HER2_pY1248"] == "NCBIGene:2064"
    assert protein["Cyclin_B1"] == "NCBIGene:891" and protein["p53"] == "NCBIGene:7157"
