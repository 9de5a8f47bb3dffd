"""`python -m bench`: run every benchmark, one JSON line per figure on stdout.

`python -m bench steps book` runs only the named benchmarks (module names).
"""

import sys

from . import book, explore, steps, sweep

BENCHMARKS = {"sweep": sweep.main, "explore": explore.main, "steps": steps.main,
              "book": book.main}

names = sys.argv[1:] or list(BENCHMARKS)
unknown = [name for name in names if name not in BENCHMARKS]
if unknown:
    sys.exit(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
for name in names:
    BENCHMARKS[name]()
