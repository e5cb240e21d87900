"""Adamax: a fused step matching torch.optim.Adamax."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_betas, check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer


def _check_adamax(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["betas"] = check_betas(f"{prefix}betas", values["betas"])
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    check_bool(f"{prefix}maximize", values["maximize"])


@fill_doc
def adamax(
    params,
    grads,
    exp_avgs,
    exp_infs,
    *,
    step,
    lr: float = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused Adamax step to arrays whose state the caller owns.

    .. math::

        g_t \leftarrow g_t + \lambda \theta_{t-1}, \quad
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \\
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}

    with ``g_t`` the (negated, if ``maximize``) gradient, ``lambda`` the
    weight decay and ``gamma`` the learning rate. The maximum is NaN when
    either argument is NaN, as ``torch.maximum`` returns.

    Parameters
    ----------
    params, grads, exp_avgs, exp_infs : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. Everything
        but ``grads`` is updated in place.
    step : int or sequence of int
        Number of this update for each parameter, starting at 1.
    lr : float
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    eps, weight_decay : float
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    maximize : bool
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    The first step moves each coordinate by ``lr`` against the sign of its gradient:

    >>> import numpy as np
    >>> import fastopt
    >>> w, m, u = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    >>> _ = fastopt.optim.functional.adamax(w, 2 * w, m, u, step=1, lr=0.1)
    >>> w
    array([ 0.9, -1.9])
    """
    values = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
    _check_adamax(values, "")
    params, grads = _as_list(params), _as_list(grads)
    exp_avgs, exp_infs = _as_list(exp_avgs), _as_list(exp_infs)
    steps = _steps(step, len(params))
    beta1, beta2 = values["betas"]

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.adamax_step(
            params, grads, exp_avgs, exp_infs, steps,
            lr=values["lr"], beta1=beta1, beta2=beta2, eps=values["eps"],
            weight_decay=values["weight_decay"], grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, exp_avgs=exp_avgs, exp_infs=exp_infs))


@fill_doc
class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015), matching ``torch.optim.Adamax``.

    The update rule is written out in :func:`fastopt.optim.functional.adamax`.
    State per parameter: ``step``, ``exp_avg`` and ``exp_inf``, named as torch
    names them.

    Parameters
    ----------
    {params}
    lr : float, default 2e-3
        Learning rate. Must be >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the running average of the gradient and of the exponentially
        weighted infinity norm ``exp_inf``. Each must be in [0, 1).
    eps : float, default 1e-8
        Added to ``|g|`` inside the maximum. Must be > 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient. Must be >= 0.
    {maximize}
    {callbacks}

    References
    ----------
    Kingma, D. P. and Ba, J. "Adam: A Method for Stochastic Optimization", ICLR 2015, section 7.1.

    Examples
    --------
    The state ``exp_inf`` is the exponentially weighted infinity norm of the gradients:

    >>> import numpy as np
    >>> from fastopt.optim import Adamax
    >>> w = np.array([1.0, -2.0])
    >>> opt = Adamax([w], lr=0.1)
    >>> for _ in range(5):
    ...     _ = opt.step([2 * w])
    >>> w, opt.state_dict()["state"][0]["exp_inf"]
    (array([ 0.5516, -1.5258]), array([1.992, 3.984]))
    """

    state_names = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False,
                 callbacks=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_adamax(group, prefix)

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        beta1, beta2 = group["betas"]
        self.kernels.adamax_step(
            params, grads, [s["exp_avg"] for s in states], [s["exp_inf"] for s in states], steps,
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], grad_factor=grad_factor, validate_only=validate_only,
        )
