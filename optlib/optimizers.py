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

from types import SimpleNamespace

import numpy as np

from . import _engine, _kernels, _validate
from ._engine import work_array
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
# The base class
# --------------------------------------------------------------------------
_STATE_DICT_KEYS = ("optimizer", "format", "hyperparameters", "flags", "t", "structure",
                    "params", "state")
_FORMAT = 1


class Optimizer:
    """Base class: structure handling, validation, state, checkpoints and step counting.

    Subclasses list their hyperparameters in ``_hyper_names``, their switches in
    ``_flag_names``, the names of their per-parameter buffers in ``_state_names``,
    and implement

    * ``_coefficients(t)``: the numbers step ``t`` needs, by name (floats, or
      float64 arrays where hyperparameters are arrays), computed once per step;
    * ``_update(p, g, state, c)``: the update of one block, in place, with ``p``,
      ``g`` and the buffers in ``state`` views of that block and ``c`` the
      coefficients as attributes (arrays cast to ``p``'s dtype and cut to the
      block). It may assume that every check has passed and must allocate
      nothing of the block's size: results go to ``out=`` arrays, temporaries
      to ``work_array(name, dtype, shape)`` (``optlib._engine``).

    Only the hyperparameters and switches can be assigned after construction
    (validated as in the constructor); any other attribute is an error, so a
    typo such as ``opt.momentum = 0`` cannot pass silently.
    """

    _hyper_names: tuple[str, ...] = ()
    _flag_names: tuple[str, ...] = ()
    _state_names: tuple[str, ...] = ()
    #: Buffers that can turn non-finite while the parameter stays finite (a sum of
    #: squares that overflows makes the step 0). A non-finite value in any other buffer
    #: (a convex combination of finite values cannot overflow) reaches the parameter in
    #: the same step, so checking the parameter is enough there.
    _hidden_state: tuple[str, ...] = ()

    def __init__(self):
        self.reset()

    def __setattr__(self, name, value):
        if not name.startswith("_") and name not in self._hyper_names + self._flag_names:
            settable = ", ".join(self._hyper_names + self._flag_names)
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
        """Forget all state and set the step count back to 0."""
        self._t = 0
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
        self._check_hyper_shapes(pairs)
        kind = _engine.structure_kind(params)
        if self._state is None:
            state = {key: {name: np.zeros_like(p) for name in self._state_names}
                     for key, p, _ in pairs}
            layout = {key: (p.shape, p.dtype) for key, p, _ in pairs}
            existing = []
        else:
            self._check_state(kind, pairs)
            state, layout = self._state, self._layout
            existing = [(key, buffer) for key, buffers in state.items()
                        for buffer in buffers.values()]
        t = self._t + 1
        jobs = self._jobs(pairs, state, layout, t, track=True)
        results = _engine.execute(
            self._update_block, jobs, [(key, p) for key, p, _ in pairs] + existing,
            nbytes=sum(p.nbytes for _, p, _ in pairs), t_label=str(t),
            describe_key=_param_name, owner=type(self).__name__, created=self._created)
        self._state, self._layout, self._kind, self._t = state, layout, kind, t
        self._nonfinite = _totals(results, 2)
        self._after_step()
        return params

    def state_dict(self) -> dict:
        """A checkpoint: everything needed to resume, as plain data.

        Returns a dict of plain Python values and numpy arrays (copies: the
        checkpoint does not change when the optimizer steps on, and vice versa),
        which pickles::

            {"optimizer": "Adam", "format": 1,
             "hyperparameters": {"lr": 0.001, ...}, "flags": {"amsgrad": False, ...},
             "t": 12, "structure": "dict",          # "array", "list", "dict" or None
             "params": {"W1": {"shape": (64, 32), "dtype": "float64"}, ...},
             "state": {"W1": {"exp_avg": array, "exp_avg_sq": array}, ...}}

        ``params`` and ``state`` have the structure of the parameters (for a
        single array: one dict; for a list: a list). Before the first step,
        ``structure``, ``params`` and ``state`` are ``None``.

        Examples:
            >>> import pickle
            >>> import numpy as np
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
        return {"optimizer": type(self).__name__, "format": _FORMAT, "hyperparameters": hyper,
                "flags": flags, "t": self._t, "structure": structure, "params": params,
                "state": state}

    def load_state_dict(self, state_dict) -> None:
        """Restore a checkpoint made by :meth:`state_dict` of an optimizer of this class.

        Everything is restored -- hyperparameters, switches, the step count and
        the state (copied in) -- even into an optimizer built with other
        hyperparameters, so that the resumed run is bit for bit the
        uninterrupted one. Checked first: the class, the keys, every
        hyperparameter (as in the constructor), the structure, each buffer's
        name, shape, dtype and finiteness. When anything does not fit, it raises
        ``TypeError``/``ValueError`` naming it and changes nothing.
        """
        d = _validate.instance("state_dict", state_dict, dict, "a dict made by state_dict()")
        missing = [k for k in _STATE_DICT_KEYS if k not in d]
        extra = [k for k in d if k not in _STATE_DICT_KEYS]
        if missing or extra:
            raise ValueError(f"state_dict must have the keys {list(_STATE_DICT_KEYS)}: missing "
                             f"{missing}, unexpected {extra}")
        if d["optimizer"] != type(self).__name__:
            raise ValueError(f"state_dict is a checkpoint of {describe(d['optimizer'])}, not of "
                             f"{type(self).__name__}")
        if d["format"] != _FORMAT:
            raise ValueError(f"state_dict has format {describe(d['format'])}; this optlib reads "
                             f"format {_FORMAT}")
        hyper = self._checked_settings("hyperparameters", d["hyperparameters"],
                                       self._hyper_names)
        flags = self._checked_settings("flags", d["flags"], self._flag_names)
        t = _validate.whole("state_dict['t']", d["t"], low=0)
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
        for name, value in {**hyper, **flags}.items():
            self.__dict__[name] = value
        self._t, self._state, self._layout, self._kind = t, state, layout, structure
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
        jobs = self._jobs([(None, w, grad)], self._state, self._layout, t, track=False)
        _engine.run_jobs(self._update_block, jobs, w.nbytes)
        self._t = t
        return w

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={describe(getattr(self, n))}"
                         for n in self._hyper_names + self._flag_names)
        return f"{type(self).__name__}({args})"

    # -- the step's pieces -------------------------------------------------
    def _after_step(self) -> None:
        """Called after every successful step and load (subclasses note what they need)."""

    def _jobs(self, pairs, state, layout, t, *, track):
        """The blocks of one step: ``(key, p, g, buffers, c, index)``; computes nothing
        that changes the optimizer."""
        coefficients = self._coefficients(t)
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
                c.fused = (self._fused(c, p.dtype) if not raising and p.size >= _kernels.MIN_ELEMENTS
                           and _kernels.get() is not None else None)
                c.track = track
                # Values that were non-finite before the step stay so (inf - x is inf, nan
                # stays nan), so they are counted before it only while some may exist: on
                # the first step, and after a step that left some.
                c.count_before = track and (self._nonfinite is None
                                            or any(self._nonfinite.values()))
                c.hidden = tuple(n for n in self._hidden_state if n in state[key])
            buffers = state[key]
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
        return jobs

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

    def _coefficients(self, t) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, p, g, state, c):  # pragma: no cover - abstract
        raise NotImplementedError


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
        scratch = work_array("scratch", p.dtype, p.shape)
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
        scratch = work_array("scratch", p.dtype, p.shape)
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
    positive = np.greater(out, 0, out=work_array("positive", np.dtype(bool), out.shape))
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
    _hidden_state = ("square_avg",)
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
        scratch = work_array("scratch", p.dtype, p.shape)
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
    _hidden_state = ("sum_sq",)
    lr = _Hyper(**_LR)
    eps = _Hyper(**_NONNEG)

    def __init__(self, lr, eps=1e-10):
        self.lr = lr
        self.eps = eps
        super().__init__()

    def _coefficients(self, t):
        return {"lr": self.lr, "eps": self.eps}

    def _update(self, p, g, state, c):
        scratch = work_array("scratch", p.dtype, p.shape)
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
    :math:`v_{\max}` replaces :math:`v` in the step (bias-corrected like :math:`v`), so
    :math:`v_{\max}` never decreases. The per-parameter step size
    :math:`\alpha\sqrt{1-\beta_2^t}/\sqrt{v_{\max}}` can still grow with :math:`t`, by up to
    a factor :math:`1/\sqrt{1-\beta_2}`; only in Reddi et al.'s AMSGrad, which has no bias
    correction, does it never grow (for a non-increasing :math:`\alpha`).

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
    _hidden_state = ("exp_avg_sq", "max_exp_avg_sq")
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
        if "decoupled" in self._flag_names:     # AdamW: always decoupled, not settable
            self.decoupled = decoupled
        self.amsgrad = amsgrad
        super().__init__()

    @property
    def _state_names(self):
        return self._state_names_for({"amsgrad": self.amsgrad})

    def _state_names_for(self, flags):
        names = ("exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if flags["amsgrad"] else names

    def step(self, params, grads):
        # amsgrad decides which buffers exist: it may not change once they do.
        if self._state is not None and self.amsgrad != self._amsgrad_at_start:
            raise ValueError(
                f"amsgrad was changed to {self.amsgrad} after the first step; call reset() first"
            )
        return super().step(params, grads)

    def _after_step(self):
        self._amsgrad_at_start = self.amsgrad

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
        scratch = work_array("scratch", p.dtype, p.shape)
        if c.shrink is not None:                    # decoupled: w <- (1 - alpha lambda) w
            p *= c.shrink
        elif c.weight_decay is not None:            # L2: g <- g + lambda w enters the moments
            decayed = work_array("decayed_grad", np.result_type(g, p), g.shape)
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

    @property
    def decoupled(self) -> bool:
        """Always ``True``: AdamW's weight decay is decoupled (use :class:`Adam` for L2)."""
        return True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                         decoupled=True, amsgrad=amsgrad)
