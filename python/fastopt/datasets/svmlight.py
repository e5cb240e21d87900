"""Reader for the SVMlight / LIBSVM text format.

Each non-empty line is ``<label> [qid:<id>] <index>:<value> <index>:<value> ...``
and ``#`` starts a comment that runs to the end of the line. Feature indices
within a line must be strictly increasing. The result matches
``sklearn.datasets.load_svmlight_file`` (scikit-learn 1.9) on valid input.
Numbers go through NumPy's text parser, which differs from Python's float(),
used by scikit-learn, only on rare spellings: it rejects ``1_0`` and accepts
``nan(123)``.

The parse is vectorized: one Python pass over the lines collects labels and
feature text, and NumPy converts all numbers at once. Only when that fails is
the input rescanned token by token, so that the error names the file, the
line and the token.
"""

from __future__ import annotations

import bz2
import gzip
import numbers
import os
import re

import numpy as np
import scipy.sparse as sp

__all__ = ["load_svmlight", "load_svmlight_files"]

# Every feature token is digits, a colon and a value without whitespace or
# colons, and tokens are separated by whitespace. bytes patterns make \s match
# ASCII whitespace only, the same set that bytes.split() and NumPy's text
# parser use.
_FEATURES = re.compile(rb"\s*(?:[0-9]+:[^\s:]+(?:\s+|\Z))*")
_INDEX = re.compile(rb"[0-9]+")
_COMMENT = re.compile(rb"#[^\n]*")

# Feature indices are converted through float64, which is exact below 2**53.
_MAX_INDEX = 2**53


class _Parsed:
    """Raw content of one file: indices as written, before zero_based is applied."""

    def __init__(self, path, labels, indptr, indices, values, row_lines):
        self.path = path
        self.labels = labels
        self.indptr = indptr
        self.indices = indices
        self.values = values
        self.row_lines = row_lines

    def line_of(self, position: int) -> int:
        """Return the line number of the feature at ``position`` in ``indices``."""
        row = int(np.searchsorted(self.indptr, position, side="right")) - 1
        return int(self.row_lines[row])


def _read_bytes(path: str) -> bytes:
    """Return the file's content, decompressed when it starts with a gzip or bzip2 header."""
    with open(path, "rb") as f:
        raw = f.read()
    # The header decides rather than the extension, so a renamed file still loads.
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: failed to decompress: {exc}") from None
    return raw


def _parse_numbers(text: bytes) -> np.ndarray | None:
    """Return the whitespace-separated numbers in ``text``, or None if any is invalid."""
    try:
        return np.fromstring(text, dtype=np.float64, sep=" ")
    except ValueError:
        return None


def _show(token: bytes, limit: int = 40) -> str:
    text = token.decode("utf-8", "backslashreplace")
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _diagnose(path: str, lines: list[bytes], first_line: int = 1) -> None:
    """Rescan ``lines`` token by token and raise a ValueError at the first invalid one.

    Uses the same number parser as the fast path, so a file this accepts is
    one the fast path accepts too. ``first_line`` is the line number of ``lines[0]``.
    """
    for lineno, line in enumerate(lines, start=first_line):
        hash_at = line.find(b"#")
        if hash_at >= 0:
            line = line[:hash_at]
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{lineno}"
        label = _parse_numbers(tokens[0])
        if label is None or label.size != 1:
            raise ValueError(f"{where}: invalid label {_show(tokens[0])}: each line must start with a number")
        features = tokens[1:]
        if features and features[0].startswith(b"qid:"):
            features = features[1:]
        for token in features:
            index, colon, value = token.partition(b":")
            if not colon:
                raise ValueError(f"{where}: invalid feature {_show(token)}: expected 'index:value'")
            if not _INDEX.fullmatch(index):
                raise ValueError(
                    f"{where}: invalid feature index {_show(index)} in {_show(token)}: "
                    "expected a non-negative integer"
                )
            number = _parse_numbers(value)
            if b":" in value or number is None or number.size != 1:
                raise ValueError(f"{where}: invalid feature value {_show(value)} in {_show(token)}")


def _parse(path: str, dtype) -> _Parsed:
    return _parse_text(path, _read_bytes(path), dtype)


def _parse_text(path: str, text: bytes, dtype, first_line: int = 1) -> _Parsed:
    """Parse the lines in ``text``, numbered from ``first_line`` in messages."""
    lines = text.split(b"\n")
    body = _COMMENT.sub(b"", text) if b"#" in text else text

    labels: list[bytes] = []
    chunks: list[bytes] = []
    row_lines: list[int] = []
    for lineno, line in enumerate(body.split(b"\n"), start=first_line):
        parts = line.split(None, 1)
        if not parts:
            continue
        labels.append(parts[0])
        row_lines.append(lineno)
        rest = parts[1] if len(parts) == 2 else b""
        # A query id is part of the format but not of X; scikit-learn drops it too.
        if rest.startswith(b"qid:"):
            qid = rest.split(None, 1)
            rest = qid[1] if len(qid) == 2 else b""
        chunks.append(rest)

    label_values = _parse_numbers(b" ".join(labels))
    features = b" ".join(chunks)
    pairs = _parse_numbers(features.replace(b":", b" ")) if _FEATURES.fullmatch(features) else None
    counts = np.fromiter((chunk.count(b":") for chunk in chunks), dtype=np.int64, count=len(chunks))
    nnz = int(counts.sum())
    if (
        label_values is None
        or label_values.size != len(labels)
        or pairs is None
        or pairs.size != 2 * nnz
    ):
        _diagnose(path, lines, first_line)
        # _diagnose raises for every input the fast path rejects; this is a safeguard.
        raise ValueError(f"{path}: invalid SVMlight/LIBSVM content")

    pairs = pairs.reshape(nnz, 2)
    indptr = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    parsed = _Parsed(path, label_values, indptr, pairs[:, 0], pairs[:, 1].astype(dtype), np.asarray(row_lines))
    if nnz and parsed.indices.max() >= _MAX_INDEX:
        position = int(np.argmax(parsed.indices >= _MAX_INDEX))
        raise ValueError(
            f"{path}:{parsed.line_of(position)}: feature index {parsed.indices[position]:.0f} is too large "
            "(the maximum is 2**53 - 1)"
        )
    parsed.indices = parsed.indices.astype(np.int64)
    _check_sorted(parsed)
    return parsed


def _check_sorted(parsed: _Parsed) -> None:
    """Raise unless the indices of every row are strictly increasing, as the format requires."""
    indices = parsed.indices
    if indices.size < 2:
        return
    decreasing = np.diff(indices) <= 0
    # A drop between the last feature of one row and the first of the next is fine.
    row_starts = parsed.indptr[1:-1]
    row_starts = row_starts[(row_starts > 0) & (row_starts < indices.size)]
    decreasing[row_starts - 1] = False
    if decreasing.any():
        position = int(np.argmax(decreasing)) + 1
        raise ValueError(
            f"{parsed.path}:{parsed.line_of(position)}: feature index {indices[position]} follows "
            f"{indices[position - 1]}: indices within a line must be sorted and unique"
        )


def _check_arguments(n_features, zero_based, dtype):
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


def load_svmlight_files(paths, n_features=None, zero_based="auto", dtype=np.float64):
    """Load several SVMlight / LIBSVM files with a common number of features.

    Use this for a train/test pair: the files share ``n_features`` (the widest
    one unless given) and, with ``zero_based="auto"``, one indexing decision.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Plain, gzip or bzip2 files (recognized by their header).
    n_features, zero_based, dtype
        As in :func:`load_svmlight`.

    Returns
    -------
    list
        ``[X_0, y_0, X_1, y_1, ...]``, as ``sklearn.datasets.load_svmlight_files``.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("paths: expected a sequence of paths; use load_svmlight for one file")
    n_features, dtype = _check_arguments(n_features, zero_based, dtype)
    files = [_parse(os.fspath(p), dtype) for p in paths]

    if zero_based is False:
        for f in files:
            if f.indices.size and f.indices.min() == 0:
                position = int(np.argmax(f.indices == 0))
                raise ValueError(
                    f"{f.path}:{f.line_of(position)}: feature index 0 is invalid with zero_based=False "
                    "(indices start at 1)"
                )
    # "auto" means one-based unless some index is 0 (or a file has no features
    # at all), the rule scikit-learn applies.
    one_based = zero_based is False or (
        zero_based == "auto" and all(f.indices.size and f.indices.min() > 0 for f in files)
    )
    if one_based:
        for f in files:
            f.indices -= 1

    widest = max((int(f.indices.max()) + 1 for f in files if f.indices.size), default=0)
    if n_features is None:
        n_features = widest
    elif widest > n_features:
        for f in files:
            if f.indices.size and f.indices.max() >= n_features:
                position = int(np.argmax(f.indices >= n_features))
                written = f.indices[position] + (1 if one_based else 0)
                raise ValueError(
                    f"{f.path}:{f.line_of(position)}: feature index {written} is out of range for "
                    f"n_features={n_features} ({'one' if one_based else 'zero'}-based indices); "
                    f"the data needs n_features >= {widest}"
                )

    result = []
    for f in files:
        # int32 indices when they fit, as scipy itself would choose.
        index_dtype = np.int32 if max(n_features, f.indices.size) < 2**31 else np.int64
        X = sp.csr_matrix(
            (f.values, f.indices.astype(index_dtype), f.indptr.astype(index_dtype)),
            shape=(f.indptr.size - 1, n_features),
        )
        result += [X, f.labels]
    return result


def load_svmlight(path, n_features=None, zero_based="auto", dtype=np.float64):
    """Load a file in SVMlight / LIBSVM format into a sparse matrix and labels.

    Parameters
    ----------
    path : str or os.PathLike
        A plain, gzip or bzip2 file; compression is recognized from the file's
        header, not its name.
    n_features : int, optional
        Number of columns of ``X``. Default: the largest index in the file
        plus one. Pass it when a test file may not use the last features (the
        LIBSVM a9a test split, for one, has no feature 123).
    zero_based : bool or "auto", default "auto"
        Whether indices start at 0. "auto" assumes one-based indices unless
        an index 0 occurs; with False, an index 0 is an error.
    dtype : float32 or float64, default float64
        Type of the values of ``X``. Labels are always float64.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Values as written, including explicit zeros, with sorted indices.
    y : numpy.ndarray of shape (n_samples,)

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        On malformed content. The message names the file, the line number and
        the token. Malformed means a label or value that is not a number, a
        feature that is not ``index:value``, an index that is not a
        non-negative integer, indices not strictly increasing within a line,
        or an index beyond ``n_features``.
    """
    X, y = load_svmlight_files([path], n_features=n_features, zero_based=zero_based, dtype=dtype)
    return X, y
