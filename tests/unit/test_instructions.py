"""The instructions metric: the plan, the worker's environment and command, reading
callgrind's dumps, clear errors when valgrind or a compiler is missing, the decision on
near-deterministic counts, and real counts under valgrind (repeatable within 0.1%)."""

from __future__ import annotations

import functools
import json
import math
import shutil
import stat
import sys
import warnings
from pathlib import Path

import pyperf
import pytest
from perfagent.config import Settings
from perfagent.errors import BenchmarkRunError, ExitCode
from perfagent.judge.stats import Verdict, decide
from perfagent.measure import instructions, instructions_worker
from perfagent.measure.progress import QuietProgress
from perfagent.measure.suite import SuiteDefaults, load_suite
from prerequisites import missing, skip_off_ci

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "tests" / "suites" / "workload"
TINY = ROOT / "tests" / "suites" / "tiny"

needs_valgrind = skip_off_ci(
    shutil.which("valgrind") is None or shutil.which("cc") is None,
    reason="needs valgrind and a C compiler (Debian packages valgrind, gcc)",
)


# --- the plan -------------------------------------------------------------------------


def test_plan_defaults_to_two_processes_of_three_values_whatever_the_suite_says() -> None:
    suite = SuiteDefaults(processes=20, values=10, warmups=None)
    assert instructions.plan(Settings(), suite) == instructions.Plan(
        processes=2, values=3, warmups=1
    )


def test_plan_keeps_the_suite_warmups_and_obeys_settings() -> None:
    suite = SuiteDefaults(processes=20, values=10, warmups=4)
    assert instructions.plan(Settings(), suite).warmups == 4
    chosen = instructions.plan(Settings(processes=5, values=2, warmups=0), suite)
    assert chosen == instructions.Plan(processes=5, values=2, warmups=0)


def test_plan_modes() -> None:
    assert instructions.plan(Settings(mode="fast")).values == 1
    assert instructions.plan(Settings(mode="rigorous")).processes == 4
    assert instructions.plan(Settings(mode="rigorous", processes=3)).processes == 3


# --- the worker's environment and command ---------------------------------------------


def test_worker_environment_fixes_the_hash_seed_and_thread_pools() -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "PYTHONHASHSEED": "random",
        "OMP_NUM_THREADS": "4",
        "GITHUB_SHA": "abc123",
        "GDAL_DATA": "/usr/share/gdal",
    }
    env = instructions.worker_environment(base)
    assert env["PYTHONHASHSEED"] == "0"
    # One thread per pool, whatever the caller set: valgrind runs threads one at a time.
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["GDAL_NUM_THREADS"] == "1"
    # Library paths pass, CI's per-run variables do not (as for pyperf's workers).
    assert env["GDAL_DATA"] == "/usr/share/gdal"
    assert "GITHUB_SHA" not in env
    assert env["PATH"] == "/usr/bin"


def test_valgrind_command_keeps_start_up_uninstrumented(tmp_path: Path) -> None:
    tools = instructions.Toolchain(
        valgrind="/usr/bin/valgrind",
        valgrind_version="valgrind-3.19.0",
        shim=tmp_path / "shim.so",
        no_aslr=("/usr/bin/setarch", "x86_64", "-R"),
    )
    command = instructions.valgrind_command(tools, tmp_path, tmp_path / "job.json")
    assert command[:4] == ["/usr/bin/setarch", "x86_64", "-R", "/usr/bin/valgrind"]
    for option in ("--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no"):
        assert option in command
    assert command[command.index("--") + 1 :] == [
        sys.executable,
        "-m",
        "perfagent.measure.instructions_worker",
        str(tmp_path / "job.json"),
    ]


# --- reading callgrind's dumps --------------------------------------------------------


def _dump(path: Path, label: str, total: int) -> None:
    path.write_text(
        "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 42\ncmd: python\n"
        "part: 1\n\ndesc: I1 cache: \ndesc: Timerange: Basic block 0 - 1\n"
        f"desc: Trigger: Client Request: {label}\n\npositions: line\nevents: Ir\n"
        f"summary: {total}\n\n\nfn=(1) main\n0 {total}\n\ntotals: {total}\n",
        encoding="utf-8",
    )


def test_read_counts_orders_dumps_by_label_and_ignores_others(tmp_path: Path) -> None:
    # Labels: kind, the benchmark's position in the worker's order, the call's index.
    _dump(tmp_path / "callgrind.out.1", "perfagent empty 1 0", 1500)
    _dump(tmp_path / "callgrind.out.2", "perfagent empty 1 1", 1500)
    _dump(tmp_path / "callgrind.out.3", "perfagent empty 1 2", 1502)
    # Written in another order than their indexes: the label decides.
    _dump(tmp_path / "callgrind.out.5", "perfagent value 1 1", 1_001_500)
    _dump(tmp_path / "callgrind.out.4", "perfagent value 1 0", 1_002_000)
    _dump(tmp_path / "callgrind.out.6", "perfagent value 1 2", 1_001_500)
    _dump(tmp_path / "callgrind.out.7", "perfagent empty 0 0", 1400)
    _dump(tmp_path / "callgrind.out.8", "perfagent value 0 0", 9400)
    (tmp_path / "callgrind.out").write_text("desc: Trigger: Program termination\ntotals: 0\n")
    by_position = instructions.read_counts(tmp_path)
    assert sorted(by_position) == [0, 1]
    assert by_position[0].net_values() == [8000]
    counts = by_position[1]
    assert counts.empty == (1500, 1500, 1502)
    assert counts.values == (1_002_000, 1_001_500, 1_001_500)
    assert counts.overhead == 1500
    assert counts.net_values() == [1_000_500, 1_000_000, 1_000_000]


def test_a_call_cheaper_than_the_overhead_still_gives_a_positive_count() -> None:
    # pyperf refuses values <= 0; an empty benchmark is recorded as 1 instruction.
    counts = instructions.WorkerCounts(empty=(1500, 1500), values=(1499, 1600))
    assert counts.net_values() == [1, 100]


# --- the empty call mirrors the benchmark's shape -------------------------------------


def test_empty_like_mirrors_the_call_shape() -> None:
    def bench(value: int) -> int:
        return value

    with_value = instructions_worker.empty_like(functools.partial(bench, 3))
    assert isinstance(with_value, functools.partial)
    assert with_value.args == (3,)
    assert with_value() is None
    assert instructions_worker.empty_like(lambda: 1) is instructions_worker._empty


# --- clear errors when the metric cannot run here -------------------------------------


def test_missing_valgrind_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(instructions.InstructionsUnavailable) as caught:
        instructions.find_valgrind()
    assert caught.value.exit_code == ExitCode.USAGE
    assert "valgrind" in str(caught.value)
    assert "apt-get install valgrind" in str(caught.value)
    assert "--metric time" in str(caught.value)
    assert instructions.unavailable_reason() == str(caught.value)


def test_missing_compiler_names_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(instructions.InstructionsUnavailable) as caught:
        instructions.build_shim("valgrind-test", tmp_path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "apt-get install gcc" in str(caught.value)


def _fake_compiler(tmp_path: Path, script: str) -> Path:
    compiler = tmp_path / "fake-cc"
    compiler.write_text("#!/bin/sh\n" + script)
    compiler.chmod(compiler.stat().st_mode | stat.S_IEXEC)
    return compiler


def test_missing_headers_name_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    compiler = _fake_compiler(
        tmp_path,
        'echo "shim.c:9:10: fatal error: valgrind/callgrind.h: No such file or directory" >&2\n'
        "exit 1\n",
    )
    monkeypatch.setenv("CC", str(compiler))
    with pytest.raises(instructions.InstructionsUnavailable) as caught:
        instructions.build_shim("valgrind-test", tmp_path / "cache")
    assert "valgrind/callgrind.h" in str(caught.value)
    assert "apt-get install valgrind" in str(caught.value)


def test_the_shim_is_compiled_once_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = tmp_path / "calls"
    # Stands in for cc: records the call and writes the output file it is asked for.
    compiler = _fake_compiler(
        tmp_path,
        f'echo called >> "{calls}"\n'
        'while [ "$#" -gt 0 ]; do\n'
        '  if [ "$1" = "-o" ]; then shift; echo lib > "$1"; fi; shift\n'
        "done\n",
    )
    monkeypatch.setenv("CC", str(compiler))
    first = instructions.build_shim("valgrind-test", tmp_path / "cache")
    second = instructions.build_shim("valgrind-test", tmp_path / "cache")
    assert first == second and first.is_file()
    assert calls.read_text().count("called") == 1
    # Another valgrind version is another library.
    assert instructions.build_shim("valgrind-other", tmp_path / "cache") != first
    # No temporary build directory is left behind.
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [first.name, instructions.build_shim("valgrind-other", tmp_path / "cache").name]
    )


# --- the decision on near-deterministic counts (stats.py) -----------------------------


def _groups(*counts: float) -> list[list[float]]:
    """One run of processes whose means are these counts."""
    return [list(counts)]


def test_identical_counts_are_the_same_with_no_nan_or_division_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decision = decide("b", _groups(22_778_527, 22_778_527), _groups(22_778_527, 22_778_527), 10)
    assert decision.verdict is Verdict.SAME
    assert decision.ratio == 1.0 and decision.low == 1.0 and decision.high == 1.0
    assert all(math.isfinite(x) for x in (decision.ratio, decision.low, decision.high))


def test_ten_percent_more_instructions_fail_a_5_percent_gate_and_pass_a_15_percent_gate() -> None:
    base = _groups(22_778_527, 22_778_527)
    head = _groups(25_052_563, 25_052_563)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at_5 = decide("b", base, head, 5)
        at_15 = decide("b", base, head, 15)
    assert at_5.ratio == pytest.approx(1.10, abs=0.01)
    assert at_5.verdict is Verdict.REGRESSION
    # Real (the interval is above 1) but within the threshold: not a failure.
    assert at_15.verdict is Verdict.SLOWER and not at_15.regressed


def test_a_tiny_spread_leaves_the_threshold_to_decide() -> None:
    # Counts that differ in the sixth digit between processes, as they can with ASLR.
    base = [[22_779_378, 22_778_574], [22_779_187, 22_778_574]]
    same = [[22_779_363, 22_778_574]]
    slower = [[25_057_000, 25_056_100]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unchanged = decide("b", base, same, 10)
        changed = decide("b", base, slower, 5)
    assert unchanged.verdict is not Verdict.REGRESSION
    assert unchanged.high / unchanged.low < 1.001
    assert changed.verdict is Verdict.REGRESSION
    assert changed.high / changed.low < 1.001


# --- real counts under valgrind -------------------------------------------------------


def _count(
    suite_dir: Path, patterns: list[str], settings: Settings, progress: object = None
) -> pyperf.BenchmarkSuite:
    suite = load_suite(suite_dir)
    return instructions.measure_suite(
        suite,
        suite.select(patterns),
        settings,
        cpus=None,
        metadata={"perfagent_suite": suite.name},
        progress=progress or QuietProgress(),  # type: ignore[arg-type]
    )


@needs_valgrind
@pytest.mark.slow
def test_the_same_benchmark_counted_twice_agrees_within_a_tenth_of_a_percent() -> None:
    settings = Settings(processes=2, values=2)
    # Counted beside another benchmark, in a shuffled order: the count is its own.
    first = _count(WORKLOAD, ["python.logistic_map", "text.*"], settings)
    second = _count(WORKLOAD, ["python.logistic_map"], settings)
    one = first.get_benchmark("python.logistic_map")
    two = second.get_benchmark("python.logistic_map")
    difference = abs(one.mean() - two.mean()) / one.mean()
    print(f"counts {one.mean():.0f} and {two.mean():.0f}: {difference:.6%} apart")
    assert difference < 0.001
    # The shape the rest of the agent relies on: one run per valgrind process.
    assert one.get_unit() == "integer"
    assert one.get_nrun() == 2
    assert all(len(run.values) == 2 for run in one.get_runs())
    metadata = one.get_metadata()
    assert metadata["perfagent_metric"] == "instructions"
    assert metadata["perfagent_instructions_hashseed"] == "0"
    seeds = {run.get_metadata()["perfagent_order_seed"] for run in one.get_runs()}
    assert len(seeds) == 2
    # Start-up and imports are not in the count: a benchmark of about 9 million
    # instructions is counted as such, not with the ~180 million an interpreter start
    # and its imports cost.
    assert 6_000_000 < one.mean() < 14_000_000


@needs_valgrind
@pytest.mark.slow
def test_setup_and_benchmark_errors_are_reported_not_crashed(tmp_path: Path) -> None:
    suite = tmp_path / "broken"
    suite.mkdir()
    (suite / "bench_fail.py").write_text(
        "def bench_raises():\n    raise RuntimeError('boom')\n\ndef bench_fine():\n    pass\n",
        encoding="utf-8",
    )
    settings = Settings(processes=1, values=1)
    with pytest.raises(BenchmarkRunError) as caught:
        _count(suite, ["raises", "fine"], settings)
    assert str(caught.value) == "benchmark fail.raises failed: RuntimeError: boom"
    assert "Traceback (most recent call last)" in caught.value.details


class _Lines:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.done: list[int] = []
        self.processes: list[int] = []

    def process_started(self, index: int, total: int, cpu: int | None) -> None:
        self.processes.append(index)

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        pass

    def worker_done(self, count: int) -> None:
        self.done.append(count)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def benchmark_done(self, index: int, total: int, name: str, bench: object) -> None:
        pass


@needs_valgrind
@pytest.mark.slow
def test_progress_lines_and_worker_events(tmp_path: Path) -> None:
    lines = _Lines()
    result = _count(TINY, ["sum_range", "join"], Settings(processes=2, values=1), lines)
    assert (
        "counting instructions under callgrind: 2 processes x 2 benchmarks x 1 values"
        in (lines.notes[0])
    )
    assert sum("instructions per call" in line for line in lines.notes) == 2
    assert sorted(lines.done) == [1, 2]
    bench = result.get_benchmark("arith.sum_range")
    assert bench.get_metadata()["perfagent_suite"] == "tiny"
    # A 200-element sum is a few thousand instructions once the call overhead is off.
    assert 500 < bench.mean() < 50_000


def test_worker_refuses_to_run_outside_valgrind(tmp_path: Path) -> None:
    if shutil.which("cc") is None:
        missing("needs a C compiler")
    try:
        shim = instructions.build_shim("valgrind-test", tmp_path)
    except instructions.InstructionsUnavailable as exc:
        missing(str(exc))
    job = tmp_path / "job.json"
    result = tmp_path / "result.json"
    job.write_text(
        json.dumps(
            {
                "shim": str(shim),
                "suite": str(TINY),
                "order": ["arith.sum_range"],
                "warmups": 0,
                "values": 1,
                "result": str(result),
            }
        )
    )
    assert instructions_worker.worker_main([str(job)]) == 1
    assert "not running under valgrind" in result.read_text()
