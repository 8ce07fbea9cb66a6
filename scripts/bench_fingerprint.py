"""How long a whole `perfagent fingerprint --json` process takes (the goal: well under 0.5 s).

Prints wall-clock and CPU time (user + system) over repeated runs. On a loaded machine
the wall clock includes waiting for a CPU; CPU time is the steadier figure then.

    .venv/bin/python scripts/bench_fingerprint.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_SECONDS = 0.5


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    perfagent = Path(sys.executable).parent / "perfagent"
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = os.times()
        start = time.perf_counter()
        subprocess.run([str(perfagent), "fingerprint", "--json"], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(
            (after.children_user - before.children_user)
            + (after.children_system - before.children_system)
        )
    load = os.getloadavg()[0]
    print(f"perfagent fingerprint --json, {runs} runs (load average {load:.2f}):")
    print(f"  wall  min {min(walls):.3f} s  median {statistics.median(walls):.3f} s")
    print(f"  CPU   min {min(cpus):.3f} s  median {statistics.median(cpus):.3f} s")
    verdict = "within" if statistics.median(cpus) < GOAL_SECONDS else "OVER"
    print(f"  goal  {GOAL_SECONDS} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
