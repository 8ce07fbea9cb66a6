"""Which mode the gate runs in, from the event GitHub reports.

* a push to the default branch: `baseline` (measure and store this machine's baseline);
* a pull request (and a merge queue): `check` against the stored baseline, or
  `relative` (base and head measured side by side by `perfagent ab`) when asked;
* anything else (workflow_dispatch, a push to another branch, a run by hand): `check`.

`--mode check|baseline|relative` overrides the event.
"""

from __future__ import annotations

from enum import StrEnum

from perfagent.errors import UsageError


class Mode(StrEnum):
    CHECK = "check"
    BASELINE = "baseline"
    RELATIVE = "relative"


class PullRequestMode(StrEnum):
    """What a pull request gets under auto."""

    CHECK = "check"
    RELATIVE = "relative"


AUTO = "auto"
PR_EVENTS = frozenset({"pull_request", "pull_request_target", "merge_group"})
MODE_CHOICES = (AUTO, *(m.value for m in Mode))


def decide_mode(
    requested: str,
    event: str,
    ref: str,
    default_branch: str,
    *,
    pr_mode: PullRequestMode = PullRequestMode.CHECK,
) -> tuple[Mode, str]:
    """(mode, reason) for this event; `pr_mode` is what a pull request gets under auto."""
    if requested != AUTO:
        try:
            return Mode(requested), f"--mode {requested}"
        except ValueError:
            raise UsageError(
                f"--mode {requested!r}: expected one of {', '.join(MODE_CHOICES)}"
            ) from None
    if event == "push" and ref == f"refs/heads/{default_branch}":
        return Mode.BASELINE, f"push to {default_branch}"
    if event in PR_EVENTS:
        return Mode(pr_mode.value), f"{event} event"
    if not event:
        return Mode.CHECK, "no GITHUB_EVENT_NAME (run by hand)"
    return Mode.CHECK, f"{event} event on {ref or 'an unknown ref'}"
