"""Write this project's own small pyperf files under tests/data/ (run it to regenerate).

They reproduce two real situations with numbers of our own choosing (no file of
anyone else is copied):

* the dedicated-machine A/A pair: the same CPython measured twice, one pyperformance
  invocation per side (20 worker processes x 3 values), on a quiet Xeon W-2255. The
  means follow the public faster-cpython A/A report `aa_test_apr_2024` vs its base
  (nbody 89.4 -> 95.5 ms, logging_silent 102 -> 107.3 ns, pidigits 206 -> 190 ms...):
  the processes of one invocation agree to a fraction of a percent while whole
  invocations drift by several percent. `aa_history_<n>.json` are four earlier
  baselines of the same machine and suite, showing that drift.
* the cross-machine pair: the same benchmarks with pyperf's own metadata of a Linux
  Xeon and of a macOS arm64 laptop (pyperf records no cpu_model_name on macOS).

Deterministic: a fixed seed, so regenerating gives the same bytes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

# name -> (unit seconds, base mean, head mean, process spread as a fraction)
AA_BENCHMARKS: dict[str, tuple[float, float, float]] = {
    "nbody": (89.4e-3, 95.5e-3, 0.004),
    "logging_silent": (102.0e-9, 107.3e-9, 0.005),
    "pidigits": (206e-3, 190e-3, 0.003),
    "telco": (8.51e-3, 8.78e-3, 0.006),
    "float": (78.1e-3, 79.2e-3, 0.005),
    "unpickle_list": (5.46e-6, 5.11e-6, 0.006),
    "chaos": (60.1e-3, 61.8e-3, 0.004),
    "json_dumps": (10.6e-3, 10.6e-3, 0.005),
}
# Run-to-run level of each earlier baseline, relative to the base (the drift the
# store's history holds): nbody and logging_silent wander by several percent.
HISTORY_LEVELS: dict[str, tuple[float, float, float, float]] = {
    "nbody": (0.985, 1.045, 1.01, 1.07),
    "logging_silent": (1.0, 1.05, 0.985, 1.04),
    "pidigits": (1.0, 0.93, 1.02, 0.95),
    "telco": (1.0, 1.02, 0.99, 1.03),
    "float": (1.0, 1.01, 0.995, 1.015),
    "unpickle_list": (1.0, 0.96, 1.01, 0.95),
    "chaos": (1.0, 1.02, 0.99, 1.025),
    "json_dumps": (1.0, 1.005, 0.995, 1.01),
}

XEON_METADATA: dict[str, Any] = {
    "aslr": "Full randomization",
    "cpu_count": 20,
    "cpu_model_name": "Intel(R) Xeon(R) W-2255 CPU @ 3.70GHz",
    "hostname": "bench-xeon-01",
    "perf_version": "2.6.3",
    "performance_version": "1.11.0",
    "platform": "Linux-5.4.0-164-generic-x86_64-with-glibc2.31",
    "python_implementation": "cpython",
    "python_version": "3.13.0a6+ (64-bit) revision 2584082",
    "timer": "clock_gettime(CLOCK_MONOTONIC), resolution: 1.00 ns",
}
MACOS_METADATA: dict[str, Any] = {
    "cpu_count": 8,
    "hostname": "mbp-arm",
    "perf_version": "2.6.3",
    "performance_version": "1.11.0",
    "platform": "macOS-14.4.1-arm64-arm-64bit",
    "python_implementation": "cpython",
    "python_version": "3.13.0a6+ (64-bit) revision 2584082",
    "timer": "mach_absolute_time(), resolution: 41.7 ns",
}
# The agent's facts for the A/A files: they were measured by perfagent on that Xeon.
AA_FINGERPRINT = "0f1e2d3c4b5a"
AA_HARDWARE = {
    "architecture": "x86_64",
    "cpu_model_name": "Intel(R) Xeon(R) W-2255 CPU @ 3.70GHz",
    "logical_cpus": 20,
    "governor": "performance",
    "boost": "off",
}


def _runs(
    rng: random.Random, mean: float, spread: float, run_id: str | None, processes: int = 20
) -> list[dict[str, Any]]:
    runs = []
    for index in range(processes):
        process_mean = mean * (1.0 + rng.gauss(0.0, spread))
        values = [process_mean * (1.0 + rng.gauss(0.0, spread / 3)) for _ in range(3)]
        metadata: dict[str, Any] = {"date": f"2024-04-23 15:{index:02d}:00.000000"}
        if run_id is not None:
            metadata["perfagent_run_id"] = run_id
        runs.append({"metadata": metadata, "values": values, "warmups": [[1, values[0]]]})
    return runs


def _suite(
    means: dict[str, tuple[float, float]],
    rng: random.Random,
    metadata: dict[str, Any],
    run_id: str | None,
) -> dict[str, Any]:
    benchmarks = [
        {"metadata": {"name": name, "loops": 8}, "runs": _runs(rng, mean, spread, run_id)}
        for name, (mean, spread) in means.items()
    ]
    return {"benchmarks": benchmarks, "metadata": {**metadata, "unit": "second"}, "version": "1.0"}


def _agent_metadata(commit: str) -> dict[str, Any]:
    return {
        **XEON_METADATA,
        "perfagent_fingerprint": AA_FINGERPRINT,
        "perfagent_hardware": json.dumps(AA_HARDWARE, sort_keys=True),
        "perfagent_metric": "time",
        "perfagent_suite": "pyperformance",
        "perfagent_commit": commit,
    }


def build() -> dict[str, dict[str, Any]]:
    rng = random.Random(20240423)
    files: dict[str, dict[str, Any]] = {}
    base = {name: (b, s) for name, (b, _h, s) in AA_BENCHMARKS.items()}
    head = {name: (h, s) for name, (_b, h, s) in AA_BENCHMARKS.items()}
    files["aa_base.json"] = _suite(base, rng, _agent_metadata("2584082"), "aa-base")
    files["aa_head.json"] = _suite(head, rng, _agent_metadata("73d6faa"), "aa-head")
    for index in range(4):
        levels = {
            name: (b * HISTORY_LEVELS[name][index], s) for name, (b, _h, s) in AA_BENCHMARKS.items()
        }
        meta = _agent_metadata(f"00000{index}a")
        files[f"aa_history_{index + 1}.json"] = _suite(levels, rng, meta, f"history-{index + 1}")
    cross = {name: (b, s) for name, (b, _h, s) in list(AA_BENCHMARKS.items())[:4]}
    files["cross_linux_xeon.json"] = _suite(cross, rng, XEON_METADATA, None)
    arm = {name: (b * 1.3, s) for name, (b, s) in cross.items()}
    files["cross_macos_arm64.json"] = _suite(arm, rng, MACOS_METADATA, None)
    return files


def main() -> None:
    for name, data in build().items():
        (HERE / name).write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
