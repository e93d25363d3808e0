"""The section a report with many drugs leads with: summaries over drugs (see :mod:`ccle.report.overview` and
:mod:`ccle.report.sections` for the section dict)."""
import math

import numpy as np

from ccle.report.overview import REFERENCE
from ccle.report.sections import f3
from ccle.report.tables import method_label, per_drug


def _per_drug_values(records, drugs, methods, metric):
    t, _ = per_drug(records, metric, drugs, methods)
    return {m: np.array([t[d][m] for d in drugs], dtype=float) for m in methods}


def overview_section(records, drugs, methods):
    """Summaries over drugs, the report's lead when it has many drugs: per method the average, median and spread
    over drugs of the per-drug test MSE and R², on how many drugs it is the best method and on how many it beats
    the per-drug mean; the distributions as box plots."""
    mse = _per_drug_values(records, drugs, methods, "mse")
    r2 = _per_drug_values(records, drugs, methods, "r2")
    best = {m: 0 for m in methods}
    for i, _ in enumerate(drugs):
        vals = [(mse[m][i], m) for m in methods if math.isfinite(mse[m][i])]
        if vals:
            best[min(vals)[1]] += 1
    ref = mse.get(REFERENCE)
    header = ["Method", "Drugs", "MSE (average over drugs)", "MSE (median)", "R² (average over drugs)",
              "R² (median)", "R² (25-75 perc.)", "Best method on"]
    if ref is not None:
        header.append(f"Lower MSE than the {method_label(REFERENCE)} on")
    rows = []
    for m in methods:
        ok = np.isfinite(mse[m])
        fr = r2[m][np.isfinite(r2[m])]
        q1, q3 = np.percentile(fr, [25, 75]) if fr.size else (float("nan"), float("nan"))
        row = [method_label(m), str(int(ok.sum())), f3(float(np.mean(mse[m][ok])) if ok.any() else float("nan")),
               f3(float(np.median(mse[m][ok])) if ok.any() else float("nan")),
               f3(float(np.mean(fr)) if fr.size else float("nan")),
               f3(float(np.median(fr)) if fr.size else float("nan")), f"{f3(q1)} to {f3(q3)}",
               f"{best[m]} of {len(drugs)}"]
        if ref is not None:
            both = ok & np.isfinite(ref)
            row.append("–" if m == REFERENCE else f"{int(np.sum(mse[m][both] < ref[both]))} of {int(both.sum())}")
        rows.append(row)
    text = (f"{len(drugs)} drugs: each method's per-drug test MSE and R² (mean over splits) summarized over drugs. "
            "R² is on the same scale for every drug (0 = no better than the test rows' own mean), MSE is not, so "
            "the figure shows each drug's MSE relative to its per-drug mean baseline. Every per-drug table below is "
            "folded (click to open) and written in full as CSV next to this page (table1.csv, per_drug_metrics.csv, "
            "...); the per-drug figures show a subset of the drugs spread over the range of R².")
    ratio = ({m: mse[m] / ref for m in methods if m != REFERENCE} if ref is not None else None)

    def make():
        import ccle.report.figures as figures
        return figures.over_drugs_boxes(r2, ratio if ratio is not None else mse, methods,
                                        relative=ratio is not None)

    caption = ("Per-drug test R² (left) and test MSE " +
               (f"relative to the {method_label(REFERENCE)} (right; below 1 = better than the baseline)"
                if ratio is not None else "(right)") +
               " of each method over drugs: box = 25-75 percentile with the median, whiskers to 1.5 IQR, dots = "
               "drugs beyond them, diamond = mean.")
    return {"id": "over-drugs", "title": "Over drugs", "paragraphs": [text],
            "tables": [{"header": header, "rows": rows}],
            "figures": [{"name": "fig_over_drugs", "caption": caption, "make": make}]}
