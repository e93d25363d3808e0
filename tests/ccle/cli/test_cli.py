"""`cli.py benchmark` end to end: --quick on the default data, resume, the real data subset, error contract."""
import csv
import json
import math

import pytest

from ccle.benchmark.datasets import transforms_text
from ccle.cli import main
from ccle.cli.common import expression_banner
from ccle.methods import default_methods

METHODS = default_methods("pairs")   # what a run without --methods runs (no MT under --split pairs)


def _table1(out):
    with open(out / "table1.csv") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.mark.slow
def test_quick_benchmark_end_to_end_and_resume(tmp_path, capsys):
    out = tmp_path / "quick"
    assert main(["benchmark", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "Table I" in printed.out and "Table II" in printed.out and "protocol: strict" in printed.out
    assert "ETA" in printed.err
    header, rows = _table1(out)
    assert header == ["drug"] + list(METHODS) + ["best"]
    assert len(rows) == 3 + 1 and rows[-1][0] == "Mean"
    values = [[float(v) for v in r[1:-1]] for r in rows]
    assert all(math.isfinite(v) for r in values for v in r)
    pm, mean = header.index("PM") - 1, header.index("mean") - 1
    assert values[-1][pm] < values[-1][mean], "PM should beat the per-drug mean on the generated data"
    for name in ("table1.md", "table2.csv", "table2.md", "timing.csv", "report.md", "results.jsonl", "fig3.png"):
        assert (out / name).exists(), name
    run = json.loads((out / "run.json").read_text())
    assert run["protocol"] == "strict" and run["seed"] == 0 and run["data_fingerprint"]
    assert run["versions"]["numpy"] and run["n_results"] == 3 * 2 * len(METHODS)
    first = (out / "table1.csv").read_text()

    # rerunning the same command resumes: nothing left to run, same tables
    assert main(["benchmark", "--quick", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "resuming" in err and "0 to run" in err
    assert (out / "table1.csv").read_text() == first
    assert len((out / "results.jsonl").read_text().splitlines()) == 3 * 2 * len(METHODS)


@pytest.mark.slow
def test_real_data_two_drugs_strict(shared_ccle, tmp_path, capsys):
    out = tmp_path / "real"
    expr = shared_ccle / "expression"
    code = main(["benchmark", "--quick", "--expression", str(expr / "TGSA_DepMap_census706_expr_zscored.csv.gz"),
                 "--sample-info", str(expr / "DepMap_sample_info_from_TGSA.csv"),
                 "--drugs", str(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv"),
                 "--drug", "AEW541", "--drug", "Nutlin-3", "--splits", "1", "--methods", "PM,SVR,mean",
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    header, rows = _table1(out)
    assert [r[0] for r in rows] == ["AEW541", "Nutlin-3", "Mean"]
    assert "Protocol **strict**" in (out / "report.md").read_text()
    assert json.loads((out / "run.json").read_text())["n_cell_lines"] == {"AEW541": 316, "Nutlin-3": 316}
    # the z-scored matrix: auto decides no log2 (and says so); forcing it is one clear error, exit 2
    assert "log2(x+1) off (auto)" in capsys.readouterr().err
    code = main(["train", "--expression", str(expr / "TGSA_DepMap_census706_expr_zscored.csv.gz"),
                 "--sample-info", str(expr / "DepMap_sample_info_from_TGSA.csv"),
                 "--drugs", str(shared_ccle / "drug" / "CCLE_dose_response_scores.tsv"),
                 "--drug", "AEW541", "--log2", "yes", "--out", str(tmp_path / "m.nnz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and "--log2 yes" in err[-1] and "negative" in err[-1]


@pytest.mark.parametrize("argv, message", [
    (["--drug", "NoSuchDrug", "--methods", "mean"], "unknown drug"),
    (["--expression", "missing.gct", "--drugs", "missing.csv"], "missing"),
    (["--expression", "only.gct"], "both"),
    (["--methods", "PM,XGB"], "unknown method"),
])
def test_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    code = main(["benchmark", "--quick", "--out", str(tmp_path / "o")] + argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error:") and message in err and "\n" not in err


def test_version(capsys):
    import ccle

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ccle {ccle.__version__}"


def test_expression_banner_names_log2_once():
    # the drugs' transform text starts with "log2(x+1)" when it was applied: the banner says the decision once
    text = transforms_text({"log2(x+1), 40 constant genes dropped", "log2(x+1), 42 constant genes dropped"})
    assert expression_banner(text, True, "auto") == "expression: log2(x+1) on (auto), 40-42 constant genes dropped per drug"
    assert expression_banner("40 constant genes dropped", False, "no") == \
        "expression: log2(x+1) off (no), 40 constant genes dropped"
    assert expression_banner("", False, "auto") == "expression: log2(x+1) off (auto)"
