"""Resident memory stays flat over long loops, and oversized requests raise MemoryError.

The loops run the operations a long training job repeats: optimizer steps,
fits, LIBSVM and model-file loads. After a warm-up (allocator pools, caches of
NumPy and of the kernels), resident memory, open file descriptors and memory
mappings must not grow with the number of iterations.
"""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

import fastopt.optim
from fastopt.datasets import dump_svmlight, load_svmlight
from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.metrics import confusion_matrix
from fastopt.model_file import load_model, save_model

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")

# Growth allowed between the warm-up and the end of a loop. A leak of one small
# object (64 bytes) per iteration over 90,000 steps is 5.5 MiB, and one leaked
# copy of the fit's 40 KB design matrix per fit is 35 MiB over 900 fits.
RSS_BOUND = 4 << 20
SANITIZED = os.environ.get("FASTOPT_SANITIZED") == "1"


def resources():
    """Return (resident bytes, open descriptors, memory mappings) of this process."""
    gc.collect()
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    fds = len(os.listdir("/proc/self/fd"))
    with open("/proc/self/maps") as f:
        maps = sum(1 for _ in f)
    return resident, fds, maps


def assert_flat(before, after, what):
    grown = after[0] - before[0]
    assert grown <= RSS_BOUND, f"{what}: resident memory grew by {grown / 2**20:.1f} MiB"
    assert after[1] <= before[1], f"{what}: open file descriptors {before[1]} -> {after[1]}"
    # A few mappings come and go with the allocator's arenas; a leaked mapping per
    # iteration would add hundreds.
    assert after[2] <= before[2] + 16, f"{what}: memory mappings {before[2]} -> {after[2]}"


def run_loop(body, total, warmup, what):
    for i in range(warmup):
        body(i)
    before = resources()
    for i in range(warmup, total):
        body(i)
    assert_flat(before, resources(), what)


@pytest.mark.skipif(SANITIZED, reason="ASan's quarantine holds freed memory; the loop is for the plain build")
def test_optimizer_steps_flat():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(257), rng.standard_normal((8, 9))]
    grads = [rng.standard_normal(p.shape) for p in params]
    opt = fastopt.optim.Adam(params, lr=1e-4, weight_decay=1e-3)
    run_loop(lambda i: opt.step(grads), 100_000, 10_000, "100,000 Adam steps")
    assert opt.state[id(params[0])]["step"] == 100_000


@pytest.mark.skipif(SANITIZED, reason="ASan's quarantine holds freed memory; the loop is for the plain build")
def test_fits_flat():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 10))
    y = (X @ rng.standard_normal(10) > 0).astype(int)

    def fit(i):
        model = LogisticRegression(alpha=1e-3) if i % 2 else Ridge(alpha=1.0)
        model.fit(X, y)

    run_loop(fit, 1000, 100, "1,000 fits")


@pytest.mark.skipif(SANITIZED, reason="ASan's quarantine holds freed memory; the loop is for the plain build")
def test_file_loads_flat(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 20))
    X[X < 0.5] = 0.0
    y = rng.integers(0, 2, 300)
    svm = tmp_path / "data.svm"
    dump_svmlight(X, y, svm)
    model_path = tmp_path / "model.npz"
    save_model(LogisticRegression().fit(X, y), model_path)

    def load(i):
        X_loaded, _ = load_svmlight(svm, n_features=20)
        assert X_loaded.shape == (300, 20)
        if i % 5 == 0:
            load_model(model_path)
        if i % 7 == 0:
            with pytest.raises(ValueError):
                load_svmlight(tmp_path / "bad.svm")

    (tmp_path / "bad.svm").write_bytes(b"1 1:1\n1 3:1 2:1\n")
    run_loop(load, 1000, 100, "1,000 LIBSVM loads, 200 model loads and 140 failed loads")


# --- requests larger than the machine -----------------------------------------------

def _machine_bytes():
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_confusion_matrix_too_large_raises():
    # 2**20 labels ask for a 2**40-entry matrix (8 TiB); the message gives the size.
    labels = np.arange(1 << 20)
    with pytest.raises(MemoryError, match=r"TiB|bytes"):
        confusion_matrix([0, 1], [1, 0], labels=labels)


def test_confusion_counts_beyond_machine_raise():
    # One label per sample: the counts matrix alone fits in memory, but the kernel
    # writes it and a partial matrix of the same size in full, 1.5 times the machine's
    # memory. That must be refused before any page is touched, not end in the OOM killer.
    side = int(np.sqrt(0.75 * _machine_bytes() / 8))
    y = np.arange(side)
    with pytest.raises(MemoryError, match=r"confusion counts: cannot allocate \d+ bytes"):
        confusion_matrix(y, y)
