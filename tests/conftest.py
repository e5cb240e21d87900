"""Fixtures shared by fastopt's tests."""

import pytest

import fastopt
from fastopt import _core


@pytest.fixture(autouse=True)
def restore_threads_and_isa():
    """Restore fastopt's thread count and instruction set after each test that changes them."""
    threads = fastopt.get_num_threads()
    isa = fastopt.active_isa()
    yield
    fastopt.set_num_threads(threads)
    _core.select_isa(isa)
