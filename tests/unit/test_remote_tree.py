"""remote.py without a host: packing the working tree, the remote command line, the
runner's settings and unpacking fetched artifacts (the SSH session itself is tested
against a provisioned host in tests/integration/test_remote.py)."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from perfagent import remote
from perfagent.errors import UsageError


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "suite").mkdir(parents=True)
    _git(root, "init", "--quiet")
    (root / ".gitignore").write_text(".venv/\nmetrics/\n")
    (root / "suite" / "bench_x.py").write_text("def bench_x():\n    pass\n")
    (root / "gone.txt").write_text("deleted later\n")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "start")
    return root


def _names(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return set(tar.getnames())


def test_a_clean_tree_is_packed_at_head(repo: Path, tmp_path: Path) -> None:
    packed = remote.pack_tree(repo, tmp_path / "tree.tar.gz")
    head = _git(repo, "rev-parse", "HEAD").strip()
    assert packed.commit == head
    assert packed.subdir == ""
    assert _names(packed.archive) == {".gitignore", "suite/bench_x.py", "gone.txt"}


def test_the_tree_is_shipped_as_it_is_on_disk(repo: Path, tmp_path: Path) -> None:
    (repo / "suite" / "bench_x.py").write_text("def bench_x():\n    return 1\n")  # changed
    (repo / "suite" / "helper.py").write_text("X = 1\n")  # untracked
    (repo / "gone.txt").unlink()  # deleted
    (repo / ".venv").mkdir()
    (repo / ".venv" / "big").write_text("ignored\n")  # ignored
    (repo / "metrics").mkdir()
    (repo / "metrics" / "old.json").write_text("{}")  # ignored
    packed = remote.pack_tree(repo / "suite", tmp_path / "tree.tar.gz")
    assert packed.commit is not None and packed.commit.endswith("-dirty")
    assert packed.subdir == "suite"
    assert _names(packed.archive) == {".gitignore", "suite/bench_x.py", "suite/helper.py"}
    with tarfile.open(packed.archive) as tar:
        member = tar.extractfile("suite/bench_x.py")
        assert member is not None and b"return 1" in member.read()


def test_outside_a_git_tree_is_a_usage_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(UsageError, match="not in a git working tree"):
        remote.pack_tree(plain, tmp_path / "tree.tar.gz")


def test_the_remote_command_line() -> None:
    command = remote.agent_command(
        "/usr/local/bin/perfagent",
        ["check", "--threshold", "5", "-b", "grid *"],
        workdir="/tmp/perfagent-remote.x/tree/sub dir",
        artifacts="/tmp/perfagent-remote.x/artifacts",
        commit="abc123-dirty",
        runner_settings={"store": "/var/lib/perfagent/baselines", "cpus": "1"},
    )
    words = shlex.split(command)
    assert words[:3] == ["cd", "/tmp/perfagent-remote.x/tree/sub dir", "&&"]
    assert "PERFAGENT_STORE=/var/lib/perfagent/baselines" in words
    assert "PERFAGENT_CPUS=1" in words
    assert "PERFAGENT_OUTPUT_DIR=/tmp/perfagent-remote.x/artifacts" in words
    agent = words.index("/usr/local/bin/perfagent")
    assert words[agent + 1 :] == [
        "check", "--threshold", "5", "-b", "grid *", "--commit", "abc123-dirty",
    ]  # fmt: skip


def test_a_commit_given_by_the_user_wins() -> None:
    command = remote.agent_command(
        "perfagent", ["run", "--commit=mine"], workdir="/w", artifacts="/a", commit="head",
        runner_settings={},
    )  # fmt: skip
    assert "head" not in shlex.split(command)


@pytest.mark.parametrize("args", [[], ["baseline"], ["history"]])
def test_only_run_and_check_run_remotely(args: list[str]) -> None:
    with pytest.raises(UsageError, match="runs run or check on the host"):
        remote.agent_command("perfagent", args, workdir="/w", artifacts="/a", commit=None,
                             runner_settings={})  # fmt: skip


def test_runner_settings_from_its_config() -> None:
    text = 'store = "/var/lib/perfagent/baselines"\nthreshold = 10\ncpus = "1-3"\n'
    assert remote.runner_settings(text, "host:/etc/perfagent/perfagent.toml") == {
        "store": "/var/lib/perfagent/baselines",
        "cpus": "1-3",
    }
    with pytest.raises(UsageError, match=r"host:/etc/x\.toml: not valid TOML"):
        remote.runner_settings("store = ", "host:/etc/x.toml")


def test_output_paths_are_fetched_too() -> None:
    assert remote._output_paths(["run", "-o", "head.json"]) == ["head.json"]
    assert remote._output_paths(["check", "--output-dir=/tmp/m"]) == ["/tmp/m"]


def test_fetched_artifacts_land_in_the_target(tmp_path: Path) -> None:
    bundle = tmp_path / "artifacts.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for name, data in (("artifacts/summary.md", b"# ok"), ("tree/head.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    fetched = remote._unpack_artifacts(bundle, tmp_path / "out")
    assert fetched == ["summary.md", "tree/head.json"]
    assert (tmp_path / "out" / "summary.md").read_text() == "# ok"


def test_fetch_dir_for_a_host() -> None:
    assert remote.fetch_dir_for("user@10.0.0.1", Path("metrics")) == Path(
        "metrics/remote/user_10.0.0.1"
    )


def test_cli_refuses_a_baseline_before_connecting(repo: Path) -> None:
    # 198.18.0.1 is in the benchmark-test range: nothing answers there, nor is it asked.
    done = subprocess.run(
        [sys.executable, "-m", "perfagent", "remote", "198.18.0.1", "--", "baseline"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "runs run or check on the host, not baseline" in done.stderr
    assert "Traceback" not in done.stderr


def _bundle(path: Path, members: list[tarfile.TarInfo], data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _file(name: str, data: bytes = b"x") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


def _old_python_tarfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.11.0-3.11.3 (Debian 12's 3.11.2): no data_filter, no filter= argument."""
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    real = tarfile.TarFile.extractall

    def extractall(self: tarfile.TarFile, path: Any = ".", members: Any = None, **kw: Any) -> None:
        if "filter" in kw:
            raise TypeError("extractall() got an unexpected keyword argument 'filter'")
        real(self, path, members, **kw)

    monkeypatch.setattr(tarfile.TarFile, "extractall", extractall)


def test_artifacts_unpack_on_python_without_tar_filters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_python_tarfile(monkeypatch)
    bundle = _bundle(tmp_path / "a.tar.gz", [_file("artifacts/summary.md", b"# ok")], b"# ok")
    assert remote._unpack_artifacts(bundle, tmp_path / "out") == ["summary.md"]
    assert (tmp_path / "out" / "summary.md").read_text() == "# ok"


@pytest.mark.parametrize("old_python", [False, True])
@pytest.mark.parametrize(
    ("member", "says"),
    [
        (_file("../escaped.txt"), "climbs out"),
        (_file("/tmp/absolute.txt"), "absolute path"),
        (tarfile.TarInfo("artifacts/link"), "not a regular file"),
    ],
)
def test_hostile_artifacts_are_refused_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    member: tarfile.TarInfo,
    says: str,
    old_python: bool,
) -> None:
    if old_python:
        _old_python_tarfile(monkeypatch)
    if member.name.endswith("link"):
        member.type = tarfile.SYMTYPE
        member.linkname = "/etc/passwd"
    bundle = _bundle(tmp_path / "a.tar.gz", [_file("artifacts/ok.md"), member])
    with pytest.raises(UsageError, match=says) as refused:
        remote._unpack_artifacts(bundle, tmp_path / "out")
    assert refused.value.exit_code == 2
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "out" / "ok.md").exists()  # nothing of a refused archive
