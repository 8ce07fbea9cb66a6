#!/usr/bin/env python3
"""The performance gate of a GitHub Actions workflow, runnable anywhere.

The workflow (.github/workflows/testing-quality-gates.yml, and the reusable
performance-gate.yml) only checks out code and calls this script; every decision
lives here so that it runs, and is tested, without GitHub:

    performance_gate.py prepare   find the provisioned conda environment (hazelbean_env),
                                  layer a throw-away virtualenv on it and install the
                                  checked-out project there; later steps use it (GITHUB_PATH)
    performance_gate.py run       `perfagent doctor`, then by event: establish the baseline
                                  (push to the default branch) or check against it (anything
                                  else, pull requests first); GitHub annotations, step
                                  summary and step outputs from the agent's exit code

Exit codes of `run`: 0 pass, baseline established, or no baseline for this hardware
(a warning; 3 with --strict-baseline); 1 a regression beyond the threshold; 2 a usage,
configuration or input error; 4 an internal error of the agent; 5 the machine is not
fit to benchmark (`perfagent doctor`). Only a regression is ever 1.

It reads GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA, GITHUB_REPOSITORY,
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH and GITHUB_ENV as GitHub sets them;
all are optional. Standard library only: it runs under any Python 3.9+.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

EXIT_PASS = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_NO_BASELINE = 3
EXIT_INTERNAL = 4
EXIT_UNFIT = 5

CHECK = "check"
BASELINE = "baseline"
PR_EVENTS = {"pull_request", "pull_request_target", "merge_group"}
JOB_TITLE = "Quality Gate 4: Performance Regression"


class GateError(Exception):
    """A problem of the gate's own inputs or environment: reported once, exit 2."""


# --- GitHub's workflow commands and files ---------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotate(level: str, message: str, title: str | None = None) -> None:
    """An annotation (`::error::`, `::warning::`, `::notice::`) on the run and the pull request."""
    props = f" title={_escape_property(title)}" if title else ""
    print(f"::{level}{props}::{_escape_data(message)}", flush=True)


def _append(env_name: str, text: str) -> None:
    target = os.environ.get(env_name)
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(text)


def set_output(name: str, value: str) -> None:
    """A step output (GITHUB_OUTPUT); multi-line values use a random delimiter."""
    if "\n" in value:
        delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        _append("GITHUB_OUTPUT", f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    else:
        _append("GITHUB_OUTPUT", f"{name}={value}\n")


def summary(markdown: str) -> None:
    """Append Markdown to the job's step summary (GITHUB_STEP_SUMMARY)."""
    _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n")


def _group(title: str) -> None:
    print(f"::group::{title}", flush=True)


def _endgroup() -> None:
    print("::endgroup::", flush=True)


# --- Deciding what to do ------------------------------------------------------------


def decide_mode(requested: str, event: str, ref: str, default_branch: str) -> tuple[str, str]:
    """(mode, reason): `baseline` for a push to the default branch, `check` otherwise."""
    if requested in (CHECK, BASELINE):
        return requested, f"--mode {requested}"
    if requested != "auto":
        raise GateError(f"--mode {requested!r}: expected auto, check or baseline")
    main_ref = f"refs/heads/{default_branch}"
    if event == "push" and ref == main_ref:
        return BASELINE, f"push to {default_branch}"
    if event in PR_EVENTS:
        return CHECK, f"{event} event"
    if not event:
        return CHECK, "no GITHUB_EVENT_NAME (run by hand)"
    return CHECK, f"{event} event on {ref or 'an unknown ref'}"


def resolve_store(explicit: str | None, per_repository: bool) -> str | None:
    """The store to pass to the agent, or None to let the agent read PERFAGENT_STORE itself.

    On a shared runner several repositories (hazelbean's, this project's) benchmark
    suites of the same name on the same hardware; their baselines are kept apart under
    <store>/<owner>/<repo> unless --store is given or per-repository stores are off.
    """
    if explicit:
        return explicit
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    root = os.environ.get("PERFAGENT_STORE", "")
    if per_repository and repository and root:
        return str(Path(root) / repository)
    return None


# --- Running the agent ---------------------------------------------------------------


def perfagent_command(explicit: str | None) -> list[str]:
    """How to call the agent: --perfagent, else this Python's, else `perfagent` on PATH.

    This Python's first: after `prepare` it is the job's environment, with the checkout
    installed; a `perfagent` elsewhere on PATH (such as the runner's /usr/local/bin link)
    would run, and start its pyperf workers, with another interpreter that lacks it.
    """
    if explicit:
        return shlex.split(explicit)
    if importlib.util.find_spec("perfagent") is not None:
        return [sys.executable, "-m", "perfagent"]
    found = shutil.which("perfagent")
    if found:
        return [found]
    raise GateError(
        "perfagent is not installed for this Python nor on PATH: run `performance_gate.py "
        "prepare` first, or pass --perfagent"
    )


class Outcome:
    """What one agent command did: its exit code and its output (stdout and stderr, merged)."""

    def __init__(self, code: int, output: str) -> None:
        self.code = code
        self.output = output

    @property
    def last_line(self) -> str:
        for line in reversed(self.output.splitlines()):
            if line.strip():
                return line.strip()
        return ""


def run_agent(argv: Sequence[str], env: dict[str, str]) -> Outcome:
    """Run one agent command, streaming its output to the log as it comes, and keep a copy."""
    print(f"$ {shlex.join(argv)}", flush=True)
    try:
        process = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except OSError as exc:
        raise GateError(
            f"cannot start {argv[0]}: {exc.strerror or exc}; is perfagent installed in the "
            "benchmark environment? (see `performance_gate.py prepare`, or pass --perfagent)"
        ) from None
    captured: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        captured.append(line)
    return Outcome(process.wait(), "".join(captured))


@contextlib.contextmanager
def machine_lock(path: str | None) -> Iterator[None]:
    """One benchmarking job on this machine at a time, even with several runner services on it.

    A runner service runs one job at a time; this lock also keeps two runners registered
    on the same machine from measuring on the same cores at once.
    """
    if not path:
        yield
        return
    try:
        import fcntl
    except ImportError:  # not on POSIX: nothing to lock with
        yield
        return
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole block
    try:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            print(f"Another benchmark job holds {path}; waiting for it to finish...", flush=True)
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            print(f"Got the machine after {time.monotonic() - started:.0f} s.", flush=True)
        yield
    finally:
        handle.close()


# --- Doctor ------------------------------------------------------------------------


def _doctor_findings(agent: list[str], env: dict[str, str]) -> str:
    """The checks that did not pass, one a line with their fix, from `perfagent doctor --json`."""
    try:
        result = subprocess.run(
            [*agent, "doctor", "--json"], capture_output=True, text=True, env=env
        )
        checks = json.loads(result.stdout).get("checks", [])
    except (OSError, ValueError, AttributeError):
        return ""
    lines = []
    for check in checks:
        if isinstance(check, dict) and check.get("verdict") in ("fail", "warn"):
            lines.append(
                f"{check.get('verdict')}: {check.get('name')}: {check.get('state')}"
                + (f" (fix: {check['fix']})" if check.get("fix") else "")
            )
    # Failures first: they are why the machine is not fit.
    return "\n".join(sorted(lines, key=lambda line: not line.startswith("fail")))


def doctor(agent: list[str], env: dict[str, str], policy: str, metric: str) -> int | None:
    """Run `perfagent doctor` under the policy; an exit code when the gate must stop.

    Instruction counts do not depend on load, clock or tuning, so with the instructions
    metric an unfit machine is reported and measured all the same.
    """
    if policy == "skip":
        print("perfagent doctor: skipped (--doctor skip)", flush=True)
        return None
    _group("perfagent doctor: is this machine fit to benchmark?")
    outcome = run_agent([*agent, "doctor"], env)
    _endgroup()
    if outcome.code == 0:
        return None
    findings = _doctor_findings(agent, env) or outcome.last_line
    if outcome.code == EXIT_USAGE:
        policy_note = "perfagent doctor: bad settings"
    else:
        policy_note = "This machine is not fit to benchmark"
    if policy == "warn" or (metric == "instructions" and outcome.code == 1):
        why = (
            "--doctor warn"
            if policy == "warn"
            else "instruction counts do not depend on the machine's tuning or load"
        )
        annotate(
            "warning",
            f"{policy_note}; measuring anyway ({why}).\n{findings}",
            title="perfagent doctor",
        )
        summary(f"**Doctor** (not enforced: {why}): {policy_note}.\n\n```\n{findings}\n```\n")
        return None
    code = EXIT_USAGE if outcome.code == EXIT_USAGE else EXIT_UNFIT
    annotate(
        "error",
        f"{policy_note}, so nothing was measured (this is not a performance regression). "
        f"Fix the machine or its provisioning (ansible role perf_tuning):\n{findings}",
        title="Performance runner not fit to benchmark",
    )
    summary(
        f"**Not measured: {policy_note.lower()}** (not a regression). The full report is in "
        f"the job log.\n\n```\n{findings}\n```\n"
    )
    set_output("verdict", "unfit" if code == EXIT_UNFIT else "error")
    set_output("exit-code", str(code))
    return code


# --- Baseline ------------------------------------------------------------------------


def _find_baseline(store: Path, suite_name: str) -> Path | None:
    """The newest `<store>/<fingerprint>/<suite>/current.json`."""
    candidates = sorted(
        store.glob(f"*/{suite_name}/current.json"),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return candidates[0] if candidates else None


def establish_baseline(
    agent: list[str], env: dict[str, str], args: argparse.Namespace, store: str | None
) -> int:
    argv = [*agent, "baseline", "--runs", str(args.baseline_runs)]
    if args.suite:
        argv += ["--suite", args.suite]
    if store:
        argv += ["--store", store]
    commit = os.environ.get("GITHUB_SHA")
    if commit:
        argv += ["--commit", commit]
    outcome = run_agent(argv, env)
    if outcome.code != 0:
        return _agent_failure("perfagent baseline", outcome)

    # Where the agent says it stored it; else where the store's layout puts it.
    store_dir = Path(store or env.get("PERFAGENT_STORE") or "metrics/baselines")
    suite_name = Path(args.suite or env.get("PERFAGENT_SUITE") or "benchmarks/hazelbean").name
    said = re.search(r"Baseline stored: (\S+current\.json)", outcome.output)
    found = Path(said.group(1)) if said else _find_baseline(store_dir, suite_name)
    if found is not None and said:
        suite_name = found.parent.name
    if found is None or not found.is_file():
        annotate(
            "error",
            f"perfagent baseline succeeded but no {suite_name}/current.json is under {store_dir}",
            title="Baseline not found",
        )
        set_output("verdict", "error")
        set_output("exit-code", str(EXIT_INTERNAL))
        return EXIT_INTERNAL
    fingerprint = found.parent.parent.name
    copy = Path(args.output_dir) / "baselines" / fingerprint / suite_name / "current.json"
    if found.resolve() != copy.resolve():
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(found, copy)
    message = (
        f"Baseline established: suite {suite_name}, hardware {fingerprint}, "
        f"{args.baseline_runs} run(s)" + (f", commit {commit[:12]}" if commit else "")
    )
    print(message, flush=True)
    annotate("notice", message, title="Performance baseline")
    summary(f"**{message}.**\n\nStored in `{found}`; a copy is in the artifact at `{copy}`.\n")
    set_output("verdict", "baseline")
    set_output("exit-code", "0")
    set_output("fingerprint", fingerprint)
    set_output("baseline", str(copy))
    return EXIT_PASS


# --- Check ---------------------------------------------------------------------------


def _newest(directory: Path, pattern: str) -> Path | None:
    found = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    return found[0] if found else None


def _regressed_names(analysis: Path | None) -> list[str]:
    """`name (+x.y%)` of each benchmark the check's JSON analysis calls a regression."""
    if analysis is None:
        return []
    try:
        data = json.loads(analysis.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    rows = data.get("benchmarks", []) if isinstance(data, dict) else []
    names = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("verdict") == "regression":
            change = row.get("change_pct")
            suffix = f" ({change:+.1f}%)" if isinstance(change, (int, float)) else ""
            names.append(f"{row.get('name', '?')}{suffix}")
    return names


def check(
    agent: list[str], env: dict[str, str], args: argparse.Namespace, store: str | None
) -> int:
    argv = [*agent, "check", "--output-dir", args.output_dir]
    if args.suite:
        argv += ["--suite", args.suite]
    if args.threshold:
        argv += ["--threshold", args.threshold]
    if store:
        argv += ["--store", store]
    outcome = run_agent(argv, env)
    output_dir = Path(args.output_dir)
    report = _newest(output_dir / "reports", "performance_report_*.txt")
    if report is not None:
        set_output("report", str(report))
    advisory = " (advisory: this gate does not block merging)" if args.advisory else ""

    if outcome.code == EXIT_PASS:
        annotate("notice", outcome.last_line, title="Performance")
        set_output("verdict", "pass")
        set_output("exit-code", "0")
        return EXIT_PASS
    if outcome.code == EXIT_REGRESSION:
        names = _regressed_names(_newest(output_dir / "analysis", "regression_check_*.json"))
        detail = f"\nRegressed: {', '.join(names)}" if names else ""
        annotate(
            "error",
            f"{outcome.last_line}{detail}\nDetails: the step summary and the "
            f"performance-metrics artifact.{advisory}",
            title="Performance regression",
        )
        set_output("verdict", "regression")
        set_output("exit-code", "1")
        return EXIT_REGRESSION
    if outcome.code == EXIT_NO_BASELINE:
        annotate(
            "warning",
            "Not checked: no baseline for this hardware and suite yet, so this is neither a "
            "pass nor a failure. A push to the default branch establishes one.\n"
            + outcome.last_line,
            title="No performance baseline",
        )
        summary(
            "**Not checked: no baseline for this hardware and suite.** Neither a pass nor a "
            "failure; a push to the default branch establishes one.\n\n"
            f"```\n{outcome.last_line}\n```\n"
        )
        set_output("verdict", "no-baseline")
        set_output("exit-code", str(EXIT_NO_BASELINE))
        return EXIT_NO_BASELINE if args.strict_baseline else EXIT_PASS
    return _agent_failure("perfagent check", outcome)


def _agent_failure(what: str, outcome: Outcome) -> int:
    """An exit the gate cannot read as a verdict: usage (2) or internal (4+) errors."""
    if outcome.code == EXIT_USAGE:
        title, code = f"{what}: input or configuration error", EXIT_USAGE
    else:
        title, code = f"{what}: failed (exit {outcome.code})", EXIT_INTERNAL
    annotate("error", outcome.last_line or f"{what} exited {outcome.code}", title=title)
    summary(f"**{title}**\n\n```\n{outcome.last_line}\n```\n")
    set_output("verdict", "error")
    set_output("exit-code", str(code))
    # Never 1: a workflow (or a person) reads 1 as a regression.
    return code


def command_run(args: argparse.Namespace) -> int:
    event = os.environ.get("GITHUB_EVENT_NAME", "")
    ref = os.environ.get("GITHUB_REF", "")
    mode, reason = decide_mode(args.mode, event, ref, args.default_branch)
    store = resolve_store(args.store, args.per_repository_store)
    agent = perfagent_command(args.perfagent)

    env = dict(os.environ)
    if args.metric:
        env["PERFAGENT_METRIC"] = args.metric
    if args.confirm_runs is not None:
        env["PERFAGENT_CONFIRM_RUNS"] = str(args.confirm_runs)

    print(f"{JOB_TITLE}: {mode} ({reason})", flush=True)
    set_output("mode", mode)
    summary(
        f"## {JOB_TITLE}\n\n"
        f"| | |\n|---|---|\n| mode | {mode} ({reason}) |\n"
        f"| suite | `{args.suite or env.get('PERFAGENT_SUITE') or 'default'}` |\n"
        f"| metric | {args.metric or env.get('PERFAGENT_METRIC') or 'time'} |\n"
        + (f"| threshold | {args.threshold}% |\n" if mode == CHECK and args.threshold else "")
        + (f"| store | `{store}` |\n" if store else "")
        + ("| advisory | yes: a failure here does not block merging |\n" if args.advisory else "")
        + "\n"
    )
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    with machine_lock(args.lock_file):
        metric = args.metric or env.get("PERFAGENT_METRIC") or "time"
        stop = doctor(agent, env, args.doctor, metric)
        if stop is not None:
            return stop
        if mode == BASELINE:
            return establish_baseline(agent, env, args, store)
        return check(agent, env, args, store)


# --- prepare: the benchmark environment -----------------------------------------------


def _micromamba() -> str | None:
    for candidate in (os.environ.get("MAMBA_EXE"), shutil.which("micromamba")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


DEFAULT_ROOT_PREFIXES = ("/opt/micromamba", "~/micromamba", "~/.local/share/mamba", "/opt/conda")


def find_env_prefix(name: str, explicit: str | None) -> Path:
    """The prefix of the provisioned conda environment `name` (never downloads anything)."""
    if explicit:
        prefix = Path(explicit)
        if not (prefix / "bin" / "python").exists():
            raise GateError(f"--env-prefix {explicit}: no bin/python there")
        return prefix
    tried = []
    # MAMBA_ROOT_PREFIX, else where the ansible role conda_env and common installs put it.
    roots = [os.environ.get("MAMBA_ROOT_PREFIX", ""), *DEFAULT_ROOT_PREFIXES]
    for root in filter(None, roots):
        prefix = Path(root).expanduser() / "envs" / name
        tried.append(str(prefix))
        if (prefix / "bin" / "python").exists():
            return prefix
    for tool in (_micromamba(), shutil.which("conda")):
        if not tool:
            continue
        tried.append(f"{tool} env list")
        try:
            listing = subprocess.run(
                [tool, "env", "list", "--json"], capture_output=True, text=True, check=True
            ).stdout
            prefixes = json.loads(listing).get("envs", [])
        except (OSError, subprocess.CalledProcessError, ValueError):
            continue
        for text in prefixes:
            if Path(text).name == name and (Path(text) / "bin" / "python").exists():
                return Path(text)
    raise GateError(
        f"conda environment {name!r} not found (looked in: {', '.join(tried) or 'nothing'}). "
        "The runner's provisioning (ansible role conda_env) creates it; on another machine pass "
        "--env-prefix, or set MAMBA_ROOT_PREFIX."
    )


# Variables an activation sets that say nothing about the environment itself.
_NOT_ACTIVATION = {"PATH", "PWD", "OLDPWD", "SHLVL", "_", "PS1"}
_DUMP_ENVIRONMENT = "import json, os; print(json.dumps(dict(os.environ)))"


def activation_variables(prefix: Path) -> dict[str, str]:
    """What activating the environment sets (its activate.d scripts: GDAL_DATA, PROJ_DATA...).

    Asked of `micromamba run`, which activates the environment for one command; without
    micromamba, only CONDA_PREFIX.
    """
    variables = {"CONDA_PREFIX": str(prefix)}
    tool = _micromamba()
    if tool is None:
        return variables
    try:
        result = subprocess.run(
            [tool, "run", "-p", str(prefix), "python", "-c", _DUMP_ENVIRONMENT],
            capture_output=True,
            text=True,
        )
        activated = json.loads(result.stdout)
    except (OSError, ValueError):
        return variables
    if result.returncode != 0 or not isinstance(activated, dict):
        return variables
    for name, value in activated.items():
        if name not in _NOT_ACTIVATION and os.environ.get(name) != value:
            variables[name] = str(value)
    return variables


def _export(name: str, value: str) -> None:
    """One variable for the later steps of the job (GITHUB_ENV)."""
    if "\n" in value:
        delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        _append("GITHUB_ENV", f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    else:
        _append("GITHUB_ENV", f"{name}={value}\n")


def command_prepare(args: argparse.Namespace) -> int:
    prefix = find_env_prefix(args.env, args.env_prefix)
    print(f"Benchmark environment: {prefix}", flush=True)
    for name, value in sorted(activation_variables(prefix).items()):
        _export(name, value)
    # GITHUB_PATH prepends: the environment's bin first, the overlay's (if any) before it.
    _append("GITHUB_PATH", f"{prefix / 'bin'}\n")
    bin_dir = prefix / "bin"
    if args.overlay:
        # A virtualenv over the provisioned environment: the checkout is installed into it,
        # so a job never changes the environment other repositories' jobs measure with.
        overlay = Path(args.overlay)
        if overlay.exists():
            shutil.rmtree(overlay)
        made = subprocess.run(
            [str(prefix / "bin" / "python"), "-m", "venv", "--system-site-packages", str(overlay)]
        )
        if made.returncode != 0:
            raise GateError(f"cannot create the virtualenv {overlay} over {prefix}")
        bin_dir = overlay / "bin"
        _export("VIRTUAL_ENV", str(overlay))
        _append("GITHUB_PATH", f"{bin_dir}\n")
    set_output("python", str(bin_dir / "python"))
    if args.install:
        argv = [str(bin_dir / "python"), "-m", "pip", "install", *shlex.split(args.install)]
        print(f"$ {shlex.join(argv)}", flush=True)
        result = subprocess.run(argv)
        if result.returncode != 0:
            annotate("error", f"installing the checkout failed: {shlex.join(argv)}")
            return EXIT_USAGE
    return EXIT_PASS


# --- The command line ----------------------------------------------------------------


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "")
    return value if value != "" else default


def _int_env(name: str) -> int | None:
    value = _env(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"performance_gate.py: {name}={value!r} is not a whole number") from None


def _flag_env(name: str) -> bool:
    return (os.environ.get(name, "").strip().lower()) in {"1", "true", "yes", "on"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="performance_gate.py",
        description="The performance gate of a workflow: baseline on the default branch, "
        "check elsewhere. Every option also reads a PERF_GATE_* environment variable.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="doctor, then baseline or check by event",
        description="Run `perfagent doctor`, then `perfagent baseline` on a push to the default "
        "branch or `perfagent check` otherwise; annotate, summarise and set step outputs. "
        "Exit: 0 pass / baseline / no baseline (warning), 1 regression, 2 input error, "
        "3 no baseline with --strict-baseline, 4 internal error, 5 machine not fit.",
    )
    run.add_argument(
        "--mode",
        default=_env("PERF_GATE_MODE", "auto"),
        choices=["auto", CHECK, BASELINE],
        help="auto (default): baseline on a push to the default branch, check otherwise",
    )
    run.add_argument(
        "--default-branch",
        default=_env("PERF_GATE_DEFAULT_BRANCH", "main"),
        help="the branch whose pushes establish the baseline [main]",
    )
    run.add_argument(
        "--suite",
        default=_env("PERF_GATE_SUITE"),
        help="suite directory [the agent's: PERFAGENT_SUITE, else benchmarks/hazelbean]",
    )
    run.add_argument(
        "--threshold",
        default=_env("PERF_GATE_THRESHOLD"),
        help="regression threshold in percent [the agent's: 10]",
    )
    run.add_argument(
        "--metric",
        default=_env("PERF_GATE_METRIC"),
        choices=["time", "instructions"],
        help="what to measure [the agent's: time]",
    )
    run.add_argument(
        "--baseline-runs",
        type=int,
        default=_int_env("PERF_GATE_BASELINE_RUNS") or 3,
        help="suite runs pooled into a baseline [3]",
    )
    run.add_argument(
        "--confirm-runs",
        type=int,
        default=_int_env("PERF_GATE_CONFIRM_RUNS"),
        help="re-measurements of suspect benchmarks before a check fails [the agent's: 2]",
    )
    run.add_argument(
        "--store",
        default=_env("PERF_GATE_STORE"),
        help="baseline store [PERFAGENT_STORE/<owner>/<repo> in a workflow]",
    )
    run.add_argument(
        "--no-per-repository-store",
        dest="per_repository_store",
        action="store_false",
        help="use PERFAGENT_STORE itself, shared by every repository on the runner",
    )
    run.add_argument(
        "--output-dir",
        default=_env("PERF_GATE_OUTPUT_DIR", "metrics"),
        help="where the artifacts go [metrics]",
    )
    run.add_argument(
        "--doctor",
        default=_env("PERF_GATE_DOCTOR", "enforce"),
        choices=["enforce", "warn", "skip"],
        help="enforce (default): an unfit machine fails the job, exit 5",
    )
    run.add_argument(
        "--strict-baseline",
        action="store_true",
        default=_flag_env("PERF_GATE_STRICT_BASELINE"),
        help="exit 3 rather than 0 when there is no baseline for this hardware",
    )
    run.add_argument(
        "--advisory",
        action="store_true",
        default=_flag_env("PERF_GATE_ADVISORY"),
        help="say in annotations that the job does not block merging "
        "(the workflow sets continue-on-error)",
    )
    run.add_argument(
        "--perfagent",
        default=_env("PERF_GATE_PERFAGENT"),
        help="the agent's command [perfagent on PATH, else python -m perfagent]",
    )
    run.add_argument(
        "--lock-file",
        default=_env("PERF_GATE_LOCK", "/tmp/perf-gate.lock"),
        help="machine-wide lock: one benchmarking job at a time ['' for none]",
    )
    run.set_defaults(func=command_run)

    prepare = commands.add_parser(
        "prepare",
        help="activate the provisioned conda environment and install the checkout",
        description="Find the provisioned conda environment (no download), layer a virtualenv "
        "over it, install the checkout there, and put it first on PATH for later steps.",
    )
    prepare.add_argument(
        "--env",
        default=_env("PERF_GATE_ENV", "hazelbean_env"),
        help="conda environment name [hazelbean_env]",
    )
    prepare.add_argument(
        "--env-prefix",
        default=_env("PERF_GATE_ENV_PREFIX"),
        help="its prefix, instead of asking micromamba/conda",
    )
    prepare.add_argument(
        "--overlay",
        default=_env("PERF_GATE_OVERLAY"),
        help="virtualenv to create over it; empty: install into the environment itself",
    )
    prepare.add_argument(
        "--install",
        default=_env("PERF_GATE_INSTALL"),
        help="pip install arguments for the checkout, e.g. '--no-deps .'",
    )
    prepare.set_defaults(func=command_prepare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GateError as exc:
        annotate("error", str(exc), title="Performance gate")
        set_output("verdict", "error")
        set_output("exit-code", str(EXIT_USAGE))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
