"""GitHub Actions' workflow commands and files: the one place the gate talks to GitHub.

Annotations (`::error::`, `::warning::`, `::notice::`) go to the log, where GitHub shows
them on the run and the pull request; step outputs to `$GITHUB_OUTPUT`; Markdown to
`$GITHUB_STEP_SUMMARY`; variables and PATH entries for later steps to `$GITHUB_ENV`
and `$GITHUB_PATH`. Each file is optional: outside Actions nothing is written.

Standard library only: `scripts/performance_gate.py`, which runs before perfagent is
installed, loads this file by path.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (title=...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Actions:
    """Workflow commands to `stream`, files named by `environ` (os.environ by default)."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, stream: TextIO | None = None
    ) -> None:
        self.environ = os.environ if environ is None else environ
        self.stream = stream

    def _print(self, line: str) -> None:
        stream = self.stream or sys.stdout
        print(line, file=stream, flush=True)

    def annotate(self, level: str, message: str, title: str | None = None) -> None:
        """An annotation: level is error, warning or notice."""
        props = f" title={escape_property(title)}" if title else ""
        self._print(f"::{level}{props}::{escape_data(message)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsed group of log lines."""
        self._print(f"::group::{title}")
        try:
            yield
        finally:
            self._print("::endgroup::")

    def _append(self, variable: str, text: str) -> None:
        target = self.environ.get(variable)
        if not target:
            return
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)

    def _key_value(self, variable: str, name: str, value: str) -> None:
        if "\n" in value:
            # Multi-line values: a delimiter no value line can equal.
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            self._append(variable, f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            self._append(variable, f"{name}={value}\n")

    def set_output(self, name: str, value: str) -> None:
        """A step output ($GITHUB_OUTPUT)."""
        self._key_value("GITHUB_OUTPUT", name, value)

    def export(self, name: str, value: str) -> None:
        """An environment variable for the later steps of the job ($GITHUB_ENV)."""
        self._key_value("GITHUB_ENV", name, value)

    def add_path(self, directory: str) -> None:
        """A directory prepended to PATH for the later steps ($GITHUB_PATH)."""
        self._append("GITHUB_PATH", f"{directory}\n")

    def summary(self, markdown: str) -> None:
        """Markdown appended to the job's step summary ($GITHUB_STEP_SUMMARY)."""
        self._append(
            "GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n"
        )
