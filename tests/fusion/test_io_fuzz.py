"""Fuzzing the cohort table readers: a mutated table is read or refused with the project's own
errors (issue 15 item 7), and errors after blank lines name the physical line (item 9)."""

from __future__ import annotations

import codecs
import gzip
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fusion import DataFileError, FusionError, read_modalities, read_mogonet
from kg import KGError

VALID = b"sample,TP53,EGFR,BRCA1\np1,1.5,2,0.25\np2,3,,4e-2\np3,-1,0,7\np4,0.5,1,2\n"
BOMS = [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]
INSERTS = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe9",
    b"\xed\xa0\x80",
    b"\n",
    b"\r\n",
    b"   \n",
    b'"',
    b",,",
]


@st.composite
def mutated(draw: st.DrawFn, base: bytes = VALID) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "bom", "blank", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(INSERTS))
        elif op == "bom":
            data[:0] = draw(st.sampled_from(BOMS))
        elif op == "blank":  # a blank line at a line start
            starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]
            i = draw(st.sampled_from(starts))
            data[i:i] = draw(st.sampled_from([b"\n", b"\r\n", b"  \n"]))
        elif op == "delete" and data:
            del data[at]
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:  # whole file re-encoded
        text = bytes(data).decode("utf-8", "replace")
        data = bytearray(text.encode(draw(st.sampled_from(["utf-16", "utf-32", "utf-16-le"]))))
    return bytes(data)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(content=b",,")
@example(content=b"sample\n\x00")
@given(content=mutated())
def test_mutated_tables_read_or_refused_with_own_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mrna.csv"
    path.write_bytes(content)
    try:
        read_modalities({"mRNA": path})
    except (FusionError, KGError) as error:
        assert str(error)
        if isinstance(error, DataFileError):
            assert error.path == str(path)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), which=st.sampled_from(["1_tr.csv", "labels_te.csv", "3_featname.csv"]))
def test_mutated_mogonet_files_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, fixtures: Path, data: st.DataObject, which: str
) -> None:
    folder = Path(shutil.copytree(fixtures / "mogonet_tiny", tmp_path_factory.mktemp("m") / "m"))
    (folder / which).write_bytes(data.draw(mutated((folder / which).read_bytes())))
    try:
        read_mogonet(folder)
    except (FusionError, KGError) as error:
        assert str(error)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sample,g1\np1,1\npé,2\n".encode("utf-16"), ":1: file is UTF-16 encoded"),
        ("sample,g1\np1,1\n".encode("utf-32"), ":1: file is UTF-32 encoded"),
        ("sample,g1\np1,1\n".encode("utf-16-le"), ":1: NUL byte at position 2"),
        ("sample,g1\np1,1\npé,2\n".encode("latin-1"), ":3: byte 0xE9 at position 2"),
        (bytes(range(256)), ":1: NUL byte at position 1"),
        (b"sample,g1\np1,1\x00\n", ":2: NUL byte at position 5"),
    ],
)
def test_non_utf8_tables_are_refused_naming_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "mrna.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match="save it as UTF-8") as err:
        read_modalities({"mRNA": path})
    assert str(err.value).startswith(f"{path}{message}")


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "mrna.csv"
    path.write_bytes(codecs.BOM_UTF8 + VALID)
    assert list(read_modalities({"mRNA": path})["mRNA"].columns) == ["TP53", "EGFR", "BRCA1"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("sample,g1,g2\np1,1,2\n\n\np2,x,4\n", 5),  # blank lines before the bad row
        ("\n\nsample,g1,g2\np1,1,2\np2,x,4\n", 5),  # blank lines before the header
        ("sample,g1,g2\r\np1,1,2\r\n\r\np2,x,4\r\n", 4),  # CRLF
        ("sample,g1,g2\np1,1,2\n   \np2,x,4\n", 4),  # a line of spaces
        ('sample,g1,g2\n"p\n1",1,2\n\np2,x,4\n', 5),  # a quoted field spanning two lines
    ],
)
def test_errors_after_blank_lines_name_the_physical_line(
    tmp_path: Path, text: str, line: int
) -> None:
    path = tmp_path / "mrna.csv"
    path.write_bytes(text.encode())
    with pytest.raises(DataFileError, match="non-numeric value 'x' in column 'g1'") as err:
        read_modalities({"mRNA": path})
    assert err.value.row == line and str(err.value).startswith(f"{path}:{line}: ")


def test_other_errors_after_blank_lines_name_the_physical_line(tmp_path: Path) -> None:
    path = tmp_path / "mrna.csv"
    cases = [
        ("sample,g1,g2\np1,1,2\n\np2,3,4,5\n", 4, "malformed table"),
        ("sample,g1,g2\np1,1,2\n\np1,3,4\n", 4, "duplicate sample id 'p1' \\(first on line 2\\)"),
        ("sample,g1\n\np1,1\n\n,2\n", 5, "empty sample id"),
        ('sample,g1\n\np1,"1\np2,2\n', 3, "EOF inside string starting at line 3"),
    ]
    for text, line, message in cases:
        path.write_text(text)
        with pytest.raises(DataFileError, match=message) as err:
            read_modalities({"mRNA": path})
        assert err.value.row == line, text
    labels = tmp_path / "labels.csv"
    path.write_text("sample,g1\np1,1\np2,2\n")
    labels.write_text("sample,y\n\np1,a\n\np2,\n")
    with pytest.raises(DataFileError, match="missing label") as err:
        read_modalities({"mRNA": path}, labels)
    assert err.value.row == 5


def test_blank_lines_are_skipped_in_valid_tables(tmp_path: Path) -> None:
    path = tmp_path / "mrna.csv"
    path.write_text("\nsample,g1\n\np1,1\n\n\np2,2\n\n")
    assert read_modalities({"mRNA": path})["mRNA"]["g1"].tolist() == [1.0, 2.0]


def test_corrupt_gzip_table(tmp_path: Path) -> None:
    path = tmp_path / "mrna.csv.gz"
    path.write_bytes(gzip.compress(VALID * 50)[:-30])
    with pytest.raises(DataFileError, match="corrupt or truncated"):
        read_modalities({"mRNA": path})
