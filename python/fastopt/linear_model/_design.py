"""Validation of a design matrix X for the GLM kernels, without copying supported input.

X is used in place, with no copy, when it already is one of:

- a numpy C- or Fortran-contiguous 2-D array of float32 or float64;
- a scipy.sparse CSR or CSC matrix or array (``csr_matrix``, ``csr_array``,
  ``csc_matrix``, ``csc_array``) with float32 or float64 data, int32 or int64
  ``indptr`` and ``indices`` of the same dtype, and no duplicate entries.

Every other input is converted once, and ``Design.copied`` records it:

- a dense array of another dtype (integer, bool, float16, object) becomes
  float64, and a non-contiguous float32/float64 array becomes C-contiguous in
  its own dtype;
- a sparse matrix in another format (COO, LIL, DOK, BSR, DIA) becomes CSR,
  and sparse data of another dtype becomes float64;
- CSR/CSC whose ``indptr`` and ``indices`` dtypes differ (scipy does not
  prevent it) get int64 copies of both index arrays, while the data stays
  shared;
- CSR/CSC with duplicate entries are copied and the duplicates summed in
  float64, which is how scipy defines their value; the squared entries that
  the diagonal Hessian needs would be wrong otherwise.

Before any kernel reads X, the compiled ``GlmDesign`` checks the sparse
structure (``indptr`` starts at 0, never decreases and ends within the
arrays; every index lies within the matrix) and that every stored value is
finite, naming the first bad position.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from fastopt import _core
from fastopt._sparse_checks import check_sparse_structure

__all__ = ["Design", "as_design"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INDICES = (np.dtype(np.int32), np.dtype(np.int64))


@dataclasses.dataclass(frozen=True)
class Design:
    """A validated design matrix and the compiled view the kernels read.

    Attributes
    ----------
    layout : {"dense_c", "dense_f", "csr", "csc"}
        Storage layout.
    n_samples, n_features : int
        Shape of X.
    dtype : numpy.dtype
        float32 or float64, the dtype the kernels read X in.
    data : ndarray
        The dense array, or the sparse ``data`` array.
    indptr, indices : ndarray or None
        The sparse index arrays (None when dense).
    copied : bool
        Whether X was converted (see the module docstring); False means the
        arrays above are the caller's own buffers.
    native : fastopt._core.GlmDesign
        The compiled view holding references to the arrays above.
    """

    layout: str
    n_samples: int
    n_features: int
    dtype: np.dtype
    data: np.ndarray
    indptr: np.ndarray | None
    indices: np.ndarray | None
    copied: bool
    native: object

    @property
    def nbytes(self) -> int:
        """Bytes of X read by one pass of a kernel."""
        return int(self.native.nbytes)


def _dense(X, copied: bool) -> Design:
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array, got shape {X.shape}")
    if np.iscomplexobj(X):
        raise TypeError(f"X: expected real values, got dtype {X.dtype}")
    if X.dtype not in _FLOATS:
        try:
            X = np.asarray(X, dtype=np.float64, order="C")
        except (TypeError, ValueError) as exc:
            raise TypeError(f"X: cannot convert dtype {X.dtype} to float64: {exc}") from None
        copied = True
    if X.flags.c_contiguous:
        layout = "dense_c"
    elif X.flags.f_contiguous:
        layout = "dense_f"
    else:
        X = np.ascontiguousarray(X)
        layout = "dense_c"
        copied = True
    native = _core.GlmDesign(layout, X.shape[0], X.shape[1], X)
    return Design(layout, X.shape[0], X.shape[1], X.dtype, X, None, None, copied, native)


def _sparse(X) -> Design:
    if len(X.shape) != 2:
        raise ValueError(f"X: expected a 2-D sparse matrix, got shape {X.shape}")
    copied = False
    if X.format not in ("csr", "csc"):
        # The compiled GlmDesign checks CSR and CSC, but scipy's conversion reads the other
        # formats' coordinates first.
        check_sparse_structure(X)
        X = X.tocsr()
        copied = True
    if np.iscomplexobj(X.data):
        raise TypeError(f"X: expected real values, got dtype {X.data.dtype}")

    data, indptr, indices = X.data, X.indptr, X.indices
    # The matrix whose cached has_canonical_format flag applies to the arrays
    # passed on; None once the index arrays were replaced.
    source = X
    if data.dtype not in _FLOATS:
        data = data.astype(np.float64)
        copied = True
    if indptr.dtype != indices.dtype or indptr.dtype not in _INDICES:
        indptr = indptr.astype(np.int64)
        indices = indices.astype(np.int64)
        source = None
        copied = True
    if not (data.flags.c_contiguous and indptr.flags.c_contiguous
            and indices.flags.c_contiguous):
        data = np.ascontiguousarray(data)
        indptr = np.ascontiguousarray(indptr)
        indices = np.ascontiguousarray(indices)
        source = None
        copied = True

    n, p = X.shape
    layout = X.format
    # The compiled constructor checks the structure before scipy's
    # canonical-format scan, or anything else, reads it.
    native = _core.GlmDesign(layout, n, p, data, indptr, indices)

    if source is None:
        cls = sp.csr_matrix if layout == "csr" else sp.csc_matrix
        source = cls((data, indices, indptr), shape=(n, p))
    if not source.has_canonical_format and _has_duplicates(layout, (n, p), indptr, indices):
        cls = sp.csr_matrix if layout == "csr" else sp.csc_matrix
        # Summed in float64, as scipy's X @ w sums float32 duplicates for a float64 w: a
        # float32 sum would round where the kernels, which accumulate in float64, do not.
        fixed = cls((data.astype(np.float64), indices, indptr), shape=(n, p), copy=True)
        fixed.sum_duplicates()
        data, indptr, indices = fixed.data, fixed.indptr, fixed.indices
        if indptr.dtype != indices.dtype:
            indptr = indptr.astype(np.int64)
            indices = indices.astype(np.int64)
        copied = True
        native = _core.GlmDesign(layout, n, p, data, indptr, indices)
    return Design(layout, n, p, data.dtype, data, indptr, indices, copied, native)


def _has_duplicates(layout, shape, indptr, indices) -> bool:
    """Return whether a validated CSR/CSC structure stores some (row, column) twice.

    Called only when scipy's scan found unsorted indices or repeats; sorts a
    copy of the flattened positions.
    """
    major = np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
    minor_size = shape[1] if layout == "csr" else shape[0]
    keys = major * minor_size + indices[: int(indptr[-1])]
    keys.sort()
    return bool(np.any(keys[1:] == keys[:-1]))


def as_design(X) -> Design:
    """Validate X and describe it for the GLM kernels, copying only unsupported input.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix or array of shape (n_samples, n_features)
        See the module docstring for the inputs used without a copy and the
        conversions applied to the others.

    Returns
    -------
    Design

    Raises
    ------
    ValueError
        If X is not 2-D, has no samples or no features, contains NaN or an
        infinity (the message gives the row and column), or is a sparse
        matrix with a malformed structure.
    TypeError
        If X has complex values or values that cannot be converted to float64.
    """
    if sp.issparse(X):
        return _sparse(X)
    if isinstance(X, np.ndarray):
        # A subclass such as np.matrix is viewed as a plain ndarray, with no copy.
        return _dense(np.asarray(X), copied=False)
    try:
        array = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"X: expected an array-like, got {type(X).__name__}: {exc}") from None
    # Objects that expose a buffer (memoryview, array.array) are shared, not copied.
    try:
        copied = not np.shares_memory(array, X)
    except TypeError:
        copied = True
    return _dense(array, copied=copied)
