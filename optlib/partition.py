r"""Different optimizers for different parameters in one run: :class:`Partition`.

Chapter 7 trains Muon on the network's weight matrices and AdamW on its biases. A
:class:`Partition` is that combination as one optimizer: a dict of optimizers, one
per *group*, and a ``label`` function that names the group of each parameter. One
``step(params, grads)`` call updates every parameter with the optimizer of its
group; it can be used wherever an optimizer is (``optlib.network.train``,
``compare_optimizers``, ``optlib.run``).

This is what torch.optim calls *parameter groups* (a list of dicts with
``"params"``, each with its own options, given to one optimizer) and what optax
calls ``multi_transform`` (``optax.partition``: transforms by label, and a
function that labels the parameters); here each group may have a different
update rule, not only different hyperparameters.
"""

from __future__ import annotations

import types

import numpy as np

from . import _engine, _validate
from ._optimizer import Optimizer, _by_key, _param_name
from ._validate import describe

__all__ = ["Partition", "label_by_ndim"]

#: A Partition's checkpoint has its own format (it holds its members' checkpoints).
_FORMAT = 1
_STATE_DICT_KEYS = ("optimizer", "format", "t", "structure", "params", "labels", "optimizers")


def label_by_ndim(name, array) -> str:
    """The group of a parameter by its number of dimensions: ``"matrices"`` for a 2-D array
    (a layer's weight matrix ``W``), ``"others"`` for any other (a bias ``b``, a vector, a
    scalar). The label of :meth:`Partition.by_ndim`.

    Args:
        name: the parameter's name (unused: the shape alone decides).
        array: the parameter.

    Examples:
        >>> import numpy as np
        >>> label_by_ndim("W1", np.zeros((64, 32))), label_by_ndim("b1", np.zeros(32))
        ('matrices', 'others')
    """
    return "matrices" if np.ndim(array) == 2 else "others"


class Partition(Optimizer):
    r"""One optimizer per group of parameters, stepped together.

    The parameter :math:`w_i`, named :math:`n_i`, belongs to the group
    :math:`k = \mathrm{label}(n_i, w_i)`; with :math:`G_k` the parameters of group
    :math:`k`, one step is

    .. math::

        G_k = \{\, i : \mathrm{label}(n_i, w_i) = k \,\}, \qquad
        w_{G_k} \leftarrow \mathrm{step}_k\big(w_{G_k},\ g_{G_k}\big)
        \quad \text{for every group } k,

    where :math:`\mathrm{step}_k` is the update of ``optimizers[k]``, with its own
    hyperparameters, schedule, state and step count. In words: a Partition sorts the
    parameters into groups once, on the first step after construction or
    :meth:`reset`, and then passes each group's parameters and gradients to that
    group's optimizer. Since the groups share nothing, the result is bit for bit what
    each optimizer would give on its own parameters alone.

    ``params`` and ``grads`` are those of any optimizer: an array, a list or a dict of
    arrays. The label is called as ``label(name, array)`` with the parameter's dict key,
    its list index, or ``None`` for a single array (which then goes to one group
    whole), and a read-only view of it; it returns the name of a group. A member
    receives its group as a dict with the original keys (so its messages and its
    ``state`` name ``params['W1']``, ``params[2]``), or the array itself. A group that
    no parameter falls into is not stepped.

    **All or nothing.** The step checks the whole structure first (shapes, dtypes,
    finite gradients, memory shared between any two arrays, as every optimizer's step
    does), then steps the groups one by one. If any group's step is rejected or fails
    (its own checks -- Muon given a vector, a hyperparameter that does not broadcast
    --, a ``FloatingPointError`` under ``np.errstate(all="raise")``, a
    :class:`~optlib.NonFiniteWarning` turned into an error), the groups stepped before
    it are put back as they were -- parameters, state, step counts, schedule positions
    -- and the error is raised (a ``TypeError``/``ValueError`` of a member names its
    group): no parameter and no state of any group changes. (The groups stepped before
    it are copied first; the largest group steps last and needs no copy. A group that
    diverged in a step undone by a later group's failure has already warned.)

    Args:
        optimizers: ``{group name: optimizer}``, at least one; each a fresh optlib
            optimizer (no step taken) of its own (the same object cannot serve two
            groups). A Partition may be a member of another.
        label: ``label(name, array) -> group name``, called once per parameter on the
            first step (after construction or :meth:`reset`); :func:`label_by_ndim`
            splits the 2-D weight matrices from the rest (see :meth:`by_ndim`).

    Hyperparameters are set on the members (``partition.optimizers["others"].lr =
    0.1``), and so are schedules (each member's ``schedule`` scales its own learning
    rate and counts its own steps); :attr:`~Partition.hyperparameters` lists them all
    as ``"group.name"``.

    Examples:
        >>> import numpy as np
        >>> from optlib import GradientDescent, Momentum
        >>> params = {"W": np.ones((2, 2)), "b": np.ones(2)}
        >>> grads = {"W": np.full((2, 2), 0.5), "b": np.full(2, 2.0)}
        >>> opt = Partition.by_ndim(matrices=GradientDescent(lr=0.1),
        ...                         others=Momentum(lr=0.1, beta=0.5))
        >>> opt.step(params, grads)["W"]             # 1 - 0.1 * 0.5
        array([[0.95, 0.95],
               [0.95, 0.95]])
        >>> params["b"]                              # v = 0.5 * 2, w = 1 - 0.1 * v
        array([0.9, 0.9])
        >>> opt.t, opt.optimizers["others"].t
        (1, 1)
        >>> opt
        Partition({'matrices': GradientDescent(lr=0.1),
                   'others': Momentum(lr=0.1, beta=0.5, nesterov=False)}, label=label_by_ndim)

    References:
        PyTorch documentation, torch.optim, "Per-parameter options" (parameter groups).
        Optax documentation, ``optax.multi_transform`` (``optax.partition``). K. Jordan et
        al., "Muon: An optimizer for hidden layers in neural networks", 2024 (Muon for the
        2-D weight matrices, AdamW for the rest).
    """

    _hyper_names: tuple[str, ...] = ()
    _flag_names: tuple[str, ...] = ()

    def __init__(self, optimizers, label):
        self._optimizers = _checked_optimizers(optimizers)
        if not callable(label):
            raise TypeError(f"label must be a function label(name, array) -> group name (one "
                            f"of {list(self._optimizers)}), got label={describe(label)}")
        self._label = label
        self._clear()

    @classmethod
    def by_ndim(cls, matrices, others) -> "Partition":
        """``Partition({"matrices": matrices, "others": others}, label=label_by_ndim)``: the
        2-D weight matrices stepped by ``matrices``, every other parameter by ``others``
        (Muon with AdamW for the biases, in chapter 7).

        Examples:
            >>> from optlib import Adam, AdamW
            >>> opt = Partition.by_ndim(matrices=Adam(lr=0.01), others=AdamW(lr=3e-3))
            >>> list(opt.optimizers), opt.optimizers["matrices"].lr, opt.label is label_by_ndim
            (['matrices', 'others'], 0.01, True)
        """
        return cls({"matrices": matrices, "others": others}, label=label_by_ndim)

    def __setattr__(self, name, value):
        if not name.startswith("_"):
            raise AttributeError(
                f"Partition.{name} cannot be set: a Partition's groups and label are fixed when "
                "it is made; set hyperparameters and schedules on its members, e.g. "
                f"partition.optimizers[{next(iter(self._optimizers))!r}].lr = ...")
        object.__setattr__(self, name, value)

    # -- public ------------------------------------------------------------
    @property
    def optimizers(self):
        """The members, ``{group name: optimizer}`` (read-only mapping of the objects
        themselves: their hyperparameters can be set)."""
        return types.MappingProxyType(self._optimizers)

    @property
    def label(self):
        """The function that names the group of each parameter."""
        return self._label

    @property
    def schedule(self):
        """``None``: a Partition has no schedule of its own; each member's ``schedule``
        applies to its group."""
        return None

    @property
    def schedule_t(self) -> int:
        """The same as ``t`` (a Partition has no schedule; each member counts its own
        ``schedule_t``)."""
        return self._t

    @property
    def hyperparameters(self) -> dict:
        """Every member's hyperparameters, as ``{"group.name": value}``."""
        return {f"{group}.{name}": value for group, member in self._optimizers.items()
                for name, value in member.hyperparameters.items()}

    @property
    def state(self):
        """Read-only copies of every parameter's buffers (under its member's names), in the
        structure of ``params``; ``{}`` before the first step."""
        if self._labels is None:
            return {}
        by_key = {}
        for member in self._optimizers.values():
            state = member.state
            if isinstance(state, dict) and state and self._kind == "array":
                by_key[None] = state
            elif isinstance(state, dict):
                by_key.update(state)
        return self._structured({key: by_key.get(key, {}) for key in self._layout})

    def reset(self) -> None:
        """Reset every member and forget the groups (the label is asked again on the next
        step)."""
        for member in self._optimizers.values():
            member.reset()
        self._clear()

    def step(self, params, grads):
        """Step every group with its optimizer, all or nothing; return ``params``.

        Args:
            params: float ndarray, list of them, or dict name -> ndarray.
            grads: the gradients, in the same structure and shapes.

        Returns:
            ``params`` (the same object), updated.

        Raises:
            TypeError, ValueError: the step is rejected (by the checks of the whole
                structure, by the label on the first step, or by a member, whose group
                the message names); nothing is changed.
        """
        pairs = _engine.leaves(params, grads, self._buffers())
        kind = _engine.structure_kind(params)
        if self._labels is None:
            labels = {key: self._group_of(key, p) for key, p, _ in pairs}
            layout = {key: (p.shape, p.dtype) for key, p, _ in pairs}
        else:
            self._check_state(kind, pairs)
            labels, layout = self._labels, self._layout
        groups = {}
        for key, p, g in pairs:
            groups.setdefault(labels[key], []).append((key, p, g))
        # The largest group last: the groups before it are copied, so that they can be put
        # back if a later one fails; the last one's own step is all or nothing.
        order = sorted(groups, key=lambda group: sum(p.nbytes for _, p, _ in groups[group]))
        done = []
        try:
            for i, group in enumerate(order):
                member, its = self._optimizers[group], groups[group]
                saved = None
                if i < len(order) - 1:
                    saved = (_saved(member), [(p, p.copy()) for _, p, _ in its])
                if kind == "array":             # one array: the member gets it as it is
                    (_, its_params, its_grads), = its
                else:                           # the member's dict keeps the original keys
                    its_params = {key: p for key, p, _ in its}
                    its_grads = {key: g for key, _, g in its}
                _named(group, member, member.step, its_params, its_grads)
                if saved is not None:
                    done.append(saved)
        except BaseException:
            for member_saved, arrays in reversed(done):
                for p, before in arrays:
                    np.copyto(p, before)
                _restore(member_saved)
            raise
        self._labels, self._layout, self._kind = labels, layout, kind
        self._t += 1
        return params

    def state_dict(self) -> dict:
        """A checkpoint: the groups of the parameters and every member's checkpoint.

        Plain data (dicts, lists, strings, numbers, numpy arrays: copies), which pickles::

            {"optimizer": "Partition", "format": 1, "t": 12,
             "structure": "dict",                                    # or "array", "list", None
             "params": {"W1": {"shape": (64, 32), "dtype": "float64"}, ...},
             "labels": {"W1": "matrices", "b1": "others", ...},      # in the params' structure
             "optimizers": {"matrices": {...Adam's state_dict()...}, "others": {...}}}

        Before the first step ``structure``, ``params`` and ``labels`` are ``None``.
        The label function itself is not stored: :meth:`load_state_dict` asks the
        loading Partition's label and rejects a checkpoint whose groups differ.
        """
        if self._labels is None:
            structure = params = labels = None
        else:
            structure = self._kind
            params = self._structured({key: {"shape": shape, "dtype": dtype.name}
                                       for key, (shape, dtype) in self._layout.items()})
            labels = self._structured(dict(self._labels))
        return {"optimizer": "Partition", "format": _FORMAT, "t": self._t,
                "structure": structure, "params": params, "labels": labels,
                "optimizers": {group: member.state_dict()
                               for group, member in self._optimizers.items()}}

    def load_state_dict(self, state_dict) -> None:
        """Restore a checkpoint made by :meth:`state_dict` of a Partition with the same groups.

        Checked first, and nothing changes when anything does not fit: the keys; the
        groups (the same names, each member's checkpoint loadable into this Partition's
        member of that name -- of the same class --, holding the parameters labelled with
        that group); and the labels, which must be those this Partition's label gives
        (asked with a read-only array of zeros of each parameter's shape and dtype). The
        members' hyperparameters and schedules are restored with their state, so the
        resumed run is bit for bit the uninterrupted one.
        """
        d = _validate.instance("state_dict", state_dict, dict,
                               "a dict made by Partition.state_dict()")
        missing = [k for k in _STATE_DICT_KEYS if k not in d]
        extra = [k for k in d if k not in _STATE_DICT_KEYS]
        if d.get("optimizer") != "Partition" and "optimizer" in d:
            raise ValueError(f"state_dict is a checkpoint of {describe(d['optimizer'])}, not of "
                             f"a Partition")
        if missing or extra:
            raise ValueError(f"state_dict must have the keys {list(_STATE_DICT_KEYS)} of a "
                             f"Partition's checkpoint: missing {missing}, unexpected {extra}")
        if d["format"] != _FORMAT or isinstance(d["format"], bool):
            raise ValueError(f"state_dict has format {describe(d['format'])}; a Partition "
                             f"reads format {_FORMAT}")
        t = _validate.whole("state_dict['t']", d["t"], low=0)
        members = _validate.instance("state_dict['optimizers']", d["optimizers"], dict,
                                     "a dict group name -> checkpoint")
        if set(members) != set(self._optimizers):
            raise ValueError(
                f"state_dict['optimizers'] holds the groups {list(members)}, this Partition "
                f"has {list(self._optimizers)}: missing "
                f"{[k for k in self._optimizers if k not in members]}, unexpected "
                f"{[k for k in members if k not in self._optimizers]}")
        structure = d["structure"]
        if structure is None:
            if t != 0 or d["params"] is not None or d["labels"] is not None:
                raise ValueError("state_dict has no structure (no step taken), so t must be 0 "
                                 f"and params and labels None; got t={t}")
            layout = labels = None
        else:
            _validate.choice("state_dict['structure']", structure, ("array", "list", "dict"))
            layout = self._checked_layout(structure, d["params"])
            labels = self._checked_labels(structure, d["labels"], layout)
        saved = [_saved(member) for member in self._optimizers.values()]
        try:
            for group, member in self._optimizers.items():
                _named(group, member, member.load_state_dict, members[group],
                       where=f"state_dict['optimizers'][{group!r}]")
            self._check_members(structure, layout, labels)
        except BaseException:
            for member_saved in saved:
                _restore(member_saved)
            raise
        self._t, self._kind, self._layout, self._labels = t, structure, layout, labels

    def __repr__(self) -> str:
        members = ", ".join(f"{group!r}: {member!r}" for group, member in self._optimizers.items())
        return f"Partition({{{members}}}, label={self._label_name()})"

    # -- the pieces ----------------------------------------------------------
    def _label_name(self) -> str:
        """The label as a reader knows it (a function's name: no memory address, so that a
        History's ``optimizer`` is the same in every session)."""
        return getattr(self._label, "__qualname__", None) or describe(self._label)

    def _clear(self) -> None:
        self._t = 0
        self._kind = None
        self._layout = None     # key -> (shape, dtype) of the first step's params
        self._labels = None     # key -> group name, decided on the first step

    def _group_of(self, key, p) -> str:
        """The group of parameter ``key``, checked (the label sees a read-only view)."""
        view = p.view()
        view.flags.writeable = False
        try:
            group = self._label(key, view)
        except Exception as error:
            raise ValueError(f"label={self._label_name()} raised {type(error).__name__} for "
                             f"{_param_name(key)} (shape {p.shape}, dtype {p.dtype}): "
                             f"{error}") from error
        if not isinstance(group, str):
            raise TypeError(f"label must return the name of a group (a str, one of "
                            f"{list(self._optimizers)}), got {describe(group)} for "
                            f"{_param_name(key)}")
        if group not in self._optimizers:
            raise ValueError(f"label returned {group!r} for {_param_name(key)}, which is not a "
                             f"group of this Partition: its groups are {list(self._optimizers)}")
        return group

    def _buffers(self) -> dict:
        """key -> buffer name -> array: every member's state (which no parameter or gradient
        may share memory with)."""
        buffers = {}
        for member in self._optimizers.values():
            if isinstance(member, Partition):
                buffers.update(member._buffers())
            elif member._state is not None:
                buffers.update(member._state)
        return buffers

    def _checked_labels(self, structure, labels, layout) -> dict:
        """key -> group from a checkpoint's ``labels``, each the group this label gives."""
        entries = _by_key("state_dict['labels']", structure, labels)
        if set(entries) != set(layout):
            raise ValueError("state_dict['labels'] and state_dict['params'] hold different "
                             f"parameters: {list(entries)} and {list(layout)}")
        for key, group in entries.items():
            where = f"state_dict['labels']{'' if key is None else f'[{key!r}]'}"
            if not isinstance(group, str):
                raise TypeError(f"{where} must be a group name (a str), got {describe(group)}")
            if group not in self._optimizers:
                raise ValueError(f"{where} is {group!r}, not a group of this Partition (its "
                                 f"groups are {list(self._optimizers)})")
            shape, dtype = layout[key]
            mine = self._group_of(key, np.broadcast_to(np.zeros((), dtype), shape))
            if mine != group:
                raise ValueError(f"state_dict puts {_param_name(key)} in the group {group!r}, "
                                 f"this Partition's label in {mine!r}: the checkpoint is of "
                                 f"another partition of the parameters")
        return {key: entries[key] for key in layout}

    def _check_members(self, structure, layout, labels) -> None:
        """After loading: each member holds (or has not yet met) exactly its group's
        parameters, with their shapes and dtypes; none before the Partition's first step."""
        for group, member in self._optimizers.items():
            if member._layout is None:
                continue
            if labels is None:
                raise ValueError(f"state_dict['optimizers'][{group!r}] holds the parameters "
                                 f"{_describe_layout(member._layout)}, but the Partition's "
                                 "checkpoint has taken no step (structure None)")
            expected = {key: layout[key] for key in layout if labels[key] == group}
            kind = "array" if structure == "array" else "dict"
            if member._kind != kind or member._layout != expected:
                raise ValueError(
                    f"state_dict['optimizers'][{group!r}] holds the parameters "
                    f"{_describe_layout(member._layout)}, but state_dict['labels'] and "
                    f"['params'] give that group {_describe_layout(expected) or 'none'}")

    def _step_checked_array(self, w, grad):
        """:meth:`Optimizer._step_checked_array` for :func:`optlib.run`: the array goes to its
        group's optimizer, whose checked step it has taken."""
        self._optimizers[self._labels[None]]._step_checked_array(w, grad)
        self._t += 1
        return w


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def _checked_optimizers(optimizers) -> dict:
    if not isinstance(optimizers, dict):
        raise TypeError("optimizers must be a dict group name -> optlib optimizer, e.g. "
                        "{'matrices': Muon(), 'others': AdamW()}, got "
                        f"optimizers={describe(optimizers)}")
    if not optimizers:
        raise ValueError("optimizers must name at least one group, got optimizers={}")
    seen = {}
    for group, member in optimizers.items():
        if not isinstance(group, str):
            raise TypeError(f"optimizers must be keyed by group names (str), got the key "
                            f"{describe(group)}")
        if not isinstance(member, Optimizer):
            hint = ""
            if isinstance(member, type) and issubclass(member, Optimizer):
                hint = f" (the class itself: pass an instance, e.g. {member.__name__}(...))"
            raise TypeError(f"optimizers[{group!r}] must be an optlib optimizer, got "
                            f"{describe(member)}{hint}")
        if id(member) in seen:
            raise ValueError(f"optimizers[{group!r}] is the same object as "
                             f"optimizers[{seen[id(member)]!r}]: each group needs an optimizer "
                             "(and a state) of its own")
        seen[id(member)] = group
        if member.t != 0:
            raise ValueError(f"optimizers[{group!r}] has taken {member.t} step(s) already: give "
                             "the Partition fresh optimizers (or reset() them first)")
    return dict(optimizers)


def _named(group, member, method, *args, where=None):
    """``method(*args)``; a plain ``TypeError``/``ValueError`` it raises is raised again
    with the group named (other errors pass unchanged)."""
    try:
        return method(*args)
    except (TypeError, ValueError) as error:
        if type(error) not in (TypeError, ValueError):
            raise
        prefix = where or f"the group {group!r} ({type(member).__name__})"
        raise type(error)(f"{prefix}: {error}") from error


def _saved(optimizer):
    """What a step or a load may change in ``optimizer``, copied: its attributes (the step
    count, the schedule's position, the rule's scalars, the layout ...) and its buffers.
    A step writes only into the buffers (and ``params``) and rebinds the other attributes,
    so a shallow copy of the attributes and a copy of the buffers restore it exactly."""
    attributes = dict(vars(optimizer))
    if isinstance(optimizer, Partition):
        return optimizer, attributes, [_saved(m) for m in optimizer._optimizers.values()]
    state = attributes.get("_state")
    if state is not None:
        attributes["_state"] = {key: {name: buffer.copy() for name, buffer in buffers.items()}
                                for key, buffers in state.items()}
    return optimizer, attributes, []


def _restore(saved) -> None:
    optimizer, attributes, members = saved
    vars(optimizer).clear()
    vars(optimizer).update(attributes)
    for member in members:
        _restore(member)


def _describe_layout(layout) -> str:
    return ", ".join(f"{_param_name(key)}: {shape} {np.dtype(dtype)}"
                     for key, (shape, dtype) in layout.items())
