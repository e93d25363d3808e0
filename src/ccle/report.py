"""Reports of a benchmark run: Table I, Table II, timing, paired tests, Fig. 3 and run.json.

The only module that touches matplotlib (imported lazily; without it the figure is skipped with a message).

- Table I: mean test MSE over the splits, drugs x methods, the best method of each row marked ``*``, and a
  mean row (paper Table I).
- Table II: minimum, 25th percentile, mean, median, 75th percentile and maximum over drugs of the per-drug mean
  sensitivity accuracy (3 IQR classes) of each method (paper Table II).
- Timing: training seconds per drug (mean over splits) summarized over drugs, per method (paper Fig. 3).
- Paired: PM against each baseline per drug, corrected resampled t-test over the splits (Nadeau & Bengio 2003).
"""
import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from ccle.evaluate import corrected_resampled_ttest

TABLE2_ROWS = (("Minimum", lambda v: np.min(v)), ("25 perc.", lambda v: np.percentile(v, 25)),
               ("Mean", lambda v: np.mean(v)), ("50 perc. (Median)", lambda v: np.median(v)),
               ("75 perc.", lambda v: np.percentile(v, 75)), ("Maximum", lambda v: np.max(v)))
SUMMARY_METRICS = ("mse", "rmse", "r2", "pearson", "spearman", "sens_acc")


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


def table2(records, drugs=None, methods=None):
    """Rows ``[statistic, value per method...]`` over drugs of the per-drug mean sensitivity accuracy."""
    methods = methods or _order(records, "method")
    t, _ = per_drug(records, "sens_acc", drugs, methods)
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
    rows = []
    for m in methods:
        row = [m]
        for metric in SUMMARY_METRICS:
            t, _ = per_drug(records, metric, drugs, [m])
            row.append(float(np.nanmean([t[d][m] for d in t])))
        rows.append(row)
    return ["method"] + list(SUMMARY_METRICS), rows


def paired_table(records, reference="PM", drugs=None, methods=None, alpha=0.05):
    """PM against each baseline: per drug the corrected resampled t-test on the per-split MSE differences
    (reference - baseline; negative = reference better). Rows per (baseline, drug) and a summary per baseline:
    drugs where the reference has the lower mean MSE, and where it is significantly lower / higher at ``alpha``.
    Returns ``(header, rows, summary_header, summary_rows)``."""
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    by = {(r["drug"], r["method"], int(r["split"])): r for r in records}
    rows, summary = [], []
    for base in [m for m in methods if m != reference]:
        wins = sig_better = sig_worse = n = 0
        for d in drugs:
            splits = sorted(s for (dd, mm, s) in by if dd == d and mm == reference and (d, base, s) in by)
            if not splits:
                continue
            diffs = [by[(d, reference, s)]["mse"] - by[(d, base, s)]["mse"] for s in splits]
            n_train, n_test = by[(d, reference, splits[0])]["n_train"], by[(d, reference, splits[0])]["n_test"]
            res = corrected_resampled_ttest(diffs, n_train, n_test)
            rows.append([base, d, res["mean"], res["t"], res["p"], res["k"]])
            n += 1
            wins += res["mean"] < 0
            if res["p"] == res["p"] and res["p"] < alpha:
                sig_better += res["mean"] < 0
                sig_worse += res["mean"] > 0
        summary.append([base, n, wins, sig_better, sig_worse])
    return (["baseline", "drug", f"mean_mse_diff_{reference}_minus_baseline", "t", "p", "k"], rows,
            ["baseline", "drugs", f"{reference}_lower_mse", f"{reference}_significantly_better",
             f"{reference}_significantly_worse"], summary)


def compression_summary(records, reference="PM"):
    """Mean compressed size, dense float32 size and ratio of the reference model over its results, or None."""
    recs = [r for r in records if r["method"] == reference and "compression_ratio" in r]
    if not recs:
        return None
    return {k: float(np.nanmean([r[k] for r in recs])) for k in ("compressed_bytes", "dense_bytes",
                                                                    "compression_ratio")}


# -------------------------------------------------------------------------------------------- rendering
def _fmt(v, digits=3):
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nan"
    return f"{v:.{digits}f}"


def to_csv(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([v if isinstance(v, str) else (repr(float(v)) if isinstance(v, float) else v) for v in row])
    return buf.getvalue()


def to_markdown(header, rows, digits=3, mark_best=False):
    """Markdown table; with ``mark_best``, the cell of the row's "best" column gets a ``*`` (Table I)."""
    out_header = header[:-1] if mark_best else header
    lines = ["| " + " | ".join(out_header) + " |", "|" + "|".join("---" for _ in out_header) + "|"]
    for row in rows:
        cells = [_fmt(v, digits) for v in (row[:-1] if mark_best else row)]
        if mark_best and row[-1] in header:
            i = header.index(row[-1])
            cells[i] = cells[i] + "*"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_text(header, rows, digits=3, mark_best=False):
    """Fixed-width text table for the terminal (same content as :func:`to_markdown`)."""
    out_header = header[:-1] if mark_best else header
    body = []
    for row in rows:
        cells = [_fmt(v, digits) for v in (row[:-1] if mark_best else row)]
        if mark_best and row[-1] in header:
            i = header.index(row[-1])
            cells[i] = cells[i] + "*"
        body.append(cells)
    widths = [max(len(str(h)), *(len(c[i]) for c in body)) if body else len(str(h))
              for i, h in enumerate(out_header)]
    fmt_row = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt_row([str(h) for h in out_header])] + [fmt_row(c) for c in body]) + "\n"


def fig3(records, path, drugs=None, methods=None):
    """Fig. 3: per method, sensitivity accuracy against log10 training seconds per drug (small dots per drug,
    large marker at the method's mean). Returns the path, or a message string when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    methods = methods or _order(records, "method")
    acc, _ = per_drug(records, "sens_acc", drugs, methods)
    sec, _ = per_drug(records, "train_seconds", drugs, methods)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, m in enumerate(methods):
        x = np.log10(np.maximum([sec[d][m] for d in sec], 1e-6))
        y = np.array([acc[d][m] for d in acc])
        color = f"C{i}"
        ax.scatter(x, y, s=12, alpha=0.4, color=color)
        ax.scatter([x.mean()], [y.mean()], s=90, color=color, edgecolor="black", label=m, zorder=3)
    ax.set_xlabel("log10 training seconds per drug")
    ax.set_ylabel("sensitivity accuracy (3 IQR classes)")
    ax.set_title("Accuracy against training time (cf. paper Fig. 3)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def write_report(records, out_dir, meta, drugs=None, methods=None):
    """Write every table (CSV + Markdown), ``report.md``, ``fig3.png`` and ``run.json`` to ``out_dir``.

    ``meta`` (dict) goes into run.json (arguments, seed, versions, data fingerprint, protocol...). Returns the
    terminal text (Table I, Table II, timing, paired summary, where things were written)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drugs = drugs or _order(records, "drug")
    methods = methods or _order(records, "method")
    protocol = meta.get("protocol", "?")
    n_splits = max((int(r["split"]) for r in records), default=-1) + 1

    h1, r1 = table1(records, drugs, methods)
    h2, r2 = table2(records, drugs, methods)
    ht, rt = timing_table(records, drugs, methods)
    hm, rm = metrics_table(records, drugs, methods)
    tables = {"table1": (h1, r1, True), "table2": (h2, r2, False), "timing": (ht, rt, False),
              "metrics": (hm, rm, False)}
    paired_text = ""
    if "PM" in methods and len(methods) > 1:
        hp, rp, hs, rs = paired_table(records, "PM", drugs, methods)
        tables["paired"] = (hp, rp, False)
        tables["paired_summary"] = (hs, rs, False)
        paired_text = to_text(hs, rs)
    for name, (h, rows, best) in tables.items():
        (out_dir / f"{name}.csv").write_text(to_csv(h, rows))
        (out_dir / f"{name}.md").write_text(to_markdown(h, rows, mark_best=best))

    comp = compression_summary(records)
    title = (f"protocol: {protocol} | {len(drugs)} drugs x {n_splits} splits | seed {meta.get('seed')} | "
             f"data {meta.get('data', '?')} (fingerprint {meta.get('data_fingerprint', '?')})")
    md = [f"# ccle benchmark report\n\n{title}\n",
          f"Protocol **{protocol}**: " + ("scaling, SVR-RFE, width search and early stopping were fitted on the "
                                          "training rows of each split only." if protocol == "strict" else
                                          "scaling and SVR-RFE were fitted on all rows of each drug before the "
                                          "splits (as the paper's text allows; test rows leak into feature "
                                          "selection)."),
          "\n## Table I: mean test MSE over splits (* = best in row)\n", to_markdown(h1, r1, mark_best=True),
          "\n## Table II: sensitivity accuracy over drugs\n", to_markdown(h2, r2),
          "\n## Mean of each metric over drugs\n", to_markdown(hm, rm),
          "\n## Training time per drug (seconds)\n", to_markdown(ht, rt)]
    if paired_text:
        md += ["\n## PM against each baseline (corrected resampled t-test, Nadeau & Bengio 2003, alpha 0.05)\n",
               to_markdown(tables["paired_summary"][0], tables["paired_summary"][1])]
    if comp:
        md.append(f"\nPM compression: {comp['compressed_bytes']:.0f} bytes compressed vs "
                  f"{comp['dense_bytes']:.0f} dense float32 bytes (ratio {comp['compression_ratio']:.1f}x)\n")

    fig_path = fig3(records, out_dir / "fig3.png", drugs, methods)
    fig_msg = (f"Fig. 3 written to {fig_path}" if fig_path else
               "Fig. 3 skipped: matplotlib is not installed (pip install -e '.[plot]')")
    md.append(f"\n{fig_msg}\n")
    (out_dir / "report.md").write_text("\n".join(md))
    run = dict(meta)
    run["n_results"] = len(records)
    run["drugs"] = drugs
    run["methods"] = methods
    (out_dir / "run.json").write_text(json.dumps(run, indent=2, sort_keys=True, default=str))

    text = [title, "",
            "Table I: mean test MSE over splits (* = best in row)", to_text(h1, r1, mark_best=True),
            "Table II: sensitivity accuracy (3 IQR classes) over drugs", to_text(h2, r2),
            "Training seconds per drug", to_text(ht, rt)]
    if paired_text:
        text += ["PM against each baseline (per drug, corrected resampled t-test, alpha 0.05)", paired_text]
    if comp:
        text.append(f"PM compressed model: {comp['compressed_bytes']:.0f} bytes, "
                    f"ratio {comp['compression_ratio']:.1f}x against dense float32\n")
    text.append(fig_msg)
    text.append(f"Tables (CSV + Markdown), report.md, results.jsonl and run.json are in {out_dir}")
    return "\n".join(text)
