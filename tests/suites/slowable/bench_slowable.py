"""A test suite whose `work` benchmark can be made slower on purpose.

The slowdown factor is read from `slowdown.txt` beside this file (absent: 1). A file,
not an environment variable, because pyperf starts its worker processes with a
minimal environment; tests copy the suite to a temporary directory and write the file
there, so the same code runs unchanged and slowed.
"""

from pathlib import Path

# Iterations of the inner loop: about a millisecond a call.
ITERATIONS = 5_000


def _slowdown() -> float:
    try:
        return float((Path(__file__).parent / "slowdown.txt").read_text().strip())
    except FileNotFoundError:
        return 1.0


_WORK_ITERATIONS = int(ITERATIONS * _slowdown())


def _spin(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def bench_work() -> int:
    """Arithmetic in a loop, slowed by the factor in slowdown.txt."""
    return _spin(_WORK_ITERATIONS)


def bench_steady() -> int:
    """The same arithmetic, never slowed: it must not be named a regression."""
    return _spin(ITERATIONS)
