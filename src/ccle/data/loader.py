"""One entry point for the pipeline: load an expression matrix and a drug table, real or default.

With no paths, the embedded default data set (:func:`ccle.data.synthetic.default_data`, generated once into a
cache folder) is loaded. The expression format is picked from the file's first line: ``#1.2`` / ``#1.3`` is GCT,
anything else a DepMap-style delimited matrix.
"""
from __future__ import annotations

import os

from ccle.data.depmap import read_depmap_matrix
from ccle.data.drugs import read_drug_table
from ccle.data.gct import open_text, read_gct
from ccle.errors import CCLEError


def expression_format(path):
    """``"gct"`` when the first line is ``#1.2`` / ``#1.3``, else ``"csv"`` (gzip is looked through)."""
    with open_text(path) as fh:
        first = fh.readline().strip()
    if not first:
        raise CCLEError(f"{os.fspath(path)}:1: empty expression file")
    return "gct" if first in ("#1.2", "#1.3") else "csv"


def read_expression(path, sample_info=None):
    """Read an expression file of either format into an :class:`~ccle.data.expression.ExpressionMatrix`."""
    if expression_format(path) == "gct":
        return read_gct(path)  # GCT columns are CCLE names already: sample_info is not needed
    return read_depmap_matrix(path, sample_info=sample_info)


def load_data(expression_path=None, drugs_path=None, sample_info=None, response="ActArea", **synthetic_kw):
    """Return ``(ExpressionMatrix, DrugTable)``.

    Parameters
    ----------
    expression_path, drugs_path : paths or None
        Both None: the embedded default data set (``synthetic_kw`` go to ``default_data``: ``cache_dir``,
        ``n_genes``, ``seed``, ...). Otherwise both must be given.
    sample_info : DepMap sample_info.csv for DepMap matrices keyed by ``ACH-`` ids.
    response : drug-table column to read (``ActArea``, ``IC50 (uM)``, ``EC50 (uM)``, ``Amax``).
    """
    if expression_path is None and drugs_path is None:
        from ccle.data.synthetic import default_data

        data = default_data(**synthetic_kw)
        expression_path, drugs_path = data.expression_path, data.drugs_path
    elif expression_path is None or drugs_path is None:
        missing = "expression" if expression_path is None else "drug response"
        raise CCLEError(f"no {missing} file given: pass both an expression file and a drug file, or neither "
                        f"to use the embedded default data set")
    elif synthetic_kw:
        raise CCLEError(f"options {sorted(synthetic_kw)} only apply to the default data set, not to given files")
    expression = read_expression(expression_path, sample_info=sample_info)
    drugs = read_drug_table(drugs_path, response=response)
    return expression, drugs
