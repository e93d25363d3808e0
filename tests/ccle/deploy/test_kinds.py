"""A model file for every per-drug method (ccle.deploy.training, content, export): the file predicts what the
fitted estimator does, the numpy runtime and the export description agree with predict, the compact parts are
what they claim to be, and a plugin method of a known kind is written like a built-in one."""
import csv

import numpy as np
import pytest

from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data
from ccle.deploy import training
from ccle.deploy.content import file_content, floor_f32, forest_state
from ccle.deploy.export import conformal_half_width, model_description
from ccle.deploy.inspection import inspect_model
from ccle.deploy.per_drug import open_model, predict_file
from ccle.errors import CCLEError
from ccle.methods import MethodSpec, register, unregister
from ccle.methods.estimators import RandomForestModel
from nnlite import runtime
from nnlite.compress.fileformat import read_header
from nnlite.forest import RandomForestRegressor

N_CELLS, N_GENES = 60, 24
FAST = {"PM+": {"cv": 2, "epochs": 20, "patience": 5, "l2": (1e-2,), "retrain_epochs": 1,
                "compress_grid": ((10, 4), (40, 5))},
        "PM": {"epochs": 20, "patience": 5, "retrain_epochs": 1, "finetune_epochs": 1},
        "ANN": {"epochs": 20, "patience": 5}, "EN": {"n_alphas": 8, "cv": 3}, "RF": {"n_estimators": 12},
        "SVR": {"cv": 3, "C": (0.01, 0.1)}, "mean": {}}
KIND = {"PM+": "committee", "PM": "committee", "ANN": "dense", "EN": "linear", "SVR": "linear", "RF": "forest",
        "mean": "constant"}
METHODS = list(FAST)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """RPKM-like expression (log2 path) of 60 lines x 24 genes, one drug's response on the first 50."""
    root = tmp_path_factory.mktemp("kinds")
    rng = np.random.default_rng(5)
    L = rng.normal(3.0, 2.0, size=(N_CELLS, N_GENES))
    values = np.where(rng.random((N_CELLS, N_GENES)) < 0.1, 0.0, 2.0 ** L - 1).clip(0)
    cells = [f"CELL{i}_LUNG" for i in range(N_CELLS)]
    genes = [f"G{j}" for j in range(N_GENES)]
    expr = write_gct(root / "expr.gct", ExpressionMatrix(values.astype(np.float32), cells, genes, None, "<t>"),
                     fmt="%.9g")
    with open(root / "drugs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea"])
        for i in range(50):
            w.writerow([cells[i], "DrugA", f"{np.tanh(L[i, 1] - 3) + 0.5 * L[i, 2] + 0.2 * rng.normal():.4f}"])
    expression, table = load_data(expr, root / "drugs.csv")
    models = {}
    for method in METHODS:
        path = root / f"{method}.nnz"
        models[method] = training.train_drug_model(
            expression, table, "DrugA", method=method, seed=2, path=path, n_features=10, options=FAST[method],
            widths=(6, 3) if method in ("PM+", "PM", "ANN") else None)
    return {"root": root, "expr": expr, "expression": expression, "table": table, "models": models}


@pytest.mark.parametrize("method", METHODS)
def test_file_predicts_what_the_estimator_does(data, method):
    trained = data["models"][method]
    meta = trained.metadata
    assert meta["version"] == 3 and meta["method"] == method and meta["model_kind"] == KIND[method]
    e = data["expression"]
    rows = [e.cell_lines.index(c) for c in trained.cell_lines]    # the same rows in one batch, as fit saw them
    train_rows = ExpressionMatrix(e.values[rows], trained.cell_lines, e.genes, None, "<training rows>")
    got = predict_file(trained.path, train_rows)["predicted_ActArea"].to_numpy()
    df = predict_file(trained.path, e)
    want = trained.estimator.predict(trained.X)
    if KIND[method] in ("committee", "dense", "constant"):
        np.testing.assert_array_equal(got, want)            # the same float32 weights, the same code
    else:                                                   # float32 coefficients and leaf values in the file
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    rt = predict_file(trained.path, data["expression"], runtime=True)
    np.testing.assert_allclose(rt["predicted_ActArea"], df["predicted_ActArea"], rtol=1e-6, atol=1e-6)
    assert (df["class_calibrated"] != "").all() and df["in_training_set"].sum() == 50
    if KIND[method] != "committee":
        assert read_header(trained.path)["layers"] == [] and open_model(trained.path).networks == []


@pytest.mark.parametrize("method", METHODS)
def test_export_description_predicts_like_predict(data, method):
    trained = data["models"][method]
    desc = model_description(trained.path)
    e = data["expression"]
    genes = desc.preprocessing.genes
    X = e.values[:, [e.genes.index(g) for g in genes]] if genes else np.zeros((e.values.shape[0], 0), np.float32)
    out = desc.predict(X)
    df = predict_file(trained.path, e)
    np.testing.assert_allclose(out["response"], df["predicted_ActArea"], rtol=0, atol=1e-5)
    codes = {"resistant": 0, "moderate": 1, "sensitive": 2}
    same = out["call"] == df["class_calibrated"].map(codes).to_numpy()
    assert same.mean() >= 0.99
    half = conformal_half_width(trained.metadata["intervals"]["abs_residuals"])
    np.testing.assert_allclose(out["upper"] - out["response"], half)


def test_inputs_are_only_the_genes_the_model_uses(data):
    models = data["models"]
    en = models["EN"]
    coef = np.asarray(en.estimator.model_.coef_)
    assert len(en.metadata["genes"]) == int(np.count_nonzero(coef)) < len(en.genes)
    rf = models["RF"]
    used = np.unique(rf.estimator.model_.feature_[rf.estimator.model_.feature_ >= 0])
    assert rf.metadata["genes"] == [rf.genes[j] for j in used]
    assert models["mean"].metadata["genes"] == [] and models["SVR"].metadata["genes"] == models["PM+"].metadata[
        "genes"]
    ann = models["ANN"]
    assert ann.metadata["genes"] == [ann.genes[j] for j in ann.estimator.genes_]


def test_compact_metadata(data):
    """No recomputable scale / offset, float32 where the model is float32 or rounding does not matter."""
    for method, trained in data["models"].items():
        meta = trained.metadata
        assert set(meta["scaler"]) == {"clip", "data_min", "data_max"}
        assert "genes_ranked" not in meta
        arr = {a["path"]: a for a in read_header(trained.path)["arrays"]}
        for name in ("oof_predictions",):
            assert arr[name]["stored"] == "<f4", (method, name)
    forest = read_header(data["models"]["RF"].path)["arrays"]
    assert {a["path"]: a["stored"] for a in forest}["model.split"] == "<f4"


def test_forest_state_takes_every_branch_the_forest_takes():
    rng = np.random.default_rng(0)
    X = rng.random((200, 9)).astype(np.float32)
    y = X[:, 0] * 3 + np.sin(6 * X[:, 4]) + rng.normal(scale=0.1, size=200)
    rf = RandomForestRegressor(n_estimators=9, min_samples_leaf=2, seed=3).fit(X, y)
    state, used = forest_state(rf.feature_, rf.threshold_, rf.left_, rf.right_, rf.value_, rf.n_features_in_)
    model = runtime.array_model(state, used.size)
    grid = np.concatenate([X, np.nextafter(X, 2), np.nextafter(X, -1)])      # one float either side
    np.testing.assert_allclose(model.predict(grid[:, used]), rf.predict(grid), rtol=1e-6)
    # the same leaves: float32 leaf values are the only difference
    exact = RandomForestRegressor(n_estimators=9, min_samples_leaf=2, seed=3).fit(X, y)
    exact.value_ = exact.value_.astype(np.float32).astype(np.float64)
    np.testing.assert_array_equal(model.predict(grid[:, used]), exact.predict(grid))
    t = rng.normal(size=1000)
    assert np.all(floor_f32(t).astype(np.float64) <= t)
    assert np.all(np.nextafter(floor_f32(t), np.float32(np.inf)).astype(np.float64) > t)


def test_inspect_describes_every_kind(data):
    for method, trained in data["models"].items():
        text = inspect_model(trained.path)
        assert f"model: {method} ({KIND[method]})" in text and "bytes by part:" in text
        assert "interval (90 %" in text and "classes, calibrated" in text
    assert "forest: 12 trees" in inspect_model(data["models"]["RF"].path)
    assert "no input gene" in inspect_model(data["models"]["mean"].path)


def test_plugin_method_of_a_known_kind_is_written(data, tmp_path):
    register(MethodSpec(name="RF7", make=lambda seed=0, **kw: RandomForestModel(n_estimators=7, seed=seed)))
    try:
        trained = training.train_drug_model(data["expression"], data["table"], "DrugA", method="RF7",
                                            path=tmp_path / "rf7.nnz")
    finally:
        unregister("RF7")
    assert trained.metadata["model_kind"] == "forest" and trained.metadata["method"] == "RF7"
    got = predict_file(tmp_path / "rf7.nnz", data["expression"]).set_index("cell_line")["predicted_ActArea"]
    np.testing.assert_allclose(got.loc[trained.cell_lines], trained.estimator.predict(trained.X), rtol=1e-6)

    class Opaque:
        def fit(self, X, y):
            self.oof_predictions_ = np.zeros(len(y))
            return self

    with pytest.raises(CCLEError, match="none of the kinds"):
        file_content(Opaque().fit(np.zeros((3, 2)), np.zeros(3)), None, None, method="Opaque")


def test_methods_that_need_more_than_expression_are_refused(data, tmp_path):
    for method, what in (("MT", "every drug"), ("tissue", "tissue")):
        with pytest.raises(CCLEError, match=what):
            training.train_drug_model(data["expression"], data["table"], "DrugA", method=method,
                                      path=tmp_path / "x.nnz")
    with pytest.raises(CCLEError, match="has none"):
        training.train_drug_model(data["expression"], data["table"], "DrugA", method="EN", widths=(4,))


def test_schema_refuses_a_model_of_the_wrong_kind(data, tmp_path):
    from ccle.deploy.schema import validate_metadata
    meta = dict(data["models"]["EN"].metadata)
    validate_metadata(meta, "m.nnz")
    for bad, match in (({"model_kind": "tree"}, "model_kind"), ({"model": {"kind": "forest"}}, "model.kind"),
                       ({"method": ""}, "method"), ({"importance": [1.0]}, "importance")):
        with pytest.raises(CCLEError, match=match):
            validate_metadata({**meta, **bad}, "m.nnz")
