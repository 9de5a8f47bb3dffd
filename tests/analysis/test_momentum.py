"""Tests for optlib.analysis.momentum: momentum's iteration matrix, eigenvalues, spectral
radius, regimes, critical learning rates, stability limit and optimum, and the heavy-ball
matrix, against hand-computed numbers and against optlib.Momentum itself.

Derivation used here (independently of the library): momentum (EMA form) along one
eigendirection is v' = βv + (1-β)λw, w' = w - αv'. Divergence sets in when an eigenvalue
crosses -1: the characteristic polynomial σ² - Tσ + β at σ = -1 is 1 + T + β = 0, i.e.
α = 2(1+β) / ((1-β)λ).
"""

import math

import numpy as np
import pytest
from rates import fitted_rate
from hypothesis import given, settings
from hypothesis import strategies as st

import optlib
from optlib import analysis
from optlib.experiments import heavy_ball_points
from optlib.objectives import Quadratic

CURV = (1.0, 25.0)
KAPPA = 25.0
betas = st.floats(min_value=0.0, max_value=0.97)
curvatures = st.floats(min_value=0.1, max_value=50.0)


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
# Momentum: critical damping
# --------------------------------------------------------------------------


def test_critical_lr_hand_values():
    """β = 0.25, λ = 25: (1 ∓ 0.5)²/18.75; β = 0 (GD): both are 1/λ."""
    low, high = analysis.momentum_critical_lr(0.25, 25.0)
    assert low == pytest.approx(0.25 / 18.75)
    assert high == pytest.approx(2.25 / 18.75)
    low0, high0 = analysis.momentum_critical_lr(0.0, 4.0)
    assert low0 == pytest.approx(0.25) and high0 == pytest.approx(0.25)   # GD: αλ = 1


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(min_value=0.05, max_value=0.95), lam=curvatures)
def test_discriminant_vanishes_at_the_critical_learning_rates(beta, lam):
    """tr(M)² - 4 det(M) = 0 at both critical learning rates (numpy's trace and det)."""
    for lr in analysis.momentum_critical_lr(beta, lam):
        m = analysis.momentum_iteration_matrix(lr, beta, lam)
        trace, det = np.trace(m), np.linalg.det(m)
        assert trace ** 2 - 4 * det == pytest.approx(0.0, abs=1e-9 * max(1.0, trace ** 2))


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(min_value=0.05, max_value=0.95), lam=curvatures,
       where=st.floats(min_value=0.05, max_value=0.95))
def test_between_the_critical_rates_the_regime_is_ripples_with_modulus_sqrt_beta(beta, lam,
                                                                               where):
    """Between the two critical rates the eigenvalues are complex of modulus √β."""
    low, high = analysis.momentum_critical_lr(beta, lam)
    lr = low + where * (high - low)
    assert analysis.momentum_regime(lr, beta, lam) == "ripples"
    sig = np.linalg.eigvals(analysis.momentum_iteration_matrix(lr, beta, lam))
    np.testing.assert_allclose(np.abs(sig), math.sqrt(beta), rtol=1e-9)


@pytest.mark.parametrize("beta", [0.25, 0.5, 0.9])
def test_regimes_on_either_side_of_the_critical_rates(beta):
    """Monotone below the low rate; oscillating between the high rate and the stability limit."""
    low, high = analysis.momentum_critical_lr(beta, 25.0)
    assert analysis.momentum_regime(0.9 * low, beta, 25.0) == "monotone"
    limit = analysis.momentum_stability_limit(beta, (25.0,))
    assert high < limit
    assert analysis.momentum_regime(0.5 * (high + limit), beta, 25.0) == "oscillating"


def test_critical_lr_rejects_bad_input():
    """A non-positive curvature or β outside [0, 1) raises ValueError naming it."""
    with pytest.raises(ValueError, match="curvature"):
        analysis.momentum_critical_lr(0.5, 0.0)
    with pytest.raises(ValueError, match="beta"):
        analysis.momentum_critical_lr(-0.1, 1.0)
    with pytest.raises(TypeError, match="curvature"):
        analysis.momentum_critical_lr(0.5, "steep")


# --------------------------------------------------------------------------
# Momentum: the stability limit
# --------------------------------------------------------------------------


def test_stability_limit_hand_values():
    """β = 0.9 on (1, 25): 3.8/2.5 = 1.52; β = 0 is GD's limit; arrays of β broadcast."""
    assert analysis.momentum_stability_limit(0.9, (1.0, 25.0)) == pytest.approx(1.52)
    assert analysis.momentum_stability_limit(0.0, Quadratic()) == pytest.approx(
        analysis.gd_stability_limit(Quadratic()))
    np.testing.assert_allclose(analysis.momentum_stability_limit(np.array([0.0, 0.5]), (2.0,)),
                               [1.0, 3.0])


@settings(max_examples=40, deadline=None)
@given(beta=betas, lam=curvatures)
def test_spectral_radius_is_one_at_the_stability_limit(beta, lam):
    """The spectral radius is 1 at the limit, < 1 just below and > 1 just above."""
    limit = analysis.momentum_stability_limit(beta, (lam,))
    assert analysis.momentum_spectral_radius(limit, beta, (lam,)) == pytest.approx(1.0, abs=1e-6)
    assert analysis.momentum_spectral_radius(0.999 * limit, beta, (lam,)) < 1.0
    assert analysis.momentum_spectral_radius(1.001 * limit, beta, (lam,)) > 1.0


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_runs_just_below_the_limit_converge_and_just_above_diverge(beta):
    """optlib.Momentum at 0.98 of the limit converges, at 1.02 of it diverges."""
    bowl = Quadratic()
    limit = analysis.momentum_stability_limit(beta, bowl)
    lrs = np.array([0.98 * limit, 1.02 * limit])[:, None]
    traj = optlib.run(optlib.Momentum(lr=lrs, beta=beta), bowl, bowl.start, 3000)
    assert not traj.diverged[0] and traj.diverged[1]


# --------------------------------------------------------------------------
# Heavy ball
# --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(min_value=0.01, max_value=2.0), beta=betas, lam=curvatures)
def test_heavy_ball_matrix_has_the_eigenvalues_of_the_momentum_matrix(lr, beta, lam):
    """With a = α(1-β) the heavy-ball matrix is similar to the momentum matrix."""
    hb = analysis.heavy_ball_iteration_matrix(lr * (1 - beta), beta, lam)
    ema = analysis.momentum_iteration_matrix(lr, beta, lam)
    assert np.trace(hb) == pytest.approx(np.trace(ema), abs=1e-9)
    assert np.linalg.det(hb) == pytest.approx(beta, abs=1e-9)
    # the change of variables (w, v) -> (w, w + αv) conjugates one into the other
    change = np.array([[1.0, 0.0], [1.0, lr]])
    np.testing.assert_allclose(change @ ema, hb @ change, atol=1e-9 * max(1.0, lr * lam))


def test_heavy_ball_matrix_reproduces_heavy_ball_points_on_a_quadratic():
    """Powers of the matrix applied to (w0, w0) are the heavy-ball loop's points, per axis."""
    bowl = Quadratic()
    step, beta = 0.05, 0.6
    pts = heavy_ball_points(bowl, step, beta, bowl.start, 30)
    for k, lam in enumerate(bowl.curvatures):   # axis-aligned: coordinate k has curvature λ_k
        m = analysis.heavy_ball_iteration_matrix(step, beta, lam)
        state = np.array([bowl.start[k], bowl.start[k]])
        for t in range(30):
            state = m @ state
            assert state[0] == pytest.approx(pts[t + 1, k], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("bad, error", [("steep", TypeError), (None, TypeError),
                                        (True, TypeError), (np.nan, ValueError),
                                        (np.array([1.0, np.inf]), ValueError)])
def test_heavy_ball_iteration_matrix_rejects_unusable_curvature(bad, error):
    """A curvature of the wrong kind raises TypeError, a non-finite one ValueError, naming it.

    (It used to be passed to numpy unchecked: a string raised numpy's own ValueError and
    nan gave a matrix of nan.)"""
    with pytest.raises(error, match="curvature"):
        analysis.heavy_ball_iteration_matrix(0.05, 0.5, bad)


def test_heavy_ball_iteration_matrix_allows_a_saddle_direction():
    """A negative curvature is a valid direction (like momentum_iteration_matrix)."""
    m = analysis.heavy_ball_iteration_matrix(0.1, 0.5, -2.0)
    np.testing.assert_allclose(m, [[1.7, -0.5], [1.0, 0.0]], rtol=1e-15)


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------

CURVATURE_FUNCS = {
    "momentum_eigenvalues": lambda c: analysis.momentum_eigenvalues(0.1, 0.5, c),
    "momentum_spectral_radius": lambda c: analysis.momentum_spectral_radius(0.1, 0.5, c),
    "momentum_stability_limit": lambda c: analysis.momentum_stability_limit(0.5, c),
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
@pytest.mark.parametrize("bad", ["steep", True])
def test_curvatures_of_the_wrong_kind_raise_type_error(name, bad):
    """Curvatures that are not numbers (a bool included) raise TypeError naming `curvatures`."""
    with pytest.raises(TypeError, match="curvatures"):
        CURVATURE_FUNCS[name](bad)


@pytest.mark.parametrize("bad, error", [(np.nan, ValueError), (np.inf, ValueError),
                                        ("steep", TypeError)])
@pytest.mark.parametrize("call", [
    lambda c: analysis.momentum_iteration_matrix(0.1, 0.5, c),
    lambda c: analysis.momentum_regime(0.1, 0.5, c),
], ids=["iteration_matrix", "regime"])
def test_unusable_curvature_raises(call, bad, error):
    """A non-finite curvature raises ValueError, a non-numeric one TypeError, naming `curvature`."""
    with pytest.raises(error, match="curvature"):
        call(bad)


def test_momentum_regime_rejects_a_non_positive_curvature():
    """momentum_regime asks about a direction of positive curvature."""
    with pytest.raises(ValueError, match="curvature"):
        analysis.momentum_regime(0.1, 0.5, np.array([1.0, 0.0]))


@pytest.mark.parametrize("call", [
    lambda lr: analysis.momentum_iteration_matrix(lr, 0.5, 1.0),
    lambda lr: analysis.momentum_eigenvalues(lr, 0.5, CURV),
    lambda lr: analysis.momentum_spectral_radius(lr, 0.5, CURV),
    lambda lr: analysis.momentum_regime(lr, 0.5, 1.0),
    lambda lr: analysis.heavy_ball_iteration_matrix(lr, 0.5, 1.0),
], ids=["iteration_matrix", "eigenvalues", "spectral_radius", "regime", "heavy_ball_step"])
@pytest.mark.parametrize("lr", [0.0, -0.1, np.inf, np.nan, np.array([0.1, -0.1])])
def test_bad_lr_raises_value_error(call, lr):
    """lr (or the heavy-ball step) ≤ 0 or non-finite, also one bad entry in an array, raises
    ValueError naming it."""
    with pytest.raises(ValueError, match="lr|step"):
        call(lr)


@pytest.mark.parametrize("call", [
    lambda b: analysis.momentum_iteration_matrix(0.1, b, 1.0),
    lambda b: analysis.momentum_eigenvalues(0.1, b, CURV),
    lambda b: analysis.momentum_spectral_radius(0.1, b, CURV),
    lambda b: analysis.momentum_regime(0.1, b, 1.0),
    lambda b: analysis.momentum_critical_lr(b, 1.0),
    lambda b: analysis.momentum_stability_limit(b, CURV),
    lambda b: analysis.heavy_ball_iteration_matrix(0.1, b, 1.0),
], ids=["iteration_matrix", "eigenvalues", "spectral_radius", "regime", "critical_lr",
        "stability_limit", "heavy_ball"])
@pytest.mark.parametrize("beta", [1.0, 1.5, -0.1, np.nan])
def test_bad_beta_raises_value_error(call, beta):
    """beta outside [0, 1) (β = 1 included) raises ValueError naming `beta`."""
    with pytest.raises(ValueError, match="beta"):
        call(beta)


def test_non_numeric_hyperparameters_raise_type_error():
    """A string lr or beta raises TypeError naming the argument."""
    with pytest.raises(TypeError, match="lr"):
        analysis.momentum_spectral_radius("fast", 0.5, CURV)
    with pytest.raises(TypeError, match="beta"):
        analysis.momentum_spectral_radius(0.1, "heavy", CURV)


# --------------------------------------------------------------------------
# Nesterov: Momentum(nesterov=True) on a quadratic
# --------------------------------------------------------------------------
# Derivation used here (independently of the library): Nesterov's method with step a,
# y_t = w_t + β(w_t − w_{t−1}), w_{t+1} = y_t − aλ y_t along a direction of curvature λ
# (minimum at 0), gives w_{t+1} = (1 − aλ)((1 + β)w_t − βw_{t−1}). optlib's Nesterov
# visits y_t, a fixed linear combination of w_t and w_{t−1}, so its points obey the same
# linear recurrence. Its characteristic polynomial σ² − (1+β)qσ + βq, q = 1 − aλ, is
# 1 + (1 + 2β)q at σ = −1: zero at aλ = 2(1+β)/(1+2β).


def nesterov_points_1d(lr, beta, lam, w0, steps):
    """optlib.Momentum(nesterov=True) on f(w) = ½λw², started at w0: the points w_0..w_steps."""
    opt = optlib.Momentum(lr=lr, beta=beta, nesterov=True)
    w = np.array([w0], dtype=float)
    out = [w[0]]
    for _ in range(steps):
        opt.step(w, lam * w)
        out.append(w[0])
    return np.array(out)


def nesterov_radius_by_roots(lr, beta, curvatures):
    a = lr * (1.0 - beta)
    return max(np.abs(np.roots([1.0, -(1.0 + beta) * (1.0 - a * lam), beta * (1.0 - a * lam)])).max()
               for lam in curvatures)


@pytest.mark.parametrize("lr, beta, lam", [(0.1, 0.6, 25.0), (0.5, 0.9, 3.0), (0.2, 4 / 9, 1.0),
                                           (0.05, 0.3, 10.0), (0.2, 4 / 9, 25.0)])
def test_nesterov_points_obey_the_scalar_recurrence(lr, beta, lam):
    """optlib's Nesterov points satisfy e_{t+1} = (1+β)(1−aλ)e_t − β(1−aλ)e_{t−1}, a = α(1−β),
    from the first step on (started from rest); heavy ball's recurrence does not fit them."""
    e = nesterov_points_1d(lr, beta, lam, 1.5, 40)
    a = lr * (1.0 - beta)
    q = 1.0 - a * lam
    predicted = (1.0 + beta) * q * e[1:-1] - beta * q * e[:-2]
    scale = np.abs(e).max()
    np.testing.assert_allclose(e[2:], predicted, rtol=0, atol=1e-12 * scale)
    heavy = (1.0 + beta - a * lam) * e[1:-1] - beta * e[:-2]
    assert np.abs(e[2:] - heavy).max() > 1e-3 * scale
    assert e[1] == pytest.approx((1.0 - lr * (1.0 - beta) * (1.0 + beta) * lam) * e[0], rel=1e-12)


@pytest.mark.parametrize("lr, beta", [(0.1, 0.6), (0.1, 0.8), (0.05, 0.5), (0.14, 0.63), (0.02, 0.9)])
def test_nesterov_spectral_radius_is_the_roots_and_the_measured_rate(lr, beta):
    rho = analysis.nesterov_spectral_radius(lr, beta, CURV)
    assert rho == pytest.approx(nesterov_radius_by_roots(lr, beta, CURV), rel=1e-12)
    q = Quadratic(curvatures=CURV, angle=0.4)
    steps = int(575.0 / -math.log(rho))
    tr = optlib.run(optlib.Momentum(lr=lr, beta=beta, nesterov=True), q, q.start, steps)
    assert tr.diverged is False
    assert fitted_rate(tr.distances(), skip=100, floor=1e-250) == pytest.approx(rho, abs=2e-3)


def test_nesterov_spectral_radius_broadcasts_and_differs_from_heavy_ball():
    lr = np.array([[0.05], [0.1]])
    beta = np.array([0.3, 0.6, 0.9])
    rho = analysis.nesterov_spectral_radius(lr, beta, CURV)
    assert rho.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert rho[i, j] == pytest.approx(nesterov_radius_by_roots(lr[i, 0], beta[j], CURV))
    # β = 0: both are gradient descent
    assert analysis.nesterov_spectral_radius(0.05, 0.0, CURV) == pytest.approx(
        analysis.gd_rate(0.05, CURV), rel=1e-12)
    assert abs(analysis.nesterov_spectral_radius(0.1, 0.6, CURV)
               - analysis.momentum_spectral_radius(0.1, 0.6, CURV)) > 1e-3


@pytest.mark.parametrize("beta", [0.0, 0.3, 4 / 9, 0.9])
def test_nesterov_stability_limit(beta):
    """α_max = 2(1+β)/((1+2β)(1−β)λ_max): radius 1 there, runs converge just below and
    diverge just above; it is heavy ball's limit divided by 1 + 2β."""
    limit = analysis.nesterov_stability_limit(beta, CURV)
    assert limit == pytest.approx(2 * (1 + beta) / ((1 + 2 * beta) * (1 - beta) * 25.0), rel=1e-12)
    assert limit == pytest.approx(analysis.momentum_stability_limit(beta, CURV) / (1 + 2 * beta))
    assert nesterov_radius_by_roots(limit, beta, CURV) == pytest.approx(1.0, abs=1e-9)
    q = Quadratic(curvatures=CURV)
    runs = optlib.run(optlib.Momentum(lr=np.array([[0.98 * limit], [1.02 * limit]]), beta=beta,
                                      nesterov=True), q, q.start, 3000)
    assert list(runs.diverged) == [False, True]


@pytest.mark.parametrize("kappa", [4.0, 25.0, 89.4, 1000.0])
def test_nesterov_optimal_is_the_grid_minimum_and_slower_than_heavy_ball(kappa):
    """No (a, β) on a fine grid beats the closed-form optimum (rate 1 − 2/√(3κ+1)); the grid's
    best comes close; heavy ball's optimum is faster."""
    best = analysis.nesterov_optimal((1.0, kappa))
    a_star = best.lr * (1 - best.beta)
    assert a_star == pytest.approx(4 / (3 * kappa + 1), rel=1e-12)
    assert best.rate == pytest.approx(nesterov_radius_by_roots(best.lr, best.beta, (1.0, kappa)),
                                      rel=1e-7)   # a double root: np.roots has √ε accuracy
    a = np.geomspace(a_star / 20, 20 * a_star, 700)[:, None]
    beta = np.linspace(0.0, 0.999, 700)[None, :]

    def radius(lam):
        q = 1 - a * lam
        tr = (1 + beta) * q
        d = np.sqrt((tr * tr - 4 * beta * q).astype(complex))
        return np.maximum(np.abs((tr + d) / 2), np.abs((tr - d) / 2))

    rho = np.maximum(radius(1.0), radius(kappa))
    assert rho.min() >= best.rate - 1e-12
    assert rho.min() == pytest.approx(best.rate, abs=3e-3)
    assert best.rate > analysis.momentum_optimal((1.0, kappa)).rate
