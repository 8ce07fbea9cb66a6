"""A helper module the tiny suite imports by plain name (not a benchmark module)."""

import random


def make_numbers(count: int) -> list[int]:
    """Seeded pseudo-random integers."""
    rng = random.Random(42)
    return [rng.randrange(10_000) for _ in range(count)]
