"""The report's section on the stacked method: its non-negative weights per drug (mean over splits) and on
average, so that a reader sees which members carry the combination."""
import numpy as np

from ccle.report.sections import _absent, f3
from ccle.report.tables import method_label


def stack_weights_section(records, drugs):
    """Per drug, the mean over splits of each member's weight in ``Stack`` (``stack_weights`` of its records),
    and the average over drugs; absent when the run has no stacked records."""
    title = "Stack: the members' weights"
    recs = [r for r in records if isinstance(r.get("stack_weights"), dict)]
    if not recs:
        return _absent("stack-weights", title, "a stacked method (benchmark --methods ...,Stack)")
    members = []
    for r in recs:
        members += [m for m in r["stack_weights"] if m not in members]
    by_drug = {}
    for r in recs:
        by_drug.setdefault(r["drug"], []).append([float(r["stack_weights"].get(m, 0.0)) for m in members])
    order = [d for d in drugs if d in by_drug] + sorted(d for d in by_drug if d not in drugs)
    mean = {d: np.mean(by_drug[d], axis=0) for d in order}
    rows = [[d] + [f3(v) for v in mean[d]] for d in order]
    average = np.mean([mean[d] for d in order], axis=0)
    rows.append(["Average over drugs"] + [f3(v) for v in average])
    csv_rows = [[d, m, float(w)] for d in order for m, w in zip(members, mean[d])]
    text = ("Stack combines the members' predictions with non-negative weights (and an intercept) fitted by "
            "non-negative least squares on the members' out-of-fold predictions of the training rows only; no "
            "member is fitted again. Its own out-of-fold predictions are cross-fitted (weights fitted without the "
            "row's fold), so its calls and intervals are honest. Weights are per drug, the mean over splits.")
    return {"id": "stack-weights", "title": title, "paragraphs": [text],
            "csv": [{"name": "stack_weights.csv", "rows": csv_rows, "header": ["drug", "member", "weight"]}],
            "tables": [{"header": ["Drug"] + [method_label(m) for m in members], "rows": rows}]}
