"""The command line's bad-input contract on real-format files: one line naming the problem, exit code 2,
no traceback -- checked in a subprocess, as a user would see it."""
import gzip
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
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
@pytest.mark.slow
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



def _gct_gz(path, n_genes=400):
    """A gzip GCT big enough that cutting it leaves whole gzip blocks behind."""
    rows = [f"G{g}\td\t" + "\t".join(f"{(g * 7 + i * 3) % 11 + 0.123456:.6f}" for i in range(len(CELLS)))
            for g in range(n_genes)]
    text = f"#1.2\n{n_genes}\t{len(CELLS)}\nName\tDescription\t" + "\t".join(CELLS) + "\n" + "\n".join(rows) + "\n"
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return path


def _reader_case(tmp_path, case):
    """Write the files of one bad-input case -> (expression, drugs, extra args, file the message must name)."""
    gct, drugs, extra = tmp_path / "e.gct", tmp_path / "d.csv", []
    _gct(gct)
    _drugs(drugs)
    named = gct
    if case == "truncated gzip":
        full = _gct_gz(tmp_path / "full.gct.gz").read_bytes()
        gct = tmp_path / "t.gct.gz"
        gct.write_bytes(full[:len(full) // 2])
        named = gct
    elif case == "flipped gzip byte":
        data = bytearray(_gct_gz(tmp_path / "full.gct.gz").read_bytes())
        data[len(data) // 2] ^= 0x55
        gct = tmp_path / "f.gct.gz"
        gct.write_bytes(bytes(data))
        named = gct
    elif case == "expression is a directory":
        gct = named = tmp_path
    elif case == "missing value":
        _gct(gct, bad_value="NA")
    elif case == "1e300":
        _gct(gct, bad_value="1e300")
    elif case == "duplicate gene":
        gct.write_text(gct.read_text().replace("\nG2\t", "\nG0\t"))
    elif case == "#1.4":
        gct.write_text(gct.read_text().replace("#1.2", "#1.4", 1))
    elif case in ("drug row missing a field", "drug 1e300", "drug names differing in case"):
        lines = drugs.read_text().splitlines()
        lines[2] = {"drug row missing a field": "B2_SKIN,Nutlin-3",
                    "drug 1e300": "B2_SKIN,Nutlin-3,1e300",
                    "drug names differing in case": "B2_SKIN,nutlin-3,0.5"}[case]
        drugs.write_text("\n".join(lines) + "\n")
        named = drugs
    elif case == "empty sample info":
        gct = tmp_path / "e.csv"
        gct.write_text("DepMap_ID,G0,G1\n" + "".join(f"ACH-00000{i},{i},{i * 2}\n" for i in range(len(CELLS))))
        named = tmp_path / "info.csv"
        named.write_text("")
        extra = ["--sample-info", str(named)]
    elif case == "all-NaN expression":
        gct.write_text("#1.2\n2\t6\nName\tDescription\t" + "\t".join(CELLS) + "\n"
                       + "".join(f"G{g}\td\t" + "\t".join(["NaN"] * 6) + "\n" for g in range(2)))
    return gct, drugs, extra, named


@pytest.mark.parametrize("case, message", [
    ("truncated gzip", "truncated or corrupt gzip"),
    ("flipped gzip byte", "gzip"),
    ("expression is a directory", "is a directory"),
    ("missing value", "e.gct:5: column 5 ('C3_BREAST'): missing value"),
    ("1e300", "e.gct:5: value '1e300' overflows float32"),
    ("duplicate gene", "e.gct:6: duplicated gene 'G0'"),
    ("#1.4", "e.gct:1: not a GCT 1.2/1.3 file"),
    ("drug row missing a field", "d.csv:3: expected 3 fields"),
    ("drug 1e300", "d.csv:3: value '1e300' overflows float32"),
    ("drug names differing in case", "d.csv:3: compound 'nutlin-3' differs from 'Nutlin-3'"),
    ("empty sample info", "info.csv:1: empty file"),
    ("all-NaN expression", "e.gct:4: column 3 ('A1_LUNG'): missing value"),
])
@pytest.mark.slow
def test_bad_reader_input_is_one_line_naming_the_file(tmp_path, case, message):
    gct, drugs, extra, named = _reader_case(tmp_path, case)
    code, err = _run(tmp_path, gct, drugs, *extra)
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(named) in lines[0], err
    assert message.replace("('", "(cell line '") in lines[0] or message in lines[0], err


@pytest.mark.slow
def test_too_few_cell_lines_for_a_split_is_one_line_and_exit_2(tmp_path):
    code, err = _run(tmp_path, _gct(tmp_path / "e.gct", cells=CELLS[:3]), _drugs(tmp_path / "d.csv", cells=CELLS[:3]))
    # the run's banner may precede it; the failure itself is the one last line
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and "Traceback" not in err and len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    assert "Nutlin-3" in errors[0] and "too few" in errors[0], err


@pytest.mark.slow
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
