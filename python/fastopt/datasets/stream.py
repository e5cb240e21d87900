"""Streaming reader for SVMlight / LIBSVM files: fixed-size chunks of rows.

The C++ parser of :func:`load_svmlight` reads the blocks, so the values, the
accepted syntax and the error messages (file, line and token) are the same.
Only the index checks that need the whole file differ (see ``zero_based``
below).
"""

from __future__ import annotations

import numbers
import os

import numpy as np
import scipy.sparse as sp

from fastopt import _core
from fastopt.datasets._source import Source
from fastopt.datasets.svmlight import _check_arguments

__all__ = ["iter_svmlight"]


def iter_svmlight(path, chunk_rows=10_000, n_features=None, zero_based=False, dtype=np.float64):
    """Yield ``(X, y)`` chunks of an SVMlight / LIBSVM file, reading it once, front to back.

    Memory use depends on ``chunk_rows``, not on the length of the file, so the
    file may be larger than memory.

    Parameters
    ----------
    path : str or os.PathLike
        A plain, gzip, bzip2 or xz file; compression is recognized from the file's header.
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
    X : scipy.sparse.csr_matrix of shape (n_rows, n_features)
        int32 indices unless ``n_features`` or the chunk's values exceed 2**31 - 1.
    y : numpy.ndarray of shape (n_rows,)

    Raises
    ------
    ValueError
        On malformed content, as :func:`load_svmlight`, with the line number in the
        file; on an index 0 with ``zero_based=False``; on an index beyond ``n_features``.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import iter_svmlight
    >>> chunks = iter_svmlight(os.path.join(DATA_DIR, "heart_scale"), chunk_rows=100,
    ...                        n_features=13)
    >>> [X.shape for X, y in chunks]
    [(100, 13), (100, 13), (70, 13)]
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
    chunk_rows = int(chunk_rows)
    shift = 0 if zero_based else 1
    with Source(path) as source:
        threads, block_size = source.plan()
        parser = _core.SvmlightParser(
            source.name,
            False,
            zero_based,
            dtype == np.float32,
            max_index=n_features - 1 + shift,
            n_features=n_features,
            threads=threads,
        )
        chunk_start = 0  # parser.lines at the start of the current chunk
        for block in source.blocks(block_size):
            while len(block):
                used = parser.feed(block, max_lines=chunk_rows - (parser.lines - chunk_start))
                block = block[used:]
                if parser.lines - chunk_start == chunk_rows:
                    chunk_start = parser.lines
                    if parser.n_rows:
                        yield _take_chunk(parser, shift, n_features)
        parser.finish()
        if parser.n_rows:
            yield _take_chunk(parser, shift, n_features)


def _take_chunk(parser, shift, n_features):
    n_rows = parser.n_rows
    int32 = max(n_features, parser.nnz) <= 2**31 - 1
    taken = parser.take(shift, int32)
    X = sp.csr_matrix((taken["data"], taken["indices"], taken["indptr"]), shape=(n_rows, n_features))
    X.has_sorted_indices = True
    return X, taken["labels"]
