"""The documentation: the Sphinx site builds with warnings as errors, its index page renders in headless
Chromium without errors, the docstring examples of nnlite run, the input-format examples are read by the
program's own readers, and every command has its generated option list."""
import doctest
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccle.cli import COMMANDS, build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXAMPLES = DOCS / "examples"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# nnlite modules with docstring examples: those that run in about 2 s even on a cold Numba cache are in the
# fast suite; the others compile kernels first (5-50 s cold) and run in the slow suite
CHEAP_DOCTESTS = ["nnlite.baselines", "nnlite.layers", "nnlite.networks", "nnlite.compress.sparse",
                  "nnlite.compress.prune", "nnlite.compress.quantize", "ccle.errors", "ccle.evaluation.metrics",
                  "ccle.evaluation.splits"]
SLOW_DOCTESTS = ["nnlite.runtime", "nnlite.optim", "nnlite.model", "nnlite.ann", "nnlite.linear.enet",
                 "nnlite.linear.svr", "nnlite.selection", "nnlite.tree", "nnlite.forest", "nnlite.compress.huffman",
                 "nnlite.compress.fileformat"]


# examples that need a model file written by `ccle train`: tests/nnlite/test_runtime_pipeline.py runs them with one
NEEDS_A_MODEL_FILE = {"nnlite.runtime.predict_samples"}


def _run_doctests(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    for test in doctest.DocTestFinder().find(module):
        if test.name not in NEEDS_A_MODEL_FILE:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"
    return result


@pytest.mark.parametrize("name", CHEAP_DOCTESTS)
def test_docstring_examples_run(name):
    _run_doctests(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_DOCTESTS)
def test_docstring_examples_run_slow(name):
    _run_doctests(name)


def test_estimators_and_codecs_have_examples():
    import nnlite
    for name in ("ElasticNet", "ElasticNetCV", "enet_path", "LinearSVR", "RFE", "RandomForestRegressor",
                 "DecisionTreeRegressor", "MeanRegressor", "NetworkRegressor", "Sequential", "Dense", "Dropout",
                 "Adam", "SGD", "paper_network", "prune_model", "quantize_model", "kmeans_1d", "save_compressed",
                 "HuffmanCode", "GapCSR"):
        doc = getattr(nnlite, name).__doc__ or ""
        assert "Examples\n" in doc and ">>>" in doc, f"nnlite.{name} has no runnable Examples section"


def test_input_format_examples_are_read_by_the_readers():
    from ccle.data.depmap import read_lineages
    from ccle.data.drugs import read_drug_table
    from ccle.data.loader import read_expression
    cells = ["A549_LUNG", "NCIH460_LUNG", "MCF7_BREAST", "SKBR3_BREAST"]
    for name, sample_info in (("expression.gct", None), ("expression_v13.gct", None),
                              ("expression_depmap.csv", EXAMPLES / "sample_info.csv"),
                              ("expression_named.csv", None)):
        matrix = read_expression(EXAMPLES / name, sample_info)
        assert list(matrix.cell_lines) == cells, name
        assert "ERBB2" in matrix.genes and matrix.values.shape == (4, len(matrix.genes)), name
    for name in ("drugs.tsv", "drugs.csv"):
        table = read_drug_table(EXAMPLES / name)
        assert "4 responses" in repr(table) and "1 drugs" in repr(table), repr(table)
    assert read_lineages(EXAMPLES / "sample_info.csv")["MCF7_BREAST"] == "breast"
    for path in EXAMPLES.glob("*"):
        if path.suffix in (".gct", ".csv", ".tsv"):
            assert len(path.read_text().splitlines()) == 5, f"{path.name}: the page promises 5-line examples"


def test_every_command_has_its_generated_option_list():
    page = (DOCS / "commands.rst").read_text()
    documented = set(re.findall(r"^\.\. cli-command:: (\S+)$", page, flags=re.M))
    assert documented == {command.NAME for command in COMMANDS}
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        cli_options = importlib.import_module("cli_options")
        assert cli_options.command_parser("predict").prog == "ccle predict"
    finally:
        sys.path.remove(str(DOCS / "_ext"))


@pytest.mark.parametrize("prog", ["ccle", "python -m ccle", "python cli.py"])
def test_usage_names_the_program_and_the_description_is_clean(prog):
    parser = build_parser(prog)
    assert parser.format_usage().startswith(f"usage: {prog} ")
    assert "``" not in parser.format_help() and parser.description.endswith(".")


@pytest.mark.slow
def test_help_of_each_entry_point_names_itself():
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    for cmd, prog in (([sys.executable, "cli.py"], "python cli.py"), ([sys.executable, "-m", "ccle"], "python -m ccle")):
        out = subprocess.run(cmd + ["--help"], cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
        assert out.startswith(f"usage: {prog} "), out[:200]


def _have_sphinx():
    return all(importlib.util.find_spec(m) for m in ("sphinx", "numpydoc", "pydata_sphinx_theme"))


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    if not _have_sphinx():
        pytest.skip("sphinx, numpydoc or pydata-sphinx-theme missing (pip install -e '.[docs]'): docs not built")
    out = tmp_path_factory.mktemp("docs") / "html"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(out.parent / "doctrees"), str(DOCS), str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return out


@pytest.mark.slow
def test_site_builds_with_warnings_as_errors(built_site):
    for page in ("index", "quickstart", "input-formats", "commands", "outputs", "runtime", "results",
                 "leakage-audit", "performance", "deployment", "architecture", "api/nnlite", "api/ccle"):
        assert (built_site / f"{page}.html").is_file(), page
    commands = (built_site / "commands.html").read_text()
    assert "--numpy-runtime" in commands and "--protocol" in commands  # the generated option lists
    assert "usage: ccle benchmark" in commands
    assert (built_site / "api" / "generated" / "nnlite.linear.enet.ElasticNet.html").is_file()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
        if path:
            return path
    return None


# Injected at the top of a copy of the page: records script errors, failed resource loads and console.error
# calls into the DOM, which --dump-dom then prints.
PROBE = """<script>
window.__problems = [];
window.addEventListener('error', function (e) {
  var t = e.target && e.target !== window ? (e.target.src || e.target.href || e.target.tagName) : '';
  window.__problems.push('error: ' + String(e.message || e.type) + ' ' + t);
}, true);
(function () { var orig = console.error; console.error = function () {
  window.__problems.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); orig.apply(console, arguments); }; })();
window.addEventListener('load', function () { setTimeout(function () {
  var pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({problems: window.__problems, title: document.title,
                                     nav: Array.from(document.querySelectorAll('nav a')).map(function (a) { return a.textContent.trim(); })});
  document.body.appendChild(pre); }, 300); });
</script>"""


@pytest.mark.slow
def test_index_renders_in_chromium_without_errors(built_site, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; .ci/run does it) - browser test skipped")
    html = (built_site / "index.html").read_text()
    probe = built_site / "_probe_index.html"
    probe.write_text(html.replace("<head>", "<head>" + PROBE, 1))
    url = probe.as_uri()
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert found, f"the page did not finish loading:\n{dom[-2000:]}"
    import html as htmlmod
    report = json.loads(htmlmod.unescape(found.group(1)))
    assert report["problems"] == [], report["problems"]
    assert report["title"].startswith("nnlite + ccle")
    assert {"Quick start", "Input formats", "Results"} <= set(report["nav"]), report["nav"]
    shot = tmp_path / "index.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, "--window-size=1280,900", f"--screenshot={shot}",
                    (built_site / "index.html").as_uri()], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000


@pytest.mark.slow
def test_numpy_only_example_reproduces_predict(tmp_path):
    """docs/examples/predict_numpy_only.py (the runtime page's end-to-end script) gives ``ccle predict``'s
    predictions (to its 4 printed decimals) and calibrated classes."""
    import csv
    import io

    import numpy as np
    import pandas as pd

    from ccle.data.loader import load_data
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    model = tmp_path / "lapatinib.nnz"
    subprocess.run([sys.executable, "cli.py", "train", "--drug", "Lapatinib", "--out", model], cwd=REPO, env=env,
                   capture_output=True, check=True)
    expression = load_data()[0]
    samples = tmp_path / "samples.csv"
    with open(samples, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["cell_line", *expression.genes])
        for i in range(0, 300, 12):
            writer.writerow([expression.cell_lines[i], *(repr(float(v)) for v in expression.values[i])])
    ours = subprocess.run([sys.executable, EXAMPLES / "predict_numpy_only.py", model, samples], env=env,
                          capture_output=True, text=True, check=True).stdout
    reference = subprocess.run([sys.executable, "cli.py", "predict", model, "--expression", samples,
                                "--numpy-runtime"], cwd=REPO, env=env, capture_output=True, text=True,
                               check=True).stdout
    ours = pd.read_csv(io.StringIO(ours), header=None, names=["cell_line", "predicted", "class"])
    reference = pd.read_csv(io.StringIO(reference))
    assert list(ours["cell_line"]) == list(reference["cell_line"])
    np.testing.assert_allclose(ours["predicted"], reference["predicted_ActArea"], atol=6e-5)
    assert list(ours["class"]) == list(reference["class_calibrated"])


def test_response_layout_and_model_examples_are_read_by_the_readers():
    """The input-formats page's examples of the GDSC, CTRPv2, PRISM and long-table readers, DepMap Model.csv and
    the current DepMap expression layouts, read with the program's readers; the join report it quotes."""
    from ccle.data.drug_formats import drug_layout, read_drugs
    from ccle.data.loader import load_data, read_expression
    page = (DOCS / "input-formats.rst").read_text()
    for name, layout, drugs, lines in (("gdsc2_fitted_dose_response.csv", "gdsc", ["Camptothecin", "Selumetinib"], 3),
                                       ("ctrpv2", "ctrp", ["camptothecin", "selumetinib"], 2),
                                       ("prism_secondary_screen.csv", "prism", ["8-bromo-cGMP"], 3)):
        table = read_drugs(EXAMPLES / name)
        assert drug_layout(EXAMPLES / name) == layout and table.drugs == drugs, name
        assert len(table.cell_lines) == lines and table.direction == -1, name
        assert f"examples/{name}" in page, name
    assert read_drugs(EXAMPLES / "gdsc2_fitted_dose_response.csv").responses("Selumetinib").to_dict() == {"A549": 0.72}
    assert read_drugs(EXAMPLES / "ctrpv2").responses("selumetinib").to_dict() == {"A549": 8.5, "MCF7": 13.9}
    # the ';'-separated long table: decimal commas, an empty response left out
    long = read_drugs(EXAMPLES / "long_table.csv", long_table={"cell_column": "line", "drug_column": "compound",
                                                                "response_column": "score", "sensitive": "high"})
    assert long.responses("Drug A").to_dict() == {"A549_LUNG": 0.82, "MCF7_BREAST": 0.40}
    assert long.response == "score (high = sensitive)" and long.missing.values.tolist() == [["MCF7_BREAST", "Drug B"]]
    models = read_expression(EXAMPLES / "expression_omics_models.csv", EXAMPLES / "Model.csv")
    assert models.cell_lines == ["A549_LUNG", "MCF7_BREAST", "NCIH460_LUNG", "TT_THYROID"]
    profiles = read_expression(EXAMPLES / "expression_omics_profiles.csv", EXAMPLES / "Model.csv")
    assert profiles.cell_lines == ["A549_LUNG", "MCF7_BREAST", "NCIH460_LUNG"]
    assert profiles.genes == ["TSPAN6", "TNMD", "DPM1", "SCYL3"] and profiles.quality.non_default_profiles == 1
    for name in ("long_table.csv", "expression_omics_models.csv", "expression_omics_profiles.csv", "Model.csv"):
        assert f"examples/{name}" in page, name
    # the join lines the page quotes are the readers' own
    for drugs, summary in (("gdsc2_fitted_dose_response.csv", "3 of 3 matched (cosmic 3), 0 without a match"),
                           ("prism_secondary_screen.csv", "3 of 3 matched (depmap 3), 0 without a match"),
                           ("ctrpv2", "2 of 2 matched (stripped 2), 0 without a match")):
        _, table = load_data(EXAMPLES / "expression_omics_profiles.csv", EXAMPLES / drugs,
                             sample_info=EXAMPLES / "Model.csv")
        assert table.join.summary() == f"cell lines: {summary}" and f"join: cell lines: {summary}" in page, drugs
