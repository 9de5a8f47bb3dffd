"""Chapter 6's qualitative claims, recomputed independently of the optlib functions that print
them: the noise floor from a plain numpy simulation and from a Lyapunov solve written here, the
expected loss under a schedule from a recursion written here, Adam and schedule-free SGD written
again in numpy, and the network's verdicts from the chapter's stored outputs (the computations
printed them; nbval keeps the outputs equal to a fresh run)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "06_noise_schedules.ipynb"
LAM = np.array([1.0, 25.0])           # chapter 1's bowl
START = np.array([-8.0, 1.5])


# --------------------------------------------------------------------------- plain numpy

def floor_gd(a, lam, s):
    """ασ²/(2(2 − αλ)) from V = (1 − αλ)²V + α²σ² (the scalar Lyapunov equation)."""
    return lam / 2 * (a**2 * s**2 / (1 - (1 - a * lam) ** 2))


def floor_momentum(a, lam, s, beta):
    """The floor of EMA momentum from a 3×3 linear solve of P = A P Aᵀ + σ² b bᵀ."""
    A = np.array([[1 - a * (1 - beta) * lam, -a * beta], [(1 - beta) * lam, beta]])
    b = np.array([-a * (1 - beta), 1 - beta])
    # vec(P) = (I − A⊗A)⁻¹ σ² vec(b bᵀ)
    P = np.linalg.solve(np.eye(4) - np.kron(A, A), s**2 * np.outer(b, b).ravel()).reshape(2, 2)
    return lam / 2 * P[0, 0]


def final_expected(peak, mu, s, lam=LAM, u0=START):
    """E[f(w_T)] − f* of gradient descent under the multipliers mu, and its two terms."""
    total_d, total_v = 0.0, 0.0
    for l, w in zip(lam, u0):
        mean, var = w, 0.0
        for m in mu:
            r = 1 - peak * m * l
            mean, var = r * mean, r * r * var + (peak * m) ** 2 * s**2
        total_d += l / 2 * mean**2
        total_v += l / 2 * var
    return total_d + total_v, total_d, total_v


def multipliers(T):
    t = np.arange(1, T + 1)
    W = max(1, T // 10)
    every = -(-T // 3)
    cos = lambda n, k: 0.5 * (1 + np.cos(np.pi * np.minimum(k - 1, n) / n))
    return {"constant": np.ones(T),
            "step decay": 0.1 ** ((t - 1) // every),
            "cosine": cos(T, t),
            "linear to zero": 1 - np.minimum(t - 1, T) / T,
            "warmup + cosine": np.where(t <= W, t / W, cos(T - W, np.maximum(t - W, 1)))}


def stored_text(i):
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    return "".join("".join(o.get("text", "")) for o in nb["cells"][i]["outputs"])


def cell_printing(fragment):
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code" and fragment in stored_text(i):
            return stored_text(i)
    raise AssertionError(f"no cell prints {fragment!r}")


# --------------------------------------------------------------------------- the floor

def test_the_floor_is_exact_and_its_small_alpha_form_is_curvature_free():
    rng = np.random.default_rng(123)
    a, s, R = 0.02, 1.0, 4000
    w = np.zeros((R, 2))
    acc, n = np.zeros(2), 0
    for t in range(1, 801):
        w = w - a * (LAM * w + s * rng.standard_normal((R, 2)))
        if t > 200:
            acc += (LAM / 2 * w**2).mean(axis=0)
            n += 1
    sim = acc / n
    exact = floor_gd(a, LAM, s)
    assert np.allclose(sim, exact, rtol=0.03)          # Monte Carlo error ≈ 1 %
    # the small-α form: the ratio to ασ²/4 tends to 1 for every curvature
    for lam in (0.1, 1.0, 25.0, 400.0):
        assert abs(floor_gd(1e-6 / lam, lam, 1.0) / (1e-6 / lam / 4) - 1) < 1e-5
    # the exact floor of the steep direction at α = 0.02 is a third above the form (the prose)
    assert math.isclose(exact[1] / (a / 4), 4 / 3, rel_tol=1e-12)
    # α = 0.005 has a floor more than four times lower than α = 0.02's (the figure's two runs)
    assert sum(floor_gd(0.02, l, s) for l in LAM) / sum(floor_gd(0.005, l, s) for l in LAM) > 4


def test_optlib_floor_agrees_with_the_lyapunov_solve():
    from optlib import analysis
    for beta in (0.0, 0.5, 0.9):
        for a in (0.005, 0.02, 0.07):
            for lam in LAM:
                assert math.isclose(analysis.noise_floor(a, lam, 1.0, beta=beta),
                                    floor_momentum(a, lam, 1.0, beta), rel_tol=1e-10)


def test_momentum_at_the_same_alpha_is_never_higher_and_ten_times_at_the_same_step():
    for a in np.linspace(0.001, 0.079, 60):
        gd = sum(floor_gd(a, l, 1.0) for l in LAM)
        mo = sum(floor_momentum(a, l, 1.0, 0.9) for l in LAM)
        assert mo <= gd
    ratio = lambda a: sum(floor_momentum(a, l, 1.0, 0.9) for l in LAM) / sum(floor_gd(a, l, 1.0) for l in LAM)
    assert ratio(0.07) < 0.25                              # "less than a quarter"
    hb = lambda a: sum(floor_momentum(a / 0.1, l, 1.0, 0.9) for l in LAM) / sum(floor_gd(a, l, 1.0) for l in LAM)
    assert all(9.5 < hb(a) < 10.5 for a in (0.005, 0.01))   # "about ten times for small α"


def test_adam_floor_grows_like_sigma():
    """Adam written again in numpy; started at the minimum, as in the chapter."""
    def adam_floor(s, R=400, T=3000, a=0.01, b1=0.9, b2=0.999, seed=7):
        rng = np.random.default_rng(seed)
        w, v, q = np.zeros((R, 2)), np.zeros((R, 2)), np.zeros((R, 2))
        acc, n = np.zeros(2), 0
        for t in range(1, T + 1):
            g = LAM * w + s * rng.standard_normal((R, 2))
            v = b1 * v + (1 - b1) * g
            q = b2 * q + (1 - b2) * g * g
            w = w - a * (v / (1 - b1**t)) / (np.sqrt(q / (1 - b2**t)) + 1e-8)
            if t > 1000:
                acc += (LAM / 2 * w**2).mean(axis=0)
                n += 1
        return acc / n
    f1, f2 = adam_floor(1.0), adam_floor(2.0)
    assert np.all(np.abs(f2 / f1 - 2) < 0.2)              # doubling σ doubles the floor
    assert np.all(np.abs(f1 / (0.01 * 1.0 / 4) - 1) < 0.1)  # within 10 % of ασ/4


def test_adams_first_step_is_alpha_in_every_coordinate_but_for_epsilon():
    g = np.array([1e-3, 0.5, 40.0])
    v, q = 0.1 * g, 0.001 * g * g                      # v₁, s₁ with β₁ = 0.9, β₂ = 0.999
    step = 0.01 * (v / 0.1) / (np.sqrt(q / 0.001) + 1e-8)
    assert np.allclose(np.abs(step), 0.01 * np.abs(g) / (np.abs(g) + 1e-8), rtol=1e-12)
    assert np.allclose(np.abs(step), 0.01, rtol=1e-4)   # α, whatever the gradient


def adam_step_lengths(scale, warmup=0, T=300, n=20_000, a=1e-3, b1=0.9, b2=0.999, seed=11):
    """RMS length / α of each step of Adam (written again in numpy) on pure-noise gradients."""
    rng = np.random.default_rng(seed)
    v, q = np.zeros(n), np.zeros(n)
    out = np.empty(T)
    for t in range(1, T + 1):
        g = scale * rng.standard_normal(n)
        v = b1 * v + (1 - b1) * g
        q = b2 * q + (1 - b2) * g * g
        mu = min(1.0, t / warmup) if warmup else 1.0
        step = a * mu * (v / (1 - b1**t)) / (np.sqrt(q / (1 - b2**t)) + 1e-8)
        out[t - 1] = np.sqrt(np.mean(step**2)) / a
    return out


def test_adams_early_steps_on_noise_are_long_whatever_the_gradient_size_and_warmup_removes_it():
    """The prose after the step-length table: the first step has length α for σ = 0.01 and
    σ = 1; the steps shrink to √((1−β₁)/(1+β₁))·α, more than 4 times shorter; gradient descent's
    steps have length ασ throughout; a 20-step warmup's longest step is where it ends, barely
    above the steady length."""
    big, small = adam_step_lengths(1.0), adam_step_lengths(0.01)
    warm = adam_step_lengths(1.0, warmup=20)
    assert big[0] == pytest.approx(1.0, rel=1e-6) and small[0] == pytest.approx(1.0, rel=1e-5)
    assert np.allclose(big, small, rtol=1e-4)                  # the same, whatever σ
    assert np.all(np.diff(big[:20]) < 0)                       # the steps shrink ...
    steady = big[199:].mean()
    assert steady == pytest.approx(math.sqrt(0.1 / 1.9), rel=0.02)   # ... to this length
    assert big[0] / steady > 4.3
    assert int(np.argmax(warm)) + 1 == 20 and warm.max() < 1.2 * steady
    rng = np.random.default_rng(3)                             # gradient descent: ασ, always
    for s in (1.0, 0.01):
        lengths = [np.sqrt(np.mean((s * rng.standard_normal(20_000)) ** 2)) for _ in range(50)]
        assert np.allclose(lengths, s, rtol=0.03)


# --------------------------------------------------------------------------- batch size

def steps_to_target(B, s1=4.0, target=0.01, T=8000):
    """Fewest steps over the chapter's grid of α, from the closed form for a constant α."""
    lrs = np.geomspace(1e-4, 0.0799, 240)
    t = np.arange(T + 1)
    s2 = s1**2 / B
    E = 0.0
    for l, u in zip(LAM, START):
        r2 = (1 - lrs[:, None] * l) ** 2
        E = E + l / 2 * (u**2 * r2**t + s2 * lrs[:, None] ** 2 * (1 - r2**t) / (1 - r2))
    reached = E <= target
    steps = np.where(reached.any(axis=1), reached.argmax(axis=1), np.iinfo(int).max)
    k = int(np.argmin(steps))
    return lrs[k], int(steps[k])


def test_linear_scaling_holds_for_small_batches_and_stops_at_the_limit():
    table = {B: steps_to_target(B) for B in (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096)}
    S = {B: s for B, (_, s) in table.items()}
    lr = {B: a for B, (a, _) in table.items()}
    for B in (1, 2, 4):                                    # each doubling halves the steps
        assert 0.45 < S[2 * B] / S[B] < 0.55
        assert 1.8 < lr[2 * B] / lr[B] < 2.2               # and doubles the best α
    E_min, S_min = min(B * s for B, s in S.items()), min(S.values())
    assert max(B * S[B] for B in (1, 2, 4, 8)) / E_min - 1 <= 0.06
    assert all(lr[B] > 0.05 for B in (128, 256, 1024, 4096))     # against the limit 0.08
    assert S[4096] / S[128] > 0.6                           # the steps hardly fall past 64
    assert round(E_min / S_min) == 88


# --------------------------------------------------------------------------- schedules

def test_linear_decay_is_lowest_and_the_split_explains_it():
    T, grid = 200, np.round(np.arange(1, 80) * 0.001, 3)
    mus = multipliers(T)
    best = {}
    for name, mu in mus.items():
        finals = [final_expected(a, mu, 1.0)[0] for a in grid]
        k = int(np.argmin(finals))
        best[name] = (grid[k], *final_expected(grid[k], mu, 1.0))
    loss = {n: b[1] for n, b in best.items()}
    assert min(loss, key=loss.get) == "linear to zero"
    assert max(loss["cosine"], loss["warmup + cosine"]) / loss["linear to zero"] - 1 < 0.08
    assert loss["constant"] / loss["linear to zero"] > 3
    assert all(b[2] < b[3] for b in best.values())         # distance below variance
    assert min(best[n][0] for n in mus if n != "constant") / best["constant"][0] > 2
    assert best["step decay"][3] > best["cosine"][3]
    assert best["step decay"][0] == 0.079                  # the edge of the grid
    for n in mus:                                          # far below the peak α's floor
        if n != "constant":
            assert best[n][1] < 0.5 * sum(floor_gd(best[n][0], l, 1.0) for l in LAM)


def test_schedule_free_comes_close_but_not_monotone_in_alpha():
    """Schedule-free SGD written again in numpy, with other noise draws than the chapter's."""
    def sf(a, R=3000, T=200, beta=0.9, seed=11):
        rng = np.random.default_rng(seed)
        z = np.tile(START, (R, 1)); x = z.copy(); y = z.copy()
        for t in range(1, T + 1):
            g = LAM * y + rng.standard_normal((R, 2))
            z = z - a * g
            x = (1 - 1 / t) * x + z / t
            y = (1 - beta) * z + beta * x
        return (LAM / 2 * x**2).sum(axis=1).mean()
    best_linear = min(final_expected(a, multipliers(200)["linear to zero"], 1.0)[0]
                      for a in np.round(np.arange(1, 80) * 0.001, 3))
    at_02, at_025 = sf(0.02), sf(0.025)
    assert at_02 / best_linear - 1 < 0.10
    assert at_025 > 5 * at_02 and sf(0.015) > 5 * at_02      # "a grid step away ... many times"
    # "linear decay to zero is ... the more forgiving choice": a broad minimum, within 10 % of
    # its best over peak α = 0.055 ... 0.075
    broad = [final_expected(a, multipliers(200)["linear to zero"], 1.0)[0]
             for a in np.round(np.arange(55, 76) * 0.001, 3)]
    assert max(broad) < 1.10 * best_linear


# --------------------------------------------------------------------------- the network

def test_the_network_verdicts_printed_by_the_chapter():
    text = cell_printing("lowest mean validation loss")
    assert "lowest mean validation loss: constant" in text
    assert "no schedule's mean test accuracy is above the constant rate's: True" in text
    assert "no chosen cell and no test run is erratic: True" in text
    assert "more than 4 times its loss at α = 1: True" in text
    rows = re.findall(r"\n(constant|step decay|cosine|linear to zero|warmup \+ cosine)\s+"
                      r"([\d.]+)\s+([\d.]+)\s+([\d.]+|erratic)\s+([\d.]+)", text)
    assert len(rows) == 5
    for name, at_071, at_1, at_141, chosen in rows:        # 1.41 worse than 1, for every one
        assert float(chosen) == 1
        assert (name == "constant" and at_141 == "erratic") or float(at_141) > float(at_1)
    batch = cell_printing("chosen α   its loss")
    table = re.findall(r"\n\s*(\d+)\s+\d+\s+((?:\S+\s+){5})([\d.]+)", batch)
    chosen = {int(b): float(a) for b, _, a in table}
    assert chosen == {16: 0.25, 64: 1.0, 256: 1.0}         # fourfold from 16 to 64, then no more
    assert "no chosen cell is erratic: True" in batch
    assert "ends within 20 % of ln 10 = 2.303, the loss of guessing: True" in batch
    # "Two cells read erratic ... Both lie beyond the chosen rates."
    grid = [0.125, 0.25, 0.5, 1.0, 2.0]
    erratic = [(int(b), grid[i]) for b, cells, _ in table
               for i, cell in enumerate(cells.split()) if cell == "erratic"]
    assert len(erratic) == 2 and all(rate > chosen[b] for b, rate in erratic)
