"""`perfagent compare` on real pyperf files nobody here wrote, and on hostile input (issue 11).

The real files come from the installed pyperf and pyperformance packages
(tests/data/README.md); the A/A and cross-machine pairs are this project's own
small files in tests/data/. Every case asserts the exit code and the last line.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from cli_invoke import Invoke, make_invoke
from real_data import own_file, pyperf_file, pyperformance_file

OK = "Performance within acceptable limits"
REGRESSION = "Performance regression > "


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file, no PERFAGENT_* variables, no step summary: only what a test sets."""
    for name in list(os.environ):
        if name.startswith("PERFAGENT_") or name == "GITHUB_STEP_SUMMARY":
            monkeypatch.delenv(name)
    # No runner config of this machine may leak into the tests.
    monkeypatch.setenv("PERFAGENT_RUNNER_CONFIG", str(tmp_path / "no-runner-config.toml"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    return make_invoke(monkeypatch, capsys)


def edited(source: Path, target: Path, change: Any) -> Path:
    """A copy of a real file with `change(data)` applied to its JSON."""
    data = json.loads(source.read_text(encoding="utf-8"))
    change(data)
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


# --- units ---------------------------------------------------------------------------


def test_bytes_against_seconds_exits_3_naming_both_units(invoke: Invoke) -> None:
    mem, seconds = pyperformance_file("mem1.json"), pyperformance_file("py3_performance03.json")
    result = invoke("compare", seconds, mem)
    assert result.code == 3, result.text
    assert result.last_line.startswith("perfagent: error: ")
    assert "'second'" in result.last_line and "'byte'" in result.last_line
    assert "call_simple" in result.last_line
    assert "%" not in result.text.replace("10%", "")  # no ratio was printed


def test_track_memory_against_telco_exits_3_even_without_common_names(invoke: Invoke) -> None:
    result = invoke("compare", pyperf_file("telco.json"), pyperf_file("track_memory.json"))
    assert result.code == 3, result.text
    assert "'byte'" in result.last_line and "'second'" in result.last_line


def test_bytes_against_bytes_shows_bytes(invoke: Invoke) -> None:
    track = pyperf_file("track_memory.json")
    result = invoke("compare", track, track)
    assert result.code == 0, result.text
    assert "7,368,704 B" in result.text
    assert result.last_line.startswith(OK)


# --- hardware of plain pyperf files ----------------------------------------------------


def test_linux_xeon_against_macos_arm64_exits_3_field_by_field(invoke: Invoke) -> None:
    result = invoke(
        "compare", own_file("cross_linux_xeon.json"), own_file("cross_macos_arm64.json")
    )
    assert result.code == 3, result.text
    last = result.last_line
    assert "architecture: x86_64 vs arm64" in last
    assert "logical_cpus: 20 vs 8" in last
    assert "os: Linux vs macOS" in last
    assert "--ignore-hardware" in last
    assert "hostname" not in last


def test_ignore_hardware_compares_and_says_so(invoke: Invoke) -> None:
    result = invoke(
        "compare",
        own_file("cross_linux_xeon.json"),
        own_file("cross_macos_arm64.json"),
        "--ignore-hardware",
    )
    assert result.code == 1, result.text
    assert "different hardware" in result.text
    assert result.last_line.startswith(REGRESSION + "10% detected in 4 of 4 benchmarks")


def test_two_laptops_of_pyperf_exit_3(invoke: Invoke) -> None:
    # telco.json: i7-3520M, 4 CPUs; pyperformance's py36.json: i7-6820HQ, 8 CPUs.
    result = invoke("compare", pyperf_file("telco.json"), pyperformance_file("py36.json"))
    assert result.code == 3, result.text
    assert "cpu_model_name: Intel(R) Core(TM) i7-3520M" in result.last_line
    assert "logical_cpus: 4 vs 8" in result.last_line


def test_same_laptop_another_hostname_is_the_same_hardware(invoke: Invoke, tmp_path: Path) -> None:
    base = pyperf_file("mult_list_py36.json")
    renamed = edited(
        base, tmp_path / "renamed.json", lambda d: d["metadata"].update(hostname="other-name")
    )
    result = invoke("compare", base, renamed)
    assert result.code == 0, result.text
    assert result.last_line == f"{OK} (3 benchmarks, threshold 10%)"


def test_real_change_between_pythons_is_a_regression(invoke: Invoke) -> None:
    result = invoke(
        "compare", pyperf_file("mult_list_py36.json"), pyperf_file("mult_list_py37.json")
    )
    assert result.code == 1, result.text
    assert result.last_line.startswith(REGRESSION + "10% detected in 2 of 3 benchmarks")
    assert "[1,2]*1000 (+42.6%)" in result.last_line or "[1,2]*1000 (+42.5%)" in result.last_line


def test_real_speed_up_is_faster(invoke: Invoke) -> None:
    result = invoke("compare", pyperformance_file("py36.json"), pyperformance_file("py38.json"))
    assert result.code == 0, result.text
    assert "faster" in result.text
    assert result.last_line == f"{OK} (1 benchmark, threshold 10%)"


def test_fingerprinted_against_plain_compares_the_common_fields(invoke: Invoke) -> None:
    result = invoke("compare", own_file("aa_base.json"), own_file("cross_linux_xeon.json"))
    assert result.code == 0, result.text
    assert "compared on the fields both files record" in result.text
    assert "architecture, cpu_model_name, logical_cpus" in result.text
    assert result.last_line == f"{OK} (4 benchmarks, threshold 10%)"


def test_fingerprinted_against_plain_other_machine_exits_3(invoke: Invoke) -> None:
    result = invoke("compare", own_file("aa_base.json"), own_file("cross_macos_arm64.json"))
    assert result.code == 3, result.text
    assert "architecture: x86_64 vs arm64" in result.last_line


# --- no spread, no verdict ---------------------------------------------------------------


def test_one_process_per_side_is_inconclusive_exit_0(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "compare",
        pyperformance_file("mem1.json"),
        pyperformance_file("mem2.json"),
        "--output-dir",
        out,
    )
    assert result.code == 0, result.text
    assert "call_simple: inconclusive: one worker process" in result.text
    assert result.last_line == (
        f"{OK} (1 benchmark, threshold 10%; 1 inconclusive: too few worker processes)"
    )
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "inconclusive" in summary and "one worker process" in summary
    analysis = json.loads(next((out / "analysis").glob("*.json")).read_text(encoding="utf-8"))
    bench = analysis["benchmarks"][0]
    assert bench["verdict"] == "inconclusive"
    assert "one worker process" in bench["reason"]
    assert bench["ci_low"] is None and bench["ci_high"] is None  # a point says nothing
    assert analysis["exit_code"] == 0


def test_strict_makes_inconclusive_exit_1(invoke: Invoke) -> None:
    result = invoke(
        "compare", pyperformance_file("mem1.json"), pyperformance_file("mem2.json"), "--strict"
    )
    assert result.code == 1, result.text
    assert result.last_line == (
        "Performance not established (--strict): 1 of 1 benchmark inconclusive, "
        "too few worker processes: call_simple (threshold 10%)"
    )


def test_pyperf_timeit_one_process_aa_is_inconclusive(invoke: Invoke, tmp_path: Path) -> None:
    made = []
    for name in ("a.json", "b.json"):
        path = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "pyperf", "timeit", "-p", "1", "-n", "5", "-l", "1000",
             "-q", "-o", str(path), "sum(range(50))"],
            check=True, capture_output=True,
        )  # fmt: skip
        made.append(path)
    result = invoke("compare", *made)
    assert result.code == 0, result.text
    assert "inconclusive" in result.last_line


# --- drift that nothing estimated -------------------------------------------------------


def aa_store(root: Path) -> Path:
    """A directory store holding the four earlier baselines of the A/A machine and suite."""
    suite_dir = root / "0f1e2d3c4b5a" / "pyperformance"
    archive = suite_dir / "archive"
    archive.mkdir(parents=True)
    for index in range(1, 4):
        shutil.copy(
            own_file(f"aa_history_{index}.json"),
            archive / f"2024040{index}T000000Z_00000{index - 1}a.json",
        )
    shutil.copy(own_file("aa_history_4.json"), suite_dir / "current.json")
    return root


def test_aa_without_history_says_drift_was_not_estimated(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(
        "compare",
        own_file("aa_base.json"),
        own_file("aa_head.json"),
        "--threshold",
        "5",
        "--store",
        tmp_path / "empty-store",
    )
    assert "drift between runs: not estimated" in result.text
    assert result.code == 1, result.text
    assert result.last_line.startswith(REGRESSION + "5% detected in 2 of 8 benchmarks: nbody")


def test_aa_with_the_stores_history_is_within_limits(invoke: Invoke, tmp_path: Path) -> None:
    store = aa_store(tmp_path / "store")
    result = invoke(
        "compare",
        own_file("aa_base.json"),
        own_file("aa_head.json"),
        "--threshold",
        "5",
        "--store",
        store,
    )
    assert result.code == 0, result.text
    assert "drift between runs: from the store's history (4 stored baselines" in result.text
    assert result.last_line == f"{OK} (8 benchmarks, threshold 5%)"


def test_drift_source_of_a_comparison_with_runs(invoke: Invoke) -> None:
    result = invoke("compare", pyperformance_file("py36.json"), pyperformance_file("py38.json"))
    assert "drift between runs: not estimated" in result.text


# --- other mismatches ---------------------------------------------------------------------


def test_different_timeit_statement_exits_3(invoke: Invoke, tmp_path: Path) -> None:
    base = pyperf_file("mult_list_py36.json")

    def change(data: dict[str, Any]) -> None:
        data["benchmarks"][0]["metadata"]["timeit_stmt"] = "'[1]*2000'"

    head = edited(base, tmp_path / "other_stmt.json", change)
    result = invoke("compare", base, head)
    assert result.code == 3, result.text
    assert "timeit_stmt" in result.last_line and "[1]*1000" in result.last_line


def test_performance_version_and_loops_are_warned(invoke: Invoke) -> None:
    result = invoke(
        "compare", pyperf_file("telco.json"), pyperformance_file("py36.json"), "--ignore-hardware"
    )
    assert result.code == 0, result.text
    assert "performance_version: 0.3.3 vs 1.0.1" in result.text
    assert "loops: 8 vs 16" in result.text
    assert result.last_line == f"{OK} (1 benchmark, threshold 10%)"


def test_inner_loops_difference_is_warned(invoke: Invoke, tmp_path: Path) -> None:
    base = pyperf_file("mult_list_py36.json")
    head = edited(base, tmp_path / "inner.json", lambda d: d["metadata"].update(inner_loops=512))
    result = invoke("compare", base, head)
    assert "inner_loops: 1024 vs 512" in result.text
    assert result.code == 0, result.text
    assert result.last_line.startswith(OK)


# --- big suites ---------------------------------------------------------------------------


def big_suite(path: Path, factors: dict[str, float]) -> Path:
    benchmarks = []
    for name, factor in factors.items():
        runs = [
            {"values": [factor * (1.0 + 0.001 * ((i + j) % 3 - 1)) for j in range(3)]}
            for i in range(6)
        ]
        benchmarks.append({"metadata": {"name": name}, "runs": runs})
    data = {"version": "1.0", "metadata": {"unit": "second"}, "benchmarks": benchmarks}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def big_pair(tmp_path: Path) -> tuple[Path, Path]:
    names = [f"suite.module_{i:03d}.a_rather_long_benchmark_name_{i:03d}_end" for i in range(100)]
    base = big_suite(tmp_path / "base.json", dict.fromkeys(names, 1.0))
    head_factors = {n: (1.2 + i / 1000 if i < 40 else 1.0) for i, n in enumerate(names)}
    head = big_suite(tmp_path / "head.json", head_factors)
    return base, head


def test_big_suite_table_sorted_collapsed_and_bounded(invoke: Invoke, tmp_path: Path) -> None:
    base, head = big_pair(tmp_path)
    result = invoke("compare", base, head)
    assert result.code == 1, result.text
    last = result.last_line
    assert last.startswith(REGRESSION + "10% detected in 40 of 100 benchmarks")
    assert last.endswith("and 35 more")
    assert len(last) < 400
    # The worst first: benchmark 039 has the largest change.
    assert last.index("_039_") < last.index("_038_")
    assert "60 benchmarks the same (--all lists them)" in result.text
    assert "Geometric mean of ratios:" in result.text
    assert "module_050" not in result.text


def test_big_suite_all_lists_every_row(invoke: Invoke, tmp_path: Path) -> None:
    base, head = big_pair(tmp_path)
    result = invoke("compare", base, head, "--all")
    assert result.code == 1
    assert "module_050" in result.text
    assert "benchmarks the same (--all" not in result.text


def test_names_stay_readable_in_60_columns(tmp_path: Path) -> None:
    base, head = big_pair(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFAGENT_")}
    env.update(COLUMNS="60", PERFAGENT_RUNNER_CONFIG=str(tmp_path / "none.toml"))
    completed = subprocess.run(
        [sys.executable, "-m", "perfagent", "compare", str(base), str(head)],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert completed.returncode == 1, completed.stderr
    lines = completed.stdout.splitlines()
    rows = [line for line in lines if line.rstrip().endswith("regression")]
    assert len(rows) == 40, completed.stdout
    assert all(len(line) <= 60 for line in rows)
    # Each regressed name keeps its start and its end (the middle is cut, never all of it).
    assert all("suite." in row and "_end" in row for row in rows)


# --- hostile input ------------------------------------------------------------------------


def one_value_file(path: Path, value: str) -> Path:
    runs = ",".join(f'{{"values": [{value}, {value}]}}' for _ in range(3))
    path.write_text(
        '{"version": "1.0", "metadata": {"unit": "second"}, '
        f'"benchmarks": [{{"metadata": {{"name": "x"}}, "runs": [{runs}]}}]}}',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("value", "says"),
    [("Infinity", "not finite"), ("1e308", "out of range"), ("5e-324", "out of range")],
)
def test_absurd_values_exit_2_naming_the_file(
    invoke: Invoke, tmp_path: Path, value: str, says: str
) -> None:
    good = one_value_file(tmp_path / "good.json", "0.5")
    bad = one_value_file(tmp_path / "bad.json", value)
    result = invoke("compare", good, bad)
    assert result.code == 2, result.text
    assert result.last_line.startswith(f"perfagent: error: {bad}")
    assert says in result.last_line


def test_gzip_bomb_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    good = one_value_file(tmp_path / "good.json", "0.5")
    bomb = tmp_path / "bomb.json.gz"
    squeeze = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: a gzip stream
    chunk = b" " * (1 << 20)
    with bomb.open("wb") as handle:
        for _ in range(300):
            handle.write(squeeze.compress(chunk))
        handle.write(squeeze.flush())
    assert bomb.stat().st_size < 2_000_000
    result = invoke("compare", good, bomb)
    assert result.code == 2, result.text
    assert result.last_line.startswith(f"perfagent: error: {bomb}")
    assert "decompresses to more than" in result.last_line


def test_gzip_file_within_bounds_loads(invoke: Invoke, tmp_path: Path) -> None:
    good = one_value_file(tmp_path / "good.json", "0.5")
    packed = tmp_path / "packed.json.gz"
    packed.write_bytes(gzip.compress(good.read_bytes()))
    assert invoke("compare", good, packed).code == 0


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("threshold = true\n", "'threshold'"),
        ("threshold = [1, 2]\n", "'threshold'"),
        ("suite = { a = 1 }\n", "'suite'"),
        ('[thresholds]\n"x*" = true\n', "thresholds"),
        ("processes = 2.5\n", "'processes'"),
    ],
)
def test_bad_config_types_exit_2(invoke: Invoke, tmp_path: Path, toml: str, says: str) -> None:
    (tmp_path / "perfagent.toml").write_text(toml, encoding="utf-8")
    good = one_value_file(tmp_path / "good.json", "0.5")
    result = invoke("compare", good, good)
    assert result.code == 2, result.text
    assert result.last_line.startswith("perfagent: error: ")
    assert "perfagent.toml" in result.last_line and says in result.last_line


def test_non_utf8_config_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_bytes(b'suite = "caf\xe9"\n')
    good = one_value_file(tmp_path / "good.json", "0.5")
    result = invoke("compare", good, good)
    assert result.code == 2, result.text
    assert "perfagent.toml" in result.last_line and "UTF-8" in result.last_line


def test_pyproject_tool_not_a_table_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 5\n", encoding="utf-8")
    good = one_value_file(tmp_path / "good.json", "0.5")
    result = invoke("compare", good, good)
    assert result.code == 2, result.text
    assert "pyproject.toml" in result.last_line and "[tool]" in result.last_line


# --- settings a pull request cannot change ----------------------------------------------


def slowed_pair(tmp_path: Path, factor: float) -> tuple[Path, Path]:
    base = big_suite(tmp_path / "base.json", {"calc.sum": 1.0, "io.read": 1.0})
    head = big_suite(tmp_path / "head.json", {"calc.sum": factor, "io.read": 1.0})
    return base, head


def test_checked_out_thresholds_cannot_loosen_the_gate(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"*" = 50\n', encoding="utf-8")
    base, head = slowed_pair(tmp_path, 1.3)
    result = invoke("compare", base, head, "--threshold", "10")
    assert result.code == 1, result.text
    assert "only tighten" in result.text
    assert result.last_line.startswith(REGRESSION + "10% detected in 1 of 2 benchmarks: calc.sum")


def test_checked_out_thresholds_may_tighten(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"calc.*" = 5\n', encoding="utf-8")
    base, head = slowed_pair(tmp_path, 1.07)
    result = invoke("compare", base, head)
    assert result.code == 1, result.text
    assert result.last_line.startswith(REGRESSION + "5% detected in 1 of 2 benchmarks")
    assert "thresholds in effect: 10%; calc.* 5%" in result.last_line


def test_explicit_config_may_loosen(invoke: Invoke, tmp_path: Path) -> None:
    trusted = tmp_path / "runner.toml"
    trusted.write_text('[thresholds]\n"calc.*" = 50\n', encoding="utf-8")
    base, head = slowed_pair(tmp_path, 1.3)
    result = invoke("compare", base, head, "--config", trusted)
    assert result.code == 0, result.text
    assert result.last_line == (f"{OK} (2 benchmarks, thresholds in effect: 10%; calc.* 50%)")


def test_runner_config_may_loosen(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = tmp_path / "etc-perfagent.toml"
    runner.write_text('[thresholds]\n"calc.*" = 50\n', encoding="utf-8")
    monkeypatch.setenv("PERFAGENT_RUNNER_CONFIG", str(runner))
    (tmp_path / "perfagent.toml").write_text('[thresholds]\n"calc.*" = 80\n', encoding="utf-8")
    base, head = slowed_pair(tmp_path, 1.3)
    result = invoke("compare", base, head)
    assert result.code == 0, result.text
    assert result.last_line.endswith("thresholds in effect: 10%; calc.* 50%)")


def test_flag_and_environment_win_over_the_file(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "perfagent.toml").write_text("threshold = 50\n", encoding="utf-8")
    base, head = slowed_pair(tmp_path, 1.3)
    monkeypatch.setenv("PERFAGENT_THRESHOLD", "20")
    result = invoke("compare", base, head)
    assert result.code == 1, result.text
    assert result.last_line.startswith(REGRESSION + "20% detected")
    result = invoke("compare", base, head, "--threshold", "40")
    assert result.code == 0, result.text
    assert result.last_line == f"{OK} (2 benchmarks, threshold 40%)"


def test_baselines_prune_on_a_read_only_store_exits_2(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = aa_store(tmp_path / "store")
    import errno

    from perfagent.store import directory

    class ReadOnlyLock:
        """filelock on a read-only file system: opening the lock file fails with EROFS."""

        def __init__(self, path: str, timeout: float) -> None:
            self.path = path

        def acquire(self) -> None:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), self.path)

        def release(self) -> None:  # pragma: no cover - never acquired
            pass

    monkeypatch.setattr(directory, "FileLock", ReadOnlyLock)
    result = invoke("baselines", "prune", "--keep", "0", "--store", store)
    assert result.code == 2, result.text
    assert result.last_line.startswith(f"perfagent: error: baseline store {store}: cannot lock")
    assert "Read-only file system" in result.last_line
    assert len(list((store / "0f1e2d3c4b5a" / "pyperformance" / "archive").iterdir())) == 3


# --- the store refuses symlinks --------------------------------------------------------


def test_check_refuses_a_current_baseline_symlinked_to_a_secret(
    invoke: Invoke, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    shutil.copy(own_file("aa_base.json"), secret)
    suite_dir = tmp_path / "store" / "0f1e2d3c4b5a" / "pyperformance"
    suite_dir.mkdir(parents=True)
    (suite_dir / "current.json").symlink_to(secret)
    result = invoke("check", "--results", own_file("aa_head.json"), "--store", tmp_path / "store")
    assert result.code == 2, result.text
    assert "current.json is a symbolic link" in result.last_line


def test_baselines_list_refuses_an_archive_symlinked_outside(
    invoke: Invoke, tmp_path: Path
) -> None:
    store = aa_store(tmp_path / "store")
    outside = tmp_path / "outside"
    archive = store / "0f1e2d3c4b5a" / "pyperformance" / "archive"
    shutil.move(archive, outside)
    archive.symlink_to(outside)
    result = invoke("baselines", "list", "--all", "--store", store)
    assert result.code == 2, result.text
    assert "archive is a symbolic link" in result.last_line


def test_check_uses_the_stores_history_for_a_one_run_baseline(
    invoke: Invoke, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    suite_dir = store / "0f1e2d3c4b5a" / "pyperformance"
    (suite_dir / "archive").mkdir(parents=True)
    shutil.copy(own_file("aa_base.json"), suite_dir / "current.json")
    args = ("check", "--results", own_file("aa_head.json"), "--store", store, "--threshold", "5")
    alone = invoke(*args)
    assert alone.code == 1, alone.text
    assert "drift between runs: not estimated" in alone.text
    for index in range(1, 5):
        shutil.copy(
            own_file(f"aa_history_{index}.json"),
            suite_dir / "archive" / f"2024040{index}T000000Z_00000{index - 1}a.json",
        )
    helped = invoke(*args)
    assert helped.code == 0, helped.text
    assert "drift between runs: from the store's history (5 stored baselines" in helped.text
    assert helped.last_line == f"{OK} (8 benchmarks, threshold 5%)"


def test_compare_goes_on_without_a_refused_store(invoke: Invoke, tmp_path: Path) -> None:
    store = aa_store(tmp_path / "store")
    current = store / "0f1e2d3c4b5a" / "pyperformance" / "current.json"
    current.unlink()
    current.symlink_to(own_file("aa_history_4.json"))
    result = invoke("compare", own_file("aa_base.json"), own_file("aa_head.json"), "--store", store)
    assert result.code == 0, result.text
    said = " ".join(result.text.split())  # notes wrap at the console's width
    assert "the store's history was not used" in said
    assert "current.json is a symbolic link" in said
    assert result.last_line == f"{OK} (8 benchmarks, threshold 10%)"


def test_checkout_cannot_loosen_the_runners_threshold(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = tmp_path / "etc-perfagent.toml"
    runner.write_text("threshold = 10\n", encoding="utf-8")
    monkeypatch.setenv("PERFAGENT_RUNNER_CONFIG", str(runner))
    (tmp_path / "perfagent.toml").write_text("threshold = 900\n", encoding="utf-8")
    base, head = slowed_pair(tmp_path, 1.3)
    result = invoke("compare", base, head)
    assert result.code == 1, result.text
    assert "threshold = 900% in config file" in " ".join(result.text.split())
    assert result.last_line.startswith(REGRESSION + "10% detected in 1 of 2 benchmarks")
