"""The report's tables, computed from result records (dicts, one per (drug, split, method)); no rendering.

- Table I: mean test MSE over the splits, drugs x methods, the best method of each row marked ``*``, and a
  mean row (paper Table I).
- Table II: minimum, 25th percentile, mean, median, 75th percentile and maximum over drugs of the per-drug mean
  sensitivity accuracy (3 IQR classes) of each method (paper Table II).
- Timing: training seconds per drug (mean over splits) summarized over drugs, per method (paper Fig. 3).
- Paired: PM against each baseline per drug (:func:`ccle.report.stats.paired_table`: one rule for the console,
  the CSV files and the pages).
"""
import math

import numpy as np

from ccle.methods import label

TABLE2_ROWS = (("Minimum", lambda v: np.min(v)), ("25 perc.", lambda v: np.percentile(v, 25)),
               ("Mean", lambda v: np.mean(v)), ("50 perc. (Median)", lambda v: np.median(v)),
               ("75 perc.", lambda v: np.percentile(v, 75)), ("Maximum", lambda v: np.max(v)))
SUMMARY_METRICS = ("mse", "rmse", "r2", "pearson", "spearman", "sens_acc")


SUMMARY_ROW_LABEL = "Average over drugs"
METRIC_LABELS = {"mse": "MSE", "rmse": "RMSE", "r2": "R²", "pearson": "Pearson r", "spearman": "Spearman r",
                 "sens_acc": "Sensitivity acc. (paper rule)", "paper_bal_acc": "Balanced acc. (paper rule)",
                 "paper_kappa": "Weighted kappa (paper rule)", "cal_acc": "Accuracy (calibrated)",
                 "cal_bal_acc": "Balanced acc. (calibrated)", "cal_macro_f1": "Macro F1 (calibrated)",
                 "cal_kappa": "Weighted kappa (calibrated)", "auroc_sensitive": "AUROC sensitive vs rest",
                 "auroc_resistant": "AUROC resistant vs rest", "compressed_bytes": "Compressed bytes",
                 "dense_bytes": "Dense float32 bytes", "compression_ratio": "Ratio",
                 "compression_val_mse": "Validation MSE after compression"}
SENSITIVITY_METRICS = ("sens_acc", "paper_bal_acc", "paper_kappa", "cal_acc", "cal_bal_acc", "cal_macro_f1",
                       "cal_kappa", "auroc_sensitive", "auroc_resistant")
COMPRESSION_STAGES = ("dense", "pruned", "quantized", "huffman")


def method_label(method):
    """The name a reader sees for a method code (``"mean"`` -> ``"per-drug mean"``): its registered label
    (:func:`ccle.methods.label`); the per-drug mean baseline must not read like the "mean" of a summary row, and
    PM (the paper's model as described) must not be mistaken for PM+ (the regularized committee)."""
    return label(method)


def condition(rec):
    """``(protocol, split_scheme, null)`` of a record: what the leakage audit compares."""
    return (rec.get("protocol", "strict"), rec.get("split_scheme", "pairs"), bool(rec.get("null", False)))


def main_records(records, protocol=None, split_scheme="pairs"):
    """The records Table I and the figures are built from: not permuted (unless every record is), the run's
    split scheme (default "pairs") and the run's protocol (the most common one when ``protocol`` is None)."""
    pairs = [r for r in records if r.get("split_scheme", "pairs") == split_scheme]
    recs = [r for r in pairs if not r.get("null")] or pairs   # a --null run alone: its permuted records
    if protocol is None and recs:
        protocols = [r.get("protocol", "strict") for r in recs]
        protocol = max(set(protocols), key=protocols.count)
    return [r for r in recs if protocol is None or r.get("protocol", "strict") == protocol]


def _order(records, key, preferred=None):
    seen = []
    for r in records:
        if r[key] not in seen:
            seen.append(r[key])
    if preferred:
        return [p for p in preferred if p in seen] + [s for s in seen if s not in preferred]
    return seen


def per_drug(records, metric, drugs=None, methods=None):
    """``{drug: {method: mean of metric over splits}}`` and the split counts ``{(drug, method): k}``."""
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    acc = {}
    for r in records:
        acc.setdefault((r["drug"], r["method"]), []).append(float(r.get(metric, float("nan"))))
    table = {d: {m: float(np.mean(acc[(d, m)])) if (d, m) in acc else float("nan") for m in methods}
             for d in drugs}
    return table, {k: len(v) for k, v in acc.items()}


def table1(records, drugs=None, methods=None):
    """Rows ``[drug, mse per method..., best method]`` plus a final ``["Mean", ...]`` row."""
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    t, _ = per_drug(records, "mse", drugs, methods)
    rows = []
    for d in drugs:
        vals = [t[d][m] for m in methods]
        finite = [(v, m) for v, m in zip(vals, methods) if math.isfinite(v)]
        rows.append([d] + vals + [min(finite)[1] if finite else ""])
    means = [float(np.nanmean([t[d][m] for d in drugs])) for m in methods]
    rows.append(["Mean"] + means + [methods[int(np.nanargmin(means))] if methods else ""])
    return ["drug"] + list(methods) + ["best"], rows


def table1_spread(records, drugs=None, methods=None):
    """Table I with the spread over splits: ``{drug: {method: (mean, sd, k)}}`` of the test MSE (sd with
    ddof 1, NaN for one split), the best method per drug (lowest mean) and the average over drugs per method
    (mean of the per-drug means, and the sd of those means over drugs). Returns ``(cells, best, average)``."""
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    acc = {}
    for r in records:
        acc.setdefault((r["drug"], r["method"]), []).append(float(r["mse"]))
    cells, best = {}, {}
    for d in drugs:
        cells[d] = {}
        for m in methods:
            v = np.array(acc.get((d, m), []))
            cells[d][m] = ((float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan"), int(v.size))
                           if v.size else (float("nan"), float("nan"), 0))
        finite = [(cells[d][m][0], m) for m in methods if math.isfinite(cells[d][m][0])]
        best[d] = min(finite)[1] if finite else None
    average = {}
    for m in methods:
        v = np.array([cells[d][m][0] for d in drugs if math.isfinite(cells[d][m][0])])
        average[m] = ((float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan"), int(v.size))
                      if v.size else (float("nan"), float("nan"), 0))
    finite = [(average[m][0], m) for m in methods if math.isfinite(average[m][0])]
    best[SUMMARY_ROW_LABEL] = min(finite)[1] if finite else None
    return cells, best, average


def mean_over_drugs(records, metrics, drugs=None, methods=None):
    """Rows ``[method, mean over drugs of the per-drug mean of each metric...]`` for the metrics present in at
    least one record (returns ``(present_metrics, rows)``; NaN where a method lacks the field)."""
    methods = methods or _order(records, "method")
    present = [k for k in metrics if any(k in r for r in records)]
    tables = {k: per_drug([r for r in records if k in r], k, drugs, methods)[0] for k in present}
    rows = []
    for m in methods:
        row = [m]
        for k in present:
            vals = [tables[k][d][m] for d in tables[k] if math.isfinite(tables[k][d][m])]
            row.append(float(np.mean(vals)) if vals else float("nan"))
        rows.append(row)
    return present, rows


def confusion_totals(records, field, methods=None):
    """``{method: 3x3 array}``: the confusion matrices ``field`` ([observed][predicted]) summed over drugs and
    splits, for the methods whose records carry it."""
    methods = methods or _order(records, "method")
    out = {}
    for m in methods:
        mats = [np.asarray(r[field], dtype=float) for r in records if r["method"] == m and field in r]
        if mats:
            out[m] = np.sum(mats, axis=0)
    return out


def leakage_table(records, methods=None):
    """Mean test MSE over drugs (of the per-drug means over splits) per method under each condition
    ``(protocol, split_scheme, null)`` present. Returns ``(conditions, rows)`` with rows
    ``[method, value per condition...]``; None when only one condition is present."""
    methods = methods or _order(records, "method")
    conds = []
    for r in records:
        if condition(r) not in conds:
            conds.append(condition(r))
    if len(conds) < 2:
        return None
    conds.sort(key=lambda c: (c[2], c[1] != "pairs", c[1], c[0] != "strict", c[0]))
    rows = []
    for m in methods:
        row = [m]
        for c in conds:
            sub = [r for r in records if condition(r) == c and r["method"] == m]
            t, _ = per_drug(sub, "mse", None, [m])
            row.append(float(np.mean([t[d][m] for d in t])) if t else float("nan"))
        rows.append(row)
    return conds, rows


def _mean_field(recs, key, stage=None):
    vals = []
    for r in recs:
        v = r.get(key)
        if isinstance(v, dict):
            v = v.get(stage) if stage is not None else None
        elif stage is not None:
            v = None
        if isinstance(v, (int, float)) and math.isfinite(v):
            vals.append(float(v))
    return float(np.mean(vals)) if vals else float("nan")


def compression_table(records, methods=None):
    """Per method with compression fields: mean compressed bytes, dense float32 bytes, ratio and the mean
    validation / test MSE after each Deep Compression stage (``compression_val_mse`` may be one number or a
    ``{stage: mse}`` dict; ``test_mse_stages`` is a dict). Returns ``(column_keys, rows)`` or None; a column key
    is a field name or ``(field, stage)``."""
    methods = methods or _order(records, "method")
    with_comp = [r for r in records if "compression_ratio" in r]
    if not with_comp:
        return None
    keys = ["compressed_bytes", "dense_bytes", "compression_ratio"]
    for field in ("compression_val_mse", "test_mse_stages"):
        vals = [r[field] for r in with_comp if field in r]
        if any(isinstance(v, dict) for v in vals):
            keys += [(field, s) for s in COMPRESSION_STAGES if any(isinstance(v, dict) and s in v for v in vals)]
        elif vals:
            keys.append(field)
    rows = []
    for m in methods:
        recs = [r for r in with_comp if r["method"] == m]
        if recs:
            rows.append([m] + [_mean_field(recs, *(k if isinstance(k, tuple) else (k,))) for k in keys])
    return keys, rows


def table2(records, drugs=None, methods=None, metric="sens_acc"):
    """Rows ``[statistic, value per method...]`` over drugs of the per-drug mean of ``metric`` (default the
    paper rule's sensitivity accuracy; ``"cal_bal_acc"``: the calibrated rule's balanced accuracy)."""
    methods = methods or _order(records, "method")
    t, _ = per_drug(records, metric, drugs, methods)
    rows = []
    for name, fn in TABLE2_ROWS:
        rows.append([name] + [float(fn(np.array([t[d][m] for d in t]))) for m in methods])
    return ["statistic"] + list(methods), rows


def timing_table(records, drugs=None, methods=None):
    """Per method: training seconds per drug (mean over splits), mean / median / max over drugs, the total
    training seconds of the run, mean prediction seconds and log10 of the mean training seconds."""
    methods = methods or _order(records, "method")
    t, _ = per_drug(records, "train_seconds", drugs, methods)
    p, _ = per_drug(records, "predict_seconds", drugs, methods)
    rows = []
    for m in methods:
        v = np.array([t[d][m] for d in t])
        total = float(sum(r["train_seconds"] for r in records if r["method"] == m))
        rows.append([m, float(np.mean(v)), float(np.median(v)), float(np.max(v)), total,
                     float(np.mean([p[d][m] for d in p])), float(np.log10(max(np.mean(v), 1e-9)))])
    return ["method", "train_s_per_drug_mean", "train_s_per_drug_median", "train_s_per_drug_max",
            "train_s_total", "predict_s_mean", "log10_train_s"], rows


def metrics_table(records, drugs=None, methods=None):
    """Per method: the mean over drugs of each metric (MSE, RMSE, R^2, Pearson, Spearman, sensitivity acc.)."""
    methods = methods or _order(records, "method")
    tables = {metric: per_drug(records, metric, drugs, methods)[0] for metric in SUMMARY_METRICS}
    rows = []
    for m in methods:
        row = [m]
        for metric in SUMMARY_METRICS:
            t = tables[metric]
            vals = [t[d][m] for d in t if math.isfinite(t[d][m])]
            row.append(float(np.mean(vals)) if vals else float("nan"))   # NaN: undefined for every drug
        rows.append(row)
    return ["method"] + list(SUMMARY_METRICS), rows


def compression_summary(records, reference="PM"):
    """Mean compressed size, dense float32 size and ratio of the reference model over its results, or None."""
    recs = [r for r in records if r["method"] == reference and "compression_ratio" in r]
    if not recs:
        return None
    return {k: _mean_field(recs, k) for k in ("compressed_bytes", "dense_bytes", "compression_ratio")}


