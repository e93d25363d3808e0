"""Model file size, exported C size (flash and RAM) and time per prediction, for every per-drug method.

For one drug of one data set, ``train`` (default settings) writes each method's file; each file is exported
(:func:`ccle.deploy.export.export_model_c`) and compiled for x86-64 (``cc -O2``) and, when
``arm-none-eabi-gcc`` is installed, for a Cortex-M4 (``-mcpu=cortex-m4 -mthumb -Os``). Flash is text + data
of the object (``size``: code and read-only tables), static RAM data + bss, stack the export's
``NAME_STACK_BYTES``. C time per prediction (x86-64 -O2, nnlite's test driver, repeated passes over the
rows) is set against the numpy runtime (``nnlite.export.ModelDescription.predict``, the same preprocessing,
model and call) one row at a time and on all rows at once.

    PYTHONPATH=src python benchmarks/deploy_sizes.py --drug Nutlin-3 [--data ../shared/data/ccle] --out DIR
"""
import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from ccle.data.loader import load_data
from ccle.deploy.export import export_model_c, model_description
from ccle.deploy.training import train_drug_model
from ccle.methods.preprocess import decide_log2
from nnlite.compress.fileformat import size_breakdown
from nnlite.export.c import driver_source

METHODS = ("PM+", "PM", "EN", "SVR", "RF", "ANN", "mean")
ARM = shutil.which("arm-none-eabi-gcc")


def _object_size(compiler, flags, source, include, obj, size_tool):
    subprocess.run([compiler, "-std=c99", *flags, "-c", f"-I{include}", str(source), "-o", str(obj)], check=True)
    line = subprocess.run([size_tool, str(obj)], capture_output=True, text=True, check=True).stdout.splitlines()[1]
    text, data, bss = (int(v) for v in line.split()[:3])
    return {"flash": text + data, "text": text, "data": data, "bss": bss}


def _c_time(directory, name, desc, X, reps):
    (directory / "driver.c").write_text(driver_source({name: desc}))
    exe = directory / "driver"
    subprocess.run(["cc", "-std=c99", "-O2", f"-I{directory}", "-o", str(exe), str(directory / "driver.c"),
                    str(directory / f"{name}.c"), "-lm"], check=True)
    rows = X if X.shape[1] else np.zeros((X.shape[0], 1), np.float32)
    text = f"{len(rows)}\n" + "\n".join(" ".join(f"{v:.9g}" for v in row) for row in rows) + "\n"
    out = subprocess.run([str(exe), str(reps)], input=text, capture_output=True, text=True, check=True).stdout
    return float(out.split()[1])


def _numpy_time(desc, X):
    t0 = time.perf_counter()
    for i in range(len(X)):
        desc.predict(X[i:i + 1])
    one = (time.perf_counter() - t0) / len(X)
    t0 = time.perf_counter()
    desc.predict(X)
    return one * 1e9, (time.perf_counter() - t0) / len(X) * 1e9


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drug", default="Nutlin-3")
    ap.add_argument("--data", help="the shared CCLE folder (default: the embedded default data)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.data:
        root = Path(args.data)
        expression, table = load_data(root / "expression" / "TGSA_DepMap_census706_expr_zscored.csv.gz",
                                      root / "drug" / "CCLE_dose_response_scores.tsv",
                                      sample_info=root / "expression" / "DepMap_sample_info_from_TGSA.csv")
    else:
        expression, table = load_data()
    log2 = decide_log2(expression.values)
    rows = []
    for method in args.methods.split(","):
        path = out / f"{method}.nnz"
        t0 = time.perf_counter()
        trained = train_drug_model(expression, table, args.drug, method=method, path=path, log2=log2)
        seconds = time.perf_counter() - t0
        b = size_breakdown(path.read_bytes())
        name = "m_" + method.replace("+", "plus").lower()
        cdir = out / name
        stats = export_model_c(path, cdir, name)["stats"]
        desc = model_description(path)
        genes = desc.preprocessing.genes
        X = expression.values[:args.rows][:, [expression.genes.index(g) for g in genes]].astype(np.float32)
        row = {"method": method, "kind": trained.metadata["model_kind"], "file_bytes": trained.n_bytes,
               "networks_bytes": sum(n["bytes"] for n in b["networks"]),
               "arrays_bytes": sum(a["bytes"] for a in b["arrays"]), "header_bytes": b["header"],
               "strings_bytes": (b["strings"] or {}).get("bytes", 0), "n_genes": len(genes),
               "train_seconds": seconds, "stack_bytes": stats["stack_bytes"],
               "x86_O2": _object_size("cc", ["-O2"], cdir / f"{name}.c", cdir, cdir / "x86.o", "size")}
        if ARM:
            row["m4_Os"] = _object_size(ARM, ["-mcpu=cortex-m4", "-mthumb", "-Os"], cdir / f"{name}.c", cdir,
                                        cdir / "m4.o", "arm-none-eabi-size")
        reps = max(1, int(2e7 // max(1, 4 * len(genes) * len(X))))
        row["c_ns"] = _c_time(cdir, name, desc, X, reps)
        row["numpy_ns_one_row"], row["numpy_ns_batched"] = _numpy_time(desc, X)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (out / "sizes.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
