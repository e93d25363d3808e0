"""Drug matrices shared with workers as memory-mapped files: same values, one file per content, small handles."""
import pickle

import numpy as np
import pytest

from ccle.errors import CCLEError
from ccle.benchmark.datasets import DrugData, transforms_text
from ccle.benchmark.shared_data import handles, share_datasets, shared_folder
from ccle.files import mapped_array, open_mapped


def _data(seed, n=30, p=200):
    rng = np.random.default_rng(seed)
    return DrugData(drug=f"d{seed}", X=rng.random((n, p)).astype(np.float32), y=rng.random(n),
                    cell_lines=[f"c{i}" for i in range(n)], genes=[f"g{j}" for j in range(p)])


def test_shared_datasets_keep_their_values_in_one_file_per_content(tmp_path):
    folder = shared_folder(tmp_path / "cache")
    data = [_data(0), _data(1), _data(0)]
    shared = share_datasets(data, folder)
    for before, after in zip(data, shared):
        assert isinstance(after.X, np.memmap) and not after.X.flags.writeable
        np.testing.assert_array_equal(after.X, before.X)
        assert after.X.dtype == before.X.dtype and after.genes == before.genes
    assert len(list(folder.glob("*.npy"))) == 2  # the two equal matrices share a file
    again = share_datasets(shared, folder)
    assert [a.X.filename for a in again] == [s.X.filename for s in shared]


def test_handles_are_small_and_open_the_same_data(tmp_path):
    data = [_data(2, n=100, p=2000)]
    (handle,) = handles(data, tmp_path)
    blob = pickle.dumps(handle)
    assert len(blob) < data[0].X.nbytes / 10
    ds = pickle.loads(blob).load()
    np.testing.assert_array_equal(ds.X, data[0].X)
    np.testing.assert_array_equal(ds.y, data[0].y)
    assert ds.drug == "d2" and ds.cell_lines == data[0].cell_lines
    assert ds.X[np.arange(5)].flags.writeable  # a task's row selection is an ordinary array


def test_drugs_with_the_same_matrix_share_its_file_and_keep_their_own_fields(tmp_path):
    a = _data(3)
    b = DrugData(drug="other", X=a.X.copy(), y=a.y[::-1].copy(), cell_lines=list(a.cell_lines), genes=list(a.genes))
    ha, hb = handles([a, b], tmp_path)
    assert ha.path == hb.path
    da, db = ha.load(), hb.load()
    assert (da.drug, db.drug) == ("d3", "other")
    np.testing.assert_array_equal(db.y, b.y)
    assert da.X is db.X  # one mapping per process


def test_a_missing_or_damaged_array_file_is_one_clear_error(tmp_path):
    with pytest.raises(CCLEError, match="file system the workers share"):
        open_mapped(tmp_path / "nope.npy")
    mapped = mapped_array(tmp_path, np.arange(6, dtype=np.float64).reshape(2, 3))
    path = mapped.filename
    del mapped
    with open(path, "r+b") as fh:
        fh.truncate(20)
    with pytest.raises(CCLEError, match="cannot read the shared data array"):
        open_mapped(path)


def test_the_banner_states_one_transform_or_the_range_over_drugs():
    assert transforms_text(set()) == ""  # no drug built: the caller's error names why
    assert transforms_text({"log2(x+1), 3 constant genes dropped"}) == "log2(x+1), 3 constant genes dropped"
    three = {"124 constant genes dropped", "125 constant genes dropped", "no constant gene"}
    assert transforms_text(three) == "0-125 constant genes dropped per drug"
    mixed = {"log2(x+1), 2 constant genes dropped", "7 constant genes dropped"}
    assert transforms_text(mixed) == "log2(x+1) for some drugs, 2-7 constant genes dropped per drug"
