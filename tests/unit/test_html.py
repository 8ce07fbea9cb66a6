"""reports/html.py: report.html, the self-contained verdict page of check, compare and ab."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from html_dom import Element, parse
from perfagent import results
from perfagent.judge.machine_drift import Drift
from perfagent.judge.resolution import Resolution
from perfagent.judge.stats import DRIFT_HISTORY, compare
from perfagent.reports import html, report
from perfagent.reports.report import Outcome, Side
from synthetic_results import HARDWARE, make_suite

WHEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>'
ATTRIBUTE_BREAKER = '"><img src=x onerror=alert(1)>'


def outcome(*, with_samples: bool = True, notes: list[str] | None = None) -> Outcome:
    """calc.sum regressed by 50%, io.read the same, two hostile names faster and the same,
    one benchmark only in the baseline and one only in the current run."""
    base = make_suite(
        {
            "io.read": [[2.0, 2.02, 1.98], [2.01, 1.99, 2.0]],
            "calc.sum": [[1.0, 1.01, 0.99], [1.0, 1.005, 0.995]],
            HOSTILE: [[1.0, 1.01, 0.99]],
            ATTRIBUTE_BREAKER: [[1.0, 1.01, 0.99]],
            "old.gone": [[1.0, 1.0]],
        }
    )
    head = make_suite(
        {
            "io.read": [[2.0, 2.02, 1.98]],
            "calc.sum": [[1.5, 1.51, 1.49]],
            HOSTILE: [[0.5, 0.505, 0.495]],
            ATTRIBUTE_BREAKER: [[1.0, 1.01, 0.99]],
            "new.one": [[1.0, 1.0]],
        }
    )
    base_samples, head_samples = results.samples_by_name(base), results.samples_by_name(head)
    return Outcome(
        comparison=compare(base_samples, head_samples, lambda _name: 10.0),
        threshold=10.0,
        metric="time",
        suite="demo",
        fingerprint="a1b2c3d4e5f6",
        base=Side("baseline", "store/a1b2c3d4e5f6/demo/current.json", "0123456789abcdef", 2),
        head=Side("current", "this run", "fedcba9876543210", 1),
        software_changes=[("packages.numpy", "2.0.0", "2.1.0"), ("kernel", None, "6.1")],
        notes=notes if notes is not None else ["drift: the machine ran 1.2% slower"],
        timestamp=WHEN,
        base_samples=base_samples if with_samples else {},
        head_samples=head_samples if with_samples else {},
        hardware=HARDWARE,
    )


def render(result: Outcome, repo_url: str | None = None) -> tuple[str, Element]:
    markup = html.report_html(result, report.final_line(result), repo_url=repo_url)
    return markup, parse(markup)


def test_hostile_benchmark_names_are_text_not_markup() -> None:
    markup, dom = render(outcome())
    # The only script is the page's own sorting script; no name became an element.
    [script] = dom.find_all("script")
    assert "alert" not in script.text
    assert dom.find_all("img") == []
    assert not [e for e in dom.iter() for name in e.attrs if name.startswith("on")]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup
    # ... and they are shown as the reader typed them, in the table and on their plot.
    names = [row.find("td").text for row in dom.find_all("tr", cls="verdict-row")]
    assert HOSTILE in names and ATTRIBUTE_BREAKER in names
    assert dom.find("svg", data_benchmark=HOSTILE)
    assert dom.find("svg", data_benchmark=ATTRIBUTE_BREAKER)


def test_the_table_puts_regressions_first_and_marks_them() -> None:
    _, dom = render(outcome())
    table = dom.find("table", id="verdict-table")
    assert "sortable" in table.classes
    rows = table.find("tbody").find_all("tr")
    verdicts = [row.find("span", cls="verdict").text for row in rows]
    assert verdicts == ["regression", "same", "same", "faster", "missing", "new"]
    first = rows[0]
    assert "regression" in first.classes
    assert first.find("td").text == "calc.sum"
    assert "+50.0%" in first.text
    # The verdict column is the initial sort, ranked by its data-value.
    assert dom.find("th", aria_sort="ascending").text == "Verdict"
    assert [row.find_all("td")[1].attrs["data-value"] for row in rows] == [
        "0", "4", "4", "5", "6", "7"
    ]  # fmt: skip


def test_one_plot_per_judged_benchmark_with_interval_and_threshold() -> None:
    result = outcome()
    _, dom = render(result)
    plots = dom.find_all("svg", cls="plot")
    assert sorted(p.attrs["data-benchmark"] for p in plots) == sorted(
        d.name for d in result.comparison.decisions
    )
    regressed = dom.find("svg", data_benchmark="calc.sum")
    assert "regression" in regressed.classes
    # Every process mean is a point: 2 runs x 3 baseline processes, 1 x 3 current ones.
    assert len(regressed.find_all("circle", cls="base")) == 6
    assert len(regressed.find_all("circle", cls="head")) == 3
    assert len(regressed.find_all("line", cls="threshold")) == 2  # both panels
    assert regressed.find("rect", cls="interval")
    assert "regression" in regressed.find("rect", cls="interval").classes
    assert (
        dom.find("section", cls="benchmark", data_benchmark="calc.sum")
        .find("span", cls="verdict")
        .text
        == "regression"
    )


def test_without_samples_each_side_shows_its_mean_and_spread() -> None:
    _, dom = render(outcome(with_samples=False))
    plot = dom.find("svg", data_benchmark="calc.sum")
    assert len(plot.find_all("circle", cls="base")) == 1
    assert len(plot.find_all("line", cls="spread")) == 2


def test_the_page_fetches_nothing() -> None:
    markup, dom = render(outcome(), repo_url="https://github.com/org/repo")
    [policy] = dom.find_all("meta", http_equiv="Content-Security-Policy")
    assert "default-src 'none'" in policy.attrs["content"]
    assert dom.find_all("link") == [] and dom.find_all("img") == []
    assert not [e for e in dom.iter() if "src" in e.attrs]
    # Links go to commits only, never to a stylesheet or a script.
    hrefs = [a.attrs["href"] for a in dom.find_all("a") if not a.attrs["href"].startswith("#")]
    assert hrefs == [
        "https://github.com/org/repo/commit/0123456789abcdef",
        "https://github.com/org/repo/commit/fedcba9876543210",
    ]
    assert "<style>" in markup


def test_facts_software_fingerprint_and_notes() -> None:
    _, dom = render(outcome(notes=["drift: the machine ran 1.2% slower", HOSTILE]))
    assert dom.find("code", id="fingerprint-id").text == "a1b2c3d4e5f6"
    software = dom.find("section", id="software").text
    assert "packages.numpy" in software and "2.1.0" in software and "(absent)" in software
    hardware = dom.find("section", id="fingerprint").text
    assert "Test CPU 3000" in hardware
    notes = [li.text for li in dom.find("section", id="notes").find_all("li")]
    assert notes[:2] == ["drift: the machine ran 1.2% slower", HOSTILE]
    assert (
        dom.find("header", id="verdict")
        .find("p")
        .text.startswith("Performance regression > 10% detected")
    )


def test_decision_notes_are_listed_with_their_benchmark() -> None:
    _, dom = render(outcome(notes=[]))
    notes = [li.text for li in dom.find("section", id="notes").find_all("li")]
    # One run on each side: the judge says it could not estimate the drift.
    assert f"{HOSTILE}: one run per side: run-to-run drift not estimated" in notes
    assert not [n for n in notes if n.startswith("calc.sum")]  # 2 baseline runs


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        ("https://git.example.org/team/tool.git/", {}, "https://git.example.org/team/tool"),
        (
            None,
            {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "org/repo"},
            "https://github.com/org/repo",
        ),
        ("javascript:alert(1)", {}, None),
        ('https://example.org/"><script>', {}, None),
        (None, {"GITHUB_REPOSITORY": "org/repo"}, None),
        (None, {}, None),
    ],
)
def test_repository_url(
    explicit: str | None, environ: dict[str, str], expected: str | None
) -> None:
    assert html.repository_url(explicit, environ) == expected


def test_only_hashes_become_commit_links() -> None:
    assert html.commit_url("0123abcd", "https://h/r") == "https://h/r/commit/0123abcd"
    assert html.commit_url("main; rm -rf", "https://h/r") is None
    assert html.commit_url("0123abcd", None) is None
    assert "unknown" in html.commit_html(None, "https://h/r")


def test_write_artifacts_writes_report_html_and_links_it(tmp_path: Path) -> None:
    result = outcome()
    artifacts = report.write_artifacts(result, tmp_path, None, environ={})
    assert artifacts.html == tmp_path / "report.html"
    assert artifacts.html in artifacts.paths()
    assert parse(artifacts.html.read_text()).find("table", id="verdict-table")
    assert "[report.html](report.html)" in artifacts.summary.read_text()


def test_in_github_actions_the_summary_points_at_the_run_artifacts(tmp_path: Path) -> None:
    environ = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "org/repo",
        "GITHUB_RUN_ID": "42",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md"),
    }
    artifacts = report.write_artifacts(outcome(), tmp_path / "out", None, environ=environ)
    run = "https://github.com/org/repo/actions/runs/42#artifacts"
    assert run in artifacts.summary.read_text()
    assert run in (tmp_path / "step.md").read_text()
    # The environment names the repository, so commits are linked in the page.
    assert "https://github.com/org/repo/commit/0123456789abcdef" in artifacts.html.read_text()


def test_resolution_and_machine_drift_when_the_judge_measured_them() -> None:
    resolution = {
        "calc.sum": Resolution("calc.sum", 4.2, 10.0, 0.01, 0.01, 0.005, "stored baseline", None),
        "io.read": Resolution("io.read", 23.0, 10.0, 0.05, 0.05, 0.04, "stored baseline", 24),
    }
    drift = Drift(ratio=1.08, low=1.06, high=1.10, tolerance=5.0)
    result = dataclasses.replace(outcome(), resolutions=resolution, machine_drift=drift)
    _, dom = render(result)
    table = dom.find("table", id="verdict-table")
    assert table.find_all("th")[-1].text == "Detects"
    cells = {
        row.find("td").text: row.find_all("td")[-1]
        for row in table.find_all("tr", cls="verdict-row")
    }
    assert cells["calc.sum"].text == "4.2%" and not cells["calc.sum"].find_all("span")
    assert cells["io.read"].find("span", cls="blind").text == "23.0%"
    notes = [li.text for li in dom.find("section", id="notes").find_all("li")]
    assert "this machine cannot see 10% on io.read; it can see 23%" in " ".join(notes)
    assert "runs 8.0% slower" in dom.find("span", cls="machine-drift").text
    assert "moved" in dom.find("span", cls="machine-drift").classes
    section = dom.find("section", data_benchmark="io.read").text
    assert "resolution (stored baseline): detects a slowdown of 23.0% or more" in section


def test_each_benchmark_says_where_its_drift_came_from() -> None:
    base = outcome()
    drifted = [
        dataclasses.replace(d, drift_source=DRIFT_HISTORY) if d.name == "calc.sum" else d
        for d in base.comparison.decisions
    ]
    result = dataclasses.replace(
        base,
        comparison=base.comparison.replace(drifted),
        drift_history="4 earlier baselines of a1b2c3d4e5f6/demo",
    )
    _, dom = render(result)
    assert (
        "from the store's earlier baselines (4 earlier baselines"
        in dom.find("section", data_benchmark="calc.sum").text
    )
    assert (
        "measured in this comparison (its runs"
        in dom.find("section", data_benchmark="io.read").text
    )
    assert "Drift prior" in dom.find("section", id="facts").text


def test_instruction_counts_without_spread_still_plot() -> None:
    base = make_suite({"count.loop": [[1000.0, 1000.0]]}, metric="instructions")
    head = make_suite({"count.loop": [[1200.0, 1200.0]]}, metric="instructions")
    base_samples, head_samples = results.samples_by_name(base), results.samples_by_name(head)
    result = dataclasses.replace(
        outcome(),
        comparison=compare(base_samples, head_samples, lambda _name: 10.0),
        metric="instructions",
        base_samples=base_samples,
        head_samples=head_samples,
    )
    _, dom = render(result)
    plot = dom.find("svg", data_benchmark="count.loop")
    assert "regression" in plot.classes
    assert dom.find("text", cls="axis-label").text == "instructions"
    numbers = " ".join(v for e in plot.iter() for k, v in e.attrs.items() if k in {"x", "y", "cy"})
    assert "nan" not in numbers and "inf" not in numbers


def test_the_banner_follows_the_exit_code() -> None:
    base = make_suite({"calc.sum": [[1.0]]})  # one process: inconclusive
    head = make_suite({"calc.sum": [[1.0]]})
    base_samples, head_samples = results.samples_by_name(base), results.samples_by_name(head)
    relaxed = dataclasses.replace(
        outcome(), comparison=compare(base_samples, head_samples, lambda _name: 10.0)
    )
    assert relaxed.exit_code == 0
    assert "ok" in render(relaxed)[1].find("header", id="verdict").classes
    strict = dataclasses.replace(relaxed, strict=True)
    assert strict.exit_code == 1
    assert "fail" in render(strict)[1].find("header", id="verdict").classes
    dom = render(strict)[1]
    assert dom.find("span", cls="verdict").text == "inconclusive"
    # One process a side: no interval to show, rather than a point that looks certain.
    assert dom.find("table", id="verdict-table").find("tbody").find_all("td")[3].text == "n/a"
    assert dom.find("svg", data_benchmark="calc.sum").find_all("rect", cls="interval") == []
