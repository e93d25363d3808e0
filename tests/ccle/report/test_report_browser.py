"""report.html in a real browser (headless Chromium): loads without errors, every figure has a size, Table I
holds every drug and method; a screenshot is saved in the test's temp folder.

The records come from a ``--quick``-sized synthetic run (3 drugs x 2 splits x 6 methods, every optional field,
predictions.csv.gz and genes.csv), so every figure of the report is drawn. Skips with a message when no
Chromium is installed (``.ci/run`` installs the Debian package ``chromium``)."""
import html as htmlmod
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ccle.report import figures, write_report
from ccle.report.tables import method_label

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("report_html_helpers", HERE / "test_report_html.py")
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Added to a copy of the page: records script errors and every figure's rendered size into the DOM, which
# --dump-dom then prints (the report itself carries no script).
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || e.type)); }, true);
window.addEventListener('load', function () {
  var out = {errors: window.__errors, figures: []};
  document.querySelectorAll('img, svg').forEach(function (el) {
    var r = el.getBoundingClientRect();
    out.figures.push({tag: el.tagName, id: (el.closest('figure') || {}).id || '', w: r.width, h: r.height,
                      complete: el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0)});
  });
  out.tables = [];
  document.querySelectorAll('table').forEach(function (t) {
    var box = t.parentElement;
    out.tables.push({w: t.getBoundingClientRect().width, box: box.clientWidth, scroll: box.scrollWidth,
                     overflow: getComputedStyle(box).overflowX});
  });
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    path = _chromium()
    if path is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; .ci/run does it) - browser test skipped")
    return path


def _run(browser, tmp_path, *args):
    cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not figures.available(), reason="matplotlib (the plot extra) is not installed")
@pytest.mark.slow
def test_report_in_headless_chromium(browser, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    recs = helpers.make_records()
    helpers.write_side_files(out, recs)
    write_report(recs, out, helpers.META, list(helpers.DRUGS), list(helpers.METHODS))
    page = (out / "report.html").read_text()
    n_figures = page.count("<figure ")
    assert n_figures == 6

    probe = out / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    res = _run(browser, tmp_path, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
               "--dump-dom", probe.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, re.S)
    assert m, "the page's load event never ran: " + res.stderr[-2000:]
    data = json.loads(htmlmod.unescape(m.group(1)))
    assert data["errors"] == []
    console = [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == []
    assert len(data["figures"]) == n_figures
    for fig in data["figures"]:
        assert fig["complete"] and fig["w"] > 100 and fig["h"] > 50, fig
    # a table wider than the page scrolls inside its box instead of being cut at the page's edge
    for tab in data["tables"]:
        assert tab["overflow"] == "auto" and (tab["w"] <= tab["box"] + 1 or tab["scroll"] > tab["box"]), tab

    # Table I as the browser sees it: every drug a row, every method a column
    dom = res.stdout
    table1 = re.search(r'<section id="table1">.*?<table class="table1">(.*?)</table>', dom, re.S).group(1)
    headers = [htmlmod.unescape(h) for h in re.findall(r"<th>(.*?)</th>", table1)]
    assert headers == ["Drug", "n train / n test"] + [method_label(m) for m in helpers.METHODS]
    first_cells = [htmlmod.unescape(c) for c in re.findall(r"<tr[^>]*><td[^>]*>(.*?)</td>", table1)]
    assert first_cells == list(helpers.DRUGS) + ["Average over drugs"]

    shot = tmp_path / "report.png"
    res = _run(browser, tmp_path, "--hide-scrollbars", "--window-size=1200,5200", f"--screenshot={shot}",
               (out / "report.html").as_uri())
    assert res.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000   # a blank page is a few kB
