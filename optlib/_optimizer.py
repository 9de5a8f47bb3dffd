r"""The optimizer base class: validated hyperparameters, state, checkpoints, the step.

:class:`Optimizer` is what every update rule of :mod:`optlib.optimizers` builds on:

* hyperparameters and switches are attributes validated on every assignment
  (:class:`Hyper`, :class:`Flag`); any other public attribute cannot be set;
* ``step`` pairs parameters and gradients, checks everything, cuts the work into
  blocks (or, for a rule that is not elementwise, such as Muon's, hands over each
  parameter whole) and runs it all or nothing through :mod:`optlib._engine`;
* the state is created on the first step, read through read-only copies, and
  saved and restored as plain data (``state_dict`` / ``load_state_dict``);
* a learning-rate schedule (``schedule=``, :mod:`optlib.schedules`) is evaluated
  and checked once per step, before anything changes, and the scheduled
  :math:`\alpha_t = \alpha\mu_t` is what the update rule receives as ``lr``.

A subclass supplies only its mathematics: ``_coefficients(t, lr, mu)`` and ``_update``
(and, optionally, a compiled loop through ``_fused``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from . import _engine, _kernels, _validate, schedules
from ._validate import describe, flag, hyperparameter

__all__ = ["Optimizer", "Hyper", "Flag", "ScheduleSetting"]


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


class Hyper(_Validated):
    """A hyperparameter attribute, validated whenever it is set."""

    def __init__(self, low, high=np.inf, *, low_inclusive=False, high_inclusive=False):
        self.bounds = dict(low=low, high=high, low_inclusive=low_inclusive,
                           high_inclusive=high_inclusive)

    def _check(self, value):
        return hyperparameter(self.name, value, **self.bounds)


class Flag(_Validated):
    """A boolean switch attribute (``nesterov``, ``decoupled``, ``amsgrad``)."""

    def _check(self, value):
        return flag(self.name, value)


class ScheduleSetting(_Validated):
    """The ``schedule`` attribute: a callable or ``None``; setting it restarts its count.

    Whenever a schedule is set (in the constructor or by assignment, even the same
    one again), it starts at its own step 1 on the next step, as a new torch
    scheduler does.
    """

    def __set__(self, obj, value):
        obj.__dict__[self.name] = self._check(value)
        obj.__dict__["_schedule_t"] = 0

    def _check(self, value):
        return schedules.checked(value, self.name)


# --------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------
_STATE_DICT_KEYS = ("optimizer", "format", "hyperparameters", "flags", "t", "schedule",
                    "schedule_t", "scalars", "structure", "params", "state")
_FORMAT = 2
#: Format 1 (before schedules) had no ``schedule``, ``schedule_t`` or ``scalars``: its runs
#: had no schedule, and its optimizers no scalar state.
_FORMAT_1_KEYS = tuple(k for k in _STATE_DICT_KEYS
                       if k not in ("schedule", "schedule_t", "scalars"))


class Optimizer:
    r"""Base class: structure handling, validation, state, checkpoints and step counting.

    Subclasses list their hyperparameters in ``_hyper_names``, their switches in
    ``_flag_names``, the names of their per-parameter buffers in ``_state_names``,
    and implement

    * ``_coefficients(t, lr, mu)``: the numbers step ``t`` needs, by name (floats, or
      float64 arrays where hyperparameters are arrays), computed once per step,
      with ``lr`` the step's learning rate :math:`\alpha_t = \alpha\mu_t` (the
      hyperparameter ``lr`` itself when there is no schedule): the rule must use
      this ``lr``, never ``self.lr``; ``mu`` is the schedule's checked value
      :math:`\mu_t` (1.0 without one), evaluated once for the step;
    * ``_update(p, g, state, c)``: the update of one block, in place, with ``p``,
      ``g`` and the buffers in ``state`` views of that block and ``c`` the
      coefficients as attributes (arrays cast to ``p``'s dtype and cut to the
      block). It may assume that every check has passed and must allocate
      nothing of the block's size: results go to ``out=`` arrays, temporaries
      to ``work_array(name, dtype, shape)`` (``optlib._engine``). A rule that is
      not elementwise sets ``_elementwise = False``: its blocks are then always
      whole parameters, in their own memory layout;
    * optionally ``_check_params(pairs)``: what the rule requires of the parameters
      (Muon: matrices), raising before anything changes.

    Only the hyperparameters, switches and ``schedule`` can be assigned after
    construction (validated as in the constructor); any other attribute is an
    error, so a typo such as ``opt.momentum = 0`` cannot pass silently.

    ``schedule``: ``None`` or a learning-rate schedule :math:`\mu` (see
    :mod:`optlib.schedules`); step :math:`t` then uses :math:`\alpha_t = \alpha\mu_t`
    wherever the rule uses :math:`\alpha`. The schedule counts its own steps
    (:attr:`schedule_t`): it starts at :math:`\mu_1` on the first step after it is
    set (by the constructor, by assignment, or after :meth:`reset`).
    """

    _hyper_names: tuple[str, ...] = ()
    _flag_names: tuple[str, ...] = ()
    _state_names: tuple[str, ...] = ()
    #: Buffers that can turn non-finite while the parameter stays finite (a sum of
    #: squares that overflows makes the step 0). A non-finite value in any other buffer
    #: (a convex combination of finite values cannot overflow) reaches the parameter in
    #: the same step, so checking the parameter is enough there.
    _hidden_state: tuple[str, ...] = ()
    #: Numbers the rule keeps across steps besides the per-parameter buffers (floats, 0
    #: after reset); ``_coefficients`` returns their next values under the key ``"scalars"``.
    _scalar_names: tuple[str, ...] = ()
    #: Whether the rule acts element by element (every rule but :class:`~optlib.optimizers.Muon`):
    #: then the engine may cut a parameter into blocks, permute its axes to C order and run the
    #: head of a large step alone. A rule that needs each parameter whole (a function of the
    #: matrix, such as Muon's orthogonalisation) sets it ``False``: ``_update`` then receives
    #: every parameter as it is, in one piece, and the step is journaled (copied first, undone
    #: if anything raises), which costs little beside the matrix products.
    _elementwise = True
    schedule = ScheduleSetting()

    def __init__(self, schedule=None):
        self.schedule = schedule
        self.reset()

    def __setattr__(self, name, value):
        settable_names = self._hyper_names + self._flag_names + ("schedule",)
        if not name.startswith("_") and name not in settable_names:
            settable = ", ".join(settable_names)
            if hasattr(type(self), name):
                raise AttributeError(f"{type(self).__name__}.{name} cannot be set; the settable "
                                     f"attributes are {settable}")
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} to set; its "
                                 f"hyperparameters and switches are {settable}")
        object.__setattr__(self, name, value)

    # -- public ------------------------------------------------------------
    @property
    def t(self) -> int:
        """Number of steps taken since construction or the last :meth:`reset`."""
        return self._t

    @property
    def schedule_t(self) -> int:
        r"""The number of steps taken under the current schedule, since it was set or since
        the last :meth:`reset`, whichever came later (the last step used :math:`\mu` at this
        ``schedule_t``); counted with or without a schedule."""
        return self._schedule_t

    @property
    def hyperparameters(self) -> dict:
        """The hyperparameters by name (scalars as floats, arrays as read-only arrays)."""
        return {name: getattr(self, name) for name in self._hyper_names}

    @property
    def state(self):
        """A read-only copy of the per-parameter buffers, in the structure of ``params``.

        For an ndarray: a dict ``buffer name -> array``; for a list: a list of
        such dicts; for a dict of parameters: ``name -> dict``. Empty (``{}``)
        before the first step. The arrays are copies marked read-only: writing
        into them cannot change the optimizer (use :meth:`load_state_dict` to
        change its state).
        """
        if self._state is None:
            return {}
        return self._structured({key: {name: _frozen_copy(buffer)
                                       for name, buffer in buffers.items()}
                                 for key, buffers in self._state.items()})

    def reset(self) -> None:
        """Forget all state and set the step count back to 0 (and the schedule's, so
        that the schedule starts again at its step 1)."""
        self._t = 0
        self._schedule_t = 0
        self._scalars = {name: 0.0 for name in self._scalar_names}
        self._state = None
        self._layout = None     # key -> (shape, dtype) of the first step's params
        self._kind = None
        self._nonfinite = None  # key -> non-finite values after the last step (None: unknown)

    def step(self, params, grads):
        """Apply one update to ``params`` in place and return ``params``.

        The step is all or nothing: every check runs first, and whatever raises
        (a rejected argument, ``FloatingPointError`` under
        ``np.errstate(all="raise")``, a warning turned into an error, a failing
        compiled loop), ``params``, the state and :attr:`~optlib.optimizers.Optimizer.t` are exactly as
        before. A step that turns finite values into nan or ±inf warns with
        :class:`~optlib.NonFiniteWarning`, naming the parameter.

        Args:
            params: float ndarray, list of them, or dict name -> ndarray.
            grads: the gradients, in the same structure and shapes.

        Returns:
            ``params`` (the same object), updated.

        Raises:
            TypeError, ValueError: the step is rejected; nothing is changed.
        """
        pairs = _engine.leaves(params, grads, self._state)
        self._check_params(pairs)
        self._check_hyper_shapes(pairs)
        kind = _engine.structure_kind(params)
        if self._state is None:
            state = {key: {name: self._initial_buffer(name, p) for name in self._state_names}
                     for key, p, _ in pairs}
            layout = {key: (p.shape, p.dtype) for key, p, _ in pairs}
            existing = []
        else:
            self._check_state(kind, pairs)
            state, layout = self._state, self._layout
            existing = [(key, buffer) for key, buffers in state.items()
                        for buffer in buffers.values()]
        t = self._t + 1
        jobs, scalars = self._jobs(pairs, state, layout, t, track=True)
        results = _engine.execute(
            self._update_block, jobs, [(key, p) for key, p, _ in pairs] + existing,
            nbytes=sum(p.nbytes for _, p, _ in pairs), t_label=str(t),
            describe_key=_param_name, owner=type(self).__name__, created=self._created,
            splittable=self._elementwise)
        self._state, self._layout, self._kind = state, layout, kind
        self._advance(t, scalars)
        self._nonfinite = _totals(results, 2)
        self._after_step()
        return params

    def state_dict(self) -> dict:
        """A checkpoint: everything needed to resume, as plain data.

        Returns a dict of plain Python values and numpy arrays (copies: the
        checkpoint does not change when the optimizer steps on, and vice versa),
        which pickles::

            {"optimizer": "Adam", "format": 2,
             "hyperparameters": {"lr": 0.001, ...}, "flags": {"amsgrad": False, ...},
             "t": 12,
             "schedule": {"name": "Cosine", "total": 100, "final": 0.0},   # or None
             "schedule_t": 12,                      # the schedule's position
             "scalars": {},                         # numbers some rules keep (ScheduleFreeSGD)
             "structure": "dict",                   # "array", "list", "dict" or None
             "params": {"W1": {"shape": (64, 32), "dtype": "float64"}, ...},
             "state": {"W1": {"exp_avg": array, "exp_avg_sq": array}, ...}}

        ``params`` and ``state`` have the structure of the parameters (for a
        single array: one dict; for a list: a list). Before the first step,
        ``structure``, ``params`` and ``state`` are ``None``. A schedule of
        :mod:`optlib.schedules` is stored as plain data (its
        :meth:`~optlib.schedules.Schedule.config`); any other callable as the
        object itself (the checkpoint then pickles only if the callable does).

        Examples:
            >>> import pickle
            >>> import numpy as np
            >>> from optlib import Momentum
            >>> w, opt = np.array([1.0, -2.0]), Momentum(lr=0.1, beta=0.9)
            >>> opt.step(w, np.array([1.0, 1.0]))
            array([ 0.99, -2.01])
            >>> saved = pickle.dumps(opt.state_dict())          # to a file, for example
            >>> resumed = Momentum(lr=1.0)                        # any hyperparameters
            >>> resumed.load_state_dict(pickle.loads(saved))
            >>> resumed.lr, resumed.t, resumed.state["momentum_buffer"]
            (0.1, 1, array([0.1, 0.1]))
        """
        hyper = {name: (value.copy() if isinstance(value, np.ndarray) else value)
                 for name, value in self.hyperparameters.items()}
        flags = {name: getattr(self, name) for name in self._flag_names}
        if self._state is None:
            structure = params = state = None
        else:
            structure = self._kind
            params = self._structured({key: {"shape": shape, "dtype": dtype.name}
                                       for key, (shape, dtype) in self._layout.items()})
            state = self._structured({key: {name: buffer.copy() for name, buffer in
                                            buffers.items()}
                                      for key, buffers in self._state.items()})
        schedule = self.schedule
        if isinstance(schedule, schedules.Schedule):
            schedule = schedule.config()
        return {"optimizer": type(self).__name__, "format": _FORMAT, "hyperparameters": hyper,
                "flags": flags, "t": self._t, "schedule": schedule,
                "schedule_t": self._schedule_t, "scalars": dict(self._scalars),
                "structure": structure, "params": params, "state": state}

    def load_state_dict(self, state_dict) -> None:
        """Restore a checkpoint made by :meth:`state_dict` of an optimizer of this class.

        Everything is restored -- hyperparameters, switches, the schedule and
        its position, the step count and the state (copied in) -- even into an
        optimizer built with other hyperparameters or another schedule, so that
        the resumed run is bit for bit the uninterrupted one. Checked first: the
        class, the keys, every hyperparameter (as in the constructor), the
        schedule, the structure, each buffer's name, shape, dtype and
        finiteness. When anything does not fit, it raises
        ``TypeError``/``ValueError`` naming it and changes nothing. A checkpoint
        of format 1 (made before schedules, without ``schedule`` and
        ``schedule_t``) is read as one without a schedule.
        """
        d = _validate.instance("state_dict", state_dict, dict, "a dict made by state_dict()")
        keys = _FORMAT_1_KEYS if d.get("format") == 1 else _STATE_DICT_KEYS
        missing = [k for k in keys if k not in d]
        extra = [k for k in d if k not in keys]
        if missing or extra:
            raise ValueError(f"state_dict must have the keys {list(keys)}: missing "
                             f"{missing}, unexpected {extra}")
        if d["optimizer"] != type(self).__name__:
            raise ValueError(f"state_dict is a checkpoint of {describe(d['optimizer'])}, not of "
                             f"{type(self).__name__}")
        if d["format"] not in (1, _FORMAT) or isinstance(d["format"], bool):
            raise ValueError(f"state_dict has format {describe(d['format'])}; this optlib reads "
                             f"formats 1 and {_FORMAT}")
        hyper = self._checked_settings("hyperparameters", d["hyperparameters"],
                                       self._hyper_names)
        flags = self._checked_settings("flags", d["flags"], self._flag_names)
        t = _validate.whole("state_dict['t']", d["t"], low=0)
        if d["format"] == 1:
            schedule, schedule_t = None, t
            scalars = {name: 0.0 for name in self._scalar_names}
        else:
            scalars = self._checked_scalars(d["scalars"])
            schedule = _checked_schedule(d["schedule"])
            schedule_t = _validate.whole("state_dict['schedule_t']", d["schedule_t"], low=0)
            if schedule_t > t:
                raise ValueError(f"state_dict['schedule_t'] counts steps since the schedule was "
                                 f"set, so it cannot exceed t={t}; got {schedule_t}")
        structure = d["structure"]
        if structure is None:
            if t != 0 or d["params"] is not None or d["state"] is not None:
                raise ValueError("state_dict has no structure (no step taken), so t must be 0 "
                                 f"and params and state None; got t={t}")
            state = layout = None
        else:
            _validate.choice("state_dict['structure']", structure, ("array", "list", "dict"))
            names = self._state_names_for(flags)
            layout = self._checked_layout(structure, d["params"])
            state = self._checked_state(structure, d["state"], layout, names)
        # Everything fits: from here on nothing raises.
        for name, value in {**hyper, **flags, "schedule": schedule}.items():
            self.__dict__[name] = value
        self._t, self._state, self._layout, self._kind = t, state, layout, structure
        self._schedule_t, self._scalars = schedule_t, scalars
        self._nonfinite = None
        self._after_step()

    def _step_checked_array(self, w, grad):
        """``step(w, grad)`` without the checks, for :func:`optlib.run`'s inner loop.

        Only for an ndarray ``w`` that has taken a checked :meth:`step` with this
        optimizer since the last reset (so the state, hyperparameter shapes and
        dtype are known to fit) and a fresh, finite ``grad`` of ``w``'s shape and
        dtype that shares no memory with it: what ``run`` guarantees. The
        arithmetic is exactly :meth:`step`'s; it neither counts nor warns about
        non-finite values (``run`` records divergence itself).
        """
        t = self._t + 1
        jobs, scalars = self._jobs([(None, w, grad)], self._state, self._layout, t, track=False)
        _engine.run_jobs(self._update_block, jobs, w.nbytes)
        self._advance(t, scalars)
        return w

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={describe(getattr(self, n))}"
                         for n in self._hyper_names + self._flag_names)
        if self.schedule is not None:
            args += f", schedule={describe(self.schedule)}"
        return f"{type(self).__name__}({args})"

    # -- the step's pieces -------------------------------------------------
    def _after_step(self) -> None:
        """Called after every successful step and load (subclasses note what they need)."""

    def _jobs(self, pairs, state, layout, t, *, track):
        """The blocks of one step: ``(key, p, g, buffers, c, index)``; computes nothing
        that changes the optimizer. The schedule is called and its value checked here,
        before any block runs. Returns the jobs and the scalar state after the step."""
        mu = self._multiplier()
        lr = self.lr if self.schedule is None else self.lr * mu     # lr itself: no new bits
        coefficients = self._coefficients(t, lr, mu)
        scalars = coefficients.pop("scalars", self._scalars)
        # Compiled loops ignore np.errstate: where the caller asks for floating-point
        # errors, the ufunc chain (which raises them) runs instead.
        raising = track and _engine.honours_errstate()
        per_layout = {}         # parameters of one shape and dtype share their coefficients
        jobs = []
        for key, p, g in pairs:
            c = per_layout.get(layout[key])
            if c is None:
                c = per_layout[layout[key]] = _coefficients_for(coefficients, p)
                # numba is imported only once some parameter is large enough to use it
                c.fused = (self._fused(c, p.dtype) if self._elementwise and not raising
                           and p.size >= _kernels.MIN_ELEMENTS and _kernels.get() is not None
                           else None)
                c.track = track
                # Values that were non-finite before the step stay so (inf - x is inf, nan
                # stays nan), so they are counted before it only while some may exist: on
                # the first step, and after a step that left some.
                c.count_before = track and (self._nonfinite is None
                                            or any(self._nonfinite.values()))
                c.hidden = tuple(n for n in self._hidden_state if n in state[key])
            buffers = state[key]
            if not self._elementwise:           # the whole parameter, as it is
                jobs.append((key, p, g, buffers, c, _engine.WHOLE))
                continue
            axes = _engine.c_order_axes(p)
            if axes is not None:
                # Fortran-ordered or transposed: the same elementwise update on views
                # permuted to C order, so that blocks are contiguous like the work arrays.
                c = SimpleNamespace(**{
                    name: np.broadcast_to(value, p.shape).transpose(axes)
                    if isinstance(value, np.ndarray) else value for name, value in vars(c).items()})
                p, g = p.transpose(axes), g.transpose(axes)
                buffers = {name: buffer.transpose(axes) for name, buffer in buffers.items()}
            jobs += [(key, p, g, buffers, c, index)
                     for index in _engine.blocks(p.shape, _engine.block_size(p.dtype))]
        return jobs, scalars

    def _advance(self, t, scalars) -> None:
        """A step has succeeded: its count, the schedule's, and the rule's scalars."""
        self._t = t
        self._schedule_t += 1
        self._scalars = scalars

    def _initial_buffer(self, name, p):
        """A buffer's value before the first step: zeros (a rule may start from ``p``)."""
        return np.zeros_like(p)

    def _multiplier(self) -> float:
        r"""The schedule's checked value :math:`\mu` for the next step (1 without one)."""
        if self.schedule is None:
            return 1.0
        return schedules.multiplier(self.schedule, self._schedule_t + 1)

    def _update_block(self, job):
        """The update of one block (the compiled loop where it applies, else ``_update``);
        returns ``(key, non-finite values before or None, non-finite values after)``, counted
        in the parameter and the buffers of ``_hidden_state``."""
        key, p, g, state, c, index = job
        if index is not _engine.WHOLE:
            p, g = p[index], g[index]
            state = {name: buffer[index] for name, buffer in state.items()}
            c = SimpleNamespace(**{name: value[index] if isinstance(value, np.ndarray) else value
                                   for name, value in vars(c).items()})
        if c.count_before:
            before = _engine.block_non_finite(p) + sum(_engine.block_non_finite(state[name])
                                                      for name in c.hidden)
        arrays = None if c.fused is None else _kernels.views(p, g, *state.values())
        if arrays is not None:
            loop, scalars = c.fused
            bad = int(loop(*arrays, *scalars))     # the loop counts non-finite new values
        else:
            self._update(p, g, state, c)
            bad = None
        if not c.track:
            return key, None, 0
        after = (_engine.block_non_finite(p) if bad is None else bad) + sum(
            _engine.block_non_finite(state[name]) for name in c.hidden)
        return key, before if c.count_before else None, after

    def _created(self, results) -> dict:
        """key -> how many values the step turned non-finite: the count after it minus the
        count before it (taken by ``_update_block``, or else the count after the last
        step, when that was 0)."""
        after = _totals(results, 2)
        counted = [result for result in results if result[1] is not None]
        before = _totals(counted, 1) if counted else (self._nonfinite or {})
        return {key: n - before.get(key, 0) for key, n in after.items()
                if n > before.get(key, 0)}

    def _fused(self, c, dtype):
        """The compiled loop for this optimizer and its scalar arguments in ``dtype``:
        ``(loop, scalars)``, or ``None`` where there is none (then ``_update`` runs)."""
        return None

    # -- structures ----------------------------------------------------------
    def _structured(self, by_key: dict):
        """Per-key values in the structure of the parameters (array, list or dict)."""
        if self._kind == "array":
            return by_key[None]
        if self._kind == "list":
            return [by_key[i] for i in range(len(by_key))]
        return dict(by_key)

    def _state_names_for(self, flags: dict) -> tuple:
        return self._state_names

    # -- checks ------------------------------------------------------------
    def _check_params(self, pairs) -> None:
        """What a rule requires of its parameters beyond the structure checks (Muon: 2-D);
        raises before anything changes. Nothing by default."""

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
                    raise ValueError(
                        f"{name} of shape {value.shape} does not broadcast against "
                        f"{_param_name(key)} of shape {p.shape}"
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

    def _checked_settings(self, what, values, names) -> dict:
        """Hyperparameters or flags of a checkpoint, validated as the constructor does."""
        values = _validate.instance(f"state_dict[{what!r}]", values, dict)
        if set(values) != set(names):
            raise ValueError(f"state_dict[{what!r}] must have the keys {list(names)} of "
                             f"{type(self).__name__}, got {list(values)}")
        cls = type(self)
        return {name: getattr(cls, name)._check(values[name]) for name in names}

    def _checked_scalars(self, values) -> dict:
        """A checkpoint's ``scalars``: the names of this rule, each a finite number ≥ 0."""
        values = _validate.instance("state_dict['scalars']", values, dict)
        if set(values) != set(self._scalar_names):
            raise ValueError(f"state_dict['scalars'] must have the keys "
                             f"{list(self._scalar_names)} of {type(self).__name__}, got "
                             f"{list(values)}")
        return {name: _validate.real(f"state_dict['scalars'][{name!r}]", values[name], low=0.0)
                for name in self._scalar_names}

    def _checked_layout(self, structure, params) -> dict:
        """key -> (shape, dtype) from a checkpoint's ``params`` entry."""
        entries = _by_key("state_dict['params']", structure, params)
        layout = {}
        for key, entry in entries.items():
            where = f"state_dict['params']{'' if key is None else f'[{key!r}]'}"
            entry = _validate.instance(where, entry, dict)
            if set(entry) != {"shape", "dtype"}:
                raise ValueError(f"{where} must have the keys 'shape' and 'dtype', got "
                                 f"{list(entry)}")
            shape = entry["shape"]
            if not isinstance(shape, (tuple, list)) or not all(
                    isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0
                    for n in shape):
                raise ValueError(f"{where}['shape'] must be a tuple of whole numbers ≥ 0, got "
                                 f"{describe(shape)}")
            try:
                dtype = np.dtype(entry["dtype"])
            except TypeError:
                raise ValueError(f"{where}['dtype'] is not a numpy dtype: "
                                 f"{describe(entry['dtype'])}") from None
            if dtype.kind != "f":
                raise ValueError(f"{where}['dtype'] must be a floating-point dtype, got {dtype}")
            layout[key] = (tuple(int(n) for n in shape), dtype)
        return layout

    def _checked_state(self, structure, state, layout, names) -> dict:
        """key -> buffer name -> a fresh copy, from a checkpoint's ``state`` entry."""
        entries = _by_key("state_dict['state']", structure, state)
        if set(entries) != set(layout):
            raise ValueError("state_dict['state'] and state_dict['params'] hold different "
                             f"parameters: {list(entries)} and {list(layout)}")
        restored = {}
        for key, buffers in entries.items():
            where = f"state_dict['state']{'' if key is None else f'[{key!r}]'}"
            buffers = _validate.instance(where, buffers, dict)
            if set(buffers) != set(names):
                raise ValueError(f"{where} must hold the buffers {list(names)} of this "
                                 f"{type(self).__name__}, got {list(buffers)}")
            shape, dtype = layout[key]
            restored[key] = {}
            for name in names:
                buffer = buffers[name]
                label = f"{where}[{name!r}]"
                if not isinstance(buffer, np.ndarray):
                    raise TypeError(f"{label} must be a numpy array, got {describe(buffer)}")
                if buffer.shape != shape or buffer.dtype != dtype:
                    raise ValueError(f"{label} must have shape {shape} and dtype {dtype} (the "
                                     f"parameter's), got shape {buffer.shape} and dtype "
                                     f"{buffer.dtype}")
                if not np.all(np.isfinite(buffer)):
                    raise ValueError(f"{label} holds non-finite values (nan or inf)")
                restored[key][name] = np.array(buffer, dtype=dtype, order="C", copy=True)
        return restored

    def _coefficients(self, t, lr, mu) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, p, g, state, c):  # pragma: no cover - abstract
        raise NotImplementedError


def _checked_schedule(value):
    """A checkpoint's ``schedule`` entry as a schedule: ``None``, a config dict of
    :mod:`optlib.schedules` (made into the schedule) or a callable."""
    if isinstance(value, dict):
        return schedules.from_config(value, "state_dict['schedule']")
    return schedules.checked(value, "state_dict['schedule']")


def _totals(results, column: int) -> dict:
    """Per-key sums of one column of ``_update_block``'s results."""
    totals = {}
    for result in results:
        totals[result[0]] = totals.get(result[0], 0) + (result[column] or 0)
    return totals


def _param_name(key) -> str:
    """How a parameter is named in messages: ``params``, ``params[0]``, ``params['W1']``."""
    return "params" if key is None else f"params[{key!r}]"


def _frozen_copy(a: np.ndarray) -> np.ndarray:
    copy = a.copy()
    copy.setflags(write=False)
    return copy


def _by_key(where, structure, value) -> dict:
    """A checkpoint entry in the structure ``structure`` as key -> value."""
    if structure == "array":
        return {None: value}
    if structure == "list":
        value = _validate.instance(where, value, (list, tuple), "a list (the params are a list)")
        return dict(enumerate(value))
    value = _validate.instance(where, value, dict, "a dict (the params are a dict)")
    return dict(value)


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
    whole = _engine.blocks(p.shape, _engine.block_size(p.dtype)) == (_engine.WHOLE,)
    for name, value in coefficients.items():
        if isinstance(value, np.ndarray):
            value = value.astype(p.dtype, copy=False)
            setattr(out, name, value if whole else np.broadcast_to(value, p.shape))
    if "eps" in coefficients:
        eps = coefficients["eps"]
        out.eps_positive = bool(np.all(eps.astype(p.dtype) > 0) if isinstance(eps, np.ndarray)
                                else p.dtype.type(eps) > 0)
    return out
