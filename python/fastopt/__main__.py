"""Run the ``fastopt`` command as ``python -m fastopt``."""

from fastopt.cli import main

raise SystemExit(main())
