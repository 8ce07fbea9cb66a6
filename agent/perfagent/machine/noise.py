"""`doctor --measure`: a short noise probe, and the change a check could detect with it.

The probe starts PROCESSES worker processes one after the other, on the benchmark
CPUs, each timing the reference workload (`measure.reference`) VALUES times after a
warmup: the same shape as a suite run, in a second or two. From the spread of the
process means it says which slowdown a check of the configured design would detect
with 90% power (`judge.resolution`), and the same for `ab` from the spread of the
ratios of consecutive processes. A short probe cannot see run-to-run drift (that
takes minutes): its figures are lower bounds, and the report says so.

    python -m perfagent.machine.noise LOOPS VALUES [CPU]   (one probe process: JSON on stdout)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Not at run time: a probe process must start fast (no numpy, no scipy).
    from perfagent.judge import resolution

PROCESSES = 10
VALUES = 5
LOOPS = 4  # reference calls per value: about 5-12 ms
# Processes per run of the check the figures describe, when no setting says.
CHECK_PROCESSES = 4


@dataclass(frozen=True)
class NoiseProbe:
    """What the probe measured and what it means for a time check."""

    process_means: tuple[float, ...]  # seconds per reference call, one per process
    spread: float  # standard deviation of the log process means
    check: resolution.Resolution  # a stored-baseline check of the configured design
    ab: resolution.Resolution  # ab with the configured number of pairs
    seconds: float  # wall time of the probe

    def to_dict(self) -> dict[str, Any]:
        return {
            "processes": len(self.process_means),
            "process_means": list(self.process_means),
            "process_spread_percent": math.expm1(self.spread) * 100.0,
            "check": self.check.to_dict(),
            "ab": self.ab.to_dict(),
            "seconds": self.seconds,
            "between_run_drift": "not measured (a short probe cannot see it): lower bounds",
        }


def one_process(cpu: int | None = None) -> float:
    """Run one probe process and return its mean seconds per reference call."""
    command = [sys.executable, "-m", "perfagent.machine.noise", str(LOOPS), str(VALUES)]
    if cpu is not None:
        command.append(str(cpu))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"noise probe process failed: {done.stderr.strip()[-500:]}")
    values = json.loads(done.stdout)["values"]
    return float(sum(values) / len(values))


def measure(
    *,
    threshold: float,
    check_processes: int,
    baseline_runs: int,
    ab_pairs: int,
    cpus: Sequence[int] | None = None,
    processes: int = PROCESSES,
    run_one: Callable[[int | None], float] = one_process,
) -> NoiseProbe:
    """Run the probe; `run_one(cpu)` is one probe process (tests pass a fake)."""
    from perfagent.judge import resolution

    started = time.monotonic()
    means = []
    for index in range(processes):
        cpu = cpus[index % len(cpus)] if cpus else None
        means.append(run_one(cpu))
    logs = [math.log(m) for m in means]
    mean = sum(logs) / len(logs)
    variance = sum((x - mean) ** 2 for x in logs) / (len(logs) - 1) if len(logs) > 1 else 0.0
    check = resolution.for_design(
        "this machine (reference workload)",
        threshold,
        within=variance,
        between=None,
        df=float(len(logs) - 1),
        base_runs=baseline_runs,
        base_processes=float(check_processes),
    )
    ratios = [b - a for a, b in zip(logs[0::2], logs[1::2], strict=False)]
    ab = resolution.paired("this machine (reference workload)", ratios, threshold)
    # The probe's pairs are fewer than ab's: scale its standard error to ab's pair count.
    if len(ratios) > 1 and math.isfinite(ab.standard_error):
        spread = ab.standard_error * math.sqrt(len(ratios))
        ab = resolution.paired_design(
            "this machine (reference workload)", spread, ab_pairs, threshold
        )
    return NoiseProbe(tuple(means), math.sqrt(variance), check, ab, time.monotonic() - started)


def _worker(argv: Sequence[str]) -> None:
    loops, values = int(argv[0]), int(argv[1])
    if len(argv) > 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(argv[2])})
    from perfagent.measure.reference import reference_workload

    reference_workload()  # warmup: first-touch of its buffer, caches
    timer = time.perf_counter
    found = []
    for _ in range(values):
        start = timer()
        for _ in range(loops):
            reference_workload()
        found.append((timer() - start) / loops)
    print(json.dumps({"values": found}))


if __name__ == "__main__":
    _worker(sys.argv[1:])
