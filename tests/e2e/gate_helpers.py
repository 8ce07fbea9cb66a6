"""Shared by the end-to-end tests: a private copy of the slowable suite, a clean CLI."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SLOWABLE = REPO / "tests" / "suites" / "slowable"
SEED_SCRIPT = REPO / "scripts" / "run_performance_benchmarks.py"


def interruptible() -> None:
    """Popen's preexec_fn: Ctrl-C's default in the child. A test run from a
    non-interactive shell (make, nsenter, a CI runner) may inherit SIGINT ignored,
    and Python then never raises KeyboardInterrupt, so a SIGINT test sees nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def copy_suite(tmp_path: Path) -> Path:
    """The slowable suite copied under `tmp_path`, keeping its name (the store key)."""
    target = tmp_path / "suites" / SLOWABLE.name
    shutil.copytree(SLOWABLE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def slow_down(suite: Path, factor: float) -> None:
    """Make the suite's `work` benchmark `factor` times slower (read by its worker processes)."""
    (suite / "slowdown.txt").write_text(f"{factor}\n")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without PERFAGENT_* settings or a step summary, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PERFAGENT_") and k != "GITHUB_STEP_SUMMARY"
    }
    env["CI"] = "true"  # plain output, as in a workflow log
    # This shared test machine is often busy with other tests: a time baseline would be
    # refused (machine.fitness). Tests of other things read the load as quiet; the
    # refusal itself is tested in test_baseline_fitness.py.
    env["PERFAGENT_TEST_BUSY"] = "0"
    env.update(extra)
    return env


def perfagent(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfagent", *map(str, args)],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_line(completed: subprocess.CompletedProcess[str]) -> str:
    """The verdict line: the last line on stdout for exits 0 and 1, on stderr for errors
    (progress goes to stderr while the suite runs, the verdict to stdout at the end)."""
    stream = completed.stdout if completed.returncode in (0, 1) else completed.stderr
    lines = [line for line in stream.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def describe(completed: subprocess.CompletedProcess[str]) -> str:
    """Everything a failed assertion should show."""
    return (
        f"exit {completed.returncode}\n--- stdout\n{completed.stdout}\n"
        f"--- stderr\n{completed.stderr}"
    )
