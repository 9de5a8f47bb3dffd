r"""An exploration of the network: a learning-rate slider over precomputed training curves.

:class:`LearningRateExplorer` trains the network with every optimizer at every
multiple of its learning rate, in advance, and shows the curves of one multiple
at a time (live in a notebook, as static frames in the built book; see
:mod:`optlib.explore`). Each run is checked against its shadow
(``optlib.network.diagnostics``): the readout reports an erratic run as such,
not with a test accuracy that another CPU would not reproduce.
"""

from __future__ import annotations

import numpy as np

from .._validate import describe, flag, instance, reals
from ..explore import Exploration, Slider, format_value
from ..explore.model import readout_table
from ..optimizers import Optimizer
from ..plotting import COLUMN_WIDTH, SCREEN_DPI, color_of
from .model import MLP
from .training import check_factories, compare_optimizers

__all__ = ["LearningRateExplorer"]

#: labels drawn dashed, to tell them from a curve of a similar colour they often cover
_DASHED = ("AdamW",)


def _scaled(optimizer: Optimizer, m: float) -> Optimizer:
    """``optimizer`` with its learning rate multiplied by ``m``."""
    optimizer.lr = optimizer.lr * m
    return optimizer


class LearningRateExplorer(Exploration):
    r"""Training curves of several optimizers, with their learning rates scaled by a slider.

    For each optimizer and each slider value :math:`m` the network is trained
    with the learning rate :math:`m \cdot \alpha_0` (:math:`\alpha_0`: the one its
    factory sets), from the same start and in the same mini-batch order. The
    left panel shows the training loss per epoch (log scale), the right one the
    test accuracy; the readout gives every optimizer's learning rate and its
    final test accuracy, the epoch in which it diverged, or — for a run whose
    shadow (a start one ulp away) ends elsewhere — that it is erratic.

    Args:
        model: the :class:`~optlib.network.MLP`.
        optimizers: ``{label: factory}`` as for :func:`~optlib.network.compare_optimizers`.
        data: the :class:`~optlib.network.Digits` split.
        scales: the slider's multipliers :math:`m` of each learning rate: positive,
            and distinct as the slider shows them (``{:g}``).
        epochs, batch_size, seed, max_loss: as in :func:`~optlib.network.train`.
        progress: one bar over all the training (see :func:`~optlib.network.train`).
        shadow: train every run's shadow too (twice the cost) and report erratic
            runs as such; with False the readout cannot tell them.
        name: short name for benchmarks and the HTML.

    Attributes:
        histories: ``{label: [History per scale]}``.
        max_loss: the loss above which a run counts as diverged (the readout quotes it).
    """

    def __init__(self, model: MLP, optimizers: dict, data, scales=(0.25, 0.5, 1.0, 2.0, 4.0),
                 epochs: int = 10, batch_size: int = 64, seed: int = 0, max_loss: float = 1e3,
                 progress=None, name: str = "network_lr", dpi: int = SCREEN_DPI,
                 shadow: bool = True):
        optimizers = check_factories(optimizers)
        values = reals("scales", scales, low=0.0, low_inclusive=False, ndim=1)
        shown = [f"{m:g}" for m in values]
        alike = sorted({s for s in shown if shown.count(s) > 1})
        if alike:
            same = "; ".join(", ".join(repr(float(m)) for m, s in zip(values, shown) if s == t)
                             + f" all show as {t}" for t in alike)
            raise ValueError(f"scales must be distinct as the slider shows them ({{:g}}): "
                             f"{same}; got scales={describe(scales)}")
        self.shadow = flag("shadow", shadow)
        self.name, self.labels, self.epochs = name, list(optimizers), epochs
        self.max_loss = max_loss
        self.base_lrs = {}
        makers = {}
        for label, make in optimizers.items():
            base = make()
            if not isinstance(base, Optimizer) or not hasattr(base, "lr"):
                raise TypeError(f"optimizers[{label!r}]() must return an optlib optimizer with "
                                f"a learning rate, got {describe(base)}")
            self.base_lrs[label] = float(base.lr)
            for m, text in zip(values.tolist(), shown):
                makers[f"{label} ×{text}"] = (lambda make=make, m=m: _scaled(make(), m))
        instance("model", model, MLP, "an optlib.network.MLP")
        runs = compare_optimizers(model, makers, data, epochs, batch_size, seed,
                                  model.init_params(), progress, max_loss, shadow=self.shadow)
        in_order = iter(runs.values())
        self.histories = {label: [next(in_order) for _ in shown] for label in self.labels}
        losses = np.concatenate([h.train_loss for runs in self.histories.values() for h in runs])
        losses = losses[np.isfinite(losses)]
        low, top = (losses.min(), losses.max()) if losses.size else (1e-3, 3.0)
        # Runs that blow up are cut at the top of the axes (their readout says so).
        self._loss_limits = (max(low, 1e-6) / 2, min(max(top, 3.0), 30.0) * 1.5)
        slider = Slider("scale", tuple(values.tolist()), initial=1.0, label="α/α₀", fmt="{:g}")
        super().__init__([slider], width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    def _color(self, label: str, k: int) -> str:
        return color_of(label, k)

    def _draw(self, fig):
        from matplotlib.ticker import MaxNLocator

        ax_loss, ax_acc = fig.subplots(1, 2)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.epochs)
        ax_loss.set_ylim(*self._loss_limits)
        ax_loss.set(xlabel="epoch", ylabel="training loss", title="training loss")
        ax_acc.set_xlim(0, self.epochs)
        ax_acc.set_ylim(0.0, 1.02)
        ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy")
        for ax in (ax_loss, ax_acc):
            ax.grid(True, which="major", alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        artists = {}
        for k, label in enumerate(self.labels):
            style = dict(color=self._color(label, k), lw=1.6, label=label,
                         ls="--" if label in _DASHED else "-")
            artists[f"loss:{label}"] = ax_loss.plot([], [], **style)[0]
            artists[f"acc:{label}"] = ax_acc.plot([], [], **style)[0]
        return artists

    def status(self, label: str, i: int) -> str:
        """What the readout says of optimizer ``label`` at slider index ``i``: its final test
        accuracy, the epoch in which it diverged, or that it is erratic."""
        h = self.histories[label][i]
        if self.shadow and h.erratic:
            return "erratic (a start one ulp away ends elsewhere)"
        if h.diverged:
            return f"diverged in epoch {h.diverged_at_epoch} (loss > {self.max_loss:g})"
        return f"test accuracy {h.final_test_accuracy:.3f}"

    def frame(self, index):
        (i,) = index
        m = self.sliders[0].values[i]
        epochs = np.arange(self.epochs + 1)
        data, rows = {}, []
        for k, label in enumerate(self.labels):
            h = self.histories[label][i]
            data[f"loss:{label}"] = (epochs, h.train_loss)
            data[f"acc:{label}"] = (epochs, h.test_accuracy)
            rows.append((label, self._color(label, k), label in _DASHED,
                         (format_value(m * self.base_lrs[label]), self.status(label, i))))
        readout = readout_table(f"{self.sliders[0].label} = {self.sliders[0].text(i)}",
                                ("optimizer", "α", "after the last epoch"), rows)
        return data, readout
