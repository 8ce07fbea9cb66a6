"""The runner: real pyperf runs of the tiny suite (few processes, no timing asserted),
the agent's metadata, CPU pinning, failures and commit detection."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pyperf
import pytest
from perfagent.config import Settings, load_settings
from perfagent.errors import BenchmarkRunError, ConfigError, UsageError
from perfagent.machine.fingerprint import HARDWARE_FIELDS, Fingerprint, collect
from perfagent.measure import runner
from perfagent.measure.suite import load_suite
from perfagent.measure.worker import ERROR_PREFIX

TINY = Path(__file__).resolve().parents[1] / "suites" / "tiny"
FINGERPRINT = Fingerprint(
    id="0123456789ab",
    hardware={"architecture": "x86_64", "cpu_vendor": "TestVendor"},
    software={"python": "CPython 3.11", "packages": {"pyperf": "2.11.0"}},
)


class RecordingProgress:
    """Keeps the progress events of a run."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def benchmark_started(self, index: int, total: int, name: str) -> None:
        self.events.append(("started", (index, total, name)))

    def worker_done(self, count: int) -> None:
        self.events.append(("worker", count))

    def note(self, text: str) -> None:
        self.events.append(("note", text))

    def benchmark_done(self, index: int, total: int, name: str, bench: pyperf.Benchmark) -> None:
        self.events.append(("done", (index, total, name)))


TinyRun = tuple[pyperf.BenchmarkSuite, Path, RecordingProgress]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """One real run of the whole tiny suite (2 processes x 2 values per benchmark)."""
    output = tmp_path_factory.mktemp("run") / "results" / "tiny.json"
    suite = load_suite(TINY)
    progress = RecordingProgress()
    result = runner.run_suite(
        suite,
        suite.select(None),
        Settings(),
        commit="abc1234def",
        output=output,
        progress=progress,
        fingerprint=FINGERPRINT,
    )
    return result, output, progress


def test_every_benchmark_has_values_from_each_process(tiny_run: TinyRun) -> None:
    result, _output, _progress = tiny_run
    assert result.get_benchmark_names() == ["arith.sum_range", "arith.sort_list", "text.join_words"]
    for bench in result:
        assert runner.measured_runs(bench) == 2  # the suite's PROCESSES
        assert all(len(run.values) == 2 for run in bench.get_runs() if run.values)
        assert bench.get_unit() == "second"
        assert all(value > 0 for value in bench.get_values())


def test_agent_metadata_on_every_benchmark(tiny_run: TinyRun) -> None:
    result, _output, _progress = tiny_run
    run_ids = set()
    for bench in result:
        metadata = bench.get_metadata()
        assert metadata["perfagent_fingerprint"] == "0123456789ab"
        assert json.loads(metadata["perfagent_hardware"]) == FINGERPRINT.hardware
        assert json.loads(metadata["perfagent_software"]) == FINGERPRINT.software
        assert metadata["perfagent_metric"] == "time"
        assert metadata["perfagent_suite"] == "tiny"
        assert metadata["perfagent_commit"] == "abc1234def"
        assert metadata["perfagent_version"]
        assert metadata["perfagent_suite_flavour"] == "tiny"
        assert metadata["perfagent_suite_purpose"] == "tests"
        # On every pyperf run, so that runs merged into a baseline keep their run id.
        run_ids |= {run.get_metadata()["perfagent_run_id"] for run in bench.get_runs()}
    assert len(run_ids) == 1


def test_output_is_plain_pyperf_json(tiny_run: TinyRun) -> None:
    result, output, _progress = tiny_run
    loaded = pyperf.BenchmarkSuite.load(str(output))
    assert loaded.get_benchmark_names() == result.get_benchmark_names()
    assert not list(output.parent.glob(".*"))  # no temporary file left behind
    for command in (["stats", str(output)], ["compare_to", str(output), str(output)]):
        done = subprocess.run(
            [sys.executable, "-m", "pyperf", *command], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


def test_progress_events_in_order(tiny_run: TinyRun) -> None:
    _result, _output, progress = tiny_run
    milestones = [event for event in progress.events if event[0] in {"started", "done"}]
    assert milestones == [
        ("started", (1, 3, "arith.sum_range")),
        ("done", (1, 3, "arith.sum_range")),
        ("started", (2, 3, "arith.sort_list")),
        ("done", (2, 3, "arith.sort_list")),
        ("started", (3, 3, "text.join_words")),
        ("done", (3, 3, "text.join_words")),
    ]
    assert ("worker", 1) in progress.events


def test_plain_progress_lines() -> None:
    lines: list[str] = []
    plain = runner.PlainProgress(lines.append)
    plain.benchmark_started(2, 5, "io.read")
    assert re.fullmatch(r"\[2/5\] io\.read \.\.\. \(elapsed \d+:\d\d\)", lines[0])


def test_selected_benchmarks_only(tmp_path: Path) -> None:
    suite = load_suite(TINY)
    result = runner.run_suite(
        suite,
        suite.select(["join"]),
        Settings(processes=1, values=1),
        progress=runner.QuietProgress(),
        fingerprint=FINGERPRINT,
    )
    assert result.get_benchmark_names() == ["text.join_words"]
    bench = result.get_benchmark("text.join_words")
    assert runner.measured_runs(bench) == 1
    assert "perfagent_commit" not in bench.get_metadata()


def test_no_benchmarks_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no benchmarks selected"):
        runner.run_suite(load_suite(TINY), [], Settings(), fingerprint=FINGERPRINT)


def test_unknown_metric_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown metric 'cycles'"):
        runner.measurer_for("cycles")
    assert runner.measurer_for("time") is runner.measure_time


# --- pyperf's options ------------------------------------------------------------


def test_suite_defaults_become_runner_defaults() -> None:
    args = runner.pyperf_arguments(load_suite(TINY), Settings(), None)
    assert "--perfagent-default-processes=2" in args
    assert "--perfagent-default-values=2" in args
    assert "--perfagent-default-warmups=1" in args
    assert "--perfagent-default-min-time=0.005" in args
    assert not any(a.startswith("--affinity") or a in {"--fast", "--rigorous"} for a in args)


def test_settings_override_suite_defaults_and_modes_map_to_pyperf() -> None:
    settings = Settings(processes=7, values=4, warmups=0, mode="rigorous")
    args = runner.pyperf_arguments(load_suite(TINY), settings, [2, 3, 5])
    assert "--perfagent-default-processes=7" in args
    assert "--perfagent-default-values=4" in args
    assert "--perfagent-default-warmups=0" in args
    assert "--rigorous" in args
    assert "--affinity=2-3,5" in args
    fast = runner.pyperf_arguments(load_suite(TINY), Settings(mode="fast"), None)
    assert "--fast" in fast


def test_thread_settings_reach_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("GDAL_DATA", raising=False)
    args = runner.pyperf_arguments(load_suite(TINY), Settings(), None)
    inherit = next(a for a in args if a.startswith("--inherit-environ="))
    assert "OMP_NUM_THREADS" in inherit.split("=", 1)[1].split(",")
    assert "GDAL_DATA" not in inherit


def _sys_tree(root: Path, online: str, isolated: str) -> Path:
    cpu = root / "devices/system/cpu"
    cpu.mkdir(parents=True)
    (cpu / "online").write_text(online + "\n")
    (cpu / "isolated").write_text(isolated + "\n")
    return root


def test_benchmark_cpus_are_the_isolated_ones(tmp_path: Path) -> None:
    sys_root = _sys_tree(tmp_path, "0-7", "4-7")
    assert runner.benchmark_cpus(Settings(), sys_root) == [4, 5, 6, 7]


def test_no_isolated_cpus_means_no_pinning(tmp_path: Path) -> None:
    sys_root = _sys_tree(tmp_path, "0-3", "")
    assert runner.benchmark_cpus(Settings(), sys_root) is None


def test_cpus_setting_wins_over_isolated(tmp_path: Path) -> None:
    sys_root = _sys_tree(tmp_path, "0-7", "4-7")
    assert runner.benchmark_cpus(Settings(cpus="2-3"), sys_root) == [2, 3]


def test_cpus_setting_naming_absent_cpus_names_the_setting(tmp_path: Path) -> None:
    sys_root = _sys_tree(tmp_path, "0-3", "")
    settings = load_settings({"cpus": "2-5"}, cwd=tmp_path, environ={})
    with pytest.raises(ConfigError) as caught:
        runner.benchmark_cpus(settings, sys_root)
    assert "option --cpus" in str(caught.value)
    assert "CPU 4-5 is not available" in str(caught.value)


def test_pinned_run_records_the_affinity(tmp_path: Path) -> None:
    suite = load_suite(TINY)
    result = runner.run_suite(
        suite,
        suite.select(["sum_range"]),
        Settings(processes=1, values=1, cpus="0"),
        progress=runner.QuietProgress(),
        fingerprint=FINGERPRINT,
    )
    # pyperf's workers note the CPUs they were pinned to.
    assert result.get_benchmark("arith.sum_range").get_metadata().get("cpu_affinity") == "0"


# --- failures --------------------------------------------------------------------


def _failing_suite(root: Path) -> Path:
    suite = root / "failing"
    suite.mkdir()
    (suite / "_suite.py").write_text("PROCESSES = 1\nVALUES = 1\nMIN_TIME = 0.001\n")
    (suite / "bench_fail.py").write_text(
        textwrap.dedent(
            """
            import perfagent

            def bench_raises():
                raise ValueError("the input is gone")

            def _setup():
                raise OSError("no data file")

            @perfagent.benchmark(setup=_setup)
            def bench_bad_setup(value):
                return value
            """
        )
    )
    return suite


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("fail.raises", "benchmark fail.raises raised ValueError: the input is gone"),
        ("fail.bad_setup", "setup of fail.bad_setup failed: OSError: no data file"),
    ],
)
def test_worker_failure_names_the_benchmark_and_the_reason(
    tmp_path: Path, name: str, reason: str
) -> None:
    suite = load_suite(_failing_suite(tmp_path))
    output = tmp_path / "out.json"
    with pytest.raises(BenchmarkRunError) as caught:
        runner.run_suite(
            suite,
            suite.select([name]),
            Settings(),
            output=output,
            progress=runner.QuietProgress(),
            fingerprint=FINGERPRINT,
        )
    message = str(caught.value)
    assert message.startswith(f"benchmark {name} failed: ")
    assert reason in message.splitlines()[0]
    assert ERROR_PREFIX not in message
    assert not output.exists()


def test_failure_message_quotes_the_tail_of_stderr() -> None:
    stderr = "\n".join(f"line {i}" for i in range(30)) + f"\n{ERROR_PREFIX}it broke\n"
    message = runner._failure_message("io.read", 1, stderr)
    assert message.splitlines()[0] == "benchmark io.read failed: it broke"
    assert message.splitlines()[-1].strip() == "line 29"
    assert "line 17" not in message


# --- commit ----------------------------------------------------------------------


def test_commit_from_github_sha(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    assert runner.detect_commit(tmp_path) == "f" * 40


def test_commit_from_git_head(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run([*git, "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "c"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert runner.detect_commit(tmp_path) == head


def test_no_commit_outside_a_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert runner.detect_commit(tmp_path) is None


def test_hardware_fields_are_recorded_by_default(tmp_path: Path) -> None:
    metadata = runner.run_metadata(
        load_suite(TINY),
        Settings(),
        collect(),
        commit=None,
    )
    assert set(json.loads(metadata["perfagent_hardware"])) == set(HARDWARE_FIELDS)
    assert re.fullmatch(r"[0-9a-f]{12}", metadata["perfagent_fingerprint"])
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", metadata["perfagent_run_id"])


def test_pyperf_warnings_are_taken_from_its_summary() -> None:
    summary = (
        "WARNING: the benchmark result may be unstable\n"
        "* the standard deviation (2.00 us) is 23% of the mean (8.88 us)\n"
        "\n"
        "Try to rerun the benchmark with more runs, values and/or loops.\n"
        "name: Mean +- std dev: 8.88 us +- 2.00 us\n"
    )
    assert runner.pyperf_warnings(summary) == [
        "the standard deviation (2.00 us) is 23% of the mean (8.88 us)"
    ]
