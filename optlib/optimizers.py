r"""First-order optimizers: gradient descent, momentum, RMSprop, Adagrad, Adam, AdamW.

Every optimizer follows one contract:

* it is constructed with keyword hyperparameters, validated at once;
* ``opt.step(params, grads)`` updates ``params`` **in place** and returns it.
  ``params`` is a float ndarray, a list (or tuple) of them, or a dict
  ``name -> ndarray`` (a network's ``W1, b1, W2, b2``); ``grads`` has the same
  structure and shapes;
* per-parameter state (named after the mathematics: ``momentum_buffer``,
  ``exp_avg``, ``exp_avg_sq``, ...) is created on the first step and can be read
  through ``opt.state``; ``opt.t`` counts the steps taken; ``opt.reset()`` forgets
  both;
* a hyperparameter may be a numpy array that broadcasts against every
  parameter's shape: parameters of shape ``(K, 2)`` with ``lr`` of shape
  ``(K, 1)`` are K independent two-dimensional runs advanced by one call;
* ``step`` checks everything before it changes anything. When it rejects a
  step (structure or shapes that do not match, non-float arrays, non-finite
  gradients, a hyperparameter that does not broadcast) it raises ``TypeError`` or
  ``ValueError`` and the parameters, the state and ``t`` are exactly as before.

In the equations below, :math:`g` is the gradient, :math:`t` the step count
starting at 1, :math:`\alpha` the learning rate ``lr``.

Large arrays. Once the state exists, ``step`` allocates no parameter-sized array:
every update runs in place through numpy's ``out=`` into small work arrays. A
large parameter is processed in blocks of about 2 MiB (whole rows where they
fit), each block going through the whole chain of ufuncs while it is in cache,
and the blocks are shared among a few threads (numpy releases the GIL inside
ufuncs; ``OPTLIB_NUM_THREADS`` sets their number, 1 turns threads off). Every
element still sees exactly the operations of the equations, in their order, so
the results do not depend on the blocks or the threads. Array hyperparameters
enter the arithmetic in the parameter's dtype, as a Python float does: a float32
batch with ``lr`` of shape ``(K, 1)`` takes bit for bit the steps of K float32
runs with scalar ``lr``.
"""

from __future__ import annotations

import contextvars
import functools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np

from . import _kernels

from ._validate import describe, flag, hyperparameter

__all__ = [
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "RMSprop",
    "Adagrad",
    "Adam",
    "AdamW",
]


# --------------------------------------------------------------------------
# Hyperparameters as validated attributes
# --------------------------------------------------------------------------
class _Validated:
    """An attribute whose every assignment goes through ``_check`` (which names it).

    It defines ``__set__`` but no ``__get__``, so reading the attribute finds the
    validated value in the instance's ``__dict__`` directly (as fast as a plain
    attribute: a step reads a dozen of them).
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __set__(self, obj, value):
        obj.__dict__[self.name] = self._check(value)

    def _check(self, value):  # pragma: no cover - abstract
        raise NotImplementedError


class _Hyper(_Validated):
    """A hyperparameter attribute, validated whenever it is set."""

    def __init__(self, low, high=np.inf, *, low_inclusive=False, high_inclusive=False):
        self.bounds = dict(low=low, high=high, low_inclusive=low_inclusive,
                           high_inclusive=high_inclusive)

    def _check(self, value):
        return hyperparameter(self.name, value, **self.bounds)


class _Flag(_Validated):
    """A boolean switch attribute (``nesterov``, ``decoupled``, ``amsgrad``)."""

    def _check(self, value):
        return flag(self.name, value)


_LR = dict(low=0.0)                                  # lr > 0, finite
_BETA = dict(low=0.0, high=1.0, low_inclusive=True)  # beta in [0, 1)
_NONNEG = dict(low=0.0, low_inclusive=True)          # eps, weight_decay >= 0


# --------------------------------------------------------------------------
# Blocks and threads (large arrays)
# --------------------------------------------------------------------------
# A step is a chain of ufuncs (about 13 for Adam). Applied to whole arrays, each
# ufunc streams its operands from and to memory; applied block by block, a block's
# operands stay in cache for the whole chain, so memory sees each array about
# once per step. The blocks are independent, so a few threads can share them.
_BLOCK_BYTES = 2 << 20        # per operand; larger blocks mean fewer ufunc calls (and GIL
                              # hand-overs), smaller ones a better fit in L2/L3: 1-2 MiB is best
                              # on a 2-core EPYC (1 MiB L2, 32 MiB L3), 64 KiB-256 KiB is slower
_PARALLEL_MIN_BYTES = 2 << 20  # less data than this: the calling thread does it alone


def _thread_count() -> int:
    """Threads sharing a step's blocks: ``OPTLIB_NUM_THREADS``, else the usable CPUs (at most 4)."""
    setting = os.environ.get("OPTLIB_NUM_THREADS", "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


_THREADS = _thread_count()
_pool = None
_pool_lock = threading.Lock()


def _executor():
    """The shared pool of ``_THREADS - 1`` helper threads, made on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="optlib")
        return _pool


def _forget_pool():
    """In a forked child the pool's threads do not exist: make a new pool when needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _block_size(dtype) -> int:
    """Elements per block for arrays of ``dtype``."""
    return max(1, _BLOCK_BYTES // np.dtype(dtype).itemsize)


_WHOLE = (Ellipsis,)             # the index of an array that is a single block


@functools.lru_cache(maxsize=256)
def _blocks(shape: tuple, size: int) -> tuple:
    """Index tuples that split an array of ``shape`` into blocks of at most ``size`` elements.

    An array of at most ``size`` elements is one block, ``_WHOLE``. Otherwise a
    block is a run of whole rows (sub-arrays along the first axis) or, when one
    row is larger than ``size``, a block of that row, recursively; blocks of a
    C-contiguous array are contiguous. Every block is a view, never a copy.
    """
    if math.prod(shape) <= size:
        return (_WHOLE,)

    def split(shape):
        inner = math.prod(shape[1:])
        if inner > size:
            return [(i, *rest) for i in range(shape[0]) for rest in split(shape[1:])]
        count = -(-shape[0] // (size // inner))      # as few blocks as fit ...
        rows = -(-shape[0] // count)                  # ... of nearly equal size
        return [(slice(i, i + rows),) for i in range(0, shape[0], rows)]

    return tuple(split(shape))


def _run_jobs(fn, jobs, nbytes):
    """``[fn(job) for job in jobs]``, shared among threads if ``nbytes`` is large.

    Worker ``w`` (0 is the calling thread) takes ``jobs[w::n]``. The helpers run
    in a copy of the caller's context, so ``np.errstate`` applies to them too.
    The call returns only when every job has finished.
    """
    n = min(_THREADS, len(jobs)) if nbytes >= _PARALLEL_MIN_BYTES else 1
    if n == 1:
        return [fn(job) for job in jobs]

    def work(w):
        return [fn(job) for job in jobs[w::n]]

    futures = []
    try:
        pool = _executor()
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


def _work_array(name: str, dtype, shape) -> np.ndarray:
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


def _block_is_finite(block) -> bool:
    """Whether every element of ``block`` is finite, through a work array (no allocation)."""
    compiled = _kernels.block_is_finite(block)
    if compiled is not None:
        return compiled
    finite = np.isfinite(block, out=_work_array("finite", np.dtype(bool), block.shape))
    return bool(finite.all())


_SMALL = 4096                    # elements: a temporary this size costs less than blocking


def _all_finite(g) -> bool:
    """``np.all(np.isfinite(g))``, block by block: no array of g's size is allocated
    (except for small arrays, where a temporary is cheaper than the machinery)."""
    if g.size <= _SMALL:
        return bool(np.isfinite(g).all())
    g = _c_ordered(g)
    return all(_run_jobs(lambda index: _block_is_finite(g[index]),
                         _blocks(g.shape, _block_size(g.dtype)), g.nbytes))


def _count_non_finite(g) -> int:
    """How many elements of ``g`` are nan or infinite (block by block)."""
    g = _c_ordered(g)
    count = 0
    for index in _blocks(g.shape, _block_size(g.dtype)):
        block = g[index]
        compiled = _kernels.block_non_finite(block)
        if compiled is not None:
            count += compiled
            continue
        finite = np.isfinite(block, out=_work_array("finite", np.dtype(bool), block.shape))
        count += block.size - int(np.count_nonzero(finite))
    return count


# --------------------------------------------------------------------------
# Parameter structures
# --------------------------------------------------------------------------
def _leaves(params, grads):
    """Pair up parameters and gradients: a list of ``(key, param, grad)``.

    Raises ``TypeError``/``ValueError`` for anything :meth:`Optimizer.step`
    cannot apply; changes nothing.
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

    seen = []
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
        if any(np.may_share_memory(g, q) for _, q, _ in pairs):
            raise ValueError(f"grads{where} shares memory with a parameter, which the step "
                             "updates; pass a separate gradient array")
        if any(np.may_share_memory(p, q) for q in seen):
            raise ValueError(f"params{where} shares memory with another parameter; each would be "
                             "updated twice")
        seen.append(p)
        if not _all_finite(g):
            bad = _count_non_finite(g)
            raise ValueError(f"grads{where} has {bad} non-finite value(s) (nan or inf); "
                             "the step was not taken")
    return pairs


# --------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------
class Optimizer:
    """Base class: structure handling, validation, state and step counting.

    Subclasses list their hyperparameters in ``_hyper_names``, the names of their
    per-parameter buffers in ``_state_names``, and implement

    * ``_coefficients(t)``: the numbers step ``t`` needs, by name (floats, or
      float64 arrays where hyperparameters are arrays), computed once per step;
    * ``_update(p, g, state, c)``: the update of one block, in place, with ``p``,
      ``g`` and the buffers in ``state`` views of that block and ``c`` the
      coefficients as attributes (arrays cast to ``p``'s dtype and cut to the
      block). It may assume that every check has passed and must allocate
      nothing of the block's size: results go to ``out=`` arrays, temporaries
      to ``_work_array(name, dtype, shape)``.
    """

    _hyper_names: tuple[str, ...] = ()
    _flag_names: tuple[str, ...] = ()
    _state_names: tuple[str, ...] = ()

    def __init__(self):
        self.reset()

    # -- public ------------------------------------------------------------
    @property
    def t(self) -> int:
        """Number of steps taken since construction or the last :meth:`reset`."""
        return self._t

    @property
    def hyperparameters(self) -> dict:
        """The hyperparameters by name (scalars as floats, arrays as read-only arrays)."""
        return {name: getattr(self, name) for name in self._hyper_names}

    @property
    def state(self):
        """Per-parameter buffers, in the structure of ``params``.

        For an ndarray: a dict ``buffer name -> array``; for a list: a list of
        such dicts; for a dict of parameters: ``name -> dict``. Empty (``{}``)
        before the first step.
        """
        if self._state is None:
            return {}
        if self._kind == "array":
            return self._state[None]
        if self._kind == "list":
            return [self._state[i] for i in range(len(self._state))]
        return dict(self._state)

    def reset(self) -> None:
        """Forget all state and set the step count back to 0."""
        self._t = 0
        self._state = None
        self._layout = None     # key -> (shape, dtype) of the first step's params
        self._kind = None

    def step(self, params, grads):
        """Apply one update to ``params`` in place and return ``params``.

        Args:
            params: float ndarray, list of them, or dict name -> ndarray.
            grads: the gradients, in the same structure and shapes.

        Returns:
            ``params`` (the same object), updated.

        Raises:
            TypeError, ValueError: nothing is changed when the step is rejected.
        """
        pairs = _leaves(params, grads)
        self._check_hyper_shapes(pairs)
        kind = ("array" if isinstance(params, np.ndarray)
                else "list" if isinstance(params, (list, tuple)) else "dict")
        if self._state is None:
            state = {key: {name: np.zeros_like(p) for name in self._state_names}
                     for key, p, _ in pairs}
            layout = {key: (p.shape, p.dtype) for key, p, _ in pairs}
        else:
            self._check_state(kind, pairs)
            state, layout = self._state, self._layout
        # Every check has passed: from here on nothing raises.
        self._state, self._layout, self._kind = state, layout, kind
        self._apply(pairs)
        return params

    def _step_checked_array(self, w, grad):
        """``step(w, grad)`` without the checks, for :func:`optlib.run`'s inner loop.

        Only for an ndarray ``w`` that has taken a checked :meth:`step` with this
        optimizer since the last reset (so the state, hyperparameter shapes and
        dtype are known to fit) and a fresh, finite ``grad`` of ``w``'s shape and
        dtype that shares no memory with it: what ``run`` guarantees. The
        arithmetic is exactly :meth:`step`'s.
        """
        self._apply([(None, w, grad)])
        return w

    def _apply(self, pairs):
        """The update of checked ``pairs`` with the existing state; counts the step."""
        state, layout = self._state, self._layout
        self._t += 1
        coefficients = self._coefficients(self._t)
        per_layout = {}         # parameters of one shape and dtype share their coefficients
        jobs = []
        for key, p, g in pairs:
            c = per_layout.get(layout[key])
            if c is None:
                c = per_layout[layout[key]] = _coefficients_for(coefficients, p)
                # numba is imported only once some parameter is large enough to use it
                c.fused = (self._fused(c, p.dtype) if p.size >= _kernels.MIN_ELEMENTS
                           and _kernels.get() is not None else None)
            buffers = state[key]
            axes = _c_order_axes(p)
            if axes is not None:
                # Fortran-ordered or transposed: the same elementwise update on views
                # permuted to C order, so that blocks are contiguous like the work arrays.
                c = SimpleNamespace(**{
                    name: np.broadcast_to(value, p.shape).transpose(axes)
                    if isinstance(value, np.ndarray) else value for name, value in vars(c).items()})
                p, g = p.transpose(axes), g.transpose(axes)
                buffers = {name: buffer.transpose(axes) for name, buffer in buffers.items()}
            jobs += [(p, g, buffers, c, index)
                     for index in _blocks(p.shape, _block_size(p.dtype))]
        _run_jobs(self._update_block, jobs, sum(p.nbytes for _, p, _ in pairs))

    def _update_block(self, job):
        """The update of one block: the compiled loop where it applies, else ``_update``."""
        p, g, state, c, index = job
        if index is not _WHOLE:
            p, g = p[index], g[index]
            state = {name: buffer[index] for name, buffer in state.items()}
            c = SimpleNamespace(**{name: value[index] if isinstance(value, np.ndarray) else value
                                   for name, value in vars(c).items()})
        arrays = None if c.fused is None else _kernels.views(p, g, *state.values())
        if arrays is not None:
            loop, scalars = c.fused
            loop(*arrays, *scalars)
            return
        self._update(p, g, state, c)

    def _fused(self, c, dtype):
        """The compiled loop for this optimizer and its scalar arguments in ``dtype``:
        ``(loop, scalars)``, or ``None`` where there is none (then ``_update`` runs)."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={describe(getattr(self, n))}"
                         for n in self._hyper_names + self._flag_names)
        return f"{type(self).__name__}({args})"

    # -- checks ------------------------------------------------------------
    def _check_hyper_shapes(self, pairs) -> None:
        for name in self._hyper_names:
            value = getattr(self, name)
            if not isinstance(value, np.ndarray):
                continue
            for key, p, _ in pairs:
                try:
                    ok = np.broadcast_shapes(value.shape, p.shape) == p.shape
                except ValueError:
                    ok = False
                if not ok:
                    where = "params" if key is None else f"params[{key!r}]"
                    raise ValueError(
                        f"{name} of shape {value.shape} does not broadcast against {where} of "
                        f"shape {p.shape}"
                    )

    def _check_state(self, kind, pairs) -> None:
        same = kind == self._kind and len(pairs) == len(self._layout) and all(
            self._layout.get(key) == (p.shape, p.dtype) for key, p, _ in pairs
        )
        if not same:
            raise ValueError(
                "params do not match the structure, shapes or dtypes of the first step "
                f"(state holds {self._describe_state()}); call reset() to start over with new "
                "parameters"
            )

    def _describe_state(self) -> str:
        return ", ".join(f"{'array' if k is None else repr(k)}: {shape} {dtype}"
                         for k, (shape, dtype) in self._layout.items())

    def _coefficients(self, t) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, p, g, state, c):  # pragma: no cover - abstract
        raise NotImplementedError


def _c_order_axes(p):
    """The axis order that makes ``p`` C-contiguous (a Fortran-ordered or transposed
    array), or ``None`` when ``p`` is C-contiguous already or no order does."""
    if p.ndim < 2 or p.flags.c_contiguous:
        return None
    axes = tuple(sorted(range(p.ndim), key=lambda axis: -abs(p.strides[axis])))
    return axes if p.transpose(axes).flags.c_contiguous else None


def _c_ordered(a):
    """``a``, or a C-contiguous transposed view of it if there is one."""
    axes = _c_order_axes(a)
    return a if axes is None else a.transpose(axes)


def _scalars(c, dtype, names):
    """Coefficients ``names`` as scalars of ``dtype`` for a compiled loop, or ``None`` if
    one of them is an array (batched hyperparameters take the numpy path)."""
    values = [getattr(c, name) for name in names]
    if any(isinstance(value, np.ndarray) for value in values):
        return None
    return tuple(dtype.type(value) for value in values)


def _coefficients_for(coefficients, p) -> SimpleNamespace:
    """A step's coefficients for parameter ``p``: arrays in ``p``'s dtype.

    A float stays a Python float, which numpy rounds to ``p``'s dtype inside each
    ufunc; an array is rounded the same way once here (an array of the
    hyperparameter's size), so both give the same arithmetic. Arrays are
    broadcast to ``p``'s shape (a view) when ``p`` has several blocks, so that a
    block can cut its part. ``eps_positive`` says whether ``eps`` is positive
    everywhere in that dtype.
    """
    out = SimpleNamespace(**coefficients)
    whole = _blocks(p.shape, _block_size(p.dtype)) == (_WHOLE,)
    for name, value in coefficients.items():
        if isinstance(value, np.ndarray):
            value = value.astype(p.dtype, copy=False)
            setattr(out, name, value if whole else np.broadcast_to(value, p.shape))
    if "eps" in coefficients:
        eps = coefficients["eps"]
        out.eps_positive = bool(np.all(eps.astype(p.dtype) > 0) if isinstance(eps, np.ndarray)
                                else p.dtype.type(eps) > 0)
    return out


# --------------------------------------------------------------------------
# The optimizers
# --------------------------------------------------------------------------
class GradientDescent(Optimizer):
    r"""Plain gradient descent.

    .. math::

        w \leftarrow w - \alpha\, g

    Args:
        lr: learning rate :math:`\alpha > 0` (scalar or array broadcasting
            against each parameter).

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0, 1.0])
        >>> GradientDescent(lr=0.1).step(w, np.array([1.0, 25.0]))
        array([ 0.9, -1.5])
    """

    _hyper_names = ("lr",)
    lr = _Hyper(**_LR)

    def __init__(self, lr):
        self.lr = lr
        super().__init__()

    def _coefficients(self, t):
        return {"lr": self.lr}

    def _fused(self, c, dtype):
        scalars = _scalars(c, dtype, ("lr",))
        return None if scalars is None else (_kernels.get().gradient_descent, scalars)

    def _update(self, p, g, state, c):
        scratch = _work_array("scratch", p.dtype, p.shape)
        np.multiply(g, c.lr, out=scratch)
        p -= scratch


class Momentum(Optimizer):
    r"""Momentum as an exponentially weighted average of gradients.

    .. math::

        v \leftarrow \beta\, v + (1-\beta)\, g, \qquad w \leftarrow w - \alpha\, v

    with :math:`v_0 = 0`. With ``nesterov=True`` the step looks ahead, using the
    new :math:`v`:

    .. math::

        w \leftarrow w - \alpha\,\big(\beta\, v + (1-\beta)\, g\big)

    ``Momentum(lr=α, beta=β)`` is exactly Polyak's heavy ball
    :math:`w_{t+1} = w_t - \alpha(1-\beta)\, g_t + \beta\,(w_t - w_{t-1})`; with
    :math:`\beta = 0` it is gradient descent.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: averaging coefficient :math:`\beta \in [0, 1)`; the average spans
            about :math:`1/(1-\beta)` steps.
        nesterov: use Nesterov's look-ahead form.

    State:
        ``momentum_buffer``: :math:`v`.

    .. warning::
        ``torch.optim.SGD(momentum=β)`` accumulates :math:`b \leftarrow \beta b + g`
        (no :math:`1-\beta`; :math:`b_1 = g_1`). Since :math:`v_t = (1-\beta)\, b_t`,
        ``SGD(lr=α(1−β), momentum=β)`` (``dampening=0``) takes exactly the steps of
        ``Momentum(lr=α, beta=β)``; ``SGD(dampening=β)`` does not, because torch skips
        the dampening on its first step.

    Examples:
        >>> import numpy as np
        >>> w = np.array([1.0])
        >>> opt = Momentum(lr=0.5, beta=0.9)
        >>> opt.step(w, np.array([2.0]))   # v = 0.2, w = 1 - 0.5 * 0.2
        array([0.9])
    """

    _hyper_names = ("lr", "beta")
    _flag_names = ("nesterov",)
    _state_names = ("momentum_buffer",)
    lr = _Hyper(**_LR)
    beta = _Hyper(**_BETA)
    nesterov = _Flag()

    def __init__(self, lr, beta=0.9, nesterov=False):
        self.lr = lr
        self.beta = beta
        self.nesterov = nesterov
        super().__init__()

    def _coefficients(self, t):
        c = {"lr": self.lr, "beta": self.beta, "one_minus_beta": 1.0 - self.beta}
        if self.nesterov:
            c["lr_beta"] = self.lr * self.beta
        return c

    def _fused(self, c, dtype):
        if self.nesterov:
            scalars = _scalars(c, dtype, ("beta", "one_minus_beta", "lr", "lr_beta"))
            loop = _kernels.get().momentum_nesterov
        else:
            scalars = _scalars(c, dtype, ("beta", "one_minus_beta", "lr"))
            loop = _kernels.get().momentum
        return None if scalars is None else (loop, scalars)

    def _update(self, p, g, state, c):
        scratch = _work_array("scratch", p.dtype, p.shape)
        v = state["momentum_buffer"]
        v *= c.beta
        np.multiply(g, c.one_minus_beta, out=scratch)     # (1 - beta) g
        v += scratch
        if self.nesterov:
            scratch *= c.lr                                # alpha (1 - beta) g
            p -= scratch
            np.multiply(v, c.lr_beta, out=scratch)         # alpha beta v
        else:
            np.multiply(v, c.lr, out=scratch)
        p -= scratch


def _divide_by_root(numerator, denominator, c, out):
    r"""``out = numerator / (denominator ** 0.5 + eps)``, with x/0 read as 0.

    The denominator can only be 0 when ``eps = 0`` and the second-moment estimate
    is exactly 0 there: every gradient so far was 0, or the estimate decayed or
    underflowed to 0 (``beta = 0``, or gradients below about 1e-154). The step
    is then 0 rather than an infinite or nan one; with any ``eps > 0`` this never
    happens (the denominator is at least eps), so no mask is needed then.
    """
    np.sqrt(denominator, out=out)
    out += c.eps
    if c.eps_positive:
        return np.divide(numerator, out, out=out)
    positive = np.greater(out, 0, out=_work_array("positive", np.dtype(bool), out.shape))
    return np.divide(numerator, out, out=out, where=positive)


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running average of squared gradients.

    .. math::

        s \leftarrow \beta\, s + (1-\beta)\, g^2, \qquad
        w \leftarrow w - \alpha\, \frac{g}{\sqrt{s} + \varepsilon}

    with :math:`s_0 = 0`; squares, roots and division act element by element,
    so every parameter gets its own step size :math:`\alpha / (\sqrt{s} + \varepsilon)`.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: averaging coefficient :math:`\beta \in [0, 1)`.
        eps: :math:`\varepsilon \ge 0`, added *outside* the square root.

    State:
        ``square_avg``: :math:`s`.

    .. warning::
        Some libraries add :math:`\varepsilon` inside the root,
        :math:`\sqrt{s + \varepsilon}`; torch.optim.RMSprop uses ``alpha`` for
        :math:`\beta` and defaults to 0.99.
    """

    _hyper_names = ("lr", "beta", "eps")
    _state_names = ("square_avg",)
    lr = _Hyper(**_LR)
    beta = _Hyper(**_BETA)
    eps = _Hyper(**_NONNEG)

    def __init__(self, lr, beta=0.9, eps=1e-8):
        self.lr = lr
        self.beta = beta
        self.eps = eps
        super().__init__()

    def _coefficients(self, t):
        return {"lr": self.lr, "beta": self.beta, "one_minus_beta": 1.0 - self.beta,
                "eps": self.eps}

    def _update(self, p, g, state, c):
        scratch = _work_array("scratch", p.dtype, p.shape)
        s = state["square_avg"]
        s *= c.beta
        np.square(g, out=scratch)
        scratch *= c.one_minus_beta
        s += scratch
        _divide_by_root(g, s, c, out=scratch)
        scratch *= c.lr
        p -= scratch


class Adagrad(Optimizer):
    r"""Adagrad: divide by the root of all squared gradients so far.

    .. math::

        s \leftarrow s + g^2, \qquad
        w \leftarrow w - \alpha\, \frac{g}{\sqrt{s} + \varepsilon}

    with :math:`s_0 = 0`. Since :math:`s` only grows, the steps shrink forever.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        eps: :math:`\varepsilon \ge 0`, added outside the square root.

    State:
        ``sum_sq``: :math:`s`.
    """

    _hyper_names = ("lr", "eps")
    _state_names = ("sum_sq",)
    lr = _Hyper(**_LR)
    eps = _Hyper(**_NONNEG)

    def __init__(self, lr, eps=1e-10):
        self.lr = lr
        self.eps = eps
        super().__init__()

    def _coefficients(self, t):
        return {"lr": self.lr, "eps": self.eps}

    def _update(self, p, g, state, c):
        scratch = _work_array("scratch", p.dtype, p.shape)
        s = state["sum_sq"]
        np.square(g, out=scratch)
        s += scratch
        _divide_by_root(g, s, c, out=scratch)
        scratch *= c.lr
        p -= scratch


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop on its square, both bias-corrected.

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2)\, g^2,

        w \leftarrow w - \alpha\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \varepsilon}

    with :math:`m_0 = v_0 = 0`. Weight decay :math:`\lambda`:

    * ``decoupled=False`` (L2 in the gradient): first :math:`g \leftarrow g + \lambda w`;
    * ``decoupled=True`` (AdamW): first :math:`w \leftarrow w - \alpha\lambda\, w`,
      and the gradient is used as it is.

    With ``amsgrad=True``, :math:`v_{\max} \leftarrow \max(v_{\max}, v)` and
    :math:`v_{\max}` replaces :math:`v` in the step, so the per-parameter step size
    never grows.

    Args:
        lr: learning rate :math:`\alpha > 0` (default 1e-3).
        beta1: first-moment coefficient :math:`\beta_1 \in [0, 1)` (default 0.9).
        beta2: second-moment coefficient :math:`\beta_2 \in [0, 1)` (default 0.999).
        eps: :math:`\varepsilon \ge 0`, outside the root (default 1e-8).
        weight_decay: :math:`\lambda \ge 0` (default 0).
        decoupled: decoupled (AdamW) weight decay instead of L2.
        amsgrad: use the running maximum of :math:`v`.

    State:
        ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`) and, with amsgrad,
        ``max_exp_avg_sq`` (:math:`v_{\max}`).

    .. warning::
        The bias correction of :math:`v` sits inside the root and
        :math:`\varepsilon` outside, as in Kingma & Ba (2015) and torch.optim.Adam;
        optax's ``eps_root`` is a different, inside-the-root term.
    """

    _hyper_names = ("lr", "beta1", "beta2", "eps", "weight_decay")
    _flag_names = ("decoupled", "amsgrad")
    lr = _Hyper(**_LR)
    beta1 = _Hyper(**_BETA)
    beta2 = _Hyper(**_BETA)
    eps = _Hyper(**_NONNEG)
    weight_decay = _Hyper(**_NONNEG)
    decoupled = _Flag()
    amsgrad = _Flag()

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 decoupled=False, amsgrad=False):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.decoupled = decoupled
        self.amsgrad = amsgrad
        super().__init__()

    @property
    def _state_names(self):
        names = ("exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if self.amsgrad else names

    def step(self, params, grads):
        # amsgrad decides which buffers exist: it may not change once they do.
        if self._state is not None and self.amsgrad != self._amsgrad_at_start:
            raise ValueError(
                f"amsgrad was changed to {self.amsgrad} after the first step; call reset() first"
            )
        result = super().step(params, grads)
        self._amsgrad_at_start = self.amsgrad
        return result

    def _coefficients(self, t):
        lr, wd = self.lr, self.weight_decay
        c = {"beta1": self.beta1, "one_minus_beta1": 1.0 - self.beta1,
             "beta2": self.beta2, "one_minus_beta2": 1.0 - self.beta2,
             "correction2": 1.0 - self.beta2 ** t,
             "step_size": lr / (1.0 - self.beta1 ** t), "eps": self.eps,
             "shrink": None, "weight_decay": None}
        if (np.any(wd != 0) if isinstance(wd, np.ndarray) else wd != 0):
            if self.decoupled:
                c["shrink"] = 1.0 - lr * wd
            else:
                c["weight_decay"] = wd
        return c

    def _update(self, p, g, state, c):
        scratch = _work_array("scratch", p.dtype, p.shape)
        if c.shrink is not None:                    # decoupled: w <- (1 - alpha lambda) w
            p *= c.shrink
        elif c.weight_decay is not None:            # L2: g <- g + lambda w enters the moments
            decayed = _work_array("decayed_grad", np.result_type(g, p), g.shape)
            np.multiply(c.weight_decay, p, out=decayed)
            g = np.add(g, decayed, out=decayed)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= c.beta1
        np.multiply(g, c.one_minus_beta1, out=scratch)
        m += scratch
        v *= c.beta2
        np.square(g, out=scratch)
        scratch *= c.one_minus_beta2
        v += scratch
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        np.divide(v, c.correction2, out=scratch)    # v / (1 - beta2^t)
        _divide_by_root(m, scratch, c, out=scratch)
        scratch *= c.step_size                      # alpha / (1 - beta1^t)
        p -= scratch


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    ``AdamW(...)`` is ``Adam(..., decoupled=True)``:

    .. math::

        w \leftarrow w - \alpha\lambda\, w, \quad\text{then the Adam step with } g.

    Args:
        lr, beta1, beta2, eps, amsgrad: as in :class:`Adam`.
        weight_decay: :math:`\lambda \ge 0` (default 1e-2).
    """

    _flag_names = ("amsgrad",)

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         decoupled=True, amsgrad=amsgrad)
