"""CPU-bound pure Python: the interpreter loop, as in a model's inner loop written in Python."""

import perfagent
from slowdown import scaled

LOGISTIC = scaled(400, "cpu.logistic_map")
SORTS = scaled(20, "cpu.sort_records")
JSON_ROUNDTRIPS = scaled(20, "cpu.json_roundtrip")


def bench_logistic_map() -> float:
    """Iterate a logistic map in plain Python (float arithmetic in the interpreter)."""
    total = 0.0
    for _ in range(LOGISTIC):
        x = 0.5
        for _ in range(100):
            x = (x * 3.9) * (1.0 - x)
            total += x
    return total


def _records() -> list[tuple[int, int, float]]:
    import random

    rng = random.Random(7)
    return [(rng.randrange(1000), rng.randrange(10**6), rng.random()) for _ in range(100)]


@perfagent.benchmark(setup=_records)
def bench_sort_records(records: list[tuple[int, int, float]]) -> int:
    """Sort a table of records by two keys (comparisons and tuple handling)."""
    checksum = 0
    for _ in range(SORTS):
        checksum += sorted(records, key=lambda r: (r[0], r[1]))[0][0]
    return checksum


def _document() -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": i, "value": i * 0.25}, "geometry": None}
            for i in range(40)
        ],
    }


@perfagent.benchmark(setup=_document)
def bench_json_roundtrip(document: dict[str, object]) -> int:
    """Serialise and parse a small GeoJSON document (library work in C)."""
    import json

    size = 0
    for _ in range(JSON_ROUNDTRIPS):
        size += len(json.loads(json.dumps(document))["features"])
    return size
