"""Train one drug's model with any per-drug method on all its cell lines and write it as one ``.nnz`` file.

``train_drug_model`` applies the label-free :class:`ccle.methods.preprocess.ExpressionTransform` the benchmark
uses (constant genes dropped, ``log2(x + 1)`` when the file's decision says so), fits the method's estimator
from the registry (:func:`ccle.methods.make_method`) and writes what :func:`ccle.deploy.content.file_content`
extracts from it, in one layout for every kind (model schema version 3, :mod:`ccle.deploy.schema`)::

    metadata = {"kind": "ccle.drug_model", "version": 3, "method": "PM+", "model_kind": "committee" | "dense" |
                "linear" | "forest" | "constant", "drug", "response",
                "genes": [the model's inputs, in order],          # [] for a constant model
                "expression_transform": {"log2p1", "dropped", ...},
                "scaler": {"clip", "data_min", "data_max"},       # min-max of the inputs (scale and offset
                                                                  # follow from them)
                "target": {"mean", "scale"},                     # response = output * scale + mean
                "thresholds": paper rule, "calibrated_thresholds": IQR of the out-of-fold predictions,
                "direction", "training_cell_lines",
                "oof_predictions": sorted out-of-fold predictions (float32),
                "intervals": {"method", "abs_residuals": sorted |observed - out-of-fold prediction| (float32)},
                "domain": nnlite.domain.DomainProfile of the model's genes and the raw scale of the training matrix,
                "importance": per input gene (float32, optional), "importance_method",
                "model": the array model of an array kind (nnlite.runtime.array_model),
                "sizes": per committee network, bytes per compression stage, "compression", "training"}

A committee's networks are the container's own (Huffman-coded, :func:`nnlite.compress.fileformat.dumps_committee`);
the array kinds keep their arrays as the container's metadata blobs (float32 where the model is float32 or where
float32 changes a prediction by less than its rounding: linear coefficients, leaf values; thresholds are rounded
down to float32, which keeps every branch). Training ranges are float32 values already; the scaler's scale and
offset are not stored but recomputed from them.
"""
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ccle.data.align import drug_dataset
from ccle.deploy.common import jsonable, versions
from ccle.deploy.content import file_content
from ccle.deploy.schema import KIND, VERSION
from ccle.errors import CCLEError
from ccle.evaluation.calls import fit_call_rules
from ccle.files import atomic_write
from ccle.methods import make_method, spec
from ccle.methods.paper_model import PaperModel
from ccle.methods.preprocess import ExpressionTransform, decide_log2
from nnlite.compress.fileformat import dumps_committee
from nnlite.domain import DomainProfile
from nnlite.compress.report import STAGES, LayerSizes

DEFAULT_METHOD = "PM+"
INTERVAL_METHOD = "split-conformal-oof"   # nnlite.conformal on the training lines' out-of-fold residuals
# What ``train`` adds to a method's own settings. PM+: compress harder when the training rows allow it --
# (keep scale, bits) settings, most compressive first; the first whose compressed committee's out-of-fold MSE
# is within 1 % of the uncompressed committee's is kept, else the last (ccle.methods.estimators.PerDrugModel),
# with 30 epochs of retraining after pruning and of centroid fine-tuning (5 left the compressed committee 5 %
# worse on test rows at 48x; 30 recover most of it). On the real CCLE data, 24 drugs x 5 splits
# (benchmarks/deploy_compression.py; docs/deployment.rst): 36-48x against dense float32, test MSE +0.9 %
# pooled over the uncompressed committee; a third setting (20, 4) as the fallback gave 30x.
DEPLOY_OPTIONS = {"PM+": {"compress_grid": ((10, 4), (15, 4)), "compress_tolerance": 0.01, "retrain_epochs": 30}}


@dataclass
class TrainedModel:
    """What :func:`train_drug_model` returns: the fitted ``estimator``, the file ``metadata``, the training
    matrix ``X`` (cells x all kept genes, after the expression transform), its ``genes`` and ``cell_lines``,
    the observed ``y``, the ``transform``, the file's ``content`` (:class:`ccle.deploy.content.Content`), and
    ``path`` / ``n_bytes`` of the written file (None when not written)."""
    estimator: object
    metadata: dict
    X: np.ndarray
    y: np.ndarray
    genes: list
    cell_lines: list
    transform: ExpressionTransform = None
    content: object = None
    path: Path = None
    n_bytes: int = None


def network_sizes(encoded):
    """Bytes per compression stage (dense float32, pruned, quantized, Huffman) of each Dense layer, from the
    network's :func:`nnlite.compress.fileformat.encode_network`."""
    layers = [LayerSizes.from_encoded(i, enc) for i, enc in enumerate(encoded)]
    return {"layers": [{"shape": list(s.shape), "n_nonzero": s.n_nonzero, "n_clusters": s.n_clusters,
                        "index_bits": s.index_bits, **{st: getattr(s, st) for st in STAGES}} for s in layers],
            "totals": {st: int(sum(getattr(s, st) for s in layers)) for st in STAGES}}


def _f32_list(values):
    return [float(v) for v in np.asarray(values, dtype=np.float32)]


def _estimator_facts(est):
    """The fitted settings a reader of the file may ask about, when the estimator has them."""
    facts = {}
    for name in ("l2_", "n_epochs_", "widths_", "C_"):
        if hasattr(est, name):
            facts[name.rstrip("_")] = getattr(est, name)
    if hasattr(est, "cv_mse_"):
        facts["cv_mse"] = {str(k): v for k, v in est.cv_mse_.items()}
    if hasattr(est, "networks_"):
        facts["n_networks"] = len(est.networks_)
    return jsonable(facts)


def train_drug_model(expression, drug_table, drug, *, method=DEFAULT_METHOD, seed=0, path=None, widths=None,
                     n_features=1000, options=None, source=None, log2=None, search=False, search_options=None):
    """Fit method ``method`` (a registered per-drug method, :mod:`ccle.methods.registry`) for ``drug`` on all
    its cell lines and, with ``path``, write the ``.nnz`` file (module docstring).

    ``expression``: :class:`ccle.data.expression.ExpressionMatrix` (raw values); ``drug_table``:
    :class:`ccle.data.drugs.DrugTable`; ``widths``: hidden widths of a method with ``uses_widths`` (default: the
    method's own); ``n_features``: genes kept by RFE (methods with ``uses_rfe``) or drawn (the simple ANN);
    ``options``: extra keyword arguments of the method's estimator, over :data:`DEPLOY_OPTIONS`; ``log2``: the
    file's log2 decision (default: :func:`ccle.methods.preprocess.decide_log2` on the whole matrix);
    ``search``: the widths come from the paper's greedy search (:meth:`ccle.methods.paper_model.PaperModel.search`
    with ``search_options``, on an inner 70/30 split of the rows; methods that are ``searchable``).
    Returns a :class:`TrainedModel`.
    """
    s = spec(method)
    if s.cross_drug or s.needs_tissues:
        needs = "every drug at once (train --multitask)" if s.cross_drug else "the tissue of each cell line"
        raise CCLEError(f"train --method {method}: the method needs {needs}; a per-drug model file holds a "
                        f"method that predicts from expression alone")
    if search and widths is not None:
        raise CCLEError("give either --widths or --search, not both")
    if search and not s.searchable:
        raise CCLEError(f"--search chooses the widths of a searchable method; {method} is not one")
    if widths is not None and not s.uses_widths:
        raise CCLEError(f"--widths sets hidden widths; {method} has none")
    log2 = decide_log2(expression.values) if log2 is None else bool(log2)
    ds = drug_dataset(expression, drug_table, drug)
    transform = ExpressionTransform.fit(ds.X, ds.genes, log2)
    X = transform.apply(ds.X, ds.genes)
    opts = {**DEPLOY_OPTIONS.get(method, {}), **(options or {})}
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
        est = make_method(method, widths=widths, n_features=int(n_features), seed=int(seed),
                          options={method: opts})
        est.fit(X, ds.y)
    except ValueError as exc:
        raise CCLEError(f"cannot train the {drug} model ({method}) on {X.shape[0]} cell lines: {exc}") from None
    fit_seconds = time.perf_counter() - t0
    content = file_content(est, X, ds.y, seed=int(seed), method=method)
    metadata = file_metadata(est, content, transform, ds, drug_table, method)
    metadata["training"] = {
        "n_cell_lines": int(X.shape[0]), "n_genes_input": int(X.shape[1]), "n_genes_selected": len(content.columns),
        "seed": int(seed), "widths": list(widths) if widths is not None else None, "options": jsonable(opts),
        "search": search_info, **_estimator_facts(est), "fit": jsonable(content.details),
        "fit_seconds": fit_seconds, "source": source or str(getattr(expression, "source", "")),
        "dropped": {k: len(v) for k, v in ds.dropped.items()},
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "versions": versions()}
    trained = TrainedModel(est, metadata, X, np.asarray(ds.y), list(transform.genes), list(ds.cell_lines),
                           transform, content)
    if path is not None:
        trained.path = Path(path)
        trained.n_bytes = write_model(content.networks, metadata, path, encoded=content.encoded or None)
    return trained


def file_metadata(est, content, transform, ds, drug_table, method):
    """The metadata of the model file of the fitted ``est`` (module docstring; ``training`` added by the
    caller): ``content`` its :class:`~ccle.deploy.content.Content`, ``ds`` the drug's data set."""
    cols = np.asarray(content.columns, dtype=np.intp)
    genes = [transform.genes[j] for j in cols]
    X_cols = transform.apply(ds.X, ds.genes)[:, cols]
    response = getattr(drug_table, "response", "ActArea")
    y = np.asarray(ds.y, dtype=np.float64)
    oof = np.asarray(getattr(est, "oof_predictions_", np.full(y.shape, np.nan)), dtype=np.float64)
    held = np.isfinite(oof)
    if not held.any():
        raise CCLEError(f"method {method}: its estimator has no out-of-fold prediction (oof_predictions_), "
                        f"which the calibrated call rule needs")
    paper, calibrated = fit_call_rules(y, oof[held], response)
    meta = {
        "kind": KIND, "version": VERSION, "method": method, "model_kind": content.kind, "drug": ds.drug,
        "response": response, "genes": genes,
        "expression_transform": transform.to_dict(),
        "scaler": {"clip": True, "data_min": _f32_list(X_cols.min(axis=0)) if cols.size else [],
                   "data_max": _f32_list(X_cols.max(axis=0)) if cols.size else []},
        "target": {"mean": float(content.target_mean), "scale": float(content.target_scale)},
        "thresholds": paper.to_dict(),
        "calibrated_thresholds": calibrated.to_dict(),
        "direction": paper.direction,
        "training_cell_lines": [str(c) for c in ds.cell_lines],
        "oof_predictions": _f32_list(np.sort(oof[held])),
        # prediction intervals (split conformal on these residuals) and the input domain of the model's genes
        "intervals": {"method": INTERVAL_METHOD, "abs_residuals": _f32_list(np.sort(np.abs(y[held] - oof[held])))},
        **({"domain": DomainProfile().fit(X_cols, raw=ds.X).to_dict()} if cols.size else {}),   # none: a constant
    }
    if content.importance is not None:
        meta["importance"] = _f32_list(content.importance)
        meta["importance_method"] = content.importance_method
    if content.model is not None:
        meta["model"] = content.model
    if content.encoded:
        meta["sizes"] = [network_sizes(enc) for enc in content.encoded]
    if getattr(est, "compression_", None) is not None:
        comp = est.compression_
        meta["compression"] = jsonable(comp if isinstance(comp, list) else [comp])
    return meta


def write_model(networks, metadata, path, encoded=None):
    """Write the committee ``networks`` (compressed Sequentials; none for an array model in
    ``metadata["model"]``) and ``metadata`` as one ``.nnz`` file (atomically); ``encoded``: per network its
    ``encode_network`` when the caller has it. Returns the size."""
    data = dumps_committee(networks, metadata, encoded=encoded)
    try:
        return atomic_write(path, data)
    except OSError as exc:
        raise CCLEError(f"{path}: cannot write the model ({exc.strerror or exc})") from None
