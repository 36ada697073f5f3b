"""Checks made when the workflow runs on a cluster (Snakemake's SLURM executor).

On a cluster every job runs on a compute node inside its own Snakemake, so the workflow assumes
a shared filesystem: the repository, its `.venv`, `data/raw` and `results` at the same path on
every node, and the Noto fonts the PDF briefs need installed on the compute nodes.

Two checks:

- on the login node (the controller, executor `slurm`; `onstart:` in workflow/rules/ingest.smk,
  as the executor is known only once the run starts): the pseudonymisation key must come from
  `pseudonymisation.key_file`, never only from the environment variable, because the SLURM
  controller saves every job's environment in its state directory (a key there is a key on
  disk, readable by the cluster's administrators); paths on node-local storage get a warning;
- on each compute node (inside a job, while it reads the Snakefile): the shared paths must be
  there, and the fonts too;
  otherwise the job stops at once with one message naming the node and what is missing.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.clean.pseudonymise import KEY_ENV_VAR, expand_key_file
from analysis.errors import ConfigError

CLUSTER_EXECUTORS = frozenset({"slurm"})
# Folders that are usually private to one machine: not seen by the other nodes.
NODE_LOCAL_ROOTS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run/user"))
SHARED_FS_HINT = (
    "On a cluster the repository, its .venv, data/raw and results must sit at the same path on "
    "every node (a shared filesystem such as your home or project folder), and the Noto fonts "
    "(Debian: fonts-noto-core) must be installed on the compute nodes."
)


def executor_name(workflow: Any) -> str | None:
    """The name of the executor plugin Snakemake runs with (`slurm`, `local`...), or None."""
    plugin = getattr(workflow, "executor_plugin", None)
    name = getattr(plugin, "name", None)
    return str(name) if name else None


def runs_on_cluster(workflow: Any) -> bool:
    """True in the controller of a cluster run (the Snakemake a user starts on the login node).
    Known only once the run starts (`onstart:`): while the Snakefile is read it is None."""
    return executor_name(workflow) in CLUSTER_EXECUTORS


def runs_in_cluster_job(workflow: Any, environ: Mapping[str, str] = os.environ) -> bool:
    """True in the Snakemake a SLURM job starts on its compute node (known while the Snakefile
    is read: Snakemake runs there in remote mode, inside a SLURM job)."""
    return bool(getattr(workflow, "remote_exec", False) and environ.get("SLURM_JOB_ID"))


def key_only_in_environment(
    settings: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> bool:
    """True when no key file is configured but the key's environment variable is set."""
    if expand_key_file(settings.get("key_file")) is not None:
        return False
    env_var = str(settings.get("key_env") or KEY_ENV_VAR)
    return bool(environ.get(env_var, "").strip())


def check_key_not_in_environment(
    settings: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> None:
    """Refuse a cluster run whose pseudonymisation key would travel in the job environment."""
    if not key_only_in_environment(settings, environ):
        return
    env_var = str(settings.get("key_env") or KEY_ENV_VAR)
    raise ConfigError(
        f"the pseudonymisation key is set only in the environment variable {env_var}; on a "
        "SLURM cluster the controller saves every job's environment in its state directory, so "
        "the key would be written to disk there",
        file="config/config.yaml",
        hint=(
            f"unset {env_var}, put the key in a file only you can read on the shared filesystem "
            "(chmod 600 ~/.wps-key) and set pseudonymisation: key_file: ~/.wps-key in "
            "config/config.yaml; then rerun."
        ),
    )


def is_node_local(path: Path) -> bool:
    """True when `path` lies in a folder that is usually private to one machine (/tmp...)."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root) for root in NODE_LOCAL_ROOTS)


def node_local_warnings(paths: Mapping[str, Path]) -> list[str]:
    """One warning per shared path that lies on storage usually local to one node."""
    return [
        f"{label} ({path.resolve()}) is under a folder that is usually local to each node; "
        "on a cluster with more than one node the jobs will not find it."
        for label, path in paths.items()
        if is_node_local(path)
    ]


def missing_shared_paths(paths: Mapping[str, Path]) -> list[str]:
    """`label (path)` of each shared path that does not exist on this machine."""
    return [f"{label} ({path})" for label, path in paths.items() if not path.exists()]


def shared_paths(repo: Path, raw_dir: str | Path, results_dir: str | Path) -> dict[str, Path]:
    """The paths every node must see, by what they are: repository, interpreter, raw data,
    results (relative paths are taken from the repository)."""
    return {
        "the repository": repo,
        "the Python environment": Path(sys.executable),
        "the raw data folder": repo / raw_dir,
        "the results folder": repo / results_dir,
    }


def check_compute_node(
    paths: Mapping[str, Path], missing_fonts: Sequence[str], host: str | None = None
) -> None:
    """Stop a cluster job at once, naming the node, when a shared path or the fonts are missing."""
    host = host or socket.gethostname()
    problems = missing_shared_paths(paths)
    if missing_fonts:
        problems.append(f"Noto fonts for {', '.join(missing_fonts)} (PDF briefs need them)")
    if problems:
        raise ConfigError(
            f"compute node {host} does not see {'; '.join(problems)}",
            hint=SHARED_FS_HINT,
        )


def controller_checks(
    workflow: Any, config: Mapping[str, Any], repo: Path, *, stream: Any = None
) -> None:
    """The login node's checks of a SLURM run, from the workflow's `onstart:` (no-op elsewhere):
    no key only in the environment; a warning for each shared path on node-local storage."""
    if not runs_on_cluster(workflow):
        return
    check_key_not_in_environment(config.get("pseudonymisation") or {})
    paths = shared_paths(repo, config["raw_dir"], config["results_dir"])
    for warning in node_local_warnings(paths):
        print(f"WARNING (cluster run): {warning}", file=stream or sys.stderr)


def job_checks(workflow: Any, config: Mapping[str, Any], repo: Path) -> None:
    """A compute node's checks, while a SLURM job reads the Snakefile (no-op elsewhere): the
    shared paths are there, and the fonts when PDF briefs are made."""
    if not runs_in_cluster_job(workflow):
        return
    from analysis.render.fonts import missing_scripts

    paths = shared_paths(repo, config["raw_dir"], config["results_dir"])
    paths.pop("the results folder")  # a job may be the first to write there
    pdf = "pdf" in (config.get("render") or {}).get("formats", [])
    check_compute_node(paths, missing_scripts() if pdf else [])


def execution_place(environ: Mapping[str, str] = os.environ) -> str:
    """Where a job runs, as a brief may print it: the kind of executor only (never a host name
    or a job id, so a brief stays byte-identical across runs of the same kind)."""
    return "SLURM cluster" if environ.get("SLURM_JOB_ID") else "local machine"
