"""Reader and writer for the SVMlight / LIBSVM text format.

Each non-empty line is ``<label> [qid:<id>] <index>:<value> <index>:<value> ...``
and ``#`` starts a comment that runs to the end of the line. Feature indices
within a line must be strictly increasing. The result matches
``sklearn.datasets.load_svmlight_file`` (scikit-learn 1.9) on valid input.

The parser is C++ (``csrc/io/svmlight.cpp``). Python reads the file in blocks
of up to a few MB and, when its header says gzip, bzip2 or xz, decompresses it
on a background thread. The parser splits each block at line boundaries and
parses the pieces without the GIL on ``fastopt.get_num_threads()`` threads (one
for plain files under 4 MiB), straight into the returned arrays. The arrays
move to NumPy without a copy, so peak memory stays near the size of the result.
"""

from __future__ import annotations

import numbers
import os

import numpy as np
import scipy.sparse as sp

from fastopt import _core
from fastopt.datasets._source import Source, describe, feed_all

__all__ = ["dump_svmlight", "load_svmlight", "load_svmlight_files"]

_INT32_MAX = 2**31 - 1


def _check_flag(name, value):
    if value is not True and value is not False and not isinstance(value, np.bool_):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _check_arguments(n_features, zero_based, dtype):
    """Validate the arguments shared by the readers; return ``(n_features, dtype)``."""
    if n_features is not None:
        if isinstance(n_features, bool) or not isinstance(n_features, numbers.Integral) or n_features < 1:
            raise ValueError(f"n_features: expected None or an integer >= 1, got {n_features!r}")
        n_features = int(n_features)
    if not (zero_based is True or zero_based is False or (isinstance(zero_based, str) and zero_based == "auto")):
        raise ValueError(f"zero_based: expected True, False or 'auto', got {zero_based!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype!r}") from None
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
    return n_features, dtype


def _check_range(offset, length, n_features):
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral) or offset < 0:
        raise ValueError(f"offset: expected an integer >= 0, got {offset!r}")
    if isinstance(length, bool) or not isinstance(length, numbers.Integral):
        raise ValueError(f"length: expected an integer, got {length!r}")
    if (offset != 0 or length > 0) and n_features is None:
        raise ValueError(
            "n_features: expected an integer >= 1 when offset or length is given, got None; "
            "a part of a file cannot tell the width of the whole"
        )
    return int(offset), int(length)


def _parse(f, dtype, multilabel, allow_zero, offset, length, max_index=-1, n_features=0):
    """Parse one source; return ``(name, parser)`` with every row parsed and not yet taken."""
    with Source(f) as source:
        name = source.name
        if offset > 0:
            name += f" (lines counted from byte {offset})"
        parser = _core.SvmlightParser(
            name,
            multilabel,
            allow_zero,
            dtype == np.float32,
            max_index=max_index,
            n_features=n_features,
            threads=source.plan()[0],
        )
        feed_all(parser, source, offset, length)
    return name, parser


def _reparse_for_message(f, dtype, multilabel, one_based, n_features, offset, length):
    """Parse ``f`` again with the final index rules, to raise the error with its line number."""
    if not isinstance(f, (str, bytes, os.PathLike)):
        return  # a caller's stream or descriptor has moved on and may not rewind
    try:
        _parse(f, dtype, multilabel, not one_based, offset, length, n_features - 1 + one_based, n_features)
    except OSError:
        return


def _labels(taken, multilabel):
    if not multilabel:
        return taken["labels"]
    flat = taken["labels"].tolist()
    bounds = taken["label_indptr"].tolist()
    return [tuple(sorted(flat[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]


def _qids(name, taken, n_rows):
    without = taken["rows_without_qid"]
    if 0 < without < n_rows:
        raise ValueError(
            f"{name}:{taken['first_line_without_qid']}: line has no qid, but line "
            f"{taken['first_line_with_qid']} has one; with query_id=True every line or no line "
            "must have a qid"
        )
    return taken["qids"]


def load_svmlight_files(
    files,
    n_features=None,
    zero_based="auto",
    dtype=np.float64,
    multilabel=False,
    query_id=False,
    offset=0,
    length=-1,
):
    """Load several SVMlight / LIBSVM files with a common number of features.

    Use this for a train/test pair: the files share ``n_features`` (the widest
    one unless given) and, with ``zero_based="auto"``, one indexing decision.

    Parameters
    ----------
    files : sequence of str, os.PathLike, int or binary file objects
        Paths, file descriptors or open binary files. Plain, gzip, bzip2 and xz
        content is recognized from its header, not from the file name.
    n_features : int, optional
        Number of columns of every ``X``; by default the largest index in any file plus
        one.
    zero_based : bool or "auto", default "auto"
        Whether indices start at 0; "auto" decides once for all the files, as in
        :func:`load_svmlight`.
    dtype : float32 or float64, default float64
        Type of the values of every ``X``.
    multilabel : bool, default False
        Whether labels are comma-separated lists, as in :func:`load_svmlight`.
    query_id : bool, default False
        Also return the ``qid:<int>`` of each line of each file.
    offset, length : int, default 0 and -1
        Read a part of each file, as in :func:`load_svmlight`; ``n_features`` is then
        required.

    Returns
    -------
    list
        ``[X_0, y_0, X_1, y_1, ...]``, or ``[X_0, y_0, q_0, ...]`` with
        ``query_id=True``, as ``sklearn.datasets.load_svmlight_files``.

    Examples
    --------
    The test file of a9a uses fewer feature indices than the training file; loaded
    together, both get the same columns:

    >>> import os
    >>> from fastopt.datasets import load_svmlight_files
    >>> X_train, y_train, X_test, y_test = load_svmlight_files(
    ...     [os.path.join(DATA_DIR, "a9a"), os.path.join(DATA_DIR, "a9a.t")])
    >>> X_train.shape, X_test.shape
    ((32561, 123), (16281, 123))
    """
    if isinstance(files, (str, bytes, os.PathLike)) or hasattr(files, "read"):
        raise TypeError("files: expected a sequence of paths or files; use load_svmlight for one file")
    n_features, dtype = _check_arguments(n_features, zero_based, dtype)
    multilabel = _check_flag("multilabel", multilabel)
    query_id = _check_flag("query_id", query_id)
    offset, length = _check_range(offset, length, n_features)
    files = list(files)
    if (offset != 0 or length > 0) and zero_based == "auto":
        # The index-0 test of "auto" would see only a part of the file; scikit-learn
        # reads parts as zero-based, and so does this reader.
        zero_based = True

    # With a known base, the parser checks the width line by line; "auto" can only rule
    # out indices beyond n_features, the largest valid one-based index.
    if n_features is None:
        max_index = -1
    else:
        max_index = n_features - (1 if zero_based is True else 0)
    parsed = [
        _parse(f, dtype, multilabel, zero_based is not False, offset, length, max_index, n_features or 0)
        for f in files
    ]

    # "auto" means one-based unless some index is 0 or some file has no features,
    # the rule scikit-learn applies.
    one_based = zero_based is False or (
        zero_based == "auto" and all(p.nnz > 0 and p.min_index > 0 for _, p in parsed)
    )
    shift = 1 if one_based else 0
    widest = max((p.max_index - shift for _, p in parsed if p.nnz > 0), default=0) + 1
    if n_features is None:
        n_features = widest
    elif widest > n_features:
        for f, (name, p) in zip(files, parsed):
            if p.nnz > 0 and p.max_index - shift >= n_features:
                _reparse_for_message(f, dtype, multilabel, one_based, n_features, offset, length)
                raise ValueError(
                    f"{name}: feature index {p.max_index} is out of range for n_features={n_features} "
                    f"({'one' if one_based else 'zero'}-based indices); the data needs n_features >= {widest}"
                )

    result = []
    for name, p in parsed:
        n_rows = p.n_rows
        # int32 indices when they fit, as scipy itself would choose.
        int32 = max(n_features, p.nnz) <= _INT32_MAX
        taken = p.take(shift, int32)
        X = sp.csr_matrix((taken["data"], taken["indices"], taken["indptr"]), shape=(n_rows, n_features))
        X.has_sorted_indices = True  # the parser rejects lines whose indices do not increase
        result += [X, _labels(taken, multilabel)]
        if query_id:
            result.append(_qids(name, taken, n_rows))
    return result


def load_svmlight(
    f,
    n_features=None,
    zero_based="auto",
    dtype=np.float64,
    multilabel=False,
    query_id=False,
    offset=0,
    length=-1,
):
    """Load a file in SVMlight / LIBSVM format into a sparse matrix and labels.

    Parameters
    ----------
    f : str, os.PathLike, int or binary file object
        A path, a file descriptor or an open binary file. Plain, gzip, bzip2 and
        xz content is recognized from its header, not its name. A file object is
        read from its current position and not closed.
    n_features : int, optional
        Number of columns of ``X``. Default: the largest index in the file
        plus one. Pass it when a test file may not use the last features (the
        LIBSVM a9a test split, for one, has no feature 123).
    zero_based : bool or "auto", default "auto"
        Whether indices start at 0. "auto" assumes one-based indices unless
        an index 0 occurs or the file has no features; with False, an index 0 is
        an error.
    dtype : float32 or float64, default float64
        Type of the values of ``X``. Labels are always float64. float32 values
        are parsed as float64 and then rounded, as scikit-learn does.
    multilabel : bool, default False
        Whether labels are comma-separated lists (``1,3 1:0.5``); ``y`` is then a
        list of sorted tuples.
    query_id : bool, default False
        Also return the ``qid:<int>`` of each line. Either every line or no line
        may have one; with none, the array is empty, as in scikit-learn.
    offset, length : int, default 0 and -1
        Read a part of the (decompressed) file: skip ``offset`` bytes and the rest
        of the line they end in, and read no line that starts after
        ``offset + length`` when ``length > 0``. Consecutive parts split a file
        into disjoint sets of lines. ``n_features`` is then required and "auto"
        means zero-based, as in scikit-learn.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The values as written, including explicit zeros, with sorted indices; int32
        indices when ``n_features`` and the number of values fit, else int64.
    y : numpy.ndarray of shape (n_samples,), or list of tuples
        float64 labels; a list of tuples with ``multilabel=True``.
    qid : numpy.ndarray of int64
        Only with ``query_id=True``.

    Raises
    ------
    FileNotFoundError
        When ``f`` is a path that does not exist.
    ValueError
        On malformed content. The message names the file, the 1-based line
        number and the token. Malformed means a label or value that is not a
        number (Python's float() syntax), a feature that is not ``index:value``,
        an index that is not a non-negative integer, indices not strictly
        increasing within a line, an index 0 with ``zero_based=False``, a
        ``qid:`` that is not an integer, or an index beyond ``n_features``.
        Also on invalid ``n_features``, ``zero_based``, ``offset`` or ``length``.
    TypeError
        On an unsupported ``dtype`` or a non-boolean ``multilabel``/``query_id``.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> X.shape, X.format, y[:3]
    ((270, 13), 'csr', array([ 1., -1.,  1.]))
    """
    return tuple(
        load_svmlight_files(
            [f],
            n_features=n_features,
            zero_based=zero_based,
            dtype=dtype,
            multilabel=multilabel,
            query_id=query_id,
            offset=offset,
            length=length,
        )
    )


# Rows formatted per call of the C++ writer: a few MB of text.
_DUMP_ROWS = 1 << 15


def _dump_labels(y, multilabel, n_samples):
    """Return the label arguments of ``_core.svmlight_format_rows``."""
    if multilabel:
        if sp.issparse(y):
            Y = sp.csr_matrix(y)
            Y.eliminate_zeros()
            Y.sort_indices()
        else:
            Y = sp.csr_matrix(np.asarray(y) != 0)
        if Y.ndim != 2 or Y.shape[0] != n_samples:
            raise ValueError(f"y: expected shape ({n_samples}, n_labels) with multilabel=True, got {Y.shape}")
        return {
            "label_indptr": np.ascontiguousarray(Y.indptr, dtype=np.int64),
            "label_columns": np.ascontiguousarray(Y.indices, dtype=np.int64),
        }
    y = np.asarray(y.toarray() if sp.issparse(y) else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(f"y: expected shape ({n_samples},), got {y.shape}")
    if y.dtype.kind in "biu":
        return {"labels_i": np.ascontiguousarray(y, dtype=np.int64)}
    if y.dtype.kind != "f":
        raise TypeError(f"y: expected numeric labels, got dtype {y.dtype}")
    return {"labels_f": np.ascontiguousarray(y, dtype=np.float64)}


def _dump_values(X):
    """Return ``(arguments, n_samples, n_features)`` of ``_core.svmlight_format_rows`` for ``X``."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if not X.has_sorted_indices:
            X = X.sorted_indices()  # a copy: the caller's matrix stays as it is
        values = X.data
        args = {
            "indptr": np.ascontiguousarray(X.indptr, dtype=np.int64),
            "indices": np.ascontiguousarray(X.indices, dtype=np.int64),
        }
    else:
        values = np.asarray(X)
        if values.ndim != 2:
            raise ValueError(f"X: expected a 2-D array or sparse matrix, got {values.ndim} dimensions")
        args = {"indptr": None, "indices": None}
    args["values_i"] = args["values_f"] = None
    if values.dtype.kind in "biu":
        args["values_i"] = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
    elif values.dtype.kind == "f":
        args["values_f"] = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    else:
        raise TypeError(f"X: expected numeric values, got dtype {values.dtype}")
    return args, X.shape[0], X.shape[1]


def dump_svmlight(X, y, f, *, zero_based=True, comment=None, query_id=None, multilabel=False):
    """Write ``X`` and ``y`` in SVMlight / LIBSVM format.

    ``sklearn.datasets.load_svmlight_file`` and :func:`load_svmlight` read the
    file back to the same arrays: floats are written as the shortest text that
    parses to the same float64 (float32 values exactly, as float64), integers as
    integers.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Dense zeros are not written; the stored entries of a sparse matrix are,
        explicit zeros included.
    y : array-like of shape (n_samples,), or (n_samples, n_labels) with multilabel
        Labels; with ``multilabel=True`` an indicator matrix (dense or sparse)
        whose non-zero columns become the comma-separated labels of a line.
    f : str, os.PathLike or binary file object
        The file to write (a path is created or truncated).
    zero_based : bool, default True
        Write indices from 0 (True) or from 1 (False, the LIBSVM convention).
    comment : str or bytes, optional
        Text written as ``#`` lines at the top, after a line naming the writer.
    query_id : array-like of shape (n_samples,), optional
        Integer query ids, written as ``qid:<id>`` after each label.
    multilabel : bool, default False
        Whether ``y`` holds several labels per sample.

    Raises
    ------
    ValueError
        On mismatched shapes, a non-boolean ``zero_based`` or a comment with a
        NUL byte; raised before anything is written.
    TypeError
        On non-numeric ``X``, ``y`` or ``query_id``, or an unsupported ``f``.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from fastopt.datasets import dump_svmlight, load_svmlight
    >>> X = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    >>> buffer = io.BytesIO()
    >>> dump_svmlight(X, np.array([1.0, -1.0]), buffer, zero_based=False)
    >>> buffer.getvalue().decode().splitlines()
    ['1 2:1.5', '-1 1:2 3:-1']
    >>> X_read, y_read = load_svmlight(io.BytesIO(buffer.getvalue()), n_features=3)
    >>> X_read.toarray(), y_read
    (array([[ 0. ,  1.5,  0. ],
           [ 2. ,  0. , -1. ]]), array([ 1., -1.]))
    """
    zero_based = _check_flag("zero_based", zero_based)
    multilabel = _check_flag("multilabel", multilabel)
    if comment is not None:
        if isinstance(comment, str):
            comment = comment.encode("utf-8")
        elif isinstance(comment, bytes):
            comment.decode("ascii")  # raises UnicodeDecodeError on non-ASCII bytes
        else:
            raise TypeError(f"comment: expected str or bytes, got {type(comment).__name__}")
        if b"\0" in comment:
            raise ValueError("comment: contains a NUL byte")
    args, n_samples, n_features = _dump_values(X)
    args.update({"labels_f": None, "labels_i": None, "label_indptr": None, "label_columns": None})
    args.update(_dump_labels(y, multilabel, n_samples))
    if query_id is not None:
        qids = np.asarray(query_id)
        if qids.ndim != 1 or qids.shape[0] != n_samples:
            raise ValueError(f"query_id: expected shape ({n_samples},), got {qids.shape}")
        if qids.dtype.kind not in "iu":
            raise TypeError(f"query_id: expected integers, got dtype {qids.dtype}")
        args["qids"] = np.ascontiguousarray(qids, dtype=np.int64)
    else:
        args["qids"] = None

    header = b""
    if comment:
        base = "zero" if zero_based else "one"
        header = f"# Generated by fastopt.datasets.dump_svmlight\n# Column indices are {base}-based\n#\n".encode()
        header += b"".join(b"# " + line + b"\n" for line in comment.splitlines())

    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "wb") as out:
            _write_rows(out, header, args, n_samples, n_features, zero_based)
    elif hasattr(f, "write"):
        _write_rows(f, header, args, n_samples, n_features, zero_based)
    else:
        raise TypeError(f"f: expected a path or a binary file object, got {describe(f)}")


def _write_rows(out, header, args, n_samples, n_features, zero_based):
    if header:
        out.write(header)
    for start in range(0, n_samples, _DUMP_ROWS):
        stop = min(start + _DUMP_ROWS, n_samples)
        out.write(
            _core.svmlight_format_rows(
                row_begin=start,
                row_end=stop,
                columns=n_features,
                index_offset=0 if zero_based else 1,
                **args,
            )
        )
