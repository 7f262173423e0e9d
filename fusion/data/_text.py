"""Cohort tables as checked UTF-8 text, and the physical line of each of their records (private).

:func:`read_text` decompresses (``.gz``, ``.bz2``, ``.xz``, one-member ``.zip``, as pandas
does) and decodes a file, turning every failure into a :class:`~fusion.DataFileError` naming the
file and line: a corrupt or truncated stream, a UTF-16/UTF-32 byte-order mark, a byte that is not
UTF-8, a NUL byte (binary files, UTF-16 without a byte-order mark). A UTF-8 byte-order mark is
dropped. :func:`records` removes blank lines and maps each remaining record to its physical line,
so that messages name the line a user sees in an editor.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import lzma
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from fusion._exceptions import DataFileError

__all__ = ["read_text", "records"]

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
#: Byte-order marks refused, longest first (UTF-32-LE starts like UTF-16-LE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_SAVE_AS_UTF8 = "save it as UTF-8 text (CSV/TSV)"
# a line of spaces only (checked only when the text holds " \n": the regex is slow on big files)
_SPACES_LINE = re.compile(r"(?:^|\n) +\r?\n")
_LINE_END = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


def _read_bytes(path: Path) -> bytes:
    suffix = path.suffix.lower()
    try:
        if suffix in _OPENERS:
            with _OPENERS[suffix](path, "rb") as handle:
                return handle.read()
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if len(names) != 1:
                    msg = f"a .zip cohort table must hold exactly one file; this one holds {len(names)}."
                    raise DataFileError(msg, path=path)
                return archive.read(names[0])
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _STREAM_ERRORS as error:
        kind = suffix.lstrip(".") or "compressed"
        msg = f"the {kind} stream is corrupt or truncated ({error}); compress or download it again."
        raise DataFileError(msg, path=path) from None


def _not_text(path: Path, raw: bytes, at: int, byte: int) -> DataFileError:
    start = raw.rfind(b"\n", 0, at) + 1
    line = raw.count(b"\n", 0, start) + 1
    where = f"at position {at - start + 1} of the line"
    if byte == 0:
        what = f"NUL byte {where}: the file is binary, or UTF-16/UTF-32 without a byte-order mark"
    else:
        what = f"byte 0x{byte:02X} {where} is not UTF-8: the file is binary or in another encoding"
    return DataFileError(f"{what}; {_SAVE_AS_UTF8}.", path=path, row=line)


def read_text(path: Path) -> str:
    """The whole file, decompressed, as UTF-8 text without a byte-order mark.

    Raises
    ------
    DataFileError
        A corrupt compressed stream, a UTF-16/UTF-32 byte-order mark, a byte that is not UTF-8
        or a NUL byte (naming the line of the first).
    """
    raw = _read_bytes(path)
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            msg = f"the file is {encoding} text (byte-order mark); {_SAVE_AS_UTF8}."
            raise DataFileError(msg, path=path, row=1)
    nul = raw.find(b"\x00")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if 0 <= nul < error.start:
            raise _not_text(path, raw, nul, 0) from None
        raise _not_text(path, raw, error.start, raw[error.start]) from None
    if nul >= 0:
        raise _not_text(path, raw, nul, 0)
    return text


def records(text: str, sep: str) -> tuple[str, np.ndarray | None]:
    """``text`` without blank lines, and the 1-based physical line where each record starts.

    A record is a line, or several when a quoted field holds line breaks. ``None`` as the map
    means record ``i`` (0-based) is on line ``i + 1`` (no blank lines, no quotes), so that the
    common case costs one scan of the text.
    """
    if not _needs_map(text):
        return text, None
    lines = _split_lines(text)
    spans: list[tuple[int, int]] = []
    if '"' in text:
        reader = csv.reader(lines, delimiter=sep)
        start = 0
        try:
            for fields in reader:
                spans.append((start, reader.line_num))
                start = reader.line_num
        except csv.Error:
            spans = []
    if not spans:
        spans = [(i, i + 1) for i in range(len(lines))]
    keep = [(a, b) for a, b in spans if any(lines[i].strip(" \r\n") for i in range(a, b))]
    cleaned = "".join(line for a, b in keep for line in lines[a:b])
    return cleaned, np.array([a + 1 for a, _ in keep], dtype=np.int64)


def _needs_map(text: str) -> bool:
    """Whether ``text`` holds a quote (records may span lines) or a terminated blank line."""
    if '"' in text or "\n\n" in text or "\n\r\n" in text or text[:1] in ("\n", "\r"):
        return True
    return (" \n" in text or " \r\n" in text) and _SPACES_LINE.search(text) is not None


def _split_lines(text: str) -> list[str]:
    """Lines with their ends, split where pandas and the csv module end a line (\\n, \\r\\n, \\r)."""
    lines = _LINE_END.split(text) if "\r" in text else [line + "\n" for line in text.split("\n")]
    if lines and lines[-1] in ("", "\n"):
        lines.pop()
    return lines
