"""Figures `step_<optimizer>_1e7_float32`: one optimizer step on 10⁷ float32 parameters.

For Adam, RMSprop and Momentum, three implementations of the same equation take
steps on the same data (one array of 10⁷ float32 parameters, the same gradient
at every step):

* optlib (``optlib.Adam`` ...), including its checks (finite gradients, shapes);
  with numba installed (``optlib[fast]``, which ``make`` installs) the Momentum
  step and the finite check are compiled one-pass loops (``optlib/_kernels.py``),
  Adam and RMSprop are blocked numpy ufunc chains; ``kernels`` in the JSON says
  whether the compiled loops were on;
* a naive numpy implementation: the equation written as plain expressions,
  which allocate a temporary array per operation;
* ``torch.optim`` (``Adam``, ``RMSprop``, ``SGD(momentum=β)``) with
  ``foreach=True`` on CPU, when torch is importable. ``Momentum(lr=α, beta=β)``
  is ``SGD(lr=α(1−β), momentum=β)``.

The three take turns (so that a noisy neighbour slows all of them alike): in
each of ``ROUNDS`` turns an implementation takes an untimed step, then ``TIMED``
timed ones; each figure is the median of the timed steps, in ms per step.
``numpy_chain_ms`` is optlib's step with the compiled loops turned off
(``OPTLIB_KERNELS=numpy``, as without numba); null when they are off anyway.
``ratio_vs_torch`` and ``ratio_vs_naive_numpy`` are optlib's time over the
other's (below 1: optlib is faster); the goal is ``ratio_vs_torch <= 1``.

The memory-bandwidth floor: ``bytes_per_step`` counts each parameter-sized array
that optlib's step must read or write once (Adam reads p, g, m, v and writes p,
m, v; the finite-gradient check reads g once more), ``copy_bandwidth_gbs`` is
(bytes read + bytes written) per second of a large ``np.copyto`` measured in the
same run (the better of one thread, ``copy_bandwidth_1thread_gbs``, and the copy
split among optlib's threads, ``copy_bandwidth_threads_gbs``), and ``floor_ms``
is their quotient: roughly the time of a step that only moved its data once, at
the speed of a copy. It is an estimate, not a hard bound: a copy may also pay
for loading the destination's cache lines, which an in-place update does not.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import optlib
from optlib import _kernels, _settings

from .common import emit, log, optional_torch

N = 10**7
ROUNDS = 7                 # each implementation takes its turn this many times ...
WARMUP = 1                 # ... and in each turn takes this many untimed steps,
TIMED = 3                  # then this many timed ones (median over all timed steps)
COPY_ELEMENTS = 4 * 10**7  # float32 elements of the bandwidth copy (160 MB, beyond the caches)

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
RMS_BETA = 0.9
MOMENTUM_LR, MOMENTUM_BETA = 1e-3, 0.9


# -- naive numpy: the equations as plain expressions ---------------------------
def naive_adam(p, g):
    state = {"m": np.zeros_like(p), "v": np.zeros_like(p), "t": 0}

    def step():
        state["t"] += 1
        t = state["t"]
        state["m"] = BETA1 * state["m"] + (1 - BETA1) * g
        state["v"] = BETA2 * state["v"] + (1 - BETA2) * g**2
        p[...] = p - LR * (state["m"] / (1 - BETA1**t)) / (
            np.sqrt(state["v"] / (1 - BETA2**t)) + EPS)
    return step


def naive_rmsprop(p, g):
    state = {"s": np.zeros_like(p)}

    def step():
        state["s"] = RMS_BETA * state["s"] + (1 - RMS_BETA) * g**2
        p[...] = p - LR * g / (np.sqrt(state["s"]) + EPS)
    return step


def naive_momentum(p, g):
    state = {"v": np.zeros_like(p)}

    def step():
        state["v"] = MOMENTUM_BETA * state["v"] + (1 - MOMENTUM_BETA) * g
        p[...] = p - MOMENTUM_LR * state["v"]
    return step


# id -> (optlib optimizer, naive step factory, torch optimizer factory, arrays read, written)
CASES = {
    "adam": (lambda: optlib.Adam(lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS), naive_adam,
             lambda torch, ps: torch.optim.Adam(ps, lr=LR, betas=(BETA1, BETA2), eps=EPS,
                                                foreach=True),
             ("g (check)", "p", "g", "m", "v"), ("p", "m", "v")),
    "rmsprop": (lambda: optlib.RMSprop(lr=LR, beta=RMS_BETA, eps=EPS), naive_rmsprop,
                lambda torch, ps: torch.optim.RMSprop(ps, lr=LR, alpha=RMS_BETA, eps=EPS,
                                                      foreach=True),
                ("g (check)", "p", "g", "s"), ("p", "s")),
    "momentum": (lambda: optlib.Momentum(lr=MOMENTUM_LR, beta=MOMENTUM_BETA), naive_momentum,
                 lambda torch, ps: torch.optim.SGD(ps, lr=MOMENTUM_LR * (1 - MOMENTUM_BETA),
                                                   momentum=MOMENTUM_BETA, dampening=0,
                                                   foreach=True),
                 ("g (check)", "p", "g", "v"), ("p", "v")),
}


def _without_kernels(step, *args):
    """``step(*args)`` with ``OPTLIB_KERNELS=numpy``: optlib's numpy ufunc chain."""
    os.environ[_settings.KERNELS] = "numpy"
    try:
        step(*args)
    finally:
        del os.environ[_settings.KERNELS]


def copy_bandwidth_gbs(threads: int, repeats: int = 7) -> float:
    """(bytes read + bytes written) / s of np.copyto between two large float32 arrays,
    split into ``threads`` contiguous parts copied at once (numpy releases the GIL)."""
    src = np.random.default_rng(1).random(COPY_ELEMENTS, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)                       # touch every page first
    parts = np.array_split(np.arange(COPY_ELEMENTS), threads)
    slices = [slice(part[0], part[-1] + 1) for part in parts]
    times = []
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            start = time.perf_counter()
            list(pool.map(lambda s: np.copyto(dst[s], src[s]), slices))
            times.append(time.perf_counter() - start)
    return 2 * src.nbytes / statistics.median(times) / 1e9


def time_in_turn(steps: dict) -> dict:
    """Median seconds per call of each step function; the functions take turns.

    In each turn a function first takes untimed steps: a step that follows an
    idle CPU or another library's threads (torch's OpenMP threads spin for ~10 ms
    after a step) is slower than in a training loop, where steps follow busy
    forward and backward passes.
    """
    times = {name: [] for name in steps}
    for _ in range(ROUNDS):
        for name, step in steps.items():
            for _ in range(WARMUP):
                step()
            for _ in range(TIMED):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    torch = optional_torch()
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(N, dtype=np.float32)
    g = rng.standard_normal(N, dtype=np.float32)
    threads = _settings.num_threads()
    log(f"steps: copy bandwidth ({COPY_ELEMENTS * 4 / 1e6:.0f} MB np.copyto, 1 and {threads} "
        "threads) ...")
    bandwidth_1 = copy_bandwidth_gbs(1)
    bandwidth_n = copy_bandwidth_gbs(threads) if threads > 1 else bandwidth_1
    bandwidth = max(bandwidth_1, bandwidth_n)
    for name, (make, naive, make_torch, read, written) in CASES.items():
        log(f"steps: {name} on {N:.0e} float32 parameters, optlib / naive numpy"
            f"{' / torch.optim' if torch is not None else ''} ...")
        ours, p_ours = make(), p0.copy()
        p_naive = p0.copy()
        steps = {"optlib": lambda: ours.step(p_ours, g), "naive": naive(p_naive, g)}
        if _kernels.enabled():                # the same optlib step without the compiled loops
            chain, p_chain = make(), p0.copy()
            steps["numpy_chain"] = lambda: _without_kernels(chain.step, p_chain, g)
        if torch is not None:
            p_torch = torch.nn.Parameter(torch.from_numpy(p0.copy()))
            p_torch.grad = torch.from_numpy(g.copy())
            topt = make_torch(torch, [p_torch])
            steps["torch"] = topt.step
        seconds = time_in_turn(steps)
        diff = np.max(np.abs(p_ours - p_naive))
        log(f"steps: {name}: after {ROUNDS * (WARMUP + TIMED)} steps, "
            f"max |optlib - naive| = {diff:.2e}"
            + (f", max |optlib - torch| = "
               f"{np.max(np.abs(p_ours - p_torch.detach().numpy())):.2e}" if torch else ""))
        nbytes = (len(read) + len(written)) * p0.nbytes
        ms = {k: v * 1e3 for k, v in seconds.items()}
        emit(f"step_{name}_1e7_float32", round(ms["optlib"], 3), "ms",
             ratio_vs_torch=None if torch is None else round(ms["optlib"] / ms["torch"], 3),
             ratio_vs_naive_numpy=round(ms["optlib"] / ms["naive"], 3),
             torch_ms=None if torch is None else round(ms["torch"], 3),
             naive_numpy_ms=round(ms["naive"], 3),
             numpy_chain_ms=round(ms["numpy_chain"], 3) if "numpy_chain" in ms else None,
             bytes_per_step=nbytes,
             arrays_read=list(read), arrays_written=list(written),
             copy_bandwidth_gbs=round(bandwidth, 2),
             copy_bandwidth_1thread_gbs=round(bandwidth_1, 2),
             copy_bandwidth_threads_gbs=round(bandwidth_n, 2),
             floor_ms=round(nbytes / (bandwidth * 1e9) * 1e3, 3),
             optlib_threads=threads,
             kernels="numba" if _kernels.enabled() else "numpy",
             torch_threads=None if torch is None else torch.get_num_threads(),
             timed_steps=ROUNDS * TIMED)
