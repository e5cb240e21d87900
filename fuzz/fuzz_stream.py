"""Fuzz target: the streaming LIBSVM reader fastopt.datasets.iter_svmlight.

The chunks of a file that parses must add up to what load_svmlight returns for
the same options; malformed content raises ValueError and nothing else.
"""

import sys

import atheris

with atheris.instrument_imports(include=["fastopt"]):
    import numpy as np
    import scipy.sparse as sp

    from fastopt.datasets import iter_svmlight, load_svmlight

from common import run, scratch_path, write_scratch

PATH = scratch_path(".svm")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    zero_based = fdp.ConsumeBool()
    chunk_rows = fdp.ConsumeIntInRange(1, 5)
    n_features = fdp.ConsumeIntInRange(1, 40)
    write_scratch(PATH, fdp.ConsumeBytes(sys.maxsize))
    try:
        chunks = list(iter_svmlight(PATH, chunk_rows=chunk_rows, n_features=n_features,
                                    zero_based=zero_based))
    except ValueError:
        return
    for X, y in chunks:
        assert X.shape == (len(y), n_features), (X.shape, len(y), n_features)
        X.check_format(full_check=True)
    # The whole-file reader accepts every file the stream accepts.
    X, y = load_svmlight(PATH, n_features=n_features, zero_based=zero_based)
    if chunks:
        joined = sp.vstack([c[0] for c in chunks], format="csr")
        assert joined.shape == X.shape, (joined.shape, X.shape)
        np.testing.assert_array_equal(joined.indptr, X.indptr)
        np.testing.assert_array_equal(joined.indices, X.indices)
        np.testing.assert_array_equal(joined.data, X.data)  # NaN equals NaN here
        np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), y)
    else:
        assert X.shape[0] == 0, X.shape

if __name__ == "__main__":
    run(test_one_input)
