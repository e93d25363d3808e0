"""Command-line interface: ``ccle benchmark | train | predict | inspect | export | report | data`` (one module per command).

``main(argv, prog)`` is the entry point of the ``ccle`` console script, ``python -m ccle`` and ``python cli.py``. Every user-facing failure is a
:class:`ccle.errors.CCLEError` (or ValueError from input checks) printed as one line on stderr with exit code 2;
no traceback from deep inside numpy.
"""
import argparse
import os
import sys

# Before numpy is imported (the command modules import it): one BLAS thread is faster for our small-batch
# training. setdefault: a caller's own setting wins.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import ccle  # noqa: E402
from ccle.cli import benchmark, data, export, inspect, predict, report, train  # noqa: E402
from ccle.errors import CCLEError  # noqa: E402
from ccle.benchmark.processes import Terminated, restore_sigterm, terminate_as_interrupt  # noqa: E402

# The command table: each module has NAME, add_parser(subparsers) and run(args) -> exit code.
COMMANDS = (benchmark, train, predict, inspect, export, report, data)


DESCRIPTION = ("Drug-sensitivity prediction from gene expression on CCLE-shaped data: run the paper's benchmark, "
               "train a per-drug model, predict new samples, inspect a model file, export it as C.")


def build_parser(prog="ccle"):
    """The argument parser with every command of :data:`COMMANDS`.

    Parameters
    ----------
    prog : str
        The program name usage lines show (``ccle``, ``python -m ccle``, ``python cli.py``).

    Returns
    -------
    argparse.ArgumentParser
        One sub-command per command module (benchmark, train, predict, inspect, export, report, data).
    """
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"ccle {ccle.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None, prog="ccle"):
    """Parse ``argv``, run the command and return its exit code.

    A :class:`ccle.errors.CCLEError` becomes one line on stderr and exit code 2; Ctrl-C (or SIGTERM) keeps every
    finished result and exits 130.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).
    prog : str
        How the caller was started (``ccle``, ``python -m ccle``, ``python cli.py``), for usage lines.

    Returns
    -------
    int
        The exit code: 0 on success, 2 for bad input.

    Examples
    --------
    >>> from ccle.cli import main
    >>> main(["data", "--help"])  # doctest: +SKIP
    """
    args = build_parser(prog).parse_args(argv)
    run = {command.NAME: command.run for command in COMMANDS}[args.command]
    previous = terminate_as_interrupt()  # `kill PID` takes the Ctrl-C path: finished results kept, workers stopped
    try:
        return run(args)
    except (CCLEError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{what}: finished results are kept; rerun the same command to resume", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        # the reader of our standard output went away (`predict ... | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        # an unreadable or unwritable file that no reader turned into a CCLEError: still one line naming it
        name = exc.filename if exc.filename is not None else "a file"
        print(f"error: {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        restore_sigterm(previous)
