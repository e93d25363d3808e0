"""The one schema of a ccle model file's metadata (what ``train`` writes into the ``.nnz`` header), checked in
one place before ``predict`` or ``inspect`` reads a field.

The CRC-32 of a ``.nnz`` file catches damage, not edits: a header rewritten by hand (or by another program)
with a fresh checksum is read as valid bytes. :func:`validate_metadata` therefore checks every field the
readers use, with its type, and the agreements between them (one scaler entry per gene, low <= high), and
refuses the first problem with one :class:`~ccle.errors.CCLEError` line naming the file and the field::

    kind "ccle.drug_model", version 1, 2 or 3
    drug: non-empty string                    response: string (optional, default "ActArea")
    genes: list of distinct non-empty strings (the model's inputs, in order; empty only for a constant model)
    expression_transform: object {log2p1: bool (optional), dropped: list of strings (optional)}
    scaler: object {data_min, data_max: lists of len(genes) finite numbers, clip: bool (optional)}
    target: object {mean: finite number, scale: finite number > 0}
    thresholds: object {low <= high: finite numbers, direction: 1 or -1 (optional)}
    training: object (optional; l2 a number when present)
    sizes: list (optional) of null or {totals: object of numbers with dense, huffman}
    compression: list (optional) of null or objects (val_mse: object of numbers when present)
    ensemble: {combine: one of nnlite.compress._layout.ENSEMBLE_COMBINE, members: list of strings} (optional)
    domain: object (optional) {min, max: len(genes) numbers, quantiles: one list of len(genes) numbers per
            level of nnlite.domain.QUANTILES, raw_scale: object or null}
    intervals: object (optional) {method: string, abs_residuals: non-empty list of finite numbers >= 0}

Files without ``domain`` or ``intervals`` (written before they existed) still predict, without the domain
flags or the intervals.
    version >= 2: calibrated_thresholds {low, high}, training_cell_lines (strings), oof_predictions (numbers)
    version 3: method (non-empty string), model_kind (one of MODEL_KINDS); model (object whose kind is
        model_kind) for every kind but "committee"; importance
        (len(genes) numbers, optional)

The packed ensemble itself is read by :func:`nnlite.compress._layout.committee_members` (shared by the engine
and :mod:`nnlite.runtime`); this schema takes its allowed ``combine`` values from the same definition.
"""
import math

from ccle.errors import CCLEError
from nnlite.compress._layout import ENSEMBLE_COMBINE, ENSEMBLE_KEY
from nnlite.domain import QUANTILES

KIND = "ccle.drug_model"
VERSION = 3                    # written by train: every per-drug method, compact metadata
SUPPORTED_VERSIONS = (1, 2, 3)  # 1: no calibrated rule, training lines or ranked genes; 2: PM+ only (both predict)
# how a version 3 file holds its model: networks in the container, or an array model (nnlite.runtime.array_model)
MODEL_KINDS = ("committee", "dense", "linear", "forest", "constant")


class _Bad(Exception):
    """A schema violation: the field and what is wrong with it."""


def _number(value, field, finite=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"{field} must be a number, got {type(value).__name__} {value!r:.40}")
    if finite and not math.isfinite(value):
        raise _Bad(f"{field} must be finite, got {value!r}")
    return float(value)


def _object(meta, field, required=True):
    if field not in meta:
        if required:
            raise _Bad(f"{field} is missing")
        return None
    value = meta[field]
    if not isinstance(value, dict):
        raise _Bad(f"{field} must be an object, got {type(value).__name__}")
    return value


def _list(value, field):
    if not isinstance(value, list):
        raise _Bad(f"{field} must be a list, got {type(value).__name__}")
    return value


def _strings(value, field, nonempty=False):
    items = _list(value, field)
    for i, item in enumerate(items):
        if not isinstance(item, str) or (nonempty and not item):
            raise _Bad(f"{field}[{i}] must be a non-empty string, got {item!r:.40}")
    return items


def _numbers(value, field, n):
    items = _list(value, field)
    if len(items) != n:
        raise _Bad(f"{field} has {len(items)} values for {n} genes")
    for i, item in enumerate(items):
        _number(item, f"{field}[{i}]")
    return items


def _check(meta):
    if not isinstance(meta, dict):
        raise _Bad(f"metadata must be an object, got {type(meta).__name__}")
    if meta.get("kind") != KIND:
        raise _Bad("not a ccle drug model (no gene/scaler metadata)")
    if meta.get("version") not in SUPPORTED_VERSIONS or isinstance(meta.get("version"), bool):
        raise _Bad(f"ccle drug model version {meta.get('version')!r} is not supported (expected one of "
                   f"{', '.join(map(str, SUPPORTED_VERSIONS))})")
    if meta["version"] >= 2:
        lacking = [k for k in ("calibrated_thresholds", "training_cell_lines", "oof_predictions") if k not in meta]
        if lacking:
            raise _Bad(f"version {meta['version']} metadata lacks {', '.join(lacking)}")
        _strings(meta["training_cell_lines"], "training_cell_lines")
        _numbers(meta["oof_predictions"], "oof_predictions", len(meta["oof_predictions"])
                 if isinstance(meta["oof_predictions"], list) else -1)
        calibrated = _object(meta, "calibrated_thresholds")
        for name in ("low", "high"):
            if name not in calibrated:
                raise _Bad(f"calibrated_thresholds.{name} is missing")
            _number(calibrated[name], f"calibrated_thresholds.{name}")
    missing = [k for k in ("drug", "genes", "scaler", "target", "thresholds", "expression_transform")
               if k not in meta]
    if missing:
        raise _Bad(f"metadata lacks {', '.join(missing)}")
    if not isinstance(meta["drug"], str) or not meta["drug"]:
        raise _Bad(f"drug must be a non-empty string, got {meta['drug']!r:.40}")
    if not isinstance(meta.get("response", "ActArea"), str):
        raise _Bad("response must be a string")
    genes = _strings(meta["genes"], "genes", nonempty=True)
    if meta["version"] >= 3:
        _check_v3(meta)
    if not genes and meta.get("model_kind") != "constant":
        raise _Bad("genes is empty")
    if len(set(genes)) != len(genes):
        raise _Bad("genes lists a gene more than once")
    transform = _object(meta, "expression_transform")
    if not isinstance(transform.get("log2p1", False), bool):
        raise _Bad("expression_transform.log2p1 must be true or false")
    _strings(transform.get("dropped", []), "expression_transform.dropped")
    scaler = _object(meta, "scaler")
    for name in ("data_min", "data_max"):
        if name not in scaler:
            raise _Bad(f"scaler.{name} is missing")
        _numbers(scaler[name], f"scaler.{name}", len(genes))
    if not isinstance(scaler.get("clip", True), bool):
        raise _Bad("scaler.clip must be true or false")
    target = _object(meta, "target")
    for name in ("mean", "scale"):
        if name not in target:
            raise _Bad(f"target.{name} is missing")
        _number(target[name], f"target.{name}")
    if target["scale"] <= 0:
        raise _Bad(f"target.scale must be > 0, got {target['scale']!r}")
    thresholds = _object(meta, "thresholds")
    for name in ("low", "high"):
        if name not in thresholds:
            raise _Bad(f"thresholds.{name} is missing")
        _number(thresholds[name], f"thresholds.{name}")
    if thresholds["low"] > thresholds["high"]:
        raise _Bad(f"thresholds.low {thresholds['low']!r} is above thresholds.high {thresholds['high']!r}")
    if thresholds.get("direction", 1) not in (1, -1) or isinstance(thresholds.get("direction", 1), bool):
        raise _Bad(f"thresholds.direction must be 1 or -1, got {thresholds.get('direction')!r}")
    training = _object(meta, "training", required=False)
    if training is not None and "l2" in training:
        _number(training["l2"], "training.l2")
    for i, entry in enumerate(_list(meta.get("sizes") or [], "sizes")):
        if entry is None:
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("totals"), dict):
            raise _Bad(f"sizes[{i}] must be an object with totals")
        for stage in ("dense", "huffman"):
            _number(entry["totals"].get(stage), f"sizes[{i}].totals.{stage}")
        for stage, value in entry["totals"].items():
            _number(value, f"sizes[{i}].totals.{stage}")
    for i, entry in enumerate(_list(meta.get("compression") or [], "compression")):
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise _Bad(f"compression[{i}] must be an object or null")
        val = entry.get("val_mse")
        if val is not None:
            if not isinstance(val, dict):
                raise _Bad(f"compression[{i}].val_mse must be an object")
            for stage, value in val.items():
                _number(value, f"compression[{i}].val_mse.{stage}", finite=False)
    ensemble = _object(meta, ENSEMBLE_KEY, required=False)
    if ensemble is not None:
        if ensemble.get("combine") not in ENSEMBLE_COMBINE:
            raise _Bad(f"{ENSEMBLE_KEY}.combine {ensemble.get('combine')!r} is not one of "
                       f"{', '.join(ENSEMBLE_COMBINE)}")
        _strings(ensemble.get("members"), f"{ENSEMBLE_KEY}.members")


def _check_trust(meta, n_genes):
    domain = _object(meta, "domain", required=False)
    if domain is not None:
        for name in ("min", "max"):
            _numbers(domain.get(name), f"domain.{name}", n_genes)
        levels = _list(domain.get("quantiles"), "domain.quantiles")
        if len(levels) != len(QUANTILES):
            raise _Bad(f"domain.quantiles has {len(levels)} levels, expected {len(QUANTILES)}")
        for i, row in enumerate(levels):
            _numbers(row, f"domain.quantiles[{i}]", n_genes)
        if domain.get("raw_scale") is not None and not isinstance(domain["raw_scale"], dict):
            raise _Bad("domain.raw_scale must be an object or null")
    intervals = _object(meta, "intervals", required=False)
    if intervals is not None:
        if not isinstance(intervals.get("method"), str):
            raise _Bad("intervals.method must be a string")
        residuals = _list(intervals.get("abs_residuals"), "intervals.abs_residuals")
        if not residuals:
            raise _Bad("intervals.abs_residuals is empty")
        for i, value in enumerate(residuals):
            if _number(value, f"intervals.abs_residuals[{i}]") < 0:
                raise _Bad(f"intervals.abs_residuals[{i}] must be >= 0, got {value!r}")
def _check_v3(meta):
    if not isinstance(meta.get("method"), str) or not meta["method"]:
        raise _Bad("method must be a non-empty string")
    kind = meta.get("model_kind")
    if kind not in MODEL_KINDS:
        raise _Bad(f"model_kind {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    if kind != "committee":
        model = _object(meta, "model")
        if model.get("kind") != kind:
            raise _Bad(f"model.kind {model.get('kind')!r} is not the model_kind {kind!r}")
    if "importance" in meta:
        _numbers(meta["importance"], "importance", len(meta["genes"]))


def validate_metadata(meta, path):
    """``meta`` (the header's metadata dict) when it follows the schema of the module text; otherwise one
    CCLEError naming ``path`` and the first field at fault."""
    try:
        _check(meta)
        _check_trust(meta, len(meta["genes"]))
    except _Bad as exc:
        raise CCLEError(f"{path}: bad model metadata: {exc}") from None
    return meta
