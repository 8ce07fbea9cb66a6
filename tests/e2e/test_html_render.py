"""report.html and the history dashboard as a browser shows them: headless Chromium.

The pages are written by the console script (`perfagent compare --output-dir`,
`perfagent history --html`), opened from file:// in Debian's `chromium` with the
network shut off, and checked in the DOM Chromium dumps after the page's own script
ran: the verdict table's rows, the regression marked, one plot per benchmark, the
change point. Each page is also screenshotted (1280 x 2000) into the test's tmp
directory, and into metrics/screenshots/ when run by hand (not under CI=true), to
be looked at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from html_dom import Element, parse
from perfagent import results
from perfagent.store.directory import DirectoryStore
from prerequisites import in_ci, missing
from unit.synthetic_results import FINGERPRINT, make_suite, steady

ROOT = Path(__file__).resolve().parents[2]
PERFAGENT = Path(sys.executable).parent / "perfagent"
SCREENSHOTS = ROOT / "metrics" / "screenshots"
HOSTILE = "<script>alert(1)</script>"
WINDOW = (1280, 2000)
# Chromium without anything that would reach out: no sync, updates, QUIC or
# background fetches, and a throw-away profile.
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("headless Chromium is not installed (apt-get install chromium)")
    return found


def _browse(chromium: str, page: Path, profile: Path, *args: str) -> str:
    done = subprocess.run(
        [chromium, *QUIET_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rendered_dom(chromium: str, page: Path, tmp_path: Path) -> Element:
    """The page's DOM after its scripts ran, as Chromium serialises it."""
    return parse(_browse(chromium, page, tmp_path / "profile", "--dump-dom"))


def screenshot(chromium: str, page: Path, tmp_path: Path, name: str) -> Path:
    """A PNG of the page at WINDOW size, kept in tmp_path (and metrics/ by hand)."""
    target = tmp_path / name
    _browse(
        chromium,
        page,
        tmp_path / "profile",
        f"--screenshot={target}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--hide-scrollbars",
    )
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == WINDOW  # the IHDR chunk: width, height
    if not in_ci():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, SCREENSHOTS / name)
    return target


def perfagent(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PERFAGENT_", "GITHUB_"))}
    return subprocess.run(
        [str(PERFAGENT), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=300
    )


def test_report_html_in_chromium(chromium: str, tmp_path: Path) -> None:
    base = make_suite(
        {
            "calc.sum": [[1.0e-3, 1.01e-3, 0.99e-3, 1.0e-3]] * 3,
            "io.read": [[2.0e-3, 2.02e-3, 1.98e-3, 2.0e-3]] * 3,
            HOSTILE: [[5.0e-4, 5.05e-4, 4.95e-4, 5.0e-4]] * 3,
        },
        run_ids=["r1", "r2", "r3"],
    )
    head = make_suite(
        {
            "calc.sum": [[1.5e-3, 1.51e-3, 1.49e-3, 1.5e-3]],
            "io.read": [[2.0e-3, 2.02e-3, 1.98e-3, 2.0e-3]],
            HOSTILE: [[4.0e-4, 4.04e-4, 3.96e-4, 4.0e-4]],
        },
        run_ids=["h1"],
    )
    results.write(base, tmp_path / "base.json")
    results.write(head, tmp_path / "head.json")
    done = perfagent("compare", "base.json", "head.json", "--output-dir", "out", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # calc.sum regressed by 50%
    page = tmp_path / "out" / "report.html"

    dom = rendered_dom(chromium, page, tmp_path)
    table = dom.find("table", id="verdict-table")
    assert table.attrs.get("data-sortable") == "ready"  # the page's script ran
    rows = table.find("tbody").find_all("tr")
    assert [row.find("td").text for row in rows] == ["calc.sum", "io.read", HOSTILE]
    assert "regression" in rows[0].classes
    assert rows[0].find("span", cls="verdict").text == "regression"
    assert [row.find("span", cls="verdict").text for row in rows[1:]] == ["same", "faster"]
    plots = dom.find_all("svg", cls="plot")
    assert sorted(p.attrs["data-benchmark"] for p in plots) == sorted(
        ["calc.sum", "io.read", HOSTILE]
    )
    assert "regression" in dom.find("svg", data_benchmark="calc.sum").classes
    # The hostile name is text: the page's sorting script is its only script.
    assert len(dom.find_all("script")) == 1
    assert "[report.html](report.html)" in (tmp_path / "out" / "summary.md").read_text()

    screenshot(chromium, page, tmp_path, "report.png")

    # Sorting: the same page with a click on "Change" added after the page's own script.
    click = (
        "<script>Array.prototype.find.call(document.querySelectorAll('#verdict-table th'),"
        " function (th) { return th.textContent === 'Change'; }).click();</script></body>"
    )
    clicked = tmp_path / "out" / "clicked.html"
    clicked.write_text(page.read_text().replace("</body>", click))
    table = rendered_dom(chromium, clicked, tmp_path).find("table", id="verdict-table")
    assert table.find("th", aria_sort="ascending").text == "Change"
    rows = table.find("tbody").find_all("tr")
    assert [row.find("td").text for row in rows] == [HOSTILE, "io.read", "calc.sum"]


def test_history_dashboard_in_chromium(chromium: str, tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    creep = [1.0] * 8 + [1.03**step for step in range(1, 5)]
    for day, level in enumerate(creep, start=1):
        suite = make_suite(
            {"grid.creeping": steady(0.010 * level, processes=6), "grid.steady": steady(0.02)},
            suite="demo",
            commit=f"{day:02d}" + "c0ffee" * 6,
            date=f"2025-03-{day:02d} 12:00:00",
        )
        store.write(FINGERPRINT, "demo", suite)
    done = perfagent(
        "history", "--store", "store", "--html", "site",
        "--repo-url", "https://github.com/example/project", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    index = tmp_path / "site" / "index.html"
    dom = rendered_dom(chromium, index, tmp_path)
    rows = dom.find_all("tr", cls="history-row")
    assert [row.find("a").text for row in rows] == ["grid.creeping", "grid.steady"]
    assert [row.find("a").text for row in dom.find_all("tr", cls="changed")] == ["grid.creeping"]
    assert dom.find("table", cls="sortable").attrs.get("data-sortable") == "ready"
    screenshot(chromium, index, tmp_path, "dashboard-index.png")

    link = rows[0].find("a").attrs["href"].partition("#")[0]
    page = tmp_path / "site" / link
    dom = rendered_dom(chromium, page, tmp_path)
    [plot] = dom.find_all("svg", cls="history")
    assert plot.attrs["data-fingerprint"] == FINGERPRINT
    assert len(plot.find_all("circle", cls="point")) == len(creep)
    flagged = [
        line for line in plot.find_all("line", cls="change-point") if "minor" not in line.classes
    ]
    assert len(flagged) == 1
    assert any(
        a.attrs.get("href", "").startswith("https://github.com/example/project/commit/")
        for a in dom.find_all("a")
    )
    screenshot(chromium, page, tmp_path, "dashboard-benchmark.png")


def test_check_writes_report_html_with_every_process(tmp_path: Path) -> None:
    """`perfagent check --results` against a stored baseline: the page plots both sides'
    process means, run by run (the check hands its samples to the report)."""
    store = DirectoryStore(tmp_path / "store")
    store.write(
        FINGERPRINT,
        "demo",
        make_suite(
            {"calc.sum": [[1.0e-3, 1.01e-3, 0.99e-3]] * 2}, suite="demo", run_ids=["a", "b"]
        ),
    )
    head = make_suite({"calc.sum": [[1.0e-3, 1.02e-3, 0.98e-3, 1.0e-3]]}, suite="demo")
    results.write(head, tmp_path / "head.json")
    done = perfagent(
        "check", "--results", "head.json", "--store", "store", "--output-dir", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "report.html" in done.stdout
    dom = parse((tmp_path / "out" / "report.html").read_text())
    [plot] = dom.find_all("svg", cls="plot")
    assert len(plot.find_all("circle", cls="base")) == 6
    assert len(plot.find_all("circle", cls="head")) == 4
    assert dom.find("code", id="fingerprint-id").text == FINGERPRINT
    assert "Test CPU 3000" in dom.find("section", id="fingerprint").text


def test_ab_writes_report_html(tmp_path: Path) -> None:
    """`perfagent ab` (an A/A run of a small suite): the same page, one plot per benchmark
    with every pair's two processes."""
    suite = tmp_path / "suite"
    shutil.copytree(ROOT / "tests" / "suites" / "slowable", suite)
    # No confirmation pairs: a suspect of this A/A run would get 3 more (noise decides).
    done = perfagent(
        "ab", "--suite", "suite", "--pairs", "3", "--confirm-runs", "0", "--output-dir", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr  # noise decides, not the test
    dom = parse((tmp_path / "out" / "report.html").read_text())
    plots = dom.find_all("svg", cls="plot")
    assert sorted(p.attrs["data-benchmark"] for p in plots) == ["slowable.steady", "slowable.work"]
    for plot in plots:
        assert len(plot.find_all("circle", cls="base")) == 3
        assert len(plot.find_all("circle", cls="head")) == 3
    assert "ab: 3 pairs of worker processes" in dom.find("section", id="notes").text
