"""`--metric instructions` through the console script, on the workload suite.

What the issue asks to be shown: the same benchmark counted twice agrees within 0.1%;
a benchmark given 10% more work is reported as 1.10 +- 0.01, fails a 5% gate and passes
a 15% gate (through `compare` and through `check`); results or baselines of different
metrics are never compared (exit 3, saying so); a machine without valgrind gets a clear
error (exit 2). No wall-clock time is asserted anywhere: counts do not depend on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest
from prerequisites import skip_off_ci

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "tests" / "suites" / "workload"
PERFAGENT = Path(sys.executable).parent / "perfagent"
BENCH = "python.logistic_map"

pytestmark = [
    pytest.mark.slow,
    skip_off_ci(
        shutil.which("valgrind") is None or shutil.which("cc") is None,
        reason="needs valgrind and a C compiler (Debian packages valgrind, gcc)",
    ),
]


def perfagent(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script with a clean PERFAGENT_* environment, as CI would."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PERFAGENT_", "GITHUB_"))}
    environ.update({"CI": "true", **(env or {})})
    return subprocess.run(
        [str(PERFAGENT), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=900
    )


def with_scale(parent: Path, scale: str) -> Path:
    """A copy of the workload suite's pure-Python part whose work is `scale` times as much.

    The copy keeps the directory name `workload`: a suite is known by its name, so a
    baseline of one copy is the baseline of the other, as for two commits of one suite.
    """
    suite = parent / "workload"
    suite.mkdir(parents=True)
    for name in ("_suite.py", "workload.py", "bench_python.py"):
        shutil.copy(WORKLOAD / name, suite / name)
    source = (suite / "workload.py").read_text(encoding="utf-8")
    assert "\nSCALE = 1.0\n" in source
    (suite / "workload.py").write_text(
        source.replace("\nSCALE = 1.0\n", f"\nSCALE = {scale}\n"), encoding="utf-8"
    )
    return suite


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """The verdict line: the last of stdout (progress goes to stderr)."""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def only(path: Path) -> pyperf.Benchmark:
    suite = pyperf.BenchmarkSuite.load(str(path))
    assert suite.get_benchmark_names() == [BENCH]
    return suite.get_benchmark(BENCH)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two versions of the suite (as measured, and with 10% more work) and three runs."""
    root = tmp_path_factory.mktemp("instructions")
    base = with_scale(root / "base", "1.0")
    more = with_scale(root / "more", "1.1")
    for suite, output in ((base, "first.json"), (base, "second.json"), (more, "more.json")):
        done = perfagent(
            "run", "--suite", str(suite), "--metric", "instructions", "-b", BENCH,
            "-o", str(root / output), cwd=root,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    return root


def test_counted_twice_the_counts_agree_within_a_tenth_of_a_percent(work: Path) -> None:
    first, second = only(work / "first.json"), only(work / "second.json")
    difference = abs(first.mean() - second.mean()) / first.mean()
    print(f"{first.mean():,.0f} and {second.mean():,.0f} instructions: {difference:.5%} apart")
    assert difference < 0.001


def test_results_are_pyperf_json_with_metric_and_unit(work: Path) -> None:
    bench = only(work / "first.json")
    assert bench.get_unit() == "integer"
    metadata = bench.get_metadata()
    assert metadata["perfagent_metric"] == "instructions"
    assert metadata["perfagent_suite"] == "workload"
    assert len(metadata["perfagent_fingerprint"]) == 12
    # Two valgrind worker processes of three counts each, unless told otherwise.
    assert [len(run.values) for run in bench.get_runs()] == [3, 3]
    stats = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(work / "first.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stats.returncode == 0, stats.stderr


def test_ten_percent_more_work_is_reported_as_1_10(work: Path) -> None:
    ratio = only(work / "more.json").mean() / only(work / "first.json").mean()
    print(f"10% more work: ratio {ratio:.4f}")
    assert ratio == pytest.approx(1.10, abs=0.01)


def test_compare_fails_a_5_percent_gate_and_passes_a_15_percent_gate(work: Path) -> None:
    first, more = str(work / "first.json"), str(work / "more.json")
    at_5 = perfagent("compare", first, more, "--threshold", "5", cwd=work)
    assert at_5.returncode == 1, at_5.stdout + at_5.stderr
    assert "Performance regression > 5% detected" in last_line(at_5)
    assert "+10.0%" in at_5.stdout
    at_15 = perfagent("compare", first, more, "--threshold", "15", cwd=work)
    assert at_15.returncode == 0, at_15.stdout + at_15.stderr
    assert "Performance within acceptable limits" in last_line(at_15)


def test_check_against_an_instructions_baseline(work: Path) -> None:
    store = work / "store"
    base, more = work / "base" / "workload", work / "more" / "workload"
    done = perfagent(
        "baseline", "--suite", str(base), "--metric", "instructions", "--store", str(store),
        cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Measured, suspects measured again, then the verdict: 10% more work fails at 5%.
    at_5 = perfagent(
        "check", "--suite", str(more), "--metric", "instructions", "--store", str(store),
        "--threshold", "5", "-b", BENCH, "--output-dir", str(work / "check5"), cwd=work,
    )  # fmt: skip
    assert at_5.returncode == 1, at_5.stdout + at_5.stderr
    assert "Performance regression > 5% detected" in last_line(at_5)
    # The same counts at 15%: within the limit.
    at_15 = perfagent(
        "check", "--suite", str(more), "--metric", "instructions", "--store", str(store),
        "--threshold", "15", "--results", str(work / "more.json"),
        "--output-dir", str(work / "check15"), cwd=work,
    )  # fmt: skip
    assert at_15.returncode == 0, at_15.stdout + at_15.stderr
    assert "Performance within acceptable limits" in last_line(at_15)


def test_different_metrics_are_never_compared(work: Path) -> None:
    base = work / "base" / "workload"
    timed = work / "timed.json"
    done = perfagent(
        "run", "--suite", str(base), "--metric", "time", "-b", BENCH, "-p", "2", "-n", "1",
        "-o", str(timed), cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    compared = perfagent("compare", str(work / "first.json"), str(timed), cwd=work)
    assert compared.returncode == 3, compared.stdout + compared.stderr
    assert "instructions" in compared.stderr and "time" in compared.stderr
    assert "Traceback" not in compared.stderr

    # A store holding an instructions baseline (made by the check test, or made here).
    store = work / "store"
    if not store.exists():
        made = perfagent(
            "baseline", "--suite", str(base), "--metric", "instructions", "--store", str(store),
            cwd=work,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    checked = perfagent(
        "check", "--suite", str(base), "--metric", "time", "--store", str(store),
        "--output-dir", str(work / "check-time"), cwd=work,
    )  # fmt: skip
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert "instructions" in checked.stderr and "time" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_without_valgrind_the_metric_is_a_clear_usage_error(tmp_path: Path) -> None:
    done = perfagent(
        "run", "--suite", str(WORKLOAD), "--metric", "instructions", "-b", BENCH,
        "-o", str(tmp_path / "x.json"), cwd=tmp_path, env={"PATH": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "apt-get install valgrind" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.json").exists()
