"""The report's optional sections: observed vs predicted (predictions.csv.gz), sensitivity calls, genes
(genes.csv), the leakage audit and Deep Compression. Each returns an ``absent`` note when its fields or files
are missing (see :mod:`ccle.report.sections` for the section dict)."""
import math

import numpy as np
import pandas as pd

from ccle.evaluation.thresholds import IQRThresholds
import ccle.report.overview as overview
from ccle.report.sections import _absent, f3
from ccle.report.tables import (METRIC_LABELS, SENSITIVITY_METRICS, compression_table, confusion_totals,
                                leakage_table, mean_over_drugs, method_label, per_drug)

MARKER_COLUMNS = ("known_marker", "is_marker", "marker")


def best_baseline(records, methods, reference="PM"):
    """The method other than ``reference`` with the lowest average over drugs of the per-drug mean MSE."""
    t, _ = per_drug(records, "mse", None, methods)
    scores = [(float(np.nanmean([t[d][m] for d in t])), m) for m in methods if m != reference]
    scores = [s for s in scores if math.isfinite(s[0])]
    return min(scores)[1] if scores else None


def scatter_section(predictions_path, records, drugs, methods):
    """Observed vs predicted test responses per drug, PM and the best baseline, IQR thresholds drawn."""
    title = "Observed against predicted"
    if predictions_path is None or not predictions_path.exists():
        return _absent("scatter", title, "predictions.csv.gz (per-cell-line predictions) was not written")
    # the columns drawn, and numpy arrays indexed once per drug: the file has a row per (task, cell line), and
    # pandas' string columns compare and iterate element by element in Python
    df = pd.read_csv(predictions_path, usecols=["drug", "split", "method", "set", "observed", "predicted"])
    show = [m for m in ["PM", best_baseline(records, methods)] if m and m in set(df["method"].unique())]
    if not show:
        return _absent("scatter", title, "predictions of PM or a baseline")
    rows_of = df.groupby("drug", sort=False).indices
    listed = [d for d in drugs if d in rows_of]
    shown = overview.figure_drugs(records, listed, methods, overview.PANEL_DRUGS) if overview.many(drugs) else listed
    method, sets = df["method"].to_numpy(object), df["set"].to_numpy(object)
    split = df["split"].to_numpy()
    observed, predicted = df["observed"].to_numpy(float), df["predicted"].to_numpy(float)
    panels = {}
    for d in shown:
        rows = rows_of[d]
        test = sets[rows] == "test"
        points = {}
        for m in show:
            pick = rows[test & (method[rows] == m)]
            if pick.size:
                points[m] = (observed[pick], predicted[pick])
        train = rows[~test & (sets[rows] == "train") & (method[rows] == show[0])]
        # thresholds of each split's observed training responses, averaged over splits for the drawing
        ths = [IQRThresholds().fit(observed[train[split[train] == s]]) for s in np.unique(split[train])]
        panels[d] = {"points": points,
                     "thresholds": (float(np.mean([t.low_ for t in ths])), float(np.mean([t.high_ for t in ths])))
                     if ths else None}

    def make():
        import ccle.report.figures as figures
        return figures.scatter_grid(panels, show)

    return {"id": "scatter", "title": title,
            "paragraphs": [f"Test rows of every split, {' and '.join(method_label(m) for m in show)} (the baseline "
                           f"with the lowest average MSE). Dashed: the IQR thresholds of the observed training "
                           f"responses (mean over splits), which define the three sensitivity classes."],
            "figures": [{"name": "fig_observed_predicted", "caption": "Observed against predicted test responses "
                         "per drug; dotted diagonal = perfect prediction."
                         + overview.subset_note(shown, listed, "predictions.csv.gz"), "make": make,
                         "weight": len(panels)}]}


def sensitivity_section(records, drugs, methods):
    """Calibrated and paper-rule class metrics, the trivial row and the confusion matrices."""
    title = "Sensitivity calls"
    if not any("cal_acc" in r or "confusion_paper" in r for r in records):
        return _absent("sensitivity", title, "calibrated class calls (cal_acc, confusion_paper, ...)")
    present, rows = mean_over_drugs(records, SENSITIVITY_METRICS, drugs, methods)
    table_rows = [[method_label(r[0])] + [f3(v) for v in r[1:]] for r in rows]
    trivial = {"sens_acc": 0.5, "paper_bal_acc": 1 / 3, "paper_kappa": 0.0, "cal_acc": 0.5, "cal_bal_acc": 1 / 3,
               "cal_macro_f1": 1 / 3 * (2 * 0.5 / 1.5), "cal_kappa": 0.0, "auroc_sensitive": 0.5,
               "auroc_resistant": 0.5}
    table_rows.append(['always "moderate" / chance'] + [f3(trivial[k]) for k in present])
    mats = {}
    for field, rule in (("confusion_paper", "paper rule"), ("confusion_calibrated", "calibrated")):
        found = confusion_totals(records, field, methods)
        if found:
            mats[rule] = found
    figs = []
    if mats:
        def make():
            import ccle.report.figures as figures
            return figures.confusion_grid(mats)
        figs.append({"name": "fig_confusion", "caption": "Confusion matrices summed over drugs and splits "
                     "(rows observed, columns predicted; colour = fraction of the observed class); top row the paper rule, "
                     "bottom row the calibrated rule.", "make": make})
    return {"id": "sensitivity", "title": title,
            "paragraphs": ["Classes resistant / moderate / sensitive. Paper rule: predictions classified with the "
                           "observed training thresholds. Calibrated: thresholds on the predicted scale chosen on the "
                           "training rows' out-of-fold predictions (25/50/25 %). Mean over drugs; the last row is "
                           "what always predicting \"moderate\" (or chance, for AUROC) gives with 25/50/25 % classes."],
            "tables": [{"header": ["Method"] + [METRIC_LABELS.get(k, k) for k in present], "rows": table_rows,
                        "summary_rows": {len(table_rows) - 1}}],
            "figures": figs}


def genes_section(genes_path, drugs, top=5, heat_genes=30, records=None, methods=None):
    """Top genes per drug by selection frequency, the stability heat map and known-marker ranks. With many drugs
    the tables fold and the heat map's columns are the drugs of :func:`ccle.report.overview.figure_drugs` (chosen
    from ``records`` and ``methods``; without them evenly spaced in the run's order)."""
    title = "Genes"
    if genes_path is None or not genes_path.exists():
        return _absent("genes", title, "genes.csv (selected genes per drug)")
    df = pd.read_csv(genes_path)
    if not {"drug", "gene", "selection_frequency"} <= set(df.columns):
        return _absent("genes", title, "the drug / gene / selection_frequency columns of genes.csv")
    sort_cols = ["selection_frequency"] + (["mean_rank"] if "mean_rank" in df.columns else [])
    asc = [False] + ([True] if "mean_rank" in df.columns else [])
    # one ranking per (drug, source) when genes.csv holds several (RFE / EN / the network's importance)
    group = ["drug"] + (["source"] if "source" in df.columns else [])
    df = df.sort_values(group + sort_cols, ascending=[True] * len(group) + asc, kind="stable")
    df["rank_in_drug"] = df.groupby(group).cumcount() + 1
    present = set(df["drug"].unique())   # unique() first: a string column iterates element by element
    order = [d for d in drugs if d in present] + sorted(present - set(drugs))
    sources = sorted(set(df["source"].unique())) if "source" in df.columns else [None]

    # one pass over the file: a filter per drug would cost hundreds of scans on a GDSC-sized run
    parts = {key if isinstance(key, tuple) else (key,): g for key, g in df.groupby(group, sort=False)}

    def part(d, src):
        return parts.get((d,) if src is None else (d, src), df.iloc[:0])

    rows = [[d] + ([src] if src is not None else []) + [
            ", ".join(f"{g} ({f:.2f})" for g, f in part(d, src)[["gene", "selection_frequency"]].head(top)
                      .itertuples(index=False))] for d in order for src in sources if len(part(d, src))]
    header = ["Drug"] + (["Ranking"] if sources != [None] else []) + [f"Top {top} genes (selection frequency "
                                                                        "over splits)"]
    tables = [overview.fold({"header": header, "rows": rows, "cls": "text"}, order, "genes.csv",
                            "Top genes of every drug")]
    marker_col = next((c for c in MARKER_COLUMNS if c in df.columns), None)
    if marker_col:
        mk = df[df[marker_col].astype(str).str.lower().isin(("1", "true", "yes"))]
        by_drug = {d: g for d, g in mk.groupby("drug", sort=False)}
        label = (lambda r: f" {r.source}") if sources != [None] else (lambda r: "")
        caption = ("Known markers: their rank among the drug's genes (1 = most stable)"
                   + (" in each ranking (RFE = SVR-RFE weights, EN = elastic net, PM = network importance)."
                      if sources != [None] else "."))
        marker_rows = [[d, ", ".join(f"{r.gene} #{r.rank_in_drug}{label(r)}"
                                     for r in by_drug[d].itertuples(index=False)) if d in by_drug else
                        "none selected"] for d in order]
        tables.append(overview.fold({"cls": "text", "caption": caption, "header": ["Drug", "Marker ranks"],
                                     "rows": marker_rows}, order, "genes.csv", "Markers of every drug"))
    # a ranking that keeps every gene in every split (RFE asked for at least as many genes as the matrix has)
    # says nothing about stability: the heat map uses the rankings whose frequencies vary
    if "source" in df.columns:
        spread = df.groupby("source")["selection_frequency"].transform(lambda v: v.max() - v.min())
        informative = df[spread > 0]
    else:
        informative = df
    constant = sorted(set(df["source"]) - set(informative["source"])) if "source" in df.columns else []
    wide = informative.pivot_table(index="gene", columns="drug", values="selection_frequency",
                                   aggfunc="max").fillna(0.0).reindex(columns=order, fill_value=0.0)
    # the heat map's genes are ranked over every drug; its columns are a readable subset when there are many
    columns = overview.figure_drugs(records or [], order, methods or [])
    if informative.empty or wide.to_numpy().min() == wide.to_numpy().max():
        return {"id": "genes", "title": title, "tables": tables,
                "paragraphs": ["No stability heat map: every gene has the same selection frequency in every split "
                               "and drug, so the frequencies carry no stability information (genes are listed by "
                               "their mean rank)."]}
    # ties in mean frequency are broken by the mean rank over drugs (better first), never by the gene's name
    key = pd.DataFrame({"freq": wide.mean(axis=1)})
    if "mean_rank" in informative.columns:
        key["rank"] = informative.groupby("gene")["mean_rank"].mean().reindex(key.index)
    else:
        key["rank"] = 0.0
    chosen = key.sort_values(["freq", "rank"], ascending=[False, True], kind="stable").head(heat_genes).index
    matrix, genes = wide.loc[chosen, columns].to_numpy(), list(chosen)

    def make():
        import ccle.report.figures as figures
        return figures.gene_heatmap(matrix, genes, columns)

    return {"id": "genes", "title": title, "tables": tables,
            "paragraphs": [f"The {len(genes)} genes with the highest mean selection frequency over drugs (ties: "
                           f"the better mean rank first)."
                           + (f" Left out of the heat map: {', '.join(constant)}, which kept every gene in every "
                              f"split." if constant else "")],
            "figures": [{"name": "fig_gene_stability", "caption": "Selection frequency of the top genes per drug."
                         + overview.subset_note(columns, order, "genes.csv"), "make": make}]}


def leakage_section(all_records, methods):
    """Mean test MSE per method under each protocol / split scheme / permutation condition present."""
    title = "Leakage audit"
    res = leakage_table(all_records, methods)
    if res is None:
        return _absent("leakage", title, "a second protocol, split scheme or the permutation control")
    conds, rows = res
    header = ["Method"] + [f"{p}, {s}" + (", permuted (null)" if n else "") for p, s, n in conds]
    return {"id": "leakage", "title": title,
            "paragraphs": ["Average over drugs of the mean test MSE per condition. A protocol that lets test rows "
                           "into preprocessing (paper) should not look better than strict; under the permutation "
                           "control (responses shuffled within each drug) no method should beat the per-drug mean."],
            "tables": [{"header": header, "rows": [[method_label(r[0])] + [f3(v) for v in r[1:]] for r in rows]}]}


def compression_section(records, methods):
    """Deep Compression sizes and the test MSE after each stage, per PM-like method."""
    title = "Deep Compression"
    res = compression_table(records, methods)
    if res is None:
        return _absent("compression", title, "compressed models (compression_ratio)")
    keys, rows = res
    names = {"compression_val_mse": "validation MSE", "test_mse_stages": "test MSE"}

    def label(k):
        return f"{names[k[0]]}, {k[1]}" if isinstance(k, tuple) else METRIC_LABELS.get(k, k)

    def cell(k, v):
        if k in ("compressed_bytes", "dense_bytes"):
            return f3(v, 0)
        return f"{v:.1f}x" if k == "compression_ratio" else f3(v)

    header = ["Method"] + [label(k) for k in keys]
    out = [[method_label(r[0])] + [cell(k, v) for k, v in zip(keys, r[1:])] for r in rows]
    return {"id": "compression", "title": title,
            "paragraphs": ["Mean over drugs and splits: the compressed file against dense float32 weights, and "
                           "the MSE after each stage (dense, pruned, quantized, Huffman-coded) on the early-stopping "
                           "validation rows and, when recorded, on the test rows."],
            "tables": [{"header": header, "rows": out}]}
