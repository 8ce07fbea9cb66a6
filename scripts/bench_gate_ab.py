#!/usr/bin/env python3
"""`perfagent ab` itself, run as a user runs it, on real workloads (`make bench-gate`).

`scripts/bench_gate_table.py` judges every rule on one recorded stream of worker
processes; its ab rows are emulated from that stream (the confirmation pairs are those
of a later trial). This script gives the ab row without emulation: each trial is one
`perfagent ab` command, with the agent's defaults (10 pairs, suspects measured again
with 10 more pairs up to 2 times, threshold 10%), between two interpreters:

* base: this venv's Python, the suite as written;
* head: a wrapper script around the same Python that sets PERFAGENT_GATE_SLOWDOWN, so
  its worker processes do 1.10, 1.15 or 1.20 times the work in some benchmarks
  (tests/suites/gatebench/slowdown.py), as a second environment with slower code does.

The slowdowns rotate over trials exactly as in bench_gate_table.py (trial t, benchmark
j: CONDITIONS[(j + t) % 4]), so each trial is a pull request that slows some functions
and leaves the others alone; a `regression` verdict on a 1.00x benchmark is a false
alarm. Verdicts come from ab's JSON report (analysis/regression_check_*.json), never
from its terminal text. Wall time is that of the whole `perfagent ab` command, which
gives a verdict for every benchmark of the stream at once.

A benchmark, not a test: it prints the table (with `uptime` before and after) and exits
0 unless `perfagent ab` fails (exit 2) or prints no report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "agent"))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_gate_table import (  # noqa: E402  (the script's own directory, put on the path above)
    CONDITIONS,
    SLOWDOWN_VARIABLE,
    STREAMS,
    SUITE,
    THRESHOLD,
    _selected,
    assignment,
    say,
    uptime,
)

STREAM_NAMES = ("mixed", "hazelbean")


@dataclass
class Tally:
    """One condition of one stream: regression verdicts over all verdicts."""

    regressions: int = 0
    verdicts: int = 0
    ratios: list[float] = field(default_factory=list)

    def rate(self) -> str:
        if not self.verdicts:
            return "-"
        return (
            f"{100.0 * self.regressions / self.verdicts:.1f}% ({self.regressions}/{self.verdicts})"
        )


def head_wrapper(directory: Path, factors: dict[str, float]) -> Path:
    """An executable that runs this Python with the trial's slowdowns in its environment."""
    slowed = ",".join(f"{name}={factor:g}" for name, factor in factors.items() if factor != 1.0)
    path = directory / "head-python"
    path.write_text(
        "#!/bin/sh\n"
        f'{SLOWDOWN_VARIABLE}={shlex.quote(slowed)} exec {shlex.quote(sys.executable)} "$@"\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def run_ab(names: Sequence[str], head: Path, output: Path, seed: int) -> tuple[dict, float]:
    """One `perfagent ab`; its JSON report and its wall time."""
    command = [
        sys.executable,
        "-m",
        "perfagent",
        "ab",
        "--suite",
        str(SUITE),
        "--base-python",
        sys.executable,
        "--head-python",
        str(head),
        "--threshold",
        f"{THRESHOLD:g}",
        "--output-dir",
        str(output),
        "--seed",
        str(seed),
        "--quiet",
    ]
    for name in names:
        command += ["--benchmark", name]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    reports = sorted((output / "analysis").glob("regression_check_*.json"))
    if done.returncode == 2 or not reports:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"perfagent ab failed (exit {done.returncode})")
    return json.loads(reports[-1].read_text(encoding="utf-8")), wall


def tally_trial(
    report: dict, factors: dict[str, float], table: dict[float, Tally]
) -> list[dict[str, object]]:
    """Count one report's verdicts by the slowdown each benchmark had; the rows it read."""
    rows: list[dict[str, object]] = []
    for bench in report["benchmarks"]:
        name = str(bench["name"])
        if name not in factors:
            continue  # the reference workload, if a report ever lists it
        cell = table[factors[name]]
        cell.verdicts += 1
        cell.regressions += bench["verdict"] == "regression"
        cell.ratios.append(float(bench["ratio"]))
        rows.append(
            {
                "name": name,
                "factor": factors[name],
                "verdict": bench["verdict"],
                "ratio": bench["ratio"],
                "confirmation_runs": bench.get("confirmation_runs"),
            }
        )
    return rows


def record(stream_name: str, trials: int, seed: int, raw: Path | None) -> None:
    from perfagent.measure.suite import load_suite

    stream = STREAMS[stream_name]
    names = _selected(load_suite(SUITE).names, stream)
    table = {condition: Tally() for condition in CONDITIONS}
    walls: list[float] = []
    exits: list[int] = []
    say(f"[{stream_name}] {uptime()}")
    for trial in range(trials):
        factors = assignment(names, trial)
        with tempfile.TemporaryDirectory(prefix="bench-gate-ab-") as tmp:
            work = Path(tmp)
            report, wall = run_ab(names, head_wrapper(work, factors), work / "out", seed + trial)
        rows = tally_trial(report, factors, table)
        walls.append(wall)
        exits.append(int(report["exit_code"]))
        if raw is not None:
            with raw.open("a", encoding="utf-8") as out:
                entry = {"stream": stream_name, "trial": trial, "seed": seed + trial,
                         "wall": wall, "exit_code": report["exit_code"], "benchmarks": rows,
                         "load": os.getloadavg()[0]}  # fmt: skip
                out.write(json.dumps(entry) + "\n")
        say(
            f"[{stream_name}] trial {trial + 1}/{trials}: exit {report['exit_code']}, "
            f"{wall:.0f} s, load {os.getloadavg()[0]:.2f}"
        )
    say(f"[{stream_name}] {uptime()}")
    print_table(stream_name, names, table, walls, trials)


def print_table(
    stream: str, names: Sequence[str], table: dict[float, Tally], walls: list[float], trials: int
) -> None:
    print(
        f"\nstream {stream} ({len(names)} benchmarks), {trials} runs of `perfagent ab` "
        f"(defaults: 10 pairs, up to 2 confirmations), threshold {THRESHOLD:g}%, time"
    )
    print("| rule | false alarms 1.00x | 1.10x | 1.15x | 1.20x | s per ab run |")
    print("|---|---|---|---|---|---|")
    cells = " | ".join(table[c].rate() for c in CONDITIONS)
    print(f"| perfagent ab (run as is) | {cells} | {sum(walls) / len(walls):.1f} |")
    for condition in CONDITIONS:
        ratios = table[condition].ratios
        if ratios:
            spread = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
            print(f"  {condition:.2f}x: geometric mean of measured ratios {spread:.3f}, "
                  f"range {min(ratios):.3f}-{max(ratios):.3f}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default=",".join(STREAM_NAMES), help="comma-separated")
    parser.add_argument("--trials", type=int, default=20, help="ab runs per stream")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--raw", type=Path, help="JSON-lines file: one line per ab run")
    args = parser.parse_args(argv)
    for name in args.streams.split(","):
        if name not in STREAM_NAMES:
            parser.error(f"unknown stream {name!r} (choose from {', '.join(STREAM_NAMES)})")
        if name == "hazelbean" and importlib.util.find_spec("hazelbean") is None:
            say("skipping the hazelbean stream: hazelbean is not installed here")
            continue
        record(name, args.trials, args.seed, args.raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
