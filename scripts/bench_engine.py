#!/usr/bin/env python3
"""What a suite run costs beyond its measurements: the legacy engine beside today's.

    make bench-engine                        # the hazelbean suite, once per engine
    python scripts/bench_engine.py --suite tests/suites/tiny --repeat 2

For each engine it runs `perfagent run` on the same suite and prints the wall time,
the time spent inside timed calls (calibration, warm-ups and values: what pyperf's
JSON says was timed, loops included), and their ratio, the overhead factor: the part
of a check spent starting processes, importing and setting up rather than measuring.

The legacy engine is the agent as it was before whole-suite workers
(LEGACY_COMMIT: one pyperf Runner per benchmark, a calibration process plus PROCESSES
worker processes per benchmark, each importing the suite). It is extracted from git
into a temporary directory (`git archive`, nothing in this checkout changes) and run
with the same interpreter and suite; the legacy engine gets the process count it had
by default (LEGACY_PROCESSES), the new one its suite's own, which is never fewer.
With --repeat N the engines alternate, N runs each, so drift of a shared machine
falls on both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The last commit whose agent ran one pyperf Runner per benchmark.
LEGACY_COMMIT = "9deb5f0"
# The hazelbean suite's defaults at that commit: 2 processes of 5 values, 1 warm-up.
LEGACY_PROCESSES = 2
LEGACY_VALUES = 5
LEGACY_WARMUPS = 1


@dataclass(frozen=True)
class Measured:
    engine: str
    wall: float
    timed: float
    processes_per_benchmark: int
    worker_processes: int
    benchmarks: int

    @property
    def overhead(self) -> float:
        return self.wall / self.timed if self.timed > 0 else float("inf")


def timed_seconds(results: Path) -> tuple[float, int, int]:
    """Seconds inside timed calls, processes per benchmark, benchmarks: from pyperf JSON."""
    data = json.loads(results.read_text(encoding="utf-8"))
    total = 0.0
    processes: set[int] = set()
    names = 0
    for bench in data["benchmarks"]:
        names += 1
        common = bench.get("metadata", {})
        with_values = 0
        for run in bench["runs"]:
            metadata = {**data.get("metadata", {}), **common, **run.get("metadata", {})}
            loops = int(metadata.get("loops", 1)) * int(metadata.get("inner_loops", 1))
            total += sum(n * value for n, value in run.get("warmups", []))
            total += sum(run.get("values", [])) * loops
            with_values += bool(run.get("values"))
        processes.add(with_values)
    return total, min(processes) if processes else 0, names


def extract_legacy(commit: str, into: Path) -> Path:
    """The legacy agent's package directory, extracted from git (no checkout changes)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "legacy.tar"
    with archive.open("wb") as handle:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "agent"],
            stdout=handle,
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "agent"


def run_engine(
    engine: str, agent_dir: Path | None, suite: Path, args: list[str], work: Path
) -> Measured:
    output = work / f"{engine}-{time.monotonic_ns()}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFAGENT_", "GITHUB_"))}
    env["CI"] = "true"  # plain progress lines
    if agent_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(agent_dir), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "perfagent", "run", "--suite", str(suite), *args]
    command += ["-o", str(output)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{engine} engine failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    timed, per_benchmark, names = timed_seconds(output)
    workers = names * (per_benchmark + 1) if engine == "legacy" else per_benchmark
    return Measured(engine, wall, timed, per_benchmark, workers, names)


def sizing(results: Path, budget: float) -> None:
    """How to spend a run: processes x values per process, from a run of the new engine.

    From the run's own spread: per benchmark, the between-process variance of the
    process means (sb^2) and the within-process variance of values (sw^2); the standard
    error of a mean over P processes of V values is sqrt(sb^2/P + sw^2/(P*V)). From its
    costs: each process's fixed cost (its duration outside timed calls: start, import,
    setups) and the time one value of every benchmark takes. Prints, for a few P x V,
    the estimated wall time and the median relative standard error.
    """
    import statistics

    data = json.loads(results.read_text(encoding="utf-8"))
    # pyperf moves metadata common to every benchmark up to the file's own.
    top = data.get("metadata", {})
    relative_sb2: list[float] = []
    relative_sw2: list[float] = []
    per_value = 0.0
    fixed: dict[int, float] = {}
    for bench in data["benchmarks"]:
        runs = bench["runs"]
        means = [statistics.fmean(run["values"]) for run in runs if run.get("values")]
        grand = statistics.fmean(means)
        within = [statistics.variance(run["values"]) for run in runs if len(run["values"]) > 1]
        values = max(len(run["values"]) for run in runs)
        sw2 = statistics.fmean(within) if within else 0.0
        # The variance of process means holds sw2/V too: take it out (at least 0).
        sb2 = max(statistics.variance(means) - sw2 / values, 0.0) if len(means) > 1 else 0.0
        relative_sb2.append(sb2 / grand**2)
        relative_sw2.append(sw2 / grand**2)
        for run in runs:
            metadata = {**top, **bench.get("metadata", {}), **run.get("metadata", {})}
            loops = int(metadata.get("loops", 1))
            timed = sum(n * v for n, v in run.get("warmups", [])) + sum(run["values"]) * loops
            process = int(metadata.get("perfagent_process", 0))
            fixed[process] = fixed.get(process, 0.0) + float(metadata["duration"]) - timed
        per_value += statistics.fmean(means) * int(
            {**top, **bench.get("metadata", {}), **runs[-1].get("metadata", {})}.get("loops", 1)
        )
    # The first process also calibrates; the others show the steady fixed cost.
    steady = statistics.median(list(fixed.values())[1:] or list(fixed.values()))
    print(
        f"\nsizing from {results.name}: fixed cost per process {steady:.1f} s "
        f"(start, import, setups), one value of every benchmark {per_value:.1f} s"
    )
    print(f"{'P x V':>7} {'wall s':>8} {'median rel. SE':>15} {'overhead':>9}")
    candidates = ((2, 5), (2, 8), (3, 6), (4, 4), (4, 6), (6, 3), (6, 5), (8, 3))
    for processes, values in candidates:
        timed = processes * per_value * (values + 1)  # one warm-up per value series
        wall = processes * steady + timed
        errors = [
            (sb2 / processes + sw2 / (processes * values)) ** 0.5
            for sb2, sw2 in zip(relative_sb2, relative_sw2, strict=True)
        ]
        mark = "  <= budget" if wall <= budget else ""
        print(
            f"{processes:>3} x {values:<2} {wall:>8.0f} {statistics.median(errors):>14.2%} "
            f"{wall / timed:>8.2f}x{mark}"
        )


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "benchmarks" / "hazelbean")
    parser.add_argument("--legacy-commit", default=LEGACY_COMMIT)
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine, alternating")
    parser.add_argument("-b", "--benchmark", action="append", default=[], metavar="PATTERN")
    parser.add_argument(
        "--processes", type=int, default=None, help="the new engine's (default: the suite's)"
    )
    parser.add_argument(
        "--sizing",
        type=Path,
        metavar="RESULTS",
        help="only analyse a new-engine results file: processes x values against their cost",
    )
    parser.add_argument("--budget", type=float, default=75.0, help="wall seconds, for --sizing")
    options = parser.parse_args(argv)
    if options.sizing:
        sizing(options.sizing, options.budget)
        return 0
    options.suite = options.suite.resolve()
    selection = [arg for pattern in options.benchmark for arg in ("-b", pattern)]
    legacy_args = [
        f"--processes={LEGACY_PROCESSES}",
        f"--values={LEGACY_VALUES}",
        f"--warmups={LEGACY_WARMUPS}",
        *selection,
    ]
    new_args = [*selection]
    if options.processes:
        new_args.append(f"--processes={options.processes}")

    print(f"suite {options.suite}, load average at start: {load_average()}", flush=True)
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="perfagent-bench-engine-") as tmp:
        work = Path(tmp)
        legacy_dir = extract_legacy(options.legacy_commit, work / "legacy")
        for index in range(options.repeat):
            for engine in ("legacy", "new") if index % 2 == 0 else ("new", "legacy"):
                agent = legacy_dir if engine == "legacy" else None
                args = legacy_args if engine == "legacy" else new_args
                measured = run_engine(engine, agent, options.suite, args, work)
                print(
                    f"  {engine}: {measured.wall:.1f} s wall, {measured.timed:.1f} s timed "
                    f"(load {load_average()})",
                    flush=True,
                )
                rows.append(measured)
    print(f"load average at end: {load_average()}")
    print()
    header = (
        f"{'engine':<8} {'proc/bench':>10} {'workers':>8} {'wall s':>8} "
        f"{'timed s':>8} {'overhead':>9}"
    )
    print(header)
    print("-" * len(header))
    for engine in ("legacy", "new"):
        mine = [r for r in rows if r.engine == engine]
        wall = sum(r.wall for r in mine) / len(mine)
        timed = sum(r.timed for r in mine) / len(mine)
        print(
            f"{engine:<8} {mine[0].processes_per_benchmark:>10} {mine[0].worker_processes:>8} "
            f"{wall:>8.1f} {timed:>8.1f} {wall / timed:>8.2f}x"
        )
    old = sum(r.wall for r in rows if r.engine == "legacy")
    new = sum(r.wall for r in rows if r.engine == "new")
    print()
    print(f"new wall time / legacy wall time: {new / old:.2f} (goal <= 0.33)")
    new_rows = [r for r in rows if r.engine == "new"]
    overhead = sum(r.wall for r in new_rows) / sum(r.timed for r in new_rows)
    print(f"new overhead factor: {overhead:.2f} (goal <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
