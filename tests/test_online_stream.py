"""Streaming: iter_svmlight chunks, out-of-core training and flat memory."""

import bz2
import gzip
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt.datasets import iter_svmlight, load_svmlight
from fastopt.online import FTRLClassifier, SGDClassifier, SGDRegressor


def write_libsvm(path, n_rows, n_features, seed=0, density=0.05):
    """Write a random binary LIBSVM file chunk by chunk and return its path."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for start in range(0, n_rows, 1000):
            rows = min(1000, n_rows - start)
            X = sp.random(rows, n_features, density=density, random_state=rng, format="csr")
            w = np.linspace(-1, 1, n_features)
            y = np.where(X @ w > 0, 1, -1)
            lines = []
            for i in range(rows):
                row = X[i]
                features = " ".join(f"{j + 1}:{v:.6g}" for j, v in zip(row.indices, row.data))
                lines.append(f"{y[i]} {features}\n")
            f.writelines(lines)
    return path


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000, 10**6])
def test_chunks_equal_load_svmlight(tmp_path, chunk_rows):
    path = write_libsvm(tmp_path / "d.svm", 500, 40)
    X, y = load_svmlight(path, n_features=40, zero_based=False)
    chunks = list(iter_svmlight(path, chunk_rows, n_features=40))
    assert all(c[0].shape[0] <= chunk_rows for c in chunks)
    assert all(c[0].indices.dtype == np.int32 for c in chunks)
    assert (sp.vstack([c[0] for c in chunks]) != X).nnz == 0
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), y)


def test_chunks_equal_load_svmlight_a9a(data_file):
    X, y = load_svmlight(data_file("a9a.t"), n_features=123)
    chunks = list(iter_svmlight(data_file("a9a.t"), 5000, n_features=123))
    assert len(chunks) == 4
    assert (sp.vstack([c[0] for c in chunks]) != X).nnz == 0
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), y)


def test_chunks_of_bz2_news20(data_file):
    X, y = load_svmlight(data_file("news20.bz2"), n_features=62061)
    total_rows = 0
    for X_chunk, y_chunk in iter_svmlight(data_file("news20.bz2"), 4000, n_features=62061):
        assert (X_chunk != X[total_rows:total_rows + X_chunk.shape[0]]).nnz == 0
        np.testing.assert_array_equal(y_chunk, y[total_rows:total_rows + X_chunk.shape[0]])
        total_rows += X_chunk.shape[0]
    assert total_rows == X.shape[0]


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_chunks_of_compressed_file(tmp_path, opener):
    path = write_libsvm(tmp_path / "d.svm", 120, 10)
    packed = tmp_path / "d.svm.packed"
    with open(path, "rb") as src, opener(packed, "wb") as dst:
        dst.write(src.read())
    X, y = load_svmlight(path, n_features=10)
    chunks = list(iter_svmlight(packed, 50, n_features=10))
    assert (sp.vstack([c[0] for c in chunks]) != X).nnz == 0


def test_chunks_skip_comments_and_blank_lines(tmp_path):
    path = tmp_path / "c.svm"
    path.write_text("# header\n\n1 1:2\n\n-1 2:3 # tail\n")
    chunks = list(iter_svmlight(path, 2, n_features=2))
    assert [c[0].shape[0] for c in chunks] == [1, 1]
    np.testing.assert_array_equal(chunks[1][0].toarray(), [[0.0, 3.0]])


def test_chunk_errors_name_file_line(tmp_path):
    path = tmp_path / "bad.svm"
    path.write_text("1 1:1\n" * 25 + "1 2:x\n")
    with pytest.raises(ValueError, match=r"bad.svm:26: invalid feature value 'x'"):
        list(iter_svmlight(path, 10, n_features=3))
    path.write_text("1 1:1\n" * 12 + "1 0:1\n")
    with pytest.raises(ValueError, match=r"bad.svm:13: feature index 0 is invalid with zero_based=False"):
        list(iter_svmlight(path, 5, n_features=3))
    path.write_text("1 1:1\n" * 12 + "1 4:1\n")
    with pytest.raises(ValueError, match=r"bad.svm:13: feature index 4 is out of range for n_features=3"):
        list(iter_svmlight(path, 5, n_features=3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_features": None}, r"n_features: expected an integer >= 1, got None"),
        ({"n_features": 3, "zero_based": "auto"}, r"zero_based: expected True or False, got 'auto'"),
        ({"n_features": 3, "chunk_rows": 0}, r"chunk_rows: expected an integer >= 1, got 0"),
        ({"n_features": 0}, r"n_features: expected None or an integer >= 1, got 0"),
    ],
)
def test_iter_svmlight_bad_arguments(tmp_path, kwargs, match):
    path = tmp_path / "a.svm"
    path.write_text("1 1:1\n")
    kwargs = {"chunk_rows": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        list(iter_svmlight(path, **kwargs))


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGDClassifier(loss="log_loss", shuffle=False, learning_rate="invscaling", eta0=0.1),
        lambda: SGDClassifier(loss="hinge", penalty="l1", alpha=1e-3, shuffle=False),
        lambda: FTRLClassifier(alpha=0.5, l1=0.5, shuffle=False),
    ],
)
def test_out_of_core_equals_in_memory(tmp_path, make):
    path = write_libsvm(tmp_path / "d.svm", 600, 30)
    X, y = load_svmlight(path, n_features=30)
    in_memory = make().set_params(**{make()._epochs_name: 2, "tol": None}).fit(X, y)
    streamed = make().fit_stream(str(path), epochs=2, classes=[-1, 1], n_features=30, chunk_rows=64)
    np.testing.assert_array_equal(streamed.coef_, in_memory.coef_)
    np.testing.assert_array_equal(streamed.intercept_, in_memory.intercept_)
    assert streamed.t_ == in_memory.t_ == 1200


def test_stream_of_chunks_equals_in_memory_regressor():
    rng = np.random.default_rng(3)
    X = sp.random(300, 20, density=0.2, random_state=rng, format="csr")
    y = X @ rng.normal(size=20) + 0.1
    in_memory = SGDRegressor(shuffle=False, max_iter=1, tol=None).fit(X, y)
    chunks = [(X[i:i + 50], y[i:i + 50]) for i in range(0, 300, 50)]
    streamed = SGDRegressor(shuffle=False).fit_stream(iter(chunks))
    np.testing.assert_array_equal(streamed.coef_, in_memory.coef_)


def test_stream_callable_source_runs_each_epoch():
    rng = np.random.default_rng(4)
    X = sp.random(200, 10, density=0.3, random_state=rng, format="csr")
    y = np.where(rng.random(200) < 0.5, 0, 1)
    model = FTRLClassifier(shuffle=False).fit_stream(lambda: [(X[:100], y[:100]), (X[100:], y[100:])],
                                                     epochs=3, classes=[0, 1])
    assert model.t_ == 600
    assert model.n_iter_ == 3


def test_stream_one_shot_iterator_rejects_epochs():
    X = sp.csr_matrix(np.eye(4))
    with pytest.raises(ValueError, match=r"epochs: a one-shot iterator allows 1 epoch, got 2"):
        SGDClassifier().fit_stream(iter([(X, [0, 1, 0, 1])]), epochs=2, classes=[0, 1])


def test_stream_needs_classes_and_width(tmp_path):
    path = write_libsvm(tmp_path / "d.svm", 20, 5)
    with pytest.raises(ValueError, match=r"classes: expected all class labels on the first call"):
        SGDClassifier().fit_stream(str(path), n_features=5)
    with pytest.raises(ValueError, match=r"n_features: expected an integer >= 1 to read a LIBSVM file"):
        SGDClassifier().fit_stream(str(path), classes=[-1, 1])


def test_stream_bad_chunk():
    with pytest.raises(ValueError, match=r"chunk 0: expected a tuple \(X, y\) or \(X, y, sample_weight\)"):
        SGDClassifier().fit_stream([np.eye(3)], classes=[0, 1])


def test_stream_memory_flat(tmp_path):
    """Peak traced memory of fit_stream does not grow with the length of the file."""
    n_features = 2000
    peaks = {}
    for n_rows in (4000, 16000):
        path = write_libsvm(tmp_path / f"m{n_rows}.svm", n_rows, n_features, density=0.005)
        model = FTRLClassifier(shuffle=False)
        tracemalloc.start()
        model.fit_stream(str(path), classes=[-1, 1], n_features=n_features, chunk_rows=500)
        peaks[n_rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert model.t_ == n_rows
    # Four times the rows; a model that kept the stream would need about four times the memory.
    assert peaks[16000] < 1.3 * peaks[4000], peaks


def test_fit_stream_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "absent.svm"
    with pytest.raises(ValueError, match=r"source: file not found: .*absent\.svm"):
        SGDClassifier().fit_stream(str(missing), classes=[-1, 1], n_features=5)
