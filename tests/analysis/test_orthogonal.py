"""Tests for optlib.analysis.orthogonal: the Newton–Schulz map of one singular value and the
matrix iteration Muon runs, checked against each other through numpy's SVD, against hand
values and plain polynomials, and for bad input (TypeError for the wrong kind, ValueError
for the wrong value, each naming the argument)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlib import analysis
from optlib.analysis import newton_schulz_map, orthogonalize

A, B, C = 3.4445, -4.7750, 2.0315
shapes = st.tuples(st.integers(1, 7), st.integers(1, 7))
entries = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


def phi(s, steps, coefficients=(A, B, C)):
    """The polynomial a s + b s^3 + c s^5, applied ``steps`` times, as written."""
    a, b, c = coefficients
    for _ in range(steps):
        s = a * s + b * s ** 3 + c * s ** 5
    return s


# --------------------------------------------------------------------------- the scalar map
def test_hand_values():
    assert newton_schulz_map(0.5, steps=1) == pytest.approx(A / 2 + B / 8 + C / 32, rel=1e-15)
    assert newton_schulz_map(1.0, steps=1) == pytest.approx(A + B + C, rel=1e-15)
    assert newton_schulz_map(0.3, steps=0) == 0.3
    assert newton_schulz_map(0.0) == 0.0
    assert newton_schulz_map(2.0, steps=2, coefficients=(1.0, 0.0, 0.0)) == 2.0
    assert newton_schulz_map(2.0, steps=3, coefficients=(0.0, 1.0, 0.0)) == 2.0 ** 27
    assert isinstance(newton_schulz_map(0.5), float)


@settings(max_examples=50, deadline=None)
@given(s=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5),
                    elements=st.floats(-1.2, 1.2)),
       steps=st.integers(0, 8))
def test_the_map_is_the_polynomial_iterated_and_odd(s, steps):
    out = newton_schulz_map(s, steps=steps)
    assert np.shape(out) == s.shape
    np.testing.assert_allclose(out, phi(s, steps), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(newton_schulz_map(-s, steps=steps), -np.asarray(out))


@settings(max_examples=30, deadline=None)
@given(s=st.floats(0, 1.1), k=st.integers(0, 5), j=st.integers(0, 5))
def test_steps_compose(s, k, j):
    assert newton_schulz_map(newton_schulz_map(s, steps=k), steps=j) == newton_schulz_map(
        s, steps=k + j)


def test_broadcasting_and_coefficients():
    s = np.linspace(0, 1, 7).reshape(7, 1)
    out = newton_schulz_map(s, steps=2, coefficients=[1.5, -0.5, 0])
    assert out.shape == (7, 1)
    np.testing.assert_allclose(out, phi(s, 2, (1.5, -0.5, 0.0)), rtol=1e-14, atol=1e-15)
    assert newton_schulz_map([], steps=3).shape == (0,)


def test_the_default_coefficients_land_between_068_and_113_the_docstrings_claim():
    """Five steps map [0.01, 1] into about [0.68, 1.13] (Muon's docstring and this module's):
    both ends, rounded to two decimals, are what a fine grid gives."""
    out = newton_schulz_map(np.linspace(0.01, 1.0, 2_000_001))
    assert round(float(out.min()), 2) == 0.68 and round(float(out.max()), 2) == 1.13


def test_the_classical_cubic_converges_to_one_below_root_3():
    s = np.array([0.05, 0.5, 1.0, 1.5, 1.7])
    np.testing.assert_allclose(newton_schulz_map(s, steps=60, coefficients=(1.5, -0.5, 0.0)),
                               1.0, rtol=1e-15)
    assert newton_schulz_map(np.sqrt(3) + 0.01, steps=60, coefficients=(1.5, -0.5, 0.0)) < 0


def test_an_overflow_gives_inf_without_a_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert newton_schulz_map(1e5, steps=5) == np.inf
        assert newton_schulz_map(-1e5, steps=5) == -np.inf


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(s="0.5"), TypeError, "s"), (dict(s=np.nan), ValueError, "s"),
    (dict(s=[0.1, np.inf]), ValueError, "s"), (dict(s=True), TypeError, "s"),
    (dict(s=0.5, steps=-1), ValueError, "steps"), (dict(s=0.5, steps=2.0), TypeError, "steps"),
    (dict(s=0.5, steps=True), TypeError, "steps"),
    (dict(s=0.5, coefficients=(1.0, 2.0)), ValueError, "coefficients"),
    (dict(s=0.5, coefficients=("a", "b", "c")), TypeError, "coefficients"),
    (dict(s=0.5, coefficients=(1.0, np.nan, 0.0)), ValueError, "coefficients"),
    (dict(s=0.5, coefficients=[[1.0, 2.0, 3.0]]), ValueError, "coefficients"),
])
def test_map_bad_input(kwargs, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        newton_schulz_map(**kwargs)


# --------------------------------------------------------------------------- the matrix
def svd_prediction(u, steps=5, coefficients=(A, B, C), eps=1e-7):
    """U phi^K(Sigma / max(||u||_F, eps)) V^T from numpy's SVD."""
    left, sigma, right = np.linalg.svd(u, full_matrices=False)
    scaled = sigma / max(np.linalg.norm(u), eps)
    return (left * phi(scaled, steps, coefficients)) @ right, phi(scaled, steps, coefficients)


@settings(max_examples=60, deadline=None)
@given(u=shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=entries)),
       steps=st.integers(0, 6))
def test_orthogonalize_is_the_map_on_the_singular_values(u, steps):
    """NS(u) = U phi^K(Sigma/||u||_F) V^T; its singular values are newton_schulz_map of u's
    normalised ones (sorted: phi^K need not keep their order)."""
    out = orthogonalize(u, steps=steps)
    expected, values = svd_prediction(u, steps)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)
    mapped = newton_schulz_map(np.linalg.svd(u, compute_uv=False) / max(np.linalg.norm(u), 1e-7),
                               steps=steps)
    np.testing.assert_allclose(np.sort(np.linalg.svd(out, compute_uv=False)),
                               np.sort(np.abs(mapped)), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(u=shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=entries)))
def test_transposing_commutes(u):
    """NS(u^T) = NS(u)^T: bit for bit where u is not square (both iterate on the wide one of
    u, u^T), to rounding where it is (A = X X^T of u or of u^T)."""
    if u.shape[0] == u.shape[1]:
        np.testing.assert_allclose(orthogonalize(u.T), orthogonalize(u).T, atol=1e-13)
    else:
        np.testing.assert_array_equal(orthogonalize(u.T), orthogonalize(u).T)


@pytest.mark.parametrize("shape", [(3, 8), (8, 3), (5, 5)])
def test_the_cubic_iteration_orthogonalises(shape):
    """With (3/2, -1/2, 0) and enough steps every singular value reaches 1: O has orthonormal
    rows (wide) or columns (tall), and O = U V^T, the polar factor."""
    u = np.random.default_rng(0).normal(size=shape)
    out = orthogonalize(u, steps=60, coefficients=(1.5, -0.5, 0.0))
    small = min(shape)
    gram = out @ out.T if shape[0] <= shape[1] else out.T @ out
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-13)
    left, _, right = np.linalg.svd(u, full_matrices=False)
    np.testing.assert_allclose(out, left @ right, atol=1e-13)


def test_hand_values_of_the_matrix():
    """diag(3, 0.3): Frobenius norm sqrt(9.09); each diagonal entry is phi^K of its share."""
    d = np.diag([3.0, 0.3])
    n = np.sqrt(9.09)
    np.testing.assert_allclose(orthogonalize(d), np.diag([phi(3 / n, 5), phi(0.3 / n, 5)]),
                               rtol=1e-13)
    np.testing.assert_allclose(orthogonalize(d, steps=0), d / n, rtol=1e-15)
    np.testing.assert_array_equal(orthogonalize(np.zeros((2, 3))), np.zeros((2, 3)))
    # below eps the matrix is divided by eps, not by its norm
    np.testing.assert_allclose(orthogonalize(d * 1e-9, steps=0, eps=1e-6), d * 1e-3, rtol=1e-15)


def test_dtypes_and_forms():
    u32 = np.random.default_rng(1).normal(size=(4, 6)).astype(np.float32)
    out = orthogonalize(u32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, orthogonalize(u32.astype(np.float64)), atol=1e-5)
    ints = orthogonalize([[1, 2], [3, 4]])
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints, orthogonalize(np.array([[1.0, 2.0], [3.0, 4.0]])))
    u = np.ones((3, 2))
    orthogonalize(u)
    np.testing.assert_array_equal(u, np.ones((3, 2)))      # the input is not changed
    assert orthogonalize(np.empty((0, 3))).shape == (0, 3)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(u=np.ones(3)), ValueError, "u"), (dict(u=np.ones((2, 2, 2))), ValueError, "u"),
    (dict(u=[[1.0, np.nan]]), ValueError, "u"), (dict(u="matrix"), TypeError, "u"),
    (dict(u=[[1.0], [2.0, 3.0]]), ValueError, "u"),
    (dict(u=np.ones((2, 2)), steps=-1), ValueError, "steps"),
    (dict(u=np.ones((2, 2)), steps=1.5), TypeError, "steps"),
    (dict(u=np.ones((2, 2)), coefficients=(1, 2, 3, 4)), ValueError, "coefficients"),
    (dict(u=np.ones((2, 2)), eps=0.0), ValueError, "eps"),
    (dict(u=np.ones((2, 2)), eps="small"), TypeError, "eps"),
])
def test_orthogonalize_bad_input(kwargs, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        orthogonalize(**kwargs)


def test_exported_from_optlib_analysis():
    assert analysis.newton_schulz_map is newton_schulz_map
    assert analysis.orthogonalize is orthogonalize
    assert {"newton_schulz_map", "orthogonalize"} <= set(analysis.__all__)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
def test_rotations_commute(seed, shape):
    """NS(Q u R) = Q NS(u) R for orthogonal Q, R (the singular values do not change): unlike
    a per-coordinate method, the update turns with the matrix (chapter 7)."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=shape)
    q, _ = np.linalg.qr(rng.normal(size=(shape[0], shape[0])))
    r, _ = np.linalg.qr(rng.normal(size=(shape[1], shape[1])))
    np.testing.assert_allclose(orthogonalize(q @ u @ r), q @ orthogonalize(u) @ r, atol=1e-12)
