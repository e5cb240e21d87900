"""Global-norm gradient clipping for callers that clip outside a step."""

from __future__ import annotations

import math

import numpy as np

from fastopt import _core
from fastopt.optim._checks import check_number


def clip_grad_norm_(grads, max_norm: float, *, error_if_nonfinite: bool = False) -> float:
    """Scale ``grads`` in place so that their global L2 norm is at most ``max_norm``.

    Follows ``torch.nn.utils.clip_grad_norm_`` with ``norm_type=2``: the
    coefficient is ``max_norm / (norm + 1e-6)``, applied only when below 1.
    To clip inside a fused step without writing the gradients, pass
    ``max_grad_norm`` to ``Optimizer.step`` instead.

    Parameters
    ----------
    grads : numpy.ndarray or list of numpy.ndarray
        float32 or float64, C-contiguous and writeable.
    max_norm : float
        Maximum global norm, >= 0.
    error_if_nonfinite : bool
        Raise RuntimeError when the norm is inf or NaN instead of scaling.

    Returns
    -------
    float
        The global norm before clipping.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import clip_grad_norm_
    >>> grads = [np.array([3.0, 0.0]), np.array([4.0])]
    >>> clip_grad_norm_(grads, max_norm=1.0)
    5.0
    >>> grads
    [array([0.6, 0. ]), array([0.8])]
    """
    arrays = [grads] if isinstance(grads, np.ndarray) else list(grads)
    max_norm = check_number("max_norm", max_norm, low=0.0)
    for i, g in enumerate(arrays):
        if isinstance(g, np.ndarray) and not g.flags.writeable:
            raise ValueError(f"grads[{i}]: expected a writeable array, got a read-only one")
    sumsq, _ = _core.grad_stats(arrays)
    # sumsq is inf when a gradient contains inf and NaN when one contains NaN, so
    # the norm is what torch reports in both cases.
    norm = math.sqrt(sumsq)
    if not math.isfinite(norm):
        if error_if_nonfinite:
            raise RuntimeError(
                f"the total gradient norm is {norm}, so the gradients cannot be clipped; "
                "pass error_if_nonfinite=False to scale them anyway"
            )
    coef = max_norm / (norm + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        # inf * 0 is NaN by design here (torch gives the same), not a warning.
        with np.errstate(invalid="ignore"):
            for g in arrays:
                g *= g.dtype.type(coef)
    return norm
