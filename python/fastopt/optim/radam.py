"""RAdam: a fused step matching torch.optim.RAdam."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_betas, check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer


def _check_radam(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["betas"] = check_betas(f"{prefix}betas", values["betas"])
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    for name in ("decoupled_weight_decay", "maximize"):
        check_bool(f"{prefix}{name}", values[name])


@fill_doc
def radam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    *,
    step,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused RAdam step to arrays whose state the caller owns.

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \\
        \rho_\infty = \frac{2}{1 - \beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \\
        \theta_t = \begin{cases}
            \theta_{t-1} - \gamma \frac{m_t}{1 - \beta_1^t}
                \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} r_t
                & \rho_t > 5 \\
            \theta_{t-1} - \gamma \frac{m_t}{1 - \beta_1^t} & \text{otherwise}
        \end{cases}, \quad
        r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                         {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}

    with ``g_t`` the (negated, if ``maximize``) gradient plus
    ``weight_decay * theta`` (L2), or the parameter first multiplied by
    ``1 - lr * weight_decay`` when ``decoupled_weight_decay``. The branch
    depends only on ``t`` and ``beta2``, so it is chosen once per parameter.

    Parameters
    ----------
    params, grads, exp_avgs, exp_avg_sqs : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. Everything
        but ``grads`` is updated in place.
    step : int or sequence of int
        Number of this update for each parameter, starting at 1.
    lr : float
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    eps, weight_decay : float
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    decoupled_weight_decay, maximize : bool
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    While the variance of the adaptive rate is intractable (the first steps) RAdam takes an SGD-with-momentum step:

    >>> import numpy as np
    >>> import fastopt
    >>> w, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    >>> _ = fastopt.optim.functional.radam(w, 2 * w, m, v, step=1, lr=0.1)
    >>> w
    array([ 0.8, -1.6])
    """
    values = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                  decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
    _check_radam(values, "")
    params, grads = _as_list(params), _as_list(grads)
    exp_avgs, exp_avg_sqs = _as_list(exp_avgs), _as_list(exp_avg_sqs)
    steps = _steps(step, len(params))
    beta1, beta2 = values["betas"]

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.radam_step(
            params, grads, exp_avgs, exp_avg_sqs, steps,
            lr=values["lr"], beta1=beta1, beta2=beta2, eps=values["eps"],
            weight_decay=values["weight_decay"], decoupled=decoupled_weight_decay,
            grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs))


@fill_doc
class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020), matching ``torch.optim.RAdam`` in PyTorch 2.x.

    Adam whose adaptive step is scaled by a variance rectification term, and
    replaced by plain bias-corrected momentum while the approximated length
    of the simple moving average :math:`\rho_t` is at most 5. The update rule
    is written out in :func:`fastopt.optim.functional.radam`. State per
    parameter: ``step``, ``exp_avg``, ``exp_avg_sq``, named as torch names them.

    Parameters
    ----------
    {params}
    lr : float, default 1e-3
        Learning rate.
    {betas}
    eps : float, default 1e-8
        Added to :math:`\sqrt{v_t}`. Must be > 0.
    weight_decay : float, default 0
        Weight decay factor. Must be >= 0.
    decoupled_weight_decay : bool, default False
        Multiply the parameter by ``1 - lr * weight_decay`` each step (as
        AdamW does) instead of adding ``weight_decay * param`` to the gradient.
    {maximize}
    {callbacks}

    References
    ----------
    Liu, L. et al. "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020.

    Examples
    --------
    The first five steps, while the variance of the adaptive rate is intractable, are
    steps of SGD with momentum; the sixth is the first rectified adaptive step:

    >>> import numpy as np
    >>> from fastopt.optim import RAdam
    >>> w = np.array([1.0, -2.0])
    >>> opt = RAdam([w], lr=0.1)
    >>> for _ in range(6):
    ...     _ = opt.step([2 * w])
    >>> w
    array([ 0.1995, -0.4012])
    """

    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_radam(group, prefix)

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        beta1, beta2 = group["betas"]
        self.kernels.radam_step(
            params, grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            steps,
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], decoupled=group["decoupled_weight_decay"],
            grad_factor=grad_factor, validate_only=validate_only,
        )
