"""The method registry: one MethodSpec per method, plugins from files and entry points, and a plugin method run
through the whole benchmark like a built-in one."""
import gzip
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.errors import CCLEError
from ccle.methods import (MethodSpec, colors, default_methods, label, load_plugins, make_method, names, parse_methods,
                          register, spec, unregister)
from ccle.methods.registry import load_entry_points, load_plugin_file

REPO = Path(__file__).resolve().parents[3]

TOY_PLUGIN = '''
import numpy as np
from ccle.methods import MethodSpec, register


class NearestMean:
    """Mean response of the k nearest training lines (Euclidean distance on the expression)."""

    def __init__(self, k=5):
        self.k = k

    def fit(self, X, y):
        self.X_ = np.asarray(X, dtype=np.float64)
        self.y_ = np.asarray(y, dtype=np.float64)
        return self

    def predict(self, X):
        d = ((np.asarray(X, dtype=np.float64)[:, None, :] - self.X_[None]) ** 2).sum(-1)
        return self.y_[np.argsort(d, axis=1)[:, :self.k]].mean(1)


register(MethodSpec(name="KNN5", make=lambda seed=0, **kw: NearestMean(), label="5 nearest lines"))
'''


@pytest.fixture
def toy_spec():
    s = register(MethodSpec(name="Toy", make=lambda seed=0, **kw: ("toy", seed)))
    yield s
    unregister("Toy")


def test_the_built_in_methods_are_registered_in_order():
    assert names()[:9] == ("PM", "PM+", "EN", "RF", "SVR", "ANN", "mean", "tissue", "MT")
    assert default_methods("pairs") == ("PM", "PM+", "EN", "RF", "SVR", "ANN", "mean", "tissue")
    assert "MT" in default_methods("cell-lines")
    assert spec("PM").uses_rfe and spec("SVR").uses_rfe and not spec("EN").uses_rfe
    assert spec("MT").cross_drug and spec("tissue").needs_tissues
    assert label("mean") == "per-drug mean" and label("unknown") == "unknown"


def test_a_registered_method_is_made_parsed_labelled_and_coloured(toy_spec):
    assert make_method("Toy", seed=3) == ("toy", 3)
    assert parse_methods("toy,EN") == ["Toy", "EN"]
    assert label("Toy") == "Toy" and spec("Toy").plugin is None
    c = colors(["PM", "Toy"])
    assert c["PM"] == "C0" and c["Toy"] not in {s.color for s in map(spec, names()) if s.color}
    assert "Toy" in default_methods("pairs")


def test_a_name_is_registered_once(toy_spec):
    with pytest.raises(CCLEError, match="already registered"):
        register(MethodSpec(name="toy", make=lambda seed=0, **kw: None))
    with pytest.raises(CCLEError, match="already registered"):
        register(MethodSpec(name="EN", make=lambda seed=0, **kw: None))
    with pytest.raises(CCLEError, match="letters, digits"):
        register(MethodSpec(name="a b", make=lambda seed=0, **kw: None))
    with pytest.raises(CCLEError, match="unknown method"):
        spec("nope")


def test_a_plugin_file_registers_its_methods(tmp_path):
    path = tmp_path / "toy.py"
    path.write_text(TOY_PLUGIN)
    try:
        assert load_plugin_file(path) == ("KNN5",)
        assert load_plugin_file(path) == ()   # loaded once per process
        s = spec("KNN5")
        assert s.plugin == str(path.resolve()) and s.display == "5 nearest lines"
        X = np.arange(20, dtype=np.float32).reshape(10, 2)
        est = make_method("KNN5").fit(X, np.arange(10.0))
        assert est.predict(X[:1]).tolist() == [2.0]   # lines 0..4
    finally:
        unregister("KNN5")


def test_a_plugin_that_fails_on_import_is_one_line_naming_its_file_and_line(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("x = 1\nraise RuntimeError('broken plugin')\n")
    with pytest.raises(CCLEError, match=r"bad\.py:2: the plugin raised RuntimeError: broken plugin"):
        load_plugin_file(path)
    with pytest.raises(CCLEError, match="no such plugin file"):
        load_plugins([tmp_path / "missing.py"])


def test_an_installed_entry_point_registers_methods(tmp_path, monkeypatch):
    (tmp_path / "toy_ccle_methods.py").write_text(TOY_PLUGIN.replace('"KNN5"', '"KNN5ep"'))
    dist = tmp_path / "toy_ccle_methods-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-ccle-methods\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[ccle.methods]\ntoy = toy_ccle_methods\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        load_entry_points()
        assert spec("KNN5ep").plugin.startswith("entry point toy")
    finally:
        unregister("KNN5ep")
        sys.modules.pop("toy_ccle_methods", None)


def _bench(tmp_path, *extra):
    return subprocess.run([sys.executable, str(REPO / "cli.py"), "benchmark", "--quick", "--quiet",
                           "--out", str(tmp_path / "out"), *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_benchmark_runs_a_plugin_method_like_a_built_in_one(tmp_path, jobs):
    plugin = tmp_path / "toy.py"
    plugin.write_text(TOY_PLUGIN)
    proc = _bench(tmp_path, "--plugin", str(plugin), "--methods", "KNN5,mean", "--jobs", jobs, "--drug", "Nutlin-3")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    table1 = pd.read_csv(out / "table1.csv")
    assert "KNN5" in " ".join(table1.columns) or table1.astype(str).apply(lambda c: c.str.contains("KNN5")).any().any()
    with gzip.open(out / "predictions.csv.gz", "rt") as fh:
        pred = pd.read_csv(fh)
    knn = pred[pred["method"] == "KNN5"]
    assert len(knn) and (knn["set"] == "test").any() and knn.loc[knn["set"] == "test", "predicted"].notna().all()
    assert "5 nearest lines" in (out / "report.md").read_text()
    # resumable: the same command finds every result
    again = _bench(tmp_path, "--plugin", str(plugin), "--methods", "KNN5,mean", "--jobs", jobs, "--drug", "Nutlin-3")
    assert again.returncode == 0 and "resuming" not in again.stderr or "0 to run" in again.stderr


@pytest.mark.slow
def test_a_plugin_returning_nan_stops_the_run_with_one_line_and_keeps_finished_results(tmp_path):
    plugin = tmp_path / "nan.py"
    plugin.write_text(textwrap.dedent('''
        import numpy as np
        from ccle.methods import MethodSpec, register

        class Broken:
            def fit(self, X, y):
                return self

            def predict(self, X):
                return np.full(len(X), np.nan)

        register(MethodSpec(name="Broken", make=lambda seed=0, **kw: Broken()))
    '''))
    proc = _bench(tmp_path, "--plugin", str(plugin), "--methods", "mean,Broken", "--drug", "Nutlin-3", "--jobs", "1")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr
    assert "method 'Broken'" in lines[-1] and "non-finite" in lines[-1]
    kept = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert len(kept) >= 1 and '"method": "mean"' in kept[0]
