#!/usr/bin/env python3
"""The regression gate on real work, on this machine: time beside instructions (`make bench-gate`).

`scripts/bench_gate.py` simulates the decision on modelled noise; this script measures
it. For each metric and each repeat it does what a project does with the agent:

1. `perfagent baseline` of the suite as it is (on main), into a fresh store;
2. `perfagent check` of the unchanged suite: a failure is a false alarm;
3. `perfagent check` of the suite made slower (its code does `--slowdown` times the
   work): a failure is a detection.

Both checks run at `--threshold` (10%), with the agent's defaults otherwise: for time,
suspects are measured again (`confirm_runs`, 2) and the baseline pools
`--baseline-runs` suite runs (3, as the workflow does on main). For instructions the
baseline is one run and suspects are not measured again: counts repeat to about
0.01%, so neither can change a verdict, and each costs a run under valgrind.

The suite is `tests/suites/workload`: interpreter-bound Python, sorting, C-accelerated
JSON and numpy array arithmetic. Its `workload.py` holds `SCALE = 1.0`; the slowed copy
says `SCALE = 1.15`, so the change is in the code, not in the environment.

The table gives, per benchmark and metric, false alarms and detections over the
repeats, and the range of the ratios the checks measured; the last row counts whole
checks (exit 1). This is a benchmark, not a test: it prints figures and exits 0
unless the agent itself fails (exit 2).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SUITE = ROOT / "tests" / "suites" / "workload"
SCALE_FILE = "workload.py"
SCALE_LINE = "SCALE = 1.0"
METRICS = ("time", "instructions")
ALL = "(whole check: exit 1)"


@dataclass
class Tally:
    """One benchmark (or the whole check) under one metric, over the repeats."""

    false_alarms: int = 0
    detections: int = 0
    trials: int = 0
    same_ratios: list[float] = field(default_factory=list)
    slow_ratios: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class CheckOutcome:
    exit_code: int
    regressed: dict[str, bool]
    ratios: dict[str, float]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def perfagent(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The agent's command line, as a user runs it, with no PERFAGENT_* settings around."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFAGENT_", "GITHUB_"))}
    env["CI"] = "true"  # plain progress lines, no live display
    return subprocess.run(
        [sys.executable, "-m", "perfagent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_suite(source: Path, target_parent: Path, scale: float) -> Path:
    """A copy of the suite whose work is `scale` times as much (same directory name)."""
    target = target_parent / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    scale_file = target / SCALE_FILE
    text = scale_file.read_text(encoding="utf-8")
    if f"\n{SCALE_LINE}\n" not in f"\n{text}":
        sys.exit(f"{source / SCALE_FILE}: no line '{SCALE_LINE}' to change the amount of work")
    scale_file.write_text(
        f"\n{text}".replace(f"\n{SCALE_LINE}\n", f"\nSCALE = {scale!r}\n", 1)[1:],
        encoding="utf-8",
    )
    return target


def fail(step: str, done: subprocess.CompletedProcess[str]) -> None:
    say(f"{step} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    sys.exit(2)


def check(
    suite: Path, store: Path, out: Path, metric: str, threshold: float, step: str
) -> CheckOutcome:
    args = [
        "check", "--suite", str(suite), "--store", str(store), "--metric", metric,
        "--threshold", f"{threshold:g}", "--output-dir", str(out),
    ]  # fmt: skip
    if metric == "instructions":
        args += ["--confirm-runs", "0"]
    done = perfagent(*args, cwd=out.parent)
    if done.returncode not in (0, 1):
        fail(step, done)
    [analysis_file] = sorted((out / "analysis").glob("regression_check_*.json"))
    analysis = json.loads(analysis_file.read_text(encoding="utf-8"))
    return CheckOutcome(
        exit_code=done.returncode,
        regressed={b["name"]: b["verdict"] == "regression" for b in analysis["benchmarks"]},
        ratios={b["name"]: float(b["ratio"]) for b in analysis["benchmarks"]},
    )


def one_repeat(
    args: argparse.Namespace, metric: str, repeat: int, work: Path, tallies: dict[str, Tally]
) -> None:
    label = f"[{metric} {repeat}/{args.repeats}]"
    here = work / metric / str(repeat)
    base = copy_suite(args.suite, here / "main", 1.0)
    slowed = copy_suite(args.suite, here / "slowed", args.slowdown)
    store = here / "store"
    runs = "1" if metric == "instructions" else str(args.baseline_runs)

    started = time.monotonic()
    done = perfagent(
        "baseline", "--suite", str(base), "--store", str(store), "--metric", metric,
        "--runs", runs, "--commit", f"main-{repeat}", cwd=here,
    )  # fmt: skip
    if done.returncode != 0:
        fail(f"{label} baseline", done)
    say(f"{label} baseline of {runs} run(s) stored ({time.monotonic() - started:.0f} s)")

    outcomes = {}
    for kind, suite in (("unchanged", base), (f"{args.slowdown:g}x slower", slowed)):
        started = time.monotonic()
        outcome = check(suite, store, here / kind.split()[0], metric, args.threshold, label)
        outcomes[kind] = outcome
        failed = [n for n, r in outcome.regressed.items() if r]
        verdict = f"FAIL ({', '.join(failed)})" if outcome.exit_code == 1 else "pass"
        say(f"{label} check {kind}: {verdict} ({time.monotonic() - started:.0f} s)")

    same, slow = outcomes["unchanged"], outcomes[f"{args.slowdown:g}x slower"]
    for name in same.regressed:
        tally = tallies.setdefault(name, Tally())
        tally.trials += 1
        tally.false_alarms += same.regressed[name]
        tally.detections += slow.regressed.get(name, False)
        tally.same_ratios.append(same.ratios[name])
        if name in slow.ratios:
            tally.slow_ratios.append(slow.ratios[name])
    whole = tallies.setdefault(ALL, Tally())
    whole.trials += 1
    whole.false_alarms += same.exit_code == 1
    whole.detections += slow.exit_code == 1


def ratio_range(ratios: Sequence[float]) -> str:
    if not ratios:
        return "-"
    return f"{min(ratios):.3f}-{max(ratios):.3f}"


def print_table(args: argparse.Namespace, results: dict[str, dict[str, Tally]]) -> None:
    names = [*sorted({n for tallies in results.values() for n in tallies if n != ALL}), ALL]
    width = max(len(n) for n in names)
    slow = f"{args.slowdown:g}x"
    print()
    print(
        f"Real workloads on this machine ({args.suite.name} suite): threshold "
        f"{args.threshold:g}%, {args.repeats} repeats of baseline + check unchanged + "
        f"check {slow} slower, per metric."
    )
    print(
        f"time: baseline of {args.baseline_runs} runs, suspects measured again twice; "
        "instructions: baseline of 1 run, no re-measurement."
    )
    header = (
        f"{'benchmark':<{width}}  {'metric':<12}  {'false alarms':>12}  "
        f"{'detected ' + slow:>14}  {'ratios unchanged':>17}  {'ratios ' + slow:>17}"
    )
    print(header)
    print("-" * len(header))
    for name in names:
        for metric, tallies in results.items():
            tally = tallies.get(name)
            if tally is None:
                continue
            print(
                f"{name:<{width}}  {metric:<12}  "
                f"{f'{tally.false_alarms}/{tally.trials}':>12}  "
                f"{f'{tally.detections}/{tally.trials}':>14}  "
                f"{ratio_range(tally.same_ratios):>17}  {ratio_range(tally.slow_ratios):>17}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="repeats per metric (10)")
    parser.add_argument("--threshold", type=float, default=10.0, help="percent (10)")
    parser.add_argument("--slowdown", type=float, default=1.15, help="work factor (1.15)")
    parser.add_argument(
        "--metrics", default=",".join(METRICS), help="comma-separated (time,instructions)"
    )
    parser.add_argument(
        "--baseline-runs", type=int, default=3, help="suite runs in a time baseline (3)"
    )
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="suite directory")
    parser.add_argument("--keep", type=Path, help="keep the work files here")
    args = parser.parse_args(argv)
    args.suite = args.suite.resolve()
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or args.repeats < 1:
        parser.error(f"unknown metric {unknown}" if unknown else "--repeats must be at least 1")

    if "instructions" in metrics:
        from perfagent.measure.instructions import unavailable_reason

        reason = unavailable_reason()
        if reason:
            say(f"skipping the instructions metric: {reason}")
            metrics.remove("instructions")

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-gate-real-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Tally]] = {m: {} for m in metrics}
    started = time.monotonic()
    say(
        f"bench-gate on real work: {len(metrics)} metric(s) x {args.repeats} repeats of "
        "baseline + 2 checks; this takes a while (tens of minutes on a 2-core VM)"
    )
    try:
        # Metrics alternate within a repeat, so slow drifts of the machine hit both alike.
        for repeat in range(1, args.repeats + 1):
            for metric in metrics:
                one_repeat(args, metric, repeat, work, results[metric])
            elapsed = time.monotonic() - started
            left = elapsed / repeat * (args.repeats - repeat)
            say(
                f"-- repeat {repeat}/{args.repeats} done after {elapsed / 60:.1f} min, "
                f"about {left / 60:.0f} min left"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print_table(args, results)
    print(f"({(time.monotonic() - started) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
