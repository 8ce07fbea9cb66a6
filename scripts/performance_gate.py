#!/usr/bin/env python3
"""The performance gate's bootstrap: the environment first, then `perfagent gate`.

    performance_gate.py prepare   find the provisioned conda environment (hazelbean_env),
                                  layer a throw-away virtualenv on it, install the checkout
                                  there; later steps use it (GITHUB_PATH, GITHUB_ENV)
    performance_gate.py run ARGS  python -m perfagent gate ARGS, with this Python (after
                                  prepare: the job's); `perfagent gate --help` has ARGS

Every decision of the gate lives in the agent (agent/perfagent/gate/). This script is
standard library only, since it runs before perfagent is installed: it imports the
agent's stdlib-only gate.environment and gate.github from the checkout it is part of.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

AGENT = Path(__file__).resolve().parents[1] / "agent"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="performance_gate.py", description=(__doc__ or "").splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="python -m perfagent gate ARGS (see perfagent gate --help)", add_help=False
    )
    prepare = commands.add_parser("prepare", help="activate hazelbean_env, install the checkout")
    env = os.environ.get
    prepare.add_argument("--env", default=env("PERF_GATE_ENV") or "hazelbean_env")
    prepare.add_argument("--env-prefix", default=env("PERF_GATE_ENV_PREFIX") or None)
    prepare.add_argument("--overlay", default=env("PERF_GATE_OVERLAY") or None)
    prepare.add_argument("--install", default=env("PERF_GATE_INSTALL") or None)
    prepare.add_argument("--gate", default=env("PERF_GATE_CHECKOUT") or None)
    args, rest = parser.parse_known_args(argv)
    if args.command == "prepare" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    installed = importlib.util.find_spec("perfagent") is not None
    sys.path.insert(0, str(AGENT))
    from perfagent.errors import ExitCode
    from perfagent.gate import environment, github

    gh = github.Actions()
    try:
        if args.command == "prepare":
            return int(
                environment.prepare(
                    gh, args.env, args.env_prefix, args.overlay, args.install, args.gate
                )
            )
        if not installed:
            raise environment.GateError(
                f"cannot start perfagent: it is not installed for {sys.executable}; run "
                "`performance_gate.py prepare` first (it installs the checkout)"
            )
    except environment.GateError as exc:
        gh.annotate("error", str(exc), title="Performance gate")
        gh.set_output("verdict", "error")
        gh.set_output("exit-code", str(int(ExitCode.USAGE)))
        return int(ExitCode.USAGE)
    sys.stdout.flush()
    return subprocess.call([sys.executable, "-m", "perfagent", "gate", *rest])


if __name__ == "__main__":
    sys.exit(main())
