"""Streaming reader and writer of GCT 1.2 / 1.3 expression files (the Broad CCLE release format).

GCT 1.2 (https://software.broadinstitute.org/cancer/software/gsea/wiki/index.php/Data_formats)::

    #1.2
    <n_genes>\t<n_cells>
    Name\tDescription\t<cell 1>\t...\t<cell n>
    <gene>\t<description>\t<value>\t...\t<value>        (n_genes rows)

GCT 1.3 adds row- and column-metadata: line 2 is ``n_genes n_cells n_row_meta n_col_meta``, the header is
``id, <n_row_meta metadata names>, <cells>``, followed by ``n_col_meta`` column-metadata lines, then the rows
``gene, <n_row_meta fields>, <values>``. The first row-metadata field is kept as the gene description.

The reader never holds the text in memory: rows are parsed one at a time (``np.fromstring`` with a C ``strtod``
loop) into a small float32 block of ``_BLOCK`` genes, which is transposed into the preallocated
``(n_cells, n_genes)`` float32 result. Peak memory is the result plus one block, i.e. about 1.0x the matrix.
"""
from __future__ import annotations

import gzip
import io
import os
import warnings
from pathlib import Path

import numpy as np

from ccle.data.expression import ExpressionMatrix
from ccle.errors import CCLEError

_BLOCK = 1024
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-nan"}


def open_text(path):
    """Open ``path`` for reading text, transparently decompressing gzip (detected by its magic bytes)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
    except FileNotFoundError:
        raise CCLEError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CCLEError(f"{path}: is a directory, expected a file") from None
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, "r", encoding="utf-8", errors="replace", buffering=1 << 20)


def _fields(line):
    return line.rstrip("\r\n").split("\t")


def _parse_slow(path, lineno, text, n_expected, cell_lines):
    """Field-by-field parse of one row's values (used only when the fast path fails): names the bad field."""
    tokens = text.rstrip("\r\n").split("\t")
    if len(tokens) != n_expected:
        raise CCLEError(f"{path}:{lineno}: expected {n_expected} values (one per cell line in the header), "
                        f"found {len(tokens)}")
    row = np.empty(n_expected, dtype=np.float32)
    for j, tok in enumerate(tokens):
        tok_s = tok.strip()
        if tok_s.lower() in _MISSING:
            row[j] = np.nan
            continue
        try:
            row[j] = float(tok_s)
        except ValueError:
            raise CCLEError(f"{path}:{lineno}: non-numeric value {tok!r} in column {j + 1} "
                            f"(cell line {cell_lines[j]!r})") from None
    return row


def _read_header(fh, path):
    """Parse the version, dimension and header lines (+ 1.3 column metadata).

    Returns (n_genes, n_cells, n_row_meta, cell_lines, lineno of the last header line).
    """
    version = fh.readline().strip()
    if version not in ("#1.2", "#1.3"):
        raise CCLEError(f"{path}:1: not a GCT file: first line is {version[:40]!r}, expected '#1.2' or '#1.3'")
    dims = fh.readline().split()
    try:
        dims = [int(d) for d in dims]
    except ValueError:
        raise CCLEError(f"{path}:2: dimension line must hold integers, got {' '.join(dims)[:60]!r}") from None
    want = 2 if version == "#1.2" else 4
    if len(dims) != want or min(dims) < 0:
        raise CCLEError(f"{path}:2: GCT {version[1:]} dimension line needs {want} non-negative integers, "
                        f"got {dims}")
    n_genes, n_cells = dims[0], dims[1]
    n_row_meta, n_col_meta = (1, 0) if version == "#1.2" else (dims[2], dims[3])
    header = _fields(fh.readline())
    if len(header) != 1 + n_row_meta + n_cells:
        raise CCLEError(f"{path}:3: header has {len(header) - 1 - n_row_meta} cell line columns but line 2 "
                        f"declares {n_cells}")
    cell_lines = [c.strip() for c in header[1 + n_row_meta:]]
    seen = {}
    for j, name in enumerate(cell_lines):
        if name in seen:
            raise CCLEError(f"{path}:3: duplicated cell line {name!r} (columns {seen[name] + 1} and {j + 1})")
        seen[name] = j
    for _ in range(n_col_meta):
        fh.readline()
    return n_genes, n_cells, n_row_meta, cell_lines, 3 + n_col_meta


def read_gct(path):
    """Read a GCT 1.2/1.3 file (optionally gzip) into an :class:`ExpressionMatrix` of float32.

    The file is genes x cells; the result is cells x genes (``values[i, g]`` = expression of gene ``g`` in
    cell line ``i``). Missing tokens (empty, NA, NaN) become NaN. Raises :class:`CCLEError` naming the file and
    line when the dimension line disagrees with the body, a value is not a number, or a cell line repeats.
    """
    path = os.fspath(path)
    with open_text(path) as fh:
        n_genes, n_cells, n_row_meta, cell_lines, lineno = _read_header(fh, path)
        n_split = 1 + n_row_meta
        values = np.empty((n_cells, n_genes), dtype=np.float32)
        block = np.empty((min(_BLOCK, max(n_genes, 1)), n_cells), dtype=np.float32)
        genes, descriptions = [], []
        g = 0  # genes parsed so far
        k = 0  # rows in the current block
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            for line in fh:
                lineno += 1
                if g == n_genes:
                    if line.strip():
                        raise CCLEError(f"{path}:{lineno}: more data rows than the {n_genes} declared on line 2")
                    continue
                parts = line.split("\t", n_split)
                if len(parts) <= n_split:
                    if not line.strip():
                        raise CCLEError(f"{path}:{lineno}: blank line inside the data (line 2 declares "
                                        f"{n_genes} rows, {g} read)")
                    raise CCLEError(f"{path}:{lineno}: expected {n_split + n_cells} tab-separated fields, "
                                    f"found {len(parts)}")
                genes.append(parts[0].strip())
                descriptions.append(parts[1].strip() if n_row_meta else "")
                text = parts[n_split]
                try:
                    row = np.fromstring(text, dtype=np.float32, sep="\t")
                    ok = row.shape[0] == n_cells
                except (ValueError, DeprecationWarning):
                    ok = False
                if ok:
                    block[k] = row
                else:
                    block[k] = _parse_slow(path, lineno, text, n_cells, cell_lines)
                k += 1
                g += 1
                if k == block.shape[0]:
                    values[:, g - k:g] = block.T
                    k = 0
        if k:
            values[:, g - k:g] = block[:k].T
        if g != n_genes:
            raise CCLEError(f"{path}:{lineno}: line 2 declares {n_genes} data rows but the file ends after {g}")
    return ExpressionMatrix(values, cell_lines, genes, descriptions if n_row_meta else None, path)


def _format_rows(values_gc, fmt):
    row_fmt = "\t".join([fmt] * values_gc.shape[1])
    for row in values_gc:
        yield row_fmt % tuple(row.tolist())


def write_gct(path, matrix, fmt="%.7g"):
    """Write ``matrix`` (an :class:`ExpressionMatrix`) as a GCT 1.2 file (gzip if ``path`` ends in ``.gz``).

    Values are written with the printf format ``fmt`` (``%.7g``: 7 significant digits, relative error
    below float32 resolution; use ``%.9g`` for a bit-exact float32 round trip). The file is written to a
    temporary name and renamed, so readers never see a partial file. Returns the path (a ``Path``).
    """
    path = os.fspath(path)
    values = np.asarray(matrix.values, dtype=np.float32)
    n_cells, n_genes = values.shape
    desc = matrix.descriptions if matrix.descriptions is not None else ["na"] * n_genes
    for name in list(matrix.genes) + list(matrix.cell_lines) + list(desc):
        if "\t" in name or "\n" in name:
            raise CCLEError(f"{path}: name {name!r} contains a tab or newline and cannot be written to GCT")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as base:
            raw = gzip.GzipFile(filename="", mode="wb", fileobj=base, mtime=0) if path.endswith(".gz") else base
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=False)
            out.write(f"#1.2\n{n_genes}\t{n_cells}\n")
            out.write("Name\tDescription\t" + "\t".join(matrix.cell_lines) + "\n")
            step = 256
            for g0 in range(0, n_genes, step):
                lines = _format_rows(values[:, g0:g0 + step].T, fmt)
                out.write("".join(f"{matrix.genes[g0 + i]}\t{desc[g0 + i]}\t{text}\n"
                                  for i, text in enumerate(lines)))
            out.flush()
            out.detach()
            if raw is not base:
                raw.close()  # writes the gzip trailer; mtime=0 keeps the bytes reproducible
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return Path(path)
