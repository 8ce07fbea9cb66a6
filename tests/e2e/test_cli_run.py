"""`perfagent run/list/fingerprint/doctor` through the console script: output, files,
exit codes, and one-line errors (never a traceback) for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest
from perfagent.machine.fingerprint import HARDWARE_FIELDS
from perfagent.measure.reference import NAME as REFERENCE

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "suites" / "tiny"
EXAMPLE = ROOT / "benchmarks" / "example"
PERFAGENT = Path(sys.executable).parent / "perfagent"


def perfagent(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script in `cwd` with a clean PERFAGENT_* environment, as CI would."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PERFAGENT_", "GITHUB_"))}
    environ.update({"CI": "true", **(env or {})})
    return subprocess.run(
        [str(PERFAGENT), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=600
    )


def assert_usage_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("perfagent: error: ")
    for text in expected:
        assert text in done.stderr


def test_list(tmp_path: Path) -> None:
    done = perfagent("list", "--suite", str(TINY), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["arith.sum_range", "arith.sort_list", "text.join_words"]


def test_list_example_suite_with_descriptions(tmp_path: Path) -> None:
    done = perfagent("list", "--suite", str(EXAMPLE), "--describe", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == [
        "numeric.matrix_multiply",
        "numeric.moving_average",
        "python.word_count",
        "python.prime_sieve",
    ]


@pytest.mark.slow
def test_run_writes_pyperf_json_and_prints_a_table(tmp_path: Path) -> None:
    output = tmp_path / "out" / "tiny.json"
    done = perfagent("run", "--suite", str(TINY), "-b", "arith.*", "-o", str(output), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # Plain progress lines in CI logs: each worker process, the benchmarks it measures
    # (the two and the reference workload, in its order), then one summary each.
    assert re.search(r"^worker process 2 of 2 \(elapsed \d+:\d\d\)$", done.stderr, re.M)
    assert re.search(
        r"^  \[\d/3\] arith\.sum_range \.\.\. \(elapsed \d+:\d\d\)$", done.stderr, re.M
    )
    assert re.search(r"^\[2/3\] arith\.sort_list: .+ \(2 processes\)$", done.stderr, re.M)
    assert "arith.sum_range" in done.stdout
    assert "arith.sort_list" in done.stdout
    assert f"Results: {output}" in done.stdout
    suite = pyperf.BenchmarkSuite.load(str(output))
    assert suite.get_benchmark_names() == ["arith.sum_range", "arith.sort_list", REFERENCE]
    metadata = suite.get_benchmarks()[0].get_metadata()
    assert metadata["perfagent_suite"] == "tiny"
    assert metadata["perfagent_metric"] == "time"
    stats = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(output)], capture_output=True, text=True
    )
    assert stats.returncode == 0, stats.stderr


@pytest.mark.slow
def test_run_default_output_under_output_dir_with_settings_from_env(tmp_path: Path) -> None:
    done = perfagent(
        "run",
        "-b",
        "join",
        cwd=tmp_path,
        env={
            "PERFAGENT_SUITE": str(TINY),
            "PERFAGENT_PROCESSES": "1",
            "PERFAGENT_VALUES": "1",
            "GITHUB_SHA": "c0ffee" * 6 + "0000",
        },
    )
    assert done.returncode == 0, done.stderr
    (written,) = (tmp_path / "metrics" / "results").glob("benchmarks_*.json")
    bench = pyperf.BenchmarkSuite.load(str(written)).get_benchmark("text.join_words")
    assert sum(1 for run in bench.get_runs() if run.values) == 1
    assert bench.get_metadata()["perfagent_commit"] == "c0ffee" * 6 + "0000"


def test_unknown_pattern_exits_2_naming_it(tmp_path: Path) -> None:
    done = perfagent("run", "--suite", str(TINY), "-b", "nosuchbench", cwd=tmp_path)
    assert_usage_error(done, "'nosuchbench'", "tiny", "arith.sum_range")
    assert not (tmp_path / "metrics").exists()


def test_list_unknown_suite_exits_2_naming_the_directory(tmp_path: Path) -> None:
    done = perfagent("list", "--suite", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert_usage_error(done, str(tmp_path / "nowhere"), "--suite")


def test_broken_suite_names_the_file(tmp_path: Path) -> None:
    suite = tmp_path / "broken"
    suite.mkdir()
    (suite / "bench_oops.py").write_text("def bench_x(:\n    pass\n")
    done = perfagent("run", "--suite", str(suite), cwd=tmp_path)
    assert_usage_error(done, "bench_oops.py", "SyntaxError")


@pytest.mark.slow
def test_failing_benchmark_exits_2_naming_it(tmp_path: Path) -> None:
    suite = tmp_path / "failing"
    suite.mkdir()
    (suite / "_suite.py").write_text("PROCESSES = 1\nVALUES = 1\nMIN_TIME = 0.001\n")
    (suite / "bench_fail.py").write_text("def bench_boom():\n    raise KeyError('tile 7')\n")
    done = perfagent("run", "--suite", str(suite), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    # The worker's traceback above, the one-line reason last.
    last = done.stderr.strip().splitlines()[-1]
    assert last == "perfagent: error: benchmark fail.boom failed: KeyError: 'tile 7'"
    assert "Traceback (most recent call last)" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--fast", "--rigorous"], {}, "--fast and --rigorous exclude each other"),
        (["--cpus", "4096"], {}, "option --cpus: CPU 4096 is not available"),
        (["--metric", "cycles"], {}, "option --metric"),
        ([], {"PERFAGENT_PROCESSES": "many"}, "environment variable PERFAGENT_PROCESSES"),
        (["--processes", "0"], {}, "option --processes"),
    ],
)
def test_bad_settings_exit_2_naming_the_setting(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    done = perfagent("run", "--suite", str(TINY), *args, cwd=tmp_path, env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert expected in done.stderr


def test_bad_config_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text("processes = [\n")
    done = perfagent("run", "--suite", str(TINY), cwd=tmp_path)
    assert_usage_error(done, "perfagent.toml", "not valid TOML")


def test_fingerprint_json(tmp_path: Path) -> None:
    first = perfagent("fingerprint", "--json", cwd=tmp_path)
    second = perfagent("fingerprint", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert set(data) == {"id", "hardware", "software"}
    assert re.fullmatch(r"[0-9a-f]{12}", data["id"])
    assert list(data["hardware"]) == list(HARDWARE_FIELDS)
    assert {"os", "kernel", "python", "packages"} <= set(data["software"])
    assert json.loads(second.stdout)["id"] == data["id"]
    assert "hostname" not in first.stdout


def test_fingerprint_table(tmp_path: Path) -> None:
    done = perfagent("fingerprint", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fingerprint_id = json.loads(perfagent("fingerprint", "--json", cwd=tmp_path).stdout)["id"]
    assert f"Fingerprint: {fingerprint_id}" in done.stdout
    for name in ("cpu_model_name", "governor", "boost", "kernel"):
        assert name in done.stdout


def test_doctor_json_matches_its_exit_code(tmp_path: Path) -> None:
    done = perfagent("doctor", "--json", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["fit"] is (done.returncode == 0)
    assert report["fit"] == all(c["verdict"] != "fail" for c in report["checks"])
    names = {c["name"] for c in report["checks"]}
    assert {"CPU governor", "Turbo/boost", "Isolated CPUs", "IRQ affinity", "ASLR"} <= names
    for check in report["checks"]:
        assert set(check) == {"name", "state", "verdict", "fix"}
        assert check["verdict"] in {"ok", "warn", "fail", "unavailable"}
    # An unfit machine is pointed at the instructions metric, with whether it can run here.
    if report["fit"]:
        assert report["recommended_metric"] == "time"
    else:
        assert report["recommended_metric"] == "instructions"
        usable = report["instructions_metric"]["usable"]
        assert usable is (report["instructions_metric"]["reason"] is None)


def test_doctor_table_explains_itself(tmp_path: Path) -> None:
    done = perfagent("doctor", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert "perf_tuning_governor" in done.stdout
    if done.returncode == 1:
        assert "--metric instructions" in done.stdout
    else:
        assert "Fit to benchmark" in done.stdout


def test_doctor_bad_cpus_exits_2(tmp_path: Path) -> None:
    done = perfagent("doctor", "--cpus", "x-y", cwd=tmp_path)
    assert_usage_error(done, "option --cpus")


def test_help_teaches(tmp_path: Path) -> None:
    for command in ("run", "doctor", "fingerprint"):
        done = perfagent(command, "--help", cwd=tmp_path)
        assert done.returncode == 0
        assert "Usage" in done.stdout
    assert "--rigorous" in perfagent("run", "--help", cwd=tmp_path).stdout
