"""Is the machine fit to take a baseline right now? The reasons `baseline` refuses.

A baseline taken on a loaded machine is 2-3x slower than a quiet one, and every later
check then calls the code "faster" (issue 12). Before measuring, `baseline` reads two
of the doctor's checks on the benchmark CPUs: the load (busy share of other work over
half a second) and processes placed on isolated benchmark CPUs; after measuring, the
reference workload is compared with the stored baseline's (`judge.machine_drift`).
Any failure stops the baseline unless `--force`, and says why. Only the time metric
is concerned: instruction counts do not depend on load.

Test hook: PERFAGENT_TEST_BUSY (a share, 0-1) replaces the load reading, so tests can
make the machine look loaded without loading it.
"""

from __future__ import annotations

import os

from perfagent.cpus import format_cpu_list
from perfagent.machine import doctor

BUSY_VARIABLE = "PERFAGENT_TEST_BUSY"


def _probe(cpus: list[int] | None) -> doctor.Probe:
    return doctor.Probe(cpus=cpus, own_pids=doctor.own_pids(), ancestor_pids=doctor.ancestor_pids())


def load_reason(probe: doctor.Probe) -> str | None:
    """Why the benchmark CPUs are too busy to measure on, or None."""
    injected = os.environ.get(BUSY_VARIABLE)
    if injected:
        busy = float(injected)
        if busy > doctor.BUSY_FAIL:
            return (
                f"load: CPU {format_cpu_list(probe.benchmark_cpus())} {busy:.0%} busy "
                f"with other work (more than {doctor.BUSY_FAIL:.0%}; {BUSY_VARIABLE})"
            )
        return None
    check = doctor.check_load(probe)
    return f"load: {check.state}" if check.verdict == doctor.FAIL else None


def placement_reason(probe: doctor.Probe) -> str | None:
    """Foreign processes placed on isolated benchmark CPUs, or None."""
    check = doctor.check_foreign_processes(probe)
    if check.verdict == doctor.FAIL:
        return f"other processes on the benchmark CPUs: {check.state}"
    return None


def unfit_reasons(cpus: list[int] | None) -> list[str]:
    """What makes this machine unfit to take a time baseline now (empty: fit)."""
    probe = _probe(cpus)
    reasons = [load_reason(probe), placement_reason(probe)]
    return [r for r in reasons if r]
