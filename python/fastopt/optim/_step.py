"""The gradient pre-pass shared by every optimizer: unscaling, non-finite
detection and global-norm clipping folded into one factor on the gradients."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastopt import _core
from fastopt._gpu import check_one_device, cuda_module
from fastopt.optim._checks import check_number


@dataclass(frozen=True)
class StepResult:
    """Outcome of one optimizer step.

    Parameters
    ----------
    found_inf : bool, default False
        True when a gradient held inf or NaN. The step was skipped: no
        parameter, state entry or step count changed.
    grad_norm : float or None, default None
        Global L2 norm of the unscaled gradients (before clipping), computed
        when clipping or non-finite detection was requested, else None.

    Examples
    --------
    With ``max_grad_norm`` the step reports the norm before clipping:

    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> w = np.zeros(2)
    >>> SGD([w], lr=0.1).step([np.array([3.0, 4.0])], max_grad_norm=1.0)
    StepResult(found_inf=False, grad_norm=5.0)
    >>> w
    array([-0.06, -0.08])
    """

    found_inf: bool = False
    grad_norm: float | None = None


def step_options(grad_scale, check_finite, max_grad_norm) -> tuple[float, bool, float | None]:
    """Check the gradient options of a step and return ``(1 / grad_scale, check_finite, max_grad_norm)``.

    ``check_finite`` None becomes True exactly when ``grad_scale`` is given.
    """
    factor = 1.0
    if grad_scale is not None:
        scale = check_number("grad_scale", grad_scale, low=0.0, low_open=True)
        factor = 1.0 / scale
        if not math.isfinite(factor) or factor == 0.0:
            raise ValueError(f"grad_scale: expected a value whose inverse is finite and nonzero, got {grad_scale!r}")
    if check_finite is None:
        check_finite = grad_scale is not None
    elif not isinstance(check_finite, bool):
        raise TypeError(f"check_finite: expected a bool or None, got {type(check_finite).__name__} {check_finite!r}")
    if max_grad_norm is not None:
        max_grad_norm = check_number("max_grad_norm", max_grad_norm, low=0.0)
    return factor, check_finite, max_grad_norm


def gradient_factor(grads, *, grad_scale, check_finite, max_grad_norm, maximize=False):
    """Return ``(factor, StepResult)`` for a step over ``grads``.

    ``factor`` multiplies every gradient element inside the fused update: it
    is ``1 / grad_scale`` times the clipping coefficient, negated for
    ``maximize``. When ``check_finite`` is None it defaults to True exactly
    when ``grad_scale`` is given, as with a mixed-precision gradient scaler.

    Clipping and detection need the global norm before any element is
    updated, so they cost one read-only pass over the gradients ahead of the
    update pass. A step without them reads each gradient once.
    """
    factor, check_finite, max_grad_norm = step_options(grad_scale, check_finite, max_grad_norm)

    result = StepResult()
    if check_finite or max_grad_norm is not None:
        sumsq, finite = _core.grad_stats(list(grads))
        norm = math.sqrt(sumsq) * factor
        if check_finite and not finite:
            return factor, StepResult(found_inf=True, grad_norm=norm)
        if max_grad_norm is not None:
            # torch.nn.utils.clip_grad_norm_ adds 1e-6 to the norm and never
            # scales up; fastopt follows it so clipped runs match torch.
            factor *= min(1.0, max_grad_norm / (norm + 1e-6))
        result = StepResult(found_inf=False, grad_norm=norm)
    if maximize:
        factor = -factor
    return factor, result


def needs_prepass(grad_scale, check_finite, max_grad_norm) -> bool:
    """Return whether a step must read the gradients before it updates anything."""
    return bool(check_finite) or max_grad_norm is not None or (check_finite is None and grad_scale is not None)


def run_step(kernel, grads, *, grad_scale, check_finite, max_grad_norm, maximize, arrays=None) -> StepResult:
    """Run ``kernel(kernels, grad_factor, validate_only)`` as one fused step of a functional rule.

    ``kernels`` is ``fastopt._core`` for NumPy arrays, or a
    :class:`fastopt.optim._gpu_step.GpuKernels` for GPU arrays; both have the
    same step functions. ``arrays`` names every array argument, so a call
    that mixes CPU and GPU arrays raises a TypeError naming one of each.

    The kernel validates its arrays before it writes, so a plain step is one
    call. With a pre-pass the arrays are validated first, so that a bad array
    raises instead of being reported as a non-finite gradient.
    """
    named = dict(arrays) if arrays else {}
    named.setdefault("grads", grads)
    if check_one_device(**named):
        from fastopt.optim._gpu_step import GpuKernels, gpu_prepass

        cuda_module()  # the first GPU use: raises if the module, a device or CuPy is missing
        kernel(GpuKernels(), 1.0, True)
        factor, step, result = gpu_prepass(
            [g for g in grads], grad_scale=grad_scale, check_finite=check_finite,
            max_grad_norm=max_grad_norm, maximize=maximize,
        )
        kernel(GpuKernels(step), factor, False)
        return result
    if needs_prepass(grad_scale, check_finite, max_grad_norm):
        kernel(_core, 1.0, True)
    factor, result = gradient_factor(
        grads, grad_scale=grad_scale, check_finite=check_finite, max_grad_norm=max_grad_norm, maximize=maximize
    )
    if not result.found_inf:
        kernel(_core, factor, False)
    return result
