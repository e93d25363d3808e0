"""Progress: ETA from each method's measured cost, a live line on a terminal, one line per task otherwise."""
import io
import subprocess
import sys

import pytest

from ccle.benchmark.progress import Progress, format_seconds, task_cost


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class TTY(io.StringIO):
    def isatty(self):
        return True


def _rec(method, seconds, drug="d", split=0):
    return {"drug": drug, "split": split, "method": method, "mse": 0.5, "fit_seconds": seconds,
            "selector_seconds": 0.0, "search_seconds": 0.0, "predict_seconds": 0.0}


def test_eta_weights_each_method_by_its_measured_cost():
    # 2 drug-splits x (PM 100 s, mean 1 s): after PM and mean of the first, 1 PM + 1 mean remain = 101 s
    tasks = [("d", s, m) for s in range(2) for m in ("PM", "mean")]
    clock = Clock()
    bar = Progress(len(tasks), stream=io.StringIO(), tasks=tasks, clock=clock)
    clock.t = 100.0
    bar.update(_rec("PM", 100.0))
    clock.t = 101.0
    bar.update(_rec("mean", 1.0))
    assert bar.eta() == pytest.approx(101.0)
    # equal-task counting would have said 2 tasks x 50.5 s; with the method mix unknown, each seen method gets
    # an equal share of the remaining tasks
    blind = Progress(4, stream=io.StringIO(), clock=clock)
    clock.t = 0.0
    blind.t0 = 0.0
    clock.t = 101.0
    blind.update(_rec("PM", 100.0))
    blind.update(_rec("mean", 1.0))
    assert blind.eta() == pytest.approx(2 * 50.5)


def test_eta_divides_by_the_observed_parallelism():
    tasks = [("d", s, "PM") for s in range(4)]
    clock = Clock()
    bar = Progress(4, stream=io.StringIO(), tasks=tasks, clock=clock)
    clock.t = 10.0                       # two workers finished a 10 s task each within 10 s of wall time
    bar.update(_rec("PM", 10.0, split=0))
    bar.update(_rec("PM", 10.0, split=1))
    assert bar.eta() == pytest.approx(10.0)  # 20 s of work left over 2 workers
    clock.t = 20.0
    bar.update(_rec("PM", 10.0, split=2))
    bar.update(_rec("PM", 10.0, split=3))
    assert bar.eta() == 0.0


def test_plain_stream_gets_one_line_per_task():
    out = io.StringIO()
    clock = Clock()
    bar = Progress(3, stream=out, clock=clock)
    for i, m in enumerate(("PM", "EN", "mean")):
        clock.t = i + 1.0
        bar.update(_rec(m, 1.0, split=i))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    assert lines[0].startswith("[1/3] d split 0 PM: mse 0.500") and lines[-1].endswith("ETA 0s")


def test_terminal_gets_one_rewritten_line():
    out = TTY()
    clock = Clock()
    bar = Progress(3, stream=out, clock=clock)
    for i in range(3):
        clock.t = i + 1.0
        bar.update(_rec("PM", 1.0, split=i))
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and text.endswith("\n")
    last = text.split("\r")[-1]
    assert last.startswith("[" + "#" * 24 + "] 3/3") and "last: d split 2 PM" in last


def test_terminal_line_is_padded_over_a_longer_previous_one_and_closed_when_interrupted():
    out = TTY()
    bar = Progress(5, stream=out, clock=Clock())
    bar.update(_rec("PM", 1.0, drug="a-very-long-drug-name"))
    bar.update(_rec("PM", 1.0, drug="d"))
    first, second = out.getvalue().split("\r")[1:]
    assert len(second) == len(first)
    bar.close()
    assert out.getvalue().endswith("\n")


def test_disabled_counts_but_prints_nothing_and_helpers():
    out = io.StringIO()
    bar = Progress(2, stream=out, enabled=False)
    bar.update(_rec("PM", 1.0))
    assert bar.done == 1 and out.getvalue() == ""
    assert format_seconds(42) == "42s" and format_seconds(187) == "3m07s" and format_seconds(3720) == "1h02m"
    assert task_cost({"fit_seconds": 1.0, "selector_seconds": 0.5, "predict_seconds": None}) == 1.5


@pytest.mark.slow
def test_non_terminal_stderr_in_a_subprocess_gets_plain_lines():
    code = ("from ccle.benchmark.progress import Progress\n"
            "b = Progress(2)\n"
            "b.update({'drug': 'd', 'split': 0, 'method': 'PM', 'mse': 0.1, 'fit_seconds': 0.2})\n"
            "b.update({'drug': 'd', 'split': 1, 'method': 'PM', 'mse': 0.1, 'fit_seconds': 0.2})\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert res.stderr.splitlines()[0].startswith("[1/2] d split 0 PM") and "\r" not in res.stderr


@pytest.mark.slow
def test_real_terminal_in_a_subprocess_gets_a_rewritten_line():
    pty = pytest.importorskip("pty")
    import os

    code = ("from ccle.benchmark.progress import Progress\n"
            "b = Progress(2)\n"
            "b.update({'drug': 'd', 'split': 0, 'method': 'PM', 'mse': 0.1, 'fit_seconds': 0.2})\n"
            "b.update({'drug': 'd', 'split': 1, 'method': 'PM', 'mse': 0.1, 'fit_seconds': 0.2})\n")
    master, slave = pty.openpty()
    try:
        res = subprocess.run([sys.executable, "-c", code], stderr=slave, stdout=subprocess.DEVNULL, timeout=60)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    text = b"".join(chunks).decode()
    assert res.returncode == 0
    # the live form ("\r[####...] 2/2"), not the plain "[2/2] d split 1 PM" lines
    assert "\r[" + "#" * 12 + "." * 12 + "] 1/2" in text and "\r[" + "#" * 24 + "] 2/2" in text
    assert "[1/2] d split" not in text
