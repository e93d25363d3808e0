"""Readers of the CCLE file formats and the embedded synthetic default data set (the only place that reads files)."""
