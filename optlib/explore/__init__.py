r"""Explorations: figures with sliders that work live *and* in a static HTML book.

An exploration precomputes its data over the whole slider grid with optlib's
batched runs (one ``step`` call advances every configuration), then offers two
views of the same frames:

* **live** (:meth:`Exploration.widget`): ipywidgets sliders and a PNG image.
  Moving a slider updates the existing matplotlib artists (``set_data``) and
  redraws only them over a cached background (blitting), then encodes the PNG.
  A frame that cannot be shown leaves the last one in place and is explained
  in one line under the figure, never by a traceback;
* **static** (:meth:`Exploration.static_html`): a self-contained HTML fragment
  — the same background as an embedded PNG, the dynamic lines as SVG paths in
  the same pixel coordinates, the frames for every grid point as compact
  base64 int16 arrays, and a few lines of plain JavaScript (``static.js``,
  shipped with the package and embedded inline). No network, no CDN, no kernel.

Displayed in a notebook, an exploration offers both (``_repr_mimebundle_``): a
live front end shows the widget, and the book's HTML builder is told to prefer
``text/html`` (``nb_mime_priority_overrides`` in ``_config.yml``).

The frames are computed once, so live and static views agree exactly on every
grid point: both draw :meth:`Exploration.frame`.

The package has one module per idea: ``model`` (sliders, grid, figure and
frames), ``live`` (the widget), ``static`` (the HTML export and ``static.js``),
``explorers`` (the explorations of chapters 1–5), ``noise`` (chapter 6's: gradient
noise and learning-rate schedules) and ``edge`` (chapter 7's: the edge of stability, the
Newton–Schulz polynomial). Every name below is imported from here.
"""

from __future__ import annotations

from .. import _settings
from .explorers import ComparisonExplorer, EMAExplorer, MomentumRateExplorer, TrajectoryExplorer
from .edge import NS_COEFFICIENTS, EdgeExplorer, NewtonSchulzExplorer, edge_optimizers
from .noise import NoiseExplorer, ScheduleExplorer, default_schedules
from .model import SYMBOLS, Exploration, Slider, format_value
from .static import decode

__all__ = [
    "Slider",
    "Exploration",
    "TrajectoryExplorer",
    "MomentumRateExplorer",
    "EMAExplorer",
    "ComparisonExplorer",
    "NoiseExplorer",
    "ScheduleExplorer",
    "default_schedules",
    "EdgeExplorer",
    "NewtonSchulzExplorer",
    "edge_optimizers",
    "NS_COEFFICIENTS",
    "SYMBOLS",
    "format_value",
]

#: The environment variable that, set to ``"1"``, makes explorations display only their
#: static HTML view (the book build sets it): ``"OPTLIB_STATIC_EXPLORATIONS"``.
STATIC_ONLY_ENV = _settings.STATIC_EXPLORATIONS

