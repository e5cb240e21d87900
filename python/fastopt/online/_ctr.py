"""Chunked reading of click-through-rate (CTR) tables into hashed sparse rows."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import numbers
import os

from fastopt import _core
from fastopt.online._hashing import _check_n_bits, _check_seed, csr_from_hashed

__all__ = ["read_ctr_csv"]

# Column kinds understood by _core.hash_table.
_SKIP, _CATEGORICAL, _NUMERIC_VALUE, _NUMERIC_TOKEN = 0, 1, 2, 3


def _open_text(path, encoding):
    """Open a plain, gzip or bzip2 file as text; the header decides, not the extension."""
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    if magic == b"BZh":
        return bz2.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def _column_index(names, column, argument):
    if isinstance(column, numbers.Integral) and not isinstance(column, bool):
        if not 0 <= column < len(names):
            raise ValueError(f"{argument}: column index {column} is out of range for {len(names)} columns")
        return int(column)
    if column not in names:
        raise ValueError(f"{argument}: column {column!r} not found; the columns are {names}")
    return names.index(column)


def _column_kinds(names, label_index, numeric_columns, skip_columns, numeric):
    kinds = [_CATEGORICAL] * len(names)
    numeric_kind = _NUMERIC_VALUE if numeric == "value" else _NUMERIC_TOKEN
    for column in numeric_columns:
        kinds[_column_index(names, column, "numeric_columns")] = numeric_kind
    for column in skip_columns:
        kinds[_column_index(names, column, "skip_columns")] = _SKIP
    kinds[label_index] = _SKIP
    return kinds


def read_ctr_csv(path_or_file, label_column, n_bits=20, *, seed=0, alternate_sign=True,
                 numeric_columns=(), numeric="token", skip_columns=(), delimiter=",",
                 names=None, chunk_rows=100_000, encoding="utf-8"):
    """Read a delimited CTR table in chunks of hashed sparse rows and labels.

    Every field other than the label becomes a token ``"column=value"`` hashed
    as by :class:`FeatureHasher`, so the columns need no dictionary and the
    memory used depends on ``chunk_rows``, not on the length of the file. An
    empty field is a missing value and adds no token.

    Parameters
    ----------
    path_or_file : str, os.PathLike or file object
        A path (plain, gzip or bzip2, recognized by the header) or an open text file.
    label_column : str or int
        Name or position of the label column; its values must be numbers.
    n_bits : int, default 20
        The rows have ``2**n_bits`` columns.
    seed : int, default 0
        As in :class:`FeatureHasher`.
    alternate_sign : bool, default True
        As in :class:`FeatureHasher`.
    numeric_columns : sequence of str or int
        Columns treated as numbers.
    numeric : {"token", "value"}, default "token"
        With "token" each value of a numeric column is hashed as the token
        ``"column=value"``, like a category. With "value" the token is ``"column"`` and
        the parsed number is its value.
    skip_columns : sequence of str or int
        Columns to ignore, such as a row id.
    delimiter : str, default ","
        Field separator, ``"\\t"`` for the raw Criteo files. Quoting follows Python's csv module.
    names : sequence of str, optional
        Column names of a file without a header line. By default the first line is the header.
    chunk_rows : int, default 100000
        Maximum number of rows per chunk.
    encoding : str, default "utf-8"
        Text encoding of a path; an open file keeps its own.

    Yields
    ------
    X : scipy.sparse.csr_matrix of shape (n_rows, 2**n_bits), float64 with int32 indices
    y : numpy.ndarray of shape (n_rows,), the labels as float64

    Raises
    ------
    ValueError
        On a row with the wrong number of fields, an invalid label or numeric value
        (the message names the file, the line and the column), or an unknown column.

    Examples
    --------
    >>> import os
    >>> from fastopt.online import read_ctr_csv
    >>> chunks = read_ctr_csv(os.path.join(DATA_DIR, "ctr", "avazu_sample.txt"), "click",
    ...                       n_bits=18, skip_columns=["id"], chunk_rows=50)
    >>> X, y = next(chunks)
    >>> X.shape, y.shape
    ((50, 262144), (50,))
    """
    n_bits = _check_n_bits(n_bits)
    seed = _check_seed(seed)
    if numeric not in ("token", "value"):
        raise ValueError(f"numeric: expected 'token' or 'value', got {numeric!r}")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
        raise ValueError(f"chunk_rows: expected an integer >= 1, got {chunk_rows!r}")
    if isinstance(path_or_file, (str, bytes, os.PathLike)):
        source = os.fsdecode(path_or_file)
        with _open_text(path_or_file, encoding) as f:
            yield from _read_chunks(f, source, label_column, n_bits, seed, alternate_sign,
                                    numeric_columns, numeric, skip_columns, delimiter, names,
                                    int(chunk_rows))
    else:
        f = path_or_file
        if isinstance(f, (io.RawIOBase, io.BufferedIOBase)):
            f = io.TextIOWrapper(f, encoding=encoding, newline="")
        source = getattr(path_or_file, "name", "<file>")
        yield from _read_chunks(f, str(source), label_column, n_bits, seed, alternate_sign,
                                numeric_columns, numeric, skip_columns, delimiter, names,
                                int(chunk_rows))


def _read_chunks(f, source, label_column, n_bits, seed, alternate_sign, numeric_columns, numeric,
                 skip_columns, delimiter, names, chunk_rows):
    reader = csv.reader(f, delimiter=delimiter)
    if names is None:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{source}: the file is empty; expected a header line")
        # A byte-order mark, as spreadsheet programs write, would otherwise stick to the
        # first column's name.
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        names = header
    names = [str(name) for name in names]
    label_index = _column_index(names, label_column, "label_column")
    kinds = _column_kinds(names, label_index, numeric_columns, skip_columns, numeric)
    while True:
        rows = []
        # The line where each record starts: reader.line_num is the last line read, and a
        # record can span lines (a quoted field with a line break) or follow blank lines.
        row_lines = []
        start = reader.line_num + 1
        for row in reader:
            if row:  # csv yields [] for a blank line
                rows.append(row)
                row_lines.append(start)
                if len(rows) == chunk_rows:
                    break
            start = reader.line_num + 1
        if not rows:
            return
        indptr, indices, data, labels = _core.hash_table(
            rows, names, kinds, label_index, n_bits, seed, bool(alternate_sign), source, row_lines
        )
        yield csr_from_hashed(indptr, indices, data, n_bits), labels
