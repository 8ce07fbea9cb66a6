"""`perfagent fingerprint` (being built)."""

from __future__ import annotations

from perfagent.errors import UsageError


def command() -> None:
    """Not built yet."""
    raise UsageError("perfagent fingerprint is not built yet")
