"""MultiTaskModel: learns shared structure from observed pairs only, gene filter, reproducibility, save/load
round trip through one .nnz, the response matrix of per-drug data sets, bad input."""
import numpy as np
import pytest

from ccle.data.align import DrugDataset
from ccle.methods.multitask import (MultiTaskModel, correlation_scores, load_multitask, response_matrix,
                                    save_multitask)
from nnlite.compress.fileformat import read_metadata


def problem(n=160, p=30, k=4, missing=0.3, seed=0):
    """k drugs that all respond to one latent factor of genes 0-2, plus a drug-specific gene 3 + j."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32)
    shared = np.tanh(X[:, 0] + X[:, 1] - X[:, 2])
    Y = np.stack([(1 + 0.3 * j) * shared + 0.5 * X[:, 3 + j] + 0.2 * rng.standard_normal(n) + 3 * j
                  for j in range(k)], axis=1)
    Y_obs = Y.copy()
    Y_obs[rng.random(Y.shape) < missing] = np.nan
    return X, Y, Y_obs


def small(**kw):
    base = dict(hidden=(24,), dropout=0.1, l2=1e-4, lr=3e-3, epochs=120, patience=15, cv=2, n_genes=20,
                compress=True, prune_percent=30, retrain_epochs=2, seed=0)
    base.update(kw)
    return MultiTaskModel(**base)


@pytest.fixture(scope="module")
def fitted():
    X, Y, Y_obs = problem()
    return small().fit(X[:120], Y_obs[:120], genes=[f"g{i}" for i in range(30)],
                       drugs=[f"d{j}" for j in range(4)]), X, Y, Y_obs


def test_learns_every_drug_better_than_its_mean_including_unobserved_pairs(fitted):
    model, X, Y, Y_obs = fitted
    P = model.predict(X[120:])
    assert P.shape == (40, 4)
    mse = np.mean((P - Y[120:]) ** 2, axis=0)
    base = np.mean((np.nanmean(Y_obs[:120], axis=0) - Y[120:]) ** 2, axis=0)
    assert np.all(mse < 0.6 * base)
    # training pairs that were missing: the shared trunk predicts them from the other drugs' signal
    miss = np.isnan(Y_obs[:120])
    P_tr = model.predict(X[:120])
    assert np.mean((P_tr[miss] - Y[:120][miss]) ** 2) < 0.6 * np.mean(base)
    classes = model.classify(X[120:])
    assert classes.shape == (40, 4) and set(np.unique(classes)) <= {"sensitive", "moderate", "resistant"}


def test_targets_standardized_on_observed_training_rows_and_thresholds_per_drug(fitted):
    model, X, Y, Y_obs = fitted
    np.testing.assert_allclose(model.y_mean_, np.nanmean(Y_obs[:120], axis=0))
    np.testing.assert_allclose(model.y_scale_, np.nanstd(Y_obs[:120], axis=0))
    col = Y_obs[:120, 2]
    assert model.thresholds_[2].low_ == pytest.approx(np.percentile(col[np.isfinite(col)], 25))
    assert model.network_.n_out == 4 and len(model.networks_) == 2


def test_gene_filter_keeps_the_informative_genes_and_scores_match_numpy(fitted):
    model, X, Y, Y_obs = fitted
    assert model.support_.sum() == 20 and len(model.genes_) == 20
    assert {"g0", "g1", "g2", "g3", "g4", "g5", "g6"} <= set(model.genes_)
    Xs, Ys = X[:120].astype(np.float64), Y_obs[:120]
    expected = np.zeros(30)
    for j in range(4):
        seen = np.isfinite(Ys[:, j])
        expected += np.array([np.corrcoef(Xs[seen, g], Ys[seen, j])[0, 1] ** 2 for g in range(30)])
    np.testing.assert_allclose(correlation_scores(Xs, Ys), expected / 4, rtol=1e-10)


def test_same_seed_same_model_other_seed_another():
    X, Y, Y_obs = problem(n=80)
    a = small(epochs=30, compress=False).fit(X, Y_obs)
    b = small(epochs=30, compress=False).fit(X, Y_obs)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = small(epochs=30, compress=False, seed=1).fit(X, Y_obs)
    assert not np.array_equal(a.predict(X), c.predict(X))


def test_save_load_round_trip_predicts_bit_for_bit(fitted, tmp_path):
    model, X, Y, Y_obs = fitted
    path = tmp_path / "mt.nnz"
    assert save_multitask(model, path) > 0
    meta = read_metadata(path)
    assert meta["format"] == "ccle.methods.multitask" and meta["drugs"] == ["d0", "d1", "d2", "d3"]
    assert meta["genes"] == model.genes_ and len(meta["thresholds"]) == 4
    assert meta["version"] == 2 and len(meta["calibrated_thresholds"]) == 4 and "training_cell_lines" not in meta
    assert [len(o) for o in meta["oof_predictions"]] == np.isfinite(Y_obs[:120]).sum(axis=0).tolist()
    loaded = load_multitask(path)
    assert [t.to_dict() for t in loaded.calibrated_thresholds_] == meta["calibrated_thresholds"]
    cols = [int(g[1:]) for g in loaded.genes_]
    np.testing.assert_array_equal(loaded.predict(X[120:, cols]), model.predict(X[120:]))
    np.testing.assert_array_equal(loaded.classify(X[120:, cols]), model.classify(X[120:]))
    assert loaded.drugs_ == model.drugs_
    # the numpy-only runtime reads the same file: one network, one output per drug
    from nnlite import runtime

    Z = loaded.transform(X[120:, cols])
    np.testing.assert_array_equal(runtime.load(path).predict(Z), model.network_.predict(Z))


def test_load_rejects_a_per_drug_file(tmp_path):
    from nnlite.compress.fileformat import save_compressed

    model = small()
    X, Y, Y_obs = problem(n=40)
    model.fit(X, Y_obs)
    save_compressed(model.network_, tmp_path / "other.nnz", metadata={"format": "ccle.perdrug"})
    with pytest.raises(ValueError, match="not a multitask model"):
        load_multitask(tmp_path / "other.nnz")


def test_response_matrix_aligns_cell_lines_and_marks_missing_pairs():
    genes = ["A", "B", "C"]
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    d1 = DrugDataset(X[[0, 1, 2]], np.array([1.0, 2.0, 3.0]), ["L0_LUNG", "L1_SKIN", "L2_BONE"], genes, "d1")
    d2 = DrugDataset(X[[1, 3]][:, [0, 2]], np.array([5.0, 6.0]), ["l1_skin", "L3_LUNG"], ["A", "C"], "d2")
    Xm, Ym, cells, g, drugs = response_matrix([d1, d2])
    assert cells == ["L0_LUNG", "L1_SKIN", "L2_BONE", "L3_LUNG"] and g == ["A", "C"] and drugs == ["d1", "d2"]
    np.testing.assert_array_equal(Xm, X[:, [0, 2]])
    np.testing.assert_array_equal(Ym, [[1, np.nan], [2, 5], [3, np.nan], [np.nan, 6]])


@pytest.mark.parametrize("Y, match", [
    (np.full((20, 2), np.nan), "fewer than"),
    (np.full((20, 2), np.inf), "inf"),
    (np.zeros((19, 2)), "n_cells = 20"),
])
def test_bad_input(Y, match):
    with pytest.raises(ValueError, match=match):
        small().fit(np.zeros((20, 5)), Y)
    with pytest.raises(ValueError, match="cv"):
        small(cv=1).fit(np.zeros((20, 5)), np.zeros((20, 2)))


def test_fit_predict_split_holds_out_the_same_lines_for_every_drug():
    from ccle.methods.multitask import fit_predict_split
    from ccle.evaluation.splits import cell_line_splits

    X, Y, Y_obs = problem(n=100, k=3)
    cells = [f"L{i}_{'LUNG' if i % 2 else 'SKIN'}" for i in range(100)]
    dss = []
    for j in range(3):
        rows = np.flatnonzero(np.isfinite(Y_obs[:, j]))
        dss.append(DrugDataset(X[rows], Y_obs[rows, j], [cells[i] for i in rows], [f"g{g}" for g in range(30)],
                               f"d{j}"))
    held = cell_line_splits(cells, 2, seed=0)[0]
    model, preds = fit_predict_split(dss, held, small(epochs=40))
    train_lines = {c.upper() for c in cells} - held
    assert model.y_mean_ == pytest.approx([np.mean([ds.y[i] for i, c in enumerate(ds.cell_lines)
                                                    if c.upper() in train_lines]) for ds in dss])
    for j, ds in enumerate(dss):
        te, pred = preds[ds.drug]
        assert all(ds.cell_lines[i].upper() in held for i in te)
        rows = [cells.index(ds.cell_lines[i]) for i in te]
        np.testing.assert_allclose(pred, model.predict(X[rows])[:, j], rtol=1e-5, atol=1e-6)  # float32 batches
