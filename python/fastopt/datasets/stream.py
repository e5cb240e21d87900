"""Streaming reader for SVMlight / LIBSVM files: fixed-size chunks of rows.

Each block of lines goes through the parser of :func:`load_svmlight`, so the
values, the accepted syntax and the error messages (file, line and token) are
the same. Only the index checks that need the whole file differ (see
``zero_based`` below).
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import numbers
import os

import numpy as np
import scipy.sparse as sp

from fastopt.datasets.svmlight import _check_arguments, _parse_text

__all__ = ["iter_svmlight"]


def _open_binary(path):
    """Open a plain, gzip or bzip2 file for reading; the header decides, not the extension."""
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic == b"BZh":
        return bz2.open(path, "rb")
    return open(path, "rb")


def iter_svmlight(path, chunk_rows=10_000, n_features=None, zero_based=False, dtype=np.float64):
    """Yield ``(X, y)`` chunks of an SVMlight / LIBSVM file, reading it once, front to back.

    Memory use depends on ``chunk_rows``, not on the length of the file, so the
    file may be larger than memory.

    Parameters
    ----------
    path : str or os.PathLike
        A plain, gzip or bzip2 file; compression is recognized from the file's header.
    chunk_rows : int, default 10000
        Number of lines per chunk. A chunk has fewer rows when some of its lines are
        blank or comments, and chunks without rows are not yielded.
    n_features : int
        Number of columns of every chunk. Required, because a stream cannot look ahead
        for the largest index.
    zero_based : bool, default False
        Whether indices start at 0. LIBSVM files start at 1 (the default). "auto" is
        rejected because it depends on every line of the file.
    dtype : float32 or float64, default float64
        Type of the values of ``X``. Labels are always float64.

    Yields
    ------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_features), int32 indices
    y : numpy.ndarray of shape (n_rows,)

    Raises
    ------
    ValueError
        On malformed content, as :func:`load_svmlight`, with the line number in the
        file; on an index 0 with ``zero_based=False``; on an index beyond ``n_features``.
    """
    if n_features is None:
        raise ValueError("n_features: expected an integer >= 1, got None; a stream needs the width up front")
    if zero_based is not True and zero_based is not False:
        raise ValueError(
            f"zero_based: expected True or False, got {zero_based!r}; a stream cannot decide "
            "'auto' before reading the whole file"
        )
    n_features, dtype = _check_arguments(n_features, zero_based, dtype)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
        raise ValueError(f"chunk_rows: expected an integer >= 1, got {chunk_rows!r}")
    path = os.fspath(path)
    index_dtype = np.int32 if n_features < 2**31 else np.int64
    first_line = 1
    with _open_binary(path) as f:
        while True:
            try:
                lines = list(itertools.islice(f, int(chunk_rows)))
            except (OSError, EOFError) as exc:
                raise ValueError(f"{path}: failed to decompress: {exc}") from None
            if not lines:
                return
            parsed = _parse_text(path, b"".join(lines), dtype, first_line)
            first_line += len(lines)
            if parsed.labels.size == 0:
                continue
            yield _chunk_matrix(parsed, n_features, zero_based, index_dtype), parsed.labels


def _chunk_matrix(parsed, n_features, zero_based, index_dtype):
    indices = parsed.indices
    if not zero_based:
        if indices.size and indices.min() == 0:
            position = int(np.argmax(indices == 0))
            raise ValueError(
                f"{parsed.path}:{parsed.line_of(position)}: feature index 0 is invalid with "
                "zero_based=False (indices start at 1)"
            )
        indices = indices - 1
    if indices.size and indices.max() >= n_features:
        position = int(np.argmax(indices >= n_features))
        written = parsed.indices[position]
        raise ValueError(
            f"{parsed.path}:{parsed.line_of(position)}: feature index {written} is out of range "
            f"for n_features={n_features} ({'zero' if zero_based else 'one'}-based indices)"
        )
    n_rows = parsed.indptr.size - 1
    return sp.csr_matrix(
        (parsed.values, indices.astype(index_dtype), parsed.indptr.astype(index_dtype)),
        shape=(n_rows, n_features),
    )
