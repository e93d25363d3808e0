"""The cross-study consistency section: does a model trained on one study rank another study's lines the
same way, and do the two studies' own measurements agree (Haibe-Kains et al. 2013)? Read from
``cross-study/consistency.csv`` (:mod:`ccle.benchmark.cross_study`), absent when the run had no test study.
"""
from pathlib import Path

import numpy as np
import pandas as pd

from ccle.report.markdown import to_text

CONSISTENCY_PATH = Path("cross-study") / "consistency.csv"
MEASURED = "measured"


def _cell(rho, n):
    return "n/a" if not np.isfinite(rho) else f"{rho:+.3f} (n {int(n)})"


def consistency_rows(table):
    """The wide consistency table of a ``consistency.csv`` frame -> ``(header, rows)``: one row per matched
    pair (training drug -> test drug), the measured comparison then each method's Spearman (n), and a last
    row with the median over pairs."""
    methods = [MEASURED] + [m for m in dict.fromkeys(table["method"]) if m != MEASURED]
    header = ["Training drug", "Test drug"] + [("measured, shared lines" if m == MEASURED else m) for m in methods]
    rows, values = [], {m: [] for m in methods}
    for (train, test), grp in table.groupby(["train_drug", "test_drug"], sort=False):
        by = {r["method"]: r for _, r in grp.iterrows()}
        row = [train, test]
        for m in methods:
            r = by.get(m)
            row.append("" if r is None else _cell(float(r["spearman"]), r["n"]))
            if r is not None and np.isfinite(float(r["spearman"])):
                values[m].append(float(r["spearman"]))
        rows.append(row)
    rows.append(["Median over pairs", ""] + [f"{np.median(values[m]):+.3f}" if values[m] else "n/a" for m in methods])
    return header, rows


def consistency_section(out_dir):
    """The report section of a cross-study run (an absent-section note when there is none)."""
    path = Path(out_dir) / CONSISTENCY_PATH
    title = "Cross-study consistency"
    if not path.exists():
        return {"id": "cross-study", "title": title,
                "absent": "Not in this run: a test study (benchmark --test-drugs FILE)."}
    table = pd.read_csv(path)
    if table.empty:
        return {"id": "cross-study", "title": title,
                "absent": "The test study shares no compound measured on enough lines."}
    header, rows = consistency_rows(table)
    sign = int(table["sign"].iloc[0])
    lines = next((v for v in table["lines"] if v != "shared (measured)"), "held-out")
    note = ("the two studies call the same end of their responses sensitive" if sign > 0 else
            "the two studies' responses run in opposite directions, so the training values were negated")
    return {"id": "cross-study", "title": title,
            "paragraphs": [f"Spearman's rho, sign-aligned ({note}: a positive value means the studies agree on "
                           f"which lines are sensitive). 'measured, shared lines': the two studies' own "
                           f"responses on the lines both measured, as Haibe-Kains et al. (2013) compared CCLE "
                           f"and GDSC. Each method: trained on every training line of the drug, scored on the "
                           f"test study's {lines} lines. Pearson's r, the raw (unaligned) values and the genes "
                           f"the test expression lacked are in cross-study/consistency.csv; how the compounds "
                           f"were matched in cross-study/drug_matches.csv."],
            "tables": [{"header": header, "rows": rows,
                        **({"collapsed": f"{len(rows) - 1} matched compounds"} if len(rows) > 30 else {})}]}


def consistency_text(out_dir):
    """The consistency table as terminal text ('' without a test study)."""
    path = Path(out_dir) / CONSISTENCY_PATH
    if not path.exists():
        return ""
    table = pd.read_csv(path)
    if table.empty:
        return ""
    header, rows = consistency_rows(table)
    return ("Cross-study consistency: sign-aligned Spearman (n) per matched compound "
            f"({path}; Pearson there too)\n" + to_text(header, rows))
