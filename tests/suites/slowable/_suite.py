"""Pyperf defaults of the slowable test suite: few processes, short values."""

PROCESSES = 3
VALUES = 3
WARMUPS = 1
MIN_TIME = 0.02
