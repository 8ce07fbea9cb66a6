"""The reference workload: a fixed piece of work that tells the machine's speed.

Every time-metric worker process measures it beside the suite's benchmarks, under the
reserved name `perfagent.reference`. It never depends on the code under test, so when
it moves between a baseline and a check, the machine moved (another tenant on the
host, a different clock, thermal limits), not the code: `judge.machine_drift` then stops the
check from calling the code's change a regression.

It is pure Python (the interpreter loop, like most suites' hot paths) and touches
memory beyond the caches (a pseudo-random walk over a 16 MiB buffer, and list
allocation), so that both a slower core and a slower memory system show. One call
takes a few milliseconds; with pyperf's loops a process spends tens of ms on it.
"""

from __future__ import annotations

import os

NAME = "perfagent.reference"
# Test hook: do this many times the work, to make "the machine got slower" without
# touching the code under test (tests/unit/test_machine_drift.py, tests/e2e/test_drift_guard.py).
SLOWDOWN_VARIABLE = "PERFAGENT_TEST_REFERENCE_SLOWDOWN"

_BUFFER_BYTES = 16 * 1024 * 1024
_STEPS = 4000


def _steps() -> int:
    try:
        factor = float(os.environ.get(SLOWDOWN_VARIABLE, "1") or "1")
    except ValueError:
        factor = 1.0
    return max(1, round(_STEPS * max(factor, 0.0)))


def reference_workload(steps: int | None = None) -> int:
    """One call of the reference workload; returns a checksum so nothing is optimised out."""
    memory = _MEMORY
    size = len(memory)
    position = 12345
    checksum = 0
    chunk: list[int] = []
    for step in range(steps if steps is not None else _STEPS_NOW):
        # A linear congruential walk: each access lands on a cache line far from the last.
        position = (position * 1103515245 + 12345) & 0x7FFFFFFF
        index = position % size
        memory[index] = (memory[index] + step) & 0xFF
        checksum += memory[index]
        if step & 63 == 0:
            chunk = [checksum, step, index]  # small allocations, as real code makes
    return checksum + len(chunk)


_STEPS_NOW = _steps()
# Allocated (and touched) at import, so that no timed call pays for the first touch.
_MEMORY = bytearray(b"\x01") * _BUFFER_BYTES
