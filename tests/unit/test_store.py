"""store (directory, lookup) and store.atomic: layout, atomic writes, lock, archive, prune."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyperf
import pytest
from filelock import FileLock
from perfagent import results
from perfagent.errors import ResultsFileError, StoreError
from perfagent.store import atomic, open_store
from perfagent.store.directory import ARCHIVE, CURRENT, LOCK, DirectoryStore
from perfagent.store.lookup import nearest_baseline
from synthetic_results import FINGERPRINT, HARDWARE, make_suite

SUITE = "demo"


def baseline(
    commit: str, level: float = 1.0, date: str = "2025-01-02 03:04:05", **kw: Any
) -> pyperf.BenchmarkSuite:
    """A two-benchmark baseline; `kw` goes to make_suite."""
    return make_suite({"x": [[level, level]], "y": [[2.0]]}, commit=commit, date=date, **kw)


def test_write_then_read_uses_the_design_layout(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    stored = store.write(FINGERPRINT, SUITE, baseline("c1"))
    current = tmp_path / "store" / FINGERPRINT / SUITE / CURRENT
    assert stored.location == str(current)
    assert current.is_file()
    read = store.read(FINGERPRINT, SUITE)
    assert read is not None
    assert read.get_benchmark_names() == ["x", "y"]
    assert results.commit(read) == "c1"
    assert stored.benchmarks == 2 and stored.metric == "time" and stored.commit == "c1"


def test_read_of_an_empty_store_is_none(tmp_path: Path) -> None:
    assert DirectoryStore(tmp_path / "nothing").read(FINGERPRINT, SUITE) is None
    assert DirectoryStore(tmp_path / "nothing").entries() == []


def test_a_new_baseline_archives_the_previous_one(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.write(FINGERPRINT, SUITE, baseline("first", date="2025-01-01 10:00:00"))
    first_bytes = (tmp_path / FINGERPRINT / SUITE / CURRENT).read_bytes()
    store.write(FINGERPRINT, SUITE, baseline("second", date="2025-01-02 10:00:00"))
    archived = list((tmp_path / FINGERPRINT / SUITE / ARCHIVE).iterdir())
    assert len(archived) == 1
    assert archived[0].read_bytes() == first_bytes
    assert archived[0].name.endswith("_first.json")
    current = store.read(FINGERPRINT, SUITE)
    assert current is not None and results.commit(current) == "second"


def test_archive_names_never_collide(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    for _ in range(4):
        store.write(FINGERPRINT, SUITE, baseline("same"))
    archived = sorted(p.name for p in (tmp_path / FINGERPRINT / SUITE / ARCHIVE).iterdir())
    assert len(archived) == 3
    assert len(set(archived)) == 3


def test_a_failed_replace_leaves_the_previous_baseline_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryStore(tmp_path)
    store.write(FINGERPRINT, SUITE, baseline("good"))
    directory = tmp_path / FINGERPRINT / SUITE
    before = (directory / CURRENT).read_bytes()

    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        if str(dst).endswith(CURRENT):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StoreError, match="No space left on device") as caught:
        store.write(FINGERPRINT, SUITE, baseline("bad"))
    assert str(directory / CURRENT) in str(caught.value)
    assert (directory / CURRENT).read_bytes() == before
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_interrupted_mid_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.json"
    target.write_bytes(b"old")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"]


def test_atomic_write_gives_the_usual_file_mode(tmp_path: Path) -> None:
    old_mask = os.umask(0o022)
    try:
        atomic.atomic_write_text(tmp_path / "f.txt", "hello")
    finally:
        os.umask(old_mask)
    assert (tmp_path / "f.txt").read_text() == "hello"
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644


def test_a_held_lock_makes_the_writer_wait_then_fail_clearly(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path, lock_timeout=0.2)
    store.write(FINGERPRINT, SUITE, baseline("first"))
    lock_file = tmp_path / FINGERPRINT / SUITE / LOCK
    with FileLock(str(lock_file)), pytest.raises(StoreError, match="held by another perfagent"):
        store.write(FINGERPRINT, SUITE, baseline("second"))
    current = store.read(FINGERPRINT, SUITE)
    assert current is not None and results.commit(current) == "first"


def _write_many(root: str, commit: str, count: int) -> None:
    store = DirectoryStore(root)
    for index in range(count):
        store.write(FINGERPRINT, SUITE, baseline(f"{commit}{index}"))


def test_concurrent_writers_never_mix_or_lose_a_baseline(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write_many, args=(str(tmp_path), name, 5)) for name in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    store = DirectoryStore(tmp_path)
    entries = store.entries(archived=True)
    # Ten writes: one current and nine archived, every one a whole, readable file.
    assert len(entries) == 10
    assert all(entry.error is None for entry in entries)
    commits = sorted(entry.commit or "" for entry in entries)
    assert commits == sorted(f"{n}{i}" for n in "ab" for i in range(5))


def test_entries_list_current_and_archived(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.write(FINGERPRINT, SUITE, baseline("one", date="2025-01-01 00:00:00"))
    store.write(FINGERPRINT, SUITE, baseline("two", date="2025-02-01 00:00:00"))
    store.write("0000aaaa1111", "other", baseline("three", metric="instructions"))
    current = store.entries()
    assert [(e.fingerprint, e.suite, e.commit) for e in current] == [
        ("0000aaaa1111", "other", "three"),
        (FINGERPRINT, SUITE, "two"),
    ]
    assert current[0].metric == "instructions"
    assert current[1].benchmarks == 2 and current[1].runs == 1
    assert current[1].date is not None and current[1].date.year == 2025
    everything = store.entries(archived=True)
    assert [(e.commit, e.archived) for e in everything] == [
        ("three", False),
        ("two", False),
        ("one", True),
    ]


def test_a_damaged_file_is_listed_with_its_error(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.write(FINGERPRINT, SUITE, baseline("one"))
    (tmp_path / FINGERPRINT / SUITE / CURRENT).write_text('{"version": "1.0", "bench')
    [entry] = store.entries()
    assert entry.error is not None and "truncated" in entry.error
    with pytest.raises(ResultsFileError, match=str(tmp_path / FINGERPRINT / SUITE / CURRENT)):
        store.read(FINGERPRINT, SUITE)


def test_a_damaged_current_baseline_is_still_archived(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    directory = tmp_path / FINGERPRINT / SUITE
    directory.mkdir(parents=True)
    (directory / CURRENT).write_text("garbage")
    store.write(FINGERPRINT, SUITE, baseline("fresh"))
    [archived] = (directory / ARCHIVE).iterdir()
    assert archived.read_text() == "garbage"
    assert "_nocommit" in archived.name


def _archive_names(tmp_path: Path, fingerprint: str = FINGERPRINT) -> list[str]:
    return sorted(p.name for p in (tmp_path / fingerprint / SUITE / ARCHIVE).iterdir())


def _fill(store: DirectoryStore, months: int) -> None:
    for month in range(1, months + 1):
        store.write(FINGERPRINT, SUITE, baseline(f"m{month}", date=f"2025-{month:02d}-15 12:00:00"))


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    _fill(store, 6)  # five archived, one current
    removed = store.prune(keep=2)
    assert len(removed) == 3
    assert [name.split("_")[1] for name in _archive_names(tmp_path)] == ["m4.json", "m5.json"]
    assert (tmp_path / FINGERPRINT / SUITE / CURRENT).is_file()


def test_prune_before_a_date_and_dry_run(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    _fill(store, 5)
    cutoff = datetime(2025, 3, 1, tzinfo=UTC)
    planned = store.prune(before=cutoff, dry_run=True)
    assert len(planned) == 2
    assert len(_archive_names(tmp_path)) == 4
    store.prune(before=cutoff)
    assert [name.split("_")[1] for name in _archive_names(tmp_path)] == ["m3.json", "m4.json"]


def test_prune_never_touches_the_current_baseline(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    _fill(store, 3)
    store.prune(keep=0, before=datetime(2100, 1, 1, tzinfo=UTC))
    assert _archive_names(tmp_path) == []
    current = store.read(FINGERPRINT, SUITE)
    assert current is not None and results.commit(current) == "m3"


def test_prune_needs_a_criterion(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="--keep"):
        DirectoryStore(tmp_path).prune()


def test_an_unwritable_store_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = DirectoryStore(blocker / "store")
    with pytest.raises(StoreError) as caught:
        store.ensure_writable(FINGERPRINT, SUITE)
    assert str(blocker / "store") in str(caught.value)
    with pytest.raises(StoreError):
        store.write(FINGERPRINT, SUITE, baseline("x"))


def test_a_store_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "store"
    blocker.write_text("oops")
    with pytest.raises(StoreError, match="is a file"):
        DirectoryStore(blocker).entries()
    with pytest.raises(StoreError, match="is a file"):
        DirectoryStore(blocker).read(FINGERPRINT, SUITE)


@pytest.mark.parametrize("bad", ["../escape", "", ".hidden", "a/b"])
def test_names_that_cannot_be_directories_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StoreError, match="cannot name a directory"):
        DirectoryStore(tmp_path).read(FINGERPRINT, bad)


def test_nearest_baseline_reports_the_differing_fields(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    near_hw = {**HARDWARE, "governor": "powersave"}
    far_hw = {**HARDWARE, "governor": "powersave", "cpu_model_name": "Other", "boost": "on"}
    store.write("111111111111", SUITE, baseline("near", hardware=near_hw))
    store.write("222222222222", SUITE, baseline("far", hardware=far_hw))
    store.write("333333333333", "other-suite", baseline("elsewhere", hardware=HARDWARE))
    nearest = nearest_baseline(store, SUITE, HARDWARE)
    assert nearest is not None
    assert nearest.baseline.fingerprint == "111111111111"
    assert nearest.differences == [("governor", "powersave", "performance")]
    assert nearest_baseline(store, "unknown-suite", HARDWARE) is None


# --- symlinks under the store (issue 11): refused before reading or writing ------------

STEADY = [[0.01, 0.0101, 0.0099]]


def _symlinked_current(root: Path, secret: Path) -> Path:
    directory = root / FINGERPRINT / "demo"
    directory.mkdir(parents=True)
    (directory / "current.json").symlink_to(secret)
    return directory


def test_a_symlinked_current_baseline_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    results.write(make_suite({"grid.sum": STEADY}), secret)
    directory = _symlinked_current(tmp_path / "store", secret)
    store = DirectoryStore(tmp_path / "store")
    with pytest.raises(StoreError, match="symbolic link"):
        store.read(FINGERPRINT, "demo")
    with pytest.raises(StoreError, match="symbolic link"):
        store.write(FINGERPRINT, "demo", make_suite({"grid.sum": STEADY}))
    # Nothing of the secret was archived, and the link still points where it did.
    assert not (directory / "archive").exists()
    assert (directory / "current.json").is_symlink()


def test_a_symlinked_archive_never_writes_outside_the_store(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store = DirectoryStore(tmp_path / "store")
    store.write(FINGERPRINT, "demo", make_suite({"grid.sum": STEADY}, commit="aaaa"))
    directory = store.directory(FINGERPRINT, "demo")
    (directory / "archive").symlink_to(outside)
    with pytest.raises(StoreError, match="symbolic link"):
        store.write(FINGERPRINT, "demo", make_suite({"grid.sum": STEADY}, commit="bbbb"))
    assert list(outside.iterdir()) == []
    with pytest.raises(StoreError, match="symbolic link"):
        store.entries(archived=True)


def test_a_symlinked_fingerprint_directory_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "demo").mkdir(parents=True)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / FINGERPRINT).symlink_to(elsewhere)
    store = DirectoryStore(tmp_path / "store")
    with pytest.raises(StoreError, match="symbolic link"):
        store.write(FINGERPRINT, "demo", make_suite({"grid.sum": STEADY}))
    assert list((elsewhere / "demo").iterdir()) == []


def test_a_fifo_in_the_store_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "store" / FINGERPRINT / "demo"
    directory.mkdir(parents=True)
    os.mkfifo(directory / "current.json")
    with pytest.raises(StoreError, match="not a regular file"):
        DirectoryStore(tmp_path / "store").read(FINGERPRINT, "demo")
