r"""Learning-rate schedules: the multiplier :math:`\mu_t` of the learning rate at step :math:`t`.

Every optimizer of :mod:`optlib.optimizers` takes ``schedule=``: with a schedule
:math:`\mu`, step :math:`t = 1, 2, \dots` uses the learning rate

.. math::

    \alpha_t = \alpha\, \mu_t

in place of :math:`\alpha` everywhere :math:`\alpha` appears in its update rule
(AdamW's decoupled decay :math:`w \leftarrow (1 - \alpha_t\delta)\, w` included, as in
torch.optim). ``schedule=None`` is :math:`\mu_t = 1`. An array :math:`\alpha` (a batch
of runs) is multiplied by the same :math:`\mu_t`.

The schedules here:

========================================  ==================================================
``Cosine(total, final=0.0)``               cosine from 1 down to ``final`` over ``total`` steps
``Linear(total, start=1.0, end=0.0)``      straight line from ``start`` to ``end`` over ``total`` steps
``StepDecay(every, factor)``               times ``factor`` every ``every`` steps
``Warmup(steps, then=None)``               :math:`t/\text{steps}` up to 1, then another schedule
========================================  ==================================================

They are immutable, compare equal when they are the same schedule, and are
evaluated at a whole number :math:`t \ge 1`, or at an array of them (for a
plot; element by element with the same arithmetic, so both give the same
bits)::

    >>> from optlib.schedules import Cosine, Warmup
    >>> Cosine(total=4)(1), Cosine(total=4)(3), Cosine(total=4)(5), Cosine(total=4)(9)
    (1.0, 0.5, 0.0, 0.0)
    >>> Warmup(4, then=Cosine(total=4))([1, 2, 3, 4, 5, 7, 9])
    array([0.25, 0.5 , 0.75, 1.  , 1.  , 0.5 , 0.  ])

**Your own schedule.** Any callable ``mu`` can be a schedule: it is called as
``mu(t)`` with a Python ``int`` ``t = 1, 2, ...`` (the schedule's own step count)
and must return a real number that is finite and :math:`\ge 0` (a Python or
numpy float or int, or a 0-d array; not a bool). The optimizer calls it once
per step, before it changes anything, and checks the value: a value that is
not a finite number :math:`\ge 0` raises ``TypeError``/``ValueError``, and an
exception raised by ``mu`` itself passes through; either way the step is not
taken and nothing is changed. ``mu`` should depend on ``t`` alone: a checkpoint
(:meth:`~optlib.optimizers.Optimizer.state_dict`) stores the schedule and its
position, not what a callable may keep inside itself. A checkpoint holds the
schedules of this module as plain data (:meth:`Schedule.config`), and any other
callable as the object itself, so it pickles only if the callable does (a
function defined at module level does, a lambda does not).

**The schedule's position.** A schedule counts its own steps: it is evaluated
at the number of steps taken since it was set (by the optimizer's constructor,
by assigning ``opt.schedule``, or since ``opt.reset()``), which is
``opt.schedule_t`` after the step. For a schedule given to the constructor this
is the optimizer's step count ``opt.t``; assigning a schedule in the middle of a
run starts it at its step 1, like a new torch scheduler.

**torch.** With ``scheduler.step()`` called after each ``optimizer.step()``,
torch's learning rate at step :math:`t` is :math:`\alpha\,\mu_t` for
``Cosine(T, f)`` = ``CosineAnnealingLR(T_max=T, eta_min=f·lr)`` (for :math:`t \le T + 1`:
torch's cosine rises again after :math:`T_{\max}`, ours stays at ``final``),
``Linear(T, a, b)`` = ``LinearLR(start_factor=a, end_factor=b, total_iters=T)``
(torch requires :math:`0 < a \le 1`, :math:`0 \le b \le 1`), ``StepDecay(k, γ)`` =
``StepLR(step_size=k, gamma=γ)``, and ``Warmup(n, then)`` = ``SequentialLR`` of
``LinearLR(start_factor=1/n, end_factor=1, total_iters=n−1)`` and ``then``'s scheduler,
with ``milestones=[n]``. torch updates its learning rate recursively (each step
multiplies the last one), so the two agree to rounding, not bit for bit.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import as_array, describe, instance, real, whole

__all__ = ["Schedule", "Cosine", "Linear", "StepDecay", "Warmup", "from_config", "multiplier"]


class Schedule:
    r"""Base class of the schedules: a callable :math:`t \mapsto \mu_t`, immutable.

    A subclass lists its constructor's arguments in ``_fields`` (in order), sets
    them in ``__init__`` through ``_set``, and computes :math:`\mu_t` for a Python
    ``int`` ``t >= 1`` in ``_value(t)``.
    """

    _fields: tuple[str, ...] = ()
    __slots__ = ()

    def __call__(self, t):
        """:math:`\\mu_t` at a whole number ``t >= 1`` (a ``float``), or at an array of them
        (a float64 array of the same shape, each element computed as for a single ``t``).

        Raises:
            TypeError: ``t`` is not a whole number or an array of whole numbers.
            ValueError: some ``t < 1``.
        """
        if isinstance(t, numbers.Integral) and not isinstance(t, (bool, np.bool_)):
            return self._value(whole("t", t, low=1))
        arr = as_array("t", t, kinds="iu", what="a whole number ≥ 1 or an array of them")
        if arr.size and arr.min() < 1:
            raise ValueError(f"t must be whole numbers ≥ 1 (steps count from 1), got "
                             f"t={describe(t)}")
        out = np.empty(arr.shape, dtype=np.float64)
        for index, k in np.ndenumerate(arr):
            out[index] = self._value(int(k))
        return out

    def config(self) -> dict:
        """The schedule as plain data, ``{"name": "Cosine", "total": 100, "final": 0.0}``:
        what a checkpoint stores; :func:`from_config` makes the schedule again. A nested
        schedule of this module is nested config; any other callable is kept as it is."""
        values = {}
        for name in self._fields:
            value = getattr(self, name)
            values[name] = value.config() if isinstance(value, Schedule) else value
        return {"name": type(self).__name__, **values}

    # -- immutability, equality, repr, pickling ----------------------------
    def _set(self, **values):
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}; make a "
                             "new schedule instead")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def _args(self) -> tuple:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._args() == other._args()

    def __hash__(self):
        return hash((type(self).__name__, self._args()))

    def __reduce__(self):
        return type(self), self._args()

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={describe(getattr(self, name))}" for name in self._fields)
        return f"{type(self).__name__}({args})"

    def _value(self, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class Cosine(Schedule):
    r"""Cosine decay from 1 to ``final`` over ``total`` steps, then ``final``.

    .. math::

        \mu_t = \mu_{\text{final}} + \big(1 - \mu_{\text{final}}\big)\,
        \frac{1 + \cos\!\big(\pi \min(t-1,\, T)/T\big)}{2}

    with :math:`T` = ``total``: :math:`\mu_1 = 1`, :math:`\mu_{T+1} = \mu_{\text{final}}`,
    and :math:`\mu_t = \mu_{\text{final}}` for every :math:`t > T` (Loshchilov & Hutter,
    2017, without restarts).

    This is torch's ``CosineAnnealingLR(T_max=total, eta_min=final·lr)`` with
    ``scheduler.step()`` after each ``optimizer.step()``, for :math:`t \le T + 1`.

    .. warning::
        torch's cosine does not stop at :math:`T_{\max}`: its learning rate follows
        :math:`\cos(\pi\,(t-1)/T_{\max})` on and rises back towards ``lr`` over the next
        :math:`T_{\max}` steps (a period of :math:`2T_{\max}`). Ours stays at ``final``.

    Args:
        total: :math:`T`, the number of steps of the decay, a whole number :math:`\ge 1`.
        final: :math:`\mu_{\text{final}} \ge 0`, the multiplier at the end (default 0).

    Examples:
        >>> Cosine(total=100, final=0.1)
        Cosine(total=100, final=0.1)
        >>> Cosine(total=2)([1, 2, 3, 4])
        array([1. , 0.5, 0. , 0. ])
    """

    _fields = ("total", "final")
    __slots__ = _fields

    def __init__(self, total, final=0.0):
        self._set(total=whole("total", total, low=1), final=real("final", final, low=0.0))

    def _value(self, t):
        k = min(t - 1, self.total)
        return self.final + (1.0 - self.final) * (1.0 + math.cos(math.pi * k / self.total)) / 2.0


class Linear(Schedule):
    r"""A straight line from ``start`` to ``end`` over ``total`` steps, then ``end``.

    .. math::

        \mu_t = \mu_{\text{start}} + \big(\mu_{\text{end}} - \mu_{\text{start}}\big)\,
        \frac{\min(t-1,\, T)}{T}

    with :math:`T` = ``total``: :math:`\mu_1 = \mu_{\text{start}}` and :math:`\mu_t =
    \mu_{\text{end}}` for :math:`t \ge T + 1`. The default is linear decay to zero.

    This is torch's ``LinearLR(start_factor=start, end_factor=end, total_iters=total)``
    with ``scheduler.step()`` after each ``optimizer.step()`` (torch requires
    :math:`0 < \mu_{\text{start}} \le 1` and :math:`0 \le \mu_{\text{end}} \le 1`; here
    any finite :math:`\mu_{\text{start}}, \mu_{\text{end}} \ge 0` will do).

    Args:
        total: :math:`T`, the number of steps of the ramp, a whole number :math:`\ge 1`.
        start: :math:`\mu_{\text{start}} \ge 0` (default 1).
        end: :math:`\mu_{\text{end}} \ge 0` (default 0).

    Examples:
        >>> Linear(total=4)([1, 2, 3, 4, 5, 6])
        array([1.  , 0.75, 0.5 , 0.25, 0.  , 0.  ])
    """

    _fields = ("total", "start", "end")
    __slots__ = _fields

    def __init__(self, total, start=1.0, end=0.0):
        self._set(total=whole("total", total, low=1), start=real("start", start, low=0.0),
                  end=real("end", end, low=0.0))

    def _value(self, t):
        return self.start + (self.end - self.start) * min(t - 1, self.total) / self.total


class StepDecay(Schedule):
    r"""Multiply by ``factor`` every ``every`` steps.

    .. math::

        \mu_t = \gamma^{\lfloor (t-1)/k \rfloor}

    with :math:`k` = ``every`` and :math:`\gamma` = ``factor``: steps :math:`1, \dots, k` use
    :math:`\mu = 1`, steps :math:`k+1, \dots, 2k` use :math:`\gamma`, and so on.

    This is torch's ``StepLR(step_size=every, gamma=factor)`` with ``scheduler.step()``
    after each ``optimizer.step()``. A :math:`\gamma > 1` (allowed, as in torch) grows
    without bound; once :math:`\gamma^{\lfloor (t-1)/k\rfloor}` overflows, :math:`\mu_t`
    is ``inf`` and an optimizer refuses the step.

    Args:
        every: :math:`k`, a whole number :math:`\ge 1`.
        factor: :math:`\gamma > 0` (0.1 for the classic divide-by-ten).

    Examples:
        >>> StepDecay(every=2, factor=0.5)([1, 2, 3, 4, 5])
        array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    """

    _fields = ("every", "factor")
    __slots__ = _fields

    def __init__(self, every, factor):
        self._set(every=whole("every", every, low=1),
                  factor=real("factor", factor, low=0.0, low_inclusive=False))

    def _value(self, t):
        try:
            return self.factor ** ((t - 1) // self.every)
        except OverflowError:
            return math.inf


class Warmup(Schedule):
    r"""Linear warmup from :math:`1/n` to 1 over ``steps`` = :math:`n` steps, then ``then``.

    .. math::

        \mu_t = \begin{cases} t/n & t \le n, \\ \nu_{t-n} & t > n, \end{cases}

    where :math:`\nu` is the schedule ``then``, started at its own step 1 after the warmup
    (:math:`\nu \equiv 1` when ``then`` is ``None``). So ``Warmup(10, Cosine(90))`` is 100
    steps: 10 of warmup, then a cosine decay over the remaining 90.

    With torch: ``SequentialLR(opt, [LinearLR(opt, start_factor=1/n, end_factor=1.0,
    total_iters=n-1), then_scheduler], milestones=[n])`` (for :math:`n \ge 2`; for ``then``
    = ``None`` the ``LinearLR`` alone), ``scheduler.step()`` after each ``optimizer.step()``.

    Args:
        steps: :math:`n`, the length of the warmup, a whole number :math:`\ge 1`.
        then: the schedule after the warmup: a schedule of this module, another callable
            (see the module's note on your own schedules), or ``None`` for a constant 1.

    Examples:
        >>> Warmup(steps=4)([1, 2, 3, 4, 5, 100])
        array([0.25, 0.5 , 0.75, 1.  , 1.  , 1.  ])
        >>> Warmup(2, then=Linear(total=2))
        Warmup(steps=2, then=Linear(total=2, start=1.0, end=0.0))
    """

    _fields = ("steps", "then")
    __slots__ = _fields

    def __init__(self, steps, then=None):
        if then is not None and not callable(then):
            raise TypeError(f"then must be a schedule (a callable t -> multiplier) or None, got "
                            f"then={describe(then)} of type {type(then).__name__}")
        self._set(steps=whole("steps", steps, low=1), then=then)

    def _value(self, t):
        if t <= self.steps:
            return t / self.steps
        if self.then is None:
            return 1.0
        return self.then(t - self.steps)


_SCHEDULES = {cls.__name__: cls for cls in (Cosine, Linear, StepDecay, Warmup)}


def from_config(config, name: str = "config"):
    """The schedule that :meth:`Schedule.config` described (validated as by its constructor).

    ``config`` is a dict ``{"name": ..., <the constructor's arguments>}``; a nested dict
    (Warmup's ``then``) is made into a schedule too, any other value is passed on.
    ``name`` is how ``config`` is called in error messages.

    Raises:
        TypeError, ValueError: not a dict, an unknown schedule name, missing or unexpected
            keys, or a value the constructor rejects.
    """
    instance(name, config, dict, "a dict made by Schedule.config()")
    kind = config.get("name")
    if kind not in _SCHEDULES:
        raise ValueError(f"{name}['name'] must be one of {', '.join(map(repr, _SCHEDULES))}, "
                         f"got {describe(kind)}")
    cls = _SCHEDULES[kind]
    keys = ("name",) + cls._fields
    if set(config) != set(keys):
        raise ValueError(f"{name} of a {kind} must have the keys {list(keys)}, got "
                         f"{list(config)}")
    args = {field: from_config(config[field], f"{name}[{field!r}]")
            if isinstance(config[field], dict) else config[field] for field in cls._fields}
    try:
        return cls(**args)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name} is not a valid {kind}: {error}") from None


def multiplier(schedule, t: int, name: str = "schedule") -> float:
    r"""``schedule(t)`` checked: a finite real number :math:`\ge 0`, as a ``float``.

    This is what an optimizer calls before each step. An exception raised by the
    schedule passes through unchanged.

    Raises:
        TypeError: the value is not a real number (a bool, a string, an array of more
            than one element, a complex number ...).
        ValueError: the value is nan, infinite or negative.
    """
    value = schedule(t)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={describe(schedule)} must return a real number, got "
                        f"{describe(value)} of type {type(value).__name__} at t={t}")
    try:
        m = float(value)
    except OverflowError:
        m = math.inf
    if not math.isfinite(m) or m < 0:
        raise ValueError(f"{name}={describe(schedule)} must return a finite number ≥ 0, got "
                         f"{describe(value)} at t={t}")
    return m


def checked(value, name: str = "schedule"):
    """``value`` if it can be a schedule (a callable or ``None``), else ``TypeError``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be a schedule (a callable t -> multiplier, such as "
                        f"optlib.schedules.Cosine(total=100)) or None, got {name}="
                        f"{describe(value)} of type {type(value).__name__}")
    return value
