"""Sphinx configuration of the fastopt documentation.

Build the site with ``bash docs/build.sh``: an HTML build, then a doctest run over the same
pages, both with warnings as errors.
"""

import os

import fastopt

project = "fastopt"
author = "fastopt developers"
copyright = "2026, fastopt developers"
release = fastopt.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "gallery/*.py", "gallery/*.md5",
                    "gallery/*.json", "gallery/*.zip"]
templates_path = ["_templates"]

# MyST: ``$...$`` math and ``:::`` fences in the markdown pages.
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# The API pages are generated from the docstrings; ``__all__`` of each module decides what
# is public, including names that the module imports from its private files.
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"

# numpydoc renders Parameters/Returns/Raises; the class template lists the methods itself,
# so numpydoc's own member tables (which need a stub page per method) stay off.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

# The doctest builder runs every ``>>>`` example: the user guide's and the docstrings'.
# Examples that read the LIBSVM files find them through FASTOPT_DATA_DIR, as the tests do.
_REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
doctest_global_setup = f"""
import os
import numpy as np
import fastopt
np.set_printoptions(precision=4, suppress=True)
EXAMPLES_DIR = {os.path.join(_REPOSITORY, "examples")!r}
DATA_DIR = os.environ.get("FASTOPT_DATA_DIR", "")
if not os.path.isdir(DATA_DIR):
    raise RuntimeError(
        f"FASTOPT_DATA_DIR={{DATA_DIR!r}} is not a directory; set it to the folder with "
        "heart_scale and a9a (the LIBSVM data sets) before running the doctests")
"""

# The gallery scripts read a9a from FASTOPT_DATA_DIR and the benchmark results from
# benchmarks/results; they run during the HTML build.
sphinx_gallery_conf = {
    "examples_dirs": os.path.join("..", "examples", "gallery"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = f"fastopt {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []


def _join_continued_lines(app, what, name, obj, options, lines):
    """Join docstring lines that end in a backslash.

    In a raw docstring (``r\"\"\"...\"\"\"``) a backslash before the newline stays in the text
    instead of joining the lines, so a long numpydoc type line wrapped that way would render
    as a broken definition list. A LaTeX line break (two backslashes) is left alone.
    """
    i = 0
    while i < len(lines) - 1:
        line = lines[i]
        if line.endswith("\\") and not line.endswith("\\\\"):
            lines[i] = line[:-1] + lines.pop(i + 1).lstrip()
        else:
            i += 1


# NOTE: two docstrings outside the documented modules' reach make docutils fail: a period
# inside a literal cuts autosummary's one-line summary of LinearRegression, and ``|z_j|``
# reads as a substitution. Each entry rewrites the rendered text only; delete it once the
# docstring itself is fixed.
_RENDERING_FIXES = {
    "fastopt.linear_model.LinearRegression": [("(x_i . coef", "(x_i @ coef")],
    "fastopt.online.FTRLProximal.coef_": [("where |z_j| <= l1", "where ``|z_j| <= l1``")],
}


def _apply_rendering_fixes(app, what, name, obj, options, lines):
    for old, new in _RENDERING_FIXES.get(name, ()):
        lines[:] = [line.replace(old, new) for line in lines]


def setup(app):
    # Before numpydoc (priority 500) parses the sections.
    app.connect("autodoc-process-docstring", _join_continued_lines, priority=100)
    app.connect("autodoc-process-docstring", _apply_rendering_fixes, priority=100)
