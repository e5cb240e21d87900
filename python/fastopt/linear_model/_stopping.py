"""The optimality measure that every linear-model solver stops on.

For F(w) = f(w) + a1 ||coef||_1 with f smooth (data term plus the L2 part of
the penalty), w is optimal when 0 lies in the subdifferential of F. The
violation is the infinity norm of the subgradient of smallest norm:

    penalized j, w_j != 0:  |g_j + a1 sign(w_j)|
    penalized j, w_j == 0:  max(|g_j| - a1, 0)
    intercepts:             |g_j|

where g is the gradient of f and a1 = alpha * l1_ratio. Solvers stop when it
falls to ``tol`` times its value at w = 0, so one tolerance means the same
thing for every solver, loss and scale of the data.
"""

import numpy as np


def dot(a, b):
    """Return the inner product of two 1-D arrays as a float, without BLAS.

    OpenBLAS splits a dot product of more than 10000 entries over its own threads. On a
    machine with few cores they compete with fastopt's threads: one such product over
    news20's 62061 coefficients took longer than a pass over the data.
    """
    return float(np.einsum("i,i->", a, b))


def penalty_value(w, alpha, l1_ratio, n_features, n_outputs):
    """alpha * (l1_ratio ||coef||_1 + (1 - l1_ratio) / 2 ||coef||^2); intercepts are free."""
    coef = w[: n_features * n_outputs]
    return float(alpha * (l1_ratio * np.abs(coef).sum()
                          + 0.5 * (1.0 - l1_ratio) * dot(coef, coef)))


def add_l2_gradient(grad, w, alpha, l1_ratio, n_features, n_outputs):
    """Add the gradient of the L2 part of the penalty to ``grad`` in place."""
    a2 = alpha * (1.0 - l1_ratio)
    if a2 != 0.0:
        k = n_features * n_outputs
        grad[:k] += a2 * w[:k]
    return grad


def optimality_violation(grad_smooth, w, alpha, l1_ratio, n_features, n_outputs):
    """Infinity norm of the minimum-norm subgradient of the full objective.

    Parameters
    ----------
    grad_smooth : ndarray
        Gradient of the data term plus the L2 part of the penalty at ``w``.
    w : ndarray
        Parameters in the flat layout; entries past ``n_features * n_outputs``
        are intercepts and carry no penalty.
    alpha, l1_ratio : float
        Penalty strength and its L1 share.
    n_features, n_outputs : int
        Shape of the coefficient block.

    Returns
    -------
    float
    """
    k = n_features * n_outputs
    a1 = alpha * l1_ratio
    g = grad_smooth[:k]
    coef = w[:k]
    if a1 > 0.0:
        at_zero = coef == 0.0
        sub = np.where(at_zero, np.maximum(np.abs(g) - a1, 0.0),
                       np.abs(g + a1 * np.sign(coef)))
    else:
        sub = np.abs(g)
    worst = float(sub.max()) if sub.size else 0.0
    if grad_smooth.size > k:
        worst = max(worst, float(np.abs(grad_smooth[k:]).max()))
    return worst
