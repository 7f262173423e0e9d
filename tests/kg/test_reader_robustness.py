"""Hostile input to the kg readers (issue 15, items 6-9, 12, 16, 21): corrupt gzip, text that is
not UTF-8, files without data, blank lines, huge lines; and a fuzz of every text reader that
allows only kg's own exceptions."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import kg
from kg import GeneNormalizer, KGError, ParseError
from kg.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "data"
BAD = FIXTURES / "bad"


@pytest.fixture(scope="module")
def genes() -> GeneNormalizer:
    return GeneNormalizer.from_gene_info(FIXTURES / "mini_gene_info.tsv")


def _gmt(path: Path) -> object:
    return kg.read_gmt(path, GeneNormalizer.from_gene_info(FIXTURES / "mini_gene_info.tsv"))


#: Every kg text reader with its fixture: ``(read, fixture file name)``.
READERS: dict[str, tuple[Callable[[Path], object], str]] = {
    "obo": (kg.read_obo, "mini.obo"),
    "gaf": (kg.read_gaf, "mini.gaf"),
    "gmt": (_gmt, "mini.gmt"),
    "gene2go": (kg.read_gene2go, "mini_gene2go.tsv"),
    "edges": (kg.read_edge_table, "mini_edges.tsv"),
    "hpo": (kg.read_hpo_annotations, "mini_genes_to_phenotype.tsv"),
    "mirna": (kg.read_mirna_targets, "mini_mirtarbase.csv"),
    "reactome": (kg.read_reactome_pathways, "mini_reactome_pathways.txt"),
    "owl": (kg.read_rdf, "mini.owl"),
    "ttl": (kg.read_rdf, "mini.ttl"),
}


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------ item 6: corrupt gzip
@pytest.mark.parametrize(
    ("read", "name"),
    [
        (kg.read_obo, "truncated.obo.gz"),
        (kg.read_obo, "bad_crc.obo.gz"),
        (kg.read_rdf, "truncated.owl.gz"),
    ],
)
def test_corrupt_gzip_is_a_parse_error(read, name):
    with pytest.raises(ParseError, match=rf"{name}: the gzip stream is corrupt or truncated"):
        read(BAD / name)


@pytest.mark.parametrize("key", list(READERS))
def test_corrupt_gzip_in_every_reader(tmp_path, key):
    read, fixture = READERS[key]
    packed = gzip.compress((FIXTURES / fixture).read_bytes())
    variants = {
        "truncated": packed[: len(packed) // 2],
        "crc": packed[:-8] + b"\0\0\0\0" + packed[-4:],
        "magic": b"\x1f\x8c" + packed[2:],
    }
    for kind, data in variants.items():
        path = _write(tmp_path, f"{kind}-{fixture}.gz", data)
        with pytest.raises(ParseError, match="gzip stream is corrupt or truncated") as info:
            read(path)
        assert info.value.path == str(path)


def test_truncated_gzip_through_the_cli_exits_2_naming_the_file(tmp_path):
    """click reads a raw EOFError as Ctrl-C and prints only 'Aborted.'."""
    out = tmp_path / "kg"
    result = CliRunner().invoke(
        app,
        ["build", "-s", f"obo:{BAD / 'truncated.obo.gz'}", "--no-cache", "--no-progress",
         "--workers", "1", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "truncated.obo.gz: the gzip stream is corrupt or truncated" in result.output
    assert "Aborted" not in result.output and not out.exists()


# -------------------------------------------------------------------- item 7: not UTF-8 text
@pytest.mark.parametrize("key", list(READERS))
@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", r":1: file is UTF-16 encoded; save it as UTF-8"),
        ("utf-32", r":1: file is UTF-32 encoded; save it as UTF-8"),
        ("utf-16-le", r":1: NUL byte at position 2 of the line"),
    ],
)
def test_utf16_and_utf32_are_named(tmp_path, key, encoding, expected):
    read, fixture = READERS[key]
    text = (FIXTURES / fixture).read_text()
    with pytest.raises(ParseError, match=expected):
        read(_write(tmp_path, fixture, text.encode(encoding)))


@pytest.mark.parametrize("key", list(READERS))
def test_latin1_byte_names_file_and_line(tmp_path, key):
    read, fixture = READERS[key]
    lines = (FIXTURES / fixture).read_bytes().split(b"\n")
    lines[2] = lines[2] + b"caf\xe9"  # in the third line
    path = _write(tmp_path, fixture, b"\n".join(lines))
    with pytest.raises(ParseError, match=r":3: byte 0xE9 at position \d+ of the line is not UTF-8"):
        read(path)


def test_committed_non_utf8_fixtures(genes):
    with pytest.raises(ParseError, match=r"utf16\.gaf:1: file is UTF-16 encoded"):
        kg.read_gaf(BAD / "utf16.gaf")
    with pytest.raises(ParseError, match=r"utf32\.obo:1: file is UTF-32 encoded"):
        kg.read_obo(BAD / "utf32.obo")
    with pytest.raises(ParseError, match=r"latin1\.gmt:4: byte 0xE9"):
        kg.read_gmt(BAD / "latin1.gmt", genes)


def test_obo_reports_a_malformed_line_before_a_later_bad_byte(tmp_path):
    body = "format-version: 1.2\n\n[Term]\nid: X:1\nno colon here\nname: caf\xe9\n"
    path = _write(tmp_path, "t.obo", body.encode("latin-1"))
    with pytest.raises(ParseError, match=r"t\.obo:5: malformed OBO tag line 'no colon here'"):
        kg.read_obo(path)
    path = _write(tmp_path, "t.obo", body.replace("no colon here", "name: a").encode("latin-1"))
    with pytest.raises(ParseError, match=r"t\.obo:6: byte 0xE9"):
        kg.read_obo(path)


def test_utf8_bom_is_dropped(tmp_path, genes):
    gaf = kg.read_gaf(
        _write(tmp_path, "b.gaf", b"\xef\xbb\xbf" + (FIXTURES / "mini.gaf").read_bytes())
    )
    assert gaf.number_of_edges() == kg.read_gaf(FIXTURES / "mini.gaf").number_of_edges()
    gmt = kg.read_gmt(
        _write(tmp_path, "b.gmt", b"\xef\xbb\xbf" + (FIXTURES / "mini.gmt").read_bytes()), genes
    )
    assert (
        "reactome:R-HSA-109581" in gmt and gmt.node("reactome:R-HSA-109581")["name"] == "Apoptosis"
    )
    ttl = kg.read_rdf(
        _write(tmp_path, "b.ttl", b"\xef\xbb\xbf" + (FIXTURES / "mini.ttl").read_bytes())
    )
    assert ttl.number_of_nodes() == kg.read_rdf(FIXTURES / "mini.ttl").number_of_nodes()


# ------------------------------------------------------------------ item 8: no data lines
@pytest.mark.parametrize("content", ["", "\n\n  \n", "!gaf-version: 2.2\n"])
def test_gaf_without_data_lines(tmp_path, content):
    with pytest.raises(ParseError, match=r"g\.gaf: no data lines"):
        kg.read_gaf(_write(tmp_path, "g.gaf", content.encode()))


def test_committed_header_only_gaf_and_spaces_gmt(genes):
    with pytest.raises(ParseError, match=r"header_only\.gaf: no data lines"):
        kg.read_gaf(BAD / "header_only.gaf")
    with pytest.raises(ParseError, match=r"spaces\.gmt:1: .*separated by tabs, not spaces"):
        kg.read_gmt(BAD / "spaces.gmt", genes)


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_gmt_without_data_lines(tmp_path, genes, content):
    with pytest.raises(ParseError, match=r"s\.gmt: no data lines"):
        kg.read_gmt(_write(tmp_path, "s.gmt", content.encode()), genes)


# ---------------------------------------------------------- item 9: blank lines, right column
def test_table_errors_name_the_physical_line_past_blank_lines(tmp_path):
    text = "source\trelation\ttarget\n\nA:1\tr\tB:1\n\r\n\nA:2\tr\t\n"
    with pytest.raises(ParseError, match=r"e\.tsv:6: column 'target' holds an empty cell") as info:
        kg.read_edge_table(_write(tmp_path, "e.tsv", text.encode()))
    assert info.value.line == 6
    text = "entrez_id\tsymbol\tgo_id\tevidence\tnamespace\n\n\n7157\tTP53\tGO:1\tIDA\tnope\n"
    with pytest.raises(ParseError, match=r"g\.tsv:4: column 'namespace' holds 'nope'"):
        kg.read_gene2go(_write(tmp_path, "g.tsv", text.encode()))


def test_edge_table_blames_the_empty_column(tmp_path):
    path = _write(tmp_path, "e.tsv", b"source\trelation\ttarget\nA:1\tr\tB:1\nA:2\tr\t\n")
    with pytest.raises(ParseError, match=r"e\.tsv:3: column 'target' holds an empty cell"):
        kg.read_edge_table(path)
    path = _write(tmp_path, "e.tsv", b"source\trelation\ttarget\nA:1\t\tB:1\n")
    with pytest.raises(ParseError, match=r"e\.tsv:2: column 'relation'"):
        kg.read_edge_table(path)


def test_blank_lines_do_not_change_a_valid_table(tmp_path):
    text = (FIXTURES / "mini_edges.tsv").read_text().replace("\n", "\n\n")
    spaced = kg.read_edge_table(_write(tmp_path, "e.tsv", text.encode()))
    plain = kg.read_edge_table(FIXTURES / "mini_edges.tsv")
    assert spaced.edges[["source", "relation", "target"]].equals(
        plain.edges[["source", "relation", "target"]]
    )


# ------------------------------------------------------------------- item 12: a huge OBO line
def test_error_lines_of_a_gzip_file_not_named_gz(tmp_path):
    """The line finder of the error paths reads as the parser does: gunzipped by magic bytes."""
    text = (FIXTURES / "mini.obo").read_text() + "\n[Term]\nid: GO:9\nis_a: GO:404 ! absent\n"
    line = text.splitlines().index("is_a: GO:404 ! absent") + 1
    path = tmp_path / "packed.obo"  # gzip bytes without the .gz suffix
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(kg.DanglingReferenceError) as error:
        kg.read_obo(path)
    assert error.value.line == line and f"packed.obo:{line}:" in str(error.value)


def test_find_line_stops_before_bytes_that_are_not_utf8(tmp_path):
    from kg._textio import find_line

    path = tmp_path / "mixed.txt"
    path.write_bytes(gzip.compress(b"a\nneedle 1\n\xff\nneedle 2\n"))
    assert find_line(path, "needle") == 2
    assert find_line(path, "needle", occurrence=2) is None


def test_huge_malformed_obo_line_is_cut_in_the_message(tmp_path):
    body = "format-version: 1.2\n\n[Term]\nid: X:1\n" + "x" * 5_000_000 + "\nname: a\n"
    with pytest.raises(ParseError, match=r"t\.obo:5: malformed OBO tag line 'x{80}…'") as info:
        kg.read_obo(_write(tmp_path, "t.obo", body.encode()))
    assert len(str(info.value)) < 300


def test_obo_line_number_of_a_repeated_malformed_line(tmp_path):
    body = "format-version: 1.2\n\n[Term]\nid: X:1\nname: a\n\n[Term]\nid: X:2\n[Term]\n"
    with pytest.raises(ParseError, match=r"t\.obo:9: malformed OBO tag line '\[Term\]'"):
        kg.read_obo(_write(tmp_path, "t.obo", body.encode()))


# ------------------------------------------------------------- item 16: empty ontologies, sets
@pytest.mark.parametrize("content", ["", "\n\n", "format-version: 1.2\nontology: x\n"])
def test_obo_without_terms_is_refused(tmp_path, content):
    with pytest.raises(ParseError, match=r"e\.obo: no \[Term\] stanzas found"):
        kg.read_obo(_write(tmp_path, "e.obo", content.encode()))


@pytest.mark.parametrize(
    ("name", "content"),
    [("e.ttl", ""), ("e.ttl", "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"), ("e.nt", "\n")],
)
def test_rdf_without_classes_is_refused(tmp_path, name, content):
    with pytest.raises(ParseError, match=rf"{name}: no named owl:Class found"):
        kg.read_rdf(_write(tmp_path, name, content.encode()))


def test_gmt_set_without_genes_is_logged_with_its_line(tmp_path, genes, caplog):
    text = (FIXTURES / "mini.gmt").read_text() + "Empty set\tR-HSA-1\t\t \n"
    with caplog.at_level(logging.WARNING, logger="kg.tables"):
        graph = kg.read_gmt(_write(tmp_path, "s.gmt", text.encode()), genes)
    assert "reactome:R-HSA-1" not in graph
    assert "left out 1 gene set(s) that list no genes" in caplog.text
    assert "s.gmt:4 'Empty set'" in caplog.text


# --------------------------------------------------------------- item 21: miRNA on_invalid
def _mirna_with_bad_rows(tmp_path: Path) -> Path:
    text = (FIXTURES / "mini_mirtarbase.csv").read_text()
    bad = (
        "MIRT5,MicroRNA-3907,hsa,TP53,7157,hsa,x,y,5\nMIRT6,hsa-miR-21-5p,hsa,TP53,TP53,hsa,x,y,5\n"
    )
    return _write(tmp_path, "t.csv", (text + bad).encode())


def test_mirna_targets_on_invalid_drops_and_logs_lines(tmp_path, caplog):
    path = _mirna_with_bad_rows(tmp_path)
    with pytest.raises(
        ParseError, match=r"t\.csv:7: column 'Target Gene \(Entrez ID\)' holds 'TP53'"
    ):
        kg.read_mirna_targets(path)
    with caplog.at_level(logging.WARNING, logger="kg.tables"):
        graph = kg.read_mirna_targets(path, on_invalid="drop")
    clean = kg.read_mirna_targets(FIXTURES / "mini_mirtarbase.csv")
    assert graph.number_of_edges() == clean.number_of_edges()
    assert (
        "dropped 1 row(s) whose gene is not an Entrez id" in caplog.text
        and "(line(s) 7)" in caplog.text
    )
    assert "dropped 1 entr(ies) naming no miRNA" in caplog.text and "(line(s) 6)" in caplog.text


def test_mirna_targets_on_unknown_keeps_its_meaning(tmp_path):
    path = _mirna_with_bad_rows(
        tmp_path
    )  # as the shared preset: unknown names dropped, genes checked
    with pytest.raises(ParseError, match=r"t\.csv:7: column 'Target Gene"):
        kg.read_mirna_targets(path, on_unknown="drop")
    assert kg.read_mirna_targets(path, on_invalid="drop", on_unknown="drop").number_of_edges() == 5
    with pytest.raises(ParseError, match=r"t\.csv:6: column 'miRNA'"):
        kg.read_mirna_targets(path, on_invalid="drop", on_unknown="raise")


@pytest.mark.parametrize("option", ["on_invalid", "on_unknown"])
def test_mirna_targets_options_are_validated(option):
    with pytest.raises(
        ValueError,
        match=rf"The '{option}' parameter of read_mirna_targets must be one of 'raise', 'drop'",
    ):
        kg.read_mirna_targets(FIXTURES / "mini_mirtarbase.csv", **{option: "maybe"})


@pytest.mark.realdata
def test_real_mirtarbase_on_invalid_drop(data_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="kg.tables"):
        graph = kg.read_mirna_targets(
            data_dir / "regulatory_networks/miRTarBase_SE_WR.csv", on_invalid="drop"
        )
    assert graph.number_of_edges() == 8_991
    assert (
        "dropped 2 entr(ies) naming no miRNA" in caplog.text
        and "(line(s) 8664, 8674)" in caplog.text
    )


# ------------------------------------------------------------------------------------ fuzz
_INSERTS = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe9",
    b"\xed\xa0\x80",
    b"\n",
    b"\n\n",
    b"\r",
    b"\r\n",
    b"\t",
    b" ",
    b":",
    b"!",
    b"[Term]\n",
    b"\xef\xbb\xbf",
]
_BOMS = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]


@st.composite
def _mutated(draw, raw: bytes) -> tuple[bytes, bool]:
    """``raw`` after 1-4 byte flips, truncations, insertions, deletions or BOMs; maybe gzipped."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "bom", "blank_lines"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(_INSERTS))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "bom":
            data[:0] = draw(st.sampled_from(_BOMS))
        else:
            data = bytearray(bytes(data).replace(b"\n", b"\n\n", draw(st.integers(1, 5))))
    if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:  # sometimes a (maybe cut) gzip
        packed = gzip.compress(bytes(data))
        return packed[: draw(st.integers(0, len(packed)))], True
    return bytes(data), False


def _fuzz(key: str, tmp: Path, data: tuple[bytes, bool]) -> None:
    read, fixture = READERS[key]
    raw, gzipped = data
    path = _write(tmp, fixture + (".gz" if gzipped else ""), raw)
    try:
        read(path)
    except KGError as error:  # anything else (UnicodeDecodeError, AttributeError, ...) fails
        assert path.name in str(error)


_FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("key", ["obo", "gaf", "gmt", "gene2go", "edges", "hpo"])
def test_fuzz_reader_raises_only_kg_errors(tmp_path_factory, key):
    tmp = tmp_path_factory.mktemp(f"fuzz-{key}")
    raw = (FIXTURES / READERS[key][1]).read_bytes()

    @_FUZZ
    @given(data=_mutated(raw))
    def run(data: tuple[bytes, bool]) -> None:
        _fuzz(key, tmp, data)

    run()
