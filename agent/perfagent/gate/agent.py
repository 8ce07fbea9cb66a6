"""How the gate calls the agent: in this process, through its objects.

`LocalAgent` is the real thing; the gate's tests give the gate a stand-in with the
same four methods, so every event, policy and exit code is tested without measuring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from perfagent.errors import PerfAgentError
from perfagent.gate.doctor import Examination, Finding

if TYPE_CHECKING:
    from perfagent.config import Settings
    from perfagent.judge.verdict import CheckResult
    from perfagent.store.record import RecordedBaseline


class Agent(Protocol):
    def examine(self, settings: Settings) -> Examination: ...

    def check(self, settings: Settings) -> CheckResult: ...

    def baseline(self, settings: Settings) -> RecordedBaseline: ...

    def relative(self, settings: Settings) -> Any: ...


def _say(line: str) -> None:
    from perfagent.console import err

    err.print(line, markup=False, highlight=False)


class LocalAgent:
    """The agent in this process: doctor, check, baseline and ab as the commands run them."""

    def examine(self, settings: Settings) -> Examination:
        from perfagent.machine.doctor import Probe, own_pids, run_checks
        from perfagent.measure.runner import benchmark_cpus

        try:
            report = run_checks(Probe(cpus=benchmark_cpus(settings), own_pids=own_pids()))
        except PerfAgentError as exc:
            return Examination(fit=False, error=str(exc))
        findings = tuple(Finding(c.name, c.verdict, c.state, c.fix or "") for c in report.checks)
        return Examination(fit=report.fit, findings=findings)

    def check(self, settings: Settings) -> CheckResult:
        from perfagent.judge.verdict import check

        return check(settings, say=_say)

    def baseline(self, settings: Settings) -> RecordedBaseline:
        from perfagent.store.record import record_baseline

        return record_baseline(settings, say=_say)

    def relative(self, settings: Settings) -> Any:
        from perfagent.gate.relative import require_relative

        return require_relative()(settings)
