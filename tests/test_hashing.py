"""Feature hashing: MurmurHash3 values, the bucket map, determinism and the CTR reader."""

import bz2
import gzip
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt.online import FeatureHasher, murmurhash3_32, read_ctr_csv

mmh3 = pytest.importorskip("mmh3")

KEYS = ["", "a", "ab", "abc", "abcd", "abcde", "site_id=1fbe01fe", "C14=15706", "é", "日本語=値",
        "x" * 1000]


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31, 2**32 - 1])
def test_murmurhash3_matches_mmh3(seed):
    for key in KEYS:
        assert murmurhash3_32(key, seed) == mmh3.hash(key, seed, signed=False), key


def test_murmurhash3_bytes_equal_utf8_str():
    for key in KEYS:
        assert murmurhash3_32(key.encode("utf-8"), 7) == murmurhash3_32(key, 7)


def test_murmurhash3_random_bytes():
    rng = np.random.default_rng(0)
    for length in range(0, 40):
        data = rng.integers(0, 256, size=length, dtype=np.uint8).tobytes()
        assert murmurhash3_32(data, 3) == mmh3.hash(data, 3, signed=False)


def test_murmurhash3_known_value():
    # Published test vector of MurmurHash3_x86_32: "Hello, world!" with seed 1234.
    assert murmurhash3_32("Hello, world!", 1234) == 0xFAF6CDB3


def expected_row(tokens, n_bits, seed, alternate_sign):
    """Return the dense hashed row built from mmh3, the reference for the C++ path."""
    row = np.zeros(2**n_bits)
    for token, value in tokens:
        h = mmh3.hash(token, seed, signed=True)
        sign = -1.0 if (alternate_sign and h < 0) else 1.0
        row[abs(h) % 2**n_bits] += sign * value
    return row


@pytest.mark.parametrize("alternate_sign", [True, False])
def test_hasher_matches_reference(alternate_sign):
    rows = [["a", "b", "c=1"], [("x", 2.5), "y"], [], {"site": "abc", "price": 3.0, "gone": None}]
    X = FeatureHasher(n_bits=6, seed=5, alternate_sign=alternate_sign).transform(rows)
    pairs = [[("a", 1), ("b", 1), ("c=1", 1)], [("x", 2.5), ("y", 1)], [], [("site=abc", 1), ("price", 3.0)]]
    for i, tokens in enumerate(pairs):
        np.testing.assert_array_equal(X[i].toarray()[0], expected_row(tokens, 6, 5, alternate_sign))


def test_hasher_matches_sklearn_feature_hasher():
    feature_extraction = pytest.importorskip("sklearn.feature_extraction")
    rng = np.random.default_rng(1)
    rows = [[f"c{j}={rng.integers(50)}" for j in range(8)] for _ in range(200)]
    ours = FeatureHasher(n_bits=10).transform(rows)
    theirs = feature_extraction.FeatureHasher(n_features=2**10, input_type="string").transform(rows)
    np.testing.assert_array_equal(ours.toarray(), theirs.toarray())


def test_hasher_output_format():
    X = FeatureHasher(n_bits=12).transform([["a", "b"], ["c"]])
    assert sp.isspmatrix_csr(X)
    assert X.shape == (2, 4096)
    assert X.dtype == np.float64
    assert X.indices.dtype == np.int32
    assert X.has_sorted_indices


def test_hasher_sums_collisions():
    # With one bit every token lands in column 0 or 1, so repeated and colliding tokens add up.
    tokens = [f"t{i}" for i in range(20)]
    X = FeatureHasher(n_bits=1, alternate_sign=False).transform([tokens + tokens])
    assert X.nnz <= 2
    assert X.sum() == 40.0
    X = FeatureHasher(n_bits=1, alternate_sign=True).transform([tokens])
    np.testing.assert_array_equal(X.toarray()[0], expected_row([(t, 1) for t in tokens], 1, 0, True))


def test_hasher_sign_follows_hash_bit():
    tokens = [f"token{i}" for i in range(200)]
    X = FeatureHasher(n_bits=20, alternate_sign=True).transform([[t] for t in tokens])
    signs = np.array([X[i].data[0] for i in range(len(tokens))])
    expected = np.array([-1.0 if mmh3.hash(t, 0, signed=True) < 0 else 1.0 for t in tokens])
    np.testing.assert_array_equal(signs, expected)
    assert 50 < np.count_nonzero(signs < 0) < 150


def test_hasher_seed_changes_buckets():
    tokens = [[f"t{i}"] for i in range(100)]
    a = FeatureHasher(n_bits=16, seed=0).transform(tokens)
    b = FeatureHasher(n_bits=16, seed=1).transform(tokens)
    assert not np.array_equal(a.indices, b.indices)


def test_hasher_deterministic_across_processes():
    code = (
        "from fastopt.online import FeatureHasher;"
        "X = FeatureHasher(n_bits=18, seed=9).transform([['a=1', 'b=2', 'é=ü'], {'k': 'v', 'n': 2.0}]);"
        "print(list(X.indices), list(X.data))"
    )
    outputs = set()
    for hash_seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        outputs.add(result.stdout)
    assert len(outputs) == 1
    # Fixed values, so a change of byte order or hash on another platform fails here.
    X = FeatureHasher(n_bits=18, seed=9).transform([["a=1", "b=2", "é=ü"], {"k": "v", "n": 2.0}])
    reference = [expected_row([("a=1", 1), ("b=2", 1), ("é=ü", 1)], 18, 9, True),
                 expected_row([("k=v", 1), ("n", 2.0)], 18, 9, True)]
    np.testing.assert_array_equal(X.toarray(), np.vstack(reference))


@pytest.mark.parametrize(
    "rows, error, match",
    [
        (["abc"], TypeError, r"rows\[0\]: expected a dict or an iterable"),
        ([[1]], TypeError, r"rows\[0\]\[0\]: expected a str token"),
        ([{"a": float("nan")}], ValueError, r"rows\[0\]\['a'\]: expected a finite value, got nan"),
        ([{"a": [1]}], TypeError, r"rows\[0\]\['a'\]: expected a str, a number or None"),
        ([{1: "a"}], TypeError, r"expected str keys, got 1"),
        ([["a"], [("b", float("inf"))]], ValueError, r"rows\[1\]\[0\]: expected a finite value, got inf"),
    ],
)
def test_hasher_bad_rows(rows, error, match):
    with pytest.raises(error, match=match):
        FeatureHasher(n_bits=4).transform(rows)


@pytest.mark.parametrize("n_bits", [0, 32, 2.5, True])
def test_hasher_bad_n_bits(n_bits):
    with pytest.raises(ValueError, match=f"n_bits: expected an integer in \\[1, 31\\], got {n_bits!r}"):
        FeatureHasher(n_bits=n_bits).transform([["a"]])


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_hasher_bad_seed(seed):
    with pytest.raises(ValueError, match=f"seed: expected an integer in \\[0, 2\\*\\*32 - 1\\], got {seed}"):
        murmurhash3_32("a", seed)


CSV = "id,click,site,price\n1,0,a,1.5\n2,1,b,\n3,0,,2\n"


def test_ctr_csv_tokens_and_labels():
    chunks = list(read_ctr_csv(io.StringIO(CSV), "click", n_bits=8, skip_columns=["id"],
                               numeric_columns=["price"], numeric="value"))
    assert len(chunks) == 1
    X, y = chunks[0]
    np.testing.assert_array_equal(y, [0.0, 1.0, 0.0])
    expected = FeatureHasher(n_bits=8).transform([["site=a", ("price", 1.5)], ["site=b"], [("price", 2.0)]])
    np.testing.assert_array_equal(X.toarray(), expected.toarray())


def test_ctr_csv_numeric_as_token():
    X, _ = next(read_ctr_csv(io.StringIO(CSV), 1, n_bits=8, skip_columns=[0], numeric_columns=["price"]))
    expected = FeatureHasher(n_bits=8).transform([["site=a", "price=1.5"], ["site=b"], ["price=2"]])
    np.testing.assert_array_equal(X.toarray(), expected.toarray())


def test_ctr_csv_chunks_concatenate(tmp_path):
    lines = ["label,a,b"] + [f"{i % 2},{i % 7},{i % 5}" for i in range(103)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    whole_X, whole_y = next(read_ctr_csv(path, "label", n_bits=10, chunk_rows=1000))
    chunks = list(read_ctr_csv(path, "label", n_bits=10, chunk_rows=10))
    assert [c[0].shape[0] for c in chunks] == [10] * 10 + [3]
    np.testing.assert_array_equal(sp.vstack([c[0] for c in chunks]).toarray(), whole_X.toarray())
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), whole_y)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_ctr_csv_compressed(tmp_path, opener):
    path = tmp_path / "t.csv.z"
    with opener(path, "wt") as f:
        f.write(CSV)
    X, y = next(read_ctr_csv(path, "click", n_bits=8))
    reference, _ = next(read_ctr_csv(io.StringIO(CSV), "click", n_bits=8))
    np.testing.assert_array_equal(X.toarray(), reference.toarray())


def test_ctr_csv_without_header_and_tabs():
    text = "0\t5\tx\n1\t\ty\n"
    X, y = next(read_ctr_csv(io.StringIO(text), "label", n_bits=8, names=["label", "i", "c"], delimiter="\t"))
    np.testing.assert_array_equal(y, [0.0, 1.0])
    expected = FeatureHasher(n_bits=8).transform([["i=5", "c=x"], ["c=y"]])
    np.testing.assert_array_equal(X.toarray(), expected.toarray())


def test_ctr_criteo_sample(data_file):
    path = data_file("ctr/criteo_sample.txt")
    numeric = [f"I{i}" for i in range(1, 14)]
    chunks = list(read_ctr_csv(path, "label", n_bits=20, numeric_columns=numeric, chunk_rows=64))
    assert [c[0].shape[0] for c in chunks] == [64, 64, 64, 8]
    y = np.concatenate([c[1] for c in chunks])
    assert np.count_nonzero(y == 1) == 49
    assert np.count_nonzero(y == 0) == 151
    # Each row has at most 39 fields and empty ones add nothing.
    assert all(np.diff(c[0].indptr).max() <= 39 for c in chunks)


def test_ctr_avazu_sample(data_file):
    X, y = next(read_ctr_csv(data_file("ctr/avazu_sample.txt"), "click", n_bits=18, skip_columns=["id"]))
    assert X.shape == (100, 2**18)
    assert np.count_nonzero(y) == 20


@pytest.mark.parametrize(
    "text, kwargs, match",
    [
        ("label,a\n0,x\n1\n", {}, r"<stdin>:3: expected 2 fields, got 1"),
        ("label,a\n0,x\nyes,y\n", {}, r"<stdin>:3: invalid label 'yes' in column label"),
        ("label,a\n0,1\n1,abc\n", {"numeric_columns": ["a"], "numeric": "value"},
         r"<stdin>:3: invalid value 'abc' in column a"),
        ("label,a\n0,1\n", {"numeric_columns": ["b"]}, r"numeric_columns: column 'b' not found"),
        ("label,a\n", {"chunk_rows": 0}, r"chunk_rows: expected an integer >= 1, got 0"),
        ("label,a\n", {"numeric": "log"}, r"numeric: expected 'token' or 'value', got 'log'"),
        ("", {}, r"the file is empty"),
    ],
)
def test_ctr_csv_bad_input(text, kwargs, match):
    f = io.StringIO(text)
    f.name = "<stdin>"
    with pytest.raises(ValueError, match=match):
        list(read_ctr_csv(f, "label", n_bits=8, **kwargs))


def test_ctr_csv_unknown_label_column():
    with pytest.raises(ValueError, match=r"label_column: column 'click' not found"):
        list(read_ctr_csv(io.StringIO("label,a\n0,1\n"), "click"))


def test_ctr_csv_header_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("label,a\n1,x\n0,y\n", encoding="utf-8-sig")
    X, y = next(iter(read_ctr_csv(path, label_column="label", n_bits=4)))
    assert X.shape == (2, 16)
    np.testing.assert_array_equal(y, [1.0, 0.0])


@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_ctr_csv_error_names_the_line_after_multiline_fields(chunk_rows):
    # Row 2's quoted field spans lines 3-5 and a blank line follows, so the bad label of the
    # fourth record is on line 8, not on line 5 as a count of records would say.
    text = 'label,a\n0,x\n1,"one\ntwo\nthree"\n\n0,y\nbad,z\n'
    f = io.StringIO(text)
    f.name = "<stdin>"
    with pytest.raises(ValueError, match=r"<stdin>:8: invalid label 'bad' in column label"):
        list(read_ctr_csv(f, "label", n_bits=8, chunk_rows=chunk_rows))
