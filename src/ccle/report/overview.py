"""A report that stays readable over hundreds of drugs.

Above :data:`MANY_DRUGS` drugs (GDSC screens 265 and more) the report leads with summaries over drugs
(:func:`ccle.report.sections_overview.overview_section`: per-method distribution of the per-drug test R² and
MSE, wins, the average row), folds every per-drug table into a ``<details>`` block (:func:`fold`) and draws
its per-drug figures for a subset of the drugs (:func:`figure_drugs`). Every per-drug table is also written in
full as CSV next to ``table1.csv``: a section lists them under its ``csv`` key, ``[{name, header, rows}]`` with
raw values. Runs with fewer drugs (the default 24, ``--quick``'s 3) keep every drug in every table and figure.
"""
import math

import numpy as np

from ccle.report.tables import SUMMARY_METRICS, per_drug

MANY_DRUGS = 30          # above this many drugs the per-drug tables are folded and the figures subset
FIGURE_DRUGS = 30        # drugs drawn in a per-drug figure with one row per drug (dot plots)
PANEL_DRUGS = 12         # drugs drawn in a figure with one panel per drug (observed against predicted)
REFERENCE = "mean"       # the per-drug mean baseline: "beats the baseline" means a lower MSE than it


def many(drugs):
    """True when the run has more than :data:`MANY_DRUGS` drugs."""
    return len(drugs) > MANY_DRUGS


def best_r2(records, drugs, methods):
    """``{drug: highest mean test R² over splits of any method}`` (NaN when no method has one)."""
    t, _ = per_drug(records, "r2", drugs, methods)
    out = {}
    for d in drugs:
        vals = [v for v in t[d].values() if math.isfinite(v)]
        out[d] = max(vals) if vals else float("nan")
    return out


def figure_drugs(records, drugs, methods, k=FIGURE_DRUGS):
    """The drugs a per-drug figure shows: all of them, in the run's order, up to ``k``; above ``k``, ``k`` drugs
    at evenly spaced ranks of the best method's mean test R² (the highest and the lowest included), highest
    first, so the figure spans the range of how predictable the drugs are."""
    if len(drugs) <= k:
        return list(drugs)
    best = best_r2(records, drugs, methods)
    ranked = sorted(drugs, key=lambda d: -best[d] if math.isfinite(best[d]) else math.inf)   # stable: ties keep order
    picks = sorted(set(np.linspace(0, len(ranked) - 1, k).round().astype(int).tolist()))
    return [ranked[i] for i in picks]


def subset_note(shown, drugs, csv_name):
    """The sentence a per-drug figure's caption gets when it shows a subset ("" when it shows every drug)."""
    if len(shown) >= len(drugs):
        return ""
    return (f" Shown: {len(shown)} of the {len(drugs)} drugs, at evenly spaced ranks of the best method's test R² "
            f"(highest first); every drug is in {csv_name}.")


def fold(table, drugs, csv_name, what="Every drug"):
    """``table`` (a section table dict) folded into a ``<details>`` block naming ``csv_name`` when the run has
    many drugs; unchanged otherwise (a table already folded keeps its own summary line)."""
    if not many(drugs):
        return table
    return dict(table, collapsed=f"{what} ({len(table['rows'])} rows; also in {csv_name})", csv=csv_name)


def per_drug_metric_rows(records, drugs, methods):
    """Rows ``[drug, method, splits, mean, sd, min and max over splits of MSE and R², mean of the other summary
    metrics]`` for every (drug, method) with results: ``per_drug_metrics.csv``."""
    acc = {}
    for r in records:
        acc.setdefault((r["drug"], r["method"]), []).append(r)
    rows = []
    for d in drugs:
        for m in methods:
            recs = acc.get((d, m))
            if not recs:
                continue
            row = [d, m, len(recs)]
            for key in ("mse", "r2"):
                v = np.array([float(r.get(key, float("nan"))) for r in recs])
                row += [float(np.mean(v)), float(np.std(v, ddof=1)) if v.size > 1 else float("nan"),
                        float(np.min(v)), float(np.max(v))]
            for key in SUMMARY_METRICS:
                if key not in ("mse", "r2"):
                    row.append(float(np.mean([float(r.get(key, float("nan"))) for r in recs])))
            rows.append(row)
    header = (["drug", "method", "n_splits", "mse_mean", "mse_sd", "mse_min", "mse_max", "r2_mean", "r2_sd",
               "r2_min", "r2_max"] + [k for k in SUMMARY_METRICS if k not in ("mse", "r2")])
    return header, rows


__all__ = ["MANY_DRUGS", "FIGURE_DRUGS", "PANEL_DRUGS", "REFERENCE", "many", "figure_drugs", "subset_note",
           "fold", "per_drug_metric_rows"]
