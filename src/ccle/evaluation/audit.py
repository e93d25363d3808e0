"""The leakage audit: which steps see the test rows under each protocol, the permutation control, and the
tables that compare the protocols.

- :data:`LEAKING_STEPS`: per protocol, the steps fitted on *all* rows of the drug before the splits (the one
  list that ``--help``, the report and the README show).
- :func:`permuted_responses`: the ``--null`` control. The responses of a drug are permuted once (seeded by a
  SHA-256 of run seed and drug, like :func:`ccle.evaluation.splits.split_seed`), before anything is fitted, and every
  method and protocol sees the same permutation. No method can then truly beat the per-drug mean; any
  "skill" under the null is leakage or bias by construction.
- :func:`inflation_table`: per drug and method, strict MSE, paper MSE and the relative gain produced by the
  leakage alone, ``(strict - paper) / strict``, on the splits both protocols ran; a summary per method; and
  the null MSE ratio to the per-drug mean per method and protocol.
"""
import hashlib
import math
from collections import defaultdict

import numpy as np

# Steps fitted on all rows of the drug (test rows included) before the splits, per protocol. Under "strict"
# every step that learns sees the training rows of the split only.
LEAKING_STEPS = {
    "strict": (),
    "paper": (
        "scaling: the min-max range of every gene (all methods)",
        "RFE: SVR recursive feature elimination chooses the genes (PM, PM+, SVR)",
        "width search: the greedy width/depth search chooses PM's hidden layers",
        "IQR thresholds: the sensitive/moderate/resistant cut points (the sensitivity calls of all methods)",
    ),
}


def leaking_steps_text(protocol):
    """One line for ``--help`` and the report: what sees the test rows under ``protocol``."""
    if protocol not in LEAKING_STEPS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(LEAKING_STEPS)}")
    steps = LEAKING_STEPS[protocol]
    if not steps:
        return f"{protocol}: no step sees a test row (everything is fitted on the training rows of each split)"
    return f"{protocol}: fitted on all rows of the drug, test rows included: " + "; ".join(steps)


def null_seed(seed, drug):
    """Integer seed of the permutation of ``drug``'s responses under run seed ``seed``: a SHA-256 of
    ``"{seed}/{drug}/null"`` (stable across processes and Python versions, different per drug, independent of
    the split seeds)."""
    digest = hashlib.sha256(f"{int(seed)}/{drug}/null".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def permuted_responses(y, drug, seed=0):
    """The responses ``y`` (n,) of ``drug`` in a seeded random order (a new array; ``y`` is not changed).

    The permutation depends on ``(seed, drug)`` only, so every method and protocol of a run gets the same one.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    return y[np.random.default_rng(null_seed(seed, drug)).permutation(y.shape[0])].copy()


def _mse_by_split(records):
    """{(null, protocol, drug, method): {split: mse}} (the last record of a key wins, as in the resume store)."""
    out = defaultdict(dict)
    for r in records:
        if r.get("mse") is None or not math.isfinite(float(r["mse"])):
            continue
        key = (bool(r.get("null", False)), r["protocol"], r["drug"], r["method"])
        out[key][int(r["split"])] = float(r["mse"])
    return out


def _method_order(records):
    seen = []
    for r in records:
        if r["method"] not in seen:
            seen.append(r["method"])
    return seen


def inflation_table(records, null=False):
    """Compare the protocols on ``records`` (result dicts: drug, split, method, protocol, mse, optional null).

    For every (drug, method) run under both protocols (``null`` selects the permuted or the real responses),
    on the splits both ran: ``strict_mse`` and ``paper_mse`` (means over those splits) and
    ``gain = (strict_mse - paper_mse) / strict_mse``, the share of the strict error that leakage alone
    removes. The ``summary`` per method: mean strict and paper MSE over its drugs, mean and median gain, and on
    how many drugs the paper protocol looked better. ``null_ratio`` per (method, protocol) on the permuted
    records: per drug ``MSE(method) / MSE(per-drug mean)`` on the splits both ran, averaged over drugs, and the
    number of drugs below 1 (an honest pipeline stays at ~1 or above).

    Returns ``{"rows": [...], "summary": [...], "null_ratio": [...]}`` (lists of dicts, JSON-ready).
    """
    by_split = _mse_by_split(records)
    methods = _method_order(records)
    rows = []
    drugs = sorted({k[2] for k in by_split})
    for drug in drugs:
        for method in methods:
            strict = by_split.get((bool(null), "strict", drug, method))
            paper = by_split.get((bool(null), "paper", drug, method))
            if not strict or not paper:
                continue
            shared = sorted(set(strict) & set(paper))
            if not shared:
                continue
            s = float(np.mean([strict[k] for k in shared]))
            p = float(np.mean([paper[k] for k in shared]))
            rows.append({"drug": drug, "method": method, "n_splits": len(shared), "strict_mse": s,
                         "paper_mse": p, "gain": (s - p) / s if s > 0 else float("nan")})
    summary = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        gains = np.array([r["gain"] for r in mine])
        summary.append({"method": method, "n_drugs": len(mine),
                        "strict_mse": float(np.mean([r["strict_mse"] for r in mine])),
                        "paper_mse": float(np.mean([r["paper_mse"] for r in mine])),
                        "mean_gain": float(np.mean(gains)), "median_gain": float(np.median(gains)),
                        "n_paper_better": int(np.sum(gains > 0))})
    return {"rows": rows, "summary": summary, "null_ratio": null_ratio_table(records)}


def null_ratio_table(records, baseline="mean"):
    """Per (method, protocol) of the records with ``null`` true: the mean over drugs of
    ``MSE(method) / MSE(baseline)`` (paired on the splits both ran), with ``n_drugs`` and ``n_below_1``."""
    by_split = _mse_by_split(records)
    out = []
    protocols = sorted({k[1] for k in by_split if k[0]})
    for protocol in protocols:
        for method in _method_order(records):
            ratios = []
            for (is_null, prot, drug, m), mse in by_split.items():
                if not is_null or prot != protocol or m != method:
                    continue
                base = by_split.get((True, protocol, drug, baseline))
                shared = sorted(set(mse) & set(base or {}))
                if shared:
                    ratios.append(np.mean([mse[k] for k in shared]) / np.mean([base[k] for k in shared]))
            if ratios:
                out.append({"method": method, "protocol": protocol, "n_drugs": len(ratios),
                            "ratio": float(np.mean(ratios)), "n_below_1": int(np.sum(np.array(ratios) < 1.0))})
    return out


def format_inflation(table, digits=3):
    """Markdown text of :func:`inflation_table`'s result: the per-method summary, then the per-drug rows, then
    the null ratios (each section only when it has rows)."""
    f = f"{{:.{digits}f}}"
    lines = []
    if table["summary"]:
        lines += ["| method | drugs | strict MSE | paper MSE | mean gain | median gain | paper better on |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {s['method']} | {s['n_drugs']} | {f.format(s['strict_mse'])} | {f.format(s['paper_mse'])} | "
                  f"{s['mean_gain']:+.1%} | {s['median_gain']:+.1%} | {s['n_paper_better']} of {s['n_drugs']} |"
                  for s in table["summary"]]
        lines += ["", "| drug | method | strict MSE | paper MSE | gain from leakage |", "|---|---|---|---|---|"]
        lines += [f"| {r['drug']} | {r['method']} | {f.format(r['strict_mse'])} | {f.format(r['paper_mse'])} | "
                  f"{r['gain']:+.1%} |" for r in table["rows"]]
    if table["null_ratio"]:
        if lines:
            lines.append("")
        lines += ["| method | protocol | null MSE / per-drug mean MSE | drugs below 1 |", "|---|---|---|---|"]
        lines += [f"| {n['method']} | {n['protocol']} | {f.format(n['ratio'])} | {n['n_below_1']} of "
                  f"{n['n_drugs']} |" for n in table["null_ratio"]]
    return "\n".join(lines)
