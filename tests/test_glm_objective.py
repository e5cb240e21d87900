"""GLMObjective against the NumPy oracle in glm_reference, on every layout, dtype and loss."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from glm_reference import hess_diag as ref_hess_diag
from glm_reference import hessp as ref_hessp
from glm_reference import value_grad as ref_value_grad

import fastopt
from fastopt.datasets import load_svmlight
from fastopt.linear_model._design import as_design
from fastopt.linear_model._objective import GLMObjective

LOSSES = ("logistic", "squared", "huber", "multinomial")
# (name, builder): every input that the kernels read without a copy.
LAYOUTS = {
    "dense_c": lambda X, index: np.ascontiguousarray(X),
    "dense_f": lambda X, index: np.asfortranarray(X),
    "csr_matrix": lambda X, index: _with_index(sp.csr_matrix(X), index),
    "csr_array": lambda X, index: _with_index(sp.csr_array(X), index),
    "csc_matrix": lambda X, index: _with_index(sp.csc_matrix(X), index),
    "csc_array": lambda X, index: _with_index(sp.csc_array(X), index),
}
N_CLASSES = 3


def _with_index(X, index):
    X.indptr = X.indptr.astype(index)
    X.indices = X.indices.astype(index)
    return X


def _sparse_dense(rng, n, p, density=0.4):
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) > density] = 0.0
    return X


def _labels(rng, loss, n):
    if loss == "logistic":
        return rng.choice([-1.0, 1.0], n)
    if loss == "multinomial":
        return rng.integers(0, N_CLASSES, n).astype(np.float64)
    return 2.0 * rng.standard_normal(n)


def _n_outputs(loss):
    return N_CLASSES if loss == "multinomial" else 1


def _n_params(loss, p, fit_intercept):
    k = _n_outputs(loss)
    return k * p + (k if fit_intercept else 0)


def _rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _case(seed, loss, fit_intercept, weighted, n=120, p=15):
    rng = np.random.default_rng(seed)
    Xd = _sparse_dense(rng, n, p)
    y = _labels(rng, loss, n)
    weights = rng.random(n) * 3.0 if weighted else None
    size = _n_params(loss, p, fit_intercept)
    w = 0.5 * rng.standard_normal(size)
    v = rng.standard_normal(size)
    return Xd, y, weights, w, v


def _ref_kwargs(loss, weights, fit_intercept):
    return dict(loss=loss, sample_weight=weights, fit_intercept=fit_intercept,
                n_outputs=_n_outputs(loss))


GRID = list(itertools.product(LOSSES, LAYOUTS, (np.float64, np.float32), (np.int32, np.int64),
                              (True, False), (False, True)))


def _grid_id(case):
    loss, layout, dtype, index, intercept, weighted = case
    return (f"{loss}-{layout}-{np.dtype(dtype).name}-{np.dtype(index).name}"
            f"-{'icpt' if intercept else 'noicpt'}-{'sw' if weighted else 'nosw'}")


@pytest.mark.parametrize("case", [c for c in GRID if c[1].startswith("c") or c[3] is np.int32],
                         ids=_grid_id)
def test_value_grad_matches_reference(case):
    loss, layout, dtype, index, fit_intercept, weighted = case
    Xd, y, weights, w, v = _case(1, loss, fit_intercept, weighted)
    # The oracle runs in float64 on the same values that X holds, so float32
    # X differs from it only in the order of the float64 sums.
    X_values = Xd.astype(dtype)
    X = LAYOUTS[layout](X_values, index)
    obj = GLMObjective(X, y, loss=loss, sample_weight=weights, fit_intercept=fit_intercept)
    kw = _ref_kwargs(loss, weights, fit_intercept)

    f_ref, g_ref = ref_value_grad(X_values.astype(np.float64), y, w, **kw)
    f, g = obj.value_grad(w)
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref)
    assert _rel(g, g_ref) <= 1e-12
    assert obj.value(w) == f

    h_ref = ref_hessp(X_values.astype(np.float64), y, w, v, **kw)
    assert _rel(obj.hessp(w, v), h_ref) <= 1e-12
    d_ref = ref_hess_diag(X_values.astype(np.float64), y, w, **kw)
    assert _rel(obj.hess_diag(w), d_ref) <= 1e-12

    z_ref = X_values.astype(np.float64) @ w[: obj.n_outputs * obj.n_features].reshape(
        obj.n_outputs, -1).T
    if fit_intercept:
        z_ref = z_ref + w[obj.n_outputs * obj.n_features:]
    assert _rel(obj.margins(w).reshape(z_ref.shape), z_ref) <= 1e-12

    if dtype is np.float32:
        # Against the float64 data the float32 rounding of X (relative 6e-8)
        # dominates; 1e-5 leaves room for its growth through the sums.
        f64, g64 = ref_value_grad(Xd, y, w, **kw)
        assert abs(f - f64) <= 1e-5 * abs(f64)
        assert _rel(g, g64) <= 1e-5


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_line_matches_direct_evaluation(loss, layout, fit_intercept):
    Xd, y, weights, w, d = _case(2, loss, fit_intercept, True)
    obj = GLMObjective(LAYOUTS[layout](Xd, np.int32), y, loss=loss, sample_weight=weights,
                       fit_intercept=fit_intercept)
    line = obj.line(w, d)
    for t in (0.0, 0.25, -1.5, 3.0):
        f_direct, g_direct = obj.value_grad(w + t * d)
        assert abs(line.value(t) - f_direct) <= 1e-12 * abs(f_direct)
        f_line, g_line = line.value_grad(t)
        assert abs(f_line - f_direct) <= 1e-12 * abs(f_direct)
        assert _rel(g_line, g_direct) <= 1e-12


def test_line_value_grad_writes_out():
    Xd, y, weights, w, d = _case(3, "logistic", True, False)
    obj = GLMObjective(Xd, y, loss="logistic")
    out = np.full(obj.n_params, np.nan)
    _, g = obj.line(w, d).value_grad(0.5, out=out)
    assert g is out
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("loss", LOSSES)
def test_layouts_agree(loss):
    rng = np.random.default_rng(4)
    Xd = _sparse_dense(rng, 700, 90, density=0.2)
    y = _labels(rng, loss, 700)
    weights = rng.random(700)
    w = 0.3 * rng.standard_normal(_n_params(loss, 90, True))
    v = rng.standard_normal(w.size)
    results = {}
    for layout in LAYOUTS:
        for index in (np.int32, np.int64):
            obj = GLMObjective(LAYOUTS[layout](Xd, index), y, loss=loss, sample_weight=weights)
            f, g = obj.value_grad(w)
            results[layout, np.dtype(index).name] = (f, g, obj.hessp(w, v), obj.hess_diag(w))
    f0, g0, h0, d0 = results["csr_matrix", "int32"]
    for key, (f, g, h, d) in results.items():
        assert abs(f - f0) <= 1e-10 * abs(f0), key
        assert _rel(g, g0) <= 1e-10, key
        assert _rel(h, h0) <= 1e-10, key
        assert _rel(d, d0) <= 1e-10, key


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("layout", ["dense_c", "csr_matrix", "csc_matrix", "dense_f"])
def test_huge_margins_stay_finite(loss, layout):
    rng = np.random.default_rng(5)
    Xd = _sparse_dense(rng, 200, 10)
    y = _labels(rng, loss, 200)
    w = np.zeros(_n_params(loss, 10, True))
    # Margins of +-1e4: exp() of them overflows float64 unless the loss is
    # written in its stable form.
    w[: w.size - _n_outputs(loss)] = 1e4 * np.sign(rng.standard_normal(w.size - _n_outputs(loss)))
    obj = GLMObjective(LAYOUTS[layout](Xd, np.int32), y, loss=loss)
    assert np.max(np.abs(obj.margins(w))) > 1e4
    f, g = obj.value_grad(w)
    assert np.isfinite(f)
    assert np.all(np.isfinite(g))
    assert np.all(np.isfinite(obj.hessp(w, np.ones_like(w))))
    assert np.all(np.isfinite(obj.hess_diag(w)))
    f_ref, g_ref = ref_value_grad(Xd, y, w, **_ref_kwargs(loss, None, True))
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref)
    assert _rel(g, g_ref) <= 1e-12


def _ulps(a, ref):
    """Distance of a from ref in units of the last place of ref (subnormal spacing below)."""
    ref = np.asarray(ref, dtype=np.float64)
    return np.abs(np.asarray(a, dtype=np.float64) - ref) / np.spacing(np.abs(ref))


def _logistic_margins():
    # Both signs over every scale, through the range where exp(-|m|) is
    # subnormal (|m| > 708) and past where it rounds to zero (|m| > 745).
    mags = np.concatenate([[0.0], np.logspace(-20, np.log10(800.0), 8000),
                           np.linspace(700.0, 750.0, 191)])
    return np.concatenate([mags, -mags])


def test_logistic_terms_are_accurate_per_sample():
    # With 2^14 samples of weight 1/n = 2^-14, r * n and h * n are exact.
    m = _logistic_margins()
    n = 1 << 14
    m = np.resize(m, n)
    obj = GLMObjective(m.reshape(-1, 1), np.ones(n), loss="logistic", fit_intercept=False)
    r = np.empty(n)
    h = np.empty(n)
    obj._problem.loss(m.copy(), residual=r, curvature=h)
    # Oracle in extended precision (64-bit mantissa on x86), from the formulas
    # dloss/dz = -sigmoid(-m) and d2loss/dz2 = sigmoid(m) sigmoid(-m).
    ml = m.astype(np.longdouble)
    sig_neg = 1 / (1 + np.exp(ml))
    d1 = (-sig_neg).astype(np.float64)
    d2 = (sig_neg * (1 / (1 + np.exp(-ml)))).astype(np.float64)
    # Where r or h is subnormal it has fewer digits; there the absolute
    # error stays below a few spacings of the smallest subnormal.
    tiny = np.finfo(np.float64).tiny
    for got, ref in ((r, d1), (h, d2)):
        normal = np.abs(got) >= tiny
        assert np.count_nonzero(normal) > n // 2
        assert np.max(_ulps(got[normal] * n, ref[normal])) <= 6
        assert np.max(np.abs(got[~normal] - ref[~normal] / n)) <= 4 * 5e-324


@pytest.mark.parametrize("m", [0.0, 1e-18, 1e-9, 0.3, 0.5, 1.0, 2.5, 36.0, 37.5, 700.0, 709.5,
                               745.0, 746.0, 1e4])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_logistic_value_is_accurate(m, sign):
    # log(1 + exp(-m)) for one sample, against extended precision.
    z = np.array([[sign * m]])
    obj = GLMObjective(z, np.ones(1), loss="logistic", fit_intercept=False)
    ml = np.longdouble(sign * m)
    ref = float(np.maximum(-ml, 0) + np.log1p(np.exp(-np.abs(ml))))
    assert _ulps(obj.value(np.ones(1)), ref) <= 4


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_wide_csr_matches_reference(loss, index):
    # Enough coefficients that CSR runs its value-and-gradient and Hessian passes in two
    # phases per row block: margins and residuals, then the scatter. The result must not change.
    rng = np.random.default_rng(11)
    n, p = 3000, 20_000 if loss != "multinomial" else 7000
    X = sp.random(n, p, density=0.002, format="csr", random_state=rng)
    y = _labels(rng, loss, n)
    weights = rng.random(n)
    w = 0.3 * rng.standard_normal(_n_params(loss, p, True))
    v = rng.standard_normal(w.size)
    kw = _ref_kwargs(loss, weights, True)
    Xs = _with_index(X.copy(), index)
    obj = GLMObjective(Xs, y, loss=loss, sample_weight=weights)
    f_ref, g_ref = ref_value_grad(X, y, w, **kw)
    f, g = obj.value_grad(w)
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref)
    assert _rel(g, g_ref) <= 1e-12
    assert _rel(obj.hessp(w, v), ref_hessp(X, y, w, v, **kw)) <= 1e-12
    # The same bits as CSC, whose kernels take other paths, to within
    # summation order, and as the row pass in one phase (dense C rows).
    obj_csc = GLMObjective(X.tocsc(), y, loss=loss, sample_weight=weights)
    f_csc, g_csc = obj_csc.value_grad(w)
    assert abs(f - f_csc) <= 1e-12 * abs(f)
    assert _rel(g, g_csc) <= 1e-12
    if fastopt.openmp_enabled():
        fastopt.set_num_threads(1)
        one = _everything(obj, w, v)
        fastopt.set_num_threads(2)
        assert _everything(obj, w, v) == one


def _everything(obj, w, v):
    """Every output of the objective at (w, v), as raw bytes for bitwise comparison."""
    f, g = obj.value_grad(w)
    line = obj.line(w, v)
    lf, lg = line.value_grad(0.7)
    parts = [np.float64(f), g, obj.hessp(w, v), obj.hess_diag(w), obj.margins(w),
             np.float64(line.value(0.3)), np.float64(lf), lg]
    return [np.asarray(part).tobytes() for part in parts]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_threads_bitwise_identical(loss, layout):
    if not fastopt.openmp_enabled():
        pytest.skip("built without OpenMP, so every call runs on one thread")
    rng = np.random.default_rng(6)
    # Large enough that each kernel splits the work into several blocks and
    # runs them on several threads.
    n, p = 5000, 400
    Xd = _sparse_dense(rng, n, p, density=0.1)
    y = _labels(rng, loss, n)
    w = 0.1 * rng.standard_normal(_n_params(loss, p, True))
    v = rng.standard_normal(w.size)
    obj = GLMObjective(LAYOUTS[layout](Xd, np.int64), y, loss=loss,
                       sample_weight=rng.random(n))
    fastopt.set_num_threads(1)
    one = _everything(obj, w, v)
    fastopt.set_num_threads(2)
    two = _everything(obj, w, v)
    for name, a, b in zip(["value", "grad", "hessp", "hess_diag", "margins", "line.value",
                           "line.value_grad value", "line.value_grad grad"], one, two):
        assert a == b, name


# ----------------------------------------------------------------- no copies


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_supported_input_is_not_copied(layout, dtype, index):
    rng = np.random.default_rng(7)
    X = LAYOUTS[layout](_sparse_dense(rng, 30, 6).astype(dtype), index)
    obj = GLMObjective(X, rng.choice([-1.0, 1.0], 30), loss="logistic")
    design = obj.design
    assert not design.copied
    if sp.issparse(X):
        assert design.data is X.data
        assert design.indptr is X.indptr
        assert design.indices is X.indices
    else:
        assert design.data.__array_interface__["data"][0] == X.__array_interface__["data"][0]
        assert np.shares_memory(design.data, X)


@pytest.mark.parametrize("make", [
    pytest.param(lambda X: X.astype(np.int64), id="int64 dense"),
    pytest.param(lambda X: X[:, ::2], id="strided"),
    pytest.param(lambda X: sp.coo_matrix(X), id="coo"),
    pytest.param(lambda X: sp.csr_matrix(X).astype(np.int32), id="int32 csr data"),
    pytest.param(lambda X: X.tolist(), id="list"),
])
def test_unsupported_input_is_converted(make):
    rng = np.random.default_rng(8)
    Xd = np.round(_sparse_dense(rng, 20, 8) * 3)
    X = make(Xd)
    design = as_design(X)
    assert design.copied
    dense = design.data if design.indptr is None else None
    if dense is not None:
        expected = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        np.testing.assert_array_equal(dense, expected)


def test_mismatched_index_dtypes_share_data():
    rng = np.random.default_rng(9)
    X = sp.csr_matrix(_sparse_dense(rng, 20, 8))
    X.indices = X.indices.astype(np.int64)  # indptr stays int32
    design = as_design(X)
    assert design.copied
    assert design.data is X.data
    assert design.indptr.dtype == np.int64
    assert design.indices.dtype == np.int64


def test_duplicate_entries_are_summed():
    data = np.array([1.0, 2.0, 3.0])
    X = sp.csr_matrix((data, np.array([1, 1, 0]), np.array([0, 2, 3])), shape=(2, 3))
    design = as_design(X)
    assert design.copied
    y = np.array([0.5, -1.0])
    w = np.array([0.1, 0.2, 0.3, 0.4])
    obj = GLMObjective(X, y, loss="squared")
    dense = np.array([[0.0, 3.0, 0.0], [3.0, 0.0, 0.0]])
    np.testing.assert_allclose(obj.hess_diag(w), ref_hess_diag(dense, y, w, loss="squared"),
                               rtol=1e-14)


def test_float32_duplicates_summed_in_float64():
    # 2**24 + 1 is not a float32, so a float32 sum of the two entries would drop the 1.
    data = np.array([2.0**24, 1.0, 5.0], dtype=np.float32)
    X = sp.csr_matrix((data, np.array([0, 0, 1]), np.array([0, 2, 3])), shape=(2, 2))
    design = as_design(X)
    assert design.copied
    assert design.dtype == np.float64
    obj = GLMObjective(X, np.array([1.0, -1.0]), loss="squared", fit_intercept=False)
    w = np.array([1.0, 0.5])
    np.testing.assert_array_equal(obj.margins(w), X @ w)
    assert obj.margins(w)[0] == 2.0**24 + 1.0


def test_unsorted_indices_are_not_copied():
    X = sp.csr_matrix((np.array([1.0, 2.0]), np.array([2, 0]), np.array([0, 2])), shape=(1, 3))
    design = as_design(X)
    assert not design.copied
    assert design.data is X.data


def test_gradient_out_is_filled():
    Xd, y, _, w, _ = _case(10, "logistic", True, False)
    obj = GLMObjective(Xd, y, loss="logistic")
    out = np.empty(obj.n_params)
    f, g = obj.value_grad(w, out=out)
    assert g is out
    np.testing.assert_allclose(out, ref_value_grad(Xd, y, w, loss="logistic")[1], rtol=1e-12)


def test_attributes():
    Xd, y, _, _, _ = _case(11, "multinomial", True, False)
    obj = GLMObjective(Xd, y, loss="multinomial", n_classes=5)
    assert (obj.n_samples, obj.n_features, obj.n_outputs) == (120, 15, 5)
    assert obj.n_params == 5 * 15 + 5
    assert obj.fit_intercept
    assert obj.loss == "multinomial"
    assert obj.margins(np.zeros(obj.n_params)).shape == (120, 5)


# ----------------------------------------------------------------- real data


def _sparse_oracle(X, y, w, loss, n_outputs, fit_intercept=True):
    """Data term and gradient with scipy.sparse products, from the formulas."""
    n, p = X.shape
    coef = w[: n_outputs * p].reshape(n_outputs, p)
    intercept = w[n_outputs * p:] if fit_intercept else np.zeros(n_outputs)
    z = np.asarray(X @ coef.T) + intercept  # (n, K)
    if loss == "logistic":
        m = y * z[:, 0]
        value = np.logaddexp(0.0, -m).mean()
        r = (-y / (1.0 + np.exp(m)))[:, None] / n
    else:
        zmax = z.max(axis=1, keepdims=True)
        lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
        labels = y.astype(np.int64)
        value = (lse - z[np.arange(n), labels]).mean()
        r = np.exp(z - lse[:, None])
        r[np.arange(n), labels] -= 1.0
        r /= n
    grad = np.asarray(X.T @ r).T.ravel()
    if fit_intercept:
        grad = np.concatenate([grad, r.sum(axis=0)])
    return value, grad


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_a9a_matches_sparse_oracle(data_file, fmt):
    X, y = load_svmlight(data_file("a9a"), n_features=123)
    X = X.asformat(fmt)
    rng = np.random.default_rng(12)
    w = 0.1 * rng.standard_normal(124)
    f, g = GLMObjective(X, y, loss="logistic").value_grad(w)
    f_ref, g_ref = _sparse_oracle(X, y, w, "logistic", 1)
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref)
    assert _rel(g, g_ref) <= 1e-11


@pytest.fixture(scope="module")
def news20(data_file):
    X, y = load_svmlight(data_file("news20.bz2"))
    return X, y


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_news20_one_vs_rest_matches_sparse_oracle(news20, fmt):
    X, y = news20
    X = X.asformat(fmt)
    y_binary = np.where(y == 1.0, 1.0, -1.0)
    rng = np.random.default_rng(13)
    w = 0.1 * rng.standard_normal(X.shape[1] + 1)
    f, g = GLMObjective(X, y_binary, loss="logistic").value_grad(w)
    f_ref, g_ref = _sparse_oracle(X, y_binary, w, "logistic", 1)
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref)
    assert _rel(g, g_ref) <= 1e-11


def test_news20_multinomial_matches_sparse_oracle(news20):
    X, y = news20
    labels = y - 1.0  # classes 1..20 in the file
    rng = np.random.default_rng(14)
    w = 0.05 * rng.standard_normal(20 * X.shape[1] + 20)
    f, g = GLMObjective(X, labels, loss="multinomial").value_grad(w)
    f_ref, g_ref = _sparse_oracle(X, labels, w, "multinomial", 20)
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref)
    assert _rel(g, g_ref) <= 1e-11


# --------------------------------------------------------------- bad input


def _small():
    rng = np.random.default_rng(15)
    return _sparse_dense(rng, 6, 4, density=0.9), rng.choice([-1.0, 1.0], 6)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_names_position(layout, bad):
    Xd, y = _small()
    Xd[2, 3] = 7.0
    X = LAYOUTS[layout](Xd, np.int32)
    if sp.issparse(X):
        X.data[X.data == 7.0] = bad
    else:
        X[2, 3] = bad
    with pytest.raises(ValueError, match=r"X: expected finite values, got .* at row 2, column 3"):
        GLMObjective(X, y, loss="logistic")


def _csr_parts():
    data = np.array([1.0, 2.0, 3.0])
    indices = np.array([0, 2, 1], dtype=np.int32)
    indptr = np.array([0, 2, 3], dtype=np.int32)
    return data, indices, indptr


@pytest.mark.parametrize("edit, message", [
    (lambda d, i, p: p.__setitem__(0, 1), r"X.indptr\[0\]: expected 0, got 1"),
    (lambda d, i, p: p.__setitem__(1, 4), r"X.indptr\[2\]: expected a non-decreasing"),
    (lambda d, i, p: p.__setitem__(2, 5), r"X.indptr\[2\]: expected at most 3"),
    (lambda d, i, p: i.__setitem__(1, 3), r"X.indices\[1\]: expected a column index in \[0, 3\)"),
    (lambda d, i, p: i.__setitem__(2, -1), r"X.indices\[2\]: expected a column index"),
])
def test_malformed_sparse_structure_raises(edit, message):
    data, indices, indptr = _csr_parts()
    edit(data, indices, indptr)
    X = sp.csr_matrix((2, 3))
    # Assigned after construction, so scipy's own checks do not run first.
    X.data, X.indices, X.indptr = data, indices, indptr
    with pytest.raises(ValueError, match=message):
        GLMObjective(X, np.array([1.0, -1.0]), loss="logistic")


def test_structure_changed_after_validation_raises():
    data, indices, indptr = _csr_parts()
    X = sp.csr_matrix((data, indices, indptr), shape=(2, 3))
    obj = GLMObjective(X, np.array([1.0, -1.0]), loss="logistic")
    X.indices[0] = 1000  # out of range, set behind the objective's back
    with pytest.raises(ValueError, match="changed after validation"):
        obj.value_grad(np.zeros(4))
    X.indices[0] = 0
    X.indptr[1] = 99
    with pytest.raises(ValueError, match="changed after validation"):
        obj.hessp(np.zeros(4), np.ones(4))


@pytest.mark.parametrize("X, error, message", [
    (np.zeros(5), ValueError, r"X: expected a 2-D array, got shape \(5,\)"),
    (np.zeros((0, 3)), ValueError, "X: expected at least one sample and one feature"),
    (np.zeros((3, 0)), ValueError, "X: expected at least one sample and one feature"),
    (np.zeros((3, 2), dtype=complex), TypeError, "X: expected real values"),
    (np.array([["a", "b"]] * 3), TypeError, "X: cannot convert dtype"),
])
def test_bad_x_raises(X, error, message):
    with pytest.raises(error, match=message):
        as_design(X)


@pytest.mark.parametrize("loss, y, message", [
    ("logistic", [1, -1, 0, 1, 1, 1], r"y: expected labels -1 or \+1 .* got 0.0 at index 2"),
    ("logistic", [1, -1, 1, 1, 1, np.nan], r"y: expected finite values, got nan at index 5"),
    ("squared", [1, 2, np.inf, 1, 1, 1], r"y: expected finite values, got inf at index 2"),
    ("squared", [1, 2, 3], r"y: expected 6 values \(one per sample of X\), got 3"),
    ("squared", np.ones((6, 1)), r"y: expected a 1-D array, got shape \(6, 1\)"),
    ("squared", ["a"] * 6, r"y: expected real numbers, got dtype <U1"),
    ("multinomial", [0, 1, 2, -1, 0, 0], r"y: expected class indices .* got -1.0 at index 3"),
    ("multinomial", [0, 1, 2, 1.5, 0, 0], r"y: expected class indices .* got 1.5 at index 3"),
])
def test_bad_y_raises(loss, y, message):
    Xd, _ = _small()
    with pytest.raises(ValueError, match=message):
        GLMObjective(Xd, np.asarray(y), loss=loss)


def test_labels_beyond_n_classes_raise():
    Xd, _ = _small()
    with pytest.raises(ValueError, match=r"below n_classes=2, got 2.0 at index 4"):
        GLMObjective(Xd, np.array([0, 1, 0, 1, 2, 0]), loss="multinomial", n_classes=2)


@pytest.mark.parametrize("n_classes", [0, 2.5, True])
def test_bad_n_classes_raises(n_classes):
    Xd, _ = _small()
    with pytest.raises(ValueError, match="n_classes: expected an int >= 1"):
        GLMObjective(Xd, np.zeros(6), loss="multinomial", n_classes=n_classes)


def test_n_classes_with_binary_loss_raises():
    Xd, y = _small()
    with pytest.raises(ValueError, match="n_classes: expected None for loss='logistic'"):
        GLMObjective(Xd, y, loss="logistic", n_classes=2)


@pytest.mark.parametrize("weights, message", [
    ([1, 1, -0.5, 1, 1, 1], r"sample_weight: expected values >= 0, got -0.5 at index 2"),
    ([1, 1, 1, np.nan, 1, 1], r"sample_weight: expected finite values, got nan at index 3"),
    ([0.0] * 6, "sample_weight: expected at least one positive weight"),
    ([1.0] * 5, r"sample_weight: expected 6 values"),
    ([1e308] * 6, "sample_weight: expected a finite sum"),
])
def test_bad_sample_weight_raises(weights, message):
    Xd, y = _small()
    with pytest.raises(ValueError, match=message):
        GLMObjective(Xd, y, loss="logistic", sample_weight=np.asarray(weights))


def test_scalar_sample_weight_is_uniform():
    Xd, y = _small()
    w = np.linspace(-1, 1, 5)
    a = GLMObjective(Xd, y, loss="logistic", sample_weight=3.0).value_grad(w)
    b = GLMObjective(Xd, y, loss="logistic").value_grad(w)
    assert a[0] == pytest.approx(b[0], rel=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-15)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(loss="hinge"), ValueError, "loss: expected one of 'logistic'"),
    (dict(loss="huber", huber_delta=0.0), ValueError, "huber_delta: expected a finite number > 0"),
    (dict(loss="huber", huber_delta=np.nan), ValueError, "huber_delta: expected a finite"),
    (dict(loss="squared", fit_intercept=1), TypeError, "fit_intercept: expected a bool"),
])
def test_bad_options_raise(kwargs, error, message):
    Xd, y = _small()
    with pytest.raises(error, match=message):
        GLMObjective(Xd, y, **kwargs)


def test_bad_parameter_vectors_raise():
    Xd, y = _small()
    obj = GLMObjective(Xd, y, loss="logistic")
    with pytest.raises(ValueError, match=r"w: expected shape \(5,\), got \(4,\)"):
        obj.value_grad(np.zeros(4))
    with pytest.raises(ValueError, match=r"v: expected shape \(5,\), got \(6,\)"):
        obj.hessp(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match=r"d: expected shape \(5,\)"):
        obj.line(np.zeros(5), np.zeros((5, 1)))
    w = np.zeros(5)
    with pytest.raises(ValueError, match="w and grad share memory"):
        obj.value_grad(w, out=w)
    with pytest.raises(TypeError, match="grad: expected dtype float64"):
        obj.value_grad(w, out=np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match="grad: expected 5 elements"):
        obj.value_grad(w, out=np.zeros(7))
    read_only = np.zeros(5)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="grad: expected a writeable array"):
        obj.value_grad(w, out=read_only)
