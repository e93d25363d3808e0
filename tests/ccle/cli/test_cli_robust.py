"""The command line's contract for bad arguments, output folders, foreign lines in results.jsonl and damaged
cache files: one line naming the problem and exit code 2, or a correct result with a warning --
checked in a subprocess, as a user would see it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ccle.files import cached

REPO = Path(__file__).resolve().parents[3]
N_CELLS = 40


def _cli(*argv, timeout=180):
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), *argv], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr.strip()


def _one_error_line(code, err, *needles):
    assert code == 2 and "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for needle in needles:
        assert needle in lines[0], err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A GCT of 40 cell lines x 6 genes and a drug file with Nutlin-3 (real responses) and Flat (constant)."""
    root = tmp_path_factory.mktemp("robust")
    rng = np.random.default_rng(3)
    X = rng.normal(5.0, 1.0, size=(N_CELLS, 6))
    cells = [f"C{i}_LUNG" for i in range(N_CELLS)]
    rows = [f"G{g}\td\t" + "\t".join(f"{X[i, g]:.5f}" for i in range(N_CELLS)) for g in range(6)]
    gct = root / "e.gct"
    gct.write_text(f"#1.2\n6\t{N_CELLS}\nName\tDescription\t" + "\t".join(cells) + "\n" + "\n".join(rows) + "\n")
    drugs = root / "d.csv"
    drugs.write_text("CCLE Cell Line Name,Compound,ActArea\n"
                     + "".join(f"{c},Nutlin-3,{X[i, 0] - X[i, 1] + 0.1 * rng.normal():.4f}\n"
                               for i, c in enumerate(cells))
                     + "".join(f"{c},Flat,1.5\n" for c in cells))
    return {"root": root, "gct": gct, "drugs": drugs}


def _bench(files, out, *extra):
    return _cli("benchmark", "--quick", "--quiet", "--jobs", "1", "--splits", "2", "--expression",
                str(files["gct"]), "--drugs", str(files["drugs"]), "--out", str(out), *extra)


@pytest.mark.parametrize("argv, needles", [
    (["--methods", ""], ["--methods lists no method"]),
    (["--out", ""], ["--out is empty"]),
    (["--drug", ""], ["--drug is empty"]),
])
@pytest.mark.slow
def test_empty_arguments_are_errors(tmp_path, argv, needles):
    code, _, err = _cli("benchmark", "--quick", "--quiet", *(["--out", str(tmp_path / "o")] if "--out" not in argv
                                                             else []), *argv)
    _one_error_line(code, err, *needles)


@pytest.mark.slow
def test_output_folders_that_cannot_be_created(tmp_path):
    a_file = tmp_path / "existing_file"
    a_file.write_text("x")
    cases = [(a_file / "sub", "a file is in the way"), (a_file, "exists and is not a folder")]
    if Path("/sys").is_dir():
        cases.append((Path("/sys/x"), "cannot create the output folder"))
    if os.geteuid() != 0:  # root writes into a read-only folder
        ro = tmp_path / "readonly_dir"
        ro.mkdir(mode=0o500)
        cases.append((ro / "sub", "Permission denied"))
    for out, message in cases:
        code, _, err = _cli("benchmark", "--quick", "--quiet", "--out", str(out))
        _one_error_line(code, err, str(out), message)


@pytest.mark.slow
def test_train_refuses_a_destination_it_cannot_write_before_training(files, tmp_path):
    for out, message in [(tmp_path / "nodir" / "x.nnz", "does not exist"), (tmp_path, "is a folder")]:
        code, _, err = _cli("train", "--drug", "Nutlin-3", "--quick", "--expression", str(files["gct"]),
                            "--drugs", str(files["drugs"]), "--out", str(out))
        _one_error_line(code, err, str(out), message)  # one line: not even the training banner came first


@pytest.mark.slow
def test_constant_response_is_refused_before_any_work(files, tmp_path):
    # named: refused before any work
    code, _, err = _bench(files, tmp_path / "o", "--drug", "Flat")
    _one_error_line(code, err, str(files["drugs"]), "'Flat'", "constant response")
    assert not (tmp_path / "o" / "results.jsonl").exists()
    # among all the drugs of the file: left out with its reason, the others run
    code, _, err = _bench(files, tmp_path / "all", "--methods", "mean")
    assert code == 0, err
    assert "left out 1 drug(s) that cannot be run: Flat" in err and "constant response" in err
    assert '"drug": "Flat"' not in (tmp_path / "all" / "results.jsonl").read_text()
    code, _, err = _cli("train", "--drug", "Flat", "--quick", "--expression", str(files["gct"]), "--drugs",
                        str(files["drugs"]), "--out", str(tmp_path / "m.nnz"))
    _one_error_line(code, err, str(files["drugs"]), "'Flat'")


@pytest.mark.slow
def test_repeated_and_case_variant_drug_runs_once_and_foreign_lines_and_damaged_cache(files, tmp_path):
    out = tmp_path / "o"
    code, _, err = _bench(files, out, "--drug", "Nutlin-3", "--drug", "nutlin-3", "--drug", "Nutlin-3",
                          "--methods", "SVR,mean")
    assert code == 0, err
    assert "note: --drug nutlin-3 is Nutlin-3" in err and "given more than once; each drug runs once" in err
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted((r["drug"], r["split"], r["method"]) for r in records) == [
        ("Nutlin-3", s, m) for s in (0, 1) for m in ("SVR", "mean")]
    table1 = (out / "table1.csv").read_text()
    run = json.loads((out / "run.json").read_text())
    assert run["drugs"] == ["Nutlin-3"] and run["data_quality"]["n_missing_values"] == 0

    # valid JSON that is not a result: skipped with one warning naming file and line, the same tables
    with open(out / "results.jsonl", "a") as fh:
        fh.write('null\n[1, 2]\n{"split": 0, "method": "PM"}\n{"drug": "Nutlin-3", "split": "x", "method": "PM"}\n')
    code, _, err = _bench(files, out, "--drug", "Nutlin-3", "--methods", "SVR,mean")
    assert code == 0 and "Traceback" not in err, err
    for lineno, problem in [(5, "not a JSON object (NoneType)"), (6, "not a JSON object (list)"),
                            (7, "no 'drug' field"), (8, "bad 'split' field 'x'")]:
        assert f"{out / 'results.jsonl'}:{lineno}: not a result record ({problem})" in err, err
    assert len([line for line in err.splitlines() if "not a result record" in line]) == 4
    assert (out / "table1.csv").read_text() == table1
    code, _, err = _cli("report", str(out))  # the report's reader is the store's
    assert code == 0 and "Traceback" not in err and "not a result record" in err, err

    # cache files cut short or damaged: recomputed with a warning, the same tables
    caches = sorted((out / "cache").glob("*.json"))
    assert caches
    for k, path in enumerate(caches):
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2] if k % 2 == 0 else b'{"params": 1}')
    (out / "results.jsonl").unlink()
    code, _, err = _bench(files, out, "--drug", "Nutlin-3", "--methods", "SVR,mean")
    assert code == 0 and "Traceback" not in err, err
    for path in caches:
        assert f"{path}: damaged cache file" in err, err
    assert (out / "table1.csv").read_text() == table1


def test_cached_recomputes_a_damaged_entry(tmp_path, capsys):
    calls = []

    def compute():
        calls.append(1)
        return {"value": [1, 2, 3]}

    assert cached(tmp_path, "x", compute) == ({"value": [1, 2, 3]}, False)
    assert cached(tmp_path, "x", compute) == ({"value": [1, 2, 3]}, True)
    path = tmp_path / "x.json"
    for damage in (path.read_bytes()[:7], b"\x00\xff", b""):
        path.write_bytes(damage)
        assert cached(tmp_path, "x", compute) == ({"value": [1, 2, 3]}, False)
    # valid JSON the caller's check refuses
    path.write_text("[1]")
    assert cached(tmp_path, "x", compute, check=lambda v: v["value"]) == ({"value": [1, 2, 3]}, False)
    assert len(calls) == 5
    assert f"{path}: damaged cache file" in capsys.readouterr().err
