"""LAMB: a fused layer-wise adaptive step (You et al., 2020)."""

from __future__ import annotations

from typing import Any

from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_betas, check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.adam import _as_list, _steps
from fastopt.optim.optimizer import Optimizer


def _check_lamb(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["betas"] = check_betas(f"{prefix}betas", values["betas"])
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    for name in ("bias_correction", "maximize"):
        check_bool(f"{prefix}{name}", values[name])


@fill_doc
def lamb(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    *,
    step,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    bias_correction: bool = True,
    maximize: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused LAMB step to arrays whose state the caller owns.

    For each parameter array :math:`\theta`:

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \\
        u_t = \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
              + \lambda \theta_{t-1}, \\
        \theta_t = \theta_{t-1} - \gamma
                   \frac{\lVert \theta_{t-1} \rVert}{\lVert u_t \rVert} u_t

    with ``g_t`` the (negated, if ``maximize``) gradient, :math:`\gamma` =
    ``lr`` and :math:`\lambda` = ``weight_decay``. Without ``bias_correction``
    the factors :math:`1 - \beta^t` are 1.

    Norms and trust ratio: :math:`\lVert\cdot\rVert` is the L2 (Frobenius)
    norm of the whole array, flattened, so each parameter array is one
    "layer" with one trust ratio. The ratio is 1 when either norm is 0 (a
    parameter initialized to zero, or a zero update). The scaling function
    :math:`\phi` of the paper is the identity: the ratio is not clipped. The
    squares are summed in float64 over fixed blocks of elements, so the
    result does not depend on the thread count.

    Parameters
    ----------
    params, grads, exp_avgs, exp_avg_sqs : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. Everything
        but ``grads`` is updated in place.
    step : int or sequence of int
        Number of this update for each parameter, starting at 1.
    lr : float
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    eps, weight_decay : float
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    bias_correction, maximize : bool
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    The trust ratio :math:`\|\theta\| / \|r\|` scales the Adam direction to the size of the parameter:

    >>> import numpy as np
    >>> import fastopt
    >>> w, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    >>> _ = fastopt.optim.functional.lamb(w, 2 * w, m, v, step=1, lr=0.1)
    >>> w
    array([ 0.8419, -1.8419])
    """
    values = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                  bias_correction=bias_correction, maximize=maximize)
    _check_lamb(values, "")
    params, grads = _as_list(params), _as_list(grads)
    exp_avgs, exp_avg_sqs = _as_list(exp_avgs), _as_list(exp_avg_sqs)
    steps = _steps(step, len(params))
    beta1, beta2 = values["betas"]

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.lamb_step(
            params, grads, exp_avgs, exp_avg_sqs, steps,
            lr=values["lr"], beta1=beta1, beta2=beta2, eps=values["eps"],
            weight_decay=values["weight_decay"], bias_correction=bias_correction,
            grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs))


@fill_doc
class LAMB(Optimizer):
    r"""LAMB (You et al., 2020): Adam's direction scaled per layer by a trust ratio.

    Each parameter array takes a step of length ``lr * ||param||`` in the
    direction of its Adam update plus ``weight_decay * param``. The update
    rule, the norm convention and the zero-norm rule are written out in
    :func:`fastopt.optim.functional.lamb`. State per parameter: ``step``,
    ``exp_avg`` and ``exp_avg_sq``.

    A step makes two passes over memory, because the trust ratio needs
    both norms before any element changes: one that updates the moments
    and sums the squares, one that writes the parameter.

    Parameters
    ----------
    {params}
    lr : float, default 1e-3
        Learning rate.
    {betas}
    eps : float, default 1e-6
        Added after the bias-corrected square root. Must be > 0.
    weight_decay : float, default 0
        Added to the update direction, so it is scaled by the trust ratio too. Must be
        >= 0.
    bias_correction : bool, default True
        Divide the moments by their bias corrections, as Adam does.
    {maximize}
    {callbacks}

    References
    ----------
    You, Y. et al. "Large Batch Optimization for Deep Learning: Training BERT
    in 76 minutes", ICLR 2020, Algorithm 2 (arXiv:1904.00962).

    Examples
    --------
    The trust ratio makes each step proportional to the parameter's norm, so a large and a
    small parameter both move by 1% with ``lr=0.01``:

    >>> import numpy as np
    >>> from fastopt.optim import LAMB
    >>> large, small = np.full(2, 10.0), np.full(2, 0.1)
    >>> opt = LAMB([large, small], lr=0.01)
    >>> _ = opt.step([np.ones(2), np.ones(2)])
    >>> large, small
    (array([9.9, 9.9]), array([0.099, 0.099]))
    """

    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
                 bias_correction=True, *, maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      bias_correction=bias_correction, maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_lamb(group, prefix)

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        beta1, beta2 = group["betas"]
        self.kernels.lamb_step(
            params, grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            steps,
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], bias_correction=group["bias_correction"],
            grad_factor=grad_factor, validate_only=validate_only,
        )
