"""Adam and AdamW: fused steps matching torch.optim.Adam and torch.optim.AdamW."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastopt._gpu import is_gpu_array
from fastopt.optim._docstrings import fill_doc
from fastopt.optim._checks import check_betas, check_bool, check_number
from fastopt.optim._step import StepResult, run_step
from fastopt.optim.optimizer import Optimizer, zeros_state


def _as_list(arrays):
    return [arrays] if isinstance(arrays, np.ndarray) or is_gpu_array(arrays) else list(arrays)


def _check_adam(values: dict[str, Any], prefix: str) -> None:
    values["lr"] = check_number(f"{prefix}lr", values["lr"], low=0.0)
    values["betas"] = check_betas(f"{prefix}betas", values["betas"])
    values["eps"] = check_number(f"{prefix}eps", values["eps"], low=0.0, low_open=True)
    values["weight_decay"] = check_number(f"{prefix}weight_decay", values["weight_decay"], low=0.0)
    for name in ("amsgrad", "maximize"):
        check_bool(f"{prefix}{name}", values[name])


def _steps(step, count: int) -> list[int]:
    if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
        return [int(step)] * count
    if is_gpu_array(step):
        return step  # device step counters, checked by the GPU kernels' wrapper
    try:
        steps = list(step)
    except TypeError:
        raise TypeError(
            f"step: expected an int or a sequence of ints, got {type(step).__name__} {step!r}"
        ) from None
    for i, s in enumerate(steps):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"step[{i}]: expected an int, got {type(s).__name__} {s!r}")
    return [int(s) for s in steps]


@fill_doc
def adam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    max_exp_avg_sqs=None,
    *,
    step,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    grad_scale: float | None = None,
    check_finite: bool | None = None,
    max_grad_norm: float | None = None,
) -> StepResult:
    r"""Apply one fused Adam step to arrays whose state the caller owns.

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \\
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
                   \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    with ``g_t`` the (negated, if ``maximize``) gradient plus
    ``weight_decay * theta`` (L2), or the parameter first multiplied by
    ``1 - lr * weight_decay`` when ``decoupled_weight_decay`` (AdamW). With
    ``amsgrad`` the running maximum of the uncorrected ``v_t`` replaces it.

    Parameters
    ----------
    params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs : array or list of arrays
        Same shapes and dtype (float32 or float64), C-contiguous. Everything
        but ``grads`` is updated in place. ``max_exp_avg_sqs`` is required
        with ``amsgrad``.
    step : int or sequence of int
        Number of this update for each parameter, starting at 1.
    lr : float
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    eps, weight_decay : float
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    amsgrad, maximize : bool
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    decoupled_weight_decay : bool, default False
        Multiply the parameter by ``1 - lr * weight_decay`` before the update (AdamW)
        instead of adding ``weight_decay * theta`` to the gradient.
    {step_options}

    Returns
    -------
    {step_result}

    Examples
    --------
    The first bias-corrected step moves each coordinate by about ``lr`` against the sign of its gradient:

    >>> import numpy as np
    >>> import fastopt
    >>> w, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    >>> _ = fastopt.optim.functional.adam(w, 2 * w, m, v, step=1, lr=0.1)
    >>> w
    array([ 0.9, -1.9])
    """
    values = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
    _check_adam(values, "")
    check_bool("decoupled_weight_decay", decoupled_weight_decay)
    params, grads = _as_list(params), _as_list(grads)
    exp_avgs, exp_avg_sqs = _as_list(exp_avgs), _as_list(exp_avg_sqs)
    maxes = None if max_exp_avg_sqs is None else _as_list(max_exp_avg_sqs)
    steps = _steps(step, len(params))
    beta1, beta2 = values["betas"]

    def call(kernels, factor: float, validate_only: bool) -> None:
        kernels.adam_step(
            params, grads, exp_avgs, exp_avg_sqs, maxes, steps,
            lr=values["lr"], beta1=beta1, beta2=beta2, eps=values["eps"],
            weight_decay=values["weight_decay"], amsgrad=amsgrad,
            decoupled=decoupled_weight_decay, grad_factor=factor, validate_only=validate_only,
        )

    return run_step(call, grads, grad_scale=grad_scale, check_finite=check_finite,
                    max_grad_norm=max_grad_norm, maximize=maximize,
                    arrays=dict(params=params, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs, max_exp_avg_sqs=maxes))


@fill_doc
class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), matching ``torch.optim.Adam`` in PyTorch 2.x.

    The update rule is written out in :func:`fastopt.optim.functional.adam`.
    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with
    ``amsgrad``, ``max_exp_avg_sq``, named as torch names them.

    Parameters
    ----------
    {params}
    lr : float, default 1e-3
        Learning rate.
    {betas}
    eps : float, default 1e-8
        Added after the bias-corrected square root. Must be > 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient. Must be >= 0.
    amsgrad : bool, default False
        Use the running maximum of the second moment (the AMSGrad variant).
    {maximize}
    {callbacks}

    References
    ----------
    Kingma, D. P. and Ba, J. "Adam: A Method for Stochastic Optimization", ICLR 2015.
    Reddi, S. J., Kale, S. and Kumar, S. "On the Convergence of Adam and Beyond", ICLR 2018.

    Examples
    --------
    Minimize :math:`\frac12 \|w - t\|^2`, whose gradient is :math:`w - t`:

    >>> import numpy as np
    >>> from fastopt.optim import Adam
    >>> w = np.zeros(4)
    >>> target = np.array([1.0, -2.0, 0.5, 3.0])
    >>> opt = Adam([w], lr=0.1)
    >>> for _ in range(300):
    ...     result = opt.step([w - target])
    >>> bool(np.allclose(w, target, atol=1e-2)), opt.state_dict()["state"][0]["step"]
    (True, 300)
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, callbacks=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize),
                         callbacks=callbacks)

    def check_group(self, group, prefix):
        _check_adam(group, prefix)

    def init_state(self, group, param):
        state = {"step": 0, "exp_avg": zeros_state(param), "exp_avg_sq": zeros_state(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(param)
        return state

    def update_group(self, group, params, grads, states, steps, grad_factor, validate_only):
        beta1, beta2 = group["betas"]
        self.kernels.adam_step(
            params, grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["max_exp_avg_sq"] for s in states] if group["amsgrad"] else None,
            steps,
            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
            decoupled=self.decoupled_weight_decay, grad_factor=grad_factor, validate_only=validate_only,
        )


@fill_doc
class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019), matching ``torch.optim.AdamW``.

    Identical to :class:`Adam` except that weight decay is decoupled: each
    step first multiplies the parameter by ``1 - lr * weight_decay``, then
    applies the Adam update to the plain gradient. The default
    ``weight_decay`` is 1e-2, as in torch.

    Parameters
    ----------
    {params}
    lr : float, default 1e-3
        Learning rate.
    betas : (float, float), default (0.9, 0.999)
        As in :class:`Adam`.
    eps : float, default 1e-8
        As in :class:`Adam`.
    weight_decay : float, default 1e-2
        Decoupled weight decay factor. Must be >= 0.
    amsgrad : bool, default False
        As in :class:`Adam`.
    {maximize}
    {callbacks}

    References
    ----------
    Loshchilov, I. and Hutter, F. "Decoupled Weight Decay Regularization", ICLR 2019.

    Examples
    --------
    With a zero gradient only the decoupled decay acts, shrinking the parameter by a factor
    ``1 - lr * weight_decay`` per step:

    >>> import numpy as np
    >>> from fastopt.optim import AdamW
    >>> w = np.ones(3)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.1)
    >>> for _ in range(10):
    ...     _ = opt.step([np.zeros(3)])
    >>> bool(np.allclose(w, 0.99 ** 10))
    True
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, callbacks=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, callbacks=callbacks)


@fill_doc
def adamw(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, weight_decay: float = 1e-2,
          **kwargs) -> StepResult:
    r"""Apply one fused AdamW step: :func:`adam` with decoupled weight decay.

    The parameter is first multiplied by :math:`1 - \gamma \lambda`, then takes the
    Adam update of the plain gradient.

    Parameters
    ----------
    params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs : array or list of arrays
        As in :func:`adam`.
    step : int or sequence of int
        Number of this update for each parameter, starting at 1.
    weight_decay : float, default 1e-2
        Decoupled weight decay factor :math:`\lambda`. Must be >= 0.
    **kwargs
        The other keywords of :func:`adam`, except ``decoupled_weight_decay``.

    Returns
    -------
    {step_result}

    References
    ----------
    Loshchilov, I. and Hutter, F. "Decoupled Weight Decay Regularization", ICLR 2019.

    Examples
    --------
    With ``lr=0.1`` and ``weight_decay=0.5`` the parameter shrinks by 5% before the
    Adam step:

    >>> import numpy as np
    >>> import fastopt
    >>> w, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    >>> _ = fastopt.optim.functional.adamw(w, 2 * w, m, v, step=1, lr=0.1, weight_decay=0.5)
    >>> w
    array([ 0.85, -1.8 ])
    """
    return adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step=step, weight_decay=weight_decay,
                decoupled_weight_decay=True, **kwargs)
