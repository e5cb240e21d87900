"""Working-set proximal Newton with coordinate descent ("newton-cd") for penalized GLMs."""

import numbers

import numpy as np
import scipy.sparse as sp

from fastopt import _core
from fastopt.linear_model._design import Design
from fastopt.linear_model._result import SolverResult

_LOSSES = ("logistic", "squared", "huber")


def _check_scalar(name, value, *, low, high=np.inf, low_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
    below = value <= low if low_open else value < low
    if not np.isfinite(value) or below or value > high:
        bound = f"> {low}" if low_open else f">= {low}"
        limit = f"a finite value {bound}" if high == np.inf else f"a value in [{low}, {high}]"
        raise ValueError(f"{name}: expected {limit}, got {value!r}")
    return value


def _first_non_finite(values):
    bad = np.flatnonzero(~np.isfinite(values))
    return (int(bad[0]), float(values[bad[0]])) if bad.size else None


def _to_csc(X):
    """Return X in CSC format; CSR with kernel dtypes is transposed on fastopt's threads.

    Each column lists its entries in row order, as ``X.tocsc()`` does. With one thread, or
    for other formats and dtypes, scipy converts X. So does a malformed CSR structure, and
    scipy then reports the fault.
    """
    kernel_dtypes = (X.format == "csr" and X.dtype in (np.float32, np.float64)
                     and X.indices.dtype == X.indptr.dtype
                     and X.indices.dtype in (np.int32, np.int64))
    if not kernel_dtypes or _core.get_num_threads() < 2:
        return X.tocsc()
    arrays = _core.csr_to_csc(np.ascontiguousarray(X.data), np.ascontiguousarray(X.indices),
                              np.ascontiguousarray(X.indptr), X.shape[1])
    if arrays is None:
        return X.tocsc()
    data, indices, indptr, sorted_rows = arrays
    C = sp.csc_matrix((data, indices, indptr), shape=X.shape, copy=False)
    if sorted_rows:
        # Strictly increasing row indices rule out duplicates, so skip scipy's O(nnz) check.
        C.has_canonical_format = True
    return C


def _column_matrix(X, check_finite=True):
    """Return (data, indices, indptr, n, p) with column access to X.

    CSC with float32/float64 data and int32/int64 indices and F-contiguous
    float32/float64 arrays are used as they are. Every other layout is
    converted once: CSR and the other sparse formats to CSC, C-order arrays to
    Fortran order, other dtypes to float64. Each conversion is a copy of X.
    A :class:`Design` in CSC or Fortran layout is used as it is: its arrays were
    checked when it was built, and any duplicate entries were summed then.
    """
    if isinstance(X, Design):
        if X.layout not in ("csc", "dense_f"):
            raise ValueError(f"X: expected a Design with column layout 'csc' or 'dense_f', "
                             f"got {X.layout!r}")
        return X.data, X.indices, X.indptr, X.n_samples, X.n_features
    if sp.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D matrix, got {X.ndim} dimensions")
        if X.format != "csc":
            X = _to_csc(X)  # copy: the solver reads X one column at a time
        if X.dtype not in (np.float32, np.float64):
            if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
                raise TypeError(f"X: expected real numbers, got dtype {X.dtype}")
            X = X.astype(np.float64)
        if not X.has_canonical_format:
            # Duplicate entries would make sum_i h_i x_ij^2 wrong; sum them in a copy.
            X = X.copy()
            X.sum_duplicates()
        indices, indptr = X.indices, X.indptr
        if indices.dtype != indptr.dtype or indices.dtype not in (np.int32, np.int64):
            indices = indices.astype(np.int64)
            indptr = indptr.astype(np.int64)
        data = np.ascontiguousarray(X.data)
        bad = _first_non_finite(data) if check_finite else None
        if bad is not None:
            k, value = bad
            row = int(indices[k])
            column = int(np.searchsorted(indptr, k, side="right") - 1)
            raise ValueError(f"X: expected finite values, got {value!r} at row {row}, "
                             f"column {column}")
        return data, indices, indptr, X.shape[0], X.shape[1]

    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array, got shape {X.shape}")
    if X.dtype not in (np.float32, np.float64):
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise TypeError(f"X: expected real numbers, got dtype {X.dtype}")
        X = X.astype(np.float64, order="F")
    X = np.asfortranarray(X)  # copy unless X is already column-major
    if not check_finite:
        return X, None, None, X.shape[0], X.shape[1]
    finite = np.isfinite(X)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise ValueError(f"X: expected finite values, got {float(X[row, column])!r} at row {row}, "
                         f"column {column}")
    return X, None, None, X.shape[0], X.shape[1]


def _sample_vector(name, values, n, check_finite=True):
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {values.shape}")
    if values.shape[0] != n:
        raise ValueError(f"{name}: expected {n} values (one per row of X), got {values.shape[0]}")
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype,
                                                                    np.complexfloating):
        raise TypeError(f"{name}: expected real numbers, got dtype {values.dtype}")
    values = np.ascontiguousarray(values, dtype=np.float64)
    bad = _first_non_finite(values) if check_finite else None
    if bad is not None:
        raise ValueError(f"{name}: expected finite values, got {bad[1]!r} at index {bad[0]}")
    return values


def newton_cd(X, y, *, loss, alpha, l1_ratio, sample_weight=None, fit_intercept=True, w0=None,
              tol=1e-6, max_iter=100, callback=None, huber_delta=1.0, check_input=True):
    r"""Minimize a penalized GLM objective by working-set proximal Newton with coordinate descent.

    The objective, with sample weights :math:`s_i` (default 1) normalized to
    sum to 1 and the intercept :math:`b` unpenalized, is

    .. math::

        F(w) = \sum_i s_i \, \ell(y_i, x_i^\top \beta + b)
               + \alpha \left(\rho \|\beta\|_1 + \frac{1 - \rho}{2} \|\beta\|_2^2\right)

    with :math:`\rho` = ``l1_ratio``. scikit-learn's ``Lasso(alpha)`` and
    ``ElasticNet(alpha, l1_ratio)`` are the same ``alpha``;
    ``LogisticRegression(C)`` with an L1 penalty is ``alpha = 1 / (C n)`` and
    ``l1_ratio = 1``; Spark's ``regParam`` and ``elasticNetParam`` are
    ``alpha`` and ``l1_ratio`` with standardization off.

    Each outer iteration, at the current :math:`w`, computes the gradient
    :math:`g` of the smooth part, the per-sample curvature
    :math:`h_i = s_i \max(\ell''(z_i), \epsilon)`, and the optimality
    violation (see ``fastopt.linear_model._stopping``). It then picks a working
    set :math:`W` of the nonzero coefficients and the most violating features
    at zero (its size doubles while the largest violation lies outside the
    previous one) and approximately solves the proximal Newton subproblem

    .. math::

        \min_{d,\; d_j = 0 \text{ for } j \notin W} \;
            g^\top d + \tfrac12 \sum_i h_i (x_i^\top d_\beta + d_b)^2
            + \alpha \rho \|\beta + d_\beta\|_1 + \tfrac{\alpha (1 - \rho)}{2}
              \|\beta + d_\beta\|_2^2

    by cyclic coordinate descent with the soft-thresholding update
    :math:`\beta_j \leftarrow S(H_j \beta_j - q_j, \alpha\rho) / (H_j + \alpha(1-\rho))`
    (:math:`q_j` the model's gradient, :math:`H_j` its curvature along
    :math:`j` with the intercept re-minimized after every step), to a
    tolerance that shrinks with the violation. A backtracking line search on
    :math:`F` along :math:`d` (Armijo, halving) sets the step; it costs
    O(n) per trial because it reuses :math:`X d`. With the squared loss the
    model is exact and the full step is taken, which makes the method glmnet's
    coordinate descent with residual updates.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Data. CSC (float32 or float64 values, int32 or int64 indices) and
        Fortran-ordered float32/float64 arrays are read in place; CSR, other
        sparse formats and C-ordered arrays are converted to CSC or Fortran
        order first, which copies X once.
    y : array-like of shape (n_samples,)
        Targets; labels in {-1, +1} for ``loss="logistic"``.
    loss : {"logistic", "squared", "huber"}
        Per-sample loss of the margin: :math:`\log(1 + e^{-yz})`,
        :math:`(z - y)^2 / 2`, or Huber with threshold ``huber_delta``.
    alpha : float
        Penalty strength, >= 0.
    l1_ratio : float
        Share of the L1 term, in [0, 1].
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights with a positive sum.
    fit_intercept : bool, default True
        Whether to fit an unpenalized intercept.
    w0 : array-like of shape (n_features + fit_intercept,), optional
        Starting point (coef, then intercept); default zeros. Not modified.
    tol : float, default 1e-6
        Stop when the violation is <= ``tol`` times its value at w = 0.
    max_iter : int, default 100
        Maximum number of outer (Newton) iterations.
    callback : callable, optional
        ``callback(w) -> bool`` with a copy of the parameters, called once per
        outer iteration; a true return value stops the solver.
    huber_delta : float, default 1.0
        Threshold of the Huber loss, > 0.
    check_input : bool, default True
        Whether to check that X, y and sample_weight are finite, the labels are in
        {-1, +1} and the weights non-negative. Pass False only for arrays already checked,
        such as those a :class:`GLMObjective` was built from; the checks read every entry.

    Returns
    -------
    SolverResult
        ``w`` (coef then intercept, float64), ``n_iter`` (outer iterations),
        ``violation`` and ``violation0``, ``converged`` and ``objective`` at
        ``w``. Every accepted step decreases F, so ``w`` is the best iterate
        even when the solver stops early.

    Raises
    ------
    ValueError
        For an unsupported loss, alpha < 0, l1_ratio outside [0, 1], NaN or inf
        in X, y, sample_weight or w0, mismatched lengths, negative weights, or
        logistic labels outside {-1, +1}.

    References
    ----------
    G.-X. Yuan, C.-H. Ho and C.-J. Lin, "An improved GLMNET for
    L1-regularized logistic regression", JMLR 13, 2012.
    J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for
    generalized linear models via coordinate descent", J. Stat. Softw. 33, 2010.
    M. Massias, S. Vaiter, A. Gramfort and J. Salmon, "Dual extrapolation for
    sparse generalized linear models", JMLR 21, 2020.
    Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias,
    "Beyond L1: faster and better sparse models with skglm", NeurIPS 2022.
    """
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(map(repr, _LOSSES))}, got {loss!r}")
    alpha = _check_scalar("alpha", alpha, low=0.0)
    l1_ratio = _check_scalar("l1_ratio", l1_ratio, low=0.0, high=1.0)
    tol = _check_scalar("tol", tol, low=0.0)
    huber_delta = _check_scalar("huber_delta", huber_delta, low=0.0, low_open=True)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter: expected an int >= 0, got {max_iter!r}")
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept: expected a bool, got {type(fit_intercept).__name__}")
    if not isinstance(check_input, (bool, np.bool_)):
        raise TypeError(f"check_input: expected a bool, got {type(check_input).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a callable or None, got {type(callback).__name__}")

    data, indices, indptr, n, p = _column_matrix(X, check_finite=check_input)
    if n < 1:
        raise ValueError("X: expected at least 1 sample, got 0")
    y = _sample_vector("y", y, n, check_finite=check_input)
    if loss == "logistic" and check_input:
        bad = np.flatnonzero((y != 1.0) & (y != -1.0))
        if bad.size:
            raise ValueError(f"y: expected labels in {{-1, +1}} for the logistic loss, got "
                             f"{float(y[bad[0]])!r} at index {bad[0]}")
    if sample_weight is not None:
        sample_weight = _sample_vector("sample_weight", sample_weight, n,
                                       check_finite=check_input)
        negative = np.flatnonzero(sample_weight < 0.0)
        if negative.size:
            raise ValueError(f"sample_weight: expected values >= 0, got "
                             f"{float(sample_weight[negative[0]])!r} at index {negative[0]}")
        if not sample_weight.sum() > 0.0:
            raise ValueError("sample_weight: expected a positive sum, got all zeros")

    size = p + (1 if fit_intercept else 0)
    if w0 is None:
        w = np.zeros(size)
    else:
        w = np.array(w0, dtype=np.float64)  # a copy: the kernel writes into it
        if w.shape != (size,):
            raise ValueError(f"w0: expected shape ({size},) (n_features + fit_intercept), got "
                             f"{w.shape}")
        bad = _first_non_finite(w)
        if bad is not None:
            raise ValueError(f"w0: expected finite values, got {bad[1]!r} at index {bad[0]}")

    info = _core.newton_cd(data, indices, indptr, n, p, y, sample_weight, w, loss=loss,
                           alpha=alpha, l1_ratio=l1_ratio, fit_intercept=bool(fit_intercept),
                           huber_delta=huber_delta, tol=tol, max_iter=int(max_iter),
                           callback=callback)
    return SolverResult(w=w, n_iter=int(info["n_iter"]), violation=float(info["violation"]),
                        violation0=float(info["violation0"]), converged=bool(info["converged"]),
                        objective=float(info["objective"]), solver="newton-cd")
