"""Plotting helpers shared by the chapters and the explorations.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
an exploration never shows a stray figure in a notebook. Every axes gets
labelled axes; the contour levels are spaced geometrically so that both the
flat floor and the steep walls of a bowl are visible.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .objectives import window

__all__ = ["new_figure", "contour", "loss_axes", "png_bytes", "COLORS"]

# One colour per optimizer, used across the book.
COLORS = {
    "GradientDescent": "#d62728",
    "Momentum": "#1f77b4",
    "Nesterov": "#17becf",
    "RMSprop": "#2ca02c",
    "Adagrad": "#8c564b",
    "Adam": "#9467bd",
    "AdamW": "#e377c2",
    "AMSGrad": "#7f7f7f",
}


def new_figure(width: float = 9.0, height: float = 3.6, dpi: int = 80) -> Figure:
    """A pyplot-free figure with constrained layout, drawn by Agg."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def contour(ax, objective, n: int = 160, levels: int = 14, xlabel: str | None = None,
            ylabel: str | None = None, mark_minimum: bool = True, bounds=None):
    """Filled contour plot of ``objective`` over its ``bounds`` (or the window
    ``bounds=((xmin, xmax), (ymin, ymax))``) on ``ax``.

    Levels are geometric in :math:`f - f^* + \\delta` so both flat and steep
    regions show. Returns the contour set.
    """
    if bounds is not None:
        bounds = window("bounds", bounds)
    x, y, z = objective.grid(n, bounds=bounds)
    gap = z - z.min()
    top = np.percentile(gap, 95)
    low = max(top * 1e-4, 1e-12)
    lv = z.min() + np.geomspace(low, top, levels)
    cs = ax.contourf(x, y, z, levels=np.concatenate([[z.min()], lv, [z.max()]]),
                     cmap="Blues_r", alpha=0.8)
    ax.contour(x, y, z, levels=lv, colors="white", linewidths=0.5, alpha=0.7)
    if mark_minimum and getattr(objective, "minimum", None) is not None:
        m = objective.minimum
        ax.plot([m[0]], [m[1]], marker="*", color="gold", markersize=11,
                markeredgecolor="black", linestyle="none", zorder=5)
    (x0, x1), (y0, y1) = objective.bounds if bounds is None else bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    labels = getattr(objective, "labels", ("$W_1$", "$W_2$"))
    ax.set_xlabel(labels[0] if xlabel is None else xlabel)
    ax.set_ylabel(labels[1] if ylabel is None else ylabel)
    return cs


def loss_axes(ax, steps: int, title: str = "loss", log: bool = True, ylim=None):
    """Prepare ``ax`` for a loss curve over ``steps`` steps."""
    ax.set_xlim(0, steps)
    if log:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(title)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def png_bytes(fig: Figure, compress_level: int = 6) -> bytes:
    """The figure as PNG bytes (deterministic: no metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None},
                pil_kwargs={"compress_level": compress_level})
    return buf.getvalue()
