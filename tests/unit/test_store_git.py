"""store/git.py: a baseline store on a branch of a (here local, bare) git repository."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from perfagent import results
from perfagent.cli import app
from perfagent.errors import StoreError
from perfagent.store import git as store_git
from perfagent.store import open_store, scoped
from perfagent.store.git import GitStore, PushConflict
from synthetic_results import FINGERPRINT, make_suite, steady
from typer.testing import CliRunner

SUITE = "demo"
BRANCH = "perf-baselines"


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """An empty bare repository standing in for the fleet's shared one."""
    path = tmp_path / "shared.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


def _store(bare: Path, cache: Path, **kwargs: object) -> GitStore:
    return GitStore(f"git+{bare}#{BRANCH}", cache=cache, **kwargs)  # type: ignore[arg-type]


def _baseline(commit: str, mean: float = 0.01, suite: str = SUITE) -> object:
    return make_suite({"grid.sum": steady(mean)}, suite=suite, commit=commit)


def _branch_files(bare: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "--git-dir", str(bare), "ls-tree", "-r", "--name-only", BRANCH],
        check=True,
        capture_output=True,
        text=True,
    )
    return listing.stdout.split()


def test_spec_parsing() -> None:
    where = store_git.parse_spec("git+ssh://git@example.org/lab/perf.git#fleet/main")
    assert (where.url, where.branch) == ("ssh://git@example.org/lab/perf.git", "fleet/main")
    assert store_git.parse_spec("git+/srv/perf.git").branch == "perf-baselines"
    for bad in ("git+", "git+/srv/perf.git#bad..branch", "/srv/perf.git"):
        with pytest.raises(StoreError):
            store_git.parse_spec(bad)


def test_a_directory_inside_the_branch() -> None:
    where = store_git.parse_spec("git+ssh://git@example.org/lab/perf.git#perf-baselines:o/r")
    assert (where.url, where.branch, where.path) == (
        "ssh://git@example.org/lab/perf.git",
        "perf-baselines",
        "o/r",
    )
    assert where.spec == "git+ssh://git@example.org/lab/perf.git#perf-baselines:o/r"
    for bad in ("git+/srv/perf.git#b:../up", "git+/srv/perf.git#b:/abs", "git+/srv/p.git#b:a//c"):
        with pytest.raises(StoreError, match="not a directory inside the branch"):
            store_git.parse_spec(bad)


def test_scoped_keeps_the_url_and_branch_of_a_git_store(tmp_path: Path) -> None:
    """The gate's per-repository store (issue 13: the old one made git+ssh:/git@...)."""
    spec = "git+ssh://git@example.org/lab/perf-data.git#perf-baselines"
    assert scoped(spec, "natcap/hazelbean") == f"{spec}:natcap/hazelbean"
    assert scoped(f"{spec}:fleet", "natcap/hazelbean") == f"{spec}:fleet/natcap/hazelbean"
    assert scoped(tmp_path, "natcap/hazelbean") == str(tmp_path / "natcap" / "hazelbean")


def test_stores_in_directories_of_one_branch_stay_apart(tmp_path: Path, bare: Path) -> None:
    mine = GitStore(f"git+{bare}#{BRANCH}:owner/mine", cache=tmp_path / "cache-a")
    theirs = GitStore(f"git+{bare}#{BRANCH}:owner/theirs", cache=tmp_path / "cache-b")
    mine.write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    theirs.write(FINGERPRINT, SUITE, _baseline("bbbb"))  # type: ignore[arg-type]
    assert sorted(_branch_files(bare)) == [
        f"owner/mine/{FINGERPRINT}/{SUITE}/current.json",
        f"owner/theirs/{FINGERPRINT}/{SUITE}/current.json",
    ]
    got = GitStore(f"git+{bare}#{BRANCH}:owner/mine", cache=tmp_path / "cache-c").read(
        FINGERPRINT, SUITE
    )
    assert got is not None and results.commit(got) == "aaaa"
    assert [e.commit for e in mine.entries()] == ["aaaa"]


def test_open_store_picks_the_implementation(tmp_path: Path, bare: Path) -> None:
    assert isinstance(open_store(f"git+{bare}#{BRANCH}"), GitStore)
    assert not isinstance(open_store(tmp_path / "dir"), GitStore)


def test_write_then_read_from_another_machine(tmp_path: Path, bare: Path) -> None:
    first = _store(bare, tmp_path / "cache-a")
    second = _store(bare, tmp_path / "cache-b")
    assert first.read(FINGERPRINT, SUITE) is None  # the branch does not exist yet
    first.ensure_writable(FINGERPRINT, SUITE)
    first.write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    got = second.read(FINGERPRINT, SUITE)
    assert got is not None and results.commit(got) == "aaaa"
    assert _branch_files(bare) == [f"{FINGERPRINT}/{SUITE}/current.json"]
    second.write(FINGERPRINT, SUITE, _baseline("bbbb"))  # type: ignore[arg-type]
    entries = first.entries(archived=True)
    assert sorted((e.commit, e.archived) for e in entries) == [("aaaa", True), ("bbbb", False)]
    # Lock and probe files of the directory store never reach the branch.
    assert not any(".lock" in name or ".write-test" in name for name in _branch_files(bare))


def test_a_lost_race_is_retried_and_loses_nothing(
    tmp_path: Path, bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_git, "BACKOFF_BASE", 0.0)
    racer = _store(bare, tmp_path / "cache-a")
    other = _store(bare, tmp_path / "cache-b")
    racer.write(FINGERPRINT, SUITE, _baseline("0000"))  # type: ignore[arg-type]
    real_push = racer._push

    def push_after_the_other_runner() -> None:
        # The other runner pushes between this runner's fetch and its push.
        monkeypatch.setattr(racer, "_push", real_push)
        other.write(FINGERPRINT, SUITE, _baseline("bbbb"))  # type: ignore[arg-type]
        real_push()

    monkeypatch.setattr(racer, "_push", push_after_the_other_runner)
    racer.write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    assert racer.conflicts == 1
    entries = other.entries(archived=True)
    current = [e.commit for e in entries if not e.archived]
    archived = sorted(e.commit or "" for e in entries if e.archived)
    # The later write is current; the one it raced against is archived, not lost.
    assert current == ["aaaa"]
    assert archived == ["0000", "bbbb"]


def test_giving_up_keeps_the_baseline(
    tmp_path: Path, bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_git, "BACKOFF_BASE", 0.0)
    store = _store(bare, tmp_path / "cache", attempts=3)

    def always_lose() -> None:
        raise PushConflict("! refs/heads/perf-baselines [rejected] (fetch first)")

    monkeypatch.setattr(store, "_push", always_lose)
    with pytest.raises(StoreError, match="gave up after 3 pushes") as caught:
        store.write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    kept = Path(str(caught.value).rsplit(" ", 1)[-1])
    assert results.commit(results.load(kept)) == "aaaa"
    assert store.conflicts == 3


def test_an_unreachable_repository_names_the_store(tmp_path: Path) -> None:
    spec = f"git+{tmp_path / 'missing.git'}#{BRANCH}"
    store = GitStore(spec, cache=tmp_path / "cache")
    with pytest.raises(StoreError, match=re.escape(f"baseline store {spec}: `git fetch")) as caught:
        store.read(FINGERPRINT, SUITE)
    assert "does not appear to be a git repository" in str(caught.value)


def test_prune_is_pushed(tmp_path: Path, bare: Path) -> None:
    store = _store(bare, tmp_path / "cache-a")
    for commit in ("0001", "0002", "0003"):
        store.write(FINGERPRINT, SUITE, _baseline(commit))  # type: ignore[arg-type]
    removed = store.prune(keep=1)
    assert len(removed) == 1
    assert len(_store(bare, tmp_path / "cache-b").entries(archived=True)) == 2


# A writer process: several baselines of its own and several of a key both share,
# started together with the other writer (both wait for the start file).
_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from synthetic_results import make_suite, steady
    from perfagent.store import open_store

    spec, name, start = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    store = open_store(spec)
    while not start.exists():
        time.sleep(0.01)
    for i in range(3):
        own = make_suite({"grid.sum": steady(0.01)}, suite=f"own-{name}", commit=f"{name}-own-{i}")
        store.write("0000000000" + name, f"own-{name}", own)
        shared = make_suite({"grid.sum": steady(0.01)}, suite="shared", commit=f"{name}-shared-{i}")
        store.write("a1b2c3d4e5f6", "shared", shared)
    print(store.conflicts)
    """
)


def test_two_concurrent_writers_lose_nothing(tmp_path: Path, bare: Path) -> None:
    spec = f"git+file://{bare}#{BRANCH}"
    start = tmp_path / "start"
    env_path = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    writers = []
    for name in ("aa", "bb"):
        # Each writer has its own cache, as two runners on two machines would.
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / f"cache-{name}")}
        env["PYTHONPATH"] = env_path
        writers.append(
            subprocess.Popen(
                [sys.executable, "-c", _WRITER, spec, name, str(start)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    start.touch()
    outputs = [w.communicate(timeout=300) for w in writers]
    for writer, (_, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
    conflicts = sum(int(stdout.strip()) for stdout, _ in outputs)

    reader = GitStore(spec, cache=tmp_path / "cache-reader")
    entries = reader.entries(archived=True)
    commits = {(e.fingerprint, e.suite, e.commit, e.archived) for e in entries}
    for name in ("aa", "bb"):
        own = {c for f, s, c, _ in commits if s == f"own-{name}" and f.endswith(name)}
        assert own == {f"{name}-own-{i}" for i in range(3)}
    shared = [e for e in entries if e.suite == "shared"]
    # All six baselines of the shared key are there: the last pushed is current.
    assert sorted(e.commit or "" for e in shared) == sorted(
        f"{name}-shared-{i}" for name in ("aa", "bb") for i in range(3)
    )
    assert sum(not e.archived for e in shared) == 1
    # The writers raced (retries are not guaranteed on every run, so only reported).
    print(f"push conflicts retried: {conflicts}")


def test_cli_reads_a_git_store(tmp_path: Path, bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    spec = f"git+{bare}#{BRANCH}"
    _store(bare, tmp_path / "cache").write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    outcome = CliRunner().invoke(app, ["baselines", "list", "--store", spec, "--json"])
    assert outcome.exit_code == 0, outcome.output
    [entry] = json.loads(outcome.stdout)
    assert (entry["fingerprint"], entry["suite"], entry["commit"]) == (FINGERPRINT, SUITE, "aaaa")


def _push_symlink(bare: Path, tmp_path: Path, link: str, target: Path) -> None:
    """Commit a symlink at `link` on the shared branch, as a hostile pull request could."""
    work = tmp_path / "attacker"
    subprocess.run(["git", "clone", "--quiet", str(bare), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "--quiet", BRANCH], check=True)
    path = work / link
    if path.is_dir() and not path.is_symlink():
        subprocess.run(["git", "-C", str(work), "rm", "-r", "--quiet", link], check=True)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    env = {**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x",
           "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@x"}  # fmt: skip
    subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "--quiet", "-m", "evil"], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "--quiet", "origin", BRANCH], check=True)


def test_git_store_refuses_a_current_baseline_symlinked_to_a_secret(
    tmp_path: Path, bare: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=do-not-push\n")
    first = _store(bare, tmp_path / "cache-a")
    first.write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    _push_symlink(bare, tmp_path, f"{FINGERPRINT}/{SUITE}/current.json", secret)
    victim = _store(bare, tmp_path / "cache-b")
    with pytest.raises(StoreError, match="symbolic link"):
        victim.write(FINGERPRINT, SUITE, _baseline("bbbb"))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="symbolic link"):
        victim.read(FINGERPRINT, SUITE)
    shown = subprocess.run(
        ["git", "--git-dir", str(bare), "grep", "do-not-push", BRANCH],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert shown.stdout == ""


def test_git_store_refuses_an_archive_symlinked_outside(tmp_path: Path, bare: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    first = _store(bare, tmp_path / "cache-a")
    first.write(FINGERPRINT, SUITE, _baseline("aaaa"))  # type: ignore[arg-type]
    _push_symlink(bare, tmp_path, f"{FINGERPRINT}/{SUITE}/archive", outside)
    victim = _store(bare, tmp_path / "cache-b")
    with pytest.raises(StoreError, match="symbolic link"):
        victim.write(FINGERPRINT, SUITE, _baseline("bbbb"))  # type: ignore[arg-type]
    assert list(outside.iterdir()) == []
