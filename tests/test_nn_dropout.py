"""Dropout and the Philox stream against independent references and torch's conventions."""

import math

import numpy as np
import pytest

import fastopt
from fastopt import _core
from fastopt.nn import dropout, dropout_backward, packed_mask_size
from nn_reference import (
    dropout_forward,
    dropout_keep,
    dropout_values,
    philox4x32_10,
    stream_blocks,
    stream_words,
)

# Known-answer vectors of Philox4x32-10 published with the Random123 library (kat_vectors):
# counter (4 words), key (2 words), expected output (4 words).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

# Sizes around the 256- and 512-element tiles (AVX2 and AVX-512), the 8-element
# mask bytes and the 32,768-element threshold of the threaded path.
SIZES = [1, 7, 63, 65, 129, 255, 257, 511, 513, 1000, 32768 + 77, 278011]

ISAS = fastopt.available_isas()


def blocks_with_isa(isa, seed, offset, first, count):
    """Return _core.philox_blocks computed by the kernels of instruction set ``isa``."""
    saved = fastopt.active_isa()
    try:
        _core.select_isa(isa)
        return _core.philox_blocks(seed, offset, first, count)
    finally:
        _core.select_isa(saved)


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_reference_known_answers(counter, key, expected):
    assert philox4x32_10(counter, key) == expected


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_kernel_known_answers(counter, key, expected, isa):
    seed = key[0] | key[1] << 32
    offset = counter[2] | counter[3] << 32
    block = counter[0] | counter[1] << 32
    words = blocks_with_isa(isa, seed, offset, block, 1)
    assert tuple(int(w) for w in words[0]) == expected


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("first,count", [(0, 1), (5, 33), (2**32 - 37, 101), (2**64 - 9, 40)])
def test_philox_blocks_equal_on_every_instruction_set(isa, first, count):
    # The runs cross the carry of the block counter into its high word and
    # the wrap-around at 2**64; counts are not multiples of the SIMD batches.
    seed, offset = 0xFEDCBA9876543210, 2**33 + 5
    words = blocks_with_isa(isa, seed, offset, first, count)
    scalar = blocks_with_isa("baseline", seed, offset, first, count)
    blocks = np.arange(count, dtype=np.uint64) + np.uint64(first)  # wraps like uint64 in C++
    np.testing.assert_array_equal(words, scalar)
    np.testing.assert_array_equal(words, stream_blocks(seed, offset, blocks))


def test_philox_stream_matches_reference():
    seed, offset = 0x0123456789ABCDEF, 2**40 + 3
    words = _core.philox_blocks(seed, offset, 0, 300).reshape(-1)
    np.testing.assert_array_equal(words, stream_words(seed, offset, 1200))
    scalar = [philox4x32_10((b, 0, offset & 0xFFFFFFFF, offset >> 32), (seed & 0xFFFFFFFF, seed >> 32))
              for b in range(3)]
    np.testing.assert_array_equal(words[:12], np.array(scalar, dtype=np.uint32).reshape(-1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_dropout_matches_reference(dtype, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    out = dropout(x, 0.3, seed=11, offset=5)
    np.testing.assert_array_equal(out, dropout_forward(x, 0.3, 11, 5))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_kept_fraction_within_binomial_interval(p):
    n = 1_000_000
    x = np.ones(n, dtype=np.float32)
    kept = np.count_nonzero(dropout(x, p, seed=3))
    mean = n * (1 - p)
    sd = math.sqrt(n * p * (1 - p))
    # Five standard deviations: a false failure has probability below 1e-6.
    assert abs(kept - mean) < 5 * sd


def test_mean_preserved_in_expectation():
    p = 0.4
    x = np.random.default_rng(0).uniform(1, 2, 200_000)
    means = [dropout(x, p, seed=s).mean() for s in range(20)]
    # Inverted dropout scales survivors by 1 / (1 - p), so E[y_i] = x_i and
    # Var[y_i] = x_i^2 p / (1 - p); six standard errors of the pooled mean.
    se = math.sqrt(np.mean(x**2) * p / (1 - p) / (x.size * len(means)))
    assert abs(np.mean(means) - x.mean()) < 6 * se


def test_survivors_scaled_like_torch():
    torch = pytest.importorskip("torch")
    x = np.full(10_000, 3.0, dtype=np.float32)
    ours = dropout(x, 0.25, seed=1)
    theirs = torch.nn.functional.dropout(torch.from_numpy(x), 0.25, training=True).numpy()
    # torch's inverted dropout: survivors are x / (1 - p), the rest exactly 0.
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, np.float32(4.0)}


def test_zero_probability_is_identity():
    x = np.random.default_rng(1).standard_normal(5000)
    np.testing.assert_array_equal(dropout(x, 0.0, seed=9), x)


def test_eval_mode_is_identity():
    x = np.random.default_rng(2).standard_normal(100)
    assert dropout(x, 0.5, seed=1, training=False) is x
    out = np.empty_like(x)
    assert dropout(x, 0.5, seed=1, training=False, out=out) is out
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("out, fragment", [
    (np.empty((3, 100)), r"out: expected dtype float64 and shape \(100,\)"),
    (np.empty(100, dtype=np.int64), "out: expected dtype float64"),
    (np.empty(100, dtype=np.float32), "out: expected dtype float64"),
])
def test_eval_mode_checks_out(out, fragment):
    x = np.random.default_rng(2).standard_normal(100)
    before = out.copy()
    with pytest.raises(ValueError, match=fragment):
        dropout(x, 0.5, seed=1, training=False, out=out)
    np.testing.assert_array_equal(out, before)


def test_eval_mode_rejects_bad_buffers():
    x = np.random.default_rng(2).standard_normal(100)
    out = np.zeros(100)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out: expected a writeable array"):
        dropout(x, 0.5, seed=1, training=False, out=out)
    mask = np.zeros(packed_mask_size(100), dtype=np.uint8)
    with pytest.raises(ValueError, match="mask_out: expected None with training=False"):
        dropout(x, 0.5, seed=1, training=False, mask_out=mask)
    assert not mask.any()


def test_in_place_equals_out_of_place():
    x = np.random.default_rng(3).standard_normal(70_000).astype(np.float32)
    expected = dropout(x, 0.5, seed=4, offset=2)
    y = x.copy()
    assert dropout(y, 0.5, seed=4, offset=2, out=y) is y
    np.testing.assert_array_equal(y, expected)


def test_mask_depends_on_seed_and_offset():
    x = np.ones(4096)
    a = dropout(x, 0.5, seed=1, offset=0)
    assert not np.array_equal(a, dropout(x, 0.5, seed=2, offset=0))
    assert not np.array_equal(a, dropout(x, 0.5, seed=1, offset=1))
    np.testing.assert_array_equal(a, dropout(x, 0.5, seed=1, offset=0))


def test_mask_does_not_depend_on_shape():
    x = np.random.default_rng(5).standard_normal((37, 53))
    np.testing.assert_array_equal(dropout(x, 0.5, seed=7).reshape(-1), dropout(x.reshape(-1), 0.5, seed=7))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_result_on_any_thread_count(threads):
    x = np.random.default_rng(6).standard_normal(300_001).astype(np.float32)
    saved = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        expected = dropout(x, 0.3, seed=8)
        fastopt.set_num_threads(threads)
        np.testing.assert_array_equal(dropout(x, 0.3, seed=8), expected)
    finally:
        fastopt.set_num_threads(saved)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_packed_mask_backward_on_any_thread_count(threads):
    n = 300_001
    x = np.random.default_rng(6).standard_normal(n).astype(np.float32)
    grad = np.random.default_rng(7).standard_normal(n).astype(np.float32)
    saved = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        expected = dropout_backward(grad, 0.3, seed=8, offset=2)
        fastopt.set_num_threads(threads)
        mask = np.empty(packed_mask_size(n), dtype=np.uint8)
        dropout(x, 0.3, seed=8, offset=2, out=x, mask_out=mask)
        fastopt.set_num_threads(4 - threads)
        by_mask = dropout_backward(grad, 0.3, mask=mask, out=grad)
    finally:
        fastopt.set_num_threads(saved)
    np.testing.assert_array_equal(by_mask, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", ISAS)
def test_same_result_on_every_instruction_set(isa, dtype):
    n = 10_007
    x = np.random.default_rng(7).standard_normal(n).astype(dtype)
    expected = dropout_forward(x, 0.6, 12, 0)
    saved = fastopt.active_isa()
    try:
        _core.select_isa(isa)
        mask = np.empty(packed_mask_size(n), dtype=np.uint8)
        np.testing.assert_array_equal(dropout(x, 0.6, seed=12, mask_out=mask), expected)
        bits = np.unpackbits(mask, bitorder="little")[:n].astype(bool)
        np.testing.assert_array_equal(bits, dropout_keep(12, 0, n, 0.6))
        np.testing.assert_array_equal(dropout_backward(x, 0.6, mask=mask), expected)
    finally:
        _core.select_isa(saved)


@pytest.mark.parametrize("isa", ISAS)
def test_high_byte_tie_reads_low_bits(isa):
    # Thresholds whose high byte equals some elements' high bytes, so the keep
    # test must read those elements' low 24 bits from the tie blocks.
    n = 70_001
    values = dropout_values(9, 4, n)
    x = np.ones(n, dtype=np.float32)
    saved = fastopt.active_isa()
    try:
        _core.select_isa(isa)
        for j in (0, 77, 40_000, n - 1):
            v = int(values[j])
            for threshold in (v, v + 1, (v & ~0xFFFFFF) | 1):
                ties = np.count_nonzero((values >> 24) == (threshold >> 24))
                assert ties >= 1
                mask = np.empty(packed_mask_size(n), dtype=np.uint8)
                dropout(x, threshold / 2**32, seed=9, offset=4, mask_out=mask)
                bits = np.unpackbits(mask, bitorder="little")[:n].astype(bool)
                np.testing.assert_array_equal(bits, values >= threshold)
    finally:
        _core.select_isa(saved)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", ISAS)
def test_in_place_ties_keep_their_input(isa, dtype, threads):
    # Tied elements are decided after their tile has been written, so in place
    # the kernel must keep their inputs. Infinities and NaNs at the ties tell a
    # kept inf * scale from a dropped inf * 0 and from a lost input.
    n, p, seed, offset = 200_003, 0.3, 13, 6
    values = dropout_values(seed, offset, n)
    threshold = int(np.floor(p * 2**32))
    tied = np.flatnonzero((values >> 24) == (threshold >> 24))
    assert tied.size > 500
    x = np.random.default_rng(14).standard_normal(n).astype(dtype)
    x[tied[0::3]] = np.inf
    x[tied[1::3]] = -np.inf
    x[tied[2::7]] = np.nan
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN here as in the kernel
        expected = dropout_forward(x, p, seed, offset)
    saved_isa, saved_threads = fastopt.active_isa(), fastopt.get_num_threads()
    try:
        _core.select_isa(isa)
        fastopt.set_num_threads(threads)
        mask = np.full(packed_mask_size(n), 0xAA, dtype=np.uint8)
        y = x.copy()
        assert dropout(y, p, seed=seed, offset=offset, out=y, mask_out=mask) is y
    finally:
        _core.select_isa(saved_isa)
        fastopt.set_num_threads(saved_threads)
    np.testing.assert_array_equal(y, expected)
    bits = np.unpackbits(mask, bitorder="little")
    np.testing.assert_array_equal(bits[:n].astype(bool), values >= threshold)
    assert not bits[n:].any()


@pytest.mark.parametrize("n", SIZES)
def test_packed_mask_matches_reference(n):
    x = np.ones(n, dtype=np.float32)
    mask = np.full(packed_mask_size(n), 0xAA, dtype=np.uint8)
    dropout(x, 0.5, seed=21, offset=4, mask_out=mask)
    bits = np.unpackbits(mask, bitorder="little")
    np.testing.assert_array_equal(bits[:n].astype(bool), dropout_keep(21, 4, n, 0.5))
    assert not bits[n:].any()


@pytest.mark.parametrize("n", SIZES)
def test_backward_equals_forward_mask(n):
    rng = np.random.default_rng(n + 1)
    x = rng.standard_normal(n)
    grad = rng.standard_normal(n)
    mask = np.empty(packed_mask_size(n), dtype=np.uint8)
    y = dropout(x, 0.35, seed=5, offset=9, mask_out=mask)
    by_seed = dropout_backward(grad, 0.35, seed=5, offset=9)
    by_mask = dropout_backward(grad, 0.35, mask=mask)
    # The derivative of y_i = x_i m_i is m_i, which the forward output shows where x_i != 0.
    np.testing.assert_array_equal(by_seed, by_mask)
    np.testing.assert_array_equal(by_seed, grad * np.where(y != 0, 1 / 0.65, 0.0))


def test_dropped_nan_propagates_like_torch():
    torch = pytest.importorskip("torch")
    x = np.full(64, np.nan)
    # x * 0 is NaN, and torch's x * mask / (1 - p) keeps the NaN the same way.
    assert np.isnan(dropout(x, 0.5, seed=0)).all()
    assert torch.isnan(torch.nn.functional.dropout(torch.from_numpy(x), 0.5)).all()


def test_bad_probability_raises():
    x = np.ones(4)
    for p in (1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"p: expected a drop probability in \[0, 1\), got"):
            dropout(x, p, seed=0)


def test_bad_dtype_raises_before_writing():
    x = np.ones(4, dtype=np.int32)
    with pytest.raises(ValueError, match="x: unsupported dtype int32"):
        dropout(x, 0.5, seed=0)
    with pytest.raises(ValueError, match="grad: unsupported dtype float16"):
        dropout_backward(np.ones(4, dtype=np.float16), 0.5, seed=0)


def test_bad_seed_and_offset_raise():
    x = np.ones(4)
    with pytest.raises(ValueError, match=r"seed: expected an integer in \[0, 2\*\*64\), got -1"):
        dropout(x, 0.5, seed=-1)
    with pytest.raises(ValueError, match="offset: expected an integer"):
        dropout(x, 0.5, seed=0, offset=2**64)
    with pytest.raises(ValueError, match="seed: expected the forward call's seed"):
        dropout_backward(x, 0.5)


def test_bad_mask_raises_before_writing():
    x = np.ones(20)
    out = np.full(20, 7.0)
    with pytest.raises(ValueError, match=r"mask_out: expected a uint8 array of shape \(3,\)"):
        dropout(x, 0.5, seed=0, out=out, mask_out=np.empty(2, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"mask: expected a uint8 array of shape \(3,\)"):
        dropout_backward(x, 0.5, mask=np.empty(3, dtype=np.int8), out=out)
    np.testing.assert_array_equal(out, 7.0)


def test_out_mismatch_raises():
    x = np.ones(8)
    with pytest.raises(ValueError, match="out: expected dtype float64 and shape"):
        dropout(x, 0.5, seed=0, out=np.empty(8, dtype=np.float32))


def test_overlapping_out_raises():
    buf = np.ones(16)
    with pytest.raises(ValueError, match="share memory"):
        dropout(buf[:8], 0.5, seed=0, out=buf[4:12])
