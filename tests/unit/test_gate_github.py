"""gate/github.py: workflow commands and files as GitHub's runner reads them.

The escapes and the heredoc-style multi-line values follow actions/toolkit
(packages/core/src/command.ts and file-command.ts).
"""

from __future__ import annotations

import io
from pathlib import Path

from perfagent.gate.github import Actions, escape_data, escape_property


def test_escapes() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a: b, c") == "a%3A b%2C c"


def test_annotations_and_groups_go_to_the_log() -> None:
    log = io.StringIO()
    actions = Actions({}, log)
    with actions.group("doctor"):
        actions.annotate("error", "slower by 12%\nsee summary", title="Performance: gate")
    assert log.getvalue().splitlines() == [
        "::group::doctor",
        "::error title=Performance%3A gate::slower by 12%25%0Asee summary",
        "::endgroup::",
    ]


def test_files_are_appended_and_optional(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("out", "env", "path", "summary")}
    environ = {
        "GITHUB_OUTPUT": str(files["out"]),
        "GITHUB_ENV": str(files["env"]),
        "GITHUB_PATH": str(files["path"]),
        "GITHUB_STEP_SUMMARY": str(files["summary"]),
    }
    actions = Actions(environ, io.StringIO())
    actions.set_output("verdict", "pass")
    actions.set_output("report", "line one\nline two")
    actions.export("GDAL_DATA", "/opt/share/gdal")
    actions.add_path("/opt/env/bin")
    actions.summary("**done**")
    out = files["out"].read_text().splitlines()
    assert out[0] == "verdict=pass"
    assert out[1].startswith("report<<ghadelimiter_")
    assert out[2:4] == ["line one", "line two"] and out[4] == out[1].split("<<")[1]
    assert files["env"].read_text() == "GDAL_DATA=/opt/share/gdal\n"
    assert files["path"].read_text() == "/opt/env/bin\n"
    assert files["summary"].read_text() == "**done**\n"
    # Outside Actions nothing is written, and nothing fails.
    Actions({}, io.StringIO()).set_output("verdict", "pass")
