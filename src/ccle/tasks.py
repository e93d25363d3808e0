"""One benchmark task, (drug, split, method): the data it needs, the one pipeline that fits the method, its record.
Long on purpose: a task's whole path (rows, pipeline, record, predictions rows, gene fields) in one place,
so a reader follows one result from its inputs to its line in results.jsonl.

- :class:`DrugData` (one drug's rows) and :class:`RunConfig` (everything that decides a result; its
  :meth:`RunConfig.key` is the resume key).
- :func:`fit_pipeline` is the one function that fits a method on a split's training rows: the protocol's
  preprocessing rows (:func:`ccle.model.preprocessing_rows`), the scaling + SVR-RFE (:class:`GeneSelector`),
  the paper's width search (PM always unless ``--widths``; PM+ and ANN with ``--search``), the estimator
  itself and the IQR thresholds of the sensitivity calls (on the same protocol rows). Work that several tasks share (a split's
  selector, a search) goes through a :class:`TaskCache`, a wrapper that either computes or reads the cache of
  :func:`ccle.store.cached`; a cached selector or search equals a fresh one, so results do not depend on it.
- :func:`run_task` = the permutation control (:func:`task_dataset`, ``--null``) + :func:`fit_pipeline` +
  prediction of the test rows + the record (the ``results.jsonl`` fields). It is a pure function of its
  arguments: the serial loop, the process pool and Dask workers all call it (:mod:`ccle.runner`,
  :mod:`ccle.distributed`). :func:`run_task_with_predictions` is the same and also returns
  the task's rows of ``predictions.csv.gz`` (test rows with their predictions, training rows with their
  out-of-fold predictions); :func:`save_task` writes both, the predictions first.
- :func:`task_rows` is the one place that turns (drug, split, ``cfg.split_scheme``) into training and test rows:
  the per-drug Monte Carlo split under "pairs", the run's shared held-out cell lines (``DrugData.held_out``,
  from :func:`ccle.splits.held_out_sets`) under "cell-lines" / "tissues", so every method of a run uses the
  same rows.
- :func:`run_multitask_task` is the task of a cross-drug method (MT): one fit per split on every drug's
  training lines, one record per drug (the same fields as :func:`run_task`'s, the calibrated calls included);
  :func:`run_multitask_task_with_predictions` also returns every drug's ``predictions.csv.gz`` rows, built
  by the same :func:`prediction_rows`.
"""
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ccle.audit import permuted_responses
from ccle.calls import call_classes, call_metrics, fit_call_rules
from ccle.discretize import IQRThresholds, sensitivity_accuracy
from ccle.evaluate import regression_metrics, split_indices, split_seed
from ccle.evaluation.intervals import DEFAULT_LEVEL, confident, interval_fields, task_intervals
from ccle.gene_selection import GeneSelector
from ccle.genes import IMPORTANCE_METHOD, committee_permutation_importance, enet_genes, importance_genes, rfe_genes
from ccle.model import (DEFAULT_WIDTHS, METHODS_USING_RFE, METHODS_WITH_WIDTHS, TISSUE_METHODS, make_method,
                        preprocessing_rows)
from ccle.multitask import drug_oof_predictions, fit_predict_split
from ccle.paper_model import PaperModel
from ccle.predictions import PredictionsStore
from ccle.predictions import task_rows as prediction_frame
from ccle.preprocess import standardize
from ccle.search import cached_search
from ccle.splits import drug_rows, tissues_of
from ccle.store import ResultStore, cached
from ccle.warmup import warm_up

try:  # optional: limits the BLAS of an already imported numpy; without it the environment variables do
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - depends on the installation
    threadpool_limits = None

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
SEARCHED_METHODS = ("PM+", "ANN")   # the methods whose widths --search chooses (PM searches by default)
ALL_DRUGS = "<all drugs>"   # the drug of a cross-drug (MT) task: angle brackets never occur in a drug name


@dataclass
class DrugData:
    """One drug's rows: ``X`` (n, genes) expression after the label-free transform, ``y`` (n,) responses,
    names of rows and genes."""
    drug: str
    X: np.ndarray
    y: np.ndarray
    cell_lines: list = field(default_factory=list)
    genes: list = field(default_factory=list)
    # one tissue per row (ccle.splits.tissues_of), for the "tissue" method
    tissues: list = field(default_factory=list)
    # per split, the run's held-out cell-line keys (ccle.splits.held_out_sets); empty under "pairs"
    held_out: list = field(default_factory=list)


@dataclass
class RunConfig:
    """Everything that decides a task's result (the resume key is derived from it)."""
    protocol: str = "strict"
    seed: int = 0
    search: bool = False
    n_features: int = 1000
    widths: tuple = DEFAULT_WIDTHS   # PM+ and ANN; PM too when fixed_widths (--widths)
    test_fraction: float = 0.3
    options: dict = field(default_factory=dict)   # per-method constructor overrides (e.g. --quick)
    search_options: dict = field(default_factory=dict)
    data_fingerprint: str = ""
    split_scheme: str = "pairs"      # "pairs" | "cell-lines" | "tissues" (ccle.splits.SCHEMES)
    split_fingerprint: str = ""      # hash of the held-out sets (they depend on the tissues given)
    response: str = "ActArea"   # the response column: its direction decides which end is "sensitive"
    null: bool = False          # --null: responses permuted within each drug before anything is fitted
    fixed_widths: bool = False  # --widths: ``widths`` fixes PM's architecture too (no search)
    interval_level: float = DEFAULT_LEVEL   # --interval-level: nominal coverage of the prediction intervals

    def key(self):
        """Short hash of the settings a result depends on (not of which drugs/methods/how many splits)."""
        d = asdict(self)
        d["widths"] = list(d["widths"])
        if d["split_scheme"] == "pairs" and not d["split_fingerprint"]:
            # the default scheme leaves the key of every earlier run (and its resume) unchanged
            del d["split_scheme"], d["split_fingerprint"]
        if d["response"] == "ActArea":
            del d["response"]  # keys of ActArea runs stay those of the runs made before the field existed
        if d["interval_level"] == DEFAULT_LEVEL:
            del d["interval_level"]  # likewise for the default interval level
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def data_fingerprint(datasets):
    """SHA-256 (first 16 hex digits) over every drug's name, X, y, cell lines and genes, in drug order."""
    h = hashlib.sha256()
    for ds in datasets:
        h.update(ds.drug.encode())
        h.update(np.ascontiguousarray(ds.X, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(ds.y, dtype=np.float64).tobytes())
        h.update("\x00".join(map(str, ds.cell_lines)).encode())
        h.update("\x00".join(map(str, ds.genes)).encode())
    return h.hexdigest()[:16]


def split_fingerprint(held_out):
    """SHA-256 (first 16 hex digits) of a run's held-out sets (list of sets of cell-line keys); "" for None."""
    if not held_out:
        return ""
    blob = json.dumps([sorted(h) for h in held_out]).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def task_rows(ds, split, cfg):
    """``(train_idx, test_idx)`` of drug ``ds`` in split ``split`` under ``cfg.split_scheme`` (see the module
    docstring); too few rows on either side -> :class:`ccle.errors.CCLEError`."""
    if cfg.split_scheme == "pairs":
        return split_indices(len(ds.y), ds.drug, split, cfg.seed, cfg.test_fraction)
    if split >= len(ds.held_out):
        raise ValueError(f"drug {ds.drug!r}: no held-out set for split {split} under --split {cfg.split_scheme}")
    return drug_rows(ds.cell_lines, ds.held_out[split], drug=ds.drug)


def _row_kw(ds, method, rows):
    """The per-row keywords of a method's fit/predict (the tissues of ``rows`` for the tissue baseline)."""
    if method in TISSUE_METHODS:
        # DrugData built without tissues (by hand, or before tissues existed): the CCLE name's suffix
        tissues = ds.tissues if len(ds.tissues) == len(ds.y) else tissues_of(ds.cell_lines)
        return {"tissues": [tissues[i] for i in rows]}
    return {}


def limit_threads(env=False):
    """Limit BLAS/OpenMP to one thread in this process: threadpoolctl for a numpy already imported, when that
    package exists (returns its limiter, else None); with ``env=True`` also set the thread variables of the
    environment, which is what a process that has not imported numpy yet (a spawned worker) obeys."""
    if env:
        for name in THREAD_ENV:
            os.environ[name] = "1"
    return None if threadpool_limits is None else threadpool_limits(limits=1)


class TaskCache:
    """The cache wrapper of :func:`fit_pipeline`: ``cache_dir`` None computes everything; otherwise a split's
    selector and search result are read from, or stored in, ``cache_dir`` (JSON, locked)."""

    def __init__(self, cache_dir, cfg):
        self.cache_dir = cache_dir
        self.prefix = cfg.key()

    def selector(self, name, compute):
        """A fitted :class:`GeneSelector` (``compute() -> GeneSelector``)."""
        if self.cache_dir is None:
            return compute()
        fresh = []

        def fit_and_encode():
            fresh.append(compute())
            return fresh[0].to_dict()

        state, _ = cached(self.cache_dir, f"selector_{self.prefix}_{name}", fit_and_encode,
                          check=GeneSelector.from_dict)
        return fresh[0] if fresh else GeneSelector.from_dict(state)

    def search(self, name, compute):
        """``(widths, seconds)`` of the greedy search (``compute() -> (widths, history)``)."""
        if self.cache_dir is None:
            t0 = time.perf_counter()
            widths, _ = compute()
            return tuple(widths), time.perf_counter() - t0
        entry = cached_search(self.cache_dir, f"{self.prefix}_{name}", compute)
        return tuple(entry["widths"]), float(entry["seconds"])


def fit_pipeline(ds, split, method, cfg, cache=None):
    """Fit ``method`` on the training rows of split ``split`` of ``ds`` under ``cfg``: gene selection, width
    search and the estimator (seeded by the split's seed). Under the "strict" protocol nothing sees a row
    outside the training rows; under "paper" the scaling + RFE are fitted on all rows of the drug.
    ``cache``: a :class:`TaskCache` (default: compute everything).

    Under "paper" the width search of PM (and of PM+ / ANN with ``--search``) runs once on all rows of the
    drug, and the IQR thresholds (``estimator.thresholds_``) are those of all rows' responses.

    Returns ``(estimator, fields)``: the fitted estimator and its record fields (``fit_seconds``,
    ``selector_seconds``, ``search_seconds``, ``train_seconds`` (PM: its search included); ``widths`` for the
    network methods; ``n_features``, ``n_epochs`` and the compression sizes for PM and PM+).
    """
    cache = TaskCache(None, cfg) if cache is None else cache
    train_idx, _ = task_rows(ds, split, cfg)
    seed = split_seed(cfg.seed, ds.drug, split) % (2 ** 31)
    prep_rows = preprocessing_rows(cfg.protocol, len(ds.y), train_idx)
    tag = f"{ds.drug}_split{split}" if cfg.protocol == "strict" else f"{ds.drug}_allrows"

    def fit_selector():
        return GeneSelector(n_features=cfg.n_features, seed=cfg.seed).fit(ds.X[prep_rows], ds.y[prep_rows])

    # PM and SVR use the split's scaling + RFE; under the paper protocol every method gets the all-rows one.
    selector, selector_seconds = None, 0.0
    if method in METHODS_USING_RFE or cfg.protocol == "paper":
        selector = cache.selector(tag, fit_selector)
        selector_seconds = float(selector.fit_seconds_)

    widths, search_seconds = tuple(cfg.widths), 0.0
    pm_searches = method == "PM" and not cfg.fixed_widths
    if pm_searches and cfg.protocol == "strict":
        widths = None   # PaperModel searches inside fit, on an inner split of the training rows
    elif pm_searches or (cfg.search and method in SEARCHED_METHODS):
        sel = selector if selector is not None else cache.selector(tag, fit_selector)

        def search():
            result = PaperModel(n_features=cfg.n_features, seed=cfg.seed, selector=sel,
                                **cfg.options.get("PM", {})).search(ds.X[prep_rows], ds.y[prep_rows])
            return result.widths, result.history

        widths, search_seconds = cache.search(f"paper_{tag}", search)

    est = make_method(method, widths=widths, n_features=cfg.n_features, seed=seed, selector=selector,
                      options=cfg.options)
    t0 = time.perf_counter()
    est.fit(ds.X[train_idx], ds.y[train_idx], **_row_kw(ds, method, train_idx))
    fit_seconds = time.perf_counter() - t0
    est.thresholds_ = IQRThresholds().fit(ds.y[prep_rows])
    fields = {"fit_seconds": fit_seconds, "selector_seconds": selector_seconds, "search_seconds": search_seconds,
              "train_seconds": fit_seconds + (selector_seconds if method in METHODS_USING_RFE else 0.0)}
    if method in METHODS_WITH_WIDTHS:
        fields["widths"] = [int(w) for w in (est.widths_ if method == "PM" else widths)]
    if method == "PM":
        fields.update(est.record_fields())
        # strict: the search ran inside fit (already in fit_seconds); paper: it ran on all rows before the splits
        fields["search_seconds"] = float(est.search_seconds_) + search_seconds
        fields["train_seconds"] += search_seconds
    elif method == "PM+":
        fields.update(_pm_fields(est))
    return est, fields


def _pm_fields(est):
    """PM+'s record fields: genes kept, epochs per committee network, mean compressed / dense sizes."""
    fields = {"n_features": int(est.selector_.n_features_), "n_epochs": [int(e) for e in est.n_epochs_]}
    reps = [r for r in est.compression_ if r]
    if reps:
        fields["compressed_bytes"] = float(np.mean([r["file_bytes"] or r["huffman_bytes"] for r in reps]))
        fields["dense_bytes"] = float(np.mean([r["dense_bytes"] for r in reps]))
        fields["compression_ratio"] = fields["dense_bytes"] / max(fields["compressed_bytes"], 1.0)
        fields["compression_val_mse"] = reps[0]["val_mse"]
    return fields


def task_dataset(ds, cfg):
    """The drug's data a task fits and scores: ``ds`` itself, or with ``cfg.null`` a copy whose responses are
    permuted within the drug (:func:`ccle.audit.permuted_responses`: the same permutation for every method,
    split and protocol of a run seed)."""
    if not cfg.null:
        return ds
    return DrugData(drug=ds.drug, X=ds.X, y=permuted_responses(ds.y, ds.drug, cfg.seed),
                    cell_lines=list(ds.cell_lines), genes=list(ds.genes))


def run_task(ds, split, method, cfg, cache_dir=None):
    """Fit ``method`` on the training rows of ``split`` of drug ``ds`` (:func:`fit_pipeline`) and score it on
    the test rows (with ``cfg.null`` on the permuted responses, :func:`task_dataset`). Returns the result
    record (a JSON-serializable dict)."""
    return run_task_with_predictions(ds, split, method, cfg, cache_dir)[0]


def run_task_with_predictions(ds, split, method, cfg, cache_dir=None):
    """:func:`run_task` that also returns the task's ``predictions.csv.gz`` rows -> ``(record, rows)``.

    Record fields beyond the regression metrics: the sensitivity calls of :func:`ccle.calls.call_metrics`
    (paper rule, calibrated rule fitted on the estimator's ``oof_predictions_``, rule-free AUROCs; oriented by
    :func:`ccle.discretize.sensitive_direction` of ``cfg.response``; under the paper protocol the paper rule's
    IQR thresholds come from all rows of the drug) and the gene lists of :func:`gene_fields`. Rows
    (:func:`ccle.predictions.task_rows`): every test row with its prediction, every training row with its
    out-of-fold prediction (empty, classes -1, where the method has none). With ``cfg.null`` everything runs
    on the permuted responses (:func:`task_dataset`).

    The method's kernels are compiled (or loaded from Numba's cache) first, outside every clock
    (:func:`ccle.warmup.warm_up`, once per process): ``warmup_seconds`` is that time, 0 after the first task."""
    warmup_seconds = warm_up(method, ds.X, cfg.options)
    ds = task_dataset(ds, cfg)
    est, fields = fit_pipeline(ds, split, method, cfg, TaskCache(cache_dir, cfg))
    train_idx, test_idx = task_rows(ds, split, cfg)
    t0 = time.perf_counter()
    pred = np.asarray(est.predict(ds.X[test_idx], **_row_kw(ds, method, test_idx)), dtype=np.float64)
    predict_seconds = time.perf_counter() - t0
    y_test, y_train = ds.y[test_idx], ds.y[train_idx]
    y_rules = ds.y[preprocessing_rows(cfg.protocol, len(ds.y), train_idx)]   # paper protocol: all rows
    rec = {"drug": ds.drug, "split": int(split), "method": method, "protocol": cfg.protocol,
           "seed": int(cfg.seed), "config_key": cfg.key(), "n_train": int(train_idx.size),
           "n_test": int(test_idx.size), "null": bool(cfg.null), "split_scheme": cfg.split_scheme}
    for name in ("fit_seconds", "selector_seconds", "search_seconds", "train_seconds"):
        rec[name] = fields.pop(name)
    rec["predict_seconds"] = predict_seconds
    rec["warmup_seconds"] = warmup_seconds
    rec.update(regression_metrics(y_test, pred))
    oof = getattr(est, "oof_predictions_", None)
    oof = np.full(train_idx.size, np.nan) if oof is None else np.asarray(oof, dtype=np.float64).ravel()
    if np.isfinite(oof).any():
        rec.update(call_metrics(y_test, pred, y_rules, oof[np.isfinite(oof)], cfg.response))
    else:  # a method without out-of-fold predictions gets the paper rule only
        est_thresholds = fit_call_rules(y_rules, y_train, cfg.response)[0]
        rec["sens_acc"] = float(sensitivity_accuracy(y_test, pred, est_thresholds))
    lower, upper = task_intervals(y_train, oof, pred, cfg.interval_level)
    rec.update(interval_fields(y_test, pred, lower, upper, fit_call_rules(y_rules, y_rules, cfg.response)[0],
                               cfg.interval_level))
    rec.update(fields)
    if method == "PM":
        rec["test_mse_stages"] = est.test_mse_stages(ds.X[test_idx], y_test)
    rec.update(gene_fields(est, method, ds, train_idx, seed=split_seed(cfg.seed, ds.drug, split) % (2 ** 31)))
    return rec, prediction_rows(ds, split, method, train_idx, test_idx, pred, oof, cfg.response, cfg.interval_level)


def prediction_rows(ds, split, method, train_idx, test_idx, pred_test, oof_train, response, level=DEFAULT_LEVEL):
    """The ``predictions.csv.gz`` rows of one task (DataFrame): training rows (observed, out-of-fold
    prediction or NaN) then test rows (observed, prediction), with class codes of both rules (-1 where a
    training row has no out-of-fold prediction) and the ``level`` prediction interval (``lower``, ``upper``,
    ``call_confident``: :mod:`ccle.evaluation.intervals`; NaN / 0 where a row has no prediction)."""
    y_train, y_test = ds.y[train_idx], ds.y[test_idx]
    finite = np.isfinite(oof_train)
    paper, calibrated = fit_call_rules(y_train, oof_train[finite] if finite.any() else y_train, response)
    observed = np.concatenate([y_train, y_test])
    predicted = np.concatenate([oof_train, pred_test])
    known = np.concatenate([finite, np.ones(test_idx.size, dtype=bool)])
    classes = {k: np.full(observed.size, -1, dtype=np.int64) for k in ("class_paper", "class_calibrated")}
    classes["class_observed"] = paper.codes(observed).astype(np.int64)
    if known.any():
        called = call_classes(observed[known], predicted[known], paper, calibrated)
        classes["class_paper"][known] = called["class_paper"]
        if finite.any():
            classes["class_calibrated"][known] = called["class_calibrated"]
    cells = np.asarray(ds.cell_lines, dtype=object) if len(ds.cell_lines) else np.arange(len(ds.y)).astype(str)
    rows = np.concatenate([train_idx, test_idx])
    sets = ["train"] * train_idx.size + ["test"] * test_idx.size
    lower, upper = task_intervals(y_train, oof_train, predicted, level)
    intervals = {"lower": lower, "upper": upper, "call_confident": confident(lower, upper, paper)}
    return prediction_frame(ds.drug, split, method, cells[rows], sets, observed, predicted, classes, intervals)


def gene_fields(est, method, ds, train_idx, seed=0):
    """The gene lists of a fitted estimator (contracts.md): ``genes_rfe`` for SVR (the RFE-kept genes with the
    final SVR's weights), ``genes_enet`` for EN (non-zero coefficients), ``genes_importance`` and
    ``importance_method`` for PM (top 100 of :func:`ccle.genes.committee_permutation_importance` on the
    training rows' inner folds, standardized units). Other methods: {}."""
    genes = np.asarray(ds.genes if len(ds.genes) else [f"gene{j}" for j in range(ds.X.shape[1])], dtype=object)
    if method == "SVR":
        return {"genes_rfe": rfe_genes(genes, est.selector_.support_, np.ravel(est.model_.coef_))}
    if method == "EN":
        return {"genes_enet": enet_genes(genes, est.model_.coef_)}
    if method in ("PM", "PM+") and hasattr(est, "folds_"):   # the committee (PM+) has folds_
        Z = est.selector_.transform(ds.X[train_idx])
        ys = (ds.y[train_idx] - est.y_mean_) / est.y_scale_
        imp = committee_permutation_importance(est.networks_, Z, ys, est.folds_, seed=seed)
        return {"genes_importance": importance_genes(genes[est.selector_.support_], imp),
                "importance_method": IMPORTANCE_METHOD}
    return {}


def save_task(out_dir, record, rows):
    """Append a task's predictions rows (None: a task without any), then its record or list of records (so a record in
    ``results.jsonl`` always has its rows; a crash between the two leaves rows that the rerun writes again and
    the last copy wins)."""
    if rows is not None and len(rows):
        PredictionsStore(out_dir).append(rows)
    if isinstance(record, dict):
        ResultStore(out_dir).append(record)
    else:  # a cross-drug task's per-drug records: on disk all or none
        ResultStore(out_dir).extend(record)


def run_multitask_task(datasets, split, cfg, method="MT"):
    """The records of :func:`run_multitask_task_with_predictions` (one per drug, in ``datasets`` order)."""
    return run_multitask_task_with_predictions(datasets, split, cfg, method)[0]


def run_multitask_task_with_predictions(datasets, split, cfg, method="MT"):
    """The task ``(ALL_DRUGS, split, "MT")``: fit :class:`ccle.multitask.MultiTaskModel` once on the training
    cell lines of split ``split`` (every line outside the run's held-out set, with all its responses) and score
    each drug on its test rows. Needs a shared split scheme (``cfg.split_scheme`` "cell-lines" / "tissues").
    With ``cfg.null`` every drug's responses are permuted first (:func:`task_dataset`, as for a per-drug task).

    Returns ``(records, rows)``: one record per drug, in ``datasets`` order, with :func:`run_task`'s fields,
    and one DataFrame of every drug's ``predictions.csv.gz`` rows (:func:`prediction_rows` per drug, in the
    same order: one gzip member for the whole task, so a drug's rows are on disk exactly when all are). The
    sensitivity calls are :func:`ccle.calls.call_metrics` on the drug's test rows, the calibrated rule fitted
    on MT's out-of-fold predictions of the drug's training rows (:func:`ccle.multitask.drug_oof_predictions`:
    each line predicted by the fold network that never fitted it), the paper rule on the observed training
    responses (MT sees training lines only under either protocol: it has no all-rows preprocessing).

    The fit is shared: ``fit_seconds`` / ``train_seconds`` / ``predict_seconds`` / ``warmup_seconds`` (the
    kernels compiled or loaded before the clock starts, :func:`ccle.warmup.warm_up`, 0 after the process's
    first MT task) are the drug's share (total / number of drugs, so that summing over drugs gives the run's
    cost), ``multitask_train_seconds`` the whole fit; ``n_features`` the genes kept by MT's filter, ``n_epochs`` per committee network, the compression
    sizes as PM's (bytes of the one network shared by all drugs) and ``multitask_inner_mse`` (out-of-fold,
    standardized units).
    """
    if cfg.split_scheme == "pairs":
        raise ValueError("MT needs a split scheme that holds out cell lines for every drug (cell-lines, tissues)")
    held = datasets[0].held_out[split]
    warmup_seconds = warm_up(method, datasets[0].X, cfg.options)
    datasets = [task_dataset(ds, cfg) for ds in datasets]
    seed = split_seed(cfg.seed, ALL_DRUGS, split) % (2 ** 31)
    model = make_method(method, seed=seed, options=cfg.options)
    model, preds = fit_predict_split(datasets, held, model)
    oofs = drug_oof_predictions(model, datasets, held)
    k = len(datasets)
    share = {"fit_seconds": model.train_seconds_ / k, "selector_seconds": 0.0, "search_seconds": 0.0,
             "train_seconds": model.train_seconds_ / k, "predict_seconds": model.predict_seconds_ / k,
             "warmup_seconds": warmup_seconds / k}
    extra = {"n_features": len(model.genes_), "n_epochs": [int(e) for e in model.n_epochs_],
             "multitask_train_seconds": float(model.train_seconds_),
             "multitask_inner_mse": float(model.inner_mse_)}
    reps = [r for r in model.compression_ if r]
    if reps:
        extra["compressed_bytes"] = float(np.mean([r["huffman_bytes"] for r in reps]))
        extra["dense_bytes"] = float(np.mean([r["dense_bytes"] for r in reps]))
        extra["compression_ratio"] = extra["dense_bytes"] / max(extra["compressed_bytes"], 1.0)
        extra["compression_val_mse"] = reps[0]["val_mse"]
    records, rows = [], []
    for ds in datasets:
        test_idx, pred = preds[ds.drug]
        train_idx, oof = oofs[ds.drug]
        pred = np.asarray(pred, dtype=np.float64)
        y_test, y_train = ds.y[test_idx], ds.y[train_idx]
        rec = {"drug": ds.drug, "split": int(split), "method": method, "protocol": cfg.protocol,
               "seed": int(cfg.seed), "config_key": cfg.key(), "n_train": int(train_idx.size),
               "n_test": int(test_idx.size), "null": bool(cfg.null), "split_scheme": cfg.split_scheme}
        rec.update(share)
        rec.update(regression_metrics(y_test, pred))
        rec.update(call_metrics(y_test, pred, y_train, oof[np.isfinite(oof)], cfg.response))
        lower, upper = task_intervals(y_train, oof, pred, cfg.interval_level)
        rec.update(interval_fields(y_test, pred, lower, upper, fit_call_rules(y_train, y_train, cfg.response)[0],
                                   cfg.interval_level))
        rec.update(extra)
        records.append(rec)
        rows.append(prediction_rows(ds, split, method, train_idx, test_idx, pred, oof, cfg.response,
                                    cfg.interval_level))
    return records, pd.concat(rows, ignore_index=True)
