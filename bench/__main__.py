"""`python -m bench`: run every benchmark, one JSON line per figure on stdout."""

from . import explore, sweep

BENCHMARKS = [sweep.main, explore.main]

for benchmark in BENCHMARKS:
    benchmark()
