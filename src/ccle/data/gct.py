"""Streaming reader and writer of GCT 1.2 / 1.3 expression files (the Broad CCLE release format).
Long on purpose: the fast Numba parser and the reference Python parser of one format, tested against
each other, with the one error vocabulary they share.

GCT 1.2 (https://software.broadinstitute.org/cancer/software/gsea/wiki/index.php/Data_formats)::

    #1.2
    <n_genes>\t<n_cells>
    Name\tDescription\t<cell 1>\t...\t<cell n>
    <gene>\t<description>\t<value>\t...\t<value>        (n_genes rows)

GCT 1.3 adds row- and column-metadata: line 2 is ``n_genes n_cells n_row_meta n_col_meta``, the header is
``id, <n_row_meta metadata names>, <cells>``, followed by ``n_col_meta`` column-metadata lines, then the rows
``gene, <n_row_meta fields>, <values>``. The first row-metadata field is kept as the gene description.

The reader never holds the whole text in memory: 2 MB byte chunks are parsed by a Numba kernel into a small
float32 block of ``_BLOCK`` genes, which is transposed into the preallocated ``(n_cells, n_genes)`` float32
result. Peak memory is the result plus one chunk and one block, about 1.1x the matrix for the CCLE RNA-seq
file.
"""
from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import numba
import numpy as np

from ccle.data.expression import finalize
from ccle.data.textio import BOM, FLOAT32_MAX, open_binary, parse_float, reading
from ccle.errors import CCLEError

_BLOCK = 256
_CHUNK = 2 << 20


def _fields(line):
    return line.rstrip("\r\n").split("\t")


def _parse_slow(path, lineno, text, n_expected, cell_lines, first_column):
    """Field-by-field parse of one row's values (used only when the fast path fails or meets a non-finite
    value): names the bad field by its 1-based column in the line (the first value is ``first_column``).
    Missing tokens become NaN (the policy is applied by :func:`finalize`)."""
    tokens = text.rstrip("\r\n").split("\t")
    if len(tokens) != n_expected:
        raise CCLEError(f"{path}:{lineno}: expected {n_expected} values (one per cell line in the header), "
                        f"found {len(tokens)}")
    row = np.empty(n_expected, dtype=np.float32)
    for j, tok in enumerate(tokens):
        try:
            row[j] = parse_float(tok)
        except ValueError as exc:
            raise CCLEError(f"{path}:{lineno}: {exc} in column {first_column + j} (cell line {cell_lines[j]!r})") from None
    return row


def _read_header(readline, path):
    """Parse the version, dimension and header lines (+ 1.3 column metadata); ``readline()`` returns str.

    Returns (n_genes, n_cells, n_row_meta, cell_lines, lineno of the last header line).
    """
    version = readline().lstrip(BOM).strip()
    if version not in ("#1.2", "#1.3"):
        raise CCLEError(f"{path}:1: not a GCT 1.2/1.3 file: first line is {version[:40]!r}, expected '#1.2' "
                        f"or '#1.3'")
    dims = readline().split()
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
    header = _fields(readline())
    if len(header) != 1 + n_row_meta + n_cells:
        raise CCLEError(f"{path}:3: header has {len(header) - 1 - n_row_meta} cell line columns but line 2 "
                        f"declares {n_cells}")
    cell_lines = [c.strip() for c in header[1 + n_row_meta:]]
    for _ in range(n_col_meta):
        readline()
    return n_genes, n_cells, n_row_meta, cell_lines, 3 + n_col_meta


def _parse_line(path, lineno, line, n_row_meta, n_cells, cell_lines, n_genes, g):
    """One data line parsed in Python -> (name, description, float32 row); raises CCLEError on a bad line.

    Lines with a missing, non-finite or otherwise odd value go to :func:`_parse_slow`, which names the field.
    """
    n_split = 1 + n_row_meta
    parts = line.split("\t", n_split)
    if len(parts) <= n_split:
        if not line.strip():
            raise CCLEError(f"{path}:{lineno}: blank line inside the data (line 2 declares {n_genes} rows, "
                            f"{g} read)")
        raise CCLEError(f"{path}:{lineno}: expected {n_split + n_cells} tab-separated fields, found {len(parts)}")
    text = parts[n_split]
    # one split on tabs, then numpy's string-to-float64 conversion (rounded to float32 like the kernel's
    # values); np.fromstring is not used: it reads an empty or blank field as -1 and "1 2" as two values
    tokens = text.rstrip("\r\n").split("\t")
    ok = len(tokens) == n_cells
    if ok:
        try:
            row64 = np.array(tokens).astype(np.float64)
            ok = bool(np.isfinite(row64).all()) and bool((np.abs(row64) <= FLOAT32_MAX).all())
        except ValueError:
            ok = False
    if ok:
        row = row64.astype(np.float32)
    if not ok:
        row = _parse_slow(path, lineno, text, n_cells, cell_lines, n_split + 1)
    return parts[0].strip(), (parts[1].strip() if n_row_meta else ""), row


_P10 = np.array([float(10 ** i) for i in range(23)])
_MAX_EXACT = 2 ** 53


@numba.njit(cache=True, nogil=True)
def _parse_rows(buf, pos, end, n_split, n_cells, block, k, limit, offsets):  # pragma: no cover - numba
    """Parse whole lines of ``buf[pos:end]`` (uint8) into ``block[k:limit]`` (float32, rows = genes).

    Per line: ``n_split`` tab-terminated leading fields (their byte ranges go to ``offsets[row, 0:4]``), then
    ``n_cells`` decimal numbers separated by tabs, ended by ``\n`` (or ``\r\n``, or the end of the buffer).
    A number ``[+-]digits[.digits][(e|E)[+-]digits]`` with mantissa ``m < 2**53`` and decimal exponent
    ``|x| <= 22`` is ``m * 10**x`` (or ``m / 10**-x``): one correctly rounded float64 operation, i.e. the
    same double as ``strtod``, then rounded to float32. Anything else (NA, NaN, empty field, wrong count,
    longer mantissa) stops the kernel at the start of that line for the Python path to handle.

    Returns ``(k, pos, status)``: rows now in the block, next unread byte, 0 = stopped at ``limit``/``end``,
    1 = the line starting at ``pos`` needs the Python parser.
    """
    while k < limit and pos < end:
        line_start = pos
        for f in range(n_split):
            s = pos
            while pos < end and buf[pos] != 9 and buf[pos] != 10:
                pos += 1
            if pos >= end or buf[pos] != 9:
                return k, line_start, 1
            if f < 2:
                offsets[k, 2 * f] = s
                offsets[k, 2 * f + 1] = pos
            pos += 1
        for j in range(n_cells):
            while pos < end and buf[pos] == 32:
                pos += 1
            neg = False
            if pos < end and (buf[pos] == 45 or buf[pos] == 43):
                neg = buf[pos] == 45
                pos += 1
            m = 0
            x = 0
            n_digits = 0
            while pos < end and 48 <= buf[pos] <= 57:
                m = m * 10 + (buf[pos] - 48)
                n_digits += 1
                pos += 1
                if m >= _MAX_EXACT:
                    return k, line_start, 1
            if pos < end and buf[pos] == 46:
                pos += 1
                while pos < end and 48 <= buf[pos] <= 57:
                    m = m * 10 + (buf[pos] - 48)
                    x -= 1
                    n_digits += 1
                    pos += 1
                    if m >= _MAX_EXACT:
                        return k, line_start, 1
            if n_digits == 0:
                return k, line_start, 1
            if pos < end and (buf[pos] == 101 or buf[pos] == 69):
                pos += 1
                eneg = False
                if pos < end and (buf[pos] == 45 or buf[pos] == 43):
                    eneg = buf[pos] == 45
                    pos += 1
                ex = 0
                n_exp = 0
                while pos < end and 48 <= buf[pos] <= 57 and n_exp < 6:
                    ex = ex * 10 + (buf[pos] - 48)
                    n_exp += 1
                    pos += 1
                if n_exp == 0:
                    return k, line_start, 1
                x += -ex if eneg else ex
            while pos < end and buf[pos] == 32:
                pos += 1
            if j < n_cells - 1:
                if pos >= end or buf[pos] != 9:
                    return k, line_start, 1
                pos += 1
            elif pos < end:
                if buf[pos] == 13 and pos + 1 < end and buf[pos + 1] == 10:
                    pos += 2
                elif buf[pos] == 10:
                    pos += 1
                else:
                    return k, line_start, 1
            if m == 0:
                v = 0.0
            elif 0 <= x <= 22:
                v = m * _P10[x]
            elif -22 <= x < 0:
                v = m / _P10[-x]
            else:
                return k, line_start, 1
            block[k, j] = np.float32(-v if neg else v)
        if n_cells == 0:
            return k, line_start, 1
        k += 1
    return k, pos, 0


def read_gct(path, engine="numba", *, impute="none", drop_incomplete_genes=False, duplicate_genes="error"):
    """Read a GCT 1.2/1.3 file (optionally gzip, by magic bytes; a UTF-8 BOM and CRLF lines are accepted) into
    an :class:`ExpressionMatrix` of float32.

    The file is genes x cells; the result is cells x genes (``values[i, g]`` = expression of gene ``g`` in
    cell line ``i``). Raises :class:`CCLEError` naming the file and line (and column) when the file is not
    GCT 1.2/1.3, the dimension line disagrees with the body, a value is not a number, is infinite or beyond
    the float32 range, a cell line or gene repeats, or the file cannot be read (permission, damaged gzip).
    Missing tokens (empty, NA, NaN) are an error too unless ``impute="median"`` or
    ``drop_incomplete_genes=True``; ``duplicate_genes="mean"`` averages repeated gene names instead of
    refusing them (policy and counts: :mod:`ccle.data.expression`, ``result.quality``).

    ``engine="numba"`` parses 2 MB byte chunks with the compiled kernel :func:`_parse_rows` (lines it cannot
    handle go through the Python path); ``engine="python"`` parses every line with ``np.fromstring`` (the
    reference, same results). Both fill a block of ``_BLOCK`` genes that is transposed into the preallocated
    result, so peak memory is about the float32 matrix plus one chunk.
    """
    if engine not in ("numba", "python"):
        raise ValueError(f"engine must be 'numba' or 'python', got {engine!r}")
    path = os.fspath(path)
    with reading(path), open_binary(path) as fh:
        n_genes, n_cells, n_row_meta, cell_lines, header_lines = _read_header(
            lambda: fh.readline().decode("utf-8", "replace"), path)
        values = np.empty((n_cells, n_genes), dtype=np.float32)
        block = np.empty((max(1, min(_BLOCK, n_genes)), n_cells), dtype=np.float32)
        reader = _fill_numba if engine == "numba" else _fill_python
        genes, descriptions = reader(fh, path, values, block, n_row_meta, cell_lines, header_lines)
    first_cell_column = 2 + n_row_meta
    return finalize(values, cell_lines, genes, descriptions if n_row_meta else None, path,
                    lambda i, g: f"{path}:{header_lines + g + 1}: column {first_cell_column + i} (cell line "
                                 f"{cell_lines[i]!r})",
                    lambda g: f"{path}:{header_lines + g + 1}",
                    lambda i: f"{path}:3: column {first_cell_column + i}",
                    gene_major=True, impute=impute, drop_incomplete_genes=drop_incomplete_genes,
                    duplicate_genes=duplicate_genes)


class _Sink:
    """Collects parsed rows into the block and flushes full blocks (transposed) into ``values``."""

    def __init__(self, values, block):
        self.values, self.block = values, block
        self.g = 0  # rows parsed so far (flushed + in block)
        self.k = 0  # rows in the block

    def advance(self, n):
        self.g += n
        self.k += n
        if self.k == self.block.shape[0]:
            self.flush()

    def flush(self):
        if self.k:
            self.values[:, self.g - self.k:self.g] = self.block[:self.k].T
            self.k = 0


def _check_tail(path, lineno, extra_lines, n_genes):
    """Only blank lines may follow the declared rows; ``extra_lines`` iterates the rest as str."""
    for line in extra_lines:
        lineno += 1
        if line.strip():
            raise CCLEError(f"{path}:{lineno}: more data rows than the {n_genes} declared on line 2")


def _fill_python(fh, path, values, block, n_row_meta, cell_lines, lineno):
    n_genes, n_cells = values.shape[1], values.shape[0]
    sink = _Sink(values, block)
    genes, descriptions = [], []
    for raw in fh:  # lines end at b"\n" only (as in the kernel): a stray b"\r" stays inside its field
        line = raw.decode("utf-8", "replace")
        if sink.g == n_genes:
            _check_tail(path, lineno, [line], n_genes)
            lineno += 1
            continue
        lineno += 1
        name, desc, row = _parse_line(path, lineno, line, n_row_meta, n_cells, cell_lines, n_genes, sink.g)
        genes.append(name)
        descriptions.append(desc)
        block[sink.k] = row
        sink.advance(1)
    sink.flush()
    if sink.g != n_genes:
        raise CCLEError(f"{path}:{lineno}: line 2 declares {n_genes} data rows but the file ends after {sink.g}")
    return genes, descriptions


def _fill_numba(fh, path, values, block, n_row_meta, cell_lines, header_lines):
    n_genes, n_cells = values.shape[1], values.shape[0]
    n_split = 1 + n_row_meta
    sink = _Sink(values, block)
    offsets = np.zeros((block.shape[0], 4), dtype=np.int64)
    genes, descriptions = [], []
    data, pos, eof = b"", 0, False
    while sink.g < n_genes and not (eof and pos >= len(data)):
        more = fh.read(_CHUNK)
        eof = not more
        data = data[pos:] + more
        pos = 0
        end = len(data) if eof else data.rfind(b"\n") + 1
        buf = np.frombuffer(data, dtype=np.uint8)
        while pos < end and sink.g < n_genes:
            k0 = sink.k
            limit = min(block.shape[0], k0 + n_genes - sink.g)
            k, pos, status = _parse_rows(buf, pos, end, n_split, n_cells, block, k0, limit, offsets)
            for r in range(k0, k):
                genes.append(data[offsets[r, 0]:offsets[r, 1]].decode("utf-8", "replace").strip())
                if n_row_meta:
                    descriptions.append(data[offsets[r, 2]:offsets[r, 3]].decode("utf-8", "replace").strip())
            sink.advance(k - k0)
            if status == 1:
                nl = data.find(b"\n", pos, end)
                stop = end if nl < 0 else nl + 1
                line = data[pos:stop].decode("utf-8", "replace")
                lineno = header_lines + sink.g + 1
                name, desc, row = _parse_line(path, lineno, line, n_row_meta, n_cells, cell_lines, n_genes, sink.g)
                genes.append(name)
                descriptions.append(desc if n_row_meta else "")
                block[sink.k] = row
                sink.advance(1)
                pos = stop
    sink.flush()
    lineno = header_lines + sink.g
    rest = data[pos:].decode("utf-8", "replace")
    if sink.g != n_genes:
        end_line = lineno + (1 if rest.strip() else 0)
        raise CCLEError(f"{path}:{end_line}: line 2 declares {n_genes} data rows but the file ends after {sink.g}")
    _check_tail(path, lineno, _lines(data[pos:], fh), n_genes)
    return genes, descriptions


def _lines(rest, fh):
    """The unread lines as str: the rest of the buffer (bytes), then the rest of the binary file ``fh``."""
    parts = rest.split(b"\n")
    tail = parts.pop()  # after the last b"\n" of the buffer: the start of the next line ('' when none)
    for part in parts:
        yield part.decode("utf-8", "replace") + "\n"
    first = tail + fh.readline()
    if first:
        yield first.decode("utf-8", "replace")
    for raw in fh:
        yield raw.decode("utf-8", "replace")


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
