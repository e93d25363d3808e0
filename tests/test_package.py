"""The package skeleton: lazy public names and the command line's error contract."""
import subprocess
import sys
from pathlib import Path

import pytest

import nnlite

REPO = Path(__file__).resolve().parents[1]


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        nnlite.no_such_thing


def test_every_export_names_a_module_inside_nnlite():
    for name, module in nnlite._EXPORTS.items():
        assert module.startswith("nnlite."), name


@pytest.mark.slow
def test_cli_unknown_command_exits_nonzero():
    proc = subprocess.run([sys.executable, str(REPO / "cli.py"), "no-such-command"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "invalid choice" in proc.stderr


def test_every_export_resolves():
    """Each public name in the lazy table is defined by the module the table names."""
    for name in nnlite._EXPORTS:
        assert getattr(nnlite, name) is not None, name
