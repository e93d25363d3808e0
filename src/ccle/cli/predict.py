"""``cli.py predict``: responses and classes of the samples of an expression file, as CSV.

Columns (:func:`ccle.deploy.per_drug.predict_file`): cell_line, predicted_<response>, percentile_among_training_<response>,
class_calibrated (thresholds on the predicted scale), class_paper_rule (the paper's observed IQR thresholds),
in_training_set, then how far to trust each row: lower / upper (the --interval-level prediction interval),
call_confident (the interval lies within one class region), in_domain, domain_outside_share, domain_distance
(:mod:`nnlite.domain`). A multitask file (:func:`ccle.deploy.multitask.predict_multitask_file`): the same columns with
``drug`` after ``cell_line``, one row per (cell line, drug)."""
import argparse
import sys
from pathlib import Path

from ccle.deploy.per_drug import predict_file, short_list
from ccle.deploy.multitask import is_multitask_file, predict_multitask_file
from ccle.errors import CCLEError
from ccle.files import atomic_write
from nnlite.runtime import DEFAULT_LEVEL, MAX_MISSING_SHARE

NAME = "predict"


def add_parser(subparsers):
    """Register ``predict`` on ``subparsers``."""
    pred = subparsers.add_parser(
        NAME, help="predict responses and classes of new samples with a model file",
        description="Genes are matched by name (order and extra genes do not matter). Missing genes are an error "
                    "listing them, unless --fill-missing fills them with the training minimum.")
    pred.add_argument("model", metavar="MODEL.nnz", help="model file written by train")
    pred.add_argument("--expression", required=True, metavar="FILE",
                      help="expression of the samples (GCT or DepMap CSV, gzip ok), raw like the training data")
    pred.add_argument("--sample-info", metavar="FILE", help="DepMap sample_info.csv (ACH- ids to CCLE names)")
    pred.add_argument("--out", metavar="FILE", help="CSV to write (default: standard output)")
    pred.add_argument("--fill-missing", action="store_true",
                      help="fill missing genes and missing values with the training minimum (reported on stderr)")
    pred.add_argument("--max-missing", type=share, default=MAX_MISSING_SHARE, metavar="SHARE",
                      help="--fill-missing refuses a file missing more than this share of the model's genes "
                           f"(default {MAX_MISSING_SHARE})")
    pred.add_argument("--interval-level", type=level, default=DEFAULT_LEVEL, metavar="LEVEL",
                      help=f"nominal coverage of the prediction intervals (default {DEFAULT_LEVEL})")
    pred.add_argument("--allow-out-of-domain", action="store_true",
                      help="predict even when most samples are unlike the training data (flagged in_domain False)")
    pred.add_argument("--numpy-runtime", action="store_true",
                      help="predict with nnlite.runtime (numpy only; equal to float32 rounding)")
    return pred


def share(text):
    """argparse type: a share in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text!r}")
    return value


def level(text):
    """argparse type: an interval level strictly between 0 and 1 (e.g. 0.9)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a level strictly between 0 and 1 (e.g. 0.9), got {text!r}")
    return value


def run(args):
    if is_multitask_file(args.model):   # one row per (cell line, drug)
        df = predict_multitask_file(args.model, args.expression, fill_missing=args.fill_missing,
                                    runtime_engine=args.numpy_runtime, sample_info=args.sample_info)
    else:
        df = predict_file(args.model, args.expression, fill_missing=args.fill_missing,
                          runtime=args.numpy_runtime, sample_info=args.sample_info, level=args.interval_level,
                          max_missing=args.max_missing, allow_out_of_domain=args.allow_out_of_domain)
    filled = df.attrs.get("filled_genes") or []
    if filled:
        print(f"filled {len(filled)} missing genes with the training minimum: {short_list(filled)}",
              file=sys.stderr)
    if df.attrs.get("note"):
        print(f"note: {df.attrs['note']}", file=sys.stderr)
    if "in_domain" in df.columns and not df["in_domain"].all():
        print(f"warning: {int((~df['in_domain']).sum())} of {len(df)} samples are out of the training domain "
              f"(in_domain False)" + (f": {df.attrs['diagnosis']}" if df.attrs.get("diagnosis") else ""),
              file=sys.stderr)
    if df.attrs.get("filled_values"):
        print(f"filled {df.attrs['filled_values']} missing values with the training minimum", file=sys.stderr)
    if args.out:
        out = Path(args.out)
        try:
            atomic_write(out, df.to_csv(index=False))
        except OSError as exc:
            raise CCLEError(f"{out}: cannot write the predictions ({exc.strerror or exc})") from None
        what = (f"{df['cell_line'].nunique()} cell lines x {df['drug'].nunique()} drugs = {len(df)} rows"
                if "drug" in df.columns else f"{len(df)} cell lines")
        summary = []
        for col, rule in (("class_calibrated", "calibrated"), ("class_paper_rule", "paper rule")):
            counts = df[col].value_counts()
            if counts.get("", 0) < len(df):
                summary.append(f"{rule}: " + ", ".join(
                    f"{counts.get(c, 0)} {c}" for c in ("sensitive", "moderate", "resistant")))
        trained = df["in_training_set"] if "in_training_set" in df.columns else []
        trained_on = int((trained == True).sum()) if len(trained) else 0  # noqa: E712 (empty for v1 files)
        trust = ""
        if "call_confident" in df.columns and df["lower"].notna().any():
            trust = (f"; {int(df['call_confident'].sum())} calls confident (their {100 * args.interval_level:g} % "
                     f"interval lies in one class), median interval width {(df['upper'] - df['lower']).median():.3g}")
        print(f"wrote {out}: {what} ({'; '.join(summary)})"
              + (f"; {trained_on} of them were in the training set" if trained_on else "") + trust, file=sys.stderr)
    else:
        df.to_csv(sys.stdout, index=False)
    return 0
