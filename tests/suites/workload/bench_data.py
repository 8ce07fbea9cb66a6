"""Library work: JSON documents, compression and array arithmetic."""

import json
import zlib

import numpy as np
import perfagent
from workload import repeats


def _document() -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": i, "name": f"cell {i}", "value": i * 0.25},
                "geometry": {"type": "Point", "coordinates": [i * 0.01, -i * 0.02]},
            }
            for i in range(12)
        ],
    }


@perfagent.benchmark(setup=_document)
def bench_json_roundtrip(document: dict[str, object]) -> int:
    """Serialise and parse a small GeoJSON document (C-accelerated json)."""
    size = 0
    for _ in range(repeats(20)):
        size += len(json.loads(json.dumps(document))["features"])
    return size


def _payload() -> bytes:
    return b"".join(f"row {i}, value {i * 7 % 1013}\n".encode() for i in range(1000))


@perfagent.benchmark(setup=_payload)
def bench_zlib_compress(payload: bytes) -> int:
    """Compress a text table with zlib (C code, no interpreter in the loop)."""
    size = 0
    for _ in range(repeats(20)):
        size += len(zlib.compress(payload, 6))
    return size


def _grid() -> "np.ndarray":
    rng = np.random.default_rng(11)
    return rng.random((96, 96))


@perfagent.benchmark(setup=_grid)
def bench_grid_smoothing(grid: "np.ndarray") -> float:
    """Smooth a raster with a 5-point stencil in numpy (vectorised array arithmetic)."""
    result = grid
    for _ in range(repeats(100)):
        result = grid.copy()
        result[1:-1, 1:-1] = (
            grid[1:-1, 1:-1] + grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:]
        ) / 5.0
    return float(result[48, 48])
