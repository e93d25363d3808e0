"""Progress of a benchmark run on stderr, with an ETA from each method's measured cost.

Tasks are far from equal (a PM or RF task costs ~100x a per-drug-mean task), so the ETA is the sum over the
remaining tasks of their method's mean measured cost so far, converted to wall time by the parallelism
observed so far (task seconds finished / wall seconds elapsed, ~``jobs``). A method not measured yet is
counted at the mean cost of the measured methods. When the remaining tasks are not known one by one
(``tasks`` not given), every method is assumed to have an equal share of them, as in
:func:`ccle.benchmark.runner.task_list`.

On a terminal (``stream.isatty()``) the progress is one line rewritten in place (``\\r``); otherwise one
line per finished task, suitable for logs.
"""
import sys
import time

BAR_WIDTH = 24


def format_seconds(seconds):
    """``"1h02m"``, ``"3m07s"`` or ``"42s"``."""
    seconds = int(round(max(seconds, 0.0)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def task_cost(rec):
    """Seconds a finished task took in its worker: fit, gene selection, width search and prediction."""
    return sum(float(rec.get(k) or 0.0) for k in ("fit_seconds", "selector_seconds", "search_seconds",
                                                  "predict_seconds"))


def summary_record(records):
    """What the progress line reports for one task's records: the record itself, or for a cross-drug task (one
    record per drug) a summary: all drugs, mean MSE, the whole fit's seconds."""
    if len(records) == 1:
        return records[0]
    first = records[0]
    out = {"drug": "all drugs", "split": first["split"], "method": first["method"],
           "mse": sum(r["mse"] for r in records) / len(records)}
    out.update({k: sum(float(r.get(k) or 0.0) for r in records)
                for k in ("fit_seconds", "selector_seconds", "search_seconds", "predict_seconds")})
    return out


class Progress:
    """Reports each finished task's record (``update(rec)``) on ``stream`` (default stderr).

    ``total``: number of tasks of this invocation; ``tasks``: optional list of their ``(drug, split, method)``
    for an exact count of the remaining tasks per method; ``clock``: a seconds counter (tests pass a fake)."""

    def __init__(self, total, stream=None, enabled=True, tasks=None, clock=time.perf_counter):
        self.total = int(total)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.clock = clock
        self.t0 = clock()
        self.cost = {}      # method -> [seconds summed, tasks]
        self.remaining = None
        if tasks is not None:
            self.remaining = {}
            for t in tasks:
                self.remaining[t[2]] = self.remaining.get(t[2], 0) + 1
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._width = 0

    # kept for callers of the old runner.Progress
    _fmt = staticmethod(format_seconds)

    def eta(self):
        """Estimated wall seconds until every task is done (None before the first measured cost)."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        measured = {m: s / n for m, (s, n) in self.cost.items() if n}
        if not measured:
            return None
        default = sum(measured.values()) / len(measured)
        if self.remaining is not None:
            work = sum(n * measured.get(m, default) for m, n in self.remaining.items() if n > 0)
        else:
            work = left * default  # equal share of the remaining tasks for every method seen
        spent = sum(s for s, _ in self.cost.values())
        elapsed = self.clock() - self.t0
        parallel = spent / elapsed if elapsed > 0 and spent > 0 else 1.0
        return work / max(parallel, 1e-9)

    def update(self, rec):
        """Count one finished task (its result record) and print the progress."""
        self.done += 1
        method = rec.get("method", "?")
        entry = self.cost.setdefault(method, [0.0, 0])
        entry[0] += task_cost(rec)
        entry[1] += 1
        if self.remaining is not None and self.remaining.get(method, 0) > 0:
            self.remaining[method] -= 1
        if not self.enabled:
            return
        elapsed = self.clock() - self.t0
        eta = self.eta()
        eta_text = "ETA ?" if eta is None else f"ETA {format_seconds(eta)}"
        what = f"{rec.get('drug', '?')} split {rec.get('split', '?')} {method}"
        mse = rec.get("mse")
        score = f"mse {mse:.3f} " if isinstance(mse, (int, float)) else ""
        if self.live:
            frac = self.done / self.total if self.total else 1.0
            filled = int(round(BAR_WIDTH * frac))
            line = (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total} | "
                    f"elapsed {format_seconds(elapsed)} | {eta_text} | last: {what}")
            pad = max(self._width - len(line), 0)
            self._width = len(line)
            end = "\n" if self.done >= self.total else ""
            self.stream.write("\r" + line + " " * pad + end)
            self.stream.flush()
        else:
            print(f"[{self.done}/{self.total}] {what}: {score}({task_cost(rec):.1f}s) | elapsed "
                  f"{format_seconds(elapsed)} | {eta_text}", file=self.stream, flush=True)

    def close(self):
        """End the live line with a newline if the run stopped before the last task."""
        if self.enabled and self.live and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
