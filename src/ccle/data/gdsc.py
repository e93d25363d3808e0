"""Reader of the GDSC1 / GDSC2 "fitted dose response" tables (Genomics of Drug Sensitivity in Cancer, Sanger).

Source: https://www.cancerrxgene.org/downloads/bulk_download, "Drug Screening - IC50s", files
``GDSC1_fitted_dose_response_<date>.xlsx`` / ``GDSC2_fitted_dose_response_<date>.xlsx`` (also published as
CSV); columns as defined in ``GDSC2_Fitted_Data_Description.pdf`` (:data:`GDSC_COLUMNS`). Example (CSV, the
layout exact, the values illustrative)::

    DATASET,NLME_RESULT_ID,NLME_CURVE_ID,COSMIC_ID,CELL_LINE_NAME,SANGER_MODEL_ID,TCGA_DESC,DRUG_ID,DRUG_NAME,PUTATIVE_TARGET,PATHWAY_NAME,COMPANY_ID,WEBRELEASE,MIN_CONC,MAX_CONC,LN_IC50,AUC,RMSE,Z_SCORE
    GDSC2,343,15946310,683667,PFSK-1,SIDM01132,MB,1003,Camptothecin,TOP1,DNA replication,1046,Y,0.000195,0.1,-1.463887,0.93022,0.089052,0.433123
    GDSC2,343,15946548,684052,A673,SIDM00848,UNCLASSIFIED,1003,Camptothecin,TOP1,DNA replication,1046,Y,0.000195,0.1,-4.869455,0.61497,0.111351,-1.4211
    GDSC2,343,15946830,684057,ES5,SIDM00263,UNCLASSIFIED,1003,Camptothecin,TOP1,DNA replication,1046,Y,0.000195,0.1,-3.360586,0.791072,0.142886,-0.599569
    GDSC2,343,15947087,684059,ES7,SIDM00269,UNCLASSIFIED,1003,Camptothecin,TOP1,DNA replication,1046,Y,0.000195,0.1,-5.04494,0.59266,0.135018,-1.516647

Responses (:data:`GDSC_RESPONSES`): ``LN_IC50``, the natural log of the fitted IC50 in uM (default), and
``AUC``, the area under the fitted viability curve as a fraction of the screened concentration range; for both
a low value means sensitive. ``TCGA_DESC`` is the line's tissue (a TCGA study code). Lines carry their
``COSMIC_ID`` and ``SANGER_MODEL_ID`` for joining to expression data (:mod:`ccle.data.identity`). Drugs are
``(DRUG_NAME, DRUG_ID)``: GDSC screens some compounds under two ids (two suppliers or screening sites), which
are two drugs, labelled e.g. ``Selumetinib (1062)`` and ``Selumetinib (1498)``.

Only the cell line name, drug id and name and the chosen response column are required; the others may be
absent or empty.
"""
from __future__ import annotations

import os

from ccle.data.drugs import response_label
from ccle.data.response_table import Rows, build_table, normalize_id, parse_value
from ccle.data.tables import check_width, column_positions, open_table
from ccle.errors import CCLEError

GDSC_COLUMNS = ("DATASET", "NLME_RESULT_ID", "NLME_CURVE_ID", "COSMIC_ID", "CELL_LINE_NAME", "SANGER_MODEL_ID",
                "TCGA_DESC", "DRUG_ID", "DRUG_NAME", "PUTATIVE_TARGET", "PATHWAY_NAME", "COMPANY_ID", "WEBRELEASE",
                "MIN_CONC", "MAX_CONC", "LN_IC50", "AUC", "RMSE", "Z_SCORE")
GDSC_RESPONSES = {"LN_IC50": -1, "AUC": -1}
DEFAULT_RESPONSE = "LN_IC50"
SIGNATURE = ("CELL_LINE_NAME", "DRUG_ID", "DRUG_NAME")


def is_gdsc(header):
    """True when ``header`` has the GDSC fitted-dose-response key columns."""
    return all(c in header for c in SIGNATURE)


def read_gdsc(path, response=None):
    """Read a GDSC1/GDSC2 fitted dose-response table (CSV/TSV, gzip or ``.xlsx``) -> ``DrugTable``.

    ``response``: ``"LN_IC50"`` (default) or ``"AUC"``. The table's ``response`` is
    ``"<column> (low = sensitive)"``, its ``tissues`` the ``TCGA_DESC`` per line, ``cell_ids`` the COSMIC and
    Sanger ids, ``drug_ids`` the ``DRUG_ID`` per label. Raises :class:`CCLEError` naming file and line (row of
    the sheet) for a missing required column, a short or long row, an empty cell line or drug, a non-numeric
    response, a (cell line, drug) pair given twice and a line whose ids or tissue contradict another row's.
    """
    path = os.fspath(path)
    column = response or DEFAULT_RESPONSE
    if column not in GDSC_RESPONSES:
        raise CCLEError(f"{path}: GDSC response must be one of {', '.join(GDSC_RESPONSES)}, got {column!r}")
    rows = Rows()
    with open_table(path, "a GDSC fitted dose-response table") as table:
        pos = column_positions(table.header, path, (*SIGNATURE, column),
                               ("COSMIC_ID", "SANGER_MODEL_ID", "TCGA_DESC"))
        for lineno, row in table.rows:
            check_width(path, lineno, row, table.header)
            cell, drug_id, name = (row[pos[c]].strip() for c in SIGNATURE)
            if not cell or not name or not drug_id:
                raise CCLEError(f"{path}:{lineno}: empty CELL_LINE_NAME, DRUG_ID or DRUG_NAME")
            ids = {kind: normalize_id(row[pos[c]]) for kind, c in (("cosmic", "COSMIC_ID"),
                                                                  ("sanger", "SANGER_MODEL_ID")) if c in pos}
            tissue = row[pos["TCGA_DESC"]].strip() if "TCGA_DESC" in pos else ""
            rows.add(lineno, cell, name, normalize_id(drug_id),
                     parse_value(row[pos[column]], path, lineno, column, table.decimal_comma),
                     tissue, {k: v for k, v in ids.items() if v})
    return build_table(path, rows, response=response_label(column, GDSC_RESPONSES[column]),
                       direction=GDSC_RESPONSES[column], layout="gdsc")
