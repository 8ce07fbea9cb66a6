"""What a test needs from the machine.

On a developer's machine a missing tool skips the test with the reason; in CI
(CI=true), which installs everything in .ci/run, a missing tool is a failure: a skipped
proof is no proof.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    """Stop the test for a missing prerequisite: fail in CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: .ci/run must provide it)", pytrace=False)
    pytest.skip(reason)


def skip_off_ci(condition: bool, reason: str) -> pytest.MarkDecorator:
    """A skipif marker that never skips in CI: there the test runs and fails on its own."""
    return pytest.mark.skipif(condition and not in_ci(), reason=reason)
