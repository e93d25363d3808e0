"""The cross-study part of a benchmark (``benchmark --test-drugs FILE``): train each method on one study's
measurements of a drug, score it on another study's measurements of the same compound.

- :func:`scored_rows`: the test study's lines of one matched drug, their expression put through the training
  drug's transform (genes by name; a gene the test expression lacks takes the training lines' mean, counted)
  and their responses. ``lines="held-out"`` (default): the test study's lines that are not training lines of the
  drug (nothing the model saw); ``"shared"``: the lines both studies measured (Haibe-Kains et al. 2013's setting).
- :func:`run_cross_task`: one (matched drug, method): the one pipeline of a benchmark task
  (:func:`ccle.benchmark.tasks.fit_pipeline`, strict protocol) fitted on every training line of the drug, then
  its predictions of the test lines, scored by :func:`ccle.evaluation.cross_study.consistency` (sign-aligned
  Spearman and Pearson: the two studies' scales and directions differ).
- :func:`run_cross_study`: every (match, method), resumable in ``<out>/cross-study/results.jsonl`` (the same
  :class:`ccle.benchmark.store.ResultStore`), and the measured consistency (the two studies' responses on
  their shared lines) per match; :func:`write_consistency` writes ``consistency.csv`` and ``drug_matches.csv``.
"""
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ccle.benchmark.datasets import DrugData
from ccle.benchmark.store import ResultStore, latest_records
from ccle.benchmark.tasks import checked_predictions, fit_pipeline, row_keywords, task_rows
from ccle.benchmark.warmup import warm_up
from ccle.data.align import normalize_cell_line
from ccle.errors import CCLEError
from ccle.evaluation.cross_study import aligned_correlations, consistency, direction_sign, shared_lines
from ccle.evaluation.splits import tissues_of
from ccle.files import atomic_write
from ccle.methods import spec
from ccle.methods.preprocess import ExpressionTransform

CROSS_DIR = "cross-study"
CONSISTENCY_FILE = "consistency.csv"
MATCHES_FILE = "drug_matches.csv"
LINE_CHOICES = ("held-out", "shared")
MEASURED = "measured"   # the method column of the two studies' own responses compared
_TEST_PREFIX = "TEST:"  # keeps a test row's line apart from a training row of the same line
CONSISTENCY_COLUMNS = ("train_drug", "test_drug", "match", "method", "lines", "n", "sign", "spearman", "pearson",
                       "spearman_raw", "pearson_raw", "missing_genes")


def line_key(name):
    """A cell line's identity across the two studies (both joined to expression names)."""
    return normalize_cell_line(name)


def scored_rows(train_ds, test_table, test_drug, test_expression, log2, lines="held-out", lineages=None):
    """The test study's rows of ``test_drug`` for a model of ``train_ds`` -> ``(X, y, cell_lines, tissues,
    missing_genes)``: X (m, len(train_ds.genes)) float32 through the training drug's transform, y (m,) the test
    study's responses, the lines in test-expression order. See the module text for ``lines``."""
    if lines not in LINE_CHOICES:
        raise ValueError(f"lines must be one of {LINE_CHOICES}, got {lines!r}")
    responses = test_table.responses(test_drug)
    at = {line_key(c): float(v) for c, v in responses.items()}
    trained = {line_key(c) for c in train_ds.cell_lines}
    rows, cells, y = [], [], []
    for i, c in enumerate(test_expression.cell_lines):
        k = line_key(c)
        if k in at and ((k in trained) == (lines == "shared")):
            rows.append(i)
            cells.append(c)
            y.append(at[k])
    transform = ExpressionTransform(genes=list(train_ds.genes), log2p1=bool(log2))
    X = transform.replay(np.asarray(test_expression.values[rows]), list(test_expression.genes))
    missing = ~np.isfinite(X)
    missing_genes = int(missing.all(axis=0).sum()) if X.shape[0] else 0
    if missing.any():   # a gene the test file lacks (or a missing value) takes the training lines' mean
        fill = np.asarray(train_ds.X, dtype=np.float64).mean(axis=0).astype(np.float32)
        X = np.where(missing, fill[None, :], X)
    return X, np.asarray(y, dtype=np.float64), cells, tissues_of(cells, lineages), missing_genes


def run_cross_task(train_ds, test, method, cfg, sign):
    """Fit ``method`` on every row of ``train_ds`` (:func:`ccle.benchmark.tasks.fit_pipeline`, strict: nothing
    learns from a test row) and score its predictions of ``test`` (:func:`scored_rows`'s tuple) -> ``(record
    fields, predictions)``: ``n_train``, ``n_test``, ``train_seconds`` and the sign-aligned correlations."""
    X_test, y_test, cells, tissues, _ = test
    ds = DrugData(drug=train_ds.drug, X=np.vstack([np.asarray(train_ds.X, dtype=np.float32), X_test]),
                  y=np.concatenate([train_ds.y, y_test]),
                  cell_lines=list(train_ds.cell_lines) + [_TEST_PREFIX + c for c in cells],
                  genes=list(train_ds.genes),
                  tissues=list(train_ds.tissues or tissues_of(train_ds.cell_lines)) + list(tissues),
                  held_out=[frozenset(line_key(_TEST_PREFIX + c) for c in cells)])
    run_cfg = replace(cfg, split_scheme="cell-lines", protocol="strict", null=False)
    warm_up(method, X_test[:1], cfg.options)
    t0 = time.perf_counter()
    est, _ = fit_pipeline(ds, 0, method, run_cfg)
    train_seconds = time.perf_counter() - t0
    train_idx, test_idx = task_rows(ds, 0, run_cfg)
    pred = checked_predictions(spec(method), est.predict(ds.X[test_idx], **row_keywords(ds, method, test_idx)),
                               test_idx.size)
    fields = {"n_train": int(train_idx.size), "n_test": int(test_idx.size), "train_seconds": train_seconds}
    fields.update(_scored(pred, y_test, sign))
    return fields, pred


def _scored(a, b, sign):
    aligned = consistency(a, b, sign)
    return {"n": aligned["n"], "sign": int(sign), "spearman": aligned["spearman"], "pearson": aligned["pearson"],
            "spearman_raw": sign * aligned["spearman"], "pearson_raw": sign * aligned["pearson"]}


def cross_key(cfg, test_table, lines, test_expression_source):
    """The resume key of a cross-study run: the benchmark configuration, the test study's responses and the
    lines setting."""
    h = hashlib.sha256(cfg.key().encode())
    h.update(pd.util.hash_pandas_object(test_table.frame, index=False).to_numpy().tobytes())
    h.update(f"{test_table.response}|{lines}|{test_expression_source}".encode())
    return h.hexdigest()[:16]


def run_cross_study(handles, matches, train_table, test_table, test_expression, cfg, methods, out_dir, *,
                    log2, lines="held-out", lineages=None, progress=True):
    """Every (match, method) of a cross-study run, skipping those already in ``<out_dir>/cross-study`` ->
    the consistency rows (dicts of :data:`CONSISTENCY_COLUMNS`), the measured comparison first per match.

    ``handles``: the run's drug data (``DrugData`` or the handles of :mod:`ccle.benchmark.shared_data`, opened
    one drug at a time); ``matches``: :class:`ccle.evaluation.cross_study.DrugMatch` list; the two tables give
    the response directions (``DrugTable.direction``) and the measured responses."""
    sign = direction_sign(train_table.direction, test_table.direction)
    by_drug = {h.drug: h for h in handles}
    store = ResultStore(Path(out_dir) / CROSS_DIR)
    store.repair()
    key = cross_key(cfg, test_table, lines, test_expression.source)
    done = {(r["drug"], r["method"]): r for r in latest_records(store.load(key))}
    rows = []
    todo = [m for m in matches if m.train in by_drug]
    for i, m in enumerate(todo):
        pair = f"{m.train} -> {m.test}"
        tr = train_table.responses(m.train)
        te = test_table.responses(m.test)
        _, a, b = shared_lines(list(tr.index), tr.to_numpy(), list(te.index), te.to_numpy(), line_key)
        measured = aligned_correlations(a, b, sign)
        rows.append(_row(m, MEASURED, "shared (measured)", {
            "n": measured["n"], "sign": sign, "spearman": measured["spearman"], "pearson": measured["pearson"],
            "spearman_raw": sign * measured["spearman"], "pearson_raw": sign * measured["pearson"]}, 0))
        wanted = [meth for meth in methods if not spec(meth).cross_drug]
        missing = [meth for meth in wanted if (pair, meth) not in done]
        test = None
        if missing:
            h = by_drug[m.train]
            train_ds = h.load() if hasattr(h, "load") else h
            test = scored_rows(train_ds, test_table, m.test, test_expression, log2, lines, lineages)
            if test[1].size < 3:
                if progress:
                    print(f"cross-study: {pair}: {test[1].size} {lines} test line(s) with expression; skipped",
                          file=sys.stderr)
                continue
        for meth in wanted:
            rec = done.get((pair, meth))
            if rec is None:
                fields, _ = run_cross_task(train_ds, test, meth, cfg, sign)
                rec = {"drug": pair, "split": 0, "method": meth, "config_key": key, "train_drug": m.train,
                       "test_drug": m.test, "lines": lines, "missing_genes": test[4], **fields}
                store.append(rec)
                if progress:
                    print(f"[cross-study {i + 1}/{len(todo)}] {pair} {meth}: spearman {rec['spearman']:.3f} "
                          f"(n {rec['n']})", file=sys.stderr, flush=True)
            rows.append(_row(m, meth, lines, rec, rec.get("missing_genes", 0)))
    return rows


def _row(match, method, lines, values, missing_genes):
    row = {"train_drug": match.train, "test_drug": match.test, "match": match.how, "method": method,
           "lines": lines, "missing_genes": int(missing_genes)}
    row.update({k: values[k] for k in ("n", "sign", "spearman", "pearson", "spearman_raw", "pearson_raw")})
    return row


def write_consistency(out_dir, rows, matches, unmatched):
    """Write ``<out_dir>/cross-study/consistency.csv`` (one row per match and method) and ``drug_matches.csv``
    (every training drug: its test drug(s) and how they matched, or none) -> the two paths."""
    folder = Path(out_dir) / CROSS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows, columns=list(CONSISTENCY_COLUMNS))
    paths = (folder / CONSISTENCY_FILE, folder / MATCHES_FILE)
    atomic_write(paths[0], table.to_csv(index=False, lineterminator="\n", float_format="%.6g"))
    listed = [{"train_drug": m.train, "train_name": m.train_name, "test_drug": m.test, "test_name": m.test_name,
               "match": m.how} for m in matches]
    listed += [{"train_drug": d, "train_name": d, "test_drug": "", "test_name": "", "match": "no match"}
               for d in unmatched]
    atomic_write(paths[1], pd.DataFrame(listed, columns=["train_drug", "train_name", "test_drug", "test_name",
                                                          "match"]).to_csv(index=False, lineterminator="\n"))
    return paths


def match_lines(matches, unmatched):
    """The match table as terminal lines (the banner prints it)."""
    width = max([len(m.train) for m in matches] + [10])
    out = [f"  {m.train:<{width}} -> {m.test}  ({m.how})" for m in matches]
    if unmatched:
        out.append(f"  no match in the test study: {', '.join(unmatched)}")
    return out


def require_matches(matches, train_source, test_source):
    """A cross-study run needs at least one compound in both studies (CCLEError otherwise)."""
    if not matches:
        raise CCLEError(f"{test_source}: no compound of {train_source} found (by name, ignoring case, spaces and "
                        f"punctuation, or a known synonym)")
