"""The report's faster paths give what the plain ones gave: the observed-against-predicted panels read from
predictions.csv.gz with numpy indexing equal a per-drug pandas filter, and figures drawn by forked processes are
the files and SVG texts of a serial run."""
import hashlib
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccle.report as report
from ccle.evaluation.thresholds import IQRThresholds
from ccle.report import figures, sections_extra

from tests.ccle.report.test_report_html import DRUGS, META, METHODS, make_records, write_side_files

REPO = Path(__file__).resolve().parents[3]
needs_plot = pytest.mark.skipif(not figures.available(), reason="matplotlib (the plot extra) is not installed")


def _panels_by_filter(path, drugs, show):
    """The panels as a filter of the whole frame per drug, method and set (the reference)."""
    df = pd.read_csv(path)
    panels = {}
    for d in drugs:
        sub = df[df["drug"] == d]
        test = sub[sub["set"] == "test"]
        points = {m: (test.loc[test["method"] == m, "observed"].to_numpy(float),
                      test.loc[test["method"] == m, "predicted"].to_numpy(float)) for m in show}
        train = sub[(sub["set"] == "train") & (sub["method"] == show[0])]
        ths = [IQRThresholds().fit(g["observed"].to_numpy(float)) for _, g in train.groupby("split")]
        panels[d] = {"points": {m: p for m, p in points.items() if p[0].size},
                     "thresholds": (float(np.mean([t.low_ for t in ths])), float(np.mean([t.high_ for t in ths])))}
    return panels


def test_scatter_panels_equal_a_per_drug_filter(tmp_path, monkeypatch):
    recs = make_records(splits=3)
    write_side_files(tmp_path, recs)
    drawn = {}
    monkeypatch.setattr(figures, "scatter_grid", lambda panels, show: drawn.update(panels=panels, show=show))
    sec = sections_extra.scatter_section(tmp_path / "predictions.csv.gz", recs, list(DRUGS), list(METHODS))
    sec["figures"][0]["make"]()
    want = _panels_by_filter(tmp_path / "predictions.csv.gz", DRUGS, drawn["show"])
    assert drawn["show"][0] == "PM" and list(drawn["panels"]) == list(want)
    for d, panel in want.items():
        got = drawn["panels"][d]
        assert got["thresholds"] == panel["thresholds"] and list(got["points"]) == list(panel["points"])
        for m, (obs, pred) in panel["points"].items():
            assert obs.size == 3 * 4    # 4 test rows per split
            assert np.array_equal(got["points"][m][0], obs) and np.array_equal(got["points"][m][1], pred)


def _outputs(folder, svgs):
    pngs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}
    # matplotlib salts the SVG element ids with a random value per figure: compare the rest
    strip = {name: re.sub(r'(id|xlink:href|clip-path)="[^"]*"', "", text) for name, text in svgs.items()}
    return pngs, strip


def _draw_serial_and_forked(folder):
    """Figures of one set of sections drawn by one process and by two -> (forked?, {jobs: outputs})."""
    folder = Path(folder)
    recs = make_records() + make_records(protocol="paper")
    write_side_files(folder, recs)
    sections = report.build_sections(recs, folder, META, list(DRUGS), list(METHODS))
    out = {}
    for jobs in (1, 2):
        sub = folder / f"jobs{jobs}"
        sub.mkdir()
        out[jobs] = _outputs(sub, report._render_figures(sections, sub, jobs))
    return report._can_fork(), out


@needs_plot
@pytest.mark.slow
def test_figures_drawn_by_two_processes_equal_a_serial_run(tmp_path):
    # in a fresh interpreter: a pytest-xdist worker runs threads of its own, and a process with threads never forks
    code = ("import pickle, sys; sys.path.insert(0, sys.argv[1]); "
            "from tests.ccle.report.test_report_figures_fast import _draw_serial_and_forked as draw; "
            "pickle.dump(draw(sys.argv[2]), open(sys.argv[3], 'wb'))")
    result = tmp_path / "result.pickle"
    proc = subprocess.run([sys.executable, "-c", code, str(REPO), str(tmp_path), str(result)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    forked, out = pickle.loads(result.read_bytes())
    assert forked
    assert len(out[1][0]) >= 5 and list(out[1][1]) == list(out[2][1])
    assert out[1] == out[2]


@needs_plot
@pytest.mark.slow
def test_report_command_with_two_processes_writes_every_figure_quietly(tmp_path):
    recs = make_records()
    write_side_files(tmp_path, recs)
    with open(tmp_path / "results.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in recs)
    (tmp_path / "run.json").write_text(json.dumps(dict(META, drugs=list(DRUGS), methods=list(METHODS))))
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), "report", str(tmp_path), "--jobs", "2"],
                          capture_output=True, text=True, timeout=300)
    # the pool ends its processes with SIGTERM: they must go without a word
    assert proc.returncode == 0 and proc.stderr.strip() == f"wrote {tmp_path / 'report.html'}", proc.stderr
    html = (tmp_path / "report.html").read_text()
    for name in ("fig3", "fig_per_drug_r2", "fig_observed_predicted", "fig_confusion", "fig_gene_stability"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'<figure id="{name}">' in html
