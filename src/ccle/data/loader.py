"""One entry point for the pipeline: load an expression matrix and a drug table, real or default.

With no paths, the embedded default data set (:func:`ccle.data.synthetic.default_data`, generated once into a
cache folder) is loaded. The expression format is picked from the file's first line (gzip and a BOM looked
through): a line without a tab or comma that starts with ``#`` or is a version number (``#1.2``, ``#1.4``,
``1.2``) is a GCT file -- the GCT reader then accepts 1.2/1.3 and says "not a GCT 1.2/1.3 file" otherwise --
anything else a DepMap-style delimited matrix.

The drug file's layout is recognised from its header (:mod:`ccle.data.drug_formats`: CCLE 2015, GDSC, CTRPv2,
PRISM, or a long table whose columns the caller names), and its cell lines are matched to the expression's
by identifiers and names (:mod:`ccle.data.identity`; the DepMap ``Model.csv`` / ``sample_info.csv`` given as
``sample_info`` supplies the expression lines' identifiers): the drug table comes back with the expression's
names and the :class:`~ccle.data.identity.JoinReport` in ``table.join``.
"""
from __future__ import annotations

import os
import re

from ccle.data.depmap import read_depmap_matrix
from ccle.data.drug_formats import read_drugs
from ccle.data.gct import read_gct
from ccle.data.identity import link_cell_lines, read_models
from ccle.data.textio import first_line
from ccle.errors import CCLEError

_VERSION_LINE = re.compile(r"^#|^\d+(\.\d+)*$")


def expression_format(path):
    """``"gct"`` when the first line looks like a GCT version line, else ``"csv"`` (see the module text)."""
    first = first_line(path).strip()
    if not first:
        raise CCLEError(f"{os.fspath(path)}:1: empty expression file")
    return "gct" if "\t" not in first and "," not in first and _VERSION_LINE.match(first) else "csv"


def read_expression(path, sample_info=None, *, impute="keep", drop_incomplete_genes=False, duplicate_genes="error"):
    """Read an expression file of any accepted layout into an :class:`~ccle.data.expression.ExpressionMatrix`.

    The default policy here is "keep" (missing values stay NaN, counted in ``quality``) because this is the
    entry point of ``predict``, which needs only the model's genes and refuses or fills missing values among
    those itself; :func:`load_data` (benchmark, train) refuses them by default.

    Parameters
    ----------
    path : str or path-like
        A GCT file (1.2 / 1.3) or a DepMap-style CSV matrix (lines x genes), plain or gzipped.
    sample_info : str or path-like, optional
        DepMap ``sample_info.csv`` or ``Model.csv``, naming rows keyed by ``ACH-`` ids.
    impute : {"none", "median", "keep"}
        Missing values: refused, filled with the gene's median, or kept as NaN.
    drop_incomplete_genes : bool
        Drop genes with a missing value instead of imputing them.
    duplicate_genes : {"error", "mean"}
        A repeated gene name: refused, or its columns averaged.

    Returns
    -------
    ExpressionMatrix
        ``values`` (lines, genes) float32, ``cell_lines``, ``genes``, ``quality``.

    Raises
    ------
    ccle.errors.CCLEError
        A file that cannot be read, naming the file and line.
    """
    policy = dict(impute=impute, drop_incomplete_genes=drop_incomplete_genes, duplicate_genes=duplicate_genes)
    if expression_format(path) == "gct":
        return read_gct(path, **policy)  # GCT columns are CCLE names already: sample_info is not needed
    return read_depmap_matrix(path, sample_info=sample_info, **policy)


def load_data(expression_path=None, drugs_path=None, sample_info=None, response=None, *, impute="none",
              drop_incomplete_genes=False, duplicate_genes="error", long_table=None, **synthetic_kw):
    """The inputs of a run: an expression matrix and a drug-response table, joined by cell line.

    Parameters
    ----------
    expression_path, drugs_path : str or path-like, optional
        Both None: the embedded default data set (``synthetic_kw`` go to ``default_data``: ``cache_dir``,
        ``n_genes``, ``seed``, ...). Otherwise both must be given.
    sample_info : str or path-like, optional
        DepMap ``sample_info.csv`` or ``Model.csv``: names the rows of matrices keyed by ``ACH-`` ids and gives
        the identifiers that join the drug file's cell lines to the expression's.
    response : str, optional
        Drug-table column to read; None: the layout's default (``ActArea`` for the CCLE file, ``LN_IC50`` GDSC,
        ``area_under_curve`` CTRPv2, ``auc`` PRISM).
    impute, drop_incomplete_genes, duplicate_genes
        The expression reader's policy for missing values and repeated gene names (:func:`read_expression`);
        ``expression.quality.summary()`` says what was done.
    long_table : LongTableSpec or dict, optional
        Read the drug file as a long table with the named columns and direction, whatever its header
        (:class:`ccle.data.longtable.LongTableSpec`).
    **synthetic_kw
        Arguments of the default data generator.

    Returns
    -------
    expression : ExpressionMatrix
        Lines x genes.
    table : DrugTable
        The responses per (cell line, drug), with the response's direction and the join report.

    Raises
    ------
    ccle.errors.CCLEError
        A file that cannot be read or joined, naming the file (and line).
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
    expression = read_expression(expression_path, sample_info=sample_info, impute=impute,
                                 drop_incomplete_genes=drop_incomplete_genes, duplicate_genes=duplicate_genes)
    drugs = read_drugs(drugs_path, response=response, long_table=long_table)
    models = read_models(sample_info) if sample_info is not None and not isinstance(sample_info, dict) else ()
    drugs = link_cell_lines(drugs, expression.cell_lines, models, expression.source)
    return expression, drugs
