"""Train the multitask model (MT) on every cell line of the run, ship it as one ``.nnz``, predict every drug from it.

``train_multitask_model`` builds the cross-drug data (:func:`ccle.methods.multitask.response_matrix` over the drugs'
raw rows: X of every cell line with at least one response, Y with NaN for unmeasured pairs), applies the
label-free :class:`ccle.methods.preprocess.ExpressionTransform` of the benchmark once to that matrix (constant genes
dropped, ``log2(x + 1)`` when the file's decision says so), fits :class:`ccle.methods.multitask.MultiTaskModel` and
writes one file: the committee network (``ccle.methods.multitask.save_multitask``'s layout) with the metadata of
:func:`ccle.methods.multitask.file_metadata` (format ``"ccle.methods.multitask"`` version 2: drugs, genes, scaler, per-drug
target scaling, per drug the paper rule's IQR thresholds and the calibrated thresholds of MT's out-of-fold
predictions, the direction, the sorted OOF predictions per drug, the training cell lines) plus
``"expression_transform"`` and ``"training"``.

``predict_multitask_file`` replays the transform by gene name and scales with the training scaler
(:func:`ccle.deploy.per_drug.model_inputs`, the per-drug model's code), runs the network and returns one row per
(cell line, drug) with the columns of :func:`ccle.deploy.per_drug.predict_file` (percentile among the drug's training
OOF predictions, calibrated class, paper-rule class, training-set flag). A version 1 file still predicts the
same responses and the paper-rule class, with the calibrated columns empty and :data:`V1_NOTE` saying why.
``is_multitask_file`` tells the two model kinds apart from the file's metadata, which is how ``predict`` and
``inspect`` pick the reader.
"""
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccle.data.align import drug_dataset
from ccle.evaluation.calls import prediction_percentile
from ccle.deploy.common import as_expression as _as_expression
from ccle.deploy.common import dense_layer_lines, short_list
from ccle.deploy.common import jsonable as _jsonable
from ccle.deploy.common import versions as _versions
from ccle.deploy.per_drug import model_inputs
from ccle.evaluation.thresholds import IQRThresholds, sensitive_direction
from ccle.errors import CCLEError
from ccle.methods.multitask import FORMAT, MultiTaskModel, file_metadata, load_multitask, response_matrix
from ccle.methods.preprocess import ExpressionTransform, decide_log2
from ccle.files import atomic_write, read_bytes
from nnlite import runtime
from nnlite.compress.fileformat import breakdown_lines, dumps_compressed, parse_container, size_breakdown

V1_NOTE = ("multitask model file version 1 has no calibrated thresholds, training cell lines or out-of-fold "
           "predictions: class_calibrated, percentile and in_training_set are empty (retrain to get them)")
NO_LINES_NOTE = ("the multitask model was saved without its training cell-line names: in_training_set is empty")


@dataclass
class TrainedMultitask:
    """What ``train_multitask_model`` returns: the fitted model, the file's metadata, bytes written."""
    model: MultiTaskModel
    metadata: dict
    n_bytes: int = 0
    path: Path = None


def train_multitask_model(expression, drug_table, drugs=None, *, seed=0, path=None, options=None, source=None,
                          log2=None):
    """Fit MT on every cell line with a response to at least one of ``drugs`` (default: all drugs of the
    table) and, with ``path``, write the ``.nnz`` file. ``options``: MultiTaskModel keyword arguments (e.g.
    fewer epochs); ``log2``: the file's log2 decision (default :func:`ccle.methods.preprocess.decide_log2`).
    Returns a :class:`TrainedMultitask`."""
    drugs = list(drugs or drug_table.drugs)
    log2 = decide_log2(expression.values) if log2 is None else bool(log2)
    opts = dict(options or {})
    if opts.get("compress") is False:
        raise CCLEError("train writes a compressed model: the compress=False option is not allowed")
    X, Y, cells, genes, names = response_matrix([drug_dataset(expression, drug_table, d) for d in drugs])
    transform = ExpressionTransform.fit(X, genes, log2)
    Xt = transform.apply(X, genes)
    model = MultiTaskModel(seed=int(seed), **opts)
    t0 = time.perf_counter()
    try:
        model.fit(Xt, Y, genes=transform.genes, drugs=names, cell_lines=cells)
    except ValueError as exc:
        raise CCLEError(f"cannot train the multitask model on {Xt.shape[0]} cell lines: {exc}") from None
    meta = file_metadata(model, getattr(drug_table, "response", "ActArea"))
    meta.update({
        "expression_transform": transform.to_dict(),
        "compression": model.compression_,
        "training": {"n_cell_lines": int(Xt.shape[0]), "n_genes_input": int(Xt.shape[1]),
                     "n_genes_selected": len(model.genes_), "n_pairs": int(np.isfinite(Y).sum()),
                     "seed": int(seed), "n_epochs": model.n_epochs_, "inner_mse": float(model.inner_mse_),
                     "n_networks": len(model.networks_), "options": _jsonable(opts),
                     "fit_seconds": time.perf_counter() - t0,
                     "source": source or str(getattr(expression, "source", "")),
                     "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "versions": _versions()}})
    meta = _jsonable(meta)
    trained = TrainedMultitask(model, meta)
    if path is not None:
        trained.path = Path(path)
        try:
            trained.n_bytes = atomic_write(path, dumps_compressed(model.network_, metadata=meta))
        except OSError as exc:
            raise CCLEError(f"{path}: cannot write the model ({exc.strerror or exc})") from None
    return trained


def _header(path):
    data = read_bytes(path, "model file")
    try:
        header, _ = parse_container(data, str(path))
    except (ValueError, KeyError, TypeError) as exc:
        message = str(exc)
        raise CCLEError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    return header, data


def is_multitask_file(path):
    """True when ``path`` is a model file written by :func:`train_multitask_model` (its metadata's format);
    a corrupt or unreadable file -> CCLEError naming it."""
    header, _ = _header(path)
    meta = header.get("metadata")
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def _open(path):
    header, data = _header(path)
    meta = header.get("metadata") or {}
    missing = [k for k in ("drugs", "genes", "scaler", "y_mean", "y_scale", "thresholds", "expression_transform")
               if k not in meta]
    if missing:
        raise CCLEError(f"{path}: multitask model metadata lacks {', '.join(missing)}")
    try:
        model = load_multitask(path)
    except (ValueError, KeyError, TypeError) as exc:
        raise CCLEError(f"{path}: cannot decode the multitask model: {exc}") from None
    return model, meta, header, data


def paper_rules(meta):
    """Per drug the paper-rule thresholds of a multitask file, oriented by the response's direction (a version
    1 file holds the IQR only: the direction comes from :func:`sensitive_direction` of its response)."""
    direction = meta.get("direction", sensitive_direction(meta.get("response", "ActArea")))
    return [IQRThresholds.from_dict({"direction": direction, **t}) for t in meta["thresholds"]]


def predict_multitask_file(model_path, expression, fill_missing=False, runtime_engine=False, sample_info=None):
    """Predict every drug of the multitask model file for every cell line of ``expression`` (a path or an
    ExpressionMatrix) -> DataFrame, one row per (cell line, drug), the columns of
    :func:`ccle.deploy.per_drug.predict_file` with ``drug`` after ``cell_line``: ``predicted_<response>``,
    ``percentile_among_training_<response>`` (among the drug's out-of-fold predictions of its observed
    training pairs), ``class_calibrated`` (the drug's calibrated thresholds, IQR of those OOF predictions),
    ``class_paper_rule`` (the drug's IQR of its observed training responses), both oriented by the response's
    direction, and ``in_training_set`` (the cell line is one MT was trained on -- on any drug: the shared trunk,
    scaler and gene filter saw it, so none of its predictions is a test). Version 1 files: the percentile,
    the calibrated class and the flag are empty, ``df.attrs["note"]`` (:data:`V1_NOTE`) says why.
    ``df.attrs``: ``drugs``, ``note``, ``filled_genes``, ``filled_values``. ``runtime_engine``: run the
    network with the numpy-only :mod:`nnlite.runtime` (equal to float32 rounding)."""
    model, meta, _, data = _open(model_path)
    expression = _as_expression(expression, sample_info)
    Z, report = model_inputs(meta, expression, fill_missing=fill_missing, model_path=model_path)
    report.pop("transformed")   # the domain scores of a per-drug file; an MT file stores no domain
    if runtime_engine:
        out = runtime.loads(data, str(model_path)).networks[0].predict(Z)
    else:
        out = model.network_.predict(Z)
    P = np.asarray(out, dtype=np.float64).reshape(Z.shape[0], -1) * model.y_scale_ + model.y_mean_
    response = meta.get("response", "ActArea")
    cells = list(expression.cell_lines)
    n = len(cells)
    paper = paper_rules(meta)
    calibrated = model.calibrated_thresholds_
    note = None if calibrated is not None else V1_NOTE
    if calibrated is not None and model.cell_lines_ is None:
        note = NO_LINES_NOTE
    if model.cell_lines_ is not None:
        training = set(model.cell_lines_)
        in_training = pd.Series([str(c) in training for c in cells], dtype=object)
    else:
        in_training = pd.Series([""] * n, dtype=object)
    frames = []
    for j, drug in enumerate(model.drugs_):
        p = P[:, j]
        frame = pd.DataFrame({"cell_line": cells, "drug": drug, f"predicted_{response}": p})
        if calibrated is not None:
            frame[f"percentile_among_training_{response}"] = prediction_percentile(p, meta["oof_predictions"][j])
            frame["class_calibrated"] = calibrated[j].classify(p)
        else:
            frame[f"percentile_among_training_{response}"] = np.full(n, np.nan)
            frame["class_calibrated"] = pd.Series([""] * n, dtype=object)
        frame["class_paper_rule"] = paper[j].classify(p)
        frame["in_training_set"] = in_training
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    df.attrs.update({"drugs": list(model.drugs_), "note": note, **report})
    return df


def inspect_multitask(path, all_genes=False):
    """A human-readable description of a multitask model file: size and checksums, drugs, the network's layers
    (shape, activation, nonzeros, clusters), bytes per compression stage, genes, per-drug target scaling and
    IQR thresholds, and the file's bytes by part."""
    model, meta, header, data = _open(path)
    tr = meta.get("training", {})
    net = runtime.loads(data, str(path)).networks[0]
    lines = [f"file: {path} ({len(data)} bytes), CRC-32 {runtime.file_crc32(data):08x}, "
             f"SHA-256 {hashlib.sha256(data).hexdigest()}",
             f"format: {header['format']} version 1, {header['dtype']} weights; multitask metadata version "
             f"{meta.get('version', '?')}",
             f"model: multitask network for {len(model.drugs_)} drugs ({meta.get('response', 'ActArea')}), "
             f"trained on {tr.get('n_cell_lines', '?')} cell lines ({tr.get('n_pairs', '?')} observed pairs), "
             f"seed {tr.get('seed', '?')}, {tr.get('created_utc', '')}",
             f"committee of {tr.get('n_networks', '?')} inner-fold networks held as one network; "
             f"output j = network output j * y_scale_j + y_mean_j",
             "network: " + " -> ".join(e["type"] for e in net.layers)]
    lines.extend(dense_layer_lines(net))
    comp = [c for c in (meta.get("compression") or []) if c]
    if comp:
        lines.append("bytes per inner network: dense " + ", ".join(str(c["dense_bytes"]) for c in comp)
                     + "; huffman " + ", ".join(str(c["huffman_bytes"]) for c in comp))
        if comp[0].get("val_mse"):
            lines.append("validation MSE per stage (network 1, standardized units): "
                         + ", ".join(f"{s} {v:.4g}" for s, v in comp[0]["val_mse"].items()))
    transform = "log2(x + 1), " if meta["expression_transform"].get("log2p1") else ""
    lines.append(f"genes: {len(model.genes_)} inputs ({transform}min-max scaled with training minima and maxima)")
    lines.append("  " + (", ".join(model.genes_) if all_genes else short_list(model.genes_)))
    paper, calibrated = paper_rules(meta), model.calibrated_thresholds_
    hi, lo = ("sensitive", "resistant") if paper[0].direction == 1 else ("resistant", "sensitive")
    lines.append(f"drugs (target mean, scale; paper rule: {hi} >= high > moderate > low >= {lo}, IQR of the "
                 f"observed responses; calibrated: {hi} > high >= moderate >= low > {lo}, IQR of the training "
                 f"pairs' out-of-fold predictions):")
    for j, drug in enumerate(model.drugs_):
        cal = ("calibrated: none (multitask file version 1)" if calibrated is None else
               f"calibrated low {calibrated[j].low_:.4g}, high {calibrated[j].high_:.4g} "
               f"({len(meta['oof_predictions'][j])} OOF predictions)")
        lines.append(f"  {drug}: mean {model.y_mean_[j]:.4g}, scale {model.y_scale_[j]:.4g}, "
                     f"paper rule low {paper[j].low_:.4g}, high {paper[j].high_:.4g}; {cal}")
    lines.append("bytes by part:")
    lines.extend("  " + line for line in breakdown_lines(size_breakdown(data, str(path))))
    return "\n".join(lines)
