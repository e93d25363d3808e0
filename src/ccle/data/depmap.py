"""Reader of DepMap-style CSV expression matrices (rows = cell lines, columns = genes), and of the DepMap
sample-info table that names their rows.

Layouts accepted (comma- or tab-separated, sniffed from the header; gzip by magic bytes; a UTF-8 BOM and CRLF
lines are fine):

* DepMap release ``CCLE_expression.csv``: first column ``ACH-xxxxxx`` DepMap ids (header empty or ``DepMap_ID``),
  then one column per gene named ``SYMBOL (ENTREZ)``; the ids are mapped to CCLE names with a DepMap
  ``sample_info.csv`` (columns ``DepMap_ID``, ``CCLE_Name``).
* The same with a ``CCLE_Name`` column after the id (as in the TGSA-derived copy): no sample-info needed.
* First column already holding CCLE names (``A549_LUNG``).
* The model-indexed matrices of current releases (``OmicsExpressionProteinCodingGenesTPMLogp1.csv``: first
  column ``ACH-`` model ids with an empty header, genes ``SYMBOL (ENTREZ)``), named with a DepMap ``Model.csv``
  (columns ``ModelID``, ``CCLEName``; a model without a CCLE name is named by its ``StrippedCellLineName``).
* The profile-indexed matrices of the 2025 releases (``OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv``:
  one row per sequencing profile, metadata columns ``ProfileID``, ``ModelID`` and a default-entry flag --
  ``IsDefaultEntryForModel`` or ``is_default_entry``, ``Yes``/``No`` -- possibly with ``SequencingID``,
  ``ModelConditionID``, ``IsDefaultEntryForMC`` and a leading unnamed row number, then the genes). Only the
  default profile of each model is kept (the others are counted in ``quality.non_default_profiles``); the rows
  are then named by ``ModelID`` as above. Example (DepMap 25Q3 release notes: "Columns are ProfileID,
  is_default_entry, ModelID and then a column per gene")::

      ProfileID,IsDefaultEntryForModel,ModelID,TSPAN6 (7105),TNMD (64102)
      PR-0aH1jW,Yes,ACH-000001,4.33,0.0
      PR-09rZ2M,No,ACH-000001,4.21,0.0
      PR-0a8EN5,Yes,ACH-000002,3.97,0.14

A ``;``-separated file (a spreadsheet saved as CSV where the decimal mark is the comma) is read with ``,`` as
its decimal mark.

Parsing: pandas' C parser reads a clean file (every row complete, every value a finite float32 number); at the
first doubt the file is read again with the :mod:`csv` module, field by field, which is the reference: it
names line and column of what is wrong, and marks missing values for the policy of
:func:`ccle.data.expression.finalize`. A clean file never takes the slow path.
"""
from __future__ import annotations

import functools
import os
import re
import warnings

import numpy as np
import pandas as pd

from ccle.data.expression import finalize
from ccle.data.textio import FLOAT32_MAX, csv_rows, open_binary, open_text, parse_float, read_header, reading
from ccle.errors import CCLEError

_GENE_ENTREZ = re.compile(r"^\s*(.+?)\s*\((\d+)\)\s*$")
_DEPMAP_ID = re.compile(r"^ACH-\d+$")
_NAME_COLUMNS = ("CCLE_Name", "CCLE_name", "ccle_name", "CCLE Name")
# DepMap Model.csv (22Q2 onwards) names the same two columns ModelID / CCLEName
_MODEL_ID, _MODEL_NAME, _MODEL_STRIPPED, _MODEL_LINEAGE = "ModelID", "CCLEName", "StrippedCellLineName", \
    "OncotreeLineage"
# metadata columns of the profile-indexed matrices (never genes)
_PROFILE_COLUMNS = ("ProfileID", "SequencingID", "ModelConditionID", "IsDefaultEntryForMC")
_DEFAULT_FLAGS = ("IsDefaultEntryForModel", "is_default_entry")
_YES, _NO = frozenset({"yes", "true", "1"}), frozenset({"no", "false", "0"})


def read_sample_info(path):
    """Map DepMap ids to CCLE names from a DepMap ``sample_info.csv`` (``DepMap_ID``, ``CCLE_Name``) or
    ``Model.csv`` (``ModelID``, ``CCLEName``, a model without one named by ``StrippedCellLineName``) ->
    ``dict[DepMap id, CCLE name]``.

    Rows with an empty id or name are skipped; an id given twice with two different names, a row with fewer
    fields than the id/name columns need, or a file without those columns is a CCLEError naming the line.
    """
    path = os.fspath(path)
    with reading(path), open_text(path) as fh:
        header, sep = read_header(fh, path, "the sample info")
        name_col = next((c for c in _NAME_COLUMNS if c in header), None)
        stripped_pos = None
        if _MODEL_ID in header and _MODEL_NAME in header:
            id_col, name_col = _MODEL_ID, _MODEL_NAME
            stripped_pos = header.index(_MODEL_STRIPPED) if _MODEL_STRIPPED in header else None
        elif "DepMap_ID" in header and name_col is not None:
            id_col = "DepMap_ID"
        else:
            raise CCLEError(f"{path}:1: sample info needs columns 'DepMap_ID' and 'CCLE_Name' (sample_info.csv) "
                            f"or 'ModelID' and 'CCLEName' (Model.csv), found {header[:6]}")
        id_pos, name_pos = header.index(id_col), header.index(name_col)
        mapping, where = {}, {}
        for lineno, row in csv_rows(fh, sep, path):
            if len(row) <= max(id_pos, name_pos, stripped_pos or 0):
                raise CCLEError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
            depmap_id, name = row[id_pos].strip(), row[name_pos].strip()
            if not name and stripped_pos is not None:
                name = row[stripped_pos].strip()
            if not depmap_id or not name:
                continue
            if mapping.get(depmap_id, name) != name:
                raise CCLEError(f"{path}:{lineno}: DepMap id {depmap_id!r} named {name!r} here and "
                                f"{mapping[depmap_id]!r} on line {where[depmap_id]}")
            mapping[depmap_id], where[depmap_id] = name, lineno
    if not mapping:
        raise CCLEError(f"{path}: sample info names no cell line (no row with both {id_col} and {name_col})")
    return mapping


def read_lineages(path):
    """Map CCLE names to their lineage from a DepMap ``sample_info.csv`` (``CCLE_Name``, ``lineage``) or
    ``Model.csv`` (``CCLEName`` -- else ``StrippedCellLineName`` --, ``OncotreeLineage``) ->
    ``dict[name, lineage]`` (rows without a lineage are left out; ``ccle.evaluation.splits.tissue_of`` then falls back to
    the name's suffix). A file without the columns, or a row too short for them, is a CCLEError naming the
    file (and line)."""
    path = os.fspath(path)
    with reading(path), open_text(path) as fh:
        header, sep = read_header(fh, path, "the sample info")
        name_col = next((c for c in _NAME_COLUMNS if c in header), None)
        lineage_col, stripped_pos = "lineage", None
        if _MODEL_NAME in header and _MODEL_LINEAGE in header:
            name_col, lineage_col = _MODEL_NAME, _MODEL_LINEAGE
            stripped_pos = header.index(_MODEL_STRIPPED) if _MODEL_STRIPPED in header else None
        elif "lineage" not in header or name_col is None:
            raise CCLEError(f"{path}:1: sample info needs columns 'CCLE_Name' and 'lineage' (sample_info.csv) or "
                            f"'CCLEName' and 'OncotreeLineage' (Model.csv) for tissues, found {header[:6]}")
        name_pos, lineage_pos = header.index(name_col), header.index(lineage_col)
        lineages = {}
        for lineno, row in csv_rows(fh, sep, path):
            if len(row) <= max(name_pos, lineage_pos, stripped_pos or 0):
                raise CCLEError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
            name, lineage = row[name_pos].strip(), row[lineage_pos].strip()
            if not name and stripped_pos is not None:
                name = row[stripped_pos].strip()
            if name and lineage:
                lineages[name] = lineage
    return lineages


def _split_gene(header):
    m = _GENE_ENTREZ.match(header)
    return (m.group(1), m.group(2)) if m else (header.strip(), "")


def _parse_fast(path, sep, header, label_cols, gene_cols):
    """``(labels, values float64)`` with pandas' C parser, or None when the file is not plainly clean."""
    try:
        with open_binary(path) as fh, warnings.catch_warnings():
            # a row longer than the header is only a ParserWarning (its extra fields are dropped): refuse
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(fh, sep=sep, header=None, skiprows=1, names=range(len(header)), index_col=False,
                                na_filter=False, low_memory=False, encoding="utf-8",
                                encoding_errors="replace", decimal="," if sep == ";" else ".")
    except Exception:  # noqa: BLE001 - any doubt goes to the reference parser, which says what is wrong
        return None
    kinds = {table.dtypes.iloc[c].kind for c in gene_cols} if table.shape[1] == len(header) else {"?"}
    if not kinds <= {"f", "i", "u"}:
        return None
    values = table[gene_cols].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all() or (np.abs(values) > FLOAT32_MAX).any():
        return None
    return {c: [str(s).strip() for s in table[c]] for c in label_cols}, values, None


def _parse_slow(path, sep, header, label_cols, gene_cols):
    """``(labels, values float64 with NaN = missing, line numbers)`` with the csv module, field by field."""
    labels = {c: [] for c in label_cols}
    rows, lines = [], []
    with open_text(path) as fh:
        fh.readline()
        for lineno, row in csv_rows(fh, sep, path):
            if len(row) != len(header):
                raise CCLEError(f"{path}:{lineno}: expected {len(header)} fields (as in the header), "
                                f"found {len(row)}")
            for c in label_cols:
                labels[c].append(row[c].strip())
            values = np.empty(len(gene_cols))
            for k, c in enumerate(gene_cols):
                try:
                    values[k] = parse_float(row[c], decimal_comma=sep == ";")
                except ValueError as exc:
                    raise CCLEError(f"{path}:{lineno}: {exc} in column {c + 1} ({header[c]!r})") from None
            rows.append(values)
            lines.append(lineno)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(gene_cols))
    return labels, values, lines


@functools.lru_cache(maxsize=4)
def _line_numbers(path, sep, mtime):
    """Line numbers of the data rows (only computed for an error message: reads the file once more)."""
    with reading(path), open_text(path) as fh:
        fh.readline()
        return [lineno for lineno, _ in csv_rows(fh, sep, path)]


def read_depmap_matrix(path, sample_info=None, *, impute="none", drop_incomplete_genes=False,
                       duplicate_genes="error"):
    """Read a DepMap-style CSV matrix into an :class:`ExpressionMatrix` with cells named by CCLE name.

    Parameters
    ----------
    path : str or Path
        CSV/TSV (optionally gzip). First column: DepMap ids or CCLE names; optional ``CCLE_Name`` column;
        every other column is a gene (``TP53 (7157)`` headers become gene ``TP53`` with description
        ``7157``, unless that would duplicate a symbol).
    sample_info : str, Path, dict or None
        DepMap sample-info table (or a ready ``{DepMap_ID: CCLE_Name}`` dict), required when the rows are
        ``ACH-`` ids without a ``CCLE_Name`` column. Rows whose id is not in it (or with an empty name) are
        dropped; their count is ``result.quality.unnamed_rows``.
    impute, drop_incomplete_genes, duplicate_genes
        The missing-value and repeated-gene policy of :func:`ccle.data.expression.finalize` (default: both
        are errors naming line and column).

    Raises :class:`CCLEError` naming file, line and column for a short or long row, a non-numeric, infinite
    or float32-overflowing value, a missing value (by default), duplicated cell lines or gene headers, ids
    that cannot be named, or a file that cannot be read (permission, damaged gzip).
    """
    path = os.fspath(path)
    with reading(path):
        with open_text(path) as fh:
            header, sep = read_header(fh, path, "an expression matrix")
        name_pos = next((p for p, h in enumerate(header) if p > 0 and h in _NAME_COLUMNS), None)
        id_pos, flag_pos, meta = 0, None, set()
        if _MODEL_ID in header[1:]:   # profile-indexed: the model id is a metadata column, not the first
            id_pos = header.index(_MODEL_ID)
            flag_pos = next((header.index(f) for f in _DEFAULT_FLAGS if f in header), None)
            meta = {p for p, h in enumerate(header) if h in _PROFILE_COLUMNS or h in _DEFAULT_FLAGS}
            meta |= {0} if header[0] in ("", "Unnamed: 0") else set()
        label_cols = [c for c in dict.fromkeys([0, id_pos, name_pos, flag_pos]) if c is not None]
        gene_cols = [c for c in range(len(header)) if c not in meta and c not in label_cols]
        if not gene_cols:
            raise CCLEError(f"{path}:1: no gene columns found: the header has {len(header)} field(s) with "
                            f"separator {sep!r}; save the file comma-, tab- or ';'-separated")
        parsed = _parse_fast(path, sep, header, label_cols, gene_cols)
        labels, values, lines = parsed or _parse_slow(path, sep, header, label_cols, gene_cols)
    if values.shape[0] == 0:
        raise CCLEError(f"{path}: no data rows after the header")
    if lines is None:
        def line_of(row):
            return _line_numbers(path, sep, os.stat(path).st_mtime_ns)[row]
    else:
        line_of = lines.__getitem__
    index = labels[id_pos]
    default = np.ones(len(index), dtype=bool)
    if flag_pos is not None:
        default = _default_rows(path, labels[flag_pos], header[flag_pos], line_of)
    if name_pos is not None:
        names = labels[name_pos]
    elif all(_DEPMAP_ID.match(i) for i in index):
        if sample_info is None:
            raise CCLEError(f"{path}:2: rows are DepMap ids ({index[0]}, ...) and the file has no CCLE_Name "
                            f"column: pass sample_info (DepMap sample_info.csv or Model.csv) to name the cell lines")
        mapping = sample_info if isinstance(sample_info, dict) else read_sample_info(sample_info)
        names = [mapping.get(i, "") for i in index]
    else:
        names = index
    keep = np.flatnonzero([bool(n) and n.lower() != "nan" and d for n, d in zip(names, default)])
    if keep.size == 0:
        raise CCLEError(f"{path}: none of the {len(names)} rows could be named by a CCLE cell line name")
    genes_raw = [header[c] for c in gene_cols]
    split = [_split_gene(h) for h in genes_raw]
    symbols = [s for s, _ in split]
    if len(set(symbols)) == len(symbols):
        genes, descriptions = symbols, [e for _, e in split]
        if not any(descriptions):
            descriptions = None
    else:
        genes, descriptions = genes_raw, None
    matrix = finalize(values[keep].astype(np.float32), [names[r] for r in keep], genes, descriptions, path,
                      lambda i, g: f"{path}:{line_of(keep[i])}: column {gene_cols[g] + 1} ({genes_raw[g]!r})",
                      lambda g: f"{path}:1: column {gene_cols[g] + 1}",
                      lambda i: f"{path}:{line_of(keep[i])}",
                      gene_major=False, impute=impute, drop_incomplete_genes=drop_incomplete_genes,
                      duplicate_genes=duplicate_genes)
    matrix.quality.non_default_profiles = int((~default).sum())
    matrix.quality.unnamed_rows = len(names) - keep.size - matrix.quality.non_default_profiles
    return matrix


def _default_rows(path, flags, column, line_of):
    """Boolean mask of the rows whose default-entry flag says yes; a flag that is neither yes nor no is a
    CCLEError naming the line."""
    out = np.empty(len(flags), dtype=bool)
    for row, flag in enumerate(flags):
        value = flag.strip().lower()
        if value not in _YES and value not in _NO:
            raise CCLEError(f"{path}:{line_of(row)}: column {column!r} is {flag!r}, expected Yes or No")
        out[row] = value in _YES
    return out
