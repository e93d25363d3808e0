"""``cli.py report OUT_DIR``: rebuild report.html / report.md and the figures of a benchmark folder from its
``results.jsonl`` and ``run.json`` alone (no model is fitted)."""
import sys

from ccle.cli.common import positive_int
from ccle.report import build_report

NAME = "report"


def add_parser(subparsers):
    """Register ``report`` on ``subparsers``."""
    rep = subparsers.add_parser(NAME, help="rebuild the report of a benchmark output folder",
                                description="Rebuilds report.html, report.md, the tables and the figures of a "
                                            "benchmark --out folder from its results.jsonl and run.json.")
    rep.add_argument("out_dir", metavar="OUT_DIR", help="a folder written by `benchmark --out OUT_DIR`")
    rep.add_argument("--jobs", type=positive_int, default=1,
                     help="processes that draw the figures (default 1; the files are the same)")
    return rep


def run(args):
    path = build_report(args.out_dir, jobs=args.jobs)
    print(f"wrote {path}", file=sys.stderr)
    return 0
