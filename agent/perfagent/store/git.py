"""A baseline store kept on a branch of a git repository, shared by a fleet of runners.

    PERFAGENT_STORE=git+ssh://git@example.org/lab/perf-data.git#perf-baselines
    PERFAGENT_STORE=git+/srv/git/perf-data.git#perf-baselines      (a local path)
    PERFAGENT_STORE=git+file:///srv/git/perf-data.git              (branch perf-baselines)
    PERFAGENT_STORE=git+file:///srv/git/perf-data.git#perf-baselines:owner/repo
                                         (the directory owner/repo of the branch)

The branch holds exactly the directory store's layout (`store.DirectoryStore`), so
every runner with the same hardware fingerprint reads and writes the same
baselines, and the layout code is the directory store's own: this module only
moves that directory through git.

Each process works in a local clone cached under
`$XDG_CACHE_HOME/perfagent/git-stores/<hash of url and branch>` (default
`~/.cache/...`), serialised between processes of one machine by a file lock.

* read: fetch the branch, reset the clone to it, read as a directory store.
* write: fetch, reset, write the baseline as a directory store does (the previous
  current baseline goes to the archive), commit, push. When another runner pushed
  first, the push is rejected: fetch again, redo the write on top of what they
  pushed (their baseline is then the one archived), push again, with a bounded,
  jittered backoff. Redoing the write rather than rebasing a commit means there is
  never a merge conflict on `current.json`, and every baseline either writer
  stored stays in the branch. If every attempt fails, the new baseline is kept in
  the cache's `unpushed/` directory and the error names it.

The git command line is used (through subprocess): it knows every URL scheme,
credential helper and ssh setting the machine has. Git failures are `StoreError`s
(exit 2) naming the store URL and git's own message.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyperf
from filelock import FileLock, Timeout

from perfagent import results
from perfagent.errors import StoreError
from perfagent.gitcmd import GitUnavailable, batch_environment, run_git, valid_branch
from perfagent.store.atomic import atomic_write_bytes
from perfagent.store.base import StoredBaseline
from perfagent.store.directory import DirectoryStore

SCHEME = "git+"
DEFAULT_BRANCH = "perf-baselines"
# Separates the branch from the directory inside it: git+<url>#<branch>:<path>.
PATH_SEPARATOR = ":"
# Pushes tried before giving up on a write that keeps losing races. Each lost race
# means another runner stored a baseline meanwhile, so 8 covers a busy fleet.
PUSH_ATTEMPTS = 8
# Backoff between attempts: BACKOFF_BASE * 2**attempt seconds, at most BACKOFF_MAX,
# times a random factor in [0.5, 1.5) so that two losers do not collide again.
BACKOFF_BASE = 0.2
BACKOFF_MAX = 5.0
# Waiting longer than this for another process of this machine using the same
# clone means a stuck process (a fetch or push takes seconds).
LOCK_TIMEOUT = 600.0
# Seconds for one git command; a hung ssh connection must not hang a CI job.
GIT_TIMEOUT = 300.0
# Files the directory store creates that must never be committed.
_LOCAL_ONLY = (".lock", ".write-test-*", "*.tmp")
# What git prints when a push lost a race against another push.
_CONFLICT_MARKERS = (
    "[rejected]",
    "non-fast-forward",
    "fetch first",
    "cannot lock ref",
    "failed to update ref",
    "stale info",
)


@dataclass(frozen=True)
class GitLocation:
    """Where a git store is: the repository URL, the branch, and a directory in it.

    The directory (empty: the branch's root) lets several stores share one branch,
    e.g. one per repository benchmarked on a shared runner (`scoped`).
    """

    url: str
    branch: str
    path: str = ""

    @property
    def spec(self) -> str:
        inside = f"{PATH_SEPARATOR}{self.path}" if self.path else ""
        return f"{SCHEME}{self.url}#{self.branch}{inside}"

    def scoped(self, *parts: str) -> GitLocation:
        """The same branch, one directory further in."""
        path = "/".join(p for p in (self.path, *parts) if p)
        return GitLocation(self.url, self.branch, _check_path(path, self.spec))


def is_git_spec(location: str | os.PathLike[str]) -> bool:
    """True when a store setting names a git store (`git+<url>[#branch[:path]]`)."""
    return os.fspath(location).startswith(SCHEME)


def parse_spec(spec: str) -> GitLocation:
    """`git+<url>#<branch>:<path>` (branch and path optional) into its parts; StoreError
    when unusable. `:` cannot be part of a branch name (git check-ref-format), so the
    first one after `#` starts the path."""
    if not spec.startswith(SCHEME):
        raise StoreError(f"store {spec!r}: a git store is written git+<url>#<branch>")
    url, _, fragment = spec[len(SCHEME) :].partition("#")
    branch, _, path = fragment.partition(PATH_SEPARATOR)
    branch = branch or DEFAULT_BRANCH
    if not url:
        raise StoreError(f"store {spec!r}: no repository URL after 'git+'")
    if not valid_branch(branch):
        raise StoreError(f"store {spec!r}: {branch!r} is not a usable branch name")
    return GitLocation(url=url, branch=branch, path=_check_path(path, spec))


def _check_path(path: str, spec: str) -> str:
    """A relative directory inside the branch, with no `..` or empty parts."""
    if not path:
        return ""
    parts = path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise StoreError(
            f"store {spec!r}: {path!r} is not a directory inside the branch "
            "(relative, no empty, '.' or '..' parts)"
        )
    return path


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """Where the clones of git stores are cached (XDG base directory spec)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "perfagent" / "git-stores"


class GitError(StoreError):
    """A git command failed."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


class PushConflict(Exception):
    """The push lost a race: the branch moved since the fetch."""


class GitStore:
    """A baseline store on a git branch; see the module docstring."""

    def __init__(
        self,
        spec: str,
        *,
        cache: Path | None = None,
        attempts: int = PUSH_ATTEMPTS,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        self.where = parse_spec(spec)
        digest = hashlib.sha256(self.where.spec.encode()).hexdigest()[:16]
        self.cache = cache if cache is not None else cache_root() / digest
        self.clone = self.cache / "clone"
        self.attempts = attempts
        self.lock_timeout = lock_timeout
        # The branch's content (or its directory `path`) is a directory store: its
        # layout and archive logic.
        self._tree = DirectoryStore(self.clone / self.where.path if self.where.path else self.clone)
        # Pushes that lost a race (for tests and the final message).
        self.conflicts = 0

    @property
    def location(self) -> str:
        return self.where.spec

    def __repr__(self) -> str:
        return f"GitStore({self.location!r})"

    # --- git ---------------------------------------------------------------------------

    def _git(self, *args: str, cwd: Path | None = None, check: bool = True) -> str:
        """Run git in the clone; its output (stdout and stderr), GitError on failure."""
        try:
            done = run_git(
                args, cwd=cwd or self.clone, env=batch_environment(), timeout=GIT_TIMEOUT
            )
        except GitUnavailable as exc:
            raise StoreError(f"baseline store {self.location}: {exc}") from None
        if check and not done.ok:
            raise GitError(
                f"baseline store {self.location}: `git {' '.join(args)}` failed: {done.gist()}",
                done.output,
            )
        return done.output

    def _prepare_clone(self) -> None:
        """Create the cached clone on first use: an empty repository set to the branch."""
        if (self.clone / ".git").is_dir():
            return
        self._make_cache_dir(self.clone)
        self._git("init", "--quiet")
        self._git("symbolic-ref", "HEAD", f"refs/heads/{self.where.branch}")
        self._git("remote", "add", "origin", self.where.url)
        self._git("config", "user.name", "perfagent")
        self._git("config", "user.email", f"perfagent@{socket.gethostname()}")
        self._git("config", "commit.gpgsign", "false")
        exclude = self.clone / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text("".join(f"{pattern}\n" for pattern in _LOCAL_ONLY))

    def _sync(self) -> None:
        """Make the clone's work tree exactly the remote branch (empty when it is new)."""
        self._prepare_clone()
        remote_ref = f"refs/remotes/origin/{self.where.branch}"
        try:
            self._git(
                "fetch", "--quiet", "--no-tags", "origin",
                f"+refs/heads/{self.where.branch}:{remote_ref}",
            )  # fmt: skip
        except GitError as exc:
            if "couldn't find remote ref" not in exc.output:
                raise
            # A new store: the branch is created by the first push. Start from nothing.
            self._git("update-ref", "-d", remote_ref, check=False)
            self._git("update-ref", "-d", f"refs/heads/{self.where.branch}", check=False)
            self._git("read-tree", "--empty")
        else:
            self._git("reset", "--quiet", "--hard", remote_ref)
        # -x also removes ignored files: lock and probe files of an interrupted run.
        self._git("clean", "--quiet", "-f", "-d", "-x")

    def _has_commit(self) -> bool:
        return self._git("rev-parse", "--verify", "--quiet", "HEAD", check=False) != ""

    def _commit_and_push(self, message: str) -> bool:
        """Commit the work tree and push it; False when there was nothing to commit.

        Raises PushConflict when another push got there first.
        """
        self._git("add", "--all")
        if self._git("status", "--porcelain") == "":
            return False
        self._git("commit", "--quiet", "--no-verify", "-m", message)
        self._push()
        return True

    def _push(self) -> None:
        try:
            self._git("push", "--porcelain", "origin", f"HEAD:refs/heads/{self.where.branch}")
        except GitError as exc:
            if any(marker in exc.output for marker in _CONFLICT_MARKERS):
                raise PushConflict(exc.output) from None
            raise

    def _make_cache_dir(self, path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"baseline store {self.location}: cannot create its cache {path}: "
                f"{exc.strerror or exc}"
            ) from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process of this machine at a time in the cached clone."""
        self._make_cache_dir(self.cache)
        try:
            with FileLock(str(self.cache / "clone.lock"), timeout=self.lock_timeout):
                yield
        except Timeout:
            raise StoreError(
                f"baseline store {self.location}: its cache {self.cache} is held by another "
                f"perfagent for more than {self.lock_timeout:g} s"
            ) from None

    def _backoff(self, attempt: int) -> None:
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt)
        time.sleep(delay * random.uniform(0.5, 1.5))

    # --- the store protocol -----------------------------------------------------------

    def read(self, fingerprint: str, suite: str) -> pyperf.BenchmarkSuite | None:
        with self._locked():
            self._sync()
            return self._tree.read(fingerprint, suite)

    def entries(self, *, archived: bool = False) -> list[StoredBaseline]:
        with self._locked():
            self._sync()
            return self._tree.entries(archived=archived)

    def ensure_writable(self, fingerprint: str, suite: str) -> None:
        """Fail now, before a long run, when the repository cannot be reached or
        written: fetch it and try a push without sending anything (`--dry-run`)."""
        with self._locked():
            self._sync()
            self._tree.ensure_writable(fingerprint, suite)
            if self._has_commit():
                self._git(
                    "push", "--dry-run", "--quiet", "origin",
                    f"HEAD:refs/heads/{self.where.branch}",
                )  # fmt: skip

    def write(
        self, fingerprint: str, suite: str, baseline: pyperf.BenchmarkSuite
    ) -> StoredBaseline:
        commit = results.commit(baseline)
        message = (
            f"perfagent baseline: suite {suite} on fingerprint {fingerprint}"
            f"{f' at commit {commit}' if commit else ''} from {socket.gethostname()}"
        )
        with self._locked():
            for attempt in range(self.attempts):
                self._sync()
                stored = self._tree.write(fingerprint, suite, baseline)
                try:
                    self._commit_and_push(message)
                except PushConflict:
                    self.conflicts += 1
                    if attempt + 1 < self.attempts:
                        self._backoff(attempt)
                    continue
                return stored
            kept = self._keep_unpushed(fingerprint, suite, baseline)
        raise StoreError(
            f"baseline store {self.location}: gave up after {self.attempts} pushes rejected "
            f"because other runners pushed first; the new baseline is kept in {kept}"
        )

    def _keep_unpushed(self, fingerprint: str, suite: str, baseline: pyperf.BenchmarkSuite) -> Path:
        """Save a baseline that could not be pushed, so that it is never lost."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.cache / "unpushed" / f"{fingerprint}_{suite}_{stamp}_{os.getpid()}.json"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, results.dump_bytes(baseline))
        except OSError as exc:
            raise StoreError(
                f"baseline store {self.location}: the push failed and the baseline could not "
                f"be saved to {target} either: {exc.strerror or exc}"
            ) from None
        return target

    def prune(
        self, *, keep: int | None = None, before: datetime | None = None, dry_run: bool = False
    ) -> list[StoredBaseline]:
        with self._locked():
            for attempt in range(self.attempts):
                self._sync()
                removed = self._tree.prune(keep=keep, before=before, dry_run=dry_run)
                if dry_run or not removed:
                    return removed
                try:
                    self._commit_and_push(
                        f"perfagent baselines prune: {len(removed)} archived baseline(s) "
                        f"from {socket.gethostname()}"
                    )
                except PushConflict:
                    self.conflicts += 1
                    if attempt + 1 < self.attempts:
                        self._backoff(attempt)
                    continue
                return removed
        raise StoreError(
            f"baseline store {self.location}: gave up pruning after {self.attempts} pushes "
            "rejected because other runners pushed first; nothing was deleted"
        )
