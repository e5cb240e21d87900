"""``fastopt.minimize.minimize``: the entry point, its options and input checks."""

from __future__ import annotations

import numbers

import numpy as np

from fastopt import _gpu
from fastopt.callbacks import CallbackRunner, Logs, TrainingLoop, check_callbacks
from fastopt.minimize._bfgs import BFGSDirection
from fastopt.minimize._bounds import parse_bounds
from fastopt.minimize._driver import Settings, _call_callback, _callback_wants_result, run
from fastopt.minimize._gpu_state import GPULBFGSState, GPUOrthant, device_pseudo_gradient
from fastopt.minimize._lbfgs import LBFGSDirection
from fastopt.minimize._objective import Objective
from fastopt.minimize._owlqn import L1Objective, Orthant, check_l1, pseudo_gradient
from fastopt.minimize._state import LBFGSState, check_history_size

METHODS = ("lbfgs", "owlqn", "bfgs")
LINE_SEARCHES = ("more-thuente", "armijo")

#: Default options. ``l1`` applies only to method="owlqn", whose line search is always
#: "armijo", and ``history_size`` and ``state`` do not apply to method="bfgs".
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
    "l1": None,
}


def minimize(fun, x0, jac=None, method="lbfgs", bounds=None, options=None, callback=None, *,
             state=None, callbacks=None):
    r"""Minimize a function of a 1-D array with L-BFGS, OWL-QN (L1) or dense BFGS.

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

    ``method="owlqn"`` minimizes :math:`F(x) = f(x) + \sum_i \lambda_i |x_i|` by the
    orthant-wise limited-memory quasi-Newton method of Andrew & Gao (2007). With the
    pseudo-gradient :math:`v` of ``F`` (:math:`g_i + \lambda_i \operatorname{sign}(x_i)` for
    :math:`x_i \ne 0`; at :math:`x_i = 0` the one-sided derivative that decreases ``F``, or 0
    when :math:`|g_i| \le \lambda_i`), the L-BFGS recursion is applied to :math:`v` (pairs
    still from gradients of ``f``), the direction is zeroed where its sign disagrees with
    :math:`-v`, and every trial point is projected onto the orthant of the iterate (of
    :math:`-v` for zero coordinates): coordinates that would cross zero become exactly 0.0.
    The line search backtracks until
    :math:`F(x_\alpha) \le F(x) + c_1 \alpha\, v^\top d`, the sufficient decrease test of
    the authors' implementation; the paper's variant measures the projected move
    :math:`x_\alpha - x` in place of :math:`\alpha d`. Coordinates with
    :math:`\lambda_i = 0` (an intercept) are minimized as by L-BFGS.

    ``method="bfgs"`` keeps the dense inverse Hessian approximation, updated by
    Nocedal & Wright eq. (6.17), for small ``n`` (it stores :math:`n^2` float64 values and
    costs :math:`O(n^2)` per iteration), with the same line searches, pair skip rule, bounds
    handling and result fields as L-BFGS.

    A CuPy ``x0`` (or any array with ``__cuda_array_interface__``) runs "lbfgs" and "owlqn"
    on its GPU, on CuPy's current stream: ``fun`` receives and returns CuPy arrays, and the
    history, the direction and every trial point stay on the device. Only ``f`` and the
    scalars of the line search (slopes, norms, the curvature test) are copied to the host.
    The result's ``x`` and ``jac`` are CuPy arrays, ``hess_inv`` is None and ``state`` is a
    :class:`GPULBFGSState`. Bounds and method="bfgs" need a NumPy ``x0``.

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
    method : {"lbfgs", "owlqn", "bfgs"}
        Limited-memory BFGS, its orthant-wise variant for an L1 term (needs
        ``options["l1"]``, no bounds), or dense BFGS.
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
        l1 : float or array_like of shape (n,), method="owlqn" only
            The L1 strengths :math:`\lambda`, finite and >= 0: one for every coordinate, or
            one each (0 leaves a coordinate unpenalized).
    callback : callable, optional
        Called after every iteration as ``callback(intermediate_result)`` when its only
        parameter has that name (an OptimizeResult with x, fun, jac and nit), otherwise as
        ``callback(x)``. With method="owlqn" its ``fun`` includes the L1 term and its ``jac``
        is the gradient of ``f`` alone. Returning True or raising StopIteration stops the run.
    state : LBFGSState, optional
        History to start from and to update in place, for warm starts. Its ``n``, dtype and
        ``history_size`` must match the run. Without it a fresh state is used. Not accepted
        by method="bfgs".
    callbacks : Callback or list of Callback, optional
        :mod:`fastopt.callbacks` objects, for example
        ``EarlyStopping(monitor=lambda logs: validation_loss(logs["x"]))``. Their logs hold
        ``x``, ``fun`` and ``jac`` (as for ``callback``) and ``nit``. A callback that returns
        True stops the run with the status of ``callback``. When a callback restores an
        earlier iterate (``EarlyStopping(restore_best=True)``), the result's x, fun and jac
        are that iterate's.

    Returns
    -------
    scipy.optimize.OptimizeResult
        x, fun, jac : the best accepted iterate, its value and its gradient (always from the
            same evaluation, also when a budget runs out inside a line search). With
            method="owlqn", ``fun`` is :math:`F = f + \sum_i \lambda_i |x_i|` and ``jac`` the
            pseudo-gradient of ``F``, whose inf-norm is the quantity compared with gtol.
        nit, nfev, njev : iterations and evaluations of ``fun`` and of the gradient.
        status : int, a :class:`fastopt.minimize.Status` value; success : bool, True for
            GTOL, FTOL and PRECISION_FLOOR; message : str, quoting the limit that applied.
        hess_inv : LBFGSInverseHessian, a LinearOperator applying :math:`H` including
            :math:`\gamma`; with method="bfgs" the dense ``(n, n)`` float64 ndarray, as
            scipy's BFGS returns it.
        nskipped : int, pairs rejected by the curvature test. nreset : int, history resets
            after a stalled line search.

    Raises
    ------
    ValueError
        For an ``x0`` that is not a finite 1-D real array, invalid bounds or options (an
        ``l1`` that is negative, not finite or of the wrong shape, ``l1`` without
        method="owlqn", bounds or line_search="more-thuente" with method="owlqn", ``state``
        with method="bfgs"), a missing gradient, or ``fun``/``jac`` returning the wrong type
        or shape.

    Notes
    -----
    A trial point where f or g is not finite shrinks the step toward the current iterate.
    When the line search finds no acceptable step along the L-BFGS direction, the history is
    dropped and steepest descent tried once; if that fails too the run stops with status
    PRECISION_FLOOR (every trial value was within rounding of f, ``success=True``) or
    LINE_SEARCH_FAILED. An objective that is not finite at ``x0`` gives status NOT_FINITE.

    References
    ----------
    G. Andrew and J. Gao, Scalable training of L1-regularized log-linear models, ICML 2007.
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
    method = method.lower()
    on_gpu = _gpu.is_gpu_array(x0)
    if on_gpu:
        # Without a CUDA module or device this raises RuntimeError before any other check.
        _gpu.cuda_module()
    x0 = _check_device_x0(x0) if on_gpu else _check_x0(x0)
    opts = _check_options(options)
    if state is not None and opts["state"] is not None and state is not opts["state"]:
        raise ValueError("state: given both as a keyword and in options; pass it once")
    state = state if state is not None else opts["state"]
    n = x0.size
    if on_gpu:
        _check_device_method(method, bounds)
    l1 = _check_method_options(method, opts, options, bounds, state, n, x0)
    if method == "bfgs":
        strategy = BFGSDirection(n, x0.dtype)
    else:
        state_type = GPULBFGSState if on_gpu else LBFGSState
        if state is None and on_gpu:
            # A GPU state allocates on CuPy's current device, which must be x0's.
            with x0.device:
                state = GPULBFGSState(n, opts["history_size"], x0.dtype)
        elif state is None:
            state = LBFGSState(n, opts["history_size"], x0.dtype)
        else:
            _check_state(state, n, x0.dtype, options, opts["history_size"], state_type)
        strategy = LBFGSDirection(state)
    objective = Objective(fun, jac, n, x0.dtype, opts["maxfun"])
    if l1 is None:
        feasible = parse_bounds(bounds, n, x0.dtype)
    else:
        if on_gpu:
            with x0.device:
                feasible = GPUOrthant(l1, n, x0.dtype)
        else:
            feasible = Orthant(l1, n, x0.dtype)
        objective = L1Objective(objective, l1)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback: expected a callable or None, got {type(callback).__name__}")
    runner = None
    callbacks = check_callbacks(callbacks)
    if callbacks:
        runner, callback = _callback_runner(callbacks, callback)
    settings = Settings(gtol=opts["gtol"], ftol=opts["ftol"], maxiter=opts["maxiter"],
                        maxfun=opts["maxfun"], max_linesearch=opts["max_linesearch"],
                        line_search=opts["line_search"], initial_step=opts["initial_step"])
    if on_gpu:
        with x0.device:
            result = run(objective, x0, strategy, feasible, settings, callback)
        # NOTE: no inverse Hessian operator on the GPU yet; state.apply_inverse_hessian
        # gives H v as a CuPy array.
        result.hess_inv = None
    else:
        result = run(objective, x0, strategy, feasible, settings, callback)
    if runner is not None:
        runner.end()
        restored = runner.loop.restored
        if restored is not None:
            result.x, result.fun, result.jac = restored
    if l1 is not None:
        # The driver returns the gradient of f; the caller's stationarity measure is the
        # pseudo-gradient of f + L1 at the same point.
        pseudo = device_pseudo_gradient if on_gpu else pseudo_gradient
        result.jac = pseudo(result.x, result.jac, l1)
        result.message = result.message.replace("projected gradient", "pseudo-gradient")
    return result


def _callback_runner(callbacks, callback):
    """Return a started CallbackRunner and the driver callback that feeds it.

    The driver callback also calls the caller's ``callback`` the way the driver would. The
    runner's loop snapshots (x, fun, jac) of the current iterate, and a restore records the
    snapshot in ``loop.restored`` for :func:`minimize` to put in the result.
    """
    current = {}
    loop = TrainingLoop(
        snapshot=lambda: (current["x"].copy(), current["fun"], current["jac"].copy()),
        restore=lambda saved: setattr(loop, "restored", saved))
    loop.restored = None
    runner = CallbackRunner(callbacks, loop).begin()
    wants_result = callback is not None and _callback_wants_result(callback)

    def on_iteration(intermediate_result):
        current.update(x=intermediate_result.x, fun=intermediate_result.fun,
                       jac=intermediate_result.jac)
        stop = runner.iteration(Logs({"x": intermediate_result.x,
                                      "fun": intermediate_result.fun,
                                      "jac": intermediate_result.jac,
                                      "nit": intermediate_result.nit}))
        if callback is not None:
            counters = {"nit": intermediate_result.nit}
            point = _CallbackPoint(intermediate_result)
            stop = _call_callback(callback, wants_result, point, counters) or stop
        return stop

    return runner, on_iteration


class _CallbackPoint:
    """The driver's view of an iterate (x, f, g) rebuilt from an intermediate result."""

    def __init__(self, result):
        self.x = result.x
        self.f = result.fun
        self.g = result.jac


def _check_device_method(method, bounds) -> None:
    if method == "bfgs":
        raise ValueError("method: 'bfgs' runs on the CPU only, got a GPU x0; use 'lbfgs' or "
                         "'owlqn', or pass x0 as a NumPy array")
    if bounds is not None:
        raise ValueError("bounds: not supported with a GPU x0; pass x0 as a NumPy array to "
                         "use bounds")


def _check_device_x0(x0):
    """Return a private CuPy copy of a GPU ``x0`` in float32 or float64, checked like x0."""
    return _checked_copy(_gpu.as_cupy(x0), _gpu._import_cupy())


def _device_l1(l1, n, x0):
    """Return ``l1`` checked as on the CPU, as a float or a float64 array on x0's device.

    Raises TypeError when ``l1`` is an array on another device than ``x0``.
    """
    if not _gpu.is_gpu_array(l1):
        if isinstance(l1, np.ndarray) and l1.ndim > 0:
            _gpu.check_one_device(x0=x0, l1=l1)
        return check_l1(l1, n)
    _gpu.check_one_device(x0=x0, l1=l1)
    checked = check_l1(_gpu.as_cupy(l1).get(), n)
    if isinstance(checked, float):
        return checked
    with x0.device:
        return _gpu._import_cupy().asarray(checked)


def _check_method_options(method, opts, options, bounds, state, n, x0=None):
    """Check the options that depend on the method; return the L1 strengths or None."""
    if method != "owlqn":
        if opts["l1"] is not None:
            raise ValueError(f"l1: an L1 term needs method='owlqn', got method={method!r} "
                             f"with l1={opts['l1']!r}")
        if method == "bfgs" and state is not None:
            raise ValueError("state: warm starts keep an L-BFGS history, which method='bfgs' "
                             "does not use; pass state only with method='lbfgs' or 'owlqn'")
        return None
    if _gpu.is_gpu_array(x0) or _gpu.is_gpu_array(opts["l1"]):
        l1 = _device_l1(opts["l1"], n, x0)
    else:
        l1 = check_l1(opts["l1"], n)
    if bounds is not None:
        raise ValueError("bounds: method='owlqn' does not support bounds (its orthant "
                         "projection is the only constraint); use method='lbfgs' with "
                         "bounds and put a smooth penalty in fun")
    if options and options.get("line_search", "armijo") != "armijo":
        raise ValueError("line_search: method='owlqn' uses backtracking ('armijo') on the "
                         f"non-smooth objective, got {options['line_search']!r}")
    opts["line_search"] = "armijo"
    return l1


def _check_x0(x0) -> np.ndarray:
    try:
        arr = np.asarray(x0)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a bad x0
        raise ValueError(f"x0: expected a 1-D array of real numbers, got {type(x0).__name__} "
                         f"({exc})") from None
    return _checked_copy(arr, np)


def _checked_copy(arr, xp):
    """Return a private float32 or float64 copy of the array x0, checked, in module ``xp``."""
    if arr.ndim != 1:
        raise ValueError(f"x0: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("x0: expected at least one variable, got shape (0,)")
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"x0: expected real numbers, got dtype {arr.dtype}")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    x = xp.array(arr, dtype=dtype)
    bad = xp.flatnonzero(~xp.isfinite(x))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"x0: expected finite values, got x0[{i}] = {x[i].item()!r}")
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


def _check_state(state, n, dtype, options, history_size, state_type=None) -> None:
    # A GPULBFGSState is also an LBFGSState, so the subclass decides the device.
    if state_type is GPULBFGSState and not isinstance(state, GPULBFGSState) \
            and isinstance(state, LBFGSState):
        raise TypeError("state: is an LBFGSState on the CPU but x0 is on the GPU; pass a "
                        "GPULBFGSState (fastopt.minimize.GPULBFGSState)")
    if state_type is LBFGSState and isinstance(state, GPULBFGSState):
        raise TypeError("state: is a GPULBFGSState on the GPU but x0 is on the CPU; pass an "
                        "LBFGSState")
    if not isinstance(state, LBFGSState):
        raise ValueError(f"state: expected an LBFGSState, got {type(state).__name__}")
    if state.n != n:
        raise ValueError(f"state: made for n={state.n} variables, but x0 has {n}")
    if state.dtype != dtype:
        raise ValueError(f"state: has dtype {state.dtype}, but x0 runs in {np.dtype(dtype)}")
    if options and "history_size" in options and state.history_size != history_size:
        raise ValueError(f"history_size: {history_size} differs from the state's "
                         f"history_size={state.history_size}")
