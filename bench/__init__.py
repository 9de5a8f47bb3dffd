"""Benchmarks for `make bench`: one JSON object per line on standard output.

Each figure is ``{"name": ..., "value": number, "unit": "s" | "ms" | "bytes", ...}``;
progress and explanations go to standard error. Timings are medians of several
repeats, and every ratio compares two timings taken in the same process.
"""
