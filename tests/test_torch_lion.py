"""Cross-check optlib.Lion against lion_pytorch.Lion, lucidrains' torch implementation of
Chen et al.'s update (optional: skipped without torch or lion_pytorch; ``make torch``).

torch.optim has no Lion. lion_pytorch's ``update_fn`` (version 0.2.5, the class the package
exports), in torch's names (the book writes the buffer v and the decay δ):

* ``p *= 1 - lr*wd`` (the decay first, with the group's current, i.e. scheduled, lr);
* ``update = sign(beta1*exp_avg + (1-beta1)*grad)``; ``p += -lr*update``;
* ``exp_avg = beta2*exp_avg + (1-beta2)*grad``.

This is the contract's w ← w − α(sign(c) + δw), v ← β₂v + (1−β₂)g, computed in optlib's
order (decay first, then the sign step), with ``torch.sgn`` giving sign(0) = 0 as optlib does.
Its defaults (lr 1e-4, betas (0.9, 0.99), weight_decay 0) are optlib's. Its flag
``decoupled_weight_decay=True`` is another parametrisation: the decay becomes
1 − α_t·wd/α (wd divided by the initial lr), which is optlib's δ = wd/α.

Both libraries run STEPS steps on the same problem: for each array, the gradient ``W S +
noise_t`` at each library's *current* point (S symmetric positive definite on the last axis),
times a mask of exact zeros (one coordinate always, about 30% of the others at each step), so
that the trajectories feed back and the interpolation c is exactly 0 at many coordinates.
A sign that came out differently would move a coordinate by 2α: the runs agree to rounding or
not at all. torch's ``add(grad, alpha=1-beta)`` is fused (β·v + (1−β)·g rounded once, as a
fused multiply-add; compared with exact rational arithmetic), optlib rounds (1−β)·g first,
so the buffers differ in the last bit; the decay (one product) and the sign step
(p − α·(±1 or 0)) round alike, so the parameters do not. Measured here (torch 2.13, lion_pytorch
0.2.5, every case below, gradient entries of order 1): the parameters identical to the last bit
in float64 and float32, with decay or not; the buffers within 8.9e-16 (float64) and 1.8e-7
(float32); c exactly 0 at 1.4 to 39% of the coordinate-steps. Under the cosine schedule the
learning rates differ by at most 3.5e-18 (torch's cosine is computed recursively, ours in closed
form) and the parameters by at most 4.4e-16 in float64 (identical in float32).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from optlib.optimizers import Lion
from optlib.schedules import Cosine

torch = pytest.importorskip(
    "torch", reason="torch is not installed; the cross-check against lion_pytorch needs it "
                    "(optional: make torch)")
lion_pytorch = pytest.importorskip(
    "lion_pytorch", reason="lion_pytorch is not installed; the cross-check of optlib.Lion needs "
                           "it (optional: make torch)")

STEPS = 30
# each case is a list of parameter shapes (several arrays in one optimizer, as a network's)
SHAPES = {"vector": [(9,)], "matrix": [(4, 6)], "network": [(5, 3), (3,), (3, 2), (2,)],
          "tensor3": [(2, 3, 4)], "matrix_64x48": [(64, 48)]}
BETAS = {"defaults": (0.9, 0.99), "paper_lm": (0.95, 0.98), "sign_descent": (0.0, 0.0),
         "half_no_average": (0.5, 0.0), "beta2_below_beta1": (0.99, 0.9)}


def problem(shapes, seed=0):
    """Per array: a start, S (SPD on the last axis), noise per step and the mask of zeros."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        n = shape[-1]
        a = rng.normal(size=(n, n))
        mask = rng.random(size=(STEPS, *shape)) >= 0.3
        mask[(slice(None), *([0] * (len(shape) - 1)), 0)] = False     # one coordinate always 0
        arrays.append((rng.normal(size=shape), a.T @ a / n + 0.1 * np.eye(n),
                       0.5 * rng.normal(size=(STEPS, *shape)), mask))
    return arrays


def gradient(w, s, noise, mask):
    return (w @ s + noise) * mask


def run_both(shapes, *, lr=0.01, betas=(0.9, 0.99), weight_decay=0.0, dtype=np.float64,
             schedule=None, reference=None, steps=STEPS):
    """Step optlib and lion_pytorch side by side (lion_pytorch's ``Lion(params, lr, betas,
    weight_decay)`` unless ``reference(params)`` makes another). ``schedule``: None or
    ``(optlib schedule, torch scheduler for an optimizer)``, the scheduler stepped after each
    optimizer step and the learning rates compared before each. Returns the largest
    differences of the parameters, the buffers and the learning rates, the distance moved,
    and the fraction of coordinate-steps where c was exactly 0."""
    arrays = problem(shapes)
    w0 = [w.astype(dtype) for w, _, _, _ in arrays]
    ours = Lion(lr=lr, beta1=betas[0], beta2=betas[1], weight_decay=weight_decay,
                schedule=None if schedule is None else schedule[0])
    tparams = [torch.nn.Parameter(torch.tensor(w.copy())) for w in w0]
    theirs = (lion_pytorch.Lion(tparams, lr=lr, betas=betas, weight_decay=weight_decay)
              if reference is None else reference(tparams))
    scheduler = None if schedule is None else schedule[1](theirs)
    params = [w.copy() for w in w0]
    worst_w = worst_v = worst_lr = 0.0
    zero_c = total = 0
    for t in range(steps):
        if scheduler is not None:
            worst_lr = max(worst_lr, abs(theirs.param_groups[0]["lr"]
                                         - ours.lr * ours.schedule(t + 1)))
        grads, tgrads = [], []
        for (_, s, noise, mask), p, tp in zip(arrays, params, tparams):
            grads.append(gradient(p, s, noise[t], mask[t]).astype(dtype))
            tgrads.append(gradient(tp.detach().numpy(), s, noise[t], mask[t]).astype(dtype))
        for tp, g in zip(tparams, tgrads):             # c from torch's buffer, before its step
            if tp in theirs.state:
                beta1 = theirs.param_groups[0]["betas"][0]
                c = beta1 * theirs.state[tp]["exp_avg"].numpy() + (1 - beta1) * g
            else:
                c = g                                  # v_0 = 0: c_1 = (1 - beta1) g_1
            zero_c += int(np.count_nonzero(c == 0))
            total += c.size
        ours.step(params, grads)
        for tp, g in zip(tparams, tgrads):
            tp.grad = torch.from_numpy(g)
        theirs.step()
        if scheduler is not None:
            scheduler.step()
        for i, (p, tp) in enumerate(zip(params, tparams)):
            assert p.dtype == tp.detach().numpy().dtype == dtype
            worst_w = max(worst_w, float(np.abs(p - tp.detach().numpy()).max()))
            worst_v = max(worst_v, float(np.abs(ours.state[i]["exp_avg"]
                                                - theirs.state[tp]["exp_avg"].numpy()).max()))
    moved = max(float(np.abs(p - w).max()) for p, w in zip(params, w0))
    assert ours.t == steps
    return worst_w, worst_v, worst_lr, moved, zero_c / total


def cosine(final=0.0):
    return (Cosine(STEPS, final),
            lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=STEPS, eta_min=final * opt.param_groups[0]["lr"]))


def test_lion_pytorch_is_the_update_this_file_describes():
    """The reference read: the decay with the group's lr first, then the sign step, then the
    buffer; sgn (sign(0) = 0); optlib's defaults."""
    source = inspect.getsource(lion_pytorch.lion_pytorch.update_fn)
    body = [line.strip() for line in source.splitlines()
            if line.strip() and not line.strip().startswith("#")]
    assert body[1:] == [
        "p.data.mul_(1. - lr * wd)",
        "update = exp_avg.clone().mul_(beta1).add(grad, alpha = 1. - beta1).sgn_()",
        "p.add_(update, alpha = -lr)",
        "exp_avg.mul_(beta2).add_(grad, alpha = 1. - beta2)"], body
    assert lion_pytorch.Lion is lion_pytorch.lion_pytorch.Lion
    theirs = {n: p.default for n, p in inspect.signature(lion_pytorch.Lion).parameters.items()}
    ours = {n: p.default for n, p in inspect.signature(Lion).parameters.items()}
    assert (theirs["lr"], theirs["betas"], theirs["weight_decay"]) == (
        ours["lr"], (ours["beta1"], ours["beta2"]), ours["weight_decay"])
    assert torch.sgn(torch.tensor([0.0, -0.0, 2.0, -3.0])).tolist() == [0.0, 0.0, 1.0, -1.0]


@pytest.mark.parametrize("shapes", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("betas", BETAS.values(), ids=BETAS.keys())
@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_lion_matches_lion_pytorch_in_float64(shapes, betas, weight_decay):
    worst_w, worst_v, _, moved, zero_c = run_both(shapes, betas=betas,
                                                  weight_decay=weight_decay)
    assert worst_w == 0.0, worst_w                     # no sign differed, the decay alike
    assert worst_v <= 4e-15, worst_v                   # one fused rounding against two
    assert moved > 0.1                                 # most of the 30 sign steps of 0.01
    assert zero_c > 0.01, zero_c                       # sign(0) = 0 was exercised


def test_lion_matches_lion_pytorch_with_its_defaults():
    """Lion() ≡ lion_pytorch.Lion(params): the same defaults (α = 1e-4) step the same."""
    worst_w, worst_v, _, moved, _ = run_both(
        SHAPES["network"], lr=1e-4, reference=lambda ps: lion_pytorch.Lion(ps))
    assert worst_w == 0.0 and worst_v <= 4e-15 and moved > 1e-3


@pytest.mark.parametrize("betas", [(0.9, 0.99), (0.5, 0.0)], ids=["defaults", "half"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_lion_matches_lion_pytorch_in_float32(betas, weight_decay):
    worst_w, worst_v, _, moved, zero_c = run_both(SHAPES["network"] + [(64, 48)], betas=betas,
                                                  weight_decay=weight_decay, dtype=np.float32)
    assert worst_w == 0.0 and worst_v <= 1e-6, (worst_w, worst_v)
    assert moved > 0.1 and zero_c > 0.01


@pytest.mark.parametrize("final", [0.0, 0.1])
@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lion_matches_lion_pytorch_under_a_cosine_schedule(final, weight_decay, dtype):
    """Cosine(T) against CosineAnnealingLR(T_max=T, eta_min=final·lr) stepped after each
    optimizer step: the scheduled rate enters the sign step and the decay (1 − α_t δ)."""
    worst_w, worst_v, worst_lr, moved, zero_c = run_both(
        SHAPES["network"], weight_decay=weight_decay, dtype=dtype, schedule=cosine(final))
    assert worst_lr <= 1e-17, worst_lr                 # the same learning rate every step
    assert worst_w <= (2e-15 if dtype == np.float64 else 1e-7), worst_w
    assert worst_v <= (4e-15 if dtype == np.float64 else 1e-6), worst_v
    assert moved > 0.05 and zero_c > 0.01
    unscheduled = run_both(SHAPES["network"], weight_decay=weight_decay, dtype=dtype,
                           reference=lambda ps: lion_pytorch.Lion(ps, lr=0.01,
                                                                  weight_decay=weight_decay),
                           schedule=None)
    assert unscheduled[0] == 0.0
    assert moved < unscheduled[3] - 0.05               # the schedule really shortened the steps


def test_a_coordinate_whose_gradient_is_always_zero_only_decays():
    """sign(0) = 0 in both: the coordinate always masked keeps c = 0 and is only multiplied by
    (1 − αδ) each step, in optlib as in lion_pytorch (the value computed here by hand)."""
    lr, wd = 0.01, 0.5
    [(w0, s, noise, mask)] = problem([(4, 6)])
    assert not mask[:, 0, 0].any()
    w, tp = w0.copy(), torch.nn.Parameter(torch.tensor(w0.copy()))
    ours, theirs = Lion(lr=lr, weight_decay=wd), lion_pytorch.Lion([tp], lr=lr, weight_decay=wd)
    expected = w0[0, 0]
    for t in range(STEPS):
        ours.step(w, gradient(w, s, noise[t], mask[t]))
        tp.grad = torch.from_numpy(gradient(tp.detach().numpy(), s, noise[t], mask[t]))
        theirs.step()
        expected *= 1 - lr * wd
        assert w[0, 0] == tp.detach().numpy()[0, 0] == expected
        assert ours.state["exp_avg"][0, 0] == 0.0 == theirs.state[tp]["exp_avg"][0, 0]
        assert np.count_nonzero(w != w0) > 1                # the others moved
    assert abs(w[0, 0] - w0[0, 0]) > 0.05 * abs(w0[0, 0])        # (1 − 0.005)^30 ≈ 0.86


def test_an_exactly_cancelling_interpolation_does_not_move():
    """c = 0 with a nonzero buffer: β₁ = 1/2, β₂ = 0 and g_t = −g_{t−1} give
    c_t = (g_{t−1} + g_t)/2 = 0 exactly from step 2 on: after the first step of α nothing
    moves, in both (a library with sign(0) = ±1 would move α every step)."""
    h = np.array([0.3, -1.7, 2.5, -0.01])
    w0 = np.array([1.0, -2.0, 0.5, 3.0])
    w, tp = w0.copy(), torch.nn.Parameter(torch.tensor(w0.copy()))
    ours = Lion(lr=0.1, beta1=0.5, beta2=0.0)
    theirs = lion_pytorch.Lion([tp], lr=0.1, betas=(0.5, 0.0))
    for t in range(STEPS):
        g = (-1.0) ** t * h
        ours.step(w, g.copy())
        tp.grad = torch.from_numpy(g.copy())
        theirs.step()
        np.testing.assert_array_equal(w, tp.detach().numpy())
        np.testing.assert_array_equal(w, w0 - 0.1 * np.sign(h))
        assert np.all(ours.state["exp_avg"] != 0)


def test_decoupled_weight_decay_flag_is_optlibs_decay_divided_by_the_initial_lr():
    """lion_pytorch's ``decoupled_weight_decay=True`` multiplies by 1 − α_t·wd/α (α the initial
    lr): optlib's δ = wd/α, scheduled or not; with the same number it is a different decay."""
    lr, wd = 0.01, 0.004
    same = run_both(SHAPES["network"], lr=lr, weight_decay=wd / lr, schedule=cosine(0.1),
                    reference=lambda ps: lion_pytorch.Lion(ps, lr=lr, weight_decay=wd,
                                                           decoupled_weight_decay=True))
    assert same[0] <= 2e-15 and same[1] <= 4e-15
    different = run_both(SHAPES["network"], lr=lr, weight_decay=wd,
                         reference=lambda ps: lion_pytorch.Lion(ps, lr=lr, weight_decay=wd,
                                                                decoupled_weight_decay=True))
    assert different[0] > 1e-3


def test_a_wrong_reference_is_caught():
    """The comparison can fail: lion_pytorch with the two betas exchanged, or with the decay
    doubled, moves away from optlib at once (by whole sign steps or the decay's difference)."""
    swapped = run_both(SHAPES["matrix"], betas=(0.9, 0.99),
                       reference=lambda ps: lion_pytorch.Lion(ps, lr=0.01, betas=(0.99, 0.9)))
    assert swapped[0] >= 0.02 - 1e-12                  # at least one sign differed: 2α
    decay = run_both(SHAPES["matrix"], weight_decay=0.5,
                     reference=lambda ps: lion_pytorch.Lion(ps, lr=0.01, weight_decay=1.0))
    assert decay[0] > 1e-3
