"""The code the gate's proof tests measure, and make slower by editing ITERATIONS.

tests/e2e/test_workflow_gate.py copies this suite and rewrites the ITERATIONS line of
the copy, as a pull request changes code: the benchmarks themselves stay the same.
"""

# Iterations of checksum's loop: about a millisecond of pure Python.
ITERATIONS = 4_000


def checksum() -> int:
    """A deterministic loop of integer arithmetic."""
    total = 0
    for i in range(ITERATIONS):
        total = (total + i * i) % 1_000_003
    return total


def histogram(values: list[int]) -> dict[int, int]:
    """Count each value; no change touches this.

    Integer keys: string hashes change from process to process (hash randomization),
    and with them the timing of a dict of strings, which would blur the time variant.
    """
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
