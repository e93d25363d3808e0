"""The report's sections on how far to trust the results: the coverage of the prediction intervals
(``interval_*`` record fields, :mod:`ccle.evaluation.intervals`) and the leakage headline (per drug, strict
against paper-protocol test MSE, with the paper's published Table I). See :mod:`ccle.report.sections` for the
section dict."""
import math

import numpy as np

import ccle.report.overview as overview
from ccle.report.paper_values import paper_mse
from ccle.report.sections import _absent, f3
from ccle.report.tables import condition, method_label, per_drug


def _finite(values):
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def coverage_section(records, drugs, methods):
    """Per method: empirical coverage of the test rows by the prediction intervals and their median width, per
    drug (mean over splits) and on average over drugs, the share of confident calls and their accuracy."""
    title = "Prediction intervals: coverage and width"
    recs = [r for r in records if _finite([r.get("interval_coverage")])]
    if not recs:
        return _absent("coverage", title, "prediction intervals (records without interval_coverage)")
    levels = sorted({float(r["interval_level"]) for r in recs if "interval_level" in r})
    level = levels[0] if len(levels) == 1 else float("nan")
    shown = [m for m in methods if any(r["method"] == m for r in recs)]
    cov, _ = per_drug(recs, "interval_coverage", drugs, shown)
    wid, _ = per_drug(recs, "interval_width", drugs, shown)
    share, _ = per_drug(recs, "confident_share", drugs, shown)
    acc, _ = per_drug([r for r in recs if _finite([r.get("confident_acc")])], "confident_acc", drugs, shown)
    rows, cover, width = [], {}, {}
    for m in shown:
        cover[m] = _finite([cov[d][m] for d in cov])
        width[m] = _finite([wid[d][m] for d in wid])
        a = _finite([acc[d][m] for d in acc])
        rows.append([method_label(m), f3(float(np.mean(cover[m])) if cover[m] else float("nan")),
                     f3(min(cover[m]) if cover[m] else float("nan")),
                     str(sum(1 for v in cover[m] if v < level - 0.1)) if math.isfinite(level) else "–",
                     f3(float(np.mean(width[m])) if width[m] else float("nan")),
                     f3(float(np.mean(_finite([share[d][m] for d in share]) or [float("nan")]))),
                     f3(float(np.mean(a)) if a else float("nan"))])
    per_drug_rows = [[d] + [f"{f3(cov[d][m])} / {f3(wid[d][m])}" for m in shown] for d in cov]
    csv_rows = [[d, m, cov[d][m], wid[d][m], share[d][m], acc[d][m]] for d in cov for m in shown
                if math.isfinite(cov[d][m])]
    nominal = f"{100 * level:g} %" if math.isfinite(level) else "several levels"
    text = (f"Every prediction comes with a {nominal} interval: split conformal on the absolute out-of-fold "
            "residuals of the method's training rows (half-width = the ceil((n + 1) x level)-th smallest). "
            "The guarantee is marginal (over cell lines drawn like the training ones, not for one cell line or "
            "one tissue) and approximate: the residuals are those of fold models, the test rows are "
            "predicted by the final model. Coverage: share of the test rows whose observed response lies in its "
            "interval, per drug the mean over splits. A confident call is one whose whole interval lies in one "
            "class region of the paper rule; its accuracy is the share of those calls that match the observed class.")
    header = ["Method", "Coverage (mean over drugs)", "Lowest drug", "Drugs below nominal − 0.10",
              "Median width (mean over drugs)", "Confident calls (share)", "Accuracy of confident calls"]

    def make():
        import ccle.report.figures as figures
        return figures.coverage_figure(cover, width, shown, level if math.isfinite(level) else 0.9)

    return {"id": "coverage", "title": title, "paragraphs": [text],
            "csv": [{"name": "coverage_per_drug.csv", "rows": csv_rows,
                     "header": ["drug", "method", "interval_coverage", "interval_width", "confident_share",
                                "confident_acc"]}],
            "tables": [{"header": header, "rows": rows},
                       {"header": ["Drug"] + [method_label(m) for m in shown], "rows": per_drug_rows,
                        "caption": "Per drug: coverage / median width (mean over splits).",
                        "collapsed": "Coverage and width per drug",
                        **({"collapsed": f"Coverage and width per drug ({len(per_drug_rows)} rows; also in "
                                         f"coverage_per_drug.csv)", "csv": "coverage_per_drug.csv"}
                           if overview.many(drugs) else {})}],
            "figures": [{"name": "fig_interval_coverage", "make": make,
                         "caption": "Coverage of the test rows (left; dashed: nominal level) and median interval "
                                    "width (right) per method: dot = mean over drugs, line = lowest to highest drug."}]}


def leakage_headline_section(all_records, drugs, methods):
    """Per drug and method: mean test MSE over splits under the strict protocol and under the paper protocol
    (the all-rows preprocessing), and the paper's published Table I value for the CCLE drugs."""
    title = "Leakage: strict against paper protocol, per drug"
    pairs = [r for r in all_records if condition(r)[1:] == ("pairs", False)]
    strict = [r for r in pairs if r.get("protocol", "strict") == "strict"]
    paper = [r for r in pairs if r.get("protocol") == "paper"]
    both = [m for m in methods if any(r["method"] == m for r in strict) and any(r["method"] == m for r in paper)]
    if not both:
        return _absent("leakage-headline", title, "results of both the strict and the paper protocol "
                                                   "(benchmark --protocol both)")
    ts, _ = per_drug(strict, "mse", drugs, both)
    tp, _ = per_drug(paper, "mse", drugs, both)
    s_val = {(d, m): ts[d][m] for d in ts for m in both if math.isfinite(ts[d][m])}
    p_val = {(d, m): tp[d][m] for d in tp for m in both if math.isfinite(tp[d][m])}
    published = {(d, m): paper_mse(d, m) for d in drugs for m in both if paper_mse(d, m) is not None}
    shown = [d for d in drugs if any((d, m) in s_val or (d, m) in p_val for m in both)]
    rows = []
    for m in both:
        keys = [(d, m) for d in shown if (d, m) in s_val and (d, m) in p_val]
        gap = [s_val[k] - p_val[k] for k in keys]
        pub = [published[k] for k in keys if k in published]
        rows.append([method_label(m), str(len(keys)), f3(float(np.mean([s_val[k] for k in keys])) if keys else
                                                         float("nan")),
                     f3(float(np.mean([p_val[k] for k in keys])) if keys else float("nan")),
                     f3(float(np.mean(gap)) if gap else float("nan")),
                     str(sum(1 for g in gap if g > 0)),
                     f3(float(np.mean(pub)) if pub else None)])   # None: the paper has no such column
    text = ("The headline of the leakage audit: the same splits scored under the strict protocol (every step fitted "
            "on the training rows only) and under the paper's protocol (scaling, gene selection and the width search "
            "fitted on all rows of the drug, test rows included). Filled dot (upper): strict; open dot (lower): paper "
            "protocol; "
            "cross: the value the paper published in its Table I (CCLE drug names; the paper's NN is the simple "
            "ANN). A gap between the dots is what the leak buys; a published value far below both is not reproduced "
            "by either protocol.")

    drawn = overview.figure_drugs(strict, shown, both)
    csv_rows = [[d, m, s_val.get((d, m), float("nan")), p_val.get((d, m), float("nan")),
                 published.get((d, m), float("nan"))] for d in shown for m in both
                if (d, m) in s_val or (d, m) in p_val]

    def make():
        import ccle.report.figures as figures
        return figures.leakage_dumbbell(s_val, p_val, published, drawn, both)

    return {"id": "leakage-headline", "title": title, "paragraphs": [text],
            "tables": [{"header": ["Method", "Drugs", "Strict MSE (mean)", "Paper-protocol MSE (mean)",
                                   "Strict − paper", "Drugs where the leak lowers MSE", "Published (mean)"],
                        "rows": rows}],
            "figures": [{"name": "fig_leakage_per_drug", "make": make,
                         "caption": "Per drug and method: test MSE (mean over splits) under the strict protocol "
                                    "(filled) and the paper protocol (open), and the paper's published Table I "
                                    "value (cross)." + overview.subset_note(drawn, shown, "leakage_per_drug.csv")}],
            "csv": [{"name": "leakage_per_drug.csv", "rows": csv_rows,
                     "header": ["drug", "method", "strict_mse", "paper_mse", "published_mse"]}]}
