"""SGD with optional (Nesterov) momentum: a fused step matching torch.optim.SGD."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer, zeros_state


def _check_sgd(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["momentum"] = check_number(f"{prefix}momentum", values["momentum"], low=0.0)
    values["dampening"] = check_number(f"{prefix}dampening", values["dampening"], low=0.0, high=1.0)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    for name in ("nesterov", "maximize"):
        check_bool(f"{prefix}{name}", values[name])
    if values["nesterov"] and (values["momentum"] <= 0.0 or values["dampening"] != 0.0):
        raise ValueError(
            f"{prefix}nesterov: Nesterov momentum requires momentum > 0 and dampening = 0, "
            f"got momentum={values['momentum']!r} and dampening={values['dampening']!r}"
        )


@fill_doc
def sgd(
    params,
    grads,
    momentum_buffers=None,
    *,
    step=None,
    lr: float = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused SGD step to arrays whose state the caller owns.

    .. math::

        g_t \leftarrow g_t + \lambda \theta_{t-1}, \quad
        b_t = \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases}, \\
        \theta_t = \theta_{t-1} - \gamma \, d_t, \quad
        d_t = \begin{cases} g_t & \mu = 0 \\ b_t & \text{heavy ball} \\
              g_t + \mu b_t & \text{Nesterov} \end{cases}

    with ``g_t`` the (negated, if ``maximize``) gradient, ``lambda`` the
    weight decay, ``mu`` the momentum, ``tau`` the dampening and ``gamma``
    the learning rate. On a parameter's first step the momentum buffer is set
    to the gradient and its previous contents are ignored, as torch creates it.

    Parameters
    ----------
    params, grads, momentum_buffers : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. ``params``
        and ``momentum_buffers`` are updated in place. ``momentum_buffers`` is
        required when ``momentum`` is nonzero and ignored otherwise.
    step : int or sequence of int, optional
        Number of this update for each parameter, starting at 1. Required when
        ``momentum`` is nonzero, because step 1 initializes the buffers.
    lr, momentum, dampening, weight_decay : float
        As in :class:`fastopt.optim.SGD`, with the same defaults.
    nesterov, maximize : bool
        As in :class:`fastopt.optim.SGD`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    One step of plain gradient descent on :math:`\|w\|^2`, whose gradient is :math:`2w`:

    >>> import numpy as np
    >>> import fastopt
    >>> w = np.array([1.0, -2.0])
    >>> fastopt.optim.functional.sgd(w, 2 * w, lr=0.1)
    StepResult(found_inf=False, grad_norm=None)
    >>> w
    array([ 0.8, -1.6])
    """
    values = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                  nesterov=nesterov, maximize=maximize)
    _check_sgd(values, "")
    params, grads = _as_list(params), _as_list(grads)
    buffers = None if momentum_buffers is None else _as_list(momentum_buffers)
    if values["momentum"] != 0.0 and step is None:
        raise ValueError("step: expected the step number when momentum is nonzero, got None")
    steps = [1] * len(params) if step is None else _steps(step, len(params))

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.sgd_step(
            params, grads, buffers, steps,
            lr=values["lr"], momentum=values["momentum"], dampening=values["dampening"],
            weight_decay=values["weight_decay"], nesterov=nesterov,
            grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, momentum_buffers=buffers))


@fill_doc
class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, matching ``torch.optim.SGD``.

    The update rule is written out in :func:`fastopt.optim.functional.sgd`.
    State per parameter: ``step`` and, when ``momentum`` is nonzero,
    ``momentum_buffer``, named as torch names it. Without momentum a step
    reads each parameter and gradient once and writes the parameter once.

    Parameters
    ----------
    {params}
    lr : float, default 1e-3
        Learning rate. Must be >= 0.
    momentum : float, default 0
        Momentum factor. Must be >= 0.
    dampening : float, default 0
        Scales the gradient entering the buffer by ``1 - dampening`` after the first
        step. Must be in [0, 1].
    weight_decay : float, default 0
        L2 penalty added to the gradient. Must be >= 0.
    nesterov : bool, default False
        Requires ``momentum > 0`` and ``dampening == 0``.
    {maximize}
    {callbacks}

    References
    ----------
    Robbins, H. and Monro, S. "A Stochastic Approximation Method", Ann. Math. Statist. 22(3), 1951.
    Polyak, B. T. "Some methods of speeding up the convergence of iteration methods",
    USSR Comput. Math. Math. Phys. 4(5), 1964.
    Sutskever, I., Martens, J., Dahl, G. and Hinton, G. "On the importance of initialization
    and momentum in deep learning", ICML 2013.

    Examples
    --------
    Two parameter groups with their own learning rates, stepped with one list of
    gradients in the order of the parameters:

    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> weights, bias = np.ones(3, dtype=np.float32), np.zeros(1, dtype=np.float32)
    >>> opt = SGD([{"params": [weights]}, {"params": [bias], "lr": 0.5}], lr=0.1, momentum=0.9)
    >>> _ = opt.step([np.full(3, 2.0, dtype=np.float32), np.ones(1, dtype=np.float32)])
    >>> weights, bias
    (array([0.8, 0.8, 0.8], dtype=float32), array([-0.5], dtype=float32))
    """

    state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_sgd(group, prefix)

    def init_state(self, group, param):
        state: dict[str, Any] = {"step": 0}
        if group["momentum"] != 0.0:
            state["momentum_buffer"] = zeros_state(param)
        return state

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        buffers = None
        kernel_steps = steps
        if group["momentum"] != 0.0:
            # A group whose momentum was switched on after its first step has
            # no buffer yet. torch then starts the buffer from the gradient, so
            # the kernel receives step 1 for that parameter.
            buffers, kernel_steps = [], list(steps)
            for i, (param, state) in enumerate(zip(params, states)):
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = zeros_state(param)
                    # NOTE: on the GPU this host step replaces the device step
                    # counter for this one step, so that counter ends one behind.
                    kernel_steps[i] = 1
                    if not validate_only:
                        state["momentum_buffer"] = buffer
                buffers.append(buffer)
        self.kernels.sgd_step(
            params, grads, buffers, kernel_steps,
            lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"],
            grad_factor=grad_factor, validate_only=validate_only,
        )
