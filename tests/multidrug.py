"""Small cross-drug data for the MT tests: drugs measured on overlapping cell lines of 4 tissues."""
import numpy as np

from ccle.benchmark.datasets import DrugData


def multidrug_datasets(n=80, p=12, drugs=("drugA", "drugB", "drugC"), seed=0, noise=0.1):
    """One DrugData per drug over ``n`` cell lines (``C{i}_T{i % 4}``) x ``p`` genes, each drug seeing a random
    ~85 % of the lines; response gene1 - gene2 + 0.5 x tissue + ``noise`` x N(0, 1) + the drug's index."""
    rng = np.random.default_rng(seed)
    X_all = rng.normal(size=(n, p)).astype(np.float32)
    names = [f"C{i}_T{i % 4}" for i in range(n)]
    out = []
    for k, drug in enumerate(drugs):
        rows = np.flatnonzero(rng.random(n) < 0.85)
        X = X_all[rows]
        y = X[:, 1] - X[:, 2] + 0.5 * (rows % 4) + noise * rng.normal(size=rows.size) + k
        out.append(DrugData(drug, X, y, [names[i] for i in rows], [f"g{j}" for j in range(p)]))
    return out
