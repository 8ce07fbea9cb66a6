"""Pyperf defaults of the gate test suite: few processes, short values (workers are cheap)."""

PROCESSES = 4
VALUES = 3
WARMUPS = 1
MIN_TIME = 0.02
