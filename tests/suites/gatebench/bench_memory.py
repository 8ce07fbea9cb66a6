"""Memory-bound work: scattered reads over data far larger than the caches."""

import numpy as np
import perfagent
from slowdown import scaled

CHASES = scaled(20000, "memory.pointer_chase")
GATHERS = scaled(20, "memory.gather")


def _ring() -> list[int]:
    import random

    # A random cycle over 2**20 slots (8 MiB of pointers, plus the int objects).
    order = list(range(1 << 20))
    random.Random(3).shuffle(order)
    ring = [0] * len(order)
    for here, there in zip(order, order[1:] + order[:1], strict=True):
        ring[here] = there
    return ring


@perfagent.benchmark(setup=_ring)
def bench_pointer_chase(ring: list[int]) -> int:
    """Follow a random linked cycle in a big list (one cache miss per step, in Python)."""
    position = 0
    for _ in range(CHASES):
        position = ring[position]
    return position


def _table() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.random(1 << 22), rng.integers(0, 1 << 22, size=1 << 14)


@perfagent.benchmark(setup=_table)
def bench_gather(data: tuple[np.ndarray, np.ndarray]) -> float:
    """Gather scattered elements of a 32 MiB array with numpy fancy indexing."""
    table, index = data
    total = 0.0
    for _ in range(GATHERS):
        total += float(table[index].sum())
    return total
