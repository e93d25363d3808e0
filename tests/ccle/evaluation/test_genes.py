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


def _stability_per_gene(drug, source, lists, top):
    """gene_stability as one numpy mean per gene (the reference the grouped computation must equal bit for bit)."""
    seen = {}
    for lst in lists:
        for rank, (gene, value) in enumerate(lst, start=1):
            seen.setdefault(str(gene), []).append((rank, float(value)))
    rows = [{"drug": drug, "source": source, "gene": g, "selection_frequency": len(h) / len(lists),
             "mean_rank": float(np.array([x[0] for x in h], dtype=np.float64).mean()), "n_splits": len(lists),
             "n_selected": len(h), "mean_value": float(np.array([x[1] for x in h]).mean()),
             "sign_agreement": float(abs(np.sign(np.array([x[1] for x in h])).mean()))} for g, h in seen.items()]
    df = pd.DataFrame(rows, columns=list(GENES_COLUMNS[:-1]))
    df = df.sort_values(["selection_frequency", "mean_rank", "gene"], ascending=[False, True, True],
                        kind="mergesort").reset_index(drop=True)
    df["top20"] = df.index < top
    return df


@pytest.mark.parametrize("n_splits", [1, 3, 5, 12, 25])
def test_gene_stability_equals_one_mean_per_gene(n_splits):
    # up to 25 splits: numpy sums more than 8 values pairwise, and the grouped means must still match
    rng = np.random.default_rng(n_splits)
    lists = []
    for _ in range(n_splits):
        genes = rng.choice(80, size=rng.integers(0, 50), replace=False)
        values = rng.standard_normal(genes.size) * 10.0 ** rng.integers(-4, 4, genes.size)
        values[rng.random(genes.size) < 0.1] = -0.0
        lists.append([[f"G{g}", float(v)] for g, v in zip(genes, values)])
    got, want = gene_stability("D", "RFE", lists, top=7), _stability_per_gene("D", "RFE", lists, 7)
    assert got.dtypes.equals(want.dtypes)
    assert got.to_csv(index=False) == want.to_csv(index=False)
    assert np.array_equal(got["mean_value"].to_numpy().view(np.int64), want["mean_value"].to_numpy().view(np.int64))


def test_gene_stability_of_splits_that_selected_nothing():
    got = gene_stability("D", "EN", [[], []])
    assert list(got.columns) == list(GENES_COLUMNS) and len(got) == 0
    both = pd.concat([got, gene_stability("E", "EN", [[["g", 1.5]]])], ignore_index=True)
    assert both["mean_value"].tolist() == [1.5]
