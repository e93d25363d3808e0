"""Opening the input files of every reader: gzip by magic bytes, a UTF-8 BOM, the separator, and I/O faults.

Every reader (GCT, DepMap CSV, drug table, sample info) goes through these helpers so that a file that cannot
be read -- missing, a directory, no permission, truncated or corrupt gzip -- is one :class:`CCLEError` naming
the file, whatever the reader, and so that gzip is recognised by its first two bytes (``1f 8b``), never by the
file name (a ``.csv`` that is gzip is read, a ``.gz`` that is not is read as plain text).
"""
from __future__ import annotations

import contextlib
import csv
import gzip
import io
import math
import os
import re
import zlib

from ccle.errors import CCLEError

GZIP_MAGIC = b"\x1f\x8b"
BOM = "\ufeff"
# tokens read as a missing value (case-insensitive, after stripping blanks)
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "-nan", "#n/a"})
FLOAT32_MAX = 3.4028234663852886e38


def _os_error(path, exc):
    if isinstance(exc, FileNotFoundError):
        return CCLEError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return CCLEError(f"{path}: is a directory, expected a file")
    if isinstance(exc, PermissionError):
        return CCLEError(f"{path}: permission denied (cannot read the file)")
    return CCLEError(f"{path}: cannot read the file ({exc.strerror or exc})")


@contextlib.contextmanager
def reading(path):
    """Turn the faults of reading ``path`` (OS errors, damaged gzip, undecodable bytes) into one CCLEError."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        detail = str(exc) or type(exc).__name__
        raise CCLEError(f"{path}: truncated or corrupt gzip data ({detail})") from None
    except OSError as exc:
        raise _os_error(path, exc) from None


def is_gzip(path):
    """True when ``path`` starts with the gzip magic bytes; raises CCLEError when it cannot be opened."""
    path = os.fspath(path)
    with reading(path):
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        with open(path, "rb") as fh:
            return fh.read(2) == GZIP_MAGIC


def open_binary(path):
    """``path`` opened for reading bytes, decompressed when it is gzip (by magic bytes)."""
    path = os.fspath(path)
    gz = is_gzip(path)
    with reading(path):
        return gzip.open(path, "rb") if gz else open(path, "rb", buffering=1 << 20)


def open_text(path):
    """``path`` opened for reading UTF-8 text (a leading BOM is dropped; gzip is looked through).

    Undecodable bytes become U+FFFD, so a damaged file fails on its content with a message naming the line,
    not on a decode error. Reading the returned handle can still hit a damaged gzip stream: wrap the reads
    in :func:`reading`.
    """
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="replace", newline=None)


def first_line(path):
    """The first line of ``path`` (BOM and line end removed), '' for an empty file."""
    path = os.fspath(path)
    with reading(path), open_text(path) as fh:
        return fh.readline().rstrip("\r\n")


def sniff_separator(line):
    """Tab when the header line holds more tabs than commas, else comma; ``;`` when it holds more semicolons
    than both (a spreadsheet saved as CSV in a locale whose decimal mark is the comma)."""
    tabs, commas, semicolons = line.count("\t"), line.count(","), line.count(";")
    if semicolons > tabs and semicolons > commas:
        return ";"
    return "\t" if tabs > commas else ","


def parse_float(token, decimal_comma=False):
    """One numeric field -> float; ``nan`` for a missing token (:data:`MISSING_TOKENS`); ValueError for
    text that is not a number, for ``inf`` and for a magnitude beyond the float32 range (such a value would
    silently become ``inf`` in the float32 matrix). The error message says which.

    ``decimal_comma`` (the fields of a ``;``-separated file): ``0,71`` is 0.71; a number holding both ``.``
    and ``,`` (``1.234,5``: a thousands separator) is refused rather than guessed."""
    tok = token.strip()
    if tok.lower() in MISSING_TOKENS:
        return math.nan
    if decimal_comma and "," in tok:
        if "." in tok:
            raise ValueError(f"number {token!r} holds both '.' and ',' (a thousands separator?): save the file "
                             f"without thousands separators")
        tok = tok.replace(",", ".")
    try:
        if "_" in tok:  # Python's float() reads "1_0" as 10; no expression file means that
            raise ValueError
        value = float(tok)
    except ValueError:
        hint = (" (a decimal comma? save the file with '.' as the decimal mark, or ';'-separated)"
                if not decimal_comma and re.fullmatch(r"[+-]?\d+,\d+", tok) else "")
        raise ValueError(f"non-numeric value {token!r}{hint}") from None
    if math.isnan(value):
        return math.nan
    if math.isinf(value):
        raise ValueError(f"infinite value {token!r}")
    if abs(value) > FLOAT32_MAX:
        raise ValueError(f"value {token!r} overflows float32 (|x| > 3.4e38)")
    return value


def csv_rows(fh, sep, path):
    """``(line number, fields)`` of the non-blank rows of ``fh`` after its header line (csv quoting rules)."""
    reader = csv.reader(fh, delimiter=sep, strict=True)
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                yield reader.line_num + 1, row
    except csv.Error as exc:
        raise CCLEError(f"{path}:{reader.line_num + 1}: cannot parse the line ({exc})") from None


def read_header(fh, path, what):
    """The header fields (stripped) and the separator of a delimited file, from its first line (read from
    ``fh``; ``what`` names the file's role in the message of an empty file)."""
    line = fh.readline()
    if not line.strip():
        raise CCLEError(f"{path}:1: empty file, expected the header line of {what}")
    sep = sniff_separator(line)
    try:
        fields = next(csv.reader([line], delimiter=sep))
    except (csv.Error, StopIteration):
        raise CCLEError(f"{path}:1: cannot parse the header line of {what}") from None
    return [f.strip() for f in fields], sep
