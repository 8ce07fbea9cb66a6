"""numpy benchmarks: the inputs are built by setup, outside the timing."""

from __future__ import annotations

import numpy as np
import perfagent
from example_inputs import matrix, series


def _two_matrices() -> tuple[np.ndarray, np.ndarray]:
    return matrix(200), matrix(200).T.copy()


@perfagent.benchmark(setup=_two_matrices)
def bench_matrix_multiply(pair: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Multiply two 200x200 matrices (a dense linear-algebra step)."""
    left, right = pair
    return left @ right


def _long_series() -> np.ndarray:
    return series(200_000)


@perfagent.benchmark(setup=_long_series)
def bench_moving_average(values: np.ndarray) -> np.ndarray:
    """Smooth a 200,000-point series with a 64-point moving average."""
    window = np.ones(64) / 64
    return np.convolve(values, window, mode="valid")
