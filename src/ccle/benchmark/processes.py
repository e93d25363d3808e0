"""The lifetime of the processes of a run: workers die with their parent, SIGTERM ends a run like Ctrl-C.

- :func:`die_with_parent` (called first in every ``--jobs`` worker): on Linux the kernel sends the worker
  SIGTERM when its parent dies, however it dies (``prctl(PR_SET_PDEATHSIG, SIGTERM)``, through ctypes);
  elsewhere, or when prctl fails, a daemon thread polls the parent PID every ``poll_seconds`` and ends the
  worker when it has changed. Either way no worker outlives the run by more than a few seconds, nor keeps
  appending to ``results.jsonl`` after it.
- :func:`terminate_as_interrupt` (the CLI installs it): SIGTERM raises :class:`Terminated`, a
  ``KeyboardInterrupt``, so that a ``kill`` takes the Ctrl-C path (pending tasks dropped, workers stopped,
  finished results kept) and the CLI exits with 143 and one line.
"""
import ctypes
import os
import signal
import threading

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM once :func:`terminate_as_interrupt` is installed."""


def _raise_terminated(signum, frame):
    raise Terminated(f"signal {signum}")


def terminate_as_interrupt():
    """Make SIGTERM raise :class:`Terminated` in the main thread -> the previous handler (None when not called
    from the main thread, where signal handlers cannot be set: then nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def restore_sigterm(previous):
    """Put back the SIGTERM handler :func:`terminate_as_interrupt` returned (in-process callers, tests)."""
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


class deferred_interrupts:
    """Within the block, SIGINT and SIGTERM are recorded instead of acted on; at its end the last one recorded
    is delivered to the handler that was in place (raising KeyboardInterrupt / :class:`Terminated`).

    Around ``pool.submit``: an interruption inside it could leave a worker started but not yet registered, so
    not stopped, and it would then outlive the run. A no-op outside the main thread."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        self.previous, self.caught = {}, []
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, lambda signum, frame: self.caught.append(signum))
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        if self.caught and exc[0] is None:
            signum = self.caught[-1]
            handler = self.previous.get(signum)
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)
        return False


def _set_pdeathsig(sig):
    """``prctl(PR_SET_PDEATHSIG, sig)``: True when the kernel accepted it (Linux only)."""
    if not os.uname().sysname == "Linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the interpreter's own symbols include libc's
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid, poll_seconds):
    while True:
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
            os._exit(143)  # SIGTERM was ignored or handled: end anyway
        threading.Event().wait(poll_seconds)


def die_with_parent(parent_pid, poll_seconds=1.0, use_prctl=True):
    """Make this process end when the process ``parent_pid`` (its parent) ends -> "prctl" or "watchdog".

    SIGTERM gets its default action back (the worker must die from it, not run a handler inherited from the
    CLI). ``use_prctl=False`` forces the watchdog (tests)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    how = "prctl" if use_prctl and _set_pdeathsig(signal.SIGTERM) else "watchdog"
    if how == "watchdog":
        threading.Thread(target=_watch_parent, args=(int(parent_pid), float(poll_seconds)), daemon=True,
                         name="parent-watchdog").start()
    # the parent may have died before prctl took effect: then no signal will come
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)
        os._exit(143)
    return how
