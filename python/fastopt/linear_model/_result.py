"""Result type shared by every linear-model solver."""

from dataclasses import dataclass

import numpy as np


@dataclass
class SolverResult:
    """Outcome of one solver run on a regularized GLM objective.

    Attributes
    ----------
    w : ndarray of float64
        Parameters in the flat layout: coef (K, p) row-major, then K intercepts.
    n_iter : int
        Outer iterations taken.
    violation : float
        Optimality violation at ``w`` (see ``_stopping.optimality_violation``).
    violation0 : float
        The same measure at ``w = 0``; the run converged when
        ``violation <= tol * violation0``.
    converged : bool
        Whether the stopping rule was met within ``max_iter``.
    objective : float
        Full objective, data term plus penalty, at ``w``.
    solver : str
        Name of the solver that produced the result.
    """

    w: np.ndarray
    n_iter: int
    violation: float
    violation0: float
    converged: bool
    objective: float
    solver: str = ""
