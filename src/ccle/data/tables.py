"""Rows of a delimited or Excel table, one interface for the drug-response readers.

A table is read from a comma-, tab- or ``;``-separated text file (sniffed from the header line, gzip looked
through, :mod:`ccle.data.textio`) or from the first sheet of an Excel ``.xlsx`` workbook (recognised by its zip
magic bytes ``PK\\x03\\x04``, never by the file name). Excel needs the optional ``openpyxl`` package
(``pip install ccle[excel]``), imported only when a workbook is met; without it the reader says so and how to
go on (install it, or save the sheet as CSV).

Every row comes with the number a person would look up: the line of a text file, the row of the sheet.
"""
from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass

from ccle.data.textio import csv_rows, open_text, read_header, reading
from ccle.errors import CCLEError

ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    """An open table: ``header`` (stripped names), ``rows`` (iterator of ``(line, fields)``, every field a
    str), ``decimal_comma`` (numbers use ``,`` as decimal mark: a ``;``-separated file) and ``kind``
    (``"text"`` or ``"xlsx"``)."""

    header: list
    rows: object
    decimal_comma: bool = False
    kind: str = "text"


def is_xlsx(path):
    """True when ``path`` starts with the zip magic bytes (an ``.xlsx`` workbook is a zip archive)."""
    path = os.fspath(path)
    with reading(path):
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        with open(path, "rb") as fh:
            return fh.read(4) == ZIP_MAGIC


def _cell_text(value):
    """An Excel cell value as the text a CSV export would hold ('' for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _xlsx_rows(path, what):
    try:
        import openpyxl  # optional: only Excel input needs it
    except ImportError:
        raise CCLEError(f"{path}: is an Excel workbook; reading it needs the optional package openpyxl "
                        f"(pip install openpyxl, or pip install ccle[excel]), or save the sheet as CSV") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged workbook has many failure types; one message for all
        raise CCLEError(f"{path}: cannot read the Excel workbook ({type(exc).__name__}: {exc})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or not any(v is not None for v in header):
            raise CCLEError(f"{path}:1: empty sheet, expected the header row of {what}")
        header = [_cell_text(v).strip() for v in header]
        while header and not header[-1]:
            header.pop()
        body = []
        for number, values in enumerate(rows, start=2):
            fields = [_cell_text(v) for v in values]
            if any(f.strip() for f in fields):
                fields = fields[:len(header)] if not any(f.strip() for f in fields[len(header):]) else fields
                body.append((number, fields))
    finally:
        book.close()
    return header, body


@contextlib.contextmanager
def open_table(path, what):
    """Context manager -> :class:`Table` of ``path`` (``what`` names the file's role in error messages).
    I/O faults are one CCLEError naming the file, as for every reader."""
    path = os.fspath(path)
    if is_xlsx(path):
        header, body = _xlsx_rows(path, what)
        yield Table(header, iter(body), False, "xlsx")
        return
    with reading(path), open_text(path) as fh:
        header, sep = read_header(fh, path, what)
        yield Table(header, csv_rows(fh, sep, path), sep == ";", "text")


def column_positions(header, path, required, optional=()):
    """``{name: position}`` of the ``required`` columns (CCLEError naming the missing ones and the header) and
    of those ``optional`` columns that are present."""
    missing = [c for c in required if c not in header]
    if missing:
        raise CCLEError(f"{path}:1: required column(s) {', '.join(repr(c) for c in missing)} not in the header "
                        f"{header[:8]}{' ...' if len(header) > 8 else ''}")
    return {c: header.index(c) for c in (*required, *optional) if c in header}


def check_width(path, lineno, row, header):
    """A row must have as many fields as the header (a damaged row is not a missing value)."""
    if len(row) != len(header):
        raise CCLEError(f"{path}:{lineno}: expected {len(header)} fields (as in the header), found {len(row)}")
