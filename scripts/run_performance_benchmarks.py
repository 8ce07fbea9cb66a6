#!/usr/bin/env python3
"""hazelbean's performance script, kept for its command line, now run by perfagent.

Workflows and people used to type

    python scripts/run_performance_benchmarks.py --establish-baseline --runs 3
    python scripts/run_performance_benchmarks.py --check-regression --threshold 10.0 --verbose

and both still work: they become `perfagent baseline --runs 3` and `perfagent check
--threshold 10.0`, with the agent's exit codes (perfagent.errors.ExitCode) and messages
(0 within limits, 1 regression, 2 bad input, 3 no baseline for this machine) and artifacts under
--output-dir: reports/, exports/, analysis/, results/, summary.md, and the baselines
in baselines/ unless a store is configured (PERFAGENT_STORE, perfagent.toml), as on
provisioned runners, whose store must outlive the job's workspace.

The suite and the threshold are perfagent's settings (PERFAGENT_SUITE, PERFAGENT_THRESHOLD,
the config file): --threshold is passed on only when given, so they apply otherwise.
The old script's other modes (--all, --report, --complete-workflow, ...) are gone:
`perfagent run`, `perfagent check` and `perfagent baselines` replace them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# perfagent.errors.ExitCode.USAGE: said before perfagent is known to be importable.
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_performance_benchmarks.py",
        description="Establish a performance baseline or check for regressions, through "
        "perfagent (seed-compatible command line).",
        epilog="Examples:\n"
        "  %(prog)s --establish-baseline --runs 3\n"
        "  %(prog)s --check-regression --threshold 10.0 --verbose\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check-regression",
        action="store_true",
        help="Run the suite and compare it with this machine's baseline (perfagent check).",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="Regression threshold in percent (default: perfagent's: PERFAGENT_THRESHOLD, "
        "the config file, else 10).",
    )
    parser.add_argument(
        "--establish-baseline",
        action="store_true",
        help="Measure the suite and store it as this machine's baseline (perfagent baseline).",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="Suite runs pooled into the baseline (default: 3).",
    )
    parser.add_argument(
        "--output-dir",
        default="./metrics",
        help="Where reports, exports, analysis and (by default) baselines go (default: ./metrics).",
    )
    parser.add_argument(
        "--suite", help="Suite directory (default: PERFAGENT_SUITE, else benchmarks/hazelbean)."
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="Show the perfagent commands being run."
    )
    return parser


def store_is_configured() -> bool:
    """True when PERFAGENT_STORE or a config file names the baseline store."""
    try:
        from perfagent.config import load_settings
        from perfagent.errors import PerfAgentError
    except ImportError:
        return bool(os.environ.get("PERFAGENT_STORE"))
    try:
        return "store" in load_settings().sources
    except PerfAgentError:
        # A broken config: let perfagent itself report it, naming the setting.
        return False


def agent_commands(args: argparse.Namespace, *, store_configured: bool) -> list[list[str]]:
    """The perfagent command lines for the old flags, in the old order (baseline first)."""
    output_dir = str(args.output_dir)
    common: list[str] = []
    if not store_configured:
        common += ["--store", str(Path(output_dir) / "baselines")]
    if args.suite:
        common += ["--suite", str(args.suite)]
    commands = []
    if args.establish_baseline:
        commands.append(["baseline", "--runs", str(args.runs), *common])
    if args.check_regression:
        threshold = [] if args.threshold is None else ["--threshold", repr(args.threshold)]
        commands.append(["check", *threshold, "--output-dir", output_dir, *common])
    return commands


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (args.establish_baseline or args.check_regression):
        parser.error("give --establish-baseline, --check-regression, or both")
    if args.runs < 1:
        parser.error(f"argument --runs: must be at least 1, got {args.runs}")
    if importlib.util.find_spec("perfagent") is None:
        print(
            "error: perfagent is not installed in this Python "
            f"({sys.executable}); install it with `pip install -e .` from perf-runner",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for command in agent_commands(args, store_configured=store_is_configured()):
        full = [sys.executable, "-m", "perfagent", *command]
        if args.verbose:
            print("+ perfagent " + shlex.join(command), file=sys.stderr, flush=True)
        code = subprocess.call(full)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
