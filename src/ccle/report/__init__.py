"""Reports of a benchmark run: report.html (one self-contained page with the figures), report.md, the tables
as CSV + Markdown, every figure as PNG + SVG, and run.json.

- :func:`write_report` is what ``benchmark`` calls after a run; :func:`build_report` rebuilds the same files
  from ``results.jsonl`` and ``run.json`` of an output folder alone (``cli.py report OUT_DIR``).
- Both report every record of ``results.jsonl`` with the run's configuration key, not only the methods of the
  last invocation (a rerun with ``--methods EN,mean`` keeps the six methods already finished).
- matplotlib (the `plot` extra) is imported only by :mod:`ccle.report.figures`; without it report.html and
  report.md hold the tables and a one-line note.
"""
import json
import multiprocessing
import signal
import threading
from pathlib import Path

import pandas as pd

from ccle.evaluation.audit import LEAKING_STEPS, leaking_steps_text
from ccle.errors import CCLEError
from ccle.evaluation.genes import GENES_COLUMNS, GENES_FILE
from ccle.files import atomic_write
from ccle.benchmark.store import RESULTS_FILE, ResultStore
from ccle.report.tables import (SUMMARY_ROW_LABEL, compression_summary, condition, main_records, method_label,
                                metrics_table, per_drug, table1, table1_spread, table2, timing_table)
from ccle.report.stats import paired_table
from ccle.report.markdown import report_markdown, to_csv, to_markdown, to_text
from ccle.report import figures, sections as core, sections_audit as audit_sections, sections_extra as extra
from ccle.report import sections_trust as trust
from ccle.report import overview, sections_overview as overview_sections
from ccle.report import cross_study, stacking

__all__ = ["write_report", "build_report", "table1", "table1_spread", "table2", "timing_table", "metrics_table",
           "paired_table", "per_drug", "compression_summary", "to_csv", "to_markdown", "to_text", "fig3",
           "method_label", "main_records"]

NO_PLOT_NOTE = "Figures skipped: matplotlib is not installed (pip install matplotlib)."


def load_results(out_dir, config_key=None):
    """The latest record of each (drug, split, method, condition) in ``out_dir/results.jsonl`` (whole lines only;
    a torn last line is skipped, a line that is not a result is skipped with a warning: the store's reader,
    :meth:`ccle.benchmark.store.ResultStore.load`), restricted to ``config_key`` (one key or a list of keys) when given."""
    out = {}
    for r in ResultStore(out_dir).load(config_key):
        out[(r["drug"], int(r["split"]), r["method"], condition(r))] = r
    return list(out.values())


def _merge(stored, records):
    out = {}
    for r in list(stored) + list(records):
        out[(r["drug"], int(r["split"]), r["method"], condition(r))] = r
    return list(out.values())


def _order(values, preferred):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return [p for p in (preferred or []) if p in seen] + [s for s in seen if s not in (preferred or [])]


def build_sections(all_records, out_dir, meta, drugs, methods):
    """Every section of the report, in page order (absent ones carry a note)."""
    recs = main_records(all_records, meta.get("protocol"), meta.get("split_scheme", "pairs"))
    out_dir = Path(out_dir)
    preds = next((p for p in (out_dir / "predictions.csv.gz", out_dir / "predictions.csv") if p.exists()), None)
    lead = [overview_sections.overview_section(recs, drugs, methods)] if overview.many(drugs) else []
    return [core.run_section(meta, all_records, drugs, methods), *lead,
            core.table1_section(recs, drugs, methods),
            trust.leakage_headline_section(all_records, drugs, methods),
            core.dotplot_section(recs, drugs, methods),
            core.ranks_section(recs, drugs, methods),
            core.paired_section(recs, drugs, methods),
            *([core.paired_section(recs, drugs, methods, reference="Stack")] if "Stack" in methods else []),
            core.accuracy_section(recs, drugs, methods),
            core.timing_section(recs, drugs, methods),
            extra.scatter_section(preds, recs, drugs, methods),
            extra.sensitivity_section(recs, drugs, methods),
            trust.coverage_section(recs, drugs, methods),
            extra.genes_section(out_dir / "genes.csv", drugs, records=recs, methods=methods),
            extra.leakage_section(all_records, methods),
            audit_sections.inflation_section(all_records),
            audit_sections.widths_section(recs, drugs),
            extra.compression_section(recs, methods),
            audit_sections.compression_change_section(recs, drugs),
            stacking.stack_weights_section(recs, drugs),
            cross_study.consistency_section(out_dir)]


def _write_section_csvs(sections, out_dir):
    """Write every per-drug table the sections list under ``csv`` (raw values, one file each)."""
    for s in sections:
        for c in s.get("csv", []):
            atomic_write(Path(out_dir) / c["name"], to_csv(c["header"], c["rows"]))


_TO_RENDER = []   # (make, out_dir, name) of every figure, read by the forked processes of _render_figures


def _quiet_child():
    # the parent handles Ctrl-C and ends the pool with SIGTERM, which must end a child without a traceback (the
    # fork copied the CLI's handler that turns SIGTERM into an exception)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _render_one(i):
    make, out_dir, name = _TO_RENDER[i]
    return figures.save(make(), out_dir, name)[1]


def _can_fork():
    """Whether figures may be drawn in forked processes: the platform has ``fork`` and this process runs no
    other Python thread (a fork copies only the calling thread; a lock held by another one would stay held)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _render_figures(sections, out_dir, jobs=1):
    """Draw and save every figure of the sections; returns ``{name: svg_text}`` ({} without matplotlib).
    With ``jobs`` > 1 (where processes can be forked) that many processes draw the figures, one at a time each:
    the figures are independent and the sections' drawing functions are closures, which a fork shares without
    pickling; the files and the SVG texts are those of a serial run."""
    if not figures.available():
        return {}
    found = [f for s in sections for f in s.get("figures", [])]
    todo = [(f["make"], out_dir, f["name"]) for f in found]
    n_proc = min(int(jobs), len(todo))
    if n_proc > 1 and _can_fork():
        _TO_RENDER[:] = todo
        # the heaviest first (a figure's optional "weight", e.g. its number of panels), so that the last figure
        # to start is a light one
        order = sorted(range(len(todo)), key=lambda i: -found[i].get("weight", 1))
        try:
            with multiprocessing.get_context("fork").Pool(n_proc, initializer=_quiet_child) as pool:
                drawn = pool.map(_render_one, order, chunksize=1)
        finally:
            _TO_RENDER.clear()
        texts = [None] * len(todo)
        for i, text in zip(order, drawn):
            texts[i] = text
    else:
        texts = [figures.save(make(), folder, name)[1] for make, folder, name in todo]
    return {name: text for (_, _, name), text in zip(todo, texts)}


def fig3(records, path, drugs=None, methods=None):
    """Fig. 3 alone (accuracy and MSE against training seconds) as ``path`` (PNG) and its SVG twin; returns
    the path, or None without matplotlib."""
    if not figures.available():
        return None
    path = Path(path)
    sec = core.timing_section(records, drugs or _order([r["drug"] for r in records], None),
                              methods or _order([r["method"] for r in records], None))
    figures.save(sec["figures"][0]["make"](), path.parent, path.stem)
    return path


def write_genes_csv(out_dir, frames):
    """Write the concatenation of the gene-stability DataFrames (:func:`ccle.evaluation.genes.genes_table`) to
    ``out_dir/genes.csv`` atomically and return its path."""
    path = Path(out_dir) / GENES_FILE
    df = pd.concat(list(frames), ignore_index=True) if frames else pd.DataFrame(columns=list(GENES_COLUMNS))
    atomic_write(path, df.to_csv(index=False, lineterminator="\n"))
    return path


def write_report(records, out_dir, meta, drugs=None, methods=None, jobs=1):
    """Write report.html, report.md, every table (CSV + Markdown), the figures (PNG + SVG) and run.json.

    ``records``: this invocation's results; they are merged with every record of ``out_dir/results.jsonl``
    that has ``meta["config_key"]`` (so the report covers all methods run with this configuration).
    ``drugs`` / ``methods`` give the display order (others found in the records follow). ``meta`` goes into
    run.json. ``jobs``: processes that draw the figures (:func:`_render_figures`). Returns the terminal text
    (Table I, Table II, timing, paired summary, where things are)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = meta.get("config_keys") or meta.get("config_key")
    stored = load_results(out_dir, keys) if keys else []
    all_records = _merge(stored, records)
    recs = main_records(all_records, meta.get("protocol"), meta.get("split_scheme", "pairs"))
    drugs = _order([r["drug"] for r in recs], drugs)
    methods = _order([r["method"] for r in recs], methods)
    protocol = meta.get("protocol", "?")
    n_splits = len({int(r["split"]) for r in recs})

    h1, r1 = table1(recs, drugs, methods)
    h2, r2 = table2(recs, drugs, methods)
    calibrated = any("cal_bal_acc" in r for r in recs)
    h2c, r2c = table2(recs, drugs, methods, "cal_bal_acc") if calibrated else (None, None)
    ht, rt = timing_table(recs, drugs, methods)
    hm, rm = metrics_table(recs, drugs, methods)
    tables = {"table1": (h1, r1, True), "table2": (h2, r2, False), "timing": (ht, rt, False),
              "metrics": (hm, rm, False)}
    paired_text = ""
    if "PM" in methods and len(methods) > 1:
        hp, rp, hs, rs = paired_table(recs, "PM", drugs, methods)
        tables["paired"] = (hp, rp, False)
        tables["paired_summary"] = (hs, rs, False)
        paired_text = to_text(hs, rs)
    for name, (h, rows, best) in tables.items():
        (out_dir / f"{name}.csv").write_text(to_csv(h, rows))
        (out_dir / f"{name}.md").write_text(to_markdown(h, rows, mark_best=best))

    scheme = meta.get("split_scheme", "pairs")
    title = (f"protocol: {protocol} | split: {scheme} | {len(drugs)} drugs x {n_splits} splits | "
             f"seed {meta.get('seed')} | "
             f"data {meta.get('data', '?')} (fingerprint {meta.get('data_fingerprint', '?')})")
    sections = build_sections(all_records, out_dir, meta, drugs, methods)
    _write_section_csvs(sections, out_dir)
    svgs = _render_figures(sections, out_dir, jobs)
    note = None if svgs or not any(s.get("figures") for s in sections) else NO_PLOT_NOTE
    md_intro = (f"{title}\n\nProtocol **{protocol}**: " +
                (leaking_steps_text(protocol) if protocol in LEAKING_STEPS else "?") + "." +
                (f"\n\nSplit scheme **{scheme}**: {meta['split_scheme_text']}; every method used the same rows."
                 if meta.get("split_scheme_text") else "") +
                "\n\nThe same report with the figures embedded: report.html (opens offline in any browser).")
    (out_dir / "report.md").write_text(report_markdown("ccle benchmark report", sections, set(svgs),
                                                       note=md_intro + (f"\n\n{note}" if note else "")))
    from ccle.report.html import report_html  # html.py has no dependency; imported here to keep names apart
    (out_dir / "report.html").write_text(report_html("ccle benchmark report", title, sections, svgs, note))
    run = dict(meta)
    run["n_results"] = len(recs)
    run["drugs"] = drugs
    run["methods"] = methods
    audit_text = audit_sections.write_audit_tables(all_records, out_dir)
    (out_dir / "run.json").write_text(json.dumps(run, indent=2, sort_keys=True, default=str))

    labels = [method_label(m) for m in methods]
    shown = [[SUMMARY_ROW_LABEL if r[0] == "Mean" and i == len(r1) - 1 else r[0]] + list(r[1:])
             for i, r in enumerate(r1)]
    h1_shown = ["drug"] + labels + ["best"]
    shown = [row[:-1] + [method_label(row[-1])] for row in shown]
    if overview.many(drugs):   # hundreds of rows would scroll the summaries off the terminal
        table1_text = [f"Table I: mean test MSE over splits, average over the {len(drugs)} drugs (* = best; every "
                       f"drug in {out_dir / 'table1.csv'})", to_text(h1_shown, shown[-1:], mark_best=True)]
    else:
        table1_text = ["Table I: mean test MSE over splits (* = best in row)", to_text(h1_shown, shown, mark_best=True)]
    text = [title, "", *table1_text,
            *(["Table II: balanced accuracy of the calibrated calls (3 classes) over drugs",
               to_text(["statistic"] + labels, r2c)] if calibrated else []),
            "Table II (paper rule): sensitivity accuracy (3 IQR classes of the observed training responses) over "
            "drugs", to_text(["statistic"] + labels, r2),
            "Training seconds per drug", to_text(ht, [[method_label(r[0])] + r[1:] for r in rt])]
    if paired_text:
        text += ["PM against each baseline (per drug, corrected resampled t-test; significant: Benjamini-Hochberg "
                 "q < 0.05 across drugs, as in the report)", paired_text]
    comp = compression_summary(recs)
    if comp:
        text.append(f"PM compressed model: {comp['compressed_bytes']:.0f} bytes, "
                    f"ratio {comp['compression_ratio']:.1f}x against dense float32\n")
    if audit_text:
        text += ["Leakage audit (strict vs paper protocol on identical splits; inflation.csv)", audit_text, ""]
    text.append(f"Figures (PNG + SVG) written to {out_dir}" if svgs else NO_PLOT_NOTE)
    text.append(f"Report: {out_dir / 'report.html'} (open it in a browser; works offline); tables (CSV + Markdown),"
                f" report.md, results.jsonl and run.json are in {out_dir}")
    return "\n".join(text)


def build_report(out_dir, jobs=1):
    """Rebuild report.html / report.md (and the tables and figures) of ``out_dir`` from its results.jsonl and
    run.json alone (``jobs`` processes draw the figures); returns the path of report.html. Bad or missing files
    raise :class:`CCLEError`."""
    out_dir = Path(out_dir)
    run_path = out_dir / "run.json"
    if not (out_dir / RESULTS_FILE).exists():
        raise CCLEError(f"{out_dir / RESULTS_FILE}: no results file (run `cli.py benchmark --out {out_dir}` first)")
    meta = {}
    if run_path.exists():
        try:
            meta = json.loads(run_path.read_text())
        except ValueError as exc:
            raise CCLEError(f"{run_path}: not valid JSON ({exc})") from None
    records = load_results(out_dir, meta.get("config_keys") or meta.get("config_key"))
    if not records:
        raise CCLEError(f"{out_dir / RESULTS_FILE}: no result for configuration {meta.get('config_key', '?')}")
    write_report(records, out_dir, meta, meta.get("drugs"), meta.get("methods"), jobs)
    return out_dir / "report.html"
