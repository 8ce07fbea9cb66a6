"""`perfagent run`: measure a suite and write one pyperf JSON file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from perfagent import options

Output = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the pyperf JSON here. [default OUTPUT_DIR/results/benchmarks_TIME.json]",
        show_default=False,
        dir_okay=False,
    ),
]
Values = Annotated[
    int | None,
    typer.Option(
        "--values",
        "-n",
        help="Timed values per worker process. [default: the suite's VALUES, else pyperf's 3]",
        show_default=False,
    ),
]
Warmups = Annotated[
    int | None,
    typer.Option(
        "--warmups",
        "-w",
        help="Untimed warm-up values per worker process. [default: the suite's, else 1]",
        show_default=False,
    ),
]
Cpus = Annotated[
    str | None,
    typer.Option(
        "--cpus",
        help="Pin workers to these CPUs, e.g. 2-3. [env PERFAGENT_CPUS; "
        "default: the kernel's isolated CPUs, else no pinning]",
        show_default=False,
    ),
]


def command(
    suite: options.Suite = None,
    benchmark: options.Patterns = None,
    fast: options.Fast = False,
    rigorous: options.Rigorous = False,
    metric: options.Metric = None,
    output: Output = None,
    processes: options.Processes = None,
    values: Values = None,
    warmups: Warmups = None,
    cpus: Cpus = None,
    timeout: options.Timeout = None,
    commit: options.Commit = None,
    quiet: options.Quiet = False,
) -> None:
    """Run the suite's benchmarks (or those matching -b) and write one pyperf JSON file.

    The suite runs in PROCESSES worker processes, one after another; each imports the
    suite once and measures every benchmark, in its own shuffled order, pinned to one
    isolated CPU when the machine has them. The file is plain pyperf JSON:
    `python -m pyperf stats FILE` and `python -m pyperf compare_to A B` read it.

    Examples:

        perfagent run --suite benchmarks/example --fast

        perfagent run -b 'tiling.*' -o before.json
    """
    from perfagent.console import out
    from perfagent.measure.runner import QuietProgress, detect_commit, run_suite, summary_table
    from perfagent.measure.suite import load_suite

    settings = options.settings(
        suite=suite,
        metric=metric,
        mode=options.mode_from(fast, rigorous),
        processes=processes,
        values=values,
        warmups=warmups,
        cpus=cpus,
        timeout=timeout,
    )
    loaded = load_suite(settings.suite)
    selected = loaded.select(benchmark)
    target = output or default_output(Path(settings.output_dir))
    result = run_suite(
        loaded,
        selected,
        settings,
        commit=commit or detect_commit(),
        output=target,
        progress=QuietProgress() if quiet else None,
    )

    out.print(summary_table(result, f"suite {loaded.name} ({settings.metric})"))
    out.print(f"Results: {target}", markup=False, highlight=False)


def default_output(output_dir: Path) -> Path:
    """`<output_dir>/results/benchmarks_<UTC time>.json`, as in docs/design.md's artifacts."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return output_dir / "results" / f"benchmarks_{stamp}.json"
