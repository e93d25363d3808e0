"""Plain-text renderings: CSV, Markdown and fixed-width tables, and the Markdown report built from the
report's sections (see :mod:`ccle.report.sections`)."""
import csv
import io
import math

import numpy as np

from ccle.report.overview import MANY_DRUGS


def _fmt(v, digits=3):
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nan"
    return f"{v:.{digits}f}"


def to_csv(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([v if isinstance(v, str) else (repr(float(v)) if isinstance(v, float) else v) for v in row])
    return buf.getvalue()


def to_markdown(header, rows, digits=3, mark_best=False):
    """Markdown table; with ``mark_best``, the cell of the row's "best" column gets a ``*`` (Table I)."""
    out_header = header[:-1] if mark_best else header
    lines = ["| " + " | ".join(out_header) + " |", "|" + "|".join("---" for _ in out_header) + "|"]
    for row in rows:
        cells = [_fmt(v, digits) for v in (row[:-1] if mark_best else row)]
        if mark_best and row[-1] in header:
            i = header.index(row[-1])
            cells[i] = cells[i] + "*"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_text(header, rows, digits=3, mark_best=False):
    """Fixed-width text table for the terminal (same content as :func:`to_markdown`)."""
    out_header = header[:-1] if mark_best else header
    body = []
    for row in rows:
        cells = [_fmt(v, digits) for v in (row[:-1] if mark_best else row)]
        if mark_best and row[-1] in header:
            i = header.index(row[-1])
            cells[i] = cells[i] + "*"
        body.append(cells)
    widths = [max(len(str(h)), *(len(c[i]) for c in body)) if body else len(str(h))
              for i, h in enumerate(out_header)]
    fmt_row = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt_row([str(h) for h in out_header])] + [fmt_row(c) for c in body]) + "\n"




def _md_cell(cell, bold):
    return f"**{cell}**" if bold and cell else cell


def section_markdown(sec, figures_written):
    """One section as Markdown: heading, paragraphs, tables (bold cells in ``**``), figures as images that
    point at the PNG next to the report when it was written."""
    out = [f"## {sec['title']}\n"]
    if sec.get("absent"):
        return "\n".join(out + [f"_{sec['absent']}_\n"])
    for p in sec.get("paragraphs", []):
        out.append(p + "\n")
    for tab in sec.get("tables", []):
        if tab.get("caption"):
            out.append(f"{tab['caption']}\n")
        if tab.get("collapsed") and tab.get("csv") and len(tab["rows"]) > MANY_DRUGS:
            # a folded table of hundreds of drugs would bury the page: its CSV holds it
            out.append(f"_{len(tab['rows'])} rows, not repeated here: see {tab['csv']}._\n")
            continue
        bold = tab.get("bold", set())
        lines = ["| " + " | ".join(tab["header"]) + " |", "|" + "|".join("---" for _ in tab["header"]) + "|"]
        for i, row in enumerate(tab["rows"]):
            lines.append("| " + " | ".join(_md_cell(c, (i, j) in bold) for j, c in enumerate(row)) + " |")
        out.append("\n".join(lines) + "\n")
    for fig in sec.get("figures", []):
        if fig["name"] in figures_written:
            out.append(f"![{fig['caption']}]({fig['name']}.png)\n\n{fig['caption']}\n")
    return "\n".join(out)


def report_markdown(title, sections, figures_written, note=None):
    """The whole Markdown report: title, an optional note (e.g. matplotlib missing), every section."""
    parts = [f"# {title}\n"]
    if note:
        parts.append(f"{note}\n")
    parts += [section_markdown(s, figures_written) for s in sections]
    return "\n".join(parts)
