"""Cross-check optlib.Muon against torch.optim.Muon, with torch's own Newton–Schulz code run in
float64 (optional: skipped without torch).

torch's ``_zeropower_via_newtonschulz`` casts the matrix with ``grad.bfloat16()`` and iterates
in bfloat16 (about 3 significant digits). Here, for the duration of a test, that cast returns a
copy in the tensor's own dtype instead (``Tensor.bfloat16`` patched by pytest's monkeypatch),
so torch's iteration, normalisation, momentum and learning-rate code run unchanged, in float64;
the patch counts its calls, so a test also shows that torch's iteration ran through it.

Both libraries run STEPS steps on the same problem: the gradient ``W S + noise_t`` at each
library's *current* point (S symmetric positive definite), so the trajectories feed back.
Agreement measured here (torch 2.13, all the cases below): at most 1.3e-15 in the
parameters over 20 steps (6.5e-15 of the distance moved) and 2.7e-15 in the momentum buffers;
with torch's own bfloat16 iteration the parameters differ by 1e-3 to 2e-3 (0.3 to 0.6% of the
distance moved), each orthogonalised update by 0.9 to 3.6%.

torch's ``adjust_lr_fn=None`` is its ``"original"``; optlib's ``adjust_lr=None`` is r = 1,
which torch gives with ``lr = α/r₀`` and ``weight_decay = δ·r₀`` (r₀ the original factor).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from optlib.optimizers import Muon
from optlib.schedules import Cosine

torch = pytest.importorskip(
    "torch", reason="torch is not installed; the cross-check against torch.optim.Muon needs it "
                    "(optional: make torch)")
if not hasattr(torch.optim, "Muon"):
    pytest.skip("this torch has no torch.optim.Muon (added in torch 2.9)", allow_module_level=True)

from torch.optim import _muon as torch_muon  # noqa: E402

STEPS = 20
SHAPES = {"tall": (8, 5), "wide": (5, 8), "square": (6, 6), "tall_64x32": (64, 32)}


@pytest.fixture
def float64_iteration(monkeypatch):
    """torch's Newton–Schulz iteration in the tensor's dtype: its bfloat16 cast returns a copy.
    Yields the list of dtypes the cast was called with."""
    source = inspect.getsource(torch_muon._zeropower_via_newtonschulz)
    assert ".bfloat16()" in source, "torch's iteration no longer casts with .bfloat16()"
    calls = []

    def same_dtype_copy(self, memory_format=torch.preserve_format):
        calls.append(self.dtype)
        return self.clone(memory_format=memory_format)

    monkeypatch.setattr(torch.Tensor, "bfloat16", same_dtype_copy)
    return calls


def problem(shape, seed=0):
    rng = np.random.default_rng(seed)
    n = shape[1]
    s = rng.normal(size=(n, n))
    return rng.normal(size=shape), s.T @ s / n + 0.1 * np.eye(n), 0.5 * rng.normal(
        size=(STEPS, *shape))


def run_both(shape, *, lr=0.02, beta=0.9, nesterov=True, weight_decay=0.1, adjust_lr="original",
             dtype=np.float64, schedule=False):
    """Step both libraries side by side; return the largest differences of the parameters
    and of the momentum buffers over the run, and the distance the parameters moved."""
    w0, hessian, noise = problem(shape)
    w0 = w0.astype(dtype)
    r0 = math.sqrt(max(1.0, shape[0] / shape[1]))
    torch_lr, torch_wd, torch_adjust = ((lr / r0, weight_decay * r0, "original")
                                        if adjust_lr is None else (lr, weight_decay, adjust_lr))
    ours = Muon(lr=lr, beta=beta, nesterov=nesterov, weight_decay=weight_decay,
                adjust_lr=adjust_lr, schedule=Cosine(STEPS) if schedule else None)
    param = torch.nn.Parameter(torch.tensor(w0.copy()))
    theirs = torch.optim.Muon([param], lr=torch_lr, weight_decay=torch_wd, momentum=beta,
                              nesterov=nesterov, adjust_lr_fn=torch_adjust)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=STEPS)
                 if schedule else None)
    w, worst_w, worst_v = w0.copy(), 0.0, 0.0
    for t in range(STEPS):
        ours.step(w, (w @ hessian + noise[t]).astype(dtype))
        p = param.detach().numpy()
        param.grad = torch.from_numpy((p @ hessian + noise[t]).astype(dtype))
        theirs.step()
        if scheduler is not None:
            scheduler.step()
        worst_w = max(worst_w, float(np.abs(w - param.detach().numpy()).max()))
        buffer = theirs.state[param]["momentum_buffer"].numpy()
        worst_v = max(worst_v, float(np.abs(ours.state["momentum_buffer"] - buffer).max()))
    return worst_w, worst_v, float(np.abs(w - w0).max())


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("nesterov", [True, False], ids=["nesterov", "plain"])
@pytest.mark.parametrize("adjust_lr", ["original", "match_rms_adamw", None])
@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_muon_matches_torch_in_float64(float64_iteration, shape, nesterov, adjust_lr,
                                       weight_decay):
    worst_w, worst_v, moved = run_both(shape, nesterov=nesterov, adjust_lr=adjust_lr,
                                       weight_decay=weight_decay)
    assert float64_iteration and set(float64_iteration) == {torch.float64}
    assert len(float64_iteration) == STEPS                 # torch's iteration ran every step
    assert moved > 0.05
    assert worst_w <= 1e-13, worst_w
    assert worst_v <= 1e-14, worst_v


def test_muon_matches_torch_under_a_cosine_schedule(float64_iteration):
    """Cosine(T) against CosineAnnealingLR(T_max=T) stepped after each optimizer step: the
    scheduled rate enters both the step and the decay."""
    worst_w, worst_v, moved = run_both((7, 4), weight_decay=0.5, schedule=True)
    assert worst_w <= 1e-13 and worst_v <= 1e-14 and moved > 0.05


def test_muon_matches_torch_in_float32(float64_iteration):
    worst_w, worst_v, moved = run_both((8, 5), dtype=np.float32)
    assert set(float64_iteration) == {torch.float32}
    assert worst_w <= 2e-6 and worst_v <= 1e-6 and moved > 0.05


def test_torchs_own_bfloat16_iteration_agrees_only_to_a_percent_or_two():
    """Without the patch torch iterates in bfloat16: the runs differ by about 1% of the
    distance moved (so the float64 agreement above is the patch's doing, and the docstring's
    warning holds)."""
    worst_w, _, moved = run_both((8, 5))
    assert 1e-3 < worst_w / moved < 5e-2


def test_torchs_bfloat16_orthogonalisation_differs_by_half_to_four_percent():
    """Muon's docstring: torch's O_t (bfloat16) differs from optlib's by 0.5 to 4% (relative
    Frobenius norm, random Gaussian matrices; measured 0.9 to 3.6%)."""
    from optlib.analysis import orthogonalize
    rng = np.random.default_rng(1)
    for shape in [(8, 5), (64, 32), (128, 256)]:
        for _ in range(5):
            d = rng.normal(size=shape)
            ours = orthogonalize(d)
            theirs = torch_muon._zeropower_via_newtonschulz(
                torch.tensor(d), (3.4445, -4.7750, 2.0315), 5, 1e-7).double().numpy()
            assert 0.005 <= np.linalg.norm(ours - theirs) / np.linalg.norm(ours) <= 0.04
