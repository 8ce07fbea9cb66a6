"""The gate's relative mode: base and head measured side by side by `perfagent ab`.

The ab command is its own module (`perfagent.commands.ab`); the gate finds its entry
point at run time, so the gate works, and says what is missing, without it.

The entry point's contract: `gate_entry(settings, *, base=None, head=None)` measures
the pull request's base against its head and returns an object with `.outcome` (a
`reports.report.Outcome`: its `exit_code` is the verdict) and `.head` (the head's
pyperf results), as `judge.verdict.check` does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from perfagent.errors import UsageError

AB_MODULE = "perfagent.commands.ab"
AB_ENTRY = "gate_entry"
MISSING = "relative mode needs perfagent ab"


def relative_entry(module: str = AB_MODULE) -> Callable[..., Any] | None:
    """The ab entry point, or None when this perfagent has no `ab`."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    entry = getattr(found, AB_ENTRY, None)
    return entry if callable(entry) else None


def require_relative(module: str = AB_MODULE) -> Callable[..., Any]:
    """The ab entry point; UsageError (exit 2) when there is none."""
    entry = relative_entry(module)
    if entry is None:
        raise UsageError(f"{MISSING} ({module}.{AB_ENTRY} is not in this installation)")
    return entry
