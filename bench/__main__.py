"""`python -m bench`: run every benchmark, one JSON line per figure on stdout."""

from . import explore, steps, sweep

BENCHMARKS = [sweep.main, explore.main, steps.main]

for benchmark in BENCHMARKS:
    benchmark()
