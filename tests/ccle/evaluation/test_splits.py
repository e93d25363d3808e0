"""Leave-cell-line-out and leave-tissue-out splits: partitions, shared across drugs, seeds, tissues, bad input."""
import subprocess
import sys

import numpy as np
import pytest

from ccle.errors import CCLEError
from ccle.evaluation.splits import (cell_line_splits, drug_rows, held_out_sets, tissue_of, tissue_splits, tissues_of)

TISSUE_SIZES = {"LUNG": 40, "BREAST": 25, "SKIN": 20, "OVARY": 15, "LIVER": 10, "BONE": 6, "KIDNEY": 30,
                "PANCREAS": 18, "STOMACH": 12, "CNS": 24}


def lines():
    return [f"C{t}{i}_{t}" for t, n in TISSUE_SIZES.items() for i in range(n)]


@pytest.mark.slow
def test_cell_line_split_holds_out_30_percent_and_is_independent_of_order_and_process():
    cells = lines()
    splits = cell_line_splits(cells, n_splits=5, seed=0)
    assert all(len(s) == round(0.3 * len(cells)) for s in splits)
    assert len(set(splits)) == 5
    assert cell_line_splits(cells[::-1], 5, 0) == splits
    assert cell_line_splits(cells, 5, 1) != splits
    # stable across processes (SHA-256 seeds, not hash())
    code = ("from ccle.evaluation.splits import cell_line_splits; import sys; "
            f"cells = {cells!r}; print(sorted(cell_line_splits(cells, 5, 0)[2]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(splits[2]))


def test_drug_rows_follow_the_shared_held_out_set_for_every_drug():
    cells = lines()
    held = cell_line_splits(cells, 3, seed=0)[0]
    rng = np.random.default_rng(0)
    for _ in range(3):     # drugs measured on different subsets of the lines, in different orders
        sub = [cells[i] for i in rng.permutation(len(cells))[:120]]
        train, test = drug_rows(sub, held, drug="d")
        assert np.array_equal(np.sort(np.r_[train, test]), np.arange(120))
        assert all(sub[i].upper() in held for i in test) and not any(sub[i].upper() in held for i in train)


def test_tissue_of_uses_the_suffix_or_a_lineage_mapping():
    assert tissue_of("A549_LUNG") == "LUNG"
    assert tissue_of("HL60_HAEMATOPOIETIC_AND_LYMPHOID_TISSUE") == "HAEMATOPOIETIC_AND_LYMPHOID_TISSUE"
    assert tissue_of("nci-h460_lung") == "LUNG"
    assert tissue_of("NOSUFFIX") == "UNKNOWN"
    assert tissue_of("A549_LUNG", {"A549_LUNG": "lung_nsclc"}) == "LUNG_NSCLC"
    assert tissue_of("HT29_LARGE_INTESTINE", {"A549_LUNG": "lung"}) == "LARGE_INTESTINE"
    assert tissues_of(["a549_lung", "X_SKIN"], {"A549_LUNG": "lung"}) == ["LUNG", "SKIN"]


def test_tissue_split_holds_out_whole_tissues_about_30_percent():
    cells = lines()
    tissues = tissues_of(cells)
    splits = tissue_splits(cells, tissues, n_splits=5, seed=0)
    assert len(set(splits)) > 1
    for held in splits:
        held_tissues = {t for c, t in zip(cells, tissues) if c.upper() in held}
        # whole tissues: every line of a held-out tissue is held out
        assert all(c.upper() in held for c, t in zip(cells, tissues) if t in held_tissues)
        assert 0 < len(held_tissues) < len(TISSUE_SIZES)
        assert abs(len(held) / len(cells) - 0.3) < 0.06
    assert held_out_sets("tissues", cells, 5, 0) == splits
    assert held_out_sets("cell-lines", cells, 5, 0) == cell_line_splits(cells, 5, 0)
    assert held_out_sets("pairs", cells, 5, 0) is None


def test_bad_input():
    with pytest.raises(CCLEError, match="two tissues"):
        tissue_splits(["A_LUNG", "B_LUNG"], ["LUNG", "LUNG"], 2, 0)
    with pytest.raises(CCLEError, match="too few"):
        cell_line_splits(["A_LUNG"], 2, 0)
    with pytest.raises(CCLEError, match="'d'"):
        drug_rows(["A_LUNG", "B_LUNG"], frozenset({"A_LUNG"}), drug="d")
    with pytest.raises(ValueError, match="scheme"):
        held_out_sets("drugs", lines(), 2, 0)
    with pytest.raises(ValueError, match="test_fraction"):
        cell_line_splits(lines(), 2, 0, test_fraction=1.0)


def test_real_data_splits_give_every_drug_training_and_test_lines(shared_ccle):
    from ccle.data.align import drug_dataset
    from ccle.data.depmap import read_lineages
    from ccle.data.loader import load_data
    from ccle.methods.multitask import response_matrix

    info = shared_ccle / "expression" / "DepMap_sample_info_from_TGSA.csv"
    expr, table = load_data(shared_ccle / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                            shared_ccle / "drug" / "CCLE_dose_response_scores.tsv", sample_info=info)
    datasets = [drug_dataset(expr, table, d) for d in table.drugs]
    cells = response_matrix(datasets)[2]
    for lineages in (None, read_lineages(info)):
        for scheme in ("cell-lines", "tissues"):
            for held in held_out_sets(scheme, cells, 5, 0, lineages=lineages):
                assert 0.2 < len(held) / len(cells) < 0.4
                for ds in datasets:
                    train, test = drug_rows(ds.cell_lines, held, ds.drug)
                    assert train.size + test.size == ds.y.size
