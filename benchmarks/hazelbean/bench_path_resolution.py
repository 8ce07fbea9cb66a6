"""Path resolution: ProjectFlow.get_path finding a task's files across a project tree.

A hazelbean model resolves every input and output through `p.get_path(ref_path)`,
which searches the current task's directory, intermediate/, input/, the script's
directory, the working directory and base_data/, in that order, and then the cloud
bucket. Models call it thousands of times a run, so its cost per call matters.
"""

from __future__ import annotations

import contextlib
import os
import types
from dataclasses import dataclass
from typing import Any, TextIO

import perfagent
from _fixtures import Workspace, import_hazelbean

# Which root of the project tree each looked-up file lives in, and how many of each:
# a task reads its own outputs, other tasks' outputs, the project's inputs and shared
# base data. 10 of each kind, looked up in turn until LOOKUPS_PER_CALL are made.
FILES_PER_ROOT = 10
LOOKUPS_PER_CALL = 1000
# A file that is not there yet costs a search of every root, so fewer per call.
MISSING_LOOKUPS_PER_CALL = 100
TASK_NAMES = ("aggregate_lulc", "carbon_storage", "zonal_summaries")


@dataclass
class ProjectTree:
    workspace: Workspace
    hb: types.ModuleType
    project: Any  # hazelbean.ProjectFlow
    ref_paths: list[str]
    devnull: TextIO


def _offline_cloud_probe(*_args: object, **_kwargs: object) -> bool:
    return False


def setup_project_tree() -> ProjectTree:
    hb = import_hazelbean()
    workspace = Workspace.create("get-path")
    project_dir = workspace.path("project")
    project = hb.ProjectFlow(project_dir=str(project_dir))
    # A machine's ~/.config/hazelbean/machine.env may name shared data roots (a mounted
    # lab drive); benchmarks measure hazelbean, not a mount, so search none.
    project.shared_data_dirs = []
    project.base_data_dir = str(workspace.path("base_data"))
    # A missing file makes get_path probe the internet (1 s timeouts) before looking in
    # its cloud bucket. The benchmark machine is offline by design, and network latency
    # is not hazelbean's work, so the probe answers "offline" at once.
    hb.cloud_utils.is_internet_available = _offline_cloud_probe

    # get_path resolves bare file names relative to the running task's directory.
    current_task_dir = os.path.join(project.intermediate_dir, TASK_NAMES[-1])
    project.cur_dir = current_task_dir

    ref_paths: list[str] = []
    for index in range(FILES_PER_ROOT):
        own_output = f"zone_{index:02d}_summary.csv"
        _touch(os.path.join(current_task_dir, own_output))
        ref_paths.append(own_output)

        earlier_task = TASK_NAMES[index % (len(TASK_NAMES) - 1)]
        other_output = f"{earlier_task}/layer_{index:02d}.tif"
        _touch(os.path.join(project.intermediate_dir, other_output))
        ref_paths.append(other_output)

        project_input = f"scenarios/scenario_{index:02d}.csv"
        _touch(os.path.join(project.input_dir, project_input))
        ref_paths.append(project_input)

        base_data = f"lulc/esa/seals/lulc_esa_seals7_{2000 + index}.tif"
        _touch(os.path.join(project.base_data_dir, base_data))
        ref_paths.append(base_data)

    return ProjectTree(
        workspace=workspace,
        hb=hb,
        project=project,
        ref_paths=ref_paths,
        devnull=open(os.devnull, "w"),  # closed in the teardown
    )


def _touch(path: str) -> None:
    # get_path counts an empty file as missing (hb.path_exists wants size > 0).
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(b"synthetic\n")


def teardown_project_tree(tree: ProjectTree) -> None:
    tree.devnull.close()
    tree.workspace.remove()


@perfagent.benchmark(setup=setup_project_tree, teardown=teardown_project_tree)
def bench_get_path(tree: ProjectTree) -> None:
    """Resolve a task's existing input and output files (ProjectFlow.get_path), 1000 lookups.

    40 files spread over the current task's directory, other tasks' directories under
    intermediate/, input/ and base_data/, each looked up 25 times.
    """
    get_path = tree.project.get_path
    ref_paths = tree.ref_paths
    n_paths = len(ref_paths)
    for lookup in range(LOOKUPS_PER_CALL):
        get_path(ref_paths[lookup % n_paths])


@perfagent.benchmark(setup=setup_project_tree, teardown=teardown_project_tree)
def bench_get_path_missing(tree: ProjectTree) -> None:
    """Resolve files a task is about to create (ProjectFlow.get_path), 100 lookups.

    Missing files, with raise_error_if_fail=False: every root of the project tree is
    searched in vain, and get_path returns the would-be path under the current task's
    directory, logging that it assumed so.
    """
    get_path = tree.project.get_path
    # get_path logs each assumption with print(); it writes to the null device here
    # so that the measured work (formatting and writing the message) stays intact.
    with contextlib.redirect_stdout(tree.devnull):
        for lookup in range(MISSING_LOOKUPS_PER_CALL):
            get_path(f"not_yet_created_{lookup % 10}.tif", raise_error_if_fail=False)
