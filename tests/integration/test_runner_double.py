"""The runner release double behaves as the real runner's config.sh does (actions/runner
src/Misc/layoutroot/config.sh, src/Runner.Common/CommandLineParser.cs,
src/Runner.Listener/CommandSettings.cs and Configuration/ConfigurationManager.cs,
src/Runner.Sdk/Util/IOUtil.cs): its files start with a UTF-8 BOM, its arguments
parse the same way, its errors say what the real one says. No lab needed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from doubles.github_api_double import GitHubApiDouble

DOUBLE = Path(__file__).resolve().parent / "doubles/runner_release"
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def runner(tmp_path: Path):
    root = tmp_path / "actions-runner"
    shutil.copytree(DOUBLE, root)
    api = GitHubApiDouble("github_pat_test")
    url = api.serve("127.0.0.1")
    yield root, api, url
    api.stop()


def config(root: Path, *args: str, token: str | None = None, as_root: bool = True):
    env = {**os.environ, "RUNNER_DOUBLE_RECORD_DIR": str(root / "records")}
    env.pop("ACTIONS_RUNNER_INPUT_TOKEN", None)
    if as_root:
        env["RUNNER_ALLOW_RUNASROOT"] = "1"
    else:
        env.pop("RUNNER_ALLOW_RUNASROOT", None)
    if token:
        env["ACTIONS_RUNNER_INPUT_TOKEN"] = token
    return subprocess.run(
        [str(root / "config.sh"), *args], env=env, text=True, capture_output=True, cwd="/"
    )


def registration_token(api: GitHubApiDouble) -> str:
    status, body = api._issue("registration", "repos/o/r")
    assert status == 201
    return body["token"]


def test_configure_writes_bom_files_and_remove_deletes_them(runner) -> None:
    root, api, url = runner
    token = registration_token(api)
    done = config(
        root,
        "--unattended",
        "--url",
        f"{url}/o/r",
        "--name",
        "bench-1",
        "--labels",
        "performance-testing,perf-hw-1",
        "--replace",
        token=token,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (".runner", ".credentials", ".credentials_rsaparams"):
        raw = (root / name).read_bytes()
        assert raw.startswith(BOM), f"{name} lacks the BOM IOUtil.SaveObject writes"
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw.decode("utf-8"))  # what a BOM-blind reader meets
    settings = json.loads((root / ".runner").read_bytes().decode("utf-8-sig"))
    assert settings["agentName"] == "bench-1" and settings["gitHubUrl"] == f"{url}/o/r"
    assert api.runner_named("bench-1").custom_labels == ["performance-testing", "perf-hw-1"]

    again = config(root, "--unattended", "--url", f"{url}/o/r", token=registration_token(api))
    assert again.returncode == 1
    assert "Cannot configure the runner because it is already configured" in again.stderr

    _, body = api._issue("remove", "repos/o/r")
    removed = config(root, "remove", token=body["token"])
    assert removed.returncode == 0, removed.stderr
    assert api.runner_named("bench-1") is None
    assert not any((root / n).exists() for n in (".runner", ".credentials"))


def test_argument_parsing_and_unattended_errors(runner) -> None:
    root, api, url = runner
    missing_url = config(root, "--unattended", token=registration_token(api))
    assert missing_url.returncode == 1
    assert (
        "Invalid configuration provided for url. Terminating unattended configuration."
        in missing_url.stderr
    )
    missing_token = config(root, "--unattended", "--url", f"{url}/o/r")
    assert "Invalid configuration provided for token" in missing_token.stderr
    # an unknown argument is reported and ignored; a flag written as --name-less
    # "--x" before another "--y" is a flag; duplicates: the first value wins
    odd = config(
        root,
        "--unattended",
        "--url",
        f"{url}/o/r",
        "--colour",
        "blue",
        "--name",
        "first",
        "--name",
        "second",
        token=registration_token(api),
    )
    assert odd.returncode == 0, odd.stderr
    assert "Unrecognized command-line input arguments for command configure: 'colour'" in (
        odd.stderr
    )
    assert api.runner_named("first") is not None


def test_root_is_refused_and_remove_without_files_succeeds(runner) -> None:
    root, _, _ = runner
    if os.geteuid() == 0:
        refused = config(root, "--unattended", as_root=False)
        assert refused.returncode == 1 and "Must not run with sudo" in refused.stdout
    nothing = config(root, "remove")
    assert nothing.returncode == 0
    assert "config files are missing" in nothing.stdout


def test_run_with_a_jit_config_writes_its_files_and_migrated_copies(runner) -> None:
    """run.sh with ACTIONS_RUNNER_INPUT_JITCONFIG: the files of the configuration the
    GitHub API double's generate-jitconfig returned, then .runner_migrated (BOM too)."""
    root, api, _ = runner
    status, body = api._generate_jitconfig(
        re.match(r"(?P<scope>.*)", "repos/o/r"),
        {},
        {"name": "jit-1", "runner_group_id": 1, "labels": ["performance-testing"]},
    )
    assert status == 201 and body["runner"]["ephemeral"] is True
    env = {
        **os.environ,
        "RUNNER_DOUBLE_RECORD_DIR": str(root / "records"),
        "ACTIONS_RUNNER_INPUT_JITCONFIG": body["encoded_jit_config"],
    }
    listener = subprocess.Popen([str(root / "run.sh")], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout is not None
        assert listener.stdout.readline().strip() == "Listening for Jobs"
    finally:
        listener.terminate()
        listener.wait(timeout=30)
    for name in (".runner", ".credentials", ".credentials_rsaparams", ".runner_migrated"):
        assert (root / name).read_bytes().startswith(BOM), name
    settings = json.loads((root / ".runner").read_bytes().decode("utf-8-sig"))
    assert settings["agentName"] == "jit-1" and settings["ephemeral"] is True
    [record] = [
        json.loads(line)
        for line in (root / "records").glob("calls-*.jsonl").__next__().read_text().splitlines()
        if '"run"' in line
    ]
    assert record["jitconfig_source"] == "env"
    assert body["encoded_jit_config"] not in json.dumps(record)
    missing = api._generate_jitconfig(
        re.match(r"(?P<scope>.*)", "repos/o/r"), {}, {"name": "x", "labels": ["a"]}
    )
    assert missing[0] == 422 and "runner_group_id" in missing[1]["message"]
