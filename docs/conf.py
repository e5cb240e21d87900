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

