"""Model files written before the model schema's version 3 still load and predict bit for bit.

``data/model_v2.nnz`` (a per-drug PM+ file, model schema version 2, container version 2) and
``data/multitask_v2.nnz`` were written by ``train`` before version 3, from ``data/model_v2_expression.gct``
(48 cell lines x 16 genes, RPKM-like, so the log2(x + 1) path is used); ``data/*_predictions.csv`` hold what
``predict`` wrote for that expression then, with every float at 17 significant digits.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccle.deploy.multitask import predict_multitask_file
from ccle.deploy.inspection import inspect_model
from ccle.deploy.per_drug import predict_file

DATA = Path(__file__).parent / "data"


def _same(df, expected):
    # the columns of the day the file was written come first, unchanged; the trust columns follow (empty for it)
    assert list(df.columns)[:len(expected.columns)] == list(expected.columns)
    for col in expected.columns:
        got, want = df[col].to_numpy(), expected[col].to_numpy()
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(got.astype(np.float64), want)
        else:
            assert [str(v) for v in got] == [str(v) for v in want], col


@pytest.mark.parametrize("runtime", [False, True])
def test_version_2_per_drug_file_predicts_bit_for_bit(runtime):
    df = predict_file(DATA / "model_v2.nnz", DATA / "model_v2_expression.gct", runtime=runtime)
    expected = pd.read_csv(DATA / "model_v2_predictions.csv")
    if runtime:   # the numpy runtime: equal to float32 rounding of tanh (nnlite.runtime)
        np.testing.assert_allclose(df["predicted_ActArea"], expected["predicted_ActArea"], rtol=1e-6, atol=1e-6)
    else:
        _same(df, expected)


def test_version_2_multitask_file_predicts_bit_for_bit():
    df = predict_multitask_file(DATA / "multitask_v2.nnz", DATA / "model_v2_expression.gct")
    _same(df, pd.read_csv(DATA / "multitask_v2_predictions.csv"))


def test_version_2_file_is_described():
    text = inspect_model(DATA / "model_v2.nnz")
    assert "DrugA" in text and "network 1" in text
