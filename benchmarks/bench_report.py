"""The report at the end of a benchmark run, at the default run's size, against the straightforward code in the
same run.

Run: python -m pytest benchmarks/bench_report.py --benchmark-enable
Each case is parametrized over impl = ours / reference and shares a benchmark group, so the pytest-benchmark
table shows the ratio inside each group:

- genes-csv: :func:`ccle.evaluation.genes.gene_stability` (means grouped by selection count) against one numpy
  mean per gene, over 24 drugs x 3 rankings x 5 splits of ~1,000 genes (the default run's genes.csv);
- scatter-read: the observed-against-predicted panels from a predictions.csv.gz of 24 drugs x 5 splits x 8
  methods x 504 cell lines (:func:`ccle.report.sections_extra.scatter_section`) against a per-drug pandas filter;
- figures: four observed-against-predicted figures drawn by two forked processes against one process
  (``ccle.report._render_figures``, jobs 2 / 1; wall time, so the ratio needs two idle cores).
"""
import gzip

import numpy as np
import pytest

import ccle.report as report
from ccle.evaluation.genes import gene_stability
from ccle.report import figures, sections_extra
# the references are the tests' own (the tests check ours equals them)
from tests.ccle.evaluation.test_genes import _stability_per_gene
from tests.ccle.report.test_report_figures_fast import _panels_by_filter

DRUGS = [f"DRUG{i:02d}" for i in range(24)]
METHODS = ["PM", "PM+", "EN", "RF", "SVR", "ANN", "mean", "tissue"]
SPLITS, CELLS, N_TEST = 5, 504, 151


def _gene_lists(seed=0):
    """{(drug, source): five ranked [[gene, value], ...] lists} drawn from 2,000 genes."""
    rng = np.random.default_rng(seed)
    out = {}
    for d in DRUGS:
        for source, size in (("RFE", 1000), ("EN", 150), ("PM", 100)):
            out[(d, source)] = [[[f"G{g:05d}", float(v)] for g, v in
                                 zip(rng.choice(2000, size, replace=False), rng.standard_normal(size))]
                                for _ in range(SPLITS)]
    return out


@pytest.mark.parametrize("impl", ["ours", "reference"])
def test_genes_csv(benchmark, impl):
    benchmark.group = "genes-csv"
    lists = _gene_lists()
    fn = gene_stability if impl == "ours" else lambda d, s, v: _stability_per_gene(d, s, v, 20)
    frames = benchmark.pedantic(lambda: [fn(d, s, v) for (d, s), v in lists.items()], rounds=3, iterations=1)
    assert len(frames) == len(lists)


@pytest.fixture(scope="module")
def predictions(tmp_path_factory):
    """A predictions.csv.gz of the default run's size (train rows with OOF predictions, then test rows)."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("report") / "predictions.csv.gz"
    lines = ["drug,split,method,cell_line,set,observed,predicted,class_observed,class_paper,class_calibrated,"
             "lower,upper,call_confident"]
    for d in DRUGS:
        for s in range(SPLITS):
            for m in METHODS:
                obs = rng.normal(size=CELLS).tolist()
                pred = (0.5 * np.asarray(obs) + 0.3 * rng.normal(size=CELLS)).tolist()
                lines += [f"{d},{s},{m},CL{i},{'test' if i < N_TEST else 'train'},{obs[i]!r},{pred[i]!r},1,1,1,"
                          f"{pred[i] - 1.0!r},{pred[i] + 1.0!r},0" for i in range(CELLS)]
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    records = [{"drug": d, "split": s, "method": m, "mse": 0.5 + 0.01 * METHODS.index(m), "r2": 0.3}
               for d in DRUGS for s in range(SPLITS) for m in METHODS]
    return path, records


@pytest.mark.parametrize("impl", ["ours", "reference"])
def test_scatter_read(benchmark, impl, predictions, monkeypatch):
    benchmark.group = "scatter-read"
    path, records = predictions
    drawn = {}
    monkeypatch.setattr(figures, "scatter_grid", lambda panels, show: drawn.update(panels=panels))

    def ours():
        sections_extra.scatter_section(path, records, DRUGS, METHODS)["figures"][0]["make"]()
        return drawn["panels"]

    panels = benchmark.pedantic(ours if impl == "ours" else lambda: _panels_by_filter(path, DRUGS, ["PM", "PM+"]),
                                rounds=3, iterations=1)
    assert len(panels) == len(DRUGS)


@pytest.mark.skipif(not figures.available(), reason="matplotlib (the plot extra) is not installed")
@pytest.mark.parametrize("jobs", [2, 1])
def test_figures(benchmark, jobs, predictions, tmp_path):
    benchmark.group = "figures"
    path, records = predictions
    scatter = sections_extra.scatter_section(path, records, DRUGS[:12], METHODS)["figures"][0]
    sections = [{"figures": [dict(scatter, name=f"fig_observed_predicted_{k}") for k in range(4)]}]
    svgs = benchmark.pedantic(lambda: report._render_figures(sections, tmp_path, jobs), rounds=2, iterations=1)
    assert len(svgs) == 4 and (tmp_path / "fig_observed_predicted_3.png").exists()
