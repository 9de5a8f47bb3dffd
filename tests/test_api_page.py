"""The API page's hand-written entries (constants that autodoc cannot document) match the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

API = Path(__file__).resolve().parent.parent / "api.md"


def test_documented_values_are_the_code_values():
    text = API.read_text(encoding="utf-8")
    checked = 0
    for block in re.findall(r"```\{eval-rst\}\n(.*?)```", text, re.S):
        module = re.search(r"\.\. automodule:: ([\w.]+)", block)
        for name, value in re.findall(r"\.\. py:data:: (\w+)\n\s+:value: (.+)", block):
            actual = getattr(importlib.import_module(module.group(1)), name)
            assert repr(actual) == value.strip(), f"api.md says {name} = {value}, code: {actual!r}"
            checked += 1
    assert checked >= 5
