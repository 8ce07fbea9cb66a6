"""Defaults of the gatebench suite: small real workloads, a few ms a call.

`make bench-gate` (scripts/bench_gate_table.py) measures this suite thousands of times
to count false alarms and detections of each decision rule; each call is kept short
so that 20+ repeats per cell fit in half an hour on a 2-core VM.
"""

PROCESSES = 3
VALUES = 3
WARMUPS = 1
MIN_TIME = 0.02
