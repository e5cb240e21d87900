"""Threads, instruction-set dispatch and the installed C++ headers and CMake package."""

from __future__ import annotations

import os

from fastopt import _core


def get_num_threads() -> int:
    """Return the number of threads fastopt's kernels use."""
    return _core.get_num_threads()


def set_num_threads(num_threads: int) -> None:
    """Set the number of threads fastopt's kernels use.

    Results do not depend on this setting: element-wise updates are exact per
    element and reductions combine fixed blocks in a fixed order. The default
    is what the OpenMP runtime offers (``OMP_NUM_THREADS`` or the core count).
    """
    _core.set_num_threads(num_threads)


def openmp_enabled() -> bool:
    """Return whether the extension was built with OpenMP."""
    return _core.openmp_enabled()


def active_isa() -> str:
    """Return the instruction set of the kernels in use.

    One of ``"baseline"``, ``"avx2"`` or ``"avx512"``, chosen at import from
    what the CPU supports; the environment variable ``FASTOPT_ISA`` caps it.
    """
    return _core.active_isa()


def available_isas() -> list[str]:
    """Return the instruction sets compiled in and supported by this CPU."""
    return list(_core.available_isas())


def get_include() -> str:
    """Return the directory of fastopt's C++ headers (``fastopt/rules/*.hpp``)."""
    return os.path.join(os.path.dirname(__file__), "include")


def get_cmake_dir() -> str:
    """Return the directory of fastopt's CMake package file (``fastoptConfig.cmake``).

    Pass it as ``-Dfastopt_DIR=...`` so that ``find_package(fastopt)`` defines
    the INTERFACE target ``fastopt::headers`` over :func:`get_include`.
    """
    return os.path.join(os.path.dirname(__file__), "share", "cmake", "fastopt")
