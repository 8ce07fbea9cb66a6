"""Run `perfagent ARGS...` in the test's process and keep its exit code, stdout, stderr.

In-process runs are fast; the console is rebuilt per call so that COLUMNS set by a test
is honoured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    @property
    def last_line(self) -> str:
        return self.lines[-1] if self.lines else ""


Invoke = Callable[..., Result]


def make_invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    from perfagent import cli

    def run(*args: str | Path) -> Result:
        monkeypatch.setattr(sys, "argv", ["perfagent", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        captured = capsys.readouterr()
        code = exited.value.code
        if code is None:
            code = 0
        return Result(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run
