"""Open the readers' input files as checked UTF-8 text, turning every decoding failure into a
:class:`~kg.ParseError` that names the file (and line).

A ``.gz`` file (or one that starts with the gzip magic bytes) is decompressed; a corrupt or
truncated gzip stream, a UTF-16/UTF-32 byte-order mark, bytes that are not UTF-8 and NUL bytes
(binary files, UTF-16 without a byte-order mark) raise :class:`ParseError` rather than
``EOFError`` (which click takes for Ctrl-C), ``zlib.error``, ``BadGzipFile`` or
``UnicodeDecodeError``. A UTF-8 byte-order mark is dropped.

Whole files: :func:`read_bytes`, :func:`decode_text`, :func:`read_text`, :func:`read_lines`. Streaming
parsers (OBO): :class:`TextLines`. Error paths that name a line: :func:`find_line`.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from kg._exceptions import ParseError
from kg._source import PathLike

__all__ = [
    "TextLines",
    "decode_text",
    "excerpt",
    "find_line",
    "read_bytes",
    "read_lines",
    "read_text",
]

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
#: Byte-order marks of the encodings refused, longest first (UTF-32-LE starts like UTF-16-LE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
#: What ``surrogateescape`` decoding makes of bytes that are not UTF-8.
_ESCAPED = re.compile("[\udc80-\udcff]")
_SAVE_AS_UTF8 = "save it as UTF-8 text"


def excerpt(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (with ``…``), to echo user input in a message.

    Examples
    --------
    >>> excerpt("x" * 100, 5)
    'xxxxx…'
    >>> excerpt("short")
    'short'
    """
    return text if len(text) <= limit else text[:limit] + "…"


@contextmanager
def _open_binary(path: PathLike) -> Iterator[io.BufferedReader | gzip.GzipFile]:
    """The file's bytes, gunzipped when it is named ``.gz`` or starts with the gzip magic."""
    with open(path, "rb") as handle:
        if Path(path).suffix == ".gz" or handle.peek(2)[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=handle) as unpacked:
                yield unpacked
        else:
            yield handle


@contextmanager
def _gzip_errors(path: PathLike) -> Iterator[None]:
    try:
        yield
    except _GZIP_ERRORS as error:
        msg = (
            f"the gzip stream is corrupt or truncated ({error}); the file is damaged: "
            "download or compress it again"
        )
        raise ParseError(msg, path) from None


def _check_bom(head: bytes, path: PathLike) -> None:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            raise ParseError(f"file is {encoding} encoded; {_SAVE_AS_UTF8}", path, 1)


def _not_text(path: PathLike, line: int, byte: int, offset: int) -> ParseError:
    """The error for a NUL byte or a byte that is not UTF-8, ``offset`` bytes into ``line``."""
    where = f"at position {offset + 1} of the line"
    if byte == 0:
        msg = f"NUL byte {where}: the file is binary, or UTF-16/UTF-32 without a byte-order mark"
    else:
        msg = (
            f"byte 0x{byte:02X} {where} is not UTF-8: the file is binary or in another encoding "
            "(e.g. Latin-1)"
        )
    return ParseError(f"{msg}; {_SAVE_AS_UTF8}", path, line)


def read_bytes(path: PathLike) -> bytes:
    """The whole file as bytes, decompressed (see the module docstring).

    Raises
    ------
    ParseError
        A corrupt or truncated gzip stream.
    """
    with _open_binary(path) as handle, _gzip_errors(path):
        return handle.read()


def decode_text(raw: bytes, path: PathLike) -> str:
    """``raw`` as UTF-8 text, without a UTF-8 byte-order mark.

    Raises
    ------
    ParseError
        A UTF-16/UTF-32 byte-order mark, a byte that is not UTF-8 or a NUL byte (names the
        line of the first).
    """
    _check_bom(raw[:4], path)
    nul = raw.find(b"\x00")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        at = nul if 0 <= nul < error.start else error.start  # the first problem in the file
        raise _not_text_at(path, raw, at) from None
    if nul >= 0:
        raise _not_text_at(path, raw, nul)
    return text


def _not_text_at(path: PathLike, raw: bytes, at: int) -> ParseError:
    start = raw.rfind(b"\n", 0, at) + 1
    return _not_text(path, raw.count(b"\n", 0, start) + 1, raw[at], at - start)


def read_text(path: PathLike) -> str:
    """The whole file as checked UTF-8 text (:func:`read_bytes`, then :func:`decode_text`)."""
    return decode_text(read_bytes(path), path)


def read_lines(path: PathLike, comment: str | None = None) -> pd.Series:
    """Non-blank lines of a text file as a string Series indexed by 1-based line number.

    Lets line-oriented formats (GAF, GMT) be split and validated with vectorised string
    operations while errors still name the line. Newlines are read as text mode does (``\\r\\n``
    and ``\\r`` end a line too); lines starting with ``comment`` are skipped.
    """
    text = read_text(path)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = pd.Series(text.split("\n"), dtype=str)
    lines.index += 1
    keep = lines.str.strip() != ""
    if comment is not None:
        keep &= ~lines.str.startswith(comment)
    return lines[keep]


class TextLines:
    """The lines of a text file, as text mode reads them, for a streaming parser.

    Iteration stops *before* the first line that holds a byte that is not UTF-8 or a NUL byte,
    and keeps that error in :attr:`error`, so that the parser first reports any problem of its
    own in the lines before; call :meth:`check` when it is done. A UTF-16/UTF-32 byte-order
    mark or a corrupt gzip stream raises :class:`ParseError` at once. Memory stays bounded by
    the longest line.

    Examples
    --------
    >>> lines = TextLines("tests/data/mini.obo")
    >>> next(iter(lines))
    'format-version: 1.2\\n'
    >>> lines.check()
    """

    def __init__(self, path: PathLike):
        self.path = path
        self.error: ParseError | None = None

    def __iter__(self) -> Iterator[str]:
        self.error = None
        with _open_binary(self.path) as raw, _gzip_errors(self.path):
            _check_bom(raw.peek(4)[:4], self.path)
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape")
            for number, line in enumerate(text, start=1):
                if "\x00" in line or not (line.isascii() or _ESCAPED.search(line) is None):
                    self.error = self._error(number, line)
                    return
                yield line

    def _error(self, number: int, line: str) -> ParseError:
        nul, bad = line.find("\x00"), _ESCAPED.search(line)
        at = bad.start() if bad is not None and (nul < 0 or bad.start() < nul) else nul
        offset = len(line[:at].encode("utf-8", "surrogateescape"))
        return _not_text(self.path, number, ord(line[at]) - 0xDC00 if at != nul else 0, offset)

    def check(self) -> None:
        """Raise the error that stopped the iteration early, if any."""
        if self.error is not None:
            raise self.error


def find_line(path: PathLike, pattern: str, occurrence: int = 1) -> int | None:
    """1-based number of the line matching regex ``pattern`` (its ``occurrence``-th match).

    Only called on error paths, to name the line at fault without tracking positions while
    parsing. Reads the file as :class:`TextLines` does (gunzipped by name or magic bytes), so a
    gzip file not named ``.gz`` or a byte that is not UTF-8 never raises ``UnicodeDecodeError``:
    the search stops before the first such line (``None`` if the match lies beyond).
    """
    regex = re.compile(pattern)
    seen = 0
    for number, line in enumerate(TextLines(path), start=1):
        if regex.search(line):
            seen += 1
            if seen == occurrence:
                return number
    return None
