"""``import nnlite`` and fitting its estimators never import scikit-learn (a test-only oracle)."""
import pytest
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_fitting_every_estimator_imports_no_sklearn():
    code = (
        "import sys, numpy as np, nnlite\n"
        "X = np.random.default_rng(0).standard_normal((30, 4)); y = X[:, 0]\n"
        "for est in [nnlite.ElasticNet(), nnlite.ElasticNetCV(n_alphas=5, cv=3), nnlite.LinearSVR(),\n"
        "            nnlite.RFE(nnlite.LinearSVR(), n_features_to_select=2), nnlite.MeanRegressor(),\n"
        "            nnlite.DecisionTreeRegressor(), nnlite.RandomForestRegressor(n_estimators=3),\n"
        "            nnlite.SimpleANNRegressor(widths=(4,), epochs=2, patience=None)]:\n"
        "    est.fit(X, y).score(X, y); repr(est); est.get_params()\n"
        "    try:\n"
        "        type(est)(**est.get_params(deep=False)).predict(X)\n"
        "    except ValueError:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]", out.stdout
