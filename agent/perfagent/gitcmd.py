"""The one way the agent runs git: the command line, through subprocess.

The git store, the commit detection of a run and `perfagent remote`'s tree listing all
come through `run_git`; each turns its failures into its own error, since what a failed
git means differs (a store that cannot be reached, a tree that is not a checkout).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class GitUnavailable(Exception):
    """git is not installed, or did not finish in time."""


@dataclass(frozen=True)
class GitResult:
    """What one git command did."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        """stdout and stderr together, stripped (git reports progress and errors on both)."""
        return (self.stdout + self.stderr).strip()

    def gist(self) -> str:
        """The line that says what went wrong (git's first fatal or error)."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        for line in lines:
            if line.startswith(("fatal:", "error:")):
                return line
        return lines[-1] if lines else f"exit status {self.returncode}"


def batch_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git where nobody watches a terminal (CI, a runner service):
    never wait for a password, and make ssh fail rather than prompt."""
    env = dict(os.environ if base is None else base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> GitResult:
    """Run `git ARGS` in `cwd`; GitUnavailable when git is missing or times out."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        if cwd is not None and not Path(cwd).is_dir():
            raise
        raise GitUnavailable("git is not installed (apt-get install git)") from None
    except subprocess.TimeoutExpired:
        raise GitUnavailable(
            f"`git {' '.join(args)}` did not finish within {timeout:g} s"
        ) from None
    return GitResult(done.returncode, done.stdout, done.stderr)


def head_commit(cwd: Path | None = None) -> str | None:
    """The commit checked out at `cwd` (HEAD), or None outside a git checkout."""
    try:
        result = run_git(["rev-parse", "HEAD"], cwd=cwd or Path.cwd(), timeout=10)
    except (GitUnavailable, OSError):
        return None
    text = result.stdout.strip()
    if not result.ok or len(text) < 7:
        return None
    return text


def valid_branch(branch: str) -> bool:
    """True when `branch` can name a branch (git check-ref-format)."""
    try:
        return run_git(["check-ref-format", f"refs/heads/{branch}"], timeout=10).ok
    except GitUnavailable:
        return False
