"""``cli.py export``: a per-drug model file as dependency-free C99 (NAME.h, NAME.c, genes.txt)."""
import sys
from pathlib import Path

from ccle.deploy.export import export_model_c
from ccle.deploy.multitask import is_multitask_file
from ccle.errors import CCLEError

NAME = "export"


def add_parser(subparsers):
    """Register ``export`` on ``subparsers``."""
    exp = subparsers.add_parser(
        NAME, help="export a per-drug model file as C99 source",
        description="Writes DIR/NAME.h, DIR/NAME.c and DIR/genes.txt: int NAME_predict(const float *expression, "
                    "float *response, int *call) on the raw expression values of the genes of genes.txt, in "
                    "that order (C99 and libm, no allocation; every symbol starts with NAME_, so several models "
                    "link into one program).")
    exp.add_argument("model", metavar="MODEL.nnz", help="per-drug model file written by train")
    exp.add_argument("--c", required=True, metavar="DIR", dest="c_dir", help="directory to write the C files into")
    exp.add_argument("--prefix", default="model", metavar="NAME",
                     help="C identifier that starts every exported symbol (default: model)")
    return exp


def run(args):
    if is_multitask_file(args.model):
        raise CCLEError(f"{args.model}: a multitask model file; export takes a per-drug model file")
    out = export_model_c(args.model, Path(args.c_dir), args.prefix)
    stats = out["stats"]
    print(f"wrote {out['header']}, {out['source']} and {out['genes']}: {stats['kind']} model, "
          f"{stats['stack_bytes']} bytes of stack", file=sys.stderr)
    return 0
