"""scripts/performance_gate.py against a fake agent: which command runs for which event,
and what each exit code becomes (annotations, step outputs, step summary, exit status).

The real agent runs in tests/e2e/test_workflow_gate.py; here a fake one, a small script
that records its arguments and exits as told, keeps these tests fast and exhaustive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "scripts" / "performance_gate.py"

FAKE_PERFAGENT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    args = sys.argv[1:]
    with open(os.environ["FAKE_CALLS"], "a") as log:
        log.write(json.dumps({"argv": args, "metric": os.environ.get("PERFAGENT_METRIC"),
                              "confirm": os.environ.get("PERFAGENT_CONFIRM_RUNS")}) + "\\n")
    command = args[0]

    def option(name, default=None):
        return args[args.index(name) + 1] if name in args else default

    if command == "doctor":
        code = int(os.environ.get("FAKE_DOCTOR_EXIT", "0"))
        if "--json" in args:
            print(json.dumps({"fit": code == 0, "checks": [
                {"name": "Load", "state": "CPU 0-1 100% busy", "verdict": "fail",
                 "fix": "perf_tuning_benchmark_cpus"},
                {"name": "ASLR", "state": "2", "verdict": "ok", "fix": "perf_tuning_aslr: 2"},
            ]}))
        else:
            print("Fit to benchmark." if code == 0 else "Not fit to benchmark: Load")
        sys.exit(code)
    if command == "baseline":
        store = Path(option("--store", os.environ.get("PERFAGENT_STORE", "metrics/baselines")))
        suite = Path(option("--suite", "benchmarks/hazelbean")).name
        target = store / "0123456789ab" / suite / "current.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('{"version": "1.0", "benchmarks": []}')
        print(f"Baseline stored: {target}")
        sys.exit(int(os.environ.get("FAKE_BASELINE_EXIT", "0")))
    if command == "check":
        code = int(os.environ.get("FAKE_CHECK_EXIT", "0"))
        out = Path(option("--output-dir"))
        (out / "analysis").mkdir(parents=True, exist_ok=True)
        (out / "reports").mkdir(parents=True, exist_ok=True)
        (out / "reports" / "performance_report_1.txt").write_text("report")
        rows = [{"name": "gate.checksum", "verdict": "regression" if code == 1 else "same",
                 "change_pct": 25.0}, {"name": "gate.histogram", "verdict": "same"}]
        (out / "analysis" / "regression_check_1.json").write_text(json.dumps({"benchmarks": rows}))
        threshold = option("--threshold", "10")
        print({
            0: f"Performance within acceptable limits (2 benchmarks, threshold {threshold}%)",
            1: f"Performance regression > {threshold}% detected: gate.checksum",
            2: "perfagent: error: --threshold: not a number",
            3: "perfagent: error: no baseline for fingerprint 0123456789ab and suite gate",
        }.get(code, "perfagent: internal error: KeyError: 'x'"))
        sys.exit(code)
    sys.exit(2)
    """
)


@dataclass
class GateRun:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str
    calls: list[dict[str, object]]

    def commands(self) -> list[str]:
        return [str(c["argv"][0]) for c in self.calls]  # type: ignore[index]

    def argv(self, command: str) -> list[str]:
        return next(c["argv"] for c in self.calls if c["argv"][0] == command)  # type: ignore[index,return-value]


@pytest.fixture
def gate(tmp_path: Path):  # type: ignore[no-untyped-def]
    fake = tmp_path / "fake_perfagent.py"
    fake.write_text(FAKE_PERFAGENT)

    def run(
        *args: str, event: str = "pull_request", ref: str = "refs/pull/3/merge", **env: str
    ) -> GateRun:
        outputs, summary, calls = (tmp_path / n for n in ("output", "summary", "calls"))
        for path in (outputs, summary, calls):
            path.write_text("")
        environ = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "PERFAGENT_", "PERF_GATE_"))
        }
        environ.update(
            GITHUB_EVENT_NAME=event,
            GITHUB_REF=ref,
            GITHUB_SHA="b5bc214fa05e187e8441de727b34b0a8677c7162",
            GITHUB_OUTPUT=str(outputs),
            GITHUB_STEP_SUMMARY=str(summary),
            FAKE_CALLS=str(calls),
            **env,
        )
        result = subprocess.run(
            [
                sys.executable,
                str(GATE),
                "run",
                "--perfagent",
                f"{sys.executable} {fake}",
                "--suite",
                "tests/suites/gate",
                "--output-dir",
                str(tmp_path / "metrics"),
                "--lock-file",
                str(tmp_path / "lock"),
                *args,
            ],
            capture_output=True,
            text=True,
            env=environ,
            cwd=tmp_path,
        )
        assert result.stderr == "", result.stderr
        parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
        return GateRun(
            result.returncode,
            result.stdout,
            parsed,
            summary.read_text(),
            [json.loads(line) for line in calls.read_text().splitlines()],
        )

    return run


def test_a_pull_request_is_checked_and_passes(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate("--threshold", "10", "--store", "store")
    assert run.code == 0
    assert run.commands() == ["doctor", "check"]
    assert run.argv("check")[run.argv("check").index("--threshold") + 1] == "10"
    assert run.outputs["mode"] == "check"
    assert run.outputs["verdict"] == "pass"
    assert run.outputs["report"].endswith("performance_report_1.txt")
    assert "::notice title=Performance::Performance within acceptable limits" in run.stdout
    assert "| mode | check (pull_request event) |" in run.summary


def test_a_regression_fails_with_exit_1_and_an_error_annotation(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate("--threshold", "10", FAKE_CHECK_EXIT="1")
    assert run.code == 1
    assert run.outputs["verdict"] == "regression"
    error = next(line for line in run.stdout.splitlines() if line.startswith("::error"))
    assert error.startswith("::error title=Performance regression::")
    # The seed's message, with % escaped as GitHub's workflow commands require.
    assert "Performance regression > 10%25 detected" in error
    assert "gate.checksum (+25.0%25)" in error
    assert "gate.histogram" not in error
    # The agent's own verdict line is in the log as it printed it.
    assert "Performance regression > 10% detected: gate.checksum\n" in run.stdout


def test_the_advisory_switch_says_so(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FAKE_CHECK_EXIT="1", PERF_GATE_ADVISORY="true")
    assert run.code == 1, "the job's continue-on-error, not the script, makes it advisory"
    assert "advisory: this gate does not block merging" in run.stdout
    assert "| advisory | yes" in run.summary


def test_no_baseline_is_a_warning_neither_pass_nor_failure(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FAKE_CHECK_EXIT="3")
    assert run.code == 0
    assert run.outputs["verdict"] == "no-baseline"
    assert run.outputs["exit-code"] == "3"
    assert "::warning title=No performance baseline::Not checked" in run.stdout
    assert "Neither a pass nor a failure" in run.summary
    strict = gate("--strict-baseline", FAKE_CHECK_EXIT="3")
    assert strict.code == 3


@pytest.mark.parametrize(("agent_exit", "gate_exit"), [(2, 2), (4, 4), (139, 4)])
def test_other_failures_are_never_exit_1(gate, agent_exit: int, gate_exit: int) -> None:  # type: ignore[no-untyped-def]
    run = gate(FAKE_CHECK_EXIT=str(agent_exit))
    assert run.code == gate_exit
    assert run.outputs["verdict"] == "error"
    assert "::error title=perfagent check" in run.stdout


def test_a_push_to_main_establishes_the_baseline(gate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = gate("--store", "store", event="push", ref="refs/heads/main")
    assert run.code == 0
    assert run.commands() == ["doctor", "baseline"]
    argv = run.argv("baseline")
    assert argv[argv.index("--runs") + 1] == "3"
    assert argv[argv.index("--commit") + 1] == "b5bc214fa05e187e8441de727b34b0a8677c7162"
    copy = tmp_path / "metrics" / "baselines" / "0123456789ab" / "gate" / "current.json"
    assert copy.is_file()
    assert run.outputs["verdict"] == "baseline"
    assert run.outputs["baseline"] == str(copy)
    assert run.outputs["fingerprint"] == "0123456789ab"
    assert "::notice title=Performance baseline::Baseline established" in run.stdout


@pytest.mark.parametrize(
    ("event", "ref", "extra", "mode"),
    [
        ("push", "refs/heads/feature", (), "check"),
        ("push", "refs/heads/trunk", ("--default-branch", "trunk"), "baseline"),
        ("workflow_dispatch", "refs/heads/main", (), "check"),
        ("workflow_dispatch", "refs/heads/main", ("--mode", "baseline"), "baseline"),
        ("merge_group", "refs/heads/gh-readonly-queue/main/x", (), "check"),
        ("", "", (), "check"),
    ],
)
def test_which_events_check_and_which_establish(gate, event, ref, extra, mode) -> None:  # type: ignore[no-untyped-def]
    run = gate(*extra, event=event, ref=ref)
    assert run.outputs["mode"] == mode
    assert run.commands()[-1] == mode


def test_an_unfit_machine_fails_with_the_doctor_report_not_a_regression(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(FAKE_DOCTOR_EXIT="1")
    assert run.code == 5
    assert run.commands() == ["doctor", "doctor"], "nothing is measured"
    assert run.outputs["verdict"] == "unfit"
    error = next(line for line in run.stdout.splitlines() if line.startswith("::error"))
    assert "not fit to benchmark" in error and "not a performance regression" in error
    assert "fail: Load: CPU 0-1 100%25 busy (fix: perf_tuning_benchmark_cpus)" in error
    assert "ASLR" not in error, "only the checks that did not pass"
    assert "Not measured" in run.summary


def test_the_doctor_can_warn_or_be_skipped(gate) -> None:  # type: ignore[no-untyped-def]
    warned = gate("--doctor", "warn", FAKE_DOCTOR_EXIT="1")
    assert warned.code == 0
    assert warned.commands()[-1] == "check"
    assert "::warning title=perfagent doctor::" in warned.stdout
    skipped = gate("--doctor", "skip", FAKE_DOCTOR_EXIT="1")
    assert skipped.commands() == ["check"]


def test_instruction_counts_do_not_need_a_quiet_machine(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate("--metric", "instructions", FAKE_DOCTOR_EXIT="1")
    assert run.code == 0
    assert run.commands()[-1] == "check"
    assert {c["metric"] for c in run.calls} == {"instructions"}
    assert {c["confirm"] for c in run.calls} == {None}, "the agent's own default"
    confirmed = gate("--metric", "instructions", PERF_GATE_CONFIRM_RUNS="4")
    assert {c["confirm"] for c in confirmed.calls} == {"4"}
    assert "instruction counts do not depend" in run.stdout


def test_each_repository_keeps_its_own_baselines_on_a_shared_runner(gate) -> None:  # type: ignore[no-untyped-def]
    run = gate(PERFAGENT_STORE="/srv/perf/baselines", GITHUB_REPOSITORY="natcap/hazelbean")
    argv = run.argv("check")
    assert argv[argv.index("--store") + 1] == "/srv/perf/baselines/natcap/hazelbean"
    shared = gate(
        "--no-per-repository-store",
        PERFAGENT_STORE="/srv/perf/baselines",
        GITHUB_REPOSITORY="natcap/hazelbean",
    )
    assert "--store" not in shared.argv("check"), "the agent reads PERFAGENT_STORE itself"


def test_a_missing_agent_is_an_input_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(GATE),
            "run",
            "--perfagent",
            str(tmp_path / "nowhere"),
            "--doctor",
            "skip",
            "--output-dir",
            str(tmp_path / "m"),
            "--lock-file",
            "",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")},
    )
    assert result.returncode == 2
    assert "::error title=Performance gate::cannot start" in result.stdout


# --- prepare --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provisioned_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the runner's micromamba root: <root>/envs/hazelbean_env is a venv."""
    root = tmp_path_factory.mktemp("mamba-root")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root / "envs" / "hazelbean_env")],
        check=True,
    )
    return root


def test_prepare_layers_a_virtualenv_and_installs_the_checkout(
    provisioned_env: Path, tmp_path: Path
) -> None:
    # The checkout, already built: a wheel made by hand, so no build backend is needed.
    wheel = tmp_path / "tinypkg-1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tinypkg/__init__.py", "VALUE = 42\n")
        archive.writestr(
            "tinypkg-1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1\n"
        )
        archive.writestr(
            "tinypkg-1.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr("tinypkg-1.dist-info/RECORD", "")
    github_path, github_env = tmp_path / "path", tmp_path / "env"
    overlay = tmp_path / "overlay"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERF_GATE_"))}
    env.update(
        MAMBA_ROOT_PREFIX=str(provisioned_env),
        GITHUB_PATH=str(github_path),
        GITHUB_ENV=str(github_env),
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    result = subprocess.run(
        [
            sys.executable,
            str(GATE),
            "prepare",
            "--overlay",
            str(overlay),
            "--install",
            f"--no-deps {wheel.name}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    base_bin = provisioned_env / "envs" / "hazelbean_env" / "bin"
    # GitHub prepends each line: the overlay ends up first, the environment next.
    assert github_path.read_text() == f"{base_bin}\n{overlay / 'bin'}\n"
    assert f"VIRTUAL_ENV={overlay}" in github_env.read_text()
    assert f"CONDA_PREFIX={provisioned_env / 'envs' / 'hazelbean_env'}" in github_env.read_text()
    check = [str(overlay / "bin" / "python"), "-c", "import tinypkg; print(tinypkg.VALUE)"]
    assert subprocess.run(check, capture_output=True, text=True).stdout.strip() == "42"
    base = provisioned_env / "envs" / "hazelbean_env" / "bin" / "python"
    untouched = subprocess.run([str(base), "-c", "import tinypkg"], capture_output=True)
    assert untouched.returncode != 0, "the provisioned environment must stay as it was"


# A stand-in for micromamba: `env list --json`, and `run -p PREFIX CMD...`, which
# "activates" the environment by setting a variable as an activate.d script would.
FAKE_MICROMAMBA = """#!/bin/sh
if [ "$1" = run ]; then
    prefix=$3
    shift 3
    PATH="$prefix/bin:$PATH" GDAL_DATA="$prefix/share/gdal" exec "$@"
fi
echo '%s'
"""


def test_prepare_asks_micromamba_where_the_environment_is_and_activates_it(
    provisioned_env: Path, tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prefix = provisioned_env / "envs" / "hazelbean_env"
    micromamba = bindir / "micromamba"
    listing = json.dumps({"envs": [str(provisioned_env / "envs" / "base"), str(prefix)]})
    micromamba.write_text(FAKE_MICROMAMBA % listing)
    micromamba.chmod(0o755)
    github_path, github_env = tmp_path / "path", tmp_path / "env"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERF_GATE_", "MAMBA_"))
    }
    env.pop("GDAL_DATA", None)
    env.update(
        PATH=f"{bindir}:{env['PATH']}", GITHUB_PATH=str(github_path), GITHUB_ENV=str(github_env)
    )
    result = subprocess.run(
        [sys.executable, str(GATE), "prepare"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert github_path.read_text() == f"{prefix / 'bin'}\n"
    exported = github_env.read_text().splitlines()
    assert f"GDAL_DATA={prefix / 'share' / 'gdal'}" in exported
    assert f"CONDA_PREFIX={prefix}" in exported
    assert not any(line.startswith("PATH=") for line in exported)


def test_prepare_names_what_to_do_when_the_environment_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERF_GATE_"))}
    env.update(MAMBA_ROOT_PREFIX=str(tmp_path), PATH="/usr/bin:/bin")
    result = subprocess.run(
        [sys.executable, str(GATE), "prepare"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2
    assert "conda environment 'hazelbean_env' not found" in result.stdout
    assert "conda_env" in result.stdout
