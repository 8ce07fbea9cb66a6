"""Seeded synthetic inputs shared by the benchmark modules (a helper, not a benchmark)."""

from __future__ import annotations

import random

import numpy as np

SEED = 20240601
WORDS = ("raster", "tile", "zone", "carbon", "water", "crop", "forest", "river", "soil", "road")


def matrix(size: int) -> np.ndarray:
    """A size x size matrix of reproducible random floats."""
    return np.random.default_rng(SEED).random((size, size))


def series(length: int) -> np.ndarray:
    """A reproducible random walk."""
    return np.random.default_rng(SEED).standard_normal(length).cumsum()


def text(words: int) -> str:
    """Reproducible text of `words` words drawn from a small vocabulary."""
    rng = random.Random(SEED)
    return " ".join(rng.choice(WORDS) for _ in range(words))
