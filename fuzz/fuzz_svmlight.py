"""Fuzz target: the LIBSVM parser through fastopt.datasets.load_svmlight.

Whatever the bytes and options, the reader either returns a well-formed CSR
matrix with one label per row or raises ValueError, its documented error for
malformed content. Any other exception, a crash or a hang is a fault.
"""

import io
import sys

import atheris

with atheris.instrument_imports(include=["fastopt"]):
    import numpy as np

    from fastopt.datasets import load_svmlight

from common import run

ZERO_BASED = (True, False, "auto")


def check_result(X, y, n_features):
    assert X.shape[0] == len(y), (X.shape, len(y))
    if n_features is not None:
        assert X.shape[1] == n_features, (X.shape, n_features)
    assert X.indptr[0] == 0
    assert X.indptr[-1] == X.nnz
    assert np.all(np.diff(X.indptr) >= 0)
    if X.nnz:
        assert X.indices.min() >= 0
        assert X.indices.max() < X.shape[1]
    X.check_format(full_check=True)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    zero_based = ZERO_BASED[fdp.ConsumeIntInRange(0, 2)]
    dtype = np.float32 if fdp.ConsumeBool() else np.float64
    multilabel = fdp.ConsumeBool()
    query_id = fdp.ConsumeBool()
    n_features = fdp.ConsumeIntInRange(0, 40) or None
    body = fdp.ConsumeBytes(sys.maxsize)
    try:
        result = load_svmlight(io.BytesIO(body), n_features=n_features, zero_based=zero_based,
                               dtype=dtype, multilabel=multilabel, query_id=query_id)
    except ValueError:
        return
    X, y = result[0], result[1]
    check_result(X, y, n_features)
    if query_id:
        qid = result[2]
        assert len(qid) in (0, X.shape[0]), (len(qid), X.shape)


if __name__ == "__main__":
    run(test_one_input)
