"""``minimize_batched``: B independent problems of one size, evaluated together by one call.

Each problem runs the unchanged single-problem solver (:func:`fastopt.minimize.minimize`) in
its own worker thread, with its own history, line search and stopping tests. A worker that
needs ``f`` and ``g`` posts its point and waits. When every unfinished worker waits, the
coordinating thread calls ``fun`` once on all ``B`` rows and hands each worker its row. Only
one thread runs at a time, handing control back and forth, so the results are the same as
``B`` separate runs and the compiled kernels never run concurrently.
"""

from __future__ import annotations

import threading

import numpy as np

from fastopt.minimize._minimize import METHODS, minimize


class _Aborted(BaseException):
    """Unwinds a worker when the batch stops early (an error in ``fun`` or another worker)."""


class _Worker:
    """One problem of the batch, run by :func:`minimize` in a thread."""

    def __init__(self, index: int, batch: _Batch):
        self.index = index
        self.batch = batch
        self.go = threading.Semaphore(0)
        self.result = None
        self.error: BaseException | None = None
        self.pending = False
        self.done = False
        self.thread = threading.Thread(target=self._main, daemon=True,
                                       name=f"fastopt-batch-{index}")

    def evaluate(self, x):
        """Return ``(f_i, g_i)`` at ``x`` for this problem, computed with the whole batch."""
        batch = self.batch
        batch.X[self.index] = x
        self.pending = True
        batch.back.release()
        self.go.acquire()
        if batch.aborted:
            raise _Aborted
        return batch.F[self.index], batch.G[self.index]

    def _main(self):
        self.go.acquire()
        try:
            if not self.batch.aborted:
                self.result = minimize(self.evaluate, self.batch.X0[self.index], jac=True,
                                       **self.batch.kwargs)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised by the coordinating thread
            self.error = exc
        self.done = True
        self.batch.back.release()

    def resume(self):
        """Let this worker run until it waits for an evaluation or finishes."""
        self.pending = False
        self.go.release()
        self.batch.back.acquire()


class _Batch:
    def __init__(self, X0, kwargs):
        self.X0 = X0
        self.X = X0.copy()
        self.F = None
        self.G = None
        self.kwargs = kwargs
        self.aborted = False
        self.back = threading.Semaphore(0)


def minimize_batched(fun, X0, jac=None, method="lbfgs", options=None):
    r"""Minimize B independent functions of n variables whose values are computed together.

    Problem ``i`` minimizes :math:`f_i(x)` from ``X0[i]`` exactly as
    ``fastopt.minimize(lambda x: f_i(x), X0[i], jac=True, method=method, options=options)``
    would: each problem has its own quasi-Newton history, line search and stopping test,
    and its results are identical to a separate run. Only the evaluations are shared. Every
    round calls ``fun`` once on a ``(B, n)`` array whose row ``i`` is the point problem ``i``
    needs next. One vectorized call then serves all problems, for example one matrix product
    for one-vs-rest logistic regression or for a grid of regularization strengths.

    Parameters
    ----------
    fun : callable
        ``fun(X) -> F`` with ``F`` of shape ``(B,)``, or ``fun(X) -> (F, G)`` with ``jac=True``
        and ``G`` of shape ``(B, n)``. ``X`` is a read-only ``(B, n)`` array that fastopt
        reuses after the call. Row ``i`` always belongs to problem ``i``. A problem that has
        already stopped keeps its last point in its row, and its values are ignored.
    X0 : array_like, shape (B, n)
        Finite starting points, one row per problem; float32 runs every problem in float32.
    jac : True or callable
        ``True`` when ``fun`` returns ``(F, G)``, or ``jac(X) -> G``.
    method : {"lbfgs", "owlqn", "bfgs"}
        As in :func:`fastopt.minimize.minimize`.
    options : dict, optional
        As in :func:`fastopt.minimize.minimize`, shared by all problems (``maxiter`` and
        ``maxfun`` count per problem). ``state`` is not accepted: each problem needs its own.

    Returns
    -------
    list of scipy.optimize.OptimizeResult
        One result per problem, in row order, with the fields of
        :func:`fastopt.minimize.minimize`; ``nfev`` counts the rounds in which that problem
        requested a point.

    Raises
    ------
    ValueError
        For an ``X0`` that is not a finite 2-D real array, invalid options, or ``fun``/``jac``
        returning the wrong shape. An exception raised by ``fun`` stops every problem and is
        raised unchanged.

    Notes
    -----
    ``fun`` is called once per round until every problem has stopped, so the number of calls
    is the largest ``nfev`` of the batch. Bounds and callbacks are not supported here.

    Examples
    --------
    Three quadratics :math:`\frac12 \|x - c_i\|^2` solved together:

    >>> import numpy as np
    >>> from fastopt.minimize import minimize_batched
    >>> centers = np.array([[1.0, 2.0], [-1.0, 0.0], [3.0, 3.0]])
    >>> def quadratics(X):
    ...     return 0.5 * ((X - centers) ** 2).sum(axis=1), X - centers
    >>> results = minimize_batched(quadratics, np.zeros((3, 2)), jac=True)
    >>> np.array([r.x for r in results])
    array([[ 1.,  2.],
           [-1.,  0.],
           [ 3.,  3.]])
    """
    X0 = _check_x0(X0)
    if jac is None or jac is False:
        raise ValueError("jac: minimize_batched needs the gradients: pass jac=True when fun "
                         "returns (F, G), or a callable jac(X) returning G")
    if jac is not True and not callable(jac):
        raise ValueError(f"jac: expected True or a callable, got {jac!r}")
    if not callable(fun):
        raise ValueError(f"fun: expected a callable, got {type(fun).__name__}")
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if options is not None and isinstance(options, dict) and options.get("state") is not None:
        raise ValueError("state: minimize_batched keeps one history per problem and takes no "
                         "state; warm-start each problem with fastopt.minimize instead")
    B, n = X0.shape
    batch = _Batch(X0, {"method": method, "options": options})
    workers = [_Worker(i, batch) for i in range(B)]
    X_view = batch.X.view()
    X_view.flags.writeable = False
    try:
        for w in workers:
            w.thread.start()
            w.resume()
            _raise_worker_error(w)
        while True:
            waiting = [w for w in workers if w.pending]
            if not waiting:
                break
            batch.F, batch.G = _evaluate(fun, jac, X_view, B, n)
            for w in waiting:
                w.resume()
                _raise_worker_error(w)
    except BaseException:
        batch.aborted = True
        for w in workers:
            if w.thread.is_alive() and not w.done:
                w.resume()
        raise
    finally:
        for w in workers:
            if w.thread.ident is not None:
                w.thread.join()
    return [w.result for w in workers]


def _raise_worker_error(worker: _Worker) -> None:
    if worker.error is not None:
        error, worker.error = worker.error, None
        raise error


def _evaluate(fun, jac, X, B: int, n: int):
    if jac is True:
        out = fun(X)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ValueError("fun: with jac=True, expected fun(X) to return a pair (F, G), got "
                             f"{type(out).__name__}")
        F, G = out
    else:
        F = fun(X)
        G = jac(X)
    F = np.asarray(F)
    if F.shape != (B,) or F.dtype.kind not in "fiu":
        raise ValueError(f"fun: expected real values of shape ({B},), one per problem, got "
                         f"dtype {F.dtype} and shape {F.shape}")
    G = np.asarray(G)
    if G.shape != (B, n):
        raise ValueError(f"jac: expected gradients of shape ({B}, {n}), got shape {G.shape}")
    # Copies, so that fun may reuse its output buffers in the next round.
    return F.astype(np.float64), np.array(G)


def _check_x0(X0) -> np.ndarray:
    try:
        arr = np.asarray(X0)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a bad X0
        raise ValueError(f"X0: expected a 2-D array (B, n) of real numbers, got "
                         f"{type(X0).__name__} ({exc})") from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"X0: expected a non-empty 2-D array (B, n), got shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"X0: expected real numbers, got dtype {arr.dtype}")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    X = np.array(arr, dtype=dtype)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"X0: expected finite values, got X0[{i}, {j}] = {float(X[i, j])!r}")
    return X
