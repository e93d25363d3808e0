"""Reader of the CTRPv2 sensitivity data (Cancer Therapeutics Response Portal v2, Broad; Seashore-Ludlow et al.,
Cancer Discovery 2015).

Source: the NCI CTD^2 data portal, ``CTRPv2.0_2015_ctd2_ExpandedDataset.zip``, whose ``v20._COLUMNS.txt``
describes the tab-separated files read here -- four of its ten:

* ``v20.data.curves_post_qc.txt``: one fitted curve per (experiment, compound), :data:`CURVE_COLUMNS`;
* ``v20.meta.per_experiment.txt``: experiment -> cell line (``experiment_id``, ``master_ccl_id``; an experiment
  may have several rows, one per screening run);
* ``v20.meta.per_cell_line.txt``: ``master_ccl_id`` -> ``ccl_name`` (CCLE-style stripped name, ``A549``) and
  ``ccle_primary_site`` (``lung``: the CCLE tissue, used as the line's tissue and, upper-cased, as its CCLE
  suffix when joining to expression data); two lines sharing a ``ccl_name`` are named CCLE-style,
  ``ccl_name_PRIMARY_SITE``;
* ``v20.meta.per_compound.txt``: ``master_cpd_id`` -> ``cpd_name``.

Example of ``v20.data.curves_post_qc.txt`` (tab-separated; the layout exact, the values illustrative)::

    experiment_id  conc_pts_fit  fit_num_param  p1_conf_int_high  p1_conf_int_low  p2_conf_int_high  p2_conf_int_low  p4_conf_int_high  p4_conf_int_low  p1_center  p2_slope  p3_total_decline  p4_baseline  apparent_ec50_umol  pred_pv_high_conc  area_under_curve  master_cpd_id
    1  16  3  NA  NA  NA  NA  NA  NA  4.95  -1.01  0.87  1  30.9  0.185  10.8  1788
    1  16  3  NA  NA  NA  NA  NA  NA  -1.36  -1.59  0.81  1  0.389  0.191  6.26  3588
    2  16  2  NA  NA  NA  NA  NA  NA  2.16  -2.66  1  1  4.47  0.00101  9.51  12877
    2  16  3  NA  NA  NA  NA  NA  NA  0.541  -0.875  0.67  1  1.45  0.331  8.53  19153

Response: ``area_under_curve`` (the area under the fitted viability curve over the concentration range; low
= sensitive), or ``apparent_ec50_umol`` (low = sensitive). A line screened in several experiments gives
several curves per compound: their responses are averaged (the count goes to ``notes``).
"""
from __future__ import annotations

import os
from collections import Counter

from ccle.data.drugs import response_label
from ccle.data.response_table import Rows, build_table, normalize_id, parse_value
from ccle.data.tables import check_width, column_positions, open_table
from ccle.errors import CCLEError

CURVES, EXPERIMENTS, CELL_LINES, COMPOUNDS = ("v20.data.curves_post_qc.txt", "v20.meta.per_experiment.txt",
                                              "v20.meta.per_cell_line.txt", "v20.meta.per_compound.txt")
CURVE_COLUMNS = ("experiment_id", "conc_pts_fit", "fit_num_param", "p1_conf_int_high", "p1_conf_int_low",
                 "p2_conf_int_high", "p2_conf_int_low", "p4_conf_int_high", "p4_conf_int_low", "p1_center",
                 "p2_slope", "p3_total_decline", "p4_baseline", "apparent_ec50_umol", "pred_pv_high_conc",
                 "area_under_curve", "master_cpd_id")
CTRP_RESPONSES = {"area_under_curve": -1, "apparent_ec50_umol": -1}
DEFAULT_RESPONSE = "area_under_curve"
# the columns that tell the four files apart (by content, not by file name)
_ROLES = {CURVES: ("experiment_id", "master_cpd_id", "area_under_curve"),
          EXPERIMENTS: ("experiment_id", "master_ccl_id"),
          CELL_LINES: ("master_ccl_id", "ccl_name"),
          COMPOUNDS: ("master_cpd_id", "cpd_name")}


def is_ctrp_curves(header):
    """True when ``header`` is the one of ``v20.data.curves_post_qc.txt``."""
    return all(c in header for c in _ROLES[CURVES])


def ctrp_files(source):
    """``{role: path}`` of the four files from a folder, the curves file (its folder holds the others under
    their published names) or a list of the four paths (told apart by their headers)."""
    if isinstance(source, (list, tuple)):
        found = {}
        for path in map(os.fspath, source):
            with open_table(path, "a CTRPv2 file") as table:
                role = next((r for r, cols in _ROLES.items() if all(c in table.header for c in cols)), None)
            if role is None:
                raise CCLEError(f"{path}:1: not one of the CTRPv2 files {', '.join(_ROLES)} (header "
                                f"{table.header[:6]})")
            found[role] = path
        missing = [r for r in _ROLES if r not in found]
        if missing:
            raise CCLEError(f"CTRPv2 input {', '.join(map(os.fspath, source))}: missing {', '.join(missing)}")
        return found
    source = os.fspath(source)
    folder = source if os.path.isdir(source) else os.path.dirname(source) or "."
    found = {role: os.path.join(folder, role) for role in _ROLES}
    if not os.path.isdir(source):
        found[CURVES] = source
    missing = [p for p in found.values() if not os.path.isfile(p)]
    if missing:
        raise CCLEError(f"{source}: CTRPv2 needs {', '.join(_ROLES)} in one folder; missing "
                        f"{', '.join(missing)}")
    return found


def _mapping(path, key, value, extra=(), what="a CTRPv2 file"):
    """``{key: (value, line, {extra column: field})}`` from one metadata file; a key given twice with another
    value is a CCLEError naming both lines."""
    out = {}
    with open_table(path, what) as table:
        pos = column_positions(table.header, path, (key, value), extra)
        for lineno, row in table.rows:
            check_width(path, lineno, row, table.header)
            k, v = normalize_id(row[pos[key]]), row[pos[value]].strip()
            if not k:
                raise CCLEError(f"{path}:{lineno}: empty {key}")
            seen = out.setdefault(k, (v, lineno, {c: row[pos[c]].strip() for c in extra if c in pos}))
            if seen[0] != v:
                raise CCLEError(f"{path}:{lineno}: {key} {k} has {value} {v!r} here and {seen[0]!r} on line "
                                f"{seen[1]}")
    return out


def _line_names(path, lines):
    """``{master_ccl_id: name}``: the ``ccl_name``, or -- when two lines share it -- the CCLE-style
    ``ccl_name_PRIMARY_SITE`` (``TT_THYROID`` / ``TT_OESOPHAGUS``); still shared is a CCLEError."""
    count = Counter(name for name, _, _ in lines.values())
    out, owner = {}, {}
    for ccl, (name, lineno, extra) in lines.items():
        site = extra.get("ccle_primary_site", "").strip()
        full = f"{name}_{site.upper()}" if count[name] > 1 and site else name
        other = owner.setdefault(full, (ccl, lineno))
        if other[0] != ccl:
            raise CCLEError(f"{path}:{lineno}: cell lines {other[0]} (line {other[1]}) and {ccl} are both "
                            f"{full!r}: ambiguous")
        out[ccl] = full
    return out


def read_ctrp(source, response=None):
    """Read CTRPv2 (a folder, the curves file, or the four files) -> ``DrugTable``.

    ``response``: ``"area_under_curve"`` (default) or ``"apparent_ec50_umol"``. Cell lines are the
    ``ccl_name`` s, their ``tissues`` the ``ccle_primary_site``; drugs are ``cpd_name`` with ``drug_ids`` the
    ``master_cpd_id``. Raises :class:`CCLEError` naming file and line for a missing file or column, a short
    or long row, an experiment or compound the metadata do not know, contradicting metadata rows and a
    non-numeric response.
    """
    files = ctrp_files(source)
    column = response or DEFAULT_RESPONSE
    curves = files[CURVES]
    if column not in CTRP_RESPONSES:
        raise CCLEError(f"{curves}: CTRPv2 response must be one of {', '.join(CTRP_RESPONSES)}, got {column!r}")
    experiments = _mapping(files[EXPERIMENTS], "experiment_id", "master_ccl_id")
    lines = _mapping(files[CELL_LINES], "master_ccl_id", "ccl_name", ("ccle_primary_site",))
    compounds = _mapping(files[COMPOUNDS], "master_cpd_id", "cpd_name")
    names = _line_names(files[CELL_LINES], lines)
    rows = Rows()
    with open_table(curves, "the CTRPv2 curves") as table:
        pos = column_positions(table.header, curves, ("experiment_id", "master_cpd_id", column))
        for lineno, row in table.rows:
            check_width(curves, lineno, row, table.header)
            experiment, compound = normalize_id(row[pos["experiment_id"]]), normalize_id(row[pos["master_cpd_id"]])
            if experiment not in experiments:
                raise CCLEError(f"{curves}:{lineno}: experiment_id {experiment!r} is not in {files[EXPERIMENTS]}")
            ccl = normalize_id(experiments[experiment][0])
            if ccl not in lines:
                raise CCLEError(f"{curves}:{lineno}: experiment {experiment}'s master_ccl_id {ccl!r} is not in "
                                f"{files[CELL_LINES]}")
            if compound not in compounds:
                raise CCLEError(f"{curves}:{lineno}: master_cpd_id {compound!r} is not in {files[COMPOUNDS]}")
            name, site = names[ccl], lines[ccl][2].get("ccle_primary_site", "")
            if not name or not compounds[compound][0]:
                raise CCLEError(f"{curves}:{lineno}: empty ccl_name or cpd_name for this curve")
            rows.add(lineno, name, compounds[compound][0], compound,
                     parse_value(row[pos[column]], curves, lineno, column, table.decimal_comma),
                     site, {"suffix": site.upper()} if site else {})
    return build_table(curves, rows, response=response_label(column, CTRP_RESPONSES[column]),
                       direction=CTRP_RESPONSES[column], layout="ctrp", replicates="mean")
