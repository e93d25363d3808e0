"""The package installs like one: the wheel and sdist build offline, and the wheel, installed into a fresh
virtualenv and run from another folder, provides ``ccle`` and ``python -m ccle`` that run ``benchmark --quick``."""
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest
import setuptools

import ccle
import nnlite

REPO = Path(__file__).resolve().parents[1]


def test_one_version():
    assert nnlite.__version__ == ccle.__version__


def _can_build_wheels():
    major_minor = tuple(int(x) for x in setuptools.__version__.split(".")[:2])
    return importlib.util.find_spec("wheel") is not None or major_minor >= (70, 1)


def run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def clean_env(tmp_path):
    """No PYTHONPATH (the install must stand alone); caches in tmp_path, not in the user's home."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"))
    return env


# build artifacts, caches and local state: never part of what is built
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.py[cod]",
                                     "*.nbi", "*.nbc", ".pytest_cache", ".benchmarks", ".hypothesis", "results",
                                     ".ccle_cache")


def source_copy(tmp_path):
    """A copy of the checkout's source files to build from: setuptools writes ``build/`` and
    ``src/*.egg-info`` beside the sources, and those must not land in the developer's tree."""
    return Path(shutil.copytree(REPO, tmp_path / "source", ignore=_NOT_SOURCE))


def build_and_install(tmp_path):
    """Build the wheel (offline, from :func:`source_copy`) and install it without dependencies into a new venv
    that sees this interpreter's site-packages for numpy & co. Returns the venv's bin folder."""
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", dist, source_copy(tmp_path)], cwd=tmp_path)
    wheel, = dist.glob("nnlite_ccle-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    deps = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (purelib / "zz_dependencies.pth").write_text("".join(f"{p}\n" for p in deps))
    # --ignore-installed: never uninstall the developer's own (editable) copy seen through the .pth
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps",
         "--no-index", "--ignore-installed", wheel], cwd=tmp_path)
    return venv / "bin"


@pytest.mark.slow
@pytest.mark.skipif(not _can_build_wheels(), reason="building a wheel offline needs the 'wheel' package "
                    "(pip install -e '.[test]') or setuptools >= 70.1")
def test_wheel_installs_and_runs_the_quick_benchmark(tmp_path):
    before = sorted(os.listdir(REPO / "src")), (REPO / "build").exists()
    bin_dir = build_and_install(tmp_path)
    assert (sorted(os.listdir(REPO / "src")), (REPO / "build").exists()) == before  # the checkout is untouched
    env = clean_env(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run([bin_dir / "python", "-c", "import ccle, nnlite; print(ccle.__file__); print(nnlite.__file__)"],
                cwd=elsewhere, env=env).stdout.split()
    assert all(path.startswith(str(tmp_path / "venv")) for path in where), where
    run([bin_dir / "python", "-m", "ccle", "--help"], cwd=elsewhere, env=env)
    proc = run([bin_dir / "ccle", "benchmark", "--quick", "--out", elsewhere / "out"], cwd=elsewhere, env=env)
    assert (elsewhere / "out" / "results.jsonl").stat().st_size > 0, proc.stdout
    assert (elsewhere / "out" / "report.md").is_file()
    assert "known_marker" in (elsewhere / "out" / "genes.csv").read_text().splitlines()[0]  # markers.csv shipped
    # nnlite's Numba cache went to the user cache folder, not into the installed package (ccle's own GCT kernel
    # opts in with nnlite._numba_cache.register, not done yet)
    package = Path(where[1]).parent
    assert not list(package.rglob("*.nbi")), "Numba cache files inside the installed nnlite package"
    assert list((tmp_path / "home" / ".cache").rglob("*.nbi"))


@pytest.mark.slow
def test_sdist_holds_cli_license_and_tests(tmp_path):
    code = ("import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))")
    name = run([sys.executable, "-c", code, tmp_path], cwd=source_copy(tmp_path)).stdout.split()[-1]
    with tarfile.open(tmp_path / name) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"cli.py", "LICENSE", "README.md", "setup.cfg", "src/ccle/__main__.py", "src/ccle/cli/__init__.py",
            "src/nnlite/base.py"} <= names
    assert not [n for n in names if n.endswith((".nbi", ".nbc", ".pyc"))]
