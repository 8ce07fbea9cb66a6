"""`perfagent fingerprint`: this machine's hardware fingerprint."""

from __future__ import annotations

import json
from typing import Any

from perfagent import options


def command(as_json: options.Json = False) -> None:
    """Print this machine's hardware fingerprint id and the facts behind it.

    Results compare only when their fingerprint ids match. The id hashes the
    hardware and tuning that decide timings (CPU, cores, caches, memory, NUMA,
    SMT, isolated CPUs, governor, boost); the software (OS, kernel, Python,
    key packages) is shown beside it but is not part of it.

    `--json` prints {"id", "hardware", "software"}; provisioning uses the id for
    the runner label perf-hw-<id>.
    """
    from perfagent.machine.fingerprint import collect

    fingerprint = collect()
    if as_json:
        print(json.dumps(fingerprint.to_dict(), indent=2, sort_keys=False))
        return

    from rich.table import Table

    from perfagent.console import out

    out.print(f"Fingerprint: [bold]{fingerprint.id}[/bold]")
    hardware = Table(title="Hardware (in the id)", title_justify="left")
    hardware.add_column("field")
    hardware.add_column("value")
    for key, value in fingerprint.hardware.items():
        hardware.add_row(key, _text(value))
    out.print(hardware)
    software = Table(title="Software (recorded beside it)", title_justify="left")
    software.add_column("field")
    software.add_column("value")
    for key, value in fingerprint.software.items():
        if isinstance(value, dict):
            for name, version in value.items():
                software.add_row(f"{key}: {name}", _text(version))
        else:
            software.add_row(key, _text(value))
    out.print(software)


def _text(value: Any) -> str:
    return str(value)
