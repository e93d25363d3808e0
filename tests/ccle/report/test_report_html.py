"""report.html / report.md from synthetic records carrying every contract field, section by section; the
absent notes; the merge with results.jsonl; build_report; the page in headless Chromium."""
import gzip
import json
import re
from html import escape
from html.parser import HTMLParser

import numpy as np
import pytest

import ccle.report as report
from ccle.report import build_report, figures, write_report

DRUGS = ("17-AAG", "AEW541", "AZD0530")
METHODS = ("PM", "EN", "RF", "SVR", "ANN", "mean")
FULL = {"cal_acc", "confusion_paper", "test_mse_stages", "compression_ratio", "interval_coverage"}


def make_records(drugs=DRUGS, methods=METHODS, splits=2, fields=FULL, protocol="strict", null=False, seed=0):
    """Records shaped like the runner's, with the contract's optional fields when named in ``fields``."""
    rng = np.random.default_rng(seed)
    recs = []
    for di, d in enumerate(drugs):
        for s in range(splits):
            for mi, m in enumerate(methods):
                mse = 0.4 + 0.1 * di + 0.03 * mi + 0.01 * rng.random() + (0.3 if null else 0.0)
                r = {"drug": d, "split": s, "method": m, "protocol": protocol, "seed": 0, "config_key": "k1",
                     "n_train": 70, "n_test": 30, "fit_seconds": 0.01 * (mi + 1) ** 2, "selector_seconds": 0.0,
                     "search_seconds": 0.0, "train_seconds": 0.01 * (mi + 1) ** 2 + 0.001 * rng.random(),
                     "predict_seconds": 0.001, "mse": mse, "rmse": mse ** 0.5, "r2": 0.5 - mse / 2,
                     "pearson": 0.5, "spearman": 0.45, "sens_acc": 0.55 - 0.01 * mi + 0.01 * rng.random()}
                if null:
                    r["null"] = True
                if "interval_coverage" in fields:
                    r.update(interval_level=0.9, interval_coverage=0.85 + 0.02 * mi + 0.01 * s,
                             interval_width=1.0 + 0.1 * mi, confident_share=0.2, confident_acc=0.9)
                if "cal_acc" in fields:
                    r.update(cal_acc=0.5, cal_bal_acc=0.45, cal_macro_f1=0.44, cal_kappa=0.2, paper_bal_acc=0.4,
                             paper_kappa=0.1, auroc_sensitive=0.7, auroc_resistant=0.68)
                if "confusion_paper" in fields:
                    r["confusion_paper"] = [[5, 2, 1], [3, 9, 3], [1, 2, 4]]
                    r["confusion_calibrated"] = [[6, 1, 1], [2, 10, 3], [0, 3, 4]]
                if m == "PM" and "compression_ratio" in fields:
                    r.update(compressed_bytes=7000.0, dense_bytes=56000.0, compression_ratio=8.0,
                             compression_val_mse={"dense": 0.9, "pruned": 0.92, "quantized": 0.93, "huffman": 0.93})
                if m == "PM" and "test_mse_stages" in fields:
                    r["test_mse_stages"] = {"dense": mse, "pruned": mse + 0.01, "quantized": mse + 0.02,
                                            "huffman": mse + 0.02}
                recs.append(r)
    return recs


def write_side_files(out, recs):
    """predictions.csv.gz and genes.csv as the contract describes them."""
    rng = np.random.default_rng(1)
    lines = ["drug,split,method,cell_line,set,observed,predicted,class_observed,class_paper,class_calibrated"]
    for r in recs:
        for i in range(12):
            obs = rng.normal()
            lines.append(f"{r['drug']},{r['split']},{r['method']},CL{i},{'train' if i < 8 else 'test'},{obs:.4f},"
                         f"{0.5 * obs + 0.1 * rng.normal():.4f},1,1,1")
    with gzip.open(out / "predictions.csv.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    g = ["drug,gene,selection_frequency,mean_rank,known_marker"]
    for d in DRUGS:
        for j in range(12):
            g.append(f"{d},GENE{j},{1.0 - 0.07 * j:.2f},{j + 1},{'true' if j == 3 else 'false'}")
    (out / "genes.csv").write_text("\n".join(g) + "\n")


META = {"protocol": "strict", "seed": 0, "config_key": "k1", "data": "synthetic", "data_fingerprint": "abc123",
        "argv": ["cli.py", "benchmark", "--quick"], "run_seconds_this_invocation": 12.5, "load_seconds": 1.0,
        "versions": {"numpy": "2.x"}, "n_genes": 200}


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [v or "" for _, v in attrs]


def _section(html, sid):
    m = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S)
    assert m, sid
    return m.group(1)


needs_plot = pytest.mark.skipif(not figures.available(), reason="matplotlib (the plot extra) is not installed")


@needs_plot
def test_every_section_renders_when_its_fields_are_present(tmp_path):
    recs = make_records() + make_records(protocol="paper") + make_records(null=True)
    write_side_files(tmp_path, recs)
    write_report(recs, tmp_path, META, list(DRUGS), list(METHODS))
    html = (tmp_path / "report.html").read_text()
    md = (tmp_path / "report.md").read_text()
    for sid in ("run", "table1", "per-drug", "ranks", "paired", "table2", "timing", "scatter", "sensitivity",
                "genes", "leakage", "compression", "coverage", "leakage-headline"):
        assert "Not in this run" not in _section(html, sid), sid
    # 3 drugs: the ranks are shown, the critical-difference diagram is not (Friedman / Nemenyi need ~10)
    assert "no diagram is drawn" in _section(html, "ranks") and not (tmp_path / "fig_critical_difference.png").exists()
    cov = _section(html, "coverage")
    assert "90 % interval" in cov and "<td>0.855</td>" in cov    # PM: 0.85 + 0.005 on average over splits
    head = _section(html, "leakage-headline")
    assert "AEW541" not in head or "published" in head
    assert "<td>PM (paper, as described)</td><td>3</td>" in head
    t1 = _section(html, "table1")
    assert "per-drug mean" in t1 and "Average over drugs" in t1 and "<th>mean</th>" not in t1
    assert re.search(r"<td>0\.\d{3} ± 0\.\d{3}</td>", t1)
    assert t1.count('class="best"') == len(DRUGS) + 1      # PM (lowest MSE by construction) in every row
    assert "<td>70 / 30</td>" in t1                          # n train / n test per drug
    assert "Steps that saw test rows" in _section(html, "run") and "strict, paper" in _section(html, "run")
    assert "strict, pairs, permuted (null)" in _section(html, "leakage")
    assert "GENE0 (1.00)" in _section(html, "genes") and "GENE3 #4" in _section(html, "genes")
    assert "validation MSE, pruned" in _section(html, "compression") and "test MSE, huffman" in html
    assert 'always &quot;moderate&quot; / chance' in _section(html, "sensitivity")
    for name in ("fig3", "fig_per_drug_r2", "fig_observed_predicted", "fig_confusion", "fig_gene_stability",
                 "fig_interval_coverage", "fig_leakage_per_drug"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert f'<figure id="{name}">' in html and f"![" in md and f"({name}.png)" in md
    # Table I, leakage etc. are built from the strict, non-permuted records only
    assert json.loads((tmp_path / "run.json").read_text())["n_results"] == len(DRUGS) * len(METHODS) * 2


def test_absent_sections_say_so_and_page_is_self_contained(tmp_path):
    write_report(make_records(fields=()), tmp_path, META, list(DRUGS), list(METHODS))
    html = (tmp_path / "report.html").read_text()
    for sid in ("scatter", "sensitivity", "genes", "leakage", "compression"):
        assert "Not in this run" in _section(html, sid), sid
    parser = Collect()
    parser.feed(html)
    parser.close()
    assert parser.tags[:3] == ["html", "head", "meta"] and "table" in parser.tags
    # no external reference: every src/href is a data URI or an in-page anchor
    for v in parser.attrs:
        assert not re.match(r"(https?:|//|ftp:)", v), v
    text_without_data = re.sub(r'data:[^"]+', "", html)
    assert "http://" not in text_without_data and "https://" not in text_without_data
    assert "<script" not in html


def test_without_matplotlib_markdown_and_html_carry_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "available", lambda: False)
    text = write_report(make_records(fields=()), tmp_path, META, list(DRUGS), list(METHODS))
    assert report.NO_PLOT_NOTE in (tmp_path / "report.md").read_text()
    assert escape(report.NO_PLOT_NOTE) in (tmp_path / "report.html").read_text() and report.NO_PLOT_NOTE in text
    assert not list(tmp_path.glob("fig*.png")) and "<img" not in (tmp_path / "report.html").read_text()
    assert "| 17-AAG |" in (tmp_path / "report.md").read_text()


def test_report_covers_every_stored_record_of_the_configuration(tmp_path):
    store = tmp_path / "results.jsonl"
    older = make_records()
    other_config = [dict(r, config_key="k2", method="ZZ") for r in make_records(methods=("PM",))]
    store.write_text("".join(json.dumps(r) + "\n" for r in older + other_config) + '{"torn": ')
    # this invocation ran EN and mean only
    latest = [r for r in make_records(seed=5) if r["method"] in ("EN", "mean")]
    write_report(latest, tmp_path, META, list(DRUGS), ["EN", "mean"])
    header = (tmp_path / "table1.csv").read_text().splitlines()[0].split(",")
    assert header == ["drug", "EN", "mean", "PM", "RF", "SVR", "ANN", "best"]   # order: this run's first
    en = [r for r in latest if r["method"] == "EN" and r["drug"] == DRUGS[0]]
    row = (tmp_path / "table1.csv").read_text().splitlines()[1].split(",")
    assert float(row[1]) == pytest.approx(np.mean([r["mse"] for r in en]))   # the newer EN results won


def test_build_report_rebuilds_from_the_folder_alone(tmp_path):
    recs = make_records(fields=())
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    write_report(recs, tmp_path, META, list(DRUGS), list(METHODS))
    first = (tmp_path / "table1.csv").read_text()
    for name in ("report.html", "report.md", "table1.csv"):
        (tmp_path / name).unlink()
    assert build_report(tmp_path) == tmp_path / "report.html"
    assert (tmp_path / "table1.csv").read_text() == first and (tmp_path / "report.md").exists()
    assert json.loads((tmp_path / "run.json").read_text())["data_fingerprint"] == "abc123"


def test_build_report_bad_folder_is_one_clear_error(tmp_path):
    from ccle.errors import CCLEError

    with pytest.raises(CCLEError, match="results.jsonl: no results file"):
        build_report(tmp_path)
    (tmp_path / "results.jsonl").write_text(json.dumps(make_records(fields=())[0]) + "\n")
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(CCLEError, match="run.json: not valid JSON"):
        build_report(tmp_path)
