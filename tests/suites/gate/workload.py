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


def tokens(text: str) -> dict[str, int]:
    """Count words; no change touches this."""
    counts: dict[str, int] = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
