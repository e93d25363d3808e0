"""Report sections of the leakage audit: the inflation table (:func:`ccle.evaluation.audit.inflation_table`),
the distribution of PM's searched widths, and PM's per-drug test MSE before and after Deep Compression.

Each section needs its record fields (``protocol`` under both protocols / ``null``; ``widths`` of PM;
``test_mse_stages``) and is absent otherwise. :func:`write_audit_tables` writes the inflation table as CSV.
"""
from collections import Counter

import numpy as np

from ccle.evaluation.audit import LEAKING_STEPS, format_inflation, inflation_table
import ccle.report.overview as overview
from ccle.report.markdown import to_csv
from ccle.report.sections import _absent, f3
from ccle.report.tables import SUMMARY_ROW_LABEL, method_label


def _pct(v):
    """A signed percentage for a table cell; one that rounds to zero prints as +0.0% (never -0.0%)."""
    text = f"{v:+.1%}"
    return "+0.0%" if text == "-0.0%" else text


def _audit_tables(records):
    """{"real": table, "null": table} of :func:`inflation_table` for the conditions present with both protocols."""
    records = [r if "protocol" in r else dict(r, protocol="strict") for r in records]
    out = {}
    for null in (False, True):
        t = inflation_table(records, null=null)
        if t["rows"] or (null and t["null_ratio"]):
            out["null" if null else "real"] = t
    return out


def inflation_section(all_records):
    """Strict vs paper protocol on identical splits: per method the mean MSE under each and the relative gain the
    leakage alone produces; the per-drug rows (collapsed); the null MSE ratio to the per-drug mean."""
    title = "Leakage audit: inflation from the paper protocol"
    tables = _audit_tables(all_records)
    if not tables:
        return _absent("inflation", title, "both protocols (--protocol both) or the permutation control (--null)")
    paras = ["Steps the paper protocol fits on all rows of each drug, test rows included: "
             + "; ".join(LEAKING_STEPS["paper"]) + ". Gain = (strict MSE - paper MSE) / strict MSE on the splits "
             "both protocols ran (identical splits): the share of the honest error that the leakage alone removes."]
    out = []
    for kind, t in tables.items():
        tag = " (permuted responses, null)" if kind == "null" else ""
        if t["summary"]:
            out.append({"caption": f"Per method{tag}",
                        "header": ["Method", "Drugs", "Strict MSE", "Paper MSE", "Mean gain", "Median gain",
                                   "Paper better on"],
                        "rows": [[method_label(s["method"]), str(s["n_drugs"]), f3(s["strict_mse"]),
                                  f3(s["paper_mse"]), _pct(s["mean_gain"]), _pct(s["median_gain"]),
                                  f"{s['n_paper_better']} of {s['n_drugs']}"] for s in t["summary"]]})
            folded = ({"collapsed": f"Per drug and method{tag} ({len(t['rows'])} rows; also in inflation.csv)",
                       "csv": "inflation.csv"} if overview.many({r["drug"] for r in t["rows"]}) else {})
            out.append({"caption": f"Per drug and method{tag}", "collapsed": f"Per drug and method{tag}", **folded,
                        "header": ["Drug", "Method", "Strict MSE", "Paper MSE", "Gain from leakage"],
                        "rows": [[r["drug"], method_label(r["method"]), f3(r["strict_mse"]), f3(r["paper_mse"]),
                                  _pct(r["gain"])] for r in t["rows"]]})
    nulls = next((t["null_ratio"] for t in tables.values() if t["null_ratio"]), [])
    if nulls:
        paras.append("Under the permutation control no method can truly beat the per-drug mean: a ratio below 1 "
                     "is leakage or chance.")
        out.append({"caption": "Null MSE ratio to the per-drug mean (responses permuted within each drug)",
                    "header": ["Method", "Protocol", "MSE / per-drug mean MSE", "Drugs below 1"],
                    "rows": [[method_label(n["method"]), n["protocol"], f3(n["ratio"]),
                              f"{n['n_below_1']} of {n['n_drugs']}"] for n in nulls]})
    return {"id": "inflation", "title": title, "paragraphs": paras, "tables": out}


def write_audit_tables(all_records, out_dir):
    """Write ``inflation.csv`` (per drug and method: condition, strict/paper MSE, gain), ``inflation_summary.csv``
    and ``null_ratio.csv`` into ``out_dir`` when the records allow them; returns the terminal text ("" if none)."""
    tables = _audit_tables(all_records)
    if not tables:
        return ""
    rows, summary = [], []
    for kind, t in tables.items():
        rows += [[kind, r["drug"], r["method"], r["n_splits"], r["strict_mse"], r["paper_mse"], r["gain"]]
                 for r in t["rows"]]
        summary += [[kind, s["method"], s["n_drugs"], s["strict_mse"], s["paper_mse"], s["mean_gain"],
                     s["median_gain"], s["n_paper_better"]] for s in t["summary"]]
    if rows:
        (out_dir / "inflation.csv").write_text(to_csv(["responses", "drug", "method", "n_splits", "strict_mse",
                                                       "paper_mse", "gain"], rows))
        (out_dir / "inflation_summary.csv").write_text(to_csv(
            ["responses", "method", "n_drugs", "strict_mse", "paper_mse", "mean_gain", "median_gain",
             "n_paper_better"], summary))
    nulls = next((t["null_ratio"] for t in tables.values() if t["null_ratio"]), [])
    if nulls:
        (out_dir / "null_ratio.csv").write_text(to_csv(["method", "protocol", "n_drugs", "ratio", "n_below_1"],
                                                       [[n["method"], n["protocol"], n["n_drugs"], n["ratio"],
                                                         n["n_below_1"]] for n in nulls]))
    text = []
    for kind, t in tables.items():
        if t["summary"]:   # the terminal shows the summaries; the per-drug rows are in inflation.csv
            body = format_inflation({"summary": t["summary"], "rows": [], "null_ratio": []}).split("\n\n")[0]
            text.append(("Permuted responses (null):\n" if kind == "null" else "") + body)
    if nulls:
        text.append(format_inflation({"summary": [], "rows": [], "null_ratio": nulls}))
    return "\n\n".join(text)


def _pm_records(records, method="PM"):
    return [r for r in records if r["method"] == method and r.get("widths")]


def widths_section(records, drugs, method="PM"):
    """Distribution of PM's chosen hidden widths over (drug, split): depth counts, the most common architectures,
    and per drug the architectures of its splits."""
    title = "PM's searched architecture"
    recs = [r for r in _pm_records(records, method) if r.get("search_calls", 0) or r.get("search_seconds", 0)]
    if not recs:
        return _absent("widths", title, "PM results with searched widths")
    depth = Counter(len(r["widths"]) for r in recs)
    archs = Counter(tuple(r["widths"]) for r in recs)
    first = np.array([r["widths"][0] for r in recs])
    total = np.array([sum(r["widths"]) for r in recs])
    paras = [f"The paper's greedy search chose the hidden widths on an inner 70/30 split of each training set "
             f"({len(recs)} (drug, split) fits). Hidden layers: median {np.median([len(r['widths']) for r in recs]):g}"
             f" (range {min(depth)}-{max(depth)}); first layer median {np.median(first):g} nodes (range "
             f"{first.min()}-{first.max()}); hidden nodes in total median {np.median(total):g}. The paper reports "
             f"12 dense layers."]
    t_depth = {"caption": "Hidden layers chosen", "header": ["Hidden layers", "Fits", "Share"],
               "rows": [[str(k), str(v), f"{v / len(recs):.0%}"] for k, v in sorted(depth.items())]}
    t_arch = {"caption": "Most common architectures", "header": ["Widths", "Fits"],
              "rows": [[",".join(map(str, a)), str(v)] for a, v in archs.most_common(10)]}
    by_drug = [[d, "; ".join(",".join(map(str, r["widths"])) for r in sorted(
        (r for r in recs if r["drug"] == d), key=lambda r: int(r["split"])))] for d in drugs
        if any(r["drug"] == d for r in recs)]
    t_drug = {"caption": "Per drug (splits in order)", "header": ["Drug", "Widths per split"], "rows": by_drug,
              "collapsed": "Per drug", "cls": "text"}
    csv_rows = [[r["drug"], int(r["split"]), len(r["widths"]), " ".join(map(str, r["widths"]))]
                for r in sorted(recs, key=lambda r: (drugs.index(r["drug"]) if r["drug"] in drugs else len(drugs),
                                                     int(r["split"])))]
    return {"id": "widths", "title": title, "paragraphs": paras,
            "tables": [t_depth, t_arch, overview.fold(t_drug, drugs, "pm_widths.csv", "Per drug")],
            "csv": [{"name": "pm_widths.csv", "header": ["drug", "split", "hidden_layers", "widths"],
                     "rows": csv_rows}]}


def compression_change_section(records, drugs, method="PM"):
    """Per drug: PM's mean test MSE of the dense network and after pruning, quantization and Huffman coding, and
    the relative change dense -> Huffman-decoded (the paper claims similar performance after compression)."""
    title = "PM's test MSE before and after compression, per drug"
    recs = [r for r in records if r["method"] == method and isinstance(r.get("test_mse_stages"), dict)]
    if not recs:
        return _absent("compression_change", title, "per-stage test MSE (test_mse_stages)")
    stages = [s for s in ("dense", "pruned", "quantized", "huffman") if all(s in r["test_mse_stages"] for r in recs)]
    rows, changes, csv_rows = [], [], []
    by_drug = {}
    for r in recs:
        by_drug.setdefault(r["drug"], []).append(r["test_mse_stages"])
    for d in drugs:
        mine = by_drug.get(d)
        if not mine:
            continue
        means = [float(np.mean([m[s] for m in mine])) for s in stages]
        change = (means[-1] - means[0]) / means[0] if means[0] > 0 else float("nan")
        changes.append(change)
        rows.append([d] + [f3(v) for v in means] + [_pct(change)])
        csv_rows.append([d, len(mine)] + means + [change])
    ch = np.array(changes)
    rows.append([SUMMARY_ROW_LABEL] + [f3(float(np.mean([r["test_mse_stages"][s] for r in recs]))) for s in stages]
                + [_pct(np.nanmean(ch))])
    paras = [f"Mean test MSE over splits after each Deep Compression stage of {method_label(method)}; change = "
             f"(last stage - dense) / dense. Worse after compression on {int(np.sum(ch > 0))} of {len(ch)} drugs; "
             f"median change {_pct(np.nanmedian(ch))}, largest {_pct(np.nanmax(ch))}."]
    header = ["Drug"] + [s.capitalize() for s in stages] + ["Change"]
    csv = [{"name": "compression_per_drug.csv", "header": ["drug", "n_splits"] + [f"test_mse_{s}" for s in stages]
            + ["change"], "rows": csv_rows}]
    if overview.many(drugs):   # the average row in view, the drugs folded below it
        return {"id": "compression_change", "title": title, "paragraphs": paras, "csv": csv,
                "tables": [{"header": header, "rows": rows[-1:], "summary_rows": {0}},
                           overview.fold({"header": header, "rows": rows[:-1]}, drugs, "compression_per_drug.csv")]}
    return {"id": "compression_change", "title": title, "paragraphs": paras, "csv": csv,
            "tables": [{"header": header, "rows": rows, "summary_rows": {len(rows) - 1}}]}
