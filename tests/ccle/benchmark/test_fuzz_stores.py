"""Fuzz harness of the files the pipeline reads back (the readers of its inputs are fuzzed in
test_fuzz_readers.py): the ``.nnz`` model file (both engines, predict and inspect), ``results.jsonl`` (the
store and the report) and the cache files of ``ccle.files.cached``.

Mutations of small valid files: truncation, byte flips, inserted/removed bytes; for ``.nnz`` also edits of the
metadata with a valid checksum (a field replaced by any JSON value), for ``results.jsonl`` foreign JSON lines
and torn lines. Each case must give the right result or raise CCLEError with one line naming the file (model
files), skip what is not a result (results.jsonl) or recompute what is damaged (cache); any other exception
fails the test. ``--hypothesis-profile=long`` runs 2,500 cases per test (10^4 in all).
"""
import copy
import json
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ccle.deploy import inspection, training  # noqa: E402
from ccle.deploy import per_drug as deploy  # noqa: E402
from ccle.data.drugs import DrugTable  # noqa: E402
from ccle.data.expression import ExpressionMatrix  # noqa: E402
from ccle.errors import CCLEError  # noqa: E402
from ccle.methods.gene_selection import GeneSelector  # noqa: E402
from ccle.report import load_results  # noqa: E402
from ccle.benchmark.store import ResultStore, latest_records
from ccle.benchmark.store import result_problem  # noqa: E402
from ccle.files import cached, encode_cache_entry  # noqa: E402
from nnlite.compress._layout import MAGIC, PREFIX, parse_container  # noqa: E402

LONG = settings.get_current_profile_name() == "long"
FUZZ = settings(max_examples=2500 if LONG else 50, deadline=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
TINY = {"cv": 2, "epochs": 8, "patience": 3, "l2": (1e-2,), "retrain_epochs": 1}

damage = st.lists(st.tuples(st.sampled_from(["truncate", "flip", "insert", "delete"]),
                            st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=3)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats()
                           | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=4),
                           max_leaves=10)


def damaged(data, edits):
    """``data`` after the byte edits (truncate / flip / insert / delete at relative positions)."""
    for kind, at, byte in edits:
        pos = int(at * max(1, len(data)))
        if kind == "truncate":
            data = data[:pos]
        elif kind == "flip" and data:
            data = data[:pos] + bytes([data[pos % len(data)] ^ byte]) + data[pos + 1:]
        elif kind == "insert":
            data = data[:pos] + bytes([byte]) + data[pos:]
        else:
            data = data[:pos] + data[pos + 1:]
    return data


# ----------------------------------------------------------------------------------------------- .nnz
@pytest.fixture(scope="module")
def model():
    """The bytes of a 2-network committee model (6 genes) and an expression matrix to predict."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(36, 6)).astype(np.float32)
    cells, genes = [f"C{i}" for i in range(36)], [f"G{j}" for j in range(6)]
    expression = ExpressionMatrix(X, cells, genes, None, "<fuzz>")
    import pandas as pd

    frame = pd.DataFrame({"cell_line": cells, "drug": "D", "response": X[:, 0] - X[:, 1]})
    table = DrugTable(frame, ["D"], "ActArea", "<fuzz drugs>")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.nnz"
        training.train_drug_model(expression, table, "D", path=path, widths=(3,), n_features=4, options=TINY)
        data = path.read_bytes()
    return {"data": data, "expression": expression, "reference": _model_outcome(data, expression)}


def _with_metadata(data, edit):
    header, body = parse_container(data)
    edit(header["metadata"])
    packed = zlib.compress(json.dumps(header, separators=(",", ":")).encode("utf-8"), 9)
    out = PREFIX.pack(MAGIC, 1, len(packed)) + packed + body
    return out + struct.pack("<I", zlib.crc32(out))


def _predicted(df):
    """The prediction column (named after the model's response: ``predicted_ActArea``, ...)."""
    assert df.columns[0] == "cell_line" and df.columns[1].startswith("predicted_")
    assert {"class_calibrated", "class_paper_rule"} <= set(df.columns)
    return df.iloc[:, 1].to_numpy()


def _model_outcome(data, expression):
    """Every reader of a model file on ``data`` -> the engine's predictions, or None when the file is refused.

    The two prediction engines agree (both predict, to float32 rounding, or both raise the same one-line
    CCLEError naming the model file); ``inspect`` reads every file that predicts and refuses a file the schema
    refuses with the same line as predict (a model the data do not fit, e.g. a log2 model on negative values,
    is a predict error that inspect need not share)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.nnz"
        path.write_bytes(data)
        outcomes = []
        for call in (lambda: _predicted(deploy.predict_file(path, expression)),
                     lambda: _predicted(deploy.predict_file(path, expression, runtime=True)),
                     lambda: inspection.inspect_model(path)):
            try:
                outcomes.append(("ok", call()))
            except CCLEError as exc:
                message = str(exc)
                assert str(path) in message and "\n" not in message, message
                outcomes.append(("error", message.replace(str(path), "FILE")))
    (engine_kind, engine), (runtime_kind, runtime), (inspect_kind, text) = outcomes
    assert engine_kind == runtime_kind, outcomes
    if inspect_kind == "error":
        assert engine_kind == "error" and engine == runtime == text, outcomes
    else:
        assert isinstance(text, str) and "committee" in text
    if engine_kind == "error":
        assert engine == runtime, outcomes
        return None
    assert np.isfinite(engine).all() and engine.shape == (36,)
    np.testing.assert_allclose(runtime, engine, rtol=1e-5, atol=1e-5)
    return engine


@FUZZ
@given(edits=damage)
def test_fuzz_nnz_bytes(model, edits):
    data = damaged(model["data"], edits)
    result = _model_outcome(data, model["expression"])
    if data != model["data"]:
        assert result is None, "a damaged model file was read"  # the CRC-32 catches every change


FIELDS = ["drug", "response", "genes", "expression_transform", "scaler", "target", "thresholds", "training",
          "sizes", "compression", "ensemble", "kind", "version"]


@FUZZ
@given(field=st.sampled_from(FIELDS), path=st.lists(st.integers(0, 5), max_size=2), value=json_values,
       delete=st.booleans())
def test_fuzz_nnz_metadata_edits_with_a_valid_checksum(model, field, path, value, delete):
    def edit(meta):
        holder, key = meta, field
        for step in path:  # descend into the field's own structure when it has one
            inner = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(inner, dict) and inner:
                holder, key = inner, sorted(inner)[step % len(inner)]
            elif isinstance(inner, list) and inner:
                holder, key = inner, step % len(inner)
        if delete and isinstance(holder, dict):
            holder.pop(key, None)
        else:
            holder[key] = copy.deepcopy(value)

    result = _model_outcome(_with_metadata(model["data"], edit), model["expression"])
    if result is not None and field in ("drug", "response", "training", "sizes", "compression"):
        np.testing.assert_array_equal(result, model["reference"])  # fields that do not enter the prediction


# ----------------------------------------------------------------------------------------------- results.jsonl
def _record(drug, split, method, mse):
    return {"drug": drug, "split": split, "method": method, "config_key": "k", "mse": mse}


line_kinds = st.one_of(
    st.builds(lambda d, s, m, e: ("valid", json.dumps(_record(d, s, m, e)).encode()),
              st.sampled_from(["A", "B"]), st.integers(0, 2), st.sampled_from(["PM", "EN"]),
              st.floats(0, 10)),
    st.builds(lambda v: ("junk", json.dumps(v).encode()), json_values),
    st.builds(lambda d: ("junk", json.dumps({"drug": "A", "split": d, "method": "PM", "config_key": "k"}).encode()),
              st.one_of(st.text(max_size=3), st.floats(), st.none(), st.booleans(), st.integers(-3, -1))),
    st.builds(lambda b: ("junk", b), st.binary(max_size=12).filter(lambda b: b"\n" not in b)),
)


@FUZZ
@given(lines=st.lists(line_kinds, max_size=8), torn=st.binary(max_size=20), edits=st.none() | damage)
def test_fuzz_results_jsonl(lines, torn, edits):
    data = b"".join(raw + b"\n" for _, raw in lines) + torn.replace(b"\n", b"")
    if edits is not None:
        data = damaged(data, edits)
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(tmp)
        store.path.write_bytes(data)
        loaded = store.load()
        assert all(result_problem(r) is None for r in loaded)
        store.done("k")
        latest_records(store.load("k"))
        load_results(tmp, "k")
        if edits is None:  # every valid line is kept, in order, nothing else
            assert loaded == [json.loads(raw) for kind, raw in lines if kind == "valid"]
        store.repair()
        store.append(_record("C", 0, "PM", 1.0))
        assert store.load()[-1] == _record("C", 0, "PM", 1.0)  # the next record starts a line of its own


# ----------------------------------------------------------------------------------------------- cache files
@pytest.fixture(scope="module")
def selector_state():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 8))
    return GeneSelector(n_features=3, seed=0).fit(X, X[:, 0] + 0.1 * rng.normal(size=30)).to_dict()


@FUZZ
@given(edits=damage)
def test_fuzz_cache_files(selector_state, edits):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sel.json"
        intact = encode_cache_entry(selector_state).encode()
        path.write_bytes(damaged(intact, edits))
        calls = []

        def compute():
            calls.append(1)
            return selector_state

        value, was_cached = cached(tmp, "sel", compute, check=GeneSelector.from_dict)
        # damage that still parses is caught by the checksum: the value is the stored one or a fresh one
        assert json.dumps(value, sort_keys=True) == json.dumps(selector_state, sort_keys=True)
        assert was_cached == (not calls)
        assert cached(tmp, "sel", compute, check=GeneSelector.from_dict)[1]  # repaired on disk
