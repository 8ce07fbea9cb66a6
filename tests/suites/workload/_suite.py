"""Defaults of the workload suite: real kinds of work, in amounts that `workload.SCALE` sets.

Timing needs several processes on a noisy machine; the instructions metric ignores
PROCESSES and VALUES (two processes of three counts are plenty there).
"""

import workload

PROCESSES = 6
VALUES = 3
WARMUPS = 1


def metadata() -> dict[str, str]:
    """The scale of the work, recorded with every result of this suite."""
    return {"workload_scale": str(workload.SCALE)}
