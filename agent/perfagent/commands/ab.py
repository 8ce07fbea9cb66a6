"""`perfagent ab`: base and head measured in one job, in alternating worker processes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from perfagent import options

if TYPE_CHECKING:
    from perfagent.config import Settings
    from perfagent.judge.ab import AbResult

BasePython = Annotated[
    str | None,
    typer.Option(
        "--base-python",
        help="The base side's Python interpreter (e.g. the venv where the base commit is "
        "installed). [env PERFAGENT_BASE_PYTHON; default: the head's, an A/A run]",
        show_default=False,
    ),
]
HeadPython = Annotated[
    str | None,
    typer.Option(
        "--head-python",
        help="The head side's Python interpreter. [env PERFAGENT_HEAD_PYTHON; default: this one]",
        show_default=False,
    ),
]
Pairs = Annotated[
    int | None,
    typer.Option(
        "--pairs",
        min=1,
        help="Pairs of worker processes (one base, one head each); at least 3 for a "
        "verdict, more see smaller changes. [default 10]",
        show_default=False,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed", help="Seed of the order inside each pair (recorded).", show_default=False
    ),
]
Duet = Annotated[
    bool,
    typer.Option(
        "--duet",
        help="Run the two processes of each pair at the same time on two CPUs, the same "
        "benchmarks in the same order (duet benchmarking): on a shared machine whose load "
        "changes within seconds, both then see the same load. Needs two CPUs.",
    ),
]
BaseCommit = Annotated[
    str | None,
    typer.Option(
        "--base-commit", help="The base commit, recorded in the results.", show_default=False
    ),
]


def command(
    base_python: BasePython = None,
    head_python: HeadPython = None,
    suite: options.Suite = None,
    threshold: options.Threshold = None,
    output_dir: options.OutputDir = None,
    benchmark: options.Patterns = None,
    metric: options.Metric = None,
    pairs: Pairs = None,
    confirm_runs: options.ConfirmRuns = None,
    seed: Seed = None,
    duet: Duet = False,
    base_commit: BaseCommit = None,
    commit: options.Commit = None,
    timeout: options.Timeout = None,
    quiet: options.Quiet = False,
) -> None:
    """Measure base and head side by side and fail (exit 1) when head is really slower.

    Each pair is one worker process of the base and one of the head, started one after
    the other on the same CPU, in random order; each benchmark is judged on the ratio
    head/base within each pair, so what the machine does over minutes (other jobs, a
    clock change, a noisy cloud neighbour) cancels out. No stored baseline is needed:
    this is the mode for GitHub-hosted runners, containers and laptops, and a cross-check
    of a stored baseline on a dedicated runner. Each side runs its own interpreter
    (--base-python, --head-python), e.g. two virtualenvs holding the two commits.

    Verdicts, exit codes and artifacts are those of `perfagent check`: 0 no regression,
    1 regression beyond the threshold with its 95% interval above 1, 2 bad input;
    fewer than 3 pairs are `inconclusive`. A benchmark beyond the threshold gets as
    many pairs again before it fails, up to --confirm-runs times. It also prints the
    smallest slowdown these pairs can detect with 90% power, and warns where that
    exceeds the threshold. The
    suite is listed by this interpreter, so its bench_*.py files must import the code
    under test inside the benchmark or its setup, not at module level.

    Examples:

        perfagent ab --base-python ../base-venv/bin/python

        perfagent ab --base-python /tmp/base/bin/python --head-python .venv/bin/python --pairs 20

        perfagent ab --base-python base/bin/python --metric instructions --threshold 2
    """
    from perfagent.judge.ab import ab, sides_from
    from perfagent.judge.paired import DEFAULT_PAIRS
    from perfagent.measure.progress import QuietProgress
    from perfagent.measure.runner import detect_commit
    from perfagent.reports.publish import publish_check

    settings: Settings = options.settings(
        suite=suite,
        threshold=threshold,
        output_dir=output_dir,
        metric=metric,
        timeout=timeout,
        confirm_runs=confirm_runs,
    )
    sides = sides_from(
        base_python, head_python, base_commit=base_commit, head_commit=commit or detect_commit()
    )
    done: AbResult = ab(
        settings,
        sides,
        pairs=pairs or DEFAULT_PAIRS,
        patterns=benchmark,
        seed=seed,
        progress=QuietProgress() if quiet else None,
        say=None if quiet else _say,
        duet=duet,
    )
    publish_check(done.outcome, done.head, settings.output_dir, settings.repo_url)
    _write_base(done, settings)
    raise typer.Exit(done.exit_code)


def _write_base(done: AbResult, settings: Settings) -> None:
    """The base side's raw results beside the head's (results/ab_base_<ts>.json)."""
    from pathlib import Path

    from perfagent import results

    results.write(
        done.base, Path(settings.output_dir) / "results" / f"ab_base_{done.outcome.stamp}.json"
    )


def _say(message: str) -> None:
    from perfagent.console import err

    err.print(message, markup=False, highlight=False)


def gate_entry(settings: Settings, *, base: str | None = None, head: str | None = None) -> AbResult:
    """The gate's relative mode (gate/relative.py looks it up here): see judge.ab.gate_entry."""
    from perfagent.judge.ab import gate_entry as entry

    return entry(settings, base=base, head=head)
