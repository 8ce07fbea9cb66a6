"""The gate's flow: event -> mode, trusted settings, the doctor, then baseline or check,
and what each outcome becomes on GitHub (annotations, step outputs, step summary) and
as an exit code (`errors.ExitCode`; only a regression is ever 1).

The verdict comes from the agent's objects (`judge.verdict.CheckResult`,
`store.record.RecordedBaseline`), never from text the agent printed.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfagent.errors import ExitCode, NoComparableBaseline, PerfAgentError
from perfagent.gate.doctor import DoctorPolicy, apply_policy
from perfagent.gate.github import Actions
from perfagent.gate.lock import machine_lock
from perfagent.gate.mode import AUTO, Mode, PullRequestMode, decide_mode

if TYPE_CHECKING:
    from perfagent.config import Settings
    from perfagent.gate.agent import Agent
    from perfagent.gate.doctor import Examination
    from perfagent.store.record import RecordedBaseline

JOB_TITLE = "Quality Gate 4: Performance Regression"


class NoBaselinePolicy(StrEnum):
    """What a check without a baseline for this hardware and suite becomes."""

    WARN = "warn"  # a warning, exit 0: neither a pass nor a failure
    FAIL = "fail"  # exit 3 (ExitCode.NO_BASELINE)
    ESTABLISH = "establish"  # measure and store the baseline now (`make bench`)


DEFAULT_LOCK = "/tmp/perf-gate.lock"


@dataclass(frozen=True)
class GateOptions:
    """The gate's own options (flags, or PERF_GATE_* variables)."""

    mode: str = AUTO
    pull_request_mode: PullRequestMode = PullRequestMode.CHECK
    default_branch: str = "main"
    suite: str | None = None
    threshold: float | None = None
    metric: str | None = None
    baseline_runs: int = 3
    confirm_runs: int | None = None
    store: str | None = None
    per_repository_store: bool = True
    output_dir: str = "metrics"
    doctor: DoctorPolicy = DoctorPolicy.ENFORCE
    no_baseline: NoBaselinePolicy = NoBaselinePolicy.WARN
    advisory: bool = False
    lock_file: str | None = DEFAULT_LOCK
    config: Path | None = None


def store_for(options: GateOptions, settings: Settings, repository: str) -> str | None:
    """The store the gate uses, None for the settings' own.

    On a shared runner several repositories benchmark suites of the same name on the
    same hardware; a configured store keeps each repository's baselines apart under
    <store>/<owner>/<repo> (inside the branch for a git store), unless --store is given
    or per-repository stores are off.
    """
    from perfagent.store import scoped

    if options.store:
        return options.store
    if options.per_repository_store and repository and "store" in settings.sources:
        return scoped(settings.store, repository)
    return None


def _settings(options: GateOptions, environ: Mapping[str, str], mode: Mode) -> Settings:
    from perfagent.gate.settings import gate_settings

    flags: dict[str, Any] = {
        "suite": options.suite,
        "metric": options.metric,
        "output_dir": options.output_dir,
        "confirm_runs": options.confirm_runs,
        "baseline_runs": options.baseline_runs,
        "store": options.store,
    }
    if mode != Mode.BASELINE:
        flags["threshold"] = options.threshold
    settings = gate_settings(flags, config=options.config, environ=environ)
    store = store_for(options, settings, environ.get("GITHUB_REPOSITORY", ""))
    if store is not None and store != settings.store:
        settings = gate_settings({**flags, "store": store}, config=options.config, environ=environ)
    return settings


def _header(options: GateOptions, settings: Settings, mode: Mode, reason: str) -> str:
    rows = [
        f"| mode | {mode} ({reason}) |",
        f"| suite | `{settings.suite}` |",
        f"| metric | {settings.metric} |",
    ]
    if mode != Mode.BASELINE:
        rows.append(f"| threshold | {settings.threshold:g}% |")
    rows.append(f"| store | `{settings.store}` |")
    if options.advisory:
        rows.append("| advisory | yes: a failure here does not block merging |")
    return f"## {JOB_TITLE}\n\n| | |\n|---|---|\n" + "\n".join(rows) + "\n\n"


def run_gate(
    options: GateOptions,
    agent: Agent,
    *,
    environ: Mapping[str, str] | None = None,
    actions: Actions | None = None,
) -> int:
    """The whole gate; its exit code."""
    env = os.environ if environ is None else environ
    gh = actions or Actions(env)
    try:
        return _run(options, agent, env, gh)
    except PerfAgentError as exc:
        return _failure(gh, "Performance gate", exc)
    except Exception as exc:
        # A bug, not a verdict: reported as such (exit 4), never as a regression.
        if env.get("PERFAGENT_DEBUG"):
            traceback.print_exc()
        message = (
            f"internal error: {type(exc).__name__}: {exc} (set PERFAGENT_DEBUG=1 for the traceback)"
        )
        print(f"perfagent: {message}", flush=True)
        gh.annotate("error", message, title="Performance gate: internal error")
        gh.set_output("verdict", "error")
        gh.set_output("exit-code", str(int(ExitCode.INTERNAL)))
        return ExitCode.INTERNAL


def _run(options: GateOptions, agent: Agent, env: Mapping[str, str], gh: Actions) -> int:
    mode, reason = decide_mode(
        options.mode,
        env.get("GITHUB_EVENT_NAME", ""),
        env.get("GITHUB_REF", ""),
        options.default_branch,
        pr_mode=options.pull_request_mode,
    )
    settings = _settings(options, env, mode)
    print(f"{JOB_TITLE}: {mode} ({reason})", flush=True)
    gh.set_output("mode", str(mode))
    gh.summary(_header(options, settings, mode, reason))
    Path(settings.output_dir).mkdir(parents=True, exist_ok=True)
    with machine_lock(options.lock_file):
        if options.doctor == DoctorPolicy.SKIP:
            print("perfagent doctor: skipped (--doctor skip)", flush=True)
        else:
            with gh.group("perfagent doctor: is this machine fit to benchmark?"):
                examination = agent.examine(settings)
                _print_examination(examination)
            stop = apply_policy(examination, options.doctor, settings.metric, gh)
            if stop is not None:
                return stop
        if mode == Mode.BASELINE:
            return _baseline(agent, settings, gh)
        return _check(agent, settings, options, mode, gh)


def _print_examination(examination: Examination) -> None:
    for finding in examination.findings:
        print(finding.line(), flush=True)
    if examination.error:
        print(f"perfagent: error: {examination.error}", flush=True)
    elif examination.fit:
        print("Fit to benchmark.", flush=True)
    else:
        failed = [f.name for f in examination.findings if f.verdict == "fail"]
        print(f"Not fit to benchmark: {', '.join(failed)}", flush=True)


def _baseline(agent: Agent, settings: Settings, gh: Actions) -> int:
    try:
        recorded = agent.baseline(settings)
    except PerfAgentError as exc:
        return _failure(gh, "perfagent baseline", exc)
    copy = _artifact_copy(recorded, Path(settings.output_dir))
    print(recorded.describe(), flush=True)
    message = (
        f"Baseline established: suite {recorded.suite}, hardware {recorded.fingerprint}, "
        f"{recorded.runs} run(s)" + (f", commit {recorded.commit[:12]}" if recorded.commit else "")
    )
    print(message, flush=True)
    gh.annotate("notice", message, title="Performance baseline")
    gh.summary(
        f"**{message}.**\n\nStored in `{recorded.stored.location}` (store "
        f"`{recorded.store_location}`); a copy is in the artifact at `{copy}`.\n"
    )
    gh.set_output("verdict", "baseline")
    gh.set_output("exit-code", str(int(ExitCode.OK)))
    gh.set_output("fingerprint", recorded.fingerprint)
    gh.set_output("baseline", str(copy))
    _history_site(settings, recorded.fingerprint, gh)
    return ExitCode.OK


def _history_site(settings: Settings, fingerprint: str, gh: Actions) -> None:
    """This machine's baselines over time as pages in the artifact (`history/index.html`).

    Advice beside the baseline, like the history notes of a check: a store that cannot
    be read for it is a warning, never a failed job.
    """
    from perfagent.reports import dashboard
    from perfagent.reports.html import repository_url
    from perfagent.store import open_store

    try:
        site = dashboard.publish(
            open_store(settings.store),
            Path(settings.output_dir) / "history",
            fingerprints=[fingerprint],
            repo_url=repository_url(settings.repo_url, os.environ),
        )
    except PerfAgentError as exc:
        print(f"perfagent: warning: history pages not written: {exc}", flush=True)
        return
    print(site.describe(), flush=True)
    gh.summary(f"This machine's baselines over time: `{site.index}` in the artifact.\n")
    gh.set_output("history", str(site.index))


def _artifact_copy(recorded: RecordedBaseline, output_dir: Path) -> Path:
    """The new baseline in the artifact, in the store's layout, byte for byte."""
    from perfagent import results
    from perfagent.store.atomic import atomic_write_bytes

    copy = output_dir / "baselines" / recorded.fingerprint / recorded.suite / "current.json"
    copy.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(copy, results.dump_bytes(recorded.baseline))
    return copy


def _check(agent: Agent, settings: Settings, options: GateOptions, mode: Mode, gh: Actions) -> int:
    from perfagent.reports.publish import publish_check
    from perfagent.reports.report import final_line

    what = "perfagent ab" if mode == Mode.RELATIVE else "perfagent check"
    try:
        checked = agent.relative(settings) if mode == Mode.RELATIVE else agent.check(settings)
    except NoComparableBaseline as exc:
        if options.no_baseline == NoBaselinePolicy.ESTABLISH and mode == Mode.CHECK:
            print(f"perfagent: {exc}", flush=True)
            print("No baseline for this machine yet: establishing it (this run is the baseline)")
            return _baseline(agent, settings, gh)
        return _no_baseline(gh, exc, options.no_baseline == NoBaselinePolicy.FAIL)
    except PerfAgentError as exc:
        return _failure(gh, what, exc)
    outcome = checked.outcome
    artifacts = publish_check(outcome, checked.head, settings.output_dir, settings.repo_url)
    gh.set_output("report", str(artifacts.report))
    verdict = final_line(outcome)
    if outcome.exit_code == ExitCode.OK:
        gh.annotate("notice", verdict, title="Performance")
        gh.set_output("verdict", "pass")
        gh.set_output("exit-code", str(int(ExitCode.OK)))
        return ExitCode.OK
    names = ", ".join(
        f"{d.name} ({d.change_percent:+.1f}%)" for d in outcome.comparison.regressions
    )
    advisory = " (advisory: this gate does not block merging)" if options.advisory else ""
    gh.annotate(
        "error",
        f"{verdict}\nRegressed: {names}\nDetails: the step summary and the "
        f"performance-metrics artifact.{advisory}",
        title="Performance regression",
    )
    gh.set_output("verdict", "regression")
    gh.set_output("exit-code", str(int(ExitCode.REGRESSION)))
    return ExitCode.REGRESSION


def _no_baseline(gh: Actions, exc: NoComparableBaseline, strict: bool) -> int:
    """No baseline for this hardware and suite: neither a pass nor a failure."""
    print(f"perfagent: error: {exc}", flush=True)
    gh.annotate(
        "warning",
        "Not checked: no baseline for this hardware and suite yet, so this is neither a "
        f"pass nor a failure. A push to the default branch establishes one.\n{exc}",
        title="No performance baseline",
    )
    gh.summary(
        "**Not checked: no baseline for this hardware and suite.** Neither a pass nor a "
        "failure; a push to the default branch establishes one.\n\n"
        f"```\n{exc}\n```\n"
    )
    gh.set_output("verdict", "no-baseline")
    gh.set_output("exit-code", str(int(ExitCode.NO_BASELINE)))
    return ExitCode.NO_BASELINE if strict else ExitCode.OK


def _failure(gh: Actions, what: str, exc: PerfAgentError) -> int:
    """An error that is not a verdict: bad input or settings (2), never 1."""
    code = exc.exit_code if exc.exit_code != ExitCode.REGRESSION else ExitCode.INTERNAL
    title = f"{what}: input or configuration error" if code == ExitCode.USAGE else what
    print(f"perfagent: error: {exc}", flush=True)
    gh.annotate("error", str(exc), title=title)
    gh.summary(f"**{title}**\n\n```\n{exc}\n```\n")
    gh.set_output("verdict", "error")
    gh.set_output("exit-code", str(int(code)))
    return int(code)
