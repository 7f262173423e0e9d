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
import csv
import gzip
import lzma
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from fusion._exceptions import DataFileError
from kg import ParseError, decode_text

__all__ = ["read_text", "records"]

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
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


def read_text(path: Path) -> tuple[str, bytes]:
    """The whole file, decompressed, as UTF-8 text without a byte-order mark, and its bytes.

    The bytes are the checked UTF-8 encoding of the text (the byte-order mark removed), for
    parsers that read bytes faster than text.

    Raises
    ------
    DataFileError
        A corrupt compressed stream, a UTF-16/UTF-32 byte-order mark, a byte that is not UTF-8
        or a NUL byte (naming the line of the first; :func:`kg.decode_text`).
    """
    raw = _read_bytes(path)
    try:
        text = decode_text(raw, path)
    except ParseError as error:
        raise DataFileError(error.message, path=path, row=error.line) from None
    return text, raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


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
