"""The command line's bad-input contract on real-format files: one line naming the problem, exit code 2,
no traceback -- checked in a subprocess, as a user would see it."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CELLS = ["A1_LUNG", "B2_SKIN", "C3_BREAST", "D4_LUNG", "E5_SKIN", "F6_BREAST"]
DRUG_HEADER = "CCLE Cell Line Name,Compound,ActArea\n"


def _gct(path, cells=CELLS, declared_rows=3, bad_value=None):
    rows = []
    for g in range(3):
        values = [str(1.0 + g + i) for i in range(len(cells))]
        if bad_value is not None and g == 1:
            values[2] = bad_value
        rows.append(f"G{g}\tdesc\t" + "\t".join(values))
    path.write_text(f"#1.2\n{declared_rows}\t{len(cells)}\nName\tDescription\t" + "\t".join(cells) + "\n"
                    + "\n".join(rows) + "\n")
    return path


def _drugs(path, cells=CELLS, header=DRUG_HEADER):
    path.write_text(header + "".join(f"{c},Nutlin-3,{0.1 * (i + 1):.2f}\n" for i, c in enumerate(cells)))
    return path


def _run(tmp_path, gct, drugs, *extra):
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), "benchmark", "--quick", "--quiet",
                           "--expression", str(gct), "--drugs", str(drugs), "--out", str(tmp_path / "out"),
                           *extra], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stderr.strip()


@pytest.mark.parametrize("case, message", [
    ("dimension line disagrees", "e.gct:6: line 2 declares 5 data rows"),
    ("non-numeric value", "abc"),
    ("duplicated cell line", "A1_LUNG"),
    ("no response column", "ActArea"),
    ("no overlapping cell lines", "cell line"),
    ("unknown drug", "unknown drug"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, case, message):
    gct, drugs, extra = tmp_path / "e.gct", tmp_path / "d.csv", []
    _gct(gct)
    _drugs(drugs)
    if case == "dimension line disagrees":
        _gct(gct, declared_rows=5)
    elif case == "non-numeric value":
        _gct(gct, bad_value="abc")
    elif case == "duplicated cell line":
        _gct(gct, cells=CELLS[:-1] + ["A1_LUNG"])
    elif case == "no response column":
        _drugs(drugs, header="CCLE Cell Line Name,Compound,IC50 (uM)\n")
    elif case == "no overlapping cell lines":
        _drugs(drugs, cells=[c.replace("_", "X_") for c in CELLS])
    elif case == "unknown drug":
        extra = ["--drug", "NoSuchDrug"]
    code, err = _run(tmp_path, gct, drugs, *extra)
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert message.lower() in lines[0].lower(), err



def test_too_few_cell_lines_for_a_split_is_one_line_and_exit_2(tmp_path):
    code, err = _run(tmp_path, _gct(tmp_path / "e.gct", cells=CELLS[:3]), _drugs(tmp_path / "d.csv", cells=CELLS[:3]))
    # the run's banner may precede it; the failure itself is the one last line
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and "Traceback" not in err and len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    assert "Nutlin-3" in errors[0] and "too few" in errors[0], err


def test_predict_to_a_closed_pipe_is_not_a_traceback(tmp_path):
    """`cli.py predict model.nnz --expression FILE | head -1`: the closed pipe ends the command quietly."""
    gct = tmp_path / "e.gct"
    # 4000 cell lines: the predictions (~200 kB) overflow the pipe's buffer, so the writer meets the closed pipe
    cells = [f"L{i}_LUNG" for i in range(4000)]
    rows = [f"G{g}\td\t" + "\t".join(str((g * 7 + i * 3) % 11 + 0.5) for i in range(4000)) for g in range(30)]
    gct.write_text("#1.2\n30\t4000\nName\tDescription\t" + "\t".join(cells) + "\n" + "\n".join(rows) + "\n")
    drugs = tmp_path / "d.csv"
    drugs.write_text(DRUG_HEADER + "".join(f"{c},Nutlin-3,{(i * 37 % 17) / 10:.2f}\n"
                                           for i, c in enumerate(cells[:40])))
    model = tmp_path / "m.nnz"
    train = subprocess.run([sys.executable, str(REPO / "cli.py"), "train", "--drug", "Nutlin-3", "--quick",
                            "--expression", str(gct), "--drugs", str(drugs), "--out", str(model)],
                           capture_output=True, text=True, timeout=120)
    assert train.returncode == 0, train.stderr
    proc = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "predict", str(model), "--expression", str(gct)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"cell_line,")
    proc.stdout.close()  # the reader goes away after one line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err, err
