"""Tests of identifier normalisation: a tiny gene table with known answers, hypothesis, real data."""

from __future__ import annotations

import dataclasses
import gzip

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg._exceptions import AmbiguousIdError, KGError, ParseError, UnknownNodeError
from kg.graph import NODE_COLUMNS
from kg.normalize import GeneNormalizer, Resolution, mirna_id, mirna_stem, mirna_stems

# entrez, symbol, gene_type, ensembl, uniprot, aliases
GENES = [
    ("7157", "TP53", "protein-coding", "ENSG00000141510", "P04637;K7PPA8", "P53;LFS1;TRP53"),
    ("1956", "EGFR", "protein-coding", "ENSG00000146648", "P00533", "ERBB;ERBB1;HER1"),
    ("2064", "ERBB2", "protein-coding", "ENSG00000141736", "P04626", "HER2;NEU;CD340"),
    ("100", "GENEA", "ncRNA", "", "", "SHARED;XYZ"),
    ("200", "GENEB", "ncRNA", "", "", "SHARED;TP53"),  # 'TP53' is also an alias of GENEB
    ("3045", "HBD", "protein-coding", "ENSG00000223609", "P02042", ""),
    ("100187828", "HBD", "unknown", "", "", ""),  # phenotype-only record with the same symbol
    ("301", "TRNAX", "tRNA", "", "", ""),
    ("302", "TRNAX", "tRNA", "", "", ""),
]


def gene_frame(rows=GENES) -> pd.DataFrame:
    columns = ["entrez_id", "symbol", "gene_type", "ensembl_ids", "uniprot_ids", "aliases"]
    return pd.DataFrame(list(rows), columns=columns)


@pytest.fixture(scope="module")
def norm() -> GeneNormalizer:
    return GeneNormalizer.from_frame(gene_frame())


# ------------------------------------------------------------------------------- unit: genes


@pytest.mark.parametrize(
    ("query", "expected", "status"),
    [
        ("TP53", "NCBIGene:7157", "symbol"),
        ("tp53", "NCBIGene:7157", "symbol"),
        (" Egfr ", "NCBIGene:1956", "symbol"),
        ("7157", "NCBIGene:7157", "entrez"),
        ("NCBIGene:7157", "NCBIGene:7157", "entrez"),
        ("ncbigene:1956", "NCBIGene:1956", "entrez"),
        ("ENSG00000141510", "NCBIGene:7157", "ensembl"),
        ("ENSG00000141510.16", "NCBIGene:7157", "ensembl"),
        ("ENSEMBL:ENSG00000146648.3", "NCBIGene:1956", "ensembl"),
        ("P04637", "NCBIGene:7157", "uniprot"),
        ("UniProtKB:P04626", "NCBIGene:2064", "uniprot"),
        ("P04637-2", "NCBIGene:7157", "uniprot"),
        ("her2", "NCBIGene:2064", "alias"),
        ("XYZ", "NCBIGene:100", "alias"),
        ("TP53|7157", "NCBIGene:7157", "entrez"),
        ("OLDNAME|7157", "NCBIGene:7157", "entrez"),  # Entrez part preferred
        ("TP53|999999", "NCBIGene:7157", "symbol"),  # unknown Entrez: fall back to the symbol
        ("?|1956", "NCBIGene:1956", "entrez"),
        ("HBD", "NCBIGene:3045", "symbol"),  # the phenotype-only HBD record gives way
    ],
)
def test_resolves(norm, query, expected, status):
    found = norm.resolve(query)
    assert found == Resolution(query, (expected,), status)
    assert found.id == expected
    assert norm.resolve_one(query) == expected


def test_official_symbol_beats_alias_of_another_gene(norm):
    assert norm.resolve("TP53").ids == ("NCBIGene:7157",)
    assert norm.resolve("tp53").status == "symbol"


def test_ambiguous_alias_reports_every_candidate(norm):
    found = norm.resolve("shared")
    assert found.status == "ambiguous"
    assert found.ids == ("NCBIGene:100", "NCBIGene:200")
    assert found.id is None
    with pytest.raises(
        AmbiguousIdError,
        match=r"'shared' is ambiguous.*NCBIGene:100 \(GENEA\).*NCBIGene:200 \(GENEB\)",
    ):
        norm.resolve_one("shared")


def test_symbol_shared_by_two_real_genes_is_ambiguous(norm):
    assert norm.resolve("TRNAX") == Resolution(
        "TRNAX", ("NCBIGene:301", "NCBIGene:302"), "ambiguous"
    )
    with pytest.raises(LookupError):  # AmbiguousIdError is a LookupError
        norm.resolve_one("TRNAX")


@pytest.mark.parametrize(
    "query",
    ["FOO", "", "?|999999", "123456789", "TP53.2", "ENSG00000000001.1", "NCBIGene:1", "P99999-1"],
)
def test_unmapped(norm, query):
    assert norm.resolve(query) == Resolution(query, (), "unmapped")
    with pytest.raises(
        UnknownNodeError, match="not an official symbol, alias, Entrez, Ensembl or UniProt id"
    ):
        norm.resolve_one(query)


def test_unknown_node_error_is_a_key_error_and_kg_error(norm):
    with pytest.raises(KeyError):
        norm.resolve_one("FOO")
    with pytest.raises(KGError):
        norm.resolve_one("FOO")


def test_resolution_is_frozen(norm):
    with pytest.raises(dataclasses.FrozenInstanceError):
        norm.resolve("TP53").status = "alias"  # type: ignore[misc]


def test_resolve_many_matches_resolve_and_keeps_order(norm):
    queries = [
        "TP53",
        "shared",
        "FOO",
        "ENSG00000146648.2",
        "TP53",
        None,
        float("nan"),
        "EGFR|1956",
    ]
    table = norm.resolve_many(queries)
    assert list(table.columns) == ["query", "id", "ids", "status"]
    assert len(table) == len(queries)
    assert table["id"].tolist() == [
        "NCBIGene:7157",
        None,
        None,
        "NCBIGene:1956",
        "NCBIGene:7157",
        None,
        None,
        "NCBIGene:1956",
    ]
    assert table["status"].tolist() == [
        "symbol",
        "ambiguous",
        "unmapped",
        "ensembl",
        "symbol",
        "unmapped",
        "unmapped",
        "entrez",
    ]
    for query, ids, status in zip(queries[:5], table["ids"], table["status"]):
        assert norm.resolve(query) == Resolution(query, ids, status)


def test_resolve_many_empty(norm):
    assert norm.resolve_many([]).shape == (0, 4)


def test_symbol_to_id_skips_ambiguous_symbols(norm):
    mapping = norm.symbol_to_id
    assert mapping["TP53"] == "NCBIGene:7157"
    assert mapping["HBD"] == "NCBIGene:3045"
    assert "TRNAX" not in mapping
    with pytest.raises(TypeError):
        mapping["X"] = "NCBIGene:1"  # type: ignore[index]


def test_nodes_table(norm):
    nodes = norm.nodes("gene_info_test")
    assert list(nodes.columns) == list(NODE_COLUMNS)
    assert nodes.index.name == "id"
    assert len(nodes) == len(GENES)
    tp53 = nodes.loc["NCBIGene:7157"]
    assert (tp53["type"], tp53["name"], tp53["provenance"]) == ("gene", "TP53", "gene_info_test")
    assert tp53["synonyms"] == ["P53", "LFS1", "TRP53"]
    assert tp53["xrefs"] == ["ENSEMBL:ENSG00000141510", "UniProtKB:P04637", "UniProtKB:K7PPA8"]
    assert nodes.loc["NCBIGene:100", "xrefs"] == []
    assert nodes.loc["NCBIGene:301", "synonyms"] == []


def test_optional_columns_may_be_missing_or_nan():
    frame = pd.DataFrame(
        {"entrez_id": [7157, 1956], "symbol": ["TP53", "EGFR"], "aliases": ["P53", None]}
    )
    norm = GeneNormalizer.from_frame(frame)
    assert norm.resolve_one("p53") == "NCBIGene:7157"
    assert norm.resolve_one("1956") == "NCBIGene:1956"
    assert norm.nodes("x").loc["NCBIGene:1956", "synonyms"] == []


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"entrez": ["1"], "symbol": ["A"]}), r"lacks column\(s\) \['entrez_id'\]"),
        (pd.DataFrame({"entrez_id": ["1", "1"], "symbol": ["A", "B"]}), "'1' is duplicated"),
        (
            pd.DataFrame({"entrez_id": ["1", "x2"], "symbol": ["A", "B"]}),
            "'x2' is not a positive integer",
        ),
        (pd.DataFrame({"entrez_id": ["1"], "symbol": [""]}), "empty symbol"),
    ],
)
def test_bad_tables_raise_parse_error(frame, match):
    with pytest.raises(ParseError, match=match):
        GeneNormalizer.from_frame(frame)


def test_from_gene_info_file_and_error_line(tmp_path):
    path = tmp_path / "gene_info.tsv.gz"
    with gzip.open(path, "wt") as handle:
        gene_frame().to_csv(handle, sep="\t", index=False)
    norm = GeneNormalizer.from_gene_info(path)
    assert len(norm) == len(GENES)
    assert norm.resolve_one("ENSG00000141736.9") == "NCBIGene:2064"
    bad = tmp_path / "bad.tsv"
    bad.write_text("entrez_id\tsymbol\n1\tA\n2\tB\n2\tC\n")
    with pytest.raises(ParseError, match=r"bad\.tsv:4: entrez_id '2' is duplicated") as info:
        GeneNormalizer.from_gene_info(bad)
    assert (info.value.line, info.value.path) == (4, str(bad))


def test_resolve_one_names_the_table(tmp_path):
    path = tmp_path / "g.tsv"
    gene_frame().to_csv(path, sep="\t", index=False)
    with pytest.raises(UnknownNodeError, match=r"9 genes in .*g\.tsv"):
        GeneNormalizer.from_gene_info(path).resolve_one("FOO")


# ------------------------------------------------------------------------------- unit: miRNA


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("hsa-mir-21", "hsa-mir-21"),
        ("hsa-miR-21-5p", "hsa-mir-21"),
        ("hsa-miR-21*", "hsa-mir-21"),
        ("hsa-let-7a-1", "hsa-let-7a"),
        ("hsa-let-7b-5p", "hsa-let-7b"),
        ("hsa-mir-1-1", "hsa-mir-1"),
        ("hsa-mir-1-2", "hsa-mir-1"),
        ("hsa-miR-1-3p", "hsa-mir-1"),
        ("hsa-mir-92a-2", "hsa-mir-92a"),
        ("hsa-miR-92a-3p", "hsa-mir-92a"),
        ("hsa-miR-133a-1-3p", "hsa-mir-133a"),
        ("hsa-miR-122-5p", "hsa-mir-122"),
        ("hsa-miR-1260b", "hsa-mir-1260b"),
        ("hsa-mir-3689a", "hsa-mir-3689a"),
        ("hsa-miR-3689a-5p", "hsa-mir-3689a"),
        (" Hsa-miR-21-5p ", "hsa-mir-21"),
        ("hsa\u2011miR\u201115b\u20115p", "hsa-mir-15b"),  # non-breaking hyphens (miRTarBase)
        ("ebv-miR-BART6-5p", "ebv-mir-bart6"),
        ("kshv-miR-K12-4-5p", "kshv-mir-k12-4"),  # viral numbering keeps its '-4'
        ("hsv1-miR-H1", "hsv1-mir-h1"),
    ],
)
def test_mirna_stem(name, stem):
    assert mirna_stem(name) == stem
    assert mirna_id(name) == f"mirna:{stem}"


@pytest.mark.parametrize(
    "name", ["TP53", "MIR21", "miR-21", "hsa-mir", "hsa-miR-21_hsa-miR-17", "", "hsa-mir-21-5p-x y"]
)
def test_mirna_stem_none(name):
    assert mirna_stem(name) is None
    assert mirna_id(name) is None


def test_mirna_stem_species_for_prefixless_names():
    assert mirna_stem("miR-21-5p", species="hsa") == "hsa-mir-21"
    assert mirna_stem("hsa-miR-21", species="mmu") == "hsa-mir-21"  # an explicit species wins


def test_mirna_stems_of_combined_probes():
    assert mirna_stems("hsa-miR-106a_hsa-miR-17") == ("hsa-mir-106a", "hsa-mir-17")
    assert mirna_stems("hsa-miR-27a-3p, hsa-miR-30b-5p") == ("hsa-mir-27a", "hsa-mir-30b")
    assert mirna_stems("miR-205/miR-206", species="hsa") == ("hsa-mir-205", "hsa-mir-206")
    assert mirna_stems("hsa-mir-1-1_hsa-mir-1-2") == ("hsa-mir-1",)
    assert mirna_stems("hsa-miR-21_TP53") == ()


# ---------------------------------------------------------------------------------- hypothesis

_SYMBOL = st.text("ABCDEFGHKLMNPRSTXYZ0123456789-", min_size=1, max_size=6).map(lambda s: "G" + s)
_ALIAS = st.text("ABC", min_size=1, max_size=2)


@st.composite
def gene_tables(draw):
    """Gene tables with unique symbols and aliases from a tiny alphabet (so they collide)."""
    symbols = draw(st.lists(_SYMBOL, min_size=1, max_size=8, unique_by=str.upper))
    symbols += draw(
        st.lists(st.sampled_from(["A", "B", "AB"]), max_size=2, unique=True)
    )  # symbols that are also aliases
    aliases = [draw(st.lists(_ALIAS, max_size=3, unique=True)) for _ in symbols]
    frame = pd.DataFrame(
        {
            "entrez_id": [str(10 + i) for i in range(len(symbols))],
            "symbol": symbols,
            "aliases": [";".join(a) for a in aliases],
        }
    )
    frame = frame.drop_duplicates("symbol")
    return frame, dict(zip(frame["symbol"], frame["aliases"].str.split(";")))


@given(gene_tables(), st.data())
@settings(max_examples=80, deadline=None)
def test_property_symbols_resolve_to_themselves_under_any_casing(table, data):
    frame, aliases = table
    norm = GeneNormalizer.from_frame(frame)
    ids = dict(zip(frame["symbol"], "NCBIGene:" + frame["entrez_id"]))
    for symbol, gene in ids.items():
        cased = "".join(c.lower() if data.draw(st.booleans()) else c for c in symbol)
        assert norm.resolve(cased) == Resolution(cased, (gene,), "symbol")
    owners: dict[str, list[str]] = {}
    for symbol, names in aliases.items():
        for alias in filter(None, names):
            owners.setdefault(alias, []).append(ids[symbol])
    for alias, genes in owners.items():
        if alias in ids:  # an official symbol always wins over aliases of other genes
            assert norm.resolve(alias).ids == (ids[alias],)
        else:
            expected = "alias" if len(genes) == 1 else "ambiguous"
            assert norm.resolve(alias) == Resolution(alias, tuple(genes), expected)


@given(st.integers(0, 10**11 - 1), st.integers(1, 99), st.booleans())
@settings(max_examples=100, deadline=None)
def test_property_ensembl_version_never_changes_the_result(number, version, known):
    ensembl = f"ENSG{number:011d}"
    frame = (
        gene_frame()
        if not known
        else pd.concat(
            [
                gene_frame(),
                pd.DataFrame({"entrez_id": ["9"], "symbol": ["NEW"], "ensembl_ids": [ensembl]}),
            ]
        )
    )
    norm = GeneNormalizer.from_frame(frame)
    plain, versioned = norm.resolve(ensembl), norm.resolve(f"{ensembl}.{version}")
    assert (plain.ids, plain.status) == (versioned.ids, versioned.status)
    if known and ensembl not in set(gene_frame()["ensembl_ids"]):
        assert plain.ids == ("NCBIGene:9",)


_FAMILY = st.tuples(st.integers(1, 9999), st.sampled_from(["", "a", "b", "c", "h"]))
_LOCUS = st.one_of(st.none(), st.integers(1, 5))
_ARM = st.sampled_from(["", "-5p", "-3p", "*"])
_SPECIES = st.sampled_from(["hsa", "mmu", "rno"])


@given(_SPECIES, _FAMILY, _LOCUS, _ARM, st.booleans())
@settings(max_examples=200, deadline=None)
def test_property_precursor_and_mature_share_a_stem(species, family, locus, arm, let):
    number, letter = family
    kind, number = ("let", 7) if let else ("mir", number)
    suffix = "" if locus is None else f"-{locus}"
    stem = f"{species}-{kind}-{number}{letter}"
    precursor = f"{species}-{kind}-{number}{letter}{suffix}"
    mature = f"{species}-{'let' if let else 'miR'}-{number}{letter}{suffix}{arm}"
    assert mirna_stem(precursor) == mirna_stem(mature) == stem
    assert mirna_stem(stem) == stem  # idempotent
    assert mirna_stem(f"{mirna_stem(mature)}-2") == stem  # a precursor built from the stem
    assert mirna_id(mature) == f"mirna:{stem}"


@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", max_size=12))
@settings(max_examples=100, deadline=None)
def test_property_gene_symbols_are_not_mirnas(text):
    assert mirna_stem(text) is None


# ------------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def real_norm(data_dir) -> GeneNormalizer:
    return GeneNormalizer.from_gene_info(data_dir / "go/gene_info_human.tsv.gz")


def _mapped(table: pd.DataFrame) -> int:
    return int(table["id"].notna().sum())


@pytest.mark.realdata
def test_real_gene_info_round_trips(real_norm):
    assert len(real_norm) == 77_614
    assert (
        real_norm.resolve_one("tp53")
        == real_norm.resolve_one("ENSG00000141510.16")
        == "NCBIGene:7157"
    )
    assert real_norm.resolve_one("P04637") == "NCBIGene:7157"
    mapping = real_norm.symbol_to_id
    assert all(
        real_norm.resolve_one(symbol) == gene for symbol, gene in list(mapping.items())[::97]
    )
    queries = list(mapping)[:20_000]
    table = real_norm.resolve_many(queries)
    assert table["id"].tolist() == [mapping[q] for q in queries]


@pytest.mark.realdata
def test_real_gene_nodes(real_norm):
    nodes = real_norm.nodes("gene_info_human.tsv.gz")
    assert len(nodes) == 77_614 and nodes.index.is_unique
    tp53 = nodes.loc["NCBIGene:7157"]
    assert tp53["name"] == "TP53" and "P53" in tp53["synonyms"]
    assert {"ENSEMBL:ENSG00000141510", "UniProtKB:P04637"} <= set(tp53["xrefs"])


@pytest.mark.realdata
def test_real_rosmap_ensembl_ids_with_versions(data_dir, real_norm):
    ids = pd.read_csv(data_dir / "mogonet_rosmap/1_featname.csv", header=None)[0]
    assert len(ids) == 200 and ids.str.contains(r"\.\d+$").all()
    table = real_norm.resolve_many(ids)
    assert _mapped(table) >= 180  # README: 182 map to a gene (181 uniquely + 1 ambiguous here)
    assert set(table["status"]) <= {"ensembl", "ambiguous", "unmapped"}


@pytest.mark.realdata
def test_real_brca_symbols(data_dir, real_norm):
    columns = pd.read_csv(data_dir / "mixomics_breast_tcga/train_mrna.csv", nrows=0).columns
    assert columns[0] == "sample"
    table = real_norm.resolve_many(columns[1:])
    assert len(table) == 200
    assert _mapped(table) >= 0.95 * len(table)  # 182 symbols + 15 aliases measured
    assert (table["status"] == "alias").sum() >= 5  # old symbols such as FAM63A, LASS4


def _mirtarbase_stems(data_dir) -> set[str]:
    table = pd.read_csv(data_dir / "regulatory_networks/miRTarBase_SE_WR.csv", encoding="utf-8-sig")
    stems = table["miRNA"].map(mirna_stem)
    assert stems.notna().mean() > 0.99  # a few names lack a species ('miR-153') or list several
    return set(stems.dropna())


@pytest.mark.realdata
def test_real_rosmap_mirnas_link_to_mirtarbase(data_dir):
    mirtarbase = _mirtarbase_stems(data_dir)
    names = pd.read_csv(data_dir / "mogonet_rosmap/3_featname.csv", header=None)[0]
    stems = names.map(mirna_stem)
    assert (
        stems.notna().sum() == 196
    )  # the other 4 are combined probes such as hsa-miR-106a_hsa-miR-17
    assert all(mirna_stems(n) for n in names)
    linked = stems.isin(mirtarbase).sum()
    assert linked > 0
    assert linked >= 150  # 164 of 200 measured


@pytest.mark.realdata
def test_real_brca_mirna_precursors_link_to_mirtarbase(data_dir):
    mirtarbase = _mirtarbase_stems(data_dir)
    names = pd.read_csv(data_dir / "mixomics_breast_tcga/train_mirna.csv", nrows=0).columns[1:]
    stems = names.map(mirna_stem)
    assert stems.notna().all()
    assert stems.isin(mirtarbase).sum() >= 160  # 171 of 184 measured
