"""The embedded default data set: real drug facts, CCLE-like structure, caching and reproducibility."""
import json
import re

import numpy as np
import pandas as pd
import pytest

from ccle.data import synthetic
from ccle.data.align import drug_dataset
from ccle.data.drugs import ORIGINAL_COLUMNS, read_drug_table
from ccle.data.gct import read_gct
from ccle.data.synthetic import ACTAREA_SUMMARY, default_data, make_expression
from ccle.errors import CCLEError

N_GENES = 300  # small: the properties tested do not depend on the gene count


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return default_data(cache_dir=tmp_path_factory.mktemp("cache"), n_genes=N_GENES, seed=0)


@pytest.fixture(scope="module")
def loaded(data):
    return read_gct(data.expression_path), read_drug_table(data.drugs_path)


def test_real_drug_names_counts_and_quartiles_within_5_percent(loaded):
    _, drugs = loaded
    assert drugs.drugs == sorted(ACTAREA_SUMMARY) and len(drugs.drugs) == 24
    for drug, (count, mean, std, lo, q1, q2, q3, hi) in ACTAREA_SUMMARY.items():
        y = drugs.responses(drug).to_numpy()
        assert len(y) == count
        got = np.percentile(y, [25, 50, 75])
        np.testing.assert_allclose(got, [q1, q2, q3], rtol=0.05, err_msg=drug)
        np.testing.assert_allclose([y.min(), y.max()], [lo, hi], atol=1e-4, err_msg=drug)
        np.testing.assert_allclose([y.mean(), y.std(ddof=1)], [mean, std], rtol=0.08, err_msg=drug)


def test_summary_facts_match_the_shared_file(shared_ccle):
    summary = pd.read_csv(shared_ccle / "drug" / "ActArea_summary_per_drug.csv", index_col=0)
    cols = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    for drug, facts in ACTAREA_SUMMARY.items():
        np.testing.assert_allclose(facts, summary.loc[drug, cols].to_numpy(dtype=float), err_msg=drug)


def test_original_13_column_layout(data):
    table = pd.read_csv(data.drugs_path, dtype=str, keep_default_na=False)
    assert tuple(table.columns) == ORIGINAL_COLUMNS
    row = table.iloc[0]
    assert len(row["Doses (uM)"].split(",")) == 8 and len(row["Activity Data (median)"].split(",")) == 8
    assert row["FitType"] == "Sigmoid"
    ic50 = table["IC50 (uM)"].astype(float)
    assert (ic50 > 0).all() and ic50.max() <= 8.0
    for response in ("IC50 (uM)", "EC50 (uM)", "Amax"):
        assert len(read_drug_table(data.drugs_path, response=response).frame) > 1000


def test_cell_lines_named_like_ccle_across_tissues(loaded):
    expr, drugs = loaded
    assert expr.n_cells == 1000 and expr.n_genes == N_GENES
    assert all(re.fullmatch(r"[A-Z0-9]+_[A-Z_]+", c) for c in expr.cell_lines)
    tissues = {c.split("_", 1)[1] for c in expr.cell_lines}
    assert len(tissues) == 20 and "HAEMATOPOIETIC_AND_LYMPHOID_TISSUE" in tissues
    assert len(drugs.cell_lines) == 504 and set(drugs.cell_lines) <= set(expr.cell_lines)


def test_expression_structure(loaded, data):
    expr, _ = loaded
    v = expr.values
    assert v.min() >= 0.0
    assert 0.15 < (v == 0).mean() < 0.6  # many zeros
    dead = data.truth()["all_zero_genes"]
    assert dead and all((v[:, expr.genes.index(g)] == 0).all() for g in dead)
    expressed = v[v > 0]
    assert np.percentile(expressed, 99.9) > 50 * np.median(expressed)  # heavy upper tail
    logv = np.log2(v.astype(np.float64) + 1.0)
    # tissue effects: the between-tissue share of variance is large for a sizeable number of genes
    tissue = np.array([c.split("_", 1)[1] for c in expr.cell_lines])
    centred = logv - logv.mean(0)
    between = sum((tissue == t).sum() * centred[tissue == t].mean(0) ** 2 for t in set(tissue))
    eta2 = between / np.maximum((centred ** 2).sum(0), 1e-12)
    assert (eta2 > 0.3).mean() > 0.1
    # low-rank modules: the top 24 principal components explain far more than 24 random directions would
    live = logv[:, logv.std(0) > 0]
    s = np.linalg.svd(live - live.mean(0), compute_uv=False) ** 2
    assert s[:24].sum() / s.sum() > 3 * 24 / live.shape[1]


def test_truth_is_sparse_and_recoverable(loaded, data):
    expr, drugs = loaded
    truth = data.truth()
    assert truth["params"] == {"version": synthetic.GENERATOR_VERSION, "n_genes": N_GENES, "n_cells": 1000,
                               "n_tissues": 20, "seed": 0}
    for drug in ("17-AAG", "AZD6244", "Paclitaxel"):
        info = truth["drugs"][drug]
        assert 4 <= len(info["genes"]) <= 8 and set(info["genes"]) <= set(expr.genes)
        kinds = {t["kind"] for t in info["terms"]}
        assert "interaction" in kinds
        ds = drug_dataset(expr, drugs, drug)
        # the response depends on the driver genes more than on random other genes (rank correlation)
        logx = np.log2(ds.X.astype(np.float64) + 1.0)
        rank_y = pd.Series(ds.y).rank().to_numpy()
        corr = np.array([abs(np.corrcoef(pd.Series(logx[:, j]).rank(), rank_y)[0, 1]) if logx[:, j].std() > 0
                         else 0.0 for j in range(logx.shape[1])])
        drivers = [ds.genes.index(g) for g in info["genes"]]
        assert corr[drivers].max() > np.percentile(np.delete(corr, drivers), 90)
    # drugs with the same target share driver genes
    assert set(truth["drugs"]["AZD6244"]["genes"]) & set(truth["drugs"]["PD-0325901"]["genes"])


def test_same_seed_identical_bytes_other_seed_differs(tmp_path, data):
    again = default_data(cache_dir=tmp_path, n_genes=N_GENES, seed=0)
    assert again.expression_path != data.expression_path
    for a, b in [(again.expression_path, data.expression_path), (again.drugs_path, data.drugs_path),
                 (again.truth_path, data.truth_path)]:
        assert a.read_bytes() == b.read_bytes()
    other = synthetic.generate(tmp_path / "other", n_genes=N_GENES, seed=1)
    assert other.drugs_path.read_bytes() != data.drugs_path.read_bytes()


def test_cache_is_reused_and_keyed_by_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("CCLE_CACHE_DIR", str(tmp_path))
    first = default_data(n_genes=60, seed=3)
    assert first.folder.parent == tmp_path
    calls = []
    monkeypatch.setattr(synthetic, "generate", lambda *a, **k: calls.append(a))
    second = default_data(n_genes=60, seed=3)
    assert second == first and calls == []  # reused, not regenerated
    with pytest.raises(CCLEError, match="did not write expression.gct"):
        default_data(n_genes=61, seed=3)  # a new key: generate is called (our stub writes nothing)
    assert calls
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".building")]  # temp folder cleaned up


def test_gct_text_round_trips_the_generated_matrix(loaded):
    expr, _ = loaded
    direct = make_expression(n_genes=N_GENES, seed=0)
    np.testing.assert_array_equal(expr.values, direct.values)
    assert expr.cell_lines == direct.cell_lines and expr.genes == direct.genes


def test_bad_parameters(tmp_path):
    with pytest.raises(CCLEError, match="n_genes must be between 50 and 56318"):
        default_data(cache_dir=tmp_path, n_genes=10)
    with pytest.raises(CCLEError, match="n_cells"):
        default_data(cache_dir=tmp_path, n_cells=100)


def test_truth_json_is_plain_json(data):
    truth = json.loads(data.truth_path.read_text())
    assert set(truth["drugs"]) == set(ACTAREA_SUMMARY)
