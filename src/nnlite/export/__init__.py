"""Export of trained models: a plain description of the whole prediction (:mod:`nnlite.export.model`) and a
dependency-free C99 generator for it (:mod:`nnlite.export.c`)."""
from nnlite.export.model import (ACTIVATIONS, Calls, Committee, Constant, DenseLayer, Forest, Linear,  # noqa: F401
                                 ModelDescription, Preprocessing)
