"""The report's content as a list of sections (title, paragraphs, formatted tables, figures), rendered by
:mod:`ccle.report.markdown` and :mod:`ccle.report.html` alike. A section whose record fields or files are
absent comes back with an ``absent`` note instead of content.

A section is a dict: ``id``, ``title``, ``paragraphs`` [str], ``tables`` [{header, rows (strings), bold
{(row, col)}, summary_rows {row}, caption, collapsed}], ``figures`` [{name, caption, make, weight}] (``make()``
returns the matplotlib Figure, called only when matplotlib is available; the optional ``weight``, default 1,
e.g. a number of panels, says which figures start first when several processes draw them), or ``absent`` (str).
"""
import math

import numpy as np

import ccle.report.stats as stats
import ccle.report.overview as overview
from ccle.evaluation.audit import LEAKING_STEPS, leaking_steps_text
from ccle.report.tables import (METRIC_LABELS, SUMMARY_ROW_LABEL, TABLE2_ROWS, mean_over_drugs, method_label,
                                per_drug, table1_spread, timing_table)

HEADER_LABELS = {"train_s_per_drug_mean": "Mean", "train_s_per_drug_median": "Median",
                 "train_s_per_drug_max": "Maximum", "train_s_total": "Total in run",
                 "predict_s_mean": "Prediction (mean)", "log10_train_s": "log10 mean"}


def f3(v, digits=3):
    """A number for a table cell: "–" for None (not measured), "n/a" for NaN (undefined, e.g. the correlation
    of a constant predictor); a value that rounds to zero prints without a minus sign."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–" if v is None else "n/a" if math.isnan(v) else ("∞" if v > 0 else "-∞")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def fp(p):
    """A p-value for a table cell."""
    if p is None or not math.isfinite(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _p_text(p):
    """``"= 0.012"`` or ``"< 0.001"``: a p-value after its "p" in running text."""
    text = fp(p)
    return text if text.startswith("<") else f"= {text}"


def _absent(sid, title, what):
    return {"id": sid, "title": title, "absent": f"Not in this run: {what}."}


def run_section(meta, records, drugs, methods):
    """The run: protocol, data, fingerprint, seed, versions, command line, wall time, which steps saw test rows."""
    seen = {r.get("protocol", "strict") for r in records}
    protocols = [p for p in [meta.get("protocol")] if p in seen or not seen] + sorted(seen - {meta.get("protocol")})
    leaks = {p: leaking_steps_text(p) for p in LEAKING_STEPS}
    versions = meta.get("versions") or {}
    argv = meta.get("argv")
    wall = meta.get("run_seconds_this_invocation")
    rows = [["Protocol(s)", ", ".join(protocols)],
            ["Steps that saw test rows", "; ".join(leaks.get(p, f"{p}: unknown protocol") for p in protocols)],
            ["Data", str(meta.get("data", "?"))],
            ["Split scheme", str(meta.get("split_scheme_text") or meta.get("split_scheme") or
                                 "per-drug Monte Carlo 70/30 (pairs)")
             + (f"; {meta['tissues']}" if meta.get("tissues") else "")],
            ["Data fingerprint", str(meta.get("data_fingerprint", "?"))],
            ["Configuration key", str(meta.get("config_key", "?"))],
            ["Seed", str(meta.get("seed", "?"))],
            ["Drugs x splits x methods", f"{len(drugs)} x {len({int(r['split']) for r in records})} x "
                                         f"{len(methods)} ({', '.join(method_label(m) for m in methods)})"],
            ["Results in the report", str(len(records))],
            ["Genes in the matrix", str(meta.get("n_genes", "?"))],
            ["Command line", " ".join(map(str, argv)) if argv else "?"],
            ["Wall time of the last invocation", f"{wall:.1f} s (+ {meta.get('load_seconds', 0):.1f} s loading)"
             if isinstance(wall, (int, float)) else "?"],
            ["Finished (UTC)", str(meta.get("finished_utc", "?"))],
            ["Versions", ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "?"]]
    if any(r.get("null") for r in records):
        rows.insert(2, ["Permutation control", "responses permuted within each drug in the records marked null"])
    return {"id": "run", "title": "The run", "tables": [{"header": ["", ""], "rows": rows, "cls": "kv"}]}


def table1_section(records, drugs, methods):
    """Table I: mean ± sd of the test MSE over splits, best per row marked, the average over drugs."""
    cells, best, average = table1_spread(records, drugs, methods)
    header = ["Drug", "n train / n test"] + [method_label(m) for m in methods]
    sizes = {}
    for r in records:
        if "n_train" in r and "n_test" in r:
            sizes.setdefault(r["drug"], set()).add((int(r["n_train"]), int(r["n_test"])))
    rows, bold = [], set()
    for i, d in enumerate(drugs):
        shown = sorted(sizes.get(d, ()))
        row = [d, " or ".join(f"{a} / {b}" for a, b in shown) if shown else "–"]
        for j, m in enumerate(methods):
            mu, sd, k = cells[d][m]
            row.append(f"{f3(mu)} ± {f3(sd)}" if k > 1 else f3(mu))
            if best[d] == m:
                bold.add((i, j + 2))
        rows.append(row)
    rows.append([SUMMARY_ROW_LABEL, ""] + [f"{f3(average[m][0])} ± {f3(average[m][1])}" for m in methods])
    if best[SUMMARY_ROW_LABEL] in methods:
        bold.add((len(drugs), methods.index(best[SUMMARY_ROW_LABEL]) + 2))
    paras = ["Mean ± standard deviation over the splits of the test MSE; the lowest mean of each row is "
             "highlighted in bold. The last row is the average over drugs of the per-drug means "
             "(± their sd over drugs). \"per-drug mean\" is the baseline that predicts each drug's training mean. "
             "n train / n test: the cell lines each split fits on and scores."]
    if "PM" in methods or "PM+" in methods:
        paras.append("PM is the paper's model as its text describes it: one network whose hidden widths the "
                     "paper's greedy search chose (10 nodes, +10 while the validation MSE improves, up to 200; "
                     "new layers grown before they are judged), then Deep Compression. PM+ is this project's "
                     "regularized variant: a fixed architecture, L2 chosen by inner CV, a committee of the fold "
                     "networks.")
    if overview.many(drugs):   # the average row stays in view; the drugs fold below it
        average_bold = {(0, j) for (i, j) in bold if i == len(drugs)}
        paras.append(f"{len(drugs)} drugs: the average row first, every drug's row folded below it (and in "
                     f"table1.csv, the mean over splits without the sd).")
        return {"id": "table1", "title": "Table I: test MSE per drug", "paragraphs": paras,
                "tables": [{"header": header, "rows": rows[-1:], "bold": average_bold, "summary_rows": {0},
                            "cls": "table1 wide"},   # full width, so its columns line up with the folded ones
                           overview.fold({"header": header, "rows": rows[:-1],
                                          "bold": {(i, j) for (i, j) in bold if i < len(drugs)},
                                          "cls": "table1 wide"}, drugs, "table1.csv")]}
    return {"id": "table1", "title": "Table I: test MSE per drug", "paragraphs": paras,
            "tables": [{"header": header, "rows": rows, "bold": bold, "summary_rows": {len(drugs)},
                        "cls": "table1"}]}


def dotplot_section(records, drugs, methods):
    """Per-drug dot plot of test R^2 per method with the spread over splits (a subset of the drugs when there are
    many: :func:`ccle.report.overview.figure_drugs`); every drug's numbers go to ``per_drug_metrics.csv``."""
    vals = {}
    for r in records:
        vals.setdefault((r["drug"], r["method"]), []).append(float(r.get("r2", float("nan"))))
    shown = overview.figure_drugs(records, drugs, methods)
    csv_header, csv_rows = overview.per_drug_metric_rows(records, drugs, methods)

    def make():
        import ccle.report.figures as figures
        return figures.dot_plot(vals, shown, methods, "R²")

    return {"id": "per-drug", "title": "Per-drug results",
            "paragraphs": ["R² is on the same scale for every drug (0 = no better than the test rows' own mean), "
                           "which MSE is not; the spread shows how much one 70/30 split can move a result. Every "
                           "drug's MSE, R² (mean, sd, minimum and maximum over splits) and other metrics per method: "
                           "per_drug_metrics.csv."],
            "csv": [{"name": "per_drug_metrics.csv", "header": csv_header, "rows": csv_rows}],
            "figures": [{"name": "fig_per_drug_r2", "caption": "Test R² per drug and method: dot = mean over "
                         "splits, line = minimum to maximum over splits."
                         + overview.subset_note(shown, drugs, "per_drug_metrics.csv"), "make": make}]}


def ranks_section(records, drugs, methods):
    """Average ranks over drugs, Friedman test and the Nemenyi critical-difference diagram."""
    cd = stats.critical_difference(records, "mse", drugs, methods)
    if cd is None:
        return _absent("ranks", "Ranks over drugs", "fewer than 2 methods or 2 drugs with complete results")
    order = np.argsort(cd["avg_ranks"], kind="stable")
    rows = [[method_label(cd["methods"][i]), f"{cd['avg_ranks'][i]:.2f}"] for i in order]
    title = "Ranks over drugs (critical-difference diagram)"
    if cd["n_drugs"] < stats.MIN_DRUGS_CD:
        return {"id": "ranks", "title": title, "tables": [{"header": ["Method", "Average rank"], "rows": rows}],
                "paragraphs": [f"Methods ranked within each drug by mean test MSE (1 = lowest), averaged over "
                               f"{cd['n_drugs']} drugs. With fewer than {stats.MIN_DRUGS_CD} drugs the Friedman "
                               f"test and the Nemenyi critical difference are not meaningful (Demsar 2006), so no "
                               f"diagram is drawn."]}
    text = (f"Methods ranked within each drug by mean test MSE (1 = lowest) and averaged over {cd['n_drugs']} "
            f"drugs. Friedman chi² = {f3(cd['friedman_stat'], 2)}, p {_p_text(cd['friedman_p'])}; Nemenyi critical "
            f"difference at alpha {cd['alpha']}: {cd['cd']:.2f} (methods joined by a bar do not differ "
            f"significantly).")

    def make():
        import ccle.report.figures as figures
        return figures.cd_diagram(cd)

    return {"id": "ranks", "title": title, "paragraphs": [text],
            "tables": [{"header": ["Method", "Average rank"], "rows": rows}],
            "figures": [{"name": "fig_critical_difference", "caption": "Critical-difference diagram of the "
                         "average ranks (Friedman test, Nemenyi post hoc).", "make": make}]}


def paired_section(records, drugs, methods, reference="PM", alpha=0.05):
    """Paired corrected resampled t-tests of the reference against each method, BH across drugs."""
    rows, summary = stats.paired_tests(records, reference, drugs, methods, alpha)
    title = f"{method_label(reference)} against each method (paired tests)"
    if not summary:
        return _absent("paired" if reference == "PM" else f"paired-{reference}", title,
                       f"no {reference} results to compare")
    ref = method_label(reference)
    srows = [[method_label(s[0]), str(s[1]), str(s[2]), str(s[3]), str(s[4])] for s in summary]
    drows = [[method_label(r[0]), r[1], f3(r[2], 4), f3(r[3], 2), fp(r[4]), fp(r[5]), str(r[6])] for r in rows]
    return {"id": "paired" if reference == "PM" else f"paired-{reference}", "title": title,
            "paragraphs": [f"Per drug, the corrected resampled t-test (Nadeau & Bengio 2003) on the per-split "
                           f"differences of test MSE ({ref} − other; negative = {ref} better), then "
                           f"Benjamini-Hochberg across the drugs of each comparison (q < {alpha} counts as "
                           f"significant)."],
            "tables": [{"header": ["Compared with", "Drugs", f"{ref} lower MSE", f"{ref} significantly better",
                                   f"{ref} significantly worse"], "rows": srows},
                       {"header": ["Compared with", "Drug", "Mean MSE difference", "t", "p", "q (BH)", "Splits"],
                        "rows": drows, "collapsed": "Every drug's test",
                        **({"collapsed": f"Every drug's test ({len(drows)} rows; also in paired.csv)",
                            "csv": "paired.csv"} if overview.many(drugs) else {})}]}


def accuracy_section(records, drugs, methods):
    """Table II (quartiles over drugs of the sensitivity accuracy) and the mean of each metric over drugs."""
    t, _ = per_drug(records, "sens_acc", drugs, methods)
    rows2 = [[name] + [f3(float(fn(np.array([t[d][m] for d in t])))) for m in methods] for name, fn in TABLE2_ROWS]
    present, rowsm = mean_over_drugs(records, ("mse", "rmse", "r2", "pearson", "spearman", "sens_acc"), drugs,
                                     methods)
    return {"id": "table2", "title": "Table II: sensitivity accuracy and other metrics",
            "paragraphs": ["Sensitivity accuracy: the observed and predicted test responses classified as "
                           "resistant / moderate / sensitive with the IQR thresholds of the observed training "
                           "responses (the paper's rule); statistics over drugs of the per-drug mean over splits."],
            "tables": [{"header": ["Statistic over drugs"] + [method_label(m) for m in methods], "rows": rows2},
                       {"caption": "Mean over drugs of each metric:",
                        "header": ["Method"] + [METRIC_LABELS.get(k, k) for k in present],
                        "rows": [[method_label(r[0])] + [f3(v) for v in r[1:]] for r in rowsm]}]}


def timing_section(records, drugs, methods):
    """Training seconds per drug and Fig. 3 (accuracy and MSE against training time)."""
    h, rows = timing_table(records, drugs, methods)
    acc, _ = per_drug(records, "sens_acc", drugs, methods)
    mse, _ = per_drug(records, "mse", drugs, methods)
    sec, _ = per_drug(records, "train_seconds", drugs, methods)
    summary = {m: {"seconds": [sec[d][m] for d in sec], "acc": [acc[d][m] for d in acc],
                   "mse": [mse[d][m] for d in mse]} for m in methods}
    trivial = None
    if "mean" in methods:
        trivial = {"acc": float(np.nanmean(summary["mean"]["acc"])), "mse": float(np.nanmean(summary["mean"]["mse"]))}
    plot_methods = [m for m in methods if m != "mean" or trivial is None]

    def make():
        import ccle.report.figures as figures
        return figures.fig3(summary, plot_methods, trivial)

    return {"id": "timing", "title": "Training time (Fig. 3)",
            "paragraphs": ["Training seconds of one fit (the split's gene selection included for the methods that "
                           "use it), per drug as the mean over splits, then summarized over drugs."],
            "tables": [{"header": ["Method"] + [f"{HEADER_LABELS.get(x, x)} (s)" for x in h[1:-1]] + ["log10 mean"],
                        "rows": [[method_label(r[0])] + [f3(v, 3) for v in r[1:]] for r in rows]}],
            "figures": [{"name": "fig3", "caption": "Sensitivity accuracy (left) and test MSE (right) against training "
                         "seconds per drug: marker at the median seconds and the mean metric over drugs; error bars "
                         "= interquartile range of the seconds and sd of the metric over drugs. Dashed: the per-drug "
                         "mean predictor (the trivial level).", "make": make}]}
