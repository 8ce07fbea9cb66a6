"""Benchmarks of the gate test suite."""

import workload

_TEXT = " ".join(f"w{i % 97}" for i in range(3_000))


def bench_checksum() -> int:
    """Integer arithmetic in workload.checksum, the code a change makes slower."""
    return workload.checksum()


def bench_tokens() -> dict[str, int]:
    """Word counting in workload.tokens, never changed: never a regression."""
    return workload.tokens(_TEXT)
