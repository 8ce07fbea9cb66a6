"""The directory store: one current baseline per hardware fingerprint and suite.

Layout (docs/design.md)::

    <store>/<fingerprint-id>/<suite>/current.json            the baseline in force
    <store>/<fingerprint-id>/<suite>/archive/<UTC>_<commit>.json  the ones it replaced
    <store>/<fingerprint-id>/<suite>/.lock                    held while writing

Every file is pyperf JSON. Writes are atomic (`store.atomic.atomic_write_bytes`) and
locked (`filelock`), and the previous baseline is archived before the new one
replaces it; readers need no lock, since a file is only ever replaced whole.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyperf
from filelock import FileLock, Timeout

from perfagent import results
from perfagent.errors import PerfAgentError, StoreError
from perfagent.store.atomic import atomic_write_bytes
from perfagent.store.base import StoredBaseline, describe, measured_at

CURRENT = "current.json"
ARCHIVE = "archive"
LOCK = ".lock"
# Writers hold the lock for milliseconds (archive + rename), so waiting longer than
# this means a stuck process, not a busy one.
LOCK_TIMEOUT = 60.0
_ARCHIVE_STAMP = "%Y%m%dT%H%M%SZ"
_ARCHIVE_NAME = re.compile(r"^(\d{8}T\d{6}Z)_([^/]+?)(?:-(\d+))?\.json$")
_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _refuse_links(root: Path, path: Path, *, leaf: str) -> None:
    """StoreError unless every existing part of `path` below `root` is a real directory
    and the last one (when it exists) is a real `leaf` ("file" or "directory").

    Checked before every read and write: a branch of a shared git store, or anyone
    with write access to the directory, could plant a symlink (current.json -> a
    secret, which the next baseline would archive and push; archive/ -> elsewhere,
    where the next write would land). lstat never follows a link.
    """
    try:
        parts = path.relative_to(root).parts
    except ValueError:  # pragma: no cover - every caller builds paths under root
        raise StoreError(f"baseline store {root}: {path} is outside the store") from None
    if root.exists() and not root.is_dir():
        raise StoreError(f"baseline store {root} is a file, not a directory")
    current = root
    for index, part in enumerate(parts):
        current = current / part
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            return
        except NotADirectoryError:
            raise StoreError(
                f"baseline store {root}: {current.parent} is not a directory; the store refuses it"
            ) from None
        except OSError as exc:
            raise StoreError(
                f"baseline store {root}: cannot inspect {current}: {exc.strerror or exc}"
            ) from None
        last = index == len(parts) - 1
        if stat.S_ISLNK(mode):
            raise StoreError(
                f"baseline store {root}: {current} is a symbolic link; the store refuses "
                "links (remove it; a baseline is a regular file in a real directory)"
            )
        wanted_file = last and leaf == "file"
        if wanted_file and not stat.S_ISREG(mode):
            raise StoreError(
                f"baseline store {root}: {current} is not a regular file; the store refuses it"
            )
        if not wanted_file and not stat.S_ISDIR(mode):
            raise StoreError(
                f"baseline store {root}: {current} is not a directory; the store refuses it"
            )


def _check_component(value: str, what: str) -> str:
    if not _SAFE_COMPONENT.match(value):
        raise StoreError(f"{what} {value!r} cannot name a directory of the baseline store")
    return value


class DirectoryStore:
    """The default store: a directory tree, see the module docstring."""

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = LOCK_TIMEOUT):
        self.root = Path(root)
        self.lock_timeout = lock_timeout

    @property
    def location(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"DirectoryStore({self.location!r})"

    # --- paths ---------------------------------------------------------------------

    def directory(self, fingerprint: str, suite: str) -> Path:
        return (
            self.root
            / _check_component(fingerprint, "fingerprint id")
            / _check_component(suite, "suite name")
        )

    def current_path(self, fingerprint: str, suite: str) -> Path:
        return self.directory(fingerprint, suite) / CURRENT

    # --- reading -------------------------------------------------------------------

    def _safe(self, path: Path, leaf: str = "file") -> Path:
        _refuse_links(self.root, path, leaf=leaf)
        return path

    def read(self, fingerprint: str, suite: str) -> pyperf.BenchmarkSuite | None:
        path = self._safe(self.current_path(fingerprint, suite))
        if not path.exists():
            if self.root.exists() and not self.root.is_dir():
                raise StoreError(f"baseline store {self.root} is a file, not a directory")
            return None
        return results.load(path)

    def entries(self, *, archived: bool = False) -> list[StoredBaseline]:
        if not self.root.exists():
            return []
        if not self.root.is_dir():
            raise StoreError(f"baseline store {self.root} is a file, not a directory")
        found: list[StoredBaseline] = []
        for fingerprint, suite, directory in self._suite_directories():
            current = self._safe(directory / CURRENT)
            files = [(current, False)] if current.is_file() else []
            if archived:
                files.extend((path, True) for path in self._archived(directory))
            for path, is_archived in files:
                found.append(self._entry(fingerprint, suite, path, is_archived))
        return found

    def _entry(self, fingerprint: str, suite: str, path: Path, archived: bool) -> StoredBaseline:
        try:
            return describe(
                results.load(path),
                fingerprint=fingerprint,
                suite=suite,
                location=str(path),
                archived=archived,
            )
        except PerfAgentError as exc:
            # One damaged file must not hide the rest of the store from a listing.
            return StoredBaseline(
                fingerprint=fingerprint,
                suite=suite,
                location=str(path),
                archived=archived,
                date=_archive_date(path) if archived else None,
                error=str(exc),
            )

    def _suite_directories(self) -> Iterator[tuple[str, str, Path]]:
        try:
            # is_dir() follows links: a linked directory is listed, then refused.
            fingerprints = sorted(p for p in self.root.iterdir() if p.is_dir())
        except OSError as exc:
            raise StoreError(
                f"baseline store {self.root}: cannot list it: {exc.strerror or exc}"
            ) from None
        for fingerprint_dir in fingerprints:
            if fingerprint_dir.name.startswith("."):
                continue
            self._safe(fingerprint_dir, "directory")
            for suite_dir in sorted(p for p in fingerprint_dir.iterdir() if p.is_dir()):
                self._safe(suite_dir, "directory")
                if (suite_dir / CURRENT).is_file() or (suite_dir / ARCHIVE).is_dir():
                    yield fingerprint_dir.name, suite_dir.name, suite_dir

    def _archived(self, directory: Path) -> list[Path]:
        """Archived baselines of one fingerprint and suite, newest first."""
        archive = self._safe(directory / ARCHIVE, "directory")
        if not archive.is_dir():
            return []
        names = [p for p in archive.iterdir() if _ARCHIVE_NAME.match(p.name)]
        for path in names:
            self._safe(path)
        return sorted(names, key=_archive_sort_key, reverse=True)

    # --- writing -------------------------------------------------------------------

    def ensure_writable(self, fingerprint: str, suite: str) -> None:
        directory = self._safe(self.directory(fingerprint, suite), "directory")
        for name, leaf in ((CURRENT, "file"), (ARCHIVE, "directory"), (LOCK, "file")):
            self._safe(directory / name, leaf)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreError(
                f"baseline store {self.root}: cannot write to {directory}: "
                f"{exc.strerror or exc} (set --store or PERFAGENT_STORE to a writable directory)"
            ) from None

    @contextlib.contextmanager
    def _locked(self, directory: Path) -> Iterator[None]:
        lock_path = directory / LOCK
        lock = FileLock(str(lock_path), timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout:
            raise StoreError(
                f"baseline store {self.root}: {lock_path} is held by another perfagent "
                f"for more than {self.lock_timeout:g} s; if no other run is writing, "
                "delete the lock file"
            ) from None
        except OSError as exc:
            # A read-only store (a mounted snapshot, a runner without the rights).
            raise StoreError(
                f"baseline store {self.root}: cannot lock {lock_path}: {exc.strerror or exc} "
                "(is the store read-only?)"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def write(
        self, fingerprint: str, suite: str, baseline: pyperf.BenchmarkSuite
    ) -> StoredBaseline:
        directory = self.directory(fingerprint, suite)
        data = results.dump_bytes(baseline)
        self.ensure_writable(fingerprint, suite)
        current = directory / CURRENT
        try:
            with self._locked(directory):
                # Again under the lock: the checks above ran before another writer's.
                self.ensure_writable(fingerprint, suite)
                if current.exists():
                    self._archive(directory, current)
                atomic_write_bytes(current, data)
        except OSError as exc:
            raise StoreError(
                f"baseline store {self.root}: cannot write {current}: {exc.strerror or exc}"
            ) from None
        return describe(
            baseline,
            fingerprint=fingerprint,
            suite=suite,
            location=str(current),
            archived=False,
        )

    def _archive(self, directory: Path, current: Path) -> Path:
        """Copy the current baseline into the archive (the caller holds the lock).

        A copy, not a rename: current.json stays in place until the new baseline
        atomically replaces it, so no reader ever finds the store without one.
        """
        data = current.read_bytes()
        try:
            previous = results.loads(data, str(current))
            when = measured_at(previous)
            commit = results.commit(previous)
        except PerfAgentError:
            # A damaged baseline is still archived (as evidence), under its mtime.
            when, commit = None, None
        if when is None:
            when = datetime.fromtimestamp(current.stat().st_mtime, UTC)
        archive = self._safe(directory / ARCHIVE, "directory")
        archive.mkdir(exist_ok=True)
        stem = f"{when.strftime(_ARCHIVE_STAMP)}_{_commit_label(commit)}"
        target = archive / f"{stem}.json"
        counter = 1
        while target.exists():
            target = archive / f"{stem}-{counter}.json"
            counter += 1
        atomic_write_bytes(target, data)
        return target

    # --- pruning -------------------------------------------------------------------

    def prune(
        self, *, keep: int | None = None, before: datetime | None = None, dry_run: bool = False
    ) -> list[StoredBaseline]:
        if keep is None and before is None:
            raise StoreError("prune needs --keep N or --before DATE (or both)")
        if keep is not None and keep < 0:
            raise StoreError(f"--keep must be 0 or more, got {keep}")
        if not self.root.is_dir():
            return []
        removed: list[StoredBaseline] = []
        for fingerprint, suite, directory in list(self._suite_directories()):
            self._safe(directory / LOCK)
            with self._locked(directory):
                for index, path in enumerate(self._archived(directory)):
                    date = _archive_date(path)
                    beyond_keep = keep is not None and index >= keep
                    too_old = before is not None and date is not None and date < before
                    if not (beyond_keep or too_old):
                        continue
                    removed.append(
                        StoredBaseline(
                            fingerprint=fingerprint,
                            suite=suite,
                            location=str(path),
                            archived=True,
                            date=date,
                        )
                    )
                    if not dry_run:
                        try:
                            path.unlink()
                        except OSError as exc:
                            raise StoreError(
                                f"baseline store {self.root}: cannot delete {path}: "
                                f"{exc.strerror or exc}"
                            ) from None
        return removed


def _commit_label(commit: str | None) -> str:
    if not commit:
        return "nocommit"
    label = re.sub(r"[^A-Za-z0-9._-]", "-", commit)[:12]
    return label or "nocommit"


def _archive_sort_key(path: Path) -> tuple[str, int]:
    match = _ARCHIVE_NAME.match(path.name)
    assert match is not None  # only matching names reach here
    return match.group(1), int(match.group(3) or 0)


def _archive_date(path: Path) -> datetime | None:
    match = _ARCHIVE_NAME.match(path.name)
    if not match:
        return None
    return datetime.strptime(match.group(1), _ARCHIVE_STAMP).replace(tzinfo=UTC)
