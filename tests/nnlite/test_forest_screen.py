"""The level-wise forest's fixed-point screen (``nnlite._level_kernels``) keeps the exact split rule.

The screen scores each (node, feature) on w y rounded to a per-node fixed point and rescans, by the exact float
rule, every feature whose score comes within a bound of the node's best; the trees must be the node-wise
search's (which applies the exact rule to every feature) where that rounding is coarsest relative to the gaps
between scores. (A screen that rejects features scoring 1e-10 below the node's best changes the trees of the
first two cases.)
"""
import numpy as np
import pytest
from sklearn.datasets import make_friedman1

from nnlite.tree import grow_trees

_ARRAYS = ("feature", "left", "right", "n_samples", "n_nodes", "threshold", "value")


def _both(X, y, mtry, leaf, depth=-1, bootstrap=True):
    seeds = np.array([31, 32], dtype=np.uint64)
    nodes = grow_trees(X, y, seeds, bootstrap, mtry, leaf, depth, 1, max_bins=256, level_wise=False)
    levels = grow_trees(X, y, seeds, bootstrap, mtry, leaf, depth, 1, max_bins=256, level_wise=True)
    return nodes, levels


def _assert_same(nodes, levels):
    for name in _ARRAYS:
        np.testing.assert_array_equal(nodes[name], levels[name], err_msg=name)
    np.testing.assert_allclose(nodes["importance"], levels["importance"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", ["two far modes", "one outlier"])
def test_fixed_point_screen_keeps_the_exact_trees(case):
    """Two far modes: below the root every node sits at +-1e4 with a spread of ~1, so its scores are dominated
    by S**2 / W and differ in the 1e-9th digit. One outlier: a response 1e6 times the others makes the nodes that
    hold it resolve everyone else's w y on a grid a million times coarser."""
    X, y = make_friedman1(n_samples=260, n_features=90, noise=0.5, random_state=11)
    if case == "two far modes":
        y = np.where(X[:, 0] > 0.5, 1e4, -1e4) + y
    else:
        y = y.copy()
        y[17] = 1e6 * np.abs(y).max()
    nodes, levels = _both(X, y, mtry=30, leaf=3)
    _assert_same(nodes, levels)
    assert nodes["n_nodes"].min() > 30


def test_fixed_point_screen_with_many_rows():
    """5,000 rows leave the fixed-point w y 35 of the word's bits (13 each for the count and the weight)."""
    X, y = make_friedman1(n_samples=5000, n_features=60, noise=0.5, random_state=12)
    X[:, ::2] = np.round(X[:, ::2] * 40)
    nodes, levels = _both(X, y, mtry=20, leaf=5, depth=7)
    _assert_same(nodes, levels)
    assert nodes["n_nodes"].min() > 100
