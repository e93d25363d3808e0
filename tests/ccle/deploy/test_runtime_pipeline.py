"""nnlite.runtime's whole pipeline (predict_samples) on a small ccle model file: predict's answer column for
column, raw arrays in the model's gene order, the refusals, and the docstring example run as written."""
import csv
import doctest

import numpy as np
import pytest

import nnlite.runtime as rt
from ccle.deploy import per_drug as deploy
from ccle.deploy.training import train_drug_model
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data

TINY = {"cv": 2, "epochs": 20, "patience": 5, "l2": (1e-2,), "retrain_epochs": 1}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """An RPKM-like matrix (the log2(x + 1) path) of 80 lines x 30 genes and a model of one drug."""
    root = tmp_path_factory.mktemp("pipeline")
    rng = np.random.default_rng(5)
    L = rng.normal(3.0, 1.5, size=(80, 30))
    values = (2.0 ** L - 1).clip(0)
    cells = [f"CELL{i}_LUNG" for i in range(80)]
    genes = [f"G{j}" for j in range(30)]
    path = write_gct(root / "expr.gct", ExpressionMatrix(values.astype(np.float32), cells, genes, None, "x"),
                     fmt="%.9g")
    with open(root / "drugs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea"])
        for i in range(70):
            w.writerow([cells[i], "DrugA", f"{0.6 * L[i, 1] - 0.3 * L[i, 2] + 0.3 * rng.normal():.4f}"])
    expression, table = load_data(path, root / "drugs.csv")
    model = root / "a.nnz"
    train_drug_model(expression, table, "DrugA", seed=1, path=model, widths=(8,), n_features=10,
                            options=TINY)
    return {"model": model, "expression": expression}


def test_the_pipeline_gives_predicts_answer(small):
    e = small["expression"]
    ref = deploy.predict_file(small["model"], e, runtime=True)
    got = rt.load(small["model"]).predict_samples(e.values, genes=e.genes, samples=e.cell_lines)
    np.testing.assert_array_equal(got.response, ref["predicted_ActArea"])
    for mine, theirs in (("lower", "lower"), ("upper", "upper"), ("domain_outside_share", "domain_outside_share"),
                         ("domain_distance", "domain_distance")):
        np.testing.assert_array_equal(getattr(got, mine), ref[theirs].to_numpy())
    for mine, theirs in (("call_paper", "class_paper_rule"), ("call_calibrated", "class_calibrated"),
                         ("call_confident", "call_confident"), ("in_domain", "in_domain")):
        assert list(getattr(got, mine)) == list(ref[theirs]), mine
    assert got.in_domain.all() and got.diagnosis is None and list(got.as_dict()) == list(got.COLUMNS)
    # the raw array in the model's gene order, without names
    m = rt.load(small["model"])
    X = e.values[:, [e.genes.index(g) for g in m.metadata["genes"]]]
    np.testing.assert_array_equal(m.predict_samples(X).response, got.response)
    # the interval is the stored residuals' conformal quantile around the response
    q = np.sort(m.metadata["intervals"]["abs_residuals"])[int(np.ceil(0.9 * (len(X) - 10 + 1))) - 1]
    np.testing.assert_allclose(got.upper - got.response, q)


def test_the_pipeline_refuses_what_predict_refuses(small):
    e = small["expression"]
    m = rt.load(small["model"])
    need = m.metadata["genes"]
    with pytest.raises(ValueError, match="transposed"):
        m.predict_samples(e.values.T, genes=e.cell_lines, samples=e.genes)
    keep = [j for j, g in enumerate(e.genes) if g != need[0]]
    names = [e.genes[j] for j in keep]
    with pytest.raises(ValueError, match="1 of the 10 genes"):
        m.predict_samples(e.values[:, keep], genes=names)
    with pytest.raises(ValueError, match="more than the 5 %"):
        m.predict_samples(e.values[:, keep], genes=names, fill_missing=True, max_missing=0.05)
    assert np.isfinite(m.predict_samples(e.values[:, keep], genes=names, fill_missing=True).response).all()
    logged = np.log2(e.values.astype(np.float64) + 1)        # already on the log scale: most rows unlike training
    with pytest.raises(ValueError, match="already log-transformed"):
        m.predict_samples(logged, genes=e.genes)
    res = m.predict_samples(logged, genes=e.genes, allow_out_of_domain=True)
    assert not res.in_domain.any() and "already log-transformed" in res.diagnosis
    with pytest.raises(ValueError, match="without gene names"):
        m.predict_samples(e.values)


def test_the_docstring_example_runs(small):
    e = small["expression"]
    finder = doctest.DocTestFinder()
    test = finder.find(rt.predict_samples, "predict_samples",
                       globs={"model_path": str(small["model"]), "values": e.values, "genes": e.genes})[0]
    result = doctest.DocTestRunner().run(test)
    assert result.failed == 0 and result.attempted >= 4
