"""Build pyperf results in memory for tests: known process means, the agent's metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyperf
from perfagent import results

FINGERPRINT = "a1b2c3d4e5f6"
HARDWARE: dict[str, Any] = {
    "architecture": "x86_64",
    "cpu_model_name": "Test CPU 3000",
    "logical_cpus": 4,
    "governor": "performance",
    "boost": "off",
}
SOFTWARE: dict[str, Any] = {
    "os": "Debian GNU/Linux 12 (bookworm)",
    "kernel": "6.1.0-test",
    "python": "CPython 3.11.2",
    "packages": {"numpy": "2.0.0", "pyperf": "2.11.0"},
}

# Spread of the values around a process's mean: the mean is exactly what was asked.
_VALUE_OFFSETS = (-0.01, 0.0, 0.01)


def make_suite(
    benchmarks: Mapping[str, Sequence[Sequence[float]]],
    *,
    agent: bool = True,
    fingerprint: str = FINGERPRINT,
    hardware: Mapping[str, Any] | None = None,
    software: Mapping[str, Any] | None = None,
    metric: str = "time",
    suite: str = "demo",
    commit: str | None = "0123456789abcdef",
    run_ids: Sequence[str] | None = None,
    date: str = "2025-01-02 03:04:05",
    extra: Mapping[str, Any] | None = None,
) -> pyperf.BenchmarkSuite:
    """A suite whose benchmark `name` has the process means `benchmarks[name]`, grouped
    by suite run (one inner list per run, one float per worker process).

    Each process gets three values around its mean and one warm-up (which must not
    count). `agent=False` leaves out the agent's metadata: plain pyperf output.
    """
    unit = results.METRIC_UNITS[metric]
    built = []
    for name, groups in benchmarks.items():
        runs = []
        for index, group in enumerate(groups):
            run_id = run_ids[index] if run_ids else f"run-{index + 1}"
            metadata: dict[str, Any] = {"name": name, "unit": unit, "date": date}
            if agent:
                metadata.update(
                    {
                        results.KEY_VERSION: "0.1.0",
                        results.KEY_FINGERPRINT: fingerprint,
                        results.KEY_HARDWARE: json.dumps(dict(hardware or HARDWARE)),
                        results.KEY_SOFTWARE: json.dumps(dict(software or SOFTWARE)),
                        results.KEY_METRIC: metric,
                        results.KEY_SUITE: suite,
                        results.KEY_RUN_ID: run_id,
                        "perfagent_suite_flavour": "synthetic",
                    }
                )
                if commit:
                    metadata[results.KEY_COMMIT] = commit
            metadata.update(extra or {})
            for mean in group:
                values = [mean * (1.0 + offset) for offset in _VALUE_OFFSETS]
                runs.append(
                    pyperf.Run(
                        values,
                        warmups=[(1, mean * 5.0)],
                        metadata=metadata,
                        collect_metadata=False,
                    )
                )
        built.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(built)


def write_suite(path: Path, suite: pyperf.BenchmarkSuite) -> Path:
    """Write `suite` as pyperf JSON at `path` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write(suite, path)
    return path


def steady(
    mean: float, processes: int = 4, runs: int = 1, spread: float = 0.01
) -> list[list[float]]:
    """Process means with a small deterministic spread around `mean`."""
    pattern = [1.0 + spread * ((i % 3) - 1) for i in range(processes)]
    return [[mean * p * (1.0 + 0.002 * r) for p in pattern] for r in range(runs)]
