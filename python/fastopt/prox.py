"""Proximal operators and fused proximal gradient steps.

The proximal operator of a convex penalty ``h`` scaled by a step ``t > 0`` is

    prox_{t h}(v) = argmin_x  t h(x) + 1/2 ||x - v||^2,

and the proximal gradient step on ``f + h``, with ``f`` smooth, is

    x <- prox_{t h}(x - t grad f(x)).

Every function here runs one C++/OpenMP pass over memory, in float32 or
float64 (the dtype of ``x``), and writes into ``out``: by default ``x`` itself,
updated in place, or a separate array of the same dtype and shape.
``out`` may be ``x`` but may not otherwise share memory with an argument.
Every argument is checked before anything is written, and a bad one raises
``TypeError`` or ``ValueError`` naming it and its value.

Per-coordinate parameters (thresholds, L2 strengths, bounds) are a number or
an array of ``x``'s shape. An array of another dtype is converted to ``x``'s
dtype as a read-only copy, but ``x`` and ``out`` are never copied. Results do
not depend on the thread count.

References
----------
N. Parikh and S. Boyd, "Proximal Algorithms", Foundations and Trends in
Optimization 1(3), 2014 (the maps of sections 6.1 and 6.5).
M. Yuan and Y. Lin, "Model selection and estimation in regression with grouped
variables", J. R. Statist. Soc. B 68(1), 2006 (the group lasso).
"""

from __future__ import annotations

import numbers

import numpy as np

from fastopt import _core
from fastopt._gpu import check_one_device, cuda_module, is_gpu_array
from fastopt.optim._checks import check_number

__all__ = [
    "elastic_net",
    "group_soft_threshold",
    "l2_shrink",
    "project_box",
    "project_nonneg",
    "prox_grad_step",
    "soft_threshold",
]

PENALTIES = ("l1", "elasticnet", "l2", "group", "box", "nonneg")


def _check_x(x, name="x"):
    if is_gpu_array(x):
        return x  # checked by fastopt._prox_gpu
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected dtype float32 or float64, got {x.dtype}")
    return x


def _param(name, value, x):
    """Return ``value`` as a float, or as a C-contiguous array of ``x``'s dtype."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a number or an array, got {type(value).__name__}")
    if isinstance(value, numbers.Real):
        return float(value)
    if is_gpu_array(x) or is_gpu_array(value):
        return value  # a GPU array, checked with x by fastopt._prox_gpu
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {array.dtype}")
    if array.ndim == 0:
        return float(array)
    return np.ascontiguousarray(array, dtype=x.dtype)


def _step(step):
    return check_number("step", step, low=0.0, low_open=True)


def _groups(groups):
    """Return the group offsets as an int64 array (a copy only if needed)."""
    if is_gpu_array(groups):
        return groups
    array = np.asarray(groups)
    if array.size == 0:
        return array.astype(np.int64)  # rejected by the kernel's check with its message
    if array.dtype.kind not in "iu":
        raise TypeError(f"groups: expected integer offsets, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.int64)


def _weights(weights):
    if weights is None or is_gpu_array(weights):
        return weights
    array = np.asarray(weights)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"weights: expected real numbers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def _kernels(x, **arrays):
    """Return the module of prox kernels for ``x``'s device: fastopt._core or fastopt._prox_gpu.

    Raises TypeError, naming one argument of each, when the arrays are on
    different devices.
    """
    if check_one_device(x=x, **{k: v for k, v in arrays.items() if not isinstance(v, numbers.Real)}):
        from fastopt import _prox_gpu

        cuda_module()  # the first GPU use: raises if the module, a device or CuPy is missing
        return _prox_gpu
    return _core


def _threshold(name, value):
    return check_number(name, value, low=0.0)


def soft_threshold(x, threshold, *, out=None):
    r"""Apply soft-thresholding, the proximal operator of the L1 norm.

    .. math::

        \mathrm{out}_i = \mathrm{sign}(x_i) \max(|x_i| - \lambda_i, 0)
        = \mathrm{prox}_{h}(x)_i, \quad h(x) = \sum_i \lambda_i |x_i|.

    Entries with ``|x_i| <= threshold_i`` become exact zeros.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input, C-contiguous; updated in place when ``out`` is None.
    threshold : float or array_like
        ``lambda >= 0``, one value or one per element of ``x`` (same shape).
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Raises
    ------
    TypeError
        If ``x``, ``out`` or ``threshold`` has an unsupported type or dtype.
    ValueError
        If a threshold is negative or not finite, shapes differ, ``out`` is not
        C-contiguous or writeable, or ``out`` partially overlaps an input.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.prox import soft_threshold
    >>> x = np.array([-2.0, -0.5, 0.0, 0.3, 1.5])
    >>> soft_threshold(x, 0.5)
    array([-1.5,  0. ,  0. ,  0. ,  1. ])
    >>> x                      # updated in place
    array([-1.5,  0. ,  0. ,  0. ,  1. ])
    """
    _check_x(x)
    out = x if out is None else out
    _kernels(x, out=out, threshold=threshold).prox_l1(x, out, _param("threshold", threshold, x),
                                                     name="threshold")
    return out


def elastic_net(x, l1, l2, *, step=1.0, out=None):
    r"""Apply the proximal operator of the elastic-net penalty.

    For :math:`h(x) = \sum_i l1_i |x_i| + \frac{l2_i}{2} x_i^2` and step
    :math:`t`,

    .. math::

        \mathrm{prox}_{t h}(x)_i
        = \frac{\mathrm{sign}(x_i) \max(|x_i| - t\, l1_i, 0)}{1 + t\, l2_i}.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input, C-contiguous; updated in place when ``out`` is None.
    l1, l2 : float or array_like
        Strengths ``>= 0``, one value or one per element of ``x``.
    step : float, default 1.0
        ``t > 0``.
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Notes
    -----
    With scalar strengths the products ``t l1`` and ``t l2`` are formed in
    float64 and rounded once to ``x``'s dtype. With arrays they are formed in
    ``x``'s dtype, element by element.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.prox import elastic_net
    >>> elastic_net(np.array([-2.0, 0.5, 3.0]), l1=1.0, l2=1.0, step=0.5)
    array([-1.    ,  0.    ,  1.6667])
    """
    _check_x(x)
    out = x if out is None else out
    _kernels(x, out=out, l1=l1, l2=l2).prox_elastic_net(x, out, _param("l1", l1, x), _param("l2", l2, x),
                                                        step=_step(step))
    return out


def l2_shrink(x, l2, *, step=1.0, out=None):
    r"""Apply the proximal operator of the squared L2 norm.

    For :math:`h(x) = \sum_i \frac{l2_i}{2} x_i^2` and step :math:`t`,
    :math:`\mathrm{prox}_{t h}(x)_i = x_i / (1 + t\, l2_i)`.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input, C-contiguous; updated in place when ``out`` is None.
    l2 : float or array_like
        Strength ``>= 0``, one value or one per element of ``x``.
    step : float, default 1.0
        ``t > 0``.
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.prox import l2_shrink
    >>> x = np.array([2.0, -1.0, 0.5])
    >>> l2_shrink(x, 1.0, step=1.0)
    array([ 1.  , -0.5 ,  0.25])
    >>> x  # updated in place
    array([ 1.  , -0.5 ,  0.25])
    """
    _check_x(x)
    out = x if out is None else out
    _kernels(x, out=out, l2=l2).prox_l2(x, out, _param("l2", l2, x), step=_step(step))
    return out


def group_soft_threshold(x, groups, threshold, *, weights=None, out=None):
    r"""Apply block soft-thresholding, the proximal operator of the group lasso.

    ``x`` is split, in its flattened order, into contiguous groups
    :math:`x_g = x[o_g : o_{g+1}]` given by offsets :math:`o` as in a CSR
    ``indptr``. For :math:`h(x) = \lambda \sum_g w_g \|x_g\|_2`,

    .. math::

        \mathrm{prox}_{h}(x)_g = \max\left(0, 1 - \frac{\lambda w_g}{\|x_g\|_2}\right) x_g,

    so a group whose norm is at most :math:`\lambda w_g` becomes exactly zero.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input, C-contiguous; updated in place when ``out`` is None.
    groups : array_like of int
        Offsets :math:`o_0 = 0 < o_1 < \dots < o_G = x.size`; group ``g``
        covers elements ``groups[g]`` to ``groups[g + 1] - 1``, so every group
        is non-empty and the groups cover ``x``.
    threshold : float
        :math:`\lambda \ge 0`.
    weights : array_like of float, optional
        :math:`w_g \ge 0`, one per group; all 1 by default. A common choice
        is the square root of each group's size (Yuan and Lin, 2006).
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Notes
    -----
    Each group's norm is summed in float64 by one thread, in a fixed order,
    and the factor is applied in float64 before rounding to ``x``'s dtype.

    Examples
    --------
    Two groups, ``x[0:2]`` with norm 5 and ``x[2:4]`` with norm 0.5:

    >>> import numpy as np
    >>> from fastopt.prox import group_soft_threshold
    >>> x = np.array([3.0, 4.0, 0.3, 0.4])
    >>> group_soft_threshold(x, np.array([0, 2, 4]), 1.0)
    array([2.4, 3.2, 0. , 0. ])
    """
    _check_x(x)
    out = x if out is None else out
    _kernels(x, out=out).prox_group(x, out, _groups(groups), _threshold("threshold", threshold),
                                    weights=_weights(weights))
    return out


def project_box(x, lower, upper, *, out=None):
    r"""Project onto the box :math:`\{z : lower_i \le z_i \le upper_i\}`.

    :math:`\mathrm{out}_i = \min(\max(x_i, lower_i), upper_i)`, the proximal
    operator of the box's indicator function for any step.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input, C-contiguous; updated in place when ``out`` is None.
    lower, upper : float, array_like or None
        Bounds, one value or one per element of ``x``; ``-inf``/``inf`` or
        None leave a side unbounded. ``lower <= upper`` is required
        elementwise, and NaN bounds are rejected.
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.prox import project_box
    >>> project_box(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    """
    _check_x(x)
    out = x if out is None else out
    lo = -np.inf if lower is None else _param("lower", lower, x)
    hi = np.inf if upper is None else _param("upper", upper, x)
    _kernels(x, out=out, lower=lower, upper=upper).prox_box(x, out, lo, hi)
    return out


def project_nonneg(x, *, out=None):
    r"""Project onto the non-negative orthant: :math:`\mathrm{out}_i = \max(x_i, 0)`.

    NaN entries stay NaN.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input, C-contiguous; updated in place when ``out`` is None.
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.prox import project_nonneg
    >>> project_nonneg(np.array([-1.0, 2.0, np.nan]))
    array([ 0.,  2., nan])
    """
    _check_x(x)
    out = x if out is None else out
    _kernels(x, out=out).prox_nonneg(x, out)
    return out


def _reject_unused(penalty, **given):
    for name, value in given.items():
        if value is not None:
            raise ValueError(f"{name}: not used by penalty={penalty!r}; got {value!r}")


def _require(penalty, **given):
    for name, value in given.items():
        if value is None:
            raise ValueError(f"{name}: required by penalty={penalty!r}, got None")


def prox_grad_step(x, grad, step, *, penalty="l1", l1=None, l2=None, groups=None, weights=None,
                   lower=None, upper=None, out=None):
    r"""Take one proximal gradient step in one pass over memory.

    .. math::

        \mathrm{out} = \mathrm{prox}_{t h}(x - t\, \nabla f(x)),

    with ``grad`` the gradient :math:`\nabla f(x)` of the smooth part and
    ``step`` the step :math:`t`. ``x - t grad`` is computed in ``x``'s dtype,
    as ``x - (t * grad)``, and passed to the map of ``penalty``:

    ``"l1"``
        :math:`h = \sum_i l1_i |x_i|`: soft-thresholding by :math:`t\, l1_i`.
    ``"elasticnet"``
        :math:`h = \sum_i l1_i |x_i| + \frac{l2_i}{2} x_i^2`: see
        :func:`elastic_net`.
    ``"l2"``
        :math:`h = \sum_i \frac{l2_i}{2} x_i^2`: division by
        :math:`1 + t\, l2_i`.
    ``"group"``
        :math:`h = l1 \sum_g w_g \|x_g\|_2` over the contiguous ``groups``
        (offsets), with optional ``weights``: see :func:`group_soft_threshold`;
        the threshold of group ``g`` is :math:`t\, l1\, w_g`.
    ``"box"``
        the indicator of ``[lower, upper]``: projection (projected gradient).
    ``"nonneg"``
        the indicator of :math:`x \ge 0`: :math:`\max(\cdot, 0)`.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Current point, C-contiguous; updated in place when ``out`` is None.
    grad : ndarray
        Gradient of the smooth part at ``x``, same dtype and shape.
    step : float
        Step ``t > 0``.
    penalty : {"l1", "elasticnet", "l2", "group", "box", "nonneg"}, default "l1"
        The penalty ``h``.
    l1 : float or array_like, optional
        L1 strength (``"l1"``, ``"elasticnet"``), or the group lasso strength
        (``"group"``, a float).
    l2 : float or array_like, optional
        L2 strength (``"elasticnet"``, ``"l2"``).
    groups : array_like of int, optional
        Group offsets (``"group"``).
    weights : array_like of float, optional
        Per-group weights (``"group"``).
    lower, upper : float or array_like, optional
        Bounds (``"box"``; at least one).
    out : ndarray, optional
        Output of ``x``'s dtype and shape; may be ``x``.

    Returns
    -------
    ndarray
        ``out`` (``x`` when ``out`` is None).

    Raises
    ------
    ValueError
        If ``penalty`` is unknown, a parameter it needs is missing, or one it
        does not use is given, because an ignored parameter would hide a
        mistake. Also for the errors listed in the individual maps.

    References
    ----------
    A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding algorithm
    for linear inverse problems", SIAM J. Imaging Sciences 2(1), 2009.

    Examples
    --------
    ISTA for the lasso :math:`\frac{1}{2}\|A x - b\|^2 + \lambda \|x\|_1`, with the step
    :math:`1 / \|A\|_2^2`:

    >>> import numpy as np
    >>> from fastopt.prox import prox_grad_step
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((50, 10))
    >>> b = A @ np.array([2.0, -1.0] + [0.0] * 8)
    >>> x = np.zeros(10)
    >>> step = 1.0 / np.linalg.norm(A, 2) ** 2
    >>> for _ in range(500):
    ...     _ = prox_grad_step(x, A.T @ (A @ x - b), step, penalty="l1", l1=1.0)
    >>> int(np.count_nonzero(x)), bool(abs(x[0] - 2.0) < 0.1)
    (2, True)
    """
    _check_x(x)
    t = _step(step)
    out = x if out is None else out
    kernels = _kernels(x, out=out, grad=grad, l1=l1, l2=l2, lower=lower, upper=upper)
    if penalty == "l1":
        _require(penalty, l1=l1)
        _reject_unused(penalty, l2=l2, groups=groups, weights=weights, lower=lower, upper=upper)
        kernels.prox_l1(x, out, _param("l1", l1, x), grad=grad, step=t)
    elif penalty == "elasticnet":
        _require(penalty, l1=l1, l2=l2)
        _reject_unused(penalty, groups=groups, weights=weights, lower=lower, upper=upper)
        kernels.prox_elastic_net(x, out, _param("l1", l1, x), _param("l2", l2, x), grad=grad,
                               step=t)
    elif penalty == "l2":
        _require(penalty, l2=l2)
        _reject_unused(penalty, l1=l1, groups=groups, weights=weights, lower=lower, upper=upper)
        kernels.prox_l2(x, out, _param("l2", l2, x), grad=grad, step=t)
    elif penalty == "group":
        _require(penalty, groups=groups, l1=l1)
        _reject_unused(penalty, l2=l2, lower=lower, upper=upper)
        kernels.prox_group(x, out, _groups(groups), _threshold("l1", l1),
                         weights=_weights(weights), grad=grad, step=t)
    elif penalty == "box":
        _reject_unused(penalty, l1=l1, l2=l2, groups=groups, weights=weights)
        if lower is None and upper is None:
            raise ValueError("lower, upper: penalty='box' requires at least one bound, got None")
        lo = -np.inf if lower is None else _param("lower", lower, x)
        hi = np.inf if upper is None else _param("upper", upper, x)
        kernels.prox_box(x, out, lo, hi, grad=grad, step=t)
    elif penalty == "nonneg":
        _reject_unused(penalty, l1=l1, l2=l2, groups=groups, weights=weights, lower=lower,
                       upper=upper)
        kernels.prox_nonneg(x, out, grad=grad, step=t)
    else:
        raise ValueError(f"penalty: expected one of {', '.join(map(repr, PENALTIES))}, "
                         f"got {penalty!r}")
    return out
