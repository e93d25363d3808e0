"""``python -m ccle ...``: the same commands as the ``ccle`` console script and ``python cli.py``."""
import sys

from ccle.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m ccle"))
