"""Reader of DepMap-style CSV expression matrices (rows = cell lines, columns = genes).

Layouts accepted (comma- or tab-separated, gzip allowed):

* DepMap release ``CCLE_expression.csv``: first column ``ACH-xxxxxx`` DepMap ids (header empty or ``DepMap_ID``),
  then one column per gene named ``SYMBOL (ENTREZ)``; the ids are mapped to CCLE names with a DepMap
  ``sample_info.csv`` (columns ``DepMap_ID``, ``CCLE_Name``).
* The same with a ``CCLE_Name`` column after the id (as in the TGSA-derived copy): no sample-info needed.
* First column already holding CCLE names (``A549_LUNG``).
"""
from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import open_text
from ccle.errors import CCLEError

_GENE_ENTREZ = re.compile(r"^\s*(.+?)\s*\((\d+)\)\s*$")
_DEPMAP_ID = re.compile(r"^ACH-\d+$")
_NAME_COLUMNS = ("CCLE_Name", "CCLE_name", "ccle_name", "CCLE Name")


def _sniff_sep(path):
    with open_text(path) as fh:
        first = fh.readline()
    return "\t" if first.count("\t") > first.count(",") else ","


def read_sample_info(path):
    """Map DepMap ids to CCLE names from a DepMap ``sample_info.csv`` -> ``dict[DepMap_ID, CCLE_Name]``."""
    path = os.fspath(path)
    try:
        table = pd.read_csv(path, sep=_sniff_sep(path), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CCLEError(f"{path}: cannot parse sample info: {str(exc).splitlines()[0]}") from None
    name_col = next((c for c in _NAME_COLUMNS if c in table.columns), None)
    if "DepMap_ID" not in table.columns or name_col is None:
        raise CCLEError(f"{path}:1: sample info needs columns 'DepMap_ID' and 'CCLE_Name', "
                        f"found {list(table.columns)[:6]}")
    return {i: n for i, n in zip(table["DepMap_ID"], table[name_col]) if i and n}


def read_lineages(path):
    """Map CCLE names to their lineage from a DepMap ``sample_info.csv`` -> ``dict[CCLE_Name, lineage]``
    (rows without a lineage are left out; ``ccle.splits.tissue_of`` then falls back to the name's suffix)."""
    path = os.fspath(path)
    try:
        table = pd.read_csv(path, sep=_sniff_sep(path), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CCLEError(f"{path}: cannot parse sample info: {str(exc).splitlines()[0]}") from None
    name_col = next((c for c in _NAME_COLUMNS if c in table.columns), None)
    if "lineage" not in table.columns or name_col is None:
        raise CCLEError(f"{path}:1: sample info needs columns 'CCLE_Name' and 'lineage' for tissues, "
                        f"found {list(table.columns)[:6]}")
    return {n: lin for n, lin in zip(table[name_col], table["lineage"]) if n and lin}


def _split_gene(header):
    m = _GENE_ENTREZ.match(header)
    return (m.group(1), m.group(2)) if m else (header.strip(), "")


def read_depmap_matrix(path, sample_info=None):
    """Read a DepMap-style CSV matrix into an :class:`ExpressionMatrix` with cells named by CCLE name.

    Parameters
    ----------
    path : str or Path
        CSV/TSV (optionally gzip). First column: DepMap ids or CCLE names; optional ``CCLE_Name`` column;
        every other column is a gene (``TP53 (7157)`` headers become gene ``TP53`` with description
        ``7157``, unless that would duplicate a symbol).
    sample_info : str, Path, dict or None
        DepMap sample-info table (or a ready ``{DepMap_ID: CCLE_Name}`` dict), required when the rows are
        ``ACH-`` ids without a ``CCLE_Name`` column. Rows whose id is not in it are dropped.

    Raises :class:`CCLEError` naming file and line for non-numeric values, duplicated cell lines, or ids
    that cannot be named.
    """
    path = os.fspath(path)
    sep = _sniff_sep(path)
    try:
        table = pd.read_csv(path, sep=sep, index_col=0, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CCLEError(f"{path}: cannot parse as a delimited matrix: {str(exc).splitlines()[0]}") from None
    if table.shape[1] == 0:
        raise CCLEError(f"{path}:1: no gene columns found (separator {sep!r})")
    index = [str(i).strip() for i in table.index]
    name_col = next((c for c in _NAME_COLUMNS if c in table.columns), None)
    if name_col is not None:
        names = [str(n).strip() for n in table[name_col]]
        table = table.drop(columns=[name_col])
    elif all(_DEPMAP_ID.match(i) for i in index):
        if sample_info is None:
            raise CCLEError(f"{path}:2: rows are DepMap ids ({index[0]}, ...) and the file has no CCLE_Name "
                            f"column: pass sample_info (DepMap sample_info.csv) to name the cell lines")
        mapping = sample_info if isinstance(sample_info, dict) else read_sample_info(sample_info)
        names = [mapping.get(i, "") for i in index]
    else:
        names = index
    keep = np.array([bool(n) and n.lower() != "nan" for n in names])
    if not keep.any():
        raise CCLEError(f"{path}: none of the {len(names)} rows could be named by a CCLE cell line name")
    seen = {}
    for row, name in enumerate(names):
        if not keep[row]:
            continue
        if name in seen:
            raise CCLEError(f"{path}:{row + 2}: duplicated cell line {name!r} (also on line {seen[name] + 2})")
        seen[name] = row
    # non-numeric values: report the first one with its line
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]):
            as_num = pd.to_numeric(table[col], errors="coerce")
            bad = np.flatnonzero(as_num.isna().to_numpy() & table[col].notna().to_numpy())
            if bad.size:
                raise CCLEError(f"{path}:{bad[0] + 2}: non-numeric value {table[col].iloc[bad[0]]!r} in column "
                                f"{col!r}")
            table[col] = as_num
    values = table.to_numpy(dtype=np.float32)[keep]
    headers = [str(c) for c in table.columns]
    split = [_split_gene(h) for h in headers]
    symbols = [s for s, _ in split]
    if len(set(symbols)) == len(symbols):
        genes, descriptions = symbols, [e for _, e in split]
        if not any(descriptions):
            descriptions = None
    else:
        genes, descriptions = headers, None
    cells = [n for n, k in zip(names, keep) if k]
    return ExpressionMatrix(np.ascontiguousarray(values), cells, genes, descriptions, path)
