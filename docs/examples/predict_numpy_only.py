"""Predict one drug's response with numpy and the standard library alone, from a model file written by
``ccle train`` and a CSV of raw expression (first column the cell line, then one column per gene)."""
import csv
import sys

import numpy as np

import nnlite.runtime

model_path, expression_path = sys.argv[1], sys.argv[2]
model = nnlite.runtime.load(model_path)
meta = model.metadata

with open(expression_path, newline="") as fh:
    rows = list(csv.reader(fh))
header, body = rows[0], rows[1:]
cell_lines = [r[0] for r in body]
column = {gene: j for j, gene in enumerate(header)}
raw = np.array([[float(r[column[g]]) for g in meta["genes"]] for r in body], dtype=np.float64)

# 1. the training expression transform, 2. the training min-max scaler, both stored in the file
if meta["expression_transform"].get("log2p1"):
    raw = np.log2(raw + 1.0)
scaler = meta["scaler"]
low, high = np.asarray(scaler["data_min"]), np.asarray(scaler["data_max"])
scale = 1.0 / np.where(high > low, high - low, 1.0)          # a constant gene keeps scale 1
Z = raw * scale - low * scale
if scaler.get("clip"):
    Z = np.clip(Z, 0.0, 1.0)

# 3. the model's output (e.g. the committee's mean), back on the response's scale
standardized = model.predict(Z.astype(np.float32))
predicted = standardized * meta["target"]["scale"] + meta["target"]["mean"]

# 4. the calibrated call: thresholds on the predicted scale; direction 1: a high response is sensitive
low, high = meta["calibrated_thresholds"]["low"], meta["calibrated_thresholds"]["high"]
names = ("resistant", "moderate", "sensitive") if meta["direction"] == 1 else ("sensitive", "moderate", "resistant")
for line, value in zip(cell_lines, predicted):
    label = names[0] if value < low else names[2] if value > high else names[1]
    print(f"{line},{value:.4f},{label}")
