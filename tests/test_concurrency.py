"""Kernels called from several Python threads at once, and objects shared between threads.

The kernels release the GIL, so these tests run them truly in parallel. Calls on
separate arrays must give the bytes of sequential calls. When threads share one
optimizer or estimator and change it, all but one of them get RuntimeError
(fastopt._exclusive). Read-only methods of a fitted model run in parallel.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

import fastopt.optim
import fastopt.optim.functional as F
import fastopt.prox
from fastopt._exclusive import exclusive
from fastopt.datasets import dump_svmlight, load_svmlight
from fastopt.linear_model import LogisticRegression
from fastopt.metrics import roc_auc_score
from fastopt.online import SGDClassifier
from helpers import assert_bitwise_equal

THREADS = 4
# Large enough that each call spends most of its time in the kernel with the GIL released.
SIZE = 200_003


def _run_parallel(jobs):
    """Run the callables of ``jobs`` on THREADS threads, started together; return their results."""
    barrier = threading.Barrier(len(jobs))

    def start(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(start, jobs))


def _adam_job(seed):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(SIZE)
    m, v = np.zeros(SIZE), np.zeros(SIZE)

    def job():
        for t in range(1, 6):
            grad = np.sin(param * t)
            F.adam([param], [grad], [m], [v], step=t, lr=1e-2, weight_decay=1e-3)
        return param, m, v

    return job


def test_adam_threads_match_sequential():
    parallel = _run_parallel([_adam_job(seed) for seed in range(THREADS)])
    sequential = [_adam_job(seed)() for seed in range(THREADS)]
    for k, (got, expected) in enumerate(zip(parallel, sequential)):
        for name, a, b in zip(("param", "exp_avg", "exp_avg_sq"), got, expected):
            assert_bitwise_equal(a, b, f"thread {k}: {name}")


def _prox_job(seed):
    x = np.random.default_rng(seed).standard_normal(SIZE).astype(np.float32)

    def job():
        out = fastopt.prox.elastic_net(x.copy(), 0.3, 0.2, step=0.5)
        return fastopt.prox.project_box(out, -0.5, 0.25)

    return job


def test_prox_threads_match_sequential():
    parallel = _run_parallel([_prox_job(seed) for seed in range(THREADS)])
    for k, got in enumerate(parallel):
        assert_bitwise_equal(got, _prox_job(k)(), f"thread {k}")


def _auc_job(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, SIZE)
    scores = rng.standard_normal(SIZE) + y
    return lambda: roc_auc_score(y, scores)


def test_roc_auc_threads_match_sequential():
    parallel = _run_parallel([_auc_job(seed) for seed in range(THREADS)])
    assert parallel == [_auc_job(seed)() for seed in range(THREADS)]


def _svmlight_file(tmp_path, seed):
    rng = np.random.default_rng(seed)
    X = sp.random(3000, 50, density=0.2, random_state=seed, format="csr")
    y = rng.integers(0, 2, 3000)
    path = tmp_path / f"part{seed}.svm"
    dump_svmlight(X, y, path)
    return path


def test_svmlight_threads_match_sequential(tmp_path):
    paths = [_svmlight_file(tmp_path, seed) for seed in range(THREADS)]
    parallel = _run_parallel([lambda p=p: load_svmlight(p, n_features=50) for p in paths])
    for k, ((X, y), path) in enumerate(zip(parallel, paths)):
        X_seq, y_seq = load_svmlight(path, n_features=50)
        assert (X != X_seq).nnz == 0, f"thread {k}: X"
        assert_bitwise_equal(y, y_seq, f"thread {k}: y")


def _fit_job(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2000, 20))
    y = (X @ rng.standard_normal(20) > 0).astype(int)
    return lambda: LogisticRegression(alpha=1e-3, tol=1e-10).fit(X, y).coef_


def test_fits_threads_match_sequential():
    parallel = _run_parallel([_fit_job(seed) for seed in range(THREADS)])
    for k, got in enumerate(parallel):
        assert_bitwise_equal(got, _fit_job(k)(), f"thread {k}")


# --- one object shared between threads -------------------------------------------

def _held_elsewhere(obj, action, call):
    """Return the exception that ``call`` raises while another thread owns ``obj``."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with exclusive(obj, action):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(RuntimeError, match="in use by another thread") as info:
            call()
    finally:
        release.set()
        holder.join()
    return info.value


def test_shared_optimizer_step_raises():
    param = np.ones(10)
    opt = fastopt.optim.SGD([param], lr=0.1)
    error = _held_elsewhere(opt, "step", lambda: opt.step([np.ones(10)]))
    assert "SGD.step" in str(error)
    np.testing.assert_array_equal(param, np.ones(10))  # the rejected step wrote nothing
    opt.step([np.ones(10)])  # free again once the other thread is done
    np.testing.assert_allclose(param, np.full(10, 0.9))


def test_shared_estimator_fit_raises():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    model = LogisticRegression()
    error = _held_elsewhere(model, "fit", lambda: model.fit(X, y))
    assert "LogisticRegression.fit" in str(error)
    assert not hasattr(model, "coef_")
    online = SGDClassifier()
    _held_elsewhere(online, "partial_fit", lambda: online.partial_fit(X, y, classes=[0, 1]))


def test_nested_guard_same_thread():
    # fit calls partial_fit on the same instance; the owning thread may re-enter.
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    model = SGDClassifier(max_iter=3)
    with exclusive(model, "fit"):
        model.fit(X, y)
    assert model.coef_.shape == (1, 1)


def test_shared_optimizer_stress():
    # Every step either runs alone or raises; the parameters then equal as many
    # sequential steps as succeeded, bit for bit (SGD with a constant gradient).
    param = np.zeros(SIZE)
    opt = fastopt.optim.SGD([param], lr=0.5)
    grad = np.full(SIZE, 1.0 / 1024)
    done = []

    def job():
        count = 0
        for _ in range(50):
            try:
                opt.step([grad])
                count += 1
            except RuntimeError as exc:
                assert "in use by another thread" in str(exc)
        done.append(count)

    _run_parallel([job] * THREADS)
    expected = np.zeros(SIZE)
    for _ in range(sum(done)):
        expected -= 0.5 * grad
    assert_bitwise_equal(param, expected, f"after {sum(done)} successful steps")


def test_shared_fitted_model_predicts_in_parallel():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((SIZE // 10, 10))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    parallel = _run_parallel([lambda: model.predict_proba(X)] * THREADS)
    expected = model.predict_proba(X)
    for k, got in enumerate(parallel):
        assert_bitwise_equal(got, expected, f"thread {k}")
