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
