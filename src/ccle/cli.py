"""Command-line interface: benchmark, train, predict, inspect, data.

Every user-facing failure is a :class:`ccle.errors.CCLEError` (or ValueError from input checks) printed
as one line on stderr with exit code 2; no traceback from deep inside numpy.
"""
import argparse
import sys

from ccle.errors import CCLEError


def build_parser():
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("benchmark", help="the paper's experiment: Table I, Table II, Fig. 3")
    bench.add_argument("--quick", action="store_true", help="a few drugs, 2 splits, fewer genes (< 1 minute)")
    return parser


def cmd_benchmark(args):
    print("ccle benchmark: the per-drug pipeline is not built yet (see the open issues); nothing was run.")
    return 0


COMMANDS = {"benchmark": cmd_benchmark}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CCLEError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished results are kept; rerun the same command to resume", file=sys.stderr)
        return 130
