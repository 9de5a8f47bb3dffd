"""The machinery of a step, apart from its mathematics.

:mod:`optlib.optimizers` holds the update rules; this module holds what every
rule needs around it:

* **structures**: pairing up ``params`` and ``grads`` (an array, a list or a
  dict of arrays) and checking them before anything changes (:func:`leaves`);
* **blocks and threads**: a large parameter is processed in blocks of about
  2 MiB, each going through the whole chain of ufuncs while it is in cache, and
  the blocks are shared among a few threads (numpy releases the GIL inside
  ufuncs; ``OPTLIB_NUM_THREADS`` sets their number, see :mod:`optlib._settings`);
* **work arrays**: per-thread temporaries, made once and reused, so that a
  step whose state exists allocates no parameter-sized array;
* **finiteness**: exact checks and counts of nan/inf, block by block;
* **all-or-nothing execution** (:func:`execute`): whatever raises during a
  step, the parameters, the state and the step count are as before, and a step
  that turns finite values into non-finite ones warns with
  :class:`NonFiniteWarning`, naming the parameter.

How a step is made all-or-nothing
---------------------------------
Every check runs before the first write. The writes then run under
``np.errstate(all="ignore")`` on plain ``ndarray`` views (an array subclass's
``__array_ufunc__`` is never consulted), so numpy itself cannot raise midway;
non-finite results are counted per block while the block is in cache and
reported as one :class:`NonFiniteWarning` at the end. Two cases remain where
something can still raise after writing has begun, and both are guarded:

* the caller asked for errors -- ``np.errstate`` set to ``raise`` or ``call``
  (honoured: numpy raises ``FloatingPointError``), or a warnings filter that
  may turn :class:`NonFiniteWarning` into an error -- or the step is small
  (parameters and state of at most :data:`JOURNAL_BYTES`), or the rule updates
  each parameter as a whole matrix (Muon; no head of rows can run alone): the
  arrays are copied first (a *journal*) and restored when anything raises;
* otherwise (a large step, where a copy would double its cost): the head of the
  first block of each kind of update (dtype, compiled loop or ufunc chain; about
  32 Ki elements) runs alone first, with a copy of just that head, and is
  restored if it raises (a compiled loop that fails, a work array that cannot be
  allocated). The other blocks run the same code on the same types; a failure
  that strikes only later blocks of a large step is the one case not undone.

Counting what turned non-finite costs no extra pass where it can be avoided:
the compiled loops count the non-finite values they write; a parameter is
counted before the step only on an optimizer's first step and after a step
that left non-finite values (a value that is nan or ±inf stays so); and of the
state only the buffers that can overflow while the parameter stays finite (a
sum of squares, whose overflow makes the step 0) are counted.
"""

from __future__ import annotations

import contextvars
import functools
import math
import os
import re
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _kernels, _settings
from ._validate import describe

__all__ = ["NonFiniteWarning", "leaves", "execute", "JOURNAL_BYTES"]


class NonFiniteWarning(RuntimeWarning):
    """A step turned finite parameters or state into nan or ±inf (it diverged).

    The step was taken (unless a warnings filter turns this warning into an
    error: then the step raises and changes nothing). :func:`optlib.runs.run` and the
    network's training loops record divergence themselves and do not warn.
    """


#: Parameters and state of at most this many bytes are copied before a step
#: and restored if it raises (cheaper than the care a large step takes).
JOURNAL_BYTES = 1 << 20

# --------------------------------------------------------------------------
# Blocks and threads
# --------------------------------------------------------------------------
# A step is a chain of ufuncs (about 13 for Adam). Applied to whole arrays, each
# ufunc streams its operands from and to memory; applied block by block, a block's
# operands stay in cache for the whole chain, so memory sees each array about
# once per step. The blocks are independent, so a few threads can share them.
BLOCK_BYTES = 2 << 20         # per operand; larger blocks mean fewer ufunc calls (and GIL
                              # hand-overs), smaller ones a better fit in L2/L3: 1-2 MiB is best
                              # on a 2-core EPYC (1 MiB L2, 32 MiB L3), 64 KiB-256 KiB is slower
PARALLEL_MIN_BYTES = 2 << 20  # less data than this: the calling thread does it alone
WHOLE = (Ellipsis,)           # the index of an array that is a single block
SMALL = 4096                  # elements: a temporary this size costs less than blocking

_pool = None
_pool_threads = 0
_pool_lock = threading.Lock()


def _executor(threads: int):
    """The shared pool of ``threads - 1`` helper threads, made (again) when needed."""
    global _pool, _pool_threads
    with _pool_lock:
        if _pool is None or _pool_threads != threads:
            old, _pool, _pool_threads = _pool, ThreadPoolExecutor(
                threads - 1, thread_name_prefix="optlib"), threads
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def _forget_pool():
    """In a forked child the pool's threads do not exist: make a new pool when needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def block_size(dtype) -> int:
    """Elements per block for arrays of ``dtype``."""
    return max(1, BLOCK_BYTES // np.dtype(dtype).itemsize)


@functools.lru_cache(maxsize=256)
def blocks(shape: tuple, size: int) -> tuple:
    """Index tuples that split an array of ``shape`` into blocks of at most ``size`` elements.

    An array of at most ``size`` elements is one block, :data:`WHOLE`. Otherwise a
    block is a run of whole rows (sub-arrays along the first axis) or, when one
    row is larger than ``size``, a block of that row, recursively; blocks of a
    C-contiguous array are contiguous. Every block is a view, never a copy.
    """
    if math.prod(shape) <= size:
        return (WHOLE,)

    def split(shape):
        inner = math.prod(shape[1:])
        if inner > size:
            return [(i, *rest) for i in range(shape[0]) for rest in split(shape[1:])]
        count = -(-shape[0] // (size // inner))      # as few blocks as fit ...
        rows = -(-shape[0] // count)                  # ... of nearly equal size
        return [(slice(i, i + rows),) for i in range(0, shape[0], rows)]

    return tuple(split(shape))


def run_jobs(fn, jobs, nbytes):
    """``[fn(job) for job in jobs]``, shared among threads if ``nbytes`` is large.

    Worker ``w`` (0 is the calling thread) takes ``jobs[w::n]``. The helpers run
    in a copy of the caller's context, so ``np.errstate`` applies to them too.
    The call returns only when every job has finished.
    """
    n = min(_settings.num_threads(), len(jobs)) if nbytes >= PARALLEL_MIN_BYTES else 1
    if n <= 1:
        return [fn(job) for job in jobs]

    def work(w):
        return [fn(job) for job in jobs[w::n]]

    futures = []
    try:
        pool = _executor(n)
        for w in range(1, n):
            futures.append(pool.submit(contextvars.copy_context().run, work, w))
    except RuntimeError:        # the interpreter is shutting down: no new threads
        pass
    try:
        parts = [work(0)] + [work(w) for w in range(len(futures) + 1, n)]
    finally:
        helped = [future.result() for future in futures]   # waits for them, even on an error
    parts[1:1] = helped
    results = [None] * len(jobs)
    for w, part in enumerate(parts):
        results[w::n] = part
    return results


_local = threading.local()    # each thread's work arrays


def work_array(name: str, dtype, shape) -> np.ndarray:
    """The calling thread's work array ``name``: uninitialised, of ``dtype`` and ``shape``.

    Made on first use and reused at every later step (shape is at most a block),
    so a step whose state exists allocates nothing.
    """
    views = getattr(_local, "views", None)
    if views is None:
        views = _local.views = {}
        _local.arrays = {}
    view = views.get((name, dtype, shape))
    if view is None:
        size = math.prod(shape)
        flat = _local.arrays.get((name, dtype))
        if flat is None or flat.size < size:
            flat = _local.arrays[(name, dtype)] = np.empty(size, dtype)
            views.clear()                       # views of the old array are stale
        if len(views) > 64:                     # many shapes over time: start afresh
            views.clear()
        view = views[(name, dtype, shape)] = flat[:size].reshape(shape)
    return view


def c_order_axes(p):
    """The axis order that makes ``p`` C-contiguous (a Fortran-ordered or transposed
    array), or ``None`` when ``p`` is C-contiguous already or no order does."""
    if p.ndim < 2 or p.flags.c_contiguous:
        return None
    axes = tuple(sorted(range(p.ndim), key=lambda axis: -abs(p.strides[axis])))
    return axes if p.transpose(axes).flags.c_contiguous else None


def c_ordered(a):
    """``a``, or a C-contiguous transposed view of it if there is one."""
    axes = c_order_axes(a)
    return a if axes is None else a.transpose(axes)


# --------------------------------------------------------------------------
# Finiteness
# --------------------------------------------------------------------------
def block_is_finite(block) -> bool:
    """Whether every element of ``block`` is finite, through a work array (no allocation)."""
    compiled = _kernels.block_is_finite(block)
    if compiled is not None:
        return compiled
    finite = np.isfinite(block, out=work_array("finite", np.dtype(bool), block.shape))
    return bool(finite.all())


def all_finite(g) -> bool:
    """``np.all(np.isfinite(g))``, block by block: no array of g's size is allocated
    (except for small arrays, where a temporary is cheaper than the machinery)."""
    if g.size <= SMALL:
        return bool(np.isfinite(g).all())
    g = c_ordered(g)
    return all(run_jobs(lambda index: block_is_finite(g[index]),
                        blocks(g.shape, block_size(g.dtype)), g.nbytes))


def block_non_finite(block) -> int:
    """How many elements of one block are nan or infinite (no allocation above SMALL)."""
    if block.size <= SMALL:
        finite = np.isfinite(block)
        return 0 if finite.all() else block.size - int(np.count_nonzero(finite))
    compiled = _kernels.block_is_finite(block)          # the fast vectorised check first
    if compiled is not None:
        return 0 if compiled else _kernels.block_non_finite(block)
    finite = np.isfinite(block, out=work_array("finite", np.dtype(bool), block.shape))
    return 0 if finite.all() else block.size - int(np.count_nonzero(finite))


def count_non_finite(g) -> int:
    """How many elements of ``g`` are nan or infinite (block by block)."""
    g = c_ordered(g)
    return sum(block_non_finite(g[index]) for index in blocks(g.shape, block_size(g.dtype)))


# --------------------------------------------------------------------------
# Parameter structures
# --------------------------------------------------------------------------
def _plain(a: np.ndarray) -> np.ndarray:
    """``a`` as a plain ``ndarray`` view (same memory): an array subclass's own
    arithmetic (``np.matrix``'s ``*``, a ufunc override) never enters a step."""
    return a if type(a) is np.ndarray else a.view(np.ndarray)


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` share an element in memory (exactly: interleaved views
    such as ``x[::2]`` and ``x[1::2]`` do not). A problem too hard to decide counts
    as overlapping."""
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10**6))
    except np.exceptions.TooHardError:
        return True


def structure_kind(params) -> str:
    """``"array"``, ``"list"`` or ``"dict"``: the structure of ``params``."""
    if isinstance(params, np.ndarray):
        return "array"
    return "list" if isinstance(params, (list, tuple)) else "dict"


def leaves(params, grads, state=None):
    """Pair up parameters and gradients: a list of ``(key, param, grad)``.

    ``key`` is ``None`` for a single array, the index in a list, the name in a
    dict. Parameters and gradients come back as plain ``ndarray`` views of the
    caller's arrays. ``state`` (key -> buffer name -> array), if given, are the
    optimizer's buffers, which neither a parameter nor a gradient may share
    memory with.

    Raises ``TypeError``/``ValueError`` for anything a step cannot apply; changes
    nothing.
    """
    if isinstance(params, np.ndarray):
        if not isinstance(grads, np.ndarray):
            raise TypeError(
                f"grads must have the same structure as params (an ndarray), got grads of type "
                f"{type(grads).__name__}"
            )
        pairs = [(None, params, grads)]
    elif isinstance(params, (list, tuple)):
        if not isinstance(grads, (list, tuple)):
            raise TypeError(
                f"grads must have the same structure as params (a {type(params).__name__} of "
                f"{len(params)} arrays), got grads of type {type(grads).__name__}"
            )
        if len(grads) != len(params):
            raise ValueError(
                f"grads must have one array per parameter: params has {len(params)}, "
                f"grads has {len(grads)}"
            )
        pairs = list(zip(range(len(params)), params, grads))
    elif isinstance(params, dict):
        if not isinstance(grads, dict):
            raise TypeError(
                f"grads must have the same structure as params (a dict with keys "
                f"{list(params)}), got grads of type {type(grads).__name__}"
            )
        if set(grads) != set(params):
            missing = [k for k in params if k not in grads]
            extra = [k for k in grads if k not in params]
            raise ValueError(
                f"grads must have the same keys as params: missing {missing}, unexpected {extra}"
            )
        pairs = [(k, params[k], grads[k]) for k in params]
    else:
        raise TypeError(
            "params must be a float ndarray, a list of them or a dict name -> ndarray, got "
            f"params={describe(params)} of type {type(params).__name__}"
        )
    if not pairs:
        raise ValueError("params must hold at least one array, got an empty "
                         f"{type(params).__name__}")

    plain = []
    for key, p, g in pairs:
        where = "" if key is None else f"[{key!r}]"
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params{where} must be a numpy ndarray, got {describe(p)} of type "
                            f"{type(p).__name__}")
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads{where} must be a numpy ndarray, got {describe(g)} of type "
                            f"{type(g).__name__}")
        if p.dtype.kind != "f":
            raise TypeError(f"params{where} must be a floating-point array (updated in place), "
                            f"got dtype {p.dtype}")
        if g.dtype.kind != "f":
            raise TypeError(f"grads{where} must be a floating-point array, got dtype {g.dtype}")
        if g.shape != p.shape:
            raise ValueError(f"grads{where} must have the shape of params{where} {p.shape}, "
                             f"got shape {g.shape}")
        if not p.flags.writeable:
            raise ValueError(f"params{where} is read-only; the optimizer updates it in place")
        plain.append((key, _plain(p), _plain(g)))

    buffers = [] if state is None else [(key, name, buffer) for key, named in state.items()
                                        for name, buffer in named.items()]
    checked = []
    for i, (key, p, g) in enumerate(plain):
        where = "" if key is None else f"[{key!r}]"
        if any(overlap(g, q) for _, q, _ in plain):
            raise ValueError(f"grads{where} shares memory with a parameter, which the step "
                             "updates; pass a separate gradient array")
        if any(overlap(p, q) for _, q, _ in plain[:i]):
            raise ValueError(f"params{where} shares memory with another parameter; each would be "
                             "updated twice")
        for owner, name, buffer in buffers:
            at = "" if owner is None else f"[{owner!r}]"
            for label, a in ((f"grads{where}", g), (f"params{where}", p)):
                if overlap(a, buffer):
                    raise ValueError(f"{label} shares memory with the optimizer's state "
                                     f"{name}{at}, which the step updates; pass a separate array")
        if not all_finite(g):
            bad = count_non_finite(g)
            raise ValueError(f"grads{where} has {bad} non-finite value(s) (nan or inf); "
                             "the step was not taken")
        checked.append((key, p, g))
    return checked


# --------------------------------------------------------------------------
# All-or-nothing execution
# --------------------------------------------------------------------------
_RAISING = ("raise", "call")


def honours_errstate() -> bool:
    """Whether the caller's ``np.errstate`` asks for errors (``raise``/``call``)."""
    return any(mode in _RAISING for mode in np.geterr().values())


def _optlib_depth() -> int:
    """The ``stacklevel`` that attributes a warning to the first caller outside optlib."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "optlib":
        frame, level = frame.f_back, level + 1
    return level


def warning_may_raise(category, stacklevel: int) -> bool:
    """Whether ``warnings.warn(..., category, stacklevel)`` from here may raise.

    Follows :mod:`warnings`' own matching (first matching filter wins: category,
    module, line; a message pattern is assumed to match when the filter's action is
    ``"error"`` and not to when it is not, so the answer errs towards ``True``).
    """
    frame = sys._getframe(1)
    for _ in range(stacklevel - 1):
        if frame.f_back is None:
            break
        frame = frame.f_back
    module = frame.f_globals.get("__name__", "<string>")
    lineno = frame.f_lineno
    for action, message, cat, mod, line in warnings.filters:
        if not issubclass(category, cat):
            continue
        if mod is not None and not (mod.match(module) if isinstance(mod, re.Pattern)
                                    else mod == module):
            continue
        if line and line != lineno:
            continue
        if message is not None and action != "error":
            continue
        return action == "error"
    return warnings.defaultaction == "error"


def execute(update, jobs, arrays, *, nbytes, t_label: str, describe_key, owner: str, created,
            splittable: bool = True):
    """Run ``update(job)`` for every job, all or nothing; return the per-key counts.

    Args:
        update: the update of one job; returns a tuple whose first item is its key.
        created: ``results -> {key: how many values became non-finite}``.
        jobs: the blocks of the step, each ``(key, ...)``.
        arrays: every array the jobs write that exists before the step (parameters
            and existing state buffers), as ``(key, array)``; restored on failure.
        nbytes: bytes of all parameters (decides threading).
        t_label: the step's number, for the warning.
        describe_key: ``key -> "params['W1']"``.
        owner: the optimizer's name, for the warning.
        splittable: whether a job may be cut into a head and a tail (an elementwise update);
            ``False`` (each job a whole matrix, as Muon's) always journals the step.

    Raises whatever a job raises (``FloatingPointError`` under ``np.errstate``
    ``raise``, a failing compiled loop, ...) or, where warnings are errors, the
    :class:`NonFiniteWarning`; every array is then as before.
    """
    stacklevel = _optlib_depth()
    honour = honours_errstate()
    total = sum(a.nbytes for _, a in arrays)
    journal = (not splittable or honour or total <= JOURNAL_BYTES
               or warning_may_raise(NonFiniteWarning, stacklevel))
    settings = {} if honour else {"all": "ignore"}
    if journal:
        backup = [a.copy() for _, a in arrays]
        try:
            with np.errstate(**settings):
                results = run_jobs(update, jobs, nbytes)
            _warn(created(results), t_label, describe_key, owner, stacklevel)
        except BaseException:
            _restore(arrays, backup)
            raise
        return results

    # A large step: the head of the first block of each kind runs alone, with a copy of
    # that head (a few hundred KiB: it takes the same code path as the whole block).
    first, rest, seen = [], [], set()
    for job in jobs:
        kind = job_kind(job)
        if kind in seen:
            rest.append(job)
            continue
        seen.add(kind)
        head, tail = split_head(job, HEAD_ELEMENTS)
        first.append(head)
        if tail is not None:
            rest.append(tail)
    done, results = [], []
    try:
        with np.errstate(**settings):
            for j, job in enumerate(first):
                done.append((job, job_backup(job, j)))
                results.append(update(job))
    except BaseException:
        for job, saved in reversed(done):
            job_restore(job, saved)
        raise
    with np.errstate(**settings):
        results += run_jobs(update, rest, nbytes)
    _warn(created(results), t_label, describe_key, owner, stacklevel)
    return results


#: Elements of the guarded head of a large step's first block: as many as a compiled
#: loop needs to take it (the same code path as the rest), and no more.
HEAD_ELEMENTS = _kernels.MIN_ELEMENTS


def split_head(job, elements: int):
    """``job`` split into a head of at least ``elements`` elements (whole rows of its
    block) and the rest: ``(head, tail)``, or ``(job, None)`` where the block is not
    larger than that or cannot be cut along its first axis."""
    key, p, g, buffers, c, index = job
    if index is WHOLE:
        prefix, first = (), slice(0, p.shape[0]) if p.ndim else None
    elif isinstance(index[-1], slice):
        prefix, first = index[:-1], index[-1]
    else:
        return job, None
    block = p[index]
    if first is None or block.ndim == 0 or block.size <= 2 * elements:
        return job, None
    start, stop, _ = first.indices(p[prefix].shape[0] if prefix else p.shape[0])
    rows = -(-elements // math.prod(block.shape[1:]))
    if rows >= stop - start:
        return job, None
    head = (*prefix, slice(start, start + rows))
    tail = (*prefix, slice(start + rows, stop))
    return (key, p, g, buffers, c, head), (key, p, g, buffers, c, tail)


def job_kind(job):
    """What decides the code a job runs: its dtype and whether a compiled loop takes it."""
    key, p, g, buffers, c, index = job
    return (p.dtype, c.fused is not None)


def job_backup(job, j: int):
    """Copies of the block ``job`` writes (its parameter block and state blocks), in the
    calling thread's work arrays (reused at every step: nothing parameter-sized is
    allocated); ``j`` tells apart the blocks saved in one step."""
    key, p, g, buffers, c, index = job
    saved = []
    for i, block in enumerate([p[index]] + [buffer[index] for buffer in buffers.values()]):
        copy = work_array(f"journal:{j}:{i}", block.dtype, block.shape)
        np.copyto(copy, block)
        saved.append(copy)
    return saved


def job_restore(job, saved):
    key, p, g, buffers, c, index = job
    targets = [p[index]] + [buffer[index] for buffer in buffers.values()]
    for target, value in zip(targets, saved):
        np.copyto(target, value)


def _restore(arrays, backup):
    for (_, a), saved in zip(arrays, backup):
        np.copyto(a, saved)


def _warn(created, t_label, describe_key, owner, stacklevel):
    if created:
        parts = ", ".join(f"{count} value(s) of {describe_key(key)}"
                          for key, count in created.items())
        warnings.warn(f"{owner} step {t_label} turned {parts} (or its state) non-finite "
                      "(nan or ±inf) from finite ones: the run diverged (learning rate too "
                      "large?)", NonFiniteWarning, stacklevel=stacklevel + 1)
