"""Adagrad: a fused step matching torch.optim.Adagrad for dense gradients."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer, full_state


def _check_adagrad(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["lr_decay"] = check_number(f"{prefix}lr_decay", values["lr_decay"], low=0.0)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    check_bool(f"{prefix}maximize", values["maximize"])


@fill_doc
def adagrad(
    params,
    grads,
    state_sums,
    *,
    step,
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused Adagrad step to arrays whose state the caller owns.

    .. math::

        g_t \leftarrow g_t + \lambda \theta_{t-1}, \quad
        \tilde\gamma_t = \frac{\gamma}{1 + (t - 1) \eta}, \\
        s_t = s_{t-1} + g_t^2, \quad
        \theta_t = \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    with ``g_t`` the (negated, if ``maximize``) gradient, ``lambda`` the
    weight decay, ``gamma`` the learning rate and ``eta`` the learning-rate
    decay.

    Parameters
    ----------
    params, grads, state_sums : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. ``params``
        and ``state_sums`` are updated in place.
    step : int or sequence of int
        Number of this update for each parameter, starting at 1.
    lr, lr_decay, weight_decay, eps : float
        As in :class:`fastopt.optim.Adagrad`, with the same defaults.
    maximize : bool
        As in :class:`fastopt.optim.Adagrad`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    The first step divides the gradient by its own magnitude, so each coordinate moves by ``lr``:

    >>> import numpy as np
    >>> import fastopt
    >>> w, sums = np.array([1.0, -2.0]), np.zeros(2)
    >>> _ = fastopt.optim.functional.adagrad(w, 2 * w, sums, step=1, lr=0.1)
    >>> w, sums
    (array([ 0.9, -1.9]), array([ 4., 16.]))
    """
    values = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps, maximize=maximize)
    _check_adagrad(values, "")
    params, grads, sums = _as_list(params), _as_list(grads), _as_list(state_sums)
    steps = _steps(step, len(params))

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.adagrad_step(
            params, grads, sums, steps,
            lr=values["lr"], lr_decay=values["lr_decay"], weight_decay=values["weight_decay"],
            eps=values["eps"], grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, state_sums=sums))


@fill_doc
class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011), matching ``torch.optim.Adagrad``.

    The update rule is written out in :func:`fastopt.optim.functional.adagrad`.
    State per parameter: ``step`` and ``sum``, named as torch names them.
    Only dense gradients are supported.

    Parameters
    ----------
    {params}
    lr : float, default 1e-2
        Learning rate. Must be >= 0.
    lr_decay : float, default 0
        Step ``t`` uses ``lr / (1 + (t - 1) lr_decay)``. Must be >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient. Must be >= 0.
    initial_accumulator_value : float, default 0
        Starting value of ``sum``. Must be >= 0.
    eps : float, default 1e-10
        Added after the square root. Must be > 0.
    {maximize}
    {callbacks}

    References
    ----------
    Duchi, J., Hazan, E. and Singer, Y. "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization", JMLR 12, 2011.

    Examples
    --------
    The accumulator ``sum`` starts at ``initial_accumulator_value`` and grows by the
    squared gradient of each step:

    >>> import numpy as np
    >>> from fastopt.optim import Adagrad
    >>> w = np.array([1.0, -2.0])
    >>> opt = Adagrad([w], lr=0.5, initial_accumulator_value=0.1)
    >>> for _ in range(2):
    ...     _ = opt.step([2 * w])
    >>> opt.state_dict()["state"][0]["sum"]
    array([ 5.1247, 25.1187])
    """

    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_adagrad(group, prefix)
        group["initial_accumulator_value"] = check_number(
            f"{prefix}initial_accumulator_value", group["initial_accumulator_value"], low=0.0
        )

    def init_state(self, group, param):
        return {"step": 0, "sum": full_state(param, group["initial_accumulator_value"])}

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        self.kernels.adagrad_step(
            params, grads, [s["sum"] for s in states], steps,
            lr=group["lr"], lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
            eps=group["eps"], grad_factor=grad_factor, validate_only=validate_only,
        )
