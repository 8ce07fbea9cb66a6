"""reports/dashboard.py and `perfagent history --html`: the static site of baselines over time."""

from __future__ import annotations

from pathlib import Path

import pytest
from html_dom import parse
from perfagent.cli import app
from perfagent.errors import NoComparableBaseline, UsageError
from perfagent.reports import dashboard
from perfagent.store.directory import DirectoryStore
from synthetic_results import FINGERPRINT, HARDWARE, make_suite, steady
from typer.testing import CliRunner

SUITE = "demo"
OTHER = "0f0e0d0c0b0a"
HOSTILE = "<script>alert(1)</script>/../x"
# 8 baselines at one level, then 4 in which a slowdown creeps in at 3% per baseline.
CREEP = [1.0] * 8 + [1.03**step for step in range(1, 5)]


def _commit(day: int) -> str:
    return f"{day:02d}" + "c0ffee" * 6


@pytest.fixture
def store(tmp_path: Path) -> DirectoryStore:
    """Two hardware classes: on this one `grid.creeping` creeps, on the other it does not."""
    store = DirectoryStore(tmp_path / "store")
    for day, level in enumerate(CREEP, start=1):
        for fingerprint, creep in ((FINGERPRINT, level), (OTHER, 1.0)):
            suite = make_suite(
                {
                    "grid.creeping": steady(0.010 * creep, processes=6),
                    HOSTILE: steady(0.001, processes=6),
                },
                suite=SUITE,
                fingerprint=fingerprint,
                hardware={**HARDWARE, "logical_cpus": 4 if fingerprint == FINGERPRINT else 16},
                commit=_commit(day),
                date=f"2025-03-{day:02d} 12:00:00",
            )
            store.write(fingerprint, SUITE, suite)  # type: ignore[arg-type]
    return store


def _site(store: DirectoryStore, target: Path, repo_url: str | None = None) -> dashboard.Site:
    histories, skipped = dashboard.collect(store)
    return dashboard.write_site(
        histories, target, store_location=store.location, repo_url=repo_url, skipped=skipped
    )


def test_the_index_lists_every_class_and_benchmark(store: DirectoryStore, tmp_path: Path) -> None:
    site = _site(store, tmp_path / "site")
    assert site.index == tmp_path / "site" / "index.html"
    dom = parse(site.index.read_text())
    classes = dom.find_all("section", cls="hardware")
    assert [c.attrs["id"] for c in classes] == [f"fp-{OTHER}", f"fp-{FINGERPRINT}"]
    assert "logical CPUs 16" in classes[0].text
    rows = dom.find_all("tr", cls="history-row")
    assert len(rows) == 4
    changed = [row.find("a").text for row in dom.find_all("tr", cls="changed")]
    assert changed == ["grid.creeping"]
    # Every row links to a page that exists, at the section of its hardware class.
    for row in rows:
        page, _, fragment = row.find("a").attrs["href"].partition("#")
        target = tmp_path / "site" / page
        assert target in site.pages
        assert parse(target.read_text()).find("section", id=fragment)


def test_a_benchmark_page_marks_the_change_point(store: DirectoryStore, tmp_path: Path) -> None:
    site = _site(store, tmp_path / "site", repo_url="https://github.com/org/repo")
    page = tmp_path / "site" / "benchmarks" / dashboard.page_name(SUITE, "grid.creeping")
    dom = parse(page.read_text())
    plots = dom.find_all("svg", cls="history")
    assert [p.attrs["data-fingerprint"] for p in plots] == [OTHER, FINGERPRINT]
    creeping = dom.find("svg", data_fingerprint=FINGERPRINT)
    assert len(creeping.find_all("circle", cls="point")) == len(CREEP)
    [flagged] = [
        line
        for line in creeping.find_all("line", cls="change-point")
        if "minor" not in line.classes
    ]
    assert "drift" in flagged.text
    assert dom.find("svg", data_fingerprint=OTHER).find_all("line", cls="change-point") == []
    # Commits are linked, in the table and on the points.
    section = dom.find("section", id=f"fp-{FINGERPRINT}")
    links = [a.attrs["href"] for a in section.find_all("a")]
    assert f"https://github.com/org/repo/commit/{_commit(12)}" in links
    assert len(creeping.find_all("a")) == len(CREEP)
    assert len(site.pages) == 2


def test_without_a_repository_commits_are_plain_text(store: DirectoryStore, tmp_path: Path) -> None:
    site = _site(store, tmp_path / "site")
    for page in site.pages:
        hrefs = [a.attrs["href"] for a in parse(page.read_text()).find_all("a")]
        assert hrefs == ["../index.html"]


def test_hostile_names_stay_text_and_inside_the_site(store: DirectoryStore, tmp_path: Path) -> None:
    site = _site(store, tmp_path / "site")
    name = dashboard.page_name(SUITE, HOSTILE)
    assert "/" not in name and "<" not in name and name.endswith(".html")
    page = tmp_path / "site" / "benchmarks" / name
    assert page in site.pages
    markup = page.read_text()
    dom = parse(markup)
    [script] = dom.find_all("script")
    assert "alert" not in script.text
    assert dom.find("h1").text == HOSTILE
    assert "&lt;script&gt;" in markup
    assert sorted(p.name for p in (tmp_path / "site").rglob("*")) == sorted(
        ["index.html", "benchmarks", *(p.name for p in site.pages)]
    )


def test_page_names_are_unique() -> None:
    names = {dashboard.page_name(SUITE, n) for n in ("a/b", "a b", "a-b", "a_b")}
    assert len(names) == 4


def test_patterns_and_fingerprints_narrow_the_site(store: DirectoryStore) -> None:
    histories, _ = dashboard.collect(store, fingerprints=[OTHER], patterns=["creep"])
    assert [(h.fingerprint, [b.name for b in h.benchmarks]) for h in histories] == [
        (OTHER, ["grid.creeping"])
    ]
    with pytest.raises(UsageError, match="matches 'nothing'"):
        dashboard.collect(store, patterns=["nothing"])
    with pytest.raises(NoComparableBaseline, match="no baseline for fingerprint ffffffffffff"):
        dashboard.collect(store, fingerprints=["ffffffffffff"])


def test_an_unwritable_directory_is_a_usage_error(store: DirectoryStore, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot write"):
        _site(store, blocker / "site")


def test_history_html_command(store: DirectoryStore, tmp_path: Path) -> None:
    target = tmp_path / "pages"
    outcome = CliRunner().invoke(
        app,
        ["history", "--store", store.location, "--html", str(target)],
        env={"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "org/repo"},
    )
    assert outcome.exit_code == 0, outcome.output
    assert str(target / "index.html") in outcome.stdout
    assert "2 hardware classes" in outcome.stdout
    page = target / "benchmarks" / dashboard.page_name(SUITE, "grid.creeping")
    assert "https://github.com/org/repo/commit/" in page.read_text()


def test_history_html_command_with_repo_url_flag(store: DirectoryStore, tmp_path: Path) -> None:
    target = tmp_path / "pages"
    outcome = CliRunner().invoke(
        app,
        [
            "history", "--store", store.location, "--html", str(target),
            "--fingerprint", FINGERPRINT, "--repo-url", "https://git.example.org/team/tool",
        ],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    page = target / "benchmarks" / dashboard.page_name(SUITE, "grid.creeping")
    assert f"https://git.example.org/team/tool/commit/{_commit(1)}" in page.read_text()
    assert f"fp-{OTHER}" not in (target / "index.html").read_text()


def test_history_html_command_on_an_empty_store(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        app, ["history", "--store", str(tmp_path / "none"), "--html", str(tmp_path / "site")]
    )
    # The console script turns it into exit 3 and a one-line message.
    assert isinstance(outcome.exception, NoComparableBaseline)
    assert "holds no baseline: nothing to publish" in str(outcome.exception)
    assert not (tmp_path / "site").exists()


def test_an_unreadable_baseline_is_left_out_and_said(store: DirectoryStore, tmp_path: Path) -> None:
    archive = Path(store.location) / FINGERPRINT / SUITE / "archive"
    broken = sorted(archive.iterdir())[0]
    broken.write_text('{"version": "1.0", "benchmarks": [')  # cut short
    site = _site(store, tmp_path / "site")
    assert any(broken.name in note for note in site.skipped)
    left_out = parse(site.index.read_text()).find("section", id="skipped")
    assert broken.name in left_out.text
    # The rest of that class's history is still there.
    page = tmp_path / "site" / "benchmarks" / dashboard.page_name(SUITE, "grid.creeping")
    plot = parse(page.read_text()).find("svg", data_fingerprint=FINGERPRINT)
    assert len(plot.find_all("circle", cls="point")) == len(CREEP) - 1
