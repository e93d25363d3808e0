"""What a run says about its inputs: how the drug file's cell lines were joined to the expression
(:class:`ccle.data.identity.JoinReport`), what the reader did (``DrugTable.notes``), the response's direction
and the drugs left out with their reasons -- for the banner (:func:`input_lines`), ``run.json`` and the report
(:func:`input_meta`, read back by :mod:`ccle.report.inputs`).
"""

SHOWN = 5  # names listed in a banner line before "..."


def _listed(names, shown=SHOWN):
    names = list(names)
    more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(map(str, names[:shown])) + more


def input_meta(table, skipped=None):
    """The inputs of a run as a JSON-ready dict: ``layout``, ``response``, ``direction`` (+1: high =
    sensitive, -1: low = sensitive), ``notes``, ``join`` (None for the embedded data: ``summary``, ``counts``
    by key, ``matched``, ``unmatched``, ``ambiguous``, ``contradicted``, ``unmatched_expression``) and
    ``skipped_drugs`` (``{drug: reason}``)."""
    join = table.join
    meta = {"layout": table.layout, "response": table.response, "direction": int(table.direction),
            "notes": list(table.notes), "skipped_drugs": dict(skipped or {}), "join": None,
            "n_tissues_from_drug_file": len(set(table.tissues.values())) if table.tissues else 0}
    if join is not None:
        meta["join"] = {"summary": join.summary(), "counts": join.counts(), "matched": len(join.matches),
                        "unmatched": list(join.unmatched), "ambiguous": dict(join.ambiguous),
                        "contradicted": dict(join.contradicted),
                        "unmatched_expression": len(join.unmatched_right)}
    return meta


def input_lines(table, skipped=None):
    """The banner's lines about the inputs (after the run line): the join, each reader note, the drugs left
    out. Nothing for a join by exact names without notes or skips (the embedded data, a CCLE file)."""
    lines = []
    join = table.join
    if join is not None and (not join.by_name_only() or join.unmatched):
        lines.append(f"join: {join.summary()}")
    lines += [f"note: {n}" for n in table.notes]
    if skipped:
        shown = [f"{drug} ({why})" for drug, why in skipped.items()]
        lines.append(f"left out {len(shown)} drug(s) that cannot be run: {_listed(shown, 3)} (all in run.json)")
    return lines
