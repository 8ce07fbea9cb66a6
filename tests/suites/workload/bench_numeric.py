"""Array work in numpy: vectorised arithmetic over a raster, as in a geospatial model."""

import numpy as np
import perfagent
from workload import repeats


def _grid() -> np.ndarray:
    rng = np.random.default_rng(11)
    return rng.random((96, 96))


@perfagent.benchmark(setup=_grid)
def bench_grid_smoothing(grid: np.ndarray) -> float:
    """Smooth a raster with a 5-point stencil in numpy (vectorised array arithmetic)."""
    result = grid
    for _ in range(repeats(100)):
        result = grid.copy()
        result[1:-1, 1:-1] = (
            grid[1:-1, 1:-1] + grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:]
        ) / 5.0
    return float(result[48, 48])
