"""Tiny benchmarks for the agent's own tests: pure Python, microseconds a call."""

import perfagent
from helpers import make_numbers


def bench_sum_range() -> int:
    """Sum a short range."""
    return sum(range(200))


def _sorted_input() -> list[int]:
    return make_numbers(300)


@perfagent.benchmark(setup=_sorted_input)
def bench_sort_list(numbers: list[int]) -> list[int]:
    """Sort a prepared list (the list is built by setup, outside the timing)."""
    return sorted(numbers)
