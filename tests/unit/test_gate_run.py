"""gate/run.py against a stand-in agent: which operation runs for which event, and what
each outcome becomes (annotations, step outputs, step summary, exit code).

The real agent runs in tests/e2e/test_workflow_gate.py; here `FakeAgent` (the
`gate.agent.Agent` protocol) returns real `CheckResult`/`RecordedBaseline` objects built
from synthetic results, or raises the agent's own errors, so every path is fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf
import pytest
from perfagent import results
from perfagent.config import Settings
from perfagent.errors import NoComparableBaseline, PerfAgentError, UsageError
from perfagent.gate.doctor import DoctorPolicy, Examination, Finding
from perfagent.gate.github import Actions
from perfagent.gate.mode import PullRequestMode
from perfagent.gate.run import GateOptions, NoBaselinePolicy, run_gate
from perfagent.judge import stats
from perfagent.judge.verdict import CheckResult
from perfagent.reports import report
from perfagent.store.base import StoredBaseline
from perfagent.store.record import RecordedBaseline
from synthetic_results import FINGERPRINT, make_suite

SHA = "b5bc214fa05e187e8441de727b34b0a8677c7162"
UNFIT = Examination(
    fit=False,
    findings=(
        Finding("Load", "fail", "CPU 0-1 100% busy", "perf_tuning_benchmark_cpus"),
        Finding("ASLR", "ok", "2", "perf_tuning_aslr: 2"),
    ),
)


def checked(slowdown: float) -> CheckResult:
    """A real check outcome: gate.checksum `slowdown` times slower, gate.histogram same."""
    base = make_suite({"gate.checksum": [[1.0] * 5], "gate.histogram": [[1.0] * 5]}, suite="gate")
    head = make_suite(
        {"gate.checksum": [[slowdown] * 5], "gate.histogram": [[1.0] * 5]}, suite="gate"
    )
    comparison = stats.compare(
        results.samples_by_name(base), results.samples_by_name(head), lambda _: 10.0
    )
    outcome = report.Outcome(
        comparison=comparison,
        threshold=10.0,
        metric="time",
        suite="gate",
        fingerprint=FINGERPRINT,
        base=report.Side("baseline", "store", "c0ffee", 1),
        head=report.Side("current", "this run", SHA, 1),
    )
    return CheckResult(outcome=outcome, head=head, store_location="store")


@dataclass
class FakeAgent:
    examination: Examination = field(default_factory=lambda: Examination(fit=True))
    outcome: CheckResult | PerfAgentError = field(default_factory=lambda: checked(1.0))
    calls: list[tuple[str, Settings]] = field(default_factory=list)

    def examine(self, settings: Settings) -> Examination:
        self.calls.append(("doctor", settings))
        return self.examination

    def check(self, settings: Settings) -> CheckResult:
        self.calls.append(("check", settings))
        return self._outcome()

    def _outcome(self) -> CheckResult:
        if isinstance(self.outcome, PerfAgentError):
            raise self.outcome
        return self.outcome

    def relative(self, settings: Settings) -> CheckResult:
        self.calls.append(("relative", settings))
        return self._outcome()

    def baseline(self, settings: Settings) -> RecordedBaseline:
        self.calls.append(("baseline", settings))
        pooled = make_suite({"gate.checksum": [[1.0, 1.0]]}, suite="gate", commit=SHA)
        return RecordedBaseline(
            stored=StoredBaseline(
                FINGERPRINT, "gate", f"store/{FINGERPRINT}/gate/current.json", False, benchmarks=1
            ),
            baseline=pooled,
            fingerprint=FINGERPRINT,
            suite="gate",
            runs=settings.baseline_runs,
            commit=SHA,
            store_location="store",
        )

    def commands(self) -> list[str]:
        return [name for name, _ in self.calls]

    def settings(self, name: str) -> Settings:
        return next(s for n, s in self.calls if n == name)


@dataclass
class GateRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_STEP_SUMMARY", "PERFAGENT_STORE", "PERFAGENT_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    def run(
        agent: FakeAgent,
        event: str = "pull_request",
        ref: str = "refs/pull/3/merge",
        env: dict[str, str] | None = None,
        **options: Any,
    ) -> GateRun:
        outputs, summary = tmp_path / "output", tmp_path / "summary"
        outputs.write_text("")
        summary.write_text("")
        environ = {
            "GITHUB_EVENT_NAME": event,
            "GITHUB_REF": ref,
            "GITHUB_SHA": SHA,
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(summary),
            "PERFAGENT_RUNNER_CONFIG": str(tmp_path / "no-runner-config.toml"),
            **(env or {}),
        }
        # The agent's own summary.md goes to the same step summary.
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        opts = GateOptions(
            suite="tests/suites/gate",
            output_dir=str(tmp_path / "metrics"),
            lock_file=str(tmp_path / "lock"),
            **options,
        )
        code = run_gate(opts, agent, environ=environ, actions=Actions(environ))
        printed = capsys.readouterr()
        parsed = dict(
            line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line
        )
        return GateRun(int(code), printed.out, parsed, summary.read_text())

    return run


def test_a_pull_request_is_checked_and_passes(gate) -> None:  # type: ignore[no-untyped-def]
    agent = FakeAgent()
    run = gate(agent, threshold=10.0, store="store")
    assert run.code == 0
    assert agent.commands() == ["doctor", "check"]
    assert agent.settings("check").threshold == 10.0
    assert agent.settings("check").store == "store"
    assert run.outputs["mode"] == "check"
    assert run.outputs["verdict"] == "pass"
    assert Path(run.outputs["report"]).name.startswith("performance_report_")
    assert "::notice title=Performance::Performance within acceptable limits" in run.log
    assert "| mode | check (pull_request event) |" in run.summary


def test_a_regression_fails_with_exit_1_and_an_error_annotation(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FakeAgent(outcome=checked(1.25)), threshold=10.0)
    assert run.code == 1
    assert run.outputs["verdict"] == "regression"
    assert run.outputs["exit-code"] == "1"
    error = next(line for line in run.log.splitlines() if line.startswith("::error"))
    assert error.startswith("::error title=Performance regression::")
    # The seed's message, with % escaped as GitHub's workflow commands require.
    assert "Performance regression > 10%25 detected" in error
    assert "Regressed: gate.checksum (+25.0%25)" in error
    assert "gate.histogram" not in error
    # The agent's own verdict line is in the log as it prints it.
    assert "Performance regression > 10% detected in 1 of 2 benchmarks" in run.log


def test_the_advisory_switch_says_so(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FakeAgent(outcome=checked(1.25)), advisory=True)
    assert run.code == 1, "the job's continue-on-error, not the gate, makes it advisory"
    assert "advisory: this gate does not block merging" in run.log
    assert "| advisory | yes" in run.summary


def test_no_baseline_is_a_warning_neither_pass_nor_failure(gate) -> None:  # type: ignore[no-untyped-def]
    missing = NoComparableBaseline("no baseline for fingerprint 0123456789ab and suite 'gate'")
    run = gate(FakeAgent(outcome=missing))
    assert run.code == 0
    assert run.outputs["verdict"] == "no-baseline"
    assert run.outputs["exit-code"] == "3"
    assert "::warning title=No performance baseline::Not checked" in run.log
    assert "Neither a pass nor a failure" in run.summary
    assert gate(FakeAgent(outcome=missing), no_baseline=NoBaselinePolicy.FAIL).code == 3


def test_no_baseline_can_be_established_on_the_spot(gate) -> None:  # type: ignore[no-untyped-def]
    """`make bench`: the first run on a machine becomes its baseline."""
    agent = FakeAgent(outcome=NoComparableBaseline("no baseline for fingerprint x"))
    run = gate(agent, mode="check", no_baseline=NoBaselinePolicy.ESTABLISH)
    assert run.code == 0
    assert agent.commands() == ["doctor", "check", "baseline"]
    assert run.outputs["verdict"] == "baseline"


def test_bad_input_is_exit_2_never_1(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FakeAgent(outcome=UsageError("--threshold: not a number")))
    assert run.code == 2
    assert run.outputs["verdict"] == "error"
    assert "::error title=perfagent check%3A input or configuration error::" in run.log


def test_a_bug_is_exit_4_never_1(gate) -> None:  # type: ignore[no-untyped-def]
    class Broken(FakeAgent):
        def check(self, settings: Settings) -> CheckResult:
            raise KeyError("x")

    run = gate(Broken())
    assert run.code == 4
    assert run.outputs["verdict"] == "error"
    assert "internal error: KeyError" in run.log


def test_a_push_to_main_establishes_the_baseline(gate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    agent = FakeAgent()
    run = gate(agent, event="push", ref="refs/heads/main", store="store")
    assert run.code == 0
    assert agent.commands() == ["doctor", "baseline"]
    assert agent.settings("baseline").baseline_runs == 3
    copy = tmp_path / "metrics" / "baselines" / FINGERPRINT / "gate" / "current.json"
    assert pyperf.BenchmarkSuite.load(str(copy)).get_benchmark_names() == ["gate.checksum"]
    assert run.outputs["verdict"] == "baseline"
    assert run.outputs["baseline"] == str(copy)
    assert run.outputs["fingerprint"] == FINGERPRINT
    assert "::notice title=Performance baseline::Baseline established" in run.log
    assert "Baseline established" in run.summary


@pytest.mark.parametrize(
    ("event", "ref", "options", "mode"),
    [
        ("push", "refs/heads/feature", {}, "check"),
        ("push", "refs/heads/trunk", {"default_branch": "trunk"}, "baseline"),
        ("workflow_dispatch", "refs/heads/main", {}, "check"),
        ("workflow_dispatch", "refs/heads/main", {"mode": "baseline"}, "baseline"),
        ("merge_group", "refs/heads/gh-readonly-queue/main/x", {}, "check"),
        (
            "pull_request",
            "refs/pull/3/merge",
            {"pull_request_mode": PullRequestMode.RELATIVE},
            "relative",
        ),
        ("pull_request", "refs/pull/3/merge", {"mode": "relative"}, "relative"),
        ("", "", {}, "check"),
    ],
)
def test_which_events_check_and_which_establish(gate, event, ref, options, mode) -> None:  # type: ignore[no-untyped-def]
    agent = FakeAgent()
    run = gate(agent, event=event, ref=ref, **options)
    assert run.outputs["mode"] == mode
    assert agent.commands()[-1] == mode


def test_an_unknown_mode_is_an_input_error(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FakeAgent(), mode="sometimes")
    assert run.code == 2
    assert "--mode 'sometimes'" in run.log


def test_an_unfit_machine_fails_with_the_doctor_report_not_a_regression(gate) -> None:  # type: ignore[no-untyped-def]
    agent = FakeAgent(examination=UNFIT)
    run = gate(agent)
    assert run.code == 5
    assert agent.commands() == ["doctor"], "nothing is measured"
    assert run.outputs["verdict"] == "unfit"
    error = next(line for line in run.log.splitlines() if line.startswith("::error"))
    assert "not fit to benchmark" in error and "not a performance regression" in error
    assert "fail: Load: CPU 0-1 100%25 busy (fix: perf_tuning_benchmark_cpus)" in error
    assert "ASLR" not in error, "only the checks that did not pass"
    assert "Not measured" in run.summary


def test_doctor_bad_settings_are_exit_2(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(
        FakeAgent(examination=Examination(fit=False, error="'cpus': '9-' is not a CPU list"))
    )
    assert run.code == 2
    assert run.outputs["verdict"] == "error"


def test_the_doctor_can_warn_or_be_skipped(gate) -> None:  # type: ignore[no-untyped-def]
    warned_agent = FakeAgent(examination=UNFIT)
    warned = gate(warned_agent, doctor=DoctorPolicy.WARN)
    assert warned.code == 0
    assert warned_agent.commands()[-1] == "check"
    assert "::warning title=perfagent doctor::" in warned.log
    skipped_agent = FakeAgent(examination=UNFIT)
    gate(skipped_agent, doctor=DoctorPolicy.SKIP)
    assert skipped_agent.commands() == ["check"]


def test_instruction_counts_do_not_need_a_quiet_machine(gate) -> None:  # type: ignore[no-untyped-def]
    agent = FakeAgent(examination=UNFIT)
    run = gate(agent, metric="instructions")
    assert run.code == 0
    assert agent.commands()[-1] == "check"
    assert agent.settings("check").metric == "instructions"
    assert agent.settings("check").confirm_runs == 2, "the agent's own default"
    assert "instruction counts do not depend" in run.log
    confirmed = FakeAgent()
    gate(confirmed, metric="instructions", confirm_runs=4)
    assert confirmed.settings("check").confirm_runs == 4


def test_each_repository_keeps_its_own_baselines_on_a_shared_runner(gate) -> None:  # type: ignore[no-untyped-def]
    env = {"PERFAGENT_STORE": "/srv/perf/baselines", "GITHUB_REPOSITORY": "natcap/hazelbean"}
    agent = FakeAgent()
    gate(agent, env=env)
    assert agent.settings("check").store == "/srv/perf/baselines/natcap/hazelbean"
    shared = FakeAgent()
    gate(shared, env=env, per_repository_store=False)
    assert shared.settings("check").store == "/srv/perf/baselines"


def test_a_git_store_is_scoped_inside_its_branch(gate) -> None:  # type: ignore[no-untyped-def]
    """The old gate glued the repository onto the URL: git+ssh:/git@... (issue 13)."""
    env = {
        "PERFAGENT_STORE": "git+ssh://git@example.org/lab/perf-data.git#perf-baselines",
        "GITHUB_REPOSITORY": "natcap/hazelbean",
    }
    agent = FakeAgent()
    gate(agent, env=env)
    assert agent.settings("check").store == (
        "git+ssh://git@example.org/lab/perf-data.git#perf-baselines:natcap/hazelbean"
    )


def test_the_checkout_cannot_change_its_own_gate(gate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A pull request's perfagent.toml (the working directory) is never read."""
    (tmp_path / "perfagent.toml").write_text('threshold = 500\nstore = "elsewhere"\n')
    agent = FakeAgent()
    gate(agent)
    settings = agent.settings("check")
    assert settings.threshold == 10.0
    assert settings.store == "metrics/baselines"


def test_the_runner_config_is_trusted(gate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = tmp_path / "etc-perfagent.toml"
    runner.write_text("threshold = 15\n")
    agent = FakeAgent()
    gate(agent, env={"PERFAGENT_RUNNER_CONFIG": str(runner)})
    assert agent.settings("check").threshold == 15.0
    flagged = FakeAgent()
    gate(flagged, env={"PERFAGENT_RUNNER_CONFIG": str(runner)}, threshold=5.0)
    assert flagged.settings("check").threshold == 5.0


@dataclass
class StoringAgent(FakeAgent):
    """A fake whose baseline really lands in the store, so there is a history to show."""

    def baseline(self, settings: Settings) -> RecordedBaseline:
        from perfagent.store import open_store

        recorded = super().baseline(settings)
        open_store(settings.store).write(FINGERPRINT, "gate", recorded.baseline)
        return recorded


def test_a_baseline_leaves_the_history_pages_in_the_artifact(gate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = gate(StoringAgent(), event="push", ref="refs/heads/main", store="store")
    assert run.code == 0
    index = tmp_path / "metrics" / "history" / "index.html"
    assert run.outputs["history"] == str(index)
    assert "gate.checksum" in index.read_text()
    assert f"`{index}` in the artifact" in run.summary


def test_history_pages_that_cannot_be_written_leave_the_baseline_alone(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FakeAgent(), event="push", ref="refs/heads/main", store="store")  # stores nothing
    assert run.code == 0
    assert run.outputs["verdict"] == "baseline"
    assert "history" not in run.outputs
    assert "perfagent: warning: history pages not written" in run.log
