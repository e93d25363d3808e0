"""Command-line entry point: `python cli.py benchmark | train | predict | inspect | report | data`.

Thin on purpose: everything lives in :mod:`ccle.cli`.
"""
import sys

from ccle.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python cli.py"))
