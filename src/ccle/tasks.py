"""One benchmark task, (drug, split, method): the data it needs, the one pipeline that fits the method, its record.

- :class:`DrugData` (one drug's rows) and :class:`RunConfig` (everything that decides a result; its
  :meth:`RunConfig.key` is the resume key).
- :func:`fit_pipeline` is the one function that fits a method on a split's training rows: the protocol's
  preprocessing rows (:func:`ccle.model.preprocessing_rows`), the scaling + SVR-RFE (:class:`GeneSelector`),
  the greedy width search (``--search``) and the estimator itself. Work that several tasks share (a split's
  selector, a search) goes through a :class:`TaskCache`, a wrapper that either computes or reads the cache of
  :func:`ccle.store.cached`; a cached selector or search equals a fresh one, so results do not depend on it.
- :func:`run_task` = :func:`fit_pipeline` + prediction of the test rows + the record (the ``results.jsonl``
  fields). It is a pure function of its arguments: the serial loop, the process pool and Dask workers all
  call it (:mod:`ccle.runner`, :mod:`ccle.distributed`). :func:`run_task_with_predictions` is the same and also returns
  the task's rows of ``predictions.csv.gz`` (test rows with their predictions, training rows with their
  out-of-fold predictions); :func:`save_task` writes both, the predictions first.
"""
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ccle.calls import call_classes, call_metrics, fit_call_rules
from ccle.discretize import sensitivity_accuracy
from ccle.evaluate import regression_metrics, split_indices, split_seed
from ccle.gene_selection import GeneSelector
from ccle.genes import IMPORTANCE_METHOD, committee_permutation_importance, enet_genes, importance_genes, rfe_genes
from ccle.model import DEFAULT_WIDTHS, METHODS_USING_RFE, make_method, preprocessing_rows
from ccle.predictions import PredictionsStore
from ccle.predictions import task_rows as prediction_frame
from ccle.preprocess import standardize
from ccle.search import cached_search, greedy_search, network_scorer
from ccle.store import ResultStore, cached

try:  # optional: limits the BLAS of an already imported numpy; without it the environment variables do
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - depends on the installation
    threadpool_limits = None

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
SEARCHED_METHODS = ("PM", "ANN")   # the methods whose widths --search chooses


@dataclass
class DrugData:
    """One drug's rows: ``X`` (n, genes) expression after the label-free transform, ``y`` (n,) responses,
    names of rows and genes."""
    drug: str
    X: np.ndarray
    y: np.ndarray
    cell_lines: list = field(default_factory=list)
    genes: list = field(default_factory=list)


@dataclass
class RunConfig:
    """Everything that decides a task's result (the resume key is derived from it)."""
    protocol: str = "strict"
    seed: int = 0
    search: bool = False
    n_features: int = 1000
    widths: tuple = DEFAULT_WIDTHS
    test_fraction: float = 0.3
    options: dict = field(default_factory=dict)   # per-method constructor overrides (e.g. --quick)
    search_options: dict = field(default_factory=dict)
    data_fingerprint: str = ""
    response: str = "ActArea"   # the response column: its direction decides which end is "sensitive"

    def key(self):
        """Short hash of the settings a result depends on (not of which drugs/methods/how many splits)."""
        d = asdict(self)
        d["widths"] = list(d["widths"])
        if d["response"] == "ActArea":
            del d["response"]  # keys of ActArea runs stay those of the runs made before the field existed
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

        state, _ = cached(self.cache_dir, f"selector_{self.prefix}_{name}", fit_and_encode)
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

    Returns ``(estimator, fields)``: the fitted estimator and its record fields (``fit_seconds``,
    ``selector_seconds``, ``search_seconds``, ``train_seconds``; ``widths`` for the network methods;
    ``n_features``, ``n_epochs`` and the compression sizes for PM).
    """
    cache = TaskCache(None, cfg) if cache is None else cache
    train_idx, _ = split_indices(len(ds.y), ds.drug, split, cfg.seed, cfg.test_fraction)
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
    if cfg.search and method in SEARCHED_METHODS:
        sel = selector if selector is not None else cache.selector(tag, fit_selector)

        def search():
            ys, _, _ = standardize(ds.y[prep_rows])
            score = network_scorer(sel.transform(ds.X[prep_rows]), ys, seed=cfg.seed,
                                   **cfg.search_options.get("scorer", {}))
            return greedy_search(score, **cfg.search_options.get("greedy", {}))

        widths, search_seconds = cache.search(tag, search)

    est = make_method(method, widths=widths, n_features=cfg.n_features, seed=seed, selector=selector,
                      options=cfg.options)
    t0 = time.perf_counter()
    est.fit(ds.X[train_idx], ds.y[train_idx])
    fit_seconds = time.perf_counter() - t0
    fields = {"fit_seconds": fit_seconds, "selector_seconds": selector_seconds, "search_seconds": search_seconds,
              "train_seconds": fit_seconds + (selector_seconds if method in METHODS_USING_RFE else 0.0)}
    if method in SEARCHED_METHODS:
        fields["widths"] = [int(w) for w in widths]
    if method == "PM":
        fields.update(_pm_fields(est))
    return est, fields


def _pm_fields(est):
    """PM's record fields: genes kept, epochs per committee network, mean compressed / dense sizes."""
    fields = {"n_features": int(est.selector_.n_features_), "n_epochs": [int(e) for e in est.n_epochs_]}
    reps = [r for r in est.compression_ if r]
    if reps:
        fields["compressed_bytes"] = float(np.mean([r["file_bytes"] or r["huffman_bytes"] for r in reps]))
        fields["dense_bytes"] = float(np.mean([r["dense_bytes"] for r in reps]))
        fields["compression_ratio"] = fields["dense_bytes"] / max(fields["compressed_bytes"], 1.0)
        fields["compression_val_mse"] = reps[0]["val_mse"]
    return fields


def run_task(ds, split, method, cfg, cache_dir=None):
    """Fit ``method`` on the training rows of ``split`` of drug ``ds`` (:func:`fit_pipeline`) and score it on
    the test rows. Returns the result record (a JSON-serializable dict)."""
    return run_task_with_predictions(ds, split, method, cfg, cache_dir)[0]


def run_task_with_predictions(ds, split, method, cfg, cache_dir=None):
    """:func:`run_task` that also returns the task's ``predictions.csv.gz`` rows -> ``(record, rows)``.

    Record fields beyond the regression metrics: the sensitivity calls of :func:`ccle.calls.call_metrics`
    (paper rule, calibrated rule fitted on the estimator's ``oof_predictions_``, rule-free AUROCs; oriented by
    :func:`ccle.discretize.sensitive_direction` of ``cfg.response``) and the gene lists of
    :func:`gene_fields`. Rows (:func:`ccle.predictions.task_rows`): every test row with its prediction, every
    training row with its out-of-fold prediction (empty, classes -1, where the method has none)."""
    est, fields = fit_pipeline(ds, split, method, cfg, TaskCache(cache_dir, cfg))
    train_idx, test_idx = split_indices(len(ds.y), ds.drug, split, cfg.seed, cfg.test_fraction)
    t0 = time.perf_counter()
    pred = np.asarray(est.predict(ds.X[test_idx]), dtype=np.float64)
    predict_seconds = time.perf_counter() - t0
    y_test, y_train = ds.y[test_idx], ds.y[train_idx]
    rec = {"drug": ds.drug, "split": int(split), "method": method, "protocol": cfg.protocol,
           "seed": int(cfg.seed), "config_key": cfg.key(), "n_train": int(train_idx.size),
           "n_test": int(test_idx.size)}
    for name in ("fit_seconds", "selector_seconds", "search_seconds", "train_seconds"):
        rec[name] = fields.pop(name)
    rec["predict_seconds"] = predict_seconds
    rec.update(regression_metrics(y_test, pred))
    oof = getattr(est, "oof_predictions_", None)
    oof = np.full(train_idx.size, np.nan) if oof is None else np.asarray(oof, dtype=np.float64).ravel()
    if np.isfinite(oof).any():
        rec.update(call_metrics(y_test, pred, y_train, oof[np.isfinite(oof)], cfg.response))
    else:  # a method without out-of-fold predictions gets the paper rule only
        est_thresholds = fit_call_rules(y_train, y_train, cfg.response)[0]
        rec["sens_acc"] = float(sensitivity_accuracy(y_test, pred, est_thresholds))
    rec.update(fields)
    rec.update(gene_fields(est, method, ds, train_idx, seed=split_seed(cfg.seed, ds.drug, split) % (2 ** 31)))
    return rec, prediction_rows(ds, split, method, train_idx, test_idx, pred, oof, cfg.response)


def prediction_rows(ds, split, method, train_idx, test_idx, pred_test, oof_train, response):
    """The ``predictions.csv.gz`` rows of one task (DataFrame): training rows (observed, out-of-fold
    prediction or NaN) then test rows (observed, prediction), with class codes of both rules (-1 where a
    training row has no out-of-fold prediction)."""
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
    return prediction_frame(ds.drug, split, method, cells[rows], sets, observed, predicted, classes)


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
    if method == "PM" and hasattr(est, "folds_"):
        Z = est.selector_.transform(ds.X[train_idx])
        ys = (ds.y[train_idx] - est.y_mean_) / est.y_scale_
        imp = committee_permutation_importance(est.networks_, Z, ys, est.folds_, seed=seed)
        return {"genes_importance": importance_genes(genes[est.selector_.support_], imp),
                "importance_method": IMPORTANCE_METHOD}
    return {}


def save_task(out_dir, record, rows):
    """Append a task's predictions rows (None: a task without any), then its record (so a record in
    ``results.jsonl`` always has its rows; a crash between the two leaves rows that the rerun writes again and
    the last copy wins)."""
    if rows is not None and len(rows):
        PredictionsStore(out_dir).append(rows)
    ResultStore(out_dir).append(record)
