"""Processes of a run: `--jobs 2` workers die with their parent (SIGTERM or SIGKILL), SIGTERM is handled like
Ctrl-C, a second run on the same --out is refused (or waits), and an interrupted run resumes to the same tables.
Checked in subprocesses, each run in its own process group so that every process it started can be found."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ccle.errors import CCLEError
from ccle.files import OutputLock

REPO = Path(__file__).resolve().parents[3]
# 3 drugs x 2 splits x 2 cheap methods: 12 tasks, long enough to be killed in the middle
RUN = ["benchmark", "--quick", "--quiet", "--methods", "EN,mean"]


def _start(out, *extra, jobs=2):
    return subprocess.Popen([sys.executable, str(REPO / "cli.py"), *RUN, "--jobs", str(jobs), "--out", str(out),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _group(pgid):
    """PIDs of the live (not zombie) processes of process group ``pgid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def _children(pid):
    return [p for p in _group(pid) if p != pid]


def _lines(path):
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Table I of the uninterrupted run (``--jobs 1``)."""
    out = tmp_path_factory.mktemp("reference")
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), *RUN, "--jobs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=290)
    assert proc.returncode == 0, proc.stderr
    return (out / "table1.csv").read_text()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the processes of a run")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.slow
def test_killed_jobs2_run_leaves_no_process_and_resumes(tmp_path, reference, sig):
    out = tmp_path / "out"
    proc = _start(out)
    try:
        # both workers running and at least one result on disk
        _wait_for(lambda: len(_children(proc.pid)) >= 2 and _lines(out / "results.jsonl") >= 1, 240,
                  "the workers and a first result")
        os.kill(proc.pid, sig)
        code = proc.wait(timeout=30)
        killed_at = time.monotonic()
        _wait_for(lambda: not _group(proc.pid), 5, f"every process of the run to end after {sig.name}")
        assert time.monotonic() - killed_at <= 5
    finally:
        for pid in _group(proc.pid):  # only if the test failed: the run's own processes
            os.kill(pid, signal.SIGKILL)
    err = proc.stderr.read().decode()
    if sig == signal.SIGTERM:
        assert code == 143, err
        assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("terminated"), err
    else:
        assert code == -signal.SIGKILL
    # nothing is appended after the parent's death
    n = _lines(out / "results.jsonl")
    time.sleep(1.5)
    assert _lines(out / "results.jsonl") == n
    # the same command resumes and writes the uninterrupted run's tables
    rerun = _start(out, "--wait")
    assert rerun.wait(timeout=290) == 0, rerun.stderr.read().decode()
    assert (out / "table1.csv").read_text() == reference


@pytest.mark.slow
def test_second_run_on_the_same_out_is_refused_naming_folder_and_pid(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    holder = OutputLock(out).acquire()  # this test process plays the first run
    try:
        proc = subprocess.run([sys.executable, str(REPO / "cli.py"), *RUN, "--out", str(out)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(out) in lines[0] and f"PID {os.getpid()}" in lines[0], proc.stderr
        assert "--wait" in lines[0] and not (out / "results.jsonl").exists()
    finally:
        holder.release()


def test_wait_waits_for_the_lock_in_process(tmp_path):
    first = OutputLock(tmp_path).acquire()
    with pytest.raises(CCLEError, match=f"in use by another run \\(PID {os.getpid()}\\)"):
        OutputLock(tmp_path).acquire()  # flock locks belong to the open file: a second open is refused too
    got = []
    waiter = threading.Thread(target=lambda: got.append(OutputLock(tmp_path, wait=True, poll_seconds=0.05)
                                                        .acquire()))
    waiter.start()
    time.sleep(0.3)
    assert not got  # still waiting
    first.release()
    waiter.join(timeout=5)
    assert got and got[0].holder() == os.getpid()
    got[0].release()


@pytest.mark.slow
def test_watchdog_ends_a_worker_whose_parent_dies(tmp_path):
    """Where prctl is unavailable the watchdog thread does it: a grandchild with the watchdog forced ends
    within a few seconds of its parent's SIGKILL."""
    pid_file = tmp_path / "pid"
    worker = tmp_path / "worker.py"
    worker.write_text(f"import os, sys, time\nsys.path.insert(0, {str(REPO / 'src')!r})\n"
                      f"from ccle.benchmark.processes import die_with_parent\n"
                      f"print(die_with_parent(os.getppid(), poll_seconds=0.2, use_prctl=False), flush=True)\n"
                      f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    code = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(worker)!r}])\ntime.sleep(60)\n"
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE)
    try:
        _wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60, "the worker")
        worker = int(pid_file.read_text())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        _wait_for(lambda: worker not in _group(parent.pid), 5, "the watchdog to end the worker")
    finally:
        for pid in _group(parent.pid):
            os.kill(pid, signal.SIGKILL)
    assert parent.stdout.read().decode().strip() == "watchdog"


@pytest.mark.slow
def test_die_with_parent_uses_prctl_on_linux():
    if sys.platform != "linux":
        pytest.skip("prctl is Linux only")
    code = (f"import os, sys; sys.path.insert(0, {str(REPO / 'src')!r}); from ccle.benchmark.processes import "
            f"die_with_parent; print(die_with_parent(os.getppid()))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60).stdout.strip() == "prctl"
