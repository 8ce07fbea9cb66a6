"""The program pyperf's Runner executes for one benchmark of a suite.

    python -m perfagent.measure.worker --perfagent-suite DIR --perfagent-benchmark NAME \\
        [--perfagent-default-processes N ...] [pyperf options]

The first process is pyperf's manager: it never imports the suite, it only spawns
worker processes (the same program with `--worker`) and collects their runs. Each
worker imports the one module holding the benchmark, runs its setup outside the
timing, then times calls to it as pyperf asks.

The `--perfagent-default-*` options become the Runner's defaults, so pyperf's
`--fast`/`--rigorous` scale the suite's own process and value counts as they
scale pyperf's.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

SUITE_OPTION = "--perfagent-suite"
BENCHMARK_OPTION = "--perfagent-benchmark"
# Environment variables a worker keeps. pyperf starts workers with a minimal
# environment for repeatability; these change what a benchmark computes or how
# fast (thread counts) or whether it can run at all (library data paths).
INHERITED_ENVIRONMENT = (
    "LD_LIBRARY_PATH",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "GDAL_DATA",
    "PROJ_LIB",
    "PROJ_DATA",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
# Marks the one line of a worker's stderr that says what went wrong (measure.runner shows it).
ERROR_PREFIX = "perfagent: error: "

_DEFAULT_OPTIONS: dict[str, type[int] | type[float]] = {
    "processes": int,
    "values": int,
    "warmups": int,
    "min_time": float,
}


def default_option(name: str) -> str:
    """The worker option that sets the Runner's default for `name` (processes, ...)."""
    return "--perfagent-default-" + name.replace("_", "-")


def _add_own_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group("perfagent")
    group.add_argument(SUITE_OPTION, dest="perfagent_suite", required=required, metavar="DIR")
    group.add_argument(
        BENCHMARK_OPTION, dest="perfagent_benchmark", required=required, metavar="NAME"
    )
    for name, kind in _DEFAULT_OPTIONS.items():
        group.add_argument(
            default_option(name), dest=f"perfagent_default_{name}", type=kind, default=None
        )


def _forward_to_worker(cmd: list[str], args: argparse.Namespace) -> None:
    """pyperf's hook for a worker's command line: tell it which benchmark to load."""
    cmd.extend((SUITE_OPTION, args.perfagent_suite, BENCHMARK_OPTION, args.perfagent_benchmark))


def _fail(message: str) -> NoReturn:
    print(ERROR_PREFIX + message, file=sys.stderr, flush=True)
    sys.exit(1)


def make_time_func(call: Callable[[], Any], name: str) -> Callable[[int], float]:
    """pyperf's time function: `loops` calls of `call`, timed as a whole."""

    def time_func(loops: int) -> float:
        timer = time.perf_counter
        # Local names and a bare range loop: the least overhead around each call.
        local_call = call
        loop_range = range(loops)
        try:
            start = timer()
            for _ in loop_range:
                local_call()
            return timer() - start
        except Exception as exc:
            traceback.print_exc()
            _fail(f"benchmark {name} raised {type(exc).__name__}: {exc}")

    return time_func


def _never_called(loops: int) -> float:  # pragma: no cover - the manager does not time
    raise RuntimeError("the pyperf manager process must not run the benchmark")


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    _add_own_options(pre, required=False)
    known, _ = pre.parse_known_args(arguments)
    defaults = {
        name: getattr(known, f"perfagent_default_{name}")
        for name in _DEFAULT_OPTIONS
        if getattr(known, f"perfagent_default_{name}") is not None
    }

    import pyperf

    runner = pyperf.Runner(
        **defaults,
        program_args=("-m", "perfagent.measure.worker"),
        add_cmdline_args=_forward_to_worker,
    )
    _add_own_options(runner.argparser, required=True)
    args = runner.parse_args(arguments)
    name: str = args.perfagent_benchmark

    if args.worker:
        from perfagent.errors import PerfAgentError
        from perfagent.measure.suite import prepare_benchmark

        try:
            prepared = prepare_benchmark(args.perfagent_suite, name)
        except PerfAgentError as exc:
            _fail(str(exc))
        time_func = make_time_func(prepared.timed_callable(), name)
    else:
        time_func = _never_called

    try:
        runner.bench_time_func(name, time_func)
    except RuntimeError as exc:
        # The manager's report that a worker failed: the worker already said why.
        _fail(f"pyperf: {exc}")


if __name__ == "__main__":
    main()
