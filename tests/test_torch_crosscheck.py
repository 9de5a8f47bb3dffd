"""Cross-check optlib's optimizers against torch.optim in float64.

Each test runs both libraries for STEPS steps on the same problem: the gradient
at the *current* point of a quadratic (so that the trajectories feed back into
the gradients) plus a fixed noise sequence from ``np.random.default_rng(0)``.
Parameters are a list of two arrays (a weight matrix and a bias) so that
multi-parameter handling is exercised as well.

The torch update rules used below, as implemented in torch/optim (single-tensor path), in
torch's names (the book writes the moments v and s, AMSGrad's maximum s_max and weight decay δ):

* SGD: ``buf = g`` on the first step, then ``buf = momentum*buf + (1-dampening)*g``;
  the step is ``lr*buf`` or, with nesterov, ``lr*(g + momentum*buf)``.
* RMSprop: ``s = alpha*s + (1-alpha)*g²``; ``w -= lr*g/(√s + eps)``.
* Adagrad: ``s += g²``; ``w -= lr/(1+(t-1)*lr_decay) * g/(√s + eps)``.
* Adam: optional ``g += λw`` (or ``w *= 1-lr*λ`` when decoupled); ``m``, ``v`` EMAs;
  with amsgrad ``v_max = max(v_max, v)`` is used in place of v; ``w -= lr/(1-β1^t) *
  m/(√v/√(1-β2^t) + eps)``. AdamW is Adam with decoupled weight decay.

The schedules of optlib.schedules are checked against torch.optim.lr_scheduler
(``scheduler.step()`` after each ``optimizer.step()``), driving SGD, SGD with
momentum, Adam and AdamW: the learning rate of every step, the parameters and
the state. ScheduleFreeSGD is checked against the authors' ``schedulefree``
package where it is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlib import Adagrad, Adam, AdamW, GradientDescent, Momentum, RMSprop
from optlib.schedules import Cosine, Linear, StepDecay, Warmup

torch = pytest.importorskip(
    "torch", reason="torch is not installed; the cross-check against torch.optim needs it "
                    "(optional: make torch)")

STEPS = 20
SHAPES = [(2, 3), (3,)]
_rng = np.random.default_rng(0)
_A = _rng.normal(size=(9, 9))
HESSIAN = _A.T @ _A / 9 + 0.1 * np.eye(9)        # SPD, eigenvalues roughly in [0.1, 4]
W0 = [_rng.normal(size=s) for s in SHAPES]
NOISE = 0.5 * _rng.normal(size=(STEPS, 9))


def gradient(flat_w, t):
    """The quadratic's gradient H w plus the noise of step t, as flat float64."""
    return HESSIAN @ flat_w + NOISE[t]


def split(flat):
    return [flat[:6].reshape(2, 3).copy(), flat[6:].copy()]


def run_both(ours, make_torch, state_map=None, steps=STEPS, make_scheduler=None, lr_ratio=1.0,
             rtol=1e-12):
    """Run optlib and torch side by side; after each step compare params and mapped state.

    ``state_map`` maps an optlib buffer name to ``(torch_key, factor)``: optlib's
    buffer must equal ``factor * torch_state[torch_key]``. With ``make_scheduler(topt,
    lr)``, torch's scheduler steps after each ``optimizer.step()``, and the learning rate
    of every step is compared too (torch's is ``lr_ratio`` times optlib's α·μ_t).
    ``rtol``: the relative tolerance of the parameters and the state.
    Returns the parameters, torch's parameters and torch's learning rates.
    """
    params = [w.copy() for w in W0]
    tparams = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float64)) for w in W0]
    topt = make_torch(tparams)
    scheduler = (None if make_scheduler is None
                 else make_scheduler(topt, topt.param_groups[0]["lr"]))
    torch_lrs = []
    for t in range(steps):
        if scheduler is not None:
            torch_lr = topt.param_groups[0]["lr"]
            torch_lrs.append(torch_lr)
            np.testing.assert_allclose(torch_lr, lr_ratio * ours.lr * ours.schedule(t + 1),
                                       rtol=1e-13, atol=1e-17,
                                       err_msg=f"learning rate of step {t + 1}")
        g = gradient(np.concatenate([p.ravel() for p in params]), t)
        tg = gradient(np.concatenate([p.detach().numpy().ravel() for p in tparams]), t)
        ours.step(params, split(g))
        for p, gi in zip(tparams, split(tg)):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        topt.step()
        if scheduler is not None:
            scheduler.step()
        for i, (p, tp) in enumerate(zip(params, tparams)):
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=rtol, atol=1e-13,
                                       err_msg=f"params[{i}] after step {t + 1}")
            for name, (key, factor) in (state_map or {}).items():
                np.testing.assert_allclose(ours.state[i][name],
                                           factor * topt.state[tp][key].numpy(),
                                           rtol=rtol, atol=1e-13,
                                           err_msg=f"state {name} of params[{i}], step {t + 1}")
    assert ours.t == ours.schedule_t == steps
    return params, tparams, torch_lrs


def test_problem_moves_the_parameters():
    """The problem is not degenerate: 20 GD steps move every parameter by a clear amount."""
    params, _, _ = run_both(GradientDescent(lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1))
    for p, w0 in zip(params, W0):
        assert np.min(np.abs(p - w0)) > 1e-3


def test_gradient_descent_is_sgd():
    """GradientDescent(lr) ≡ torch.optim.SGD(lr)."""
    run_both(GradientDescent(lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1))


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy_ball", "nesterov"])
@pytest.mark.parametrize("lr, beta", [(0.2, 0.9), (0.5, 0.5), (0.1, 0.0)])
def test_momentum_is_sgd_with_scaled_lr_and_no_dampening(lr, beta, nesterov):
    """Momentum(α, β) ≡ torch SGD(lr=α(1−β), momentum=β, dampening=0), including step 1.

    torch's buffer b starts at b_1 = g_1 and then b = βb + g; ours v_0 = 0 and
    v = βv + (1−β)g. By induction v_t = (1−β) b_t (v_1 = (1−β)g_1 = (1−β)b_1), so
    α v_t = α(1−β) b_t. Nesterov: torch steps α(1−β)(g + β b_t) = α(1−β)g + αβ v_t,
    which is ours. With β = 0 both are plain gradient descent: torch then keeps no
    buffer and refuses nesterov=True ("requires a momentum"), so it is compared
    with SGD(lr=α) there.
    """
    state_map = {"momentum_buffer": ("momentum_buffer", 1 - beta)} if beta else None
    run_both(Momentum(lr=lr, beta=beta, nesterov=nesterov),
             lambda ps: torch.optim.SGD(ps, lr=lr * (1 - beta), momentum=beta, dampening=0,
                                        nesterov=nesterov and beta > 0),
             state_map)


def test_sgd_with_dampening_differs_by_its_first_step():
    """torch SGD(lr=α, momentum=β, dampening=β) is NOT Momentum(α, β): its buffer starts at g_1,
    not (1−β)g_1, so b_t − v_t = β^t g_1 on the same gradients, and its first move is α g_1."""
    lr, beta = 0.1, 0.9
    ours = Momentum(lr=lr, beta=beta)
    params = [w.copy() for w in W0]
    tparams = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float64)) for w in W0]
    topt = torch.optim.SGD(tparams, lr=lr, momentum=beta, dampening=beta)
    grads = [split(NOISE[t]) for t in range(STEPS)]       # a fixed sequence, same for both
    for t, g in enumerate(grads, start=1):
        ours.step(params, g)
        for p, gi in zip(tparams, g):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        topt.step()
        if t == 1:
            np.testing.assert_allclose(W0[0] - tparams[0].detach().numpy(), lr * g[0],
                                       rtol=1e-12)
            np.testing.assert_allclose(W0[0] - params[0], lr * (1 - beta) * g[0], rtol=1e-12)
        for i, tp in enumerate(tparams):
            np.testing.assert_allclose(
                topt.state[tp]["momentum_buffer"].numpy() - ours.state[i]["momentum_buffer"],
                beta**t * grads[0][i], rtol=1e-9, atol=1e-13)
    assert not np.allclose(params[0], tparams[0].detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("lr, beta, eps", [(0.01, 0.9, 1e-8), (0.05, 0.99, 1e-3),
                                           (0.01, 0.0, 1e-8)])
def test_rmsprop_is_torch_rmsprop(lr, beta, eps):
    """RMSprop(lr, beta, eps) ≡ torch RMSprop(lr, alpha=beta, eps, momentum=0, centered=False)."""
    run_both(RMSprop(lr=lr, beta=beta, eps=eps),
             lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=beta, eps=eps, momentum=0,
                                            centered=False),
             {"square_avg": ("square_avg", 1.0)})


@pytest.mark.parametrize("lr, eps", [(0.1, 1e-10), (0.5, 1e-3)])
def test_adagrad_is_torch_adagrad(lr, eps):
    """Adagrad(lr, eps) ≡ torch Adagrad(lr, eps, initial_accumulator_value=0, lr_decay=0)."""
    run_both(Adagrad(lr=lr, eps=eps),
             lambda ps: torch.optim.Adagrad(ps, lr=lr, eps=eps, initial_accumulator_value=0,
                                            lr_decay=0),
             {"sum_sq": ("sum", 1.0)})


ADAM_STATE = {"exp_avg": ("exp_avg", 1.0), "exp_avg_sq": ("exp_avg_sq", 1.0)}
AMSGRAD_STATE = {**ADAM_STATE, "max_exp_avg_sq": ("max_exp_avg_sq", 1.0)}

ADAM_CASES = {
    "adam_defaults": (lambda: Adam(),
                      lambda ps: torch.optim.Adam(ps), ADAM_STATE),
    "adam": (lambda: Adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6),
             lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6), ADAM_STATE),
    "adam_l2": (lambda: Adam(lr=0.05, weight_decay=0.1),
                lambda ps: torch.optim.Adam(ps, lr=0.05, weight_decay=0.1), ADAM_STATE),
    "adam_amsgrad": (lambda: Adam(lr=0.05, beta1=0.5, beta2=0.6, amsgrad=True),
                     lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.5, 0.6), amsgrad=True),
                     AMSGRAD_STATE),
    "adam_amsgrad_l2": (lambda: Adam(lr=0.05, beta1=0.5, beta2=0.6, weight_decay=0.1,
                                     amsgrad=True),
                        lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.5, 0.6),
                                                    weight_decay=0.1, amsgrad=True),
                        AMSGRAD_STATE),
    "adam_decoupled_vs_adamw": (lambda: Adam(lr=0.05, weight_decay=0.2, decoupled=True),
                                lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.2),
                                ADAM_STATE),
    "adamw_defaults": (lambda: AdamW(),
                       lambda ps: torch.optim.AdamW(ps), ADAM_STATE),
    "adamw": (lambda: AdamW(lr=0.05, beta1=0.8, beta2=0.99, weight_decay=0.2),
              lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.2),
              ADAM_STATE),
    "adamw_amsgrad": (lambda: AdamW(lr=0.05, beta1=0.5, beta2=0.6, weight_decay=0.2,
                                    amsgrad=True),
                      lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.5, 0.6),
                                                   weight_decay=0.2, amsgrad=True),
                      AMSGRAD_STATE),
}


@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_family_is_torch(case):
    """Adam (plain, L2, AMSGrad) ≡ torch.optim.Adam and AdamW ≡ torch.optim.AdamW.

    torch's AMSGrad keeps max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq) and
    divides by √max_exp_avg_sq / √(1−β2^t) + eps: the same as optlib's
    v_max replacing v inside the bias-corrected root.
    """
    make_ours, make_torch, state_map = ADAM_CASES[case]
    run_both(make_ours(), make_torch, state_map)


def test_amsgrad_case_really_uses_the_maximum():
    """In the AMSGrad cross-check the running max differs from v (else amsgrad would be untested)."""
    ours = Adam(lr=0.05, beta1=0.5, beta2=0.6, amsgrad=True)
    run_both(ours, lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.5, 0.6), amsgrad=True),
             AMSGRAD_STATE)
    assert np.any(ours.state[0]["max_exp_avg_sq"] > ours.state[0]["exp_avg_sq"] * 1.01)


def test_adam_l2_and_adamw_really_differ():
    """The weight-decay cases are not vacuous: L2 and decoupled decay give different trajectories."""
    l2, _, _ = run_both(Adam(lr=0.05, weight_decay=0.2),
                     lambda ps: torch.optim.Adam(ps, lr=0.05, weight_decay=0.2), ADAM_STATE)
    dec, _, _ = run_both(AdamW(lr=0.05, weight_decay=0.2),
                      lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.2), ADAM_STATE)
    assert np.max(np.abs(l2[0] - dec[0])) > 1e-4


# --------------------------------------------------------------------------
# Learning-rate schedules: optlib.schedules against torch.optim.lr_scheduler
# --------------------------------------------------------------------------
LR = torch.optim.lr_scheduler

# name -> (optlib schedule, torch scheduler for an optimizer whose lr is `lr`, steps compared)
SCHEDULE_CASES = {
    # torch's cosine follows ours up to t = T_max + 1 only (then it rises again)
    "cosine": (Cosine(total=12, final=0.1),
               lambda opt, lr: LR.CosineAnnealingLR(opt, T_max=12, eta_min=0.1 * lr), 13),
    "cosine_to_zero": (Cosine(total=19),
                       lambda opt, lr: LR.CosineAnnealingLR(opt, T_max=19), 20),
    "linear": (Linear(total=10, start=0.5, end=0.1),
               lambda opt, lr: LR.LinearLR(opt, start_factor=0.5, end_factor=0.1,
                                           total_iters=10), STEPS),
    "step_decay": (StepDecay(every=4, factor=0.5),
                   lambda opt, lr: LR.StepLR(opt, step_size=4, gamma=0.5), STEPS),
    "warmup": (Warmup(4),
               lambda opt, lr: LR.LinearLR(opt, start_factor=1 / 4, end_factor=1.0,
                                           total_iters=3), STEPS),
    "warmup_cosine": (Warmup(5, then=Cosine(total=14, final=0.05)),
                      lambda opt, lr: LR.SequentialLR(opt, [
                          LR.LinearLR(opt, start_factor=1 / 5, end_factor=1.0, total_iters=4),
                          LR.CosineAnnealingLR(opt, T_max=14, eta_min=0.05 * lr)],
                          milestones=[5]), STEPS),
}

# name -> (optlib optimizer with a schedule, torch optimizer, torch's lr / ours, state map)
SCHEDULED_OPTIMIZERS = {
    "gd_sgd": (lambda s: GradientDescent(lr=0.1, schedule=s),
               lambda ps: torch.optim.SGD(ps, lr=0.1), 1.0, None),
    "momentum_sgd": (lambda s: Momentum(lr=0.2, beta=0.9, schedule=s),
                     lambda ps: torch.optim.SGD(ps, lr=0.2 * (1 - 0.9), momentum=0.9,
                                                dampening=0), 1 - 0.9,
                     {"momentum_buffer": ("momentum_buffer", 1 - 0.9)}),
    "adam": (lambda s: Adam(lr=0.05, beta1=0.8, beta2=0.99, schedule=s),
             lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99)), 1.0, ADAM_STATE),
    "adamw": (lambda s: AdamW(lr=0.05, weight_decay=0.5, schedule=s),
              lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.5), 1.0, ADAM_STATE),
}


@pytest.mark.filterwarnings("ignore:The epoch parameter:UserWarning")   # SequentialLR's own
@pytest.mark.parametrize("optimizer", list(SCHEDULED_OPTIMIZERS))
@pytest.mark.parametrize("schedule", list(SCHEDULE_CASES))
def test_schedules_are_torchs_schedulers(schedule, optimizer):
    """Each schedule driving GD, Momentum, Adam and AdamW (whose decoupled decay uses the
    scheduled α) takes torch's steps with the matching lr_scheduler, past the end of the
    decay (Cosine: up to T_max + 1, where torch's cosine turns back up)."""
    ours_schedule, make_scheduler, steps = SCHEDULE_CASES[schedule]
    make_ours, make_torch, ratio, state_map = SCHEDULED_OPTIMIZERS[optimizer]
    params, _, torch_lrs = run_both(make_ours(ours_schedule), make_torch, state_map, steps,
                                    make_scheduler, ratio)
    assert len(set(torch_lrs)) > 3                 # the learning rate really changed
    unscheduled, _, _ = run_both(make_ours(None), make_torch, state_map, steps)
    assert np.max(np.abs(unscheduled[0] - params[0])) > 1e-4


def test_torchs_cosine_rises_after_t_max_and_ours_stays():
    """The caveat of optlib.schedules.Cosine: after T_max torch's CosineAnnealingLR follows the
    cosine on, back up to lr at 2·T_max; ours stays at final."""
    T, lr, final = 6, 0.1, 0.2
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr)
    scheduler = LR.CosineAnnealingLR(opt, T_max=T, eta_min=final * lr)
    torch_lrs = []
    for _ in range(3 * T):
        torch_lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1, dtype=torch.float64)
        opt.step()
        scheduler.step()
    ours = lr * Cosine(T, final)(np.arange(1, 3 * T + 1))
    np.testing.assert_allclose(torch_lrs[:T + 1], ours[:T + 1], rtol=1e-13)
    assert np.all(ours[T:] == lr * final)
    k = np.arange(3 * T)
    closed = final * lr + (lr - final * lr) * (1 + np.cos(np.pi * k / T)) / 2
    np.testing.assert_allclose(torch_lrs, closed, rtol=1e-12)
    assert torch_lrs[2 * T] == pytest.approx(lr, rel=1e-12)


# --------------------------------------------------------------------------
# Schedule-free SGD against the authors' package (optional: pip install schedulefree)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("beta, weight_decay, warmup", [(0.9, 0.0, 0), (0.5, 0.1, 0),
                                                        (0.9, 0.05, 5), (0.95, 0.0, 12)])
def test_schedule_free_sgd_is_the_schedulefree_package(beta, weight_decay, warmup):
    """ScheduleFreeSGD(lr, beta, weight_decay, schedule=Warmup(n)) ≡ schedulefree's
    SGDScheduleFree(lr, momentum=beta, weight_decay, warmup_steps=n): in train mode its
    parameters are y (ours), its state z is ours, and after eval() its parameters are x
    (our eval_params()). The package keeps x implicit (y moves by a lerp towards z plus a
    gradient term), so the two agree to rounding."""
    schedulefree = pytest.importorskip("schedulefree", reason="the schedulefree package is "
                                       "optional (pip install schedulefree)")
    from optlib import ScheduleFreeSGD
    lr = 0.2
    ours = ScheduleFreeSGD(lr=lr, beta=beta, weight_decay=weight_decay,
                           schedule=Warmup(warmup) if warmup else None)
    made = []

    def make_torch(ps):
        made.append(schedulefree.SGDScheduleFree(ps, lr=lr, momentum=beta,
                                                 weight_decay=weight_decay, warmup_steps=warmup))
        made[0].train()
        return made[0]

    params, tparams, _ = run_both(ours, make_torch, {"z": ("z", 1.0)}, rtol=1e-11)
    made[0].eval()
    for x, tp in zip(ours.eval_params(), tparams):
        np.testing.assert_allclose(x, tp.detach().numpy(), rtol=1e-11, atol=1e-13)
    assert np.max(np.abs(ours.eval_params()[0] - params[0])) > 1e-3     # x and y differ


@pytest.mark.parametrize("betas, eps, weight_decay, warmup", [
    ((0.9, 0.999), 1e-8, 0.0, 0), ((0.5, 0.9), 1e-3, 0.2, 0), ((0.9, 0.99), 1e-8, 0.05, 6)])
def test_schedule_free_adamw_is_the_schedulefree_package(betas, eps, weight_decay, warmup):
    """ScheduleFreeAdamW(lr, beta1, beta2, eps, weight_decay, schedule=Warmup(n)) ≡
    schedulefree's AdamWScheduleFree(lr, betas, eps, weight_decay, warmup_steps=n): y in train
    mode, z and the second moment each step, x after eval()."""
    schedulefree = pytest.importorskip("schedulefree", reason="the schedulefree package is "
                                       "optional (pip install schedulefree)")
    from optlib import ScheduleFreeAdamW
    lr = 0.05
    ours = ScheduleFreeAdamW(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                             weight_decay=weight_decay, schedule=Warmup(warmup) if warmup else None)
    made = []

    def make_torch(ps):
        made.append(schedulefree.AdamWScheduleFree(ps, lr=lr, betas=betas, eps=eps,
                                                   weight_decay=weight_decay,
                                                   warmup_steps=warmup))
        made[0].train()
        return made[0]

    params, tparams, _ = run_both(ours, make_torch, {"z": ("z", 1.0),
                                                     "exp_avg_sq": ("exp_avg_sq", 1.0)},
                                  rtol=1e-11)
    made[0].eval()
    for x, tp in zip(ours.eval_params(), tparams):
        np.testing.assert_allclose(x, tp.detach().numpy(), rtol=1e-11, atol=1e-13)
    assert np.max(np.abs(ours.eval_params()[0] - params[0])) > 1e-3
