"""Adadelta: a fused step matching torch.optim.Adadelta."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer


def _check_adadelta(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["rho"] = check_number(f"{prefix}rho", values["rho"], low=0.0, high=1.0)
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    check_bool(f"{prefix}maximize", values["maximize"])


@fill_doc
def adadelta(
    params,
    grads,
    square_avgs,
    acc_deltas,
    *,
    step=None,
    lr: float = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused Adadelta step to arrays whose state the caller owns.

    .. math::

        g_t \leftarrow g_t + \lambda \theta_{t-1}, \quad
        v_t = \rho v_{t-1} + (1 - \rho) g_t^2, \\
        \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t, \quad
        u_t = \rho u_{t-1} + (1 - \rho) \Delta_t^2, \quad
        \theta_t = \theta_{t-1} - \gamma \Delta_t

    with ``g_t`` the (negated, if ``maximize``) gradient, ``lambda`` the
    weight decay, ``v`` the ``square_avgs``, ``u`` the ``acc_deltas`` and
    ``gamma`` the learning rate.

    Parameters
    ----------
    params, grads, square_avgs, acc_deltas : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. Everything
        but ``grads`` is updated in place.
    step : int or sequence of int, optional
        Number of this update for each parameter, starting at 1. The update
        does not depend on it; it is accepted so that every rule's functional
        form takes the same arguments, and checked to be >= 1 when given.
    lr, rho, eps, weight_decay : float
        As in :class:`fastopt.optim.Adadelta`, with the same defaults.
    maximize : bool
        As in :class:`fastopt.optim.Adadelta`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    Adadelta's first steps are small because the accumulated update starts at zero:

    >>> import numpy as np
    >>> import fastopt
    >>> w, square_avg, acc_delta = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    >>> _ = fastopt.optim.functional.adadelta(w, 2 * w, square_avg, acc_delta, lr=1.0)
    >>> w
    array([ 0.9968, -1.9968])
    """
    values = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
    _check_adadelta(values, "")
    params, grads = _as_list(params), _as_list(grads)
    square_avgs, acc_deltas = _as_list(square_avgs), _as_list(acc_deltas)
    steps = [1] * len(params) if step is None else _steps(step, len(params))

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.adadelta_step(
            params, grads, square_avgs, acc_deltas, steps,
            lr=values["lr"], rho=values["rho"], eps=values["eps"],
            weight_decay=values["weight_decay"], grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, square_avgs=square_avgs, acc_deltas=acc_deltas))


@fill_doc
class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), matching ``torch.optim.Adadelta``.

    The update rule is written out in :func:`fastopt.optim.functional.adadelta`.
    State per parameter: ``step``, ``square_avg`` and ``acc_delta``, named as
    torch names them.

    Parameters
    ----------
    {params}
    lr : float, default 1.0
        Scales the computed delta. Must be >= 0.
    rho : float, default 0.9
        Smoothing constant of both averages. Must be in [0, 1].
    eps : float, default 1e-6
        Added inside both square roots. Must be > 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient. Must be >= 0.
    {maximize}
    {callbacks}

    References
    ----------
    Zeiler, M. D. "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.

    Examples
    --------
    The default ``lr=1`` applies the unit-free Adadelta step as the paper defines it. The
    first steps are small because the accumulated update starts at zero:

    >>> import numpy as np
    >>> from fastopt.optim import Adadelta
    >>> w = np.array([1.0, -2.0])
    >>> opt = Adadelta([w])
    >>> for _ in range(3):
    ...     _ = opt.step([2 * w])
    >>> w, sorted(opt.state_dict()["state"][0])
    (array([ 0.9903, -1.9903]), ['acc_delta', 'square_avg', 'step'])
    """

    state_names = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_adadelta(group, prefix)

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        self.kernels.adadelta_step(
            params, grads, [s["square_avg"] for s in states], [s["acc_delta"] for s in states], steps,
            lr=group["lr"], rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
            grad_factor=grad_factor, validate_only=validate_only,
        )
