"""A model file as an :class:`nnlite.export.ModelDescription`, and its C99 export.

:func:`model_description` turns any per-drug model file (every method, every schema version) into the plain
description :mod:`nnlite.export.c` generates code from:

* preprocessing: the genes in the file's input order, ``log2(x + 1)`` when the file's transform applies it,
  min-max scaling with the training minima and maxima (:meth:`nnlite.export.Preprocessing.minmax`, the
  float32 products of :class:`ccle.methods.preprocess.MinMaxScaler`), clipped to [0, 1]; the training range
  is the domain (share of genes outside it);
* the model: the committee of the file's networks, the dense network of an array model, or its linear model,
  forest or constant (:func:`nnlite.runtime.array_model` read into the description's classes);
* the target's scale, and the calibrated call rule of the file (the paper rule for a version 1 file), oriented
  by the response's direction;
* with out-of-fold residuals in the file (version 3), the split-conformal interval ``response +- q``:
  q = the ceil((m + 1) * level)-th smallest of the m absolute out-of-fold residuals (:func:`conformal_half_width`).

:func:`export_model_c` writes ``DIR/NAME.h``, ``DIR/NAME.c`` and ``DIR/genes.txt``:
``int NAME_predict(const float *expression, float *response, int *call)`` on the raw expression values of the
genes of genes.txt, in that order.
"""
import math

import numpy as np

from ccle.deploy.per_drug import _paper_rule, open_model
from ccle.errors import CCLEError
from ccle.evaluation.thresholds import CalibratedThresholds
from nnlite import runtime
from nnlite.export import Calls, Committee, Constant, Forest, Linear, ModelDescription, Preprocessing
from nnlite.export.c import check_name, export_c

INTERVAL_LEVEL = 0.9


def conformal_half_width(abs_residuals, level=INTERVAL_LEVEL):
    """Split-conformal half-width: the ceil((m + 1) * ``level``)-th smallest of the m absolute out-of-fold
    residuals (the largest when that rank exceeds m) -> float, or None for no residual."""
    r = np.sort(np.asarray(abs_residuals, dtype=np.float64))
    if r.size == 0:
        return None
    rank = min(int(math.ceil((r.size + 1) * float(level))), r.size)
    return float(r[rank - 1])


def _model(meta, networks, n_genes):
    if networks:
        return Committee.from_networks(networks)
    array = runtime.array_model(meta["model"], n_genes)
    kind = meta["model"]["kind"]
    if kind == "dense":
        return Committee.from_networks([array])
    if kind == "linear":
        return Linear(array.coef, array.intercept)
    if kind == "forest":
        return Forest(array.feature, array.threshold, array.left, array.right, array.value, array.n_in)
    return Constant(array.value)


def _calls(meta):
    if "calibrated_thresholds" in meta:
        rule = CalibratedThresholds.from_dict({"direction": meta.get("direction", 1), **meta["calibrated_thresholds"]})
        return Calls(rule.low_, rule.high_, rule.direction, strict=True)
    rule = _paper_rule(meta)
    return Calls(rule.low_, rule.high_, rule.direction, strict=False)


def model_description(path):
    """The :class:`nnlite.export.ModelDescription` of the model file ``path`` (module docstring). A corrupt
    file -> CCLEError naming it."""
    model = open_model(path, runtime_networks=True)
    meta = model.metadata
    genes = list(meta["genes"])
    lo = np.asarray(meta["scaler"]["data_min"], dtype=np.float64)
    hi = np.asarray(meta["scaler"]["data_max"], dtype=np.float64)
    log2p1 = bool(meta["expression_transform"].get("log2p1", False))
    try:
        pre = Preprocessing.minmax(genes, lo, hi, log2p1=log2p1, clip=bool(meta["scaler"].get("clip", True))) \
            if genes else Preprocessing([], [], [], log2p1=log2p1, clip=None)
        half = conformal_half_width((meta.get("intervals") or {}).get("abs_residuals", []))
        info = {"drug": meta["drug"], "response": meta.get("response", "ActArea"),
                "method": meta.get("method", "PM+"), "model file version": meta.get("version", 1)}
        if half is not None:
            info["interval"] = f"split-conformal {int(100 * INTERVAL_LEVEL)} % of |out-of-fold residual|"
        return ModelDescription(pre, _model(meta, model.networks, len(genes)), float(meta["target"]["mean"]),
                                float(meta["target"]["scale"]), calls=_calls(meta),
                                interval=None if half is None else (-half, half), info=info)
    except ValueError as exc:
        raise CCLEError(f"{path}: cannot describe the model for export: {exc}") from None


def export_model_c(path, directory, prefix):
    """Write the C99 export of the model file ``path`` into ``directory`` with symbol prefix ``prefix`` (a C
    identifier) -> the dict of :func:`nnlite.export.c.export_c` (paths and storage ``stats``)."""
    try:
        check_name(prefix)
    except ValueError as exc:
        raise CCLEError(f"--prefix: {exc}") from None
    desc = model_description(path)
    try:
        return export_c(desc, directory, prefix)
    except OSError as exc:
        raise CCLEError(f"{directory}: cannot write the exported model ({exc.strerror or exc})") from None
