"""The `perfagent` command line: one module per command under `perfagent.commands`."""

from __future__ import annotations

import os
import sys
import traceback

import typer

from perfagent import __version__
from perfagent.commands import (
    baseline,
    baselines,
    check,
    compare,
    doctor,
    fingerprint,
    history,
    list_benchmarks,
    remote,
    run,
)
from perfagent.console import err
from perfagent.errors import PerfAgentError

EXIT_INTERNAL = 4

app = typer.Typer(
    name="perfagent",
    help=(
        "Benchmark a suite with pyperf on isolated CPUs, keep baselines per hardware "
        "fingerprint, and fail when a benchmark is really slower than its threshold.\n\n"
        "Typical use: `perfagent baseline` on the main branch, `perfagent check` on a pull "
        "request (exit 1 on a regression beyond 10%). Settings come from flags, then "
        "PERFAGENT_* environment variables, then perfagent.toml or [tool.perfagent] in "
        "pyproject.toml, then built-in defaults."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="markdown",
)

app.command("fingerprint")(fingerprint.command)
app.command("doctor")(doctor.command)
app.command("list")(list_benchmarks.command)
app.command("run")(run.command)
app.command("baseline")(baseline.command)
app.command("check")(check.command)
app.command("compare")(compare.command)
app.command("history")(history.command)
app.command("remote")(remote.command)
app.add_typer(baselines.app, name="baselines")


def _version(value: bool) -> None:
    if value:
        print(f"perfagent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Benchmark agent."""


def main() -> None:
    try:
        app()
    except PerfAgentError as exc:
        err.print(f"perfagent: error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("perfagent: interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:
        # A bug, not bad input: never exit 1, which a workflow would read as a regression.
        if os.environ.get("PERFAGENT_DEBUG"):
            traceback.print_exc()
        err.print(
            f"perfagent: internal error: {type(exc).__name__}: {exc} "
            "(set PERFAGENT_DEBUG=1 for the traceback)",
            markup=False,
        )
        sys.exit(EXIT_INTERNAL)
