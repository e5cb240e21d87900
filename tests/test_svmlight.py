import bz2
import gzip

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt.datasets import load_svmlight, load_svmlight_files

sklearn_datasets = pytest.importorskip("sklearn.datasets")

# name, n_features, expected shape (the published LIBSVM figures)
REAL_FILES = [
    ("a9a", 123, (32561, 123)),
    ("a9a.t", 123, (16281, 123)),
    ("mushrooms", None, (8124, 112)),
    ("heart_scale", None, (270, 13)),
    ("news20.bz2", None, (15935, 62061)),
]


def assert_same_as_sklearn(X, y, X_ref, y_ref):
    X_ref = sp.csr_matrix(X_ref)
    assert isinstance(X, sp.csr_matrix)
    assert X.shape == X_ref.shape
    assert X.dtype == X_ref.dtype
    np.testing.assert_array_equal(X.indptr, X_ref.indptr)
    np.testing.assert_array_equal(X.indices, X_ref.indices)
    np.testing.assert_array_equal(X.data, X_ref.data)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, y_ref)


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


# -- real files ---------------------------------------------------------------


@pytest.mark.parametrize("name,n_features,shape", REAL_FILES)
def test_real_file_matches_sklearn(data_file, name, n_features, shape):
    path = data_file(name)
    X, y = load_svmlight(path, n_features=n_features)
    assert X.shape == shape
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path, n_features=n_features)
    assert_same_as_sklearn(X, y, X_ref, y_ref)


def test_real_file_float32(data_file):
    path = data_file("heart_scale")
    X, y = load_svmlight(path, dtype=np.float32)
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path, dtype=np.float32)
    assert_same_as_sklearn(X, y, X_ref, y_ref)


def test_train_test_pair_share_width(data_file):
    # a9a.t never uses feature 123, so alone it would load 122 columns wide.
    X_train, y_train, X_test, y_test = load_svmlight_files([data_file("a9a"), data_file("a9a.t")])
    assert X_train.shape == (32561, 123)
    assert X_test.shape == (16281, 123)
    X_alone, _ = load_svmlight(data_file("a9a.t"))
    assert X_alone.shape == (16281, 122)


def test_compressed_copies_load_alike(data_file, tmp_path):
    raw = open(data_file("heart_scale"), "rb").read()
    X, y = load_svmlight(data_file("heart_scale"))
    # Names without the usual extension: the header decides the format.
    for name, content in [("h.gz", gzip.compress(raw)), ("h.bz2", bz2.compress(raw)), ("h.data", gzip.compress(raw))]:
        X_c, y_c = load_svmlight(write(tmp_path, name, content))
        assert (X_c != X).nnz == 0, name
        np.testing.assert_array_equal(y_c, y)


# -- format details -----------------------------------------------------------


def test_comments_blank_lines_qid_and_crlf(tmp_path):
    content = (
        b"# a header comment\r\n"
        b"1 qid:7 1:0.5 3:-2 # trailing comment\r\n"
        b"\r\n"
        b"   \t\n"
        b"-1 2:0 4:1e-3\n"
        b"+1\n"
        b"0.5 1:inf 2:nan"
    )
    path = write(tmp_path, "format.txt", content)
    X, y = load_svmlight(path)
    assert X.shape == (4, 4)
    np.testing.assert_array_equal(y, [1.0, -1.0, 1.0, 0.5])
    # Explicit zeros stay stored, as in scikit-learn.
    assert X.nnz == 6
    np.testing.assert_array_equal(X.indptr, [0, 2, 4, 4, 6])
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path)
    np.testing.assert_array_equal(X.indices, sp.csr_matrix(X_ref).indices)
    np.testing.assert_array_equal(X.data, sp.csr_matrix(X_ref).data)
    np.testing.assert_array_equal(y, y_ref)


def test_zero_based_modes(tmp_path):
    path = write(tmp_path, "zero.txt", b"1 0:1 2:3\n-1 1:2\n")
    X, _ = load_svmlight(path)  # "auto" finds an index 0, so the file is zero-based
    np.testing.assert_array_equal(X.toarray(), [[1, 0, 3], [0, 2, 0]])
    X, _ = load_svmlight(path, zero_based=True, n_features=5)
    assert X.shape == (2, 5)

    one = write(tmp_path, "one.txt", b"1 1:1 3:3\n")
    X, _ = load_svmlight(one)
    np.testing.assert_array_equal(X.toarray(), [[1, 0, 3]])
    X, _ = load_svmlight(one, zero_based=True)
    np.testing.assert_array_equal(X.toarray(), [[0, 1, 0, 3]])


def test_auto_decides_across_files(tmp_path):
    zero = write(tmp_path, "zero.txt", b"1 0:1\n")
    one = write(tmp_path, "one.txt", b"1 1:1\n")
    _, _, X_one, _ = load_svmlight_files([zero, one])
    # The index 0 in the first file makes both files zero-based.
    np.testing.assert_array_equal(X_one.toarray(), [[0, 1]])


def test_empty_file(tmp_path):
    X, y = load_svmlight(write(tmp_path, "empty.txt", b"# nothing\n\n"))
    assert X.shape[0] == 0
    assert y.shape == (0,)


# -- errors -------------------------------------------------------------------

MALFORMED = [
    ("bad index", b"1 1:2 x:3\n", 1, "invalid feature index 'x'"),
    ("negative index", b"# c\n1 1:2 -3:3\n", 2, "invalid feature index '-3'"),
    ("float index", b"1 1.5:2\n", 1, "invalid feature index '1.5'"),
    ("bad value", b"1 1:2\n\n-1 2:abc\n", 3, "invalid feature value 'abc'"),
    ("empty value", b"1 1:\n", 1, "invalid feature value ''"),
    ("missing colon", b"1 1:2 3\n", 1, "invalid feature '3': expected 'index:value'"),
    ("two colons", b"1 1:23:4\n", 1, "invalid feature value '23:4'"),
    ("bad label", b"1 1:2\nfoo 1:3\n", 2, "invalid label 'foo'"),
    ("missing label", b"1 1:2\n2:1 3:4\n", 2, "invalid label '2:1'"),
    ("unsorted", b"1 1:2 3:1\n-1 3:1 2:1\n", 2, "feature index 2 follows 3"),
    ("duplicate", b"1 1:2\n1 4:2 4:3\n", 2, "feature index 4 follows 4"),
]


@pytest.mark.parametrize("case,content,line,fragment", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_names_line(tmp_path, case, content, line, fragment):
    path = write(tmp_path, "bad.txt", content)
    with pytest.raises(ValueError) as info:
        load_svmlight(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


def test_malformed_compressed_file_names_line(tmp_path):
    path = write(tmp_path, "bad.bz2", bz2.compress(b"1 1:1\n1 2:1\n1 3:oops\n"))
    with pytest.raises(ValueError, match=r"bad\.bz2:3: invalid feature value 'oops'"):
        load_svmlight(path)


def test_index_beyond_n_features(tmp_path):
    path = write(tmp_path, "wide.txt", b"1 1:1\n# comment\n-1 2:1 7:1\n")
    with pytest.raises(ValueError) as info:
        load_svmlight(path, n_features=5)
    message = str(info.value)
    assert message.startswith(f"{path}:3: feature index 7 is out of range for n_features=5")
    assert "needs n_features >= 7" in message


def test_index_too_large(tmp_path):
    path = write(tmp_path, "huge.txt", b"1 1:1\n1 99999999999999999999:1\n")
    with pytest.raises(ValueError, match=r"huge\.txt:2: feature index 100000000000000000000 is too large"):
        load_svmlight(path)


def test_index_zero_when_one_based(tmp_path):
    path = write(tmp_path, "zero.txt", b"1 1:1\n1 0:1\n")
    with pytest.raises(ValueError, match=r"zero\.txt:2: feature index 0 is invalid with zero_based=False"):
        load_svmlight(path, zero_based=False)


def test_corrupt_compressed_file(tmp_path):
    path = write(tmp_path, "broken.gz", gzip.compress(b"1 1:1\n" * 100)[:30])
    with pytest.raises(ValueError, match="broken.gz: failed to decompress"):
        load_svmlight(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_svmlight(str(tmp_path / "absent.txt"))


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        ({"n_features": 0}, ValueError, "n_features: expected None or an integer >= 1, got 0"),
        ({"n_features": 2.5}, ValueError, "n_features"),
        ({"zero_based": "yes"}, ValueError, "zero_based: expected True, False or 'auto'"),
        ({"zero_based": 1}, ValueError, "zero_based"),
        ({"dtype": np.int32}, TypeError, "dtype: expected float32 or float64, got int32"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, error, fragment):
    path = write(tmp_path, "ok.txt", b"1 1:1\n")
    with pytest.raises(error) as info:
        load_svmlight(path, **kwargs)
    assert fragment in str(info.value)


def test_files_requires_sequence(tmp_path):
    path = write(tmp_path, "ok.txt", b"1 1:1\n")
    with pytest.raises(TypeError, match="use load_svmlight for one file"):
        load_svmlight_files(path)
