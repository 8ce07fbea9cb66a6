"""The gate's doctor policy: is this machine fit to benchmark, and what if it is not.

* enforce (default): an unfit machine stops the gate before anything is measured, exit
  5 (`ExitCode.UNFIT`), with the checks that did not pass and their fixes; never 1,
  which reads as a regression;
* warn: the same report as a warning, and the gate measures anyway;
* skip: no doctor.

Instruction counts do not depend on load, clock or tuning, so with the instructions
metric an unfit machine is reported and measured all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from perfagent.errors import ExitCode
from perfagent.gate.github import Actions


class DoctorPolicy(StrEnum):
    ENFORCE = "enforce"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    """One doctor check as the gate reports it."""

    name: str
    verdict: str  # ok, warn, fail, unavailable
    state: str
    fix: str = ""

    def line(self) -> str:
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{self.verdict}: {self.name}: {self.state}{fix}"


@dataclass(frozen=True)
class Examination:
    """What the doctor found: fit or not, each check; `error` when it could not run
    (bad settings: exit 2)."""

    fit: bool
    findings: Sequence[Finding] = ()
    error: str | None = None


def problems(examination: Examination) -> str:
    """The checks that did not pass, one a line with their fix, failures first."""
    lines = [f.line() for f in examination.findings if f.verdict in ("fail", "warn")]
    return "\n".join(sorted(lines, key=lambda line: not line.startswith("fail")))


def apply_policy(
    examination: Examination, policy: DoctorPolicy, metric: str, actions: Actions
) -> int | None:
    """Report the doctor's findings under `policy`; an exit code when the gate must stop."""
    if examination.fit and examination.error is None:
        return None
    findings = problems(examination) or examination.error or "not fit to benchmark"
    bad_settings = examination.error is not None
    note = (
        "perfagent doctor: bad settings" if bad_settings else "This machine is not fit to benchmark"
    )
    tolerant = metric == "instructions" and not bad_settings
    if policy == DoctorPolicy.WARN or tolerant:
        why = (
            "--doctor warn"
            if policy == DoctorPolicy.WARN
            else "instruction counts do not depend on the machine's tuning or load"
        )
        actions.annotate(
            "warning", f"{note}; measuring anyway ({why}).\n{findings}", title="perfagent doctor"
        )
        actions.summary(f"**Doctor** (not enforced: {why}): {note}.\n\n```\n{findings}\n```\n")
        return None
    code = ExitCode.USAGE if bad_settings else ExitCode.UNFIT
    actions.annotate(
        "error",
        f"{note}, so nothing was measured (this is not a performance regression). "
        f"Fix the machine or its provisioning (ansible role perf_tuning):\n{findings}",
        title="Performance runner not fit to benchmark",
    )
    actions.summary(
        f"**Not measured: {note.lower()}** (not a regression). The full report is in "
        f"the job log.\n\n```\n{findings}\n```\n"
    )
    actions.set_output("verdict", "unfit" if code == ExitCode.UNFIT else "error")
    actions.set_output("exit-code", str(int(code)))
    return int(code)
