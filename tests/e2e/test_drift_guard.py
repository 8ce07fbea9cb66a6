"""The machine drift guard, end to end: the machine slows, the code does not.

The reference workload's test hook (PERFAGENT_TEST_REFERENCE_SLOWDOWN) makes only the
reference slower in the check's worker processes: what a busier host or a lower
clock would do to it. The check must then say the machine changed and exit 3, not
call the code's change a regression.
"""

from __future__ import annotations

import json
from pathlib import Path

from gate_helpers import clean_env, copy_suite, last_line, perfagent, slow_down

# The machine's slowdown for the guard to see. The reference's interval counts the
# baseline's between-run spread with few degrees of freedom: with a two-run baseline
# (t at 1 df) a 10x and even a 40x slowdown fell inside it on the quiet CI machine, so
# the baseline here has three runs, and the slowdown is far beyond the interval.
MACHINE_SLOWDOWN = "40"


def _baseline(suite: Path, store: Path) -> None:
    done = perfagent(
        "baseline", "--suite", suite, "--store", store, "--runs", "3", cwd=suite.parent
    )
    assert done.returncode == 0, done.stderr


def _check(suite: Path, store: Path, out: Path, *extra: str, **env: str):  # type: ignore[no-untyped-def]
    return perfagent(
        "check", "--suite", suite, "--store", store, "--output-dir", out, "--threshold", "50",
        *extra, cwd=suite.parent, env=clean_env(**env),
    )  # fmt: skip


def test_a_slower_machine_is_not_a_regression(tmp_path: Path) -> None:
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    _baseline(suite, store)
    done = _check(
        suite, store, tmp_path / "out", PERFAGENT_TEST_REFERENCE_SLOWDOWN=MACHINE_SLOWDOWN
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the machine changed between the baseline and this check" in last_line(done) or (
        "the machine changed" in done.stdout
    )
    [analysis] = (tmp_path / "out" / "analysis").glob("regression_check_*.json")
    document = json.loads(analysis.read_text())
    assert document["exit_code"] == 3
    assert document["machine_drift"]["moved"] is True
    assert document["machine_drift"]["verdict_withheld"] is True
    assert document["machine_drift"]["ratio"] > 2
    assert "perfagent.reference" not in {b["name"] for b in document["benchmarks"]}


def test_accept_drift_judges_the_code_anyway(tmp_path: Path) -> None:
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    _baseline(suite, store)
    done = _check(
        suite,
        store,
        tmp_path / "out",
        "--accept-drift",
        PERFAGENT_TEST_REFERENCE_SLOWDOWN=MACHINE_SLOWDOWN,
    )
    # Judged, not withheld: 0 here, or 1 should this loaded test machine fake a slowdown.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "judged anyway (--accept-drift)" in done.stdout


def test_a_code_regression_beyond_the_drift_still_fails(tmp_path: Path) -> None:
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    _baseline(suite, store)
    slow_down(suite, 20)  # the code: 20x the work
    done = _check(suite, store, tmp_path / "out", PERFAGENT_TEST_REFERENCE_SLOWDOWN="1.5")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "slowable.work" in last_line(done)


def test_the_store_history_lets_a_two_run_baseline_see_the_machine_slow(
    tmp_path: Path,
) -> None:
    # Alone, a two-run baseline gives the reference's interval one degree of freedom
    # between runs (see MACHINE_SLOWDOWN); three stored baselines of two runs give the
    # store's history five, and a fourfold slowdown of the machine stands out.
    suite, store = copy_suite(tmp_path), tmp_path / "store"
    for _ in range(3):
        done = perfagent(
            "baseline", "--suite", suite, "--store", store, "--runs", "2", "--force",
            cwd=suite.parent,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    done = _check(suite, store, tmp_path / "out", PERFAGENT_TEST_REFERENCE_SLOWDOWN="4")
    assert done.returncode == 3, done.stdout + done.stderr
    [analysis] = (tmp_path / "out" / "analysis").glob("regression_check_*.json")
    drift = json.loads(analysis.read_text())["machine_drift"]
    assert drift["moved"] is True
    assert drift["noise_source"] == "the store's history"
    assert "run-to-run noise from the store's history" in done.stdout
