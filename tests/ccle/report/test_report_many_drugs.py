"""The report over hundreds of drugs: it leads with summaries over drugs, folds every per-drug table (each one
also written in full as CSV), draws the per-drug figures for a subset, stays under a size bound and renders in
headless Chromium; runs of up to 30 drugs look as before."""
import gzip
import html as htmlmod
import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.report import figures, write_report
from ccle.report.overview import FIGURE_DRUGS, MANY_DRUGS, PANEL_DRUGS, figure_drugs, fold

HERE = Path(__file__).parent


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _load("report_html_helpers", HERE / "test_report_html.py")
METHODS = ("PM", "PM+", "EN", "RF", "SVR", "ANN", "mean", "tissue")
HTML_BOUND = 3_000_000     # bytes of report.html for 300 drugs x 8 methods with every figure (measured 2.4 MB)
MD_BOUND = 60_000          # bytes of report.md: the folded tables are not repeated there


def drug_names(n):
    return tuple(f"Drug-{i:03d}" for i in range(n))


def many_records(n_drugs, splits=5, seed=0, fields=helpers.FULL):
    """Records of ``n_drugs`` drugs under both protocols; drug i's methods explain a share of its variance that
    grows with i (so the drugs spread over R²), PM carries its searched widths."""
    drugs = drug_names(n_drugs)
    rng = np.random.default_rng(seed)
    recs = []
    for protocol in ("strict", "paper"):
        recs += helpers.make_records(drugs=drugs, methods=METHODS, splits=splits, fields=fields,
                                     protocol=protocol, seed=seed + (protocol == "paper"))
    for r in recs:
        i = drugs.index(r["drug"])
        var = 0.3 + 0.05 * (i % 17)
        gain = 0.0 if r["method"] == "mean" else 0.4 * i / n_drugs - 0.1
        r["mse"] = var * (1 - gain) + 0.01 * rng.normal()
        r["r2"] = 1 - r["mse"] / var
        if r["method"] == "PM":
            r.update(widths=[10, 20], search_calls=3)
    return drugs, recs


def side_files(out, recs, drugs):
    rng = np.random.default_rng(1)
    lines = ["drug,split,method,cell_line,set,observed,predicted,class_observed,class_paper,class_calibrated"]
    for r in recs:
        if r["protocol"] == "strict":
            for i in range(12):
                obs = rng.normal()
                lines.append(f"{r['drug']},{r['split']},{r['method']},CL{i},{'train' if i < 8 else 'test'},"
                             f"{obs:.4f},{0.5 * obs + 0.1 * rng.normal():.4f},1,1,1")
    with gzip.open(out / "predictions.csv.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    g = ["drug,gene,selection_frequency,mean_rank,known_marker"]
    for k, d in enumerate(drugs):
        for j in range(8):
            g.append(f"{d},GENE{(j + k) % 40},{rng.random():.2f},{j + 1},{'true' if j == 3 else 'false'}")
    (out / "genes.csv").write_text("\n".join(g) + "\n")


def _section(page, sid):
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, sid
    return m.group(1)


def test_figure_drugs_span_the_range_of_r2():
    drugs = [f"D{i}" for i in range(100)]
    recs = [{"drug": d, "split": 0, "method": "EN", "r2": i / 100} for i, d in enumerate(drugs)]
    shown = figure_drugs(recs, drugs, ["EN"], 10)
    assert len(shown) == 10 and shown[0] == "D99" and shown[-1] == "D0"    # the best and the worst drug
    assert shown == sorted(shown, key=lambda d: -int(d[1:]))                # highest R² first
    assert figure_drugs(recs, drugs[:10], ["EN"], 10) == drugs[:10]          # few drugs: all, in run order
    table = {"header": ["Drug"], "rows": [[d] for d in drugs]}
    assert fold(table, drugs[:MANY_DRUGS], "x.csv") is table
    assert fold(table, drugs, "x.csv")["collapsed"] == "Every drug (100 rows; also in x.csv)"


def test_many_drugs_tables_fold_and_every_drug_is_in_the_csvs(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "available", lambda: False)   # the tables alone: fast
    drugs, recs = many_records(MANY_DRUGS + 10, splits=3)
    side_files(tmp_path, recs, drugs)
    text = write_report(recs, tmp_path, helpers.META, list(drugs), list(METHODS))
    page = (tmp_path / "report.html").read_text()
    # the summaries over drugs lead, right after the run
    ids = re.findall(r'<section id="([^"]+)">', page)
    assert ids[:3] == ["run", "over-drugs", "table1"]
    over = _section(page, "over-drugs")
    assert "<td>EN</td><td>40</td>" in over and "Lower MSE than the per-drug mean on" in over
    # PM gains 0.4 i / n - 0.1 of drug i's variance: it beats the per-drug mean on about the upper 3/4 of drugs
    def mse(d, m):
        return np.mean([r["mse"] for r in recs if (r["drug"], r["method"], r["protocol"]) == (d, m, "strict")])
    expected = sum(1 for d in drugs if mse(d, "PM") < mse(d, "mean"))
    assert 25 <= expected <= 35
    pm_row = re.search(r"<tr><td>PM \(paper, as described\)</td>(.*?)</tr>", over).group(1)
    assert re.findall(r"<td>(\d+) of 40</td>", pm_row)[-1] == str(expected)
    # Table I: the average row in view, every drug folded below it
    t1 = _section(page, "table1")
    head, folded = t1.split("<details>", 1)
    assert "Average over drugs" in head and "Drug-000" not in head
    assert all(f"<td>{d}</td>" in folded for d in drugs)
    assert "Every drug (40 rows; also in table1.csv)" in folded
    for sid in ("coverage", "genes", "widths", "compression_change", "paired", "inflation"):
        assert "<details>" in _section(page, sid) and "rows; also in" in _section(page, sid), sid
    # every per-drug table is a CSV holding every drug
    table1 = pd.read_csv(tmp_path / "table1.csv")
    assert list(table1.columns) == ["drug", *METHODS, "best"] and list(table1["drug"]) == [*drugs, "Mean"]
    for name in ("per_drug_metrics.csv", "coverage_per_drug.csv", "leakage_per_drug.csv", "compression_per_drug.csv",
                 "pm_widths.csv", "paired.csv", "inflation.csv", "genes.csv"):
        assert set(pd.read_csv(tmp_path / name)["drug"]) == set(drugs), name
    metrics = pd.read_csv(tmp_path / "per_drug_metrics.csv")
    assert len(metrics) == len(drugs) * len(METHODS)
    en = [r["mse"] for r in recs if r["drug"] == drugs[5] and r["method"] == "EN" and r["protocol"] == "strict"]
    row = metrics[(metrics["drug"] == drugs[5]) & (metrics["method"] == "EN")].iloc[0]
    assert row["mse_mean"] == pytest.approx(np.mean(en)) and row["mse_max"] == pytest.approx(max(en))
    # report.md and the terminal name the CSVs instead of repeating hundreds of rows
    md = (tmp_path / "report.md").read_text()
    assert "rows, not repeated here: see table1.csv" in md and "| Drug-017 |" not in md
    assert "Drug-017" not in text and "average over the 40 drugs" in text


def test_small_runs_keep_every_drug_in_view(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "available", lambda: False)
    drugs, recs = many_records(24, splits=2, fields=("interval_coverage",))
    write_report(recs, tmp_path, helpers.META, list(drugs), list(METHODS))
    page = (tmp_path / "report.html").read_text()
    assert 'id="over-drugs"' not in page
    t1 = _section(page, "table1")
    assert "<details>" not in t1 and all(f"<td>{d}</td>" in t1 for d in drugs)
    assert "rows; also in" not in page
    md = (tmp_path / "report.md").read_text()
    assert "| Drug-017 |" in md and "not repeated here" not in md


class _Checker(HTMLParser):
    """Counts the elements and checks that every opened details / table / section is closed."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.count = [], [], {}

    def handle_starttag(self, tag, attrs):
        self.count[tag] = self.count.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def report_300(tmp_path_factory):
    if not figures.available():
        pytest.skip("matplotlib (the plot extra) is not installed")
    out = tmp_path_factory.mktemp("many") / "run"
    out.mkdir()
    drugs, recs = many_records(300)
    side_files(out, recs, drugs)
    text = write_report(recs, out, helpers.META, list(drugs), list(METHODS))
    return out, drugs, text


@pytest.mark.slow
def test_300_drugs_report_size_figures_and_csvs(report_300):
    out, drugs, text = report_300
    page = (out / "report.html").read_text()
    assert len(page.encode()) < HTML_BOUND and len((out / "report.md").read_bytes()) < MD_BOUND
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert "<script" not in page
    assert re.findall(r'<figure id="([^"]+)">', page) == [
        "fig_over_drugs", "fig_leakage_per_drug", "fig_per_drug_r2", "fig_critical_difference", "fig3",
        "fig_observed_predicted", "fig_confusion", "fig_interval_coverage", "fig_gene_stability"]
    # the per-drug figures show a subset and say where every drug is
    assert f"Shown: {FIGURE_DRUGS} of the 300 drugs" in _section(page, "per-drug")
    assert f"Shown: {PANEL_DRUGS} of the 300 drugs" in _section(page, "scatter")
    assert "every drug is in leakage_per_drug.csv" in _section(page, "leakage-headline")
    assert "every drug is in genes.csv" in _section(page, "genes")
    svg = (out / "fig_per_drug_r2.svg").read_text()
    labels = set(re.findall(r"Drug-\d{3}", svg))
    assert len(labels) == FIGURE_DRUGS
    assert set(pd.read_csv(out / "per_drug_metrics.csv")["drug"]) == set(drugs)
    assert set(pd.read_csv(out / "table1.csv")["drug"]) == set(drugs) | {"Mean"}
    assert len(text.splitlines()) < 120


@pytest.mark.slow
def test_300_drugs_report_in_headless_chromium(report_300, tmp_path):
    browser = _load("report_browser_helpers", HERE / "test_report_browser.py")
    path = browser._chromium()
    if path is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    out, drugs, _ = report_300
    probe = tmp_path / "probe.html"
    probe.write_text((out / "report.html").read_text().replace("</body>", browser.PROBE + "</body>"))
    res = browser._run(path, tmp_path, "--virtual-time-budget=15000", "--dump-dom", probe.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(htmlmod.unescape(re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, re.S).group(1)))
    assert data["errors"] == []
    for fig in data["figures"]:
        assert fig["complete"] and fig["w"] > 100 and fig["h"] > 50, fig
    # the page before the folded tables: the summary over drugs and Table I's average row, not 300 drug rows
    visible = res.stdout.split("<details>", 1)[0]
    assert 'id="over-drugs"' in visible and "Drug-150" not in visible
