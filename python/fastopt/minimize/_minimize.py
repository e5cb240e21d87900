"""``fastopt.minimize.minimize``: the entry point, its options and input checks."""

from __future__ import annotations

import numbers

import numpy as np

from fastopt.minimize._bounds import parse_bounds
from fastopt.minimize._driver import Settings, run
from fastopt.minimize._lbfgs import LBFGSDirection
from fastopt.minimize._objective import Objective
from fastopt.minimize._state import LBFGSState, check_history_size

METHODS = ("lbfgs",)
LINE_SEARCHES = ("more-thuente", "armijo")

#: Default options of method="lbfgs".
DEFAULT_OPTIONS = {
    "history_size": 10,
    "gtol": 1e-5,
    "ftol": 2.220446049250313e-09,
    "maxiter": 15000,
    "maxfun": 15000,
    "max_linesearch": 20,
    "line_search": "more-thuente",
    "initial_step": None,
    "state": None,
}


def minimize(fun, x0, jac=None, method="lbfgs", bounds=None, options=None, callback=None, *,
             state=None):
    r"""Minimize a smooth function of a 1-D array with L-BFGS, optionally within box bounds.

    Each iteration computes the search direction :math:`d_k = -H_k g_k` by the L-BFGS
    recursion over the last ``history_size`` pairs :math:`s_i = x_{i+1} - x_i`,
    :math:`y_i = g_{i+1} - g_i` (Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006,
    Algorithm 7.4), with :math:`H_k^0 = \gamma_k I`, :math:`\gamma_k = s^\top y / y^\top y`
    of the newest pair. The compiled kernel evaluates it in the compact form of Byrd,
    Nocedal & Schnabel (1994), reading the history twice per iteration. A line search then
    sets :math:`x_{k+1} = x_k + \alpha_k d_k` (projected onto the bounds). A pair is stored
    only if :math:`s^\top y > \epsilon\, y^\top y`, with :math:`\epsilon` the machine epsilon of
    the dtype, and rejected pairs are counted in ``nskipped``.

    With ``bounds`` the method is a projected two-metric L-BFGS (Bertsekas, 1982), not the
    Cauchy-point and subspace minimization of L-BFGS-B: variables at a bound whose gradient
    points outward take a scaled steepest descent step that the projection stops at the
    bound, and the L-BFGS matrix acts on the others. Every evaluated point, line-search
    trials included, is the projection :math:`P(x_k + \alpha d_k)` onto the box. With bounds
    the line search runs along this piecewise linear path.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> f``, or ``fun(x) -> (f, g)`` with ``jac=True``. ``x`` is a read-only
        float array that fastopt reuses after the call, so copy it to keep it. ``f`` must be a
        real scalar; ``g`` an array of shape ``(n,)``, converted to the dtype of ``x0``.
    x0 : array_like, shape (n,)
        Finite starting point. float32 keeps the whole run, history and kernel included, in
        float32 (inner products accumulate in float64); anything else runs in float64.
    jac : True or callable
        ``True`` when ``fun`` returns ``(f, g)``, or ``jac(x) -> g``. Required: there is no
        finite-difference fallback.
    method : {"lbfgs"}
        Only L-BFGS is implemented.
    bounds : (n, 2) array_like or sequence of (low, high), optional
        ``None`` or an infinity for an unbounded side. ``x0`` is projected onto the box.
    options : dict, optional
        history_size : int, default 10
            Number of pairs kept, in [1, 256].
        gtol : float, default 1e-5
            Stop when the projected gradient's inf-norm :math:`\|P(x - g) - x\|_\infty`
            (:math:`\|g\|_\infty` without bounds) is <= gtol.
        ftol : float, default 2.220446049250313e-09
            Stop when :math:`(f_k - f_{k+1}) / \max(|f_k|, |f_{k+1}|, 1) \le` ftol, SciPy's
            L-BFGS-B test. In float32 the value used is at least the float32 epsilon
            (1.19e-7), because smaller relative changes of f are rounding.
        maxiter : int, default 15000
            Maximum number of iterations (accepted steps).
        maxfun : int, default 15000
            Maximum number of evaluations of ``fun``, enforced inside line searches.
        max_linesearch : int, default 20
            Maximum number of trial points per line search.
        line_search : {"more-thuente", "armijo"}, default "more-thuente"
            Strong Wolfe search of More & Thuente (1994) with c1 = 1e-4, c2 = 0.9, or
            backtracking until the Armijo condition holds (c1 = 1e-4).
        initial_step : float, optional
            Step length of the first iteration along :math:`-g_0` (and along
            :math:`-\gamma g_0` on a warm start with an empty history). The default,
            :math:`1 / \|g_0\|_2`, makes the first trial move x by a distance of 1, as
            L-BFGS-B does. Later iterations try the step 1.
        state : LBFGSState, optional
            Same as the ``state`` keyword.
    callback : callable, optional
        Called after every iteration as ``callback(intermediate_result)`` when its only
        parameter has that name (an OptimizeResult with x, fun, jac and nit), otherwise as
        ``callback(x)``. Returning True or raising StopIteration stops the run.
    state : LBFGSState, optional
        History to start from and to update in place, for warm starts. Its ``n``, dtype and
        ``history_size`` must match the run. Without it a fresh state is used.

    Returns
    -------
    scipy.optimize.OptimizeResult
        x, fun, jac : the best accepted iterate, its value and its gradient (always from the
            same evaluation, also when a budget runs out inside a line search).
        nit, nfev, njev : iterations and evaluations of ``fun`` and of the gradient.
        status : int, a :class:`fastopt.minimize.Status` value; success : bool, True for
            GTOL, FTOL and PRECISION_FLOOR; message : str, quoting the limit that applied.
        hess_inv : LBFGSInverseHessian, a LinearOperator applying :math:`H` including
            :math:`\gamma`.
        nskipped : int, pairs rejected by the curvature test. nreset : int, history resets
            after a stalled line search.

    Raises
    ------
    ValueError
        For an ``x0`` that is not a finite 1-D real array, invalid bounds or options, a
        missing gradient, or ``fun``/``jac`` returning the wrong type or shape.

    Notes
    -----
    A trial point where f or g is not finite shrinks the step toward the current iterate.
    When the line search finds no acceptable step along the L-BFGS direction, the history is
    dropped and steepest descent tried once; if that fails too the run stops with status
    PRECISION_FLOOR (every trial value was within rounding of f, ``success=True``) or
    LINE_SEARCH_FAILED. An objective that is not finite at ``x0`` gives status NOT_FINITE.

    References
    ----------
    J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed., Springer, 2006.
    R. H. Byrd, J. Nocedal and R. B. Schnabel, Representations of quasi-Newton matrices and
    their use in limited memory methods, Math. Programming 63, 1994.
    J. J. More and D. J. Thuente, Line search algorithms with guaranteed sufficient decrease,
    ACM Trans. Math. Software 20(3), 1994.
    D. P. Bertsekas, Projected Newton methods for optimization problems with simple
    constraints, SIAM J. Control Optim. 20(2), 1982.
    """
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    x0 = _check_x0(x0)
    opts = _check_options(options)
    if state is not None and opts["state"] is not None and state is not opts["state"]:
        raise ValueError("state: given both as a keyword and in options; pass it once")
    state = state if state is not None else opts["state"]
    n = x0.size
    if state is None:
        state = LBFGSState(n, opts["history_size"], x0.dtype)
    else:
        _check_state(state, n, x0.dtype, options, opts["history_size"])
    feasible = parse_bounds(bounds, n, x0.dtype)
    objective = Objective(fun, jac, n, x0.dtype, opts["maxfun"])
    if callback is not None and not callable(callback):
        raise ValueError(f"callback: expected a callable or None, got {type(callback).__name__}")
    settings = Settings(gtol=opts["gtol"], ftol=opts["ftol"], maxiter=opts["maxiter"],
                        maxfun=opts["maxfun"], max_linesearch=opts["max_linesearch"],
                        line_search=opts["line_search"], initial_step=opts["initial_step"])
    return run(objective, x0, LBFGSDirection(state), feasible, settings, callback)


def _check_x0(x0) -> np.ndarray:
    try:
        arr = np.asarray(x0)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a bad x0
        raise ValueError(f"x0: expected a 1-D array of real numbers, got {type(x0).__name__} "
                         f"({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"x0: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("x0: expected at least one variable, got shape (0,)")
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"x0: expected real numbers, got dtype {arr.dtype}")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    x = np.array(arr, dtype=dtype)
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"x0: expected finite values, got x0[{bad[0]}] = {x[bad[0]]!r}")
    return x


def _check_int(name, value, low) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral,)):
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _check_float(name, value, *, positive=False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    x = float(value)
    if not (x > 0.0 if positive else x >= 0.0) or not np.isfinite(x):
        raise ValueError(
            f"{name}: expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return x


def _check_options(options) -> dict:
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ValueError(f"options: expected a dict, got {type(options).__name__}")
    unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
    if unknown:
        raise ValueError(f"options: unknown option(s) {unknown}; valid options are "
                         f"{sorted(DEFAULT_OPTIONS)}")
    opts = dict(DEFAULT_OPTIONS, **options)
    opts["history_size"] = check_history_size(opts["history_size"])
    opts["gtol"] = _check_float("gtol", opts["gtol"])
    opts["ftol"] = _check_float("ftol", opts["ftol"])
    opts["maxiter"] = _check_int("maxiter", opts["maxiter"], 0)
    opts["maxfun"] = _check_int("maxfun", opts["maxfun"], 1)
    opts["max_linesearch"] = _check_int("max_linesearch", opts["max_linesearch"], 1)
    if opts["line_search"] not in LINE_SEARCHES:
        raise ValueError(
            f"line_search: expected one of {LINE_SEARCHES}, got {opts['line_search']!r}")
    if opts["initial_step"] is not None:
        opts["initial_step"] = _check_float("initial_step", opts["initial_step"], positive=True)
    if opts["state"] is not None and not isinstance(opts["state"], LBFGSState):
        raise ValueError(f"state: expected an LBFGSState, got {type(opts['state']).__name__}")
    return opts


def _check_state(state, n, dtype, options, history_size) -> None:
    if not isinstance(state, LBFGSState):
        raise ValueError(f"state: expected an LBFGSState, got {type(state).__name__}")
    if state.n != n:
        raise ValueError(f"state: made for n={state.n} variables, but x0 has {n}")
    if state.dtype != dtype:
        raise ValueError(f"state: has dtype {state.dtype}, but x0 runs in {np.dtype(dtype)}")
    if options and "history_size" in options and state.history_size != history_size:
        raise ValueError(f"history_size: {history_size} differs from the state's "
                         f"history_size={state.history_size}")
