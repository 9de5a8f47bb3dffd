"""`python -m bench`: run every benchmark, one JSON line per figure on stdout."""

from . import sweep

BENCHMARKS = [sweep.main]

for benchmark in BENCHMARKS:
    benchmark()
