"""scripts/run_performance_benchmarks.py: hazelbean's old command line, run by perfagent.

The full flow uses the instructions metric: counts repeat to about 0.001%, so the
verdicts at the seed's own 10% threshold are deterministic on this noisy machine.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from gate_helpers import SEED_SCRIPT, clean_env, copy_suite, describe, last_line, slow_down
from prerequisites import skip_off_ci


def seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_performance_benchmarks", SEED_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_seed(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SEED_SCRIPT), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_old_flags_become_agent_commands() -> None:
    seed = seed_module()
    args = seed.build_parser().parse_args(
        ["--establish-baseline", "--runs", "5", "--check-regression", "--threshold", "7.5"]
    )
    assert seed.agent_commands(args, store_configured=False) == [
        ["baseline", "--runs", "5", "--store", "metrics/baselines"],
        [
            "check",
            "--threshold",
            "7.5",
            "--output-dir",
            "./metrics",
            "--store",
            "metrics/baselines",
        ],
    ]
    # A provisioned runner's PERFAGENT_STORE (outside the workspace) is respected.
    args = seed.build_parser().parse_args(["--check-regression", "--output-dir", "out"])
    # No --threshold given: none passed, so PERFAGENT_THRESHOLD and the config apply.
    assert seed.agent_commands(args, store_configured=True) == [["check", "--output-dir", "out"]]


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    env = clean_env()
    nothing = run_seed(cwd=tmp_path, env=env)
    assert nothing.returncode == 2
    assert "--establish-baseline, --check-regression" in nothing.stderr
    bad = run_seed("--check-regression", "--threshold", "ten", cwd=tmp_path, env=env)
    assert bad.returncode == 2
    assert "--threshold" in bad.stderr and "'ten'" in bad.stderr
    nan = run_seed("--check-regression", "--threshold", "nan", cwd=tmp_path, env=env)
    assert nan.returncode == 2
    assert "--threshold" in nan.stderr
    assert "Traceback" not in nan.stderr


@pytest.mark.slow
def test_check_without_baseline_exits_3(tmp_path: Path) -> None:
    suite = copy_suite(tmp_path)
    env = clean_env(PERFAGENT_SUITE=str(suite))
    completed = run_seed(
        "--check-regression", "--output-dir", tmp_path / "metrics", cwd=tmp_path, env=env
    )
    assert completed.returncode == 3, describe(completed)
    assert "no baseline for fingerprint" in last_line(completed)


@pytest.mark.slow
@skip_off_ci(shutil.which("valgrind") is None, reason="the instructions metric needs valgrind")
def test_establish_then_check_through_the_seed_script(tmp_path: Path) -> None:
    suite = copy_suite(tmp_path)
    metrics = tmp_path / "metrics"
    env = clean_env(
        PERFAGENT_SUITE=str(suite),
        PERFAGENT_METRIC="instructions",
        # Counts barely vary, so two worker processes (the fewest that show a spread:
        # one per side is "inconclusive") and no confirmation runs decide as well as more
        # would; both valgrind processes count the whole suite at once on two CPUs.
        # (test_gate.py exercises the confirmation runs with the time metric.)
        PERFAGENT_PROCESSES="2",
        PERFAGENT_CONFIRM_RUNS="0",
    )

    made = run_seed(
        "--establish-baseline", "--runs", "1", "--output-dir", metrics, cwd=tmp_path, env=env
    )
    assert made.returncode == 0, describe(made)
    assert len(list((metrics / "baselines").glob("*/slowable/current.json"))) == 1

    passed = run_seed(
        "--check-regression", "--threshold", "10.0", "--verbose", "--output-dir", metrics,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert passed.returncode == 0, describe(passed)
    assert "Performance within acceptable limits" in last_line(passed)
    assert "+ perfagent check --threshold 10.0" in passed.stderr
    for folder in ("reports", "exports", "analysis", "baselines", "results"):
        assert any((metrics / folder).iterdir()), folder

    slow_down(suite, 3)
    failed = run_seed(
        "--check-regression", "--threshold", "10.0", "--verbose", "--output-dir", metrics,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert failed.returncode == 1, describe(failed)
    verdict = last_line(failed)
    assert verdict.startswith("Performance regression > 10% detected"), verdict
    assert "slowable.work" in verdict and "slowable.steady" not in verdict
    newest = sorted((metrics / "analysis").iterdir())[-1]
    analysis = json.loads(newest.read_text())
    assert analysis["metric"] == "instructions"
    work = next(b for b in analysis["benchmarks"] if b["name"] == "slowable.work")
    assert work["ratio"] == pytest.approx(3.0, rel=0.05)
