"""gate/relative.py: the relative mode's hook to `perfagent ab`."""

from __future__ import annotations

import sys
import types

import pytest
from perfagent.errors import ExitCode, UsageError
from perfagent.gate import relative


def test_without_ab_the_relative_mode_is_an_input_error() -> None:
    assert relative.relative_entry("perfagent.commands.no_such_ab") is None
    with pytest.raises(UsageError, match=relative.MISSING) as caught:
        relative.require_relative("perfagent.commands.no_such_ab")
    assert caught.value.exit_code == ExitCode.USAGE


def test_the_ab_entry_point_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("fake_ab")
    calls: list[object] = []
    module.gate_entry = lambda settings: calls.append(settings) or "outcome"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_ab", module)
    entry = relative.require_relative("fake_ab")
    assert entry("settings") == "outcome"
    assert calls == ["settings"]
    # A module without the entry point is no ab either.
    monkeypatch.setitem(sys.modules, "empty_ab", types.ModuleType("empty_ab"))
    assert relative.relative_entry("empty_ab") is None
