"""Threads, instruction-set dispatch and the installed C++ headers and CMake package."""

from __future__ import annotations

import os
import warnings

from fastopt import _core


def _warn_ignored_isa() -> None:
    """Warn when ``FASTOPT_ISA`` names no instruction set that this build and CPU offer.

    The dispatcher then keeps its own choice, and a misspelled value would go unnoticed.
    """
    forced = os.environ.get("FASTOPT_ISA")
    offered = _core.available_isas()
    if forced is not None and forced not in offered:
        warnings.warn(f"FASTOPT_ISA={forced!r} is ignored: expected one of {', '.join(offered)}; "
                      f"the kernels use {_core.active_isa()}", RuntimeWarning, stacklevel=2)


_warn_ignored_isa()


def get_num_threads() -> int:
    """Return the number of threads fastopt's kernels use.

    Returns
    -------
    int
        The count set by :func:`set_num_threads`, or the OpenMP default.

    Examples
    --------
    >>> import fastopt
    >>> fastopt.get_num_threads() >= 1
    True
    """
    return _core.get_num_threads()


def set_num_threads(num_threads: int) -> None:
    """Set the number of threads fastopt's kernels use.

    Results do not depend on this setting: element-wise updates are exact per
    element and reductions combine fixed blocks in a fixed order. The default
    is what the OpenMP runtime offers (``OMP_NUM_THREADS`` or the core count).

    Parameters
    ----------
    num_threads : int
        Number of threads for every later kernel call, from 1 to 4096.

    Raises
    ------
    ValueError
        When ``num_threads`` is outside [1, 4096].

    Examples
    --------
    >>> import fastopt
    >>> previous = fastopt.get_num_threads()
    >>> fastopt.set_num_threads(1)
    >>> fastopt.get_num_threads()
    1
    >>> fastopt.set_num_threads(previous)
    """
    _core.set_num_threads(num_threads)


def openmp_enabled() -> bool:
    """Return whether the extension was built with OpenMP.

    Returns
    -------
    bool
        False when the compiler had no OpenMP or the build turned it off
        (``-DFASTOPT_OPENMP=OFF``); the kernels then run on one thread.

    Examples
    --------
    Without OpenMP, :func:`set_num_threads` has no effect:

    >>> import fastopt
    >>> fastopt.openmp_enabled() in (True, False)
    True
    """
    return _core.openmp_enabled()


def active_isa() -> str:
    """Return the instruction set of the kernels in use.

    Returns
    -------
    str
        One of ``"baseline"``, ``"avx2"`` or ``"avx512"``, chosen at import from
        what the CPU supports; the environment variable ``FASTOPT_ISA`` caps it.

    Examples
    --------
    >>> import fastopt
    >>> fastopt.active_isa() in ("baseline", "avx2", "avx512")
    True
    """
    return _core.active_isa()


def available_isas() -> list[str]:
    """Return the instruction sets compiled in and supported by this CPU.

    Returns
    -------
    list of str
        Names as :func:`active_isa` returns them, from the least to the most capable.

    Examples
    --------
    >>> import fastopt
    >>> isas = fastopt.available_isas()
    >>> isas[0], fastopt.active_isa() in isas
    ('baseline', True)
    """
    return list(_core.available_isas())


def get_include() -> str:
    """Return the directory of fastopt's C++ headers (``fastopt/rules/*.hpp``).

    Returns
    -------
    str
        Pass it to the compiler as ``-I``; the headers have no dependencies.

    Examples
    --------
    >>> import os
    >>> import fastopt
    >>> os.path.isfile(os.path.join(fastopt.get_include(), "fastopt", "rules", "adam.hpp"))
    True
    """
    return os.path.join(os.path.dirname(__file__), "include")


def get_cmake_dir() -> str:
    """Return the directory of fastopt's CMake package file (``fastoptConfig.cmake``).

    Pass it as ``-Dfastopt_DIR=...`` so that ``find_package(fastopt)`` defines
    the INTERFACE target ``fastopt::headers`` over :func:`get_include`.

    Returns
    -------
    str
        The directory that holds ``fastoptConfig.cmake``.

    Examples
    --------
    >>> import os
    >>> import fastopt
    >>> os.path.basename(fastopt.get_cmake_dir())
    'fastopt'
    """
    return os.path.join(os.path.dirname(__file__), "share", "cmake", "fastopt")
