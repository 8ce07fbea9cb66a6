"""Memory-bound work: scattered reads over data far larger than the caches."""

import numpy as np
import perfagent
from slowdown import scaled

CHASES = scaled(20000, "memory.pointer_chase")
GATHERS = scaled(20, "memory.gather")


def _ring() -> list[int]:
    # A random cycle over 2**18 slots (2 MiB of pointers and 7 MiB of int objects,
    # beyond the caches), built with numpy so that setup stays short.
    order = np.random.default_rng(3).permutation(1 << 18)
    ring = np.empty_like(order)
    ring[order] = np.roll(order, -1)
    return [int(x) for x in ring]


@perfagent.benchmark(setup=_ring)
def bench_pointer_chase(ring: list[int]) -> int:
    """Follow a random linked cycle in a big list (one cache miss per step, in Python)."""
    position = 0
    for _ in range(CHASES):
        position = ring[position]
    return position


def _table() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.random(1 << 21), rng.integers(0, 1 << 21, size=1 << 14)


@perfagent.benchmark(setup=_table)
def bench_gather(data: tuple[np.ndarray, np.ndarray]) -> float:
    """Gather scattered elements of a 16 MiB array with numpy fancy indexing."""
    table, index = data
    total = 0.0
    for _ in range(GATHERS):
        total += float(table[index].sum())
    return total
