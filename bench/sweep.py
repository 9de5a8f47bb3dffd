"""Figure `sweep_momentum_100x100x300`: a batched (α, β) sweep against per-configuration loops.

The sweep is what chapter 2's heatmap needs: 100 learning rates × 100 momentum
coefficients, 300 steps each, of ``optlib.Momentum`` on the elongated quadratic
(curvatures 1 and 25) from its default start. optlib advances all 10,000 runs
with one ``step`` call per step (hyperparameters of shape (100, 100, 1)).

The per-configuration loops (optlib one configuration at a time, and
torch.optim.SGD looped per configuration) are far slower, so they are timed on
a fixed random sample of configurations and scaled to the full grid; the sample
size is reported with the figure.
"""

from __future__ import annotations

import numpy as np

import optlib
from optlib.objectives import Quadratic

from .common import emit, log, median_seconds, optional_torch

N_LR, N_BETA, STEPS = 100, 100, 300
SAMPLE = 200          # configurations timed one by one (optlib loop)
TORCH_SAMPLE = 100    # configurations timed one by one (torch loop)


def grid():
    """The (α, β) grid: log-spaced α in [0.005, 2], β in [0, 0.99]."""
    lr, beta = np.meshgrid(np.geomspace(0.005, 2.0, N_LR), np.linspace(0.0, 0.99, N_BETA),
                           indexing="ij")
    return lr, beta


def batched(objective, lr, beta):
    return optlib.run(optlib.Momentum(lr=lr[..., None], beta=beta[..., None]), objective,
                      objective.start, STEPS)


def optlib_loop(objective, configs):
    for a, b in configs:
        optlib.run(optlib.Momentum(lr=float(a), beta=float(b)), objective, objective.start, STEPS)


def torch_loop(torch, objective, configs):
    """torch.optim.SGD per configuration, with the analytic gradient H (w - w*).

    SGD(momentum=β, dampening=0, lr=α(1-β)) is exactly optlib.Momentum(lr=α, beta=β).
    """
    hessian = torch.tensor(objective.hessian, dtype=torch.float64)
    centre = torch.tensor(objective.minimum, dtype=torch.float64)
    for a, b in configs:
        w = torch.tensor(objective.start, dtype=torch.float64)
        opt = torch.optim.SGD([w], lr=float(a) * (1.0 - float(b)), momentum=float(b))
        for _ in range(STEPS):
            w.grad = hessian @ (w.detach() - centre)
            opt.step()


def main() -> None:
    objective = Quadratic()
    lr, beta = grid()
    log(f"sweep: {N_LR}x{N_BETA} (lr, beta) grid x {STEPS} steps, batched ...")
    seconds = median_seconds(lambda: batched(objective, lr, beta), repeats=7)

    rng = np.random.default_rng(0)
    pick = rng.choice(lr.size, size=SAMPLE, replace=False)
    configs = list(zip(lr.ravel()[pick], beta.ravel()[pick]))
    log(f"sweep: optlib one configuration at a time ({SAMPLE} sampled configurations) ...")
    loop = median_seconds(lambda: optlib_loop(objective, configs), repeats=3) * lr.size / SAMPLE

    torch = optional_torch()
    torch_seconds = None
    if torch is not None:
        log(f"sweep: torch.optim.SGD one configuration at a time ({TORCH_SAMPLE} sampled) ...")
        sample = configs[:TORCH_SAMPLE]
        torch_seconds = median_seconds(lambda: torch_loop(torch, objective, sample),
                                       repeats=3) * lr.size / TORCH_SAMPLE
    diverged = float(np.mean(batched(objective, lr, beta).diverged))
    emit("sweep_momentum_100x100x300", round(seconds, 4), "s",
         speedup_vs_python_loop=round(loop / seconds, 1),
         speedup_vs_torch_loop=None if torch_seconds is None else round(torch_seconds / seconds, 1),
         python_loop_s_extrapolated=round(loop, 2), python_loop_sampled_configs=SAMPLE,
         torch_loop_s_extrapolated=None if torch_seconds is None else round(torch_seconds, 2),
         torch_loop_sampled_configs=None if torch is None else TORCH_SAMPLE,
         diverged_fraction=round(diverged, 4))
