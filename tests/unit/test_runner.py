"""The runner: real runs of the tiny suite in whole-suite worker processes (few processes,
no timing asserted): pyperf JSON that pyperf reads, the agent's metadata, the shuffled
order per process, loop counts calibrated once or reused, one worker on another
interpreter, CPU pinning, failures and commit detection."""

from __future__ import annotations

import json
import os
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
from perfagent.measure.reference import NAME as REFERENCE
from perfagent.measure.suite import Suite, load_suite
from perfagent.measure.worker import ERROR_PREFIX

TINY = Path(__file__).resolve().parents[1] / "suites" / "tiny"
TINY_NAMES = ["arith.sum_range", "arith.sort_list", "text.join_words"]
FINGERPRINT = Fingerprint(
    id="0123456789ab",
    hardware={"architecture": "x86_64", "cpu_vendor": "TestVendor"},
    software={"python": "CPython 3.11", "packages": {"pyperf": "2.11.0"}},
)


class RecordingProgress:
    """Keeps the progress events of a run."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def process_started(self, index: int, total: int, cpu: int | None) -> None:
        self.events.append(("process", (index, total)))

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
    """One real run of the whole tiny suite (3 processes x 2 values per benchmark)."""
    output = tmp_path_factory.mktemp("run") / "results" / "tiny.json"
    suite = load_suite(TINY)
    progress = RecordingProgress()
    result = runner.run_suite(
        suite,
        suite.select(None),
        Settings(processes=3),
        commit="abc1234def",
        output=output,
        progress=progress,
        fingerprint=FINGERPRINT,
    )
    return result, output, progress


def test_every_benchmark_has_one_run_per_process(tiny_run: TinyRun) -> None:
    result, _output, _progress = tiny_run
    # The suite's benchmarks in suite order, then the machine's reference workload.
    assert result.get_benchmark_names() == [*TINY_NAMES, REFERENCE]
    for bench in result:
        assert runner.measured_runs(bench) == 3
        assert [run.get_metadata()["perfagent_process"] for run in bench.get_runs()] == [1, 2, 3]
        assert all(len(run.values) == 2 for run in bench.get_runs())  # the suite's VALUES
        assert bench.get_unit() == "second"
        assert all(value > 0 for value in bench.get_values())


def test_each_process_measures_every_benchmark_in_its_own_recorded_order(
    tiny_run: TinyRun,
) -> None:
    result, _output, _progress = tiny_run
    names = result.get_benchmark_names()
    for process in range(3):
        runs = {bench.get_name(): bench.get_runs()[process] for bench in result}
        seeds = {run.get_metadata()["perfagent_order_seed"] for run in runs.values()}
        assert len(seeds) == 1
        positions = {
            name: run.get_metadata()["perfagent_order_position"] for name, run in runs.items()
        }
        assert sorted(positions.values()) == list(range(len(names)))
        # The recorded seed reproduces the order the worker measured.
        order = runner.shuffled(names, seeds.pop())
        assert {name: order.index(name) for name in names} == positions


def test_loops_are_calibrated_by_the_first_process_and_reused(tiny_run: TinyRun) -> None:
    result, _output, _progress = tiny_run
    for bench in result:
        first, *others = bench.get_runs()
        loops = first.get_metadata()["loops"]
        assert first.get_metadata()["calibrate_loops"] == loops
        assert first.warmups  # the calibration values, kept as pyperf warm-ups
        assert all(run.get_metadata()["loops"] == loops for run in others)
        assert all("calibrate_loops" not in run.get_metadata() for run in others)
        assert {run.get_metadata()["perfagent_loops_source"] for run in bench.get_runs()} == {
            "calibrated"
        }
    assert runner.loops_from(result) == {
        b.get_name(): b.get_runs()[0].get_metadata()["loops"] for b in result
    }


def test_loops_from_a_baseline_are_used_as_given(tmp_path: Path) -> None:
    suite = load_suite(TINY)
    result = runner.run_suite(
        suite,
        suite.select(["sum_range", "join"]),
        Settings(processes=2, values=1, warmups=0),
        loops={"arith.sum_range": 7, "text.join_words": 3},
        progress=runner.QuietProgress(),
        fingerprint=FINGERPRINT,
    )
    for name, loops in {"arith.sum_range": 7, "text.join_words": 3}.items():
        bench = result.get_benchmark(name)
        for run in bench.get_runs():
            metadata = run.get_metadata()
            assert metadata["loops"] == loops
            assert metadata["perfagent_loops_source"] == "baseline"
            assert "calibrate_loops" not in metadata
            assert not run.warmups
    # The reference workload was not in the baseline's loops: calibrated.
    reference = result.get_benchmark(REFERENCE).get_runs()[0].get_metadata()
    assert reference["perfagent_loops_source"] == "calibrated"


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
        # pyperf's own metadata, collected in the worker process.
        assert metadata["python_executable"] == sys.executable
        assert "cpu_count" in metadata
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
    stats = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(output)], capture_output=True, text=True
    ).stdout
    assert "Number of run with values: 3" in stats


def test_progress_events(tiny_run: TinyRun) -> None:
    _result, _output, progress = tiny_run
    kinds = [kind for kind, _ in progress.events]
    assert [value for kind, value in progress.events if kind == "process"] == [
        (1, 3),
        (2, 3),
        (3, 3),
    ]
    assert [value for kind, value in progress.events if kind == "worker"] == [1, 2, 3]
    started = [value for kind, value in progress.events if kind == "started"]
    assert len(started) == 3 * 4
    assert {name for _i, _t, name in started} == {*TINY_NAMES, REFERENCE}
    # One summary per benchmark at the end, in suite order.
    assert kinds[-4:] == ["done"] * 4
    assert [value for kind, value in progress.events if kind == "done"] == [
        (index, 4, name) for index, name in enumerate([*TINY_NAMES, REFERENCE], 1)
    ]


def test_plain_progress_lines() -> None:
    lines: list[str] = []
    plain = runner.PlainProgress(lines.append)
    plain.process_started(1, 6, 3)
    plain.benchmark_started(2, 5, "io.read")
    assert re.fullmatch(r"worker process 1 of 6 on CPU 3 \(elapsed \d+:\d\d\)", lines[0])
    assert re.fullmatch(r"  \[2/5\] io\.read \.\.\. \(elapsed \d+:\d\d\)", lines[1])


def test_selected_benchmarks_only(tmp_path: Path) -> None:
    suite = load_suite(TINY)
    result = runner.run_suite(
        suite,
        suite.select(["join"]),
        Settings(processes=1, values=1),
        progress=runner.QuietProgress(),
        fingerprint=FINGERPRINT,
    )
    assert result.get_benchmark_names() == ["text.join_words", REFERENCE]
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


# --- one worker, for `ab` ----------------------------------------------------------


def test_one_worker_on_another_interpreter_without_pyperf(tmp_path: Path) -> None:
    """The base interpreter of this venv has neither pyperf nor perfagent installed: the
    worker half still runs there (the agent's package is put on its PYTHONPATH)."""
    base_python = (
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    if not base_python.exists() or Path(sys.base_prefix) == Path(sys.prefix):
        pytest.skip("needs a virtual environment on top of a base interpreter")
    order = ("text.join_words", "arith.sum_range")
    request = runner.WorkerRequest(
        suite_path=TINY,
        order=order,
        loops={"text.join_words": 5},
        values=2,
        warmups=1,
        min_time=0.001,
        python=str(base_python),
        seed=42,
    )
    worker = runner.run_worker(request)
    assert set(worker.benchmarks) == set(order)
    assert worker.benchmarks["text.join_words"].loops == 5
    assert worker.benchmarks["text.join_words"].calibration == ()
    assert worker.benchmarks["arith.sum_range"].calibration  # no loops given: calibrated
    assert [worker.benchmarks[name].position for name in order] == [0, 1]
    assert worker.metadata["python_executable"] == str(base_python)
    runs = runner.to_runs(worker, {"perfagent_run_id": "r1"})
    assert runs["text.join_words"].get_metadata()["perfagent_order_seed"] == 42
    assert runs["text.join_words"].get_metadata()["perfagent_run_id"] == "r1"
    suite = runner.build_suite([worker, worker], {"perfagent_run_id": "r1"}, list(order))
    assert suite.get_benchmark_names() == list(order)
    assert suite.get_benchmark("arith.sum_range").get_nrun() == 2


# --- run plan ----------------------------------------------------------------------


def _suite_with(tmp_path: Path, settings_source: str) -> Suite:
    suite = tmp_path / "planned"
    suite.mkdir()
    (suite / "_suite.py").write_text(settings_source)
    (suite / "bench_x.py").write_text("def bench_x():\n    pass\n")
    return load_suite(suite)


def test_plan_takes_the_suite_defaults_then_pyperf_defaults(tmp_path: Path) -> None:
    assert runner.plan_for(load_suite(TINY), Settings()) == runner.Plan(
        processes=2,
        values=2,
        warmups=1,
        min_time=0.005,
        timeout=runner.DEFAULT_TIMEOUT,
        timeout_source="the built-in default, 600 s",
    )
    bare = _suite_with(tmp_path, "")
    plan = runner.plan_for(bare, Settings())
    assert (plan.processes, plan.values, plan.warmups, plan.min_time) == (20, 3, 1, 0.1)


def test_settings_override_the_suite_and_modes_scale_as_pyperf_does(tmp_path: Path) -> None:
    suite = _suite_with(tmp_path, "PROCESSES = 8\nVALUES = 6\nTIMEOUT = 30\n")
    assert runner.plan_for(suite, Settings(mode="rigorous")).processes == 16
    fast = runner.plan_for(suite, Settings(mode="fast"))
    assert (fast.processes, fast.values) == (4, 4)
    chosen = runner.plan_for(suite, Settings(processes=3, values=1, warmups=0, mode="rigorous"))
    assert (chosen.processes, chosen.values, chosen.warmups) == (3, 1, 0)
    assert runner.plan_for(suite, Settings()).timeout == 30
    assert "TIMEOUT = 30" in runner.plan_for(suite, Settings()).timeout_source
    flagged = load_settings({"timeout": "5"}, cwd=tmp_path, environ={})
    plan = runner.plan_for(suite, flagged)
    assert plan.timeout == 5
    assert plan.timeout_source == "option --timeout = 5 s"


# --- placement ---------------------------------------------------------------------


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


PLACEMENT_PROBE = """
    import json
    import os
    import perfagent

    def _record():
        facts = {
            "cpus": sorted(os.sched_getaffinity(0)),
            "threads": {k: os.environ.get(k) for k in (
                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "GDAL_NUM_THREADS")},
            "ci": os.environ.get("GITHUB_SHA"),
            "hook": os.environ.get("PERFAGENT_TEST_HOOK"),
        }
        with open(os.path.join(os.path.dirname(__file__), "facts.jsonl"), "a") as out:
            out.write(json.dumps(facts) + "\\n")

    @perfagent.benchmark(setup=_record)
    def bench_probe(_nothing):
        pass
"""


def test_each_worker_is_pinned_to_one_cpu_with_its_thread_pools_sized_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_dir = tmp_path / "probe"
    suite_dir.mkdir()
    (suite_dir / "_suite.py").write_text("PROCESSES = 2\nVALUES = 1\nMIN_TIME = 0.001\n")
    (suite_dir / "bench_probe.py").write_text(textwrap.dedent(PLACEMENT_PROBE))
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    monkeypatch.setenv("PERFAGENT_TEST_HOOK", "passed")
    monkeypatch.setenv("OMP_NUM_THREADS", "64")
    suite = load_suite(suite_dir)
    result = runner.run_suite(
        suite,
        suite.select(None),
        Settings(cpus="0"),
        progress=runner.QuietProgress(),
        fingerprint=FINGERPRINT,
    )
    facts = [json.loads(line) for line in (suite_dir / "facts.jsonl").read_text().splitlines()]
    assert len(facts) == 2  # one setup per worker process
    for fact in facts:
        assert fact["cpus"] == [0]
        assert set(fact["threads"].values()) == {"1"}
        assert fact["ci"] is None  # a CI job's variables stay out of the worker
        assert fact["hook"] == "passed"  # PERFAGENT_* reach it (test hooks, workloads)
    for run in result.get_benchmark("probe.probe").get_runs():
        metadata = run.get_metadata()
        assert metadata["perfagent_cpu"] == 0
        assert metadata["perfagent_threads"] == 1
        # pyperf's own record of the worker's affinity, when it is not every CPU.
        if len(os.sched_getaffinity(0)) > 1:
            assert metadata["cpu_affinity"] == "0"


# --- failures ----------------------------------------------------------------------


def _failing_suite(root: Path) -> Path:
    suite = root / "failing"
    suite.mkdir()
    (suite / "_suite.py").write_text("PROCESSES = 1\nVALUES = 1\nMIN_TIME = 0.001\n")
    (suite / "bench_fail.py").write_text(
        textwrap.dedent(
            """
            import sys

            import perfagent

            def bench_raises():
                raise ValueError("the input is gone")

            def bench_exits():
                sys.exit(0)

            def _setup():
                raise OSError("no data file")

            @perfagent.benchmark(setup=_setup)
            def bench_bad_setup(value):
                return value

            def bench_fine():
                return 1
            """
        )
    )
    return suite


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("fail.raises", "ValueError: the input is gone"),
        ("fail.exits", "it called sys.exit(0)"),
        ("fail.bad_setup", "setup of fail.bad_setup failed: OSError: no data file"),
    ],
)
def test_worker_failure_names_the_benchmark_and_keeps_the_traceback(
    tmp_path: Path, name: str, reason: str
) -> None:
    suite = load_suite(_failing_suite(tmp_path))
    output = tmp_path / "out.json"
    with pytest.raises(BenchmarkRunError) as caught:
        runner.run_suite(
            suite,
            suite.select([name, "fine"]),
            Settings(),
            output=output,
            progress=runner.QuietProgress(),
            fingerprint=FINGERPRINT,
        )
    message = str(caught.value)
    assert message.startswith(f"benchmark {name} failed: ")
    assert "\n" not in message
    assert reason in message
    assert ERROR_PREFIX not in message
    assert "Traceback (most recent call last)" in caught.value.details
    assert "bench_fail.py" in caught.value.details
    assert not output.exists()


def test_a_benchmark_that_outlasts_its_timeout_is_named(tmp_path: Path) -> None:
    suite = tmp_path / "hangs"
    suite.mkdir()
    (suite / "bench_hang.py").write_text("import time\ndef bench_forever():\n    time.sleep(600)\n")
    request = runner.WorkerRequest(
        suite_path=suite, order=("hang.forever",), timeout=1.0, timeout_source="a test"
    )
    with pytest.raises(BenchmarkRunError) as caught:
        runner.run_worker(request)
    assert str(caught.value).startswith(
        "benchmark hang.forever failed: timed out after 1 s in worker process 1 "
        "(timeout per benchmark: a test;"
    )


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
