"""What decides a benchmark's results (:class:`RunConfig`) and what every back end of a run shares
(:class:`RunContext`): the serial loop, the process pool and the Dask workers all run a task from a context.
"""
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ccle.evaluation.intervals import DEFAULT_LEVEL
from ccle.methods.estimators import DEFAULT_WIDTHS


@dataclass
class RunConfig:
    """Everything that decides a task's result (the resume key is derived from it)."""
    protocol: str = "strict"
    seed: int = 0
    search: bool = False
    n_features: int = 1000
    widths: tuple = DEFAULT_WIDTHS   # PM+ and ANN; PM too when fixed_widths (--widths)
    test_fraction: float = 0.3
    options: dict = field(default_factory=dict)   # per-method constructor overrides (e.g. --quick)
    search_options: dict = field(default_factory=dict)
    data_fingerprint: str = ""
    split_scheme: str = "pairs"      # "pairs" | "cell-lines" | "tissues" (ccle.evaluation.splits.SCHEMES)
    split_fingerprint: str = ""      # hash of the held-out sets (they depend on the tissues given)
    response: str = "ActArea"   # the response column: its direction decides which end is "sensitive"
    null: bool = False          # --null: responses permuted within each drug before anything is fitted
    fixed_widths: bool = False  # --widths: ``widths`` fixes PM's architecture too (no search)
    interval_level: float = DEFAULT_LEVEL   # --interval-level: nominal coverage of the prediction intervals

    def key(self):
        """Short hash of the settings a result depends on (not of which drugs/methods/how many splits)."""
        d = asdict(self)
        d["widths"] = list(d["widths"])
        if d["split_scheme"] == "pairs" and not d["split_fingerprint"]:
            # the default scheme leaves the key of every earlier run (and its resume) unchanged
            del d["split_scheme"], d["split_fingerprint"]
        if d["response"] == "ActArea":
            del d["response"]  # keys of ActArea runs stay those of the runs made before the field existed
        if d["interval_level"] == DEFAULT_LEVEL:
            del d["interval_level"]  # likewise for the default interval level
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class RunContext:
    """Everything a task needs besides its (drug, split, method): the configuration, the run's data, where
    results and caches go, and the plugin files that registered methods (a worker process loads them again).

    ``datasets``: the run's :class:`ccle.benchmark.datasets.DrugData` in drug order, or, in a worker, their
    picklable handles (:class:`ccle.benchmark.shared_data.DrugDataHandle`, :class:`~ccle.benchmark.shared_data.DrugRows`;
    :meth:`dataset` opens one).
    ``cache_dir``: None computes everything (a worker that cannot reach the run's folder).
    """
    cfg: RunConfig
    out_dir: Path
    datasets: tuple
    cache_dir: Path = None
    plugins: tuple = ()

    def dataset(self, drug):
        """The :class:`DrugData` of ``drug``, its ``X`` in memory (a handle gathers or maps it in this process)."""
        for d in self.datasets:
            if d.drug == drug:
                return d.load() if hasattr(d, "load") else d
        raise KeyError(drug)

    def lazy_datasets(self):
        """Every drug's :class:`DrugData` in the run's order, each ``X`` read on demand where it is shared (a
        cross-drug task reads each line once instead of holding every drug's matrix)."""
        return [d.lazy() if hasattr(d, "lazy") else d for d in self.datasets]

    @property
    def drugs(self):
        return [d.drug for d in self.datasets]

    def replace(self, **changes):
        """A copy with ``changes`` (e.g. the datasets as handles for the workers)."""
        return replace(self, **changes)
