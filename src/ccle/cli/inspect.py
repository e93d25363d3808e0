"""``cli.py inspect``: describe a model file (method, model, genes, call rules, checksums, bytes by part)."""
from ccle.deploy.inspection import inspect_model
from ccle.deploy.multitask import inspect_multitask, is_multitask_file

NAME = "inspect"


def add_parser(subparsers):
    """Register ``inspect`` on ``subparsers``."""
    insp = subparsers.add_parser(NAME, help="describe a model file",
                                 description="Method, model (networks and their compression, or the linear model, "
                                             "forest or constant), genes, call rules, checksums, bytes by part.")
    insp.add_argument("model", metavar="MODEL.nnz", help="model file written by train")
    insp.add_argument("--all-genes", action="store_true", help="list every gene (default: the first 20)")
    return insp


def run(args):
    describe = inspect_multitask if is_multitask_file(args.model) else inspect_model
    print(describe(args.model, all_genes=args.all_genes))
    return 0
