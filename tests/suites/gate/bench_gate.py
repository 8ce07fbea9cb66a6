"""Benchmarks of the gate test suite."""

import workload

_VALUES = [i % 97 for i in range(3_000)]


def bench_checksum() -> int:
    """Integer arithmetic in workload.checksum, the code a change makes slower."""
    return workload.checksum()


def bench_histogram() -> dict[int, int]:
    """Counting in workload.histogram, never changed: never a regression."""
    return workload.histogram(_VALUES)
