"""Fixtures shared by fastopt's tests."""

import os

import pytest

import fastopt
from fastopt import _core

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the property tests skip themselves without hypothesis
    settings = None

if settings is not None:
    # "ci" keeps the property tests to about a minute and makes them repeatable (a fixed
    # seed, no example database); "long" searches far more widely, with fresh random
    # examples each run: HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py
    settings.register_profile(
        "ci", max_examples=30, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("long", max_examples=1000, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def restore_threads_and_isa():
    """Restore fastopt's thread count and instruction set after each test that changes them."""
    threads = fastopt.get_num_threads()
    isa = fastopt.active_isa()
    yield
    fastopt.set_num_threads(threads)
    _core.select_isa(isa)


@pytest.fixture(scope="session")
def data_dir():
    """Directory of the LIBSVM data files, from the FASTOPT_DATA_DIR environment variable.

    Locally the tests that need it are skipped when it is not set; on CI
    (CI=true) a missing directory fails them, so the data cannot go untested
    by accident.
    """
    path = os.environ.get("FASTOPT_DATA_DIR")
    if path and os.path.isdir(path):
        return path
    reason = (
        f"FASTOPT_DATA_DIR={path!r} is not a directory" if path else "FASTOPT_DATA_DIR is not set"
    ) + "; it must point to the LIBSVM files (a9a, a9a.t, mushrooms, heart_scale, news20.bz2)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_file(data_dir):
    """Return the path of a data file, failing (not skipping) when the directory lacks it."""

    def path_of(name: str) -> str:
        path = os.path.join(data_dir, name)
        if not os.path.isfile(path):
            pytest.fail(f"{name} is missing from FASTOPT_DATA_DIR={data_dir}")
        return path

    return path_of
