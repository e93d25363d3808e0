"""GCT 1.2 / 1.3 reader and writer: round trips, block boundaries, gzip, and one clear error per bad input."""
import gzip

import numpy as np
import pytest

from ccle.data import gct, textio
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import read_gct, write_gct
from ccle.errors import CCLEError


def _matrix(n_cells=5, n_genes=7, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0.0, 2.0, (n_cells, n_genes)).astype(np.float32)
    values[rng.random(values.shape) < 0.3] = 0.0
    return ExpressionMatrix(values, [f"CELL{i}_LUNG" for i in range(n_cells)], [f"ENSG{g:05d}" for g in range(n_genes)],
                            [f"SYM{g}" for g in range(n_genes)], "test")


@pytest.fixture(params=["numba", "python"])
def engine(request):
    return request.param


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["m.gct", "m.gct.gz"])
def test_round_trip_exact_with_9_digits(tmp_path, name, engine):
    m = _matrix()
    path = write_gct(tmp_path / name, m, fmt="%.9g")
    back = read_gct(path, engine=engine)
    assert back.values.dtype == np.float32
    assert back.values.shape == (5, 7)
    np.testing.assert_array_equal(back.values, m.values)
    assert back.cell_lines == m.cell_lines and back.genes == m.genes and back.descriptions == m.descriptions
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as fh:
            assert fh.readline() == "#1.2\n"


def test_default_format_is_close_and_layout_is_genes_by_cells(tmp_path):
    m = _matrix()
    path = write_gct(tmp_path / "m.gct", m)
    lines = path.read_text().splitlines()
    assert lines[0] == "#1.2" and lines[1] == "7\t5"
    assert lines[2].split("\t")[:3] == ["Name", "Description", "CELL0_LUNG"]
    assert lines[3].split("\t")[:2] == ["ENSG00000", "SYM0"] and len(lines) == 3 + 7
    np.testing.assert_allclose(read_gct(path).values, m.values, rtol=1e-6)


def test_block_boundaries(tmp_path, monkeypatch, engine):
    monkeypatch.setattr(gct, "_BLOCK", 3)  # 7 genes = blocks of 3, 3, 1
    m = _matrix(n_cells=4, n_genes=7, seed=3)
    back = read_gct(write_gct(tmp_path / "m.gct", m, fmt="%.9g"), engine=engine)
    np.testing.assert_array_equal(back.values, m.values)


def test_missing_tokens_are_an_error_by_default_and_imputed_or_dropped_on_request(tmp_path, engine):
    path = _write(tmp_path / "k.gct", "#1.2\n3\t3\nName\tDescription\tA_LUNG\tB_SKIN\tC_SKIN\n"
                                      "g1\td1\t1.5\t0\t4\ng2\td 2\tNA\t1e3\t2\ng3\t\t-2\t\tnan\n")
    with pytest.raises(CCLEError, match=r"k\.gct:5: column 3 \(cell line 'A_LUNG'\): missing value for gene "
                                        r"'g2' .*3 missing values in 2 of 3 genes"):
        read_gct(path, engine=engine)
    m = read_gct(path, engine=engine, impute="median")
    assert m.cell_lines == ["A_LUNG", "B_SKIN", "C_SKIN"] and m.genes == ["g1", "g2", "g3"]
    assert m.descriptions == ["d1", "d 2", ""]
    expected = np.array([[1.5, 501.0, -2.0], [0.0, 1000.0, -2.0], [4.0, 2.0, -2.0]], dtype=np.float32)
    np.testing.assert_array_equal(m.values, expected)
    assert (m.quality.n_missing_values, m.quality.incomplete_genes, m.quality.missing_policy) == (3, ["g2", "g3"],
                                                                                                 "median")
    assert "3 missing values in 2 genes: imputed with the per-gene median" == m.quality.summary()
    d = read_gct(path, engine=engine, drop_incomplete_genes=True)
    assert d.genes == ["g1"] and d.descriptions == ["d1"] and d.quality.missing_policy == "drop"
    np.testing.assert_array_equal(d.values[:, 0], [1.5, 0.0, 4.0])
    with pytest.raises(CCLEError, match="not both"):
        read_gct(path, impute="median", drop_incomplete_genes=True)
    with pytest.raises(CCLEError, match="impute must be one of none, median"):
        read_gct(path, impute="mean")


def test_all_missing_gene_cannot_be_imputed(tmp_path):
    path = _write(tmp_path / "a.gct", "#1.2\n2\t2\n" + HEADER + "g1\td\t1\t2\ng2\td\tNA\t\n")
    with pytest.raises(CCLEError, match=r"a\.gct:5: gene 'g2' has no value at all"):
        read_gct(path, impute="median")
    everything = _write(tmp_path / "b.gct", "#1.2\n1\t2\n" + HEADER + "g1\td\tNA\tNA\n")
    with pytest.raises(CCLEError, match=r"b\.gct: every gene has a missing value"):
        read_gct(everything, drop_incomplete_genes=True)


def test_duplicate_genes_merged_on_request(tmp_path, engine):
    path = _write(tmp_path / "d.gct", "#1.2\n3\t2\n" + HEADER + "g1\ta\t1\t2\ng2\tb\t5\t5\ng1\tc\t3\t8\n")
    m = read_gct(path, engine=engine, duplicate_genes="mean")
    assert m.genes == ["g1", "g2"] and m.descriptions == ["a", "b"] and m.quality.merged_genes == ["g1"]
    np.testing.assert_array_equal(m.values, [[2.0, 5.0], [5.0, 5.0]])


def test_bom_crlf_and_gzip_sniffed_by_content(tmp_path, engine):
    text = "#1.2\r\n1\t2\r\n" + HEADER.replace("\n", "\r\n") + "g1\td\t1\t2\r\n"
    bom = tmp_path / "bom.gct"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    np.testing.assert_array_equal(read_gct(bom, engine=engine).values, [[1.0], [2.0]])
    disguised = tmp_path / "plain.gct"  # gzip content under a plain name
    disguised.write_bytes(gzip.compress(text.encode()))
    np.testing.assert_array_equal(read_gct(disguised, engine=engine).values, [[1.0], [2.0]])
    not_gzip = _write(tmp_path / "plain.gct.gz", text)  # a .gz that is plain text
    assert read_gct(not_gzip, engine=engine).genes == ["g1"]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "no trailer"])
def test_damaged_gzip_is_one_error_naming_the_file(tmp_path, damage, engine):
    m = _matrix(n_cells=30, n_genes=200)
    data = bytearray((write_gct(tmp_path / "m.gct.gz", m)).read_bytes())
    if damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "flipped":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[:-8]
    path = tmp_path / "bad.gct.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(CCLEError, match=r"bad\.gct\.gz: "):
        read_gct(path, engine=engine)


def test_unreadable_file_and_directory(tmp_path, monkeypatch):
    with pytest.raises(CCLEError, match=r"is a directory"):
        read_gct(tmp_path)
    path = write_gct(tmp_path / "m.gct", _matrix())

    def denied(*args, **kwargs):  # tests may run as root, for whom chmod 0 does not deny reading
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(textio, "open", denied, raising=False)
    with pytest.raises(CCLEError, match=r"m\.gct: permission denied"):
        read_gct(path)


def test_windows_line_endings_and_trailing_blank_line(tmp_path, engine):
    path = tmp_path / "w.gct"
    path.write_bytes(b"#1.2\r\n1\t2\r\nName\tDescription\tA_LUNG\tB_LUNG\r\ng\td\t1\t2\r\n\r\n")
    np.testing.assert_array_equal(read_gct(path, engine=engine).values, [[1.0], [2.0]])


def test_gct_13_with_metadata(tmp_path, engine):
    text = ("#1.3\n2\t3\t2\t1\n"
            "id\tDescription\tchrom\tA_LUNG\tB_LUNG\tC_SKIN\n"
            "tissue\tna\tna\tlung\tlung\tskin\n"
            "g1\tTP53\tchr17\t1\t2\t3\n"
            "g2\tKRAS\tchr12\t4\t5\t6\n")
    m = read_gct(_write(tmp_path / "m13.gct", text), engine=engine)
    assert m.genes == ["g1", "g2"] and m.descriptions == ["TP53", "KRAS"]
    np.testing.assert_array_equal(m.values, [[1, 4], [2, 5], [3, 6]])


def test_gct_13_without_row_metadata(tmp_path, engine):
    text = "#1.3\n1\t2\t0\t0\nid\tA_LUNG\tB_LUNG\ng1\t1\t2\n"
    m = read_gct(_write(tmp_path / "m13.gct", text), engine=engine)
    assert m.descriptions is None
    np.testing.assert_array_equal(m.values, [[1], [2]])


HEADER = "Name\tDescription\tA_LUNG\tB_LUNG\n"


@pytest.mark.parametrize("text, pattern", [
    ("#1.2\n3\t2\n" + HEADER + "g1\td\t1\t2\ng2\td\t3\t4\n",
     r":5: line 2 declares 3 data rows but the file ends after 2"),
    ("#1.2\n1\t2\n" + HEADER + "g1\td\t1\t2\ng2\td\t3\t4\n", r":5: more data rows than the 1 declared on line 2"),
    ("#1.2\n1\t3\n" + HEADER + "g1\td\t1\t2\n", r":3: header has 2 cell line columns but line 2 declares 3"),
    ("#1.2\n2\t2\n" + HEADER + "g1\td\t1\t2\ng2\td\t3\tabc\n",
     r":5: non-numeric value 'abc' in column 4 \(cell line 'B_LUNG'\)"),
    ("#1.2\n1\t2\n" + HEADER + "g1\td\t1\t2\t3\n", r":4: expected 2 values"),
    ("#1.2\n1\t2\n" + HEADER + "g1\td\t1\n", r":4: expected 2 values"),
    ("#1.2\n1\t2\n" + HEADER + "g1\n", r":4: expected 4 tab-separated fields"),
    ("#1.2\n1\t2\nName\tDescription\tA_LUNG\tA_LUNG\ng1\td\t1\t2\n",
     r":3: column 4: duplicated cell line 'A_LUNG' \(first at .*bad\.gct:3: column 3\)"),
    ("#1.2\n2\t2\n" + HEADER + "g1\td\t1\t2\ng1\td\t3\t4\n",
     r":5: duplicated gene 'g1' \(first at .*bad\.gct:4\); repeated gene names: 'g1'"),
    ("Name\tDescription\tA\n", r":1: not a GCT 1.2/1.3 file"),
    ("#1.4\n1\t2\n" + HEADER + "g1\td\t1\t2\n", r":1: not a GCT 1.2/1.3 file: first line is '#1.4'"),
    ("1.2\n1\t2\n" + HEADER + "g1\td\t1\t2\n", r":1: not a GCT 1.2/1.3 file"),
    ("#1.2\n1\t2\n" + HEADER + "g1\td\t1\tinf\n", r":4: infinite value 'inf' in column 4 \(cell line 'B_LUNG'\)"),
    ("#1.2\n1\t2\n" + HEADER + "g1\td\t1e300\t1\n", r":4: value '1e300' overflows float32"),
    ("#1.2\n1\t2\n" + HEADER + "g1\td\t1\tNA\n",
     r":4: column 4 \(cell line 'B_LUNG'\): missing value for gene 'g1' in cell line 'B_LUNG' \(1 missing"),
    ("#1.2\n0\t2\n" + HEADER, r": no expression values \(2 cell lines x 0 genes\)"),
    ("#1.2\nx\ty\n" + HEADER, r":2: dimension line must hold integers"),
    ("#1.3\n1\t2\n" + HEADER, r":2: GCT 1.3 dimension line needs 4"),
    ("#1.2\n2\t2\n" + HEADER + "g1\td\t1\t2\n\ng2\td\t3\t4\n", r":5: blank line inside the data"),
])
def test_bad_files_name_file_and_line(tmp_path, text, pattern, engine):
    path = _write(tmp_path / "bad.gct", text)
    with pytest.raises(CCLEError, match=r"bad\.gct" + pattern):
        read_gct(path, engine=engine)


def test_missing_file(tmp_path):
    with pytest.raises(CCLEError, match="no such file"):
        read_gct(tmp_path / "absent.gct")


def test_writer_rejects_tabs_in_names(tmp_path):
    m = _matrix()
    m.genes[0] = "bad\tname"
    with pytest.raises(CCLEError, match="tab or newline"):
        write_gct(tmp_path / "x.gct", m)
    assert not list(tmp_path.iterdir())  # no partial or temporary file left behind


def test_number_syntax_matches_float_parsing(tmp_path, engine):
    tokens = ["0", "-0", "1", "+3", "-.5", "5.", "1e-5", "2.5E+02", "1E3", "123456.789", "0.000123456789",
              "9007199254740993", "12345678901234567890", "1e-30", "3.4e38", "-3.4e38", " 7 ", "0.1", "1e22"]
    text = "#1.2\n1\t%d\nName\tDescription\t%s\ng\td\t%s\n" % (
        len(tokens), "\t".join(f"C{i}_X" for i in range(len(tokens))), "\t".join(tokens))
    m = read_gct(_write(tmp_path / "n.gct", text), engine=engine)
    expected = np.array([float(t) for t in tokens], dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(m.values[:, 0], expected)


def test_numba_equals_python_engine_across_chunk_boundaries(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    values = rng.lognormal(0.0, 3.0, (9, 40)).astype(np.float32)
    values[rng.random(values.shape) < 0.3] = 0.0
    m = ExpressionMatrix(values, [f"C{i}_LUNG" for i in range(9)], [f"g{i}" for i in range(40)],
                         [f"d{i}" for i in range(40)], "t")
    path = write_gct(tmp_path / "m.gct", m, fmt="%.9g")
    text = path.read_text().splitlines(keepends=True)
    text[10] = text[10].replace("\t0\t", "\tNA\t", 1)  # a line for the Python path in the middle
    path.write_text("".join(text))
    reference = read_gct(path, engine="python", impute="median")
    monkeypatch.setattr(gct, "_CHUNK", 37)  # lines longer than a chunk, lines split across chunks
    monkeypatch.setattr(gct, "_BLOCK", 4)
    fast = read_gct(path, engine="numba", impute="median")
    np.testing.assert_array_equal(fast.values, reference.values)
    assert fast.genes == reference.genes and fast.descriptions == reference.descriptions
    assert fast.quality.n_missing_values == reference.quality.n_missing_values == 1


def test_unknown_engine(tmp_path):
    with pytest.raises(ValueError, match="engine must be"):
        read_gct(tmp_path / "x.gct", engine="fortran")
