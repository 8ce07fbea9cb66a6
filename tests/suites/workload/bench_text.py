"""Library work in C: serialising and parsing JSON documents."""

import json

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
