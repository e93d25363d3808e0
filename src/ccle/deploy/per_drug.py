"""Read a per-drug model file and predict from it.

The files are written by :func:`ccle.deploy.training.train_drug_model` (any per-drug method; its module text
gives the version 3 layout); :func:`open_model` parses and checks one (:mod:`ccle.deploy.schema`), and
:func:`predict_file` goes from a raw expression file to responses and classes. Version 2 files (PM+ only, the
scaler with its scale and offset, ``genes_ranked``) and version 1 files (no calibrated rule, training lines or
out-of-fold predictions: the paper-rule class only, oriented by the response's direction, with the calibrated
class, the percentile and the training-set flag empty and a note saying why) still predict as they did.

``predict_file`` replays the transform by gene name, scales with the training scaler and evaluates the file's
model (:func:`ccle.deploy.content.raw_output`: for networks the committee mean,
:func:`ccle.methods.estimators.committee_mean`, the function ``PerDrugModel.predict`` uses), so a committee file
reproduces the in-memory model bit for bit (with the default Numba engine; with ``runtime=True`` the numpy-only
:mod:`nnlite.runtime` predicts, equal to float32 rounding). The file is parsed and CRC-checked once.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccle.deploy.common import as_expression as _as_expression
from ccle.deploy.common import short_list
from ccle.deploy.content import raw_output
from ccle.deploy.schema import validate_metadata
from ccle.errors import CCLEError
from ccle.evaluation.calls import CalibratedThresholds, prediction_percentile
from ccle.evaluation.thresholds import IQRThresholds, sensitive_direction
from ccle.files import read_bytes
from ccle.methods.preprocess import ExpressionTransform, MinMaxScaler
from nnlite import runtime
from nnlite.compress.fileformat import ENSEMBLE_KEY, loads_committee
from nnlite.domain import looks_transposed
from nnlite.runtime import DEFAULT_LEVEL, MAX_MISSING_SHARE, trust_columns

V1_NOTE = ("model file version 1 has no calibrated thresholds, training cell lines or out-of-fold predictions: "
           "class_calibrated, percentile and in_training_set are empty (retrain to get them)")


@dataclass
class ModelFile:
    """A parsed, checked model file: ``metadata``, ``header`` of the container, the committee ``networks``
    (Sequentials, or :class:`nnlite.runtime.Network` with ``runtime=True``; empty for an array model), the raw
    ``data``."""
    metadata: dict
    header: dict
    networks: list
    data: bytes


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
    share = len(missing) / max(len(genes), 1)
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
    Z = np.asarray(scaler.transform(X), dtype=np.float32) if genes else np.zeros((X.shape[0], 0), np.float32)
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
    if model.networks and Z.shape[1] != model.networks[0].n_in:
        raise CCLEError(f"{model_path}: the model lists {Z.shape[1]} genes but its network takes "
                        f"{model.networks[0].n_in}")
    pred = raw_output(meta, model.networks, Z) * float(meta["target"]["scale"]) + float(meta["target"]["mean"])
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
