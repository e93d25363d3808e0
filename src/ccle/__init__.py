"""ccle: per-drug sensitivity prediction from gene expression on the CCLE data (built on nnlite)."""

__version__ = "0.1.0"
