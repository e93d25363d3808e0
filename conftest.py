"""Fixtures shared by tests/ and benchmarks/: the reference data in ../shared/data (skip cleanly when absent)."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_ccle():
    """Path to ../shared/data/ccle, or skip the test when this checkout has no shared data beside it."""
    path = SHARED_DATA / "ccle"
    if not path.is_dir():
        pytest.skip("../shared/data/ccle is not present")
    return path


try:  # the fuzz harness's long run: `pytest --hypothesis-profile=long` (registered here: loaded before the tests)
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("long", deadline=None)
except ImportError:  # hypothesis is a test extra
    pass


def pytest_addoption(parser):
    parser.addoption("--allow-unmarked-subprocesses", action="store_true",
                     help="let tests that are not marked slow start processes (off: such a test fails, so that "
                          "`pytest -m 'not slow'` stays the fast loop)")


@pytest.fixture(autouse=True)
def _processes_only_in_slow_tests(request, monkeypatch):
    """A test that starts a process (a CLI run, a compiler, a worker pool) is slow: it must say so with
    ``@pytest.mark.slow``. Outside such tests, starting one fails the test with that message."""
    if request.node.get_closest_marker("slow") or request.config.getoption("--allow-unmarked-subprocesses"):
        return
    import multiprocessing.util
    import subprocess

    def refuse(*args, **kwargs):
        raise RuntimeError(f"{request.node.nodeid} starts a process: mark it @pytest.mark.slow")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    monkeypatch.setattr(multiprocessing.util, "spawnv_passfds", refuse)
