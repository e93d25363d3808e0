"""Sphinx configuration of the nnlite + ccle documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` from the checkout root (``pip install -e ".[docs]"``).
"""
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE / "_ext"))
# the command modules set BLAS thread counts at import; the docs only read their parsers
os.environ.setdefault("OMP_NUM_THREADS", "1")

import ccle  # noqa: E402

project = "nnlite + ccle"
author = "the nnlite + ccle authors"
copyright = "the nnlite + ccle authors, MIT licence"
version = release = ccle.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
    "cli_options",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
highlight_language = "none"

# API pages: one generated page per listed object (docs/api/*.rst list them)
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# every documented nnlite object must say what its parameters are and what it returns
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "SS01", "RT01"}
numpydoc_validation_exclude = {r"^ccle\.", r"\.__init__$", r"\._[a-z]", r"\.get_params$", r"\.set_params$",
                               r"\.score$", r"\.__repr__$", r"\.__sklearn_tags__$"}



html_theme = "pydata_sphinx_theme"
html_title = f"nnlite + ccle {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
# the guide pages have no sub-pages: no empty "Section Navigation" column beside them
html_sidebars = {"*": [], "api/**": ["sidebar-nav-bs"]}
html_context = {"default_mode": "light"}

doctest_global_setup = "import numpy as np"


# A bare ``name_`` in a docstring (a fitted attribute written without backticks) is a hyperlink reference in
# reStructuredText; show it as code instead.
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w`*:/.-])([A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]_)(?![\w`])")


def _quote_fitted_attributes(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        parts = _LITERAL.split(line)
        lines[i] = "".join(p if j % 2 else _TRAILING_UNDERSCORE.sub(r"``\1``", p) for j, p in enumerate(parts))


def setup(app):
    app.connect("autodoc-process-docstring", _quote_fitted_attributes)
