"""The ``OPTLIB_*`` environment switches, read and documented in one place.

Each switch is read when it is needed (not once at import), so a process that
sets one before calling optlib -- the book build, ``scripts/execute_notebooks.py``,
a test -- gets what it asked for.

========================================  =====================================================
variable                                  effect
========================================  =====================================================
``OPTLIB_KERNELS=numpy``                  never use the compiled loops (``optlib._kernels``);
                                          the numpy ufunc chain runs, as without numba
``OPTLIB_NUM_THREADS=N``                  threads that share a large step's blocks (1: none);
                                          default: the usable CPUs, at most 4
``OPTLIB_STATIC_EXPLORATIONS=1``          explorations show only their static HTML view (set
                                          by the book build: no widget state in the pages)
``OPTLIB_QUIET=1``                        no progress bars (set when notebooks are stored)
========================================  =====================================================
"""

from __future__ import annotations

import os

__all__ = [
    "KERNELS", "NUM_THREADS", "STATIC_EXPLORATIONS", "QUIET",
    "kernels_enabled", "num_threads", "static_explorations", "quiet",
]

KERNELS = "OPTLIB_KERNELS"
NUM_THREADS = "OPTLIB_NUM_THREADS"
STATIC_EXPLORATIONS = "OPTLIB_STATIC_EXPLORATIONS"
QUIET = "OPTLIB_QUIET"

_MAX_DEFAULT_THREADS = 4


def _read(name: str) -> str:
    return os.environ.get(name, "").strip()


def kernels_enabled() -> bool:
    """False when ``OPTLIB_KERNELS`` is ``numpy`` (any case): the compiled loops are off."""
    return _read(KERNELS).lower() != "numpy"


def num_threads() -> int:
    """Threads for a large step: ``OPTLIB_NUM_THREADS`` if it is a positive whole number,
    else the CPUs this process may use, at most 4."""
    setting = _read(NUM_THREADS)
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, _MAX_DEFAULT_THREADS))


def static_explorations() -> bool:
    """True when ``OPTLIB_STATIC_EXPLORATIONS`` is ``1``: explorations render static only."""
    return _read(STATIC_EXPLORATIONS) == "1"


def quiet() -> bool:
    """True when progress bars are off: ``OPTLIB_QUIET=1``, or the book is being built."""
    return _read(QUIET) == "1" or static_explorations()
