"""Gene lists, permutation importance and stability over splits."""
import numpy as np
import pandas as pd
import pytest

from ccle.evaluation.genes import (GENES_COLUMNS, committee_importance, enet_genes, gene_stability, importance_genes,
                                   permutation_importance, ranked, rfe_genes, stability_from_records)
from ccle.report import write_genes_csv
from ccle.methods.oof import fold_ids


def test_ranked_orders_by_absolute_value_then_name():
    assert ranked(["a", "b", "c", "d"], [0.1, -3.0, 0.1, 2.0]) == [["b", -3.0], ["d", 2.0], ["a", 0.1],
                                                                  ["c", 0.1]]
    assert ranked(["a", "b"], [1.0, 2.0], top=1) == [["b", 2.0]]
    with pytest.raises(ValueError):
        ranked(["a"], [1.0, 2.0])


def test_rfe_and_enet_lists():
    names = ["G0", "G1", "G2", "G3"]
    assert rfe_genes(names, [True, False, True, True], [0.5, -1.0, 0.0]) == [["G2", -1.0], ["G0", 0.5],
                                                                            ["G3", 0.0]]
    assert enet_genes(names, [0.0, 0.2, 0.0, -0.7]) == [["G3", -0.7], ["G1", 0.2]]


def test_permutation_importance_finds_the_genes_a_model_uses():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = 3 * X[:, 2] - X[:, 4]
    imp = permutation_importance(lambda A: 3 * A[:, 2] - A[:, 4], X, y, n_repeats=3, seed=1)
    assert np.argsort(-imp)[:2].tolist() == [2, 4]
    assert np.allclose(imp[[0, 1, 3, 5]], 0.0)
    assert imp[2] == pytest.approx(2 * 9, rel=0.2)  # shuffling x doubles its variance contribution
    assert (permutation_importance(lambda A: 3 * A[:, 2] - A[:, 4], X, y, 3, 1) == imp).all()  # seeded


def test_committee_importance_scores_each_network_on_its_own_fold():
    class Linear:
        def __init__(self, w):
            self.w = np.asarray(w)

        def predict(self, Z):
            return Z @ self.w

    rng = np.random.default_rng(2)
    Z = rng.normal(size=(80, 3))
    y = Z[:, 0]
    folds = fold_ids(80, 2, seed=0)
    imp = committee_importance([Linear([1.0, 0, 0]), Linear([1.0, 0, 0])], Z, y, folds, n_repeats=2)
    assert imp[0] > 1.0 and imp[1] == imp[2] == 0.0
    assert importance_genes(["x", "y", "z"], imp, top=1) == [["x", float(imp[0])]]


def test_gene_stability_frequency_rank_and_top20(tmp_path):
    lists = [[["A", 2.0], ["B", -1.0]], [["B", -3.0], ["A", 1.0], ["C", 0.5]], []]
    df = gene_stability("D", "RFE", lists, top=2)
    assert list(df.columns) == list(GENES_COLUMNS)
    assert df["gene"].tolist() == ["A", "B", "C"]  # A and B both 2/3; A mean rank 1.5, B 1.5 -> by name
    a = df.set_index("gene").loc["A"]
    assert a.selection_frequency == pytest.approx(2 / 3) and a.mean_rank == 1.5 and a.n_splits == 3
    assert df.set_index("gene").loc["B"].sign_agreement == 1.0
    assert df["top20"].tolist() == [True, True, False]
    records = [{"drug": "D", "genes_rfe": lst} for lst in lists] + [{"drug": "E", "genes_rfe": None}]
    pd.testing.assert_frame_equal(stability_from_records(records, "genes_rfe", "RFE", top=2), df)
    path = write_genes_csv(tmp_path, [df])
    back = pd.read_csv(path)
    assert back["gene"].tolist() == ["A", "B", "C"] and list(back.columns) == list(GENES_COLUMNS)
