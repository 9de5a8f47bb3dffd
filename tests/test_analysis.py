"""Tests for optlib.analysis: every closed form against hand-computed numbers and
against simulation with optlib's own optimizers on quadratics.

Derivations used here (independently of the library):

* GD on f(w) = ½ (w-c)ᵀH(w-c): the error along the i-th eigenvector of H is
  multiplied by (1 - αλᵢ) each step, so GD is stable iff α < 2/λ_max.
* Momentum (EMA form) along one eigendirection: v' = βv + (1-β)λw, w' = w - αv'.
  Divergence sets in when an eigenvalue crosses -1: the characteristic
  polynomial σ² - Tσ + β at σ = -1 is 1 + T + β = 0, i.e.
  α = 2(1+β) / ((1-β)λ).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import analysis
from optlib.objectives import Quadratic

CURV = (1.0, 25.0)
KAPPA = 25.0


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def eigen_coordinates(points, objective):
    """Coordinates of points - minimum along the Hessian's eigenvectors, from numpy's eigh.

    Returns (coordinates (..., 2), eigenvalues ascending).
    """
    lam, vecs = np.linalg.eigh(objective.hessian)
    return (np.asarray(points) - objective.minimum) @ vecs, lam


def fitted_rate(distances, skip, floor):
    """Least-squares slope of log(distance) against t, for t >= skip and distance > floor·d0."""
    d = np.asarray(distances)
    t = np.arange(d.size)
    use = (t >= skip) & np.isfinite(d) & (d > floor * d[0])
    assert use.sum() >= 50, "too few points for a fit"
    slope = np.polyfit(t[use], np.log(d[use]), 1)[0]
    return math.exp(slope)


def momentum_run_1d(lr, beta, lam, w0, v0):
    """One optlib.Momentum step on f(w) = ½λw² from (w0, v0); returns (w1, v1).

    The buffer is brought to v0 by a first step with a chosen gradient from a
    chosen point (v = (1-β)·g from v = 0), then the measured step is taken with
    the true gradient λ·w0.
    """
    opt = optlib.Momentum(lr=lr, beta=beta)
    w = np.array([0.0])
    opt.step(w, np.array([v0 / (1.0 - beta)]))
    np.testing.assert_allclose(opt.state["momentum_buffer"], [v0], rtol=1e-14, atol=1e-300)
    w[:] = w0  # the point is free to set; the buffer is the state
    opt.step(w, np.array([lam * w0]))
    return w[0], opt.state["momentum_buffer"][0]


# --------------------------------------------------------------------------
# Gradient descent: hand-computed numbers
# --------------------------------------------------------------------------


def test_gd_numbers_for_curvatures_1_25():
    """For λ = (1, 25): limit 2/25 = 0.08, optimal lr 2/26, optimal rate 24/26."""
    assert analysis.gd_stability_limit(CURV) == pytest.approx(0.08, rel=1e-15)
    opt = analysis.gd_optimal(CURV)
    assert opt.lr == pytest.approx(2.0 / 26.0, rel=1e-15)
    assert opt.rate == pytest.approx(24.0 / 26.0, rel=1e-15)
    assert opt.beta == 0.0
    assert analysis.condition_number(CURV) == 25.0


def test_gd_factors_by_hand():
    """gd_factors(α, λ) = |1 - αλ|: α = 0.05 gives (0.95, 0.25), α = 0.1 gives (0.9, 1.5)."""
    np.testing.assert_allclose(analysis.gd_factors(0.05, CURV), [0.95, 0.25], rtol=1e-14)
    np.testing.assert_allclose(analysis.gd_factors(0.1, CURV), [0.9, 1.5], rtol=1e-14)


def test_gd_factors_broadcast_over_lr_grid():
    """An lr array of shape (3, 1) gives factors of shape (3, 1, 2), each |1 - αλ|."""
    lr = np.array([[0.01], [0.05], [0.1]])
    f = analysis.gd_factors(lr, CURV)
    assert f.shape == (3, 1, 2)
    np.testing.assert_allclose(f[:, 0, :], [[0.99, 0.75], [0.95, 0.25], [0.9, 1.5]], rtol=1e-14)


def test_gd_rate_is_largest_factor():
    """gd_rate(α) = max_i |1 - αλ_i|: 0.95 at α = 0.05, 1.5 at α = 0.1, 24/26 at 2/26."""
    assert analysis.gd_rate(0.05, CURV) == pytest.approx(0.95, rel=1e-14)
    assert analysis.gd_rate(0.1, CURV) == pytest.approx(1.5, rel=1e-14)
    assert analysis.gd_rate(2.0 / 26.0, CURV) == pytest.approx(24.0 / 26.0, rel=1e-14)
    rates = analysis.gd_rate(np.array([0.05, 0.1]), CURV)
    np.testing.assert_allclose(rates, [0.95, 1.5], rtol=1e-14)


def test_gd_optimal_minimises_gd_rate_on_a_grid():
    """No learning rate on a fine grid beats gd_optimal's rate, and the best grid lr is near 2/26."""
    lr = np.linspace(1e-4, 0.1, 20001)
    rates = analysis.gd_rate(lr, CURV)
    best = analysis.gd_optimal(CURV)
    assert rates.min() >= best.rate - 1e-12
    assert rates.min() <= best.rate + 1e-4
    assert abs(lr[np.argmin(rates)] - best.lr) < 1e-4


def test_analysis_accepts_an_objective_for_curvatures():
    """A Quadratic can stand in for its curvatures (rotation does not change them)."""
    q = Quadratic(curvatures=(4.0, 0.5), angle=1.1)
    assert analysis.gd_stability_limit(q) == pytest.approx(0.5, rel=1e-15)
    assert analysis.condition_number(q) == pytest.approx(8.0, rel=1e-15)
    assert analysis.gd_optimal(q).lr == pytest.approx(2.0 / 4.5, rel=1e-15)


# --------------------------------------------------------------------------
# Gradient descent: against simulation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.01, 0.05, 0.07, 2.0 / 26.0])
def test_gd_shrinks_each_axis_by_its_factor(lr):
    """Unrotated quadratic: x_{t+1}/x_t = 1 - αλ_1 and y_{t+1}/y_t = 1 - αλ_2 at every step."""
    q = Quadratic(curvatures=CURV)
    tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 40)
    ratios = tr.points[1:] / tr.points[:-1]
    expected = 1.0 - lr * np.array(CURV)
    np.testing.assert_allclose(ratios, np.broadcast_to(expected, ratios.shape), rtol=1e-12)
    np.testing.assert_allclose(np.abs(ratios[-1]), analysis.gd_factors(lr, CURV), rtol=1e-12)


@pytest.mark.parametrize("angle", [0.3, math.pi / 6, 2.0])
def test_gd_shrinks_each_eigendirection_by_its_factor_rotated(angle):
    """Rotated, off-centre quadratic: the coordinates along H's eigenvectors shrink by |1 - αλᵢ|."""
    q = Quadratic(curvatures=CURV, angle=angle, center=(1.5, -2.0))
    lr = 0.07  # factors 0.93 and 0.75: both coordinates stay far above round-off for 30 steps
    tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 30)
    coords, lam = eigen_coordinates(tr.points, q)
    np.testing.assert_allclose(lam, CURV, rtol=1e-12)
    ratios = coords[1:] / coords[:-1]
    np.testing.assert_allclose(ratios, np.broadcast_to(1.0 - lr * lam, ratios.shape), rtol=1e-9)
    np.testing.assert_allclose(np.abs(ratios).mean(axis=0), analysis.gd_factors(lr, q),
                               rtol=1e-9)


@pytest.mark.parametrize("angle", [0.0, 0.8])
@pytest.mark.parametrize("curvatures", [(1.0, 25.0), (3.0, 0.5)])
def test_gd_stability_limit_separates_convergence_from_divergence(curvatures, angle):
    """GD with α = 0.98·2/λ_max converges and with α = 1.02·2/λ_max diverges."""
    q = Quadratic(curvatures=curvatures, angle=angle)
    limit = analysis.gd_stability_limit(curvatures)
    assert limit == pytest.approx(2.0 / max(curvatures), rel=1e-15)
    below = optlib.run(optlib.GradientDescent(lr=0.98 * limit), q, q.start, 2000)
    above = optlib.run(optlib.GradientDescent(lr=1.02 * limit), q, q.start, 2000)
    assert below.diverged is False
    assert below.distances()[-1] < 1e-6 * below.distances()[0]
    assert above.diverged is True
    assert 0 < above.diverged_at < 2000


def test_gd_rate_matches_measured_rate():
    """The measured per-step contraction of GD equals gd_rate on a rotated quadratic."""
    q = Quadratic(curvatures=CURV, angle=0.5)
    for lr in (0.02, 0.05, 0.075):
        tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 600)
        measured = fitted_rate(tr.distances(), skip=50, floor=1e-12)
        assert measured == pytest.approx(analysis.gd_rate(lr, CURV), abs=1e-6)


# --------------------------------------------------------------------------
# Momentum: the iteration matrix
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lr, beta, lam, w0, v0", [
    (0.1, 0.9, 25.0, 1.3, -0.4),
    (0.2, 4.0 / 9.0, 1.0, -2.0, 0.7),
    (0.05, 0.0, 3.0, 0.5, 0.0),
    (1.5, 0.5, 0.2, 4.0, 2.5),
])
def test_momentum_iteration_matrix_is_one_momentum_step(lr, beta, lam, w0, v0):
    """M @ (w, v) equals what one optlib.Momentum step does on f(w) = ½λw²."""
    m = analysis.momentum_iteration_matrix(lr, beta, lam)
    assert m.shape == (2, 2)
    w1, v1 = momentum_run_1d(lr, beta, lam, w0, v0)
    np.testing.assert_allclose(m @ np.array([w0, v0]), [w1, v1], rtol=1e-13, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(lr=st.floats(1e-3, 2.0), beta=st.floats(0.0, 0.99), lam=st.floats(1e-2, 50.0),
       w0=st.floats(-10.0, 10.0), v0=st.floats(-10.0, 10.0))
def test_momentum_iteration_matrix_is_one_step_property(lr, beta, lam, w0, v0):
    """For any (α, β, λ, w, v), M @ (w, v) equals one optlib.Momentum step."""
    m = analysis.momentum_iteration_matrix(lr, beta, lam)
    w1, v1 = momentum_run_1d(lr, beta, lam, w0, v0)
    scale = 1.0 + abs(w0) + abs(v0) + lr * lam * (abs(w0) + abs(v0))
    np.testing.assert_allclose(m @ np.array([w0, v0]), [w1, v1], rtol=0, atol=1e-13 * scale)


def test_momentum_iteration_matrix_powers_follow_a_long_run():
    """M^50 @ (w0, 0) is the point and buffer after 50 Momentum steps on each axis."""
    lr, beta = 0.05, 0.8
    q = Quadratic(curvatures=CURV)
    w0 = np.array([-3.0, 2.0])
    opt = optlib.Momentum(lr=lr, beta=beta)
    w = w0.copy()
    for _ in range(50):
        opt.step(w, q.grad(w))
    for i, lam in enumerate(CURV):
        m = analysis.momentum_iteration_matrix(lr, beta, lam)
        state = np.linalg.matrix_power(m, 50) @ np.array([w0[i], 0.0])
        np.testing.assert_allclose(state, [w[i], opt.state["momentum_buffer"][i]],
                                   rtol=1e-10, atol=1e-14)


@settings(max_examples=80, deadline=None)
@given(lr=st.floats(1e-3, 3.0), beta=st.floats(0.0, 0.999), lam=st.floats(1e-3, 100.0))
def test_momentum_iteration_matrix_trace_and_determinant(lr, beta, lam):
    """det M = β and tr M = 1 + β - α(1-β)λ."""
    m = analysis.momentum_iteration_matrix(lr, beta, lam)
    scale = 1.0 + lr * lam
    assert np.linalg.det(m) == pytest.approx(beta, abs=1e-12 * scale)
    assert np.trace(m) == pytest.approx(1.0 + beta - lr * (1.0 - beta) * lam,
                                        abs=1e-12 * scale)


def test_momentum_iteration_matrix_broadcasts():
    """lr (3, 1), beta (1, 4) and a scalar curvature give matrices of shape (3, 4, 2, 2)."""
    lr = np.array([[0.01], [0.1], [0.3]])
    beta = np.array([[0.0, 0.3, 0.6, 0.9]])
    m = analysis.momentum_iteration_matrix(lr, beta, 2.0)
    assert m.shape == (3, 4, 2, 2)
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(
                m[i, j], analysis.momentum_iteration_matrix(lr[i, 0], beta[0, j], 2.0))


@pytest.mark.parametrize("lr, beta", [
    (0.05, 0.5), (0.1, 0.9), (0.2, 0.3), (0.01, 0.0), (0.3, 0.99), (0.15, 0.6), (2.0, 0.5),
])
def test_momentum_eigenvalues_are_numpys_eigvals(lr, beta):
    """momentum_eigenvalues equal np.linalg.eigvals of the iteration matrix, per curvature."""
    sig = analysis.momentum_eigenvalues(lr, beta, CURV)
    assert sig.shape == (2, 2)
    for i, lam in enumerate(CURV):
        expected = np.linalg.eigvals(analysis.momentum_iteration_matrix(lr, beta, lam))
        np.testing.assert_allclose(np.sort_complex(sig[i]), np.sort_complex(expected),
                                   rtol=1e-9, atol=1e-12)


def test_momentum_eigenvalues_broadcast_shape():
    """lr (3, 1) and beta (4,) give eigenvalues of shape (3, 4, len(curvatures), 2)."""
    sig = analysis.momentum_eigenvalues(np.array([[0.01], [0.1], [0.3]]),
                                        np.array([0.0, 0.3, 0.6, 0.9]), (1.0, 5.0, 25.0))
    assert sig.shape == (3, 4, 3, 2)
    np.testing.assert_allclose(sig[1, 2, 0], analysis.momentum_eigenvalues(0.1, 0.6, (1.0,))[0])


# --------------------------------------------------------------------------
# Momentum: spectral radius against simulation
# --------------------------------------------------------------------------

# (α, β) pairs on curvatures (1, 25), none at critical damping (no double roots):
# real, oscillating and complex regimes for the slower direction.
RATE_CASES = [
    (0.05, 0.5),    # λ=1 monotone (slow), λ=25 complex
    (0.07, 0.0),    # plain GD: λ=1 monotone, λ=25 oscillating
    (0.1, 0.9),     # both complex: radius √0.9
    (0.15, 0.6),    # both complex: radius √0.6
    (0.1, 0.7),     # both complex: radius √0.7
    (0.04, 0.3),    # λ=1 real σ ≈ 0.959 (slow), λ=25 complex
    (0.22, 0.5),    # λ=25 oscillating real, dominant
]


def test_rate_cases_avoid_double_roots():
    """The chosen (α, β) have a discriminant far from 0 in both directions (no critical damping)."""
    for lr, beta in RATE_CASES:
        for lam in CURV:
            trace = 1.0 + beta - lr * (1.0 - beta) * lam
            assert abs(trace ** 2 - 4.0 * beta) > 1e-2


@pytest.mark.parametrize("lr, beta", RATE_CASES)
def test_momentum_spectral_radius_matches_simulated_rate(lr, beta):
    """The measured linear rate of optlib.Momentum on the quadratic equals the spectral radius."""
    # The minimum is at the origin, so round-off is relative and the distance can be
    # followed down to 1e-250 of its start: thousands of steps, enough for a
    # least-squares fit of log-distance to average out the ripples.
    rho = analysis.momentum_spectral_radius(lr, beta, CURV)
    assert rho < 1.0
    q = Quadratic(curvatures=CURV, angle=0.4)
    steps = int(575.0 / -math.log(rho))  # the distance falls to ~1e-250 of its start
    tr = optlib.run(optlib.Momentum(lr=lr, beta=beta), q, q.start, steps)
    assert tr.diverged is False
    measured = fitted_rate(tr.distances(), skip=100, floor=1e-250)
    assert measured == pytest.approx(rho, abs=1e-4)


@pytest.mark.parametrize("lr, beta", [(0.1, 0.9), (0.15, 0.6), (0.1, 0.7), (0.3, 0.95)])
def test_momentum_complex_regime_has_radius_sqrt_beta(lr, beta):
    """When both directions have complex eigenvalues, every |σ| and the spectral radius are √β."""
    sig = analysis.momentum_eigenvalues(lr, beta, CURV)
    assert np.all(np.abs(sig.imag) > 0)
    np.testing.assert_allclose(np.abs(sig), math.sqrt(beta), rtol=1e-12)
    assert analysis.momentum_spectral_radius(lr, beta, CURV) == pytest.approx(math.sqrt(beta),
                                                                               rel=1e-12)


def test_momentum_spectral_radius_by_hand():
    """β = 0 reduces to GD's rate; α = 0.3, β = 0.5, λ = 25 has eigenvalues -2 and -1/4 (radius 2)."""
    for lr in (0.01, 0.05, 0.07, 0.1):
        assert analysis.momentum_spectral_radius(lr, 0.0, CURV) == pytest.approx(
            analysis.gd_rate(lr, CURV), rel=1e-12)
    # trace = 1.5 - 0.3·0.5·25 = -2.25, det = 0.5: σ² + 2.25σ + 0.5 = (σ + 2)(σ + 0.25)
    np.testing.assert_allclose(np.sort(analysis.momentum_eigenvalues(0.3, 0.5, (25.0,))[0].real),
                               [-2.0, -0.25], rtol=1e-12)
    assert analysis.momentum_spectral_radius(0.3, 0.5, (25.0,)) == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.5, 0.8])
def test_momentum_radius_one_iff_run_diverges(beta):
    """Around α_max = 2(1+β)/((1-β)λ_max): radius < 1 and the run converges below, ≥ 1 and diverges above."""
    alpha_max = 2.0 * (1.0 + beta) / ((1.0 - beta) * CURV[1])
    q = Quadratic(curvatures=CURV, angle=0.25)
    lrs = alpha_max * np.array([0.9, 0.98, 1.02, 1.1])
    radius = analysis.momentum_spectral_radius(lrs, beta, CURV)
    np.testing.assert_array_less(radius[:2], 1.0)
    np.testing.assert_array_less(1.0, radius[2:])
    assert analysis.momentum_spectral_radius(alpha_max, beta, CURV) == pytest.approx(1.0,
                                                                                     abs=1e-9)
    for lr, r in zip(lrs, radius):
        tr = optlib.run(optlib.Momentum(lr=lr, beta=beta), q, q.start, 3000)
        assert tr.diverged is bool(r >= 1.0), (lr, beta, r)
        if r < 1.0:
            assert tr.distances()[-1] < 1e-6 * tr.distances()[0]


# --------------------------------------------------------------------------
# Momentum: the optimum
# --------------------------------------------------------------------------


def test_momentum_optimal_for_kappa_25():
    """κ = 25: β* = (4/6)², rate 4/6 = (√κ-1)/(√κ+1), α* = a*/(1-β*) = (1/9)/(5/9) = 0.2."""
    opt = analysis.momentum_optimal(CURV)
    assert opt.beta == pytest.approx((4.0 / 6.0) ** 2, rel=1e-14)
    assert opt.rate == pytest.approx(4.0 / 6.0, rel=1e-14)
    assert opt.rate == pytest.approx((math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1), rel=1e-14)
    assert opt.lr == pytest.approx(0.2, rel=1e-14)
    assert analysis.momentum_spectral_radius(opt.lr, opt.beta, CURV) == pytest.approx(
        opt.rate, abs=1e-7)  # double roots there: round-off enters as √eps


def test_momentum_optimal_beats_gd_optimal():
    """Optimal momentum's rate (√κ-1)/(√κ+1) beats optimal GD's (κ-1)/(κ+1) for κ = 25 and 100."""
    for curv, kappa in ((CURV, 25.0), ((0.5, 50.0), 100.0)):
        mom = analysis.momentum_optimal(curv).rate
        gd = analysis.gd_optimal(curv).rate
        assert gd == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-14)
        assert mom == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), rel=1e-14)
        assert mom < gd


def test_momentum_optimal_is_a_grid_minimum():
    """A brute-force (α, β) grid finds no rate below the optimum, and its argmin is near (α*, β*)."""
    lr = np.linspace(0.001, 0.5, 500)
    beta = np.linspace(0.0, 0.95, 951)
    radius = analysis.momentum_spectral_radius(lr[:, None], beta[None, :], CURV)
    assert radius.shape == (500, 951)
    best = analysis.momentum_optimal(CURV)
    assert radius.min() >= best.rate - 1e-9
    assert radius.min() <= best.rate + 5e-3
    i, j = np.unravel_index(np.argmin(radius), radius.shape)
    assert abs(lr[i] - best.lr) <= 2e-3
    assert abs(beta[j] - best.beta) <= 5e-3


def test_momentum_optimal_converges_at_its_rate():
    """Optimal momentum reaches 1e-10 of the start distance in ~log(1e-10)/log(4/6) ≈ 57 steps."""
    q = Quadratic(curvatures=CURV, angle=0.9)
    best = analysis.momentum_optimal(q)
    tr = optlib.run(optlib.Momentum(lr=best.lr, beta=best.beta), q, q.start, 120)
    d = tr.distances() / tr.distances()[0]
    n = int(np.argmax(d < 1e-10))
    # critical damping in both directions: d_t ~ (c0 + c1 t) rate^t, slightly slower than rate^t
    assert 57 <= n <= 80
    gd = analysis.gd_optimal(q)
    tr_gd = optlib.run(optlib.GradientDescent(lr=gd.lr), q, q.start, 120)
    assert tr_gd.distances()[n] > 1e-4 * tr_gd.distances()[0]  # GD is still far away then


# --------------------------------------------------------------------------
# Momentum: regimes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lr, beta, lam, label", [
    (0.5, 0.1, 1.0, "monotone"),      # trace 0.65, disc 0.0225: σ = 0.4, 0.25
    (0.5, 0.0, 1.0, "monotone"),      # σ = 0.5, 0
    (1.5, 0.0, 1.0, "oscillating"),   # σ = -0.5, 0
    (19 / 9, 0.1, 1.0, "oscillating"),  # trace -0.8, disc 0.24: σ ≈ -0.155, -0.645
    (1.0, 0.81, 1.0, "ripples"),      # trace 1.62, disc -0.6156: |σ| = 0.9
    (1.5, 0.1, 1.0, "ripples"),       # trace -0.25, disc -0.3375
    (2.5, 0.0, 1.0, "divergent"),     # σ = -1.5
    (2.0, 0.0, 1.0, "divergent"),     # σ = -1 exactly: radius ≥ 1
    (8.0, 0.5, 1.0, "divergent"),     # trace -2.5: σ ≈ -2.28
    (0.3, 0.5, 25.0, "divergent"),    # σ = -2, -0.25
])
def test_momentum_regime_labels(lr, beta, lam, label):
    """momentum_regime labels hand-computed cases: monotone, oscillating, ripples, divergent."""
    got = analysis.momentum_regime(lr, beta, lam)
    assert got == label
    assert isinstance(got, str)


def test_momentum_regime_broadcasts_over_arrays():
    """lr (2, 1) × beta (3,) gives a (2, 3) array of labels, each equal to the scalar call."""
    lr = np.array([[0.5], [1.5]])
    beta = np.array([0.0, 0.1, 0.81])
    out = analysis.momentum_regime(lr, beta, 1.0)
    assert isinstance(out, np.ndarray)
    assert out.shape == (2, 3)
    expected = [["monotone", "monotone", "ripples"], ["oscillating", "ripples", "ripples"]]
    assert out.tolist() == expected
    for i in range(2):
        for j in range(3):
            assert out[i, j] == analysis.momentum_regime(float(lr[i, 0]), float(beta[j]), 1.0)


def test_momentum_regime_agrees_with_eigenvalues_on_a_grid():
    """Each label on an (α, β) grid matches the definition applied to np.linalg.eigvals of M."""
    lr = np.linspace(0.05, 3.0, 23)
    beta = np.linspace(0.0, 0.95, 17)
    out = analysis.momentum_regime(lr[:, None], beta[None, :], 1.0)
    assert out.shape == (23, 17)
    for i, a in enumerate(lr):
        for j, b in enumerate(beta):
            sig = np.linalg.eigvals(analysis.momentum_iteration_matrix(a, b, 1.0))
            disc = (1 + b - a * (1 - b)) ** 2 - 4 * b
            if abs(disc) < 1e-9 or abs(np.abs(sig).max() - 1.0) < 1e-9:
                continue  # on a boundary: round-off decides
            if np.abs(sig).max() >= 1.0:
                expected = "divergent"
            elif disc < 0:
                expected = "ripples"
            elif (sig.real < 0).any():
                expected = "oscillating"
            else:
                expected = "monotone"
            assert out[i, j] == expected, (a, b)


def test_momentum_regime_matches_simulated_sign_pattern():
    """Monotone runs never change sign, oscillating ones flip sign every step (1-d, β = 0.1)."""
    lam = 1.0
    for lr, label in ((0.5, "monotone"), (19 / 9, "oscillating")):
        assert analysis.momentum_regime(lr, 0.1, lam) == label
        opt = optlib.Momentum(lr=lr, beta=0.1)
        w = np.array([1.0])
        ws = [1.0]
        for _ in range(30):
            opt.step(w, lam * w)
            ws.append(w[0])
        signs = np.sign(ws[5:])  # after the transient
        if label == "monotone":
            assert np.all(signs == signs[0])
        else:
            assert np.all(signs[1:] == -signs[:-1])
        assert abs(ws[-1]) < 1e-3  # and both decay


# --------------------------------------------------------------------------
# Exponentially weighted averages and Adam's bias correction
# --------------------------------------------------------------------------


@pytest.mark.parametrize("beta, t", [(0.9, 1), (0.9, 10), (0.5, 7), (0.99, 50), (0.0, 4)])
def test_ema_weights_sum_and_match_momentum_buffer(beta, t):
    """ema_weights sums to 1-βᵗ and equals the buffer of Momentum fed unit impulses."""
    w = analysis.ema_weights(beta, t)
    assert w.shape == (t,)
    assert w.sum() == pytest.approx(1.0 - beta ** t, rel=1e-12, abs=1e-15)
    # Component k of a t-vector gets gradient 1 at step k (oldest first), 0 otherwise:
    # the buffer after t steps holds the weight of each step's gradient.
    opt = optlib.Momentum(lr=1.0, beta=beta)
    params = np.zeros(t)
    for k in range(t):
        opt.step(params, np.eye(t)[k])
    np.testing.assert_allclose(opt.state["momentum_buffer"], w, rtol=1e-12, atol=1e-300)


def test_ema_weights_match_direct_loop():
    """ema_weights(0.8, 6) equals the coefficients of g_1..g_6 in v ← 0.8v + 0.2g from v = 0."""
    beta, t = 0.8, 6
    coeffs = np.zeros(t)  # v as a linear combination of g_1..g_t
    for k in range(t):
        coeffs *= beta
        coeffs[k] += 1.0 - beta
    np.testing.assert_allclose(analysis.ema_weights(beta, t), coeffs, rtol=1e-14)
    np.testing.assert_allclose(analysis.ema_weights(beta, t),
                               [0.2 * 0.8 ** 5, 0.2 * 0.8 ** 4, 0.2 * 0.8 ** 3,
                                0.2 * 0.8 ** 2, 0.2 * 0.8, 0.2], rtol=1e-14)
    assert analysis.ema_weights(beta, 0).shape == (0,)


def test_ema_bias_is_momentum_average_of_a_constant():
    """ema_bias(β, t) = 1-βᵗ is the buffer of Momentum after t steps of gradient 1."""
    assert analysis.ema_bias(0.9, 1) == pytest.approx(0.1, rel=1e-14)
    assert analysis.ema_bias(0.9, 2) == pytest.approx(0.19, rel=1e-14)
    assert analysis.ema_bias(0.5, 3) == pytest.approx(0.875, rel=1e-15)
    assert analysis.ema_bias(0.9, 0) == 0.0
    opt = optlib.Momentum(lr=1.0, beta=0.9)
    params = np.zeros(1)
    for t in range(1, 31):
        opt.step(params, np.ones(1))
        assert opt.state["momentum_buffer"][0] == pytest.approx(analysis.ema_bias(0.9, t),
                                                                rel=1e-13)
    arr = analysis.ema_bias(0.9, np.arange(4))
    np.testing.assert_allclose(arr, [0.0, 0.1, 0.19, 0.271], rtol=1e-13, atol=1e-16)


def test_ema_window():
    """ema_window(β) = 1/(1-β): 10 for 0.9, 1000 for 0.999, 1 for 0, elementwise on arrays."""
    assert analysis.ema_window(0.9) == pytest.approx(10.0, rel=1e-13)
    assert analysis.ema_window(0.999) == pytest.approx(1000.0, rel=1e-12)
    assert analysis.ema_window(0.0) == 1.0
    np.testing.assert_allclose(analysis.ema_window(np.array([0.5, 0.75])), [2.0, 4.0],
                               rtol=1e-15)


def test_adam_bias_correction_by_hand():
    """β1 = 0.9, β2 = 0.999, t = 1: first 0.1, second 0.001, step_scale √0.001/0.1 ≈ 0.316228."""
    bc = analysis.adam_bias_correction(0.9, 0.999, 1)
    assert bc.first == pytest.approx(0.1, rel=1e-12)
    assert bc.second == pytest.approx(0.001, rel=1e-12)
    assert bc.step_scale == pytest.approx(math.sqrt(0.001) / 0.1, rel=1e-12)
    assert bc.step_scale == pytest.approx(0.316228, abs=1e-6)
    bc = analysis.adam_bias_correction(0.9, 0.999, 10)
    assert bc.first == pytest.approx(1 - 0.9 ** 10, rel=1e-12)
    assert bc.second == pytest.approx(1 - 0.999 ** 10, rel=1e-12)
    assert bc.step_scale == pytest.approx(math.sqrt(1 - 0.999 ** 10) / (1 - 0.9 ** 10),
                                          rel=1e-12)


@pytest.mark.parametrize("t", [1, 2, 5, 30])
def test_bias_correction_recovers_a_constant_gradient(t):
    """After t steps of a constant g, the EMAs divided by first/second are exactly g and g²."""
    g = np.array([0.7, -3.0])
    beta1, beta2 = 0.9, 0.999
    bc = analysis.adam_bias_correction(beta1, beta2, t)
    mom = optlib.Momentum(lr=1.0, beta=beta1)
    rms = optlib.RMSprop(lr=1.0, beta=beta2)
    p1, p2 = np.zeros(2), np.zeros(2)
    for _ in range(t):
        mom.step(p1, g.copy())
        rms.step(p2, g.copy())
    np.testing.assert_allclose(mom.state["momentum_buffer"] / bc.first, g, rtol=1e-12)
    np.testing.assert_allclose(rms.state["square_avg"] / bc.second, g ** 2, rtol=1e-12)


def test_step_scale_is_adams_first_step_correction():
    """With ε = 0, Adam's first step is lr·sign(g): the uncorrected step times step_scale."""
    g = np.array([0.25, -4.0])
    beta1, beta2, lr = 0.9, 0.999, 0.01
    uncorrected = lr * (1 - beta1) * g / np.sqrt((1 - beta2) * g ** 2)
    bc = analysis.adam_bias_correction(beta1, beta2, 1)
    opt = optlib.Adam(lr=lr, beta1=beta1, beta2=beta2, eps=0.0)
    w = np.zeros(2)
    opt.step(w, g)
    np.testing.assert_allclose(-w, uncorrected * bc.step_scale, rtol=1e-12)
    np.testing.assert_allclose(-w, lr * np.sign(g), rtol=1e-12)


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------

CURVATURE_FUNCS = {
    "condition_number": lambda c: analysis.condition_number(c),
    "gd_factors": lambda c: analysis.gd_factors(0.1, c),
    "gd_rate": lambda c: analysis.gd_rate(0.1, c),
    "gd_stability_limit": lambda c: analysis.gd_stability_limit(c),
    "gd_optimal": lambda c: analysis.gd_optimal(c),
    "momentum_eigenvalues": lambda c: analysis.momentum_eigenvalues(0.1, 0.5, c),
    "momentum_spectral_radius": lambda c: analysis.momentum_spectral_radius(0.1, 0.5, c),
    "momentum_optimal": lambda c: analysis.momentum_optimal(c),
}


@pytest.mark.parametrize("name", sorted(CURVATURE_FUNCS))
@pytest.mark.parametrize("bad", [(1.0, -25.0), (0.0, 25.0), (-1.0,), (), (1.0, np.nan),
                                 (1.0, np.inf)])
def test_bad_curvatures_raise_value_error(name, bad):
    """Zero, negative, non-finite or empty curvatures raise ValueError naming `curvatures`."""
    with pytest.raises(ValueError, match="curvatures"):
        CURVATURE_FUNCS[name](bad)


@pytest.mark.parametrize("name", sorted(CURVATURE_FUNCS))
def test_non_numeric_curvatures_raise_type_error(name):
    """Curvatures that are not numbers raise TypeError naming `curvatures`."""
    with pytest.raises(TypeError, match="curvatures"):
        CURVATURE_FUNCS[name]("steep")


@pytest.mark.parametrize("bad", [np.nan, np.inf, "steep"])
def test_momentum_iteration_matrix_rejects_unusable_curvature(bad):
    """A non-finite or non-numeric curvature raises ValueError/TypeError naming `curvature`."""
    with pytest.raises((ValueError, TypeError), match="curvature"):
        analysis.momentum_iteration_matrix(0.1, 0.5, bad)


@pytest.mark.parametrize("call", [
    lambda lr: analysis.gd_factors(lr, CURV),
    lambda lr: analysis.gd_rate(lr, CURV),
    lambda lr: analysis.momentum_iteration_matrix(lr, 0.5, 1.0),
    lambda lr: analysis.momentum_eigenvalues(lr, 0.5, CURV),
    lambda lr: analysis.momentum_spectral_radius(lr, 0.5, CURV),
    lambda lr: analysis.momentum_regime(lr, 0.5, 1.0),
], ids=["gd_factors", "gd_rate", "iteration_matrix", "eigenvalues", "spectral_radius",
        "regime"])
@pytest.mark.parametrize("lr", [0.0, -0.1, np.inf, np.nan, np.array([0.1, -0.1])])
def test_bad_lr_raises_value_error(call, lr):
    """lr ≤ 0 or non-finite (also one bad entry in an array) raises ValueError naming `lr`."""
    with pytest.raises(ValueError, match="lr"):
        call(lr)


@pytest.mark.parametrize("call", [
    lambda b: analysis.momentum_iteration_matrix(0.1, b, 1.0),
    lambda b: analysis.momentum_eigenvalues(0.1, b, CURV),
    lambda b: analysis.momentum_spectral_radius(0.1, b, CURV),
    lambda b: analysis.momentum_regime(0.1, b, 1.0),
    lambda b: analysis.ema_weights(b, 3),
    lambda b: analysis.ema_bias(b, 3),
    lambda b: analysis.ema_window(b),
], ids=["iteration_matrix", "eigenvalues", "spectral_radius", "regime", "ema_weights",
        "ema_bias", "ema_window"])
@pytest.mark.parametrize("beta", [1.0, 1.5, -0.1, np.nan])
def test_bad_beta_raises_value_error(call, beta):
    """beta outside [0, 1) (β = 1 included) raises ValueError naming `beta`."""
    with pytest.raises(ValueError, match="beta"):
        call(beta)


def test_bad_adam_betas_name_the_argument():
    """adam_bias_correction with β1 = 1 or β2 = 1 raises ValueError naming beta1/beta2."""
    with pytest.raises(ValueError, match="beta1"):
        analysis.adam_bias_correction(1.0, 0.999, 3)
    with pytest.raises(ValueError, match="beta2"):
        analysis.adam_bias_correction(0.9, 1.0, 3)


@pytest.mark.parametrize("call", [
    lambda t: analysis.ema_weights(0.9, t),
    lambda t: analysis.ema_bias(0.9, t),
    lambda t: analysis.adam_bias_correction(0.9, 0.999, t),
], ids=["ema_weights", "ema_bias", "adam_bias_correction"])
@pytest.mark.parametrize("t", [2.5, 3.0, -1, "3", np.array([1.0, 2.0])])
def test_bad_t_raises(call, t):
    """A non-integer, negative or non-numeric step count t raises ValueError/TypeError naming `t`."""
    with pytest.raises((ValueError, TypeError), match=r"\bt\b"):
        call(t)


def test_non_numeric_hyperparameters_raise_type_error():
    """A string lr or beta raises TypeError naming the argument."""
    with pytest.raises(TypeError, match="lr"):
        analysis.gd_rate("fast", CURV)
    with pytest.raises(TypeError, match="beta"):
        analysis.momentum_spectral_radius(0.1, "heavy", CURV)
