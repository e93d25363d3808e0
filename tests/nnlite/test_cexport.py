"""nnlite.export: model descriptions against the engine, and the generated C99 compiled and run against numpy.

Compiled checks (slow): every model kind is exported, compiled with ``cc -std=c99 -O2 -Wall -Wextra -Werror
-pedantic`` together with the generated test driver, and run on rows including extreme, out-of-range,
negative, NaN and infinite values. Responses agree with the numpy runtime / engine prediction within 1e-4
(forests: exactly the leaf means, rounded to float), calls are equal, bad inputs return their error codes.
The Cortex-M4 cross-compilation is skipped when ``arm-none-eabi-gcc`` is absent.
"""
import shutil
import subprocess

import numpy as np
import pytest

from nnlite import runtime as rt
from nnlite.compress.fileformat import dumps_committee
from nnlite.compress.pipeline import compress_model
from nnlite.export import Calls, Committee, Constant, DenseLayer, Forest, Linear, ModelDescription, Preprocessing
from nnlite.export.c import (_ceil_f32, _f32, _floor_f32, c_sources, check_name, driver_source, encode_layer,
                             export_c)
from nnlite.forest import RandomForestRegressor
from nnlite.linear.enet import ElasticNet
from nnlite.networks import paper_network, simple_ann_network
from nnlite.runtime import decode_gaps

P = 24
CC = ["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = (rng.gamma(2.0, 3.0, size=(120, P))).astype(np.float32)        # expression-like, >= 0
    t = np.log2(X + 1)
    y = t[:, 0] - 0.5 * t[:, 3] + 0.3 * t[:, 7] * t[:, 1] + rng.normal(scale=0.2, size=120)
    genes = [f"GENE{i}" for i in range(P)]
    pre = Preprocessing.minmax(genes, t.min(0), t.max(0), log2p1=True)
    return {"X": X, "y": y, "genes": genes, "pre": pre, "Z": pre.transform(X)}


@pytest.fixture(scope="module")
def committee(data):
    """Three networks through nnlite.compress's own pipeline (prune, quantize, fine-tune), standardized y."""
    Z, y = data["Z"], data["y"]
    ys = ((y - y.mean()) / y.std()).astype(np.float32)
    nets = []
    for s in range(3):
        net = paper_network(P, [12, 6], dropout=0.2, n_dropout=1, seed=s)
        net.fit(Z[:90], ys[:90], epochs=15, batch_size=16)
        net, _ = compress_model(net, Z[:90], ys[:90], Z[90:], ys[90:], prune_percent=[70, 40, 0], bits=4,
                                retrain_epochs=2, finetune_epochs=2, seed=s)
        nets.append(net)
    return nets, float(y.mean()), float(y.std())


def _calls_between(r, direction=1, strict=True):
    """Thresholds halfway between predictions (no prediction sits on a threshold: calls are well defined)."""
    s = np.sort(r)
    n = len(s)
    return Calls((s[n // 4] + s[n // 4 + 1]) / 2, (s[3 * n // 4] + s[3 * n // 4 + 1]) / 2, direction, strict)


def _descriptions(data, committee):
    pre, Z, y = data["pre"], data["Z"], data["y"]
    nets, mean, scale = committee
    out = {}
    model = Committee.from_networks(nets)
    r = model.predict(Z) * scale + mean
    out["ann"] = ModelDescription(pre, model, mean, scale, _calls_between(r), interval=(-0.25, 0.3),
                                  info={"drug": "Testinib", "method": "PM+"})
    en = ElasticNet(alpha=0.01, l1_ratio=0.5).fit(Z.astype(np.float64), y)
    lin = Linear(en.coef_, en.intercept_)
    out["linear"] = ModelDescription(pre, lin, calls=_calls_between(lin.predict(Z), -1, False))
    rf = RandomForestRegressor(n_estimators=7, min_samples_leaf=3, seed=1).fit(Z, y)
    forest = Forest.from_estimator(rf)
    out["forest"] = ModelDescription(pre, forest, calls=_calls_between(rf.predict(Z)), interval=(-1.0, 1.0))
    out["constant"] = ModelDescription(Preprocessing.standard(data["genes"], np.zeros(P), np.ones(P)),
                                       Constant(float(y.mean())), calls=Calls(0.0, 1.0))
    dense = simple_ann_network(P, [5], seed=4)                       # not weight-shared: stored dense
    out["dense"] = ModelDescription(Preprocessing.standard(data["genes"], Z.mean(0), Z.std(0), clip=(-3, 3)),
                                    Committee.from_networks([dense]))
    return out, {"rf": rf, "en": en}


def _rows(data):
    """Test rows: training rows, then extreme, out-of-range and bad values (rows 8.. and their expected rc)."""
    X = data["X"][:12].copy()
    X[8] = 1e30                      # far above every training maximum (clipped)
    X[9] = 0.0                       # at or below the training minima
    X[10, 2] = np.nan
    X[11, 5] = -1.0                  # negative under log2(x + 1)
    extra = data["X"][12:16].copy()
    extra[0, 1] = np.inf
    extra[1, :P // 2] = 3e6
    return np.vstack([X, extra]).astype(np.float32)


def _run(tmp_path, models, rows, reps=None):
    """Compile ``models`` (name -> description) into one program with the test driver, run it on ``rows``."""
    for name, desc in models.items():
        export_c(desc, tmp_path / name, name)
    (tmp_path / "driver.c").write_text(driver_source(models))
    exe = tmp_path / "driver"
    cmd = CC + [f"-I{tmp_path / n}" for n in models] + ["-o", str(exe), str(tmp_path / "driver.c")]
    cmd += [str(tmp_path / n / f"{n}.c") for n in models] + ["-lm"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    text = f"{len(rows)}\n" + "\n".join(" ".join(f"{v:.9g}" for v in row) for row in rows) + "\n"
    args = [str(exe)] + ([str(reps)] if reps else [])
    out = subprocess.run(args, input=text, capture_output=True, text=True, check=True).stdout.split("\n")
    if reps:
        return dict(line.split() for line in out if line)
    values = np.array([[float(v) for v in line.split()] for line in out if line])
    k = len(models)
    return {name: values[i::k] for i, name in enumerate(models)}


# ------------------------------------------------------------------------------------------------ pure Python
def test_float_literals_and_directed_rounding_are_exact():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(size=200) * 10.0 ** rng.integers(-30, 30, 200), [0.0, -0.0, 1.0, 3.0, 1e-45]])
    for x in v:
        text = _f32(x)
        assert text.endswith("f") and ("." in text or "e" in text or "n" in text)
        assert np.float32(float(text[:-1])) == np.float32(x)
    t = rng.normal(size=1000)
    lo, hi = _floor_f32(t), _ceil_f32(t)
    assert np.all(lo.astype(np.float64) <= t) and np.all(hi.astype(np.float64) >= t)
    assert np.all(np.nextafter(lo, np.float32(np.inf)).astype(np.float64) > t)
    assert np.all(np.nextafter(hi, np.float32(-np.inf)).astype(np.float64) < t)
    x = (t + rng.normal(size=1000) * 1e-8).astype(np.float32)          # inputs a float apart from thresholds
    np.testing.assert_array_equal(x <= lo, x.astype(np.float64) <= t)
    np.testing.assert_array_equal(x < hi, x.astype(np.float64) < t)


def test_packed_layer_stream_decodes_to_the_weights(committee):
    nets, _, _ = committee
    for W in [layer.W for net in nets for layer in net.dense_layers()] + [np.zeros((4, 3), np.float32)]:
        enc = encode_layer(W)
        if "dense" in enc:
            np.testing.assert_array_equal(enc["dense"], W)
            continue
        b, c, m = enc["gap_bits"], enc["index_bits"], enc["n_entries"]
        bits = np.unpackbits(np.frombuffer(enc["stream"], np.uint8), bitorder="little")[:m * (b + c)]
        entries = (bits.reshape(m, b + c).astype(np.int64) << np.arange(b + c)).sum(axis=1)
        gaps, clusters = entries & ((1 << b) - 1), entries >> b
        rebuilt = np.zeros(W.size, np.float32)
        rebuilt[decode_gaps(gaps, b)] = enc["codebook"][clusters[gaps != (1 << b) - 1]]
        np.testing.assert_array_equal(rebuilt.reshape(W.shape), W)
        assert len(enc["stream"]) == (m * (b + c) + 7) // 8 + 3


def test_descriptions_predict_like_the_engine(data, committee):
    models, est = _descriptions(data, committee)
    X, Z = data["X"], data["Z"]
    nets, mean, scale = committee
    engine = np.mean([net.predict(Z) for net in nets], axis=0) * scale + mean
    runtime = rt.loads(dumps_committee(nets)).predict(Z) * scale + mean
    ann = models["ann"].predict(X)
    np.testing.assert_allclose(ann["response"], runtime, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ann["response"], engine, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ann["upper"] - ann["lower"], 0.55)
    np.testing.assert_array_equal(models["forest"].predict(X)["response"], est["rf"].predict(Z))
    np.testing.assert_allclose(models["linear"].predict(X)["response"], est["en"].predict(Z.astype(np.float64)),
                               rtol=1e-12)
    assert np.all(models["constant"].predict(X)["response"] == data["y"].mean())
    bad = X[:3].copy()
    bad[0, 0], bad[1, 1] = np.nan, -2.0
    out = models["ann"].predict(bad)
    assert np.isnan(out["response"][:2]).all() and list(out["call"][:2]) == [-1, -1] and out["call"][2] >= 0


def test_calls_follow_both_rules():
    r = np.array([0.0, 1.0, 1.5, 2.0, 3.0])
    np.testing.assert_array_equal(Calls(1.0, 2.0, 1, strict=True).codes(r), [0, 1, 1, 1, 2])
    np.testing.assert_array_equal(Calls(1.0, 2.0, 1, strict=False).codes(r), [0, 0, 1, 2, 2])
    np.testing.assert_array_equal(Calls(1.0, 2.0, -1, strict=False).codes(r), [2, 2, 1, 0, 0])
    np.testing.assert_array_equal(Calls(1.5, 1.5, 1, strict=False).codes(r), [0, 0, 0, 2, 2])  # resistant wins


def test_bad_descriptions_and_names_are_refused(data):
    pre = data["pre"]
    with pytest.raises(ValueError, match="inputs"):
        ModelDescription(pre, Linear(np.ones(P + 1)))
    with pytest.raises(ValueError, match="activation"):
        DenseLayer(np.ones((2, 1), np.float32), np.zeros(1, np.float32), "sigmoid")
    with pytest.raises(ValueError, match="one"):
        Committee([[DenseLayer(np.ones((P, 2), np.float32), np.zeros(2, np.float32))]])
    with pytest.raises(ValueError, match="more than once"):
        Preprocessing(["a", "a"], [1, 1], [0, 0])
    with pytest.raises(ValueError, match="low <= high"):
        Calls(2.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        Linear([1.0, np.nan])
    for name in ("2fast", "my-model", "int", "nnlx_m", ""):
        with pytest.raises(ValueError, match="model name"):
            check_name(name)


def test_generated_sources_prefix_every_external_symbol(data, committee):
    models, _ = _descriptions(data, committee)
    header, source, stats = c_sources(models["ann"], "drugA")
    assert "int drugA_predict(const float *expression, float *response, int *call);" in header
    assert "drugA_predict_full" in header and "#define DRUGA_N_GENES 24" in header
    assert "malloc" not in source and "Testinib" in source
    external = [line for line in source.splitlines() if line and not line[0].isspace()
                and "(" in line and not line.startswith(("static", "/*", " *", "#", "}"))]
    assert external and all(line.startswith("int drugA_predict") for line in external), external
    assert {layer["storage"] for layer in stats["layers"]} == {"packed", "dense"}   # 6 x 1 output layer: dense
    _, _, dense_stats = c_sources(models["dense"], "m")
    assert [layer["storage"] for layer in dense_stats["layers"]] == ["dense", "dense"]
    header, _, _ = c_sources(models["dense"], "plain")          # no interval, no training range
    assert "plain_predict(" in header and "plain_predict_full" not in header


# ------------------------------------------------------------------------------------------------ compiled
needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")


@pytest.mark.slow
@needs_cc
def test_compiled_models_match_numpy(tmp_path, data, committee):
    models, est = _descriptions(data, committee)
    rows = _rows(data)
    out = _run(tmp_path, models, rows)
    nets, mean, scale = committee
    ok = np.ones(len(rows), dtype=bool)
    ok[[10, 12]] = False                                              # NaN, inf
    for name, desc in models.items():
        got = out[name]
        ref = desc.predict(rows)
        rc = got[:, 0].astype(int)
        expect_rc = np.where(ok, 0, 1)
        if desc.preprocessing.log2p1:
            expect_rc[11] = 2                                         # negative under log2
        np.testing.assert_array_equal(rc, expect_rc, err_msg=name)
        good = rc == 0
        assert np.all(got[~good, 2] == -9), name                     # outputs untouched on error
        if name == "forest":
            np.testing.assert_array_equal(got[good, 1].astype(np.float32), ref["response"][good].astype(np.float32))
        else:
            np.testing.assert_allclose(got[good, 1], ref["response"][good], rtol=0, atol=1e-4, err_msg=name)
        np.testing.assert_array_equal(got[good, 2], ref["call"][good], err_msg=name)
        if desc.interval is not None:
            np.testing.assert_allclose(got[good, 3], ref["lower"][good], atol=1e-4)
            np.testing.assert_allclose(got[good, 4], ref["upper"][good], atol=1e-4)
        if desc.has_domain:
            np.testing.assert_allclose(got[good, 5], ref["domain"][good], atol=1e-6)
    # against the engine's own predictions, not only the description's
    Zg = data["pre"].transform(rows[ok & (np.arange(len(rows)) != 11)])
    runtime = rt.loads(dumps_committee(nets)).predict(Zg) * scale + mean
    np.testing.assert_allclose(out["ann"][ok & (np.arange(len(rows)) != 11), 1], runtime, atol=1e-4)
    np.testing.assert_array_equal(out["forest"][ok & (np.arange(len(rows)) != 11), 1].astype(np.float32),
                                  est["rf"].predict(Zg).astype(np.float32))
    assert out["ann"][8, 5] == 1.0 and out["ann"][9, 5] > 0                # all genes out of range / some below
    assert np.all(np.isnan(out["linear"][:, 3])) and np.all(np.isnan(out["dense"][:, 5]))  # not in the model


@pytest.mark.slow
@needs_cc
def test_two_models_link_into_one_program(tmp_path, data, committee):
    models, _ = _descriptions(data, committee)
    pair = {"sens_a": models["ann"], "sens_b": models["forest"]}
    rows = data["X"][20:26]
    out = _run(tmp_path, pair, rows)
    for name, desc in pair.items():
        np.testing.assert_allclose(out[name][:, 1], desc.predict(rows)["response"], atol=1e-4)
    assert not np.allclose(out["sens_a"][:, 1], out["sens_b"][:, 1])


ARM = shutil.which("arm-none-eabi-gcc")


@pytest.mark.slow
@pytest.mark.skipif(ARM is None, reason="arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi)")
def test_cross_compiles_for_cortex_m4(tmp_path, data, committee):
    models, _ = _descriptions(data, committee)
    for name, desc in models.items():
        paths = export_c(desc, tmp_path / name, name)
        obj = tmp_path / f"{name}.o"
        for fpu in ([], ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]):
            subprocess.run([ARM, "-std=c99", "-mcpu=cortex-m4", "-mthumb", *fpu, "-Os", "-Wall", "-Wextra",
                            "-Werror", "-pedantic", "-c", str(paths["source"]), "-o", str(obj)],
                           check=True, capture_output=True, text=True)
            symbols = subprocess.run(["arm-none-eabi-nm", "-g", str(obj)], capture_output=True, text=True).stdout
            defined = {line.split()[-1] for line in symbols.splitlines() if line.split()[-2:-1] == ["T"]}
            assert defined and all(sym.startswith(f"{name}_predict") for sym in defined), defined
            assert "malloc" not in symbols
