"""The `perfagent` command line: one module per command under `perfagent.commands`."""

from __future__ import annotations

import os
import sys
import traceback

import click
import typer

from perfagent import __version__
from perfagent.commands import (
    ab,
    baseline,
    baselines,
    check,
    compare,
    doctor,
    fingerprint,
    gate,
    history,
    list_benchmarks,
    remote,
    run,
)
from perfagent.console import err
from perfagent.errors import ExitCode, PerfAgentError
from perfagent.measure.processes import Terminated

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
app.command("ab")(ab.command)
app.command("history")(history.command)
app.command("remote")(remote.command)
app.command("gate")(gate.command)
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


def _usage_error(exc: click.UsageError) -> None:
    """Print click's usage error as plain lines, the message last (workflows read the last line)."""
    if exc.ctx is not None:
        err.print(exc.ctx.get_usage(), markup=False, highlight=False)
        err.print(f"Try '{exc.ctx.command_path} --help' for help.", markup=False)
    err.print(f"perfagent: error: {exc.format_message()}", markup=False, highlight=False)


def main(argv: list[str] | None = None) -> None:
    try:
        # standalone_mode=False: click raises its errors here instead of printing them in
        # a rich panel whose last line is a border.
        code = app(args=argv, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        _usage_error(exc)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        err.print(f"perfagent: error: {exc.format_message()}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except PerfAgentError as exc:
        # What a failed benchmark's worker printed (its traceback) goes above the
        # message, so that the message stays the last line.
        details = getattr(exc, "details", "")
        if details:
            err.print(details, markup=False, highlight=False)
        err.print(f"perfagent: error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except Terminated:
        err.print(
            "perfagent: terminated by SIGTERM: worker processes stopped, nothing written",
            markup=False,
        )
        sys.exit(ExitCode.TERMINATED)
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print("perfagent: interrupted", markup=False)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:
        # A bug, not bad input: never exit 1, which a workflow would read as a regression.
        if os.environ.get("PERFAGENT_DEBUG"):
            traceback.print_exc()
        err.print(
            f"perfagent: internal error: {type(exc).__name__}: {exc} "
            "(set PERFAGENT_DEBUG=1 for the traceback)",
            markup=False,
        )
        sys.exit(ExitCode.INTERNAL)
    if code == ExitCode.INTERRUPTED:
        # typer turns Ctrl-C inside a command into a silent exit 130: say it.
        err.print("perfagent: interrupted", markup=False)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
