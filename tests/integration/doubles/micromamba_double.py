#!/usr/bin/env python3
"""micromamba double: the few commands the conda_env role runs, with real effects
that are cheap: an "environment" is a Python venv made with the host's python3, so
that the perfagent role can pip-install into it as into a real conda env.

    micromamba --version
    micromamba create --yes [-r ROOT] -n NAME -f FILE    (replaces an existing env)
    micromamba env list --json [-r ROOT]
    micromamba run [-r ROOT] -n NAME CMD...

Every call appends a JSON line to $MICROMAMBA_DOUBLE_RECORD_DIR (default
/var/tmp/micromamba-double)/calls-<uid>.jsonl: arguments, user, and for create the
sha256 of the environment file.

A failed build, as a real one fails half-way (a download error): while the file
$RECORD_DIR/fail-next-create exists, create leaves a half-made env behind, exits 1
and removes that file (so the next create succeeds).

Read from mamba's sources (github.com/mamba-org/mamba, 03564bf):
- libmamba/src/api/create.cpp `create`: an existing prefix holding conda-meta is
  removed when the prompt "Found conda-prefix at '...'. Overwrite?" is answered yes
  (`--yes`: libmamba/src/core/output.cpp `Console::prompt`), else "Aborting."; a
  non-empty folder without conda-meta is refused ("Non-conda folder exists at prefix
  - aborting."). A plain create sets remove_prefix_on_failure to false, so a failed
  build leaves its prefix behind.
- libmamba/src/api/install.cpp: `before_execute` touches conda-meta/history
  (`create_target_directory`) before the packages are fetched and linked, so the
  half-made env of a failed download has conda-meta/history.
- libmamba/src/download/downloader.cpp `build_download_error`: "Download error
  (CODE) MESSAGE [URL]", logged at level critical by the "libmamba" logger.
- libmamba/src/api/env.cpp `print_envs_impl`: `env list --json` prints {"envs": [...]},
  every known prefix, the root prefix (base) among them.
"""

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

VERSION = "2.0.5"
RECORD_DIR = Path(os.environ.get("MICROMAMBA_DOUBLE_RECORD_DIR", "/var/tmp/micromamba-double"))


def record(argv, **facts):
    RECORD_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        RECORD_DIR.chmod(0o1777)
    entry = {"argv": argv, "uid": os.getuid(), "time": time.time(), **facts}
    with (RECORD_DIR / f"calls-{os.getuid()}.jsonl").open("a") as out:
        out.write(json.dumps(entry) + "\n")


def option(argv, *names, default=None):
    for i, arg in enumerate(argv):
        if arg in names and i + 1 < len(argv):
            return argv[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return default


def root_prefix(argv):
    return Path(
        option(argv, "-r", "--root-prefix", default=os.environ.get("MAMBA_ROOT_PREFIX", ""))
        or Path.home() / "micromamba"
    )


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--version"]:
        print(VERSION)
        return
    if argv[:1] == ["create"]:
        name, spec = option(argv, "-n", "--name"), option(argv, "-f", "--file")
        if not name or not spec:
            sys.exit("create: -n NAME and -f FILE are required by the double")
        spec_digest = hashlib.sha256(Path(spec).read_bytes()).hexdigest()
        record(argv, spec_sha256=spec_digest)
        prefix = root_prefix(argv) / "envs" / name
        if prefix.is_dir() and any(prefix.iterdir()):
            if not (prefix / "conda-meta").exists():
                sys.exit("critical libmamba Non-conda folder exists at prefix - aborting.")
            print(f"Found conda-prefix at '{prefix}'. Overwrite?: [y/N] ", end="")
            if "-y" not in argv and "--yes" not in argv:
                sys.exit("critical libmamba Aborting.")
            print("y")
            shutil.rmtree(prefix)
        subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True)
        meta = prefix / "conda-meta"
        meta.mkdir()
        (meta / "history").touch()  # before the transaction runs, as upstream
        failure = RECORD_DIR / "fail-next-create"
        if failure.exists():
            failure.unlink()
            record(argv, failed=True)
            sys.exit(
                "critical libmamba Download error (28) Timeout was reached "
                "[https://conda.anaconda.org/conda-forge/noarch/repodata.json] (double)"
            )
        (meta / "history").write_text(f"# micromamba double: created from {spec}\n")
        (meta / "double.json").write_text(json.dumps({"spec": spec, "spec_sha256": spec_digest}))
        print(f"Transaction finished: {prefix}")
        return
    if argv[:2] == ["env", "list"]:
        record(argv)
        root = root_prefix(argv)
        envs = sorted({str(root), *(str(p) for p in (root / "envs").glob("*") if p.is_dir())})
        print(json.dumps({"envs": envs}))
        return
    if argv[:1] == ["run"]:
        record(argv)
        name = option(argv, "-n", "--name")
        rest = argv[argv.index(name) + 1 :] if name else argv[1:]
        prefix = root_prefix(argv) / "envs" / str(name)
        os.environ["PATH"] = f"{prefix / 'bin'}:{os.environ['PATH']}"
        os.execvp(rest[0], rest)
    record(argv)
    sys.exit(f"micromamba double: unsupported command {' '.join(argv)}")


if __name__ == "__main__":
    main()
