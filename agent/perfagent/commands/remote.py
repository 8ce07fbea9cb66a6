"""`perfagent remote HOST -- run|check ...`: benchmark this working tree on a runner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfagent import options

User = Annotated[
    str | None,
    typer.Option("--user", "-u", help="SSH user. [default: ssh config's, else yours]"),
]
Identity = Annotated[
    Path | None,
    typer.Option(
        "--identity",
        "-i",
        help="SSH private key. [default: ssh-agent and ~/.ssh keys]",
        exists=True,
        dir_okay=False,
        show_default=False,
    ),
]
Port = Annotated[
    int | None,
    typer.Option("--port", "-p", min=1, max=65535, help="SSH port. [default 22]"),
]
RemotePerfagent = Annotated[
    str,
    typer.Option("--remote-perfagent", help="The agent on the host (where provisioning puts it)."),
]
RunnerConfig = Annotated[
    str,
    typer.Option(
        "--runner-config",
        help="The runner's config file on the host: its store and cpus are used, as the "
        "runner gives them to jobs ('' for none).",
    ),
]
FetchTo = Annotated[
    Path | None,
    typer.Option(
        "--fetch-to",
        help="Where the artifacts come back to. [default OUTPUT_DIR/remote/HOST]",
        file_okay=False,
        show_default=False,
    ),
]
Keep = Annotated[
    bool, typer.Option("--keep", help="Leave the temporary directory on the host (to debug).")
]


def command(
    host: Annotated[str, typer.Argument(help="The runner: a host name, address or ssh alias.")],
    agent_args: Annotated[
        list[str] | None,
        typer.Argument(
            help="After --: the agent command to run there (run or check) and its options.",
            metavar="-- run|check [ARGS]...",
            show_default=False,
        ),
    ] = None,
    user: User = None,
    identity: Identity = None,
    port: Port = None,
    remote_perfagent: RemotePerfagent = "/usr/local/bin/perfagent",
    runner_config: RunnerConfig = "/etc/perfagent/perfagent.toml",
    fetch_to: FetchTo = None,
    output_dir: options.OutputDir = None,
    keep: Keep = False,
) -> None:
    """Run `perfagent run` or `check` on a provisioned runner against this working tree.

    The working tree is shipped as it is on disk (tracked files with their
    uncommitted changes, and untracked files git does not ignore: no push, no git
    history), unpacked in a temporary directory on the host, and the agent runs
    there with the runner's own baseline store and benchmark CPUs. Its output is
    streamed as it comes; the artifacts are fetched back into
    metrics/remote/HOST/, the temporary directory is removed, and the exit code is
    the remote command's (a check: 0 fine, 1 regression, 2 bad input, 3 no baseline).

    Examples:

        perfagent remote perf-runner-01 -- check

        perfagent remote 10.0.0.12 --user ops -i ~/.ssh/perf -- run -b tiling --fast

        perfagent remote perf-runner-01 -- check --threshold 5
    """
    from perfagent.console import err
    from perfagent.remote import Target, fetch_dir_for, run_remote

    settings = options.settings(output_dir=output_dir)
    target = Target(host=host, user=user, port=port, identity=identity)
    destination = fetch_to or fetch_dir_for(host, Path(settings.output_dir))
    outcome = run_remote(
        target,
        agent_args or [],
        cwd=Path.cwd(),
        fetch_to=destination,
        perfagent=remote_perfagent,
        runner_config=runner_config,
        keep=keep,
        say=lambda line: err.print(line, markup=False, highlight=False, soft_wrap=True),
    )
    raise typer.Exit(outcome.exit_code)
