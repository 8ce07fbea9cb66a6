"""Where the agent writes: rich on a terminal, plain lines in CI logs and pipes."""

from __future__ import annotations

import os

from rich.console import Console


def _plain() -> bool:
    # CI logs are not terminals; rich already detects that, but GitHub sets CI=true
    # while sometimes allocating a pseudo-terminal, and then live progress bars garble logs.
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def make_console(stderr: bool = False) -> Console:
    if _plain():
        return Console(stderr=stderr, force_terminal=False, highlight=False, soft_wrap=True)
    # Messages on stderr are not re-wrapped: a pipe gets width 80, which would split
    # an error line (and the file name in it) across lines.
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


out = make_console()
err = make_console(stderr=True)


def interactive() -> bool:
    """True when live progress displays are appropriate (a terminal, not CI)."""
    return out.is_terminal and not _plain()
