"""Helpers shared by the benchmarks: timing, reporting, optional torch."""

from __future__ import annotations

import json
import statistics
import sys
import time


def log(message: str) -> None:
    """Progress for people: standard error, never standard output."""
    print(message, file=sys.stderr, flush=True)


def emit(name: str, value: float, unit: str, **extra) -> None:
    """One benchmark figure as one JSON line on standard output."""
    print(json.dumps({"name": name, "value": value, "unit": unit, **extra}), flush=True)


def median_seconds(fn, repeats: int) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def optional_torch():
    """torch if it is importable, else None (torch is not a dependency: `make torch`)."""
    try:
        import torch
    except ImportError:
        log("torch is not installed: torch columns are null (install it with `make torch`)")
        return None
    return torch
