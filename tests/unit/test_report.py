"""report.py: the check's artifacts, the step summary, the console verdict and last line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from perfagent import results
from perfagent.errors import UsageError
from perfagent.judge.stats import Comparison, compare
from perfagent.reports import report
from perfagent.reports.report import Outcome, Side
from rich.console import Console
from synthetic_results import SOFTWARE, make_suite

WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def comparison(head_level: float = 1.0, threshold: float = 10.0) -> Comparison:
    base = make_suite({"calc.sum": [[1.0, 1.001, 0.999]], "io.read": [[2.0, 2.002, 1.998]]})
    head = make_suite(
        {
            "calc.sum": [[head_level, head_level * 1.001, head_level * 0.999]],
            "io.read": [[2.0, 2.002, 1.998]],
            "new.one": [[1.0, 1.0]],
        }
    )
    return compare(
        results.samples_by_name(base), results.samples_by_name(head), lambda _name: threshold
    )


def outcome(head_level: float = 1.0, **kw: object) -> Outcome:
    fields: dict[str, object] = {
        "comparison": comparison(head_level),
        "threshold": 10.0,
        "metric": "time",
        "suite": "demo",
        "fingerprint": "a1b2c3d4e5f6",
        "base": Side("baseline", "store/a1b2c3d4e5f6/demo/current.json", "base123", 3),
        "head": Side("current", "this run", "head456", 1),
        "timestamp": WHEN,
    }
    fields.update(kw)
    return Outcome(**fields)  # type: ignore[arg-type]


def test_final_line_when_nothing_regressed() -> None:
    line = report.final_line(outcome(1.0))
    assert line.startswith("Performance within acceptable limits")
    assert "threshold 10%" in line


def test_final_line_names_the_regression_and_the_threshold() -> None:
    result = outcome(1.5)
    line = report.final_line(result)
    assert line.startswith("Performance regression > 10% detected")
    assert "calc.sum (+50.0%)" in line
    assert result.exit_code == 1


def test_final_line_with_another_threshold() -> None:
    result = outcome(1.5, comparison=comparison(1.5, threshold=25.0), threshold=25.0)
    assert report.final_line(result).startswith("Performance regression > 25% detected")


def test_artifacts_have_the_design_names_and_content(tmp_path: Path) -> None:
    head = make_suite({"calc.sum": [[1.5]]})
    artifacts = report.write_artifacts(outcome(1.5), tmp_path, head, environ={})
    stamp = "20250304_050607"
    assert artifacts.report == tmp_path / "reports" / f"performance_report_{stamp}.txt"
    assert artifacts.export == tmp_path / "exports" / f"performance_export_{stamp}.csv"
    assert artifacts.analysis == tmp_path / "analysis" / f"regression_check_{stamp}.json"
    assert artifacts.results == tmp_path / "results" / f"benchmarks_{stamp}.json"
    assert artifacts.summary == tmp_path / "summary.md"
    assert artifacts.step_summary is None
    for path in artifacts.paths():
        assert path.is_file()

    text = artifacts.report.read_text()
    assert "calc.sum: REGRESSION" in text
    assert "new.one: NEW" in text
    assert text.rstrip().splitlines()[-1].startswith("Performance regression > 10% detected")

    rows = list(csv.DictReader(io.StringIO(artifacts.export.read_text())))
    assert [r["benchmark"] for r in rows] == ["calc.sum", "io.read", "new.one"]
    calc = rows[0]
    assert calc["verdict"] == "regression"
    assert float(calc["ratio"]) == pytest.approx(1.5)
    assert float(calc["baseline_mean"]) == pytest.approx(1.0)
    assert float(calc["current_mean"]) == pytest.approx(1.5)
    assert calc["baseline_processes"] == "3"
    assert float(calc["ci_low"]) <= 1.5 <= float(calc["ci_high"])
    assert rows[2]["verdict"] == "new"

    data = json.loads(artifacts.analysis.read_text())
    assert data["regression_detected"] is True
    assert data["exit_code"] == 1
    assert data["threshold_pct"] == 10.0
    assert data["message"].startswith("Performance regression > 10% detected")
    assert data["benchmarks"][0]["name"] == "calc.sum"
    assert data["benchmarks"][0]["verdict"] == "regression"
    assert data["only_in_current"] == ["new.one"]
    assert data["current"]["results_file"] == str(artifacts.results)

    # The raw results are pyperf JSON again.
    assert results.load(artifacts.results).get_benchmark_names() == ["calc.sum"]

    summary = artifacts.summary.read_text()
    assert "| `calc.sum` |" in summary
    assert "**regression**" in summary


def test_step_summary_is_appended(tmp_path: Path) -> None:
    step = tmp_path / "step_summary.md"
    step.write_text("earlier step\n")
    environ = {"GITHUB_STEP_SUMMARY": str(step)}
    report.write_artifacts(outcome(1.0), tmp_path / "out", None, environ=environ)
    report.write_artifacts(outcome(1.0), tmp_path / "out", None, environ=environ)
    text = step.read_text()
    assert text.startswith("earlier step\n")
    assert text.count("### :white_check_mark: Performance check: demo") == 2


def test_an_unwritable_step_summary_is_a_warning_not_an_error(tmp_path: Path) -> None:
    environ = {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing-dir" / "summary.md")}
    artifacts = report.write_artifacts(outcome(1.5), tmp_path / "out", None, environ=environ)
    assert artifacts.step_summary is None
    assert len(artifacts.warnings) == 1
    assert "GITHUB_STEP_SUMMARY" in artifacts.warnings[0]
    assert artifacts.report.is_file()


def test_same_second_checks_do_not_overwrite_each_other(tmp_path: Path) -> None:
    first = report.write_artifacts(outcome(1.0), tmp_path, None, environ={})
    second = report.write_artifacts(outcome(1.0), tmp_path, None, environ={})
    assert first.report != second.report
    assert first.report.is_file() and second.report.is_file()


def test_software_differences_are_noted_everywhere(tmp_path: Path) -> None:
    newer = {**SOFTWARE, "kernel": "6.9.0", "packages": {**SOFTWARE["packages"], "numpy": "2.1.0"}}
    changes = report.software_changes(SOFTWARE, newer)
    assert changes == [("kernel", "6.1.0-test", "6.9.0"), ("packages.numpy", "2.0.0", "2.1.0")]
    result = outcome(1.0, software_changes=changes)
    artifacts = report.write_artifacts(result, tmp_path, None, environ={})
    assert "packages.numpy: 2.0.0 -> 2.1.0" in artifacts.report.read_text()
    assert "`kernel`: 6.1.0-test → 6.9.0" in artifacts.summary.read_text()
    data = json.loads(artifacts.analysis.read_text())
    assert {"field": "packages.numpy", "baseline": "2.0.0", "current": "2.1.0"} in data[
        "software_changes"
    ]
    console = Console(file=io.StringIO(), width=100)
    report.print_outcome(result, console)
    assert "software differs from the baseline's: kernel" in console.file.getvalue()  # type: ignore[attr-defined]


def test_software_changes_need_both_sides() -> None:
    assert report.software_changes(None, SOFTWARE) == []
    added = report.software_changes({"packages": {}}, {"packages": {"hazelbean": "2.1.0"}})
    assert added == [("packages.hazelbean", None, "2.1.0")]


def test_unwritable_output_dir_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="output directory") as caught:
        report.write_artifacts(outcome(1.0), blocker / "metrics", None, environ={})
    assert str(blocker / "metrics") in str(caught.value)


def test_console_output_ends_with_the_final_line() -> None:
    console = Console(file=io.StringIO(), width=80)
    result = outcome(3.0)
    report.print_outcome(result, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text.rstrip().splitlines()[-1] == report.final_line(result)
    assert "calc.sum" in text
    assert "regression" in text


# --- issue 11: order, folding, geometric mean, bounded last line, narrow tables ---------


def many(n: int, regress: int) -> Outcome:
    names = [f"suite.module_{i:03d}.a_long_benchmark_name_{i:03d}" for i in range(n)]
    base = make_suite({name: [[1.0, 1.001, 0.999]] for name in names})
    head = make_suite(
        {
            name: [[f, f * 1.001, f * 0.999]]
            for i, name in enumerate(names)
            for f in [1.2 + i / 1000 if i < regress else 1.0]
        }
    )
    found = compare(results.samples_by_name(base), results.samples_by_name(head), lambda _: 10.0)
    return outcome(comparison=found)


def test_order_is_regressions_worst_first_then_the_rest() -> None:
    decisions = report.ordered(many(10, 3).comparison.decisions)
    assert [d.name[-3:] for d in decisions[:3]] == ["002", "001", "000"]
    assert {d.verdict.value for d in decisions[3:]} == {"same"}


def test_last_line_is_bounded() -> None:
    line = report.final_line(many(100, 40))
    assert line.startswith("Performance regression > 10% detected in 40 of 100 benchmarks: ")
    assert line.endswith(" and 35 more")
    assert line.count("suite.module_") == report.LAST_LINE_NAMES


def test_geometric_mean_of_ratios() -> None:
    mean = report.geometric_mean(many(4, 2).comparison.decisions)
    assert mean is not None
    # Two at 1.2 and 1.201, two unchanged.
    assert mean == pytest.approx((1.2 * 1.201) ** 0.25, rel=1e-3)


def test_same_rows_fold_above_the_limit_unless_all() -> None:
    big = many(30, 2)
    shown, folded = report.table_rows(big)
    assert (len(shown), folded) == (2, 28)
    everything = Outcome(**{**big.__dict__, "show_all": True})
    assert report.table_rows(everything) == (report.ordered(big.comparison.decisions), 0)
    small = many(5, 1)
    assert report.table_rows(small)[1] == 0


@pytest.mark.parametrize(
    ("name", "width", "cut"),
    [
        ("short", 12, "short"),
        ("suite.module_001.a_long_benchmark_name_001", 15, "suite.m…ame_001"),
        ("abcdefghijklmnop", 12, "abcdef…lmnop"),
    ],
)
def test_middle_cut_keeps_start_and_end(name: str, width: int, cut: str) -> None:
    assert report.middle_cut(name, width) == cut
    assert len(report.middle_cut(name, width)) <= max(width, len(cut))


@pytest.mark.parametrize("width", [60, 80, 120])
def test_console_table_fits_its_width(width: int) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False)
    report.print_outcome(many(30, 5), console)
    lines = buffer.getvalue().splitlines()
    rows = [line for line in lines if "regression" in line and "detected" not in line]
    assert len(rows) == 5, buffer.getvalue()
    assert all(len(line) <= width for line in rows)
    assert all("suite." in row for row in rows)


def test_strict_and_inconclusive_lines() -> None:
    base = make_suite({"one": [[1.0]], "two": [[1.0, 1.01, 0.99]]})
    head = make_suite({"one": [[1.01]], "two": [[1.0, 1.01, 0.99]]})
    found = compare(results.samples_by_name(base), results.samples_by_name(head), lambda _: 10.0)
    lenient = outcome(comparison=found)
    assert lenient.exit_code == 0
    assert report.final_line(lenient) == (
        "Performance within acceptable limits (2 benchmarks, threshold 10%; "
        "1 inconclusive: too few worker processes)"
    )
    strict = outcome(comparison=found, strict=True)
    assert strict.exit_code == 1
    assert report.final_line(strict).startswith("Performance not established (--strict): 1 of 2")
    summary = report.summary_markdown(lenient)
    assert "inconclusive: one worker process on each side" in summary
    assert report.analysis(lenient)["benchmarks"][0]["reason"] is not None


def test_every_threshold_in_effect_is_named() -> None:
    named = outcome(thresholds=[("io.*", 5.0)])
    assert report.final_line(named).endswith("thresholds in effect: 10%; io.* 5%)")
    assert "thresholds in effect: 10%; io.* 5%" in report.summary_markdown(named)


def test_drift_line_says_where_the_drift_came_from() -> None:
    assert report.drift_line(outcome()) is not None
    assert "not estimated" in (report.drift_line(outcome()) or "")
