#!/usr/bin/env bash
# Build the documentation with warnings as errors, then run every example in it.
#   FASTOPT_DATA_DIR=/path/to/data bash docs/build.sh
# numpydoc's validation checks every public docstring first. The HTML build also runs the
# gallery scripts. The doctest builder then runs the ">>>" examples of the user guide and of
# the docstrings, reusing the parsed pages.
set -euo pipefail
cd "$(dirname "$0")"
python check_docstrings.py
python -m sphinx -W --keep-going -b html -d _build/doctrees . _build/html
python -m sphinx -W --keep-going -b doctest -d _build/doctrees . _build/doctest
