"""The genetic algorithm's operators and the annealing moves, one function each.

Every operator runs in C++ over the rows of a batch, and every random number it uses is
a draw of a counter-based generator: draw ``k`` of row ``r`` depends only on
``(seed, stream, r, k)``. A call therefore returns the same arrays on any thread count,
and :func:`uniform_draws` returns the numbers an operator reads, so its formula can be
replayed. Each docstring gives the draw layout. Crossovers take parent pairs as rows
``2p`` and ``2p + 1`` and return the children in the same rows. Draw 0 of pair ``p``
decides whether it recombines (``u < prob``); when it does not, the children copy their
parents.
Mutations return a mutated copy.
"""

from __future__ import annotations

import numpy as np

from fastopt import _core
from fastopt.dfo._checks import (
    check_int,
    check_parents,
    check_permutations,
    check_positive,
    check_probability,
    check_seed,
    parse_bounds,
)

__all__ = [
    "blend",
    "bit_flip",
    "gaussian_mutation",
    "inversion_mutation",
    "one_point_crossover",
    "order_crossover",
    "pmx",
    "polynomial_mutation",
    "sbx",
    "swap_mutation",
    "tournament",
    "two_point_crossover",
    "uniform_crossover",
    "uniform_draws",
]


def _stream(stream):
    return check_int("stream", stream, 0, 2**64 - 1)


def _bounds_for(bounds, genes):
    lower, upper = parse_bounds(bounds)
    if lower.size != genes:
        raise ValueError(f"bounds: expected {genes} (lower, upper) pairs, one per gene, got "
                         f"{lower.size}")
    return lower, upper


def _genes_dtype(parents):
    """float64 for real genes, uint8 for 0/1 genes (bool or uint8 input)."""
    dtype = np.asarray(parents).dtype
    return np.uint8 if dtype in (np.bool_, np.uint8) else np.float64


def _same_kind(result, parents):
    return result.view(np.bool_) if np.asarray(parents).dtype == np.bool_ else result


def uniform_draws(rows, num_draws, *, seed, stream=0):
    """Return the (rows, num_draws) uniform draws in [0, 1) that an operator call with
    this ``seed`` and ``stream`` reads: element ``[r, k]`` is draw ``k`` of row ``r``."""
    rows = check_int("rows", rows, 0)
    num_draws = check_int("num_draws", num_draws, 0)
    return _core.dfo_uniform_draws(check_seed(seed), _stream(stream), rows, num_draws)


def tournament(fitness, num_select, size=2, *, seed, stream=0):
    """Select ``num_select`` indices by tournaments of ``size`` (smaller fitness wins).

    Candidate ``j`` of selection ``i`` is ``floor(u[i, j] * n)``; ties go to the earlier
    candidate and NaN loses to any number.
    """
    fitness = np.ascontiguousarray(fitness, dtype=np.float64)
    if fitness.ndim != 1 or fitness.size < 1:
        raise ValueError(f"fitness: expected a non-empty 1-D array, got shape {fitness.shape}")
    num_select = check_int("num_select", num_select, 0)
    size = check_int("size", size, 1)
    return _core.dfo_tournament(fitness, num_select, size, check_seed(seed), _stream(stream))


def sbx(parents, bounds, eta=15.0, prob=0.9, *, seed, stream=0):
    r"""Simulated binary crossover (Deb & Agrawal, 1995) of real parent pairs.

    Gene ``j`` recombines when ``u[p, 1 + 3j] < 0.5``. With ``v = u[p, 2 + 3j]`` the spread
    factor is :math:`\beta = (2v)^{1/(\eta+1)}` for :math:`v \le 0.5` and
    :math:`(2(1 - v))^{-1/(\eta+1)}` otherwise, and the children are
    :math:`c_{1,2} = \tfrac12((1 \pm \beta) p_1 + (1 \mp \beta) p_2)`, exchanged when
    ``u[p, 3 + 3j] < 0.5`` and clipped to the bounds.

    References
    ----------
    K. Deb and R. B. Agrawal, "Simulated binary crossover for continuous search space",
    Complex Systems 9 (1995), 115-148.
    """
    parents = check_parents(parents, np.float64)
    lower, upper = _bounds_for(bounds, parents.shape[1])
    eta = check_positive("eta", eta, allow_zero=True)
    prob = check_probability("prob", prob)
    return _core.dfo_sbx(parents, lower, upper, eta, prob, check_seed(seed), _stream(stream))


def blend(parents, bounds, alpha=0.5, prob=0.9, *, seed, stream=0):
    r"""BLX-:math:`\alpha` crossover (Eshelman & Schaffer, 1993) of real parent pairs.

    Child ``k`` (0 or 1) takes gene ``j`` uniformly from
    :math:`[\min(p_1, p_2) - \alpha d, \max(p_1, p_2) + \alpha d]`, :math:`d = |p_1 - p_2|`,
    with draw ``u[p, 1 + 2j + k]``, then clipped to the bounds.
    """
    parents = check_parents(parents, np.float64)
    lower, upper = _bounds_for(bounds, parents.shape[1])
    alpha = check_positive("alpha", alpha, allow_zero=True)
    prob = check_probability("prob", prob)
    return _core.dfo_blend(parents, lower, upper, alpha, prob, check_seed(seed), _stream(stream))


def uniform_crossover(parents, prob=0.9, *, seed, stream=0):
    """Uniform crossover of real or 0/1 parent pairs: gene ``j`` is exchanged when
    ``u[p, 1 + j] < 0.5``."""
    dtype = _genes_dtype(parents)
    checked = check_parents(parents, dtype)
    prob = check_probability("prob", prob)
    children = _core.dfo_uniform_crossover(checked, prob, check_seed(seed), _stream(stream))
    return _same_kind(children, parents)


def one_point_crossover(parents, prob=0.9, *, seed, stream=0):
    """One-point crossover of real or 0/1 parent pairs: genes from
    ``c = 1 + floor(u[p, 1] (genes - 1))`` on are exchanged."""
    dtype = _genes_dtype(parents)
    checked = check_parents(parents, dtype)
    prob = check_probability("prob", prob)
    children = _core.dfo_point_crossover(checked, 1, prob, check_seed(seed), _stream(stream))
    return _same_kind(children, parents)


def two_point_crossover(parents, prob=0.9, *, seed, stream=0):
    """Two-point crossover of real or 0/1 parent pairs: with ``a, b`` the sorted
    ``floor(u[p, 1] (genes + 1))`` and ``floor(u[p, 2] (genes + 1))``, genes in ``[a, b)``
    are exchanged."""
    dtype = _genes_dtype(parents)
    checked = check_parents(parents, dtype)
    prob = check_probability("prob", prob)
    children = _core.dfo_point_crossover(checked, 2, prob, check_seed(seed), _stream(stream))
    return _same_kind(children, parents)


def _permutation_parents(parents):
    parents = check_parents(parents, np.int64)
    check_permutations("parents", parents)
    return parents


def order_crossover(parents, prob=0.9, *, seed, stream=0):
    """Order crossover, OX (Davis, 1985), of permutation pairs.

    The segment ``a..b`` runs between the sorted ``floor(u[p, 1] n)`` and
    ``floor(u[p, 2] n)``. Child 1 keeps parent 1's genes in the segment and fills positions
    ``b+1, ..., n-1, 0, ..., a-1`` with parent 2's other genes, in the order they appear
    from position ``b + 1`` on, wrapping around. Child 2 swaps the parents' roles.
    """
    parents = _permutation_parents(parents)
    prob = check_probability("prob", prob)
    return _core.dfo_order_crossover(parents, prob, check_seed(seed), _stream(stream))


def pmx(parents, prob=0.9, *, seed, stream=0):
    """Partially mapped crossover, PMX (Goldberg & Lingle, 1985), of permutation pairs.

    Child 1 keeps parent 1's segment ``a..b`` (drawn as in :func:`order_crossover`) and
    takes parent 2's gene ``g`` elsewhere. While ``g`` lies in parent 1's segment, it is
    replaced by parent 2's gene at ``g``'s position in parent 1.
    """
    parents = _permutation_parents(parents)
    prob = check_probability("prob", prob)
    return _core.dfo_pmx(parents, prob, check_seed(seed), _stream(stream))


def _real_rows(x):
    x = np.array(x, dtype=np.float64, order="C", copy=True)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"x: expected a 2-D array of rows with at least one gene, got shape "
                         f"{x.shape}")
    return x


def polynomial_mutation(x, bounds, eta=20.0, prob=None, *, seed, stream=0):
    r"""Polynomial mutation (Deb & Goyal, 1996) in the bounded form of Deb's NSGA-II code.

    Gene ``j`` of row ``r`` mutates when ``u[r, 2j] < prob`` (default ``1 / genes``). With
    ``v = u[r, 2j + 1]``, :math:`\delta_1 = (x - l)/(h - l)`, :math:`\delta_2 = (h - x)/(h - l)`
    and :math:`m = 1/(\eta + 1)`:
    :math:`\delta_q = (2v + (1 - 2v)(1 - \delta_1)^{\eta+1})^m - 1` for :math:`v < 0.5`,
    :math:`\delta_q = 1 - (2(1 - v) + 2(v - 0.5)(1 - \delta_2)^{\eta+1})^m` otherwise, and
    :math:`x \leftarrow \operatorname{clip}(x + \delta_q (h - l))`. Genes with equal bounds
    stay put. Returns a mutated copy of ``x``.

    References
    ----------
    K. Deb and M. Goyal, "A combined genetic adaptive search (GeneAS) for engineering
    design", Computer Science and Informatics 26 (1996), 30-45.
    """
    x = _real_rows(x)
    lower, upper = _bounds_for(bounds, x.shape[1])
    eta = check_positive("eta", eta, allow_zero=True)
    prob = 1.0 / x.shape[1] if prob is None else check_probability("prob", prob)
    _core.dfo_polynomial_mutation(x, lower, upper, eta, prob, check_seed(seed), _stream(stream))
    return x


def gaussian_mutation(x, bounds, sigma=0.1, prob=None, *, seed, stream=0):
    r"""Gaussian mutation: gene ``j`` of row ``r`` mutates when ``u[r, 3j] < prob`` (default
    ``1 / genes``) by :math:`\sigma (h - l) z`, with the Box-Muller normal
    :math:`z = \sqrt{-2 \log(1 - u[r, 3j+1])} \cos(2\pi u[r, 3j+2])`, then is clipped.
    ``sigma`` is relative to the width of the bounds. Returns a mutated copy of ``x``."""
    x = _real_rows(x)
    lower, upper = _bounds_for(bounds, x.shape[1])
    sigma = check_positive("sigma", sigma)
    prob = 1.0 / x.shape[1] if prob is None else check_probability("prob", prob)
    _core.dfo_gaussian_mutation(x, lower, upper, sigma, prob, check_seed(seed), _stream(stream))
    return x


def bit_flip(x, prob=None, *, seed, stream=0):
    """Bit-flip mutation of 0/1 rows: gene ``j`` of row ``r`` flips when ``u[r, j] < prob``
    (default ``1 / genes``). Returns a mutated copy, bool for bool input, else uint8."""
    rows = np.array(x, copy=True)
    if rows.ndim != 2 or rows.shape[1] < 1:
        raise ValueError(f"x: expected a 2-D array of rows with at least one gene, got shape "
                         f"{rows.shape}")
    if not np.isin(rows, (0, 1)).all():
        raise ValueError("x: expected only 0 and 1 (or False and True) genes")
    genes = np.ascontiguousarray(rows, dtype=np.uint8)
    prob = 1.0 / genes.shape[1] if prob is None else check_probability("prob", prob)
    _core.dfo_bit_flip(genes, prob, check_seed(seed), _stream(stream))
    return _same_kind(genes, x)


def _permutation_rows(x):
    x = np.array(x, dtype=np.int64, order="C", copy=True)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"x: expected a 2-D array of permutations, got shape {x.shape}")
    check_permutations("x", x)
    return x


def swap_mutation(x, prob=0.5, *, seed, stream=0):
    """Swap mutation of permutation rows: row ``r`` mutates when ``u[r, 0] < prob`` by
    exchanging positions ``floor(u[r, 1] n)`` and ``floor(u[r, 2] n)``. Returns a copy."""
    x = _permutation_rows(x)
    _core.dfo_swap_mutation(x, check_probability("prob", prob), check_seed(seed),
                            _stream(stream))
    return x


def inversion_mutation(x, prob=0.5, *, seed, stream=0):
    """Inversion mutation of permutation rows: row ``r`` mutates when ``u[r, 0] < prob`` by
    reversing positions ``a..b``, the sorted ``floor(u[r, 1] n)`` and ``floor(u[r, 2] n)``.
    Returns a copy."""
    x = _permutation_rows(x)
    _core.dfo_inversion_mutation(x, check_probability("prob", prob), check_seed(seed),
                                 _stream(stream))
    return x
