"""Chapter 2's exercise checks: right answers pass, wrong and malformed ones fail politely,
and every expected answer agrees with an independent computation (a simulation with
``optlib.run`` or ``optlib.Momentum``, or numpy linear algebra on a matrix built here)."""

from __future__ import annotations

import math

import numpy as np

from optlib import Momentum, run
from optlib.exercises import check, exercises
from optlib.exercises import ch02
from optlib.objectives import LinearRegression, Quadratic

IDS = ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")


def _hand_optimum(lam_min, lam_max):
    """Polyak's optimum from the formulas of the chapter, converted to the EMA form."""
    kappa = lam_max / lam_min
    beta = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    step = 4 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2
    return step / (1 - beta), beta


def _line_fit_curvatures():
    """Eigenvalues of the line fit's Hessian [[mean x², mean x], [mean x, 1]], built here."""
    f = LinearRegression()
    h = np.array([[np.mean(f.x ** 2), np.mean(f.x)], [np.mean(f.x), 1.0]])
    return tuple(np.linalg.eigvalsh(h))


def _iteration_matrix(lr, beta, lam):
    """Momentum's matrix on (w, v): v' = βv + (1−β)λw, w' = w − αv'."""
    return np.array([[1 - lr * (1 - beta) * lam, -lr * beta], [(1 - beta) * lam, beta]])


# Answers worked out by hand from the formulas of the chapter (not by optlib).
RIGHT = {
    "2.1": 1 / (1 - 0.98),                              # 50 steps
    "2.2": 1 - 0.9 ** 5,                                # 0.40951
    "2.3": (1.45 + math.sqrt(1.45 ** 2 - 2)) / 2,       # flat direction: T = 1.5 − 0.05
    "2.4": "oscillating",                               # α(1−β)λ = 2.4375 ∈ (2.25, 2.5)
    "2.5": 2 * 1.9 / (0.1 * 25),                        # 2(1+β)/((1−β)λ_max) = 1.52
    "2.6": (9 / 11) ** 2,                               # ((10−1)/(10+1))²
    "2.7": _hand_optimum(*_line_fit_curvatures()),
}


def test_numeric_answers_accept_rounding_and_order_matters():
    assert check("2.1", 50).correct
    assert check("2.2", 0.4095).correct
    assert check("2.3", 0.885).correct
    assert check("2.6", 0.669).correct
    assert check("2.7", (1.11, 0.654)).correct
    assert check("2.7", np.array([1.108, 0.6539])).correct
    assert not check("2.7", (0.654, 1.108)).correct          # α first, then β


# --------------------------------------------------------------------------- independent checks


def test_2_1_window_is_the_mean_age_of_the_weights():
    # Σ_{k≥0} (k+1)(1−β)βᵏ = 1/(1−β): the average age of the averaged gradients.
    beta = ch02.WINDOW_BETA
    k = np.arange(20000)
    mean_age = np.sum((k + 1) * (1 - beta) * beta ** k)
    assert math.isclose(exercises()["2.1"].expected(), mean_age, rel_tol=1e-9)


def test_2_2_momentum_buffer_after_constant_gradients():
    w = np.zeros(1)
    opt = Momentum(lr=0.1, beta=ch02.BIAS_BETA)
    for _ in range(ch02.BIAS_STEPS):
        opt.step(w, np.ones(1))
    assert math.isclose(exercises()["2.2"].expected(), opt.state["momentum_buffer"][0],
                        rel_tol=1e-12)


def test_2_3_measured_rate_of_a_run_agrees():
    bowl = Quadratic()
    traj = run(Momentum(lr=ch02.RATE_LR, beta=ch02.RATE_BETA), bowl, bowl.start, 300)
    expected = exercises()["2.3"].expected()
    assert abs(traj.rate(skip=30) - expected) < 1e-3
    eig = [np.abs(np.linalg.eigvals(_iteration_matrix(ch02.RATE_LR, ch02.RATE_BETA, lam))).max()
           for lam in bowl.curvatures]
    assert math.isclose(max(eig), expected, rel_tol=1e-9)


def test_2_4_simulated_steep_coordinate_flips_sign_and_shrinks():
    bowl = Quadratic()
    traj = run(Momentum(lr=ch02.REGIME_LR, beta=ch02.REGIME_BETA), bowl, [0.0, 1.5], 60)
    w2 = traj.points[:, 1]
    assert not traj.diverged
    assert np.all(np.sign(w2[11:]) == -np.sign(w2[10:-1]))     # after a transient
    assert abs(w2[-1]) < 1e-2 * abs(w2[0])
    sig = np.linalg.eigvals(_iteration_matrix(ch02.REGIME_LR, ch02.REGIME_BETA,
                                              ch02.REGIME_CURVATURE))
    assert np.all(np.isreal(sig)) and np.all(sig.real < 0) and np.all(np.abs(sig) < 1)
    assert exercises()["2.4"].expected() == "oscillating"


def test_2_5_simulation_just_below_the_limit_converges_just_above_diverges():
    bowl = Quadratic()
    limit = exercises()["2.5"].expected()
    lrs = np.array([0.99 * limit, 1.01 * limit])[:, None]
    traj = run(Momentum(lr=lrs, beta=ch02.LIMIT_BETA), bowl, bowl.start, 3000)
    d = traj.distances()
    assert not traj.diverged[0] and d[-1, 0] < 1e-6 * d[0, 0]
    assert traj.diverged[1]


def test_2_6_optimal_beta_minimises_the_spectral_radius_on_a_grid():
    lam = np.array(ch02.OPTIMAL_CURVATURES)
    lrs = np.geomspace(0.005, 0.2, 400)
    betas = np.linspace(0.0, 0.95, 381)                       # step 0.0025
    radius = np.full((lrs.size, betas.size), np.inf)
    for i, lr in enumerate(lrs):
        a = lr * (1 - betas)[:, None] * lam                   # (β, λ)
        trace = 1 + betas[:, None] - a
        disc = np.sqrt((trace ** 2 - 4 * betas[:, None]).astype(complex))
        sig = np.maximum(np.abs((trace + disc) / 2), np.abs((trace - disc) / 2))
        radius[i] = sig.max(axis=1)
    i, j = np.unravel_index(np.argmin(radius), radius.shape)
    assert abs(betas[j] - exercises()["2.6"].expected()) < 0.01
    assert abs(radius[i, j] - math.sqrt(exercises()["2.6"].expected())) < 0.01


def test_2_7_line_fit_optimum_agrees_with_hand_formula_and_simulation():
    lr, beta = exercises()["2.7"].expected()
    np.testing.assert_allclose((lr, beta), _hand_optimum(*_line_fit_curvatures()), rtol=1e-9)
    f = LinearRegression()
    best = run(Momentum(lr=lr, beta=beta), f, f.start, 300)
    # The optimum is critically damped (double eigenvalue): the fitted rate sits a little
    # above √β* but clearly below every other (α, β) probed nearby.
    others = run(Momentum(lr=np.array([0.7 * lr, 1.3 * lr, lr, lr])[:, None],
                          beta=np.array([beta, beta, 0.8 * beta, min(0.95, 1.2 * beta)])[:, None]),
                 f, f.start, 300)
    assert best.rate(skip=50) < np.nanmin(others.rate(skip=50))
    assert abs(best.rate(skip=50) - math.sqrt(beta)) < 0.02


def test_hand_computed_answers_pass():
    """The answers worked out by hand above are accepted by the checks (computed by optlib)."""
    for exercise_id, answer in RIGHT.items():
        assert check(exercise_id, answer).correct, exercise_id
