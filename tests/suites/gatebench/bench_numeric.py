"""Array arithmetic in numpy: a raster stencil, as in a geospatial model."""

import numpy as np
import perfagent
from slowdown import scaled

STENCILS = scaled(20, "numeric.grid_smoothing")


def _grid() -> np.ndarray:
    return np.random.default_rng(11).random((128, 128))


@perfagent.benchmark(setup=_grid)
def bench_grid_smoothing(grid: np.ndarray) -> float:
    """Smooth a raster with a 5-point stencil (vectorised array arithmetic)."""
    result = grid
    for _ in range(STENCILS):
        result = grid.copy()
        result[1:-1, 1:-1] = (
            grid[1:-1, 1:-1] + grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:]
        ) / 5.0
    return float(result[64, 64])
