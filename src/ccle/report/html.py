"""report.html: one self-contained page (inline CSS, figures embedded as base64 SVG data URIs, no script,
no external URL) built from the report's sections (see :mod:`ccle.report.sections`)."""
import base64
from html import escape

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1280px;margin:0 auto;padding:1.5em 2em 4em;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}
nav{font-size:.9em;line-height:1.7}nav a{margin-right:1em;color:#245;text-decoration:none}
nav a.absent{color:#aaa}
table{border-collapse:collapse;margin:.8em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right;white-space:nowrap}
th{background:#f0f3f6;white-space:normal;vertical-align:bottom}
.scroll{overflow:auto;max-width:100%;max-height:85vh}td:first-child,th:first-child{text-align:left}
.scroll thead th{position:sticky;top:0;z-index:1}.scroll td:first-child{position:sticky;left:0;background:#fff}
.scroll tr.summary td:first-child{background:#fff}
tr.summary td{border-top:2px solid #888;font-weight:600}
td.best{background:#e3f2e1;font-weight:700}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
table.kv td{text-align:left;white-space:normal;max-width:820px;word-break:break-word}
table.text td{text-align:left;white-space:normal;min-width:6em}
table.table1{font-size:.8em}table.table1 td,table.table1 th{padding:.25em .4em}table.wide{width:100%}
figcaption{font-size:.85em;color:#555;max-width:900px}
p.note{color:#777;font-style:italic}.subtitle{color:#555}
details{margin:.6em 0}summary{cursor:pointer;color:#245}
"""


def figure_img(svg_text, caption, name):
    """An ``<img>`` holding the SVG as a base64 data URI (no namespace URL shows in the page's text)."""
    data = base64.b64encode(svg_text.encode("utf-8")).decode("ascii")
    return (f'<figure id="{escape(name)}"><img class="figure" alt="{escape(caption)}" '
            f'src="data:image/svg+xml;base64,{data}"><figcaption>{escape(caption)} '
            f'(also <code>{escape(name)}.png</code> / <code>.svg</code> next to this file)</figcaption></figure>')


def table_html(tab):
    """A ``<table>``; cells in ``tab["bold"]`` get class ``best``, rows in ``tab["summary_rows"]`` class
    ``summary``."""
    bold, summary = tab.get("bold", set()), tab.get("summary_rows", set())
    out = []
    if tab.get("caption"):
        out.append(f"<p>{escape(tab['caption'])}</p>")
    head = ("<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in tab["header"]) + "</tr></thead>"
            if any(tab["header"]) else "")   # a key/value table has no column names
    out.append(f'<table class="{escape(tab.get("cls", "data"))}">{head}<tbody>')
    for i, row in enumerate(tab["rows"]):
        cls = ' class="summary"' if i in summary else ""
        cells = "".join(f'<td class="best">{escape(c)}</td>' if (i, j) in bold else f"<td>{escape(c)}</td>"
                        for j, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    html = '<div class="scroll">' + "".join(out) + "</div>"
    if tab.get("collapsed"):
        return f"<details><summary>{escape(tab['collapsed'])}</summary>{html}</details>"
    return html


def report_html(title, subtitle, sections, svgs, note=None):
    """The page: title, a table of contents, every section (absent ones as a one-line note)."""
    absent = ' class="absent"'
    nav = "".join(f'<a href="#{escape(s["id"])}"{absent if s.get("absent") else ""}>{escape(s["title"])}</a>'
                  for s in sections)
    body = [f"<h1>{escape(title)}</h1>", f'<p class="subtitle">{escape(subtitle)}</p>']
    if note:
        body.append(f'<p class="note">{escape(note)}</p>')
    body.append(f"<nav>{nav}</nav>")
    for s in sections:
        body.append(f'<section id="{escape(s["id"])}"><h2>{escape(s["title"])}</h2>')
        if s.get("absent"):
            body.append(f'<p class="note">{escape(s["absent"])}</p></section>')
            continue
        body += [f"<p>{escape(p)}</p>" for p in s.get("paragraphs", [])]
        body += [table_html(t) for t in s.get("tables", [])]
        body += [figure_img(svgs[f["name"]], f["caption"], f["name"]) for f in s.get("figures", [])
                 if f["name"] in svgs]
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>{CSS}</style></head><body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")
