"""The exit codes and messages of check, compare, baseline and baselines (docs/design.md).

Every bad input exits 2 with a message naming the file or setting, never a
traceback. Nothing here measures: check takes --results, or stops before running.
Most cases run the CLI in-process (fast); a few run it as a real subprocess to show
the user-facing output end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import Invoke, make_invoke
from perfagent import results
from perfagent.machine.fingerprint import collect
from perfagent.store.directory import DirectoryStore
from synthetic_results import FINGERPRINT, HARDWARE, make_suite, write_suite

REPO = Path(__file__).resolve().parents[2]
SLOWABLE = REPO / "tests" / "suites" / "slowable"


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file, no PERFAGENT_* variables, no step summary: only what a test sets."""
    for name in list(os.environ):
        if name.startswith("PERFAGENT_") or name == "GITHUB_STEP_SUMMARY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Run `perfagent ARGS...` in this process: its exit code, stdout and stderr."""
    return make_invoke(monkeypatch, capsys)


def files(tmp_path: Path, head_level: float = 1.0, **head_kw: Any) -> tuple[Path, Path]:
    base = write_suite(
        tmp_path / "base.json", make_suite({"calc.sum": [[1.0, 1.01, 0.99], [1.0, 1.0, 1.0]]})
    )
    level = head_level
    head = write_suite(
        tmp_path / "head.json",
        make_suite({"calc.sum": [[level, level * 1.01, level * 0.99]]}, **head_kw),
    )
    return base, head


# --- compare ------------------------------------------------------------------------


def test_compare_within_limits_exits_0(invoke: Invoke, tmp_path: Path) -> None:
    base, head = files(tmp_path, 1.02)
    result = invoke("compare", base, head)
    assert result.code == 0, result.text
    assert "Performance within acceptable limits" in result.last_line


def test_compare_regression_exits_1_and_names_the_benchmark(invoke: Invoke, tmp_path: Path) -> None:
    base, head = files(tmp_path, 1.5)
    result = invoke("compare", base, head)
    assert result.code == 1
    assert "Performance regression > 10% detected" in result.last_line
    assert "calc.sum" in result.last_line


def test_compare_threshold_flag(invoke: Invoke, tmp_path: Path) -> None:
    base, head = files(tmp_path, 1.5)
    result = invoke("compare", base, head, "--threshold", "60")
    assert result.code == 0
    assert "threshold 60%" in result.last_line


def test_compare_other_hardware_exits_3_unless_ignored(invoke: Invoke, tmp_path: Path) -> None:
    other = {**HARDWARE, "governor": "powersave"}
    base, head = files(tmp_path, 1.5, fingerprint="ffffffffffff", hardware=other)
    result = invoke("compare", base, head)
    assert result.code == 3
    assert FINGERPRINT in result.last_line and "ffffffffffff" in result.last_line
    assert "governor: performance vs powersave" in result.last_line
    assert "--ignore-hardware" in result.last_line
    assert invoke("compare", base, head, "--ignore-hardware").code == 1


def test_compare_other_metric_exits_3(invoke: Invoke, tmp_path: Path) -> None:
    base, head = files(tmp_path, 1.0, metric="instructions")
    result = invoke("compare", base, head, "--ignore-hardware")
    assert result.code == 3
    assert "'time'" in result.last_line and "'instructions'" in result.last_line


def test_compare_plain_pyperf_files(invoke: Invoke, tmp_path: Path) -> None:
    base = write_suite(tmp_path / "a.json", make_suite({"x": [[1.0, 1.0, 1.0]]}, agent=False))
    head = write_suite(tmp_path / "b.json", make_suite({"x": [[2.0, 2.0, 2.0]]}, agent=False))
    result = invoke("compare", base, head)
    assert result.code == 1
    assert "x (+100.0%)" in result.last_line


def test_compare_without_common_benchmarks_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    base = write_suite(tmp_path / "a.json", make_suite({"x": [[1.0]]}))
    head = write_suite(tmp_path / "b.json", make_suite({"y": [[1.0]]}))
    result = invoke("compare", base, head)
    assert result.code == 2
    assert "no benchmark in common" in result.last_line


def test_compare_output_dir_writes_artifacts(invoke: Invoke, tmp_path: Path) -> None:
    base, head = files(tmp_path, 1.0)
    assert invoke("compare", base, head, "--output-dir", tmp_path / "out").code == 0
    assert (tmp_path / "out" / "summary.md").is_file()
    assert len(list((tmp_path / "out" / "analysis").iterdir())) == 1


BAD_FILES: dict[str, bytes | None] = {
    "missing": None,
    "empty": b"",
    "truncated": b'{"version": "1.0", "benchmarks": [{"runs": [{"values": [1.0',
    "corrupt": b"{this is not json}",
    "foreign": b'{"machine_info": {}, "benchmarks": []}',
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("side", ["base", "head"])
def test_compare_bad_files_exit_2_naming_the_file(
    invoke: Invoke, tmp_path: Path, case: str, side: str
) -> None:
    base, head = files(tmp_path)
    bad = tmp_path / f"{case}.json"
    if BAD_FILES[case] is not None:
        bad.write_bytes(BAD_FILES[case])  # type: ignore[arg-type]
    args = (bad, head) if side == "base" else (base, bad)
    result = invoke("compare", *args)
    assert result.code == 2
    assert str(bad) in result.last_line
    assert "Traceback" not in result.text


# --- check --results (no measuring) -------------------------------------------------


def store_baseline(store: Path, **kw: Any) -> Path:
    """Store a synthetic baseline of `calc.sum` (make_suite's keywords) and return its path."""
    data = make_suite({"calc.sum": [[1.0, 1.01, 0.99], [1.0, 1.0, 1.0]]}, **kw)
    fingerprint = str(kw.get("fingerprint", FINGERPRINT))
    suite = str(kw.get("suite", "demo"))
    return Path(DirectoryStore(store).write(fingerprint, suite, data).location)


def test_check_results_within_limits(invoke: Invoke, tmp_path: Path) -> None:
    store_baseline(tmp_path / "store")
    _, head = files(tmp_path, 1.01)
    result = invoke(
        "check", "--results", head, "--store", tmp_path / "store", "--output-dir", tmp_path / "m"
    )
    assert result.code == 0, result.text
    assert "Performance within acceptable limits" in result.last_line
    assert len(list((tmp_path / "m" / "reports").iterdir())) == 1


def test_check_results_regression(invoke: Invoke, tmp_path: Path) -> None:
    store_baseline(tmp_path / "store")
    _, head = files(tmp_path, 1.4)
    result = invoke("check", "--results", head, "--store", tmp_path / "store")
    assert result.code == 1
    assert result.last_line.startswith("Performance regression > 10% detected")
    assert "calc.sum" in result.last_line
    # The default output directory is ./metrics.
    assert (tmp_path / "metrics" / "summary.md").is_file()
    assert "not measured again" in result.text


def test_check_one_process_head_is_inconclusive_and_strict_fails_it(
    invoke: Invoke, tmp_path: Path
) -> None:
    """One worker process in the check gives no spread: inconclusive (exit 0), never a
    regression, however slow it looks; --strict turns that into exit 1."""
    store_baseline(tmp_path / "store")
    head = write_suite(tmp_path / "head.json", make_suite({"calc.sum": [[1.5]]}))
    result = invoke("check", "--results", head, "--store", tmp_path / "store")
    assert result.code == 0, result.text
    assert "inconclusive" in result.last_line
    assert "Performance within acceptable limits" in result.last_line

    strict = invoke("check", "--results", head, "--store", tmp_path / "store", "--strict")
    assert strict.code == 1, strict.text
    assert "(--strict)" in strict.last_line
    assert "inconclusive" in strict.last_line


def test_check_threshold_from_environment_and_config(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_baseline(tmp_path / "store")
    _, head = files(tmp_path, 1.4)
    monkeypatch.setenv("PERFAGENT_STORE", str(tmp_path / "store"))
    (tmp_path / "perfagent.toml").write_text("threshold = 50\n")
    assert invoke("check", "--results", head).code == 0
    monkeypatch.setenv("PERFAGENT_THRESHOLD", "20")
    result = invoke("check", "--results", head)
    assert result.code == 1
    assert "Performance regression > 20% detected" in result.last_line
    # A checkout's per-benchmark thresholds only tighten the gate (issue 11)...
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"calc.*" = 45\n')
    monkeypatch.delenv("PERFAGENT_THRESHOLD")
    assert invoke("check", "--results", head).code == 1
    # ...an explicit (trusted) config may loosen it.
    (tmp_path / "trusted.toml").write_text('[thresholds]\n"calc.*" = 45\n')
    monkeypatch.setenv("PERFAGENT_CONFIG", str(tmp_path / "trusted.toml"))
    assert invoke("check", "--results", head).code == 0


def test_check_without_a_baseline_exits_3_naming_fingerprint_and_nearest(
    invoke: Invoke, tmp_path: Path
) -> None:
    other = {**HARDWARE, "boost": "on", "governor": "schedutil"}
    store_baseline(tmp_path / "store", fingerprint="ffffffffffff", hardware=other)
    _, head = files(tmp_path)
    result = invoke("check", "--results", head, "--store", tmp_path / "store")
    assert result.code == 3
    line = result.last_line
    assert f"no baseline for fingerprint {FINGERPRINT} and suite 'demo'" in line
    assert "nearest stored baseline: fingerprint ffffffffffff" in line
    assert "governor: schedutil (stored) vs performance (here)" in line
    assert "boost: on (stored) vs off (here)" in line


def test_check_with_an_empty_store_exits_3(invoke: Invoke, tmp_path: Path) -> None:
    _, head = files(tmp_path)
    result = invoke("check", "--results", head, "--store", tmp_path / "empty")
    assert result.code == 3
    assert "holds no baseline of suite 'demo'" in result.last_line


def test_check_baseline_of_another_metric_exits_3(invoke: Invoke, tmp_path: Path) -> None:
    store_baseline(tmp_path / "store", metric="instructions")
    _, head = files(tmp_path)
    result = invoke("check", "--results", head, "--store", tmp_path / "store")
    assert result.code == 3
    assert "measures 'instructions', this check 'time'" in result.last_line


@pytest.mark.parametrize("case", ["empty", "truncated", "corrupt", "foreign"])
def test_check_corrupt_baseline_exits_2_naming_it(
    invoke: Invoke, tmp_path: Path, case: str
) -> None:
    current = store_baseline(tmp_path / "store")
    current.write_bytes(BAD_FILES[case])  # type: ignore[arg-type]
    _, head = files(tmp_path)
    result = invoke("check", "--results", head, "--store", tmp_path / "store")
    assert result.code == 2
    assert str(current) in result.last_line
    assert "Traceback" not in result.text


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_check_bad_results_file_exits_2_naming_it(
    invoke: Invoke, tmp_path: Path, case: str
) -> None:
    store_baseline(tmp_path / "store")
    bad = tmp_path / f"{case}.json"
    if BAD_FILES[case] is not None:
        bad.write_bytes(BAD_FILES[case])  # type: ignore[arg-type]
    result = invoke("check", "--results", bad, "--store", tmp_path / "store")
    assert result.code == 2
    assert str(bad) in result.last_line


@pytest.mark.parametrize(
    ("args", "env", "config", "named"),
    [
        (["--threshold", "ten"], {}, None, "--threshold"),
        ([], {"PERFAGENT_THRESHOLD": "ten"}, None, "PERFAGENT_THRESHOLD"),
        ([], {}, 'threshold = "ten"\n', "perfagent.toml"),
        (["--threshold", "-5"], {}, None, "--threshold"),
        ([], {}, '[thresholds]\n"calc.*" = "x"\n', "thresholds"),
    ],
)
def test_bad_threshold_exits_2_naming_the_setting(
    invoke: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    config: str | None,
    named: str,
) -> None:
    store_baseline(tmp_path / "store")
    _, head = files(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if config is not None:
        (tmp_path / "perfagent.toml").write_text(config)
    result = invoke("check", "--results", head, "--store", tmp_path / "store", *args)
    assert result.code == 2
    assert named in result.text
    assert "Traceback" not in result.text


def test_check_unwritable_output_dir_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    store_baseline(tmp_path / "store")
    _, head = files(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke(
        "check", "--results", head, "--store", tmp_path / "store", "--output-dir", blocker / "m"
    )
    assert result.code == 2
    assert str(blocker / "m") in result.last_line


def test_check_missing_suite_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("check", "--suite", tmp_path / "no-suite", "--store", tmp_path / "store")
    assert result.code == 2
    assert str(tmp_path / "no-suite") in result.last_line


# --- check on this machine, stopped before measuring --------------------------------


def machine_baseline(store: Path, metric: str = "time") -> Path:
    """A synthetic baseline filed under this machine's fingerprint for the slowable suite."""
    fingerprint = collect()
    suite = make_suite(
        {"slowable.work": [[1e-3, 1e-3]], "slowable.steady": [[1e-3, 1e-3]]},
        fingerprint=fingerprint.id,
        hardware=fingerprint.hardware,
        suite="slowable",
        metric=metric,
    )
    return Path(DirectoryStore(store).write(fingerprint.id, "slowable", suite).location)


def test_check_unknown_benchmark_pattern_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    machine_baseline(tmp_path / "store")
    result = invoke("check", "--suite", SLOWABLE, "--store", tmp_path / "store", "-b", "nope")
    assert result.code == 2
    assert "'nope' matches nothing" in result.last_line


def test_check_exits_3_before_measuring(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("check", "--suite", SLOWABLE, "--store", tmp_path / "store")
    assert result.code == 3
    assert collect().id in result.last_line
    assert not (tmp_path / "metrics").exists()  # nothing was run, nothing written


def test_check_metric_mismatch_exits_3_before_measuring(invoke: Invoke, tmp_path: Path) -> None:
    machine_baseline(tmp_path / "store", metric="instructions")
    result = invoke("check", "--suite", SLOWABLE, "--store", tmp_path / "store")
    assert result.code == 3
    assert "--metric instructions" in result.last_line


def test_check_unwritable_output_dir_exits_2_before_measuring(
    invoke: Invoke, tmp_path: Path
) -> None:
    machine_baseline(tmp_path / "store")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke(
        "check", "--suite", SLOWABLE, "--store", tmp_path / "store", "--output-dir", blocker / "m"
    )
    assert result.code == 2
    assert f"output directory {blocker / 'm'}" in result.last_line
    assert "slowable.work" not in result.err  # no progress line: nothing was run


# --- baseline and baselines ---------------------------------------------------------


def test_baseline_into_an_unwritable_store_exits_2_before_measuring(
    invoke: Invoke, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("baseline", "--suite", SLOWABLE, "--store", blocker / "store")
    assert result.code == 2
    assert str(blocker / "store") in result.last_line


def test_baseline_bad_runs_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("baseline", "--suite", SLOWABLE, "--runs", "0")
    assert result.code == 2
    assert "--runs" in result.text  # click's own usage error, in a box


def test_baselines_list_show_prune(invoke: Invoke, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert "No baselines" in invoke("baselines", "list", "--store", store).out
    for month in (1, 2, 3):
        suite = make_suite(
            {"calc.sum": [[1.0]]}, commit=f"commit{month}", date=f"2025-0{month}-01 00:00:00"
        )
        DirectoryStore(store).write(FINGERPRINT, "demo", suite)
    listing = invoke("baselines", "list", "--store", store, "--all")
    assert listing.code == 0
    assert FINGERPRINT in listing.out and "commit3" in listing.out and "archived" in listing.out
    as_json = json.loads(invoke("baselines", "list", "--store", store, "--json").out)
    assert [e["commit"] for e in as_json] == ["commit3"]

    shown = invoke(
        "baselines", "show", "--store", store, "--fingerprint", FINGERPRINT, "--suite", "demo"
    )
    assert shown.code == 0
    assert "calc.sum" in shown.out and "commit3" in shown.out
    missing = invoke(
        "baselines", "show", "--store", store, "--fingerprint", "000000000000", "--suite", "demo"
    )
    assert missing.code == 3

    dry = invoke("baselines", "prune", "--store", store, "--keep", "1", "--dry-run")
    assert "Would delete 1 archived baseline(s)." in dry.out
    assert len(DirectoryStore(store).entries(archived=True)) == 3
    done = invoke("baselines", "prune", "--store", store, "--before", "2025-03-01")
    assert done.code == 0
    assert [e.commit for e in DirectoryStore(store).entries(archived=True)] == ["commit3"]


def test_baselines_prune_bad_input_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("baselines", "prune", "--store", tmp_path).code == 2
    result = invoke("baselines", "prune", "--store", tmp_path, "--before", "yesterday")
    assert result.code == 2
    assert "--before" in result.text


# --- the real command line ----------------------------------------------------------


def run_perfagent(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFAGENT_")}
    return subprocess.run(
        [sys.executable, "-m", "perfagent", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subprocess_corrupt_baseline_file_no_traceback(tmp_path: Path) -> None:
    current = store_baseline(tmp_path / "store")
    current.write_text('{"version": "1.0", "benchmarks": [{"runs": [{"val')
    _, head = files(tmp_path)
    completed = run_perfagent(
        "check", "--results", head, "--store", tmp_path / "store", cwd=tmp_path
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stdout + completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("perfagent: error: ")
    assert str(current) in last and "truncated" in last


def test_subprocess_compare_regression(tmp_path: Path) -> None:
    base, head = files(tmp_path, 2.0)
    completed = run_perfagent("compare", base, head, cwd=tmp_path)
    assert completed.returncode == 1
    assert (
        completed.stdout.strip()
        .splitlines()[-1]
        .startswith("Performance regression > 10% detected")
    )
    # The results the agent reads stay readable by pyperf itself.
    pyperf_stats = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(base)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pyperf_stats.returncode == 0, pyperf_stats.stderr
    assert results.load(base).get_benchmark_names() == ["calc.sum"]
