"""`perfagent baselines list|show|prune` (being built)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Inspect and prune the baseline store.", no_args_is_help=True)


@app.command("list")
def list_command() -> None:
    """Not built yet."""
    raise typer.Exit(2)
