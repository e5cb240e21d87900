import bz2
import gzip
import io
import lzma
import os

import numpy as np
import pytest
import scipy.sparse as sp

import fastopt
from fastopt.datasets import dump_svmlight, load_svmlight, load_svmlight_files

sklearn_datasets = pytest.importorskip("sklearn.datasets")

# name, n_features, expected shape (the published LIBSVM figures)
REAL_FILES = [
    ("a9a", 123, (32561, 123)),
    ("a9a.t", 123, (16281, 123)),
    ("w8a", 300, (49749, 300)),
    ("mushrooms", None, (8124, 112)),
    ("heart_scale", None, (270, 13)),
    ("abalone_scale.bz2", None, (4177, 8)),
    ("news20.bz2", None, (15935, 62061)),
]


def assert_same_as_sklearn(X, y, X_ref, y_ref):
    X_ref = sp.csr_matrix(X_ref)
    assert isinstance(X, sp.csr_matrix)
    assert X.shape == X_ref.shape
    assert X.dtype == X_ref.dtype
    assert X.indices.dtype == np.int32
    assert X.indptr.dtype == np.int32
    np.testing.assert_array_equal(X.indptr, X_ref.indptr)
    np.testing.assert_array_equal(X.indices, X_ref.indices)
    np.testing.assert_array_equal(X.data, X_ref.data)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, y_ref)


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def compare_file(path, **kwargs):
    """Load ``path`` with both readers and compare every array."""
    ours = load_svmlight(path, **kwargs)
    ref = sklearn_datasets.load_svmlight_file(path, **kwargs)
    assert len(ours) == len(ref)
    assert_same_as_sklearn(ours[0], ours[1], ref[0], ref[1])
    if kwargs.get("query_id"):
        np.testing.assert_array_equal(ours[2], ref[2])
    return ours


@pytest.fixture
def threads():
    before = fastopt.get_num_threads()
    yield
    fastopt.set_num_threads(before)


# -- real files ---------------------------------------------------------------


@pytest.mark.parametrize("name,n_features,shape", REAL_FILES)
def test_real_file_matches_sklearn(data_file, name, n_features, shape):
    X, _ = compare_file(data_file(name), n_features=n_features)
    assert X.shape == shape


def test_every_data_dir_file_matches_sklearn(data_dir):
    # Files added to the data directory later are covered too.
    names = sorted(
        n for n in os.listdir(data_dir) if os.path.isfile(os.path.join(data_dir, n)) and not n.endswith(".md")
    )
    assert {"a9a", "w8a", "mushrooms", "heart_scale"} <= set(names)
    for name in names:
        if name in {n for n, _, _ in REAL_FILES}:
            continue
        compare_file(os.path.join(data_dir, name))


def test_real_file_float32(data_file):
    path = data_file("a9a")
    X, y = load_svmlight(path, dtype=np.float32)
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path, dtype=np.float32)
    assert_same_as_sklearn(X, y, X_ref, y_ref)


def test_train_test_pair_share_width(data_file):
    # a9a.t never uses feature 123, so alone it would load 122 columns wide.
    X_train, y_train, X_test, y_test = load_svmlight_files([data_file("a9a"), data_file("a9a.t")])
    assert X_train.shape == (32561, 123)
    assert X_test.shape == (16281, 123)
    ref = sklearn_datasets.load_svmlight_files([data_file("a9a"), data_file("a9a.t")])
    assert_same_as_sklearn(X_test, y_test, ref[2], ref[3])
    X_alone, _ = load_svmlight(data_file("a9a.t"))
    assert X_alone.shape == (16281, 122)


def test_threads_give_identical_arrays(data_file, threads):
    path = data_file("w8a")
    results = []
    for n in (1, 2, 3):
        fastopt.set_num_threads(n)
        results.append(load_svmlight(path))
    for X, y in results[1:]:
        np.testing.assert_array_equal(X.indptr, results[0][0].indptr)
        np.testing.assert_array_equal(X.indices, results[0][0].indices)
        np.testing.assert_array_equal(X.data, results[0][0].data)
        np.testing.assert_array_equal(y, results[0][1])


def test_compressed_copies_load_alike(data_file, tmp_path):
    raw = open(data_file("a9a.t"), "rb").read()
    X, y = load_svmlight(data_file("a9a.t"))
    # Names without the usual extension: the header decides the format.
    copies = [
        ("h.gz", gzip.compress(raw)),
        ("h.bz2", bz2.compress(raw)),
        ("h.xz", lzma.compress(raw)),
        ("h.data", gzip.compress(raw)),
        ("h2.data", lzma.compress(raw)),
        ("two_members.gz", gzip.compress(raw[:1000]) + gzip.compress(raw[1000:])),
    ]
    for name, content in copies:
        X_c, y_c = load_svmlight(write(tmp_path, name, content))
        np.testing.assert_array_equal(X_c.indptr, X.indptr, err_msg=name)
        np.testing.assert_array_equal(X_c.indices, X.indices, err_msg=name)
        np.testing.assert_array_equal(X_c.data, X.data, err_msg=name)
        np.testing.assert_array_equal(y_c, y, err_msg=name)


# -- format details against scikit-learn -------------------------------------

FORMAT_CASES = {
    "comments crlf blanks": (
        b"# a header comment\r\n"
        b"1 qid:7 1:0.5 3:-2 # trailing comment\r\n"
        b"\r\n"
        b"   \t\n"
        b"-1 qid:7 2:0 4:1e-3\n"
        b"+1 qid:8\n"
        b"0.5 qid:9 1:inf 2:nan"
    ),
    "tabs and spaces": b"1\t1:2\t\t3:4 \n-1  2:5\x0b3:6\x0c\n",
    "float spellings": (
        b"+1 1:+1.5 2:-.5 3:5. 4:1E3 5:1e+3 6:1e-3 7:-INF 8:Infinity 9:+nan 10:1_000 11:1e400 12:1e-400\n"
        b"-2.5e1 1:0x 2:1\n".replace(b"0x", b"0")
    ),
    "integer index spellings": b"1 +1:1 0_2:2 00003:3\n",
    "no final newline": b"1 1:1\n2 2:2",
    "label only lines": b"1\n2\n3 3:3\n",
    "only comments": b"# nothing\n\n#\n",
    "zero based": b"1 0:1 2:3\n-1 1:2\n",
    "one based": b"1 1:1 3:3\n-1 5:2\n",
    "explicit zeros": b"1 1:0 2:0.0 3:-0\n",
    "subnormal": b"1 1:4.9e-324 2:2.2250738585072014e-308\n",
    "long row": b"1 " + b" ".join(b"%d:%d" % (i, i) for i in range(1, 5000)) + b"\n",
}


@pytest.mark.parametrize("name", list(FORMAT_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_format_case_matches_sklearn(tmp_path, name, dtype):
    path = write(tmp_path, "case.txt", FORMAT_CASES[name])
    compare_file(path, dtype=dtype)
    for zero_based in (True, False):
        if name == "zero based" and not zero_based:
            continue
        compare_file(path, dtype=dtype, zero_based=zero_based)


def test_format_case_values(tmp_path):
    path = write(tmp_path, "case.txt", FORMAT_CASES["comments crlf blanks"])
    X, y = load_svmlight(path)
    assert X.shape == (4, 4)
    np.testing.assert_array_equal(y, [1.0, -1.0, 1.0, 0.5])
    # Explicit zeros stay stored, as in scikit-learn.
    assert X.nnz == 6
    np.testing.assert_array_equal(X.indptr, [0, 2, 4, 4, 6])


def test_query_id_matches_sklearn(tmp_path):
    path = write(tmp_path, "q.txt", FORMAT_CASES["comments crlf blanks"])
    X, y, qid = compare_file(path, query_id=True)
    np.testing.assert_array_equal(qid, [7, 7, 8, 9])
    assert qid.dtype == np.int64
    none = write(tmp_path, "none.txt", b"1 1:1\n2 2:2\n")
    _, _, qid = compare_file(none, query_id=True)
    assert qid.size == 0


def test_query_id_on_some_lines_only(tmp_path):
    path = write(tmp_path, "q.txt", b"1 qid:1 1:1\n2 2:2\n")
    with pytest.raises(ValueError, match=r"q\.txt:2: line has no qid, but line 1 has one"):
        load_svmlight(path, query_id=True)


def test_multilabel_matches_sklearn(tmp_path):
    path = write(tmp_path, "m.txt", b"1,3 1:1\n2 2:2\n 1:4\n3,1,2 qid:4 3:1\n")
    X, y = load_svmlight(path, multilabel=True)
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path, multilabel=True)
    assert y == y_ref
    assert y == [(1.0, 3.0), (2.0,), (), (1.0, 2.0, 3.0)]
    np.testing.assert_array_equal(X.toarray(), X_ref.toarray())


def test_auto_decides_across_files(tmp_path):
    zero = write(tmp_path, "zero.txt", b"1 0:1\n")
    one = write(tmp_path, "one.txt", b"1 1:1\n")
    empty = write(tmp_path, "empty.txt", b"1\n")
    for files in ([zero, one], [one, empty], [one, one]):
        ours = load_svmlight_files(files)
        ref = sklearn_datasets.load_svmlight_files(files)
        for k in range(0, len(ref), 2):
            assert_same_as_sklearn(ours[k], ours[k + 1], ref[k], ref[k + 1])


def test_empty_file(tmp_path):
    path = write(tmp_path, "empty.txt", b"# nothing\n\n")
    X, y = load_svmlight(path)
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path)
    assert X.shape == X_ref.shape == (0, 1)
    assert y.shape == (0,)


def test_file_object_and_descriptor(tmp_path, data_file):
    path = data_file("heart_scale")
    X, y = load_svmlight(path)
    with open(path, "rb") as f:
        X_f, y_f = load_svmlight(f)
        assert not f.closed
    assert (X_f != X).nnz == 0
    np.testing.assert_array_equal(y_f, y)
    X_b, _ = load_svmlight(io.BytesIO(gzip.compress(open(path, "rb").read())))
    assert (X_b != X).nnz == 0
    fd = os.open(path, os.O_RDONLY)
    try:
        X_d, _ = load_svmlight(fd)
    finally:
        os.close(fd)
    assert (X_d != X).nnz == 0


def test_offset_length_matches_sklearn(data_file):
    path = data_file("heart_scale")
    size = os.path.getsize(path)
    rows = []
    for offset in range(0, size, 5000):
        ours = load_svmlight(path, n_features=14, offset=offset, length=5000)
        ref = sklearn_datasets.load_svmlight_file(path, n_features=14, offset=offset, length=5000)
        assert_same_as_sklearn(ours[0], ours[1], ref[0], ref[1])
        rows.append(ours[0])
    # The parts are disjoint and cover the file; "auto" means zero-based for parts.
    whole, _ = load_svmlight(path, n_features=14, zero_based=True)
    assert (sp.vstack(rows) != whole).nnz == 0


def test_large_file_in_blocks(tmp_path, threads):
    # Several blocks of text, so lines cross block and thread boundaries.
    rng = np.random.default_rng(0)
    X = sp.random(30000, 500, density=0.02, format="csr", random_state=rng)
    y = rng.integers(0, 2, size=30000) * 2 - 1
    path = str(tmp_path / "big.svm")
    sklearn_datasets.dump_svmlight_file(X, y, path, zero_based=False)
    assert os.path.getsize(path) > 3 << 20
    for n in (1, 2):
        fastopt.set_num_threads(n)
        compare_file(path)


# -- writer -------------------------------------------------------------------


def sample_matrix(rng, dtype=np.float64):
    X = sp.random(60, 15, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    X.data = (X.data * 1e3 - 400).astype(dtype)
    X.data[::7] = 1 / 3
    return X


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("zero_based", [True, False])
def test_dump_then_sklearn_load(tmp_path, dense, zero_based):
    rng = np.random.default_rng(1)
    X = sample_matrix(rng)
    y = rng.normal(size=60)
    qid = np.arange(60) // 5
    path = str(tmp_path / "d.svm")
    dump_svmlight(X.toarray() if dense else X, y, path, zero_based=zero_based, comment="first\nsecond",
                  query_id=qid)
    X_ref, y_ref, q_ref = sklearn_datasets.load_svmlight_file(
        path, n_features=15, zero_based=zero_based, query_id=True
    )
    np.testing.assert_array_equal(X_ref.toarray(), X.toarray())
    np.testing.assert_array_equal(y_ref, y)
    np.testing.assert_array_equal(q_ref, qid)
    text = open(path, "rb").read()
    assert b"# first\n# second\n" in text


def test_dump_float32_and_integers_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    X = sample_matrix(rng, np.float32)
    y = rng.integers(-3, 3, size=60)
    path = str(tmp_path / "f.svm")
    dump_svmlight(X, y, path)
    X_back, y_back = load_svmlight(path, n_features=15, zero_based=True, dtype=np.float32)
    np.testing.assert_array_equal(X_back.toarray(), X.toarray())
    np.testing.assert_array_equal(y_back, y)
    X_int = np.arange(12).reshape(3, 4) - 5
    dump_svmlight(X_int, [1, 2, 3], path)
    assert open(path, "rb").read().splitlines()[0] == b"1 0:-5 1:-4 2:-3 3:-2"


def test_dump_special_values(tmp_path):
    X = sp.csr_matrix(np.array([[np.inf, 0, -np.inf], [np.nan, 1e-310, 1.7976931348623157e308]]))
    path = str(tmp_path / "s.svm")
    dump_svmlight(X, [0.1, -2.5], path)
    X_ref, y_ref = sklearn_datasets.load_svmlight_file(path, zero_based=True, n_features=3)
    np.testing.assert_array_equal(X_ref.toarray(), X.toarray())
    np.testing.assert_array_equal(y_ref, [0.1, -2.5])


def test_dump_multilabel_round_trip(tmp_path):
    Y = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    X = np.eye(3)
    for y in (Y, sp.csr_matrix(Y)):
        ours = io.BytesIO()
        dump_svmlight(X, y, ours, multilabel=True)
        theirs = io.BytesIO()
        sklearn_datasets.dump_svmlight_file(X, Y, theirs, multilabel=True)
        ours.seek(0)
        theirs.seek(0)
        _, labels = load_svmlight(ours, multilabel=True, zero_based=True)
        _, labels_ref = sklearn_datasets.load_svmlight_file(theirs, multilabel=True, zero_based=True)
        assert labels == labels_ref == [(0.0, 2.0), (), (1.0,)]


def test_sklearn_dump_then_load(tmp_path, data_file):
    X, y = sklearn_datasets.load_svmlight_file(data_file("heart_scale"))
    path = str(tmp_path / "h.svm")
    sklearn_datasets.dump_svmlight_file(X, y, path, zero_based=False, comment="from scikit-learn")
    compare_file(path)
    compare_file(path, zero_based=False)


def test_dump_does_not_sort_callers_matrix(tmp_path):
    X = sp.csr_matrix((np.array([1.0, 2.0]), np.array([2, 0]), np.array([0, 2])), shape=(1, 3))
    X.has_sorted_indices = False
    dump_svmlight(X, [1], str(tmp_path / "u.svm"))
    np.testing.assert_array_equal(X.indices, [2, 0])
    assert open(tmp_path / "u.svm", "rb").read() == b"1 0:2 2:1\n"


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        ({"y": np.ones(3)}, ValueError, "y: expected shape (2,), got (3,)"),
        ({"query_id": [1]}, ValueError, "query_id: expected shape (2,), got (1,)"),
        ({"query_id": [0.5, 1.5]}, TypeError, "query_id: expected integers"),
        ({"zero_based": "yes"}, TypeError, "zero_based: expected True or False"),
        ({"comment": "a\0b"}, ValueError, "comment: contains a NUL byte"),
    ],
)
def test_dump_rejects_bad_arguments(tmp_path, kwargs, error, fragment):
    path = tmp_path / "never.svm"
    args = {"y": np.ones(2), **kwargs}
    y = args.pop("y")
    with pytest.raises(error) as info:
        dump_svmlight(np.eye(2), y, str(path), **args)
    assert fragment in str(info.value)
    assert not path.exists()


# -- errors -------------------------------------------------------------------

MALFORMED = [
    ("bad index", b"1 1:2 x:3\n", 1, "invalid feature index 'x'"),
    ("negative index", b"# c\n1 1:2 -3:3\n", 2, "invalid feature index '-3'"),
    ("float index", b"1 1.5:2\n", 1, "invalid feature index '1.5'"),
    ("bad value", b"1 1:2\n\n-1 2:abc\n", 3, "invalid feature value 'abc'"),
    ("empty value", b"1 1:\n", 1, "invalid feature value ''"),
    ("hex value", b"1 1:0x10\n", 1, "invalid feature value '0x10'"),
    ("nan payload", b"1 1:nan(1)\n", 1, "invalid feature value 'nan(1)'"),
    ("double sign", b"1 1:+-1\n", 1, "invalid feature value '+-1'"),
    ("bad underscore", b"1 1:1__0\n", 1, "invalid feature value '1__0'"),
    ("missing colon", b"1 1:2 3\n", 1, "invalid feature '3': expected index:value"),
    ("two colons", b"1 1:23:4\n", 1, "invalid feature value '23:4'"),
    ("bad label", b"1 1:2\nfoo 1:3\n", 2, "invalid label 'foo'"),
    ("missing label", b"1 1:2\n2:1 3:4\n", 2, "invalid label '2:1'"),
    ("unsorted", b"1 1:2 3:1\n-1 3:1 2:1\n", 2, "feature index 2 follows 3"),
    ("duplicate", b"1 1:2\n1 4:2 4:3\n", 2, "feature index 4 follows 4"),
    ("bad qid", b"1 qid:1 1:1\n1 qid:x 1:1\n", 2, "invalid query id 'qid:x'"),
    ("qid not first", b"1 1:1 qid:3\n", 1, "invalid feature index 'qid'"),
    ("index too large", b"1 1:1\n1 99999999999999999999:1\n", 2, "invalid feature index '99999999999999999999'"),
    ("long token", b"1 1:" + b"9" * 30 + b"x" * 30 + b"\n", 1, "invalid feature value '" + "9" * 30 + "x" * 10 + "'..."),
]


@pytest.mark.parametrize("case,content,line,fragment", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_names_line(tmp_path, case, content, line, fragment):
    path = write(tmp_path, "bad.txt", content)
    with pytest.raises(ValueError) as info:
        load_svmlight(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


def test_malformed_line_deep_in_file(tmp_path, threads):
    # The error sits in a later block and a later thread's piece: the line number still counts
    # every line before it.
    good = b"1 1:1 2:2 3:3 4:4 5:5\n" * 400_000
    path = write(tmp_path, "deep.txt", good + b"1 1:1 3:2 2:3\n" + good)
    for n in (1, 2):
        fastopt.set_num_threads(n)
        with pytest.raises(ValueError, match=r"deep\.txt:400001: feature index 2 follows 3"):
            load_svmlight(path)


def test_malformed_file_object(tmp_path):
    with pytest.raises(ValueError, match=r"^<file object>:2: invalid label 'x'"):
        load_svmlight(io.BytesIO(b"1 1:1\nx 1:1\n"))


def test_malformed_compressed_file_names_line(tmp_path):
    path = write(tmp_path, "bad.bz2", bz2.compress(b"1 1:1\n1 2:1\n1 3:oops\n"))
    with pytest.raises(ValueError, match=r"bad\.bz2:3: invalid feature value 'oops'"):
        load_svmlight(path)


def test_index_beyond_n_features(tmp_path):
    path = write(tmp_path, "wide.txt", b"1 1:1\n# comment\n-1 2:1 7:1\n")
    for zero_based in ("auto", False, True):
        with pytest.raises(ValueError, match=r"wide\.txt:3: feature index 7 is out of range for n_features=5"):
            load_svmlight(path, n_features=5, zero_based=zero_based)
    # A zero-based file whose largest index equals n_features is caught after the parse.
    zero = write(tmp_path, "zero.txt", b"1 0:1\n-1 5:1\n")
    with pytest.raises(ValueError, match=r"zero\.txt:2: feature index 5 is out of range for n_features=5"):
        load_svmlight(zero, n_features=5)
    load_svmlight(zero, n_features=6)


def test_index_zero_when_one_based(tmp_path):
    path = write(tmp_path, "zero.txt", b"1 1:1\n1 0:1\n")
    with pytest.raises(ValueError, match=r"zero\.txt:2: feature index 0 is invalid with zero_based=False"):
        load_svmlight(path, zero_based=False)


def test_corrupt_compressed_file(tmp_path):
    for name, packed in [("broken.gz", gzip.compress(b"1 1:1\n" * 100)), ("broken.xz", lzma.compress(b"1 1:1\n" * 100))]:
        path = write(tmp_path, name, packed[:30])
        with pytest.raises(ValueError, match=f"{name}: failed to decompress"):
            load_svmlight(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_svmlight(str(tmp_path / "absent.txt"))


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        ({"n_features": 0}, ValueError, "n_features: expected None or an integer >= 1, got 0"),
        ({"n_features": 2.5}, ValueError, "n_features: expected None or an integer >= 1, got 2.5"),
        ({"zero_based": "yes"}, ValueError, "zero_based: expected True, False or 'auto', got 'yes'"),
        ({"zero_based": 1}, ValueError, "zero_based: expected True, False or 'auto', got 1"),
        ({"dtype": np.int32}, TypeError, "dtype: expected float32 or float64, got int32"),
        ({"dtype": "nonsense"}, TypeError, "dtype: expected float32 or float64, got 'nonsense'"),
        ({"multilabel": "no"}, TypeError, "multilabel: expected True or False, got 'no'"),
        ({"query_id": 1}, TypeError, "query_id: expected True or False, got 1"),
        ({"offset": -1}, ValueError, "offset: expected an integer >= 0, got -1"),
        ({"offset": 10}, ValueError, "n_features: expected an integer >= 1 when offset or length"),
        ({"length": 1.5, "n_features": 3}, ValueError, "length: expected an integer, got 1.5"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, error, fragment):
    path = write(tmp_path, "ok.txt", b"1 1:1\n")
    with pytest.raises(error) as info:
        load_svmlight(path, **kwargs)
    assert fragment in str(info.value)


def test_invalid_source():
    with pytest.raises(TypeError, match="f: expected a path, a file descriptor or a binary file object"):
        load_svmlight(3.5)
    with pytest.raises(TypeError, match="binary mode"):
        load_svmlight(io.StringIO("1 1:1\n"))


def test_files_requires_sequence(tmp_path):
    path = write(tmp_path, "ok.txt", b"1 1:1\n")
    with pytest.raises(TypeError, match="use load_svmlight for one file"):
        load_svmlight_files(path)


def test_index_beyond_int32(tmp_path):
    # scikit-learn stores indices in a C int and cannot read this file.
    path = write(tmp_path, "wide.txt", b"1 1:1\n2 2:2 3000000000:3\n")
    X, y = load_svmlight(path)
    assert X.shape == (2, 3_000_000_000)
    assert X.indices.dtype == np.int64
    assert X.indptr.dtype == np.int64
    np.testing.assert_array_equal(X.indices, [0, 1, 2_999_999_999])
    np.testing.assert_array_equal(X.indptr, [0, 1, 3])
    np.testing.assert_array_equal(X.data, [1, 2, 3])


# -- blocks, threads and the background reader ---------------------------------


@pytest.fixture
def small_blocks(monkeypatch):
    """Parse in blocks of 32 KiB (one thread) or 160 KiB per thread, whatever the file size.

    The parser splits a block into pieces of at least 128 KiB, up to four per thread, so with
    160 KiB per thread every thread gets a piece.
    """
    from fastopt.datasets import _source

    monkeypatch.setattr(_source, "SERIAL_BELOW", 0)
    monkeypatch.setattr(_source, "SERIAL_BLOCK", 32 << 10)
    monkeypatch.setattr(_source, "PER_THREAD_BLOCK", 160 << 10)
    return _source


def mixed_rows(n_rows, seed=0, qid=False):
    """SVMlight text whose lines vary in length, with comments and blank lines in between."""
    rng = np.random.default_rng(seed)
    lines = [b"# generated rows\n"]
    for r in range(n_rows):
        k = int(rng.integers(0, 30))
        idx = np.sort(rng.choice(5000, size=k, replace=False)) + 1
        features = b" ".join(b"%d:%r" % (i, float(v)) for i, v in zip(idx, rng.standard_normal(k).round(5)))
        head = b"%d" % (r % 3 - 1) + (b" qid:%d" % (r // 7) if qid else b"")
        line = head + b" " + features if k else head
        if r % 11 == 0:
            line += b" # row %d" % r
        lines.append(line + b"\n")
        if r % 97 == 0:
            lines.append(b"\n")
    return b"".join(lines)


def assert_same_arrays(a, b):
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a[0], name), getattr(b[0], name), err_msg=name)
        assert getattr(a[0], name).dtype == getattr(b[0], name).dtype, name
    for x, y in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(x, y)


def test_many_blocks_any_thread_count(tmp_path, small_blocks):
    path = write(tmp_path, "mixed.svm", mixed_rows(20_000, qid=True))
    assert os.path.getsize(path) > 3 * 3 * (160 << 10)  # several blocks for every thread count
    results = []
    for n in (1, 2, 3):
        fastopt.set_num_threads(n)
        results.append(compare_file(path, query_id=True))
    for other in results[1:]:
        assert_same_arrays(results[0], other)


def test_many_blocks_float32_and_multilabel(tmp_path, small_blocks):
    text = mixed_rows(8000, seed=1).replace(b"\n-1 ", b"\n1,3 ").replace(b"\n0 ", b"\n2,5,7 ")
    path = write(tmp_path, "multi.svm", text)
    for n in (1, 2):
        fastopt.set_num_threads(n)
        ours = load_svmlight(path, multilabel=True, dtype=np.float32)
        ref = sklearn_datasets.load_svmlight_file(path, multilabel=True, dtype=np.float32)
        assert_same_as_sklearn(ours[0], np.zeros(1), ref[0], np.zeros(1))
        assert ours[1] == ref[1]


def test_small_file_uses_one_thread(tmp_path):
    from fastopt.datasets import _source

    fastopt.set_num_threads(4)
    plain = _source.Source(write(tmp_path, "small.svm", b"1 1:1\n"))
    packed = _source.Source(write(tmp_path, "small.bz2", bz2.compress(b"1 1:1\n")))
    with plain, packed:
        assert plain.plan() == (1, _source.SERIAL_BLOCK)
        # The reader thread takes one of the threads from the parser.
        assert packed.plan() == (3, 3 * _source.PER_THREAD_BLOCK)


def reader_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "fastopt-svmlight-reader"]


@pytest.mark.parametrize("threads", [1, 3])
def test_compressed_blocks_in_background(tmp_path, small_blocks, threads):
    text = mixed_rows(10_000, seed=2)
    plain = write(tmp_path, "plain.svm", text)
    fastopt.set_num_threads(threads)
    expected = load_svmlight(plain)
    for name, pack in [("c.bz2", bz2.compress), ("c.gz", gzip.compress), ("c.xz", lzma.compress)]:
        path = write(tmp_path, name, pack(text))
        assert_same_arrays(load_svmlight(path), expected)
        assert reader_threads() == []


def test_compressed_error_stops_reader(tmp_path, small_blocks):
    good = mixed_rows(20_000, seed=3)
    n_lines = good.count(b"\n")
    path = write(tmp_path, "bad.gz", gzip.compress(good + b"1 5:1 4:1\n" + good))
    with pytest.raises(ValueError, match=rf"bad\.gz:{n_lines + 1}: feature index 4 follows 5"):
        load_svmlight(path)
    assert reader_threads() == []


def test_compressed_range_stops_reader(tmp_path, small_blocks):
    text = mixed_rows(20_000, seed=4)
    path = write(tmp_path, "part.bz2", bz2.compress(text))
    plain = write(tmp_path, "part.svm", text)
    # Stops after the first lines, while the reader thread still has blocks to decompress.
    ours = load_svmlight(path, n_features=5001, offset=1000, length=5000)
    assert_same_arrays(ours, load_svmlight(plain, n_features=5001, offset=1000, length=5000))
    assert ours[0].shape[0] > 0
    assert reader_threads() == []


def test_compressed_stream_chunks(tmp_path, small_blocks):
    from fastopt.datasets import iter_svmlight

    text = mixed_rows(6000, seed=5)
    path = write(tmp_path, "chunks.xz", lzma.compress(text))
    X, y = load_svmlight(write(tmp_path, "chunks.svm", text), n_features=5001, zero_based=False)
    chunks = list(iter_svmlight(path, chunk_rows=1000, n_features=5001))
    assert reader_threads() == []
    assert (sp.vstack([c[0] for c in chunks]) != X).nnz == 0
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), y)
    # A stream left early stops its reader too.
    stream = iter_svmlight(path, chunk_rows=10, n_features=5001)
    next(stream)
    stream.close()
    assert reader_threads() == []


def test_index_beyond_int32_in_later_block(tmp_path, small_blocks):
    # The int32 indices of earlier blocks and pieces widen to int64 at the first larger index,
    # and a malformed line after it is still reported with its line number.
    good = b"1 1:1 2:2 3:3\n" * 40_000
    path = write(tmp_path, "late.txt", good + b"2 3000000000:3\n" + good)
    bad = write(tmp_path, "late_bad.txt", good + b"2 3000000000:3\n" + good + b"1 x\n" + good)
    for n in (1, 2):
        fastopt.set_num_threads(n)
        X, y = load_svmlight(path)
        assert X.indices.dtype == np.int64
        assert X.shape == (80_001, 3_000_000_000)
        assert X.nnz == 240_001
        np.testing.assert_array_equal(X.indices[:3], [0, 1, 2])
        assert X.indices[120_000] == 2_999_999_999
        np.testing.assert_array_equal(X.indices[-3:], [0, 1, 2])
        with pytest.raises(ValueError, match=r"late_bad\.txt:80002: invalid feature 'x'"):
            load_svmlight(bad)


def test_peak_memory_below_twice_arrays(tmp_path):
    # Short lines of binary features, like a9a: the arrays are about 2.5 bytes per byte of text,
    # so a block of text or a staging copy would show here.
    status = "/proc/self/status"
    if not os.path.exists(status):
        pytest.skip("needs /proc/self/status (Linux)")
    rng = np.random.default_rng(6)
    rows = [b"%d " % (2 * (r % 2) - 1) + b" ".join(b"%d:1" % i for i in np.sort(rng.choice(123, 14, replace=False)) + 1)
            for r in range(60_000)]
    path = write(tmp_path, "binary.svm", b"\n".join(rows) + b"\n")
    probe = (
        "import sys, fastopt.datasets\n"
        "def field(name):\n"
        "    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith(name))\n"
        "base = field('VmRSS:')\n"
        "X, y = fastopt.datasets.load_svmlight(sys.argv[1])\n"
        "print(field('VmHWM:') - base, X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + y.nbytes)\n"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", probe, path], check=True, capture_output=True, text=True)
    peak, arrays = map(int, out.stdout.split())
    assert peak < 2 * arrays, (peak, arrays)
