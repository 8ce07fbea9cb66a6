"""Command-line options shared by several commands, with their help texts.

Every option defaults to None, meaning "not given": `config.load_settings` then takes
the value from the environment, the config file or the built-in default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from perfagent.config import Settings, load_settings

Suite = Annotated[
    Path | None,
    typer.Option(
        "--suite",
        help="Suite directory of bench_*.py files. "
        "[env PERFAGENT_SUITE; default benchmarks/hazelbean]",
        show_default=False,
    ),
]
Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Baseline store directory. [env PERFAGENT_STORE; default metrics/baselines]",
        show_default=False,
    ),
]
ConfirmRuns = Annotated[
    int | None,
    typer.Option(
        "--confirm-runs",
        min=0,
        help="How many times benchmarks beyond the threshold are measured again before "
        "they fail (check: one more run of them each time; ab: as many pairs again). "
        "[default 2]",
        show_default=False,
    ),
]
Threshold = Annotated[
    float | None,
    typer.Option(
        "--threshold",
        help="Slowdown in percent beyond which a real change is a regression. "
        "[env PERFAGENT_THRESHOLD; default 10]",
        show_default=False,
    ),
]
OutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        help="Where the check's reports, exports and analysis go. [default metrics]",
        show_default=False,
    ),
]
Metric = Annotated[
    str | None,
    typer.Option(
        "--metric",
        help="What to measure: 'time' (wall clock, pyperf) or 'instructions': instructions "
        "per call counted under valgrind (start-up, imports and setup not counted), "
        "repeatable to about 0.01% on shared or virtual machines that cannot be made quiet, "
        "but blind to cache, memory-bandwidth, I/O, system-call and waiting costs. "
        "Needs valgrind and a C compiler (apt-get install valgrind gcc); 2 processes x 3 "
        "values unless --processes/--values say so. Baselines of different metrics are never "
        "compared. See docs/instructions-metric.md. [env PERFAGENT_METRIC; default time]",
        show_default=False,
    ),
]
Fast = Annotated[
    bool,
    typer.Option("--fast", help="Rough numbers quickly: pyperf's --fast (fewer processes)."),
]
Rigorous = Annotated[
    bool,
    typer.Option("--rigorous", help="More reliable numbers: pyperf's --rigorous (more processes)."),
]
Patterns = Annotated[
    list[str] | None,
    typer.Option(
        "-b",
        "--benchmark",
        help="Only benchmarks matching PATTERN (shell wildcards, or a substring); repeatable.",
        metavar="PATTERN",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Processes = Annotated[
    int | None,
    typer.Option(
        "--processes",
        "-p",
        help="Worker processes per benchmark (each is one independent sample). "
        "[env PERFAGENT_PROCESSES; default: the suite's PROCESSES, else pyperf's 20]",
        show_default=False,
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Seconds one benchmark may take in one worker process (its import, setup and "
        "values) before the run stops with exit 2, naming it. [env PERFAGENT_TIMEOUT; "
        "default: the suite's TIMEOUT, else 600]",
        show_default=False,
        metavar="SECONDS",
    ),
]
Commit = Annotated[
    str | None,
    typer.Option(
        "--commit",
        help="The commit measured, recorded in the results. [default $GITHUB_SHA, else git HEAD]",
        show_default=False,
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress, only the table.")]
FingerprintId = Annotated[
    str | None,
    typer.Option(
        "--fingerprint",
        help="Fingerprint id (see `perfagent fingerprint`). [default: this machine's]",
        show_default=False,
    ),
]

Config = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="A config file to use instead of the working directory's perfagent.toml. "
        "Trusted like the runner's /etc/perfagent/perfagent.toml: its per-benchmark "
        "thresholds may loosen the gate, a checkout's only tighten it. [env PERFAGENT_CONFIG]",
        show_default=False,
    ),
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Fail (exit 1) on an inconclusive benchmark too: one worker process on a side "
        "gives no spread to judge by.",
    ),
]
ShowAll = Annotated[
    bool,
    typer.Option("--all", help="List every benchmark in the table, the unchanged ones too."),
]


def mode_from(fast: bool, rigorous: bool) -> str | None:
    if fast and rigorous:
        raise typer.BadParameter("--fast and --rigorous exclude each other")
    if fast:
        return "fast"
    if rigorous:
        return "rigorous"
    return None


def settings(**flags: Any) -> Settings:
    """Settings with these flag values on top (None: not given)."""
    return load_settings({k: (str(v) if isinstance(v, Path) else v) for k, v in flags.items()})
