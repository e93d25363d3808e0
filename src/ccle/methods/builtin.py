"""The built-in methods, registered in :mod:`ccle.methods.registry` on first use.

PM is the paper's model as its text describes it; PM+ the regularized committee (this project's improvement of
it); EN, RF, SVR, ANN and the per-drug mean are the paper's baselines; tissue asks how much of a model's skill
is tissue identity; MT learns every drug at once. Each estimator's docstring says what it computes.
"""
import numpy as np

from ccle.evaluation.genes import (IMPORTANCE_METHOD, committee_permutation_importance, enet_genes,
                                   importance_genes, rfe_genes)
from ccle.methods.boosting import GradientBoostingModel
from ccle.methods.estimators import (DEFAULT_WIDTHS, ElasticNetModel, MeanModel, PerDrugModel, RandomForestModel,
                                     SimpleANNModel, SVRModel)
from ccle.methods.multitask import MultiTaskModel
from ccle.methods.paper_model import PaperModel
from ccle.methods.registry import MethodSpec, register
from ccle.methods.stacking import MEMBERS, StackedModel
from ccle.methods.tissue import TissueMeanModel

NETWORKS = "networks-svr"   # the networks (nnlite._kernels, compress) and the SVR-RFE share one warm-up lock


def _widths(widths):
    return tuple(DEFAULT_WIDTHS if widths is None else widths)


def _pm_record(est, X_test, y_test):
    out = est.record_fields()
    out["test_mse_stages"] = est.test_mse_stages(X_test, y_test)
    return out


def _committee_record(est, X_test, y_test):
    """PM+'s record fields: genes kept, epochs per committee network, mean compressed / dense sizes."""
    fields = {"n_features": int(est.selector_.n_features_), "n_epochs": [int(e) for e in est.n_epochs_]}
    reps = [r for r in est.compression_ if r]
    if reps:
        fields["compressed_bytes"] = float(np.mean([r["file_bytes"] or r["huffman_bytes"] for r in reps]))
        fields["dense_bytes"] = float(np.mean([r["dense_bytes"] for r in reps]))
        fields["compression_ratio"] = fields["dense_bytes"] / max(fields["compressed_bytes"], 1.0)
        fields["compression_val_mse"] = reps[0]["val_mse"]
    return fields


def _svr_genes(est, genes, X_train, y_train, seed):
    return {"genes_rfe": rfe_genes(genes, est.selector_.support_, np.ravel(est.model_.coef_))}


def _enet_genes(est, genes, X_train, y_train, seed):
    return {"genes_enet": enet_genes(genes, est.model_.coef_)}


def _gain_genes(est, genes, X_train, y_train, seed):
    """Top 100 genes by the final boosted model's total split gain (nonzero only)."""
    gain = est.feature_importances_
    keep = np.flatnonzero(gain > 0)
    return {"genes_gain": importance_genes(genes[keep], gain[keep])}


def _committee_genes(est, genes, X_train, y_train, seed):
    """Top 100 of the committee's permutation importance on its inner folds (standardized units)."""
    Z = est.selector_.transform(X_train)
    ys = (y_train - est.y_mean_) / est.y_scale_
    imp = committee_permutation_importance(est.networks_, Z, ys, est.folds_, seed=seed)
    return {"genes_importance": importance_genes(genes[est.selector_.support_], imp),
            "importance_method": IMPORTANCE_METHOD}


def _register_builtins():
    register(MethodSpec(
        name="PM", label="PM (paper, as described)", color="C0", schedule_rank=0,
        description="the paper's model as its text describes it: one network, widths by the greedy search",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: PaperModel(
            widths=None if widths is None else tuple(widths), n_features=n_features, seed=seed, selector=selector,
            **kw),
        uses_rfe=True, uses_widths=True, searches_itself=True, kernel_group=NETWORKS,
        warmup_options={"epochs": 2, "patience": 1, "max_layers": 1, "retrain_epochs": 1, "finetune_epochs": 1},
        quick_options={"epochs": 60, "patience": 8, "max_layers": 3, "retrain_epochs": 3, "finetune_epochs": 3},
        record_fields=_pm_record))
    register(MethodSpec(
        name="PM+", label="PM+ (regularized committee)", color="C6",
        description="the regularized committee: fixed widths, inner-CV L2, 4 fold networks, Deep Compression",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: PerDrugModel(
            widths=_widths(widths), n_features=n_features, seed=seed, selector=selector, **kw),
        uses_rfe=True, uses_widths=True, searchable=True, kernel_group=NETWORKS,
        warmup_options={"epochs": 2, "patience": 1, "retrain_epochs": 1, "cv": 2, "l2": (3e-3,)},
        quick_options={"lr": 1e-3, "batch_size": 32, "epochs": 150, "patience": 20, "retrain_epochs": 3, "cv": 3,
                       "l2": (1e-2,)},
        record_fields=_committee_record, gene_fields=_committee_genes))
    register(MethodSpec(
        name="EN", color="C1", description="elastic net, alpha and l1_ratio by CV on the training rows",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: ElasticNetModel(
            seed=seed, selector=selector, **kw),
        kernel_group="enet", warmup_options={"n_alphas": 3, "cv": 2},
        quick_options={"n_alphas": 20, "l1_ratio": (0.5, 1.0), "cv": 3}, gene_fields=_enet_genes))
    register(MethodSpec(
        name="RF", color="C2", description="random forest, 100 trees, a third of the genes per split",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: RandomForestModel(
            seed=seed, selector=selector, **kw),
        kernel_group="forest", warmup_options={"n_estimators": 2}, quick_options={"n_estimators": 30}))
    register(MethodSpec(
        name="SVR", color="C4", schedule_rank=2, description="linear epsilon-SVR on the SVR-RFE genes, C by CV",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: SVRModel(
            n_features=n_features, seed=seed, selector=selector, **kw),
        uses_rfe=True, kernel_group=NETWORKS, warmup_options={"cv": 2}, gene_fields=_svr_genes))
    register(MethodSpec(
        name="ANN", color="C3", description="the paper's simple ANN: identity activations, random genes",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: SimpleANNModel(
            widths=_widths(widths), n_features=n_features, seed=seed, selector=selector, **kw),
        uses_widths=True, searchable=True, kernel_group=NETWORKS, warmup_options={"epochs": 2, "patience": 1},
        quick_options={"lr": 1e-3, "batch_size": 32, "epochs": 120, "patience": 15}))
    register(MethodSpec(
        name="mean", label="per-drug mean", color="C7", description="the mean training response of the drug",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: MeanModel(
            seed=seed, selector=selector)))
    register(MethodSpec(
        name="tissue", label="per-drug tissue mean", color="C8",
        description="the mean training response of the line's tissue (how much skill is tissue identity)",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: TissueMeanModel(
            seed=seed, selector=selector, **kw),
        needs_tissues=True))
    register(MethodSpec(
        name="MT", label="multitask network", color="C5",
        description="one network for all drugs, trained on the observed (cell line, drug) pairs",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: MultiTaskModel(seed=seed, **kw),
        cross_drug=True, kernel_group=NETWORKS,
        warmup_options={"epochs": 2, "patience": 1, "cv": 2, "retrain_epochs": 1},
        quick_options={"hidden": (32,), "epochs": 60, "patience": 10, "cv": 2, "n_genes": 200,
                       "retrain_epochs": 2}))
    register(MethodSpec(
        name="GB", label="gradient boosting", color="C9", default=False,
        description="histogram gradient boosting, trees by early stopping in each of 5 folds, refit on all rows",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: GradientBoostingModel(
            seed=seed, selector=selector, **kw),
        kernel_group="gbm", warmup_options={"max_iter": 3, "cv": 2, "n_iter_no_change": 1},
        gene_fields=_gain_genes,
        record_fields=lambda est, X_test, y_test: {"n_trees": int(est.n_iter_),
                                                   "fold_n_trees": list(est.fold_n_iter_)}))
    register(MethodSpec(
        name="Stack", label="Stack", color="#b8860b", default=False, schedule_rank=3,
        description="per drug, non-negative weights on the members' out-of-fold predictions (no member refitted)",
        make=lambda widths=None, n_features=1000, seed=0, selector=None, **kw: StackedModel(
            seed=seed, selector=selector, **kw),
        members=MEMBERS,
        record_fields=lambda est, X_test, y_test: {"stack_weights": dict(est.weights_),
                                                   "stack_intercept": float(est.intercept_)}))

_register_builtins()
