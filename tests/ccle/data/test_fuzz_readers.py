"""Fuzz harness of every input reader (GCT 1.2/1.3 with both engines, DepMap CSV/TSV matrix, sample info, CCLE
drug CSV/TSV): small valid files generated here, then mutated (truncation, byte flips, inserted/removed
delimiters, NaN/inf/overflow/text values, BOM, CRLF, duplicate names, gzip and gzip damage).

Each case must either parse to the right values or raise CCLEError with one line naming the file; any other
exception fails the test. Where the mutation keeps the file's meaning (BOM, CRLF, gzip) or plants a known
fault (a bad value, a repeated name), the exact values or the exact line of the error are checked; after
random byte damage a file that still parses must give a well-formed result (float32, finite, unique
non-empty names). A few hundred cases by default; ``--hypothesis-profile=long`` (registered in conftest.py)
runs 2,000 per test, 10^4 in all.
"""
import gzip
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ccle.data.depmap import read_depmap_matrix, read_sample_info  # noqa: E402
from ccle.data.drugs import read_drug_table  # noqa: E402
from ccle.data.gct import read_gct  # noqa: E402
from ccle.data.loader import read_expression  # noqa: E402
from ccle.errors import CCLEError  # noqa: E402

LONG = settings.get_current_profile_name() == "long"
FUZZ = settings(max_examples=2000 if LONG else 60, deadline=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TOKENS = ["0", "1", "-2.5", "0.125", "1e-3", "12.75", "3E2", "-0.0625", "7", "100.5"]
BAD_TOKENS = {"NA": "missing", "nan": "missing", "": "missing", "inf": "infinite", "-inf": "infinite",
              "1e300": "overflows", "abc": "non-numeric"}
NOISE = [b"\t", b",", b"\n", b"\r", b'"', b" ", b"\x00", b"\xff", b"#", b"e", b"-", b"."]


# ----------------------------------------------------------------------------------------------- generators
@st.composite
def matrices(draw):
    """(cells, genes, tokens[g][i]) of a small valid matrix, with optionally one planted bad token or name."""
    n_cells = draw(st.integers(1, 4))
    n_genes = draw(st.integers(1, 4))
    cells = [f"C{i}_LUNG" for i in range(n_cells)]
    genes = [f"G{g}" for g in range(n_genes)]
    tokens = [[draw(st.sampled_from(TOKENS)) for _ in range(n_cells)] for _ in range(n_genes)]
    plant = draw(st.sampled_from(["none", "none", "token", "dup_gene", "dup_cell"]))
    where = None
    if plant == "token":
        where = (draw(st.integers(0, n_genes - 1)), draw(st.integers(0, n_cells - 1)),
                 draw(st.sampled_from(sorted(BAD_TOKENS))))
        tokens[where[0]][where[1]] = where[2]
    elif plant == "dup_gene" and n_genes > 1:
        genes[-1] = genes[0]
    elif plant == "dup_cell" and n_cells > 1:
        cells[-1] = cells[0]
    else:
        plant = "none"
    return cells, genes, tokens, plant, where


def gct_text(cells, genes, tokens, version):
    if version == "1.2":
        lines = ["#1.2", f"{len(genes)}\t{len(cells)}", "Name\tDescription\t" + "\t".join(cells)]
        lines += [f"{g}\td{k}\t" + "\t".join(row) for k, (g, row) in enumerate(zip(genes, tokens))]
        first_data_line = 4
    else:
        lines = ["#1.3", f"{len(genes)}\t{len(cells)}\t2\t1", "id\tDescription\tchrom\t" + "\t".join(cells),
                 "tissue\tna\tna\t" + "\t".join("lung" for _ in cells)]
        lines += [f"{g}\td{k}\tchr1\t" + "\t".join(row) for k, (g, row) in enumerate(zip(genes, tokens))]
        first_data_line = 5
    return "\n".join(lines) + "\n", first_data_line


def csv_text(cells, genes, tokens, sep, name_column):
    header = ["DepMap_ID", "CCLE_Name"] if name_column else ["cell"]
    lines = [sep.join(header + [f"{g} ({100 + int(g[1:])})" for g in genes])]
    for i, c in enumerate(cells):
        label = [f"ACH-{i:06d}", c] if name_column else [c]
        lines.append(sep.join(label + [tokens[g][i] for g in range(len(genes))]))
    return "\n".join(lines) + "\n"


@st.composite
def layouts(draw):
    """Byte-level treatment: BOM, CRLF, gzip (all meaning-preserving) and random damage."""
    return {"bom": draw(st.booleans()), "crlf": draw(st.booleans()), "gzip": draw(st.booleans()),
            "damage": draw(st.lists(st.tuples(st.sampled_from(["truncate", "flip", "insert", "delete"]),
                                              st.floats(0, 1, exclude_max=True), st.sampled_from(NOISE),
                                              st.integers(1, 255)), max_size=3)),
            "gzip_damage": draw(st.sampled_from(["none", "none", "truncate", "flip", "trailer"])),
            "gzip_at": draw(st.floats(0, 1, exclude_max=True))}


def encode(text, layout):
    """The file's bytes after the layout; also whether the bytes still mean ``text``."""
    data = text.replace("\n", "\r\n").encode() if layout["crlf"] else text.encode()
    if layout["bom"]:
        data = b"\xef\xbb\xbf" + data
    intact = not layout["damage"]
    for kind, at, noise, mask in layout["damage"]:
        pos = int(at * max(1, len(data)))
        if kind == "truncate":
            data = data[:pos]
        elif kind == "flip" and data:
            data = data[:pos] + bytes([data[pos % len(data)] ^ mask]) + data[pos + 1:]
        elif kind == "insert":
            data = data[:pos] + noise + data[pos:]
        else:
            data = data[:pos] + data[pos + 1:]
    if layout["gzip"]:
        data = gzip.compress(data, mtime=0)
        pos = 10 + int(layout["gzip_at"] * (len(data) - 10))
        if layout["gzip_damage"] == "truncate":
            data, intact = data[:pos], False
        elif layout["gzip_damage"] == "flip":
            data, intact = data[:pos] + bytes([data[pos % len(data)] ^ 0x5A]) + data[pos + 1:], False
        elif layout["gzip_damage"] == "trailer":
            data, intact = data[:-4], False
    return data, intact


def run(reader, data, name):
    """``reader(path)`` on ``data`` in a fresh folder -> (result or None, CCLEError message or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return reader(path), None, str(path)
        except CCLEError as exc:
            message = str(exc)
            assert str(path) in message, message  # names the file
            assert "\n" not in message, message   # one line
            return None, message, str(path)


def check_well_formed(m):
    assert m.values.dtype == np.float32 and m.values.shape == (len(m.cell_lines), len(m.genes))
    assert np.isfinite(m.values).all()
    assert len(set(m.genes)) == len(m.genes) and all(m.genes)
    assert len(set(m.cell_lines)) == len(m.cell_lines) and all(m.cell_lines)


def expected_values(tokens):
    return np.array([[float(t) for t in row] for row in tokens], dtype=np.float64).astype(np.float32).T


def check_matrix_outcome(result, error, path, matrix, intact, line_of):
    """Exact values / exact error when the file's meaning is intact, well-formed output otherwise."""
    cells, genes, tokens, plant, where = matrix
    if not intact:
        if result is not None:
            check_well_formed(result)
        return
    if plant == "none":
        assert error is None, error
        np.testing.assert_array_equal(result.values, expected_values(tokens))
        assert result.cell_lines == cells and result.genes == genes
    elif plant == "token":
        g, i, token = where
        assert error is not None and f"{path}:{line_of(g, i)}:" in error, error
        assert BAD_TOKENS[token] in error, error
    else:
        what = "gene" if plant == "dup_gene" else "cell line"
        assert error is not None and f"duplicated {what} " in error, error


# ----------------------------------------------------------------------------------------------------- tests
@FUZZ
@given(matrix=matrices(), version=st.sampled_from(["1.2", "1.3"]), layout=layouts())
def test_fuzz_gct_both_engines(matrix, version, layout):
    text, first = gct_text(*matrix[:3], version)
    data, intact = encode(text, layout)
    outcomes = []
    for engine in ("numba", "python"):
        result, error, path = run(lambda p: read_gct(p, engine=engine), data, "e.gct")
        check_matrix_outcome(result, error, path, matrix, intact, lambda g, i: first + g)
        outcomes.append((None if result is None else result.values, error and error.replace(path, "")))
    (a, ea), (b, eb) = outcomes
    # the compiled kernel and the reference parser agree on every input (on a damaged gzip stream they may
    # meet the bad bytes or the bad checksum first: both refuse it)
    assert (ea is None) == (eb is None) and (ea == eb or not intact), (ea, eb)
    if a is not None:
        np.testing.assert_array_equal(a, b)


@FUZZ
@given(matrix=matrices(), sep=st.sampled_from([",", "\t"]), name_column=st.booleans(), layout=layouts(),
       via_loader=st.booleans())
def test_fuzz_depmap_matrix(matrix, sep, name_column, layout, via_loader):
    text = csv_text(*matrix[:3], sep, name_column)
    data, intact = encode(text, layout)

    def reader(p):
        return read_expression(p, impute="none") if via_loader else read_depmap_matrix(p)

    result, error, path = run(reader, data, "e.csv")
    check_matrix_outcome(result, error, path, matrix, intact, lambda g, i: 2 + i)


@FUZZ
@given(matrix=matrices(), layout=layouts(), policy=st.sampled_from(["keep", "median", "drop"]))
def test_fuzz_missing_value_policies(matrix, layout, policy):
    """With a policy chosen, a planted missing value is kept as NaN, imputed or its gene dropped -- counted."""
    cells, genes, tokens, plant, where = matrix
    text, _ = gct_text(cells, genes, tokens, "1.2")
    data, intact = encode(text, layout)
    kw = {"drop_incomplete_genes": True} if policy == "drop" else {"impute": policy}
    result, error, path = run(lambda p: read_gct(p, **kw), data, "e.gct")
    if not intact or plant != "token" or BAD_TOKENS[where[2]] != "missing":
        return
    g, i, _ = where
    if policy == "drop" and len(genes) == 1:
        assert error is not None and "every gene has a missing value" in error
        return
    if policy == "median" and len(cells) == 1:
        assert error is not None and "has no value at all" in error
        return
    assert error is None, error
    assert result.quality.n_missing_values == 1 and result.quality.incomplete_genes == [genes[g]]
    full = expected_values([[t if t not in BAD_TOKENS else "nan" for t in row] for row in tokens])
    if policy == "keep":
        np.testing.assert_array_equal(result.values, full)
    elif policy == "median":
        full[i, g] = np.median(np.delete(full[:, g], i))
        np.testing.assert_array_equal(result.values, full)
    else:
        assert result.genes == genes[:g] + genes[g + 1:]
        np.testing.assert_array_equal(result.values, np.delete(full, g, axis=1))


@st.composite
def drug_files(draw):
    n = draw(st.integers(1, 6))
    cells = [f"C{i}_LUNG" for i in range(n)]
    drugs = [draw(st.sampled_from(["AEW541", "Nutlin-3", "17-AAG"])) for _ in range(n)]
    values = [draw(st.sampled_from(TOKENS)) for _ in range(n)]
    plant = draw(st.sampled_from(["none", "none", "token", "case", "dup"]))
    where = draw(st.integers(0, n - 1))
    if plant == "token":
        values[where] = draw(st.sampled_from(sorted(BAD_TOKENS)))
    elif plant == "case":
        drugs[where] = drugs[where].lower()
        ambiguous = {d for d in drugs if d != drugs[where] and d.casefold() == drugs[where].casefold()}
        plant = "case" if ambiguous else "none"
    elif plant == "dup" and n > 1:
        cells[where], drugs[where] = cells[0], drugs[0]
        plant = "dup" if where else "none"
    else:
        plant = "none"
    return cells, drugs, values, plant, where


@FUZZ
@given(drug_file=drug_files(), sep=st.sampled_from([",", "\t"]), extra=st.booleans(), layout=layouts())
def test_fuzz_drug_table(drug_file, sep, extra, layout):
    cells, drugs, values, plant, where = drug_file
    head = ["CCLE Cell Line Name", "Compound"] + (["Doses (uM)"] if extra else []) + ["ActArea"]
    rows = [[c, d] + (['".0025,.0080,8"' if sep == "," else ".0025,.0080,8"] if extra else []) + [v]
            for c, d, v in zip(cells, drugs, values)]
    text = "\n".join(sep.join(r) for r in [head] + rows) + "\n"
    data, intact = encode(text, layout)
    result, error, path = run(read_drug_table, data, "d.csv")
    if result is not None:
        assert np.isfinite(result.frame["response"]).all() and np.abs(result.frame["response"]).max() < 3.5e38
        keys = list(zip(result.frame["cell_line"], result.frame["drug"]))
        assert len(set(keys)) == len(keys)
        assert len({d.casefold() for d in result.drugs}) == len(result.drugs)
    if not intact:
        return
    bad = plant == "token" and BAD_TOKENS[values[where]] != "missing"
    if plant == "none" or (plant == "token" and not bad):
        ok = [k for k, v in enumerate(values) if v not in BAD_TOKENS]
        if not ok:
            assert error is not None and "no ActArea values" in error, error
            return
        assert error is None, error
        assert result.frame["cell_line"].tolist() == [cells[k] for k in ok]
        assert result.frame["response"].tolist() == [float(values[k]) for k in ok]
        assert len(result.missing) == len(values) - len(ok)
    elif plant == "token":
        assert error is not None and f"{path}:{where + 2}:" in error, error
    elif plant == "case":
        assert error is not None and "only in case" in error, error
    else:
        assert error is not None and "duplicated response" in error, error


@FUZZ
@given(n=st.integers(1, 5), sep=st.sampled_from([",", "\t"]), conflict=st.booleans(), layout=layouts())
def test_fuzz_sample_info(n, sep, conflict, layout):
    rows = [[f"ACH-{i:06d}", f"C{i}_LUNG", "lung"] for i in range(n)]
    if conflict:
        rows.append([rows[0][0], "OTHER_SKIN", "skin"])
    text = "\n".join(sep.join(r) for r in [["DepMap_ID", "CCLE_Name", "lineage"]] + rows) + "\n"
    data, intact = encode(text, layout)
    result, error, path = run(read_sample_info, data, "s.csv")
    if result is not None:
        assert all(k and v for k, v in result.items())
    if intact:
        if conflict:
            assert error is not None and f"{path}:{n + 2}:" in error and "OTHER_SKIN" in error, error
        else:
            assert error is None and result == {r[0]: r[1] for r in rows}, error


def test_the_harness_can_fail():
    """The oracle is not vacuous: a reader that lets a non-CCLEError out, or a wrong value, is caught."""
    def leaky(path):
        raise zlib.error("boom")

    with pytest.raises(zlib.error):
        run(leaky, b"x", "e.gct")
    matrix = ([f"C0_LUNG"], ["G0"], [["1"]], "none", None)
    fake = type("M", (), {"values": np.array([[2.0]], dtype=np.float32), "cell_lines": ["C0_LUNG"],
                          "genes": ["G0"]})()
    with pytest.raises(AssertionError):
        check_matrix_outcome(fake, None, "p", matrix, True, lambda g, i: 4)
