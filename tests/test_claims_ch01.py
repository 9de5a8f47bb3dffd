"""Chapter 1's qualitative claims, recomputed with plain numpy (not through optlib's analysis).

Each claim is a small function of the parameters it speaks about; the test evaluates it where
the chapter states it, and also where the statement would be false, so that a check which
could not tell the two apart would fail here.
"""

from __future__ import annotations

import math

import numpy as np

RNG = np.random.default_rng(1)


def gd(curvatures, lr, w0, steps):
    """Gradient descent on f = ½ Σ λᵢ wᵢ², every point (w_t = w_{t-1} − α g_t)."""
    lam = np.asarray(curvatures, float)
    w = np.asarray(w0, float).copy()
    out = [w.copy()]
    for _ in range(steps):
        w = w - lr * lam * w
        out.append(w.copy())
    return np.array(out)


# --------------------------------------------------------------------------- the text
def distance_is_exactly_rho_to_the_t(curvatures, lr, steps=60):
    """‖w_t‖ = ρᵗ‖w_0‖ at every t, from a start with every coordinate non-zero."""
    pts = gd(curvatures, lr, [-8.0, 1.5], steps)
    d = np.linalg.norm(pts, axis=1)
    rho = max(abs(1 - lr * lam) for lam in curvatures)
    return bool(np.allclose(d, d[0] * rho ** np.arange(steps + 1), rtol=1e-9))


def test_at_the_best_rate_the_distance_shrinks_exactly_by_rho_each_step():
    """Chapter 1, 'The best constant learning rate': at α* the distance is *exactly* ρ*ᵗ times
    the initial one (both factors have the size ρ*)."""
    assert distance_is_exactly_rho_to_the_t((1.0, 25.0), 2 / 26)
    assert not distance_is_exactly_rho_to_the_t((1.0, 25.0), 0.07)       # false away from α*


def test_at_the_limit_w2_bounces_forever_and_just_above_it_blows_up():
    """'at the limit W2 bounces between +1.5 and −1.5 forever; 1 % above it the bounce grows by
    2 % per step ... but it always does [become a catastrophe]'."""
    w2 = gd((1.0, 25.0), 0.08, [-8.0, 1.5], 500)[:, 1]
    assert np.allclose(np.abs(w2), 1.5, rtol=1e-9) and np.all(np.sign(w2[1:]) != np.sign(w2[:-1]))
    above = gd((1.0, 25.0), 1.01 * 0.08, [-8.0, 1.5], 2000)[:, 1]
    ratio = np.abs(above[1:] / above[:-1])
    assert np.allclose(ratio, 1.02, rtol=1e-9) and abs(above[-1]) > 1e15
    below = gd((1.0, 25.0), 0.99 * 0.08, [-8.0, 1.5], 2000)[:, 1]
    assert abs(below[-1]) < 1e-15                                    # the false version: 1 % below


def test_the_best_rate_sits_at_kappa_over_kappa_plus_one_of_the_limit():
    """'the best learning rate sits at κ/(κ + 1) of the stability limit — 96 % of it here'."""
    for lo, hi in RNG.uniform(0.1, 100, size=(50, 2)):
        lo, hi = min(lo, hi), max(lo, hi)
        grid = np.linspace(1e-4, 2 / hi, 20001)
        rates = np.maximum(np.abs(1 - grid * lo), np.abs(1 - grid * hi))
        best = grid[np.argmin(rates)]
        kappa = hi / lo
        assert abs(best / (2 / hi) - kappa / (kappa + 1)) < 2e-4
    assert round(25 / 26, 2) == 0.96


def test_the_flat_factor_is_at_least_one_minus_two_over_kappa_at_every_stable_rate():
    """Summary: 'at any stable α its [the flat direction's] factor is at least 1 − 2/κ'."""
    for lo, hi in RNG.uniform(0.1, 100, size=(50, 2)):
        lo, hi = min(lo, hi), max(lo, hi)
        stable = np.linspace(1e-6, 2 / hi, 1001)[:-1]
        assert np.all(np.abs(1 - stable * lo) >= 1 - 2 * lo / hi - 1e-12)
        # the bound is tight (approached at the limit when κ ≥ 2), so a larger one, 1 − 1/κ,
        # is false
        if hi >= 2 * lo:
            assert np.abs(1 - stable * lo).min() < 1 - 2 * lo / hi + 1e-2
        assert np.any(np.abs(1 - stable * lo) < 1 - lo / hi)


def test_the_safe_rate_needs_about_twice_the_steps_of_the_best_rate():
    """'α = 1/λ_max has ρ = 1 − 1/κ and needs about κ ln(1/tol) steps, twice as many'."""
    tol = 1e-6
    for kappa in (10, 25, 100, 1000):
        best = math.ceil(math.log(tol) / math.log((kappa - 1) / (kappa + 1)))
        safe = math.ceil(math.log(tol) / math.log(1 - 1 / kappa))
        assert 1.9 < safe / best < 2.01
        assert abs(safe / (kappa * math.log(1 / tol)) - 1) < 0.06


def test_rotation_changes_nothing_but_the_diagonal_is_not_the_curvature():
    """'Gradient descent commutes with rotations' and 'the diagonal entries of H ... do not give
    the stability limit of a rotated bowl'."""
    theta = math.pi / 6
    R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    H = R @ np.diag([1.0, 25.0]) @ R.T
    w = R @ np.array([-8.0, 1.5])
    u_path = []
    for _ in range(60):
        w = w - 0.05 * H @ w
        u_path.append(R.T @ w)
    aligned = gd((1.0, 25.0), 0.05, [-8.0, 1.5], 60)[1:]
    assert np.allclose(u_path, aligned, atol=1e-12)
    assert 2 / H.diagonal().max() > 2 / 25 * 1.3          # the diagonal promises a larger limit
    w = R @ np.array([-8.0, 1.5])
    for _ in range(500):                                    # ... which diverges
        w = w - 0.09 * H @ w
    assert np.linalg.norm(w) > 1e6


def test_the_rotated_bowl_has_its_minimum_at_the_origin():
    """'the minimum w* is the origin here, so u = Rᵀw' (the rotated Quadratic of the text)."""
    from optlib.objectives import Quadratic
    tilted = Quadratic(angle=math.pi / 6)
    assert np.array_equal(tilted.minimum, [0.0, 0.0])
    assert not np.array_equal(Quadratic(center=(1.0, 0.0)).minimum, [0.0, 0.0])


# --------------------------------------------------------------------------- the exercises
def never_oscillates(curvatures, lr):
    """No factor 1 − αλᵢ is negative: no weight ever changes sign."""
    return all(1 - lr * lam >= 0 for lam in curvatures)


def test_the_safe_rate_one_over_lambda_max_never_oscillates():
    """Exercise 1.5: 'α = 1/λ_max, which never oscillates'."""
    for lam in RNG.uniform(0.01, 100, size=(200, 3)):
        assert never_oscillates(lam, 1 / lam.max())
        path = gd(lam, 1 / lam.max(), np.ones(3), 50)
        assert np.all(path >= 0)                            # no coordinate ever flips sign
        assert not never_oscillates(lam, 1.2 / lam.max())   # a little more, and it does


def test_from_the_slow_axis_the_distance_is_exactly_rho_to_the_t_and_the_estimate_overshoots():
    """Exercise 1.5's solution: from the W1 axis the distance is exactly ρᵗ times the initial
    one; κ·ln(1/tol) is larger than the exact count (ln(1/ρ) > 1/κ for ρ = 1 − 1/κ)."""
    d = np.abs(gd((1.0, 20.0), 1 / 20, [1.0, 0.0], 200)[:, 0])
    assert np.allclose(d, 0.95 ** np.arange(201), rtol=1e-12)
    for kappa in (2, 5, 20, 100, 1e4):
        assert -math.log(1 - 1 / kappa) > 1 / kappa


def test_centring_the_inputs_fits_the_same_line():
    """Exercise 1.7: 'the fit ŷ = W(x − x̄) + b′ describes the same lines, with b′ = b + W x̄';
    its Hessian is diagonal."""
    rng = np.random.default_rng(0)
    x = rng.uniform(1.0, 4.0, 40)
    y = 1.5 * x + 2.0 + rng.normal(0.0, 0.5, 40)
    (W, b), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
    xc = x - x.mean()
    (Wc, bc), *_ = np.linalg.lstsq(np.column_stack([xc, np.ones_like(x)]), y, rcond=None)
    assert math.isclose(Wc, W, rel_tol=1e-10) and math.isclose(bc, b + W * x.mean(), rel_tol=1e-10)
    assert not math.isclose(bc, b, rel_tol=1e-3)            # the intercept does change
    Hc = np.array([[np.mean(xc * xc), np.mean(xc)], [np.mean(xc), 1.0]])
    assert abs(Hc[0, 1]) < 1e-12
