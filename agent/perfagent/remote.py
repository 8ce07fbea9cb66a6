"""Run `perfagent run` or `perfagent check` on a provisioned runner, on this working tree.

A developer benchmarks a change on the fleet's quiet hardware without pushing it:

1. **Pack** the working tree as it is on disk: every file git tracks (with its
   uncommitted changes) and every untracked file git does not ignore, in a gzipped
   tar. Why not `git bundle` or `git archive`: a bundle ships history the run does
   not need and leaves uncommitted changes to a second patch, and `git archive`
   only knows commits; reading the files git lists gives exactly what the
   developer sees, without virtualenvs, build trees or old metrics (ignored),
   and the host needs no git. The commit recorded in the results is HEAD, marked
   `-dirty` when the tree differs from it.
2. **Upload** it over SSH (fabric, SFTP) into a fresh temporary directory on the
   host and unpack it there.
3. **Run** the agent there, in the same sub-directory the developer is in, with
   the runner's own store and benchmark CPUs (read from the runner's config file,
   as the runner service gives them to jobs), streaming its output line by line.
4. **Fetch** the artifacts (the output directory of the run or check) back into
   `metrics/remote/<host>/`, remove the temporary directory, and exit with the
   remote command's exit code, so `perfagent remote HOST -- check` gates like
   `perfagent check`.
"""

from __future__ import annotations

import os
import shlex
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from perfagent.errors import UsageError
from perfagent.gitcmd import GitUnavailable, run_git

if TYPE_CHECKING:
    from fabric import Connection

# The agent commands that may run remotely: they measure and judge, and write
# nothing into the runner's store (a baseline from a developer's tree would become
# the reference for every later pull request).
REMOTE_COMMANDS = ("run", "check")
# Where provisioning puts the agent (the perfagent role's perfagent_link) and its
# runner config (perfagent_config_dir).
DEFAULT_REMOTE_PERFAGENT = "/usr/local/bin/perfagent"
DEFAULT_RUNNER_CONFIG = "/etc/perfagent/perfagent.toml"
# Settings of the runner config that the runner service hands to every job as
# PERFAGENT_* variables: the remote run gets the same.
RUNNER_SETTINGS = ("store", "cpus")
# The artifacts directory inside the remote working directory.
ARTIFACTS = "artifacts"
# Options of run/check naming a file or directory the agent writes: fetched too.
_OUTPUT_OPTIONS = ("-o", "--output", "--output-dir")

Say = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    """How to reach the runner."""

    host: str
    user: str | None = None
    port: int | None = None
    identity: Path | None = None
    connect_timeout: float = 30.0

    @property
    def label(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.host}{port}"


@dataclass(frozen=True)
class PackedTree:
    """The working tree as a tarball, and what it holds."""

    archive: Path
    root: Path  # the repository's top directory
    subdir: str  # where the developer is, relative to root ("" at the top)
    files: int
    size: int
    commit: str | None


@dataclass
class RemoteOutcome:
    """What happened on the host."""

    exit_code: int
    artifacts: Path | None
    fetched: list[str] = field(default_factory=list)


# --- packing ------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path) -> str:
    try:
        done = run_git(args, cwd=cwd, timeout=120)
    except GitUnavailable:
        raise UsageError("perfagent remote needs git to pack the working tree") from None
    if not done.ok:
        raise UsageError(
            f"{cwd} is not in a git working tree (perfagent remote ships the files git "
            f"tracks or sees): {done.stderr.strip()}"
        )
    return done.stdout


def pack_tree(cwd: Path, into: Path) -> PackedTree:
    """Pack the git working tree around `cwd` as it is on disk into `into` (a .tar.gz)."""
    root = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    listing = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    names = sorted({name for name in listing.split("\0") if name})
    head = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root).strip() or None
    # --porcelain lists changed and untracked files: then the tree is not HEAD.
    dirty = bool(_git(["status", "--porcelain"], root).strip())
    commit = f"{head}-dirty" if head and dirty else head
    files = size = 0
    with tarfile.open(into, "w:gz") as archive:
        for name in names:
            path = root / name
            # A tracked file deleted in the tree stays deleted; a submodule is a directory.
            if not path.is_symlink() and not path.is_file():
                continue
            archive.add(path, arcname=name, recursive=False)
            files += 1
            size += path.lstat().st_size
    subdir = Path(os.path.relpath(cwd.resolve(), root.resolve())).as_posix()
    return PackedTree(
        archive=into,
        root=root,
        subdir="" if subdir == "." else subdir,
        files=files,
        size=size,
        commit=commit,
    )


# --- the remote command -------------------------------------------------------------


def _has_option(args: Sequence[str], *names: str) -> bool:
    return any(a in names or any(a.startswith(f"{n}=") for n in names) for a in args)


def _output_paths(args: Sequence[str]) -> list[str]:
    """The paths given to -o/--output/--output-dir in the agent's arguments."""
    paths = []
    for index, arg in enumerate(args):
        for option in _OUTPUT_OPTIONS:
            if arg == option and index + 1 < len(args):
                paths.append(args[index + 1])
            elif arg.startswith(f"{option}="):
                paths.append(arg.split("=", 1)[1])
    return paths


def agent_command(
    perfagent: str,
    args: Sequence[str],
    *,
    workdir: str,
    artifacts: str,
    commit: str | None,
    runner_settings: dict[str, str],
) -> str:
    """The shell command run on the host (every piece quoted)."""
    if not args or args[0] not in REMOTE_COMMANDS:
        given = args[0] if args else "nothing"
        raise UsageError(
            f"perfagent remote runs {' or '.join(REMOTE_COMMANDS)} on the host, not {given} "
            "(e.g. `perfagent remote HOST -- check --threshold 5`)"
        )
    arguments = list(args)
    if commit and not _has_option(arguments, "--commit"):
        arguments += ["--commit", commit]
    environment = {f"PERFAGENT_{k.upper()}": v for k, v in runner_settings.items()}
    # The artifacts go where they are fetched from; a flag of the user's still wins.
    environment["PERFAGENT_OUTPUT_DIR"] = artifacts
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(environment.items()))
    return (
        f"cd {shlex.quote(workdir)} && env {assignments} "
        f"{shlex.quote(perfagent)} {' '.join(shlex.quote(a) for a in arguments)}"
    )


def runner_settings(config_text: str, source: str) -> dict[str, str]:
    """The store and CPUs of the runner's config file, as the runner service passes them."""
    try:
        data: dict[str, Any] = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML: {exc}") from None
    return {key: str(data[key]) for key in RUNNER_SETTINGS if data.get(key) not in (None, "")}


# --- the session --------------------------------------------------------------------


def connect(target: Target) -> Connection:
    """A fabric Connection to the runner (the key, port and user given, else ssh config's)."""
    try:
        from fabric import Config, Connection
    except ImportError:
        raise UsageError(
            "perfagent remote needs fabric: pip install 'perfagent[fleet]' (or fabric)"
        ) from None

    connect_kwargs: dict[str, Any] = {}
    if target.identity is not None:
        connect_kwargs["key_filename"] = str(target.identity)
    return Connection(
        target.host,
        user=target.user,
        port=target.port,
        connect_timeout=int(target.connect_timeout),
        connect_kwargs=connect_kwargs,
        config=Config(overrides={"run": {"echo": False}}),
    )


def _run(
    conn: Connection, command: str, what: str, target: Target, *, stream: bool = False,
    out: TextIO | None = None, err: TextIO | None = None,
) -> Any:  # fmt: skip
    """Run a command on the host; UsageError naming the host when SSH itself fails."""
    try:
        if stream:
            # Line by line as the agent prints it: invoke copies the remote streams
            # to ours as bytes arrive.
            return conn.run(
                command, warn=True, pty=False, hide=False, in_stream=False,
                out_stream=out or sys.stdout, err_stream=err or sys.stderr,
            )  # fmt: skip
        return conn.run(command, warn=True, hide=True, in_stream=False)
    except Exception as exc:
        raise UsageError(f"{target.label}: {what} failed over SSH: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def run_remote(
    target: Target,
    args: Sequence[str],
    *,
    cwd: Path,
    fetch_to: Path,
    perfagent: str = DEFAULT_REMOTE_PERFAGENT,
    runner_config: str = DEFAULT_RUNNER_CONFIG,
    keep: bool = False,
    say: Say = print,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> RemoteOutcome:
    """Pack, upload, run, fetch, clean up; see the module docstring."""
    # Refuse a wrong command before packing or connecting.
    agent_command(perfagent, args, workdir=".", artifacts=".", commit=None, runner_settings={})
    with tempfile.TemporaryDirectory(prefix="perfagent-remote-") as scratch:
        packed = pack_tree(cwd, Path(scratch) / "tree.tar.gz")
        say(
            f"Packed {packed.root} ({packed.files} files, {packed.size / 1e6:.1f} MB, "
            f"commit {packed.commit or 'none'})"
        )
        conn = connect(target)
        try:
            return _session(
                conn, target, packed, args, fetch_to=fetch_to, perfagent=perfagent,
                runner_config=runner_config, keep=keep, say=say, out=out, err=err,
                scratch=Path(scratch),
            )  # fmt: skip
        finally:
            conn.close()


def _session(
    conn: Connection,
    target: Target,
    packed: PackedTree,
    args: Sequence[str],
    *,
    fetch_to: Path,
    perfagent: str,
    runner_config: str,
    keep: bool,
    say: Say,
    out: TextIO | None,
    err: TextIO | None,
    scratch: Path,
) -> RemoteOutcome:
    made = _run(conn, "mktemp -d /tmp/perfagent-remote.XXXXXX", "creating a directory", target)
    if made.exited != 0:
        raise UsageError(f"{target.label}: cannot create a temporary directory: {made.stderr}")
    base = made.stdout.strip()
    tree = f"{base}/tree"
    artifacts = f"{base}/{ARTIFACTS}"
    try:
        found = _run(conn, f"test -x {shlex.quote(perfagent)}", "looking for the agent", target)
        if found.exited != 0:
            raise UsageError(
                f"{target.label}: no agent at {perfagent} (provision the host with "
                "ansible/playbooks/provision.yml, or give --remote-perfagent)"
            )
        settings = _read_runner_settings(conn, target, runner_config)
        say(f"Uploading to {target.label}:{base}")
        started = time.monotonic()
        try:
            conn.put(str(packed.archive), f"{base}/tree.tar.gz")
        except Exception as exc:
            raise UsageError(f"{target.label}: upload failed: {_reason(exc)}") from None
        unpack = (
            f"mkdir -p {shlex.quote(tree)} {shlex.quote(artifacts)} && "
            f"tar -xzf {shlex.quote(base)}/tree.tar.gz -C {shlex.quote(tree)}"
        )
        unpacked = _run(conn, unpack, "unpacking the tree", target)
        if unpacked.exited != 0:
            raise UsageError(f"{target.label}: cannot unpack the tree: {unpacked.stderr.strip()}")
        say(f"Uploaded in {time.monotonic() - started:.1f} s")
        workdir = f"{tree}/{packed.subdir}" if packed.subdir else tree
        command = agent_command(
            perfagent, args, workdir=workdir, artifacts=artifacts, commit=packed.commit,
            runner_settings=settings,
        )  # fmt: skip
        say(f"Running on {target.label}: perfagent {' '.join(shlex.quote(a) for a in args)}")
        result = _run(conn, command, "the agent", target, stream=True, out=out, err=err)
        exit_code = int(result.exited)
        fetched = _fetch(conn, target, base, workdir, args, fetch_to, scratch)
        say(f"Artifacts of {target.label}: {fetch_to} ({len(fetched)} files)")
        return RemoteOutcome(exit_code=exit_code, artifacts=fetch_to, fetched=fetched)
    finally:
        if keep:
            say(f"Kept {target.label}:{base}")
        else:
            _run(conn, f"rm -rf {shlex.quote(base)}", "cleaning up", target)


def _read_runner_settings(conn: Connection, target: Target, path: str) -> dict[str, str]:
    if not path:
        return {}
    read = _run(conn, f"cat {shlex.quote(path)}", "reading the runner config", target)
    if read.exited != 0:
        # A host provisioned without a config: the agent's own defaults apply there.
        return {}
    return runner_settings(read.stdout, f"{target.label}:{path}")


def _fetch(
    conn: Connection,
    target: Target,
    base: str,
    workdir: str,
    args: Sequence[str],
    fetch_to: Path,
    scratch: Path,
) -> list[str]:
    """Bring back the artifacts directory and any output path given in `args`."""
    sources = [ARTIFACTS]
    for given in _output_paths(args):
        path = given if given.startswith("/") else f"{workdir}/{given}"
        sources.append(path)
    # One tarball of everything, relative to the session directory where possible.
    members = " ".join(
        shlex.quote(os.path.relpath(s, base) if s.startswith("/") else s) for s in sources
    )
    bundle = f"{base}/artifacts.tar.gz"
    packed = _run(
        conn,
        f"cd {shlex.quote(base)} && tar -czf {shlex.quote(bundle)} --ignore-failed-read "
        f"{members} 2>/dev/null; test -f {shlex.quote(bundle)}",
        "packing the artifacts",
        target,
    )
    if packed.exited != 0:
        return []
    local = scratch / "artifacts.tar.gz"
    try:
        conn.get(bundle, str(local))
    except Exception as exc:
        raise UsageError(
            f"{target.label}: downloading the artifacts failed: {_reason(exc)}"
        ) from None
    return _unpack_artifacts(local, fetch_to)


def _unpack_artifacts(bundle: Path, fetch_to: Path) -> list[str]:
    """Extract the artifacts: `artifacts/...` lands in `fetch_to` itself, other outputs
    under their path relative to the remote session (without climbing out of it).

    Every member is checked first, on every Python: only regular files and
    directories, with relative paths that stay inside `fetch_to`. Python 3.11.4+ also
    gets tarfile's "data" filter; 3.11.0-3.11.3 (Debian 12 ships 3.11.2) have no
    `filter=` argument, and the check alone guards them. A refused archive is a
    UsageError (exit 2) and nothing of it is written.
    """
    fetched = []
    fetch_to.mkdir(parents=True, exist_ok=True)
    root = fetch_to.resolve()
    try:
        with tarfile.open(bundle, "r:gz") as archive:
            members = []
            for member in archive.getmembers():
                name = member.name
                if name == ARTIFACTS or name.startswith(f"{ARTIFACTS}/"):
                    name = name[len(ARTIFACTS) :].lstrip("/") or "."
                _check_member(bundle, member, name, root)
                member.name = name
                members.append(member)
                if member.isfile():
                    fetched.append(name)
            if hasattr(tarfile, "data_filter"):
                archive.extractall(fetch_to, members=members, filter="data")
            else:
                archive.extractall(fetch_to, members=members)
    except (tarfile.TarError, OSError) as exc:
        raise UsageError(f"artifacts archive {bundle}: cannot unpack it: {exc}") from None
    return sorted(fetched)


def _check_member(bundle: Path, member: tarfile.TarInfo, name: str, root: Path) -> None:
    """UsageError unless the member is a plain file or directory that stays under root."""
    refused = f"artifacts archive {bundle}: refused member {member.name!r}"
    if not (member.isfile() or member.isdir()):
        raise UsageError(f"{refused}: not a regular file or directory")
    if name.startswith("/") or os.path.isabs(name):
        raise UsageError(f"{refused}: an absolute path")
    target = (root / name).resolve()
    if target != root and root not in target.parents:
        raise UsageError(f"{refused}: it climbs out of {root}")


def fetch_dir_for(host: str, base: Path) -> Path:
    """The default local directory for a host's artifacts: metrics/remote/<host>."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in host)
    return base / "remote" / safe
