"""train -> .nnz -> predict round trip (ccle.deploy.per_drug, ccle.cli): exact reproduction of the in-memory model,
gene matching by name, missing genes and values, bad files."""
import csv

import numpy as np
import pytest

from ccle.deploy import content, inspection, training
from ccle.deploy import per_drug as deploy
from ccle.cli import COMMANDS, build_parser
from ccle.data.expression import ExpressionMatrix
from ccle.data.gct import write_gct
from ccle.data.loader import load_data
from ccle.errors import CCLEError
from nnlite.compress.fileformat import encode_network, load_committee

TINY = {"cv": 2, "epochs": 20, "patience": 5, "l2": (1e-2,), "retrain_epochs": 1}
N_CELLS, N_GENES, N_SELECTED = 70, 30, 12


def _matrix(values, cells, genes, source="<test>"):
    return ExpressionMatrix(np.asarray(values, dtype=np.float32), list(cells), list(genes), None, source)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """RPKM-like expression (so the log2(x + 1) path is used) of 70 cell lines x 30 genes (gene 5 zero
    everywhere), responses of two drugs for the first 60 cell lines."""
    root = tmp_path_factory.mktemp("deploy")
    rng = np.random.default_rng(11)
    L = rng.normal(3.0, 2.0, size=(N_CELLS, N_GENES))
    values = np.where(rng.random((N_CELLS, N_GENES)) < 0.1, 0.0, 2.0 ** L - 1).clip(0)
    values[:, 5] = 0.0
    cells = [f"CELL{i}_LUNG" for i in range(N_CELLS)]
    genes = [f"G{j}" for j in range(N_GENES)]
    expr_path = write_gct(root / "expr.gct", _matrix(values, cells, genes), fmt="%.9g")
    with open(root / "drugs.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["CCLE Cell Line Name", "Compound", "ActArea"])
        for i in range(60):
            w.writerow([cells[i], "DrugA", f"{np.tanh(L[i, 1] - 3) + 0.5 * L[i, 2] + 0.2 * rng.normal():.4f}"])
            w.writerow([cells[i], "DrugB", f"{rng.normal():.4f}"])
    expression, table = load_data(expr_path, root / "drugs.csv")
    model = root / "drugA.nnz"
    trained = training.train_drug_model(expression, table, "DrugA", seed=3, path=model, widths=(8, 4),
                                      n_features=N_SELECTED, options=TINY)
    return {"root": root, "expr": expr_path, "drugs": root / "drugs.csv", "expression": expression,
            "model": model, "trained": trained}


def _predicted(df):
    return df[[c for c in df.columns if c.startswith("predicted_")][0]].to_numpy()


def _run(argv):
    """What ``cli.py`` does with these commands: parse, run the handler, CCLEError -> one line, exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return {c.NAME: c.run for c in COMMANDS}[args.command](args)
    except (CCLEError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}")
        return 2


def test_round_trip_reproduces_the_in_memory_model_exactly(data):
    trained = data["trained"]
    est = trained.estimator
    df = deploy.predict_file(data["model"], data["expr"])
    assert list(df.columns) == ["cell_line", "predicted_ActArea", "percentile_among_training_ActArea",
                                "class_calibrated", "class_paper_rule", "in_training_set", "lower", "upper",
                                "call_confident", "in_domain", "domain_outside_share", "domain_distance"]
    assert len(df) == N_CELLS and df.attrs["drug"] == "DrugA" and df.attrs["filled_genes"] == []
    by_cell = df.set_index("cell_line")
    rows = by_cell.loc[trained.cell_lines]
    assert np.array_equal(rows["predicted_ActArea"].to_numpy(), est.predict(trained.X))
    assert np.array_equal(rows["class_paper_rule"].to_numpy(), est.thresholds_.classify(est.predict(trained.X)))
    assert set(df["class_paper_rule"]) <= {"sensitive", "moderate", "resistant"}
    # the numpy-only runtime: the same up to float32 rounding
    rt = deploy.predict_file(data["model"], data["expr"], runtime=True)
    np.testing.assert_allclose(_predicted(rt), _predicted(df), rtol=1e-6, atol=1e-6)


def test_committee_mean_of_the_engine_equals_the_runtime_copy(data):
    """ccle.methods.estimators.committee_mean (PerDrugModel.predict, predict_file) and nnlite.runtime's numpy-only copy."""
    import nnlite.runtime as rt

    from ccle.methods.estimators import committee_mean

    runtime_model = rt.load(data["model"])
    Z, _ = deploy.model_inputs(deploy.read_model_metadata(data["model"]), data["expression"])
    assert len(runtime_model.networks) == TINY["cv"]
    assert np.array_equal(committee_mean(runtime_model.networks, Z), runtime_model.predict(Z))
    est = data["trained"].estimator
    Z_train = est.selector_.transform(data["trained"].X)
    assert np.array_equal(committee_mean(est.networks_, Z_train) * est.y_scale_ + est.y_mean_,
                          est.predict(data["trained"].X))


def test_benchmark_and_train_see_the_same_matrix(data):
    """One transform: the benchmark's rows of a drug are train's rows, bit for bit, with the file's log2 decision."""
    from ccle.benchmark.datasets import drug_datasets
    from ccle.methods.preprocess import decide_log2

    expression, table = load_data(data["expr"], data["drugs"])
    assert decide_log2(expression.values) is True
    (ds,), description = drug_datasets(expression, table, ["DrugA"], decide_log2(expression.values))
    trained = data["trained"]
    assert ds.genes == trained.genes and list(ds.cell_lines) == trained.cell_lines
    assert ds.X.dtype == trained.X.dtype and np.array_equal(ds.X, trained.X)
    assert description == trained.transform.describe() == "log2(x+1), 1 constant genes dropped"


def test_a_committee_file_is_not_read_as_one_network(data):
    from nnlite.compress.fileformat import load_compressed

    with pytest.raises(ValueError, match=f"a committee of {TINY['cv']} networks"):
        load_compressed(data["model"])


def test_file_is_self_contained(data):
    meta = deploy.read_model_metadata(data["model"])
    trained = data["trained"]
    est = trained.estimator
    assert meta["drug"] == "DrugA" and meta["response"] == "ActArea"
    assert len(meta["genes"]) == N_SELECTED and "G5" not in trained.genes     # the constant gene was dropped
    assert meta["genes"] == [g for g, k in zip(trained.genes, est.selector_.support_) if k]
    assert meta["expression_transform"]["log2p1"] is True
    assert meta["thresholds"] == {"low": np.percentile(trained.y, 25), "high": np.percentile(trained.y, 75)}
    assert meta["target"] == {"mean": est.y_mean_, "scale": est.y_scale_}
    assert len(meta["scaler"]["data_min"]) == N_SELECTED and meta["training"]["n_cell_lines"] == 60
    assert len(deploy.load_networks(data["model"])) == TINY["cv"]


def test_gene_order_and_extra_genes_do_not_matter(data, tmp_path):
    e = data["expression"]
    perm = np.random.default_rng(0).permutation(len(e.genes))
    extra = np.random.default_rng(1).random((len(e.cell_lines), 3)) * 100
    values = np.hstack([e.values[:, perm], extra])
    genes = [e.genes[j] for j in perm] + ["X1", "X2", "X3"]
    path = write_gct(tmp_path / "shuffled.gct", _matrix(values, e.cell_lines, genes), fmt="%.9g")
    ref = deploy.predict_file(data["model"], data["expr"])
    out = deploy.predict_file(data["model"], path)
    assert np.array_equal(_predicted(out), _predicted(ref))
    assert list(out["class_calibrated"]) == list(ref["class_calibrated"])
    # fewer cell lines, in another order: each row still gets its own prediction
    sub = _matrix(e.values[[9, 3, 0]], [e.cell_lines[i] for i in (9, 3, 0)], e.genes)
    few = deploy.predict_file(data["model"], sub)
    assert np.array_equal(_predicted(few), _predicted(ref)[[9, 3, 0]])


def test_missing_genes_are_listed_or_filled(data):
    e = data["expression"]
    gone = data["trained"].metadata["genes"][:2]
    keep = [j for j, g in enumerate(e.genes) if g not in gone]
    partial = _matrix(e.values[:, keep], e.cell_lines, [e.genes[j] for j in keep], "partial.gct")
    with pytest.raises(CCLEError) as err:
        deploy.predict_file(data["model"], partial)
    msg = str(err.value)
    assert "partial.gct" in msg and "2 of the 12 genes" in msg and all(g in msg for g in gone)
    assert "\n" not in msg and "--fill-missing" in msg
    # what filling would cost: 2 of 12 inputs set to the training minimum, above the default 10 % allowed
    assert "16.7 % of the model's inputs" in msg and "10 %" in msg
    with pytest.raises(CCLEError, match=r"more than the 10 % that --fill-missing allows"):
        deploy.predict_file(data["model"], partial, fill_missing=True)
    df = deploy.predict_file(data["model"], partial, fill_missing=True, max_missing=0.2)
    assert df.attrs["filled_genes"] == gone and np.isfinite(_predicted(df)).all()
    meta = deploy.read_model_metadata(data["model"])
    Z, report = deploy.model_inputs(meta, partial, fill_missing=True, max_missing=0.2)
    assert report["filled_genes"] == gone
    assert np.abs(Z[:, :2]).max() < 1e-6    # the training minimum scales to 0


def test_missing_and_non_numeric_values(data, tmp_path):
    text = data["expr"].read_text().splitlines()
    gene = data["trained"].metadata["genes"][0]
    row = next(i for i, line in enumerate(text) if line.split("\t")[0] == gene)
    fields = text[row].split("\t")
    nan_lines = list(text)
    nan_lines[row] = "\t".join(fields[:2] + ["NA"] + fields[3:])
    (tmp_path / "nan.gct").write_text("\n".join(nan_lines) + "\n")
    with pytest.raises(CCLEError, match=f"1 missing or non-finite values.*CELL0_LUNG/{gene}"):
        deploy.predict_file(data["model"], tmp_path / "nan.gct")
    df = deploy.predict_file(data["model"], tmp_path / "nan.gct", fill_missing=True)
    assert df.attrs["filled_values"] == 1 and np.isfinite(_predicted(df)).all()
    bad_lines = list(text)
    bad_lines[row] = "\t".join(fields[:3] + ["abc"] + fields[4:])
    (tmp_path / "bad.gct").write_text("\n".join(bad_lines) + "\n")
    with pytest.raises(CCLEError, match=rf"bad.gct:{row + 1}: non-numeric value 'abc'"):
        deploy.predict_file(data["model"], tmp_path / "bad.gct")
    e = data["expression"]
    neg = _matrix(np.log2(e.values + 1) - 3, e.cell_lines, e.genes, "zscored.gct")
    with pytest.raises(CCLEError, match="negative expression values"):
        deploy.predict_file(data["model"], neg)
    j = e.genes.index(gene)
    dup = _matrix(np.hstack([e.values, e.values[:, j:j + 1]]), e.cell_lines, e.genes + [gene], "dup.gct")
    with pytest.raises(CCLEError, match=f"more than once: {gene}"):
        deploy.predict_file(data["model"], dup)


def test_empty_and_corrupt_files(data, tmp_path):
    (tmp_path / "empty.gct").write_text("")
    with pytest.raises(CCLEError, match="empty"):
        deploy.predict_file(data["model"], tmp_path / "empty.gct")
    raw = data["model"].read_bytes()
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x01
    (tmp_path / "flipped.nnz").write_bytes(bytes(flipped))
    (tmp_path / "short.nnz").write_bytes(raw[:len(raw) // 2])
    (tmp_path / "text.nnz").write_text("not a model\n")
    for name, pattern in (("flipped.nnz", "checksum"), ("short.nnz", "truncated"), ("text.nnz", "magic"),
                          ("absent.nnz", "no such model file")):
        with pytest.raises(CCLEError, match=pattern):
            deploy.predict_file(tmp_path / name, data["expr"])
        with pytest.raises(CCLEError, match=pattern):
            inspection.inspect_model(tmp_path / name)
    from nnlite.compress.fileformat import save_compressed

    save_compressed(deploy.load_networks(data["model"])[0], tmp_path / "bare.nnz")
    with pytest.raises(CCLEError, match="not a ccle drug model"):
        deploy.predict_file(tmp_path / "bare.nnz", data["expr"])


def test_inspect_describes_the_file(data):
    text = inspection.inspect_model(data["model"])
    meta = data["trained"].metadata
    assert "DrugA" in text and "CRC-32" in text and "SHA-256" in text
    assert "2 network(s)" in text and "bytes per stage: dense" in text and "huffman" in text
    assert f"dense 0: {N_SELECTED} x 8 ReLU" in text and "log2(x + 1)" in text
    assert all(g in text for g in meta["genes"])
    assert "interval (90 %, split-conformal on 60 out-of-fold residuals)" in text
    assert "domain: per-gene training range and quantiles of 60 lines; raw scale unlogged" in text


def test_cli_train_predict_inspect(data, tmp_path, capsys):
    model = tmp_path / "cli.nnz"
    argv = ["train", "--drug", "DrugA", "--expression", str(data["expr"]), "--drugs", str(data["drugs"]),
            "--out", str(model), "--genes", "10", "--widths", "6,3", "--quick", "--seed", "1"]
    assert _run(argv) == 0
    assert "wrote" in capsys.readouterr().out
    out = tmp_path / "pred.csv"
    assert _run(["predict", str(model), "--expression", str(data["expr"]), "--out", str(out)]) == 0
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    ref = deploy.predict_file(model, data["expr"])
    assert [r["cell_line"] for r in rows] == list(ref["cell_line"])
    assert np.array_equal(np.array([float(r["predicted_ActArea"]) for r in rows]), _predicted(ref))
    assert [r["class_paper_rule"] for r in rows] == list(ref["class_paper_rule"])
    assert [r["class_calibrated"] for r in rows] == list(ref["class_calibrated"])
    assert _run(["inspect", str(model)]) == 0
    assert "network(s)" in capsys.readouterr().out
    # --log2 no: the decision is the file's, recorded in the model and replayed by predict
    raw_model = tmp_path / "raw.nnz"
    assert _run(argv[:argv.index("--out") + 1] + [str(raw_model), "--quick", "--log2", "no"]) == 0
    assert deploy.read_model_metadata(raw_model)["expression_transform"]["log2p1"] is False
    assert deploy.read_model_metadata(model)["expression_transform"]["log2p1"] is True
    assert len(deploy.predict_file(raw_model, data["expr"])) == N_CELLS
    # errors: one line, exit code 2
    assert _run(["train", "--drug", "Nope", "--expression", str(data["expr"]), "--drugs", str(data["drugs"]),
                 "--out", str(tmp_path / "x.nnz")]) == 2
    assert "unknown drug 'Nope'" in capsys.readouterr().out
    (tmp_path / "empty.gct").write_text("")
    assert _run(["predict", str(model), "--expression", str(tmp_path / "empty.gct")]) == 2
    assert _run(["inspect", str(tmp_path / "absent.nnz")]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)


def test_numpy_only_recipe_from_the_readme(data):
    """The README's few lines for a machine with numpy alone give predict_file's numbers (float32 rounding)."""
    import nnlite.runtime as rt

    e = data["expression"]
    m = rt.load(data["model"])
    meta = m.metadata
    X = e.values[:, [e.genes.index(g) for g in meta["genes"]]]          # raw values, columns in meta["genes"] order
    if meta["expression_transform"]["log2p1"]:
        X = np.log2(X + np.float32(1))
    lo, hi = np.asarray(meta["scaler"]["data_min"]), np.asarray(meta["scaler"]["data_max"])
    scale = 1.0 / np.where(hi > lo, hi - lo, 1.0)
    Z = np.clip(X * scale.astype(np.float32) + (-lo * scale).astype(np.float32), 0, 1)
    pred = m.predict(Z) * meta["target"]["scale"] + meta["target"]["mean"]
    ref = deploy.predict_file(data["model"], e)
    np.testing.assert_allclose(pred, _predicted(ref), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(Z, deploy.model_inputs(deploy.read_model_metadata(data["model"]), e)[0])


def test_train_search_chooses_the_widths_with_the_paper_search(data):
    from ccle.methods.paper_model import PaperModel
    fast = {"epochs": 5, "patience": 2, "max_layers": 2, "max_width": 30}
    trained = training.train_drug_model(data["expression"], load_data(data["expr"], data["drugs"])[1], "DrugA",
                                      seed=3, n_features=N_SELECTED, options=TINY, search=True, search_options=fast)
    tr = trained.metadata["training"]
    found = PaperModel(n_features=N_SELECTED, seed=3, **fast).search(trained.X, trained.y)
    assert tr["search"]["widths"] == list(found.widths) == tr["widths"] and tr["search"]["n_calls"] >= 2
    with pytest.raises(CCLEError, match="--widths or --search"):
        training.train_drug_model(data["expression"], load_data(data["expr"], data["drugs"])[1], "DrugA",
                                widths=(4,), search=True)


def test_train_encodes_each_network_once(data, monkeypatch, tmp_path):
    """Each committee network is Huffman-encoded once (in compress_model), not again to be sized and written."""
    import nnlite.compress.fileformat as fileformat
    import nnlite.compress.pipeline as pipeline

    calls = []

    def counting(net, index_bits=None):
        calls.append(id(net))
        return encode_network(net, index_bits)

    monkeypatch.setattr(pipeline, "encode_network", counting)
    monkeypatch.setattr(content, "encode_network", counting)
    monkeypatch.setattr(fileformat, "encode_network", counting)   # what dumps_compressed calls without encoded=
    expression, table = load_data(data["expr"], data["drugs"])
    trained = training.train_drug_model(expression, table, "DrugA", seed=3, path=tmp_path / "m.nnz", widths=(8, 4),
                                      n_features=N_SELECTED, options=TINY)
    assert len(calls) == len(trained.estimator.networks_) == TINY["cv"]
    # and the file holds what a fresh encoding writes: the same networks as the fixture's (same seed) file
    mine, theirs = load_committee(tmp_path / "m.nnz")[1], load_committee(data["model"])[1]
    Z = np.random.default_rng(0).random((5, N_SELECTED)).astype(np.float32)
    assert all(np.array_equal(a.predict(Z), b.predict(Z)) for a, b in zip(mine, theirs))
