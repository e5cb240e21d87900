"""RMSprop, plain or centered, with optional momentum: a fused step matching torch.optim.RMSprop."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer, zeros_state


def _check_rmsprop(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["alpha"] = check_number(f"{prefix}alpha", values["alpha"], low=0.0, high=1.0)
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    values["momentum"] = check_number(f"{prefix}momentum", values["momentum"], low=0.0)
    for name in ("centered", "maximize"):
        check_bool(f"{prefix}{name}", values[name])


@fill_doc
def rmsprop(
    params,
    grads,
    square_avgs,
    momentum_buffers=None,
    grad_avgs=None,
    *,
    step=None,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused RMSprop step to arrays whose state the caller owns.

    .. math::

        g_t \leftarrow g_t + \lambda \theta_{t-1}, \quad
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \\
        \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t, \quad
        d_t = \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \quad
        d_t = \sqrt{v_t} + \epsilon \ \text{(otherwise)}, \\
        b_t = \mu b_{t-1} + g_t / d_t, \quad
        \theta_t = \theta_{t-1} - \gamma b_t \ (\mu > 0), \quad
        \theta_t = \theta_{t-1} - \gamma g_t / d_t \ (\mu = 0)

    with ``g_t`` the (negated, if ``maximize``) gradient, ``lambda`` the
    weight decay, ``mu`` the momentum and ``gamma`` the learning rate.

    Parameters
    ----------
    params, grads, square_avgs, momentum_buffers, grad_avgs : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. Everything
        but ``grads`` is updated in place. ``momentum_buffers`` is required
        when ``momentum > 0`` and ``grad_avgs`` when ``centered``; each is
        ignored otherwise.
    step : int or sequence of int, optional
        Number of this update for each parameter, starting at 1. The update
        does not depend on it; it is accepted so that every rule's functional
        form takes the same arguments, and checked to be >= 1 when given.
    lr, alpha, eps, weight_decay, momentum : float
        As in :class:`fastopt.optim.RMSprop`, with the same defaults.
    centered, maximize : bool
        As in :class:`fastopt.optim.RMSprop`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    The first step divides the gradient by :math:`\sqrt{1 - \alpha}` times its magnitude:

    >>> import numpy as np
    >>> import fastopt
    >>> w, square_avg = np.array([1.0, -2.0]), np.zeros(2)
    >>> _ = fastopt.optim.functional.rmsprop(w, 2 * w, square_avg, lr=0.01)
    >>> w
    array([ 0.9, -1.9])
    """
    values = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                  centered=centered, maximize=maximize)
    _check_rmsprop(values, "")
    params, grads, square_avgs = _as_list(params), _as_list(grads), _as_list(square_avgs)
    buffers = None if momentum_buffers is None else _as_list(momentum_buffers)
    averages = None if grad_avgs is None else _as_list(grad_avgs)
    steps = [1] * len(params) if step is None else _steps(step, len(params))

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.rmsprop_step(
            params, grads, square_avgs, buffers, averages, steps,
            lr=values["lr"], alpha=values["alpha"], eps=values["eps"],
            weight_decay=values["weight_decay"], momentum=values["momentum"], centered=centered,
            grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, square_avgs=square_avgs, momentum_buffers=buffers, grad_avgs=averages))


@fill_doc
class RMSprop(Optimizer):
    r"""RMSprop (Tieleman & Hinton, 2012; centered form from Graves, 2013), matching ``torch.optim.RMSprop``.

    The update rule is written out in :func:`fastopt.optim.functional.rmsprop`.
    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (when
    ``momentum > 0``) and ``grad_avg`` (when ``centered``), named as torch
    names them. A group whose ``momentum`` or ``centered`` is switched on after
    its first step gets zero-initialized buffers at that point.

    Parameters
    ----------
    {params}
    lr : float, default 1e-2
        Learning rate. Must be >= 0.
    alpha : float, default 0.99
        Smoothing constant of the averages. Must be in [0, 1].
    eps : float, default 1e-8
        Added after the square root. Must be > 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient. Must be >= 0.
    momentum : float, default 0
        Momentum factor. Must be >= 0.
    centered : bool, default False
        Normalize by the estimated variance of the gradient instead of its second
        moment.
    {maximize}
    {callbacks}

    References
    ----------
    Tieleman, T. and Hinton, G. "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for
    Machine Learning, 2012.
    Graves, A. "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850, 2013.

    Examples
    --------
    ``centered`` and ``momentum`` add the state ``grad_avg`` and ``momentum_buffer``:

    >>> import numpy as np
    >>> from fastopt.optim import RMSprop
    >>> w = np.array([1.0, -2.0])
    >>> opt = RMSprop([w], lr=0.01, centered=True, momentum=0.9)
    >>> for _ in range(3):
    ...     _ = opt.step([2 * w])
    >>> w, sorted(opt.state_dict()["state"][0])
    (array([ 0.5497, -1.5407]), ['grad_avg', 'momentum_buffer', 'square_avg', 'step'])
    """

    state_names = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_rmsprop(group, prefix)

    def init_state(self, group, param):
        state: dict[str, Any] = {"step": 0, "square_avg": zeros_state(param)}
        if group["momentum"] > 0.0:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)
        return state

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        def arrays(name: str, enabled: bool):
            if not enabled:
                return None
            out = []
            for param, state in zip(params, states):
                array = state.get(name)
                if array is None:
                    array = zeros_state(param)
                    if not validate_only:
                        state[name] = array
                out.append(array)
            return out

        self.kernels.rmsprop_step(
            params, grads, [s["square_avg"] for s in states],
            arrays("momentum_buffer", group["momentum"] > 0.0), arrays("grad_avg", group["centered"]),
            steps,
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
            momentum=group["momentum"], centered=group["centered"],
            grad_factor=grad_factor, validate_only=validate_only,
        )
