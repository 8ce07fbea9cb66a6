"""Pyperf defaults of the tiny test suite: as few processes and values as will do."""

PROCESSES = 2
VALUES = 2
WARMUPS = 1
MIN_TIME = 0.005


def metadata() -> dict[str, str]:
    """Facts recorded with every result of this suite."""
    return {"flavour": "tiny", "purpose": "tests"}
