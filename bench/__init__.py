"""Benchmarks. `python -m bench` measures every hot path against a reference in the same run
(bench/run.py); the older scripts beside it print one area's figures in more detail."""
