"""One benchmark task, (drug, split, method): the data it needs, the one pipeline that fits the method, its record.
Long on purpose: a task's whole path (rows, pipeline, record, predictions rows, gene fields) in one place,
so a reader follows one result from its inputs to its line in results.jsonl.

- The data (:class:`ccle.benchmark.datasets.DrugData`) and the configuration
  (:class:`ccle.benchmark.config.RunConfig`, whose ``key()`` is the resume key) live beside this module;
  what a method needs and adds is its :class:`ccle.methods.MethodSpec`.
- :func:`fit_pipeline` is the one function that fits a method on a split's training rows: the protocol's
  preprocessing rows (:func:`ccle.methods.estimators.preprocessing_rows`), the scaling + SVR-RFE (:class:`GeneSelector`),
  the paper's width search (PM always unless ``--widths``; PM+ and ANN with ``--search``), the estimator
  itself and the IQR thresholds of the sensitivity calls (on the same protocol rows). Work that several tasks share (a split's
  selector, a search) goes through a :class:`TaskCache`, a wrapper that either computes or reads the cache of
  :func:`ccle.files.cached`; a cached selector or search equals a fresh one, so results do not depend on it.
- :func:`run_task` = the permutation control (:func:`task_dataset`, ``--null``) + :func:`fit_pipeline` +
  prediction of the test rows + the record (the ``results.jsonl`` fields). It is a pure function of its
  arguments: the serial loop, the process pool and Dask workers all call it (:mod:`ccle.benchmark.runner`,
  :mod:`ccle.benchmark.distributed`). :func:`run_task_with_predictions` is the same and also returns
  the task's rows of ``predictions.csv.gz`` (test rows with their predictions, training rows with their
  out-of-fold predictions); :func:`save_task` writes both, the predictions first.
- :func:`task_rows` is the one place that turns (drug, split, ``cfg.split_scheme``) into training and test rows:
  the per-drug Monte Carlo split under "pairs", the run's shared held-out cell lines (``DrugData.held_out``,
  from :func:`ccle.evaluation.splits.held_out_sets`) under "cell-lines" / "tissues", so every method of a run uses the
  same rows.
- :func:`run_multitask_task` is the task of a cross-drug method (MT): one fit per split on every drug's
  training lines, one record per drug (the same fields as :func:`run_task`'s, the calibrated calls included);
  :func:`run_multitask_task_with_predictions` also returns every drug's ``predictions.csv.gz`` rows, built
  by the same :func:`prediction_rows`.
"""
import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from ccle.benchmark.predictions import PredictionsStore
from ccle.benchmark.predictions import task_rows as prediction_frame
from ccle.benchmark.store import ResultStore
from ccle.benchmark.warmup import warm_up
from ccle.errors import CCLEError
from ccle.evaluation.audit import permuted_responses
from ccle.evaluation.calls import call_classes, call_metrics, fit_call_rules
from ccle.evaluation.intervals import DEFAULT_LEVEL, confident, interval_fields, task_intervals
from ccle.evaluation.metrics import regression_metrics
from ccle.evaluation.splits import preprocessing_rows, split_rows, split_seed, tissues_of
from ccle.evaluation.thresholds import IQRThresholds, sensitivity_accuracy
from ccle.files import cached
from ccle.methods import make_method, spec
from ccle.methods.gene_selection import GeneSelector
from ccle.methods.multitask import drug_oof_predictions, fit_predict_split
from ccle.methods.paper_model import PaperModel
from ccle.methods.preprocess import standardize

try:  # optional: limits the BLAS of an already imported numpy; without it the environment variables do
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - depends on the installation
    threadpool_limits = None

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")
TIMING_FIELDS = ("fit_seconds", "selector_seconds", "search_seconds", "train_seconds")
ALL_DRUGS = "<all drugs>"   # the drug of a cross-drug (MT) task: angle brackets never occur in a drug name


def task_rows(ds, split, cfg):
    """``(train_idx, test_idx)`` of drug ``ds`` in split ``split`` under ``cfg.split_scheme``
    (:func:`ccle.evaluation.splits.split_rows`); too few rows on either side -> :class:`ccle.errors.CCLEError`."""
    return split_rows(cfg.split_scheme, ds.drug, len(ds.y), split, seed=cfg.seed, test_fraction=cfg.test_fraction,
                      cell_lines=ds.cell_lines, held_out=ds.held_out)


def row_keywords(ds, method, rows, members=None, which="train"):
    """The per-row keywords of a method's fit/predict: the tissues of ``rows`` for the tissue baseline; for a
    method built from members (``MethodSpec.members``), ``members(which, rows)`` ({member: (len(rows),)
    predictions}, out-of-fold ones for ``which="train"``)."""
    s = spec(method)
    if s.needs_tissues:
        # DrugData built without tissues (by hand, or before tissues existed): the CCLE name's suffix
        tissues = ds.tissues if len(ds.tissues) == len(ds.y) else tissues_of(ds.cell_lines)
        return {"tissues": [tissues[i] for i in rows]}
    if s.members:
        if members is None:
            raise CCLEError(f"method {method!r} is built from other methods' predictions: run it in a benchmark "
                            f"with its members ({', '.join(s.members)})")
        return {"members": members(which, rows)}
    return {}


def member_predictions(out_dir, ds, split, method, methods=None):
    """``members(which, rows)`` for a method built from members: the predictions its members wrote for drug
    ``ds`` and split ``split`` to ``out_dir``'s predictions.csv.gz, as {member: (len(rows),) floats, NaN where
    a row has none}; ``which`` "train" gives the training rows' out-of-fold predictions, "test" the test rows'.
    Only the members in ``methods`` (the run's methods; default all) with rows are used."""
    s = spec(method)
    wanted = [m for m in s.members if methods is None or m in methods]
    frame = PredictionsStore(out_dir).load()
    frame = frame[(frame["drug"] == ds.drug) & (frame["split"].astype(int) == int(split))
                  & frame["method"].isin(wanted)]
    cells = np.asarray(ds.cell_lines, dtype=object)
    present = [m for m in wanted if (frame["method"] == m).any()]

    def members(which, rows):
        part = frame[frame["set"] == which]
        out = {}
        for m in present:
            by_cell = dict(zip(part.loc[part["method"] == m, "cell_line"].astype(str),
                               pd.to_numeric(part.loc[part["method"] == m, "predicted"], errors="coerce")))
            out[m] = np.array([by_cell.get(str(c), np.nan) for c in cells[rows]], dtype=np.float64)
        return out
    return members


def limit_threads(env=False):
    """Limit BLAS/OpenMP to one thread in this process: threadpoolctl for a numpy already imported, when that
    package exists (returns its limiter, else None); with ``env=True`` also set the thread variables of the
    environment, which is what a process that has not imported numpy yet (a spawned worker) obeys."""
    if env:
        for name in THREAD_ENV:
            os.environ[name] = "1"
    return None if threadpool_limits is None else threadpool_limits(limits=1)


def _check_search_entry(entry):
    """Raise when a stored search entry is not one (a damaged cache file is then recomputed)."""
    if not isinstance(entry, dict) or not entry.get("widths") or min(int(w) for w in entry["widths"]) < 1:
        raise ValueError("not a width-search entry")
    float(entry["seconds"])


def cached_search(cache_dir, key, compute):
    """Return the widths stored under ``key`` in ``cache_dir`` or ``compute() -> (widths, history)`` and store
    them (:func:`ccle.files.cached`: locked, written atomically). Returns ``dict(widths, history, seconds,
    cached)``."""
    def run():
        t0 = time.perf_counter()
        widths, history = compute()
        return {"key": key, "widths": [int(w) for w in widths], "history": history,
                "seconds": time.perf_counter() - t0}

    entry, was_cached = cached(cache_dir, f"search_{key}", run, check=_check_search_entry)
    entry["cached"] = was_cached
    return entry


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


def fit_pipeline(ds, split, method, cfg, cache=None, members=None):
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
    s = spec(method)
    selector, selector_seconds = None, 0.0
    if s.uses_rfe or cfg.protocol == "paper":
        selector = cache.selector(tag, fit_selector)
        selector_seconds = float(selector.fit_seconds_)

    widths, search_seconds = tuple(cfg.widths), 0.0
    pm_searches = s.searches_itself and not cfg.fixed_widths
    if pm_searches and cfg.protocol == "strict":
        widths = None   # PaperModel searches inside fit, on an inner split of the training rows
    elif pm_searches or (cfg.search and s.searchable):
        sel = selector if selector is not None else cache.selector(tag, fit_selector)

        def search():
            result = PaperModel(n_features=cfg.n_features, seed=cfg.seed, selector=sel,
                                **cfg.options.get("PM", {})).search(ds.X[prep_rows], ds.y[prep_rows])
            return result.widths, result.history

        widths, search_seconds = cache.search(f"paper_{tag}", search)

    est = make_method(method, widths=widths, n_features=cfg.n_features, seed=seed, selector=selector,
                      options=cfg.options)
    t0 = time.perf_counter()
    _guarded(s, "fit", est.fit, ds.X[train_idx], ds.y[train_idx], **row_keywords(ds, method, train_idx, members))
    fit_seconds = time.perf_counter() - t0
    est.thresholds_ = IQRThresholds().fit(ds.y[prep_rows])
    fields = {"fit_seconds": fit_seconds, "selector_seconds": selector_seconds, "search_seconds": search_seconds,
              "train_seconds": fit_seconds + (selector_seconds if s.uses_rfe else 0.0)}
    if s.uses_widths:
        fields["widths"] = [int(w) for w in (getattr(est, "widths_", None) or widths)]
    if s.searches_itself:
        # strict: the search ran inside fit (already in fit_seconds); paper: it ran on all rows before the splits
        fields["search_seconds"] = float(est.search_seconds_) + search_seconds
        fields["train_seconds"] += search_seconds
    return est, fields


def _guarded(s, what, call, *args, **kw):
    """``call(*args, **kw)``; a plugin method that raises -> one CCLEError line naming the method and its file
    (a built-in method's error is a bug of ours and keeps its traceback)."""
    if s.plugin is None:
        return call(*args, **kw)
    try:
        return call(*args, **kw)
    except CCLEError:
        raise
    except Exception as exc:
        raise CCLEError(f"method {s.name!r} ({s.plugin}): {what} raised {type(exc).__name__}: {exc}") from None


def checked_predictions(s, pred, n_rows, what="predict"):
    """``pred`` as a float64 (n_rows,) array; a wrong shape or a non-finite value -> one CCLEError line naming
    the method (a result built on it would be silently wrong)."""
    arr = np.asarray(pred, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (n_rows,):
        raise CCLEError(f"method {s.name!r}{f' ({s.plugin})' if s.plugin else ''}: {what} returned shape "
                        f"{tuple(np.shape(pred))}, expected ({n_rows},)")
    if not np.isfinite(arr).all():
        bad = int(np.sum(~np.isfinite(arr)))
        raise CCLEError(f"method {s.name!r}{f' ({s.plugin})' if s.plugin else ''}: {what} returned {bad} "
                        f"non-finite value(s) of {n_rows}")
    return arr


def task_dataset(ds, cfg):
    """The drug's data a task fits and scores: ``ds`` itself, or with ``cfg.null`` a copy whose responses are
    permuted within the drug (:func:`ccle.evaluation.audit.permuted_responses`: the same permutation for every method,
    split and protocol of a run seed)."""
    if not cfg.null:
        return ds
    return replace(ds, y=permuted_responses(ds.y, ds.drug, cfg.seed))


def run_task(ds, split, method, cfg, cache_dir=None):
    """Fit ``method`` on the training rows of ``split`` of drug ``ds`` (:func:`fit_pipeline`) and score it on
    the test rows (with ``cfg.null`` on the permuted responses, :func:`task_dataset`). Returns the result
    record (a JSON-serializable dict)."""
    return run_task_with_predictions(ds, split, method, cfg, cache_dir)[0]


def run_task_with_predictions(ds, split, method, cfg, cache_dir=None, members=None):
    """:func:`run_task` that also returns the task's ``predictions.csv.gz`` rows -> ``(record, rows)``.

    Record fields beyond the regression metrics: the sensitivity calls of :func:`ccle.evaluation.calls.call_metrics`
    (paper rule, calibrated rule fitted on the estimator's ``oof_predictions_``, rule-free AUROCs; oriented by
    :func:`ccle.evaluation.thresholds.sensitive_direction` of ``cfg.response``; under the paper protocol the paper rule's
    IQR thresholds come from all rows of the drug) and the gene lists of :func:`gene_fields`. Rows
    (:func:`ccle.benchmark.predictions.task_rows`): every test row with its prediction, every training row with its
    out-of-fold prediction (empty, classes -1, where the method has none). With ``cfg.null`` everything runs
    on the permuted responses (:func:`task_dataset`).

    The method's kernels are compiled (or loaded from Numba's cache) first, outside every clock
    (:func:`ccle.benchmark.warmup.warm_up`, once per process): ``warmup_seconds`` is that time, 0 after the first task."""
    warmup_seconds = warm_up(method, ds.X, cfg.options)
    ds = task_dataset(ds, cfg)
    est, fields = fit_pipeline(ds, split, method, cfg, TaskCache(cache_dir, cfg), members)
    train_idx, test_idx = task_rows(ds, split, cfg)
    s = spec(method)
    t0 = time.perf_counter()
    pred = _guarded(s, "predict", est.predict, ds.X[test_idx],
                    **row_keywords(ds, method, test_idx, members, which="test"))
    predict_seconds = time.perf_counter() - t0
    pred = checked_predictions(s, pred, test_idx.size)
    y_test, y_train = ds.y[test_idx], ds.y[train_idx]
    y_rules = ds.y[preprocessing_rows(cfg.protocol, len(ds.y), train_idx)]   # paper protocol: all rows
    rec = {"drug": ds.drug, "split": int(split), "method": method, "protocol": cfg.protocol,
           "seed": int(cfg.seed), "config_key": cfg.key(), "n_train": int(train_idx.size),
           "n_test": int(test_idx.size), "null": bool(cfg.null), "split_scheme": cfg.split_scheme}
    for name in TIMING_FIELDS:
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
    if s.record_fields is not None:
        extra = s.record_fields(est, ds.X[test_idx], y_test)
        for name in TIMING_FIELDS:   # the pipeline's clocks (a search before the splits included) win
            extra.pop(name, None)
        rec.update(extra)
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
    """The gene lists of a fitted estimator (:mod:`ccle.evaluation.genes`), from its method's
    ``MethodSpec.gene_fields``: ``genes_rfe`` for SVR (the RFE-kept genes with the final SVR's weights),
    ``genes_enet`` for EN (non-zero coefficients), ``genes_importance`` and ``importance_method`` for PM+ (top
    100 of the committee's permutation importance on the training rows' inner folds). Other methods: {}."""
    hook = spec(method).gene_fields
    if hook is None:
        return {}
    genes = np.asarray(ds.genes if len(ds.genes) else [f"gene{j}" for j in range(ds.X.shape[1])], dtype=object)
    return hook(est, genes, ds.X[train_idx], ds.y[train_idx], seed)


def save_task(out_dir, records, rows):
    """Append a task's predictions rows (None: a task without any), then its records (so a record in
    ``results.jsonl`` always has its rows; a crash between the two leaves rows that the rerun writes again and
    the last copy wins). A cross-drug task's per-drug records go in one write: on disk all or none."""
    if rows is not None and len(rows):
        PredictionsStore(out_dir).append(rows)
    ResultStore(out_dir).extend(records)


def is_cross_drug(task):
    """Whether ``task`` (drug, split, method) is a cross-drug task (one fit for every drug of the run)."""
    return task[0] == ALL_DRUGS


def task_drugs(task, drugs):
    """The drugs whose records ``task`` writes: every drug of the run for a cross-drug task, else its own."""
    return list(drugs) if is_cross_drug(task) else [task[0]]


def execute(task, ctx, methods=None):
    """Run one task of the run context ``ctx`` (:class:`ccle.benchmark.config.RunContext`) -> ``(records,
    rows)``: its list of records (one for a per-drug task, one per drug for a cross-drug task) and its
    ``predictions.csv.gz`` rows (one DataFrame; a cross-drug task's holds every drug's rows). The one place that
    dispatches cross-drug tasks; every back end (serial, process pool, Dask) calls it. A method built from
    members reads their predictions from ``ctx.out_dir`` (``methods``: the run's methods)."""
    drug, split, method = task
    if is_cross_drug(task):
        return run_multitask_task_with_predictions(ctx.lazy_datasets(), split, ctx.cfg, method)
    ds = ctx.dataset(drug)
    members = member_predictions(ctx.out_dir, ds, split, method, methods) if spec(method).members else None
    rec, rows = run_task_with_predictions(ds, split, method, ctx.cfg, ctx.cache_dir, members)
    return [rec], rows


def run_multitask_task(datasets, split, cfg, method="MT"):
    """The records of :func:`run_multitask_task_with_predictions` (one per drug, in ``datasets`` order)."""
    return run_multitask_task_with_predictions(datasets, split, cfg, method)[0]


def run_multitask_task_with_predictions(datasets, split, cfg, method="MT"):
    """The task ``(ALL_DRUGS, split, "MT")``: fit :class:`ccle.methods.multitask.MultiTaskModel` once on the training
    cell lines of split ``split`` (every line outside the run's held-out set, with all its responses) and score
    each drug on its test rows. Needs a shared split scheme (``cfg.split_scheme`` "cell-lines" / "tissues").
    With ``cfg.null`` every drug's responses are permuted first (:func:`task_dataset`, as for a per-drug task).

    Returns ``(records, rows)``: one record per drug, in ``datasets`` order, with :func:`run_task`'s fields,
    and one DataFrame of every drug's ``predictions.csv.gz`` rows (:func:`prediction_rows` per drug, in the
    same order: one gzip member for the whole task, so a drug's rows are on disk exactly when all are). The
    sensitivity calls are :func:`ccle.evaluation.calls.call_metrics` on the drug's test rows, the calibrated rule fitted
    on MT's out-of-fold predictions of the drug's training rows (:func:`ccle.methods.multitask.drug_oof_predictions`:
    each line predicted by the fold network that never fitted it), the paper rule on the observed training
    responses (MT sees training lines only under either protocol: it has no all-rows preprocessing).

    The fit is shared: ``fit_seconds`` / ``train_seconds`` / ``predict_seconds`` / ``warmup_seconds`` (the
    kernels compiled or loaded before the clock starts, :func:`ccle.benchmark.warmup.warm_up`, 0 after the process's
    first MT task) are the drug's share (total / number of drugs, so that summing over drugs gives the run's
    cost), ``multitask_train_seconds`` the whole fit; ``n_features`` the genes kept by MT's filter, ``n_epochs`` per committee network, the compression
    sizes as PM's (bytes of the one network shared by all drugs) and ``multitask_inner_mse`` (out-of-fold,
    standardized units).
    """
    if cfg.split_scheme == "pairs":
        raise ValueError("MT needs a split scheme that holds out cell lines for every drug (cell-lines, tissues)")
    held = datasets[0].held_out[split]
    warmup_seconds = warm_up(method, np.asarray(datasets[0].X[0, :])[None, :], cfg.options)  # one row: the dtype
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
