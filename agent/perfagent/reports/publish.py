"""What a finished check leaves behind: its artifacts, and the lines it prints.

Shared by `perfagent check` and the gate's check mode, so both write the same files
and end with the same verdict line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from perfagent.reports import report

if TYPE_CHECKING:
    import pyperf


def publish_check(
    outcome: report.Outcome,
    head: pyperf.BenchmarkSuite,
    output_dir: str | Path,
    repo_url: str | None = None,
) -> report.Artifacts:
    """Write the artifacts of `outcome` under `output_dir`, print where they are and the
    verdict table, the verdict line last."""
    from perfagent.console import err, out

    artifacts = report.write_artifacts(outcome, output_dir, head, repo_url=repo_url)
    for warning in artifacts.warnings:
        err.print(f"perfagent: warning: {warning}", markup=False, highlight=False)
    out.print(
        f"Artifacts: {artifacts.report.parent.parent} (report {artifacts.report.name}, "
        f"export {artifacts.export.name}, analysis {artifacts.analysis.name}, summary.md, "
        f"{report.HTML_REPORT})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    report.print_outcome(outcome, out)
    return artifacts
