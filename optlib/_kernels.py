"""Fused loops for steps on large arrays, compiled by numba when it is installed.

A numpy step is a chain of ufuncs: Momentum's
:math:`v \\leftarrow \\beta v + (1-\\beta) g,\\ w \\leftarrow w - \\alpha v` is five
(``v *= β``, ``s = g·(1−β)``, ``v += s``, ``s = v·α``, ``w -= s``), and each goes
over the block once. A compiled loop does the whole step element by element in
one pass, which for the cheap rules (gradient descent, Momentum) is several
times less work; it is what lets those steps match ``torch.optim``'s fused
``foreach`` kernels on large arrays.

The loops here compute exactly what the numpy chain computes, operation by
operation and in the same dtype: numba compiles without ``fastmath``, so LLVM
neither reorders nor contracts (no fused multiply-add), and every product and
sum is rounded as numpy rounds it. ``tests/test_kernels.py`` checks that both
paths give the same bits.

numba is optional (``pip install optlib[fast]``; ``make`` installs it). Without
it, or with the environment variable ``OPTLIB_KERNELS=numpy``, or for arrays
below :data:`MIN_ELEMENTS`, the numpy chain runs. The loops are compiled on first
use (about a second per loop and dtype) and cached on disk by numba.
"""

from __future__ import annotations

import threading

import numpy as np

from . import _settings

MIN_ELEMENTS = 1 << 15          # smaller blocks: the ufunc chain is as fast, and no compiling

_lock = threading.Lock()
_loaded = False
_kernels = None


def enabled() -> bool:
    """Whether the compiled loops are used: numba imports and ``OPTLIB_KERNELS`` is not ``numpy``."""
    return get() is not None


def get():
    """The namespace of compiled loops, or ``None`` (no numba, or turned off)."""
    global _loaded, _kernels
    if not _settings.kernels_enabled():
        return None
    if not _loaded:
        with _lock:
            if not _loaded:
                _kernels = _compile()
                _loaded = True
    return _kernels


def views(*arrays):
    """The arrays as 1-D views for a compiled loop, or ``None`` where the loops do not
    apply: fewer than :data:`MIN_ELEMENTS` elements, a dtype other than float32 or
    float64, dtypes that differ, or an array that is not C-contiguous."""
    first = arrays[0]
    if first.size < MIN_ELEMENTS or first.dtype not in _DTYPES:
        return None
    if any(a.dtype != first.dtype or not a.flags.c_contiguous for a in arrays):
        return None
    return [a.reshape(-1) for a in arrays]


_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _compile():
    try:
        import numba
    except ImportError:
        return None
    from types import SimpleNamespace

    jit = numba.njit(nogil=True, cache=True, boundscheck=False, fastmath=False)

    # Only reassociation is allowed, so that the sum vectorises; without the
    # no-nan and no-inf flags, x - x stays nan for nan and for ±inf (and 0 else).
    @numba.njit(nogil=True, cache=True, boundscheck=False, fastmath={"reassoc"})
    def all_finite(x):
        total = x.dtype.type(0)
        for i in range(x.shape[0]):
            total += x[i] - x[i]
        return total == 0

    @jit
    def count_non_finite(x):
        count = 0
        for i in range(x.shape[0]):
            if not np.isfinite(x[i]):
                count += 1
        return count

    # Each loop returns how many of the new parameter values are not finite (x - x is
    # 0 for a finite x and nan for ±inf or nan): the step's divergence check, counted
    # while the value is in a register (an integer sum, so it vectorises exactly).

    # GradientDescent: w <- w - alpha g
    @jit
    def gradient_descent(p, g, lr):
        bad = 0
        for i in range(p.shape[0]):
            x = p[i] - g[i] * lr
            p[i] = x
            bad += not (x - x == 0)
        return bad

    # Momentum: v <- beta v + (1 - beta) g,  w <- w - alpha v
    @jit
    def momentum(p, g, v, beta, one_minus_beta, lr):
        bad = 0
        for i in range(p.shape[0]):
            vi = v[i] * beta + g[i] * one_minus_beta
            v[i] = vi
            x = p[i] - vi * lr
            p[i] = x
            bad += not (x - x == 0)
        return bad

    # Momentum(nesterov=True): v <- beta v + (1 - beta) g,
    # w <- w - alpha (1 - beta) g - (alpha beta) v, subtracted in that order
    @jit
    def momentum_nesterov(p, g, v, beta, one_minus_beta, lr, lr_beta):
        bad = 0
        for i in range(p.shape[0]):
            scaled = g[i] * one_minus_beta
            vi = v[i] * beta + scaled
            v[i] = vi
            x = (p[i] - scaled * lr) - vi * lr_beta
            p[i] = x
            bad += not (x - x == 0)
        return bad

    return SimpleNamespace(all_finite=all_finite, count_non_finite=count_non_finite,
                           gradient_descent=gradient_descent,
                           momentum=momentum, momentum_nesterov=momentum_nesterov)


def _one_d(block):
    """``block`` as a 1-D array for the compiled loops, and the loops; ``(None, None)``
    where they do not apply (see :func:`views`, or no kernels)."""
    one_d = views(block)
    kernels = get() if one_d is not None else None
    return (None, None) if kernels is None else (one_d[0], kernels)


def block_non_finite(block):
    """How many elements of ``block`` are nan or infinite, by the compiled loop; ``None``
    when it does not apply."""
    one_d, kernels = _one_d(block)
    return None if one_d is None else int(kernels.count_non_finite(one_d))


def block_is_finite(block):
    """Whether every element of ``block`` is finite, by the compiled loop; ``None`` when it
    does not apply."""
    one_d, kernels = _one_d(block)
    return None if one_d is None else bool(kernels.all_finite(one_d))
