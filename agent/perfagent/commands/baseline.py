"""`perfagent baseline` (being built)."""

from __future__ import annotations

from perfagent.errors import UsageError


def command() -> None:
    """Not built yet."""
    raise UsageError("perfagent baseline is not built yet")
