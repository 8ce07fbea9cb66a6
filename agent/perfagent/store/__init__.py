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

__all__ = ["BaselineStore", "StoredBaseline", "describe", "open_store"]


def open_store(location: str | os.PathLike[str]) -> BaselineStore:
    """The store at `location`: `git+<url>#<branch>` is a git store (`store.git`),
    anything else a directory (`store.directory`)."""
    # Imported here: a command that never opens a store should not pay for either.
    from perfagent.store.git import GitStore, is_git_spec

    if is_git_spec(location):
        return GitStore(os.fspath(location))
    from perfagent.store.directory import DirectoryStore

    return DirectoryStore(location)
