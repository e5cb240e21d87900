"""Online linear solvers over sparse rows: lazy SGD / Adagrad / Adam and FTRL-Proximal.

Both classes process one row at a time, in the caller's order, in compiled code
(``fastopt._core.lazy_sgd_pass`` and ``fastopt._core.ftrl_pass``), touching only
the row's stored coordinates. They own their state as NumPy arrays, exposed by
``get_state``/``set_state`` and by pickling.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

from fastopt import _core
from fastopt._exclusive import exclusive
from fastopt._sparse_checks import check_index_range, check_sparse_structure
from fastopt.optim._checks import check_bool, check_number

__all__ = ["FTRLProximal", "LazySGD", "partial_fit_many"]

_LOSS_CODES = {"log_loss": 0, "squared_error": 1, "hinge": 2, "huber": 3}
_CLASSIFICATION_LOSSES = ("log_loss", "hinge")
_LEARNING_RATE_CODES = {"constant": 0, "invscaling": 1, "optimal": 2, "adaptive": 3}
_METHODS = ("sgd", "adagrad", "adam")
# Method codes of the compiled kernel; "sgd" with momentum > 0 runs as "momentum".
_METHOD_CODES = {"sgd": 0, "momentum": 1, "adagrad": 2, "adam": 3}

# Slots of the LazySGD globals array (csrc/cpu/online.hpp, LazySgdGlobal).
_SCALE, _L1_CUMULATIVE, _INTERCEPT, _INTERCEPT_STATE1, _INTERCEPT_STATE2 = 0, 1, 2, 3, 4
_ETA, _AVERAGE_SCALE_SUM, _AVERAGE_INTERCEPT_SUM = 5, 6, 7
# Slots of the FTRLProximal globals array (FtrlGlobal).
_FTRL_INTERCEPT_Z, _FTRL_INTERCEPT_N = 0, 1


def _check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {sorted(choices)}, got {value!r}")
    return value


def _check_n_features(n_features) -> int:
    if isinstance(n_features, bool) or not isinstance(n_features, numbers.Integral):
        raise ValueError(f"n_features: expected a positive integer, got {n_features!r}")
    if n_features < 1:
        raise ValueError(f"n_features: expected a positive integer, got {n_features!r}")
    return int(n_features)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)


def _check_dtype(dtype) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype: expected float32 or float64, got {dtype!r}") from None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype: expected float32 or float64, got {dtype!r}")
    return resolved


def check_real_dtype(dtype) -> None:
    """Raise ValueError unless ``dtype`` is a real type (bool, integer or float).

    A cast would silently drop the imaginary part of complex input.
    """
    if np.dtype(dtype).kind not in "biuf":
        raise ValueError(f"X: expected real numbers, got dtype {np.dtype(dtype)}")


def _as_rows(X, n_features: int, dtype: np.dtype, check_finite: bool = True,
             check_indices: bool = False, structure_checked: bool = False) -> sp.csr_matrix:
    """Return X as a canonical CSR matrix with float32/float64 data, checked.

    Sparse input keeps its data dtype when it is float32 or float64; dense input
    and other dtypes are converted to ``dtype``. The caller's matrix is never
    modified: duplicate entries are summed on a copy. ``check_finite=False`` leaves
    the check of the values to the compiled passes, which make it (with the same
    message) without allocating a mask. The passes also check CSR column indices, so
    only callers that multiply with scipy need ``check_indices=True``.
    ``structure_checked=True`` skips the structure check for a matrix that the caller has
    just checked.
    """
    if sp.issparse(X):
        if not structure_checked:
            check_sparse_structure(X, check_indices=check_indices)
        check_real_dtype(X.dtype)
        X = X.tocsr()
        stored = int(X.indptr[-1])
        if X.data.shape[0] != stored:
            # Spare capacity past the last row is not part of the matrix, and the compiled
            # checks would read it: pass views that end with the last row.
            X = sp.csr_matrix((X.data[:stored], X.indices[:stored], X.indptr), shape=X.shape)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(dtype)
    else:
        try:
            dense = np.asarray(X)
        except (TypeError, ValueError) as err:
            raise ValueError(f"X: expected a 2-D array or scipy sparse matrix, got {err}") from None
        if dense.ndim != 2:
            raise ValueError(f"X: expected a 2-D array, got shape {dense.shape}")
        check_real_dtype(dense.dtype)
        X = sp.csr_matrix(dense.astype(dtype, copy=False))
    if X.shape[1] != n_features:
        raise ValueError(f"X: expected {n_features} features (columns), got {X.shape[1]}")
    if not X.has_canonical_format:
        # Checked before the copy sorts them, so an error names the caller's position.
        check_index_range("indices", X.indices, X.shape[1])
        X = X.copy()
        X.sum_duplicates()
    if X.indices.dtype != X.indptr.dtype:
        index_dtype = np.promote_types(X.indices.dtype, X.indptr.dtype)
        X = sp.csr_matrix(
            (X.data, X.indices.astype(index_dtype), X.indptr.astype(index_dtype)), shape=X.shape
        )
    if X.indices.dtype not in (np.int32, np.int64):
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape
        )
    if not check_finite:
        return X
    finite = np.isfinite(X.data)
    if not finite.all():
        position = int(np.flatnonzero(~finite)[0])
        row = int(np.searchsorted(X.indptr, position, side="right") - 1)
        raise ValueError(
            f"X: expected finite values, got {float(X.data[position])!r} at row {row}, "
            f"column {int(X.indices[position])}"
        )
    return X


def _check_targets(y, num_rows: int, classification: bool, loss: str) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y: expected real numbers, got dtype {y.dtype}")
    y = np.ascontiguousarray(y, dtype=np.float64)
    if y.shape != (num_rows,):
        raise ValueError(f"y: expected shape ({num_rows},), got {y.shape}")
    finite = np.isfinite(y)
    if not finite.all():
        index = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"y[{index}]: expected a finite value, got {float(y[index])!r}")
    if classification:
        bad = np.flatnonzero((y != 1.0) & (y != -1.0))
        if bad.size:
            index = int(bad[0])
            raise ValueError(
                f"y[{index}]: loss {loss!r} expects labels -1 or +1, got {float(y[index])!r}"
            )
    return y


def _check_sample_weight(sample_weight, num_rows: int):
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight: expected real numbers, got dtype {weights.dtype}")
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if weights.shape != (num_rows,):
        raise ValueError(f"sample_weight: expected shape ({num_rows},), got {weights.shape}")
    bad = np.flatnonzero(~(np.isfinite(weights) & (weights >= 0.0)))
    if bad.size:
        index = int(bad[0])
        raise ValueError(
            f"sample_weight[{index}]: expected a finite value >= 0, got {float(weights[index])!r}"
        )
    return weights


def _check_order(order, num_rows: int):
    """Return the checked visit order as int64, or None (every row in turn) for None."""
    if order is None:
        return None
    order = np.asarray(order)
    if order.ndim != 1 or (order.size and order.dtype.kind not in "iu"):
        raise ValueError(
            f"order: expected a 1-D array of row indices, got dtype {order.dtype} "
            f"and shape {order.shape}"
        )
    order = np.ascontiguousarray(order, dtype=np.int64)
    bad = np.flatnonzero((order < 0) | (order >= num_rows))
    if bad.size:
        index = int(bad[0])
        raise ValueError(
            f"order[{index}]: expected a row index in [0, {num_rows}), got {int(order[index])}"
        )
    return order


def _visits(X, order) -> int:
    """Number of rows a pass visits: len(order), or every row of X for None."""
    return X.shape[0] if order is None else order.size


def _mean_loss(total, visits: int):
    """Mean of a pass's loss sum (a float or one per solver); NaN after no visit."""
    if visits == 0:
        return np.full(np.shape(total), math.nan) if np.ndim(total) else math.nan
    return total / visits


def _loss_derivative(loss: str, y: float, p: float, epsilon: float) -> float:
    """Derivative in the margin p of one sample's loss, as the kernel computes it."""
    if loss == "log_loss":
        return -y / (math.exp(y * p) + 1.0)
    if loss == "hinge":
        return -y if y * p <= 1.0 else 0.0
    r = p - y
    if loss == "huber" and abs(r) > epsilon:
        return math.copysign(epsilon, r)
    return r


def _optimal_t0(loss: str, alpha: float, epsilon: float) -> float:
    """Offset t0 of the "optimal" schedule 1 / (alpha (t0 + t - 1)), as scikit-learn sets it.

    Bottou's heuristic: the first step size is typw / max(1, loss'(p=-typw, y=1)) with
    typw = sqrt(1 / sqrt(alpha)), and t0 is chosen so that eta_1 equals it.
    """
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    initial_eta = typw / max(1.0, _loss_derivative(loss, 1.0, -typw, epsilon))
    return 1.0 / (initial_eta * alpha)


class _OnlineBase:
    """Input checks and prediction shared by the online solvers."""

    n_features: int
    _dtype: np.dtype
    _loss: str

    def _prepare(self, X, y, sample_weight, order):
        # The compiled pass checks that the values of X are finite.
        X = _as_rows(X, self.n_features, self._dtype, check_finite=False)
        num_rows = X.shape[0]
        classification = self._loss in _CLASSIFICATION_LOSSES
        y = _check_targets(y, num_rows, classification, self._loss)
        weights = _check_sample_weight(sample_weight, num_rows)
        order = _check_order(order, num_rows)
        return X, y, weights, order

    def decision_function(self, X) -> np.ndarray:
        """Return the margins X @ coef_ + intercept_ of the rows of X, shape (n,)."""
        X = _as_rows(X, self.n_features, self._dtype, check_indices=True)
        return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    @property
    def t_(self) -> int:
        """Rows processed so far, counting every visit of every pass."""
        return int(self._t[0])

    def _set_arrays(self, state: dict, names, check=None) -> None:
        """Copy the arrays of ``state`` into this solver's, after checking all of them.

        ``check``, if given, receives the dict of new arrays and raises on bad values.
        """
        if not isinstance(state, dict):
            raise ValueError(f"state: expected a dict from get_state(), got {type(state).__name__}")
        updates = {}
        for name in names:
            mine = getattr(self, "_" + name)
            if mine is None:
                continue
            if name not in state:
                raise ValueError(f"state: missing key {name!r}")
            value = np.asarray(state[name], dtype=np.float64)
            if value.shape != mine.shape:
                raise ValueError(
                    f"state[{name!r}]: expected shape {mine.shape}, got {value.shape}"
                )
            if not np.isfinite(value).all():
                raise ValueError(f"state[{name!r}]: expected finite values")
            updates[name] = value
        if "t" not in state:
            raise ValueError("state: missing key 't'")
        t = state["t"]
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(f"state['t']: expected an integer >= 0, got {t!r}")
        if check is not None:
            check(updates)
        for name, value in updates.items():
            getattr(self, "_" + name)[...] = value
        self._t[0] = int(t)


class LazySGD(_OnlineBase):
    r"""Stochastic gradient methods on sparse rows with lazily applied L2 and L1 penalties.

    Minimizes, one row at a time, the scikit-learn SGD objective per sample

    .. math::

        s_i \, \ell(y_i, x_i^\top w + b) + \alpha \left(\rho \|w\|_1
        + \tfrac{1 - \rho}{2} \|w\|_2^2\right),

    with :math:`s_i` the sample weight, :math:`\rho` = ``l1_ratio`` and the intercept
    :math:`b` unpenalized. Step :math:`t` (1-based, counted over all calls) on row
    :math:`x` does:

    1. margin :math:`p = x^\top w + b` and :math:`d = s \, \partial\ell/\partial p`;
    2. L2 decay of every weight, :math:`w \leftarrow a_t w` with
       :math:`a_t = \max(0, 1 - \eta_t \alpha (1 - \rho))`;
    3. on the row's stored coordinates :math:`j`, with :math:`g_j = d x_j` (and on
       :math:`b` with :math:`g = d`):

       - ``"sgd"``: :math:`w_j \leftarrow w_j - \eta_t g_j`; with momentum :math:`\mu > 0`,
         :math:`m_j \leftarrow \mu m_j + g_j`, :math:`w_j \leftarrow w_j - \eta_t m_j`;
       - ``"adagrad"``: :math:`G_j \leftarrow G_j + g_j^2`,
         :math:`w_j \leftarrow w_j - \eta_t g_j / (\sqrt{G_j} + \epsilon)`;
       - ``"adam"``: :math:`m_j \leftarrow \beta_1 m_j + (1 - \beta_1) g_j`,
         :math:`v_j \leftarrow \beta_2 v_j + (1 - \beta_2) g_j^2`,
         :math:`w_j \leftarrow w_j - \frac{\eta_t}{1 - \beta_1^t}\, m_j /
         (\sqrt{v_j} / \sqrt{1 - \beta_2^t} + \epsilon)`;

    4. the cumulative L1 penalty of Tsuruoka et al. (2009) on every weight: with
       :math:`u \leftarrow a_t u + \eta_t \alpha \rho` and :math:`q_j \leftarrow a_t q_j`,
       a positive :math:`w_j` becomes :math:`\max(0, w_j - (u + q_j))`, a negative one
       :math:`\min(0, w_j + (u - q_j))`, and :math:`q_j` adds the change.

    Momentum, Adagrad and Adam state changes only on the coordinates a row stores
    (as in ``torch.optim.SparseAdam``), so an untouched coordinate's velocity neither
    decays nor moves its weight. The penalties act on every coordinate at every step,
    but the solver stores :math:`w = A v` and applies them lazily: step 2 multiplies the
    global scale :math:`A`, and a coordinate catches up on step 4's owed penalty when a
    row next touches it. Both are exact, so the weights equal those of the eager
    definition above up to rounding. Under L2 the owed and applied L1 amounts
    :math:`u, q_j` shrink with the weights, which is what makes the lazy form exact.

    Learning rates :math:`\eta_t`: ``"constant"`` :math:`\eta_0`; ``"invscaling"``
    :math:`\eta_0 / t^{\text{power\_t}}`; ``"optimal"`` :math:`1 / (\alpha (t_0 + t - 1))`
    with Bottou's :math:`t_0` as scikit-learn computes it; ``"adaptive"``
    :math:`\eta_0`, divided by 5 at each :meth:`decay_learning_rate` call.

    ``average`` (True, or the 1-based step where averaging starts) makes ``coef_`` and
    ``intercept_`` the mean of the iterates since that step (ASGD, Polyak and Juditsky
    1992; Xu 2011), kept exactly in O(nnz) per row. It cannot be combined with an L1
    penalty.

    Parameters
    ----------
    n_features : int
        Number of columns of every X.
    loss : {"log_loss", "squared_error", "hinge", "huber"}
        Per-sample loss; the classification losses take labels -1 and +1.
    method : {"sgd", "adagrad", "adam"}
    learning_rate : {"constant", "invscaling", "optimal", "adaptive"}
    eta0 : float
        Base step size, > 0 (unused by "optimal").
    power_t : float
        Exponent of "invscaling".
    alpha : float
        Penalty strength, >= 0; > 0 for "optimal".
    l1_ratio : float
        Share of L1 in the penalty, in [0, 1].
    momentum : float
        Heavy-ball coefficient in [0, 1), "sgd" only.
    average : bool or int
        Averaging start, see above.
    epsilon : float
        Huber threshold.
    beta1, beta2, eps : float
        Adam's moment coefficients and the denominator term of Adagrad and Adam.
    fit_intercept : bool
        Learn the unpenalized intercept :math:`b`.
    intercept_decay : float
        Factor, >= 0, on every step of the intercept in step 3 (:math:`b \leftarrow b -
        \text{intercept\_decay} \cdot \eta_t g` for "sgd", likewise for the other methods).
        scikit-learn's SGD uses 0.01 on sparse input, so that the intercept, updated by
        every row, moves more slowly than the weights of the rare features. An attribute of
        that name can be changed between passes.
    dtype : {numpy.float64, numpy.float32}
        Dtype that dense X, and sparse X with non-float data, is converted to. Sparse
        float32 and float64 X is used as is; the state is always float64.
    n_jobs : int, default 1
        Threads of one pass. 1 runs the rows one after another as above. Above 1, plain
        SGD (no momentum, no averaging) runs in blocks of ``block_rows`` visits, each
        split into ``n_jobs`` contiguous parts; every part runs the steps above on its
        rows from the model at the start of the block, and the block ends with

        .. math::

            w_j = P_B(w_0)_j + \frac{1}{m_j} \sum_k \bigl(w_k - P_k(w_0)\bigr)_j, \quad
            b = b_0 + \operatorname{mean}_k (b_k - b_0),

        summed in part order, where :math:`w_k, b_k` end part :math:`k`, :math:`m_j`
        counts the parts whose rows store column :math:`j`, the mean runs over the parts
        with rows, and :math:`P_S` applies only the penalties (steps 2 and 4, with the
        applied L1 amounts :math:`q` combined the same way) of the steps :math:`S` (the
        block :math:`B`, or part :math:`k`); step 4's clip with the block's :math:`u`
        then settles the L1 penalty the sum left owed. A column that one part touches
        takes that part's change in full, a shared one the mean of the parts' changes
        (model averaging on the shared columns, Zinkevich et al. 2010), and a column no
        row of the block touches gets exactly the sequential penalty. A block in which
        some :math:`1 - \eta_t \alpha (1 - \rho) \le 0` runs sequentially. The result
        depends on ``n_jobs`` and ``block_rows``, not on the threads the system grants.
    block_rows : int, default 1024
        Visits per block when ``n_jobs > 1``: larger blocks cost fewer synchronizations
        and let each step miss more of the other parts' updates.

    References
    ----------
    M. Zinkevich, M. Weimer, A. Smola, L. Li, "Parallelized stochastic gradient
    descent", NIPS 2010.
    Y. Tsuruoka, J. Tsujii, S. Ananiadou, "Stochastic gradient descent training for
    L1-regularized log-linear models with cumulative penalty", ACL 2009.
    L. Bottou, "Stochastic gradient descent tricks", Neural Networks: Tricks of the
    Trade, 2012.
    W. Xu, "Towards optimal one pass large scale learning with averaged stochastic
    gradient descent", arXiv:1107.2490, 2011.

    Examples
    --------
    Each call is one pass; its result is the progressive validation loss of the pass:

    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.online import LazySGD
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> solver = LazySGD(X.shape[1], loss="log_loss", method="adagrad",
    ...                  learning_rate="constant", eta0=0.1, alpha=1e-4)
    >>> [round(solver.partial_fit(X, y), 4) for _ in range(3)], solver.t_
    ([0.4531, 0.3816, 0.371], 810)
    """

    def __init__(
        self,
        n_features,
        *,
        loss="log_loss",
        method="sgd",
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        alpha=1e-4,
        l1_ratio=0.0,
        momentum=0.0,
        average=False,
        epsilon=0.1,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        fit_intercept=True,
        intercept_decay=1.0,
        dtype=np.float64,
        n_jobs=1,
        block_rows=1024,
    ):
        self.n_features = _check_n_features(n_features)
        self._loss = _check_choice("loss", loss, _LOSS_CODES)
        self._method = _check_choice("method", method, _METHODS)
        self._learning_rate = _check_choice("learning_rate", learning_rate, _LEARNING_RATE_CODES)
        self._eta0 = check_number("eta0", eta0, low=0.0, low_open=True)
        self._power_t = check_number("power_t", power_t)
        self._alpha = check_number("alpha", alpha, low=0.0)
        self._l1_ratio = check_number("l1_ratio", l1_ratio, low=0.0, high=1.0)
        self._momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self._epsilon = check_number("epsilon", epsilon, low=0.0)
        self._beta1 = check_number("beta1", beta1, low=0.0, high=1.0, high_open=True)
        self._beta2 = check_number("beta2", beta2, low=0.0, high=1.0, high_open=True)
        self._eps = check_number("eps", eps, low=0.0)
        self._fit_intercept = check_bool("fit_intercept", fit_intercept)
        self.intercept_decay = check_number("intercept_decay", intercept_decay, low=0.0)
        self._dtype = _check_dtype(dtype)
        self._n_jobs = _check_positive_int("n_jobs", n_jobs)
        self._block_rows = _check_positive_int("block_rows", block_rows)
        if self._n_jobs > 1 and (method != "sgd" or self._momentum > 0.0 or average):
            raise ValueError(
                f"n_jobs: values above 1 need method='sgd' without momentum or averaging, "
                f"got n_jobs={n_jobs!r} with method={method!r}, momentum={momentum!r}, "
                f"average={average!r}"
            )
        if self._learning_rate == "optimal" and self._alpha == 0.0:
            raise ValueError("alpha: learning_rate='optimal' needs alpha > 0, got 0.0")
        if self._momentum > 0.0 and self._method != "sgd":
            raise ValueError(
                f"momentum: applies to method='sgd' only, got {momentum!r} with "
                f"method={method!r}"
            )
        self._average_start = self._check_average(average)
        self._l1 = self._alpha * self._l1_ratio
        self._l2 = self._alpha * (1.0 - self._l1_ratio)
        if self._average_start and self._l1 > 0.0:
            # NOTE: exact lazy averaging under L1 would need the step at which each
            # skipped weight reached zero; it is not implemented.
            raise ValueError(
                f"average: averaging with an L1 penalty is not supported, got "
                f"average={average!r} with alpha * l1_ratio = {self._l1!r}"
            )
        self._optimal_t0 = (
            _optimal_t0(self._loss, self._alpha, self._epsilon)
            if self._learning_rate == "optimal"
            else 1.0
        )
        kernel_method = "momentum" if self._momentum > 0.0 else self._method
        self._method_code = _METHOD_CODES[kernel_method]
        n = self.n_features
        self._coef = np.zeros(n)
        self._l1_applied = np.zeros(n) if self._l1 > 0.0 else None
        self._state1 = np.zeros(n) if kernel_method != "sgd" else None
        self._state2 = np.zeros(n) if kernel_method == "adam" else None
        self._average_offset = np.zeros(n) if self._average_start else None
        self._globals = np.zeros(_core.lazy_sgd_num_globals)
        self._globals[_SCALE] = 1.0
        self._globals[_ETA] = self._eta0
        self._t = np.zeros(1, dtype=np.int64)

    @staticmethod
    def _check_average(average) -> int:
        if isinstance(average, bool):
            return 1 if average else 0
        if isinstance(average, numbers.Integral) and average >= 0:
            return int(average)
        raise ValueError(f"average: expected a bool or an integer >= 0, got {average!r}")

    def partial_fit(self, X, y, sample_weight=None, order=None, *, compute_loss=True) -> float:
        """Run one pass over the rows of X in ``order``; return their progressive mean loss.

        Parameters
        ----------
        X : scipy.sparse matrix or array-like, shape (n, n_features)
            CSR with float32/float64 data and int32/int64 indices is used without a
            copy; other input is converted (see ``dtype``).
        y : array-like, shape (n,)
            Labels -1/+1 for "log_loss" and "hinge", real targets otherwise.
        sample_weight : array-like, shape (n,), optional
            Finite weights >= 0 multiplying each row's loss (not the penalty).
        order : array-like of int, optional
            Rows to visit, in order; repeats and subsets are allowed. Default 0..n-1.
        compute_loss : bool, default True
            Evaluate each row's loss value. False saves its cost (a ``log1p`` per row
            for the logistic loss, a sizable share of a pass) when the caller does not
            use the result.

        Returns
        -------
        float
            Mean over the visits of the loss at the weights before that visit's update
            (progressive validation); NaN when ``order`` is empty. With
            ``compute_loss=False``: 0.0, or NaN when some margin was infinite or NaN
            (the weights overflowed).
        """
        with exclusive(self, "partial_fit"):
            X, y, weights, order = self._prepare(X, y, sample_weight, order)
            total = _core.lazy_sgd_pass(
                X.data, X.indices, X.indptr, y, weights, order,
                *self._state_arrays(), **self._kernel_arguments(),
                compute_loss=check_bool("compute_loss", compute_loss))
            return _mean_loss(total, _visits(X, order))

    def _state_arrays(self):
        return (self._coef, self._l1_applied, self._state1, self._state2,
                self._average_offset, self._globals, self._t)

    def _kernel_arguments(self):
        return dict(
            loss=_LOSS_CODES[self._loss],
            method=self._method_code,
            learning_rate=_LEARNING_RATE_CODES[self._learning_rate],
            power_t=self._power_t,
            optimal_t0=self._optimal_t0,
            alpha=self._alpha,
            l1=self._l1,
            l2=self._l2,
            momentum=self._momentum,
            beta1=self._beta1,
            beta2=self._beta2,
            eps=self._eps,
            epsilon=self._epsilon,
            fit_intercept=self._fit_intercept,
            average_start=self._average_start,
            intercept_decay=self.intercept_decay,
            n_jobs=self._n_jobs,
            block_rows=self._block_rows,
        )

    def _averaging(self) -> bool:
        return bool(self._average_start) and self.t_ >= self._average_start

    @property
    def coef_(self) -> np.ndarray:
        """Weights, shape (n_features,), float64, with every pending penalty applied.

        With ``average`` and once averaging has started, the averaged weights.
        """
        scale = self._globals[_SCALE]
        if self._averaging():
            count = self.t_ - self._average_start + 1
            total = self._average_offset + self._coef * self._globals[_AVERAGE_SCALE_SUM]
            return total / count
        v = self._coef
        if self._l1_applied is not None:
            u = self._globals[_L1_CUMULATIVE]
            q = self._l1_applied
            v = np.where(
                v > 0.0,
                np.maximum(v - (u + q), 0.0),
                np.where(v < 0.0, np.minimum(v + (u - q), 0.0), 0.0),
            )
        return scale * v

    @property
    def intercept_(self) -> float:
        """Intercept b (averaged with ``average`` once averaging has started)."""
        if self._averaging():
            count = self.t_ - self._average_start + 1
            return float(self._globals[_AVERAGE_INTERCEPT_SUM] / count)
        return float(self._globals[_INTERCEPT])

    @property
    def learning_rate_(self) -> float:
        """Current eta0 of the "constant", "invscaling" and "adaptive" schedules."""
        return float(self._globals[_ETA])

    def decay_learning_rate(self) -> float:
        """Divide the "adaptive" schedule's step size by 5.

        Returns
        -------
        float
            The new step size.

        Raises
        ------
        ValueError
            If ``learning_rate`` is not "adaptive".
        """
        if self._learning_rate != "adaptive":
            raise ValueError(
                f"learning_rate: decay_learning_rate() needs 'adaptive', got "
                f"{self._learning_rate!r}"
            )
        self._globals[_ETA] /= 5.0
        return float(self._globals[_ETA])

    _STATE_ARRAYS = ("coef", "l1_applied", "state1", "state2", "average_offset", "globals")

    def get_state(self) -> dict:
        """Return a copy of the whole state: the arrays in use and the step count ``t``.

        Returns
        -------
        dict
            Arrays by name, and ``"t"``; :meth:`set_state` takes it back.
        """
        state = {
            name: getattr(self, "_" + name).copy()
            for name in self._STATE_ARRAYS
            if getattr(self, "_" + name) is not None
        }
        state["t"] = self.t_
        return state

    def set_state(self, state: dict) -> None:
        """Replace the state with one from :meth:`get_state` of a solver with the same settings.

        Every array is checked (keys, shapes, finite values) before any is written.

        Parameters
        ----------
        state : dict
            A state returned by :meth:`get_state`.
        """
        def check(arrays):
            scale = arrays["globals"][_SCALE]
            if not scale > 0.0:
                raise ValueError(
                    f"state['globals'][{_SCALE}]: expected a scale > 0, got {float(scale)!r}"
                )

        self._set_arrays(state, self._STATE_ARRAYS, check)


class FTRLProximal(_OnlineBase):
    r"""FTRL-Proximal per coordinate (McMahan et al. 2013, Algorithm 1).

    For each row :math:`x` with label :math:`y`, every stored coordinate :math:`j` gets
    its weight from its state :math:`(z_j, n_j)`:

    .. math::

        w_j = \begin{cases} 0 & |z_j| \le \lambda_1 \\
        -\dfrac{z_j - \operatorname{sign}(z_j) \lambda_1}{(\beta + \sqrt{n_j}) / \alpha
        + \lambda_2} & \text{otherwise,} \end{cases}

    then with :math:`p = x^\top w + b`, :math:`g_j = s\, \ell'(y, p)\, x_j` (sample
    weight :math:`s`), :math:`\sigma_j = (\sqrt{n_j + g_j^2} - \sqrt{n_j}) / \alpha`:
    :math:`z_j \leftarrow z_j + g_j - \sigma_j w_j`, :math:`n_j \leftarrow n_j + g_j^2`.
    The intercept :math:`b` is a coordinate with :math:`x = 1` and no penalty.
    Untouched and shrunk weights are exact zeros.

    Parameters
    ----------
    n_features : int
        Number of columns of every X.
    alpha, beta : float
        Per-coordinate learning rate :math:`\alpha / (\beta + \sqrt{n_j})`; alpha > 0,
        beta >= 0.
    l1, l2 : float
        :math:`\lambda_1, \lambda_2 \ge 0`.
    fit_intercept : bool
        Learn the unpenalized intercept :math:`b`.
    loss : {"log_loss", "hinge", "squared_error"}
        The algorithm is stated for the logistic loss; the others use the same updates
        with their own derivative.

    References
    ----------
    H. B. McMahan et al., "Ad click prediction: a view from the trenches", KDD 2013.

    Examples
    --------
    A large ``l1`` keeps some weights at exactly zero:

    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.online import FTRLProximal
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> solver = FTRLProximal(X.shape[1], alpha=0.5, l1=20.0)
    >>> [round(solver.partial_fit(X, y), 4) for _ in range(3)]
    [0.5774, 0.4089, 0.3884]
    >>> int((solver.coef_ == 0).sum())
    4
    """

    _LOSSES = ("log_loss", "hinge", "squared_error")

    def __init__(self, n_features, *, alpha=0.1, beta=1.0, l1=1.0, l2=1.0, fit_intercept=True,
                 loss="log_loss"):
        self.n_features = _check_n_features(n_features)
        self._alpha = check_number("alpha", alpha, low=0.0, low_open=True)
        self._beta = check_number("beta", beta, low=0.0)
        self._l1 = check_number("l1", l1, low=0.0)
        self._l2 = check_number("l2", l2, low=0.0)
        self._fit_intercept = check_bool("fit_intercept", fit_intercept)
        self._loss = _check_choice("loss", loss, self._LOSSES)
        self._dtype = np.dtype(np.float64)
        self._z = np.zeros(self.n_features)
        self._n = np.zeros(self.n_features)
        self._globals = np.zeros(_core.ftrl_num_globals)
        self._t = np.zeros(1, dtype=np.int64)

    def partial_fit(self, X, y, sample_weight=None, order=None, *, compute_loss=True) -> float:
        """Run one pass over the rows of X in ``order``; return their progressive mean loss.

        Parameters
        ----------
        X : scipy.sparse matrix or array-like, shape (n, n_features)
            As in :meth:`LazySGD.partial_fit`.
        y : array-like, shape (n,)
            As in :meth:`LazySGD.partial_fit`.
        sample_weight : array-like, shape (n,), optional
            As in :meth:`LazySGD.partial_fit`.
        order : array-like of int, optional
            As in :meth:`LazySGD.partial_fit`.
        compute_loss : bool, default True
            As in :meth:`LazySGD.partial_fit`.

        Returns
        -------
        float
            Progressive validation loss, as in :meth:`LazySGD.partial_fit`.
        """
        with exclusive(self, "partial_fit"):
            X, y, weights, order = self._prepare(X, y, sample_weight, order)
            total = _core.ftrl_pass(
                X.data, X.indices, X.indptr, y, weights, order,
                *self._state_arrays(), **self._kernel_arguments(),
                compute_loss=check_bool("compute_loss", compute_loss))
            return _mean_loss(total, _visits(X, order))

    def _state_arrays(self):
        return (self._z, self._n, self._globals, self._t)

    def _kernel_arguments(self):
        return dict(
            loss=_LOSS_CODES[self._loss],
            alpha=self._alpha,
            beta=self._beta,
            l1=self._l1,
            l2=self._l2,
            epsilon=0.0,
            fit_intercept=self._fit_intercept,
        )

    def _weights(self, z, n, l1, l2):
        magnitude = np.abs(z)
        shrunk = z - np.sign(z) * l1
        denominator = (self._beta + np.sqrt(n)) / self._alpha + l2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(magnitude <= l1, 0.0, -shrunk / denominator)

    @property
    def coef_(self) -> np.ndarray:
        """Weights, shape (n_features,), float64; exact zeros where ``|z_j| <= l1``."""
        return self._weights(self._z, self._n, self._l1, self._l2)

    @property
    def intercept_(self) -> float:
        """Intercept, the unpenalized FTRL weight of a constant feature."""
        if not self._fit_intercept:
            return 0.0
        z = np.array([self._globals[_FTRL_INTERCEPT_Z]])
        n = np.array([self._globals[_FTRL_INTERCEPT_N]])
        return float(self._weights(z, n, 0.0, 0.0)[0])

    _STATE_ARRAYS = ("z", "n", "globals")

    def get_state(self) -> dict:
        """Return a copy of the state: z, n, the intercept's (z, n) and the step count ``t``.

        Returns
        -------
        dict
            ``"z"``, ``"n"``, ``"globals"`` and ``"t"``; :meth:`set_state` takes it back.
        """
        state = {name: getattr(self, "_" + name).copy() for name in self._STATE_ARRAYS}
        state["t"] = self.t_
        return state

    def set_state(self, state: dict) -> None:
        """Replace the state with one from :meth:`get_state`, checked before any write.

        Parameters
        ----------
        state : dict
            A state returned by :meth:`get_state`.
        """
        def check(arrays):
            if (arrays["n"] < 0).any():
                index = int(np.flatnonzero(arrays["n"] < 0)[0])
                raise ValueError(f"state['n'][{index}]: expected a value >= 0")
            if arrays["globals"][_FTRL_INTERCEPT_N] < 0:
                raise ValueError(f"state['globals'][{_FTRL_INTERCEPT_N}]: expected a value >= 0")

        self._set_arrays(state, self._STATE_ARRAYS, check)


def partial_fit_many(solvers, X, targets, sample_weight=None, order=None, *,
                     compute_loss=True) -> np.ndarray:
    """Run ``solvers[k].partial_fit(X, targets[k], sample_weight, order)`` for every k at once.

    The solvers must be of one class with the same settings (as the one-vs-rest solvers of
    an estimator are). X, the weights and the order are checked once; the passes, which
    share no state, run in parallel over fastopt's threads
    (:func:`fastopt.set_num_threads`), and each one gives exactly the result of its own
    ``partial_fit``, for any number of threads. Plain SGD solvers (no L1, momentum,
    averaging or ``n_jobs`` above 1) beyond one per thread run in groups that read each
    row once for the whole group, with the same results.

    Returns
    -------
    numpy.ndarray, shape (len(solvers),)
        Each solver's mean progressive loss, as ``partial_fit`` returns it (see its
        ``compute_loss``).
    """
    solvers = list(solvers)
    if not solvers:
        raise ValueError("solvers: expected at least one solver, got none")
    first = solvers[0]
    arguments = first._kernel_arguments()
    for k, solver in enumerate(solvers):
        if type(solver) is not type(first) or solver.n_features != first.n_features or (
            solver._kernel_arguments() != arguments
        ):
            raise ValueError(f"solvers[{k}]: expected the settings of solvers[0]")
    if len(targets) != len(solvers):
        raise ValueError(f"targets: expected {len(solvers)} target vectors, got {len(targets)}")
    X, y0, weights, order = first._prepare(X, targets[0], sample_weight, order)
    classification = first._loss in _CLASSIFICATION_LOSSES
    Y = np.empty((len(solvers), X.shape[0]))
    Y[0] = y0
    for k in range(1, len(solvers)):
        Y[k] = _check_targets(targets[k], X.shape[0], classification, first._loss)
    return run_passes(solvers, X, Y, weights, order,
                      compute_loss=check_bool("compute_loss", compute_loss))


def run_passes(solvers, X, Y, weights, order, *, compute_loss) -> np.ndarray:
    """Run the passes of ``partial_fit_many`` on inputs that the caller has checked.

    ``solvers`` share one class and its settings. ``X`` is CSR with float32/float64 data
    and int32/int64 indices of the solvers' width; the compiled pass checks its structure
    and values. ``Y`` is a C-contiguous float64 array of shape (len(solvers), n) with valid
    targets for the loss, ``weights`` None or finite float64 values >= 0, and ``order`` None
    or int64 row indices, which the compiled pass checks. The online estimators prepare
    these once per call, so this skips the checks that ``partial_fit_many`` repeats.
    """
    first = solvers[0]
    many = _core.lazy_sgd_pass_many if isinstance(first, LazySGD) else _core.ftrl_pass_many
    totals = many(X.data, X.indices, X.indptr, Y, weights, order,
                  [solver._state_arrays() for solver in solvers], **first._kernel_arguments(),
                  compute_loss=compute_loss)
    return _mean_loss(totals, _visits(X, order))
