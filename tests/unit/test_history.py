"""history.py and `perfagent history`: baseline series, change points, plots, check notes."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from perfagent import results
from perfagent.cli import app
from perfagent.errors import NoComparableBaseline, UsageError
from perfagent.judge import history, stats
from perfagent.reports import plot
from perfagent.store.directory import DirectoryStore
from synthetic_results import FINGERPRINT, make_suite, steady
from typer.testing import CliRunner

SUITE = "demo"
# 8 baselines at one level, then 4 in which a slowdown creeps in at 3% per baseline.
CREEP = [1.0] * 8 + [1.03**step for step in range(1, 5)]


def _baseline(day: int, creep: float, *, metric: str = "time") -> object:
    """One day's baseline: `grid.creeping` slows by `creep`, `grid.steady` does not."""
    return make_suite(
        {
            "grid.creeping": steady(0.010 * creep, processes=6),
            "grid.steady": steady(0.020, processes=6),
        },
        suite=SUITE,
        metric=metric,
        commit=f"{day:02d}" + "c0ffee" * 6,
        date=f"2025-03-{day:02d} 12:00:00",
    )


@pytest.fixture
def creep_store(tmp_path: Path) -> DirectoryStore:
    """A store whose history is the creep, one `perfagent baseline` per day."""
    store = DirectoryStore(tmp_path / "store")
    for day, level in enumerate(CREEP, start=1):
        store.write(FINGERPRINT, SUITE, _baseline(day, level))  # type: ignore[arg-type]
    return store


def test_every_single_gate_passed_the_creep(creep_store: DirectoryStore) -> None:
    loaded, _ = history.load_baselines(creep_store, FINGERPRINT, SUITE)
    suites = [suite for _, suite in loaded]
    for older, newer in itertools.pairwise(suites):
        comparison = stats.compare(
            results.samples_by_name(older), results.samples_by_name(newer), lambda _: 10.0
        )
        assert comparison.regressions == []


def test_history_finds_the_creep(creep_store: DirectoryStore) -> None:
    found = history.build_history(creep_store, FINGERPRINT, SUITE)
    assert len(found.baselines) == 12
    assert [b.commit[:2] for b in found.baselines if b.commit] == [f"{d:02d}" for d in range(1, 13)]
    assert not found.baselines[-1].archived
    by_name = {b.name: b for b in found.benchmarks}
    assert by_name["grid.steady"].flagged == []
    [shift] = by_name["grid.creeping"].flagged
    assert shift.position in (8, 9)
    assert shift.shift_percent > 5
    # The newest baseline is 1.03**4 - 1 = 12.6% above the flat level.
    assert shift.drift_percent == pytest.approx(12.6, abs=1.0)
    assert shift.baseline.commit == found.baselines[shift.position].commit
    assert "grid.creeping: change point at baseline" in shift.describe()


def test_recent_change_points_for_the_check(creep_store: DirectoryStore) -> None:
    [shift] = history.recent_change_points(creep_store, FINGERPRINT, SUITE, last_n=10)
    assert shift.benchmark == "grid.creeping"
    # Older than the newest two baselines: already reported by earlier checks.
    assert history.recent_change_points(creep_store, FINGERPRINT, SUITE, last_n=2) == []
    assert history.recent_change_points(creep_store, "ffffffffffff", SUITE) == []
    [note] = history.check_notes(creep_store, FINGERPRINT, SUITE)
    assert note.startswith("grid.creeping: change point")


def test_patterns_last_and_min_change(creep_store: DirectoryStore) -> None:
    only = history.build_history(creep_store, FINGERPRINT, SUITE, patterns=["creep"])
    assert [b.name for b in only.benchmarks] == ["grid.creeping"]
    with pytest.raises(UsageError, match="'nothing' matches nothing"):
        history.build_history(creep_store, FINGERPRINT, SUITE, patterns=["nothing"])
    newest = history.build_history(creep_store, FINGERPRINT, SUITE, last=4)
    assert len(newest.baselines) == 4
    lenient = history.build_history(creep_store, FINGERPRINT, SUITE, min_change_percent=50)
    assert all(b.flagged == [] for b in lenient.benchmarks)


def test_another_metric_is_left_out_of_the_series(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    store.write(FINGERPRINT, SUITE, _baseline(1, 1.0, metric="instructions"))  # type: ignore[arg-type]
    for day in (2, 3):
        store.write(FINGERPRINT, SUITE, _baseline(day, 1.0))  # type: ignore[arg-type]
    found = history.build_history(store, FINGERPRINT, SUITE)
    assert len(found.baselines) == 2
    [skipped] = found.skipped
    assert "metric 'instructions'" in skipped


def test_no_baseline_is_exit_3(tmp_path: Path) -> None:
    with pytest.raises(NoComparableBaseline, match="no baseline for fingerprint"):
        history.build_history(DirectoryStore(tmp_path), FINGERPRINT, SUITE)


def test_the_plot_is_a_png(creep_store: DirectoryStore, tmp_path: Path) -> None:
    found = history.build_history(creep_store, FINGERPRINT, SUITE)
    target = tmp_path / "plots" / "history.png"
    plot.write_plot(found, target)
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_command_json_and_plot(creep_store: DirectoryStore, tmp_path: Path) -> None:
    plot = tmp_path / "history.png"
    outcome = CliRunner().invoke(
        app,
        [
            "history",
            "--store", creep_store.location,
            "--suite", str(tmp_path / SUITE),
            "--fingerprint", FINGERPRINT,
            "--plot", str(plot),
            "--json",
        ],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert data["suite"] == SUITE
    assert len(data["baselines"]) == 12
    creeping = next(b for b in data["benchmarks"] if b["name"] == "grid.creeping")
    [change] = [c for c in creeping["change_points"] if c["flagged"]]
    assert change["position"] in (8, 9)
    assert plot.is_file()


def test_command_text(creep_store: DirectoryStore, tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        app,
        [
            "history",
            "--store", creep_store.location,
            "--suite", str(tmp_path / SUITE),
            "--fingerprint", FINGERPRINT,
        ],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert "12 baseline(s) of suite 'demo'" in outcome.stdout
    assert "grid.creeping: change point at baseline" in outcome.stdout


def test_the_check_report_mentions_the_change_point(
    creep_store: DirectoryStore, tmp_path: Path
) -> None:
    # This head measures what the newest baseline did: the gate passes...
    head = tmp_path / "head.json"
    results.write(_baseline(13, CREEP[-1]), head)  # type: ignore[arg-type]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFAGENT_")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(
        [sys.executable, "-m", "perfagent", "check", "--results", str(head),
         "--store", creep_store.location, "--output-dir", str(tmp_path / "metrics")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Performance within acceptable limits" in done.stdout.splitlines()[-1]
    # ...and the report says the level crept up over the last baselines.
    assert "note: grid.creeping: change point at baseline" in done.stdout
    [report] = (tmp_path / "metrics" / "reports").glob("performance_report_*.txt")
    assert "grid.creeping: change point at baseline" in report.read_text()
    summary = (tmp_path / "metrics" / "summary.md").read_text()
    assert "grid.creeping: change point" in summary
