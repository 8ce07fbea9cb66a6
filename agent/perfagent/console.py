"""Where the agent writes: rich on a terminal, plain lines in CI logs and pipes."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def _plain() -> bool:
    # CI logs are not terminals; rich already detects that, but GitHub sets CI=true
    # while sometimes allocating a pseudo-terminal, and then live progress bars garble logs.
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Width of tables in logs and pipes, where rich would assume 80 columns and wrap the
# benchmark names; a terminal keeps its own width. COLUMNS overrides both.
LOG_WIDTH = 120


def _width(stream_is_terminal: bool) -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return int(columns)
    return None if stream_is_terminal else LOG_WIDTH


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = _width(stream.isatty())
    if _plain():
        return Console(
            stderr=stderr, force_terminal=False, highlight=False, soft_wrap=True, width=width
        )
    # Messages on stderr are not re-wrapped: a pipe gets width 80, which would split
    # an error line (and the file name in it) across lines.
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr, width=width)


out = make_console()
err = make_console(stderr=True)


def interactive() -> bool:
    """True when live progress displays are appropriate (a terminal, not CI)."""
    return out.is_terminal and not _plain()
