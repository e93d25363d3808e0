"""README tables of the split schemes from benchmark output folders: per-drug test MSE under --split cell-lines /
tissues, MT against EN with the corrected resampled paired t-test (Nadeau & Bengio), each method's drop from
cell-lines to tissues and where the tissue baseline stands.

Not collected by pytest (no ``bench_`` prefix). From the repository root:

    PYTHONPATH=src python benchmarks/split_scheme_tables.py CELL_LINES_OUT [TISSUES_OUT] [--title TEXT]

Each folder is a ``cli.py benchmark --split ...`` output (``results.jsonl`` + ``run.json``); only the records of
the run's configuration key are read. Prints Markdown.
"""
import argparse
import json
from pathlib import Path

import numpy as np

from ccle.evaluation.metrics import corrected_resampled_ttest
from ccle.benchmark.store import ResultStore, latest_records

ORDER = ("PM+", "PM", "MT", "EN", "RF", "SVR", "ANN", "tissue", "mean")


def load(folder):
    """``(run, {(drug, method): {split: record}})`` of one output folder."""
    folder = Path(folder)
    run = json.loads((folder / "run.json").read_text())
    recs = latest_records(ResultStore(folder).load(run["config_key"]))
    out = {}
    for r in recs:
        out.setdefault((r["drug"], r["method"]), {})[int(r["split"])] = r
    return run, out


def mse_table(recs, drugs, methods):
    """{method: (n_drugs,) mean test MSE over the splits}; NaN where a (drug, method) is missing."""
    return {m: np.array([np.mean([r["mse"] for r in recs.get((d, m), {}).values()]) if (d, m) in recs
                         else np.nan for d in drugs]) for m in methods}


def paired(recs, drugs, a, b):
    """Per drug (diff of means, t, p) of a - b over the common splits, and the test of the per-split mean over
    drugs."""
    rows, per_split, n_tr, n_te = [], {}, [], []
    for d in drugs:
        ra, rb = recs.get((d, a), {}), recs.get((d, b), {})
        common = sorted(set(ra) & set(rb))
        diff = np.array([ra[s]["mse"] - rb[s]["mse"] for s in common])
        ntr = np.mean([ra[s]["n_train"] for s in common])
        nte = np.mean([ra[s]["n_test"] for s in common])
        t = corrected_resampled_ttest(diff, ntr, nte) if diff.size > 1 else {"t": np.nan, "p": np.nan}
        rows.append((diff.mean() if diff.size else np.nan, t["t"], t["p"]))
        for s, v in zip(common, diff):
            per_split.setdefault(s, []).append(v)
        n_tr.append(ntr)
        n_te.append(nte)
    splits = sorted(s for s, v in per_split.items() if len(v) == len(drugs))
    overall = corrected_resampled_ttest(np.array([np.mean(per_split[s]) for s in splits]), np.mean(n_tr),
                                        np.mean(n_te)) if len(splits) > 1 else {"t": np.nan, "p": np.nan}
    return rows, overall


def both_complete(t, drugs):
    return all(np.isfinite(t[m]).sum() == len(drugs) for m in ("MT", "EN"))


def fmt(v, digits=3):
    return "-" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def scheme_section(folder, title):
    run, recs = load(folder)
    drugs = run["drugs"]
    methods = [m for m in ORDER if any((d, m) in recs for d in drugs)]
    t = mse_table(recs, drugs, methods)
    lines = [f"#### {title}", "",
             f"`{' '.join(run.get('argv', []))}` -- {len(drugs)} drugs x {run['n_splits']} splits, seed "
             f"{run['seed']}, protocol {run['protocol']}, split `{run.get('split_scheme')}` "
             f"({run.get('tissues', '')}); wall {run.get('run_seconds_this_invocation', float('nan')):.0f} s "
             "(last invocation).", ""]
    has_mt = "MT" in methods and "EN" in methods
    cover = {m: int(np.sum(np.isfinite(t[m]))) for m in methods}
    head = ["drug"] + [m if cover[m] == len(drugs) else f"{m} ({cover[m]} of {len(drugs)} drugs)"
                       for m in methods] + (["MT-EN", "t", "p"] if has_mt else [])
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows, overall = paired(recs, drugs, "MT", "EN") if has_mt else ([None] * len(drugs), None)
    if not has_mt or not both_complete(t, drugs):
        rows = [r if r is not None else (np.nan, np.nan, np.nan) for r in rows]
    for i, d in enumerate(drugs):
        vals = [t[m][i] for m in methods]
        best = int(np.nanargmin(vals))
        cells = [fmt(v) + ("*" if k == best else "") for k, v in enumerate(vals)]
        if has_mt:
            diff, tt, p = rows[i]
            cells += [fmt(diff) if not np.isfinite(diff) else f"{diff:+.3f}", fmt(tt, 2), fmt(p)]
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    means = [float(np.nanmean(t[m])) for m in methods]
    best = int(np.nanargmin(means))
    cells = [fmt(v) + ("*" if k == best else "") for k, v in enumerate(means)]
    if has_mt:
        cells += [f"{means[methods.index('MT')] - means[methods.index('EN')]:+.3f}", fmt(overall["t"], 2),
                  fmt(overall["p"])]
    lines += [f"| Mean | " + " | ".join(cells) + " |", ""]
    notes = []
    if has_mt:
        both = np.isfinite(t["MT"]) & np.isfinite(t["EN"])
        wins = int(np.sum(t["MT"][both] < t["EN"][both]))
        sig = [(drugs[i], r[0]) for i, r in enumerate(rows) if np.isfinite(r[2]) and r[2] < 0.05]
        notes.append(f"MT below EN on **{wins} of {int(both.sum())}** drugs (target >= 16: "
                     f"{'met' if wins >= 16 else 'not met'}); mean MSE MT {means[methods.index('MT')]:.3f} vs EN "
                     f"{means[methods.index('EN')]:.3f} (target MT below: "
                     f"{'met' if means[methods.index('MT')] < means[methods.index('EN')] else 'not met'}). "
                     f"Per-drug differences significant at 0.05 (not corrected for multiple tests): "
                     + (", ".join(f"{d} ({'MT' if v < 0 else 'EN'} lower)" for d, v in sig) if sig else "none")
                     + f"; the per-split mean over drugs: t = {fmt(overall['t'], 2)}, p = {fmt(overall['p'])}.")
    for m in methods:
        if m in ("tissue", "mean"):
            continue
        if "tissue" in methods:
            notes.append(f"{m} below the tissue baseline on {int(np.sum(t[m] < t['tissue']))} of {cover[m]}, "
                         f"below the per-drug mean on {int(np.sum(t[m] < t['mean']))}." if "mean" in methods else "")
    if "tissue" in methods and "mean" in methods:
        gain = {m: means[methods.index("mean")] - means[methods.index(m)] for m in methods}
        best_model = min((m for m in methods if m not in ("tissue", "mean")), key=lambda m: means[methods.index(m)])
        share = gain["tissue"] / gain[best_model] if gain[best_model] > 0 else float("nan")
        notes.append(f"tissue baseline {means[methods.index('tissue')]:.3f} against the per-drug mean "
                     f"{means[methods.index('mean')]:.3f}: it takes {fmt(100 * share, 0)} % of the best model's "
                     f"({best_model}) gain over the mean.")
    lines += ["- " + n for n in notes if n]
    return lines, run, t, methods


def drops(cl, ti):
    (_, _, t1, m1), (_, _, t2, m2) = cl, ti
    methods = [m for m in m1 if m in m2]
    lines = ["| method | cell-lines | tissues | drop | drop % |", "|---|---|---|---|---|"]
    for m in methods:
        a, b = float(np.nanmean(t1[m])), float(np.nanmean(t2[m]))
        lines.append(f"| {m} | {a:.3f} | {b:.3f} | {b - a:+.3f} | {100 * (b - a) / a:+.0f} % |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cell_lines")
    ap.add_argument("tissues", nargs="?")
    ap.add_argument("--title", default="")
    args = ap.parse_args(argv)
    cl = scheme_section(args.cell_lines, f"{args.title} --split cell-lines")
    out = cl[0]
    if args.tissues:
        ti = scheme_section(args.tissues, f"{args.title} --split tissues")
        out += [""] + ti[0] + ["", f"#### {args.title}: cell-lines -> tissues (mean test MSE over drugs; different "
                                    "test lines, so a rough comparison)", ""] + drops(cl, ti)
    print("\n".join(out))


if __name__ == "__main__":
    main()
