"""``inspect`` of a per-drug model file: what it holds and where its bytes go, for every method and version."""
import hashlib

import numpy as np

from ccle.deploy.common import SHOW, dense_layer_lines, short_list
from ccle.deploy.export import INTERVAL_LEVEL, conformal_half_width
from ccle.deploy.per_drug import _paper_rule, open_model
from ccle.evaluation.thresholds import CalibratedThresholds
from nnlite.domain import scale_kind
from nnlite import runtime
from nnlite.compress.fileformat import breakdown_lines, size_breakdown


def _array_model_lines(meta):
    m = meta["model"]
    kind = m["kind"]
    if kind == "linear":
        coef = np.asarray(m["coef"], dtype=np.float64)
        return [f"linear model: {coef.size} nonzero float32 coefficients on the scaled genes, intercept "
                f"{float(m['intercept']):.6g}"]
    if kind == "forest":
        n_nodes = np.asarray(m["n_nodes"])
        n_split = int(np.sum(np.asarray(m["feature"]) >= 0))
        return [f"forest: {n_nodes.size} trees, {int(n_nodes.sum())} nodes ({n_split} splits, "
                f"{int(n_nodes.sum()) - n_split} leaves), thresholds and leaf values float32, splits on "
                f"{int(m['n_in'])} genes"]
    if kind == "dense":
        return ["dense network (float32 weights): " + " -> ".join(
            f"{np.asarray(layer['W']).shape[0]} x {np.asarray(layer['W']).shape[1]} {layer['activation']}"
            for layer in m["layers"])]
    return [f"constant model: {float(m['value']):.6g} for every cell line (no input gene)"]


def inspect_model(path, all_genes=False):
    """A human-readable description of a per-drug model file: size and checksums, method and drug, the model
    (every committee network's layers with nonzeros, clusters and index bits and bytes per compression
    stage; or the array model), genes, scaler range, target scaling, the call rules, the interval, the top
    genes by importance and the file's bytes by part (:func:`nnlite.compress.fileformat.breakdown_lines`)."""
    model = open_model(path, runtime_networks=True)
    data, meta, header, nets = model.data, model.metadata, model.header, model.networks
    tr = meta.get("training", {})
    genes = meta["genes"]
    version = meta.get("version", 1)
    method = meta.get("method", "PM+")
    lines = [
        f"file: {path} ({len(data)} bytes), CRC-32 {runtime.file_crc32(data):08x}, "
        f"SHA-256 {hashlib.sha256(data).hexdigest()}",
        f"format: {header['format']}, model schema version {version}",
        f"model: {method} ({meta.get('model_kind', 'committee')}) for {meta['drug']} "
        f"({meta.get('response', 'ActArea')}), trained on {tr.get('n_cell_lines', '?')} cell lines, seed "
        f"{tr.get('seed', '?')}, {tr.get('created_utc', '')}",
    ]
    target = f"* {meta['target']['scale']:.6g} + {meta['target']['mean']:.6g}"
    l2 = tr.get("l2")
    if nets:
        lines.append(f"committee: {len(nets)} network(s), prediction = mean of their outputs {target}"
                     + (f"; L2 {l2:g}" if isinstance(l2, (int, float)) else ""))
    else:
        lines.extend(_array_model_lines(meta))
        lines.append(f"prediction = model output {target}")
    sizes = meta.get("sizes") or [None] * len(nets)
    for k, net in enumerate(nets):
        lines.append(f"network {k + 1}: " + " -> ".join(e["type"] for e in net.layers))
        lines.extend(dense_layer_lines(net))
        if sizes[k]:
            t = sizes[k]["totals"]
            lines.append("  bytes per stage: " + ", ".join(f"{s} {v}" for s, v in t.items())
                         + f" (ratio {t['dense'] / max(t['huffman'], 1):.1f}x)")
    choice = tr.get("fit", {}).get("compress_choice")
    if choice:
        lines.append("compression chosen on the training folds: keep scale, bits "
                     f"{choice['kept']} (tried: " + "; ".join(
                         f"{t['setting']} out-of-fold MSE x{t['oof_mse_ratio']:.3f}, {t['bytes']} bytes"
                         for t in choice["tried"]) + ")")
    comp = [c for c in (meta.get("compression") or []) if c]
    if comp and comp[0].get("val_mse"):
        lines.append("validation MSE per stage (network 1, standardized units): "
                     + ", ".join(f"{s} {v:.4g}" for s, v in comp[0]["val_mse"].items()))
    transform = "log2(x + 1), " if meta["expression_transform"].get("log2p1") else ""
    if genes:
        lo, hi = np.asarray(meta["scaler"]["data_min"]), np.asarray(meta["scaler"]["data_max"])
        lines.append(f"genes: {len(genes)} inputs ({transform}min-max scaled with training minima "
                     f"{lo.min():.4g}..{lo.max():.4g} and maxima {hi.min():.4g}..{hi.max():.4g})")
        lines.append("  " + (", ".join(genes) if all_genes else short_list(genes)))
    else:
        lines.append("genes: none (the model reads no expression value)")
    paper = _paper_rule(meta)
    hi, lo = ("sensitive", "resistant") if paper.direction == 1 else ("resistant", "sensitive")
    lines.append(f"classes, paper rule: {hi} >= {paper.high_:.6g} > moderate > {paper.low_:.6g} >= {lo} "
                 f"(IQR of the observed responses)")
    if "calibrated_thresholds" in meta:
        cal = CalibratedThresholds.from_dict(meta["calibrated_thresholds"])
        lines.append(f"classes, calibrated: {hi} > {cal.high_:.6g} >= moderate >= {cal.low_:.6g} > {lo} "
                     f"(IQR of the {len(meta.get('oof_predictions', []))} training lines' out-of-fold predictions)")
    else:
        lines.append("classes, calibrated: none (model file version 1)")
    half = conformal_half_width((meta.get("intervals") or {}).get("abs_residuals", []))
    if half is not None:
        lines.append(f"interval ({int(100 * INTERVAL_LEVEL)} %, split-conformal on "
                     f"{len(meta['intervals']['abs_residuals'])} out-of-fold residuals): prediction +- {half:.4g}")
    if meta.get("domain"):
        lines.append(f"domain: per-gene training range and quantiles of {meta['domain'].get('n_rows', '?')} lines; "
                     f"raw scale {scale_kind(meta['domain'].get('raw_scale') or {})}")
    ranked = meta.get("genes_ranked")
    if ranked is None and meta.get("importance") is not None:
        imp = np.asarray(meta["importance"], dtype=np.float64)
        ranked = [[genes[j], float(imp[j])] for j in np.argsort(-imp, kind="stable")]
    if ranked:
        top = ranked if all_genes else ranked[:SHOW]
        lines.append(f"top genes by importance ({meta.get('importance_method', 'importance')}):")
        lines.append("  " + ", ".join(f"{g} {v:.3g}" for g, v in top))
    lines.append("bytes by part:")
    lines.extend("  " + line for line in breakdown_lines(size_breakdown(data, str(path))))
    return "\n".join(lines)
