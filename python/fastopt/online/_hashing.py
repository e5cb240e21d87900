"""Feature hashing of tokens and dicts into a fixed number of columns.

A token such as ``"site=abc"`` goes to column ``|h| mod 2**n_bits`` of a sparse
row, where ``h`` is its MurmurHash3 (x86, 32-bit) read as a signed 32-bit
integer. With ``alternate_sign`` the value is negated when ``h < 0``, which
makes colliding tokens cancel on average (Weinberger et al., "Feature hashing
for large scale multitask learning", ICML 2009). This is the mapping of
scikit-learn's ``FeatureHasher`` (version 1.9), so for seed 0 the two agree.
Tokens are hashed as UTF-8 bytes, so the result is the same on every run and
platform.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from fastopt import _core

__all__ = ["FeatureHasher", "murmurhash3_32"]


def murmurhash3_32(key, seed=0):
    """Return the MurmurHash3 (x86, 32-bit) of ``key`` as an unsigned integer.

    Parameters
    ----------
    key : str or bytes-like
        A str is hashed as its UTF-8 bytes.
    seed : int, default 0
        Seed in ``[0, 2**32 - 1]``.

    Returns
    -------
    int
        The hash, in ``[0, 2**32 - 1]``.

    Examples
    --------
    A str and its UTF-8 bytes hash alike:

    >>> from fastopt.online import murmurhash3_32
    >>> murmurhash3_32("fastopt"), murmurhash3_32(b"fastopt")
    (3535427820, 3535427820)
    """
    return _core.murmurhash3_32(key, _check_seed(seed))


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed: expected an integer in [0, 2**32 - 1], got {seed!r}")
    return int(seed)


def _check_n_bits(n_bits):
    if isinstance(n_bits, bool) or not isinstance(n_bits, numbers.Integral) or not 1 <= n_bits <= 31:
        raise ValueError(f"n_bits: expected an integer in [1, 31], got {n_bits!r}")
    return int(n_bits)


def csr_from_hashed(indptr, indices, data, n_bits):
    """Build the CSR matrix of hashed rows, with int32 index arrays when they fit."""
    if data.size < 2**31:
        indptr = indptr.astype(np.int32)
    shape = (indptr.size - 1, 2**n_bits)
    # The arrays are already canonical (sorted, no duplicates), so no check or copy is needed.
    X = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    X.has_sorted_indices = True
    return X


class FeatureHasher:
    """Map rows of tokens or dicts to sparse rows of ``2**n_bits`` columns.

    Parameters
    ----------
    n_bits : int, default 20
        The output has ``2**n_bits`` columns, ``1 <= n_bits <= 31``.
    seed : int, default 0
        Seed of the hash in ``[0, 2**32 - 1]``. Different seeds give independent maps.
    alternate_sign : bool, default True
        Negate the value of a token whose signed hash is negative.

    Notes
    -----
    Each row of :meth:`transform` is one of:

    - an iterable of str tokens, each with value 1, or of ``(token, value)`` pairs;
    - a dict: a str value ``v`` under key ``k`` is the token ``"k=v"`` with value 1,
      a number is the token ``"k"`` with that value, and None adds nothing.

    Tokens that land in the same column are summed, so a column may hold an
    explicit zero when signed values cancel.

    References
    ----------
    Weinberger, K., Dasgupta, A., Langford, J., Smola, A. and Attenberg, J. "Feature
    hashing for large scale multitask learning", ICML 2009.

    Examples
    --------
    >>> from fastopt.online import FeatureHasher
    >>> hasher = FeatureHasher(n_bits=10)
    >>> X = hasher.transform([{"city": "Paris", "clicks": 3.0}, ["ad=42", ("hour", 0.5)]])
    >>> X.shape, X.nnz
    ((2, 1024), 4)
    """

    def __init__(self, n_bits=20, seed=0, alternate_sign=True):
        self.n_bits = n_bits
        self.seed = seed
        self.alternate_sign = alternate_sign

    @property
    def n_features(self):
        """Number of output columns, ``2**n_bits``."""
        return 2 ** _check_n_bits(self.n_bits)

    def transform(self, rows):
        """Hash ``rows`` into a CSR matrix of shape ``(n_rows, 2**n_bits)``, float64.

        Parameters
        ----------
        rows : iterable
            Rows of tokens, ``(token, value)`` pairs or dicts, as described above.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_rows, 2**n_bits)
            The hashed rows, float64.

        Raises
        ------
        TypeError
            When a row is not a dict or an iterable of tokens, or a value has another type.
        ValueError
            When a value is not finite; the message names the row and the key.
        """
        n_bits = _check_n_bits(self.n_bits)
        seed = _check_seed(self.seed)
        indptr, indices, data = _core.hash_rows(rows, n_bits, seed, bool(self.alternate_sign))
        return csr_from_hashed(indptr, indices, data, n_bits)

    def get_params(self, deep=True):
        """Return the constructor arguments as a dict.

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; there are no nested estimators.

        Returns
        -------
        dict
            ``n_bits``, ``seed`` and ``alternate_sign``.
        """
        return {"n_bits": self.n_bits, "seed": self.seed, "alternate_sign": self.alternate_sign}

    def set_params(self, **params):
        """Set constructor arguments by name.

        Parameters
        ----------
        **params
            New values of ``n_bits``, ``seed`` or ``alternate_sign``.

        Returns
        -------
        self
            The hasher.
        """
        for name, value in params.items():
            if name not in ("n_bits", "seed", "alternate_sign"):
                raise ValueError(f"invalid parameter {name!r} for FeatureHasher")
            setattr(self, name, value)
        return self
