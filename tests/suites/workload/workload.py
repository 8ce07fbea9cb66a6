"""How much work a benchmark of the workload suite does: its base amount times SCALE.

Every benchmark repeats one fixed unit of work `repeats(base)` times, so its cost grows
exactly with SCALE. To make "the same code" do 10% more work, a test copies this suite
and edits the line `SCALE = 1.0` (see `with_scale` in tests and
scripts/bench_gate_real.py): a change to the code itself, which reaches every worker
whatever the metric and whatever environment the workers are given. Bases are
multiples of 20, so that 1.10 and 1.15 give whole numbers of repeats.
"""

SCALE = 1.0


def repeats(base: int) -> int:
    """How many units of work a benchmark with this base amount does at SCALE."""
    return max(1, round(base * SCALE))
