"""Train one drug's model on all its cell lines, ship it as one self-contained ``.nnz`` file, predict from it.
Long on purpose: train, write, read, predict and inspect of one file format share its metadata layout.

``train_drug_model`` runs the per-drug pipeline of :class:`ccle.methods.estimators.PerDrugModel` (min-max scaling ->
SVR-RFE -> committee of paper networks -> Deep Compression) on every cell line of the drug, after the label-free
:class:`ccle.methods.preprocess.ExpressionTransform` the benchmark uses (constant genes dropped, ``log2(x + 1)`` when the
file's decision says so). The file is a committee in the :mod:`nnlite.compress.fileformat` layout
(:func:`~nnlite.compress.fileformat.dumps_committee`) with everything needed to go from a raw expression file to
a class in its metadata::

    metadata = {"kind": "ccle.drug_model", "version": 2, "drug", "response" (e.g. "ActArea"),
                "genes": [names of the network's inputs, in order],
                "expression_transform": ExpressionTransform.to_dict(),   # {"log2p1": bool, "dropped", ...}
                "scaler": MinMaxScaler.to_dict() of the selected genes   # clip(x * scale + min, 0, 1)
                "target": {"mean", "scale"},     # prediction = mean(network outputs) * scale + mean
                "thresholds": {"low", "high"[, "direction": -1]},   # paper rule: IQR of the observed responses
                "calibrated_thresholds": {"low", "high"[, "direction"]},  # IQR of the committee's OOF predictions
                "direction": +1 | -1,            # ccle.evaluation.thresholds.sensitive_direction(response)
                "training_cell_lines": [names], "oof_predictions": [sorted OOF predictions of those lines],
                "genes_ranked": [[gene, importance], ...], "importance_method": str,
                "domain": nnlite.domain.DomainProfile.to_dict() of the network's genes (after the transform)
                          and the raw scale of the training matrix,   # optional: in_domain, diagnosis
                "intervals": {"method", "abs_residuals": sorted |y - OOF prediction|},  # optional: intervals
                "selector": GeneSelector params, "sizes": [per network: bytes per compression stage],
                "training": {...}, "ensemble": {...}}

Version 2 added the calibrated rule, the direction, the training cell lines, their out-of-fold predictions and
the ranked genes. Version 1 files still predict: the paper-rule class (oriented by the response's direction),
with the calibrated class, the percentile and the training-set flag empty and a note saying why.

``predict_file`` replays the transform by gene name, scales with the training scaler and takes the committee
mean (:func:`ccle.methods.estimators.committee_mean`, the function ``PerDrugModel.predict`` uses), so it reproduces the
in-memory model bit for bit (with the default Numba engine; with ``runtime=True`` the numpy-only
:mod:`nnlite.runtime` predicts, equal to float32 rounding). Each network is encoded once when written, and the
file is parsed and CRC-checked once when read.
"""
import hashlib
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import nnlite
from ccle.data.align import drug_dataset
from ccle.data.expression import ExpressionMatrix
from ccle.data.loader import read_expression
from ccle.evaluation.calls import CalibratedThresholds, fit_call_rules, prediction_percentile
from ccle.evaluation.thresholds import IQRThresholds, sensitive_direction
from ccle.errors import CCLEError
from ccle.evaluation.genes import IMPORTANCE_METHOD, committee_permutation_importance, importance_genes
from ccle.methods import make_method
from ccle.methods.estimators import DEFAULT_WIDTHS, committee_mean
from ccle.methods.paper_model import PaperModel
from ccle.deploy.schema import KIND, SUPPORTED_VERSIONS, VERSION, validate_metadata
from ccle.methods.preprocess import ExpressionTransform, MinMaxScaler, decide_log2
from ccle.files import atomic_write, read_bytes
from nnlite import runtime
from nnlite.compress.fileformat import ENSEMBLE_KEY, dumps_committee, encode_network, loads_committee
from nnlite.compress.report import STAGES, LayerSizes
from nnlite.conformal import conformal_quantile
from nnlite.domain import DomainProfile, looks_transposed, scale_kind
from nnlite.runtime import DEFAULT_LEVEL, MAX_MISSING_SHARE, trust_columns

V1_NOTE = ("model file version 1 has no calibrated thresholds, training cell lines or out-of-fold predictions: "
           "class_calibrated, percentile and in_training_set are empty (retrain to get them)")
_SHOW = 20
INTERVAL_METHOD = "split-conformal-oof"   # nnlite.conformal.split_interval on the training lines' OOF residuals


@dataclass
class TrainedModel:
    """What :func:`train_drug_model` returns: the fitted ``estimator`` (PerDrugModel), the file ``metadata``,
    the training matrix ``X`` (cells x all kept genes, after the expression transform), its ``genes`` and
    ``cell_lines``, the observed ``y``, the ``transform``, and ``path`` / ``n_bytes`` of the written file
    (None when not written)."""
    estimator: object
    metadata: dict
    X: np.ndarray
    y: np.ndarray
    genes: list
    cell_lines: list
    transform: ExpressionTransform = None
    path: Path = None
    n_bytes: int = None


@dataclass
class ModelFile:
    """A parsed, checked model file: ``metadata``, ``header`` of the container, the committee ``networks``
    (Sequentials, or :class:`nnlite.runtime.Network` with ``runtime=True``), the raw ``data``."""
    metadata: dict
    header: dict
    networks: list
    data: bytes


def short_list(names, show=_SHOW):
    """``"a, b, c, ... (n more)"``: at most ``show`` names."""
    names = list(names)
    text = ", ".join(map(str, names[:show]))
    return text + (f", ... ({len(names) - show} more)" if len(names) > show else "")


def _versions():
    return {"python": platform.python_version(), "numpy": np.__version__, "nnlite": nnlite.__version__}


def _network_sizes(encoded):
    """Bytes per compression stage (dense float32, pruned, quantized, Huffman) of each Dense layer, from the
    network's :func:`nnlite.compress.fileformat.encode_network`."""
    layers = [LayerSizes.from_encoded(i, enc) for i, enc in enumerate(encoded)]
    return {"layers": [{"shape": list(s.shape), "n_nonzero": s.n_nonzero, "n_clusters": s.n_clusters,
                        "index_bits": s.index_bits, **{st: getattr(s, st) for st in STAGES}} for s in layers],
            "totals": {st: int(sum(getattr(s, st) for s in layers)) for st in STAGES}}


def train_drug_model(expression, drug_table, drug, *, seed=0, path=None, widths=None, n_features=1000,
                     options=None, source=None, log2=None, search=False, search_options=None):
    """Fit the per-drug model (PM) of ``drug`` on all its cell lines and, with ``path``, write the ``.nnz``.

    ``expression``: :class:`ccle.data.expression.ExpressionMatrix` (raw values); ``drug_table``:
    :class:`ccle.data.drugs.DrugTable`; ``widths``: hidden layer widths (default
    :data:`ccle.methods.estimators.DEFAULT_WIDTHS`); ``n_features``: genes kept by RFE; ``options``: extra keyword
    arguments of :class:`ccle.methods.estimators.PerDrugModel` (e.g. fewer epochs); ``log2``: the file's log2 decision
    (default: :func:`ccle.methods.preprocess.decide_log2` on the whole matrix); ``search``: the widths come from the
    paper's greedy search (:meth:`ccle.methods.paper_model.PaperModel.search` with ``search_options``, on an inner
    70/30 split of the rows) instead of ``widths``. Returns a :class:`TrainedModel`.
    """
    if search and widths is not None:
        raise CCLEError("give either --widths or --search, not both")
    widths = tuple(DEFAULT_WIDTHS if widths is None else widths)
    log2 = decide_log2(expression.values) if log2 is None else bool(log2)
    ds = drug_dataset(expression, drug_table, drug)
    transform = ExpressionTransform.fit(ds.X, ds.genes, log2)
    X = transform.apply(ds.X, ds.genes)
    opts = dict(options or {})
    if opts.get("compress") is False:
        raise CCLEError("train writes a compressed model: the compress=False option is not allowed")
    t0 = time.perf_counter()
    search_info = None
    try:
        if search:
            found = PaperModel(n_features=int(n_features), seed=int(seed), **(search_options or {})).search(X, ds.y)
            widths = tuple(int(w) for w in found.widths)
            search_info = {"widths": list(widths), "val_mse": found.mse, "n_calls": found.n_calls,
                           "seconds": found.seconds}
        est = make_method("PM+", widths=widths, n_features=int(n_features), seed=int(seed), options={"PM+": opts})
        est.fit(X, ds.y)
    except ValueError as exc:
        raise CCLEError(f"cannot train the {drug} model on {X.shape[0]} cell lines: {exc}") from None
    fit_seconds = time.perf_counter() - t0
    selector = est.selector_.to_dict()
    support = np.asarray(selector["support"], dtype=np.intp)
    selected = [transform.genes[j] for j in support]
    encoded = [encode_network(net) if enc is None else enc for net, enc in zip(est.networks_, est.encoded_)]
    response = getattr(drug_table, "response", "ActArea")
    paper, calibrated = fit_call_rules(ds.y, est.oof_predictions_, response)
    Z = est.selector_.transform(X)
    importance = committee_permutation_importance(est.networks_, Z, (ds.y - est.y_mean_) / est.y_scale_,
                                                  est.folds_, seed=int(seed))
    metadata = {
        "kind": KIND, "version": VERSION, "drug": ds.drug, "response": response,
        "genes": selected,
        "expression_transform": transform.to_dict(),
        "scaler": est.selector_.scaler_.subset(support).to_dict(),
        "selector": selector["params"],
        "target": {"mean": float(est.y_mean_), "scale": float(est.y_scale_)},
        "thresholds": paper.to_dict(),
        "calibrated_thresholds": calibrated.to_dict(),
        "direction": paper.direction,
        "training_cell_lines": [str(c) for c in ds.cell_lines],
        "oof_predictions": [float(v) for v in np.sort(est.oof_predictions_)],
        "genes_ranked": importance_genes(selected, importance, top=None),
        "importance_method": IMPORTANCE_METHOD,
        "domain": DomainProfile().fit(X[:, support], raw=ds.X).to_dict(),
        "intervals": {"method": INTERVAL_METHOD,
                      "abs_residuals": [float(v) for v in np.sort(np.abs(ds.y - est.oof_predictions_))]},
        "sizes": [_network_sizes(enc) for enc in encoded],
        "compression": est.compression_,
        "training": {"n_cell_lines": int(X.shape[0]), "n_genes_input": int(X.shape[1]),
                     "n_genes_selected": len(selected), "seed": int(seed), "widths": list(widths),
                     "l2": est.l2_, "cv_mse": {str(k): v for k, v in est.cv_mse_.items()},
                     "n_epochs": est.n_epochs_, "n_networks": len(est.networks_), "options": _jsonable(opts),
                     "search": search_info,
                     "fit_seconds": fit_seconds, "source": source or str(getattr(expression, "source", "")),
                     "dropped": {k: len(v) for k, v in ds.dropped.items()},
                     "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "versions": _versions()},
    }
    trained = TrainedModel(est, metadata, X, np.asarray(ds.y), list(transform.genes), list(ds.cell_lines),
                           transform)
    if path is not None:
        trained.path = Path(path)
        trained.n_bytes = write_model(est.networks_, metadata, path, encoded=encoded)
    return trained


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def write_model(networks, metadata, path, encoded=None):
    """Write the committee ``networks`` (compressed Sequentials) and ``metadata`` as one ``.nnz`` file
    (atomically); ``encoded``: per network its ``encode_network`` when the caller has it. Returns the size."""
    data = dumps_committee(networks, metadata, encoded=encoded)
    try:
        return atomic_write(path, data)
    except OSError as exc:
        raise CCLEError(f"{path}: cannot write the model ({exc.strerror or exc})") from None


# ------------------------------------------------------------------------------------------------ reading
def open_model(path, runtime_networks=False):
    """Read, parse and check a ccle model file once -> :class:`ModelFile`. ``runtime_networks``: decode the
    committee with the numpy-only :mod:`nnlite.runtime` instead of the engine. Any problem -> CCLEError
    naming the file."""
    data = read_bytes(path, "model file")
    try:
        if runtime_networks:
            model = runtime.loads(data, str(path))
            header, networks = model.header, model.networks
        else:
            header, networks = loads_committee(data, str(path))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = str(exc)
        if not message.startswith(str(path)):
            message = f"{path}: cannot decode the model: {message}"
        raise CCLEError(message) from None
    meta = validate_metadata(header.get("metadata"), path)  # the one schema (ccle.deploy.schema)
    meta = {k: v for k, v in meta.items() if k != ENSEMBLE_KEY}
    return ModelFile(meta, header, networks, data)


def read_model_metadata(path):
    """The metadata of a ccle model file (checked: magic, version, CRC-32, kind) -> dict."""
    return open_model(path).metadata


def load_networks(path, runtime=False):
    """The committee stored in a model file: list of networks with ``predict(Z)`` (Sequentials, or
    :class:`nnlite.runtime.Network` with ``runtime=True``)."""
    return open_model(path, runtime_networks=runtime).networks


def _as_expression(expression, sample_info=None):
    if isinstance(expression, ExpressionMatrix):
        return expression
    return read_expression(expression, sample_info=sample_info)


def model_inputs(meta, expression, fill_missing=False, model_path="model", max_missing=MAX_MISSING_SHARE):
    """The network inputs Z (n, n_selected genes) float32 for ``expression`` (ExpressionMatrix), following the
    model's metadata: the training :class:`ExpressionTransform` replayed by gene name, missing genes and values
    filled with the training minimum (``fill_missing``, up to ``max_missing`` of the model's genes) or refused,
    min-max scaling with the training scaler. A matrix whose row names are the model's genes is refused as
    transposed (:func:`nnlite.domain.looks_transposed`).

    Returns ``(Z, report)`` where ``report`` lists ``filled_genes``, ``filled_values`` (count) and
    ``transformed`` (n, n_selected genes), the values after the transform before any filling (NaN where
    missing: what the domain scores read).
    """
    genes = list(meta["genes"])
    src = expression.source
    if expression.values.shape[0] == 0:
        raise CCLEError(f"{src}: no cell line in the expression data")
    if looks_transposed(expression.cell_lines, expression.genes, genes):
        hits = len(set(genes) & set(map(str, expression.cell_lines)))
        raise CCLEError(f"{src}: the matrix looks transposed: {hits} of its row names are genes of model "
                        f"{model_path} (give one row per cell line and one column per gene)")
    seen, dup = set(), set()
    for g in expression.genes:
        (dup if g in seen else seen).add(g)
    dup_needed = [g for g in genes if g in dup]
    if dup_needed:
        raise CCLEError(f"{src}: gene(s) the model needs appear more than once: {short_list(dup_needed)}")
    missing = [g for g in genes if g not in seen]
    share = len(missing) / len(genes)
    if missing and (not fill_missing or share > max_missing):
        cost = (f"--fill-missing would set {100 * share:.1f} % of the model's inputs to the training minimum, a "
                f"guess the intervals do not account for; it is allowed up to {100 * max_missing:g} % "
                f"(--max-missing)")
        what = f"{src}: {len(missing)} of the {len(genes)} genes of model {model_path} are missing"
        if fill_missing:
            raise CCLEError(f"{what} ({100 * share:.1f} %), more than the {100 * max_missing:g} % that "
                            f"--fill-missing allows (--max-missing): {short_list(missing)}")
        raise CCLEError(f"{what}: {short_list(missing)} ({cost})")
    try:
        scaler = MinMaxScaler.from_dict(meta["scaler"])
    except (KeyError, ValueError) as exc:
        raise CCLEError(f"{model_path}: bad scaler metadata ({exc})") from None
    if scaler.n_features_in_ != len(genes):
        raise CCLEError(f"{model_path}: scaler metadata has {scaler.n_features_in_} genes, the model {len(genes)}")
    transform = ExpressionTransform.from_dict(meta["expression_transform"], genes)
    raw = np.asarray(expression.values)
    position = {g: j for j, g in enumerate(expression.genes)}
    have = np.array([g in position for g in genes], dtype=bool)
    present = raw[:, [position[g] for g in genes if g in position]]
    bad = ~np.isfinite(present)
    nan_count = 0
    if bad.any():
        if not fill_missing:
            rows, cols = np.nonzero(bad)
            names = [g for g in genes if g in position]
            where = [f"{expression.cell_lines[r]}/{names[c]}" for r, c in zip(rows[:5], cols[:5])]
            raise CCLEError(f"{src}: {int(bad.sum())} missing or non-finite values in genes the model needs "
                            f"(cell line/gene: {', '.join(where)}{', ...' if bad.sum() > 5 else ''}); "
                            f"use --fill-missing to fill them with the training minimum")
        nan_count = int(bad.sum())
    try:
        X = transform.replay(raw, expression.genes, genes)
    except ValueError as exc:
        raise CCLEError(f"{src}: {exc} (model {model_path})") from None
    # fill after the transform: the training minimum lives on the transformed scale
    fill = np.broadcast_to(scaler.data_min_.astype(np.float32), X.shape)
    holes = ~np.isfinite(X)
    holes[:, ~have] = True
    transformed = np.where(holes, np.float32(np.nan), X)
    X[holes] = fill[holes]
    Z = np.asarray(scaler.transform(X), dtype=np.float32)
    return Z, {"filled_genes": missing, "filled_values": nan_count, "transformed": transformed}


def predict_file(model_path, expression, fill_missing=False, runtime=False, sample_info=None,
                 level=DEFAULT_LEVEL, max_missing=MAX_MISSING_SHARE, allow_out_of_domain=False):
    """Predict the response and class of every cell line of ``expression`` (a path or an ExpressionMatrix)
    with the model file ``model_path``.

    Returns a pandas DataFrame with columns ``cell_line``, ``predicted_<response>`` (e.g. ``predicted_ActArea``),
    ``percentile_among_training_<response>`` (0-100: where the prediction falls among the out-of-fold
    predictions of the training cell lines, :func:`ccle.evaluation.calls.prediction_percentile`; on the response's scale,
    so for IC50 a low percentile is sensitive), ``class_calibrated`` (calibrated rule: thresholds on the
    predicted scale, 25 / 50 / 25 % of the training lines' out-of-fold predictions), ``class_paper_rule`` (the
    paper's rule: the IQR thresholds of the observed training responses), both "sensitive" / "moderate" /
    "resistant" oriented by :func:`ccle.evaluation.thresholds.sensitive_direction`, and ``in_training_set`` (the cell
    line's name is one the model was trained on: its prediction is not a test). ``df.attrs`` holds ``drug``,
    ``note`` (why columns are empty for a version 1 file, else None), ``filled_genes`` (genes missing from the
    data and filled with the training minimum) and ``filled_values``.
    Missing genes or values without ``fill_missing``, a corrupt model or an unreadable file -> CCLEError.

    How far to trust each row (:func:`nnlite.runtime.trust_columns`, the numpy runtime's own function; files
    written before these existed give NaN / True): ``lower`` / ``upper`` (the ``level`` prediction interval
    of the response, split conformal on the training lines' out-of-fold residuals), ``call_confident`` (the
    interval lies within one class region of the paper rule), ``in_domain``, ``domain_outside_share`` and
    ``domain_distance`` (:mod:`nnlite.domain`). A file where most rows are out of domain is refused
    (CCLEError naming the likely cause) unless ``allow_out_of_domain``; ``df.attrs["diagnosis"]`` keeps it.
    """
    model = open_model(model_path, runtime_networks=runtime)
    meta = model.metadata
    expression = _as_expression(expression, sample_info)
    Z, report = model_inputs(meta, expression, fill_missing=fill_missing, model_path=model_path,
                             max_missing=max_missing)
    if Z.shape[1] != model.networks[0].n_in:
        raise CCLEError(f"{model_path}: the model lists {Z.shape[1]} genes but its network takes "
                        f"{model.networks[0].n_in}")
    pred = committee_mean(model.networks, Z) * float(meta["target"]["scale"]) + float(meta["target"]["mean"])
    response = meta.get("response", "ActArea")
    paper = _paper_rule(meta)
    df = pd.DataFrame({"cell_line": list(expression.cell_lines), f"predicted_{response}": pred})
    n = len(df)
    if meta.get("version", 1) >= 2:
        df[f"percentile_among_training_{response}"] = prediction_percentile(pred, meta["oof_predictions"])
        df["class_calibrated"] = CalibratedThresholds.from_dict(meta["calibrated_thresholds"]).classify(pred)
        df["class_paper_rule"] = paper.classify(pred)
        training = set(map(str, meta["training_cell_lines"]))
        df["in_training_set"] = [str(c) in training for c in expression.cell_lines]
        note = None
    else:
        df[f"percentile_among_training_{response}"] = np.full(n, np.nan)
        df["class_calibrated"] = pd.Series([""] * n, dtype=object)
        df["class_paper_rule"] = paper.classify(pred)
        df["in_training_set"] = pd.Series([""] * n, dtype=object)
        note = V1_NOTE
    trust, diagnosis = trust_columns(meta, report.pop("transformed"), pred, level, raw=expression.values)
    if diagnosis and not allow_out_of_domain:
        raise CCLEError(f"{expression.source}: {diagnosis} (model {model_path}; --allow-out-of-domain "
                        f"predicts anyway)")
    for name, column in trust.items():
        df[name] = column
    df.attrs.update({"drug": meta["drug"], "note": note, "diagnosis": diagnosis, "level": float(level), **report})
    return df


def _paper_rule(meta):
    """The paper-rule thresholds of a model file, oriented by the response's direction (files written before
    the direction was stored hold the IQR only: it comes from :func:`sensitive_direction` of the response)."""
    state = dict(meta["thresholds"])
    state.setdefault("direction", meta.get("direction", sensitive_direction(meta.get("response", "ActArea"))))
    return IQRThresholds.from_dict(state)


# ------------------------------------------------------------------------------------------------ inspect
def dense_layer_lines(net):
    """One description line per dense layer of a loaded runtime network: shape, activation, nonzero weights,
    weight clusters and index bits of its codec."""
    dense_entries = [e for e in net.layers if e["type"] == "Dense"]
    lines = []
    for i, ((W, _, act), entry) in enumerate(zip(net.steps, dense_entries)):
        c = entry["codec"]
        lines.append(f"  dense {i}: {W.shape[0]} x {W.shape[1]} {act:<8} {c['n_nonzero']:>7} nonzero "
                     f"({100.0 * c['n_nonzero'] / max(W.size, 1):.1f}%), {c['n_clusters']} clusters, "
                     f"{c['index_bits']}-bit gaps")
    return lines


def inspect_model(path, all_genes=False):
    """A human-readable description of a model file: file size and checksums, drug, architecture of every
    committee network (layer shapes, activations, nonzeros, clusters, index bits), bytes per compression
    stage, genes, scaler range, target scaling and IQR thresholds."""
    model = open_model(path, runtime_networks=True)
    data, meta, header, nets = model.data, model.metadata, model.header, model.networks
    tr = meta.get("training", {})
    genes = meta["genes"]
    lines = [
        f"file: {path} ({len(data)} bytes), CRC-32 {runtime.file_crc32(data):08x}, "
        f"SHA-256 {hashlib.sha256(data).hexdigest()}",
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
        lines.extend(dense_layer_lines(net))
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
    lines.append("  " + (", ".join(genes) if all_genes else short_list(genes)))
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
    if meta.get("intervals"):
        res = meta["intervals"]["abs_residuals"]
        lines.append(f"intervals: {meta['intervals']['method']} on {len(res)} out-of-fold residuals; "
                     f"{100 * DEFAULT_LEVEL:g} % half-width {conformal_quantile(res, DEFAULT_LEVEL):.4g}")
    if meta.get("domain"):
        lines.append(f"domain: per-gene training range and quantiles of {meta['domain'].get('n_rows', '?')} lines; "
                     f"raw scale {scale_kind(meta['domain'].get('raw_scale') or {})}")
    if meta.get("genes_ranked"):
        top = meta["genes_ranked"] if all_genes else meta["genes_ranked"][:_SHOW]
        lines.append(f"top genes by importance ({meta.get('importance_method', 'importance')}):")
        lines.append("  " + ", ".join(f"{g} {v:.3g}" for g, v in top))
    return "\n".join(lines)
