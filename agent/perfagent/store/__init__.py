"""The baseline store: one current baseline per hardware fingerprint and suite.

Commands talk to a `BaselineStore` (the protocol in `store.base`), never to directories
or git: `open_store` picks the implementation from the store setting.

* `store.directory`: a directory tree (the layout is in docs/design.md).
* `store.git`: the same tree on a branch of a git repository, shared by a fleet.
* `store.atomic`: atomic file writes, used by both and by the reports.
* `store.lookup`: the baseline a check compares with, and why there is none (exit 3).
"""

from __future__ import annotations

import os

from perfagent.store.base import BaselineStore, StoredBaseline, describe

__all__ = ["BaselineStore", "StoredBaseline", "describe", "open_store", "scoped"]


def open_store(location: str | os.PathLike[str]) -> BaselineStore:
    """The store at `location`: `git+<url>#<branch>` is a git store (`store.git`),
    anything else a directory (`store.directory`)."""
    # Imported here: a command that never opens a store should not pay for either.
    from perfagent.store.git import GitStore, is_git_spec

    if is_git_spec(location):
        return GitStore(os.fspath(location))
    from perfagent.store.directory import DirectoryStore

    return DirectoryStore(location)


def scoped(location: str | os.PathLike[str], *parts: str) -> str:
    """The store setting of a store inside `location`, one directory per part.

    A directory store gets subdirectories (`/srv/baselines/owner/repo`); a git store
    keeps its URL and branch and gets a directory inside the branch
    (`git+ssh://host/perf.git#perf-baselines:owner/repo`), never a path glued onto its URL.
    """
    from perfagent.store.git import is_git_spec, parse_spec

    parts = tuple(p for p in parts if p)
    if is_git_spec(location):
        return parse_spec(os.fspath(location)).scoped(*parts).spec
    from pathlib import Path

    return str(Path(location).joinpath(*parts))
