"""Lion: a fused sign-momentum step (Chen et al., 2023)."""

from __future__ import annotations

from typing import Any

from fastopt import _core
from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_betas, check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list
from fastopt.optim.optimizer import Optimizer


def _check_lion(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["betas"] = check_betas(f"{prefix}betas", values["betas"])
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    check_bool(f"{prefix}maximize", values["maximize"])


@fill_doc
def lion(
    params,
    grads,
    exp_avgs,
    *,
    step=None,
    lr: float = 1e-4,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.0,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused Lion step to arrays whose state the caller owns.

    .. math::

        c_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \\
        \theta_t = \theta_{t-1} (1 - \gamma \lambda) - \gamma \operatorname{sign}(c_t), \\
        m_t = \beta_2 m_{t-1} + (1 - \beta_2) g_t

    with ``g_t`` the (negated, if ``maximize``) gradient, :math:`\gamma` =
    ``lr``, :math:`\lambda` = ``weight_decay`` and :math:`\operatorname{sign}(0) = 0`.
    A NaN in :math:`c_t` is passed on to the parameter rather than treated as 0.
    Lion has no bias correction, so ``step`` is accepted only so that every
    functional rule takes the same arguments, and is ignored.

    Parameters
    ----------
    params, grads, exp_avgs : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. ``params``
        and ``exp_avgs`` are updated in place.
    step : int or sequence of int, optional
        Unused.
    lr : float
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    weight_decay : float
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    maximize : bool
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    Lion steps by ``lr`` times the sign of the interpolated momentum:

    >>> import numpy as np
    >>> import fastopt
    >>> w, m = np.array([1.0, -2.0]), np.zeros(2)
    >>> _ = fastopt.optim.functional.lion(w, 2 * w, m, lr=0.1)
    >>> w
    array([ 0.9, -1.9])
    """
    values = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
    _check_lion(values, "")
    params, grads, exp_avgs = _as_list(params), _as_list(grads), _as_list(exp_avgs)
    beta1, beta2 = values["betas"]

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.lion_step(
            params, grads, exp_avgs, lr=values["lr"], beta1=beta1, beta2=beta2,
            weight_decay=values["weight_decay"], grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, exp_avgs=exp_avgs))


@fill_doc
class Lion(Optimizer):
    r"""Lion (Chen et al., 2023): the sign of an interpolated momentum as the update.

    Every coordinate moves by exactly ``lr`` (or not at all), so the authors
    recommend a learning rate 3 to 10 times smaller than AdamW's and a
    ``weight_decay`` larger by the same factor. The update rule is written out
    in :func:`fastopt.optim.functional.lion`. State per parameter: ``step``
    and ``exp_avg`` (the momentum :math:`m`).

    Parameters
    ----------
    {params}
    lr : float, default 1e-4
        Learning rate.
    betas : (float, float), default (0.9, 0.99)
        ``beta1`` interpolates the update direction, ``beta2`` the momentum.
        Each must be in [0, 1).
    weight_decay : float, default 0
        Decoupled: ``param *= 1 - lr * weight_decay``. Must be >= 0.
    {maximize}
    {callbacks}

    References
    ----------
    Chen, X. et al. "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023,
    Algorithm 2 (arXiv:2302.06675).

    Examples
    --------
    Each coordinate moves by exactly ``lr``, whatever the magnitude of its gradient, unless
    the interpolated momentum is zero:

    >>> import numpy as np
    >>> from fastopt.optim import Lion
    >>> w = np.array([1.0, -2.0, 0.0])
    >>> opt = Lion([w], lr=0.01)
    >>> _ = opt.step([np.array([3.0, -0.001, 0.0])])
    >>> w
    array([ 0.99, -1.99,  0.  ])
    """

    state_names = ("exp_avg",)

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False,
                 callbacks=None):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_lion(group, prefix)

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        beta1, beta2 = group["betas"]
        # Lion's update does not use the step count. The GPU kernels still take
        # the device step counters, to advance them when the step applies.
        counters = {} if self.kernels is _core else {"steps": steps}
        self.kernels.lion_step(
            params, grads, [s["exp_avg"] for s in states],
            lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
            grad_factor=grad_factor, validate_only=validate_only, **counters,
        )
