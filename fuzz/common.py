"""Shared set-up of the atheris fuzz targets in this folder.

Each target is a script: ``python fuzz/<target>.py [libFuzzer options] [corpus dirs]``.
``.ci/fuzz`` builds the seed corpora and runs every target for a fixed time.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

# Files the targets that need a path (the stream reader, the model loader) write their
# input to: one per process, in memory where the system has a tmpfs.
_SCRATCH_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def scratch_path(suffix: str) -> str:
    """Return a per-process scratch file name ending in ``suffix``."""
    return os.path.join(_SCRATCH_DIR, f"fastopt-fuzz-{os.getpid()}{suffix}")


def write_scratch(path: str, data: bytes) -> str:
    with open(path, "wb") as f:
        f.write(data)
    return path


def run(test_one_input) -> None:
    """Start libFuzzer on ``test_one_input`` with the command-line options."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
