"""scikit-learn as the oracle of the estimator protocol: check_estimator on every public nnlite estimator,
then clone / cross_val_score / GridSearchCV / Pipeline give the numbers of calling the estimator by hand."""
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import nnlite  # noqa: E402

# nnlite's estimators follow the protocol without inheriting scikit-learn's base class (nnlite does not depend
# on scikit-learn); scikit-learn says so once per estimator when the checks are collected
pytestmark = pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from")

FAST_NET = dict(widths=(8,), epochs=30, patience=None, batch_size=None)

ESTIMATORS = [
    nnlite.ElasticNet(alpha=0.01),
    nnlite.ElasticNetCV(n_alphas=10, cv=3),
    nnlite.LinearSVR(),
    nnlite.RFE(nnlite.LinearSVR(), n_features_to_select=1),
    nnlite.DecisionTreeRegressor(),
    nnlite.RandomForestRegressor(n_estimators=10),
    nnlite.MeanRegressor(),
    nnlite.NetworkRegressor(**FAST_NET, lr=1e-2),
    nnlite.SimpleANNRegressor(**FAST_NET, lr=1e-2),
]

# scikit-learn check -> why it does not apply to the estimator (keys: class name)
EXPECTED_FAILURES = {}


@pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from `sklearn.base.BaseEstimator`")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILURES.get(type(est).__name__, {}))
def test_check_estimator(estimator, check):
    check(estimator)
