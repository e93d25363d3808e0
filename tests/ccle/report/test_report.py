"""Table I / Table II / timing / paired tables and the files a report writes."""
import json
import re

import numpy as np
import pytest

import pandas as pd

from ccle.report import figures, paired_table, table1, table2, timing_table, to_markdown, write_report
from ccle.report.stats import paired_tests


def _records():
    recs = []
    rng = np.random.default_rng(0)
    for d, base in (("drugA", 1.0), ("drugB", 0.5)):
        for s in range(3):
            for m, factor in (("PM", 0.8), ("EN", 0.9), ("mean", 1.0)):
                mse = base * factor + 0.01 * s
                recs.append({"drug": d, "split": s, "method": m, "mse": mse, "rmse": mse ** 0.5, "r2": 1 - mse,
                             "pearson": 0.5, "spearman": 0.4, "sens_acc": 0.5 + 0.1 * (m == "PM") + 0.01 * s,
                             "train_seconds": 1.0 + (m == "EN") + rng.random() * 0.01, "predict_seconds": 0.01,
                             "n_train": 70, "n_test": 30, "fit_seconds": 1.0})
    return recs


def test_table1_means_best_and_mean_row():
    header, rows = table1(_records())
    assert header == ["drug", "PM", "EN", "mean", "best"]
    assert rows[0][0] == "drugA" and rows[0][1] == pytest.approx(0.81)
    assert [r[-1] for r in rows] == ["PM", "PM", "PM"]
    assert rows[-1][0] == "Mean" and rows[-1][2] == pytest.approx((0.91 + 0.46) / 2)
    md = to_markdown(header, rows, mark_best=True)
    assert "| drugA | 0.810* | 0.910 | 1.010 |" in md


def test_table2_statistics_over_drugs():
    header, rows = table2(_records())
    names = [r[0] for r in rows]
    assert names == ["Minimum", "25 perc.", "Mean", "50 perc. (Median)", "75 perc.", "Maximum"]
    pm = {r[0]: r[1] for r in rows}
    assert pm["Minimum"] == pytest.approx(0.61) and pm["Maximum"] == pytest.approx(0.61)


def test_timing_and_paired_tables():
    h, rows = timing_table(_records())
    by = {r[0]: r for r in rows}
    assert by["EN"][1] == pytest.approx(2.0, abs=0.02) and by["PM"][1] == pytest.approx(1.0, abs=0.02)
    hp, rp, hs, rs = paired_table(_records())
    assert {r[0] for r in rp} == {"EN", "mean"}
    summary = {r[0]: r for r in rs}
    assert summary["EN"][1:3] == [2, 2]  # 2 drugs, PM lower MSE on both
    # the differences are constant per drug (-0.1 / -0.05), so the test is maximally significant
    assert summary["EN"][3] == 2 and summary["EN"][4] == 0


def test_write_report_files(tmp_path):
    text = write_report(_records(), tmp_path, {"protocol": "strict", "seed": 7, "data_fingerprint": "abc"})
    for name in ("table1", "table2", "timing", "metrics", "paired", "paired_summary"):
        assert (tmp_path / f"{name}.csv").exists() and (tmp_path / f"{name}.md").exists()
    assert "protocol: strict" in text and "Table I" in text and "Table II" in text
    assert "Protocol **strict**" in (tmp_path / "report.md").read_text()
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["seed"] == 7 and run["n_results"] == 18 and run["methods"] == ["PM", "EN", "mean"]
    try:
        import matplotlib  # noqa: F401  (the `plot` extra; the test extra does not install it)
    except ImportError:
        assert not (tmp_path / "fig3.png").exists()
        assert "Fig. 3 skipped: matplotlib is not installed" in (tmp_path / "report.md").read_text()
    else:
        assert (tmp_path / "fig3.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (tmp_path / "table1.csv").read_text().splitlines()
    assert lines[0] == "drug,PM,EN,mean,best" and lines[-1].startswith("Mean,")


@pytest.mark.parametrize("lo,hi", [(0.01, 40.0), (0.05, 0.4), (0.3, 9.0), (0.0007, 0.5)])
def test_fig3_seconds_labels_do_not_overlap(lo, hi):
    """The log seconds axis of Fig. 3 labels as many multiples per decade as fit: no two labels overlap."""
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from ccle.report.figures import fig3
    methods = ["PM", "EN", "RF", "mean"]
    secs = np.geomspace(lo, hi, len(methods))
    summary = {m: {"seconds": np.array([s, s * 1.1]), "acc": np.array([0.5, 0.55]), "mse": np.array([0.5, 0.6])}
               for m, s in zip(methods, secs)}
    fig = fig3(summary, methods)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes[:2]:
        boxes = sorted((t.get_window_extent(renderer) for t in ax.get_xticklabels()
                        if t.get_visible() and t.get_text()), key=lambda b: b.x0)
        assert len(boxes) >= 2, [t.get_text() for t in ax.get_xticklabels()]
        for a, b in zip(boxes, boxes[1:]):
            assert a.x1 <= b.x0, (lo, hi, [t.get_text() for t in ax.get_xticklabels()])


def _noisy_records(n_drugs=12, splits=5, seed=3):
    """PM against EN on 12 drugs: per split MSE differences of mean -0.03 and noise, so that some drugs are
    significant uncorrected (p < 0.05) but not after Benjamini-Hochberg across drugs."""
    rng = np.random.default_rng(seed)
    recs = []
    for k in range(n_drugs):
        d = f"drug{k:02d}"
        for s in range(splits):
            base = 0.5 + 0.05 * k
            for m, mse in (("PM", base - 0.03 + 0.04 * rng.normal()), ("EN", base)):
                recs.append({"drug": d, "split": s, "method": m, "mse": mse, "rmse": abs(mse) ** 0.5, "r2": 0.1,
                             "pearson": 0.3, "spearman": 0.3, "sens_acc": 0.5, "train_seconds": 1.0,
                             "predict_seconds": 0.01, "n_train": 70, "n_test": 30, "fit_seconds": 1.0})
    return recs


def test_console_csv_and_report_count_significance_with_one_rule(tmp_path):
    recs = _noisy_records()
    rows, summary = paired_tests(recs, "PM")
    raw = sum(1 for r in rows if r[4] < 0.05)
    bh = summary[0][3] + summary[0][4]
    assert raw > bh          # the data tell the two rules apart, so the test would catch the uncorrected count
    text = write_report(recs, tmp_path, {"protocol": "strict", "seed": 0})
    csv = pd.read_csv(tmp_path / "paired_summary.csv")
    assert csv.iloc[0].tolist()[1:] == summary[0][1:]
    assert "q_bh" in pd.read_csv(tmp_path / "paired.csv").columns
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("PM against each baseline"))
    line = next(ln for ln in lines[start:] if ln.strip().startswith("EN"))
    assert [int(x) for x in line.split()[1:]] == summary[0][1:]
    assert "Benjamini-Hochberg" in text
    html = (tmp_path / "report.html").read_text()
    cells = re.findall(r"<tr><td>EN</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", html)
    assert [int(x) for x in cells[0]] == summary[0][1:]
    if figures.available():   # 12 drugs: enough for the critical-difference diagram
        assert (tmp_path / "fig_critical_difference.png").exists()
