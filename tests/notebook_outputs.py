"""Helpers shared by the notebook tests (a plain module, imported by name: pytest puts
``tests/`` on ``sys.path``)."""

from __future__ import annotations


def output_text(output: dict) -> str:
    """The text a reader sees of one stored notebook output: a stream's text, or every
    ``text/*`` representation of a display or result (traceback lines not included)."""
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    data = output.get("data", {})
    return "".join("".join(v) if isinstance(v, list) else str(v)
                   for k, v in data.items() if k.startswith("text/"))
