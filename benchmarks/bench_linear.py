"""Linear estimators against scikit-learn, same data, same run.

Run: python -m pytest benchmarks/bench_linear.py --benchmark-enable
Each case is parametrized over impl = nnlite / sklearn and shares a benchmark group, so the
pytest-benchmark table shows the ratio inside each group. The p = 20000 cross-validation case costs
minutes with scikit-learn; deselect it with -k "not cv-20000" for a quick run.
Data: CCLE-like expression, n = 350 cell lines, genes driven by 30 shared latent factors (collinear),
min-max scaled to [0, 1] as in the pipeline; the response depends on three factors and ten genes.
"""
import time
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.feature_selection import RFE as SkRFE  # noqa: E402
from sklearn.linear_model import ElasticNet as SkElasticNet  # noqa: E402
from sklearn.linear_model import ElasticNetCV as SkElasticNetCV  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.svm import LinearSVR as SkLinearSVR  # noqa: E402

from nnlite.linear.enet import ElasticNet, ElasticNetCV  # noqa: E402
from nnlite.linear.svr import LinearSVR  # noqa: E402
from nnlite.selection import RFE  # noqa: E402

N = 350
L1_RATIOS = [0.1, 0.5, 0.9]


def ccle_like(n, p, seed=0, k=30):
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((n, k))
    L = rng.standard_normal((k, p)) * rng.uniform(0.2, 1.5, (1, p))
    X = F @ L + 0.7 * rng.standard_normal((n, p))
    X = np.log2(1.0 + np.exp(X))
    X = (X - X.min(0)) / (X.max(0) - X.min(0))
    y = F[:, :3] @ np.array([1.0, -0.7, 0.5]) + X[:, :10] @ rng.standard_normal(10) * 0.3
    y += 0.8 * rng.standard_normal(n)
    return X, (y - y.min()) / (y.max() - y.min()) * 6.0


_DATA = {}


def data(p):
    if p not in _DATA:
        _DATA[p] = ccle_like(N, p)
    return _DATA[p]


def _warm_numba():
    """Load (or compile) the Numba kernels outside the timed region."""
    X, y = ccle_like(40, 60, seed=1)
    ElasticNetCV(l1_ratio=[0.5], n_alphas=5, cv=3).fit(X, y)
    LinearSVR().fit(X, y)
    LinearSVR(solver="primal").fit(X, y)


def _run(benchmark, fn):
    _warm_numba()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return benchmark.pedantic(fn, rounds=1, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("impl", ["nnlite", "sklearn"])
@pytest.mark.parametrize("p", [1000, 20000])
def test_elastic_net_fit(benchmark, impl, p):
    benchmark.group = f"enet-fit-{p}"
    X, y = data(p)
    est = ElasticNet if impl == "nnlite" else SkElasticNet
    _run(benchmark, lambda: est(alpha=0.01, l1_ratio=0.5).fit(X, y))


@pytest.mark.parametrize("impl", ["nnlite", "sklearn"])
@pytest.mark.parametrize("p", [1000, 20000])
def test_elastic_net_cv(benchmark, impl, p):
    benchmark.group = f"enet-cv-{p}"
    X, y = data(p)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    if impl == "nnlite":
        fit = lambda: ElasticNetCV(l1_ratio=L1_RATIOS, n_alphas=100, cv=folds).fit(X, y)  # noqa: E731
    else:
        fit = lambda: SkElasticNetCV(l1_ratio=L1_RATIOS, alphas=100, cv=folds).fit(X, y)  # noqa: E731
    model = _run(benchmark, fit)
    benchmark.extra_info["alpha"] = model.alpha_
    benchmark.extra_info["l1_ratio"] = model.l1_ratio_


@pytest.mark.parametrize("impl", ["nnlite", "sklearn"])
def test_linear_svr_fit(benchmark, impl):
    benchmark.group = "svr-fit-20000"
    X, y = data(20000)
    est = LinearSVR(epsilon=0.1) if impl == "nnlite" else SkLinearSVR(epsilon=0.1, random_state=0)
    _run(benchmark, lambda: est.fit(X, y))


@pytest.mark.parametrize("impl", ["nnlite", "sklearn"])
def test_rfe_20000_to_1000(benchmark, impl):
    benchmark.group = "rfe-20000-1000"
    X, y = data(20000)
    if impl == "nnlite":
        fit = lambda: RFE(LinearSVR(epsilon=0.1), n_features_to_select=1000, step=0.1).fit(X, y)  # noqa: E731
    else:
        fit = lambda: SkRFE(SkLinearSVR(epsilon=0.1, random_state=0), n_features_to_select=1000,  # noqa: E731
                            step=0.1).fit(X, y)
    _run(benchmark, fit)


def test_rfe_same_schedule_as_sklearn(benchmark):
    """nnlite with scikit-learn's step rule (10% of the initial count per round): same rounds as sklearn."""
    benchmark.group = "rfe-20000-1000"
    X, y = data(20000)
    _run(benchmark, lambda: RFE(LinearSVR(epsilon=0.1), n_features_to_select=1000, step=0.1,
                                step_base="initial").fit(X, y))


# ---- the paper's scale: the pipeline's elastic-net CV (5 folds x 4 l1_ratios x 50 alphas) at 55k genes.
# scikit-learn's ElasticNetCV takes > 15 min here, so it runs one l1_ratio on 2 folds (the same 50-alpha grid) and
# its time is scaled by (4 l1_ratios x 5 folds) / (1 x 2) path solves, saying so in the group name.
PAPER_P = 55_000
PIPELINE_L1 = [0.1, 0.5, 0.9, 1.0]


_paper_cpu = {}  # impl -> CPU seconds for the whole CV (scikit-learn's scaled), process time: the machine is shared
_PAPER_SCALE = {"nnlite": 1.0, "sklearn-1-l1-2-folds": (len(PIPELINE_L1) * 5) / (1 * 2)}


@pytest.mark.parametrize("impl", ["nnlite", "sklearn-1-l1-2-folds"])
def test_elastic_net_cv_paper_scale(benchmark, impl):
    benchmark.group = f"enet-cv-{PAPER_P} (sklearn: 1 l1_ratio x 2 folds, scale x10)"
    X, y = data(PAPER_P)
    if impl == "nnlite":
        fit = lambda: ElasticNetCV(l1_ratio=PIPELINE_L1, n_alphas=50, cv=5).fit(X, y)  # noqa: E731
    else:
        folds = list(KFold(2, shuffle=True, random_state=0).split(X))
        fit = lambda: SkElasticNetCV(l1_ratio=[0.5], alphas=50, cv=folds).fit(X, y)  # noqa: E731

    def timed():
        start = time.process_time()
        fit()
        _paper_cpu[impl] = (time.process_time() - start) * _PAPER_SCALE[impl]

    _run(benchmark, timed)


def test_elastic_net_cv_paper_scale_report(capsys):
    """Print the CPU seconds of the paper-scale CV and the ratio against scikit-learn (after the fits above)."""
    ref = _paper_cpu.get("sklearn-1-l1-2-folds")
    lines = ["", f"elastic net CV at the paper's scale, n={N} p={PAPER_P}, 5 folds x 4 l1_ratios x 50 alphas: CPU s"]
    for impl, sec in _paper_cpu.items():
        ratio = f"  ratio {sec / ref:6.3f}" if ref else ""
        lines.append(f"  {impl:22s} {sec:8.2f} s{ratio}")
    with capsys.disabled():
        print("\n".join(lines))


# ---- the pipeline's EN on its two workloads: ElasticNetCV(l1_ratio=PIPELINE_L1, n_alphas=50, cv=5) + refit, ours and
# scikit-learn's (the same folds and the same 50-alpha grids) in the same run, CPU seconds and their ratio.
# "default": one task of the default benchmark (~350 training rows x the default data's 2,000 genes); "gdsc": a
# GDSC-size task (600 rows x 6,000 correlated expression-like genes).
EN_SHAPES = {"default": (350, 2000), "gdsc": (600, 6000)}
_en_cpu = {}


@pytest.mark.parametrize("impl", ["nnlite", "sklearn"])
@pytest.mark.parametrize("shape", list(EN_SHAPES))
def test_elastic_net_cv_pipeline_shapes(benchmark, impl, shape):
    benchmark.group = f"enet-cv-pipeline-{shape}"
    n, p = EN_SHAPES[shape]
    X, y = ccle_like(n, p)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    if impl == "nnlite":
        fit = lambda: ElasticNetCV(l1_ratio=PIPELINE_L1, n_alphas=50, cv=folds).fit(X, y)  # noqa: E731
    else:
        fit = lambda: SkElasticNetCV(l1_ratio=PIPELINE_L1, alphas=50, cv=folds).fit(X, y)  # noqa: E731

    def timed():
        start = time.process_time()
        model = fit()
        _en_cpu[(shape, impl)] = time.process_time() - start
        return model

    model = _run(benchmark, timed)
    benchmark.extra_info["cpu_s"] = _en_cpu[(shape, impl)]
    benchmark.extra_info["alpha"] = model.alpha_
    benchmark.extra_info["l1_ratio"] = model.l1_ratio_


def test_elastic_net_cv_pipeline_shapes_report(capsys):
    """Print the CPU seconds of the two pipeline shapes and our ratio to scikit-learn (after the fits above)."""
    lines = ["", "elastic net CV, 5 folds x 4 l1_ratios x 50 alphas + refit: CPU s (ours / scikit-learn)"]
    for shape, (n, p) in EN_SHAPES.items():
        ours, ref = _en_cpu.get((shape, "nnlite")), _en_cpu.get((shape, "sklearn"))
        if ours is not None and ref is not None:
            lines.append(f"  {shape:8s} n={n} p={p}: {ours:7.2f} / {ref:7.2f}  ratio {ours / ref:.3f}")
    with capsys.disabled():
        print("\n".join(lines))
