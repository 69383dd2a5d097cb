"""Balie benchmarks: ingest throughput, inbox latency, memory and start-up.

Run everything with `make bench` (or `python -m bench.run`); one scenario with
`python -m bench.run ingest|inbox|memory`. Never part of the test run.
"""
