"""Sources of ``(X, y)`` chunks for out-of-core training."""

from __future__ import annotations

import os

import numpy as np

from fastopt.datasets.stream import iter_svmlight


def chunk_epochs(source, epochs, n_features, chunk_rows, zero_based):
    """Return a function that opens the stream of one epoch; check that ``epochs`` passes are possible.

    ``source`` is a LIBSVM path, a callable that returns a fresh iterable of chunks
    (called once per epoch, for example a lambda around ``read_ctr_csv``), or an
    iterable of chunks. A one-shot iterator allows only one epoch.
    """
    if isinstance(source, (str, bytes, os.PathLike)):
        if not os.path.isfile(source):
            raise ValueError(f"source: file not found: {os.fsdecode(source)!r}")
        if n_features is None:
            # A stream cannot scan the whole file for its largest index first.
            raise ValueError(
                "n_features: expected an integer >= 1 to read a LIBSVM file as a stream, got "
                "None; pass the number of features (the largest index plus one for 0-based files)"
            )
        return lambda: iter_svmlight(source, chunk_rows, n_features, zero_based=zero_based)
    if callable(source):
        return source
    try:
        one_shot = iter(source) is source
    except TypeError:
        raise TypeError(
            "source: expected a path, a callable returning chunks or an iterable of (X, y) chunks, "
            f"got {type(source).__name__}"
        ) from None
    if one_shot and epochs > 1:
        raise ValueError(
            f"epochs: a one-shot iterator allows 1 epoch, got {epochs}; pass a callable that "
            "returns a fresh iterator for each epoch"
        )
    return lambda: source


def unpack_chunk(chunk, position):
    """Return ``(X, y, sample_weight)`` of a chunk given as ``(X, y)`` or ``(X, y, sample_weight)``."""
    if not isinstance(chunk, (tuple, list)) or len(chunk) not in (2, 3):
        raise ValueError(
            f"chunk {position}: expected a tuple (X, y) or (X, y, sample_weight), got {type(chunk).__name__}"
            + (f" of length {len(chunk)}" if isinstance(chunk, (tuple, list)) else "")
        )
    X, y = chunk[0], np.asarray(chunk[1])
    sample_weight = chunk[2] if len(chunk) == 3 else None
    return X, y, sample_weight
