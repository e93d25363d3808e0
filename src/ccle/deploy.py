"""Train one drug's model on all its cell lines, ship it as one self-contained ``.nnz`` file, predict from it.

``train_drug_model`` runs the per-drug pipeline of :class:`ccle.model.PerDrugModel` (min-max scaling ->
SVR-RFE -> committee of paper networks -> Deep Compression) on every cell line of the drug, after the same
label-free expression preprocessing as the benchmark (``ccle.cli._expression_transform``: constant genes
dropped, ``log2(x + 1)`` for RPKM-like values). The file is the committee's first network in the
:mod:`nnlite.compress.fileformat` layout, with the other networks packed into its metadata
(:func:`nnlite.runtime.ensemble_metadata`) and everything needed to go from a raw expression file to a class::

    metadata = {"kind": "ccle.drug_model", "version": 1, "drug", "response" (e.g. "ActArea"),
                "genes": [names of the network's inputs, in order],
                "expression_transform": {"log2p1": bool},         # applied to raw values before scaling
                "scaler": {"data_min", "data_max", "min", "scale"} # per input gene: clip(x * scale + min, 0, 1)
                "target": {"mean", "scale"},     # prediction = mean(network outputs) * scale + mean
                "thresholds": {"low", "high"},   # IQR of the observed responses: >= high sensitive, <= low resistant
                "sizes": [per network: bytes per compression stage], "training": {...}, "ensemble": {...}}

``predict_file`` matches genes by name (order and extra genes do not matter), applies exactly these steps and
reproduces the in-memory ``PerDrugModel.predict`` bit for bit (with the default Numba engine; with
``runtime=True`` the numpy-only :mod:`nnlite.runtime` predicts, equal to float32 rounding).
"""
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ccle.errors import CCLEError

KIND = "ccle.drug_model"
VERSION = 1
_SHOW = 20


@dataclass
class TrainedModel:
    """What :func:`train_drug_model` returns: the fitted ``estimator`` (PerDrugModel), the file ``metadata``,
    the training matrix ``X`` (cells x all kept genes, after the expression transform), its ``genes`` and
    ``cell_lines``, the observed ``y``, and ``path`` / ``n_bytes`` of the written file (None when not written)."""
    estimator: object
    metadata: dict
    X: np.ndarray
    y: np.ndarray
    genes: list
    cell_lines: list
    path: Path = None
    n_bytes: int = None


def _list(names, show=_SHOW):
    names = list(names)
    text = ", ".join(map(str, names[:show]))
    return text + (f", ... ({len(names) - show} more)" if len(names) > show else "")


def expression_transform(X, genes):
    """The benchmark's label-free preprocessing of one drug's raw expression (``ccle.cli``, the one place
    that rule lives) -> ``(X float32, genes, log2p1_applied: bool, description)``."""
    from ccle.cli import _expression_transform
    from ccle.preprocess import drop_constant_genes

    X_kept, _, _ = drop_constant_genes(X, genes)
    Xt, genes_t, what = _expression_transform(X, genes)
    # the transform either returns the kept columns as they are or their log2(x + 1)
    log_applied = not np.array_equal(np.asarray(X_kept, dtype=np.float32), Xt)
    return Xt, list(genes_t), bool(log_applied), what


def _versions():
    import platform

    import nnlite

    return {"python": platform.python_version(), "numpy": np.__version__, "nnlite": nnlite.__version__}


def _network_sizes(net):
    """Bytes per compression stage (dense float32, pruned, quantized, Huffman) of each Dense layer of ``net``."""
    from nnlite.compress.fileformat import encode_weights
    from nnlite.compress.report import STAGES, LayerSizes

    layers = [LayerSizes.from_encoded(i, encode_weights(d.W)) for i, d in enumerate(net.dense_layers())]
    return {"layers": [{"shape": list(s.shape), "n_nonzero": s.n_nonzero, "n_clusters": s.n_clusters,
                        "index_bits": s.index_bits, **{st: getattr(s, st) for st in STAGES}} for s in layers],
            "totals": {st: int(sum(getattr(s, st) for s in layers)) for st in STAGES}}


def train_drug_model(expression, drug_table, drug, *, seed=0, path=None, widths=None, n_features=1000,
                     options=None, source=None):
    """Fit the per-drug model (PM) of ``drug`` on all its cell lines and, with ``path``, write the ``.nnz``.

    ``expression``: :class:`ccle.data.expression.ExpressionMatrix` (raw values); ``drug_table``:
    :class:`ccle.data.drugs.DrugTable`; ``widths``: hidden layer widths (default
    :data:`ccle.search.DEFAULT_WIDTHS`); ``n_features``: genes kept by RFE; ``options``: extra keyword
    arguments of :class:`ccle.model.PerDrugModel` (e.g. fewer epochs). Returns a :class:`TrainedModel`.
    """
    from ccle.data.align import drug_dataset
    from ccle.model import make_method
    from ccle.search import DEFAULT_WIDTHS

    widths = tuple(DEFAULT_WIDTHS if widths is None else widths)
    ds = drug_dataset(expression, drug_table, drug)
    X, genes, log_applied, what = expression_transform(ds.X, ds.genes)
    opts = dict(options or {})
    if opts.get("compress") is False:
        raise CCLEError("train writes a compressed model: the compress=False option is not allowed")
    est = make_method("PM", widths=widths, n_features=int(n_features), seed=int(seed), options={"PM": opts})
    t0 = time.perf_counter()
    try:
        est.fit(X, ds.y)
    except ValueError as exc:
        raise CCLEError(f"cannot train the {drug} model on {X.shape[0]} cell lines: {exc}") from None
    fit_seconds = time.perf_counter() - t0
    support = np.asarray(est.selector_.support_, dtype=bool)
    scaler = est.selector_.scaler_
    selected = [g for g, keep in zip(genes, support) if keep]
    metadata = {
        "kind": KIND, "version": VERSION, "drug": ds.drug, "response": getattr(drug_table, "response", "ActArea"),
        "genes": selected,
        "expression_transform": {"log2p1": log_applied, "drop_constant_genes": True, "description": what},
        "scaler": {"type": "MinMaxScaler", "clip": bool(scaler.clip),
                   "data_min": scaler.data_min_[support].tolist(), "data_max": scaler.data_max_[support].tolist(),
                   "min": scaler.min_[support].tolist(), "scale": scaler.scale_[support].tolist()},
        "target": {"mean": float(est.y_mean_), "scale": float(est.y_scale_)},
        "thresholds": est.thresholds_.to_dict(),
        "sizes": [_network_sizes(net) for net in est.networks_],
        "compression": est.compression_,
        "training": {"n_cell_lines": int(X.shape[0]), "n_genes_input": int(X.shape[1]),
                     "n_genes_selected": len(selected), "seed": int(seed), "widths": list(widths),
                     "l2": est.l2_, "cv_mse": {str(k): v for k, v in est.cv_mse_.items()},
                     "n_epochs": est.n_epochs_, "n_networks": len(est.networks_), "options": _jsonable(opts),
                     "fit_seconds": fit_seconds, "source": source or str(getattr(expression, "source", "")),
                     "dropped": {k: len(v) for k, v in ds.dropped.items()},
                     "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "versions": _versions()},
    }
    trained = TrainedModel(est, metadata, X, np.asarray(ds.y), genes, list(ds.cell_lines))
    if path is not None:
        trained.path = Path(path)
        trained.n_bytes = write_model(est.networks_, metadata, path)
    return trained


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def write_model(networks, metadata, path):
    """Write the committee ``networks`` (compressed Sequentials) and ``metadata`` as one ``.nnz`` file;
    returns its size in bytes."""
    from nnlite.compress.fileformat import dumps_compressed
    from nnlite.runtime import ENSEMBLE_KEY, ensemble_metadata

    meta = dict(metadata)
    if len(networks) > 1:
        meta[ENSEMBLE_KEY] = ensemble_metadata([dumps_compressed(net) for net in networks[1:]])
    data = dumps_compressed(networks[0], metadata=meta)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CCLEError(f"{path}: cannot write the model ({exc.strerror or exc})") from None
    return len(data)


# ------------------------------------------------------------------------------------------------ reading
def _read_bytes(path):
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CCLEError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise CCLEError(f"{path}: is a directory, expected a .nnz model file") from None


def read_model_metadata(path, data=None):
    """The metadata of a ccle model file (checked: magic, version, CRC-32, kind) -> dict.
    Any problem -> CCLEError naming the file."""
    from nnlite.runtime import parse_container

    data = _read_bytes(path) if data is None else data
    try:
        header, _ = parse_container(data, str(path))
    except ValueError as exc:
        raise CCLEError(str(exc)) from None
    meta = header.get("metadata")
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise CCLEError(f"{path}: an nnlite compressed model, but not a ccle drug model (no gene/scaler metadata)")
    if meta.get("version") != VERSION:
        raise CCLEError(f"{path}: ccle drug model version {meta.get('version')} is not supported (expected {VERSION})")
    missing = [k for k in ("drug", "genes", "scaler", "target", "thresholds", "expression_transform") if k not in meta]
    if missing:
        raise CCLEError(f"{path}: ccle drug model metadata lacks {', '.join(missing)}")
    return meta


def load_networks(path, data=None, runtime=False):
    """The committee stored in a model file: list of networks with ``predict(Z)``.

    ``runtime=False``: :class:`nnlite.model.Sequential` objects (``nnlite.compress.fileformat``);
    ``runtime=True``: :class:`nnlite.runtime.Network` objects (numpy only)."""
    import base64

    from nnlite.runtime import ENSEMBLE_KEY, loads

    data = _read_bytes(path) if data is None else data
    try:
        if runtime:
            return loads(data, str(path)).networks
        from nnlite.compress.fileformat import loads_compressed, parse_container

        header, _ = parse_container(data, str(path))
        nets = [loads_compressed(data, str(path))]
        packed = header["metadata"].get(ENSEMBLE_KEY)
        if packed:
            for i, m in enumerate(packed["members"], start=1):
                nets.append(loads_compressed(base64.b64decode(m.encode("ascii"), validate=True),
                                             f"{path} (ensemble member {i})"))
        return nets
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CCLEError(f"{path}: cannot decode the model: {exc}") from None


def _as_expression(expression, sample_info=None):
    from ccle.data.expression import ExpressionMatrix

    if isinstance(expression, ExpressionMatrix):
        return expression
    from ccle.data.loader import read_expression

    return read_expression(expression, sample_info=sample_info)


def model_inputs(meta, expression, fill_missing=False, model_path="model"):
    """The network inputs Z (n, n_selected genes) float32 for ``expression`` (ExpressionMatrix), following the
    model's metadata: match genes by name, fill (``fill_missing``) or refuse missing genes and missing values,
    ``log2(x + 1)`` when the model was trained on it, min-max scaling with the training minima and ranges.

    Returns ``(Z, report)`` where ``report`` lists ``filled_genes`` and ``filled_values`` (count).
    """
    from ccle.preprocess import MinMaxScaler

    genes = list(meta["genes"])
    src = expression.source
    if expression.values.shape[0] == 0:
        raise CCLEError(f"{src}: no cell line in the expression data")
    position = {}
    dup = set()
    for j, g in enumerate(expression.genes):
        if g in position:
            dup.add(g)
        position[g] = j
    dup_needed = [g for g in genes if g in dup]
    if dup_needed:
        raise CCLEError(f"{src}: gene(s) the model needs appear more than once: {_list(dup_needed)}")
    missing = [g for g in genes if g not in position]
    if missing and not fill_missing:
        raise CCLEError(f"{src}: {len(missing)} of the {len(genes)} genes of model {model_path} are missing: "
                        f"{_list(missing)} (use --fill-missing to fill them with the training minimum)")
    lo = np.asarray(meta["scaler"]["data_min"], dtype=np.float64)
    hi = np.asarray(meta["scaler"]["data_max"], dtype=np.float64)
    if lo.size != len(genes) or hi.size != len(genes):
        raise CCLEError(f"{model_path}: scaler metadata has {lo.size} genes, the model {len(genes)}")
    idx = np.array([position.get(g, -1) for g in genes], dtype=np.intp)
    have = idx >= 0
    X = np.empty((expression.values.shape[0], len(genes)), dtype=np.float32)
    X[:, have] = expression.values[:, idx[have]]
    log_applied = bool(meta["expression_transform"].get("log2p1", False))
    nan_count = 0
    if have.any():
        sub = X[:, have]
        bad = ~np.isfinite(sub)
        if bad.any():
            if not fill_missing:
                rows, cols = np.nonzero(bad)
                names = [genes[j] for j in np.flatnonzero(have)]
                where = [f"{expression.cell_lines[r]}/{names[c]}" for r, c in zip(rows[:5], cols[:5])]
                raise CCLEError(f"{src}: {int(bad.sum())} missing or non-finite values in genes the model needs "
                                f"(cell line/gene: {', '.join(where)}{', ...' if bad.sum() > 5 else ''}); "
                                f"use --fill-missing to fill them with the training minimum")
            nan_count = int(bad.sum())
        if log_applied:
            finite = sub[np.isfinite(sub)]
            if finite.size and finite.min() < 0:
                raise CCLEError(f"{src}: negative expression values, but model {model_path} was trained on "
                                f"RPKM/TPM-like values put on the log2(x + 1) scale")
            sub = np.log2(sub + np.float32(1))  # ccle.preprocess.log2p1, NaNs kept for the fill below
        X[:, have] = sub
    # fill after the transform: the training minimum lives on the transformed scale
    fill = np.broadcast_to(lo.astype(np.float32), X.shape)
    holes = ~np.isfinite(X)
    holes[:, ~have] = True
    X[holes] = fill[holes]
    scaler = MinMaxScaler.from_dict({"data_min": lo.tolist(), "data_max": hi.tolist(),
                                     "clip": meta["scaler"].get("clip", True)})
    Z = np.asarray(scaler.transform(X), dtype=np.float32)
    return Z, {"filled_genes": missing, "filled_values": nan_count}


def predict_file(model_path, expression, fill_missing=False, runtime=False, sample_info=None):
    """Predict the response and class of every cell line of ``expression`` (a path or an ExpressionMatrix)
    with the model file ``model_path``.

    Returns a pandas DataFrame with columns ``cell_line``, ``predicted_<response>`` (e.g. ``predicted_ActArea``)
    and ``class`` ("sensitive" / "moderate" / "resistant"); ``df.attrs`` holds ``drug``, ``filled_genes``
    (genes missing from the data and filled with the training minimum) and ``filled_values``.
    Missing genes or values without ``fill_missing``, a corrupt model or an unreadable file -> CCLEError.
    """
    import pandas as pd

    from ccle.discretize import IQRThresholds

    data = _read_bytes(model_path)
    meta = read_model_metadata(model_path, data)
    networks = load_networks(model_path, data, runtime=runtime)
    expression = _as_expression(expression, sample_info)
    Z, report = model_inputs(meta, expression, fill_missing=fill_missing, model_path=model_path)
    if Z.shape[1] != networks[0].n_in:
        raise CCLEError(f"{model_path}: the model lists {Z.shape[1]} genes but its network takes {networks[0].n_in}")
    # exactly PerDrugModel.predict: float64 mean of the committee, then back to the response scale
    out = np.mean([np.asarray(net.predict(Z), dtype=np.float64).ravel() for net in networks], axis=0)
    pred = out * float(meta["target"]["scale"]) + float(meta["target"]["mean"])
    thresholds = IQRThresholds.from_dict(meta["thresholds"])
    response = meta.get("response", "ActArea")
    df = pd.DataFrame({"cell_line": list(expression.cell_lines), f"predicted_{response}": pred,
                       "class": thresholds.classify(pred)})
    df.attrs.update({"drug": meta["drug"], **report})
    return df


# ------------------------------------------------------------------------------------------------ inspect
def inspect_model(path, all_genes=False):
    """A human-readable description of a model file: file size and checksums, drug, architecture of every
    committee network (layer shapes, activations, nonzeros, clusters, index bits), bytes per compression
    stage, genes, scaler range, target scaling and IQR thresholds."""
    from nnlite.runtime import file_crc32, parse_container

    data = _read_bytes(path)
    meta = read_model_metadata(path, data)
    header, _ = parse_container(data, str(path))
    nets = load_networks(path, data, runtime=True)
    tr = meta.get("training", {})
    genes = meta["genes"]
    lines = [
        f"file: {path} ({len(data)} bytes), CRC-32 {file_crc32(data):08x}, SHA-256 {hashlib.sha256(data).hexdigest()}",
        f"format: {header['format']} version 1, {header['dtype']} weights",
        f"model: per-drug model for {meta['drug']} ({meta.get('response', 'ActArea')}), trained on "
        f"{tr.get('n_cell_lines', '?')} cell lines, seed {tr.get('seed', '?')}, {tr.get('created_utc', '')}",
        f"committee: {len(nets)} network(s), prediction = mean of their outputs * {meta['target']['scale']:.6g} "
        f"+ {meta['target']['mean']:.6g}" + (f"; L2 {tr['l2']:g}" if "l2" in tr else ""),
    ]
    sizes = meta.get("sizes") or [None] * len(nets)
    for k, net in enumerate(nets):
        kinds = [e["type"] for e in net.layers]
        lines.append(f"network {k + 1}: " + " -> ".join(kinds))
        dense_entries = [e for e in net.layers if e["type"] == "Dense"]
        for i, (step, entry) in enumerate(zip(net.steps, dense_entries)):
            W, _, act = step
            c = entry["codec"]
            lines.append(f"  dense {i}: {W.shape[0]} x {W.shape[1]} {act:<8} {c['n_nonzero']:>7} nonzero "
                         f"({100.0 * c['n_nonzero'] / max(W.size, 1):.1f}%), {c['n_clusters']} clusters, "
                         f"{c['index_bits']}-bit gaps")
        if sizes[k]:
            t = sizes[k]["totals"]
            lines.append("  bytes per stage: " + ", ".join(f"{s} {v}" for s, v in t.items())
                         + f" (ratio {t['dense'] / max(t['huffman'], 1):.1f}x)")
    comp = [c for c in (meta.get("compression") or []) if c]
    if comp and comp[0].get("val_mse"):
        lines.append("validation MSE per stage (network 1, standardized units): "
                     + ", ".join(f"{s} {v:.4g}" for s, v in comp[0]["val_mse"].items()))
    transform = "log2(x + 1), " if meta["expression_transform"].get("log2p1") else ""
    lo, hi = np.asarray(meta["scaler"]["data_min"]), np.asarray(meta["scaler"]["data_max"])
    lines.append(f"genes: {len(genes)} inputs ({transform}min-max scaled with training minima "
                 f"{lo.min():.4g}..{lo.max():.4g} and maxima {hi.min():.4g}..{hi.max():.4g})")
    lines.append("  " + (", ".join(genes) if all_genes else _list(genes)))
    th = meta["thresholds"]
    lines.append(f"classes: sensitive >= {th['high']:.6g} > moderate > {th['low']:.6g} >= resistant "
                 f"(IQR of the observed responses)")
    return "\n".join(lines)
