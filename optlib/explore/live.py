"""The live view of an exploration: ipywidgets controls and a PNG of the figure.

Moving a control calls :meth:`~optlib.explore.model.Exploration.update`, which
sets the data of the existing matplotlib artists (``set_data``); :func:`render`
redraws only them over the cached background (blitting) and encodes the PNG.
A frame that cannot be shown leaves the last one in place and is explained in
one red line under the figure, never by a traceback: an exception that escaped
a widget callback would only reach the notebook's log.
"""

from __future__ import annotations

import html

__all__ = ["widget", "render"]


def render(exploration) -> bytes:
    """PNG of the exploration's current frame: cached background plus the dynamic artists."""
    fig = exploration._fig
    canvas = fig.canvas
    canvas.restore_region(exploration._backgrounds[exploration._background_of(
        exploration._index)])
    for artist in exploration._artists.values():
        fig.draw_artist(artist)
    return exploration._png(compress_level=1)


def widget(exploration):
    """The live view: one control per slider, the figure as an image, the readout.

    Each slider's value is shown in a read-only label beside it (the
    ipywidgets readout of a ``SelectionSlider`` accepts typed text but
    ignores it); a categorical slider is a dropdown. If a frame cannot be
    shown, a status line under the figure says why, in one sentence; the
    figure and the readout keep the last frame that could be shown, and the
    next good change clears the message.

    Args:
        exploration: an :class:`~optlib.explore.model.Exploration`.

    Returns:
        An ``ipywidgets.VBox`` with attributes ``controls`` (one control per
        slider), ``labels`` (the value label of each slider; ``None`` for a
        dropdown), ``image``, ``legend`` (the figure's colour keys), ``readout``
        and ``status`` (``ipywidgets.HTML``).
    """
    import ipywidgets as widgets

    controls, labels, rows = [], [], []
    for s, i in zip(exploration.sliders, exploration._index):
        options = [(s.text(k), k) for k in range(len(s.values))]
        if s.choices is not None:
            control = widgets.Dropdown(options=options, value=i, description=s.label)
            label, row = None, control
        else:
            control = widgets.SelectionSlider(
                options=options, value=i, description=s.label, continuous_update=True,
                readout=False, layout=widgets.Layout(width="300px"))
            label = widgets.Label(value=s.text(i), layout=widgets.Layout(
                min_width="4em", margin="0 1.5em 0 0.3em"))
            row = widgets.HBox([control, label])
        controls.append(control)
        labels.append(label)
        rows.append(row)
    readout = exploration.update(exploration._index)
    # at the figure's own width (a wider output area would stretch and blur it), narrower
    # only where the output area is; the PNG has PIXEL_RATIO device pixels per figure pixel
    width = exploration.figure.canvas.get_width_height()[0]
    image = widgets.Image(value=exploration.render(), format="png",
                          layout=widgets.Layout(width=f"{width}px", max_width="100%"))
    text = widgets.HTML(value=readout)
    status = widgets.HTML(value="", layout=widgets.Layout(display="none"))
    legend = widgets.HTML(value=exploration.legend_html())
    view = widgets.VBox([widgets.HBox(rows, layout=widgets.Layout(flex_flow="row wrap")),
                         legend, image, status, text])
    view.controls = controls
    view.labels = labels
    view.image = image
    view.readout = text
    view.status = status
    view.legend = legend

    def on_change(_change):
        _on_control_change(exploration, view)

    for control in controls:
        control.observe(on_change, names="value")
    return view


def _on_control_change(exploration, view) -> None:
    """A control moved: show the new frame, or say in ``view.status`` why it cannot be.

    Nothing escapes: an exception in a widget callback would print a
    traceback into the notebook's log instead of telling the reader.
    """
    try:
        index = tuple(c.value for c in view.controls)
        for s, label, k in zip(exploration.sliders, view.labels, index):
            if label is not None:
                label.value = s.text(k)
    except Exception as error:  # noqa: BLE001
        _show_status(view.status, f"These slider values cannot be read: {_say(error)}")
        return
    previous = exploration._index
    try:
        readout = exploration.update(index)
        png = exploration.render()
    except Exception as error:  # noqa: BLE001 -- the reader gets a sentence, not a traceback
        try:
            exploration.update(previous)          # the figure keeps the frame it showed
        except Exception:  # noqa: BLE001
            pass
        _show_status(view.status, f"Cannot show {_describe_index(exploration, index)}: "
                                  f"{_say(error)}. The figure still shows "
                                  f"{_describe_index(exploration, previous)}.")
        return
    view.readout.value = readout
    view.image.value = png
    _show_status(view.status, "")


def _describe_index(exploration, index) -> str:
    """``"α = 0.05, β = 0.9"`` for a grid index (what the reader sees on the controls)."""
    try:
        return exploration.setting(index)
    except Exception:  # noqa: BLE001 -- an index off the grid
        return f"index {index!r}"


def _say(error: BaseException) -> str:
    """An exception as one short sentence: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _show_status(status, message: str) -> None:
    """Show ``message`` (plain text) in the status line as an error, or hide it when empty."""
    if not message:
        status.value = ""
        status.layout.display = "none"
        return
    status.value = (f'<div class="optlib-status" role="alert" style="color:#b00020;'
                    f'border-left:4px solid #b00020;padding:0.2em 0.6em;margin:0.2em 0">'
                    f"✘ {html.escape(message)}</div>")
    status.layout.display = None
