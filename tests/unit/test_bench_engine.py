"""scripts/bench_engine.py: the time inside timed calls read from pyperf JSON (loops,
warm-ups and calibration included), and the sizing table from a run's own spread."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pyperf
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_engine.py"


@pytest.fixture(scope="module")
def bench_engine() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("bench_engine", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_engine"] = module
    spec.loader.exec_module(module)
    return module


def _run(
    values: list[float], loops: int, process: int, warmups: list[tuple[int, float]]
) -> pyperf.Run:
    return pyperf.Run(
        values,
        warmups=warmups or None,
        metadata={
            "name": "b",
            "unit": "second",
            "loops": loops,
            "duration": 5.0,
            "perfagent_process": process,
        },
        collect_metadata=False,
    )


def _write(path: Path) -> Path:
    runs = [
        # The first process calibrated: 1 and 2 loops, then 4.
        _run([0.01, 0.012], 4, 1, [(1, 0.02), (2, 0.011), (4, 0.01)]),
        _run([0.011, 0.013], 4, 2, [(4, 0.012)]),
        _run([0.014, 0.012], 4, 3, [(4, 0.013)]),
    ]
    pyperf.BenchmarkSuite([pyperf.Benchmark(runs)]).dump(str(path))
    return path


def test_timed_seconds_counts_loops_warmups_and_calibration(
    bench_engine: types.ModuleType, tmp_path: Path
) -> None:
    timed, per_benchmark, names = bench_engine.timed_seconds(_write(tmp_path / "r.json"))
    calibration_and_warmups = 0.02 + 2 * 0.011 + 4 * 0.01 + 4 * 0.012 + 4 * 0.013
    values = 4 * (0.01 + 0.012 + 0.011 + 0.013 + 0.014 + 0.012)
    assert timed == pytest.approx(calibration_and_warmups + values)
    assert (per_benchmark, names) == (3, 1)


def test_sizing_prints_candidates_with_wall_time_and_error(
    bench_engine: types.ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench_engine.sizing(_write(tmp_path / "r.json"), budget=60.0)
    printed = capsys.readouterr().out
    assert "fixed cost per process" in printed
    rows = [line for line in printed.splitlines() if " x " in line and "%" in line]
    assert len(rows) == 8
    # More processes never make the standard error larger.
    errors = {
        row.split()[0] + "x" + row.split()[2]: float(row.split()[4].rstrip("%")) for row in rows
    }
    assert errors["8x3"] <= errors["4x4"] <= errors["2x5"]
