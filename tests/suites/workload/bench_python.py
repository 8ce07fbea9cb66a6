"""Pure-Python work: interpreter-bound loops, as in a model's inner loop written in Python."""

import perfagent
from workload import repeats


def _unit_of_arithmetic() -> float:
    # A fixed, branch-free float computation: the same instructions on every repeat.
    x = 0.5
    total = 0.0
    for _ in range(200):
        x = (x * 3.9) * (1.0 - x)
        total += x
    return total


def bench_logistic_map() -> float:
    """Iterate a logistic map in plain Python (interpreter-bound arithmetic)."""
    total = 0.0
    for _ in range(repeats(80)):
        total += _unit_of_arithmetic()
    return total


def _records() -> list[tuple[int, str, float]]:
    import random

    rng = random.Random(7)
    return [(rng.randrange(1000), f"id{rng.randrange(10**6)}", rng.random()) for _ in range(200)]


@perfagent.benchmark(setup=_records)
def bench_sort_records(records: list[tuple[int, str, float]]) -> int:
    """Sort a table of records by two keys (comparisons and tuple handling)."""
    checksum = 0
    for _ in range(repeats(20)):
        ordered = sorted(records, key=lambda r: (r[0], r[1]))
        checksum += ordered[0][0]
    return checksum
