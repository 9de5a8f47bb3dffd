"""Re-execute chapter notebooks in place, the way they are stored in the repository.

    python scripts/execute_notebooks.py [chapters/01_oscillation.ipynb ...]

(``make notebooks`` runs it on every chapter.) Outputs are stored so that nbval
can compare them; widget state and execution timings are NOT stored: the state
of a live widget means nothing without its kernel, and would make the built book
load the widget manager from a CDN. Progress bars are switched off
(``OPTLIB_QUIET=1``): a stored bar is noise. Explorations store their static view
only (``OPTLIB_STATIC_EXPLORATIONS=1``, as in the book build): a live view only
names a widget model (by a random id, new at every run) that exists in the
executing kernel alone; any other widget's output loses its widget view for the
same reason. A reader opening the stored notebook sees the static version of
each exploration until the cell is run again. Consecutive pieces of one stream
are merged into one output: how the kernel happens to split a cell's prints
into messages varies from run to run, and would show up as a diff.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) outputs into one, keeping their order."""
    merged = []
    for out in outputs:
        if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged


def execute(path: Path) -> float:
    """Execute one notebook in place (working directory: its folder); return seconds."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=False,
                   record_timing=False, resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)   # timings of an earlier execution
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
            for out in cell.outputs:
                data = out.get("data", {})
                if WIDGET_VIEW in data and len(data) > 1:
                    del data[WIDGET_VIEW]
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    os.environ["OPTLIB_QUIET"] = "1"      # no progress bars in stored outputs
    os.environ["OPTLIB_STATIC_EXPLORATIONS"] = "1"   # explorations: the static view only
    paths = [Path(a) for a in argv] or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path.name} ...", file=sys.stderr, flush=True)
        print(f"{path.name}: {execute(path):.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
