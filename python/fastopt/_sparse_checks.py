"""Structure checks that make a scipy.sparse matrix safe for scipy and the kernels to read.

scipy checks a matrix's arrays when it builds the matrix, but its routines (the
canonical-format test, sort_indices, format conversion, row selection, ``X @ w``) trust them
afterwards. So arrays edited in place can make them read or write past their ends. These checks run first and name the first
bad position in the caller's own arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_sparse_structure"]


def check_sparse_structure(X, *, check_indices: bool = True) -> None:
    """Raise ValueError unless the arrays of sparse ``X`` describe a valid matrix.

    CSR, CSC and BSR: as many values (blocks) as indices, ``indptr`` of the right length
    that starts at 0, never decreases and stays within the indices, and indices within the
    matrix. COO: coordinates of equal length within the matrix. LIL, DOK and DIA are left
    to the caller, which checks the CSR that scipy converts them to before using it.

    ``check_indices=False`` skips the range check of CSR column indices, for callers whose
    compiled passes check each index before use. The other formats' indices are always
    checked, because scipy's conversion to CSR follows them.
    """
    if len(X.shape) != 2:
        raise ValueError(f"X: expected a 2-D sparse matrix, got shape {X.shape}")
    fmt = X.format
    if fmt in ("csr", "csc", "bsr"):
        if fmt == "bsr":
            rows, cols = X.blocksize
            major, minor = X.shape[0] // rows, X.shape[1] // cols
        else:
            major, minor = X.shape if fmt == "csr" else X.shape[::-1]
        indptr = X.indptr
        nnz = X.indices.shape[0]
        if X.data.shape[0] != nnz:
            raise ValueError(f"X: expected as many stored values as indices ({nnz}), "
                             f"got {X.data.shape[0]}")
        if indptr.ndim != 1 or indptr.shape[0] != major + 1:
            raise ValueError(f"indptr: expected {major + 1} offsets, got shape {indptr.shape}")
        if indptr[0] != 0:
            raise ValueError(f"indptr[0]: expected 0, got {indptr[0]}")
        bad = (indptr[1:] < indptr[:-1]) | (indptr[1:] > nnz)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ValueError(f"indptr[{r + 1}]: expected a value in [{indptr[r]}, {nnz}], "
                             f"got {indptr[r + 1]}")
        if check_indices or fmt != "csr":
            check_index_range("indices", X.indices[:int(indptr[-1])], minor)
    elif fmt == "coo":
        row, col = X.row, X.col
        if not row.shape[0] == col.shape[0] == X.data.shape[0]:
            raise ValueError(f"X: expected row, col and data of one length, got "
                             f"{row.shape[0]}, {col.shape[0]} and {X.data.shape[0]}")
        check_index_range("row", row, X.shape[0])
        check_index_range("col", col, X.shape[1])


def check_index_range(name: str, index: np.ndarray, size: int) -> None:
    """Raise ValueError naming the first entry of ``index`` outside [0, size)."""
    if index.shape[0] == 0:
        return
    if index.min() >= 0 and index.max() < size:
        return
    bad = (index < 0) | (index >= size)
    e = int(np.flatnonzero(bad)[0])
    raise ValueError(f"{name}[{e}]: expected an index in [0, {size}), got {index[e]}")
