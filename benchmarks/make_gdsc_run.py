"""Inputs of a benchmark over hundreds of drugs, generated (never downloaded): a GDSC2-layout fitted
dose-response CSV of ``--drugs`` compounds, a DepMap-layout expression matrix (``ACH-`` model ids x
``SYMBOL (ENTREZ)`` genes, log2(TPM + 1)) and the DepMap ``Model.csv`` that joins the two by COSMIC and Sanger
ids, as today's releases do.

The expression is the project's default generator (:func:`ccle.data.synthetic.make_expression`); each drug's
LN_IC50 is a sparse linear function of a few genes plus its tissues' offsets and noise, measured on a random
70-95% of the lines (low = sensitive, as GDSC). Two drugs are deliberately unusable (a constant response, and
one measured on 3 lines) so the run shows its per-drug skips.

    python benchmarks/make_gdsc_run.py OUT_DIR [--drugs 265] [--genes 6000] [--lines 900] [--seed 0]
    python cli.py benchmark --expression OUT_DIR/expression.csv --drugs OUT_DIR/gdsc2.csv \\
        --sample-info OUT_DIR/Model.csv --methods EN,mean,tissue --splits 2 --jobs 2 --out OUT_DIR/run
"""
import argparse
import csv
from pathlib import Path

import numpy as np

from ccle.data.synthetic import make_expression
from ccle.data.gdsc import GDSC_COLUMNS


def write_inputs(out, n_drugs=265, n_genes=6000, n_lines=900, seed=0):
    """Write ``expression.csv``, ``Model.csv`` and ``gdsc2.csv`` into ``out`` -> their paths (a dict)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    matrix, truth = make_expression(n_genes=n_genes, n_cells=n_lines, n_tissues=20, seed=seed, with_truth=True)
    rng = np.random.default_rng(seed + 1)
    log_tpm = np.log2(matrix.values.astype(np.float64) + 1.0)
    ids = [f"ACH-{i + 1:06d}" for i in range(n_lines)]
    cosmic = [str(900000 + i) for i in range(n_lines)]
    sanger = [f"SIDM{i + 1:05d}" for i in range(n_lines)]
    genes = [f"G{j} ({10000 + j})" for j in range(n_genes)]
    paths = {"expression": out / "expression.csv", "models": out / "Model.csv", "drugs": out / "gdsc2.csv"}
    with open(paths["expression"], "w", newline="") as fh:
        fh.write("," + ",".join(genes) + "\n")
        for i, row in enumerate(log_tpm):
            fh.write(ids[i] + "," + ",".join(f"{v:.4g}" for v in row) + "\n")
    with open(paths["models"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ModelID", "CellLineName", "StrippedCellLineName", "CCLEName", "OncotreeLineage", "COSMICID",
                    "SangerModelID"])
        for i, name in enumerate(matrix.cell_lines):
            stem = name.split("_", 1)[0]
            w.writerow([ids[i], truth["primary"][i], stem, name, truth["tissues"][truth["tissue_of"][i]].title(),
                        cosmic[i], sanger[i]])
    z = (log_tpm - log_tpm.mean(axis=0)) / (log_tpm.std(axis=0) + 1e-9)
    tissue_of = np.asarray(truth["tissue_of"])
    with open(paths["drugs"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(GDSC_COLUMNS)
        for d in range(n_drugs):
            drug_id, name = 1000 + d, f"Compound-{d:03d}"
            genes_d = rng.choice(n_genes, size=5, replace=False)
            y = z[:, genes_d] @ rng.normal(0, 0.8, 5) + rng.normal(0, 0.7, 20)[tissue_of] + rng.normal(0, 0.8, n_lines)
            y = y + rng.normal(1.5, 1.0)
            if d == 0:
                y = np.full(n_lines, 2.0)  # constant: left out with its reason
            cover = 3 if d == 1 else int(n_lines * rng.uniform(0.7, 0.95))
            for i in np.sort(rng.choice(n_lines, size=cover, replace=False)):
                w.writerow(["GDSC2", 343, 15000000 + d * n_lines + i, cosmic[i], truth["primary"][i], sanger[i],
                            truth["tissues"][tissue_of[i]][:4], drug_id, name, "T", "P", 1000, "Y", 0.001, 10.0,
                            f"{y[i]:.5f}", "0.9", "0.1", "0.0"])
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--drugs", type=int, default=265)
    parser.add_argument("--genes", type=int, default=6000)
    parser.add_argument("--lines", type=int, default=900)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for what, path in write_inputs(args.out, args.drugs, args.genes, args.lines, args.seed).items():
        print(f"{what}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
