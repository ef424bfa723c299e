"""Benchmarks for laks: `make bench` (or `python -m bench`) prints a table."""
