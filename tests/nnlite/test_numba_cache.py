"""Numba's cache with a read-only install: user cache folder when there is one, else uncached with one warning
line, never a crash (``nnlite._numba_cache``). A subprocess runs a copy of nnlite placed in a folder named
site-packages (so it counts as installed) that it cannot write, with a HOME of our choosing."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
FIT = ("import numpy as np, nnlite\n"
       "X = np.random.default_rng(0).standard_normal((40, 3)); y = X[:, 0]\n"
       "print(nnlite.LinearSVR().fit(X, y).predict(X[:2]))\n")  # few, small kernels: a short compile


def as_other_user():
    """argv prefix that runs a command without root's right to write anywhere (or [] when not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    # A checkout (and its virtualenv) in a private folder, mode 0700 (under /root, mktemp -d), is out of the
    # unprivileged user's reach: it cannot even start the interpreter, which says nothing of nnlite's cache.
    probe = subprocess.run([*prefix, sys.executable, "-c", "import numpy"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the unprivileged user (uid 65534) cannot run {sys.executable} with numpy (a private "
                    f"folder on its path?): {probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else ''}")
    return prefix


@pytest.fixture
def read_only_install():
    """(root folder, site folder holding a read-only copy of nnlite); removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="nnlite-ro-"))
    os.chmod(root, 0o755)
    site = root / "lib" / "site-packages"
    shutil.copytree(SRC / "nnlite", site / "nnlite", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [site.parent, site, *[p for p in site.rglob("*") if p.is_dir()]]:
        os.chmod(folder, 0o555)
    os.chmod(root / "lib", 0o555)
    yield root, site
    for folder in [p for p in root.rglob("*") if p.is_dir()]:
        os.chmod(folder, stat.S_IRWXU)
    shutil.rmtree(root)


def run(root, site, home, tmpdir):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), HOME=str(home), TMPDIR=str(tmpdir), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([*as_other_user(), sys.executable, "-c", FIT], capture_output=True, text=True,
                          env=env, cwd=root)


@pytest.mark.slow  # compiles the SVR kernels in a fresh process (~20-60 s on a busy machine)
def test_nothing_writable_runs_uncached_with_one_warning_line(read_only_install):
    root, site = read_only_install
    locked = root / "locked"
    locked.mkdir(mode=0o555)
    os.chmod(locked, 0o555)
    proc = run(root, site, home=locked, tmpdir=locked)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no writable folder for Numba's cache" in lines[0], proc.stderr
    assert len(proc.stdout.splitlines()) == 1


@pytest.mark.slow
def test_read_only_install_caches_in_the_user_cache_folder(read_only_install):
    root, site = read_only_install
    home = root / "home"
    home.mkdir()
    os.chmod(home, 0o777)
    first = run(root, site, home=home, tmpdir=home)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    cached = list((home / ".cache" / "nnlite").rglob("*.nbi"))
    assert cached, "nothing cached under HOME/.cache/nnlite"
    assert not list(site.rglob("*.nbi")), "cache files written into the installed package"
    second = run(root, site, home=home, tmpdir=home)
    assert second.returncode == 0 and second.stdout == first.stdout


CALLER = ("import sys\n"
          "from nnlite import _numba_cache\n"
          "_numba_cache.register(sys.argv[1])\n"
          "sys.path.insert(0, sys.argv[1])\n"
          "import caller\n"
          "print(caller.f())\n")


@pytest.mark.slow  # two fresh processes compile two tiny kernels
def test_a_changed_callee_in_another_file_recompiles_its_caller(tmp_path):
    # Numba stamps a cached kernel with its own file only; the callee's machine code is inlined in the caller's
    # entry, so a stale entry would go on returning the old callee's answer
    (tmp_path / "callee.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef g():\n    return 1\n")
    (tmp_path / "caller.py").write_text("from numba import njit\nfrom callee import g\n\n"
                                        "@njit(cache=True)\ndef f():\n    return g() + 10\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(SRC)

    def answer():
        done = subprocess.run([sys.executable, "-c", CALLER, str(tmp_path)], capture_output=True, text=True,
                              env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert answer() == "11"
    assert list((tmp_path / "__pycache__").glob("caller.f-*.nbi"))   # cached beside the sources
    (tmp_path / "callee.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef g():\n    return 2\n")
    assert answer() == "12"
