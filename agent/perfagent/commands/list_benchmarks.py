"""`perfagent list`: the suite's benchmark names, one a line."""

from __future__ import annotations

from typing import Annotated

import typer

from perfagent import options
from perfagent.measure.suite import load_suite


def command(
    suite: options.Suite = None,
    describe: Annotated[
        bool, typer.Option("--describe", "-d", help="Also print what each benchmark stands for.")
    ] = False,
) -> None:
    """List the suite's benchmark names, one a line (for -b patterns)."""
    settings = options.settings(suite=suite)
    loaded = load_suite(settings.suite)
    width = max(len(n) for n in loaded.names)
    for spec in loaded.benchmarks:
        if describe and spec.description:
            print(f"{spec.name:<{width}}  {spec.description}")
        else:
            print(spec.name)
